// tee/httplib_transport.hpp - the default transport: cpp-httplib over
// http:// or https:// with timeouts, an answer-size cap and keep-alive.
//
// One transport keeps a small pool of kept-alive connections, each an
// httplib::Client with a watchdog thread for total_timeout. A request takes an
// idle connection (the most recently used: a program that sends one request at
// a time reuses one warm connection), opens another while fewer than
// transport_options::max_connections are open, or else waits for one, within
// its total_timeout. So threads sharing one client send in parallel, on up to
// max_connections connections; every connection is set up alike (timeouts,
// certificate verification, the pin).
//
// https:// verifies the server certificate and host name against the system CA
// store (or transport_options::ca_file), and optionally pins the server key
// (transport_options::pinned_spki_sha256: hex SHA-256 of its DER SPKI, which
// survives certificate renewal with the same key). There is no option to
// switch verification off.
#pragma once

#include "tee/detail/prelude.hpp"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

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

struct parsed_url {
    std::string scheme;       // "http" or "https"
    std::string host_port;    // "host" or "host:port"
    std::string path_prefix;  // "" or "/prefix" (no trailing slash)
};

// Splits TEE_TLS_URL-style base URLs. Throws config_error for anything else.
parsed_url parse_base_url(std::string_view url);

namespace detail {
// Enforces transport_options::total_timeout on a whole exchange. httplib's
// timeouts are per step (each read, each wait of the connect and of the TLS
// handshake), so a server that drips a byte at a time would never trip them.
// One thread per connection sleeps until the deadline of the request in flight
// and, if it is still in flight then, cuts it:
// - sockets the request opened (a connect, a TLS handshake) are shut down
//   through their dup()s: httplib connects and shakes hands holding the lock
//   that its stop() takes, so stop() alone would wait for them to finish;
//   a dup() is ours, so no other thread can close it and reuse its number;
// - then httplib::Client::stop() ends a request in flight on a kept-alive
//   connection and closes the connection.
class request_deadline {
public:
    using clock = std::chrono::steady_clock;
    explicit request_deadline(httplib::Client& client);
    ~request_deadline();
    void arm(clock::time_point deadline);
    // Returns true when the deadline fired during the request.
    bool disarm();
    // httplib's socket-options hook: called on the requesting thread for each
    // socket the request opens, before it connects.
    void socket_opened(int fd) noexcept;

private:
    void run();

    httplib::Client& client_;
    std::mutex m_;
    std::condition_variable cv_;
    bool quit_ = false, armed_ = false, fired_ = false;
    clock::time_point deadline_{};
    clock::time_point sleeping_until_ = clock::time_point::max();  // what run() waits for
    std::mutex sockets_m_;   // guards opened_ and cut_; taken after m_, never before it
    std::vector<int> opened_;  // dup()s of the sockets the request in flight opened
    bool cut_ = false;         // fired: a socket opened from now on fails at once
    std::thread thread_;
};

// One kept-alive connection of an httplib_transport's pool, and the watchdog of
// the request in flight on it.
struct pooled_connection {
    std::unique_ptr<httplib::Client> client;
    std::unique_ptr<request_deadline> deadline;  // watches *client: destroyed first
};
}  // namespace detail

class httplib_transport {
public:
    explicit httplib_transport(const transport_options& opt);

    http_response get(std::string_view path) { return send("GET", path, {}); }
    http_response post_json(std::string_view path, std::string_view body) { return send("POST", path, body); }

    const transport_options& options() const noexcept { return opt_; }

    // Connections open now, idle or carrying a request: 1 to options().max_connections.
    std::size_t open_connections() const;

private:
    using clock = std::chrono::steady_clock;
    using connection = detail::pooled_connection;
    struct pool_state {
        std::mutex m;
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

    static std::string seconds(std::chrono::milliseconds ms);

    transport_options opt_;
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

TEE_INLINE detail::request_deadline::request_deadline(httplib::Client& client)
    : client_(client), thread_([this] { run(); }) {}

TEE_INLINE detail::request_deadline::~request_deadline() {
    {
        std::lock_guard lock(m_);
        quit_ = true;
    }
    cv_.notify_one();
    thread_.join();
    for (int fd : opened_) ::close(fd);
}

// Deadlines only move later (each is start + total_timeout), so the thread,
// sleeping until an earlier one, need not be woken: it wakes then, sees the
// new deadline and sleeps on. Only an idle thread is woken, so a chat costs
// no thread switch here (it did: two per chat, ~2-3% of a chat's CPU).
TEE_INLINE void detail::request_deadline::arm(clock::time_point deadline) {
    bool wake;
    {
        std::lock_guard lock(m_);
        deadline_ = deadline;
        armed_ = true;
        fired_ = false;
        wake = deadline < sleeping_until_;
    }
    if (wake) cv_.notify_one();
}

TEE_INLINE bool detail::request_deadline::disarm() {
    std::lock_guard lock(m_);
    armed_ = false;
    std::lock_guard sockets(sockets_m_);
    for (int fd : opened_) ::close(fd);  // httplib keeps or closes its own descriptor
    opened_.clear();
    cut_ = false;
    return fired_;
}

TEE_INLINE void detail::request_deadline::socket_opened(int fd) noexcept {
    std::lock_guard lock(sockets_m_);
    if (!cut_) {
        const int watch = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (watch >= 0) {
            try {
                opened_.push_back(watch);
                return;
            } catch (...) {  // bad_alloc: treated as a socket we cannot watch
                ::close(watch);
            }
        }
    }
    // Past the deadline (a host with several addresses), or a socket we cannot
    // watch: it must not connect. /dev/null takes its descriptor's place, so the
    // connect fails at once and httplib closes its own descriptor as usual.
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        ::dup2(null, fd);
        ::close(null);
    } else {
        ::shutdown(fd, SHUT_RDWR);
    }
}

TEE_INLINE void detail::request_deadline::run() {
    std::unique_lock lock(m_);
    while (!quit_) {
        if (!armed_) {
            sleeping_until_ = clock::time_point::max();
            cv_.wait(lock);
        } else if (clock::now() < deadline_) {
            sleeping_until_ = deadline_;
            cv_.wait_until(lock, deadline_);
        } else {  // armed, and the deadline has passed: the request is still in flight
            fired_ = true;
            armed_ = false;
            {
                std::lock_guard sockets(sockets_m_);
                cut_ = true;
                for (int fd : opened_) ::shutdown(fd, SHUT_RDWR);  // ends a connect or handshake
            }
            client_.stop();  // waits for that to give up, then cuts a request in flight
        }
    }
}

TEE_INLINE httplib_transport::httplib_transport(const transport_options& opt)
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
    std::lock_guard lock(pool_->m);
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
    c->deadline = std::make_unique<detail::request_deadline>(client);
    client.set_socket_options([d = c->deadline.get()](socket_t fd) { d->socket_opened(fd); });
    return c;
}

TEE_INLINE std::unique_ptr<detail::pooled_connection> httplib_transport::acquire(clock::time_point deadline,
                                                                               const std::string& where) {
    std::unique_lock lock(pool_->m);
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
        const bool any = pool_->returned.wait_until(lock, deadline, [this] {
            return !pool_->idle.empty() || pool_->open < opt_.max_connections;
        });
        if (!any) throw no_connection_free(where);
    }
}

TEE_INLINE transport_error httplib_transport::no_connection_free(const std::string& where) const {
    return {transport_cause::timeout, where + ": no connection free within " + seconds(opt_.total_timeout) +
                                          " s (all " + std::to_string(opt_.max_connections) + " busy)"};
}

TEE_INLINE void httplib_transport::give_back(std::unique_ptr<connection> c) noexcept {
    {
        std::lock_guard lock(pool_->m);
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
    bool too_large = false, too_slow = false;
    req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
        if (answer.size() + len > opt_.max_answer_bytes) return !(too_large = true);
        if (clock::now() > deadline) return !(too_slow = true);
        answer.append(data, len);
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
        // Freed just at the deadline: arming a deadline already past would stop
        // nothing (httplib's stop() only cuts a request in flight).
        if (clock::now() >= deadline) throw no_connection_free(where);
        conn.c->deadline->arm(deadline);
        try {
            ok = conn.c->client->send(req, res, err);
        } catch (...) {  // e.g. bad_alloc in content_receiver
            conn.c->deadline->disarm();
            throw;
        }
        too_slow = conn.c->deadline->disarm() || too_slow;
    }
    const auto elapsed = clock::now() - start;

    if (too_large)
        throw transport_error(transport_cause::too_large,
                              where + ": answer exceeds " + std::to_string(opt_.max_answer_bytes) + " bytes");
    if (too_slow)
        throw transport_error(transport_cause::timeout, where + ": answer not complete within " +
                                                            seconds(opt_.total_timeout) + " s");
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
                        where + ": no connection within " + seconds(opt_.connect_timeout) + " s"};
            return {transport_cause::refused, where + ": could not connect (refused or unreachable)"};
        case Error::ConnectionTimeout:
            return {transport_cause::timeout, where + ": no connection within " + seconds(opt_.connect_timeout) + " s"};
        case Error::Read:
            if (elapsed >= opt_.read_timeout)
                return {transport_cause::timeout, where + ": no answer within " + seconds(opt_.read_timeout) + " s"};
            return {transport_cause::connection, where + ": connection closed before a complete answer"};
        case Error::Write:
            return {transport_cause::connection, where + ": could not send the request"};
        case Error::SSLConnection:
            return {transport_cause::tls, where + ": TLS handshake failed"};
        case Error::SSLLoadingCerts:
            return {transport_cause::tls, where + ": could not load the CA certificates"};
        case Error::SSLServerVerification:
            return {transport_cause::tls, where + ": server certificate did not verify" +
                                              (opt_.pinned_spki_sha256.empty() ? "" : " (or its key is not the pinned one)")};
        default:
            return {transport_cause::other, where + ": " + httplib::to_string(err)};
    }
}

#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
TEE_INLINE void httplib_transport::pin_server_key(httplib::Client& client) const {
    SSL_CTX_set_cert_verify_callback(client.ssl_context(), &verify_with_pin, pin_.get());
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

TEE_INLINE std::string httplib_transport::seconds(std::chrono::milliseconds ms) {
    auto s = std::to_string(ms.count() / 1000.0);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
}
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee
