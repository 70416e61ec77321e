// tee/detail/nova_crypto.hpp - the cryptography of Sparsity's Nova protocol
// (PROTOCOL-NOVA.md sections 4, 6 and 7) as functions on bytes, for a Nova
// protocol policy to build on: Keccak-256, the EIP-191 digest, secp256k1
// public-key recovery to an Ethereum address, and the per-message AES-256-GCM
// key with its sorted-key salt. Botan only: OpenSSL 3.0 has no Keccak-256.
//
// Traps handled here:
//  - Ethereum's Keccak-256 is the original Keccak (padding 0x01), not
//    SHA3-256 (padding 0x06); they differ on every input. Botan calls it
//    "Keccak-1600(256)".
//  - Every well-formed (r, s, v) recovers *some* key, so a recovery proves
//    nothing until its address equals the attested one; and the checks Botan
//    leaves to the caller come first: 65 bytes, v only 0/1 or 27/28, r and s in
//    [1, n-1], s <= n/2 (the twin (r, n-s, v^1) recovers the same key, so
//    high s would make every answer malleable), and no point at infinity
//    (Botan 2 returns it instead of throwing).
//  - The HKDF salt sorts the two keys as *uncompressed* 97-byte points,
//    bytewise, whatever encoding a key travelled in, and ends with the same
//    12 bytes that are the GCM IV; the ECDH secret is the x coordinate only.
#pragma once

#include "tee/detail/prelude.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <botan/bigint.h>
#include <botan/ecdsa.h>
#include <botan/hash.h>

#include "tee/concepts.hpp"
#include "tee/config.hpp"
#include "tee/detail/botan_compat.hpp"
#include "tee/encoding.hpp"
#include "tee/errors.hpp"
#include "tee/detail/p384.hpp"
#include "tee/secure_bytes.hpp"

// A Botan built without Keccak would fail every answer at run time as "not
// recoverable"; refuse to compile instead (Botan 3: enable the keccak module).
#if !defined(BOTAN_HAS_KECCAK)
#error "tee/detail/nova_crypto.hpp needs Botan's keccak module (Keccak-1600(256), Ethereum's Keccak-256)"
#endif

namespace tee::detail::nova {

using hash256 = std::array<std::uint8_t, 32>;
using eth_address = std::array<std::uint8_t, 20>;

// ------------------------------------------------------------------ hashing
// Keccak-256 as Ethereum uses it (not SHA3-256).
hash256 keccak256(byte_span data);

// EIP-191 personal_sign: Keccak-256 of
// 0x19 "Ethereum Signed Message:\n" || decimal length of `message` || message.
hash256 eip191_digest(byte_span message);

// ---------------------------------------------------------------- addresses
// "0x" followed by exactly 40 hex digits, either case (not checksum-checked:
// the capsule writes lowercase). nullopt for anything else ("0X", spaces, ...).
std::optional<eth_address> parse_eth_address(std::string_view text);

// "0x" + 40 lowercase hex digits.
std::string to_string(const eth_address& address);

// The address of an uncompressed secp256k1 point 04||X||Y (65 bytes): the last
// 20 bytes of Keccak-256(X||Y). nullopt for any other length or first byte.
std::optional<eth_address> eth_address_of_point(byte_span point);

// --------------------------------------------------------------- signatures
inline constexpr std::size_t signature_size = 65;  // r(32) || s(32) || v(1)

// Why a signature is refused, in the order the checks run.
enum class signature_status {
    ok,
    wrong_length,     // not 65 bytes (the app sends "" when signing failed)
    bad_v,            // v not 0, 1, 27 or 28
    r_out_of_range,   // r = 0 or r >= n
    s_out_of_range,   // s = 0 or s >= n
    high_s,           // s > n/2: the malleable twin of a low-s signature
    not_recoverable,  // no point with x = r, or the recovered key is the point at infinity
    wrong_signer,     // a valid signature by another key (or over other bytes)
};

std::string_view to_string(signature_status status) noexcept;

struct recovered_signer {
    signature_status status = signature_status::not_recoverable;
    eth_address address{};  // meaningful when status == ok
};

// Recovers the signer of a 32-byte digest from r||s||v with Botan's
// ECDSA_PublicKey recovery constructor. Never throws: refusals come back as
// the status.
recovered_signer recover_signer(const hash256& digest, byte_span signature) noexcept;

// EIP-191 verification of `message`: ok only when the signature passes every
// check and recovers `expected`.
signature_status check_eip191_signature(byte_span message, byte_span signature, const eth_address& expected) noexcept;

// The same with the address as text ("0x" + 40 hex, compared case-insensitively)
// and failures as exceptions: attestation_error if `expected_address` is not
// an address (it can only come from the attested user_data), signature_error
// naming the failed check otherwise.
void require_eip191_signature(byte_span message, byte_span signature, std::string_view expected_address);

// The signature_error a refusal is, with its reason (an empty signature:
// missing; high s: malleable; another signer: wrong_signer; else invalid).
[[noreturn]] void throw_signature_failure(signature_status status, bool empty_signature);

// ----------------------------------------------- per-message key (section 4)
// The HKDF info label: the current runtime's, or the older enclaver runtime's.
using hkdf_label = tee::nova_label;

std::string_view label_text(hkdf_label label) noexcept;  // "capsule-ecdh-aes256gcm-v1" / "enclaver-..."

inline constexpr std::size_t nonce_size = 12;  // the GCM IV and the salt's suffix
inline constexpr std::size_t key_size = 32;    // AES-256

// salt = min(A, B) || max(A, B) || nonce, A and B the uncompressed points
// (97 bytes each, 04||X||Y) compared bytewise. Throws protocol_error unless
// both are 97-byte uncompressed points and the nonce has 12 bytes.
std::vector<std::uint8_t> message_salt(byte_span point_a, byte_span point_b, byte_span nonce);

// What a session keeps between messages: the ECDH x coordinate of its key and
// the attested enclave key (fixed for the session), and both points for the salt.
struct key_agreement {
    secure_bytes shared_x;                // 48 bytes
    std::vector<std::uint8_t> own_point;  // 04||X||Y
    std::vector<std::uint8_t> peer_point;
    hkdf_label label = hkdf_label::capsule;
};

// ECDH of our key with the peer's (its SPKI or raw point, as C::load_public_key
// accepts; throws protocol_error otherwise). Once per session and attested key.
template <crypto_backend C>
key_agreement agree(const C& crypto, const typename C::private_key& own, byte_span peer_key,
                    hkdf_label label = hkdf_label::capsule) {
    const typename C::public_key peer = crypto.load_public_key(peer_key);  // on-curve check
    const std::vector<std::uint8_t> own_spki = crypto.spki_der(own);
    const byte_span own_point = p384::point_of(own_spki);
    const byte_span peer_point = p384::point_of(peer_key);
    if (own_point.empty() || peer_point.empty()) throw protocol_error("Nova key agreement needs two P-384 keys");
    return {crypto.ecdh(own, peer), std::vector<std::uint8_t>(own_point.begin(), own_point.end()),
            std::vector<std::uint8_t>(peer_point.begin(), peer_point.end()), label};
}

// key = HKDF-SHA256(IKM = shared x, salt = message_salt(...), info = label, L = 32).
template <crypto_backend C>
secure_bytes message_key(const C& crypto, const key_agreement& ka, byte_span nonce) {
    const std::vector<std::uint8_t> salt = message_salt(ka.own_point, ka.peer_point, nonce);
    const std::string_view info = label_text(ka.label);
    return crypto.hkdf_sha256(ka.shared_x, salt,
                              byte_span(reinterpret_cast<const std::uint8_t*>(info.data()), info.size()), key_size);
}

// AES-256-GCM under the message key, IV = the same 12-byte nonce, no AAD:
// ciphertext || tag (16 bytes). Either direction (the peer derives the same key).
template <crypto_backend C>
std::vector<std::uint8_t> seal(const C& crypto, const key_agreement& ka, byte_span nonce, byte_span plaintext) {
    const secure_bytes key = message_key(crypto, ka, nonce);
    return crypto.aes256gcm_seal(key, nonce, plaintext);
}

// The plaintext, or nullopt when the tag does not verify (wrong key, nonce,
// label or bytes). Throws protocol_error for a nonce that is not 12 bytes.
template <crypto_backend C>
std::optional<secure_bytes> open(const C& crypto, const key_agreement& ka, byte_span nonce, byte_span ciphertext) {
    const secure_bytes key = message_key(crypto, ka, nonce);
    return crypto.aes256gcm_open(key, nonce, ciphertext);
}

// ---- definitions (header-only: inline in every file; TEE_CLIENT_COMPILED_LIB:
// compiled once in src/tee_client.cpp; see tee/detail/prelude.hpp) ----
#if defined(TEE_CLIENT_DEFINITIONS)
TEE_INLINE hash256 keccak256(byte_span data) {
    auto h = Botan::HashFunction::create_or_throw("Keccak-1600(256)");
    h->update(data.data(), data.size());
    hash256 out{};
    h->final(out.data());
    return out;
}

TEE_INLINE hash256 eip191_digest(byte_span message) {
    constexpr std::string_view prefix =
        "\x19"
        "Ethereum Signed Message:\n";
    const std::string length = std::to_string(message.size());
    auto h = Botan::HashFunction::create_or_throw("Keccak-1600(256)");
    h->update(reinterpret_cast<const std::uint8_t*>(prefix.data()), prefix.size());
    h->update(reinterpret_cast<const std::uint8_t*>(length.data()), length.size());
    h->update(message.data(), message.size());
    hash256 out{};
    h->final(out.data());
    return out;
}

TEE_INLINE std::optional<eth_address> parse_eth_address(std::string_view text) {
    if (text.size() != 2 + 2 * 20 || text[0] != '0' || text[1] != 'x') return std::nullopt;
    eth_address out{};
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int hi = hex_value(text[2 + 2 * i]), lo = hex_value(text[3 + 2 * i]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return out;
}

TEE_INLINE std::string to_string(const eth_address& address) { return "0x" + to_hex(address); }

TEE_INLINE std::optional<eth_address> eth_address_of_point(byte_span point) {
    if (point.size() != 65 || point[0] != 0x04) return std::nullopt;
    const hash256 h = keccak256(point.subspan(1));
    eth_address out{};
    std::copy(h.end() - 20, h.end(), out.begin());
    return out;
}

TEE_INLINE std::string_view to_string(signature_status status) noexcept {
    switch (status) {
        case signature_status::ok: return "valid";
        case signature_status::wrong_length: return "signature is not 65 bytes r||s||v";
        case signature_status::bad_v: return "signature recovery id v is not 0, 1, 27 or 28";
        case signature_status::r_out_of_range: return "signature r is not in [1, n-1]";
        case signature_status::s_out_of_range: return "signature s is not in [1, n-1]";
        case signature_status::high_s: return "signature s is above n/2 (not the canonical low-s form)";
        case signature_status::not_recoverable: return "no public key can be recovered from the signature";
        case signature_status::wrong_signer: return "signature is not by the attested address";
    }
    return "invalid signature";
}

TEE_INLINE recovered_signer recover_signer(const hash256& digest, byte_span signature) noexcept {
    if (signature.size() != signature_size) return {signature_status::wrong_length, {}};
    std::uint8_t v = signature[64];
    if (v == 27 || v == 28) v = static_cast<std::uint8_t>(v - 27);
    if (v > 1) return {signature_status::bad_v, {}};
    try {
        const Botan::EC_Group& group = botan::secp256k1();
        const Botan::BigInt& n = group.get_order();
        const Botan::BigInt r(signature.data(), 32), s(signature.data() + 32, 32);
        if (r.is_zero() || r >= n) return {signature_status::r_out_of_range, {}};
        if (s.is_zero() || s >= n) return {signature_status::s_out_of_range, {}};
        if (s > (n >> 1)) return {signature_status::high_s, {}};
        const Botan::ECDSA_PublicKey key(group, std::vector<std::uint8_t>(digest.begin(), digest.end()), r, s, v);
        // Botan 2 hands back the point at infinity (encoded as one zero byte)
        // when s*R == e*G; Botan 3 throws. Either way: not a key.
        if (auto address = eth_address_of_point(botan::point_of(key))) return {signature_status::ok, *address};
        return {signature_status::not_recoverable, {}};
    } catch (const std::exception&) {
        return {signature_status::not_recoverable, {}};  // no curve point with x = r, and the like
    }
}

TEE_INLINE signature_status check_eip191_signature(byte_span message, byte_span signature,
                                                   const eth_address& expected) noexcept {
    try {
        const recovered_signer signer = recover_signer(eip191_digest(message), signature);
        if (signer.status != signature_status::ok) return signer.status;
        return signer.address == expected ? signature_status::ok : signature_status::wrong_signer;
    } catch (const std::exception&) {
        return signature_status::not_recoverable;  // Keccak missing from the Botan build, or out of memory
    }
}

TEE_INLINE void require_eip191_signature(byte_span message, byte_span signature, std::string_view expected_address) {
    const std::optional<eth_address> expected = parse_eth_address(expected_address);
    if (!expected)
        throw attestation_error(attestation_reason::key_binding,
                                "attested eth_addr is not \"0x\" followed by 40 hex digits");
    const signature_status status = check_eip191_signature(message, signature, *expected);
    if (status != signature_status::ok) throw_signature_failure(status, signature.empty());
}

TEE_INLINE void throw_signature_failure(signature_status status, bool empty_signature) {
    const signature_reason reason = status == signature_status::wrong_signer ? signature_reason::wrong_signer
        : status == signature_status::high_s                                 ? signature_reason::malleable
        : empty_signature                                                    ? signature_reason::missing
                                                                             : signature_reason::invalid;
    throw signature_error(reason, "Nova answer: " + std::string(to_string(status)));
}

TEE_INLINE std::string_view label_text(hkdf_label label) noexcept {
    return label == hkdf_label::enclaver ? "enclaver-ecdh-aes256gcm-v1" : "capsule-ecdh-aes256gcm-v1";
}

TEE_INLINE std::vector<std::uint8_t> message_salt(byte_span point_a, byte_span point_b, byte_span nonce) {
    const auto uncompressed = [](byte_span p) { return p.size() == p384::point_size && p[0] == 0x04; };
    if (!uncompressed(point_a) || !uncompressed(point_b))
        throw protocol_error("Nova HKDF salt needs two uncompressed P-384 points (97 bytes, 04||x||y)");
    if (nonce.size() != nonce_size) throw protocol_error("Nova message nonce must be 12 bytes");
    const bool a_first = std::lexicographical_compare(point_a.begin(), point_a.end(), point_b.begin(), point_b.end());
    const byte_span lo = a_first ? point_a : point_b, hi = a_first ? point_b : point_a;
    std::vector<std::uint8_t> salt(lo.size() + hi.size() + nonce.size());  // sized once: GCC 12 -O3 misreads insert()
    auto out = std::copy(lo.begin(), lo.end(), salt.begin());
    out = std::copy(hi.begin(), hi.end(), out);
    std::copy(nonce.begin(), nonce.end(), out);
    return salt;
}
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee::detail::nova
