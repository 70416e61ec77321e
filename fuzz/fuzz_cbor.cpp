// fuzz_cbor: tee::cbor::decode on arbitrary bytes. decode() is noexcept and
// must never read out of bounds; whatever it accepts must survive
// encode -> decode unchanged, and encode must be a fixed point (shortest form).
#include <tee/detail/cbor.hpp>

#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const tee::cbor::result r = tee::cbor::decode(fuzz::bytes(data, size));
    if (!r) {
        FUZZ_CHECK(r.error().offset <= size);
        return 0;
    }
    const std::vector<std::uint8_t> once = tee::cbor::encode(r.value());
    FUZZ_CHECK(once.size() <= size);  // shortest form is never longer than the input
    const tee::cbor::result again = tee::cbor::decode(once);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again.value() == r.value());
    FUZZ_CHECK(tee::cbor::encode(again.value()) == once);
    return 0;
}
