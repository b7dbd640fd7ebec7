// SPDX-License-Identifier: MIT
/* meridiand: the authoritative server. Loads the config and zones into a snapshot, starts
 * the network workers, then the main thread waits for signals: SIGHUP reloads (a new
 * snapshot is built here while workers keep answering from the old one; on any error the
 * old one stays), SIGINT/SIGTERM stop. `-n` checks the config and zones and exits. */
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/notify.h"
#include "net/net.h"
#include "health/monitor.h"
#include "server/control.h"
#include "server/explain.h"
#include "server/privdrop.h"
#include "server/snapshot.h"

#define DEFAULT_CONFIG "/etc/meridian/meridian.yaml"

/* Per-worker random state for weighted choices, one cache line each so workers never share. */
struct worker_rng {
    _Alignas(64) uint64_t state;
};
static struct worker_rng *worker_rngs;

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

static size_t
handle_query(void *ctx, unsigned worker, const struct net_query *nq, uint8_t *out,
             size_t out_max)
{
    (void)ctx;
    struct dns_client client = {.addr = nq->client,
                                .tcp = nq->tcp,
                                .random = next_random(&worker_rngs[worker])};
    struct dns_result result;
    rcu_read_lock();
    const struct snapshot *snap = snapshot_current_get();
    if (snap->policies) {
        client.health = rcu_dereference(snap->health);
        client.now_s = health_now_s();
    }
    if (nq->listen_index < snap->cfg->listen_count)
        client.ecs_ignore = snap->cfg->listen[nq->listen_index].ecs_ignore;
    size_t n = dns_answer(&snap->view, &client, nq->data, nq->len, out, out_max, &result);
    rcu_read_unlock();
    return n;
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


static double
elapsed_s(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static struct health_monitor *monitor;

/* Starts (first call) or re-targets the health monitor for snap. */
static int
health_attach(struct snapshot *snap, char err[CONFIG_ERR_MAX])
{
    if (!monitor)
        return health_monitor_start(snap->cfg, snap->health_specs, snap->health_count,
                                    &snap->health, &monitor, err);
    health_monitor_update(monitor, snap->cfg, snap->health_specs, snap->health_count,
                          &snap->health);
    return 0;
}

static struct control *control;

/* SIGHUP or `meridianctl reload`: builds a new snapshot while the workers keep answering from
 * the old one; any error keeps the old one. Main thread. */
static void
reload(const char *path)
{
    char err[CONFIG_ERR_MAX];
    struct snapshot *snap;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    (void)snapshot_reload_begin();
    notify_systemd("RELOADING=1");
    if (snapshot_load(path, &snap, err) < 0) {
        log_error("reload failed, still serving the previous data: %s", err);
        snapshot_record_reload(false, err);
        control_reload_done(control);
        notify_systemd("READY=1");
        return;
    }
    log_set_level((enum log_level)snap->cfg->log_level);
    /* The monitor publishes into the new snapshot from now on, states carried over. A monitor
     * that cannot start leaves the new snapshot without health: its members count as up. */
    if (health_attach(snap, err) < 0)
        log_error("reload: %s", err);
    control_set_monitor(control, monitor);
    struct snapshot *old = snapshot_publish(snap);
    synchronize_rcu(); /* every worker has left the old snapshot */
    snapshot_free(old);
    char summary[128];
    snprintf(summary, sizeof(summary), "%zu zones, %zu records in %.3f s", snap->cfg->zone_count,
             snap->record_count, elapsed_s(&start));
    snapshot_record_reload(true, summary);
    control_reload_done(control);
    log_info("reloaded: %s (listen addresses, workers, user and group change only on restart)",
             summary);
    notify_systemd("READY=1");
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: meridiand [-c FILE] [-n] [-q CLIENT[/PREFIX] QNAME QTYPE] [-V] [-h]\n"
               "  -c FILE  configuration file (default " DEFAULT_CONFIG ")\n"
               "  -n       check the configuration and every zone, then exit\n"
               "  -q       answer one query offline and explain how it was chosen\n"
               "  -V       print the version and exit\n"
               "  -h       this help\n"
               "signals: SIGHUP reloads config and zones; SIGINT/SIGTERM stop\n");
}

/* The first round of health checks, for `startup: wait` services, at most
 * health.startup_wait. The wait is cut into slices so that SIGTERM/SIGINT stop the start at
 * once (in-flight probes are then abandoned by the caller) instead of after the slowest
 * probe's timeout; a SIGHUP that arrives meanwhile is kept for after the start. Returns
 * false if a stop signal came. */
static bool
wait_first_round(const struct config *cfg, const sigset_t *sigs, bool *reload_pending)
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
        left = health_monitor_wait_first_round(monitor, budget < 50 ? budget : 50);
        int sig = sigtimedwait(sigs, NULL, &poll_now);
        if (sig == SIGHUP)
            *reload_pending = true;
        else if (sig > 0) {
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

int
main(int argc, char **argv)
{
    const char *path = DEFAULT_CONFIG;
    bool check_only = false;
    const char *explain_client = NULL;
    /* ldns allocates and frees line buffers for every record it parses; without a trim
     * threshold glibc returns the heap top to the kernel each time (brk thrash: 10x slower
     * loads of large zones). */
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_TOP_PAD, 16 << 20);
    int opt;
    opterr = 0; /* our own messages below */
    while ((opt = getopt(argc, argv, ":c:nq:Vh")) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 'n':
            check_only = true;
            break;
        case 'q':
            explain_client = optarg;
            break;
        case 'V':
            printf("meridiand 0.1.0\n");
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        case ':':
            fprintf(stderr, "meridiand: -%c needs an argument\n", optopt);
            usage(stderr);
            return 2;
        default:
            fprintf(stderr, "meridiand: unknown option -%c\n", optopt);
            usage(stderr);
            return 2;
        }
    }
    if (explain_client && argc - optind != 2) {
        fprintf(stderr, "meridiand: -q CLIENT[/PREFIX] needs QNAME and QTYPE after it (got %d "
                        "more arguments)\n",
                argc - optind);
        return 2;
    }
    if (!explain_client && optind != argc) {
        fprintf(stderr, "meridiand: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }

    /* Signals are taken by sigwait() on the main thread only: block them before any thread
     * (zone parsers, health, control, workers) exists, so every thread inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    char err[CONFIG_ERR_MAX];
    struct snapshot *snap;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    if (snapshot_load(path, &snap, err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (explain_client) {
        int rc = explain_query(snap, NULL, explain_client, argv[optind], argv[optind + 1],
                               stdout, err, sizeof(err));
        if (rc < 0)
            fprintf(stderr, "meridiand: -q: %s\n", err);
        snapshot_free(snap);
        return rc < 0 ? 2 : 0;
    }
    if (check_only) {
        printf("%s: ok: %zu zones, %zu records\n", path, snap->cfg->zone_count,
               snap->record_count);
        snapshot_free(snap);
        return 0;
    }
    log_set_level((enum log_level)snap->cfg->log_level);
    log_info("loaded %zu zones, %zu records in %.3f s", snap->cfg->zone_count, snap->record_count,
             elapsed_s(&start));
    (void)snapshot_publish(snap);

    /* calloc promises only 16-byte alignment, and each worker's state must have its cache
     * line to itself (UBSan rightly reports a misaligned one). */
    worker_rngs = aligned_alloc(_Alignof(struct worker_rng),
                                snap->cfg->workers * sizeof(*worker_rngs));
    if (!worker_rngs) {
        fprintf(stderr, "fatal: out of memory allocating worker state\n");
        abort();
    }
    memset(worker_rngs, 0, snap->cfg->workers * sizeof(*worker_rngs));
    for (unsigned i = 0; i < snap->cfg->workers; i++) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        worker_rngs[i].state = ((uint64_t)now.tv_nsec << 20) ^ (uint64_t)now.tv_sec ^
                               ((uint64_t)getpid() << 40) ^ (0x9E3779B97F4A7C15ULL * (i + 1));
    }
    struct net_handler handler = {
        .answer = handle_query,
        .thread_start = worker_start,
        .thread_stop = worker_stop,
    };
    /* Everything that needs root comes first: the listen sockets (port 53) and the control
     * socket (its directory may be root's). Then the switch to server.user, before any
     * probe, exec check, state file access or reload runs. Queries that arrive before the
     * workers start wait in the socket buffers. */
    struct net *net = NULL;
    bool drop = privdrop_needed(snap->cfg);
    bool reload_pending = false, stopped = false;
    int rc = 1;
    if (net_open(snap->cfg, &handler, &net, err) < 0)
        goto out;
    if (snap->cfg->control_socket &&
        control_open(snap->cfg->control_socket, drop ? snap->cfg->uid : (uid_t)-1,
                     drop ? snap->cfg->gid : (gid_t)-1, &control, err) < 0)
        goto out;
    if (privdrop_apply(snap->cfg, err) < 0 || privdrop_check_state_dir(snap->cfg, err) < 0)
        goto out;
    if (snap->cfg->user)
        log_info("running as user %s (uid %u), group %u", snap->cfg->user,
                 (unsigned)snap->cfg->uid, (unsigned)snap->cfg->gid);

    /* Health: probe first, and for `startup: wait` services answer only once the first
     * round is in (bounded by health.startup_wait). */
    if (snap->health_count) {
        if (health_attach(snap, err) < 0)
            goto out;
        control_set_monitor(control, monitor);
        if (!wait_first_round(snap->cfg, &sigs, &reload_pending)) {
            stopped = true;
            goto out;
        }
    }
    if ((control && control_run(control, err) < 0) || net_run(net, err) < 0)
        goto out;
    for (size_t i = 0; i < snap->cfg->listen_count; i++)
        log_info("listening on %s (udp, tcp)", snap->cfg->listen[i].text);
    log_info("ready: %u workers", snap->cfg->workers);
    notify_systemd("READY=1");
    if (reload_pending)
        reload(path);

    for (;;) {
        int sig;
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            reload(path);
            continue;
        }
        log_info("signal %d: stopping", sig);
        break;
    }
    stopped = true;
out:
    if (!stopped)
        fprintf(stderr, "%s\n", err);
    else
        rc = 0;
    notify_systemd("STOPPING=1");
    net_stop(net);
    control_stop(control);
    /* Cancels probes in flight (exec children are killed) and saves the state file. */
    health_monitor_stop(monitor);
    synchronize_rcu();
    snapshot_free(snapshot_publish(NULL));
    free(worker_rngs);
    return rc;
}
