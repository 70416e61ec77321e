#!/usr/bin/python3
"""Python re-implementation of the development (mock) enclave chat service.

Speaks the wire protocol of /work/shared/PROTOCOL.md with the `cryptography`
package, exactly as the deployed Python services do, so that tests can prove
the C++ client byte-compatible with them.

Usage: enclave_peer.py [--port N] [--encrypt-response] [--log FILE]

After binding 127.0.0.1:N (0 = ephemeral) it prints one line `PORT <n>` and
serves until killed (SIGTERM / SIGINT exit cleanly with status 0).

Endpoints:
  GET  /attestation           -> {"attestation_doc": {"nonce", "public_key"}, "mock": true}
  POST /.well-known/attestation -> {"attestation_doc": <same mock object>, "public_key": hex}
  POST /talk                  -> {"sig": hex DER, "data": {...}} or {"error": "..."}
                                 (500 {"detail": "decryption failed"} when the
                                 client key cannot be loaded or decryption fails)
"""
import argparse
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PLATFORMS = ("openai", "anthropic", "gemini")
PRIVATE_KEY = ec.generate_private_key(ec.SECP384R1())
PUBLIC_DER = PRIVATE_KEY.public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
ARGS = None
LOG_LOCK = threading.Lock()


def derive_key(peer_public):
    shared = PRIVATE_KEY.exchange(ec.ECDH(), peer_public)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"encryption data").derive(shared)


def mock_attestation():
    return {"nonce": (b"tee-tls" + os.urandom(32)).hex(), "public_key": PUBLIC_DER.hex()}


def log_talk(spki, decrypted_ok, message):
    """One JSON line per /talk request; the api_key is never written."""
    if not ARGS.log:
        return
    line = json.dumps({"client_spki_len": None if spki is None else len(spki),
                       "client_spki_prefix_hex": None if spki is None else spki[:24].hex(),
                       "decrypted_ok": decrypted_ok, "message": message})
    with LOG_LOCK, open(ARGS.log, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def talk(req):
    """Returns (status, body) for a parsed /talk request body."""
    nonce_hex = req["nonce"]
    try:
        spki = bytes.fromhex(req["public_key"])
    except ValueError:
        spki = None
    if len(nonce_hex) < 8:
        log_talk(spki, False, None)
        return 200, {"error": "invalid nonce, must be at least 8 characters long"}
    try:
        client_pub = serialization.load_der_public_key(spki)
        key = derive_key(client_pub)
        plain = AESGCM(key).decrypt(bytes.fromhex(nonce_hex), bytes.fromhex(req["data"]), None)
        msg = json.loads(plain)
        if not isinstance(msg, dict):
            raise ValueError("plaintext is not a JSON object")
    except Exception:
        log_talk(spki, False, None)
        return 500, {"detail": "decryption failed"}
    message = msg.get("message")
    log_talk(spki, True, message)
    if not msg.get("api_key"):
        return 200, {"error": "invalid api_key"}
    if msg.get("platform") not in PLATFORMS:
        return 200, {"error": "invalid platform"}
    if not msg.get("ai_model"):
        return 200, {"error": "invalid ai model"}
    data = {"platform": msg["platform"], "ai_model": msg["ai_model"],
            "timestamp": int(time.time()), "message": message,
            "response": "Echo from Python peer: " + str(message)}
    canonical = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    sig = PRIVATE_KEY.sign(canonical, ec.ECDSA(hashes.SHA384()))
    if ARGS.encrypt_response:
        iv = os.urandom(32)
        data = {"encrypted_data": AESGCM(key).encrypt(iv, json.dumps(data).encode(), None).hex(),
                "nonce": iv.hex(), "public_key": PUBLIC_DER.hex()}
    return 200, {"sig": sig.hex(), "data": data}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep stdout/stderr quiet
        pass

    def send_json(self, status, body):
        try:  # what FastAPI's JSONResponse does: not canonical, UTF-8, insertion order
            raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
            ctype = "application/json"
        except UnicodeEncodeError:  # e.g. a lone surrogate in the message
            status, raw, ctype = 500, b"Internal Server Error", "text/plain; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

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

    def do_GET(self):
        if self.path == "/attestation":
            self.send_json(200, {"attestation_doc": mock_attestation(), "mock": True})
        else:
            self.send_json(404, {"detail": "Not Found"})

    def do_POST(self):
        body = self.read_body()
        if self.path == "/.well-known/attestation":
            self.send_json(200, {"attestation_doc": mock_attestation(),
                                 "public_key": PUBLIC_DER.hex()})
            return
        if self.path != "/talk":
            self.send_json(404, {"detail": "Not Found"})
            return
        try:
            req = json.loads(body)
            if not all(isinstance(req.get(k), str) for k in ("nonce", "public_key", "data")):
                raise ValueError
        except Exception:  # FastAPI/pydantic answers a malformed body with 422
            self.send_json(422, {"detail": "invalid request body"})
            return
        self.send_json(*talk(req))


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--encrypt-response", action="store_true")
    parser.add_argument("--log", metavar="FILE")
    ARGS = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    server.daemon_threads = True

    def stop(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("PORT", server.server_address[1], flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
