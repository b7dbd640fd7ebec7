/* SPDX-License-Identifier: MIT */
/* Internals of the dns module: the parsed query and the response writer. */
#ifndef MERIDIAN_DNS_DNS_INTERNAL_H
#define MERIDIAN_DNS_DNS_INTERNAL_H

#include "common/dnswire.h"
#include "dns/dns.h"

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

#define DNS_COMPRESS_MAX 96

/* Builds a response in a caller buffer with name compression (RFC 1035 §4.1.4). */
struct dns_writer {
    uint8_t *buf;
    size_t limit; /* bytes usable for sections; room for OPT is reserved below this */
    size_t pos;
    uint16_t count[4]; /* QD, AN, NS, AR */
    int comp_count;
    /* Names (and their suffixes) already in the packet: offset and uncompressed length of
     * the name from there. A candidate is compared byte by byte only when the length
     * matches, which rejects almost every wrong one with one compare. */
    uint16_t comp[DNS_COMPRESS_MAX];
    uint8_t comp_len[DNS_COMPRESS_MAX];
};

enum dns_section { DNS_SECTION_QD = 0, DNS_SECTION_AN, DNS_SECTION_NS, DNS_SECTION_AR };

void dns_writer_init(struct dns_writer *w, uint8_t *buf, size_t limit);
/* Writes the question (12-byte header must already be reserved). 0 or -1 (no room). */
int dns_writer_question(struct dns_writer *w, const uint8_t *qname, uint16_t qtype,
                        uint16_t qclass);
/* Appends every record of `set` with owner `owner` (wire, any case) to `section`; on lack
 * of room nothing of the RRset stays and -1 is returned (RFC 2181 §9: no partial RRsets). */
int dns_writer_rrset(struct dns_writer *w, enum dns_section section, const uint8_t *owner,
                     const struct zone_rrset *set);
/* Appends one record with caller RDATA (names inside compressed as for zone data). 0 or -1. */
int dns_writer_rr(struct dns_writer *w, enum dns_section section, const uint8_t *owner,
                  uint16_t type, uint16_t rclass, uint32_t ttl, const uint8_t *rdata,
                  uint16_t rdlen);
/* A point in the response to go back to: everything written after dns_writer_mark() is
 * dropped by dns_writer_rewind(). */
struct dns_writer_mark {
    size_t pos;
    uint16_t count[4];
    int comp_count;
};
void dns_writer_mark(const struct dns_writer *w, struct dns_writer_mark *m);
void dns_writer_rewind(struct dns_writer *w, const struct dns_writer_mark *m);
/* Writes the counts into the header. */
void dns_writer_finish(struct dns_writer *w);

#endif
