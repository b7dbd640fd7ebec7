#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 027: the dnstap query log (server.dnstap) read by the standard tools.

1. Socket: fstrm_capture (Debian fstrm-bin) listens on a UNIX socket and writes what
   meridiand logs to a file; meridiand answers a known set of queries (static A over UDP and
   TCP, NXDOMAIN, a steered name with ECS from two locations of geoip/sample.csv), each with
   its own message ID. After meridiand stops, `dnstap-ldns -y` (Debian dnstap-ldns) reads the
   file: every query must appear as AUTH_QUERY and AUTH_RESPONSE with its transport and
   client address; the steered ones carry the decision in `extra` (README "Query logging
   (dnstap)"), the ECS scope being the one the answer carried, and the others none (read by
   a small decoder here: dnstap-ldns 0.2.1 does not print `extra`). `status` counts the
   records. Then fstrm_capture is killed mid-run: meridiand keeps answering, and the records
   it cannot write show as lost; a new fstrm_capture on the same socket gets the records of
   queries sent after it started (the log reconnects).
2. File: `file:` instead of `socket:`, sample 2: the file, read by `dnstap-ldns -q`, holds
   one query in two (per worker; one worker here), query and response each.
3. No reader at all: the socket path has no listener; every query is answered, the records
   show as lost in `status`, the log warns once (not per retry), and a reload that changes the section logs that it needs a
   restart.

Network safety: only 127.0.0.1; every loop is bounded in count and time. Needs fstrm_capture
and dnstap-ldns; says SKIP (77) without.
"""

import os
import re
import signal
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
ORIGIN = "dt.test"
ZONE = h.small_zone(ORIGIN, "www A 192.0.2.80")
NSID = h.new_nsid("dnstap")
SERVICES = """services:
  geo.dt.test:
    ttl: 20
    pools:
      eu: { members: [ { address: 192.0.2.10 } ] }
      us: { members: [ { address: 198.51.100.10 } ] }
    geo:
      continent: { EU: [eu] }
      default: [us]
"""
CONTENT_TYPE = "protobuf:dnstap.Dnstap"


def write_config(path, port, tmp, dnstap, workers=2):
    lines = ["server:",
             '  listen: ["%s:%d"]' % (h.V4, port),
             "  workers: %d" % workers,
             '  nsid: "%s"' % NSID,
             "  control_socket: %s" % tmp.join("ctl.sock"),
             "  dnstap: { %s }" % dnstap,
             # Bursts of queries from loopback, every one answered and logged: not rate limited.
             "  " + h.RRL_EXEMPT_LOOPBACK,
             "zones:",
             "  - origin: %s" % ORIGIN,
             "    file: %s" % tmp.join("dt.test.zone"),
             "geoip:",
             "  database: %s" % GEOIP_MMDB,
             SERVICES]
    h.write_file(path, "\n".join(lines) + "\n")


class Capture:
    """fstrm_capture on a UNIX socket, writing a file; stopped by its own pid."""

    def __init__(self, binary, sock, out, log):
        self.sock, self.out = sock, out
        if os.path.exists(sock):
            os.unlink(sock)
        self.log = open(log, "ab")
        self.proc = subprocess.Popen([binary, "-t", CONTENT_TYPE, "-u", sock, "-w", out],
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        if not h.wait_for(lambda: os.path.exists(sock) or self.proc.poll() is not None,
                          timeout=h.scaled(10)):
            raise RuntimeError("fstrm_capture did not create %s" % sock)

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=h.scaled(10))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=h.scaled(10))
        self.log.close()


def query(port, name, rdtype, qid, ecs=None, tcp=False):
    """One query with message ID qid (and an ECS option "addr/bits"); the parsed reply."""
    opts = []
    if ecs:
        addr, bits = ecs.split("/")
        opts.append(dns.edns.ECSOption(addr, int(bits)))
    q = dns.message.make_query(name, rdtype, use_edns=0, options=opts)
    q.id = qid
    return h.parse(h.exchange(q.to_wire(), port, tcp=tcp))


def reply_scope(msg):
    for o in msg.options:
        if o.otype == dns.edns.ECS:
            return o.scopelen
    return None


def read_log(path):
    """dnstap-ldns -y on path: one dict per record (type, id, protocol, address, extra)."""
    p = subprocess.run(["dnstap-ldns", "-y", "-r", path], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=h.scaled(60), check=False)
    text = p.stdout.decode("utf-8", "replace")
    records = []
    for chunk in text.split("\n---"):
        rec = {}
        for key, pattern in (("type", r"^  type: (\w+)"), ("protocol", r"socket_protocol: (\w+)"),
                             ("address", r'query_address: "?([^"\n]+)"?'),
                             ("id", r"->>HEADER<<-.* id: (\d+)"),
                             ("identity", r'^identity: "(.*)"$')):
            m = re.search(pattern, chunk, re.M)
            if m:
                rec[key] = int(m.group(1)) if key == "id" else m.group(1)
        if rec:
            records.append(rec)
    return p.returncode, records, p.stderr.decode("utf-8", "replace")


# dnstap-ldns 0.2.1 does not print Dnstap.extra: the decisions are read with this small
# decoder of our own (Frame Streams data frames, protobuf fields), independent of the C code.

def frames(path):
    """The data frames of a Frame Streams file (control frames skipped)."""
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos + 4 <= len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        pos += 4
        if n == 0:  # escape: a control frame follows with its own length
            clen = int.from_bytes(data[pos:pos + 4], "big")
            pos += 4 + clen
            continue
        yield data[pos:pos + n]
        pos += n


def pb_fields(buf):
    """{field number: [values]} of a protobuf message (bytes for length-delimited fields)."""
    fields, pos = {}, 0

    def varint():
        nonlocal pos
        value, shift = 0, 0
        while True:
            b = buf[pos]
            pos += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value

    while pos < len(buf):
        key = varint()
        num, wire = key >> 3, key & 7
        if wire == 0:
            value = varint()
        elif wire == 2:
            n = varint()
            value, pos = buf[pos:pos + n], pos + n
        elif wire == 5:
            value, pos = int.from_bytes(buf[pos:pos + 4], "little"), pos + 4
        elif wire == 1:
            value, pos = int.from_bytes(buf[pos:pos + 8], "little"), pos + 8
        else:
            raise ValueError("wire type %d" % wire)
        fields.setdefault(num, []).append(value)
    return fields


def extras(path):
    """{message ID: Dnstap.extra} of the AUTH_RESPONSE records (dnstap.proto: Dnstap.extra
    = 3, .message = 14; Message.type = 1, .response_message = 14)."""
    out = {}
    for frame in frames(path):
        top = pb_fields(frame)
        msg = pb_fields(top[14][0])
        if msg[1][0] != 2 or 14 not in msg:
            continue
        qid = int.from_bytes(msg[14][0][:2], "big")
        out[qid] = top[3][0].decode() if 3 in top else None
    return out


def status(tmp):
    return h.control(tmp.join("ctl.sock"), "status")[1]


def counter(text, name):
    m = re.search(r"^dnstap_records: logged (\d+), dropped (\d+), lost (\d+)$", text, re.M)
    return int(m.group({"logged": 1, "dropped": 2, "lost": 3}[name])) if m else -1


def start(args, tmp, dnstap, workers=2):
    config = tmp.join("meridian.yaml")

    def make(port):
        write_config(config, port, tmp, dnstap, workers)
        return h.Meridiand(args.meridiand, tmp.path, port, config, NSID, addrs=(h.V4,))

    return h.start_with_free_port(make, ORIGIN), config


def check_socket(results, args, tmp, capture_bin):
    sock, out = tmp.join("tap.sock"), tmp.join("tap.fstrm")
    cap = Capture(capture_bin, sock, out, tmp.join("capture.log"))
    server = None
    try:
        server, _ = start(args, tmp, "socket: %s, identity: tap-e2e" % sock)
        results.check("socket: the log opens", [] if h.wait_for(
            lambda: ", open (" in status(tmp), timeout=h.scaled(15)) else [status(tmp)])
        port = server.port
        # id -> (name, type, tcp, expected rcode, ECS, expected extra prefix)
        plan = {
            1001: ("www.dt.test.", "A", False, dns.rcode.NOERROR, None, None),
            1002: ("www.dt.test.", "A", True, dns.rcode.NOERROR, None, None),
            1003: ("nothere.dt.test.", "A", False, dns.rcode.NXDOMAIN, None, None),
            # sample.csv: 127.0.1.0/24 is Frankfurt (EU), 127.0.2.0/24 San Jose (NA).
            1004: ("geo.dt.test.", "A", False, dns.rcode.NOERROR, "127.0.1.0/24",
                   "svc=geo.dt.test. pool=eu member=192.0.2.10 members=1 ttl=20 ecs=/%d "
                   "failed_open=0 rule=continent EU"),
            1005: ("geo.dt.test.", "A", True, dns.rcode.NOERROR, "127.0.2.0/24",
                   "svc=geo.dt.test. pool=us member=198.51.100.10 members=1 ttl=20 ecs=/%d "
                   "failed_open=0 rule=default"),
            1006: ("geo.dt.test.", "A", False, dns.rcode.NOERROR, None,
                   "svc=geo.dt.test. pool=us member=198.51.100.10 members=1 ttl=20 ecs=- "
                   "failed_open=0 rule=default"),
        }
        errs, expected_extra = [], {}
        for qid, (name, rdtype, tcp, rcode, ecs, extra) in sorted(plan.items()):
            r = query(port, name, rdtype, qid, ecs, tcp)
            if r is None or r.rcode() != rcode:
                errs.append("%d %s: %s" % (qid, name, h.summary(r) if r else "no reply"))
                continue
            if extra:
                expected_extra[qid] = extra % reply_scope(r) if "%d" in extra else extra
        results.check("socket: the queries are answered", errs)
        text = status(tmp)
        # 6 queries and the readiness probes, 2 records each; nothing dropped or lost.
        results.check("socket: status counts the records", [] if counter(text, "logged") >= 12
                      and counter(text, "dropped") == 0 and counter(text, "lost") == 0
                      else [text])
        server.stop()
        server = None
        cap.stop()
        rc, records, err = read_log(out)
        decoded = extras(out)
        errs = [] if rc == 0 else ["dnstap-ldns exit %s: %s" % (rc, err)]
        for qid, (name, rdtype, tcp, _, _, _) in sorted(plan.items()):
            for kind in ("AUTH_QUERY", "AUTH_RESPONSE"):
                got = [r for r in records if r.get("id") == qid and r.get("type") == kind]
                if len(got) != 1:
                    errs.append("%d %s %s: %d records" % (qid, name, kind, len(got)))
                    continue
                rec = got[0]
                want_proto = "TCP" if tcp else "UDP"
                if rec.get("protocol") != want_proto or rec.get("address") != h.V4:
                    errs.append("%d %s: %r, expected %s from %s" % (qid, kind, rec, want_proto,
                                                                   h.V4))
                if rec.get("identity") != "tap-e2e":
                    errs.append("%d %s: identity %r" % (qid, kind, rec.get("identity")))
            if decoded.get(qid, "absent") != expected_extra.get(qid):
                errs.append("%d: extra %r, expected %r" % (qid, decoded.get(qid, "absent"),
                                                           expected_extra.get(qid)))
        results.check("socket: dnstap-ldns reads every query and response, decisions in extra",
                      errs)
    finally:
        if server:
            server.stop()
        cap.stop()
    check_capture_killed(results, args, tmp, capture_bin)


def check_capture_killed(results, args, tmp, capture_bin):
    """fstrm_capture killed mid-run: answers go on, records are lost; a new reader is found."""
    sock = tmp.join("tap2.sock")
    cap = Capture(capture_bin, sock, tmp.join("first.fstrm"), tmp.join("capture.log"))
    server = None
    try:
        server, _ = start(args, tmp, "socket: %s" % sock)
        h.wait_for(lambda: ", open (" in status(tmp), timeout=h.scaled(15))
        cap.stop(signal.SIGKILL)
        errs = []
        for i in range(200):
            r = query(server.port, "www.dt.test.", "A", 2000 + i)
            if r is None or r.rcode() != dns.rcode.NOERROR:
                errs.append("query %d: %s" % (i, h.summary(r) if r else "no reply"))
                break
        results.check("capture killed: every query is answered", errs)
        # The I/O thread finds the reader gone at its next write (within its 1 s flush).
        ok = h.wait_for(lambda: counter(status(tmp), "lost") > 0, timeout=h.scaled(15))
        results.check("capture killed: records counted as lost", [] if ok else [status(tmp)])
        second = tmp.join("second.fstrm")
        cap = Capture(capture_bin, sock, second, tmp.join("capture.log"))
        ok = h.wait_for(lambda: "(2 opens)" in status(tmp), timeout=h.scaled(15))
        results.check("capture restarted: the log reconnects", [] if ok else [status(tmp)])
        for i in range(5):
            query(server.port, "www.dt.test.", "A", 3000 + i)
        server.stop()
        server = None
        cap.stop()
        rc, records, err = read_log(second)
        ids = {r.get("id") for r in records if r.get("type") == "AUTH_RESPONSE"}
        missing = [i for i in range(3000, 3005) if i not in ids]
        results.check("capture restarted: later queries reach the new reader",
                      ["missing %s (dnstap-ldns exit %s %s)" % (missing, rc, err)] if missing
                      else [])
    finally:
        if server:
            server.stop()
        cap.stop()


def check_file(results, args, tmp):
    out = tmp.join("file.fstrm")
    server, _ = start(args, tmp, "file: %s, sample: 2" % out, workers=1)
    try:
        h.wait_for(lambda: ", open (" in status(tmp), timeout=h.scaled(15))
        before = counter(status(tmp), "logged")
        for i in range(40):
            query(server.port, "www.dt.test.", "A", 4000 + i)
        after = counter(status(tmp), "logged")
    finally:
        server.stop()
    p = subprocess.run(["dnstap-ldns", "-q", "-r", out], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=h.scaled(60), check=False)
    lines = p.stdout.decode("utf-8", "replace").splitlines()
    aq = [ln for ln in lines if " AQ " in ln and "www.dt.test." in ln]
    ar = [ln for ln in lines if " AR " in ln and "www.dt.test." in ln]
    # One worker: exactly every second query of the 40 is logged (the readiness probes
    # before them only shift which ones).
    results.check("file: one query in two, query and response, readable by dnstap-ldns -q",
                  [] if len(aq) == 20 and len(ar) == 20 and after - before == 40 else
                  ["AQ %d, AR %d, logged %d (exit %s)\n%s" % (len(aq), len(ar), after - before,
                                                             p.returncode, "\n".join(lines[:6]))])


def check_no_reader(results, args, tmp):
    sock = tmp.join("nobody.sock")
    server, config = start(args, tmp, "socket: %s" % sock)
    try:
        errs = []
        for i in range(100):
            r = query(server.port, "geo.dt.test.", "A", 5000 + i, "127.0.1.0/24")
            if r is None or r.rcode() != dns.rcode.NOERROR:
                errs.append("query %d: %s" % (i, h.summary(r) if r else "no reply"))
                break
        results.check("no reader: every query is answered", errs)
        ok = h.wait_for(lambda: counter(status(tmp), "lost") >= 200, timeout=h.scaled(15))
        text = status(tmp)
        results.check("no reader: status says not open, records lost",
                      [] if ok and "not open" in text else [text])
        # Logged once, not once per retry.
        warnings = 0
        with open(server.log_path, errors="replace") as f:
            warnings = sum("dnstap: cannot open socket" in line for line in f)
        results.check("no reader: one warning for the outage", [] if warnings == 1 else
                      ["%d warnings:\n%s" % (warnings, server.log_tail())])
        with open(config) as f:
            text = f.read().replace("dnstap: { socket: %s }" % sock,
                                    "dnstap: { socket: %s, sample: 5 }" % sock)
        h.write_file(config, text)
        rc, reply = h.control(tmp.join("ctl.sock"), "reload")
        ok = rc == 0 and h.wait_for(lambda: h.log_has(server, "server.dnstap changed"),
                                    timeout=h.scaled(10))
        results.check("reload: a changed dnstap section asks for a restart",
                      [] if ok else [reply, server.log_tail()])
        results.check("no reader: server alive", [] if server.alive() else [server.log_tail()])
    finally:
        server.stop()


def main():
    args = h.parse_args(__doc__.splitlines()[0])
    capture_bin = h.find_tool("fstrm_capture")
    if not capture_bin or not h.find_tool("dnstap-ldns"):
        h.skip("needs fstrm_capture (fstrm-bin) and dnstap-ldns (dnstap-ldns)")
    results = h.Results(args.verbose)
    with h.TempDir(args.keep) as tmp:
        h.write_file(tmp.join("dt.test.zone"), ZONE)
        check_socket(results, args, tmp, capture_bin)
        check_file(results, args, tmp)
        check_no_reader(results, args, tmp)
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
