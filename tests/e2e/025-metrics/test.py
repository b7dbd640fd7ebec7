#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 025: /metrics counts exactly what was sent (issue 14).

meridiand runs with server.http_listen on a held loopback port and log_format json. After a
baseline scrape the test sends a known set of messages and scrapes again; every counter's
difference must equal what was sent, no more, no less:

* A over UDP/IPv4 (5), AAAA over UDP/IPv6 (3), A over TCP (3 connections), NXDOMAIN (2),
  a TXT answer too big for 512 bytes without EDNS (TC, 1), steered A with ECS 10.2.0.0/24
  (DE in geoip/sample.csv: pool eu, its one member; 4), a header-only query (QDCOUNT 0:
  FORMERR, 1), a 5-byte datagram (dropped, short), a response (QR set: dropped) and a TCP
  message whose length prefix says 5 (the connection closed: tcp_framing).
* promtool check metrics (Debian prometheus) accepts the page.
* A reload that raises the zone's serial: reloads_total{result="ok"} +1, zone_serial
  follows, and the per-service/pool/member counters carry across it.
* meridianctl stats (the control socket) shows the same counts; /status.json parses.
* every log line is a JSON object with time, level and msg.
* every metric deploy/grafana/meridian-dashboard.json and deploy/prometheus/ name is one
  /metrics has, and promtool check config accepts deploy/prometheus/prometheus.yml.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness as h  # noqa: E402

import dns.edns  # noqa: E402
import dns.message  # noqa: E402
import dns.rcode  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
GEOIP_MMDB = os.path.join(ROOT, "geoip", "sample.mmdb")
ORIGIN = "metrics.test"
SERVICE = "geo.metrics.test."
NSID = h.new_nsid("metrics")
BIG_TXT = " ".join('"%s"' % ("x" * 200) for _ in range(4))


def zone_text(serial):
    return h.small_zone(ORIGIN, "www A 192.0.2.80", "www AAAA 2001:db8::80",
                        "big TXT " + BIG_TXT).replace(" 1 7200 ", " %d 7200 " % serial)


def write_config(tmp, port, http_port):
    lines = ["server:",
             '  listen: ["%s:%d", "[%s]:%d"]' % (h.V4, port, h.V6, port),
             "  workers: 2",
             '  nsid: "%s"' % NSID,
             '  http_listen: "%s:%d"' % (h.V4, http_port),
             "  log_format: json",
             # Rate limiting counts every UDP response; a rate no test query reaches.
             "  rrl: { rate: 1000 }",
             "  control_socket: %s" % tmp.join("ctl.sock"),
             "zones:",
             "  - origin: " + ORIGIN,
             "    file: " + tmp.join("zone"),
             "geoip:",
             "  database: " + GEOIP_MMDB,
             "services:",
             "  " + SERVICE + ":",
             "    pools:",
             "      eu: { members: [ {address: 192.0.2.10} ] }",
             "      us: { members: [ {address: 198.51.100.10} ] }",
             "    geo: { country: { DE: [eu] }, default: [us] }"]
    path = tmp.join("meridian.yaml")
    h.write_file(path, "\n".join(lines) + "\n")
    return path


def scrape(http_port):
    status, body = h.http_get(http_port, "/metrics")
    if status != 200:
        raise AssertionError("GET /metrics: %s %s" % (status, body[:200]))
    return body


def query(name, rdtype, port, tcp=False, addr=h.V4, ecs=None, edns=False):
    q = dns.message.make_query(name, rdtype, use_edns=0 if (ecs or edns) else False,
                               options=[dns.edns.ECSOption(ecs, 24)] if ecs else [])
    q.flags = 0
    reply = h.parse(h.exchange(q.to_wire(), port, tcp, addr))
    if reply is None:
        raise AssertionError("no reply to %s %s" % (name, rdtype))
    return reply


def send(port):
    """The messages of the docstring; returns the replies worth a look."""
    for _ in range(5):
        assert query("www." + ORIGIN, "A", port).rcode() == dns.rcode.NOERROR
    for _ in range(3):
        query("www." + ORIGIN, "AAAA", port, addr=h.V6)
    for _ in range(3):
        query("www." + ORIGIN, "A", port, tcp=True)
    for _ in range(2):
        assert query("nope." + ORIGIN, "A", port).rcode() == dns.rcode.NXDOMAIN
    big = query("big." + ORIGIN, "TXT", port)
    assert big.flags & dns.flags.TC, "the TXT answer was expected to be truncated"
    for _ in range(4):
        r = query(SERVICE, "A", port, ecs="10.2.0.0")
        got = [rr.address for rrset in r.answer for rr in rrset]
        assert got == ["192.0.2.10"], got
    header_only = bytes([0x12, 0x34, 0, 0] + [0] * 8)
    r = h.parse(h.udp_exchange(header_only, port))
    assert r is not None and r.rcode() == dns.rcode.FORMERR, r
    h.udp_send_only(b"\x01\x02\x03\x04\x05", port)
    # A TCP length prefix shorter than a header: the connection is closed unanswered.
    with h.tcp_connect(port) as s:
        s.sendall(b"\x00\x05hello")
        assert s.recv(10) == b"", "a 5-byte TCP message was answered"
    response = bytes([0x55, 0x66, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    assert h.udp_exchange(response, port, timeout=0.5) is None


# Differences the messages above must make, exactly: (name, labels, delta).
EXPECTED = [
    ("meridian_queries_total", {"transport": "udp", "family": "ipv4"}, 5 + 2 + 1 + 4 + 1 + 1),
    ("meridian_queries_total", {"transport": "udp", "family": "ipv6"}, 3),
    ("meridian_queries_total", {"transport": "tcp", "family": "ipv4"}, 3),
    ("meridian_queries_total", {"transport": "tcp", "family": "ipv6"}, 0),
    ("meridian_queries_by_qtype_total", {"qtype": "A"}, 5 + 3 + 2 + 4),
    ("meridian_queries_by_qtype_total", {"qtype": "AAAA"}, 3),
    ("meridian_queries_by_qtype_total", {"qtype": "TXT"}, 1),
    ("meridian_queries_by_qtype_total", {"qtype": "other"}, 1),  # QDCOUNT 0: type 0
    ("meridian_queries_by_qtype_total", {"qtype": "SOA"}, 0),
    ("meridian_responses_total", {"rcode": "NOERROR"}, 5 + 3 + 3 + 1 + 4),
    ("meridian_responses_total", {"rcode": "NXDOMAIN"}, 2),
    ("meridian_responses_total", {"rcode": "FORMERR"}, 1),
    ("meridian_responses_total", {"rcode": "REFUSED"}, 0),
    ("meridian_malformed_total", {}, 1),
    ("meridian_truncated_total", {}, 1),
    ("meridian_edns_queries_total", {}, 4),
    ("meridian_ecs_queries_total", {}, 4),
    ("meridian_ecs_used_total", {}, 4),
    ("meridian_steered_total", {}, 4),
    ("meridian_failed_open_total", {}, 0),
    ("meridian_dropped_total", {"reason": "short"}, 1),
    ("meridian_dropped_total", {"reason": "unanswerable"}, 1),
    ("meridian_dropped_total", {"reason": "udp_truncated"}, 0),
    ("meridian_dropped_total", {"reason": "tcp_framing"}, 1),
    ("meridian_tcp_connections_accepted_total", {}, 4),
    ("meridian_tcp_connections_closed_total", {}, 4),
    ("meridian_tcp_connections_evicted_total", {}, 0),
    ("meridian_service_answers_total", {"service": SERVICE}, 4),
    ("meridian_pool_answers_total", {"service": SERVICE, "pool": "eu"}, 4),
    ("meridian_pool_answers_total", {"service": SERVICE, "pool": "us"}, 0),
    ("meridian_member_answers_total", {"service": SERVICE, "pool": "eu", "member": "192.0.2.10"},
     4),
    # Every UDP response goes past rate limiting (the FORMERR too; the dropped ones never
    # become responses): 5 + 3 + 2 + 1 + 4 + 1.
    ("meridian_rrl_responses_total", {}, 16),
    ("meridian_rrl_limited_total", {"class": "positive"}, 0),
    ("meridian_rrl_actions_total", {"action": "dropped"}, 0),
    ("meridian_rrl_exempt_total", {"reason": "cookie"}, 0),
]


def check_deltas(before, after):
    errs = []
    for name, labels, want in EXPECTED:
        got = h.prom_value(after, name, **labels) - h.prom_value(before, name, **labels)
        if got != want:
            errs.append("%s%s: +%g, expected +%d" % (name, labels, got, want))
        if want and (name, frozenset(labels.items())) not in after:
            errs.append("%s%s: missing" % (name, labels))
    return errs


def wait_for(predicate, what, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def promtool_check(text, promtool):
    p = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True,
                       timeout=60)
    out = (p.stdout + p.stderr).decode("utf-8", "replace").strip()
    return p.returncode, out


def check_deploy(text, promtool):
    """The dashboard and the alert rules name only metrics we export."""
    errs = []
    families = set(re.findall(r"^# TYPE (\w+) ", text, re.M))
    for rel in ("deploy/grafana/meridian-dashboard.json", "deploy/prometheus/meridian-rules.yml"):
        with open(os.path.join(ROOT, rel)) as f:
            used = set(re.findall(r"\bmeridian_\w+", f.read()))
        for name in sorted(used):
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            if name not in families and base not in families:
                errs.append("%s uses %s, which /metrics does not have" % (rel, name))
    with open(os.path.join(ROOT, "deploy/grafana/meridian-dashboard.json")) as f:
        json.load(f)
    p = subprocess.run([promtool, "check", "config",
                        os.path.join(ROOT, "deploy/prometheus/prometheus.yml")],
                       capture_output=True, timeout=60)
    if p.returncode != 0:
        errs.append("promtool check config: %s" % (p.stdout + p.stderr).decode()[-1000:])
    return errs


def main():
    args = h.parse_args(__doc__, extra=h.meridianctl_option)
    promtool = shutil.which("promtool")
    if not promtool:
        h.skip("promtool not found (Debian prometheus: deploy/install-deps.sh --test)")
    if not os.path.exists(GEOIP_MMDB):
        h.skip("geoip/sample.mmdb is missing")
    ctl = h.meridianctl_path(args)
    failures = []
    with h.TempDir() as tmp:
        h.write_file(tmp.join("zone"), zone_text(1))
        http_port = h.free_port((h.V4,), (socket.SOCK_STREAM,))
        srv = h.start_with_free_port(
            lambda port: h.Meridiand(args.meridiand, tmp.path, port,
                                     write_config(tmp, port, http_port), NSID),
            "www." + ORIGIN)
        with srv:
            before = h.prom_samples(scrape(http_port))
            # The readiness checks' TCP connections are closed by now or soon: wait.
            wait_for(lambda: h.prom_value(h.prom_samples(scrape(http_port)),
                                          "meridian_tcp_connections_closed_total") ==
                     h.prom_value(h.prom_samples(scrape(http_port)),
                                  "meridian_tcp_connections_accepted_total"),
                     "the readiness checks' TCP connections to close", h.scaled(10))
            before = h.prom_samples(scrape(http_port))
            send(srv.port)
            # meridiand closes a TCP connection when it reads the client's EOF.
            wait_for(lambda: h.prom_value(h.prom_samples(scrape(http_port)),
                                          "meridian_tcp_connections_closed_total") -
                     h.prom_value(before, "meridian_tcp_connections_closed_total") >= 4,
                     "4 TCP connections closed", h.scaled(10))
            text = scrape(http_port)
            after = h.prom_samples(text)
            failures += check_deltas(before, after)
            rc, out = promtool_check(text, promtool)
            if rc != 0:
                failures.append("promtool check metrics: exit %d: %s" % (rc, out[:2000]))
            else:
                print("promtool check metrics: ok%s" % (" (" + out + ")" if out else ""))
            failures += check_deploy(text, promtool)
            if h.prom_value(after, "meridian_resident_memory_bytes") < 1 << 20:
                failures.append("resident memory below 1 MiB: %s"
                                % h.prom_value(after, "meridian_resident_memory_bytes"))
            if h.prom_value(after, "meridian_zone_serial", zone=ORIGIN) != 1:
                failures.append("zone serial before the reload is not 1")
            hist = [k for k in after if k[0].startswith("meridian_health_probe_duration")]
            if hist:
                failures.append("histogram series for unchecked targets: %s" % hist[:3])

            # A reload raising the serial; the steered counts carry over.
            h.write_file(tmp.join("zone"), zone_text(2))
            rc, reply = h.control(tmp.join("ctl.sock"), "reload")
            if rc != 0:
                failures.append("reload: " + reply)
            again = h.prom_samples(scrape(http_port))
            for name, labels, want in (
                    ("meridian_reloads_total", {"result": "ok"}, 1),
                    ("meridian_reloads_total", {"result": "failed"}, 0),
                    ("meridian_zone_serial", {"zone": ORIGIN}, 2),
                    ("meridian_last_reload_success", {}, 1),
                    ("meridian_member_answers_total",
                     {"service": SERVICE, "pool": "eu", "member": "192.0.2.10"},
                     h.prom_value(after, "meridian_member_answers_total", service=SERVICE,
                                  pool="eu", member="192.0.2.10"))):
                got = h.prom_value(again, name, **labels)
                if got != want:
                    failures.append("after reload: %s%s = %g, expected %g"
                                    % (name, labels, got, want))

            # meridianctl stats, through the real client.
            p = subprocess.run([ctl, "-s", tmp.join("ctl.sock"), "stats"], capture_output=True,
                               timeout=30)
            stats = p.stdout.decode()
            want_lines = ["member %s eu 192.0.2.10 4" % SERVICE, "truncated %d" %
                          h.prom_value(again, "meridian_truncated_total"),
                          "rcode NXDOMAIN %d" % h.prom_value(again, "meridian_responses_total",
                                                             rcode="NXDOMAIN"),
                          "reloads ok 1"]
            for line in want_lines:
                if p.returncode != 0 or line not in stats.splitlines():
                    failures.append("meridianctl stats (exit %d) lacks %r:\n%s"
                                    % (p.returncode, line, stats))

            status, body = h.http_get(http_port, "/status.json")
            try:
                doc = json.loads(body)
                if [s["name"] for s in doc["services"]] != [SERVICE]:
                    failures.append("status.json services: %r" % doc["services"])
                if doc["zones"][0]["serial"] != 2:
                    failures.append("status.json zone serial: %r" % doc["zones"])
            except (ValueError, KeyError, IndexError) as e:
                failures.append("status.json (%s): %s: %s" % (status, e, body[:300]))
            status, _ = h.http_get(http_port, "/nope")
            if status != 404:
                failures.append("GET /nope: %s, expected 404" % status)
        for line in open(srv.log_path, encoding="utf-8", errors="replace"):
            try:
                entry = json.loads(line)
                assert set(entry) == {"time", "level", "msg"}, entry
            except (ValueError, AssertionError) as e:
                failures.append("log line is not the JSON object expected (%s): %r" % (e, line))
                break
    for f in failures:
        print("FAIL: " + f)
    if failures:
        return 1
    print("ok: %d counters matched exactly, promtool, reload, meridianctl stats, JSON logs"
          % len(EXPECTED))
    return 0


if __name__ == "__main__":
    sys.exit(main())
