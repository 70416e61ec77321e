// tee/tee.hpp - everything of tee-client in one include: <tee/core.hpp>, the
// default transport (cpp-httplib) and the defaulted tee::client<>.
//
//   #include <tee/tee.hpp>
//   tee::client<> c(tee::config::from_env());
//   std::cout << c.chat("BTC price right now").response << "\n";
//
// A program with its own transport needs only <tee/core.hpp> (no httplib, no
// socket or OS header); this one brings them in.
#pragma once

#include "tee/core.hpp"
#include "tee/httplib_transport.hpp"
#include "tee/openssl_crypto.hpp"  // the alternative crypto backend (links libcrypto if used)

namespace tee {

// The default transport: tee::client<> is client<httplib_transport, botan_crypto, nitro_attestation,
// tee_tls_protocol> (the other three defaults are in tee/client.hpp).
template <transport Transport = httplib_transport, crypto_backend Crypto, class Attestation, class Protocol>
requires attestation_policy<Attestation, Crypto>
class client;

// Short names for the common choices (like spdlog's _mt / _st):
using nitro_client = client<>;                                                  // the default, spelled out
using mock_client = client<httplib_transport, botan_crypto, mock_attestation>;  // development enclaves only
#if defined(BOTAN_HAS_KECCAK)
// Sparsity's Nova protocol (tee/nova_protocol.hpp), verified the same way:
using nova_client = client<httplib_transport, botan_crypto, nitro_attestation, nova_protocol>;
using nova_mock_client = client<httplib_transport, botan_crypto, mock_attestation, nova_protocol>;  // development only
#endif

// Opt-in separate compilation (like spdlog's SPDLOG_COMPILED_LIB): with
// TEE_CLIENT_COMPILED_LIB defined, files that include this header do not
// compile the two common clients' members; one file of the program does:
//     #include <tee/tee.hpp>
//     template class tee::client<>;
//     template class tee::client<tee::httplib_transport, tee::botan_crypto, tee::mock_attestation>;
// (src/tee_client.cpp, built by meson as the tee-client-compiled library).
// Other instantiations (your own policies) compile where they are used, as usual.
#if defined(TEE_CLIENT_COMPILED_LIB)
extern template class client<>;
extern template class client<httplib_transport, botan_crypto, mock_attestation>;
#endif

}  // namespace tee
