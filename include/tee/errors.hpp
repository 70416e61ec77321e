// tee/errors.hpp - the one exception hierarchy of tee-client.
//
// Every failure the library reports is a tee::error. Catch the subclass to
// tell the failure classes apart:
//
//   config_error       bad or missing configuration (e.g. no PLATFORM_API_KEY)
//   transport_error    the HTTP exchange failed; cause() says refused/timeout/tls/...
//   attestation_error  the enclave could not be verified (or a mock answer was
//                      offered to a policy that verifies)
//   protocol_error     the peer's answer is malformed (bad JSON, missing field, ...)
//   service_error      the service refused: {"error": ...} or an HTTP 4xx/5xx
//   signature_error    the answer's signature does not verify, or the signed
//                      fields do not match what was sent
//
// Messages never contain the API key or key material: they are built only
// from fixed text and from data the peer sent us.
#pragma once

#include "tee/detail/prelude.hpp"

#include <stdexcept>
#include <string>
#include <string_view>

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

class error : public std::runtime_error {
public:
    error(error_kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
    error_kind kind() const noexcept { return kind_; }

private:
    error_kind kind_;
};

struct config_error : error {
    explicit config_error(const std::string& what) : error(error_kind::config, what) {}
};

enum class transport_cause { refused, timeout, tls, connection, too_large, other };

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

class transport_error : public error {
public:
    transport_error(transport_cause cause, const std::string& what)
        : error(error_kind::transport, std::string(to_string(cause)) + ": " + what), cause_(cause) {}
    transport_cause cause() const noexcept { return cause_; }

private:
    transport_cause cause_;
};

struct attestation_error : error {
    explicit attestation_error(const std::string& what) : error(error_kind::attestation, what) {}
};

struct protocol_error : error {
    explicit protocol_error(const std::string& what) : error(error_kind::protocol, what) {}
};

// The service answered, but refused: {"error": "..."} (http_status 200) or an
// HTTP 4xx/5xx status. service_message() is the peer's own text (truncated).
class service_error : public error {
public:
    service_error(int http_status, std::string service_message)
        : error(error_kind::service, describe(http_status, service_message)),
          status_(http_status), message_(std::move(service_message)) {}
    int http_status() const noexcept { return status_; }
    const std::string& service_message() const noexcept { return message_; }

private:
    static std::string describe(int status, const std::string& msg) {
        if (status == 200) return "service refused the request: " + msg;
        return "service answered HTTP " + std::to_string(status) + (msg.empty() ? "" : ": " + msg);
    }
    int status_;
    std::string message_;
};

struct signature_error : error {
    explicit signature_error(const std::string& what) : error(error_kind::signature, what) {}
};

}  // namespace tee
