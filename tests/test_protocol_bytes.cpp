// The byte-level pieces of protocol.hpp: the request plaintext and body, and
// verify_answer over the service's real signed answer
// (tests/data/signed_response_vector.json). The known answers of every crypto
// primitive, for both backends, are in test_crypto_backends.cpp.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "tee/botan_crypto.hpp"
#include "tee/protocol.hpp"

namespace {
using bytes = std::vector<std::uint8_t>;
bytes hex(std::string_view s) { return tee::from_hex(s).value(); }

nlohmann::json vector_json() {
    std::ifstream in(TEE_TEST_DATA_DIR "/signed_response_vector.json");
    REQUIRE(in);
    return nlohmann::json::parse(in);
}
const tee::botan_crypto crypto;
}  // namespace

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
    auto r = tee::protocol::verify_answer(crypto, pub, {200, answer.dump()},
                                          {.prompt = "What's the date today", .now = now, .check_time = false});
    CHECK(r.message == "What's the date today");
    CHECK(r.timestamp == 1747364177);
    CHECK(r.platform == "openai");
    CHECK(r.ai_model == "gpt-4");
    CHECK(r.response.rfind("As an AI", 0) == 0);

    // the body as the service sends it (insertion order, UTF-8) verifies the same
    nlohmann::ordered_json ordered;
    ordered["sig"] = v["signature_der_hex"];
    ordered["data"] = nlohmann::ordered_json::parse(v["data"].dump());
    CHECK_NOTHROW(tee::protocol::verify_answer(crypto, pub, {200, ordered.dump(2)},
                                               {.prompt = "What's the date today", .now = now, .check_time = false}));

    auto changed = answer;
    changed["data"]["response"] =
        "As an AI, I don't have real-time capabilities! Therefore, I can't provide the "
        "current date. Please check the date on your device.";
    CHECK_THROWS_AS(tee::protocol::verify_answer(crypto, pub, {200, changed.dump()},
                                                 {.prompt = "What's the date today", .now = now, .check_time = false}),
                    tee::signature_error);
    // with the time check on, this 2025 answer is a replay
    CHECK_THROWS_AS(tee::protocol::verify_answer(crypto, pub, {200, answer.dump()},
                                                 {.prompt = "What's the date today", .now = now, .check_time = true}),
                    tee::replay_error);
}
