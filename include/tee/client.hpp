// tee/client.hpp - tee::client<Transport, Crypto, Attestation>: the secure chat.
//
//   tee::client<> c(tee::config::from_env());   // Nitro attestation, Botan, httplib
//   tee::chat_result r = c.chat("BTC price right now");
//
// Life of a client:
//  * construction: checks the configuration, builds the transport, generates
//    the client's P-384 key pair (kept for the client's lifetime, as the
//    services expect). No network traffic.
//  * attest(): GET {url}/attestation, verified by the Attestation policy; the
//    enclave key is loaded and the AES key (ECDH + HKDF) derived once.
//    chat() calls it on first use; call it yourself to fail early.
//  * chat(): encrypt the request to the attested key, POST {url}/talk, verify
//    the signature over the canonical JSON of the answer, check it answers
//    this prompt now, return it.
//
// Threads: chat() and attest() may be called from several threads at once.
// The session (identity, keys) is immutable once established and shared; the
// default transport serialises requests on its one keep-alive connection.
#pragma once

#include "tee/detail/prelude.hpp"

#include <memory>
#include <mutex>
#include <string_view>
#include <utility>

#include "tee/botan_crypto.hpp"
#include "tee/concepts.hpp"
#include "tee/config.hpp"
#include "tee/errors.hpp"
#include "tee/httplib_transport.hpp"
#include "tee/mock_attestation.hpp"
#include "tee/nitro_attestation.hpp"
#include "tee/protocol.hpp"

namespace tee {

template <transport Transport = httplib_transport, crypto_backend Crypto = botan_crypto,
          class Attestation = nitro_attestation>
    requires attestation_policy<Attestation, Crypto>
class client {
public:
    using transport_type = Transport;
    using crypto_type = Crypto;
    using attestation_type = Attestation;

    explicit client(config cfg, Attestation attestation = Attestation{})
        : client(cfg, Transport(transport_for(cfg)), std::move(attestation)) {}

    client(config cfg, Transport transport, Attestation attestation)
        : cfg_(std::move(cfg)), attestation_(std::move(attestation)), transport_(std::move(transport)),
          key_(crypto_.generate_p384()), spki_hex_(to_hex(crypto_.spki_der(key_))) {
        if (cfg_.api_key.empty())
            throw config_error("no API key configured (PLATFORM_API_KEY): the enclave needs one");
    }

    // Fetches and verifies the attestation (once; later calls return the same identity).
    const enclave_identity& attest() { return session()->identity; }

    chat_result chat(std::string_view message) {
        auto s = session();
        std::vector<std::uint8_t> nonce = crypto_.random_bytes(protocol::nonce_size);
        std::vector<std::uint8_t> ciphertext;
        {
            secure_bytes plaintext = protocol::request_plaintext(cfg_.api_key, message, cfg_.platform, cfg_.model);
            ciphertext = crypto_.aes256gcm_seal(s->aes_key, nonce, plaintext);
        }  // the plaintext (with the API key) is wiped here
        http_response res = transport_.post_json("/talk", protocol::talk_request(nonce, spki_hex_, ciphertext));
        chat_result r = protocol::verify_answer(crypto_, s->enclave_key, res, message,
                                                std::chrono::system_clock::now(), cfg_.answer_time_window,
                                                !cfg_.accept_any_answer_time);
        r.enclave_key_fingerprint = s->identity.key_fingerprint;
        r.attestation_kind = s->identity.kind;
        return r;
    }

    const config& settings() const noexcept { return cfg_; }
    const Attestation& attestation_policy() const noexcept { return attestation_; }
    // The client's own public key (hex DER SPKI), as sent with every request.
    const std::string& client_public_key_hex() const noexcept { return spki_hex_; }

private:
    struct session_state {
        enclave_identity identity;
        typename Crypto::public_key enclave_key;
        secure_bytes aes_key;  // from the static ECDH with the attested key: once per session
    };

    static transport_options transport_for(const config& cfg) {
        transport_options o = cfg.transport;
        o.base_url = cfg.url;
        return o;
    }

    std::shared_ptr<const session_state> session() {
        std::lock_guard lock(mu_);
        if (!session_) session_ = establish();
        return session_;
    }

    std::shared_ptr<const session_state> establish() {
        http_response res = transport_.get("/attestation");
        if (res.status != 200) protocol::throw_if_refused(res);
        nlohmann::json answer;
        try {
            answer = parse_json(res.body);
        } catch (const protocol_error& e) {
            throw attestation_error(std::string("attestation answer unreadable: ") + e.what());
        }
        enclave_identity id = attestation_.verify(answer, crypto_);
        auto key = crypto_.load_public_key(id.public_key);
        secure_bytes aes = protocol::derive_key(crypto_, key_, key);
        return std::make_shared<const session_state>(session_state{std::move(id), std::move(key), std::move(aes)});
    }

    config cfg_;
    Crypto crypto_;
    Attestation attestation_;
    Transport transport_;
    typename Crypto::private_key key_;
    std::string spki_hex_;
    std::mutex mu_;
    std::shared_ptr<const session_state> session_;
};

// Short names for the common choices (like spdlog's _mt / _st):
using nitro_client = client<>;                                              // the default, spelled out
using mock_client = client<httplib_transport, botan_crypto, mock_attestation>;  // development enclaves only

}  // namespace tee
