#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 016: meridiand as a secondary (README.md, Secondary zones).

knotd is the primary of two zones on loopback, every exchange TSIG-signed (xfr-key):
meridiand fetches them by AXFR at start; a change at knotd (new serial, knotc zone-reload)
reaches meridiand by knotd's signed NOTIFY and an IXFR (its log says so), and the copies
are compared record by record (AXFR from both: the secondary zone is also transferred out);
an unsigned NOTIFY for the zone is REFUSED; `zone retransfer` makes an AXFR. A fake primary
(python, on loopback) serves a third zone: once correctly, then a truncated stream, a wrong
closing SOA, data outside the zone, and an unsigned answer where TSIG is required: each
leaves the previous version serving and `zone status` says why. With knotd stopped, the zone
whose SOA expire is 4 s answers SERVFAIL after it, and a restart serves the other zone from
the copy on disk. Needs knotd (SKIP without).
"""

import base64
import os
import socket
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness as h  # noqa: E402

import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.opcode  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rrset  # noqa: E402
import dns.tsigkeyring  # noqa: E402

SEC, SHORT, FAKE, FAKESIG = "sec.test", "short.test", "fake.test", "fakesig.test"
SECRET = base64.b64encode(b"meridian e2e 016 transfer secret!").decode()
KEYRING = dns.tsigkeyring.from_text({"xfr-key.": ("hmac-sha256", SECRET)})


def write(path, text):
    with open(path + ".new", "w") as f:
        f.write(text)
    os.replace(path + ".new", path)


def zone_text(origin, serial, www, timers="3600 1 1209600 300"):
    lines = ["$ORIGIN %s." % origin, "$TTL 300", "@ SOA ns1 hostmaster %d %s" % (serial, timers),
             "@ NS ns1", "@ MX 10 mail", "ns1 A 192.0.2.1", "mail A 192.0.2.25",
             "www A %s" % www, "www AAAA 2001:db8::80", "sub NS ns.sub", "ns.sub A 192.0.2.53"]
    lines += ["h%d A 198.51.100.%d" % (i, i % 250 + 1) for i in range(100)]
    return "\n".join(lines) + "\n"


def knot_config(tmp, kport, mport):
    lines = h.knot_primary_head(tmp, kport, mport, "k016", SECRET) + [
             "template:", "  - id: default", '    storage: "%s"' % tmp.path,
             "    zonefile-sync: -1", "    zonefile-load: difference",
             "    journal-content: changes",
             "zone:"]
    for z in (SEC, SHORT):
        lines += ["  - domain: %s" % z, "    file: %s.zone" % z, "    notify: meridiand",
                  "    acl: xfr"]
    write(tmp.join("knot.conf"), "\n".join(lines) + "\n")
    return tmp.join("knot.conf")


def meridian_config(tmp, mport, kport, fport):
    key = "{ address: \"%s:%d\", key: xfr-key }" % (h.V4, kport)
    lines = ["server:", '  listen: ["%s:%d"]' % (h.V4, mport), "  workers: 1",
             '  nsid: "m016"', '  control_socket: "%s"' % tmp.join("control.sock"),
             '  state_file: "%s"' % tmp.join("state", "health.state"),
             "tsig_keys:", '  xfr-key: { algorithm: hmac-sha256, secret: "%s" }' % SECRET,
             "zones:",
             "  - origin: %s" % SEC, "    primaries: [ %s ]" % key,
             '    transfer: { allow: ["127.0.0.1"] }',
             "  - origin: %s" % SHORT, "    primaries: [ %s ]" % key,
             "  - origin: %s" % FAKE,
             '    primaries: [ { address: "%s:%d" } ]' % (h.V4, fport),
             "  - origin: %s" % FAKESIG,
             '    primaries: [ { address: "%s:%d", key: xfr-key } ]' % (h.V4, fport),
             "services:",
             "  svc.%s:" % SEC,
             "    pools:",
             "      a: { members: [ {address: 192.0.2.77} ] }"]
    os.makedirs(tmp.join("state"), exist_ok=True)
    write(tmp.join("meridian.yaml"), "\n".join(lines) + "\n")
    return tmp.join("meridian.yaml")


class FakePrimary:
    """A primary on loopback that answers SOA queries with `serial` and transfers in the
    way `mode` says: good, truncated, wrong_soa, out_of_zone (never signed)."""

    def __init__(self, port):
        self.port, self.serial, self.mode = port, 1, "good"
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((h.V4, port))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def rrs(self, zone, serial, www):
        text = zone_text(zone, serial, www).replace("$ORIGIN %s.\n$TTL 300\n" % zone, "")
        out = []
        for line in text.splitlines():
            name, rtype, rdata = line.split(" ", 2)
            owner = zone + "." if name == "@" else "%s.%s." % (name, zone)
            # Numbers and addresses as they are; the zone's relative names made absolute.
            rdata = " ".join(t if t[0].isdigit() or ":" in t else "%s.%s." % (t, zone)
                             for t in rdata.split(" "))
            out.append(dns.rrset.from_text(owner, 300, "IN", rtype, rdata))
        return out

    def answer(self, q):
        r = dns.message.make_response(q)
        r.flags |= dns.flags.AA
        zone = q.question[0].name.to_text().rstrip(".")
        rrs = self.rrs(zone, self.serial, "192.0.2.%d" % (100 + self.serial))
        soa = rrs[0]
        if q.question[0].rdtype == dns.rdatatype.SOA:
            r.answer.append(soa)
            return [r.to_wire()]
        body = [soa] + rrs[1:]
        if self.mode == "out_of_zone":
            body.append(dns.rrset.from_text("www.example.org.", 300, "IN", "A", "192.0.2.9"))
        closing = soa
        if self.mode == "wrong_soa":
            closing = self.rrs(zone, self.serial + 1, "192.0.2.1")[0]
        r.answer = body + [dns.rrset.from_text(closing.name, 300, "IN", "SOA",
                                               closing[0].to_text())]
        return [r.to_wire()]

    def run(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with c:
                c.settimeout(5)
                try:
                    while True:
                        n = struct.unpack("!H", h._recv_exact(c, 2, time.monotonic() + 5))[0]
                        wire = h._recv_exact(c, n, time.monotonic() + 5)
                        # ARCOUNT 0: a TSIG (which we cannot check) is left unread.
                        q = dns.message.from_wire(wire[:10] + b"\0\0" + wire[12:],
                                                  ignore_trailing=True)
                        for wire in self.answer(q):
                            if self.mode == "truncated" and len(q.question) and \
                                    q.question[0].rdtype != dns.rdatatype.SOA:
                                c.sendall(struct.pack("!H", len(wire)) + wire[:len(wire) // 2])
                                raise OSError("truncated on purpose")
                            c.sendall(struct.pack("!H", len(wire)) + wire)
                except Exception:  # the client went away, or our truncation
                    pass

    def stop(self):
        self.stopping = True
        self.sock.close()
        self.thread.join(timeout=5)


soa_serial = h.soa_serial


def status_field(sock, zone, field):
    _, text = h.control(sock, "zone", "status", zone)
    for line in text.splitlines():
        if line.startswith(field + ": "):
            return line[len(field) + 2:]
    return None


def ours_without_service(port, zone):
    """Our AXFR of the zone without the steered name, which knotd does not have (a transfer
    out carries a static RRset for it: ARCHITECTURE.md §11)."""
    got = h.axfr_records(port, zone)
    return got if isinstance(got, str) else [r for r in got if not r.startswith("svc.")]


def check_knot_zones(results, m, knotd, tmp):
    mport, kport, sock = m.port, knotd.port, tmp.join("control.sock")
    ok = h.wait_for(lambda: soa_serial(mport, SEC) == 1 and soa_serial(mport, SHORT) == 1,
                    timeout=h.scaled(20))
    results.check("AXFR at start: both zones at serial 1", [] if ok else [m.log_tail()])
    results.check("our log: AXFR from knotd, new version",
                  [] if h.log_has(m, r"zone %s\.: AXFR from 127\.0\.0\.1:%d: new version, "
                                     r"serial 1" % (SEC, kport)) else [m.log_tail()])
    results.check("%s here equals knotd's, record by record" % SEC,
                  h.compare_records(ours_without_service(mport, SEC), h.axfr_records(kport, SEC, keyring=KEYRING)))
    results.check("the steered name inside the secondary zone is answered by its service",
                  [] if h.a_of(mport, "svc." + SEC) == ["192.0.2.77"] else
                  [h.a_of(mport, "svc." + SEC)])
    copy = tmp.join("state", "secondary", SEC + ".zone")
    results.check("the copy is on disk beside the state file",
                  [] if os.path.exists(copy) else ["no " + copy])

    # An unsigned NOTIFY from the primary's address: its key is required, so REFUSED.
    n = dns.message.make_query(SEC, "SOA")
    n.set_opcode(dns.opcode.NOTIFY)
    r = h.parse(h.udp_exchange(n.to_wire(), mport))
    results.check("an unsigned NOTIFY for %s is REFUSED" % SEC,
                  [] if r is not None and r.rcode() == dns.rcode.REFUSED else [h.summary(r)])

    write(tmp.join(SEC + ".zone"), zone_text(SEC, 2, "192.0.2.11"))
    t0 = time.monotonic()
    h.subprocess.run(["knotc", "-s", tmp.join("knot-run", "knot.sock"), "zone-reload", SEC],
                     stdout=h.subprocess.DEVNULL, stderr=h.subprocess.DEVNULL, timeout=30)
    ok = h.wait_for(lambda: soa_serial(mport, SEC) == 2, timeout=h.scaled(15))
    results.check("serial 2 here %.1f s after knotd's reload (refresh is an hour: NOTIFY did it)"
                  % (time.monotonic() - t0), [] if ok else [m.log_tail(), knotd.log_tail()])
    results.check("our log: IXFR (not AXFR) from knotd, serial 2",
                  [] if h.log_has(m, r"zone %s\.: IXFR from 127\.0\.0\.1:%d: new version, "
                                     r"serial 2" % (SEC, kport)) else [m.log_tail()])
    results.check("the changed record is served", [] if h.a_of(mport, "www." + SEC) ==
                  ["192.0.2.11"] else [h.a_of(mport, "www." + SEC)])
    results.check("%s here equals knotd's after the IXFR" % SEC,
                  h.compare_records(ours_without_service(mport, SEC), h.axfr_records(kport, SEC, keyring=KEYRING)))
    results.check("zone status: secondary, last transfer IXFR",
                  [] if status_field(sock, SEC, "role") == "secondary" and
                  status_field(sock, SEC, "last_transfer_kind") == "IXFR" else
                  [h.control(sock, "zone", "status", SEC)[1]])
    rc, text = h.control(sock, "zone", "retransfer", SEC)
    ok = rc == 0 and h.wait_for(lambda: status_field(sock, SEC, "last_transfer_kind") == "AXFR",
                                timeout=h.scaled(10))
    results.check("zone retransfer makes an AXFR", [] if ok else
                  [text, h.control(sock, "zone", "status", SEC)[1]])


def check_fake(results, m, fake, sock):
    mport = m.port
    ok = h.wait_for(lambda: h.a_of(mport, "www." + FAKE) == ["192.0.2.101"], timeout=h.scaled(15))
    results.check("the fake primary's good AXFR is served", [] if ok else [m.log_tail()])
    expect = {"truncated": "connection closed or timed out mid-answer",
              "wrong_soa": "closing SOA serial 3 differs from the opening 2",
              "out_of_zone": "record of www.example.org., outside the zone"}
    fake.serial = 2
    for mode, why in expect.items():
        fake.mode = mode
        before = status_field(sock, FAKE, "last_transfer")
        h.control(sock, "zone", "refresh", FAKE)
        ok = h.wait_for(lambda: status_field(sock, FAKE, "last_transfer") != before,
                        timeout=h.scaled(10))
        result = status_field(sock, FAKE, "last_transfer_result") or ""
        results.check("a %s stream is refused (%s)" % (mode, why),
                      [] if ok and result.startswith("failed") and why in result else
                      [result, m.log_tail()])
        results.check("after the %s stream the old version serves" % mode,
                      [] if h.a_of(mport, "www." + FAKE) == ["192.0.2.101"] and
                      soa_serial(mport, FAKE) == 1 else [h.a_of(mport, "www." + FAKE)])
    # The zone whose primary must sign: the unsigned answers never become data.
    ok = h.wait_for(lambda: "TSIG" in (status_field(sock, FAKESIG, "last_transfer_result") or ""),
                    timeout=h.scaled(10))
    results.check("unsigned answers to a TSIG-signed request are refused",
                  [] if ok else [h.control(sock, "zone", "status", FAKESIG)[1]])
    results.check("a zone never transferred answers SERVFAIL",
                  [] if h.rcode_of(mport, "www." + FAKESIG) == "SERVFAIL" else
                  [h.rcode_of(mport, "www." + FAKESIG)])
    fake.mode = "good"
    h.control(sock, "zone", "refresh", FAKE)
    ok = h.wait_for(lambda: soa_serial(mport, FAKE) == 2, timeout=h.scaled(10))
    results.check("a good stream afterwards is accepted", [] if ok else [m.log_tail()])


def main():
    args = h.parse_args(__doc__.splitlines()[0])
    knot = h.find_tool("knotd", args.knotd)
    if not knot or not h.find_tool("knotc"):
        h.skip("knotd/knotc not found (Debian knot)")
    results = h.Results(args.verbose)
    with h.TempDir(args.keep) as tmp:
        write(tmp.join(SEC + ".zone"), zone_text(SEC, 1, "192.0.2.10"))
        write(tmp.join(SHORT + ".zone"), zone_text(SHORT, 1, "192.0.2.30", "1 1 4 300"))
        mport, kport, fport = h.free_port(), h.free_port(), h.free_port()
        kconf = knot_config(tmp, kport, mport)
        mconf = meridian_config(tmp, mport, kport, fport)
        fake = FakePrimary(fport)
        knotd = h.Knotd(knot, tmp.path, kport, kconf, "k016")
        knotd.addrs = (h.V4,)
        m = None
        try:
            knotd.start()
            knotd.wait_ready(SEC, timeout=h.scaled(30))
            m = h.Meridiand(args.meridiand, tmp.path, mport, mconf, "m016", addrs=(h.V4,))
            m.start()
            m.wait_ready(SEC, timeout=h.scaled(30))
            check_knot_zones(results, m, knotd, tmp)
            check_fake(results, m, fake, tmp.join("control.sock"))
            # The primary goes away: the zone with a 4 s expire stops being served.
            knotd.stop()
            ok = h.wait_for(lambda: h.rcode_of(mport, "www." + SHORT) == "SERVFAIL",
                            timeout=h.scaled(15))
            results.check("%s answers SERVFAIL once its expire has passed" % SHORT,
                          [] if ok else [m.log_tail()])
            results.check("%s still served (expire two weeks)" % SEC,
                          [] if soa_serial(mport, SEC) == 2 else [m.log_tail()])
            status = m.stop()
            results.check("meridiand exits cleanly on SIGTERM (%s)" % status,
                          [] if status == 0 else [m.log_tail()])
            m = h.Meridiand(args.meridiand, tmp.path, mport, mconf, "m016", addrs=(h.V4,))
            m.log_path = tmp.join("meridiand-restart.log")
            m.start()
            m.wait_ready(SEC, timeout=h.scaled(30))
            results.check("after a restart with the primary down, the disk copy serves",
                          [] if soa_serial(mport, SEC) == 2 and
                          h.a_of(mport, "www." + SEC) == ["192.0.2.11"] else [m.log_tail()])
        except RuntimeError as e:
            results.check("servers start", [str(e)])
        finally:
            fake.stop()
            knotd.stop()
            if m:
                m.stop()
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
