// Receipts (tee/receipt.hpp): the client's capture, tee::verify_receipt, the
// hash-chained log and tee::verify_receipt_log.
//
// Receipts come from real chats with a tee::testing::simulated_enclave in
// Nitro mode (its test chain trusted, its PCRs pinned), through an in-memory
// transport: plain and encrypted answers, legacy and well-known attestation
// endpoints. Each failure case edits one field of a good receipt and checks
// the exact exception type and its own message (tee_test::expectations).
#include "tee/client.hpp"
#include "tee/receipt.hpp"
#include "tee/testing/simulated_enclave.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace {

using json = nlohmann::json;
using R = tee::attestation_reason;
using namespace std::chrono_literals;
using tee::testing::enclave_options;
using tee::testing::simulated_enclave;

constexpr std::string_view secret_key = "sk-RECEIPT-SECRET-never-in-a-receipt";
tee_test::expectations expect{secret_key, tee_test::key_forms::plain_hex_base64};

class in_memory_transport {
public:
    explicit in_memory_transport(simulated_enclave& e) : e_(&e) {}
    tee::http_response get(std::string_view path) { return e_->handle("GET", path, ""); }
    tee::http_response post_json(std::string_view path, std::string_view body) {
        return e_->handle("POST", path, body);
    }

private:
    simulated_enclave* e_;
};

// A simulated Nitro enclave, a client with receipts on, and the options that
// verify its receipts (its test root, its PCR0..2 pinned).
struct fixture {
    simulated_enclave enclave;
    tee::receipt_options opt;
    tee::nitro_options trust;

    explicit fixture(bool encrypt = false) : enclave(enclave_options{.nitro = true, .encrypt_response = encrypt}) {
        trust.trusted_root = enclave.pki()->root_pem();
        trust.expected_pcrs = tee::testing::test_pki::default_pins();  // the simulated enclave's PCR0..2
        opt.nitro.trusted_root = trust.trusted_root;
        opt.nitro.expected_pcrs = trust.expected_pcrs;
    }

    tee::chat_result chat(std::string_view prompt, tee::attestation_endpoint ep = tee::attestation_endpoint::legacy,
                          bool receipts = true) {
        tee::config cfg = tee_test::make_config("https://enclave.example", secret_key);
        cfg.receipts = receipts;
        cfg.endpoint = ep;
        tee::client<in_memory_transport> c(cfg, in_memory_transport(enclave), tee::nitro_attestation(trust));
        return c.chat(prompt);
    }
    json receipt(std::string_view prompt = "BTC price right now",
                 tee::attestation_endpoint ep = tee::attestation_endpoint::legacy) {
        auto r = chat(prompt, ep);
        REQUIRE(r.receipt.has_value());
        return *r.receipt;
    }
};

std::string temp_path(const char* name) {
    auto p = std::filesystem::temp_directory_path() /
        (std::string("tee_receipts_") + std::to_string(::getpid()) + "_" + name);
    std::filesystem::remove(p);
    return p.string();
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}
std::string join(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
}

tee::receipt_options at(tee::receipt_options o, std::chrono::system_clock::time_point t) {
    o.clock = [t] { return t; };
    return o;
}

}  // namespace

TEST_CASE("receipts are off by default and cost nothing: chat_result has none") {
    fixture f;
    CHECK_FALSE(f.chat("hello", tee::attestation_endpoint::legacy, false).receipt.has_value());
}

TEST_CASE("a receipt holds exactly the fields of its format, the answer as served, and verifies") {
    for (bool encrypted : {false, true}) {
        for (auto ep : {tee::attestation_endpoint::legacy, tee::attestation_endpoint::well_known}) {
            CAPTURE(encrypted);
            CAPTURE(static_cast<int>(ep));
            fixture f(encrypted);
            const json r = f.receipt("BTC price right now", ep);
            for (const char* k : {"receipt_version", "url", "attestation", "answer", "signed_data", "request",
                                  "verified_at", "library"})
                CHECK(r.contains(k));
            CHECK(r["receipt_version"] == 1);
            CHECK(r["url"] == "https://enclave.example");
            CHECK(r["library"] == "tee-client " + std::string(tee::version()));
            CHECK(r["attestation"]["attestation_doc"].is_string());
            CHECK(r["attestation"].contains("public_key") == (ep == tee::attestation_endpoint::well_known));
            CHECK(r["answer"]["data"].contains("encrypted_data") == encrypted);
            CHECK(r["request"].size() == 2);
            CHECK(r["request"]["nonce"].get<std::string>().size() == 64);
            CHECK(r["signed_data"]["message"] == "BTC price right now");

            const auto now = std::chrono::system_clock::now();
            for (auto when : {now, now + std::chrono::hours(24 * 365), now + std::chrono::hours(24 * 365 * 5)}) {
                const tee::receipt_verification v = tee::verify_receipt(r, at(f.opt, when));
                CHECK(v.verified);
                CHECK(v.identity.kind == "nitro");
                // The chain is checked at the document's own time always; once it
                // has expired (a year on), there only.
                CHECK(v.identity.verified_at_document_time == (when != now));
                if (when != now)
                    CHECK(v.identity.verified_at ==
                          std::chrono::system_clock::time_point(std::chrono::milliseconds(v.identity.timestamp_ms)));
                CHECK(v.encrypted_answer == encrypted);
                CHECK(v.answer.message == "BTC price right now");
                CHECK(v.answer.response == "Echo from the simulated enclave: BTC price right now");
                CHECK(v.url == "https://enclave.example");
                CHECK(v.identity.key_fingerprint == tee::to_hex(tee::botan_crypto{}.sha256(f.enclave.public_key())));
            }
            // And from its text, as a file holds it.
            CHECK(tee::receipt_verifier<>(f.opt).verify_text(r.dump(2)).verified);
        }
    }
}

TEST_CASE(
    "a year-old receipt's document is beyond a live client's max_document_age: the receipt verifier sets no such "
    "bound") {
    fixture f;
    const json r = f.receipt();
    const auto later = std::chrono::system_clock::now() + std::chrono::hours(24 * 365);
    tee::nitro_options n = f.opt.nitro;
    n.clock = [later] { return later; };
    expect.attestation_error([&] { tee::nitro_attestation(n).verify(r["attestation"], tee::botan_crypto{}); },
                             R::expired, "days 0 h old (signed");
    CHECK(tee::verify_receipt(r, at(f.opt, later)).verified);
}

TEST_CASE("no receipt holds the API key, in any form") {
    for (bool encrypted : {false, true}) {
        fixture f(encrypted);
        const std::string text = f.receipt("what is my key?", tee::attestation_endpoint::well_known).dump();
        CHECK_FALSE(expect.leaks_key(text));
        CHECK(text.find("api_key") == std::string::npos);
    }
}

TEST_CASE("an answer that echoes the API key gets no receipt: the chat with receipts on is refused") {
    simulated_enclave echo(enclave_options{.nitro = true, .response_prefix = std::string(secret_key)});
    tee::nitro_options trust;
    trust.trusted_root = echo.pki()->root_pem();
    trust.expected_pcrs = tee::testing::test_pki::default_pins();
    tee::config cfg = tee_test::make_config("https://enclave.example", secret_key);
    tee::client<in_memory_transport> plain(cfg, in_memory_transport(echo), tee::nitro_attestation(trust));
    CHECK(plain.chat("hello").response.find(secret_key) == 0);  // without receipts the answer is the caller's
    cfg.receipts = true;
    tee::client<in_memory_transport> c(cfg, in_memory_transport(echo), tee::nitro_attestation(trust));
    expect.error<tee::protocol_error>([&] { c.chat("hello"); }, "the answer contains the API key: no receipt");
}

TEST_CASE("each edited field of a receipt is refused with its own message") {
    fixture plain;
    const json good = plain.receipt("BTC price right now", tee::attestation_endpoint::well_known);
    fixture enc(true);
    const json good_enc = enc.receipt();
    auto refused = [&](const json& base, const tee::receipt_options& o, const std::function<void(json&)>& edit) {
        json r = base;
        edit(r);
        return [r, o] { (void)tee::verify_receipt(r, o); };
    };
    const auto& o = plain.opt;

    SUBCASE("structure") {
        expect.error<tee::protocol_error>(refused(good, o, [](json& r) { r["receipt_version"] = 2; }),
                                          "receipt_version 2 is not one this verifier reads");
        expect.error<tee::protocol_error>(refused(good, o, [](json& r) { r.erase("receipt_version"); }),
                                          "receipt has no receipt_version");
        expect.error<tee::protocol_error>(refused(good, o, [](json& r) { r.erase("url"); }), "no \"url\" string");
        expect.error<tee::protocol_error>(refused(good, o, [](json& r) { r["verified_at"] = "now"; }),
                                          "no \"verified_at\" integer");
        expect.error<tee::protocol_error>(refused(good, o, [](json& r) { r["library"] = 1; }), "no \"library\" string");
        expect.error<tee::protocol_error>(refused(good, o, [](json& r) { r["request"]["nonce"] = "abcd"; }),
                                          "request nonce is not 32 bytes of hex");
        expect.error<tee::protocol_error>(refused(good, o, [](json& r) { r["request"]["public_key"] = "zz"; }),
                                          "request public_key is not a hex P-384");
        expect.error<tee::protocol_error>(refused(good, o, [](json& r) { r.erase("signed_data"); }),
                                          "no \"signed_data\" object");
        expect.error<tee::protocol_error>(refused(good, o, [](json& r) { r["answer"].erase("sig"); }),
                                          "receipt answer has no \"sig\" string");
        expect.error<tee::protocol_error>(refused(good, o, [](json& r) { r["answer"]["data"] = "x"; }),
                                          "receipt answer has no \"data\" object");
        expect.error<tee::protocol_error>([&] { (void)tee::receipt_verifier<>(o).verify_text("{\"a\":"); },
                                          "receipt is not JSON");
    }
    SUBCASE("attestation") {
        expect.attestation_error(
            refused(good, o,
                    [](json& r) {
                        auto doc = *tee::from_base64(r["attestation"]["attestation_doc"].get<std::string>());
                        doc.back() ^= 1;  // the COSE signature's last byte
                        r["attestation"]["attestation_doc"] = tee::to_base64(doc);
                    }),
            R::signature, "COSE signature does not verify");
        expect.attestation_error(
            refused(good, o, [&](json& r) { r["attestation"]["public_key"] = tee::to_hex(enc.enclave.public_key()); }),
            R::key_binding, "advertised public_key differs from the attested one");
        expect.attestation_error(refused(good, o, [](json& r) { r["attestation"].erase("attestation_doc"); }),
                                 R::malformed, "attestation answer has no attestation_doc");
        auto pinned = o;
        pinned.nitro.expected_pcrs[2] = std::string(96, 'b');
        expect.attestation_error(refused(good, pinned, [](json&) {}), R::pcr_mismatch, "PCR2 is ");
        auto other_root = o;
        other_root.nitro.trusted_root = enc.trust.trusted_root;
        expect.attestation_error(refused(good, other_root, [](json&) {}), R::chain,
                                 "certificate chain does not verify");
        expect.attestation_error(
            refused(good, at(o, std::chrono::system_clock::now() - std::chrono::hours(1)), [](json&) {}), R::future,
            ", in the future of ");
        // the document of another enclave: its key did not sign this answer
        expect.error<tee::signature_error>(refused(good, o,
                                                   [&](json& r) {
                                                       plain.enclave.rotate_key();
                                                       r["attestation"] = json::parse(plain.enclave.attestation().body);
                                                   }),
                                           "answer signature does not verify with the attested enclave key");
    }
    SUBCASE("answer and signed_data") {
        expect.error<tee::signature_error>(refused(good, o,
                                                   [](json& r) {
                                                       std::string sig = r["answer"]["sig"];
                                                       sig[sig.size() - 4] = sig[sig.size() - 4] == '0' ? '1' : '0';
                                                       r["answer"]["sig"] = sig;
                                                   }),
                                           "answer signature does not verify with the attested enclave key");
        expect.error<tee::protocol_error>(refused(good, o, [](json& r) { r["answer"]["sig"] = "xyz"; }),
                                          "answer \"sig\" is not hex");
        expect.error<tee::signature_error>(refused(good, o, [](json& r) { r["answer"]["data"]["response"] = "SELL"; }),
                                           "receipt signed_data differs from the answer's data");
        expect.error<tee::signature_error>(refused(good, o, [](json& r) { r["signed_data"]["response"] = "SELL"; }),
                                           "receipt signed_data differs from the answer's data");
        expect.error<tee::signature_error>(refused(good, o,
                                                   [](json& r) {
                                                       r["signed_data"]["response"] = "SELL";
                                                       r["answer"]["data"]["response"] = "SELL";
                                                   }),
                                           "answer signature does not verify with the attested enclave key");
        expect.error<tee::protocol_error>(refused(good, o,
                                                  [](json& r) {
                                                      r["signed_data"].erase("message");
                                                      r["answer"]["data"].erase("message");
                                                  }),
                                          "receipt signed_data has no \"message\" string");
        // the signature holds, but a field the answer must carry is missing
        expect.error<tee::protocol_error>(refused(good, o,
                                                  [&](json& r) {
                                                      json d = r["signed_data"];
                                                      d.erase("platform");
                                                      r["signed_data"] = d;
                                                      r["answer"] = {{"sig", plain.enclave.sign_hex(d)}, {"data", d}};
                                                  }),
                                          "signed data has no \"platform\"");
        expect.error<tee::signature_error>(refused(good, o,
                                                   [&](json& r) {
                                                       json d = r["signed_data"];
                                                       d["timestamp"] = d["timestamp"].get<std::int64_t>() + 86400;
                                                       r["signed_data"] = d;
                                                       r["answer"] = {{"sig", plain.enclave.sign_hex(d)}, {"data", d}};
                                                   }),
                                           "answer is signed after the verification clock");
    }
    SUBCASE("encrypted envelope") {
        const auto& eo = enc.opt;
        CHECK(tee::verify_receipt(good_enc, eo).verified);
        expect.error<tee::signature_error>(
            refused(good_enc, eo,
                    [&](json& r) { r["answer"]["data"]["public_key"] = tee::to_hex(plain.enclave.public_key()); }),
            "encrypted answer names an enclave key other than the attested one");
        expect.error<tee::protocol_error>(refused(good_enc, eo, [](json& r) { r["answer"]["data"]["nonce"] = "q"; }),
                                          "receipt encrypted answer \"nonce\" is not a hex string");
        expect.error<tee::signature_error>(
            refused(good_enc, eo, [](json& r) { r["signed_data"]["response"] = "SELL"; }),
            "answer signature does not verify with the attested enclave key");
    }
}

TEST_CASE("a mock receipt is refused unless mock is allowed, and then reported as not verified") {
    simulated_enclave mock_enclave;  // mock mode
    tee::config cfg = tee_test::make_config("http://127.0.0.1:1", secret_key);
    cfg.receipts = true;
    tee::client<in_memory_transport, tee::botan_crypto, tee::mock_attestation> c(cfg, in_memory_transport(mock_enclave),
                                                                                 tee::mock_attestation{});
    const json r = *c.chat("hello").receipt;
    expect.attestation_error([&] { (void)tee::verify_receipt(r); }, R::mock_refused,
                             "receipt holds a mock attestation, which proves nothing");
    tee::receipt_options o;
    o.allow_mock = true;
    const auto v = tee::verify_receipt(r, o);
    CHECK_FALSE(v.verified);
    CHECK_FALSE(v.identity.verified);
    CHECK(v.identity.kind == "mock");
    CHECK(v.answer.message == "hello");
    // A Nitro receipt whose answer says "mock": the same refusal, whatever the document.
    fixture f;
    json n = f.receipt();
    n["attestation"]["mock"] = true;
    expect.attestation_error([&] { (void)tee::verify_receipt(n, f.opt); }, R::mock_refused,
                             "receipt holds a mock attestation");
}

TEST_CASE("a receipt log chains its lines; a removed, swapped or edited line is refused at that line") {
    fixture f;
    const std::string path = temp_path("log.jsonl");
    std::string head;
    for (int i = 0; i < 4; ++i) head = tee::append_receipt(path, f.receipt("chat " + std::to_string(i)));
    const std::string text = slurp(path);
    const auto lines = lines_of(text);
    REQUIRE(lines.size() == 4);
    CHECK(json::parse(lines[0])["prev"] == tee::to_hex(tee::botan_crypto{}.sha256({})));
    CHECK(json::parse(lines[1])["prev"] == tee::to_hex(tee::botan_crypto{}.sha256(tee_test::bytes_of(lines[0]))));

    const tee::receipt_verifier<> verifier(f.opt);
    const auto ok = tee::verify_receipt_log(path, f.opt);
    CHECK(ok.ok());
    CHECK(ok.lines == 4);
    CHECK(ok.verified == 4);
    CHECK(ok.mock == 0);
    CHECK(ok.head == head);

    auto fails = [&](std::vector<std::string> ls, std::size_t line, tee::error_kind kind, std::string_view why) {
        const auto r = verifier.verify_log(join(ls));
        CAPTURE(r.failure);
        CHECK_FALSE(r.ok());
        CHECK(r.failed_line == line);
        CHECK(r.failure_kind == kind);
        CHECK(r.failure.find(why) != std::string::npos);
        CHECK(r.verified == line - 1);
        CHECK_FALSE(expect.leaks_key(r.failure));
    };
    SUBCASE("removed") {
        auto ls = lines;
        ls.erase(ls.begin() + 2);
        fails(ls, 3, tee::error_kind::signature, "line 3: prev is not the SHA-256 of line 2");
        ls = lines;
        ls.erase(ls.begin());
        fails(ls, 1, tee::error_kind::signature, "line 1: prev is not the SHA-256 of nothing");
    }
    SUBCASE("swapped") {
        auto ls = lines;
        std::swap(ls[1], ls[2]);
        fails(ls, 2, tee::error_kind::signature, "line 2: prev is not the SHA-256 of line 1");
    }
    SUBCASE("edited: a signed field fails at that line, an unsigned one at the next") {
        auto ls = lines;
        json l = json::parse(ls[1]);
        l["receipt"]["signed_data"]["response"] = "SELL";
        l["receipt"]["answer"]["data"]["response"] = "SELL";
        ls[1] = l.dump();
        fails(ls, 2, tee::error_kind::signature, "line 2: receipt refused: answer signature does not verify");
        ls = lines;
        l = json::parse(ls[1]);
        l["receipt"]["verified_at"] = 0;
        ls[1] = l.dump();
        fails(ls, 3, tee::error_kind::signature, "line 2 was edited");
        ls = lines;
        ls[1] += " ";  // a byte
        fails(ls, 3, tee::error_kind::signature, "line 2 was edited");
    }
    SUBCASE("malformed lines") {
        fails({lines[0], "not json"}, 2, tee::error_kind::protocol, "line 2: not a JSON line");
        fails({lines[0], "{\"receipt\":{}}"}, 2, tee::error_kind::protocol, "no \"prev\"");
        const auto torn = verifier.verify_log(join(lines).substr(0, text.size() - 10));
        CHECK(torn.failed_line == 4);
        CHECK(torn.failure.find("no newline at its end") != std::string::npos);
        auto pinned = f.opt;
        pinned.nitro.expected_pcrs[0] = std::string(96, 'c');
        const auto r = tee::receipt_verifier<>(pinned).verify_log(text);
        CHECK(r.failed_line == 1);
        CHECK(r.failure_kind == tee::error_kind::attestation);
        CHECK(r.failure.find("line 1: receipt refused: PCR0 is") != std::string::npos);
    }
    SUBCASE("an empty log verifies, with the hash of nothing as its head") {
        const auto r = verifier.verify_log("");
        CHECK(r.ok());
        CHECK(r.lines == 0);
        CHECK(r.head == tee::to_hex(tee::botan_crypto{}.sha256({})));
    }
    std::filesystem::remove(path);
}

TEST_CASE("appending to a log that ends in a partial line is refused; an unreadable log is a config error") {
    fixture f;
    const std::string path = temp_path("torn.jsonl");
    const json r = f.receipt();
    tee::append_receipt(path, r);
    { std::ofstream(path, std::ios::app) << "{\"prev\":"; }
    expect.error<tee::config_error>([&] { tee::append_receipt(path, r); }, "ends in a partial line");
    expect.error<tee::config_error>([&] { (void)tee::verify_receipt_log(path + ".absent", f.opt); }, "cannot read");
    expect.error<tee::config_error>([&] { tee::append_receipt("/nonexistent-dir/x.jsonl", r); }, "cannot open");
    std::filesystem::remove(path);
}

TEST_CASE("two processes appending to one log at once keep its chain whole") {
    fixture f;
    const std::string path = temp_path("concurrent.jsonl");
    const json r1 = f.receipt("from process 1"), r2 = f.receipt("from process 2");
    constexpr int per_process = 60;
    std::vector<pid_t> children;
    for (const json* r : {&r1, &r2}) {
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            int rc = 0;
            try {
                for (int i = 0; i < per_process; ++i) tee::append_receipt(path, *r);
            } catch (...) {
                rc = 1;
            }
            ::_exit(rc);
        }
        children.push_back(pid);
    }
    for (pid_t pid : children) {
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    }
    const auto report = tee::verify_receipt_log(path, f.opt);
    CAPTURE(report.failure);
    CHECK(report.ok());
    CHECK(report.verified == 2 * per_process);
    const std::string text = slurp(path);
    CHECK(text.find("from process 1") != std::string::npos);
    CHECK(text.find("from process 2") != std::string::npos);
    std::filesystem::remove(path);
}

TEST_CASE("the last exception messages hold no API key") {
    for (const auto& m : expect.messages_seen()) CHECK_FALSE(expect.leaks_key(m));
}
