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

/* Main thread, right after config_load in a snapshot build: appends the member zones of every
 * catalog entry of cfg (config_zone_add_member), their copies in "<catalog copy without
 * .zone>.members/<member>.zone". A member that clashes with a configured zone or with a
 * member of another catalog is left out (RFC 9432 §5.4: the new instance is ignored and an
 * error logged); what is wrong with a catalog is logged once per catalog serial. Never fails:
 * a catalog without usable data adds nothing. */
void catalog_expand(struct config *cfg);

#endif
