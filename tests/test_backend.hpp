// The crypto backend the end-to-end suites run with. meson builds them twice:
// once as is (Botan) and once with -DTEE_TEST_BACKEND_OPENSSL, so that the
// whole client path is tested with both tee::crypto_backend implementations.
#pragma once

#include "tee/client.hpp"
#include "tee/openssl_crypto.hpp"

#ifdef TEE_TEST_BACKEND_OPENSSL
using test_crypto = tee::openssl_crypto;
#else
using test_crypto = tee::botan_crypto;
#endif
using test_mock_client = tee::client<tee::httplib_transport, test_crypto, tee::mock_attestation>;
using test_nitro_client = tee::client<tee::httplib_transport, test_crypto, tee::nitro_attestation>;
