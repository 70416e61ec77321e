// tee/tee_tls_protocol.hpp - the default protocol policy: tee-tls, the
// protocol of the reference services (PROTOCOL sections 2 and 3), as the
// session tee::client keeps and the two steps it runs: establish() (attest,
// derive the session's AES key) and exchange() (one chat). The wire itself
// (paths, bodies, what an answer means) is tee/protocol.hpp's.
//
// The trap it handles: the session's AES key comes from a static ECDH with
// the attested key, so it is derived once per attestation and shared by every
// chat of the session (unless config::client_keys is per_request, when each
// chat has its own key pair and so its own AES key); a new attestation with
// another key starts a new session.
//
// The protocol policy named requirements are in tee/concepts.hpp
// ("protocol policy"); tee/nova_protocol.hpp is the other implementation.
#pragma once

#include "tee/detail/prelude.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tee/concepts.hpp"
#include "tee/config.hpp"
#include "tee/errors.hpp"
#include "tee/protocol.hpp"
#include "tee/detail/receipt_record.hpp"

namespace tee {

struct tee_tls_protocol {
    static constexpr std::string_view name = "tee-tls";

    // What one attestation established; immutable, shared by the chats of the session.
    template <crypto_backend Crypto>
    struct session {
        enclave_identity identity;
        typename Crypto::public_key enclave_key;
        secure_bytes aes_key;               // from the static ECDH with the attested key
        nlohmann::json attestation_answer;  // as served; kept only with config::receipts
    };

    // Attests (protocol::attest: config::endpoint, verified by the policy)
    // and derives the session's AES key.
    template <transport Transport, crypto_backend Crypto, class Attestation>
    requires attestation_policy<Attestation, Crypto>
    static std::shared_ptr<const session<Crypto>> establish(Transport& t, const Crypto& crypto,
                                                            const Attestation& policy, const client_key<Crypto>& own,
                                                            const config& cfg) {
        protocol::attested a = protocol::attest(
            t, crypto, policy, {.endpoint = cfg.endpoint, .service_url = cfg.url, .secret = cfg.api_key.reveal()});
        auto key = crypto.load_public_key(a.identity.public_key);
        secure_bytes aes = protocol::derive_key(crypto, own.key, key);
        if (!cfg.receipts) a.answer = nullptr;
        return std::make_shared<const session<Crypto>>(
            session<Crypto>{std::move(a.identity), std::move(key), std::move(aes), std::move(a.answer)});
    }

    // One chat: encrypt the request (with the API key) to the attested key,
    // post it, verify the answer (protocol::verify_answer).
    template <transport Transport, crypto_backend Crypto>
    static chat_result exchange(Transport& t, const Crypto& crypto, const session<Crypto>& s,
                                const client_key<Crypto>& own, const config& cfg, std::string_view message) {
        // per_request: a fresh key pair, and so a fresh AES key, for this chat only
        std::optional<typename Crypto::private_key> once;
        std::string once_hex;
        secure_bytes once_aes;
        if (cfg.client_keys == client_key_mode::per_request) {
            once = crypto.generate_p384();
            once_hex = to_hex(crypto.spki_der(*once));
            once_aes = protocol::derive_key(crypto, *once, s.enclave_key);
        }
        const secure_bytes& aes = once ? once_aes : s.aes_key;
        const std::string_view spki_hex = once ? std::string_view(once_hex) : own.spki_hex;

        std::vector<std::uint8_t> nonce = crypto.random_bytes(protocol::nonce_size);
        std::vector<std::uint8_t> ciphertext;
        {
            secure_bytes plaintext = protocol::request_plaintext(cfg.api_key, message, cfg.platform, cfg.model);
            ciphertext = crypto.aes256gcm_seal(aes, nonce, plaintext);
        }  // the plaintext (with the API key) is wiped here
        http_response res = protocol::post_talk(t, protocol::talk_request(nonce, spki_hex, ciphertext));
        chat_result r = protocol::verify_answer(crypto, s.enclave_key, res,
                                                {.prompt = message,
                                                 .now = std::chrono::system_clock::now(),
                                                 .window = cfg.answer_time_window,
                                                 .check_time = !cfg.accept_any_answer_time,
                                                 .keys = protocol::answer_keys{aes, s.identity.public_key},
                                                 .secret = cfg.api_key.reveal()});
        if (cfg.receipts)
            r.receipt = make_receipt(
                cfg.url, s.attestation_answer, parse_json(res.body), r.data, to_hex(nonce), spki_hex,
                std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                    .count());
        return r;
    }

    // HTTP 500 or a signature that does not verify: protocol::means_key_change.
    static bool means_key_change(const error& e) noexcept { return protocol::means_key_change(e); }
};

}  // namespace tee
