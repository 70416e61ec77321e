"""The services' start-up document, through the CLI: `mock_enclave --nitro
--stale-hours 5` serves one document made 5 hours ago whose leaf certificate
lived 3 hours (like AWS's). tee-chat accepts it by default, verified at its own
time (attest says so in text and JSON, and a chat works), and refuses it with
`--max-document-age 0` or a bound below its age (exit 5, a message that names
the age, the expiry and the option); a malformed duration is a usage error.

usage: test_stale_document.py TEE_CHAT MOCK_ENCLAVE
"""
import json, os, re, subprocess, sys, tempfile

TEE_CHAT, MOCK_ENCLAVE = sys.argv[1], sys.argv[2]
failures = []


def check(cond, what):
    print(("ok:   " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


with tempfile.TemporaryDirectory() as tmp:
    root = os.path.join(tmp, "root.pem")
    server = subprocess.Popen([MOCK_ENCLAVE, "--nitro", "--port", "0", "--stale-hours", "5", "--root-out", root],
                              stdout=subprocess.PIPE, text=True)
    try:
        url = re.search(r"(http://127\.0\.0\.1:\d+)", server.stdout.readline()).group(1)
        env = dict(os.environ, PLATFORM_API_KEY="sk-stale-test", PLATFORM="openai", MODEL="gpt-4", TEE_TLS_URL=url)
        pins = [a for i in range(3) for a in ("--pcr", f"{i}=" + f"{0xa0 + i:02x}" * 48)]

        def run(*args):
            r = subprocess.run([TEE_CHAT, *args, "--root", root, *pins], env=env, capture_output=True, text=True,
                               timeout=60)
            return r.returncode, r.stdout, r.stderr

        rc, out, err = run("attest", "--json")
        check(rc == 0, f"attest --json accepts the 5-hour-old document by default (rc {rc}, {err.strip()})")
        if rc == 0:
            j = json.loads(out)
            check(j["verified_at_document_time"] is True, "--json: verified_at_document_time")
            check(5 * 3600 <= j["document_age_s"] < 5 * 3600 + 120, f"--json: document_age_s {j['document_age_s']}")
            check(j["verified_at"] != "" and j["timestamp_ms"] > 0, "--json: verified_at, timestamp_ms")
        rc, out, err = run("attest")
        check(rc == 0 and "the document's own time" in out and "5 h 0 min old" in out,
              f"attest (text) says the document was verified at its own time: {out!r}")
        rc, out, err = run("hello")
        check(rc == 0 and "signature verified" in out and "verified at its own time" in out,
              f"a chat works and says so: {out!r} {err!r}")
        rc, out, err = run("--max-document-age", "0", "hello")
        check(rc == 5 and "document is 5 h 0 min old" in err and "certificate expired at" in err
              and "start-up" in err and "--max-document-age" in err,
              f"--max-document-age 0 refuses, exit 5: {err.strip()}")
        rc, out, err = run("--max-document-age", "4h", "hello")
        check(rc == 5 and "documents up to 4 h 0 min old are accepted" in err, f"--max-document-age 4h refuses: {err.strip()}")
        rc, out, err = run("--max-document-age", "1d", "hello")
        check(rc == 0, f"--max-document-age 1d accepts: {err.strip()}")
        for bad in ("7x", "h", "-1d", "1.5h", "9999999999d", ""):
            rc, out, err = run("--max-document-age", bad, "hello")
            check(rc == 2 and "--max-document-age wants" in err, f"--max-document-age {bad!r} is a usage error")
        check("sk-stale-test" not in out + err, "no API key in the output")
    finally:
        server.terminate()
        server.wait(timeout=10)

sys.exit(1 if failures else 0)
