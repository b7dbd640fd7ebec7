#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 019: zone transfers with BIND 9 both ways, TSIG-signed (README.md, Zone transfers).

named runs as a child in the foreground (-g, one worker thread) with its own config in the
temp dir: 127.0.0.1 on a held port only, `recursion no`, `dnssec-validation no`, `notify
explicit` (it never notifies the zones' NS addresses), rndc on a held loopback port with its
own key; it is stopped by its pid. Every transfer and NOTIFY is signed with xfr-key
(hmac-sha256).

named as our secondary (tobind.test, about 3,000 records of many types, so several signed
messages): it fetches the zone by AXFR when our start-up NOTIFY arrives; a reload here that
changes one record reaches it by our signed NOTIFY and an IXFR (our log and counters say
incremental); after each step the copies are compared record by record.

meridiand as BIND's secondary (frombind.test): AXFR at start; a change at named (zone file
edited, `rndc reload`, ixfr-from-differences) reaches us by named's signed NOTIFY and an IXFR
(a changed, a removed and an added record); the copies compared record by record.

TSIG: an AXFR signed 1000 s in the past gets NOTAUTH/BADTIME from both servers (dnspython
reads PeerBadTime from each).

With named stopped: shortbind.test (SOA expire 4 s) answers SERVFAIL after its expire,
frombind.test is still served, and a restarted meridiand serves it from its copy on disk.
Needs named, rndc (Debian bind9, bind9-utils); SKIP without.
"""

import base64
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness as h  # noqa: E402

import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.tsig  # noqa: E402

TOBIND, FROMBIND, SHORT = "tobind.test", "frombind.test", "shortbind.test"
SECRET = base64.b64encode(b"meridian e2e 019 bind interop key").decode()
RNDC_SECRET = base64.b64encode(b"meridian e2e 019 rndc control key").decode()
KEY = dns.tsig.Key("xfr-key.", SECRET, dns.tsig.HMAC_SHA256)
KEYRING = {KEY.name: KEY}
HOSTS = 1500  # x (A + TXT): about 200 KB, several 64 KiB messages


def zone_text(origin, serial, www, hosts=range(HOSTS), timers="3600 600 1209600 300"):
    """A zone with most record types a secondary meets (names in RDATA that BIND compresses,
    multi-string TXT, a delegation with glue and DS, a wildcard, CNAME, DNAME), and `hosts`
    names with an A and a TXT each."""
    lines = ["$ORIGIN %s." % origin, "$TTL 300",
             "@ SOA ns1 hostmaster %d %s" % (serial, timers),
             "@ NS ns1", "@ NS ns2.example.", "@ MX 10 mail", "@ MX 20 mail.example.",
             '@ TXT "v=spf1 -all" "second string" "with \\"quotes\\" and ; semicolon"',
             "@ CAA 0 issue \"ca.example\"",
             "ns1 A 192.0.2.1", "ns1 AAAA 2001:db8::1", "mail A 192.0.2.25",
             "www A %s" % www, "www AAAA 2001:db8::80",
             "alias CNAME www", "redir DNAME example.",
             "_sip._tcp SRV 10 60 5060 www",
             "*.wild A 192.0.2.99",
             "sshfp SSHFP 1 1 0123456789abcdef0123456789abcdef01234567",
             "sub NS ns.sub", "sub DS 12345 13 2 "
             "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
             "ns.sub A 192.0.2.53", "ns.sub AAAA 2001:db8::53"]
    for i in hosts:
        lines += ["h%04d A 198.51.100.%d" % (i, i % 250 + 1),
                  'h%04d TXT "host %d of the 019 interop zone"' % (i, i)]
    return "\n".join(lines) + "\n"


def named_config(tmp, bport, mport, rport):
    key = 'key "xfr-key" { algorithm hmac-sha256; secret "%s"; };' % SECRET
    rkey = 'key "rndc-key" { algorithm hmac-sha256; secret "%s"; };' % RNDC_SECRET
    d = tmp.join("named")
    os.makedirs(d, exist_ok=True)
    text = """%(key)s
%(rkey)s
options {
    directory "%(d)s";
    pid-file "%(d)s/named.pid";
    lock-file "%(d)s/named.lock";
    session-keyfile "%(d)s/session.key";
    managed-keys-directory "%(d)s";
    listen-on port %(bport)d { 127.0.0.1; };
    listen-on-v6 { none; };
    recursion no;
    dnssec-validation no;
    empty-zones-enable no;
    automatic-interface-scan no;
    notify explicit;
    server-id "%(nsid)s";
    allow-query { 127.0.0.1; };
};
controls { inet 127.0.0.1 port %(rport)d allow { 127.0.0.1; } keys { "rndc-key"; }; };
zone "%(tobind)s" {
    type secondary;
    primaries port %(mport)d { 127.0.0.1 key "xfr-key"; };
    file "%(tobind)s.bak";
    masterfile-format text;
    allow-transfer { 127.0.0.1; };
};
zone "%(frombind)s" {
    type primary;
    file "%(frombind)s.zone";
    ixfr-from-differences yes;
    allow-transfer { key "xfr-key"; };
    also-notify port %(mport)d { 127.0.0.1 key "xfr-key"; };
};
zone "%(short)s" {
    type primary;
    file "%(short)s.zone";
    allow-transfer { key "xfr-key"; };
    also-notify port %(mport)d { 127.0.0.1 key "xfr-key"; };
};
""" % dict(key=key, rkey=rkey, d=d, bport=bport, mport=mport, rport=rport, nsid=NAMED_NSID,
           tobind=TOBIND, frombind=FROMBIND, short=SHORT)
    h.write_file(os.path.join(d, "named.conf"), text)
    h.write_file(os.path.join(d, "rndc.conf"),
                 '%s\noptions { default-key "rndc-key"; default-server 127.0.0.1; '
                 'default-port %d; };\n' % (rkey, rport))
    return os.path.join(d, "named.conf")


def meridian_config(tmp, mport, bport):
    primary = '{ address: "%s:%d", key: xfr-key }' % (h.V4, bport)
    lines = ["server:", '  listen: ["%s:%d"]' % (h.V4, mport), "  workers: 1",
             '  nsid: "%s"' % MERIDIAN_NSID,
             '  control_socket: "%s"' % tmp.join("control.sock"),
             '  state_file: "%s"' % tmp.join("state", "health.state"),
             "tsig_keys:", '  xfr-key: { algorithm: hmac-sha256, secret: "%s" }' % SECRET,
             "zones:",
             "  - origin: %s" % TOBIND, "    file: %s.zone" % TOBIND,
             '    transfer: { allow: ["127.0.0.1"], keys: [xfr-key] }',
             '    notify: [ { address: "%s:%d", key: xfr-key } ]' % (h.V4, bport),
             "  - origin: %s" % FROMBIND, "    primaries: [ %s ]" % primary,
             '    transfer: { allow: ["127.0.0.1"] }',
             "  - origin: %s" % SHORT, "    primaries: [ %s ]" % primary]
    os.makedirs(tmp.join("state"), exist_ok=True)
    h.write_file(tmp.join("meridian.yaml"), "\n".join(lines) + "\n")
    return tmp.join("meridian.yaml")


MERIDIAN_NSID = h.new_nsid("m019")
NAMED_NSID = h.new_nsid("b019")


class Named(h.Server):
    """named in the foreground (-g: logs to stderr, no daemon), one worker thread."""
    name = "named"

    def __init__(self, binary, workdir, port, config_path):
        super().__init__(workdir, port, NAMED_NSID, addrs=(h.V4,))
        self.binary, self.config_path = binary, config_path

    def command(self):
        return [self.binary, "-g", "-n", "1", "-c", self.config_path]


def status_field(sock, zone, field):
    _, text = h.control(sock, "zone", "status", zone)
    m = re.search(r"^%s: (.*)$" % re.escape(field), text, re.M)
    return m.group(1) if m else None


def check_to_bind(results, m, named, tmp):
    """named as the secondary of our tobind.test."""
    mport, bport, sock = m.port, named.port, tmp.join("control.sock")
    ok = h.wait_for(lambda: h.soa_serial(bport, TOBIND) == 1, timeout=h.scaled(30))
    results.check("named fetched %s serial 1 after our start-up NOTIFY" % TOBIND,
                  [] if ok else [named.log_tail()])
    results.check("our log: AXFR of %s to named, signed with xfr-key" % TOBIND,
                  [] if h.log_has(m, r"AXFR of %s\. serial 1 to 127\.0\.0\.1:\d+ "
                                     r"\(key xfr-key\.\): [2-9] messages" % TOBIND)
                  else [m.log_tail()])
    results.check("named's log: the transfer verified with xfr-key",
                  [] if h.log_has(named, r"zone %s/IN: transferred serial 1: TSIG 'xfr-key'"
                                  % TOBIND) else [named.log_tail()])
    results.check("%s at named equals ours, record by record" % TOBIND,
                  h.compare_records(h.axfr_records(mport, TOBIND, keyring=KEYRING),
                                    h.axfr_records(bport, TOBIND), "named"))

    h.write_file(tmp.join(TOBIND + ".zone"), zone_text(TOBIND, 2, "192.0.2.11"))
    rc, out = h.control(sock, "reload")
    results.check("reload here with serial 2", [] if rc == 0 else [out])
    t0 = time.monotonic()
    ok = h.wait_for(lambda: h.soa_serial(bport, TOBIND) == 2, timeout=h.scaled(20))
    results.check("named has serial 2 %.1f s after the reload (its refresh is an hour: our "
                  "NOTIFY did it)" % (time.monotonic() - t0), [] if ok else [named.log_tail()])
    results.check("named's log: our NOTIFY received, signed with xfr-key",
                  [] if h.log_has(named, r"received notify for zone '%s': TSIG 'xfr-key'"
                                  % TOBIND) else [named.log_tail()])
    results.check("our log: named's signed reply acknowledges the NOTIFY of serial 2",
                  [] if h.log_has(m, r"notify %s\. serial 2 to 127\.0\.0\.1:%d: acknowledged"
                                  % (TOBIND, bport)) else [m.log_tail()])
    results.check("our log: the transfer to named was an IXFR, incremental and signed",
                  [] if h.log_has(m, r"IXFR \(incremental\) of %s\. serial 2 to 127\.0\.0\.1:"
                                     r"\d+ \(key xfr-key\.\)" % TOBIND) else [m.log_tail()])
    results.check("named serves the changed record",
                  [] if h.a_of(bport, "www." + TOBIND) == ["192.0.2.11"] else
                  [h.a_of(bport, "www." + TOBIND)])
    results.check("%s at named equals ours after the IXFR" % TOBIND,
                  h.compare_records(h.axfr_records(mport, TOBIND, keyring=KEYRING),
                                    h.axfr_records(bport, TOBIND), "named"))
    out = h.control(sock, "zone", "status", TOBIND)[1]
    # AXFR: named's and the two of the comparisons.
    results.check("zone status counts named's incremental transfer and acked NOTIFY",
                  [] if re.search(r"axfr 3, ixfr 1,", out) and
                  re.search(r"acked [1-9]", out) else [out])


def rndc(tmp, *words):
    p = subprocess.run([RNDC, "-c", tmp.join("named", "rndc.conf")] + list(words),
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=h.scaled(30))
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


def check_from_bind(results, m, named, tmp):
    """meridiand as the secondary of named's frombind.test."""
    mport, bport, sock = m.port, named.port, tmp.join("control.sock")
    ok = h.wait_for(lambda: h.soa_serial(mport, FROMBIND) == 1 and
                    h.soa_serial(mport, SHORT) == 1, timeout=h.scaled(30))
    results.check("AXFR from named at start: %s and %s at serial 1" % (FROMBIND, SHORT),
                  [] if ok else [m.log_tail()])
    results.check("our log: AXFR from named, new version",
                  [] if h.log_has(m, r"zone %s\.: AXFR from 127\.0\.0\.1:%d: new version, "
                                     r"serial 1" % (FROMBIND, bport)) else [m.log_tail()])
    results.check("%s here equals named's, record by record" % FROMBIND,
                  h.compare_records(h.axfr_records(mport, FROMBIND),
                                    h.axfr_records(bport, FROMBIND, keyring=KEYRING), "named"))

    # One record changed, one removed, one added: the IXFR carries deletions and additions.
    hosts = [i for i in range(HOSTS) if i != 7] + [HOSTS]
    h.write_file(tmp.join("named", FROMBIND + ".zone"),
                 zone_text(FROMBIND, 2, "192.0.2.12", hosts))
    t0 = time.monotonic()
    rc, out = rndc(tmp, "reload", FROMBIND)
    results.check("rndc reload %s" % FROMBIND, [] if rc == 0 else [out])
    ok = h.wait_for(lambda: h.soa_serial(mport, FROMBIND) == 2, timeout=h.scaled(20))
    results.check("serial 2 here %.1f s after named's reload (refresh is an hour: named's "
                  "NOTIFY did it)" % (time.monotonic() - t0), [] if ok else
                  [m.log_tail(), named.log_tail()])
    results.check("named's log: NOTIFY sent to us",
                  [] if h.log_has(named, r"zone %s/IN: sending notifies \(serial 2\)" % FROMBIND)
                  else [named.log_tail()])
    results.check("our log: IXFR (not AXFR) from named, serial 2",
                  [] if h.log_has(m, r"zone %s\.: IXFR from 127\.0\.0\.1:%d: new version, "
                                     r"serial 2" % (FROMBIND, bport)) else [m.log_tail()])
    results.check("the change is served: www changed, h0007 gone, h%04d new" % HOSTS,
                  [] if h.a_of(mport, "www." + FROMBIND) == ["192.0.2.12"] and
                  h.rcode_of(mport, "h0007." + FROMBIND) == "NXDOMAIN" and
                  h.a_of(mport, "h%04d.%s" % (HOSTS, FROMBIND)) != [] else
                  [h.a_of(mport, "www." + FROMBIND), h.rcode_of(mport, "h0007." + FROMBIND)])
    results.check("%s here equals named's after the IXFR" % FROMBIND,
                  h.compare_records(h.axfr_records(mport, FROMBIND),
                                    h.axfr_records(bport, FROMBIND, keyring=KEYRING), "named"))
    results.check("zone status: secondary, last transfer IXFR",
                  [] if status_field(sock, FROMBIND, "role") == "secondary" and
                  status_field(sock, FROMBIND, "last_transfer_kind") == "IXFR" else
                  [h.control(sock, "zone", "status", FROMBIND)[1]])


def skewed_axfr(port, zone):
    """The first reply to an AXFR signed 1000 s in the past (dnspython's clock is
    time.time()): errors unless it is NOTAUTH with TSIG error BADTIME (RFC 8945 §5.2.3)."""
    q = dns.message.make_query(zone, "AXFR")
    q.use_tsig(KEY)
    wire = h.wire_signed_at(q, -1000)
    reply = h.tcp_exchange(wire, port)
    if reply is None:
        return ["no reply"]
    errs = []
    try:
        dns.message.from_wire(reply, keyring=KEYRING, request_mac=q.mac)
        errs.append("dnspython saw no TSIG error")
    except dns.tsig.PeerBadTime:
        pass
    except Exception as e:  # noqa: BLE001 - any other outcome is the finding
        errs.append("dnspython: %r" % e)
    rcode, rd = h.reply_tsig(reply)
    if rcode != dns.rcode.NOTAUTH or rd is None or rd.error != dns.rcode.BADTIME:
        errs.append("rcode %s, TSIG %s" % (rcode, rd))
    return errs


def check_badtime(results, m, named):
    results.check("AXFR of %s signed 1000 s ago: meridiand NOTAUTH/BADTIME" % TOBIND,
                  skewed_axfr(m.port, TOBIND))
    results.check("AXFR of %s signed 1000 s ago: named NOTAUTH/BADTIME as well" % FROMBIND,
                  skewed_axfr(named.port, FROMBIND))


def check_primary_gone(results, m, named, args, mconf, tmp):
    """named stopped: expiry of the short zone, restart from the copy on disk."""
    mport = m.port
    status = named.stop()
    results.check("named stops on SIGTERM (%s)" % status, [] if status == 0 else
                  [named.log_tail()])
    ok = h.wait_for(lambda: h.rcode_of(mport, "www." + SHORT) == "SERVFAIL", timeout=h.scaled(20))
    results.check("%s answers SERVFAIL once its 4 s expire has passed" % SHORT,
                  [] if ok else [m.log_tail()])
    results.check("%s still served (expire two weeks)" % FROMBIND,
                  [] if h.soa_serial(mport, FROMBIND) == 2 else [m.log_tail()])
    status = m.stop()
    results.check("meridiand exits cleanly on SIGTERM (%s)" % status,
                  [] if status == 0 else [m.log_tail()])
    m2 = h.Meridiand(args.meridiand, tmp.path, mport, mconf, MERIDIAN_NSID, addrs=(h.V4,))
    m2.log_path = tmp.join("meridiand-restart.log")
    m2.start()
    try:
        m2.wait_ready(TOBIND, timeout=h.scaled(30))
        results.check("restarted with named down: %s served from the copy on disk" % FROMBIND,
                      [] if h.soa_serial(mport, FROMBIND) == 2 and
                      h.a_of(mport, "www." + FROMBIND) == ["192.0.2.12"] and
                      h.log_has(m2, r"zone %s: serial 2 from the copy on disk" % FROMBIND)
                      else [m2.log_tail()])
        results.check("restarted: the expired %s still answers SERVFAIL" % SHORT,
                      [] if h.rcode_of(mport, "www." + SHORT) == "SERVFAIL" else
                      [h.rcode_of(mport, "www." + SHORT), m2.log_tail()])
    finally:
        status = m2.stop()
    results.check("restarted meridiand exits cleanly (%s)" % status,
                  [] if status == 0 else [m2.log_tail()])


RNDC = None


def main():
    global RNDC
    args = h.parse_args(__doc__.splitlines()[0])
    named_bin, RNDC = h.find_tool("named"), h.find_tool("rndc")
    if not named_bin or not RNDC:
        h.skip("named/rndc not found (Debian bind9, bind9-utils)")
    results = h.Results(args.verbose)
    with h.TempDir(args.keep) as tmp:
        mport, bport = h.free_port(), h.free_port()
        rport = h.free_port((h.V4,), (h.socket.SOCK_STREAM,))
        h.write_file(tmp.join(TOBIND + ".zone"), zone_text(TOBIND, 1, "192.0.2.10"))
        nconf = named_config(tmp, bport, mport, rport)
        h.write_file(tmp.join("named", FROMBIND + ".zone"), zone_text(FROMBIND, 1, "192.0.2.20"))
        h.write_file(tmp.join("named", SHORT + ".zone"),
                     zone_text(SHORT, 1, "192.0.2.30", range(10), "1 1 4 300"))
        mconf = meridian_config(tmp, mport, bport)
        named = Named(named_bin, tmp.path, bport, nconf)
        m = None
        try:
            # meridiand first: named's secondary zone is refreshed at its start (a failed
            # first try would wait for its retry timer), and named's start-up NOTIFY for its
            # zones makes our first refresh of them at once.
            m = h.Meridiand(args.meridiand, tmp.path, mport, mconf, MERIDIAN_NSID,
                            addrs=(h.V4,))
            m.start()
            m.wait_ready(TOBIND, timeout=h.scaled(30))
            named.start()
            named.wait_ready(FROMBIND, timeout=h.scaled(30))
            check_to_bind(results, m, named, tmp)
            check_from_bind(results, m, named, tmp)
            check_badtime(results, m, named)
            results.check("rndc status answers on its own loopback port",
                          [] if rndc(tmp, "status")[0] == 0 else [rndc(tmp, "status")[1]])
            check_primary_gone(results, m, named, args, mconf, tmp)
        except RuntimeError as e:
            results.check("servers start", [str(e)])
        finally:
            named.stop()
            if m:
                m.stop()
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
