// bench_crypto - what each operation of the protocol costs, for each crypto
// backend (tee::botan_crypto, tee::openssl_crypto), and the ratios between
// them measured in the same run (printed after the table).
//
//   build-bench/bench/bench_crypto [--benchmark_filter=REGEX] [--benchmark_out=F.json --benchmark_out_format=json]
//
// Names are "<operation>/<backend>", or "<operation>" when no backend is
// involved. Groups:
//   primitives   p384_keygen, ecdh, hkdf_sha256, aes256gcm_{seal,open}_{1KiB,64KiB},
//                aes256gcm_seal_request (the plaintext tee-chat sends in
//                bench/compare.sh: same API key length and prompt),
//                ecdsa_p384_verify_der, load_public_key
//   per chat     chat_request (nonce + plaintext + seal + body), chat_verify_answer
//                (parse + canonical JSON + ECDSA verify + field checks, short
//                answer), canonical_json_4KiB, parse_json_4KiB
//   attestation  nitro_verify_document: the real AWS vector of 2025-04-24, at
//                2025-04-24 04:00 UTC (injected clock), through each backend;
//                and its parts, Botan-only (the chain is always Botan's X.509):
//                nitro_parse, nitro_x509_decode (5 certificates),
//                nitro_chain_signatures (Botan's check_signature on the 4 links),
//                nitro_chain_links_botan (tee/detail/x509_chain.hpp's check_links),
//                nitro_x509_path_validate (Botan's path validation, for comparison)
//   Botan detail botan_verify_reused_verifier: ECDSA verify with one
//                PK_Verifier kept (what a per-session verifier would cost)
//
// CPU time is per calling thread; all benchmarks here are single-threaded.
#include <tee/tee.hpp>

#include <benchmark/benchmark.h>
#include <botan/ecdsa.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>
#include <botan/x509cert.h>
#include <botan/x509path.h>
#include <botan/certstor.h>
#include <botan/data_src.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

using bytes = std::vector<std::uint8_t>;
using namespace std::chrono_literals;

// The request tee-chat sends in bench/compare.sh (same lengths).
const tee::secret_string request_api_key("sk-bench-0123456789abcdef0123456789abcdef0123");
constexpr std::string_view request_prompt = "BTC price right now";

std::string read_data(const std::string& name) {
    std::ifstream f(std::string(TEE_BENCH_DATA_DIR) + "/" + name, std::ios::binary);
    if (!f) throw std::runtime_error("cannot read " + name + " in " TEE_BENCH_DATA_DIR);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

std::span<const std::uint8_t> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// An "LLM answer" of about `size` bytes in canonical form: prose with newlines,
// quotes and some non-ASCII (escaped as \uXXXX in the signed form).
std::string answer_text(std::size_t size) {
    static const std::string para =
        "Bitcoin (BTC) trades at about $97,000 \xe2\x80\x94 up 2.3% in 24 h. \"Volatility\" remains high; "
        "caf\xc3\xa9 owners in Z\xc3\xbcrich accept it \xf0\x9f\x98\x80.\n\tNot financial advice.\n";
    std::string out;
    while (tee::canonical_json(nlohmann::json(out)).size() < size) out += para;
    return out;
}

// An enclave key and a signed answer, made once with Botan (what the service signs).
struct signed_answer {
    bytes spki;             // enclave key, DER SPKI
    nlohmann::json data;    // the signed object
    std::string canonical;  // canonical_json(data)
    bytes sig;              // DER ECDSA P-384/SHA-384
    std::string body;       // the HTTP body as the service sends it (UTF-8, insertion order)
};

signed_answer make_answer(const Botan::ECDSA_PrivateKey& key, std::size_t response_size) {
    signed_answer a;
    a.spki = tee::p384::spki_of_point(tee::detail::botan::point_of(key));
    nlohmann::ordered_json data;
    data["platform"] = "openai";
    data["ai_model"] = "gpt-4";
    data["timestamp"] =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    data["message"] = std::string(request_prompt);
    data["response"] =
        response_size ? answer_text(response_size) : "Echo from the simulated enclave: BTC price right now";
    a.data = nlohmann::json(data);
    a.canonical = tee::canonical_json(a.data);
    Botan::PK_Signer signer(key, Botan::system_rng(), tee::detail::botan::ecdsa_sha384, tee::detail::botan::sig_der);
    auto s = signer.sign_message(as_bytes(a.canonical).data(), a.canonical.size(), Botan::system_rng());
    a.sig.assign(s.begin(), s.end());
    nlohmann::ordered_json body;
    body["sig"] = tee::to_hex(a.sig);
    body["data"] = data;
    a.body = body.dump();
    return a;
}

struct fixture {
    std::unique_ptr<Botan::ECDSA_PrivateKey> enclave =
        std::make_unique<Botan::ECDSA_PrivateKey>(Botan::system_rng(), tee::detail::botan::p384());
    signed_answer short_answer = make_answer(*enclave, 0);
    signed_answer answer_4k = make_answer(*enclave, 4096);
    bytes nitro_doc = *tee::from_base64(read_data("nitro_attestation_2025-04-24.b64"));
    tee::nitro_options nitro_at_4am() const {
        tee::nitro_options o;
        const auto t = std::chrono::sys_days{std::chrono::year{2025} / 4 / 24} + 4h;
        o.clock = [t] { return t; };
        o.accept_any_enclave_image = true;  // the verification is measured, not an image policy
        return o;
    }
};

fixture& fx() {
    static fixture f;
    return f;
}

void set_us(benchmark::internal::Benchmark* b) { b->Unit(benchmark::kMicrosecond); }

// ------------------------------------------------------------ per backend
template <class Crypto>
void register_backend(const std::string& name) {
    auto reg = [&](const std::string& op, auto fn) {
        set_us(benchmark::RegisterBenchmark((op + "/" + name).c_str(), fn));
    };
    reg("p384_keygen", [](benchmark::State& st) {
        Crypto c;
        for (auto _ : st) benchmark::DoNotOptimize(c.generate_p384());
    });
    reg("ecdh", [](benchmark::State& st) {
        Crypto c;
        auto mine = c.generate_p384();
        auto theirs = c.load_public_key(fx().short_answer.spki);
        for (auto _ : st) benchmark::DoNotOptimize(c.ecdh(mine, theirs));
    });
    reg("hkdf_sha256", [](benchmark::State& st) {
        Crypto c;
        bytes ikm(48, 0x42);
        for (auto _ : st) benchmark::DoNotOptimize(c.hkdf_sha256(ikm, {}, as_bytes(tee::protocol::hkdf_info), 32));
    });
    for (std::size_t size : {std::size_t{1024}, std::size_t{65536}}) {
        const std::string tag = size == 1024 ? "1KiB" : "64KiB";
        reg("aes256gcm_seal_" + tag, [size](benchmark::State& st) {
            Crypto c;
            bytes key(32, 7), iv = c.random_bytes(32), pt(size, 'a');
            for (auto _ : st) benchmark::DoNotOptimize(c.aes256gcm_seal(key, iv, pt));
            st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * size));
        });
        reg("aes256gcm_open_" + tag, [size](benchmark::State& st) {
            Crypto c;
            bytes key(32, 7), iv = c.random_bytes(32), pt(size, 'a');
            auto ct = c.aes256gcm_seal(key, iv, pt);
            for (auto _ : st) {
                auto out = c.aes256gcm_open(key, iv, ct);
                if (!out) st.SkipWithError("tag did not verify");
                benchmark::DoNotOptimize(out);
            }
            st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * size));
        });
    }
    reg("aes256gcm_seal_request", [](benchmark::State& st) {
        Crypto c;
        bytes key(32, 7), iv = c.random_bytes(32);
        auto pt = tee::protocol::request_plaintext(request_api_key, request_prompt, "openai", "gpt-4");
        for (auto _ : st) benchmark::DoNotOptimize(c.aes256gcm_seal(key, iv, pt));
        st.counters["plaintext_bytes"] = static_cast<double>(pt.size());
    });
    reg("ecdsa_p384_verify_der", [](benchmark::State& st) {
        Crypto c;
        const auto& a = fx().short_answer;
        auto pub = c.load_public_key(a.spki);
        for (auto _ : st)
            if (!c.ecdsa_p384_verify_der(pub, as_bytes(a.canonical), a.sig)) st.SkipWithError("did not verify");
    });
    // A one-shot verification: a key seen for the first time (load + verify),
    // as each of the 5 signatures of a Nitro document is. The unit of (c).
    reg("ecdsa_p384_verify_der_new_key", [](benchmark::State& st) {
        Crypto c;
        const auto& a = fx().short_answer;
        for (auto _ : st) {
            auto pub = c.load_public_key(a.spki);
            if (!c.ecdsa_p384_verify_der(pub, as_bytes(a.canonical), a.sig)) st.SkipWithError("did not verify");
        }
    });
    reg("load_public_key", [](benchmark::State& st) {
        Crypto c;
        for (auto _ : st) benchmark::DoNotOptimize(c.load_public_key(fx().short_answer.spki));
    });
    // The client's side of one chat, as client::exchange does it (minus HTTP).
    reg("chat_request", [](benchmark::State& st) {
        Crypto c;
        bytes aes(32, 7);
        const std::string spki_hex = tee::to_hex(c.spki_der(c.generate_p384()));
        for (auto _ : st) {
            auto nonce = c.random_bytes(tee::protocol::nonce_size);
            std::vector<std::uint8_t> ct;
            {
                auto pt = tee::protocol::request_plaintext(request_api_key, request_prompt, "openai", "gpt-4");
                ct = c.aes256gcm_seal(aes, nonce, pt);
            }
            benchmark::DoNotOptimize(tee::protocol::talk_request(nonce, spki_hex, ct));
        }
    });
    reg("chat_verify_answer", [](benchmark::State& st) {
        Crypto c;
        const auto& a = fx().short_answer;
        auto pub = c.load_public_key(a.spki);
        bytes aes(32, 7);
        const tee::http_response res{200, a.body};
        for (auto _ : st)
            benchmark::DoNotOptimize(tee::protocol::verify_answer(
                c, pub, res,
                {.prompt = request_prompt, .window = 24h, .keys = tee::protocol::answer_keys{aes, a.spki}}));
    });
    reg("chat_verify_answer_4KiB", [](benchmark::State& st) {
        Crypto c;
        const auto& a = fx().answer_4k;
        auto pub = c.load_public_key(a.spki);
        const tee::http_response res{200, a.body};
        for (auto _ : st)
            benchmark::DoNotOptimize(
                tee::protocol::verify_answer(c, pub, res, {.prompt = request_prompt, .window = 24h}));
    });
    reg("nitro_verify_document", [](benchmark::State& st) {
        Crypto c;
        tee::nitro_attestation policy(fx().nitro_at_4am());
        for (auto _ : st) benchmark::DoNotOptimize(policy.verify_document(fx().nitro_doc, c));
    });
}

// ------------------------------------------------------------ no backend
void register_common() {
    set_us(benchmark::RegisterBenchmark("canonical_json_4KiB", [](benchmark::State& st) {
        const auto& a = fx().answer_4k;
        for (auto _ : st) benchmark::DoNotOptimize(tee::canonical_json(a.data));
        st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * a.canonical.size()));
        st.counters["canonical_bytes"] = static_cast<double>(a.canonical.size());
    }));
    set_us(benchmark::RegisterBenchmark("parse_json_4KiB", [](benchmark::State& st) {
        const auto& a = fx().answer_4k;
        for (auto _ : st) benchmark::DoNotOptimize(tee::parse_json(a.body));
        st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * a.body.size()));
    }));
    set_us(benchmark::RegisterBenchmark("botan_verify_reused_verifier", [](benchmark::State& st) {
        const auto& a = fx().short_answer;
        tee::botan_crypto c;
        auto pub = c.load_public_key(a.spki);
        Botan::PK_Verifier v(*pub.key, tee::detail::botan::ecdsa_sha384, tee::detail::botan::sig_der);
        for (auto _ : st)
            if (!v.verify_message(as_bytes(a.canonical).data(), a.canonical.size(), a.sig.data(), a.sig.size()))
                st.SkipWithError("did not verify");
    }));
    set_us(benchmark::RegisterBenchmark("botan_verifier_construct", [](benchmark::State& st) {
        tee::botan_crypto c;
        auto pub = c.load_public_key(fx().short_answer.spki);
        for (auto _ : st) {
            Botan::PK_Verifier v(*pub.key, tee::detail::botan::ecdsa_sha384, tee::detail::botan::sig_der);
            benchmark::DoNotOptimize(&v);
        }
    }));
    // The parts of nitro_verify_document (Botan X.509 for the chain in both backends).
    set_us(benchmark::RegisterBenchmark("nitro_parse", [](benchmark::State& st) {
        for (auto _ : st) benchmark::DoNotOptimize(tee::nitro_attestation::parse(fx().nitro_doc));
    }));
    set_us(benchmark::RegisterBenchmark("nitro_x509_decode", [](benchmark::State& st) {
        auto p = tee::nitro_attestation::parse(fx().nitro_doc);
        for (auto _ : st) {
            std::vector<Botan::X509_Certificate> chain{Botan::X509_Certificate(p.certificate)};
            for (auto it = p.cabundle.rbegin(); it != p.cabundle.rend(); ++it) chain.emplace_back(*it);
            benchmark::DoNotOptimize(chain);
        }
        st.counters["certificates"] = static_cast<double>(1 + p.cabundle.size());
    }));
    set_us(benchmark::RegisterBenchmark("nitro_chain_signatures", [](benchmark::State& st) {
        auto p = tee::nitro_attestation::parse(fx().nitro_doc);
        std::vector<Botan::X509_Certificate> chain{Botan::X509_Certificate(p.certificate)};
        for (auto it = p.cabundle.rbegin(); it != p.cabundle.rend(); ++it) chain.emplace_back(*it);
        for (auto _ : st)
            for (std::size_t i = 0; i + 1 < chain.size(); ++i)
#if BOTAN_VERSION_MAJOR >= 3
                if (!chain[i].check_signature(*chain[i + 1].subject_public_key())) st.SkipWithError("chain");
#else
                if (!chain[i].check_signature(*chain[i + 1].load_subject_public_key())) st.SkipWithError("chain");
#endif
        st.counters["signatures"] = static_cast<double>(chain.size() - 1);
    }));
    set_us(benchmark::RegisterBenchmark("nitro_chain_links_botan", [](benchmark::State& st) {
        // tee/detail/x509_chain.hpp on the real chain: 4 link signatures through botan_crypto, and the rules.
        auto p = tee::nitro_attestation::parse(fx().nitro_doc);
        tee::x509_chain::certificate_path chain{std::make_shared<const Botan::X509_Certificate>(p.certificate)};
        for (auto it = p.cabundle.rbegin(); it != p.cabundle.rend(); ++it)
            chain.push_back(std::make_shared<const Botan::X509_Certificate>(*it));
        tee::botan_crypto c;
        for (auto _ : st)
            if (!tee::x509_chain::ok(tee::x509_chain::check_links(chain, c))) st.SkipWithError("chain");
    }));
    // Botan's own path validation of the same chain, for comparison with
    // tee/detail/x509_chain.hpp: 5 signatures, the root's self-signature included.
    set_us(benchmark::RegisterBenchmark("nitro_x509_path_validate", [](benchmark::State& st) {
        auto p = tee::nitro_attestation::parse(fx().nitro_doc);
        std::vector<Botan::X509_Certificate> chain{Botan::X509_Certificate(p.certificate)};
        for (auto it = p.cabundle.rbegin(); it != p.cabundle.rend(); ++it) chain.emplace_back(*it);
        const std::string pem(tee::aws_nitro_root_pem);
        Botan::DataSource_Memory ds(as_bytes(pem).data(), pem.size());
        Botan::X509_Certificate root(ds);
        const auto at = fx().nitro_at_4am().clock();
        for (auto _ : st) {
            Botan::Certificate_Store_In_Memory store;
            store.add_certificate(root);
            Botan::Path_Validation_Restrictions restrictions(false, 128);
            auto r = Botan::x509_path_validate(chain, restrictions, store, "", Botan::Usage_Type::UNSPECIFIED, at);
            if (!r.successful_validation()) st.SkipWithError(r.result_string().c_str());
        }
    }));
}

// ------------------------------------------------------------ ratios, same run
// Keeps the CPU time (us) of every run (the median when repeated) and prints
// the ratios after the table.
class ratio_reporter : public benchmark::ConsoleReporter {
public:
    bool ReportContext(const Context& ctx) override { return ConsoleReporter::ReportContext(ctx); }
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const auto& r : runs) {
            if (r.error_occurred) continue;
            if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
            const double us = r.GetAdjustedCPUTime() / benchmark::GetTimeUnitMultiplier(r.time_unit) * 1e6;
            cpu_us_[r.run_name.function_name] = us;
        }
    }
    void Finalize() override {
        ConsoleReporter::Finalize();
        auto get = [&](const std::string& n) -> double {
            auto it = cpu_us_.find(n);
            return it == cpu_us_.end() ? 0.0 : it->second;
        };
        auto& out = GetOutputStream();
        char line[256];
        out << "\nratios (CPU time, same run)\n";
        std::snprintf(line, sizeof line, "%-28s %12s %12s %10s\n", "operation", "botan us", "openssl us", "ossl/botan");
        out << line;
        for (const char* op :
             {"p384_keygen", "ecdh", "hkdf_sha256", "aes256gcm_seal_1KiB", "aes256gcm_open_1KiB",
              "aes256gcm_seal_64KiB", "aes256gcm_open_64KiB", "aes256gcm_seal_request", "ecdsa_p384_verify_der",
              "ecdsa_p384_verify_der_new_key", "load_public_key", "chat_request", "chat_verify_answer",
              "chat_verify_answer_4KiB", "nitro_verify_document"}) {
            const double b = get(std::string(op) + "/botan"), o = get(std::string(op) + "/openssl");
            if (b == 0 && o == 0) continue;
            std::snprintf(line, sizeof line, "%-28s %12.2f %12.2f %10.2f\n", op, b, o, b > 0 ? o / b : 0.0);
            out << line;
        }
        for (const char* be : {"botan", "openssl"}) {
            const std::string s = be;
            const double verify = get("ecdsa_p384_verify_der/" + s), seal = get("aes256gcm_seal_request/" + s);
            const double nitro = get("nitro_verify_document/" + s),
                         one_shot = get("ecdsa_p384_verify_der_new_key/" + s);
            const double request = get("chat_request/" + s), answer = get("chat_verify_answer/" + s);
            if (one_shot > 0 && nitro > 0) {
                std::snprintf(line, sizeof line,
                              "%-8s nitro_verify_document / (5 x one-shot ecdsa verify) = %.2f  (%.0f us / %.0f us)\n",
                              be, nitro / (5 * one_shot), nitro, 5 * one_shot);
                out << line;
            }
            if (verify > 0 && seal > 0 && request > 0 && answer > 0) {
                std::snprintf(line, sizeof line,
                              "%-8s chat crypto+protocol (request + verify_answer) / floor (verify + seal) = %.2f  "
                              "(%.1f us / %.1f us)\n",
                              be, (request + answer) / (verify + seal), request + answer, verify + seal);
                out << line;
            }
        }
        const double fresh = get("ecdsa_p384_verify_der_new_key/botan"), reused = get("ecdsa_p384_verify_der/botan");
        if (fresh > 0 && reused > 0) {
            std::snprintf(line, sizeof line, "botan    verify, key seen before (kept PK_Verifier) / new key = %.2f\n",
                          reused / fresh);
            out << line;
        }
    }

private:
    std::map<std::string, double> cpu_us_;
};

}  // namespace

int main(int argc, char** argv) {
    fx();  // build the fixture (keys, signatures, the vector) before any timing
    register_backend<tee::botan_crypto>("botan");
    register_backend<tee::openssl_crypto>("openssl");
    register_common();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    ratio_reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    return 0;
}
