// fuzz_encoding: tee::from_hex / tee::from_base64 on arbitrary text, and
// to_hex / to_base64 on arbitrary bytes. The decoders return nullopt (never
// throw); what they accept re-encodes to the input modulo the documented
// leniencies (upper-case hex, ASCII whitespace and non-zero trailing bits in
// base64), and encode -> decode is the identity.
#include <tee/encoding.hpp>

#include <cctype>
#include <string>

#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto in = fuzz::bytes(data, size);
    const std::string_view s = fuzz::text(data, size);

    // bytes -> text -> bytes
    const std::string hex = tee::to_hex(in);
    FUZZ_CHECK(hex.size() == 2 * size);
    const auto hex_back = tee::from_hex(hex);
    FUZZ_CHECK(hex_back && std::equal(hex_back->begin(), hex_back->end(), in.begin(), in.end()));
    const std::string b64 = tee::to_base64(in);
    FUZZ_CHECK(b64.size() == (size + 2) / 3 * 4);
    const auto b64_back = tee::from_base64(b64);
    FUZZ_CHECK(b64_back && std::equal(b64_back->begin(), b64_back->end(), in.begin(), in.end()));

    // text -> bytes -> text
    if (const auto h = tee::from_hex(s)) {
        FUZZ_CHECK(h->size() * 2 == size);
        std::string lower(s);
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        FUZZ_CHECK(tee::to_hex(*h) == lower);
    }
    if (const auto b = tee::from_base64(s)) {
        std::string stripped;
        for (char c : s)
            if (!tee::detail::is_ascii_space(c)) stripped.push_back(c);
        const std::string again = tee::to_base64(*b);
        FUZZ_CHECK(again.size() == stripped.size());
        const std::size_t pad = stripped.size() - stripped.find_last_not_of('=') - 1;
        FUZZ_CHECK(stripped.empty() || pad <= 2);
        if (pad == 0) {
            FUZZ_CHECK(again == stripped);
        } else {
            // All equal but the last digit, whose unused low bits may differ.
            const std::size_t last = stripped.size() - pad - 1;
            FUZZ_CHECK(again.compare(0, last, stripped, 0, last) == 0);
            FUZZ_CHECK(again.compare(last + 1, std::string::npos, stripped, last + 1, std::string::npos) == 0);
            const int mask = pad == 2 ? 0x30 : 0x3c;  // "xx==": 4 bits used, "xxx=": 2 bits unused
            FUZZ_CHECK(tee::detail::base64_value(again[last]) == (tee::detail::base64_value(stripped[last]) & mask));
        }
    }
    return 0;
}
