// Key rotation: an enclave that restarts with a new key answers HTTP 500;
// the client attests again (fully verified, before any chat uses the new key)
// and retries once, at most once, and only for a key change.
#include "end_to_end.hpp"

using namespace tee_e2e;

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

TEST_CASE("key rotation: with a new key after every chat, each chat attests again once and retries once") {
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

TEST_CASE("key rotation: a new key is verified (nitro) before any chat uses it") {
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
        CHECK(proxy.log(talk)[1].status == 500);           // the one chat that failed was to the old key
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

TEST_CASE("secrets: no exception message of this suite contains the API key") {
    no_message_holds_the_key(9);  // the failure cases above check 9 messages
}
