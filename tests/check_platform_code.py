"""OS-specific code stays in one place: in include/ and single_include/, no
<linux/...> header, SIOCINQ, TCP_INFO, tcp_info or TCP_QUICKACK outside a preprocessor
condition on __linux__ (TEE_PLATFORM_LINUX, which tee/detail/platform.hpp
defines from it); and the POSIX calls of the watchdog and gmtime_r / gmtime_s
only in tee/detail/platform.hpp (its part of single_include/tee/tee.hpp).
Comments are not code.

usage: check_platform_code.py SOURCE_ROOT"""
import os, re, sys

root = sys.argv[1]
LINUX_ONLY = re.compile(r"<linux/|\bSIOCINQ\b|\bTCP_INFO\b|\btcp_info\b|\bTCP_QUICKACK\b")
PLATFORM_ONLY = re.compile(r"\bgmtime_[rs]\b|\bdup2\b|/dev/null|::ioctl\b|::fcntl\b|\bF_DUPFD_CLOEXEC\b|::shutdown\b|\bSHUT_RDWR\b")
LINUX_CONDITION = re.compile(r"__linux__|TEE_PLATFORM_LINUX")


def code_lines(path):
    """(line number, code without comments) of a C++ file."""
    text = open(path, encoding="utf-8").read()
    in_block = False
    for n, line in enumerate(text.splitlines(), 1):
        out, i = "", 0
        while i < len(line):
            if in_block:
                end = line.find("*/", i)
                if end < 0:
                    i = len(line)
                else:
                    in_block, i = False, end + 2
            elif line.startswith("//", i):
                break
            elif line.startswith("/*", i):
                in_block, i = True, i + 2
            elif line[i] == '"':  # a string literal: kept, but not scanned for comment marks
                j = i + 1
                while j < len(line) and line[j] != '"':
                    j += 2 if line[j] == "\\" else 1
                out += line[i:j + 1]
                i = j + 1
            else:
                out += line[i]
                i += 1
        yield n, out


def check(path, label, platform_part):
    """platform_part(line number) -> whether the line is tee/detail/platform.hpp's."""
    problems = []
    stack = []  # per open #if: whether its condition (or an enclosing one) is Linux-only
    for n, code in code_lines(path):
        s = code.strip()
        if s.startswith("#"):
            d = s[1:].strip()
            if d.startswith(("if", "ifdef", "ifndef")) and not d.startswith("include"):
                linux = bool(LINUX_CONDITION.search(d)) and not d.startswith("ifndef") and "!" not in d
                stack.append(linux)
            elif d.startswith(("elif", "else")):
                if stack:
                    stack[-1] = bool(LINUX_CONDITION.search(d)) and d.startswith("elif") and "!" not in d
            elif d.startswith("endif"):
                if stack:
                    stack.pop()
        if LINUX_ONLY.search(code) and not any(stack):
            problems.append(f"{label}:{n}: Linux-only outside a __linux__ condition: {s}")
        if PLATFORM_ONLY.search(code) and not platform_part(n):
            problems.append(f"{label}:{n}: OS call outside tee/detail/platform.hpp: {s}")
    return problems


problems = []
include = os.path.join(root, "include")
for d, _, files in os.walk(include):
    for f in sorted(files):
        if f.endswith(".hpp"):
            path = os.path.join(d, f)
            rel = os.path.relpath(path, include)
            is_platform = rel == os.path.join("tee", "detail", "platform.hpp")
            problems += check(path, rel, lambda n, p=is_platform: p)

single = os.path.join(root, "single_include", "tee", "tee.hpp")
lines = open(single, encoding="utf-8").read().splitlines()
try:
    begin = lines.index(next(l for l in lines if l.startswith("// ---- begin tee/detail/platform.hpp"))) + 1
    end = lines.index("// ---- end tee/detail/platform.hpp") + 1
except StopIteration:
    sys.exit("single_include/tee/tee.hpp has no tee/detail/platform.hpp part")
problems += check(single, "single_include/tee/tee.hpp", lambda n: begin <= n <= end)

if problems:
    sys.exit("\n".join(problems))
print("OS-specific code: in tee/detail/platform.hpp, Linux-only parts behind __linux__ (include/ and single_include/)")
