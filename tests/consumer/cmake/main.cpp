// tests/consumer/cmake/main.cpp - a program built by CMake against an installed
// tee-client (find_package(tee-client CONFIG), tests/check_cmake_package.sh):
// one chat with the enclave at TEE_TLS_URL (mock_enclave), through
// tee::mock_client, the answer's signature verified.
#include <tee/tee.hpp>

#include <iostream>

int main(int argc, char** argv) try {
    tee::mock_client client(tee::config::from_env());
    tee::chat_result r = client.chat(argc > 1 ? argv[1] : "hello from CMake");
#ifdef TEE_CLIENT_COMPILED_LIB
    const char* mode = "compiled";
#else
    const char* mode = "header-only";
#endif
    std::cout << r.response << "\ncmake consumer (" << mode << "): chat verified, attestation " << r.attestation_kind
              << "\n";
} catch (const tee::error& e) {
    std::cerr << tee::to_string(e.kind()) << " error: " << e.what() << "\n";
    return 1;
}
