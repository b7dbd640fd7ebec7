#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 026: the /status page in a real browser (issue 14).

meridiand runs with server.http_listen and a service whose three members are checked by a
file check (states.txt, interval 1 s, rise/fall 1). Headless Chromium (Debian chromium)
loads /status: the DOM it builds must show the zone with its serial, the service, each
member with its state, and a screenshot is saved beside the build (tests/artifacts/
status.png, never in the source tree). Then one member goes down (its line in states.txt
says down), another is drained with meridianctl, the site is drained: the page, loaded
again, shows the member down, the drained one forced down, the site drained, and the
transitions in its table. A service name with HTML in it comes out escaped.
"""

import html.parser
import json
import os
import shutil
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness as h  # noqa: E402

ORIGIN = "status.test"
SERVICE = "www.status.test."
MEMBERS = ["192.0.2.11", "192.0.2.12", "192.0.2.13"]
NSID = h.new_nsid("status")


def write_config(tmp, port, http_port):
    lines = ["server:",
             '  listen: ["%s:%d"]' % (h.V4, port),
             "  workers: 1",
             '  nsid: "%s"' % NSID,
             '  identity: "<b>ns1</b>"',
             '  http_listen: "%s:%d"' % (h.V4, http_port),
             "  control_socket: %s" % tmp.join("ctl.sock"),
             "zones:",
             "  - origin: " + ORIGIN,
             "    file: " + tmp.join("zone"),
             "checks:",
             "  states: { type: file, file: %s, interval: 1s, timeout: 500ms, rise: 1, fall: 1 }"
             % tmp.join("states.txt"),
             "services:",
             "  " + SERVICE + ":",
             "    pools:",
             "      main:",
             "        members:"]
    lines += ["          - { address: %s, check: states }" % m for m in MEMBERS]
    path = tmp.join("meridian.yaml")
    h.write_file(path, "\n".join(lines) + "\n")
    return path


def write_states(tmp, down=()):
    h.write_file(tmp.join("states.txt"),
                 "".join("%s %s\n" % (m, "down" if m in down else "up") for m in MEMBERS))


class Rows(html.parser.HTMLParser):
    """The text of every table row with a class, by class; and the page's plain text."""

    def __init__(self):
        super().__init__()
        self.rows = {}
        self.row = None
        self.cells = None
        self.text = []
        self.site = None
        self.in_site = False

    def handle_starttag(self, tag, attrs):
        cls = dict(attrs).get("class")
        if tag == "tr" and cls:
            self.row = cls
            self.cells = []
        elif tag == "td" and self.cells is not None:
            self.cells.append("")
        if dict(attrs).get("id") == "site":
            self.in_site = True

    def handle_endtag(self, tag):
        if tag == "tr" and self.row:
            self.rows.setdefault(self.row, []).append(self.cells)
            self.row = self.cells = None
        if tag == "b":
            self.in_site = False

    def handle_data(self, data):
        self.text.append(data)
        if self.cells:
            self.cells[-1] += data
        if self.in_site:
            self.site = data


def browser_dom(chromium, url, tmp):
    """The DOM Chromium built for url (--dump-dom), parsed."""
    p = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--user-data-dir=" + tmp.join("chromium"), "--dump-dom", url],
                       capture_output=True, timeout=h.scaled(90))
    if p.returncode != 0 or b"<html" not in p.stdout:
        raise AssertionError("chromium --dump-dom: exit %d: %s" % (p.returncode,
                                                                   p.stderr[-2000:].decode()))
    rows = Rows()
    rows.feed(p.stdout.decode("utf-8", "replace"))
    return rows, p.stdout.decode("utf-8", "replace")


def screenshot(chromium, url, tmp, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    p = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--user-data-dir=" + tmp.join("chromium"), "--hide-scrollbars",
                        "--window-size=412,915", "--screenshot=" + path, url],
                       capture_output=True, timeout=h.scaled(90))
    with open(path, "rb") as f:
        head = f.read(8)
    if p.returncode != 0 or head != b"\x89PNG\r\n\x1a\n":
        raise AssertionError("chromium --screenshot: exit %d, %s" % (p.returncode, head))


def members(rows):
    """{address: (state, probes, forced)} from the page's member rows."""
    # Columns: pool, member, state, probes, forced, since, transitions, answers, last error.
    return {c[1]: (c[2], c[3], c[4]) for c in rows.rows.get("member", [])}


def wait_json(http_port, predicate, what):
    deadline = time.monotonic() + h.scaled(20)
    doc = None
    while time.monotonic() < deadline:
        status, body = h.http_get(http_port, "/status.json")
        if status == 200:
            doc = json.loads(body)
            if predicate(doc):
                return doc
        time.sleep(0.1)
    raise AssertionError("timed out waiting for %s; last status.json: %s" % (what, doc))


def json_members(doc):
    return {m["address"]: m for s in doc["services"] for p in s["pools"] for m in p["members"]}


def main():
    args = h.parse_args(__doc__, extra=h.meridianctl_option)
    chromium = shutil.which("chromium")
    if not chromium:
        h.skip("chromium not found (Debian chromium: deploy/install-deps.sh --test)")
    ctl = h.meridianctl_path(args)
    build = os.path.dirname(os.path.dirname(os.path.abspath(args.meridiand)))
    shot = os.path.join(build, "tests", "artifacts", "status.png")
    failures = []
    with h.TempDir() as tmp:
        h.write_file(tmp.join("zone"), h.small_zone(ORIGIN, "www2 A 192.0.2.80")
                     .replace(" 1 7200 ", " 2026120601 7200 "))
        write_states(tmp)
        http_port = h.free_port((h.V4,), (socket.SOCK_STREAM,))
        srv = h.start_with_free_port(
            lambda port: h.Meridiand(args.meridiand, tmp.path, port,
                                     write_config(tmp, port, http_port), NSID, addrs=(h.V4,)),
            "www2." + ORIGIN)
        with srv:
            url = "http://%s:%d/status" % (h.V4, http_port)
            wait_json(http_port, lambda d: all(m["state"] == "up"
                                               for m in json_members(d).values()),
                      "every member up")
            rows, page = browser_dom(chromium, url, tmp)
            zones = rows.rows.get("zone", [])
            if not zones or zones[0][0] != ORIGIN or zones[0][1] != "2026120601":
                failures.append("zone row: %r" % zones)
            if SERVICE not in "".join(rows.text):
                failures.append("service %s not on the page" % SERVICE)
            got = members(rows)
            want = {m: ("up", "up", "none") for m in MEMBERS}
            if got != want:
                failures.append("members before: %r, expected %r" % (got, want))
            if rows.site != "active":
                failures.append("site: %r, expected active" % rows.site)
            # The identity holds HTML: shown as text, never as markup.
            if "<b>ns1</b>" not in "".join(rows.text) or "&lt;b&gt;ns1" not in page:
                failures.append("identity not escaped: %s" % page[:600])
            if 'name="viewport"' not in page:
                failures.append("no viewport meta")
            screenshot(chromium, url, tmp, shot)
            print("screenshot: %s" % shot)

            # One member down by its probe, one drained, the site drained.
            write_states(tmp, down=(MEMBERS[0],))
            for words in (("drain", "member", MEMBERS[1]), ("drain", "site")):
                p = subprocess.run([ctl, "-s", tmp.join("ctl.sock")] + list(words),
                                   capture_output=True, timeout=30)
                if p.returncode != 0:
                    failures.append("meridianctl %s: %s" % (" ".join(words), p.stdout + p.stderr))
            wait_json(http_port, lambda d: json_members(d)[MEMBERS[0]]["state"] == "down",
                      MEMBERS[0] + " down")
            rows, page = browser_dom(chromium, url, tmp)
            got = members(rows)
            want = {MEMBERS[0]: ("down", "down", "none"), MEMBERS[1]: ("down", "up", "down"),
                    MEMBERS[2]: ("up", "up", "none")}
            if got != want:
                failures.append("members after: %r, expected %r" % (got, want))
            if rows.site != "drained":
                failures.append("site: %r, expected drained" % rows.site)
            changes = {(c[1], c[2], c[3]) for c in rows.rows.get("transition", [])}
            for key in ((MEMBERS[0] + "|states", "up", "down"),
                        (MEMBERS[1] + "|states", "up", "down")):
                if key not in changes:
                    failures.append("transition %r not listed: %r" % (key, changes))
            screenshot(chromium, url, tmp, shot.replace(".png", "-down.png"))
    for f in failures:
        print("FAIL: " + f)
    if failures:
        return 1
    print("ok: status page in chromium before and after a member went down and one was "
          "drained")
    return 0


if __name__ == "__main__":
    sys.exit(main())
