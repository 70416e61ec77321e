// tee/encoding.hpp - hex and base64, strict on input, canonical on output.
//
// The trap: Python's decoders are lenient. bytes.fromhex() skips spaces and
// base64.b64decode() (validate=False, the default) silently *discards* any
// character outside the alphabet, so "Zm9v!!" decodes like "Zm9v". Key
// material, nonces and signatures must not be "repaired" that way, so these
// decoders reject anything that is not exactly the encoding, and return
// std::nullopt instead of throwing (the caller knows which field it was and
// raises the right tee::error).
//
//   to_hex       lowercase, no separators.
//   from_hex     even length, [0-9a-fA-F] only (upper case accepted).
//   to_base64    RFC 4648 standard alphabet, '=' padded.
//   from_base64  standard alphabet only (no '-' '_'), length a multiple of 4,
//                '=' only as the last one or two characters. ASCII whitespace
//                (space, \t, \r, \n) is skipped anywhere, because the files we
//                read are line-wrapped and end with a newline.
//                Non-zero trailing bits in the last group ("Zh==" as well as
//                "Zg==") are ACCEPTED, like Python's b64decode (even with
//                validate=True): rejecting them would refuse documents that
//                the reference implementation accepts.
//
// All functions run in time linear in their input and allocate only the
// output; the only exception they can throw is std::bad_alloc.
#pragma once

#include "tee/detail/prelude.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tee {

namespace detail {

// Value of a hex digit, or -1.
constexpr int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

inline constexpr char base64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Value of a base64 digit, or -1 ('=' is not a digit).
constexpr int base64_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

constexpr bool is_ascii_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace detail

// What each accepts and writes: see the top of this file.
std::string to_hex(std::span<const std::uint8_t> bytes);
std::optional<std::vector<std::uint8_t>> from_hex(std::string_view text);
std::string to_base64(std::span<const std::uint8_t> bytes);
std::optional<std::vector<std::uint8_t>> from_base64(std::string_view text);

// ---- definitions (header-only: inline in every file; TEE_CLIENT_COMPILED_LIB:
// compiled once in src/tee_client.cpp; see tee/detail/prelude.hpp) ----
#if defined(TEE_CLIENT_DEFINITIONS)
TEE_INLINE std::string to_hex(std::span<const std::uint8_t> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (std::uint8_t b : bytes) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 0x0f]);
    }
    return out;
}

TEE_INLINE std::optional<std::vector<std::uint8_t>> from_hex(std::string_view text) {
    if (text.size() % 2 != 0) return std::nullopt;
    std::vector<std::uint8_t> out;
    out.reserve(text.size() / 2);
    for (std::size_t i = 0; i < text.size(); i += 2) {
        const int hi = detail::hex_value(text[i]);
        const int lo = detail::hex_value(text[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
    }
    return out;
}

TEE_INLINE std::string to_base64(std::span<const std::uint8_t> bytes) {
    const auto* a = detail::base64_alphabet;
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t v = std::uint32_t{bytes[i]} << 16 | std::uint32_t{bytes[i + 1]} << 8 | bytes[i + 2];
        out.push_back(a[v >> 18 & 63]);
        out.push_back(a[v >> 12 & 63]);
        out.push_back(a[v >> 6 & 63]);
        out.push_back(a[v & 63]);
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        const std::uint32_t v = std::uint32_t{bytes[i]} << 16;
        out.push_back(a[v >> 18 & 63]);
        out.push_back(a[v >> 12 & 63]);
        out.append("==");
    } else if (rest == 2) {
        const std::uint32_t v = std::uint32_t{bytes[i]} << 16 | std::uint32_t{bytes[i + 1]} << 8;
        out.push_back(a[v >> 18 & 63]);
        out.push_back(a[v >> 12 & 63]);
        out.push_back(a[v >> 6 & 63]);
        out.push_back('=');
    }
    return out;
}

TEE_INLINE std::optional<std::vector<std::uint8_t>> from_base64(std::string_view text) {
    std::vector<std::uint8_t> out;
    out.reserve(text.size() / 4 * 3);
    std::uint32_t acc = 0;    // bits of the current group of 4
    std::size_t n = 0;        // digits in the current group
    std::size_t padding = 0;  // '=' seen so far
    for (char c : text) {
        if (detail::is_ascii_space(c)) continue;
        if (c == '=') {
            // Padding may only fill positions 3 and 4 of a group ("xx==", "xxx=").
            if (n + padding < 2 || ++padding > 2) return std::nullopt;
            continue;
        }
        if (padding != 0) return std::nullopt;  // a digit after '='
        const int v = detail::base64_value(c);
        if (v < 0) return std::nullopt;
        acc = acc << 6 | static_cast<std::uint32_t>(v);
        if (++n == 4) {
            out.push_back(static_cast<std::uint8_t>(acc >> 16));
            out.push_back(static_cast<std::uint8_t>(acc >> 8));
            out.push_back(static_cast<std::uint8_t>(acc));
            acc = 0;
            n = 0;
        }
    }
    if (n + padding == 0) return out;           // a whole number of groups
    if (n + padding != 4) return std::nullopt;  // missing digits or padding
    // n is 2 ("xx==") or 3 ("xxx="); leftover low bits are ignored (see top).
    if (n == 2) {
        out.push_back(static_cast<std::uint8_t>(acc >> 4));
    } else {
        out.push_back(static_cast<std::uint8_t>(acc >> 10));
        out.push_back(static_cast<std::uint8_t>(acc >> 2));
    }
    return out;
}
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee
