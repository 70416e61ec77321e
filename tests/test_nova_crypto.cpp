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
//    recover their own address and no other.
#include "tee/detail/nova_crypto.hpp"

#include "tee/botan_crypto.hpp"
#include "tee/detail/canonical_json.hpp"
#include "tee/encoding.hpp"

#include <botan/ecdh.h>
#include <botan/ecdsa.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>
#if BOTAN_VERSION_MAJOR >= 3
#include <botan/ec_scalar.h>
#endif

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "test_data.hpp"

#include <string>
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
