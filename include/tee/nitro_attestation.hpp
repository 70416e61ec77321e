// tee/nitro_attestation.hpp - the default attestation policy: verifies an AWS
// Nitro Enclaves attestation document (PROTOCOL section 2) before any secret
// is encrypted to the key it carries.
//
// verify() runs, and every step must hold:
//  1. structure: base64 -> COSE_Sign1 [protected {1:-35}, {}, payload, r||s]
//     (untagged or tag 18); payload fields present, typed and within AWS's limits.
//     Hostile sizes are refused before they cost memory: at most 32 KiB of
//     document (AWS's are about 4.5 KB), CBOR limits that fit each level (the
//     COSE array, its headers, the payload), and the unsigned, unprotected
//     header must be AWS's empty map - all checked before the payload is parsed;
//  2. COSE ES384 signature with the leaf certificate's P-384 key;
//  3. chain leaf -> cabundle (root first, checked in order) -> trusted root at
//     the verification time (now, or injected): tee/detail/x509_chain.hpp, with the
//     signatures verified by the crypto backend;
//  4. the key requests will be encrypted to: user_data == SHA-256(public_key)
//     (tee-tls), or, when the context says key_binding::nova_eth_addr, a
//     120-byte P-384 SPKI with user_data {"eth_addr": "0x..."} (Nova);
//  5. pins: PCR values, maximum document age, nonce; debug-mode enclaves
//     (PCR0 all zeros) refused;
//  6. the image policy (tee/image_policy.hpp): PCR pins, a signed allowlist,
//     a known-enclaves store, or the named opt-out accept_any_enclave_image.
//     Without one, a genuine document is refused with its PCR0..2 to pin.
// Time: the services make one document at start-up and serve it while they
// run, long after its leaf certificate (3 hours) expires. A chain that was
// valid at the document's signed time and has only expired since is verified
// at that time, up to max_document_age (30 days); every time comparison is in
// integer milliseconds with the range known, so no chrono arithmetic can
// overflow, whatever the clock or the options say.
// Nothing the server sends can relax these: options are the program's.
#pragma once

#include "tee/detail/prelude.hpp"

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <botan/data_src.h>
#include <botan/x509cert.h>
#include <nlohmann/json.hpp>

#include "tee/detail/aws_nitro_root.hpp"
#include "tee/detail/canonical_json.hpp"
#include "tee/detail/cbor.hpp"
#include "tee/concepts.hpp"
#include "tee/encoding.hpp"
#include "tee/errors.hpp"
#include "tee/image_policy.hpp"
#include "tee/detail/x509_chain.hpp"

namespace tee {

struct nitro_options {
    // Trust anchor, PEM or DER. Empty: the embedded AWS Nitro root (fingerprint checked).
    std::string trusted_root{};
    // Verification time source. Empty: the system clock.
    std::function<std::chrono::system_clock::time_point()> clock{};
    // Expected PCR values, index -> hex. Pin PCR0..2 (image, kernel, application)
    // at least. Pins are one image policy: without any, a document is refused.
    std::map<unsigned, std::string> expected_pcrs{};
    // Accept any genuine Nitro enclave image (no pins, allowlist or known-enclaves store): anyone can run one.
    bool accept_any_enclave_image = false;
    // Refuse documents older than this (by their signed timestamp), even with a
    // chain still valid: for services that make a fresh document per request.
    std::optional<std::chrono::milliseconds> max_age{};
    // A document whose certificate chain was valid when it was signed and has
    // expired since (the services make one document at start-up) is verified at
    // its own signed time and accepted up to this age; the identity says so.
    // Zero refuses any expired chain; milliseconds::max() sets no bound (audits
    // of archived documents). Negative: config_error.
    std::chrono::milliseconds max_document_age{std::chrono::days(30)};
    // Refuse documents whose nonce differs.
    std::optional<std::vector<std::uint8_t>> expected_nonce{};
    // Accept debug-mode enclaves (PCR0 all zeros), whose memory the host can read.
    bool allow_debug_mode = false;
    // Image policies besides the pins (tee/image_policy.hpp). A signed allowlist of images:
    std::optional<allowlist_options> allowlist{};
    // Trust on first use: the known-enclaves file (URL -> PCR0..2). Empty: none. It is
    // read and written only when set; the service URL comes from verify()'s context.
    std::string known_enclaves_file{};
    // A document signed this far in the future of the verification time is refused.
    std::chrono::milliseconds max_clock_skew{std::chrono::minutes(5)};
};

class nitro_attestation {
public:
    static constexpr std::string_view kind = "nitro";
    static constexpr bool verifies = true;
    // AWS's chains have 4 cabundle entries; a long self-made chain only costs CPU.
    static constexpr std::size_t max_cabundle = 16;

    explicit nitro_attestation(nitro_options opt = {});
    // Defined with the other definitions (compiled once in the compiled mode).
    ~nitro_attestation();
    nitro_attestation(const nitro_attestation&);
    nitro_attestation(nitro_attestation&&) noexcept;
    nitro_attestation& operator=(const nitro_attestation&);
    nitro_attestation& operator=(nitro_attestation&&) noexcept;

    const nitro_options& options() const noexcept { return opt_; }

    // "29 days 1 h", "5 h 0 min", "12 min 3 s", "40 s": a document's age for people.
    static std::string age_text(std::chrono::milliseconds age);

    // The answer of GET /attestation: {"attestation_doc": "<base64>"}.
    // The context's service_url is what the known-enclaves store records
    // (tee::client passes its config::url).
    template <crypto_backend Crypto>
    enclave_identity verify(const nlohmann::json& answer, const Crypto& crypto,
                            const attestation_context& context = {}) const {
        return verify_document(document_of(answer), crypto, context);
    }

    // Verifies the raw COSE_Sign1 bytes of a document.
    template <crypto_backend Crypto>
    enclave_identity verify_document(byte_span cose, const Crypto& crypto,
                                     const attestation_context& context = {}) const {
        parsed p = parse(cose);
        enclave_identity id;
        id.kind = std::string(kind);

        // 2. COSE signature by the leaf key.
        auto leaf = certificate(p.certificate, "leaf certificate");
        typename Crypto::public_key leaf_key;
        try {
            leaf_key = crypto.load_public_key(leaf->subject_public_key_info());
        } catch (const std::exception&) {
            throw attestation_error(attestation_reason::chain, "leaf certificate key is not an uncompressed P-384 key");
        }
        if (!crypto.ecdsa_p384_verify_raw(leaf_key, signed_bytes(p), p.signature))
            throw attestation_error(attestation_reason::signature,
                                    "COSE signature does not verify with the leaf certificate key");

        // 3. Certificate chain: leaf, cabundle from the leaf's issuer up, the
        // trusted root (which is cabundle[0] in AWS's documents); its link
        // signatures by the crypto backend.
        x509_chain::certificate_path chain = chain_of(p, leaf, id);
        // Botan's extension rules (name constraints and the like) may throw on
        // names they cannot compare: a document only ever gets a tee::error.
        auto links = Botan::Certificate_Status_Code::OK;
        try {
            links = x509_chain::check_links(chain, crypto);
        } catch (const error&) {
            throw;
        } catch (const std::exception&) {
            throw attestation_error(attestation_reason::chain,
                                    "certificate chain could not be checked (a malformed extension or name)");
        }
        check_chain(chain, links, p, id);

        // 4. The enclave key, bound by user_data (tee-tls) or stated whole
        // with the signing address beside it (Nova).
        if (!p.public_key)
            throw attestation_error(attestation_reason::key_binding, "document carries no enclave public_key");
        if (!p.user_data)
            throw attestation_error(attestation_reason::key_binding,
                                    "document carries no user_data binding the public_key");
        if (context.binding == key_binding::nova_eth_addr) {
            check_nova_binding(*p.public_key, *p.user_data);
        } else {
            auto digest = crypto.sha256(*p.public_key);
            if (p.user_data->size() != digest.size() || !std::equal(digest.begin(), digest.end(), p.user_data->begin()))
                throw attestation_error(attestation_reason::key_binding,
                                        "user_data is not SHA-256(public_key): the key is not bound to this document");
        }
        try {
            crypto.load_public_key(*p.public_key);  // throws unless P-384
        } catch (const protocol_error&) {
            throw attestation_error(attestation_reason::key_binding,
                                    "document public_key is not a P-384 key (SubjectPublicKeyInfo or raw point)");
        }
        set_enclave_key(id, crypto, p384::point_of(*p.public_key));

        // 5. Policy pins; the rest of the identity.
        check_pins(std::move(p), id);

        // 6. The image policy, last: the document is genuine, so its PCRs
        // may be shown, and nothing is recorded for a refused document.
        if (allowlist_) {
            verify_allowlist(*allowlist_, release_spki_, crypto, unix_now());
            const auto digest = crypto.sha256(release_spki_);
            accept_allowlisted(id, to_hex(digest));
        }
        check_image(id, context);
        return id;
    }

    // ---- step 1, a pure function of the bytes (what the fuzzers call) ----
    static constexpr std::uint64_t max_timestamp_ms = 7'258'118'400'000;  // 2200-01-01T00:00:00Z
    // Larger than any document the payload limits allow (16 certificates of 1 KiB, ...).
    static constexpr std::size_t max_document_bytes = 32 * 1024;
    struct parsed {
        std::vector<std::uint8_t> protected_header, payload, signature;
        std::string module_id;
        std::uint64_t timestamp_ms = 0;
        std::map<unsigned, std::vector<std::uint8_t>> pcrs;
        std::vector<std::uint8_t> certificate;
        std::vector<std::vector<std::uint8_t>> cabundle;  // root first
        std::optional<std::vector<std::uint8_t>> public_key, user_data, nonce;
    };

    static parsed parse(byte_span cose);

    // The bytes the COSE signature covers: ["Signature1", protected, h'', payload].
    static cbor::value sig_structure(const parsed& p);
    static std::vector<std::uint8_t> signed_bytes(const parsed& p);  // its CBOR encoding

private:
    // The parts of verify() and verify_document() that do not depend on the
    // crypto backend are functions, not templates: compiled once (see
    // tee/detail/prelude.hpp), not once per backend.
    static std::vector<std::uint8_t> document_of(const nlohmann::json& answer);  // the decoded attestation_doc
    // leaf, cabundle from the leaf's issuer up, the trusted root; sets id.verified_at (now).
    x509_chain::certificate_path chain_of(const parsed& p, std::shared_ptr<const Botan::X509_Certificate> leaf,
                                          enclave_identity& id) const;
    // The verdict on the chain: its links (signatures, extensions) and validity
    // times, now and at the document's time; the document's age and the
    // max_document_age bound. Sets id.chain, id.document_age and, for a chain
    // expired since signing, id.verified_at (the signed time).
    void check_chain(const x509_chain::certificate_path& chain, Botan::Certificate_Status_Code links, const parsed& p,
                     enclave_identity& id) const;
    // Step 5, then the identity's document fields.
    void check_pins(parsed p, enclave_identity& id) const;
    // Step 6 (the allowlist's signature and time are checked before, by the backend).
    void accept_allowlisted(enclave_identity& id, const std::string& release_key_id) const;
    void check_image(enclave_identity& id, const attestation_context& context) const;
    // Nova (PROTOCOL-NOVA section 8, step 2): public_key is exactly the
    // 120-byte P-384 SPKI; user_data a JSON object whose "eth_addr" is "0x" and
    // 40 hex digits (other members, such as app_wallet, are ignored).
    static void check_nova_binding(byte_span public_key, byte_span user_data);
    std::int64_t unix_now() const;
    static std::chrono::system_clock::time_point signed_at(const parsed& p);
    static attestation_error chain_failure(Botan::Certificate_Status_Code why,
                                           std::chrono::system_clock::time_point at);
    attestation_error too_old(const parsed& p, std::int64_t age_ms, const x509_chain::certificate_path& chain,
                              std::chrono::system_clock::time_point now) const;
    static std::int64_t millis(std::chrono::system_clock::time_point t);  // since the epoch, never overflows
    static std::shared_ptr<const Botan::X509_Certificate> certificate(const std::vector<std::uint8_t>& der,
                                                                      const char* what);
    static Botan::X509_Certificate load_root(const std::string& configured);
    static std::string fingerprint_colons(std::string_view hex);  // Botan's "64:1A:03:..." form
    // cabundle must run root-first down to the leaf's issuer, with no gaps: by
    // names here (the precise message), by signatures in x509_chain::check_links.
    static void check_order(const x509_chain::certificate_path& chain);
    static std::string iso_time(std::chrono::system_clock::time_point t);

    nitro_options opt_;
    std::map<unsigned, std::vector<std::uint8_t>> pins_;
    std::shared_ptr<const Botan::X509_Certificate> root_;  // parsed once; shared by copies of the policy
    std::vector<std::uint8_t> root_der_;                   // a cabundle entry with these bytes is root_
    std::shared_ptr<const signed_allowlist> allowlist_;    // parsed once; its signature is checked per document
    std::vector<std::uint8_t> release_spki_;
};

// ---- definitions (header-only: inline in every file; TEE_CLIENT_COMPILED_LIB:
// compiled once in src/tee_client.cpp; see tee/detail/prelude.hpp) ----
#if defined(TEE_CLIENT_DEFINITIONS)
TEE_INLINE nitro_attestation::nitro_attestation(nitro_options opt) : opt_(std::move(opt)) {
    for (const auto& [index, hex] : opt_.expected_pcrs) {
        auto v = from_hex(hex);
        if (index > 31 || !v || (v->size() != 32 && v->size() != 48 && v->size() != 64))
            throw config_error("PCR pin " + std::to_string(index) + " must be index 0..31 with 32, 48 or 64 hex bytes");
        pins_[index] = std::move(*v);
    }
    if (opt_.max_document_age.count() < 0)
        throw config_error("max_document_age must not be negative (0 refuses any expired certificate chain)");
    root_ = std::make_shared<const Botan::X509_Certificate>(load_root(opt_.trusted_root));
    root_der_ = root_->BER_encode();
    if (opt_.allowlist) {
        allowlist_ =
            std::make_shared<const signed_allowlist>(signed_allowlist::parse(opt_.allowlist->signed_allowlist));
        release_spki_ = spki_of_pem(opt_.allowlist->release_key_pem);
    }
    if (!opt_.known_enclaves_file.empty()) known_enclaves check(opt_.known_enclaves_file);  // path checks
}

TEE_INLINE std::int64_t nitro_attestation::unix_now() const {
    const auto now = opt_.clock ? opt_.clock() : std::chrono::system_clock::now();
    return std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
}

TEE_INLINE void nitro_attestation::accept_allowlisted(enclave_identity& id, const std::string& release_key_id) const {
    const allowlist_image* image = allowlist_->match(id.pcrs);
    if (image == nullptr) {
        std::string msg = "enclave image is not on the signed allowlist (version " +
            std::to_string(allowlist_->version) + ", " + std::to_string(allowlist_->images.size()) +
            " images): refused; its";
        for (unsigned i = 0; i < 3; ++i)
            if (auto it = id.pcrs.find(i); it != id.pcrs.end())
                msg += " PCR" + std::to_string(i) + "=" + to_hex(it->second);
        throw attestation_error(attestation_reason::image_policy, msg);
    }
    if (!opt_.allowlist->version_state_file.empty())
        allowlist_versions::accept(opt_.allowlist->version_state_file, release_key_id, allowlist_->version);
    id.image_policy = "allowlist: " + image->name + " (version " + std::to_string(allowlist_->version) + ")";
}

TEE_INLINE void nitro_attestation::check_nova_binding(byte_span public_key, byte_span user_data) {
    if (public_key.size() != p384::spki_size || p384::point_of(public_key).empty())
        throw attestation_error(attestation_reason::key_binding,
                                "document public_key is not the 120-byte P-384 SubjectPublicKeyInfo Nova states");
    nlohmann::json j;
    try {
        j = parse_json(std::string_view(reinterpret_cast<const char*>(user_data.data()), user_data.size()),
                       json_limits{4, 4096});
    } catch (const protocol_error&) {
        throw attestation_error(attestation_reason::key_binding,
                                "document user_data is not JSON (Nova's {\"eth_addr\"})");
    }
    auto it = j.is_object() ? j.find("eth_addr") : j.end();
    if (it == j.end() || !it->is_string())
        throw attestation_error(attestation_reason::key_binding, "document user_data has no \"eth_addr\" string");
    const std::string& a = it->get_ref<const std::string&>();
    if (a.size() != 42 || a[0] != '0' || a[1] != 'x' ||
        !std::all_of(a.begin() + 2, a.end(), [](char c) { return detail::hex_value(c) >= 0; }))
        throw attestation_error(attestation_reason::key_binding,
                                "document user_data eth_addr is not \"0x\" followed by 40 hex digits");
}

TEE_INLINE void nitro_attestation::check_image(enclave_identity& id, const attestation_context& context) const {
    auto also = [&](const std::string& what) { id.image_policy += (id.image_policy.empty() ? "" : ", ") + what; };
    if (!pins_.empty()) also("pinned PCRs");  // checked by check_pins
    if (!opt_.known_enclaves_file.empty()) {
        if (context.service_url.empty())
            throw attestation_error(attestation_reason::image_policy,
                                    "the known-enclaves store needs the service URL: verify through tee::client, or "
                                    "pass an attestation_context with service_url");
        id.first_contact = known_enclaves(opt_.known_enclaves_file).check_or_record(context.service_url, id.pcrs);
        also(id.first_contact ? "first contact (recorded)" : "known enclave");
    }
    if (!id.image_policy.empty()) return;
    if (!opt_.accept_any_enclave_image) throw no_image_policy_error(id.pcrs);
    also("any image");
}

TEE_INLINE nitro_attestation::~nitro_attestation() = default;
TEE_INLINE nitro_attestation::nitro_attestation(const nitro_attestation&) = default;
TEE_INLINE nitro_attestation::nitro_attestation(nitro_attestation&&) noexcept = default;
TEE_INLINE nitro_attestation& nitro_attestation::operator=(const nitro_attestation&) = default;
TEE_INLINE nitro_attestation& nitro_attestation::operator=(nitro_attestation&&) noexcept = default;

TEE_INLINE std::vector<std::uint8_t> nitro_attestation::document_of(const nlohmann::json& answer) {
    if (!answer.is_object() || !answer.contains("attestation_doc"))
        throw attestation_error(attestation_reason::malformed, "attestation answer has no attestation_doc");
    if (auto m = answer.find("mock"); m != answer.end() && *m != false)
        throw attestation_error(attestation_reason::mock_refused,
                                "the enclave offered a mock attestation (\"mock\": true); refused: this "
                                "client verifies Nitro documents (a mock answer is a downgrade)");
    const auto& doc = answer["attestation_doc"];
    if (!doc.is_string())
        throw attestation_error(attestation_reason::mock_refused,
                                "attestation_doc is not a Nitro document (a JSON " + std::string(doc.type_name()) +
                                    " instead of base64); refused: mock answers are a downgrade");
    const auto& text = doc.get_ref<const std::string&>();
    if (text.size() > (max_document_bytes + 2) / 3 * 4)
        throw attestation_error(
            attestation_reason::malformed,
            "attestation_doc is " + std::to_string(text.size()) + " characters of base64, more than a document needs");
    auto bytes = from_base64(text);
    if (!bytes) throw attestation_error(attestation_reason::malformed, "attestation_doc is not valid base64");
    return std::move(*bytes);
}

TEE_INLINE std::chrono::system_clock::time_point nitro_attestation::signed_at(const parsed& p) {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(p.timestamp_ms));
}

TEE_INLINE attestation_error nitro_attestation::chain_failure(Botan::Certificate_Status_Code why,
                                                              std::chrono::system_clock::time_point at) {
    return attestation_error(attestation_reason::chain,
                             "certificate chain does not verify at " + iso_time(at) + ": " + Botan::to_string(why));
}

TEE_INLINE x509_chain::certificate_path nitro_attestation::chain_of(const parsed& p,
                                                                    std::shared_ptr<const Botan::X509_Certificate> leaf,
                                                                    enclave_identity& id) const {
    id.verified_at = opt_.clock ? opt_.clock() : std::chrono::system_clock::now();
    x509_chain::certificate_path chain{std::move(leaf)};
    for (auto it = p.cabundle.rbegin(); it != p.cabundle.rend(); ++it)
        chain.push_back(*it == root_der_ ? root_ : certificate(*it, "cabundle certificate"));
    check_order(chain);
    if (chain.back() != root_) {
        // A self-issued top that is not the trusted root is another root:
        // nothing it signs is trusted. Otherwise the trusted root must issue it.
        if (chain.back()->subject_dn() == chain.back()->issuer_dn())
            throw chain_failure(Botan::Certificate_Status_Code::CANNOT_ESTABLISH_TRUST, id.verified_at);
        chain.push_back(root_);
    }
    return chain;
}

TEE_INLINE void nitro_attestation::check_chain(const x509_chain::certificate_path& chain,
                                               Botan::Certificate_Status_Code links, const parsed& p,
                                               enclave_identity& id) const {
    using code = Botan::Certificate_Status_Code;
    const auto now = id.verified_at;
    // Both within about +-2^53: the clock's milliseconds fit an int64 with room,
    // the timestamp is at most max_timestamp_ms (parse).
    const std::int64_t age_ms = millis(now) - static_cast<std::int64_t>(p.timestamp_ms);
    id.document_age = std::chrono::milliseconds(age_ms);

    const auto status = std::max(links, x509_chain::check_times(chain, now));
    const bool expired_since = status == code::CERT_HAS_EXPIRED;
    if (!x509_chain::ok(status) && !expired_since) throw chain_failure(status, now);
    if (age_ms < 0 && -age_ms > opt_.max_clock_skew.count())
        throw attestation_error(
            attestation_reason::future,
            "document is signed at " + iso_time(signed_at(p)) + ", in the future of " + iso_time(now));
    // The document must have been signed while its chain was valid, whatever now is.
    if (const auto then = std::max(links, x509_chain::check_times(chain, signed_at(p))); !x509_chain::ok(then))
        throw attestation_error(attestation_reason::chain,
                                "certificate chain does not verify at " + iso_time(signed_at(p)) +
                                    ", the document's own signed time: " + Botan::to_string(then));
    if (expired_since) {
        if (age_ms > opt_.max_document_age.count()) throw too_old(p, age_ms, chain, now);
        id.verified_at = signed_at(p);
        id.verified_at_document_time = true;
    }
    for (const auto& c : chain)  // what was verified: leaf ... trusted root
        id.chain.push_back({c->subject_dn().to_string(), c->issuer_dn().to_string(), c->not_before().to_std_timepoint(),
                            c->not_after().to_std_timepoint()});
}

TEE_INLINE attestation_error nitro_attestation::too_old(const parsed& p, std::int64_t age_ms,
                                                        const x509_chain::certificate_path& chain,
                                                        std::chrono::system_clock::time_point now) const {
    auto expired = chain.front()->not_after().to_std_timepoint();
    for (const auto& c : chain)  // the first to expire (the leaf, in AWS's chains)
        if (auto t = c->not_after().to_std_timepoint(); t < now && t < expired) expired = t;
    const auto bound = opt_.max_document_age;
    return attestation_error(
        attestation_reason::expired,
        "document is " + age_text(std::chrono::milliseconds(age_ms)) + " old (signed " + iso_time(signed_at(p)) +
            ") and its certificate expired at " + iso_time(expired) +
            "; services that make one attestation document at start-up serve it for as long as they run, " +
            (bound.count() == 0
                 ? std::string("but documents with expired certificates are refused (max_document_age 0)")
                 : "and documents up to " + age_text(bound) + " old are accepted") +
            "; change the bound with nitro_options::max_document_age (tee-chat --max-document-age DURATION, "
            "e.g. 12h, 7d, 0)");
}

TEE_INLINE std::int64_t nitro_attestation::millis(std::chrono::system_clock::time_point t) {
    // A cast to a coarser unit divides: it cannot overflow.
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

TEE_INLINE std::string nitro_attestation::age_text(std::chrono::milliseconds age) {
    const std::int64_t ms = age.count();
    if (ms < 0) return "-" + age_text(std::chrono::milliseconds(-(ms + 1)));  // -(ms + 1): no overflow at the minimum
    const std::int64_t s = ms / 1000, m = s / 60, h = m / 60, d = h / 24;
    if (d > 0) return std::to_string(d) + (d == 1 ? " day " : " days ") + std::to_string(h % 24) + " h";
    if (h > 0) return std::to_string(h) + " h " + std::to_string(m % 60) + " min";
    if (m > 0) return std::to_string(m) + " min " + std::to_string(s % 60) + " s";
    return std::to_string(s) + " s";
}

TEE_INLINE void nitro_attestation::check_pins(parsed p, enclave_identity& id) const {
    const auto& pcr0 = p.pcrs.at(0);
    id.debug_mode = std::all_of(pcr0.begin(), pcr0.end(), [](std::uint8_t b) { return b == 0; });
    if (id.debug_mode && !opt_.allow_debug_mode)
        throw attestation_error(attestation_reason::debug_mode,
                                "PCR0 is all zeros: a debug-mode enclave, whose memory the host can read; "
                                "refused (allow_debug_mode to accept)");
    for (const auto& [index, want] : pins_) {
        auto it = p.pcrs.find(index);
        if (it == p.pcrs.end())
            throw attestation_error(attestation_reason::pcr_mismatch,
                                    "PCR" + std::to_string(index) + " is pinned but absent");
        if (it->second != want)
            throw attestation_error(
                attestation_reason::pcr_mismatch,
                "PCR" + std::to_string(index) + " is " + to_hex(it->second) + ", pinned to " + to_hex(want));
    }
    // The age from the clock's time (check_chain), also for a document verified at its own time.
    if (opt_.max_age && id.document_age.count() > opt_.max_age->count())
        throw attestation_error(attestation_reason::too_old,
                                "document is older than the maximum age (signed " + iso_time(signed_at(p)) + ")");
    if (opt_.expected_nonce && (!p.nonce || *p.nonce != *opt_.expected_nonce))
        throw attestation_error(attestation_reason::nonce, "document nonce differs from the expected nonce");

    id.verified = true;
    id.module_id = std::move(p.module_id);
    id.timestamp_ms = p.timestamp_ms;
    id.pcrs = std::move(p.pcrs);
    id.nonce = p.nonce.value_or(std::vector<std::uint8_t>{});
    id.user_data = std::move(*p.user_data);
}

TEE_INLINE nitro_attestation::parsed nitro_attestation::parse(byte_span cose) {
    auto fail = [](const std::string& what) -> attestation_error {
        return attestation_error(attestation_reason::malformed, "attestation document: " + what);
    };
    if (cose.size() > max_document_bytes)
        throw fail(std::to_string(cose.size()) + " bytes, more than the " + std::to_string(max_document_bytes) +
                   " a document needs");
    // [protected bstr, unprotected map, payload bstr, signature bstr], maybe in
    // tag 18: nothing nests deeper than the header map's values, nor is wider than 16.
    auto top = cbor::decode(cose, cbor::limits{3, max_document_bytes, 16});
    if (!top.ok()) throw fail(top.error().message());
    const cbor::value* msg = &top.value();
    if (msg->is_tag()) {
        if (msg->tag_number() != 18) throw fail("unexpected CBOR tag " + std::to_string(msg->tag_number()));
        msg = &msg->tag_content();
    }
    if (!msg->is_array() || msg->as_array().size() != 4) throw fail("not a COSE_Sign1 array of 4 items");
    const auto& a = msg->as_array();
    if (!a[0].is_bytes() || !a[1].is_map() || !a[2].is_bytes() || !a[3].is_bytes())
        throw fail("COSE_Sign1 items are not [bstr, map, bstr, bstr]");
    parsed p;
    p.protected_header = a[0].as_bytes();
    p.payload = a[2].as_bytes();
    p.signature = a[3].as_bytes();
    if (p.signature.size() != 96) throw fail("COSE signature is not 96 bytes (ES384 r||s)");

    auto prot = cbor::decode(p.protected_header, cbor::limits{1, 64, 4});  // {1: -35}
    if (!prot.ok()) throw fail("protected header: " + prot.error().message());
    const cbor::value* alg = prot.value().is_map() ? prot.value().find(std::int64_t{1}) : nullptr;
    if (alg == nullptr || !alg->is_int() || alg->as_int() != -35)
        throw fail("protected header algorithm is not ES384 (-35)");
    // Not covered by the signature: anyone on the path could fill it.
    if (!a[1].as_map().empty()) throw fail("unprotected header is not empty (AWS's is {}, and it is not signed)");

    // A map of fields; pcrs and cabundle one level down; each field's own
    // limits are checked below (more precise messages than the CBOR reader's).
    auto body = cbor::decode(p.payload, cbor::limits{2, 4096, 64});
    if (!body.ok()) throw fail("payload: " + body.error().message());
    const cbor::value& m = body.value();
    if (!m.is_map()) throw fail("payload is not a map");
    auto field = [&](std::string_view name) -> const cbor::value& {
        const cbor::value* v = m.find(name);
        if (v == nullptr) throw fail("payload has no " + std::string(name));
        return *v;
    };
    auto bytes_field = [&](std::string_view name, std::size_t min, std::size_t max) {
        const cbor::value& v = field(name);
        if (!v.is_bytes()) throw fail(std::string(name) + " is not a byte string");
        if (v.as_bytes().size() < min || v.as_bytes().size() > max)
            throw fail(std::string(name) + " has " + std::to_string(v.as_bytes().size()) + " bytes, outside " +
                       std::to_string(min) + ".." + std::to_string(max));
        return v.as_bytes();
    };
    auto optional_bytes = [&](std::string_view name, std::size_t min) -> std::optional<std::vector<std::uint8_t>> {
        const cbor::value* v = m.find(name);
        if (v == nullptr || v->is_null()) return std::nullopt;
        return bytes_field(name, min, 1024);
    };

    const cbor::value& module = field("module_id");
    if (!module.is_text()) throw fail("module_id is not a text string");
    if (module.as_text().empty()) throw fail("module_id is empty");
    p.module_id = module.as_text();
    const cbor::value& digest = field("digest");
    if (!digest.is_text()) throw fail("digest is not a text string");
    if (digest.as_text() != "SHA384") throw fail("digest is not \"SHA384\"");
    const cbor::value& ts = field("timestamp");
    if (!ts.is_uint() || ts.as_uint() == 0) throw fail("timestamp is not a positive integer");
    // system_clock counts nanoseconds in an int64 (up to 2262): a larger
    // timestamp would overflow (undefined behaviour) in verify_document's
    // time arithmetic, which runs before the chain is checked.
    if (ts.as_uint() > max_timestamp_ms) throw fail("timestamp is after the year 2200");
    p.timestamp_ms = ts.as_uint();

    const cbor::value& pcrs = field("pcrs");
    if (!pcrs.is_map() || pcrs.as_map().empty() || pcrs.as_map().size() > 32)
        throw fail("pcrs is not a map of 1..32 entries");
    for (const auto& [k, v] : pcrs.as_map()) {
        if (!k.is_uint() || k.as_uint() > 31) throw fail("PCR index is not an integer 0..31");
        if (!v.is_bytes()) throw fail("PCR" + std::to_string(k.as_uint()) + " is not a byte string");
        auto n = v.as_bytes().size();
        if (n != 32 && n != 48 && n != 64)
            throw fail("PCR" + std::to_string(k.as_uint()) + " has " + std::to_string(n) + " bytes, not 32/48/64");
        p.pcrs[static_cast<unsigned>(k.as_uint())] = v.as_bytes();
    }
    if (!p.pcrs.count(0)) throw fail("pcrs has no PCR0");

    p.certificate = bytes_field("certificate", 1, 1024);
    const cbor::value& bundle = field("cabundle");
    if (!bundle.is_array() || bundle.as_array().empty()) throw fail("cabundle is not a non-empty array");
    if (bundle.as_array().size() > max_cabundle) throw fail("cabundle has more than 16 certificates");
    for (const auto& c : bundle.as_array()) {
        if (!c.is_bytes() || c.as_bytes().empty() || c.as_bytes().size() > 1024)
            throw fail("cabundle entry is not a byte string of 1..1024 bytes");
        p.cabundle.push_back(c.as_bytes());
    }
    p.public_key = optional_bytes("public_key", 1);
    p.user_data = optional_bytes("user_data", 0);
    p.nonce = optional_bytes("nonce", 0);
    return p;
}

TEE_INLINE cbor::value nitro_attestation::sig_structure(const parsed& p) {
    using cbor::value;
    return value::array(
        {value::text("Signature1"), value::bytes(p.protected_header), value::bytes({}), value::bytes(p.payload)});
}

TEE_INLINE std::vector<std::uint8_t> nitro_attestation::signed_bytes(const parsed& p) {
    return cbor::encode(sig_structure(p));
}

TEE_INLINE std::shared_ptr<const Botan::X509_Certificate> nitro_attestation::certificate(
    const std::vector<std::uint8_t>& der, const char* what) {
    try {
        return std::make_shared<const Botan::X509_Certificate>(der);
    } catch (const std::exception&) {
        throw attestation_error(attestation_reason::malformed,
                                std::string("attestation document: ") + what + " is not a DER X.509 certificate");
    }
}

TEE_INLINE Botan::X509_Certificate nitro_attestation::load_root(const std::string& configured) {
    const bool embedded = configured.empty();
    Botan::X509_Certificate root;
    try {
        std::string_view src = embedded ? aws_nitro_root_pem : std::string_view(configured);
        Botan::DataSource_Memory ds(reinterpret_cast<const std::uint8_t*>(src.data()), src.size());
        root = Botan::X509_Certificate(ds);  // PEM or DER
    } catch (const std::exception&) {
        throw config_error("trusted root is not a PEM or DER X.509 certificate");
    }
    if (embedded && root.fingerprint("SHA-256") != fingerprint_colons(aws_nitro_root_sha256))
        throw config_error("embedded AWS Nitro root does not match its pinned SHA-256 fingerprint");
    return root;
}

TEE_INLINE std::string nitro_attestation::fingerprint_colons(std::string_view hex) {
    std::string out;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        if (i) out += ':';
        out += static_cast<char>(std::toupper(static_cast<unsigned char>(hex[i])));
        out += static_cast<char>(std::toupper(static_cast<unsigned char>(hex[i + 1])));
    }
    return out;
}

TEE_INLINE void nitro_attestation::check_order(const x509_chain::certificate_path& chain) {
    for (std::size_t i = 0; i + 1 < chain.size(); ++i)
        if (chain[i]->issuer_dn() != chain[i + 1]->subject_dn())
            throw attestation_error(attestation_reason::chain,
                                    "cabundle is not ordered root first down to the leaf's issuer (entry " +
                                        std::to_string(chain.size() - 2 - i) + " does not issue the next)");
}

TEE_INLINE std::string nitro_attestation::iso_time(std::chrono::system_clock::time_point t) {
    // std::chrono's calendar: UTC without the C library's gmtime_r / gmtime_s
    using namespace std::chrono;
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss hms{floor<seconds>(t - day)};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                  static_cast<long>(hms.seconds().count()));
    return buf;
}
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee
