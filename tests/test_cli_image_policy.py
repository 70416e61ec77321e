"""tee-chat's image policies end to end (docs/cli.md, docs/security.md "Image policies").

usage: test_cli_image_policy.py TEE_CHAT MOCK_ENCLAVE

Against `mock_enclave --nitro` (its test root trusted with --root):
  * trust on first use, the CLI's default: the first contact records the image
    and says so on stderr (with PCR0); the second is silent; a different image
    at a known URL exits 5 naming the old and new PCR0 and `trust forget`, and
    leaves the file unchanged; `trust list` / `trust forget`; the default file
    is $XDG_CONFIG_HOME/tee-chat/known_enclaves, mode 0600;
  * --any-image warns on stderr on every run;
  * signed allowlists: `allowlist sign` (its signature verified here by
    Python's cryptography), `allowlist verify`, a chat with --allowlist, and
    its refusals (unlisted image, bad signature, expired, rollback);
  * no output of any run holds key material: the signing key's private
    scalar (hex, either case) or any line of its PEM, nor the API key.
Needs /usr/bin/python3 with cryptography.
"""
import json
import os
import re
import select
import stat
import subprocess
import sys
import tempfile
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

TEE_CHAT, MOCK_ENCLAVE = sys.argv[1], sys.argv[2]
API_KEY = "sk-image-policy-5c1e-DO-NOT-PRINT"
failures = []
SECRETS = [API_KEY]


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def check(cond, msg):
    if not cond:
        fail(msg)


class Enclave:
    def __init__(self, *flags):
        self.p = subprocess.Popen([MOCK_ENCLAVE, "--port", "0", "--nitro", *flags], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self.p.stdout], [], [], 60)
        line = self.p.stdout.readline() if ready else ""
        m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if not m:
            self.p.kill()
            sys.exit(f"mock_enclave did not start: {line!r}")
        self.url = m.group(1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.p.terminate()
        self.p.communicate(timeout=60)


def run(args, env, want_rc, label):
    r = subprocess.run([TEE_CHAT, *args], env=env, capture_output=True, text=True, timeout=120)
    out = r.stdout + r.stderr
    for s in SECRETS:
        if s and (s in out or s.upper() in out):
            fail(f"{label}: output holds key material ({s[:12]}...)")
    if r.returncode != want_rc:
        fail(f"{label}: exit {r.returncode}, want {want_rc}; stderr: {r.stderr.strip()[-400:]}")
    else:
        print(f"ok   {label}: exit {r.returncode}  {r.stderr.strip().splitlines()[-1][:120] if r.stderr.strip() else ''}")
    return r


tmp = tempfile.mkdtemp(prefix="tee-cli-image-policy-")
config_home = os.path.join(tmp, "config")
root = os.path.join(tmp, "root.pem")
env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR")
       or k.endswith("SAN_OPTIONS") or k.startswith("LLVM_")}
env.update({"PLATFORM_API_KEY": API_KEY, "PLATFORM": "openai", "MODEL": "gpt-4", "XDG_CONFIG_HOME": config_home,
            "HOME": os.path.join(tmp, "home")})
store = os.path.join(config_home, "tee-chat", "known_enclaves")
PCR = {i: bytes([0xa0 + i]) * 48 for i in range(16)}  # mock_enclave's default image

# ------------------------------------------------------------------ trust on first use
with Enclave("--root-out", root) as e:
    env["TEE_TLS_URL"] = e.url
    r = run(["--root", root, "hello"], env, 0, "first contact")
    check(f"first contact with {e.url}" in r.stderr and PCR[0].hex() in r.stderr,
          f"first contact: stderr does not say so with PCR0: {r.stderr!r}")
    check(os.path.exists(store), "first contact: the default store was not written")
    check(stat.S_IMODE(os.stat(store).st_mode) == 0o600, "the store is not mode 0600")
    recorded = open(store).read()
    check(f"{e.url} {PCR[0].hex()} {PCR[1].hex()} {PCR[2].hex()}" in recorded, f"store content: {recorded!r}")
    r = run(["attest", "--root", root], env, 0, "second contact (attest)")
    check("first contact" not in r.stderr, "second contact: says first contact again")
    check("image:       known enclave" in r.stdout, f"attest does not name the image policy: {r.stdout!r}")
    r = run(["trust", "list"], env, 0, "trust list")
    check(e.url in r.stdout and PCR[0].hex() in r.stdout, f"trust list: {r.stdout!r}")

# The same URL now serves another image: a store whose entry differs.
with Enclave("--root-out", root, "--pcr", "0=" + "5e" * 48, "--pcr", "1=" + PCR[1].hex(), "--pcr", "2=" + PCR[2].hex()) as e:
    env["TEE_TLS_URL"] = e.url
    other = os.path.join(tmp, "other_known")
    with open(other, "w") as f:
        f.write(f"{e.url} {PCR[0].hex()} {PCR[1].hex()} {PCR[2].hex()}\n")
    before = open(other).read()
    r = run(["--root", root, "--known-enclaves", other, "hello"], env, 5, "changed image")
    check(f"PCR0 was {PCR[0].hex()}, now {'5e' * 48}" in r.stderr, f"changed image: old/new PCR0 missing: {r.stderr!r}")
    check(f"tee-chat trust forget {e.url}" in r.stderr, "changed image: no way to forget named")
    check("signature verified" not in r.stdout, "changed image: an answer was printed")
    check(open(other).read() == before, "changed image: the store was modified")
    run(["trust", "forget", e.url + "/", "--known-enclaves", other], env, 0, "trust forget")
    run(["trust", "forget", e.url, "--known-enclaves", other], env, 3, "trust forget of an unknown URL")
    r = run(["--root", root, "--known-enclaves", other, "hello"], env, 0, "first contact after forget")
    check("first contact" in r.stderr and "5e" * 48 in r.stderr, "after forget: not a first contact")

    # --------------------------------------------------------------------- --any-image
    for i in range(2):
        r = run(["--root", root, "--any-image", "hello"], env, 0, f"--any-image run {i + 1}")
        check("warning: --any-image" in r.stderr, f"--any-image run {i + 1}: no warning on stderr")

# -------------------------------------------------------------------- signed allowlists
key = ec.generate_private_key(ec.SECP384R1())
private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
scalar = key.private_numbers().private_value.to_bytes(48, "big").hex()
SECRETS += [scalar] + [line for line in private_pem.splitlines() if line and not line.startswith("-----")]
paths = {name: os.path.join(tmp, name) for name in ("private.pem", "release.pem", "list.json", "signed.json")}
open(paths["private.pem"], "w").write(private_pem)
open(paths["release.pem"], "w").write(public_pem)
now = int(time.time())


def allowlist(version, images, issued=now - 60, expires=now + 86400):
    return {"version": version, "issued_at": issued, "expires_at": expires, "images": images}


listed = {"name": "release 1.0", "pcrs": {str(i): PCR[i].hex() for i in range(3)}}


def sign(obj, label):
    with open(paths["list.json"], "w") as f:
        json.dump(obj, f)
    r = run(["allowlist", "sign", "--key", paths["private.pem"], paths["list.json"]], env, 0, label)
    signed = json.loads(r.stdout)
    # Python checks tee-chat's signature over the canonical JSON (interop of the signed bytes).
    canon = json.dumps(signed["allowlist"], separators=(",", ":"), sort_keys=True).encode()
    try:
        key.public_key().verify(bytes.fromhex(signed["signature"]), canon, ec.ECDSA(hashes.SHA384()))
    except Exception as e:
        fail(f"{label}: Python does not verify tee-chat's signature: {e!r}")
    path = os.path.join(tmp, f"signed-{version_of(obj)}-{len(obj['images'])}.json")
    with open(path, "w") as f:
        f.write(r.stdout)
    return path


def version_of(obj):
    return obj["version"]


with Enclave("--root-out", root) as e:
    env["TEE_TLS_URL"] = e.url
    good = sign(allowlist(5, [listed]), "allowlist sign")
    r = run(["allowlist", "verify", "--key", paths["release.pem"], good], env, 0, "allowlist verify")
    check("allowlist version 5: signature verified" in r.stdout and "release 1.0" in r.stdout, r.stdout)
    flags = ["--root", root, "--allowlist-key", paths["release.pem"]]
    r = run(["attest"] + flags + ["--allowlist", good], env, 0, "attest with a listed image")
    check("allowlist: release 1.0 (version 5)" in r.stdout, f"attest: image policy not shown: {r.stdout!r}")
    check(os.path.exists(os.path.join(config_home, "tee-chat", "allowlist_versions")), "no allowlist_versions state")

    unlisted = sign(allowlist(6, [{"name": "other", "pcrs": {"0": "5e" * 48}}]), "allowlist sign (other image)")
    r = run(flags + ["--allowlist", unlisted, "hello"], env, 5, "image not on the allowlist")
    check("not on the signed allowlist" in r.stderr, r.stderr)

    tampered = json.load(open(good))
    tampered["allowlist"]["images"].append({"name": "evil", "pcrs": {"0": "5e" * 48}})
    bad = os.path.join(tmp, "tampered.json")
    json.dump(tampered, open(bad, "w"))
    r = run(flags + ["--allowlist", bad, "hello"], env, 5, "bad signature")
    check("signature does not verify" in r.stderr, r.stderr)
    run(["allowlist", "verify", "--key", paths["release.pem"], bad], env, 5, "allowlist verify: bad signature")

    expired = sign(allowlist(7, [listed], now - 7200, now - 3600), "allowlist sign (expired)")
    r = run(flags + ["--allowlist", expired, "hello"], env, 5, "expired allowlist")
    check("has expired" in r.stderr, r.stderr)
    future = sign(allowlist(7, [listed], now + 3600, now + 7200), "allowlist sign (future)")
    r = run(flags + ["--allowlist", future, "hello"], env, 5, "not yet valid allowlist")
    check("is not valid yet" in r.stderr, r.stderr)

    newer = sign(allowlist(8, [listed]), "allowlist sign (version 8)")
    run(flags + ["--allowlist", newer, "hello"], env, 0, "version 8 accepted")
    r = run(flags + ["--allowlist", good, "hello"], env, 5, "rollback to version 5")
    check("allowlist rollback: version 5 is lower than version 8" in r.stderr, r.stderr)

    open(paths["list.json"], "w").write(json.dumps(allowlist(1, [listed])))
    run(["allowlist", "sign", "--key", paths["release.pem"], paths["list.json"]], env, 3, "sign with a public key")
    run(["allowlist", "sign", "--key", paths["private.pem"]], env, 2, "sign without a file")
    run(flags + ["hello"], env, 2, "--allowlist-key without --allowlist")

import shutil  # noqa: E402

shutil.rmtree(tmp, ignore_errors=True)
if failures:
    sys.exit(f"{len(failures)} failure(s):\n" + "\n".join(failures))
print("tee-chat image policies OK")
