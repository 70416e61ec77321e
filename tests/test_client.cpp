// End-to-end and negative tests of test_nitro_client (tee/client.hpp).
//
// Everything runs over real HTTP on 127.0.0.1:
//  * end to end: a simulated_enclave (mock or Nitro mode) behind enclave_server;
//  * crafted answers: a small httplib server of this file (fake_server) that
//    answers GET /attestation with a real simulated_enclave's mock answer and
//    POST /talk with a body built here. Signed answers are made with
//    simulated_enclave::sign_hex, so that the signature is valid and only the
//    one defect a case is about remains;
//  * transport failures: a closed port, a socket that never answers, a server
//    that drips an endless body.
//
// Every failure case checks the exact dynamic type of the exception (so that
// e.g. a replay_error cannot pass for a plain signature_error), a fragment of
// its message, its accessors (cause(), http_status(), service_message()), and
// that the message does not contain the API key (tee_test::expectations, in
// test_support.hpp).
//
// The tee headers come first: they must precede <httplib.h> (see
// tee/detail/prelude.hpp).
#include "tee/tee.hpp"
#include "test_backend.hpp"
#include "tee/testing/enclave_server.hpp"
#include "tee/testing/simulated_enclave.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace {

using json = nlohmann::json;
using R = tee::attestation_reason;
using namespace std::chrono_literals;
using tee::testing::enclave_options;
using tee::testing::enclave_server;
using tee::testing::simulated_enclave;

constexpr std::string_view secret_key = "sk-SECRET-should-never-appear";
constexpr std::string_view prompt = "BTC price right now";

// ------------------------------------------------------------------ helpers

using tee_test::closed_port;
using tee_test::contains;
using tee_test::now_seconds;

// Every failure case goes through it; it keeps each exception message it
// checked (checked for the key at the end too).
tee_test::expectations expect{secret_key};

tee::config make_config(std::string url, std::string_view key = secret_key) {
    return tee_test::make_config(std::move(url), key);
}

std::string fingerprint(const std::vector<std::uint8_t>& spki) { return tee::to_hex(tee::botan_crypto{}.sha256(spki)); }

bool is_lower_hex(std::string_view s) { return s.find_first_not_of("0123456789abcdef") == std::string_view::npos; }

// (Designated initializers would trip -Wmissing-field-initializers: the option
// structs have members without default member initializers.)
enclave_options nitro_mode() {
    enclave_options o;
    o.nitro = true;
    return o;
}

tee::nitro_options trusting(std::string root_pem) {
    tee::nitro_options o;
    o.trusted_root = std::move(root_pem);
    o.expected_pcrs = tee::testing::test_pki::default_pins();  // the simulated enclave's image
    return o;
}

using tee_test::fake_server;

// Answers GET /attestation with a real mock-mode simulated_enclave and POST
// /talk with whatever answer() set last.
struct crafted_server {
    simulated_enclave enclave;  // mock mode; its key signs the crafted answers
    std::mutex mu;
    int status = 200;
    std::string body;
    std::string last_request;
    fake_server server{[this](const httplib::Request& req, httplib::Response& res) {
        if (req.method == "GET") {
            auto a = enclave.handle(req.method, req.path, req.body);
            res.status = a.status;
            res.set_content(a.body, "application/json");
            return;
        }
        std::lock_guard lock(mu);
        last_request = req.body;
        res.status = status;
        res.set_content(body, "application/json");
    }};

    void answer(int s, std::string b) {
        std::lock_guard lock(mu);
        status = s;
        body = std::move(b);
    }
    std::string url() const { return server.url(); }
};

// The signed "data" of an answer to `message`, with the fields the service sends.
json answer_data(std::string_view message, std::int64_t timestamp = now_seconds()) {
    return json{{"platform", "openai"},
                {"ai_model", "gpt-4"},
                {"timestamp", timestamp},
                {"message", std::string(message)},
                {"response", "crafted answer to: " + std::string(message)}};
}

std::string signed_body(const simulated_enclave& signer, const json& data) {
    return json{{"sig", signer.sign_hex(data)}, {"data", data}}.dump();
}

// A socket that listens (the kernel completes connections) but never reads or writes.
class silent_listener {
public:
    silent_listener() { fd_ = tee_test::loopback_socket(port_, true); }
    ~silent_listener() { ::close(fd_); }
    silent_listener(const silent_listener&) = delete;
    silent_listener& operator=(const silent_listener&) = delete;
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

private:
    int fd_ = -1;
    int port_ = 0;
};

// Sets and unsets environment variables, restoring the previous values.
class env_guard {
public:
    explicit env_guard(std::vector<const char*> names) {
        for (const char* n : names) {
            const char* v = std::getenv(n);
            saved_.emplace_back(n, v ? std::optional<std::string>(v) : std::nullopt);
        }
    }
    ~env_guard() {
        for (const auto& [n, v] : saved_) {
            if (v)
                ::setenv(n.c_str(), v->c_str(), 1);
            else
                ::unsetenv(n.c_str());
        }
    }
    env_guard(const env_guard&) = delete;
    env_guard& operator=(const env_guard&) = delete;

private:
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

}  // namespace

// ======================================================= end to end, mock mode

TEST_CASE("end to end (mock): one chat against the simulated enclave over loopback") {
    simulated_enclave enclave;
    enclave_server server(enclave);
    test_mock_client client(make_config(server.url()));

    const auto r = client.chat(prompt);
    CHECK(contains(r.response, prompt));
    CHECK(r.message == prompt);
    CHECK(r.platform == "openai");
    CHECK(r.ai_model == "gpt-4");
    CHECK(std::llabs(r.timestamp - now_seconds()) <= 60);
    CHECK(r.attestation_kind == "mock");
    CHECK(r.enclave_key_fingerprint == fingerprint(enclave.public_key()));
    CHECK(r.enclave_key_fingerprint.size() == 64);
    CHECK(r.data.is_object());
    CHECK(r.data["message"] == prompt);
    CHECK_FALSE(r.signature.empty());
    CHECK(is_lower_hex(r.signature));

    const tee::enclave_identity& id = client.attest();
    CHECK(id.kind == "mock");
    CHECK_FALSE(id.verified);  // the mock policy proves nothing
    CHECK(id.public_key == enclave.public_key());
}

TEST_CASE("end to end (mock): several chats on one client share one keep-alive connection") {
    simulated_enclave enclave;
    std::mutex mu;
    std::vector<int> client_ports;
    fake_server proxy([&](const httplib::Request& req, httplib::Response& res) {
        {
            std::lock_guard lock(mu);
            client_ports.push_back(req.remote_port);
        }
        auto a = enclave.handle(req.method, req.path, req.body);
        res.status = a.status;
        res.set_content(a.body, "application/json");
    });
    test_mock_client client(make_config(proxy.url()));
    for (int i = 0; i < 5; ++i) {
        const std::string message = "question number " + std::to_string(i);
        const auto r = client.chat(message);
        CHECK(r.message == message);
        CHECK(contains(r.response, message));
        CHECK(r.enclave_key_fingerprint == fingerprint(enclave.public_key()));
    }
    std::lock_guard lock(mu);
    REQUIRE(client_ports.size() == 6);  // one attestation, five chats
    for (int p : client_ports) CHECK(p == client_ports.front());
}

TEST_CASE("end to end (mock): unicode, quotes, backslash, control characters, empty and 100 KB prompts") {
    simulated_enclave enclave;
    enclave_server server(enclave);
    test_mock_client client(make_config(server.url()));

    SUBCASE("unicode and escapes") {
        const std::string message =
            "Prix du BTC \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87 \"quoted\" "
            "back\\slash / new\nline tab\t ctrl\x01"
            "end \x7f \xc3\xa9";
        const auto r = client.chat(message);
        CHECK(r.message == message);
        CHECK(r.response == "Echo from the simulated enclave: " + message);
    }
    SUBCASE("empty prompt") {
        const auto r = client.chat("");
        CHECK(r.message.empty());
        CHECK(r.response == "Echo from the simulated enclave: ");
    }
    SUBCASE("100 KB prompt") {
        std::string message;
        while (message.size() < 100 * 1024) message += "The quick brown fox jumps over the lazy dog 0123456789.\n";
        const auto r = client.chat(message);
        CHECK(r.message == message);
        CHECK(r.response.size() == message.size() + std::string("Echo from the simulated enclave: ").size());
    }
}

// ====================================================== end to end, Nitro mode

TEST_CASE("end to end (nitro): the default client<> verifies a Nitro document of the test PKI") {
    simulated_enclave enclave(nitro_mode());
    REQUIRE(enclave.pki() != nullptr);
    enclave_server server(enclave);

    test_nitro_client client(make_config(server.url()), tee::nitro_attestation(trusting(enclave.pki()->root_pem())));
    const tee::enclave_identity& id = client.attest();
    CHECK(id.kind == "nitro");
    CHECK(id.verified);
    CHECK(id.public_key == enclave.public_key());
    CHECK(id.key_fingerprint == fingerprint(enclave.public_key()));

    const auto r = client.chat(prompt);
    CHECK(r.message == prompt);
    CHECK(contains(r.response, prompt));
    CHECK(r.attestation_kind == "nitro");
    CHECK(r.enclave_key_fingerprint == fingerprint(enclave.public_key()));

    SUBCASE("the embedded AWS root does not trust the test chain") {
        test_nitro_client aws_rooted(make_config(server.url()));
        expect.attestation_error([&] { aws_rooted.chat(prompt); }, R::chain, "certificate chain does not verify");
    }
    SUBCASE("the mock policy refuses a real Nitro document") {
        test_mock_client mock(make_config(server.url()));
        auto e = expect.attestation_error([&] { mock.chat(prompt); }, R::malformed, "real Nitro attestation document");
        CHECK(contains(e.what(), "mock policy"));
    }
}

TEST_CASE(
    "end to end (nitro): a start-up document whose chain expired since is verified at its own time, within "
    "max_document_age") {
    enclave_options eo = nitro_mode();
    eo.stale_document = std::chrono::hours(5);
    simulated_enclave enclave(eo);
    enclave_server server(enclave);
    auto opt = trusting(enclave.pki()->root_pem());
    opt.accept_any_enclave_image = true;

    SUBCASE("accepted by default, verified at its own time, and chats work") {
        test_nitro_client client(make_config(server.url()), tee::nitro_attestation(opt));
        const auto id = client.attest();
        CHECK(id.verified);
        CHECK(id.verified_at_document_time);
        CHECK(id.document_age >= 5h);
        CHECK(id.document_age < 5h + 1min);
        CHECK(client.chat(prompt).message == prompt);
        // served unchanged: the same document again
        CHECK(enclave.attestation().body == enclave.attestation().body);
    }
    SUBCASE("refused with max_document_age 0, and beyond the bound") {
        opt.max_document_age = std::chrono::milliseconds(0);
        test_nitro_client strict(make_config(server.url()), tee::nitro_attestation(opt));
        auto e = expect.attestation_error([&] { strict.chat(prompt); }, R::expired, "document is 5 h 0 min old");
        CHECK(contains(e.what(), "its certificate expired at"));
        CHECK(contains(e.what(), "one attestation document at start-up"));
        CHECK(contains(e.what(), "max_document_age"));
        opt.max_document_age = 4h;
        test_nitro_client bounded(make_config(server.url()), tee::nitro_attestation(opt));
        expect.attestation_error([&] { bounded.chat(prompt); }, R::expired,
                                 "documents up to 4 h 0 min old are accepted");
    }
}

// An attestation endpoint that answers with a fixed body (no sockets).
struct canned_attestation {
    std::string body;
    tee::http_response get(std::string_view) { return {200, body}; }
    tee::http_response post_json(std::string_view, std::string_view) { return {404, "{}"}; }
};
using canned_client = tee::client<canned_attestation, test_crypto, tee::nitro_attestation>;

// The bound on the peak memory growth (child_peak_growth_mib) while a hostile
// answer is refused: 16 MiB (the whole answer parsed would take ~97 MB).
// ThreadSanitizer's shadow memory makes every allocation cost several times
// its size, so under it the bound is 64 MiB.
#if defined(__SANITIZE_THREAD__)
constexpr long refusal_growth_bound_mib = 64;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr long refusal_growth_bound_mib = 64;
#else
constexpr long refusal_growth_bound_mib = 16;
#endif
#else
constexpr long refusal_growth_bound_mib = 16;
#endif

// Runs f in a child process; returns how much the child's peak resident
// memory (VmHWM) grew beyond its resident memory at the start, in MiB (at
// most 200), or -1 if f did not return true.
template <class F>
long child_peak_growth_mib(F&& f) {
    auto kib = [](const char* field) {  // a field of /proc/self/status, in KiB
        long v = -1;
        if (FILE* st = std::fopen("/proc/self/status", "r")) {
            char line[256];
            while (std::fgets(line, sizeof line, st))
                if (std::strncmp(line, field, std::strlen(field)) == 0) v = std::atol(line + std::strlen(field));
            std::fclose(st);
        }
        return v;
    };
    const pid_t pid = fork();
    if (pid == 0) {
        const long start = kib("VmRSS:");
        if (!f()) _exit(255);
        const long peak = kib("VmHWM:");
        _exit(start < 0 || peak < 0 ? 254 : static_cast<int>(std::clamp((peak - start) / 1024, 0L, 200L)));
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) != 254);
    return WEXITSTATUS(status) == 255 ? -1 : WEXITSTATUS(status);
}

TEST_CASE("attestation answers: hostile padding is refused before it is parsed, quickly and in bounded memory") {
    simulated_enclave enclave(nitro_mode());
    auto opt = trusting(enclave.pki()->root_pem());
    opt.accept_any_enclave_image = true;
    const json valid = json::parse(enclave.attestation().body);
    auto attest = [&](std::string body) {
        canned_client c(make_config("http://127.0.0.1:9"), canned_attestation{std::move(body)},
                        tee::nitro_attestation(opt));
        return c.attest();
    };
    CHECK(attest(valid.dump()).verified);  // control

    // ~3 MB of nested JSON arrays (32 deep, within the general JSON limits) beside a valid document.
    std::string nested;
    while (nested.size() < 3'000'000) nested += std::string(30, '[') + std::string(30, ']') + ",";
    std::string padded = valid.dump();
    padded.insert(padded.size() - 1, ",\"pad\":[" + nested + "[]]");
    SUBCASE("nested JSON arrays") {
        const auto start = std::chrono::steady_clock::now();
        expect.attestation_error([&] { attest(padded); }, R::malformed, "more than the 65536 an attestation needs");
        CHECK(std::chrono::steady_clock::now() - start < 1s);
        const long growth = child_peak_growth_mib([&] {
            try {
                attest(padded);
            } catch (const tee::attestation_error&) {
                return true;
            }
            return false;
        });
        MESSAGE("peak memory growth refusing a 3 MB padded answer: " << growth << " MiB");
        CHECK(growth >= 0);
        CHECK(growth < refusal_growth_bound_mib);
    }
    SUBCASE("a small padding deeper than 8 levels is refused too") {
        std::string deep = valid.dump();
        deep.insert(deep.size() - 1, ",\"pad\":" + std::string(9, '[') + std::string(9, ']'));
        expect.attestation_error([&] { attest(deep); }, R::malformed, "nested deeper than 8 levels");
    }
    SUBCASE("nested CBOR in the unprotected COSE header") {
        // 3 MB of arrays in the unsigned header of a valid document: the signature still verifies.
        auto doc = tee::from_base64(valid["attestation_doc"].get<std::string>());
        REQUIRE(doc);
        auto top = tee::cbor::decode(*doc);
        REQUIRE(top.ok());
        const auto& items = top.value().as_array();
        // [protected, {7: [[[] x 1000] x 3000]}, payload, signature], written byte by byte
        std::vector<std::uint8_t> big{0x84};
        auto put = [&](const std::vector<std::uint8_t>& b) { big.insert(big.end(), b.begin(), b.end()); };
        put(tee::cbor::encode(items[0]));
        put({0xa1, 0x07, 0x99, 0x0b, 0xb8});  // {7: array(3000)
        for (int i = 0; i < 3000; ++i) {
            put({0x99, 0x03, 0xe8});  // array(1000) of empty arrays
            big.insert(big.end(), 1000, 0x80);
        }
        put(tee::cbor::encode(items[2]));
        put(tee::cbor::encode(items[3]));
        CHECK(big.size() > 3'000'000);
        const json answer = {{"attestation_doc", tee::to_base64(big)}};
        const auto start = std::chrono::steady_clock::now();
        expect.attestation_error([&] { attest(answer.dump()); }, R::malformed, "an attestation needs");
        tee::nitro_attestation policy(opt);
        expect.attestation_error([&] { policy.verify(answer, test_crypto{}); }, R::malformed,
                                 "characters of base64, more than a document needs");
        expect.attestation_error([&] { policy.verify_document(big, test_crypto{}); }, R::malformed,
                                 "bytes, more than the 32768 a document needs");
        CHECK(std::chrono::steady_clock::now() - start < 1s);
        const long growth = child_peak_growth_mib([&] {
            try {
                policy.verify_document(big, test_crypto{});
            } catch (const tee::attestation_error&) {
                return true;
            }
            return false;
        });
        MESSAGE("peak memory growth refusing a 3 MB CBOR-padded document: " << growth << " MiB");
        CHECK(growth >= 0);
        CHECK(growth < refusal_growth_bound_mib);
    }
}

TEST_CASE("end to end (nitro): a mock answer offered to client<> is a refused downgrade") {
    simulated_enclave enclave;  // mock mode
    enclave_server server(enclave);
    test_nitro_client client(make_config(server.url()));
    auto e = expect.attestation_error([&] { client.chat(prompt); }, R::mock_refused, "mock");
    CHECK(contains(e.what(), "downgrade"));

    SUBCASE("also without the \"mock\" flag") {
        fake_server unflagged([&](const httplib::Request& req, httplib::Response& res) {
            json a = json::parse(enclave.handle(req.method, req.path, req.body).body);
            a.erase("mock");
            res.set_content(a.dump(), "application/json");
        });
        test_nitro_client c2(make_config(unflagged.url()));
        expect.attestation_error([&] { c2.attest(); }, R::mock_refused, "mock answers are a downgrade");
    }
}

// =========================================== service errors from the simulator

TEST_CASE(
    "service errors: the simulated service's refusals are service_error; an empty API key is refused at construction") {
    simulated_enclave enclave;
    enclave_server server(enclave);

    SUBCASE("empty platform") {
        auto cfg = make_config(server.url());
        cfg.platform = "";
        test_mock_client client(cfg);
        expect.service_error([&] { client.chat(prompt); }, 200, "invalid platform");
    }
    SUBCASE("unknown platform") {
        auto cfg = make_config(server.url());
        cfg.platform = "skynet";
        test_mock_client client(cfg);
        expect.service_error([&] { client.chat(prompt); }, 200, "invalid platform");
    }
    SUBCASE("empty model") {
        auto cfg = make_config(server.url());
        cfg.model = "";
        test_mock_client client(cfg);
        expect.service_error([&] { client.chat(prompt); }, 200, "invalid ai model");
    }
    SUBCASE("empty API key: refused at construction") {
        expect.error<tee::config_error>([&] { test_mock_client client(make_config(server.url(), "")); },
                                        "PLATFORM_API_KEY");
    }
    SUBCASE("a restarted enclave (new key) answers HTTP 500 when re-attestation is off") {
        auto cfg = make_config(server.url());
        cfg.reattest_on_key_change = false;
        test_mock_client client(cfg);
        CHECK(client.chat(prompt).message == prompt);
        enclave.rotate_key();
        expect.service_error([&] { client.chat(prompt); }, 500, "decryption failed");
    }
    SUBCASE("a restarted enclave (new key): by default the client attests again and retries") {
        test_mock_client client(make_config(server.url()));
        const auto old_fp = client.chat(prompt).enclave_key_fingerprint;
        enclave.rotate_key();
        const auto r = client.chat(prompt);
        CHECK(r.message == prompt);
        CHECK(r.enclave_key_fingerprint == fingerprint(enclave.public_key()));
        CHECK(r.enclave_key_fingerprint != old_fp);
    }
}

// ==================================================================== config

TEST_CASE("config: from_env and URL checks") {
    env_guard env({"PLATFORM_API_KEY", "PLATFORM", "MODEL", "TEE_TLS_URL"});

    SUBCASE("PLATFORM_API_KEY missing") {
        ::unsetenv("PLATFORM_API_KEY");
        expect.error<tee::config_error>([] { (void)tee::config::from_env(); }, "PLATFORM_API_KEY");
    }
    SUBCASE("PLATFORM_API_KEY empty") {
        ::setenv("PLATFORM_API_KEY", "", 1);
        expect.error<tee::config_error>([] { (void)tee::config::from_env(); }, "PLATFORM_API_KEY");
    }
    SUBCASE("all variables set") {
        ::setenv("PLATFORM_API_KEY", std::string(secret_key).c_str(), 1);
        ::setenv("PLATFORM", "anthropic", 1);
        ::setenv("MODEL", "claude-3", 1);
        ::setenv("TEE_TLS_URL", "https://enclave.example:8443/", 1);
        const auto c = tee::config::from_env();
        CHECK(c.api_key.reveal() == secret_key);
        CHECK(c.platform == "anthropic");
        CHECK(c.model == "claude-3");
        CHECK(c.url == "https://enclave.example:8443/");
        CHECK_NOTHROW(test_mock_client{c});  // constructing makes no network traffic
    }
    SUBCASE("only the key set: defaults") {
        ::setenv("PLATFORM_API_KEY", std::string(secret_key).c_str(), 1);
        ::unsetenv("PLATFORM");
        ::unsetenv("MODEL");
        ::unsetenv("TEE_TLS_URL");
        const auto c = tee::config::from_env();
        CHECK(c.url == "http://127.0.0.1:8000");
        CHECK(c.platform.empty());
        CHECK(c.model.empty());
    }
    SUBCASE("bad URL scheme from the environment: refused at construction") {
        ::setenv("PLATFORM_API_KEY", std::string(secret_key).c_str(), 1);
        ::setenv("TEE_TLS_URL", "ftp://x", 1);
        const auto c = tee::config::from_env();
        expect.error<tee::config_error>([&] { test_mock_client client(c); }, "'ftp'");
    }
    SUBCASE("bad URLs in a config") {
        expect.error<tee::config_error>([] { test_mock_client c(make_config("ftp://x")); }, "'ftp'");
        expect.error<tee::config_error>([] { test_nitro_client c(make_config("ftp://x")); }, "'ftp'");
        expect.error<tee::config_error>([] { test_mock_client c(make_config("127.0.0.1:8000")); }, "http://");
        expect.error<tee::config_error>([] { test_mock_client c(make_config("http://")); }, "no host");
        expect.error<tee::config_error>([] { test_mock_client c(make_config("http://user@host")); }, "credentials");
        CHECK_NOTHROW(test_mock_client{make_config("http://127.0.0.1:8000/prefix/")});
    }
}

// ================================================ crafted answers to POST /talk

TEST_CASE("crafted answers: a validly signed answer is accepted (control for the cases below)") {
    crafted_server s;
    test_mock_client client(make_config(s.url()));
    s.answer(200, signed_body(s.enclave, answer_data(prompt)));
    const auto r = client.chat(prompt);
    CHECK(r.response == "crafted answer to: " + std::string(prompt));
    CHECK(r.message == prompt);

    SUBCASE("extra fields in data and body are signed and accepted") {
        json data = answer_data(prompt);
        data["extra"] = json{{"nested", json::array({1, 2.5, "x", nullptr, true})}};
        json body{{"sig", s.enclave.sign_hex(data)}, {"data", data}, {"unsigned_note", "ignored"}};
        s.answer(200, body.dump());
        CHECK(client.chat(prompt).data["extra"]["nested"][1] == 2.5);
    }
}

TEST_CASE("crafted answers: signature failures are signature_error") {
    crafted_server s;
    test_mock_client client(make_config(s.url()));
    auto chat = [&] { client.chat(prompt); };
    const json data = answer_data(prompt);
    const std::string sig = s.enclave.sign_hex(data);

    SUBCASE("a hex digit of the signature flipped (in the integers)") {
        std::string bad = sig;
        bad[bad.size() - 3] = bad[bad.size() - 3] == '0' ? '1' : '0';
        s.answer(200, json{{"sig", bad}, {"data", data}}.dump());
        expect.error<tee::signature_error>(chat, "does not verify");
    }
    SUBCASE("a hex digit of the signature flipped (in the DER header)") {
        std::string bad = sig;
        bad[1] = bad[1] == '0' ? '1' : '0';  // 0x30 SEQUENCE tag -> 0x31
        s.answer(200, json{{"sig", bad}, {"data", data}}.dump());
        expect.error<tee::signature_error>(chat, "does not verify");
    }
    SUBCASE("empty signature") {
        s.answer(200, json{{"sig", ""}, {"data", data}}.dump());
        expect.error<tee::signature_error>(chat, "does not verify");
    }
    SUBCASE("signed, then the response changed") {
        json tampered = data;
        tampered["response"] = "buy now!";
        s.answer(200, json{{"sig", sig}, {"data", tampered}}.dump());
        expect.error<tee::signature_error>(chat, "does not verify");
    }
    SUBCASE("signed, then a field added") {
        json tampered = data;
        tampered["note"] = "added";
        s.answer(200, json{{"sig", sig}, {"data", tampered}}.dump());
        expect.error<tee::signature_error>(chat, "does not verify");
    }
    SUBCASE("signed by another key") {
        simulated_enclave other;
        s.answer(200, signed_body(other, data));
        expect.error<tee::signature_error>(chat, "does not verify");
    }
    SUBCASE("signed by the enclave's next key, after the session attested the old one") {
        auto cfg = make_config(s.url());
        cfg.reattest_on_key_change = false;
        test_mock_client strict(cfg);
        s.answer(200, signed_body(s.enclave, data));
        CHECK(strict.chat(prompt).message == prompt);  // attests key A, answer by A
        CHECK(client.chat(prompt).message == prompt);  // the default client too
        s.enclave.rotate_key();                        // a restart: key B
        s.answer(200, signed_body(s.enclave, answer_data(prompt)));
        expect.error<tee::signature_error>([&] { strict.chat(prompt); }, "does not verify");
        // by default the client attests again (key B, through the policy) and the retry verifies
        CHECK(client.chat(prompt).message == prompt);
    }
}

TEST_CASE("crafted answers: service refusals are service_error with status and text") {
    crafted_server s;
    test_mock_client client(make_config(s.url()));
    auto chat = [&] { client.chat(prompt); };

    SUBCASE("{\"error\"} with HTTP 200") {
        s.answer(200, R"({"error":"invalid api_key"})");
        expect.service_error(chat, 200, "invalid api_key");
    }
    SUBCASE("a service that echoes the API key: it is redacted from the error") {
        s.answer(200, json{{"error", "invalid api_key " + std::string(secret_key)}}.dump());
        try {
            client.chat(prompt);
            FAIL("no exception");
        } catch (const tee::service_error& e) {
            CHECK(std::string(e.what()).find(secret_key) == std::string::npos);
            CHECK(e.service_message().find(secret_key) == std::string::npos);
            CHECK(e.service_message() == "invalid api_key [API key redacted]");
        }
        s.answer(500, "<html>bad gateway for key " + std::string(secret_key) + "</html>");
        CHECK_THROWS_WITH_AS(client.chat(prompt), doctest::Contains("[API key redacted]"), tee::service_error);
    }
    SUBCASE("a key straddling the 200-character cut is redacted before the cut") {
        const std::string text = std::string(190, 'x') + " bad key " + std::string(secret_key);
        for (int status : {200, 401}) {
            CAPTURE(status);
            s.answer(status, json{{status == 200 ? "error" : "detail", text}}.dump());
            auto e = expect.error<tee::service_error>(chat, "[API key redacted]");
            CHECK(e.service_message() == std::string(190, 'x') + " bad key [API key redacted]");
            CHECK_FALSE(contains(e.what(), secret_key.substr(0, 4)));  // "sk-S": no part of it
        }
        s.answer(502, "<html>" + std::string(190, 'x') + " " + std::string(secret_key) + "</html>");  // not JSON
        auto e = expect.error<tee::service_error>(chat, std::string(190, 'x') + " [API key redacted]...");
        CHECK_FALSE(contains(e.what(), secret_key.substr(0, 4)));
    }
    SUBCASE("a JSON-escaped echo of the key is redacted too") {
        // \u0073 = 's', \u006B = 'k', \u0053 = 'S', \u0061 = 'a': escapes of the key's own characters.
        std::string escaped = "\\u0073k-SECRET-should-never-appe\\u0061r";
        s.answer(500, "<html>bad key " + escaped + " (debug)</html>");  // not JSON: shown as it came
        auto e = expect.error<tee::service_error>(chat, "bad key [API key redacted] (debug)");
        CHECK_FALSE(contains(e.what(), "SECRET"));
        escaped = "\\u0073\\u006B-\\u0053ECRET-should-never-appear";
        s.answer(200, json{{"error", {{"echo", escaped}}}}.dump());  // in a string of the error's dump()
        auto e2 = expect.error<tee::service_error>(chat, "[API key redacted]");
        CHECK_FALSE(contains(e2.what(), "ECRET-should"));
        CHECK(tee::detail::redacted_prefix("a \\u0073\\u006b-SECRET-should-never-appear b", secret_key, 200) ==
              "a [API key redacted] b");
        CHECK(tee::detail::redacted_prefix("a sk-SECRET-should-never-appea b", secret_key, 200) ==
              "a sk-SECRET-should-never-appea b");  // not the key: a prefix of it is kept
    }
    SUBCASE("{\"error\"} that is not a string") {
        s.answer(200, R"({"error":{"code":7}})");
        expect.service_error(chat, 200, R"({"code":7})");
    }
    SUBCASE("a long or non-string {\"error\"} is truncated to 200 printable characters") {
        s.answer(200, json{{"error", std::string(5000, 'x')}}.dump());
        auto e = expect.service_error(chat, 200, std::string(200, 'x') + "...");
        CHECK(std::string_view(e.what()).size() < 300);
        s.answer(200, json{{"error", json::array({std::string(5000, 'y'), "\xc3\xa9"})}}.dump());
        auto e2 = expect.service_error(chat, 200, "[\"" + std::string(198, 'y') + "...");
        CHECK(std::string_view(e2.what()).size() < 300);
    }
    SUBCASE("HTTP 422 with a FastAPI validation body (detail is a list)") {
        s.answer(422, R"({"detail":[{"loc":["body","nonce"],"msg":"field required","type":"value_error.missing"}]})");
        auto e = expect.error<tee::service_error>(chat, "HTTP 422");
        CHECK(e.http_status() == 422);
    }
    SUBCASE("the nonce refusal") {
        s.answer(200, R"({"error":"invalid nonce, must be at least 8 characters long"})");
        expect.service_error(chat, 200, "invalid nonce, must be at least 8 characters long");
    }
    SUBCASE("HTTP 500 {\"detail\"}") {
        s.answer(500, R"({"detail":"decryption failed"})");
        auto e = expect.service_error(chat, 500, "decryption failed");
        CHECK(contains(e.what(), "HTTP 500"));
    }
    SUBCASE("HTTP 404 with a non-JSON body") {
        s.answer(404, "<html>Not Found</html>");
        auto e = expect.service_error(chat, 404, "<html>Not Found</html>");
        CHECK(contains(e.what(), "HTTP 404"));
    }
    SUBCASE("HTTP 502 with an empty body") {
        s.answer(502, "");
        auto e = expect.service_error(chat, 502, "");
        CHECK(contains(e.what(), "HTTP 502"));
    }
    SUBCASE("HTTP 500 on GET /attestation") {
        fake_server broken([](const httplib::Request&, httplib::Response& res) {
            res.status = 500;
            res.set_content(R"({"detail":"enclave not ready"})", "application/json");
        });
        test_mock_client c2(make_config(broken.url()));
        expect.service_error([&] { c2.attest(); }, 500, "enclave not ready");
    }
}

namespace {

// A malformed answer: what the edit does to a correct one (`data` is the
// signed data of an answer to the prompt, `sig` its signature, `good` the
// whole correct body), and a fragment of the protocol_error it must cause.
struct malformed_answer {
    const char* what;
    std::function<std::string(const crafted_server& s, const json& data, const std::string& sig,
                              const std::string& good)>
        body;
    const char* fragment;
};

// Runs every edit against one client: each must be protocol_error (exactly)
// with its fragment.
void check_malformed(const std::vector<malformed_answer>& cases) {
    crafted_server s;
    test_mock_client client(make_config(s.url()));
    const json data = answer_data(prompt);
    const std::string sig = s.enclave.sign_hex(data);
    const std::string good = signed_body(s.enclave, data);
    for (const auto& c : cases) {
        CAPTURE(c.what);
        s.answer(200, c.body(s, data, sig, good));
        expect.error<tee::protocol_error>([&] { client.chat(prompt); }, c.fragment);
    }
}

// The signed data of `data` with one edit, signed again by the enclave.
std::string resigned(const crafted_server& s, json data, const std::function<void(json&)>& edit) {
    edit(data);
    return signed_body(s.enclave, data);
}

}  // namespace

TEST_CASE("crafted answers: an answer that is not one strict JSON object is protocol_error") {
    check_malformed({
        {"non-JSON body with 200", [](auto&, auto&, auto&, auto&) { return std::string("<html>hello</html>"); },
         "not valid JSON"},
        {"empty body with 200", [](auto&, auto&, auto&, auto&) { return std::string(); }, "empty"},
        {"truncated JSON", [](auto&, auto&, auto&, const std::string& good) { return good.substr(0, good.size() / 2); },
         "not valid JSON"},
        {"trailing garbage after the JSON", [](auto&, auto&, auto&, const std::string& good) { return good + "x"; },
         "not valid JSON"},
        {"a JSON array",
         [](auto&, const json& data, const std::string& sig, auto&) {
             return json::array({json{{"sig", sig}, {"data", data}}}).dump();
         },
         "not a JSON object"},
        {"duplicate keys in the body",
         [](auto&, const json& data, const std::string& sig, auto&) {
             return R"({"sig":")" + sig + R"(","data":)" + data.dump() + R"(,"data":)" + data.dump() + "}";
         },
         "duplicate object key \"data\""},
        {"duplicate keys inside the signed data",
         [](auto&, const json& data, const std::string& sig, auto&) {
             std::string d = data.dump();  // sorted: {"ai_model":...
             REQUIRE(d.front() == '{');
             d.insert(1, R"("response":"first one",)");
             return R"({"sig":")" + sig + R"(","data":)" + d + "}";
         },
         "duplicate object key \"response\""},
        {"an integer beyond 64 bits",
         [](auto&, const json& data, const std::string& sig, auto&) {
             json d = data;
             d["timestamp"] = 4242;
             std::string text = d.dump();
             const auto at = text.find("4242");
             REQUIRE(at != std::string::npos);
             text.replace(at, 4, "123456789012345678901234567890");
             return R"({"sig":")" + sig + R"(","data":)" + text + "}";
         },
         "64-bit range"},
        {"invalid UTF-8 in the body",
         [](auto&, auto&, const std::string& sig, auto&) {
             return "{\"sig\":\"" + sig + "\",\"data\":{\"response\":\"\xff\xfe\"}}";
         },
         "not valid JSON"},
    });
}

TEST_CASE("crafted answers: an answer without a hex \"sig\" string and a \"data\" object is protocol_error") {
    check_malformed({
        {"missing sig",
         [](auto&, const json& data, auto&, auto&) {
             return json{{"data", data}}.dump();
         },
         "no \"sig\""},
        {"missing data",
         [](auto&, auto&, const std::string& sig, auto&) {
             return json{{"sig", sig}}.dump();
         },
         "no \"data\""},
        {"sig not a string",
         [](auto&, const json& data, auto&, auto&) {
             return json{{"sig", 12345}, {"data", data}}.dump();
         },
         "\"sig\" is not a string"},
        {"sig not hex",
         [](auto&, const json& data, const std::string& sig, auto&) {
             return json{{"sig", "zz" + sig.substr(2)}, {"data", data}}.dump();
         },
         "\"sig\" is not hex"},
        {"sig of odd length",
         [](auto&, const json& data, const std::string& sig, auto&) {
             return json{{"sig", sig + "0"}, {"data", data}}.dump();
         },
         "\"sig\" is not hex"},
        {"data not an object",
         [](auto&, const json& data, const std::string& sig, auto&) {
             return json{{"sig", sig}, {"data", data.dump()}}.dump();
         },
         "\"data\" is not an object"},
    });
}

TEST_CASE("crafted answers: signed data without a field, or with a field of the wrong type, is protocol_error") {
    check_malformed({
        {"signed data without response",
         [](const crafted_server& s, const json& data, auto&, auto&) {
             return resigned(s, data, [](json& d) { d.erase("response"); });
         },
         "no \"response\""},
        {"signed data without message",
         [](const crafted_server& s, const json& data, auto&, auto&) {
             return resigned(s, data, [](json& d) { d.erase("message"); });
         },
         "no \"message\""},
        {"signed data without timestamp",
         [](const crafted_server& s, const json& data, auto&, auto&) {
             return resigned(s, data, [](json& d) { d.erase("timestamp"); });
         },
         "no \"timestamp\""},
        {"signed timestamp is a string",
         [](const crafted_server& s, const json& data, auto&, auto&) {
             return resigned(s, data, [](json& d) { d["timestamp"] = std::to_string(now_seconds()); });
         },
         "\"timestamp\" is not an integer"},
        {"signed timestamp is a float",
         [](const crafted_server& s, const json& data, auto&, auto&) {
             return resigned(s, data, [](json& d) { d["timestamp"] = static_cast<double>(now_seconds()) + 0.5; });
         },
         "\"timestamp\" is not an integer"},
        {"signed response is a number",
         [](const crafted_server& s, const json& data, auto&, auto&) {
             return resigned(s, data, [](json& d) { d["response"] = 42; });
         },
         "\"response\" is not a string"},
    });
}

TEST_CASE("crafted answers: answers to another prompt or time are replay_error") {
    crafted_server s;
    auto cfg = make_config(s.url());

    SUBCASE("validly signed answer to a different message") {
        test_mock_client client(cfg);
        s.answer(200, signed_body(s.enclave, answer_data("ETH price right now")));
        expect.error<tee::replay_error>([&] { client.chat(prompt); }, "signed message differs");
        // the same answer is fine for the prompt it was made for
        CHECK(client.chat("ETH price right now").message == "ETH price right now");
    }
    SUBCASE("validly signed answer one hour old") {
        s.answer(200, signed_body(s.enclave, answer_data(prompt, now_seconds() - 3600)));
        test_mock_client client(cfg);
        expect.error<tee::replay_error>([&] { client.chat(prompt); }, "away from the local clock");
        cfg.accept_any_answer_time = true;
        test_mock_client relaxed(cfg);
        CHECK(relaxed.chat(prompt).timestamp <= now_seconds() - 3590);
    }
    SUBCASE("validly signed answer one hour in the future") {
        s.answer(200, signed_body(s.enclave, answer_data(prompt, now_seconds() + 3600)));
        test_mock_client client(cfg);
        expect.error<tee::replay_error>([&] { client.chat(prompt); }, "away from the local clock");
    }
    SUBCASE("timestamps that overflow a chrono conversion are compared exactly") {
        test_mock_client client(cfg);
        // now + 2^64 ns: in nanoseconds it wraps to about now.
        for (std::int64_t t : {now_seconds() + 18446744074, now_seconds() - 18446744074,
                               std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::min()}) {
            CAPTURE(t);
            s.answer(200, signed_body(s.enclave, answer_data(prompt, t)));
            expect.error<tee::replay_error>([&] { client.chat(prompt); }, "s away from the local clock");
        }
        json data = answer_data(prompt);
        data["timestamp"] = std::numeric_limits<std::uint64_t>::max();
        s.answer(200, signed_body(s.enclave, data));
        expect.error<tee::protocol_error>([&] { client.chat(prompt); },
                                          "\"timestamp\" is beyond the 64-bit signed range");
        cfg.accept_any_answer_time = true;  // also without the window
        test_mock_client relaxed(cfg);
        expect.error<tee::protocol_error>([&] { relaxed.chat(prompt); }, "beyond the 64-bit signed range");
    }
    SUBCASE("a wider window accepts the hour-old answer") {
        s.answer(200, signed_body(s.enclave, answer_data(prompt, now_seconds() - 3600)));
        cfg.answer_time_window = std::chrono::hours(2);
        test_mock_client client(cfg);
        CHECK(client.chat(prompt).message == prompt);
    }
}

TEST_CASE("crafted answers: a body larger than max_answer_bytes is transport_error too_large") {
    crafted_server s;
    auto cfg = make_config(s.url());
    cfg.transport.max_answer_bytes = 64 * 1024;
    test_mock_client client(cfg);
    s.answer(200, std::string(1 << 20, ' ') + signed_body(s.enclave, answer_data(prompt)));
    expect.transport_error([&] { client.chat(prompt); }, tee::transport_cause::too_large, "65536 bytes");

    SUBCASE("just below the cap is fine") {
        std::string body = signed_body(s.enclave, answer_data(prompt));
        body.insert(0, std::string(64 * 1024 - body.size(), ' '));  // JSON allows leading whitespace
        s.answer(200, body);
        CHECK(client.chat(prompt).message == prompt);
    }
}

// ================================================================= transport

TEST_CASE("transport: a refused connection is transport_error refused, at once") {
    const int port = closed_port();
    test_mock_client client(make_config("http://127.0.0.1:" + std::to_string(port)));
    const auto start = std::chrono::steady_clock::now();
    expect.transport_error([&] { client.chat(prompt); }, tee::transport_cause::refused, "could not connect");
    CHECK(std::chrono::steady_clock::now() - start < 2s);
}

TEST_CASE("transport: a server that accepts but never answers times out") {
    silent_listener silent;
    auto cfg = make_config(silent.url());
    cfg.transport.read_timeout = 500ms;
    test_mock_client client(cfg);
    const auto start = std::chrono::steady_clock::now();
    expect.transport_error([&] { client.chat(prompt); }, tee::transport_cause::timeout, "no answer within 0.5 s");
    const auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(elapsed >= 450ms);
    CHECK(elapsed < 4s);
}

TEST_CASE("transport: a handler slower than the read timeout times out on POST /talk") {
    simulated_enclave enclave;
    fake_server slow([&](const httplib::Request& req, httplib::Response& res) {
        if (req.method == "POST") std::this_thread::sleep_for(1500ms);
        auto a = enclave.handle(req.method, req.path, req.body);
        res.status = a.status;
        res.set_content(a.body, "application/json");
    });
    auto cfg = make_config(slow.url());
    cfg.transport.read_timeout = 500ms;
    test_mock_client client(cfg);
    client.attest();
    const auto start = std::chrono::steady_clock::now();
    expect.transport_error([&] { client.chat(prompt); }, tee::transport_cause::timeout, "POST");
    CHECK(std::chrono::steady_clock::now() - start < 1400ms);
}

TEST_CASE("transport: an endless drip of a body hits total_timeout") {
    simulated_enclave enclave;
    std::atomic<bool> stop{false};
    fake_server drip([&](const httplib::Request& req, httplib::Response& res) {
        if (req.method == "GET") {
            auto a = enclave.handle(req.method, req.path, req.body);
            res.set_content(a.body, "application/json");
            return;
        }
        res.set_chunked_content_provider("application/json", [&stop](std::size_t, httplib::DataSink& sink) {
            if (stop) return false;
            std::this_thread::sleep_for(50ms);
            return sink.write(" ", 1);
        });
    });
    auto cfg = make_config(drip.url());
    cfg.transport.total_timeout = 1s;
    test_mock_client client(cfg);
    client.attest();  // total_timeout is per request: attest first, then time the chat alone
    const auto start = std::chrono::steady_clock::now();
    expect.transport_error([&] { client.chat(prompt); }, tee::transport_cause::timeout, "not complete within 1 s");
    const auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(elapsed >= 950ms);
    CHECK(elapsed < 4s);
    stop = true;
}

// ========================================================== the request bytes

TEST_CASE("the request: POST /talk carries exactly nonce, public_key and data; no API key in clear") {
    simulated_enclave enclave;
    std::mutex mu;
    std::vector<std::string> bodies;
    std::vector<std::string> content_types;
    fake_server capture([&](const httplib::Request& req, httplib::Response& res) {
        if (req.method == "POST") {
            std::lock_guard lock(mu);
            bodies.push_back(req.body);
            content_types.push_back(req.get_header_value("Content-Type"));
        }
        auto a = enclave.handle(req.method, req.path, req.body);
        res.status = a.status;
        res.set_content(a.body, "application/json");
    });
    const auto cfg = make_config(capture.url());
    test_mock_client client(cfg);
    CHECK(client.chat(prompt).message == prompt);
    CHECK(client.chat(prompt).message == prompt);

    std::lock_guard lock(mu);
    REQUIRE(bodies.size() == 2);
    std::vector<std::string> nonces;
    for (std::size_t i = 0; i < bodies.size(); ++i) {
        const std::string& body = bodies[i];
        CAPTURE(body);
        CHECK(content_types[i] == "application/json");
        CHECK_FALSE(contains(body, secret_key));
        CHECK_FALSE(contains(
            body, tee::to_hex(std::span(reinterpret_cast<const std::uint8_t*>(secret_key.data()), secret_key.size()))));
        const json j = json::parse(body);
        REQUIRE(j.is_object());
        CHECK(j.size() == 3);
        REQUIRE(j.contains("nonce"));
        REQUIRE(j.contains("public_key"));
        REQUIRE(j.contains("data"));
        REQUIRE(j["nonce"].is_string());
        REQUIRE(j["public_key"].is_string());
        REQUIRE(j["data"].is_string());
        const std::string nonce = j["nonce"], key = j["public_key"], data = j["data"];
        CHECK(nonce.size() == 64);
        CHECK(is_lower_hex(nonce));
        CHECK(key.size() == 240);
        CHECK(key.rfind("3076301006072a8648ce3d020106052b8104002203620004", 0) == 0);
        CHECK(is_lower_hex(key));
        CHECK(key == client.client_public_key_hex());
        CHECK(is_lower_hex(data));
        // ciphertext = plaintext {"api_key","message","platform","ai_model"} + 16-byte tag
        const auto plaintext = tee::protocol::request_plaintext(cfg.api_key, prompt, cfg.platform, cfg.model);
        CHECK(data.size() == 2 * (plaintext.size() + 16));
        nonces.push_back(nonce);
    }
    CHECK(nonces[0] != nonces[1]);
    CHECK(json::parse(bodies[0])["public_key"] == json::parse(bodies[1])["public_key"]);  // one key per client
}

// ============================================ error types derived from tee's

// A policy or transport of the user's own may throw its own subclass of a tee
// error; what leaves the client is that same object, of that type, with the
// API key cut out of its message (as is and JSON-escaped).
namespace {

struct policy_refusal : tee::attestation_error {
    policy_refusal(std::string what, int code)
        : tee::attestation_error(tee::attestation_reason::pcr_mismatch, std::move(what)), code(code) {}
    int code;
};

struct link_down : tee::transport_error {
    explicit link_down(const std::string& what) : tee::transport_error(tee::transport_cause::connection, what) {}
};

// A policy whose refusal quotes the key, once as is and once JSON-escaped.
struct key_quoting_policy {
    static constexpr std::string_view kind = "key-quoting";
    static constexpr bool verifies = true;
    template <class Crypto>
    tee::enclave_identity verify(const json&, const Crypto&) const {
        throw policy_refusal("refused for key " + std::string(secret_key) + " (\\u0073k-SECRET-should-never-appear)",
                             7);
    }
};

// A transport whose failure quotes the key.
struct key_quoting_transport {
    tee::http_response get(std::string_view) { throw link_down("proxy says: bad key " + std::string(secret_key)); }
    tee::http_response post_json(std::string_view path, std::string_view) { return get(path); }
};

}  // namespace

TEST_CASE("errors: a subclass thrown by a policy or transport arrives as itself, the API key redacted in place") {
    SUBCASE("from an attestation policy, through attest() and chat()") {
        tee::client<canned_attestation, test_crypto, key_quoting_policy> c(
            make_config("http://127.0.0.1:9"), canned_attestation{R"({"attestation_doc":"AA=="})"});
        for (auto call :
             {std::function<void()>([&] { c.attest(); }), std::function<void()>([&] { (void)c.chat(prompt); })}) {
            auto e = expect.error<policy_refusal>(call, "refused for key [API key redacted] ([API key redacted])");
            CHECK(e.code == 7);
            CHECK(e.reason() == R::pcr_mismatch);
            CHECK(e.kind() == tee::error_kind::attestation);
        }
    }
    SUBCASE("from a transport") {
        tee::client<key_quoting_transport, test_crypto, tee::mock_attestation> c(make_config("http://127.0.0.1:9"),
                                                                                 key_quoting_transport{});
        auto e = expect.error<link_down>([&] { (void)c.chat(prompt); },
                                         "connection failure: proxy says: bad key [API key redacted]");
        CHECK(e.cause() == tee::transport_cause::connection);
    }
    SUBCASE(
        "redact() itself: every occurrence, escaped forms too; service_message() as well; an empty key changes "
        "nothing") {
        tee::protocol_error p("a " + std::string(secret_key) + " b \\u0073k-SECRET-should-never-appear c");
        p.redact("");
        CHECK(contains(p.what(), secret_key));
        p.redact(secret_key);
        CHECK(std::string(p.what()) == "a [API key redacted] b [API key redacted] c");
        tee::service_error s(401, "bad key " + std::string(secret_key));
        s.redact(secret_key);
        CHECK(s.service_message() == "bad key [API key redacted]");
        CHECK(std::string(s.what()) == "service answered HTTP 401: bad key [API key redacted]");
        CHECK(s.http_status() == 401);
    }
}

// ================================================================== secrets

// Runs last in the default (file/line) order: every failure message seen above.
TEST_CASE("secrets: no exception message contains the API key") {
    MESSAGE("exception messages checked: " << expect.messages_seen().size());
    for (const auto& m : expect.messages_seen()) {
        CAPTURE(m);
        CHECK_FALSE(contains(m, secret_key));
        CHECK_FALSE(contains(m, "SECRET"));
    }
}
