// Tests of the crypto backends: tee::botan_crypto and tee::openssl_crypto.
//
//  * known answers for every primitive (FIPS 180 "abc", RFC 5869 HKDF, the
//    protocol's HKDF and AES-256-GCM with a 32-byte IV against Python's
//    cryptography, the service's real signed answer, the 120-byte SPKI form),
//    as TEST_CASE_TEMPLATEs run against BOTH backends, so that one file states
//    what both must do;
//  * differential: each backend loads the other's keys, the ECDH of a Botan key
//    with an OpenSSL key agrees from both sides, each opens the other's
//    ciphertexts (and seals to identical bytes), HKDF/SHA agree on random
//    inputs, and 200 random (message, tampered signature) cases verify or fail
//    identically, DER and raw r||s; the COSE signature of the real AWS Nitro
//    document and mutations of that document get the same verdict;
//  * end to end: nitro_attestation with openssl_crypto gives the identity it
//    gives with botan_crypto; a client<httplib_transport, openssl_crypto, ...>
//    chats over HTTP with the (Botan) simulated enclave, mock and Nitro mode;
//  * OpenSSL hygiene: the thread's error queue is left as found; threads.
//
// The tee headers come first: they must precede <httplib.h> (see
// tee/detail/prelude.hpp).
#include "tee/botan_crypto.hpp"
#include "tee/detail/cbor.hpp"
#include "tee/tee.hpp"
#include "tee/mock_attestation.hpp"
#include "tee/nitro_attestation.hpp"
#include "tee/openssl_crypto.hpp"
#include "tee/protocol.hpp"
#include "tee/testing/enclave_server.hpp"
#include "tee/testing/simulated_enclave.hpp"

#include <doctest/doctest.h>

#include "test_data.hpp"

#include <atomic>
#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <typeinfo>
#include <vector>

#include <botan/ber_dec.h>
#include <botan/bigint.h>
#include <botan/der_enc.h>
#include <botan/ecdh.h>
#include <botan/ecdsa.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>
#include <botan/x509_key.h>
#include <botan/x509cert.h>
#include <openssl/err.h>

namespace {
using bytes = std::vector<std::uint8_t>;
using std::chrono::system_clock;
using tee::botan_crypto;
using tee::openssl_crypto;

bytes hex(std::string_view s) { return tee::from_hex(s).value(); }
bytes str(std::string_view s) { return bytes(s.begin(), s.end()); }
template <class C>
bytes b(const C& c) {
    return bytes(c.begin(), c.end());
}
template <class C>
std::string hx(const C& c) {
    return tee::to_hex(std::span<const std::uint8_t>(c.data(), c.size()));
}

using tee_test::read_data;

nlohmann::json vector_json() { return nlohmann::json::parse(read_data("signed_response_vector.json")); }
bytes nitro_doc() { return tee::from_base64(read_data("nitro_attestation_2025-04-24.b64")).value(); }

tee::nitro_options at_4am() {  // inside the validity of every certificate of the real vector
    tee::nitro_options o;
    const auto t = std::chrono::sys_days{std::chrono::year{2025} / 4 / 24} + std::chrono::hours{4};
    o.clock = [t] { return system_clock::time_point(t); };
    o.accept_any_enclave_image = true;  // about the backends, not the image policy
    return o;
}

const botan_crypto botan;
const openssl_crypto ossl;
const Botan::EC_Group& p384_group() { return tee::detail::botan::p384(); }

// ---- ECDSA signature forms, converted with Botan's BigInt ----
struct rs {
    Botan::BigInt r, s;
};
rs of_raw(const bytes& sig) { return {Botan::BigInt(sig.data(), 48), Botan::BigInt(sig.data() + 48, 48)}; }
rs of_der(const bytes& sig) {
    rs v;
#if BOTAN_VERSION_MAJOR >= 3
    Botan::BER_Decoder(sig).start_sequence().decode(v.r).decode(v.s).end_cons().verify_end();
#else
    Botan::BER_Decoder(sig).start_cons(Botan::SEQUENCE).decode(v.r).decode(v.s).end_cons().verify_end();
#endif
    return v;
}
bytes be48(const Botan::BigInt& x) {
#if BOTAN_VERSION_MAJOR >= 3
    return x.serialize<bytes>(48);
#else
    return b(Botan::BigInt::encode_1363(x, 48));
#endif
}
bytes raw_of(const rs& v) {
    bytes out = be48(v.r);
    auto s = be48(v.s);
    out.insert(out.end(), s.begin(), s.end());
    return out;
}
bytes der_of(const rs& v) {
    bytes out;
#if BOTAN_VERSION_MAJOR >= 3
    Botan::DER_Encoder(out).start_sequence().encode(v.r).encode(v.s).end_cons();
#else
    Botan::DER_Encoder(out).start_cons(Botan::SEQUENCE).encode(v.r).encode(v.s).end_cons();
#endif
    return out;
}

// One outcome of a call that may throw, as text: equal outcomes mean equal behaviour.
template <class F>
std::string outcome(F&& f) {
    try {
        return "ok:" + f();
    } catch (const std::exception& e) {
        return std::string("throws ") + typeid(e).name() + ": " + e.what();
    }
}

void check_same_identity(const tee::enclave_identity& a, const tee::enclave_identity& o) {
    CHECK(a.kind == o.kind);
    CHECK(a.verified == o.verified);
    CHECK(a.public_key == o.public_key);
    CHECK(a.key_fingerprint == o.key_fingerprint);
    CHECK(a.module_id == o.module_id);
    CHECK(a.timestamp_ms == o.timestamp_ms);
    CHECK(a.pcrs == o.pcrs);
    CHECK(a.nonce == o.nonce);
    CHECK(a.user_data == o.user_data);
    REQUIRE(a.chain.size() == o.chain.size());
    for (std::size_t i = 0; i < a.chain.size(); ++i) {
        CHECK(a.chain[i].subject == o.chain[i].subject);
        CHECK(a.chain[i].issuer == o.chain[i].issuer);
        CHECK(a.chain[i].not_before == o.chain[i].not_before);
        CHECK(a.chain[i].not_after == o.chain[i].not_after);
    }
    CHECK(a.verified_at == o.verified_at);
    CHECK(a.verified_at_document_time == o.verified_at_document_time);
    CHECK(a.document_age == o.document_age);
    CHECK(a.debug_mode == o.debug_mode);
}

tee::config make_config(std::string url) {
    tee::config c;
    c.url = std::move(url);
    c.api_key = tee::secret_string("sk-test");
    c.platform = "openai";
    c.model = "gpt-4";
    return c;
}
}  // namespace

static_assert(tee::crypto_backend<openssl_crypto>);
static_assert(tee::attestation_policy<tee::nitro_attestation, openssl_crypto>);
static_assert(tee::attestation_policy<tee::mock_attestation, openssl_crypto>);

#define TEE_BACKENDS botan_crypto, openssl_crypto

// ============================================================ known answers

TEST_CASE_TEMPLATE("SHA-256 and SHA-384 of \"abc\" (FIPS 180-4)", C, TEE_BACKENDS) {
    const C crypto;
    CHECK(hx(crypto.sha256(str("abc"))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(hx(crypto.sha384(str("abc"))) ==
          "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7");
    CHECK(hx(crypto.sha256({})) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE_TEMPLATE("HKDF-SHA256: RFC 5869 test cases 1 and 3, and the protocol's parameters", C, TEE_BACKENDS) {
    const C crypto;
    bytes ikm(22, 0x0b);
    auto okm1 = crypto.hkdf_sha256(ikm, hex("000102030405060708090a0b0c"), hex("f0f1f2f3f4f5f6f7f8f9"), 42);
    CHECK(hx(okm1) == "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    auto okm3 = crypto.hkdf_sha256(ikm, {}, {}, 42);  // salt and info empty: the protocol's "salt none"
    CHECK(hx(okm3) == "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
    // Python: HKDF(SHA256(), 32, salt=None, info=b"encryption data").derive(bytes(range(48)))
    bytes shared(48);
    for (std::size_t i = 0; i < shared.size(); ++i) shared[i] = static_cast<std::uint8_t>(i);
    CHECK(hx(crypto.hkdf_sha256(shared, {}, str("encryption data"), 32)) ==
          "b4e77f578a555948e4d9523ec0474ad7814cad9748a5e00fb2bc823bf0ca90e6");
}

TEST_CASE_TEMPLATE("AES-256-GCM with a 32-byte IV matches Python's AESGCM", C, TEE_BACKENDS) {
    const C crypto;
    bytes key(32), iv(32);
    for (std::size_t i = 0; i < 32; ++i) {
        key[i] = static_cast<std::uint8_t>(i);
        iv[i] = static_cast<std::uint8_t>(0x40 + i);
    }
    auto pt = str(R"({"api_key":"k","message":"BTC price right now","platform":"openai","ai_model":"gpt-4"})");
    const std::string want =
        "1f595214e8b5008f5a43d09dc4838e1031de5c55b0312e9d88bd26949d9aa6a1a0240282d82da69c5ae489d4e342f2faaedcc9e555ab91"
        "f"
        "a42531a256cbc9ea0d7fc66d6617d4ccac774cf14ee8eea7e683cd7465429c314d6537574f7bf764ec735a82e21e6";
    auto ct = crypto.aes256gcm_seal(key, iv, pt);
    CHECK(hx(ct) == want);
    CHECK(hx(crypto.aes256gcm_seal(key, iv, {})) == "8686ee0250daad9ac850a9be7c5b62b2");  // tag only
    auto back = crypto.aes256gcm_open(key, iv, ct);
    REQUIRE(back.has_value());
    CHECK(b(*back) == pt);
    auto empty = crypto.aes256gcm_open(key, iv, hex("8686ee0250daad9ac850a9be7c5b62b2"));
    REQUIRE(empty.has_value());
    CHECK(empty->empty());

    for (std::size_t i : {std::size_t{0}, ct.size() / 2, ct.size() - 1}) {  // any flipped bit fails
        auto bad = ct;
        bad[i] ^= 0x01;
        CHECK_FALSE(crypto.aes256gcm_open(key, iv, bad).has_value());
    }
    auto bad_iv = iv;
    bad_iv[31] ^= 0x80;
    CHECK_FALSE(crypto.aes256gcm_open(key, bad_iv, ct).has_value());
    CHECK_FALSE(crypto.aes256gcm_open(key, iv, bytes(15, 0)).has_value());           // shorter than a tag
    CHECK_THROWS_AS(crypto.aes256gcm_seal(bytes(16), iv, pt), tee::protocol_error);  // not AES-256
    CHECK_THROWS_AS(crypto.aes256gcm_open(bytes(31), iv, ct), tee::protocol_error);
    CHECK_THROWS_AS(crypto.aes256gcm_seal(key, bytes{}, pt), tee::protocol_error);  // no IV
}

TEST_CASE_TEMPLATE("ECDSA P-384/SHA-384: the service's real signed answer verifies, and nothing else does", C,
                   TEE_BACKENDS) {
    const C crypto;
    auto v = vector_json();
    auto pub = crypto.load_public_key(hex(v["public_key_der_hex"].get<std::string>()));
    const std::string canonical = v["canonical"];
    auto sig = hex(v["signature_der_hex"].get<std::string>());
    CHECK(tee::canonical_json(v["data"]) == canonical);
    CHECK(crypto.ecdsa_p384_verify_der(pub, str(canonical), sig));
    CHECK(crypto.ecdsa_p384_verify_raw(pub, str(canonical), raw_of(of_der(sig))));  // the same (r, s) as r||s

    auto tampered = str(canonical);
    tampered[10] ^= 0x01;
    CHECK_FALSE(crypto.ecdsa_p384_verify_der(pub, tampered, sig));
    auto bad_sig = sig;
    bad_sig[20] ^= 0x01;
    CHECK_FALSE(crypto.ecdsa_p384_verify_der(pub, str(canonical), bad_sig));
    CHECK_FALSE(crypto.ecdsa_p384_verify_der(pub, str(canonical), bytes{}));
    CHECK_FALSE(crypto.ecdsa_p384_verify_der(pub, str(canonical), bytes(104, 0x30)));  // malformed DER
    auto other = crypto.load_public_key(crypto.spki_der(crypto.generate_p384()));
    CHECK_FALSE(crypto.ecdsa_p384_verify_der(other, str(canonical), sig));
    CHECK_FALSE(crypto.ecdsa_p384_verify_raw(pub, str(canonical), sig));  // r||s needs exactly 96 bytes
    CHECK_FALSE(crypto.ecdsa_p384_verify_raw(pub, str(canonical), bytes(96, 0)));

    // the whole answer check of protocol.hpp
    nlohmann::json answer{{"sig", v["signature_der_hex"]}, {"data", v["data"]}};
    auto r = tee::protocol::verify_answer(crypto, pub, {200, answer.dump()},
                                          {.prompt = "What's the date today", .check_time = false});
    CHECK(r.timestamp == 1747364177);
    answer["data"]["platform"] = "gemini";
    CHECK_THROWS_AS(tee::protocol::verify_answer(crypto, pub, {200, answer.dump()},
                                                 {.prompt = "What's the date today", .check_time = false}),
                    tee::signature_error);
}

TEST_CASE_TEMPLATE("client key SPKI is the 120-byte id-ecPublicKey/secp384r1 form Python loads", C, TEE_BACKENDS) {
    const C crypto;
    auto k = crypto.generate_p384();
    auto spki = crypto.spki_der(k);
    REQUIRE(spki.size() == 120);
    CHECK(hx(std::span(spki).first(24)) == "3076301006072a8648ce3d020106052b8104002203620004");
    CHECK(crypto.spki_der(k) == spki);  // deterministic
    auto a = crypto.load_public_key(spki);
    auto p = crypto.load_public_key(std::span(spki).subspan(23));  // the raw point
    CHECK(a.point == p.point);
    CHECK(tee::p384::spki_of_point(a.point) == spki);
    // Botan's own encoding of an ECDH key carries the ECDH OID (1.3.132.1.12): refused
    Botan::ECDH_PrivateKey botan_key(Botan::system_rng(), p384_group());
    CHECK_THROWS_AS(crypto.load_public_key(Botan::X509::BER_encode(botan_key)), tee::protocol_error);
}

TEST_CASE_TEMPLATE("enclave keys: garbage, compressed points and points off the curve are refused", C, TEE_BACKENDS) {
    const C crypto;
    auto spki = crypto.spki_der(crypto.generate_p384());
    CHECK_THROWS_AS(crypto.load_public_key(bytes{}), tee::protocol_error);
    CHECK_THROWS_AS(crypto.load_public_key(bytes(120, 0)), tee::protocol_error);
    CHECK_THROWS_AS(crypto.load_public_key(bytes(spki.begin(), spki.end() - 1)), tee::protocol_error);
    auto compressed = bytes(spki.begin() + 23, spki.begin() + 23 + 49);
    compressed[0] = 0x02;
    CHECK_THROWS_AS(crypto.load_public_key(compressed), tee::protocol_error);
    auto hybrid = bytes(spki.begin() + 23, spki.end());
    hybrid[0] = 0x06 | (hybrid.back() & 1);  // X9.62 hybrid form of the same point
    CHECK_THROWS_AS(crypto.load_public_key(hybrid), tee::protocol_error);
    auto off_curve = spki;
    off_curve.back() ^= 0x01;  // y no longer matches x
    CHECK_THROWS_WITH_AS(crypto.load_public_key(off_curve), doctest::Contains("not a point on P-384"),
                         tee::protocol_error);
    bytes zero_point(97, 0);
    zero_point[0] = 0x04;  // (0, 0) is not on P-384
    CHECK_THROWS_WITH_AS(crypto.load_public_key(zero_point), doctest::Contains("not a point on P-384"),
                         tee::protocol_error);
}

TEST_CASE_TEMPLATE("ECDH: both sides derive the same 48-byte x coordinate; random_bytes is fresh", C, TEE_BACKENDS) {
    const C crypto;
    auto a = crypto.generate_p384(), b2 = crypto.generate_p384(), c = crypto.generate_p384();
    auto za = crypto.ecdh(a, crypto.load_public_key(crypto.spki_der(b2)));
    auto zb = crypto.ecdh(b2, crypto.load_public_key(crypto.spki_der(a)));
    CHECK(za.size() == 48);
    CHECK(za == zb);
    CHECK(crypto.ecdh(a, crypto.load_public_key(crypto.spki_der(c))) != za);
    CHECK(crypto.spki_der(a) != crypto.spki_der(b2));

    auto r1 = crypto.random_bytes(32), r2 = crypto.random_bytes(32);
    CHECK(r1.size() == 32);
    CHECK(r1 != r2);
    CHECK(crypto.random_bytes(0).empty());
    CHECK(crypto.random_bytes(100000).size() == 100000);
}

// ============================================================ differential

TEST_CASE("differential: keys generated by one backend load in the other, byte for byte") {
    for (int i = 0; i < 20; ++i) {
        auto bk = botan.generate_p384();
        auto ok = ossl.generate_p384();
        const auto bspki = botan.spki_der(bk), ospki = ossl.spki_der(ok);
        CHECK(ossl.load_public_key(bspki).point == botan.load_public_key(bspki).point);
        CHECK(botan.load_public_key(ospki).point == ossl.load_public_key(ospki).point);
        CHECK(tee::p384::spki_of_point(botan.load_public_key(ospki).point) == ospki);
        CHECK(tee::p384::spki_of_point(ossl.load_public_key(bspki).point) == bspki);
    }
}

TEST_CASE("differential: a corrupted key is accepted or refused alike (200 random byte changes)") {
    std::mt19937 rng(20250424);
    const auto spki = ossl.spki_der(ossl.generate_p384());
    int accepted = 0;
    for (int i = 0; i < 200; ++i) {
        auto k = spki;
        if (i % 4 == 3) k = bytes(k.begin() + 23, k.end());  // the raw point form too
        k[rng() % k.size()] ^= static_cast<std::uint8_t>(1 + rng() % 255);
        const auto ob = outcome([&] { return hx(botan.load_public_key(k).point); });
        const auto oo = outcome([&] { return hx(ossl.load_public_key(k).point); });
        CAPTURE(hx(k));
        if (ob.rfind("ok:", 0) == 0 || oo.rfind("ok:", 0) == 0) {
            CHECK(ob == oo);
            ++accepted;
        } else {  // both refuse, with the same exception type and message
            CHECK(ob == oo);
            CHECK(ob.find("protocol_error") != std::string::npos);
        }
    }
    CHECK(accepted == 0);  // no single byte change of a valid key gives another valid key here
}

TEST_CASE("differential: ECDH between a Botan key and an OpenSSL key agrees from both sides") {
    for (int i = 0; i < 10; ++i) {
        auto bk = botan.generate_p384();
        auto ok = ossl.generate_p384();
        auto z_botan = botan.ecdh(bk, botan.load_public_key(ossl.spki_der(ok)));
        auto z_ossl = ossl.ecdh(ok, ossl.load_public_key(botan.spki_der(bk)));
        REQUIRE(z_botan.size() == 48);
        CHECK(z_botan == z_ossl);
        // and the protocol's AES key from it, each backend for its own side
        CHECK(tee::protocol::derive_key(botan, bk, botan.load_public_key(ossl.spki_der(ok))) ==
              tee::protocol::derive_key(ossl, ok, ossl.load_public_key(botan.spki_der(bk))));
    }
}

TEST_CASE("differential: each backend opens the other's ciphertexts; same key and IV give identical bytes") {
    std::mt19937 rng(7);
    auto random = [&](std::size_t n) {
        bytes v(n);
        for (auto& x : v) x = static_cast<std::uint8_t>(rng());
        return v;
    };
    for (std::size_t ivlen : {1u, 12u, 16u, 32u, 64u, 128u}) {
        for (std::size_t len : {0u, 1u, 15u, 16u, 17u, 1000u, 65536u}) {
            CAPTURE(ivlen);
            CAPTURE(len);
            const auto key = random(32), iv = random(ivlen), pt = random(len);
            const auto cb = botan.aes256gcm_seal(key, iv, pt);
            const auto co = ossl.aes256gcm_seal(key, iv, pt);
            CHECK(cb == co);
            auto ob = botan.aes256gcm_open(key, iv, co);
            auto oo = ossl.aes256gcm_open(key, iv, cb);
            REQUIRE(ob.has_value());
            REQUIRE(oo.has_value());
            CHECK(b(*ob) == pt);
            CHECK(b(*oo) == pt);
            auto bad = co;
            bad[rng() % bad.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
            CHECK_FALSE(botan.aes256gcm_open(key, iv, bad).has_value());
            CHECK_FALSE(ossl.aes256gcm_open(key, iv, bad).has_value());
        }
    }
    // Known difference, outside the protocol (32-byte IVs): OpenSSL caps GCM IVs at 128 bytes.
    CHECK(botan.aes256gcm_seal(random(32), random(129), random(4)).size() == 20);
    CHECK_THROWS_AS(ossl.aes256gcm_seal(random(32), random(129), random(4)), tee::protocol_error);
}

TEST_CASE("differential: HKDF-SHA256, SHA-256 and SHA-384 agree on random inputs") {
    std::mt19937 rng(11);
    auto random = [&](std::size_t n) {
        bytes v(n);
        for (auto& x : v) x = static_cast<std::uint8_t>(rng());
        return v;
    };
    for (int i = 0; i < 100; ++i) {
        const auto ikm = random(rng() % 100), salt = random(i % 3 == 0 ? 0 : rng() % 80),
                   info = random(i % 5 == 0 ? 0 : rng() % 300);
        const std::size_t len = i == 0 ? 0 : 1 + rng() % 600;
        CAPTURE(i);
        CHECK(botan.hkdf_sha256(ikm, salt, info, len) == ossl.hkdf_sha256(ikm, salt, info, len));
        CHECK(botan.sha256(ikm) == ossl.sha256(ikm));
        CHECK(botan.sha384(info) == ossl.sha384(info));
    }
    const bytes ikm(22, 0x0b);
    CHECK(botan.hkdf_sha256(ikm, {}, {}, 255 * 32) == ossl.hkdf_sha256(ikm, {}, {}, 255 * 32));  // the maximum
    // Beyond RFC 5869's maximum both refuse (Botan 2 itself would silently return 8160 bytes).
    CHECK_THROWS_AS(botan.hkdf_sha256(ikm, {}, {}, 255 * 32 + 1), tee::protocol_error);
    CHECK_THROWS_AS(ossl.hkdf_sha256(ikm, {}, {}, 255 * 32 + 1), tee::protocol_error);
    // OpenSSL's own limit on the info: a tee::protocol_error too, not a std::runtime_error.
    CHECK_THROWS_AS(ossl.hkdf_sha256(ikm, {}, bytes(40 * 1024, 1), 32), tee::protocol_error);
}

TEST_CASE("differential: 200 random (message, tampered signature) cases verify or fail identically") {
    std::mt19937 rng(384);
    auto random = [&](std::size_t n) {
        bytes v(n);
        for (auto& x : v) x = static_cast<std::uint8_t>(rng());
        return v;
    };
    const Botan::BigInt& n = p384_group().get_order();
    auto v = vector_json();
    const bytes real_spki = hex(v["public_key_der_hex"].get<std::string>());
    const bytes real_msg = str(v["canonical"].get<std::string>());
    const bytes real_sig = hex(v["signature_der_hex"].get<std::string>());
    Botan::ECDSA_PrivateKey signer_key(Botan::system_rng(), p384_group());
    const bytes signer_spki = tee::p384::spki_of_point(tee::detail::botan::point_of(signer_key));
    const bytes stranger_spki = botan.spki_der(botan.generate_p384());

    int verified = 0, refused = 0, agreed = 0;
    for (int i = 0; i < 200; ++i) {
        // source: the real answer (DER, or its r||s), or a fresh Botan signature (DER_SEQUENCE or IEEE_1363)
        const bool real = i % 5 == 0;
        const bool raw = (i / 5) % 2 == 1;
        bytes spki = real ? real_spki : signer_spki;
        bytes msg = real ? real_msg : random(rng() % 300);
        bytes sig;
        if (real) {
            sig = raw ? raw_of(of_der(real_sig)) : real_sig;
        } else {
            Botan::PK_Signer s(signer_key, Botan::system_rng(), tee::detail::botan::ecdsa_sha384,
                               raw ? tee::detail::botan::sig_raw : tee::detail::botan::sig_der);
            sig = b(s.sign_message(msg, Botan::system_rng()));
        }
        const rs parts = raw ? of_raw(sig) : of_der(sig);
        auto encode = [&](const rs& x) { return raw ? raw_of(x) : der_of(x); };

        std::optional<bool> expect;  // where the right answer is known, both must give it
        const int mutation = i % 11;
        switch (mutation) {
            case 0: expect = true; break;  // untouched
            case 1:
                if (msg.empty()) msg.push_back(0);
                msg[rng() % msg.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
                expect = false;
                break;
            case 2:
                sig[rng() % sig.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
                expect = false;
                break;
            case 3:
                sig.resize(rng() % sig.size());
                expect = false;
                break;  // truncated
            case 4:
                sig.push_back(static_cast<std::uint8_t>(rng()));
                expect = false;
                break;  // trailing byte
            case 5:
                sig = encode({parts.r, n - parts.s});
                expect = true;
                break;  // high/low s twin: ECDSA is malleable
            case 6:
                sig = encode({parts.s, parts.r});
                expect = false;
                break;  // r and s swapped
            case 7:
                spki = stranger_spki;
                expect = false;
                break;  // another key
            case 8:     // r + n (DER) / r = n (raw)
                sig = raw ? raw_of({n, parts.s}) : der_of({parts.r + n, parts.s});
                expect = false;
                break;
            case 9:
                sig = encode({Botan::BigInt(0), parts.s});
                expect = false;
                break;  // r = 0
            case 10:    // non-DER long-form length / s = n
                if (!raw) {
                    bytes longform{0x30, 0x81, sig[1]};
                    longform.insert(longform.end(), sig.begin() + 2, sig.end());
                    sig = longform;
                } else {
                    sig = raw_of({parts.r, n});  // s = n, out of range
                }
                expect = false;
                break;
        }
        const auto pb = botan.load_public_key(spki);
        const auto po = ossl.load_public_key(spki);
        const bool vb = raw ? botan.ecdsa_p384_verify_raw(pb, msg, sig) : botan.ecdsa_p384_verify_der(pb, msg, sig);
        const bool vo = raw ? ossl.ecdsa_p384_verify_raw(po, msg, sig) : ossl.ecdsa_p384_verify_der(po, msg, sig);
        // a key's second verification takes botan_crypto's comb path, not PK_Verifier
        const bool vb_comb =
            raw ? botan.ecdsa_p384_verify_raw(pb, msg, sig) : botan.ecdsa_p384_verify_der(pb, msg, sig);
        CAPTURE(i);
        CAPTURE(mutation);
        CAPTURE(raw);
        CAPTURE(hx(sig));
        CHECK(vb == vo);
        CHECK(vb_comb == vb);
        if (expect) CHECK(vb == *expect);
        agreed += vb == vo && vb_comb == vb;
        (vb ? verified : refused)++;
    }
    CHECK(agreed == 200);
    CHECK(verified >= 30);
    CHECK(refused >= 130);
}

namespace {
// The real Nitro document: parsed, with its leaf certificate's SPKI.
struct real_nitro {
    tee::nitro_attestation::parsed parsed = tee::nitro_attestation::parse(nitro_doc());
    bytes leaf_spki = b(Botan::X509_Certificate(parsed.certificate).subject_public_key_info());
    bytes to_be_signed = tee::nitro_attestation::signed_bytes(parsed);
};
}  // namespace

TEST_CASE("differential: the COSE r||s signature of the real AWS Nitro document") {
    real_nitro doc;
    REQUIRE(doc.leaf_spki.size() == 120);
    REQUIRE(doc.parsed.signature.size() == 96);
    const auto kb = botan.load_public_key(doc.leaf_spki);
    const auto ko = ossl.load_public_key(doc.leaf_spki);
    CHECK(botan.ecdsa_p384_verify_raw(kb, doc.to_be_signed, doc.parsed.signature));
    CHECK(ossl.ecdsa_p384_verify_raw(ko, doc.to_be_signed, doc.parsed.signature));
    // the same signature in DER form
    const bytes der = der_of(of_raw(doc.parsed.signature));
    CHECK(botan.ecdsa_p384_verify_der(kb, doc.to_be_signed, der));
    CHECK(ossl.ecdsa_p384_verify_der(ko, doc.to_be_signed, der));

    for (std::size_t i : {std::size_t{0}, std::size_t{47}, std::size_t{48}, std::size_t{95}}) {  // flipped signature
        auto sig = doc.parsed.signature;
        sig[i] ^= 0x01;
        CHECK_FALSE(botan.ecdsa_p384_verify_raw(kb, doc.to_be_signed, sig));
        CHECK_FALSE(ossl.ecdsa_p384_verify_raw(ko, doc.to_be_signed, sig));
    }
    auto msg = doc.to_be_signed;  // flipped payload
    msg[msg.size() / 2] ^= 0x01;
    CHECK_FALSE(botan.ecdsa_p384_verify_raw(kb, msg, doc.parsed.signature));
    CHECK_FALSE(ossl.ecdsa_p384_verify_raw(ko, msg, doc.parsed.signature));
}

TEST_CASE("end to end: nitro_attestation with openssl_crypto gives the identity botan_crypto gives") {
    const tee::nitro_attestation policy(at_4am());
    const bytes doc = nitro_doc();
    const auto with_botan = policy.verify_document(doc, botan);
    const auto with_ossl = policy.verify_document(doc, ossl);
    CHECK(with_ossl.verified);
    CHECK(with_ossl.kind == "nitro");
    CHECK(with_ossl.module_id == "i-097399471f19dfec3-enc019665bb696251d0");
    check_same_identity(with_botan, with_ossl);

    SUBCASE("mutated documents get the same verdict (60 random byte changes)") {
        std::mt19937 rng(424);
        int accepted = 0;
        for (int i = 0; i < 60; ++i) {
            bytes m = doc;
            // half in the last 200 bytes (payload end and signature), half anywhere
            const std::size_t pos = i % 2 ? m.size() - 1 - rng() % 200 : rng() % m.size();
            m[pos] ^= static_cast<std::uint8_t>(1 + rng() % 255);
            const auto ob = outcome([&] { return policy.verify_document(m, botan).key_fingerprint; });
            const auto oo = outcome([&] { return policy.verify_document(m, ossl).key_fingerprint; });
            CAPTURE(pos);
            CHECK(ob == oo);
            accepted += ob.rfind("ok:", 0) == 0;
        }
        CHECK(accepted < 60);
    }
}

// ============================================================ over HTTP

TEST_CASE("end to end: client<httplib_transport, openssl_crypto, mock_attestation> chats with the Botan enclave") {
    tee::testing::simulated_enclave enclave;
    tee::testing::enclave_server server(enclave);
    tee::client<tee::httplib_transport, openssl_crypto, tee::mock_attestation> client(make_config(server.url()));
    CHECK(client.client_public_key_hex().size() == 240);
    const auto r = client.chat("BTC price right now");
    CHECK(r.message == "BTC price right now");
    CHECK(r.response == "Echo from the simulated enclave: BTC price right now");
    CHECK(r.enclave_key_fingerprint == tee::to_hex(botan.sha256(enclave.public_key())));

    SUBCASE("several threads on one client") {
        std::vector<std::thread> threads;
        std::atomic<int> ok{0};
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&, t] {
                for (int i = 0; i < 5; ++i) {
                    const std::string msg = "thread " + std::to_string(t) + " chat " + std::to_string(i);
                    try {
                        if (client.chat(msg).message == msg) ++ok;
                    } catch (const std::exception&) {}
                }
            });
        for (auto& th : threads) th.join();
        CHECK(ok == 20);
    }
}

TEST_CASE("end to end: client<httplib_transport, openssl_crypto, nitro_attestation> against a test-PKI enclave") {
    tee::testing::enclave_options eo;
    eo.nitro = true;
    tee::testing::simulated_enclave enclave(eo);
    tee::testing::enclave_server server(enclave);
    tee::nitro_options no;
    no.trusted_root = enclave.pki()->root_pem();
    no.expected_pcrs = tee::testing::test_pki::default_pins();  // the simulated enclave's image
    tee::client<tee::httplib_transport, openssl_crypto, tee::nitro_attestation> client(make_config(server.url()),
                                                                                       tee::nitro_attestation(no));
    const auto& id = client.attest();
    CHECK(id.verified);
    CHECK(id.public_key == enclave.public_key());
    const auto r = client.chat("hello from OpenSSL");
    CHECK(r.response == "Echo from the simulated enclave: hello from OpenSSL");
    CHECK(r.attestation_kind == "nitro");
    // and the Botan client sees the same identity of the same enclave
    tee::client<> botan_client(make_config(server.url()), tee::nitro_attestation(no));
    const auto& bid = botan_client.attest();
    CHECK(bid.public_key == id.public_key);
    CHECK(bid.key_fingerprint == id.key_fingerprint);
    CHECK(bid.module_id == id.module_id);
    CHECK(bid.pcrs == id.pcrs);
}

// ============================================================ OpenSSL hygiene

TEST_CASE("openssl_crypto leaves the thread's OpenSSL error queue as it found it") {
    auto v = vector_json();
    auto pub = ossl.load_public_key(hex(v["public_key_der_hex"].get<std::string>()));
    auto off_curve = ossl.spki_der(ossl.generate_p384());
    off_curve.back() ^= 0x01;
    auto failing_calls = [&] {
        CHECK_FALSE(ossl.ecdsa_p384_verify_der(pub, str("x"), bytes(104, 0x30)));
        CHECK_FALSE(ossl.ecdsa_p384_verify_der(pub, str("x"), hex(v["signature_der_hex"].get<std::string>())));
        CHECK_FALSE(ossl.ecdsa_p384_verify_raw(pub, str("x"), bytes(96, 0xff)));
        CHECK_FALSE(ossl.aes256gcm_open(bytes(32), bytes(32), bytes(40, 1)).has_value());
        CHECK_THROWS_AS(ossl.load_public_key(off_curve), tee::protocol_error);
        CHECK_THROWS_AS(ossl.hkdf_sha256(bytes(1), {}, {}, 9000), tee::protocol_error);
        CHECK_FALSE(ossl.ecdsa_p384_verify_der(openssl_crypto::public_key{}, str("x"), bytes(8)));  // no key
        CHECK_THROWS_AS(ossl.ecdh(openssl_crypto::private_key{}, pub), tee::protocol_error);
    };
    ERR_clear_error();
    failing_calls();
    CHECK(ERR_peek_error() == 0);

    ERR_raise(ERR_LIB_USER, 42);  // an error of the caller's is kept
    const unsigned long mine = ERR_peek_last_error();
    REQUIRE(mine != 0);
    failing_calls();
    CHECK(ERR_get_error() == mine);
    CHECK(ERR_get_error() == 0);
}

TEST_CASE("openssl_crypto: threads share keys without interference") {
    const auto a = ossl.generate_p384(), c = ossl.generate_p384();
    const auto pub_c = ossl.load_public_key(ossl.spki_der(c));
    const auto want = ossl.ecdh(a, pub_c);
    auto v = vector_json();
    const auto pub = ossl.load_public_key(hex(v["public_key_der_hex"].get<std::string>()));
    const bytes msg = str(v["canonical"].get<std::string>()), sig = hex(v["signature_der_hex"].get<std::string>());
    std::atomic<int> good{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 25; ++i) {
                const bool ok = ossl.ecdh(a, pub_c) == want && ossl.ecdsa_p384_verify_der(pub, msg, sig) &&
                    !ossl.ecdsa_p384_verify_der(pub, bytes{1}, sig) && ossl.random_bytes(16).size() == 16;
                good += ok;
            }
        });
    for (auto& th : threads) th.join();
    CHECK(good == 100);
}

// botan_crypto verifies a key's first signature with a one-shot PK_Verifier
// and every later one through a comb table shared by the key's copies and
// threads (built lazily under a lock); a rejection or malformed DER on either
// path must never make a later verification wrong.
TEST_CASE_TEMPLATE("a key verifies correctly after every kind of rejection, interleaved, and across threads", C,
                   TEE_BACKENDS) {
    const C crypto;
    auto v = vector_json();
    const auto pub = crypto.load_public_key(hex(v["public_key_der_hex"].get<std::string>()));
    const auto copy = pub;  // copies share the kept verifiers
    const bytes msg = str(v["canonical"].get<std::string>()), sig = hex(v["signature_der_hex"].get<std::string>());
    const bytes raw = raw_of(of_der(sig));
    auto truncated = sig;
    truncated.resize(sig.size() - 5);
    auto bad = sig;
    bad[sig.size() - 3] ^= 0x40;
    const std::vector<bytes> rejected_der{bytes{}, bytes(104, 0x30), truncated, bad, bytes{0x30, 0x00}};
    for (int round = 0; round < 3; ++round)
        for (const auto& r : rejected_der) {
            CHECK_FALSE(crypto.ecdsa_p384_verify_der(pub, msg, r));
            CHECK(crypto.ecdsa_p384_verify_der(copy, msg, sig));                   // right after the rejection
            CHECK_FALSE(crypto.ecdsa_p384_verify_der(copy, bytes{1, 2, 3}, sig));  // right signature, other message
            CHECK(crypto.ecdsa_p384_verify_der(pub, msg, sig));
            CHECK_FALSE(crypto.ecdsa_p384_verify_raw(copy, msg, bytes(95, 1)));
            CHECK_FALSE(crypto.ecdsa_p384_verify_raw(pub, bytes{}, raw));
            CHECK(crypto.ecdsa_p384_verify_raw(pub, msg, raw));
        }
    std::atomic<int> good{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 10; ++i) {
                const auto& k = (i + t) % 2 ? pub : copy;
                const bool ok = crypto.ecdsa_p384_verify_der(k, msg, sig) &&
                    !crypto.ecdsa_p384_verify_der(k, msg, rejected_der[static_cast<std::size_t>(i) % 5]) &&
                    crypto.ecdsa_p384_verify_raw(k, msg, raw) && !crypto.ecdsa_p384_verify_der(k, bytes{7}, sig);
                good += ok;
            }
        });
    for (auto& th : threads) th.join();
    CHECK(good == 40);
}
