#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Cross-checks src/tsig against dnspython (dns.tsig, dns.message with a keyring), through
tsig_tool, for HMAC-SHA256, -SHA384 and -SHA512:

1. A query dnspython signs verifies in our code; our signed response to it verifies in
   dnspython (request MAC chained), and one with a changed byte does not.
2. A request our code signs verifies in dnspython; dnspython's response to it verifies in
   ours.
3. A stream we sign (RFC 8945 §5.3.1: each message's MAC chained to the previous one, the
   later ones over the timers only) verifies in dnspython's multi-message mode (from_wire
   with multi=True and the tsig_ctx of the message before); out of order it does not.
4. A stream dnspython signs, with unsigned messages inside (their bytes fed into dnspython's
   running context, as §5.3.1 describes), verifies in ours: unsigned messages are reported
   as such, a stream ending unsigned is refused, a changed message is BADSIG.
5. Errors: a wrong secret is BADSIG and an unknown key BADKEY to us, and dnspython reads our
   replies as PeerBadSignature and PeerBadKey; a skewed clock is BADTIME to us, our BADTIME
   reply is PeerBadTime to dnspython and its MAC is the HMAC (Python's hmac module) over
   the request MAC, the reply and the variables with the server time in Other Data.

Run by ctest (label unit): interop.py --tool <tsig_tool>. Exit 0 pass, 1 fail, 77 skip
(without dnspython: Debian python3-dnspython).
"""
import argparse
import base64
import hashlib
import hmac
import struct
import subprocess
import sys
import time

try:
    import dns.flags
    import dns.message
    import dns.name
    import dns.rcode
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype
    import dns.rrset
    import dns.tsig
except ImportError as e:
    print(f"SKIP: {e} (Debian python3-dnspython)")
    sys.exit(77)

SECRET = base64.b64encode(b"interop-secret-for-meridian-tsig!").decode()
KEYNAME = "xfr-key.example."
ALGS = {"hmac-sha256": hashlib.sha256, "hmac-sha384": hashlib.sha384,
        "hmac-sha512": hashlib.sha512}

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}")


class Tool:
    """tsig_tool with one key, driven line by line."""

    def __init__(self, path, alg, name=KEYNAME, secret=SECRET):
        self.proc = subprocess.Popen([path, alg, name, secret], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def ask(self, *words):
        line = " ".join(w.hex() if isinstance(w, (bytes, bytearray)) else str(w)
                        for w in words)
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def wire(self, *words):
        out = self.ask(*words)
        if out == "none":
            raise RuntimeError(f"tsig_tool {words[0]}: no room")
        return bytes.fromhex(out)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def key(alg, name=KEYNAME, secret=SECRET):
    return dns.tsig.Key(name, secret, alg)


def keyring(alg):
    return {dns.name.from_text(KEYNAME): key(alg)}


def now():
    return int(time.time())


def unsigned(msg):
    """A message's wire without TSIG (dnspython would sign it otherwise)."""
    msg.keyring = None
    msg.tsig = None
    return msg.to_wire()


def axfr_messages(q, count):
    """`count` response messages to q, each with a few records."""
    msgs = []
    for i in range(count):
        r = dns.message.make_response(q)
        r.flags |= dns.flags.AA
        for j in range(3):
            r.answer.append(dns.rrset.from_text(f"h{i}-{j}.example.", 300, "IN", "A",
                                                f"192.0.2.{i * 3 + j}"))
        msgs.append(r)
    return msgs


def test_query_response(tool_path, alg):
    tool = Tool(tool_path, alg)
    q = dns.message.make_query("www.example.", "A")
    q.use_tsig(key(alg))
    qwire = q.to_wire()
    check(tool.ask("verify", now(), qwire) == "error 0", f"{alg}: dnspython's query verifies")
    r = dns.message.make_response(q)
    r.answer.append(dns.rrset.from_text("www.example.", 60, "IN", "A", "192.0.2.80"))
    signed = tool.wire("respond", now(), unsigned(r))
    try:
        back = dns.message.from_wire(signed, keyring=keyring(alg), request_mac=q.mac)
        check(back.had_tsig and str(back.answer[0][0]) == "192.0.2.80",
              f"{alg}: our response verifies in dnspython")
    except Exception as e:  # noqa: BLE001
        check(False, f"{alg}: our response verifies in dnspython: {e!r}")
    bad = bytearray(signed)
    bad[signed.index(bytes([192, 0, 2, 80])) + 3] ^= 1  # the answer's address
    try:
        dns.message.from_wire(bytes(bad), keyring=keyring(alg), request_mac=q.mac)
        check(False, f"{alg}: a changed response must not verify")
    except dns.tsig.BadSignature:
        pass

    # Our request, dnspython's response.
    plain = dns.message.make_query("example.", "SOA")
    ours = tool.wire("request", now(), plain.to_wire())
    try:
        got = dns.message.from_wire(ours, keyring=keyring(alg))
        check(got.had_tsig, f"{alg}: our request verifies in dnspython")
        resp = dns.message.make_response(got)
        resp.answer.append(dns.rrset.from_text(
            "example.", 60, "IN", "SOA", "ns1.example. host.example. 1 2 3 4 5"))
        status = tool.ask("check", now(), resp.to_wire())
        check(status.startswith("0 "), f"{alg}: dnspython's response verifies in ours: {status}")
        check(tool.ask("end").startswith("0 "), f"{alg}: the exchange ends signed")
    except Exception as e:  # noqa: BLE001
        check(False, f"{alg}: our request verifies in dnspython: {e!r}")
    tool.close()


def test_our_stream(tool_path, alg):
    tool = Tool(tool_path, alg)
    q = dns.message.make_query("example.", "AXFR")
    q.use_tsig(key(alg))
    check(tool.ask("verify", now(), q.to_wire()) == "error 0", f"{alg}: AXFR query verifies")
    check(tool.ask("stream") == "ok", f"{alg}: stream starts")
    wires = [tool.wire("sign", now(), unsigned(m)) for m in axfr_messages(q, 6)]
    ctx = None
    try:
        for i, w in enumerate(wires):
            m = dns.message.from_wire(w, keyring=keyring(alg), request_mac=q.mac, multi=True,
                                      tsig_ctx=ctx)
            check(m.had_tsig, f"{alg}: stream message {i} signed")
            ctx = m.tsig_ctx
    except Exception as e:  # noqa: BLE001
        check(False, f"{alg}: our stream verifies in dnspython multi-message mode: {e!r}")
    # Out of order: the second message's MAC chains the first's, not the request's.
    try:
        dns.message.from_wire(wires[1], keyring=keyring(alg), request_mac=q.mac, multi=True)
        check(False, f"{alg}: a stream message out of order must not verify")
    except dns.tsig.BadSignature:
        pass
    tool.close()


def dnspython_stream(request, alg, skip, count=6):
    """dnspython signs `count` responses to our request; messages in `skip` are unsigned,
    their bytes fed into the running context (RFC 8945 §5.3.1)."""
    q = dns.message.from_wire(request, keyring=keyring(alg))
    ctx, wires = None, []
    for i, m in enumerate(axfr_messages(q, count)):
        if i in skip:
            w = unsigned(m)
            ctx.update(w)
        else:
            m.use_tsig(key(alg))
            m.request_mac = q.mac
            w = m.to_wire(multi=True, tsig_ctx=ctx)
            ctx = m.tsig_ctx
        wires.append(w)
    return wires


def test_their_stream(tool_path, alg):
    for skip, tamper in (({1, 2}, None), ({5}, None), (set(), 3)):
        tool = Tool(tool_path, alg)
        request = tool.wire("request", now(), dns.message.make_query("example.", "AXFR").to_wire())
        wires = dnspython_stream(request, alg, skip)
        got = []
        for i, w in enumerate(wires):
            if i == tamper:  # the last address of message i (see axfr_messages)
                w = bytearray(w)
                w[w.index(bytes([192, 0, 2, i * 3 + 2])) + 3] ^= 1
                w = bytes(w)
            got.append(int(tool.ask("check", now(), w).split()[0]))
        end = int(tool.ask("end").split()[0])
        want = [1 if i in skip else 0 for i in range(len(wires))]  # TSIG_OK 0, TSIG_UNSIGNED 1
        if tamper is not None:
            want[tamper] = 5  # TSIG_BADSIG
            got = got[: tamper + 1]
            want = want[: tamper + 1]
        check(got == want, f"{alg}: dnspython's stream (unsigned {sorted(skip)}, tampered "
                           f"{tamper}) in ours: {got}, want {want}")
        if tamper is None:
            check(end == (3 if 5 in skip else 0),  # TSIG_MISSING when the last is unsigned
                  f"{alg}: stream end with unsigned {sorted(skip)}: {end}")
        tool.close()


def test_errors(tool_path, alg):
    tool = Tool(tool_path, alg)
    # A wrong secret: BADSIG; dnspython reads the unsigned reply as the peer's BADSIG.
    for secret, name, error, exc in (
            (base64.b64encode(b"another secret").decode(), KEYNAME, 16, dns.tsig.PeerBadSignature),
            (SECRET, "unknown.example.", 17, dns.tsig.PeerBadKey)):
        q = dns.message.make_query("www.example.", "A")
        q.use_tsig(key(alg, name, secret))
        check(tool.ask("verify", now(), q.to_wire()) == f"error {error}",
              f"{alg}: error {error} for {name}")
        r = dns.message.make_response(q)
        r.set_rcode(dns.rcode.NOTAUTH)
        reply = tool.wire("respond", now(), unsigned(r))
        try:
            dns.message.from_wire(reply, keyring={dns.name.from_text(name): key(alg, name, secret)},
                                  request_mac=q.mac)
            check(False, f"{alg}: dnspython must see the error {error}")
        except exc:
            pass
    # A clock 1000 s ahead of the client's: BADTIME, signed.
    q = dns.message.make_query("www.example.", "A")
    q.use_tsig(key(alg))
    server_time = now() + 1000
    check(tool.ask("verify", server_time, q.to_wire()) == "error 18", f"{alg}: BADTIME")
    r = dns.message.make_response(q)
    r.set_rcode(dns.rcode.NOTAUTH)
    body = unsigned(r)
    reply = tool.wire("respond", server_time, body)
    try:
        dns.message.from_wire(reply, keyring=keyring(alg), request_mac=q.mac)
        check(False, f"{alg}: dnspython must see BADTIME")
    except dns.tsig.PeerBadTime:
        pass
    # dnspython stops at the error; its TSIG RDATA parser reads the record after the body.
    owner, used = dns.name.from_wire(reply, len(body))
    rdstart = len(body) + used + 10
    rdlen = struct.unpack("!H", reply[rdstart - 2:rdstart])[0]
    check(owner == dns.name.from_text(KEYNAME) and rdstart + rdlen == len(reply),
          f"{alg}: BADTIME reply ends with one TSIG record")
    tsig = dns.rdata.from_wire(dns.rdataclass.ANY, dns.rdatatype.TSIG, reply, rdstart, rdlen)
    check(tsig.other == struct.pack("!HI", server_time >> 32, server_time & 0xFFFFFFFF),
          f"{alg}: BADTIME carries the server time")
    check(tsig.time_signed == q.tsig[0].time_signed and tsig.fudge == 300,
          f"{alg}: BADTIME keeps the client's time and fudge")
    name = dns.name.from_text(KEYNAME).to_digestable()
    variables = (name + struct.pack("!HI", 255, 0) + dns.name.from_text(alg).to_digestable() +
                 struct.pack("!HIHHH", tsig.time_signed >> 32, tsig.time_signed & 0xFFFFFFFF,
                             tsig.fudge, 18, 6) + tsig.other)
    mac = hmac.new(base64.b64decode(SECRET),
                   struct.pack("!H", len(q.mac)) + q.mac + body + variables, ALGS[alg]).digest()
    check(tsig.mac == mac, f"{alg}: BADTIME MAC is HMAC(request MAC, reply, variables)")
    tool.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", required=True)
    args = parser.parse_args()
    for alg in ALGS:
        test_query_response(args.tool, alg)
        test_our_stream(args.tool, alg)
        test_their_stream(args.tool, alg)
        test_errors(args.tool, alg)
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("ok: dnspython and src/tsig agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
