// examples/in_memory.cpp - a transport without sockets: requests go straight
// to a tee::testing::simulated_enclave in the same process (what a unit test
// wants: no port, no thread, no timing). The crypto and the Nitro verification
// are the real ones.
#include <tee/tee.hpp>
#include <tee/testing/simulated_enclave.hpp>

#include <iostream>
#include <string_view>

class in_memory_transport {
public:
    // No constructor from tee::transport_options: the client cannot build this
    // transport itself, so it is handed over built (see main).
    explicit in_memory_transport(tee::testing::simulated_enclave& enclave) : enclave_(&enclave) {}

    tee::http_response get(std::string_view path) { return enclave_->handle("GET", path, ""); }
    tee::http_response post_json(std::string_view path, std::string_view body) {
        return enclave_->handle("POST", path, body);
    }

private:
    tee::testing::simulated_enclave* enclave_;
};
static_assert(tee::transport<in_memory_transport>);

int main() try {
    tee::testing::simulated_enclave enclave({.nitro = true});  // real-format documents, test chain

    tee::config cfg;  // the url is not used: the transport knows where the enclave is
    cfg.api_key = tee::secret_string("demo-key");
    cfg.platform = "openai";
    cfg.model = "gpt-4";
    tee::nitro_options trust;
    trust.trusted_root = enclave.pki()->root_pem();                // trust the simulated enclave's test root
    trust.expected_pcrs = tee::testing::test_pki::default_pins();  // and pin its image (PCR0..2)

    // The constructor that takes a transport instance: (config, transport, attestation).
    tee::client<in_memory_transport> client(cfg, in_memory_transport(enclave), tee::nitro_attestation(trust));
    tee::chat_result r = client.chat("BTC price right now");
    std::cout << r.response << "\n"
              << "in-memory chat verified: attestation " << r.attestation_kind
              << ", enclave key sha256:" << r.enclave_key_fingerprint.substr(0, 16) << "...\n";
} catch (const tee::error& e) {
    std::cerr << tee::to_string(e.kind()) << " error: " << e.what() << "\n";
    return 1;
}
