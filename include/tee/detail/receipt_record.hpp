// tee/detail/receipt_record.hpp - what a receipt holds, as the protocols
// build it after a verified chat (tee_tls_protocol, nova_protocol); reading
// and verifying receipts is tee/receipt.hpp's (which includes this header).
//
// The trap it handles: a receipt is shared, so it is built from what was
// verified and public (the answer as served, the attestation, the request's
// nonce and public key), never from the API key or the request plaintext;
// Nova's per-message answer key is the one secret it holds, because it opens
// that answer and no other message.
#pragma once

#include "tee/detail/prelude.hpp"

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tee/version.hpp"

namespace tee {

inline constexpr int receipt_version = 1;

// Builds a receipt from a verified chat (the client calls it when
// config::receipts is set). `attestation` and `answer` are the objects as
// served, `signed_data` the object the signature covers.
nlohmann::json make_receipt(std::string_view url, const nlohmann::json& attestation, const nlohmann::json& answer,
                            const nlohmann::json& signed_data, std::string_view request_nonce_hex,
                            std::string_view request_public_key_hex, std::int64_t verified_at);

// The same for a Nova chat (tee/nova_protocol.hpp): "protocol": "nova", the
// attestation as the policy read it ({"attestation_doc": base64 of the CBOR}),
// the answer {"data": envelope, "sig"}, the decrypted object, and "answer_key",
// the answer's own AES key (hex): Nova's signature covers only the encrypted
// envelope, so the key is what lets anyone open it again. Every message has
// its own key: it opens this answer and nothing else.
nlohmann::json make_nova_receipt(std::string_view url, const nlohmann::json& attestation, const nlohmann::json& answer,
                                 const nlohmann::json& signed_data, std::string_view answer_key_hex,
                                 std::string_view request_nonce_hex, std::string_view request_public_key_hex,
                                 std::int64_t verified_at);

// ---- definitions (header-only: inline in every file; TEE_CLIENT_COMPILED_LIB:
// compiled once in src/tee_client.cpp; see tee/detail/prelude.hpp) ----
#if defined(TEE_CLIENT_DEFINITIONS)
TEE_INLINE nlohmann::json make_receipt(std::string_view url, const nlohmann::json& attestation,
                                       const nlohmann::json& answer, const nlohmann::json& signed_data,
                                       std::string_view request_nonce_hex, std::string_view request_public_key_hex,
                                       std::int64_t verified_at) {
    nlohmann::json r;
    r["receipt_version"] = receipt_version;
    r["url"] = std::string(url);
    r["attestation"] = attestation;
    r["answer"] = answer;
    r["signed_data"] = signed_data;
    r["request"] = {{"nonce", std::string(request_nonce_hex)}, {"public_key", std::string(request_public_key_hex)}};
    r["verified_at"] = verified_at;
    r["library"] = "tee-client " + std::string(version());
    return r;
}

TEE_INLINE nlohmann::json make_nova_receipt(std::string_view url, const nlohmann::json& attestation,
                                            const nlohmann::json& answer, const nlohmann::json& signed_data,
                                            std::string_view answer_key_hex, std::string_view request_nonce_hex,
                                            std::string_view request_public_key_hex, std::int64_t verified_at) {
    nlohmann::json r =
        make_receipt(url, attestation, answer, signed_data, request_nonce_hex, request_public_key_hex, verified_at);
    r["protocol"] = "nova";
    r["answer_key"] = std::string(answer_key_hex);
    return r;
}
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee
