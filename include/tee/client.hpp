// tee/client.hpp - tee::client<Transport, Crypto, Attestation, Protocol>: the secure chat.
//
//   tee::client<> c(tee::config::from_env());   // Nitro attestation, Botan, httplib
//   tee::chat_result r = c.chat("BTC price right now");
//
// This header has no transport of its own (it is part of <tee/core.hpp>, which
// includes no HTTP library and no OS header): Crypto, Attestation and Protocol
// default to botan_crypto, nitro_attestation and tee_tls_protocol here;
// Transport defaults to httplib_transport in <tee/tee.hpp>, which also names
// client<> and its aliases (nova_client: Protocol = nova_protocol).
//
// Life of a client:
//  * construction: checks the configuration, builds the transport, generates
//    the client's P-384 key pair (kept for the client's lifetime, as the
//    services expect, unless config::client_keys is per_request). No I/O.
//  * attest(): Protocol::establish - the attestation exchange, verified by
//    the Attestation policy, and what the session needs from it (tee-tls: the
//    AES key, derived once; Nova: the key agreement, the signing address and
//    the API key sent once). chat() calls it on first use; call it yourself
//    to fail early.
//  * chat(): Protocol::exchange - encrypt the request to the attested key,
//    post it, verify the answer, return it. If the failure is one a restarted
//    enclave causes (Protocol::means_key_change), the client attests again
//    (fully verified) and retries once.
// What travels and what an answer means is the protocol policy's
// (tee/tee_tls_protocol.hpp over tee/protocol.hpp; tee/nova_protocol.hpp);
// this header keeps the session, the threads, the redaction and the retry.
//
// Threads: one client may be used from several threads at once (chat(),
// chat_async(), attest()). The session (identity, keys) is immutable and
// shared; replacing it is under a mutex. The default transport sends requests
// from several threads in parallel, on up to httplib_options::max_connections
// kept-alive connections (4 by default).
#pragma once

#include "tee/detail/prelude.hpp"

#include <chrono>
#include <concepts>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "tee/botan_crypto.hpp"
#include "tee/concepts.hpp"
#include "tee/config.hpp"
#include "tee/errors.hpp"
#include "tee/mock_attestation.hpp"
#include "tee/nitro_attestation.hpp"
#include "tee/protocol.hpp"
#include "tee/tee_tls_protocol.hpp"

namespace tee {

template <transport Transport, crypto_backend Crypto = botan_crypto, class Attestation = nitro_attestation,
          class Protocol = tee_tls_protocol>
requires attestation_policy<Attestation, Crypto>
class client {
    static_assert(protocol_policy<Protocol, Transport, Crypto, Attestation>,
                  "Protocol is not a protocol policy for this transport, crypto backend and attestation policy "
                  "(tee/concepts.hpp); tee::nova_protocol needs a crypto backend with Keccak-256 and secp256k1 "
                  "recovery (botan_crypto: openssl_crypto has none, OpenSSL 3.0 has no Keccak-256)");

public:
    using transport_type = Transport;
    using crypto_type = Crypto;
    using attestation_type = Attestation;
    using protocol_type = Protocol;

    // Builds the transport from cfg (transport_options_for(cfg)).
    explicit client(config cfg, Attestation attestation = Attestation{}) requires
        std::constructible_from<Transport, const transport_options&>;

    // With a transport built by the caller (e.g. httplib_transport from httplib_options).
    client(config cfg, Transport transport, Attestation attestation = Attestation{});
    ~client();

    // Fetches and verifies the attestation (once; later calls return the same
    // identity until a key change makes the client attest again).
    enclave_identity attest();

    chat_result chat(std::string_view message);

    // chat() on another thread; several may be in flight on one client. The
    // client must outlive the futures it returned.
    std::future<chat_result> chat_async(std::string message);

    // What the one-argument constructor hands its transport: cfg.transport's
    // limits and cfg.url as the base URL.
    static transport_options transport_options_for(const config& cfg) {
        transport_options o = cfg.transport;
        o.base_url = cfg.url;
        return o;
    }

    const config& settings() const noexcept { return cfg_; }
    Transport& transport() noexcept { return transport_; }
    const Attestation& attestation_policy() const noexcept { return attestation_; }
    // The client's own public key (hex DER SPKI), as sent with every request
    // (in per_request mode, each chat sends a fresh one instead).
    const std::string& client_public_key_hex() const noexcept { return spki_hex_; }

private:
    using session_state = typename Protocol::template session<Crypto>;

    chat_result chat_once_or_twice(std::string_view message);
    chat_result exchange(const session_state& s, std::string_view message);
    std::shared_ptr<const session_state> session();
    std::shared_ptr<const session_state> reattest(const std::shared_ptr<const session_state>& seen);
    std::shared_ptr<const session_state> establish();

    config cfg_;
    Crypto crypto_;
    Attestation attestation_;
    Transport transport_;
    typename Crypto::private_key key_;
    std::string spki_hex_;
    std::mutex mutex_;  // guards session_
    std::shared_ptr<const session_state> session_;
};

// ---- the members, defined outside the class so that an explicit
// instantiation declaration (TEE_CLIENT_COMPILED_LIB, below) keeps them out of
// the including file: member functions defined in the class are inline, and
// compilers instantiate inline members of an extern template anyway.
#define TEE_CLIENT_MEMBER                                                                    \
    template <transport Transport, crypto_backend Crypto, class Attestation, class Protocol> \
    requires attestation_policy<Attestation, Crypto>

TEE_CLIENT_MEMBER
client<Transport, Crypto, Attestation, Protocol>::client(
    config cfg, Attestation attestation) requires std::constructible_from<Transport, const transport_options&>
    : client(cfg, Transport(transport_options_for(cfg)), std::move(attestation)) {}

TEE_CLIENT_MEMBER
client<Transport, Crypto, Attestation, Protocol>::~client() = default;

TEE_CLIENT_MEMBER
client<Transport, Crypto, Attestation, Protocol>::client(config cfg, Transport transport, Attestation attestation)
    : cfg_(std::move(cfg)),
      attestation_(std::move(attestation)),
      transport_(std::move(transport)),
      key_(crypto_.generate_p384()),
      spki_hex_(to_hex(crypto_.spki_der(key_))) {
    if (cfg_.api_key.empty()) throw config_error("no API key configured (PLATFORM_API_KEY): the enclave needs one");
}

// Errors leave attest() and chat() redacted: a service that echoes the request
// (or a hostile one) could put the API key into an error text; no message of
// ours carries it, so it is cut out (as is and JSON-escaped, error::redact).
// Service texts are redacted before they are cut to size
// (protocol::refusal_text); this catches whatever else could carry it.
TEE_CLIENT_MEMBER
enclave_identity client<Transport, Crypto, Attestation, Protocol>::attest() {
    try {
        return session()->identity;
    } catch (error& e) {
        e.redact(cfg_.api_key.reveal());  // in place: the same object, of its own type, goes on
        throw;
    }
}

TEE_CLIENT_MEMBER
chat_result client<Transport, Crypto, Attestation, Protocol>::chat(std::string_view message) {
    try {
        return chat_once_or_twice(message);
    } catch (error& e) {
        e.redact(cfg_.api_key.reveal());  // in place: the same object, of its own type, goes on
        throw;
    }
}

TEE_CLIENT_MEMBER
std::future<chat_result> client<Transport, Crypto, Attestation, Protocol>::chat_async(std::string message) {
    return std::async(std::launch::async, [this, m = std::move(message)] { return chat(m); });
}

TEE_CLIENT_MEMBER
chat_result client<Transport, Crypto, Attestation, Protocol>::chat_once_or_twice(std::string_view message) {
    auto s = session();
    try {
        return exchange(*s, message);
    } catch (const error& e) {
        if (!cfg_.reattest_on_key_change || !Protocol::means_key_change(e)) throw;
        auto fresh = reattest(s);
        if (fresh->identity.public_key == s->identity.public_key) throw;  // the same key: the first failure stands
        return exchange(*fresh, message);
    }
}

TEE_CLIENT_MEMBER
chat_result client<Transport, Crypto, Attestation, Protocol>::exchange(const session_state& s,
                                                                       std::string_view message) {
    chat_result r = Protocol::exchange(transport_, crypto_, s, client_key<Crypto>{key_, spki_hex_}, cfg_, message);
    r.enclave_key_fingerprint = s.identity.key_fingerprint;
    r.attestation_kind = s.identity.kind;
    r.protocol = std::string(Protocol::name);
    // The service holds the key and could echo it: a receipt is for sharing, so none is made then.
    if (r.receipt && r.receipt->dump().find(cfg_.api_key.reveal()) != std::string::npos)
        throw protocol_error("the answer contains the API key: no receipt made (a receipt is meant to be shared)");
    return r;
}

TEE_CLIENT_MEMBER
auto client<Transport, Crypto, Attestation, Protocol>::session() -> std::shared_ptr<const session_state> {
    std::lock_guard lock(mutex_);
    if (!session_) session_ = establish();
    return session_;
}

// Attests again unless another thread already did since `seen`.
TEE_CLIENT_MEMBER
auto client<Transport, Crypto, Attestation, Protocol>::reattest(const std::shared_ptr<const session_state>& seen)
    -> std::shared_ptr<const session_state> {
    std::lock_guard lock(mutex_);
    if (session_ == seen) {
        auto fresh = establish();
        // What the old session remembers that the new one must too (Nova: the
        // answer nonces seen, while the attested key is the same).
        if constexpr (requires { Protocol::carry_over(*seen, *fresh); }) Protocol::carry_over(*seen, *fresh);
        session_ = std::move(fresh);
    }
    return session_;
}

TEE_CLIENT_MEMBER
auto client<Transport, Crypto, Attestation, Protocol>::establish() -> std::shared_ptr<const session_state> {
    return Protocol::establish(transport_, crypto_, attestation_, client_key<Crypto>{key_, spki_hex_}, cfg_);
}

#undef TEE_CLIENT_MEMBER

}  // namespace tee
