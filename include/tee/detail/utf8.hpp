// tee/detail/utf8.hpp - one strict UTF-8 decoder (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), shared by the JSON and CBOR code.
#pragma once

#include "tee/detail/prelude.hpp"

#include <cstddef>
#include <string_view>

namespace tee {

// Decodes the code point starting at s[i] into cp and returns its length in
// bytes, or 0 if the bytes there are not valid UTF-8.
std::size_t utf8_decode(std::string_view s, std::size_t i, char32_t& cp) noexcept;

// Offset of the first invalid byte, or s.size() when all of s is valid UTF-8.
std::size_t utf8_error_offset(std::string_view s) noexcept;

bool is_valid_utf8(std::string_view s) noexcept;

// ---- definitions (header-only: inline in every file; TEE_CLIENT_COMPILED_LIB:
// compiled once in src/tee_client.cpp; see tee/detail/prelude.hpp) ----
#if defined(TEE_CLIENT_DEFINITIONS)
TEE_INLINE std::size_t utf8_decode(std::string_view s, std::size_t i, char32_t& cp) noexcept {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t len;
    char32_t min;
    if (b0 < 0x80) {
        cp = b0;
        return 1;
    }
    if ((b0 & 0xe0) == 0xc0) {
        len = 2;
        cp = b0 & 0x1fu;
        min = 0x80;
    } else if ((b0 & 0xf0) == 0xe0) {
        len = 3;
        cp = b0 & 0x0fu;
        min = 0x800;
    } else if ((b0 & 0xf8) == 0xf0) {
        len = 4;
        cp = b0 & 0x07u;
        min = 0x10000;
    } else
        return 0;
    if (s.size() - i < len) return 0;
    for (std::size_t k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (b & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

TEE_INLINE std::size_t utf8_error_offset(std::string_view s) noexcept {
    std::size_t i = 0;
    char32_t cp;
    while (i < s.size()) {
        std::size_t n = utf8_decode(s, i, cp);
        if (n == 0) return i;
        i += n;
    }
    return i;
}

TEE_INLINE bool is_valid_utf8(std::string_view s) noexcept { return utf8_error_offset(s) == s.size(); }
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee
