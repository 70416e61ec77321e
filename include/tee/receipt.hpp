// tee/receipt.hpp - receipts: the evidence of one verified chat, kept so that
// anyone can check it offline, years later, and an append-only log of them in
// which a removed, reordered or edited line shows.
//
//   receipt (JSON):  {"receipt_version": 1, "url", "attestation": <the
//                    attestation answer as served>, "answer": <the /talk
//                    answer as served; for an encrypted answer, the envelope>,
//                    "signed_data": <the object the signature covers>,
//                    "request": {"nonce", "public_key"}, "verified_at", "library"}
//   log (JSON Lines): {"prev": hex SHA-256 of the previous line's bytes
//                    (without its newline; the first line: of nothing),
//                    "receipt": {...}}
//
// The traps it handles:
//  * time. A receipt is checked long after its certificates expired (AWS's
//    leaf lives hours): the document is verified at its own signed timestamp
//    (receipt_nitro_options, the one place that adapts the caller's options),
//    and "now" is an injected clock, used only to refuse a receipt from the future;
//  * what is signed. Only signed_data is signed (by the attested key); url,
//    verified_at, library and request are the client's word. An encrypted
//    answer cannot be opened again (the AES key is not kept): its envelope must
//    name the attested key, and signed_data carries the signature;
//  * mock. A receipt of a mock attestation proves nothing: refused unless the
//    caller allows mock, and then reported as not verified;
//  * secrets. A receipt never holds the API key, the AES key or the request
//    plaintext: the client builds it from the answer, the attestation and the
//    request's nonce and public key only;
//  * two writers. append_receipt locks the file (flock), reads the last line,
//    appends one whole line with O_APPEND and fsyncs before unlocking; the
//    OS-specific part is one function behind __unix__/__APPLE__.
#pragma once

#include "tee/detail/prelude.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tee/botan_crypto.hpp"
#include "tee/detail/canonical_json.hpp"
#include "tee/concepts.hpp"
#include "tee/encoding.hpp"
#include "tee/enclave_identity.hpp"
#include "tee/errors.hpp"
#include "tee/mock_attestation.hpp"
#include "tee/nitro_attestation.hpp"
#include "tee/detail/p384.hpp"
#include "tee/protocol.hpp"
#include "tee/detail/receipt_record.hpp"
#include "tee/version.hpp"
#if defined(BOTAN_HAS_KECCAK)
#include "tee/nova_protocol.hpp"  // Nova receipts (Botan's keccak module)
#endif

namespace tee {

// What a receipt is checked against. The image policy is the caller's: pin
// PCR0..2 in nitro.expected_pcrs (without pins any Nitro enclave passes).
struct receipt_options {
    nitro_options nitro{};  // trust root and image policy; its clock, age and nonce are not used
    // "Now", to refuse receipts from the future. Empty: the system clock.
    std::function<std::chrono::system_clock::time_point()> clock{};
    // Read mock receipts (reported as not verified). They prove nothing.
    bool allow_mock = false;
};

// What a receipt proves, once verified.
struct receipt_verification {
    std::string protocol = "tee-tls";  // or "nova"
    bool verified = false;             // a Nitro receipt, verified; false: a mock one (allow_mock only)
    enclave_identity identity;         // the attested enclave, verified at the document's own time
    chat_result answer;                // the signed fields (response, message, ..., timestamp, data, signature)
    bool encrypted_answer = false;     // the answer travelled encrypted; signed_data is its decrypted form
    // The client's own record (not signed by the enclave):
    std::string url;
    std::int64_t verified_at = 0;
    std::string library;
};

// The result of checking a log: where it first fails, and why.
struct receipt_log_report {
    std::size_t lines = 0;        // lines read
    std::size_t verified = 0;     // receipts verified before the first failure (all of them when ok())
    std::size_t mock = 0;         // of which mock receipts (allow_mock only)
    std::string head;             // SHA-256 hex of the last good line: keep it elsewhere to pin the log's end
    std::size_t failed_line = 0;  // 1-based; 0 when the whole log verified
    error_kind failure_kind = error_kind::protocol;
    std::string failure;  // why line failed_line fails
    bool ok() const noexcept { return failed_line == 0; }
};

// The caller's Nitro options as a receipt is verified with them: at the
// document's own signed time, with no age limit and no nonce (the document
// was fetched by someone else, long ago). The one place that adapts them.
nitro_options receipt_nitro_options(const receipt_options& opt);

// Appends a receipt to the log at `path` (created 0600 if absent), under an
// exclusive lock, and fsyncs it. Returns the new line's SHA-256 hex (the new
// head). Throws config_error when the file cannot be used, or when it ends in
// a partial line (appending would hide it).
std::string append_receipt(const std::string& path, const nlohmann::json& receipt);

// The JSON limits of a receipt: an answer (depth 32, 8 MiB) and a document inside.
inline constexpr json_limits receipt_json_limits{40, 32u << 20};

namespace detail {
struct receipt_fields;
}  // namespace detail

// Verifies receipts with one set of options (the trust root parsed once).
template <crypto_backend Crypto = botan_crypto>
class receipt_verifier {
public:
    explicit receipt_verifier(receipt_options opt = {}, Crypto crypto = {})
        : opt_(std::move(opt)), crypto_(std::move(crypto)), nitro_(receipt_nitro_options(opt_)) {}

    // Throws attestation_error, protocol_error or signature_error, each with its own message.
    receipt_verification verify(const nlohmann::json& receipt) const;
    receipt_verification verify_text(std::string_view receipt_text) const {
        nlohmann::json j;
        try {
            j = parse_json(receipt_text, receipt_json_limits);
        } catch (const protocol_error& e) {
            throw protocol_error(std::string("receipt is not JSON: ") + e.what());
        }
        return verify(j);
    }

    // Checks a log's text: the chain of prev hashes and every receipt.
    receipt_log_report verify_log(std::string_view content) const;
    // The same, reading the file (config_error if it cannot be read).
    receipt_log_report verify_log_file(const std::string& path) const;

private:
    receipt_verification verify_tee_tls(const detail::receipt_fields& f) const;
    receipt_verification verify_nova(const nlohmann::json& receipt, const detail::receipt_fields& f) const;
    std::chrono::system_clock::time_point now() const {
        return opt_.clock ? opt_.clock() : std::chrono::system_clock::now();
    }
    receipt_options opt_;
    Crypto crypto_;
    nitro_attestation nitro_;
};

template <crypto_backend Crypto = botan_crypto>
receipt_verification verify_receipt(const nlohmann::json& receipt, const receipt_options& opt = {},
                                    const Crypto& crypto = {}) {
    return receipt_verifier<Crypto>(opt, crypto).verify(receipt);
}

template <crypto_backend Crypto = botan_crypto>
[[nodiscard]] receipt_log_report verify_receipt_log(const std::string& path, const receipt_options& opt = {},
                                                    const Crypto& crypto = {}) {
    return receipt_verifier<Crypto>(opt, crypto).verify_log_file(path);
}

namespace detail {
// The checks of a receipt that do not depend on the crypto backend.
struct receipt_fields {
    const nlohmann::json* attestation;
    const nlohmann::json* answer;
    const nlohmann::json* signed_data;
    bool mock_attestation;
    bool encrypted;
    bool nova;  // "protocol": "nova"
};

receipt_fields receipt_structure(const nlohmann::json& receipt);
// The envelope of an encrypted answer names the attested key.
void check_envelope(const nlohmann::json& envelope, const enclave_identity& id);
void check_times(const receipt_verification& v, std::chrono::system_clock::time_point now,
                 std::chrono::milliseconds skew);
std::string read_whole_file(const std::string& path);
// The OS-specific part of append_receipt: under an exclusive lock on the file,
// make_line(the last line, without its newline; empty for an empty file) gives
// the line to append (with its newline), written with O_APPEND and fsynced.
void locked_append(const std::string& path, const std::function<std::string(std::string_view)>& make_line);
}  // namespace detail

template <crypto_backend Crypto>
receipt_verification receipt_verifier<Crypto>::verify(const nlohmann::json& receipt) const {
    const detail::receipt_fields f = detail::receipt_structure(receipt);
    receipt_verification v;
    if (f.mock_attestation && !opt_.allow_mock)
        throw attestation_error(attestation_reason::mock_refused,
                                "receipt holds a mock attestation, which proves nothing about who held the "
                                "key; refused (allow mock receipts to read it)");
    if (f.nova) {
        v = verify_nova(receipt, f);
    } else {
        v = verify_tee_tls(f);
    }
    detail::check_times(v, now(), opt_.nitro.max_clock_skew);

    v.url = receipt.at("url").template get<std::string>();
    v.verified_at = receipt.at("verified_at").template get<std::int64_t>();
    v.library = receipt.at("library").template get<std::string>();
    v.verified = v.identity.verified;
    return v;
}

template <crypto_backend Crypto>
receipt_verification receipt_verifier<Crypto>::verify_tee_tls(const detail::receipt_fields& f) const {
    receipt_verification v;
    v.identity = f.mock_attestation ? mock_attestation{}.verify(*f.attestation, crypto_)
                                    : nitro_.verify(*f.attestation, crypto_);
    check_advertised_key(*f.attestation, v.identity);

    // The answer: the plain one must carry signed_data itself; an envelope must
    // name the attested key. The signature over canonical(signed_data) and the
    // signed fields are protocol::verify_answer's checks.
    if (f.encrypted)
        detail::check_envelope(f.answer->at("data"), v.identity);
    else if (f.answer->at("data") != *f.signed_data)
        throw signature_error(signature_reason::invalid, "receipt signed_data differs from the answer's data");
    const auto msg = f.signed_data->find("message");
    if (msg == f.signed_data->end() || !msg->is_string())
        throw protocol_error("receipt signed_data has no \"message\" string");
    nlohmann::json body = {{"sig", f.answer->at("sig")}, {"data", *f.signed_data}};
    const auto key = crypto_.load_public_key(v.identity.public_key);
    v.answer = protocol::verify_answer(crypto_, key, http_response{200, body.dump()},
                                       {.prompt = msg->template get_ref<const std::string&>(),
                                        .now = now(),
                                        .window = std::chrono::seconds(0),
                                        .check_time = false});
    v.answer.enclave_key_fingerprint = v.identity.key_fingerprint;
    v.answer.attestation_kind = v.identity.kind;
    v.answer.protocol = "tee-tls";
    v.encrypted_answer = f.encrypted;
    return v;
}

// A Nova receipt (make_nova_receipt): the document under the Nova binding
// (no nonce: it was the fetcher's), the envelope's signature by the attested
// eth_addr and its named key (nova_protocol::verify_envelope), the disclosed
// answer key opening the envelope to exactly signed_data, and the signed fields.
template <crypto_backend Crypto>
receipt_verification receipt_verifier<Crypto>::verify_nova(const nlohmann::json& receipt,
                                                           const detail::receipt_fields& f) const {
#if defined(BOTAN_HAS_KECCAK)
    if constexpr (nova_crypto_backend<Crypto>) {
        receipt_verification v;
        v.protocol = "nova";
        v.identity = f.mock_attestation
            ? mock_attestation{}.verify(*f.attestation, crypto_)
            : nitro_.verify(*f.attestation, crypto_, attestation_context{{}, key_binding::nova_eth_addr});
        const auto signer = nova_protocol::signer_of(v.identity);
        const nova_protocol::envelope e =
            nova_protocol::verify_envelope(crypto_, *f.answer, v.identity.public_key, signer);
        const auto key = from_hex(receipt.at("answer_key").template get_ref<const std::string&>());
        const auto plain = crypto_.aes256gcm_open(*key, e.nonce, e.ciphertext);
        if (!plain)
            throw signature_error(signature_reason::undecryptable,
                                  "receipt answer_key does not open the signed envelope");
        nlohmann::json opened;
        try {
            opened = parse_json(std::string_view(reinterpret_cast<const char*>(plain->data()), plain->size()));
        } catch (const protocol_error&) {
            throw protocol_error("receipt's opened answer is not JSON");
        }
        if (opened != *f.signed_data)
            throw signature_error(signature_reason::invalid,
                                  "receipt signed_data differs from what its envelope opens to");
        v.answer = protocol::read_signed_fields(opened);
        v.answer.data = std::move(opened);
        v.answer.signature = e.signature;
        v.answer.signer_address = detail::nova::to_string(signer);
        v.answer.enclave_key_fingerprint = v.identity.key_fingerprint;
        v.answer.attestation_kind = v.identity.kind;
        v.answer.protocol = "nova";
        v.encrypted_answer = true;
        return v;
    }
#endif
    (void)receipt;
    (void)f;
    throw config_error(
        "a Nova receipt needs a crypto backend with Keccak-256 and secp256k1 recovery (botan_crypto, with Botan's "
        "keccak module)");
}

template <crypto_backend Crypto>
receipt_log_report receipt_verifier<Crypto>::verify_log(std::string_view content) const {
    receipt_log_report r;
    auto hash = [&](std::string_view bytes) {
        return to_hex(crypto_.sha256(byte_span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size())));
    };
    r.head = hash({});
    auto fail = [&](error_kind kind, std::string why) {
        r.failed_line = r.lines;
        r.failure_kind = kind;
        r.failure = "line " + std::to_string(r.lines) + ": " + std::move(why);
        return r;
    };
    for (std::size_t at = 0; at < content.size();) {
        ++r.lines;
        const std::size_t end = content.find('\n', at);
        if (end == std::string_view::npos)
            return fail(error_kind::protocol, "no newline at its end: a torn or cut append");
        const std::string_view line = content.substr(at, end - at);
        at = end + 1;
        nlohmann::json j;
        try {
            j = parse_json(line, receipt_json_limits);
        } catch (const protocol_error& e) {
            return fail(error_kind::protocol, std::string("not a JSON line: ") + e.what());
        }
        const auto prev = j.is_object() ? j.find("prev") : j.end();
        const auto rec = j.is_object() ? j.find("receipt") : j.end();
        if (prev == j.end() || !prev->is_string() || prev->template get_ref<const std::string&>().size() != 64)
            return fail(error_kind::protocol, "no \"prev\" SHA-256 hex");
        if (rec == j.end()) return fail(error_kind::protocol, "no \"receipt\"");
        if (prev->template get_ref<const std::string&>() != r.head)
            return fail(error_kind::signature,
                        r.lines == 1 ? std::string("prev is not the SHA-256 of nothing: lines before it were removed")
                                     : "prev is not the SHA-256 of line " + std::to_string(r.lines - 1) + ": line " +
                                std::to_string(r.lines - 1) + " was edited, or lines were removed or reordered here");
        try {
            const receipt_verification v = verify(*rec);
            if (!v.verified) ++r.mock;
        } catch (const error& e) {
            return fail(e.kind(), std::string("receipt refused: ") + e.what());
        }
        ++r.verified;
        r.head = hash(line);
    }
    return r;
}

template <crypto_backend Crypto>
receipt_log_report receipt_verifier<Crypto>::verify_log_file(const std::string& path) const {
    return verify_log(detail::read_whole_file(path));
}

// ---- definitions (header-only: inline in every file; TEE_CLIENT_COMPILED_LIB:
// compiled once in src/tee_client.cpp; see tee/detail/prelude.hpp) ----
#if defined(TEE_CLIENT_DEFINITIONS)
TEE_INLINE nitro_options receipt_nitro_options(const receipt_options& opt) {
    nitro_options n = opt.nitro;
    // A chain expired since is verified at the document's own time, whatever its age.
    n.max_document_age = std::chrono::milliseconds::max();
    n.max_age.reset();              // a receipt is old by nature
    n.expected_nonce.reset();       // the document's nonce was the fetcher's, long ago
    n.known_enclaves_file.clear();  // checking a record never records an image (pin it, or use an allowlist)
    n.clock = opt.clock;
    return n;
}

TEE_INLINE detail::receipt_fields detail::receipt_structure(const nlohmann::json& r) {
    if (!r.is_object()) throw protocol_error("receipt is not a JSON object");
    const auto ver = r.find("receipt_version");
    if (ver == r.end()) throw protocol_error("receipt has no receipt_version");
    if (!ver->is_number_integer() || *ver != receipt_version)
        throw protocol_error("receipt_version " + ver->dump() + " is not one this verifier reads (1)");
    auto need = [&](const char* k, bool (nlohmann::json::*is)() const noexcept, const char* what) {
        const auto it = r.find(k);
        if (it == r.end() || !((*it).*is)()) throw protocol_error(std::string("receipt has no \"") + k + "\" " + what);
        return &*it;
    };
    bool nova = false;
    if (const auto p = r.find("protocol"); p != r.end()) {
        if (!p->is_string() || (*p != "nova" && *p != "tee-tls"))
            throw protocol_error("receipt protocol " + p->dump() + " is not one this verifier reads (tee-tls, nova)");
        nova = *p == "nova";
    }
    need("url", &nlohmann::json::is_string, "string");
    need("verified_at", &nlohmann::json::is_number_integer, "integer");
    need("library", &nlohmann::json::is_string, "string");
    const auto* request = need("request", &nlohmann::json::is_object, "object");
    const auto nonce = request->find("nonce");
    const auto nonce_bytes =
        nonce != request->end() && nonce->is_string() ? from_hex(nonce->get_ref<const std::string&>()) : std::nullopt;
    const std::size_t nonce_size = nova ? std::size_t(12) : protocol::nonce_size;
    if (!nonce_bytes || nonce_bytes->size() != nonce_size)
        throw protocol_error("receipt request nonce is not " + std::to_string(nonce_size) + " bytes of hex");
    const auto pk = request->find("public_key");
    const auto pk_bytes =
        pk != request->end() && pk->is_string() ? from_hex(pk->get_ref<const std::string&>()) : std::nullopt;
    if (!pk_bytes || pk_bytes->size() != p384::spki_size || p384::point_of(*pk_bytes).empty())
        throw protocol_error("receipt request public_key is not a hex P-384 SubjectPublicKeyInfo");

    receipt_fields f{};
    f.attestation = need("attestation", &nlohmann::json::is_object, "object");
    f.answer = need("answer", &nlohmann::json::is_object, "object");
    f.signed_data = need("signed_data", &nlohmann::json::is_object, "object");
    const auto doc = f.attestation->find("attestation_doc");
    const auto mock = f.attestation->find("mock");
    f.mock_attestation =
        (doc != f.attestation->end() && doc->is_object()) || (mock != f.attestation->end() && *mock != false);
    const auto sig = f.answer->find("sig");
    if (sig == f.answer->end() || !sig->is_string()) throw protocol_error("receipt answer has no \"sig\" string");
    const auto data = f.answer->find("data");
    if (data == f.answer->end() || !data->is_object()) throw protocol_error("receipt answer has no \"data\" object");
    f.encrypted = data->contains("encrypted_data");
    f.nova = nova;
    if (nova) {
        const auto key = r.find("answer_key");
        const auto key_bytes =
            key != r.end() && key->is_string() ? from_hex(key->get_ref<const std::string&>()) : std::nullopt;
        if (!key_bytes || key_bytes->size() != 32)
            throw protocol_error("Nova receipt answer_key is not 32 bytes of hex");
        if (!f.encrypted) throw protocol_error("Nova receipt answer is not an encrypted envelope");
    }
    return f;
}

TEE_INLINE void detail::check_envelope(const nlohmann::json& env, const enclave_identity& id) {
    std::vector<std::uint8_t> named;
    for (const char* k : {"encrypted_data", "nonce", "public_key"}) {
        const auto it = env.find(k);
        auto bytes = it != env.end() && it->is_string() ? from_hex(it->get_ref<const std::string&>()) : std::nullopt;
        if (!bytes) throw protocol_error(std::string("receipt encrypted answer \"") + k + "\" is not a hex string");
        if (std::string_view(k) == "public_key") named = std::move(*bytes);
    }
    const auto a = p384::point_of(named), b = p384::point_of(id.public_key);
    if (a.empty() || !std::equal(a.begin(), a.end(), b.begin(), b.end()))
        throw signature_error(signature_reason::key_mismatch,
                              "encrypted answer names an enclave key other than the attested one");
}

TEE_INLINE void detail::check_times(const receipt_verification& v, std::chrono::system_clock::time_point now,
                                    std::chrono::milliseconds skew) {
    using namespace std::chrono;
    // (A document signed after the clock is refused by nitro_attestation itself.)
    if (v.answer.timestamp > duration_cast<seconds>((now + skew).time_since_epoch()).count())
        throw signature_error(signature_reason::time_window,
                              "receipt's answer is signed after the verification clock (" +
                                  std::to_string(v.answer.timestamp) + " s since the epoch)");
}

TEE_INLINE std::string detail::read_whole_file(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) throw config_error("cannot read " + path);
    std::string out;
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
    const bool failed = std::ferror(f) != 0;
    std::fclose(f);
    if (failed) throw config_error("cannot read " + path);
    return out;
}

TEE_INLINE std::string append_receipt(const std::string& path, const nlohmann::json& receipt) {
    if (!receipt.is_object()) throw config_error("a receipt to log is not a JSON object");
    std::string head;
    detail::locked_append(path, [&](std::string_view last) {
        const botan_crypto crypto;
        auto hex = [&](std::string_view b) {
            return to_hex(crypto.sha256(byte_span(reinterpret_cast<const std::uint8_t*>(b.data()), b.size())));
        };
        nlohmann::json line = {{"prev", hex(last)}, {"receipt", receipt}};
        std::string text = line.dump();
        head = hex(text);
        return text + "\n";
    });
    return head;
}
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee

// ---- the OS-specific part: file locking and durable appends ----
#if defined(TEE_CLIENT_DEFINITIONS)
#if defined(__unix__) || defined(__APPLE__)
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tee {
TEE_INLINE void detail::locked_append(const std::string& path,
                                      const std::function<std::string(std::string_view)>& make_line) {
    auto failure = [&](const char* what) {
        return config_error("receipt log " + path + ": " + what + ": " + std::strerror(errno));
    };
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) throw failure("cannot open");
    struct closer {
        int fd;
        ~closer() { ::close(fd); }  // also releases the lock
    } guard{fd};
    while (::flock(fd, LOCK_EX) != 0)
        if (errno != EINTR) throw failure("cannot lock");
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw failure("cannot stat");
    const off_t size = st.st_size;
    std::string last;
    if (size > 0) {
        // The last line: back from the final newline to the one before it.
        constexpr off_t max_line = off_t(receipt_json_limits.max_bytes) + 4096;
        off_t start = size - 1;
        char end_byte = 0;
        if (::pread(fd, &end_byte, 1, start) != 1) throw failure("cannot read");
        if (end_byte != '\n')
            throw config_error("receipt log " + path +
                               " ends in a partial line: not appending (check it with verify-log)");
        char buf[4096];
        while (start > 0) {
            const off_t from = start >= off_t(sizeof buf) ? start - off_t(sizeof buf) : 0;
            const auto n = ::pread(fd, buf, static_cast<std::size_t>(start - from), from);
            if (n != start - from) throw failure("cannot read");
            off_t i = n;
            while (i > 0 && buf[i - 1] != '\n') --i;
            if (i > 0) {
                start = from + i;
                break;
            }
            start = from;
            if (size - start > max_line) throw config_error("receipt log " + path + ": its last line is too long");
        }
        last.resize(static_cast<std::size_t>(size - 1 - start));
        if (!last.empty() && ::pread(fd, last.data(), last.size(), start) != static_cast<ssize_t>(last.size()))
            throw failure("cannot read");
    }
    const std::string line = make_line(last);
    for (std::size_t done = 0; done < line.size();) {
        const auto n = ::write(fd, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw failure("cannot write");
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) throw failure("cannot sync");
}
}  // namespace tee
#else
namespace tee {
TEE_INLINE void detail::locked_append(const std::string& path, const std::function<std::string(std::string_view)>&) {
    throw config_error("receipt log " + path + ": appending needs file locking, which this platform lacks here");
}
}  // namespace tee
#endif
#endif  // TEE_CLIENT_DEFINITIONS
