// interop_client - a small driver of tee::mock_client for the Python interop
// tests (tests/test_interop_encrypted.py). Unlike tee-chat it reports what
// travelled on the wire: whether each answer was in the encrypted form, which
// client key each request carried, and every request made.
//
//   interop_client URL [--endpoint legacy|well_known|automatic] [--per-request] PROMPT...
//
// Environment: PLATFORM_API_KEY (required), PLATFORM, MODEL. Prints one JSON
// object per prompt, then {"requests": ["GET /attestation", ...]}. Exit 0
// when every chat verified, 1 when one failed, 2 on a usage error.
#include "tee/tee.hpp"

#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

struct wire_log {
    std::mutex mu;
    std::vector<std::string> requests;      // "METHOD path"
    std::string talk_request, talk_answer;  // the last POST /talk
};

wire_log& wire() {
    static wire_log log;
    return log;
}

// httplib_transport, recording each exchange in wire().
class recording_transport {
public:
    explicit recording_transport(const tee::transport_options& o) : inner_(o) {}

    tee::http_response get(std::string_view path) {
        note("GET", path, {});
        return inner_.get(path);
    }
    tee::http_response post_json(std::string_view path, std::string_view body) {
        note("POST", path, body);
        tee::http_response r = inner_.post_json(path, body);
        if (path == "/talk") {
            std::lock_guard lock(wire().mu);
            wire().talk_answer = r.body;
        }
        return r;
    }

private:
    static void note(std::string_view method, std::string_view path, std::string_view body) {
        std::lock_guard lock(wire().mu);
        wire().requests.push_back(std::string(method) + " " + std::string(path));
        if (path == "/talk") wire().talk_request = std::string(body);
    }
    tee::httplib_transport inner_;
};

using driver_client = tee::client<recording_transport, tee::botan_crypto, tee::mock_attestation>;

const char* type_of(const tee::error& e) {
    if (dynamic_cast<const tee::replay_error*>(&e)) return "replay_error";
    switch (e.kind()) {
        case tee::error_kind::config: return "config_error";
        case tee::error_kind::transport: return "transport_error";
        case tee::error_kind::attestation: return "attestation_error";
        case tee::error_kind::protocol: return "protocol_error";
        case tee::error_kind::service: return "service_error";
        case tee::error_kind::signature: return "signature_error";
    }
    return "error";
}

int usage() {
    std::cerr << "usage: interop_client URL [--endpoint legacy|well_known|automatic] [--per-request] PROMPT...\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc < 3) return usage();
    tee::config cfg = tee::config::from_env();
    cfg.url = argv[1];
    std::vector<std::string> prompts;
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--per-request") {
            cfg.client_keys = tee::client_key_mode::per_request;
        } else if (a == "--endpoint" && i + 1 < argc) {
            const std::string e = argv[++i];
            if (e == "legacy")
                cfg.endpoint = tee::attestation_endpoint::legacy;
            else if (e == "well_known")
                cfg.endpoint = tee::attestation_endpoint::well_known;
            else if (e == "automatic")
                cfg.endpoint = tee::attestation_endpoint::automatic;
            else
                return usage();
        } else {
            prompts.push_back(a);
        }
    }
    if (prompts.empty()) return usage();

    driver_client client(cfg);
    bool all_ok = true;
    for (const auto& p : prompts) {
        nlohmann::json out{{"prompt", p}};
        try {
            tee::chat_result r = client.chat(p);
            out["ok"] = true;
            out["message"] = r.message;
            out["response"] = r.response;
            out["enclave_key_fingerprint"] = r.enclave_key_fingerprint;
        } catch (const tee::error& e) {
            all_ok = false;
            out["ok"] = false;
            out["error_kind"] = std::string(tee::to_string(e.kind()));
            out["error_type"] = type_of(e);
            out["what"] = e.what();
        }
        {
            std::lock_guard lock(wire().mu);
            auto req = nlohmann::json::parse(wire().talk_request, nullptr, false);
            if (req.is_object() && req.contains("public_key")) out["request_public_key"] = req["public_key"];
            auto ans = nlohmann::json::parse(wire().talk_answer, nullptr, false);
            out["answer_encrypted"] = ans.is_object() && ans.contains("data") && ans["data"].is_object() &&
                ans["data"].contains("encrypted_data");
            wire().talk_request.clear();
            wire().talk_answer.clear();
        }
        std::cout << out.dump(-1, ' ', true) << "\n";  // ASCII: one line per object
    }
    std::lock_guard lock(wire().mu);
    std::cout << nlohmann::json{{"requests", wire().requests}}.dump() << std::endl;
    return all_ok ? 0 : 1;
} catch (const tee::error& e) {
    std::cerr << tee::to_string(e.kind()) << " error: " << e.what() << "\n";
    return 1;
}
