"""Interop with Python's `cryptography`, both directions, over real HTTP.

tests/peer/enclave_peer.py re-implements the Python development service with
`cryptography`: it loads our client's SPKI with load_der_public_key, derives
the key with its HKDF, decrypts our AES-GCM request, and signs its answer over
json.dumps(sort_keys, compact). tee-chat (our client, mock policy) must then
verify that signature. Run with /usr/bin/python3.
"""
import json, os, re, subprocess, sys, tempfile

tee_chat, peer_dir = sys.argv[1], sys.argv[2]
API_KEY = "sk-interop-SECRET-0123456789"
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def chat(url, prompt, *flags, **env_over):
    env = dict(os.environ, PLATFORM_API_KEY=API_KEY, PLATFORM="openai", MODEL="gpt-4", TEE_TLS_URL=url)
    env.update(env_over)
    r = subprocess.run([tee_chat, *flags, prompt], env=env, capture_output=True, text=True, timeout=60)
    check(API_KEY not in r.stdout + r.stderr, f"API key absent from tee-chat output ({prompt[:20]!r})")
    return r


with tempfile.TemporaryDirectory() as tmp:
    log = os.path.join(tmp, "peer.log")
    peer = subprocess.Popen([sys.executable, os.path.join(peer_dir, "enclave_peer.py"), "--port", "0", "--log", log],
                            stdout=subprocess.PIPE, text=True)
    try:
        port = int(peer.stdout.readline().split()[1])
        url = f"http://127.0.0.1:{port}/"  # trailing slash allowed

        for prompt in ["BTC price right now", "h\u00e9llo \"w\u00f6rld\" \\ / \n\t \u2028 \U0001F600 \u4e2d"]:
            r = chat(url, prompt, "--allow-mock", "--json")
            check(r.returncode == 0, f"chat with the Python peer succeeds (rc={r.returncode}, {r.stderr.strip()})")
            if r.returncode == 0:
                out = json.loads(r.stdout)
                check(out["response"] == "Echo from Python peer: " + prompt, "Python decrypted our request exactly")
                check(out["message"] == prompt and out["signature_verified"] is True,
                      "we verified Python's signature over the canonical JSON")
                check(out["attestation"]["kind"] == "mock" and out["attestation"]["verified"] is False,
                      "the result says the attestation was mock")

        # The peer is Python's http.server: headers and body in two writes, no
        # TCP_NODELAY. Kept-alive chats must not wait for a delayed ACK each
        # (40 ms on Linux): best of 3 runs, so that a loaded machine does not fail it.
        if sys.platform.startswith("linux"):
            means = []
            for _ in range(3):
                r = chat(url, "BTC price right now", "--allow-mock", "--repeat", "20")
                m = re.search(r"all verified: yes, mean latency ([\d.]+) ms", r.stdout)
                means.append(float(m.group(1)) if m else float("inf"))
            print(f"     20 kept-alive chats with the http.server peer: mean latency {', '.join(f'{x:.1f}' for x in means)} ms")
            check(min(means) < 20, "20 chats on one kept-alive connection to the http.server peer take no delayed-ACK stall each")

        r = chat(url, "hi", "--allow-mock", PLATFORM="bogus")
        check(r.returncode == 7 and "invalid platform" in r.stderr, "service error is reported with its text, exit 7")

        r = chat(url, "hi")  # no --allow-mock: the Nitro policy must refuse the mock answer
        check(r.returncode == 5 and "mock" in r.stderr, "the default policy refuses the peer's mock attestation, exit 5")

        lines = [json.loads(l) for l in open(log, encoding="utf-8")]
        check(len(lines) >= 3, "the peer logged our requests")
        check(all(l["client_spki_len"] == 120 for l in lines), "our SPKI is the 120-byte form Python loads")
        check(all(l["client_spki_prefix_hex"] == "3076301006072a8648ce3d020106052b8104002203620004" for l in lines),
              "our SPKI is id-ecPublicKey / secp384r1")
        check(all(l["decrypted_ok"] for l in lines), "Python decrypted every request")
        check(API_KEY not in open(log, encoding="utf-8").read(), "the peer log holds no API key")
    finally:
        peer.terminate()
        peer.wait(timeout=10)

if failures:
    sys.exit(f"{len(failures)} interop check(s) failed")
print("interop with Python cryptography: all checks passed")
