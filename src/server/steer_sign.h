/* SPDX-License-Identifier: MIT */
/* Signing steered answers ahead of the queries (ARCHITECTURE.md §5): for every service whose
 * name lies in a signed zone, the RRsets it can answer with are signed into the zone's
 * variant table (dnssec/dnssec_variants.h): each member alone (weighted, sticky, and every
 * CNAME service), and for `all` and `first_n` the answer of each pool order under a health
 * table. Called by the loader for a new snapshot (health unknown) and by the health thread
 * before it publishes a table. */
#ifndef MERIDIAN_SERVER_STEER_SIGN_H
#define MERIDIAN_SERVER_STEER_SIGN_H

#include <stdint.h>
#include <time.h>

#include "server/snapshot.h"

/* How many RRsets the services answering inside `zone` may need signed: the size to give
 * its variant table. */
uint32_t steer_sign_expected(const struct policy_set *set, const struct zone *zone);

/* Signs what `health` (NULL = every member up) makes the services of snap's signed zones
 * answer, with signatures valid from `now` (seconds since the epoch). Signatures already
 * made are not made again. */
void steer_sign(const struct snapshot *snap, const struct health_table *health, time_t now);

#endif
