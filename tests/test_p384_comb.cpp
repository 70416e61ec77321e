// Tests of tee/detail/p384_comb.hpp, the ECDSA P-384 verification botan_crypto
// uses from a key's second verification on. Nothing here trusts it: every
// verdict is compared with Botan's own PK_Verifier and with OpenSSL, every point
// with Botan's point_multiply.
//
//  * the strict DER parser accepts exactly the signatures Botan's PK_Verifier
//    accepts (hand-made encodings, then random mutations);
//  * the comb's u1*G + u2*Q equals Botan's for random and edge scalars, and for
//    Q = G, -G, 2G, where additions meet the doubling and P + -P cases;
//  * x(R) mod n == r checked in Jacobian coordinates: x below n, x above n
//    (r + n), a wrong r, the point at infinity; a key and signature whose R
//    has x(R) > n, where only the range check r < n refuses (r + n, s);
//  * 1,200 random verifications through botan_crypto (a kept key, so the comb)
//    agree with a fresh PK_Verifier and with openssl_crypto, valid and tampered;
//  * the known answer: the service's real signed answer, through the comb.
#include "tee/botan_crypto.hpp"
#include "tee/detail/p384_comb.hpp"
#include "tee/openssl_crypto.hpp"

#include <doctest/doctest.h>

#include "test_data.hpp"

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <botan/der_enc.h>
#include <botan/ecdsa.h>
#include <botan/hash.h>
#include <botan/numthry.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>
#include <nlohmann/json.hpp>

namespace {
using bytes = std::vector<std::uint8_t>;
using Botan::BigInt;
using Botan::PointGFp;
using tee::detail::p384_comb;

const Botan::EC_Group& group() { return p384_comb::group(); }
const BigInt& order() { return group().get_order(); }

bytes der_of(const BigInt& r, const BigInt& s) {
    bytes out;
    Botan::DER_Encoder(out).start_cons(Botan::SEQUENCE).encode(r).encode(s).end_cons();
    return out;
}
bytes raw_of(const BigInt& r, const BigInt& s) {
    auto a = BigInt::encode_1363(r, 48), b = BigInt::encode_1363(s, 48);
    bytes out(a.begin(), a.end());
    out.insert(out.end(), b.begin(), b.end());
    return out;
}

// Botan's own verdict: a fresh PK_Verifier (botan_crypto's path for a key's first verification).
bool botan_says(const Botan::ECDSA_PublicKey& key, const bytes& msg, const bytes& sig, Botan::Signature_Format f) {
    try {
        Botan::PK_Verifier v(key, "EMSA1(SHA-384)", f);
        return v.verify_message(msg, sig);
    } catch (const std::exception&) {
        return false;
    }
}

BigInt random_scalar(std::mt19937_64& rng) {
    bytes v(48);
    for (auto& x : v) x = static_cast<std::uint8_t>(rng());
    return BigInt(v.data(), v.size()) % order();
}

using tee_test::read_data;

struct signer {
    Botan::ECDSA_PrivateKey key{Botan::system_rng(), group()};
    bytes sign(const bytes& msg, Botan::Signature_Format f = Botan::DER_SEQUENCE) {
        Botan::PK_Signer s(key, Botan::system_rng(), "EMSA1(SHA-384)", f);
        auto sig = s.sign_message(msg, Botan::system_rng());
        return bytes(sig.begin(), sig.end());
    }
    bytes spki() const { return tee::p384::spki_of_point(key.public_point().encode(PointGFp::UNCOMPRESSED)); }
};
}  // namespace

TEST_CASE("DER signatures: the parser accepts what Botan's PK_Verifier accepts, and nothing else") {
    signer k;
    const p384_comb comb(k.key.public_point());
    bytes msg{'h', 'i', 0};
    bytes good;
    std::optional<std::pair<BigInt, BigInt>> rs;
    // A signature whose r needs DER's sign byte (r >= 2^383: half of them).
    // Botan signs with RFC 6979 nonces, so the same message always gives the
    // same r: vary the message, not the attempt.
    for (;; ++msg.back()) {
        REQUIRE(msg.back() < 200);  // 2^-200 to get here by chance
        good = k.sign(msg);
        rs = tee::detail::parse_der_p384_signature(good);
        REQUIRE(rs);
        if (rs->first.bits() == 384) break;
    }
    const BigInt r = rs->first, s = rs->second;
    CHECK(comb.verify(msg, r, s));
    // The same values plus or minus n: congruent, so only the range checks refuse them.
    CHECK_FALSE(comb.verify(msg, r + order(), s));
    CHECK_FALSE(comb.verify(msg, r, s + order()));
    CHECK_FALSE(comb.verify(msg, r - order(), s));
    CHECK_FALSE(comb.verify(msg, r, s - order()));

    auto with = [](bytes v, std::initializer_list<std::uint8_t> prefix) {
        v.insert(v.begin(), prefix);
        return v;
    };
    auto int_der = [](const BigInt& x) {  // INTEGER, minimal, with a sign byte when needed
        bytes v;
        Botan::DER_Encoder(v).encode(x);
        return v;
    };
    const bytes ri = int_der(r), si = int_der(s);
    auto seq = [](const bytes& body) {
        // sized once and copied into: GCC 12 at -O3 reports a false -Warray-bounds
        // inside vector::insert after a two-element initializer list
        bytes v(2 + body.size());
        v[0] = 0x30;
        v[1] = static_cast<std::uint8_t>(body.size());
        std::copy(body.begin(), body.end(), v.begin() + 2);
        return v;
    };
    auto cat = [](bytes a, const bytes& b) {
        a.insert(a.end(), b.begin(), b.end());
        return a;
    };
    auto padded = [](const bytes& integer) {  // the same INTEGER with one more leading zero
        bytes v{0x02, static_cast<std::uint8_t>(integer[1] + 1), 0x00};
        v.insert(v.end(), integer.begin() + 2, integer.end());
        return v;
    };
    bytes r_neg = ri;
    r_neg[2] = 0x80 | r_neg[2];  // top bit set without a sign byte: a negative INTEGER
    bytes longform{0x30, 0x81, static_cast<std::uint8_t>(ri.size() + si.size())};
    longform = cat(cat(longform, ri), si);
    bytes r_long_len{0x02, 0x81, ri[1]};
    r_long_len.insert(r_long_len.end(), ri.begin() + 2, ri.end());

    struct form {
        const char* what;
        bytes der;
        bool valid;
    };
    const std::vector<form> forms{
        {"Botan's own encoding", good, true},
        {"the same, rebuilt", seq(cat(ri, si)), true},
        {"trailing byte", cat(good, bytes{0}), false},
        {"truncated", bytes(good.begin(), good.end() - 1), false},
        {"empty", bytes{}, false},
        {"empty SEQUENCE", bytes{0x30, 0x00}, false},
        {"one INTEGER", seq(ri), false},
        {"a NULL after s, inside the SEQUENCE", seq(cat(cat(ri, si), bytes{0x05, 0x00})), false},
        {"r without its sign byte (a negative INTEGER)",
         seq(cat(cat(bytes{0x02, 48}, bytes(ri.begin() + 3, ri.end())), si)), false},
        {"SET instead of SEQUENCE", with(bytes(good.begin() + 1, good.end()), {0x31}), false},
        {"long-form SEQUENCE length for a short body", longform, false},
        {"long-form INTEGER length", seq(cat(r_long_len, si)), false},
        {"non-minimal r (extra zero byte)", seq(cat(padded(ri), si)), false},
        {"non-minimal s (extra zero byte)", seq(cat(ri, padded(si))), false},
        {"negative r", seq(cat(r_neg, si)), false},
        {"zero-length INTEGER", seq(cat(bytes{0x02, 0x00}, si)), false},
        {"r = 0", seq(cat(bytes{0x02, 0x01, 0x00}, si)), false},
        {"r + n (49 value bytes)", der_of(r + order(), s), false},
        {"r = n", der_of(order(), s), false},
        {"s = n", der_of(r, order()), false},
        {"s = n - s (the twin signature ECDSA allows)", der_of(r, order() - s), true},
        {"r and s swapped", der_of(s, r), false},
        {"a 2^400 INTEGER", der_of(BigInt::power_of_2(400), s), false},
        {"OCTET STRING for r", seq(cat(with(bytes(ri.begin() + 1, ri.end()), {0x04}), si)), false},
    };
    for (const auto& f : forms) {
        const std::string what = f.what;
        CAPTURE(what);
        CHECK(botan_says(k.key, msg, f.der, Botan::DER_SEQUENCE) == f.valid);
        CHECK(comb.verify_der(msg, f.der) == f.valid);
    }
    // Random mutations: Botan and the parser + comb agree on every one.
    std::mt19937_64 rng(7);
    int accepted = 0;
    for (int i = 0; i < 400; ++i) {
        bytes d = good;
        switch (i % 4) {
            case 0: d[rng() % d.size()] = static_cast<std::uint8_t>(rng()); break;
            case 1: d.insert(d.begin() + static_cast<long>(rng() % d.size()), static_cast<std::uint8_t>(rng())); break;
            case 2: d.erase(d.begin() + static_cast<long>(rng() % d.size())); break;
            case 3: d[rng() % 4] ^= static_cast<std::uint8_t>(1u << (rng() % 8)); break;  // the header bytes
        }
        CAPTURE(i);
        const bool want = botan_says(k.key, msg, d, Botan::DER_SEQUENCE);
        CHECK(comb.verify_der(msg, d) == want);
        accepted += want;
    }
    CHECK(accepted < 40);  // almost every mutation breaks the signature
}

TEST_CASE("the comb's u1*G + u2*Q is Botan's point_multiply, for random and edge scalars and special keys") {
    std::mt19937_64 rng(384);
    const BigInt& n = order();
    const PointGFp& g = group().get_base_point();
    PointGFp minus_g = g;
    minus_g.negate();
    const std::vector<std::pair<const char*, PointGFp>> keys{
        {"random key", group().get_base_point() * random_scalar(rng)},
        {"Q = G", g},
        {"Q = -G", minus_g},
        {"Q = 2G", g * BigInt(2)},
    };
    std::vector<BigInt> edge{BigInt(0),
                             BigInt(1),
                             BigInt(2),
                             n - 1,
                             n - 2,
                             (n - 1) / 2,
                             BigInt::power_of_2(48),
                             BigInt::power_of_2(383),
                             BigInt::power_of_2(336) - 1,
                             BigInt::power_of_2(48) + 1};
    for (const auto& key : keys) {  // (no structured binding: clang 14 cannot capture one in a lambda)
        const std::string name = key.first;
        const PointGFp& q = key.second;
        CAPTURE(name);
        const p384_comb comb(q);
        auto check = [&](const BigInt& u1, const BigInt& u2) {
            CAPTURE(u1.to_hex_string());
            CAPTURE(u2.to_hex_string());
            const PointGFp want = group().point_multiply(u1, q, u2);
            const PointGFp got = comb.multiply(u1, u2);
            REQUIRE(got.is_zero() == want.is_zero());
            if (!want.is_zero()) CHECK(got == want);
        };
        for (const auto& a : edge)
            for (const auto& b : edge) check(a, b);
        for (int i = 0; i < 40; ++i) {
            const BigInt u = random_scalar(rng);
            check(u, random_scalar(rng));
            check(u, u);      // with Q = G: every addition of the G and Q columns is a doubling
            check(u, n - u);  // with Q = G: u*G + (n-u)*G is the point at infinity
        }
    }
}

TEST_CASE("x(R) mod n == r in Jacobian coordinates, including x >= n, where r = x - n") {
    const BigInt& p = group().get_p();
    const BigInt& n = order();
    const Botan::CurveGFp& curve = group().get_base_point().get_curve();
    // A point whose x is at least n: y^2 = x^3 - 3x + b has a root for about half the x.
    std::optional<PointGFp> high;
    BigInt high_x;
    for (BigInt x = n + 1; x < p && !high; x += 1) {  // x = n would make r = 0, which no signature has
        const BigInt rhs = (x * x * x - 3 * x + group().get_b()) % p;
        const BigInt y = Botan::power_mod(rhs, (p + 1) / 4, p);  // p = 3 mod 4
        if ((y * y) % p == rhs) {
            high = PointGFp(curve, x, y);
            high_x = x;
        }
    }
    REQUIRE(high);
    REQUIRE(high->on_the_curve());
    std::mt19937_64 rng(5);
    const PointGFp t = group().get_base_point() * random_scalar(rng);
    auto jacobian = [&](const PointGFp& pt) {  // the same point with Z != 1: (pt + t) - t
        PointGFp j = pt;
        j += t;
        j -= t;
        REQUIRE(j == pt);
        return j;
    };
    const PointGFp hj = jacobian(*high);
    CHECK_FALSE(hj.get_z() == BigInt(1));
    CHECK(p384_comb::x_mod_n_is(hj, high_x - n));
    CHECK(p384_comb::x_mod_n_is(*high, high_x - n));
    CHECK_FALSE(p384_comb::x_mod_n_is(hj, high_x - n + 1));
    CHECK_FALSE(p384_comb::x_mod_n_is(hj, BigInt(1)));

    // A whole signature through that point: with u1 = e/s, u2 = r/s fixed, the
    // key Q = (R - u1*G)/u2 makes (r, s) = (x(R) - n, r/u2) valid. Its r + n is
    // the same x(R), so x_mod_n_is alone would accept it: only the range check
    // r < n refuses it (the raw form, 48 bytes, passes the DER length limit).
    {
        const bytes msg{'x', '>', '=', 'n'};
        const BigInt r = high_x - n, u2 = random_scalar(rng);
        const BigInt s = group().multiply_mod_order(r, group().inverse_mod_order(u2));
        auto h = Botan::HashFunction::create_or_throw("SHA-384");
        const auto digest = h->process(msg);
        const BigInt u1 = group().multiply_mod_order(group().mod_order(BigInt(digest.data(), digest.size())),
                                                     group().inverse_mod_order(s));
        const PointGFp q = group().inverse_mod_order(u2) * (*high - group().get_base_point() * u1);
        REQUIRE(q.on_the_curve());
        REQUIRE(group().point_multiply(u1, q, u2) == *high);
        const Botan::ECDSA_PublicKey key(group(), q);
        const p384_comb comb(q);
        CHECK(comb.verify(msg, r, s));
        CHECK(botan_says(key, msg, raw_of(r, s), Botan::IEEE_1363));
        REQUIRE(r + n < BigInt::power_of_2(384));
        CHECK_FALSE(comb.verify(msg, r + n, s));
        CHECK_FALSE(botan_says(key, msg, raw_of(r + n, s), Botan::IEEE_1363));
        const tee::botan_crypto botan;
        const auto pub = botan.load_public_key(tee::p384::spki_of_point(q.encode(PointGFp::UNCOMPRESSED)));
        CHECK(botan.ecdsa_p384_verify_raw(pub, msg, raw_of(r, s)));  // Botan's PK_Verifier
        CHECK(botan.ecdsa_p384_verify_raw(pub, msg, raw_of(r, s)));  // the comb
        CHECK_FALSE(botan.ecdsa_p384_verify_raw(pub, msg, raw_of(r + n, s)));
    }

    for (int i = 0; i < 50; ++i) {
        const PointGFp pt = jacobian(group().get_base_point() * random_scalar(rng));
        const BigInt x = pt.get_affine_x();
        if (x >= n) continue;  // about 2^-190
        CAPTURE(i);
        CHECK(p384_comb::x_mod_n_is(pt, x));
        CHECK_FALSE(p384_comb::x_mod_n_is(pt, x == 1 ? BigInt(2) : x - 1));
        CHECK_FALSE(p384_comb::x_mod_n_is(pt, (x + 1) % n));
    }
    CHECK_FALSE(p384_comb::x_mod_n_is(PointGFp(curve), BigInt(1)));  // the point at infinity
}

TEST_CASE("1,200 verifications through botan_crypto's comb agree with Botan's PK_Verifier and with OpenSSL") {
    const tee::botan_crypto botan;
    const tee::openssl_crypto ossl;
    std::mt19937_64 rng(2026);
    const BigInt& n = order();
    std::vector<signer> signers(3);
    int verified = 0, refused = 0;
    for (auto& k : signers) {
        const bytes spki = k.spki();
        const auto pub = botan.load_public_key(spki);
        const auto pub_ossl = ossl.load_public_key(spki);
        const Botan::ECDSA_PublicKey& botan_key = k.key;
        // A key's first verification is Botan's one-shot verifier: spend it, so
        // that every verification below goes through the comb.
        REQUIRE_FALSE(botan.ecdsa_p384_verify_der(pub, bytes{}, bytes{}));
        for (int i = 0; i < 400; ++i) {
            bytes msg(rng() % 200);
            for (auto& x : msg) x = static_cast<std::uint8_t>(rng());
            const bool raw = i % 2 == 1;
            const auto fmt = raw ? Botan::IEEE_1363 : Botan::DER_SEQUENCE;
            bytes sig = k.sign(msg, fmt);
            auto parts = raw ? std::pair{BigInt(sig.data(), 48), BigInt(sig.data() + 48, 48)}
                             : *tee::detail::parse_der_p384_signature(sig);
            auto encode = [&](const BigInt& a, const BigInt& b) { return raw ? raw_of(a, b) : der_of(a, b); };
            switch (i % 10) {
                case 0:
                case 1:
                case 2: break;                                               // valid
                case 3: sig = encode(parts.first, n - parts.second); break;  // valid twin
                case 4: sig[rng() % sig.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8)); break;
                case 5: msg.push_back(0); break;
                case 6: sig = encode(parts.first + 1, parts.second); break;
                case 7: sig = encode(parts.first, parts.second + 1); break;
                case 8: sig = encode(parts.second, parts.first); break;
                case 9: sig = encode(parts.first, (parts.second * 2) % n); break;
            }
            const bool want = botan_says(botan_key, msg, sig, fmt);
            const bool got =
                raw ? botan.ecdsa_p384_verify_raw(pub, msg, sig) : botan.ecdsa_p384_verify_der(pub, msg, sig);
            const bool other =
                raw ? ossl.ecdsa_p384_verify_raw(pub_ossl, msg, sig) : ossl.ecdsa_p384_verify_der(pub_ossl, msg, sig);
            CAPTURE(i);
            REQUIRE(got == want);
            REQUIRE(other == want);
            if (i % 10 <= 3) CHECK(got);
            (got ? verified : refused)++;
        }
    }
    CHECK(verified >= 480);
    CHECK(refused >= 700);
}

TEST_CASE("the service's real signed answer verifies through the comb, and a changed byte does not") {
    const tee::botan_crypto botan;
    const auto v = nlohmann::json::parse(read_data("signed_response_vector.json"));
    const auto pub = botan.load_public_key(tee::from_hex(v["public_key_der_hex"].get<std::string>()).value());
    const std::string canonical = v["canonical"].get<std::string>();
    const bytes msg(canonical.begin(), canonical.end());
    const bytes sig = tee::from_hex(v["signature_der_hex"].get<std::string>()).value();
    for (int use = 0; use < 3; ++use) {  // the first is Botan's verifier, the others the comb
        CAPTURE(use);
        CHECK(botan.ecdsa_p384_verify_der(pub, msg, sig));
        bytes other = msg;
        other.back() ^= 1;
        CHECK_FALSE(botan.ecdsa_p384_verify_der(pub, other, sig));
    }
}
