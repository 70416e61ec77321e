// The failure-assertion helpers the end-to-end suites share (test_client.cpp,
// test_faults.cpp and the suites of end_to_end.hpp), and their fake_server.
//
// A suite makes one tee_test::expectations with the API key its configs carry
// and runs every failure case through it:
//
//   tee_test::expectations expect{secret_key};
//   expect.error<tee::protocol_error>([&] { client.chat(prompt); }, "fragment");
//   expect.service_error(chat, 401, "invalid api_key");
//   expect.transport_error(chat, tee::transport_cause::timeout, "no answer within");
//   expect.attestation_error(attest, tee::attestation_reason::chain, "does not verify");
//
// Each checks the exact dynamic type of the exception (so that e.g. a
// replay_error cannot pass for a plain signature_error), a fragment of its
// message, its accessors, and that the message does not contain the API key;
// key_forms::plain_hex_base64 also looks for the key hex and base64 encoded.
// Every message checked is kept (messages_seen()) for a suite's last case.
//
// The tee headers come first: they must precede <httplib.h> (see
// tee/detail/prelude.hpp).
#pragma once

#include "tee/config.hpp"
#include "tee/encoding.hpp"
#include "tee/errors.hpp"
#include "tee/secure_bytes.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <cxxabi.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <typeinfo>
#include <utility>
#include <vector>

namespace tee_test {

inline bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

inline std::span<const std::uint8_t> bytes_of(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

inline std::string type_name(const std::type_info& t) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(t.name(), nullptr, nullptr, &status), std::free);
    return status == 0 && name ? std::string(name.get()) : std::string(t.name());
}

inline std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

inline tee::config make_config(std::string url, std::string_view api_key) {
    tee::config c;
    c.url = std::move(url);
    c.api_key = tee::secret_string(api_key);
    c.platform = "openai";
    c.model = "gpt-4";
    return c;
}

// The forms of the API key a message is searched for.
enum class key_forms {
    plain,             // the key as is
    plain_hex_base64,  // and hex (both cases) and base64 encoded: what a careless program could print
};

// The key in each of `forms`. Base64 at each of the three alignments the key
// could have inside a longer encoded text (the characters an unknown prefix
// or suffix influences are dropped).
inline std::vector<std::string> forms_of(std::string_view key, key_forms forms) {
    std::vector<std::string> out{std::string(key)};
    if (forms == key_forms::plain) return out;
    out.push_back(tee::to_hex(bytes_of(key)));
    std::string upper = out[1];
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out.push_back(upper);
    for (std::size_t shift = 0; shift < 3; ++shift) {
        std::string padded = std::string(shift, '\0') + std::string(key);
        std::string b64 = tee::to_base64(bytes_of(padded));
        const std::size_t skip = shift == 0 ? 0 : shift + 1;  // digits touched by the prefix
        out.push_back(b64.substr(skip, (key.size() + shift) / 3 * 4 - skip - 4));
    }
    return out;
}

class expectations {
public:
    explicit expectations(std::string_view api_key, key_forms forms = key_forms::plain)
        : forms_(forms_of(api_key, forms)) {}

    // True if `text` holds the key in any of the forms searched for.
    bool leaks_key(std::string_view text) const {
        for (const auto& f : forms_)
            if (contains(text, f)) return true;
        return false;
    }

    // Every exception message the failure cases produced (for a last check).
    const std::vector<std::string>& messages_seen() const { return messages_; }

    // Runs f, which must throw exactly E (not a subclass) with `fragment` in its
    // message and without the API key in it; returns a copy for further checks.
    template <class E, class F>
    E error(F&& f, std::string_view fragment) {
        std::exception_ptr ep;
        try {
            f();
        } catch (...) {
            ep = std::current_exception();
        }
        REQUIRE_MESSAGE(ep != nullptr, "no exception thrown; expected one with '" << std::string(fragment) << "'");
        CHECK_THROWS_AS(std::rethrow_exception(ep), E);
        try {
            std::rethrow_exception(ep);
        } catch (const E& e) {
            const std::string what = e.what();
            messages_.push_back(what);
            CAPTURE(what);
            CHECK_MESSAGE(typeid(e) == typeid(E),
                          "a subclass of the expected type was thrown: " << type_name(typeid(e)));
            CHECK_MESSAGE(contains(what, fragment), "message lacks '" << std::string(fragment) << "'");
            CHECK_FALSE(leaks_key(what));
            return e;
        } catch (const std::exception& e) {
            FAIL("wrong exception type " << type_name(typeid(e)) << ": " << std::string(e.what()));
        } catch (...) {
            FAIL("a non-std exception");
        }
        throw std::logic_error("not reached");
    }

    // A tee::service_error with this HTTP status and exactly this service message.
    tee::service_error service_error(std::function<void()> f, int status, std::string_view service_message) {
        auto e = error<tee::service_error>(std::move(f), service_message);
        CHECK(e.http_status() == status);
        CHECK(e.service_message() == service_message);
        CHECK_FALSE(leaks_key(e.service_message()));
        return e;
    }

    // A tee::transport_error with this cause and `fragment` in its message.
    tee::transport_error transport_error(std::function<void()> f, tee::transport_cause cause,
                                         std::string_view fragment) {
        auto e = error<tee::transport_error>(std::move(f), fragment);
        CHECK_MESSAGE(e.cause() == cause,
                      "cause is '" << std::string(tee::to_string(e.cause())) << "', expected '"
                                   << std::string(tee::to_string(cause)) << "'");
        return e;
    }

    // A tee::attestation_error with this reason and `fragment` in its message.
    tee::attestation_error attestation_error(std::function<void()> f, tee::attestation_reason reason,
                                             std::string_view fragment) {
        auto e = error<tee::attestation_error>(std::move(f), fragment);
        CHECK_MESSAGE(e.reason() == reason,
                      "reason is '" << std::string(tee::to_string(e.reason())) << "', expected '"
                                    << std::string(tee::to_string(reason)) << "'");
        return e;
    }

private:
    std::vector<std::string> forms_;
    std::vector<std::string> messages_;
};

// 127.0.0.1:port (0: any free port, for bind).
inline sockaddr_in loopback_address(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
}

// A TCP socket bound to 127.0.0.1 on a free port, listening if asked; its
// port goes to `port`. The raw servers of the suites start from it.
inline int loopback_socket(int& port, bool listening) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr = loopback_address(0);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    if (listening) REQUIRE(::listen(fd, 8) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port = ntohs(addr.sin_port);
    return fd;
}

// A raw TCP server on 127.0.0.1 (any free port): a thread accepts connections
// one at a time and hands each to `serve`, then closes it. `serve` should end
// when `stopping()` turns true (the destructor sets it, then joins). For the
// faults an httplib server cannot produce: dripped or endless headers, a
// dripped TLS handshake.
class raw_server {
public:
    using handler = std::function<void(int client, const std::atomic<bool>& stopping)>;

    explicit raw_server(handler serve) : serve_(std::move(serve)) {
        fd_ = loopback_socket(port_, true);
        thread_ = std::thread([this] {
            while (!stopping_) {
                const int c = ::accept(fd_, nullptr, nullptr);
                if (c < 0) return;
                serve_(c, stopping_);
                ::close(c);
            }
        });
    }
    ~raw_server() {
        stopping_ = true;
        ::shutdown(fd_, SHUT_RDWR);  // wakes accept()
        thread_.join();
        ::close(fd_);
    }
    raw_server(const raw_server&) = delete;
    raw_server& operator=(const raw_server&) = delete;

    int port() const { return port_; }
    std::string url(const std::string& scheme = "http") const {
        return scheme + "://127.0.0.1:" + std::to_string(port_);
    }

private:
    handler serve_;
    int fd_ = -1, port_ = 0;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

// For a raw_server's handler: reads requests without a body from `client`;
// answers each "GET /ok" at once (keep-alive, "ok"); hands the first other
// request to `otherwise` and returns when it does.
inline void answer_ok_then(int client, const std::function<void(int client)>& otherwise) {
    std::string request;
    char buf[4096];
    for (;;) {
        const auto n = ::recv(client, buf, sizeof buf, 0);
        if (n <= 0) return;
        request.append(buf, static_cast<std::size_t>(n));
        if (request.find("\r\n\r\n") == std::string::npos) continue;
        if (request.rfind("GET /ok ", 0) != 0) return otherwise(client);
        const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        if (::send(client, ok.data(), ok.size(), MSG_NOSIGNAL) < 0) return;
        request.clear();
    }
}

// A bound TCP port with nothing listening on it any more.
inline int closed_port() {
    int port = 0;
    ::close(loopback_socket(port, false));
    return port;
}

// An httplib server on 127.0.0.1 (any free port) answering every GET and POST
// with `handler`, from a background thread; stopped and joined on destruction.
// Keep-alive without a practical cap and TCP_NODELAY, like enclave_server.
class fake_server {
public:
    using handler = std::function<void(const httplib::Request&, httplib::Response&)>;

    explicit fake_server(handler h) : handler_(std::move(h)) {
        auto call = [this](const httplib::Request& req, httplib::Response& res) { handler_(req, res); };
        server_.Get(".*", call);
        server_.Post(".*", call);
        server_.set_keep_alive_max_count(100000);
        server_.set_payload_max_length(8u << 20);
        server_.set_tcp_nodelay(true);
        port_ = server_.bind_to_any_port("127.0.0.1");
        if (port_ <= 0) throw std::runtime_error("fake_server: cannot bind 127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        // stop() is a no-op until the accept loop runs: wait for it.
        while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~fake_server() {
        server_.stop();
        thread_.join();
    }
    fake_server(const fake_server&) = delete;
    fake_server& operator=(const fake_server&) = delete;

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

private:
    handler handler_;
    httplib::Server server_;
    int port_ = -1;
    std::thread thread_;
};

}  // namespace tee_test
