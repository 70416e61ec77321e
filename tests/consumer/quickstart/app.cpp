// app.cpp - the program of docs/quickstart.md (tests/consumer/quickstart/app.cpp):
// a verified chat with a simulated Nitro enclave, with only tee/tee.hpp copied.
#define TEE_ENABLE_TESTING  // tee::testing: the simulated enclave (not needed in production)
#include <tee/tee.hpp>

#include <iostream>

int main(int argc, char** argv) try {
    // A simulated Nitro enclave on a free loopback port; its documents are
    // signed by a throw-away test root instead of AWS's.
    tee::testing::simulated_enclave enclave({.nitro = true});
    tee::testing::enclave_server server(enclave);

    tee::config cfg;  // production: tee::config::from_env()
    cfg.url = server.url();
    cfg.api_key = tee::secret_string("demo-key");
    cfg.platform = "openai";
    cfg.model = "gpt-4";
    tee::nitro_options trust;  // production: keep the AWS root, pin PCR0..2
    trust.trusted_root = enclave.pki()->root_pem();
    trust.expected_pcrs = tee::testing::test_pki::default_pins();  // the simulated enclave's image

    tee::client<> client(cfg, tee::nitro_attestation(trust));
    tee::chat_result r = client.chat(argc > 1 ? argv[1] : "BTC price right now");
    std::cout << r.response << "\n(signature verified; " << r.attestation_kind << " attestation verified; enclave key "
              << r.enclave_key_fingerprint.substr(0, 16) << "...)\n";
} catch (const tee::error& e) {
    std::cerr << tee::to_string(e.kind()) << " error: " << e.what() << "\n";
    return 1;
}
