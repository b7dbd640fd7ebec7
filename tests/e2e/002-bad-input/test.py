#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 002: meridiand survives malformed input over UDP and TCP.

Each phase sends one kind of bad input; every reply it provokes must be a DNS
response (QR set, the query's id, an rcode that makes sense), or there must be
none: a malformed query is answered FORMERR or dropped, never crashes the
server. After each phase a good query must still be answered correctly over
UDP and TCP, and the process must be alive. At the end SIGTERM must give a
clean exit (an Asan build turns memory errors into a failed exit).
Randomness is seeded; every loop is bounded in count and time.
"""

import os
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness as h  # noqa: E402

import dns.edns  # noqa: E402
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.rcode  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ORIGIN = "example.com"
GOOD_NAME = "www.example.com"
GOOD_ADDRS = {"192.0.2.10", "192.0.2.11"}
SEED = 20240601
IDLE_TIMEOUT_S = 2
ACCEPTABLE = {dns.rcode.FORMERR, dns.rcode.NOTIMP, dns.rcode.REFUSED, dns.rcode.NOERROR,
              dns.rcode.NXDOMAIN, dns.rcode.BADVERS}


def good_query(qid=0x1234, edns=True):
    q = dns.message.make_query(GOOD_NAME, "A", use_edns=0 if edns else False)
    q.id = qid
    return q


def header(qid=0xbeef, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


QTAIL = b"\x00\x01\x00\x01"  # QTYPE A, QCLASS IN


def check_reply(sent, reply, allowed=ACCEPTABLE):
    """Problems with a reply to `sent` (None: dropped, always fine)."""
    if reply is None:
        return []
    if len(reply) < 12:
        return ["reply shorter than a header: %s" % reply.hex()]
    errs = []
    if len(sent) >= 2 and reply[:2] != sent[:2]:
        errs.append("reply id %s != query id %s" % (reply[:2].hex(), sent[:2].hex()))
    if len(sent) < 12:
        errs.append("replied to a %d-byte datagram (no header to answer)" % len(sent))
    if not reply[2] & 0x80:
        errs.append("reply without QR")
    msg = h.parse(reply)
    rcode = msg.rcode() if msg is not None else reply[3] & 0xF
    if rcode not in allowed:
        errs.append("rcode %s" % dns.rcode.to_text(rcode))
    if errs:
        errs.append("sent %s" % sent[:64].hex())
    return errs


class Phase:
    """Sends its inputs, then checks health: one Results line per phase."""

    def __init__(self, server, results):
        self.server = server
        self.results = results

    def healthy(self):
        errs = []
        if not self.server.alive():
            return ["meridiand died (exit %s):\n%s" % (self.server.proc.returncode,
                                                      self.server.log_tail())]
        for tcp in (False, True):
            q = good_query(qid=0x4242 + tcp)
            reply = h.parse(h.exchange(q.to_wire(), self.server.port, tcp=tcp))
            proto = "tcp" if tcp else "udp"
            if reply is None:
                errs.append("good query over %s not answered" % proto)
                continue
            addrs = {rd.to_text() for rrset in reply.answer for rd in rrset}
            if reply.rcode() != dns.rcode.NOERROR or addrs != GOOD_ADDRS or \
                    not reply.flags & dns.flags.AA or reply.id != q.id:
                errs.append("good query over %s: %s %s" % (proto, h.summary(reply),
                                                            sorted(addrs)))
        return errs

    def run(self, label, fn):
        try:
            errs = fn()
        except OSError as e:
            errs = ["socket error: %s" % e]
        errs = errs[:20] + (["... %d more" % (len(errs) - 20)] if len(errs) > 20 else [])
        self.results.check(label, errs)
        self.results.check("after %s: alive, UDP and TCP answer" % label, self.healthy())


# ---------------------------------------------------------------------------
# UDP inputs


def udp_each(port, datagrams, timeout=0.3):
    """Send each datagram and check its reply, if any (short wait: drops cost
    `timeout` each, so callers keep their lists short)."""
    errs = []
    for d in datagrams:
        errs += check_reply(d, h.udp_exchange(d, port, timeout=timeout))
    return errs


def udp_burst(port, datagrams, burst=32, drain_s=0.5, deadline_s=60.0):
    """Send many datagrams from one socket in bursts, then drain replies and
    check each against the datagram with its id. Bounded by deadline_s."""
    errs = []
    by_id = {}
    start = time.monotonic()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((h.V4, port))
        for i in range(0, len(datagrams), burst):
            if time.monotonic() - start > deadline_s:
                errs.append("phase deadline passed after %d datagrams" % i)
                break
            for d in datagrams[i:i + burst]:
                if len(d) >= 2:
                    by_id.setdefault(d[:2], []).append(d)
                try:
                    s.send(d)
                except OSError:
                    pass  # EMSGSIZE etc.: nothing was sent
            end = time.monotonic() + drain_s
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    break
                s.settimeout(left)
                try:
                    reply = s.recv(65535)
                except (socket.timeout, ConnectionRefusedError):
                    break
                sent = by_id.get(reply[:2], [])
                if not sent:
                    errs.append("reply with an id we never sent: %s" % reply[:12].hex())
                else:
                    # Random ids may repeat: fine if any datagram with it fits.
                    verdicts = [check_reply(d, reply) for d in sent]
                    if all(verdicts):
                        errs += verdicts[0]
                end = time.monotonic() + 0.05  # replies come together: short re-wait
    return errs


def truncated_headers(port):
    wire = good_query(edns=False).to_wire()
    return udp_each(port, [wire[:n] for n in range(0, 12)])


def truncated_questions(port):
    wire = good_query(edns=True).to_wire()
    return udp_each(port, [wire[:n] for n in range(12, len(wire))])


def oversized(port):
    wire = good_query(qid=0x0101).to_wire()
    rnd = h.seeded_random(SEED)
    big = [wire + bytes(4096 - len(wire)),               # good query, zero padding
           wire + bytes(rnd.getrandbits(8) for _ in range(9000)),
           bytes(65507),                                 # largest IPv4 UDP payload
           header(qid=0x0102) + bytes(rnd.getrandbits(8) for _ in range(65495))]
    return udp_each(port, big, timeout=0.5)


def random_garbage(port):
    rnd = h.seeded_random(SEED + 1)
    grams = [bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 600))) for _ in range(400)]
    return udp_burst(port, grams)


def mutated_queries(port):
    """Valid queries with a few random bytes changed: near-valid input reaches
    deeper into the parser than noise does."""
    rnd = h.seeded_random(SEED + 2)
    base = [good_query(edns=e).to_wire() for e in (False, True)]
    base.append(dns.message.make_query("a.b.wild.example.com", "TXT", use_edns=0,
                                       options=[dns.edns.GenericOption(10, b"12345678")])
                .to_wire())
    grams = []
    for i in range(600):
        w = bytearray(rnd.choice(base))
        for _ in range(rnd.randint(1, 4)):
            w[rnd.randrange(2, len(w))] = rnd.getrandbits(8)
        w[0:2] = struct.pack("!H", i)
        grams.append(bytes(w))
    return udp_burst(port, grams)


def compression_loops(port):
    h0 = header(qid=0x0c0c)
    grams = [
        h0 + b"\xc0\x0c" + QTAIL,                              # points at itself
        h0 + b"\xc0\x0e" + b"\xc0\x0c" + QTAIL,               # two pointers, a cycle
        h0 + b"\x03www\xc0\x0c" + QTAIL,                      # label then back to start
        h0 + b"\xc0\x20" + QTAIL + bytes(20),                 # forward pointer
        h0 + b"\xc3\xff" + QTAIL,                             # pointer past the end
        h0 + b"\xc0" ,                                        # half a pointer
        h0 + b"".join(struct.pack("!H", 0xc000 | (12 + 2 * (i + 1))) for i in range(100))
        + b"\x00" + QTAIL,                                    # 100 chained pointers
    ]
    # A pointer loop in the OPT owner of an otherwise good query.
    q = good_query(qid=0x0c0d, edns=False).to_wire()
    q = q[:10] + b"\x00\x01" + q[12:]
    grams.append(q + b"\xc0" + bytes([len(q)]) + b"\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00")
    return udp_each(port, grams)


def bad_labels(port):
    h0 = header(qid=0x1a1a)
    grams = [
        h0 + b"\x40" + b"a" * 64 + b"\x00" + QTAIL,         # label of 64
        h0 + b"\x80\x00" + QTAIL,                           # reserved label type 10
        h0 + b"\x41\x00" + QTAIL,                           # extended label type 01
        h0 + b"\x3f" + b"a" * 10,                           # label runs past the end
        h0 + (b"\x3f" + b"a" * 63) * 5 + b"\x00" + QTAIL,   # name of 321 octets
        h0 + (b"\x01a") * 128 + b"\x00" + QTAIL,            # 257 octets in 1-byte labels
        h0 + b"\x03www\x07example\x03com",                  # no root label, no qtype
        h0 + b"\x03www\x07example\x03com\x00\x00",          # qtype cut short
    ]
    return udp_each(port, grams)


def counts(port):
    q = good_query(qid=0x2b2b, edns=False).to_wire()
    body = q[12:]
    grams = [
        header(qid=0x2b00, qd=0),                           # QDCOUNT 0, no question
        header(qid=0x2b01, qd=0) + body,                    # QDCOUNT 0 with a question
        header(qid=0x2b02, qd=2) + body,                    # says 2, has 1
        header(qid=0x2b03, qd=2) + body + body,             # two questions
        header(qid=0x2b04, qd=65535) + body,
        header(qid=0x2b05, an=1) + body,                    # answer record missing
        header(qid=0x2b06, ar=1) + body + b"\x00\x29",      # OPT cut short
        header(qid=0x2b07, ar=1) + body + b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x08"
        + b"\x00\x03\x00\x10",                              # option longer than RDATA
        header(qid=0x2b08, flags=0x8100) + body,            # a response: must be dropped
    ]
    errs = udp_each(port, grams)
    if h.udp_exchange(grams[-1], port, timeout=0.5) is not None:
        errs.append("answered a datagram with QR=1 (RFC 1035 §4.1.1: it is a response)")
    return errs


# ---------------------------------------------------------------------------
# TCP inputs


def tcp_send(port, data, read=True, timeout=1.0):
    """Send bytes on a new connection; return (replies, closed_by_server)."""
    replies = []
    with h.tcp_connect(port, timeout=timeout) as s:
        s.sendall(data)
        if not read:
            return replies, False
        deadline = time.monotonic() + timeout
        for _ in range(64):
            if time.monotonic() > deadline:
                return replies, False
            msg = h.tcp_read_message(s, max(0.05, deadline - time.monotonic()))
            if msg is None:
                break
            replies.append(msg)
        try:
            s.settimeout(0.2)
            closed = s.recv(1) == b""
        except socket.timeout:
            closed = False
        except ConnectionResetError:
            closed = True
        return replies, closed


def frame(wire):
    return struct.pack("!H", len(wire)) + wire


def tcp_garbage(port):
    rnd = h.seeded_random(SEED + 3)
    errs = []
    for _ in range(20):
        data = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 300)))
        replies, _ = tcp_send(port, data, timeout=0.5)
        for r in replies:
            if len(r) < 12 or not r[2] & 0x80:
                errs.append("non-DNS reply to TCP garbage: %s" % r[:16].hex())
    return errs


def tcp_short(port):
    """A length prefix larger than the data, then close; a lone prefix byte;
    a zero-length message; a message of one byte."""
    wire = good_query(qid=0x3c3c).to_wire()
    errs = []
    for data in (struct.pack("!H", len(wire) + 100) + wire, struct.pack("!H", 65535) + wire,
                 b"\x00", frame(b""), frame(b"\x01")):
        complete = len(data) >= 2 and struct.unpack("!H", data[:2])[0] == len(data) - 2
        replies, _ = tcp_send(port, data, read=complete, timeout=0.5)
        for r in replies:
            errs += check_reply(data[2:], r)
    return errs


def pipelined(port, junk, must_answer):
    """Framed junk, then a good query, on one connection (RFC 7766 §6.2.1: a
    client may pipeline). Every reply must fit its query; the good query must
    be answered, unless must_answer is False and the server closed the
    connection instead."""
    good = good_query(qid=0x5d5d).to_wire()
    replies, closed = tcp_send(port, b"".join(frame(j) for j in junk) + frame(good),
                               timeout=h.REPLY_TIMEOUT)
    errs = []
    got_good = False
    for r in replies:
        if r[:2] == good[:2]:
            got_good = True
            errs += check_reply(good, r, {dns.rcode.NOERROR})
        else:
            sent = next((j for j in junk if j[:2] == r[:2]), None)
            if sent is None:
                errs.append("reply with an unknown id: %s" % r[:12].hex())
            else:
                errs += check_reply(sent, r)
    if not got_good and (must_answer or not closed):
        errs.append("good query after pipelined junk not answered (%d replies, connection %s)"
                    % (len(replies), "closed" if closed else "left open"))
    return errs


def tcp_pipelined_malformed(port):
    """Malformed queries with a sound header: each can be answered FORMERR,
    so the connection has no reason to end; the good query after them must
    be answered (knotd closes instead; we answer, which is kinder)."""
    body = good_query(edns=False).to_wire()[12:]
    junk = [header(qid=0x5d01, qd=2) + body + body,
            header(qid=0x5d02, qd=0),
            header(qid=0x5d03) + b"\xc0\x0c" + QTAIL,
            header(qid=0x5d04) + body + b"trailing",
            header(qid=0x5d05, flags=0x3100) + body]       # opcode 6: NOTIMP
    return pipelined(port, junk, must_answer=True)


def tcp_pipelined_garbage(port):
    """Random bytes in sound framing: the server may skip them or close the
    connection (knotd closes); if it keeps the connection, the good query
    must be answered."""
    rnd = h.seeded_random(SEED + 4)
    junk = [bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 100))) for _ in range(5)]
    return pipelined(port, junk, must_answer=False)


def tcp_pipelined_good(port):
    """Ten good queries in one write: ten answers, ids matched (RFC 7766 §7)."""
    wires = [good_query(qid=0x6000 + i).to_wire() for i in range(10)]
    replies, _ = tcp_send(port, b"".join(frame(w) for w in wires), timeout=h.REPLY_TIMEOUT)
    got = {r[:2] for r in replies}
    want = {w[:2] for w in wires}
    return [] if got == want else ["answered %d of 10 pipelined queries" % len(got & want)]


def tcp_idle(port):
    """RFC 7766 §6.2.3: an idle connection is closed after tcp_idle_timeout."""
    with h.tcp_connect(port, timeout=IDLE_TIMEOUT_S + 5) as s:
        start = time.monotonic()
        try:
            data = s.recv(1)
        except ConnectionResetError:
            data = b""
        except socket.timeout:
            return ["idle connection still open after %d s" % (IDLE_TIMEOUT_S + 5)]
        took = time.monotonic() - start
    if data:
        return ["server sent data on an idle connection"]
    if took < IDLE_TIMEOUT_S - 0.5:
        return ["idle connection closed after %.1f s, before the %d s timeout"
                % (took, IDLE_TIMEOUT_S)]
    return []


def tcp_many(port):
    """50 connections held open at once, then closed without a word."""
    conns = []
    try:
        for _ in range(50):
            conns.append(h.tcp_connect(port, timeout=1.0))
    finally:
        for c in conns:
            c.close()
    return []


def main():
    args = h.parse_args(__doc__.splitlines()[0])
    results = h.Results(args.verbose)
    with h.TempDir(args.keep) as tmp:
        zone = os.path.join(HERE, "example.com.zone")

        def meridian(port):
            conf = h.write_meridian_config(tmp.join("meridian.yaml"), port, [(ORIGIN, zone)],
                                           tcp_idle_timeout="%ds" % IDLE_TIMEOUT_S)
            return h.Meridiand(args.meridiand, tmp.path, port, conf)

        server = h.start_with_free_port(meridian, ORIGIN)
        try:
            port = server.port
            phase = Phase(server, results)
            results.check("before any bad input: UDP and TCP answer", phase.healthy())
            phase.run("udp truncated headers", lambda: truncated_headers(port))
            phase.run("udp truncated questions", lambda: truncated_questions(port))
            phase.run("udp oversized datagrams", lambda: oversized(port))
            phase.run("udp random garbage (400, seeded)", lambda: random_garbage(port))
            phase.run("udp mutated queries (600, seeded)", lambda: mutated_queries(port))
            phase.run("udp compression-pointer loops", lambda: compression_loops(port))
            phase.run("udp bad label lengths", lambda: bad_labels(port))
            phase.run("udp bad section counts", lambda: counts(port))
            phase.run("tcp garbage", lambda: tcp_garbage(port))
            phase.run("tcp short and empty messages", lambda: tcp_short(port))
            phase.run("tcp pipelined malformed queries then a good one",
                      lambda: tcp_pipelined_malformed(port))
            phase.run("tcp pipelined garbage then a good query",
                      lambda: tcp_pipelined_garbage(port))
            phase.run("tcp pipelined good queries", lambda: tcp_pipelined_good(port))
            phase.run("tcp idle timeout", lambda: tcp_idle(port))
            phase.run("tcp 50 connections", lambda: tcp_many(port))
        finally:
            rc = server.stop()
        results.check("clean exit on SIGTERM", [] if rc == 0 else
                      ["exit status %s:\n%s" % (rc, server.log_tail())])
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
