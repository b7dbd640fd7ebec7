/* SPDX-License-Identifier: MIT */
/* The DNS wire vocabulary every module shares: RR types, classes, rcodes, opcodes and header
 * bits with their names, byte cursors, header accessors, a query builder and the reading of
 * replies (question check, RR walk, RDATA compare and render) for the probes and tools that
 * ask other servers. The cursors and constants are static inline or enums here because the
 * answer path uses them; the rest (dnswire.c) runs off that path. Pure functions on caller
 * memory: no allocation, any thread. Depends on nothing in the project but dname. */
#ifndef MERIDIAN_COMMON_DNSWIRE_H
#define MERIDIAN_COMMON_DNSWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dname.h"

#define DNS_HEADER_LEN 12
/* A query with one question and no additional records. */
#define DNSWIRE_QUERY_MAX (DNS_HEADER_LEN + DNAME_MAX_LEN + 4)
/* "TYPE65535" (RFC 3597 §5) or "RCODE4095" and a NUL. */
#define DNSWIRE_TYPE_TEXT_MAX 16

/* RR types (IANA "Resource Record (RR) TYPEs"; RFC 1035 §3.2.2, RFC 3596 AAAA, RFC 2782 SRV,
 * RFC 6672 DNAME, RFC 6891 OPT, RFC 4034 DS/RRSIG/NSEC/DNSKEY, RFC 5155 NSEC3/NSEC3PARAM,
 * RFC 7344 CDS/CDNSKEY, RFC 9460 SVCB/HTTPS, RFC 8659 CAA)
 * and QTYPEs (RFC 1035 §3.2.3, RFC 2930 TKEY, RFC 8945 TSIG, RFC 1995 IXFR). */
enum dns_type {
    DNS_TYPE_A = 1,
    DNS_TYPE_NS = 2,
    DNS_TYPE_CNAME = 5,
    DNS_TYPE_SOA = 6,
    DNS_TYPE_PTR = 12,
    DNS_TYPE_MX = 15,
    DNS_TYPE_TXT = 16,
    DNS_TYPE_AAAA = 28,
    DNS_TYPE_SRV = 33,
    DNS_TYPE_DNAME = 39,
    DNS_TYPE_OPT = 41,
    DNS_TYPE_DS = 43,
    DNS_TYPE_RRSIG = 46,
    DNS_TYPE_NSEC = 47,
    DNS_TYPE_DNSKEY = 48,
    DNS_TYPE_NSEC3 = 50,
    DNS_TYPE_NSEC3PARAM = 51,
    DNS_TYPE_CDS = 59,
    DNS_TYPE_CDNSKEY = 60,
    DNS_TYPE_SVCB = 64,
    DNS_TYPE_HTTPS = 65,
    DNS_TYPE_TKEY = 249,
    DNS_TYPE_TSIG = 250,
    DNS_TYPE_IXFR = 251,
    DNS_TYPE_AXFR = 252,
    DNS_TYPE_MAILB = 253,
    DNS_TYPE_MAILA = 254,
    DNS_TYPE_ANY = 255,
    DNS_TYPE_CAA = 257,
};

/* RFC 1035 §3.2.4; CH for the RFC 4892 server identity names. */
enum dns_class { DNS_CLASS_IN = 1, DNS_CLASS_CH = 3 };

/* RFC 1035 §4.1.1 (0-5), RFC 2136 §2.2 (6-10, YXDOMAIN also RFC 6672 §2.2), RFC 6891 §6.1.3
 * (BADVERS, an extended rcode: its high bits travel in the OPT TTL), RFC 7873 §8 (BADCOOKIE,
 * extended too). */
enum dns_rcode {
    DNS_RCODE_NOERROR = 0,
    DNS_RCODE_FORMERR = 1,
    DNS_RCODE_SERVFAIL = 2,
    DNS_RCODE_NXDOMAIN = 3,
    DNS_RCODE_NOTIMP = 4,
    DNS_RCODE_REFUSED = 5,
    DNS_RCODE_YXDOMAIN = 6,
    DNS_RCODE_YXRRSET = 7,
    DNS_RCODE_NXRRSET = 8,
    DNS_RCODE_NOTAUTH = 9,
    DNS_RCODE_NOTZONE = 10,
    DNS_RCODE_BADVERS = 16,
    DNS_RCODE_BADCOOKIE = 23,
};

/* RFC 1035 §4.1.1, RFC 1996 §3.1 (NOTIFY); the others (IQUERY, STATUS, UPDATE, ...) we
 * answer with NOTIMP. */
enum dns_opcode { DNS_OPCODE_QUERY = 0, DNS_OPCODE_NOTIFY = 4 };

/* EDNS option codes (RFC 5001 NSID, RFC 7871 ECS, RFC 7873 COOKIE, RFC 8914 Extended DNS
 * Error). */
enum { DNS_OPT_NSID = 3, DNS_OPT_ECS = 8, DNS_OPT_COOKIE = 10, DNS_OPT_EDE = 15 };

/* Extended DNS Error INFO-CODEs we send (RFC 8914 §4.19, §4.21). */
enum { DNS_EDE_PROHIBITED = 18, DNS_EDE_NOT_AUTHORITATIVE = 20 };

/* Header flag bits in the 16-bit flags word (RFC 1035 §4.1.1, RFC 4035 §3.2). */
enum {
    DNS_FLAG_QR = 0x8000,
    DNS_FLAG_AA = 0x0400,
    DNS_FLAG_TC = 0x0200,
    DNS_FLAG_RD = 0x0100,
    DNS_FLAG_CD = 0x0010,
};

/* Header field offsets (RFC 1035 §4.1.1). */
enum {
    DNS_OFF_ID = 0,
    DNS_OFF_FLAGS = 2,
    DNS_OFF_QDCOUNT = 4,
    DNS_OFF_ANCOUNT = 6,
    DNS_OFF_NSCOUNT = 8,
    DNS_OFF_ARCOUNT = 10,
};

/* RFC 1982 §3.2 serial number arithmetic (SOA serials): a precedes b when the distance
 * forward from a to b is below 2^31. */
static inline bool
dnswire_serial_before(uint32_t a, uint32_t b)
{
    return a != b && (uint32_t)(b - a) < 0x80000000u;
}

/* Byte cursors: network order, no alignment needed. */
static inline uint16_t
dnswire_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
dnswire_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
dnswire_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void
dnswire_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Header accessors; `msg` has at least DNS_HEADER_LEN bytes. */
static inline uint16_t
dnswire_id(const uint8_t *msg)
{
    return dnswire_get16(msg + DNS_OFF_ID);
}

static inline uint16_t
dnswire_flags(const uint8_t *msg)
{
    return dnswire_get16(msg + DNS_OFF_FLAGS);
}

static inline unsigned
dnswire_opcode(const uint8_t *msg)
{
    return (msg[2] >> 3) & 0x0F;
}

/* The header's 4 rcode bits (an extended rcode's high bits are in the OPT record). */
static inline unsigned
dnswire_rcode(const uint8_t *msg)
{
    return msg[3] & 0x0F;
}

static inline uint16_t
dnswire_count(const uint8_t *msg, unsigned offset)
{
    return dnswire_get16(msg + offset);
}

/* Mnemonic of an RR type operators may type (checks, canaries, `meridiand -q`), or NULL. */
const char *dnswire_type_name(uint16_t type);

/* The mnemonic, or "TYPEnnn" (RFC 3597 §5) into buf. */
const char *dnswire_type_text(uint16_t type, char buf[DNSWIRE_TYPE_TEXT_MAX]);

/* A type from its mnemonic (case-insensitive), accepted only if it is one of `allowed`
 * (count entries; NULL = every mnemonic known), or with `numeric` from "TYPEnnn" (RFC 3597
 * §5, decimal digits only, 1..65535). Returns the type or -1. */
int dnswire_type_from_text(const char *text, const uint16_t *allowed, size_t count, bool numeric);

/* "A, AAAA or TXT" (the mnemonics of `types`, NULL = all known, then "or TYPEnnn (1..65535)"
 * with numeric) for error messages, into buf. */
void dnswire_type_list(const uint16_t *types, size_t count, bool numeric, char *buf, size_t size);

/* Mnemonic of a 4-bit rcode (0-10), or NULL. */
const char *dnswire_rcode_name(unsigned rcode);

/* The mnemonic, or "RCODEnnn" into buf. */
const char *dnswire_rcode_text(unsigned rcode, char buf[DNSWIRE_TYPE_TEXT_MAX]);

/* The rcode in 0..max named `text` (case-insensitive), or -1. */
int dnswire_rcode_from_text(const char *text, unsigned max);

/* Writes a query: header with `id` and `flags` (opcode QUERY), QDCOUNT 1, the question
 * qname/qtype/qclass (RFC 1035 §4.1.1-2). `qname` is a valid wire name of qname_len bytes;
 * buf has room for DNSWIRE_QUERY_MAX. Returns the length. */
size_t dnswire_query(uint8_t *buf, uint16_t id, uint16_t flags, const uint8_t *qname,
                     size_t qname_len, uint16_t qtype, uint16_t qclass);

/* RFC 5452 §9.1: is `msg` the reply to our query with `id` for qname/qtype, class IN (QR
 * set, opcode QUERY, exactly one question, equal names ignoring case: RFC 4343)? If so *pos
 * is set past the question. */
bool dnswire_reply_matches(const uint8_t *msg, size_t len, uint16_t id, const uint8_t *qname,
                           uint16_t qtype, size_t *pos);

/* One resource record of a message (RFC 1035 §4.1.3). */
struct dnswire_rr {
    uint8_t owner[DNAME_MAX_LEN]; /* uncompressed */
    uint16_t type;
    uint16_t rclass;
    uint32_t ttl;
    uint16_t rdlen;
    size_t rdpos; /* RDATA at msg[rdpos], rdlen bytes, inside the message */
};

/* Reads the record at *pos and moves *pos past it. 0, or -1 if it is malformed or runs past
 * the message. */
int dnswire_rr_read(const uint8_t *msg, size_t len, size_t *pos, struct dnswire_rr *rr)
    __attribute__((warn_unused_result));

/* Does the RDATA of an RR of `type` render to `expect`? A/AAAA compared as addresses,
 * NS/CNAME/PTR/DNAME as names (case-insensitive, RFC 4343; final dot optional), MX as
 * "PREF NAME", TXT as its character-strings joined (RFC 1035 §3.3.14). Other types never
 * match; neither does text that is not of the type's form. Names may be compressed with
 * pointers anywhere before, but must end inside the RDATA. */
bool dnswire_rdata_matches(const uint8_t *msg, size_t len, const struct dnswire_rr *rr,
                           const char *expect);

/* Renders RDATA for display: A/AAAA addresses, NS/CNAME/PTR/DNAME names, otherwise
 * "(N bytes)". */
void dnswire_rdata_text(const uint8_t *msg, size_t len, const struct dnswire_rr *rr, char *out,
                        size_t size);

#endif
