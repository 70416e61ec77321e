// raw_socket_probe - how much of a chat's client CPU is httplib's: the same
// mock client chats with the same server through tee::httplib_transport and
// through a minimal HTTP/1.1 transport on a blocking socket (one send() per
// request, recv() until Content-Length, keep-alive, TCP_NODELAY), and prints
// the CPU per chat of each (getrusage, this process, after 20 warm-up chats).
//
//   mock_enclave --port 8471 &
//   export PLATFORM_API_KEY=sk-... PLATFORM=openai MODEL=gpt-4 TEE_TLS_URL=http://127.0.0.1:8471
//   build-bench/bench/raw_socket_probe [chats]
//
// NOT a transport to use: no timeouts, no size cap, no chunked bodies, no
// reconnection, a lenient parser. It measures the floor a transport of our own
// could reach (docs/performance.md); a real one must add those.
#include <tee/tee.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

class probe_transport {
public:
    explicit probe_transport(const tee::transport_options& o)
        : port_(std::atoi(o.base_url.substr(o.base_url.rfind(':') + 1).c_str())) {}
    probe_transport(probe_transport&& o) noexcept : port_(o.port_), fd_(o.fd_) { o.fd_ = -1; }
    probe_transport& operator=(probe_transport&&) = delete;
    ~probe_transport() {
        if (fd_ >= 0) ::close(fd_);
    }

    tee::http_response get(std::string_view path) { return exchange("GET", path, {}); }
    tee::http_response post_json(std::string_view path, std::string_view body) { return exchange("POST", path, body); }

private:
    [[noreturn]] static void fail(const char* what) {
        throw tee::transport_error(tee::transport_cause::connection, what);
    }

    void connect_loopback() {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) fail("socket");
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(port_));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) fail("connect");
    }

    tee::http_response exchange(std::string_view method, std::string_view path, std::string_view body) {
        if (fd_ < 0) connect_loopback();
        std::string req;
        req.append(method).append(" ").append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        if (method == "POST")
            req.append("Content-Type: application/json\r\nContent-Length: ")
                .append(std::to_string(body.size()))
                .append("\r\n");
        req.append("\r\n").append(body);
        if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) fail("send");
        std::string buf;
        char chunk[16384];
        std::size_t head_end = std::string::npos, total = 0;
        int status = 0;
        for (;;) {
            const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
            if (n <= 0) fail("recv");
            buf.append(chunk, static_cast<std::size_t>(n));
            if (head_end == std::string::npos && (head_end = buf.find("\r\n\r\n")) != std::string::npos) {
                status = std::atoi(buf.c_str() + 9);  // "HTTP/1.1 200"
                std::size_t at = buf.find("Content-Length: ");
                if (at == std::string::npos) at = buf.find("content-length: ");
                if (at == std::string::npos || at > head_end) fail("no Content-Length");
                total = head_end + 4 + std::strtoul(buf.c_str() + at + 16, nullptr, 10);
            }
            if (head_end != std::string::npos && buf.size() >= total) break;
        }
        return {status, buf.substr(head_end + 4, total - head_end - 4)};
    }

    int port_;
    int fd_ = -1;
};

double cpu_seconds() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
        static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

template <class Transport>
double cpu_per_chat_us(int chats) {
    tee::client<Transport, tee::botan_crypto, tee::mock_attestation> client(tee::config::from_env());
    for (int i = 0; i < 20; ++i) (void)client.chat("BTC price right now");  // attestation, comb table, warm caches
    const double start = cpu_seconds();
    for (int i = 0; i < chats; ++i) (void)client.chat("BTC price right now");  // throws unless verified
    return (cpu_seconds() - start) / chats * 1e6;
}

}  // namespace

int main(int argc, char** argv) {
    const int chats = argc > 1 ? std::atoi(argv[1]) : 3000;
    try {
        for (int round = 0; round < 3; ++round)  // interleaved, so that load drift hits both alike
            std::printf("client CPU per chat: httplib_transport %.1f us, probe transport %.1f us\n",
                        cpu_per_chat_us<tee::httplib_transport>(chats), cpu_per_chat_us<probe_transport>(chats));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "raw_socket_probe: %s\n", e.what());
        return 1;
    }
}
