#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpus of fuzz_xfr_in (corpus_xfr_in/): transfer response streams for
example.com as fuzz_xfr_in.c reads them: one byte (0 AXFR, 1 IXFR from serial 1), then
messages with 2-octet length prefixes. Needs dnspython; run from this folder."""

import os
import struct

import dns.flags
import dns.message
import dns.name
import dns.rrset

ID = 0x1234
ORIGIN = dns.name.from_text("example.com.")


def msg(qtype, rrs):
    m = dns.message.Message(id=ID)
    m.flags = dns.flags.QR | dns.flags.AA
    m.question.append(dns.rrset.RRset(ORIGIN, 1, qtype))
    for r in rrs:
        m.answer.append(dns.rrset.from_text(*r))
    return m.to_wire()


def soa(serial):
    return ("example.com.", 300, "IN", "SOA",
            "ns1.example.com. host.example.com. %d 7200 3600 1209600 300" % serial)


NS = ("example.com.", 300, "IN", "NS", "ns1.example.com.")
NS1 = ("ns1.example.com.", 300, "IN", "A", "192.0.2.1")
WWW = ("www.example.com.", 300, "IN", "A", "192.0.2.80")
WWW2 = ("www.example.com.", 300, "IN", "A", "192.0.2.81")
SVC = ("svc.example.com.", 300, "IN", "HTTPS", '1 . alpn="h2"')
AXFR, IXFR = 252, 251


def stream(kind, msgs):
    return bytes([kind]) + b"".join(struct.pack("!H", len(m)) + m for m in msgs)


SEEDS = {
    "axfr-one.bin": stream(0, [msg(AXFR, [soa(2), NS, NS1, WWW, SVC, soa(2)])]),
    "axfr-two.bin": stream(0, [msg(AXFR, [soa(2), NS]), msg(AXFR, [NS1, WWW, soa(2)])]),
    # Serial 1 -> 2 adds www, 2 -> 3 replaces its address.
    "ixfr-steps.bin": stream(1, [msg(IXFR, [soa(3), soa(1), soa(2), WWW, soa(2), WWW,
                                            soa(3), WWW2, soa(3)])]),
    "ixfr-uptodate.bin": stream(1, [msg(IXFR, [soa(1)])]),
    "ixfr-full.bin": stream(1, [msg(IXFR, [soa(2), NS, NS1, soa(2)])]),
}

if __name__ == "__main__":
    os.makedirs("corpus_xfr_in", exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join("corpus_xfr_in", name), "wb") as f:
            f.write(data)
