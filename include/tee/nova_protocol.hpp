// tee/nova_protocol.hpp - the Nova protocol policy: Sparsity's current
// platform (PROTOCOL-NOVA.md), verified end to end, as tee::nova_client speaks it.
//
//   tee::nova_client c(cfg);   // client<httplib_transport, botan_crypto, nitro_attestation, nova_protocol>
//
//   attestation: POST {url}/.well-known/attestation {"nonce": base64(32 fresh
//             random bytes)}, answered with the raw CBOR COSE_Sign1 (a JSON
//             {"attestation_doc": base64} wrapper is accepted too). The policy
//             verifies it with key_binding::nova_eth_addr: public_key is the
//             enclave's P-384 SPKI, user_data {"eth_addr": ...} its signing
//             address. The document's nonce must be ours.
//   session:  POST {url}/set-api-key {"api_key", "platform"}, once per attested
//             session (and again after a new attestation); its answer is
//             verified like a chat's.
//   request:  POST {url}/talk {"nonce": hex(12 fresh bytes), "public_key":
//             hex(client SPKI), "data": hex(AES-256-GCM(key, iv = nonce) || tag)}
//             with {"message", "ai_model"}; every message has its own key:
//             HKDF-SHA256(ECDH x, salt = the two points sorted || nonce,
//             info = config::nova_hkdf_label's text).
//   answer:   {"data": {"encrypted_data", "nonce", "public_key"}, "sig":
//             hex(r||s||v)}: EIP-191 (Keccak-256, secp256k1) over the canonical
//             JSON of the envelope.
//
// The traps it handles (section 11: the vendor's own frontend checks none):
//  - the signing address is taken only from the verified user_data, never from
//    GET / (unauthenticated) nor from an answer;
//  - the envelope names a key: it must be the attested one, byte for byte, or
//    a host that swapped in its own P-384 key could forge answers;
//  - the signature covers only the envelope, not the request: an answer is
//    this request's only if its nonce is new in the session, it opens with this
//    session's key, and its message, ai_model and platform echo the request
//    with a timestamp inside the window;
//  - v comes as 0/1 or 27/28; high s, an empty or a malformed signature is refused.
#pragma once

#include "tee/detail/prelude.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tee/concepts.hpp"
#include "tee/config.hpp"
#include "tee/detail/canonical_json.hpp"
#include "tee/detail/nova_crypto.hpp"
#include "tee/encoding.hpp"
#include "tee/errors.hpp"
#include "tee/protocol.hpp"
#include "tee/detail/receipt_record.hpp"

namespace tee {

// A crypto backend that can speak Nova: the crypto_backend members, plus
// Keccak-256 and EIP-191 signer recovery on secp256k1 (botan_crypto;
// openssl_crypto has neither, OpenSSL 3.0 has no Keccak-256).
// clang-format off
template <class C>
concept nova_crypto_backend = crypto_backend<C> &&
    requires(const C& c, byte_span bytes, const detail::nova::eth_address& signer) {
        { c.keccak256(bytes) } -> std::same_as<std::array<std::uint8_t, 32>>;
        { c.check_eip191_signature(bytes, bytes, signer) } -> std::same_as<detail::nova::signature_status>;
    };
// clang-format on

struct nova_protocol {
    static constexpr std::string_view name = "nova";

    static constexpr std::string_view attestation_path = "/.well-known/attestation";  // POST {"nonce"}
    static constexpr std::string_view set_api_key_path = "/set-api-key";              // POST, once per session
    static constexpr std::string_view talk_path = "/talk";                            // POST, one chat
    static constexpr std::size_t attestation_nonce_size = 32;
    // The answer nonces a session remembers (a FIFO; older answers are also
    // outside the answer time window unless thousands of chats run within it).
    static constexpr std::size_t remembered_answers = 1u << 16;
    // What the enclave defaults to (PROTOCOL-NOVA section 5), and so what it echoes.
    static constexpr std::string_view default_platform = "openai";
    static constexpr std::string_view default_model = "gpt-4";

    // The answer nonces seen in one session: insert() is false for one seen
    // before. Thread-safe (the chats of a session share it).
    class answer_nonces {
    public:
        bool insert(byte_span nonce);
        void insert_all(const answer_nonces& other);  // other's nonces, oldest first

    private:
        using nonce = std::array<std::uint8_t, detail::nova::nonce_size>;
        mutable std::mutex mutex_;
        std::set<nonce> seen_;
        std::deque<nonce> order_;
    };

    // What one attestation established: the key agreement with the attested
    // key, the attested signing address, the nonces seen.
    template <crypto_backend Crypto>
    struct session {
        enclave_identity identity;
        detail::nova::key_agreement keys;  // with the client's own key pair
        detail::nova::eth_address signer{};
        std::string signer_text;            // "0x" + 40 lowercase hex
        nlohmann::json attestation_answer;  // as the policy read it; kept only with config::receipts
        mutable answer_nonces seen;
    };

    // ---------------------------------------------------------- attestation
    // The body of the attestation request: {"nonce": "<standard base64>"}.
    static std::string attestation_request(byte_span nonce);

    // The attestation answer as an attestation policy reads it: raw CBOR
    // becomes {"attestation_doc": base64}; a JSON answer (the wrapper, or a
    // development enclave's mock answer) is parsed as it is. Over
    // protocol::attestation_answer_limits: attestation_error(malformed).
    static nlohmann::json attestation_answer(const http_response& res);

    // The signing address the verified identity states (user_data's
    // "eth_addr"); attestation_error(key_binding) when it states none.
    static detail::nova::eth_address signer_of(const enclave_identity& id);

    // attestation_error(nonce) unless the document carries `sent`.
    static void check_nonce(const enclave_identity& id, byte_span sent);

    // The attestation exchange with a fresh nonce, verified by the policy
    // (key_binding::nova_eth_addr), the nonce compared. A policy that takes no
    // attestation_context is called without one: then its own checks are all.
    template <transport Transport, crypto_backend Crypto, class Attestation>
    requires attestation_policy<Attestation, Crypto>
    static protocol::attested attest(Transport& t, const Crypto& crypto, const Attestation& policy, const config& cfg) {
        const std::vector<std::uint8_t> nonce = crypto.random_bytes(attestation_nonce_size);
        http_response res = t.post_json(attestation_path, attestation_request(nonce));
        if (res.status != 200) protocol::throw_if_refused(res, cfg.api_key.reveal());
        protocol::attested a{{}, attestation_answer(res)};
        const attestation_context context{cfg.url, key_binding::nova_eth_addr};
        if constexpr (requires { policy.verify(a.answer, crypto, context); })
            a.identity = policy.verify(a.answer, crypto, context);
        else
            a.identity = policy.verify(a.answer, crypto);
        check_nonce(a.identity, nonce);
        return a;
    }

    // --------------------------------------------------------------- answers
    // What an answer is opened and checked with.
    struct answer_keys {
        const detail::nova::key_agreement& keys;
        byte_span attested_key;  // the attested SPKI: the envelope must name exactly it
        const detail::nova::eth_address& signer;
        answer_nonces* seen = nullptr;  // the session's record; none: not checked
        std::string_view secret{};      // the API key: redacted from a refusal's text
    };

    // An answer's envelope whose signature and named key are verified.
    struct envelope {
        std::vector<std::uint8_t> ciphertext, nonce;  // nonce: 12 bytes
        std::string signature;                        // hex r||s||v as sent
    };

    // An answer, verified and opened.
    struct opened_answer {
        nlohmann::json data;    // the decrypted object
        std::string signature;  // hex r||s||v as sent
        std::vector<std::uint8_t> nonce;
        nlohmann::json envelope;  // {"encrypted_data", "nonce", "public_key"} as received
    };

    // The checks of an answer {"data": envelope, "sig"} that need no key of
    // the session: exactly three hex members, the EIP-191 signature over the
    // envelope recovering to `signer`, the named key exactly `attested_key`, a
    // 12-byte nonce. (Receipts check a kept answer with it.)
    template <nova_crypto_backend Crypto>
    static envelope verify_envelope(const Crypto& crypto, const nlohmann::json& answer, byte_span attested_key,
                                    const detail::nova::eth_address& signer);

    // Section 8 step 4 for one answer: refusals (non-200, "error") are
    // service_errors; then the envelope's three hex members, the signature
    // (EIP-191, recovering to the attested address), the named key (exactly
    // the attested SPKI), the nonce (12 bytes, new in the session), the tag,
    // and a JSON object inside. Throws service_error, protocol_error,
    // signature_error or replay_error.
    template <nova_crypto_backend Crypto>
    static opened_answer open_answer(const Crypto& crypto, const http_response& res, const answer_keys& k);

    // The plaintexts. set-api-key's holds the key: built in wiping memory.
    static secure_bytes set_api_key_plaintext(const secret_string& api_key, std::string_view platform);
    static std::string talk_plaintext(std::string_view message, std::string_view model);
    static std::string platform_of(const config& cfg);  // config::platform, or the enclave's default
    static std::string model_of(const config& cfg);     // config::model, or the enclave's default

    // A /talk answer's signed fields, checked against what was sent: message,
    // ai_model and platform equal (replay_error echo_mismatch), the timestamp
    // in the window (unless config::accept_any_answer_time).
    static chat_result read_talk_answer(const nlohmann::json& data, std::string_view message, const config& cfg,
                                        std::chrono::system_clock::time_point now);
    // A /set-api-key answer: status "success", our platform, timestamp in the window.
    static void check_set_api_key_answer(const nlohmann::json& data, const config& cfg,
                                         std::chrono::system_clock::time_point now);

    // ------------------------------------------------ the protocol policy
    // Attests, agrees the session's key, and sends the API key (/set-api-key).
    template <transport Transport, nova_crypto_backend Crypto, class Attestation>
    requires attestation_policy<Attestation, Crypto>
    static std::shared_ptr<const session<Crypto>> establish(Transport& t, const Crypto& crypto,
                                                            const Attestation& policy, const client_key<Crypto>& own,
                                                            const config& cfg) {
        protocol::attested a = attest(t, crypto, policy, cfg);
        auto s = std::make_shared<session<Crypto>>();
        s->keys = detail::nova::agree(crypto, own.key, a.identity.public_key, cfg.nova_hkdf_label);
        s->signer = signer_of(a.identity);
        s->signer_text = detail::nova::to_string(s->signer);
        s->identity = std::move(a.identity);
        if (cfg.receipts) s->attestation_answer = std::move(a.answer);

        const std::vector<std::uint8_t> nonce = crypto.random_bytes(detail::nova::nonce_size);
        std::vector<std::uint8_t> ciphertext;
        {
            const secure_bytes plaintext = set_api_key_plaintext(cfg.api_key, platform_of(cfg));
            ciphertext = detail::nova::seal(crypto, s->keys, nonce, plaintext);
        }  // the plaintext (with the API key) is wiped here
        const http_response res =
            t.post_json(set_api_key_path, protocol::talk_request(nonce, own.spki_hex, ciphertext));
        const opened_answer answer =
            open_answer(crypto, res, {s->keys, s->identity.public_key, s->signer, &s->seen, cfg.api_key.reveal()});
        check_set_api_key_answer(answer.data, cfg, std::chrono::system_clock::now());
        return s;
    }

    // One chat: {"message", "ai_model"} sealed under a fresh nonce's key,
    // posted to /talk, the answer opened and checked.
    template <transport Transport, nova_crypto_backend Crypto>
    static chat_result exchange(Transport& t, const Crypto& crypto, const session<Crypto>& s,
                                const client_key<Crypto>& own, const config& cfg, std::string_view message) {
        // per_request: a fresh key pair, and so a fresh key agreement, for this chat only
        std::optional<detail::nova::key_agreement> once;
        std::string once_hex;
        if (cfg.client_keys == client_key_mode::per_request) {
            const typename Crypto::private_key k = crypto.generate_p384();
            once_hex = to_hex(crypto.spki_der(k));
            once = detail::nova::agree(crypto, k, s.identity.public_key, cfg.nova_hkdf_label);
        }
        const detail::nova::key_agreement& keys = once ? *once : s.keys;
        const std::string_view spki_hex = once ? std::string_view(once_hex) : own.spki_hex;

        const std::vector<std::uint8_t> nonce = crypto.random_bytes(detail::nova::nonce_size);
        const std::string plaintext = talk_plaintext(message, model_of(cfg));
        const std::vector<std::uint8_t> ciphertext = detail::nova::seal(
            crypto, keys, nonce, byte_span(reinterpret_cast<const std::uint8_t*>(plaintext.data()), plaintext.size()));
        const http_response res = t.post_json(talk_path, protocol::talk_request(nonce, spki_hex, ciphertext));
        opened_answer answer =
            open_answer(crypto, res, {keys, s.identity.public_key, s.signer, &s.seen, cfg.api_key.reveal()});
        chat_result r = read_talk_answer(answer.data, message, cfg, std::chrono::system_clock::now());
        if (cfg.receipts)  // the answer's own key opens it again: it reveals no other message
            r.receipt = make_nova_receipt(
                cfg.url, s.attestation_answer,
                nlohmann::json{{"data", std::move(answer.envelope)}, {"sig", answer.signature}}, answer.data,
                to_hex(detail::nova::message_key(crypto, keys, answer.nonce)), to_hex(nonce), spki_hex,
                std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                    .count());
        r.data = std::move(answer.data);
        r.signature = std::move(answer.signature);
        r.signer_address = s.signer_text;
        return r;
    }

    // A session that replaces `old` (the client attested again) keeps
    // remembering old's answer nonces while the attested key is the same: a
    // host that provokes a new attestation must not get a fresh memory to
    // replay into.
    template <crypto_backend Crypto>
    static void carry_over(const session<Crypto>& old, const session<Crypto>& fresh) {
        if (old.identity.public_key == fresh.identity.public_key) fresh.seen.insert_all(old.seen);
    }

    // A restarted enclave (new keys) answers a request to its old key with
    // HTTP 400 "Decryption failed: ..."; an answer from other keys fails its
    // signature or key check (a signature_error that is not a replay_error).
    static bool means_key_change(const error& e) noexcept;
};

template <nova_crypto_backend Crypto>
nova_protocol::envelope nova_protocol::verify_envelope(const Crypto& crypto, const nlohmann::json& answer,
                                                       byte_span attested_key,
                                                       const detail::nova::eth_address& signer) {
    if (!answer.is_object()) throw protocol_error("answer is not a JSON object");
    auto data_it = answer.find("data");
    if (data_it == answer.end() || !data_it->is_object()) throw protocol_error("answer has no \"data\" object");
    auto sig_it = answer.find("sig");
    if (sig_it == answer.end() || !sig_it->is_string()) throw protocol_error("answer has no \"sig\" string");
    const nlohmann::json& data = *data_it;
    if (data.size() != 3)
        throw protocol_error("answer envelope must have exactly encrypted_data, nonce and public_key");
    auto field = [&](const char* key) {
        auto it = data.find(key);
        if (it == data.end() || !it->is_string())
            throw protocol_error(std::string("answer envelope has no \"") + key + "\" string");
        auto bytes = from_hex(it->template get_ref<const std::string&>());
        if (!bytes) throw protocol_error(std::string("answer envelope \"") + key + "\" is not hex");
        return std::move(*bytes);
    };
    envelope e{field("encrypted_data"), field("nonce"), sig_it->template get<std::string>()};
    const std::vector<std::uint8_t> named_key = field("public_key");

    // The signature over the envelope, by the attested address.
    auto sig = from_hex(e.signature);
    if (!sig) throw signature_error(signature_reason::invalid, "Nova answer: \"sig\" is not hex");
    const std::string signed_text = canonical_json(data);
    const auto status = crypto.check_eip191_signature(
        byte_span(reinterpret_cast<const std::uint8_t*>(signed_text.data()), signed_text.size()), *sig, signer);
    if (status != detail::nova::signature_status::ok) detail::nova::throw_signature_failure(status, sig->empty());

    // The key it names and was sealed with: exactly the attested one.
    if (!std::equal(named_key.begin(), named_key.end(), attested_key.begin(), attested_key.end()))
        throw signature_error(signature_reason::key_mismatch,
                              "Nova answer names an enclave key other than the attested one");
    if (e.nonce.size() != detail::nova::nonce_size) throw protocol_error("Nova answer nonce is not 12 bytes");
    return e;
}

template <nova_crypto_backend Crypto>
nova_protocol::opened_answer nova_protocol::open_answer(const Crypto& crypto, const http_response& res,
                                                        const answer_keys& k) {
    protocol::throw_if_refused(res, k.secret);
    nlohmann::json answer = parse_json(res.body);
    if (auto e = answer.is_object() ? answer.find("error") : answer.end(); e != answer.end())
        throw service_error(200, protocol::refusal_text(e->is_string() ? e->get<std::string>() : e->dump(), k.secret));
    envelope e = verify_envelope(crypto, answer, k.attested_key, k.signer);
    if (k.seen != nullptr && !k.seen->insert(e.nonce))
        throw replay_error(signature_reason::replayed,
                           "Nova answer nonce seen before in this session: a replayed answer");
    auto plain = detail::nova::open(crypto, k.keys, e.nonce, e.ciphertext);
    if (!plain)
        throw signature_error(signature_reason::undecryptable, "Nova answer does not decrypt with this session's key");
    nlohmann::json data = parse_json(std::string_view(reinterpret_cast<const char*>(plain->data()), plain->size()));
    if (!data.is_object()) throw protocol_error("decrypted Nova answer is not a JSON object");
    return {std::move(data), std::move(e.signature), std::move(e.nonce), std::move(answer["data"])};
}

// ---- definitions (header-only: inline in every file; TEE_CLIENT_COMPILED_LIB:
// compiled once in src/tee_client.cpp; see tee/detail/prelude.hpp) ----
#if defined(TEE_CLIENT_DEFINITIONS)
TEE_INLINE bool nova_protocol::answer_nonces::insert(byte_span bytes) {
    if (bytes.size() != detail::nova::nonce_size) throw protocol_error("Nova answer nonce is not 12 bytes");
    nonce n{};
    std::copy(bytes.begin(), bytes.end(), n.begin());
    std::lock_guard lock(mutex_);
    if (!seen_.insert(n).second) return false;
    order_.push_back(std::move(n));
    if (order_.size() > remembered_answers) {
        seen_.erase(order_.front());
        order_.pop_front();
    }
    return true;
}

TEE_INLINE void nova_protocol::answer_nonces::insert_all(const answer_nonces& other) {
    std::deque<nonce> copy;
    {
        std::lock_guard lock(other.mutex_);
        copy = other.order_;
    }
    for (const nonce& n : copy) insert(n);
}

TEE_INLINE std::string nova_protocol::attestation_request(byte_span nonce) {
    return "{\"nonce\":\"" + to_base64(nonce) + "\"}";
}

TEE_INLINE nlohmann::json nova_protocol::attestation_answer(const http_response& res) {
    if (res.body.size() > protocol::attestation_answer_limits.max_bytes)
        throw attestation_error(attestation_reason::malformed,
                                "attestation answer is " + std::to_string(res.body.size()) + " bytes, more than the " +
                                    std::to_string(protocol::attestation_answer_limits.max_bytes) +
                                    " an attestation needs (AWS's documents are about 4.5 KB)");
    const auto first = std::find_if_not(res.body.begin(), res.body.end(),
                                        [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
    if (first != res.body.end() && *first == '{') return protocol::parse_attestation_answer(res);
    if (res.body.empty()) throw attestation_error(attestation_reason::malformed, "attestation answer is empty");
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(res.body.data());
    return nlohmann::json{{"attestation_doc", to_base64(byte_span(bytes, res.body.size()))}};
}

TEE_INLINE detail::nova::eth_address nova_protocol::signer_of(const enclave_identity& id) {
    nlohmann::json j;
    try {
        j = parse_json(std::string_view(reinterpret_cast<const char*>(id.user_data.data()), id.user_data.size()),
                       json_limits{4, 4096});
    } catch (const protocol_error&) {
        throw attestation_error(attestation_reason::key_binding,
                                "attested user_data is not JSON: it names no signing address (eth_addr)");
    }
    auto it = j.is_object() ? j.find("eth_addr") : j.end();
    if (it == j.end() || !it->is_string())
        throw attestation_error(attestation_reason::key_binding, "attested user_data has no \"eth_addr\" string");
    auto address = detail::nova::parse_eth_address(it->get_ref<const std::string&>());
    if (!address)
        throw attestation_error(attestation_reason::key_binding,
                                "attested eth_addr is not \"0x\" followed by 40 hex digits");
    return *address;
}

TEE_INLINE void nova_protocol::check_nonce(const enclave_identity& id, byte_span sent) {
    if (!std::equal(id.nonce.begin(), id.nonce.end(), sent.begin(), sent.end()))
        throw attestation_error(attestation_reason::nonce,
                                id.nonce.empty() ? "attestation document carries no nonce; it must carry ours"
                                                 : "attestation document nonce is not the one we sent");
}

TEE_INLINE secure_bytes nova_protocol::set_api_key_plaintext(const secret_string& api_key, std::string_view platform) {
    for (auto [what, text] : {std::pair{"platform", platform}, {"API key", api_key.reveal()}})
        if (!is_valid_utf8(text)) throw config_error(std::string(what) + " is not valid UTF-8");
    secure_bytes out;
    out.reserve(32 + api_key.size() * 2 + platform.size());
    detail::append_text(out, "{\"api_key\":");
    detail::append_python_string(out, api_key.reveal());
    detail::append_text(out, ",\"platform\":");
    detail::append_python_string(out, platform);
    detail::append_text(out, "}");
    return out;
}

TEE_INLINE std::string nova_protocol::talk_plaintext(std::string_view message, std::string_view model) {
    for (auto [what, text] : {std::pair{"message", message}, {"model", model}})
        if (!is_valid_utf8(text)) throw config_error(std::string(what) + " is not valid UTF-8");
    return nlohmann::json{{"message", std::string(message)}, {"ai_model", std::string(model)}}.dump();
}

TEE_INLINE std::string nova_protocol::platform_of(const config& cfg) {
    return cfg.platform.empty() ? std::string(default_platform) : cfg.platform;
}

TEE_INLINE std::string nova_protocol::model_of(const config& cfg) {
    return cfg.model.empty() ? std::string(default_model) : cfg.model;
}

TEE_INLINE chat_result nova_protocol::read_talk_answer(const nlohmann::json& data, std::string_view message,
                                                       const config& cfg, std::chrono::system_clock::time_point now) {
    chat_result r = protocol::read_signed_fields(data);
    if (r.message != message)
        throw replay_error(signature_reason::echo_mismatch,
                           "Nova answer's message differs from the prompt sent: a replayed or misrouted answer");
    if (r.ai_model != model_of(cfg))
        throw replay_error(signature_reason::echo_mismatch, "Nova answer's ai_model differs from the model asked for");
    if (r.platform != platform_of(cfg))
        throw replay_error(signature_reason::echo_mismatch, "Nova answer's platform differs from the platform sent");
    if (!cfg.accept_any_answer_time) protocol::check_answer_time(r.timestamp, now, cfg.answer_time_window);
    return r;
}

TEE_INLINE void nova_protocol::check_set_api_key_answer(const nlohmann::json& data, const config& cfg,
                                                        std::chrono::system_clock::time_point now) {
    auto status = data.find("status");
    if (status == data.end() || !status->is_string() || status->get_ref<const std::string&>() != "success")
        throw protocol_error("Nova /set-api-key answer does not say \"status\": \"success\"");
    auto platform = data.find("platform");
    if (platform == data.end() || !platform->is_string() || platform->get_ref<const std::string&>() != platform_of(cfg))
        throw replay_error(signature_reason::echo_mismatch, "Nova /set-api-key answer names another platform");
    auto ts = data.find("timestamp");
    if (ts == data.end() || !ts->is_number_integer())
        throw protocol_error("Nova /set-api-key answer has no integer \"timestamp\"");
    if (ts->is_number_unsigned() &&
        ts->get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        throw protocol_error("Nova /set-api-key answer \"timestamp\" is beyond the 64-bit signed range");
    if (!cfg.accept_any_answer_time) protocol::check_answer_time(ts->get<std::int64_t>(), now, cfg.answer_time_window);
}

TEE_INLINE bool nova_protocol::means_key_change(const error& e) noexcept {
    if (dynamic_cast<const replay_error*>(&e) != nullptr) return false;
    if (dynamic_cast<const signature_error*>(&e) != nullptr) return true;
    const auto* refused = dynamic_cast<const service_error*>(&e);
    return refused != nullptr && refused->http_status() == 400 &&
        refused->service_message().rfind("Decryption failed", 0) == 0;
}
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee
