// tee/testing/enclave_server.hpp - a simulated_enclave on a loopback port,
// served by httplib from a background thread. Used by `tee-chat --demo`,
// examples/mock_enclave and the end-to-end tests.
#pragma once

#include "tee/detail/prelude.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include <httplib.h>

#include "tee/testing/faults.hpp"
#include "tee/testing/simulated_enclave.hpp"

namespace tee::testing {

struct server_options {
    int port = 0;                                 // 0: any free port
    std::chrono::milliseconds delay{0};           // wait this long before every answer
    std::string tls_cert_file{}, tls_key_file{};  // both set: serve https (PEM files)
    // Misbehave on every answer to POST /talk (tee/testing/faults.hpp; mock_enclave
    // --fault NAME). Transport faults are served for real: reset-mid-body,
    // endless-body, huge-body; connection-refused cannot be served (std::invalid_argument).
    tee::testing::fault fault = tee::testing::fault::none;
    tee::testing::fault_sizes fault_sizes{};
};

class enclave_server {
public:
    explicit enclave_server(simulated_enclave& enclave, server_options opt = {})
        : enclave_(enclave), opt_(opt), server_(make_server(opt_)) {
        set_fault(opt_.fault);
        auto handler = [this](const httplib::Request& req, httplib::Response& res) {
            if (opt_.delay.count() > 0) std::this_thread::sleep_for(opt_.delay);
            http_response r = enclave_.handle(req.method, req.path, req.body);
            if (const auto f = fault_.load(); f != fault::none && req.method == "POST" && req.path == "/talk")
                return serve_fault(f, std::move(r), res);
            res.status = r.status;
            res.set_content(r.body, enclave_.content_type(req.path, r));
        };
        server_->Get(".*", handler);
        server_->Post(".*", handler);
        server_->set_payload_max_length(1 << 20);
        server_->set_tcp_nodelay(true);
        // like uvicorn: no Nagle/delayed-ACK stall per answer, no reconnect every 5 requests
        server_->set_keep_alive_max_count(100000);
        port_ = opt_.port == 0 ? server_->bind_to_any_port("127.0.0.1")
                               : (server_->bind_to_port("127.0.0.1", opt_.port) ? opt_.port : -1);
        if (port_ <= 0)
            throw std::runtime_error("simulated enclave: cannot bind 127.0.0.1:" + std::to_string(opt_.port));
        // bound and listening now: connections queue until the accept loop runs
        thread_ = std::thread([this] { server_->listen_after_bind(); });
        // httplib's stop() does nothing until the accept loop has started: wait
        // for it, or a server destroyed right after construction hangs in join().
        while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~enclave_server() {
        stopping_ = true;  // ends an endless-body drip
        server_->stop();
        if (thread_.joinable()) thread_.join();
    }
    enclave_server(const enclave_server&) = delete;
    enclave_server& operator=(const enclave_server&) = delete;

    int port() const noexcept { return port_; }
    std::string url() const {
        return (tls() ? "https" : "http") + std::string("://127.0.0.1:") + std::to_string(port_);
    }
    // Blocks until stop() (from another thread or a signal handler's flag).
    void wait() {
        if (thread_.joinable()) thread_.join();
    }
    void stop() {
        stopping_ = true;
        server_->stop();
    }

    // Switches the fault of the answers to POST /talk (fault::none: correct answers).
    void set_fault(fault f) {
        if (f == fault::connection_refused)
            throw std::invalid_argument(
                "simulated enclave: connection-refused cannot be served "
                "(a refused connection is a port nobody listens on)");
        fault_ = f;
    }
    // Body bytes the transport faults have written so far (huge-body: far less than 100 MB
    // when the client gives up at its answer cap).
    std::uint64_t fault_bytes_sent() const noexcept { return fault_bytes_; }

private:
    bool tls() const { return !opt_.tls_cert_file.empty(); }

    void serve_fault(fault f, http_response r, httplib::Response& res) {
        res.status = r.status;
        const fault_sizes& sz = opt_.fault_sizes;
        switch (f) {
            case fault::reset_mid_body: {
                // Content-Length promises the whole answer; half of it comes, then the
                // provider gives up and httplib closes the connection.
                auto body = std::make_shared<const std::string>(std::move(r.body));
                res.set_content_provider(body->size(), "application/json",
                                         [this, body](std::size_t offset, std::size_t, httplib::DataSink& sink) {
                                             if (offset > 0) return false;
                                             const std::size_t half = std::max<std::size_t>(body->size() / 2, 1);
                                             fault_bytes_ += half;
                                             return sink.write(body->data(), half);
                                         });
                return;
            }
            case fault::endless_body:
                res.set_chunked_content_provider("application/json", [this, sz](std::size_t, httplib::DataSink& sink) {
                    if (stopping_) return false;
                    std::this_thread::sleep_for(sz.drip_interval);
                    const std::string drip(std::max<std::size_t>(sz.drip_bytes, 1), ' ');
                    fault_bytes_ += drip.size();
                    return sink.write(drip.data(), drip.size());  // false once the client is gone
                });
                return;
            case fault::huge_body:
                res.set_content_provider(sz.huge_body, "application/json",
                                         [this](std::size_t, std::size_t length, httplib::DataSink& sink) {
                                             static const std::string piece(64 * 1024, ' ');
                                             if (stopping_) return false;
                                             const std::size_t n = std::min(length, piece.size());
                                             if (!sink.write(piece.data(), n)) return false;  // the client gave up
                                             fault_bytes_ += n;
                                             return true;
                                         });
                return;
            default: {
                http_response faulty = inject_answer_fault(f, r, enclave_, sz);
                res.status = faulty.status;
                res.set_content(faulty.body, "application/json");
            }
        }
    }

    static std::unique_ptr<httplib::Server> make_server(const server_options& o) {
        if (o.tls_cert_file.empty() != o.tls_key_file.empty())
            throw std::runtime_error("simulated enclave: TLS needs both a certificate and a key file");
        if (o.tls_cert_file.empty()) return std::make_unique<httplib::Server>();
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
        auto s = std::make_unique<httplib::SSLServer>(o.tls_cert_file.c_str(), o.tls_key_file.c_str());
        if (!s->is_valid()) throw std::runtime_error("simulated enclave: cannot load the TLS certificate or key");
        return s;
#else
        throw std::runtime_error("simulated enclave: httplib has no OpenSSL support");
#endif
    }

    simulated_enclave& enclave_;
    server_options opt_;
    std::unique_ptr<httplib::Server> server_;
    int port_ = -1;
    std::atomic<fault> fault_{fault::none};
    std::atomic<bool> stopping_{false};
    std::atomic<std::uint64_t> fault_bytes_{0};
    std::thread thread_;
};

}  // namespace tee::testing
