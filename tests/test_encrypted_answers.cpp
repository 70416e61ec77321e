// Encrypted answers ({"encrypted_data","nonce","public_key"}): opened with
// the exchange's AES key, then verified like a plain answer (the signature
// covers the decrypted object); a named key that is not the attested one, a
// tampered ciphertext, tag or nonce, and malformed fields are refused.
#include "end_to_end.hpp"

using namespace tee_e2e;

TEST_CASE("encrypted answers: the simulated enclave's encrypted answers are opened and verified (mock mode)") {
    simulated_enclave enclave(options(false, true));
    proxy_server proxy(enclave);
    test_mock_client client(make_config(proxy.url()));
    for (const std::string& message :
         {std::string(prompt), std::string("h\xc3\xa9llo \"w\xc3\xb6rld\" \\ \n \xf0\x9f\x98\x80"), std::string()}) {
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

TEST_CASE(
    "encrypted answers: the named key must be the attested one, and a tampered or malformed field does not open") {
    simulated_enclave enclave(options(false, true));
    simulated_enclave other;  // another enclave key
    std::mutex mu;
    std::function<void(json & data)> edit;  // edits the "data" of /talk answers
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

TEST_CASE("encrypted answers: the signature covers the decrypted object, checked like a plain answer") {
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

TEST_CASE("secrets: no exception message of this suite contains the API key") {
    no_message_holds_the_key(21);  // the failure cases above check 21 messages
}
