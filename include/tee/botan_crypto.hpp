// tee/botan_crypto.hpp - the Botan crypto backend (the default), on Botan 3
// or Botan 2 (tee/detail/botan_compat.hpp names the differences).
//
// Implements tee::crypto_backend with Botan: P-384 keys, ECDH, HKDF-SHA256,
// AES-256-GCM (any IV length; the protocol uses 32 bytes) and ECDSA P-384 /
// SHA-384 verification; and for the Nova protocol Keccak-256 and EIP-191
// secp256k1 signer recovery (Botan's keccak module). Secrets come back as
// tee::secure_bytes; Botan keeps private scalars in its own wiping
// containers. Randomness is Botan's
// system_rng (getrandom), which is thread-safe.
//
// Interop trap handled here: Botan's X509::BER_encode of an ECDH key writes
// the ECDH algorithm OID, which Python's cryptography cannot load. spki_der()
// writes the id-ecPublicKey / secp384r1 form byte for byte instead.
//
// The argument rules shared with openssl_crypto (key forms, AES key and IV,
// the tag) and load_public_key, the AES-GCM and SHA-2 members are
// tee/detail/crypto_backend_base.hpp's; this class supplies Botan's calls.
#pragma once

#include "tee/detail/prelude.hpp"

#include <algorithm>
#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include <botan/aead.h>
#include <botan/ec_group.h>
#include <botan/ecdh.h>
#include <botan/ecdsa.h>
#include <botan/hash.h>
#include <botan/kdf.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>

#include "tee/concepts.hpp"
#include "tee/detail/botan_compat.hpp"
#include "tee/detail/crypto_backend_base.hpp"
#if BOTAN_VERSION_MAJOR < 3
#include "tee/detail/p384_comb.hpp"
#endif
#include "tee/errors.hpp"
#include "tee/detail/p384.hpp"
#if defined(BOTAN_HAS_KECCAK)
#include "tee/detail/nova_crypto.hpp"
#endif

namespace tee {

class botan_crypto : public detail::crypto_backend_base<botan_crypto> {
public:
    struct private_key {
        std::shared_ptr<const Botan::ECDH_PrivateKey> key;  // shared: copies of a client share one key
    };
    // How a public key verifies. Its first verification is Botan's one-shot
    // PK_Verifier: most keys verify once (the Nitro chain, the COSE signature).
    // A key that verifies again is the session key, which verifies every answer.
    //  - Botan 3: it keeps its PK_Verifier (one per signature format), whose
    //    precomputed tables for G and the key make each later verification
    //    about a quarter cheaper than a one-shot one. A verifier is stateful:
    //    one thread uses it at a time, another meanwhile verifies one-shot.
    //  - Botan 2: it gets a comb table (tee/detail/p384_comb.hpp; ~0.6 ms
    //    once), and each verification after that costs about a third of
    //    Botan 2's. The table is immutable and shared by the key's copies and
    //    threads.
    class key_verifier {
    public:
        explicit key_verifier(std::shared_ptr<const Botan::ECDSA_PublicKey> key);

        bool verify(byte_span msg, byte_span sig, Botan::Signature_Format fmt);

    private:
        std::shared_ptr<const Botan::ECDSA_PublicKey> key_;
        std::mutex mutex_;
        std::size_t uses_ = 0;
#if BOTAN_VERSION_MAJOR >= 3
        std::unique_ptr<Botan::PK_Verifier> raw_, der_;  // kept from the second use on; guarded by mutex_
#else
        std::shared_ptr<const detail::p384_comb> comb_for_this_use();

        std::shared_ptr<const detail::p384_comb> comb_;
#endif
    };

    struct public_key {
        std::shared_ptr<const Botan::ECDSA_PublicKey> key;
        std::vector<std::uint8_t> point;         // 04||x||y, what ECDH consumes
        std::shared_ptr<key_verifier> verifier;  // shared by copies of the key
    };

    // The other members (load_public_key, aes256gcm_seal/_open,
    // ecdsa_p384_verify_raw, sha256/384) are crypto_backend_base's.
    std::vector<std::uint8_t> random_bytes(std::size_t n) const;
    private_key generate_p384() const;
    std::vector<std::uint8_t> spki_der(const private_key& k) const;
    secure_bytes ecdh(const private_key& priv, const public_key& peer) const;
    secure_bytes hkdf_sha256(byte_span ikm, byte_span salt, byte_span info, std::size_t length) const;
    bool ecdsa_p384_verify_der(const public_key& pub, byte_span msg, byte_span sig) const;

#if defined(BOTAN_HAS_KECCAK)
    // What the Nova protocol adds (tee/nova_protocol.hpp; tee/detail/nova_crypto.hpp):
    // Ethereum's Keccak-256, and EIP-191 verification by secp256k1 signer recovery.
    std::array<std::uint8_t, 32> keccak256(byte_span data) const { return detail::nova::keccak256(data); }
    detail::nova::signature_status check_eip191_signature(byte_span message, byte_span signature,
                                                          const detail::nova::eth_address& signer) const {
        return detail::nova::check_eip191_signature(message, signature, signer);
    }
#endif

private:
    friend class detail::crypto_backend_base<botan_crypto>;

    static const Botan::EC_Group& group();
    static std::unique_ptr<Botan::AEAD_Mode> gcm(byte_span key, byte_span iv, Botan::Cipher_Dir dir);
    static bool verify(const public_key& pub, byte_span msg, byte_span sig, Botan::Signature_Format fmt);

    // What crypto_backend_base calls once its argument rules hold.
    static public_key import_point(byte_span point);  // 04||x||y
    static std::vector<std::uint8_t> gcm_seal(byte_span key, byte_span iv, byte_span plaintext);
    static std::optional<secure_bytes> gcm_open(byte_span key, byte_span iv, byte_span ciphertext);
    static bool verify_rs(const public_key& pub, byte_span msg, byte_span sig);  // r||s, 96 bytes
    template <std::size_t N>                                                     // SHA-256 (32) or SHA-384 (48)
    static std::array<std::uint8_t, N> digest(byte_span data) {
        static_assert(N == 32 || N == 48);
        auto h = Botan::HashFunction::create_or_throw(N == 32 ? "SHA-256" : "SHA-384");
        h->update(data.data(), data.size());
        std::array<std::uint8_t, N> out{};
        h->final(out.data());
        return out;
    }
};

static_assert(crypto_backend<botan_crypto>);

// ---- definitions (header-only: inline in every file; TEE_CLIENT_COMPILED_LIB:
// compiled once in src/tee_client.cpp; see tee/detail/prelude.hpp) ----
#if defined(TEE_CLIENT_DEFINITIONS)
TEE_INLINE botan_crypto::key_verifier::key_verifier(std::shared_ptr<const Botan::ECDSA_PublicKey> key)
    : key_(std::move(key)) {}

#if BOTAN_VERSION_MAJOR >= 3
TEE_INLINE bool botan_crypto::key_verifier::verify(byte_span msg, byte_span sig, Botan::Signature_Format fmt) {
    try {
        std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
        if (lock.owns_lock() && uses_++ > 0) {
            auto& kept = fmt == detail::botan::sig_raw ? raw_ : der_;
            if (!kept) kept = std::make_unique<Botan::PK_Verifier>(*key_, detail::botan::ecdsa_sha384, fmt);
            return kept->verify_message(msg.data(), msg.size(), sig.data(), sig.size());
        }
        if (lock.owns_lock()) lock.unlock();
        Botan::PK_Verifier v(*key_, detail::botan::ecdsa_sha384, fmt);
        return v.verify_message(msg.data(), msg.size(), sig.data(), sig.size());
    } catch (const std::exception&) {
        return false;  // malformed DER and the like: not a valid signature
    }
}
#else
TEE_INLINE bool botan_crypto::key_verifier::verify(byte_span msg, byte_span sig, Botan::Signature_Format fmt) {
    try {
        if (auto comb = comb_for_this_use())
            return fmt == detail::botan::sig_raw ? comb->verify_raw(msg, sig) : comb->verify_der(msg, sig);
        Botan::PK_Verifier v(*key_, detail::botan::ecdsa_sha384, fmt);
        return v.verify_message(msg.data(), msg.size(), sig.data(), sig.size());
    } catch (const std::exception&) {
        return false;  // malformed DER and the like: not a valid signature
    }
}

TEE_INLINE std::shared_ptr<const detail::p384_comb> botan_crypto::key_verifier::comb_for_this_use() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!comb_ && uses_++ > 0) comb_ = std::make_shared<const detail::p384_comb>(key_->public_point());
    return comb_;
}
#endif

TEE_INLINE std::vector<std::uint8_t> botan_crypto::random_bytes(std::size_t n) const {
    std::vector<std::uint8_t> out(n);
    Botan::system_rng().randomize(out.data(), out.size());
    return out;
}

TEE_INLINE botan_crypto::private_key botan_crypto::generate_p384() const {
    return {std::make_shared<const Botan::ECDH_PrivateKey>(Botan::system_rng(), group())};
}

TEE_INLINE std::vector<std::uint8_t> botan_crypto::spki_der(const private_key& k) const {
    return p384::spki_of_point(detail::botan::point_of(*k.key));
}

TEE_INLINE botan_crypto::public_key botan_crypto::import_point(byte_span point) {
    try {
#if BOTAN_VERSION_MAJOR >= 3
        auto pt = Botan::EC_AffinePoint::deserialize(group(), point);  // checks on-curve
        if (!pt) throw protocol_error("enclave public key is not a point on P-384");
        auto key = std::make_shared<const Botan::ECDSA_PublicKey>(group(), *pt);
#else
        Botan::PointGFp pt = group().OS2ECP(point.data(), point.size());  // checks on-curve
        auto key = std::make_shared<const Botan::ECDSA_PublicKey>(group(), pt);
#endif
        auto verifier = std::make_shared<key_verifier>(key);
        return {std::move(key), std::vector<std::uint8_t>(point.begin(), point.end()), std::move(verifier)};
    } catch (const std::exception&) {
        throw protocol_error("enclave public key is not a point on P-384");
    }
}

TEE_INLINE secure_bytes botan_crypto::ecdh(const private_key& priv, const public_key& peer) const {
    Botan::PK_Key_Agreement ka(*priv.key, Botan::system_rng(), "Raw");
    Botan::secure_vector<std::uint8_t> z = ka.derive_key(0, peer.point).bits_of();
    return secure_bytes(z.begin(), z.end());
}

TEE_INLINE secure_bytes botan_crypto::hkdf_sha256(byte_span ikm, byte_span salt, byte_span info,
                                                  std::size_t length) const {
    // RFC 5869 caps L at 255 * HashLen; Botan 2 would silently return less.
    if (length > 255 * 32) throw protocol_error("HKDF-SHA256 output is limited to 8160 bytes");
    auto kdf = Botan::KDF::create_or_throw("HKDF(SHA-256)");
#if BOTAN_VERSION_MAJOR >= 3
    secure_bytes k(length);
    kdf->derive_key(k, ikm, salt, info);
    return k;
#else
    Botan::secure_vector<std::uint8_t> k =
        kdf->derive_key(length, ikm.data(), ikm.size(), salt.data(), salt.size(), info.data(), info.size());
    return secure_bytes(k.begin(), k.end());
#endif
}

TEE_INLINE std::vector<std::uint8_t> botan_crypto::gcm_seal(byte_span key, byte_span iv, byte_span plaintext) {
    auto mode = gcm(key, iv, detail::botan::encrypt);
    Botan::secure_vector<std::uint8_t> buf(plaintext.begin(), plaintext.end());
    mode->finish(buf);
    return std::vector<std::uint8_t>(buf.begin(), buf.end());
}

TEE_INLINE std::optional<secure_bytes> botan_crypto::gcm_open(byte_span key, byte_span iv, byte_span ciphertext) {
    auto mode = gcm(key, iv, detail::botan::decrypt);
    Botan::secure_vector<std::uint8_t> buf(ciphertext.begin(), ciphertext.end());
    try {
        mode->finish(buf);
    } catch (const Botan::Invalid_Authentication_Tag&) {
        return std::nullopt;
    }
    return secure_bytes(buf.begin(), buf.end());
}

TEE_INLINE bool botan_crypto::ecdsa_p384_verify_der(const public_key& pub, byte_span msg, byte_span sig) const {
    return verify(pub, msg, sig, detail::botan::sig_der);
}

TEE_INLINE bool botan_crypto::verify_rs(const public_key& pub, byte_span msg, byte_span sig) {
    return verify(pub, msg, sig, detail::botan::sig_raw);
}

TEE_INLINE const Botan::EC_Group& botan_crypto::group() { return detail::botan::p384(); }

TEE_INLINE std::unique_ptr<Botan::AEAD_Mode> botan_crypto::gcm(byte_span key, byte_span iv, Botan::Cipher_Dir dir) {
    auto mode = Botan::AEAD_Mode::create_or_throw("AES-256/GCM", dir);
    mode->set_key(key.data(), key.size());
    mode->start(iv.data(), iv.size());
    return mode;
}

TEE_INLINE bool botan_crypto::verify(const public_key& pub, byte_span msg, byte_span sig, Botan::Signature_Format fmt) {
    if (!pub.verifier) return false;  // a default-constructed key verifies nothing
    return pub.verifier->verify(msg, sig, fmt);
}
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee
