// tee-chat - a secure chat with an LLM enclave from the command line.
//
//   tee-chat [options] "prompt"        encrypt, send, verify, print the answer
//   tee-chat attest [options]          fetch and verify the attestation only
//   tee-chat verify-receipt FILE       verify a chat's receipt, offline
//   tee-chat verify-log FILE           verify a receipt log's chain and receipts, offline
//   tee-chat trust list|forget URL     the known-enclaves store (trust on first use)
//   tee-chat allowlist sign|verify     make or check a signed allowlist of images
//
// Reads PLATFORM_API_KEY, PLATFORM, MODEL and TEE_TLS_URL from the environment.
// --demo starts a simulated enclave in-process (Nitro mode, test root as the
// trust anchor) so the whole exchange runs offline with no API key.
#include <tee/tee.hpp>
#include <tee/testing/enclave_server.hpp>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

namespace {

enum exit_code {
    ok = 0,
    internal = 1,
    usage_error = 2,
    config = 3,
    transport = 4,
    attestation = 5,
    protocol = 6,
    service = 7,
    signature = 8
};

constexpr const char* help_text = R"(usage: tee-chat [options] "prompt"
       tee-chat attest [options]
       tee-chat verify-receipt FILE [--root FILE] [--pcr N=HEX] [--allow-mock] [--json]
       tee-chat verify-log FILE [--root FILE] [--pcr N=HEX] [--allow-mock] [--json]
       tee-chat trust list [--known-enclaves FILE]
       tee-chat trust forget URL [--known-enclaves FILE]
       tee-chat allowlist sign --key PRIVATE.pem IN.json     (prints the signed file)
       tee-chat allowlist verify --key PUBLIC.pem FILE

Sends the prompt to an LLM enclave: verifies the enclave's attestation,
encrypts the prompt and API key to the attested key, verifies the signed answer.

options:
  --demo           run against a simulated enclave started in-process on a free
                   loopback port (Nitro mode, its test root trusted and its image
                   pinned); no network, no API key needed
  --allow-mock     accept a development enclave's mock attestation (verifies
                   nothing; the only way to talk to a service outside an enclave)
  --root FILE      trust this root certificate (PEM or DER) instead of AWS's
  --pcr N=HEX      require PCR N to equal HEX (repeatable; pin 0, 1 and 2)
  --max-document-age DURATION  the oldest attestation document accepted once
                   its certificates have expired (services make one at start-up
                   and serve it while they run): e.g. 12h, 7d; 0 refuses any
                   expired certificate (default 30d)
  --allowlist FILE  accept the images of this signed allowlist...
  --allowlist-key PEM  ...signed by this release key (PEM public key)
  --known-enclaves FILE  the known-enclaves store (trust on first use): the
                   image first seen at a URL is recorded, a different one later
                   refused. Used when no --pcr, --allowlist or --any-image is
                   given; default $XDG_CONFIG_HOME/tee-chat/known_enclaves
                   (or ~/.config/tee-chat/known_enclaves)
  --any-image      accept any genuine Nitro enclave image (dangerous: anyone
                   with an AWS account can run one; warns on every run)
  --url URL        enclave base URL (default $TEE_TLS_URL or http://127.0.0.1:8000)
  --timeout SEC    limit for each request: connecting, every read, and the whole
                   exchange (default: connect 10, read 60, whole 120)
  --endpoint E     where to fetch the attestation: legacy (GET /attestation,
                   the default), well-known (POST /.well-known/attestation, whose
                   public_key must match the document) or auto (well-known,
                   falling back to legacy on 404/405)
  --per-request-keys  a fresh client key pair for every chat
  --protocol P     the enclave's protocol: tee-tls (the default: GET /attestation,
                   P-384 signed answers) or nova (Sparsity Nova: POST
                   /.well-known/attestation with a fresh nonce, the API key sent
                   once to /set-api-key, encrypted answers signed with EIP-191 by
                   the attested eth_addr); with attest, --demo and --repeat too
  --nova-label L   nova: the HKDF label of the enclave's runtime, capsule (the
                   default) or enclaver (images built before 2026-03-18)
  --ca FILE        https: trust this CA bundle (PEM) instead of the system store
  --pin-spki HEX   https: require the server key's SHA-256 (of its DER SPKI)
  --json           print one JSON object instead of text
  --repeat N       send the prompt N times on one client (one attestation, a
                   kept-alive connection) and print one summary line: count,
                   verified, all verified, mean latency per chat in ms (the
                   first failure stops the run and sets the exit code)
  --receipt FILE   write the chat's receipt (JSON) to FILE: the evidence that
                   anyone can verify offline later with verify-receipt
  --receipt-log FILE  append each chat's receipt to FILE, a hash-chained JSON
                   Lines log (safe from several processes); verify-log checks it
  -h, --help       this text;   --version   the library version

verify-receipt and verify-log work offline: the attestation document is
verified at its own signed time against --root (default: AWS's root) and the
--pcr pins, then the enclave's signature on the answer. --allow-mock reads
mock receipts (reported as NOT verified).

environment: PLATFORM_API_KEY (required, except with --demo), PLATFORM, MODEL, TEE_TLS_URL

exit codes:
  0 success               4 transport (refused, timeout, TLS)   7 service refused (error answer, HTTP 4xx/5xx)
  1 internal error        5 attestation failed                  8 signature or replay check failed
  2 usage                 6 protocol (malformed answer)
  3 configuration
)";

struct options {
    bool attest_only = false, demo = false, allow_mock = false, json = false, per_request_keys = false;
    enum class offline { none, receipt, log } verify = offline::none;  // verify-receipt / verify-log FILE
    bool any_image = false;
    std::string prompt, root_file, url, ca_file, pin, receipt_file, receipt_log;
    std::string allowlist_file, allowlist_key, known_enclaves, key_file;
    std::string command;                 // "" (chat), "attest", "trust", "allowlist"
    std::vector<std::string> arguments;  // of trust / allowlist: the action and its operands
    tee::attestation_endpoint endpoint = tee::attestation_endpoint::legacy;
    bool endpoint_given = false;
    bool nova = false;  // --protocol nova
    tee::nova_label nova_label = tee::nova_label::capsule;
    bool nova_label_given = false;
    std::map<unsigned, std::string> pcrs;
    std::optional<long> timeout_s;
    std::optional<std::chrono::milliseconds> max_document_age;
    long repeat = 0;  // --repeat N: N chats, one summary line
};

int exit_for(const tee::error& e) {
    switch (e.kind()) {
        case tee::error_kind::config: return config;
        case tee::error_kind::transport: return transport;
        case tee::error_kind::attestation: return attestation;
        case tee::error_kind::protocol: return protocol;
        case tee::error_kind::service: return service;
        case tee::error_kind::signature: return signature;
    }
    return internal;
}

// A spinner on stderr while the exchange runs, only when stderr is a terminal.
class spinner {
public:
    spinner() {
        if (!isatty(STDERR_FILENO)) return;
        thread_ = std::thread([this] {
            const char* frames = "|/-\\";
            for (int i = 0; !done_; ++i) {
                std::cerr << "\r" << frames[i % 4] << " talking to the enclave..." << std::flush;
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
            std::cerr << "\r\033[K" << std::flush;
        });
    }
    ~spinner() {
        done_ = true;
        if (thread_.joinable()) thread_.join();
    }

private:
    std::atomic<bool> done_{false};
    std::thread thread_;
};

std::string iso_ms(std::uint64_t ms) {
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    const std::tm tm = tee::detail::platform::utc_calendar(t);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}
std::string iso(std::chrono::system_clock::time_point tp) {
    return iso_ms(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count()));
}

nlohmann::ordered_json identity_json(const tee::enclave_identity& id) {
    nlohmann::ordered_json j;
    j["kind"] = id.kind;
    j["verified"] = id.verified;
    j["key_fingerprint"] = id.key_fingerprint;
    j["public_key"] = tee::to_hex(id.public_key);
    if (id.kind == "nitro") {
        j["module_id"] = id.module_id;
        j["timestamp_ms"] = id.timestamp_ms;
        j["verified_at"] = iso(id.verified_at);
        j["verified_at_document_time"] = id.verified_at_document_time;
        j["document_age_s"] = std::chrono::duration_cast<std::chrono::seconds>(id.document_age).count();
        j["image_policy"] = id.image_policy;
        j["first_contact"] = id.first_contact;
        j["pcrs"] = nlohmann::ordered_json::object();
        for (const auto& [i, v] : id.pcrs) j["pcrs"][std::to_string(i)] = tee::to_hex(v);
        j["chain"] = nlohmann::ordered_json::array();
        for (const auto& c : id.chain)
            j["chain"].push_back(
                {{"subject", c.subject}, {"not_before", iso(c.not_before)}, {"not_after", iso(c.not_after)}});
    }
    return j;
}

void print_identity(const tee::enclave_identity& id) {
    std::cout << "attestation: " << id.kind << (id.verified ? " (verified)" : " (NOT verified: mock)") << "\n"
              << "enclave key: sha256:" << id.key_fingerprint << "\n";
    if (!id.user_data.empty() && id.user_data.front() == '{') {  // Nova: the attested signing address
        try {
            std::cout << "signer:      " << tee::detail::nova::to_string(tee::nova_protocol::signer_of(id))
                      << " (eth_addr of the attested user_data)\n";
        } catch (const tee::error&) {}
    }
    if (id.kind != "nitro") return;
    std::cout << "module:      " << id.module_id << "\n"
              << "signed at:   " << iso_ms(id.timestamp_ms) << "\n"
              << "verified at: " << iso(id.verified_at);
    if (id.verified_at_document_time)
        std::cout << " (the document's own time: its certificates have expired since; a start-up document "
                  << tee::nitro_attestation::age_text(id.document_age) << " old, within --max-document-age)";
    std::cout << "\n";
    std::cout << "image:       " << id.image_policy << "\n";
    for (const auto& [i, v] : id.pcrs) std::cout << "PCR" << i << (i < 10 ? ":  " : ": ") << tee::to_hex(v) << "\n";
    for (const auto& c : id.chain)
        std::cout << "cert:        " << c.subject << "  [" << iso(c.not_before) << " .. " << iso(c.not_after) << "]\n";
}

// --receipt FILE / --receipt-log FILE: the verified chat's receipt, kept.
void keep_receipt(const tee::chat_result& r, const options& o) {
    if (!r.receipt) return;
    if (!o.receipt_log.empty()) tee::append_receipt(o.receipt_log, *r.receipt);
    if (!o.receipt_file.empty()) {
        std::ofstream out(o.receipt_file, std::ios::binary | std::ios::trunc);
        out << r.receipt->dump(2) << "\n";
        if (!out.flush()) throw tee::config_error("cannot write the receipt to " + o.receipt_file);
    }
}

// --repeat N: the chats run back to back on one client; one summary line.
// A failing chat ends the run: the summary says so, the error sets the exit code.
template <class Client>
int run_repeated(Client& client, const options& o) {
    long done = 0;
    std::chrono::steady_clock::duration total{};
    auto summary = [&](bool failed) {
        const double mean_ms = done ? std::chrono::duration<double, std::milli>(total).count() / double(done) : 0.0;
        if (o.json) {
            nlohmann::ordered_json j;
            j["count"] = o.repeat;
            j["verified"] = done;
            j["all_verified"] = !failed;
            j["mean_latency_ms"] = mean_ms;
            std::cout << j.dump() << std::endl;
        } else {
            std::ostringstream line;
            line.setf(std::ios::fixed);
            line.precision(3);
            line << "repeat: " << o.repeat << " chats, " << done
                 << " verified, all verified: " << (failed ? "no" : "yes") << ", mean latency " << mean_ms << " ms";
            std::cout << line.str() << std::endl;
        }
    };
    spinner s;
    try {
        client.attest();  // before the clock: latency is per chat, not per attestation
        for (; done < o.repeat; ++done) {
            const auto start = std::chrono::steady_clock::now();
            const tee::chat_result r = client.chat(o.prompt);  // throws unless verified (signature, prompt, time)
            total += std::chrono::steady_clock::now() - start;
            keep_receipt(r, o);
        }
    } catch (...) {
        summary(true);
        throw;
    }
    summary(false);
    return ok;
}

template <class Client>
int run(Client& client, const options& o) {
    if (o.repeat > 0) return run_repeated(client, o);
    if (o.attest_only) {
        tee::enclave_identity id;
        {
            spinner s;
            id = client.attest();
        }
        if (o.json)
            std::cout << identity_json(id).dump(2) << "\n";
        else
            print_identity(id);
        return ok;
    }
    tee::chat_result r;
    {
        spinner s;
        r = client.chat(o.prompt);
    }
    keep_receipt(r, o);
    const auto& id = client.attest();
    if (o.json) {
        nlohmann::ordered_json j;
        j["response"] = r.response;
        j["message"] = r.message;
        j["platform"] = r.platform;
        j["ai_model"] = r.ai_model;
        j["timestamp"] = r.timestamp;
        j["signature_verified"] = true;
        j["signature"] = r.signature;
        j["protocol"] = r.protocol;
        if (!r.signer_address.empty()) j["signer_address"] = r.signer_address;
        j["attestation"] = identity_json(id);
        std::cout << j.dump(2) << "\n";
    } else {
        std::cout << r.response << "\n\n"
                  << "-- signature verified"
                  << (r.signer_address.empty() ? "" : " (Nova, EIP-191 by the attested " + r.signer_address + ")")
                  << "; attestation " << id.kind << (id.verified ? " (verified)" : " (mock: NOT verified)")
                  << "; enclave key sha256:" << id.key_fingerprint.substr(0, 16) << "..."
                  << (id.verified_at_document_time ? "; a start-up document " +
                              tee::nitro_attestation::age_text(id.document_age) + " old, verified at its own time"
                                                   : "")
                  << "\n";
    }
    return ok;
}

// "0", or a count and a unit: 90s, 30m, 12h, 7d (at most 9 digits: no overflow).
std::optional<std::chrono::milliseconds> parse_duration(const std::string& v) {
    if (v == "0") return std::chrono::milliseconds(0);
    const std::string digits = v.empty() ? v : v.substr(0, v.size() - 1);
    if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    const std::int64_t n = std::stoll(digits);
    switch (v.back()) {
        case 's': return std::chrono::seconds(n);
        case 'm': return std::chrono::minutes(n);
        case 'h': return std::chrono::hours(n);
        case 'd': return std::chrono::days(n);
    }
    return std::nullopt;
}

int parse(int argc, char** argv, options& o) {
    int i = 1;
    if (argc > 1 && std::string(argv[1]) == "attest") {
        o.attest_only = true;
        ++i;
    } else if (argc > 1 && std::string(argv[1]) == "verify-receipt") {
        o.verify = options::offline::receipt;
        ++i;
    } else if (argc > 1 && std::string(argv[1]) == "verify-log") {
        o.verify = options::offline::log;
        ++i;
    } else if (argc > 1 && (std::string(argv[1]) == "trust" || std::string(argv[1]) == "allowlist"))
        o.command = argv[i++];
    for (; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::optional<std::string> {
            if (i + 1 >= argc) return std::nullopt;
            return std::string(argv[++i]);
        };
        std::optional<std::string> v;
        if (a == "-h" || a == "--help") {
            std::cout << help_text;
            return 0;
        } else if (a == "--version") {
            std::cout << "tee-chat " << tee::version() << "\n";
            return 0;
        } else if (a == "--demo")
            o.demo = true;
        else if (a == "--allow-mock")
            o.allow_mock = true;
        else if (a == "--json")
            o.json = true;
        else if (a == "--per-request-keys")
            o.per_request_keys = true;
        else if (a == "--any-image")
            o.any_image = true;
        else if (a == "--root" || a == "--url" || a == "--pcr" || a == "--timeout" || a == "--repeat" || a == "--ca" ||
                 a == "--pin-spki" || a == "--endpoint" || a == "--max-document-age" || a == "--receipt" ||
                 a == "--receipt-log" || a == "--allowlist" || a == "--allowlist-key" || a == "--known-enclaves" ||
                 a == "--key" || a == "--protocol" || a == "--nova-label") {
            if (!(v = next())) {
                std::cerr << "tee-chat: " << a << " needs a value\n";
                return usage_error;
            }
            if (a == "--root")
                o.root_file = *v;
            else if (a == "--receipt")
                o.receipt_file = *v;
            else if (a == "--receipt-log")
                o.receipt_log = *v;
            else if (a == "--allowlist")
                o.allowlist_file = *v;
            else if (a == "--allowlist-key")
                o.allowlist_key = *v;
            else if (a == "--known-enclaves")
                o.known_enclaves = *v;
            else if (a == "--key")
                o.key_file = *v;
            else if (a == "--ca")
                o.ca_file = *v;
            else if (a == "--pin-spki")
                o.pin = *v;
            else if (a == "--protocol") {
                if (*v == "nova" || *v == "tee-tls")
                    o.nova = *v == "nova";
                else {
                    std::cerr << "tee-chat: --protocol wants tee-tls or nova\n";
                    return usage_error;
                }
            } else if (a == "--nova-label") {
                o.nova_label_given = true;
                if (*v == "capsule")
                    o.nova_label = tee::nova_label::capsule;
                else if (*v == "enclaver")
                    o.nova_label = tee::nova_label::enclaver;
                else {
                    std::cerr << "tee-chat: --nova-label wants capsule or enclaver\n";
                    return usage_error;
                }
            } else if (a == "--endpoint") {
                o.endpoint_given = true;
                if (*v == "legacy")
                    o.endpoint = tee::attestation_endpoint::legacy;
                else if (*v == "well-known")
                    o.endpoint = tee::attestation_endpoint::well_known;
                else if (*v == "auto")
                    o.endpoint = tee::attestation_endpoint::automatic;
                else {
                    std::cerr << "tee-chat: --endpoint wants legacy, well-known or auto\n";
                    return usage_error;
                }
            } else if (a == "--url")
                o.url = *v;
            else if (a == "--max-document-age") {
                if (!(o.max_document_age = parse_duration(*v))) {
                    std::cerr << "tee-chat: --max-document-age wants a duration: 0, or a number with s, m, h or d "
                                 "(12h, 7d)\n";
                    return usage_error;
                }
            } else if (a == "--timeout") {
                char* end = nullptr;
                long t = std::strtol(v->c_str(), &end, 10);
                if (*end != '\0' || t <= 0) {
                    std::cerr << "tee-chat: --timeout wants seconds > 0\n";
                    return usage_error;
                }
                o.timeout_s = t;
            } else if (a == "--repeat") {
                char* end = nullptr;
                long n = std::strtol(v->c_str(), &end, 10);
                if (*end != '\0' || n <= 0) {
                    std::cerr << "tee-chat: --repeat wants a count > 0\n";
                    return usage_error;
                }
                o.repeat = n;
            } else {
                auto eq = v->find('=');
                char* end = nullptr;
                unsigned long n = eq == std::string::npos ? 99 : std::strtoul(v->substr(0, eq).c_str(), &end, 10);
                if (n > 31) {
                    std::cerr << "tee-chat: --pcr wants N=HEX with N in 0..31\n";
                    return usage_error;
                }
                o.pcrs[static_cast<unsigned>(n)] = v->substr(eq + 1);
            }
        } else if (!a.empty() && a[0] == '-') {
            std::cerr << "tee-chat: unknown option " << a << " (see --help)\n";
            return usage_error;
        } else if (!o.command.empty())
            o.arguments.push_back(a);
        else if (o.prompt.empty() && !o.attest_only)
            o.prompt = a;  // the prompt, or verify-*'s FILE
        else {
            std::cerr << "tee-chat: unexpected argument (quote the prompt)\n";
            return usage_error;
        }
    }
    if (o.command == "trust") {
        const bool list = o.arguments.size() == 1 && o.arguments[0] == "list";
        const bool forget = o.arguments.size() == 2 && o.arguments[0] == "forget";
        if (!list && !forget) {
            std::cerr << "tee-chat: usage: tee-chat trust list | trust forget URL\n";
            return usage_error;
        }
        return -1;
    }
    if (o.command == "allowlist") {
        if (o.arguments.size() != 2 || (o.arguments[0] != "sign" && o.arguments[0] != "verify") || o.key_file.empty()) {
            std::cerr << "tee-chat: usage: tee-chat allowlist sign --key PRIVATE.pem IN.json | "
                         "allowlist verify --key PUBLIC.pem FILE\n";
            return usage_error;
        }
        return -1;
    }
    if (o.allowlist_file.empty() != o.allowlist_key.empty()) {
        std::cerr << "tee-chat: --allowlist and --allowlist-key go together\n";
        return usage_error;
    }
    if (!o.key_file.empty()) {
        std::cerr << "tee-chat: --key applies to the allowlist subcommands\n";
        return usage_error;
    }
    if (!o.attest_only && o.prompt.empty()) {
        std::cerr << help_text;
        return usage_error;
    }
    if ((o.attest_only || o.verify != options::offline::none) && !(o.receipt_file.empty() && o.receipt_log.empty())) {
        std::cerr << "tee-chat: --receipt and --receipt-log apply to chats\n";
        return usage_error;
    }
    if (o.repeat > 0 && !o.receipt_file.empty()) {
        std::cerr << "tee-chat: --receipt keeps one chat's receipt; with --repeat use --receipt-log\n";
        return usage_error;
    }
    if (o.verify != options::offline::none && (o.repeat > 0 || o.demo)) {
        std::cerr << "tee-chat: verify-receipt and verify-log take FILE, --root, --pcr, --allow-mock and --json\n";
        return usage_error;
    }
    if (o.attest_only && o.repeat > 0) {
        std::cerr << "tee-chat: --repeat applies to chats, not to attest\n";
        return usage_error;
    }
    if (o.nova && o.endpoint_given) {
        std::cerr << "tee-chat: --endpoint is tee-tls's; Nova has one attestation endpoint (POST "
                     "/.well-known/attestation)\n";
        return usage_error;
    }
    if (!o.nova && o.nova_label_given) {
        std::cerr << "tee-chat: --nova-label needs --protocol nova\n";
        return usage_error;
    }
    return -1;  // go on
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw tee::config_error("cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// What verify-receipt and verify-log check a receipt against: the trust root
// and the image policy, as for chats.
tee::receipt_options receipt_options_for(const options& o) {
    tee::receipt_options ro;
    ro.nitro.expected_pcrs = o.pcrs;
    if (!o.root_file.empty()) ro.nitro.trusted_root = read_file(o.root_file);
    if (!o.allowlist_file.empty())  // no rollback state: a receipt is checked against the list given
        ro.nitro.allowlist = tee::allowlist_options{read_file(o.allowlist_file), read_file(o.allowlist_key), ""};
    ro.allow_mock = o.allow_mock;
    return ro;
}

// tee-chat verify-receipt FILE / verify-log FILE: offline, no API key needed.
int verify_offline(const options& o) {
    const tee::receipt_verifier<> verifier(receipt_options_for(o));
    if (o.verify == options::offline::log) {
        const tee::receipt_log_report r = verifier.verify_log_file(o.prompt);
        if (o.json) {
            nlohmann::ordered_json j;
            j["ok"] = r.ok();
            j["lines"] = r.lines;
            j["verified"] = r.verified;
            j["mock"] = r.mock;
            j["head"] = r.head;
            if (!r.ok()) {
                j["failed_line"] = r.failed_line;
                j["kind"] = std::string(tee::to_string(r.failure_kind));
                j["failure"] = r.failure;
            }
            std::cout << j.dump(2) << "\n";
        } else if (r.ok()) {
            std::cout << "log verified: " << r.verified << " receipts"
                      << (r.mock ? " (" + std::to_string(r.mock) + " mock: NOT verified)" : "")
                      << "; head sha256:" << r.head << "\n";
        }
        if (r.ok()) return ok;
        std::cerr << "tee-chat: " << tee::to_string(r.failure_kind) << " error: receipt log " << r.failure << "\n";
        switch (r.failure_kind) {
            case tee::error_kind::attestation: return attestation;
            case tee::error_kind::signature: return signature;
            default: return protocol;
        }
    }
    const tee::receipt_verification v = verifier.verify_text(read_file(o.prompt));
    if (o.json) {
        nlohmann::ordered_json j;
        j["verified"] = v.verified;
        j["response"] = v.answer.response;
        j["message"] = v.answer.message;
        j["platform"] = v.answer.platform;
        j["ai_model"] = v.answer.ai_model;
        j["timestamp"] = v.answer.timestamp;
        j["encrypted_answer"] = v.encrypted_answer;
        j["protocol"] = v.protocol;
        if (!v.answer.signer_address.empty()) j["signer_address"] = v.answer.signer_address;
        j["url"] = v.url;
        j["verified_at"] = v.verified_at;
        j["library"] = v.library;
        j["attestation"] = identity_json(v.identity);
        std::cout << j.dump(2) << "\n";
    } else {
        std::cout << "receipt " << (v.verified ? "verified" : "read (mock: NOT verified)") << "\n"
                  << "message:     " << v.answer.message << "\n"
                  << "response:    " << v.answer.response << "\n"
                  << "answered at: " << iso_ms(static_cast<std::uint64_t>(v.answer.timestamp) * 1000) << " (signed)\n"
                  << "url:         " << v.url << " (the client's record)\n";
        print_identity(v.identity);
    }
    return ok;
}

// The known-enclaves file: --known-enclaves, or the per-user default.
std::string known_enclaves_path(const options& o) {
    if (!o.known_enclaves.empty()) return o.known_enclaves;
    if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg == '/')
        return std::string(xdg) + "/tee-chat/known_enclaves";
    if (const char* home = std::getenv("HOME"); home && *home)
        return std::string(home) + "/.config/tee-chat/known_enclaves";
    throw tee::config_error(
        "no place for the known-enclaves store: set HOME or XDG_CONFIG_HOME, or give "
        "--known-enclaves FILE (or pin the image with --pcr)");
}

// The state directory of the known-enclaves store also keeps the highest
// allowlist version accepted per release key.
std::string allowlist_versions_path(const options& o) {
    const std::filesystem::path store(known_enclaves_path(o));
    return (store.parent_path() / "allowlist_versions").string();
}

int run_trust(const options& o) {
    const tee::known_enclaves store(known_enclaves_path(o));
    if (o.arguments[0] == "list") {
        const auto entries = store.list();
        std::cout << "# " << store.path() << ": " << entries.size() << " known enclave"
                  << (entries.size() == 1 ? "" : "s") << "\n";
        for (const auto& e : entries)
            std::cout << e.url << "\n  PCR0 " << tee::to_hex(e.pcr0) << "\n  PCR1 " << tee::to_hex(e.pcr1)
                      << "\n  PCR2 " << tee::to_hex(e.pcr2) << "\n";
        return ok;
    }
    if (!store.forget(o.arguments[1])) {
        std::cerr << "tee-chat: " << o.arguments[1] << " is not in " << store.path() << "\n";
        return config;
    }
    std::cout << "forgot " << tee::known_enclaves::normalize_url(o.arguments[1]) << " (" << store.path()
              << "); its next image will be recorded as a first contact\n";
    return ok;
}

int run_allowlist(const options& o) {
    const std::string key = read_file(o.key_file);
    const std::string file = read_file(o.arguments[1]);
    if (o.arguments[0] == "sign") {
        std::cout << tee::sign_allowlist(file, key);
        return ok;
    }
    const auto list = tee::signed_allowlist::parse(file);
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    tee::verify_allowlist(list, tee::spki_of_pem(key), tee::botan_crypto{}, now);
    std::cout << "allowlist version " << list.version << ": signature verified, valid from "
              << iso_ms(static_cast<std::uint64_t>(std::max<std::int64_t>(list.issued_at, 0)) * 1000) << " until "
              << iso_ms(static_cast<std::uint64_t>(std::max<std::int64_t>(list.expires_at, 0)) * 1000) << "\n";
    for (const auto& image : list.images) {
        std::cout << "  " << image.name << ":";
        for (const auto& [i, v] : image.pcrs) std::cout << " PCR" << i << "=" << tee::to_hex(v).substr(0, 16) << "...";
        std::cout << "\n";
    }
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    if (int rc = parse(argc, argv, o); rc >= 0) return rc;
    try {
        if (o.verify != options::offline::none) return verify_offline(o);
        if (o.command == "trust") return run_trust(o);
        if (o.command == "allowlist") return run_allowlist(o);
        std::optional<tee::testing::simulated_enclave> enclave;
        std::optional<tee::testing::enclave_server> server;
        tee::config cfg;
        if (o.demo) {
            tee::testing::enclave_options eo;
            eo.nitro = !o.allow_mock;
            eo.nova = o.nova;
            enclave.emplace(eo);
            server.emplace(*enclave);
            cfg.url = server->url();
            const char* key = std::getenv("PLATFORM_API_KEY");
            cfg.api_key = tee::secret_string(key && *key ? key : "demo-key-not-a-secret");
            const char* p = std::getenv("PLATFORM");
            const char* m = std::getenv("MODEL");
            cfg.platform = p && *p ? p : "openai";
            cfg.model = m && *m ? m : "gpt-4";
        } else {
            cfg = tee::config::from_env();
        }
        if (!o.url.empty()) cfg.url = o.url;
        if (o.timeout_s) {
            const std::chrono::seconds t(*o.timeout_s);
            cfg.transport.read_timeout = cfg.transport.total_timeout = t;
            cfg.transport.connect_timeout = std::min<std::chrono::milliseconds>(cfg.transport.connect_timeout, t);
        }
        tee::httplib_options transport(tee::client<>::transport_options_for(cfg));  // the default transport's own
        transport.ca_file = o.ca_file;
        transport.pinned_spki_sha256 = o.pin;
        cfg.endpoint = o.endpoint;
        cfg.receipts = !o.receipt_file.empty() || !o.receipt_log.empty();
        if (o.per_request_keys) cfg.client_keys = tee::client_key_mode::per_request;

        cfg.nova_hkdf_label = o.nova_label;
        if (o.allow_mock && o.nova) {
            tee::nova_mock_client client(cfg, tee::httplib_transport(transport));
            return run(client, o);
        }
        if (o.allow_mock) {
            tee::mock_client client(cfg, tee::httplib_transport(transport));
            return run(client, o);
        }
        tee::nitro_options no;
        no.expected_pcrs = o.pcrs;
        if (o.max_document_age) no.max_document_age = *o.max_document_age;
        if (!o.root_file.empty())
            no.trusted_root = read_file(o.root_file);
        else if (o.demo)
            no.trusted_root = enclave->pki()->root_pem();
        // The image policy: pins, a signed allowlist, --any-image, or else
        // trust on first use (the known-enclaves store). --demo pins the
        // simulated enclave's image.
        if (o.demo && o.pcrs.empty() && o.allowlist_file.empty() && !o.any_image)
            no.expected_pcrs = tee::testing::test_pki::default_pins();
        if (!o.allowlist_file.empty())
            no.allowlist = tee::allowlist_options{read_file(o.allowlist_file), read_file(o.allowlist_key),
                                                  allowlist_versions_path(o)};
        if (o.any_image) {
            no.accept_any_enclave_image = true;
            std::cerr << "tee-chat: warning: --any-image accepts any genuine Nitro enclave: anyone with an AWS account "
                         "can run one, and on http:// anyone on the path can put theirs in front of you (it would get "
                         "your API key and prompt). Pin the image instead (--pcr, --allowlist).\n";
        }
        const bool tofu =
            !o.known_enclaves.empty() || (no.expected_pcrs.empty() && !no.allowlist && !no.accept_any_enclave_image);
        if (tofu) no.known_enclaves_file = known_enclaves_path(o);
        auto chat_verified = [&](auto& client) {
            if (tofu) {  // first contact says so, before the chat's answer
                const auto& id = client.attest();
                if (id.first_contact)
                    std::cerr << "tee-chat: first contact with " << tee::known_enclaves::normalize_url(cfg.url)
                              << ": recorded its enclave image (PCR0 " << tee::to_hex(id.pcrs.at(0)) << ") in "
                              << no.known_enclaves_file << "; a different image there will be refused\n";
            }
            return run(client, o);
        };
        if (o.nova) {
            tee::nova_client client(cfg, tee::httplib_transport(transport), tee::nitro_attestation(no));
            return chat_verified(client);
        }
        tee::client<> client(cfg, tee::httplib_transport(transport), tee::nitro_attestation(no));
        return chat_verified(client);
    } catch (const tee::error& e) {
        std::cerr << "tee-chat: " << tee::to_string(e.kind()) << " error: " << e.what() << "\n";
        return exit_for(e);
    } catch (const std::exception& e) {
        std::cerr << "tee-chat: internal error: " << e.what() << "\n";
        return internal;
    }
}
