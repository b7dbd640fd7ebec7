#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""e2e 002: meridiand survives malformed input over UDP and TCP, and answers each
input exactly as its rules say.

Every message sent has one expected outcome, written as a short text:
"drop" (no reply), or an rcode (FORMERR, NOTIMP, BADVERS) or "lookup" (parsed
fine: answered like the same question asked cleanly), followed by "q" when the
question is echoed and "opt" when the reply carries an OPT record. A model of
the parser's rules (README.md, Answers; src/dns/dns_parse.c) gives the outcome
of any message, so random and mutated input is judged as strictly as the
hand-made cases; those list their outcome literally, and the model must agree
with each of them (a check on the model itself). A reply must then match in
every header bit that is not the server's choice: id, QR, opcode, RD copied, CD
and TC clear, the rcode, QDCOUNT and the question's bytes (case included), no
records for an error, ARCOUNT/OPT as expected. A "lookup" reply must match the
reply to the clean query in rcode, AA and record counts.

After each phase a good query must still be answered correctly over UDP and
TCP, by our server (its NSID), and the process must be alive. At the end
SIGTERM must give a clean exit (an Asan build turns memory errors into a failed
exit). Randomness is seeded; every loop is bounded in count and time.
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
# The server's tcp_idle_timeout; longer in slow builds so that the reads below, which wait
# for replies that must come, stay shorter than it.
IDLE_TIMEOUT_S = max(2, round(h.scaled(2)))
UDP_RECV_MAX = 4096   # src/net/udp.c UDP_RECV_SIZE: a longer datagram is cut and dropped
TCP_QUERY_MAX = 8190  # src/net/tcp.c TCP_QUERY_MAX: a longer message ends the connection


def good_query(qid=0x1234, edns=True, nsid=False):
    opts = [dns.edns.GenericOption(h.NSID, b"")] if nsid else []
    q = dns.message.make_query(GOOD_NAME, "A", use_edns=0 if edns else False, options=opts)
    q.id = qid
    return q


def header(qid=0xbeef, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


QTAIL = b"\x00\x01\x00\x01"  # QTYPE A, QCLASS IN
ORIGIN_WIRE = b"".join(bytes([len(x)]) + x.encode() for x in ORIGIN.split(".")) + b"\x00"
OPT_RR = b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"  # root, OPT, 1232, v0, no options


# ---------------------------------------------------------------------------
# The model: what the parser must do with a message (README.md, Answers).


def u16(b, i):
    return b[i] << 8 | b[i + 1]


def first_qname_end(m):
    """End of the first question's name: uncompressed labels of at most 63 octets, at most
    255 octets in all (RFC 1035 §2.3.4, §4.1.4: nothing precedes it to point to)."""
    pos = 12
    while True:
        if pos >= len(m):
            return None
        n = m[pos]
        if n & 0xC0 or pos - 12 + 1 + n > 255 or pos + 1 + n > len(m):
            return None
        pos += 1 + n
        if n == 0:
            return pos


def skip_name(m, pos):
    """End of any other name (a pointer ends it; at most 128 labels), or None."""
    for _ in range(128):
        if pos >= len(m):
            return None
        n = m[pos]
        if n & 0xC0 == 0xC0:
            return pos + 2 if pos + 2 <= len(m) else None
        if n & 0xC0:
            return None
        pos += 1 + n
        if n == 0:
            return pos
    return None


def skip_rr(m, pos):
    """(offset of TYPE, end) of the record at pos, or (None, None)."""
    n = skip_name(m, pos)
    if n is None or n + 10 > len(m):
        return None, None
    end = n + 10 + u16(m, n + 8)
    return (n, end) if end <= len(m) else (None, None)


def ecs_ok(p):
    """RFC 7871 §6 and §7.2.1, as the parser applies them."""
    if len(p) < 4:
        return False
    family, source, scope = u16(p, 0), p[2], p[3]
    bits = {1: 32, 2: 128}.get(family)
    if not bits or source > bits or scope:
        return False
    nbytes = (source + 7) // 8
    if len(p) - 4 != nbytes:
        return False
    return not (nbytes and source % 8 and p[4 + nbytes - 1] & (0xFF >> (source % 8)))


def model(m, tcp=False):
    """The outcome text of message m (see the module doc)."""
    if len(m) < 12 or (not tcp and len(m) > UDP_RECV_MAX):
        return "drop"
    flags = u16(m, 2)
    if flags & 0x8000:
        return "drop"  # a response: never answered (reflection loops)
    opcode = (flags >> 11) & 0xF
    qd, an, ns, ar = u16(m, 4), u16(m, 6), u16(m, 8), u16(m, 10)
    state = {"q": False, "opt": False}

    def out(rcode):
        return " ".join([rcode] + [k for k in ("q", "opt") if state[k]])

    pos = 12
    if qd:
        end = first_qname_end(m)
        if end is None or end + 4 > len(m):
            return "FORMERR"
        pos, state["q"] = end + 4, qd == 1  # of several questions none is echoed
    for _ in range(1, qd):
        end = skip_name(m, pos)
        if end is None or end + 4 > len(m):
            return out("FORMERR")
        pos = end + 4
    for _ in range(an + ns):  # stepped over, ignored
        _, end = skip_rr(m, pos)
        if end is None:
            return out("FORMERR")
        pos = end
    version, ecs_seen, ecs_bad = 0, False, False
    for _ in range(ar):
        rr, end = skip_rr(m, pos)
        if end is None:
            state["opt"] = False
            return out("FORMERR")  # records cannot be delimited: no OPT, even one read
        if u16(m, rr) == 41:
            if state["opt"] or rr - pos != 1:
                state["opt"] = False
                return out("FORMERR")  # a second OPT, or not owned by the root
            o = rr + 10
            while o < end:
                if o + 4 > end or o + 4 + u16(m, o + 2) > end:
                    return out("FORMERR")  # options overrun the RDATA
                o += 4 + u16(m, o + 2)
            state["opt"], version = True, m[rr + 5]
            o = rr + 10
            while o < end:
                code, olen = u16(m, o), u16(m, o + 2)
                if code == 8:
                    if ecs_seen or not ecs_ok(m[o + 4:o + 4 + olen]):
                        ecs_bad = True
                    else:
                        ecs_seen = True
                o += 4 + olen
        pos = end
    if pos != len(m):
        return out("FORMERR")  # trailing bytes
    if state["opt"] and version > 0:
        return out("BADVERS")
    if opcode not in (0, 4):
        return out("NOTIMP")
    if qd != 1:
        return out("FORMERR")  # RFC 9619 §4 (> 1); no question to answer (0)
    if ecs_bad:
        return out("FORMERR")
    if opcode == 4:
        # RFC 1996 NOTIFY: our zones are primaries', so REFUSED (as NSD); other names
        # NOTAUTH (as Knot).
        end = first_qname_end(m)
        ours = m[12:end].lower() == ORIGIN_WIRE and u16(m, end + 2) == 1
        return out("REFUSED" if ours else "NOTAUTH")
    return out("lookup")


def tcp_model(data):
    """What the server does with bytes on a new TCP connection: [(message, outcome)] for
    the complete messages it reads, in order, and whether it then closes (a length below
    a header or above TCP_QUERY_MAX: the stream cannot be trusted)."""
    pos, msgs = 0, []
    while len(data) - pos >= 2:
        n = u16(data, pos)
        if n < 12 or n > TCP_QUERY_MAX:
            return msgs, True
        if len(data) - pos < 2 + n:
            break
        m = data[pos + 2:pos + 2 + n]
        msgs.append((m, model(m, tcp=True)))
        pos += 2 + n
    return msgs, False


# ---------------------------------------------------------------------------
# Judging a reply


def clean_query(sent):
    """The same question asked plainly: header flags as sent, one question, our OPT
    with the sent payload and DO if the sent message had an OPT."""
    end = first_qname_end(sent) + 4
    opt = b""
    if "opt" in model(sent):
        # The sent OPT's class (payload) and TTL (DO); version 0 (a lookup has it).
        pos = end
        for _ in range(u16(sent, 6) + u16(sent, 8) + u16(sent, 10)):
            rr, nxt = skip_rr(sent, pos)
            if u16(sent, rr) == 41:
                opt = b"\x00\x00\x29" + sent[rr + 2:rr + 8] + b"\x00\x00"
            pos = nxt
    return sent[:4] + struct.pack("!HHHH", 1, 0, 0, 1 if opt else 0) + sent[12:end] + opt


def check_reply(sent, reply, outcome, port, tcp=False):
    """Errors of `reply` (bytes or None) to `sent` against its expected outcome."""
    where = "sent %s (%s)" % (sent[:48].hex(), outcome)
    if outcome == "drop":
        return [] if reply is None else ["answered (%s), expected no reply; %s"
                                         % (reply[:16].hex(), where)]
    if reply is None:
        return ["no reply; " + where]
    if len(reply) < 12:
        return ["reply shorter than a header: %s; %s" % (reply.hex(), where)]
    parts = outcome.split()
    errs = []
    flags, sflags = u16(reply, 2), u16(sent, 2)
    qd, an, ns, ar = u16(reply, 4), u16(reply, 6), u16(reply, 8), u16(reply, 10)
    if reply[:2] != sent[:2]:
        errs.append("id %s, sent %s" % (reply[:2].hex(), sent[:2].hex()))
    if not flags & 0x8000:
        errs.append("QR clear")
    if flags & 0x7800 != sflags & 0x7800:
        errs.append("opcode %d, sent %d" % ((flags >> 11) & 15, (sflags >> 11) & 15))
    if flags & 0x0100 != sflags & 0x0100:
        errs.append("RD not copied")
    if flags & 0x0010:
        errs.append("CD set (RFC 4035 §3.1.6: cleared)")
    if flags & 0x0200:
        errs.append("TC set")
    if "q" in parts:
        end = first_qname_end(sent) + 4
        if qd != 1 or reply[12:end] != sent[12:end]:
            errs.append("question not echoed as sent (QDCOUNT %d, %s)" % (qd, reply[12:end].hex()))
    elif qd:
        errs.append("QDCOUNT %d, expected no question" % qd)
    msg = h.parse(reply)
    if msg is None:
        return errs + ["reply does not parse: %s; %s" % (reply.hex(), where)]
    if (msg.edns >= 0) != ("opt" in parts):
        errs.append("OPT %s, expected %s" % ("present" if msg.edns >= 0 else "absent",
                                             "present" if "opt" in parts else "absent"))
    if parts[0] != "lookup":
        want = dns.rcode.from_text(parts[0])
        if msg.rcode() != want:
            errs.append("rcode %s, expected %s" % (h.rcode_text(msg), parts[0]))
        if an or ns or ar != (1 if "opt" in parts else 0) or flags & 0x0400:
            errs.append("an=%d ns=%d ar=%d AA=%d in an error reply" % (an, ns, ar,
                                                                       bool(flags & 0x0400)))
    else:
        clean = h.parse(h.exchange(clean_query(sent), port, tcp))
        if clean is None:
            errs.append("the clean query got no reply")
        elif (msg.rcode(), msg.flags & dns.flags.AA, an, ns) != \
                (clean.rcode(), clean.flags & dns.flags.AA, u16(clean.parsed_wire, 6),
                 u16(clean.parsed_wire, 8)):
            errs.append("answered %s, the clean query %s" % (h.summary(msg), h.summary(clean)))
    if errs:
        errs.append(where)
    return errs


def check_table(port, table, tcp=False, timeout=0.3):
    """Hand-made cases (label, message, outcome): the model must agree with the table,
    and the server with both."""
    errs = []
    for label, m, outcome in table:
        if model(m, tcp) != outcome:
            errs.append("%s: the model says %r, the table %r" % (label, model(m, tcp), outcome))
        reply = h.exchange(m, port, tcp, timeout=timeout if outcome == "drop" else 2.0)
        errs += ["%s: %s" % (label, e) for e in check_reply(m, reply, outcome, port, tcp)]
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
            q = good_query(qid=0x4242 + tcp, nsid=True)
            reply = h.parse(h.exchange(q.to_wire(), self.server.port, tcp=tcp, timeout=h.REPLY_TIMEOUT))
            proto = "tcp" if tcp else "udp"
            if reply is None:
                errs.append("good query over %s not answered" % proto)
                continue
            addrs = {rd.to_text() for rrset in reply.answer for rd in rrset}
            if reply.rcode() != dns.rcode.NOERROR or addrs != GOOD_ADDRS or \
                    not reply.flags & dns.flags.AA or reply.id != q.id:
                errs.append("good query over %s: %s %s" % (proto, h.summary(reply),
                                                            sorted(addrs)))
            if h.nsid_of(reply) != self.server.nsid:
                errs.append("good query over %s answered by NSID %r, not ours"
                            % (proto, h.nsid_of(reply)))
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


def udp_each(port, datagrams):
    """Send each datagram alone and judge its reply by the model (drops cost a short
    wait each, so callers keep their lists short)."""
    errs = []
    for d in datagrams:
        outcome = model(d)
        reply = h.udp_exchange(d, port, timeout=0.3 if outcome == "drop" else 2.0)
        errs += check_reply(d, reply, outcome, port)
    return errs


def unique_ids(grams):
    """Number the datagrams through their id field, so each reply names its datagram."""
    out = []
    for i, g in enumerate(grams):
        out.append(struct.pack("!H", i) + g[2:] if len(g) >= 2 else g)
    return out


def udp_burst(port, datagrams, burst=32, drain_s=0.5, deadline_s=60.0):
    """Send many datagrams (unique ids) from one socket in bursts, collect the replies by
    id, then judge every datagram by the model: a reply where one is due, none where the
    message must be dropped. Bounded by deadline_s."""
    errs = []
    replies = {}
    start = time.monotonic()
    sent = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((h.V4, port))
        for i in range(0, len(datagrams), burst):
            if time.monotonic() - start > deadline_s:
                errs.append("phase deadline passed after %d datagrams" % i)
                break
            for d in datagrams[i:i + burst]:
                try:
                    s.send(d)
                except OSError:
                    pass  # EMSGSIZE etc.: nothing was sent, so nothing is due
                sent += 1
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
                if len(reply) < 2 or reply[:2] in replies:
                    errs.append("a reply we cannot pair: %s" % reply[:12].hex())
                else:
                    replies[reply[:2]] = reply
                end = time.monotonic() + 0.05  # replies come together: short re-wait
    by_id = {d[:2]: d for d in datagrams[:sent] if len(d) >= 2}
    for rid in replies:
        if rid not in by_id:
            errs.append("reply with an id we never sent: %s" % rid.hex())
    for d in datagrams[:sent]:
        if len(d) >= 2:
            errs += check_reply(d, replies.get(d[:2]), model(d), port)
    return errs


def truncated_headers(port):
    wire = good_query(edns=False).to_wire()
    return udp_each(port, [wire[:n] for n in range(0, 12)])


def truncated_questions(port):
    """Every cut of a good EDNS query: FORMERR (with the question once it is whole),
    never the OPT (its record is cut)."""
    wire = good_query(edns=True).to_wire()
    grams = [wire[:n] for n in range(12, len(wire))]
    qend = first_qname_end(wire) + 4
    errs = []
    for g in grams:
        want = "FORMERR q" if len(g) >= qend else "FORMERR"
        if model(g) != want:
            errs.append("cut at %d: the model says %r, expected %r" % (len(g), model(g), want))
    return errs + udp_each(port, grams)


def oversized(port):
    """Up to UDP_RECV_MAX octets a datagram is read (a good query padded with zeros is
    then trailing garbage: FORMERR, question and OPT echoed); beyond, the kernel cuts it and
    it is dropped."""
    wire = good_query(qid=0x0101).to_wire()
    rnd = h.seeded_random(SEED)
    table = [
        ("good query padded to 4096 octets", wire + bytes(4096 - len(wire)), "FORMERR q opt"),
        ("good query padded to 4097 octets", wire + bytes(4097 - len(wire)), "drop"),
        ("good query + 9000 random octets",
         wire + bytes(rnd.getrandbits(8) for _ in range(9000)), "drop"),
        ("65507 zero octets (largest IPv4 UDP payload)", bytes(65507), "drop"),
        ("a header + 65495 random octets",
         header(qid=0x0102) + bytes(rnd.getrandbits(8) for _ in range(65495)), "drop"),
    ]
    return check_table(port, table, timeout=0.5)


def random_garbage(port):
    rnd = h.seeded_random(SEED + 1)
    grams = [bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 600))) for _ in range(400)]
    return udp_burst(port, unique_ids(grams))


def mutated_queries(port):
    """Valid queries with a few random bytes changed: near-valid input reaches
    deeper into the parser than noise does."""
    rnd = h.seeded_random(SEED + 2)
    base = [good_query(edns=e).to_wire() for e in (False, True)]
    base.append(dns.message.make_query("a.b.wild.example.com", "TXT", use_edns=0,
                                       options=[dns.edns.GenericOption(10, b"12345678")])
                .to_wire())
    base.append(dns.message.make_query("www.example.com", "A", use_edns=0,
                                       options=[dns.edns.ECSOption("192.0.2.0", 24)]).to_wire())
    grams = []
    for _ in range(600):
        w = bytearray(rnd.choice(base))
        for _ in range(rnd.randint(1, 4)):
            w[rnd.randrange(2, len(w))] = rnd.getrandbits(8)
        grams.append(bytes(w))
    return udp_burst(port, unique_ids(grams))


def compression_loops(port):
    """A compressed first question name is malformed whatever it points to (nothing
    precedes it); a pointer loop in a later owner ends the name at the pointer, so the
    record's length decides."""
    h0 = header(qid=0x0c0c)
    q = good_query(qid=0x0c0d, edns=False).to_wire()
    q1 = q[:10] + b"\x00\x01" + q[12:]
    table = [
        ("pointer to itself", h0 + b"\xc0\x0c" + QTAIL, "FORMERR"),
        ("two pointers, a cycle", h0 + b"\xc0\x0e" + b"\xc0\x0c" + QTAIL, "FORMERR"),
        ("label, then back to the start", h0 + b"\x03www\xc0\x0c" + QTAIL, "FORMERR"),
        ("forward pointer", h0 + b"\xc0\x20" + QTAIL + bytes(20), "FORMERR"),
        ("pointer past the end", h0 + b"\xc3\xff" + QTAIL, "FORMERR"),
        ("half a pointer", h0 + b"\xc0", "FORMERR"),
        ("100 chained pointers", h0 + b"".join(struct.pack("!H", 0xc000 | (12 + 2 * (i + 1)))
                                              for i in range(100)) + b"\x00" + QTAIL,
         "FORMERR"),
        # The OPT owner is a pointer to itself: 2 octets, not the root's 1: FORMERR, no OPT.
        ("pointer loop as the OPT owner",
         q1 + b"\xc0" + bytes([len(q1)]) + b"\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00",
         "FORMERR q"),
    ]
    return check_table(port, table)


def bad_labels(port):
    h0 = header(qid=0x1a1a)
    table = [
        ("label of 64", h0 + b"\x40" + b"a" * 64 + b"\x00" + QTAIL, "FORMERR"),
        ("reserved label type 10", h0 + b"\x80\x00" + QTAIL, "FORMERR"),
        ("extended label type 01", h0 + b"\x41\x00" + QTAIL, "FORMERR"),
        ("label runs past the end", h0 + b"\x3f" + b"a" * 10, "FORMERR"),
        ("name of 321 octets", h0 + (b"\x3f" + b"a" * 63) * 5 + b"\x00" + QTAIL, "FORMERR"),
        ("257 octets in 1-octet labels", h0 + (b"\x01a") * 128 + b"\x00" + QTAIL, "FORMERR"),
        ("255 octets in 1-octet labels (the longest name: looked up, outside our zones)",
         h0 + (b"\x01a") * 127 + b"\x00" + QTAIL, "lookup q"),
        ("no root label, no qtype", h0 + b"\x03www\x07example\x03com", "FORMERR"),
        ("qtype cut short", h0 + b"\x03www\x07example\x03com\x00\x00", "FORMERR"),
    ]
    return check_table(port, table)


def counts(port):
    q = good_query(qid=0x2b2b, edns=False).to_wire()
    body = q[12:]
    rr = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02\x01"
    table = [
        ("QDCOUNT 0, no question", header(qid=0x2b00, qd=0), "FORMERR"),
        ("QDCOUNT 0 with a question (trailing bytes)", header(qid=0x2b01, qd=0) + body,
         "FORMERR"),
        ("QDCOUNT 0 with an OPT", header(qid=0x2b09, qd=0, ar=1) + OPT_RR, "FORMERR opt"),
        ("QDCOUNT 2, one question", header(qid=0x2b02, qd=2) + body, "FORMERR"),
        ("two questions (RFC 9619 §4)", header(qid=0x2b03, qd=2) + body + body, "FORMERR"),
        ("two questions and an OPT", header(qid=0x2b0a, qd=2, ar=1) + body + body + OPT_RR,
         "FORMERR opt"),
        ("QDCOUNT 65535", header(qid=0x2b04, qd=65535) + body, "FORMERR"),
        ("ANCOUNT 1, record missing", header(qid=0x2b05, an=1) + body, "FORMERR q"),
        ("an answer record (ignored)", header(qid=0x2b0b, an=1) + body + rr, "lookup q"),
        ("an authority record and an OPT (ignored, OPT read)",
         header(qid=0x2b0c, ns=1, ar=1) + body + rr + OPT_RR, "lookup q opt"),
        ("OPT cut short", header(qid=0x2b06, ar=1) + body + b"\x00\x29", "FORMERR q"),
        ("option longer than the RDATA",
         header(qid=0x2b07, ar=1) + body + b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x08"
         + b"\x00\x03\x00\x10", "FORMERR q"),
        ("two OPT records", header(qid=0x2b0d, ar=2) + body + OPT_RR + OPT_RR, "FORMERR q"),
        ("EDNS version 1", header(qid=0x2b0e, ar=1) + body + OPT_RR[:6] + b"\x01" + OPT_RR[7:],
         "BADVERS q opt"),
        ("opcode STATUS with an OPT", header(qid=0x2b0f, flags=0x1100, ar=1) + body + OPT_RR,
         "NOTIMP q opt"),
        ("opcode 15, no question", header(qid=0x2b10, flags=0x7900, qd=0), "NOTIMP"),
        ("NOTIFY for our zone (a primary's: REFUSED)",
         header(qid=0x2b11, flags=0x2400, ar=1) + ORIGIN_WIRE + b"\x00\x06\x00\x01" + OPT_RR,
         "REFUSED q opt"),
        ("NOTIFY for a name we do not serve", header(qid=0x2b12, flags=0x2400) + body,
         "NOTAUTH q"),
        ("a response (QR=1)", header(qid=0x2b08, flags=0x8100) + body, "drop"),
    ]
    return check_table(port, table)


# ---------------------------------------------------------------------------
# TCP inputs


def tcp_send(port, data, timeout=h.scaled(1.0)):
    """Send bytes on a new connection; read length-prefixed messages until the server
    closes or nothing more comes within `timeout`. Returns (replies, closed_by_server)."""
    replies = []
    with h.tcp_connect(port, timeout=timeout) as s:
        s.sendall(data)
        deadline = time.monotonic() + timeout
        for _ in range(64):
            left = deadline - time.monotonic()
            if left <= 0:
                return replies, False
            s.settimeout(left)
            try:
                hdr = s.recv(2, socket.MSG_PEEK)
            except socket.timeout:
                return replies, False
            except ConnectionResetError:
                return replies, True
            if not hdr:
                return replies, True
            msg = h.tcp_read_message(s, max(0.05, left))
            if msg is None:
                return replies, True
            replies.append(msg)
        return replies, False


def frame(wire):
    return struct.pack("!H", len(wire)) + wire


def check_stream(port, data, timeout=h.scaled(1.0)):
    """Send `data` on a new connection and judge it by tcp_model: each complete message's
    reply in order (none for a drop), then a close exactly when a bad length came (within
    `timeout`, kept below the idle timeout that closes every connection)."""
    assert timeout < IDLE_TIMEOUT_S
    msgs, closes = tcp_model(data)
    replies, closed = tcp_send(port, data, timeout)
    due = [(m, o) for m, o in msgs if o != "drop"]
    errs = []
    for k, (m, outcome) in enumerate(due):
        reply = replies[k] if k < len(replies) else None
        errs += check_reply(m, reply, outcome, port, tcp=True)
    if len(replies) > len(due):
        errs.append("%d replies, %d due" % (len(replies), len(due)))
    if closed != closes:
        errs.append("connection %s, expected %s (data %s)"
                    % ("closed" if closed else "left open", "closed" if closes else "open",
                       data[:24].hex()))
    return errs


def tcp_garbage(port):
    rnd = h.seeded_random(SEED + 3)
    errs = []
    for _ in range(20):
        data = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 300)))
        errs += check_stream(port, data, timeout=h.scaled(0.5))
    return errs


def tcp_short(port):
    """A length prefix larger than the data: no reply, the server waits for the rest; a
    lone prefix octet: waits; a zero-length message or one of one octet: the stream is
    broken, closed at once without a reply."""
    wire = good_query(qid=0x3c3c).to_wire()
    errs = []
    for data, closes in ((struct.pack("!H", len(wire) + 100) + wire, False),
                         (struct.pack("!H", 65535) + wire, True),
                         (b"\x00", False), (frame(b""), True), (frame(b"\x01"), True),
                         (frame(bytes(11)), True)):
        if tcp_model(data) != ([], closes):
            errs.append("the model says %s for %s" % (tcp_model(data), data[:8].hex()))
        errs += check_stream(port, data, timeout=h.scaled(0.5))
    return errs


def tcp_pipelined_malformed(port):
    """Malformed queries with a sound length, then a good one, on one connection (RFC
    7766 §6.2.1: a client may pipeline): each gets its own reply, the good one last."""
    body = good_query(edns=False).to_wire()[12:]
    junk = [header(qid=0x5d01, qd=2) + body + body,             # FORMERR
            header(qid=0x5d02, qd=0),                           # FORMERR
            header(qid=0x5d03) + b"\xc0\x0c" + QTAIL,           # FORMERR
            header(qid=0x5d04) + body + b"trailing",            # FORMERR q
            header(qid=0x5d05, flags=0x3100) + body,            # opcode 6: NOTIMP q
            header(qid=0x5d06, flags=0x8100) + body]            # a response: dropped
    good = good_query(qid=0x5d5d).to_wire()
    outcomes = [model(j, tcp=True) for j in junk]
    want = ["FORMERR", "FORMERR", "FORMERR", "FORMERR q", "NOTIMP q", "drop"]
    errs = [] if outcomes == want else ["the model says %s" % outcomes]
    return errs + check_stream(port, b"".join(frame(j) for j in junk) + frame(good))


def tcp_pipelined_garbage(port):
    """Random bytes in lengths of 0-100: the messages before the first length below a
    header are answered as the model says, then the server closes (a good query after
    them is answered only if no such length came)."""
    rnd = h.seeded_random(SEED + 4)
    errs = []
    for _ in range(8):
        junk = [bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 100))) for _ in range(5)]
        junk = unique_ids(junk)
        good = good_query(qid=0x5e5e).to_wire()
        errs += check_stream(port, b"".join(frame(j) for j in junk) + frame(good))
    return errs


def tcp_pipelined_good(port):
    """Ten good queries in one write: ten answers, in order (RFC 7766 §7 allows any
    order; ours are all immediate)."""
    wires = [good_query(qid=0x6000 + i).to_wire() for i in range(10)]
    return check_stream(port, b"".join(frame(w) for w in wires))


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


def tcp_many(port, n=50):
    """n connections open at once (well under tcp_max_connections, 512 a worker): each
    one answers a query while all are open, in reverse order of opening, so the first
    ones have waited longest; then all are dropped without a word."""
    conns = []
    errs = []
    try:
        for _ in range(n):
            conns.append(h.tcp_connect(port, timeout=2.0))
        for i, c in reversed(list(enumerate(conns))):
            q = good_query(qid=0x7000 + i).to_wire()
            c.sendall(frame(q))
            reply = h.tcp_read_message(c, 2.0)
            errs += ["connection %d: %s" % (i, e)
                     for e in check_reply(q, reply, "lookup q opt", port, tcp=True)]
    finally:
        for c in conns:
            c.close()
    return errs


def main():
    args = h.parse_args(__doc__.splitlines()[0])
    results = h.Results(args.verbose)
    with h.TempDir(args.keep) as tmp:
        zone = os.path.join(HERE, "example.com.zone")

        def meridian(port):
            nsid = h.new_nsid("meridiand")
            # Floods of bad input from loopback, each expecting its answer: not rate limited.
            conf = h.write_meridian_config(tmp.join("meridian.yaml"), port, [(ORIGIN, zone)],
                                           nsid, tcp_idle_timeout="%ds" % IDLE_TIMEOUT_S,
                                           extra_server=[h.RRL_EXEMPT_LOOPBACK])
            return h.Meridiand(args.meridiand, tmp.path, port, conf, nsid)

        server = h.start_with_free_port(meridian, ORIGIN)
        try:
            port = server.port
            phase = Phase(server, results)
            results.check("before any bad input: UDP and TCP answer", phase.healthy())
            phase.run("udp truncated headers: dropped", lambda: truncated_headers(port))
            phase.run("udp truncated questions: FORMERR", lambda: truncated_questions(port))
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
            phase.run("tcp 50 connections at once, each answering", lambda: tcp_many(port))
            results.check("still the only server on its port",
                          server.check_identity(ORIGIN))
        finally:
            rc = server.stop()
        results.check("clean exit on SIGTERM", [] if rc == 0 else
                      ["exit status %s:\n%s" % (rc, server.log_tail())])
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
