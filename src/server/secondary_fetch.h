/* SPDX-License-Identifier: MIT */
/* One refresh of a secondary zone from one primary (secondary_fetch.c): over one TCP
 * connection a SOA query, then IXFR when we hold a version, falling back to AXFR on a new
 * connection when the IXFR fails; every request TSIG-signed with the primary's key and every
 * response message verified. Blocking with timeouts, on the transfer client thread only. */
#ifndef MERIDIAN_SERVER_SECONDARY_FETCH_H
#define MERIDIAN_SERVER_SECONDARY_FETCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "tsig/tsig.h"
#include "zone/zone.h"

#define SECONDARY_IO_TIMEOUT_S 30 /* one message, the connect, the SOA answer */
#define SECONDARY_XFR_TIME_MAX_S 1800 /* a whole transfer */

enum secondary_outcome {
    SECONDARY_FAILED,
    SECONDARY_UP_TO_DATE, /* the primary's serial is not newer than ours */
    SECONDARY_NEW,        /* a new version, in `recs`, checked by zone_build */
};

struct secondary_fetch {
    /* In */
    const uint8_t *origin; /* lowercased wire */
    const char *origin_text;
    const struct sockaddr *addr;
    socklen_t addr_len;
    const char *addr_text;
    const struct tsig_key *key;      /* NULL: unsigned */
    const struct zone_records *base; /* the version held (SOA first), or NULL */
    uint32_t base_serial;
    bool force_axfr;
    int cancel_fd; /* readable (the server stops): every wait ends at once, failed; 0 or -1: none */
    const struct zone_limits *limits; /* the zone's size bounds; NULL: the defaults */
    /* Out */
    enum secondary_outcome outcome;
    struct zone_records recs; /* SECONDARY_NEW: the caller takes it (zone_records_fini) */
    uint32_t serial;          /* the primary's */
    char kind[24];            /* "AXFR", "IXFR", "IXFR (full)", "SOA" */
    char err[600];
};

/* Runs the refresh; f->outcome says how it ended (err the reason of a failure, already
 * including the fallbacks tried). */
void secondary_fetch(struct secondary_fetch *f);

#endif
