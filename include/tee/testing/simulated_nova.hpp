// tee/testing/simulated_nova.hpp - the Nova side of the simulated enclave
// (enclave_options::nova): Sparsity's secured-chat-bot on a Nova capsule
// runtime, written from PROTOCOL-NOVA.md sections 3-7, 9 and 10, with a fake
// "LLM" that echoes the prompt. For tests, the demo and `mock_enclave
// --protocol nova`; it is not an enclave and proves nothing.
//
//   POST /.well-known/attestation  raw CBOR COSE_Sign1 (nitro; application/cbor)
//                                  or the mock JSON form; user_data is
//                                  {"eth_addr": "0x..."} of the signing key
//   POST /set-api-key              encrypted {"api_key", "platform"}
//   POST /talk                     encrypted {"message", "ai_model"}
//   GET  /                         health, naming the (unauthenticated) address
//
// Traps handled here, the ones a client trips over if its peer gets them wrong:
//  - two keys per runtime start: P-384 for ECDH (attested as public_key) and
//    secp256k1 for the EIP-191 answer signatures (attested as user_data's
//    eth_addr); a restart (rotate_key) replaces both and forgets the API key
//    and the replay cache;
//  - the signature is made on the 32-byte EIP-191 digest itself (no second
//    hash: Botan 2's "Raw" scheme, Botan 3's scalar operations), then
//    normalised to low s, and v is the recovery id that recovers our own
//    address (0 or 1);
//  - the replay cache is consulted, and filled, before decryption, so a
//    repeated (client key, nonce) fails even when the first try did not decrypt;
//  - the answer plaintext and the signed envelope are Python's
//    json.dumps(sort_keys=True, separators=(',', ':')) with ensure_ascii: the
//    bytes of canonical_json;
//  - the request's client key is parsed as leniently as the capsule parses it
//    (the AlgorithmIdentifier is skipped unread, so the official frontend's
//    malformed OID length passes); the salt uses the uncompressed point.
//
// nova_fault makes the server misbehave in one named way, so that a client's
// tests can produce each of its refusals (nova_fault_table lists them).
#pragma once

#include "tee/detail/prelude.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <botan/bigint.h>
#include <botan/ecdsa.h>
#include <botan/hash.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>
#if BOTAN_VERSION_MAJOR >= 3
#include <botan/ec_scalar.h>
#endif
#include <nlohmann/json.hpp>

#include "tee/botan_crypto.hpp"
#include "tee/concepts.hpp"
#include "tee/detail/botan_compat.hpp"
#include "tee/detail/canonical_json.hpp"
#include "tee/detail/nova_crypto.hpp"
#include "tee/encoding.hpp"
#include "tee/testing/test_pki.hpp"

namespace tee::testing {

// One misbehaviour of a Nova service each (mock_enclave --nova-fault NAME).
enum class nova_fault {
    none,
    forged_signature,   // one byte of r changed
    other_address,      // user_data names another eth_addr than the signing key's
    key_swap,           // answers encrypted by, and naming, another P-384 key (validly signed)
    replay,             // every /talk answer after the first is the first one again
    high_s,             // s -> n - s and v flipped: the malleable twin of the signature
    empty_signature,    // "sig": ""
    v_27,               // v written as 27/28 (a valid form)
    wrong_nonce,        // the document's nonce differs from the request's
    echo_mismatch,      // /talk: the answer's message differs from the prompt
    model_mismatch,     // /talk: the answer's ai_model differs
    platform_mismatch,  // /talk: the answer's platform differs
    wrapped_timestamp,  // /talk: timestamp = now + 18446744073 (a wrapped nanosecond clock)
    wrapper,            // attestation as JSON {"attestation_doc": base64(cbor)} (a valid form)
    stale_timestamp,    // /talk: timestamp = now - 3600
    key_not_cached,     // /set-api-key: a signed answer whose status is "error" (the key is not cached)
};

struct nova_fault_info {
    nova_fault id;
    std::string_view name;
    std::string_view description;
};

inline constexpr nova_fault_info nova_fault_table[] = {
    {nova_fault::none, "none", "correct answers"},
    {nova_fault::forged_signature, "forged-signature", "one byte of the signature's r changed"},
    {nova_fault::other_address, "other-address", "the attested user_data names another eth_addr"},
    {nova_fault::key_swap, "key-swap", "answers encrypted by, and naming, another P-384 key (validly signed)"},
    {nova_fault::replay, "replay", "every /talk answer after the first is the first one again"},
    {nova_fault::high_s, "high-s", "signature s replaced by n - s and v flipped (the malleable twin)"},
    {nova_fault::empty_signature, "empty-signature", "\"sig\": \"\" (the app's answer when signing failed)"},
    {nova_fault::v_27, "v-27", "recovery id written as 27/28 (a valid form)"},
    {nova_fault::wrong_nonce, "wrong-nonce", "the document's nonce differs from the request's"},
    {nova_fault::echo_mismatch, "echo-mismatch", "/talk answers name another message than the prompt"},
    {nova_fault::model_mismatch, "model-mismatch", "/talk answers name another ai_model"},
    {nova_fault::platform_mismatch, "platform-mismatch", "/talk answers name another platform"},
    {nova_fault::wrapped_timestamp, "wrapped-timestamp", "/talk timestamp now + 18446744073 (a wrapped clock)"},
    {nova_fault::wrapper, "wrapper", "attestation as JSON {\"attestation_doc\": base64} (a valid form)"},
    {nova_fault::stale_timestamp, "stale-timestamp", "/talk timestamp one hour old"},
    {nova_fault::key_not_cached, "key-not-cached", "/set-api-key answers, signed, with \"status\": \"error\""},
};

constexpr std::string_view to_string(nova_fault f) {
    for (const auto& i : nova_fault_table)
        if (i.id == f) return i.name;
    return "none";
}

inline std::optional<nova_fault> nova_fault_from_string(std::string_view name) {
    for (const auto& i : nova_fault_table)
        if (i.name == name) return i.id;
    return std::nullopt;
}

struct nova_settings {
    std::string label = "capsule-ecdh-aes256gcm-v1";  // HKDF info of both directions
    nova_fault fault = nova_fault::none;
    std::string response_prefix = "Echo from the simulated enclave: ";
    std::map<unsigned, std::vector<std::uint8_t>> pcrs{};  // nitro: PCR values (empty: test_pki's defaults)
    std::string module_id = "i-00000000simulated-enc0000000000000000";
};

class simulated_nova {
public:
    // The models /talk accepts (the app's list).
    static constexpr std::string_view models[] = {"gpt-5.1",      "gpt-5",  "gpt-5-mini",  "gpt-4.1",
                                                  "gpt-4.1-mini", "gpt-4o", "gpt-4o-mini", "gpt-4"};
    static constexpr std::size_t replay_cache_size = 4096;

    // pki: sign real-format documents with it (not owned; it outlives this);
    // null: the mock attestation form.
    explicit simulated_nova(nova_settings s, const test_pki* pki = nullptr) : s_(std::move(s)), pki_(pki) {
        rotate_key();
    }

    // A restart: new P-384 and secp256k1 keys, no API key, an empty replay cache.
    void rotate_key() {
        auto k = std::make_shared<keys>();
        k->p384 = crypto_.generate_p384();
        k->spki = crypto_.spki_der(k->p384);
        k->impostor = crypto_.generate_p384();
        k->impostor_spki = crypto_.spki_der(k->impostor);
        k->eth = std::make_unique<Botan::ECDSA_PrivateKey>(Botan::system_rng(), tee::detail::botan::secp256k1());
        k->address = *tee::detail::nova::eth_address_of_point(tee::detail::botan::point_of(*k->eth));
        k->other_address = k->address;
        k->other_address[0] ^= 0x5a;
        std::lock_guard lock(mutex_);
        keys_ = std::move(k);
        api_key_.reset();
        platform_.clear();
        seen_.clear();
        seen_order_.clear();
        first_answer_.reset();
    }

    std::vector<std::uint8_t> public_key() const { return current()->spki; }  // 120-byte SPKI DER
    std::string eth_address() const { return tee::detail::nova::to_string(current()->address); }
    const nova_settings& settings() const noexcept { return s_; }
    // For tests: whether the cached API key is `key` (the key itself is not handed out).
    bool api_key_is(std::string_view key) const {
        std::lock_guard lock(mutex_);
        return api_key_ && *api_key_ == key;
    }

    http_response handle(std::string_view method, std::string_view path, std::string_view body) {
        if (path == "/.well-known/attestation") return method == "POST" ? attestation(body) : http_response{405, ""};
        if (path == "/" && method == "GET") return health();
        if (path == "/set-api-key" && method == "POST") return set_api_key(body);
        if (path == "/talk" && method == "POST") {
            http_response r = talk(body);
            if (s_.fault == nova_fault::replay && r.status == 200) {
                std::lock_guard lock(mutex_);
                if (first_answer_) return *first_answer_;
                first_answer_ = r;
            }
            return r;
        }
        return {404, error_body("Not Found")};
    }

    // The Content-Type of an answer to `path`: the document is raw CBOR, the
    // attestation errors plain text, everything else JSON.
    std::string content_type(std::string_view path, const http_response& r) const {
        if (path == "/.well-known/attestation") {
            if (r.status != 200) return "text/plain; charset=utf-8";
            if (pki_ && s_.fault != nova_fault::wrapper) return "application/cbor";
        }
        return "application/json";
    }

    // ------------------------------------------------------------ attestation
    http_response attestation(std::string_view body) const {
        const auto k = current();
        nlohmann::ordered_json req = nlohmann::ordered_json::object();
        if (body.find_first_not_of(" \t\r\n") != std::string_view::npos) {
            try {
                req = nlohmann::ordered_json::parse(body);
            } catch (const std::exception&) {
                return {400, "Invalid JSON in request body"};
            }
        }
        if (!req.is_object()) return {400, "invalid type: expected an object"};
        std::optional<std::vector<std::uint8_t>> nonce;
        if (auto it = req.find("nonce"); it != req.end() && !it->is_null()) {
            if (!it->is_string()) return {400, "invalid type: nonce, expected a string"};
            nonce = strict_base64(it->get<std::string>());
            if (!nonce) return {400, "Invalid nonce: not canonical standard base64"};
        }
        nlohmann::ordered_json user_data = nlohmann::ordered_json::object();
        if (auto it = req.find("user_data"); it != req.end() && !it->is_null()) {
            if (!it->is_object()) return {400, "user_data must be a JSON object"};
            user_data = *it;
        }
        const auto& address = s_.fault == nova_fault::other_address ? k->other_address : k->address;
        user_data["eth_addr"] = tee::detail::nova::to_string(address);  // a caller's value keeps its position
        const std::string user_text = user_data.dump();                 // compact, raw UTF-8, insertion order

        std::optional<std::vector<std::uint8_t>> doc_nonce = nonce;
        if (s_.fault == nova_fault::wrong_nonce) {
            if (doc_nonce && !doc_nonce->empty())
                doc_nonce->back() ^= 0x01;
            else
                doc_nonce = crypto_.random_bytes(32);
        }
        if (!pki_) {
            nlohmann::ordered_json j;
            j["attestation_doc"] = {{"nonce", to_hex(doc_nonce.value_or(std::vector<std::uint8_t>{}))},
                                    {"public_key", to_hex(k->spki)},
                                    {"user_data", user_text}};
            j["mock"] = true;
            return {200, j.dump()};
        }
        cbor::value payload =
            pki_->payload(k->spki, doc_nonce.value_or(std::vector<std::uint8_t>{}), s_.pcrs, s_.module_id, 0,
                          std::vector<std::uint8_t>(user_text.begin(), user_text.end()));
        if (!doc_nonce) {  // fields not given to the NSM are CBOR null
            cbor::value::map_type m = payload.as_map();
            for (auto& [key, v] : m)
                if (key.is_text() && key.as_text() == "nonce") v = cbor::value::null();
            payload = cbor::value::map(std::move(m));
        }
        const std::vector<std::uint8_t> cose = pki_->sign(payload);
        if (s_.fault == nova_fault::wrapper)
            return {200, nlohmann::ordered_json{{"attestation_doc", to_base64(cose)}}.dump()};
        return {200, std::string(cose.begin(), cose.end())};
    }

    // ------------------------------------------------------------ health (GET /)
    http_response health() const {
        const auto k = current();
        nlohmann::json j;
        {
            std::lock_guard lock(mutex_);
            j["api_key_available"] = api_key_.has_value();
            j["cached_platform"] = api_key_ ? nlohmann::json(platform_) : nlohmann::json(nullptr);
        }
        j["enclave_address"] = tee::detail::nova::to_string(k->address);
        j["endpoints"] = {{"attestation", "/.well-known/attestation"},
                          {"health", "/"},
                          {"set_api_key", "/set-api-key"},
                          {"talk", "/talk"}};
        j["frontend_available"] = false;
        j["note"] = "Attestation available at /.well-known/attestation";
        j["service"] = "Secured Chatbot";
        j["status"] = "ok";
        j["supported_platforms"] = {"openai"};
        j["version"] = "1.0.0";
        return {200, canonical_json(j) + "\n"};
    }

    // ------------------------------------------------------------ encrypted endpoints
    http_response set_api_key(std::string_view body) {
        opened req;
        if (auto failed = open_request(body, req)) return *failed;
        const nlohmann::json& p = req.plaintext;
        const auto api_key = p.find("api_key");
        if (api_key == p.end() || !api_key->is_string() || api_key->get<std::string>().empty())
            return {400, error_body("api_key is required")};
        const nlohmann::json platform = p.contains("platform") ? p["platform"] : nlohmann::json("openai");
        if (platform != "openai") return {400, error_body("Invalid platform: " + python_str(platform))};
        if (s_.fault == nova_fault::key_not_cached)
            return answer({{"message", "API key not cached"},
                           {"platform", "openai"},
                           {"status", "error"},
                           {"timestamp", now_seconds()}},
                          req);
        {
            std::lock_guard lock(mutex_);
            api_key_ = api_key->get<std::string>();
            platform_ = "openai";
        }
        nlohmann::json data;
        data["message"] = "API key cached successfully";
        data["platform"] = "openai";
        data["status"] = "success";
        data["timestamp"] = now_seconds();
        return answer(data, req);
    }

    http_response talk(std::string_view body) const {
        opened req;
        if (auto failed = open_request(body, req)) return *failed;
        const nlohmann::json& p = req.plaintext;
        {
            std::lock_guard lock(mutex_);
            if (!api_key_) return {400, error_body("API key not set. Call /set-api-key first.")};
        }
        const auto message = p.find("message");
        if (message == p.end() || !message->is_string() || message->get<std::string>().empty())
            return {400, error_body("message is required")};
        const nlohmann::json model = p.contains("ai_model") ? p["ai_model"] : nlohmann::json("gpt-4");
        if (!model.is_string() || !known_model(model.get<std::string>()))
            return {400, error_body("Invalid model: " + python_str(model))};
        const std::string prompt = message->get<std::string>();
        nlohmann::json data;
        data["ai_model"] = model;
        data["message"] = prompt;
        data["platform"] = "openai";
        data["response"] = s_.response_prefix + prompt;
        data["timestamp"] = now_seconds();
        switch (s_.fault) {
            case nova_fault::echo_mismatch: data["message"] = prompt + " (another prompt)"; break;
            case nova_fault::model_mismatch: data["ai_model"] = model == "gpt-4o" ? "gpt-4" : "gpt-4o"; break;
            case nova_fault::platform_mismatch: data["platform"] = "anthropic"; break;
            case nova_fault::wrapped_timestamp: data["timestamp"] = now_seconds() + 18446744073; break;
            case nova_fault::stale_timestamp: data["timestamp"] = now_seconds() - 3600; break;
            default: break;
        }
        return answer(data, req);
    }

    // The 65-byte EIP-191 signature r||s||v (v = 0/1, low s) of `text` by the
    // current signing key: what the capsule's /v1/eth/sign returns.
    std::array<std::uint8_t, 65> sign_eip191(std::string_view text) const { return sign_eip191(text, *current()); }

private:
    struct keys {
        botan_crypto::private_key p384;  // ECDH; attested as public_key
        std::vector<std::uint8_t> spki;
        botan_crypto::private_key impostor;  // key_swap
        std::vector<std::uint8_t> impostor_spki;
        std::unique_ptr<Botan::ECDSA_PrivateKey> eth;  // secp256k1; attested as user_data's eth_addr
        tee::detail::nova::eth_address address{};
        tee::detail::nova::eth_address other_address{};  // other_address
    };
    struct opened {
        nlohmann::json plaintext;
        std::vector<std::uint8_t> client_point;  // 04||X||Y
        std::shared_ptr<const keys> k;
    };

    static std::int64_t now_seconds() {
        return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
    static std::string error_body(std::string_view text) {
        return canonical_json(nlohmann::json{{"error", text}}) + "\n";
    }
    static http_response decryption_failed(std::string_view why) {
        return {400, error_body("Decryption failed: " + std::string(why))};
    }
    // What the app's requests call reports for every refusal of the capsule's decrypt.
    static constexpr std::string_view capsule_refusal =
        "400 Client Error: Bad Request for url: http://127.0.0.1:18000/v1/encryption/decrypt";

    static bool known_model(std::string_view m) {
        for (auto known : models)
            if (known == m) return true;
        return false;
    }
    // How Python's str() shows a JSON value in an error message (near enough).
    static std::string python_str(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

    // base64 0.22 STANDARD: padded, canonical, no whitespace.
    static std::optional<std::vector<std::uint8_t>> strict_base64(std::string_view text) {
        if (text.find_first_of(" \t\r\n") != std::string_view::npos) return std::nullopt;
        auto b = from_base64(text);
        if (!b || to_base64(*b) != text) return std::nullopt;
        return b;
    }

    // Hex as the capsule takes it: either case, `prefixes` leading "0x" at most.
    static std::optional<std::vector<std::uint8_t>> lenient_hex(std::string_view text, int prefixes) {
        for (int i = 0; i < prefixes && text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'); ++i)
            text.remove_prefix(2);
        return from_hex(text);
    }

    // The capsule's SPKI reader: SEQUENCE { AlgorithmIdentifier (skipped by
    // its length, OIDs unread), BIT STRING (unused-bits byte, then the point) };
    // lengths in short, 0x81 or 0x82 form; trailing bytes ignored.
    static std::optional<std::vector<std::uint8_t>> lenient_point(byte_span der) {
        std::size_t pos = 0;
        auto header = [&](std::uint8_t tag, std::size_t& len) {
            if (pos + 2 > der.size() || der[pos] != tag) return false;
            const std::uint8_t b = der[pos + 1];
            pos += 2;
            if (b < 0x80) {
                len = b;
            } else if (b == 0x81 && pos + 1 <= der.size()) {
                len = der[pos];
                pos += 1;
            } else if (b == 0x82 && pos + 2 <= der.size()) {
                len = std::size_t{der[pos]} << 8 | der[pos + 1];
                pos += 2;
            } else {
                return false;
            }
            return len <= der.size() - pos;
        };
        std::size_t len = 0;
        if (!header(0x30, len) || !header(0x30, len)) return std::nullopt;
        pos += len;
        if (!header(0x03, len) || len < 2 || der[pos] != 0x00) return std::nullopt;
        return std::vector<std::uint8_t>(der.begin() + static_cast<std::ptrdiff_t>(pos) + 1,
                                         der.begin() + static_cast<std::ptrdiff_t>(pos + len));
    }

    // Sections 4, 5 and 10: the body's three fields, the replay cache, ECDH,
    // GCM, JSON. An answer when the request is refused, nullopt when `out` holds it.
    std::optional<http_response> open_request(std::string_view body, opened& out) const {
        nlohmann::json req;
        try {
            req = nlohmann::json::parse(body);
        } catch (const std::exception&) {
            return http_response{500, error_body("400 Bad Request: Failed to decode JSON object")};
        }
        auto field = [&](const char* name) -> const nlohmann::json* {
            if (!req.is_object()) return nullptr;
            auto it = req.find(name);
            if (it == req.end() || it->is_null() || (it->is_string() && it->get<std::string>().empty())) return nullptr;
            return &*it;
        };
        const nlohmann::json *nonce_j = field("nonce"), *key_j = field("public_key"), *data_j = field("data");
        if (!nonce_j || !key_j || !data_j)
            return http_response{400, error_body("nonce, public_key, and data are required")};
        if (!nonce_j->is_string() || !key_j->is_string() || !data_j->is_string())
            return decryption_failed(capsule_refusal);
        const auto nonce = lenient_hex(nonce_j->get<std::string>(), 2);
        const auto client_key = lenient_hex(key_j->get<std::string>(), 1);
        const auto ct = lenient_hex(data_j->get<std::string>(), 1);
        if (!nonce || !client_key || !ct || (nonce->size() != 12 && nonce->size() != 32))
            return decryption_failed(capsule_refusal);
        const byte_span iv = byte_span(*nonce).first(tee::detail::nova::nonce_size);  // a 32-byte nonce: its first 12

        out.k = current();
        if (!remember(*client_key, iv, *out.k)) return decryption_failed(capsule_refusal);  // replayed
        std::optional<secure_bytes> plain;
        try {
            const auto point = lenient_point(*client_key);
            if (!point) return decryption_failed(capsule_refusal);
            out.client_point = *point;
            plain = crypto_.aes256gcm_open(message_key(out.k->p384, out.client_point, iv), iv, *ct);
        } catch (const std::exception&) {
            return decryption_failed(capsule_refusal);  // not a P-384 point
        }
        if (!plain) return decryption_failed(capsule_refusal);
        try {
            out.plaintext = nlohmann::json::parse(plain->begin(), plain->end());
        } catch (const std::exception&) {
            return decryption_failed("Expecting value: line 1 column 1 (char 0)");  // json.loads
        }
        if (!out.plaintext.is_object()) {
            static const std::map<nlohmann::json::value_t, std::string_view> python_type = {
                {nlohmann::json::value_t::array, "list"},          {nlohmann::json::value_t::string, "str"},
                {nlohmann::json::value_t::boolean, "bool"},        {nlohmann::json::value_t::null, "NoneType"},
                {nlohmann::json::value_t::number_float, "float"},  {nlohmann::json::value_t::number_integer, "int"},
                {nlohmann::json::value_t::number_unsigned, "int"},
            };
            const auto t = python_type.find(out.plaintext.type());
            return http_response{500,
                                 error_body("'" + std::string(t == python_type.end() ? "object" : t->second) +
                                            "' object has no attribute 'get'")};
        }
        return std::nullopt;
    }

    // Checks and records SHA-256(client key as sent || nonce) in the FIFO of
    // the runtime start `k`; false for a repeat, or when `k` has been replaced since.
    bool remember(byte_span client_key, byte_span nonce, const keys& k) const {
        auto h = Botan::HashFunction::create_or_throw("SHA-256");
        h->update(client_key.data(), client_key.size());
        h->update(nonce.data(), nonce.size());
        const auto d = h->final();
        std::string fingerprint(d.begin(), d.end());
        std::lock_guard lock(mutex_);
        if (keys_.get() != &k) return false;  // restarted meanwhile: that runtime's key is gone
        if (!seen_.insert(fingerprint).second) return false;
        seen_order_.push_back(std::move(fingerprint));
        if (seen_order_.size() > replay_cache_size) {
            seen_.erase(seen_order_.front());
            seen_order_.pop_front();
        }
        return true;
    }

    // HKDF-SHA256(ECDH x, sorted points || nonce, label, 32) of `own` and the client's point.
    secure_bytes message_key(const botan_crypto::private_key& own, byte_span client_point, byte_span nonce) const {
        const tee::detail::nova::key_agreement ka = tee::detail::nova::agree(crypto_, own, client_point);
        const std::vector<std::uint8_t> salt = tee::detail::nova::message_salt(ka.own_point, ka.peer_point, nonce);
        return crypto_.hkdf_sha256(ka.shared_x, salt,
                                   byte_span(reinterpret_cast<const std::uint8_t*>(s_.label.data()), s_.label.size()),
                                   tee::detail::nova::key_size);
    }

    // Section 6: the sealed envelope under a fresh nonce, signed (section 7).
    http_response answer(const nlohmann::json& data, const opened& req) const {
        const keys& k = *req.k;
        const bool swap = s_.fault == nova_fault::key_swap;
        const std::string plaintext = canonical_json(data);
        const std::vector<std::uint8_t> nonce = crypto_.random_bytes(tee::detail::nova::nonce_size);
        const std::vector<std::uint8_t> ct = crypto_.aes256gcm_seal(
            message_key(swap ? k.impostor : k.p384, req.client_point, nonce), nonce,
            byte_span(reinterpret_cast<const std::uint8_t*>(plaintext.data()), plaintext.size()));
        nlohmann::json envelope;
        envelope["encrypted_data"] = to_hex(ct);
        envelope["nonce"] = to_hex(nonce);
        envelope["public_key"] = to_hex(swap ? k.impostor_spki : k.spki);
        std::array<std::uint8_t, 65> sig = sign_eip191(canonical_json(envelope), k);
        std::string sig_hex = to_hex(sig);
        switch (s_.fault) {
            case nova_fault::forged_signature:
                sig[5] ^= 0x01;
                sig_hex = to_hex(sig);
                break;
            case nova_fault::high_s: {
                const Botan::BigInt& n = tee::detail::botan::secp256k1().get_order();
                encode32(n - Botan::BigInt(sig.data() + 32, 32), sig.data() + 32);
                sig[64] ^= 0x01;
                sig_hex = to_hex(sig);
                break;
            }
            case nova_fault::v_27:
                sig[64] = static_cast<std::uint8_t>(sig[64] + 27);
                sig_hex = to_hex(sig);
                break;
            case nova_fault::empty_signature: sig_hex.clear(); break;
            default: break;
        }
        return {200, canonical_json(nlohmann::json{{"data", envelope}, {"sig", sig_hex}}) + "\n"};  // Flask jsonify
    }

    static void encode32(const Botan::BigInt& v, std::uint8_t* out) {
#if BOTAN_VERSION_MAJOR >= 3
        v.serialize_to(std::span<std::uint8_t>(out, 32));
#else
        v.binary_encode(out, 32);
#endif
    }

    // r||s (64 bytes) of an ECDSA signature by `key` whose message representative
    // is the 32-byte `digest` itself. Botan 2: the "Raw" scheme. Botan 3: the
    // same computation on Botan's scalars (s = k^-1 (e + r d)), since Botan 3
    // builds without the emsa_raw module (.ci/botan.sh's) have no "Raw".
    static std::array<std::uint8_t, 64> sign_digest(const Botan::ECDSA_PrivateKey& key,
                                                    const tee::detail::nova::hash256& digest) {
        std::array<std::uint8_t, 64> rs{};
#if BOTAN_VERSION_MAJOR >= 3
        const Botan::EC_Group& group = tee::detail::botan::secp256k1();
        auto& rng = Botan::system_rng();
        const auto d = Botan::EC_Scalar::deserialize(group, key.raw_private_key_bits());
        if (!d) throw std::logic_error("simulated Nova enclave: unreadable secp256k1 key");
        const Botan::EC_Scalar e = Botan::EC_Scalar::from_bytes_with_trunc(group, digest);
        for (;;) {
            const Botan::EC_Scalar k = Botan::EC_Scalar::random(group, rng);
            const Botan::EC_Scalar r = gk_x_mod_order(k, rng);
            const Botan::EC_Scalar s = k.invert() * (e + r * *d);
            if (r.is_zero() || s.is_zero()) continue;
            r.serialize_to(std::span<std::uint8_t>(rs.data(), 32));
            s.serialize_to(std::span<std::uint8_t>(rs.data() + 32, 32));
            return rs;
        }
#else
        Botan::PK_Signer signer(key, Botan::system_rng(), "Raw", tee::detail::botan::sig_raw);
        const std::vector<std::uint8_t> sig = signer.sign_message(digest.data(), digest.size(), Botan::system_rng());
        if (sig.size() != rs.size()) throw std::logic_error("simulated Nova enclave: signature is not 64 bytes");
        std::copy(sig.begin(), sig.end(), rs.begin());
        return rs;
#endif
    }

#if BOTAN_VERSION_MAJOR >= 3
    // x(k*G) mod n: Botan 3.7 wants a workspace argument, later releases deprecate it.
    template <class Scalar>
    static Scalar gk_x_mod_order(const Scalar& k, Botan::RandomNumberGenerator& rng) {
        if constexpr (requires { Scalar::gk_x_mod_order(k, rng); }) {
            return Scalar::gk_x_mod_order(k, rng);
        } else {
            std::vector<Botan::BigInt> ws;
            return Scalar::gk_x_mod_order(k, rng, ws);
        }
    }
#endif

    static std::array<std::uint8_t, 65> sign_eip191(std::string_view text, const keys& k) {
        namespace nova = tee::detail::nova;
        const nova::hash256 digest =
            nova::eip191_digest(byte_span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
        const std::array<std::uint8_t, 64> rs = sign_digest(*k.eth, digest);
        std::array<std::uint8_t, 65> sig{};
        std::copy(rs.begin(), rs.end(), sig.begin());
        const Botan::BigInt& n = tee::detail::botan::secp256k1().get_order();
        const Botan::BigInt s(rs.data() + 32, 32);
        if (s > (n >> 1)) encode32(n - s, sig.data() + 32);  // low s, like k256
        for (const std::uint8_t v : {std::uint8_t{0}, std::uint8_t{1}}) {
            sig[64] = v;
            const nova::recovered_signer who = nova::recover_signer(digest, sig);
            if (who.status == nova::signature_status::ok && who.address == k.address) return sig;
        }
        throw std::logic_error("simulated Nova enclave: no recovery id gives its own address");
    }

    std::shared_ptr<const keys> current() const {
        std::lock_guard lock(mutex_);
        return keys_;
    }

    nova_settings s_;
    const test_pki* pki_;
    botan_crypto crypto_;
    mutable std::mutex mutex_;  // guards everything below
    std::shared_ptr<const keys> keys_;
    std::optional<std::string> api_key_;  // process-wide: the last /set-api-key wins
    std::string platform_;
    mutable std::set<std::string> seen_;  // replay cache: fingerprints, and their FIFO order
    mutable std::deque<std::string> seen_order_;
    std::optional<http_response> first_answer_;  // replay
};

}  // namespace tee::testing
