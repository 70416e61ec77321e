// fuzz_nova_answer: the parser and verifier of a Nova answer
// (tee::nova_protocol::open_answer, then read_talk_answer), with the keys of
// the worked example of PROTOCOL-NOVA.md section 12 (tests/data/nova_kat.json):
// the client's P-384 key, the attested enclave key and eth_addr. The first
// input byte picks the HTTP status (200, 400, 500), the rest is the body.
// Only tee::error may be thrown; an answer may open only if it is the
// example's own (nobody else holds the secp256k1 key), and then it must read
// as the example's plaintext.
#include <tee/botan_crypto.hpp>
#include <tee/nova_protocol.hpp>

#include <botan/ecdh.h>
#include <botan/system_rng.h>
#if BOTAN_VERSION_MAJOR >= 3
#include <botan/ec_scalar.h>
#endif

#include <chrono>

#include "fuzz_util.hpp"

namespace {
constexpr std::string_view client_d =
    "3bd101ec03f29a715b2f18794264e0001602a1f814dcecc1aebc016baa2cf4179a3bd32086ca454c22f70f6c0481f84d";
constexpr std::string_view enclave_spki =
    "3076301006072a8648ce3d020106052b8104002203620004119a8dd2cb1a9dbf5f11c18e85eee0d5730ec26c4af0a1d7b196cdddd7965"
    "13ec5064478c21763fc2094a560a0380304990f553dea7c2b53aeb300198b156d056342a6f843ccb0de85ca30e5c430131b076ce4cdd0"
    "5d43ecf20717998848253f";
constexpr std::string_view eth_addr = "0xd30077d0ee91bc6907a1666f1d2054b4322a2b0f";
constexpr std::string_view plaintext =
    R"({"ai_model":"gpt-4","message":"What's the date today","platform":"openai","response":"Echo: What's the )"
    R"(date today \u00e9","timestamp":1767225600})";

struct fixture {
    tee::botan_crypto crypto;
    std::vector<std::uint8_t> spki = *tee::from_hex(enclave_spki);
    tee::detail::nova::eth_address signer = *tee::detail::nova::parse_eth_address(eth_addr);
    tee::detail::nova::key_agreement keys = tee::detail::nova::agree(crypto, client_key(), spki);
    tee::config cfg = [] {
        tee::config c;
        c.platform = "openai";
        c.model = "gpt-4";
        return c;
    }();

    static tee::botan_crypto::private_key client_key() {
        const auto d = *tee::from_hex(client_d);
        const auto& g = tee::detail::botan::p384();
#if BOTAN_VERSION_MAJOR >= 3
        return {std::make_shared<const Botan::ECDH_PrivateKey>(g, *Botan::EC_Scalar::deserialize(g, d))};
#else
        return {
            std::make_shared<const Botan::ECDH_PrivateKey>(Botan::system_rng(), g, Botan::BigInt(d.data(), d.size()))};
#endif
    }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const fixture f;
    if (size == 0) return 0;
    static constexpr int statuses[] = {200, 400, 500};
    const tee::http_response res{statuses[data[0] % 3], std::string(fuzz::text(data + 1, size - 1))};
    tee::nova_protocol::answer_nonces seen;
    try {
        const auto opened = tee::nova_protocol::open_answer(f.crypto, res, {f.keys, f.spki, f.signer, &seen});
        FUZZ_CHECK(res.status == 200);
        FUZZ_CHECK(opened.data == nlohmann::json::parse(plaintext));
        const auto r = tee::nova_protocol::read_talk_answer(
            opened.data, "What's the date today", f.cfg,
            std::chrono::system_clock::time_point(std::chrono::seconds(1767225600)));
        FUZZ_CHECK(r.timestamp == 1767225600);
        fuzz::accepted("nova answer");
    } catch (const tee::error& e) {
        fuzz::refused(e);
    }
    return 0;
}
