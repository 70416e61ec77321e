// Tests of tee/nova_protocol.hpp, the Nova protocol policy (PROTOCOL-NOVA.md
// section 8, "A correct client"), one check at a time:
//
//  * the worked example of the spec (tests/data/nova_kat.json): its answer
//    opens, verifies and reads as the vector says;
//  * one negative test per answer check, each asserting the exception's exact
//    type and signature_reason (so removing the check changes the outcome):
//    a forged envelope, another signer, high s, an empty or non-hex
//    signature, the envelope naming another key, a replayed answer nonce, an
//    answer sealed under another key, extra envelope members, a refusal, and
//    the echo and time checks of the decrypted answer (message, ai_model,
//    platform, a wrapped timestamp);
//  * the attestation side: the request body, raw CBOR and JSON answers, the
//    signing address from user_data only, the nonce comparison, and
//    nitro_attestation's Nova key binding on documents of the test PKI;
//  * which failures make the client attest again (means_key_change).
#include "tee/tee.hpp"
#include "tee/testing/simulated_enclave.hpp"
#include "tee/testing/test_pki.hpp"

#include <botan/bigint.h>
#include <botan/ecdh.h>
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
using tee::nova_protocol;
using tee::signature_reason;

namespace {

bytes unhex(std::string_view text) {
    auto b = tee::from_hex(text);
    REQUIRE_MESSAGE(b.has_value(), "bad hex in test data: " << text);
    return *b;
}

const nlohmann::json& kat() {
    static const nlohmann::json j = nlohmann::json::parse(tee_test::read_data("nova_kat.json"));
    return j;
}
std::string kat_str(const char* name) { return kat().at(name).get<std::string>(); }
bytes kat_bytes(const char* name) { return unhex(kat_str(name)); }

// The worked example's time: its answer's signed timestamp.
const auto kat_now = std::chrono::system_clock::time_point(std::chrono::seconds(1767225600));

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

// The client side of the worked example: its key agreement with the enclave key.
struct example {
    tee::botan_crypto crypto;
    nova::key_agreement keys =
        nova::agree(crypto, p384_key(kat_bytes("client_p384_d")), kat_bytes("enclave_spki"), nova::hkdf_label::capsule);
    bytes enclave_spki = kat_bytes("enclave_spki");
    nova::eth_address signer = *nova::parse_eth_address(kat_str("eth_addr"));
    nova_protocol::answer_nonces seen;

    nova_protocol::opened_answer open(const std::string& body, int status = 200) {
        return nova_protocol::open_answer(crypto, tee::http_response{status, body},
                                          {keys, enclave_spki, signer, &seen, "sk-nova-SECRET"});
    }
};

nlohmann::json answer() { return nlohmann::json::parse(kat_str("answer_body")); }

tee::config example_config() {
    tee::config cfg;
    cfg.api_key = tee::secret_string("sk-nova-SECRET");
    cfg.platform = "openai";
    cfg.model = "gpt-4";
    return cfg;
}

// The worked example's answer with its signature replaced by the high-s twin
// (r, n - s, v ^ 1), which recovers the same key.
std::string high_s_twin(const std::string& sig_hex) {
    bytes sig = unhex(sig_hex);
    const Botan::BigInt& n = tee::detail::botan::secp256k1().get_order();
    const Botan::BigInt s = n - Botan::BigInt(sig.data() + 32, 32);
    bytes s_bytes(32);
#if BOTAN_VERSION_MAJOR >= 3
    s.serialize_to(s_bytes);
#else
    s.binary_encode(s_bytes.data(), s_bytes.size());
#endif
    std::copy(s_bytes.begin(), s_bytes.end(), sig.begin() + 32);
    sig[64] ^= 1;
    return tee::to_hex(sig);
}

template <class E, class F>
E expect_throw(F&& f, std::string_view fragment) {
    try {
        f();
    } catch (const E& e) {
        CHECK_MESSAGE(std::string(e.what()).find(fragment) != std::string::npos, e.what());
        CHECK(std::string(e.what()).find("sk-nova-SECRET") == std::string::npos);
        return e;
    } catch (const std::exception& e) {
        FAIL("wrong exception type: " << typeid(e).name() << ": " << e.what());
    }
    FAIL("no exception");
    throw std::logic_error("unreachable");
}

template <class E = tee::signature_error>
void expect_refused(example& ex, const nlohmann::json& body, signature_reason reason, std::string_view fragment) {
    const E e = expect_throw<E>([&] { ex.open(body.dump()); }, fragment);
    CHECK(typeid(e) == typeid(E));
    CHECK(to_string(e.reason()) == to_string(reason));
}

}  // namespace

// ------------------------------------------------------------------ answers

TEST_CASE("the worked example's answer opens, verifies and reads as the vector says") {
    example ex;
    const auto opened = ex.open(kat_str("answer_body"));
    CHECK(opened.data == nlohmann::json::parse(kat_str("resp_plaintext")));
    CHECK(opened.signature == kat_str("sig"));
    CHECK(tee::to_hex(opened.nonce) == kat_str("resp_nonce"));
    tee::chat_result r =
        nova_protocol::read_talk_answer(opened.data, "What's the date today", example_config(), kat_now);
    CHECK(r.response == "Echo: What's the date today \xc3\xa9");  // sent as \u00e9, read as UTF-8
    CHECK(r.message == "What's the date today");
    CHECK(r.ai_model == "gpt-4");
    CHECK(r.platform == "openai");
    CHECK(r.timestamp == 1767225600);
}

TEST_CASE("v written as 27/28 verifies like 0/1") {
    example ex;
    auto a = answer();
    std::string sig = a["sig"];
    sig.replace(128, 2, "1b");  // v = 0 + 27
    a["sig"] = sig;
    CHECK_NOTHROW(ex.open(a.dump()));
}

TEST_CASE("a changed envelope recovers another signer: wrong_signer") {
    example ex;
    auto a = answer();
    std::string ct = a["data"]["encrypted_data"];
    ct[0] = ct[0] == '1' ? '2' : '1';
    a["data"]["encrypted_data"] = ct;
    expect_refused(ex, a, signature_reason::wrong_signer, "not by the attested address");
}

TEST_CASE("a valid signature by an address other than the attested one: wrong_signer") {
    example ex;
    ex.signer = *nova::parse_eth_address("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266");
    expect_refused(ex, answer(), signature_reason::wrong_signer, "not by the attested address");
}

TEST_CASE("the high-s twin of a valid signature is refused: malleable") {
    example ex;
    auto a = answer();
    a["sig"] = high_s_twin(a["sig"]);
    expect_refused(ex, a, signature_reason::malleable, "above n/2");
}

TEST_CASE("an empty signature (the service could not sign) is refused: missing") {
    example ex;
    auto a = answer();
    a["sig"] = "";
    expect_refused(ex, a, signature_reason::missing, "not 65 bytes");
}

TEST_CASE("a signature that is not hex, or not 65 bytes, is refused: invalid") {
    example ex;
    auto a = answer();
    a["sig"] = "zz" + a["sig"].get<std::string>().substr(2);
    expect_refused(ex, a, signature_reason::invalid, "not hex");
    a["sig"] = a["sig"].get<std::string>().substr(2);
    a["sig"] = kat_str("sig").substr(0, 128);
    expect_refused(ex, a, signature_reason::invalid, "not 65 bytes");
}

TEST_CASE("an envelope naming a key other than the attested one is refused: key_mismatch") {
    example ex;
    ex.enclave_spki = kat_bytes("client_spki");  // the signature holds; the named key is not the attested one
    expect_refused(ex, answer(), signature_reason::key_mismatch, "other than the attested one");
}

TEST_CASE("an answer nonce seen before in the session is refused: replayed") {
    example ex;
    CHECK_NOTHROW(ex.open(kat_str("answer_body")));
    expect_refused<tee::replay_error>(ex, answer(), signature_reason::replayed, "seen before");
    example fresh;  // another session has its own record
    CHECK_NOTHROW(fresh.open(kat_str("answer_body")));
}

TEST_CASE("an answer that does not open with the session's key is refused: undecryptable") {
    example ex;
    ex.keys = nova::agree(ex.crypto, p384_key(kat_bytes("client_p384_d")), kat_bytes("enclave_spki"),
                          nova::hkdf_label::enclaver);  // the other runtime's label: another key
    expect_refused(ex, answer(), signature_reason::undecryptable, "does not decrypt");
}

TEST_CASE("an envelope with other members, or members that are not hex strings, is a protocol error") {
    example ex;
    auto a = answer();
    a["data"]["extra"] = "00";
    expect_throw<tee::protocol_error>([&] { ex.open(a.dump()); }, "exactly encrypted_data, nonce and public_key");
    a = answer();
    a["data"].erase("nonce");
    a["data"]["nonse"] = "00";
    expect_throw<tee::protocol_error>([&] { ex.open(a.dump()); }, "no \"nonce\" string");
    a = answer();
    a["data"]["nonce"] = "0c0d";
    expect_throw<tee::signature_error>([&] { ex.open(a.dump()); }, "");  // the signature covers the nonce
    a = answer();
    a.erase("sig");
    expect_throw<tee::protocol_error>([&] { ex.open(a.dump()); }, "no \"sig\" string");
    expect_throw<tee::protocol_error>([&] { ex.open("[1,2]"); }, "not a JSON object");
}

TEST_CASE("refusals are service errors, redacted of the API key") {
    example ex;
    auto e = expect_throw<tee::service_error>(
        [&] { ex.open(R"({"error":"Decryption failed: 400 Client Error sk-nova-SECRET"})", 400); },
        "Decryption failed");
    CHECK(e.http_status() == 400);
    e = expect_throw<tee::service_error>([&] { ex.open(R"({"error":"API key not set. Call /set-api-key first."})"); },
                                         "API key not set");
    CHECK(e.http_status() == 200);
}

TEST_CASE("the decrypted answer must echo message, ai_model and platform: echo_mismatch") {
    const auto data = nlohmann::json::parse(kat_str("resp_plaintext"));
    auto cfg = example_config();
    auto mismatch = [&](std::string_view message, const tee::config& c, std::string_view fragment) {
        const auto e = expect_throw<tee::replay_error>(
            [&] { nova_protocol::read_talk_answer(data, message, c, kat_now); }, fragment);
        CHECK(e.reason() == signature_reason::echo_mismatch);
    };
    mismatch("What's the date tomorrow", cfg, "message differs");
    cfg.model = "gpt-4o";
    mismatch("What's the date today", cfg, "ai_model differs");
    cfg = example_config();
    cfg.platform = "anthropic";
    mismatch("What's the date today", cfg, "platform differs");
    cfg = example_config();
    cfg.platform.clear();  // the enclave's defaults: openai, gpt-4
    cfg.model.clear();
    CHECK_NOTHROW(nova_protocol::read_talk_answer(data, "What's the date today", cfg, kat_now));
}

TEST_CASE("the answer's timestamp must be inside the window, compared in integer seconds") {
    auto data = nlohmann::json::parse(kat_str("resp_plaintext"));
    auto cfg = example_config();
    auto outside = [&](std::chrono::system_clock::time_point now) {
        const auto e = expect_throw<tee::replay_error>(
            [&] { nova_protocol::read_talk_answer(data, "What's the date today", cfg, now); },
            "away from the local clock");
        CHECK(e.reason() == signature_reason::time_window);
    };
    CHECK_NOTHROW(
        nova_protocol::read_talk_answer(data, "What's the date today", cfg, kat_now + std::chrono::seconds(300)));
    outside(kat_now + std::chrono::seconds(301));
    outside(kat_now - std::chrono::seconds(301));
    data["timestamp"] = 1767225600LL + 18446744073LL;  // now + 2^64 ns: wraps to "now" in nanoseconds
    outside(kat_now);
    cfg.accept_any_answer_time = true;
    CHECK_NOTHROW(nova_protocol::read_talk_answer(data, "What's the date today", cfg, kat_now));
}

TEST_CASE("the /set-api-key answer must say success, for our platform, now") {
    auto cfg = example_config();
    nlohmann::json ok = {{"message", "API key cached successfully"},
                         {"platform", "openai"},
                         {"status", "success"},
                         {"timestamp", 1767225600}};
    CHECK_NOTHROW(nova_protocol::check_set_api_key_answer(ok, cfg, kat_now));
    auto bad = ok;
    bad["status"] = "error";
    expect_throw<tee::protocol_error>([&] { nova_protocol::check_set_api_key_answer(bad, cfg, kat_now); }, "success");
    bad = ok;
    bad["platform"] = "gemini";
    CHECK(expect_throw<tee::replay_error>([&] { nova_protocol::check_set_api_key_answer(bad, cfg, kat_now); },
                                          "another platform")
              .reason() == signature_reason::echo_mismatch);
    CHECK(expect_throw<tee::replay_error>(
              [&] { nova_protocol::check_set_api_key_answer(ok, cfg, kat_now + std::chrono::hours(1)); }, "away")
              .reason() == signature_reason::time_window);
}

TEST_CASE("a restarted enclave's failures make the client attest again; replays and other refusals do not") {
    using tee::signature_reason;
    CHECK(nova_protocol::means_key_change(tee::service_error(400, "Decryption failed: 400 Client Error")));
    CHECK_FALSE(nova_protocol::means_key_change(tee::service_error(400, "API key not set. Call /set-api-key first.")));
    CHECK_FALSE(nova_protocol::means_key_change(tee::service_error(500, "Decryption failed")));
    CHECK(nova_protocol::means_key_change(tee::signature_error(signature_reason::wrong_signer, "x")));
    CHECK(nova_protocol::means_key_change(tee::signature_error(signature_reason::key_mismatch, "x")));
    CHECK_FALSE(nova_protocol::means_key_change(tee::replay_error(signature_reason::replayed, "x")));
    CHECK_FALSE(nova_protocol::means_key_change(tee::protocol_error("x")));
}

// ----------------------------------------------------------------- requests

TEST_CASE("the plaintexts: /set-api-key's in wiping memory, /talk's with message and ai_model") {
    const auto key = nova_protocol::set_api_key_plaintext(tee::secret_string("sk-\xc3\xa9\"x"), "openai");
    CHECK(std::string(key.begin(), key.end()) == R"({"api_key":"sk-\u00e9\"x","platform":"openai"})");
    const auto talk = nlohmann::json::parse(nova_protocol::talk_plaintext("h\xc3\xa9llo", "gpt-4"));
    CHECK(talk == nlohmann::json{{"message", "h\xc3\xa9llo"}, {"ai_model", "gpt-4"}});
    CHECK_THROWS_AS(nova_protocol::talk_plaintext("\xff", "gpt-4"), tee::config_error);
}

TEST_CASE("the request body of the worked example is the vector's, byte for byte") {
    const std::string body =
        tee::protocol::talk_request(kat_bytes("req_nonce"), kat_str("client_spki"), kat_bytes("req_ciphertext_tag"));
    CHECK(body == kat_str("req_body"));
}

// -------------------------------------------------------------- attestation

TEST_CASE("the attestation request carries the nonce in standard base64") {
    bytes nonce(32);
    for (std::size_t i = 0; i < nonce.size(); ++i) nonce[i] = static_cast<std::uint8_t>(i * 8);
    CHECK(nova_protocol::attestation_request(nonce) == "{\"nonce\":\"" + tee::to_base64(nonce) + "\"}");
}

TEST_CASE("attestation answers: raw CBOR and the JSON wrapper both reach the policy as attestation_doc") {
    const std::string cbor("\x84\x44\xa1\x01\x38\x22\xa0", 7);
    auto j = nova_protocol::attestation_answer({200, cbor});
    CHECK(j ==
          nlohmann::json{
              {"attestation_doc",
               tee::to_base64(tee::byte_span(reinterpret_cast<const std::uint8_t*>(cbor.data()), cbor.size()))}});
    j = nova_protocol::attestation_answer({200, " {\"attestation_doc\":\"AAAA\"}"});
    CHECK(j == nlohmann::json{{"attestation_doc", "AAAA"}});
    auto malformed = [](const std::string& body, std::string_view fragment) {
        const auto e = expect_throw<tee::attestation_error>(
            [&] {
                nova_protocol::attestation_answer({200, body});
            },
            fragment);
        CHECK(e.reason() == tee::attestation_reason::malformed);
    };
    malformed("", "empty");
    malformed(std::string(70 * 1024, '\x84'), "bytes, more than");
    malformed("{\"attestation_doc\":", "unreadable");
}

TEST_CASE("the signing address comes from the attested user_data only") {
    tee::enclave_identity id;
    const std::string ud = kat_str("user_data");
    id.user_data.assign(ud.begin(), ud.end());
    CHECK(nova::to_string(nova_protocol::signer_of(id)) == kat_str("eth_addr"));
    auto refused = [&](std::string text, std::string_view fragment) {
        id.user_data.assign(text.begin(), text.end());
        const auto e = expect_throw<tee::attestation_error>([&] { nova_protocol::signer_of(id); }, fragment);
        CHECK(e.reason() == tee::attestation_reason::key_binding);
    };
    refused("", "not JSON");
    refused(R"({"app_wallet":"0xd30077d0ee91bc6907a1666f1d2054b4322a2b0f"})", "no \"eth_addr\"");
    refused(R"({"eth_addr":"d30077d0ee91bc6907a1666f1d2054b4322a2b0f"})", "40 hex digits");
    refused(R"({"eth_addr":7})", "no \"eth_addr\" string");
}

TEST_CASE("the document must carry the nonce we sent") {
    tee::enclave_identity id;
    const bytes sent(32, 7);
    id.nonce = sent;
    CHECK_NOTHROW(nova_protocol::check_nonce(id, sent));
    id.nonce[31] = 8;
    CHECK(expect_throw<tee::attestation_error>([&] { nova_protocol::check_nonce(id, sent); }, "not the one we sent")
              .reason() == tee::attestation_reason::nonce);
    id.nonce.clear();
    CHECK(expect_throw<tee::attestation_error>([&] { nova_protocol::check_nonce(id, sent); }, "no nonce").reason() ==
          tee::attestation_reason::nonce);
}

namespace {

// A Nitro document of the test PKI with the given user_data (and nonce).
bytes nova_document(const tee::testing::test_pki& pki, const bytes& spki, const std::string& user_data,
                    const bytes& nonce) {
    auto payload = pki.payload(spki, nonce, {}, "i-nova-test");
    tee::cbor::value::map_type m = payload.as_map();
    for (auto& [k, v] : m)
        if (k.as_text() == "user_data") v = tee::cbor::value::bytes(bytes(user_data.begin(), user_data.end()));
    return pki.sign(tee::cbor::value::map(std::move(m)));
}

}  // namespace

TEST_CASE("nitro_attestation's Nova binding: a P-384 SPKI and user_data naming eth_addr") {
    tee::testing::test_pki pki;
    tee::nitro_options o;
    o.trusted_root = pki.root_pem();
    o.expected_pcrs = tee::testing::test_pki::default_pins();
    const tee::nitro_attestation policy(o);
    const tee::botan_crypto crypto;
    const tee::attestation_context nova_context{"http://enclave.test", tee::key_binding::nova_eth_addr};
    const bytes spki = kat_bytes("enclave_spki"), nonce(32, 1);
    const std::string ud = kat_str("user_data");

    const auto doc = nova_document(pki, spki, ud, nonce);
    const auto id = policy.verify_document(doc, crypto, nova_context);
    CHECK(id.public_key == spki);
    CHECK(id.nonce == nonce);
    CHECK(nova::to_string(nova_protocol::signer_of(id)) == kat_str("eth_addr"));

    auto refused = [&](const bytes& d, const tee::attestation_context& ctx, std::string_view fragment) {
        const auto e = expect_throw<tee::attestation_error>([&] { policy.verify_document(d, crypto, ctx); }, fragment);
        CHECK(e.reason() == tee::attestation_reason::key_binding);
    };
    // The same document under the tee-tls binding: user_data is not SHA-256(public_key).
    refused(doc, {"http://enclave.test"}, "user_data is not SHA-256(public_key)");
    // A tee-tls document under the Nova binding: user_data is not JSON.
    refused(pki.attestation_document(spki, nonce, {}, "i-nova-test"), nova_context, "not JSON");
    refused(nova_document(pki, spki, R"({"app_wallet":"0x00"})", nonce), nova_context, "no \"eth_addr\" string");
    refused(nova_document(pki, spki, R"({"eth_addr":"0xd30077"})", nonce), nova_context, "40 hex digits");
    refused(nova_document(pki, kat_bytes("enclave_sec1"), ud, nonce), nova_context, "120-byte P-384");
    // Other members (a KMS app wallet) are ignored.
    CHECK_NOTHROW(policy.verify_document(
        nova_document(pki, spki, R"({"eth_addr":"0xd30077d0ee91bc6907a1666f1d2054b4322a2b0f","app_wallet":"0x1"})",
                      nonce),
        crypto, nova_context));
}

// ------------------------------------------------------------- end to end
// tee::nova_client's policies over a transport that calls a simulated Nova
// enclave in the same process (tee/testing/simulated_nova.hpp): the real
// crypto, Nitro verification and checks, no sockets. The transport records
// the paths, so that the requests a chat makes are counted.

namespace {

class in_process {
public:
    in_process(tee::testing::simulated_enclave& e, std::vector<std::string>& paths) : e_(&e), paths_(&paths) {}
    tee::http_response get(std::string_view path) {
        paths_->emplace_back(path);
        return e_->handle("GET", path, "");
    }
    tee::http_response post_json(std::string_view path, std::string_view body) {
        paths_->emplace_back(path);
        return e_->handle("POST", path, body);
    }

private:
    tee::testing::simulated_enclave* e_;
    std::vector<std::string>* paths_;
};

using nova_test_client = tee::client<in_process, tee::botan_crypto, tee::nitro_attestation, tee::nova_protocol>;

struct nova_service {
    tee::testing::simulated_enclave enclave;
    std::vector<std::string> paths;
    tee::config cfg = example_config();

    explicit nova_service(tee::testing::nova_fault fault = tee::testing::nova_fault::none, unsigned rotate = 0)
        : nova_service(tee::testing::enclave_options{
              .nitro = true, .rotate_key_after = rotate, .nova = true, .nova_misbehaviour = fault}) {}
    explicit nova_service(tee::testing::enclave_options o) : enclave(std::move(o)) {}

    tee::nitro_options trust() const {
        tee::nitro_options o;
        o.trusted_root = enclave.pki()->root_pem();
        o.expected_pcrs = tee::testing::test_pki::default_pins();
        return o;
    }
    nova_test_client client(tee::nitro_options o) {
        return nova_test_client(cfg, in_process(enclave, paths), tee::nitro_attestation(o));
    }
    nova_test_client client() { return client(trust()); }
    std::size_t count(std::string_view path) const { return std::count(paths.begin(), paths.end(), path); }
};

template <class E>
E chat_refused(tee::testing::nova_fault fault, std::string_view fragment, int chats = 1) {
    nova_service s(fault);
    auto c = s.client();
    return expect_throw<E>(
        [&] {
            for (int i = 0; i < chats; ++i) c.chat("hello");
        },
        fragment);
}

}  // namespace

TEST_CASE("nova_client chats with a simulated Nova enclave: verified, signed by the attested address") {
    nova_service s;
    auto c = s.client();
    const tee::enclave_identity id = c.attest();
    CHECK(id.verified);
    CHECK(id.kind == "nitro");
    const tee::chat_result r = c.chat("h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80");
    CHECK(r.message == "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80");
    CHECK(r.response.find(r.message) != std::string::npos);
    CHECK(r.protocol == "nova");
    CHECK(r.signer_address == nova::to_string(nova_protocol::signer_of(id)));
    CHECK(r.signature.size() == 130);
    CHECK(r.ai_model == "gpt-4");
    CHECK(s.enclave.nova()->api_key_is("sk-nova-SECRET"));
    // One attestation, the API key once, one /talk per chat.
    c.chat("again");
    CHECK(s.count("/.well-known/attestation") == 1);
    CHECK(s.count("/set-api-key") == 1);
    CHECK(s.count("/talk") == 2);
}

TEST_CASE("nova_client: the older runtime's HKDF label is a configuration, and a wrong one fails") {
    nova_service s(
        tee::testing::enclave_options{.nitro = true, .nova = true, .nova_label = "enclaver-ecdh-aes256gcm-v1"});
    s.cfg.nova_hkdf_label = tee::nova_label::enclaver;
    CHECK_NOTHROW(s.client().chat("hello"));
    s.cfg.nova_hkdf_label = tee::nova_label::capsule;
    const auto e = expect_throw<tee::service_error>([&] { s.client().attest(); }, "Decryption failed");
    CHECK(e.http_status() == 400);
}

TEST_CASE("each misbehaviour of the enclave is refused with its own type and reason") {
    using tee::testing::nova_fault;
    CHECK(chat_refused<tee::signature_error>(nova_fault::forged_signature, "Nova answer").reason() !=
          signature_reason::other);
    CHECK(chat_refused<tee::signature_error>(nova_fault::other_address, "not by the attested address").reason() ==
          signature_reason::wrong_signer);
    CHECK(chat_refused<tee::signature_error>(nova_fault::key_swap, "other than the attested one").reason() ==
          signature_reason::key_mismatch);
    CHECK(chat_refused<tee::replay_error>(nova_fault::replay, "seen before", 2).reason() == signature_reason::replayed);
    CHECK(chat_refused<tee::signature_error>(nova_fault::high_s, "above n/2").reason() == signature_reason::malleable);
    CHECK(chat_refused<tee::signature_error>(nova_fault::empty_signature, "not 65 bytes").reason() ==
          signature_reason::missing);
    CHECK(chat_refused<tee::replay_error>(nova_fault::echo_mismatch, "message differs").reason() ==
          signature_reason::echo_mismatch);
    CHECK(chat_refused<tee::replay_error>(nova_fault::model_mismatch, "ai_model differs").reason() ==
          signature_reason::echo_mismatch);
    CHECK(chat_refused<tee::replay_error>(nova_fault::platform_mismatch, "platform").reason() ==
          signature_reason::echo_mismatch);
    CHECK(chat_refused<tee::replay_error>(nova_fault::wrapped_timestamp, "away from the local clock").reason() ==
          signature_reason::time_window);
    CHECK(chat_refused<tee::replay_error>(nova_fault::stale_timestamp, "away from the local clock").reason() ==
          signature_reason::time_window);
    CHECK(chat_refused<tee::attestation_error>(nova_fault::wrong_nonce, "not the one we sent").reason() ==
          tee::attestation_reason::nonce);
    chat_refused<tee::protocol_error>(nova_fault::key_not_cached, "/set-api-key answer does not say");
}

TEST_CASE("valid forms are accepted: v as 27/28, the JSON attestation wrapper") {
    for (auto fault : {tee::testing::nova_fault::v_27, tee::testing::nova_fault::wrapper}) {
        CAPTURE(static_cast<int>(fault));
        nova_service s(fault);
        CHECK_NOTHROW(s.client().chat("hello"));
    }
}

TEST_CASE("nova_client refuses an enclave image it does not trust") {
    nova_service s;
    auto o = s.trust();
    o.expected_pcrs[0] = std::string(96, 'a');
    const auto e = expect_throw<tee::attestation_error>([&] { s.client(o).chat("hello"); }, "PCR0");
    CHECK(e.reason() == tee::attestation_reason::pcr_mismatch);
    CHECK(s.count("/set-api-key") == 0);  // the API key never went to it
}

TEST_CASE("a restarted enclave (new keys): attest again, send the API key again, retry once") {
    nova_service s(tee::testing::nova_fault::none, 1);  // a new key after every chat
    auto c = s.client();
    const auto first = c.attest();
    c.chat("one");
    const auto r = c.chat("two");  // 400 Decryption failed, then a new session
    CHECK(r.message == "two");
    CHECK(c.attest().public_key != first.public_key);
    CHECK(s.count("/.well-known/attestation") == 2);
    CHECK(s.count("/set-api-key") == 2);
    CHECK(s.count("/talk") == 3);
    nova_service t(tee::testing::nova_fault::none, 1);
    t.cfg.reattest_on_key_change = false;
    auto d = t.client();
    d.chat("one");
    expect_throw<tee::service_error>([&] { d.chat("two"); }, "Decryption failed");
}

TEST_CASE("a new session to the same key keeps remembering the answer nonces seen") {
    using session = nova_protocol::session<tee::botan_crypto>;
    session old, fresh, other;
    old.identity.public_key = fresh.identity.public_key = kat_bytes("enclave_spki");
    other.identity.public_key = kat_bytes("client_spki");
    const bytes nonce(12, 9);
    REQUIRE(old.seen.insert(nonce));
    nova_protocol::carry_over(old, fresh);
    CHECK_FALSE(fresh.seen.insert(nonce));
    nova_protocol::carry_over(old, other);  // another key: its answers are another enclave's
    CHECK(other.seen.insert(nonce));
}

TEST_CASE("nova_mock_client talks to a development enclave and says it verified nothing") {
    tee::testing::simulated_enclave enclave(tee::testing::enclave_options{.nova = true});
    std::vector<std::string> paths;
    tee::client<in_process, tee::botan_crypto, tee::mock_attestation, tee::nova_protocol> c(example_config(),
                                                                                            in_process(enclave, paths));
    const auto r = c.chat("hello");
    CHECK(r.attestation_kind == "mock");
    CHECK_FALSE(c.attest().verified);
    CHECK(r.signer_address.size() == 42);
}

TEST_CASE("a Nova receipt verifies offline, and an edited one does not") {
    nova_service s;
    s.cfg.receipts = true;
    const auto r = s.client().chat("receipt please");
    REQUIRE(r.receipt.has_value());
    const nlohmann::json& receipt = *r.receipt;
    CHECK(receipt.at("protocol") == "nova");
    CHECK(receipt.dump().find("sk-nova-SECRET") == std::string::npos);
    tee::receipt_options o;
    o.nitro = s.trust();
    const auto v = tee::verify_receipt(receipt, o);
    CHECK(v.verified);
    CHECK(v.protocol == "nova");
    CHECK(v.answer.message == "receipt please");
    CHECK(v.answer.signer_address == r.signer_address);

    auto edited = receipt;
    edited["signed_data"]["response"] = "something else";
    CHECK(expect_throw<tee::signature_error>([&] { tee::verify_receipt(edited, o); }, "differs").reason() ==
          signature_reason::invalid);
    edited = receipt;
    std::string key = edited["answer_key"];
    key[0] = key[0] == '0' ? '1' : '0';
    edited["answer_key"] = key;
    CHECK(expect_throw<tee::signature_error>([&] { tee::verify_receipt(edited, o); }, "does not open").reason() ==
          signature_reason::undecryptable);
    edited = receipt;
    edited["answer"]["data"]["nonce"] = std::string(24, '0');
    CHECK(expect_throw<tee::signature_error>([&] { tee::verify_receipt(edited, o); }, "").reason() ==
          signature_reason::wrong_signer);
    o.nitro.expected_pcrs[1] = std::string(96, 'b');
    CHECK(expect_throw<tee::attestation_error>([&] { tee::verify_receipt(receipt, o); }, "PCR1").reason() ==
          tee::attestation_reason::pcr_mismatch);
}
