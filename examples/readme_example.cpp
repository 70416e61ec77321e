// The usage example of README.md, verbatim (tests/check_readme.py keeps them equal).
#include <tee/tee.hpp>

#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) try {
    tee::nitro_options pins;          // pin your enclave image: PCR0..2, hex
    for (unsigned i = 0; i < 3; ++i)  // (unpinned, it is refused, its PCRs shown)
        if (const char* v = std::getenv(("ENCLAVE_PCR" + std::to_string(i)).c_str())) pins.expected_pcrs[i] = v;
    tee::client<> client(tee::config::from_env(), tee::nitro_attestation(pins));
    tee::chat_result r = client.chat(argc > 1 ? argv[1] : "BTC price right now");
    std::cout << r.response << "\n(signed by enclave key " << r.enclave_key_fingerprint << ")\n";
} catch (const tee::error& e) {                                               // config, transport, attestation,
    std::cerr << tee::to_string(e.kind()) << " error: " << e.what() << "\n";  // protocol,
    return 1;                                                                 // service or signature
}
