#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 010: what the README (and deploy/run-example.sh) tells a new user is true.

* Every ```yaml block of README.md, merged into one configuration (they are one
  example: the services name the checks of the health block), passes
  `meridiand -n`, with the files they name (zone, GeoIP database, nets and
  states files, TSIG and cookie secret files) beside it; the anycast block passes
  `meridian-anycast -n`.
* The quick-start commands of the README ("Then, for instance") and the hints
  deploy/run-example.sh prints run as printed, from a copy of the repository
  root whose zones/meridian.yaml listens on a free port instead of 5353 (the
  only change), against the example server started as the README says: each
  exits 0, and each dig gets NOERROR.
* Every Markdown link in the READMEs resolves inside the repository, and none
  mentions the DESIGN.md or research/ documents, which are not part of it.
"""

import os
import re
import shutil
import subprocess
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness as h  # noqa: E402

REPO = os.path.normpath(os.path.join(h.E2E_DIR, "..", ".."))
READMES = ["README.md", "ARCHITECTURE.md", "src/anycast/README.md", "geoip/README.md",
           "deploy/lab/README.md", "tests/bench/README.md"]


def read(rel):
    with open(os.path.join(REPO, rel)) as f:
        return f.read()


def fenced_blocks(text, lang):
    return re.findall(r"^```%s\n(.*?)^```" % lang, text, re.M | re.S)


def merge(into, new):
    """Deep merge of YAML mappings: the README's blocks are parts of one config."""
    for k, v in new.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            merge(into[k], v)
        else:
            into[k] = v
    return into


def run(cmd, cwd, timeout=60):
    try:
        p = subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timeout after %d s" % timeout
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


def check_yaml_examples(results, args, tmp):
    import yaml
    blocks = fenced_blocks(read("README.md"), "yaml")
    merged = {}
    for b in blocks:
        merge(merged, yaml.safe_load(b))
    conf_dir = tmp.join("conf")
    os.makedirs(conf_dir)
    os.makedirs(tmp.join("geoip"))
    shutil.copy(os.path.join(REPO, "geoip", "sample.mmdb"), tmp.join("geoip", "sample.mmdb"))
    shutil.copy(os.path.join(REPO, "zones", "example.com.zone"), conf_dir)
    with open(os.path.join(conf_dir, "nets.txt"), "w") as f:
        f.write("# CIDR pool[,pool]\n192.0.2.0/24 eu,us\n")
    with open(os.path.join(conf_dir, "states.txt"), "w") as f:
        f.write("192.0.2.10 up\n")
    secret = os.path.join(conf_dir, "xfr-key.secret")
    with open(secret, "w") as f:
        f.write("c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=\n")
    os.chmod(secret, 0o600)  # group or others may not read a secret
    cookie = os.path.join(conf_dir, "cookie.secret")
    with open(cookie, "w") as f:
        f.write("e5e973e5a6b2a43f48e7dc849e37bfcf\n")
    os.chmod(cookie, 0o600)
    anycast = merged.pop("anycast", None)
    path = os.path.join(conf_dir, "meridian.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(merged, f, sort_keys=False)
    rc, out = run([args.meridiand, "-n", "-c", path], conf_dir)
    results.check("README's %d yaml blocks, merged: meridiand -n passes (%s)"
                  % (len(blocks), out.strip()), [] if rc == 0 else ["exit %s" % rc])
    anycast_bin = os.path.join(os.path.dirname(os.path.abspath(args.meridiand)),
                               "meridian-anycast")
    if anycast is None:
        results.check("README has an anycast yaml block", ["none found"])
    elif os.access(anycast_bin, os.X_OK):
        path = os.path.join(conf_dir, "anycast.yaml")
        with open(path, "w") as f:
            yaml.safe_dump({"zones": merged["zones"], "anycast": anycast}, f, sort_keys=False)
        rc, out = run([anycast_bin, "-n", "-c", path], conf_dir)
        results.check("README's anycast block: meridian-anycast -n passes (%s)" % out.strip(),
                      [] if rc == 0 else ["exit %s" % rc])


def quick_start_commands():
    """(source, command) for the README's 'Then, for instance' block and the hints that
    deploy/run-example.sh echoes."""
    text = read("README.md")
    at = text.index("Then, for instance:")
    block = fenced_blocks(text[at:], "sh")[0]
    cmds = [("README", line) for line in block.splitlines() if line.strip()]
    for line in read("deploy/run-example.sh").splitlines():
        m = re.match(r'^echo "\s+((?:dig|\./build)[^"]*)"$', line)
        if m:
            cmds.append(("run-example.sh", m.group(1)))
    return cmds


def check_quick_start(results, args, tmp, dig):
    root = tmp.join("repo")
    shutil.copytree(os.path.join(REPO, "zones"), os.path.join(root, "zones"),
                    ignore=shutil.ignore_patterns("*.sock", "*.state", "*.tmp"))
    os.makedirs(os.path.join(root, "geoip"))
    shutil.copy(os.path.join(REPO, "geoip", "sample.mmdb"), os.path.join(root, "geoip"))
    os.makedirs(os.path.join(root, "build"))
    os.symlink(os.path.dirname(os.path.abspath(args.meridiand)),
               os.path.join(root, "build", "src"))
    config = os.path.join(root, "zones", "meridian.yaml")
    with open(config) as f:
        shipped = f.read()
    if shipped.count("5353") != 2:
        results.check("zones/meridian.yaml listens on port 5353 twice", ["it does not"])
        return

    if shipped.count('nsid: "example-1"') != 1:
        results.check("zones/meridian.yaml sets nsid \"example-1\" once", ["it does not"])
        return
    # This run's own NSID instead of the example's, so the harness can tell our server's
    # answers from any other's (the quick-start commands do not depend on it).
    nsid = h.new_nsid("readme")

    # The example's metrics listener (http_listen, port 8053) gets a held port as well.
    http_port = h.free_port((h.V4,), (socket.SOCK_STREAM,))

    def make(port):
        with open(config, "w") as f:
            f.write(shipped.replace("5353", str(port)).replace(":8053", ":%d" % http_port)
                    .replace('nsid: "example-1"', 'nsid: "%s"' % nsid))
        srv = h.Meridiand("./build/src/meridiand", root, port, "zones/meridian.yaml", nsid)
        srv.log_path = os.path.join(tmp.path, "quickstart.log")
        return srv

    server = h.start_with_free_port(make, "example.com")
    try:
        cmds = quick_start_commands()
        results.check("found the README's and run-example.sh's commands (%d)" % len(cmds),
                      [] if len(cmds) >= 8 else ["only %d" % len(cmds)])
        for source, cmd in cmds:
            if cmd.startswith("dig") and not dig:
                continue
            real = cmd.replace("5353", str(server.port)).replace(":8053", ":%d" % http_port)
            if cmd.startswith("dig"):
                real = real.replace("dig", dig, 1)
            rc, out = run(["sh", "-c", real], root)
            errs = [] if rc == 0 else ["exit %s: %s" % (rc, out)]
            if cmd.startswith("dig") and "status: NOERROR" not in out:
                errs.append("no NOERROR:\n" + out)
            results.check("%s: %s" % (source, cmd), errs)
        results.check("example server alive", [] if server.alive() else [server.log_tail()])
    finally:
        server.stop()


def check_links(results):
    for rel in READMES:
        text = read(rel)
        base = os.path.dirname(os.path.join(REPO, rel))
        errs = []
        for target in re.findall(r"\]\(([^)#\s]+)[^)]*\)", text):
            if re.match(r"[a-z]+://", target):
                continue
            if not os.path.exists(os.path.normpath(os.path.join(base, target))):
                errs.append("link to %s does not resolve" % target)
        for ref in ("DESIGN.md", "research/"):
            if ref in text:
                errs.append("mentions %s, which is not in the repository" % ref)
        results.check("%s: links resolve inside the repository" % rel, errs)


def main():
    args = h.parse_args(__doc__.splitlines()[0])
    try:
        import yaml  # noqa: F401
    except ImportError:
        h.skip("python3 module 'yaml' (Debian python3-yaml) is missing")
    dig = h.find_tool("dig")
    results = h.Results(args.verbose)
    check_links(results)
    with h.TempDir(args.keep) as tmp:
        check_yaml_examples(results, args, tmp)
        check_quick_start(results, args, tmp, dig)
    if not dig:
        print("note: dig (Debian dnsutils) not found: the dig commands were not run")
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
