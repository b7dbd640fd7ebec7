#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 004: SIGHUP reloads zones without losing a query, and a broken zone on
reload keeps the old data serving (DESIGN.md §8).

While a client thread keeps querying over UDP (bounded in count and time), the
test swaps the zone file for a new serial, sends SIGHUP, and waits (bounded)
until the new answer appears; then it installs a broken zone, sends SIGHUP, and
checks the log names file:line while the previous answer keeps coming back.
No query may go unanswered or come back with another rcode during either.
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


class Querier(threading.Thread):
    """Queries continuously until stopped; records anything but NOERROR."""

    def __init__(self, port, max_queries=200000, max_seconds=h.scaled(60.0)):
        super().__init__(daemon=True)
        self.port = port
        self.max_queries = max_queries
        self.max_seconds = max_seconds
        self.stop_flag = threading.Event()
        self.sent = 0
        self.errors = []

    def run(self):
        deadline = time.monotonic() + self.max_seconds
        while not self.stop_flag.is_set() and self.sent < self.max_queries \
                and time.monotonic() < deadline:
            rcode, addrs = www_answer(self.port)
            self.sent += 1
            if rcode != dns.rcode.NOERROR or not addrs:
                self.errors.append("query %d: rcode %s answer %s" % (self.sent, rcode, addrs))


def wait_for(predicate, timeout=h.scaled(10.0)):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def main():
    args = h.parse_args(__doc__.splitlines()[0])
    results = h.Results(args.verbose)
    with h.TempDir(args.keep) as tmp:
        zone = tmp.join("reload.test.zone")
        write_zone(zone, zone_text(1, "192.0.2.10"))

        def meridian(port):
            conf = h.write_meridian_config(tmp.join("meridian.yaml"), port, [(ORIGIN, zone)])
            return h.Meridiand(args.meridiand, tmp.path, port, conf)

        server = h.start_with_free_port(meridian, ORIGIN)
        try:
            port = server.port
            results.check("initial answer", [] if www_answer(port) == (0, ["192.0.2.10"])
                          else ["got %s" % (www_answer(port),)])
            querier = Querier(port)
            querier.start()

            write_zone(zone, zone_text(2, "192.0.2.20"))
            server.proc.send_signal(signal.SIGHUP)
            ok = wait_for(lambda: www_answer(port) == (0, ["192.0.2.20"]))
            results.check("good reload: the new answer appears within %.0f s" % h.scaled(10),
                          [] if ok else ["still %s" % (www_answer(port),)])

            write_zone(zone, zone_text(3, "192.0.2.30", broken=True))
            server.proc.send_signal(signal.SIGHUP)
            logged = wait_for(lambda: "reload failed" in server.log_tail(50))
            log = server.log_tail(50)
            want = "%s:7:" % zone
            results.check("broken reload is logged with file:line",
                          [] if logged and want in log else ["log lacks %r:\n%s" % (want, log)])
            results.check("broken reload: the previous data keeps serving",
                          [] if www_answer(port) == (0, ["192.0.2.20"])
                          else ["got %s" % (www_answer(port),)])

            write_zone(zone, zone_text(4, "192.0.2.40"))
            server.proc.send_signal(signal.SIGHUP)
            ok = wait_for(lambda: www_answer(port) == (0, ["192.0.2.40"]))
            results.check("a fixed zone loads on the next reload", [] if ok else ["not reloaded"])

            querier.stop_flag.set()
            querier.join(timeout=10)
            results.check("%d queries during three reloads, none lost or failed" % querier.sent,
                          querier.errors[:5] if querier.sent > 0 else ["no queries sent"])
            results.check("server alive after reloads", [] if server.alive() else ["exited"])
        finally:
            rc = server.stop()
        results.check("clean exit on SIGTERM", [] if rc == 0 else ["exit status %s" % rc])
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
