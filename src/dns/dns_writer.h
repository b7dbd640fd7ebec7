/* SPDX-License-Identifier: MIT */
/* The response writer (dns_writer.c): builds a DNS message in a caller buffer with name
 * compression (RFC 1035 §4.1.4), whole RRsets or single records, with marks to take back what
 * was written. Used by dns_answer() and by the zone transfer streams (xfr/), which fill many
 * messages the same way. No allocation; any thread, one writer per message. */
#ifndef MERIDIAN_DNS_DNS_WRITER_H
#define MERIDIAN_DNS_DNS_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "common/dnswire.h"
#include "zone/zone.h"

#define DNS_COMPRESS_MAX 96

/* Builds a response in a caller buffer with name compression (RFC 1035 §4.1.4). */
struct dns_writer {
    uint8_t *buf;
    size_t limit; /* bytes usable for sections; room for OPT is reserved below this */
    size_t pos;
    uint16_t count[4]; /* QD, AN, NS, AR */
    int comp_count;
    /* Names (and their suffixes) already in the packet: offset, and a key of the name from
     * there: its uncompressed length and an 8-bit hash of its lowercased bytes. A candidate
     * is compared byte by byte only when the key matches, which rejects almost every wrong
     * one with one compare, also when all the names have the same length (a zone transfer's
     * h0000001.example. h0000002.example. ...). */
    uint16_t comp[DNS_COMPRESS_MAX];
    uint16_t comp_key[DNS_COMPRESS_MAX];
    /* The question's entries (the first keys_pending of comp) have no key yet: it is only
     * computed when a later name is searched for, which most answers never do (their only
     * other name repeats the question and takes the shortcut in put_name). */
    int keys_pending;
    size_t qname_len; /* wire length of the question's name at DNS_HEADER_LEN, 0 if none */
    size_t last_owner; /* where the last RRset written put its first owner name */
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
/* The same, with `owner` already written at offset owner_at (w->last_owner after the RRset a
 * set of RRSIGs covers): every owner is written as that one, with no compression search.
 * owner_at SIZE_MAX: as dns_writer_rrset. */
int dns_writer_rrset_after(struct dns_writer *w, enum dns_section section, const uint8_t *owner,
                           const struct zone_rrset *set, size_t owner_at);
/* The same, with everything of `owner` after its first label already written at offset
 * suffix_at (the zone's origin in the question): each owner is written as that label and a
 * pointer, with no compression search (a hashed NSEC3 owner, RFC 5155 §3). suffix_at
 * SIZE_MAX: as dns_writer_rrset. */
int dns_writer_rrset_below(struct dns_writer *w, enum dns_section section, const uint8_t *owner,
                           const struct zone_rrset *set, size_t suffix_at);
/* Appends records already in response form (struct nsec3_chain.wire): the first owner is
 * one label and a 2-byte pointer, set here to suffix_at; every later record's owner is a
 * 2-byte pointer, set to the first owner. One copy, no compression search. 0, -1 (no room:
 * nothing written), or 1 when a pointer could not reach (beyond 14 bits) or suffix_at is
 * the root: nothing written, write the records with dns_writer_rrset_below instead. */
int dns_writer_wire_below(struct dns_writer *w, enum dns_section section, const uint8_t *wire,
                          size_t len, size_t suffix_at);
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
/* Later names are not compressed against any name written so far (the zone transfer's
 * messages keep the zone's case rather than the question's, RFC 4343). */
void dns_writer_forget_names(struct dns_writer *w);
void dns_writer_rewind(struct dns_writer *w, const struct dns_writer_mark *m);
/* Writes the counts into the header. */
void dns_writer_finish(struct dns_writer *w);

#endif
