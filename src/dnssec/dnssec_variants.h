/* SPDX-License-Identifier: MIT */
/* Signatures of steered answers (ARCHITECTURE.md §5): a steering policy answers from a finite
 * set of RRsets (each member alone for weighted and sticky, the healthy subset of a pool for
 * all and first_n, each CNAME target), so each is signed off the query path and kept here by
 * content: owner, type, original TTL and RDATA. A member that flaps finds its RRset's
 * signature already made.
 *
 * Writers (the loader before the snapshot is published, then the health thread before it
 * publishes a table) are serialized by a mutex; readers (every worker, dns_answer) look up
 * without locks or allocation: an entry's fields are written before its key is published
 * with release order, and never change afterwards. The table has a fixed capacity; when it
 * is full, new RRsets are not signed (counted). */
#ifndef MERIDIAN_DNSSEC_DNSSEC_VARIANTS_H
#define MERIDIAN_DNSSEC_DNSSEC_VARIANTS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/alloc.h"
#include "zone/zone.h"

struct dnssec_zone;
struct dnssec_variant;

struct dnssec_variants {
    struct dnssec_variant *slots;
    uint32_t mask;          /* capacity - 1 (a power of two) */
    uint32_t used, limit;   /* writers only; limit keeps probe chains short */
    uint32_t full;          /* RRsets not signed for lack of room */
    uint32_t earliest_expiration; /* writers; others read through dnssec_variants_stats */
    uint32_t max_ttl;       /* the largest original TTL signed (RFC 7583 TTLsig) */
    pthread_mutex_t lock;   /* writers */
    struct arena arena;     /* writers: content and signatures */
};

/* A table for about `expected` RRsets. */
void dnssec_variants_init(struct dnssec_variants *v, uint32_t expected);
void dnssec_variants_fini(struct dnssec_variants *v);

/* The RRSIG RRset of the RRset owner (lowercased wire)/type with original TTL `ttl` and
 * `count` records at rdata (zone layout, rdata_len bytes), or NULL if it was never signed.
 * Query path: no locks, no allocation. */
const struct zone_rrset *dnssec_variants_find(const struct dnssec_variants *v,
                                              const uint8_t *owner, uint16_t type, uint32_t ttl,
                                              const uint8_t *rdata, uint16_t count,
                                              size_t rdata_len);

/* Signs the RRset with the zone's keys unless it is in the table already. 0 (present or
 * added), 1 (no room: not signed), -1 (signing failed). Any thread; writers serialize. */
int dnssec_variants_sign(struct dnssec_variants *v, const struct dnssec_zone *dz,
                         const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rdata,
                         uint16_t count, size_t rdata_len, time_t now);

/* The earliest expiration of the table's signatures (UINT32_MAX: none) and the largest
 * original TTL signed, read under the writers' lock. Any thread. */
void dnssec_variants_stats(struct dnssec_variants *v, uint32_t *earliest, uint32_t *max_ttl);

#endif
