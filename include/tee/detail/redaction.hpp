// tee/detail/redaction.hpp - cuts a secret (the API key) out of a text that
// may carry it: an error message built from what a service sent back.
//
// The trap: a service that echoes the request (or a hostile one) rarely
// returns the key as is. It comes back JSON-escaped (\u0073k-..., \" or \/),
// sometimes escaped twice (the dump of a string holding an escape), so a plain
// find-and-replace misses it. secret_end matches the key in any of those
// forms, character by character. And a text cut to size must be redacted
// BEFORE the cut, or the part of a key that straddles the cut survives.
// Used by tee::error::redact and by protocol::refusal_text.
#pragma once

#include "tee/detail/prelude.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tee/detail/utf8.hpp"

namespace tee::detail {

// Where an occurrence of `secret` that starts at `at` in `text` ends, or npos.
// It may be written as is or JSON-escaped, each character on its own: \uXXXX
// in either case (a surrogate pair above U+FFFF), or \" \\ \/ \b \f \n \r \t,
// also escaped again (\\u0073, as the dump of a string holding an escape).
std::size_t secret_end(std::string_view text, std::size_t at, std::string_view secret);

// `text` with every occurrence of `secret` (as secret_end finds them) replaced
// by "[API key redacted]", then cut after `max` characters ("..." follows) with
// bytes outside printable ASCII shown as '?' - the redaction first, so that no
// part of a secret straddling the cut remains. max = npos: neither cut nor mapped.
std::string redacted_prefix(std::string_view text, std::string_view secret, std::size_t max);

// ---- definitions (header-only: inline in every file; TEE_CLIENT_COMPILED_LIB:
// compiled once in src/tee_client.cpp; see tee/detail/prelude.hpp) ----
#if defined(TEE_CLIENT_DEFINITIONS)
TEE_INLINE std::size_t secret_end(std::string_view text, std::size_t at, std::string_view secret) {
    // The character escaped at text[j] and the bytes its escape takes. A run of
    // backslashes counts as one, so that an escape escaped again (the dump of a
    // string holding "\u0073") is found as well.
    auto escaped = [&](std::size_t j, char32_t& got, std::size_t& used) {
        std::size_t n = 0;
        while (j + n < text.size() && text[j + n] == '\\') ++n;
        if (n == 0) return false;
        const char e = j + n < text.size() ? text[j + n] : '\0';
        used = n + 1;
        switch (e) {
            case '"': got = '"'; return true;
            case '/': got = '/'; return true;
            case 'b': got = '\b'; return true;
            case 'f': got = '\f'; return true;
            case 'n': got = '\n'; return true;
            case 'r': got = '\r'; return true;
            case 't': got = '\t'; return true;
            case 'u': {
                if (text.size() - (j + n + 1) < 4) return false;
                std::uint32_t unit = 0;
                for (std::size_t k = j + n + 1; k < j + n + 5; ++k) {
                    const char c = text[k];
                    const int d = c >= '0' && c <= '9' ? c - '0'
                        : c >= 'a' && c <= 'f'         ? c - 'a' + 10
                        : c >= 'A' && c <= 'F'         ? c - 'A' + 10
                                                       : -1;
                    if (d < 0) return false;
                    unit = unit << 4 | static_cast<std::uint32_t>(d);
                }
                got = unit;
                used = n + 5;
                return true;
            }
            default:  // "\\" (or "\\\\"...): a backslash
                got = '\\';
                used = n;
                return n >= 2;
        }
    };
    std::size_t i = at;
    for (std::size_t k = 0; k < secret.size();) {
        char32_t cp = 0;
        std::size_t len = utf8_decode(secret, k, cp);
        if (len == 0) {
            len = 1;
            cp = 0xFFFFFFFF;
        }  // an invalid byte matches only as is
        if (text.substr(i).substr(0, len) == secret.substr(k, len)) {
            i += len;
            k += len;
            continue;
        }
        char32_t got = 0, low = 0;
        std::size_t used = 0, used_low = 0;
        if (!escaped(i, got, used)) return std::string_view::npos;
        if (got >= 0xd800 && got < 0xdc00 && escaped(i + used, low, used_low) && low >= 0xdc00 && low < 0xe000) {
            got = 0x10000 + ((got - 0xd800) << 10) + (low - 0xdc00);  // a surrogate pair
            used += used_low;
        }
        if (got != cp) return std::string_view::npos;
        i += used;
        k += len;
    }
    return i;
}

TEE_INLINE std::string redacted_prefix(std::string_view text, std::string_view secret, std::size_t max) {
    static constexpr std::string_view mark = "[API key redacted]";
    std::string out;
    std::size_t i = 0;
    // Each step reads at most 12 bytes per character of the secret: bounded by max.
    while (i < text.size() && out.size() < max) {
        if (const std::size_t end = secret.empty() ? std::string_view::npos : secret_end(text, i, secret);
            end != std::string_view::npos) {
            out += mark;
            i = end;
            continue;
        }
        const auto c = static_cast<unsigned char>(text[i++]);
        out.push_back(max == std::string_view::npos || (c >= 0x20 && c <= 0x7e) ? static_cast<char>(c) : '?');
    }
    if (i < text.size()) out += "...";
    return out;
}
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee::detail
