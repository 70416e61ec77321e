// tee/protocol.hpp - the whole wire protocol (PROTOCOL sections 2 and 3):
// what the client sends and what each answer means, as functions over a
// transport and a crypto backend. The client composes them (sessions,
// threads, the retry); tests and fuzzers call them alone.
//
//   attestation: GET {url}/attestation, or POST {url}/.well-known/attestation
//             "{}" whose answer also states the enclave key (automatic: the
//             latter, falling back to the former on HTTP 404/405); the answer
//             is bounded and parsed here, verified by the attestation policy.
//   request:  POST {url}/talk {"nonce": hex(32 random bytes), "public_key":
//             hex(client SPKI), "data": hex(AES-256-GCM(key, iv = nonce,
//             plaintext) || tag)}
//   key:      HKDF-SHA256(ikm = ECDH x coordinate, salt = none,
//                         info = "encryption data", L = 32)
//   answer:   {"sig": hex(DER ECDSA P-384/SHA-384), "data": {...}} where the
//             signature covers Python's json.dumps(data, separators=(",", ":"),
//             sort_keys=True) - NOT the bytes of the HTTP body. Newer services
//             send "data": {"encrypted_data", "nonce", "public_key"} instead:
//             the same AES-GCM under the same key; the signature covers the
//             decrypted object.
//   key change: an enclave restarted with a new key answers HTTP 500 (it
//             cannot decrypt) or signs with the new key: means_key_change().
#pragma once

#include "tee/detail/prelude.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "tee/concepts.hpp"
#include "tee/config.hpp"
#include "tee/detail/canonical_json.hpp"
#include "tee/detail/p384.hpp"
#include "tee/detail/utf8.hpp"
#include "tee/enclave_identity.hpp"
#include "tee/encoding.hpp"
#include "tee/errors.hpp"
#include "tee/secure_bytes.hpp"

namespace tee {

// What a verified chat returns: the answer and the signed fields it came with.
struct chat_result {
    std::string response;  // the LLM's answer
    std::string message;   // the prompt, as signed by the enclave
    std::string platform;
    std::string ai_model;
    std::int64_t timestamp = 0;           // signed, seconds since the epoch
    nlohmann::json data;                  // the whole signed object (Nova: the decrypted answer)
    std::string signature;                // hex: DER ECDSA P-384 over canonical_json(data) (tee-tls), or
                                          // Nova's 65-byte EIP-191 r||s||v over the encrypted envelope
    std::string enclave_key_fingerprint;  // hex SHA-256 of the attested enclave key
    std::string attestation_kind;         // "nitro" or "mock"
    std::string protocol;                 // "tee-tls" or "nova": the protocol policy's name
    std::string signer_address;           // Nova: the attested eth_addr that signed ("0x" + 40 hex)
    // With config::receipts: the chat's receipt (tee/receipt.hpp). Empty otherwise.
    std::optional<nlohmann::json> receipt;

    // Defined with the other definitions below, so that in the compiled mode
    // a file that calls chat() does not compile the destruction of `data`
    // (nlohmann's largest inline function) itself.
    chat_result();
    ~chat_result();
    chat_result(const chat_result&);
    chat_result(chat_result&&) noexcept;
    chat_result& operator=(const chat_result&);
    chat_result& operator=(chat_result&&) noexcept;
};

namespace detail {
void append_text(secure_bytes& out, std::string_view text);  // request_plaintext's appends
}  // namespace detail

namespace protocol {

inline constexpr std::string_view hkdf_info = "encryption data";
inline constexpr std::size_t nonce_size = 32;

// The paths, relative to config::url.
inline constexpr std::string_view attestation_path = "/attestation";                         // GET
inline constexpr std::string_view well_known_attestation_path = "/.well-known/attestation";  // POST "{}"
inline constexpr std::string_view talk_path = "/talk";                                       // POST, one chat

// A service's refusal text as a service_error carries it: the API key
// (`secret`) redacted, as is and JSON-escaped, BEFORE the text is cut to 200
// printable characters, so that no part of a key straddling the cut remains.
std::string refusal_text(std::string_view text, std::string_view secret);

// Turns an HTTP answer that is not a success into the service_error it means
// (its text redacted of `secret`, the API key).
void throw_if_refused(const http_response& res, std::string_view secret = {});

// ------------------------------------------------------------ attestation
// The answer of the attestation endpoint is refused unparsed beyond these
// limits: AWS's documents are about 4.5 KB (6 KB in base64).
inline constexpr json_limits attestation_answer_limits{8, 64 * 1024};

// How to ask for the attestation.
struct attestation_request {
    attestation_endpoint endpoint = attestation_endpoint::legacy;
    std::string_view service_url{};  // config::url: told to a policy that takes attestation_context
    std::string_view secret{};       // the API key: redacted from a refusal's text
};

// A verified attestation: what the policy established, and the answer as served.
struct attested {
    enclave_identity identity;
    nlohmann::json answer;
};

// An attestation answer with status 200, and which endpoint gave it.
struct fetched_attestation {
    http_response response;
    bool well_known = false;  // the well-known endpoint: its answer must state the attested key
};

// Asks for the attestation on the endpoint `endpoint` names (automatic: the
// well-known one, then the legacy one if that answers HTTP 404 or 405). Any
// status but 200 is the service_error it means (throw_if_refused).
template <transport Transport>
fetched_attestation fetch_attestation(Transport& t, attestation_endpoint endpoint, std::string_view secret);

// The body of an attestation answer, parsed within attestation_answer_limits;
// attestation_error(malformed) beyond them or when it is not JSON.
nlohmann::json parse_attestation_answer(const http_response& res);

// What an answer of the well-known endpoint must also hold: a public_key
// string, the attested key (check_advertised_key).
void check_well_known_answer(const nlohmann::json& answer, const enclave_identity& id);

// The attestation exchange: fetch, parse, verify through the policy (one that
// takes an attestation_context learns the service URL), and check the key the
// well-known endpoint states. Throws service_error, transport_error or
// attestation_error; never returns an unverified identity the policy refused.
template <transport Transport, crypto_backend Crypto, class Attestation>
requires attestation_policy<Attestation, Crypto> attested attest(Transport& t, const Crypto& crypto,
                                                                 const Attestation& policy,
                                                                 const attestation_request& req) {
    const fetched_attestation fetched = fetch_attestation(t, req.endpoint, req.secret);
    attested a{{}, parse_attestation_answer(fetched.response)};
    if constexpr (requires { policy.verify(a.answer, crypto, attestation_context{}); })
        a.identity = policy.verify(a.answer, crypto, attestation_context{req.service_url});
    else
        a.identity = policy.verify(a.answer, crypto);
    if (fetched.well_known) check_well_known_answer(a.answer, a.identity);
    return a;
}

template <transport Transport>
fetched_attestation fetch_attestation(Transport& t, attestation_endpoint endpoint, std::string_view secret) {
    bool well_known = endpoint != attestation_endpoint::legacy;
    http_response res = well_known ? t.post_json(well_known_attestation_path, "{}") : t.get(attestation_path);
    if (endpoint == attestation_endpoint::automatic && (res.status == 404 || res.status == 405)) {
        well_known = false;
        res = t.get(attestation_path);
    }
    if (res.status != 200) throw_if_refused(res, secret);
    return {std::move(res), well_known};
}

// ------------------------------------------------------------ the key
// Derives the AES-256 key shared with the enclave.
template <crypto_backend Crypto>
secure_bytes derive_key(const Crypto& crypto, const typename Crypto::private_key& mine,
                        const typename Crypto::public_key& theirs) {
    secure_bytes shared = crypto.ecdh(mine, theirs);
    auto info = std::span(reinterpret_cast<const std::uint8_t*>(hkdf_info.data()), hkdf_info.size());
    return crypto.hkdf_sha256(shared, {}, info, 32);
}

// ------------------------------------------------------------ one chat
// The request plaintext {"api_key","message","platform","ai_model"}, built in
// wiping memory because it holds the API key (strings in Python's ASCII form).
secure_bytes request_plaintext(const secret_string& api_key, std::string_view message, std::string_view platform,
                               std::string_view model);

// The body of POST /talk.
std::string talk_request(byte_span nonce, std::string_view client_spki_hex, byte_span ciphertext);

// Sends it; the answer is verify_answer's to judge.
template <transport Transport>
http_response post_talk(Transport& t, std::string_view body) {
    return t.post_json(talk_path, body);
}

// What is needed to open an encrypted answer ("data": {"encrypted_data",
// "nonce", "public_key"}): the AES key of this exchange and the attested
// enclave key, which the answer must name.
struct answer_keys {
    byte_span aes_key;
    byte_span enclave_key;  // SPKI or raw point of the attested key
};

template <crypto_backend Crypto>
nlohmann::json open_answer(const Crypto& crypto, const nlohmann::json& enc, const std::optional<answer_keys>& keys) {
    auto field = [&](const char* k) {
        auto it = enc.find(k);
        if (it == enc.end() || !it->is_string())
            throw protocol_error(std::string("encrypted answer has no \"") + k + "\" string");
        auto bytes = from_hex(it->template get_ref<const std::string&>());
        if (!bytes) throw protocol_error(std::string("encrypted answer \"") + k + "\" is not hex");
        return *bytes;
    };
    auto ciphertext = field("encrypted_data"), nonce = field("nonce"), named = field("public_key");
    if (!keys) throw protocol_error("encrypted answer, but this exchange has no key to open it");
    if (nonce.empty()) throw protocol_error("encrypted answer has an empty nonce");
    auto named_point = p384::point_of(named), attested_point = p384::point_of(keys->enclave_key);
    if (named_point.empty() ||
        !std::equal(named_point.begin(), named_point.end(), attested_point.begin(), attested_point.end()))
        throw signature_error(signature_reason::key_mismatch,
                              "encrypted answer names an enclave key other than the attested one");
    auto plain = crypto.aes256gcm_open(keys->aes_key, nonce, ciphertext);
    if (!plain)
        throw signature_error(signature_reason::undecryptable,
                              "encrypted answer does not decrypt with this exchange's key");
    nlohmann::json data = parse_json(std::string_view(reinterpret_cast<const char*>(plain->data()), plain->size()));
    if (!data.is_object()) throw protocol_error("decrypted answer data is not an object");
    return data;
}

// What an answer to POST /talk is checked against (verify_answer).
struct answer_check {
    std::string_view prompt{};                                                     // the signed message must equal it
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now();  // the local clock
    std::chrono::seconds window{300};   // the signed timestamp must lie within it of `now`
    bool check_time = true;             // false: the timestamp is not compared (receipts check it apart)
    std::optional<answer_keys> keys{};  // to open an encrypted answer; none: one is refused
    std::string_view secret{};          // the API key: redacted from a refusal's text
};

// The fields of a signed answer object (both protocols'): response, message,
// platform, ai_model (strings) and timestamp (an integer in the int64 range);
// protocol_error when one is missing or of another type. Sets r.data to nothing.
chat_result read_signed_fields(const nlohmann::json& data);

// replay_error(time_window) unless the signed timestamp (seconds) lies within
// `window` of `now`, compared in integer seconds: a chrono time_point counts
// nanoseconds in an int64, so a timestamp of now + 2^64 ns would overflow
// there and wrap to "now".
void check_answer_time(std::int64_t timestamp, std::chrono::system_clock::time_point now, std::chrono::seconds window);

// Parses and verifies the answer to POST /talk with the enclave key, and
// checks that it answers check.prompt (signed message equal, timestamp in
// the window). Throws service_error, protocol_error, signature_error or
// replay_error.
template <crypto_backend Crypto>
chat_result verify_answer(const Crypto& crypto, const typename Crypto::public_key& enclave_key,
                          const http_response& res, const answer_check& check) {
    const std::string_view secret = check.secret;
    throw_if_refused(res, secret);
    nlohmann::json answer = parse_json(res.body);
    if (!answer.is_object()) throw protocol_error("answer is not a JSON object");
    if (auto e = answer.find("error"); e != answer.end())
        throw service_error(200, refusal_text(e->is_string() ? e->get<std::string>() : e->dump(), secret));
    auto sig_it = answer.find("sig");
    if (sig_it == answer.end()) throw protocol_error("answer has no \"sig\"");
    if (!sig_it->is_string()) throw protocol_error("answer \"sig\" is not a string");
    auto data_it = answer.find("data");
    if (data_it == answer.end()) throw protocol_error("answer has no \"data\"");
    if (!data_it->is_object()) throw protocol_error("answer \"data\" is not an object");
    auto sig = from_hex(sig_it->get_ref<const std::string&>());
    if (!sig) throw protocol_error("answer \"sig\" is not hex");
    if (data_it->contains("encrypted_data")) *data_it = open_answer(crypto, *data_it, check.keys);

    std::string canonical = canonical_json(*data_it);
    auto msg = std::span(reinterpret_cast<const std::uint8_t*>(canonical.data()), canonical.size());
    if (!crypto.ecdsa_p384_verify_der(enclave_key, msg, *sig))
        throw signature_error(signature_reason::invalid,
                              "answer signature does not verify with the attested enclave key");

    chat_result r = read_signed_fields(*data_it);
    if (r.message != check.prompt)
        throw replay_error(signature_reason::echo_mismatch,
                           "signed message differs from the prompt sent: a replayed or misrouted answer");
    if (check.check_time) check_answer_time(r.timestamp, check.now, check.window);
    r.data = std::move(*data_it);
    r.signature = std::move(sig_it->get_ref<std::string&>());
    return r;
}

// ------------------------------------------------------------ key change
// Whether a failed chat is what an enclave restarted with a new key causes:
// HTTP 500 (it cannot decrypt a request to its old key) or an answer that
// does not verify with the attested key (signature_error). Never a
// replay_error: that answer is correctly signed, for something else. The
// client then attests again (fully verified) and retries once.
bool means_key_change(const error& e) noexcept;

}  // namespace protocol

// An attestation answer that states the key (the well-known endpoint's
// "public_key": hex DER, raw point or PEM) must state the attested one; one
// that states none (the legacy endpoint) passes.
void check_advertised_key(const nlohmann::json& attestation_answer, const enclave_identity& id);

// ---- definitions (header-only: inline in every file; TEE_CLIENT_COMPILED_LIB:
// compiled once in src/tee_client.cpp; see tee/detail/prelude.hpp) ----
#if defined(TEE_CLIENT_DEFINITIONS)
TEE_INLINE chat_result::chat_result() = default;
TEE_INLINE chat_result::~chat_result() = default;
TEE_INLINE chat_result::chat_result(const chat_result&) = default;
TEE_INLINE chat_result::chat_result(chat_result&&) noexcept = default;
TEE_INLINE chat_result& chat_result::operator=(const chat_result&) = default;
TEE_INLINE chat_result& chat_result::operator=(chat_result&&) noexcept = default;

// Not inlined with GCC (tee/detail/prelude.hpp): GCC 12 sees the first append
// right after reserve() and reports a false -Wstringop-overflow.
TEE_GCC_NOINLINE TEE_INLINE void detail::append_text(secure_bytes& out, std::string_view text) {
    out.insert(out.end(), text.begin(), text.end());
}

TEE_INLINE secure_bytes protocol::request_plaintext(const secret_string& api_key, std::string_view message,
                                                    std::string_view platform, std::string_view model) {
    for (auto [name, text] :
         {std::pair{"message", message}, {"platform", platform}, {"model", model}, {"API key", api_key.reveal()}})
        if (!is_valid_utf8(text)) throw config_error(std::string(name) + " is not valid UTF-8");
    secure_bytes out;
    out.reserve(64 + api_key.size() + message.size() * 2 + platform.size() + model.size());
    auto put = [&](std::string_view t) { detail::append_text(out, t); };
    put("{\"api_key\":");
    tee::detail::append_python_string(out, api_key.reveal());
    put(",\"message\":");
    tee::detail::append_python_string(out, message);
    put(",\"platform\":");
    tee::detail::append_python_string(out, platform);
    put(",\"ai_model\":");
    tee::detail::append_python_string(out, model);
    put("}");
    return out;
}

TEE_INLINE chat_result protocol::read_signed_fields(const nlohmann::json& data) {
    auto text = [&](const char* k) -> std::string {
        auto it = data.find(k);
        if (it == data.end()) throw protocol_error(std::string("signed data has no \"") + k + "\"");
        if (!it->is_string()) throw protocol_error(std::string("signed data \"") + k + "\" is not a string");
        return it->get<std::string>();
    };
    chat_result r;
    r.response = text("response");
    r.message = text("message");
    r.platform = text("platform");
    r.ai_model = text("ai_model");
    auto ts = data.find("timestamp");
    if (ts == data.end()) throw protocol_error("signed data has no \"timestamp\"");
    if (!ts->is_number_integer()) throw protocol_error("signed data \"timestamp\" is not an integer");
    if (ts->is_number_unsigned() &&
        ts->get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        throw protocol_error("signed data \"timestamp\" is beyond the 64-bit signed range");
    r.timestamp = ts->get<std::int64_t>();
    return r;
}

TEE_INLINE void protocol::check_answer_time(std::int64_t timestamp, std::chrono::system_clock::time_point now,
                                            std::chrono::seconds window) {
    // The difference of two int64 values, taken as uint64, is exact.
    const std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    const std::uint64_t skew = timestamp >= now_s
        ? static_cast<std::uint64_t>(timestamp) - static_cast<std::uint64_t>(now_s)
        : static_cast<std::uint64_t>(now_s) - static_cast<std::uint64_t>(timestamp);
    if (skew > static_cast<std::uint64_t>(std::max<std::int64_t>(window.count(), 0)))
        throw replay_error(signature_reason::time_window,
                           "signed timestamp is " + std::to_string(skew) + " s away from the local clock (window " +
                               std::to_string(window.count()) + " s): a replayed answer, or a wrong clock");
}

TEE_INLINE std::string protocol::talk_request(byte_span nonce, std::string_view client_spki_hex, byte_span ciphertext) {
    std::string body;
    body.reserve(64 + nonce.size() * 2 + client_spki_hex.size() + ciphertext.size() * 2);
    body += "{\"nonce\":\"";
    body += to_hex(nonce);
    body += "\",\"public_key\":\"";
    body += client_spki_hex;
    body += "\",\"data\":\"";
    body += to_hex(ciphertext);
    body += "\"}";
    return body;
}

TEE_INLINE std::string protocol::refusal_text(std::string_view text, std::string_view secret) {
    return tee::detail::redacted_prefix(text, secret, 200);
}

TEE_INLINE nlohmann::json protocol::parse_attestation_answer(const http_response& res) {
    // A real answer is about 6 KB: anything much larger is refused before parsing.
    if (res.body.size() > attestation_answer_limits.max_bytes)
        throw attestation_error(attestation_reason::malformed,
                                "attestation answer is " + std::to_string(res.body.size()) + " bytes, more than the " +
                                    std::to_string(attestation_answer_limits.max_bytes) +
                                    " an attestation needs (AWS's documents are about 4.5 KB)");
    try {
        return parse_json(res.body, attestation_answer_limits);
    } catch (const protocol_error& e) {
        throw attestation_error(attestation_reason::malformed,
                                std::string("attestation answer unreadable: ") + e.what());
    }
}

TEE_INLINE void protocol::check_well_known_answer(const nlohmann::json& answer, const enclave_identity& id) {
    if (!answer.is_object() || !answer.contains("public_key"))
        throw attestation_error(attestation_reason::malformed,
                                "well-known attestation answer has no public_key string");
    check_advertised_key(answer, id);
}

TEE_INLINE bool protocol::means_key_change(const error& e) noexcept {
    if (dynamic_cast<const replay_error*>(&e) != nullptr) return false;
    if (dynamic_cast<const signature_error*>(&e) != nullptr) return true;
    const auto* refused = dynamic_cast<const service_error*>(&e);
    return refused != nullptr && refused->http_status() == 500;
}

TEE_INLINE void check_advertised_key(const nlohmann::json& answer, const enclave_identity& id) {
    auto it = answer.find("public_key");
    if (it == answer.end()) return;  // the legacy endpoint states no key
    if (!it->is_string())
        throw attestation_error(attestation_reason::malformed,
                                "well-known attestation answer has no public_key string");
    auto advertised = parse_public_key_text(it->get_ref<const std::string&>());
    auto a = p384::point_of(advertised), b = p384::point_of(id.public_key);
    if (a.empty())
        throw attestation_error(attestation_reason::malformed,
                                "advertised public_key is not a P-384 key (hex DER, raw point or PEM)");
    if (!std::equal(a.begin(), a.end(), b.begin(), b.end()))
        throw attestation_error(attestation_reason::key_binding, "advertised public_key differs from the attested one");
}

TEE_INLINE void protocol::throw_if_refused(const http_response& res, std::string_view secret) {
    if (res.status == 200) return;
    std::string text;
    try {
        auto j = parse_json(res.body);
        for (const char* k : {"error", "detail", "message"})
            if (j.is_object() && j.contains(k)) {
                text = j[k].is_string() ? j[k].get<std::string>() : j[k].dump();
                break;
            }
    } catch (const protocol_error&) {
        throw service_error(res.status, refusal_text(res.body, secret));
    }
    throw service_error(res.status, refusal_text(text, secret));
}
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee
