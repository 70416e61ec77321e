"""Interop of the answer direction with Python's `cryptography`, over real HTTP.

tests/peer/enclave_peer.py --encrypt-response answers like the newer services:
"data" is {"encrypted_data", "nonce", "public_key"}, sealed by Python's AESGCM
with the key it derived (ECDH + HKDF) from our client key, and the signature
covers the plaintext object. Our client (tests/interop_client.cpp, a
tee::mock_client that records the wire) must open and verify those answers,
also with a fresh client key per chat and through the well-known endpoint.
Failing cases go through a tampering proxy written here: a flipped ciphertext
digit, another enclave key named in the answer, a missing field. Run with
/usr/bin/python3 (cryptography is needed by the peer and here).

usage: test_interop_encrypted.py INTEROP_CLIENT PEER_DIR
"""
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

driver, peer_dir = sys.argv[1], sys.argv[2]
API_KEY = "sk-interop-encrypted-SECRET-42"
SPKI_PREFIX = "3076301006072a8648ce3d020106052b8104002203620004"
failures = []


def check(cond, what, detail=""):
    print(("ok   " if cond else "FAIL ") + what + ("" if cond or not detail else f"\n     {detail[:600]!r}"))
    if not cond:
        failures.append(what)


def start_peer(*flags, log=None):
    args = [sys.executable, os.path.join(peer_dir, "enclave_peer.py"), "--port", "0", *flags]
    if log:
        args += ["--log", log]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    port = int(p.stdout.readline().split()[1])
    return p, port


def run(url, prompts, *flags):
    """Runs the driver; returns (exit code, [per-prompt results], [requests], raw output)."""
    env = dict(os.environ, PLATFORM_API_KEY=API_KEY, PLATFORM="openai", MODEL="gpt-4")
    r = subprocess.run([driver, url, *flags, *prompts], env=env, capture_output=True, text=True, timeout=60)
    check(API_KEY not in r.stdout + r.stderr, "API key absent from the driver's output")
    lines = [json.loads(l) for l in r.stdout.split("\n") if l.strip()]  # not splitlines(): U+2028
    if not lines or "requests" not in lines[-1]:
        check(False, f"driver output is complete (rc={r.returncode}, stderr={r.stderr.strip()!r})")
        return r.returncode, [], [], r.stdout
    return r.returncode, lines[:-1], lines[-1]["requests"], r.stdout


# A proxy in front of the peer that edits the "data" of /talk answers with
# TAMPER (a function of the parsed data object, or None to pass through).
TAMPER = {"f": None}
UPSTREAM = {"port": 0}


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def forward(self, method):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        conn = http.client.HTTPConnection("127.0.0.1", UPSTREAM["port"], timeout=30)
        conn.request(method, self.path, body=body if method == "POST" else None,
                     headers={"Content-Type": "application/json"})
        res = conn.getresponse()
        status, raw = res.status, res.read()
        conn.close()
        if self.path == "/talk" and status == 200 and TAMPER["f"]:
            answer = json.loads(raw)
            if isinstance(answer.get("data"), dict):
                TAMPER["f"](answer["data"])
            raw = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):
        self.forward("GET")

    def do_POST(self):
        self.forward("POST")


PROMPTS = ["BTC price right now", "h\u00e9llo \"w\u00f6rld\" \\ / \n\t \u2028 \U0001F600 \u4e2d"]

with tempfile.TemporaryDirectory() as tmp:
    log = os.path.join(tmp, "peer.log")
    enc_peer, enc_port = start_peer("--encrypt-response", log=log)
    plain_peer, plain_port = start_peer()
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    proxy.daemon_threads = True
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    UPSTREAM["port"] = enc_port
    enc_url = f"http://127.0.0.1:{enc_port}"
    proxy_url = f"http://127.0.0.1:{proxy.server_address[1]}"
    try:
        # --- passing: Python-encrypted answers opened and verified
        rc, results, requests, out = run(enc_url, PROMPTS)
        check(rc == 0, f"chats with the encrypting Python peer succeed (rc={rc})", out)
        for prompt, res in zip(PROMPTS, results):
            check(res.get("ok") is True, f"chat verified: {res.get('what', '')}")
            check(res.get("answer_encrypted") is True, "the peer's answer was in the encrypted form")
            check(res.get("message") == prompt, "the signed message (decrypted by us) is the prompt")
            check(res.get("response") == "Echo from Python peer: " + prompt,
                  "the response decrypted from Python's AESGCM is exact")
        check(len(results) == 2 and results[0].get("request_public_key") == results[1].get("request_public_key"),
              "one client key for both chats by default")
        check(requests == ["GET /attestation", "POST /talk", "POST /talk"], f"legacy endpoint used: {requests}")

        # --- passing: a fresh client key per chat, and the well-known endpoint
        rc, results, requests, out = run(enc_url, PROMPTS + ["third"], "--per-request", "--endpoint", "well_known")
        check(rc == 0, f"per-request keys + well-known against the Python peer succeed (rc={rc})", out)
        keys = [r.get("request_public_key") for r in results]
        check(len(keys) == 3 and len(set(keys)) == 3, "each chat carried a different client key")
        check(all(k and k.startswith(SPKI_PREFIX) and len(k) == 240 for k in keys),
              "each per-request key is the 120-byte SPKI Python loads")
        check(all(r.get("ok") and r.get("answer_encrypted") for r in results),
              "every answer encrypted to its own request key opened and verified")
        check(requests[0] == "POST /.well-known/attestation" and "GET /attestation" not in requests,
              f"the well-known endpoint was used (Python's advertised hex DER key matched): {requests}")

        # --- control: the detection of the encrypted form is not vacuous
        rc, results, _, out = run(f"http://127.0.0.1:{plain_port}", PROMPTS[:1])
        check(rc == 0 and results and results[0].get("answer_encrypted") is False,
              "a peer without --encrypt-response answers in clear, and verifies", out)

        # --- passing through the proxy untouched
        rc, results, _, out = run(proxy_url, PROMPTS[:1])
        check(rc == 0 and results and results[0].get("answer_encrypted") is True,
              "the pass-through proxy changes nothing", out)

        # --- failing: tampered encrypted answers
        other = ec.generate_private_key(ec.SECP384R1()).public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo).hex()

        def flip(d):
            ct = d["encrypted_data"]
            d["encrypted_data"] = ct[:10] + ("1" if ct[10] == "0" else "0") + ct[11:]

        def drop_nonce(d):
            del d["nonce"]

        def odd_hex(d):
            d["encrypted_data"] += "0"

        def other_key(d):
            d["public_key"] = other

        cases = [
            (flip, "signature_error", "does not decrypt with this exchange's key"),
            (other_key, "signature_error", "names an enclave key other than the attested one"),
            (drop_nonce, "protocol_error", "encrypted answer has no \"nonce\" string"),
            (odd_hex, "protocol_error", "encrypted answer \"encrypted_data\" is not hex"),
        ]
        for tamper, want_type, fragment in cases:
            TAMPER["f"] = tamper
            rc, results, _, out = run(proxy_url, PROMPTS[:1])
            res = results[0] if results else {}
            check(rc == 1 and res.get("ok") is False, f"{tamper.__name__}: the chat fails (rc={rc})")
            check(res.get("error_type") == want_type, f"{tamper.__name__}: {want_type} (got {res.get('error_type')})")
            check(fragment in res.get("what", ""), f"{tamper.__name__}: message has {fragment!r}: {res.get('what')!r}")
        TAMPER["f"] = None

        lines = [json.loads(l) for l in open(log, encoding="utf-8")]
        check(len(lines) >= 8, f"the encrypting peer logged our requests ({len(lines)})")
        check(all(l["decrypted_ok"] for l in lines), "Python decrypted every request (per-client and per-request keys)")
        check(API_KEY not in open(log, encoding="utf-8").read(), "the peer log holds no API key")
    finally:
        proxy.shutdown()
        for p in (enc_peer, plain_peer):
            p.terminate()
            p.wait(timeout=10)

if failures:
    sys.exit(f"{len(failures)} encrypted-answer interop check(s) failed")
print("encrypted answers from Python cryptography: all checks passed")
