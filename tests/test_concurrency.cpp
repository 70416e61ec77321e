// One client shared by threads and chat_async: every answer verified and
// matched to its own prompt, the first use attests once, misrouted answers
// under load are caught, failures arrive through futures with their type.
#include "end_to_end.hpp"

using namespace tee_e2e;

TEST_CASE("threads: every answer is verified and matched to its own prompt when 8 threads share a client") {
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
                    const std::string message =
                        "thread " + std::to_string(t) + " chat " + std::to_string(i) + " \xe2\x82\xac";
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
            } catch (const std::exception&) {}
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

TEST_CASE("chat_async: chats in flight together each get their own answer; failures arrive with their exact type") {
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
        for (auto& f : futs)
            expect.transport_error([&] { f.get(); }, tee::transport_cause::timeout, "no answer within 0.2 s");
    }
}

TEST_CASE("secrets: no exception message of this suite contains the API key") {
    no_message_holds_the_key(5);  // the failure cases above check 5 messages
}
