#!/usr/bin/python3
"""Receipts end to end: tee-chat writes them, the independent Python verifier
(peer/verify_receipt.py) and `tee-chat verify-receipt` / `verify-log` check them.

Usage: test_receipts_cli.py TEE_CHAT MOCK_ENCLAVE

Against `mock_enclave --nitro` (plain and --encrypt-response; legacy and
well-known endpoints), with PLATFORM_API_KEY set:
  - `tee-chat --receipt R --receipt-log L` writes a receipt and a log line;
    the API key is in neither (plain, hex, base64) nor in any output;
  - the Python verifier and tee-chat verify-receipt accept the receipt, with
    the enclave's PCRs pinned; a wrong PCR pin exits 5, AWS's root exits 5,
    an edited response exits 8 (and the Python verifier refuses it too);
  - two tee-chat processes appending to one log at once: the log verifies
    (tee-chat and Python), with every chat in it;
  - a removed or swapped line: verify-log exits 8 and names the line, and the
    Python verifier names the same line;
  - a mock receipt: refused (5) unless --allow-mock, then NOT verified.
Run with /usr/bin/python3 (cbor2, cryptography).
"""
import base64
import json
import os
import re
import select
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
VERIFIER = os.path.join(HERE, "peer", "verify_receipt.py")
SECRET = "sk-receipts-cli-SECRET-0123456789"
PCR_PINS = ["--pcr", "0=" + "a0" * 48, "--pcr", "1=" + "a1" * 48, "--pcr", "2=" + "a2" * 48]


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def key_forms(key):
    forms = [key, key.encode().hex(), key.encode().hex().upper()]
    for shift in range(3):
        b64 = base64.b64encode(b"\0" * shift + key.encode()).decode()
        skip = 0 if shift == 0 else shift + 1
        forms.append(b64[skip:(len(key) + shift) // 3 * 4 - 4])
    return forms


def no_key(text, where):
    for f in key_forms(SECRET):
        check(f not in text, "the API key appears in " + where)


def start_enclave(mock_enclave, tmp, *flags):
    root = os.path.join(tmp, "root-%d.pem" % len(os.listdir(tmp)))
    cmd = [mock_enclave, "--port", "0"] + list(flags)
    if "--nitro" in flags:
        cmd += ["--root-out", root]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline, buf = time.monotonic() + 30, b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            buf += os.read(proc.stdout.fileno(), 4096)
            m = re.search(rb"listening on (http://127\.0\.0\.1:\d+)", buf)
            if m:
                return proc, m.group(1).decode(), root
        if proc.poll() is not None:
            break
    proc.kill()
    raise Failure("mock_enclave did not start: " + buf.decode(errors="replace"))


class Runner:
    def __init__(self, tee_chat):
        self.tee_chat = tee_chat
        self.env = dict(os.environ, PLATFORM_API_KEY=SECRET, PLATFORM="openai", MODEL="gpt-4")

    def run(self, *args, expect=0):
        p = subprocess.run([self.tee_chat] + list(args), capture_output=True, text=True, env=self.env, timeout=120)
        no_key(p.stdout + p.stderr, "tee-chat %s output" % args[0])
        check(p.returncode == expect, "tee-chat %s: exit %d, expected %d; stderr: %s"
              % (" ".join(args), p.returncode, expect, p.stderr.strip()))
        return p

    def start(self, *args):
        return subprocess.Popen([self.tee_chat] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=self.env)


def python_verify(*args, expect=0):
    p = subprocess.run([sys.executable, VERIFIER] + list(args), capture_output=True, text=True, timeout=120)
    check(p.returncode == expect, "verify_receipt.py %s: exit %d, expected %d: %s %s"
          % (" ".join(args), p.returncode, expect, p.stdout.strip(), p.stderr.strip()))
    return p


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f)


def main():
    tee_chat, mock_enclave = sys.argv[1], sys.argv[2]
    t = Runner(tee_chat)
    procs = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for encrypted in (False, True):
                flags = ["--nitro"] + (["--encrypt-response"] if encrypted else [])
                proc, url, root = start_enclave(mock_enclave, tmp, *flags)
                procs.append(proc)
                for endpoint in ("legacy", "well-known"):
                    tag = "%s-%s" % ("enc" if encrypted else "plain", endpoint)
                    receipt, log = os.path.join(tmp, tag + ".json"), os.path.join(tmp, tag + ".jsonl")
                    t.run("--url", url, "--root", root, "--endpoint", endpoint, "--receipt", receipt,
                          "--receipt-log", log, "BTC price right now")
                    t.run("--url", url, "--root", root, "--endpoint", endpoint, "--receipt-log", log, "second chat")
                    for path in (receipt, log):
                        with open(path) as f:
                            no_key(f.read(), path)
                    with open(receipt) as f:
                        r = json.load(f)
                    check(("encrypted_data" in r["answer"]["data"]) == encrypted, tag + ": answer form")
                    check(("public_key" in r["attestation"]) == (endpoint == "well-known"), tag + ": attestation form")
                    python_verify(receipt, "--root", root, *PCR_PINS)
                    python_verify("--log", log, "--root", root, *PCR_PINS)
                    out = t.run("verify-receipt", receipt, "--root", root, *PCR_PINS, "--json").stdout
                    v = json.loads(out)
                    check(v["verified"] is True and v["message"] == "BTC price right now", tag + ": verify-receipt")
                    check(v["encrypted_answer"] == encrypted, tag + ": encrypted_answer")
                    out = t.run("verify-log", log, "--root", root, *PCR_PINS).stdout
                    check("log verified: 2 receipts" in out, tag + ": verify-log says " + out)
                    print("ok", tag)

                # Failures, on the last receipt and log of this enclave.
                t.run("verify-receipt", receipt, "--root", root, "--pcr", "0=" + "b0" * 48, expect=5)
                t.run("verify-receipt", receipt, *PCR_PINS, expect=5)  # AWS's root: the test chain does not reach it
                edited = dict(r, signed_data=dict(r["signed_data"], response="SELL"))
                if not encrypted:
                    edited["answer"] = dict(r["answer"], data=edited["signed_data"])
                bad = os.path.join(tmp, "edited.json")
                write_json(bad, edited)
                p = t.run("verify-receipt", bad, "--root", root, *PCR_PINS, expect=8)
                check("signature does not verify" in p.stderr, "edited receipt: " + p.stderr)
                python_verify(bad, "--root", root, *PCR_PINS, expect=1)
                print("ok edited receipts refused (%s)" % ("encrypted" if encrypted else "plain"))

            # Two processes appending to one log at once.
            shared = os.path.join(tmp, "shared.jsonl")
            both = [t.start("--url", url, "--root", root, "--repeat", "15", "--receipt-log", shared, "process %d" % i)
                    for i in (1, 2)]
            for p in both:
                out, err = p.communicate(timeout=300)
                no_key(out + err, "--repeat output")
                check(p.returncode == 0, "concurrent tee-chat failed: " + err)
            out = t.run("verify-log", shared, "--root", root, *PCR_PINS, "--json").stdout
            rep = json.loads(out)
            check(rep["ok"] and rep["verified"] == 30, "shared log: " + out)
            python_verify("--log", shared, "--root", root, *PCR_PINS)
            print("ok two processes appended 30 receipts, chain whole")

            with open(shared) as f:
                lines = f.read().splitlines(True)
            for name, edit, line in (("removed", lambda ls: ls[:4] + ls[5:], 5),
                                     ("swapped", lambda ls: ls[:6] + [ls[7], ls[6]] + ls[8:], 7)):
                path = os.path.join(tmp, name + ".jsonl")
                with open(path, "w") as f:
                    f.writelines(edit(lines))
                p = t.run("verify-log", path, "--root", root, *PCR_PINS, expect=8)
                check("receipt log line %d: prev is not" % line in p.stderr, name + ": " + p.stderr)
                rep = json.loads(t.run("verify-log", path, "--root", root, *PCR_PINS, "--json", expect=8).stdout)
                check(rep["failed_line"] == line and rep["verified"] == line - 1, name + " --json: %r" % rep)
                p = python_verify("--log", path, "--root", root, *PCR_PINS, expect=1)
                check("line %d:" % line in p.stderr, name + " (python): " + p.stderr)
                print("ok %s line refused at line %d" % (name, line))

            # A mock receipt.
            proc, url, _ = start_enclave(mock_enclave, tmp)
            procs.append(proc)
            mock = os.path.join(tmp, "mock.json")
            t.run("--allow-mock", "--url", url, "--receipt", mock, "hello")
            p = t.run("verify-receipt", mock, expect=5)
            check("mock attestation" in p.stderr, "mock receipt: " + p.stderr)
            p = t.run("verify-receipt", mock, "--allow-mock")
            check("NOT verified" in p.stdout, "mock receipt with --allow-mock: " + p.stdout)
            python_verify(mock, "--root", root, expect=1)
            print("ok mock receipt refused unless --allow-mock")

            t.run("verify-receipt", os.path.join(tmp, "absent.json"), *PCR_PINS, expect=3)
            t.run("attest", "--receipt", mock, expect=2)
    except Failure as e:
        print("FAIL:", e)
        return 1
    finally:
        for p in procs:
            p.kill()
            p.wait()
    print("receipts end to end: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
