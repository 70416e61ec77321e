// tee/client.hpp - tee::client<Transport, Crypto, Attestation>: the secure chat.
//
//   tee::client<> c(tee::config::from_env());   // Nitro attestation, Botan, httplib
//   tee::chat_result r = c.chat("BTC price right now");
//
// This header has no transport of its own (it is part of <tee/core.hpp>, which
// includes no HTTP library and no OS header): Crypto and Attestation default to
// botan_crypto and nitro_attestation here; Transport defaults to
// httplib_transport in <tee/tee.hpp>, which also names client<> and its aliases.
//
// Life of a client:
//  * construction: checks the configuration, builds the transport, generates
//    the client's P-384 key pair (kept for the client's lifetime, as the
//    services expect, unless config::client_keys is per_request). No I/O.
//  * attest(): fetches the attestation (config::endpoint), verified by the
//    Attestation policy; loads the enclave key and derives the AES key (ECDH +
//    HKDF) once. chat() calls it on first use; call it yourself to fail early.
//  * chat(): encrypt the request to the attested key, POST {url}/talk, verify
//    the signature over the canonical JSON of the answer, check it answers
//    this prompt now, return it. If the enclave restarted with a new key, the
//    client attests again (fully verified) and retries once.
//
// Threads: one client may be used from several threads at once (chat(),
// chat_async(), attest()). The session (identity, keys) is immutable and
// shared; replacing it is under a mutex. The default transport sends requests
// from several threads in parallel, on up to httplib_options::max_connections
// kept-alive connections (4 by default).
#pragma once

#include "tee/detail/prelude.hpp"

#include <exception>
#include <algorithm>
#include <concepts>
#include <future>
#include <memory>
#include <mutex>
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
#include "tee/receipt.hpp"

namespace tee {

template <transport Transport, crypto_backend Crypto = botan_crypto, class Attestation = nitro_attestation>
    requires attestation_policy<Attestation, Crypto>
class client {
public:
    using transport_type = Transport;
    using crypto_type = Crypto;
    using attestation_type = Attestation;

    // Builds the transport from cfg (cfg.transport with base_url = cfg.url).
    explicit client(config cfg, Attestation attestation = Attestation{})
        requires std::constructible_from<Transport, const transport_options&>;

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

    // What the one-argument constructor hands its transport.
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
    struct session_state {
        enclave_identity identity;
        typename Crypto::public_key enclave_key;
        secure_bytes aes_key;  // from the static ECDH with the attested key: once per session
        nlohmann::json attestation_answer;  // as served; kept only with config::receipts
    };

    chat_result chat_once_or_twice(std::string_view message);
    chat_result exchange(const session_state& s, std::string_view message);
    std::shared_ptr<const session_state> session();
    std::shared_ptr<const session_state> reattest(const std::shared_ptr<const session_state>& seen);
    std::shared_ptr<const session_state> establish();
    static void check_advertised_key(const nlohmann::json& answer, const enclave_identity& id);

    config cfg_;
    Crypto crypto_;
    Attestation attestation_;
    Transport transport_;
    typename Crypto::private_key key_;
    std::string spki_hex_;
    std::mutex mu_;
    std::shared_ptr<const session_state> session_;
};

// ---- the members, defined outside the class so that an explicit
// instantiation declaration (TEE_CLIENT_COMPILED_LIB, below) keeps them out of
// the including file: member functions defined in the class are inline, and
// compilers instantiate inline members of an extern template anyway.
#define TEE_CLIENT_MEMBER                                                          \
    template <transport Transport, crypto_backend Crypto, class Attestation>     \
        requires attestation_policy<Attestation, Crypto>

TEE_CLIENT_MEMBER
client<Transport, Crypto, Attestation>::client(config cfg, Attestation attestation)
    requires std::constructible_from<Transport, const transport_options&>
    : client(cfg, Transport(transport_options_for(cfg)), std::move(attestation)) {}

TEE_CLIENT_MEMBER
client<Transport, Crypto, Attestation>::~client() = default;

TEE_CLIENT_MEMBER
client<Transport, Crypto, Attestation>::client(config cfg, Transport transport, Attestation attestation)
    : cfg_(std::move(cfg)), attestation_(std::move(attestation)), transport_(std::move(transport)),
      key_(crypto_.generate_p384()), spki_hex_(to_hex(crypto_.spki_der(key_))) {
    if (cfg_.api_key.empty())
        throw config_error("no API key configured (PLATFORM_API_KEY): the enclave needs one");
}

// Errors leave attest() and chat() redacted: a service that echoes the request
// (or a hostile one) could put the API key into an error text; no message of
// ours carries it, so it is cut out (as is and JSON-escaped, error::redact).
// Service texts are redacted before they are cut to size
// (protocol::refusal_text); this catches whatever else could carry it.
TEE_CLIENT_MEMBER
enclave_identity client<Transport, Crypto, Attestation>::attest() {
    try {
        return session()->identity;
    } catch (error& e) {
        e.redact(cfg_.api_key.reveal());  // in place: the same object, of its own type, goes on
        throw;
    }
}

TEE_CLIENT_MEMBER
chat_result client<Transport, Crypto, Attestation>::chat(std::string_view message) {
    try {
        return chat_once_or_twice(message);
    } catch (error& e) {
        e.redact(cfg_.api_key.reveal());  // in place: the same object, of its own type, goes on
        throw;
    }
}

TEE_CLIENT_MEMBER
std::future<chat_result> client<Transport, Crypto, Attestation>::chat_async(std::string message) {
    return std::async(std::launch::async, [this, m = std::move(message)] { return chat(m); });
}

TEE_CLIENT_MEMBER
chat_result client<Transport, Crypto, Attestation>::chat_once_or_twice(std::string_view message) {
    auto s = session();
    std::exception_ptr first;
    try {
        return exchange(*s, message);
    } catch (const replay_error&) {
        throw;  // a correctly signed answer to something else: not a key change
    } catch (const signature_error&) {
        first = std::current_exception();
    } catch (const service_error& e) {
        if (e.http_status() != 500) throw;
        first = std::current_exception();
    }
    if (!cfg_.reattest_on_key_change) std::rethrow_exception(first);
    auto fresh = reattest(s);
    if (fresh->identity.public_key == s->identity.public_key) std::rethrow_exception(first);  // same key
    return exchange(*fresh, message);
}

TEE_CLIENT_MEMBER
chat_result client<Transport, Crypto, Attestation>::exchange(const session_state& s, std::string_view message) {
    // per_request: a fresh key pair, and so a fresh AES key, for this chat only
    std::optional<typename Crypto::private_key> once;
    std::string once_hex;
    secure_bytes once_aes;
    if (cfg_.client_keys == client_key_mode::per_request) {
        once = crypto_.generate_p384();
        once_hex = to_hex(crypto_.spki_der(*once));
        once_aes = protocol::derive_key(crypto_, *once, s.enclave_key);
    }
    const secure_bytes& aes = once ? once_aes : s.aes_key;
    const std::string& spki_hex = once ? once_hex : spki_hex_;

    std::vector<std::uint8_t> nonce = crypto_.random_bytes(protocol::nonce_size);
    std::vector<std::uint8_t> ciphertext;
    {
        secure_bytes plaintext = protocol::request_plaintext(cfg_.api_key, message, cfg_.platform, cfg_.model);
        ciphertext = crypto_.aes256gcm_seal(aes, nonce, plaintext);
    }  // the plaintext (with the API key) is wiped here
    http_response res = transport_.post_json("/talk", protocol::talk_request(nonce, spki_hex, ciphertext));
    chat_result r = protocol::verify_answer(crypto_, s.enclave_key, res, message, std::chrono::system_clock::now(),
                                            cfg_.answer_time_window, !cfg_.accept_any_answer_time,
                                            protocol::answer_keys{aes, s.identity.public_key}, cfg_.api_key.reveal());
    r.enclave_key_fingerprint = s.identity.key_fingerprint;
    r.attestation_kind = s.identity.kind;
    if (cfg_.receipts) {
        r.receipt = make_receipt(cfg_.url, s.attestation_answer, parse_json(res.body), r.data, to_hex(nonce), spki_hex,
                                 std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch()).count());
        // The service holds the key and could echo it: a receipt is for sharing, so none is made then.
        if (r.receipt->dump().find(cfg_.api_key.reveal()) != std::string::npos)
            throw protocol_error("the answer contains the API key: no receipt made (a receipt is meant to be shared)");
    }
    return r;
}

TEE_CLIENT_MEMBER
auto client<Transport, Crypto, Attestation>::session() -> std::shared_ptr<const session_state> {
    std::lock_guard lock(mu_);
    if (!session_) session_ = establish();
    return session_;
}

// Attests again unless another thread already did since `seen`.
TEE_CLIENT_MEMBER
auto client<Transport, Crypto, Attestation>::reattest(const std::shared_ptr<const session_state>& seen)
    -> std::shared_ptr<const session_state> {
    std::lock_guard lock(mu_);
    if (session_ == seen) session_ = establish();
    return session_;
}

TEE_CLIENT_MEMBER
auto client<Transport, Crypto, Attestation>::establish() -> std::shared_ptr<const session_state> {
    bool well_known = cfg_.endpoint != attestation_endpoint::legacy;
    http_response res = well_known ? transport_.post_json("/.well-known/attestation", "{}") : transport_.get("/attestation");
    if (cfg_.endpoint == attestation_endpoint::automatic && (res.status == 404 || res.status == 405)) {
        well_known = false;
        res = transport_.get("/attestation");
    }
    if (res.status != 200) protocol::throw_if_refused(res, cfg_.api_key.reveal());
    // A real answer is about 6 KB: anything much larger is refused before parsing.
    if (res.body.size() > protocol::attestation_answer_limits.max_bytes)
        throw attestation_error(attestation_reason::malformed, "attestation answer is " + std::to_string(res.body.size()) + " bytes, more than the " +
                                std::to_string(protocol::attestation_answer_limits.max_bytes) +
                                " an attestation needs (AWS's documents are about 4.5 KB)");
    nlohmann::json answer;
    try {
        answer = parse_json(res.body, protocol::attestation_answer_limits);
    } catch (const protocol_error& e) {
        throw attestation_error(attestation_reason::malformed, std::string("attestation answer unreadable: ") + e.what());
    }
    enclave_identity id = [&] {  // a policy that takes the context learns the service URL
        if constexpr (requires { attestation_.verify(answer, crypto_, attestation_context{}); })
            return attestation_.verify(answer, crypto_, attestation_context{cfg_.url});
        else
            return attestation_.verify(answer, crypto_);
    }();
    if (well_known) check_advertised_key(answer, id);
    auto key = crypto_.load_public_key(id.public_key);
    secure_bytes aes = protocol::derive_key(crypto_, key_, key);
    if (!cfg_.receipts) answer = nullptr;
    return std::make_shared<const session_state>(
        session_state{std::move(id), std::move(key), std::move(aes), std::move(answer)});
}

// The newer endpoint also states the key outright: it must be the attested one.
TEE_CLIENT_MEMBER
void client<Transport, Crypto, Attestation>::check_advertised_key(const nlohmann::json& answer,
                                                                  const enclave_identity& id) {
    if (!answer.is_object() || !answer.contains("public_key"))
        throw attestation_error(attestation_reason::malformed, "well-known attestation answer has no public_key string");
    tee::check_advertised_key(answer, id);
}

#undef TEE_CLIENT_MEMBER

}  // namespace tee
