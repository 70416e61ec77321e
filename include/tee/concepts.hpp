// tee/concepts.hpp - what a policy must provide: the three concepts
// tee::client<Transport, Crypto, Attestation> is built from, each documented
// below as named requirements (the expressions, what they mean, which threads
// may call them, how they fail). The concepts check the expressions; the
// rules beside them are what the client relies on and the compiler cannot
// check: a transport that throws on HTTP 500, or a policy that returns an
// identity it did not verify, compiles and is wrong.
//
// A policy that misses a member fails to compile with the name of the concept
// (and the missing requirement) in the first error. tests/exemplars.cpp holds
// the smallest type of each kind, static_assert-ed and used with tee::client<>.
#pragma once

#include "tee/detail/prelude.hpp"

#include <array>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "tee/enclave_identity.hpp"
#include "tee/secure_bytes.hpp"

namespace tee {

using byte_span = std::span<const std::uint8_t>;

// ---------------------------------------------------------------- transport
// The limits every transport must honour (config::transport). Settings of one
// transport live with it (the default's pool and TLS trust: tee::httplib_options).
struct transport_limits {
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds read_timeout{60'000};  // per read; an LLM can take a while
    std::chrono::milliseconds write_timeout{10'000};
    std::chrono::milliseconds total_timeout{120'000};  // whole request: connect, TLS, answer (a drip too)
    std::size_t max_answer_bytes = 4u << 20;           // larger answers are refused (headers: see docs/reliability.md)
};

// What the client hands a transport when it builds one: the limits and the
// base URL, which is config::url (the one place a client's URL is set).
struct transport_options : transport_limits {
    transport_options() = default;
    transport_options(const transport_limits& limits) : transport_limits(limits) {}  // NOLINT: implicit on purpose

    std::string base_url = "http://127.0.0.1:8000";  // http:// or https://, optional path prefix
};

struct http_response {
    int status = 0;
    std::string body;
};

// A transport performs one HTTP exchange per call and throws tee::transport_error
// (with its cause) when no HTTP answer arrives. Any HTTP status is returned, not thrown.
// (A client can build one itself only if it is constructible from transport_options;
// otherwise hand the client a built instance.)
//
// clang-format off
// Named requirements. `t` is a T, `path` and `body` are std::string_view, `opt`
// is a const transport_options&.
//
//   expression           type           semantics
//   T(std::move(t))      T              The client takes its transport by value.
//   T(opt)               T              Optional. Lets tee::client build the transport
//                                       from the config (opt is config::transport with
//                                       base_url = config::url); without it, hand the
//                                       client a built instance.
//   t.get(path)          http_response  GET base_url + path (path: "/attestation").
//   t.post_json(path,    http_response  POST body as application/json to base_url + path
//       body)                           ("/talk", "/.well-known/attestation").
//
// Answers. Every HTTP answer comes back as {status, body}, whatever its status:
// the client decides what a status means (with config::endpoint automatic, a
// 404 or 405 of the well-known endpoint is a fallback to GET /attestation; a
// 500 of /talk a possible key change; any other non-200 a tee::service_error
// with the service's text).
// A transport that throws on a status breaks those rules.
//
// Errors. When no complete HTTP answer arrives, throw tee::transport_error
// with the transport_cause that says why (refused, timeout, tls, connection,
// too_large, other), or a type derived from it. The client cuts the API key
// out of any tee::error's message and rethrows the same object; an exception
// of another type passes through untouched. Honour the options you were built
// from: every request ends within total_timeout, and an answer larger than
// max_answer_bytes is refused (too_large) as it arrives, not after.
//
// Threads. One client calls its transport from every thread that uses the
// client (chat(), chat_async(), attest()), so get() and post_json() may run
// concurrently on one object: make them safe for that (a pool of connections,
// as httplib_transport has, or a mutex that serialises the requests). The
// attestation requests of one client never overlap each other (they run
// under the client's mutex); its chats do.
//
// Content. The bodies need no protection: the request is encrypted to the
// attested key and the answer is signed. Never log a body (a request carries
// the encrypted API key; logging sizes and paths is fine).
template <class T>
concept transport = std::move_constructible<T> &&
    requires(T& t, std::string_view path, std::string_view body) {
        { t.get(path) } -> std::same_as<http_response>;
        { t.post_json(path, body) } -> std::same_as<http_response>;
    };
// clang-format on

// ------------------------------------------------------------- crypto backend
// All the primitives of the protocol. Failures of *verification* are reported
// by return value (false / nullopt); malformed keys throw tee::protocol_error.
//
// clang-format off
// Named requirements. `c` is a const C, `priv` a const C::private_key&, `pub`
// a const C::public_key&, `bytes` (and `key`, `iv`, ...) byte_span, `n` std::size_t.
//
//   expression                    type                         semantics
//   C()                           C                            The client default-constructs
//                                                              its backend (it takes no
//                                                              instance).
//   C::private_key                                             A P-384 key pair; its secret is
//                                                              wiped on destruction.
//   C::public_key                                              A P-384 public key.
//   c.random_bytes(n)             vector<uint8_t>              n bytes from a CSPRNG (nonces).
//   c.generate_p384()             C::private_key               A fresh key pair.
//   c.spki_der(priv)              vector<uint8_t>              Its DER SubjectPublicKeyInfo:
//                                                              id-ecPublicKey + secp384r1,
//                                                              uncompressed point, exactly
//                                                              120 bytes.
//   c.load_public_key(bytes)      C::public_key                That SPKI or a raw 97-byte
//                                                              point 04||x||y, on the curve;
//                                                              else throws protocol_error.
//   c.ecdh(priv, pub)             secure_bytes                 The shared x coordinate (48 bytes).
//   c.hkdf_sha256(ikm, salt,      secure_bytes                 RFC 5869 HKDF-SHA256, L bytes
//       info, L)                                               (the protocol's salt is empty).
//   c.aes256gcm_seal(key, iv,     vector<uint8_t>              AES-256-GCM ciphertext || 16-byte
//       plaintext)                                             tag; any IV length, the
//                                                              protocol's is 32 bytes.
//   c.aes256gcm_open(key, iv,     optional<secure_bytes>       The plaintext, or nullopt when
//       ciphertext_and_tag)                                    the tag does not verify (or the
//                                                              input is shorter than the tag).
//   c.ecdsa_p384_verify_der(pub,  bool                         ECDSA P-384 over SHA-384(message),
//       message, der_signature)                                the signature DER-encoded.
//   c.ecdsa_p384_verify_raw(pub,  bool                         The same, the signature r||s
//       message, r_s)                                          (96 bytes, COSE's form).
//   c.sha256(bytes)               array<uint8_t, 32>           SHA-256.
//   c.sha384(bytes)               array<uint8_t, 48>           SHA-384.
//
// Errors. A verification that fails is a return value (false, nullopt), never
// an exception, and any malformed signature is simply false. A malformed key
// throws tee::protocol_error. Secrets (ECDH and HKDF output, a decrypted
// plaintext) come back in secure_bytes, which wipes them when freed.
//
// Threads. Every member is const and may be called from several threads at
// once, on one object and with one public_key or private_key object (the
// client shares its keys between the threads that chat): keep no mutable
// state, or guard it.
template <class C>
concept crypto_backend = std::default_initializable<C> &&
    requires(const C& c, byte_span bytes, const typename C::private_key& priv,
             const typename C::public_key& pub, std::size_t n) {
        typename C::private_key;   // a P-384 key pair; secret part wiped on destruction
        typename C::public_key;    // a P-384 public key
        { c.random_bytes(n) } -> std::same_as<std::vector<std::uint8_t>>;
        { c.generate_p384() } -> std::same_as<typename C::private_key>;
        // DER SubjectPublicKeyInfo, id-ecPublicKey + secp384r1, uncompressed: exactly 120 bytes
        { c.spki_der(priv) } -> std::same_as<std::vector<std::uint8_t>>;
        // accepts that SPKI or a raw 97-byte point 04||x||y; throws tee::protocol_error otherwise
        { c.load_public_key(bytes) } -> std::same_as<typename C::public_key>;
        { c.ecdh(priv, pub) } -> std::same_as<secure_bytes>;  // the 48-byte x coordinate
        { c.hkdf_sha256(bytes, bytes, bytes, n) } -> std::same_as<secure_bytes>;  // ikm, salt, info, L
        { c.aes256gcm_seal(bytes, bytes, bytes) } -> std::same_as<std::vector<std::uint8_t>>;  // key, iv, pt
        { c.aes256gcm_open(bytes, bytes, bytes) } -> std::same_as<std::optional<secure_bytes>>;
        { c.ecdsa_p384_verify_der(pub, bytes, bytes) } -> std::same_as<bool>;  // key, message, DER sig
        { c.ecdsa_p384_verify_raw(pub, bytes, bytes) } -> std::same_as<bool>;  // key, message, r||s
        { c.sha256(bytes) } -> std::same_as<std::array<std::uint8_t, 32>>;
        { c.sha384(bytes) } -> std::same_as<std::array<std::uint8_t, 48>>;
    };
// clang-format on

// ---------------------------------------------------------- attestation policy
// What the client tells a policy about the exchange: the optional third
// argument of verify(). A policy that takes it is called with it; one that
// does not is called with (answer, crypto) only.
// How the document binds the enclave key (the protocols differ).
enum class key_binding {
    user_data_digest,  // tee-tls: user_data == SHA-256(public_key)
    nova_eth_addr,     // Nova: public_key is the 120-byte P-384 SPKI itself; user_data is the
                       // JSON object {"eth_addr": "0x<40 hex>", ...} naming the enclave's signing address
};

// clang-format off
struct attestation_context {
    std::string_view service_url;  // the base URL the client talks to (config::url)
    key_binding binding = key_binding::user_data_digest;  // set by the protocol, never by the server
};
// clang-format on

// clang-format off
// Turns the enclave's answer to GET /attestation (parsed JSON) into a verified
// enclave_identity, or throws tee::attestation_error. `kind` names the policy
// ("mock", "nitro"); `verifies` says whether it proves anything about the
// enclave (the mock policy does not).
//
// Named requirements. `a` is a const A, `answer` a const nlohmann::json&,
// `crypto` a const C& (C a crypto_backend), `ctx` an attestation_context.
//
//   expression                  type              semantics
//   A::kind                     convertible to    The policy's name ("nitro", "mock");
//                               string_view       chat_result::attestation_kind.
//   A::verifies                 convertible to    Whether verify() proves who holds the
//                               bool              key (false only for development
//                                                 policies; a program can static_assert it).
//   a.verify(answer, crypto)    enclave_identity  The identity the answer proves; its
//                                                 public_key is the key every request
//                                                 is encrypted to.
//   a.verify(answer, crypto,    enclave_identity  Optional; called instead of the form
//       ctx)                                      above when it exists (ctx.service_url
//                                                 names the service being verified).
//
// The answer. The JSON body of the attestation endpoint, parsed by the client
// with the strict limits of untrusted input (protocol::attestation_answer_limits)
// and not otherwise checked: verify() checks every part it reads. From the
// well-known endpoint the client afterwards checks that its "public_key" is
// the key verify() returned.
//
// The identity. Set public_key (with set_enclave_key(id, crypto, point), which
// also sets key_fingerprint) only to a key proven to belong to the enclave;
// the shipped policies set kind to A::kind and verified to A::verifies, and
// chat_result::attestation_kind reports that kind. The client loads the key
// with crypto.load_public_key (a key it cannot load is tee::protocol_error).
//
// Errors. A verifying policy never returns an identity it did not verify:
// every failed check throws tee::attestation_error with the
// tee::attestation_reason of that check (a subclass of it is fine: the client
// rethrows the object itself, the API key cut out of its message). There is
// no "unverified" return, and nothing in the answer (a "mock": true flag, a
// missing field) may turn a check off.
//
// Threads. verify() is const. The client calls it on first use and again
// after a key change, one call at a time per client (under the client's
// mutex); a policy object shared by several clients (through a pointer or a
// shared store) may be called from several threads at once.
template <class A, class C>
concept attestation_policy = crypto_backend<C> &&
    requires(const A& a, const nlohmann::json& answer, const C& crypto) {
        { A::kind } -> std::convertible_to<std::string_view>;
        { A::verifies } -> std::convertible_to<bool>;
        { a.verify(answer, crypto) } -> std::same_as<enclave_identity>;
    };
// clang-format on

// ----------------------------------------------------------- protocol policy
// The wire protocol a client speaks: what it sends and how each answer is
// verified. Two exist: tee_tls_protocol (tee/tee_tls_protocol.hpp, the default)
// and nova_protocol (tee/nova_protocol.hpp). Protocols are the library's: the
// client's guarantees (every answer verified against the attested key, the
// key never in an error text) rest on them, so write one only to speak
// another service's wire format, with the tests of tests/test_nova_protocol.cpp
// as the model.
struct config;
struct chat_result;
class error;

// The client's own key pair, as a protocol sees it.
template <class Crypto>
struct client_key {
    const typename Crypto::private_key& key;
    std::string_view spki_hex;  // its DER SubjectPublicKeyInfo, hex, as every request carries it
};

// clang-format off
// Named requirements. `t` is a Transport&, `c` a const Crypto&, `a` a const
// Attestation&, `own` a const client_key<Crypto>&, `cfg` a const config&, `s` a
// const P::session<Crypto>&, `m` a std::string_view, `e` a const error&.
//
//   expression                       type                           semantics
//   P::name                          convertible to string_view     "tee-tls", "nova": chat_result::protocol.
//   P::session<Crypto>                                              What one attestation established;
//                                                                   shared read-only by the chats of
//                                                                   the session (a member that
//                                                                   changes, such as a replay
//                                                                   record, guards itself).
//   P::establish(t, c, a, own, cfg)  shared_ptr<const session>      Fetches the attestation, has the
//                                                                   policy verify it, and does what a
//                                                                   session needs before its first chat.
//   P::exchange(t, c, s, own, cfg,   chat_result                    One chat, its answer verified
//       m)                                                          against the session's attested keys.
//   P::means_key_change(e)           bool                           Whether a failed chat is what an
//                                                                   enclave restarted with new keys
//                                                                   causes: the client then
//                                                                   establishes a new session (fully
//                                                                   verified) and retries once.
//   P::carry_over(old, fresh)        void                           Optional. Called when a session
//                                                                   replaces another: what the new
//                                                                   one must keep remembering.
//
// Errors. As the other policies: tee::error subclasses with their reasons; the
// client cuts the API key out of every message.
// Threads. exchange() runs on every thread that chats, concurrently, with one
// session; establish() one call at a time per client.
template <class P, class T, class C, class A>
concept protocol_policy = transport<T> && attestation_policy<A, C> &&
    requires(T& t, const C& c, const A& a, const client_key<C>& own, const config& cfg,
             const typename P::template session<C>& s, std::string_view m, const error& e) {
        { P::name } -> std::convertible_to<std::string_view>;
        { P::establish(t, c, a, own, cfg) } -> std::same_as<std::shared_ptr<const typename P::template session<C>>>;
        { P::exchange(t, c, s, own, cfg, m) } -> std::same_as<chat_result>;
        { P::means_key_change(e) } -> std::same_as<bool>;
    };
// clang-format on

}  // namespace tee
