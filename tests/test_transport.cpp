// httplib_transport's connection pool: one transport (so one tee::client)
// shared by threads sends their requests in parallel, on up to
// transport_options::max_connections kept-alive connections; more wait, within
// total_timeout; a request never gets another request's answer; a failed
// connection gives its place back. The servers here hold requests on purpose:
// a transport that serialised them would fail the "in flight at once" checks
// (after the holds' own time limits), not hang.
//
// The https side (every connection of the pool checks the CA and the pin) is
// in test_transport_settings.cpp, next to the test PKI.
//
// Then the connection's watchdog, where httplib has no limit of its own:
// total_timeout before a request is in flight (a connect that never completes,
// a TLS handshake dripped by the server), and a bound on what it reads besides
// the body (headers or a chunk-size line without end). Drip and body caps
// once a request is in flight are in test_faults.cpp.
//
// Last, kept-alive requests to a server that writes an answer's headers and
// body apart without TCP_NODELAY (as Python's http.server does) take no
// delayed-ACK timeout each.
#include "tee/tee.hpp"
#include "tee/testing/simulated_enclave.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using tee_test::closed_port;
using tee_test::contains;
using tee_test::fake_server;

constexpr std::string_view secret_key = "sk-TRANSPORT-5e6f7a8b-never-printed";
tee_test::expectations expect{secret_key};

tee::httplib_options options_for(const std::string& url, std::size_t max_connections) {
    tee::httplib_options o;
    o.base_url = url;
    o.max_connections = max_connections;
    o.connect_timeout = 2s;
    o.read_timeout = 10s;
    return o;
}

// A server whose handler holds each POST until `hold_until_in_flight`
// POSTs have been in flight at once (or `give_up` passes; once released, it
// holds nothing any more), then answers with
// `respond` (by default: echoes the body). It records the most requests it saw
// in flight at once and the client ports.
class holding_server {
public:
    using responder = std::function<void(const httplib::Request&, httplib::Response&)>;
    static void echo(const httplib::Request& req, httplib::Response& res) {
        res.set_content(req.body, "application/json");
    }

    explicit holding_server(std::size_t hold_until_in_flight, std::chrono::milliseconds give_up = 5s,
                            std::chrono::milliseconds after = 0ms, responder respond = echo)
        : server_([this, hold_until_in_flight, give_up, after, respond](const httplib::Request& req,
                                                                        httplib::Response& res) {
              if (req.method != "POST") return respond(req, res);  // GET /attestation passes at once
              std::unique_lock lock(m_);
              ports_.insert(req.remote_port);
              most_ = std::max(most_, ++in_flight_);
              if (in_flight_ >= hold_until_in_flight) released_ = true;  // latched: the first to leave
              changed_.notify_all();                                     // must not hold the others again
              changed_.wait_for(lock, give_up, [&] { return released_; });
              lock.unlock();
              std::this_thread::sleep_for(after);
              lock.lock();
              --in_flight_;
              lock.unlock();
              respond(req, res);
          }) {}

    std::string url() const { return server_.url(); }
    std::size_t most_in_flight() const {
        std::lock_guard lock(m_);
        return most_;
    }
    std::size_t client_ports() const {
        std::lock_guard lock(m_);
        return ports_.size();
    }

private:
    mutable std::mutex m_;
    std::condition_variable changed_;
    std::size_t in_flight_ = 0, most_ = 0;
    bool released_ = false;
    std::set<int> ports_;
    fake_server server_;  // last: its thread stops before the members above go
};

// Posts a distinct body from each of `threads` threads at once; returns the
// answers' bodies (empty optional: the request threw, and the test log says why).
std::vector<std::optional<std::string>> post_from_threads(tee::httplib_transport& t, int threads) {
    std::vector<std::optional<std::string>> out(static_cast<std::size_t>(threads));
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i)
        pool.emplace_back([&, i] {
            try {
                const auto r = t.post_json("/talk", "{\"request\":" + std::to_string(i) + "}");
                if (r.status == 200) out[static_cast<std::size_t>(i)] = r.body;
            } catch (const tee::transport_error& e) {
                MESSAGE("request " << i << " threw: " << e.what());
            }
        });
    for (auto& th : pool) th.join();
    return out;
}

}  // namespace

TEST_CASE("pool: requests one at a time reuse one connection") {
    holding_server server(1);
    tee::httplib_transport t(options_for(server.url(), 4));
    for (int i = 0; i < 10; ++i) {
        const auto r = t.post_json("/talk", "{\"n\":" + std::to_string(i) + "}");
        CHECK(r.status == 200);
        CHECK(r.body == "{\"n\":" + std::to_string(i) + "}");
    }
    CHECK(t.open_connections() == 1);
    CHECK(server.client_ports() == 1);
    CHECK(server.most_in_flight() == 1);
}

TEST_CASE("pool: 4 threads on one transport have 4 requests in flight at once, each gets its own answer") {
    holding_server server(4);
    tee::httplib_transport t(options_for(server.url(), 4));
    const auto answers = post_from_threads(t, 4);
    for (std::size_t i = 0; i < answers.size(); ++i) {
        CAPTURE(i);
        REQUIRE(answers[i].has_value());
        CHECK(*answers[i] == "{\"request\":" + std::to_string(i) + "}");
    }
    CHECK(server.most_in_flight() == 4);  // 1 if the transport serialised them
    CHECK(t.open_connections() == 4);
    CHECK(server.client_ports() == 4);

    SUBCASE("and the open connections are reused afterwards, not multiplied") {
        const auto again = post_from_threads(t, 4);
        for (const auto& a : again) CHECK(a.has_value());
        CHECK(t.open_connections() == 4);
        CHECK(server.client_ports() == 4);
    }
}

TEST_CASE("pool: max_connections = 2 caps what is open and in flight; the other requests wait their turn") {
    holding_server server(2, 2s, 20ms);
    tee::httplib_transport t(options_for(server.url(), 2));
    const auto answers = post_from_threads(t, 6);
    for (std::size_t i = 0; i < answers.size(); ++i) {
        CAPTURE(i);
        REQUIRE(answers[i].has_value());
        CHECK(*answers[i] == "{\"request\":" + std::to_string(i) + "}");
    }
    CHECK(server.most_in_flight() == 2);
    CHECK(t.open_connections() == 2);
    CHECK(server.client_ports() == 2);
}

TEST_CASE("pool: max_connections = 1 is one connection, requests in turn") {
    holding_server server(2, 300ms);  // would hold for a second request in flight: there is none
    tee::httplib_transport t(options_for(server.url(), 1));
    const auto answers = post_from_threads(t, 3);
    for (const auto& a : answers) CHECK(a.has_value());
    CHECK(server.most_in_flight() == 1);
    CHECK(server.client_ports() == 1);
    CHECK(t.open_connections() == 1);
}

TEST_CASE("pool: waiting for a connection counts against total_timeout; every failure is a timeout") {
    // One connection, 4 requests, each held 400 ms by the server, 600 ms each
    // in all: some must give up, and none may take much longer than 600 ms.
    fake_server slow([](const httplib::Request& req, httplib::Response& res) {
        std::this_thread::sleep_for(400ms);
        res.set_content(req.body, "application/json");
    });
    auto o = options_for(slow.url(), 1);
    o.total_timeout = 600ms;
    tee::httplib_transport t(o);
    std::vector<std::string> errors;
    std::vector<std::chrono::steady_clock::duration> took(4);
    std::vector<std::thread> threads;
    std::mutex m;
    int answered = 0;
    for (std::size_t i = 0; i < 4; ++i)
        threads.emplace_back([&, i] {
            const auto start = std::chrono::steady_clock::now();
            try {
                (void)t.post_json("/talk", "{}");
                std::lock_guard lock(m);
                ++answered;
            } catch (const tee::transport_error& e) {
                std::lock_guard lock(m);
                errors.push_back(e.what());
                CHECK(e.cause() == tee::transport_cause::timeout);
            }
            took[i] = std::chrono::steady_clock::now() - start;
        });
    for (auto& th : threads) th.join();
    CHECK(answered >= 1);
    CHECK(errors.size() >= 2);  // at most 600 ms / 400 ms of server time per request: one, maybe a second
    for (const auto& e : errors) {
        CAPTURE(e);
        CHECK(
            (contains(e, "no connection free within 0.6 s (all 1 busy)") || contains(e, "not complete within 0.6 s")));
        CHECK_FALSE(expect.leaks_key(e));
    }
    for (const auto d : took) CHECK(d < 1200ms);  // 600 ms and the watchdog's, scheduling's slack
    CHECK(t.open_connections() == 1);
}

TEST_CASE("pool: a failed connection gives its place back") {
    auto o = options_for("http://127.0.0.1:" + std::to_string(closed_port()), 1);
    o.total_timeout = 5s;
    tee::httplib_transport t(o);
    for (int i = 0; i < 3; ++i)  // with its place lost, the second would wait 5 s and fail otherwise
        expect.transport_error([&] { t.get("/attestation"); }, tee::transport_cause::refused, "could not connect");
    CHECK(t.open_connections() == 1);
}

TEST_CASE("pool: max_connections = 0 is a configuration error") {
    auto o = options_for("http://127.0.0.1:1", 0);
    expect.error<tee::config_error>([&] { tee::httplib_transport t(o); }, "max_connections must be at least 1");
}

TEST_CASE("pool: threads sharing one tee::client chat in parallel, every answer verified and their own") {
    tee::testing::simulated_enclave enclave;
    // The chats are held until all 4 are in flight (the attestation, a GET, is not).
    holding_server server(4, 5s, 0ms, [&](const httplib::Request& req, httplib::Response& res) {
        const auto a = enclave.handle(req.method, req.path, req.body);
        res.status = a.status;
        res.set_content(a.body, "application/json");
    });
    tee::client<tee::httplib_transport, tee::botan_crypto, tee::mock_attestation> client(
        tee_test::make_config(server.url(), secret_key));
    client.attest();
    std::vector<std::thread> threads;
    std::vector<std::string> got(4);
    for (std::size_t i = 0; i < 4; ++i)
        threads.emplace_back([&, i] {
            try {
                got[i] = client.chat("question " + std::to_string(i)).message;
            } catch (const std::exception& e) {
                got[i] = std::string("threw: ") + e.what();
            }
        });
    for (auto& th : threads) th.join();
    for (std::size_t i = 0; i < 4; ++i) CHECK(got[i] == "question " + std::to_string(i));
    CHECK(server.most_in_flight() == 4);
    CHECK(client.transport().open_connections() == 4);
}

// ---------------------------------------------------------------- total_timeout
// before the request is in flight: the connect and the TLS handshake.
// httplib connects and shakes hands holding the lock its stop() takes, so
// stop() alone cannot end either; and it waits up to connect_timeout for each
// step of the handshake, so a server that drips its handshake never trips
// connect_timeout at all.

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A listener whose accept queue is full and that never accepts: Linux drops
// further SYNs, so a connect to it stays pending (until connect_timeout).
class stalled_listener {
public:
    stalled_listener() {
        fd_ = tee_test::loopback_socket(port_, false);
        REQUIRE(::listen(fd_, 0) == 0);  // room for one queued connection
        filler_ = ::socket(AF_INET, SOCK_STREAM, 0);
        const sockaddr_in a = tee_test::loopback_address(port_);
        REQUIRE(::connect(filler_, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0);  // fills the queue
    }
    ~stalled_listener() {
        ::close(filler_);
        ::close(fd_);
    }
    std::string url(const std::string& scheme) const { return scheme + "://127.0.0.1:" + std::to_string(port_); }
    int port() const { return port_; }

private:
    int fd_ = -1, filler_ = -1, port_ = 0;
};

// Accepts, reads the ClientHello, then answers with a TLS record header that
// announces 16 KiB and drips its body a byte every 50 ms (8 s at most).
class tls_handshake_drip_server {
public:
    std::string url() const { return server_.url("https"); }
    int bytes_dripped() const { return dripped_; }

private:
    std::atomic<int> dripped_{0};
    tee_test::raw_server server_{[this](int c, const std::atomic<bool>& stopping) {
        char buf[4096];
        if (::recv(c, buf, sizeof buf, 0) <= 0) return;        // the ClientHello
        const char header[] = {0x16, 0x03, 0x03, 0x40, 0x00};  // handshake record, 16384 bytes
        if (::send(c, header, sizeof header, MSG_NOSIGNAL) != sizeof header) return;
        for (int i = 0; i < 160 && !stopping; ++i) {
            std::this_thread::sleep_for(50ms);
            if (::send(c, "\x02", 1, MSG_NOSIGNAL) != 1) return;  // the client hung up
            ++dripped_;
        }
    }};  // last: its thread stops before dripped_ goes
};

}  // namespace

TEST_CASE("total_timeout: a connect that never completes ends at total_timeout, not connect_timeout") {
    stalled_listener server;
    for (const std::string scheme : {"http", "https"}) {
        CAPTURE(scheme);
        auto o = options_for(server.url(scheme), 1);
        o.connect_timeout = 8s;
        o.total_timeout = 500ms;
        tee::httplib_transport t(o);
        for (int i = 0; i < 2; ++i) {  // and the connection's place is usable again
            const auto start = std::chrono::steady_clock::now();
            // the watchdog's verdict; a place lost by the first request would
            // make the second "no connection free within 0.5 s"
            expect.transport_error([&] { t.get("/attestation"); }, tee::transport_cause::timeout,
                                   "answer not complete within 0.5 s");
            const double elapsed = seconds_since(start);
            CHECK(elapsed >= 0.45);
            CHECK(elapsed < 2.0);
        }
        CHECK(t.open_connections() == 1);
    }
}

TEST_CASE("total_timeout: a TLS handshake dripped by the server ends at total_timeout") {
    tls_handshake_drip_server server;
    auto o = options_for(server.url(), 2);
    o.connect_timeout = 8s;  // each dripped byte comes well within it
    o.total_timeout = 500ms;
    tee::httplib_transport t(o);
    const auto start = std::chrono::steady_clock::now();
    expect.transport_error([&] { t.get("/attestation"); }, tee::transport_cause::timeout,
                           "answer not complete within 0.5 s");
    const double elapsed = seconds_since(start);
    CHECK(elapsed >= 0.45);
    CHECK(elapsed < 2.0);
    CHECK(server.bytes_dripped() >= 3);  // it was dripping, not silent
}

// A host with several addresses: httplib tries them in turn, each on a socket
// of its own. One opened after the deadline fired must fail at once, not wait
// connect_timeout again.
TEST_CASE("total_timeout: a socket opened after the deadline fired cannot connect") {
    stalled_listener server;  // a connect to it would hang
    const sockaddr_in to = tee_test::loopback_address(server.port());
    const auto is_socket = [](int fd) {
        int type = 0;
        socklen_t len = sizeof type;
        return ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0;
    };
    httplib::Client idle("http://127.0.0.1:1");  // what the watchdog would stop: nothing in flight
    tee::detail::request_watchdog watchdog(idle, 1u << 20);

    SUBCASE("control: before the deadline, a socket opened is a socket, watched") {
        watchdog.arm(std::chrono::steady_clock::now() + 10s);
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        watchdog.socket_opened(fd);
        CHECK(is_socket(fd));
        CHECK(watchdog.disarm() == tee::detail::request_watchdog::verdict::in_time);
        ::close(fd);
    }
    SUBCASE("after the deadline fired: the socket is replaced, its connect fails at once") {
        watchdog.arm(std::chrono::steady_clock::now());  // the idle watchdog is woken and fires
        const auto start = std::chrono::steady_clock::now();
        int fd = -1;
        for (;;) {  // each socket opened before the watchdog has fired is a socket, watched
            fd = ::socket(AF_INET, SOCK_STREAM, 0);
            watchdog.socket_opened(fd);
            if (!is_socket(fd)) break;
            ::close(fd);
            REQUIRE(seconds_since(start) < 5.0);
            std::this_thread::sleep_for(5ms);
        }
        const auto before = std::chrono::steady_clock::now();
        const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to);
        const int error = errno;
        CHECK(rc == -1);
        CHECK(error == ENOTSOCK);
        CHECK(seconds_since(before) < 0.5);
        CHECK(watchdog.disarm() == tee::detail::request_watchdog::verdict::timed_out);  // it did fire
        CHECK(::close(fd) == 0);  // the descriptor is still the caller's to close
        SUBCASE("and the next request starts clean") {
            watchdog.arm(std::chrono::steady_clock::now() + 10s);
            const int next = ::socket(AF_INET, SOCK_STREAM, 0);
            watchdog.socket_opened(next);
            CHECK(is_socket(next));
            CHECK(watchdog.disarm() == tee::detail::request_watchdog::verdict::in_time);
            ::close(next);
        }
    }
}

// ------------------------------------------------------- headers without end
// httplib keeps every header it reads, each line however long: a server that
// sends headers without end would fill the client's memory before
// total_timeout. The watchdog cuts a request whose headers pass 256 KiB.

namespace {

// Answers GET /ok with a short answer; anything else with a status line and
// then, as fast as the client takes it, up to 64 MiB of `what`: one header
// line without end, header lines without end, or a chunk-size line without end.
class endless_head_server {
public:
    enum class shape { long_line, many_lines, chunk_size_line };
    static constexpr std::size_t most = 64u << 20;

    explicit endless_head_server(shape what) : what_(what) {}
    std::string url() const { return server_.url(); }
    std::size_t bytes_sent() const { return sent_; }

private:
    void flood(int c, const std::atomic<bool>& stopping) {
        std::string head = "HTTP/1.1 200 OK\r\n", piece;
        if (what_ == shape::long_line) {
            head += "X-Long: ";
            piece.assign(64 * 1024, 'a');
        } else if (what_ == shape::many_lines) {
            for (int i = 0; i < 4096; ++i) piece += "X-" + std::to_string(i) + ": b\r\n";
        } else {
            head += "Transfer-Encoding: chunked\r\n\r\n";
            piece.assign(64 * 1024, '0');  // 000...: a chunk size that never ends
        }
        if (::send(c, head.data(), head.size(), MSG_NOSIGNAL) < 0) return;
        while (!stopping && sent_ < most) {
            const auto n = ::send(c, piece.data(), piece.size(), MSG_NOSIGNAL);
            if (n <= 0) return;  // the client hung up
            sent_ += static_cast<std::size_t>(n);
        }
        while (!stopping) std::this_thread::sleep_for(10ms);  // all sent: hold the connection
    }

    const shape what_;
    std::atomic<std::size_t> sent_{0};
    tee_test::raw_server server_{[this](int client, const std::atomic<bool>& stopping) {
        tee_test::answer_ok_then(client, [&](int c) { flood(c, stopping); });
    }};  // last: its thread stops before the members above go
};

}  // namespace

TEST_CASE(
    "answer cap: headers without end are cut (at 256 KiB, or at httplib's own limits), on a new or a kept-alive "
    "connection") {
    if (!tee::httplib_transport::bounds_headers) {  // the portable path with a cpp-httplib before 0.22
        MESSAGE("not bounded here: cpp-httplib " CPPHTTPLIB_VERSION " has no header limits and the "
                << std::string(tee::detail::platform::name) << " path counts no bytes (docs/reliability.md)");
        return;
    }
    using shape = endless_head_server::shape;
    const std::pair<shape, std::string> floods[] = {{shape::long_line, "one header line without end"},
                                                    {shape::many_lines, "header lines without end"},
                                                    {shape::chunk_size_line, "a chunk-size line without end"}};
    for (const auto& flood : floods) {
        for (const bool kept_alive : {false, true}) {
            CAPTURE(flood.second);
            CAPTURE(kept_alive);
            endless_head_server server(flood.first);
            auto o = options_for(server.url(), 1);
            o.total_timeout = 4s;            // without the watchdog's cap: all 64 MiB read, then a timeout
            o.max_answer_bytes = 32u << 20;  // the cap on headers is their own, not the body's
            tee::httplib_transport t(o);
            if (kept_alive) REQUIRE(t.get("/ok").status == 200);
            const auto start = std::chrono::steady_clock::now();
            expect.transport_error([&] { t.get("/flood"); }, tee::transport_cause::too_large, "answer exceeds");
            CHECK(seconds_since(start) < 3.0);
            MESSAGE("sent before the cut: " << server.bytes_sent() << " bytes");
            CHECK(server.bytes_sent() < endless_head_server::most);
            CHECK(t.get("/ok").status == 200);  // the connection's place is usable again
        }
    }
}

namespace {
// How many of this process's descriptors are sockets.
int open_sockets() {
    int n = 0;
    for (int fd = 0; fd < 1024; ++fd) {
        struct stat st {};
        if (::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode)) ++n;
    }
    return n;
}
}  // namespace

TEST_CASE("a connection httplib drops after a failed answer is closed at once, not held open by the watchdog") {
    // The watchdog keeps a dup() of the kept-alive socket. Where httplib drops
    // the connection, that dup() must go too. Held, the socket lives on, shut
    // down but not closed: a server whose sending has filled the buffers gets
    // no RST and stays blocked, and one serving a connection at a time never
    // serves the next request.
    tee_test::raw_server server([](int client, const std::atomic<bool>&) {
        tee_test::answer_ok_then(client, [](int c) {
            const std::string garbage = "not HTTP at all\r\n\r\n";
            (void)::send(c, garbage.data(), garbage.size(), MSG_NOSIGNAL);
        });  // then the server closes its side
    });
    const int before = open_sockets();  // the server's listening socket among them
    tee::httplib_transport t(options_for(server.url(), 1));
    REQUIRE(t.get("/ok").status == 200);
    CHECK(open_sockets() > before);  // kept alive
    CHECK_THROWS_AS(t.get("/garbage"), tee::transport_error);
    const auto start = std::chrono::steady_clock::now();  // the server closes its side after sending
    while (open_sockets() > before && seconds_since(start) < 2.0) std::this_thread::sleep_for(5ms);
    CHECK(open_sockets() == before);
    CHECK(t.get("/ok").status == 200);  // on a new connection
}

TEST_CASE("answer cap: 200 KiB of headers and a body of max_answer_bytes, sent slowly, still pass") {
    const std::string body(1u << 20, 'x');
#if defined(CPPHTTPLIB_HEADER_MAX_COUNT)  // within httplib's own limits: fewer, longer lines
    constexpr int header_lines = 90;
    constexpr std::size_t header_length = 2200;
#else
    constexpr int header_lines = 2000;
    constexpr std::size_t header_length = 90;
#endif
    fake_server server([&](const httplib::Request& req, httplib::Response& res) {
        for (int i = 0; i < header_lines; ++i)
            res.set_header("X-" + std::to_string(i), std::string(header_length, 'h'));
        const auto piece = std::size_t{64} << 10;  // 16 pieces, 20 ms apart: the watchdog looks many times
        auto send_piece = [&body, piece](std::size_t offset, std::size_t, httplib::DataSink& sink) {
            std::this_thread::sleep_for(20ms);
            return sink.write(body.data() + offset, std::min(piece, body.size() - offset));
        };
        if (req.path == "/chunked")
            res.set_chunked_content_provider("application/json",
                                             [send_piece](std::size_t offset, httplib::DataSink& sink) {
                                                 if (offset >= (std::size_t{1} << 20)) {
                                                     sink.done();
                                                     return true;
                                                 }
                                                 return send_piece(offset, 0, sink);
                                             });
        else
            res.set_content_provider(body.size(), "application/json", send_piece);
    });
    auto o = options_for(server.url(), 1);
    o.max_answer_bytes = body.size();
    tee::httplib_transport t(o);
    for (const char* path : {"/big", "/chunked", "/big"}) {  // a new connection, then kept alive
        CAPTURE(std::string(path));
        const auto r = t.get(path);
        CHECK(r.status == 200);
        CHECK(r.body == body);
    }
}

// The cap counts what a kept-alive connection read since the request began,
// not since it opened: thousands of small answers on one connection pass.
TEST_CASE("answer cap: the cap counts per request, not over a kept-alive connection (3000 answers of 1 KiB pass)") {
    const std::string body(1024, 'k');
    std::mutex m;
    std::set<int> ports;  // the client ports seen: one, if the connection was kept
    fake_server server([&](const httplib::Request& req, httplib::Response& res) {
        {
            std::lock_guard lock(m);
            ports.insert(req.remote_port);
        }
        res.set_content(body, "application/json");
    });
    auto o = options_for(server.url(), 1);
    o.max_answer_bytes = 4096;  // 2 x 4 KiB + 256 KiB in all per request; 3 MiB over the connection
    tee::httplib_transport t(o);
    int passed = 0;
    for (int i = 0; i < 3000; ++i) {
        try {
            if (t.get("/small").body == body) ++passed;
        } catch (const tee::transport_error& e) {
            FAIL_CHECK("request " << i << ": " << std::string(e.what()));
            break;
        }
    }
    CHECK(passed == 3000);
    CHECK(t.open_connections() == 1);
    {
        std::lock_guard lock(m);
        CHECK(ports.size() == 1);
    }
    // bytes_read() may lag its earlier mark for a moment (data arriving between
    // its getsockopt and its ioctl): that reads as nothing, not 2^64 - n bytes
    using watchdog = tee::detail::request_watchdog;
    static_assert(watchdog::read_since(1000, 400) == 600);
    static_assert(watchdog::read_since(400, 1000) == 0);
}

// Servers that write an answer's headers and its body in two writes without
// TCP_NODELAY (Python's http.server, Werkzeug) send the body only once the
// headers are acknowledged. On a kept-alive connection Linux delays that ACK
// (40 ms) unless the transport acknowledges the headers at once.

namespace {

// Answers every request as Python's http.server does (BaseHTTPRequestHandler
// with protocol_version HTTP/1.1): keep-alive, the headers in one write, the
// body in another, on a socket without TCP_NODELAY. Counts its connections.
class split_write_server {
public:
    std::string url() const { return server_.url(); }
    int connections() const { return connections_; }

private:
    static void serve(int c, const std::atomic<bool>& stopping) {
        const std::string body = R"({"answer":"from a server that writes its headers and body apart"})";
        const std::string head =
            "HTTP/1.1 200 OK\r\nServer: BaseHTTP/0.6 Python/3.11\r\n"
            "Content-Type: application/json\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n";
        std::string in;
        char buf[4096];
        while (!stopping) {
            const auto end = in.find("\r\n\r\n");
            std::size_t length = 0;
            if (end != std::string::npos) {
                const auto at = in.find("Content-Length: ");  // as httplib writes it
                if (at != std::string::npos && at < end) length = std::stoul(in.substr(at + 16));
            }
            if (end == std::string::npos || in.size() < end + 4 + length) {
                const auto n = ::recv(c, buf, sizeof buf, 0);
                if (n <= 0) return;  // the client hung up
                in.append(buf, static_cast<std::size_t>(n));
                continue;
            }
            in.erase(0, end + 4 + length);
            if (::send(c, head.data(), head.size(), MSG_NOSIGNAL) < 0) return;
            if (::send(c, body.data(), body.size(), MSG_NOSIGNAL) < 0) return;
        }
    }

    std::atomic<int> connections_{0};
    tee_test::raw_server server_{[this](int c, const std::atomic<bool>& stopping) {
        ++connections_;
        serve(c, stopping);
    }};  // last: its thread stops before connections_ goes
};

// The median of `n` durations of `request()`, in milliseconds.
template <class F>
double median_ms(int n, F request) {
    std::vector<double> ms;
    for (int i = 0; i < n; ++i) {
        const auto start = std::chrono::steady_clock::now();
        request();
        ms.push_back(seconds_since(start) * 1000);
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

}  // namespace

TEST_CASE("keep-alive: requests to a server that writes headers and body apart do not wait for a delayed ACK") {
    split_write_server server;
    const std::string chat = R"({"nonce":"00","public_key":"00","data":"00"})";
    tee::httplib_transport t(options_for(server.url(), 1));
    REQUIRE(t.post_json("/talk", chat).status == 200);  // a new connection acknowledges at once anyway
    // Stalled, each request takes the delayed-ACK timeout (40 ms on Linux);
    // otherwise well under a millisecond here. The bound leaves room for a loaded machine.
    const double median = median_ms(20, [&] { CHECK(t.post_json("/talk", chat).status == 200); });
    CHECK(t.open_connections() == 1);
    CHECK(server.connections() == 1);  // all on one kept-alive connection
    MESSAGE("median per request on one kept-alive connection: "
            << median << " ms (" << std::string(tee::detail::platform::name) << " path)");
    if constexpr (tee::detail::platform::acknowledges_now) {
        CHECK(median < 20.0);
    } else {
        MESSAGE("not bounded here: the " << std::string(tee::detail::platform::name)
                                         << " path cannot acknowledge at once (docs/policies.md, the transport)");
    }
}
