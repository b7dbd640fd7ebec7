/* SPDX-License-Identifier: MIT */
/* The secondary role (ARCHITECTURE.md §13): zones whose entry has `primaries:` are kept up to
 * date by a few transfer client threads, which follow each zone's SOA timers (refresh, retry,
 * expire), asks a primary for its SOA, fetches IXFR (RFC 1995) or AXFR (RFC 5936) over TCP,
 * TSIG-signed with the primary's key and every response message verified, checks the result
 * as a zone file is checked, writes it to disk atomically and asks the main thread (SIGUSR1)
 * to publish a new snapshot through the normal reload, which compiles each secondary zone
 * from the latest accepted version instead of a file. The state of each zone (its latest
 * version, timers, last transfer) lives here by origin and outlives reloads. Catalog zones
 * (server/catalog.c) are secondaries whose members become secondaries too. */
#ifndef MERIDIAN_SERVER_SECONDARY_H
#define MERIDIAN_SERVER_SECONDARY_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>

#include "config/config.h"
#include "tsig/tsig.h"
#include "zone/zone.h"

/* Transfer client threads: zones due at once are refreshed this many at a time, and a
 * primary that does not answer (30 s per message, secondary_fetch.h) holds one of them. */
#define SECONDARY_THREADS 4

struct secondary_zone;
struct snapshot;

/* Loader (main) thread, while a snapshot is built: the zone of secondary entry `cz`, compiled
 * with its steered names from the latest accepted version (the disk copy at the first load);
 * never transferred or past its expire: a placeholder flagged expired (SERVFAIL). *state gets
 * the zone's state for NOTIFY. 0, or -1 with "file:line: message" (the version does not
 * compile with the steered names). */
int secondary_zone_load(const struct config_zone *cz, const struct zone_steer *steered,
                        size_t steered_count, struct zone **out, struct secondary_zone **state,
                        char err[ZONE_ERR_MAX]) __attribute__((warn_unused_result));

/* Loader (main) thread, while a snapshot is built: the records of the latest accepted version
 * of secondary entry `cz` (the disk copy at the first load), or NULL without any; *serial its
 * serial. Held until secondary_records_release(*hold), however the thread moves on. For
 * reading a catalog zone's members (server/catalog.c). */
const struct zone_records *secondary_records_hold(const struct config_zone *cz, uint32_t *serial,
                                                  void **hold);
void secondary_records_release(void *hold);

/* Main thread, after each publish: the secondary zones of the config, with their primaries
 * and keys, are handed to the thread (started on first need; a failure is logged). */
void secondary_published(const struct snapshot *snap);

/* struct dns_view's NOTIFY callback (ctx: the snapshot): a primary of the zone (by address,
 * and by key where it has one) starts a refresh at once. Workers: no allocation, no lock. */
bool secondary_notify(const void *ctx, const struct zone *zone, const struct sockaddr *from,
                      const struct tsig_key *key);

/* `zone refresh ZONE` (full false) and `zone retransfer ZONE` (full: AXFR whatever the
 * serial). Control thread. 0, or -1 with err (not a secondary zone). */
int secondary_request(const char *zone, bool full, char *err, size_t err_size);

/* The secondary lines of `zone status` for origin (wire): the catalog it came from (a member)
 * or the members it lists (a catalog), serial, primaries, last transfer, next refresh,
 * expiry. Control thread. */
void secondary_status(const uint8_t *origin, FILE *out);

/* At exit: stops the thread and frees every zone's state. */
void secondary_stop(void);

#endif
