#!/usr/bin/python3
"""Independent verifier of tee-client receipts and receipt logs (docs/receipts.md).

Usage: verify_receipt.py RECEIPT_JSON --root ROOT_PEM [--pcr N=HEX ...]
       verify_receipt.py --log LOG_JSONL --root ROOT_PEM [--pcr N=HEX ...]

Written from the receipt format alone, with Python's cryptography and cbor2,
sharing no code with the C++ verifier. For each receipt:
  - receipt_version 1; a mock attestation is refused (it proves nothing);
  - the Nitro document (verify_nitro.py next to this file: COSE ES384 by the
    leaf, the chain to ROOT_PEM) at the document's own signed timestamp;
    user_data == SHA-256(public_key), both present; the --pcr pins;
  - a well-known answer's public_key is the document's key;
  - the answer: a plain answer's data equals signed_data; an encrypted
    envelope names the document's key;
  - the ECDSA P-384/SHA-384 signature "sig" over
    json.dumps(signed_data, separators=(",", ":"), sort_keys=True) with the
    document's key; signed_data.message is a string.
For a log: every line is {"prev", "receipt"}, prev is the SHA-256 hex of the
previous line's bytes (of b"" for the first), and every receipt verifies.

Prints `OK ...` and exits 0, or prints `FAIL: <reason>` (for a log:
`FAIL: line N: <reason>`) to stderr and exits 1.
"""
import argparse
import hashlib
import json
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography import x509

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify_nitro  # noqa: E402


class Invalid(Exception):
    pass


def require(cond, reason):
    if not cond:
        raise Invalid(reason)


def point(key_bytes):
    """The uncompressed P-384 point of a DER SPKI or a raw point."""
    if len(key_bytes) == 97 and key_bytes[0] == 4:
        return key_bytes
    key = serialization.load_der_public_key(key_bytes)
    require(isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp384r1", "key is not P-384")
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def verify_receipt(r, root, pcrs):
    require(isinstance(r, dict), "receipt is not an object")
    require(r.get("receipt_version") == 1, "receipt_version is not 1")
    att, answer, signed = r.get("attestation"), r.get("answer"), r.get("signed_data")
    require(isinstance(att, dict) and isinstance(answer, dict) and isinstance(signed, dict),
            "attestation, answer or signed_data is not an object")
    require(not att.get("mock") and isinstance(att.get("attestation_doc"), str), "mock attestation: proves nothing")

    protected, payload_raw, signature, payload = verify_nitro.decode(att["attestation_doc"])
    at = payload["timestamp"] / 1000.0
    try:
        verify_nitro.verify(protected, payload_raw, signature, payload, root, at)
    except verify_nitro.Invalid as e:
        raise Invalid("attestation: %s" % e)
    pk, ud = payload.get("public_key"), payload.get("user_data")
    require(pk is not None and ud == hashlib.sha256(pk).digest(), "user_data does not bind the public_key")
    for i, want in pcrs.items():
        require(payload["pcrs"].get(i, b"").hex() == want.lower(), "PCR%d differs from the pin" % i)
    enclave_point = point(pk)
    if "public_key" in att:
        require(point(bytes.fromhex(att["public_key"])) == enclave_point,
                "well-known public_key is not the attested key")

    data = answer.get("data")
    require(isinstance(data, dict) and isinstance(answer.get("sig"), str), "answer has no sig and data")
    if "encrypted_data" in data:
        require(point(bytes.fromhex(data.get("public_key", ""))) == enclave_point,
                "encrypted answer names another key")
    else:
        require(data == signed, "answer data differs from signed_data")
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP384R1(), enclave_point)
    canonical = json.dumps(signed, separators=(",", ":"), sort_keys=True).encode()
    try:
        key.verify(bytes.fromhex(answer["sig"]), canonical, ec.ECDSA(hashes.SHA384()))
    except (InvalidSignature, ValueError):
        raise Invalid("answer signature does not verify with the attested key")
    require(isinstance(signed.get("message"), str), "signed_data has no message")
    return signed


def verify_log(path, root, pcrs):
    with open(path, "rb") as f:
        content = f.read()
    prev = hashlib.sha256(b"").hexdigest()
    n = 0
    lines = content.split(b"\n")
    require(lines[-1] == b"", "line %d: no newline at its end" % len(lines))
    for n, line in enumerate(lines[:-1], 1):
        try:
            entry = json.loads(line)
            require(isinstance(entry, dict), "not an object")
            require(entry.get("prev") == prev, "prev is not the SHA-256 of the line before")
            verify_receipt(entry.get("receipt"), root, pcrs)
        except (Invalid, verify_nitro.Invalid, ValueError) as e:
            raise Invalid("line %d: %s" % (n, e))
        prev = hashlib.sha256(line).hexdigest()
    return n, prev


def main():
    ap = argparse.ArgumentParser(description="Verify a tee-client receipt or receipt log.")
    ap.add_argument("receipt", nargs="?")
    ap.add_argument("--log")
    ap.add_argument("--root", required=True)
    ap.add_argument("--pcr", action="append", default=[])
    args = ap.parse_args()
    pcrs = {int(p.split("=", 1)[0]): p.split("=", 1)[1] for p in args.pcr}
    try:
        with open(args.root, "rb") as f:
            root = x509.load_pem_x509_certificate(f.read())
        if args.log:
            n, head = verify_log(args.log, root, pcrs)
            print("OK log: %d receipts, head %s" % (n, head))
        else:
            with open(args.receipt) as f:
                signed = verify_receipt(json.load(f), root, pcrs)
            print("OK receipt: %s" % json.dumps(signed["message"]))
    except (Invalid, verify_nitro.Invalid, ValueError, KeyError, TypeError) as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
