#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 015: meridiand as a primary (README.md, Zone transfers).

knotd is the secondary of two zones (one signed) on loopback: it fetches them by AXFR at
start; then a reload changes one record, our NOTIFY (the SOA refresh is an hour, so nothing
else would) makes it fetch the change by IXFR (its log says so), and both copies are
compared with ours record by record (AXFR from each). The signed zone's AXFR validates
(ldns-verify-zone, and dnspython checks every RRSIG). A transfer from 127.0.0.2, which the
ACL does not allow, is REFUSED; AXFR over UDP is NOTIMP; an IXFR from a serial outside the
history gets the whole zone, from the current serial the SOA alone. With one worker, a large
AXFR (its client stalled, then reading slowly) does not hold up queries over UDP and TCP.
`meridianctl zone status` counts what happened. Needs knotd (SKIP without).
"""

import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness as h  # noqa: E402

import dns.dnssec  # noqa: E402
import dns.message  # noqa: E402
import dns.name  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.rrset  # noqa: E402
import dns.zone  # noqa: E402

PLAIN, SIGNED, BIG = "xfr.test", "signed.test", "big.test"
BIG_NAMES = 40000  # about 4 MB of AXFR: dozens of messages
KNOT_ZONES = (PLAIN, SIGNED)


def zone_text(origin, serial, www, extra=()):
    """A zone whose SOA refresh is an hour (so only NOTIFY makes knotd fetch a change in
    time), with enough names that a one-record change is a small part of it (RFC 1995 §5)."""
    lines = ["$ORIGIN %s." % origin, "$TTL 300",
             "@ SOA ns1 hostmaster %d 3600 600 1209600 300" % serial,
             "@ NS ns1", "@ NS ns2.example.net.", "@ MX 10 mail", "ns1 A 192.0.2.1",
             "mail A 192.0.2.25", "www A %s" % www, "www AAAA 2001:db8::80",
             "sub NS ns.sub", "ns.sub A 192.0.2.53", "*.wild TXT \"wildcard\""]
    lines += ["h%d A 198.51.100.%d" % (i, i % 250 + 1) for i in range(200)]
    lines += ["t%d TXT \"text %d\"" % (i, i) for i in range(100)]
    return "\n".join(lines + list(extra)) + "\n"


def big_text():
    lines = ["$ORIGIN %s." % BIG, "$TTL 300", "@ SOA ns1 hostmaster 1 3600 600 1209600 300",
             "@ NS ns1", "ns1 A 192.0.2.1"]
    for i in range(BIG_NAMES):
        lines.append("n%d A 10.%d.%d.%d" % (i, i >> 16, (i >> 8) & 255, i & 255))
        lines.append("n%d TXT \"%s\"" % (i, "x" * 40))
    return "\n".join(lines) + "\n"


def meridian_config(tmp, port, knot_port, nsid):
    lines = ["server:",
             '  listen: ["%s:%d", "[%s]:%d"]' % (h.V4, port, h.V6, port),
             "  workers: 1",  # one worker: the non-blocking check needs its queries there
             '  nsid: "%s"' % nsid,
             "  tcp_idle_timeout: 30s",
             '  control_socket: "%s"' % tmp.join("control.sock"),
             '  key_directory: "%s"' % tmp.join("keys"),
             # Queries from loopback during transfers, every one answered: not rate limited.
             "  " + h.RRL_EXEMPT_LOOPBACK,
             "zones:",
             "  - origin: %s" % PLAIN,
             "    file: %s.zone" % PLAIN,
             '    transfer: { allow: ["127.0.0.1/32", "::1"] }',
             '    notify: ["127.0.0.1:%d"]' % knot_port,
             "  - origin: %s" % SIGNED,
             "    file: %s.zone" % SIGNED,
             "    dnssec: true",
             '    transfer: { allow: ["127.0.0.1"] }',
             '    notify: ["127.0.0.1:%d"]' % knot_port,
             "  - origin: %s" % BIG,
             "    file: %s.zone" % BIG,
             '    transfer: { allow: ["127.0.0.1/32"] }',
             "services:",
             "  svc.%s:" % PLAIN,
             "    pools:",
             '      a: { members: [ {address: 192.0.2.77}, {address: "2001:db8::77"} ] }',
             '      b: { members: [ {address: 192.0.2.78} ] }',
             "  svc.%s:" % SIGNED,
             "    pools:",
             '      a: { members: [ {address: 192.0.2.87, down: true}, {address: 192.0.2.88} ] }']
    path = tmp.join("meridian.yaml")
    h.write_file(path, "\n".join(lines) + "\n")
    return path


def tcp_ask(port, q, source=None, timeout=h.REPLY_TIMEOUT):
    try:
        # One RRset per record: an IXFR's SOAs (and its removed and added records) stay
        # apart and in order.
        return dns.query.tcp(q, h.V4, port=port, source=source, timeout=timeout,
                             one_rr_per_rrset=True)
    except Exception as e:  # the error is the finding
        return e


def check_knot(results, meridiand, knotd, tmp):
    port, kport = meridiand.port, knotd.port
    # AXFR at start (knotd bootstraps, or our start-up NOTIFY asks it to).
    ok = h.wait_for(lambda: all(h.soa_serial(kport, z) == 1 for z in KNOT_ZONES), h.scaled(30))
    results.check("knotd holds serial 1 of both zones",
                  [] if ok else ["knotd serials %s\n%s" % ([h.soa_serial(kport, z) for z in KNOT_ZONES],
                                                          knotd.log_tail())])
    for z in KNOT_ZONES:
        results.check("knotd's log: AXFR of %s from us finished" % z,
                      [] if h.log_has(knotd, r"\[%s\.\] AXFR, incoming, remote 127\.0\.0\.1@%d, "
                                           r"finished" % (re.escape(z), port)) else
                      [knotd.log_tail()])
        results.check("%s at knotd equals ours, record by record" % z,
                      h.compare_records(h.axfr_records(port, z), h.axfr_records(kport, z)))

    # One record changes; the SOA refresh is an hour: only our NOTIFY makes knotd look.
    h.write_file(tmp.join(PLAIN + ".zone"), zone_text(PLAIN, 2, "192.0.2.11"))
    rc, out = h.control(tmp.join("control.sock"), "reload")
    results.check("reload with serial 2", [] if rc == 0 else [out])
    t0 = time.monotonic()
    ok = h.wait_for(lambda: h.soa_serial(kport, PLAIN) == 2, h.scaled(15))
    results.check("knotd has serial 2 within %.0f s of the reload (%.1f s)"
                  % (h.scaled(15), time.monotonic() - t0),
                  [] if ok else [knotd.log_tail()])
    results.check("knotd's log: our NOTIFY with serial 2, then IXFR (not AXFR) finished",
                  [] if h.log_has(knotd, r"\[%s\.\] notify, incoming, remote 127\.0\.0\.1@\d+, "
                                       r"serial 2" % re.escape(PLAIN)) and
                  h.log_has(knotd, r"\[%s\.\] IXFR, incoming, remote 127\.0\.0\.1@%d, finished"
                          % (re.escape(PLAIN), port)) else [knotd.log_tail()])
    results.check("%s at knotd equals ours after the IXFR" % PLAIN,
                  h.compare_records(h.axfr_records(port, PLAIN), h.axfr_records(kport, PLAIN)))
    q = dns.message.make_query("www." + PLAIN, "A")
    r = h.parse(h.udp_exchange(q.to_wire(), kport))
    got = sorted(rd.to_text() for rrset in (r.answer if r else []) for rd in rrset)
    results.check("knotd answers the changed record", [] if got == ["192.0.2.11"] else [got])
    results.check("our log: the IXFR served incrementally",
                  [] if h.log_has(meridiand, r"IXFR \(incremental\) of %s\. serial 2 to "
                                           r"127\.0\.0\.1" % re.escape(PLAIN))
                  else [meridiand.log_tail()])
    # What a secondary holds for a steered name (README.md: the default order's first pool).
    recs = h.axfr_records(kport, PLAIN)
    svc = [r for r in recs if r.startswith("svc.%s. " % PLAIN)] if isinstance(recs, list) else recs
    results.check("the steered name as knotd holds it: the first pool's addresses",
                  [] if svc == ["svc.%s. 30 IN A 192.0.2.77" % PLAIN,
                                "svc.%s. 30 IN AAAA 2001:db8::77" % PLAIN] else [svc])


def check_signed(results, port, tmp):
    recs = h.axfr_records(port, SIGNED)
    if isinstance(recs, str):
        results.check("AXFR of the signed zone", [recs])
        return
    path = tmp.join("signed.axfr")
    h.write_file(path, "\n".join(recs) + "\n")
    tool = h.find_tool("ldns-verify-zone")
    if tool:
        p = subprocess.run([tool, path], capture_output=True, text=True, timeout=120)
        results.check("ldns-verify-zone accepts the transferred signed zone",
                      [] if p.returncode == 0 else [p.stdout + p.stderr])
    else:
        print("note: ldns-verify-zone not found (Debian ldnsutils): dnspython checks only")
    # dnspython: every RRSIG against the DNSKEY RRset of the transfer.
    z = dns.zone.from_text("\n".join(recs), origin=SIGNED + ".", relativize=False)
    origin = dns.name.from_text(SIGNED + ".")
    keys = {origin: z.find_rrset(origin, "DNSKEY")}
    errs, sigs = [], 0
    for name, node in z.items():
        for rds in node.rdatasets:
            if rds.rdtype != dns.rdatatype.RRSIG:
                continue
            for covered in {rd.type_covered for rd in rds}:
                rrset = z.find_rrset(name, covered)
                sigset = dns.rrset.from_rdata_list(name, rds.ttl,
                                                   [rd for rd in rds if rd.type_covered == covered])
                try:
                    dns.dnssec.validate(rrset, sigset, keys)
                    sigs += 1
                except Exception as e:  # a bad signature is the finding
                    errs.append("%s %s: %r" % (name, dns.rdatatype.to_text(covered), e))
    results.check("dnspython validates all %d signed RRsets of the transfer" % sigs,
                  errs if errs or sigs < 10 else [])
    svc = [r for r in recs if r.startswith("svc.%s. " % SIGNED) and " RRSIG " not in r]
    results.check("the signed steered name: members forced down left out, and it is signed",
                  [] if svc == ["svc.%s. 30 IN A 192.0.2.88" % SIGNED] and
                  any(r.startswith("svc.%s. 30 IN RRSIG A " % SIGNED) for r in recs) else [svc])


def check_refusals(results, port):
    q = dns.message.make_query(PLAIN, "AXFR")
    r = tcp_ask(port, q, source="127.0.0.2")
    results.check("AXFR from 127.0.0.2 (not in allow): REFUSED",
                  [] if isinstance(r, dns.message.Message) and r.rcode() == dns.rcode.REFUSED
                  else ["%r" % (r if not isinstance(r, dns.message.Message) else h.summary(r))])
    r = tcp_ask(port, q)
    results.check("AXFR from 127.0.0.1: NOERROR, SOA first",
                  [] if isinstance(r, dns.message.Message) and r.rcode() == 0 and r.answer and
                  r.answer[0].rdtype == dns.rdatatype.SOA else ["%r" % (r,)])
    r = h.parse(h.udp_exchange(q.to_wire(), port))
    results.check("AXFR over UDP: NOTIMP (RFC 5936 §4.2)",
                  [] if r is not None and r.rcode() == dns.rcode.NOTIMP else [h.summary(r)])


def ixfr_query(zone, serial):
    q = dns.message.make_query(zone, "IXFR")
    soa = dns.rrset.from_text(zone + ".", 0, "IN", "SOA",
                              "ns1.%s. hostmaster.%s. %d 1 1 1 1" % (zone, zone, serial))
    q.authority.append(soa)
    return q


def check_ixfr(results, port):
    full = h.axfr_records(port, PLAIN)
    # RFC 1982: 4000000000 is before 2 (2 is 294967298 ahead of it), and in no history.
    r = tcp_ask(port, ixfr_query(PLAIN, 4000000000))
    ok = isinstance(r, dns.message.Message) and r.rcode() == 0
    rrs = [(rrset.rdtype, rd) for rrset in (r.answer if ok else []) for rd in rrset]
    # The whole zone: SOA, a record other than SOA, ..., SOA; as many as an AXFR.
    n = len(full) + 1 if isinstance(full, list) else -1
    results.check("IXFR from a serial outside the history: the whole zone (RFC 1995 §4)",
                  [] if ok and len(rrs) == n and rrs[0][0] == dns.rdatatype.SOA and
                  rrs[1][0] != dns.rdatatype.SOA and rrs[-1][0] == dns.rdatatype.SOA else
                  ["%d records, AXFR has %d: %r" % (len(rrs), n, rrs[:3])])
    r = tcp_ask(port, ixfr_query(PLAIN, 1))
    ok = isinstance(r, dns.message.Message) and r.rcode() == 0
    soas = [rd.serial for rrset in (r.answer if ok else []) for rd in rrset
            if rrset.rdtype == dns.rdatatype.SOA]
    results.check("IXFR from serial 1: SOA 2, SOA 1, SOA 2, SOA 2 around the change",
                  [] if soas == [2, 1, 2, 2] else [soas])
    r = tcp_ask(port, ixfr_query(PLAIN, 2))
    ok = isinstance(r, dns.message.Message) and r.rcode() == 0
    results.check("IXFR from the current serial: the SOA alone (RFC 1995 §2)",
                  [] if ok and len(r.answer) == 1 and len(r.answer[0]) == 1 and
                  r.answer[0].rdtype == dns.rdatatype.SOA else ["%r" % (r,)])


def read_message(s, deadline):
    hdr = h._recv_exact(s, 2, deadline)
    if hdr is None:
        return None
    return h._recv_exact(s, struct.unpack("!H", hdr)[0], deadline)


def axfr_socket(port):
    """A TCP connection with a small receive buffer that asked for the big zone."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(h.REPLY_TIMEOUT)
    s.connect((h.V4, port))
    wire = dns.message.make_query(BIG, "AXFR").to_wire()
    s.sendall(struct.pack("!H", len(wire)) + wire)
    return s


def read_transfer(s, pause=0.0, first=None):
    """Messages and records of a transfer to its closing SOA (first: its first message, read
    already), or an error text."""
    messages, records, soas = 0, 0, 0
    deadline = time.monotonic() + h.scaled(120)
    while soas < 2 and time.monotonic() < deadline:
        m, first = (first, None) if first else (read_message(s, deadline), None)
        if m is None:
            return "connection ended after %d messages" % messages
        msg = dns.message.from_wire(m, one_rr_per_rrset=True)
        messages += 1
        for rrset in msg.answer:
            records += 1
            soas += rrset.rdtype == dns.rdatatype.SOA
        if pause:
            time.sleep(pause)
    return messages, records


def query_ok(port, tcp):
    q = dns.message.make_query("n7.%s" % BIG, "A")
    t0 = time.monotonic()
    r = h.parse(h.exchange(q.to_wire(), port, tcp, timeout=h.scaled(2.0)))
    took = time.monotonic() - t0
    good = r is not None and [rd.to_text() for rrset in r.answer for rd in rrset] == ["10.0.0.7"]
    return good, took


def check_not_blocking(results, port, sock):
    want_records = 2 * BIG_NAMES + 4  # SOA, apex NS, ns1 A, the names, SOA
    # A client that stops reading after the first message: the stream waits for it.
    s = axfr_socket(port)
    first = read_message(s, time.monotonic() + h.REPLY_TIMEOUT)
    errs = [] if first else ["no first message"]
    # A reload meanwhile: the transfer keeps the snapshot it started with (ARCHITECTURE.md
    # §4), which outlives its replacement until the transfer ends.
    rc, out = h.control(sock, "reload")
    if rc != 0:
        errs.append("reload during the transfer: " + out)
    worst = 0.0
    for i in range(30):
        good, took = query_ok(port, tcp=i % 3 == 0)
        worst = max(worst, took)
        if not good:
            errs.append("query %d not answered correctly" % i)
    if worst > h.scaled(1.0):
        errs.append("slowest answer %.3f s" % worst)
    results.check("queries to the same worker answer while a stalled AXFR is open (slowest "
                  "%.3f s)" % worst, errs)
    got = read_transfer(s, first=first)
    s.close()
    results.check("the stalled AXFR, which a reload overtook, completes once its client reads",
                  [] if isinstance(got, tuple) and got[1] == want_records else [got])

    # A client reading all the time (slowly): queries interleave with its messages.
    s = axfr_socket(port)
    result = {}
    reader = threading.Thread(target=lambda: result.update(t=read_transfer(s, pause=0.005)),
                              daemon=True)
    reader.start()
    latencies, bad = [], 0
    deadline = time.monotonic() + h.scaled(120)
    while reader.is_alive() and time.monotonic() < deadline:
        good, took = query_ok(port, tcp=len(latencies) % 4 == 0)
        latencies.append(took)
        bad += not good
    reader.join(h.scaled(5))
    s.close()
    errs = []
    if bad:
        errs.append("%d of %d queries unanswered or wrong" % (bad, len(latencies)))
    if len(latencies) < 5:
        errs.append("only %d queries during the transfer" % len(latencies))
    if latencies and max(latencies) > h.scaled(1.0):
        errs.append("slowest answer %.3f s" % max(latencies))
    got = result.get("t")
    if not (isinstance(got, tuple) and got[1] == want_records and got[0] > 20):
        errs.append("transfer: %r" % (got,))
    results.check("%d queries answered during a %s-message AXFR read as it comes (slowest "
                  "%.3f s)" % (len(latencies), got[0] if isinstance(got, tuple) else "?",
                               max(latencies) if latencies else 0), errs)


def check_status(results, sock):
    rc, out = h.control(sock, "zone", "status", PLAIN)
    errs = [] if rc == 0 else [out]
    for pattern in (r"^serial: 2$", r"^transfer: from 127\.0\.0\.1/32, ::1/128$",
                    r"^history: 1 versions \(serials 1\.\.2\), \d+ bytes$",
                    r"^transfers: axfr [1-9]\d*, ixfr [1-9]\d*, up_to_date [1-9]\d*, "
                    r"refused [1-9]\d*, abandoned 0$",
                    r"^notify: 127\.0\.0\.1:\d+$",
                    r"^notifies: sent [1-9]\d*, acked [1-9]\d*, failed 0$"):
        if not re.search(pattern, out, re.M):
            errs.append("no line matching %s in:\n%s" % (pattern, out))
    results.check("meridianctl zone status %s" % PLAIN, errs)


def main():
    args = h.parse_args(__doc__.splitlines()[0])
    knot = h.require_tool("knotd", args.knotd, "knot")
    results = h.Results(args.verbose)
    with h.TempDir(args.keep) as tmp:
        h.write_file(tmp.join(PLAIN + ".zone"), zone_text(PLAIN, 1, "192.0.2.10"))
        h.write_file(tmp.join(SIGNED + ".zone"),
              zone_text(SIGNED, 1, "192.0.2.20",
                        ["sec NS ns.sec.example.net.",
                         "sec DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF"
                         "0123456789ABCDEF0123456789ABCDEF"]))
        h.write_file(tmp.join(BIG + ".zone"), big_text())
        mport, kport = h.free_port(), h.free_port()
        mnsid, knsid = h.new_nsid("m015"), h.new_nsid("k015")
        mconf = meridian_config(tmp, mport, kport, mnsid)
        kconf = h.write_knot_secondary(tmp.join("knot.conf"), tmp.path, kport, mport,
                                       KNOT_ZONES, knsid)
        meridiand = h.Meridiand(args.meridiand, tmp.path, mport, mconf, mnsid).start()

        def body(others):
            meridiand.wait_ready(PLAIN, timeout=h.scaled(60))
            knotd = h.start_knotd(others, knot, tmp, kport, kconf, knsid, PLAIN)
            check_knot(results, meridiand, knotd, tmp)
            check_signed(results, mport, tmp)
            check_refusals(results, mport)
            check_ixfr(results, mport)
            check_not_blocking(results, mport, tmp.join("control.sock"))
            check_status(results, tmp.join("control.sock"))

        h.run_servers(results, meridiand, body)
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
