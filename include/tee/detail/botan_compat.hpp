// tee/detail/botan_compat.hpp - the few Botan names that differ between
// Botan 2 (2.19) and Botan 3 (3.7 and later), chosen by BOTAN_VERSION_MAJOR.
//
// Trap handled here: Botan 3 keeps many Botan 2 names as deprecated aliases
// (Signature_Format IEEE_1363, Cipher_Dir ENCRYPTION, EC_Group(name), ...), so
// code that compiles on both still fails a -Werror build on Botan 3; and
// Botan 2's point class (PointGFp, EC_Point in Botan 3) exists in Botan 3
// only with the deprecated legacy_ec_point module, which a minimized or
// distribution build may leave out. tee-client uses neither on Botan 3: keys
// travel as encoded points (04||x||y), loaded with EC_AffinePoint.
#pragma once

#include "tee/detail/prelude.hpp"

#include <cstdint>
#include <memory>
#include <vector>

#include <botan/build.h>
#include <botan/cipher_mode.h>
#include <botan/ec_group.h>
#include <botan/ecc_key.h>
#include <botan/ecdh.h>
#include <botan/pk_keys.h>

#if !defined(BOTAN_VERSION_MAJOR) || BOTAN_VERSION_MAJOR < 2 || \
    (BOTAN_VERSION_MAJOR == 2 && BOTAN_VERSION_MINOR < 19) || (BOTAN_VERSION_MAJOR == 3 && BOTAN_VERSION_MINOR < 7)
#error "tee-client needs Botan 2.19 or later, or Botan 3.7 or later"
#endif

namespace tee::detail::botan {

#if BOTAN_VERSION_MAJOR >= 3
inline constexpr Botan::Signature_Format sig_raw = Botan::Signature_Format::Standard;  // r||s (IEEE 1363)
inline constexpr Botan::Signature_Format sig_der = Botan::Signature_Format::DerSequence;
inline constexpr Botan::Cipher_Dir encrypt = Botan::Cipher_Dir::Encryption;
inline constexpr Botan::Cipher_Dir decrypt = Botan::Cipher_Dir::Decryption;
inline constexpr const char* ecdsa_sha384 = "SHA-384";  // the hash names the ECDSA scheme in Botan 3
#else
inline constexpr Botan::Signature_Format sig_raw = Botan::IEEE_1363;
inline constexpr Botan::Signature_Format sig_der = Botan::DER_SEQUENCE;
inline constexpr Botan::Cipher_Dir encrypt = Botan::ENCRYPTION;
inline constexpr Botan::Cipher_Dir decrypt = Botan::DECRYPTION;
inline constexpr const char* ecdsa_sha384 = "EMSA1(SHA-384)";
#endif

// A named curve: Botan 3's EC_Group::from_name, Botan 2's name constructor.
Botan::EC_Group group_named(const char* name);

// secp384r1, built once per process.
const Botan::EC_Group& p384();

// secp256k1 (Nova's answer signatures), built once per process. Botan 3 builds
// need the pcurves_secp256k1 module (or the generic EC code); .ci/botan.sh enables it.
const Botan::EC_Group& secp256k1();

// An EC key's public point, uncompressed (04||x||y).
std::vector<std::uint8_t> point_of(const Botan::EC_PublicKey& key);

// An ECDH key with the same private scalar as `key` (an enclave uses one P-384
// key for ECDH and ECDSA), through its PKCS#8 encoding: Botan 3 has no
// scalar-as-BigInt constructor that is not deprecated.
std::shared_ptr<const Botan::ECDH_PrivateKey> ecdh_key_of(const Botan::EC_PrivateKey& key);

// ---- definitions (header-only: inline in every file; TEE_CLIENT_COMPILED_LIB:
// compiled once in src/tee_client.cpp; see tee/detail/prelude.hpp) ----
#if defined(TEE_CLIENT_DEFINITIONS)
TEE_INLINE Botan::EC_Group group_named(const char* name) {
#if BOTAN_VERSION_MAJOR >= 3
    return Botan::EC_Group::from_name(name);
#else
    return Botan::EC_Group(name);
#endif
}

TEE_INLINE const Botan::EC_Group& p384() {
    static const Botan::EC_Group g = group_named("secp384r1");
    return g;
}

TEE_INLINE const Botan::EC_Group& secp256k1() {
    static const Botan::EC_Group g = group_named("secp256k1");
    return g;
}

TEE_INLINE std::vector<std::uint8_t> point_of(const Botan::EC_PublicKey& key) {
    return key.public_key_bits();  // the point in the key's encoding: uncompressed unless changed
}

TEE_INLINE std::shared_ptr<const Botan::ECDH_PrivateKey> ecdh_key_of(const Botan::EC_PrivateKey& key) {
    return std::make_shared<const Botan::ECDH_PrivateKey>(key.algorithm_identifier(), key.private_key_bits());
}
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee::detail::botan
