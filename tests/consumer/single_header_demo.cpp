// A program that includes ONLY the generated single header (plus the
// dependencies' own headers, which it includes itself) and runs a verified
// demo chat against the simulated Nitro enclave over loopback HTTP.
#define TEE_ENABLE_TESTING
#include "tee/tee.hpp"

#include <iostream>

int main() {
    tee::testing::enclave_options eo;
    eo.nitro = true;
    tee::testing::simulated_enclave enclave(eo);
    tee::testing::enclave_server server(enclave);

    tee::config cfg;
    cfg.url = server.url();
    cfg.api_key = tee::secret_string("demo-key");
    cfg.platform = "openai";
    cfg.model = "gpt-4";
    tee::nitro_options trust;
    trust.trusted_root = enclave.pki()->root_pem();
    trust.expected_pcrs = tee::testing::test_pki::default_pins();  // the simulated enclave's image
    tee::client<> client(cfg, tee::nitro_attestation(trust));
    auto r = client.chat("BTC price right now");
    std::cout << r.response << "\n";
    const bool ok = r.message == "BTC price right now" && client.attest().verified && client.attest().kind == "nitro";
    std::cout << (ok ? "single header: verified demo chat OK" : "single header: FAILED") << "\n";
    return ok ? 0 : 1;
}
