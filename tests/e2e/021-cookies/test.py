#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 021: DNS cookies (RFC 7873) with RFC 9018 interoperable server cookies.

Two meridiand instances play two sites of a fleet: A holds secret S1 in its
cookie_secret_file, B is mid-rollover (current S2, previous S1). Server cookies are forged
here with libsodium's SipHash-2-4 through ctypes (RFC 9018 §4.4), independently of
src/dns:

* `dig +cookie` to A gets an 8-octet client and 16-octet server cookie, version 1, stamped
  now; `kdig +cookie` (Knot's client) too;
* `dig +cookie=<A's cookie>` to B: answered (NOERROR) with a cookie;
* a cookie forged with S1 ten minutes ago is valid at A and at B (B keeps S1 as previous):
  both echo it unchanged; B's fresh cookies are made with S2 (checked by recomputing);
* stale (S1, 61 minutes old), from the future (6 minutes ahead) and forged (a wrong secret)
  cookies are answered as usual with a fresh cookie stamped now (RFC 7873 §5.2.4);
* a COOKIE option of a malformed length (12 octets) gets FORMERR (§5.2.2);
* a secret file open to others is refused by `meridiand -n` with its path.
"""

import ctypes
import ctypes.util
import os
import re
import socket
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness as h  # noqa: E402

import dns.edns  # noqa: E402
import dns.message  # noqa: E402
import dns.rcode  # noqa: E402

ORIGIN = "cookie.test"
NSID = h.new_nsid("cookies")
S1 = bytes.fromhex("e5e973e5a6b2a43f48e7dc849e37bfcf")
S2 = bytes.fromhex("445536bcd2513298075a5d379663c962")
CLIENT = bytes.fromhex("2464c4abcf10c957")

_sodium = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")


def siphash24(key, msg):
    out = ctypes.create_string_buffer(8)
    assert _sodium.crypto_shorthash_siphash24(out, msg, ctypes.c_ulonglong(len(msg)), key) == 0
    return out.raw


def server_cookie(secret, client, ts, ip="127.0.0.1"):
    head = bytes([1, 0, 0, 0]) + struct.pack("!I", ts & 0xFFFFFFFF)
    return head + siphash24(secret, client + head + socket.inet_aton(ip))


def ask(port, cookie_option, name="www." + ORIGIN):
    q = dns.message.make_query(name, "A", use_edns=0,
                               options=[dns.edns.GenericOption(dns.edns.COOKIE, cookie_option)])
    msg = h.parse(h.udp_exchange(q.to_wire(), port))
    if msg is None:
        return None, None
    got = [o for o in msg.options if o.otype == dns.edns.COOKIE]
    data = (got[0].to_wire() if hasattr(got[0], "to_wire") else got[0].data) if got else None
    return msg, data


def write_config(tmp, name, port, secret_lines):
    secret = tmp.join(name + ".secret")
    h.write_file(secret, "".join(s.hex() + "\n" for s in secret_lines), mode=0o600)
    path = tmp.join(name + ".yaml")
    h.write_file(path, "\n".join([
        "server:",
        '  listen: ["%s:%d"]' % (h.V4, port),
        "  workers: 1",
        '  nsid: "%s"' % NSID,
        "  cookie_secret_file: " + secret,
        "zones:",
        "  - origin: " + ORIGIN,
        "    file: " + tmp.join("z.zone")]) + "\n")
    return path


def main():
    args = h.parse_args(__doc__)
    dig = h.find_tool("dig")
    kdig = h.find_tool("kdig")
    failures = []

    def check(ok, what):
        if not ok:
            failures.append(what)
        if args.verbose or not ok:
            print(("ok: " if ok else "FAIL: ") + what)

    with h.TempDir(keep=args.keep) as tmp:
        h.write_file(tmp.join("z.zone"), h.small_zone(ORIGIN, "www A 192.0.2.80"))
        srvs = {}
        for name, lines in (("a", [S1]), ("b", [S2, S1])):
            def make(port, name=name, lines=lines):
                return h.Meridiand(args.meridiand, tmp.path, port,
                                   write_config(tmp, name, port, lines), NSID, addrs=(h.V4,))
            srvs[name] = h.start_with_free_port(make, ORIGIN)
        a, b = srvs["a"].port, srvs["b"].port
        try:
            now = int(time.time())
            # dig +cookie: client 8 + server 16 octets, version 1, stamped now, made with S1.
            if dig:
                out = subprocess.run([dig, "+cookie", "+norec", "-p", str(a), "@" + h.V4,
                                      "www." + ORIGIN, "A"], capture_output=True, text=True,
                                     timeout=h.scaled(20)).stdout
                m = re.search(r"; COOKIE: ([0-9a-f]+)", out)
                check(m is not None and len(m.group(1)) == 48 and "NOERROR" in out,
                      "dig +cookie gets 8 + 16 octets:\n" + out)
                if m:
                    value = bytes.fromhex(m.group(1))
                    ts = struct.unpack("!I", value[12:16])[0]
                    check(value[8] == 1 and abs(ts - now) <= 5 and
                          value[8:] == server_cookie(S1, value[:8], ts),
                          "A's cookie is RFC 9018 version 1 with S1, stamped now")
                    out = subprocess.run([dig, "+cookie=" + m.group(1), "+norec", "-p", str(b),
                                          "@" + h.V4, "www." + ORIGIN, "A"],
                                         capture_output=True, text=True,
                                         timeout=h.scaled(20)).stdout
                    check("NOERROR" in out and re.search(r"; COOKIE: [0-9a-f]{48}", out),
                          "dig +cookie=<A's cookie> to B answered with a cookie:\n" + out)
            else:
                print("SKIP part: dig not installed")
            if kdig:
                out = subprocess.run([kdig, "+cookie", "-p", str(a), "@" + h.V4,
                                      "www." + ORIGIN, "A"], capture_output=True, text=True,
                                     timeout=h.scaled(20)).stdout
                check(re.search(r"COOKIE: [0-9a-f]{48}", out, re.I) and "NOERROR" in out,
                      "kdig +cookie gets a server cookie:\n" + out)
            else:
                print("SKIP part: kdig not installed")
            # A cookie made with S1 ten minutes ago: valid at both sites, echoed unchanged.
            old = server_cookie(S1, CLIENT, now - 600)
            for name, port in (("A", a), ("B", b)):
                msg, got = ask(port, CLIENT + old)
                check(msg is not None and msg.rcode() == dns.rcode.NOERROR and
                      got == CLIENT + old,
                      "%s accepts and echoes a 10-minute-old S1 cookie (got %r)" % (name, got))
            # B issues with its current secret, S2.
            msg, got = ask(b, CLIENT)
            ts = struct.unpack("!I", got[12:16])[0] if got else 0
            check(got is not None and got[8:] == server_cookie(S2, CLIENT, ts),
                  "B's fresh cookie is made with S2")
            # Stale, future and forged cookies: answered, with a fresh cookie stamped now.
            for what, cookie in (("61 minutes old", server_cookie(S1, CLIENT, now - 3660)),
                                 ("6 minutes ahead", server_cookie(S1, CLIENT, now + 360)),
                                 ("forged", server_cookie(b"\x01" * 16, CLIENT, now - 600))):
                msg, got = ask(a, CLIENT + cookie)
                ts = struct.unpack("!I", got[12:16])[0] if got and len(got) == 24 else 0
                check(msg is not None and msg.rcode() == dns.rcode.NOERROR and
                      len(msg.answer) == 1 and got and got[8:] == server_cookie(S1, CLIENT, ts)
                      and abs(ts - now) <= 5,
                      "a %s cookie gets the answer and a fresh cookie" % what)
            msg, got = ask(a, CLIENT + b"\x00" * 4)
            check(msg is not None and msg.rcode() == dns.rcode.FORMERR and got is None,
                  "a 12-octet COOKIE option is FORMERR")
        finally:
            for s in srvs.values():
                s.stop()
        # A secret others can read is refused at load, naming the file.
        os.chmod(tmp.join("a.secret"), 0o644)
        p = subprocess.run([args.meridiand, "-n", "-c", tmp.join("a.yaml")],
                           capture_output=True, text=True, timeout=h.scaled(30))
        check(p.returncode != 0 and "a.secret" in p.stderr and "permissions" in p.stderr,
              "a secret file open to others is refused: " + p.stderr.strip())
    if failures:
        print("%d failed" % len(failures))
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
