// tee/config.hpp - what a client needs to know, and from_env() which reads it
// from the variables of the service's own tutorials (PROTOCOL section 1).
#pragma once

#include "tee/detail/prelude.hpp"

#include <chrono>
#include <cstdlib>
#include <string>

#include "tee/concepts.hpp"
#include "tee/errors.hpp"
#include "tee/secure_bytes.hpp"

namespace tee {

// Where the enclave publishes its attestation (PROTOCOL section 2).
enum class attestation_endpoint {
    legacy,      // GET {url}/attestation
    well_known,  // POST {url}/.well-known/attestation, whose public_key must match the document
    automatic,   // well_known, falling back to legacy when the service answers 404/405
};

// Which client key encrypts a request.
enum class client_key_mode {
    per_client,   // one P-384 key pair for the client's lifetime (what the services expect)
    per_request,  // a fresh key pair per chat: a later leak of a client key reveals no earlier request
};

// The HKDF info label of the Nova protocol (PROTOCOL-NOVA sections 4 and 13):
// an enclave image speaks the label of the runtime it was built with.
enum class nova_label {
    capsule,   // "capsule-ecdh-aes256gcm-v1": the current runtime
    enclaver,  // "enclaver-ecdh-aes256gcm-v1": images built before 2026-03-18
};

struct config {
    std::string url = "http://127.0.0.1:8000";  // TEE_TLS_URL; trailing '/' allowed
    secret_string api_key;                      // PLATFORM_API_KEY; travels only encrypted
    std::string platform;                       // PLATFORM: openai, anthropic, gemini (sent as given)
    std::string model;                          // MODEL, e.g. gpt-4 (sent as given)

    transport_limits transport;  // timeouts, answer cap (the base URL is `url`); the default
                                 // transport's CA file, pin, pool: tee::httplib_options

    attestation_endpoint endpoint = attestation_endpoint::legacy;
    client_key_mode client_keys = client_key_mode::per_client;
    // When a chat fails the way a restarted enclave makes it fail (HTTP 500 on
    // decrypt, a signature or answer key from another key), attest again (through
    // the policy, never skipping verification) and retry that chat once.
    bool reattest_on_key_change = true;

    // Replay protection: the signed timestamp of an answer must lie within this
    // window of the local clock. The signed message must always equal the prompt.
    std::chrono::seconds answer_time_window{300};
    bool accept_any_answer_time = false;  // relax the window check, by name

    // tee::nova_client only: the HKDF label of the enclave's runtime.
    nova_label nova_hkdf_label = nova_label::capsule;

    // Receipts (tee/receipt.hpp): each chat_result carries `receipt`, the
    // evidence anyone can verify offline later. Off: nothing is kept.
    bool receipts = false;

    // Reads PLATFORM_API_KEY (required), PLATFORM, MODEL and TEE_TLS_URL.
    static config from_env();
};

// ---- definitions (header-only: inline in every file; TEE_CLIENT_COMPILED_LIB:
// compiled once in src/tee_client.cpp; see tee/detail/prelude.hpp) ----
#if defined(TEE_CLIENT_DEFINITIONS)
TEE_INLINE config config::from_env() {
    config c;
    const char* key = std::getenv("PLATFORM_API_KEY");
    if (key == nullptr || *key == '\0')
        throw config_error(
            "PLATFORM_API_KEY is not set: the enclave needs your LLM provider key "
            "(it is sent only inside the encrypted request)");
    c.api_key = secret_string(key);
    if (const char* v = std::getenv("PLATFORM")) c.platform = v;
    if (const char* v = std::getenv("MODEL")) c.model = v;
    if (const char* v = std::getenv("TEE_TLS_URL"); v != nullptr && *v != '\0') c.url = v;
    return c;
}
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee
