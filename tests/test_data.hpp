// The test data of tests/data/ (real vectors, copied from ../shared/vectors so
// that a fresh clone tests on its own). meson passes the folder as
// TEE_TEST_DATA_DIR.
#pragma once

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <string>

#ifndef TEE_TEST_DATA_DIR
#error "define TEE_TEST_DATA_DIR as a string literal"
#endif

namespace tee_test {

// The whole file tests/data/<name>; the test fails if it cannot be opened.
inline std::string read_data(const std::string& name) {
    std::ifstream in(std::string(TEE_TEST_DATA_DIR) + "/" + name, std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "cannot open test data " << name);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace tee_test
