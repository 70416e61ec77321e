// fuzz_receipt: the receipt and receipt-log verifiers (tee/receipt.hpp), on
// untrusted files. At start-up the harness runs one real chat with a simulated
// Nitro enclave (in process, receipts on) and keeps its receipt: the only
// receipt whose Nitro verification can succeed (its test root and enclave key
// are random, held by this process only).
//
//   byte 0 bit 0-1: 0  the rest is a receipt (JSON) verified on its own
//                   1  the rest is a JSON merge patch (RFC 7386) applied to
//                      the genuine receipt, which is then verified: edits of
//                      a receipt that otherwise verifies reach every check
//                   2  the rest is a receipt log (JSON Lines)
//                   3  the rest is a receipt log; line 1's receipt, if it
//                      is {}, is replaced by the genuine one and prev recomputed
//          bit 2:   allow mock receipts
//
// Only tee::error may be thrown. A receipt may be reported verified only if it
// is Nitro-attested and its signed_data is the genuine one (nobody else holds
// the key); a mock receipt is never verified and read only when allowed; a
// log's report is consistent (ok() means every line verified).
//
// Seeds (fuzz/corpus/receipt/): mock receipts and logs (which verify fully
// with bit 2: their key is in the receipt), Nitro receipts of another test
// root, patches; written by `tee-chat --demo [--allow-mock] --receipt/--receipt-log`.
#include <tee/client.hpp>
#include <tee/receipt.hpp>
#include <tee/testing/simulated_enclave.hpp>

#include <chrono>
#include <string>

#include "fuzz_util.hpp"

namespace {

class in_memory_transport {
public:
    explicit in_memory_transport(tee::testing::simulated_enclave& e) : e_(&e) {}
    tee::http_response get(std::string_view path) { return e_->handle("GET", path, ""); }
    tee::http_response post_json(std::string_view path, std::string_view body) {
        return e_->handle("POST", path, body);
    }

private:
    tee::testing::simulated_enclave* e_;
};

struct genuine {
    tee::testing::simulated_enclave enclave{{.nitro = true}};
    nlohmann::json receipt;
    tee::receipt_options opt;
    genuine() {
        tee::nitro_options trust;
        trust.trusted_root = enclave.pki()->root_pem();
        trust.expected_pcrs = tee::testing::test_pki::default_pins();
        tee::config cfg;
        cfg.api_key = tee::secret_string("fuzz-key");
        cfg.platform = "openai";
        cfg.model = "gpt-4";
        cfg.receipts = true;
        cfg.endpoint = tee::attestation_endpoint::well_known;
        tee::client<in_memory_transport> c(cfg, in_memory_transport(enclave), tee::nitro_attestation(trust));
        receipt = *c.chat("fuzz").receipt;
        opt.nitro = trust;
        const auto now = std::chrono::system_clock::now();
        opt.clock = [now] { return now; };
    }
};

const genuine& state() {
    static const genuine g;
    return g;
}

void check(const tee::receipt_verification& v, bool allow_mock) {
    if (v.verified) {
        FUZZ_CHECK(v.identity.kind == "nitro" && v.identity.verified);
        FUZZ_CHECK(v.answer.data == state().receipt["signed_data"]);
    } else {
        FUZZ_CHECK(allow_mock && v.identity.kind == "mock" && !v.identity.verified);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const genuine& g = state();
    const unsigned mode = data[0] & 3u;
    const bool allow_mock = (data[0] & 4u) != 0;
    tee::receipt_options opt = g.opt;
    opt.allow_mock = allow_mock;
    const tee::receipt_verifier<> verifier(opt);
    std::string text(fuzz::text(data + 1, size - 1));
    try {
        if (mode == 0) {
            check(verifier.verify_text(text), allow_mock);
        } else if (mode == 1) {
            nlohmann::json r = g.receipt;
            r.merge_patch(tee::parse_json(text, tee::receipt_json_limits));
            check(verifier.verify(r), allow_mock);
        } else {
            if (mode == 3) {  // line 1 {"prev": ..., "receipt": {}} -> the genuine receipt, prev right
                const auto nl = text.find('\n');
                const auto first = tee::parse_json(std::string_view(text).substr(0, nl), tee::receipt_json_limits);
                if (first.is_object() && first.contains("receipt") && first["receipt"] == nlohmann::json::object()) {
                    nlohmann::json line = {{"prev", tee::to_hex(tee::botan_crypto{}.sha256({}))},
                                           {"receipt", g.receipt}};
                    text = line.dump() + (nl == std::string::npos ? std::string("\n") : text.substr(nl));
                }
            }
            const tee::receipt_log_report r = verifier.verify_log(text);
            FUZZ_CHECK(r.verified <= r.lines);
            FUZZ_CHECK(r.mock <= r.verified);
            FUZZ_CHECK(allow_mock || r.mock == 0);
            FUZZ_CHECK(r.ok() == (r.failed_line == 0));
            if (r.ok())
                FUZZ_CHECK(r.verified == r.lines && r.failure.empty());
            else
                FUZZ_CHECK(r.failed_line == r.verified + 1 && r.failed_line == r.lines && !r.failure.empty());
            FUZZ_CHECK(r.head.size() == 64);
        }
        fuzz::accepted("receipt");
    } catch (const tee::error& e) {
        fuzz::refused(e);
    }
    return 0;
}
