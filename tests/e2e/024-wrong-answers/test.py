#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 024: the answers an outside review found wrong (issue 13), meridiand beside knotd on
the same zones (harness.py, Comparing responses).

Same as knotd: a CNAME loop lists each CNAME once; a DNAME at the apex redirects the names
below it; an AliasMode HTTPS target gets its A, AAAA and HTTPS; a ServiceMode target its
addresses and its own HTTPS. Where we differ on purpose, the case says why and checks that
knotd still differs:
- a DNAME whose target is below itself: listed once, the chain ends when it is met again
  (knotd goes on for 5 synthesized CNAMEs);
- HTTPS "1 ." (the owner is the target, RFC 9460 §2.5.2) adds the owner's addresses, and
  an AliasMode chain is followed (RFC 9460 §4.1 SHOULD; knotd does neither).
Then meridiand alone: a 512-octet NSID is left out of a reply it does not fit (RFC 5001)
instead of the reply being lost; an RRset of 65,537 records is a file:line error of
`meridiand -n`; ANY at a steered name (address and CNAME services) over UDP (one RRset)
and TCP (both families of an address service); a TCP
query followed by a bad length prefix is answered before the close; `ecs: ignore` follows
its listener's address across a reload that reorders `listen`.
"""

import os
import signal
import socket
import struct
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness as h  # noqa: E402

import dns.edns  # noqa: E402
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.rdatatype  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ZONES = [("wa.test", os.path.join(HERE, "zones", "wa.test.zone")),
         ("apex.test", os.path.join(HERE, "zones", "apex.test.zone"))]
SERVICES = """services:
  st.wa.test:
    type: address
    pools:
      p: { members: [ { address: 192.0.2.50 }, { address: "2001:db8::50" } ] }
  cn.wa.test:
    type: cname
    pools:
      p: { members: [ { target: www.wa.test. } ] }
"""


def query(name, rdtype, payload=1232, nsid=False, ecs=None):
    opts = [dns.edns.GenericOption(dns.edns.NSID, b"")] if nsid else []
    if ecs:
        opts.append(dns.edns.ECSOption(ecs, 24))
    return dns.message.make_query(name, rdtype, use_edns=0, payload=payload, options=opts,
                                  want_dnssec=False)


def ask(port, q, tcp=False, addr=h.V4):
    return h.parse(h.exchange(q.to_wire(), port, tcp, addr))


def reply(srv, q, tcp=False):
    return h.Reply.of(ask(srv.port, q, tcp), srv.nsid)


def additional_texts(r):
    return sorted(h.rrset_text(s) for s in r.additional)


def compare_cases(results, ours, knot):
    same = [("loop1.wa.test", "A"), ("www.apex.test", "A"), ("alias.wa.test", "HTTPS"),
            ("tgt.wa.test", "HTTPS"), ("_dns.svcb.wa.test", "SVCB"), ("apex.test", "SOA"),
            ("aloop.wa.test", "HTTPS")]
    for name, rdtype in same:
        for tcp in (False, True):
            q = query(name, rdtype)
            results.check("%s %s %s same as knotd" % (name, rdtype, "TCP" if tcp else "UDP"),
                          h.diff_replies(reply(knot, q, tcp), reply(ours, q, tcp)))

    # A DNAME below itself: knotd's first two RRsets (the DNAME, one CNAME) and no more.
    q = query("x.dself.wa.test", "A")
    ref = reply(knot, q)
    errs = [] if len(ref.answer) > 2 else ["knotd no longer repeats: %s" % ref.counts()]
    errs += h.diff_replies(ref.replace(answer=ref.answer[:2]), reply(ours, q))
    results.check("x.dself.wa.test A: the DNAME once, its chain ends when met again", errs)

    # RFC 9460 §2.5.2, §4.1: "." is the owner; AliasMode chains are followed.
    want = {
        "svc.wa.test": ["svc.wa.test. 300 IN A 192.0.2.10", "svc.wa.test. 300 IN AAAA 2001:db8::10"],
        "alias2.wa.test": ["alias.wa.test. 300 IN HTTPS 0 svc.wa.test.",
                           "svc.wa.test. 300 IN A 192.0.2.10",
                           "svc.wa.test. 300 IN AAAA 2001:db8::10",
                           'svc.wa.test. 300 IN HTTPS 1 . alpn="h2"'],
    }
    for name, texts in want.items():
        q = query(name, "HTTPS")
        ref, got = reply(knot, q), reply(ours, q)
        errs = h.diff_replies(ref, got, skip=("additional",))
        if additional_texts(got) != sorted(texts):
            errs.append("additional %s, expected %s" % (additional_texts(got), sorted(texts)))
        if additional_texts(ref) == sorted(texts):
            errs.append("knotd now adds the same: make this a plain comparison")
        results.check("%s HTTPS: additional per RFC 9460 §4.1" % name, errs)


def check_nsid(results, ours):
    msg = ask(ours.port, query("www.wa.test", "A", payload=512, nsid=True))
    errs = []
    if msg is None:
        errs.append("no reply")
    else:
        if len(msg.answer) != 1 or msg.flags & dns.flags.TC:
            errs.append("answer lost: %s" % h.summary(msg))
        if h.nsid_of(msg) is not None:
            errs.append("NSID present in a 512-octet reply")
    results.check("512-octet NSID left out of a 512-octet reply, the answer kept", errs)
    msg = ask(ours.port, query("www.wa.test", "A", nsid=True))
    results.check("512-octet NSID in a 1232-octet reply",
                  [] if msg is not None and h.nsid_of(msg) == ours.nsid else [h.summary(msg)])


def check_any_steered(results, port):
    """RFC 8482 §4.1: over UDP one RRset; over TCP every RRset of the name, as knotd and we
    answer a static name: at an address service with both families, A and AAAA."""
    for name, udp, tcp_types in (("st.wa.test", ["A"], ["A", "AAAA"]),
                                 ("cn.wa.test", ["CNAME"], ["CNAME"])):
        for tcp in (False, True):
            msg = ask(port, query(name, "ANY"), tcp)
            types = sorted(dns.rdatatype.to_text(r.rdtype) for r in msg.answer) if msg else []
            want = tcp_types if tcp else udp
            results.check("ANY at steered %s over %s answers %s" % (name, "TCP" if tcp else "UDP",
                                                                   " and ".join(want)),
                          [] if types == want else [h.summary(msg)])


def check_tcp_bad_prefix(results, port):
    q = query("www.wa.test", "A").to_wire()
    for label, bad in (("length 5", b"\x00\x05abcde"), ("length 0", b"\x00\x00"),
                       ("length 65535", b"\xff\xff" + b"x" * 64)):
        s = h.tcp_connect(port)
        s.sendall(struct.pack("!H", len(q)) + q + bad)
        errs = []
        try:
            msg = h.parse(h.tcp_read_message(s))
            if msg is None or len(msg.answer) != 1:
                errs.append("valid query not answered: %s" % h.summary(msg))
            s.settimeout(h.scaled(5))
            if s.recv(1) != b"":
                errs.append("connection not closed after the bad prefix")
        except (OSError, socket.timeout) as e:
            errs.append("%s" % e)
        finally:
            s.close()
        results.check("TCP: query, then a bad prefix (%s): answered, then closed" % label, errs)


def write_config(path, port, nsid, v4_first):
    v4 = '{ address: "%s:%d", ecs: ignore }' % (h.V4, port)
    v6 = '{ address: "[%s]:%d" }' % (h.V6, port)
    listen = [v4, v6] if v4_first else [v6, v4]
    lines = ["server:", "  listen: [ %s ]" % ", ".join(listen), "  workers: 1",
             '  nsid: "%s"' % nsid, "zones:"]
    for origin, zpath in ZONES:
        lines += ["  - origin: " + origin, '    file: "%s"' % zpath]
    h.write_file(path, "\n".join(lines) + "\n" + SERVICES)


def ecs_echoed(port, addr):
    msg = ask(port, query("www.wa.test", "A", ecs="192.0.2.0"), addr=addr)
    return msg is not None and h.opt_value(msg, h.ECS) is not None


def check_ecs_reload(results, tmp, args):
    nsid = h.new_nsid("ecs")
    path = tmp.join("ecs.yaml")

    def make(port):
        write_config(path, port, nsid, True)
        return h.Meridiand(args.meridiand, tmp.path, port, path, nsid)

    with h.start_with_free_port(make, "wa.test") as srv:
        before = (ecs_echoed(srv.port, h.V4), ecs_echoed(srv.port, h.V6))
        results.check("ecs: ignore on %s only, at start" % h.V4,
                      [] if before == (False, True) else ["echoed v4/v6: %s" % (before,)])
        write_config(path, srv.port, nsid, False)
        srv.proc.send_signal(signal.SIGHUP)
        done = h.wait_for(lambda: h.log_has(srv, "^.*reloaded: "), timeout=h.scaled(15))
        results.check("reload logged", [] if done else [srv.log_tail()])
        after = (ecs_echoed(srv.port, h.V4), ecs_echoed(srv.port, h.V6))
        results.check("ecs: ignore stays with %s after a reload that reorders listen" % h.V4,
                      [] if after == (False, True) else ["echoed v4/v6: %s" % (after,)])
        results.check("server alive after the reload", [] if srv.alive() else [srv.log_tail()])


def check_big_rrset(results, tmp, args):
    zpath = tmp.join("big.test.zone")
    lines = ["$ORIGIN big.test.", "$TTL 300", "@ SOA ns1 h 1 2 3 4 5", "@ NS ns1",
             "ns1 A 192.0.2.1"]
    lines += ["many A 10.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255) for i in range(65537)]
    h.write_file(zpath, "\n".join(lines) + "\n")
    cpath = tmp.join("big.yaml")
    h.write_file(cpath, 'server:\n  listen: "127.0.0.1:1"\nzones:\n  - origin: big.test\n'
                        '    file: "%s"\n' % zpath)
    p = subprocess.run([args.meridiand, "-n", "-c", cpath], capture_output=True, text=True,
                       timeout=h.scaled(120))
    out = p.stdout + p.stderr
    # 4,080th A record: line 5 + 4,080.
    want = "%s:%d:" % (zpath, 5 + 4080)
    errs = [] if p.returncode != 0 and want in out and "too large" in out else \
        ["exit %d, want '%s ... too large': %s" % (p.returncode, want, out.strip()[-300:])]
    results.check("65,537 A records: a file:line error, not a wrapped count", errs)
    h.write_file(cpath, 'server:\n  listen: "127.0.0.1:1"\nzones:\n  - origin: big.test\n'
                        '    file: "%s"\n    max_records: 1000\n' % zpath)
    p = subprocess.run([args.meridiand, "-n", "-c", cpath], capture_output=True, text=True,
                       timeout=h.scaled(120))
    out = p.stdout + p.stderr
    want = "%s:%d:" % (zpath, 5 + 998)  # the 1,001st record: 3 before the first A
    results.check("max_records: 1000 names the 1,001st record",
                  [] if p.returncode != 0 and want in out and "max_records" in out
                  else ["exit %d: %s" % (p.returncode, out.strip()[-300:])])


def main():
    args = h.parse_args(__doc__.splitlines()[0])
    knotd = h.find_tool("knotd", args.knotd)
    if not knotd:
        h.skip("knotd not found")
    results = h.Results(args.verbose)
    with h.TempDir(keep=args.keep) as tmp:
        nsid = h.new_nsid("m", 512)
        knsid = h.new_nsid("k")

        def make_ours(port):
            path = tmp.join("meridian.yaml")
            h.write_meridian_config(path, port, ZONES, nsid)
            with open(path, "a") as f:
                f.write(SERVICES)
            return h.Meridiand(args.meridiand, tmp.path, port, path, nsid)

        def make_knot(port):
            path = tmp.join("knot.conf")
            h.write_knot_config(path, tmp.path, port, ZONES, knsid)
            return h.Knotd(knotd, tmp.path, port, path, knsid)

        with h.start_with_free_port(make_ours, "wa.test") as ours, \
                h.start_with_free_port(make_knot, "wa.test") as knot:
            compare_cases(results, ours, knot)
            check_nsid(results, ours)
            check_any_steered(results, ours.port)
            check_tcp_bad_prefix(results, ours.port)
        check_ecs_reload(results, tmp, args)
        check_big_rrset(results, tmp, args)
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
