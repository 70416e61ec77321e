// tee/errors.hpp - the one exception hierarchy of tee-client.
//
// Every failure the library reports is a tee::error. Catch the subclass to
// tell the failure classes apart:
//
//   config_error       bad or missing configuration (e.g. no PLATFORM_API_KEY)
//   transport_error    the HTTP exchange failed; cause() says refused/timeout/tls/...
//   attestation_error  the enclave could not be verified (or a mock answer was
//                      offered to a policy that verifies); reason() says which check
//   protocol_error     the peer's answer is malformed (bad JSON, missing field, ...)
//   service_error      the service refused: {"error": ...} or an HTTP 4xx/5xx
//   signature_error    the answer's signature does not verify, or the signed
//                      fields do not match what was sent; reason() says which check
//   replay_error       (a signature_error) correctly signed, but not the answer
//                      to this prompt now: a replayed or misrouted answer
//
// What to test and branch on: the type, kind(), attestation_error::reason(),
// signature_error::reason(), transport_error::cause() and
// service_error::http_status(). These are stable:
// a release may reword a message, not change a reason. what() is for people.
//
// Messages never contain the API key or key material: they are built only
// from fixed text and from data the peer sent us. A peer may echo the key, so
// tee::client redacts every error that leaves chat() or attest() in place
// (error::redact) and rethrows the same object: a type derived from these
// (say, by a policy of your own) arrives as that type.
#pragma once

#include "tee/detail/prelude.hpp"

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "tee/detail/redaction.hpp"

namespace tee {

enum class error_kind { config, transport, attestation, protocol, service, signature };

constexpr std::string_view to_string(error_kind k) noexcept {
    switch (k) {
        case error_kind::config: return "configuration";
        case error_kind::transport: return "transport";
        case error_kind::attestation: return "attestation";
        case error_kind::protocol: return "protocol";
        case error_kind::service: return "service";
        case error_kind::signature: return "signature";
    }
    return "unknown";
}

// The base: a std::runtime_error (catch that and you catch these too) that
// owns its message, so that redact() can rewrite it in place.
class error : public std::runtime_error {
public:
    error(error_kind kind, std::string what) : std::runtime_error("tee::error"), kind_(kind), what_(std::move(what)) {}
    error_kind kind() const noexcept { return kind_; }
    const char* what() const noexcept override { return what_.c_str(); }

    // Replaces every occurrence of `secret` in the message, as is or
    // JSON-escaped (detail::secret_end), by "[API key redacted]"; nothing else
    // changes. An empty secret changes nothing. A subclass that keeps more
    // text (service_error) redacts that too; one of your own may override it.
    virtual void redact(std::string_view secret);

private:
    error_kind kind_;
    std::string what_;
};

struct config_error : error {
    explicit config_error(std::string what) : error(error_kind::config, std::move(what)) {}
};

// Why no HTTP answer arrived. Stable: test and branch on it, not on the text.
enum class transport_cause {
    refused,     // could not connect: refused, or the host is unreachable
    timeout,     // no connection, answer or complete answer within transport_options' times
    tls,         // the TLS handshake, the CA certificates or the server's certificate or key
    connection,  // the connection closed before a complete answer, or the request was not sent
    too_large,   // the answer exceeds transport_options::max_answer_bytes (or the header limits)
    other,       // anything else (e.g. no HTTP status)
};

constexpr std::string_view to_string(transport_cause c) noexcept {
    switch (c) {
        case transport_cause::refused: return "connection refused";
        case transport_cause::timeout: return "timeout";
        case transport_cause::tls: return "TLS failure";
        case transport_cause::connection: return "connection failure";
        case transport_cause::too_large: return "answer too large";
        case transport_cause::other: return "transport failure";
    }
    return "transport failure";
}

// what() is "<to_string(cause)>: <what was passed>".
class transport_error : public error {
public:
    transport_error(transport_cause cause, const std::string& what)
        : error(error_kind::transport, std::string(to_string(cause)) + ": " + what), cause_(cause) {}
    transport_cause cause() const noexcept { return cause_; }

private:
    transport_cause cause_;
};

// Which attestation check failed. Stable: test and branch on it, not on the
// text. Thrown by nitro_attestation, mock_attestation, the image policies
// (tee/image_policy.hpp), receipts and the client's attestation exchange.
enum class attestation_reason {
    malformed,        // the answer or document cannot be read: its structure, encoding,
                      // sizes or fields (also: a Nitro document offered to mock_attestation)
    mock_refused,     // a mock attestation where a verified one is required (a downgrade)
    signature,        // the COSE signature does not verify with the leaf certificate's key
    chain,            // the certificate chain does not lead to the trusted root, or is not
                      // valid now and at the document's signed time
    future,           // the document is signed further in the future than max_clock_skew
    expired,          // the chain has expired since the document was signed, and the
                      // document is older than max_document_age
    too_old,          // the document is older than nitro_options::max_age
    key_binding,      // the enclave key is missing, not bound by user_data, not a P-384
                      // key, or not the key the well-known endpoint advertises
    debug_mode,       // PCR0 is all zeros (a debug-mode enclave) and allow_debug_mode is off
    pcr_mismatch,     // a pinned PCR differs or is absent
    nonce,            // the document's nonce is not the expected one
    no_image_policy,  // a genuine document, but no image policy is chosen (the message
                      // shows its PCR0..2 to pin)
    image_policy,     // the chosen image policy refuses the image (not on the allowlist;
                      // the PCRs the known-enclaves store needs are absent; no service URL)
    image_changed,    // the known-enclaves store knows another image at this URL
    allowlist,        // the signed allowlist itself is refused: its signature, or it is
                      // not valid yet or has expired
    rollback,         // the allowlist's version is lower than one accepted before
    other,            // an attestation_error built without a reason (a policy of your own)
};

constexpr std::string_view to_string(attestation_reason r) noexcept {
    switch (r) {
        case attestation_reason::malformed: return "malformed";
        case attestation_reason::mock_refused: return "mock_refused";
        case attestation_reason::signature: return "signature";
        case attestation_reason::chain: return "chain";
        case attestation_reason::future: return "future";
        case attestation_reason::expired: return "expired";
        case attestation_reason::too_old: return "too_old";
        case attestation_reason::key_binding: return "key_binding";
        case attestation_reason::debug_mode: return "debug_mode";
        case attestation_reason::pcr_mismatch: return "pcr_mismatch";
        case attestation_reason::nonce: return "nonce";
        case attestation_reason::no_image_policy: return "no_image_policy";
        case attestation_reason::image_policy: return "image_policy";
        case attestation_reason::image_changed: return "image_changed";
        case attestation_reason::allowlist: return "allowlist";
        case attestation_reason::rollback: return "rollback";
        case attestation_reason::other: return "other";
    }
    return "other";
}

class attestation_error : public error {
public:
    attestation_error(attestation_reason reason, std::string what)
        : error(error_kind::attestation, std::move(what)), reason_(reason) {}
    // reason() == other: for policies of your own (the library's checks always name one).
    explicit attestation_error(std::string what) : attestation_error(attestation_reason::other, std::move(what)) {}
    attestation_reason reason() const noexcept { return reason_; }

private:
    attestation_reason reason_;
};

struct protocol_error : error {
    explicit protocol_error(std::string what) : error(error_kind::protocol, std::move(what)) {}
};

// The service answered, but refused: {"error": "..."} (http_status 200) or an
// HTTP 4xx/5xx status. service_message() is the peer's own text (truncated).
class service_error : public error {
public:
    service_error(int http_status, std::string service_message)
        : error(error_kind::service, describe(http_status, service_message)),
          status_(http_status),
          message_(std::move(service_message)) {}
    int http_status() const noexcept { return status_; }
    const std::string& service_message() const noexcept { return message_; }
    void redact(std::string_view secret) override;  // the message and service_message()

private:
    static std::string describe(int status, const std::string& msg) {
        if (status == 200) return "service refused the request: " + msg;
        return "service answered HTTP " + std::to_string(status) + (msg.empty() ? "" : ": " + msg);
    }
    int status_;
    std::string message_;
};

// Which answer check failed. Stable: test and branch on it, not on the text.
enum class signature_reason {
    invalid,        // the signature does not verify with the attested key, or cannot be read
    missing,        // Nova: the answer's "sig" is empty (the service failed to sign)
    malleable,      // Nova: s above n/2, the twin of a canonical low-s signature
    wrong_signer,   // Nova: a valid signature by another address than the attested eth_addr
    key_mismatch,   // the answer names or uses an enclave key other than the attested one
    undecryptable,  // the encrypted answer does not open with this exchange's key
    replayed,       // (replay_error) Nova: an answer nonce already seen in this session
    echo_mismatch,  // (replay_error) the signed message, model or platform is not what was sent
    time_window,    // (replay_error) the signed timestamp is outside the answer time window
    other,          // a signature_error built without a reason (a policy of your own)
};

constexpr std::string_view to_string(signature_reason r) noexcept {
    switch (r) {
        case signature_reason::invalid: return "invalid";
        case signature_reason::missing: return "missing";
        case signature_reason::malleable: return "malleable";
        case signature_reason::wrong_signer: return "wrong_signer";
        case signature_reason::key_mismatch: return "key_mismatch";
        case signature_reason::undecryptable: return "undecryptable";
        case signature_reason::replayed: return "replayed";
        case signature_reason::echo_mismatch: return "echo_mismatch";
        case signature_reason::time_window: return "time_window";
        case signature_reason::other: return "other";
    }
    return "other";
}

class signature_error : public error {
public:
    signature_error(signature_reason reason, std::string what)
        : error(error_kind::signature, std::move(what)), reason_(reason) {}
    // reason() == other: for policies of your own (the library's checks always name one).
    explicit signature_error(std::string what) : signature_error(signature_reason::other, std::move(what)) {}
    signature_reason reason() const noexcept { return reason_; }

private:
    signature_reason reason_;
};

// A replayed or misrouted answer: correctly signed, but not the answer to this
// prompt now (another prompt, model or platform; an answer nonce seen before;
// a timestamp outside the answer time window). The client does not attest
// again for it, as it does for other signature_errors.
struct replay_error : signature_error {
    using signature_error::signature_error;
};

// ---- definitions (header-only: inline in every file; TEE_CLIENT_COMPILED_LIB:
// compiled once in src/tee_client.cpp; see tee/detail/prelude.hpp) ----
#if defined(TEE_CLIENT_DEFINITIONS)
TEE_INLINE void error::redact(std::string_view secret) {
    if (!secret.empty()) what_ = detail::redacted_prefix(what_, secret, std::string::npos);
}

TEE_INLINE void service_error::redact(std::string_view secret) {
    error::redact(secret);
    if (!secret.empty()) message_ = detail::redacted_prefix(message_, secret, std::string::npos);
}
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee
