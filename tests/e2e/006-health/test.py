#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 006: health checks against real backends, with the real meridiand and meridianctl.

The test starts its own backends on loopback addresses 127.66.x.y: Python http.server
instances (one per address, paths /health, /teapot (418), /body ("status: sick"), /flap
(200 and 503 in turn)), an HTTPS server with a self-signed certificate made by `openssl req
-x509` (ssl-wrapped http.server), a plain TCP listener, a small DNS responder (UDP, modes
ok / servfail / silent), a listener that accepts TCP but never answers ("hang"), an exec
check script (exit 0 when a flag file exists) and a file check's state file. Then meridiand
with a control socket and a state file in the temp dir. Every service answers `select: all`,
so an answer is the set of its healthy members. Asserted, with bounds, and the measured times
printed:

* every check type up and down, with the reason in `meridianctl states` (TLS verification
  against a self-signed certificate, expect_status / expect_body mismatches, DNS rcode and
  answer, TCP refused, exec exit status, file up / down / absent / missing file);
* a stopped HTTP backend leaves the answers after `fall` failures (bounded by (fall+1) probe
  periods as measured at the backend in this run, and not before (fall-1) intervals), returns
  after `rise` successes;
* a backend failing every other probe never flaps (rise 2, fall 2) over 8 probes;
* TTLs are capped at the time until the next possible state change, and a change never
  comes before an answer's TTL has run out (1 s rounding slack);
* all_down: all (fail open, drained members stay out), nodata, pool:backup;
* meridianctl drain / undrain / force up for member, pool, site; errors for bad selectors;
* restart with `startup: persisted` (states and drains restored from the state file, a down
  member is down in the first answer without a probe result of the new run) and with
  `startup: wait` (the static zone and a `startup: up` service answered at once, the waiting
  service's answers dropped until its first probe round is in, which the first answer
  reflects);
* SIGHUP reload keeps states (no flap, transitions unchanged) and `status` says
  last_reload: ok.

Network safety: only 127.0.0.0/8 (127.0.0.1 for meridiand, 127.66.x.y for backends); every
loop is bounded in count and time; only processes we started are signalled, by pid.

Time: every interval, timeout and bound below is multiplied by the build's time scale
(harness.TIME_SCALE: 3 for the ASan build). Checks fall in three groups. `steady` checks,
whose state and reason are the point, get a 2 s timeout, far beyond what a loaded machine
needs (the first round probes some thirty targets at once). `fast` checks, whose transitions are timed,
probe every 500 ms with a 400 ms timeout; their bounds are taken on the last poll that still
saw the old state (so the test's own polling delay cannot fail them) and count probe periods
as measured at the backend, plus, per probe counted, the probe lateness meridiand reports
in `status` (nothing on an idle machine). The flapping backend, where one late reply would
be a real flap, gets a 900 ms timeout, and a window in which a probe timed out anyway is run
again. Waits (never bounds) add LOADED. Where the point is an order (an answer before any
probe result, a state kept over a reload), meridiand's own log of its state changes decides,
not the test's clock: a loaded host may run this test seconds late.
"""

import http.server
import math
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)) + "/..")
import harness as h  # noqa: E402

import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.rrset  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ZONE_FILE = os.path.join(HERE, "h.test.zone")
ZONE = "h.test"

S = h.TIME_SCALE
INTERVAL, TIMEOUT = 0.5 * S, 0.4 * S  # the `fast` checks, rise 2, fall 2
RISE = 2
FALL = 2
STEADY_INTERVAL, STEADY_TIMEOUT = 3.0 * S, 2.0 * S  # the `steady` checks (state and reason)
FLAP_INTERVAL, FLAP_TIMEOUT = 1.0 * S, 0.9 * S  # every 200 must make it: a long timeout
SLACK = 0.6 * S  # query polling on a loaded machine, where a bound includes it
# What a wait (never a bound) adds for a loaded host: a wait returns as soon as its condition
# holds, so this costs nothing on an idle machine, and on a starved one (a 2-core CI runner
# running benchmarks beside the tests) probes time out and rounds run seconds late.
LOADED = 10.0 * S
MARGIN = 0.3 * S  # the server's own delay between a probe's result and the published state
SLOW_INTERVAL, SLOW_TIMEOUT, SLOW_FALL, SLOW_RISE = 1.0 * S, 0.8 * S, 3, 2  # the TTL check
HANG_INTERVAL, HANG_TIMEOUT = 3.0 * S, 1.5 * S  # `hang`: its first result needs the timeout
STARTUP_WAIT = 5.0 * S
CONNECT_FAILED = r"(?i)connect"  # curl: "Couldn't connect to server"; tcp: "connect: ..."


def fqdn(short):
    return "%s.%s." % (short, ZONE)


def note(text):
    print(text)
    sys.stdout.flush()


# ----------------------------------------------------------------------------
# Backends (threads of this process, bound to 127.66.x.y only)


class Handler(http.server.BaseHTTPRequestHandler):
    """/health 200 "healthy" (or the server's health_code); /teapot 418; /body 200 "status:
    sick"; /flap 200, then once armed 503 and 200 in turn (per server). Every request is
    logged with its arrival time, so that the test can measure the probe schedule it
    actually got."""

    def log_message(self, *args):
        pass

    def _reply(self, code, body):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):  # noqa: N802 (http.server's name)
        srv = self.server
        at = time.monotonic()
        with srv.lock:
            srv.hits[self.path] = srv.hits.get(self.path, 0) + 1
            n = srv.hits[self.path]
        if self.path == "/health":
            code, body = srv.health_code, "healthy\n"
        elif self.path == "/teapot":
            code, body = 418, "short and stout\n"
        elif self.path == "/body":
            code, body = 200, "status: sick\n"
        elif self.path == "/flap":
            # 200 until armed (so the target comes up whatever the first probes met), then
            # 503 and 200 in turn, starting with 503.
            armed = srv.flap_armed_at
            code = 200 if armed is None or (n - armed) % 2 == 0 else 503
            body = "flap %d\n" % n
        else:
            code, body = 404, "no\n"
        with srv.lock:
            srv.log.append((at, self.path, code))
        self._reply(code, body)

    do_HEAD = do_GET  # noqa: N815


class QuietServer(http.server.ThreadingHTTPServer):
    """A probe abandoned by meridiand (reload, exit, timeout) closes its connection before
    the reply is written: that is expected here, not worth a traceback."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


class HttpBackend:
    """A ThreadingHTTPServer on (addr, port), optionally TLS; stop() closes the port (the
    next probe is refused), start() opens it again."""

    def __init__(self, addr, port, tls=None):
        self.addr, self.port, self.tls = addr, port, tls
        self.srv = None
        self.thread = None

    def start(self):
        srv = QuietServer((self.addr, self.port), Handler)
        srv.lock = threading.Lock()
        srv.hits = {}
        srv.log = []  # (arrival time, path, status) of every request
        srv.health_code = 200
        srv.flap_armed_at = None  # the /flap hit count when alternation began
        if self.tls:
            srv.socket = self.tls.wrap_socket(srv.socket, server_side=True)
        self.srv = srv
        self.thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.srv is None:
            return
        self.srv.shutdown()
        self.srv.server_close()
        self.thread.join(timeout=5)
        self.srv = None

    @property
    def up(self):
        return self.srv is not None

    def set_health(self, code):
        """The status /health answers from now on (200, or e.g. 503 to fail probes)."""
        with self.srv.lock:
            self.srv.health_code = code

    def arm_flap(self, on=True):
        """/flap answers 503 and 200 in turn from the next request on (200 only if not on)."""
        with self.srv.lock:
            self.srv.flap_armed_at = self.srv.hits.get("/flap", 0) if on else None

    def arrivals(self, path, since=0.0):
        """Arrival times (and statuses) of the requests for path since `since`."""
        if self.srv is None:
            return []
        with self.srv.lock:
            return sorted((t, c) for t, p, c in self.srv.log if p == path and t >= since)


class TcpBackend:
    """Accepts and closes connections (accept=True), or listens without ever accepting, so
    a connection completes but an HTTP request is never answered (accept=False: `hang`)."""

    def __init__(self, addr, port, accept=True):
        self.addr, self.port, self.accept = addr, port, accept
        self.sock = None
        self.stop_event = threading.Event()
        self.thread = None

    def start(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.addr, self.port))
        s.listen(64)
        s.settimeout(0.1)
        self.sock = s
        self.stop_event.clear()
        if self.accept:
            self.thread = threading.Thread(target=self._loop, daemon=True)
            self.thread.start()
        return self

    def _loop(self):
        while not self.stop_event.is_set():
            try:
                c, _ = self.sock.accept()
                c.close()
            except (socket.timeout, OSError):
                continue

    def stop(self):
        self.stop_event.set()
        if self.thread:
            self.thread.join(timeout=5)
            self.thread = None
        if self.sock:
            self.sock.close()
            self.sock = None


class DnsBackend:
    """UDP responder: mode "ok" answers probe.example. A 192.0.2.1 and NXDOMAIN for other
    names; "servfail" answers SERVFAIL; "silent" does not answer."""

    def __init__(self, addr, port):
        self.addr, self.port = addr, port
        self.mode = "ok"
        self.queries = 0
        self.stop_event = threading.Event()
        self.sock = None
        self.thread = None

    def start(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((self.addr, self.port))
        s.settimeout(0.1)
        self.sock = s
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        return self

    def _loop(self):
        while not self.stop_event.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except (socket.timeout, OSError):
                continue
            self.queries += 1
            mode = self.mode
            if mode == "silent":
                continue
            try:
                q = dns.message.from_wire(data)
            except Exception:  # a malformed query: ignore it, as a server might
                continue
            r = dns.message.make_response(q)
            r.flags |= dns.flags.AA
            qname = q.question[0].name.to_text().lower() if q.question else ""
            if mode == "servfail":
                r.set_rcode(dns.rcode.SERVFAIL)
            elif qname == "probe.example.":
                r.answer.append(dns.rrset.from_text(q.question[0].name, 60, "IN", "A",
                                                    "192.0.2.1"))
            else:
                r.set_rcode(dns.rcode.NXDOMAIN)
            try:
                self.sock.sendto(r.to_wire(), peer)
            except OSError:
                pass

    def stop(self):
        self.stop_event.set()
        if self.thread:
            self.thread.join(timeout=5)
        if self.sock:
            self.sock.close()


def pick_port(addrs, kind=socket.SOCK_STREAM):
    """A port free for `kind` on every address of addrs, held for this test's life
    (harness.free_port: locked, outside the ephemeral range), so the backends started on
    it later cannot lose it to another process."""
    return h.free_port(addrs, (kind,))


# ----------------------------------------------------------------------------
# Queries and control


def ask(port, name, qtype="A", timeout=1.0):
    q = dns.message.make_query(name, qtype)
    q.flags &= ~dns.flags.RD
    return h.parse(h.udp_exchange(q.to_wire(), port, timeout=timeout))


class Answer:
    def __init__(self, msg, name):
        self.msg = msg
        self.ok = msg is not None
        self.rcode = msg.rcode() if msg else None
        self.addrs = frozenset()
        self.ttls = set()
        if msg:
            for rr in msg.answer:
                if rr.name.to_text().lower() == name.lower() and rr.rdtype == dns.rdatatype.A:
                    self.addrs = frozenset(rd.address for rd in rr)
                    self.ttls.add(rr.ttl)

    @property
    def ttl(self):
        return max(self.ttls) if self.ttls else None

    def __repr__(self):
        if not self.ok:
            return "(no reply)"
        return "%s %s ttl %s" % (dns.rcode.to_text(self.rcode), sorted(self.addrs), self.ttl)


def answer(port, short):
    name = fqdn(short)
    return Answer(ask(port, name), name)


def wait_timed(pred, timeout, step=0.02):
    """Polls pred() until it returns a true value or timeout s pass. Returns (value, before,
    after) in seconds from the call: what pred waits for happened after `before` (when the
    last poll that returned false began) and by `after` (when the first true one returned).
    An upper bound checked on `before` holds however slow the polls themselves are."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    value, before = None, 0.0
    for _ in range(int(timeout / step) + 2):
        began = time.monotonic()
        value = pred()
        if value:
            return value, before, time.monotonic() - t0
        before = began - t0
        if time.monotonic() >= deadline:
            break
        time.sleep(step)
    return value, before, time.monotonic() - t0


def logged(server, key):
    """meridiand's own record of key's state changes, in order: [(from, to, reason)]. The
    health thread logs each one as it happens (monitor.c), so the order of these lines is
    the order of the changes however late this test reads them."""
    pat = re.compile(r"health: %s (unknown|up|down) -> (unknown|up|down) \((.*)\)$"
                     % re.escape(key))
    try:
        with open(server.log_path, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    return [m.groups() for m in map(pat.search, lines) if m]


def wait_for(pred, timeout, step=0.02):
    """Polls pred() until it returns a true value or timeout s pass; returns (value, s)."""
    value, _, after = wait_timed(pred, timeout, step)
    return value, after


class Ctl(h.Meridianctl):
    """meridianctl -s SOCKET, the binary built with meridiand, and its tables parsed."""

    def states(self):
        """{key: dict(state, real, forced, since, transitions, error)}"""
        rc, out = self("states")
        table = {}
        if rc != 0:
            return table
        for line in out.splitlines()[2:]:
            parts = line.split(None, 6)
            if len(parts) < 6:
                continue
            table[parts[0]] = {"state": parts[1], "real": parts[2], "forced": parts[3],
                               "since": parts[4], "transitions": int(parts[5]),
                               "error": parts[6] if len(parts) > 6 else ""}
        return table

    def status(self):
        rc, out = self("status")
        fields = {}
        for line in out.splitlines()[1:]:
            k, _, v = line.partition(":")
            fields[k.strip()] = v.strip()
        return rc, out, fields


# ----------------------------------------------------------------------------
# Configuration


def ms(seconds):
    return "%dms" % round(seconds * 1000)


def check_yaml(extra, interval, timeout, rise=RISE, fall=FALL):
    return "{ %s, interval: %s, timeout: %s, rise: %d, fall: %d }" % (
        extra, ms(interval), ms(timeout), rise, fall)


def fast(extra):
    """A check whose transitions are timed."""
    return check_yaml(extra, INTERVAL, TIMEOUT)


def steady(extra):
    """A check whose state and reason are asserted, not its timing."""
    return check_yaml(extra, STEADY_INTERVAL, STEADY_TIMEOUT)


def hang_check(port):
    return check_yaml("type: http, port: %d, path: /" % port, HANG_INTERVAL, HANG_TIMEOUT)


def service_yaml(name, members, ttl=30, all_down="nodata", startup=None, pools=None,
                 default=None):
    """members: [(address, check or None)] for one pool `main`, or pools={name: members}."""
    pools = pools or {"main": members}
    lines = ["  %s:" % fqdn(name), "    ttl: %d" % ttl, "    select: all",
             "    all_down: %s" % (('"%s"' % all_down) if ":" in all_down else all_down)]
    if startup:
        lines.append("    startup: %s" % startup)
    lines.append("    pools:")
    for pool, mem in pools.items():
        lines.append("      %s:" % pool)
        lines.append("        members:")
        for addr, check in mem:
            lines.append("          - { address: %s%s }" % (addr, (", check: %s" % check)
                                                            if check else ""))
    if default:
        lines.append("    geo: { default: [%s] }" % ", ".join(default))
    return lines


# The NSID of the meridiand on each port (harness.new_nsid): its proof of identity, kept
# across the config rewrites of one instance.
NSIDS = {}


def write_config(path, port, tmp, checks, services, state_file, sock,
                 startup_wait=ms(STARTUP_WAIT)):
    lines = ["server:",
             '  listen: ["127.0.0.1:%d"]' % port,
             '  nsid: "%s"' % NSIDS.setdefault(port, h.new_nsid("meridiand")),
             "  workers: 2",
             "  log_level: info",
             '  state_file: "%s"' % tmp.join(state_file),
             '  control_socket: "%s"' % tmp.join(sock),
             # Answers polled from loopback many times a second: not rate limited.
             "  " + h.RRL_EXEMPT_LOOPBACK,
             "health:",
             "  startup_wait: %s" % startup_wait,
             "zones:",
             '  - { origin: %s, file: "%s" }' % (ZONE, ZONE_FILE),
             "checks:"]
    for name, body in checks.items():
        lines.append("  %s: %s" % (name, body))
    lines.append("services:")
    for svc in services:
        lines += svc
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


# Main instance (A): addresses.
WEB = ["127.66.0.11", "127.66.0.12", "127.66.0.13"]  # http; .13 has no backend (dead)
TTL_ADDR = "127.66.0.14"  # http backend, `slow` check (TTL test)
STATIC_ADDR = "127.66.0.15"  # no check
TLS_ADDR = "127.66.0.21"
CONTENT_ADDR = "127.66.0.31"  # /teapot, /body
FLAP_ADDR = "127.66.0.41"
DNS_ADDR = "127.66.0.51"
TCP_UP, TCP_DEAD = "127.66.0.61", "127.66.0.62"
EXEC_A, EXEC_B = "127.66.0.71", "127.66.0.72"
FILE_UP, FILE_DOWN, FILE_ABSENT = "127.66.0.81", "127.66.0.82", "127.66.0.83"
AD = ["127.66.1.1", "127.66.1.2"]  # all_down services' main pool (http)
AD_BACKUP = "127.66.1.9"  # no check

# Single-member services of the check types: (service, address, check, expected state).
KINDS = [
    ("k-https-noverify", TLS_ADDR, "https-noverify", "up"),
    ("k-https-verify", TLS_ADDR, "https-verify", "down"),
    ("k-status-ok", CONTENT_ADDR, "status-ok", "up"),
    ("k-status-bad", CONTENT_ADDR, "status-bad", "down"),
    ("k-body-ok", CONTENT_ADDR, "body-ok", "up"),
    ("k-body-bad", CONTENT_ADDR, "body-bad", "down"),
    ("k-dns", DNS_ADDR, "dns", "up"),
    ("k-dns-nx", DNS_ADDR, "dns-nx", "down"),
    ("k-dns-answer", DNS_ADDR, "dns-answer", "down"),
    ("k-tcp-up", TCP_UP, "tcp", "up"),
    ("k-tcp-dead", TCP_DEAD, "tcp", "down"),
    ("k-exec-a", EXEC_A, "exec", "up"),
    ("k-exec-b", EXEC_B, "exec", "down"),
    ("k-file-up", FILE_UP, "file", "up"),
    ("k-file-down", FILE_DOWN, "file", "down"),
    ("k-file-absent", FILE_ABSENT, "file", "down"),
]
# What the `last error` column must say for the kinds expected down.
REASONS = {
    "k-https-verify": r"(?i)ssl|tls|certificate",
    "k-status-bad": r"http status 418",
    "k-body-bad": r"body lacks 'healthy'",
    "k-dns-nx": r"rcode NXDOMAIN",
    "k-dns-answer": r"no answer equals '192\.0\.2\.99'",
    "k-tcp-dead": r"(?i)connect: connection refused",
    "k-exec-b": r"exit status 1",
    "k-file-down": r"down in state file",
    "k-file-absent": r"not in state file",
}


def main_config(tmp, port, ports, static_ttl=300):
    hp, sp, dp, tp = ports["http"], ports["https"], ports["dns"], ports["tcp"]
    checks = {
        "http": fast("type: http, port: %d, path: /health" % hp),
        "slow": check_yaml("type: http, port: %d, path: /health" % hp, SLOW_INTERVAL,
                           SLOW_TIMEOUT, SLOW_RISE, SLOW_FALL),
        "https-noverify": steady("type: https, port: %d, path: /health, tls_verify: false"
                                 % sp),
        "https-verify": steady("type: https, port: %d, path: /health" % sp),
        "status-ok": steady("type: http, port: %d, path: /teapot, expect_status: [200, 418]"
                            % hp),
        "status-bad": steady("type: http, port: %d, path: /teapot" % hp),
        "body-ok": steady('type: http, port: %d, path: /body, expect_body: "sick"' % hp),
        "body-bad": steady('type: http, port: %d, path: /body, expect_body: "healthy"' % hp),
        "dns": fast("type: dns, port: %d, qname: probe.example., expect_answer: 192.0.2.1"
                    % dp),
        "dns-nx": steady("type: dns, port: %d, qname: missing.example." % dp),
        "dns-answer": steady("type: dns, port: %d, qname: probe.example., expect_answer: "
                             "192.0.2.99" % dp),
        "tcp": steady("type: tcp, port: %d" % tp),
        "exec": fast('type: exec, command: ["/bin/sh", "%s", "{address}"]'
                     % tmp.join("check.sh")),
        "file": fast('type: file, file: "%s"' % tmp.join("states.txt")),
        "flap": check_yaml("type: http, port: %d, path: /flap" % hp, FLAP_INTERVAL,
                           FLAP_TIMEOUT),
    }
    services = [
        service_yaml("web", [(a, "http") for a in WEB], all_down="all"),
        service_yaml("ttl", [(TTL_ADDR, "slow")], ttl=300),
        service_yaml("static", [(STATIC_ADDR, None)], ttl=static_ttl),
        service_yaml("flap", [(FLAP_ADDR, "flap")]),
    ]
    for svc, addr, check, _ in KINDS:
        services.append(service_yaml(svc, [(addr, check)]))
    ad_pools = {"main": [(a, "http") for a in AD], "backup": [(AD_BACKUP, None)]}
    services.append(service_yaml("ad-all", None, all_down="all", pools=ad_pools,
                                 default=["main"]))
    services.append(service_yaml("ad-nodata", None, all_down="nodata", pools=ad_pools,
                                 default=["main"]))
    services.append(service_yaml("ad-pool", None, all_down="pool:backup", pools=ad_pools,
                                 default=["main"]))
    path = tmp.join("meridian.yaml")
    write_config(path, port, tmp, checks, services, "meridian.state", "ctl.sock")
    return path


def write_states_file(tmp, lines):
    path = tmp.join("states.txt")
    with open(path + ".tmp", "w") as f:
        f.write("# written by e2e 006\n" + "".join(l + "\n" for l in lines))
    os.replace(path + ".tmp", path)


# ----------------------------------------------------------------------------
# Checks on the main instance


def expect_set(results, label, port, short, want, tries=1):
    a = answer(port, short)
    results.check(label, [] if a.ok and a.rcode == 0 and a.addrs == frozenset(want)
                  else ["answer %r, expected %s" % (a, sorted(want))])
    return a


def web_sets(server):
    """The web members meridiand had up after each state change it logged, from the end of
    the first round (every member's first result) on, in order; all members where none is
    up (web fails open, all_down: all)."""
    events = []  # (line order, member, new state), all members merged in log order
    lines = []
    try:
        with open(server.log_path, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        pass
    pat = re.compile(r"health: (%s)\|http (?:unknown|up|down) -> (up|down) "
                     % "|".join(re.escape(a) for a in WEB))
    for line in lines:
        m = pat.search(line)
        if m:
            events.append(m.groups())
    state, sets = {}, []
    for addr, to in events:
        state[addr] = to
        if len(state) == len(WEB):
            up = frozenset(a for a in WEB if state[a] == "up")
            sets.append(up or frozenset(WEB))
    return sets


def check_initial(results, port, ctl, first, server):
    """The first answer after start (startup: wait): .13 (dead) already out. On a loaded host
    a live member's first probe may time out (a failure, so down at first): the first answer
    must then be what meridiand had after its first round, as its log says."""
    sets = web_sets(server)
    firsts = {a: next((r for f, t, r in logged(server, "%s|http" % a) if f == "unknown"), None)
              for a in WEB}
    errs = []
    if not first.ok or first.addrs not in sets:
        errs.append("first answer %r; web members up after each logged change from the first "
                    "round on: %s" % (first, [sorted(x) for x in sets]))
    # A timeout is the one other first result a loaded host may give (the states check
    # below then wants the dead member's own reason).
    if not re.search(CONNECT_FAILED + r"|(?i:timeout)", firsts[WEB[2]] or ""):
        errs.append("first result of %s (no backend): %s" % (WEB[2], firsts[WEB[2]]))
    for a in WEB[:2]:
        if firsts[a] != "probe succeeded" and not re.search(r"(?i)timeout", firsts[a] or ""):
            errs.append("first result of %s: %s" % (a, firsts[a]))
    results.check("startup: wait: first answer of web already reflects the first probe round "
                  "(%s; first results %s)" % (first, firsts), errs)
    # Members whose first probe timed out come up after `rise` more: wait for that.
    def settled():
        st = ctl.states()
        return st if all(st.get("%s|http" % a, {}).get("state") == "up" for a in WEB[:2]) \
            else None
    st, _ = wait_for(settled, INTERVAL * (RISE + 1) + LOADED, step=0.1)
    st = st or ctl.states()
    errs = []
    for a in WEB[:2]:
        s = st.get("%s|http" % a)
        if not s or s["state"] != "up" or s["real"] != "up" or s["forced"] != "none":
            errs.append("%s|http: %s" % (a, s))
    s = st.get("%s|http" % WEB[2])
    if not s or s["state"] != "down" or not re.search(CONNECT_FAILED, s["error"]):
        errs.append("%s|http (no backend): %s" % (WEB[2], s))
    results.check("meridianctl states: web members up, the dead one down (%s)"
                  % (s and s["error"]),
                  errs)
    # The first round is not over for every check yet (`startup: wait` only waits for its
    # own members, and a `steady` check may take its whole timeout): poll, bounded, until no
    # state is unknown rather than assume a moment when none is.
    def all_known():
        got = ctl.status()
        return got if re.search(r"^health: \d+ up, \d+ down, 0 unknown$", got[1], re.M) else None

    got, _ = wait_for(all_known, STEADY_INTERVAL + STEADY_TIMEOUT + LOADED, step=0.1)
    rc, out, fields = got or ctl.status()
    errs = [] if rc == 0 else ["exit status %d: %s" % (rc, out)]
    if fields.get("site") != "active":
        errs.append("site: %r" % fields.get("site"))
    if fields.get("last_reload") != "none":
        errs.append("last_reload: %r" % fields.get("last_reload"))
    if not re.search(r"^health: \d+ up, \d+ down, 0 unknown$", out, re.M):
        errs.append("no 'health: N up, N down, 0 unknown' line")
    if not re.search(r"^probes: \d+ started, lateness p50 < \d+ ms, p99 < \d+ ms, max [\d.]+ ms$",
                     out, re.M):
        errs.append("no probe lateness line")
    if errs:
        errs.append("status:\n" + out)
    results.check("meridianctl status: site active, no reload yet, health counts, lateness",
                  errs)
    rc, out = ctl("explain", "127.0.0.1", fqdn("web"), "A")
    errs = [] if rc == 0 else ["exit status %d" % rc]
    # The next change is at most fall (rise) probes away: 0..1 s at the Release scale.
    soon = "(%s)" % "|".join(str(i) for i in range(math.ceil(max(RISE, FALL) * INTERVAL) + 1))
    for pat in (r"%s\s+weight 1\s+health up, may change in %ss" % (re.escape(WEB[0]), soon),
                r"%s\s+weight 1\s+health down, may change in %ss" % (re.escape(WEB[2]), soon),
                r"choice: pool main: %s %s" % (re.escape(WEB[0]), re.escape(WEB[1]))):
        if not re.search(pat, out):
            errs.append("output lacks /%s/" % pat)
    if errs:
        errs.append("output:\n" + out)
    results.check("meridianctl explain 127.0.0.1 web.h.test A: live health of each member, "
                  "the choice", errs)
    mode = os.stat(ctl.sock).st_mode & 0o777
    results.check("control socket mode %o (owner and group only)" % mode,
                  [] if mode & 0o007 == 0 else ["mode %o" % mode])


def check_kinds(results, port, ctl):
    """Every check type settles to its expected state, with its reason."""
    want = {"%s|%s" % (a, c): s for _, a, c, s in KINDS}
    why = {"%s|%s" % (a, c): REASONS[svc] for svc, a, c, _ in KINDS if svc in REASONS}

    def settled():
        # The reason too: a probe slowed down by the load fails with "timeout", and the
        # next one must then give the reason of the check.
        st = ctl.states()
        return st if all(st.get(k, {}).get("state") == v and
                         re.search(why.get(k, ""), st[k]["error"])
                         for k, v in want.items()) else None

    st, took = wait_for(settled, STEADY_INTERVAL * (RISE + 1) + LOADED, step=0.1)
    st = st or ctl.states()
    for svc, addr, check, state in KINDS:
        key = "%s|%s" % (addr, check)
        s = st.get(key)
        errs = []
        if not s:
            errs.append("no states line for %s" % key)
        else:
            if s["state"] != state or s["real"] != state:
                errs.append("state %s real %s, expected %s" % (s["state"], s["real"], state))
            if svc in REASONS and not re.search(REASONS[svc], s["error"]):
                errs.append("last error %r lacks /%s/" % (s["error"], REASONS[svc]))
        a = answer(port, svc)
        exp = frozenset([addr]) if state == "up" else frozenset()
        if not a.ok or a.rcode != 0 or a.addrs != exp:
            errs.append("answer %r, expected %s" % (a, sorted(exp) or "NODATA"))
        results.check("%s check: %s %s%s" % (check, addr, state,
                                             " (%s)" % s["error"] if s and state == "down"
                                             else ""), errs)
    note("time: all %d check kinds settled %.2f s after the first status query" %
         (len(KINDS), took))


def state_is(ctl, key, state, error=""):
    """A poll: key's states row once its state is `state` (and its last error has `error`)."""
    def ok():
        s = ctl.states().get(key)
        return s if s and s["state"] == state and error in s["error"] else None
    return ok


def wait_state(ctl, key, state, timeout):
    return wait_for(state_is(ctl, key, state), timeout, step=0.05)


def lateness(ctl):
    """The latest any probe of this meridiand started after its due time, in seconds, as
    `status` reports it (`probes: ... max N ms`): how far a loaded host has pushed its probe
    schedule. An upper bound on a transition allows it once per probe counted, so the bound
    stays as sharp as the intervals on an idle machine and follows the server's own
    measurement on a busy one (a server that counts one probe too many is late on both)."""
    _, out, _ = ctl.status()
    m = re.search(r"^probes: .* max ([\d.]+) ms$", out, re.M)
    return float(m.group(1)) / 1000.0 if m else 0.0


def timed_out(s):
    """1 if the target's last failure was a timeout, else 0: a success that came too late
    under load counts as a failure, so a rise then takes up to `rise` more probes."""
    return 1 if s and re.search(r"(?i)timeout", s["error"]) else 0


def check_dynamic_kinds(results, port, ctl, tmp, dnsb):
    """dns up -> down (SERVFAIL, then no reply) -> up; exec 1 -> 0 and 0 -> 1; file edits and
    a missing file."""
    bound = INTERVAL * FALL + INTERVAL + SLACK
    key = "%s|dns" % DNS_ADDR
    # Upper bounds on the last poll that still saw the old state (wait_timed): the first
    # probe after a change comes within an interval, then fall-1 (rise-1) more.
    dnsb.mode = "servfail"
    wait_state(ctl, key, "up", bound + LOADED)
    hi = (FALL + 1) * (INTERVAL + lateness(ctl)) + MARGIN
    # Down with SERVFAIL as the last error: a probe timing out on a loaded host may take it
    # down sooner, and the next probe (all answer SERVFAIL now) must then give the reason.
    s, before, t = wait_timed(state_is(ctl, key, "down", "SERVFAIL"), hi + SLACK + 1, step=0.05)
    results.check("dns check: responder answers SERVFAIL -> down %.2f..%.2f s (bound %.2f s): "
                  "%s" % (before, t, hi, s and s["error"]),
                  [] if s and "SERVFAIL" in s["error"] and before <= hi else
                  ["state %s after %.2f..%.2f s" % (s, before, t)])
    a = answer(port, "k-dns")
    results.check("dns check down: k-dns answers NODATA", [] if a.ok and not a.addrs else
                  ["answer %r" % a])
    dnsb.mode = "ok"
    s, before, t = wait_timed(state_is(ctl, key, "up"),
                              (2 * RISE + 1) * INTERVAL + MARGIN + SLACK + 1, step=0.05)
    hi = (RISE + 1 + RISE * timed_out(s)) * (INTERVAL + lateness(ctl)) + MARGIN
    results.check("dns check: responder back -> up %.2f..%.2f s (bound %.2f s%s)"
                  % (before, t, hi, ", one timed-out probe" if timed_out(s) else ""),
                  [] if s and before <= hi else ["state %s after %.2f..%.2f s" % (s, before, t)])
    dnsb.mode = "silent"
    wait_state(ctl, key, "up", bound + LOADED)
    hi = (FALL + 1) * (INTERVAL + lateness(ctl)) + TIMEOUT + MARGIN
    s, before, t = wait_timed(state_is(ctl, key, "down"), hi + SLACK + 1, step=0.05)
    results.check("dns check: responder silent -> down %.2f..%.2f s (bound %.2f s, the last "
                  "probe's timeout included) (%s)" % (before, t, hi, s and s["error"]),
                  [] if s and re.search(r"(?i)timeout", s["error"]) and before <= hi else
                  ["state %s after %.2f..%.2f s" % (s, before, t)])
    dnsb.mode = "ok"
    wait_state(ctl, key, "up", bound + LOADED)

    # exec: flip both flag files.
    os.unlink(tmp.join("exec-%s.ok" % EXEC_A))
    open(tmp.join("exec-%s.ok" % EXEC_B), "w").close()
    sa, ta = wait_state(ctl, "%s|exec" % EXEC_A, "down", bound + LOADED)
    sb, tb = wait_state(ctl, "%s|exec" % EXEC_B, "up", bound + LOADED)
    results.check("exec check: exit 1 -> down (%s), exit 0 -> up" % (sa and sa["error"]),
                  [] if sa and sb and "exit status 1" in sa["error"] else
                  ["%s: %s, %s: %s" % (EXEC_A, sa, EXEC_B, sb)])
    a, b = answer(port, "k-exec-a"), answer(port, "k-exec-b")
    results.check("exec check: answers follow (k-exec-a NODATA, k-exec-b %s)" % EXEC_B,
                  [] if not a.addrs and b.addrs == frozenset([EXEC_B]) else
                  ["k-exec-a %r, k-exec-b %r" % (a, b)])

    # file: .82 up now, .81 down, .83 still absent; then no file at all.
    write_states_file(tmp, ["%s down" % FILE_UP, "%s   up  # comment" % FILE_DOWN])
    s1, _ = wait_state(ctl, "%s|file" % FILE_UP, "down", bound + LOADED)
    s2, _ = wait_state(ctl, "%s|file" % FILE_DOWN, "up", bound + LOADED)
    s3 = ctl.states().get("%s|file" % FILE_ABSENT)
    results.check("file check: edited file -> %s down, %s up, %s still down (absent)"
                  % (FILE_UP, FILE_DOWN, FILE_ABSENT),
                  [] if s1 and s2 and s3 and s3["state"] == "down" else
                  ["%s %s %s" % (s1, s2, s3)])
    os.unlink(tmp.join("states.txt"))
    s2, t = wait_state(ctl, "%s|file" % FILE_DOWN, "down", bound + LOADED)
    results.check("file check: missing file -> down (%s)" % (s2 and s2["error"]),
                  [] if s2 and re.search(r"state file: No such file", s2["error"]) else
                  ["%s" % s2])


def measure_change(port, short, addr, present, timeout, step=0.05):
    """Polls every 50 ms until addr is (present) / is not (not present) in the answer
    (faster polls only take CPU from the backends and meridiand on a loaded host). Returns
    (changed, before, after): the change happened after `before` (when the last poll that
    still saw the old answer was sent) and by `after` (when the first poll that saw the new
    one returned), both absolute time.monotonic() values. Bounds taken on these hold however
    late the test's own polls run on a loaded machine."""
    before = time.monotonic()
    deadline = before + timeout
    for _ in range(int(timeout / step) + 2):
        sent = time.monotonic()
        a = answer(port, short)
        if a.ok and (addr in a.addrs) == present:
            return True, before, time.monotonic()
        if a.ok:
            before = sent
        if time.monotonic() >= deadline:
            break
        time.sleep(step)
    return False, before, time.monotonic()


def probe_period(backend, path, n=8):
    """The median gap between the last n+1 probes that reached backend for path: the probe
    period this run actually gets (a busy machine delays single probes, not the median)."""
    ts = [t for t, _ in backend.arrivals(path)][-(n + 1):]
    gaps = sorted(b - a for a, b in zip(ts, ts[1:]))
    return gaps[len(gaps) // 2] if gaps else None


def transition(results, port, ctl, backend, period, what, act, leaving, code=None):
    """act() changes backend (the `http` check of WEB[0]); then the member must leave (or
    return to) web's answers within bounds: not before (fall-1) intervals (a late probe may
    run closer to the next one: 0.2 s), and, on the last poll that still saw the old answer,
    not after (fall+1) measured probe periods plus MARGIN (the first probe after the change
    comes within a period). With `code`, the probes answering it are counted as well: the
    server publishes the change within MARGIN of the fall-th (rise-th) one's arrival, so that
    poll can follow at most fall-1 (rise-1) of them by more than MARGIN. A server one probe
    late shows one more, whatever the clock and the polls' own delay."""
    addr = backend.addr
    n, word = (FALL, "fall") if leaving else (RISE, "rise")
    t0 = time.monotonic()
    act()
    ok, before, after = measure_change(port, "web", addr, not leaving,
                                       (2 * n + 1) * period + MARGIN + SLACK + 2)
    before, after = before - t0, after - t0
    s = ctl.states().get("%s|http" % addr)
    # A success that took longer than the timeout under load counts as a failure: a rise may
    # then take up to `rise` more probes, said in the label.
    late = 0 if leaving else timed_out(s)
    slip = lateness(ctl)
    lo, hi = (n - 1) * INTERVAL - 0.2, (n + 1 + late * n) * (period + slip) + MARGIN
    label = ("%s %s: %s the answers %.2f..%.2f s later (expected %.2f..%.2f s = (%s-1)*interval"
             "..(%s+1)*period+margin%s)" % (what, addr, "leaves" if leaving else "back in",
                                            before, after, lo, hi, word, word,
                                            ", one timed-out probe" if late else ""))
    if slip:
        label += " (probe lateness so far %.3f s allowed per probe)" % slip
    errs = [] if ok and after >= lo and before <= hi else \
        ["changed: %s, %.2f..%.2f s, states %s" % (ok, before, after, s)]
    if code is not None:
        allowed = n - 1 + late * n
        arrived = len([t for t, c in backend.arrivals("/health", t0)
                       if c == code and t < t0 + before - MARGIN - slip])
        label += ", %d probe(s) answered %d before (at most %d)" % (arrived, code, allowed)
        if arrived > allowed:
            errs.append("%d probes answered %d more than %.2f s before a poll that still saw "
                        "the old answer: the change came late" % (arrived, code, MARGIN + slip))
    note("time: %s %s: %s the answers %.3f..%.3f s later"
         % (what, addr, "left" if leaving else "back in", before, after))
    results.check(label, errs)
    return s


def check_stop_start(results, port, ctl, backends):
    addr = WEB[0]
    backend = backends[addr]
    period = probe_period(backend, "/health")
    results.check("probe schedule of %s|http: median period %s s over the last 8 probes "
                  "(interval %.2f s)" % (addr, period and "%.3f" % period, INTERVAL),
                  [] if period and 0.8 * INTERVAL <= period <= 1.5 * INTERVAL else
                  ["arrivals %s" % [round(t, 3) for t, _ in backend.arrivals("/health")][-9:]])
    period = max(period or INTERVAL, INTERVAL)

    transition(results, port, ctl, backend, period, "HTTP backend answering 503",
               lambda: backend.set_health(503), True, 503)
    transition(results, port, ctl, backend, period, "HTTP backend answering 200 again",
               lambda: backend.set_health(200), False, 200)
    transition(results, port, ctl, backend, period, "stopped HTTP backend", backend.stop, True)
    a = answer(port, "web")
    results.check("web answers the other member while %s is down" % addr,
                  [] if a.addrs == frozenset([WEB[1]]) else ["answer %r" % a])
    s = ctl.states().get("%s|http" % addr)
    results.check("meridianctl states: %s down (%s)" % (addr, s and s["error"]),
                  [] if s and s["state"] == "down" and re.search(CONNECT_FAILED, s["error"])
                  else ["%s" % s])
    transition(results, port, ctl, backend, period, "restarted HTTP backend", backend.start,
               False, 200)


def check_flap(results, port, ctl, backend, intervals=8, attempts=3):
    """The backend answers 503 and 200 in turn: with rise 2 and fall 2 the member must never
    leave the answers. A probe that times out (a loaded host) is a failure of its own and may
    rightly flip the state; such a window proves nothing and is run again (`attempts` in
    all). A timeout shows in the `last error` column, polled throughout the window: the
    expected failures (503) come two intervals apart, so one stays visible that long."""
    key = "%s|flap" % FLAP_ADDR
    errs = ["no attempt"]
    for attempt in range(1, attempts + 1):
        # Up first (the backend answers 200 until armed), then armed; the window starts
        # once the first 503 is the last error, so any other failure after it shows.
        s0, _ = wait_state(ctl, key, "up", FLAP_INTERVAL * (RISE + 1) + LOADED)
        backend.arm_flap()
        s0, _ = wait_for(lambda: (lambda x: x if x and x["state"] == "up" and
                                  "http status 503" in x["error"] else None)
                         (ctl.states().get(key)), FLAP_INTERVAL * 2 + LOADED, step=0.05)
        t0 = time.monotonic()
        seen, errors = {}, set()
        samples = 0
        # The window: `intervals` probes at the backend (not wall-clock: a loaded host
        # probes late), bounded in time.
        deadline = t0 + intervals * FLAP_INTERVAL + LOADED
        for _ in range(int((deadline - t0) / 0.05) + 10):
            if time.monotonic() >= deadline or \
                    len(backend.arrivals("/flap", t0)) >= intervals:
                break
            a = answer(port, "flap")
            seen[a.addrs] = seen.get(a.addrs, 0) + 1
            samples += 1
            st = ctl.states().get(key)
            if st:
                errors.add(st["error"])
            time.sleep(0.05)
        s1 = ctl.states().get(key)
        log = [c for _, c in backend.arrivals("/flap", t0)]
        codes = {c: log.count(c) for c in set(log)}
        timeouts = sorted(e for e in errors if re.search(r"(?i)timeout", e))
        errs = []
        if not s0:
            errs.append("not up with last error 503 after arming: %s" % ctl.states().get(key))
        if set(seen) != {frozenset([FLAP_ADDR])}:
            errs.append("answers over the window: %s"
                        % {tuple(sorted(k)): v for k, v in seen.items()})
        if not s1 or not s0 or s1["transitions"] != s0["transitions"] or s1["state"] != "up":
            errs.append("states before %s, after %s" % (s0, s1))
        if codes.get(200, 0) < intervals * 0.35 or codes.get(503, 0) < intervals * 0.35:
            errs.append("backend saw too few alternating probes: %s" % codes)
        note("time: flap window %d: %s, %d answers, last errors seen %s"
             % (attempt, codes, samples, sorted(errors)))
        if not errs or not timeouts or attempt == attempts:
            break
        note("flap window %d inconclusive (a probe timed out: %s); again" % (attempt, timeouts))
        backend.arm_flap(False)
    results.check("backend failing every other probe (%s) never flaps over %d probes "
                  "(%d answers, all with %s; window %d)" % (codes, intervals, samples,
                                                            FLAP_ADDR, attempt), errs)


def check_ttl(results, port, ctl, backend):
    """ttl 300, interval 1s, fall 3, rise 2: TTL <= fall*interval while up, <= rise*interval
    while down; and the answer never changes before a TTL handed out has expired."""
    key = "%s|slow" % TTL_ADDR
    wait_state(ctl, key, "up", SLOW_INTERVAL * (SLOW_RISE + 2) + LOADED)
    cap_up = int(SLOW_FALL * SLOW_INTERVAL)
    samples = []  # (query sent, reply received, Answer)

    def sample(n, step=0.1):
        for _ in range(n):
            sent = time.monotonic()
            a = answer(port, "ttl")
            samples.append((sent, time.monotonic(), a))
            time.sleep(step)

    def sample_until(pred, timeout):
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.1) + 2):
            sample(1)
            if pred(samples[-1][2]) or time.monotonic() >= deadline:
                break

    sample(20)
    up_ttls = [a.ttl for _, _, a in samples if a.ok and a.addrs]
    results.check("TTL of a steered answer (ttl 300, interval %s, fall 3) while up: max %s "
                  "<= %d s" % (ms(SLOW_INTERVAL), max(up_ttls) if up_ttls else None, cap_up),
                  [] if up_ttls and max(up_ttls) <= cap_up and min(up_ttls) >= 1 else
                  ["TTLs %s" % sorted(set(up_ttls))])
    a = answer(port, "static")
    results.check("TTL of an unchecked member's service stays 300 (%r)" % a,
                  [] if a.ttl == 300 else ["answer %r" % a])
    a = answer(port, "web")
    cap_web = max(1, int(FALL * INTERVAL))
    results.check("TTL with interval %s fall 2 is capped to %d s (%r)" % (ms(INTERVAL), cap_web, a),
                  [] if a.ttl is not None and 1 <= a.ttl <= cap_web else ["answer %r" % a])

    # Stop the backend: sample until the member has left, then until it is back. The
    # service has all_down: nodata, so while the member is down the answer is NODATA,
    # whose TTL (the SOA's, RFC 2308) must be capped as well: the answer changes when the
    # member comes back.
    def ttl_of(a):
        if a.addrs:
            return a.ttl
        soa = [rr.ttl for rr in a.msg.authority if rr.rdtype == dns.rdatatype.SOA]
        return soa[0] if soa else None

    backend.stop()
    t_stop = time.monotonic()
    n0 = len(samples)
    sample_until(lambda a: a.ok and not a.addrs, SLOW_INTERVAL * (SLOW_FALL + 2) + LOADED)
    t_gone = samples[-1][1]
    note("time: TTL service member %s left %.2f s after its backend stopped (fall 3 x %s)"
         % (TTL_ADDR, t_gone - t_stop, ms(SLOW_INTERVAL)))
    sample(10)
    backend.start()
    t_start = time.monotonic()
    sample_until(lambda a: a.ok and a.addrs, SLOW_INTERVAL * (SLOW_RISE + 2) + LOADED)
    t_back = samples[-1][1]
    sample(3)
    failing = [ttl_of(a) for _, t, a in samples[n0:] if a.ok and a.addrs and t < t_gone]
    down = [ttl_of(a) for _, _, a in samples[n0:] if a.ok and not a.addrs]
    cap_down = int(SLOW_RISE * SLOW_INTERVAL)
    results.check("TTL while failing stays <= fall*interval = %d s (%s)" % (cap_up, failing),
                  [] if failing and all(x is not None and 1 <= x <= cap_up for x in failing)
                  else ["TTLs %s" % failing])
    results.check("TTL of the NODATA answer while down (SOA TTL 300) capped <= rise*interval "
                  "= %d s (%s)" % (cap_down, sorted(set(down))),
                  [] if down and all(x is not None and 1 <= x <= cap_down for x in down)
                  else ["TTLs %s" % down])
    # A TTL runs from when the server answered, which is after the query was sent; a change
    # was there by the time the reply that showed it came back. So the check holds however
    # long a query takes.
    errs = []
    changes = [samples[i][1] for i in range(1, len(samples))
               if samples[i][2].ok and samples[i - 1][2].ok
               and samples[i][2].addrs != samples[i - 1][2].addrs]
    for sent, got, a in samples:
        ttl = ttl_of(a) if a.ok else None
        if ttl is None:
            continue
        nxt = [c for c in changes if c > got]
        if nxt and sent + ttl > nxt[0] + 1.2:
            errs.append("answer %r at +%.2f s with TTL %d, but the answer changed at +%.2f s"
                        % (a, sent - t_stop, ttl, nxt[0] - t_stop))
    results.check("no answer (positive or NODATA) changed before a TTL handed out had run out "
                  "(%d samples, %d changes, 1 s rounding slack)" % (len(samples), len(changes)),
                  errs[:5] if len(changes) == 2 else ["changes at %s" % changes] + errs[:5])
    note("time: TTL member back %.2f s after its backend restarted (rise 2 x %s); TTLs up %s, "
         "while failing %s, NODATA while down %s" % (t_back - t_start, ms(SLOW_INTERVAL),
                                                      sorted(set(up_ttls)), failing,
                                                      sorted(set(down))))


def check_all_down(results, port, ctl, backends):
    for svc in ("ad-all", "ad-nodata", "ad-pool"):
        expect_set(results, "all_down %s: with both members up, answers the main pool" % svc,
                   port, svc, AD)
    for a in AD:
        backends[a].stop()
    bound = INTERVAL * FALL + INTERVAL + SLACK
    st, t = wait_for(lambda: all(ctl.states().get("%s|http" % a, {}).get("state") == "down"
                                 for a in AD), bound + 2, step=0.05)
    results.check("all_down: both members down %.2f s after their backends stopped" % t,
                  [] if st else ["states %s" % {a: ctl.states().get("%s|http" % a) for a in AD}])
    expect_set(results, "all_down: all (fail open): every member of the main pool again",
               port, "ad-all", AD)
    a = answer(port, "ad-nodata")
    errs = [] if a.ok and a.rcode == dns.rcode.NOERROR and not a.msg.answer else [
        "answer %r" % a]
    if a.ok and not any(rr.rdtype == dns.rdatatype.SOA for rr in a.msg.authority):
        errs.append("no SOA in the authority section")
    results.check("all_down: nodata: NOERROR, no answer, SOA in authority", errs)
    expect_set(results, "all_down: pool:backup: the backup pool's member (%s)" % AD_BACKUP,
               port, "ad-pool", [AD_BACKUP])
    # Drained members stay out even when the service fails open.
    rc, out = ctl("drain", "member", AD[0])
    expect_set(results, "all_down: all with %s drained: fails open without it" % AD[0],
               port, "ad-all", [AD[1]])
    ctl("undrain", "member", AD[0])
    for a in AD:
        backends[a].start()
    ok, t = wait_for(lambda: answer(port, "ad-nodata").addrs == frozenset(AD),
                     INTERVAL * RISE + INTERVAL + LOADED)
    results.check("all_down: backends back -> ad-nodata answers both members after %.2f s" % t,
                  [] if ok else ["answer %r" % answer(port, "ad-nodata")])


def check_drain(results, port, ctl, backends):
    a0, a1, dead = WEB
    rc, out = ctl("drain", "member", a1)
    a = answer(port, "web")  # the very next query: drain publishes before replying
    results.check("meridianctl drain member %s: ok, and out of the very next answer (%r)"
                  % (a1, a),
                  [] if rc == 0 and "1 targets forced down" in out and a.addrs == frozenset([a0])
                  else ["rc %d %r, answer %r" % (rc, out, a)])
    s = ctl.states().get("%s|http" % a1)
    results.check("meridianctl states: drained %s shows state down, real up, forced down" % a1,
                  [] if s and (s["state"], s["real"], s["forced"]) == ("down", "up", "down")
                  else ["%s" % s])
    for _ in range(3):
        a = answer(port, "web")
        if a1 in a.addrs:
            break
        time.sleep(INTERVAL)
    results.check("drained %s stays out while its probes succeed (%.1f s)" % (a1, 3 * INTERVAL),
                  [] if a1 not in a.addrs else ["answer %r" % a])
    rc, out = ctl("undrain", "member", a1)
    a = answer(port, "web")
    results.check("meridianctl undrain member %s: back in the very next answer" % a1,
                  [] if rc == 0 and a.addrs == frozenset([a0, a1]) else
                  ["rc %d %r, answer %r" % (rc, out, a)])
    s = ctl.states().get("%s|http" % a1)
    results.check("meridianctl states: undrained %s up, forced none" % a1,
                  [] if s and (s["state"], s["real"], s["forced"]) == ("up", "up", "none")
                  else ["%s" % s])

    rc, out = ctl("force", "up", "member", dead)
    a = answer(port, "web")
    s = ctl.states().get("%s|http" % dead)
    results.check("meridianctl force up member %s (no backend): in the next answer, states "
                  "up / real down / forced up" % dead,
                  [] if rc == 0 and dead in a.addrs and s and
                  (s["state"], s["real"], s["forced"]) == ("up", "down", "up")
                  else ["rc %d %r, answer %r, states %s" % (rc, out, a, s)])
    time.sleep(INTERVAL * 3)
    a = answer(port, "web")
    results.check("forced-up dead member stays in over 3 intervals (%r)" % a,
                  [] if dead in a.addrs else ["answer %r" % a])
    ctl("undrain", "member", dead)
    a = answer(port, "web")
    results.check("undrain (clear forcing) of the dead member: out again (%r)" % a,
                  [] if a.addrs == frozenset([a0, a1]) else ["answer %r" % a])

    rc, out = ctl("drain", "pool", fqdn("web"), "main")
    a = answer(port, "web")
    results.check("meridianctl drain pool web main: 3 targets, answer empty even though "
                  "web fails open (%r)" % a,
                  [] if rc == 0 and "3 targets forced down" in out and a.ok and not a.addrs
                  else ["rc %d %r, answer %r" % (rc, out, a)])
    rc, out = ctl("undrain", "service", "web.h.test")
    a = answer(port, "web")
    results.check("meridianctl undrain service web.h.test: members back (%r)" % a,
                  [] if rc == 0 and a.addrs == frozenset([a0, a1]) else
                  ["rc %d %r, answer %r" % (rc, out, a)])

    rc, out = ctl("drain", "site")
    _, sout, fields = ctl.status()
    a = answer(port, "web")
    results.check("meridianctl drain site: status shows site: drained, answers unchanged",
                  [] if rc == 0 and fields.get("site") == "drained" and
                  a.addrs == frozenset([a0, a1]) else ["rc %d %r, status %r, answer %r"
                                                       % (rc, out, sout, a)])
    rc2, out2 = ctl("force", "up", "site")
    rc, out = ctl("undrain", "site")
    _, sout, fields = ctl.status()
    results.check("force up site is refused; undrain site -> site: active",
                  [] if rc2 == 1 and out2.startswith("error") and rc == 0 and
                  fields.get("site") == "active" else
                  ["force up site: %d %r; undrain: %d %r; status %r" % (rc2, out2, rc, out, sout)])
    bad = [("drain", "member", "192.0.2.99"), ("drain", "pool", "web.h.test", "nope"),
           ("drain", "service", "nope.h.test"), ("drain", "everything"), ("frobnicate",)]
    errs = []
    for words in bad:
        rc, out = ctl(*words)
        if rc != 1 or not out.startswith("error"):
            errs.append("%s: exit %d %r" % (" ".join(words), rc, out))
    results.check("meridianctl errors (exit 1, 'error: ...') for selectors matching nothing "
                  "and unknown commands", errs)


def change_counts(server):
    """How many state changes meridiand has logged for each target (see logged())."""
    counts = {}
    try:
        with open(server.log_path, errors="replace") as f:
            for m in re.finditer(r"health: (\S+) (?:unknown|up|down) -> ", f.read()):
                counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    except OSError:
        pass
    return counts


def states_and_changes(ctl, server):
    """`states` and the logged change counts of the same moment: the log is read before and
    after, and the pair taken again (a few times at most) if a change came in between."""
    for _ in range(10):
        c0 = change_counts(server)
        st = ctl.states()
        c1 = change_counts(server)
        if c0 == c1:
            break
    return st, c1


def check_reload(results, server, port, ctl, tmp, ports, attempts=3):
    """SIGHUP keeps every state. A probe may still change one on its own during the reload
    (a timeout on a loaded host): meridiand logs each such change, so a target must match
    its state before the reload plus exactly the changes logged since, and a window in
    which a web member changed proves nothing about the answers and is run again."""
    a0, a1, dead = WEB
    web_keys = ["%s|http" % a for a in WEB]
    ctl("drain", "member", a1)
    for attempt in range(1, attempts + 1):
        wait_state(ctl, "%s|http" % a0, "up", INTERVAL * (RISE + 1) + LOADED)
        wait_state(ctl, "%s|http" % dead, "down", INTERVAL * (FALL + 1) + LOADED)
        before, c_before = states_and_changes(ctl, server)
        main_config(tmp, port, ports, static_ttl=299)  # a visible change: static's TTL
        server.proc.send_signal(signal.SIGHUP)
        t0 = time.monotonic()
        seen = {}
        for _ in range(200):
            if time.monotonic() - t0 > 3.0:
                break
            a = answer(port, "web")
            seen[a.addrs] = seen.get(a.addrs, 0) + 1
            time.sleep(0.02)
        got, _ = wait_for(lambda: (lambda r: r if r[2].get("last_reload", "").startswith("ok")
                                   else None)(ctl.status()), LOADED, step=0.1)
        _, sout, fields = got or ctl.status()
        after, c_after = states_and_changes(ctl, server)
        moved = {k: c_after.get(k, 0) - c_before.get(k, 0) for k in before
                 if c_after.get(k, 0) != c_before.get(k, 0)}
        if attempt == attempts or not any(k in moved for k in web_keys):
            break
        note("SIGHUP window %d inconclusive: web members changed on their own %s; again"
             % (attempt, {k: v for k, v in moved.items() if k in web_keys}))
    errs = []
    if not fields.get("last_reload", "").startswith("ok"):
        errs.append("last_reload: %r" % fields.get("last_reload"))
    results.check("SIGHUP: status shows last_reload: ok (%s)" % fields.get("last_reload"), errs)
    a = answer(port, "static")
    results.check("SIGHUP: the new config is in use (static TTL 299: %r)" % a,
                  [] if a.ttl == 299 else ["answer %r" % a])
    results.check("SIGHUP: web answers never changed during the reload (%s; window %d)"
                  % ({tuple(sorted(k)): v for k, v in seen.items()}, attempt),
                  [] if set(seen) == {frozenset([a0])} else
                  ["answers changed; web members' logged changes in the window: %s"
                   % {k: v for k, v in moved.items() if k in web_keys}])
    errs = []
    for key, s in before.items():
        t = after.get(key)
        n = moved.get(key, 0)
        if key.startswith(FLAP_ADDR):
            continue  # probes in flight are abandoned; flap's count may move by its probes
        if not t:
            errs.append("%s missing after reload" % key)
        elif n == 0 and (t["state"], t["real"], t["forced"], t["transitions"], t["since"]) != \
                (s["state"], s["real"], s["forced"], s["transitions"], s["since"]):
            errs.append("%s: before %s after %s" % (key, s, t))
        elif n and (t["forced"], t["transitions"]) != (s["forced"], s["transitions"] + n):
            errs.append("%s: before %s after %s, %d change(s) logged in between"
                        % (key, s, t, n))
        elif n and t["real"] != logged(server, key)[c_after[key] - 1][1]:
            # The change logged last when `after` was taken (more may have come since).
            errs.append("%s: %s, but the last logged change then was %s"
                        % (key, t, logged(server, key)[c_after[key] - 1]))
    results.check("SIGHUP: %d targets keep state, forcing, since and transitions (%d changed "
                  "by their probes, as logged: %s)" % (len(before), len(moved), moved), errs[:6])
    ctl("undrain", "member", a1)


# ----------------------------------------------------------------------------
# Restart instances: startup persisted (B) and startup wait (C)


def start_meridiand(binary, tmp, conf, port_holder, make_conf):
    def mk(port):
        port_holder[0] = port
        make_conf(port)
        return h.Meridiand(binary, tmp.path, port, conf, NSIDS[port], addrs=(h.V4,))
    t0 = time.monotonic()
    srv = h.start_with_free_port(mk, ZONE)
    return srv, time.monotonic() - t0


def check_persisted(results, binary, tmp, ctl_bin, http_port, hang_port, backends):
    conf = tmp.join("b.yaml")
    ports = [0]
    up1, dead, drained = "127.66.2.1", "127.66.2.2", "127.66.2.3"
    checks = {"http": fast("type: http, port: %d, path: /health" % http_port),
              "hang": hang_check(hang_port)}
    services = [service_yaml("p", [(up1, "http"), (dead, "hang"), (drained, "http")],
                             startup="persisted")]

    def make(port):
        write_config(conf, port, tmp, checks, services, "b.state", "b.sock")

    ctl = Ctl(ctl_bin, tmp.join("b.sock"))
    srv, _ = start_meridiand(binary, tmp, conf, ports, make)
    try:
        port = ports[0]
        st, t = wait_for(lambda: (lambda s: s if s.get("%s|hang" % dead, {}).get("state") ==
                                  "down" and s.get("%s|http" % up1, {}).get("state") == "up"
                                  else None)(ctl.states()),
                     HANG_TIMEOUT + HANG_INTERVAL + SLACK, step=0.1)
        results.check("persisted, run 1: %s up, %s down (hang: timeout) after %.2f s"
                      % (up1, dead, t), [] if st else ["states %s" % ctl.states()])
        rc, out = ctl("drain", "member", drained)
        a = answer(port, "p")
        results.check("persisted, run 1: drained %s, answer %s" % (drained, sorted(a.addrs)),
                      [] if rc == 0 and a.addrs == frozenset([up1]) else
                      ["rc %d %r, answer %r" % (rc, out, a)])
        try:
            with open(tmp.join("b.state")) as f:
                saved = f.read()
        except OSError as e:
            saved = str(e)
        results.check("persisted, run 1: the state file has the drain at once (before exit)",
                      [] if re.search(r"^127\.66\.2\.3\|http up down \d+ \d+$", saved, re.M)
                      else ["state file:\n" + saved])
        before = ctl.states()
    finally:
        rc = srv.stop()
    results.check("persisted, run 1: clean exit on SIGTERM", [] if rc == 0 else
                  ["exit status %s" % rc])
    try:
        with open(tmp.join("b.state")) as f:
            saved = f.read()
    except OSError as e:
        saved = str(e)
    errs = []
    for pat in (r"^127\.66\.2\.2\|hang down none \d+ \d+$",
                r"^127\.66\.2\.3\|http up down \d+ \d+$",
                r"^127\.66\.2\.1\|http up none \d+ \d+$"):
        if not re.search(pat, saved, re.M):
            errs.append("state file lacks /%s/:\n%s" % (pat, saved))
    results.check("state file written at exit: key state force since transitions", errs)

    t0 = time.monotonic()
    srv, ready = start_meridiand(binary, tmp, conf, ports, make)
    try:
        port = ports[0]
        a = answer(port, "p")
        t_first = time.monotonic() - t0
        # Read after the answer: a change logged by then may have come before it. Restored
        # down, the hang member's probes (timeouts) keep it down and log nothing; a server
        # that had not restored it would log its first result (unknown -> down) or still
        # answer it. So no line for it means the answer had it down from the state file,
        # however long this run took to ask.
        changes = logged(srv, "%s|hang" % dead)
        note("time: persisted restart: ready %.2f s, first answer %.2f s after start" %
             (ready, t_first))
        results.check("persisted, run 2: first answer has only %s (%r), the hang member down "
                      "without a probe result of this run (logged changes: %s)"
                      % (up1, a, changes),
                      [] if a.addrs == frozenset([up1]) and not changes else
                      ["answer %r after %.2f s, logged changes of %s|hang %s"
                       % (a, t_first, dead, changes)])
        st = ctl.states()
        errs = []
        s = st.get("%s|hang" % dead)
        if not s or s["state"] != "down" or \
                s["transitions"] != before.get("%s|hang" % dead, {}).get("transitions"):
            errs.append("%s|hang: %s (before: %s)" % (dead, s, before.get("%s|hang" % dead)))
        s = st.get("%s|http" % drained)
        if not s or (s["state"], s["forced"]) != ("down", "down"):
            errs.append("%s|http: %s" % (drained, s))
        results.check("persisted, run 2: states restored (down stays down, drain stays, "
                      "transitions kept)", errs)
        time.sleep(INTERVAL * 3)
        a = answer(port, "p")
        results.check("persisted, run 2: drained %s stays out while healthy (%r)" % (drained, a),
                      [] if a.addrs == frozenset([up1]) else ["answer %r" % a])
    finally:
        srv.stop()


def first_answer(port, short, timeout):
    """Asks until a reply comes (a `startup: wait` service's answers are dropped until its
    first round is in). Returns (answer, seconds from the call to the first reply)."""
    t0 = time.monotonic()
    a = None
    while time.monotonic() - t0 < timeout:
        a = Answer(ask(port, fqdn(short), timeout=0.2), fqdn(short))
        if a.ok:
            break
    return a, time.monotonic() - t0


def check_wait(results, binary, tmp, ctl_bin, http_port, hang_port, backends):
    conf = tmp.join("c.yaml")
    ports = [0]
    up1, hang, later, gone = "127.66.3.1", "127.66.3.2", "127.66.3.3", "127.66.3.4"
    checks = {"http": fast("type: http, port: %d, path: /health" % http_port),
              "hang": hang_check(hang_port)}
    members = [(up1, "http"), (hang, "hang"), (later, "http"), (gone, "http")]

    def make(port):
        write_config(conf, port, tmp, checks,
                     [service_yaml("w", members, startup="wait"),
                      service_yaml("u", [(up1, "http"), (hang, "hang")], startup="up")],
                     "c.state", "c.sock")

    t0 = time.monotonic()
    srv, ready = start_meridiand(binary, tmp, conf, ports, make)
    try:
        # The static zone (the harness's readiness query) and the `startup: up` service are
        # answered at once; the `startup: wait` service only once the hang probe has timed
        # out (its first round), with the first round's states.
        u = answer(ports[0], "u")
        t_u = time.monotonic() - t0
        # The hang member's first result, logged when it comes (unknown -> down): absent
        # when read after `u` answered, the static zone (answered before, the harness's
        # readiness query) and `u` were answered before the first round was over, however
        # long this test took to ask.
        hang_first = logged(srv, "%s|hang" % hang)
        a, _ = first_answer(ports[0], "w", STARTUP_WAIT + SLACK)
        t_w = time.monotonic() - t0
        note("time: startup wait: static zone answered %.2f s, `startup: up` %.2f s, "
             "`startup: wait` %.2f s after start (hang check timeout %.1f s)"
             % (ready, t_u, t_w, HANG_TIMEOUT))
        results.check("startup: wait, run 1: the static zone is answered before the first "
                      "round is over (%.2f s; hang member's result not logged yet: %s)"
                      % (ready, hang_first),
                      [] if not hang_first else ["ready %.2f s, after the hang member's first "
                                                 "result %s" % (ready, hang_first)])
        results.check("startup: up: answered at once, every member up until probed (%.2f s, "
                      "%r)" % (t_u, u),
                      [] if not hang_first and u.addrs == frozenset([up1, hang]) else
                      ["answer %r after %.2f s, hang member's logged changes %s"
                       % (u, t_u, hang_first)])
        results.check("startup: wait, run 1: answers only after the first round (%.2f s >= "
                      "%.1f s hang timeout), first answer %s (%r)"
                      % (t_w, HANG_TIMEOUT, sorted([up1, gone]), a),
                      [] if t_w >= HANG_TIMEOUT - 0.1 and t_w < STARTUP_WAIT + SLACK and
                      a.addrs == frozenset([up1, gone]) else
                      ["after %.2f s, answer %r" % (t_w, a)])
    finally:
        srv.stop()
    # Run 2: `later`'s backend is up now and `gone`'s is stopped; the slow `hang` member is
    # dropped from the config, so the first round is over within a probe (fewer than rise
    # or fall results). The state file of run 1 says `later` down and `gone` up; with
    # `startup: wait` the first round must decide, as it does without a state file.
    backends[later].start()
    backends[gone].stop()
    members = [(up1, "http"), (later, "http"), (gone, "http")]
    srv, ready = start_meridiand(binary, tmp, conf, ports, make)
    try:
        a, _ = first_answer(ports[0], "w", STARTUP_WAIT + SLACK)
        st = Ctl(ctl_bin, tmp.join("c.sock")).states()
        note("time: startup wait, run 2: ready %.2f s after start" % ready)
        results.check("startup: wait, run 2: %s (down in the state file, backend up now) is in "
                      "the first answer (%r)" % (later, a),
                      [] if later in a.addrs else
                      ["first answer %r; states then: %s" % (a, st.get("%s|http" % later))])
        results.check("startup: wait, run 2: %s (up in the state file, backend stopped now) is "
                      "not in the first answer (%r)" % (gone, a),
                      [] if a.ok and gone not in a.addrs else
                      ["first answer %r; states then: %s" % (a, st.get("%s|http" % gone))])
        ok, t = wait_for(lambda: answer(ports[0], "w").addrs == frozenset([up1, later]),
                         max(RISE, FALL) * INTERVAL + INTERVAL + LOADED)
        results.check("startup: wait, run 2: answers %s %.2f s after ready"
                      % (sorted([up1, later]), t),
                      [] if ok else ["answer %r" % answer(ports[0], "w")])
    finally:
        srv.stop()


# ----------------------------------------------------------------------------


def make_cert(tmp):
    openssl = h.find_tool("openssl")
    if not openssl:
        return None, "openssl not found"
    cert, key = tmp.join("cert.pem"), tmp.join("key.pem")
    try:
        p = subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out",
                            cert, "-days", "2", "-subj", "/CN=meridian-e2e",
                            "-addext", "subjectAltName=IP:%s" % TLS_ADDR],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30,
                           check=False)
    except subprocess.TimeoutExpired:
        return None, "openssl timed out"
    if p.returncode != 0:
        return None, p.stdout.decode("utf-8", "replace")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx, None


def main():
    args = h.parse_args(__doc__.splitlines()[0], h.meridianctl_option)
    args.meridiand = os.path.abspath(args.meridiand)
    ctl_bin = h.meridianctl_path(args)
    results = h.Results(args.verbose)
    try:
        probe = socket.socket()
        probe.bind(("127.66.0.250", 0))
        probe.close()
    except OSError as e:
        h.skip("cannot bind 127.66.0.250 (no 127.0.0.0/8 loopback route?): %s" % e)

    backends = {}
    servers = []
    with h.TempDir(args.keep) as tmp:
        tls, why = make_cert(tmp)
        if tls is None:
            h.skip("cannot make a self-signed certificate: %s" % why)
        http_addrs = WEB[:2] + [TTL_ADDR, CONTENT_ADDR, FLAP_ADDR] + AD + \
            ["127.66.2.1", "127.66.2.3", "127.66.3.1", "127.66.3.3", "127.66.3.4"]
        ports = {"http": pick_port(http_addrs + [WEB[2], "127.66.2.2", "127.66.3.2"]),
                 "https": pick_port([TLS_ADDR]),
                 "dns": pick_port([DNS_ADDR], socket.SOCK_DGRAM),
                 "tcp": pick_port([TCP_UP, TCP_DEAD]),
                 "hang": pick_port(["127.66.2.2", "127.66.3.2"])}
        try:
            for a in http_addrs:
                backends[a] = HttpBackend(a, ports["http"])
                if not a.startswith("127.66.3.3"):
                    backends[a].start()
            backends[TLS_ADDR] = HttpBackend(TLS_ADDR, ports["https"], tls).start()
            dnsb = DnsBackend(DNS_ADDR, ports["dns"]).start()
            backends[DNS_ADDR] = dnsb
            backends[TCP_UP] = TcpBackend(TCP_UP, ports["tcp"]).start()
            for a in ("127.66.2.2", "127.66.3.2"):
                backends[a + "-hang"] = TcpBackend(a, ports["hang"], accept=False).start()
            with open(tmp.join("check.sh"), "w") as f:
                f.write('#!/bin/sh\n# exec check of e2e 006: up when the flag file exists\n'
                        '[ -e "%s/exec-$1.ok" ]\n' % tmp.path)
            open(tmp.join("exec-%s.ok" % EXEC_A), "w").close()
            write_states_file(tmp, ["%s up" % FILE_UP, "%s down" % FILE_DOWN])

            conf = tmp.join("meridian.yaml")
            holder = [0]
            server, ready = start_meridiand(
                args.meridiand, tmp, conf, holder,
                lambda port: main_config(tmp, port, ports))
            servers.append(server)
            port = holder[0]
            first, t_first = first_answer(port, "web", STARTUP_WAIT + SLACK)
            note("time: main meridiand ready %.2f s after start, web (startup: wait) answered "
                 "%.2f s later (first round)" % (ready, t_first))
            ctl = Ctl(ctl_bin, tmp.join("ctl.sock"))
            try:
                check_initial(results, port, ctl, first, server)
                check_kinds(results, port, ctl)
                check_dynamic_kinds(results, port, ctl, tmp, dnsb)
                check_stop_start(results, port, ctl, backends)
                check_drain(results, port, ctl, backends)
                check_all_down(results, port, ctl, backends)
                check_flap(results, port, ctl, backends[FLAP_ADDR])
                check_ttl(results, port, ctl, backends[TTL_ADDR])
                check_reload(results, server, port, ctl, tmp, ports)
                results.check("main meridiand alive at the end", [] if server.alive() else
                              ["exited: %s" % server.log_tail()])
            finally:
                rc = server.stop()
            results.check("main meridiand: clean exit on SIGTERM", [] if rc == 0 else
                          ["exit status %s" % rc])
            check_persisted(results, args.meridiand, tmp, ctl_bin, ports["http"],
                            ports["hang"], backends)
            check_wait(results, args.meridiand, tmp, ctl_bin, ports["http"], ports["hang"],
                       backends)
        finally:
            for s in servers:
                s.stop()
            for b in backends.values():
                b.stop()
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
