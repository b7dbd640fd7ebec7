// SPDX-License-Identifier: MIT
/* Query parsing and validation (RFC 1035 §4.1, RFC 6891 §6). Reads the header, the single
 * question and the additional section (only an OPT record is expected there); anything
 * malformed maps to FORMERR. Pure: no allocation, runs on any worker thread. */
#include <string.h>

#include "dns/dns_internal.h"

static inline uint16_t
get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Validates the question name (uncompressed: RFC 1035 §4.1.4 pointers can only point back,
 * and nothing precedes it) and copies it lowercased in the same pass. Returns its length or
 * -1. */
static int
lower_qname(const uint8_t *wire, size_t max, uint8_t *out)
{
    size_t pos = 0;
    for (;;) {
        if (pos >= max)
            return -1;
        uint8_t len = wire[pos];
        if (len & 0xC0)
            return -1;
        if (pos + 1u + len > DNAME_MAX_LEN || pos + 1u + len > max)
            return -1;
        out[pos] = len;
        for (size_t i = pos + 1; i <= pos + len; i++) {
            uint8_t c = wire[i];
            out[i] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
        }
        pos += 1u + len;
        if (len == 0)
            return (int)pos;
    }
}

/* Skips a possibly compressed name in an additional record; returns the offset after it
 * or -1. Only the owner of OPT is read here and it must be the root anyway. */
static long
skip_name(const uint8_t *pkt, size_t len, size_t pos)
{
    for (int labels = 0; labels < DNAME_MAX_LABELS; labels++) {
        if (pos >= len)
            return -1;
        uint8_t l = pkt[pos];
        if ((l & 0xC0) == 0xC0)
            return pos + 2 <= len ? (long)(pos + 2) : -1;
        if (l & 0xC0)
            return -1;
        pos += 1u + l;
        if (l == 0)
            return (long)pos;
    }
    return -1;
}

/* RFC 7871 §6: FAMILY, SOURCE PREFIX-LENGTH, SCOPE PREFIX-LENGTH, ADDRESS. Anything off is
 * FORMERR (§7.2.1): unknown family, prefix too long, SCOPE not 0 in a query, ADDRESS not
 * exactly the prefix's bytes, or non-zero bits past the prefix. */
static int
parse_ecs(const uint8_t *p, size_t len, struct dns_query *q)
{
    if (q->ecs || len < 4)
        return DNS_RCODE_FORMERR;
    uint16_t family = get16(p);
    uint8_t source = p[2], scope = p[3];
    size_t max_bits = family == 1 ? 32 : family == 2 ? 128 : 0;
    if (max_bits == 0 || source > max_bits || scope != 0)
        return DNS_RCODE_FORMERR;
    size_t bytes = (source + 7u) / 8u;
    if (len - 4 != bytes)
        return DNS_RCODE_FORMERR;
    if (bytes && (source % 8) && (p[4 + bytes - 1] & (0xFFu >> (source % 8))))
        return DNS_RCODE_FORMERR;
    memset(q->ecs_addr, 0, sizeof(q->ecs_addr));
    memcpy(q->ecs_addr, p + 4, bytes);
    q->ecs = true;
    q->ecs_family = family;
    q->ecs_source = source;
    return 0;
}

/* RFC 6891 §6.1: the OPT pseudo-record. Returns 0 or an rcode. */
static int
parse_opt(const uint8_t *pkt, size_t len, size_t pos, size_t name_len, bool ecs_ignore,
          struct dns_query *q)
{
    if (q->edns)
        return DNS_RCODE_FORMERR; /* §6.1.1: more than one OPT */
    if (name_len != 1)
        return DNS_RCODE_FORMERR; /* owner must be the root */
    q->edns = true;
    q->edns_udp_size = get16(pkt + pos + 2);
    q->edns_version = pkt[pos + 5];
    q->edns_do = (pkt[pos + 6] & 0x80) != 0;
    size_t rdlen = get16(pkt + pos + 8);
    size_t opt = pos + 10, end = opt + rdlen;
    if (end > len)
        return DNS_RCODE_FORMERR;
    while (opt < end) {
        if (opt + 4 > end)
            return DNS_RCODE_FORMERR;
        uint16_t code = get16(pkt + opt), olen = get16(pkt + opt + 2);
        if (opt + 4 + olen > end)
            return DNS_RCODE_FORMERR;
        if (code == DNS_OPT_NSID)
            q->nsid_requested = true; /* RFC 5001 §2.1: the query's payload is ignored */
        /* A listener that ignores ECS treats the option as any unknown option (RFC 6891
         * §6.1.2: ignored), malformed or not: it is not its business to judge it. */
        if (code == DNS_OPT_ECS && !ecs_ignore) {
            int rc = parse_ecs(pkt + opt + 4, olen, q);
            if (rc)
                return rc;
        }
        opt += 4u + olen;
    }
    return 0;
}

int
dns_parse_query(const uint8_t *pkt, size_t len, bool ecs_ignore, struct dns_query *q)
{
    memset(q, 0, offsetof(struct dns_query, lname));
    q->edns = false;
    q->nsid_requested = false;
    q->ecs = false;
    if (len < DNS_HEADER_LEN)
        return -1;
    q->id = get16(pkt);
    q->flags = get16(pkt + 2);
    if (q->flags & DNS_FLAG_QR)
        return -1; /* never answer a response: that is how reflection loops start */
    q->opcode = (uint8_t)((q->flags >> 11) & 0xF);
    uint16_t qdcount = get16(pkt + 4), ancount = get16(pkt + 6), nscount = get16(pkt + 8),
             arcount = get16(pkt + 10);
    if (qdcount != 1)
        return q->opcode != 0 ? DNS_RCODE_NOTIMP : DNS_RCODE_FORMERR;

    int qlen = lower_qname(pkt + DNS_HEADER_LEN, len - DNS_HEADER_LEN, q->lname);
    if (qlen < 0 || DNS_HEADER_LEN + (size_t)qlen + 4 > len)
        return DNS_RCODE_FORMERR;
    q->qname = pkt + DNS_HEADER_LEN;
    q->qname_len = qlen;
    size_t pos = DNS_HEADER_LEN + (size_t)qlen;
    q->qtype = get16(pkt + pos);
    q->qclass = get16(pkt + pos + 2);
    pos += 4;
    q->question_ok = true;

    if (q->opcode != 0)
        return DNS_RCODE_NOTIMP; /* only QUERY; NOTIFY/UPDATE need a secondary/primary role */
    if (ancount != 0 || nscount != 0)
        return DNS_RCODE_FORMERR; /* a query carries no answer or authority records */

    for (uint16_t i = 0; i < arcount; i++) {
        long name_end = skip_name(pkt, len, pos);
        if (name_end < 0 || (size_t)name_end + 10 > len)
            return DNS_RCODE_FORMERR;
        size_t rr = (size_t)name_end;
        uint16_t type = get16(pkt + rr);
        size_t rdlen = get16(pkt + rr + 8);
        if (rr + 10 + rdlen > len)
            return DNS_RCODE_FORMERR;
        if (type == DNS_TYPE_OPT) {
            int rc = parse_opt(pkt, len, rr, rr - pos, ecs_ignore, q);
            if (rc)
                return rc;
        }
        /* Other additional records (e.g. a TSIG we have no key for) are ignored. */
        pos = rr + 10 + rdlen;
    }
    if (pos != len)
        return DNS_RCODE_FORMERR; /* trailing garbage */
    if (q->edns && q->edns_version > 0)
        return DNS_RCODE_BADVERS; /* RFC 6891 §6.1.3 */
    return DNS_RCODE_NOERROR;
}
