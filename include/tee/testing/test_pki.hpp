// tee/testing/test_pki.hpp - a throw-away certificate chain shaped like AWS
// Nitro's (P-384 root -> intermediate -> leaf), and COSE_Sign1 attestation
// documents signed by its leaf, byte-compatible with the real ones.
//
// For tests and the demo only: the root is generated in memory, so nothing it
// signs is trusted unless a program passes root_pem() as its trust anchor.
#pragma once

#include "tee/detail/prelude.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <stdexcept>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <botan/ecdsa.h>
#include <botan/hash.h>
#include <botan/pkcs10.h>
#include <botan/pkcs8.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>
#include <botan/x509_ca.h>
#include <botan/x509self.h>

#include "tee/detail/cbor.hpp"
#include "tee/detail/botan_compat.hpp"
#include "tee/encoding.hpp"

namespace tee::testing {

// The leaf's validity window; by default like AWS's: a few hours around now.
struct pki_validity {
    std::chrono::system_clock::time_point not_before = std::chrono::system_clock::now() - std::chrono::hours(1);
    std::chrono::system_clock::time_point not_after = std::chrono::system_clock::now() + std::chrono::hours(3);
};

class test_pki {
public:
    using time_point = std::chrono::system_clock::time_point;

    explicit test_pki(pki_validity leaf = {}) {
        using namespace std::chrono;
        auto& rng = Botan::system_rng();
        const auto now = system_clock::now();
        // The root and intermediate are valid from a day before the leaf (an old leaf too) on.
        const auto start = std::min(now, leaf.not_before) - hours(24);
        root_key_ = std::make_unique<Botan::ECDSA_PrivateKey>(rng, group());
        inter_key_ = std::make_unique<Botan::ECDSA_PrivateKey>(rng, group());
        leaf_key_ = std::make_unique<Botan::ECDSA_PrivateKey>(rng, group());

        Botan::X509_Cert_Options ro = options("tee-client test root", start, now + hours(24 * 3650));
        ro.CA_key();
        root_ = std::make_unique<Botan::X509_Certificate>(
            Botan::X509::create_self_signed_cert(ro, *root_key_, "SHA-384", rng));

        Botan::X509_Cert_Options io = options("tee-client test intermediate", now, now);
        io.CA_key(2);
        inter_ = std::make_unique<Botan::X509_Certificate>(
            issue(*root_, *root_key_, io, *inter_key_, start, now + hours(24 * 365)));

        Botan::X509_Cert_Options lo = options("i-00000000simulated.tee-client.test", now, now);
        leaf_ = std::make_unique<Botan::X509_Certificate>(
            issue(*inter_, *inter_key_, lo, *leaf_key_, leaf.not_before, leaf.not_after));
    }

    std::string root_pem() const { return root_->PEM_encode(); }
    std::vector<std::uint8_t> root_der() const { return root_->BER_encode(); }
    std::vector<std::uint8_t> intermediate_der() const { return inter_->BER_encode(); }
    std::vector<std::uint8_t> leaf_der() const { return leaf_->BER_encode(); }

    // The PCRs of a document made without explicit ones: the simulated
    // enclave's image (0..15, each 48 bytes of 0xa0 + index). Pin these.
    static std::map<unsigned, std::vector<std::uint8_t>> default_pcrs() {
        std::map<unsigned, std::vector<std::uint8_t>> pcrs;
        for (unsigned i = 0; i < 16; ++i) pcrs[i] = std::vector<std::uint8_t>(48, static_cast<std::uint8_t>(0xa0 + i));
        return pcrs;
    }
    // The same as hex pins of PCR0, PCR1 and PCR2, for nitro_options::expected_pcrs.
    static std::map<unsigned, std::string> default_pins() {
        std::map<unsigned, std::string> pins;
        for (const auto& [i, v] : default_pcrs())
            if (i < 3) pins[i] = to_hex(v);
        return pins;
    }

    // The payload map of a document, in AWS's key order; tests edit it freely.
    // user_data: SHA-256(enclave_spki) (the tee-tls binding) unless given
    // (Nova: the {"eth_addr": ...} JSON bytes).
    cbor::value payload(const std::vector<std::uint8_t>& enclave_spki, const std::vector<std::uint8_t>& nonce,
                        std::map<unsigned, std::vector<std::uint8_t>> pcrs, const std::string& module_id,
                        std::uint64_t timestamp_ms = 0,
                        std::optional<std::vector<std::uint8_t>> user_data = std::nullopt) const {
        using cbor::value;
        if (timestamp_ms == 0)
            timestamp_ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                          std::chrono::system_clock::now().time_since_epoch())
                                                          .count());
        if (pcrs.empty()) pcrs = default_pcrs();
        cbor::value::map_type pcr_map;
        for (auto& [i, v] : pcrs) pcr_map.emplace_back(value::uint(i), value::bytes(v));
        if (!user_data) {
            auto digest = Botan::HashFunction::create_or_throw("SHA-256");
            auto d = digest->process(enclave_spki);
            user_data.emplace(d.begin(), d.end());
        }
        cbor::value::map_type m;
        auto add = [&](const char* k, value v) { m.emplace_back(value::text(k), std::move(v)); };
        add("module_id", value::text(module_id));
        add("digest", value::text("SHA384"));
        add("timestamp", value::uint(timestamp_ms));
        add("pcrs", value::map(std::move(pcr_map)));
        add("certificate", value::bytes(leaf_der()));
        add("cabundle", value::array({value::bytes(root_der()), value::bytes(intermediate_der())}));
        add("public_key", value::bytes(enclave_spki));
        add("user_data", value::bytes(std::move(*user_data)));
        add("nonce", value::bytes(nonce));
        return value::map(std::move(m));
    }

    // COSE_Sign1 [protected {1: alg}, {}, payload, r||s] signed by the leaf key.
    std::vector<std::uint8_t> sign(const cbor::value& payload_map, std::int64_t alg = -35, bool tag18 = false) const {
        return sign_bytes(cbor::encode(payload_map), alg, tag18);
    }
    std::vector<std::uint8_t> sign_bytes(const std::vector<std::uint8_t>& payload_bytes, std::int64_t alg = -35,
                                         bool tag18 = false) const {
        using cbor::value;
        cbor::value::map_type header;
        header.emplace_back(value::integer(1), value::integer(alg));
        auto prot = cbor::encode(value::map(std::move(header)));
        auto to_be_signed = cbor::encode(value::array(
            {value::text("Signature1"), value::bytes(prot), value::bytes({}), value::bytes(payload_bytes)}));
        Botan::PK_Signer signer(*leaf_key_, Botan::system_rng(), tee::detail::botan::ecdsa_sha384,
                                tee::detail::botan::sig_raw);
        auto sig = signer.sign_message(to_be_signed, Botan::system_rng());
        value cose = value::array({value::bytes(prot), value::map({}), value::bytes(payload_bytes),
                                   value::bytes(std::vector<std::uint8_t>(sig.begin(), sig.end()))});
        return cbor::encode(tag18 ? value::tag(18, std::move(cose)) : cose);
    }

    std::vector<std::uint8_t> attestation_document(const std::vector<std::uint8_t>& enclave_spki,
                                                   const std::vector<std::uint8_t>& nonce,
                                                   const std::map<unsigned, std::vector<std::uint8_t>>& pcrs,
                                                   const std::string& module_id) const {
        return sign(payload(enclave_spki, nonce, pcrs, module_id));
    }

private:
    static const Botan::EC_Group& group() { return tee::detail::botan::p384(); }
    static Botan::X509_Cert_Options options(const std::string& cn, time_point nb, time_point na) {
        Botan::X509_Cert_Options o;
        o.common_name = cn;
        o.organization = "tee-client tests";
        o.country = "US";
        o.start = Botan::X509_Time(nb);
        o.end = Botan::X509_Time(na);
        return o;
    }
    static Botan::X509_Certificate issue(const Botan::X509_Certificate& ca_cert, const Botan::Private_Key& ca_key,
                                         const Botan::X509_Cert_Options& o, const Botan::Private_Key& subject_key,
                                         time_point nb, time_point na) {
        auto& rng = Botan::system_rng();
        Botan::X509_CA ca(ca_cert, ca_key, "SHA-384", rng);
        auto req = Botan::X509::create_cert_req(o, subject_key, "SHA-384", rng);
        return ca.sign_request(req, rng, Botan::X509_Time(nb), Botan::X509_Time(na));
    }

    std::unique_ptr<Botan::ECDSA_PrivateKey> root_key_, inter_key_, leaf_key_;
    std::unique_ptr<Botan::X509_Certificate> root_, inter_, leaf_;
};

// A throw-away CA and a TLS server certificate for 127.0.0.1 / localhost,
// written as PEM files (what httplib::SSLServer and transport_options::ca_file read).
class tls_test_pki {
public:
    explicit tls_test_pki(const std::string& dir) : dir_(dir) {
        using namespace std::chrono;
        auto& rng = Botan::system_rng();
        const auto now = system_clock::now();
        Botan::ECDSA_PrivateKey ca_key(rng, tee::detail::botan::p384());
        server_key_ = std::make_unique<Botan::ECDSA_PrivateKey>(rng, tee::detail::botan::p384());
        Botan::X509_Cert_Options co;
        co.common_name = "tee-client test TLS CA";
        co.organization = "tee-client tests";
        co.start = Botan::X509_Time(now - hours(1));
        co.end = Botan::X509_Time(now + hours(24));
        co.CA_key();
        Botan::X509_Certificate ca = Botan::X509::create_self_signed_cert(co, ca_key, "SHA-384", rng);
        Botan::X509_Cert_Options so;
        so.common_name = "127.0.0.1";
        so.organization = "tee-client tests";
        so.ip = "127.0.0.1";
        so.dns = "localhost";
        so.add_ex_constraint("PKIX.ServerAuth");
        Botan::X509_CA signer(ca, ca_key, "SHA-384", rng);
        Botan::X509_Certificate cert =
            signer.sign_request(Botan::X509::create_cert_req(so, *server_key_, "SHA-384", rng), rng,
                                Botan::X509_Time(now - hours(1)), Botan::X509_Time(now + hours(24)));
        write(ca_file(), ca.PEM_encode());
        write(cert_file(), cert.PEM_encode());
        write(key_file(), Botan::PKCS8::PEM_encode(*server_key_));
        auto spki = server_key_->subject_public_key();
        auto h = Botan::HashFunction::create_or_throw("SHA-256");
        auto d = h->process(spki);
        spki_sha256_ = to_hex(std::vector<std::uint8_t>(d.begin(), d.end()));
    }
    std::string ca_file() const { return dir_ + "/ca.pem"; }
    std::string cert_file() const { return dir_ + "/server.pem"; }
    std::string key_file() const { return dir_ + "/server.key"; }
    // What transport_options::pinned_spki_sha256 wants for this server.
    const std::string& server_spki_sha256() const { return spki_sha256_; }

private:
    static void write(const std::string& path, const std::string& text) {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << text;
        if (!out) throw std::runtime_error("cannot write " + path);
    }
    std::string dir_;
    std::unique_ptr<Botan::ECDSA_PrivateKey> server_key_;
    std::string spki_sha256_;
};

}  // namespace tee::testing
