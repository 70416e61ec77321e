#!/usr/bin/python3
"""Python-only self test of enclave_peer.py and verify_nitro.py.

Usage: /usr/bin/python3 selftest.py      (exit 0 on success)

Acts as a client exactly per PROTOCOL.md (P-384 key, ECDH, HKDF-SHA256,
AES-256-GCM with a 32-byte IV), checks the success path, the signature over
the canonical form of the parsed data, the error answers, the log file, the
--encrypt-response mode and a clean SIGTERM; then runs verify_nitro.py on the
real 2025-04-24 vector (valid inside the leaf's validity, invalid now).
"""
import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
PY = "/usr/bin/python3"
SPKI_PREFIX = "3076301006072a8648ce3d020106052b8104002203620004"
API_KEY = "sk-selftest-SECRET-0123456789"


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok   " + what)


def http(base, method, path, body=None):
    """Returns (status, raw body bytes)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def derive(priv, pub):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"encryption data").derive(priv.exchange(ec.ECDH(), pub))


class Peer:
    def __init__(self, *args):
        self.proc = subprocess.Popen([PY, os.path.join(HERE, "enclave_peer.py"), *args],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().split()
        assert line[0] == "PORT", line
        self.base = "http://127.0.0.1:%s" % line[1]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=10)


class Client:
    def __init__(self, base):
        self.base = base
        self.key = ec.generate_private_key(ec.SECP384R1())
        self.spki = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        status, raw = http(base, "GET", "/attestation")
        doc = json.loads(raw)["attestation_doc"]
        self.enclave_der = bytes.fromhex(doc["public_key"])
        self.enclave = serialization.load_der_public_key(self.enclave_der)
        self.aes = AESGCM(derive(self.key, self.enclave))

    def talk(self, plain, nonce_hex=None, spki=None, aes=None):
        nonce = os.urandom(32)
        ct = (aes or self.aes).encrypt(nonce, json.dumps(plain).encode(), None)
        body = {"nonce": nonce_hex or nonce.hex(), "public_key": (spki or self.spki).hex(), "data": ct.hex()}
        status, raw = http(self.base, "POST", "/talk", body)
        return status, raw, json.loads(raw)

    def verify(self, data, sig_hex):
        canonical = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
        self.enclave.verify(bytes.fromhex(sig_hex), canonical, ec.ECDSA(hashes.SHA384()))
        return True


def request(message, **kw):
    return dict({"api_key": API_KEY, "message": message, "platform": "openai", "ai_model": "gpt-4"}, **kw)


def botan_style_spki(spki):
    """The same point under the ECDH algorithm OID 1.3.132.1.12 (what Botan 2 writes)."""
    alg = bytes.fromhex("06052b8104010c") + bytes.fromhex("06052b81040022")
    bits = spki[-100:]  # 03 62 00 04 x y
    inner = b"\x30" + bytes([len(alg)]) + alg
    return b"\x30" + bytes([len(inner) + len(bits)]) + inner + bits


def test_peer(log):
    peer = Peer("--log", log)
    try:
        c = Client(peer.base)
        status, raw = http(peer.base, "GET", "/attestation")
        att = json.loads(raw)
        check(status == 200 and att["mock"] is True, "GET /attestation is a mock answer")
        nonce = bytes.fromhex(att["attestation_doc"]["nonce"])
        check(nonce.startswith(b"tee-tls") and len(nonce) == 39, "attestation nonce is b'tee-tls' + 32 bytes")
        check(len(c.enclave_der) == 120 and c.enclave_der.hex().startswith(SPKI_PREFIX),
              "enclave key is a 120-byte id-ecPublicKey/secp384r1 SPKI")
        status, raw = http(peer.base, "POST", "/.well-known/attestation", {})
        wk = json.loads(raw)
        check(status == 200 and wk["public_key"] == c.enclave_der.hex()
              and wk["attestation_doc"]["public_key"] == c.enclave_der.hex(), "POST /.well-known/attestation")

        msg = "Grüße, \u2603 \U0001F600 \"quoted\" / back\\slash\nline"
        status, raw, body = c.talk(request(msg))
        check(status == 200 and "sig" in body, "POST /talk succeeds")
        data = body["data"]
        check(data["message"] == msg and data["response"] == "Echo from Python peer: " + msg
              and data["platform"] == "openai" and data["ai_model"] == "gpt-4"
              and isinstance(data["timestamp"], int), "answer echoes the decrypted request")
        check(list(data) == ["platform", "ai_model", "timestamp", "message", "response"]
              and "Grüße".encode() in raw, "HTTP body is UTF-8 in insertion order (not canonical)")
        check(c.verify(data, body["sig"]), "signature verifies over the canonical re-serialization")
        try:
            c.enclave.verify(bytes.fromhex(body["sig"]), json.dumps(data).encode(), ec.ECDSA(hashes.SHA384()))
            plain_ok = True
        except Exception:
            plain_ok = False
        check(not plain_ok, "signature does NOT verify over plain json.dumps(data)")

        errors = [
            (c.talk(request("x"), nonce_hex="abcdef0"), "invalid nonce, must be at least 8 characters long"),
            (c.talk(request("x", api_key="")), "invalid api_key"),
            (c.talk({"message": "x", "platform": "openai", "ai_model": "m"}), "invalid api_key"),
            (c.talk(request("x", platform="mistral")), "invalid platform"),
            (c.talk(request("x", ai_model="")), "invalid ai model"),
        ]
        for (status, _, body), text in errors:
            check(status == 200 and body == {"error": text}, "error answer: " + text)
        other = AESGCM(os.urandom(32))
        for what, kw in (("wrong key", {"aes": other}), ("8-char nonce (AESGCM needs 8 bytes)", {"nonce_hex": "abcdef01"}),
                         ("Botan ECDH-OID SPKI", {"spki": botan_style_spki(c.spki)})):
            status, _, body = c.talk(request("x"), **kw)
            check(status == 500 and body == {"detail": "decryption failed"}, "HTTP 500 decryption failed: " + what)
        status, _ = http(peer.base, "POST", "/talk", {"nonce": "00" * 32})
        check(status == 422, "malformed /talk body -> 422")
    finally:
        check(peer.stop() == 0, "peer exits 0 on SIGTERM")

    with open(log) as f:
        text = f.read()
    lines = [json.loads(line) for line in text.splitlines()]
    check(len(lines) == 9 and API_KEY not in text, "log has one line per /talk and never the api_key")
    check(lines[0]["decrypted_ok"] and lines[0]["message"] == msg and lines[0]["client_spki_len"] == 120
          and lines[0]["client_spki_prefix_hex"] == SPKI_PREFIX[:48], "log line content")
    check(lines[8]["client_spki_len"] == 118 and not lines[8]["decrypted_ok"], "log records the rejected Botan SPKI")


def test_encrypted():
    peer = Peer("--encrypt-response")
    try:
        c = Client(peer.base)
        status, _, body = c.talk(request("encrypted hello"))
        enc = body["data"]
        check(status == 200 and set(enc) == {"encrypted_data", "nonce", "public_key"}
              and len(bytes.fromhex(enc["nonce"])) == 32, "--encrypt-response answer shape")
        key = derive(c.key, serialization.load_der_public_key(bytes.fromhex(enc["public_key"])))
        data = json.loads(AESGCM(key).decrypt(bytes.fromhex(enc["nonce"]), bytes.fromhex(enc["encrypted_data"]), None))
        check(data["message"] == "encrypted hello" and c.verify(data, body["sig"]),
              "decrypted answer and its signature verify")
        status, _, body = c.talk(request("x", platform=""))
        check(body == {"error": "invalid platform"}, "errors stay plain in --encrypt-response mode")
    finally:
        check(peer.stop() == 0, "encrypting peer exits 0 on SIGTERM")


VECTOR = os.path.join(DATA, "nitro_attestation_2025-04-24.b64")
ROOT = os.path.join(DATA, "aws_nitro_root.pem")


def nitro(*extra, doc=VECTOR, root=ROOT):
    return subprocess.run([PY, os.path.join(HERE, "verify_nitro.py"), doc, "--root", root, *extra],
                          capture_output=True, text=True)


def look_alike_root():
    """A self-signed P-384 CA with exactly the AWS root's subject, but another key."""
    real = x509.load_pem_x509_certificate(open(ROOT, "rb").read())
    k = ec.generate_private_key(ec.SECP384R1())
    return (x509.CertificateBuilder().subject_name(real.subject).issuer_name(real.subject)
            .public_key(k.public_key()).serial_number(1)
            .not_valid_before(real.not_valid_before).not_valid_after(real.not_valid_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(k, hashes.SHA384()).public_bytes(serialization.Encoding.PEM))


def test_nitro(tmp):
    r = nitro("--at", "1745463600", "--json")
    out = json.loads(r.stdout)
    check(r.returncode == 0 and out["ok"] and out["timestamp"] == 1745463507690
          and out["module_id"] == "i-097399471f19dfec3-enc019665bb696251d0"
          and out["pcrs"]["0"].startswith("4135b030a352") and out["public_key"].startswith(SPKI_PREFIX),
          "real Nitro vector verifies at 2025-04-24 03:00 UTC")
    for at, why in (("1745463504", None), ("1745463503", "not yet valid"),
                    ("1745474307", None), ("1745474308", "expired"), (None, "expired")):
        r = nitro(*(["--at", at] if at else []))
        ok = r.returncode == 0 if why is None else (r.returncode == 1 and why in r.stderr)
        check(ok, "Nitro vector at %s: %s" % (at or "now", why or "valid"))

    fake_root = os.path.join(tmp, "fake_root.pem")
    with open(fake_root, "wb") as f:
        f.write(look_alike_root())
    r = nitro("--at", "1745463600", root=fake_root)
    check(r.returncode == 1 and "bad certificate signature" in r.stderr, "vector fails against a look-alike root")

    raw = bytearray(base64.b64decode(open(VECTOR).read()))
    raw[-1] ^= 1  # last byte of the COSE signature's s
    bad = os.path.join(tmp, "tampered.b64")
    with open(bad, "w") as f:
        f.write(base64.b64encode(bytes(raw)).decode())
    r = nitro("--at", "1745463600", doc=bad)
    check(r.returncode == 1 and "COSE signature" in r.stderr, "tampered COSE signature is rejected")
    tagged = os.path.join(tmp, "tagged.b64")
    with open(tagged, "w") as f:
        f.write(base64.b64encode(b"\xd2" + base64.b64decode(open(VECTOR).read())).decode())
    check(nitro("--at", "1745463600", doc=tagged).returncode == 0, "tag-18 COSE_Sign1 is accepted")


def test_signed_vector():
    v = json.load(open(os.path.join(DATA, "signed_response_vector.json")))
    canonical = json.dumps(v["data"], separators=(",", ":"), sort_keys=True)
    key = serialization.load_der_public_key(bytes.fromhex(v["public_key_der_hex"]))
    key.verify(bytes.fromhex(v["signature_der_hex"]), canonical.encode(), ec.ECDSA(hashes.SHA384()))
    check(canonical == v["canonical"], "real signed answer verifies over the compact sorted form")


def main():
    test_signed_vector()
    with tempfile.TemporaryDirectory() as tmp:
        test_peer(os.path.join(tmp, "talk.log"))
        test_encrypted()
        test_nitro(tmp)
    print("selftest: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
