// The default transport's settings through the client: HTTPS with a CA file
// and a server key pin (on every connection of the pool), and what is refused;
// read_timeout against a slow server.
#include "end_to_end.hpp"

using namespace tee_e2e;

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

// ========================================================= read_timeout

TEST_CASE("read_timeout: an answer slower than it is transport_error timeout, in its time; one within it passes") {
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

TEST_CASE("secrets: no exception message of this suite contains the API key") {
    no_message_holds_the_key(12);  // the failure cases above check 12 messages
}
