/* SPDX-License-Identifier: MIT */
/* Reading a catalog zone (RFC 9432, ARCHITECTURE.md §13): from the records of one version of
 * the zone, its schema version and the member zones it lists.
 *
 * A catalog is "broken" and not processed at all (RFC 9432 §4.2.1, §4.3, §4.4.1) when the TXT
 * RRset at version.<catalog> is missing, holds more than one record, or a value other than
 * "2"; when a member node (<unique-N>.zones.<catalog>) holds more than one PTR record; or when
 * a member's coo property holds more than one PTR record. The caller then keeps what it
 * had: nothing of a broken catalog is applied.
 *
 * A member that cannot be used is listed with the reason and left out, the rest of the
 * catalog applies (RFC 9432 §5.4: on a name clash the new instance is ignored and an error
 * logged): its PTR names the catalog itself or a name inside it, or it names a zone another
 * member node named already (the member node whose label sorts first in canonical order,
 * RFC 4034 §6.1, keeps it, so the choice does not depend on the order of the records).
 * Properties (RFC 9432 §4.4): coo and group are read and returned for logging; we act on
 * neither (a consumer of one catalog per member has no use for coo, and no group
 * configurations exist here). Everything else under zones.<catalog> is ignored (§3: "MUST
 * ignore any RR ... not supported").
 *
 * Pure: no clock, no I/O. `unique`, `coo` and `group` point into the records, which must
 * outlive the result. */
#ifndef MERIDIAN_XFR_XFR_CATALOG_H
#define MERIDIAN_XFR_XFR_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zone/zone.h"

#define XFR_CATALOG_ERR_MAX 300
#define XFR_CATALOG_VERSION "2" /* RFC 9432 §4.2.1: the schema version this implements */

struct xfr_catalog_member {
    uint8_t zone[DNAME_MAX_LEN]; /* the member zone: the PTR's RDATA, lowercased wire */
    const uint8_t *unique;       /* its member node's label (a length byte, then the label) */
    const uint8_t *coo;          /* the coo property's PTR target, or NULL (ignored) */
    const uint8_t *group;        /* the first group TXT RDATA (a length byte, then text), or NULL */
    const char *skipped;         /* why the member is left out, or NULL: it is used */
};

struct xfr_catalog {
    struct xfr_catalog_member *members; /* in canonical order of their member labels */
    size_t count;                       /* members listed, used or skipped */
    size_t used;                        /* those with skipped NULL */
};

/* Reads the catalog `origin` (lowercased wire) from `r`. 0 and *out filled (free it with
 * xfr_catalog_fini), or -1 with the reason the catalog is broken in err (*out empty). */
int xfr_catalog_read(const uint8_t *origin, const struct zone_records *r, struct xfr_catalog *out,
                     char err[XFR_CATALOG_ERR_MAX]) __attribute__((warn_unused_result));
void xfr_catalog_fini(struct xfr_catalog *c);

#endif
