/* SPDX-License-Identifier: MIT */
/* The snapshot: everything read-mostly that answering needs (config, compiled zones, the
 * GeoIP trees, the steering policies and the dns_view over them), built whole on the main
 * thread at start and on reload, published to the workers with an RCU pointer swap, and
 * freed only after every worker has left its read-side section (DESIGN.md §2). A failed load
 * leaves the current snapshot serving. */
#ifndef MERIDIAN_SERVER_SNAPSHOT_H
#define MERIDIAN_SERVER_SNAPSHOT_H

#include "config/config.h"
#include "dns/dns.h"
#include "geoip/geoip.h"
#include "policy/policy.h"

struct snapshot {
    struct config *cfg;
    struct zone_set *zones;
    struct geo_db *geo;          /* NULL without a geoip section */
    struct policy_set *policies; /* NULL without services */
    struct dns_view view;
    size_t record_count;
};

/* Loads the config at `path`, the GeoIP database, every zone and every service.
 * 0, or -1 with "file:line: message". */
int snapshot_load(const char *path, struct snapshot **out, char err[CONFIG_ERR_MAX])
    __attribute__((warn_unused_result));
void snapshot_free(struct snapshot *snap);

#endif
