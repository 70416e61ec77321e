"""The docs never drift from built code.

  check_docs.py SOURCE_ROOT [TEE_CHAT MOCK_ENCLAVE]

1. Every C++ code block in README.md and docs/*.md is one of:
   - marked as an excerpt: the line `<!-- excerpt -->` right before the fence,
     or `excerpt` in the fence's info string (```cpp excerpt); not checked;
   - a whole file of examples/ or tests/consumer/, byte for byte, named by a
     path in its first line (`// examples/in_memory.cpp - ...`); a block
     without a name must equal such a file, or the file without its first
     (comment) line;
   - a checked slice: first line `// from PATH`, then lines that appear
     contiguously in PATH (a file of examples/, tests/consumer/ or include/,
     or tests/exemplars.cpp, the smallest policies, built and run as a suite).
2. Relative links in docs/*.md point to files that exist.
3. docs/quickstart.md's "copy one header" flow works as written: its app.cpp
   block and single_include/tee/tee.hpp are copied to an empty folder, the
   one-line `g++ ...` command of the doc is run there, and ./app must chat
   with the demo enclave.
4. With the binaries given: every option of `tee-chat --help` and
   `mock_enclave --help` is documented in docs/cli.md.
"""
import os, re, shutil, subprocess, sys, tempfile

root = sys.argv[1]
binaries = sys.argv[2:4]
problems = []
CPP = {"cpp", "c++", "cxx", "cc", "hpp"}
NAMED_DIRS = ("examples/", "tests/consumer/")
SLICE_DIRS = NAMED_DIRS + ("include/", "tests/exemplars.cpp")


def read(rel):
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        return f.read()


def blocks(text):
    """(info string, body, excerpt marked?, line number) of every fenced block."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)(```+|~~~+)\s*(.*)$", lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = m.groups()
        prev = next((l.strip() for l in reversed(lines[:i]) if l.strip()), "")
        start = i
        i += 1
        body = []
        while i < len(lines) and not re.match(r"^\s*" + re.escape(fence[0]) + "{%d,}\\s*$" % len(fence), lines[i]):
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1
        excerpt = prev == "<!-- excerpt -->" or "excerpt" in info.split()[1:]
        yield info.split()[0].lower() if info.split() else "", "\n".join(body) + "\n", excerpt, start + 1


def candidate_files():
    for d in NAMED_DIRS:
        for dirpath, _, names in os.walk(os.path.join(root, d)):
            for n in names:
                if n.endswith((".cpp", ".hpp", ".cc")):
                    yield os.path.relpath(os.path.join(dirpath, n), root)


def check_block(doc, line, body):
    where = f"{doc}:{line}"
    first = body.split("\n", 1)[0]
    m = re.match(r"^// from (\S+)\s*$", first)
    if m:  # a checked slice
        rel = m.group(1)
        if not rel.startswith(SLICE_DIRS) or not os.path.isfile(os.path.join(root, rel)):
            return f"{where}: '// from {rel}' names no file of {', '.join(SLICE_DIRS)}"
        rest = body.split("\n", 1)[1] if "\n" in body else ""
        source = read(rel)
        if not rest.strip() or ("\n" + rest) not in ("\n" + source):
            return f"{where}: the block is not a contiguous run of whole lines of {rel}"
        return None
    named = re.search(r"\b((?:examples|tests/consumer)/[\w./-]+\.(?:cpp|hpp|cc))\b", first) if first.startswith("//") else None
    if named:
        rel = named.group(1)
        if not os.path.isfile(os.path.join(root, rel)):
            return f"{where}: names {rel}, which does not exist"
        if read(rel) != body:
            return f"{where}: differs from {rel} (update the doc from the file)"
        return None
    for rel in candidate_files():  # an unnamed block: a whole file, or one without its header line
        source = read(rel)
        if body in (source, source.split("\n", 1)[-1]):
            return None
    return (f"{where}: a C++ block that is neither a file of {' or '.join(NAMED_DIRS)} (name it in its first "
            "line), nor '// from PATH', nor marked <!-- excerpt -->")


docs = ["README.md"] + sorted("docs/" + n for n in os.listdir(os.path.join(root, "docs")) if n.endswith(".md"))
checked = skipped = 0
for doc in docs:
    text = read(doc)
    for info, body, excerpt, line in blocks(text):
        is_cpp = info in CPP or (info == "" and "#include" in body)
        if not is_cpp:
            continue
        if excerpt:
            skipped += 1
            continue
        checked += 1
        if (p := check_block(doc, line, body)):
            problems.append(p)
    if doc.startswith("docs/"):
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if re.match(r"^[a-z]+:", target):
                continue
            if not os.path.exists(os.path.normpath(os.path.join(root, "docs", target))):
                problems.append(f"{doc}: link to {target}, which does not exist")
print(f"C++ blocks: {checked} checked against files, {skipped} marked as excerpts")

# 3. The quickstart's one-header flow, exactly as the doc says.
quick = read("docs/quickstart.md")
app = [b for info, b, ex, _ in blocks(quick) if info in CPP and not ex and "tests/consumer/quickstart/app.cpp" in b.split("\n", 1)[0]]
commands = [l.strip() for l in quick.split("\n") if l.strip().startswith("g++ ") and " app.cpp" in l]
# One line per Botan major version; the one of the Botan this build uses runs.
botan_pc = os.environ.get("TEE_BOTAN_PC", "botan-2")
mine = [c for c in commands if f" {botan_pc} " in c]
if len(app) != 1 or len(commands) != 2 or len(mine) != 1 or not any(" botan-3 " in c for c in commands):
    problems.append(f"docs/quickstart.md: want one app.cpp block and two 'g++ ... app.cpp' lines (botan-3, botan-2), "
                    f"found {len(app)} and {len(commands)}")
else:
    commands = mine
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "tee"))
        shutil.copy(os.path.join(root, "single_include", "tee", "tee.hpp"), os.path.join(tmp, "tee", "tee.hpp"))
        with open(os.path.join(tmp, "app.cpp"), "w", encoding="utf-8") as f:
            f.write(app[0])
        print("$", commands[0])
        build = subprocess.run(["bash", "-c", commands[0]], cwd=tmp, capture_output=True, text=True, timeout=600)
        if build.returncode != 0:
            problems.append("the quickstart's one-line build failed:\n" + build.stderr[-3000:])
        else:
            run = subprocess.run([os.path.join(tmp, "app")], cwd=tmp, capture_output=True, text=True, timeout=120)
            print(run.stdout, end="")
            if run.returncode != 0 or "nitro attestation verified" not in run.stdout:
                problems.append(f"the quickstart program did not chat: rc={run.returncode} {run.stderr.strip()}")

# 4. Every CLI option is documented.
if binaries:
    cli = read("docs/cli.md")
    for exe in binaries:
        help_text = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=30).stdout
        options = sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-h)\b", help_text)))
        missing = [o for o in options if f"`{o}" not in cli]
        if missing:
            problems.append(f"docs/cli.md does not document {os.path.basename(exe)} {' '.join(missing)}")
        if not missing:
            print(f"{os.path.basename(exe)}: {len(options)} options, all in docs/cli.md")
    if "tee-chat attest" not in cli:
        problems.append("docs/cli.md does not document the attest subcommand")

if problems:
    sys.exit("\n".join(["FAILED:"] + problems))
print("docs OK")
