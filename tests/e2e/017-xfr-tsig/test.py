#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 017: zone transfers and NOTIFY signed with TSIG (README.md, Zone transfers).

knotd is the secondary of tsig.test with a TSIG key on both sides (its `remote:` signs its
requests with the key, its ACL takes NOTIFY only when signed with it): it fetches the zone
by a signed AXFR at start; after a reload our signed NOTIFY (knotd would refuse an unsigned
one) makes it fetch the change by a signed IXFR, and its copy equals ours. Our log names the
key of each transfer; `meridianctl zone status` counts knotd's signed acknowledgements. A
second notify target answers unsigned: the NOTIFY it gets verifies with dnspython, and its
reply is ignored (RFC 8945 §5.4).

With the zone's `transfer: { allow: [127.0.0.1], keys: [xfr-key] }`: `dig -y` AXFR with the
key works and dig verifies every message; a wrong secret gets NOTAUTH/BADSIG (unsigned, as
dig shows), an unknown key NOTAUTH/BADKEY, an unsigned request REFUSED, a key of ours that the
zone does not list REFUSED in a message signed with that key, the right key from 127.0.0.2
REFUSED. A zone of about 1.5 MB is transferred with the key and dnspython verifies the MAC
chain of every one of its many messages (RFC 8945 §5.3.1); one changed byte breaks it.
`meridiand -n` names the line of a key missing from tsig_keys. Needs knotd and dig (SKIP
without).
"""

import base64
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

import dns.message  # noqa: E402
import dns.name  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.tsig  # noqa: E402

ZONE, BIG = "tsig.test", "bigtsig.test"
SECRET = base64.b64encode(b"e2e-xfr-tsig-secret-0123456789ab").decode()
WRONG = base64.b64encode(b"e2e-xfr-tsig-secret-0123456789ac").decode()
STRANGER = base64.b64encode(b"a key of ours the zone does not list").decode()
KEY = dns.tsig.Key("xfr-key.", SECRET, dns.tsig.HMAC_SHA256)
STRANGER_KEY = dns.tsig.Key("stranger.", STRANGER, dns.tsig.HMAC_SHA512)
BIG_NAMES = 15000


def zone_text(serial, www):
    lines = ["$ORIGIN %s." % ZONE, "$TTL 300",
             "@ SOA ns1 hostmaster %d 3600 600 1209600 300" % serial,
             "@ NS ns1", "ns1 A 192.0.2.1", "www A %s" % www]
    lines += ["h%d A 198.51.100.%d" % (i, i % 250 + 1) for i in range(200)]
    return "\n".join(lines) + "\n"


def big_text():
    lines = ["$ORIGIN %s." % BIG, "$TTL 300", "@ SOA ns1 hostmaster 1 3600 600 1209600 300",
             "@ NS ns1", "ns1 A 192.0.2.1"]
    lines += ["n%d TXT \"%s\"" % (i, "y" * 80) for i in range(BIG_NAMES)]
    return "\n".join(lines) + "\n"


def meridian_config(tmp, port, knot_port, silent_port, nsid):
    lines = ["server:",
             '  listen: ["%s:%d"]' % (h.V4, port),
             "  workers: 1",
             '  nsid: "%s"' % nsid,
             '  control_socket: "%s"' % tmp.join("control.sock"),
             "tsig_keys:",
             "  xfr-key: { algorithm: hmac-sha256, secret_file: xfr-key.secret }",
             '  stranger: { algorithm: hmac-sha512, secret: "%s" }' % STRANGER,
             "zones:",
             "  - origin: %s" % ZONE,
             "    file: %s.zone" % ZONE,
             '    transfer: { allow: ["127.0.0.1"], keys: [xfr-key] }',
             "    notify:",
             '      - { address: "127.0.0.1:%d", key: xfr-key }' % knot_port,
             '      - { address: "127.0.0.1:%d", key: xfr-key }' % silent_port,
             "  - origin: %s" % BIG,
             "    file: %s.zone" % BIG,
             "    transfer: { keys: [xfr-key] }"]
    path = tmp.join("meridian.yaml")
    h.write_file(path, "\n".join(lines) + "\n")
    return path


class SilentSecondary:
    """A notify target on loopback that answers every NOTIFY with NOERROR, unsigned, and
    keeps what it received."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((h.V4, 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received = []
        self.stopping = False
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stopping:
            try:
                wire, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            self.received.append(wire)
            try:
                q = dns.message.from_wire(wire, keyring={KEY.name: KEY})
                r = dns.message.make_response(q)
                r.tsig = None  # answered, but not signed
                self.sock.sendto(r.to_wire(), peer)
            except Exception:  # noqa: BLE001 - checked by the test from `received`
                pass

    def stop(self):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()


def check_knot(results, meridiand, knotd, tmp, silent):
    port, kport = meridiand.port, knotd.port
    ok = h.wait_for(lambda: h.soa_serial(kport, ZONE) == 1, h.scaled(30))
    results.check("knotd fetched serial 1 with the key", [] if ok else [knotd.log_tail()])
    results.check("our log: AXFR of %s to knotd, signed with xfr-key" % ZONE,
                  [] if h.log_has(meridiand, r"AXFR of %s\. serial 1 to 127\.0\.0\.1:\d+ "
                                           r"\(key xfr-key\.\):" % re.escape(ZONE))
                  else [meridiand.log_tail()])
    results.check("%s at knotd equals ours" % ZONE,
                  h.compare_records(h.axfr_records(port, ZONE, keyring={KEY.name: KEY}, keyname=KEY.name),
                          h.axfr_records(kport, ZONE)))

    h.write_file(tmp.join(ZONE + ".zone"), zone_text(2, "192.0.2.11"))
    rc, out = h.control(tmp.join("control.sock"), "reload")
    results.check("reload with serial 2", [] if rc == 0 else [out])
    t0 = time.monotonic()
    ok = h.wait_for(lambda: h.soa_serial(kport, ZONE) == 2, h.scaled(15))
    results.check("knotd has serial 2 within %.0f s of the reload (%.1f s)"
                  % (h.scaled(15), time.monotonic() - t0), [] if ok else [knotd.log_tail()])
    # knotd's ACL takes NOTIFY only with the key: the NOTIFY it logs was signed; its reply,
    # signed, verified here.
    results.check("knotd's log: our NOTIFY allowed by its key, serial 2",
                  [] if h.log_has(knotd, r"ACL, allowed, action notify, remote 127\.0\.0\.1@\d+, "
                                       r"key 'xfr-key\.'") and
                  h.log_has(knotd, r"\[%s\.\] notify, incoming, remote 127\.0\.0\.1@\d+, serial 2"
                          % re.escape(ZONE)) else [knotd.log_tail()])
    results.check("our log: knotd's signed reply to the NOTIFY of serial 2 acknowledges it",
                  [] if h.log_has(meridiand, r"notify %s\. serial 2 to 127\.0\.0\.1:%d: "
                                           r"acknowledged" % (re.escape(ZONE), kport))
                  else [meridiand.log_tail()])
    results.check("our log: the IXFR to knotd, incremental and signed",
                  [] if h.log_has(meridiand, r"IXFR \(incremental\) of %s\. serial 2 to "
                                           r"127\.0\.0\.1:\d+ \(key xfr-key\.\):"
                                % re.escape(ZONE)) else [meridiand.log_tail()])
    results.check("%s at knotd equals ours after the signed IXFR" % ZONE,
                  h.compare_records(h.axfr_records(port, ZONE, keyring={KEY.name: KEY}, keyname=KEY.name),
                          h.axfr_records(kport, ZONE)))

    # The target that answers unsigned: our NOTIFY verifies with dnspython, its reply does not
    # count.
    h.wait_for(lambda: len(silent.received) >= 2, h.scaled(10))
    errs = [] if silent.received else ["no NOTIFY received"]
    for wire in silent.received:
        try:
            m = dns.message.from_wire(wire, keyring={KEY.name: KEY})
            if not m.had_tsig or m.keyname != KEY.name or m.opcode() != 4:
                errs.append("not a NOTIFY signed with xfr-key: %s" % m)
        except Exception as e:  # noqa: BLE001 - a bad signature is the finding
            errs.append("dnspython: %r" % e)
    results.check("the NOTIFY received by the second target verifies with dnspython (%d)"
                  % len(silent.received), errs)
    results.check("our log: the unsigned reply to a signed NOTIFY is ignored",
                  [] if h.log_has(meridiand, r"notify %s\. serial \d+ to 127\.0\.0\.1:%d: reply "
                                           r"NOERROR ignored: TSIG missing"
                                % (re.escape(ZONE), silent.port)) else [meridiand.log_tail()])
    rc, out = h.control(tmp.join("control.sock"), "zone", "status", ZONE)
    errs = [] if rc == 0 else [out]
    for pattern in (r"^transfer: from 127\.0\.0\.1/32; key xfr-key$",
                    r"^notify: 127\.0\.0\.1:%d \(key xfr-key\) 127\.0\.0\.1:%d \(key xfr-key\)$"
                    % (kport, silent.port),
                    r"^notifies: sent [1-9]\d*, acked [1-9]\d*, failed 0$"):
        if not re.search(pattern, out, re.M):
            errs.append("no line matching %s in:\n%s" % (pattern, out))
    results.check("zone status: knotd's signed acknowledgements counted, the unsigned not", errs)


def dig(digbin, port, *args):
    cmd = [digbin, "@%s" % h.V4, "-p", str(port), "+time=%d" % max(2, int(h.REPLY_TIMEOUT)),
           "+tries=1"] + list(args)
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    return p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")


def raw_axfr(port, zone, key=None, source=None):
    """The first message of an AXFR over TCP (signed with key if given), as wire, or None."""
    q = dns.message.make_query(zone, "AXFR")
    if key:
        q.use_tsig(key)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(h.REPLY_TIMEOUT)
    try:
        if source:
            s.bind((source, 0))
        s.connect((h.V4, port))
        wire = q.to_wire()
        s.sendall(struct.pack("!H", len(wire)) + wire)
        return h.tcp_read_message(s), q
    finally:
        s.close()


def check_acl(results, digbin, port):
    out = dig(digbin, port, "+tcp", ZONE, "AXFR", "-y", "hmac-sha256:xfr-key:%s" % SECRET)
    m = re.search(r"XFR size: (\d+) records \(messages (\d+)", out)
    results.check("dig -y AXFR with the key: transferred, every message verified by dig",
                  [] if m and int(m.group(1)) == 205 and "Couldn't verify" not in out and
                  "Transfer failed" not in out else [out])
    out = dig(digbin, port, "+tcp", ZONE, "AXFR", "-y", "hmac-sha256:xfr-key:%s" % WRONG)
    results.check("dig -y AXFR with a wrong secret: refused with BADSIG",
                  [] if "Transfer failed" in out and
                  re.search(r"TSIG\s+hmac-sha256\. \d+ 300 0 \d+ BADSIG 0", out) else [out])

    for label, key, rcode, error in (
            ("a wrong secret", dns.tsig.Key("xfr-key.", WRONG, dns.tsig.HMAC_SHA256),
             dns.rcode.NOTAUTH, dns.rcode.BADSIG),
            ("an unknown key", dns.tsig.Key("nokey.", SECRET, dns.tsig.HMAC_SHA256),
             dns.rcode.NOTAUTH, dns.rcode.BADKEY),
            ("no key (keys required)", None, dns.rcode.REFUSED, None)):
        wire, _ = raw_axfr(port, ZONE, key)
        errs = []
        if wire is None:
            errs.append("no reply")
        else:
            got, rd = h.reply_tsig(wire)
            if got != rcode:
                errs.append("rcode %s" % dns.rcode.to_text(got))
            if error is None and rd is not None:
                errs.append("a TSIG in the reply to an unsigned request")
            if error is not None and (rd is None or rd.error != error or rd.mac):
                errs.append("TSIG %s (want error %s, unsigned)" % (rd, error))
        # TSIG errors share numbers with extended rcodes (16: BADSIG, BADVERS): named here.
        names = {dns.rcode.BADSIG: "BADSIG", dns.rcode.BADKEY: "BADKEY"}
        results.check("AXFR with %s: %s%s" % (label, dns.rcode.to_text(rcode),
                                               "/" + names[error] if error else ""), errs)

    # Authentic but not allowed: REFUSED, signed with the request's key (dnspython verifies).
    for label, key, source in (("a key of ours the zone does not list", STRANGER_KEY, None),
                               ("the right key from 127.0.0.2 (outside allow)", KEY,
                                "127.0.0.2")):
        wire, q = raw_axfr(port, ZONE, key, source)
        errs = []
        try:
            r = dns.message.from_wire(wire, keyring={key.name: key}, request_mac=q.mac)
            if r.rcode() != dns.rcode.REFUSED or not r.had_tsig or r.tsig_error != 0:
                errs.append("%s, tsig %s" % (dns.rcode.to_text(r.rcode()), r.had_tsig))
        except Exception as e:  # noqa: BLE001 - unverifiable is the finding
            errs.append(repr(e))
        results.check("AXFR with %s: REFUSED, signed with that key" % label, errs)
    out = dig(digbin, port, "+tcp", ZONE, "AXFR", "-y", "hmac-sha512:stranger:%s" % STRANGER)
    results.check("dig -y with the unlisted key: transfer failed, the refusal verified",
                  [] if "Transfer failed" in out and "Couldn't verify" not in out else [out])


def read_message(s, deadline):
    hdr = h._recv_exact(s, 2, deadline)
    if hdr is None:
        return None
    return h._recv_exact(s, struct.unpack("!H", hdr)[0], deadline)


def signed_big_axfr(port, tamper_at=None):
    """Reads the big zone's signed AXFR message by message and verifies each with dnspython's
    multi-message TSIG (the MAC chain of RFC 8945 §5.3.1). Returns (messages, records), or
    an error text. tamper_at: index of a message to change one byte of first."""
    q = dns.message.make_query(BIG, "AXFR")
    q.use_tsig(KEY)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(h.REPLY_TIMEOUT)
    deadline = time.monotonic() + h.scaled(60)
    messages, records, soas, ctx = 0, 0, 0, None
    try:
        s.connect((h.V4, port))
        wire = q.to_wire()
        s.sendall(struct.pack("!H", len(wire)) + wire)
        while soas < 2:
            m = read_message(s, deadline)
            if m is None:
                return "connection ended after %d messages" % messages
            if messages == tamper_at:
                m = m[:len(m) // 2] + bytes([m[len(m) // 2] ^ 1]) + m[len(m) // 2 + 1:]
            try:
                r = dns.message.from_wire(m, keyring=q.keyring, request_mac=q.mac, xfr=True,
                                          origin=dns.name.from_text(BIG), tsig_ctx=ctx,
                                          multi=True, one_rr_per_rrset=True)
            except Exception as e:  # noqa: BLE001 - a bad MAC is the finding
                return "message %d: %r" % (messages, e)
            if not r.had_tsig:
                return "message %d unsigned" % messages
            ctx = r.tsig_ctx
            messages += 1
            for rrset in r.answer:
                records += len(rrset)
                soas += rrset.rdtype == dns.rdatatype.SOA
    finally:
        s.close()
    return messages, records


def check_big(results, port):
    got = signed_big_axfr(port)
    want = BIG_NAMES + 4  # SOA, NS, ns1 A, the names, SOA
    results.check("dnspython verifies every message of a %s-message signed AXFR"
                  % (got[0] if isinstance(got, tuple) else "?"),
                  [] if isinstance(got, tuple) and got[0] > 10 and got[1] == want else [got])
    got = signed_big_axfr(port, tamper_at=3)
    results.check("one changed byte in message 3: dnspython rejects it",
                  [] if isinstance(got, str) and got.startswith("message 3:") and
                  "BadSignature" in got else [got])


def check_config_errors(results, meridiand, tmp):
    """`meridiand -n` names the line of a key that tsig_keys does not define."""
    for entry, line, want in (
            ('    transfer: { keys: [xfr-key, nokey] }', 4,
             "transfer: keys: no key 'nokey' in tsig_keys"),
            ('    transfer: { keys: [xfr-key] }\n    notify:\n      - 127.0.0.1\n'
             '      - { address: "127.0.0.2", key: other }', 7,
             "notify: key: no key 'other' in tsig_keys")):
        path = tmp.join("bad.yaml")
        h.write_file(path, "zones:\n  - origin: %s\n    file: %s.zone\n%s\ntsig_keys:\n"
                    "  xfr-key: { algorithm: hmac-sha256, secret: \"%s\" }\n"
                    % (ZONE, ZONE, entry, SECRET))
        p = subprocess.run([meridiand, "-n", "-c", path], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=60)
        err = (p.stdout + p.stderr).decode("utf-8", "replace")
        results.check("meridiand -n: %s at line %d" % (want, line),
                      [] if p.returncode != 0 and "bad.yaml:%d: %s" % (line, want) in err
                      else [p.returncode, err])


def main():
    args = h.parse_args(__doc__.splitlines()[0])
    knot = h.find_tool("knotd", args.knotd)
    if not knot:
        h.skip("knotd not found (Debian knot)")
    digbin = h.find_tool("dig")
    if not digbin:
        h.skip("dig not found (Debian dnsutils / bind9-dnsutils)")
    results = h.Results(args.verbose)
    with h.TempDir(args.keep) as tmp:
        h.write_file(tmp.join(ZONE + ".zone"), zone_text(1, "192.0.2.10"))
        h.write_file(tmp.join(BIG + ".zone"), big_text())
        h.write_file(tmp.join("xfr-key.secret"), SECRET + "\n", 0o600)
        silent = SilentSecondary()
        silent.thread.start()
        mport, kport = h.free_port(), h.free_port()
        mnsid, knsid = h.new_nsid("m016"), h.new_nsid("k016")
        mconf = meridian_config(tmp, mport, kport, silent.port, mnsid)
        kconf = h.write_knot_secondary(tmp.join("knot.conf"), tmp.path, kport, mport, [ZONE],
                                       knsid, key=("xfr-key", "hmac-sha256", SECRET))
        meridiand = h.Meridiand(args.meridiand, tmp.path, mport, mconf, mnsid,
                                addrs=(h.V4,)).start()
        knotd = None
        try:
            meridiand.wait_ready(ZONE, timeout=h.scaled(60))
            knotd = h.Knotd(knot, tmp.path, kport, kconf, knsid)
            knotd.addrs = (h.V4,)
            knotd.start()
            knotd.wait_ready(ZONE, timeout=h.scaled(30))
            check_knot(results, meridiand, knotd, tmp, silent)
            check_acl(results, digbin, mport)
            check_big(results, mport)
            results.check("meridiand still running", [] if meridiand.alive() else
                          [meridiand.log_tail()])
        except RuntimeError as e:
            results.check("servers start", [str(e)])
        finally:
            if knotd:
                knotd.stop()
            status = meridiand.stop()
            silent.stop()
        results.check("meridiand exits cleanly on SIGTERM (%s)" % status,
                      [] if status == 0 else [meridiand.log_tail()])
        check_config_errors(results, args.meridiand, tmp)
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
