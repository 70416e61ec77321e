// tests/compile_fail/missing_crypto_member.cpp - a crypto backend without
// sha384 is not a tee::crypto_backend: tee::client<> must refuse it with the
// concept's name. Compiled as is (must fail) and with -DTEE_CONTROL (must
// compile) by check.py.
#include <tee/tee.hpp>

// Botan's backend with every member re-exported but one.
struct no_sha384_crypto : private tee::botan_crypto {
    using tee::botan_crypto::private_key, tee::botan_crypto::public_key;
    using tee::botan_crypto::random_bytes, tee::botan_crypto::generate_p384, tee::botan_crypto::spki_der,
        tee::botan_crypto::load_public_key, tee::botan_crypto::ecdh, tee::botan_crypto::hkdf_sha256,
        tee::botan_crypto::aes256gcm_seal, tee::botan_crypto::aes256gcm_open, tee::botan_crypto::ecdsa_p384_verify_der,
        tee::botan_crypto::ecdsa_p384_verify_raw, tee::botan_crypto::sha256;
#ifdef TEE_CONTROL
    using tee::botan_crypto::sha384;
#endif
};

int main() {
    tee::client<tee::httplib_transport, no_sha384_crypto> client(tee::config{});
    (void)client;
}
