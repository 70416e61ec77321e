// Replay: an answer is bound to its prompt, its time and the exchange's keys.
// A validly signed answer to another prompt, or older than the window, is
// replay_error; per_request client keys make an old encrypted answer
// unopenable by a later exchange.
#include "end_to_end.hpp"

using namespace tee_e2e;

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
        auto e =
            expect.error<tee::replay_error>([&] { client.chat(prompt); }, "s away from the local clock (window 2 s)");
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

// ======================================================= per-request keys

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

TEST_CASE("secrets: no exception message of this suite contains the API key") {
    no_message_holds_the_key(8);  // the failure cases above check 8 messages
}
