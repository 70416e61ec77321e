// tee/testing/simulated_enclave.hpp - a development enclave in a class, for
// tests, the demo and examples/mock_enclave. It behaves like the Python
// development service: same endpoints, same crypto, same answers and errors,
// and a fake "LLM" that echoes the prompt. It is not an enclave and proves
// nothing; it exists so that the client can be exercised for real, offline.
//
//   GET  /attestation   mock answer, or (nitro mode) a real-format Nitro
//                       document signed by a generated test chain
//   POST /.well-known/attestation   the same, plus "public_key"
//   POST /talk          decrypt, check, echo, sign exactly like the service
//
// With enclave_options::nova it speaks Sparsity's Nova protocol instead
// (tee/testing/simulated_nova.hpp): POST /.well-known/attestation (raw CBOR),
// POST /set-api-key, POST /talk, GET /.
//
// handle() is a pure request -> answer function (no sockets); enclave_server
// (tee/testing/enclave_server.hpp) puts it on a loopback port, with the
// Content-Type content_type() names.
#pragma once

#include "tee/detail/prelude.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <botan/ecdh.h>
#include <botan/ecdsa.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>
#include <nlohmann/json.hpp>

#include "tee/botan_crypto.hpp"
#include "tee/detail/canonical_json.hpp"
#include "tee/encoding.hpp"
#include "tee/protocol.hpp"
#include "tee/testing/simulated_nova.hpp"
#include "tee/testing/test_pki.hpp"

namespace tee::testing {

struct enclave_options {
    bool nitro = false;                                    // serve Nitro documents instead of the mock answer
    std::map<unsigned, std::vector<std::uint8_t>> pcrs{};  // nitro: PCR values (default: 0..15, non-zero)
    std::string module_id = "i-00000000simulated-enc0000000000000000";
    std::string response_prefix = "Echo from the simulated enclave: ";
    // Behaviours of newer or misbehaving services, for tests (mock_enclave flags):
    bool encrypt_response = false;  // answer "data": {"encrypted_data", "nonce", "public_key"}
    bool well_known = true;         // also serve POST /.well-known/attestation
    unsigned rotate_key_after = 0;  // restart with a new key after every N chats (0: never; Nova: answered ones)
    bool replay = false;            // always send the first answer again
    // Nitro: serve one document, made this long ago and unchanged while it runs
    // (one per key), like the services' start-up document; its leaf certificate
    // is valid for 3 hours from then, like AWS's. Unset: a fresh document per request.
    std::optional<std::chrono::seconds> stale_document{};
    // Nova (PROTOCOL-NOVA.md) instead of tee-tls: nitro, pcrs, module_id,
    // response_prefix and rotate_key_after apply; the other behaviours above
    // do not (stale_document neither: a Nova document is made per request).
    bool nova = false;
    std::string nova_label = "capsule-ecdh-aes256gcm-v1";  // HKDF info ("enclaver-ecdh-aes256gcm-v1": older runtimes)
    nova_fault nova_misbehaviour = nova_fault::none;
};

class simulated_enclave {
public:
    explicit simulated_enclave(enclave_options opt = {}) : opt_(std::move(opt)) {
        if (opt_.nitro && opt_.stale_document) {
            made_ = std::chrono::system_clock::now() - *opt_.stale_document;
            pki_ = std::make_unique<test_pki>(
                pki_validity{made_ - std::chrono::seconds(3), made_ + std::chrono::hours(3)});
        } else if (opt_.nitro) {
            pki_ = std::make_unique<test_pki>();
        }
        rotate_key();
        if (opt_.nova)
            nova_ = std::make_unique<simulated_nova>(
                nova_settings{opt_.nova_label, opt_.nova_misbehaviour, opt_.response_prefix, opt_.pcrs, opt_.module_id},
                pki_.get());
    }

    // Replaces the enclave key, as a restarted enclave would (Nova: both keys,
    // and the API key and replay cache are forgotten).
    void rotate_key() {
        if (nova_) nova_->rotate_key();
        auto k = std::make_shared<keys>();
        k->sign = std::make_unique<Botan::ECDSA_PrivateKey>(Botan::system_rng(), group());
        k->ecdh.key = tee::detail::botan::ecdh_key_of(*k->sign);
        k->spki = p384::spki_of_point(tee::detail::botan::point_of(*k->sign));
        if (pki_ && opt_.stale_document)
            k->document = pki_->sign(pki_->payload(
                k->spki, {'t', 'e', 'e', '-', 't', 'l', 's'}, opt_.pcrs, opt_.module_id,
                static_cast<std::uint64_t>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(made_.time_since_epoch()).count())));
        std::lock_guard lock(mutex_);
        keys_ = std::move(k);
    }

    std::vector<std::uint8_t> public_key() const { return nova_ ? nova_->public_key() : current()->spki; }
    const test_pki* pki() const noexcept { return pki_.get(); }
    // The Nova server (nova mode), else null.
    const simulated_nova* nova() const noexcept { return nova_.get(); }

    // The Content-Type of an answer to `path` (Nova's document: application/cbor).
    std::string content_type(std::string_view path, const http_response& r) const {
        return nova_ ? nova_->content_type(path, r) : "application/json";
    }

    http_response handle(std::string_view method, std::string_view path, std::string_view body) {
        if (nova_) {
            http_response r = nova_->handle(method, path, body);
            if (method == "POST" && path == "/talk" && r.status == 200 && opt_.rotate_key_after != 0 &&
                ++chats_ % opt_.rotate_key_after == 0)  // a chat is an answered /talk
                rotate_key();
            return r;
        }
        if (method == "GET" && path == "/attestation") return attestation();
        if (method == "POST" && path == "/.well-known/attestation" && opt_.well_known) return well_known_attestation();
        if (method == "POST" && path == "/talk") {
            if (opt_.replay) {
                std::lock_guard lock(replay_mutex_);
                if (first_answer_) return *first_answer_;
                http_response r = talk(body);
                if (r.status == 200) first_answer_ = r;
                return r;
            }
            http_response r = talk(body);
            if (opt_.rotate_key_after != 0 && ++chats_ % opt_.rotate_key_after == 0) rotate_key();
            return r;
        }
        return {404, R"({"detail":"Not Found"})"};
    }

    http_response attestation() const {
        const auto keys = current();
        if (!keys->document.empty())
            return {200, nlohmann::json{{"attestation_doc", to_base64(keys->document)}}.dump()};
        const std::vector<std::uint8_t> spki = keys->spki;
        std::vector<std::uint8_t> nonce{'t', 'e', 'e', '-', 't', 'l', 's'};
        auto rnd = botan_crypto{}.random_bytes(32);
        nonce.insert(nonce.end(), rnd.begin(), rnd.end());
        nlohmann::ordered_json j;
        if (pki_) {
            j["attestation_doc"] = to_base64(pki_->attestation_document(spki, nonce, opt_.pcrs, opt_.module_id));
        } else {
            j["attestation_doc"] = {{"nonce", to_hex(nonce)}, {"public_key", to_hex(spki)}};
            j["mock"] = true;
        }
        return {200, j.dump()};
    }

    // The newer endpoint: the same document, and the key stated outright.
    http_response well_known_attestation() const {
        nlohmann::ordered_json j = nlohmann::ordered_json::parse(attestation().body);
        j["public_key"] = to_hex(current()->spki);
        return {200, j.dump()};
    }

    http_response talk(std::string_view body) const {
        auto keys = current();
        nlohmann::json req;
        try {
            req = nlohmann::json::parse(body);
        } catch (const std::exception&) {
            return {422, R"({"detail":"request body is not JSON"})"};
        }
        if (!req.is_object() || !req.contains("nonce") || !req.contains("public_key") || !req.contains("data") ||
            !req["nonce"].is_string() || !req["public_key"].is_string() || !req["data"].is_string())
            return {422, R"({"detail":"nonce, public_key and data are required strings"})"};
        const std::string nonce_hex = req["nonce"];
        if (nonce_hex.size() < 8) return error("invalid nonce, must be at least 8 characters long");

        botan_crypto crypto;
        auto nonce = from_hex(nonce_hex);
        auto client_spki = from_hex(req["public_key"].get<std::string>());
        auto ct = from_hex(req["data"].get<std::string>());
        // Like Python's load_der_public_key: only the id-ecPublicKey SPKI is accepted.
        if (!nonce || !client_spki || !ct || client_spki->size() != p384::spki_size ||
            p384::point_of(*client_spki).empty())
            return decryption_failed();
        std::optional<secure_bytes> plaintext;
        secure_bytes aes;
        try {
            auto client_key = crypto.load_public_key(*client_spki);
            aes = protocol::derive_key(crypto, keys->ecdh, client_key);
            plaintext = crypto.aes256gcm_open(aes, *nonce, *ct);
        } catch (const std::exception&) {
            return decryption_failed();
        }
        if (!plaintext) return decryption_failed();

        nlohmann::json p;
        try {
            p = nlohmann::json::parse(plaintext->begin(), plaintext->end());
        } catch (const std::exception&) {
            return decryption_failed();
        }
        auto str = [&](const char* k) { return p.contains(k) && p[k].is_string() ? p[k].get<std::string>() : ""; };
        const std::string platform = str("platform"), model = str("ai_model"), message = str("message");
        if (str("api_key").empty()) return error("invalid api_key");
        if (platform != "openai" && platform != "anthropic" && platform != "gemini") return error("invalid platform");
        if (model.empty()) return error("invalid ai model");

        nlohmann::ordered_json data;  // insertion order, like the Python dict
        data["platform"] = platform;
        data["ai_model"] = model;
        data["timestamp"] =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        data["message"] = message;
        data["response"] = opt_.response_prefix + message;
        nlohmann::ordered_json out;
        out["sig"] = sign_hex(nlohmann::json(data), *keys);
        if (opt_.encrypt_response) {
            auto iv = crypto.random_bytes(32);
            std::string plain = data.dump();
            auto sealed = crypto.aes256gcm_seal(
                aes, iv, std::span(reinterpret_cast<const std::uint8_t*>(plain.data()), plain.size()));
            out["data"] = {
                {"encrypted_data", to_hex(sealed)}, {"nonce", to_hex(iv)}, {"public_key", to_hex(keys->spki)}};
        } else {
            out["data"] = data;
        }
        return {200, out.dump()};  // UTF-8, insertion order: not the signed form
    }

    // Hex DER ECDSA P-384/SHA-384 signature over canonical_json(data), made
    // with the current enclave key: what the service puts in "sig".
    std::string sign_hex(const nlohmann::json& data) const { return sign_hex(data, *current()); }

private:
    struct keys;
    static std::string sign_hex(const nlohmann::json& data, const keys& k) {
        std::string canonical = canonical_json(data);
        Botan::PK_Signer signer(*k.sign, Botan::system_rng(), tee::detail::botan::ecdsa_sha384,
                                tee::detail::botan::sig_der);
        return to_hex(signer.sign_message(reinterpret_cast<const std::uint8_t*>(canonical.data()), canonical.size(),
                                          Botan::system_rng()));
    }

    static const Botan::EC_Group& group() { return tee::detail::botan::p384(); }
    static http_response error(std::string_view text) { return {200, nlohmann::json{{"error", text}}.dump()}; }
    static http_response decryption_failed() { return {500, R"({"detail":"decryption failed"})"}; }

    struct keys {  // one P-384 scalar, used for ECDH and ECDSA like the Python service
        std::unique_ptr<Botan::ECDSA_PrivateKey> sign;
        botan_crypto::private_key ecdh;
        std::vector<std::uint8_t> spki;
        std::vector<std::uint8_t> document;  // stale_document: the one document served
    };
    std::shared_ptr<const keys> current() const {
        std::lock_guard lock(mutex_);
        return keys_;
    }

    enclave_options opt_;
    std::chrono::system_clock::time_point made_{};  // stale_document: when its documents were made
    std::unique_ptr<test_pki> pki_;
    std::unique_ptr<simulated_nova> nova_;
    mutable std::mutex mutex_;
    std::shared_ptr<const keys> keys_;
    std::atomic<unsigned> chats_{0};
    std::mutex replay_mutex_;
    std::optional<http_response> first_answer_;
};

}  // namespace tee::testing
