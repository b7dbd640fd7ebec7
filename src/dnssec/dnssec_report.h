/* SPDX-License-Identifier: MIT */
/* What an operator reads about a signed zone: the records to give the parent (`meridianctl
 * dnssec ds`, `meridiand --dnssec-ds`) and the zone's lines of `meridianctl status` (the
 * earliest signature expiration, the keys and their roles, signing counts, the rollover and an
 * ALARM when re-signing is late). Text only: the state comes in, the clock too. Any thread
 * that may read the zone (the control thread under RCU, the main thread). */
#ifndef MERIDIAN_DNSSEC_DNSSEC_REPORT_H
#define MERIDIAN_DNSSEC_DNSSEC_REPORT_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "dnssec/dnssec_roll.h"
#include "dnssec/dnssec_zone.h"

/* Digest types for dnssec_report_ds, as a mask. */
enum {
    DNSSEC_REPORT_SHA256 = 1u << DNSSEC_DIGEST_SHA256,
    DNSSEC_REPORT_SHA384 = 1u << DNSSEC_DIGEST_SHA384,
};

/* A duration in its two largest units: "13d 22h", "5h", "4m 10s", "0s" (negative: the same of
 * its absolute value). */
void dnssec_report_duration(int64_t seconds, char *out, size_t size);

/* One line per record, in presentation form (RFC 4034 §2.2, §5.3), TTL the DNSKEY's: the DS
 * of each key in CDS for each digest type of `digests`, then those keys' DNSKEY and CDNSKEY
 * records: what the parent should hold now. 0, or -1 if a digest cannot be made. */
int dnssec_report_ds(const struct dnssec_zone *dz, unsigned digests, FILE *out)
    __attribute__((warn_unused_result));

/* The zone's `status` lines, each starting "dnssec: <zone> ": algorithm and key layout, the
 * counts of the last signing, the earliest expiration (UTC, "in Nd Nh"), each key (tag,
 * algorithm, kind, roles), the rollover (`roll` as saved now, NULL if it cannot be read;
 * `timing` gives its next step) and, when the earliest expiration is less than refresh away
 * from `now`, a line "ALARM: dnssec: <zone> ...": re-signing is failing. */
void dnssec_report_status(struct dnssec_zone *dz, const struct dnssec_roll *roll,
                          const struct dnssec_roll_timing *timing, time_t now, FILE *out);

#endif
