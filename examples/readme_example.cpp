// The usage example of README.md, verbatim (tests/check_readme.py keeps them equal).
#include <tee/tee.hpp>

#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) try {
    tee::nitro_options pins;                             // pin your enclave image (hex PCR0)
    if (const char* pcr0 = std::getenv("ENCLAVE_PCR0")) pins.expected_pcrs[0] = pcr0;
    tee::client<> client(tee::config::from_env(), tee::nitro_attestation(pins));
    tee::chat_result r = client.chat(argc > 1 ? argv[1] : "BTC price right now");
    std::cout << r.response << "\n(signed by enclave key " << r.enclave_key_fingerprint << ")\n";
} catch (const tee::error& e) {                          // config, transport, attestation,
    std::cerr << tee::to_string(e.kind()) << " error: " << e.what() << "\n";  // protocol,
    return 1;                                            // service or signature
}
