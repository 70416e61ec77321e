// examples/custom_transport.cpp - a user-defined transport: it wraps the
// default tee::httplib_transport, counts requests and logs method, path and
// sizes to stderr. It never logs a body: requests carry the encrypted API key,
// and the sizes are all an operator needs.
#include <tee/tee.hpp>
#include <tee/testing/enclave_server.hpp>

#include <atomic>
#include <iostream>
#include <memory>
#include <string_view>

struct traffic {  // shared with the program: the client owns its transport
    std::atomic<unsigned> requests{0};
    std::atomic<std::size_t> sent{0}, received{0};
};

class logging_transport {
public:
    // tee::transport requires this constructor; the second argument is optional.
    explicit logging_transport(const tee::transport_options& opt,
                               std::shared_ptr<traffic> stats = std::make_shared<traffic>())
        : inner_(opt), stats_(std::move(stats)) {}

    tee::http_response get(std::string_view path) { return log("GET", path, 0, inner_.get(path)); }
    tee::http_response post_json(std::string_view path, std::string_view body) {
        return log("POST", path, body.size(), inner_.post_json(path, body));
    }

private:
    tee::http_response log(std::string_view method, std::string_view path, std::size_t sent, tee::http_response r) {
        unsigned n = ++stats_->requests;
        stats_->sent += sent;
        stats_->received += r.body.size();
        std::cerr << "[request " << n << "] " << method << " " << path << ": sent " << sent << " bytes, HTTP "
                  << r.status << ", received " << r.body.size() << " bytes\n";
        return r;
    }

    tee::httplib_transport inner_;
    std::shared_ptr<traffic> stats_;
};
static_assert(tee::transport<logging_transport>);

int main() try {
    tee::testing::simulated_enclave enclave({.nitro = true});  // a simulated Nitro enclave
    tee::testing::enclave_server server(enclave);              // on a free loopback port

    tee::config cfg;
    cfg.url = server.url();
    cfg.api_key = tee::secret_string("sk-example-never-logged");
    cfg.platform = "openai";
    cfg.model = "gpt-4";
    tee::nitro_options trust;
    trust.trusted_root = enclave.pki()->root_pem();  // trust the simulated enclave's test root
    trust.expected_pcrs = tee::testing::test_pki::default_pins();  // and pin its image (PCR0..2)

    auto stats = std::make_shared<traffic>();
    tee::transport_options topt = cfg.transport;  // the client's 2-argument constructor does this itself
    topt.base_url = cfg.url;
    tee::client<logging_transport, tee::botan_crypto, tee::nitro_attestation> client(
        cfg, logging_transport(topt, stats), tee::nitro_attestation(trust));

    for (const char* prompt : {"BTC price right now", "and ETH?"})
        std::cout << client.chat(prompt).response << "\n";
    std::cout << "2 chats verified over " << stats->requests << " requests (" << stats->sent << " bytes sent, "
              << stats->received << " received)\n";
} catch (const tee::error& e) {
    std::cerr << tee::to_string(e.kind()) << " error: " << e.what() << "\n";
    return 1;
}
