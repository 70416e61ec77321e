// fuzz_p384_verify: ECDSA P-384 verification as botan_crypto does it from a
// key's second verification on, against one-shot verifiers. The path depends
// on the Botan major version (tee/botan_crypto.hpp):
//  - Botan 3: botan_crypto keeps a PK_Verifier per key. Every verdict of
//    botan_crypto::ecdsa_p384_verify_der/_raw on a key already used must equal
//    a one-shot Botan::PK_Verifier's and openssl_crypto's. Same keys and
//    input layout as below; mode 3 is replaced (see "Botan 3, mode 3").
//  - Botan 2: tee/detail/p384_comb.hpp, the comb verifier, against Botan 2's
//    own ECDSA, as follows.
//
// Botan 2: tee/detail/p384_comb.hpp, the comb verifier that botan_crypto
// uses from a key's second verification on, against Botan 2's own ECDSA.
// For fixed P-384 keys, every verdict of parse_der_p384_signature
// + p384_comb::verify must equal Botan::PK_Verifier(key, "EMSA1(SHA-384)",
// fmt).verify_message (an exception counts as false), and so must
// botan_crypto::ecdsa_p384_verify_der/_raw on a key already used once (so the
// comb path). The DER parser must also accept exactly what Botan's DER_SEQUENCE
// decoding accepts (BER decode, then the canonical re-encoding must match),
// with the same (r, s).
//
//   byte 0: key (mod 6):
//           0, 1  fixed scalars (hashes of a label)
//           2     d = 1, Q = G: u1*G + u2*Q adds equal table points (doubling)
//           3     d = 2, Q = 2G
//           4     d = n - 1, Q = -G: equal columns of u1, u2 cancel (P + -P)
//           5     no private key: Q made so that a fixed signature's
//                 u1*G + u2*Q = R with x(R) >= n, i.e. r = x(R) - n (the
//                 x == r + n branch of x_mod_n_is, which random inputs never reach)
//   byte 1: mode (mod 4), then the rest:
//     0  DER:  [msg length L] [msg, L bytes] [signature, the remainder]
//     1  raw:  same, the signature as r||s (IEEE 1363; must be 96 bytes)
//     2  valid signature, then damaged: [flags] [L] [msg] [k, 48 bytes if flag]
//        [edits: (op, pos, val) triples applied to the encoded signature]
//          flags bit 0: DER (else raw)
//                bits 1-3: change to (r, s) before encoding: 0 none, 1 s = n-s
//                   (still valid), 2 r = n-r, 3 swap, 4 r += n, 5 s += n,
//                   6 s = s+1 mod n, 7 verify msg||0x00 instead of msg
//                bit 4: sign with nonce k from the input (raw math) instead
//                   of PK_Signer (RFC 6979)
//        Key 5 has no private key: its fixed message and signature are used.
//        With no edits and change 0 or 1 both sides must accept.
//     3  scalars: [relation] [u1, 48 bytes] [u2, 48 bytes], reduced mod n;
//        relation (mod 8): 0 as read, 1 u2 = u1, 2 u2 = n-u1, 3 u1 = -u2*d
//        (the sum is the point at infinity; key 5: the fixed signature's u1,
//        u2, giving R), 4 u1 = u1 - u2*d (the sum is u1*G; key 5: -R), 5 u1 = 0,
//        6 u2 = 0, 7 u1 and u2 are the first bytes (small). p384_comb::multiply
//        must equal EC_Group::point_multiply(u1, Q, u2) (both the zero-ness and
//        the point), and x_mod_n_is must hold for x(P) mod n and not for
//        another r.
//
// Keys and comb tables are built once at start-up; an iteration is one or two
// Botan verifications or one point_multiply plus the comb's work.
//
// Botan 3, mode 3 (boundary scalars): [relation] [r, 48 bytes] [s, 48 bytes]
// as read, then relation (mod 8): 0 as read, 1 r = 0, 2 s = 0, 3 r = n,
// 4 s = n, 5 r = n - 1, 6 r += n (if below 2^384), 7 s = n - s; verified in
// both encodings over the key's fixed message.
#include <botan/build.h>

#if BOTAN_VERSION_MAJOR >= 3
#include <tee/botan_crypto.hpp>
#include <tee/openssl_crypto.hpp>

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <botan/bigint.h>
#include <botan/chacha_rng.h>
#include <botan/der_enc.h>
#include <botan/ec_apoint.h>
#include <botan/ec_group.h>
#include <botan/ec_scalar.h>
#include <botan/ecdsa.h>
#include <botan/hash.h>
#include <botan/pubkey.h>

#include "fuzz_util.hpp"

namespace {
using Botan::BigInt;
using Botan::EC_AffinePoint;
using Botan::EC_Scalar;
using bytes_t = std::vector<std::uint8_t>;
namespace bc = tee::detail::botan;

const Botan::EC_Group& group() { return bc::p384(); }
const BigInt& order() { return group().get_order(); }

Botan::RandomNumberGenerator& blinding_rng() {  // for Botan's blinded scalar multiplication only
    static Botan::ChaCha_RNG rng(Botan::secure_vector<std::uint8_t>(32, 0x33));
    return rng;
}

// k*G and k*P, with the workspace argument only where Botan wants it (3.7).
template <class P = EC_AffinePoint>
P g_mul(const EC_Scalar& k) {
    if constexpr (requires(const EC_Scalar& s, Botan::RandomNumberGenerator& r) { P::g_mul(s, r); }) {
        return P::g_mul(k, blinding_rng());
    } else {
        std::vector<BigInt> ws;
        return P::g_mul(k, blinding_rng(), ws);
    }
}
template <class P = EC_AffinePoint>
P mul(const P& p, const EC_Scalar& k) {
    if constexpr (requires(const EC_Scalar& s, Botan::RandomNumberGenerator& r) { p.mul(s, r); }) {
        return p.mul(k, blinding_rng());
    } else {
        std::vector<BigInt> ws;
        return p.mul(k, blinding_rng(), ws);
    }
}

EC_Scalar scalar(const BigInt& x) { return EC_Scalar::from_bigint(group(), x); }

EC_Scalar hash_e(std::span<const std::uint8_t> msg) {  // SHA-384(msg) mod n, ECDSA's e
    auto h = Botan::HashFunction::create_or_throw("SHA-384");
    h->update(msg.data(), msg.size());
    const auto d = h->final();
    return EC_Scalar::from_bytes_mod_order(group(), d);
}

BigInt scalar_of_label(std::string_view label) {
    return hash_e({reinterpret_cast<const std::uint8_t*>(label.data()), label.size()}).to_bigint();
}

bytes_t raw_sig(const BigInt& r, const BigInt& s) {  // r||s, 48 bytes each; r, s < 2^384
    bytes_t out(96);
    r.serialize_to(std::span<std::uint8_t>(out).first(48));
    s.serialize_to(std::span<std::uint8_t>(out).subspan(48));
    return out;
}

bytes_t der_sig(const BigInt& r, const BigInt& s) {
    bytes_t out;
    Botan::DER_Encoder(out).start_sequence().encode(r).encode(s).end_cons();
    return out;
}

struct fixed_key {
    std::optional<BigInt> d;  // the private scalar (not for key 5)
    bytes_t point;            // 04||x||y
    std::unique_ptr<Botan::ECDSA_PublicKey> pub;
    std::unique_ptr<Botan::ECDSA_PrivateKey> priv;
    std::unique_ptr<Botan::PK_Signer> signer;  // raw r||s; RFC 6979 nonces, so deterministic
    tee::botan_crypto::public_key tee_key;     // used once at start-up: later calls keep their verifier
    tee::openssl_crypto::public_key ossl_key;
    // Key 5: a message and its valid signature.
    bytes_t msg;
    BigInt r, s;
};

bool botan_verify(const fixed_key& k, std::span<const std::uint8_t> msg, std::span<const std::uint8_t> sig,
                  Botan::Signature_Format fmt) {
    try {
        Botan::PK_Verifier v(*k.pub, bc::ecdsa_sha384, fmt);
        return v.verify_message(msg.data(), msg.size(), sig.data(), sig.size());
    } catch (const std::exception&) {
        return false;
    }
}

struct fixture {
    tee::botan_crypto crypto;
    tee::openssl_crypto ossl;
    std::vector<fixed_key> keys;

    fixture() {
        Botan::ChaCha_RNG rng(Botan::secure_vector<std::uint8_t>(32, 0x5a));
        const BigInt& n = order();
        for (const BigInt& d : {scalar_of_label("tee-client fuzz_p384_verify key 0"),
                                scalar_of_label("tee-client fuzz_p384_verify key 1"), BigInt(1), BigInt(2), n - 1}) {
            fixed_key k;
            k.d = d;
            k.priv = std::make_unique<Botan::ECDSA_PrivateKey>(group(), scalar(d));
            k.point = bc::point_of(*k.priv);
            k.signer = std::make_unique<Botan::PK_Signer>(*k.priv, rng, bc::ecdsa_sha384, bc::sig_raw);
            keys.push_back(std::move(k));
        }
        const EC_AffinePoint g = EC_AffinePoint::generator(group());
        FUZZ_CHECK(keys[2].point == g.serialize_uncompressed());
        FUZZ_CHECK(keys[4].point == g.negate().serialize_uncompressed());
        keys.push_back(special_key());
        for (fixed_key& k : keys) {
            const auto pt = EC_AffinePoint::deserialize(group(), k.point);
            FUZZ_CHECK(pt.has_value());
            k.pub = std::make_unique<Botan::ECDSA_PublicKey>(group(), *pt);
            k.tee_key = crypto.load_public_key(k.point);
            k.ossl_key = ossl.load_public_key(k.point);
            // First use: the one-shot path (and a sanity check of the harness).
            const bytes_t m{'s', 'e', 't', 'u', 'p'};
            BigInt r, s;
            if (k.d) {
                const bytes_t sig = k.signer->sign_message(m, rng);
                r = BigInt(sig.data(), 48);
                s = BigInt(sig.data() + 48, 48);
            } else {
                r = k.r;
                s = k.s;
            }
            const bytes_t& msg = k.d ? m : k.msg;
            FUZZ_CHECK(crypto.ecdsa_p384_verify_raw(k.tee_key, msg, raw_sig(r, s)));
            FUZZ_CHECK(crypto.ecdsa_p384_verify_der(k.tee_key, msg, der_sig(r, s)));  // the kept verifier from here
            FUZZ_CHECK(crypto.ecdsa_p384_verify_raw(k.tee_key, msg, raw_sig(r, s)));
            FUZZ_CHECK(botan_verify(k, msg, der_sig(r, s), bc::sig_der));
        }
    }

    // Q = u2^-1 * (R - u1*G) for a point R with x(R) = n + t >= n: then the
    // signature (r, s) = (t, t/u2) of msg (u1 = e/s) verifies through R.
    static fixed_key special_key() {
        const BigInt& n = order();
        std::optional<EC_AffinePoint> big_r;
        BigInt t(1);
        for (;; ++t) {
            std::array<std::uint8_t, 49> enc{0x02};
            (n + t).serialize_to(std::span<std::uint8_t>(enc).subspan(1));
            big_r = EC_AffinePoint::deserialize(group(), enc);
            if (big_r) break;  // else n + t is not an x: try the next
        }
        fixed_key k;
        const std::string_view label = "tee-client fuzz_p384_verify: x(R) >= n";
        k.msg.assign(label.begin(), label.end());
        k.r = t;
        const EC_Scalar u2 = scalar(scalar_of_label("tee-client fuzz_p384_verify key 5 u2"));
        const EC_Scalar s = scalar(t) * u2.invert();
        k.s = s.to_bigint();
        const EC_Scalar u1 = hash_e(k.msg) * s.invert();
        const EC_AffinePoint q = mul(big_r->add(g_mul(u1).negate()), u2.invert());
        FUZZ_CHECK(!q.is_identity());
        FUZZ_CHECK(g_mul(u1).add(mul(q, u2)) == *big_r);
        FUZZ_CHECK(BigInt(big_r->x_bytes<bytes_t>()) >= n);
        k.point = q.serialize_uncompressed<bytes_t>();
        return k;
    }
};

// Input reader: takes bytes from the front; short reads give what is left.
struct reader {
    const std::uint8_t* p;
    std::size_t left;
    std::uint8_t byte() {
        if (!left) return 0;
        --left;
        return *p++;
    }
    std::span<const std::uint8_t> take(std::size_t n) {
        n = std::min(n, left);
        std::span<const std::uint8_t> out{p, n};
        p += n;
        left -= n;
        return out;
    }
    std::span<const std::uint8_t> rest() { return take(left); }
};

// The one-shot verdict; aborts unless botan_crypto (kept verifier) and openssl_crypto agree with it.
bool check_verdicts(const fixture& f, const fixed_key& k, std::span<const std::uint8_t> msg,
                    std::span<const std::uint8_t> sig, bool der) {
    const bool expected = botan_verify(k, msg, sig, der ? bc::sig_der : bc::sig_raw);
    const bool tee =
        der ? f.crypto.ecdsa_p384_verify_der(k.tee_key, msg, sig) : f.crypto.ecdsa_p384_verify_raw(k.tee_key, msg, sig);
    const bool ossl =
        der ? f.ossl.ecdsa_p384_verify_der(k.ossl_key, msg, sig) : f.ossl.ecdsa_p384_verify_raw(k.ossl_key, msg, sig);
    if (tee != expected || ossl != expected)
        std::fprintf(stderr,
                     "verdicts differ: Botan one-shot %d, botan_crypto %d, openssl_crypto %d (%s, msg %zu bytes, sig "
                     "%zu bytes)\n",
                     expected, tee, ossl, der ? "DER" : "raw", msg.size(), sig.size());
    FUZZ_CHECK(tee == expected);
    FUZZ_CHECK(ossl == expected);
    if (expected) fuzz::accepted(der ? "valid DER signature" : "valid raw signature");
    return expected;
}

void signed_mode(const fixture& f, const fixed_key& k, reader& in) {
    const BigInt& n = order();
    const std::uint8_t flags = in.byte();
    const bool der = flags & 1;
    const unsigned change = (flags >> 1) & 7;
    const auto input_msg = in.take(in.byte());
    std::span<const std::uint8_t> msg = k.d ? input_msg : std::span<const std::uint8_t>(k.msg);
    BigInt r, s;
    if (!k.d) {
        r = k.r;
        s = k.s;
    } else if (flags & 16) {  // r = x(kG) mod n, s = (e + r*d)/k
        const auto kb = in.take(48);
        const EC_Scalar nonce = EC_Scalar::from_bytes_mod_order(group(), kb);
        if (nonce.is_zero()) return;
        const EC_Scalar rs = EC_Scalar::from_bytes_mod_order(group(), g_mul(nonce).x_bytes<bytes_t>());
        const EC_Scalar ss = nonce.invert() * (hash_e(msg) + rs * scalar(*k.d));
        if (rs.is_zero() || ss.is_zero()) return;
        r = rs.to_bigint();
        s = ss.to_bigint();
    } else {
        Botan::secure_vector<std::uint8_t> seed(32, 0x5a);  // never empty: Botan 3 refuses an unseeded RNG
        seed.insert(seed.end(), msg.begin(), msg.end());
        Botan::ChaCha_RNG rng(seed);
        const bytes_t sig = k.signer->sign_message(msg.data(), msg.size(), rng);
        FUZZ_CHECK(sig.size() == 96);
        r = BigInt(sig.data(), 48);
        s = BigInt(sig.data() + 48, 48);
    }
    bytes_t msg2(msg.begin(), msg.end());
    switch (change) {
        case 1: s = n - s; break;
        case 2: r = n - r; break;
        case 3: std::swap(r, s); break;
        case 4:
            if (r + n < BigInt::power_of_2(384)) r += n;
            break;
        case 5:
            if (s + n < BigInt::power_of_2(384)) s += n;
            break;
        case 6: s = (s + 1) % n; break;
        case 7: msg2.push_back(0); break;
        default: break;
    }
    bytes_t sig = der ? der_sig(r, s) : raw_sig(r, s);
    bool edited = false;
    for (int i = 0; i < 8 && in.left >= 3; ++i) {
        const std::uint8_t op = in.byte(), pos = in.byte(), val = in.byte();
        const std::size_t at = sig.empty() ? 0 : pos % (sig.size() + (op % 3 == 1));
        switch (op % 3) {
            case 0:
                if (!sig.empty() && val) {
                    sig[at] ^= val;
                    edited = true;
                }
                break;
            case 1:
                sig.insert(sig.begin() + static_cast<std::ptrdiff_t>(at), val);
                edited = true;
                break;
            default:
                if (!sig.empty()) {
                    sig.erase(sig.begin() + static_cast<std::ptrdiff_t>(at));
                    edited = true;
                }
                break;
        }
    }
    const bool ok = check_verdicts(f, k, msg2, sig, der);
    if (!edited && (change == 0 || change == 1)) FUZZ_CHECK(ok);
}

void boundary_mode(const fixture& f, const fixed_key& k, reader& in) {
    const BigInt& n = order();
    const unsigned relation = in.byte() % 8;
    const auto b1 = in.take(48), b2 = in.take(48);
    BigInt r(b1.data(), b1.size()), s(b2.data(), b2.size());
    switch (relation) {
        case 1: r = BigInt(0); break;
        case 2: s = BigInt(0); break;
        case 3: r = n; break;
        case 4: s = n; break;
        case 5: r = n - 1; break;
        case 6:
            if (r + n < BigInt::power_of_2(384)) r += n;
            break;
        case 7:
            if (s <= n) s = n - s;
            break;
        default: break;
    }
    const bytes_t setup{'s', 'e', 't', 'u', 'p'};
    const bytes_t& msg = k.d ? setup : k.msg;
    check_verdicts(f, k, msg, raw_sig(r, s), false);
    check_verdicts(f, k, msg, der_sig(r, s), true);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const fixture f;
    if (size < 2) return 0;
    reader in{data, size};
    const fixed_key& k = f.keys[in.byte() % f.keys.size()];
    switch (in.byte() % 4) {
        case 0:
        case 1: {
            const bool der = data[1] % 4 == 0;
            const auto msg = in.take(in.byte());
            check_verdicts(f, k, msg, in.rest(), der);
            break;
        }
        case 2: signed_mode(f, k, in); break;
        default: boundary_mode(f, k, in); break;
    }
    return 0;
}

#else  // Botan 2
#include <tee/botan_crypto.hpp>
#include <tee/detail/p384_comb.hpp>

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <botan/ber_dec.h>
#include <botan/bigint.h>
#include <botan/chacha_rng.h>
#include <botan/der_enc.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/hash.h>
#include <botan/point_gfp.h>
#include <botan/pubkey.h>

#include "fuzz_util.hpp"

namespace {
using Botan::BigInt;
using tee::detail::p384_comb;
using bytes_t = std::vector<std::uint8_t>;

const Botan::EC_Group& group() { return p384_comb::group(); }
const BigInt& order() { return group().get_order(); }

BigInt hash_e(std::span<const std::uint8_t> msg) {  // SHA-384(msg) mod n, ECDSA's e
    auto h = Botan::HashFunction::create_or_throw("SHA-384");
    h->update(msg.data(), msg.size());
    const auto d = h->final();
    return group().mod_order(BigInt(d.data(), d.size()));
}

BigInt scalar_of_label(std::string_view label) {
    return hash_e({reinterpret_cast<const std::uint8_t*>(label.data()), label.size()});
}

bytes_t raw_sig(const BigInt& r, const BigInt& s) {  // r||s, 48 bytes each; r, s < 2^384
    bytes_t out(96);
    r.binary_encode(out.data(), 48);
    s.binary_encode(out.data() + 48, 48);
    return out;
}

bytes_t der_sig(const BigInt& r, const BigInt& s) {
    bytes_t out;
    Botan::DER_Encoder(out).start_cons(Botan::SEQUENCE).encode(r).encode(s).end_cons();
    return out;
}

// Botan 2.19's PK_Verifier::check_signature for DER_SEQUENCE, up to the
// verification: BER-decode SEQUENCE { INTEGER... }, each part to 48 bytes
// (encode_1363 throws if longer; a negative one becomes its magnitude),
// exactly two parts, and the DER re-encoding of those must be the input.
std::optional<std::pair<BigInt, BigInt>> botan_der_decode(std::span<const std::uint8_t> sig) {
    try {
        Botan::BER_Decoder decoder(sig.data(), sig.size());
        Botan::BER_Decoder ber_sig = decoder.start_cons(Botan::SEQUENCE);
        std::vector<BigInt> parts;
        while (ber_sig.more_items()) {
            BigInt part;
            ber_sig.decode(part);
            const auto fixed = BigInt::encode_1363(part, 48);
            parts.emplace_back(fixed.data(), fixed.size());
        }
        if (parts.size() != 2) return std::nullopt;
        const bytes_t re = der_sig(parts[0], parts[1]);
        if (!std::equal(re.begin(), re.end(), sig.begin(), sig.end())) return std::nullopt;
        return std::pair{parts[0], parts[1]};
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

struct fixed_key {
    std::optional<BigInt> d;  // the private scalar (not for key 5)
    std::unique_ptr<Botan::ECDSA_PublicKey> pub;
    std::unique_ptr<Botan::ECDSA_PrivateKey> priv;
    std::unique_ptr<Botan::PK_Signer> signer;  // IEEE_1363; RFC 6979 nonces, so deterministic
    std::unique_ptr<p384_comb> comb;
    tee::botan_crypto::public_key tee_key;  // used once at start-up: later calls take the comb path
    // Key 5: a message, its valid signature and the verification's u1, u2.
    bytes_t msg;
    BigInt r, s, u1, u2;
};

bool botan_verify(const fixed_key& k, std::span<const std::uint8_t> msg, std::span<const std::uint8_t> sig,
                  Botan::Signature_Format fmt) {
    try {
        Botan::PK_Verifier v(*k.pub, "EMSA1(SHA-384)", fmt);
        return v.verify_message(msg.data(), msg.size(), sig.data(), sig.size());
    } catch (const std::exception&) {
        return false;
    }
}

struct fixture {
    tee::botan_crypto crypto;
    std::vector<fixed_key> keys;

    fixture() {
        Botan::ChaCha_RNG rng(Botan::secure_vector<std::uint8_t>(32, 0x5a));
        const BigInt& n = order();
        for (const BigInt& d : {scalar_of_label("tee-client fuzz_p384_verify key 0"),
                                scalar_of_label("tee-client fuzz_p384_verify key 1"), BigInt(1), BigInt(2), n - 1}) {
            fixed_key k;
            k.d = d;
            k.priv = std::make_unique<Botan::ECDSA_PrivateKey>(rng, group(), d);
            k.pub = std::make_unique<Botan::ECDSA_PublicKey>(group(), k.priv->public_point());
            k.signer = std::make_unique<Botan::PK_Signer>(*k.priv, rng, "EMSA1(SHA-384)", Botan::IEEE_1363);
            keys.push_back(std::move(k));
        }
        FUZZ_CHECK(keys[2].pub->public_point() == group().get_base_point());
        FUZZ_CHECK(keys[4].pub->public_point() == -group().get_base_point());
        keys.push_back(special_key());
        for (fixed_key& k : keys) {
            k.comb = std::make_unique<p384_comb>(k.pub->public_point());
            const bytes_t point = k.pub->public_point().encode(Botan::PointGFp::UNCOMPRESSED);
            k.tee_key = crypto.load_public_key(point);
            // First use: Botan's one-shot path (and a sanity check of the harness).
            const bytes_t m{'s', 'e', 't', 'u', 'p'};
            BigInt r, s;
            if (k.d) {
                const bytes_t sig = k.signer->sign_message(m, rng);
                r = BigInt(sig.data(), 48);
                s = BigInt(sig.data() + 48, 48);
            } else {
                r = k.r;
                s = k.s;
            }
            const bytes_t& msg = k.d ? m : k.msg;
            FUZZ_CHECK(crypto.ecdsa_p384_verify_raw(k.tee_key, msg, raw_sig(r, s)));
            FUZZ_CHECK(crypto.ecdsa_p384_verify_der(k.tee_key, msg, der_sig(r, s)));  // the comb path from here
            FUZZ_CHECK(k.comb->verify(msg, r, s));
            FUZZ_CHECK(botan_verify(k, msg, der_sig(r, s), Botan::DER_SEQUENCE));
        }
    }

    // Q = u2^-1 * (R - u1*G) for a point R with x(R) = n + t >= n: then the
    // signature (r, s) = (t, t/u2) of msg (u1 = e/s) verifies through R.
    static fixed_key special_key() {
        const Botan::EC_Group& g = group();
        const BigInt& n = g.get_order();
        Botan::PointGFp big_r;
        BigInt t(1);
        for (;; ++t) {
            std::array<std::uint8_t, 49> enc{0x02};
            (n + t).binary_encode(enc.data() + 1, 48);
            try {
                big_r = g.OS2ECP(enc.data(), enc.size());
                break;
            } catch (const std::exception&) {  // n + t is not an x: try the next
            }
        }
        fixed_key k;
        const std::string_view label = "tee-client fuzz_p384_verify: x(R) >= n";
        k.msg.assign(label.begin(), label.end());
        k.r = t;
        const BigInt u2 = scalar_of_label("tee-client fuzz_p384_verify key 5 u2");
        k.s = g.multiply_mod_order(t, g.inverse_mod_order(u2));
        k.u1 = g.multiply_mod_order(hash_e(k.msg), g.inverse_mod_order(k.s));
        k.u2 = u2;
        const Botan::PointGFp q = g.inverse_mod_order(u2) * (big_r + (n - k.u1) * g.get_base_point());
        FUZZ_CHECK(!q.is_zero() && q.on_the_curve());
        FUZZ_CHECK(g.point_multiply(k.u1, q, k.u2) == big_r);
        FUZZ_CHECK(big_r.get_affine_x() >= n);
        k.pub = std::make_unique<Botan::ECDSA_PublicKey>(g, q);
        return k;
    }
};

// Input reader: takes bytes from the front; short reads give what is left.
struct reader {
    const std::uint8_t* p;
    std::size_t left;
    std::uint8_t byte() {
        if (!left) return 0;
        --left;
        return *p++;
    }
    std::span<const std::uint8_t> take(std::size_t n) {
        n = std::min(n, left);
        std::span<const std::uint8_t> out{p, n};
        p += n;
        left -= n;
        return out;
    }
    std::span<const std::uint8_t> rest() { return take(left); }
};

// The comb's verdict (raw r||s or DER through parse_der_p384_signature);
// `parse_agrees`: the parser took what Botan's DER decoding takes, as the same (r, s).
struct comb_result {
    bool verdict = false, parse_agrees = true;
};

comb_result comb_verify(const fixed_key& k, std::span<const std::uint8_t> msg, std::span<const std::uint8_t> sig,
                        bool der) {
    if (!der) return {k.comb->verify_raw(msg, sig)};
    const auto rs = tee::detail::parse_der_p384_signature(sig);
    const auto ref = botan_der_decode(sig);
    comb_result out;
    out.parse_agrees =
        rs.has_value() == ref.has_value() && (!rs || (rs->first == ref->first && rs->second == ref->second));
    if (!out.parse_agrees) {
        std::fprintf(stderr, "DER parse differs: parse_der_p384_signature %s, Botan's decoding %s, signature ",
                     rs ? "accepts" : "refuses", ref ? "accepts" : "refuses");
        for (std::uint8_t b : sig) std::fprintf(stderr, "%02x", b);
        std::fprintf(stderr, "\n");
    }
    out.verdict = rs && k.comb->verify(msg, rs->first, rs->second);
    return out;
}

// Botan's verdict; aborts unless p384_comb and botan_crypto (comb path) agree with it.
bool check_verdicts(const fixture& f, const fixed_key& k, std::span<const std::uint8_t> msg,
                    std::span<const std::uint8_t> sig, bool der) {
    const bool expected = botan_verify(k, msg, sig, der ? Botan::DER_SEQUENCE : Botan::IEEE_1363);
    const comb_result comb = comb_verify(k, msg, sig, der);
    const bool tee =
        der ? f.crypto.ecdsa_p384_verify_der(k.tee_key, msg, sig) : f.crypto.ecdsa_p384_verify_raw(k.tee_key, msg, sig);
    if (comb.verdict != expected || tee != expected)
        std::fprintf(stderr,
                     "verdicts differ: Botan %d, p384_comb %d, botan_crypto %d (%s, msg %zu bytes, sig %zu bytes)\n",
                     expected, comb.verdict, tee, der ? "DER" : "raw", msg.size(), sig.size());
    FUZZ_CHECK(comb.verdict == expected);
    FUZZ_CHECK(tee == expected);
    FUZZ_CHECK(comb.parse_agrees);
    if (expected) fuzz::accepted(der ? "valid DER signature" : "valid raw signature");
    return expected;
}

void signed_mode(const fixture& f, const fixed_key& k, reader& in) {
    const BigInt& n = order();
    const std::uint8_t flags = in.byte();
    const bool der = flags & 1;
    const unsigned change = (flags >> 1) & 7;
    const auto input_msg = in.take(in.byte());
    std::span<const std::uint8_t> msg = k.d ? input_msg : std::span<const std::uint8_t>(k.msg);
    BigInt r, s;
    if (!k.d) {
        r = k.r;
        s = k.s;
    } else if (flags & 16) {  // r = x(kG) mod n, s = (e + r*d)/k
        const auto kb = in.take(48);
        const BigInt nonce = group().mod_order(BigInt(kb.data(), kb.size()));
        if (nonce.is_zero()) return;
        r = group().mod_order((nonce * group().get_base_point()).get_affine_x());
        s = group().multiply_mod_order(group().inverse_mod_order(nonce),
                                       group().mod_order(hash_e(msg) + group().multiply_mod_order(r, *k.d)));
        if (r.is_zero() || s.is_zero()) return;
    } else {
        Botan::ChaCha_RNG rng(Botan::secure_vector<std::uint8_t>(msg.begin(), msg.end()));
        const bytes_t sig = k.signer->sign_message(msg.data(), msg.size(), rng);
        FUZZ_CHECK(sig.size() == 96);
        r = BigInt(sig.data(), 48);
        s = BigInt(sig.data() + 48, 48);
    }
    bytes_t msg2(msg.begin(), msg.end());
    switch (change) {
        case 1: s = n - s; break;
        case 2: r = n - r; break;
        case 3: std::swap(r, s); break;
        case 4:
            if (r + n < BigInt::power_of_2(384)) r += n;
            break;
        case 5:
            if (s + n < BigInt::power_of_2(384)) s += n;
            break;
        case 6: s = group().mod_order(s + 1); break;
        case 7: msg2.push_back(0); break;
        default: break;
    }
    bytes_t sig = der ? der_sig(r, s) : raw_sig(r, s);
    bool edited = false;
    for (int i = 0; i < 8 && in.left >= 3; ++i) {
        const std::uint8_t op = in.byte(), pos = in.byte(), val = in.byte();
        const std::size_t at = sig.empty() ? 0 : pos % (sig.size() + (op % 3 == 1));
        switch (op % 3) {
            case 0:
                if (!sig.empty() && val) {
                    sig[at] ^= val;
                    edited = true;
                }
                break;
            case 1:
                sig.insert(sig.begin() + at, val);
                edited = true;
                break;
            default:
                if (!sig.empty()) {
                    sig.erase(sig.begin() + at);
                    edited = true;
                }
                break;
        }
    }
    const bool ok = check_verdicts(f, k, msg2, sig, der);
    if (!edited && (change == 0 || change == 1)) FUZZ_CHECK(ok);
}

void scalar_mode(const fixed_key& k, reader& in) {
    const Botan::EC_Group& g = group();
    const BigInt& n = g.get_order();
    const unsigned relation = in.byte() % 8;
    const auto b1 = in.take(48), b2 = in.take(48);
    BigInt u1 = g.mod_order(BigInt(b1.data(), b1.size())), u2 = g.mod_order(BigInt(b2.data(), b2.size()));
    bool zero_expected = false;
    switch (relation) {
        case 1: u2 = u1; break;
        case 2: u2 = g.mod_order(n - u1); break;
        case 3:
            if (k.d) {
                u1 = g.mod_order(n - g.multiply_mod_order(u2, *k.d));
                zero_expected = true;
            } else {
                u1 = k.u1;
                u2 = k.u2;
            }
            break;
        case 4:
            if (k.d) {
                u1 = g.mod_order(u1 + n - g.multiply_mod_order(u2, *k.d));
            } else {
                u1 = n - k.u1;
                u2 = n - k.u2;
            }
            break;
        case 5: u1 = BigInt(0); break;
        case 6: u2 = BigInt(0); break;
        case 7:
            u1 = BigInt(b1.empty() ? 0 : b1[0]);
            u2 = BigInt(b2.empty() ? 0 : b2[0]);
            break;
        default: break;
    }
    const Botan::PointGFp got = k.comb->multiply(u1, u2);
    const Botan::PointGFp expected = g.point_multiply(u1, k.pub->public_point(), u2);
    if (got.is_zero() != expected.is_zero() || !(got == expected)) {
        const Botan::PointGFp third = u1 * g.get_base_point() + u2 * k.pub->public_point();
        std::fprintf(stderr,
                     "u1*G + u2*Q differ (relation %u): comb %s, point_multiply %s, u1*G + u2*Q %s; "
                     "comb == (u1*G + u2*Q): %d\n",
                     relation, got.is_zero() ? "zero" : "non-zero", expected.is_zero() ? "zero" : "non-zero",
                     third.is_zero() ? "zero" : "non-zero", int(got == third));
    }
    FUZZ_CHECK(got.is_zero() == expected.is_zero());
    FUZZ_CHECK(got == expected);
    if (zero_expected) FUZZ_CHECK(got.is_zero());
    if (got.is_zero()) {
        FUZZ_CHECK(!p384_comb::x_mod_n_is(got, BigInt(1)));
        return;
    }
    const BigInt x = expected.get_affine_x();
    const BigInt r = g.mod_order(x);
    if (!r.is_zero()) FUZZ_CHECK(p384_comb::x_mod_n_is(got, r));
    for (const BigInt& other : {g.mod_order(r + 1), g.mod_order(n - r), BigInt(1)})
        if (!other.is_zero() && other != r) FUZZ_CHECK(!p384_comb::x_mod_n_is(got, other));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const fixture f;
    if (size < 2) return 0;
    reader in{data, size};
    const fixed_key& k = f.keys[in.byte() % f.keys.size()];
    switch (in.byte() % 4) {
        case 0:
        case 1: {
            const bool der = data[1] % 4 == 0;
            const auto msg = in.take(in.byte());
            check_verdicts(f, k, msg, in.rest(), der);
            break;
        }
        case 2: signed_mode(f, k, in); break;
        default: scalar_mode(k, in); break;
    }
    return 0;
}
#endif  // Botan 2
