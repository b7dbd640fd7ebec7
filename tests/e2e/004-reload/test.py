#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 004: SIGHUP reloads zones without losing a query, and a broken zone on
reload keeps the old data serving (ARCHITECTURE.md §4).

While a client thread keeps querying over UDP (bounded in count and time), the
test swaps the zone file for a new serial, sends SIGHUP, and waits (bounded)
until the new answer appears; then it installs a broken zone, sends SIGHUP, and
checks the log names file:line while the previous answer keeps coming back.
Every reply of the querier must be exactly one loaded version's answer, and the
versions it sees may only move forward: none lost, mixed or from the broken file.
"""

import os
import signal
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness as h  # noqa: E402

import dns.message  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402

ORIGIN = "reload.test"


def zone_text(serial, address, broken=False):
    lines = ["$ORIGIN reload.test.", "$TTL 300",
             "@ SOA ns1 hostmaster %d 7200 3600 1209600 300" % serial,
             "@ NS ns1", "ns1 A 192.0.2.1", "www A %s" % address]
    if broken:
        lines.append("bad A 999.1.2.3")  # line 7
    return "\n".join(lines) + "\n"


def write_zone(path, text):
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)  # atomic, as operators' tooling does


def www_answer(port):
    wire = dns.message.make_query("www." + ORIGIN, "A").to_wire()
    reply = h.udp_exchange(wire, port)  # a late reply is not a lost one: the full timeout
    if reply is None:
        return None, None
    msg = h.parse(reply)
    if msg is None:
        return None, None
    addrs = sorted(rr.address for rrset in msg.answer for rr in rrset)
    return msg.rcode(), addrs


# The addresses www has in the zone versions that load, in order (the broken version's
# 192.0.2.30 must never be served).
VERSIONS = ["192.0.2.10", "192.0.2.20", "192.0.2.40"]


def exact_answer(msg, query):
    """Index in VERSIONS of the reply's data, or an error text: the whole reply must be
    the answer of one zone version (rcode, flags, question, one A record with TTL 300,
    nothing else), never a mix and never anything else."""
    if msg is None:
        return "no reply"
    errs = h.check_question(query, msg)
    if msg.rcode() != dns.rcode.NOERROR:
        errs.append("rcode %s" % h.rcode_text(msg))
    if h.flag_text(msg.flags) != "QR AA RD":
        errs.append("flags %s" % h.flag_text(msg.flags))
    rows = [(r.name.to_text(), r.rdtype, r.ttl, sorted(rd.to_text() for rd in r))
            for r in msg.answer]
    if len(rows) != 1 or rows[0][:3] != ("www.%s." % ORIGIN, dns.rdatatype.A, 300) or \
            len(rows[0][3]) != 1 or rows[0][3][0] not in VERSIONS:
        errs.append("answer %s" % rows)
    if msg.authority or msg.additional or msg.edns >= 0:
        errs.append("authority/additional/OPT not empty: %s" % h.summary(msg))
    return "; ".join(errs) if errs else VERSIONS.index(rows[0][3][0])


class Querier(threading.Thread):
    """Queries continuously until stopped. Every reply must be exactly one version's
    answer, and versions may only move forward: once a reload's data is served, the
    previous data never comes back."""

    def __init__(self, port, max_queries=200000, max_seconds=h.scaled(60.0)):
        super().__init__(daemon=True)
        self.port = port
        self.max_queries = max_queries
        self.max_seconds = max_seconds
        self.stop_flag = threading.Event()
        self.sent = 0
        self.seen = [0] * len(VERSIONS)
        self.errors = []

    def run(self):
        deadline = time.monotonic() + self.max_seconds
        latest = 0
        while not self.stop_flag.is_set() and self.sent < self.max_queries \
                and time.monotonic() < deadline:
            q = dns.message.make_query("www." + ORIGIN, "A")
            got = exact_answer(h.parse(h.udp_exchange(q.to_wire(), self.port, timeout=1.0)), q)
            self.sent += 1
            if isinstance(got, str):
                self.errors.append("query %d: %s" % (self.sent, got))
                continue
            self.seen[got] += 1
            if got < latest:
                self.errors.append("query %d: %s again after %s was served"
                                   % (self.sent, VERSIONS[got], VERSIONS[latest]))
            latest = max(latest, got)


def main():
    args = h.parse_args(__doc__.splitlines()[0])
    results = h.Results(args.verbose)
    with h.TempDir(args.keep) as tmp:
        zone = tmp.join("reload.test.zone")
        write_zone(zone, zone_text(1, "192.0.2.10"))

        def meridian(port):
            nsid = h.new_nsid("meridiand")
            # Queries from loopback without pause during reloads, none may be lost: not rate
            # limited.
            conf = h.write_meridian_config(tmp.join("meridian.yaml"), port, [(ORIGIN, zone)],
                                           nsid, extra_server=[h.RRL_EXEMPT_LOOPBACK])
            return h.Meridiand(args.meridiand, tmp.path, port, conf, nsid)

        server = h.start_with_free_port(meridian, ORIGIN)
        try:
            port = server.port
            results.check("initial answer", [] if www_answer(port) == (0, ["192.0.2.10"])
                          else ["got %s" % (www_answer(port),)])
            querier = Querier(port)
            querier.start()

            write_zone(zone, zone_text(2, "192.0.2.20"))
            server.proc.send_signal(signal.SIGHUP)
            ok = h.wait_for(lambda: www_answer(port) == (0, ["192.0.2.20"]),
                            timeout=h.scaled(10.0))
            results.check("good reload: the new answer appears within %.0f s" % h.scaled(10),
                          [] if ok else ["still %s" % (www_answer(port),)])

            write_zone(zone, zone_text(3, "192.0.2.30", broken=True))
            server.proc.send_signal(signal.SIGHUP)
            logged = h.wait_for(lambda: "reload failed" in server.log_tail(50),
                                timeout=h.scaled(10.0))
            log = server.log_tail(50)
            want = "%s:7:" % zone
            results.check("broken reload is logged with file:line",
                          [] if logged and want in log else ["log lacks %r:\n%s" % (want, log)])
            results.check("broken reload: the previous data keeps serving",
                          [] if www_answer(port) == (0, ["192.0.2.20"])
                          else ["got %s" % (www_answer(port),)])

            write_zone(zone, zone_text(4, "192.0.2.40"))
            server.proc.send_signal(signal.SIGHUP)
            ok = h.wait_for(lambda: www_answer(port) == (0, ["192.0.2.40"]),
                            timeout=h.scaled(10.0))
            results.check("a fixed zone loads on the next reload", [] if ok else ["not reloaded"])

            # The querier must meet the last version too before it stops (bounded wait).
            h.wait_for(lambda: querier.seen[-1] > 0 or not querier.is_alive())
            querier.stop_flag.set()
            querier.join(timeout=10)
            errs = querier.errors[:5]
            if querier.sent == 0 or 0 in querier.seen[1:]:
                errs.append("versions seen %s: each loaded version must be seen"
                            % dict(zip(VERSIONS, querier.seen)))
            results.check("%d queries during three reloads, each exactly one version's answer "
                          "%s, in order, none lost" % (querier.sent,
                                                       dict(zip(VERSIONS, querier.seen))), errs)
            results.check("server alive after reloads", [] if server.alive() else ["exited"])
        finally:
            rc = server.stop()
        results.check("clean exit on SIGTERM", [] if rc == 0 else ["exit status %s" % rc])
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
