// tests/compile_fail/nova_with_openssl.cpp - the Nova protocol needs Keccak-256
// and secp256k1 signer recovery, which openssl_crypto lacks (OpenSSL 3.0 has no
// Keccak-256): tee::client<> must refuse the combination at compile time, naming
// the protocol_policy concept (and its static_assert says why). Compiled as is
// (must fail) and with -DTEE_CONTROL (botan_crypto: must compile) by check.py.
#include <tee/tee.hpp>

#ifdef TEE_CONTROL
using crypto = tee::botan_crypto;
#else
using crypto = tee::openssl_crypto;
#endif

int main() {
    tee::client<tee::httplib_transport, crypto, tee::nitro_attestation, tee::nova_protocol> client(tee::config{});
    (void)client;
}
