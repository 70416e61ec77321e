// What the end-to-end suites share (test_encrypted_answers.cpp,
// test_attestation_endpoints.cpp, test_key_rotation.cpp, test_replay.cpp,
// test_transport_settings.cpp, test_concurrency.cpp): they run over real
// HTTP(S) on 127.0.0.1, against
//  * a simulated_enclave (enclave_options: encrypt_response, well_known,
//    rotate_key_after, replay, nitro) behind enclave_server;
//  * proxy_server: forwards every request to a simulated_enclave, counts and
//    records the requests, and lets a case edit an answer (so only the one
//    defect a case is about remains, and the signature stays valid);
//  * crafting_server: an enclave with its own P-384 key, which derives the
//    exchange's AES key from each request and answers whatever a case builds
//    (encrypted answers with arbitrary plaintexts, old answers).
//
// Every behaviour has a passing and a failing case. Failure cases check the
// exact dynamic type of the exception (a replay_error cannot pass for a plain
// signature_error), a fragment of its message and its accessors, and that the
// message does not contain the API key (tee_test::expectations, in
// test_support.hpp); each suite ends with no_message_holds_the_key. Request
// counts prove the client's retry rules: one re-attestation and one retry at
// most, and never a chat with an unverified key.
//
// The tee headers come first: they must precede <httplib.h> (see
// tee/detail/prelude.hpp).
#pragma once

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

namespace tee_e2e {

using json = nlohmann::json;
using R = tee::attestation_reason;
using namespace std::chrono_literals;
using tee::testing::enclave_options;
using tee::testing::enclave_server;
using tee::testing::server_options;
using tee::testing::simulated_enclave;

inline constexpr std::string_view secret_key = "sk-SECRET-end-to-end-never-shown";
inline constexpr std::string_view prompt = "BTC price right now";
inline constexpr std::string_view echo = "Echo from the simulated enclave: ";

// ------------------------------------------------------------------ helpers

using tee_test::bytes_of;
using tee_test::contains;
using tee_test::now_seconds;

// Every failure case goes through it; it keeps each exception message it
// checked (no_message_holds_the_key checks them at the end of a suite).
inline tee_test::expectations expect{secret_key};

inline tee::config make_config(std::string url) { return tee_test::make_config(std::move(url), secret_key); }

inline std::string fingerprint(const std::vector<std::uint8_t>& spki) {
    return tee::to_hex(tee::botan_crypto{}.sha256(spki));
}

inline std::string pem_of(const std::vector<std::uint8_t>& der) {
    const std::string b64 = tee::to_base64(der);
    std::string out = "-----BEGIN PUBLIC KEY-----\n";
    for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
    return out + "-----END PUBLIC KEY-----\n";
}

inline std::string point_hex_of(const std::vector<std::uint8_t>& spki) {
    auto point = tee::p384::point_of(spki);
    REQUIRE(point.size() == 97);
    return tee::to_hex(point);
}

// (Designated initializers would trip -Wmissing-field-initializers.)
inline enclave_options options(bool nitro = false, bool encrypt = false) {
    enclave_options o;
    o.nitro = nitro;
    o.encrypt_response = encrypt;
    return o;
}

inline tee::nitro_attestation trusting(const simulated_enclave& enclave) {
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
        : enclave_(enclave),
          edit_(std::move(edit)),
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
inline void edit_json(tee::http_response& a, const std::function<void(json&)>& f) {
    json j = json::parse(a.body);
    f(j);
    a.body = j.dump();
}

// An enclave of the tests: its own P-384 key (one scalar for ECDH and ECDSA,
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
        Botan::PK_Signer signer(sign_, Botan::system_rng(), tee::detail::botan::ecdsa_sha384,
                                tee::detail::botan::sig_der);
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
inline json seal_answer(const tee::secure_bytes& aes, std::string_view plaintext,
                        const std::vector<std::uint8_t>& named_key) {
    tee::botan_crypto c;
    auto iv = c.random_bytes(32);
    auto ct = c.aes256gcm_seal(aes, iv, bytes_of(plaintext));
    return json{
        {"encrypted_data", tee::to_hex(ct)}, {"nonce", tee::to_hex(iv)}, {"public_key", tee::to_hex(named_key)}};
}

// The signed "data" of an answer to `message`, with the fields the service sends.
inline json answer_data(std::string_view message, std::int64_t timestamp = now_seconds()) {
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

inline constexpr const char* attest_get = "GET /attestation";
inline constexpr const char* attest_post = "POST /.well-known/attestation";
inline constexpr const char* talk = "POST /talk";

// The last case of each suite: no exception message it checked holds the API
// key, and at least `at_least` were checked (so the failure cases ran).
inline void no_message_holds_the_key(std::size_t at_least) {
    MESSAGE("exception messages checked: " << expect.messages_seen().size());
    CHECK(expect.messages_seen().size() >= at_least);
    for (const auto& m : expect.messages_seen()) {
        CAPTURE(m);
        CHECK_FALSE(contains(m, secret_key));
        CHECK_FALSE(contains(m, "SECRET"));
    }
}

}  // namespace tee_e2e
