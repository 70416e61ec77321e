// tee/core.hpp - tee-client without a transport: the client template, the
// policy concepts, the errors, the protocol, the crypto backend (Botan) and the
// attestation policies. It includes no HTTP library and no socket or OS header
// (tests/check_core_include.py compiles a program with a poisoned <httplib.h>
// and <linux/...> first on the include path), so it compiles wherever C++20,
// Botan and nlohmann/json do; bring a transport (docs/policies.md,
// examples/custom_transport.cpp) and name it:
//
//   #include <tee/core.hpp>
//   tee::client<my_transport> c(cfg);   // Botan, Nitro attestation, tee-tls
//   tee::client<my_transport, tee::botan_crypto, tee::nitro_attestation, tee::nova_protocol> n(cfg);
//
// <tee/tee.hpp> adds the default transport (cpp-httplib) and tee::client<>.
#pragma once

#include "tee/version.hpp"
#include "tee/errors.hpp"
#include "tee/concepts.hpp"
#include "tee/config.hpp"
#include "tee/protocol.hpp"
#include "tee/botan_crypto.hpp"
#include "tee/mock_attestation.hpp"
#include "tee/nitro_attestation.hpp"
#include "tee/tee_tls_protocol.hpp"
#if defined(BOTAN_HAS_KECCAK)
#include "tee/nova_protocol.hpp"  // needs Botan's keccak module
#endif
#include "tee/receipt.hpp"
#include "tee/client.hpp"
