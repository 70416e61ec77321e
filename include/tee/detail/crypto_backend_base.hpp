// tee/detail/crypto_backend_base.hpp - the members of tee::crypto_backend
// whose rules do not depend on the library underneath, written once for
// botan_crypto and openssl_crypto (each derives from
// crypto_backend_base<itself> and supplies the library calls).
//
// The trap it handles: two backends that each check their own arguments drift
// apart (one accepts an empty IV or a 95-byte r||s that the other refuses),
// and a verdict of the client then depends on its crypto policy. Here every
// backend refuses the same inputs in the same way before its library is
// called:
//  * a public key is the 120-byte SPKI or the raw 97-byte point
//    (p384::point_of), else protocol_error; the backend's import_point()
//    checks that the point is on P-384;
//  * AES-256-GCM takes a 32-byte key and a non-empty IV, else protocol_error
//    (the backend's gcm_seal()/gcm_open() may refuse more: OpenSSL's IV limit);
//    a ciphertext shorter than its 16-byte tag does not open (nullopt);
//  * a raw signature r||s is exactly 96 bytes, else it does not verify;
//  * SHA-256 and SHA-384 are the backend's digest<32> and digest<48>.
// A backend declares what it calls (import_point, gcm_seal, gcm_open,
// verify_rs, digest<N>) and makes this class its friend.
#pragma once

#include "tee/detail/prelude.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "tee/concepts.hpp"
#include "tee/detail/p384.hpp"
#include "tee/errors.hpp"
#include "tee/secure_bytes.hpp"

namespace tee::detail {

template <class Backend>
class crypto_backend_base {
public:
    // Backend::public_key (deduced: Backend is not complete where this is declared).
    auto load_public_key(byte_span bytes) const {
        const byte_span point = p384::point_of(bytes);
        if (point.empty())
            throw protocol_error(
                "enclave public key is neither a P-384 SubjectPublicKeyInfo "
                "(id-ecPublicKey, secp384r1, uncompressed) nor a raw 97-byte point");
        return Backend::import_point(point);
    }

    std::vector<std::uint8_t> aes256gcm_seal(byte_span key, byte_span iv, byte_span plaintext) const {
        check_gcm(key, iv);
        return Backend::gcm_seal(key, iv, plaintext);
    }

    std::optional<secure_bytes> aes256gcm_open(byte_span key, byte_span iv, byte_span ciphertext) const {
        if (ciphertext.size() < 16) return std::nullopt;
        check_gcm(key, iv);
        return Backend::gcm_open(key, iv, ciphertext);
    }

    // B: Backend, named where the call is made (Backend is not complete here).
    template <class B = Backend>
    bool ecdsa_p384_verify_raw(const typename B::public_key& pub, byte_span msg, byte_span sig) const {
        return sig.size() == 96 && static_cast<const B&>(*this).verify_rs(pub, msg, sig);
    }

    std::array<std::uint8_t, 32> sha256(byte_span data) const { return Backend::template digest<32>(data); }
    std::array<std::uint8_t, 48> sha384(byte_span data) const { return Backend::template digest<48>(data); }

private:
    static void check_gcm(byte_span key, byte_span iv) {
        if (key.size() != 32) throw protocol_error("AES-256-GCM needs a 32-byte key");
        if (iv.empty()) throw protocol_error("AES-GCM needs a non-empty IV");
    }
};

}  // namespace tee::detail
