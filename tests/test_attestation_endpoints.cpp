// The two attestation endpoints: POST /.well-known/attestation (with its
// advertised public_key, which must be the attested key) and the legacy GET
// /attestation; config::endpoint chooses, and automatic falls back to the
// legacy one only on 404 and 405.
#include "end_to_end.hpp"

using namespace tee_e2e;

TEST_CASE("endpoint: well_known, legacy and automatic each attest the same key; legacy is the default") {
    for (bool nitro : {false, true}) {
        CAPTURE(nitro);
        simulated_enclave enclave(options(nitro));
        proxy_server proxy(enclave);
        auto chat_with = [&](tee::attestation_endpoint e) {
            auto cfg = make_config(proxy.url());
            cfg.endpoint = e;
            tee::chat_result r;
            if (nitro)
                r = test_nitro_client(cfg, trusting(enclave)).chat(prompt);
            else
                r = test_mock_client(cfg).chat(prompt);
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

TEST_CASE("endpoint: automatic falls back to GET /attestation on 404; well_known does not, and sends no chat") {
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

TEST_CASE("secrets: no exception message of this suite contains the API key") {
    no_message_holds_the_key(16);  // the failure cases above check 16 messages
}
