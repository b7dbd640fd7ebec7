/* SPDX-License-Identifier: MIT */
/* meridiand's side of outgoing zone transfers (ARCHITECTURE.md §11): the transfer views of a
 * new snapshot and their histories, answering AXFR/IXFR on the workers as net/ streams that
 * pin their snapshot, NOTIFY after each publish, the per-zone counters that outlive reloads,
 * and `meridianctl zone status`. */
#ifndef MERIDIAN_SERVER_XFR_SERVE_H
#define MERIDIAN_SERVER_XFR_SERVE_H

#include <stdio.h>

#include "net/net.h"
#include "server/snapshot.h"
#include "xfr/xfr_notify.h"
#include "xfr/xfr_stream.h"

/* The counters of zone `origin` (lowercased wire), made on first use and kept until
 * xfr_serve_stats_free: reloads keep them. Any thread. */
struct xfr_stats *xfr_serve_stats(const uint8_t *origin);
/* At exit, after the last snapshot is gone. */
void xfr_serve_stats_free(void);

/* Loader thread, while snap is built (its zones compiled and signed, steered answers signed):
 * every zone's transfer view, its history carried from the zone of the same origin that the
 * server serves now. 0, or -1 with "file:line: message". */
int xfr_serve_load(struct snapshot *snap, char err[CONFIG_ERR_MAX])
    __attribute__((warn_unused_result));

/* Worker, inside the RCU read side with snap current: answers a transfer request. `tsig` is
 * the request's TSIG as dns_answer verified it (error 0, key from snap's ring), or NULL for
 * an unsigned request: its key is the ACL's input and every message of the answer is signed
 * with it (RFC 8945 §5.3.1). Over TCP a transfer of several messages continues as
 * nq->stream, holding snap (snapshot_hold) until it ends. Returns the first message's
 * length. */
size_t xfr_serve(struct snapshot *snap, const struct net_query *nq, const struct xfr_request *req,
                 const struct tsig_request *tsig, uint8_t *out, size_t out_max);

/* Main thread, after snap is published (start and every reload): records each zone's serial
 * and, for the zones whose serial is new, notifies their `notify:` targets, starting the
 * notifier on first need (*notifier; a failure is logged, transfers go on). */
void xfr_serve_published(const struct snapshot *snap, struct xfr_notifier **notifier);

/* `zone status ZONE` (control thread, under RCU). */
void xfr_serve_status(const struct snapshot *snap, const char *zone, FILE *out);

#endif
