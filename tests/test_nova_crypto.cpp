// Tests of tee/detail/nova_crypto.hpp, the cryptography of the Nova protocol
// (PROTOCOL-NOVA.md sections 4, 6, 7, 12):
//
//  * known answers for every primitive: Keccak-256 ("" and "abc", not
//    SHA3-256), the EIP-191 digest of the worked example's envelope, the
//    capsule's key -> address vector, recovery of the example's signature to
//    the attested address, viem's "hello world" signature (v = 27), the HKDF
//    salt, the ECDH secret and both per-message keys, the request ciphertext
//    and the decryption of the answer envelope (tests/data/nova_kat.json is a
//    copy of ../shared/vectors/nova_kat.json);
//  * one negative test per check, each with the status of that check, so that
//    removing the check changes the outcome: length, v, r and s ranges, high
//    s (whose twin would otherwise recover the attested address), the point
//    at infinity, address strings, another signer, other bytes, the salt's
//    inputs, the label, the nonce;
//  * signatures made here by random secp256k1 keys (both parities of v)
//    recover their own address and no other;
//  * the simulated Nova enclave (tee/testing/simulated_nova.hpp), driven
//    through handle() by a client built from these primitives: its documents
//    (nonce, key, eth_addr user_data, COSE signature), answers that decrypt
//    and recover to the attested address, its request checks and replay
//    cache, a restart, and each nova_fault's one misbehaviour.
#include "tee/detail/nova_crypto.hpp"

#include "tee/botan_crypto.hpp"
#include "tee/detail/canonical_json.hpp"
#include "tee/encoding.hpp"
#include "tee/nitro_attestation.hpp"
#include "tee/testing/simulated_enclave.hpp"

#include <botan/ecdh.h>
#include <botan/ecdsa.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>
#include <botan/x509cert.h>
#if BOTAN_VERSION_MAJOR >= 3
#include <botan/ec_scalar.h>
#endif

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "test_data.hpp"

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace nova = tee::detail::nova;
using bytes = std::vector<std::uint8_t>;
using nova::signature_status;

namespace {

bytes unhex(std::string_view text) {
    auto b = tee::from_hex(text);
    REQUIRE_MESSAGE(b.has_value(), "bad hex in test data: " << text);
    return *b;
}

std::string hx(tee::byte_span b) { return tee::to_hex(b); }

tee::byte_span text_bytes(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

const nlohmann::json& kat() {
    static const nlohmann::json j = nlohmann::json::parse(tee_test::read_data("nova_kat.json"));
    return j;
}

std::string kat_str(const char* name) { return kat().at(name).get<std::string>(); }
bytes kat_bytes(const char* name) { return unhex(kat_str(name)); }

nova::hash256 digest_of(const bytes& b) {
    REQUIRE(b.size() == 32);
    nova::hash256 h{};
    std::copy(b.begin(), b.end(), h.begin());
    return h;
}

const Botan::BigInt& order() { return tee::detail::botan::secp256k1().get_order(); }

bytes be32(const Botan::BigInt& x) {
    bytes out(32);
#if BOTAN_VERSION_MAJOR >= 3
    x.serialize_to(out);
#else
    x.binary_encode(out.data(), out.size());
#endif
    return out;
}

bytes signature_of(const Botan::BigInt& r, const Botan::BigInt& s, std::uint8_t v) {
    bytes sig = be32(r);
    const bytes sb = be32(s);
    sig.insert(sig.end(), sb.begin(), sb.end());
    sig.push_back(v);
    return sig;
}

Botan::BigInt r_of(const bytes& sig) { return Botan::BigInt(sig.data(), 32); }
Botan::BigInt s_of(const bytes& sig) { return Botan::BigInt(sig.data() + 32, 32); }

// A P-384 key pair from its scalar, for the worked example.
tee::botan_crypto::private_key p384_key(const bytes& d) {
    const auto& g = tee::detail::botan::p384();
#if BOTAN_VERSION_MAJOR >= 3
    auto x = Botan::EC_Scalar::deserialize(g, d);
    REQUIRE(x.has_value());
    return {std::make_shared<const Botan::ECDH_PrivateKey>(g, *x)};
#else
    return {std::make_shared<const Botan::ECDH_PrivateKey>(Botan::system_rng(), g, Botan::BigInt(d.data(), d.size()))};
#endif
}

// A low-s recoverable EIP-191 signature of `message`, as k256 makes them,
// through Botan's ECDSA with Keccak-256 as the hash (the EIP-191 bytes built
// here, apart from eip191_digest).
bytes sign_eip191(const Botan::ECDSA_PrivateKey& key, std::string_view message) {
    const std::string signed_bytes =
        "\x19"
        "Ethereum Signed Message:\n" +
        std::to_string(message.size()) + std::string(message);
#if BOTAN_VERSION_MAJOR >= 3
    Botan::PK_Signer signer(key, Botan::system_rng(), "Keccak-1600(256)", tee::detail::botan::sig_raw);
#else
    Botan::PK_Signer signer(key, Botan::system_rng(), "EMSA1(Keccak-1600(256))", tee::detail::botan::sig_raw);
#endif
    const bytes rs = signer.sign_message(text_bytes(signed_bytes).data(), signed_bytes.size(), Botan::system_rng());
    REQUIRE(rs.size() == 64);
    const Botan::BigInt r(rs.data(), 32);
    Botan::BigInt s(rs.data() + 32, 32);
    const nova::hash256 digest = nova::keccak256(text_bytes(signed_bytes));
    std::uint8_t v = key.recovery_param(bytes(digest.begin(), digest.end()), r, s);
    REQUIRE(v < 2);  // 2/3 only when R.x >= n: probability about 2^-127
    if (s > (order() >> 1)) {
        s = order() - s;
        v ^= 1;
    }
    return signature_of(r, s, v);
}

nova::eth_address address_of(const Botan::ECDSA_PrivateKey& key) {
    auto a = nova::eth_address_of_point(tee::detail::botan::point_of(key));
    REQUIRE(a.has_value());
    return *a;
}

nova::eth_address kat_address() {
    auto a = nova::parse_eth_address(kat_str("eth_addr"));
    REQUIRE(a.has_value());
    return *a;
}

}  // namespace

// ------------------------------------------------------------------ hashing

TEST_CASE("keccak256 is Ethereum's Keccak-256, not SHA3-256") {
    CHECK(hx(nova::keccak256({})) == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    CHECK(hx(nova::keccak256(text_bytes("abc"))) == "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    // SHA3-256("") for contrast: a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a
    CHECK(hx(nova::keccak256({})) != "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
}

TEST_CASE("eip191_digest of the worked example's envelope is the vector's digest") {
    const std::string t = kat_str("signed_message");
    REQUIRE(t.size() == kat().at("signed_message_len").get<std::size_t>());
    CHECK(hx(nova::eip191_digest(text_bytes(t))) == kat_str("eip191_hash"));
    // the length is decimal and part of the hash: another length prefix, another digest
    CHECK(nova::eip191_digest(text_bytes(t)) != nova::keccak256(text_bytes(t)));
    CHECK(hx(nova::eip191_digest(text_bytes(t.substr(1)))) != kat_str("eip191_hash"));
}

TEST_CASE("the signed text is the canonical JSON of the answer envelope") {
    CHECK(tee::canonical_json(kat().at("resp_envelope")) == kat_str("signed_message"));
}

// ---------------------------------------------------------------- addresses

TEST_CASE("address of the capsule's test key is the vector's address") {
    auto a = nova::eth_address_of_point(kat_bytes("eth_pub"));
    REQUIRE(a.has_value());
    CHECK(nova::to_string(*a) == "0xd30077d0ee91bc6907a1666f1d2054b4322a2b0f");
    CHECK(nova::to_string(*a) == kat_str("eth_addr"));
}

TEST_CASE("eth_address_of_point takes only a 65-byte uncompressed point") {
    bytes pub = kat_bytes("eth_pub");
    CHECK_FALSE(nova::eth_address_of_point(bytes(pub.begin(), pub.end() - 1)).has_value());
    CHECK_FALSE(nova::eth_address_of_point(bytes(pub.begin() + 1, pub.end())).has_value());
    CHECK_FALSE(nova::eth_address_of_point(bytes{0x00}).has_value());  // Botan 2's point at infinity
    CHECK_FALSE(nova::eth_address_of_point(bytes{}).has_value());
    pub[0] = 0x02;
    CHECK_FALSE(nova::eth_address_of_point(pub).has_value());
}

TEST_CASE("parse_eth_address accepts 0x and 40 hex digits of either case, nothing else") {
    const std::string lower = "0xd30077d0ee91bc6907a1666f1d2054b4322a2b0f";
    const std::string upper = "0xD30077D0EE91BC6907A1666F1D2054B4322A2B0F";
    const std::string mixed = "0xD30077d0ee91bc6907a1666f1d2054B4322a2B0f";
    REQUIRE(nova::parse_eth_address(lower).has_value());
    CHECK(nova::parse_eth_address(upper) == nova::parse_eth_address(lower));
    CHECK(nova::parse_eth_address(mixed) == nova::parse_eth_address(lower));
    CHECK(nova::to_string(*nova::parse_eth_address(upper)) == lower);
    for (const std::string& bad :
         {std::string(), std::string("0x"), lower.substr(2), "0X" + lower.substr(2), lower.substr(0, 41), lower + "0",
          lower + " ", " " + lower, "0x" + lower.substr(2, 39) + "g", "00" + lower.substr(2), "x0" + lower.substr(2),
          "0x" + lower.substr(3) + "\n", "0x+" + lower.substr(3)}) {
        CAPTURE(bad);
        CHECK_FALSE(nova::parse_eth_address(bad).has_value());
    }
}

// --------------------------------------------------------------- signatures

TEST_CASE("the worked example's signature recovers the attested address") {
    const auto digest = digest_of(kat_bytes("eip191_hash"));
    const bytes sig = kat_bytes("sig");
    REQUIRE(sig.size() == 65);
    CHECK(sig[64] == 0);
    const auto signer = nova::recover_signer(digest, sig);
    REQUIRE(signer.status == signature_status::ok);
    CHECK(nova::to_string(signer.address) == kat_str("recovered"));
    CHECK(nova::check_eip191_signature(text_bytes(kat_str("signed_message")), sig, kat_address()) ==
          signature_status::ok);
    // the address compares case-insensitively
    std::string upper = kat_str("eth_addr");
    for (std::size_t i = 2; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
    CHECK_NOTHROW(nova::require_eip191_signature(text_bytes(kat_str("signed_message")), sig, upper));
    CHECK_NOTHROW(nova::require_eip191_signature(text_bytes(kat_str("signed_message")), sig, kat_str("eth_addr")));
}

TEST_CASE("v = 27/28 is accepted as 0/1 (viem's hello world signature)") {
    const bytes sig = unhex(
        "a461f509887bd19e312c0c58467ce8ff8e300d3c1a90b608a760c5b80318eaf15fe57c96f9175d6cd4daad4663763baa7e78836e067d01"
        "63"
        "e9a2ccf2ff753f5b1b");
    const auto viem = nova::parse_eth_address("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266");
    REQUIRE(viem.has_value());
    CHECK(nova::check_eip191_signature(text_bytes("hello world"), sig, *viem) == signature_status::ok);
    bytes zero = sig;
    zero.at(64) = 0;  // the capsule's encoding of the same signature
    CHECK(nova::check_eip191_signature(text_bytes("hello world"), zero, *viem) == signature_status::ok);
    // and the KAT signature with v = 27
    bytes kat27 = kat_bytes("sig");
    kat27.back() = 27;
    CHECK(nova::check_eip191_signature(text_bytes(kat_str("signed_message")), kat27, kat_address()) ==
          signature_status::ok);
}

TEST_CASE("a signature by another key recovers another address: wrong signer") {
    const bytes sig = unhex(
        "a461f509887bd19e312c0c58467ce8ff8e300d3c1a90b608a760c5b80318eaf15fe57c96f9175d6cd4daad4663763baa7e78836e067d01"
        "63"
        "e9a2ccf2ff753f5b1b");
    CHECK(nova::check_eip191_signature(text_bytes("hello world"), sig, kat_address()) ==
          signature_status::wrong_signer);
    // a fresh key signing the worked example's envelope
    const Botan::ECDSA_PrivateKey other(Botan::system_rng(), tee::detail::botan::secp256k1());
    const std::string t = kat_str("signed_message");
    const bytes forged = sign_eip191(other, t);
    CHECK(nova::check_eip191_signature(text_bytes(t), forged, address_of(other)) == signature_status::ok);
    CHECK(nova::check_eip191_signature(text_bytes(t), forged, kat_address()) == signature_status::wrong_signer);
    CHECK_THROWS_AS(nova::require_eip191_signature(text_bytes(t), forged, kat_str("eth_addr")), tee::signature_error);
}

TEST_CASE("the signature over other bytes does not recover the attested address") {
    std::string t = kat_str("signed_message");
    t[20] = t[20] == 'a' ? 'b' : 'a';  // one hex digit of the ciphertext
    CHECK(nova::check_eip191_signature(text_bytes(t), kat_bytes("sig"), kat_address()) ==
          signature_status::wrong_signer);
    // the other parity of v recovers the other candidate key
    bytes flipped = kat_bytes("sig");
    flipped.back() = 1;
    CHECK(nova::check_eip191_signature(text_bytes(kat_str("signed_message")), flipped, kat_address()) ==
          signature_status::wrong_signer);
}

TEST_CASE("v other than 0, 1, 27, 28 is refused") {
    const auto digest = digest_of(kat_bytes("eip191_hash"));
    for (int v : {2, 3, 4, 26, 29, 30, 35, 36, 127, 128, 255}) {
        CAPTURE(v);
        bytes sig = kat_bytes("sig");
        sig.back() = static_cast<std::uint8_t>(v);
        CHECK(nova::recover_signer(digest, sig).status == signature_status::bad_v);
    }
}

TEST_CASE("high s is refused, though its twin (r, n-s, v^1) would recover the attested address") {
    const auto digest = digest_of(kat_bytes("eip191_hash"));
    const bytes sig = kat_bytes("sig");
    const bytes twin = signature_of(r_of(sig), order() - s_of(sig), static_cast<std::uint8_t>(sig[64] ^ 1));
    CHECK(nova::recover_signer(digest, twin).status == signature_status::high_s);
    CHECK(nova::check_eip191_signature(text_bytes(kat_str("signed_message")), twin, kat_address()) ==
          signature_status::high_s);
    bytes twin28 = twin;
    twin28.back() = static_cast<std::uint8_t>(twin.back() + 27);
    CHECK(nova::recover_signer(digest, twin28).status == signature_status::high_s);
    // the boundary: s = (n-1)/2 passes the range checks, s = (n+1)/2 does not
    const Botan::BigInt half = order() >> 1;
    CHECK(nova::recover_signer(digest, signature_of(r_of(sig), half, 0)).status != signature_status::high_s);
    CHECK(nova::recover_signer(digest, signature_of(r_of(sig), half + 1, 0)).status == signature_status::high_s);
}

TEST_CASE("r and s outside [1, n-1] are refused") {
    const auto digest = digest_of(kat_bytes("eip191_hash"));
    const bytes sig = kat_bytes("sig");
    const Botan::BigInt r = r_of(sig), s = s_of(sig), n = order();
    const Botan::BigInt zero(0), max256 = (Botan::BigInt(1) << 256) - 1;
    CHECK(nova::recover_signer(digest, signature_of(zero, s, 0)).status == signature_status::r_out_of_range);
    CHECK(nova::recover_signer(digest, signature_of(n, s, 0)).status == signature_status::r_out_of_range);
    CHECK(nova::recover_signer(digest, signature_of(n + 1, s, 0)).status == signature_status::r_out_of_range);
    CHECK(nova::recover_signer(digest, signature_of(max256, s, 0)).status == signature_status::r_out_of_range);
    CHECK(nova::recover_signer(digest, signature_of(r, zero, 0)).status == signature_status::s_out_of_range);
    CHECK(nova::recover_signer(digest, signature_of(r, n, 0)).status == signature_status::s_out_of_range);
    CHECK(nova::recover_signer(digest, signature_of(r, max256, 1)).status == signature_status::s_out_of_range);
    // r = n - 1 and s = 1 are in range (whatever they recover, it is not refused for range)
    const auto edge = nova::recover_signer(digest, signature_of(n - 1, Botan::BigInt(1), 0)).status;
    CHECK(edge != signature_status::r_out_of_range);
    CHECK(edge != signature_status::s_out_of_range);
}

TEST_CASE("signatures that are not 65 bytes are refused, the empty one first") {
    const auto digest = digest_of(kat_bytes("eip191_hash"));
    const bytes sig = kat_bytes("sig");
    CHECK(nova::recover_signer(digest, bytes{}).status == signature_status::wrong_length);
    CHECK(nova::recover_signer(digest, bytes(sig.begin(), sig.end() - 1)).status == signature_status::wrong_length);
    bytes longer = sig;
    longer.push_back(0);
    CHECK(nova::recover_signer(digest, longer).status == signature_status::wrong_length);
    CHECK(nova::recover_signer(digest, bytes(130, 0)).status == signature_status::wrong_length);
    CHECK_THROWS_WITH_AS(
        nova::require_eip191_signature(text_bytes(kat_str("signed_message")), bytes{}, kat_str("eth_addr")),
        "Nova answer: signature is not 65 bytes r||s||v", tee::signature_error);
}

TEST_CASE("a signature whose recovered key is the point at infinity is refused") {
    // R = G (v = 0, G.y even) with s = e, or R = -G (v = 1) with s = n - e:
    // then s*R = e*G and r^-1 (s*R - e*G) is the point at infinity.
    const Botan::BigInt gx("0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798");
    for (const char* text : {"nova", "infinity", "point", "zero"}) {
        CAPTURE(text);
        const nova::hash256 digest = nova::eip191_digest(text_bytes(text));
        const Botan::BigInt e = Botan::BigInt(digest.data(), digest.size()) % order();
        const bool low = e <= (order() >> 1);
        const bytes sig = signature_of(gx, low ? e : order() - e, low ? 0 : 1);
        const auto signer = nova::recover_signer(digest, sig);
        CHECK(signer.status == signature_status::not_recoverable);
        CHECK(nova::check_eip191_signature(text_bytes(text), sig, signer.address) == signature_status::not_recoverable);
    }
}

TEST_CASE("an r that is no point's x coordinate is not recoverable") {
    // x = 5: 5^3 + 7 = 132 is not a square mod p (132^((p-1)/2) mod p = p - 1,
    // Euler's criterion), so no point has x = 5
    const auto digest = digest_of(kat_bytes("eip191_hash"));
    CHECK(nova::recover_signer(digest, signature_of(Botan::BigInt(5), Botan::BigInt(1), 0)).status ==
          signature_status::not_recoverable);
}

TEST_CASE("random keys: both parities of v recover the signer, and only the signer") {
    int parity[2] = {0, 0};
    for (int i = 0; i < 24; ++i) {
        const Botan::ECDSA_PrivateKey key(Botan::system_rng(), tee::detail::botan::secp256k1());
        const std::string msg = "message " + std::to_string(i);
        const bytes sig = sign_eip191(key, msg);
        ++parity[sig[64]];
        CHECK(s_of(sig) <= (order() >> 1));
        CHECK(nova::check_eip191_signature(text_bytes(msg), sig, address_of(key)) == signature_status::ok);
        CHECK(nova::check_eip191_signature(text_bytes(msg + "!"), sig, address_of(key)) ==
              signature_status::wrong_signer);
    }
    CHECK(parity[0] > 0);
    CHECK(parity[1] > 0);
}

TEST_CASE("require_eip191_signature: a bad attested address is an attestation error") {
    const bytes sig = kat_bytes("sig");
    const std::string t = kat_str("signed_message");
    CHECK_THROWS_AS(nova::require_eip191_signature(text_bytes(t), sig, ""), tee::attestation_error);
    CHECK_THROWS_AS(nova::require_eip191_signature(text_bytes(t), sig, kat_str("eth_addr").substr(2)),
                    tee::attestation_error);
    CHECK_THROWS_AS(nova::require_eip191_signature(text_bytes(t), sig, kat_str("eth_addr") + "00"),
                    tee::attestation_error);
}

TEST_CASE("every status has its own text") {
    std::vector<std::string> seen;
    for (auto s : {signature_status::ok, signature_status::wrong_length, signature_status::bad_v,
                   signature_status::r_out_of_range, signature_status::s_out_of_range, signature_status::high_s,
                   signature_status::not_recoverable, signature_status::wrong_signer}) {
        const std::string text(nova::to_string(s));
        CHECK_FALSE(text.empty());
        CHECK(std::find(seen.begin(), seen.end(), text) == seen.end());
        seen.push_back(text);
    }
}

// ----------------------------------------------- per-message key (section 4)

TEST_CASE("HKDF labels are the capsule's and the older enclaver's, 25 and 26 bytes, no NUL") {
    CHECK(nova::label_text(nova::hkdf_label::capsule) == "capsule-ecdh-aes256gcm-v1");
    CHECK(nova::label_text(nova::hkdf_label::capsule).size() == 25);
    CHECK(nova::label_text(nova::hkdf_label::enclaver) == "enclaver-ecdh-aes256gcm-v1");
    CHECK(nova::label_text(nova::hkdf_label::enclaver).size() == 26);
}

TEST_CASE("message_salt sorts the two uncompressed points bytewise, then the nonce") {
    const bytes enclave = kat_bytes("enclave_sec1"), client = kat_bytes("client_sec1"), nonce = kat_bytes("req_nonce");
    REQUIRE_FALSE(kat().at("client_sorts_first").get<bool>());
    CHECK(hx(nova::message_salt(client, enclave, nonce)) == kat_str("req_salt"));
    CHECK(hx(nova::message_salt(enclave, client, nonce)) == kat_str("req_salt"));
    CHECK(nova::message_salt(client, enclave, nonce).size() == 206);
    // a client point that sorts first: it comes first, whichever argument it is
    bytes low = client;
    low[1] = 0x00;
    const bytes s1 = nova::message_salt(low, enclave, nonce), s2 = nova::message_salt(enclave, low, nonce);
    CHECK(s1 == s2);
    CHECK(bytes(s1.begin(), s1.begin() + 97) == low);
    // the comparison is over the whole point: equal first bytes, later difference
    bytes near = enclave;
    near[96] ^= 0x01;
    const bytes s3 = nova::message_salt(near, enclave, nonce);
    CHECK(bytes(s3.begin(), s3.begin() + 97) == (near < enclave ? near : enclave));
    CHECK(s3 == nova::message_salt(enclave, near, nonce));
}

TEST_CASE("message_salt refuses other point forms and nonces that are not 12 bytes") {
    const bytes enclave = kat_bytes("enclave_sec1"), client = kat_bytes("client_sec1"), nonce = kat_bytes("req_nonce");
    CHECK_THROWS_AS(nova::message_salt(kat_bytes("client_spki"), enclave, nonce), tee::protocol_error);
    CHECK_THROWS_AS(nova::message_salt(client, bytes(enclave.begin(), enclave.end() - 1), nonce), tee::protocol_error);
    bytes compressed(enclave.begin(), enclave.begin() + 49);
    compressed[0] = 0x02;
    CHECK_THROWS_AS(nova::message_salt(client, compressed, nonce), tee::protocol_error);
    bytes hybrid = enclave;
    hybrid[0] = 0x06;
    CHECK_THROWS_AS(nova::message_salt(client, hybrid, nonce), tee::protocol_error);
    for (std::size_t n : {0, 11, 13, 16, 32}) {
        CAPTURE(n);
        CHECK_THROWS_AS(nova::message_salt(client, enclave, bytes(n, 7)), tee::protocol_error);
    }
}

TEST_CASE("the worked example: ECDH secret, both per-message keys, request ciphertext, answer plaintext") {
    const tee::botan_crypto c;
    const auto client = p384_key(kat_bytes("client_p384_d"));
    const auto enclave = p384_key(kat_bytes("enclave_p384_d"));
    REQUIRE(hx(c.spki_der(client)) == kat_str("client_spki"));
    REQUIRE(hx(c.spki_der(enclave)) == kat_str("enclave_spki"));

    const nova::key_agreement ours = nova::agree(c, client, kat_bytes("enclave_spki"));
    const nova::key_agreement theirs = nova::agree(c, enclave, kat_bytes("client_sec1"));  // a raw point works too
    CHECK(hx(ours.shared_x) == kat_str("ecdh_x"));
    CHECK(hx(theirs.shared_x) == kat_str("ecdh_x"));
    CHECK(ours.label == nova::hkdf_label::capsule);

    const bytes req_nonce = kat_bytes("req_nonce"), resp_nonce = kat_bytes("resp_nonce");
    CHECK(hx(nova::message_key(c, ours, req_nonce)) == kat_str("req_key"));
    CHECK(hx(nova::message_key(c, theirs, req_nonce)) == kat_str("req_key"));
    CHECK(hx(nova::message_key(c, ours, resp_nonce)) == kat_str("resp_key"));

    const std::string req = kat_str("req_plaintext");
    CHECK(hx(nova::seal(c, ours, req_nonce, text_bytes(req))) == kat_str("req_ciphertext_tag"));
    auto opened_req = nova::open(c, theirs, req_nonce, kat_bytes("req_ciphertext_tag"));
    REQUIRE(opened_req.has_value());
    CHECK(std::string(opened_req->begin(), opened_req->end()) == req);

    const auto& envelope = kat().at("resp_envelope");
    REQUIRE(envelope.at("public_key").get<std::string>() == kat_str("enclave_spki"));
    REQUIRE(envelope.at("nonce").get<std::string>() == kat_str("resp_nonce"));
    auto answer = nova::open(c, ours, unhex(envelope.at("nonce").get<std::string>()),
                             unhex(envelope.at("encrypted_data").get<std::string>()));
    REQUIRE(answer.has_value());
    CHECK(std::string(answer->begin(), answer->end()) == kat_str("resp_plaintext"));
}

TEST_CASE("the answer does not open under the other label, another nonce, or changed bytes") {
    const tee::botan_crypto c;
    const auto client = p384_key(kat_bytes("client_p384_d"));
    nova::key_agreement ka = nova::agree(c, client, kat_bytes("enclave_spki"));
    const bytes nonce = kat_bytes("resp_nonce");
    const bytes ct = unhex(kat().at("resp_envelope").at("encrypted_data").get<std::string>());
    REQUIRE(nova::open(c, ka, nonce, ct).has_value());
    bytes other_nonce = nonce;
    other_nonce[11] ^= 1;
    CHECK_FALSE(nova::open(c, ka, other_nonce, ct).has_value());
    bytes changed = ct;
    changed[0] ^= 1;
    CHECK_FALSE(nova::open(c, ka, nonce, changed).has_value());
    CHECK_FALSE(nova::open(c, ka, nonce, bytes(ct.begin(), ct.end() - 1)).has_value());
    CHECK_FALSE(nova::open(c, ka, nonce, bytes{}).has_value());
    // the legacy 32-byte nonce is not accepted on answers
    bytes legacy = nonce;
    legacy.resize(32, 0);
    CHECK_THROWS_AS(nova::open(c, ka, legacy, ct), tee::protocol_error);
    ka.label = nova::hkdf_label::enclaver;
    CHECK(hx(nova::message_key(c, ka, nonce)) != kat_str("resp_key"));
    CHECK_FALSE(nova::open(c, ka, nonce, ct).has_value());
    // the enclaver label round-trips between the two sides
    const auto enclave = p384_key(kat_bytes("enclave_p384_d"));
    const nova::key_agreement theirs = nova::agree(c, enclave, c.spki_der(client), nova::hkdf_label::enclaver);
    const bytes sealed = nova::seal(c, theirs, nonce, text_bytes("{}"));
    auto back = nova::open(c, ka, nonce, sealed);
    REQUIRE(back.has_value());
    CHECK(std::string(back->begin(), back->end()) == "{}");
}

TEST_CASE("agree refuses a peer key that is not a P-384 SPKI or uncompressed point") {
    const tee::botan_crypto c;
    const auto client = c.generate_p384();
    CHECK_THROWS_AS(nova::agree(c, client, bytes{}), tee::protocol_error);
    CHECK_THROWS_AS(nova::agree(c, client, kat_bytes("client_browser_der")), tee::protocol_error);  // 06 08 OID length
    CHECK_THROWS_AS(nova::agree(c, client, kat_bytes("eth_pub")), tee::protocol_error);             // a secp256k1 point
    bytes off = kat_bytes("enclave_sec1");
    off[96] ^= 1;  // off the curve
    CHECK_THROWS_AS(nova::agree(c, client, off), tee::protocol_error);
}

// ---------------------------------------------------------------------------
// The simulated Nova enclave (tee/testing/simulated_nova.hpp) through
// simulated_enclave::handle() (no sockets), played against by a client made
// of the primitives above.
namespace {

using tee::testing::nova_fault;
using json = nlohmann::json;

tee::testing::enclave_options nova_options(bool nitro, nova_fault f = nova_fault::none) {
    tee::testing::enclave_options o;
    o.nova = true;
    o.nitro = nitro;
    o.nova_misbehaviour = f;
    return o;
}

std::string b64(const bytes& b) { return tee::to_base64(b); }

// What a client takes from an attestation: the document (nitro) or the mock
// form's fields, the key and the address.
struct nova_attested {
    std::optional<tee::nitro_attestation::parsed> doc;  // nitro
    bytes nonce;                                        // as the document states it (empty: null / "")
    bool nonce_null = false;
    bytes public_key;
    std::string user_data;
    std::string eth_addr;
};

nova_attested attest(tee::testing::simulated_enclave& e, const std::string& request_body) {
    const tee::http_response r = e.handle("POST", "/.well-known/attestation", request_body);
    REQUIRE(r.status == 200);
    nova_attested a;
    bytes cose;
    if (e.content_type("/.well-known/attestation", r) == "application/cbor") {
        cose.assign(r.body.begin(), r.body.end());
    } else {
        const json j = json::parse(r.body);
        if (j.at("attestation_doc").is_string()) {
            cose = *tee::from_base64(j.at("attestation_doc").get<std::string>());  // the JSON wrapper
        } else {
            CHECK(j.at("mock") == true);
            const json& d = j.at("attestation_doc");
            a.nonce = unhex(d.at("nonce").get<std::string>());
            a.public_key = unhex(d.at("public_key").get<std::string>());
            a.user_data = d.at("user_data").get<std::string>();
        }
    }
    if (!cose.empty()) {
        a.doc = tee::nitro_attestation::parse(cose);
        a.nonce_null = !a.doc->nonce.has_value();
        a.nonce = a.doc->nonce.value_or(bytes{});
        a.public_key = a.doc->public_key.value_or(bytes{});
        a.user_data.assign(a.doc->user_data->begin(), a.doc->user_data->end());
    }
    a.eth_addr = json::parse(a.user_data).at("eth_addr").get<std::string>();
    return a;
}

struct nova_answer {
    json envelope;
    std::string sig_hex;
    std::optional<json> plaintext;  // when it opens with the attested key
};

// A client of one enclave: one P-384 key, the agreement with the attested key.
struct nova_peer {
    tee::testing::simulated_enclave& enclave;
    tee::botan_crypto c{};
    tee::botan_crypto::private_key key = c.generate_p384();
    nova_attested attested{};
    std::optional<nova::key_agreement> ka{};

    explicit nova_peer(tee::testing::simulated_enclave& e, nova::hkdf_label label = nova::hkdf_label::capsule)
        : enclave(e) {
        attested = attest(e, json{{"nonce", b64(c.random_bytes(32))}}.dump());
        ka = nova::agree(c, key, attested.public_key, label);
    }

    std::string request_body(const json& plaintext, const bytes& nonce) const {
        const std::string text = plaintext.dump();
        const bytes ct = nova::seal(c, *ka, nonce, text_bytes(text));
        return json{{"nonce", hx(nonce)}, {"public_key", hx(c.spki_der(key))}, {"data", hx(ct)}}.dump();
    }
    tee::http_response post(std::string_view path, const json& plaintext) {
        return enclave.handle("POST", path, request_body(plaintext, c.random_bytes(12)));
    }
    tee::http_response set_api_key(const std::string& k = "sk-test") {
        return post("/set-api-key", {{"api_key", k}, {"platform", "openai"}});
    }
    tee::http_response talk(const std::string& message, const std::string& model = "gpt-4") {
        return post("/talk", {{"message", message}, {"ai_model", model}});
    }

    nova_answer open(const tee::http_response& r) const {
        REQUIRE(r.status == 200);
        const json j = json::parse(r.body);
        CHECK(r.body == tee::canonical_json(j) + "\n");  // Flask's jsonify: sorted, compact, ASCII, newline
        nova_answer a;
        a.envelope = j.at("data");
        a.sig_hex = j.at("sig").get<std::string>();
        auto pt = nova::open(c, *ka, unhex(a.envelope.at("nonce").get<std::string>()),
                             unhex(a.envelope.at("encrypted_data").get<std::string>()));
        if (pt) {
            const std::string text(pt->begin(), pt->end());
            a.plaintext = json::parse(text);
            CHECK(text == tee::canonical_json(*a.plaintext));  // json.dumps(sort_keys, compact, ensure_ascii)
        }
        return a;
    }

    signature_status signature_check(const nova_answer& a, const std::string& address) const {
        const std::string signed_text = tee::canonical_json(a.envelope);
        const auto sig = tee::from_hex(a.sig_hex);
        if (!sig) return signature_status::wrong_length;
        return nova::check_eip191_signature(text_bytes(signed_text), *sig, *nova::parse_eth_address(address));
    }
};

std::int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string error_of(const tee::http_response& r) { return json::parse(r.body).at("error").get<std::string>(); }

}  // namespace

TEST_CASE("simulated Nova attestation: raw CBOR with our nonce, the P-384 SPKI and eth_addr as user_data") {
    tee::testing::simulated_enclave e(nova_options(true));
    const tee::botan_crypto c;
    const bytes nonce = c.random_bytes(32);
    const nova_attested a = attest(e, json{{"nonce", b64(nonce)}}.dump());
    REQUIRE(a.doc.has_value());
    CHECK(a.nonce == nonce);
    CHECK(a.public_key.size() == 120);
    CHECK(hx(bytes(a.public_key.begin(), a.public_key.begin() + 24)) ==
          "3076301006072a8648ce3d020106052b8104002203620004");
    CHECK(a.public_key == e.public_key());
    CHECK(a.user_data == R"({"eth_addr":")" + e.nova()->eth_address() + "\"}");
    CHECK(a.user_data.size() == 57);
    CHECK(a.eth_addr == e.nova()->eth_address());
    CHECK(a.doc->pcrs == tee::testing::test_pki::default_pcrs());
    // the COSE signature is the leaf's, and the leaf is the test chain's
    CHECK(a.doc->certificate == e.pki()->leaf_der());
    const Botan::X509_Certificate leaf(a.doc->certificate);
    const auto leaf_key = leaf.subject_public_key();
    Botan::PK_Verifier verifier(*leaf_key, tee::detail::botan::ecdsa_sha384, tee::detail::botan::sig_raw);
    CHECK(verifier.verify_message(tee::nitro_attestation::signed_bytes(*a.doc), a.doc->signature));
}

TEST_CASE("simulated Nova attestation: no nonce is CBOR null; caller user_data kept, eth_addr overwritten") {
    tee::testing::simulated_enclave e(nova_options(true));
    for (const std::string body : {"", "{}", " "}) {
        const nova_attested a = attest(e, body);
        CHECK(a.nonce_null);
    }
    const nova_attested a =
        attest(e, R"({"user_data":{"z":1,"eth_addr":"0x00","\u00e9":"\u00fc"},"public_key":"ignored"})");
    CHECK(a.user_data == "{\"z\":1,\"eth_addr\":\"" + e.nova()->eth_address() + "\",\"\xc3\xa9\":\"\xc3\xbc\"}");
    CHECK(a.public_key == e.public_key());
}

TEST_CASE("simulated Nova attestation refuses bad JSON, non-canonical base64 and non-object user_data") {
    tee::testing::simulated_enclave e(nova_options(true));
    const auto status = [&](std::string_view body) {
        const tee::http_response r = e.handle("POST", "/.well-known/attestation", body);
        if (r.status != 200) CHECK(e.content_type("/.well-known/attestation", r).rfind("text/plain", 0) == 0);
        return r;
    };
    CHECK(status("{nope").body == "Invalid JSON in request body");
    CHECK(status("{nope").status == 400);
    CHECK(status(R"({"nonce":"AAA"})").status == 400);    // no padding
    CHECK(status(R"({"nonce":"AAB="})").status == 400);   // non-zero trailing bits
    CHECK(status(R"({"nonce":"AA A="})").status == 400);  // whitespace
    CHECK(status(R"({"nonce":"AA-_"})").status == 400);   // URL-safe alphabet
    CHECK(status(R"({"nonce":"AAA="})").status == 200);
    CHECK(status(R"({"nonce":5})").status == 400);
    CHECK(status(R"({"user_data":[1]})").body == "user_data must be a JSON object");
    CHECK(status(R"({"user_data":"x"})").status == 400);
    CHECK(status("[]").status == 400);
    CHECK(e.handle("GET", "/.well-known/attestation", "").status == 405);
}

TEST_CASE("simulated Nova mock attestation: JSON with hex nonce, hex SPKI and the user_data text") {
    tee::testing::simulated_enclave e(nova_options(false));
    const bytes nonce = tee::botan_crypto{}.random_bytes(32);
    const tee::http_response r = e.handle("POST", "/.well-known/attestation", json{{"nonce", b64(nonce)}}.dump());
    CHECK(e.content_type("/.well-known/attestation", r) == "application/json");
    const nova_attested a = attest(e, json{{"nonce", b64(nonce)}}.dump());
    CHECK_FALSE(a.doc.has_value());
    CHECK(a.nonce == nonce);
    CHECK(a.public_key == e.public_key());
    CHECK(a.user_data == R"({"eth_addr":")" + e.nova()->eth_address() + "\"}");
}

TEST_CASE("simulated Nova chat: answers decrypt with the attested key and recover to the attested eth_addr") {
    for (const bool nitro : {true, false}) {
        CAPTURE(nitro);
        tee::testing::simulated_enclave e(nova_options(nitro));
        nova_peer peer(e);
        const nova_answer set = peer.open(peer.set_api_key());
        REQUIRE(set.plaintext.has_value());
        CHECK(set.plaintext->at("message") == "API key cached successfully");
        CHECK(set.plaintext->at("platform") == "openai");
        CHECK(set.plaintext->at("status") == "success");
        CHECK(peer.signature_check(set, peer.attested.eth_addr) == signature_status::ok);

        const std::string prompt = "h\xc3\xa9llo \xf0\x9f\x98\x80";  // héllo 😀
        const tee::http_response r = peer.talk(prompt, "gpt-4o");
        const nova_answer a = peer.open(r);
        REQUIRE(a.plaintext.has_value());
        CHECK(a.envelope.size() == 3);
        CHECK(unhex(a.envelope.at("public_key").get<std::string>()) == peer.attested.public_key);
        CHECK(a.envelope.at("nonce").get<std::string>().size() == 24);
        CHECK(a.plaintext->at("message") == prompt);
        CHECK(a.plaintext->at("ai_model") == "gpt-4o");
        CHECK(a.plaintext->at("platform") == "openai");
        CHECK(a.plaintext->at("response") == "Echo from the simulated enclave: " + prompt);
        CHECK(a.plaintext->at("timestamp").is_number_integer());
        CHECK(std::llabs(a.plaintext->at("timestamp").get<std::int64_t>() - now_s()) <= 2);
        // the plaintext is ASCII: the prompt travels as \u escapes, the astral character as a surrogate pair
        CHECK(tee::canonical_json(*a.plaintext).find("h\\u00e9llo \\ud83d\\ude00") != std::string::npos);
        REQUIRE(a.sig_hex.size() == 130);
        const bytes sig = unhex(a.sig_hex);
        CHECK(sig[64] <= 1);
        CHECK(Botan::BigInt(sig.data() + 32, 32) <= (order() >> 1));
        CHECK(peer.signature_check(a, peer.attested.eth_addr) == signature_status::ok);
        // an answer nonce is fresh every time
        const nova_answer b = peer.open(peer.talk(prompt, "gpt-4o"));
        CHECK(b.envelope.at("nonce") != a.envelope.at("nonce"));
    }
}

TEST_CASE("simulated Nova enclave with the enclaver label talks only to clients using that label") {
    tee::testing::enclave_options o = nova_options(false);
    o.nova_label = std::string(nova::label_text(nova::hkdf_label::enclaver));
    tee::testing::simulated_enclave e(o);
    nova_peer capsule(e);
    CHECK(error_of(capsule.set_api_key()).rfind("Decryption failed: ", 0) == 0);
    nova_peer enclaver(e, nova::hkdf_label::enclaver);
    const nova_answer a = enclaver.open(enclaver.set_api_key());
    CHECK(a.plaintext.has_value());
}

TEST_CASE("simulated Nova enclave accepts the frontend's malformed SPKI, 0x prefixes and upper-case hex") {
    tee::testing::simulated_enclave e(nova_options(false));
    nova_peer peer(e);
    const bytes nonce = peer.c.random_bytes(12);
    const std::string text = R"({"api_key":"k","platform":"openai"})";
    const bytes ct = nova::seal(peer.c, *peer.ka, nonce, text_bytes(text));
    bytes browser = peer.c.spki_der(peer.key);
    REQUIRE(browser[14] == 0x05);
    browser[14] = 0x08;  // the OID length the official frontend writes
    std::string data_hex = hx(ct);
    for (auto& ch : data_hex) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    const std::string body =
        json{{"nonce", "0x0x" + hx(nonce)}, {"public_key", "0x" + hx(browser)}, {"data", "0x" + data_hex}}.dump();
    CHECK(peer.open(e.handle("POST", "/set-api-key", body)).plaintext.has_value());
}

TEST_CASE("simulated Nova enclave refuses a repeated (client key, nonce) before decrypting, FIFO of 4096") {
    tee::testing::simulated_enclave e(nova_options(false));
    nova_peer peer(e);
    const bytes nonce = peer.c.random_bytes(12);
    const std::string body = peer.request_body({{"api_key", "k"}, {"platform", "openai"}}, nonce);
    CHECK(e.handle("POST", "/set-api-key", body).status == 200);
    const tee::http_response again = e.handle("POST", "/set-api-key", body);
    CHECK(again.status == 400);
    CHECK(error_of(again).rfind("Decryption failed: ", 0) == 0);
    // a request that does not decrypt still takes its place in the cache
    const std::string key_hex = hx(peer.c.spki_der(peer.key));
    const std::string garbage = json{{"nonce", hx(bytes(12, 7))}, {"public_key", key_hex}, {"data", "00"}}.dump();
    CHECK(e.handle("POST", "/set-api-key", garbage).status == 400);
    const std::string fine = peer.request_body({{"api_key", "k"}, {"platform", "openai"}}, bytes(12, 7));
    CHECK(e.handle("POST", "/set-api-key", fine).status == 400);
    // 4096 later requests push the first out of the cache
    for (std::size_t i = 0; i < tee::testing::simulated_nova::replay_cache_size; ++i) {
        bytes n(12, 0);
        n[0] = 0xee;
        n[10] = static_cast<std::uint8_t>(i >> 8);
        n[11] = static_cast<std::uint8_t>(i);
        e.handle("POST", "/set-api-key", json{{"nonce", hx(n)}, {"public_key", key_hex}, {"data", "00"}}.dump());
    }
    CHECK(e.handle("POST", "/set-api-key", body).status == 200);
}

TEST_CASE("simulated Nova enclave: /talk needs an API key, the last /set-api-key wins, requests are checked") {
    tee::testing::simulated_enclave e(nova_options(false));
    nova_peer peer(e);
    const tee::http_response before = peer.talk("hi");
    CHECK(before.status == 400);
    CHECK(error_of(before) == "API key not set. Call /set-api-key first.");
    CHECK(json::parse(e.handle("GET", "/", "").body).at("api_key_available") == false);

    CHECK(peer.set_api_key("first").status == 200);
    nova_peer other(e);  // another client: the key is process-wide
    CHECK(other.set_api_key("second").status == 200);
    CHECK(e.nova()->api_key_is("second"));
    CHECK_FALSE(e.nova()->api_key_is("first"));
    CHECK(peer.talk("hi").status == 200);

    CHECK(error_of(peer.post("/set-api-key", {{"api_key", ""}})) == "api_key is required");
    CHECK(error_of(peer.post("/set-api-key", {{"api_key", "k"}, {"platform", "anthropic"}})) ==
          "Invalid platform: anthropic");
    CHECK(peer.post("/set-api-key", {{"api_key", "k"}}).status == 200);  // platform defaults to openai
    CHECK(error_of(peer.talk("")) == "message is required");
    CHECK(error_of(peer.talk("hi", "gpt-3")) == "Invalid model: gpt-3");
    const nova_answer dflt = peer.open(peer.post("/talk", {{"message", "hi"}}));
    CHECK(dflt.plaintext->at("ai_model") == "gpt-4");
    CHECK(peer.post("/talk", json::array({1})).status == 500);  // plaintext not an object

    const auto bad = [&](std::string_view body) { return e.handle("POST", "/talk", body); };
    CHECK(error_of(bad(R"({"nonce":"00"})")) == "nonce, public_key, and data are required");
    CHECK(error_of(bad("[]")) == "nonce, public_key, and data are required");
    CHECK(bad("{nope").status == 500);
    CHECK(error_of(bad(R"({"nonce":"0011","public_key":"00","data":"00"})")).rfind("Decryption failed: ", 0) == 0);
    CHECK(e.handle("GET", "/attestation", "").status == 404);
    CHECK(e.handle("POST", "/attestation", "").status == 404);

    const json health = json::parse(e.handle("GET", "/", "").body);
    CHECK(health.at("enclave_address") == e.nova()->eth_address());
    CHECK(health.at("api_key_available") == true);
    CHECK(health.at("cached_platform") == "openai");
    CHECK(health.at("status") == "ok");
}

TEST_CASE("simulated Nova enclave restart: new keys, the API key and the old session forgotten") {
    tee::testing::enclave_options o = nova_options(false);
    o.rotate_key_after = 2;
    tee::testing::simulated_enclave e(o);
    nova_peer peer(e);
    const std::string address = e.nova()->eth_address();
    const bytes spki = e.public_key();
    REQUIRE(peer.set_api_key().status == 200);
    CHECK(peer.talk("one").status == 200);
    CHECK(peer.talk("two").status == 200);  // the second chat restarts the enclave after answering
    CHECK(e.nova()->eth_address() != address);
    CHECK(e.public_key() != spki);
    CHECK(error_of(peer.talk("three")).rfind("Decryption failed: ", 0) == 0);
    nova_peer again(e);
    CHECK(error_of(again.talk("four")) == "API key not set. Call /set-api-key first.");
    CHECK(again.set_api_key().status == 200);
    const nova_answer a = again.open(again.talk("five"));
    CHECK(again.signature_check(a, again.attested.eth_addr) == signature_status::ok);
}

TEST_CASE("nova_fault names round-trip") {
    for (const auto& f : tee::testing::nova_fault_table) {
        CHECK(tee::testing::to_string(f.id) == f.name);
        CHECK(tee::testing::nova_fault_from_string(f.name) == f.id);
    }
    CHECK_FALSE(tee::testing::nova_fault_from_string("no-such-fault").has_value());
}

TEST_CASE("each nova_fault produces its one misbehaviour") {
    const auto chat = [](nova_fault f, bool nitro = false) {
        auto e = std::make_unique<tee::testing::simulated_enclave>(nova_options(nitro, f));
        auto peer = std::make_unique<nova_peer>(*e);
        REQUIRE(peer->set_api_key().status == 200);
        return std::make_pair(std::move(e), std::move(peer));
    };
    SUBCASE("forged-signature") {
        auto [e, p] = chat(nova_fault::forged_signature);
        const nova_answer a = p->open(p->talk("hi"));
        CHECK(a.plaintext.has_value());
        CHECK(p->signature_check(a, p->attested.eth_addr) != signature_status::ok);
    }
    SUBCASE("other-address") {
        auto [e, p] = chat(nova_fault::other_address, true);
        CHECK(p->attested.eth_addr != e->nova()->eth_address());
        const nova_answer a = p->open(p->talk("hi"));
        CHECK(p->signature_check(a, p->attested.eth_addr) == signature_status::wrong_signer);
        CHECK(p->signature_check(a, e->nova()->eth_address()) == signature_status::ok);
    }
    SUBCASE("key-swap") {
        auto [e, p] = chat(nova_fault::key_swap);
        const nova_answer a = p->open(p->talk("hi"));
        const bytes swapped = unhex(a.envelope.at("public_key").get<std::string>());
        CHECK(swapped != p->attested.public_key);
        CHECK(swapped.size() == 120);
        CHECK_FALSE(a.plaintext.has_value());  // not under the attested key
        const nova::key_agreement impostor = nova::agree(p->c, p->key, swapped);
        CHECK(nova::open(p->c, impostor, unhex(a.envelope.at("nonce").get<std::string>()),
                         unhex(a.envelope.at("encrypted_data").get<std::string>()))
                  .has_value());
        CHECK(p->signature_check(a, p->attested.eth_addr) == signature_status::ok);
    }
    SUBCASE("replay") {
        auto [e, p] = chat(nova_fault::replay);
        const tee::http_response first = p->talk("one");
        const tee::http_response second = p->talk("two");
        CHECK(second.body == first.body);
        CHECK(p->open(second).plaintext->at("message") == "one");
    }
    SUBCASE("high-s") {
        auto [e, p] = chat(nova_fault::high_s);
        const nova_answer a = p->open(p->talk("hi"));
        CHECK(p->signature_check(a, p->attested.eth_addr) == signature_status::high_s);
        bytes twin = unhex(a.sig_hex);  // its low-s twin is the enclave's valid signature
        const bytes low = be32(order() - Botan::BigInt(twin.data() + 32, 32));
        std::copy(low.begin(), low.end(), twin.begin() + 32);
        twin[64] ^= 1;
        CHECK(nova::check_eip191_signature(text_bytes(tee::canonical_json(a.envelope)), twin,
                                           *nova::parse_eth_address(p->attested.eth_addr)) == signature_status::ok);
    }
    SUBCASE("empty-signature") {
        auto [e, p] = chat(nova_fault::empty_signature);
        const nova_answer a = p->open(p->talk("hi"));
        CHECK(a.sig_hex.empty());
        CHECK(p->signature_check(a, p->attested.eth_addr) == signature_status::wrong_length);
    }
    SUBCASE("v-27") {
        auto [e, p] = chat(nova_fault::v_27);
        const nova_answer a = p->open(p->talk("hi"));
        const bytes sig = unhex(a.sig_hex);
        CHECK((sig[64] == 27 || sig[64] == 28));
        CHECK(p->signature_check(a, p->attested.eth_addr) == signature_status::ok);
    }
    SUBCASE("wrong-nonce") {
        for (const bool nitro : {true, false}) {
            tee::testing::simulated_enclave e(nova_options(nitro, nova_fault::wrong_nonce));
            const bytes nonce = tee::botan_crypto{}.random_bytes(32);
            const nova_attested a = attest(e, json{{"nonce", b64(nonce)}}.dump());
            CHECK(a.nonce.size() == 32);
            CHECK(a.nonce != nonce);
            CHECK(attest(e, "{}").nonce.size() == 32);  // none asked, one stated
        }
    }
    SUBCASE("echo-mismatch, model-mismatch, platform-mismatch: validly signed") {
        const std::pair<nova_fault, const char*> cases[] = {{nova_fault::echo_mismatch, "message"},
                                                            {nova_fault::model_mismatch, "ai_model"},
                                                            {nova_fault::platform_mismatch, "platform"}};
        for (const auto& c : cases) {
            const char* field = c.second;  // a plain variable: clang 14 cannot capture a structured binding
            CAPTURE(field);
            auto [e, p] = chat(c.first);
            const nova_answer a = p->open(p->talk("hi", "gpt-4"));
            const json sent = {{"message", "hi"}, {"ai_model", "gpt-4"}, {"platform", "openai"}};
            for (const char* k : {"message", "ai_model", "platform"})
                CHECK((a.plaintext->at(k) == sent.at(k)) == (std::string_view(k) != field));
            CHECK(p->signature_check(a, p->attested.eth_addr) == signature_status::ok);
        }
    }
    SUBCASE("wrapped-timestamp and stale-timestamp") {
        auto [e1, wrapped] = chat(nova_fault::wrapped_timestamp);
        const std::int64_t t1 = wrapped->open(wrapped->talk("hi")).plaintext->at("timestamp").get<std::int64_t>();
        CHECK(std::llabs(t1 - (now_s() + 18446744073)) <= 2);
        auto [e2, stale] = chat(nova_fault::stale_timestamp);
        const std::int64_t t2 = stale->open(stale->talk("hi")).plaintext->at("timestamp").get<std::int64_t>();
        CHECK(std::llabs(t2 - (now_s() - 3600)) <= 2);
    }
    SUBCASE("wrapper") {
        tee::testing::simulated_enclave e(nova_options(true, nova_fault::wrapper));
        const tee::http_response r = e.handle("POST", "/.well-known/attestation", "{}");
        CHECK(e.content_type("/.well-known/attestation", r) == "application/json");
        const json j = json::parse(r.body);
        REQUIRE(j.at("attestation_doc").is_string());
        const nova_attested a = attest(e, "{}");
        REQUIRE(a.doc.has_value());
        CHECK(a.public_key == e.public_key());
    }
}
