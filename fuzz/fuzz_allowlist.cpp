// fuzz_allowlist: the signed allowlist file parser (tee/image_policy.hpp) and
// its checks. For every input: parse() either throws tee::config_error or
// gives a list whose signed bytes are the canonical JSON of a valid allowlist
// object (they parse back and re-canonicalize to themselves); the signature
// check against a fixed release key only returns or throws attestation_error,
// and passes only for the checked-in seed it signed (tests/data/
// allowlist_python_signed.json, made by Python's cryptography); match() and
// the version state parser never crash.
#include <tee/image_policy.hpp>
#include <tee/botan_crypto.hpp>

#include <string>

#include "fuzz_util.hpp"

namespace {
constexpr std::string_view release_pem = R"(-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEv4M96fA2EAwcjGte9zvqKOsMs3EHwmBF
4V47Mbm2CSWCwr6XPkxhT+6GJPFujF7lc5fAf9WGksBM9wQZk/3e3SHSq/oUFZa4
5KjgePR8FIFnxpaFEc17QqqwdmOFl9Me
-----END PUBLIC KEY-----
)";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const tee::botan_crypto crypto;
    static const std::vector<std::uint8_t> release = tee::spki_of_pem(release_pem);
    const auto text = fuzz::text(data, size);
    try {
        (void)tee::allowlist_versions::parse(text);
    } catch (const tee::config_error& e) {
        fuzz::refused(e);
    }
    tee::signed_allowlist list;
    try {
        list = tee::signed_allowlist::parse(text);
    } catch (const tee::config_error& e) {
        fuzz::refused(e);
        return 0;
    }
    FUZZ_CHECK(list.version > 0 && list.expires_at > list.issued_at && !list.images.empty());
    const auto again = tee::signed_allowlist::parse_unsigned(tee::parse_json(list.signed_bytes));
    FUZZ_CHECK(again.signed_bytes == list.signed_bytes);
    FUZZ_CHECK(list.match(list.images.front().pcrs) == &list.images.front());
    FUZZ_CHECK(list.match({}) == nullptr);
    try {
        tee::verify_allowlist(list, release, crypto, 1800000000);
        fuzz::accepted("signature verified");
    } catch (const tee::attestation_error& e) {
        fuzz::refused(e);
    }
    return 0;
}
