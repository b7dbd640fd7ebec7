/* SPDX-License-Identifier: MIT */
/* meridiand's running server: start, serve, stop (ARCHITECTURE.md §2). Main thread only. */
#ifndef MERIDIAN_SERVER_LIFECYCLE_H
#define MERIDIAN_SERVER_LIFECYCLE_H
#include <signal.h>
#include <stdbool.h>
#include <time.h>

#include "config/config.h"
#include "health/monitor.h"
#include "net/net.h"
#include "rrl/rrl.h"
#include "server/control.h"
#include "server/snapshot.h"
#include "stats/stats.h"
#include "xfr/xfr_notify.h"

struct worker_rng;
struct dnstap;

/* What has been started, so that server_stop undoes exactly that, in reverse order. Fill
 * path and sigs, zero the rest, before server_start. */
struct server {
    const char *path;    /* the config file, read again on every reload */
    const sigset_t *sigs; /* SIGHUP, SIGINT, SIGTERM: blocked in every thread, taken here */
    bool published;      /* a snapshot is current (workers and health may read it) */
    struct worker_rng *rngs;
    struct rrl *rrl; /* response rate limiting's table, sized at start (rrl.table_size) */
    struct net *net; /* listen sockets open; workers running once net_run succeeded */
    struct control *control;
    struct http *http;            /* server.http_listen: metrics and status (server/http.h) */
    struct stats *stats;          /* the workers' counters (stats/stats.h) */
    struct health_monitor *monitor;
    struct xfr_notifier *notifier; /* NOTIFY's thread, started on first need */
    struct dnstap *dnstap;         /* the query log (server.dnstap), NULL = off */
    bool stop_requested; /* SIGINT/SIGTERM came during the start */
    /* DNSSEC upkeep (dnssec_ops.h): the timer looks at least every upkeep_interval_s (0:
     * 60 s) plus a jitter of up to a tenth, and at the times re-signing or a rollover step
     * is due, by the snapshot clock (snapshot_now: a test may set another, with the
     * interval). */
    unsigned upkeep_interval_s;
    time_t upkeep_retry_at; /* after a failed upkeep reload: not before */
};

/* Logs the load (begun at load_start, CLOCK_MONOTONIC) at the config's log level, publishes
 * snap (always taken over, also on failure), binds the listen sockets and the
 * control socket, drops privileges, starts the health thread, the control thread and the
 * workers (answering at once), then waits for the first round of checks where a service
 * asks (its answers are dropped meanwhile). 0 when serving or
 * when a stop signal came during the start (srv->stop_requested); -1 with err. Either
 * way, server_stop(srv) afterwards. */
int server_start(struct server *srv, struct snapshot *snap, const struct timespec *load_start,
                 char err[CONFIG_ERR_MAX]) __attribute__((warn_unused_result));

/* SIGHUP or `meridianctl reload`: runs the queued `dnssec roll`/`ds-seen` requests, then
 * builds a new snapshot while the workers keep answering from the old one and publishes it;
 * any error keeps the old one (logged, and recorded for `status` and `reload`). True if
 * published. Main thread, once server_start succeeded (tests: a published snapshot). */
bool server_reload(struct server *srv);

/* Waits for signals until SIGINT or SIGTERM; SIGHUP reloads. Between signals, the DNSSEC
 * upkeep timer (server_upkeep). */
void server_serve(struct server *srv);

/* The DNSSEC upkeep at srv's clock: advances rollovers and, when something must be published
 * (a rollover phase, signatures due for refresh), reloads; a failed reload is logged,
 * counted and retried after upkeep_interval_s, the old data serving meanwhile. Returns the
 * time to look again. Main thread. */
time_t server_upkeep(struct server *srv);

/* Stops and frees whatever server_start started, in reverse order: the workers, the control
 * thread, the health thread (so nothing reads the snapshot any more), then the snapshot. */
void server_stop(struct server *srv);

#endif
