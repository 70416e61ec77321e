// tee/image_policy.hpp - which enclave images a Nitro verification accepts,
// besides PCR pins: a signed allowlist of releases, and a known-enclaves store
// (trust on first use, like ssh's known_hosts). nitro_attestation applies
// them after the document itself has verified (docs/security.md, "Image
// policies").
//
// The trap: a genuine Nitro document proves only that *some* enclave image
// runs on AWS hardware. Anyone with an AWS account can build and run one, and
// on http:// anyone on the path can put theirs in front of the client; it
// would receive the API key and the prompt. So the image must be named:
//
//  * signed allowlist: a release key (pinned by the program, PEM SPKI) signs
//    the list of images of a service. File format, exactly:
//      {"allowlist": {"version": <positive integer>, "issued_at": <unix s>,
//                     "expires_at": <unix s>,
//                     "images": [{"name": "<text>", "pcrs": {"0": "<96 hex>", ...}}]},
//       "signature": "<hex DER ECDSA P-384 / SHA-384 over canonical_json(allowlist)>"}
//    (canonical_json is Python's json.dumps(o, separators=(",", ":"),
//    sort_keys=True): tee/detail/canonical_json.hpp). An image matches when every PCR
//    it lists equals the document's. Refused: a bad signature, a list expired
//    or not yet valid, an image not listed, and a version lower than the
//    highest accepted before for that release key (a rollback to an older
//    list, e.g. one that still lists a withdrawn image; remembered in a
//    version state file).
//  * known enclaves: a file mapping a service URL to the PCR0, PCR1 and PCR2
//    seen at first contact. One entry per line, '#' starts a comment line:
//      <url> <pcr0 hex> <pcr1 hex> <pcr2 hex>
//    First contact records the image; a different image at a known URL is
//    refused and the file is left unchanged. Changes are made under a lock,
//    re-reading the file, and written atomically (tee/detail/state_file.hpp).
#pragma once

#include "tee/detail/prelude.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <botan/auto_rng.h>
#include <botan/data_src.h>
#include <botan/pk_keys.h>
#include <botan/pkcs8.h>
#include <botan/pubkey.h>
#include <botan/version.h>
#include <nlohmann/json.hpp>

#include "tee/detail/canonical_json.hpp"
#include "tee/concepts.hpp"
#include "tee/detail/state_file.hpp"
#include "tee/encoding.hpp"
#include "tee/errors.hpp"
#include "tee/detail/p384.hpp"

namespace tee {

using pcr_map = std::map<unsigned, std::vector<std::uint8_t>>;

// ------------------------------------------------------------ signed allowlist
struct allowlist_options {
    std::string signed_allowlist;  // the signed allowlist file's text (format above)
    std::string release_key_pem;   // the release key that must have signed it: PEM SubjectPublicKeyInfo, P-384
    // Where the highest version accepted per release key is kept (a file).
    // Empty: no memory across runs, so a rollback to an older signed list goes
    // unnoticed. tee-chat keeps it next to its known-enclaves file.
    std::string version_state_file;
};

struct allowlist_image {
    std::string name;
    pcr_map pcrs;  // what must match: every PCR listed here
};

// A parsed allowlist file. parse() checks the structure only: verify_allowlist()
// checks the signature and the validity time.
struct signed_allowlist {
    static constexpr std::size_t max_file_bytes = 1u << 20;
    static constexpr std::size_t max_images = 4096;
    static constexpr std::size_t max_name_bytes = 256;

    std::uint64_t version = 0;
    std::int64_t issued_at = 0;   // unix seconds
    std::int64_t expires_at = 0;  // unix seconds; valid in [issued_at, expires_at)
    std::vector<allowlist_image> images;
    std::string signed_bytes;             // canonical JSON of the "allowlist" object
    std::vector<std::uint8_t> signature;  // DER ECDSA

    // config_error naming the first problem.
    static signed_allowlist parse(std::string_view file);
    // Checks an unsigned "allowlist" object (what `tee-chat allowlist sign`
    // signs) and returns it parsed; signed_bytes is what must be signed.
    static signed_allowlist parse_unsigned(const nlohmann::json& allowlist);

    // The first listed image all of whose PCRs equal the document's; nullptr if none.
    const allowlist_image* match(const pcr_map& pcrs) const;
};

// For release tooling (`tee-chat allowlist sign`): checks an unsigned
// "allowlist" object (JSON text; a file {"allowlist": {...}} is accepted too),
// signs its canonical JSON with a P-384 private key (PKCS#8 PEM, unencrypted)
// and returns the signed allowlist file. config_error on a bad list or key;
// the message never holds key material.
std::string sign_allowlist(std::string_view allowlist_json, std::string_view private_key_pem);

// The DER SubjectPublicKeyInfo of a PEM "PUBLIC KEY" block; config_error otherwise.
std::vector<std::uint8_t> spki_of_pem(std::string_view pem);

// The signature (by the release key, with the crypto backend) and the validity
// at `now` (unix seconds): attestation_error, each with its own message.
template <crypto_backend Crypto>
void verify_allowlist(const signed_allowlist& list, byte_span release_spki, const Crypto& crypto, std::int64_t now) {
    typename Crypto::public_key key;
    try {
        key = crypto.load_public_key(release_spki);
    } catch (const error&) {
        throw config_error("allowlist release key is not a P-384 public key");
    }
    const auto* msg = reinterpret_cast<const std::uint8_t*>(list.signed_bytes.data());
    if (!crypto.ecdsa_p384_verify_der(key, byte_span(msg, list.signed_bytes.size()), list.signature))
        throw attestation_error(attestation_reason::allowlist,
                                "allowlist signature does not verify with the pinned release key: refused");
    if (now < list.issued_at)
        throw attestation_error(attestation_reason::allowlist,
                                "allowlist version " + std::to_string(list.version) + " is not valid yet (issued_at " +
                                    std::to_string(list.issued_at) + ", now " + std::to_string(now) + "): refused");
    if (now >= list.expires_at)
        throw attestation_error(attestation_reason::allowlist,
                                "allowlist version " + std::to_string(list.version) + " has expired (expires_at " +
                                    std::to_string(list.expires_at) + ", now " + std::to_string(now) +
                                    "): refused; get the current list from the service's publisher");
}

// The highest allowlist version accepted per release key (hex SHA-256 of its
// SPKI). File: one "<key id> <version>" per line.
struct allowlist_versions {
    static std::map<std::string, std::uint64_t> parse(std::string_view text);  // config_error if malformed
    // Under the file's lock: refuses a version below the recorded one
    // (attestation_error, "rollback"), records a higher one.
    static void accept(const std::string& state_file, const std::string& key_id, std::uint64_t version);
};

// ---------------------------------------------------------- known enclaves
struct known_enclave {
    std::string url;
    std::vector<std::uint8_t> pcr0, pcr1, pcr2;
};

class known_enclaves {
public:
    static constexpr std::size_t max_file_bytes = 4u << 20;
    static constexpr std::size_t max_url_bytes = 2048;

    explicit known_enclaves(std::string path);
    const std::string& path() const noexcept { return path_; }

    // The entries of a file's text, in order; config_error naming the line.
    static std::vector<known_enclave> parse(std::string_view text);
    static std::string format(const std::vector<known_enclave>& entries);
    // How URLs are compared and stored: without trailing '/'; no whitespace allowed.
    static std::string normalize_url(std::string_view url);

    std::vector<known_enclave> list() const;  // empty if the file does not exist
    // The known image at `url` must equal the document's PCR0..2; an unknown
    // URL is recorded (returns true: first contact). A different image:
    // attestation_error naming the old and new PCR0, the file unchanged.
    bool check_or_record(std::string_view url, const pcr_map& pcrs) const;
    bool forget(std::string_view url) const;  // false if the URL was not known

private:
    std::string path_;
};

// What nitro_attestation says when no image policy is chosen: the four ways,
// and this document's PCR0..2 to pin.
attestation_error no_image_policy_error(const pcr_map& pcrs);

// ---- definitions (see tee/detail/prelude.hpp) ----
#if defined(TEE_CLIENT_DEFINITIONS)
namespace detail {

inline std::vector<std::uint8_t> pcr_value(const nlohmann::json& v, const std::string& where) {
    if (!v.is_string()) throw config_error(where + " is not a hex string");
    auto bytes = from_hex(v.get_ref<const std::string&>());
    if (!bytes || bytes->size() != 48) throw config_error(where + " is not 96 hex digits (a SHA-384 PCR)");
    return std::move(*bytes);
}

inline std::int64_t unix_seconds_field(const nlohmann::json& o, const char* name) {
    auto it = o.find(name);
    if (it == o.end()) throw config_error(std::string("allowlist has no ") + name);
    if (it->is_number_unsigned() &&
        it->get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return it->get<std::int64_t>();
    if (it->is_number_integer() && !it->is_number_unsigned()) return it->get<std::int64_t>();
    throw config_error(std::string("allowlist ") + name + " is not an integer (unix seconds)");
}

}  // namespace detail

TEE_INLINE signed_allowlist signed_allowlist::parse_unsigned(const nlohmann::json& a) {
    if (!a.is_object()) throw config_error("allowlist is not a JSON object");
    for (const auto& [k, v] : a.items())
        if (k != "version" && k != "issued_at" && k != "expires_at" && k != "images")
            throw config_error("allowlist has an unknown field \"" + detail::printable_prefix(k, 40) + "\"");
    signed_allowlist out;
    auto ver = a.find("version");
    if (ver == a.end()) throw config_error("allowlist has no version");
    if (!ver->is_number_integer() || (!ver->is_number_unsigned() && ver->get<std::int64_t>() <= 0) ||
        (ver->is_number_unsigned() && ver->get<std::uint64_t>() == 0))
        throw config_error("allowlist version is not a positive integer");
    out.version = ver->get<std::uint64_t>();
    out.issued_at = detail::unix_seconds_field(a, "issued_at");
    out.expires_at = detail::unix_seconds_field(a, "expires_at");
    if (out.expires_at <= out.issued_at) throw config_error("allowlist expires_at is not after issued_at");
    auto images = a.find("images");
    if (images == a.end() || !images->is_array() || images->empty())
        throw config_error("allowlist images is not a non-empty array");
    if (images->size() > max_images) throw config_error("allowlist has more than 4096 images");
    for (std::size_t i = 0; i < images->size(); ++i) {
        const auto& img = (*images)[i];
        const std::string at = "allowlist image " + std::to_string(i);
        if (!img.is_object()) throw config_error(at + " is not an object");
        for (const auto& [k, v] : img.items())
            if (k != "name" && k != "pcrs")
                throw config_error(at + " has an unknown field \"" + detail::printable_prefix(k, 40) + "\"");
        allowlist_image image;
        auto name = img.find("name");
        if (name == img.end() || !name->is_string()) throw config_error(at + " has no name string");
        image.name = name->get<std::string>();
        if (image.name.size() > max_name_bytes) throw config_error(at + " has a name longer than 256 bytes");
        auto pcrs = img.find("pcrs");
        if (pcrs == img.end() || !pcrs->is_object() || pcrs->empty())
            throw config_error(at + " has no pcrs object with at least one PCR");
        for (const auto& [k, v] : pcrs->items()) {
            unsigned index = 32;
            if (!k.empty() && k.size() <= 2 &&
                std::all_of(k.begin(), k.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
                (k.size() == 1 || k[0] != '0'))
                index = static_cast<unsigned>(std::stoul(k));
            if (index > 31) throw config_error(at + " has a PCR index that is not 0..31");
            image.pcrs[index] = detail::pcr_value(v, at + " PCR" + k);
        }
        out.images.push_back(std::move(image));
    }
    try {
        out.signed_bytes = canonical_json(a);
    } catch (const error& e) {
        throw config_error(std::string("allowlist cannot be canonicalized: ") + e.what());
    }
    return out;
}

TEE_INLINE signed_allowlist signed_allowlist::parse(std::string_view file) {
    if (file.size() > max_file_bytes) throw config_error("allowlist file is larger than 1 MiB");
    nlohmann::json j;
    try {
        j = parse_json(file, json_limits{8, max_file_bytes});
    } catch (const error& e) {
        throw config_error(std::string("allowlist file is not valid JSON: ") + e.what());
    }
    if (!j.is_object()) throw config_error("allowlist file is not a JSON object");
    for (const auto& [k, v] : j.items())
        if (k != "allowlist" && k != "signature")
            throw config_error("allowlist file has an unknown field \"" + detail::printable_prefix(k, 40) + "\"");
    auto a = j.find("allowlist");
    if (a == j.end()) throw config_error("allowlist file has no \"allowlist\" object");
    signed_allowlist out = parse_unsigned(*a);
    auto sig = j.find("signature");
    if (sig == j.end() || !sig->is_string()) throw config_error("allowlist file has no \"signature\" string");
    auto der = from_hex(sig->get_ref<const std::string&>());
    if (!der || der->size() < 8 || der->size() > 120) throw config_error("allowlist signature is not hex DER");
    out.signature = std::move(*der);
    return out;
}

TEE_INLINE std::string sign_allowlist(std::string_view allowlist_json, std::string_view private_key_pem) {
    nlohmann::json j;
    try {
        j = parse_json(allowlist_json, json_limits{8, signed_allowlist::max_file_bytes});
    } catch (const error& e) {
        throw config_error(std::string("allowlist is not valid JSON: ") + e.what());
    }
    if (j.is_object() && j.contains("allowlist")) j = j["allowlist"];
    signed_allowlist list = signed_allowlist::parse_unsigned(j);
    std::unique_ptr<Botan::Private_Key> key;
    try {
        Botan::DataSource_Memory src(reinterpret_cast<const std::uint8_t*>(private_key_pem.data()),
                                     private_key_pem.size());
        key = Botan::PKCS8::load_key(src);
    } catch (const std::exception&) {
        throw config_error("the signing key is not an unencrypted PKCS#8 PEM private key");
    }
    if (!key || key->algo_name() != "ECDSA" || p384::point_of(key->subject_public_key()).empty())
        throw config_error("the signing key is not an ECDSA P-384 key");
    std::vector<std::uint8_t> sig;
    try {
        Botan::AutoSeeded_RNG rng;
#if BOTAN_VERSION_MAJOR >= 3
        Botan::PK_Signer signer(*key, rng, "SHA-384", Botan::Signature_Format::DerSequence);
#else
        Botan::PK_Signer signer(*key, rng, "EMSA1(SHA-384)", Botan::DER_SEQUENCE);
#endif
        const auto* msg = reinterpret_cast<const std::uint8_t*>(list.signed_bytes.data());
        sig = signer.sign_message(msg, list.signed_bytes.size(), rng);
    } catch (const std::exception&) {
        throw config_error("signing the allowlist failed (is the key an ECDSA P-384 key?)");
    }
    nlohmann::ordered_json out;
    out["allowlist"] = nlohmann::ordered_json::parse(list.signed_bytes);
    out["signature"] = to_hex(sig);
    return out.dump(2) + "\n";
}

TEE_INLINE const allowlist_image* signed_allowlist::match(const pcr_map& pcrs) const {
    for (const auto& image : images) {
        bool all = true;
        for (const auto& [index, want] : image.pcrs) {
            auto it = pcrs.find(index);
            if (it == pcrs.end() || it->second != want) {
                all = false;
                break;
            }
        }
        if (all) return &image;
    }
    return nullptr;
}

TEE_INLINE std::vector<std::uint8_t> spki_of_pem(std::string_view pem) {
    constexpr std::string_view begin = "-----BEGIN PUBLIC KEY-----", end = "-----END PUBLIC KEY-----";
    const auto b = pem.find(begin);
    const auto e = b == std::string_view::npos ? b : pem.find(end, b);
    if (b == std::string_view::npos || e == std::string_view::npos)
        throw config_error("release key is not a PEM PUBLIC KEY block (SubjectPublicKeyInfo)");
    auto der = from_base64(pem.substr(b + begin.size(), e - b - begin.size()));
    if (!der || der->empty()) throw config_error("release key PEM does not hold valid base64");
    return std::move(*der);
}

TEE_INLINE std::map<std::string, std::uint64_t> allowlist_versions::parse(std::string_view text) {
    std::map<std::string, std::uint64_t> out;
    std::size_t line_no = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++line_no;
        if (line.empty() || line[0] == '#') continue;
        const auto sp = line.find(' ');
        const std::string_view id = line.substr(0, sp);
        const std::string_view num = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
        auto key = from_hex(id);
        std::uint64_t v = 0;
        auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
        if (!key || key->size() != 32 || num.empty() || ec != std::errc{} || ptr != num.data() + num.size() || v == 0 ||
            out.count(std::string(id)))
            throw config_error("allowlist version state line " + std::to_string(line_no) +
                               " is not \"<64 hex> <version>\" (or repeats a key)");
        out[std::string(id)] = v;
    }
    return out;
}

TEE_INLINE void allowlist_versions::accept(const std::string& state_file, const std::string& key_id,
                                           std::uint64_t version) {
    detail::state_file_lock lock(state_file);
    auto text = detail::read_state_file(state_file, 1u << 20);
    auto versions = parse(text.value_or(""));
    auto it = versions.find(key_id);
    if (it != versions.end() && version < it->second)
        throw attestation_error(attestation_reason::rollback,
                                "allowlist rollback: version " + std::to_string(version) + " is lower than version " +
                                    std::to_string(it->second) +
                                    " accepted before for this release key; refused (an older list may still "
                                    "allow a withdrawn image)");
    if (it != versions.end() && version == it->second) return;
    versions[key_id] = version;
    std::string out = "# highest signed allowlist version accepted per release key (SHA-256 of its SPKI)\n";
    for (const auto& [id, v] : versions) out += id + " " + std::to_string(v) + "\n";
    detail::write_state_file(state_file, out);
}

TEE_INLINE known_enclaves::known_enclaves(std::string path) : path_(std::move(path)) {
    if (path_.empty()) throw config_error("known-enclaves store: the file path is empty");
}

TEE_INLINE std::string known_enclaves::normalize_url(std::string_view url) {
    while (!url.empty() && url.back() == '/') url.remove_suffix(1);
    if (url.empty() || url.size() > max_url_bytes)
        throw config_error("known-enclaves store: a service URL must have 1..2048 characters");
    for (char c : url)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
            throw config_error("known-enclaves store: a service URL must not contain spaces or control characters");
    return std::string(url);
}

TEE_INLINE std::vector<known_enclave> known_enclaves::parse(std::string_view text) {
    if (text.size() > max_file_bytes) throw config_error("known-enclaves file is larger than 4 MiB");
    std::vector<known_enclave> out;
    std::size_t line_no = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        const auto first = line.find_first_not_of(" \t");
        if (first == std::string_view::npos || line[first] == '#') continue;
        std::vector<std::string_view> fields;
        for (std::size_t at = first; at < line.size();) {
            const auto stop = std::min(line.find_first_of(" \t", at), line.size());
            fields.push_back(line.substr(at, stop - at));
            at = line.find_first_not_of(" \t", stop);
            if (at == std::string_view::npos) break;
        }
        const std::string where = "known-enclaves file line " + std::to_string(line_no);
        if (fields.size() != 4) throw config_error(where + " is not \"<url> <pcr0> <pcr1> <pcr2>\"");
        known_enclave e;
        try {
            e.url = normalize_url(fields[0]);
        } catch (const config_error&) {
            throw config_error(where + ": the URL is empty, too long or has control characters");
        }
        std::vector<std::uint8_t>* slots[3] = {&e.pcr0, &e.pcr1, &e.pcr2};
        for (int i = 0; i < 3; ++i) {
            auto v = from_hex(fields[1 + i]);
            if (!v || (v->size() != 32 && v->size() != 48 && v->size() != 64))
                throw config_error(where + ": PCR" + std::to_string(i) + " is not 32, 48 or 64 hex bytes");
            *slots[i] = std::move(*v);
        }
        for (const auto& seen : out)
            if (seen.url == e.url) throw config_error(where + " repeats the URL of an earlier line");
        out.push_back(std::move(e));
    }
    return out;
}

TEE_INLINE std::string known_enclaves::format(const std::vector<known_enclave>& entries) {
    std::string out =
        "# tee-client known enclaves: <service URL> <PCR0> <PCR1> <PCR2>, recorded at first contact.\n"
        "# A different image at a listed URL is refused; delete its line (tee-chat trust forget URL) to accept it.\n";
    for (const auto& e : entries)
        out += e.url + " " + to_hex(e.pcr0) + " " + to_hex(e.pcr1) + " " + to_hex(e.pcr2) + "\n";
    return out;
}

TEE_INLINE std::vector<known_enclave> known_enclaves::list() const {
    return parse(detail::read_state_file(path_, max_file_bytes).value_or(""));
}

TEE_INLINE bool known_enclaves::check_or_record(std::string_view url_in, const pcr_map& pcrs) const {
    const std::string url = normalize_url(url_in);
    const std::vector<std::uint8_t>* now[3] = {};
    for (unsigned i = 0; i < 3; ++i) {
        auto it = pcrs.find(i);
        if (it == pcrs.end())
            throw attestation_error(attestation_reason::image_policy,
                                    "the document has no PCR" + std::to_string(i) +
                                        ": the known-enclaves store records PCR0, PCR1 and PCR2");
        now[i] = &it->second;
    }
    auto compare = [&](const std::vector<known_enclave>& entries) -> int {  // 1 same, 0 unknown; throws if changed
        for (const auto& e : entries) {
            if (e.url != url) continue;
            if (e.pcr0 == *now[0] && e.pcr1 == *now[1] && e.pcr2 == *now[2]) return 1;
            std::string which = e.pcr0 != *now[0]
                ? ""
                : (e.pcr1 != *now[1] ? " (PCR0 is the same, PCR1 differs)" : " (PCR0 is the same, PCR2 differs)");
            throw attestation_error(attestation_reason::image_changed,
                                    "the enclave image at " + url + " has changed since it was first seen" + which +
                                        ": PCR0 was " + to_hex(e.pcr0) + ", now " + to_hex(*now[0]) + ". Refused; " +
                                        path_ +
                                        " is unchanged. If the service deployed a new "
                                        "release, check it and forget the old entry (tee-chat trust forget " +
                                        url + ", or delete its line from the file)");
        }
        return 0;
    };
    // A read without the lock decides the common case (a known image)
    // without writing; a first contact re-reads under the lock.
    if (compare(list()) == 1) return false;
    detail::state_file_lock lock(path_);
    auto entries = list();
    if (compare(entries) == 1) return false;  // another process recorded the same image meanwhile
    entries.push_back({url, *now[0], *now[1], *now[2]});
    detail::write_state_file(path_, format(entries));
    return true;
}

TEE_INLINE bool known_enclaves::forget(std::string_view url_in) const {
    const std::string url = normalize_url(url_in);
    detail::state_file_lock lock(path_);
    auto entries = list();
    const auto before = entries.size();
    std::erase_if(entries, [&](const known_enclave& e) { return e.url == url; });
    if (entries.size() == before) return false;
    detail::write_state_file(path_, format(entries));
    return true;
}

TEE_INLINE attestation_error no_image_policy_error(const pcr_map& pcrs) {
    std::string msg =
        "no enclave image policy: the document is a genuine Nitro document, but anyone with an AWS account can "
        "run a Nitro enclave, so the image must be named. Choose one: pin its PCRs (nitro_options::expected_pcrs; "
        "tee-chat --pcr N=HEX), a signed allowlist (nitro_options::allowlist; --allowlist FILE --allowlist-key PEM), "
        "a known-enclaves store (nitro_options::known_enclaves_file; --known-enclaves FILE), or accept any image "
        "(nitro_options::accept_any_enclave_image; --any-image: dangerous). This enclave's image:";
    for (unsigned i = 0; i < 3; ++i) {
        auto it = pcrs.find(i);
        msg += " PCR" + std::to_string(i) + "=" + (it == pcrs.end() ? std::string("(absent)") : to_hex(it->second));
    }
    return attestation_error(attestation_reason::no_image_policy, msg);
}
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee
