#!/usr/bin/python3
"""The Python reference client, as the service's tutorial writes it: the
baseline of bench/compare.sh (a).

The tutorial's flow with the `cryptography` package, per chat: a new HTTP
connection (no keep-alive), ECDH of the client key (generated once, like the
tutorial) with the enclave key, HKDF-SHA256, AES-256-GCM with a 32-byte nonce,
POST /talk, then the signature check over json.dumps(data,
separators=(",", ":"), sort_keys=True) (the form the service signs) and the
check that the signed message is the prompt. Like the tutorial it does not
verify the attestation: it reads the key from the mock answer of
GET /attestation (once).

usage: python_client.py [--url URL] [--repeat N] "prompt"
environment: PLATFORM_API_KEY (required), PLATFORM, MODEL, TEE_TLS_URL

Prints the answer, or with --repeat N one summary line in tee-chat's form:
  repeat: N chats, N verified, all verified: yes, mean latency X.XXX ms
Exit codes as tee-chat's: 3 configuration, 4 transport, 5 attestation,
6 protocol, 7 service, 8 signature.
Standard library HTTP (http.client), which sends head and body in one write.
"""
import argparse
import http.client
import json
import os
import sys
import time
import urllib.parse

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class Failure(Exception):
    def __init__(self, code, text):
        super().__init__(text)
        self.code = code


class Client:
    def __init__(self, url, api_key, platform, model):
        u = urllib.parse.urlsplit(url)
        if u.scheme != "http":
            raise Failure(3, "only http:// URLs (local enclaves) are supported here")
        self.host, self.port = u.hostname, u.port or 80
        self.prefix = u.path.rstrip("/")
        self.api_key, self.platform, self.model = api_key, platform, model
        self.private_key = ec.generate_private_key(ec.SECP384R1())
        self.public_hex = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo).hex()
        self.server_key = None

    def request(self, method, path, body=None):
        """One exchange on a new connection, as requests.get/post without a session."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, self.prefix + path, body=body,
                         headers={"Content-Type": "application/json", "Accept": "application/json"})
            resp = conn.getresponse()
            return resp.status, resp.read()
        except OSError as e:
            raise Failure(4, f"{method} {path}: {e}")
        finally:
            conn.close()

    def attest(self):
        status, raw = self.request("GET", "/attestation")
        if status != 200:
            raise Failure(7, f"attestation: HTTP {status}")
        doc = json.loads(raw)["attestation_doc"]
        if not isinstance(doc, dict):
            raise Failure(5, "a real Nitro document: this client reads only mock answers (like the tutorial)")
        self.server_key = serialization.load_der_public_key(bytes.fromhex(doc["public_key"]))

    def chat(self, prompt):
        if self.server_key is None:
            self.attest()
        shared = self.private_key.exchange(ec.ECDH(), self.server_key)
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"encryption data").derive(shared)
        nonce = os.urandom(32)
        plaintext = json.dumps({"api_key": self.api_key, "message": prompt,
                                "platform": self.platform, "ai_model": self.model}).encode()
        data = AESGCM(key).encrypt(nonce, plaintext, None)
        body = json.dumps({"nonce": nonce.hex(), "public_key": self.public_hex, "data": data.hex()})
        status, raw = self.request("POST", "/talk", body.encode())
        if status != 200:
            raise Failure(7, f"talk: HTTP {status}")
        try:
            answer = json.loads(raw)
        except ValueError:
            raise Failure(6, "answer is not JSON")
        if "error" in answer:
            raise Failure(7, f"service error: {answer['error']}")
        signed = answer["data"]
        canonical = json.dumps(signed, separators=(",", ":"), sort_keys=True).encode()
        try:
            self.server_key.verify(bytes.fromhex(answer["sig"]), canonical, ec.ECDSA(hashes.SHA384()))
        except InvalidSignature:
            raise Failure(8, "answer signature does not verify")
        if signed.get("message") != prompt:
            raise Failure(8, "signed message differs from the prompt")
        return signed["response"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default=os.environ.get("TEE_TLS_URL") or "http://127.0.0.1:8000")
    p.add_argument("--repeat", type=int, default=0)
    p.add_argument("prompt")
    a = p.parse_args()
    api_key = os.environ.get("PLATFORM_API_KEY")
    if not api_key:
        print("python_client: PLATFORM_API_KEY is not set", file=sys.stderr)
        return 3
    client = Client(a.url, api_key, os.environ.get("PLATFORM", ""), os.environ.get("MODEL", ""))
    done, total = 0, 0.0
    try:
        if a.repeat <= 0:
            print(client.chat(a.prompt))
            return 0
        client.attest()
        for _ in range(a.repeat):
            start = time.perf_counter()
            client.chat(a.prompt)
            total += time.perf_counter() - start
            done += 1
        return 0
    except Failure as e:
        print(f"python_client: {e}", file=sys.stderr)
        return e.code
    finally:
        if a.repeat > 0:
            print(f"repeat: {a.repeat} chats, {done} verified, all verified: {'yes' if done == a.repeat else 'no'}, "
                  f"mean latency {1000 * total / done if done else 0:.3f} ms", flush=True)


if __name__ == "__main__":
    sys.exit(main())
