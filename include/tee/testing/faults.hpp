// tee/testing/faults.hpp - named faults of a broken or hostile enclave
// service, for the fault-injection tests (tests/test_faults.cpp) and
// `mock_enclave --fault NAME`. Test code only: nothing here is used by the client.
//
// Two layers of faults (fault_table lists them all, with their names):
//
//  * data faults change the bytes of a correct answer to POST /talk:
//    inject_answer_fault() turns a simulated_enclave's answer into the faulty
//    one (invalid UTF-8 or a lone surrogate in a signed string, JSON nested
//    10,000 deep, a duplicate key, an integer beyond 64 bits, each answer field
//    missing or of the wrong type, a broken signature, a replayed answer, and
//    a large but valid answer for the configurable size cap). Where the defect
//    sits inside the signed "data", the changed data is signed again with the
//    enclave's key, so the signature is valid and the one defect is all that
//    is wrong: the client must name that defect, not a signature failure.
//
//  * transport faults happen below HTTP: connection refused, a connection
//    reset in the middle of the body, a body that never ends, a 100 MB body.
//    fault_transport (below) simulates them in process, without sockets and
//    without sleeping (a simulated clock), and enforces the answer rules of
//    tee::httplib_transport with the same transport_options and the same
//    messages: max_answer_bytes (cause too_large), total_timeout and
//    read_timeout (cause timeout). enclave_server serves them for real over
//    HTTP (server_options::fault): reset-mid-body declares a Content-Length
//    and closes after half of it, endless-body drips a chunked body forever,
//    huge-body streams 100 MB without holding them.
//
// A fault applies to the answers to POST /talk only (attestation works, so
// the fault hits a chat), except connection-refused, which refuses every
// request (fault_transport only: over HTTP it is a port nobody listens on).
#pragma once

#include "tee/detail/prelude.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "tee/concepts.hpp"
#include "tee/errors.hpp"
#include "tee/httplib_transport.hpp"
#include "tee/testing/simulated_enclave.hpp"

namespace tee::testing {

enum class fault {
    none,
    // transport: below HTTP
    connection_refused,
    reset_mid_body,
    endless_body,
    huge_body,
    // the JSON of the answer
    invalid_utf8,
    lone_surrogate,
    deep_nesting,
    duplicate_keys,
    big_integer,
    // an answer field missing
    missing_sig,
    missing_data,
    missing_response,
    missing_message,
    missing_timestamp,
    missing_platform,
    missing_ai_model,
    // an answer field of the wrong type
    wrong_type_sig,
    wrong_type_data,
    wrong_type_response,
    wrong_type_message,
    wrong_type_timestamp,
    wrong_type_platform,
    wrong_type_ai_model,
    // well-formed, but not a valid answer to this prompt now
    bad_signature,
    wrong_message,
    stale_timestamp,
    // not a fault: a valid answer of about fault_sizes::large_answer bytes
    large_answer,
};

enum class fault_layer { none, transport, data };

struct fault_info {
    fault id;
    std::string_view name;  // mock_enclave --fault NAME
    fault_layer layer;
    std::string_view description;
};

inline constexpr fault_info fault_table[] = {
    {fault::none, "none", fault_layer::none, "a correct answer"},
    {fault::connection_refused, "connection-refused", fault_layer::transport,
     "every connection is refused (test transport only; over HTTP: a closed port)"},
    {fault::reset_mid_body, "reset-mid-body", fault_layer::transport,
     "declares the Content-Length of the answer, sends half of it and closes the connection"},
    {fault::endless_body, "endless-body", fault_layer::transport,
     "a chunked body of a few spaces every 50 ms that never ends"},
    {fault::huge_body, "huge-body", fault_layer::transport, "a body of 100 MB (spaces), streamed"},
    {fault::invalid_utf8, "invalid-utf8", fault_layer::data,
     "raw bytes ff fe (invalid UTF-8) inside the signed response"},
    {fault::lone_surrogate, "lone-surrogate", fault_layer::data,
     "a lone \\ud800 escape (no valid code point) inside the signed response"},
    {fault::deep_nesting, "deep-nesting", fault_layer::data, "an array nested 10,000 levels deep inside data"},
    {fault::duplicate_keys, "duplicate-keys", fault_layer::data, "data has the key \"response\" twice"},
    {fault::big_integer, "big-integer", fault_layer::data,
     "the signed timestamp is a 30-digit integer (beyond 64 bits)"},
    {fault::missing_sig, "missing-sig", fault_layer::data, "no \"sig\""},
    {fault::missing_data, "missing-data", fault_layer::data, "no \"data\""},
    {fault::missing_response, "missing-response", fault_layer::data, "signed data without \"response\""},
    {fault::missing_message, "missing-message", fault_layer::data, "signed data without \"message\""},
    {fault::missing_timestamp, "missing-timestamp", fault_layer::data, "signed data without \"timestamp\""},
    {fault::missing_platform, "missing-platform", fault_layer::data, "signed data without \"platform\""},
    {fault::missing_ai_model, "missing-ai-model", fault_layer::data, "signed data without \"ai_model\""},
    {fault::wrong_type_sig, "wrong-type-sig", fault_layer::data, "\"sig\" is a number"},
    {fault::wrong_type_data, "wrong-type-data", fault_layer::data,
     "\"data\" is a string (the JSON text of the object)"},
    {fault::wrong_type_response, "wrong-type-response", fault_layer::data, "signed \"response\" is a number"},
    {fault::wrong_type_message, "wrong-type-message", fault_layer::data, "signed \"message\" is a number"},
    {fault::wrong_type_timestamp, "wrong-type-timestamp", fault_layer::data, "signed \"timestamp\" is a string"},
    {fault::wrong_type_platform, "wrong-type-platform", fault_layer::data, "signed \"platform\" is a number"},
    {fault::wrong_type_ai_model, "wrong-type-ai-model", fault_layer::data, "signed \"ai_model\" is a number"},
    {fault::bad_signature, "bad-signature", fault_layer::data, "the response was changed after signing"},
    {fault::wrong_message, "wrong-message", fault_layer::data, "a validly signed answer to another prompt (a replay)"},
    {fault::stale_timestamp, "stale-timestamp", fault_layer::data,
     "a validly signed answer signed one hour ago (a replay)"},
    {fault::large_answer, "large-answer", fault_layer::data,
     "a valid answer of about 2 MiB (for the configurable size cap)"},
};

constexpr const fault_info& info_of(fault f) {
    for (const auto& i : fault_table)
        if (i.id == f) return i;
    return fault_table[0];
}
constexpr std::string_view fault_name(fault f) { return info_of(f).name; }
constexpr fault_layer layer_of(fault f) { return info_of(f).layer; }

inline std::optional<fault> fault_from_name(std::string_view name) {
    for (const auto& i : fault_table)
        if (i.name == name) return i.id;
    return std::nullopt;
}

// The sizes and pace of the faults.
struct fault_sizes {
    std::size_t huge_body = 100'000'000;              // huge-body: bytes promised and streamed
    std::size_t large_answer = std::size_t{2} << 20;  // large-answer: the body is about this long
    std::size_t nesting_depth = 10'000;               // deep-nesting
    std::chrono::milliseconds drip_interval{50};      // endless-body: a few bytes this often
    std::size_t drip_bytes = 2;
};

namespace detail {

inline constexpr std::string_view fault_marker = "@@tee-fault-marker@@";

inline void replace_once(std::string& text, std::string_view what, std::string_view with) {
    const auto at = text.find(what);
    if (at == std::string::npos) throw std::logic_error("faults: marker not found");
    text.replace(at, what.size(), with);
}

}  // namespace detail

// Turns a correct answer to POST /talk (a simulated_enclave's, signed by
// `signer`) into the faulty one for a data fault. A refusal (a status other
// than 200, or {"error": ...}) is returned unchanged: the faults are about a
// successful answer. Throws std::invalid_argument for a transport fault and
// for an answer in the encrypted form (the faults need the plain "data").
inline http_response inject_answer_fault(fault f, const http_response& correct, const simulated_enclave& signer,
                                         const fault_sizes& sizes = {}) {
    using ojson = nlohmann::ordered_json;  // insertion order, like the service's body
    if (f == fault::none) return correct;
    if (layer_of(f) != fault_layer::data)
        throw std::invalid_argument("faults: " + std::string(fault_name(f)) + " is not a data fault");
    if (correct.status != 200) return correct;
    ojson answer = ojson::parse(correct.body);
    if (!answer.is_object() || answer.contains("error")) return correct;
    if (!answer.contains("sig") || !answer.contains("data") || !answer["data"].is_object())
        throw std::invalid_argument("faults: the answer has no plain sig and data");
    ojson& data = answer["data"];
    if (data.contains("encrypted_data"))
        throw std::invalid_argument("faults: data faults need the plain answer form (not encrypt_response)");

    const std::string marker(detail::fault_marker);
    const std::string quoted_marker = "\"" + marker + "\"";
    auto sign = [&](const ojson& d) { return signer.sign_hex(nlohmann::json(d)); };
    auto resign = [&] { answer["sig"] = sign(data); };
    // The answer's text, with the quoted marker (a string) replaced by raw text.
    auto with_raw = [&](std::string_view raw) {
        std::string body = answer.dump();
        detail::replace_once(body, quoted_marker, raw);
        return body;
    };
    auto out = [&](std::string body) { return http_response{200, std::move(body)}; };

    switch (f) {
        case fault::invalid_utf8:  // the signature is the correct one; the bytes go in after signing
        case fault::lone_surrogate: {
            data["response"] = data["response"].get<std::string>() + marker;
            std::string body = answer.dump();
            detail::replace_once(body, marker, f == fault::invalid_utf8 ? "\xff\xfe" : "\\ud800");
            return out(std::move(body));
        }
        case fault::deep_nesting: {
            data["nested"] = marker;
            std::string deep(sizes.nesting_depth, '[');
            deep.append(sizes.nesting_depth, ']');
            return out(with_raw(deep));
        }
        case fault::duplicate_keys: {
            // {"sig": ..., "data": {"response": "<forged>", <the signed data's fields>}}
            const std::string fields = data.dump();
            return out("{\"sig\":" + ojson(answer["sig"]).dump() +
                       ",\"data\":{\"response\":\"a forged first answer\"," + fields.substr(1) + "}");
        }
        case fault::big_integer: data["timestamp"] = marker; return out(with_raw("123456789012345678901234567890"));
        case fault::missing_sig: answer.erase("sig"); break;
        case fault::missing_data: answer.erase("data"); break;
        case fault::missing_response:
            data.erase("response");
            resign();
            break;
        case fault::missing_message:
            data.erase("message");
            resign();
            break;
        case fault::missing_timestamp:
            data.erase("timestamp");
            resign();
            break;
        case fault::missing_platform:
            data.erase("platform");
            resign();
            break;
        case fault::missing_ai_model:
            data.erase("ai_model");
            resign();
            break;
        case fault::wrong_type_sig: answer["sig"] = 12345; break;
        case fault::wrong_type_data: answer["data"] = data.dump(); break;
        case fault::wrong_type_response:
            data["response"] = 42;
            resign();
            break;
        case fault::wrong_type_message:
            data["message"] = 42;
            resign();
            break;
        case fault::wrong_type_timestamp:
            data["timestamp"] = std::to_string(data["timestamp"].get<std::int64_t>());
            resign();
            break;
        case fault::wrong_type_platform:
            data["platform"] = 42;
            resign();
            break;
        case fault::wrong_type_ai_model:
            data["ai_model"] = 42;
            resign();
            break;
        case fault::bad_signature:
            data["response"] = data["response"].get<std::string>() + " (changed after signing)";
            break;
        case fault::wrong_message:
            data["message"] = "a prompt someone else sent";
            data["response"] = "an answer to a prompt someone else sent";
            resign();
            break;
        case fault::stale_timestamp:
            data["timestamp"] = data["timestamp"].get<std::int64_t>() - 3600;
            resign();
            break;
        case fault::large_answer: {
            const std::size_t now = answer.dump().size();
            const std::size_t pad = sizes.large_answer > now ? sizes.large_answer - now : 0;
            data["response"] = data["response"].get<std::string>() + " " + std::string(pad, 'x');
            resign();
            break;
        }
        default: throw std::logic_error("faults: unhandled data fault");
    }
    return out(answer.dump());
}

// A tee::transport without sockets: requests go straight to a
// simulated_enclave in this process (like examples/in_memory.cpp), and the
// answers to POST /talk carry the selected fault. Transport faults are
// simulated on a simulated clock: an endless body "arrives" drip by drip
// until total_timeout has passed, in no real time; a 100 MB body is offered
// in 64 KiB pieces and refused once it passes max_answer_bytes, never held.
// Every answer, faulty or not, goes through the same rules as in
// tee::httplib_transport (the options' max_answer_bytes, total_timeout and
// read_timeout), with the same causes and messages.
//
// The client owns its transport; the fault is switched through the shared
// control(), which also reports what happened:
//
//   tee::testing::fault_transport t(enclave, fault::huge_body);
//   auto ctl = t.control();
//   tee::client<fault_transport, tee::botan_crypto, tee::mock_attestation> c(cfg, std::move(t), {});
//   c.chat("x");                        // transport_error, cause too_large
//   ctl->active = fault::none;          // the same client chats normally again
class fault_transport {
public:
    struct control_block {
        std::atomic<fault> active{fault::none};
        std::atomic<unsigned> injected{0};          // answers (or refusals) the fault was applied to
        std::atomic<std::size_t> largest_body{0};   // most answer bytes the transport ever held
        std::atomic<std::uint64_t> offered{0};      // body bytes offered by the last faulty answer
        std::atomic<std::int64_t> simulated_ms{0};  // simulated duration of the last faulty answer
    };

    // Satisfies tee::transport's constructibility from the options; a fault
    // transport needs an enclave, so it must be handed to the client built.
    explicit fault_transport(const transport_options&) {
        throw config_error("fault_transport needs a simulated_enclave: pass one to the client's constructor");
    }
    fault_transport(simulated_enclave& enclave, fault f, transport_options opt = {}, fault_sizes sizes = {})
        : enclave_(&enclave),
          opt_(std::move(opt)),
          url_(parse_base_url(opt_.base_url)),
          sizes_(sizes),
          ctl_(std::make_shared<control_block>()) {
        ctl_->active = f;
    }

    http_response get(std::string_view path) { return send("GET", path, {}); }
    http_response post_json(std::string_view path, std::string_view body) { return send("POST", path, body); }

    const transport_options& options() const noexcept { return opt_; }
    const std::shared_ptr<control_block>& control() const noexcept { return ctl_; }

private:
    // The body as httplib_transport receives it: piece by piece, refused once
    // it passes max_answer_bytes, cut once total_timeout has passed.
    class receiver {
    public:
        receiver(const fault_transport& t, std::string where) : t_(t), where_(std::move(where)) {}
        void wait(std::chrono::milliseconds d) {
            if (d > t_.opt_.read_timeout)  // httplib's per-read timeout fires first
                throw transport_failure::no_answer(where_, t_.opt_.read_timeout);
            elapsed_ += d;
        }
        void receive(std::string_view piece) {
            offered_ += piece.size();
            if (body_.size() + piece.size() > t_.opt_.max_answer_bytes)
                throw transport_failure::too_large(where_, t_.opt_.max_answer_bytes);
            if (elapsed_ > t_.opt_.total_timeout) throw transport_failure::not_complete(where_, t_.opt_.total_timeout);
            body_.append(piece);
            std::size_t seen = t_.ctl_->largest_body.load();
            while (seen < body_.size() && !t_.ctl_->largest_body.compare_exchange_weak(seen, body_.size())) {}
        }
        std::string take() { return std::move(body_); }
        std::uint64_t offered() const noexcept { return offered_; }
        std::chrono::milliseconds elapsed() const noexcept { return elapsed_; }

    private:
        const fault_transport& t_;
        std::string where_;
        std::string body_;
        std::uint64_t offered_ = 0;
        std::chrono::milliseconds elapsed_{0};
    };

    http_response send(std::string_view method, std::string_view path, std::string_view body) {
        const std::string where = std::string(method) + " " + url_.host_port + url_.path_prefix + std::string(path);
        const fault f = ctl_->active.load();
        if (f == fault::connection_refused) {
            ++ctl_->injected;
            throw transport_failure::refused(where);
        }
        http_response answer = enclave_->handle(method, path, body);
        receiver rx(*this, where);
        if (f == fault::none || method != "POST" || path != "/talk") {
            rx.receive(answer.body);
            return {answer.status, rx.take()};
        }
        ++ctl_->injected;
        struct report {  // what the faulty answer did, also when it throws
            control_block& c;
            receiver& r;
            ~report() {
                c.offered = r.offered();
                c.simulated_ms = r.elapsed().count();
            }
        } on_exit{*ctl_, rx};
        switch (f) {
            case fault::reset_mid_body:
                rx.receive(std::string_view(answer.body).substr(0, answer.body.size() / 2));
                throw transport_failure::closed(where);
            case fault::endless_body: {
                const std::string drip(std::max<std::size_t>(sizes_.drip_bytes, 1), ' ');
                const auto interval = std::max(sizes_.drip_interval, std::chrono::milliseconds(1));
                for (;;) {  // ends when the simulated clock passes total_timeout
                    rx.wait(interval);
                    rx.receive(drip);
                }
            }
            case fault::huge_body: {
                const std::string piece(64 * 1024, ' ');
                for (std::size_t sent = 0; sent < sizes_.huge_body;) {
                    const std::size_t n = std::min(piece.size(), sizes_.huge_body - sent);
                    rx.receive(std::string_view(piece).substr(0, n));
                    sent += n;
                }
                return {200, rx.take()};
            }
            default: {
                http_response faulty = inject_answer_fault(f, answer, *enclave_, sizes_);
                rx.receive(faulty.body);
                return {faulty.status, rx.take()};
            }
        }
    }

    simulated_enclave* enclave_;
    transport_options opt_;
    parsed_url url_;
    fault_sizes sizes_;
    std::shared_ptr<control_block> ctl_;
};

static_assert(transport<fault_transport>);

}  // namespace tee::testing
