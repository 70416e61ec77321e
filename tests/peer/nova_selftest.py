#!/usr/bin/python3
"""Self test of the Python Nova peer (nova_peer.py) and client (nova_client.py).

Usage: /usr/bin/python3 nova_selftest.py      (exit 0 on success)

1. Known answers: the peer's and the client's functions reproduce
   /work/shared/vectors/nova_kat.json (a copy in tests/data/nova_kat.json)
   byte for byte: keys, ECDH, HKDF salt and keys, request and answer
   ciphertexts, the signed text, its EIP-191 Keccak digest, the RFC 6979
   low-s signature, the address, the answer body, the attestation user_data;
   plus the upstream vectors of PROTOCOL-NOVA.md section 12 (Keccak-256 of ""
   and "abc", the capsule's eth_key test, viem's signMessage("hello world")).
2. The peer over HTTP: the attestation document's format, its error answers,
   every /set-api-key and /talk error status and text, the replay cache,
   the lenient key parser, the ASCII-escaped plaintext, keep-alive.
3. nova_client.py against nova_peer.py: plain and unicode prompts, a
   restart, HKDF labels, PCR pins and roots; every --fault refused for its
   own reason, except v-27 and wrapper, which are accepted.
"""
import base64
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile

import cbor2
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import nova_client  # noqa: E402
import nova_peer  # noqa: E402

PY = "/usr/bin/python3"
KAT_FILES = [os.path.join(HERE, "..", "data", "nova_kat.json"), "/work/shared/vectors/nova_kat.json"]
API_KEY = "sk-nova-selftest-SECRET-0123456789"
LABEL = nova_peer.LABELS["capsule"]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def load_kat():
    for path in KAT_FILES:
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                return json.load(f)
    raise SystemExit("nova_kat.json not found in " + ", ".join(KAT_FILES))


def known_answers():
    K = load_kat()
    P, C = nova_peer, nova_client
    enclave = ec.derive_private_key(int(K["enclave_p384_d"], 16), ec.SECP384R1())
    client = ec.derive_private_key(int(K["client_p384_d"], 16), ec.SECP384R1())
    check(P.p384_from_label("nova-kat enclave p384").private_numbers() == enclave.private_numbers()
          and P.p384_from_label("nova-kat client p384").private_numbers() == client.private_numbers(),
          "KAT: test keys are int(SHA-384(label)) mod (n-1) + 1")
    check(P.sec1(enclave.public_key()).hex() == K["enclave_sec1"] and P.sec1(client.public_key()).hex() == K["client_sec1"],
          "KAT: SEC1 public keys")
    check(P.spki(enclave.public_key()).hex() == K["enclave_spki"] and P.spki(client.public_key()).hex() == K["client_spki"],
          "KAT: 120-byte SPKI DER")
    check(P.parse_client_key(bytes.fromhex(K["client_browser_der"])).public_numbers() == client.public_key().public_numbers(),
          "KAT: the lenient parser reads the frontend's malformed SPKI (OID length 08)")
    check(enclave.exchange(ec.ECDH(), client.public_key()).hex() == K["ecdh_x"], "KAT: ECDH x coordinate")
    req_nonce, resp_nonce = bytes.fromhex(K["req_nonce"]), bytes.fromhex(K["resp_nonce"])
    check(P.hkdf_salt(client.public_key(), enclave.public_key(), req_nonce).hex() == K["req_salt"]
          and P.hkdf_salt(enclave.public_key(), client.public_key(), req_nonce).hex() == K["req_salt"]
          and K["client_sorts_first"] is False, "KAT: salt = sorted SEC1 keys || nonce, from either side")
    req_key = P.message_key(client, enclave.public_key(), req_nonce, LABEL)
    check(req_key.hex() == K["req_key"] and P.message_key(enclave, client.public_key(), req_nonce, LABEL) == req_key
          and C.message_key(client, enclave.public_key(), req_nonce, LABEL) == req_key, "KAT: request HKDF key")
    ct = AESGCM(req_key).encrypt(req_nonce, K["req_plaintext"].encode(), None)
    check(ct.hex() == K["req_ciphertext_tag"], "KAT: request ciphertext || tag")
    body = json.dumps({"nonce": K["req_nonce"], "public_key": K["client_spki"], "data": ct.hex()}, separators=(",", ":"))
    check(body == K["req_body"], "KAT: request body (JSON.stringify form)")

    # The peer's decrypt path on the KAT request, with the KAT enclave key.
    service = P.Service(LABEL, None, 0, None)
    service.enclave.p384 = enclave
    got_client, text = service.decrypt(service.enclave, json.loads(K["req_body"]))
    check(text == K["req_plaintext"] and got_client.public_numbers() == client.public_key().public_numbers(),
          "KAT: the peer decrypts the request")

    response_data = {"ai_model": "gpt-4", "message": "What's the date today", "platform": "openai",
                     "response": "Echo: What's the date today \u00e9", "timestamp": 1767225600}
    check(P.canonical(response_data) == K["resp_plaintext"], "KAT: answer plaintext (sort_keys, compact, \\u00e9)")
    check(P.message_key(enclave, client.public_key(), resp_nonce, LABEL).hex() == K["resp_key"]
          and C.message_key(client, enclave.public_key(), resp_nonce, LABEL).hex() == K["resp_key"], "KAT: answer HKDF key")
    envelope = P.seal(enclave, client.public_key(), response_data, LABEL, resp_nonce)
    check(envelope == K["resp_envelope"], "KAT: answer envelope (encrypted_data, nonce, public_key)")
    check(P.canonical(envelope) == K["signed_message"] and len(K["signed_message"].encode()) == K["signed_message_len"],
          "KAT: signed text = canonical envelope JSON (634 bytes)")
    digest = P.eip191_digest(K["signed_message"])
    check(digest.hex() == K["eip191_hash"] and C.eip191_digest(K["signed_message"]) == digest, "KAT: EIP-191 Keccak-256 digest")
    eth = ec.derive_private_key(int(K["eth_secret"], 16), ec.SECP256K1())
    check(P.sec1(eth.public_key()).hex() == K["eth_pub"] and P.eth_address(eth.public_key()) == K["eth_addr"],
          "KAT: secp256k1 public key and address")
    sig = P.sign_envelope(eth, envelope)
    check(sig.hex() == K["sig"] and sig[:32].hex() == K["sig_r"] and sig[32:64].hex() == K["sig_s"] and sig[64] == K["sig_v"],
          "KAT: RFC 6979 low-s signature r || s || v, byte for byte")
    check(C.recover_address(digest, sig) == K["recovered"] == K["eth_addr"], "KAT: the client recovers the address")
    check(P.flask_jsonify({"data": envelope, "sig": sig.hex()}).decode() == K["answer_body"], "KAT: answer body (jsonify)")
    check(P.user_data_bytes(None, K["eth_addr"]).decode() == K["user_data"] and len(K["user_data"]) == 57,
          "KAT: attestation user_data bytes (57)")
    plain = AESGCM(bytes.fromhex(K["resp_key"])).decrypt(resp_nonce, bytes.fromhex(envelope["encrypted_data"]), None)
    check(plain.decode() == K["resp_plaintext"], "KAT: the answer decrypts to the plaintext")

    # Upstream vectors (section 12).
    check(P.keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
          and P.keccak256(b"abc").hex() == "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45",
          "upstream: Keccak-256 of \"\" and \"abc\" (original padding)")
    viem = ec.derive_private_key(0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80, ec.SECP256K1())
    viem_sig = P.sign_recoverable(viem, P.eip191_digest("hello world"))
    want = "a461f509887bd19e312c0c58467ce8ff8e300d3c1a90b608a760c5b80318eaf15fe57c96f9175d6cd4daad4663763baa7e78836e067d0163e9a2ccf2ff753f5b"
    check(P.eth_address(viem.public_key()) == "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
          and viem_sig.hex() == want + "00", "upstream: viem signMessage('hello world') (v 0 here, 27 in viem)")
    # The client's checks on the signature encoding.
    d = P.eip191_digest("hello world")
    addr = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
    v27 = viem_sig[:64] + bytes([27])
    check(C.recover_address(d, viem_sig) == addr and C.recover_address(d, v27) == addr, "client: v 0 and 27 recover")
    high = viem_sig[:32] + (P.N_K1 - int.from_bytes(viem_sig[32:64], "big")).to_bytes(32, "big") + bytes([1])
    for what, bad in (("high s", high), ("v 2", viem_sig[:64] + b"\x02"), ("r = 0", bytes(32) + viem_sig[32:]),
                      ("s = n", viem_sig[:32] + P.N_K1.to_bytes(32, "big") + b"\x00"), ("64 bytes", viem_sig[:64])):
        try:
            C.recover_address(d, bad)
            check(False, "client: refuses a signature with " + what)
        except C.Refused:
            check(True, "client: refuses a signature with " + what)
    flipped = bytearray(viem_sig)
    flipped[64] ^= 1
    check(C.recover_address(d, bytes(flipped)) != addr, "client: the other recovery id gives another address")


class Peer:
    def __init__(self, tmp, *args):
        self.root = os.path.join(tmp, "root-%d.pem" % id(self))
        self.proc = subprocess.Popen([PY, os.path.join(HERE, "nova_peer.py"), "--port", "0", "--root-out", self.root,
                                      *args], stdout=subprocess.PIPE, text=True)
        port_line, pcr_line = self.proc.stdout.readline().split(), self.proc.stdout.readline().split()
        assert port_line[0] == "PORT" and pcr_line[0] == "PCRS", (port_line, pcr_line)
        self.port = int(port_line[1])
        self.url = "http://127.0.0.1:%d" % self.port
        self.pcrs = dict(kv.split("=") for kv in pcr_line[1:])

    def pins(self):
        return [a for i, v in sorted(self.pcrs.items()) for a in ("--pcr", "%s=%s" % (i, v))]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=10)


def raw_post(peer, path, body, ctype="application/json", method="POST"):
    conn = http.client.HTTPConnection("127.0.0.1", peer.port, timeout=10)
    conn.request(method, path, body=body, headers={"Content-Type": ctype} if ctype else {})
    r = conn.getresponse()
    out = r.status, r.getheader("Content-Type"), r.read(), dict(r.getheaders())
    conn.close()
    return out


def session(peer, root):
    from cryptography import x509
    with open(root, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    return nova_client.Session(peer.url, cert, {int(k): bytes.fromhex(v) for k, v in peer.pcrs.items()},
                               LABEL, API_KEY, "openai", "gpt-4")


def peer_over_http(tmp):
    peer = Peer(tmp)
    try:
        # Attestation: AWS's format and order, null nonce, exact user_data.
        status, ctype, body, headers = raw_post(peer, "/.well-known/attestation", b"", ctype=None)
        check(status == 200 and ctype == "application/cbor" and headers.get("Access-Control-Allow-Origin") == "*",
              "attestation: empty body -> 200 application/cbor, CORS *")
        doc = cbor2.loads(body)
        check(isinstance(doc, list) and len(doc) == 4 and doc[0] == bytes.fromhex("a1013822") and doc[1] == {}
              and len(doc[3]) == 96, "attestation: untagged COSE_Sign1 [a1013822, {}, payload, 96-byte r||s]")
        p = cbor2.loads(doc[2])
        check(list(p) == ["module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle", "public_key",
                          "user_data", "nonce"], "attestation: payload fields in AWS's order")
        check(sorted(p["pcrs"]) == list(range(16)) and all(len(v) == 48 for v in p["pcrs"].values())
              and all(p["pcrs"][i].hex() == peer.pcrs[str(i)] for i in range(3)), "attestation: 16 PCRs, 0-2 as printed")
        check(p["nonce"] is None and len(p["user_data"]) == 57 and p["user_data"].startswith(b'{"eth_addr":"0x')
              and len(p["public_key"]) == 120 and len(p["cabundle"]) == 2, "attestation: null nonce, 57-byte user_data, SPKI")
        body = json.dumps({"nonce": base64.b64encode(b"\x01" * 32).decode(),
                           "user_data": {"a": 1, "eth_addr": "mine", "b": "\u00e9"}}).encode()
        status, _, raw, _ = raw_post(peer, "/.well-known/attestation", body)
        p = cbor2.loads(cbor2.loads(raw)[2])
        ud = p["user_data"].decode("utf-8")
        check(status == 200 and p["nonce"] == b"\x01" * 32 and ud.startswith('{"a":1,"eth_addr":"0x')
              and ud.endswith('","b":"\u00e9"}'), "attestation: nonce bytes; caller user_data kept, eth_addr overwritten in place")
        for what, req, want in (("unpadded base64 nonce", b'{"nonce":"AAE"}', "base64"),
                                ("non-canonical base64 nonce", b'{"nonce":"AAF="}', "base64"),
                                ("user_data not an object", b'{"user_data":[1]}', "user_data must be a JSON object"),
                                ("body not JSON", b"{nonce", "Invalid JSON in request body")):
            status, ctype, raw, _ = raw_post(peer, "/.well-known/attestation", req)
            check(status == 400 and ctype.startswith("text/plain") and want.encode() in raw, "attestation: %s -> 400 text" % what)
        status, _, _, _ = raw_post(peer, "/.well-known/attestation", None, method="GET")
        check(status == 405, "attestation: GET -> 405")
        status, _, _, headers = raw_post(peer, "/.well-known/attestation", None, method="OPTIONS")
        check(status == 204 and headers.get("Access-Control-Allow-Methods") == "POST, OPTIONS", "attestation: OPTIONS -> 204")

        # The encrypted endpoints.
        s = session(peer, peer.root)
        s.attest()
        st, ans = s.exchange("/talk", {"message": "hi", "ai_model": "gpt-4"})
        check(st == 400 and ans == {"error": "API key not set. Call /set-api-key first."}, "/talk before /set-api-key -> 400")
        for req, want in (({"api_key": "", "platform": "openai"}, "api_key is required"),
                          ({"api_key": "k", "platform": "anthropic"}, "Invalid platform: anthropic")):
            st, ans = s.exchange("/set-api-key", req)
            check(st == 400 and ans == {"error": want}, "/set-api-key -> 400 " + want)
        s.set_api_key()
        check(True, "/set-api-key: signed, encrypted, verified answer")
        for req, want in (({"message": "", "ai_model": "gpt-4"}, "message is required"),
                          ({"message": "hi", "ai_model": "gpt-2"}, "Invalid model: gpt-2")):
            st, ans = s.exchange("/talk", req)
            check(st == 400 and ans == {"error": want}, "/talk -> 400 " + want)
        # One request, sent twice: the second is refused by the replay cache.
        nonce = os.urandom(12)
        key = nova_client.message_key(s.key, s.enclave_key, nonce, LABEL)
        body = json.dumps({"nonce": nonce.hex(), "public_key": s.spki.hex(),
                           "data": AESGCM(key).encrypt(nonce, "{\"message\":\"h\u00e9 \U0001F600\"}".encode(), None).hex()})
        status, ctype, raw1, _ = raw_post(peer, "/talk", body.encode())
        check(status == 200 and ctype == "application/json" and raw1.endswith(b"}\n")
              and raw1 == nova_peer.flask_jsonify(json.loads(raw1)), "/talk: 200, Flask jsonify bytes with a trailing newline")
        env = json.loads(raw1)["data"]
        rn = bytes.fromhex(env["nonce"])
        plain = AESGCM(nova_client.message_key(s.key, s.enclave_key, rn, LABEL)).decrypt(
            rn, bytes.fromhex(env["encrypted_data"]), None)
        check(plain.isascii() and b'"response":"Echo: h\\u00e9 \\ud83d\\ude00 \\u00e9 \\u2713 \\ud83d\\ude00"' in plain
              and b'"ai_model":"gpt-4"' in plain, "/talk: plaintext ASCII with \\u escapes, ai_model defaults to gpt-4")
        status, _, raw2, _ = raw_post(peer, "/talk", body.encode())
        check(status == 400 and json.loads(raw2)["error"].startswith("Decryption failed")
              and "Nonce reuse detected" in json.loads(raw2)["error"], "/talk: a repeated (key, nonce) -> 400 Decryption failed")
        # The frontend's malformed SPKI, a compressed point, a 32-byte legacy nonce, 0x prefixes.
        point = s.key.public_key().public_bytes(nova_peer.serialization.Encoding.X962,
                                                nova_peer.serialization.PublicFormat.CompressedPoint)
        for what, der, n in (("frontend SPKI (OID length 08)", bytes.fromhex(
                                 "3076301006072a8648ce3d020106082b8104002203620004") + s.spki[24:], os.urandom(12)),
                             ("compressed point", bytes.fromhex("3046301006072a8648ce3d020106052b8104002203320002")[:-1]
                              + point, os.urandom(12)),
                             ("32-byte legacy nonce", s.spki, os.urandom(32))):
            key = nova_client.message_key(s.key, s.enclave_key, n[:12], LABEL)
            body = json.dumps({"nonce": "0x" + n.hex(), "public_key": "0x" + der.hex(),
                               "data": "0X" + AESGCM(key).encrypt(n[:12], b'{"message":"x"}', None).hex().upper()})
            status, _, raw, _ = raw_post(peer, "/talk", body.encode())
            check(status == 200 and "sig" in json.loads(raw), "/talk: accepted with " + what)
        def sealed_with(n):  # a request correctly encrypted under a nonce of the wrong length
            key = nova_client.message_key(s.key, s.enclave_key, n, LABEL)
            return json.dumps({"nonce": n.hex(), "public_key": s.spki.hex(),
                               "data": AESGCM(key).encrypt(n, b'{"message":"x"}', None).hex()})
        for what, body, ctype, want_status, want in (
                ("missing data", '{"nonce":"00","public_key":"00"}', "application/json", 400,
                 "nonce, public_key, and data are required"),
                ("bad hex", '{"nonce":"zz","public_key":"00","data":"00"}', "application/json", 400, "Decryption failed"),
                ("11-byte nonce", sealed_with(os.urandom(11)), "application/json", 400, "Decryption failed"),
                ("16-byte nonce", sealed_with(os.urandom(16)), "application/json", 400, "Decryption failed"),
                ("text/plain body", "{}", "text/plain", 500, "415")):
            status, ctype_out, raw, _ = raw_post(peer, "/talk", body.encode(), ctype=ctype)
            check(status == want_status and want in json.loads(raw)["error"],
                  "/talk: %s -> %d" % (what, want_status))
        # Keep-alive: two requests on one connection.
        conn = http.client.HTTPConnection("127.0.0.1", peer.port, timeout=10)
        statuses = []
        for _ in range(2):
            conn.request("GET", "/")
            r = conn.getresponse()
            statuses.append((r.status, r.version, json.loads(r.read())["enclave_address"] == s.eth_addr))
        conn.close()
        check(statuses == [(200, 11, True)] * 2, "GET / twice on one kept-alive HTTP/1.1 connection")
    finally:
        check(peer.stop() == 0, "the peer exits 0 on SIGTERM")


def client(peer, *prompts, root=None, pins=None, extra=()):
    env = dict(os.environ, PLATFORM_API_KEY=API_KEY, PLATFORM="openai", MODEL="gpt-4")
    r = subprocess.run([PY, os.path.join(HERE, "nova_client.py"), "--url", peer.url, "--root", root or peer.root,
                        *(peer.pins() if pins is None else pins), *extra, *prompts],
                       env=env, capture_output=True, text=True, timeout=60)
    check(API_KEY not in r.stdout + r.stderr, "the API key is not in the client's output")
    return r


def client_against_peer(tmp):
    unicode_prompt = "h\u00e9llo \u2713 \U0001F600"
    peer = Peer(tmp)
    try:
        r = client(peer, "What's the date today", unicode_prompt)
        lines = [json.loads(l) for l in r.stdout.splitlines()]
        check(r.returncode == 0 and [l["response"] for l in lines] == [
            "Echo: What's the date today \u00e9 \u2713 \U0001F600", "Echo: %s \u00e9 \u2713 \U0001F600" % unicode_prompt]
            and lines[0]["signer"] == lines[1]["signer"], "client vs peer: plain and unicode prompts verified")
        r = client(peer, "hi", pins=peer.pins()[:2] + ["--pcr", "1=" + "00" * 48])
        check(r.returncode == 1 and "FAIL: PCR1 differs" in r.stderr, "client: a wrong PCR pin is refused")
        other = Peer(tmp)
        try:
            r = client(peer, "hi", root=other.root)
            check(r.returncode == 1 and ("issuer name does not match" in r.stderr or "bad certificate signature" in r.stderr),
                  "client: another root is refused")
        finally:
            other.stop()
        r = client(peer, "hi", extra=("--label", "enclaver"))
        check(r.returncode == 1 and "Decryption failed" in r.stderr, "client: the enclaver label against a capsule peer fails")
    finally:
        peer.stop()

    peer = Peer(tmp, "--label", "enclaver")
    try:
        r = client(peer, "hi", extra=("--label", "enclaver"))
        check(r.returncode == 0, "client vs peer: enclaver-ecdh-aes256gcm-v1 label")
    finally:
        peer.stop()

    peer = Peer(tmp, "--fault", "restart-after-1")
    try:
        r = client(peer, "one", "two", "three")
        signers = [json.loads(l)["signer"] for l in r.stdout.splitlines()]
        check(r.returncode == 0 and len(signers) == 3 and len(set(signers)) == 3,
              "client re-attests after a restart (400 Decryption failed), new signer each time")
    finally:
        peer.stop()

    refusals = {
        # one byte of r changed: R is then no curve point, or another key recovers
        "forged-signature": ("signature r is not the x coordinate", "signature is by"),
        "other-address": "not the attested",
        "key-swap": "envelope key is not the attested key",
        "replay": "replayed",
        "high-s": "high s",
        "empty-signature": "empty signature",
        "wrong-nonce": "document nonce is not ours",
        "echo-mismatch": "message is not what was sent",
        "wrapped-timestamp": "outside the window",
    }
    for fault in list(refusals) + ["v-27", "wrapper"]:
        peer = Peer(tmp, "--fault", fault)
        try:
            r = client(peer, "same prompt", "same prompt")
            if fault in refusals:
                reasons = refusals[fault] if isinstance(refusals[fault], tuple) else (refusals[fault],)
                check(r.returncode == 1 and any(x in r.stderr for x in reasons) and r.stderr.startswith("FAIL: "),
                      "fault %s refused (%s)" % (fault, r.stderr.strip()[:90]))
            else:
                check(r.returncode == 0 and len(r.stdout.splitlines()) == 2, "fault %s accepted" % fault)
        finally:
            peer.stop()


def main():
    known_answers()
    with tempfile.TemporaryDirectory() as tmp:
        peer_over_http(tmp)
        client_against_peer(tmp)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("Nova peer self test: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
