// tee/detail/p384_comb.hpp - ECDSA P-384 verification for a key that verifies
// often (the enclave's session key verifies every answer), on Botan 2's point
// arithmetic.
//
// Botan's verifier computes u1*G + u2*Q with a 2-bit joint window: 384 point
// doublings and ~180 additions, then an inversion for the affine x. With both
// bases fixed, a comb (Lim-Lee, 8 teeth 48 bits apart) needs 47 doublings and
// ~94 additions of precomputed affine points, and the x check is done in
// Jacobian coordinates without an inversion: about 3x less work. Each base's
// table (255 affine points) costs about one and a half verifications to build;
// G's is built once per process, Q's once per key (botan_crypto builds it at a
// key's second verification, so one-shot keys never pay for it).
//
// Verification handles only public data, so variable time is fine here; every
// special case of the group law (doubling, P + -P, the point at infinity) is
// Botan's add_affine/mult2. The steps are SEC 1 v2, 4.1.4; the tests compare
// every answer with Botan's PK_Verifier and OpenSSL.
//
// Botan 2 only: Botan 3 has no public point arithmetic outside its deprecated
// legacy_ec_point module, and its own verifier (PK_Verifier, kept per key by
// botan_crypto) already uses fixed-base tables. On Botan 3 this header is
// empty, and this file goes when Botan 2 support does.
#pragma once

#include "tee/detail/prelude.hpp"

#include <botan/build.h>

#if BOTAN_VERSION_MAJOR < 3

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include <botan/bigint.h>
#include <botan/ec_group.h>
#include <botan/hash.h>
#include <botan/point_gfp.h>

namespace tee::detail {

// (r, s) of a DER ECDSA-Sig-Value, SEQUENCE { INTEGER r, INTEGER s }, in the
// strict form Botan's PK_Verifier accepts: short or minimal long lengths, no
// trailing bytes, non-negative minimal INTEGERs of at most 48 value bytes.
// Anything else is nullopt (an invalid signature, not an error).
std::optional<std::pair<Botan::BigInt, Botan::BigInt>> parse_der_p384_signature(std::span<const std::uint8_t> der);

class p384_comb {
public:
    static constexpr std::size_t teeth = 8, spacing = 48;  // 8 * 48 = 384 scalar bits

    // `q`: a point of the group (botan_crypto loads keys with OS2ECP, which
    // checks that), not the point at infinity.
    explicit p384_comb(const Botan::PointGFp& q);

    static const Botan::EC_Group& group();

    // SEC 1 4.1.4 with H = SHA-384(msg): true iff (r, s) is a signature of msg by q.
    bool verify(std::span<const std::uint8_t> msg, const Botan::BigInt& r, const Botan::BigInt& s) const;

    // The same, for a signature as DER (parse_der_p384_signature's strict form)
    // or as r||s (IEEE 1363, 48 bytes each), what PK_Verifier's two formats take.
    bool verify_der(std::span<const std::uint8_t> msg, std::span<const std::uint8_t> der) const;
    bool verify_raw(std::span<const std::uint8_t> msg, std::span<const std::uint8_t> raw) const;

    // u1*G + u2*Q for scalars below the order.
    Botan::PointGFp multiply(const Botan::BigInt& u1, const Botan::BigInt& u2) const;

    // Whether x(pt) mod n == r, for 0 < r < n, without converting pt to affine:
    // with Jacobian X = x*Z^2, x = c means X == c*Z^2 (mod p), and x mod n == r
    // means x == r or x == r + n (possible when r + n < p).
    static bool x_mod_n_is(const Botan::PointGFp& pt, const Botan::BigInt& r);

private:
    using table = std::vector<Botan::PointGFp>;  // [b - 1] = sum over the bits j of b of 2^(48 j) * base, affine

    static table build(const Botan::PointGFp& base);
    static const table& g_table();

    table q_;
};

// ---- definitions (header-only: inline in every file; TEE_CLIENT_COMPILED_LIB:
// compiled once in src/tee_client.cpp; see tee/detail/prelude.hpp) ----
#if defined(TEE_CLIENT_DEFINITIONS)
TEE_INLINE std::optional<std::pair<Botan::BigInt, Botan::BigInt>> parse_der_p384_signature(
    std::span<const std::uint8_t> der) {
    std::size_t at = 0;
    auto length = [&](std::size_t& out) -> bool {  // DER definite length, minimal
        if (at >= der.size()) return false;
        std::uint8_t b = der[at++];
        if (b < 0x80) {
            out = b;
            return true;
        }
        if (b != 0x81 || at >= der.size() || der[at] < 0x80) return false;  // <= 255 needs one byte
        out = der[at++];
        return true;
    };
    auto integer = [&](Botan::BigInt& out) -> bool {
        std::size_t n = 0;
        if (at >= der.size() || der[at++] != 0x02 || !length(n) || n == 0 || n > der.size() - at) return false;
        const std::uint8_t* v = der.data() + at;
        if (v[0] & 0x80) return false;                              // negative
        if (n > 1 && v[0] == 0x00 && !(v[1] & 0x80)) return false;  // not minimal
        if (v[0] == 0x00 && n > 1) {
            ++v;
            --n;
        }  // sign byte
        if (n > 48) return false;
        out = Botan::BigInt(v, n);
        at += (v - (der.data() + at)) + n;
        return true;
    };
    std::size_t seq = 0;
    if (der.empty() || der[at++] != 0x30 || !length(seq) || seq != der.size() - at) return std::nullopt;
    Botan::BigInt r, s;
    if (!integer(r) || !integer(s) || at != der.size()) return std::nullopt;
    return std::pair{std::move(r), std::move(s)};
}

TEE_INLINE p384_comb::p384_comb(const Botan::PointGFp& q) : q_(build(q)) {}

TEE_INLINE const Botan::EC_Group& p384_comb::group() {
    static const Botan::EC_Group g("secp384r1");
    return g;
}

TEE_INLINE bool p384_comb::verify(std::span<const std::uint8_t> msg, const Botan::BigInt& r,
                                  const Botan::BigInt& s) const {
    const Botan::EC_Group& g = group();
    const Botan::BigInt& n = g.get_order();
    if (r.is_zero() || r.is_negative() || r >= n || s.is_zero() || s.is_negative() || s >= n) return false;
    auto h = Botan::HashFunction::create_or_throw("SHA-384");
    h->update(msg.data(), msg.size());
    std::array<std::uint8_t, 48> digest{};
    h->final(digest.data());
    const Botan::BigInt e = g.mod_order(Botan::BigInt(digest.data(), digest.size()));  // 384 bits: all of H
    const Botan::BigInt w = g.inverse_mod_order(s);
    const Botan::BigInt u1 = g.multiply_mod_order(e, w);
    const Botan::BigInt u2 = g.multiply_mod_order(r, w);
    return x_mod_n_is(multiply(u1, u2), r);
}

TEE_INLINE bool p384_comb::verify_der(std::span<const std::uint8_t> msg, std::span<const std::uint8_t> der) const {
    const auto rs = parse_der_p384_signature(der);
    return rs && verify(msg, rs->first, rs->second);
}

TEE_INLINE bool p384_comb::verify_raw(std::span<const std::uint8_t> msg, std::span<const std::uint8_t> raw) const {
    return raw.size() == 96 && verify(msg, Botan::BigInt(raw.data(), 48), Botan::BigInt(raw.data() + 48, 48));
}

TEE_INLINE Botan::PointGFp p384_comb::multiply(const Botan::BigInt& u1, const Botan::BigInt& u2) const {
    const table& tg = g_table();
    std::vector<Botan::BigInt> ws(Botan::PointGFp::WORKSPACE_SIZE);
    Botan::PointGFp acc = group().zero_point();
    for (std::size_t i = spacing; i-- > 0;) {
        acc.mult2(ws);  // nothing to do while acc is the point at infinity
        std::size_t a = 0, b = 0;
        for (std::size_t j = 0; j < teeth; ++j) {
            a |= std::size_t{u1.get_bit(j * spacing + i)} << j;
            b |= std::size_t{u2.get_bit(j * spacing + i)} << j;
        }
        if (a) acc.add_affine(tg[a - 1], ws);
        if (b) acc.add_affine(q_[b - 1], ws);
    }
    return acc;
}

TEE_INLINE bool p384_comb::x_mod_n_is(const Botan::PointGFp& pt, const Botan::BigInt& r) {
    if (pt.is_zero()) return false;
    const Botan::EC_Group& g = group();
    const Botan::BigInt& p = g.get_p();
    Botan::secure_vector<Botan::word> ws;
    const Botan::CurveGFp& curve = pt.get_curve();
    const Botan::BigInt x = curve.from_rep_to_tmp(pt.get_x(), ws) % p;
    const Botan::BigInt z = curve.from_rep_to_tmp(pt.get_z(), ws) % p;
    const Botan::BigInt z2 = (z * z) % p;
    if ((r * z2) % p == x) return true;
    const Botan::BigInt r_plus_n = r + g.get_order();
    return r_plus_n < p && (r_plus_n * z2) % p == x;
}

TEE_INLINE p384_comb::table p384_comb::build(const Botan::PointGFp& base) {
    std::vector<Botan::BigInt> ws(Botan::PointGFp::WORKSPACE_SIZE);
    std::array<Botan::PointGFp, teeth> rows;  // 2^(48 j) * base
    rows[0] = base;
    for (std::size_t j = 1; j < teeth; ++j) {
        rows[j] = rows[j - 1];
        rows[j].mult2i(spacing, ws);
    }
    table t(255);
    for (std::size_t b = 1; b < 256; ++b) {
        std::size_t top = 0;
        while ((b >> (top + 1)) != 0) ++top;
        const std::size_t rest = b & ~(std::size_t{1} << top);
        t[b - 1] = rest == 0 ? rows[top] : t[rest - 1].plus(rows[top], ws);
    }
    // No entry is the point at infinity: each is k * base with 0 < k < 2^337 < n.
    Botan::secure_vector<Botan::word> mws;
    Botan::PointGFp::force_all_affine(t, mws);
    return t;
}

TEE_INLINE const p384_comb::table& p384_comb::g_table() {
    static const table t = build(group().get_base_point());
    return t;
}
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee::detail
#endif  // BOTAN_VERSION_MAJOR < 3
