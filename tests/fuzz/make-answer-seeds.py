#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the ECS seeds of tests/fuzz/corpus_answer (ecs-*.bin): queries for the steered
names of fuzz_answer.c carrying EDNS Client Subnet options (RFC 7871 §6), well-formed and
malformed, so the fuzzer starts inside the steered and ECS paths. Standard library only.
Run from anywhere: ./make-answer-seeds.py"""
import ipaddress
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def qname(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def ecs(prefix, scope=0, family=None, extra=b"", cut=None):
    net = ipaddress.ip_network(prefix)
    fam = family if family is not None else (1 if net.version == 4 else 2)
    nbytes = (net.prefixlen + 7) // 8 if cut is None else cut
    body = struct.pack("!HBB", fam, net.prefixlen, scope) + net.network_address.packed[:nbytes]
    body += extra
    return struct.pack("!HH", 8, len(body)) + body


def query(name, qtype, options=b"", do=False, qid=0x5151):
    header = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1)
    opt = b"\0" + struct.pack("!HHBBHH", 41, 1232, 0, 0, 0x8000 if do else 0, len(options))
    return header + qname(name) + struct.pack("!HH", qtype, 1) + opt + options


NSID = struct.pack("!HH", 3, 0)
A, AAAA, CNAME, MX, ANY = 1, 28, 5, 15, 255
SEEDS = {
    "geo-de": query("geo.example.com", A, ecs("10.2.0.0/24")),
    "geo-jp-aaaa": query("geo.example.com", AAAA, ecs("10.3.0.0/24")),
    "geo-ny-nets": query("GEO.example.com", A, ecs("10.1.2.0/24"), do=True),
    "geo-v6-nets": query("geo.example.com", AAAA, ecs("2001:db8:3::/48")),
    "geo-mx": query("geo.example.com", MX, ecs("10.2.3.4/32")),
    "sticky": query("sticky.example.com", A, ecs("10.3.0.0/20")),
    "sticky-v6": query("sticky.example.com", AAAA, ecs("2001:db8:7:100::/56")),
    "near": query("near.example.com", A, ecs("10.3.0.0/24")),
    "near-aaaa": query("near.example.com", AAAA, ecs("2001:db8:2::/48")),
    "first-src0": query("first.example.com", A, ecs("0.0.0.0/0")),
    "cdn-nsid": query("cdn.example.com", A, NSID + ecs("10.2.0.0/24")),
    "cdn-mapped": query("cdn.example.com", AAAA, ecs("::ffff:10.2.0.0/120")),
    "cdn-cname": query("cdn.example.com", CNAME, ecs("10.3.0.0/16")),
    "cdn-any": query("cdn.example.com", ANY, ecs("10.99.0.0/24")),
    "wild-6to4": query("s.w.example.com", AAAA, ecs("2002:a02::/40")),
    # Malformed on purpose: each is FORMERR (RFC 7871 §6, §7.2.1).
    "bad-scope": query("geo.example.com", A, ecs("10.2.0.0/24", scope=16)),
    "bad-family": query("geo.example.com", A, ecs("10.2.0.0/24", family=3)),
    "bad-length": query("geo.example.com", A, ecs("10.2.0.0/24", cut=4)),
    "two-ecs": query("geo.example.com", A, ecs("10.2.0.0/24") + ecs("10.3.0.0/24")),
}

for name, wire in SEEDS.items():
    with open(os.path.join(HERE, "corpus_answer", "ecs-%s.bin" % name), "wb") as f:
        f.write(wire)


def cookie(data):
    return struct.pack("!HH", 10, len(data)) + data


# DNS cookies (RFC 7873): the client cookie of RFC 9018 A.1, then with its server cookie
# (valid with fuzz_answer's secret at that time only: stale at the fuzzer's clock), a
# cookie-only query without a question (§5.4), and a malformed length (§5.2.2).
CLIENT = bytes.fromhex("2464c4abcf10c957")
COOKIE_SEEDS = {
    "client": query("geo.example.com", A, cookie(CLIENT)),
    "server": query("geo.example.com", A,
                    cookie(CLIENT + bytes.fromhex("010000005cf79f111f8130c3eee29480"))),
    "no-question": struct.pack("!HHHHHH", 0x5151, 0, 0, 0, 0, 1) + b"\0" +
    struct.pack("!HHBBHH", 41, 1232, 0, 0, 0, 12) + cookie(CLIENT),
    "bad-length": query("geo.example.com", A, cookie(CLIENT + b"\1\2\3")),
}
for name, wire in COOKIE_SEEDS.items():
    with open(os.path.join(HERE, "corpus_answer", "cookie-%s.bin" % name), "wb") as f:
        f.write(wire)
