// tee/testing/enclave_server.hpp - a simulated_enclave on a loopback port,
// served by httplib from a background thread. Used by `tee-chat --demo`,
// examples/mock_enclave and the end-to-end tests.
#pragma once

#include "tee/detail/prelude.hpp"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include <httplib.h>

#include "tee/testing/simulated_enclave.hpp"

namespace tee::testing {

struct server_options {
    int port = 0;                                  // 0: any free port
    std::chrono::milliseconds delay{0};            // wait this long before every answer
    std::string tls_cert_file{}, tls_key_file{};   // both set: serve https (PEM files)
};

class enclave_server {
public:
    explicit enclave_server(simulated_enclave& enclave, server_options opt = {})
        : enclave_(enclave), opt_(opt), server_(make_server(opt_)) {
        auto handler = [this](const httplib::Request& req, httplib::Response& res) {
            if (opt_.delay.count() > 0) std::this_thread::sleep_for(opt_.delay);
            http_response r = enclave_.handle(req.method, req.path, req.body);
            res.status = r.status;
            res.set_content(r.body, "application/json");
        };
        server_->Get(".*", handler);
        server_->Post(".*", handler);
        server_->set_payload_max_length(1 << 20);
        port_ = opt_.port == 0 ? server_->bind_to_any_port("127.0.0.1")
                               : (server_->bind_to_port("127.0.0.1", opt_.port) ? opt_.port : -1);
        if (port_ <= 0) throw std::runtime_error("simulated enclave: cannot bind 127.0.0.1:" + std::to_string(opt_.port));
        // bound and listening now: connections queue until the accept loop runs
        thread_ = std::thread([this] { server_->listen_after_bind(); });
        // httplib's stop() does nothing until the accept loop has started: wait
        // for it, or a server destroyed right after construction hangs in join().
        while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~enclave_server() {
        server_->stop();
        if (thread_.joinable()) thread_.join();
    }
    enclave_server(const enclave_server&) = delete;
    enclave_server& operator=(const enclave_server&) = delete;

    int port() const noexcept { return port_; }
    std::string url() const { return (tls() ? "https" : "http") + std::string("://127.0.0.1:") + std::to_string(port_); }
    // Blocks until stop() (from another thread or a signal handler's flag).
    void wait() { if (thread_.joinable()) thread_.join(); }
    void stop() { server_->stop(); }

private:
    bool tls() const { return !opt_.tls_cert_file.empty(); }
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
    std::thread thread_;
};

}  // namespace tee::testing
