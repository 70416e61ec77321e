// tee/openssl_crypto.hpp - the OpenSSL 3 crypto backend (alternative to Botan).
//
// Implements tee::crypto_backend with OpenSSL 3.0's EVP interfaces only (no
// deprecated EC_KEY calls): P-384 keys, ECDH, HKDF-SHA256 (EVP_KDF),
// AES-256-GCM (IVs of 1..128 bytes; the protocol uses 32) and ECDSA P-384 /
// SHA-384 verification. Select it as a policy and link libcrypto
// (pkg-config openssl):
//
//   tee::client<tee::httplib_transport, tee::openssl_crypto> c(cfg);
//
// Every OpenSSL object is owned by a smart pointer with its free function, so
// no error path leaks. Secrets (ECDH output, HKDF output, decrypted plaintext)
// are written straight into tee::secure_bytes; OpenSSL wipes the private
// scalars and key schedules it frees. Randomness is RAND_bytes (per-thread
// DRBGs). Nothing is shared but immutable keys, which OpenSSL 3 lets several
// threads use at once (openssl-threads(7)).
//
// OpenSSL reports failures on a per-thread error queue, which TLS code (e.g.
// cpp-httplib's) reads later. Each call here removes what it added, so an
// expected failure (a bad signature, a wrong tag) leaves no trace behind.
//
// The argument rules shared with botan_crypto (key forms, AES key and IV,
// the tag) and load_public_key, the AES-GCM and SHA-2 members are
// tee/detail/crypto_backend_base.hpp's; this class supplies OpenSSL's calls.
//
// Errors are tee::protocol_error, as botan_crypto's refusals are: a key that
// is not P-384, a bad AES key or IV, an HKDF request OpenSSL refuses, and any
// other failure OpenSSL reports ("openssl_crypto: <call> failed: <reason>").
// Differences from botan_crypto, all outside what the protocol uses: GCM IVs
// longer than 128 bytes and HKDF info longer than 32 KiB are refused
// (OpenSSL's limits). HKDF outputs longer than 255 * 32 bytes are refused by
// both backends (Botan 2 itself would silently truncate them to 8160 bytes).
#pragma once

#include "tee/detail/prelude.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "tee/concepts.hpp"
#include "tee/detail/crypto_backend_base.hpp"
#include "tee/errors.hpp"
#include "tee/detail/p384.hpp"

namespace tee {

class openssl_crypto : public detail::crypto_backend_base<openssl_crypto> {
public:
    // Shared: copies of a client share one key. Never modified after creation.
    struct private_key {
        std::shared_ptr<EVP_PKEY> key;
    };
    struct public_key {
        std::shared_ptr<EVP_PKEY> key;
        std::vector<std::uint8_t> point;  // 04||x||y
    };

    // The other members (load_public_key, aes256gcm_seal/_open,
    // ecdsa_p384_verify_raw, sha256/384) are crypto_backend_base's.
    std::vector<std::uint8_t> random_bytes(std::size_t n) const;
    private_key generate_p384() const;
    std::vector<std::uint8_t> spki_der(const private_key& k) const;
    secure_bytes ecdh(const private_key& priv, const public_key& peer) const;
    secure_bytes hkdf_sha256(byte_span ikm, byte_span salt, byte_span info, std::size_t length) const;
    bool ecdsa_p384_verify_der(const public_key& pub, byte_span msg, byte_span sig) const;

private:
    friend class detail::crypto_backend_base<openssl_crypto>;

    template <auto Free>
    struct deleter {
        template <class T>
        void operator()(T* p) const noexcept {
            Free(p);
        }
    };
    template <class T, auto Free>
    using owned = std::unique_ptr<T, deleter<Free>>;
    using pkey_ctx = owned<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
    using cipher_ctx = owned<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;

    // Drops the errors OpenSSL queued during one call (and only those).
    struct error_mark {
        error_mark() noexcept;
        ~error_mark();
        error_mark(const error_mark&) = delete;
        error_mark& operator=(const error_mark&) = delete;
    };

    [[noreturn]] static void fail(const char* what);

    static std::shared_ptr<EVP_PKEY> adopt(EVP_PKEY* p);

    // OSSL_PARAM wants a non-const pointer even for inputs; OpenSSL only reads it.
    static void* mut(byte_span s) noexcept;

    static cipher_ctx gcm(byte_span key, byte_span iv, int encrypt);

    // Runs `in` through the cipher into `out` (same length), in int-sized pieces.
    static bool update(EVP_CIPHER_CTX* ctx, byte_span in, std::uint8_t* out);

    // r||s (48 + 48 bytes) as a DER ECDSA-Sig-Value; empty if OpenSSL cannot build it.
    static std::vector<std::uint8_t> der_of_raw(byte_span sig);

    // What crypto_backend_base calls once its argument rules hold.
    static public_key import_point(byte_span point);  // 04||x||y
    static std::vector<std::uint8_t> gcm_seal(byte_span key, byte_span iv, byte_span plaintext);
    static std::optional<secure_bytes> gcm_open(byte_span key, byte_span iv, byte_span ciphertext);
    bool verify_rs(const public_key& pub, byte_span msg, byte_span sig) const;  // r||s, 96 bytes
    template <std::size_t N>                                                    // SHA-256 (32) or SHA-384 (48)
    static std::array<std::uint8_t, N> digest(byte_span data) {
        static_assert(N == 32 || N == 48);
        error_mark mark;
        std::array<std::uint8_t, N> out{};
        unsigned int n = 0;
        if (EVP_Digest(data.data(), data.size(), out.data(), &n, N == 32 ? EVP_sha256() : EVP_sha384(), nullptr) != 1 ||
            n != N)
            fail("digest");
        return out;
    }
};

static_assert(crypto_backend<openssl_crypto>);

// ---- definitions (header-only: inline in every file; TEE_CLIENT_COMPILED_LIB:
// compiled once in src/tee_client.cpp; see tee/detail/prelude.hpp) ----
#if defined(TEE_CLIENT_DEFINITIONS)
TEE_INLINE std::vector<std::uint8_t> openssl_crypto::random_bytes(std::size_t n) const {
    error_mark mark;
    std::vector<std::uint8_t> out(n);
    for (std::size_t off = 0; off < n;) {
        const int chunk = static_cast<int>(std::min<std::size_t>(n - off, std::size_t{1} << 30));
        if (RAND_bytes(out.data() + off, chunk) != 1) fail("RAND_bytes");
        off += static_cast<std::size_t>(chunk);
    }
    return out;
}

TEE_INLINE openssl_crypto::private_key openssl_crypto::generate_p384() const {
    error_mark mark;
    pkey_ctx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    EVP_PKEY* raw = nullptr;
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) <= 0 || EVP_PKEY_CTX_set_group_name(ctx.get(), "secp384r1") <= 0 ||
        EVP_PKEY_generate(ctx.get(), &raw) <= 0)
        fail("P-384 key generation");
    return {adopt(raw)};
}

TEE_INLINE std::vector<std::uint8_t> openssl_crypto::spki_der(const private_key& k) const {
    error_mark mark;
    const int n = k.key ? i2d_PUBKEY(k.key.get(), nullptr) : -1;
    if (n != static_cast<int>(p384::spki_size)) fail("SubjectPublicKeyInfo encoding (not 120 bytes)");
    std::vector<std::uint8_t> out(p384::spki_size);
    unsigned char* p = out.data();
    if (i2d_PUBKEY(k.key.get(), &p) != n || p384::point_of(out).size() != p384::point_size)
        fail("SubjectPublicKeyInfo encoding (not id-ecPublicKey/secp384r1, uncompressed)");
    return out;
}

TEE_INLINE openssl_crypto::public_key openssl_crypto::import_point(byte_span point) {
    error_mark mark;
    char group[] = "secp384r1";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
                           OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, mut(point), point.size()),
                           OSSL_PARAM_construct_end()};
    pkey_ctx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0) fail("EC key import setup");
    EVP_PKEY* raw = nullptr;
    const bool imported = EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) > 0;  // checks on-curve
    std::shared_ptr<EVP_PKEY> key = adopt(raw);
    if (!imported || !key) throw protocol_error("enclave public key is not a point on P-384");
    pkey_ctx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check) fail("EC key check setup");
    // on the curve (the quick check suffices: P-384 has cofactor 1)
    if (EVP_PKEY_public_check_quick(check.get()) != 1)
        throw protocol_error("enclave public key is not a point on P-384");
    return {std::move(key), std::vector<std::uint8_t>(point.begin(), point.end())};
}

TEE_INLINE secure_bytes openssl_crypto::ecdh(const private_key& priv, const public_key& peer) const {
    error_mark mark;
    pkey_ctx ctx(priv.key ? EVP_PKEY_CTX_new_from_pkey(nullptr, priv.key.get(), nullptr) : nullptr);
    std::size_t n = 0;
    if (!ctx || !peer.key || EVP_PKEY_derive_init(ctx.get()) <= 0 ||
        EVP_PKEY_derive_set_peer(ctx.get(), peer.key.get()) <= 0 || EVP_PKEY_derive(ctx.get(), nullptr, &n) <= 0 ||
        n != 48)
        fail("ECDH");
    secure_bytes z(n);
    if (EVP_PKEY_derive(ctx.get(), z.data(), &n) <= 0 || n != 48) fail("ECDH");
    return z;
}

TEE_INLINE secure_bytes openssl_crypto::hkdf_sha256(byte_span ikm, byte_span salt, byte_span info,
                                                    std::size_t length) const {
    error_mark mark;
    if (length == 0) return {};
    owned<EVP_KDF, EVP_KDF_free> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
    owned<EVP_KDF_CTX, EVP_KDF_CTX_free> ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
    if (!ctx) fail("HKDF setup");
    char digest[] = "SHA256";
    OSSL_PARAM params[5];
    std::size_t i = 0;
    params[i++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
    std::uint8_t no_key = 0;  // an empty IKM must still be a non-null pointer to OpenSSL
    params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm.empty() ? &no_key : mut(ikm), ikm.size());
    if (!salt.empty())  // no salt = HashLen zeros (RFC 5869), what Python's salt=None means
        params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, mut(salt), salt.size());
    if (!info.empty()) params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, mut(info), info.size());
    params[i] = OSSL_PARAM_construct_end();
    secure_bytes out(length);
    if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) <= 0) fail("HKDF-SHA256");
    return out;
}

TEE_INLINE std::vector<std::uint8_t> openssl_crypto::gcm_seal(byte_span key, byte_span iv, byte_span plaintext) {
    error_mark mark;
    cipher_ctx ctx = gcm(key, iv, 1);
    std::vector<std::uint8_t> out(plaintext.size() + 16);
    int last = 0;
    if (!update(ctx.get(), plaintext, out.data()) || EVP_CipherFinal_ex(ctx.get(), out.data(), &last) <= 0 ||
        last != 0 || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, out.data() + plaintext.size()) <= 0)
        fail("AES-256-GCM encryption");
    return out;
}

TEE_INLINE std::optional<secure_bytes> openssl_crypto::gcm_open(byte_span key, byte_span iv, byte_span ciphertext) {
    error_mark mark;
    cipher_ctx ctx = gcm(key, iv, 0);
    const std::size_t n = ciphertext.size() - 16;
    std::array<std::uint8_t, 16> tag{};
    std::copy(ciphertext.begin() + static_cast<std::ptrdiff_t>(n), ciphertext.end(), tag.begin());
    secure_bytes out(n);  // wiped when dropped, also on a tag failure
    if (!update(ctx.get(), ciphertext.first(n), out.data()) ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, 16, tag.data()) <= 0)
        fail("AES-256-GCM decryption");
    int last = 0;
    if (EVP_CipherFinal_ex(ctx.get(), out.data() + n, &last) <= 0) return std::nullopt;  // wrong tag
    return out;
}

TEE_INLINE bool openssl_crypto::ecdsa_p384_verify_der(const public_key& pub, byte_span msg, byte_span sig) const {
    error_mark mark;
    owned<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
    return ctx && pub.key && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha384(), nullptr, pub.key.get()) > 0 &&
        EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), msg.data(), msg.size()) == 1;
}

TEE_INLINE bool openssl_crypto::verify_rs(const public_key& pub, byte_span msg, byte_span sig) const {
    error_mark mark;
    return ecdsa_p384_verify_der(pub, msg, der_of_raw(sig));
}

TEE_INLINE openssl_crypto::error_mark::error_mark() noexcept { ERR_set_mark(); }

TEE_INLINE openssl_crypto::error_mark::~error_mark() { ERR_pop_to_mark(); }

TEE_INLINE void openssl_crypto::fail(const char* what) {
    char reason[256] = "no details";
    if (unsigned long e = ERR_peek_last_error(); e != 0) ERR_error_string_n(e, reason, sizeof reason);
    throw protocol_error(std::string("openssl_crypto: ") + what + " failed: " + reason);
}

TEE_INLINE std::shared_ptr<EVP_PKEY> openssl_crypto::adopt(EVP_PKEY* p) {
    if (p == nullptr) return nullptr;
    return std::shared_ptr<EVP_PKEY>(p, EVP_PKEY_free);  // frees p if the control block cannot be allocated
}

TEE_INLINE void* openssl_crypto::mut(byte_span s) noexcept { return const_cast<std::uint8_t*>(s.data()); }

TEE_INLINE openssl_crypto::cipher_ctx openssl_crypto::gcm(byte_span key, byte_span iv, int encrypt) {
    if (iv.size() > 128) throw protocol_error("AES-GCM IV longer than 128 bytes (OpenSSL's limit)");
    cipher_ctx ctx(EVP_CIPHER_CTX_new());
    if (!ctx || EVP_CipherInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr, encrypt) <= 0 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()), nullptr) <= 0 ||
        EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, key.data(), iv.data(), encrypt) <= 0)
        fail("AES-256-GCM setup");
    return ctx;
}

TEE_INLINE bool openssl_crypto::update(EVP_CIPHER_CTX* ctx, byte_span in, std::uint8_t* out) {
    while (!in.empty()) {  // never called with out == nullptr: that would mean AAD to OpenSSL
        const std::size_t chunk = std::min<std::size_t>(in.size(), std::size_t{1} << 30);
        int written = 0;
        if (EVP_CipherUpdate(ctx, out, &written, in.data(), static_cast<int>(chunk)) <= 0 ||
            static_cast<std::size_t>(written) != chunk)
            return false;
        in = in.subspan(chunk);
        out += chunk;
    }
    return true;
}

TEE_INLINE std::vector<std::uint8_t> openssl_crypto::der_of_raw(byte_span sig) {
    owned<ECDSA_SIG, ECDSA_SIG_free> s(ECDSA_SIG_new());
    owned<BIGNUM, BN_free> r_bn(BN_bin2bn(sig.data(), 48, nullptr));
    owned<BIGNUM, BN_free> s_bn(BN_bin2bn(sig.data() + 48, 48, nullptr));
    if (!s || !r_bn || !s_bn || ECDSA_SIG_set0(s.get(), r_bn.get(), s_bn.get()) != 1) return {};
    r_bn.release();  // now owned by s
    s_bn.release();
    const int n = i2d_ECDSA_SIG(s.get(), nullptr);
    if (n <= 0) return {};
    std::vector<std::uint8_t> der(static_cast<std::size_t>(n));
    unsigned char* p = der.data();
    if (i2d_ECDSA_SIG(s.get(), &p) != n) return {};
    return der;
}
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee
