#!/usr/bin/python3
"""Interop: an independent Python Nova client talks to `mock_enclave --protocol nova`.

Usage: test_nova_sim_interop.py MOCK_ENCLAVE

Written from PROTOCOL-NOVA.md with Python's `cryptography` (ECDH P-384,
HKDF-SHA256, AES-256-GCM, the COSE ES384 signature), cbor2, and Keccak-256 and
secp256k1 recovery in plain Python integers below (nothing shared with the C++
code). Against `MOCK_ENCLAVE --protocol nova --nitro --port 0 --root-out ROOT`:
  - the document is raw CBOR (application/cbor), COSE-signed by its leaf, whose
    cabundle starts with ROOT; nonce = ours; public_key = a 120-byte P-384 SPKI;
    user_data = exactly {"eth_addr":"0x<40 lowercase hex>"};
  - /set-api-key and /talk (a unicode prompt) answer Flask's jsonify form of
    {data: {encrypted_data, nonce, public_key}, sig}; public_key = the attested
    key; the EIP-191 signature (v in {0,1}, low s) recovers to eth_addr; the
    plaintext is json.dumps(sort_keys, compact, ensure_ascii) of the echo;
  - a repeated request (same key and nonce) is refused with 400 Decryption failed;
  - --nova-label enclaver: only the enclaver label opens the answers;
  - --nova-fault high-s / v-27: s above n/2 / v = 27 or 28, as named.
Run with /usr/bin/python3 (cbor2, cryptography). Exits non-zero with a message
on the first failure; the servers are killed in any case.
"""
import base64
import http.client
import json
import os
import re
import select
import subprocess
import sys
import tempfile
import time

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


# ---- Keccak-256 (original padding 0x01) and secp256k1 public-key recovery
RC = [0x0000000000000001,0x0000000000008082,0x800000000000808A,0x8000000080008000,0x000000000000808B,0x0000000080000001,0x8000000080008081,0x8000000000008009,0x000000000000008A,0x0000000000000088,0x0000000080008009,0x000000008000000A,0x000000008000808B,0x800000000000008B,0x8000000000008089,0x8000000000008003,0x8000000000008002,0x8000000000000080,0x000000000000800A,0x800000008000000A,0x8000000080008081,0x8000000000008080,0x0000000080000001,0x8000000080008008]
ROT = [[0,36,3,41,18],[1,44,10,45,2],[62,6,43,15,61],[28,55,25,21,56],[27,20,39,8,14]]
M = (1<<64)-1
def rol(x,n): return ((x<<n)|(x>>(64-n)))&M if n else x
def keccak_f(A):
    for rc in RC:
        C=[A[x][0]^A[x][1]^A[x][2]^A[x][3]^A[x][4] for x in range(5)]
        D=[C[(x-1)%5]^rol(C[(x+1)%5],1) for x in range(5)]
        A=[[A[x][y]^D[x] for y in range(5)] for x in range(5)]
        B=[[0]*5 for _ in range(5)]
        for x in range(5):
            for y in range(5): B[y][(2*x+3*y)%5]=rol(A[x][y],ROT[x][y])
        A=[[B[x][y]^((~B[(x+1)%5][y])&B[(x+2)%5][y]) for y in range(5)] for x in range(5)]
        A[0][0]^=rc
    return A
def keccak256(data):
    rate=136; p=bytearray(data)+b'\x01'
    while len(p)%rate: p+=b'\x00'
    p[-1]|=0x80
    A=[[0]*5 for _ in range(5)]
    for off in range(0,len(p),rate):
        blk=p[off:off+rate]
        for i in range(rate//8):
            A[i%5][i//5]^=int.from_bytes(blk[8*i:8*i+8],'little')
        A=keccak_f(A)
    out=b''.join(A[i%5][i//5].to_bytes(8,'little') for i in range(4))
    return out
assert keccak256(b"").hex()=='c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470'
P=2**256-2**32-977; N=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G=(0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)
def add(a,b):
    if a is None: return b
    if b is None: return a
    if a[0]==b[0] and (a[1]+b[1])%P==0: return None
    l=((3*a[0]*a[0])*pow(2*a[1],-1,P) if a==b else (b[1]-a[1])*pow(b[0]-a[0],-1,P))%P
    x=(l*l-a[0]-b[0])%P; return (x,(l*(a[0]-x)-a[1])%P)
def mul(k,pt):
    r=None
    while k:
        if k&1: r=add(r,pt)
        pt=add(pt,pt); k>>=1
    return r
def recover(h,sig):
    r=int.from_bytes(sig[:32],'big'); s=int.from_bytes(sig[32:64],'big'); v=sig[64]
    if v>=27: v-=27
    check(v in (0, 1) and 0 < r < N and 0 < s <= N // 2, "signature form: v %d, r and s in range, low s" % v)
    y2=(r**3+7)%P; y=pow(y2,(P+1)//4,P)
    if y%2!=v: y=P-y
    R=(r,y); e=int.from_bytes(h,'big')
    Q=mul(pow(r,-1,N), add(mul(s,R), mul((-e)%N,G)))
    return '0x'+keccak256(Q[0].to_bytes(32,'big')+Q[1].to_bytes(32,'big'))[12:].hex()



def canon(o):
    return json.dumps(o, sort_keys=True, separators=(",", ":"))


def start(mock, *args):
    proc = subprocess.Popen([mock, "--protocol", "nova", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    buf = b""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Failure("mock_enclave exited with %s: %s" % (proc.returncode, proc.stderr.read()))
        if select.select([proc.stdout], [], [], 0.2)[0]:
            buf += os.read(proc.stdout.fileno(), 4096)
            m = re.search(rb"listening on http://127\.0\.0\.1:(\d+) \((nitro|mock), nova\)", buf)
            if m:
                return proc, int(m.group(1))
    proc.kill()
    raise Failure("mock_enclave did not print its listening line (got %r)" % buf)


class Client:
    def __init__(self, port, label=b"capsule-ecdh-aes256gcm-v1", root_der=None):
        self.port, self.label = port, label
        nonce = os.urandom(32)
        st, ctype, body = self.post("/.well-known/attestation", json.dumps({"nonce": base64.b64encode(nonce).decode()}))
        check(st == 200, "attestation status %d" % st)
        if root_der is not None:
            check(ctype == "application/cbor", "attestation Content-Type %r" % ctype)
            cose = cbor2.loads(body)
            check(isinstance(cose, list) and len(cose) == 4, "document is not an untagged COSE_Sign1 array")
            doc = cbor2.loads(cose[2])
            leaf = x509.load_der_x509_certificate(doc["certificate"])
            tbs = cbor2.dumps(["Signature1", cose[0], b"", cose[2]])
            sig = cose[3]
            leaf.public_key().verify(encode_dss_signature(int.from_bytes(sig[:48], "big"), int.from_bytes(sig[48:], "big")),
                                     tbs, ec.ECDSA(hashes.SHA384()))
            check(doc["cabundle"][0] == root_der, "cabundle does not start with the --root-out root")
            check(doc["nonce"] == nonce, "document nonce is not ours")
            self.spki, user_data = doc["public_key"], doc["user_data"]
        else:
            j = json.loads(body)["attestation_doc"]
            check(bytes.fromhex(j["nonce"]) == nonce, "mock document nonce is not ours")
            self.spki, user_data = bytes.fromhex(j["public_key"]), j["user_data"].encode()
        check(len(self.spki) == 120 and self.spki.hex().startswith("3076301006072a8648ce3d020106052b8104002203620004"),
              "public_key is not a 120-byte P-384 SPKI")
        m = re.fullmatch(rb'\{"eth_addr":"(0x[0-9a-f]{40})"\}', user_data)
        check(m is not None, "user_data is %r" % user_data)
        self.addr = m.group(1).decode()
        enc = serialization.load_der_public_key(self.spki)
        self.me = ec.generate_private_key(ec.SECP384R1())
        self.mypub = self.me.public_key().public_bytes(serialization.Encoding.DER,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo)
        a = self.me.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        b = enc.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        self.points = min(a, b) + max(a, b)
        self.z = self.me.exchange(ec.ECDH(), enc)

    def post(self, path, body):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        return r.status, r.getheader("Content-Type"), r.read()

    def key(self, nonce, label=None):
        return HKDF(hashes.SHA256(), 32, self.points + nonce, label or self.label).derive(self.z)

    def request(self, obj, nonce=None):
        n = nonce or os.urandom(12)
        ct = AESGCM(self.key(n)).encrypt(n, json.dumps(obj, ensure_ascii=False).encode(), None)
        return json.dumps({"nonce": n.hex(), "public_key": self.mypub.hex(), "data": ct.hex()})

    def call(self, path, obj):
        st, _, b = self.post(path, self.request(obj))
        check(st == 200, "%s: status %d %r" % (path, st, b))
        j = json.loads(b)
        check(b == (canon(j) + "\n").encode(), "answer is not Flask's jsonify form")
        d = j["data"]
        check(sorted(d) == ["encrypted_data", "nonce", "public_key"], "envelope members %r" % sorted(d))
        check(bytes.fromhex(d["public_key"]) == self.spki, "envelope public_key is not the attested key")
        t = canon(d).encode()
        h = keccak256(b"\x19Ethereum Signed Message:\n" + str(len(t)).encode() + t)
        sig = bytes.fromhex(j["sig"])
        check(len(sig) == 65, "signature is not 65 bytes")
        check(recover(h, sig) == self.addr, "signature does not recover to the attested eth_addr")
        rn = bytes.fromhex(d["nonce"])
        pt = AESGCM(self.key(rn)).decrypt(rn, bytes.fromhex(d["encrypted_data"]), None)
        check(pt == canon(json.loads(pt)).encode(), "plaintext is not json.dumps(sort_keys, compact, ASCII)")
        return json.loads(pt), sig


def main():
    mock = sys.argv[1]
    procs = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root_pem = os.path.join(tmp, "root.pem")
            proc, port = start(mock, "--nitro", "--root-out", root_pem)
            procs.append(proc)
            root_der = x509.load_pem_x509_certificate(open(root_pem, "rb").read()).public_bytes(serialization.Encoding.DER)
            c = Client(port, root_der=root_der)
            ans, _ = c.call("/set-api-key", {"api_key": "sk-test", "platform": "openai"})
            check(ans["message"] == "API key cached successfully" and ans["status"] == "success", "set-api-key %r" % ans)
            prompt = "h\u00e9llo \U0001f600"
            ans, sig = c.call("/talk", {"message": prompt, "ai_model": "gpt-4o"})
            check(ans["message"] == prompt and ans["ai_model"] == "gpt-4o" and ans["platform"] == "openai",
                  "talk echo %r" % ans)
            check(abs(ans["timestamp"] - time.time()) < 5, "talk timestamp %r" % ans["timestamp"])
            check(sig[64] in (0, 1), "v is %d, not 0/1" % sig[64])
            body = c.request({"message": "once", "ai_model": "gpt-4"})
            check(c.post("/talk", body)[0] == 200, "a fresh request refused")
            st, _, b = c.post("/talk", body)
            check(st == 400 and json.loads(b)["error"].startswith("Decryption failed"), "a replayed request: %d %r" % (st, b))

            proc, port = start(mock, "--nova-label", "enclaver")
            procs.append(proc)
            wrong = Client(port)
            st, _, b = wrong.post("/set-api-key", wrong.request({"api_key": "k"}))
            check(st == 400 and json.loads(b)["error"].startswith("Decryption failed"), "capsule label accepted by enclaver")
            right = Client(port, label=b"enclaver-ecdh-aes256gcm-v1")
            right.call("/set-api-key", {"api_key": "k"})

            proc, port = start(mock, "--nova-fault", "v-27")
            procs.append(proc)
            c = Client(port)
            _, sig = c.call("/set-api-key", {"api_key": "k"})
            check(sig[64] in (27, 28), "v-27: v is %d" % sig[64])

            proc, port = start(mock, "--nova-fault", "high-s")
            procs.append(proc)
            c = Client(port)
            try:
                c.call("/set-api-key", {"api_key": "k"})
                raise Failure("high-s: a high-s signature passed")
            except Failure as e:
                check("low s" in str(e), "high-s: refused for another reason: %s" % e)
        print("nova interop OK")
        return 0
    except Failure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    finally:
        for p in procs:
            p.kill()
            p.wait()


if __name__ == "__main__":
    sys.exit(main())
