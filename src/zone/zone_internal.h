/* SPDX-License-Identifier: MIT */
/* Shared between the zone parser (zone_load.c) and the compiler (zone_db.c). */
#ifndef MERIDIAN_ZONE_ZONE_INTERNAL_H
#define MERIDIAN_ZONE_ZONE_INTERNAL_H

#include "zone/zone.h"

/* Checks the records (size limits: NULL = the defaults, SOA, apex NS, CNAME exclusivity, glue, ...) and builds the zone's
 * nodes and lookup table. `recs` is reordered. Returns 0 or -1 with "file:line: message". */
int zone_compile(struct zone *zone, struct zone_record *recs, size_t count,
                 const struct zone_steer *steered, size_t steered_count,
                 const struct zone_limits *limits, char err[ZONE_ERR_MAX]);

/* Writes "file:line: message" into err. */
void zone_error(char err[ZONE_ERR_MAX], const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Offset of the domain name inside RDATA that additional-section processing follows for
 * NS, MX, SRV, SVCB, HTTPS; -1 for other types. */
int zone_target_offset(uint16_t type);

#endif
