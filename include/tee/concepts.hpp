// tee/concepts.hpp - what a policy must provide. The concepts are the
// documentation: a type that satisfies one can be plugged into tee::client<>.
//
//   tee::client<Transport, Crypto, Attestation>
//
// A policy that misses a member fails to compile with the name of the concept
// (and the missing requirement) in the first error.
#pragma once

#include "tee/detail/prelude.hpp"

#include <array>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "tee/enclave_identity.hpp"
#include "tee/secure_bytes.hpp"

namespace tee {

using byte_span = std::span<const std::uint8_t>;

// ---------------------------------------------------------------- transport
// The limits every transport must honour (config::transport). Settings of one
// transport live with it (the default's pool and TLS trust: tee::httplib_options).
struct transport_limits {
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds read_timeout{60'000};   // per read; an LLM can take a while
    std::chrono::milliseconds write_timeout{10'000};
    std::chrono::milliseconds total_timeout{120'000}; // whole request: connect, TLS, answer (a drip too)
    std::size_t max_answer_bytes = 4u << 20;          // larger answers are refused (headers: see docs/reliability.md)
};

// What the client hands a transport when it builds one: the limits and the
// base URL, which is config::url (the one place a client's URL is set).
struct transport_options : transport_limits {
    transport_options() = default;
    transport_options(const transport_limits& limits) : transport_limits(limits) {}  // NOLINT: implicit on purpose

    std::string base_url = "http://127.0.0.1:8000";  // http:// or https://, optional path prefix
};

struct http_response {
    int status = 0;
    std::string body;
};

// A transport performs one HTTP exchange per call and throws tee::transport_error
// (with its cause) when no HTTP answer arrives. Any HTTP status is returned, not thrown.
// (A client can build one itself only if it is constructible from transport_options;
// otherwise hand the client a built instance.)
template <class T>
concept transport = std::move_constructible<T> &&
    requires(T& t, std::string_view path, std::string_view body) {
        { t.get(path) } -> std::same_as<http_response>;
        { t.post_json(path, body) } -> std::same_as<http_response>;
    };

// ------------------------------------------------------------- crypto backend
// All the primitives of the protocol. Failures of *verification* are reported
// by return value (false / nullopt); malformed keys throw tee::protocol_error.
template <class C>
concept crypto_backend = std::default_initializable<C> &&
    requires(const C& c, byte_span bytes, const typename C::private_key& priv,
             const typename C::public_key& pub, std::size_t n) {
        typename C::private_key;   // a P-384 key pair; secret part wiped on destruction
        typename C::public_key;    // a P-384 public key
        { c.random_bytes(n) } -> std::same_as<std::vector<std::uint8_t>>;
        { c.generate_p384() } -> std::same_as<typename C::private_key>;
        // DER SubjectPublicKeyInfo, id-ecPublicKey + secp384r1, uncompressed: exactly 120 bytes
        { c.spki_der(priv) } -> std::same_as<std::vector<std::uint8_t>>;
        // accepts that SPKI or a raw 97-byte point 04||x||y; throws tee::protocol_error otherwise
        { c.load_public_key(bytes) } -> std::same_as<typename C::public_key>;
        { c.ecdh(priv, pub) } -> std::same_as<secure_bytes>;  // the 48-byte x coordinate
        { c.hkdf_sha256(bytes, bytes, bytes, n) } -> std::same_as<secure_bytes>;  // ikm, salt, info, L
        { c.aes256gcm_seal(bytes, bytes, bytes) } -> std::same_as<std::vector<std::uint8_t>>;  // key, iv, pt
        { c.aes256gcm_open(bytes, bytes, bytes) } -> std::same_as<std::optional<secure_bytes>>;
        { c.ecdsa_p384_verify_der(pub, bytes, bytes) } -> std::same_as<bool>;  // key, message, DER sig
        { c.ecdsa_p384_verify_raw(pub, bytes, bytes) } -> std::same_as<bool>;  // key, message, r||s
        { c.sha256(bytes) } -> std::same_as<std::array<std::uint8_t, 32>>;
        { c.sha384(bytes) } -> std::same_as<std::array<std::uint8_t, 48>>;
    };

// ---------------------------------------------------------- attestation policy
// What the client tells a policy about the exchange: the optional third
// argument of verify(). A policy that takes it is called with it; one that
// does not is called with (answer, crypto) only.
struct attestation_context {
    std::string_view service_url;  // the base URL the client talks to (config::url)
};

// Turns the enclave's answer to GET /attestation (parsed JSON) into a verified
// enclave_identity, or throws tee::attestation_error. `kind` names the policy
// ("mock", "nitro"); `verifies` says whether it proves anything about the
// enclave (the mock policy does not).
template <class A, class C>
concept attestation_policy = crypto_backend<C> &&
    requires(const A& a, const nlohmann::json& answer, const C& crypto) {
        { A::kind } -> std::convertible_to<std::string_view>;
        { A::verifies } -> std::convertible_to<bool>;
        { a.verify(answer, crypto) } -> std::same_as<enclave_identity>;
    };

}  // namespace tee
