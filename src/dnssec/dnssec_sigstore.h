/* SPDX-License-Identifier: MIT */
/* A signed zone's signatures kept across restarts: the file K<zone>.signatures in the key
 * directory holds every signed RRset of the version served last (owner, type, TTL, RDATA)
 * with its RRSIG RDATA, and that version's SOA serial. At start the signer takes a stored
 * RRset's signatures for an equal RRset as it takes the running version's on a reload
 * (dnssec_zone.c can_reuse: same keys, not due for refresh), so a restart re-signs only what
 * changed or fell due and, when nothing did, serves byte for byte what it served before:
 * the same serial, the IXFR journal still fitting, secondaries with nothing to fetch.
 *
 * The file is a cache: one that is missing, damaged (a checksum covers it all), of another
 * zone or another format is ignored and the zone signed anew. It is written whole
 * (temporary file, fsync, rename) after a version with new signatures or a new serial is
 * published. Main thread (the loader's); nothing here is on the query path. */
#ifndef MERIDIAN_DNSSEC_DNSSEC_SIGSTORE_H
#define MERIDIAN_DNSSEC_DNSSEC_SIGSTORE_H

#include <stdint.h>

#include "dnssec/dnssec_key.h"
#include "zone/zone.h"

struct dnssec_zone;
struct dnssec_sigstore;

/* A signed RRset kept outside the zone's nodes (the steered RRsets zone transfers carry,
 * xfr.h), to be stored with the zone's own. */
struct dnssec_sigstore_rrset {
    const uint8_t *owner;
    const struct zone_rrset *set;
};

/* Writes the signatures of `zone` (if signed: zone->dnssec set) and of `more`, and the
 * zone's serial, to <dir>/K<zone>.signatures. 0, or -1 with err (the file is then left as it
 * was). */
int dnssec_sigstore_save(const char *dir, const struct zone *zone,
                         const struct dnssec_sigstore_rrset *more, size_t more_count,
                         char err[DNSSEC_ERR_MAX]) __attribute__((warn_unused_result));

/* Reads <dir>/K<zone>.signatures of `origin` (lowercased wire). 0 with *out set, or with
 * *out NULL when there is no such file; -1 with err naming the file and the fault when it
 * exists but cannot be used. */
int dnssec_sigstore_load(const char *dir, const uint8_t *origin, struct dnssec_sigstore **out,
                         char err[DNSSEC_ERR_MAX]) __attribute__((warn_unused_result));

/* Removes <dir>/K<zone>.signatures of origin if there is one. 0, or -1 with err. */
int dnssec_sigstore_remove(const char *dir, const uint8_t *origin, char err[DNSSEC_ERR_MAX])
    __attribute__((warn_unused_result));

/* The SOA serial of the version the store was written for. */
uint32_t dnssec_sigstore_serial(const struct dnssec_sigstore *st);
/* Signed RRsets in the store. */
uint32_t dnssec_sigstore_count(const struct dnssec_sigstore *st);

/* The stored RRset at owner (lowercased wire) equal to `set` (type, TTL, RDATA), with its
 * signatures as ->rrsig; NULL if there is none. Valid until dnssec_sigstore_free. */
const struct zone_rrset *dnssec_sigstore_find(const struct dnssec_sigstore *st,
                                              const uint8_t *owner, const struct zone_rrset *set);

void dnssec_sigstore_free(struct dnssec_sigstore *st);

#endif
