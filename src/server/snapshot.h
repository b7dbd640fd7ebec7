/* SPDX-License-Identifier: MIT */
/* The snapshot: everything read-mostly that answering needs (config, compiled zones, the
 * GeoIP trees, the steering policies, the TSIG keys and the dns_view over them), built whole on the
 * main thread at start and on reload, published to the workers with an RCU pointer swap, and freed
 * only after every worker has left its read-side section (ARCHITECTURE.md §4). A failed load leaves
 * the current snapshot serving. */
#ifndef MERIDIAN_SERVER_SNAPSHOT_H
#define MERIDIAN_SERVER_SNAPSHOT_H

#include <stdatomic.h>
#include <time.h>

#include "config/config.h"
#include "dnssec/dnssec_zone.h"
#include "dns/dns.h"
#include "geoip/geoip.h"
#include "health/monitor.h"
#include "policy/policy_build.h"
#include "stats/stats.h"
#include "tsig/tsig.h"
#include "xfr/xfr_stream.h"

struct secondary_zone;

struct snapshot {
    struct config *cfg;
    struct zone_set *zones;
    struct geo_db *geo;                /* NULL without a geoip section */
    struct policy_set *policies;       /* NULL without services */
    struct dnssec_zone **signed_zones; /* per config zone: what the signer made, or NULL */
    /* While loading only: per config zone the signatures the last run kept
     * (dnssec_sigstore.h), or NULL; freed once the transfer views took theirs. */
    struct dnssec_sigstore **sigstores;
    struct tsig_keyring *tsig;         /* the config's tsig_keys; NULL without any */
    struct dns_cookie_secrets cookies; /* cookie_secret_file's, or the process's random one */
    struct dns_view view;
    size_t record_count;
    time_t loaded_at;
    /* Health: one spec per health id of `policies`, and the RCU slot the monitor publishes
     * this snapshot's health table into (workers read it with rcu_dereference). */
    struct health_spec *health_specs;
    uint32_t health_count;
    struct health_table *health;
    /* Zone transfers (server/xfr_serve.h): per config zone its transfer view, and the view
     * transfers are answered from. */
    struct xfr_zone **xfr_zones;
    struct xfr_view xfr;
    /* Secondary zones (server/secondary.h): per config zone its state, NULL for primaries. */
    struct secondary_zone **secondaries;
    /* Answers per service, pool and member (stats.h), sized from `policies` for the running
     * workers by the server before publishing; NULL when none (meridiand -n, -q). */
    struct stats_steer *stats_steer;
    /* References: the publisher's, plus one per zone transfer reading this snapshot across
     * event-loop iterations (ARCHITECTURE.md §4). The last release frees it. */
    atomic_uint refs;
};

/* The result of the last reload, for `meridianctl status` and `meridianctl reload`. */
struct snapshot_reload {
    time_t at; /* 0: none yet */
    bool ok;
    uint64_t seq;                 /* the number snapshot_reload_begin gave that reload */
    char message[CONFIG_ERR_MAX]; /* failed: "file:line: message"; ok: a summary */
};

/* Loads the config at `path`, the GeoIP database, every zone and every service.
 * 0, or -1 with "file:line: message". */
int snapshot_load(const char *path, struct snapshot **out, char err[CONFIG_ERR_MAX])
    __attribute__((warn_unused_result));
void snapshot_free(struct snapshot *snap);

/* A reference that outlives the RCU read side: taken inside it (with snap current, or held
 * already), dropped with snapshot_release from any thread. The publisher's reference is the
 * one snapshot_load returns; the thread that drops the last one frees the snapshot. */
void snapshot_hold(struct snapshot *snap);
void snapshot_release(struct snapshot *snap);

/* The snapshot workers answer from. Get it inside rcu_read_lock(); publish on the main
 * thread only, which returns the previous one (free it after synchronize_rcu()). */
struct snapshot *snapshot_current_get(void);
struct snapshot *snapshot_publish(struct snapshot *snap);

/* The wall clock of signing, the DNSSEC upkeep and `status`: time() unless a test sets
 * another (before any thread starts). Any thread. */
void snapshot_set_clock(time_t (*clock)(void));
time_t snapshot_now(void);

/* Reloads are numbered: the main thread calls snapshot_reload_begin as each one starts and
 * snapshot_record_reload when it ends (reloads never overlap). A `meridianctl reload` waits
 * for the first reload numbered above snapshot_reloads_started() at its request. Any thread. */
uint64_t snapshot_reload_begin(void);
uint64_t snapshot_reloads_started(void);
void snapshot_record_reload(bool ok, const char *message);
struct snapshot_reload snapshot_last_reload(void);

/* Every reload's outcome counted, and the last SNAPSHOT_RELOADS_KEPT of them (newest first),
 * for metrics and the status page. Any thread. */
#define SNAPSHOT_RELOADS_KEPT 8
struct snapshot_reload_history {
    uint64_t ok, failed;
    struct snapshot_reload last[SNAPSHOT_RELOADS_KEPT];
    unsigned count;
};
void snapshot_reload_history(struct snapshot_reload_history *out);

#endif
