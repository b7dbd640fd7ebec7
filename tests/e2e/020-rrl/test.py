#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 020: response rate limiting (issue 13: a 1 KB TXT amplified 35x, 112x with
udp_max_size 4096, for any spoofed source).

One source (127.2.0.1) floods queries for a 1 KB TXT at up to 20,000 q/s for 5 s (a
bounded python sender on loopback), first with `rrl: {enabled: false}`, then with the
default settings (rate 20, slip 2, loopback not exempt):

* off: nearly every query is answered in full: the amplification factor before;
* on: the full answers it gets are at most rate x (elapsed + 2) (one second's burst, one of
  slack for a busy machine), the rest are dropped or, every second one, a TC=1 stub of header
  and question (smaller than the query); its bytes out / bytes in is printed (after);
* meanwhile another prefix (127.1.0.1, a different /24) asks 100 q/s over ten 1 KB names,
  the flooded one among them, 10/s each: every answer arrives in full, untruncated;
* `meridianctl rrl` counts the drops and stubs, and the log names who is limited: the
  flooding prefix (127.2.0.0/24), the class and the name ("limiting large responses for
  big0.rrl.test. to 127.2.0.0/24"), never the other prefix, which stays under its rate;
* after the flood, a client with a valid server cookie (RFC 7873) asks the same name at
  200 q/s for 2 s and gets every answer; the same pattern without a cookie from another prefix
  is limited (so the exemption is what lets the first through);
* a reload that changes rrl.table_size logs that it needs a restart (the table is sized at
  start); a reload that keeps it (or only rounds to the same size) does not.

The flood is bounded in time and count and goes to loopback only.
"""

import os
import signal
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness as h  # noqa: E402

import dns.edns  # noqa: E402
import dns.message  # noqa: E402

ORIGIN = "rrl.test"
NSID = h.new_nsid("rrl")
RATE = 20
SLIP = 2
FLOOD_QPS = 20000
FLOOD_S = 5.0
TXT = " ".join('"%s"' % ("x" * 200) for _ in range(5))  # 1005 octets of strings
NAMES = ["big%d.%s" % (i, ORIGIN) for i in range(10)]
FLOODER, LEGIT, COOKIE_CLIENT, NO_COOKIE_CLIENT = "127.2.0.1", "127.1.0.1", "127.3.0.1", \
    "127.4.0.1"


def zone():
    return h.small_zone(ORIGIN, *("big%d TXT %s" % (i, TXT) for i in range(10)))


def write_config(tmp, port, rrl_on, table_size=None):
    # No exempt_loopback: its default (false) must let a flood from loopback be limited.
    rrl = ("rrl: {rate: %d, slip: %d%s}" % (RATE, SLIP, ", table_size: %d" % table_size
                                            if table_size else "")) \
        if rrl_on else "rrl: {enabled: false}"
    lines = ["server:",
             '  listen: ["%s:%d"]' % (h.V4, port),
             "  workers: 2",
             "  udp_max_size: 4096",
             '  nsid: "%s"' % NSID,
             "  control_socket: %s" % tmp.join("ctl-%d.sock" % rrl_on),
             "  " + rrl,
             "zones:",
             "  - origin: " + ORIGIN,
             "    file: " + tmp.join("rrl.zone")]
    path = tmp.join("meridian-%d.yaml" % rrl_on)
    h.write_file(path, "\n".join(lines) + "\n")
    return path


def query(name, cookie=None):
    opts = [dns.edns.GenericOption(dns.edns.COOKIE, cookie)] if cookie else []
    return dns.message.make_query(name, "TXT", use_edns=0, payload=4096, options=opts).to_wire()


class Source:
    """A client socket bound to `addr` sending `wires` round-robin at `qps` for `secs`,
    counting what comes back (a receiver thread). Bounded: at most qps x secs queries."""

    def __init__(self, addr, port, wires, qps, secs):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((addr, 0))
        self.sock.settimeout(0.2)
        self.port, self.wires, self.qps, self.secs = port, wires, qps, secs
        self.sent = self.bytes_in = self.full = self.tc = self.bytes_out = 0
        self.elapsed = 0.0
        self.sending = True
        self.rx = threading.Thread(target=self._receive)

    def _receive(self):
        quiet_since = None
        while True:
            try:
                d = self.sock.recv(65535)
            except socket.timeout:
                # After the last query, stop once replies have stopped for a while.
                if not self.sending:
                    quiet_since = quiet_since or time.monotonic()
                    if time.monotonic() - quiet_since > h.scaled(1.0):
                        return
                continue
            quiet_since = None
            self.bytes_out += len(d)
            if d[2] & 0x02:
                self.tc += 1
            else:
                self.full += 1

    def run(self):
        self.rx.start()
        start = time.monotonic()
        limit = int(self.qps * self.secs)
        while self.sent < limit:
            now = time.monotonic() - start
            if now >= self.secs:
                break
            due = min(limit, int(now * self.qps) + 1)
            while self.sent < due:
                w = self.wires[self.sent % len(self.wires)]
                try:
                    self.sock.sendto(w, (h.V4, self.port))
                except BlockingIOError:
                    pass
                self.sent += 1
                self.bytes_in += len(w)
            time.sleep(0.001)
        self.elapsed = time.monotonic() - start
        self.sending = False
        return self

    def join(self):
        self.rx.join()
        self.sock.close()
        return self

    def amplification(self):
        return self.bytes_out / self.bytes_in if self.bytes_in else 0.0


def flood_with_legit(port):
    flood = Source(FLOODER, port, [query(NAMES[0])], FLOOD_QPS, FLOOD_S)
    legit = Source(LEGIT, port, [query(n) for n in NAMES], 100, FLOOD_S)
    t = threading.Thread(target=legit.run)
    t.start()
    flood.run()
    t.join()
    return flood.join(), legit.join()


def get_cookie(port, addr):
    """A server cookie for client cookie 8 x 0x42 from `addr`: the 24-octet option."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 0))
    s.settimeout(h.scaled(2.0))
    try:
        s.sendto(query(NAMES[1], b"\x42" * 8), (h.V4, port))
        msg = dns.message.from_wire(s.recv(65535))
    finally:
        s.close()
    for o in msg.options:
        if o.otype == dns.edns.COOKIE:
            return o.to_wire() if hasattr(o, "to_wire") else o.data
    return None


def check_log(srv, check):
    """The limiting line names the prefix, class and name (1 KB TXT over 1024: large)."""
    flooded = r"rrl: limiting large responses for %s\. to 127\.2\.0\.0/24 over %d/s" \
        % (NAMES[0].replace(".", r"\."), RATE)
    check(h.log_has(srv, flooded),
          "the log names the flooding prefix and name (%s):\n%s" % (flooded, srv.log_tail(10)))
    check(not h.log_has(srv, r"rrl: .* to 127\.1\.0\.0/24"),
          "the log never names the prefix under its rate (127.1.0.0/24)")


def check_table_size_reload(srv, tmp, ctl, check):
    """table_size is read at start: a reload that changes it says so; one that keeps it (or
    rounds to the same power of two, 262143 -> 262144) does not."""
    warning = r"reload: server\.rrl\.table_size changed to 4096: .* 262144 buckets"
    for size, warns in ((262143, False), (4096, True)):
        write_config(tmp, srv.port, True, table_size=size)
        before = srv.log_tail(1000).count("reloaded:")
        srv.proc.send_signal(signal.SIGHUP)
        done = h.wait_for(lambda: srv.log_tail(1000).count("reloaded:") > before,
                          timeout=h.scaled(15))
        check(done, "reload with table_size %d done:\n%s" % (size, srv.log_tail(5)))
        check(h.log_has(srv, warning) == warns,
              "reload with table_size %d: %s" % (size, "warns that it needs a restart" if warns
                                                 else "no warning"))
    rc, out = ctl("rrl")
    check(rc == 0 and "table 262144 buckets" in out,
          "the table keeps its size after the reload:\n" + out)


def main():
    args = h.parse_args(__doc__, extra=h.meridianctl_option)
    ctl_bin = h.meridianctl_path(args)
    failures = []

    def check(ok, what):
        if not ok:
            failures.append(what)
        if args.verbose or not ok:
            print(("ok: " if ok else "FAIL: ") + what)

    with h.TempDir(keep=args.keep) as tmp:
        h.write_file(tmp.join("rrl.zone"), zone())
        results = {}
        for rrl_on in (False, True):
            def make(port, rrl_on=rrl_on):
                cfg = write_config(tmp, port, rrl_on)
                return h.Meridiand(args.meridiand, tmp.path, port, cfg, NSID, addrs=(h.V4,))
            srv = h.start_with_free_port(make, ORIGIN)
            try:
                flood, legit = flood_with_legit(srv.port)
                results[rrl_on] = flood
                print("rrl %s: flood sent %d queries (%d bytes) in %.1f s, got %d full answers, "
                      "%d TC stubs, %d bytes: amplification %.2f; legit %d/%d answered in full"
                      % ("on" if rrl_on else "off", flood.sent, flood.bytes_in, flood.elapsed,
                         flood.full, flood.tc, flood.bytes_out, flood.amplification(),
                         legit.full, legit.sent))
                check(legit.full == legit.sent and legit.tc == 0,
                      "rrl %s: the other prefix got all %d answers in full (got %d, %d TC)"
                      % ("on" if rrl_on else "off", legit.sent, legit.full, legit.tc))
                if not rrl_on:
                    # Unlimited: far more than any rate-limited budget gets through.
                    check(flood.full > 10 * RATE * (flood.elapsed + 2),
                          "rrl off: the flood is answered in full (%d answers)" % flood.full)
                    continue
                bound = RATE * (flood.elapsed + 2)
                check(RATE <= flood.full <= bound,
                      "rrl on: full answers to the flood %d within [%d, %.0f]"
                      % (flood.full, RATE, bound))
                check(flood.tc > 0 and flood.tc <= flood.sent / SLIP + 1,
                      "rrl on: TC stubs %d, at most one in %d of %d queries"
                      % (flood.tc, SLIP, flood.sent))
                size = len(query(NAMES[0]))
                stub = 12 + len(NAMES[0]) + 2 + 4
                check(flood.bytes_out <= bound * 1200 + (flood.sent / SLIP + 1) * stub,
                      "rrl on: bytes out %d bounded by rate and slip" % flood.bytes_out)
                check(flood.amplification() < 1.0,
                      "rrl on: amplification %.2f below 1 (query %d octets)"
                      % (flood.amplification(), size))
                ctl = h.Meridianctl(ctl_bin, tmp.join("ctl-1.sock"))
                rc, out = ctl("rrl")
                counts = dict(kv.split(" ") for kv in out.splitlines()[2].split(", ")) \
                    if rc == 0 and len(out.splitlines()) > 2 else {}
                check(rc == 0 and int(counts.get("dropped", 0)) > 0 and
                      int(counts.get("slipped", 0)) > 0,
                      "meridianctl rrl counts drops and stubs:\n" + out)
                # A valid server cookie exempts; the same pattern without one is limited.
                cookie = get_cookie(srv.port, COOKIE_CLIENT)
                check(cookie is not None and len(cookie) == 24,
                      "a 24-octet cookie came back: %r" % (cookie,))
                with_cookie = Source(COOKIE_CLIENT, srv.port, [query(NAMES[1], cookie)], 200,
                                     2.0).run().join()
                without = Source(NO_COOKIE_CLIENT, srv.port, [query(NAMES[1])], 200,
                                 2.0).run().join()
                check(with_cookie.full == with_cookie.sent,
                      "a valid cookie is never limited: %d/%d answered in full"
                      % (with_cookie.full, with_cookie.sent))
                check(without.full <= RATE * (without.elapsed + 2),
                      "without a cookie the same pattern is limited: %d/%d in full"
                      % (without.full, without.sent))
                check_log(srv, check)
                check_table_size_reload(srv, tmp, ctl, check)
            finally:
                srv.stop()
        if False in results and True in results:
            print("amplification for the flooding source: %.2f without rrl, %.2f with rrl"
                  % (results[False].amplification(), results[True].amplification()))
    if failures:
        print("%d failed" % len(failures))
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
