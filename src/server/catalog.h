/* SPDX-License-Identifier: MIT */
/* Catalog zones, the consumer (RFC 9432, ARCHITECTURE.md §13): a secondary entry with
 * `catalog: true` lists member zones, and each becomes a secondary zone of the catalog's
 * primaries, added to and removed from what is served at runtime. How: every snapshot build
 * reads each catalog's latest accepted version (the transfer thread refused broken ones, see
 * secondary.c) and appends one config entry per member before the zones are loaded, so a
 * member is from then on an ordinary secondary zone (its state, timers, NOTIFY, transfers,
 * disk copy, `zone status`); a member the catalog no longer lists is in no snapshot, so it is
 * REFUSED like any unknown zone, and the transfer thread deletes its copy. */
#ifndef MERIDIAN_SERVER_CATALOG_H
#define MERIDIAN_SERVER_CATALOG_H

#include "config/config.h"
#include "zone/zone.h"

/* Main thread, right after config_load in a snapshot build: appends the member zones of every
 * catalog entry of cfg (config_zone_add_member), their copies in "<catalog copy without
 * .zone>.members/<member>.zone". A member that clashes with a configured zone or with a
 * member of another catalog is left out (RFC 9432 §5.4: the new instance is ignored and an
 * error logged); what is wrong with a catalog is logged once per catalog serial. Never fails:
 * a catalog without usable data adds nothing. */
void catalog_expand(struct config *cfg);

/* The producer: catalog entry cfg->zones[ci] (`catalog: produce`) compiled as a catalog
 * zone (RFC 9432 §4) listing every configured zone that is not a catalog or a member of one:
 * SOA and NS "invalid.", version "2", one PTR per zone at a label hashed from its name. Its
 * serial is the Unix time when the member set last changed (one more if that is not later),
 * kept across reloads. Main thread, while a snapshot is built. 0, or -1 with err. */
int catalog_produce_load(const struct config *cfg, size_t ci, const struct zone_steer *steered,
                         size_t steered_count, const struct zone_limits *limits,
                         struct zone **out, char err[ZONE_ERR_MAX])
    __attribute__((warn_unused_result));

#endif
