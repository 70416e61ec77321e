#!/usr/bin/python3
"""Interop: an independent Python verifier accepts what `mock_enclave --nitro` serves.

Usage: test_nitro_interop.py MOCK_ENCLAVE

Starts `MOCK_ENCLAVE --nitro --port 0 --root-out TMP/root.pem --pcr ...`, reads
the port from its `listening on http://127.0.0.1:PORT (nitro)` line, fetches
GET /attestation, and runs peer/verify_nitro.py (next to this file) on the
document:
  - against the generated root: exit 0, and the reported public_key, PCRs,
    user_data and nonce equal those decoded here from the document;
  - against tests/data/aws_nitro_root.pem: rejected;
  - with one signature byte flipped: rejected;
  - at a time after the leaf's validity (--at): rejected.
Run with /usr/bin/python3 (cbor2 and cryptography). Exits non-zero with a
message on the first failure; the server is killed in any case.
"""
import base64
import hashlib
import json
import os
import re
import select
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
VERIFIER = os.path.join(HERE, "peer", "verify_nitro.py")
AWS_ROOT = os.path.join(HERE, "data", "aws_nitro_root.pem")
PCRS = {0: "11" * 48, 1: "22" * 48, 2: "33" * 48, 8: "44" * 48}


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def read_port(proc, timeout=30.0):
    """The port from the server's `listening on http://127.0.0.1:PORT (nitro)` line."""
    deadline = time.monotonic() + timeout
    buf = b""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Failure("mock_enclave exited with %s before listening; stderr: %s"
                          % (proc.returncode, proc.stderr.read().decode(errors="replace")))
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if not ready:
            continue
        chunk = os.read(proc.stdout.fileno(), 4096)
        buf += chunk
        m = re.search(rb"listening on http://127\.0\.0\.1:(\d+) \(nitro\)", buf)
        if m:
            port = int(m.group(1))
            check(0 < port < 65536, "mock_enclave printed an invalid port %d" % port)
            return port
    raise Failure("mock_enclave did not print its listening line within %ss (got %r)" % (timeout, buf))


def run_verifier(doc_file, root, *extra):
    cmd = [sys.executable, VERIFIER, doc_file, "--root", root, "--json", *extra]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    try:
        report = json.loads(r.stdout) if r.stdout.strip() else None
    except ValueError:
        raise Failure("verify_nitro.py printed no JSON: stdout=%r stderr=%r" % (r.stdout, r.stderr))
    return r.returncode, report, r.stderr.strip()


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    mock_enclave = sys.argv[1]
    try:
        import cbor2
    except ImportError:
        raise Failure("%s has no cbor2: run this test with /usr/bin/python3" % sys.executable)

    check(os.path.isfile(VERIFIER), "no verifier at %s" % VERIFIER)
    with tempfile.TemporaryDirectory(prefix="tee-nitro-interop-") as tmp:
        root_pem = os.path.join(tmp, "root.pem")
        cmd = [mock_enclave, "--nitro", "--port", "0", "--root-out", root_pem]
        for i, v in PCRS.items():
            cmd += ["--pcr", "%d=%s" % (i, v)]
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as e:
            raise Failure("cannot start %s: %s" % (mock_enclave, e))
        try:
            port = read_port(proc)
            check(os.path.isfile(root_pem), "mock_enclave wrote no root to --root-out")
            with urllib.request.urlopen("http://127.0.0.1:%d/attestation" % port, timeout=30) as resp:
                check(resp.status == 200, "GET /attestation answered HTTP %d" % resp.status)
                answer = json.loads(resp.read())
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

        check(isinstance(answer, dict), "the answer is not a JSON object")
        check(not answer.get("mock"), "mock_enclave --nitro answered a mock attestation: %r" % answer)
        b64 = answer.get("attestation_doc")
        check(isinstance(b64, str), "attestation_doc is not a base64 string: %r" % (b64,))

        # Decode it here, independently of both verifiers, to know what to expect.
        raw = base64.b64decode(b64, validate=True)
        msg = cbor2.loads(raw)
        if isinstance(msg, cbor2.CBORTag):
            msg = msg.value
        payload = cbor2.loads(msg[2])
        public_key = payload["public_key"]
        check(isinstance(public_key, bytes) and len(public_key) == 120, "public_key is not a 120-byte SPKI")
        check(payload["user_data"] == hashlib.sha256(public_key).digest(), "user_data != SHA-256(public_key)")
        check({i: v.hex() for i, v in payload["pcrs"].items()} == PCRS,
              "the document's PCRs are not those given with --pcr: %r" % payload["pcrs"])

        doc_file = os.path.join(tmp, "doc.b64")
        with open(doc_file, "w") as f:
            f.write(b64 + "\n")

        # 1. Accepted against the generated root, with the same key and PCRs.
        rc, report, err = run_verifier(doc_file, root_pem)
        check(rc == 0, "verify_nitro.py rejected mock_enclave's document (exit %d): %s" % (rc, err))
        check(report is not None and report.get("ok") is True, "verify_nitro.py report is not ok: %r" % report)
        check(report.get("public_key") == public_key.hex(),
              "public_key differs: verifier %r, attestation %r" % (report.get("public_key"), public_key.hex()))
        check(report.get("pcrs") == {str(i): v for i, v in sorted(PCRS.items())},
              "PCRs differ: verifier %r, expected %r" % (report.get("pcrs"), PCRS))
        check(report.get("user_data") == payload["user_data"].hex(), "user_data differs")
        check(report.get("nonce") == payload["nonce"].hex(), "nonce differs")
        check(report.get("module_id") == payload["module_id"], "module_id differs")
        check(report.get("timestamp") == payload["timestamp"], "timestamp differs")

        # 2. Rejected against the AWS Nitro root: it is not AWS's chain.
        rc, report, err = run_verifier(doc_file, AWS_ROOT)
        check(rc != 0, "verify_nitro.py accepted a test-PKI document against the AWS root")
        check(report is not None and report.get("ok") is False, "report after rejection is not ok=false: %r" % report)

        # 3. Rejected with a flipped signature byte (the signature is the last item).
        tampered = bytearray(raw)
        tampered[-1] ^= 1
        bad_file = os.path.join(tmp, "tampered.b64")
        with open(bad_file, "w") as f:
            f.write(base64.b64encode(bytes(tampered)).decode() + "\n")
        rc, report, err = run_verifier(bad_file, root_pem)
        check(rc != 0 and "signature" in err, "verify_nitro.py accepted a flipped signature (exit %d: %s)" % (rc, err))

        # 4. Rejected after the leaf's validity (test_pki leaves live ~3 hours).
        later = int(time.time()) + 30 * 24 * 3600
        rc, report, err = run_verifier(doc_file, root_pem, "--at", str(later))
        check(rc != 0 and "expired" in err, "verify_nitro.py accepted the document 30 days later (exit %d: %s)" % (rc, err))

    print("ok: verify_nitro.py accepts mock_enclave --nitro documents (port %d) and rejects the AWS root, "
          "a flipped signature and an expired leaf" % port)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        sys.exit(1)
