// The end-to-end suites by subject, as one program (per crypto backend): each
// file costs nearly the whole client to compile, so they are one translation
// unit. tests/meson.build runs the program once per subject, filtered by
// doctest's --source-file, and checks that every subject it runs is included
// here.
#include "test_encrypted_answers.cpp"
#include "test_attestation_endpoints.cpp"
#include "test_key_rotation.cpp"
#include "test_replay.cpp"
#include "test_transport_settings.cpp"
#include "test_concurrency.cpp"
