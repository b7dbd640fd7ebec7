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

static void
reload(const char *path)
{
    char err[CONFIG_ERR_MAX];
    struct snapshot *snap;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    notify_systemd("RELOADING=1");
    if (snapshot_load(path, &snap, err) < 0) {
        log_error("reload failed, still serving the previous data: %s", err);
        snapshot_record_reload(false, err);
        notify_systemd("READY=1");
        return;
    }
    log_set_level((enum log_level)snap->cfg->log_level);
    /* The monitor publishes into the new snapshot from now on, states carried over. */
    (void)health_attach(snap, err);
    struct snapshot *old = snapshot_publish(snap);
    synchronize_rcu(); /* every worker has left the old snapshot */
    snapshot_free(old);
    snapshot_record_reload(true, NULL);
    log_info("reloaded: %zu zones, %zu records in %.3f s (listen addresses and workers change "
             "only on restart)",
             snap->cfg->zone_count, snap->record_count, elapsed_s(&start));
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
    while ((opt = getopt(argc, argv, "c:nq:Vh")) != -1) {
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
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - (explain_client ? 2 : 0)) {
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
                               stdout);
        if (rc < 0)
            fprintf(stderr, "usage: meridiand -q CLIENT_IP[/ECS_PREFIX] QNAME QTYPE -c FILE\n");
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

    /* Health: probe first, and for `startup: wait` services answer only once the first
     * round is in (bounded by health.startup_wait). */
    if (snap->health_count) {
        if (health_attach(snap, err) < 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        uint32_t left = health_monitor_wait_first_round(monitor, snap->cfg->startup_wait_ms);
        if (left)
            log_warning("health: %u targets still unknown after %u ms; answering anyway (they "
                        "count as up until probed)",
                        left, snap->cfg->startup_wait_ms);
    }
    struct control *control = NULL;
    if (snap->cfg->control_socket &&
        control_start(snap->cfg->control_socket, monitor, &control, err) < 0) {
        fprintf(stderr, "%s\n", err);
        health_monitor_stop(monitor);
        return 1;
    }


    worker_rngs = xcalloc(snap->cfg->workers, sizeof(*worker_rngs));
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
    struct net *net;
    if (net_start(snap->cfg, &handler, &net, err) < 0) {
        fprintf(stderr, "%s\n", err);
        snapshot_free(snap);
        return 1;
    }
    for (size_t i = 0; i < snap->cfg->listen_count; i++)
        log_info("listening on %s (udp, tcp)", snap->cfg->listen[i].text);
    log_info("ready: %u workers", snap->cfg->workers);
    notify_systemd("READY=1");

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
    notify_systemd("STOPPING=1");
    net_stop(net);
    control_stop(control);
    health_monitor_stop(monitor);
    synchronize_rcu();
    snapshot_free(snapshot_publish(NULL));
    free(worker_rngs);
    return 0;
}
