// SPDX-License-Identifier: MIT
/* Query parsing and validation (RFC 1035 §4.1, RFC 6891 §6). Reads the header, the question,
 * steps over any other records, reads the OPT record of the additional section and locates a
 * TSIG record ending it (RFC 8945 §5.1); decides the rcode of anything we will not look up
 * (FORMERR, BADVERS, NOTIMP). Pure: no allocation, runs on any worker thread. */
#include <string.h>

#include "dns/dns_internal.h"

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

/* RFC 7871 §6: FAMILY, SOURCE PREFIX-LENGTH, SCOPE PREFIX-LENGTH, ADDRESS. Returns false when
 * the option is malformed; the caller answers FORMERR. The grounds differ in strength:
 * - unknown FAMILY: §7.2.1 "A query with a wrongly formatted option (e.g., an unknown
 *   FAMILY) MUST be rejected and a FORMERR response MUST be returned";
 * - SOURCE longer than the family's address, or SCOPE not 0 (§6: "In queries, it MUST be set
 *   to 0"): the option is wrongly formatted, the same §7.2.1 MUST;
 * - too few or too many ADDRESS octets, or non-zero bits beyond SOURCE: §6, a SHOULD
 *   ("SHOULD return FORMERR to reject the packet"), which we follow;
 * - a second ECS option: no RFC covers it. Rejecting it is our choice: two subnets leave no
 *   way to tell which one to tailor for and which to echo. */
static bool
parse_ecs(const uint8_t *p, size_t len, struct dns_query *q)
{
    if (q->ecs || len < 4)
        return false;
    uint16_t family = dnswire_get16(p);
    uint8_t source = p[2], scope = p[3];
    size_t max_bits = family == 1 ? 32 : family == 2 ? 128 : 0;
    if (max_bits == 0 || source > max_bits || scope != 0)
        return false;
    size_t bytes = (source + 7u) / 8u;
    if (len - 4 != bytes)
        return false;
    if (bytes && (source % 8) && (p[4 + bytes - 1] & (0xFFu >> (source % 8))))
        return false;
    memset(q->ecs_addr, 0, sizeof(q->ecs_addr));
    memcpy(q->ecs_addr, p + 4, bytes);
    q->ecs = true;
    q->ecs_family = family;
    q->ecs_source = source;
    return true;
}

/* RFC 7873 §4: an 8-octet client cookie, optionally followed by a server cookie of 8 to 32
 * octets. §5.2.2: any other length is malformed (FORMERR); so is a second COOKIE option,
 * which no RFC allows and which would leave two cookies to answer. */
static bool
parse_cookie(const uint8_t *p, size_t len, struct dns_query *q)
{
    if (q->cookie || len < DNS_COOKIE_CLIENT_LEN ||
        (len > DNS_COOKIE_CLIENT_LEN && len < DNS_COOKIE_CLIENT_LEN + 8) ||
        len > DNS_COOKIE_CLIENT_LEN + DNS_COOKIE_SERVER_MAX)
        return false;
    q->cookie = true;
    q->cookie_client = p;
    if (len > DNS_COOKIE_CLIENT_LEN) {
        q->cookie_server = p + DNS_COOKIE_CLIENT_LEN;
        q->cookie_server_len = (uint8_t)(len - DNS_COOKIE_CLIENT_LEN);
    }
    return true;
}

/* RFC 6891 §6.1: the OPT pseudo-record at `pos` (its owner took `name_len` octets). A
 * second OPT, an owner other than the root (§6.1.2: "MUST be 0") or options that overrun
 * the RDATA make the OPT unusable: FORMERR, answered without OPT as knotd does, since none
 * of its fields can be trusted (RFC 6891 §7: FORMERR for more than one OPT). A malformed
 * ECS option leaves the OPT itself sound: it is only noted in q->ecs_bad. Returns 0 or an
 * rcode. */
static int
parse_opt(const uint8_t *pkt, size_t len, size_t pos, size_t name_len, bool ecs_ignore,
          struct dns_query *q)
{
    if (q->edns || name_len != 1) {
        q->edns = false;
        return DNS_RCODE_FORMERR;
    }
    size_t rdlen = dnswire_get16(pkt + pos + 8);
    size_t opt = pos + 10, end = opt + rdlen;
    if (end > len)
        return DNS_RCODE_FORMERR;
    for (size_t o = opt; o < end;) {
        if (o + 4 > end || o + 4 + dnswire_get16(pkt + o + 2) > end)
            return DNS_RCODE_FORMERR;
        o += 4u + dnswire_get16(pkt + o + 2);
    }
    q->edns = true;
    q->edns_udp_size = dnswire_get16(pkt + pos + 2);
    q->edns_version = pkt[pos + 5];
    q->edns_do = (pkt[pos + 6] & 0x80) != 0;
    while (opt < end) {
        uint16_t code = dnswire_get16(pkt + opt), olen = dnswire_get16(pkt + opt + 2);
        if (code == DNS_OPT_NSID)
            q->nsid_requested = true; /* RFC 5001 §2.1: the query's payload is ignored */
        /* A listener that ignores ECS treats the option as any unknown option (RFC 6891
         * §6.1.2: ignored), malformed or not: it is not its business to judge it. */
        if (code == DNS_OPT_ECS && !ecs_ignore && !parse_ecs(pkt + opt + 4, olen, q))
            q->ecs_bad = true;
        if (code == DNS_OPT_COOKIE && !parse_cookie(pkt + opt + 4, olen, q))
            q->cookie_bad = true;
        opt += 4u + olen;
    }
    return 0;
}

/* Steps over one resource record (owner, fixed fields, RDATA) at `pos`; returns the offset
 * after it, or -1 when it runs past the message. `fixed` gets the offset of its TYPE field. */
static long
skip_rr(const uint8_t *pkt, size_t len, size_t pos, size_t *fixed)
{
    long name_end = skip_name(pkt, len, pos);
    if (name_end < 0 || (size_t)name_end + 10 > len)
        return -1;
    size_t rr = (size_t)name_end;
    *fixed = rr;
    size_t end = rr + 10 + dnswire_get16(pkt + rr + 8);
    return end <= len ? (long)end : -1;
}

/* The first question: validated and lowercased for the lookup (RFC 1035 §4.1.2). Returns
 * the offset after it or -1. */
static long
parse_question(const uint8_t *pkt, size_t len, struct dns_query *q)
{
    int qlen = lower_qname(pkt + DNS_HEADER_LEN, len - DNS_HEADER_LEN, q->lname);
    if (qlen < 0 || DNS_HEADER_LEN + (size_t)qlen + 4 > len)
        return -1;
    q->qname = pkt + DNS_HEADER_LEN;
    q->qname_len = qlen;
    size_t pos = DNS_HEADER_LEN + (size_t)qlen;
    q->qtype = dnswire_get16(pkt + pos);
    q->qclass = dnswire_get16(pkt + pos + 2);
    return (long)(pos + 4);
}

/* Reads the whole message, so that the OPT record is found whatever else is wrong: RFC 6891
 * §6.1.1 "If an OPT record is present in a received request, compliant responders MUST
 * include an OPT record in their respective responses", NOTIMP and FORMERR included.
 * Only a message whose records cannot be delimited is answered without it. The rcode
 * follows knotd's order: FORMERR for a message that does not parse, then BADVERS, NOTIMP,
 * the question count, a malformed ECS option. */
int
dns_parse_query(const uint8_t *pkt, size_t len, bool ecs_ignore, struct dns_query *q)
{
    memset(q, 0, offsetof(struct dns_query, lname));
    if (len < DNS_HEADER_LEN)
        return -1;
    q->id = dnswire_get16(pkt);
    q->flags = dnswire_get16(pkt + 2);
    if (q->flags & DNS_FLAG_QR)
        return -1; /* never answer a response: that is how reflection loops start */
    q->opcode = (uint8_t)((q->flags >> 11) & 0xF);
    uint16_t qdcount = dnswire_get16(pkt + 4), ancount = dnswire_get16(pkt + 6),
             nscount = dnswire_get16(pkt + 8), arcount = dnswire_get16(pkt + 10);

    size_t pos = DNS_HEADER_LEN;
    if (qdcount > 0) {
        long end = parse_question(pkt, len, q);
        if (end < 0)
            return DNS_RCODE_FORMERR;
        pos = (size_t)end;
        /* One question is echoed; of several, none (which one would the rcode be for?). */
        q->question_ok = qdcount == 1;
    }
    /* Further questions and any answer or authority records are stepped over to reach the
     * OPT. They carry nothing for us: RFC 1035 gives a QUERY's answer and authority sections
     * no meaning, and knotd ignores them too. */
    for (uint32_t i = 1; i < qdcount; i++) {
        long name_end = skip_name(pkt, len, pos);
        if (name_end < 0 || (size_t)name_end + 4 > len)
            return DNS_RCODE_FORMERR;
        pos = (size_t)name_end + 4;
    }
    size_t rr;
    for (uint32_t i = 0; i < (uint32_t)ancount + nscount; i++) {
        long end = skip_rr(pkt, len, pos, &rr);
        /* RFC 8945 §5.1: a TSIG anywhere but last in the additional section is FORMERR. */
        if (end < 0 || dnswire_get16(pkt + rr) == DNS_TYPE_TSIG)
            return DNS_RCODE_FORMERR;
        pos = (size_t)end;
    }
    for (uint16_t i = 0; i < arcount; i++) {
        long end = skip_rr(pkt, len, pos, &rr);
        if (end < 0) {
            q->edns = false; /* records cannot be delimited: no OPT we could trust */
            return DNS_RCODE_FORMERR;
        }
        uint16_t type = dnswire_get16(pkt + rr);
        if (type == DNS_TYPE_OPT) {
            int rc = parse_opt(pkt, len, rr, rr - pos, ecs_ignore, q);
            if (rc)
                return rc;
        } else if (type == DNS_TYPE_TSIG) {
            if (i + 1 != arcount)
                return DNS_RCODE_FORMERR; /* RFC 8945 §5.1: the TSIG must be last */
            q->tsig_pos = pos;            /* checked by dns_answer (tsig_request_verify) */
        }
        /* Other additional records are ignored. */
        pos = (size_t)end;
    }
    /* Trailing bytes after the last record: FORMERR. The OPT was read whole, so it is
     * answered (knotd rejects the message before looking at its OPT and omits it). */
    int rc = DNS_RCODE_NOERROR;
    if (pos != len)
        rc = DNS_RCODE_FORMERR;
    else if (q->edns && q->edns_version > 0)
        rc = DNS_RCODE_BADVERS; /* RFC 6891 §6.1.3, checked before the opcode as knotd does */
    else if (q->opcode != DNS_OPCODE_QUERY && q->opcode != DNS_OPCODE_NOTIFY)
        rc = DNS_RCODE_NOTIMP; /* QUERY, and NOTIFY (answered in dns_answer); no UPDATE */
    else if (q->cookie_bad)
        rc = DNS_RCODE_FORMERR; /* RFC 7873 §5.2.2: a malformed COOKIE option */
    else if (qdcount == 0 && q->cookie && q->opcode == DNS_OPCODE_QUERY)
        /* RFC 7873 §5.4: a query with no question and a COOKIE asks for a server cookie;
         * answered by dns_answer with one. */
        rc = DNS_RCODE_NOERROR;
    else if (qdcount != 1)
        /* RFC 9619 §4: QDCOUNT > 1 in a QUERY "MUST be treated as an incorrectly formatted
         * message" (FORMERR; knotd 3.2 predates it and drops). QDCOUNT 0 is not covered:
         * §4 even forbids middleboxes to call it malformed (DNS COOKIE queries, RFC 7873
         * §5.4, have none: above). Without a cookie we have no question to answer: FORMERR, RFC
         * 1035 §4.1.1 "unable to interpret the query", as knotd answers. */
        rc = DNS_RCODE_FORMERR;
    else if (q->ecs_bad)
        rc = DNS_RCODE_FORMERR; /* see parse_ecs() for the RFC grounds of each case */
    if (pos != len)
        q->tsig_pos = 0; /* bytes after the TSIG that it does not cover */
    /* ECS is echoed only in an answer to the query (RFC 7871 §7.2.1); a message rejected here
     * was not answered for any subnet. */
    if (rc != DNS_RCODE_NOERROR)
        q->ecs = false;
    return rc;
}
