#!/usr/bin/python3
"""An independent Python client of the Sparsity Nova chat protocol that verifies everything.

Written from /work/shared/PROTOCOL-NOVA.md section 8 ("A correct client") with
Python's `cryptography`, `cbor2` and pycryptodome's Keccak-256.

Usage: nova_client.py --url URL --root ROOT_PEM [--pcr N=HEX]... [--label capsule|enclaver] PROMPT...

Environment: PLATFORM_API_KEY (required), PLATFORM (default openai), MODEL (default gpt-4).

1. POST /.well-known/attestation {"nonce": base64(32 fresh bytes)}; raw CBOR
   (application/cbor or octet-stream) or the JSON {"attestation_doc": base64}
   wrapper. Verified: COSE_Sign1 ES384 by the leaf; chain leaf -> cabundle ->
   --root, each certificate valid now, issuers CAs with keyCertSign; every
   --pcr pin; nonce equal to ours; timestamp within 5 minutes; public_key
   exactly the 120-byte P-384 SPKI; user_data a JSON object whose eth_addr is
   0x + 40 hex digits.
2. POST /set-api-key once, then POST /talk per prompt, each with one session
   P-384 key and a fresh 12-byte nonce. Each answer: HTTP 200 without "error";
   data = exactly three hex strings; sig 65 bytes, 1 <= r, s < n, s <= n/2,
   v in 0/1/27/28, recovering to eth_addr; data.public_key == the attested SPKI;
   data.nonce 12 bytes and not seen before in the session; AES-GCM opens under
   the attested key; the plaintext a JSON object echoing message, ai_model and
   platform, with an integer timestamp within 5 minutes of now.
   A 400 "Decryption failed" after the session worked means the enclave may
   have restarted: re-attest and set the API key again, once.

Prints one JSON line {"response": ..., "signer": "0x..."} per answer and
exits 0; on any failure prints `FAIL: <reason>` to stderr and exits 1. The API
key is never printed.
"""
import argparse
import base64
import datetime
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request

import cbor2
from Cryptodome.Hash import keccak
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

LABELS = {"capsule": b"capsule-ecdh-aes256gcm-v1", "enclaver": b"enclaver-ecdh-aes256gcm-v1"}
SPKI_PREFIX = bytes.fromhex("3076301006072a8648ce3d020106052b8104002203620004")
TIME_WINDOW = 300  # seconds, for the document's and the answers' timestamps
HTTP_TIMEOUT = 30  # seconds, every request

# secp256k1: y^2 = x^3 + 7 over F_p, base point G of order N
P_K1 = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F
N_K1 = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G_K1 = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
        0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)


class Refused(Exception):
    """A verification failure; the message is the reason."""


def require(cond, reason):
    if not cond:
        raise Refused(reason)


def keccak256(data):
    return keccak.new(digest_bits=256, data=data).digest()


def sec1(public_key):
    return public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


# ---------------------------------------------------------------- secp256k1 recovery
# `cryptography` has no public-key recovery and no point addition, so Q =
# r^-1 (s R - z G) is computed here in affine coordinates; the result is then
# checked with the library's own ECDSA verifier, so a slip here cannot accept
# a bad signature.

def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and (a[1] + b[1]) % P_K1 == 0:
        return None
    if a == b:
        lam = 3 * a[0] * a[0] * pow(2 * a[1], -1, P_K1) % P_K1
    else:
        lam = (b[1] - a[1]) * pow(b[0] - a[0], -1, P_K1) % P_K1
    x = (lam * lam - a[0] - b[0]) % P_K1
    return x, (lam * (a[0] - x) - a[1]) % P_K1


def _mul(k, point):
    result = None
    while k:
        if k & 1:
            result = _add(result, point)
        point, k = _add(point, point), k >> 1
    return result


def recover_address(digest, sig65):
    """The eth address whose key made sig65 = r || s || v over digest.
    Refuses r, s out of range, high s and v outside 0/1/27/28."""
    require(len(sig65) == 65, "signature is not 65 bytes")
    r, s, v = int.from_bytes(sig65[:32], "big"), int.from_bytes(sig65[32:64], "big"), sig65[64]
    require(1 <= r < N_K1 and 1 <= s < N_K1, "signature r or s out of range")
    require(s <= N_K1 // 2, "signature has a high s (k256 never makes one)")
    require(v in (0, 1, 27, 28), "signature recovery id v=%d is not 0, 1, 27 or 28" % v)
    parity = (v - 27 if v >= 27 else v) & 1
    try:  # R from its x coordinate and parity; the library decompresses and checks it is on the curve
        R = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256K1(), bytes([2 + parity]) + r.to_bytes(32, "big")).public_numbers()
    except ValueError:
        raise Refused("signature r is not the x coordinate of a curve point")
    z = int.from_bytes(digest, "big")
    r_inv = pow(r, -1, N_K1)
    Q = _add(_mul(s * r_inv % N_K1, (R.x, R.y)), _mul((-z * r_inv) % N_K1, G_K1))
    require(Q is not None, "signature recovers to the point at infinity")
    key = ec.EllipticCurvePublicNumbers(Q[0], Q[1], ec.SECP256K1()).public_key()
    try:
        key.verify(utils.encode_dss_signature(r, s), digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    except Exception:
        raise Refused("recovered key does not verify the signature")
    return "0x" + keccak256(sec1(key)[1:])[12:].hex()


def eip191_digest(text):
    raw = text.encode("utf-8")
    return keccak256(b"\x19Ethereum Signed Message:\n" + str(len(raw)).encode() + raw)


def message_key(own_private, peer_public, nonce12, label):
    """HKDF-SHA256(ECDH x, min(A,B) || max(A,B) || nonce, label), 32 bytes."""
    a, b = sec1(own_private.public_key()), sec1(peer_public)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=min(a, b) + max(a, b) + nonce12,
                info=label).derive(own_private.exchange(ec.ECDH(), peer_public))


# ---------------------------------------------------------------- attestation

def _valid_now(cert, now, what):
    nb = cert.not_valid_before.replace(tzinfo=datetime.timezone.utc).timestamp()
    na = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc).timestamp()
    require(nb <= now <= na, "%s is not valid now (%s .. %s)" % (what, cert.not_valid_before, cert.not_valid_after))


def _issued_by(cert, issuer, what):
    require(cert.issuer == issuer.subject, "%s: issuer name does not match" % what)
    try:
        bc = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
        ku = issuer.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise Refused("%s: issuer lacks basicConstraints or keyUsage" % what)
    require(bc.ca and ku.key_cert_sign, "%s: issuer is not a CA allowed to sign certificates" % what)
    key = issuer.public_key()
    require(isinstance(key, ec.EllipticCurvePublicKey), "%s: issuer key is not EC" % what)
    try:
        key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    except Exception:
        raise Refused("%s: bad certificate signature" % what)


def verify_document(doc, root, pcr_pins, nonce, now):
    """Checks the COSE_Sign1 attestation document; returns (enclave SPKI bytes, eth_addr)."""
    try:
        msg = cbor2.loads(doc)
    except Exception as e:
        raise Refused("attestation is not CBOR: %s" % e)
    if isinstance(msg, cbor2.CBORTag):
        require(msg.tag == 18, "unexpected CBOR tag %d" % msg.tag)
        msg = msg.value
    require(isinstance(msg, list) and len(msg) == 4, "attestation is not a COSE_Sign1 array of 4")
    protected, unprotected, payload_raw, signature = msg
    require(isinstance(protected, bytes) and isinstance(unprotected, dict) and isinstance(payload_raw, bytes)
            and isinstance(signature, bytes), "bad COSE_Sign1 field types")
    require(cbor2.loads(protected) == {1: -35}, "protected header is not {1: -35} (ES384)")
    p = cbor2.loads(payload_raw)
    require(isinstance(p, dict), "payload is not a map")
    require(isinstance(p.get("module_id"), str) and p["module_id"], "module_id missing")
    require(p.get("digest") == "SHA384", "digest is not SHA384")
    ts = p.get("timestamp")
    require(isinstance(ts, int) and not isinstance(ts, bool), "timestamp is not an integer")
    require(abs(ts / 1000.0 - now) <= TIME_WINDOW, "document timestamp is not recent")
    require(isinstance(p.get("certificate"), bytes), "certificate is not a bstr")
    cab = p.get("cabundle")
    require(isinstance(cab, list) and cab and all(isinstance(c, bytes) for c in cab), "bad cabundle")

    # The ES384 signature by the leaf, then the chain to the pinned root.
    try:
        leaf = x509.load_der_x509_certificate(p["certificate"])
        chain = [leaf] + [x509.load_der_x509_certificate(c) for c in reversed(cab)]
    except ValueError as e:
        raise Refused("malformed certificate: %s" % e)
    leaf_key = leaf.public_key()
    require(isinstance(leaf_key, ec.EllipticCurvePublicKey) and leaf_key.curve.name == "secp384r1",
            "leaf key is not P-384")
    require(len(signature) == 96, "COSE signature is not 96 bytes r||s")
    try:
        leaf_key.verify(utils.encode_dss_signature(int.from_bytes(signature[:48], "big"),
                                                   int.from_bytes(signature[48:], "big")),
                        cbor2.dumps(["Signature1", protected, b"", payload_raw]), ec.ECDSA(hashes.SHA384()))
    except Exception:
        raise Refused("COSE signature does not verify with the leaf key")
    root_der = root.public_bytes(serialization.Encoding.DER)
    if chain[-1].public_bytes(serialization.Encoding.DER) != root_der:
        chain.append(root)
    for i, cert in enumerate(chain):
        _valid_now(cert, now, "certificate %d (%s)" % (i, cert.subject.rfc4514_string()))
    for i in range(len(chain) - 1):
        _issued_by(chain[i], chain[i + 1], "certificate %d" % i)

    pcrs = p.get("pcrs")
    require(isinstance(pcrs, dict), "pcrs missing")
    for index, want in pcr_pins.items():
        require(pcrs.get(index) == want, "PCR%d differs from the pinned value" % index)
    require(p.get("nonce") == nonce, "document nonce is not ours")
    pk = p.get("public_key")
    require(isinstance(pk, bytes) and len(pk) == 120 and pk.startswith(SPKI_PREFIX),
            "public_key is not a 120-byte P-384 SPKI")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP384R1(), pk[len(SPKI_PREFIX) - 1:])
    except ValueError:
        raise Refused("public_key is not a point on P-384")
    try:
        ud = json.loads(p.get("user_data") or b"")
    except (ValueError, TypeError):
        raise Refused("user_data is not JSON")
    require(isinstance(ud, dict), "user_data is not a JSON object")
    addr = ud.get("eth_addr")
    require(isinstance(addr, str) and re.fullmatch(r"0x[0-9a-fA-F]{40}", addr), "user_data has no valid eth_addr")
    return pk, addr.lower()


# ---------------------------------------------------------------- the session

class Session:
    def __init__(self, url, root, pcr_pins, label, api_key, platform, model):
        self.url, self.root, self.pcr_pins, self.label = url.rstrip("/"), root, pcr_pins, label
        self.api_key, self.platform, self.model = api_key, platform, model
        self.key = ec.generate_private_key(ec.SECP384R1())
        self.spki = self.key.public_key().public_bytes(serialization.Encoding.DER,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo)
        self.seen_nonces = set()
        self.enclave_spki = self.enclave_key = self.eth_addr = None

    def post(self, path, body_bytes, content_type="application/json"):
        """(status, content type, body) of a POST; transport errors raise Refused."""
        req = urllib.request.Request(self.url + path, data=body_bytes, method="POST",
                                     headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as r:
                return r.status, r.headers.get("Content-Type", ""), r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type", ""), e.read()
        except (urllib.error.URLError, OSError) as e:
            raise Refused("transport: %s" % e)

    def attest(self):
        nonce = os.urandom(32)
        status, ctype, body = self.post("/.well-known/attestation",
                                        json.dumps({"nonce": base64.b64encode(nonce).decode()}).encode())
        require(status == 200, "attestation: HTTP %d" % status)
        ctype = ctype.split(";")[0].strip().lower()
        if ctype == "application/json":  # the {"attestation_doc": base64} wrapper
            try:
                body = base64.b64decode(json.loads(body)["attestation_doc"], validate=True)
            except Exception:
                raise Refused("attestation: malformed JSON wrapper")
        else:
            require(ctype in ("application/cbor", "application/octet-stream"),
                    "attestation: unexpected content type %r" % ctype)
        self.enclave_spki, self.eth_addr = verify_document(body, self.root, self.pcr_pins, nonce, time.time())
        self.enclave_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP384R1(), self.enclave_spki[23:])

    def exchange(self, path, plaintext_obj):
        """Sends one encrypted request; returns (status, answer object) unverified."""
        nonce = os.urandom(12)
        key = message_key(self.key, self.enclave_key, nonce, self.label)
        data = AESGCM(key).encrypt(nonce, json.dumps(plaintext_obj, ensure_ascii=False).encode("utf-8"), None)
        status, _, body = self.post(path, json.dumps({"nonce": nonce.hex(), "public_key": self.spki.hex(),
                                                      "data": data.hex()}).encode())
        try:
            answer = json.loads(body)
        except ValueError:
            raise Refused("%s: HTTP %d, answer is not JSON" % (path, status))
        return status, answer

    def open_answer(self, path, status, answer):
        """Verifies a signed encrypted answer; returns the decrypted object."""
        require(isinstance(answer, dict), "%s: answer is not a JSON object" % path)
        if status != 200 or "error" in answer:
            raise Refused("%s: service error (HTTP %d): %s" % (path, status, str(answer.get("error"))[:200]))
        data, sig = answer.get("data"), answer.get("sig")
        require(isinstance(data, dict) and set(data) == {"encrypted_data", "nonce", "public_key"},
                "%s: data does not have exactly encrypted_data, nonce, public_key" % path)
        require(all(isinstance(v, str) and re.fullmatch(r"(?:[0-9a-fA-F]{2})+", v) for v in data.values()),
                "%s: data members are not hex" % path)
        require(isinstance(sig, str) and sig, "%s: empty signature" % path)
        require(re.fullmatch(r"[0-9a-fA-F]{130}", sig), "%s: signature is not 65 bytes of hex" % path)
        text = '{"encrypted_data":"%s","nonce":"%s","public_key":"%s"}' % (
            data["encrypted_data"], data["nonce"], data["public_key"])
        signer = recover_address(eip191_digest(text), bytes.fromhex(sig))
        require(signer == self.eth_addr, "%s: signature is by %s, not the attested %s" % (path, signer, self.eth_addr))
        require(bytes.fromhex(data["public_key"]) == self.enclave_spki, "%s: envelope key is not the attested key" % path)
        nonce = bytes.fromhex(data["nonce"])
        require(len(nonce) == 12, "%s: answer nonce is not 12 bytes" % path)
        require(nonce not in self.seen_nonces, "%s: answer nonce seen before (replayed answer)" % path)
        self.seen_nonces.add(nonce)
        try:
            plain = AESGCM(message_key(self.key, self.enclave_key, nonce, self.label)).decrypt(
                nonce, bytes.fromhex(data["encrypted_data"]), None)
            obj = json.loads(plain.decode("utf-8"))
        except Exception:
            raise Refused("%s: answer does not decrypt to JSON" % path)
        require(isinstance(obj, dict), "%s: answer plaintext is not a JSON object" % path)
        ts = obj.get("timestamp")
        require(isinstance(ts, int) and not isinstance(ts, bool), "%s: timestamp is not an integer" % path)
        require(abs(ts - time.time()) <= TIME_WINDOW, "%s: timestamp %d outside the window" % (path, ts))
        return obj, signer

    def set_api_key(self):
        status, answer = self.exchange("/set-api-key", {"api_key": self.api_key, "platform": self.platform})
        obj, _ = self.open_answer("/set-api-key", status, answer)
        require(obj.get("status") == "success" and obj.get("platform") == self.platform,
                "/set-api-key: answer does not confirm the platform")

    def connect(self):
        self.attest()
        self.set_api_key()

    def talk(self, prompt):
        request = {"message": prompt, "ai_model": self.model}
        status, answer = self.exchange("/talk", request)
        if status == 400 and isinstance(answer, dict) and str(answer.get("error", "")).startswith("Decryption failed"):
            # The enclave may have restarted with new keys: re-attest once.
            self.connect()
            status, answer = self.exchange("/talk", request)
        obj, signer = self.open_answer("/talk", status, answer)
        for k, want in (("message", prompt), ("ai_model", self.model), ("platform", self.platform)):
            require(obj.get(k) == want, "/talk: the answer's %s is not what was sent" % k)
        require(isinstance(obj.get("response"), str), "/talk: response is not a string")
        return obj["response"], signer


def parse_pin(text):
    m = re.fullmatch(r"(\d+)=([0-9a-fA-F]+)", text)
    if not m or int(m.group(1)) > 31 or len(m.group(2)) not in (64, 96, 128):
        raise argparse.ArgumentTypeError("expected N=HEX (PCR index and 48-byte value)")
    return int(m.group(1)), bytes.fromhex(m.group(2))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--root", required=True, metavar="ROOT_PEM")
    ap.add_argument("--pcr", type=parse_pin, action="append", default=[], metavar="N=HEX")
    ap.add_argument("--label", choices=sorted(LABELS), default="capsule")
    ap.add_argument("prompts", nargs="+", metavar="PROMPT")
    args = ap.parse_args()
    api_key = os.environ.get("PLATFORM_API_KEY")
    if not api_key:
        print("FAIL: PLATFORM_API_KEY is not set", file=sys.stderr)
        return 1
    try:
        with open(args.root, "rb") as f:
            raw = f.read()
        root = x509.load_pem_x509_certificate(raw) if b"-----BEGIN" in raw else x509.load_der_x509_certificate(raw)
        session = Session(args.url, root, dict(args.pcr), LABELS[args.label], api_key,
                          os.environ.get("PLATFORM", "openai"), os.environ.get("MODEL", "gpt-4"))
        session.connect()
        for prompt in args.prompts:
            response, signer = session.talk(prompt)
            print(json.dumps({"response": response, "signer": signer}), flush=True)
    except Refused as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    except (OSError, ValueError) as e:
        print("FAIL: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
