// fuzz_nitro: the Nitro attestation document parser and verifier on arbitrary
// bytes, as COSE_Sign1 (parse, verify_document) and as the JSON answer of
// GET /attestation (parse_json + verify). Refusing is fine; any exception
// other than tee::error escapes and crashes the run, and an accepted document
// must say verified and carry the 32-byte user_data that binds its key.
//
// Two verifiers, clocks fixed so that runs are reproducible:
//  - the embedded AWS root at 2025-04-24 04:00 UTC, when the real document of
//    tests/data/nitro_attestation_2025-04-24.b64 verifies;
//  - the throw-away test root of the seed generator (fuzz/test_pki_root.hpp)
//    at its generation time, when the generated seed documents verify, so the
//    steps after the chain (key binding, pins, age) are reached as well.
#include <tee/botan_crypto.hpp>
#include <tee/detail/canonical_json.hpp>
#include <tee/nitro_attestation.hpp>

#include <chrono>
#include <string>

#include "fuzz_util.hpp"
#include "test_pki_root.hpp"

namespace {
using namespace std::chrono;

std::function<system_clock::time_point()> fixed(system_clock::time_point t) {
    return [t] { return t; };
}

const tee::nitro_attestation& aws_verifier() {
    static const tee::nitro_attestation v(tee::nitro_options{
        .clock = fixed(sys_days{year{2025} / April / 24} + hours{4}),
        .accept_any_enclave_image = true,  // the document is fuzzed, not the image policy
    });
    return v;
}

const tee::nitro_attestation& test_verifier() {
    static const tee::nitro_attestation v(tee::nitro_options{
        .trusted_root = std::string(fuzz::test_pki_root_pem),
        .clock = fixed(system_clock::time_point(milliseconds(fuzz::test_pki_clock_ms))),
        .accept_any_enclave_image = true,
    });
    return v;
}

void verify_both(tee::byte_span doc) {
    const tee::botan_crypto crypto;
    for (const auto* v : {&aws_verifier(), &test_verifier()}) {
        try {
            const tee::enclave_identity id = v->verify_document(doc, crypto);
            FUZZ_CHECK(id.verified);
            FUZZ_CHECK(id.user_data.size() == 32);
            fuzz::accepted("document");
        } catch (const tee::error& e) {
            fuzz::refused(e);
        }
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto doc = fuzz::bytes(data, size);
    try {
        const auto p = tee::nitro_attestation::parse(doc);
        FUZZ_CHECK(p.signature.size() == 96 && p.pcrs.count(0) == 1 && !p.cabundle.empty());
    } catch (const tee::error&) {  // verify_both reports it
    }
    verify_both(doc);

    // The same bytes as the body of GET /attestation.
    nlohmann::json answer;
    try {
        answer = tee::parse_json(fuzz::text(data, size));
    } catch (const tee::error&) {
        return 0;
    }
    const tee::botan_crypto crypto;
    for (const auto* v : {&aws_verifier(), &test_verifier()}) {
        try {
            FUZZ_CHECK(v->verify(answer, crypto).verified);
            fuzz::accepted("attestation answer");
        } catch (const tee::error& e) {
            fuzz::refused(e);
        }
    }
    return 0;
}
