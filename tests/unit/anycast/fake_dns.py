#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fake authority for the anycast sidecar's smoke test (smoke-netns.sh), run inside the
test's own network namespace. Answers the canary over UDP and TCP on the given addresses and
serves a fake meridiand `status` on a UNIX socket. Behaviour is read from two files in the run
directory on every request, so the test can flip it without restarting anything:
  dns_mode:  ok | servfail | drop | slow | noaa | wrong
  site_mode: active | drained | reloadfail
Usage: fake_dns.py RUNDIR CANARY_NAME CANARY_A ADDRESS...
Stdlib only; stops on SIGTERM."""
import os
import signal
import socket
import struct
import sys
import threading
import time

RUN, NAME, ANSWER = sys.argv[1], sys.argv[2].rstrip(".").lower(), sys.argv[3]
ADDRS = sys.argv[4:]


def mode(name, default):
    try:
        with open(os.path.join(RUN, name)) as f:
            return f.read().strip() or default
    except OSError:
        return default


def parse_qname(msg):
    labels, pos = [], 12
    while pos < len(msg) and msg[pos] != 0:
        n = msg[pos]
        labels.append(msg[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    return ".".join(labels).lower(), pos + 1


def answer(query):
    """The reply for one query, or None to stay silent."""
    if len(query) < 12:
        return None
    m = mode("dns_mode", "ok")
    if m == "drop":
        return None
    if m == "slow":
        time.sleep(0.2)
    qname, end = parse_qname(query)
    question = query[12:end + 4]
    flags = 0x8000 | (query[2] & 0x78) << 8  # QR, opcode copied
    if m != "noaa":
        flags |= 0x0400  # AA
    rcode = 2 if m == "servfail" else 0
    addr = "192.0.2.99" if m == "wrong" else ANSWER
    ancount = 1 if rcode == 0 and qname == NAME and question[-4:] == b"\x00\x01\x00\x01" else 0
    if qname != NAME:
        rcode = 3
    hdr = struct.pack("!HHHHHH", struct.unpack("!H", query[:2])[0], flags | rcode, 1, ancount,
                      0, 0)
    body = question
    if ancount:
        body += struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(addr)
    return hdr + body


def serve_udp(sock):
    while True:
        data, peer = sock.recvfrom(4096)
        # One thread per query, so a "slow" answer delays only itself.
        threading.Thread(target=lambda d=data, p=peer: reply_udp(sock, d, p), daemon=True).start()


def reply_udp(sock, data, peer):
    r = answer(data)
    if r is not None:
        sock.sendto(r, peer)


def serve_tcp(sock):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=reply_tcp, args=(conn,), daemon=True).start()


def reply_tcp(conn):
    with conn:
        conn.settimeout(2)
        try:
            hdr = conn.recv(2)
            n = struct.unpack("!H", hdr)[0]
            q = b""
            while len(q) < n:
                chunk = conn.recv(n - len(q))
                if not chunk:
                    return
                q += chunk
            r = answer(q)
            if r is not None:
                conn.sendall(struct.pack("!H", len(r)) + r)
        except (OSError, struct.error):
            pass


def serve_status(sock):
    while True:
        conn, _ = sock.accept()
        with conn:
            conn.settimeout(2)
            try:
                conn.recv(1024)
                m = mode("site_mode", "active")
                now = int(time.time())
                site = "drained" if m == "drained" else "active"
                last = ("failed at %d: zones.yaml:1: broken" % now) if m == "reloadfail" \
                    else ("ok at %d" % now)
                conn.sendall(("ok\nsite: %s\nzones: 1\nrecords: 1\nloaded: %d\n"
                              "last_reload: %s\n" % (site, now, last)).encode())
            except OSError:
                pass


def main():
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    for a in ADDRS:
        fam = socket.AF_INET6 if ":" in a else socket.AF_INET
        u = socket.socket(fam, socket.SOCK_DGRAM)
        u.bind((a, 53))
        t = socket.socket(fam, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind((a, 53))
        t.listen(16)
        threading.Thread(target=serve_udp, args=(u,), daemon=True).start()
        threading.Thread(target=serve_tcp, args=(t,), daemon=True).start()
    path = os.path.join(RUN, "meridiand.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(8)
    threading.Thread(target=serve_status, args=(s,), daemon=True).start()
    open(os.path.join(RUN, "fake_dns.ready"), "w").close()
    while True:
        time.sleep(3600)


main()
