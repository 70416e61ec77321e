// Fault injection: one test case per named fault of
// tee/testing/faults.hpp, through both paths where both make sense:
//
//  * (HTTP): a simulated Nitro enclave behind enclave_server with
//    server_options::fault, the default tee::client<> (httplib, Botan, real
//    Nitro verification against the test root) - what `mock_enclave --fault
//    NAME` serves;
//  * (test transport): tee::testing::fault_transport, the same enclave in
//    process, no sockets, transport faults on a simulated clock.
//
// Each case checks: the exact exception type and a fragment of its message
// (and cause() for transport errors), that chat() produced no chat_result
// (nothing was reported as a verified answer), that no message contains the
// API key (plain, hex or base64), and that the same client chats normally once
// the fault is switched off. Leaks and memory errors are the sanitizer
// build's part (clang++ -fsanitize=address,undefined, detect_leaks=1).
//
// tests/test_client.cpp covers many malformed answers with a hand-made
// server; this suite goes through the named faults, one by one.
#include "tee/tee.hpp"
#include "tee/testing/enclave_server.hpp"
#include "tee/testing/faults.hpp"
#include "tee/testing/simulated_enclave.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>

namespace {

using namespace std::chrono_literals;
using tee::testing::enclave_server;
using tee::testing::fault;
using tee::testing::fault_transport;
using tee::testing::server_options;
using tee::testing::simulated_enclave;

constexpr std::string_view secret_key = "sk-FAULTS-0f1e2d3c-never-printed";
constexpr std::string_view prompt = "BTC price right now";

using http_client = tee::client<>;  // httplib_transport, botan_crypto, nitro_attestation
using in_process_client = tee::client<fault_transport, tee::botan_crypto, tee::nitro_attestation>;

// ------------------------------------------------------------------ helpers

using tee_test::bytes_of;
using tee_test::closed_port;
using tee_test::contains;

// Every failure case goes through it: the exact exception type, a fragment of
// its message, and no form of the API key (plain, hex or base64) in it; it
// keeps each message it checked (checked again at the end).
tee_test::expectations expect{secret_key, tee_test::key_forms::plain_hex_base64};

// (fault, path) pairs that have a test case; checked at the end.
std::set<std::pair<fault, std::string>>& covered() {
    static std::set<std::pair<fault, std::string>> all;
    return all;
}

// The one enclave of the suite: Nitro mode, so the real verifier runs.
simulated_enclave& enclave() {
    static simulated_enclave e([] {
        tee::testing::enclave_options o;
        o.nitro = true;
        return o;
    }());
    return e;
}

tee::nitro_attestation trusting_test_root() {
    tee::nitro_options o;
    o.trusted_root = enclave().pki()->root_pem();
    o.expected_pcrs = tee::testing::test_pki::default_pins();  // the simulated enclave's image
    return tee::nitro_attestation(o);
}

tee::config make_config(std::string url) { return tee_test::make_config(std::move(url), secret_key); }

tee::transport_options options_of(const tee::config& cfg) {
    tee::transport_options o = cfg.transport;
    o.base_url = cfg.url;
    return o;
}

void check_verified_chat(const tee::chat_result& r) {
    CHECK(r.message == prompt);
    CHECK(contains(r.response, prompt));
    CHECK(r.attestation_kind == "nitro");
    CHECK_FALSE(r.signature.empty());
}

// What a fault must produce: the exception type E, a message fragment, and
// for a transport_error its cause.
struct expected {
    std::string_view fragment;
    std::optional<tee::transport_cause> cause = std::nullopt;
};

template <class E>
E expect_fault(const std::function<void()>& chat, const expected& want) {
    if constexpr (std::is_same_v<E, tee::transport_error>) {
        REQUIRE(want.cause.has_value());
        return expect.transport_error(chat, *want.cause, want.fragment);
    } else {
        return expect.error<E>(chat, want.fragment);
    }
}

// The fault over HTTP: enclave_server serves it, tee::client<> meets it.
template <class E>
E fault_over_http(fault f, std::string_view name, const expected& want,
                  const std::function<void(tee::config&)>& adjust = {}) {
    REQUIRE(tee::testing::fault_name(f) == name);
    covered().insert({f, "HTTP"});
    server_options so;
    so.fault = f;
    enclave_server server(enclave(), so);
    auto cfg = make_config(server.url());
    if (adjust) adjust(cfg);
    http_client client(cfg, trusting_test_root());
    CHECK(client.attest().verified);  // the attestation is served correctly: the fault hits the chat

    std::optional<tee::chat_result> result;
    E e = expect_fault<E>([&] { result = client.chat(prompt); }, want);
    CHECK_FALSE(result.has_value());  // no answer, so nothing reported as verified

    server.set_fault(fault::none);  // the same client, correct answers again
    check_verified_chat(client.chat(prompt));
    return e;
}

// The fault through fault_transport, in process.
template <class E>
E fault_in_process(fault f, std::string_view name, const expected& want,
                   const std::function<void(tee::config&)>& adjust = {}) {
    REQUIRE(tee::testing::fault_name(f) == name);
    covered().insert({f, "test transport"});
    auto cfg = make_config("http://enclave.invalid:8000");
    if (adjust) adjust(cfg);
    fault_transport transport(enclave(), f, options_of(cfg));
    auto ctl = transport.control();
    in_process_client client(cfg, std::move(transport), trusting_test_root());
    if (f != fault::connection_refused) CHECK(client.attest().verified);

    std::optional<tee::chat_result> result;
    E e = expect_fault<E>([&] { result = client.chat(prompt); }, want);
    CHECK_FALSE(result.has_value());
    CHECK(ctl->injected >= 1u);

    ctl->active = fault::none;
    check_verified_chat(client.chat(prompt));
    return e;
}

// A raw TCP server that answers "/ok" at once and, for any other path, drips
// its response *headers* one byte every 50 ms (for at most 10 s). httplib's
// timeouts are per read and its content receiver sees no headers, so only the
// transport's deadline thread can end such a request.
class header_drip_server {
public:
    std::string url() const { return server_.url(); }

private:
    tee_test::raw_server server_{[](int client, const std::atomic<bool>& stopping) {
        tee_test::answer_ok_then(client, [&](int c) {
            const std::string head = "HTTP/1.1 200 OK\r\nX-Drip: ";
            if (::send(c, head.data(), head.size(), MSG_NOSIGNAL) < 0) return;
            for (int i = 0; i < 200 && !stopping; ++i) {  // 10 s at most
                std::this_thread::sleep_for(50ms);
                if (::send(c, "a", 1, MSG_NOSIGNAL) < 0) return;  // the client hung up
            }
        });
    }};
};

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

// ============================================================ the fault list

TEST_CASE("faults: the table names every fault once, and names map back") {
    std::set<std::string_view> names;
    for (const auto& i : tee::testing::fault_table) {
        CAPTURE(i.name);
        CHECK(names.insert(i.name).second);
        REQUIRE(tee::testing::fault_from_name(i.name).has_value());
        CHECK(*tee::testing::fault_from_name(i.name) == i.id);
        CHECK(tee::testing::fault_name(i.id) == i.name);
        CHECK(i.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string_view::npos);
    }
    CHECK_FALSE(tee::testing::fault_from_name("no-such-fault").has_value());
    CHECK_THROWS_AS(enclave_server(enclave(),
                                   [] {
                                       server_options so;
                                       so.fault = fault::connection_refused;
                                       return so;
                                   }()),
                    std::invalid_argument);
}

// ======================================================== transport faults

TEST_CASE("fault: connection-refused (HTTP)") {
    covered().insert({fault::connection_refused, "HTTP"});  // over HTTP: a port nobody listens on
    http_client client(make_config("http://127.0.0.1:" + std::to_string(closed_port())), trusting_test_root());
    std::optional<tee::chat_result> result;
    const auto start = std::chrono::steady_clock::now();
    expect_fault<tee::transport_error>([&] { result = client.chat(prompt); },
                                       {"could not connect (refused or unreachable)", tee::transport_cause::refused});
    CHECK(seconds_since(start) < 2.0);
    CHECK_FALSE(result.has_value());
    // a fresh client against a listening enclave works
    enclave_server server(enclave());
    http_client fresh(make_config(server.url()), trusting_test_root());
    check_verified_chat(fresh.chat(prompt));
}

TEST_CASE("fault: connection-refused (test transport)") {
    auto e = fault_in_process<tee::transport_error>(
        fault::connection_refused, "connection-refused",
        {"GET enclave.invalid:8000/attestation: could not connect", tee::transport_cause::refused});
    CHECK(std::string(e.what()) ==
          "connection refused: GET enclave.invalid:8000/attestation: could not connect (refused or unreachable)");
}

TEST_CASE("fault: reset-mid-body (HTTP)") {
    fault_over_http<tee::transport_error>(
        fault::reset_mid_body, "reset-mid-body",
        {"/talk: connection closed before a complete answer", tee::transport_cause::connection});
}

TEST_CASE("fault: reset-mid-body (test transport)") {
    fault_in_process<tee::transport_error>(
        fault::reset_mid_body, "reset-mid-body",
        {"POST enclave.invalid:8000/talk: connection closed before a complete answer",
         tee::transport_cause::connection});
}

TEST_CASE("fault: endless-body (HTTP)") {
    // the client's total_timeout cuts the drip (a few bytes every 50 ms, each
    // well within the read timeout)
    fault_over_http<tee::transport_error>(fault::endless_body, "endless-body",
                                          {"/talk: answer not complete within 1 s", tee::transport_cause::timeout},
                                          [](tee::config& c) { c.transport.total_timeout = 1s; });
}

TEST_CASE("fault: endless-body (HTTP) ends at total_timeout, not before and not much later") {
    server_options so;
    so.fault = fault::endless_body;
    enclave_server server(enclave(), so);
    auto cfg = make_config(server.url());
    cfg.transport.total_timeout = 1s;
    http_client client(cfg, trusting_test_root());
    client.attest();  // total_timeout is per request: time the chat alone
    const auto start = std::chrono::steady_clock::now();
    expect_fault<tee::transport_error>([&] { client.chat(prompt); },
                                       {"answer not complete within 1 s", tee::transport_cause::timeout});
    const double elapsed = seconds_since(start);
    CHECK(elapsed >= 0.95);
    CHECK(elapsed < 4.0);
    CHECK(server.fault_bytes_sent() > 0u);  // it did drip
}

// Headers dripped byte by byte: only httplib_transport's deadline thread can
// end this. The thread is woken only when idle (each new deadline is later
// than the one it sleeps until), so cover both states: asleep on the deadline
// of a request that just finished, and idle after that deadline passed.
TEST_CASE("transport: headers dripped byte by byte hit total_timeout, with the deadline thread asleep or idle") {
    header_drip_server server;
    tee::transport_options o;
    o.base_url = server.url();
    o.total_timeout = 400ms;
    tee::httplib_transport t(o);
    for (const bool idle : {false, true}) {
        CAPTURE(idle);
        REQUIRE(t.get("/ok").status == 200);
        if (idle) std::this_thread::sleep_for(700ms);  // past that request's deadline
        const auto start = std::chrono::steady_clock::now();
        try {
            t.get("/drip");
            FAIL("a request whose headers never end returned");
        } catch (const tee::transport_error& e) {
            CHECK(e.cause() == tee::transport_cause::timeout);
            CHECK(contains(e.what(), "not complete within 0.4 s"));
        }
        const double elapsed = seconds_since(start);
        CHECK(elapsed >= 0.38);
        CHECK(elapsed < 2.0);
    }
}

TEST_CASE("fault: endless-body (test transport)") {
    // the default total_timeout of 120 s passes on the simulated clock, in no real time
    const auto start = std::chrono::steady_clock::now();
    fault_in_process<tee::transport_error>(
        fault::endless_body, "endless-body",
        {"POST enclave.invalid:8000/talk: answer not complete within 120 s", tee::transport_cause::timeout});
    CHECK(seconds_since(start) < 10.0);

    {  // total_timeout comes from the options; a drip slower than read_timeout fails on that first
        auto cfg = make_config("http://enclave.invalid:8000");
        cfg.transport.total_timeout = 1500ms;
        fault_transport t(enclave(), fault::endless_body, options_of(cfg));
        auto ctl = t.control();
        in_process_client client(cfg, std::move(t), trusting_test_root());
        expect_fault<tee::transport_error>([&] { client.chat(prompt); },
                                           {"answer not complete within 1.5 s", tee::transport_cause::timeout});
        CHECK(ctl->simulated_ms > 1500);
        CHECK(ctl->simulated_ms <= 1600);

        tee::testing::fault_sizes slow;
        slow.drip_interval = 2s;
        cfg.transport.read_timeout = 1s;
        in_process_client c2(cfg, fault_transport(enclave(), fault::endless_body, options_of(cfg), slow),
                             trusting_test_root());
        expect_fault<tee::transport_error>([&] { c2.chat(prompt); },
                                           {"/talk: no answer within 1 s", tee::transport_cause::timeout});
    }
}

TEST_CASE("fault: huge-body (HTTP)") {
    // 100 MB promised and streamed; the default cap (4 MiB) stops it quickly
    const auto start = std::chrono::steady_clock::now();
    fault_over_http<tee::transport_error>(fault::huge_body, "huge-body",
                                          {"/talk: answer exceeds 4194304 bytes", tee::transport_cause::too_large});
    CHECK(seconds_since(start) < 10.0);

    server_options so;
    so.fault = fault::huge_body;
    enclave_server server(enclave(), so);
    {  // the server wrote far less than 100 MB: the client gave up at its cap, nobody buffered it
        http_client client(make_config(server.url()), trusting_test_root());
        expect_fault<tee::transport_error>([&] { client.chat(prompt); },
                                           {"answer exceeds 4194304 bytes", tee::transport_cause::too_large});
        MESSAGE("huge-body: the server wrote " << server.fault_bytes_sent() << " of 100000000 bytes");
        CHECK(server.fault_bytes_sent() < 50'000'000u);
    }
    {  // a larger configured cap is reported with its own size
        auto cfg = make_config(server.url());
        cfg.transport.max_answer_bytes = 8u << 20;
        http_client client(cfg, trusting_test_root());
        expect_fault<tee::transport_error>([&] { client.chat(prompt); },
                                           {"answer exceeds 8388608 bytes", tee::transport_cause::too_large});
    }
}

TEST_CASE("fault: huge-body (test transport)") {
    fault_in_process<tee::transport_error>(
        fault::huge_body, "huge-body",
        {"POST enclave.invalid:8000/talk: answer exceeds 4194304 bytes", tee::transport_cause::too_large});

    // what the transport held and was offered
    auto cfg = make_config("http://enclave.invalid:8000");
    fault_transport t(enclave(), fault::huge_body, options_of(cfg));
    auto ctl = t.control();
    in_process_client client(cfg, std::move(t), trusting_test_root());
    expect_fault<tee::transport_error>([&] { client.chat(prompt); },
                                       {"answer exceeds 4194304 bytes", tee::transport_cause::too_large});
    CHECK(ctl->largest_body <= std::size_t{4} << 20);  // never more than the cap held
    CHECK(ctl->offered < 100'000'000u);                // and the rest never asked for
}

TEST_CASE("fault transport: the same causes and messages as httplib_transport, from the same options") {
    // The test transport mirrors the real one's rules (max_answer_bytes,
    // total_timeout): given the URL of a real server, the messages are equal.
    struct row {
        fault f;
        std::function<void(tee::config&)> adjust;
    };
    for (const row& r : {row{fault::reset_mid_body, {}},
                         row{fault::huge_body, [](tee::config& c) { c.transport.max_answer_bytes = 1u << 20; }},
                         row{fault::endless_body, [](tee::config& c) { c.transport.total_timeout = 700ms; }}}) {
        CAPTURE(tee::testing::fault_name(r.f));
        server_options so;
        so.fault = r.f;
        enclave_server server(enclave(), so);
        auto cfg = make_config(server.url());
        if (r.adjust) r.adjust(cfg);
        http_client real(cfg, trusting_test_root());
        in_process_client simulated(cfg, fault_transport(enclave(), r.f, options_of(cfg)), trusting_test_root());
        std::string a, b;
        tee::transport_cause ca{}, cb{};
        try {
            real.chat(prompt);
        } catch (const tee::transport_error& e) {
            a = e.what();
            ca = e.cause();
        }
        try {
            simulated.chat(prompt);
        } catch (const tee::transport_error& e) {
            b = e.what();
            cb = e.cause();
        }
        CHECK_FALSE(a.empty());
        CHECK(a == b);
        CHECK(ca == cb);
    }
    // refused: a closed port
    auto cfg = make_config("http://127.0.0.1:" + std::to_string(closed_port()));
    http_client real(cfg, trusting_test_root());
    in_process_client simulated(cfg, fault_transport(enclave(), fault::connection_refused, options_of(cfg)),
                                trusting_test_root());
    std::string a, b;
    try {
        real.attest();
    } catch (const tee::transport_error& e) {
        a = e.what();
    }
    try {
        simulated.attest();
    } catch (const tee::transport_error& e) {
        b = e.what();
    }
    CHECK_FALSE(a.empty());
    CHECK(a == b);
}

// ============================================================= data faults

// One test case per data fault and path: the name, the exception, the fragment.
#define DATA_FAULT(NAME, FAULT, ERROR, FRAGMENT)                                             \
    TEST_CASE("fault: " NAME " (HTTP)") { fault_over_http<ERROR>(FAULT, NAME, {FRAGMENT}); } \
    TEST_CASE("fault: " NAME " (test transport)") { fault_in_process<ERROR>(FAULT, NAME, {FRAGMENT}); }

// the JSON of the answer (parse_json's caps and strictness)
DATA_FAULT("invalid-utf8", fault::invalid_utf8, tee::protocol_error, "invalid string: ill-formed UTF-8 byte")
DATA_FAULT("lone-surrogate", fault::lone_surrogate, tee::protocol_error,
           "surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF")
DATA_FAULT("deep-nesting", fault::deep_nesting, tee::protocol_error, "answer is nested deeper than 32 levels")
DATA_FAULT("duplicate-keys", fault::duplicate_keys, tee::protocol_error,
           "answer has a duplicate object key \"response\"")
DATA_FAULT("big-integer", fault::big_integer, tee::protocol_error,
           "answer has an integer out of 64-bit range: 123456789012345678901234567890")

// each answer field missing (inside "data": signed again, so only the field is wrong)
DATA_FAULT("missing-sig", fault::missing_sig, tee::protocol_error, "answer has no \"sig\"")
DATA_FAULT("missing-data", fault::missing_data, tee::protocol_error, "answer has no \"data\"")
DATA_FAULT("missing-response", fault::missing_response, tee::protocol_error, "signed data has no \"response\"")
DATA_FAULT("missing-message", fault::missing_message, tee::protocol_error, "signed data has no \"message\"")
DATA_FAULT("missing-timestamp", fault::missing_timestamp, tee::protocol_error, "signed data has no \"timestamp\"")
DATA_FAULT("missing-platform", fault::missing_platform, tee::protocol_error, "signed data has no \"platform\"")
DATA_FAULT("missing-ai-model", fault::missing_ai_model, tee::protocol_error, "signed data has no \"ai_model\"")

// each answer field of the wrong type
DATA_FAULT("wrong-type-sig", fault::wrong_type_sig, tee::protocol_error, "answer \"sig\" is not a string")
DATA_FAULT("wrong-type-data", fault::wrong_type_data, tee::protocol_error, "answer \"data\" is not an object")
DATA_FAULT("wrong-type-response", fault::wrong_type_response, tee::protocol_error,
           "signed data \"response\" is not a string")
DATA_FAULT("wrong-type-message", fault::wrong_type_message, tee::protocol_error,
           "signed data \"message\" is not a string")
DATA_FAULT("wrong-type-timestamp", fault::wrong_type_timestamp, tee::protocol_error,
           "signed data \"timestamp\" is not an integer")
DATA_FAULT("wrong-type-platform", fault::wrong_type_platform, tee::protocol_error,
           "signed data \"platform\" is not a string")
DATA_FAULT("wrong-type-ai-model", fault::wrong_type_ai_model, tee::protocol_error,
           "signed data \"ai_model\" is not a string")

// well-formed, but not a valid answer to this prompt now
DATA_FAULT("bad-signature", fault::bad_signature, tee::signature_error,
           "answer signature does not verify with the attested enclave key")
DATA_FAULT("wrong-message", fault::wrong_message, tee::replay_error, "signed message differs from the prompt sent")
DATA_FAULT("stale-timestamp", fault::stale_timestamp, tee::replay_error,
           "s away from the local clock (window 300 s): a replayed answer")

#undef DATA_FAULT

// ================================================ the configurable answer cap

TEST_CASE("fault: large-answer (HTTP): 2 MiB passes with max_answer_bytes = 8 MiB, not under a 1 MiB cap") {
    covered().insert({fault::large_answer, "HTTP"});
    server_options so;
    so.fault = fault::large_answer;
    enclave_server server(enclave(), so);

    auto cfg = make_config(server.url());
    cfg.transport.max_answer_bytes = 8u << 20;
    http_client roomy(cfg, trusting_test_root());
    const auto r = roomy.chat(prompt);
    check_verified_chat(r);
    CHECK(r.response.size() > (2u << 20) - 1024);

    cfg.transport.max_answer_bytes = 1u << 20;
    http_client tight(cfg, trusting_test_root());
    std::optional<tee::chat_result> result;
    expect_fault<tee::transport_error>([&] { result = tight.chat(prompt); },
                                       {"answer exceeds 1048576 bytes", tee::transport_cause::too_large});
    CHECK_FALSE(result.has_value());
    server.set_fault(fault::none);
    check_verified_chat(tight.chat(prompt));
}

TEST_CASE("fault: large-answer (test transport): 2 MiB passes with max_answer_bytes = 8 MiB, not under a 1 MiB cap") {
    covered().insert({fault::large_answer, "test transport"});
    auto cfg = make_config("http://enclave.invalid:8000");
    cfg.transport.max_answer_bytes = 8u << 20;
    in_process_client roomy(cfg, fault_transport(enclave(), fault::large_answer, options_of(cfg)),
                            trusting_test_root());
    const auto r = roomy.chat(prompt);
    check_verified_chat(r);
    CHECK(r.response.size() > (2u << 20) - 1024);

    cfg.transport.max_answer_bytes = 1u << 20;
    fault_transport t(enclave(), fault::large_answer, options_of(cfg));
    auto ctl = t.control();
    in_process_client tight(cfg, std::move(t), trusting_test_root());
    std::optional<tee::chat_result> result;
    expect_fault<tee::transport_error>([&] { result = tight.chat(prompt); },
                                       {"answer exceeds 1048576 bytes", tee::transport_cause::too_large});
    CHECK_FALSE(result.has_value());
    ctl->active = fault::none;
    check_verified_chat(tight.chat(prompt));
}

TEST_CASE("answer cap: above the JSON parser's own 8 MiB limit, a raised transport cap still ends in protocol_error") {
    tee::testing::fault_sizes nine;
    nine.large_answer = 9u << 20;
    server_options so;
    so.fault = fault::large_answer;
    so.fault_sizes = nine;
    enclave_server server(enclave(), so);
    auto cfg = make_config(server.url());
    cfg.transport.max_answer_bytes = 16u << 20;
    http_client client(cfg, trusting_test_root());
    std::optional<tee::chat_result> result;
    expect.error<tee::protocol_error>([&] { result = client.chat(prompt); }, "answer is too large");
    CHECK_FALSE(result.has_value());

    in_process_client simulated(cfg, fault_transport(enclave(), fault::large_answer, options_of(cfg), nine),
                                trusting_test_root());
    expect.error<tee::protocol_error>([&] { result = simulated.chat(prompt); }, "limit 8388608");
    CHECK_FALSE(result.has_value());
}

// ================================================================== the end

// Runs last (doctest's default order is file and line): every fault of the
// table has its test cases, and no message of any of them held the API key.
TEST_CASE("faults: every named fault has a test case on both paths; no message holds the API key") {
    if (covered().empty()) {
        MESSAGE("run alone: no fault cases ran before this one, nothing to check");
        return;
    }
    for (const auto& i : tee::testing::fault_table) {
        if (i.id == fault::none) continue;
        CAPTURE(i.name);
        CHECK(covered().count({i.id, "HTTP"}) == 1);
        CHECK(covered().count({i.id, "test transport"}) == 1);
    }
    MESSAGE("faults covered: " << covered().size() << " (fault, path) pairs; exception messages checked: "
                               << expect.messages_seen().size());
    for (const auto& m : expect.messages_seen()) {
        CAPTURE(m);
        CHECK_FALSE(expect.leaks_key(m));
    }
    // the forms themselves are right (a check that checks nothing would pass too)
    CHECK(expect.leaks_key(std::string("x") + std::string(secret_key)));
    CHECK(expect.leaks_key(tee::to_base64(bytes_of("ab" + std::string(secret_key) + "cd"))));
    CHECK(expect.leaks_key(tee::to_base64(bytes_of("a" + std::string(secret_key)))));
    CHECK(expect.leaks_key(tee::to_hex(bytes_of(secret_key))));
}
