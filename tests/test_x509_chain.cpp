// Tests for tee/detail/x509_chain.hpp, the Nitro chain policy that replaced Botan's
// x509_path_validate in tee/nitro_attestation.hpp.
//
//  * chains built here (root -> intermediates -> leaf, P-384, ecdsa-with-SHA384,
//    one knob per rule): the sound ones pass, and each broken rule gets its own
//    TEST_CASE asserting the exact Certificate_Status_Code, with both crypto
//    backends; the real AWS chain of 2025-04-24 passes at its time;
//  * differential: every variant, and 50 random chains (fixed seed), against
//    Botan's x509_path_validate. They must agree, except where our policy is
//    documented to be stricter (the leaf must allow digitalSignature; only
//    ecdsa-with-SHA384 and P-384 issuer keys): there we reject, never Botan alone.
//
// The tee headers come first (see tee/detail/prelude.hpp).
#include "tee/botan_crypto.hpp"
#include "tee/encoding.hpp"
#include "tee/nitro_attestation.hpp"
#include "tee/openssl_crypto.hpp"
#include "tee/detail/x509_chain.hpp"

#include <doctest/doctest.h>

#include "test_data.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <botan/certstor.h>
#include <botan/data_src.h>
#include <botan/ecdsa.h>
#include <botan/hash.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>
#include <botan/x509_ca.h>
#include <botan/x509_ext.h>
#include <botan/x509path.h>

namespace {
namespace xc = tee::x509_chain;
using tee::botan_crypto;
using tee::openssl_crypto;
using status = Botan::Certificate_Status_Code;
using sys_clock = std::chrono::system_clock;
using bytes = std::vector<std::uint8_t>;
using namespace std::chrono_literals;

const sys_clock::time_point t0 = std::chrono::sys_days{std::chrono::year{2026} / 1 / 1};  // inside the built windows

std::string name(status s) {  // readable failures: "Signature error" rather than 5002
    const char* n = Botan::to_string(s);
    return n ? n : "code " + std::to_string(static_cast<int>(s));
}

const Botan::EC_Group& group_named(const std::string& curve) {
    static const Botan::EC_Group p384 = tee::detail::botan::p384();
#if BOTAN_VERSION_MAJOR >= 3
    static const Botan::EC_Group p256 = Botan::EC_Group::from_name("secp256r1");
#else
    static const Botan::EC_Group p256("secp256r1");
#endif
    return curve == "secp256r1" ? p256 : p384;
}

// Key usage bits, by their Botan 3 or Botan 2 names.
namespace ku {
#if BOTAN_VERSION_MAJOR >= 3
using K = Botan::Key_Constraints;
constexpr auto none = K::None, digital_signature = K::DigitalSignature, key_cert_sign = K::KeyCertSign,
               crl_sign = K::CrlSign, key_agreement = K::KeyAgreement;
bool has(const K& usage, K::Bits bit) { return usage.includes(bit); }
#else
constexpr auto none = Botan::NO_CONSTRAINTS, digital_signature = Botan::DIGITAL_SIGNATURE,
               key_cert_sign = Botan::KEY_CERT_SIGN, crl_sign = Botan::CRL_SIGN, key_agreement = Botan::KEY_AGREEMENT;
bool has(Botan::Key_Constraints usage, Botan::Key_Constraints bit) { return (usage & bit) != 0; }
#endif
}  // namespace ku

const Botan::OID unknown_oid("1.3.6.1.4.1.55555.7.1");  // an unregistered private OID

#if BOTAN_VERSION_MAJOR >= 3
// An extension no one knows (body empty): Botan's own class for such.
std::unique_ptr<Botan::Certificate_Extension> unknown_extension(bool critical) {
    return std::make_unique<Botan::Cert_Extension::Unknown_Extension>(unknown_oid, critical);
}
#else
// An extension no one knows (body NULL).
class unknown_extension_v2 final : public Botan::Certificate_Extension {
public:
    Botan::OID oid_of() const override { return unknown_oid; }
    std::string oid_name() const override { return ""; }
    Botan::Certificate_Extension* copy() const override { return new unknown_extension_v2; }
    void contents_to(Botan::Data_Store&, Botan::Data_Store&) const override {}

private:
    std::vector<std::uint8_t> encode_inner() const override { return {0x05, 0x00}; }
    void decode_inner(const std::vector<std::uint8_t>&) override {}
};
std::unique_ptr<Botan::Certificate_Extension> unknown_extension(bool) {
    return std::make_unique<unknown_extension_v2>();
}
#endif

void add(Botan::Extensions& e, std::unique_ptr<Botan::Certificate_Extension> ext, bool critical = false) {
#if BOTAN_VERSION_MAJOR >= 3
    e.add(std::move(ext), critical);
#else
    e.add(ext.release(), critical);  // Botan 2 takes ownership of a raw pointer
#endif
}

// A certificate signed by `signer_key` with ECDSA and `hash`.
Botan::X509_Certificate make_cert(const Botan::Private_Key& signer_key, const std::string& hash,
                                  const std::vector<std::uint8_t>& subject_key, const Botan::X509_Time& not_before,
                                  const Botan::X509_Time& not_after, const Botan::X509_DN& issuer,
                                  const Botan::X509_DN& subject, const Botan::Extensions& e) {
    auto& rng = Botan::system_rng();
#if BOTAN_VERSION_MAJOR >= 3
    auto signer = Botan::X509_Object::choose_sig_format(signer_key, rng, hash, "");
    return Botan::X509_CA::make_cert(*signer, rng, signer->algorithm_identifier(), subject_key, not_before, not_after,
                                     issuer, subject, e);
#else
    Botan::AlgorithmIdentifier alg;
    std::unique_ptr<Botan::PK_Signer> signer(Botan::choose_sig_format(signer_key, rng, hash, alg));
    return Botan::X509_CA::make_cert(signer.get(), rng, alg, subject_key, not_before, not_after, issuer, subject, e);
#endif
}

std::vector<std::uint8_t> key_id(const Botan::Public_Key& key) {  // SHA-1 of the key bits (RFC 5280 4.2.1.2 (1))
    auto h = Botan::HashFunction::create_or_throw("SHA-1");
    const auto bits = key.public_key_bits();
    h->update(bits.data(), bits.size());
    const auto d = h->final();
    return std::vector<std::uint8_t>(d.begin(), d.end());
}

// One certificate of a chain, and how its issuer signs it.
struct spec {
    std::string cn;
    bool ca = true;  // basicConstraints cA
    std::size_t pathlen = Botan::Cert_Extension::NO_CERT_PATH_LIMIT;
    std::optional<Botan::Key_Constraints> usage;  // default: keyCertSign|cRLSign, leaf digitalSignature
    std::string curve = "secp384r1";              // of its own key
    std::string hash = "SHA-384";                 // its issuer signs with ECDSA and this hash
    sys_clock::time_point not_before = t0 - 24h, not_after = t0 + 24h;
    std::optional<bool> unknown_ext;  // an unknown extension, critical or not
    bool stranger_signs = false;      // another key signs, under the issuer's name
    std::string issuer_cn;            // non-empty: this issuer name instead
    bool bad_akid = false;            // authorityKeyIdentifier of another key
    bool issuer_key = false;          // its issuer's key (with its name: a self-signed twin)
    bool tamper = false;              // last DER byte (in the signature's s) flipped
};
using specs = std::vector<spec>;  // root first

// n certificates: root (no pathLenConstraint), intermediates ..., 2, 1, 0 like AWS's, leaf.
specs sound(std::size_t n) {
    specs s(n);
    for (std::size_t i = 0; i < n; ++i)
        s[i].cn = i == 0 ? "root" : i + 1 == n ? "leaf" : "intermediate " + std::to_string(i);
    for (std::size_t i = 1; i + 1 < n; ++i) s[i].pathlen = n - 2 - i;
    s[n - 1].ca = false;
    return s;
}

Botan::X509_DN dn(const std::string& cn) {
    Botan::X509_DN d;
    d.add_attribute("X520.CommonName", cn);
    d.add_attribute("X520.Organization", "tee-client x509_chain tests");
    return d;
}

// The certificates of `s`, leaf first (what check_links takes).
xc::certificate_path build(const specs& s) {
    auto& rng = Botan::system_rng();
    const Botan::ECDSA_PrivateKey stranger(rng, group_named("secp384r1"));
    std::vector<std::shared_ptr<const Botan::ECDSA_PrivateKey>> keys;
    xc::certificate_path made;  // root first
    for (std::size_t i = 0; i < s.size(); ++i) {
        const spec& c = s[i];
        const bool root = i == 0, leaf = i + 1 == s.size();
        keys.push_back(c.issuer_key ? keys.back()
                                    : std::make_shared<const Botan::ECDSA_PrivateKey>(rng, group_named(c.curve)));
        namespace ext = Botan::Cert_Extension;
        Botan::Extensions e;
        add(e, std::make_unique<ext::Basic_Constraints>(c.ca, c.pathlen), true);
        const Botan::Key_Constraints usage =
            c.usage.value_or(leaf ? Botan::Key_Constraints(ku::digital_signature)
                                  : Botan::Key_Constraints(ku::key_cert_sign | ku::crl_sign));
        if (usage != Botan::Key_Constraints(ku::none)) add(e, std::make_unique<ext::Key_Usage>(usage), true);
        add(e, std::make_unique<ext::Subject_Key_ID>(key_id(*keys.back())));
        if (!root)
            add(e,
                std::make_unique<ext::Authority_Key_ID>(c.bad_akid ? bytes(20, 0xab) : made.back()->subject_key_id()));
        if (c.unknown_ext) add(e, unknown_extension(*c.unknown_ext), *c.unknown_ext);

        const Botan::Private_Key& signer_key = root ? *keys.back() : c.stranger_signs ? stranger : *keys[i - 1];
        const std::string issuer = root ? c.cn : !c.issuer_cn.empty() ? c.issuer_cn : s[i - 1].cn;
        auto cert = make_cert(signer_key, c.hash, keys.back()->subject_public_key(), Botan::X509_Time(c.not_before),
                              Botan::X509_Time(c.not_after), dn(issuer), dn(c.cn), e);
        if (c.tamper) {
            auto der = cert.BER_encode();
            der.back() ^= 0x01;
            cert = Botan::X509_Certificate(der);  // Botan parses it (the signature is checked later): no throw
        }
        made.push_back(std::make_shared<const Botan::X509_Certificate>(std::move(cert)));
    }
    return xc::certificate_path(made.rbegin(), made.rend());
}

template <class C>
status links(const xc::certificate_path& path) {
    return xc::check_links(path, C{});
}

bool ours_accept(const xc::certificate_path& path) {
    return xc::ok(xc::check_links(path, botan_crypto{})) && xc::ok(xc::check_times(path, t0));
}

// What tee::nitro_attestation did before x509_chain: the anchor alone trusted.
bool botan_accepts(const xc::certificate_path& path, sys_clock::time_point at = t0) {
    std::vector<Botan::X509_Certificate> chain;
    for (std::size_t i = 0; i + 1 < path.size(); ++i) chain.push_back(*path[i]);
    Botan::Certificate_Store_In_Memory store;
    store.add_certificate(*path.back());
    return Botan::x509_path_validate(chain, Botan::Path_Validation_Restrictions(false, 128), store, "",
                                     Botan::Usage_Type::UNSPECIFIED, at)
        .successful_validation();
}

// One broken rule each, as an edit of sound(3) = {root, intermediate, leaf}.
struct variant {
    std::string name;
    std::function<void(specs&)> edit;
    status links = status::OK;  // check_links, both backends
    status times = status::OK;  // check_times at t0
    bool stricter = false;      // a documented difference: we reject, Botan accepts
};

const std::vector<variant>& variants() {
    using K = Botan::Key_Constraints;
    static const std::vector<variant> v = {
        {"sound", [](specs&) {}},
        {"intermediate without cA", [](specs& s) { s[1].ca = false; }, status::CA_CERT_NOT_FOR_CERT_ISSUER},
        {"intermediate key usage without keyCertSign", [](specs& s) { s[1].usage = ku::crl_sign; },
         status::CA_CERT_NOT_FOR_CERT_ISSUER},
        {"leaf signed by another key under the intermediate's name", [](specs& s) { s[2].stranger_signs = true; },
         status::SIGNATURE_ERROR},
        {"intermediate signed by another key under the root's name", [](specs& s) { s[1].stranger_signs = true; },
         status::SIGNATURE_ERROR},
        {"leaf signature byte flipped", [](specs& s) { s[2].tamper = true; }, status::SIGNATURE_ERROR},
        {"leaf signed with ecdsa-with-SHA256", [](specs& s) { s[2].hash = "SHA-256"; }, status::SIGNATURE_ALGO_UNKNOWN,
         status::OK, true},
        {"intermediate with a P-256 key", [](specs& s) { s[1].curve = "secp256r1"; }, status::CERT_PUBKEY_INVALID,
         status::OK, true},
        {"leaf issuer name mismatch", [](specs& s) { s[2].issuer_cn = "intermediate 9"; }, status::CHAIN_NAME_MISMATCH},
        {"root pathLenConstraint 0 above an intermediate", [](specs& s) { s[0].pathlen = 0; },
         status::CERT_CHAIN_TOO_LONG},
        {"unknown critical extension on the intermediate", [](specs& s) { s[1].unknown_ext = true; },
         status::UNKNOWN_CRITICAL_EXTENSION},
        {"unknown non-critical extension on the intermediate", [](specs& s) { s[1].unknown_ext = false; }},
        {"leaf keyCertSign without cA", [](specs& s) { s[2].usage = K(ku::digital_signature | ku::key_cert_sign); },
         status::INVALID_USAGE},
        {"leaf key usage without digitalSignature", [](specs& s) { s[2].usage = ku::key_agreement; },
         status::INVALID_USAGE, status::OK, true},
        {"leaf expired", [](specs& s) { s[2].not_after = t0 - 1s; }, status::OK, status::CERT_HAS_EXPIRED},
        {"intermediate expired", [](specs& s) { s[1].not_after = t0 - 1s; }, status::OK, status::CERT_HAS_EXPIRED},
        {"anchor expired", [](specs& s) { s[0].not_after = t0 - 1s; }, status::OK, status::CERT_HAS_EXPIRED},
        {"leaf not yet valid", [](specs& s) { s[2].not_before = t0 + 1s; }, status::OK, status::CERT_NOT_YET_VALID},
        {"intermediate not yet valid", [](specs& s) { s[1].not_before = t0 + 1s; }, status::OK,
         status::CERT_NOT_YET_VALID},
        {"anchor not yet valid", [](specs& s) { s[0].not_before = t0 + 1s; }, status::OK, status::CERT_NOT_YET_VALID},
    };
    return v;
}

xc::certificate_path build(const variant& v) {
    specs s = sound(3);
    v.edit(s);
    return build(s);
}

template <class C>
void check_variant(std::string_view rule) {
    for (const auto& v : variants())
        if (v.name == rule) {
            const auto path = build(v);
            CHECK(name(links<C>(path)) == name(v.links));
            CHECK(name(xc::check_times(path, t0)) == name(v.times));
            return;
        }
    FAIL("no variant " << std::string(rule));
}

using tee_test::read_data;

// The real AWS chain of tests/data/nitro_attestation_2025-04-24.b64, leaf first,
// anchored at tests/data/aws_nitro_root.pem.
xc::certificate_path aws_chain() {
    const auto cose = tee::from_base64(read_data("nitro_attestation_2025-04-24.b64")).value();
    const auto doc = tee::nitro_attestation::parse(cose);
    Botan::DataSource_Memory pem(read_data("aws_nitro_root.pem"));
    auto anchor = std::make_shared<const Botan::X509_Certificate>(pem);
    REQUIRE(doc.cabundle.size() == 4);
    REQUIRE(doc.cabundle.front() == anchor->BER_encode());  // root first
    xc::certificate_path path{std::make_shared<const Botan::X509_Certificate>(doc.certificate)};
    for (std::size_t i = doc.cabundle.size() - 1; i > 0; --i)
        path.push_back(std::make_shared<const Botan::X509_Certificate>(doc.cabundle[i]));
    path.push_back(anchor);
    return path;
}
const sys_clock::time_point aws_4am = std::chrono::sys_days{std::chrono::year{2025} / 4 / 24} + 4h;

// A chain with random windows and up to two random broken rules.
specs random_specs(std::mt19937& g) {
    auto pick = [&](unsigned n) { return static_cast<std::size_t>(g() % n); };
    specs s = sound(2 + pick(4));
    const std::size_t n = s.size();
    for (auto& c : s)
        if (pick(6) == 0) {
            c.not_before = t0 + (pick(2) ? 2h : -72h);
            c.not_after = std::max(c.not_before + 1h, t0 + (pick(2) ? -2h : 72h));
        }
    for (std::size_t k = pick(3); k > 0; --k) {
        spec& c = s[pick(static_cast<unsigned>(n))];
        const bool root = &c == &s.front(), leaf = &c == &s.back();
        switch (pick(11)) {
            case 0:
                if (!root) c.stranger_signs = true;
                break;
            case 1:
                if (!root) c.issuer_cn = "intermediate 7";
                break;
            case 2:
                if (!root) c.hash = pick(2) ? "SHA-256" : "SHA-512";
                break;
            case 3:
                if (!leaf) c.curve = "secp256r1";
                break;
            case 4: c.ca = !c.ca; break;
            case 5: c.usage = leaf ? ku::key_agreement : ku::digital_signature; break;
            case 6: c.usage = Botan::Key_Constraints(ku::key_cert_sign | ku::digital_signature); break;
            case 7:
                if (!leaf) c.pathlen = pick(3);
                break;
            case 8: c.unknown_ext = pick(2) == 0; break;
            case 9:
                if (!root) c.tamper = true;
                break;
            default: c.cn = s[pick(static_cast<unsigned>(n))].cn; break;  // names may collide
        }
    }
    return s;
}

// Chains Botan refuses that check_links once accepted (see the last cases).
specs akid_mismatch(std::size_t at) {  // certificate `at` names another key as its issuer's
    specs s = sound(3);
    s[at].bad_akid = true;
    return s;
}
specs self_signed_twin_leaf() {  // the leaf is self-signed with the intermediate's name and key
    specs s = sound(3);
    s[2].cn = s[1].cn;
    s[2].issuer_key = true;
    return s;
}

// Where our policy is documented to be stricter than Botan's.
bool documented_difference(const specs& s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const bool leaf = i + 1 == s.size();
        if (i > 0 && s[i].hash != "SHA-384") return true;
        if (!leaf && s[i].curve != "secp384r1") return true;
        if (leaf && s[i].usage && !ku::has(*s[i].usage, ku::digital_signature)) return true;
    }
    return false;
}

}  // namespace

#define TEE_BACKENDS botan_crypto, openssl_crypto

// ============================================================ sound chains

TEST_CASE_TEMPLATE("sound 3- and 5-certificate chains pass, windows included", C, TEE_BACKENDS) {
    for (std::size_t n : {3u, 5u}) {
        CAPTURE(n);
        const auto path = build(sound(n));
        REQUIRE(path.size() == n);
        CHECK(name(links<C>(path)) == name(status::OK));
        CHECK(name(xc::check_times(path, t0)) == name(status::OK));
    }
}

TEST_CASE_TEMPLATE("the real AWS chain passes at 2025-04-24T04:00Z and has expired since", C, TEE_BACKENDS) {
    const auto path = aws_chain();
    CHECK(name(links<C>(path)) == name(status::OK));
    CHECK(name(xc::check_times(path, aws_4am)) == name(status::OK));
    CHECK(name(xc::check_times(path, sys_clock::now())) == name(status::CERT_HAS_EXPIRED));
}

// ============================================================ one rule each

#define RULE(rule) \
    TEST_CASE_TEMPLATE(rule, C, TEE_BACKENDS) { check_variant<C>(rule); }
RULE("intermediate without cA")
RULE("intermediate key usage without keyCertSign")
RULE("leaf signed by another key under the intermediate's name")
RULE("intermediate signed by another key under the root's name")
RULE("leaf signature byte flipped")
RULE("leaf signed with ecdsa-with-SHA256")
RULE("intermediate with a P-256 key")
RULE("leaf issuer name mismatch")
RULE("root pathLenConstraint 0 above an intermediate")
RULE("unknown critical extension on the intermediate")
RULE("unknown non-critical extension on the intermediate")
RULE("leaf keyCertSign without cA")
RULE("leaf key usage without digitalSignature")
RULE("leaf expired")
RULE("intermediate expired")
RULE("anchor expired")
RULE("leaf not yet valid")
RULE("intermediate not yet valid")
RULE("anchor not yet valid")

TEST_CASE_TEMPLATE("a path shorter than 2, or with a null entry, has no issuer", C, TEE_BACKENDS) {
    const auto path = build(sound(3));
    CHECK(name(links<C>({})) == name(status::CERT_ISSUER_NOT_FOUND));
    CHECK(name(links<C>({path[0]})) == name(status::CERT_ISSUER_NOT_FOUND));
    CHECK(name(links<C>({path[0], nullptr, path[2]})) == name(status::CERT_ISSUER_NOT_FOUND));
    CHECK(name(links<C>({path[0], path[1], nullptr})) == name(status::CERT_ISSUER_NOT_FOUND));
    CHECK(name(xc::check_times({path[0], nullptr, path[2]}, t0)) == name(status::CERT_ISSUER_NOT_FOUND));
}

// ============================================================ against Botan

TEST_CASE("differential: every variant and the AWS chain against Botan's x509_path_validate") {
    for (const auto& v : variants()) {
        CAPTURE(v.name);
        const auto path = build(v);
        const bool ours = ours_accept(path), botan = botan_accepts(path);
        if (v.stricter) {
            CHECK_FALSE(ours);
            CHECK(botan);
        } else {
            CHECK(ours == botan);
        }
    }
    const auto aws = aws_chain();
    CHECK(botan_accepts(aws, aws_4am));
    CHECK_FALSE(botan_accepts(aws, sys_clock::now()));
    for (const specs& s : {akid_mismatch(1), akid_mismatch(2), self_signed_twin_leaf()})
        CHECK_FALSE(botan_accepts(build(s)));  // and neither does check_links: the last cases
    CHECK(build(self_signed_twin_leaf()).front()->is_self_signed());
}

TEST_CASE("differential: 50 random chains against Botan's x509_path_validate") {
    std::mt19937 g(20250424);
    int both_accept = 0, both_reject = 0, stricter = 0;
    for (int i = 0; i < 50; ++i) {
        CAPTURE(i);
        const specs s = random_specs(g);
        const auto path = build(s);
        const bool ours = ours_accept(path), botan = botan_accepts(path);
        CAPTURE(name(xc::check_links(path, botan_crypto{})));
        CAPTURE(name(xc::check_times(path, t0)));
        CHECK_FALSE((ours && !botan));  // never laxer than Botan
        if (!documented_difference(s)) CHECK(ours == botan);
        (ours && botan ? both_accept : !ours && !botan ? both_reject : stricter) += 1;
    }
    MESSAGE("both accept " << both_accept << ", both reject " << both_reject << ", only Botan accepts " << stricter);
    CHECK(both_accept >= 5);
    CHECK(both_reject >= 5);
}

// ============================================================ where we differ from Botan

TEST_CASE_TEMPLATE("by design: the anchor's self-signature is not checked (Botan refuses this anchor)", C,
                   TEE_BACKENDS) {
    specs s = sound(3);
    s[0].tamper = true;
    const auto path = build(s);
    CHECK(name(links<C>(path)) == name(status::OK));
    CHECK_FALSE(botan_accepts(path));
}

// Two rules of Botan's x509_path_validate that check_links applies as well
// (the differential test above compares the two on such chains):
//
// 1. Botan looks up each issuer by name AND authorityKeyIdentifier, so a
//    certificate whose authorityKeyIdentifier is not its issuer's
//    subjectKeyIdentifier has no issuer (CERT_ISSUER_NOT_FOUND).
TEST_CASE_TEMPLATE("an authorityKeyIdentifier naming another key is refused", C, TEE_BACKENDS) {
    CHECK(name(links<C>(build(akid_mismatch(1)))) == name(status::CERT_ISSUER_NOT_FOUND));  // the intermediate's
    CHECK(name(links<C>(build(akid_mismatch(2)))) == name(status::CERT_ISSUER_NOT_FOUND));  // the leaf's
}

// 2. A self-signed end-entity certificate is refused (CANNOT_ESTABLISH_TRUST)
//    even when a CA of the chain has its name and key.
TEST_CASE_TEMPLATE("a self-signed leaf is refused", C, TEE_BACKENDS) {
    const auto path = build(self_signed_twin_leaf());
    CHECK(name(links<C>(path)) == name(status::CANNOT_ESTABLISH_TRUST));
}
