#!/usr/bin/python3
"""Independent verifier of AWS Nitro Enclaves attestation documents.

Usage: verify_nitro.py DOC_B64_FILE --root ROOT_PEM [--at UNIX_SECONDS] [--json]

Checks (PROTOCOL.md section 2): COSE_Sign1 structure (untagged or tag 18),
protected header {1: -35}, payload field types, the ES384 signature (raw r||s)
with the leaf certificate's key, the chain leaf -> cabundle reversed -> root
(signatures, issuer/subject names, CA flag of issuers, validity at --at,
default now), and user_data == SHA-256(public_key) when both are present.

Prints a summary (one JSON object with --json, `key: value` lines otherwise)
to stdout and exits 0 when valid; exits 1 with `FAIL: <reason>` on stderr
(and, with --json, a summary with "ok": false on stdout) when not.
"""
import argparse
import base64
import datetime
import hashlib
import json
import sys
import time

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils


class Invalid(Exception):
    pass


def require(cond, reason):
    if not cond:
        raise Invalid(reason)


def check_payload(p):
    require(isinstance(p, dict) and all(isinstance(k, str) for k in p), "payload is not a text-keyed map")
    require(isinstance(p.get("module_id"), str) and p["module_id"], "module_id missing or empty")
    require(p.get("digest") == "SHA384", "digest is not SHA384")
    ts = p.get("timestamp")
    require(isinstance(ts, int) and not isinstance(ts, bool) and ts >= 0, "timestamp is not a uint")
    pcrs = p.get("pcrs")
    require(isinstance(pcrs, dict) and pcrs, "pcrs missing")
    for i, v in pcrs.items():
        require(isinstance(i, int) and 0 <= i <= 31, "bad pcr index %r" % (i,))
        require(isinstance(v, bytes) and len(v) in (32, 48, 64), "bad pcr%s value" % i)
    require(isinstance(p.get("certificate"), bytes), "certificate is not a bstr")
    cab = p.get("cabundle")
    require(isinstance(cab, list) and cab and all(isinstance(c, bytes) for c in cab),
            "cabundle is not a non-empty array of bstr")
    for k in ("public_key", "user_data", "nonce"):
        require(p.get(k) is None or isinstance(p[k], bytes), "%s is not a bstr or null" % k)


def check_validity(cert, at, what):
    nb = cert.not_valid_before.replace(tzinfo=datetime.timezone.utc).timestamp()
    na = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc).timestamp()
    require(at >= nb, "%s not yet valid (notBefore %s)" % (what, cert.not_valid_before))
    require(at <= na, "%s expired (notAfter %s)" % (what, cert.not_valid_after))


def check_issued_by(cert, issuer, what):
    require(cert.issuer == issuer.subject, "%s: issuer name does not match" % what)
    try:
        bc = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
        require(bc.ca, "%s: issuer is not a CA" % what)
    except x509.ExtensionNotFound:
        raise Invalid("%s: issuer has no basicConstraints" % what)
    key = issuer.public_key()
    require(isinstance(key, ec.EllipticCurvePublicKey), "%s: issuer key is not EC" % what)
    try:
        key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    except Exception:
        raise Invalid("%s: bad certificate signature" % what)


def decode(doc_b64):
    """COSE_Sign1 structure and payload types; returns (protected, payload_raw, signature, payload)."""
    try:
        msg = cbor2.loads(base64.b64decode("".join(doc_b64.split()), validate=True))
    except Exception as e:
        raise Invalid("not base64 CBOR: %s" % e)
    if isinstance(msg, cbor2.CBORTag):
        require(msg.tag == 18, "unexpected CBOR tag %d" % msg.tag)
        msg = msg.value
    require(isinstance(msg, list) and len(msg) == 4, "not a COSE_Sign1 array of 4")
    protected, unprotected, payload_raw, signature = msg
    require(isinstance(protected, bytes) and isinstance(unprotected, dict)
            and isinstance(payload_raw, bytes) and isinstance(signature, bytes), "bad COSE_Sign1 field types")
    require(cbor2.loads(protected) == {1: -35}, "protected header is not {1: -35} (ES384)")
    payload = cbor2.loads(payload_raw)
    check_payload(payload)
    return protected, payload_raw, signature, payload


def verify(protected, payload_raw, signature, payload, root, at):
    """Signature, chain and user_data checks; raises Invalid with a reason."""
    leaf = x509.load_der_x509_certificate(payload["certificate"])
    leaf_key = leaf.public_key()
    require(isinstance(leaf_key, ec.EllipticCurvePublicKey) and leaf_key.curve.name == "secp384r1",
            "leaf key is not P-384")
    require(len(signature) == 96, "COSE signature is not 96 bytes r||s")
    der_sig = utils.encode_dss_signature(int.from_bytes(signature[:48], "big"),
                                         int.from_bytes(signature[48:], "big"))
    sig_structure = cbor2.dumps(["Signature1", protected, b"", payload_raw])
    try:
        leaf_key.verify(der_sig, sig_structure, ec.ECDSA(hashes.SHA384()))
    except Exception:
        raise Invalid("COSE signature does not verify with the leaf key")

    chain = [leaf] + [x509.load_der_x509_certificate(c) for c in reversed(payload["cabundle"])]
    for i, cert in enumerate(chain):
        check_validity(cert, at, "certificate %d (%s)" % (i, cert.subject.rfc4514_string()))
    for i in range(len(chain) - 1):
        check_issued_by(chain[i], chain[i + 1], "certificate %d" % i)
    top = chain[-1]
    if top.public_bytes(serialization.Encoding.DER) != root.public_bytes(serialization.Encoding.DER):
        check_validity(root, at, "root")
        check_issued_by(top, root, "top of cabundle")

    pk, ud = payload.get("public_key"), payload.get("user_data")
    if pk is not None and ud is not None:
        require(ud == hashlib.sha256(pk).digest(), "user_data != SHA-256(public_key)")


def summary(payload, ok, reason):
    out = {"ok": ok, "reason": reason}
    if payload:
        hx = lambda v: v.hex() if isinstance(v, bytes) else v
        out.update(module_id=payload.get("module_id"), timestamp=payload.get("timestamp"),
                   pcrs={str(k): hx(v) for k, v in sorted(payload.get("pcrs", {}).items())},
                   public_key=hx(payload.get("public_key")), user_data=hx(payload.get("user_data")),
                   nonce=hx(payload.get("nonce")))
    return out


def main():
    ap = argparse.ArgumentParser(description="Verify an AWS Nitro attestation document.")
    ap.add_argument("doc", metavar="DOC_B64_FILE")
    ap.add_argument("--root", required=True, metavar="ROOT_PEM")
    ap.add_argument("--at", type=int, default=None, metavar="UNIX_SECONDS")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    at = time.time() if args.at is None else args.at
    payload, reason = None, None
    try:
        with open(args.root, "rb") as f:
            root = x509.load_pem_x509_certificate(f.read())
        with open(args.doc) as f:
            doc = f.read()
        parts = decode(doc)
        payload = parts[3]
        verify(*parts, root, at)
    except Exception as e:  # Invalid, I/O, malformed certificate or CBOR
        reason = str(e) or type(e).__name__
    out = summary(payload, reason is None, reason)
    if args.json:
        print(json.dumps(out))
    elif reason is None:
        for k, v in out.items():
            print("%s: %s" % (k, json.dumps(v) if isinstance(v, dict) else v))
    if reason is not None:
        print("FAIL: " + reason, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
