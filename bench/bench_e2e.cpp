// bench_e2e - verified chats per second of tee::client against
// tee::testing::enclave_server over loopback HTTP with keep-alive, in mock
// and Nitro mode, for each crypto backend, with 1 and 4 client threads.
//
//   build-bench/bench/bench_e2e [--benchmark_filter=REGEX] [--benchmark_out=F.json --benchmark_out_format=json]
//
//   e2e_chat/<mode>/<backend>                    1 thread, one client (attested beforehand)
//   e2e_chat_shared_client/<mode>/<backend>      4 threads sharing one client (its transport's
//                                                pool: up to 4 connections)
//   e2e_chat_client_per_thread/<mode>/<backend>  4 threads, one client each (4 connections)
//   e2e_first_chat/<mode>/<backend>              a new client's first chat: key generation,
//                                                connection, attestation (verified in Nitro
//                                                mode), ECDH + HKDF, the chat
//   e2e_chat_tuned_server/mock/botan             1 thread, httplib_transport, against the same
//                                                simulated enclave served by an httplib::Server
//                                                with TCP_NODELAY and no keep-alive cap (httplib's
//                                                server closes a kept-alive connection after 5
//                                                requests unless told otherwise)
//   e2e_chat_tuned_both/mock/botan               the same server, and a client whose transport
//   e2e_chat_tuned_both_per_thread/mock/botan    (nodelay_transport below) is a keep-alive
//                                                httplib::Client that sets TCP_NODELAY itself
//   loopback_round_trip/1_send                   no HTTP, no crypto: the bytes of a chat over a
//   loopback_round_trip/2_sends                  kept-alive loopback TCP connection (790 bytes
//                                                out, 492 back) to a thread that answers after
//                                                spinning 800 us (the simulated enclave's work),
//                                                in one send() as a lean transport would, or two
//                                                (head, body) as httplib does. The client thread's
//                                                CPU per round trip is the kernel's share of a
//                                                chat no transport can avoid (bench/compare.sh (b0))
//
// Why TCP_NODELAY matters: httplib writes an HTTP message as two send()s (head,
// body). With Nagle's algorithm on, the second waits for the ACK of the first,
// which the peer delays (40 ms on Linux) while it waits for the rest of the
// message: a ~40 ms stall per direction per chat on a kept-alive connection.
// Comparing e2e_chat with the tuned rows shows what the library's transport and
// enclave_server still leave on the table, whatever they set at the time.
//
// The server runs in this process, on the same 2 cores: every figure is
// client + server. items_per_second is verified chats per second over all
// threads (wall clock). Ratios against the 1-thread run are printed at the end.
#include <tee/tee.hpp>
#include <tee/testing/enclave_server.hpp>

#include <benchmark/benchmark.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

constexpr int threads = 4;
constexpr std::string_view prompt = "BTC price right now";

struct world {
    tee::testing::simulated_enclave enclave;
    tee::testing::enclave_server server;
    explicit world(bool nitro) : enclave(options(nitro)), server(enclave) {}
    static tee::testing::enclave_options options(bool nitro) {
        tee::testing::enclave_options o;
        o.nitro = nitro;
        return o;
    }
};

// The same simulated enclave behind a server with TCP_NODELAY that never closes a
// kept-alive connection.
struct tuned_world {
    tee::testing::simulated_enclave enclave;
    httplib::Server server;
    std::thread thread;
    int port = -1;
    tuned_world() {
        auto handler = [this](const httplib::Request& req, httplib::Response& res) {
            tee::http_response r = enclave.handle(req.method, req.path, req.body);
            res.status = r.status;
            res.set_content(r.body, "application/json");
        };
        server.Get(".*", handler);
        server.Post(".*", handler);
        server.set_keep_alive_max_count(std::size_t{1} << 30);
        server.set_keep_alive_timeout(60);
        server.set_tcp_nodelay(true);
        port = server.bind_to_any_port("127.0.0.1");
        if (port <= 0) throw std::runtime_error("cannot bind 127.0.0.1");
        thread = std::thread([this] { server.listen_after_bind(); });
        while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~tuned_world() {
        server.stop();
        thread.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
};

// One server per mode and backend: httplib's server has 8 worker threads and a
// kept-alive connection holds one until it closes, so the idle connections of
// other benchmarks' clients must not starve this one's.
template <class Crypto, bool Nitro>
world& world_for() {
    static world w(Nitro);
    return w;
}
tuned_world& tuned() {
    static tuned_world w;
    return w;
}

// httplib_transport's keep-alive client (timeouts, no redirects) plus TCP_NODELAY;
// a tee::transport policy, for the estimate of that change only.
class nodelay_transport {
public:
    explicit nodelay_transport(const tee::transport_options& o)
        : client_(std::make_unique<httplib::Client>(o.base_url)) {
        using namespace std::chrono;
        client_->set_connection_timeout(duration_cast<microseconds>(o.connect_timeout));
        client_->set_read_timeout(duration_cast<microseconds>(o.read_timeout));
        client_->set_write_timeout(duration_cast<microseconds>(o.write_timeout));
        client_->set_keep_alive(true);
        client_->set_follow_location(false);
        client_->set_tcp_nodelay(true);
    }
    tee::http_response get(std::string_view path) { return done(client_->Get(std::string(path))); }
    tee::http_response post_json(std::string_view path, std::string_view body) {
        return done(client_->Post(std::string(path), std::string(body), "application/json"));
    }

private:
    static tee::http_response done(httplib::Result r) {
        if (!r)
            throw tee::transport_error(tee::transport_cause::other,
                                       "nodelay_transport: " + httplib::to_string(r.error()));
        return {r->status, std::move(r->body)};
    }
    std::unique_ptr<httplib::Client> client_;
};
static_assert(tee::transport<nodelay_transport>);

tee::config config_for(const std::string& url) {
    tee::config c;
    c.url = url;
    c.api_key = tee::secret_string("sk-bench-0123456789abcdef0123456789abcdef0123");
    c.platform = "openai";
    c.model = "gpt-4";
    return c;
}

template <class Crypto, bool Nitro>
using client_t = tee::client<tee::httplib_transport, Crypto,
                             std::conditional_t<Nitro, tee::nitro_attestation, tee::mock_attestation>>;

template <class Crypto, bool Nitro>
std::unique_ptr<client_t<Crypto, Nitro>> make_client(const std::string& url) {
    if constexpr (Nitro) {
        tee::nitro_options o;
        o.trusted_root = world_for<Crypto, Nitro>().enclave.pki()->root_pem();
        o.expected_pcrs = tee::testing::test_pki::default_pins();  // the simulated enclave's image
        return std::make_unique<client_t<Crypto, Nitro>>(config_for(url), tee::nitro_attestation(o));
    } else {
        return std::make_unique<client_t<Crypto, Nitro>>(config_for(url));
    }
}

void check(const tee::chat_result& r, benchmark::State& st) {
    if (r.message != prompt) st.SkipWithError("answer to another prompt");
}

// One shared client and one per thread, attested and warm before timing.
template <class Crypto, bool Nitro>
struct pool {
    std::unique_ptr<client_t<Crypto, Nitro>> shared;
    std::vector<std::unique_ptr<client_t<Crypto, Nitro>>> per_thread;
    pool() {
        const std::string url = world_for<Crypto, Nitro>().server.url();
        shared = make_client<Crypto, Nitro>(url);
        shared->chat(prompt);
        for (int i = 0; i < threads; ++i) {
            per_thread.push_back(make_client<Crypto, Nitro>(url));
            per_thread.back()->chat(prompt);
        }
    }
};

template <class Crypto, bool Nitro>
pool<Crypto, Nitro>& clients() {
    static pool<Crypto, Nitro> p;
    return p;
}

template <class Crypto, bool Nitro>
void register_mode(const std::string& backend) {
    const std::string suffix = std::string(Nitro ? "/nitro/" : "/mock/") + backend;
    clients<Crypto, Nitro>();  // set up before any timing
    auto done = [](benchmark::State& st) { st.SetItemsProcessed(st.iterations()); };
    benchmark::RegisterBenchmark(("e2e_chat" + suffix).c_str(),
                                 [done](benchmark::State& st) {
                                     auto& c = *clients<Crypto, Nitro>().shared;
                                     for (auto _ : st) check(c.chat(prompt), st);
                                     done(st);
                                 })
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("e2e_chat_shared_client" + suffix).c_str(),
                                 [done](benchmark::State& st) {
                                     auto& c = *clients<Crypto, Nitro>().shared;
                                     for (auto _ : st) check(c.chat(prompt), st);
                                     done(st);
                                 })
        ->Threads(threads)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(
        ("e2e_chat_client_per_thread" + suffix).c_str(),
        [done](benchmark::State& st) {
            auto& c = *clients<Crypto, Nitro>().per_thread.at(static_cast<std::size_t>(st.thread_index()));
            for (auto _ : st) check(c.chat(prompt), st);
            done(st);
        })
        ->Threads(threads)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("e2e_first_chat" + suffix).c_str(),
                                 [done](benchmark::State& st) {
                                     const std::string url = world_for<Crypto, Nitro>().server.url();
                                     for (auto _ : st) {
                                         auto c = make_client<Crypto, Nitro>(url);
                                         check(c->chat(prompt), st);
                                     }
                                     done(st);
                                 })
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
}

void register_tuned() {
    using tuned_client = tee::client<nodelay_transport, tee::botan_crypto, tee::mock_attestation>;
    static auto lib = make_client<tee::botan_crypto, false>(tuned().url());
    static auto both = std::make_unique<tuned_client>(config_for(tuned().url()));
    static std::vector<std::unique_ptr<tuned_client>> own;
    lib->chat(prompt);
    both->chat(prompt);
    for (int i = 0; i < threads; ++i) {
        own.push_back(std::make_unique<tuned_client>(config_for(tuned().url())));
        own.back()->chat(prompt);
    }
    benchmark::RegisterBenchmark("e2e_chat_tuned_server/mock/botan",
                                 [](benchmark::State& st) {
                                     for (auto _ : st) check(lib->chat(prompt), st);
                                     st.SetItemsProcessed(st.iterations());
                                 })
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("e2e_chat_tuned_both/mock/botan",
                                 [](benchmark::State& st) {
                                     for (auto _ : st) check(both->chat(prompt), st);
                                     st.SetItemsProcessed(st.iterations());
                                 })
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("e2e_chat_tuned_both_per_thread/mock/botan",
                                 [](benchmark::State& st) {
                                     auto& c = *own.at(static_cast<std::size_t>(st.thread_index()));
                                     for (auto _ : st) check(c.chat(prompt), st);
                                     st.SetItemsProcessed(st.iterations());
                                 })
        ->Threads(threads)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
}

// A bare loopback round trip of a chat's sizes: what a chat costs the client's
// kernel (two send paths, a sleep and a wake-up) whatever its transport.
class loopback_pair {
public:
    static constexpr std::size_t request_bytes = 790, answer_bytes = 492;  // tee-chat's, strace'd
    static constexpr auto server_work = std::chrono::microseconds(800);

    loopback_pair() {
        const int listener = socket_or_throw();
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listener, 1) != 0 ||
            ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len) != 0)
            throw std::runtime_error("loopback_pair: cannot listen on 127.0.0.1");
        client_ = socket_or_throw();
        if (::connect(client_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0)
            throw std::runtime_error("loopback_pair: cannot connect");
        server_ = ::accept(listener, nullptr, nullptr);
        ::close(listener);
        if (server_ < 0) throw std::runtime_error("loopback_pair: accept failed");
        for (int fd : {client_, server_}) {
            const int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        thread_ = std::thread([this] { serve(); });
    }
    ~loopback_pair() {
        ::shutdown(client_, SHUT_RDWR);
        thread_.join();
        ::close(client_);
        ::close(server_);
    }

    // One exchange; false if the connection failed.
    bool round_trip(bool two_sends) {
        const std::size_t head = two_sends ? 156 : request_bytes;  // httplib's head, then the body
        if (!send_all(client_, request_.data(), head) ||
            !send_all(client_, request_.data() + head, request_bytes - head))
            return false;
        return recv_exactly(client_, answer_bytes);
    }

private:
    static int socket_or_throw() {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) throw std::runtime_error("loopback_pair: socket failed");
        return fd;
    }
    static bool send_all(int fd, const char* p, std::size_t n) {
        while (n > 0) {
            const ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
            if (k <= 0) return false;
            p += k;
            n -= static_cast<std::size_t>(k);
        }
        return true;
    }
    bool recv_exactly(int fd, std::size_t n) {
        while (n > 0) {
            const ssize_t k = ::recv(fd, buffer_, sizeof buffer_, 0);
            if (k <= 0 || static_cast<std::size_t>(k) > n) return false;
            n -= static_cast<std::size_t>(k);
        }
        return true;
    }
    void serve() {
        const std::string answer(answer_bytes, 'a');
        char in[4096];
        for (;;) {
            for (std::size_t got = 0; got < request_bytes;) {
                const ssize_t k = ::recv(server_, in, sizeof in, 0);
                if (k <= 0) return;
                got += static_cast<std::size_t>(k);
            }
            const auto until = std::chrono::steady_clock::now() + server_work;
            while (std::chrono::steady_clock::now() < until) {}
            if (!send_all(server_, answer.data(), answer.size())) return;
        }
    }

    int client_ = -1, server_ = -1;
    std::string request_ = std::string(request_bytes, 'r');
    char buffer_[16384];
    std::thread thread_;
};

void register_loopback() {
    for (const bool two : {false, true}) {
        benchmark::RegisterBenchmark(two ? "loopback_round_trip/2_sends" : "loopback_round_trip/1_send",
                                     [two](benchmark::State& st) {
                                         static loopback_pair pair;
                                         for (auto _ : st)
                                             if (!pair.round_trip(two)) st.SkipWithError("loopback exchange failed");
                                         st.SetItemsProcessed(st.iterations());
                                     })
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
    }
}

// Prints chats/s per run and the ratios against the 1-thread run of the same mode and backend.
class ratio_reporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const auto& r : runs) {
            if (r.error_occurred) continue;
            if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
            auto it = r.counters.find("items_per_second");
            if (it != r.counters.end()) rate_[r.run_name.function_name] = it->second.value;
        }
    }
    void Finalize() override {
        ConsoleReporter::Finalize();
        auto& out = GetOutputStream();
        char line[256];
        out << "\nverified chats per second (wall clock, client + in-process server on the same cores)\n";
        std::snprintf(line, sizeof line, "%-16s %10s %14s %14s %10s %12s\n", "mode/backend", "1 thread", "4 thr shared",
                      "4 thr own", "x shared", "x own");
        out << line;
        for (const char* mb : {"mock/botan", "mock/openssl", "nitro/botan", "nitro/openssl"}) {
            const std::string s = mb;
            const double one = get("e2e_chat/" + s), shared = get("e2e_chat_shared_client/" + s),
                         own = get("e2e_chat_client_per_thread/" + s);
            if (one == 0) continue;
            std::snprintf(line, sizeof line, "%-16s %10.0f %14.0f %14.0f %10.2f %12.2f\n", mb, one, shared, own,
                          shared / one, own / one);
            out << line;
        }
        for (const char* mb : {"mock/botan", "mock/openssl", "nitro/botan", "nitro/openssl"}) {
            const double first = get(std::string("e2e_first_chat/") + mb);
            if (first > 0) {
                std::snprintf(line, sizeof line, "first chat of a new client, %-14s %8.2f ms\n", mb, 1000.0 / first);
                out << line;
            }
        }
        const double base = get("e2e_chat/mock/botan");
        for (const char* n : {"e2e_chat_tuned_server/mock/botan", "e2e_chat_tuned_both/mock/botan",
                              "e2e_chat_tuned_both_per_thread/mock/botan"}) {
            const double v = get(n);
            if (base > 0 && v > 0) {
                std::snprintf(line, sizeof line, "%-44s %8.0f chats/s = %6.2f x e2e_chat/mock/botan\n", n, v, v / base);
                out << line;
            }
        }
    }

private:
    double get(const std::string& name) const {
        for (const auto& [k, v] : rate_)
            if (k == name) return v;
        return 0.0;
    }
    std::map<std::string, double> rate_;
};

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    try {
        register_mode<tee::botan_crypto, false>("botan");
        register_mode<tee::openssl_crypto, false>("openssl");
        register_mode<tee::botan_crypto, true>("botan");
        register_mode<tee::openssl_crypto, true>("openssl");
        register_tuned();
        register_loopback();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_e2e: setup failed: %s\n", e.what());
        return 1;
    }
    ratio_reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    return 0;
}
