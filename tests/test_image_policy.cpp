// Tests for the image policies of nitro_attestation (tee/image_policy.hpp,
// docs/security.md "Image policies"): a policy is required; the signed
// allowlist (signature, validity, listing, rollback); the known-enclaves store
// (first contact, known image, changed image, forget, two processes at once).
#include <tee/tee.hpp>
#include <tee/testing/enclave_server.hpp>
#include <tee/testing/test_pki.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <botan/ecdsa.h>
#include <botan/pkcs8.h>
#include <botan/system_rng.h>
#include <botan/x509_key.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "test_data.hpp"
#include "test_support.hpp"

namespace {

using bytes = std::vector<std::uint8_t>;
using R = tee::attestation_reason;
using tee_test::contains;
namespace fs = std::filesystem;

// ---- a Nitro document of the test PKI, with chosen PCRs ----
struct enclave_doc {
    tee::testing::test_pki pki;
    tee::botan_crypto crypto;
    bytes spki = crypto.spki_der(crypto.generate_p384());

    bytes doc(tee::pcr_map pcrs = {}) const {
        return pki.attestation_document(spki, {1, 2, 3}, std::move(pcrs), "i-0123456789abcdef0-enc0123456789abcdef");
    }
    tee::nitro_options options() const {
        tee::nitro_options o;
        o.trusted_root = pki.root_pem();
        return o;
    }
    tee::enclave_identity verify(const bytes& d, tee::nitro_options o,
                                 std::string_view url = "https://enclave.test") const {
        return tee::nitro_attestation(std::move(o)).verify_document(d, crypto, tee::attestation_context{url});
    }
};

tee::pcr_map image(std::uint8_t fill) {  // PCR0..15 of another image
    auto p = tee::testing::test_pki::default_pcrs();
    for (auto& [i, v] : p) v.assign(48, static_cast<std::uint8_t>(fill + i));
    return p;
}

std::string hex48(std::uint8_t b) { return tee::to_hex(bytes(48, b)); }

template <class E, class F>
void expect_error(F&& f, std::string_view fragment) {
    try {
        f();
        FAIL("no exception; expected one containing: " << fragment);
    } catch (const E& e) {
        CHECK_MESSAGE(contains(e.what(), fragment), "message: " << e.what() << "\nexpected: " << fragment);
    } catch (const std::exception& e) {
        FAIL("wrong exception type: " << e.what());
    }
}

// An attestation_error with this reason and `fragment` in its message.
template <class F>
void expect_attestation_error(F&& f, R reason, std::string_view fragment) {
    const std::string_view want = tee::to_string(reason);
    CAPTURE(want);
    try {
        f();
        FAIL("no exception; expected one containing: " << fragment);
    } catch (const tee::attestation_error& e) {
        CHECK_MESSAGE(contains(e.what(), fragment), "message: " << e.what() << "\nexpected: " << fragment);
        CHECK_MESSAGE(e.reason() == reason, "reason: " << tee::to_string(e.reason()));
    } catch (const std::exception& e) {
        FAIL("wrong exception type: " << e.what());
    }
}

// A private directory, removed at the end of the test.
struct temp_dir {
    fs::path path;
    temp_dir() {
        std::string templ = (fs::temp_directory_path() / "tee-image-policy-XXXXXX").string();
        REQUIRE(::mkdtemp(templ.data()) != nullptr);
        path = templ;
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string operator/(const char* name) const { return (path / name).string(); }
};

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// ---- a release key and allowlists it signs ----
struct release_key {
    Botan::ECDSA_PrivateKey key{Botan::system_rng(), tee::detail::botan::p384()};
    std::string private_pem() const { return Botan::PKCS8::PEM_encode(key); }
    std::string public_pem() const { return Botan::X509::PEM_encode(key); }
};

std::int64_t now_s() { return tee_test::now_seconds(); }

// The images are a vector: a one-element braced list given for a json parameter is that element under clang
// (copy construction) and an array under GCC (initializer_list).
nlohmann::json list_of(std::uint64_t version, std::vector<nlohmann::json> images, std::int64_t issued = now_s() - 60,
                       std::int64_t expires = now_s() + 86400) {
    return {{"version", version}, {"issued_at", issued}, {"expires_at", expires}, {"images", std::move(images)}};
}

nlohmann::json simulated_image(std::string name = "release 1.0") {  // the default image, PCR0..2
    nlohmann::json pcrs;
    for (const auto& [i, hex] : tee::testing::test_pki::default_pins()) pcrs[std::to_string(i)] = hex;
    return {{"name", std::move(name)}, {"pcrs", pcrs}};
}

tee::allowlist_options allowlist(const release_key& k, const nlohmann::json& list, std::string state = {}) {
    tee::allowlist_options a;
    a.signed_allowlist = tee::sign_allowlist(list.dump(), k.private_pem());
    a.release_key_pem = k.public_pem();
    a.version_state_file = std::move(state);
    return a;
}

}  // namespace

// =====================================================================
// An image policy is required
// =====================================================================

TEST_CASE("required: a genuine document without an image policy is refused, naming the four ways and its PCRs") {
    enclave_doc e;
    expect_attestation_error([&] { e.verify(e.doc(), e.options()); }, R::no_image_policy, "no enclave image policy");
    try {
        e.verify(e.doc(), e.options());
    } catch (const tee::attestation_error& err) {
        const std::string m = err.what();
        CHECK(contains(m, "expected_pcrs"));
        CHECK(contains(m, "nitro_options::allowlist"));
        CHECK(contains(m, "known_enclaves_file"));
        CHECK(contains(m, "accept_any_enclave_image"));
        CHECK(contains(m, "PCR0=" + hex48(0xa0)));
        CHECK(contains(m, "PCR1=" + hex48(0xa1)));
        CHECK(contains(m, "PCR2=" + hex48(0xa2)));
    }
}

TEST_CASE("required: a default-constructed client refuses a genuine enclave with the image policy message") {
    tee::testing::enclave_options eo;
    eo.nitro = true;
    tee::testing::simulated_enclave enclave(eo);
    tee::testing::enclave_server server(enclave);
    tee::nitro_options o;
    o.trusted_root = enclave.pki()->root_pem();  // the test root in place of AWS's; nothing else set
    tee::client<> client(tee_test::make_config(server.url(), "sk-test"), tee::nitro_attestation(o));
    expect_attestation_error([&] { client.attest(); }, R::no_image_policy, "PCR0=" + hex48(0xa0));
}

TEST_CASE("required: a forged document gets its own error first, not the image policy message with its PCRs") {
    enclave_doc e;
    auto d = e.doc();
    d[d.size() - 1] ^= 1;  // the COSE signature's last byte
    expect_attestation_error([&] { e.verify(d, e.options()); }, R::signature, "COSE signature does not verify");
}

TEST_CASE("required: accept_any_enclave_image accepts any genuine image and says so") {
    enclave_doc e;
    auto o = e.options();
    o.accept_any_enclave_image = true;
    const auto id = e.verify(e.doc(image(0x10)), o);
    CHECK(id.verified);
    CHECK(id.image_policy == "any image");
}

TEST_CASE("required: PCR pins are an image policy") {
    enclave_doc e;
    auto o = e.options();
    o.expected_pcrs = tee::testing::test_pki::default_pins();
    CHECK(e.verify(e.doc(), o).image_policy == "pinned PCRs");
    expect_attestation_error([&] { e.verify(e.doc(image(0x10)), o); }, R::pcr_mismatch, "pinned to");
}

// =====================================================================
// Signed allowlist
// =====================================================================

TEST_CASE("allowlist: the signed bytes are Python's canonical JSON of the allowlist object") {
    const auto list = list_of(7, {simulated_image("r\u00e9lease")}, 1700000000, 1800000000);
    release_key k;
    const auto parsed = tee::signed_allowlist::parse(tee::sign_allowlist(list.dump(), k.private_pem()));
    // json.dumps(allowlist, separators=(",", ":"), sort_keys=True)
    CHECK(parsed.signed_bytes ==
          "{\"expires_at\":1800000000,\"images\":[{\"name\":\"r\\u00e9lease\",\"pcrs\":{\"0\":\"" + hex48(0xa0) +
              "\",\"1\":\"" + hex48(0xa1) + "\",\"2\":\"" + hex48(0xa2) +
              "\"}}],\"issued_at\":1700000000,\"version\":7}");
    CHECK(parsed.version == 7);
    CHECK(parsed.images.at(0).name == "r\u00e9lease");
}

TEST_CASE("allowlist: a listed image is accepted; the identity names the image and version") {
    enclave_doc e;
    release_key k;
    auto o = e.options();
    o.allowlist = allowlist(k, list_of(3, {simulated_image("release 1.0")}));
    const auto id = e.verify(e.doc(), o);
    CHECK(id.verified);
    CHECK(id.image_policy == "allowlist: release 1.0 (version 3)");
}

TEST_CASE("allowlist: an image matches when every PCR it lists equals the document's") {
    enclave_doc e;
    release_key k;
    auto o = e.options();
    nlohmann::json only_pcr0 = {{"name", "pcr0 only"}, {"pcrs", {{"0", hex48(0xa0)}}}};
    o.allowlist = allowlist(k, list_of(1, {only_pcr0}));
    CHECK(e.verify(e.doc(), o).image_policy == "allowlist: pcr0 only (version 1)");
    nlohmann::json pcr1_differs = {{"name", "other kernel"}, {"pcrs", {{"0", hex48(0xa0)}, {"1", hex48(0x01)}}}};
    o.allowlist = allowlist(k, list_of(1, {pcr1_differs}));
    expect_attestation_error([&] { e.verify(e.doc(), o); }, R::image_policy, "not on the signed allowlist");
    nlohmann::json pcr20_absent = {{"name", "pcr20"}, {"pcrs", {{"0", hex48(0xa0)}, {"20", hex48(0xa0)}}}};
    o.allowlist = allowlist(k, list_of(1, {pcr20_absent}));
    expect_attestation_error([&] { e.verify(e.doc(), o); }, R::image_policy, "not on the signed allowlist");
}

TEST_CASE("allowlist: an image not on the list is refused with its PCRs") {
    enclave_doc e;
    release_key k;
    auto o = e.options();
    o.allowlist = allowlist(k, list_of(3, {simulated_image()}));
    expect_attestation_error([&] { e.verify(e.doc(image(0x10)), o); }, R::image_policy,
                             "enclave image is not on the signed allowlist (version 3, 1 images): refused; "
                             "its PCR0=" +
                                 hex48(0x10));
}

TEST_CASE("allowlist: a bad signature is refused (list changed after signing, or another key)") {
    enclave_doc e;
    release_key k, other;
    auto o = e.options();
    o.allowlist = allowlist(k, list_of(3, {simulated_image()}));
    // An attacker adds an image to the signed file.
    auto file = nlohmann::json::parse(o.allowlist->signed_allowlist);
    file["allowlist"]["images"].push_back({{"name", "evil"}, {"pcrs", {{"0", hex48(0x10)}}}});
    o.allowlist->signed_allowlist = file.dump();
    expect_attestation_error([&] { e.verify(e.doc(image(0x10)), o); }, R::allowlist,
                             "allowlist signature does not verify with the pinned release key");
    // A list signed by another key.
    o.allowlist = allowlist(other, list_of(3, {simulated_image()}));
    o.allowlist->release_key_pem = k.public_pem();
    expect_attestation_error([&] { e.verify(e.doc(), o); }, R::allowlist, "allowlist signature does not verify");
}

TEST_CASE("allowlist: an expired or not yet valid list is refused") {
    enclave_doc e;
    release_key k;
    auto o = e.options();
    o.allowlist = allowlist(k, list_of(3, {simulated_image()}, now_s() - 7200, now_s() - 3600));
    expect_attestation_error([&] { e.verify(e.doc(), o); }, R::allowlist, "allowlist version 3 has expired");
    o.allowlist = allowlist(k, list_of(3, {simulated_image()}, now_s() + 3600, now_s() + 7200));
    expect_attestation_error([&] { e.verify(e.doc(), o); }, R::allowlist, "allowlist version 3 is not valid yet");
}

TEST_CASE("allowlist: a version lower than one accepted before for the release key is refused as a rollback") {
    enclave_doc e;
    release_key k, other;
    temp_dir dir;
    const auto state = dir / "allowlist_versions";
    auto o = e.options();
    o.allowlist = allowlist(k, list_of(5, {simulated_image()}), state);
    CHECK(e.verify(e.doc(), o).verified);
    CHECK(e.verify(e.doc(), o).verified);  // the same version again
    o.allowlist = allowlist(k, list_of(4, {simulated_image()}), state);
    expect_attestation_error([&] { e.verify(e.doc(), o); }, R::rollback,
                             "allowlist rollback: version 4 is lower than version 5");
    o.allowlist = allowlist(k, list_of(6, {simulated_image()}), state);
    CHECK(e.verify(e.doc(), o).verified);
    o.allowlist = allowlist(k, list_of(5, {simulated_image()}), state);
    expect_attestation_error([&] { e.verify(e.doc(), o); }, R::rollback, "allowlist rollback: version 5");
    // Another release key has its own count.
    o.allowlist = allowlist(other, list_of(1, {simulated_image()}), state);
    CHECK(e.verify(e.doc(), o).verified);
    struct stat st {};
    REQUIRE(::stat(state.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("allowlist: malformed files and keys are configuration errors at construction") {
    enclave_doc e;
    release_key k;
    auto o = e.options();
    o.allowlist = allowlist(k, list_of(3, {simulated_image()}));
    auto with_file = [&](const std::string& text) {
        auto c = o;
        c.allowlist->signed_allowlist = text;
        return c;
    };
    auto signed_json = nlohmann::json::parse(o.allowlist->signed_allowlist);
    auto edited = [&](auto&& edit) {
        auto j = signed_json;
        edit(j["allowlist"]);
        return with_file(j.dump());
    };
    expect_error<tee::config_error>([&] { tee::nitro_attestation p(with_file("not json")); }, "not valid JSON");
    expect_error<tee::config_error>([&] { tee::nitro_attestation p(edited([](auto& a) { a["version"] = 0; })); },
                                    "version is not a positive integer");
    expect_error<tee::config_error>([&] { tee::nitro_attestation p(edited([](auto& a) { a["version"] = 1.5; })); },
                                    "version is not a positive integer");
    expect_error<tee::config_error>([&] { tee::nitro_attestation p(edited([](auto& a) { a.erase("expires_at"); })); },
                                    "allowlist has no expires_at");
    expect_error<tee::config_error>([&] { tee::nitro_attestation p(edited([](auto& a) { a["extra"] = 1; })); },
                                    "unknown field \"extra\"");
    expect_error<tee::config_error>(
        [&] { tee::nitro_attestation p(edited([](auto& a) { a["images"][0]["pcrs"] = nlohmann::json::object(); })); },
        "at least one PCR");
    expect_error<tee::config_error>(
        [&] { tee::nitro_attestation p(edited([](auto& a) { a["images"][0]["pcrs"]["0"] = "abcd"; })); },
        "is not 96 hex digits");
    expect_error<tee::config_error>(
        [&] { tee::nitro_attestation p(edited([](auto& a) { a["images"][0]["pcrs"]["32"] = hex48(1); })); },
        "PCR index that is not 0..31");
    auto bad_key = o;
    bad_key.allowlist->release_key_pem = "-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----\n";
    expect_error<tee::config_error>([&] { tee::nitro_attestation p(bad_key); }, "valid base64");
    expect_error<tee::config_error>([&] { tee::sign_allowlist(list_of(1, {simulated_image()}).dump(), "garbage"); },
                                    "not an unencrypted PKCS#8 PEM private key");
}

// =====================================================================
// Known enclaves (trust on first use)
// =====================================================================

TEST_CASE("known enclaves: first contact records the image (0600), a later contact with it passes unchanged") {
    enclave_doc e;
    temp_dir dir;
    auto o = e.options();
    o.known_enclaves_file = dir / "known_enclaves";
    const auto first = e.verify(e.doc(), o, "https://enclave.test/");
    CHECK(first.first_contact);
    CHECK(first.image_policy == "first contact (recorded)");
    const std::string recorded = slurp(o.known_enclaves_file);
    CHECK(contains(recorded, "https://enclave.test " + hex48(0xa0) + " " + hex48(0xa1) + " " + hex48(0xa2) + "\n"));
    struct stat st {};
    REQUIRE(::stat(o.known_enclaves_file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    const auto again = e.verify(e.doc(), o, "https://enclave.test");
    CHECK_FALSE(again.first_contact);
    CHECK(again.image_policy == "known enclave");
    CHECK(slurp(o.known_enclaves_file) == recorded);
    // Another URL is another entry.
    CHECK(e.verify(e.doc(image(0x10)), o, "https://other.test").first_contact);
    CHECK(tee::known_enclaves(o.known_enclaves_file).list().size() == 2);
}

TEST_CASE(
    "known enclaves: a changed image is refused naming old and new PCR0 and how to forget; the file is unchanged") {
    enclave_doc e;
    temp_dir dir;
    auto o = e.options();
    o.known_enclaves_file = dir / "known_enclaves";
    CHECK(e.verify(e.doc(), o).first_contact);
    const std::string recorded = slurp(o.known_enclaves_file);
    expect_attestation_error([&] { e.verify(e.doc(image(0x10)), o); }, R::image_changed,
                             "PCR0 was " + hex48(0xa0) + ", now " + hex48(0x10));
    expect_attestation_error([&] { e.verify(e.doc(image(0x10)), o); }, R::image_changed,
                             "tee-chat trust forget https://enclave.test");
    CHECK(slurp(o.known_enclaves_file) == recorded);
    // Only PCR2 changed: refused too.
    auto pcrs = tee::testing::test_pki::default_pcrs();
    pcrs[2] = bytes(48, 0x77);
    expect_attestation_error([&] { e.verify(e.doc(pcrs), o); }, R::image_changed, "PCR0 is the same, PCR2 differs");
    CHECK(slurp(o.known_enclaves_file) == recorded);
}

TEST_CASE("known enclaves: forget removes the entry; the next contact is a first contact again") {
    enclave_doc e;
    temp_dir dir;
    auto o = e.options();
    o.known_enclaves_file = dir / "known_enclaves";
    CHECK(e.verify(e.doc(), o).first_contact);
    CHECK(e.verify(e.doc(), o, "https://other.test").first_contact);
    tee::known_enclaves store(o.known_enclaves_file);
    CHECK(store.forget("https://enclave.test/"));
    CHECK_FALSE(store.forget("https://enclave.test"));
    REQUIRE(store.list().size() == 1);
    CHECK(store.list()[0].url == "https://other.test");
    CHECK(e.verify(e.doc(image(0x10)), o).first_contact);
}

TEST_CASE("known enclaves: without the service URL the store refuses (it cannot know which entry)") {
    enclave_doc e;
    temp_dir dir;
    auto o = e.options();
    o.known_enclaves_file = dir / "known_enclaves";
    expect_attestation_error([&] { tee::nitro_attestation(o).verify_document(e.doc(), e.crypto); }, R::image_policy,
                             "needs the service URL");
    CHECK_FALSE(fs::exists(o.known_enclaves_file));
}

TEST_CASE("known enclaves: tee::client passes its URL; first contact through a client records it") {
    tee::testing::enclave_options eo;
    eo.nitro = true;
    tee::testing::simulated_enclave enclave(eo);
    tee::testing::enclave_server server(enclave);
    temp_dir dir;
    tee::nitro_options o;
    o.trusted_root = enclave.pki()->root_pem();
    o.known_enclaves_file = dir / "known_enclaves";
    tee::client<> client(tee_test::make_config(server.url(), "sk-test"), tee::nitro_attestation(o));
    CHECK(client.attest().first_contact);
    auto entries = tee::known_enclaves(o.known_enclaves_file).list();
    REQUIRE(entries.size() == 1);
    CHECK(entries[0].url == tee::known_enclaves::normalize_url(server.url()));
    CHECK(client.chat("hello").response == "Echo from the simulated enclave: hello");
}

TEST_CASE("known enclaves: two processes recording at once lose no entry") {
    enclave_doc e;
    temp_dir dir;
    const std::string file = dir / "known_enclaves";
    constexpr int per_process = 60;
    const auto pcrs = tee::testing::test_pki::default_pcrs();
    auto record = [&](const char* who) {
        tee::known_enclaves store(file);
        for (int i = 0; i < per_process; ++i)
            store.check_or_record("https://" + std::string(who) + std::to_string(i) + ".test", pcrs);
    };
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        int rc = 0;
        try {
            record("child");
        } catch (...) {
            rc = 1;
        }
        ::_exit(rc);
    }
    record("parent");
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    CHECK(tee::known_enclaves(file).list().size() == 2 * per_process);
}

TEST_CASE("known enclaves: two processes meeting one URL with different images: one is recorded, the other refused") {
    temp_dir dir;
    const std::string file = dir / "known_enclaves";
    for (int round = 0; round < 10; ++round) {
        const std::string url = "https://race" + std::to_string(round) + ".test";
        const pid_t child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            int rc = 2;
            try {
                rc = tee::known_enclaves(file).check_or_record(url, image(0x10)) ? 0 : 2;
            } catch (const tee::attestation_error&) {
                rc = 1;
            } catch (...) {}
            ::_exit(rc);
        }
        int parent_rc = 2;
        try {
            parent_rc = tee::known_enclaves(file).check_or_record(url, image(0x40)) ? 0 : 2;
        } catch (const tee::attestation_error&) {
            parent_rc = 1;
        }
        int status = 0;
        REQUIRE(::waitpid(child, &status, 0) == child);
        REQUIRE(WIFEXITED(status));
        const int child_rc = WEXITSTATUS(status);
        CHECK(((parent_rc == 0 && child_rc == 1) || (parent_rc == 1 && child_rc == 0)));
    }
    CHECK(tee::known_enclaves(file).list().size() == 10);
}

TEST_CASE("known enclaves: the parser refuses malformed lines, naming them") {
    const std::string p0 = hex48(0xa0), p1 = hex48(0xa1), p2 = hex48(0xa2);
    auto entries = tee::known_enclaves::parse("# comment\n\n  https://a.test/ " + p0 + " " + p1 + "\t" + p2 + "\r\n");
    REQUIRE(entries.size() == 1);
    CHECK(entries[0].url == "https://a.test");
    CHECK(tee::known_enclaves::parse(tee::known_enclaves::format(entries)).size() == 1);
    expect_error<tee::config_error>([&] { tee::known_enclaves::parse("https://a.test " + p0 + " " + p1 + "\n"); },
                                    "line 1 is not \"<url> <pcr0> <pcr1> <pcr2>\"");
    expect_error<tee::config_error>([&] { tee::known_enclaves::parse("\nhttps://a.test " + p0 + " " + p1 + " zz\n"); },
                                    "line 2: PCR2 is not");
    expect_error<tee::config_error>(
        [&] {
            tee::known_enclaves::parse("https://a.test " + p0 + " " + p1 + " " + p2 + "\nhttps://a.test/ " + p0 + " " +
                                       p1 + " " + p2 + "\n");
        },
        "line 2 repeats the URL");
    expect_error<tee::config_error>([&] { tee::known_enclaves::parse("/ " + p0 + " " + p1 + " " + p2); },
                                    "line 1: the URL is empty");
}

TEST_CASE("allowlist: a list signed by Python's cryptography verifies (interop of the format and the signed bytes)") {
    // tests/data/allowlist_python_signed.json: json.dumps(allowlist, separators=(",", ":"), sort_keys=True)
    // signed with ec.ECDSA(hashes.SHA384()) by the key of allowlist_release.pem.
    const auto file = tee_test::read_data("allowlist_python_signed.json");
    const auto key = tee::spki_of_pem(tee_test::read_data("allowlist_release.pem"));
    const auto list = tee::signed_allowlist::parse(file);
    CHECK(list.version == 2);
    REQUIRE(list.images.size() == 2);
    CHECK_NOTHROW(tee::verify_allowlist(list, key, tee::botan_crypto{}, now_s()));
    CHECK_NOTHROW(tee::verify_allowlist(list, key, tee::openssl_crypto{}, now_s()));
    auto j = nlohmann::json::parse(file);
    j["allowlist"]["version"] = 3;
    expect_attestation_error(
        [&] { tee::verify_allowlist(tee::signed_allowlist::parse(j.dump()), key, tee::botan_crypto{}, now_s()); },
        R::allowlist, "signature does not verify");
}
