#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Mutation check: does the test suite notice a wrong server?

Applies each deliberate fault in mutations.py to a private copy of the source tree, one at a
time, rebuilds (incrementally) and runs the unit and e2e tests (Release). A fault that leaves
every test green "survived": the suite cannot tell that server from a correct one. Ends with
"N caught, M survived" and exits 1 if any fault survived or a fault no longer applies (the
code it targets changed: update mutations.py).

Not part of tests/run.sh (each fault costs a rebuild and a suite run, about a minute here).
  tests/mutation/run.py [--only ID[,ID...]] [--keep] [--jobs N]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from mutations import MUTATIONS  # noqa: E402


def copy_tree(dest):
    """The working tree as git sees it (tracked and untracked-but-not-ignored files)."""
    files = subprocess.run(
        ["git", "-C", SOURCE, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True, capture_output=True).stdout.split(b"\0")
    for f in files:
        if not f:
            continue
        rel = f.decode()
        src = os.path.join(SOURCE, rel)
        if not os.path.isfile(src):
            continue  # deleted in the working tree
        dst = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)


def run(cmd, cwd, log, timeout):
    with open(log, "ab") as out:
        out.write(("\n$ " + " ".join(cmd) + "\n").encode())
        out.flush()
        try:
            return subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                  timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            out.write(b"\n(timed out)\n")
            return 124


def failed_tests(build):
    """Names ctest recorded as failed in its last run."""
    path = os.path.join(build, "Testing", "Temporary", "LastTestsFailed.log")
    try:
        with open(path) as f:
            return [line.strip().split(":", 1)[-1] for line in f if line.strip()]
    except FileNotFoundError:
        return []


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="comma-separated mutation ids")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()

    chosen = MUTATIONS
    if args.only:
        ids = set(args.only.split(","))
        unknown = ids - {m["id"] for m in MUTATIONS}
        if unknown:
            sys.exit("unknown mutation ids: " + ", ".join(sorted(unknown)))
        chosen = [m for m in MUTATIONS if m["id"] in ids]

    work = tempfile.mkdtemp(prefix="meridian-mutation-")
    os.chmod(work, 0o755)  # e2e 007 runs the binary as nobody
    tree, build = os.path.join(work, "src"), os.path.join(work, "build")
    log = os.path.join(work, "log.txt")
    print(f"work directory {work} (log: {log})", flush=True)
    copy_tree(tree)
    if run(["cmake", "-S", tree, "-B", build, "-DCMAKE_BUILD_TYPE=Release",
            "-DMERIDIAN_TESTS=ON"], work, log, 300) != 0 or \
       run(["cmake", "--build", build, f"-j{args.jobs}"], work, log, 1200) != 0:
        sys.exit(f"the unmutated tree does not build; see {log}")
    # The unmutated suite must pass, or "caught" would mean nothing.
    base = ["ctest", "--test-dir", build, "-L", "unit|e2e", f"-j{args.jobs}"]
    if run(base, work, log, 1800) != 0:
        sys.exit(f"the unmutated suite fails ({', '.join(failed_tests(build))}); see {log}")

    caught, survived, stale = [], [], []
    for m in chosen:
        path = os.path.join(tree, m["file"])
        with open(path) as f:
            original = f.read()
        if original.count(m["old"]) != 1:
            print(f"STALE    {m['id']}: the text it replaces is not in {m['file']} exactly once")
            stale.append(m["id"])
            continue
        started = time.monotonic()
        with open(path, "w") as f:
            f.write(original.replace(m["old"], m["new"]))
        try:
            if run(["cmake", "--build", build, f"-j{args.jobs}"], work, log, 1200) != 0:
                # A fault that does not compile proves nothing about the tests.
                print(f"STALE    {m['id']}: does not compile; see {log}")
                stale.append(m["id"])
                continue
            rc = run(base + ["--stop-on-failure"], work, log, 1800)
            took = time.monotonic() - started
            if rc != 0:
                who = ", ".join(failed_tests(build)) or "ctest"
                print(f"CAUGHT   {m['id']} ({took:.0f} s) by {who}: {m['what']}", flush=True)
                caught.append(m["id"])
            else:
                print(f"SURVIVED {m['id']} ({took:.0f} s): {m['what']}", flush=True)
                survived.append(m["id"])
        finally:
            with open(path, "w") as f:
                f.write(original)
    run(["cmake", "--build", build, f"-j{args.jobs}"], work, log, 1200)
    print(f"{len(caught)} caught, {len(survived)} survived"
          + (f", {len(stale)} stale ({', '.join(stale)})" if stale else ""))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if survived or stale else 0


if __name__ == "__main__":
    sys.exit(main())
