// tee/detail/x509_chain.hpp - certificate chain checks of the Nitro policy, with the
// signatures verified through the crypto backend.
//
// A Nitro chain is leaf <- intermediates <- AWS root, every certificate an
// ECDSA P-384 key signed with ecdsa-with-SHA384. This file checks such a chain
// in the order the document gives it (no path building: the document names
// the path, and the trust anchor is fixed by the program):
//  - every link: the issuer's subject name is the subject's issuer name (and
//    its subjectKeyIdentifier the authorityKeyIdentifier, when both are
//    present), the issuer is a CA (basicConstraints cA, and keyCertSign if it has a key
//    usage), the signature algorithm is ecdsa-with-SHA384 without parameters,
//    the issuer key is P-384, and the signature over the TBSCertificate
//    verifies with the backend's ECDSA;
//  - every certificate: extensions in v3 only, no duplicate extension, each
//    extension's own rule (Botan's: an unknown critical extension, name
//    constraints, duplicate policies), path length constraints of the CAs
//    above it; the leaf may not be self-signed nor claim keyCertSign without
//    cA, and must allow digitalSignature (it signs the document);
//  - validity windows of every certificate, the anchor included, at a given
//    time (separate, so that a tolerated expiry does not verify twice).
// The anchor's self-signature is not checked: the anchor is the program's own
// certificate, pinned by its bytes, so its signature proves nothing more.
// Results are Botan's Certificate_Status_Code, worst first as in Botan's
// path validation, so that messages read the same; tests/test_nitro.cpp
// checks these rules one by one and against Botan's x509_path_validate.
#pragma once

#include "tee/detail/prelude.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include <botan/pkix_enums.h>
#include <botan/x509_ext.h>
#include <botan/x509cert.h>

#include "tee/concepts.hpp"
#include "tee/detail/botan_compat.hpp"

namespace tee::x509_chain {

using certificate_path = std::vector<std::shared_ptr<const Botan::X509_Certificate>>;  // leaf first, anchor last
using status = Botan::Certificate_Status_Code;

namespace detail {

void note(status& worst, status code);
const Botan::OID& ecdsa_with_sha384();

// Botan 3 renamed these (the Botan 2 names are deprecated there).
#if BOTAN_VERSION_MAJOR >= 3
inline constexpr auto key_cert_sign = Botan::Key_Constraints::KeyCertSign;
inline constexpr auto digital_signature = Botan::Key_Constraints::DigitalSignature;
#else
inline constexpr auto key_cert_sign = Botan::Key_Constraints::KEY_CERT_SIGN;
inline constexpr auto digital_signature = Botan::Key_Constraints::DIGITAL_SIGNATURE;
#endif

template <class Algorithm>
const Botan::OID& oid_of(const Algorithm& alg) {
    if constexpr (requires { alg.oid(); })
        return alg.oid();  // Botan 3
    else
        return alg.get_oid();
}

// The pathLenConstraint of a certificate's basicConstraints; nullopt if none.
template <class Certificate>
std::optional<std::size_t> path_length_constraint(const Certificate& c) {
    if constexpr (requires { c.path_length_constraint(); }) {  // newer Botan 3 (path_limit deprecated)
        return c.path_length_constraint();
    } else {
        const std::size_t limit = c.path_limit();
        if (limit == Botan::Cert_Extension::NO_CERT_PATH_LIMIT) return std::nullopt;
        return limit;
    }
}

}  // namespace detail

// Everything but the validity windows. Returns Certificate_Status_Code::OK or
// the most severe failure (the order of Botan's codes). path: leaf .. anchor.
template <crypto_backend Crypto>
status check_links(const certificate_path& path, const Crypto& crypto) {
    using detail::note;
    status worst = status::OK;
    if (path.size() < 2) return status::CERT_ISSUER_NOT_FOUND;
    for (const auto& c : path)
        if (!c) return status::CERT_ISSUER_NOT_FOUND;

    const Botan::X509_Certificate& leaf = *path.front();
    if (leaf.is_self_signed()) note(worst, status::CANNOT_ESTABLISH_TRUST);  // a root posing as the leaf
    if (leaf.has_constraints(detail::key_cert_sign) && !leaf.is_CA_cert()) note(worst, status::INVALID_USAGE);
    if (!leaf.allowed_usage(detail::digital_signature)) note(worst, status::INVALID_USAGE);

    std::vector<std::set<status>> per_certificate(path.size());  // what Botan's extension rules write
#if BOTAN_VERSION_MAJOR >= 3
    std::vector<Botan::X509_Certificate> rules_path;  // Botan 3's rules take the certificates themselves
    for (const auto& c : path) rules_path.push_back(*c);
#else
    const certificate_path& rules_path = path;
#endif
    for (std::size_t i = 0; i < path.size(); ++i) {
        const bool anchor = i + 1 == path.size();
        const Botan::X509_Certificate& subject = *path[i];
        const Botan::X509_Certificate& issuer = anchor ? subject : *path[i + 1];

        if (!anchor) {
            if (subject.issuer_dn() != issuer.subject_dn()) note(worst, status::CHAIN_NAME_MISMATCH);
            // Key identifiers, when both are present, must agree too: a path
            // builder (Botan's) finds no issuer otherwise.
            if (!subject.authority_key_id().empty() && !issuer.subject_key_id().empty() &&
                subject.authority_key_id() != issuer.subject_key_id())
                note(worst, status::CERT_ISSUER_NOT_FOUND);
            if (!issuer.is_CA_cert() || !issuer.allowed_usage(detail::key_cert_sign))
                note(worst, status::CA_CERT_NOT_FOR_CERT_ISSUER);
            const Botan::AlgorithmIdentifier& alg = subject.signature_algorithm();
            if (detail::oid_of(alg) != detail::ecdsa_with_sha384()) {
                note(worst, status::SIGNATURE_ALGO_UNKNOWN);
            } else if (!alg.parameters_are_empty()) {
                note(worst, status::SIGNATURE_ALGO_BAD_PARAMS);
            } else {
                std::optional<typename Crypto::public_key> key;
                try {
                    key = crypto.load_public_key(issuer.subject_public_key_info());  // P-384 only
                } catch (const std::exception&) {
                    note(worst, status::CERT_PUBKEY_INVALID);
                }
                if (key && !crypto.ecdsa_p384_verify_der(*key, subject.tbs_data(), subject.signature()))
                    note(worst, status::SIGNATURE_ERROR);
            }
        }

        const Botan::Extensions& ext = subject.v3_extensions();
        const auto all = ext.extensions();
        if (subject.x509_version() < 3 && !all.empty()) note(worst, status::EXT_IN_V1_V2_CERT);
        if (all.size() != ext.get_extension_oids().size()) note(worst, status::DUPLICATE_CERT_EXTENSION);
        for (const auto& e : all) e.first->validate(subject, issuer, rules_path, per_certificate, i);
    }
    for (const auto& codes : per_certificate)
        for (status code : codes)
            if (static_cast<int>(code) >= static_cast<int>(status::FIRST_ERROR_STATUS)) note(worst, code);

    // Path length: a CA with pathLenConstraint n may have at most n CAs
    // (not self-issued) between it and the leaf.
    for (std::size_t i = 1; i < path.size(); ++i) {
        const std::optional<std::size_t> limit = detail::path_length_constraint(*path[i]);
        if (!limit) continue;
        std::size_t below = 0;
        for (std::size_t j = 1; j < i; ++j)
            if (path[j]->subject_dn() != path[j]->issuer_dn()) ++below;
        if (below > *limit) note(worst, status::CERT_CHAIN_TOO_LONG);
    }
    return worst;
}

// The validity window of every certificate at `at`: OK, CERT_NOT_YET_VALID or
// CERT_HAS_EXPIRED (the worse of the two when both occur).
status check_times(const certificate_path& path, std::chrono::system_clock::time_point at);

bool ok(status s);

// ---- definitions (header-only: inline in every file; TEE_CLIENT_COMPILED_LIB:
// compiled once in src/tee_client.cpp; see tee/detail/prelude.hpp) ----
#if defined(TEE_CLIENT_DEFINITIONS)
TEE_INLINE void detail::note(status& worst, status code) {
    if (static_cast<int>(code) > static_cast<int>(worst)) worst = code;
}

TEE_INLINE const Botan::OID& detail::ecdsa_with_sha384() {
    static const Botan::OID oid("1.2.840.10045.4.3.3");
    return oid;
}

TEE_INLINE status check_times(const certificate_path& path, std::chrono::system_clock::time_point at) {
    const Botan::X509_Time t(at);
    status worst = status::OK;
    for (const auto& c : path) {
        if (!c) return status::CERT_ISSUER_NOT_FOUND;
        if (t < c->not_before()) detail::note(worst, status::CERT_NOT_YET_VALID);
        if (t > c->not_after()) detail::note(worst, status::CERT_HAS_EXPIRED);
    }
    return worst;
}

TEE_INLINE bool ok(status s) { return static_cast<int>(s) < static_cast<int>(status::FIRST_ERROR_STATUS); }
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee::x509_chain
