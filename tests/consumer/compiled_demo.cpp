// Opt-in separate compilation: this file is built with TEE_CLIENT_COMPILED_LIB
// (meson's tee_client_compiled_dep), so tee::client<>'s members come from the
// tee-client-compiled library (src/tee_client.cpp), not from this file. It
// links and runs a verified demo chat; tests/check_compiled_mode.py checks that
// such a file really leaves the members out.
#include "tee/tee.hpp"
#include "tee/testing/enclave_server.hpp"
#include "tee/testing/simulated_enclave.hpp"

#include <iostream>

#ifndef TEE_CLIENT_COMPILED_LIB
#error "build this file with tee_client_compiled_dep"
#endif

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
    tee::client<> client(cfg, tee::nitro_attestation(trust));
    const auto r = client.chat("BTC price right now");
    const bool ok = r.message == "BTC price right now" && client.attest().verified && client.attest().kind == "nitro";
    std::cout << (ok ? "compiled mode: verified demo chat OK" : "compiled mode: FAILED") << "\n";
    return ok ? 0 : 1;
}
