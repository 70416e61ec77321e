// fuzz_answer: the parser and verifier of the answer to POST /talk
// (tee::protocol::verify_answer), with the enclave key of the service's real
// signed answer (tests/data/signed_response_vector.json). The first input byte
// picks the HTTP status (200, 500, 404), the rest is the body. Only tee::error
// may be thrown; an answer may verify only if its signed data is exactly the
// vector's (nobody else holds the key).
#include <tee/botan_crypto.hpp>
#include <tee/protocol.hpp>

#include <chrono>

#include "fuzz_util.hpp"

namespace {
constexpr std::string_view enclave_spki_hex =
    "3076301006072a8648ce3d020106052b81040022036200045f06b659e1c1e148bdb46112c0a03728aa442d278efa2a90a27945fea26215"
    "a9ad769cccec72d9c18c21e028aeb241faf2fb4fdb4fd828179e3e78c1fa0c04282c3688e0adabd537de150d0a76aa3fa110288055e8"
    "bbba2fe9d8663a12e43b40";
constexpr std::string_view signed_canonical =
    R"({"ai_model":"gpt-4","message":"What's the date today","platform":"openai","response":"As an AI, I don't )"
    R"(have real-time capabilities. Therefore, I can't provide the current date. Please check the date on your )"
    R"(device.","timestamp":1747364177})";
constexpr std::string_view prompt = "What's the date today";
constexpr std::int64_t signed_at = 1747364177;

const tee::botan_crypto::public_key& enclave_key() {
    static const tee::botan_crypto::public_key k =
        tee::botan_crypto{}.load_public_key(*tee::from_hex(enclave_spki_hex));
    return k;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    static constexpr int statuses[] = {200, 500, 404};
    const tee::http_response res{statuses[data[0] % 3], std::string(fuzz::text(data + 1, size - 1))};
    const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(signed_at + 30));
    try {
        const tee::chat_result r =
            tee::protocol::verify_answer(tee::botan_crypto{}, enclave_key(), res,
                                         {.prompt = prompt, .now = now, .window = std::chrono::seconds(60)});
        FUZZ_CHECK(res.status == 200);
        FUZZ_CHECK(tee::canonical_json(r.data) == signed_canonical);
        FUZZ_CHECK(r.message == prompt && r.timestamp == signed_at);
        fuzz::accepted("answer");
    } catch (const tee::error& e) {
        fuzz::refused(e);
    }
    return 0;
}
