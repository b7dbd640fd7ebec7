/* SPDX-License-Identifier: MIT */
/* A secondary zone's timers (RFC 1035 §3.3.13, RFC 1996 §2, ARCHITECTURE.md §13): from the
 * SOA of the version held, when to ask the primary next (REFRESH after a success, RETRY after
 * a failure, at once on NOTIFY) and when the data stops being served (EXPIRE after the last
 * successful refresh). Pure: the time is passed in (seconds since the epoch), so tests drive
 * it with any clock. One zone's timers are used by one thread. */
#ifndef MERIDIAN_XFR_XFR_REFRESH_H
#define MERIDIAN_XFR_XFR_REFRESH_H

#include <stdbool.h>
#include <stdint.h>

/* Bounds on the SOA's timers, against a zone that would make us ask every instant or never:
 * refresh and retry 1 s to 1 week; expire at least refresh + retry. */
#define XFR_REFRESH_MIN_S 1
#define XFR_REFRESH_MAX_S (7 * 86400)

#define XFR_REFRESH_FIRST_RETRY_S 10 /* retry before any SOA is known */

struct xfr_refresh {
    uint32_t refresh_s, retry_s, expire_s; /* the SOA's, bounded */
    int64_t next;       /* the next refresh is due then */
    int64_t expires_at; /* data served until then (valid with have_data) */
    int64_t refreshed_at; /* the last successful refresh (0: none) */
    bool have_data;
};

/* No data yet (a zone never transferred): refresh at once. */
void xfr_refresh_init(struct xfr_refresh *r, int64_t now);

/* A refresh that succeeded at `at` (now, or when the disk copy was last confirmed): the SOA
 * timers (refresh, retry, expire, minimum: zone_soa_fields) of the version now held. The next
 * refresh is at + refresh, but not before now. */
void xfr_refresh_done(struct xfr_refresh *r, const uint32_t timers[4], int64_t at, int64_t now);

/* A refresh that failed at now: try again after RETRY (RFC 1035 §3.3.13); expiry unchanged. */
void xfr_refresh_failed(struct xfr_refresh *r, int64_t now);

/* NOTIFY or an operator's request: refresh at once (RFC 1996 §4.7). */
void xfr_refresh_now(struct xfr_refresh *r, int64_t now);

/* No data, or EXPIRE has passed since the last successful refresh: not to be served. */
bool xfr_refresh_expired(const struct xfr_refresh *r, int64_t now);

/* When something happens next: the refresh, or the expiry if it comes first and has not
 * happened yet. */
int64_t xfr_refresh_wake(const struct xfr_refresh *r, int64_t now);

#endif
