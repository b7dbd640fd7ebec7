// SPDX-License-Identifier: MIT
/* meridiand's running server, on the main thread: the start in the order of ARCHITECTURE.md
 * §2 (publish the first snapshot; fit the TCP tables under the open-files limit; bind the
 * listen sockets and the control socket while still root; drop privileges; start the health
 * thread, the control thread and the workers; wait for the first round of checks, during which
 * `startup: wait` services' answers are dropped), the signal loop (SIGHUP reloads: a new snapshot is built
 * here while the workers keep answering from the old one, and any error keeps the old one;
 * SIGINT/SIGTERM stop; between signals, the DNSSEC upkeep timer: re-signing before signatures
 * expire and key rollover steps, each published by the same reload), and the stop. `struct
 * server` records each step that succeeded, and server_stop undoes exactly those in reverse,
 * so a start that fails at any step leaves no thread running and frees nothing a running
 * thread still uses. Also the workers' query
 * handler, which answers from the current snapshot under RCU. */
#include "server/lifecycle.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "common/log.h"
#include "common/notify.h"
#include "common/sockaddr.h"
#include "dnstap/dnstap.h"
#include "net/net_fd.h"
#include "server/dnssec_ops.h"
#include "server/http.h"
#include "server/journal.h"
#include "server/metrics.h"
#include "server/privdrop.h"
#include "server/secondary.h"
#include "server/steer_sign.h"
#include "server/xfr_serve.h"

/* Per-worker random state for weighted choices, one cache line each so workers never share. */
struct worker_rng {
    _Alignas(64) uint64_t state;
};

/* xorshift64*: fast, and plenty for spreading load by weight. */
static uint64_t
next_random(struct worker_rng *rng)
{
    uint64_t x = rng->state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng->state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* True from the workers' start until the first round of health checks is in (or
 * health.startup_wait has passed): answers of `startup: wait` services whose targets have no
 * result yet are dropped meanwhile; everything else is answered at once. */
static atomic_bool startup_waiting;

/* A `startup: wait` service (not `persisted` or `up`) with a member not probed yet. Runs only
 * during the start window, for steered answers. */
static bool
service_waiting(const struct snapshot *snap, const struct health_table *table, uint32_t index)
{
    if (!snap->policies || index >= snap->policies->count)
        return false;
    const struct policy_service *svc = &snap->policies->services[index];
    if (svc->cfg && (svc->cfg->startup_persisted || svc->cfg->startup_up))
        return false;
    for (uint32_t p = 0; p < svc->pool_count; p++)
        for (uint32_t i = 0; i < svc->pools[p].member_count; i++)
            if (health_waiting(table, svc->pools[p].members[i].health_id))
                return true;
    return false;
}

/* RFC 7871 `ecs: ignore` of the listener a query came in on, found by its address in the
 * current config: the sockets were bound at start in the order of the config of that day,
 * and a reload may list the same addresses in another order, so a position would point at
 * another listener's setting. A few listeners: a short scan, no allocation. */
static bool
listen_ecs_ignore(const struct config *cfg, const struct sockaddr *local)
{
    for (size_t i = 0; local && i < cfg->listen_count; i++)
        if (sockaddr_same((const struct sockaddr *)&cfg->listen[i].addr, local))
            return cfg->listen[i].ecs_ignore;
    return false;
}

/* Response rate limiting of a UDP answer (rrl.h, ARCHITECTURE.md §16): returns the length
 * to send, the answer's, a TC=1 stub's, or 0 to drop it. */
static size_t
rate_limit(struct rrl *rrl, unsigned worker, const struct config_rrl *cfg,
           const struct net_query *nq, const struct dns_result *result,
           const struct rrl_hint *hint, uint8_t *out, size_t n)
{
    if (!cfg->enabled || n == 0 || nq->tcp)
        return n;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now); /* vDSO, no system call */
    struct rrl_response resp = {.client = nq->client, .cls = result->response_class,
                                .name = result->class_name, .size = n,
                                .cookie_valid = result->cookie_valid, .hint = hint};
    uint64_t now_ms = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
    switch (rrl_check(rrl, worker, cfg, &resp, now_ms)) {
    case RRL_SEND:
        return n;
    case RRL_SLIP:
        return dns_truncate_to_question(out, n);
    case RRL_DROP:
        break;
    }
    return 0;
}

/* Worker thread, for each query (net.h): no allocation, no lock (ARCHITECTURE.md §5). */
static size_t
handle_query(void *ctx, unsigned worker, const struct net_query *nq, uint8_t *out,
             size_t out_max)
{
    struct server *srv = ctx;
    struct dns_client client = {.addr = nq->client,
                                .tcp = nq->tcp,
                                .random = next_random(&srv->rngs[worker]),
                                .transfers = true};
    struct dns_result result;
    /* The query log (ARCHITECTURE.md §15): the receive time of a query it samples. */
    struct dnstap_event tap = {.tcp = nq->tcp, .client = nq->client, .local = nq->local,
                               .query = nq->data, .query_len = nq->len};
    bool tapped = srv->dnstap && dnstap_sample(srv->dnstap, worker, &tap.query_time);
    rcu_read_lock();
    struct snapshot *snap = snapshot_current_get();
    if (snap->policies) {
        client.health = rcu_dereference(snap->health);
        client.now_s = health_now_s();
    }
    if (snap->view.tsig || snap->view.cookies) {
        /* RFC 8945 §5.2.3 compares Time Signed with the wall clock, RFC 9018 §4.3 stamps
         * cookies with it; the coarse clock (vDSO, no system call) is exact to the second
         * both need. */
        struct timespec wall;
        clock_gettime(CLOCK_REALTIME_COARSE, &wall);
        client.wall_s = (uint64_t)wall.tv_sec;
    }
    client.ecs_ignore = listen_ecs_ignore(snap->cfg, nq->local);
    /* Rate limiting's bucket is loaded while the answer is made: a table of megabytes misses
     * the cache on most responses (ARCHITECTURE.md §16). */
    const struct config_rrl *rrl_cfg = &snap->cfg->rrl;
    struct rrl_hint hint;
    if (rrl_cfg->enabled && !nq->tcp)
        rrl_prefetch(srv->rrl, rrl_cfg, nq->client, nq->data, nq->len, &hint);
    size_t n = dns_answer(&snap->view, &client, nq->data, nq->len, out, out_max, &result);
    /* Start window: a waiting service's answer is dropped, as if the query were still in the
     * socket buffer; the client asks again (RFC 1035 §4.2.1: retransmission) and is answered
     * from probed states. Other names, static zones included, are answered at once. */
    if (result.steered && n > 0 &&
        atomic_load_explicit(&startup_waiting, memory_order_relaxed) &&
        service_waiting(snap, client.health, result.decision.service))
        n = 0;
    /* AXFR and IXFR (ARCHITECTURE.md §11), checked by dns_answer like any query. */
    struct xfr_request xfr;
    if (result.transfer) {
        if (xfr_request_parse(nq->data, nq->len, &xfr)) {
            n = xfr_serve(snap, nq, &xfr, result.tsig ? &result.transfer_tsig : NULL, out, out_max);
        } else {
            client.transfers = false; /* not one xfr/ reads: refused like before */
            n = dns_answer(&snap->view, &client, nq->data, nq->len, out, out_max, &result);
        }
    }
    /* Counters (ARCHITECTURE.md §17): the worker's own block, plain increments. What the
     * answer was, before rate limiting, which counts what it held back itself (rrl.h). */
    stats_count(stats_worker_get(srv->stats, worker), snap->stats_steer, worker, &result, nq->tcp,
                nq->client->sa_family, n);
    /* Inside the read side: result.class_name may point into the snapshot's zones. */
    n = rate_limit(srv->rrl, worker, rrl_cfg, nq, &result, &hint, out, n);
    /* After rate limiting: the log records what was sent (a stub, or no response). */
    if (tapped)
        dnstap_log(srv->dnstap, worker, &tap, out, n, snap->policies, &result);
    rcu_read_unlock();
    return n;
}

/* What net/ handled without us (drops, TCP connections), into the worker's counters. */
static void
count_net_event(void *ctx, unsigned worker, enum net_event event)
{
    static const signed char drops[] = {
        [NET_EVENT_UDP_TRUNCATED] = STATS_DROP_UDP_TRUNCATED,
        [NET_EVENT_SHORT] = STATS_DROP_SHORT,
        [NET_EVENT_TCP_FRAMING] = STATS_DROP_TCP_FRAMING,
        [NET_EVENT_TCP_ACCEPTED] = -1,
        [NET_EVENT_TCP_CLOSED] = -1,
        [NET_EVENT_TCP_EVICTED] = -1,
    };
    struct server *srv = ctx;
    struct stats_worker *ws = stats_worker_get(srv->stats, worker);
    if (event == NET_EVENT_TCP_ACCEPTED)
        stats_event(ws, STATS_EVENT_TCP_ACCEPTED);
    else if (event == NET_EVENT_TCP_CLOSED)
        stats_event(ws, STATS_EVENT_TCP_CLOSED);
    else if (event == NET_EVENT_TCP_EVICTED)
        stats_event(ws, STATS_EVENT_TCP_EVICTED);
    else if ((unsigned)event < sizeof(drops) && drops[event] >= 0)
        stats_drop(ws, (enum stats_drop)drops[event]);
}

static void
worker_start(void *ctx, unsigned worker)
{
    (void)ctx;
    (void)worker;
    rcu_register_thread();
}

static void
worker_stop(void *ctx, unsigned worker)
{
    (void)ctx;
    (void)worker;
    rcu_unregister_thread();
}

/* One seeded random state per worker. */
static struct worker_rng *
rngs_new(unsigned workers)
{
    /* calloc promises only 16-byte alignment, and each worker's state must have its cache
     * line to itself (UBSan rightly reports a misaligned one). */
    struct worker_rng *rngs =
        aligned_alloc(_Alignof(struct worker_rng), workers * sizeof(*rngs));
    if (!rngs) {
        fprintf(stderr, "fatal: out of memory allocating worker state\n");
        abort();
    }
    memset(rngs, 0, workers * sizeof(*rngs));
    for (unsigned i = 0; i < workers; i++) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        rngs[i].state = ((uint64_t)now.tv_nsec << 20) ^ (uint64_t)now.tv_sec ^
                        ((uint64_t)getpid() << 40) ^ (0x9E3779B97F4A7C15ULL * (i + 1));
    }
    return rngs;
}

static double
elapsed_s(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* struct health_hook's callback (health thread): the steered answers of signed zones that
 * `table` makes possible are signed before it is published (ARCHITECTURE.md §4). */
static void
sign_for_health(void *snap, const struct health_table *table)
{
    steer_sign(snap, table, snapshot_now());
}

/* Starts (first call) or re-targets the health monitor for snap. */
static int
health_attach(struct server *srv, struct snapshot *snap, char err[CONFIG_ERR_MAX])
{
    /* Steered answers of signed zones are signed for each table before it is published. */
    const struct health_hook hook = {.before_publish = sign_for_health, .arg = snap};
    if (!srv->monitor)
        return health_monitor_start(snap->cfg, snap->health_specs, snap->health_count,
                                    &snap->health, &hook, &srv->monitor, err);
    health_monitor_update(srv->monitor, snap->cfg, snap->health_specs, snap->health_count,
                          &snap->health, &hook);
    return 0;
}

/* server.xdp is read at start only (net/xdp.h): did a reload change it? */
static bool
xdp_config_changed(const struct config_xdp *old, const struct config_xdp *new)
{
    if (!old->interface != !new->interface)
        return true;
    return old->interface && (strcmp(old->interface, new->interface) != 0 ||
                              old->mode != new->mode || old->zero_copy != new->zero_copy);
}

/* SIGHUP, `meridianctl reload` (`why` NULL) or the DNSSEC upkeep (`why` says what is due):
 * runs the queued `dnssec roll`/`ds-seen` requests, then builds a new snapshot while the
 * workers keep answering from the old one; any error keeps the old one. True if published;
 * err (may be NULL) gets the error. */
static bool
reload(struct server *srv, const char *why, char *error, size_t error_size)
{
    char err[CONFIG_ERR_MAX];
    struct snapshot *snap;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    (void)snapshot_reload_begin();
    notify_systemd("RELOADING=1");
    /* The main thread is the only one that publishes: it may read `current` as is. */
    dnssec_ops_run_requests(snapshot_current_get(), snapshot_now());
    if (snapshot_load(srv->path, &snap, err) < 0) {
        log_error("reload%s%s failed, still serving the previous data: %s", why ? " for " : "",
                  why ? why : "", err);
        snapshot_record_reload(false, err);
        if (error)
            snprintf(error, error_size, "%s", err);
        control_reload_done(srv->control);
        notify_systemd("READY=1");
        return false;
    }
    log_set_level((enum log_level)snap->cfg->log_level);
    if (dnstap_config_changed(srv->dnstap, snap->cfg))
        log_warning("reload: server.dnstap changed: the query log keeps its settings from the "
                    "start until meridiand restarts");
    if (xdp_config_changed(&snapshot_current_get()->cfg->xdp, &snap->cfg->xdp))
        log_warning("reload: server.xdp changed: the AF_XDP fast path keeps its settings from "
                    "the start until meridiand restarts");
    /* The bucket table is shared by the workers without a lock (rrl.h): swapping it would
     * need a grace period and a way to carry the buckets and counters over, so its size
     * stays; every other rrl setting applies with the new snapshot. */
    if (srv->rrl && rrl_buckets_for(snap->cfg->rrl.table_size) != rrl_table_size(srv->rrl))
        log_warning("reload: server.rrl.table_size changed to %u: rate limiting keeps its table "
                    "of %u buckets until meridiand restarts",
                    snap->cfg->rrl.table_size, rrl_table_size(srv->rrl));
    log_set_format((enum log_format)snap->cfg->log_format);
    /* Answers per service, pool and member carry over by name (stats.h): once before the
     * publish, and again once no worker counts into the old set. */
    snap->stats_steer = stats_steer_new(snap->policies, srv->stats ? srv->stats->worker_count
                                                                   : net_lanes(snap->cfg));
    stats_steer_carry(snap->stats_steer, snapshot_current_get()->stats_steer);
    /* The monitor publishes into the new snapshot from now on, states carried over. A monitor
     * that cannot start leaves the new snapshot without health: its members count as up. */
    if (health_attach(srv, snap, err) < 0)
        log_error("reload: %s", err);
    control_set_monitor(srv->control, srv->monitor);
    http_set_monitor(srv->http, srv->monitor);
    struct snapshot *old = snapshot_publish(snap);
    synchronize_rcu(); /* every worker has left the old snapshot */
    stats_steer_carry(snap->stats_steer, old->stats_steer);
    snapshot_release(old); /* freed now, or by the last zone transfer still reading it */
    dnssec_ops_published(snap, snapshot_now());
    xfr_serve_published(snap, &srv->notifier);
    journal_published(snap); /* the IXFR history on disk, off the query path */
    secondary_published(snap);
    char summary[CONFIG_ERR_MAX];
    snprintf(summary, sizeof(summary), "%s%.300s%s%zu zones, %zu records in %.3f s",
             why ? "dnssec upkeep (" : "", why ? why : "", why ? "): " : "",
             snap->cfg->zone_count, snap->record_count, elapsed_s(&start));
    snapshot_record_reload(true, summary);
    control_reload_done(srv->control);
    log_info("reloaded: %s (listen addresses, workers, user and group change only on restart)",
             summary);
    notify_systemd("READY=1");
    dnssec_ops_keep_signatures(snap);
    return true;
}

bool
server_reload(struct server *srv)
{
    return reload(srv, NULL, NULL, 0);
}

time_t
server_upkeep(struct server *srv)
{
    unsigned interval = srv->upkeep_interval_s ? srv->upkeep_interval_s : 60;
    time_t now = snapshot_now(), next;
    char why[DNSSEC_OPS_TEXT_MAX], err[CONFIG_ERR_MAX];
    /* Every minute or so even when nothing is known to be due: the clock may have jumped,
     * and a state file may have been edited. The jitter keeps servers started together from
     * re-signing in step. */
    unsigned jitter = (unsigned)getpid() * 2654435761u % (interval / 10 + 1);
    time_t idle = now + interval + jitter;
    if (now < srv->upkeep_retry_at)
        return srv->upkeep_retry_at;
    if (!dnssec_ops_upkeep(snapshot_current_get(), now, &next, why))
        return next && next < idle ? next : idle;
    log_info("dnssec: %s: signing anew", why);
    bool ok = reload(srv, why, err, sizeof(err));
    dnssec_ops_count(ok, ok ? NULL : err);
    /* A failure keeps the old zone serving and is tried again a period later; success is
     * looked at again after a second (the next phase, or what the reload finished). */
    srv->upkeep_retry_at = now + (ok ? 1 : (time_t)interval);
    return srv->upkeep_retry_at;
}

/* The first round of health checks, for `startup: wait` services, at most
 * health.startup_wait. The wait is cut into slices so that SIGTERM/SIGINT stop the start at
 * once (in-flight probes are then abandoned by server_stop) instead of after the slowest
 * probe's timeout; a SIGHUP that arrives meanwhile is kept for after the start. Returns
 * false if a stop signal came. */
static bool
wait_first_round(struct server *srv, const struct config *cfg, bool *reload_pending)
{
    struct timespec start, poll_now = {0, 0};
    clock_gettime(CLOCK_MONOTONIC, &start);
    uint32_t left = 1;
    /* Bounded: every slice but the last takes 50 ms, up to startup_wait in total. */
    for (;;) {
        double waited_ms = elapsed_s(&start) * 1000.0;
        uint32_t budget = waited_ms >= cfg->startup_wait_ms
                              ? 0
                              : (uint32_t)(cfg->startup_wait_ms - waited_ms);
        left = health_monitor_wait_first_round(srv->monitor, budget < 50 ? budget : 50);
        int sig = sigtimedwait(srv->sigs, NULL, &poll_now);
        if (sig == SIGHUP)
            *reload_pending = true;
        else if (sig > 0 && sig != SIGUSR1) { /* SIGUSR1: the next reload publishes */
            log_info("signal %d during start: stopping", sig);
            return false;
        }
        if (left == 0 || budget <= 50)
            break;
    }
    if (left)
        log_warning("health: %u targets still unknown after %u ms; answering anyway (they "
                    "count as up until probed)",
                    left, cfg->startup_wait_ms);
    return true;
}

/* Descriptors kept for everything but the workers (net_fd.h): stdio, logging and the files a
 * reload reads or writes (zones, keys, the GeoIP database, state files: a few at a time);
 * the control socket and its clients; the health thread (its loop, libcurl, one socket per
 * probe in flight: at most one per target; three pipes per exec check running); zone
 * transfers (the NOTIFY thread's sockets, the transfer client's connection, file and
 * eventfd; outgoing transfers are TCP connections and count as such); the query log (its
 * socket or file and fstrm's thread's wake-up descriptors). */
static uint64_t
fd_reserve(const struct snapshot *snap)
{
    const struct config *cfg = snap->cfg;
    uint64_t reserve = 32;
    reserve += 1 + CONTROL_MAX_CLIENTS + NET_FD_PER_WORKER;
    if (snap->health_count)
        reserve += 8 + (uint64_t)snap->health_count + 3 * (uint64_t)cfg->exec_max_concurrent;
    reserve += 8 + 8;
    if (cfg->dnstap.socket || cfg->dnstap.file)
        reserve += 4;
    return reserve;
}

/* The open-files limit raised to the hard limit, and the connection tables fitted under it:
 * workers x tcp_max_connections beside the reserve. A table that does not fit is lowered with
 * a warning rather than the start failed: UDP and a smaller TCP service are better than no
 * server, and the warning names the fix. Fewer than NET_FD_MIN_CONNECTIONS per worker fails
 * the start. Returns 0 with the per-worker table size in *tcp_max, or -1 with err. */
static int
fit_fd_budget(const struct snapshot *snap, uint32_t *tcp_max, char err[CONFIG_ERR_MAX])
{
    const struct config *cfg = snap->cfg;
    uint64_t was;
    uint64_t limit = net_fd_raise_limit(&was);
    uint64_t reserve = fd_reserve(snap);
    uint32_t fit = net_fd_tcp_fit(limit, reserve, cfg->workers, cfg->listen_count,
                                  cfg->tcp_max_connections);
    if (limit != was)
        log_info("open files limit raised from %llu to %llu", (unsigned long long)was,
                 (unsigned long long)limit);
    if (fit < NET_FD_MIN_CONNECTIONS && fit < cfg->tcp_max_connections) {
        snprintf(err, CONFIG_ERR_MAX,
                 "open files limit %llu is too low: %u workers x %u TCP connections, %llu for "
                 "the listen sockets and %llu for the rest of the server do not fit (raise "
                 "LimitNOFILE / ulimit -n, or lower server.workers)",
                 (unsigned long long)limit, cfg->workers, (unsigned)NET_FD_MIN_CONNECTIONS,
                 (unsigned long long)net_fd_fixed(cfg->workers, cfg->listen_count),
                 (unsigned long long)reserve);
        return -1;
    }
    if (fit < cfg->tcp_max_connections)
        log_warning("open files limit %llu holds %u TCP connections per worker, not "
                    "server.tcp_max_connections %u (%u workers, %llu descriptors kept for "
                    "the rest): serving %u; raise LimitNOFILE / ulimit -n to %llu for all",
                    (unsigned long long)limit, fit, cfg->tcp_max_connections, cfg->workers,
                    (unsigned long long)reserve, fit,
                    (unsigned long long)(reserve + net_fd_fixed(cfg->workers, cfg->listen_count) +
                                         (uint64_t)cfg->workers * cfg->tcp_max_connections));
    *tcp_max = fit;
    return 0;
}

/* Everything that needs root comes first: the listen sockets (port 53) and the control socket
 * (its directory may be root's). Then the switch to server.user, before any probe, exec
 * check, state file access or reload runs. */
static int
open_sockets_and_drop(struct server *srv, const struct snapshot *snap, char err[CONFIG_ERR_MAX])
{
    const struct config *cfg = snap->cfg;
    uint32_t tcp_max;
    struct net_handler handler = {
        .answer = handle_query,
        .thread_start = worker_start,
        .thread_stop = worker_stop,
        .event = count_net_event,
        .ctx = srv,
    };
    bool drop = privdrop_needed(cfg);
    int ret = -1;
    if (fit_fd_budget(snap, &tcp_max, err) < 0 ||
        net_open(cfg, &handler, tcp_max, &srv->net, err) < 0)
        goto out;
    if (cfg->control_socket &&
        control_open(cfg->control_socket, drop ? cfg->uid : (uid_t)-1,
                     drop ? cfg->gid : (gid_t)-1, &srv->control, err) < 0)
        goto out;
    if (cfg->http_listen_text && http_open(cfg, &srv->http, err) < 0)
        goto out;
    if (drop && privdrop_hand_over_keys(cfg, err) < 0)
        goto out;
    if (privdrop_apply(cfg, err) < 0 || privdrop_check_state_dir(cfg, err) < 0 ||
        privdrop_check_key_dirs(cfg, err) < 0 || privdrop_check_tsig_secrets(cfg, err) < 0)
        goto out;
    if (cfg->user)
        log_info("running as user %s (uid %u), group %u", cfg->user, (unsigned)cfg->uid,
                 (unsigned)cfg->gid);
    ret = 0;
out:
    return ret;
}

int
server_start(struct server *srv, struct snapshot *snap, const struct timespec *load_start,
             char err[CONFIG_ERR_MAX])
{
    const struct config *cfg = snap->cfg;
    bool reload_pending = false;
    int ret = -1;
    log_set_level((enum log_level)cfg->log_level);
    log_set_format((enum log_format)cfg->log_format);
    log_info("loaded %zu zones, %zu records in %.3f s", cfg->zone_count, snap->record_count,
             elapsed_s(load_start));
    /* liburcu starts its call_rcu thread at the first call_rcu (the health thread frees
     * replaced tables with it) and aborts the process if it cannot: started here, before any
     * socket or child exists, so that abort leaves nothing behind. */
    if (snap->health_count)
        (void)get_default_call_rcu_data();
    /* Per-thread state is per lane: each worker's loop and each of its UDP threads (net.h). */
    unsigned lanes = net_lanes(cfg);
    srv->rngs = rngs_new(lanes);
    srv->stats = stats_new(lanes);
    metrics_register(srv->stats);
    snap->stats_steer = stats_steer_new(snap->policies, lanes);
    (void)snapshot_publish(snap);
    srv->published = true;
    uint8_t rrl_key[16];
    randombytes_buf(rrl_key, sizeof(rrl_key));
    srv->rrl = rrl_new(cfg->rrl.table_size, lanes, rrl_key);
    control_set_rrl(srv->rrl);
    metrics_register_rrl(srv->rrl);
    if (open_sockets_and_drop(srv, snap, err) < 0)
        goto out;
    /* The query log's file or socket is the server user's, like every file after the drop. */
    if (dnstap_open(cfg, lanes, &srv->dnstap, err) < 0)
        goto out;
    control_set_dnstap(srv->dnstap);
    metrics_register_dnstap(srv->dnstap);
    /* Health: probing starts, then everything answers at once except the steered names of
     * `startup: wait` services, whose answers are dropped (handle_query) until the first round
     * is in, bounded by health.startup_wait. */
    if (snap->health_count) {
        if (health_attach(srv, snap, err) < 0)
            goto out;
        control_set_monitor(srv->control, srv->monitor);
        atomic_store(&startup_waiting, true);
        http_set_monitor(srv->http, srv->monitor);
    }
    if ((srv->control && control_run(srv->control, err) < 0) ||
        (srv->http && http_run(srv->http, err) < 0) || net_run(srv->net, err) < 0)
        goto out;
    if (srv->http)
        log_info("http: /metrics and /status on %s", cfg->http_listen_text);
    for (size_t i = 0; i < cfg->listen_count; i++)
        log_info("listening on %s (udp, tcp)", cfg->listen[i].text);
    if (snap->health_count) {
        bool go_on = wait_first_round(srv, cfg, &reload_pending);
        atomic_store(&startup_waiting, false);
        if (!go_on) {
            srv->stop_requested = true;
            ret = 0;
            goto out;
        }
    }
    log_info("ready: %u workers", cfg->workers);
    notify_systemd("READY=1");
    /* Rollover phases count from their first publication, as this user (the files stay
     * the server's). */
    dnssec_ops_published(snap, snapshot_now());
    /* NOTIFY (RFC 1996) once we answer transfers: secondaries may have missed changes. */
    xfr_serve_published(snap, &srv->notifier);
    journal_published(snap); /* the IXFR history on disk, off the query path */
    /* Secondary zones: the transfer thread starts once we answer (its SIGUSR1 asks for a
     * reload, which the start's own signal wait would take as a stop). */
    secondary_published(snap);
    dnssec_ops_keep_signatures(snap);
    ret = 0;
    if (reload_pending)
        (void)server_reload(srv);
out:
    return ret;
}

void
server_serve(struct server *srv)
{
    for (;;) {
        time_t next = server_upkeep(srv), now = snapshot_now();
        /* Signals wake us at once; the timer at the next due time, a second at least. */
        struct timespec wait = {.tv_sec = next > now + 1 ? next - now : 1};
        int sig = sigtimedwait(srv->sigs, NULL, &wait);
        if (sig < 0) /* EAGAIN: time to look again; EINTR */
            continue;
        if (sig == SIGUSR1) {
            /* The transfer thread accepted a version, or a zone expired (secondary.h). */
            log_info("secondary zones changed: reloading to publish them");
            (void)server_reload(srv);
            continue;
        }
        if (sig == SIGHUP) {
            /* An operator's reload that works ends the wait after a failed upkeep one. */
            if (server_reload(srv))
                srv->upkeep_retry_at = 0;
            continue;
        }
        log_info("signal %d: stopping", sig);
        break;
    }
}

void
server_stop(struct server *srv)
{
    notify_systemd("STOPPING=1");
    /* The workers first (they read the snapshot), then the control thread (it reads the
     * snapshot and asks the monitor), then the monitor: cancels probes in flight (exec
     * children are killed), saves the state file and stops writing into the snapshot's
     * health slot. Only then may the snapshot go. */
    net_stop(srv->net);
    srv->net = NULL;
    control_stop(srv->control);
    srv->control = NULL;
    /* After the workers (it writes out what they queued) and the control thread (`status`
     * reads its counters). */
    control_set_dnstap(NULL);
    metrics_register_dnstap(NULL);
    dnstap_close(srv->dnstap);
    srv->dnstap = NULL;
    http_stop(srv->http); /* reads the snapshot and asks the monitor, like control */
    srv->http = NULL;
    health_monitor_stop(srv->monitor);
    srv->monitor = NULL;
    xfr_notifier_stop(srv->notifier);
    srv->notifier = NULL;
    if (srv->published) {
        synchronize_rcu();
        snapshot_release(snapshot_publish(NULL)); /* no transfer holds it: workers stopped */
        srv->published = false;
    }
    xfr_serve_stats_free();
    journal_free();
    secondary_stop();
    free(srv->rngs);
    srv->rngs = NULL;
    control_set_rrl(NULL);
    metrics_register_rrl(NULL);
    rrl_free(srv->rrl);
    srv->rrl = NULL;
    metrics_register(NULL);
    stats_free(srv->stats);
    srv->stats = NULL;
}
