#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 003: `meridiand -n` accepts good input and rejects broken input with
`file:line: message` (STYLE.md: startup and config errors are fatal with
file:line; -n runs the same path and exits).

Each broken case is the valid example.com.zone / meridian.yaml in this folder
with one edit; the test knows the line it touched and asserts that stderr
names that file and line (where a line makes sense) and a keyword.
"""

import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness as h  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ZONE = "example.com.zone"
CONFIG = "meridian.yaml"
SHIPPED_CONFIG = os.path.normpath(os.path.join(HERE, "..", "..", "..", "zones", "meridian.yaml"))


def read_lines(name):
    with open(os.path.join(HERE, name)) as f:
        return f.read().splitlines()


def line_of(lines, needle):
    """1-based number of the first line containing needle."""
    for i, line in enumerate(lines, 1):
        if needle in line:
            return i
    raise KeyError(needle)


class Variant:
    """The valid zone and config, edited. Edits are functions on the list of
    lines; they return the 1-based line numbers the error may be reported at
    (None: no particular line)."""

    def __init__(self, label, keyword=None, zone_edit=None, config_edit=None, bad_file=None,
                 expect_ok=False, keyword_any=None):
        self.label = label
        self.keyword = keyword
        self.keyword_any = keyword_any
        self.zone_edit = zone_edit
        self.config_edit = config_edit
        self.bad_file = bad_file  # which file the message must name
        self.expect_ok = expect_ok

    def write(self, d):
        zone, config = read_lines(ZONE), read_lines(CONFIG)
        lines = None
        if self.zone_edit:
            lines = self.zone_edit(zone)
        if self.config_edit:
            lines = self.config_edit(config)
        for name, text in ((ZONE, zone), (CONFIG, config)):
            with open(os.path.join(d, name), "w") as f:
                f.write("\n".join(text) + "\n")
        return lines


# Edits ----------------------------------------------------------------------


def drop(needle):
    def edit(lines):
        del lines[line_of(lines, needle) - 1]
        return None
    return edit


def drop_soa(lines):
    start = line_of(lines, "IN SOA")
    end = line_of(lines, "1 7200 3600")
    del lines[start - 1:end]
    return None


def drop_apex_ns(lines):
    for needle in ("IN NS   ns2", "IN NS   ns1"):
        del lines[line_of(lines, needle) - 1]
    return None


def insert_after(needle, new):
    """Insert `new` after the line containing needle; the error belongs there."""
    def edit(lines):
        at = line_of(lines, needle)
        lines.insert(at, new)
        return {at + 1}
    return edit


def cname_beside_a(lines):
    # RFC 1034 §3.6.2 / RFC 2181 §10.1: a CNAME owner has no other data. The
    # loader may blame either record of the pair, whichever it meets second.
    a_line = line_of(lines, "www     IN A")
    lines.insert(a_line, "www     IN CNAME ns1")
    return {a_line, a_line + 1}


def no_glue(lines):
    # The only address of ns1.sub goes: the in-zone NS target has no glue.
    del lines[line_of(lines, "ns1.sub IN A") - 1]
    return {line_of(lines, "sub     IN NS")}


def unknown_key(lines):
    at = line_of(lines, "workers:")
    lines.insert(at, "  frobnicate_level: 3")
    return {at + 1}


def replace(needle, new):
    def edit(lines):
        at = line_of(lines, needle)
        lines[at - 1] = new
        return {at}
    return edit


def no_line(edit):
    """The error is found after the line that causes it (e.g. an unclosed
    YAML flow sequence is noticed later): only the file is asserted."""
    def wrapped(lines):
        edit(lines)
        return None
    return wrapped


def append_lines(new, line):
    """Appends lines at the end; the error is expected at the `line`-th of them (1-based)."""
    def edit(lines):
        start = len(lines)
        lines.extend(new)
        return {start + line} if line else None
    return edit


def missing_zone_file(lines):
    # The config names a file that is not there: the config's zone entry is
    # where the operator looks (either its origin or its file line).
    at = line_of(lines, "file: example.com.zone")
    lines[at - 1] = "    file: no-such-file.zone"
    return {at - 1, at}


VARIANTS = [
    Variant("good config", expect_ok=True),
    Variant("zone without SOA", "SOA", zone_edit=drop_soa, bad_file=ZONE),
    Variant("zone without apex NS", "NS", zone_edit=drop_apex_ns, bad_file=ZONE),
    Variant("CNAME beside other data", "CNAME", zone_edit=cname_beside_a, bad_file=ZONE),
    Variant("record outside the origin", "outside",
            zone_edit=insert_after("www     IN A", "www.example.net. IN A 192.0.2.99"),
            bad_file=ZONE),
    Variant("delegation without in-zone glue", "glue", zone_edit=no_glue, bad_file=ZONE),
    Variant("bad A rdata", None,
            zone_edit=insert_after("www     IN A", "bad     IN A    192.0.2.300"),
            bad_file=ZONE),
    Variant("bad AAAA rdata", None,
            zone_edit=insert_after("ns2     IN A", "v6      IN AAAA 2001:db8::zz"),
            bad_file=ZONE),
    Variant("unknown type mnemonic", "unknown RR type 'FROB'",
            zone_edit=insert_after("ns2     IN A", "x       IN FROB 1"),
            bad_file=ZONE),
    Variant("unknown type mnemonic after a TTL and class", "unknown RR type 'Frob2'",
            zone_edit=insert_after("ns2     IN A", "x       300 IN Frob2 1"),
            bad_file=ZONE),
    Variant("unknown server.user", "no such user 'no-such-user-meridian'",
            config_edit=insert_after("workers:", "  user: no-such-user-meridian"),
            bad_file=CONFIG),
    Variant("unknown server.group", "no such group 'no-such-group-meridian'",
            config_edit=insert_after("workers:", "  group: no-such-group-meridian"),
            bad_file=CONFIG),
    Variant("server.group without server.user", "needs server.user",
            config_edit=insert_after("workers:", "  group: root"), bad_file=CONFIG),
    Variant("exec check uses {port} without a port", "sets no port",
            config_edit=append_lines(["checks:",
                                      '  script: { type: exec, command: [/bin/true, "{port}"] }'],
                                     line=2),
            bad_file=CONFIG),
    Variant("exec check with a port for {port}", expect_ok=True,
            config_edit=append_lines(["checks:",
                                      "  script: { type: exec, port: 8080,",
                                      '            command: [/bin/true, "{address}", "{port}"] }'],
                                     line=None)),
    Variant("unknown config key", None, keyword_any=("frobnicate_level",),
            config_edit=unknown_key, bad_file=CONFIG),
    Variant("bad workers value", "workers", config_edit=replace("workers:", "  workers: many"),
            bad_file=CONFIG),
    Variant("bad listen address", "listen",
            config_edit=replace("listen:", '  listen: ["127.0.0.1:99999"]'), bad_file=CONFIG),
    Variant("YAML syntax error", None,
            config_edit=no_line(replace("identity:", "  identity: [unclosed")), bad_file=CONFIG),
    Variant("missing zone file", None, keyword_any=("no-such-file.zone",),
            config_edit=missing_zone_file, bad_file=CONFIG),
]

LOC = re.compile(r"(?P<file>[^\s:]+):(?P<line>\d+):")


def judge(variant, rc, stderr, lines):
    errs = []
    if variant.expect_ok:
        if rc != 0:
            errs.append("exit %d, want 0; stderr:\n%s" % (rc, stderr))
        return errs
    if rc == 0:
        return ["exit 0 on broken input"]
    if rc < 0:
        return ["killed by signal %d (crash?); stderr:\n%s" % (-rc, stderr)]
    locs = [(os.path.basename(m.group("file")), int(m.group("line")))
            for m in LOC.finditer(stderr)]
    named = [ln for f, ln in locs if f == variant.bad_file]
    if not named:
        errs.append("stderr does not name %s:LINE:" % variant.bad_file)
    elif lines is not None and not set(named) & lines:
        errs.append("line %s, want one of %s" % (named, sorted(lines)))
    keywords = ([variant.keyword] if variant.keyword else []) + list(variant.keyword_any or ())
    for k in keywords:
        if k.lower() not in stderr.lower():
            errs.append("stderr lacks the keyword %r" % k)
    if errs:
        errs.append("stderr: %s" % stderr.strip())
    return errs


def run_check(meridiand, config, cwd):
    try:
        p = subprocess.run([meridiand, "-n", "-c", config], cwd=cwd, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=h.scaled(30))
    except subprocess.TimeoutExpired:
        return None, "timed out after %.0f s" % h.scaled(30)
    return p.returncode, p.stderr.decode("utf-8", "replace")


def main():
    args = h.parse_args(__doc__.splitlines()[0])
    results = h.Results(args.verbose)
    with h.TempDir(args.keep) as tmp:
        for i, v in enumerate(VARIANTS):
            d = tmp.join("%02d" % i)
            os.makedirs(d)
            lines = v.write(d)
            rc, err = run_check(args.meridiand, os.path.join(d, CONFIG), d)
            if rc is None:
                results.check(v.label, [err])
                continue
            results.check(v.label, judge(v, rc, err, lines))
        # The example config the README runs, from another directory: zone
        # paths are relative to the config file, not to the cwd.
        rc, err = run_check(args.meridiand, SHIPPED_CONFIG, tmp.path)
        results.check("shipped zones/meridian.yaml",
                      [] if rc == 0 else ["exit %s; stderr:\n%s" % (rc, err)])
        # Relative config path given from its own directory.
        shutil.copy(os.path.join(HERE, ZONE), tmp.join(ZONE))
        shutil.copy(os.path.join(HERE, CONFIG), tmp.join(CONFIG))
        rc, err = run_check(args.meridiand, CONFIG, tmp.path)
        results.check("relative config path", [] if rc == 0 else
                      ["exit %s; stderr:\n%s" % (rc, err)])
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
