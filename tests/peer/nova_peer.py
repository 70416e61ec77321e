#!/usr/bin/python3
"""Python re-implementation of a Sparsity Nova enclave chat service (secured-chat-bot).

Written from /work/shared/PROTOCOL-NOVA.md (sections 3-7 and 10) with Python's
`cryptography` (P-384, ECDH, HKDF, AES-GCM, X.509, ES384), `cbor2` and
pycryptodome's Keccak-256, so that tests can prove a client byte-compatible
with the vendor's service without sharing any code with it.

Usage: nova_peer.py [--port N] [--root-out FILE] [--label capsule|enclaver] [--fault NAME]

After binding 127.0.0.1:N (0 = ephemeral) it prints `PORT <n>`, then
`PCRS 0=<hex> 1=<hex> 2=<hex>` (the fixed image measurements a client pins),
and serves until SIGTERM / SIGINT (exit status 0).

Endpoints:
  POST /.well-known/attestation  {"nonce"?: base64, "user_data"?: {...}}
        -> 200 application/cbor: an untagged COSE_Sign1 (ES384 by a leaf of the
           peer's own test PKI; --root-out writes its root) in AWS's format;
           public_key = the P-384 encryption SPKI, user_data = {"eth_addr": ...}
  POST /set-api-key, POST /talk  {"nonce": hex12, "public_key": hex SPKI, "data": hex}
        -> {"data": {"encrypted_data", "nonce", "public_key"}, "sig": hex65}\\n
           (per-message HKDF key, AES-256-GCM, EIP-191 secp256k1 signature)
           or {"error": "..."} with the spec's status
  GET  /  -> the unauthenticated health JSON (enclave_address)

The HTTP server is Python's http.server (HTTP/1.1 keep-alive, no TCP_NODELAY,
headers and body in two writes), as Python and Werkzeug services are.

--fault NAME makes one thing wrong, for negative tests of a client (on /talk
answers unless said): forged-signature, other-address (attestation),
key-swap, replay, high-s, empty-signature, v-27, wrong-nonce (attestation),
echo-mismatch, wrapped-timestamp, wrapper (attestation as JSON
{"attestation_doc": base64}), restart-after-N (new keys, API key and replay
cache after N /talk answers, as an enclave restart). A correct client refuses
all of them except v-27 and wrapper (accepted) and restart-after-N (re-attests).
"""
import argparse
import base64
import binascii
import collections
import datetime
import hashlib
import hmac
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cbor2
from Cryptodome.Hash import keccak
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID

LABELS = {"capsule": b"capsule-ecdh-aes256gcm-v1", "enclaver": b"enclaver-ecdh-aes256gcm-v1"}
SPKI_PREFIX = bytes.fromhex("3076301006072a8648ce3d020106052b8104002203620004")
# secp256k1 group order
N_K1 = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
MODELS = ("gpt-5.1", "gpt-5", "gpt-5-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4o", "gpt-4o-mini", "gpt-4")
PLATFORMS = ("openai",)
REPLAY_CACHE_SIZE = 4096
# The image measurements the peer reports (fixed, so a client can pin them).
PCRS = {i: hashlib.sha384(b"nova-peer pcr%d" % i).digest() if i < 3 else bytes(48) for i in range(16)}
FAULTS = ("forged-signature", "other-address", "key-swap", "replay", "high-s", "empty-signature", "v-27",
          "wrong-nonce", "echo-mismatch", "wrapped-timestamp", "wrapper")


# ---------------------------------------------------------------- primitives

def keccak256(data):
    """Keccak-256 with the original padding (Ethereum's), not SHA3-256."""
    return keccak.new(digest_bits=256, data=data).digest()


def sec1(public_key):
    """The uncompressed SEC1 point 04 || X || Y."""
    return public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def spki(public_key):
    """DER SubjectPublicKeyInfo; for P-384 the 120 bytes SPKI_PREFIX || X || Y."""
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _der_header(buf, pos, tag):
    """(content start, content length) of the DER element of `tag` at pos; short, 0x81, 0x82 lengths."""
    if pos + 2 > len(buf) or buf[pos] != tag:
        raise ValueError("expected DER tag 0x%02x" % tag)
    length, pos = buf[pos + 1], pos + 2
    if length == 0x81 or length == 0x82:
        width = length - 0x80
        if pos + width > len(buf):
            raise ValueError("truncated DER length")
        length, pos = int.from_bytes(buf[pos:pos + width], "big"), pos + width
    elif length > 0x7F:
        raise ValueError("unsupported DER length form")
    if pos + length > len(buf):
        raise ValueError("truncated DER element")
    return pos, length


def parse_client_key(der):
    """The capsule's lenient SPKI reader (spec section 4): skips the
    AlgorithmIdentifier by its length without reading the OIDs, takes the BIT
    STRING after its unused-bits byte as a SEC1 point (compressed accepted);
    trailing bytes after the outer SEQUENCE are ignored."""
    pos, _ = _der_header(der, 0, 0x30)
    alg, alg_len = _der_header(der, pos, 0x30)
    bits, bits_len = _der_header(der, alg + alg_len, 0x03)
    if bits_len < 2:
        raise ValueError("empty BIT STRING")
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP384R1(), der[bits + 1:bits + bits_len])


def hkdf_salt(pub_a, pub_b, nonce12):
    """min(A, B) || max(A, B) || nonce over the uncompressed points (206 bytes)."""
    a, b = sec1(pub_a), sec1(pub_b)
    return min(a, b) + max(a, b) + nonce12


def message_key(own_private, peer_public, nonce12, label, shared=None):
    """The per-message AES-256 key: HKDF-SHA256(ECDH x, sorted keys || nonce, label).
    shared: the ECDH x coordinate if already known (SharedSecrets)."""
    if shared is None:
        shared = own_private.exchange(ec.ECDH(), peer_public)
    salt = hkdf_salt(own_private.public_key(), peer_public, nonce12)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=label).derive(shared)


def eth_address(public_key):
    """"0x" + lowercase hex of keccak256(X || Y)[12:], not EIP-55 checksummed."""
    return "0x" + keccak256(sec1(public_key)[1:])[12:].hex()


def eip191_digest(text):
    """keccak256(0x19 "Ethereum Signed Message:\\n" len(text) text) of the UTF-8 text."""
    raw = text.encode("utf-8")
    return keccak256(b"\x19Ethereum Signed Message:\n" + str(len(raw)).encode() + raw)


def rfc6979_k(secret, digest):
    """RFC 6979 section 3.2 nonce with HMAC-SHA256 for secp256k1 (qlen = hlen = 256)."""
    x = secret.to_bytes(32, "big")
    h = (int.from_bytes(digest, "big") % N_K1).to_bytes(32, "big")  # bits2octets
    v, k = b"\x01" * 32, b"\x00" * 32
    k = hmac.new(k, v + b"\x00" + x + h, hashlib.sha256).digest()
    v = hmac.new(k, v, hashlib.sha256).digest()
    k = hmac.new(k, v + b"\x01" + x + h, hashlib.sha256).digest()
    v = hmac.new(k, v, hashlib.sha256).digest()
    while True:
        v = hmac.new(k, v, hashlib.sha256).digest()
        cand = int.from_bytes(v, "big")
        if 1 <= cand < N_K1:
            return cand
        k = hmac.new(k, v + b"\x00", hashlib.sha256).digest()
        v = hmac.new(k, v, hashlib.sha256).digest()


def sign_recoverable(private_key, digest, d=None):
    """k256's sign_prehash_recoverable: RFC 6979 k, low-s with the recovery id
    flipped; returns r(32) || s(32) || v(1), v in {0, 1}. The point k*G comes
    from `cryptography` (the public key of the scalar k): no curve arithmetic
    here. d: the private scalar, if already known."""
    if d is None:
        d = private_key.private_numbers().private_value
    z = int.from_bytes(digest, "big")
    k = rfc6979_k(d, digest)
    point = ec.derive_private_key(k, ec.SECP256K1()).public_key().public_numbers()
    r = point.x % N_K1
    s = pow(k, -1, N_K1) * (z + r * d) % N_K1
    assert r and s, "degenerate signature"  # probability ~2^-256
    v = (point.y & 1) | (2 if point.x >= N_K1 else 0)
    if s > N_K1 // 2:
        s, v = N_K1 - s, v ^ 1
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])


def canonical(obj):
    """Python's json.dumps(sort_keys=True, separators=(',', ':')), ensure_ascii on."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def flask_jsonify(obj):
    """Flask 3.1 jsonify bytes: sorted keys, compact, ASCII-only, trailing newline."""
    return (canonical(obj) + "\n").encode("ascii")


def p384_from_label(label):
    """A deterministic test key d = int(SHA-384(label)) mod (n-1) + 1 (the KAT's rule)."""
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973
    d = int.from_bytes(hashlib.sha384(label.encode()).digest(), "big") % (n - 1) + 1
    return ec.derive_private_key(d, ec.SECP384R1())


def seal(enclave_private, client_public, response_data, label, nonce12, envelope_private=None, shared=None):
    """Encrypts response_data for the client and returns the envelope dict.
    envelope_private (key-swap fault) encrypts with, and names, another key."""
    own = envelope_private or enclave_private
    plaintext = canonical(response_data).encode("ascii")
    key = message_key(own, client_public, nonce12, label, shared)
    return {"encrypted_data": AESGCM(key).encrypt(nonce12, plaintext, None).hex(),
            "nonce": nonce12.hex(), "public_key": spki(own.public_key()).hex()}


def sign_envelope(eth_private, envelope, d=None):
    """The 65-byte EIP-191 signature over the canonical envelope JSON."""
    return sign_recoverable(eth_private, eip191_digest(canonical(envelope)), d)


# ---------------------------------------------------------------- test PKI

def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tee-client test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject_key, subject, issuer_key, issuer, not_before, not_after, ca, path_length=None):
    builder = (x509.CertificateBuilder()
               .subject_name(subject).issuer_name(issuer)
               .public_key(subject_key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=ca,
                                            crl_sign=ca, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                              critical=False))
    return builder.sign(issuer_key, hashes.SHA384())


class TestPKI:
    """Root CA (self-signed) -> intermediate CA -> leaf, all P-384 / ecdsa-with-SHA384.
    The leaf is valid for 3 hours from the peer's start, as AWS's are."""

    def __init__(self, start):
        start = start.replace(microsecond=0)
        root_key, inter_key = ec.generate_private_key(ec.SECP384R1()), ec.generate_private_key(ec.SECP384R1())
        self.leaf_key = ec.generate_private_key(ec.SECP384R1())
        root_name, inter_name = _name("nova-peer test root"), _name("nova-peer test intermediate")
        day = datetime.timedelta(days=1)
        self.root = _cert(root_key, root_name, root_key, root_name, start - day, start + 3650 * day, True)
        self.inter = _cert(inter_key, inter_name, root_key, root_name, start - day, start + 30 * day, True, 0)
        self.leaf = _cert(self.leaf_key, _name("i-0nova0peer0test-enc0nova0peer0test.us-east-1.aws"), inter_key,
                          inter_name, start, start + datetime.timedelta(hours=3), False)

    def der(self, cert):
        return cert.public_bytes(serialization.Encoding.DER)

    def root_pem(self):
        return self.root.public_bytes(serialization.Encoding.PEM)


def attestation_document(pki, public_key_der, user_data, nonce):
    """An untagged COSE_Sign1 [protected {1: -35}, {}, payload, r||s] whose payload
    has AWS's fields in AWS's order; nonce None becomes CBOR null."""
    payload = cbor2.dumps({
        "module_id": "i-0nova0peer0test-enc0nova0peer0test",
        "digest": "SHA384",
        "timestamp": int(time.time() * 1000),
        "pcrs": dict(PCRS),
        "certificate": pki.der(pki.leaf),
        "cabundle": [pki.der(pki.root), pki.der(pki.inter)],
        "public_key": public_key_der,
        "user_data": user_data,
        "nonce": nonce,
    })
    protected = bytes.fromhex("a1013822")
    to_sign = cbor2.dumps(["Signature1", protected, b"", payload])
    r, s = utils.decode_dss_signature(pki.leaf_key.sign(to_sign, ec.ECDSA(hashes.SHA384())))
    return cbor2.dumps([protected, {}, payload, r.to_bytes(48, "big") + s.to_bytes(48, "big")])


def user_data_bytes(caller_user_data, eth_addr):
    """serde_json::to_vec of the caller's object with eth_addr set (an existing
    key keeps its position): compact, raw UTF-8, insertion order."""
    obj = dict(caller_user_data or {})
    obj["eth_addr"] = eth_addr
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def strict_b64decode(text):
    """base64 0.22 STANDARD: alphabet +/, padding required, canonical trailing bits."""
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("Invalid padding or non-canonical base64")
    return raw


# ---------------------------------------------------------------- the service

class Enclave:
    """Keys and state of one enclave 'runtime start' (both keys, the replay
    cache and the app's cached API key go on restart)."""

    def __init__(self):
        self.p384 = ec.generate_private_key(ec.SECP384R1())
        self.spki = spki(self.p384.public_key())
        self.eth = ec.generate_private_key(ec.SECP256K1())
        self.eth_d = self.eth.private_numbers().private_value
        self.eth_addr = eth_address(self.eth.public_key())
        self.swap_key = ec.generate_private_key(ec.SECP384R1())       # key-swap fault
        self.other_addr = eth_address(ec.generate_private_key(ec.SECP256K1()).public_key())  # other-address
        self.replay_seen = set()
        self.replay_fifo = collections.deque()
        self.lock = threading.Lock()
        self.api_key = None
        self.platform = None
        self.talks = 0
        self.first_talk_answer = None  # replay fault
        # ECDH results per (own key, client key): a client reuses its key for
        # every message, and P-384 ECDH costs milliseconds in Python, which
        # would dominate a chat's time. Same bytes on the wire as recomputing.
        self.shared = collections.OrderedDict()

    def ecdh(self, own_private, client_public):
        ident = (sec1(own_private.public_key()), sec1(client_public))
        with self.lock:
            z = self.shared.get(ident)
        if z is None:
            z = own_private.exchange(ec.ECDH(), client_public)
            with self.lock:
                self.shared[ident] = z
                if len(self.shared) > 256:
                    self.shared.popitem(last=False)
        return z


class DecryptError(Exception):
    pass


def _hex_field(value, max_prefixes):
    if not isinstance(value, str):
        raise DecryptError("field is not a string")
    for _ in range(max_prefixes):
        if value[:2] in ("0x", "0X"):
            value = value[2:]
    try:  # the hex crate: pairs of [0-9a-fA-F], nothing else (no whitespace)
        return binascii.unhexlify(value)
    except (ValueError, binascii.Error) as e:
        raise DecryptError("invalid hex: %s" % e)


class Service:
    def __init__(self, label, fault, restart_after, pki):
        self.label, self.fault, self.restart_after, self.pki = label, fault, restart_after, pki
        self.lock = threading.Lock()
        self.enclave = Enclave()

    # -- section 3
    def attestation(self, body):
        """Returns (status, content type, body bytes, extra headers)."""
        try:
            req = json.loads(body) if body.strip() else {}
        except ValueError:
            return 400, "text/plain; charset=utf-8", b"Invalid JSON in request body", {}
        if not isinstance(req, dict):
            return 400, "text/plain; charset=utf-8", b"invalid type: expected a JSON object", {}
        nonce = req.get("nonce")
        if nonce is not None:
            if not isinstance(nonce, str):
                return 400, "text/plain; charset=utf-8", b"invalid type: nonce is not a string", {}
            try:
                nonce = strict_b64decode(nonce)
            except ValueError as e:
                return 400, "text/plain; charset=utf-8", ("Invalid base64 nonce: %s" % e).encode(), {}
        user_data = req.get("user_data")
        if user_data is not None and not isinstance(user_data, dict):
            return 400, "text/plain; charset=utf-8", b"user_data must be a JSON object", {}
        with self.lock:
            enc = self.enclave
        eth_addr = enc.other_addr if self.fault == "other-address" else enc.eth_addr
        if self.fault == "wrong-nonce":
            nonce = hashlib.sha256(b"not your nonce" + (nonce or b"")).digest()
        doc = attestation_document(self.pki, enc.spki, user_data_bytes(user_data, eth_addr), nonce)
        if self.fault == "wrapper":
            return (200, "application/json", flask_jsonify({"attestation_doc": base64.b64encode(doc).decode()}),
                    {"Access-Control-Allow-Origin": "*"})
        return 200, "application/cbor", doc, {"Access-Control-Allow-Origin": "*"}

    # -- sections 4 and 5: the capsule's /v1/encryption/decrypt
    def decrypt(self, enc, req):
        nonce = _hex_field(req["nonce"], 2)
        client_der = _hex_field(req["public_key"], 1)
        data = _hex_field(req["data"], 1)
        if len(nonce) not in (12, 32):
            raise DecryptError("nonce must be 12 bytes (or 32 legacy)")
        nonce = nonce[:12]
        try:
            client = parse_client_key(client_der)
        except ValueError as e:
            raise DecryptError("invalid client public key: %s" % e)
        fingerprint = hashlib.sha256(client_der + nonce).digest()
        with self.lock:  # checked, and consumed, before decryption
            if fingerprint in enc.replay_seen:
                raise DecryptError("Nonce reuse detected for client_public_key")
            enc.replay_seen.add(fingerprint)
            enc.replay_fifo.append(fingerprint)
            if len(enc.replay_fifo) > REPLAY_CACHE_SIZE:
                enc.replay_seen.discard(enc.replay_fifo.popleft())
        try:
            key = message_key(enc.p384, client, nonce, self.label, enc.ecdh(enc.p384, client))
            plain = AESGCM(key).decrypt(nonce, data, None)
            text = plain.decode("utf-8")
        except Exception as e:
            raise DecryptError("AES-GCM decryption failed: %s" % (type(e).__name__,))
        return client, text

    # -- sections 5, 6 and 10: the app's /set-api-key and /talk
    def encrypted_endpoint(self, path, content_type, body):
        """Returns (status, JSON-able body)."""
        if content_type.split(";")[0].strip().lower() != "application/json":
            return 500, {"error": "415 Unsupported Media Type: Did not attempt to load JSON data because the "
                                  "request Content-Type was not 'application/json'."}
        try:
            req = json.loads(body)
        except ValueError as e:
            return 500, {"error": "400 Bad Request: The browser (or proxy) sent a request that this server "
                                  "could not understand. (%s)" % e}
        if not isinstance(req, dict) or not all(req.get(k) for k in ("nonce", "public_key", "data")):
            return 400, {"error": "nonce, public_key, and data are required"}
        with self.lock:
            enc = self.enclave
        try:
            client, text = self.decrypt(enc, req)
        except DecryptError as e:
            return 400, {"error": "Decryption failed: 400 Client Error: Bad Request for url: "
                                  "http://127.0.0.1:18000/v1/encryption/decrypt (%s)" % e}
        try:
            msg = json.loads(text)
        except ValueError as e:
            return 400, {"error": "Decryption failed: %s" % e}
        if not isinstance(msg, dict):
            return 500, {"error": "'%s' object has no attribute 'get'" % type(msg).__name__}
        if path == "/set-api-key":
            return self.set_api_key(enc, client, msg)
        return self.talk(enc, client, msg)

    def answer(self, enc, client, response_data, is_talk):
        """Encrypts, signs and wraps response_data; applies the /talk faults."""
        fault = self.fault if is_talk else None
        if fault == "echo-mismatch":
            response_data["message"] = response_data["message"] + " (not what you sent)"
        if fault == "wrapped-timestamp":
            response_data["timestamp"] += 18446744073  # 2^64 ns in seconds
        own = enc.swap_key if fault == "key-swap" else enc.p384
        envelope = seal(own, client, response_data, self.label, os.urandom(12), None, enc.ecdh(own, client))
        sig = bytearray(sign_envelope(enc.eth, envelope, enc.eth_d))
        if fault == "forged-signature":
            sig[5] ^= 0x01
        elif fault == "high-s":
            s = N_K1 - int.from_bytes(sig[32:64], "big")
            sig[32:64], sig[64] = s.to_bytes(32, "big"), sig[64] ^ 1
        elif fault == "v-27":
            sig[64] += 27
        body = {"data": envelope, "sig": "" if fault == "empty-signature" else sig.hex()}
        if is_talk and fault == "replay":
            with self.lock:
                if enc.first_talk_answer is None:
                    enc.first_talk_answer = body
                body = enc.first_talk_answer
        return 200, body

    def set_api_key(self, enc, client, msg):
        api_key, platform = msg.get("api_key"), msg.get("platform", "openai")
        if not api_key:
            return 400, {"error": "api_key is required"}
        if platform not in PLATFORMS:
            return 400, {"error": "Invalid platform: %s" % (platform,)}
        with self.lock:
            enc.api_key, enc.platform = api_key, platform
        return self.answer(enc, client, {"message": "API key cached successfully", "platform": platform,
                                         "status": "success", "timestamp": int(time.time())}, False)

    def talk(self, enc, client, msg):
        with self.lock:
            api_key = enc.api_key
        if not api_key:
            return 400, {"error": "API key not set. Call /set-api-key first."}
        message, model = msg.get("message"), msg.get("ai_model", "gpt-4")
        if not message:
            return 400, {"error": "message is required"}
        if model not in MODELS:
            return 400, {"error": "Invalid model: %s" % (model,)}
        # The fake LLM; non-ASCII on purpose, so the plaintext carries \\u escapes.
        response = "Echo: %s \u00e9 \u2713 \U0001F600" % (message,)
        status, body = self.answer(enc, client, {"ai_model": model, "message": message, "platform": enc.platform,
                                                 "response": response, "timestamp": int(time.time())}, True)
        with self.lock:
            enc.talks += 1
            if self.restart_after and enc.talks >= self.restart_after and enc is self.enclave:
                self.enclave = Enclave()  # the enclave restarts: new keys, no API key
        return status, body

    def health(self):
        with self.lock:
            enc = self.enclave
        return {"api_key_available": enc.api_key is not None, "cached_platform": enc.platform,
                "enclave_address": enc.eth_addr,
                "endpoints": {"attestation": "/.well-known/attestation", "set_api_key": "/set-api-key",
                              "talk": "/talk"},
                "frontend_available": False, "note": "Attestation available at /.well-known/attestation",
                "service": "Secured Chatbot", "status": "ok", "supported_platforms": list(PLATFORMS),
                "version": "1.0.0"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    service = None  # set in main()

    def log_message(self, fmt, *args):  # keep stdout/stderr quiet
        pass

    def send(self, status, content_type, raw, headers=None):
        # Headers (one write at end_headers) and body (a second write), no TCP_NODELAY.
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        if raw:
            self.wfile.write(raw)

    def send_json(self, status, obj):
        self.send(status, "application/json", flask_jsonify(obj))

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:  # skip trailers up to the blank line
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size + 2)[:size]
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def path_only(self):
        return self.path.split("?", 1)[0]

    def do_GET(self):
        if self.path_only().startswith("/.well-known/attestation"):
            self.send(405, None, b"")
        elif self.path_only() == "/":
            self.send_json(200, self.service.health())
        else:
            self.send(404, "text/plain; charset=utf-8", b"Not Found")

    def do_OPTIONS(self):
        self.read_body()
        if self.path_only().startswith("/.well-known/attestation"):
            self.send(204, None, b"", {"Access-Control-Allow-Origin": "*",
                                       "Access-Control-Allow-Methods": "POST, OPTIONS",
                                       "Access-Control-Allow-Headers": "Content-Type",
                                       "Access-Control-Max-Age": "86400"})
        else:
            self.send(404, "text/plain; charset=utf-8", b"Not Found")

    def do_POST(self):
        body = self.read_body()
        path = self.path_only()
        if path.startswith("/.well-known/attestation"):
            try:
                answer = self.service.attestation(body)
            except Exception as e:  # a bug here must not drop the connection silently
                answer = 500, "text/plain; charset=utf-8", ("%s: %s" % (type(e).__name__, e)).encode(), {}
            self.send(*answer)
        elif path in ("/set-api-key", "/talk"):
            try:
                answer = self.service.encrypted_endpoint(path, self.headers.get("Content-Type", ""), body)
            except Exception as e:  # the app's catch-all: 500 {"error": <exception text>}
                answer = 500, {"error": str(e)}
            self.send_json(*answer)
        else:
            self.send(404, "text/plain; charset=utf-8", b"Not Found")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--root-out", metavar="FILE", help="write the test root certificate (PEM) here")
    parser.add_argument("--label", choices=sorted(LABELS), default="capsule", help="the HKDF info label")
    parser.add_argument("--fault", metavar="NAME", help="one of %s, restart-after-N" % ", ".join(FAULTS))
    args = parser.parse_args()
    fault, restart_after = args.fault, 0
    if fault and fault.startswith("restart-after-"):
        restart_after = int(fault[len("restart-after-"):])
        if restart_after < 1:
            parser.error("restart-after-N needs N >= 1")
    elif fault and fault not in FAULTS:
        parser.error("unknown fault %r" % fault)

    pki = TestPKI(datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None))
    if args.root_out:
        with open(args.root_out, "wb") as f:
            f.write(pki.root_pem())
    Handler.service = Service(LABELS[args.label], fault, restart_after, pki)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True

    def stop(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("PORT", server.server_address[1], flush=True)
    print("PCRS " + " ".join("%d=%s" % (i, PCRS[i].hex()) for i in range(3)), flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
