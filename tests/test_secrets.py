"""Secret hygiene of the CLI: nothing tee-chat prints holds the API key.

usage: test_secrets.py TEE_CHAT MOCK_ENCLAVE

With PLATFORM_API_KEY set to a distinctive value, tee-chat runs into every
failure class it has (configuration, transport, attestation, protocol,
service, signature/replay, usage), succeeds (text, --json, --repeat, attest,
Nitro and mock, --demo), and prints its --help and --version. For each run:

  * stdout and stderr hold the key in no form: plain, hex (either case),
    standard or URL-safe base64 at any of the three byte alignments;
  * the exit code is the one `tee-chat --help` lists for that class;
  * a failure prints no verified answer ("signature verified") on stdout and
    names its class on stderr ("tee-chat: <class> error: ...").

One success and one failure run with stderr on a pseudo-terminal (the
spinner's path). Options of --help that look like verbose/debug/trace/log
switches would be exercised too (there are none today; the test says so).
mock_enclave's own output is scanned as well. Runs with the binaries meson
built, so under the sanitizer build a leak report fails the exit code check.
"""
import base64
import os
import pty
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

TEE_CHAT, MOCK_ENCLAVE = sys.argv[1], sys.argv[2]
KEY = "sk-hygiene-7f3a9c41e2b8-DO-NOT-PRINT"
PROMPT = "BTC price right now"

failures = []
runs = 0


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def secret_forms(key):
    raw = key.encode()
    forms = {"plain": key, "hex": raw.hex(), "HEX": raw.hex().upper()}
    for name, enc in (("base64", base64.b64encode), ("base64url", base64.urlsafe_b64encode)):
        for shift in range(3):
            text = enc(b"\0" * shift + raw).decode()
            skip = 0 if shift == 0 else shift + 1  # digits the unknown prefix touches
            end = (len(raw) + shift) // 3 * 4 - 4   # and the unknown suffix
            forms[f"{name}@{shift}"] = text[skip:end]
    return forms


FORMS = secret_forms(KEY)
# the forms must find the key inside longer encodings (else the scan checks nothing)
for probe in (b"x" + KEY.encode(), b"xy" + KEY.encode() + b"z", KEY.encode() + b"tail"):
    for enc in (base64.b64encode, base64.urlsafe_b64encode):
        assert any(f in enc(probe).decode() for f in FORMS.values()), probe


def leaks(text):
    return [name for name, f in FORMS.items() if f in text]


def scan(label, *texts):
    found = leaks("\n".join(texts))
    if found:
        fail(f"{label}: output holds the API key ({', '.join(found)})")


# ------------------------------------------------------------------ the CLI's own contract

help_run = subprocess.run([TEE_CHAT, "--help"], capture_output=True, text=True, timeout=60)
HELP = help_run.stdout
m = re.search(r"exit codes:(.*)", HELP, re.S)
if help_run.returncode != 0 or not m:
    sys.exit("tee-chat --help has no 'exit codes:' section")
CODES = {}
for code, word in re.findall(r"\b(\d+) (success|internal|usage|configuration|transport|attestation|protocol|service|signature)\b",
                             m.group(1)):
    CODES[word] = int(code)
for word in ("success", "usage", "configuration", "transport", "attestation", "protocol", "service", "signature"):
    if word not in CODES:
        sys.exit(f"tee-chat --help lists no exit code for {word}: {CODES}")
print("exit codes from --help:", CODES)
# the error class printed on stderr ("tee-chat: <class> error:") for each exit class
CLASS_TEXT = {"configuration": "configuration", "transport": "transport", "attestation": "attestation",
              "protocol": "protocol", "service": "service", "signature": "signature"}

OPTIONS = sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-[a-zA-Z])\b", HELP)))
# (--receipt-log FILE writes receipts, not diagnostics: test_receipts_cli.py
# checks those files for the key.)
CHATTY = [o for o in OPTIONS if re.search(r"verbose|debug|trace|log|^-v$|^-d$", o) and o != "--receipt-log"]
print("options in --help:", " ".join(OPTIONS))
print("verbose/debug options:", " ".join(CHATTY) if CHATTY else "none")


# tee-chat's known-enclaves store (trust on first use) lives in a temporary
# XDG_CONFIG_HOME, never in the user's own configuration.
CONFIG_HOME = tempfile.mkdtemp(prefix="tee-secrets-config-")


def base_env(url="http://127.0.0.1:9", **extra):
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
           or k.endswith("SAN_OPTIONS") or k.startswith("LLVM_")}
    env.update({"PLATFORM_API_KEY": KEY, "PLATFORM": "openai", "MODEL": "gpt-4", "TEE_TLS_URL": url,
                "XDG_CONFIG_HOME": CONFIG_HOME})
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def tee_chat(label, args, env, expect, with_chatty=True):
    """Runs tee-chat; expect is an exit class of --help ('success', 'protocol', ...)."""
    global runs
    variants = [[]] + ([[o] for o in CHATTY] if with_chatty else [])
    for extra in variants:
        runs += 1
        name = label + (" " + " ".join(extra) if extra else "")
        r = subprocess.run([TEE_CHAT] + extra + args, env=env, capture_output=True, text=True,
                           errors="replace", timeout=120)
        scan(name, r.stdout, r.stderr)
        want = CODES[expect]
        if r.returncode != want:
            fail(f"{name}: exit {r.returncode}, --help says {want} ({expect}); stderr: {r.stderr.strip()[-500:]}")
        if expect in CLASS_TEXT:
            if "signature verified" in r.stdout or '"signature_verified": true' in r.stdout:
                fail(f"{name}: a failed run printed a verified answer")
            if f"tee-chat: {CLASS_TEXT[expect]} error:" not in r.stderr:
                fail(f"{name}: stderr does not name the {expect} error: {r.stderr.strip()[-300:]}")
        print(f"ok   {name}: exit {r.returncode} ({expect})  {r.stderr.strip().splitlines()[-1][:110] if r.stderr.strip() else ''}")
        last = r
    return last


def tee_chat_on_tty(label, args, env, expect):
    """Like tee_chat, with stderr on a pseudo-terminal (the spinner draws there)."""
    global runs
    runs += 1
    master, slave = pty.openpty()
    p = subprocess.Popen([TEE_CHAT] + args, env=env, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    tty = b""
    while True:
        try:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                break
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        tty += chunk
    out = p.stdout.read().decode(errors="replace")
    rc = p.wait(timeout=60)
    os.close(master)
    tty_text = tty.decode(errors="replace")
    scan(label, out, tty_text)
    if rc != CODES[expect]:
        fail(f"{label}: exit {rc}, --help says {CODES[expect]} ({expect})")
    print(f"ok   {label}: exit {rc} ({expect}), {len(tty)} bytes on the terminal")


class Enclave:
    """mock_enclave on a free port; its own output is scanned when it stops."""

    def __init__(self, *flags):
        self.flags = flags
        self.p = subprocess.Popen([MOCK_ENCLAVE, "--port", "0", *flags], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self.p.stdout], [], [], 60)
        line = self.p.stdout.readline() if ready else ""
        m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if not m:
            self.p.kill()
            sys.exit(f"mock_enclave {' '.join(flags)} did not start: {line!r} {self.p.stderr.read()}")
        self.url = m.group(1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.p.terminate()
        out, err = self.p.communicate(timeout=60)
        scan("mock_enclave " + " ".join(self.flags), out, err)
        if self.p.returncode != 0:
            fail(f"mock_enclave {' '.join(self.flags)} exited {self.p.returncode}: {err.strip()[-500:]}")


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


start = time.monotonic()

# ------------------------------------------------------------- help, version, usage
tee_chat("--help", ["--help"], base_env(), "success", with_chatty=False)
tee_chat("--version", ["--version"], base_env(), "success", with_chatty=False)
tee_chat("usage: unknown option", ["--no-such-option", PROMPT], base_env(), "usage", with_chatty=False)
tee_chat("usage: no prompt", [], base_env(), "usage", with_chatty=False)

# ------------------------------------------------------------------- configuration
tee_chat("configuration: bad URL scheme", [PROMPT], base_env("ftp://127.0.0.1:8000"), "configuration")
tee_chat("configuration: bad URL scheme (--url)", ["--allow-mock", "--url", "gopher://x", PROMPT], base_env(),
         "configuration")
tee_chat("configuration: unreadable --root", ["--root", "/nonexistent/root.pem", PROMPT], base_env(), "configuration")
tee_chat("configuration: key unset (the one run without the key)", [PROMPT], base_env(PLATFORM_API_KEY=None),
         "configuration")

# ------------------------------------------------------------------------ transport
refused = f"http://127.0.0.1:{closed_port()}"
tee_chat("transport: connection refused", [PROMPT], base_env(refused), "transport")
tee_chat("transport: connection refused (attest)", ["attest"], base_env(refused), "transport")
tee_chat("transport: connection refused (--allow-mock --json)", ["--allow-mock", "--json", PROMPT], base_env(refused),
         "transport")

with tempfile.TemporaryDirectory() as tmp:
    root = os.path.join(tmp, "root.pem")

    # ------------------------------------------------- a development (mock) service
    with Enclave() as mock:
        env = base_env(mock.url)
        tee_chat("success: mock, text", ["--allow-mock", PROMPT], env, "success")
        r = tee_chat("success: mock, --json", ["--allow-mock", "--json", PROMPT], env, "success")
        if '"signature_verified": true' not in r.stdout:
            fail("success --json: no signature_verified: true")
        tee_chat("success: mock, --repeat 3", ["--allow-mock", "--repeat", "3", PROMPT], env, "success")
        tee_chat("success: mock, --repeat 2 --json", ["--allow-mock", "--repeat", "2", "--json", PROMPT], env, "success")
        tee_chat("success: attest --allow-mock", ["attest", "--allow-mock"], env, "success")
        tee_chat("success: attest --allow-mock --json", ["attest", "--allow-mock", "--json"], env, "success")
        tee_chat_on_tty("success on a terminal (spinner)", ["--allow-mock", PROMPT], env, "success")

        tee_chat("attestation: a mock service without --allow-mock", [PROMPT], env, "attestation")
        tee_chat("attestation: attest without --allow-mock", ["attest"], env, "attestation")
        tee_chat("attestation: --json without --allow-mock", ["--json", PROMPT], env, "attestation")
        tee_chat_on_tty("attestation failure on a terminal (spinner)", [PROMPT], env, "attestation")

        tee_chat("service: PLATFORM=bogus", ["--allow-mock", PROMPT], base_env(mock.url, PLATFORM="bogus"), "service")
        tee_chat("service: MODEL empty", ["--allow-mock", "--json", PROMPT], base_env(mock.url, MODEL=""), "service")
        tee_chat("service: 404 (wrong path prefix)", ["--allow-mock", PROMPT], base_env(mock.url + "/no/such/prefix"),
                 "service")

    # --------------------------------------------------------- a Nitro-mode service
    with Enclave("--nitro", "--root-out", root) as nitro:
        env = base_env(nitro.url)
        tee_chat("success: nitro, text", ["--root", root, PROMPT], env, "success")
        tee_chat("success: nitro, --json", ["--root", root, "--json", PROMPT], env, "success")
        tee_chat("success: attest (nitro)", ["attest", "--root", root], env, "success")
        tee_chat("success: attest --json (nitro)", ["attest", "--root", root, "--json"], env, "success")
        tee_chat("attestation: nitro, the AWS root does not trust the test chain", [PROMPT], env, "attestation")
        tee_chat("attestation: nitro, PCR0 pinned to another image",
                 ["--root", root, "--pcr", "0=" + "ab" * 48, PROMPT], env, "attestation")

    # ----------------------------------------------- faulty answers (mock_enclave --fault)
    fault_runs = [
        ("bad-signature", "signature"), ("wrong-message", "signature"), ("stale-timestamp", "signature"),
        ("missing-sig", "protocol"), ("missing-response", "protocol"), ("wrong-type-data", "protocol"),
        ("wrong-type-timestamp", "protocol"), ("invalid-utf8", "protocol"), ("lone-surrogate", "protocol"),
        ("deep-nesting", "protocol"), ("duplicate-keys", "protocol"), ("big-integer", "protocol"),
        ("reset-mid-body", "transport"), ("huge-body", "transport"),
    ]
    for fault, expect in fault_runs:
        with Enclave("--fault", fault) as bad:
            tee_chat(f"{expect}: mock_enclave --fault {fault}", ["--allow-mock", PROMPT], base_env(bad.url), expect)
            if fault in ("bad-signature", "missing-sig"):
                tee_chat(f"{expect}: mock_enclave --fault {fault}, --json --repeat 2",
                         ["--allow-mock", "--json", "--repeat", "2", PROMPT], base_env(bad.url), expect)

    # ----------------------------------------------------------------- --demo uses the key too
    tee_chat("success: --demo (the key from the environment)", ["--demo", PROMPT], base_env(), "success")
    tee_chat("success: --demo --json", ["--demo", "--json", PROMPT], base_env(), "success")

shutil.rmtree(CONFIG_HOME, ignore_errors=True)
print(f"{runs} tee-chat runs in {time.monotonic() - start:.1f} s; forms of the key scanned: {', '.join(FORMS)}")
if failures:
    sys.exit(f"{len(failures)} failure(s):\n" + "\n".join(failures))
print("secret hygiene OK")
