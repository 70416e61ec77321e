// tee/enclave_identity.hpp - what an attestation policy established about the
// enclave: the key requests are encrypted to, and (for Nitro) the measured
// identity of the enclave image and how the document was verified.
#pragma once

#include "tee/detail/prelude.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <span>
#include <vector>

#include "tee/encoding.hpp"
#include "tee/detail/p384.hpp"

namespace tee {

struct certificate_info {
    std::string subject;
    std::string issuer;
    std::chrono::system_clock::time_point not_before;
    std::chrono::system_clock::time_point not_after;
};

struct enclave_identity {
    std::string kind;                      // "mock" or "nitro": the policy that accepted it
    bool verified = false;                 // true only for a policy that verifies (not mock)
    std::vector<std::uint8_t> public_key;  // the enclave key, DER SPKI (120 bytes)
    std::string key_fingerprint;           // hex SHA-256 of public_key

    // Nitro only (empty for mock):
    std::string module_id;
    std::uint64_t timestamp_ms = 0;  // signed document time
    std::map<unsigned, std::vector<std::uint8_t>> pcrs;
    std::vector<std::uint8_t> nonce;
    std::vector<std::uint8_t> user_data;
    std::vector<certificate_info> chain;                  // leaf first, root last
    std::chrono::system_clock::time_point verified_at{};  // the verification time used: now, or the signed time
    std::chrono::milliseconds document_age{};             // the clock's time minus the signed time
    // The chain had expired since the document was signed (a service's start-up
    // document): verified at its signed time instead, within max_document_age.
    bool verified_at_document_time = false;
    bool debug_mode = false;  // PCR0 all zeros (allowed only by option)
    // What accepted the image (docs/security.md, "Image policies"): "pinned PCRs",
    // "allowlist: <name> (version N)", "known enclave", "first contact (recorded)",
    // "any image"; several joined by ", ".
    std::string image_policy;
    bool first_contact = false;  // the known-enclaves store recorded this image just now
};

// Records the attested key in `id`: normalised to the 120-byte SPKI, with its
// fingerprint. `point` is the 97-byte point of a key the backend has loaded.
template <class Crypto>
void set_enclave_key(enclave_identity& id, const Crypto& crypto, std::span<const std::uint8_t> point) {
    id.public_key = p384::spki_of_point(point);
    id.key_fingerprint = to_hex(crypto.sha256(id.public_key));
}

}  // namespace tee
