// fuzz_nitro_signed: the steps of Nitro verification that come after the COSE
// signature, which fuzz_nitro rarely reaches (a mutated payload no longer
// matches its signature). The input is a flags byte and a payload; the harness
// signs the payload with a throw-away test chain, as a compromised enclave
// image or a forged leaf could, and verify_document must then refuse or accept
// it without crashing, and accept only what the policy allows.
//
//   byte 0 bit 0: replace the payload's "certificate" with the test leaf
//          bit 1: replace its "cabundle" with the test [root, intermediate]
//          bit 2: replace its "user_data" with SHA-256 of its "public_key"
//          bit 3: wrap the COSE_Sign1 in tag 18
//          bit 4: verify 400 days later, when the test chain has expired, with
//                 no max_document_age bound (at the document's own time)
//   rest:  the payload, a CBOR map (anything else is refused before signing)
//
// The chain is generated at start-up (random keys), so a crash input replays
// with a different signature but the same outcome. An accepted document's
// chain must also pass Botan's x509_path_validate (tee/detail/x509_chain.hpp, which
// replaced it, must never be the more lenient).
#include <tee/botan_crypto.hpp>
#include <tee/detail/cbor.hpp>
#include <tee/nitro_attestation.hpp>
#include <tee/testing/test_pki.hpp>

#include <algorithm>
#include <chrono>
#include <vector>

#include <botan/certstor.h>
#include <botan/x509path.h>

#include "fuzz_util.hpp"

namespace {
using namespace std::chrono;
using tee::cbor::value;

struct fixture {
    system_clock::time_point now = system_clock::now();
    tee::testing::test_pki pki{tee::testing::pki_validity{now - hours(1), now + hours(24 * 300)}};
    system_clock::time_point later = now + hours(24 * 400);
    tee::nitro_attestation live = make(now), stale = make(later);

    tee::nitro_attestation make(system_clock::time_point t) const {
        tee::nitro_options o;
        o.trusted_root = pki.root_pem();
        o.clock = [t] { return t; };
        o.max_document_age = milliseconds::max();
        o.accept_any_enclave_image = true;  // any image: the harness signs its own
        return tee::nitro_attestation(o);
    }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const fixture f;
    static const tee::botan_crypto crypto;
    if (size < 2) return 0;
    const std::uint8_t flags = data[0];
    auto decoded = tee::cbor::decode(fuzz::bytes(data + 1, size - 1));
    if (!decoded || !decoded.value().is_map()) return 0;

    const value* public_key = decoded.value().find("public_key");
    value::map_type payload;
    for (const auto& [k, v] : decoded.value().as_map()) {
        const std::string_view key = k.is_text() ? std::string_view(k.as_text()) : std::string_view();
        if (key == "certificate" && (flags & 1)) {
            payload.emplace_back(k, value::bytes(f.pki.leaf_der()));
        } else if (key == "cabundle" && (flags & 2)) {
            payload.emplace_back(
                k, value::array({value::bytes(f.pki.root_der()), value::bytes(f.pki.intermediate_der())}));
        } else if (key == "user_data" && (flags & 4) && public_key && public_key->is_bytes()) {
            const auto d = crypto.sha256(public_key->as_bytes());
            payload.emplace_back(k, value::bytes({d.begin(), d.end()}));
        } else {
            payload.emplace_back(k, v);
        }
    }
    const auto doc = f.pki.sign(value::map(std::move(payload)), -35, (flags & 8) != 0);
    const bool at_document_time = (flags & 16) != 0;
    try {
        const tee::enclave_identity id = (at_document_time ? f.stale : f.live).verify_document(doc, crypto);
        // Accepted: then it must be what the policy allows.
        FUZZ_CHECK(id.verified && !id.debug_mode);
        FUZZ_CHECK(id.timestamp_ms > 0 && id.timestamp_ms <= tee::nitro_attestation::max_timestamp_ms);
        const auto signed_at = system_clock::time_point(milliseconds(id.timestamp_ms));
        const auto clock = at_document_time ? f.later : f.now;
        FUZZ_CHECK(signed_at <= clock + minutes(5));
        FUZZ_CHECK(id.document_age ==
                   duration_cast<milliseconds>(clock.time_since_epoch()) - milliseconds(id.timestamp_ms));
        FUZZ_CHECK(id.verified_at_document_time == at_document_time);  // expired 400 days later, valid now
        FUZZ_CHECK(id.verified_at == (at_document_time ? signed_at : f.now));
        const auto p = tee::nitro_attestation::parse(doc);
        FUZZ_CHECK(p.public_key && p.user_data);
        const auto digest = crypto.sha256(*p.public_key);
        FUZZ_CHECK(std::equal(digest.begin(), digest.end(), id.user_data.begin(), id.user_data.end()));
        FUZZ_CHECK(!id.pcrs.at(0).empty());
        // Differential: the chain tee/detail/x509_chain.hpp accepted, Botan's own path
        // validation accepts too (it is at least as strict on what it checks).
        std::vector<Botan::X509_Certificate> chain{Botan::X509_Certificate(p.certificate)};
        for (auto it = p.cabundle.rbegin(); it != p.cabundle.rend(); ++it) chain.emplace_back(*it);
        Botan::Certificate_Store_In_Memory store;
        store.add_certificate(Botan::X509_Certificate(f.pki.root_der()));
        const auto botan = Botan::x509_path_validate(chain, Botan::Path_Validation_Restrictions(false, 128), store, "",
                                                     Botan::Usage_Type::UNSPECIFIED, id.verified_at);
        FUZZ_CHECK(botan.successful_validation());
        fuzz::accepted("signed document");
    } catch (const tee::error& e) {
        fuzz::refused(e);
    }
    return 0;
}
