// The protocol family and surviving real services: encrypted
// answers, the newer attestation endpoint, key rotation, replay and binding
// checks, per-request client keys, HTTPS options, slow servers, threads and
// chat_async.
//
// Everything runs over real HTTP(S) on 127.0.0.1:
//  * end to end: a simulated_enclave (enclave_options: encrypt_response,
//    well_known, rotate_key_after, replay, nitro) behind enclave_server;
//  * proxy_server: forwards every request to a simulated_enclave, counts and
//    records the requests, and lets a case edit an answer (so only the one
//    defect a case is about remains, and the signature stays valid);
//  * crafting_server: an enclave of this file with its own P-384 key, which
//    derives the exchange's AES key from each request and answers whatever a
//    case builds (encrypted answers with arbitrary plaintexts, old answers).
//
// Every behaviour has a passing and a failing case. Failure cases check the
// exact dynamic type of the exception (a replay_error cannot pass for a plain
// signature_error), a fragment of its message and its accessors, and that the
// message does not contain the API key (tee_test::expectations, in
// test_support.hpp). Request counts prove the client's retry rules: one
// re-attestation and one retry at most, and never a chat with an unverified
// key.
//
// The tee headers come first: they must precede <httplib.h> (see
// tee/detail/prelude.hpp).
#include "tee/tee.hpp"
#include "test_backend.hpp"
#include "tee/testing/enclave_server.hpp"
#include "tee/testing/simulated_enclave.hpp"
#include "tee/testing/test_pki.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <functional>
#include <future>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <botan/ecdh.h>
#include <botan/ecdsa.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

namespace {

using json = nlohmann::json;
using R = tee::attestation_reason;
using namespace std::chrono_literals;
using tee::testing::enclave_options;
using tee::testing::enclave_server;
using tee::testing::server_options;
using tee::testing::simulated_enclave;

constexpr std::string_view secret_key = "sk-SECRET-protocol-family-never-shown";
constexpr std::string_view prompt = "BTC price right now";
constexpr std::string_view echo = "Echo from the simulated enclave: ";

// ------------------------------------------------------------------ helpers

using tee_test::bytes_of;
using tee_test::contains;
using tee_test::now_seconds;

// Every failure case goes through it; it keeps each exception message it
// checked (checked for the key at the end too).
tee_test::expectations expect{secret_key};

tee::config make_config(std::string url) { return tee_test::make_config(std::move(url), secret_key); }

std::string fingerprint(const std::vector<std::uint8_t>& spki) { return tee::to_hex(tee::botan_crypto{}.sha256(spki)); }

std::string pem_of(const std::vector<std::uint8_t>& der) {
    const std::string b64 = tee::to_base64(der);
    std::string out = "-----BEGIN PUBLIC KEY-----\n";
    for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
    return out + "-----END PUBLIC KEY-----\n";
}

std::string point_hex_of(const std::vector<std::uint8_t>& spki) {
    auto point = tee::p384::point_of(spki);
    REQUIRE(point.size() == 97);
    return tee::to_hex(point);
}

// (Designated initializers would trip -Wmissing-field-initializers.)
enclave_options options(bool nitro = false, bool encrypt = false) {
    enclave_options o;
    o.nitro = nitro;
    o.encrypt_response = encrypt;
    return o;
}

tee::nitro_attestation trusting(const simulated_enclave& enclave) {
    REQUIRE(enclave.pki() != nullptr);
    tee::nitro_options o;
    o.trusted_root = enclave.pki()->root_pem();
    o.expected_pcrs = tee::testing::test_pki::default_pins();  // the simulated enclave's image
    return tee::nitro_attestation(o);
}

using tee_test::fake_server;

// Forwards every request to a simulated_enclave and records it (method and
// path, request body, answer body). An optional editor may change the answer
// before it is sent (it runs on the server's threads).
class proxy_server {
public:
    using editor = std::function<void(const httplib::Request&, tee::http_response&)>;
    struct exchange {
        std::string what;  // "GET /attestation", "POST /talk", ...
        std::string request, answer;
        int status;
    };

    explicit proxy_server(simulated_enclave& enclave, editor edit = {})
        : enclave_(enclave), edit_(std::move(edit)),
          server_([this](const httplib::Request& req, httplib::Response& res) { handle(req, res); }) {}

    std::string url() const { return server_.url(); }

    int count(std::string_view what) const {
        std::lock_guard lock(mu_);
        int n = 0;
        for (const auto& e : log_) n += e.what == what;
        return n;
    }
    std::vector<exchange> log(std::string_view what) const {
        std::lock_guard lock(mu_);
        std::vector<exchange> out;
        for (const auto& e : log_)
            if (e.what == what) out.push_back(e);
        return out;
    }
    std::vector<std::string> sequence() const {
        std::lock_guard lock(mu_);
        std::vector<std::string> out;
        for (const auto& e : log_) out.push_back(e.what);
        return out;
    }

private:
    void handle(const httplib::Request& req, httplib::Response& res) {
        tee::http_response a = enclave_.handle(req.method, req.path, req.body);
        if (edit_) edit_(req, a);
        {
            std::lock_guard lock(mu_);
            log_.push_back({req.method + " " + req.path, req.body, a.body, a.status});
        }
        res.status = a.status;
        res.set_content(a.body, "application/json");
    }

    simulated_enclave& enclave_;
    editor edit_;
    mutable std::mutex mu_;
    std::vector<exchange> log_;
    fake_server server_;  // last: its threads use the members above
};

// Edits a JSON answer body in place (for proxy editors).
void edit_json(tee::http_response& a, const std::function<void(json&)>& f) {
    json j = json::parse(a.body);
    f(j);
    a.body = j.dump();
}

// An enclave of this file: its own P-384 key (one scalar for ECDH and ECDSA,
// like the service), the mock attestation answer, and the exchange's AES key
// derived from a request, so that a case can build any answer, encrypted or
// not, signed as it likes.
class crafting_enclave {
public:
    crafting_enclave()
        : sign_(Botan::system_rng(), group()),
          ecdh_{tee::detail::botan::ecdh_key_of(sign_)},
          spki_(tee::p384::spki_of_point(tee::detail::botan::point_of(sign_))) {}

    const std::vector<std::uint8_t>& spki() const noexcept { return spki_; }

    std::string attestation() const {
        return json{{"attestation_doc", {{"nonce", "7465652d746c73"}, {"public_key", tee::to_hex(spki_)}}},
                    {"mock", true}}
            .dump();
    }

    std::string sign_hex(const json& data) const {
        const std::string canonical = tee::canonical_json(data);
        Botan::PK_Signer signer(sign_, Botan::system_rng(), tee::detail::botan::ecdsa_sha384, tee::detail::botan::sig_der);
        return tee::to_hex(signer.sign_message(reinterpret_cast<const std::uint8_t*>(canonical.data()),
                                               canonical.size(), Botan::system_rng()));
    }

    // The AES key of the exchange whose request carried this client key.
    std::optional<tee::secure_bytes> aes_for(const std::string& client_spki_hex) const {
        auto spki = tee::from_hex(client_spki_hex);
        if (!spki) return std::nullopt;
        tee::botan_crypto c;
        try {
            return tee::protocol::derive_key(c, ecdh_, c.load_public_key(*spki));
        } catch (const tee::error&) {
            return std::nullopt;
        }
    }

private:
    static const Botan::EC_Group& group() { return tee::detail::botan::p384(); }
    Botan::ECDSA_PrivateKey sign_;
    tee::botan_crypto::private_key ecdh_;
    std::vector<std::uint8_t> spki_;
};

// {"encrypted_data","nonce","public_key"} sealing `plaintext` with `aes`.
json seal_answer(const tee::secure_bytes& aes, std::string_view plaintext, const std::vector<std::uint8_t>& named_key) {
    tee::botan_crypto c;
    auto iv = c.random_bytes(32);
    auto ct = c.aes256gcm_seal(aes, iv, bytes_of(plaintext));
    return json{{"encrypted_data", tee::to_hex(ct)}, {"nonce", tee::to_hex(iv)}, {"public_key", tee::to_hex(named_key)}};
}

// The signed "data" of an answer to `message`, with the fields the service sends.
json answer_data(std::string_view message, std::int64_t timestamp = now_seconds()) {
    return json{{"platform", "openai"},
                {"ai_model", "gpt-4"},
                {"timestamp", timestamp},
                {"message", std::string(message)},
                {"response", "crafted answer to: " + std::string(message)}};
}

// Serves a crafting_enclave: GET /attestation is its mock answer, POST /talk
// is whatever `answer` builds from the exchange's AES key and the request.
struct crafting_server {
    using answer_fn = std::function<std::string(const tee::secure_bytes& aes, const json& request)>;
    crafting_enclave enclave;
    std::mutex mu;
    answer_fn answer;
    int talks = 0, attestations = 0;
    fake_server server{[this](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard lock(mu);
        if (req.method == "GET" && req.path == "/attestation") {
            ++attestations;
            res.set_content(enclave.attestation(), "application/json");
            return;
        }
        ++talks;
        json r = json::parse(req.body, nullptr, false);
        std::optional<tee::secure_bytes> aes;
        if (r.is_object() && r.contains("public_key") && r["public_key"].is_string())
            aes = enclave.aes_for(r["public_key"].get<std::string>());
        if (!aes || !answer) {
            res.status = 500;
            res.set_content(R"({"detail":"decryption failed"})", "application/json");
            return;
        }
        res.set_content(answer(*aes, r), "application/json");
    }};

    void set(answer_fn f) {
        std::lock_guard lock(mu);
        answer = std::move(f);
    }
    std::string url() const { return server.url(); }
    int talk_count() {
        std::lock_guard lock(mu);
        return talks;
    }
    int attestation_count() {
        std::lock_guard lock(mu);
        return attestations;
    }
};

// A temporary directory, removed with its files on destruction.
class temp_dir {
public:
    temp_dir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "tee-tls-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path_ = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
};

constexpr const char* attest_get = "GET /attestation";
constexpr const char* attest_post = "POST /.well-known/attestation";
constexpr const char* talk = "POST /talk";

}  // namespace

// ============================================================ 1. encrypted answers

TEST_CASE("encrypted answers: the simulated enclave's encrypted answers are opened and verified (mock mode)") {
    simulated_enclave enclave(options(false, true));
    proxy_server proxy(enclave);
    test_mock_client client(make_config(proxy.url()));
    for (const std::string& message : {std::string(prompt), std::string("h\xc3\xa9llo \"w\xc3\xb6rld\" \\ \n \xf0\x9f\x98\x80"),
                                      std::string()}) {
        const auto r = client.chat(message);
        CHECK(r.message == message);
        CHECK(r.response == std::string(echo) + message);
        CHECK(r.data.is_object());
        CHECK_FALSE(r.data.contains("encrypted_data"));  // the result holds the signed, decrypted object
        CHECK(r.data["message"] == message);
        CHECK(r.enclave_key_fingerprint == fingerprint(enclave.public_key()));
    }
    // the answers on the wire were encrypted: no signed field in clear
    const auto talks = proxy.log(talk);
    REQUIRE(talks.size() == 3);
    for (const auto& t : talks) {
        CAPTURE(t.answer);
        const json a = json::parse(t.answer);
        REQUIRE(a["data"].is_object());
        CHECK(a["data"].size() == 3);
        CHECK(a["data"].contains("encrypted_data"));
        CHECK(a["data"]["public_key"] == tee::to_hex(enclave.public_key()));
        CHECK_FALSE(contains(t.answer, "Echo from"));
        CHECK_FALSE(contains(t.answer, "timestamp"));
    }
}

TEST_CASE("encrypted answers: nitro mode, legacy and well-known endpoints") {
    simulated_enclave enclave(options(true, true));
    enclave_server server(enclave);
    for (auto endpoint : {tee::attestation_endpoint::legacy, tee::attestation_endpoint::well_known}) {
        auto cfg = make_config(server.url());
        cfg.endpoint = endpoint;
        test_nitro_client client(cfg, trusting(enclave));
        const auto r = client.chat(prompt);
        CHECK(r.message == prompt);
        CHECK(r.response == std::string(echo) + std::string(prompt));
        CHECK(r.attestation_kind == "nitro");
        CHECK(client.attest().verified);
        CHECK(r.enclave_key_fingerprint == fingerprint(enclave.public_key()));
    }
}

TEST_CASE("encrypted answers: a proxy edits the simulated enclave's encrypted answer") {
    simulated_enclave enclave(options(false, true));
    simulated_enclave other;  // another enclave key
    std::mutex mu;
    std::function<void(json& data)> edit;  // edits the "data" of /talk answers
    proxy_server proxy(enclave, [&](const httplib::Request& req, tee::http_response& a) {
        std::lock_guard lock(mu);
        if (req.path == "/talk" && a.status == 200 && edit) edit_json(a, [&](json& j) { edit(j["data"]); });
    });
    auto set_edit = [&](std::function<void(json&)> f) {
        std::lock_guard lock(mu);
        edit = std::move(f);
    };
    test_mock_client client(make_config(proxy.url()));
    auto chat = [&] { client.chat(prompt); };
    CHECK(client.chat(prompt).message == prompt);  // attested; control

    SUBCASE("the attested key named as a raw 97-byte point: accepted") {
        set_edit([&](json& d) { d["public_key"] = point_hex_of(enclave.public_key()); });
        CHECK(client.chat(prompt).message == prompt);
    }
    SUBCASE("extra unsigned fields beside the three: ignored") {
        set_edit([&](json& d) { d["note"] = "not signed"; });
        CHECK(client.chat(prompt).message == prompt);
    }
    SUBCASE("another enclave's key named: signature_error, one re-attestation (same key), no retry") {
        set_edit([&](json& d) { d["public_key"] = tee::to_hex(other.public_key()); });
        expect.error<tee::signature_error>(chat, "names an enclave key other than the attested one");
        CHECK(proxy.count(attest_get) == 2);
        CHECK(proxy.count(talk) == 2);  // the control chat and this one: no retry with the same key
    }
    SUBCASE("another enclave's key named as a raw point") {
        set_edit([&](json& d) { d["public_key"] = point_hex_of(other.public_key()); });
        expect.error<tee::signature_error>(chat, "names an enclave key other than the attested one");
    }
    SUBCASE("a named key that is no P-384 key") {
        set_edit([&](json& d) { d["public_key"] = "0102030405"; });
        expect.error<tee::signature_error>(chat, "names an enclave key other than the attested one");
    }
    SUBCASE("a ciphertext with one hex digit flipped does not open") {
        set_edit([&](json& d) {
            std::string ct = d["encrypted_data"];
            ct[10] = ct[10] == '0' ? '1' : '0';
            d["encrypted_data"] = ct;
        });
        expect.error<tee::signature_error>(chat, "does not decrypt with this exchange's key");
    }
    SUBCASE("a tag with one hex digit flipped does not open") {
        set_edit([&](json& d) {
            std::string ct = d["encrypted_data"];
            ct[ct.size() - 1] = ct.back() == '0' ? '1' : '0';
            d["encrypted_data"] = ct;
        });
        expect.error<tee::signature_error>(chat, "does not decrypt");
    }
    SUBCASE("another nonce does not open") {
        set_edit([&](json& d) { d["nonce"] = std::string(64, 'a'); });
        expect.error<tee::signature_error>(chat, "does not decrypt");
    }
    SUBCASE("a ciphertext shorter than the tag does not open") {
        set_edit([&](json& d) { d["encrypted_data"] = "00112233"; });
        expect.error<tee::signature_error>(chat, "does not decrypt");
    }
    SUBCASE("missing nonce: protocol_error") {
        set_edit([](json& d) { d.erase("nonce"); });
        expect.error<tee::protocol_error>(chat, "encrypted answer has no \"nonce\" string");
        CHECK(proxy.count(attest_get) == 1);  // a malformed answer is not a key change
    }
    SUBCASE("missing public_key: protocol_error") {
        set_edit([](json& d) { d.erase("public_key"); });
        expect.error<tee::protocol_error>(chat, "encrypted answer has no \"public_key\" string");
    }
    SUBCASE("encrypted_data not a string: protocol_error") {
        set_edit([](json& d) { d["encrypted_data"] = 42; });
        expect.error<tee::protocol_error>(chat, "encrypted answer has no \"encrypted_data\" string");
    }
    SUBCASE("encrypted_data not hex: protocol_error") {
        set_edit([](json& d) { d["encrypted_data"] = "zz" + d["encrypted_data"].get<std::string>().substr(2); });
        expect.error<tee::protocol_error>(chat, "encrypted answer \"encrypted_data\" is not hex");
    }
    SUBCASE("nonce of odd length: protocol_error") {
        set_edit([](json& d) { d["nonce"] = d["nonce"].get<std::string>() + "0"; });
        expect.error<tee::protocol_error>(chat, "encrypted answer \"nonce\" is not hex");
    }
    SUBCASE("public_key not hex: protocol_error") {
        set_edit([](json& d) { d["public_key"] = "-----BEGIN PUBLIC KEY-----"; });
        expect.error<tee::protocol_error>(chat, "encrypted answer \"public_key\" is not hex");
    }
    SUBCASE("empty nonce: protocol_error") {
        set_edit([](json& d) { d["nonce"] = ""; });
        expect.error<tee::protocol_error>(chat, "encrypted answer has an empty nonce");
    }
    // every case: the control chat and one more, never a retry with the same key
    CHECK(proxy.count(talk) == 2);
    CHECK(proxy.count(attest_get) <= 2);
}

TEST_CASE("encrypted answers: crafted plaintexts (the signature covers the decrypted object)") {
    crafting_server s;
    test_mock_client client(make_config(s.url()));
    auto chat = [&] { client.chat(prompt); };
    const auto& key = s.enclave.spki();

    SUBCASE("control: signed data, encrypted, any JSON form of it") {
        s.set([&](const tee::secure_bytes& aes, const json&) {
            const json data = answer_data(prompt);
            // not canonical: spaces, non-ASCII escapes; the signature is over the canonical form
            return json{{"sig", s.enclave.sign_hex(data)}, {"data", seal_answer(aes, data.dump(2), key)}}.dump();
        });
        const auto r = client.chat(prompt);
        CHECK(r.message == prompt);
        CHECK(r.response == "crafted answer to: " + std::string(prompt));
    }
    SUBCASE("the signature made over the encrypted wrapper instead: signature_error") {
        s.set([&](const tee::secure_bytes& aes, const json&) {
            const json wrapper = seal_answer(aes, answer_data(prompt).dump(), key);
            return json{{"sig", s.enclave.sign_hex(wrapper)}, {"data", wrapper}}.dump();
        });
        expect.error<tee::signature_error>(chat, "answer signature does not verify with the attested enclave key");
    }
    SUBCASE("the signature over other data: signature_error") {
        s.set([&](const tee::secure_bytes& aes, const json&) {
            json signed_data = answer_data(prompt), sent = signed_data;
            sent["response"] = "buy now!";
            return json{{"sig", s.enclave.sign_hex(signed_data)}, {"data", seal_answer(aes, sent.dump(), key)}}.dump();
        });
        expect.error<tee::signature_error>(chat, "does not verify");
    }
    SUBCASE("sealed under another exchange's key: signature_error") {
        tee::botan_crypto c;
        auto stranger = c.generate_p384();
        s.set([&](const tee::secure_bytes&, const json&) {
            auto aes = s.enclave.aes_for(tee::to_hex(c.spki_der(stranger)));
            const json data = answer_data(prompt);
            return json{{"sig", s.enclave.sign_hex(data)}, {"data", seal_answer(*aes, data.dump(), key)}}.dump();
        });
        expect.error<tee::signature_error>(chat, "does not decrypt with this exchange's key");
        CHECK(s.attestation_count() == 2);  // a possible key change: attested again, same key, no retry
        CHECK(s.talk_count() == 1);
    }
    SUBCASE("decrypted bytes are not JSON: protocol_error") {
        s.set([&](const tee::secure_bytes& aes, const json&) {
            return json{{"sig", "3000"}, {"data", seal_answer(aes, "not json {", key)}}.dump();
        });
        expect.error<tee::protocol_error>(chat, "not valid JSON");
        CHECK(s.attestation_count() == 1);
    }
    SUBCASE("decrypted JSON is an array: protocol_error") {
        s.set([&](const tee::secure_bytes& aes, const json&) {
            return json{{"sig", "3000"}, {"data", seal_answer(aes, "[1,2]", key)}}.dump();
        });
        expect.error<tee::protocol_error>(chat, "decrypted answer data is not an object");
    }
    SUBCASE("decrypted, signed data lacks a field: protocol_error") {
        s.set([&](const tee::secure_bytes& aes, const json&) {
            json data = answer_data(prompt);
            data.erase("response");
            return json{{"sig", s.enclave.sign_hex(data)}, {"data", seal_answer(aes, data.dump(), key)}}.dump();
        });
        expect.error<tee::protocol_error>(chat, "signed data has no \"response\"");
    }
    SUBCASE("decrypted, validly signed answer to another prompt: replay_error") {
        s.set([&](const tee::secure_bytes& aes, const json&) {
            const json data = answer_data("ETH price right now");
            return json{{"sig", s.enclave.sign_hex(data)}, {"data", seal_answer(aes, data.dump(), key)}}.dump();
        });
        expect.error<tee::replay_error>(chat, "signed message differs from the prompt sent");
        CHECK(s.attestation_count() == 1);  // a replay is not a key change
    }
}

// ============================================================ 2. the newer endpoint

TEST_CASE("endpoint: well_known, legacy and automatic against a service with both") {
    for (bool nitro : {false, true}) {
        CAPTURE(nitro);
        simulated_enclave enclave(options(nitro));
        proxy_server proxy(enclave);
        auto chat_with = [&](tee::attestation_endpoint e) {
            auto cfg = make_config(proxy.url());
            cfg.endpoint = e;
            tee::chat_result r;
            if (nitro) r = test_nitro_client(cfg, trusting(enclave)).chat(prompt);
            else r = test_mock_client(cfg).chat(prompt);
            CHECK(r.message == prompt);
            CHECK(r.enclave_key_fingerprint == fingerprint(enclave.public_key()));
        };
        chat_with(tee::attestation_endpoint::well_known);
        CHECK(proxy.sequence() == std::vector<std::string>{attest_post, talk});
        chat_with(tee::attestation_endpoint::automatic);
        CHECK(proxy.sequence() == std::vector<std::string>{attest_post, talk, attest_post, talk});
        chat_with(tee::attestation_endpoint::legacy);
        CHECK(proxy.sequence() == std::vector<std::string>{attest_post, talk, attest_post, talk, attest_get, talk});
    }
    CHECK(tee::config{}.endpoint == tee::attestation_endpoint::legacy);  // the default
}

TEST_CASE("endpoint: an old service without the well-known endpoint") {
    enclave_options o;
    o.well_known = false;
    simulated_enclave enclave(o);
    proxy_server proxy(enclave);
    auto cfg = make_config(proxy.url());

    SUBCASE("automatic falls back to GET /attestation and works") {
        cfg.endpoint = tee::attestation_endpoint::automatic;
        test_mock_client client(cfg);
        CHECK(client.chat(prompt).message == prompt);
        CHECK(client.chat(prompt).message == prompt);
        CHECK(proxy.sequence() == std::vector<std::string>{attest_post, attest_get, talk, talk});
    }
    SUBCASE("well_known: service_error 404, no fallback, no chat") {
        cfg.endpoint = tee::attestation_endpoint::well_known;
        test_mock_client client(cfg);
        auto e = expect.service_error([&] { client.chat(prompt); }, 404, "Not Found");
        CHECK(contains(e.what(), "HTTP 404"));
        CHECK(proxy.sequence() == std::vector<std::string>{attest_post});
    }
}

TEST_CASE("endpoint: automatic falls back on 405 but not on other failures") {
    simulated_enclave enclave;
    std::atomic<int> status{405};
    proxy_server proxy(enclave, [&](const httplib::Request& req, tee::http_response& a) {
        if (req.path == "/.well-known/attestation") a = {status.load(), R"({"detail":"Method Not Allowed"})"};
    });
    auto cfg = make_config(proxy.url());
    cfg.endpoint = tee::attestation_endpoint::automatic;
    SUBCASE("405: fallback") {
        test_mock_client client(cfg);
        CHECK(client.chat(prompt).message == prompt);
        CHECK(proxy.sequence() == std::vector<std::string>{attest_post, attest_get, talk});
    }
    SUBCASE("500: service_error, no fallback") {
        status = 500;
        test_mock_client client(cfg);
        expect.service_error([&] { client.chat(prompt); }, 500, "Method Not Allowed");
        CHECK(proxy.sequence() == std::vector<std::string>{attest_post});
    }
}

TEST_CASE("endpoint: the advertised public_key of the well-known answer") {
    for (bool nitro : {false, true}) {
        CAPTURE(nitro);
        simulated_enclave enclave(options(nitro));
        simulated_enclave other;
        std::mutex mu;
        std::function<void(json&)> edit;
        proxy_server proxy(enclave, [&](const httplib::Request& req, tee::http_response& a) {
            std::lock_guard lock(mu);
            if (req.path == "/.well-known/attestation" && edit) edit_json(a, edit);
        });
        auto set_edit = [&](std::function<void(json&)> f) {
            std::lock_guard lock(mu);
            edit = std::move(f);
        };
        auto cfg = make_config(proxy.url());
        cfg.endpoint = tee::attestation_endpoint::well_known;
        auto attest = [&] {
            if (nitro) return test_nitro_client(cfg, trusting(enclave)).attest();
            return test_mock_client(cfg).attest();
        };
        auto chat = [&] {
            if (nitro) return test_nitro_client(cfg, trusting(enclave)).chat(prompt);
            return test_mock_client(cfg).chat(prompt);
        };
        const auto attested_fp = fingerprint(enclave.public_key());

        // accepted: hex DER (what the simulator sends), PEM, PEM with CRLF, raw point hex
        CHECK(chat().enclave_key_fingerprint == attested_fp);
        set_edit([&](json& j) { j["public_key"] = pem_of(enclave.public_key()); });
        CHECK(chat().enclave_key_fingerprint == attested_fp);
        set_edit([&](json& j) {
            std::string pem = pem_of(enclave.public_key()), crlf;
            for (char c : pem) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
            j["public_key"] = crlf;
        });
        CHECK(chat().enclave_key_fingerprint == attested_fp);
        set_edit([&](json& j) { j["public_key"] = point_hex_of(enclave.public_key()); });
        CHECK(chat().enclave_key_fingerprint == attested_fp);
        const int talks_before = proxy.count(talk);
        CHECK(talks_before == 4);

        // refused before any chat
        set_edit([&](json& j) { j["public_key"] = tee::to_hex(other.public_key()); });
        expect.attestation_error(attest, R::key_binding, "advertised public_key differs from the attested one");
        set_edit([&](json& j) { j["public_key"] = pem_of(other.public_key()); });
        expect.attestation_error(attest, R::key_binding, "advertised public_key differs from the attested one");
        set_edit([&](json& j) { j["public_key"] = point_hex_of(other.public_key()); });
        expect.attestation_error(chat, R::key_binding, "advertised public_key differs from the attested one");
        set_edit([](json& j) { j.erase("public_key"); });
        expect.attestation_error(chat, R::malformed, "well-known attestation answer has no public_key string");
        set_edit([](json& j) { j["public_key"] = nullptr; });
        expect.attestation_error(attest, R::malformed, "well-known attestation answer has no public_key string");
        set_edit([](json& j) { j["public_key"] = "not a key"; });
        expect.attestation_error(attest, R::malformed, "advertised public_key is not a P-384 key");
        set_edit([](json& j) { j["public_key"] = "-----BEGIN PUBLIC KEY-----\nAAAA\n"; });  // no END line
        expect.attestation_error(attest, R::malformed, "advertised public_key is not a P-384 key");
        CHECK(proxy.count(talk) == talks_before);

        // the legacy endpoint has no advertised key: nothing to compare
        set_edit({});
        cfg.endpoint = tee::attestation_endpoint::legacy;
        CHECK(chat().enclave_key_fingerprint == attested_fp);
    }
}

// ============================================================ 3. key rotation

TEST_CASE("key rotation: a restarted enclave is attested again and the chat retried once") {
    for (bool nitro : {false, true}) {
        CAPTURE(nitro);
        simulated_enclave enclave(options(nitro));
        proxy_server proxy(enclave);
        auto cfg = make_config(proxy.url());

        SUBCASE("rotate_key() between two chats") {
            auto run = [&](auto& client) {
                const auto first = client.chat(prompt);
                const auto old_fp = client.attest().key_fingerprint;
                CHECK(first.enclave_key_fingerprint == old_fp);
                enclave.rotate_key();
                const auto second = client.chat("and ETH?");
                CHECK(second.message == "and ETH?");
                CHECK(client.attest().key_fingerprint == fingerprint(enclave.public_key()));
                CHECK(client.attest().key_fingerprint != old_fp);
                CHECK(second.enclave_key_fingerprint == client.attest().key_fingerprint);
                CHECK(client.attest().verified == nitro);
                // GET, talk, talk (500), GET, talk (the retry)
                CHECK(proxy.sequence() == std::vector<std::string>{attest_get, talk, talk, attest_get, talk});
                const auto talks = proxy.log(talk);
                CHECK(talks[1].status == 500);
                CHECK(talks[2].status == 200);
                // the retry is a new request (new nonce) to the new key
                CHECK(json::parse(talks[1].request)["nonce"] != json::parse(talks[2].request)["nonce"]);
            };
            if (nitro) {
                test_nitro_client client(cfg, trusting(enclave));
                run(client);
            } else {
                test_mock_client client(cfg);
                run(client);
            }
        }
        SUBCASE("reattest_on_key_change = false: the second chat is service_error 500") {
            cfg.reattest_on_key_change = false;
            auto run = [&](auto& client) {
                CHECK(client.chat(prompt).message == prompt);
                const auto old_fp = client.attest().key_fingerprint;
                enclave.rotate_key();
                auto e = expect.service_error([&] { client.chat(prompt); }, 500, "decryption failed");
                CHECK(contains(e.what(), "HTTP 500"));
                CHECK(client.attest().key_fingerprint == old_fp);
                CHECK(proxy.sequence() == std::vector<std::string>{attest_get, talk, talk});
            };
            if (nitro) {
                test_nitro_client client(cfg, trusting(enclave));
                run(client);
            } else {
                test_mock_client client(cfg);
                run(client);
            }
        }
    }
}

TEST_CASE("key rotation: enclave_options.rotate_key_after = 1 (a new key after every chat)") {
    enclave_options o = options(false, true);  // and encrypted answers
    o.rotate_key_after = 1;
    simulated_enclave enclave(o);
    proxy_server proxy(enclave);
    auto cfg = make_config(proxy.url());

    SUBCASE("every chat after the first re-attests once and succeeds") {
        test_mock_client client(cfg);
        std::vector<std::string> fps;
        for (int i = 0; i < 4; ++i) {
            const std::string message = "chat " + std::to_string(i);
            const auto r = client.chat(message);
            CHECK(r.message == message);
            fps.push_back(r.enclave_key_fingerprint);
            if (i > 0) CHECK(fps[i] != fps[i - 1]);
        }
        CHECK(proxy.count(attest_get) == 4);
        CHECK(proxy.count(talk) == 7);  // 1 + 3 x (500 + retry)
    }
    SUBCASE("without re-attestation the second chat fails") {
        cfg.reattest_on_key_change = false;
        test_mock_client client(cfg);
        CHECK(client.chat(prompt).message == prompt);
        expect.service_error([&] { client.chat(prompt); }, 500, "decryption failed");
        CHECK(proxy.count(attest_get) == 1);
    }
}

TEST_CASE("key rotation: the retry happens at most once") {
    SUBCASE("a service that changes its key on every request, attestation included") {
        simulated_enclave enclave;
        proxy_server proxy(enclave, [&](const httplib::Request&, tee::http_response&) { enclave.rotate_key(); });
        test_mock_client client(make_config(proxy.url()));
        expect.service_error([&] { client.chat(prompt); }, 500, "decryption failed");
        CHECK(proxy.sequence() == std::vector<std::string>{attest_get, talk, attest_get, talk});
    }
    SUBCASE("a service that answers 500 with an unchanged key: attested again, then no retry") {
        simulated_enclave enclave;
        proxy_server proxy(enclave, [&](const httplib::Request& req, tee::http_response& a) {
            if (req.path == "/talk") a = {500, R"({"detail":"internal error"})"};
        });
        test_mock_client client(make_config(proxy.url()));
        expect.service_error([&] { client.chat(prompt); }, 500, "internal error");
        CHECK(proxy.sequence() == std::vector<std::string>{attest_get, talk, attest_get});
    }
    SUBCASE("other refusals are not a key change: no re-attestation") {
        simulated_enclave enclave;
        std::atomic<int> status{502};
        proxy_server proxy(enclave, [&](const httplib::Request& req, tee::http_response& a) {
            if (req.path == "/talk") a = {status.load(), R"({"detail":"bad gateway"})"};
        });
        test_mock_client client(make_config(proxy.url()));
        expect.service_error([&] { client.chat(prompt); }, 502, "bad gateway");
        status = 422;
        expect.service_error([&] { client.chat(prompt); }, 422, "bad gateway");
        CHECK(proxy.sequence() == std::vector<std::string>{attest_get, talk, talk});
    }
}

TEST_CASE("key rotation (nitro): the new key is verified before any chat uses it") {
    simulated_enclave enclave(options(true));
    tee::testing::test_pki untrusted;  // a chain the client does not trust
    std::atomic<int> attestations{0};
    std::atomic<bool> forge{false};
    proxy_server proxy(enclave, [&](const httplib::Request& req, tee::http_response& a) {
        if (req.path != "/attestation") return;
        ++attestations;
        if (!forge) return;
        // the restarted enclave's key, in a document signed by an untrusted chain
        auto doc = untrusted.attestation_document(enclave.public_key(), {'t', 'e', 'e'}, {}, "i-untrusted-enclave");
        a.body = json{{"attestation_doc", tee::to_base64(doc)}}.dump();
    });
    test_nitro_client client(make_config(proxy.url()), trusting(enclave));
    CHECK(client.chat(prompt).message == prompt);
    const auto old_fp = client.attest().key_fingerprint;

    SUBCASE("untrusted document for the new key: attestation_error, no chat sent with it") {
        forge = true;
        enclave.rotate_key();
        expect.attestation_error([&] { client.chat(prompt); }, R::chain, "certificate chain does not verify");
        CHECK(proxy.sequence() == std::vector<std::string>{attest_get, talk, talk, attest_get});
        CHECK(proxy.log(talk)[1].status == 500);  // the one chat that failed was to the old key
        CHECK(client.attest().key_fingerprint == old_fp);  // the session is unchanged
        // and again: still nothing sent to the unverified key
        expect.attestation_error([&] { client.chat(prompt); }, R::chain, "certificate chain does not verify");
        CHECK(proxy.count(talk) == 3);
        CHECK(proxy.count(attest_get) == 3);
    }
    SUBCASE("control: a trusted document for the new key is accepted") {
        enclave.rotate_key();
        const auto r = client.chat(prompt);
        CHECK(r.message == prompt);
        CHECK(client.attest().verified);
        CHECK(client.attest().key_fingerprint == fingerprint(enclave.public_key()));
        CHECK(client.attest().key_fingerprint != old_fp);
        CHECK(attestations == 2);
    }
}

TEST_CASE("key rotation: 8 threads chatting through a restart attest again exactly once") {
    simulated_enclave enclave;
    proxy_server proxy(enclave);
    test_mock_client client(make_config(proxy.url()));
    constexpr int threads = 8, per_thread = 25;
    std::atomic<int> done{0}, wrong{0};
    std::mutex err_mu;
    std::vector<std::string> errors;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                const std::string message = "rotation t" + std::to_string(t) + " i" + std::to_string(i);
                try {
                    if (client.chat(message).message != message) ++wrong;
                } catch (const std::exception& e) {
                    std::lock_guard lock(err_mu);
                    errors.push_back(e.what());
                }
                ++done;
            }
        });
    while (done < 50) std::this_thread::sleep_for(1ms);
    enclave.rotate_key();
    for (auto& th : pool) th.join();
    CHECK(errors.empty());
    if (!errors.empty()) MESSAGE("first error: " << errors.front());
    CHECK(wrong == 0);
    CHECK(proxy.count(attest_get) == 2);
    CHECK(client.attest().key_fingerprint == fingerprint(enclave.public_key()));
}

// ============================================================ 4. replay and binding

TEST_CASE("replay: a service that always sends its first answer") {
    enclave_options o;
    o.replay = true;
    simulated_enclave enclave(o);
    proxy_server proxy(enclave);
    auto cfg = make_config(proxy.url());

    SUBCASE("the second chat (another prompt) is replay_error, and not a key change") {
        test_mock_client client(cfg);
        CHECK(client.chat(prompt).message == prompt);
        auto e = expect.error<tee::replay_error>([&] { client.chat("ETH price right now"); },
                                                 "signed message differs from the prompt sent");
        CHECK(e.kind() == tee::error_kind::signature);  // a replay_error is a signature failure
        CHECK(proxy.sequence() == std::vector<std::string>{attest_get, talk, talk});
    }
    SUBCASE("accept_any_answer_time relaxes the clock, never the message") {
        cfg.accept_any_answer_time = true;
        test_mock_client client(cfg);
        CHECK(client.chat(prompt).message == prompt);
        expect.error<tee::replay_error>([&] { client.chat("ETH price right now"); }, "signed message differs");
    }
    SUBCASE("the same prompt again: accepted within the window, replay_error once it is older") {
        // The signed timestamp is in whole seconds (rounded down), so a fresh
        // answer can be up to 1 s plus the chat's own time old: a 1 s window
        // would fail the first chat now and then under ASan on a busy machine.
        cfg.answer_time_window = 2s;
        test_mock_client client(cfg);
        const auto first = client.chat(prompt);
        std::this_thread::sleep_for(3100ms);  // the signed timestamp is now > 3 s old
        auto e = expect.error<tee::replay_error>([&] { client.chat(prompt); }, "s away from the local clock (window 2 s)");
        CHECK(contains(e.what(), "replayed answer"));
        // the very same answer bytes came back
        const auto talks = proxy.log(talk);
        REQUIRE(talks.size() == 2);
        CHECK(talks[0].answer == talks[1].answer);
        CHECK(first.message == prompt);
    }
}

TEST_CASE("replay: crafted old and misrouted answers") {
    crafting_server s;
    auto cfg = make_config(s.url());
    auto plain = [&](json data) {
        s.set([&s, data](const tee::secure_bytes&, const json&) {
            return json{{"sig", s.enclave.sign_hex(data)}, {"data", data}}.dump();
        });
    };

    SUBCASE("an answer to this prompt signed 10 minutes ago: replay_error by default") {
        plain(answer_data(prompt, now_seconds() - 600));
        test_mock_client client(cfg);
        expect.error<tee::replay_error>([&] { client.chat(prompt); }, "away from the local clock (window 300 s)");
        CHECK(s.attestation_count() == 1);
    }
    SUBCASE("the same answer with accept_any_answer_time = true: accepted") {
        plain(answer_data(prompt, now_seconds() - 600));
        cfg.accept_any_answer_time = true;
        test_mock_client client(cfg);
        CHECK(client.chat(prompt).timestamp <= now_seconds() - 590);
    }
    SUBCASE("an old answer to another prompt with accept_any_answer_time = true: still replay_error") {
        plain(answer_data("ETH price right now", now_seconds() - 600));
        cfg.accept_any_answer_time = true;
        test_mock_client client(cfg);
        expect.error<tee::replay_error>([&] { client.chat(prompt); }, "signed message differs");
    }
    SUBCASE("a small window: 10 s old is too old, 0 s old is fine") {
        cfg.answer_time_window = 5s;
        test_mock_client client(cfg);
        plain(answer_data(prompt, now_seconds() - 10));
        expect.error<tee::replay_error>([&] { client.chat(prompt); }, "(window 5 s)");
        plain(answer_data(prompt));
        CHECK(client.chat(prompt).message == prompt);
    }
    SUBCASE("an encrypted old answer: the checks apply after decryption too") {
        s.set([&](const tee::secure_bytes& aes, const json&) {
            const json data = answer_data(prompt, now_seconds() - 3600);
            return json{{"sig", s.enclave.sign_hex(data)}, {"data", seal_answer(aes, data.dump(), s.enclave.spki())}}
                .dump();
        });
        test_mock_client client(cfg);
        expect.error<tee::replay_error>([&] { client.chat(prompt); }, "away from the local clock");
    }
}

// ============================================================ 5. per-request keys

TEST_CASE("client keys: one key per client by default, a fresh key per chat with per_request") {
    simulated_enclave enclave(options(false, true));  // encrypted answers: opened with each chat's own key
    proxy_server proxy(enclave);
    auto keys_sent = [&] {
        std::vector<std::string> out;
        for (const auto& t : proxy.log(talk)) out.push_back(json::parse(t.request)["public_key"]);
        return out;
    };
    const std::string spki_prefix = "3076301006072a8648ce3d020106052b8104002203620004";

    SUBCASE("per_client (default): the same key twice, the client's own") {
        auto cfg = make_config(proxy.url());
        CHECK(cfg.client_keys == tee::client_key_mode::per_client);
        test_mock_client client(cfg);
        CHECK(client.chat(prompt).message == prompt);
        CHECK(client.chat("and ETH?").message == "and ETH?");
        const auto keys = keys_sent();
        REQUIRE(keys.size() == 2);
        CHECK(keys[0] == keys[1]);
        CHECK(keys[0] == client.client_public_key_hex());
    }
    SUBCASE("per_request: different keys, none the client's long-term one, all verified") {
        auto cfg = make_config(proxy.url());
        cfg.client_keys = tee::client_key_mode::per_request;
        test_mock_client client(cfg);
        for (int i = 0; i < 3; ++i) {
            const std::string message = "per request " + std::to_string(i);
            const auto r = client.chat(message);
            CHECK(r.message == message);
            CHECK(r.enclave_key_fingerprint == fingerprint(enclave.public_key()));
        }
        const auto keys = keys_sent();
        REQUIRE(keys.size() == 3);
        CHECK(keys[0] != keys[1]);
        CHECK(keys[1] != keys[2]);
        CHECK(keys[0] != keys[2]);
        for (const auto& k : keys) {
            CHECK(k.size() == 240);
            CHECK(k.rfind(spki_prefix, 0) == 0);
            CHECK(k != client.client_public_key_hex());
        }
        CHECK(proxy.count(attest_get) == 1);  // one attestation still
    }
}

TEST_CASE("client keys: a replayed encrypted answer cannot be opened by a later per_request exchange") {
    enclave_options o = options(false, true);
    o.replay = true;
    simulated_enclave enclave(o);
    proxy_server proxy(enclave);
    auto cfg = make_config(proxy.url());

    SUBCASE("per_client: the same prompt within the window opens and verifies (the window is the limit)") {
        test_mock_client client(cfg);
        CHECK(client.chat(prompt).message == prompt);
        CHECK(client.chat(prompt).message == prompt);
    }
    SUBCASE("per_request: signature_error, the answer is sealed to the first chat's key") {
        cfg.client_keys = tee::client_key_mode::per_request;
        test_mock_client client(cfg);
        CHECK(client.chat(prompt).message == prompt);
        expect.error<tee::signature_error>([&] { client.chat(prompt); }, "does not decrypt with this exchange's key");
        CHECK(proxy.sequence() == std::vector<std::string>{attest_get, talk, talk, attest_get});
    }
}

// ============================================================ 6. HTTPS

// The default transport for cfg with its TLS settings (tee::httplib_options).
tee::httplib_transport tls_transport(const tee::config& cfg, std::string ca_file, std::string pin = "") {
    tee::httplib_options o(test_mock_client::transport_options_for(cfg));
    o.ca_file = std::move(ca_file);
    o.pinned_spki_sha256 = std::move(pin);
    return tee::httplib_transport(o);
}

TEST_CASE("https: test CA, pinning, and what is refused") {
    temp_dir dir;
    tee::testing::tls_test_pki pki(dir.path());
    simulated_enclave enclave;
    server_options so;
    so.tls_cert_file = pki.cert_file();
    so.tls_key_file = pki.key_file();
    enclave_server server(enclave, so);
    REQUIRE(server.url().rfind("https://127.0.0.1:", 0) == 0);
    auto cfg = make_config(server.url());
    cfg.transport.connect_timeout = 5s;
    cfg.transport.read_timeout = 5s;

    SUBCASE("ca_file = the test CA: works") {
        test_mock_client client(cfg, tls_transport(cfg, pki.ca_file()));
        CHECK(client.chat(prompt).message == prompt);
        CHECK(client.chat("again").message == "again");
    }
    SUBCASE("ca_file and the right pin: works (nitro mode and encrypted answers too)") {
        simulated_enclave nitro(options(true, true));
        enclave_server nitro_server(nitro, so);
        auto c2 = make_config(nitro_server.url());
        c2.endpoint = tee::attestation_endpoint::well_known;
        test_nitro_client client(c2, tls_transport(c2, pki.ca_file(), pki.server_spki_sha256()), trusting(nitro));
        CHECK(client.chat(prompt).message == prompt);
        CHECK(client.attest().verified);
    }
    SUBCASE("the pin in upper case hex is the same pin") {
        std::string upper = pki.server_spki_sha256();
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        test_mock_client client(cfg, tls_transport(cfg, pki.ca_file(), upper));
        CHECK(client.chat(prompt).message == prompt);
    }
    SUBCASE("a wrong pin: transport_error tls, before any request") {
        std::string wrong = pki.server_spki_sha256();
        wrong[0] = wrong[0] == '0' ? '1' : '0';
        test_mock_client client(cfg, tls_transport(cfg, pki.ca_file(), wrong));
        expect.transport_error([&] { client.chat(prompt); }, tee::transport_cause::tls,
                               "or its key is not the pinned one");
    }
    SUBCASE("no ca_file: the system store does not know the test CA") {
        test_mock_client client(cfg);
        auto e = expect.transport_error([&] { client.chat(prompt); }, tee::transport_cause::tls,
                                        "/attestation: server certificate did not verify");
        CHECK_FALSE(contains(e.what(), "pinned"));
    }
    SUBCASE("the right pin does not replace CA verification") {
        test_mock_client client(cfg, tls_transport(cfg, "", pki.server_spki_sha256()));
        expect.transport_error([&] { client.chat(prompt); }, tee::transport_cause::tls,
                               "server certificate did not verify");
    }
    SUBCASE("a CA file that does not exist") {
        test_mock_client client(cfg, tls_transport(cfg, dir.path() + "/missing.pem"));
        expect.transport_error([&] { client.chat(prompt); }, tee::transport_cause::tls,
                               "could not load the CA certificates");
    }
    SUBCASE("a pin with an http:// URL: config_error at construction") {
        auto c2 = make_config("http://127.0.0.1:1");
        expect.error<tee::config_error>([&] { tls_transport(c2, "", pki.server_spki_sha256()); },
                                        "needs an https:// URL");
        expect.error<tee::config_error>([&] { tls_transport(c2, pki.ca_file()); }, "needs an https:// URL");
    }
    SUBCASE("a pin that is not 64 hex digits: config_error at construction") {
        for (const std::string& bad : {std::string(64, 'z'), pki.server_spki_sha256().substr(0, 62),
                                pki.server_spki_sha256() + "00", std::string("sha256/abc=")}) {
            CAPTURE(bad);
            expect.error<tee::config_error>([&] { tls_transport(cfg, "", bad); }, "64 hex digits");
        }
    }
    SUBCASE("https:// to a plain-http server: transport_error") {
        enclave_server plain(enclave);
        auto c2 = make_config("https://127.0.0.1:" + std::to_string(plain.port()));
        c2.transport.read_timeout = 2s;
        test_mock_client client(c2, tls_transport(c2, pki.ca_file()));
        expect.transport_error([&] { client.chat(prompt); }, tee::transport_cause::tls, "TLS handshake failed");
    }
}

TEST_CASE("https: every connection of the transport's pool checks the CA and the pin") {
    temp_dir dir;
    tee::testing::tls_test_pki pki(dir.path());
    simulated_enclave enclave;
    server_options so;
    so.tls_cert_file = pki.cert_file();
    so.tls_key_file = pki.key_file();
    so.delay = 200ms;  // requests overlap, so the pool opens more connections
    enclave_server server(enclave, so);
    tee::httplib_options o;
    o.base_url = server.url();
    o.ca_file = pki.ca_file();
    o.connect_timeout = 5s;
    o.read_timeout = 5s;
    // 4 threads released at once, 3 requests each; returns the answers' statuses
    // (0: transport_error, whose cause goes to `causes`).
    auto hammer = [](tee::httplib_transport& t, std::vector<tee::transport_cause>& causes) {
        std::mutex m;
        std::vector<int> statuses;
        std::latch go(4);
        std::vector<std::thread> threads;
        for (int i = 0; i < 4; ++i)
            threads.emplace_back([&] {
                go.arrive_and_wait();
                for (int k = 0; k < 3; ++k) {
                    int status = 0;
                    try {
                        status = t.get("/attestation").status;
                    } catch (const tee::transport_error& e) {
                        std::lock_guard lock(m);
                        causes.push_back(e.cause());
                    }
                    std::lock_guard lock(m);
                    statuses.push_back(status);
                }
            });
        for (auto& th : threads) th.join();
        return statuses;
    };

    SUBCASE("the right pin: every request answered, on several connections") {
        o.pinned_spki_sha256 = pki.server_spki_sha256();
        tee::httplib_transport t(o);
        std::vector<tee::transport_cause> causes;
        for (int s : hammer(t, causes)) CHECK(s == 200);
        CHECK(causes.empty());
        CHECK(t.open_connections() >= 2);
    }
    SUBCASE("a wrong pin: every request on every connection refused as tls") {
        std::string wrong = pki.server_spki_sha256();
        wrong[0] = wrong[0] == '0' ? '1' : '0';
        o.pinned_spki_sha256 = wrong;
        tee::httplib_transport t(o);
        std::vector<tee::transport_cause> causes;
        for (int s : hammer(t, causes)) CHECK(s == 0);
        REQUIRE(causes.size() == 12);
        for (auto c : causes) CHECK(c == tee::transport_cause::tls);
        CHECK(t.open_connections() >= 2);
    }
    SUBCASE("no CA file: the system store does not know the test CA, on any connection") {
        o.ca_file.clear();
        tee::httplib_transport t(o);
        std::vector<tee::transport_cause> causes;
        for (int s : hammer(t, causes)) CHECK(s == 0);
        REQUIRE(causes.size() == 12);
        for (auto c : causes) CHECK(c == tee::transport_cause::tls);
    }
}

// ============================================================ 7. slow server

TEST_CASE("slow server: server_options.delay 1500 ms") {
    simulated_enclave enclave;
    server_options so;
    so.delay = 1500ms;
    enclave_server server(enclave, so);

    SUBCASE("read_timeout 500 ms: transport_error timeout, fast") {
        auto cfg = make_config(server.url());
        cfg.transport.read_timeout = 500ms;
        test_mock_client client(cfg);
        const auto start = std::chrono::steady_clock::now();
        expect.transport_error([&] { client.chat(prompt); }, tee::transport_cause::timeout, "no answer within 0.5 s");
        const auto elapsed = std::chrono::steady_clock::now() - start;
        CHECK(elapsed >= 450ms);
        CHECK(elapsed < 1400ms);
    }
    SUBCASE("read_timeout 5 s: works") {
        auto cfg = make_config(server.url());
        cfg.transport.read_timeout = 5s;
        test_mock_client client(cfg);
        const auto start = std::chrono::steady_clock::now();
        CHECK(client.chat(prompt).message == prompt);
        CHECK(std::chrono::steady_clock::now() - start >= 2900ms);  // two answers, each delayed
    }
}

// ============================================================ 8. threads

TEST_CASE("threads: one client, 8 threads x 200 chats, every answer verified and matched to its prompt") {
    simulated_enclave enclave;
    enclave_server server(enclave);
    test_mock_client client(make_config(server.url()));
    constexpr int threads = 8, per_thread = 200;
    const std::string expected_fp = fingerprint(enclave.public_key());
    std::atomic<int> ok{0}, mismatched{0};
    std::mutex err_mu;
    std::vector<std::string> errors;
    std::latch start(threads);
    const auto t0 = std::chrono::steady_clock::now();
    {
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t)
            pool.emplace_back([&, t] {
                start.arrive_and_wait();  // the first chats (and the attestation) race
                for (int i = 0; i < per_thread; ++i) {
                    const std::string message = "thread " + std::to_string(t) + " chat " + std::to_string(i) + " \xe2\x82\xac";
                    try {
                        const auto r = client.chat(message);
                        if (r.message == message && r.response == std::string(echo) + message &&
                            r.data["message"] == message && r.enclave_key_fingerprint == expected_fp &&
                            !r.signature.empty())
                            ++ok;
                        else
                            ++mismatched;
                    } catch (const std::exception& e) {
                        std::lock_guard lock(err_mu);
                        errors.push_back(e.what());
                    }
                }
            });
        for (auto& th : pool) th.join();
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    MESSAGE("8 x 200 chats on one client: " << ms.count() << " ms");
    CHECK(errors.empty());
    if (!errors.empty()) MESSAGE("first of " << errors.size() << " errors: " << errors.front());
    CHECK(mismatched == 0);
    CHECK(ok == threads * per_thread);
}

TEST_CASE("threads: the first use from 8 threads at once attests exactly once") {
    simulated_enclave enclave;
    proxy_server proxy(enclave);
    test_mock_client client(make_config(proxy.url()));
    std::latch start(8);
    std::atomic<int> ok{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < 8; ++t)
        pool.emplace_back([&, t] {
            start.arrive_and_wait();
            const std::string message = "first " + std::to_string(t);
            try {
                ok += client.chat(message).message == message;
            } catch (const std::exception&) {
            }
        });
    for (auto& th : pool) th.join();
    CHECK(ok == 8);
    CHECK(proxy.count(attest_get) == 1);
    CHECK(proxy.count(talk) == 8);
}

TEST_CASE("threads: a replaying service under load: every misrouted answer is caught") {
    enclave_options o;
    o.replay = true;
    simulated_enclave enclave(o);
    enclave_server server(enclave);
    test_mock_client client(make_config(server.url()));
    CHECK(client.chat("the first prompt").message == "the first prompt");
    std::atomic<int> accepted{0}, replays{0}, other{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < 8; ++t)
        pool.emplace_back([&, t] {
            for (int i = 0; i < 20; ++i) {
                try {
                    client.chat("replay t" + std::to_string(t) + " i" + std::to_string(i));
                    ++accepted;
                } catch (const tee::replay_error&) {
                    ++replays;
                } catch (...) {
                    ++other;
                }
            }
        });
    for (auto& th : pool) th.join();
    CHECK(accepted == 0);
    CHECK(replays == 160);
    CHECK(other == 0);
}

TEST_CASE("chat_async: 16 chats in flight on one client") {
    simulated_enclave enclave(options(false, true));
    enclave_server server(enclave);
    test_mock_client client(make_config(server.url()));
    std::vector<std::pair<std::string, std::future<tee::chat_result>>> inflight;
    for (int i = 0; i < 16; ++i) {
        std::string message = "async " + std::to_string(i);
        auto fut = client.chat_async(message);
        inflight.emplace_back(std::move(message), std::move(fut));
    }
    for (auto& [message, fut] : inflight) {
        REQUIRE(fut.wait_for(30s) == std::future_status::ready);
        const auto r = fut.get();
        CHECK(r.message == message);
        CHECK(r.response == std::string(echo) + message);
    }

    SUBCASE("a failure arrives through the future with its exact type") {
        auto cfg = make_config(server.url());
        cfg.platform = "skynet";
        test_mock_client refused(cfg);
        auto fut = refused.chat_async(std::string(prompt));
        expect.service_error([&] { fut.get(); }, 200, "invalid platform");
    }
    SUBCASE("a transport failure too") {
        simulated_enclave slow_enclave;
        server_options so;
        so.delay = 800ms;
        enclave_server slow(slow_enclave, so);
        auto cfg = make_config(slow.url());
        cfg.transport.read_timeout = 200ms;
        test_mock_client c(cfg);
        std::vector<std::future<tee::chat_result>> futs;
        for (int i = 0; i < 4; ++i) futs.push_back(c.chat_async("slow " + std::to_string(i)));
        for (auto& f : futs) expect.transport_error([&] { f.get(); }, tee::transport_cause::timeout, "no answer within 0.2 s");
    }
}

// ================================================================== secrets

TEST_CASE("secrets: no exception message of this suite contains the API key") {
    MESSAGE("exception messages checked: " << expect.messages_seen().size());
    CHECK(expect.messages_seen().size() > 50);
    for (const auto& m : expect.messages_seen()) {
        CAPTURE(m);
        CHECK_FALSE(contains(m, secret_key));
        CHECK_FALSE(contains(m, "SECRET"));
    }
}
