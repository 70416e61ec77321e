// tee/mock_attestation.hpp - the development policy: accepts the mock answer
// of a service running outside an enclave. It proves nothing about who holds
// the key, so it is never a default: a program must name it.
//
//   {"attestation_doc": {"nonce": "<hex>", "public_key": "<hex DER SPKI>"}, "mock": true}
//
// A Nova development enclave adds "user_data": "<the JSON text {\"eth_addr\": ...}>";
// nonce and user_data are copied into the identity unchecked (the Nova
// protocol compares the nonce and reads the signing address from them).
//
// It refuses a real (Nitro) document - talking to a real enclave without
// verifying it would be a silent downgrade - and any answer without a usable key.
#pragma once

#include "tee/detail/prelude.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tee/concepts.hpp"
#include "tee/encoding.hpp"
#include "tee/errors.hpp"

namespace tee {

struct mock_attestation {
    static constexpr std::string_view kind = "mock";
    static constexpr bool verifies = false;

    template <crypto_backend Crypto>
    enclave_identity verify(const nlohmann::json& answer, const Crypto& crypto) const {
        auto bytes = key_of(answer);
        enclave_identity id;
        id.kind = std::string(kind);
        id.verified = false;
        try {
            crypto.load_public_key(bytes);  // throws unless a P-384 SPKI or point on the curve
            set_enclave_key(id, crypto, p384::point_of(bytes));
        } catch (const protocol_error& e) {
            throw attestation_error(attestation_reason::key_binding,
                                    std::string("mock attestation key unusable: ") + e.what());
        }
        read_statements(answer, id);
        return id;
    }

    // The hex public_key of a mock attestation_doc, decoded (not a template:
    // compiled once, see tee/detail/prelude.hpp).
    static std::vector<std::uint8_t> key_of(const nlohmann::json& answer);
    // Its nonce (hex) and user_data (text), when present, into id.nonce and id.user_data.
    static void read_statements(const nlohmann::json& answer, enclave_identity& id);
};

// ---- definitions (header-only: inline in every file; TEE_CLIENT_COMPILED_LIB:
// compiled once in src/tee_client.cpp; see tee/detail/prelude.hpp) ----
#if defined(TEE_CLIENT_DEFINITIONS)
TEE_INLINE std::vector<std::uint8_t> mock_attestation::key_of(const nlohmann::json& answer) {
    if (!answer.is_object() || !answer.contains("attestation_doc"))
        throw attestation_error(attestation_reason::malformed, "attestation answer has no attestation_doc");
    const auto& doc = answer["attestation_doc"];
    if (doc.is_string())
        throw attestation_error(attestation_reason::malformed,
                                "the enclave sent a real Nitro attestation document; the mock policy "
                                "does not verify those (use nitro_attestation)");
    if (!doc.is_object())
        throw attestation_error(attestation_reason::malformed, "mock attestation_doc is not an object");
    auto pk = doc.find("public_key");
    if (pk == doc.end() || !pk->is_string())
        throw attestation_error(attestation_reason::malformed, "mock attestation_doc has no public_key string");
    auto bytes = from_hex(pk->get_ref<const std::string&>());
    if (!bytes) throw attestation_error(attestation_reason::malformed, "mock attestation public_key is not hex");
    return std::move(*bytes);
}

TEE_INLINE void mock_attestation::read_statements(const nlohmann::json& answer, enclave_identity& id) {
    const auto& doc = answer["attestation_doc"];  // an object: key_of() checked it
    if (auto n = doc.find("nonce"); n != doc.end()) {
        auto bytes = n->is_string() ? from_hex(n->get_ref<const std::string&>()) : std::nullopt;
        if (!bytes) throw attestation_error(attestation_reason::malformed, "mock attestation nonce is not hex");
        id.nonce = std::move(*bytes);
    }
    if (auto u = doc.find("user_data"); u != doc.end()) {
        if (!u->is_string())
            throw attestation_error(attestation_reason::malformed, "mock attestation user_data is not a string");
        const std::string& text = u->get_ref<const std::string&>();
        id.user_data.assign(text.begin(), text.end());
    }
}
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee
