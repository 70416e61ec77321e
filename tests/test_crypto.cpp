// Known-answer tests for every primitive of tee::botan_crypto, and the
// byte-level pieces of protocol.hpp. Vectors: RFC 5869 (HKDF), McGrew-Viega
// GCM test case 6 shape, FIPS 180 ("abc"), and answers computed with Python's
// `cryptography` 38 (AES-256-GCM with a 32-byte IV, the service's HKDF) and a
// real signed answer of the service (tests/data/signed_response_vector.json).
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include <botan/ecdh.h>
#include <botan/system_rng.h>
#include <botan/x509_key.h>

#include "tee/botan_crypto.hpp"
#include "tee/protocol.hpp"

namespace {
using bytes = std::vector<std::uint8_t>;
bytes hex(std::string_view s) { return tee::from_hex(s).value(); }
bytes str(std::string_view s) { return bytes(s.begin(), s.end()); }
template <class C>
std::string hx(const C& c) { return tee::to_hex(std::span<const std::uint8_t>(c.data(), c.size())); }

nlohmann::json vector_json() {
    std::ifstream in(TEE_TEST_DATA_DIR "/signed_response_vector.json");
    REQUIRE(in);
    return nlohmann::json::parse(in);
}
const tee::botan_crypto crypto;
}  // namespace

TEST_CASE("SHA-256 and SHA-384 of \"abc\" (FIPS 180-4)") {
    CHECK(hx(crypto.sha256(str("abc"))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(hx(crypto.sha384(str("abc"))) ==
          "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7");
}

TEST_CASE("HKDF-SHA256: RFC 5869 test cases 1 and 3") {
    bytes ikm(22, 0x0b);
    auto okm1 = crypto.hkdf_sha256(ikm, hex("000102030405060708090a0b0c"), hex("f0f1f2f3f4f5f6f7f8f9"), 42);
    CHECK(hx(okm1) == "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    // Test case 3: salt and info empty. "salt none" of the protocol is this case.
    auto okm3 = crypto.hkdf_sha256(ikm, {}, {}, 42);
    CHECK(hx(okm3) == "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST_CASE("HKDF with the protocol's parameters matches Python's HKDF(salt=None, info=b'encryption data')") {
    bytes shared(48);
    for (std::size_t i = 0; i < shared.size(); ++i) shared[i] = static_cast<std::uint8_t>(i);
    auto key = crypto.hkdf_sha256(shared, {}, str("encryption data"), 32);
    CHECK(hx(key) == "b4e77f578a555948e4d9523ec0474ad7814cad9748a5e00fb2bc823bf0ca90e6");
}

TEST_CASE("AES-256-GCM with a 32-byte IV matches Python's AESGCM") {
    bytes key(32), iv(32);
    for (std::size_t i = 0; i < 32; ++i) { key[i] = static_cast<std::uint8_t>(i); iv[i] = static_cast<std::uint8_t>(0x40 + i); }
    auto pt = str(R"({"api_key":"k","message":"BTC price right now","platform":"openai","ai_model":"gpt-4"})");
    const std::string want =
        "1f595214e8b5008f5a43d09dc4838e1031de5c55b0312e9d88bd26949d9aa6a1a0240282d82da69c5ae489d4e342f2faaedcc9e555ab91f"
        "a42531a256cbc9ea0d7fc66d6617d4ccac774cf14ee8eea7e683cd7465429c314d6537574f7bf764ec735a82e21e6";
    auto ct = crypto.aes256gcm_seal(key, iv, pt);
    CHECK(hx(ct) == want);
    CHECK(ct.size() == pt.size() + 16);
    CHECK(hx(crypto.aes256gcm_seal(key, iv, {})) == "8686ee0250daad9ac850a9be7c5b62b2");  // tag only

    auto back = crypto.aes256gcm_open(key, iv, ct);
    REQUIRE(back.has_value());
    CHECK(bytes(back->begin(), back->end()) == pt);

    SUBCASE("any flipped bit fails authentication") {
        for (std::size_t i : {std::size_t{0}, ct.size() / 2, ct.size() - 1}) {
            auto bad = ct;
            bad[i] ^= 0x01;
            CHECK_FALSE(crypto.aes256gcm_open(key, iv, bad).has_value());
        }
        auto bad_iv = iv;
        bad_iv[31] ^= 0x80;
        CHECK_FALSE(crypto.aes256gcm_open(key, bad_iv, ct).has_value());
        CHECK_FALSE(crypto.aes256gcm_open(key, iv, bytes(15, 0)).has_value());  // shorter than a tag
    }
    CHECK_THROWS_AS(crypto.aes256gcm_seal(bytes(16), iv, pt), tee::protocol_error);  // not AES-256
}

TEST_CASE("ECDSA P-384/SHA-384: the service's real signed answer verifies, and nothing else does") {
    auto v = vector_json();
    auto pub = crypto.load_public_key(hex(v["public_key_der_hex"].get<std::string>()));
    const std::string canonical = v["canonical"];
    auto sig = hex(v["signature_der_hex"].get<std::string>());
    CHECK(tee::canonical_json(v["data"]) == canonical);
    CHECK(crypto.ecdsa_p384_verify_der(pub, str(canonical), sig));

    auto tampered = str(canonical);
    tampered[10] ^= 0x01;
    CHECK_FALSE(crypto.ecdsa_p384_verify_der(pub, tampered, sig));
    auto bad_sig = sig;
    bad_sig[20] ^= 0x01;
    CHECK_FALSE(crypto.ecdsa_p384_verify_der(pub, str(canonical), bad_sig));
    CHECK_FALSE(crypto.ecdsa_p384_verify_der(pub, str(canonical), bytes{}));
    CHECK_FALSE(crypto.ecdsa_p384_verify_der(pub, str(canonical), bytes(104, 0x30)));  // malformed DER
    // plain json.dumps(data) (insertion order, ", " and ": ") is what the tutorial's
    // verify_sig checks; it does not verify against the real service
    const std::string python_default = R"({"platform": "openai", "ai_model": "gpt-4", "timestamp": 1747364177, "message": "What's the date today", "response": "As an AI, I don't have real-time capabilities. Therefore, I can't provide the current date. Please check the date on your device."})";
    CHECK_FALSE(crypto.ecdsa_p384_verify_der(pub, str(python_default), sig));
    // another key
    auto other = crypto.load_public_key(crypto.spki_der(crypto.generate_p384()));
    CHECK_FALSE(crypto.ecdsa_p384_verify_der(other, str(canonical), sig));
    // raw r||s form needs exactly 96 bytes
    CHECK_FALSE(crypto.ecdsa_p384_verify_raw(pub, str(canonical), sig));
}

TEST_CASE("client key SPKI is the 120-byte id-ecPublicKey/secp384r1 form Python loads") {
    auto k = crypto.generate_p384();
    auto spki = crypto.spki_der(k);
    REQUIRE(spki.size() == 120);
    CHECK(hx(std::span(spki).first(24)) == "3076301006072a8648ce3d020106052b8104002203620004");
    // the same key loads from the SPKI and from its raw point
    auto a = crypto.load_public_key(spki);
    auto b = crypto.load_public_key(std::span(spki).subspan(23));
    CHECK(a.point == b.point);
    // Botan's own encoding of an ECDH key carries the ECDH OID (1.3.132.1.12): the trap.
    Botan::ECDH_PrivateKey botan_key(Botan::system_rng(), Botan::EC_Group("secp384r1"));
    auto botan_spki = Botan::X509::BER_encode(botan_key);
    CHECK(botan_spki.size() != 120);  // differs from the form the service accepts
    CHECK_THROWS_AS(crypto.load_public_key(botan_spki), tee::protocol_error);
}

TEST_CASE("enclave keys: garbage, compressed points and points off the curve are refused") {
    auto spki = crypto.spki_der(crypto.generate_p384());
    CHECK_THROWS_AS(crypto.load_public_key(bytes{}), tee::protocol_error);
    CHECK_THROWS_AS(crypto.load_public_key(bytes(120, 0)), tee::protocol_error);
    auto compressed = bytes(spki.begin() + 23, spki.begin() + 23 + 49);
    compressed[0] = 0x02;
    CHECK_THROWS_AS(crypto.load_public_key(compressed), tee::protocol_error);
    auto off_curve = spki;
    off_curve.back() ^= 0x01;  // y no longer matches x
    CHECK_THROWS_WITH_AS(crypto.load_public_key(off_curve), doctest::Contains("not a point on P-384"),
                         tee::protocol_error);
}

TEST_CASE("ECDH: both sides derive the same 48-byte x coordinate") {
    auto a = crypto.generate_p384(), b = crypto.generate_p384();
    auto za = crypto.ecdh(a, crypto.load_public_key(crypto.spki_der(b)));
    auto zb = crypto.ecdh(b, crypto.load_public_key(crypto.spki_der(a)));
    CHECK(za.size() == 48);
    CHECK(za == zb);
    auto c = crypto.generate_p384();
    CHECK(crypto.ecdh(a, crypto.load_public_key(crypto.spki_der(c))) != za);
}

TEST_CASE("random_bytes gives fresh bytes of the asked length") {
    auto r1 = crypto.random_bytes(32), r2 = crypto.random_bytes(32);
    CHECK(r1.size() == 32);
    CHECK(r1 != r2);
    CHECK(crypto.random_bytes(0).empty());
}

TEST_CASE("request plaintext is the service's JSON, with Python-style escapes") {
    auto p = tee::protocol::request_plaintext(tee::secret_string("sk-1"), "h\xc3\xa9 \"q\" \\ \n \xf0\x9f\x98\x80",
                                              "openai", "gpt-4");
    CHECK(std::string(p.begin(), p.end()) ==
          R"({"api_key":"sk-1","message":"h\u00e9 \"q\" \\ \n \ud83d\ude00","platform":"openai","ai_model":"gpt-4"})");
    auto parsed = nlohmann::json::parse(p.begin(), p.end());
    CHECK(parsed["message"] == "h\xc3\xa9 \"q\" \\ \n \xf0\x9f\x98\x80");
    CHECK_THROWS_AS(tee::protocol::request_plaintext(tee::secret_string("k"), "\xff", "openai", "gpt-4"),
                    tee::config_error);
}

TEST_CASE("talk request body") {
    bytes nonce(32, 0xab), ct{1, 2, 3};
    auto body = tee::protocol::talk_request(nonce, "3076", ct);
    std::string nonce_hex;
    for (int i = 0; i < 32; ++i) nonce_hex += "ab";
    CHECK(body == R"({"nonce":")" + nonce_hex + R"(","public_key":"3076","data":"010203"})");
}

TEST_CASE("verify_answer: the real signed answer verifies; one changed byte of data does not") {
    auto v = vector_json();
    auto pub = crypto.load_public_key(hex(v["public_key_der_hex"].get<std::string>()));
    nlohmann::json answer{{"sig", v["signature_der_hex"]}, {"data", v["data"]}};
    const auto now = std::chrono::system_clock::now();
    auto r = tee::protocol::verify_answer(crypto, pub, {200, answer.dump()}, "What's the date today", now,
                                          std::chrono::seconds(300), /*check_time=*/false);
    CHECK(r.message == "What's the date today");
    CHECK(r.timestamp == 1747364177);
    CHECK(r.platform == "openai");
    CHECK(r.ai_model == "gpt-4");
    CHECK(r.response.rfind("As an AI", 0) == 0);

    // the body as the service sends it (insertion order, UTF-8) verifies the same
    nlohmann::ordered_json ordered;
    ordered["sig"] = v["signature_der_hex"];
    ordered["data"] = nlohmann::ordered_json::parse(v["data"].dump());
    CHECK_NOTHROW(tee::protocol::verify_answer(crypto, pub, {200, ordered.dump(2)}, "What's the date today", now,
                                               std::chrono::seconds(300), false));

    auto changed = answer;
    changed["data"]["response"] = "As an AI, I don't have real-time capabilities! Therefore, I can't provide the "
                                  "current date. Please check the date on your device.";
    CHECK_THROWS_AS(tee::protocol::verify_answer(crypto, pub, {200, changed.dump()}, "What's the date today", now,
                                                 std::chrono::seconds(300), false),
                    tee::signature_error);
    // with the time check on, this 2025 answer is a replay
    CHECK_THROWS_AS(tee::protocol::verify_answer(crypto, pub, {200, answer.dump()}, "What's the date today", now,
                                                 std::chrono::seconds(300), true),
                    tee::replay_error);
}
