/* SPDX-License-Identifier: MIT */
/* NOTIFY (RFC 1996) to a zone's secondaries when its serial changes: one thread with a libev
 * loop and one unbound UDP socket per address family, sending each target the zone's SOA
 * (§3.7) and resending with a doubling timeout until it answers or the tries run out (§3.6),
 * every outcome logged and counted in the zone's xfr_stats. A newer serial of a zone
 * replaces the notifications still pending for it. Bounded: at most XFR_NOTIFY_PENDING
 * targets in flight; beyond that a notification is dropped with a warning (the secondaries'
 * refresh timers still bring them up to date, RFC 1996 §2). A target may name a TSIG key:
 * its NOTIFY is signed and only a signed reply counts (RFC 8945). Queueing copies everything
 * (keys included), so the caller's snapshot may go at once. */
#ifndef MERIDIAN_XFR_XFR_NOTIFY_H
#define MERIDIAN_XFR_XFR_NOTIFY_H

#include <stddef.h>

#include "config/config.h"
#include "tsig/tsig.h"
#include "xfr/xfr.h"

#define XFR_NOTIFY_PENDING 1024
#define XFR_NOTIFY_TRIES 5           /* sends per target, the first included */
#define XFR_NOTIFY_FIRST_TIMEOUT 1.0 /* seconds; doubled after each try: 31 s in all */

struct xfr_notifier;

/* Starts the thread (signals blocked in it). tries and first_timeout_s: 0 for the defaults
 * (tests shorten them). 0, or -1 with err. */
int xfr_notifier_start(unsigned tries, double first_timeout_s, struct xfr_notifier **out,
                       char err[XFR_ERR_MAX]) __attribute__((warn_unused_result));

/* Queues a NOTIFY of `zone` (its origin and current SOA) to each target; the outcomes are
 * counted in `stats` (required; it must outlive the notifier). A target with a tsig_key gets
 * the NOTIFY signed with that key from `keys` (RFC 8945; copied, so the ring may go at once)
 * and only a reply signed with it counts. Any thread. */
void xfr_notifier_send(struct xfr_notifier *n, const struct zone *zone,
                       const struct config_notify *targets, size_t count,
                       const struct tsig_keyring *keys, struct xfr_stats *stats);

/* Stops the thread, abandoning what is pending, and frees everything. NULL is allowed. */
void xfr_notifier_stop(struct xfr_notifier *n);

#endif
