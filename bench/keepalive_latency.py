#!/usr/bin/python3
"""bench/keepalive_latency.py - tee-chat's wall time and client CPU per chat on
one kept-alive connection, against the Python http.server enclave of the tests
(tests/peer/enclave_peer.py: headers and body written apart, no TCP_NODELAY)
and against mock_enclave (httplib, TCP_NODELAY), in mock mode.

  bench/keepalive_latency.py BUILD_DIR [--chats 50] [--runs 3]

BUILD_DIR holds examples/tee-chat and examples/mock_enclave (ninja -C BUILD_DIR
examples/tee-chat examples/mock_enclave). Per server, --runs times:
`tee-chat --repeat CHATS` (its mean latency: wall time per chat) and a run of
10 chats; client CPU per chat is the slope between the two (user + sys from
wait4), so process start-up is not counted. Prints the medians. A figure, not a
test: tests/test_transport.cpp and tests/test_interop.py guard against the
delayed-ACK stall itself (about 45 ms per chat against the Python server).
"""
import argparse, os, re, signal, statistics, subprocess, sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("build")
ap.add_argument("--chats", type=int, default=50)
ap.add_argument("--runs", type=int, default=3)
args = ap.parse_args()
tee_chat = os.path.join(args.build, "examples", "tee-chat")
SHORT = 10
ENV = dict(os.environ, PLATFORM_API_KEY="sk-bench-0123456789abcdef0123456789abcdef0123",
           PLATFORM="openai", MODEL="gpt-4")


def run(url, n):
    """(mean latency ms that tee-chat --repeat n reports, its CPU seconds: user + sys from wait4)."""
    p = subprocess.Popen([tee_chat, "--allow-mock", "--url", url, "--repeat", str(n), "BTC price right now"],
                         env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.stdout.read(), p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    m = re.search(r"all verified: yes, mean latency ([\d.]+) ms", out)
    if p.returncode != 0 or not m:
        sys.exit(f"tee-chat failed against {url}: {out}{err}")
    return float(m.group(1)), ru.ru_utime + ru.ru_stime


def measure(url):
    lat, cpu = [], []
    for _ in range(args.runs):
        _, short_cpu = run(url, SHORT)
        latency, long_cpu = run(url, args.chats)
        lat.append(latency)
        cpu.append((long_cpu - short_cpu) / (args.chats - SHORT) * 1e6)
    return lat, cpu


def start(argv, pattern):
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    m = re.search(pattern, p.stdout.readline())
    if not m:
        p.kill()
        sys.exit(f"could not start {argv[0]}")
    return p, m.group(1)


servers = [("Python http.server (tests/peer/enclave_peer.py)",
            [sys.executable, os.path.join(root, "tests", "peer", "enclave_peer.py"), "--port", "0"],
            r"PORT (\d+)", "http://127.0.0.1:{}"),
           ("mock_enclave", [os.path.join(args.build, "examples", "mock_enclave"), "--port", "0"],
            r"(http://\S+)", "{}")]
print(f"tee-chat --repeat {args.chats}, {args.runs} runs, medians (each run's figure in brackets)")
for name, argv, pattern, url_form in servers:
    server, found = start(argv, pattern)
    try:
        lat, cpu = measure(url_form.format(found))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
    print(f"  {name}: {statistics.median(lat):.2f} ms per chat [{', '.join(f'{x:.2f}' for x in lat)}], "
          f"client CPU {statistics.median(cpu):.0f} us per chat [{', '.join(f'{x:.0f}' for x in cpu)}]")
