/* SPDX-License-Identifier: MIT */
/* Internals of the dns module: the parsed query and the response writer. */
#ifndef MERIDIAN_DNS_DNS_INTERNAL_H
#define MERIDIAN_DNS_DNS_INTERNAL_H

#include "common/dnswire.h"
#include "dns/dns.h"
#include "dns/dns_cookie.h"
#include "dns/dns_writer.h"

struct dns_query {
    uint16_t id;
    uint16_t flags;
    uint8_t opcode;
    bool question_ok;     /* one question, parsed: it is echoed in the response */
    const uint8_t *qname; /* the name as sent (case preserved) */
    int qname_len;
    uint16_t qtype;
    uint16_t qclass;
    bool edns;
    uint8_t edns_version;
    bool edns_do;
    uint16_t edns_udp_size;
    bool nsid_requested;
    bool ecs;             /* RFC 7871 option present, well-formed, and to be echoed */
    bool ecs_bad;         /* an ECS option was malformed (FORMERR) */
    uint16_t ecs_family;  /* 1 = IPv4, 2 = IPv6 */
    uint8_t ecs_source;   /* SOURCE PREFIX-LENGTH */
    uint8_t ecs_addr[16]; /* ADDRESS, zero-padded */
    size_t tsig_pos;      /* offset of a TSIG record ending the message (RFC 8945), 0 = none */
    /* RFC 7873 COOKIE option: well-formed (cookie) or not (cookie_bad: FORMERR, §5.2.2).
     * cookie_client and cookie_server point into the query message. */
    bool cookie;
    bool cookie_bad;
    const uint8_t *cookie_client; /* 8 octets */
    const uint8_t *cookie_server; /* cookie_server_len octets (8..32), NULL = none sent */
    uint8_t cookie_server_len;
    /* Last, so that the parser clears every field above with one memset and not this one. */
    uint8_t lname[DNAME_MAX_LEN]; /* lowercased */
};

/* Parses and validates a query. Returns -1 to drop it (no header, or QR set), else the rcode
 * to answer with before any lookup: NOERROR, FORMERR (malformed, RFC 1035 §4.1.1), NOTIMP
 * (opcode other than QUERY) or BADVERS. Fields are filled as far as parsing got: `edns` is
 * set whenever a single well-formed OPT was found, so every error reply carries our OPT
 * (RFC 6891 §6.1.1); `question_ok` when there was exactly one question to echo. With
 * ecs_ignore (a listener that ignores RFC 7871) the ECS option is skipped unread. A TSIG
 * record as the last record of the additional section is located (tsig_pos), not read; one
 * anywhere else is FORMERR (RFC 8945 §5.1). */
int dns_parse_query(const uint8_t *pkt, size_t len, bool ecs_ignore, struct dns_query *q);

/* A zone's pre-made negative authority records (dns_negative.c): prefix 0 the SOA at the
 * negative TTL, 1 with its RRSIGs, 2 with the apex's NSEC3 (ce) and the one covering
 * "*.<apex>" (wc, NULL when it is ce), each with their RRSIGs, in a zone that has them. */
struct nsec3_entry;
struct dns_negative {
    struct dns_replay replay;
    const struct nsec3_entry *ce, *wc;
    /* The labels right above the origin (lowercased, length octet first) of MNAME and
     * RNAME when they are below it (dns_negative_conflict). */
    uint8_t above[2][64];
    unsigned above_count;
};

/* Whether the question's lname (len octets, ending in an origin of origin_len octets) has
 * one of n's `above` labels right above the origin: the record path would compress MNAME or
 * RNAME against the question's name there, so n's bytes do not hold for it. */
bool dns_negative_conflict(const struct dns_negative *n, const uint8_t *lname, int len,
                           int origin_len);

#endif
