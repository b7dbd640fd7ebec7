// SPDX-License-Identifier: MIT
/* Prometheus metrics and `meridianctl stats` (see metrics.h). Counters are summed from the
 * workers' blocks at each request; zones, services, pools and members come from the current
 * snapshot (names as labels: a reload that renames one starts a new series), health from the
 * health thread's report. Runs on the http or the control thread. */
#include "server/metrics.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <urcu.h>

#include "dnstap/dnstap.h"
#include "health/state_file.h"
#include "rrl/rrl.h"
#include "server/control.h"
#include "server/xfr_serve.h"
#include "stats/prom.h"

static _Atomic(struct stats *) registered;
static _Atomic(const struct rrl *) registered_rrl;
static _Atomic(const struct dnstap *) registered_dnstap;

void
metrics_register(struct stats *st)
{
    atomic_store(&registered, st);
}

void
metrics_register_rrl(const struct rrl *rrl)
{
    atomic_store(&registered_rrl, rrl);
}

void
metrics_register_dnstap(const struct dnstap *dt)
{
    atomic_store(&registered_dnstap, dt);
}

void
metrics_utc(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

unsigned long long
metrics_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long kib = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %llu kB", &kib) == 1)
            break;
    fclose(f);
    return kib * 1024;
}

const struct health_target_report *
metrics_target_find(const struct health_report *r, const char *key, uint32_t hint)
{
    if (hint < r->count && strcmp(r->targets[hint].key, key) == 0)
        return &r->targets[hint];
    for (uint32_t i = 0; i < r->count; i++)
        if (strcmp(r->targets[i].key, key) == 0)
            return &r->targets[i];
    return NULL; /* a reload changed the targets between the report and the snapshot */
}

static void
counter(FILE *out, const char *name, const char *help, uint64_t value)
{
    prom_family(out, name, "counter", help);
    prom_sample(out, name, NULL, value);
}

static void
gauge(FILE *out, const char *name, const char *help, double value)
{
    prom_family(out, name, "gauge", help);
    prom_sample_double(out, name, NULL, value);
}

/* One family of counters over an index: name{label="names(i)"} values[i]. */
static void
indexed(FILE *out, const char *name, const char *help, const char *label, enum stats_label kind,
        const uint64_t *values, unsigned n)
{
    prom_family(out, name, "counter", help);
    for (unsigned i = 0; i < n; i++)
        prom_sample(out, name, (prom_labels){label, stats_label(kind, i), NULL}, values[i]);
}

static void
query_counters(FILE *out, const struct stats_totals *t)
{
    prom_family(out, "meridian_queries_total", "counter",
                "DNS messages received, by transport and client address family");
    for (unsigned tr = 0; tr < STATS_TRANSPORTS; tr++)
        for (unsigned f = 0; f < STATS_FAMILIES; f++)
            prom_sample(out, "meridian_queries_total",
                        (prom_labels){"transport", stats_label(STATS_LABEL_TRANSPORT, tr), "family",
                                      stats_label(STATS_LABEL_FAMILY, f), NULL},
                        t->queries[tr][f]);
    indexed(out, "meridian_queries_by_qtype_total", "Queries answered or transferred, by type",
            "qtype", STATS_LABEL_QTYPE, t->qtype, STATS_QTYPES);
    indexed(out, "meridian_responses_total", "Responses sent, by response code", "rcode",
            STATS_LABEL_RCODE, t->rcode, STATS_RCODES);
    indexed(out, "meridian_response_bytes_total", "Bytes of responses sent, by transport",
            "transport", STATS_LABEL_TRANSPORT, t->response_bytes, STATS_TRANSPORTS);
    counter(out, "meridian_edns_queries_total", "Queries with an EDNS OPT record", t->edns);
    counter(out, "meridian_ecs_queries_total",
            "Queries with a usable EDNS Client Subnet option (RFC 7871)", t->ecs_present);
    counter(out, "meridian_ecs_used_total",
            "Steered answers that depended on the ECS subnet (scope above 0)", t->ecs_used);
    counter(out, "meridian_truncated_total", "Responses sent with TC set", t->truncated);
    counter(out, "meridian_malformed_total", "Queries answered FORMERR", t->malformed);
    indexed(out, "meridian_dropped_total", "Messages dropped without an answer, by reason",
            "reason", STATS_LABEL_DROP, t->dropped, STATS_DROPS);
    counter(out, "meridian_steered_total", "Answers chosen by a steering policy", t->steered);
    counter(out, "meridian_failed_open_total",
            "Steered answers given with every candidate down (all_down)", t->failed_open);
    prom_family(out, "meridian_transfer_requests_total", "counter",
                "AXFR and IXFR requests handed to the transfer code");
    prom_sample(out, "meridian_transfer_requests_total", (prom_labels){"type", "AXFR", NULL},
                t->transfers[0]);
    prom_sample(out, "meridian_transfer_requests_total", (prom_labels){"type", "IXFR", NULL},
                t->transfers[1]);
    counter(out, "meridian_tcp_connections_accepted_total", "TCP connections accepted",
            t->events[STATS_EVENT_TCP_ACCEPTED]);
    counter(out, "meridian_tcp_connections_closed_total", "TCP connections closed",
            t->events[STATS_EVENT_TCP_CLOSED]);
    counter(out, "meridian_tcp_connections_evicted_total",
            "TCP connections closed to make room for a new one",
            t->events[STATS_EVENT_TCP_EVICTED]);
}

/* Answers per service, pool and member: names from the snapshot, counts carried across
 * reloads by name (stats.h). */
static void
steer_counters(FILE *out, const struct snapshot *snap)
{
    const struct policy_set *set = snap->policies;
    const struct stats_steer *ss = snap->stats_steer;
    static const char *const names[3] = {"meridian_service_answers_total",
                                         "meridian_pool_answers_total",
                                         "meridian_member_answers_total"};
    static const char *const helps[3] = {"Steered answers, by service",
                                         "Steered answers, by service and pool answered from",
                                         "Steered answers, by the first member answered"};
    for (int level = 0; level < 3; level++) {
        prom_family(out, names[level], "counter", helps[level]);
        for (uint32_t s = 0; set && ss && s < set->count; s++) {
            const struct policy_service *svc = &set->services[s];
            if (level == 0) {
                prom_sample(out, names[0], (prom_labels){"service", svc->cfg->name, NULL},
                            stats_steer_service(ss, s));
                continue;
            }
            for (uint32_t p = 0; p < svc->pool_count; p++) {
                const struct policy_pool *pool = &svc->pools[p];
                if (level == 1) {
                    prom_sample(out, names[1],
                                (prom_labels){"service", svc->cfg->name, "pool", pool->name, NULL},
                                stats_steer_pool(ss, s, p));
                    continue;
                }
                for (uint32_t m = 0; m < pool->member_count; m++)
                    prom_sample(
                        out, names[2],
                        (prom_labels){"service", svc->cfg->name, "pool", pool->name, "member",
                                      set->health_targets[pool->members[m].health_id].text, NULL},
                        stats_steer_member(ss, s, p, m));
            }
        }
    }
}

static void
zone_metrics(FILE *out, const struct snapshot *snap)
{
    static const char *const kinds[] = {"axfr", "ixfr", "up_to_date", "refused", "aborted"};
    prom_family(out, "meridian_zone_serial", "gauge", "SOA serial of each zone served");
    for (size_t i = 0; i < snap->zones->count; i++)
        prom_sample(out, "meridian_zone_serial",
                    (prom_labels){"zone", snap->cfg->zones[i].origin, NULL},
                    snap->zones->zones[i]->serial);
    prom_family(out, "meridian_zone_records", "gauge", "Records of each zone served");
    for (size_t i = 0; i < snap->zones->count; i++)
        prom_sample(out, "meridian_zone_records",
                    (prom_labels){"zone", snap->cfg->zones[i].origin, NULL},
                    snap->zones->zones[i]->record_count);
    prom_family(out, "meridian_zone_signed", "gauge", "1 if the zone is DNSSEC-signed");
    for (size_t i = 0; i < snap->zones->count; i++)
        prom_sample(out, "meridian_zone_signed",
                    (prom_labels){"zone", snap->cfg->zones[i].origin, NULL},
                    snap->zones->zones[i]->dnssec != NULL);
    prom_family(out, "meridian_zone_transfers_total", "counter",
                "Zone transfers served, by outcome (axfr: full, ixfr: incremental)");
    for (size_t i = 0; i < snap->zones->count; i++) {
        struct xfr_stats *x = xfr_serve_stats(snap->zones->zones[i]->origin);
        uint64_t v[] = {atomic_load(&x->axfr), atomic_load(&x->ixfr), atomic_load(&x->up_to_date),
                        atomic_load(&x->refused), atomic_load(&x->aborted)};
        for (unsigned k = 0; k < 5; k++)
            prom_sample(
                out, "meridian_zone_transfers_total",
                (prom_labels){"zone", snap->cfg->zones[i].origin, "outcome", kinds[k], NULL}, v[k]);
    }
}

static void
reload_metrics(FILE *out, const struct snapshot *snap)
{
    struct snapshot_reload_history h;
    snapshot_reload_history(&h);
    prom_family(out, "meridian_reloads_total", "counter", "Reloads, by result");
    prom_sample(out, "meridian_reloads_total", (prom_labels){"result", "ok", NULL}, h.ok);
    prom_sample(out, "meridian_reloads_total", (prom_labels){"result", "failed", NULL}, h.failed);
    gauge(out, "meridian_last_reload_success",
          "1 if the last reload succeeded (or none happened yet), 0 if it failed",
          h.count == 0 || h.last[0].ok);
    gauge(out, "meridian_loaded_timestamp_seconds",
          "When the data being served was loaded (Unix time)", (double)snap->loaded_at);
}

static uint64_t
target_transitions(const struct health_target_report *t)
{
    return t->transitions;
}

static uint64_t
target_since(const struct health_target_report *t)
{
    return (uint64_t)t->since;
}

static unsigned
target_state(const struct health_target_report *t)
{
    return t->state;
}

static unsigned
target_force(const struct health_target_report *t)
{
    return t->force;
}

/* name{target="key",label="names[k]"} 1 for k = which(target), 0 for the other two. */
static void
one_hot(FILE *out, const char *name, const char *help, const struct health_report *r,
        const char *label, const char *const names[3],
        unsigned (*which)(const struct health_target_report *))
{
    prom_family(out, name, "gauge", help);
    for (uint32_t i = 0; i < r->count; i++)
        for (unsigned k = 0; k < 3; k++)
            prom_sample(out, name,
                        (prom_labels){"target", r->targets[i].key, label, names[k], NULL},
                        which(&r->targets[i]) == k);
}

/* name{target="key"} value(target), for every target. */
static void
per_target(FILE *out, const char *name, const char *type, const char *help,
           const struct health_report *r, uint64_t (*value)(const struct health_target_report *))
{
    prom_family(out, name, type, help);
    for (uint32_t i = 0; i < r->count; i++)
        prom_sample(out, name, (prom_labels){"target", r->targets[i].key, NULL},
                    value(&r->targets[i]));
}

/* The health thread's targets: state, transitions, since when, probe durations. */
static void
health_metrics(FILE *out, const struct health_report *r)
{
    one_hot(out, "meridian_health_state",
            "1 for the effective state of each health target (after forcing)", r, "state",
            health_state_names, target_state);
    one_hot(out, "meridian_health_forced",
            "1 for the operator's forcing of each target (none, up, down: drained)", r, "force",
            health_force_names, target_force);
    per_target(out, "meridian_health_transitions_total", "counter",
               "State changes of each target from its probes", r, target_transitions);
    per_target(out, "meridian_health_since_timestamp_seconds", "gauge",
               "When each target's probed state last changed (Unix time)", r, target_since);
    prom_family(out, "meridian_health_probe_duration_seconds", "histogram",
                "Probe durations of each checked target, start to result");
    for (uint32_t i = 0; i < r->count; i++)
        if (r->targets[i].checked)
            prom_histogram(out, "meridian_health_probe_duration_seconds",
                           (prom_labels){"target", r->targets[i].key, NULL},
                           health_latency_bounds_s, r->targets[i].latency, HEALTH_LATENCY_BUCKETS,
                           r->targets[i].latency_sum_s);
}

/* One counter family with one label, a sample per (value, count). */
struct labelled {
    const char *value;
    uint64_t count;
};

static void
labelled_family(FILE *out, const char *name, const char *help, const char *label,
                const struct labelled *samples, size_t n)
{
    prom_family(out, name, "counter", help);
    for (size_t i = 0; i < n; i++)
        prom_sample(out, name, (prom_labels){label, samples[i].value, NULL}, samples[i].count);
}

/* Response rate limiting (rrl.h, ARCHITECTURE.md §16): what it looked at and held back. */
static void
rrl_metrics(FILE *out)
{
    const struct rrl *rrl = atomic_load(&registered_rrl);
    struct rrl_counters c;
    memset(&c, 0, sizeof(c));
    if (rrl)
        rrl_counters_sum(rrl, &c);
    counter(out, "meridian_rrl_responses_total",
            "UDP responses rate limiting looked at (it is on)", c.responses);
    struct labelled limited[DNS_RESP_COUNT];
    for (unsigned k = 0; k < DNS_RESP_COUNT; k++)
        limited[k] = (struct labelled){rrl_class_name((enum dns_response_class)k), c.limited[k]};
    labelled_family(out, "meridian_rrl_limited_total",
                    "Responses over the rate, by response class", "class", limited,
                    DNS_RESP_COUNT);
    const struct labelled actions[] = {
        {"dropped", c.dropped}, {"slipped", c.slipped}, {"would_limit", c.would_limit}};
    labelled_family(out, "meridian_rrl_actions_total",
                    "What became of limited responses: dropped, slipped (sent as a TC=1 stub), "
                    "would_limit (log_only: sent in full)",
                    "action", actions, 3);
    const struct labelled exempt[] = {{"cookie", c.exempt_cookie}, {"prefix", c.exempt_prefix}};
    labelled_family(out, "meridian_rrl_exempt_total",
                    "Responses never limited: a valid server cookie, or an exempt prefix",
                    "reason", exempt, 2);
}

/* The query log (dnstap.h, ARCHITECTURE.md §15): records queued, dropped and lost. */
static void
dnstap_metrics(FILE *out)
{
    const struct dnstap *dt = atomic_load(&registered_dnstap);
    if (!dt)
        return;
    struct dnstap_counters c;
    dnstap_counters_get(dt, UINT32_MAX, &c);
    const struct labelled outcomes[] = {
        {"logged", c.logged}, {"dropped", c.dropped}, {"lost", c.lost}};
    labelled_family(out, "meridian_dnstap_records_total",
                    "dnstap records: logged (queued), dropped (queue full), lost (output not open)",
                    "outcome", outcomes, 3);
}

void
metrics_prometheus(FILE *out, struct health_monitor *monitor)
{
    struct stats *st = atomic_load(&registered);
    struct stats_totals t;
    memset(&t, 0, sizeof(t));
    if (st)
        stats_sum(st, &t);
    query_counters(out, &t);
    rrl_metrics(out);
    dnstap_metrics(out);
    rcu_read_lock();
    const struct snapshot *snap = snapshot_current_get();
    steer_counters(out, snap);
    zone_metrics(out, snap);
    reload_metrics(out, snap);
    /* The counters have a block per lane (net.h: each worker's loop and UDP threads); this
     * is the configured number of workers. */
    unsigned workers = snap->cfg->workers;
    rcu_read_unlock();
    struct health_report r = {0};
    if (monitor)
        health_monitor_report(monitor, &r);
    health_metrics(out, &r);
    health_report_fini(&r);
    gauge(out, "meridian_site_drained", "1 while the site is drained (meridianctl drain site)",
          control_site_drained());
    gauge(out, "meridian_resident_memory_bytes", "Resident memory (VmRSS) of meridiand",
          (double)metrics_rss_bytes());
    gauge(out, "meridian_workers", "Worker threads answering queries", workers);
}

void
metrics_text(FILE *out)
{
    struct stats *st = atomic_load(&registered);
    struct stats_totals t;
    memset(&t, 0, sizeof(t));
    if (st)
        stats_sum(st, &t);
    for (unsigned tr = 0; tr < STATS_TRANSPORTS; tr++)
        for (unsigned f = 0; f < STATS_FAMILIES; f++)
            fprintf(out, "queries %s %s %llu\n", stats_label(STATS_LABEL_TRANSPORT, tr),
                    stats_label(STATS_LABEL_FAMILY, f), (unsigned long long)t.queries[tr][f]);
    for (unsigned i = 0; i < STATS_QTYPES; i++)
        if (t.qtype[i])
            fprintf(out, "qtype %s %llu\n", stats_label(STATS_LABEL_QTYPE, i),
                    (unsigned long long)t.qtype[i]);
    for (unsigned i = 0; i < STATS_RCODES; i++)
        if (t.rcode[i])
            fprintf(out, "rcode %s %llu\n", stats_label(STATS_LABEL_RCODE, i),
                    (unsigned long long)t.rcode[i]);
    const struct {
        const char *name;
        uint64_t value;
    } singles[] = {
        {"edns", t.edns},
        {"ecs_present", t.ecs_present},
        {"ecs_used", t.ecs_used},
        {"truncated", t.truncated},
        {"malformed", t.malformed},
        {"steered", t.steered},
        {"failed_open", t.failed_open},
        {"transfer_requests AXFR", t.transfers[0]},
        {"transfer_requests IXFR", t.transfers[1]},
        {"tcp accepted", t.events[STATS_EVENT_TCP_ACCEPTED]},
        {"tcp closed", t.events[STATS_EVENT_TCP_CLOSED]},
        {"tcp evicted", t.events[STATS_EVENT_TCP_EVICTED]},
    };
    for (size_t i = 0; i < sizeof(singles) / sizeof(singles[0]); i++)
        fprintf(out, "%s %llu\n", singles[i].name, (unsigned long long)singles[i].value);
    for (unsigned i = 0; i < STATS_DROPS; i++)
        fprintf(out, "dropped %s %llu\n", stats_label(STATS_LABEL_DROP, i),
                (unsigned long long)t.dropped[i]);
    struct snapshot_reload_history h;
    snapshot_reload_history(&h);
    fprintf(out, "reloads ok %llu\nreloads failed %llu\n", (unsigned long long)h.ok,
            (unsigned long long)h.failed);
    rcu_read_lock();
    const struct snapshot *snap = snapshot_current_get();
    const struct policy_set *set = snap->policies;
    for (uint32_t s = 0; set && snap->stats_steer && s < set->count; s++) {
        const struct policy_service *svc = &set->services[s];
        fprintf(out, "service %s %llu\n", svc->cfg->name,
                (unsigned long long)stats_steer_service(snap->stats_steer, s));
        for (uint32_t p = 0; p < svc->pool_count; p++) {
            fprintf(out, "pool %s %s %llu\n", svc->cfg->name, svc->pools[p].name,
                    (unsigned long long)stats_steer_pool(snap->stats_steer, s, p));
            for (uint32_t m = 0; m < svc->pools[p].member_count; m++)
                fprintf(out, "member %s %s %s %llu\n", svc->cfg->name, svc->pools[p].name,
                        set->health_targets[svc->pools[p].members[m].health_id].text,
                        (unsigned long long)stats_steer_member(snap->stats_steer, s, p, m));
        }
    }
    rcu_read_unlock();
    fprintf(out, "resident_memory_bytes %llu\n", metrics_rss_bytes());
}
