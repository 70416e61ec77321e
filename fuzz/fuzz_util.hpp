// fuzz/fuzz_util.hpp - shared by the libFuzzer targets: a check that aborts
// (libFuzzer then saves the input as crash-*), and byte/text views.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <span>
#include <string_view>

// Unlike assert(), always on (the fuzz build may define NDEBUG).
#define FUZZ_CHECK(cond)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                      \
        }                                                                                      \
    } while (0)

namespace fuzz {
inline std::span<const std::uint8_t> bytes(const std::uint8_t* data, std::size_t size) { return {data, size}; }
inline std::string_view text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}
// With FUZZ_VERBOSE=1 in the environment, prints why an input was refused
// (to see how deep a corpus gets: FUZZ_VERBOSE=1 fuzz_x -runs=0 corpus/).
inline void refused(const std::exception& e) {
    static const bool verbose = std::getenv("FUZZ_VERBOSE") != nullptr;
    if (verbose) std::fprintf(stderr, "refused: %s\n", e.what());
}
inline void accepted(const char* what) {
    static const bool verbose = std::getenv("FUZZ_VERBOSE") != nullptr;
    if (verbose) std::fprintf(stderr, "accepted: %s\n", what);
}
}  // namespace fuzz
