// fuzz_nova_signature: the EIP-191 / secp256k1 signature check of the Nova
// protocol (tee/detail/nova_crypto.hpp). Input:
//
//   byte 0: mode (mod 4)
//     0  as read:  [signature, 65 bytes] [address, 20 bytes] [message, the rest]
//     1  a valid signature by a fixed key (the capsule's test key) over the
//        message, then damaged: [edits: 8 bytes] [message, the rest];
//        edits = (position mod 65, xor value) pairs; with no effective edit it
//        must verify and recover the key's address
//     2  the same valid signature with one change, chosen by [change] (mod 8):
//        0 s = n - s, v ^= 1 (the high-s twin: must be refused as high_s),
//        1 v += 27 (must verify), 2 v = 2, 3 r = 0, 4 s = 0, 5 r = n,
//        6 s = n, 7 r += n (2^256 wraps: a different r); then [message]
//     3  boundary scalars: [r selector] [s selector] [v] [message]; selectors
//        (mod 6): 0 zero, 1 one, 2 n-1, 3 n, 4 (n-1)/2, 5 (n+1)/2
//
// For every input: recover_signer and check_eip191_signature never throw
// (they are noexcept; a throw would terminate); whenever a signature is
// accepted, an independent check must agree: 65 bytes, v in {0,1,27,28},
// 1 <= r < n, 1 <= s <= n/2, the digest is Keccak-256 of the EIP-191 bytes
// (built here), and Botan's ECDSA/Keccak-256 verification of (r, s) over
// those bytes holds with the key Botan recovers, whose address is the one
// returned; and check_eip191_signature is ok exactly when recovery is ok and
// gives the expected address. Keys are fixed; an iteration is one or two
// recoveries, a signature in modes 1 and 2, a verification when accepted.
// The seed corpus (fuzz/corpus/nova_signature/) holds the worked example of
// PROTOCOL-NOVA.md section 12, viem's "hello world" signature, and one input
// per change of modes 2 and 3.
#include <tee/detail/nova_crypto.hpp>

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <vector>

#include <botan/bigint.h>
#include <botan/ecdsa.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>
#if BOTAN_VERSION_MAJOR >= 3
#include <botan/ec_scalar.h>
#endif

#include "fuzz_util.hpp"

namespace {
namespace nova = tee::detail::nova;
namespace bc = tee::detail::botan;
using bytes_t = std::vector<std::uint8_t>;
using Botan::BigInt;
using nova::signature_status;

const BigInt& order() { return bc::secp256k1().get_order(); }

bytes_t be32(const BigInt& x) {
    bytes_t out(32);
#if BOTAN_VERSION_MAJOR >= 3
    x.serialize_to(out);
#else
    x.binary_encode(out.data(), out.size());
#endif
    return out;
}

bytes_t signature_of(const BigInt& r, const BigInt& s, std::uint8_t v) {
    bytes_t sig = be32(r), sb = be32(s);
    sig.insert(sig.end(), sb.begin(), sb.end());
    sig.push_back(v);
    return sig;
}

// The capsule's test key (PROTOCOL-NOVA.md section 12).
const Botan::ECDSA_PrivateKey& signer_key() {
    static const auto key = [] {
        const BigInt d("0x2151833c4e545b28d64d87ed80dcc735a14d70f537e8885b227a5dbe7994da26");
#if BOTAN_VERSION_MAJOR >= 3
        return std::make_unique<Botan::ECDSA_PrivateKey>(bc::secp256k1(),
                                                         Botan::EC_Scalar::from_bigint(bc::secp256k1(), d));
#else
        return std::make_unique<Botan::ECDSA_PrivateKey>(Botan::system_rng(), bc::secp256k1(), d);
#endif
    }();
    return *key;
}

const nova::eth_address& signer_address() {
    static const nova::eth_address a = *nova::eth_address_of_point(bc::point_of(signer_key()));
    return a;
}

// ECDSA with Keccak-256 as the hash, Botan's name for it.
#if BOTAN_VERSION_MAJOR >= 3
constexpr const char* ecdsa_keccak = "Keccak-1600(256)";
#else
constexpr const char* ecdsa_keccak = "EMSA1(Keccak-1600(256))";
#endif

// 0x19 "Ethereum Signed Message:\n" || decimal length || message, built apart from nova_crypto.
bytes_t eip191_bytes(std::span<const std::uint8_t> message) {
    const std::string prefix =
        "\x19"
        "Ethereum Signed Message:\n" +
        std::to_string(message.size());
    bytes_t out(prefix.begin(), prefix.end());
    out.insert(out.end(), message.begin(), message.end());
    return out;
}

// A low-s recoverable EIP-191 signature of `message` by the fixed key
// (Botan's ECDSA with Keccak-256 as the hash).
bytes_t sign(std::span<const std::uint8_t> message) {
    const bytes_t signed_bytes = eip191_bytes(message);
    Botan::PK_Signer signer(signer_key(), Botan::system_rng(), ecdsa_keccak, bc::sig_raw);
    const bytes_t rs = signer.sign_message(signed_bytes.data(), signed_bytes.size(), Botan::system_rng());
    FUZZ_CHECK(rs.size() == 64);
    const BigInt r(rs.data(), 32);
    BigInt s(rs.data() + 32, 32);
    const nova::hash256 digest = nova::keccak256(signed_bytes);
    std::uint8_t v = signer_key().recovery_param(bytes_t(digest.begin(), digest.end()), r, s);
    FUZZ_CHECK(v < 2);
    if (s > (order() >> 1)) {
        s = order() - s;
        v ^= 1;
    }
    return signature_of(r, s, v);
}

// What an accepted signature must satisfy, checked without nova_crypto.
void check_accepted(std::span<const std::uint8_t> message, const nova::hash256& digest, const bytes_t& sig,
                    const nova::eth_address& address) {
    FUZZ_CHECK(sig.size() == 65);
    const std::uint8_t v = sig[64];
    FUZZ_CHECK(v == 0 || v == 1 || v == 27 || v == 28);
    const BigInt r(sig.data(), 32), s(sig.data() + 32, 32);
    FUZZ_CHECK(r >= 1 && r < order());
    FUZZ_CHECK(s >= 1 && s <= (order() >> 1));
    const bytes_t e(digest.begin(), digest.end());
    const Botan::ECDSA_PublicKey key(bc::secp256k1(), e, r, s, static_cast<std::uint8_t>(v >= 27 ? v - 27 : v));
    const bytes_t point = bc::point_of(key);
    FUZZ_CHECK(point.size() == 65 && point[0] == 0x04);
    FUZZ_CHECK(nova::eth_address_of_point(point) == address);
    const bytes_t signed_bytes = eip191_bytes(message);
    FUZZ_CHECK(nova::keccak256(signed_bytes) == digest);
    Botan::PK_Verifier verifier(key, ecdsa_keccak, bc::sig_raw);
    FUZZ_CHECK(verifier.verify_message(signed_bytes.data(), signed_bytes.size(), sig.data(), 64));
}

// Runs both entry points on (message, sig, expected) and checks them; returns the status of recovery.
signature_status run(std::span<const std::uint8_t> message, const bytes_t& sig, const nova::eth_address& expected) {
    const nova::hash256 digest = nova::eip191_digest(message);
    const nova::recovered_signer got = nova::recover_signer(digest, sig);
    const signature_status checked = nova::check_eip191_signature(message, sig, expected);
    if (got.status == signature_status::ok) {
        check_accepted(message, digest, sig, got.address);
        FUZZ_CHECK(checked == (got.address == expected ? signature_status::ok : signature_status::wrong_signer));
        fuzz::accepted("signature");
    } else {
        FUZZ_CHECK(checked == got.status);
    }
    return got.status;
}

BigInt boundary(std::uint8_t selector) {
    switch (selector % 6) {
        case 0: return BigInt(0);
        case 1: return BigInt(1);
        case 2: return order() - 1;
        case 3: return order();
        case 4: return order() >> 1;
        default: return (order() >> 1) + 1;
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const auto in = fuzz::bytes(data + 1, size - 1);
    switch (data[0] % 4) {
        case 0: {
            if (in.size() < 85) {  // a short signature, the whole input
                run({}, bytes_t(in.begin(), in.end()), signer_address());
                return 0;
            }
            nova::eth_address expected{};
            std::copy(in.begin() + 65, in.begin() + 85, expected.begin());
            run(in.subspan(85), bytes_t(in.begin(), in.begin() + 65), expected);
            return 0;
        }
        case 1: {
            if (in.size() < 8) return 0;
            const auto message = in.subspan(8);
            const bytes_t good = sign(message);
            bytes_t sig = good;
            for (std::size_t i = 0; i < 8; i += 2) sig[in[i] % 65] ^= in[i + 1];
            const signature_status status = run(message, sig, signer_address());
            if (sig == good) {
                FUZZ_CHECK(status == signature_status::ok);
                FUZZ_CHECK(nova::check_eip191_signature(message, sig, signer_address()) == signature_status::ok);
            }
            return 0;
        }
        case 2: {
            if (in.size() < 1) return 0;
            const auto message = in.subspan(1);
            const bytes_t good = sign(message);
            const BigInt r(good.data(), 32), s(good.data() + 32, 32);
            const std::uint8_t v = good[64];
            const BigInt wrapped = (r + order()) % (BigInt(1) << 256);
            bytes_t sig;
            signature_status want = signature_status::ok;
            switch (in[0] % 8) {
                case 0:
                    sig = signature_of(r, order() - s, static_cast<std::uint8_t>(v ^ 1));
                    want = signature_status::high_s;
                    break;
                case 1: sig = signature_of(r, s, static_cast<std::uint8_t>(v + 27)); break;
                case 2:
                    sig = signature_of(r, s, 2);
                    want = signature_status::bad_v;
                    break;
                case 3:
                    sig = signature_of(BigInt(0), s, v);
                    want = signature_status::r_out_of_range;
                    break;
                case 4:
                    sig = signature_of(r, BigInt(0), v);
                    want = signature_status::s_out_of_range;
                    break;
                case 5:
                    sig = signature_of(order(), s, v);
                    want = signature_status::r_out_of_range;
                    break;
                case 6:
                    sig = signature_of(r, order(), v);
                    want = signature_status::s_out_of_range;
                    break;
                default:  // r + n below 2^256 is out of range; above, it wraps to another r
                    sig = signature_of(wrapped, s, v);
                    want = wrapped >= order() ? signature_status::r_out_of_range : signature_status::wrong_signer;
                    break;
            }
            const signature_status status = run(message, sig, signer_address());
            if (want == signature_status::wrong_signer) {
                FUZZ_CHECK(status != signature_status::ok ||
                           nova::check_eip191_signature(message, sig, signer_address()) != signature_status::ok);
            } else {
                FUZZ_CHECK(status == want);
            }
            return 0;
        }
        default: {
            if (in.size() < 3) return 0;
            run(in.subspan(3), signature_of(boundary(in[0]), boundary(in[1]), in[2]), signer_address());
            return 0;
        }
    }
}
