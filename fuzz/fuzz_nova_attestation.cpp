// fuzz_nova_attestation: the attestation side of the Nova protocol - the
// answer as served (raw CBOR or the JSON wrapper: tee::nova_protocol::
// attestation_answer), Nitro verification under key_binding::nova_eth_addr
// (the 120-byte P-384 SPKI, user_data's JSON "eth_addr"), the nonce
// comparison and the signing address (nova_protocol::check_nonce, signer_of).
// As in fuzz_nitro_signed, the harness signs the payload with a throw-away test
// chain (replacing its certificate and cabundle), so that the checks after the
// COSE signature are reached.
//
//   byte 0 bit 0: serve the document in the JSON wrapper {"attestation_doc": base64}
//          bit 1: serve the input bytes as they are (no signing: the parser alone)
//   rest:  the payload, a CBOR map
//
// Only tee::error may be thrown; an accepted document has a 120-byte key, our
// nonce (32 bytes of 0x4e) and an address.
#include <tee/botan_crypto.hpp>
#include <tee/detail/cbor.hpp>
#include <tee/nitro_attestation.hpp>
#include <tee/nova_protocol.hpp>
#include <tee/testing/test_pki.hpp>

#include <chrono>
#include <vector>

#include "fuzz_util.hpp"

namespace {
using tee::cbor::value;

struct fixture {
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
    tee::testing::test_pki pki{tee::testing::pki_validity{now - std::chrono::hours(1), now + std::chrono::hours(24)}};
    tee::nitro_attestation policy = [this] {
        tee::nitro_options o;
        o.trusted_root = pki.root_pem();
        o.clock = [t = now] { return t; };
        o.accept_any_enclave_image = true;  // any image: the harness signs its own
        return tee::nitro_attestation(o);
    }();
    std::vector<std::uint8_t> nonce = std::vector<std::uint8_t>(32, 0x4e);
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const fixture f;
    static const tee::botan_crypto crypto;
    if (size < 2) return 0;
    const std::uint8_t flags = data[0];
    std::vector<std::uint8_t> doc(data + 1, data + size);
    if (!(flags & 2)) {
        auto decoded = tee::cbor::decode(doc);
        if (!decoded || !decoded.value().is_map()) return 0;
        value::map_type payload;
        for (const auto& [k, v] : decoded.value().as_map()) {
            const std::string_view key = k.is_text() ? std::string_view(k.as_text()) : std::string_view();
            if (key == "certificate")
                payload.emplace_back(k, value::bytes(f.pki.leaf_der()));
            else if (key == "cabundle")
                payload.emplace_back(
                    k, value::array({value::bytes(f.pki.root_der()), value::bytes(f.pki.intermediate_der())}));
            else
                payload.emplace_back(k, v);
        }
        doc = f.pki.sign(value::map(std::move(payload)));
    }
    std::string body(doc.begin(), doc.end());
    if (flags & 1) body = nlohmann::json{{"attestation_doc", tee::to_base64(doc)}}.dump();
    try {
        const nlohmann::json answer = tee::nova_protocol::attestation_answer({200, body});
        const tee::enclave_identity id =
            f.policy.verify(answer, crypto, {"http://fuzz.test", tee::key_binding::nova_eth_addr});
        tee::nova_protocol::check_nonce(id, f.nonce);
        const auto signer = tee::nova_protocol::signer_of(id);
        FUZZ_CHECK(id.public_key.size() == 120 && id.verified);
        FUZZ_CHECK(tee::detail::nova::parse_eth_address(tee::detail::nova::to_string(signer)) == signer);
        fuzz::accepted("nova attestation");
    } catch (const tee::error& e) {
        fuzz::refused(e);
    }
    return 0;
}
