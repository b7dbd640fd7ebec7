// SPDX-License-Identifier: MIT
/* meridiand: the authoritative server. main runs four phases: parse the options; load the
 * config and zones into the first snapshot (`-n` checks them and exits, `-q` explains one
 * query and exits, `--dnssec-ds` prints a signed zone's records for its parent and exits);
 * start (server_start in lifecycle.c, which records what it started);
 * serve signals until SIGINT/SIGTERM; stop, which undoes whatever the start did, also when
 * the start failed half-way. Main thread. */
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dnssec/dnssec_report.h"
#include "server/dnssec_ops.h"
#include "server/explain.h"
#include "server/journal.h"
#include "server/lifecycle.h"
#include "server/secondary.h"
#include "server/snapshot.h"

#define DEFAULT_CONFIG "/etc/meridian/meridian.yaml"

static void
usage(FILE *f)
{
    fprintf(f, "usage: meridiand [-c FILE] [-n] [-q CLIENT[/PREFIX] QNAME QTYPE]\n"
               "                 [--dnssec-ds ZONE [sha256|sha384|all]] [-V] [-h]\n"
               "  -c FILE  configuration file (default " DEFAULT_CONFIG ")\n"
               "  -n       check the configuration and every zone, then exit\n"
               "  -q       answer one query offline and explain how it was chosen\n"
               "  --dnssec-ds ZONE\n"
               "           print the DS, DNSKEY and CDNSKEY records of the signed ZONE for its\n"
               "           parent (keys made first if missing, as the server would), then exit\n"
               "  -V       print the version and exit\n"
               "  -h       this help\n"
               "signals: SIGHUP reloads config and zones; SIGINT/SIGTERM stop\n");
}

struct options {
    const char *path;
    bool check_only;
    const char *explain_client; /* -q: then argv[optind] and argv[optind + 1] */
    const char *ds_zone;        /* --dnssec-ds: then argv[optind], the digests, if given */
};

/* Returns -1 to go on, or the exit status when the options say to stop now (-V, -h, an
 * error). */
static int
parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"dnssec-ds", required_argument, NULL, 'D'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    *o = (struct options){.path = DEFAULT_CONFIG};
    opterr = 0; /* our own messages below */
    while ((opt = getopt_long(argc, argv, ":c:nq:Vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'D':
            o->ds_zone = optarg;
            break;
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
            if (optopt == 'D')
                fprintf(stderr, "meridiand: --dnssec-ds needs a zone\n");
            else
                fprintf(stderr, "meridiand: -%c needs an argument\n", optopt);
            usage(stderr);
            return 2;
        default:
            if (optopt)
                fprintf(stderr, "meridiand: unknown option -%c\n", optopt);
            else
                fprintf(stderr, "meridiand: unknown option %s\n", argv[optind - 1]);
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
    if (o->ds_zone && (o->explain_client || o->check_only)) {
        fprintf(stderr, "meridiand: --dnssec-ds goes alone, without -n or -q\n");
        return 2;
    }
    if (o->ds_zone && argc - optind == 1 && strcmp(argv[optind], "sha256") != 0 &&
        strcmp(argv[optind], "sha384") != 0 && strcmp(argv[optind], "all") != 0) {
        fprintf(stderr, "meridiand: --dnssec-ds ZONE takes sha256, sha384 or all after it, not "
                        "'%s'\n",
                argv[optind]);
        return 2;
    }
    if (o->ds_zone && argc - optind <= 1)
        return -1;
    if (o->ds_zone) {
        fprintf(stderr, "meridiand: unexpected argument '%s'\n", argv[optind + 1]);
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
    sigaddset(sigs, SIGUSR1); /* a secondary zone has a version to publish (secondary.h) */
    pthread_sigmask(SIG_BLOCK, sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* -q (explain one query), -n (check) or --dnssec-ds: nothing is started. Frees snap;
 * returns the exit status. */
static int
run_offline(const struct options *o, char **argv, struct snapshot *snap)
{
    char err[CONFIG_ERR_MAX];
    int rc = 0;
    if (o->ds_zone) {
        /* The records from the keys this load used, made by the same code as `meridianctl
         * dnssec ds`: the two print the same. */
        const char *digest = argv[optind] ? argv[optind] : "sha256";
        unsigned digests = strcmp(digest, "sha384") == 0 ? DNSSEC_REPORT_SHA384
                           : strcmp(digest, "all") == 0
                               ? DNSSEC_REPORT_SHA256 | DNSSEC_REPORT_SHA384
                               : DNSSEC_REPORT_SHA256;
        char derr[DNSSEC_OPS_TEXT_MAX];
        rc = dnssec_ops_ds(snap, o->ds_zone, digests, stdout, derr);
        if (rc < 0)
            fprintf(stderr, "meridiand: --dnssec-ds: %s\n", derr);
        rc = rc < 0 ? 1 : 0;
    } else if (o->explain_client) {
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
    secondary_stop(); /* the secondary zones' state the load made */
    journal_free();
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
    /* libsodium: picks its implementations and opens the random source, before any thread. */
    if (sodium_init() < 0) {
        fprintf(stderr, "fatal: libsodium failed to initialise\n");
        return 1;
    }

    char err[CONFIG_ERR_MAX];
    struct snapshot *snap;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    if (snapshot_load(opts.path, &snap, err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (opts.explain_client || opts.check_only || opts.ds_zone)
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
