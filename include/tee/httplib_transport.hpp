// tee/httplib_transport.hpp - the default transport: cpp-httplib over
// http:// or https:// with timeouts, an answer-size cap and keep-alive.
//
// One transport keeps a small pool of kept-alive connections, each an
// httplib::Client with a watchdog thread (total_timeout, and, where
// cpp-httplib has no header limits of its own, a bound on the headers it
// reads). A request takes an idle connection (the most
// recently used: a program that sends one request at a time reuses one warm
// connection), opens another while fewer than
// httplib_options::max_connections are open, or else waits for one, within
// its total_timeout. So threads sharing one client send in parallel, on up to
// max_connections connections; every connection is set up alike (timeouts,
// certificate verification, the pin).
//
// https:// verifies the server certificate and host name against the system CA
// store (or httplib_options::ca_file), and optionally pins the server key
// (httplib_options::pinned_spki_sha256: hex SHA-256 of its DER SPKI, which
// survives certificate renewal with the same key). There is no option to
// switch verification off.
//
// cpp-httplib versions (CPPHTTPLIB_VERSION): 0.19 and later bound a whole
// answer themselves (set_max_timeout), 0.22 and later the headers
// (CPPHTTPLIB_HEADER_MAX_COUNT / _LENGTH); with those, this transport uses
// them and does not count header bytes. The watchdog's deadline stays on every
// version: httplib's own total timeout does not cover the connect and the TLS
// handshake. Which bound holds where: docs/reliability.md.
//
// The other trap: servers that write an answer's headers and body in two
// writes without TCP_NODELAY (Python's http.server, Werkzeug) send the body
// only once the headers are acknowledged, and on a kept-alive connection Linux
// delays that ACK by 40 ms: every request would take 40 ms more. So once the
// headers are read, the request's socket acknowledges them at once
// (request_watchdog::headers_received; Linux only, see tee/detail/platform.hpp).
// Our own requests go out with TCP_NODELAY for the same reason in reverse.
#pragma once

#include "tee/detail/prelude.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tee/detail/platform.hpp"

#if !defined(TEE_PLATFORM_POSIX_SOCKETS)
#error \
    "tee/httplib_transport.hpp needs POSIX sockets; elsewhere include <tee/core.hpp> and bring a transport (docs/policies.md)"
#endif

#include <httplib.h>
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#endif

#include "tee/concepts.hpp"
#include "tee/encoding.hpp"
#include "tee/errors.hpp"

namespace tee {

// What only this transport has, beside the timeouts and the answer cap of
// transport_options: its connection pool and its TLS trust.
struct httplib_options : transport_options {
    httplib_options() = default;
    httplib_options(const transport_options& common) : transport_options(common) {}  // NOLINT: implicit on purpose

    std::size_t max_connections = 4;  // requests in flight at once on one transport (one kept-alive
                                      // connection each); more wait, within total_timeout
    std::string ca_file;              // https: trust this CA bundle (PEM) instead of the system store
    std::string pinned_spki_sha256;   // https: hex SHA-256 of the server's DER SPKI; empty = no pin
};

namespace detail {
// "0.53.1" -> 53001 (major * 1'000'000 + minor * 1'000 + patch).
constexpr long httplib_version_number(const char* v) {
    long parts[3] = {0, 0, 0};
    for (int i = 0; *v != '\0' && i < 3; ++v) {
        if (*v == '.')
            ++i;
        else if (*v >= '0' && *v <= '9')
            parts[i] = parts[i] * 10 + (*v - '0');
        else
            break;
    }
    return parts[0] * 1'000'000 + parts[1] * 1'000 + parts[2];
}
}  // namespace detail

// The cpp-httplib this program was compiled against, and what it bounds itself.
inline constexpr long httplib_version = detail::httplib_version_number(CPPHTTPLIB_VERSION);
inline constexpr bool httplib_has_max_timeout = httplib_version >= 19'000;  // Client::set_max_timeout
#if defined(CPPHTTPLIB_HEADER_MAX_COUNT)
inline constexpr bool httplib_limits_headers = true;  // 0.22 on: CPPHTTPLIB_HEADER_MAX_COUNT lines of _LENGTH
#else
inline constexpr bool httplib_limits_headers = false;
#endif

struct parsed_url {
    std::string scheme;       // "http" or "https"
    std::string host_port;    // "host" or "host:port"
    std::string path_prefix;  // "" or "/prefix" (no trailing slash)
};

// Splits TEE_TLS_URL-style base URLs. Throws config_error for anything else.
parsed_url parse_base_url(std::string_view url);

// The transport errors of httplib_transport whose words a simulated transport
// (tee::testing::fault_transport) repeats, made in one place: "<where>: <what>",
// where is "METHOD host:port/path", times in seconds as seconds() writes them.
namespace transport_failure {
transport_error refused(const std::string& where);
transport_error no_answer(const std::string& where, std::chrono::milliseconds read_timeout);
transport_error not_complete(const std::string& where, std::chrono::milliseconds total_timeout);
transport_error closed(const std::string& where);
transport_error too_large(const std::string& where, std::size_t max_answer_bytes);
std::string seconds(std::chrono::milliseconds ms);  // "1.5", "120", "0.05"
}  // namespace transport_failure

namespace detail {
// Watches the request in flight on one connection, from a thread of its own,
// and cuts it when it runs past transport_options::total_timeout or takes in
// more than an answer may. cpp-httplib before 0.19 and 0.22 limits neither
// (later versions bound the answer's reads and its headers themselves, but
// not the connect and the TLS handshake):
// - its timeouts are per step (each read, each wait of the connect and of the
//   TLS handshake), so a server that drips a byte at a time never trips them;
// - it keeps every header it reads, each line however long, so a server that
//   sends headers (or chunk-size lines) without end fills the memory. Bodies
//   are capped by httplib_transport's content receiver; this caps the rest.
// While a request is in flight, the thread checks every `check_every`:
// - past the deadline: verdict::timed_out;
// - where counts_headers (Linux, and a cpp-httplib without header limits): the
//   bytes httplib has read from the request's socket (platform::bytes_read:
//   received minus still queued; headers, framing, TLS included) above
//   `header_allowance` before the first body byte, or above twice
//   max_answer_bytes plus that allowance after: verdict::too_large. Between two
//   checks a server can send what the link carries in `check_every`: a bound,
//   not an exact cap.
// Cutting: the sockets the request opened (a connect, a TLS handshake) are shut
// down through dup()s of them, since httplib connects and shakes hands holding
// the lock its stop() takes (a dup() is ours: no other thread closes it and
// reuses its number); then httplib::Client::stop() ends a request in flight
// and closes the connection.
class request_watchdog {
public:
    using clock = std::chrono::steady_clock;
    enum class verdict { in_time, timed_out, too_large };
    static constexpr std::chrono::milliseconds check_every{10};
    static constexpr std::uint64_t header_allowance = 256u << 10;
    // Whether this watchdog counts the bytes of an answer: only where the
    // system can say (platform::bytes_read_known) and httplib does not bound
    // the headers itself.
    static constexpr bool counts_headers = platform::bytes_read_known && !httplib_limits_headers;
    using socket_handle = platform::socket_handle;

    request_watchdog(httplib::Client& client, std::size_t max_answer_bytes);
    ~request_watchdog();
    request_watchdog(const request_watchdog&) = delete;
    request_watchdog& operator=(const request_watchdog&) = delete;

    void arm(clock::time_point deadline);
    // The content receiver's first call: the headers are complete.
    void body_started() noexcept { body_.store(true, std::memory_order_relaxed); }
    // The response handler's call, once the headers are read: acknowledges them
    // at once on the request's socket (platform::acknowledge_now; why: the
    // header comment). Not before the request is sent: sending turns delayed
    // ACKs back on.
    void headers_received() noexcept;
    // The request is over. Keeps a dup() of the socket httplib keeps alive for
    // the next request; where httplib dropped the connection, closes ours too,
    // with a reset (platform::close_dropped): held, or closed with a FIN after a
    // cut, the connection lives on in the kernel, and a server still sending
    // into it blocks on a full window instead of learning nobody reads.
    verdict disarm();
    // httplib's socket-options hook: called on the requesting thread for each
    // socket the request opens, before it connects.
    void socket_opened(socket_handle fd) noexcept;
    // Bytes of the stream read from `fd` so far, by whoever reads it; 0 if the
    // system cannot say (platform::bytes_read).
    static std::uint64_t bytes_read(socket_handle fd) noexcept { return platform::bytes_read(fd); }
    // bytes_read() now minus at `mark`; 0 when now reads below the mark, as it
    // may for a moment (bytes arriving between its two system calls).
    static constexpr std::uint64_t read_since(std::uint64_t now, std::uint64_t mark) noexcept {
        return now > mark ? now - mark : 0;
    }

private:
    void run();
    bool over_limit();      // needs mutex_
    void cut(verdict why);  // needs mutex_

    httplib::Client& client_;
    const std::uint64_t max_read_;  // after the first body byte
    std::mutex mutex_;
    std::condition_variable cv_;
    bool quit_ = false, armed_ = false;
    verdict verdict_ = verdict::in_time;
    clock::time_point deadline_{};
    clock::time_point sleeping_until_ = clock::time_point::max();  // what run() waits for
    std::atomic<bool> body_{false};
    std::mutex sockets_mutex_;                  // guards the four below; taken after mutex_, never before it
    std::vector<socket_handle> opened_;         // dup()s of the sockets the request in flight opened
    socket_handle kept_ = platform::no_socket;  // dup() of the connection's socket, from an earlier request
    std::uint64_t kept_read_at_arm_ = 0;
    bool cut_ = false;  // a socket opened from now on fails at once
    std::thread thread_;
};

// The parts of cpp-httplib's API that differ between versions, used from
// templates so that only what this version has is compiled.
template <class Client>
void set_total_timeout(Client& client, std::chrono::milliseconds total) {
    if constexpr (httplib_has_max_timeout) client.set_max_timeout(total);
}
template <class Request>
void start_total_timeout(Request& req) {  // Client::send(Request&) leaves it to the caller
    if constexpr (httplib_has_max_timeout) req.start_time_ = std::chrono::steady_clock::now();
}
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
template <class Client>
SSL_CTX* openssl_context(Client& client) {  // ssl_context() in older versions, tls_context() (a void*) in current ones
    if constexpr (requires { client.ssl_context(); })
        return client.ssl_context();
    else
        return static_cast<SSL_CTX*>(client.tls_context());
}
#endif

// One kept-alive connection of an httplib_transport's pool, and the watchdog of
// the request in flight on it.
struct pooled_connection {
    std::unique_ptr<httplib::Client> client;
    std::unique_ptr<request_watchdog> watchdog;  // watches *client: destroyed first
};
}  // namespace detail

class httplib_transport {
public:
    // From the common options alone (what tee::client<> hands it), the pool and
    // TLS settings at their defaults; or with those set.
    explicit httplib_transport(const transport_options& opt) : httplib_transport(httplib_options(opt)) {}
    explicit httplib_transport(const httplib_options& opt);

    http_response get(std::string_view path) { return send("GET", path, {}); }
    http_response post_json(std::string_view path, std::string_view body) { return send("POST", path, body); }

    const httplib_options& options() const noexcept { return opt_; }

    // Whether the headers of an answer are bounded in this build: by cpp-httplib
    // itself (0.22 on), or by the watchdog's byte count (the Linux path).
    static constexpr bool bounds_headers = httplib_limits_headers || detail::request_watchdog::counts_headers;

    // Connections open now, idle or carrying a request: 1 to options().max_connections.
    std::size_t open_connections() const;

private:
    using clock = std::chrono::steady_clock;
    using connection = detail::pooled_connection;
    struct pool_state {
        std::mutex mutex;
        std::condition_variable returned;
        std::vector<std::unique_ptr<connection>> idle;  // the most recently used last
        std::size_t open = 0;                           // idle + carrying a request
    };

    http_response send(const char* method, std::string_view path, std::string_view body);

    std::unique_ptr<connection> open_connection() const;
    // An idle connection, a new one, or the first one given back before `deadline`
    // (then transport_error timeout, naming `where`).
    std::unique_ptr<connection> acquire(clock::time_point deadline, const std::string& where);
    void give_back(std::unique_ptr<connection> c) noexcept;
    transport_error no_connection_free(const std::string& where) const;

    transport_error map_error(httplib::Error err, const std::string& where,
                              std::chrono::steady_clock::duration elapsed) const;

#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
    // httplib verifies the chain itself (SSL_get_verify_result after the
    // handshake); we add the pin to that same verification, so a mismatch is
    // reported like any other certificate failure and the handshake never
    // carries a request.
    void pin_server_key(httplib::Client& client) const;

    static int verify_with_pin(X509_STORE_CTX* store, void* arg);
#endif

    httplib_options opt_;
    parsed_url url_;
    std::unique_ptr<std::vector<std::uint8_t>> pin_;  // stable address for the OpenSSL callbacks
    std::unique_ptr<pool_state> pool_;                // destroyed before pin_
};

static_assert(transport<httplib_transport>);

// ---- definitions (header-only: inline in every file; TEE_CLIENT_COMPILED_LIB:
// compiled once in src/tee_client.cpp; see tee/detail/prelude.hpp) ----
#if defined(TEE_CLIENT_DEFINITIONS)
TEE_INLINE parsed_url parse_base_url(std::string_view url) {
    parsed_url out;
    auto sep = url.find("://");
    if (sep == std::string_view::npos) throw config_error("enclave URL must start with http:// or https://");
    out.scheme = std::string(url.substr(0, sep));
    if (out.scheme != "http" && out.scheme != "https")
        throw config_error("enclave URL scheme must be http or https, not '" + out.scheme + "'");
    std::string_view rest = url.substr(sep + 3);
    auto slash = rest.find('/');
    out.host_port = std::string(rest.substr(0, slash));
    if (out.host_port.empty()) throw config_error("enclave URL has no host");
    if (out.host_port.find_first_of("@?# ") != std::string::npos)
        throw config_error("enclave URL host part may not contain credentials, queries or spaces");
    if (slash != std::string_view::npos) {
        out.path_prefix = std::string(rest.substr(slash));
        while (!out.path_prefix.empty() && out.path_prefix.back() == '/') out.path_prefix.pop_back();
    }
    return out;
}

TEE_INLINE detail::request_watchdog::request_watchdog(httplib::Client& client, std::size_t max_answer_bytes)
    : client_(client),
      max_read_(max_answer_bytes > (UINT64_MAX - header_allowance) / 2
                    ? UINT64_MAX
                    : 2 * std::uint64_t{max_answer_bytes} + header_allowance),
      thread_([this] { run(); }) {}

TEE_INLINE detail::request_watchdog::~request_watchdog() {
    {
        std::lock_guard lock(mutex_);
        quit_ = true;
    }
    cv_.notify_one();
    thread_.join();
    for (socket_handle fd : opened_) platform::close(fd);
    if (kept_ != platform::no_socket) platform::close(kept_);
}

// The thread must look at a new request within check_every (and by its
// deadline). Sleeping until earlier than that already, it is not woken: in a
// program chatting back to back it keeps its 10 ms rhythm, and a chat costs
// no thread switch here (two per chat cost ~2-3% of a chat's CPU).
TEE_INLINE void detail::request_watchdog::arm(clock::time_point deadline) {
    bool wake;
    {
        std::lock_guard lock(mutex_);
        deadline_ = deadline;
        armed_ = true;
        verdict_ = verdict::in_time;
        body_.store(false, std::memory_order_relaxed);
        {
            std::lock_guard sockets(sockets_mutex_);
            kept_read_at_arm_ = counts_headers && kept_ != platform::no_socket ? bytes_read(kept_) : 0;
        }
        wake = std::min(deadline, clock::now() + check_every) < sleeping_until_;
    }
    if (wake) cv_.notify_one();
}

TEE_INLINE detail::request_watchdog::verdict detail::request_watchdog::disarm() {
    verdict why;
    {
        std::lock_guard lock(mutex_);  // a cut in progress holds mutex_: it is over once we have it
        armed_ = false;
        why = verdict_;
    }
    const bool still_open = client_.is_socket_open() != 0;  // not armed: no cut can race this
    std::lock_guard sockets(sockets_mutex_);
    if (!opened_.empty()) {  // the last one opened is the one httplib connected, if any
        if (kept_ != platform::no_socket) platform::close(kept_);
        kept_ = opened_.back();
        opened_.pop_back();
        for (socket_handle fd : opened_) platform::close(fd);  // httplib keeps or closes its own descriptors
        opened_.clear();
    }
    if (!still_open && kept_ != platform::no_socket) {
        platform::close_dropped(kept_);
        kept_ = platform::no_socket;
    }
    cut_ = false;
    return why;
}

TEE_INLINE void detail::request_watchdog::socket_opened(socket_handle fd) noexcept {
    std::lock_guard lock(sockets_mutex_);
    if (!cut_) {
        const socket_handle watch = platform::duplicate(fd);
        if (watch != platform::no_socket) {
            try {
                opened_.push_back(watch);
                return;
            } catch (...) {  // bad_alloc: treated as a socket we cannot watch
                platform::close(watch);
            }
        }
    }
    // Past the deadline (a host with several addresses), or a socket we cannot
    // watch: it must not connect. /dev/null takes its descriptor's place, so the
    // connect fails at once and httplib closes its own descriptor as usual.
    platform::disable(fd);
}

TEE_INLINE void detail::request_watchdog::headers_received() noexcept {
    std::lock_guard sockets(sockets_mutex_);
    if (!opened_.empty())
        platform::acknowledge_now(opened_.back());  // the socket httplib connected
    else if (kept_ != platform::no_socket)
        platform::acknowledge_now(kept_);
}

TEE_INLINE bool detail::request_watchdog::over_limit() {
    if constexpr (!counts_headers) return false;
    std::lock_guard sockets(sockets_mutex_);
    std::uint64_t read = 0;
    if (!opened_.empty())
        read = bytes_read(opened_.back());  // a new connection: all of it is this request's
    else if (kept_ != platform::no_socket)  // a kept-alive one: what it read since arm()
        read = read_since(bytes_read(kept_), kept_read_at_arm_);
    return read > (body_.load(std::memory_order_relaxed) ? max_read_ : header_allowance);
}

TEE_INLINE void detail::request_watchdog::cut(verdict why) {
    verdict_ = why;
    armed_ = false;
    {
        std::lock_guard sockets(sockets_mutex_);
        cut_ = true;
        for (socket_handle fd : opened_) platform::shutdown_both(fd);  // ends a connect or handshake
    }
    client_.stop();  // waits for that to give up, then cuts a request in flight
}

TEE_INLINE void detail::request_watchdog::run() {
    std::unique_lock lock(mutex_);
    while (!quit_) {
        if (!armed_) {
            sleeping_until_ = clock::time_point::max();
            cv_.wait(lock);
            continue;
        }
        const auto now = clock::now();
        if (now >= deadline_) {
            cut(verdict::timed_out);
        } else if (over_limit()) {
            cut(verdict::too_large);
        } else {
            sleeping_until_ = std::min(deadline_, now + check_every);
            cv_.wait_until(lock, sleeping_until_);
        }
    }
}

TEE_INLINE httplib_transport::httplib_transport(const httplib_options& opt)
    : opt_(opt), url_(parse_base_url(opt.base_url)), pool_(std::make_unique<pool_state>()) {
    if (opt_.max_connections == 0) throw config_error("transport_options::max_connections must be at least 1");
    if (url_.scheme == "https") {
#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
        throw config_error("https:// needs cpp-httplib built with OpenSSL (CPPHTTPLIB_OPENSSL_SUPPORT)");
#endif
        if (!opt_.pinned_spki_sha256.empty()) {
            auto pin = from_hex(opt_.pinned_spki_sha256);
            if (!pin || pin->size() != 32)
                throw config_error("pinned server key must be 64 hex digits (SHA-256 of the SPKI)");
            pin_ = std::make_unique<std::vector<std::uint8_t>>(std::move(*pin));
        }
    } else if (!opt_.pinned_spki_sha256.empty() || !opt_.ca_file.empty()) {
        throw config_error("a CA file or a pinned server key needs an https:// URL");
    }
    pool_->idle.reserve(1);
    pool_->idle.push_back(open_connection());  // no I/O: httplib connects on the first request
    pool_->open = 1;
}

TEE_INLINE std::size_t httplib_transport::open_connections() const {
    std::lock_guard lock(pool_->mutex);
    return pool_->open;
}

TEE_INLINE std::unique_ptr<detail::pooled_connection> httplib_transport::open_connection() const {
    using namespace std::chrono;
    auto c = std::make_unique<connection>();
    c->client = std::make_unique<httplib::Client>(url_.scheme + "://" + url_.host_port);
    httplib::Client& client = *c->client;
    client.set_connection_timeout(duration_cast<microseconds>(opt_.connect_timeout));
    client.set_read_timeout(duration_cast<microseconds>(opt_.read_timeout));
    client.set_write_timeout(duration_cast<microseconds>(opt_.write_timeout));
    detail::set_total_timeout(client, opt_.total_timeout);  // httplib's own, where it has one
    client.set_keep_alive(true);
    // Headers and body go out in separate writes: without TCP_NODELAY, Nagle
    // holds the body until the server's delayed ACK (40 ms per request).
    client.set_tcp_nodelay(true);
    client.set_follow_location(false);  // a redirect is not followed to another host
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
    if (url_.scheme == "https") {
        client.enable_server_certificate_verification(true);
        if (!opt_.ca_file.empty()) client.set_ca_cert_path(opt_.ca_file);
        if (pin_) pin_server_key(client);
    }
#endif
    c->watchdog = std::make_unique<detail::request_watchdog>(client, opt_.max_answer_bytes);
    client.set_socket_options([w = c->watchdog.get()](socket_t fd) { w->socket_opened(fd); });
    return c;
}

TEE_INLINE std::unique_ptr<detail::pooled_connection> httplib_transport::acquire(clock::time_point deadline,
                                                                                 const std::string& where) {
    std::unique_lock lock(pool_->mutex);
    for (;;) {
        if (!pool_->idle.empty()) {
            auto c = std::move(pool_->idle.back());
            pool_->idle.pop_back();
            return c;
        }
        if (pool_->open < opt_.max_connections) {
            pool_->idle.reserve(pool_->open + 1);  // so that give_back() never allocates
            ++pool_->open;
            lock.unlock();
            try {
                return open_connection();
            } catch (...) {
                lock.lock();
                --pool_->open;
                lock.unlock();
                pool_->returned.notify_one();
                throw;
            }
        }
        const bool any = pool_->returned.wait_until(
            lock, deadline, [this] { return !pool_->idle.empty() || pool_->open < opt_.max_connections; });
        if (!any) throw no_connection_free(where);
    }
}

TEE_INLINE transport_error httplib_transport::no_connection_free(const std::string& where) const {
    return {transport_cause::timeout,
            where + ": no connection free within " + transport_failure::seconds(opt_.total_timeout) + " s (all " +
                std::to_string(opt_.max_connections) + " busy)"};
}

TEE_INLINE void httplib_transport::give_back(std::unique_ptr<connection> c) noexcept {
    {
        std::lock_guard lock(pool_->mutex);
        pool_->idle.push_back(std::move(c));  // no allocation: idle.size() < open <= idle.capacity()
    }
    pool_->returned.notify_one();
}

TEE_INLINE http_response httplib_transport::send(const char* method, std::string_view path, std::string_view body) {
    const auto start = clock::now();
    const auto deadline = start + opt_.total_timeout;

    httplib::Request req;
    req.method = method;
    req.path = url_.path_prefix + std::string(path);
    req.headers.emplace("Accept", "application/json");
    if (std::string_view(method) == "POST") {
        req.headers.emplace("Content-Type", "application/json");
        req.body = std::string(body);
    }
    std::string answer;
    bool too_large = false, too_slow = false, body_seen = false;
    detail::request_watchdog* watchdog = nullptr;  // the connection's, once it has one
    req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
        body_seen = true;
        watchdog->body_started();
        if (answer.size() + len > opt_.max_answer_bytes) return !(too_large = true);
        if (clock::now() > deadline) return !(too_slow = true);
        answer.append(data, len);
        return true;
    };

    if constexpr (detail::platform::acknowledges_now)
        req.response_handler = [&](const httplib::Response&) {
            watchdog->headers_received();
            return true;
        };
    const std::string where = std::string(method) + " " + url_.host_port + req.path;
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    bool ok;
    {
        struct lease {  // gives the connection back however the request ends
            httplib_transport& t;
            std::unique_ptr<connection> c;
            ~lease() { t.give_back(std::move(c)); }
        } conn{*this, acquire(deadline, where)};
        if (clock::now() >= deadline) throw no_connection_free(where);  // freed just at the deadline
        watchdog = conn.c->watchdog.get();
        watchdog->arm(deadline);
        detail::start_total_timeout(req);
        try {
            ok = conn.c->client->send(req, res, err);
        } catch (...) {  // e.g. bad_alloc in content_receiver
            watchdog->disarm();
            throw;
        }
        switch (watchdog->disarm()) {
            case detail::request_watchdog::verdict::timed_out: too_slow = true; break;
            case detail::request_watchdog::verdict::too_large: too_large = true; break;
            case detail::request_watchdog::verdict::in_time: break;
        }
    }
    const auto elapsed = clock::now() - start;
    // httplib's own total timeout (0.19 on) fails the read at the deadline, as
    // the watchdog would have cut it: the same error either way.
    if (!ok && elapsed >= opt_.total_timeout) too_slow = true;
        // Headers beyond httplib's own limits (0.22 on) fail the read after the
        // status line (res.status is -1 until then) and before the body, and before
        // read_timeout (a read that timed out is a timeout, below).
#if defined(CPPHTTPLIB_HEADER_MAX_COUNT)
    if (!ok && !too_slow && err == httplib::Error::Read && res.status > 0 && !body_seen && elapsed < opt_.read_timeout)
        throw transport_error(transport_cause::too_large,
                              where + ": answer exceeds cpp-httplib's header limits (" +
                                  std::to_string(CPPHTTPLIB_HEADER_MAX_COUNT) + " lines of " +
                                  std::to_string(CPPHTTPLIB_HEADER_MAX_LENGTH) + " bytes), or ends in them");
#endif

    if (too_large) throw transport_failure::too_large(where, opt_.max_answer_bytes);
    if (too_slow) throw transport_failure::not_complete(where, opt_.total_timeout);
    if (!ok || err != httplib::Error::Success) throw map_error(err, where, elapsed);
    if (res.status == 0) throw transport_error(transport_cause::other, where + ": no HTTP status");
    return {res.status, std::move(answer)};
}

TEE_INLINE transport_error httplib_transport::map_error(httplib::Error err, const std::string& where,
                                                        std::chrono::steady_clock::duration elapsed) const {
    using httplib::Error;
    switch (err) {
        case Error::Connection:
            // httplib reports refused, unreachable and connect timeout alike; the
            // elapsed time tells a connect timeout apart.
            if (elapsed >= opt_.connect_timeout)
                return {transport_cause::timeout,
                        where + ": no connection within " + transport_failure::seconds(opt_.connect_timeout) + " s"};
            return transport_failure::refused(where);
        case Error::ConnectionTimeout:
            return {transport_cause::timeout,
                    where + ": no connection within " + transport_failure::seconds(opt_.connect_timeout) + " s"};
        case Error::Read:
            if (elapsed >= opt_.read_timeout) return transport_failure::no_answer(where, opt_.read_timeout);
            return transport_failure::closed(where);
        case Error::Write: return {transport_cause::connection, where + ": could not send the request"};
        case Error::SSLConnection: return {transport_cause::tls, where + ": TLS handshake failed"};
        case Error::SSLLoadingCerts: return {transport_cause::tls, where + ": could not load the CA certificates"};
        case Error::SSLServerVerification:
            return {transport_cause::tls,
                    where + ": server certificate did not verify" +
                        (opt_.pinned_spki_sha256.empty() ? "" : " (or its key is not the pinned one)")};
        default: return {transport_cause::other, where + ": " + httplib::to_string(err)};
    }
}

#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
TEE_INLINE void httplib_transport::pin_server_key(httplib::Client& client) const {
    SSL_CTX_set_cert_verify_callback(detail::openssl_context(client), &verify_with_pin, pin_.get());
}

TEE_INLINE int httplib_transport::verify_with_pin(X509_STORE_CTX* store, void* arg) {
    if (X509_verify_cert(store) != 1) return 0;
    const auto& pin = *static_cast<const std::vector<std::uint8_t>*>(arg);
    EVP_PKEY* key = X509_get0_pubkey(X509_STORE_CTX_get0_cert(store));
    unsigned char* der = nullptr;
    int len = key ? i2d_PUBKEY(key, &der) : -1;
    unsigned char digest[32];
    bool match = len > 0 && SHA256(der, static_cast<std::size_t>(len), digest) != nullptr &&
        CRYPTO_memcmp(digest, pin.data(), 32) == 0;
    OPENSSL_free(der);
    if (match) return 1;
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
}
#endif  // CPPHTTPLIB_OPENSSL_SUPPORT

TEE_INLINE std::string transport_failure::seconds(std::chrono::milliseconds ms) {
    auto s = std::to_string(static_cast<double>(ms.count()) / 1000.0);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
}

TEE_INLINE transport_error transport_failure::refused(const std::string& where) {
    return {transport_cause::refused, where + ": could not connect (refused or unreachable)"};
}

TEE_INLINE transport_error transport_failure::no_answer(const std::string& where,
                                                        std::chrono::milliseconds read_timeout) {
    return {transport_cause::timeout, where + ": no answer within " + seconds(read_timeout) + " s"};
}

TEE_INLINE transport_error transport_failure::not_complete(const std::string& where,
                                                           std::chrono::milliseconds total_timeout) {
    return {transport_cause::timeout, where + ": answer not complete within " + seconds(total_timeout) + " s"};
}

TEE_INLINE transport_error transport_failure::closed(const std::string& where) {
    return {transport_cause::connection, where + ": connection closed before a complete answer"};
}

TEE_INLINE transport_error transport_failure::too_large(const std::string& where, std::size_t max_answer_bytes) {
    return {transport_cause::too_large, where + ": answer exceeds " + std::to_string(max_answer_bytes) + " bytes"};
}
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee
