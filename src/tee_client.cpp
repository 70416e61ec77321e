// src/tee_client.cpp - the compiled part of tee-client's opt-in separate
// compilation (TEE_CLIENT_COMPILED_LIB; see include/tee/client.hpp): the two
// common clients' members, compiled once here instead of in every file that
// uses them. Built by meson as the tee-client-compiled static library; a
// project that copies the single header can compile this file (or these three
// lines) itself.
#include <tee/tee.hpp>

template class tee::client<>;
template class tee::client<tee::httplib_transport, tee::botan_crypto, tee::mock_attestation>;
