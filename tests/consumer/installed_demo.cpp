// Built by tests/check_install.sh against an installed copy (pkg-config
// tee-client and tee-client-compiled) and as a meson subproject, and by
// tests/meson.build against the compiled mode (compiled_demo): the same
// verified demo chat, and one more through a client of other policies
// (openssl_crypto), which compiles here in either mode: in the compiled mode
// its templates are in the headers and the functions they call in the library.
#include <tee/tee.hpp>
#include <tee/testing/enclave_server.hpp>

#include <iostream>
#include <string_view>

int main(int argc, char** argv) {
#ifndef TEE_CLIENT_COMPILED_LIB
    if (argc > 1 && std::string_view(argv[1]) == "--compiled") {  // the caller meant the compiled mode
        std::cout << "consumer: FAILED, built without TEE_CLIENT_COMPILED_LIB\n";
        return 1;
    }
#endif
    (void)argc;
    (void)argv;
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
    const auto r = client.chat("hello from a consumer");
    tee::client<tee::httplib_transport, tee::openssl_crypto> other(cfg, tee::nitro_attestation(trust));
    const auto r2 = other.chat("and through OpenSSL");
    const bool ok = r.message == "hello from a consumer" && client.attest().verified &&
        client.attest().kind == "nitro" && r2.message == "and through OpenSSL" && other.attest().verified;
    std::cout << (ok ? "consumer: verified chat OK" : "consumer: FAILED") << " (tee-client " << tee::version() << ")\n";
    return ok ? 0 : 1;
}
