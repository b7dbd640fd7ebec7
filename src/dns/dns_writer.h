/* SPDX-License-Identifier: MIT */
/* The response writer (dns_writer.c): builds a DNS message in a caller buffer with name
 * compression (RFC 1035 §4.1.4), whole RRsets or single records, with marks to take back what
 * was written. Used by dns_answer() and by the zone transfer streams (xfr/), which fill many
 * messages the same way. No allocation; any thread, one writer per message. */
#ifndef MERIDIAN_DNS_DNS_WRITER_H
#define MERIDIAN_DNS_DNS_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "common/alloc.h"
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
/* Records written once after a question whose name was a zone's origin, kept as bytes to be
 * written again after any question that ends in that origin (dns_writer_replay): the
 * negative answer's fixed authority records (dns_negative.c). Each compression pointer in
 * them (RFC 1035 §4.1.4) is noted with what it points to, the origin's labels in the
 * question or a name inside the run; the names the run added as compression targets are
 * noted too, so the writer ends in the state the record path leaves. A run has up to
 * DNS_REPLAY_LEVELS nested prefixes (len[i] <= len[i + 1]; 0: that prefix was not made). */
#define DNS_REPLAY_LEVELS 3
#define DNS_REPLAY_PATCHES 48
#define DNS_REPLAY_NAMES 16
struct dns_replay {
    const uint8_t *wire;
    uint16_t len[DNS_REPLAY_LEVELS];
    uint16_t records[DNS_REPLAY_LEVELS];    /* records in each prefix */
    uint16_t last_owner[DNS_REPLAY_LEVELS]; /* dns_writer.last_owner after it, from wire */
    uint8_t patches[DNS_REPLAY_LEVELS];     /* pointers inside each prefix */
    uint8_t names;
    uint16_t patch_at[DNS_REPLAY_PATCHES]; /* where the pointer is, from wire */
    /* what it points to: bit 15 set, the origin's offset + the low bits; else wire + them */
    uint16_t patch_to[DNS_REPLAY_PATCHES];
    uint16_t name_at[DNS_REPLAY_NAMES], name_key[DNS_REPLAY_NAMES]; /* dns_writer.comp */
};

/* Captures what w wrote from `start` (right after a question for the origin, at
 * DNS_HEADER_LEN) as a run with `levels` prefixes ending at ends[i] (0: none), with the
 * section counts[i] and last_owner lasts[i] w had there; the bytes go into `arena`. Loader
 * thread. 0, or -1 when the run does not fit the limits above (then out is unusable). */
int dns_writer_capture(const struct dns_writer *w, size_t start, const size_t *ends,
                       const uint16_t *counts, const size_t *lasts, int levels,
                       struct dns_replay *out, struct arena *arena)
    __attribute__((warn_unused_result));
/* Writes prefix `level` of r to `section`, its pointers set for a question whose origin is at
 * origin_at. Only for a writer holding nothing but a question that ends in that origin, with
 * no label of the question above the origin equal to one the run's names compress against
 * (the caller checks: dns_negative_conflict). 0, or 1 when it cannot be used here (prefix
 * not made, past 14-bit pointers, too many compression targets, no room): nothing written,
 * use the record path. */
int dns_writer_replay(struct dns_writer *w, enum dns_section section, const struct dns_replay *r,
                      int level, size_t origin_at);
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
