// mock_enclave - a simulated enclave service on 127.0.0.1, for development and tests.
//
//   mock_enclave [--port N] [--nitro [--root-out FILE] [--pcr N=HEX]... [--stale-hours H]] [--slow MS]
//                [--encrypt-response] [--no-well-known] [--rotate-key-after N] [--replay]
//                [--tls-cert FILE --tls-key FILE] [--fault NAME]
//   mock_enclave --protocol nova [--nova-label capsule|enclaver] [--nova-fault NAME]
//                [--port N] [--nitro [--root-out FILE] [--pcr N=HEX]...] [--slow MS] [--rotate-key-after N]
//                [--tls-cert FILE --tls-key FILE]
//
// Without --nitro it answers like the Python development service outside an
// enclave (a mock attestation, which only clients built with mock_attestation
// accept). With --nitro it generates a test PKI and serves real-format Nitro
// documents; give the client the root from --root-out as its trust anchor.
// --fault NAME makes every answer to POST /talk faulty (tee/testing/faults.hpp),
// for fault-injection tests of clients. --protocol nova speaks Sparsity's Nova
// protocol instead (tee/testing/simulated_nova.hpp); --nova-fault NAME makes it
// misbehave in one named way.
// Prints "listening on http://127.0.0.1:PORT" once ready; stops on SIGINT/SIGTERM.
#include <tee/testing/enclave_server.hpp>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

namespace {
volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) { stop_requested = 1; }

int usage(int code) {
    (code ? std::cerr : std::cout)
        << "usage: mock_enclave [--protocol nova|tee-tls] [--port N] [--nitro] [--root-out FILE] [--pcr N=HEX]...\n"
           "                    [--slow MS] [flags]\n"
           "  --port N        listen on 127.0.0.1:N (default 8000; 0 = any free port)\n"
           "  --nitro         serve Nitro attestation documents signed by a generated test chain\n"
           "  --root-out FILE write that chain's root certificate (PEM) to FILE\n"
           "  --pcr N=HEX     PCR value in the documents (repeatable; default 16 fixed values)\n"
           "  --stale-hours H serve one document made H hours ago, unchanged, like the services' start-up\n"
           "                  document (its leaf certificate valid for 3 hours from then, like AWS's)\n"
           "  --slow MS       wait MS milliseconds before every answer\n"
           "  --encrypt-response    send answers in the encrypted form of newer services\n"
           "  --no-well-known       do not serve POST /.well-known/attestation (an older service)\n"
           "  --rotate-key-after N  restart with a new key after every N chats\n"
           "  --replay              always send the first answer again (a replaying attacker)\n"
           "  --tls-cert FILE --tls-key FILE   serve https with this certificate and key (PEM)\n"
           "  --fault NAME          make every answer to POST /talk faulty, for tests; NAME is one of:\n";
    for (const auto& f : tee::testing::fault_table)  // connection-refused: a port nobody listens on
        if (f.id != tee::testing::fault::none && f.id != tee::testing::fault::connection_refused)
            (code ? std::cerr : std::cout) << "      " << std::left << std::setw(22) << f.name << f.description << "\n";
    (code ? std::cerr : std::cout)
        << "  --protocol nova|tee-tls  the protocol to speak (default tee-tls); nova: Sparsity's Nova\n"
           "                        (POST /.well-known/attestation, /set-api-key, /talk; EIP-191 signatures)\n"
           "  --nova-label capsule|enclaver  nova: the HKDF label of the current (capsule, default) or\n"
           "                        older (enclaver) runtimes\n"
           "  --nova-fault NAME     nova: misbehave in one way, for tests; NAME is one of:\n";
    for (const auto& f : tee::testing::nova_fault_table)
        if (f.id != tee::testing::nova_fault::none)
            (code ? std::cerr : std::cout) << "      " << std::left << std::setw(22) << f.name << f.description << "\n";
    return code;
}
}  // namespace

int main(int argc, char** argv) {
    tee::testing::enclave_options eo;
    tee::testing::server_options so;
    so.port = 8000;
    std::string root_out;
    std::vector<std::string> tee_tls_only;  // flags given that mean nothing for Nova
    bool nova_only = false;                 // --nova-label or --nova-fault given
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "mock_enclave: " << a << " needs a value\n";
                std::exit(usage(2));
            }
            return argv[++i];
        };
        if (a == "--encrypt-response" || a == "--no-well-known" || a == "--well-known" || a == "--replay" ||
            a == "--stale-hours" || a == "--fault")
            tee_tls_only.push_back(a);
        try {
            if (a == "--port")
                so.port = std::stoi(next());
            else if (a == "--nitro")
                eo.nitro = true;
            else if (a == "--root-out")
                root_out = next();
            else if (a == "--protocol") {
                const std::string p = next();
                if (p != "nova" && p != "tee-tls") {
                    std::cerr << "mock_enclave: --protocol is nova or tee-tls, not '" << p << "'\n";
                    return 2;
                }
                eo.nova = p == "nova";
            } else if (a == "--nova-label") {
                const std::string l = next();
                if (l != "capsule" && l != "enclaver") {
                    std::cerr << "mock_enclave: --nova-label is capsule or enclaver, not '" << l << "'\n";
                    return 2;
                }
                eo.nova_label = l + "-ecdh-aes256gcm-v1";
                nova_only = true;
            } else if (a == "--nova-fault") {
                const std::string name = next();
                const auto f = tee::testing::nova_fault_from_string(name);
                if (!f) {
                    std::cerr << "mock_enclave: unknown Nova fault '" << name << "' (see --help)\n";
                    return 2;
                }
                eo.nova_misbehaviour = *f;
                nova_only = true;
            } else if (a == "--stale-hours") {
                const double h = std::stod(next());
                if (!(h >= 0 && h <= 24 * 3650)) throw std::out_of_range("--stale-hours");
                eo.stale_document = std::chrono::seconds(static_cast<std::int64_t>(h * 3600));
            } else if (a == "--encrypt-response")
                eo.encrypt_response = true;
            else if (a == "--no-well-known")
                eo.well_known = false;
            else if (a == "--well-known")
                eo.well_known = true;
            else if (a == "--rotate-key-after")
                eo.rotate_key_after = static_cast<unsigned>(std::stoul(next()));
            else if (a == "--replay")
                eo.replay = true;
            else if (a == "--tls-cert")
                so.tls_cert_file = next();
            else if (a == "--tls-key")
                so.tls_key_file = next();
            else if (a == "--slow")
                so.delay = std::chrono::milliseconds(std::stol(next()));
            else if (a == "--fault") {
                std::string name = next();
                auto f = tee::testing::fault_from_name(name);
                if (!f || *f == tee::testing::fault::connection_refused) {
                    std::cerr << "mock_enclave: unknown fault '" << name << "' (see --help)\n";
                    return 2;
                }
                so.fault = *f;
            } else if (a == "--pcr") {
                std::string v = next();
                auto eq = v.find('=');
                auto bytes = eq == std::string::npos ? std::nullopt : tee::from_hex(v.substr(eq + 1));
                if (!bytes) {
                    std::cerr << "mock_enclave: --pcr wants N=HEX\n";
                    return 2;
                }
                eo.pcrs[static_cast<unsigned>(std::stoul(v.substr(0, eq)))] = *bytes;
            } else if (a == "-h" || a == "--help")
                return usage(0);
            else {
                std::cerr << "mock_enclave: unknown option " << a << "\n";
                return usage(2);
            }
        } catch (const std::exception&) {
            std::cerr << "mock_enclave: bad value for " << a << "\n";
            return 2;
        }
    }
    if (eo.nova && !tee_tls_only.empty()) {
        std::cerr << "mock_enclave: " << tee_tls_only.front()
                  << " is a tee-tls behaviour: not with --protocol nova (see --nova-fault)\n";
        return 2;
    }
    if (!eo.nova && nova_only) {
        std::cerr << "mock_enclave: --nova-label and --nova-fault need --protocol nova\n";
        return 2;
    }
    if (!root_out.empty() && !eo.nitro) {
        std::cerr << "mock_enclave: --root-out needs --nitro\n";
        return 2;
    }
    if (eo.stale_document && !eo.nitro) {
        std::cerr << "mock_enclave: --stale-hours needs --nitro\n";
        return 2;
    }
    if (eo.encrypt_response && tee::testing::layer_of(so.fault) == tee::testing::fault_layer::data) {
        std::cerr << "mock_enclave: --fault " << tee::testing::fault_name(so.fault)
                  << " changes the plain answer form: not with --encrypt-response\n";
        return 2;
    }

    tee::testing::simulated_enclave enclave(eo);
    if (!root_out.empty()) {
        std::ofstream(root_out) << enclave.pki()->root_pem();
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    try {
        tee::testing::enclave_server server(enclave, so);
        std::cout << "listening on " << server.url() << (eo.nitro ? " (nitro" : " (mock") << (eo.nova ? ", nova)" : ")")
                  << std::endl;
        while (!stop_requested) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } catch (const std::exception& e) {
        std::cerr << "mock_enclave: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
