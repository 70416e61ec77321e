// examples/custom_transport.cpp - a user-defined transport: logging_transport
// wraps any other transport, counts requests and logs method, path and sizes
// to stderr. It never logs a body: requests carry the encrypted API key, and
// the sizes are all an operator needs. This program includes only
// <tee/core.hpp> (no HTTP library, no socket or OS header) and the simulated
// enclave it talks to in-process; with <tee/tee.hpp>, the same wrapper goes
// around the default: tee::client<logging_transport<tee::httplib_transport>>.
#include <tee/core.hpp>
#include <tee/testing/simulated_enclave.hpp>

#include <atomic>
#include <concepts>
#include <iostream>
#include <memory>
#include <string_view>
#include <utility>

struct traffic {  // shared with the program: the client owns its transport
    std::atomic<unsigned> requests{0};
    std::atomic<std::size_t> sent{0}, received{0};
};

template <tee::transport Inner>
class logging_transport {
public:
    explicit logging_transport(Inner inner, std::shared_ptr<traffic> stats = std::make_shared<traffic>())
        : inner_(std::move(inner)), stats_(std::move(stats)) {}
    // So that tee::client can build it from the config, where Inner can be.
    explicit logging_transport(
        const tee::transport_options& opt) requires std::constructible_from<Inner, const tee::transport_options&>
        : logging_transport(Inner(opt)) {}

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

    Inner inner_;
    std::shared_ptr<traffic> stats_;
};

// What the wrapper wraps here: a simulated Nitro enclave in the same process.
class simulated_link {
public:
    explicit simulated_link(tee::testing::simulated_enclave& enclave) : enclave_(&enclave) {}
    tee::http_response get(std::string_view path) { return enclave_->handle("GET", path, ""); }
    tee::http_response post_json(std::string_view path, std::string_view body) {
        return enclave_->handle("POST", path, body);
    }

private:
    tee::testing::simulated_enclave* enclave_;
};
static_assert(tee::transport<logging_transport<simulated_link>>);

int main() try {
    tee::testing::simulated_enclave enclave({.nitro = true});  // real-format documents, test chain

    tee::config cfg;
    cfg.api_key = tee::secret_string("sk-example-never-logged");
    cfg.platform = "openai";
    cfg.model = "gpt-4";
    tee::nitro_options trust;
    trust.trusted_root = enclave.pki()->root_pem();                // trust the simulated enclave's test root
    trust.expected_pcrs = tee::testing::test_pki::default_pins();  // and pin its image (PCR0..2)

    auto stats = std::make_shared<traffic>();
    tee::client<logging_transport<simulated_link>> client(
        cfg, logging_transport<simulated_link>(simulated_link(enclave), stats), tee::nitro_attestation(trust));

    for (const char* prompt : {"BTC price right now", "and ETH?"}) std::cout << client.chat(prompt).response << "\n";
    std::cout << "2 chats verified over " << stats->requests << " requests (" << stats->sent << " bytes sent, "
              << stats->received << " received)\n";
} catch (const tee::error& e) {
    std::cerr << tee::to_string(e.kind()) << " error: " << e.what() << "\n";
    return 1;
}
