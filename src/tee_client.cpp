// src/tee_client.cpp - the compiled part of tee-client's opt-in separate
// compilation (TEE_CLIENT_COMPILED_LIB; see tee/detail/prelude.hpp and
// include/tee/tee.hpp). Files that define TEE_CLIENT_COMPILED_LIB see only
// declarations; this file holds the one definition of every non-template
// function of the headers, and the members of the two common clients. Built by
// meson as the tee-client-compiled static library; a project that copies the
// single header compiles this file (or these lines) once, itself.
#ifndef TEE_CLIENT_COMPILED_LIB
#define TEE_CLIENT_COMPILED_LIB
#endif
#define TEE_CLIENT_IMPLEMENTATION
#include <tee/tee.hpp>
// The Nova primitives: tee::testing's simulated Nova enclave calls them.
#include <tee/detail/nova_crypto.hpp>

template class tee::client<>;
template class tee::client<tee::httplib_transport, tee::botan_crypto, tee::mock_attestation>;
