// tee/detail/p384.hpp - the two encodings of a P-384 public key the protocol uses.
//
// On the wire a key is a DER SubjectPublicKeyInfo with algorithm
// id-ecPublicKey (1.2.840.10045.2.1) and curve secp384r1 (1.3.132.0.34),
// uncompressed point: exactly 120 bytes. Python's cryptography writes exactly
// this; it refuses Botan's ECDH-OID variant. Raw points 04||x||y (97 bytes)
// are accepted when reading an enclave key.
#pragma once

#include "tee/detail/prelude.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "tee/encoding.hpp"

namespace tee {

namespace p384 {
// DER prefix of an uncompressed P-384 SubjectPublicKeyInfo (id-ecPublicKey,
// secp384r1, BIT STRING with 0 unused bits); the 97-byte point 04||x||y follows.
inline constexpr std::array<std::uint8_t, 23> spki_prefix = {0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86,
                                                             0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
                                                             0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00};
inline constexpr std::size_t point_size = 97;                              // 04 || x(48) || y(48)
inline constexpr std::size_t spki_size = spki_prefix.size() + point_size;  // 120

// The uncompressed point inside `key`: the SPKI above or the raw point itself.
// Returns an empty span for anything else.
std::span<const std::uint8_t> point_of(std::span<const std::uint8_t> key) noexcept;

std::vector<std::uint8_t> spki_of_point(std::span<const std::uint8_t> point);
}  // namespace p384

// A key as the newer attestation endpoint writes it: hex of a DER SPKI, hex of
// a raw point, or PEM ("-----BEGIN PUBLIC KEY-----"). Empty if none of those.
std::vector<std::uint8_t> parse_public_key_text(std::string_view text);

// ---- definitions (header-only: inline in every file; TEE_CLIENT_COMPILED_LIB:
// compiled once in src/tee_client.cpp; see tee/detail/prelude.hpp) ----
#if defined(TEE_CLIENT_DEFINITIONS)
TEE_INLINE std::span<const std::uint8_t> p384::point_of(std::span<const std::uint8_t> key) noexcept {
    if (key.size() == point_size && key[0] == 0x04) return key;
    if (key.size() == spki_size && std::equal(spki_prefix.begin(), spki_prefix.end(), key.begin()) &&
        key[spki_prefix.size()] == 0x04)
        return key.subspan(spki_prefix.size());
    return {};
}

// Not inlined with GCC (tee/detail/prelude.hpp): inlined after a key's
// encoding, GCC 12 at -O3 reports a false -Wstringop-overflow for the copy.
TEE_GCC_NOINLINE TEE_INLINE std::vector<std::uint8_t> p384::spki_of_point(std::span<const std::uint8_t> point) {
    std::vector<std::uint8_t> out(spki_prefix.size() + point.size());
    std::copy(spki_prefix.begin(), spki_prefix.end(), out.begin());
    std::copy(point.begin(), point.end(), out.begin() + static_cast<std::ptrdiff_t>(spki_prefix.size()));
    return out;
}

TEE_INLINE std::vector<std::uint8_t> parse_public_key_text(std::string_view text) {
    constexpr std::string_view begin = "-----BEGIN PUBLIC KEY-----", end = "-----END PUBLIC KEY-----";
    std::optional<std::vector<std::uint8_t>> bytes;
    if (auto b = text.find(begin); b != std::string_view::npos) {
        auto e = text.find(end, b);
        if (e == std::string_view::npos) return {};
        bytes = from_base64(text.substr(b + begin.size(), e - b - begin.size()));
    } else {
        bytes = from_hex(text);
    }
    if (!bytes || p384::point_of(*bytes).empty()) return {};
    return *bytes;
}
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee
