// SPDX-License-Identifier: MIT
/* meridiand: the authoritative server. main runs four phases: parse the options; load the
 * config and zones into the first snapshot (`-n` checks them and exits, `-q` explains one
 * query and exits); start (server_start in lifecycle.c, which records what it started);
 * serve signals until SIGINT/SIGTERM; stop, which undoes whatever the start did, also when
 * the start failed half-way. Main thread. */
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "server/explain.h"
#include "server/lifecycle.h"
#include "server/snapshot.h"

#define DEFAULT_CONFIG "/etc/meridian/meridian.yaml"

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

struct options {
    const char *path;
    bool check_only;
    const char *explain_client; /* -q: then argv[optind] and argv[optind + 1] */
};

/* Returns -1 to go on, or the exit status when the options say to stop now (-V, -h, an
 * error). */
static int
parse_options(int argc, char **argv, struct options *o)
{
    int opt;
    *o = (struct options){.path = DEFAULT_CONFIG};
    opterr = 0; /* our own messages below */
    while ((opt = getopt(argc, argv, ":c:nq:Vh")) != -1) {
        switch (opt) {
        case 'c':
            o->path = optarg;
            break;
        case 'n':
            o->check_only = true;
            break;
        case 'q':
            o->explain_client = optarg;
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
    if (o->explain_client && argc - optind != 2) {
        fprintf(stderr, "meridiand: -q CLIENT[/PREFIX] needs QNAME and QTYPE after it (got %d "
                        "more arguments)\n",
                argc - optind);
        return 2;
    }
    if (!o->explain_client && optind != argc) {
        fprintf(stderr, "meridiand: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    return -1;
}

/* Signals are taken by sigwait() on the main thread only: blocked before any thread (zone
 * parsers, health, control, workers) exists, so every thread inherits the mask. */
static void
block_signals(sigset_t *sigs)
{
    sigemptyset(sigs);
    sigaddset(sigs, SIGHUP);
    sigaddset(sigs, SIGINT);
    sigaddset(sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* -q (explain one query) or -n (check): nothing is started. Frees snap; returns the exit
 * status. */
static int
run_offline(const struct options *o, char **argv, struct snapshot *snap)
{
    char err[CONFIG_ERR_MAX];
    int rc = 0;
    if (o->explain_client) {
        rc = explain_query(snap, NULL, o->explain_client, argv[optind], argv[optind + 1],
                           stdout, err, sizeof(err));
        if (rc < 0)
            fprintf(stderr, "meridiand: -q: %s\n", err);
        rc = rc < 0 ? 2 : 0;
    } else {
        printf("%s: ok: %zu zones, %zu records\n", o->path, snap->cfg->zone_count,
               snap->record_count);
    }
    snapshot_free(snap);
    return rc;
}

int
main(int argc, char **argv)
{
    struct options opts;
    int rc = parse_options(argc, argv, &opts);
    if (rc >= 0)
        return rc;
    /* ldns allocates and frees line buffers for every record it parses; without a trim
     * threshold glibc returns the heap top to the kernel each time (brk thrash: 10x slower
     * loads of large zones). */
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_TOP_PAD, 16 << 20);

    sigset_t sigs;
    block_signals(&sigs);

    char err[CONFIG_ERR_MAX];
    struct snapshot *snap;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    if (snapshot_load(opts.path, &snap, err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (opts.explain_client || opts.check_only)
        return run_offline(&opts, argv, snap);
    struct server srv = {.path = opts.path, .sigs = &sigs};
    rc = 0;
    if (server_start(&srv, snap, &start, err) < 0) {
        fprintf(stderr, "%s\n", err);
        rc = 1;
    } else if (!srv.stop_requested) {
        server_serve(&srv);
    }
    server_stop(&srv);
    return rc;
}
