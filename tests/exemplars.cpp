// The smallest type of each policy kind that satisfies its concept
// (tee/concepts.hpp): a transport, a crypto backend and a verifying
// attestation policy, each static_assert-ed, and the three together in a
// tee::client<> that chats with a simulated enclave in the same process.
// docs/policies.md quotes them from this file, so the quotes are code that
// compiles and runs.
//
// The trap they show: the concepts check the members, not the rules beside
// them in concepts.hpp (every HTTP status returned, const and thread-safe
// crypto, a policy that throws instead of returning an unverified identity).
#include "tee/core.hpp"
#include "tee/testing/simulated_enclave.hpp"

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

// A transport: one exchange per call, every HTTP status returned as it came.
// Here the "network" is a simulated enclave in the same process; its handle()
// may be called from several threads at once, so this transport may be too.
class enclave_link {
public:
    explicit enclave_link(tee::testing::simulated_enclave& enclave) : enclave_(&enclave) {}

    tee::http_response get(std::string_view path) { return enclave_->handle("GET", path, ""); }
    tee::http_response post_json(std::string_view path, std::string_view body) {
        return enclave_->handle("POST", path, body);
    }

private:
    tee::testing::simulated_enclave* enclave_;
};
static_assert(tee::transport<enclave_link>);

// A crypto backend: every member const, each forwarding to botan_crypto; it
// counts the DER signatures it checked (an atomic: threads share it).
class counting_crypto {
public:
    using private_key = tee::botan_crypto::private_key;
    using public_key = tee::botan_crypto::public_key;

    std::vector<std::uint8_t> random_bytes(std::size_t n) const { return inner_.random_bytes(n); }
    private_key generate_p384() const { return inner_.generate_p384(); }
    std::vector<std::uint8_t> spki_der(const private_key& k) const { return inner_.spki_der(k); }
    public_key load_public_key(tee::byte_span bytes) const { return inner_.load_public_key(bytes); }
    tee::secure_bytes ecdh(const private_key& k, const public_key& peer) const { return inner_.ecdh(k, peer); }
    tee::secure_bytes hkdf_sha256(tee::byte_span ikm, tee::byte_span salt, tee::byte_span info, std::size_t n) const {
        return inner_.hkdf_sha256(ikm, salt, info, n);
    }
    std::vector<std::uint8_t> aes256gcm_seal(tee::byte_span key, tee::byte_span iv, tee::byte_span pt) const {
        return inner_.aes256gcm_seal(key, iv, pt);
    }
    std::optional<tee::secure_bytes> aes256gcm_open(tee::byte_span key, tee::byte_span iv, tee::byte_span ct) const {
        return inner_.aes256gcm_open(key, iv, ct);
    }
    bool ecdsa_p384_verify_der(const public_key& k, tee::byte_span msg, tee::byte_span sig) const {
        ++der_signatures_checked;
        return inner_.ecdsa_p384_verify_der(k, msg, sig);
    }
    bool ecdsa_p384_verify_raw(const public_key& k, tee::byte_span msg, tee::byte_span sig) const {
        return inner_.ecdsa_p384_verify_raw(k, msg, sig);
    }
    std::array<std::uint8_t, 32> sha256(tee::byte_span b) const { return inner_.sha256(b); }
    std::array<std::uint8_t, 48> sha384(tee::byte_span b) const { return inner_.sha384(b); }

    static inline std::atomic<unsigned> der_signatures_checked{0};

private:
    tee::botan_crypto inner_;
};
static_assert(tee::crypto_backend<counting_crypto>);

// An attestation policy that verifies: the enclave must hold the one key it
// was told (the SHA-256 of its SPKI, pinned out of band). Every failed check
// throws attestation_error with its reason; it never returns an unverified key.
class pinned_key_attestation {
public:
    static constexpr std::string_view kind = "pinned-key";
    static constexpr bool verifies = true;

    explicit pinned_key_attestation(std::string sha256_hex = {}) : pin_(std::move(sha256_hex)) {}

    template <tee::crypto_backend Crypto>
    tee::enclave_identity verify(const nlohmann::json& answer, const Crypto& crypto) const {
        const auto key = tee::mock_attestation::key_of(answer);  // {"attestation_doc": {"public_key": hex}}
        if (tee::to_hex(crypto.sha256(key)) != pin_)
            throw tee::attestation_error(tee::attestation_reason::key_binding, "the enclave key is not the pinned one");
        tee::enclave_identity id;
        id.kind = std::string(kind);
        id.verified = verifies;
        tee::set_enclave_key(id, crypto, tee::p384::point_of(key));
        return id;
    }

private:
    std::string pin_;
};
static_assert(tee::attestation_policy<pinned_key_attestation, counting_crypto>);

tee::config exemplar_config() {
    tee::config cfg;  // the url is not used: the transport knows where the enclave is
    cfg.api_key = tee::secret_string("sk-exemplar-key");
    cfg.platform = "openai";
    cfg.model = "gpt-4";
    return cfg;
}

std::string pin_of(const tee::testing::simulated_enclave& enclave) {
    return tee::to_hex(tee::botan_crypto{}.sha256(enclave.public_key()));
}

}  // namespace

TEST_CASE("the exemplar policies make a client that chats with the enclave whose key is pinned") {
    tee::testing::simulated_enclave enclave;  // mock-format attestation answers
    tee::client<enclave_link, counting_crypto, pinned_key_attestation> client(exemplar_config(), enclave_link(enclave),
                                                                              pinned_key_attestation(pin_of(enclave)));
    static_assert(decltype(client)::attestation_type::verifies);

    const tee::chat_result r = client.chat("BTC price right now");
    CHECK(r.response == "Echo from the simulated enclave: BTC price right now");
    CHECK(r.attestation_kind == "pinned-key");
    CHECK(r.enclave_key_fingerprint == pin_of(enclave));
    CHECK(client.attest().verified);
}

TEST_CASE("the exemplar policy refuses an enclave whose key is not the pinned one, with reason key_binding") {
    tee::testing::simulated_enclave enclave, other;
    tee::client<enclave_link, counting_crypto, pinned_key_attestation> client(exemplar_config(), enclave_link(enclave),
                                                                              pinned_key_attestation(pin_of(other)));
    try {
        client.chat("BTC price right now");
        FAIL("a chat with an enclave whose key is not pinned was accepted");
    } catch (const tee::attestation_error& e) {
        CHECK(e.reason() == tee::attestation_reason::key_binding);
        CHECK(std::string_view(e.what()).find("not the pinned one") != std::string_view::npos);
    }
}

TEST_CASE("the exemplar crypto backend is the one the client checks each answer's signature with") {
    tee::testing::simulated_enclave enclave;
    tee::client<enclave_link, counting_crypto, pinned_key_attestation> client(exemplar_config(), enclave_link(enclave),
                                                                              pinned_key_attestation(pin_of(enclave)));
    const unsigned before = counting_crypto::der_signatures_checked;
    client.chat("one");
    client.chat("two");
    CHECK(counting_crypto::der_signatures_checked - before == 2);
}
