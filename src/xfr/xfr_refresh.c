// SPDX-License-Identifier: MIT
/* A secondary zone's refresh, retry and expire timers (see xfr_refresh.h). Pure arithmetic
 * on the times it is given; runs on the transfer client's thread. */
#include "xfr/xfr_refresh.h"

static uint32_t
bounded(uint32_t v)
{
    return v < XFR_REFRESH_MIN_S ? XFR_REFRESH_MIN_S : v > XFR_REFRESH_MAX_S ? XFR_REFRESH_MAX_S : v;
}

void
xfr_refresh_init(struct xfr_refresh *r, int64_t now)
{
    /* Until a SOA gives the zone's own timers: a zone without data is worth asking for
     * often (Knot starts its retries at a few seconds too). */
    *r = (struct xfr_refresh){.refresh_s = 3600, .retry_s = XFR_REFRESH_FIRST_RETRY_S, .next = now};
}

void
xfr_refresh_done(struct xfr_refresh *r, const uint32_t timers[4], int64_t at, int64_t now)
{
    r->refresh_s = bounded(timers[0]);
    r->retry_s = bounded(timers[1]);
    r->expire_s = timers[2];
    /* RFC 1912 §2.2: expire is meant to be much longer than refresh + retry; a shorter one
     * would expire the zone before it could be retried. */
    if (r->expire_s < r->refresh_s + r->retry_s)
        r->expire_s = r->refresh_s + r->retry_s;
    r->have_data = true;
    r->refreshed_at = at;
    r->expires_at = at + r->expire_s;
    r->next = at + r->refresh_s;
    if (r->next < now)
        r->next = now;
}

void
xfr_refresh_failed(struct xfr_refresh *r, int64_t now)
{
    r->next = now + r->retry_s;
}

void
xfr_refresh_now(struct xfr_refresh *r, int64_t now)
{
    r->next = now;
}

bool
xfr_refresh_expired(const struct xfr_refresh *r, int64_t now)
{
    return !r->have_data || now >= r->expires_at;
}

int64_t
xfr_refresh_wake(const struct xfr_refresh *r, int64_t now)
{
    if (!xfr_refresh_expired(r, now) && r->expires_at < r->next)
        return r->expires_at;
    return r->next;
}
