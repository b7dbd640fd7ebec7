// SPDX-License-Identifier: MIT
/* Control socket server (see control.h). Commands:
 *   status                         zones, records, reload result, health summary, site state,
 *                                  the query log's counters (dnstap)
 *   states                         every health target: state, real state, forcing, errors
 *   stats                          the query counters (server/metrics.h)
 *   drain|undrain SELECTOR         force down / clear forcing
 *   force up|down SELECTOR
 *   explain CLIENT[/PREFIX] QNAME QTYPE
 *   reload                         same as SIGHUP, but answered with the reload's result
 *   dnssec ds ZONE [DIGEST]        the DS, DNSKEY and CDNSKEY records for the parent
 *   dnssec roll ZONE [KIND]        start a key rollover (dnssec_ops.h), answered like reload
 *   dnssec ds-seen ZONE            the parent has the new DS; answered like reload
 *   zone status ZONE               serial, last change, transfer history and counters
 *   zone refresh|retransfer ZONE   a secondary zone: refresh now (SOA, IXFR) / AXFR now
 * SELECTOR: "member ADDRESS" (every check of that address or CNAME target), "pool SERVICE
 * POOL", "service SERVICE", "all", or "site" (drain/undrain only: marks the whole site
 * drained in `status`, which the anycast sidecar reads, without touching member states).
 * This file runs the commands; control_socket.c serves the socket (many clients at once,
 * `reload` and the dnssec requests parked until the main thread's reload is done). */
#include "server/control.h"
#include "server/control_parse.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu.h>

#include "common/alloc.h"
#include "common/log.h"
#include "dnssec/dnssec_report.h"
#include "dnstap/dnstap.h"
#include "rrl/rrl.h"
#include "server/dnssec_ops.h"
#include "server/secondary.h"
#include "server/explain.h"
#include "server/metrics.h"
#include "server/snapshot.h"
#include "server/xfr_serve.h"

static atomic_bool site_drained;
static _Atomic(struct dnstap *) query_log; /* control_set_dnstap */

void
control_set_dnstap(struct dnstap *dt)
{
    atomic_store(&query_log, dt);
}

bool
control_site_drained(void)
{
    return atomic_load(&site_drained);
}

/* Collects the health keys a selector names, from the current snapshot. */
static uint32_t
select_keys(const struct snapshot *snap, char **words, int n, const char **keys, uint32_t max,
            const char **why)
{
    const struct policy_set *set = snap->policies;
    uint32_t count = 0;
    *why = NULL;
    if (!set) {
        *why = "no services are configured";
        return 0;
    }
    bool all = n == 1 && strcmp(words[0], "all") == 0;
    bool member = n == 2 && strcmp(words[0], "member") == 0;
    bool pool = n == 3 && strcmp(words[0], "pool") == 0;
    bool service = n == 2 && strcmp(words[0], "service") == 0;
    if (!all && !member && !pool && !service) {
        *why = "selector: member ADDRESS | pool SERVICE POOL | service SERVICE | all | site "
               "(site: drain/undrain only)";
        return 0;
    }
    for (uint32_t id = 0; id < set->health_count && all; id++)
        if (count < max)
            keys[count++] = set->health_targets[id].key;
    for (uint32_t id = 0; id < set->health_count && member; id++)
        if (strcmp(set->health_targets[id].text, words[1]) == 0 && count < max)
            keys[count++] = set->health_targets[id].key;
    if (pool || service) {
        uint8_t wire[DNAME_MAX_LEN];
        int len = dname_from_text(words[1], wire);
        const struct policy_service *svc = NULL;
        if (len > 0) {
            len = dname_lower_copy(wire, wire);
            svc = policy_set_find(set, wire, len);
        }
        if (!svc) {
            *why = "no such service";
            return 0;
        }
        for (uint32_t p = 0; p < svc->pool_count; p++) {
            if (pool && strcmp(svc->pools[p].name, words[2]) != 0)
                continue;
            for (uint32_t i = 0; i < svc->pools[p].member_count && count < max; i++)
                keys[count++] = set->health_targets[svc->pools[p].members[i].health_id].key;
        }
    }
    if (count == 0 && !*why)
        *why = "nothing matches";
    return count;
}

static void
do_force(struct health_monitor *monitor, char **words, int n, enum health_force force,
         FILE *out)
{
    if (n == 1 && strcmp(words[0], "site") == 0) {
        if (force == HEALTH_FORCE_UP) {
            fprintf(out, "error: a site can be drained or undrained, not forced up\n");
            return;
        }
        atomic_store(&site_drained, force == HEALTH_FORCE_DOWN);
        log_info("control: site %s", force == HEALTH_FORCE_DOWN ? "drained" : "undrained");
        fprintf(out, "ok\nsite %s\n", force == HEALTH_FORCE_DOWN ? "drained" : "undrained");
        return;
    }
    if (!monitor) {
        fprintf(out, "error: health monitoring is not running\n");
        return;
    }
    rcu_read_lock();
    const struct snapshot *snap = snapshot_current_get();
    uint32_t max = snap->policies ? snap->policies->health_count : 0;
    const char **keys = xcalloc(max ? max : 1, sizeof(*keys));
    const char *why;
    uint32_t n_keys = select_keys(snap, words, n, keys, max, &why);
    /* Keys point into the snapshot: copy them before leaving the read-side section. */
    char **copies = xcalloc(n_keys ? n_keys : 1, sizeof(*copies));
    for (uint32_t i = 0; i < n_keys; i++)
        copies[i] = xstrdup(keys[i]);
    rcu_read_unlock();
    if (n_keys == 0) {
        fprintf(out, "error: %s\n", why);
    } else {
        uint32_t matched = health_monitor_force(monitor, (const char *const *)copies, n_keys,
                                                force, "meridianctl");
        fprintf(out, "ok\n%u targets %s\n", matched,
                force == HEALTH_FORCE_NONE ? "unforced"
                : force == HEALTH_FORCE_UP ? "forced up"
                                           : "forced down");
    }
    for (uint32_t i = 0; i < n_keys; i++)
        free(copies[i]);
    free(copies);
    free(keys);
}

/* "2026-01-02T03:04:05Z (12 s ago)": UTC for logs and humans, the age for a quick look. */
static void
print_time(FILE *out, time_t t, time_t now)
{
    char text[32];
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(out, "%s (%lld s ago)", text, (long long)(now >= t ? now - t : 0));
}

static void
do_status(struct health_monitor *monitor, FILE *out)
{
    time_t now = snapshot_now();
    rcu_read_lock();
    const struct snapshot *snap = snapshot_current_get();
    fprintf(out, "ok\n");
    fprintf(out, "site: %s\n", atomic_load(&site_drained) ? "drained" : "active");
    fprintf(out, "zones: %zu\nrecords: %zu\n", snap->cfg->zone_count, snap->record_count);
    fprintf(out, "loaded: ");
    print_time(out, snap->loaded_at, now);
    fprintf(out, "\n");
    struct snapshot_reload last = snapshot_last_reload();
    if (!last.at) {
        fprintf(out, "last_reload: none\n");
    } else {
        fprintf(out, "last_reload: %s at ", last.ok ? "ok" : "failed");
        print_time(out, last.at, now);
        fprintf(out, "%s%s\n", last.ok ? "" : ": ", last.ok ? "" : last.message);
    }
    const struct health_table *table = rcu_dereference(snap->health);
    uint32_t up = 0, down = 0, unknown = 0;
    for (uint32_t i = 0; table && i < table->count; i++) {
        uint8_t s = table->entries[i].state;
        up += s == HEALTH_UP;
        down += s == HEALTH_DOWN;
        unknown += s == HEALTH_UNKNOWN;
    }
    fprintf(out, "health: %u up, %u down, %u unknown\n", up, down, unknown);
    fprintf(out, "geoip: %s\n", snap->geo ? snap->geo->path : "none");
    dnssec_ops_status(snap, now, out);
    rcu_read_unlock();
    dnstap_status(atomic_load(&query_log), out);
    if (monitor)
        health_monitor_summary(monitor, out);
}

/* `dnssec ds ZONE [sha256|sha384|all]`. */
static void
do_dnssec_ds(char **args, int n, FILE *out)
{
    unsigned digests = DNSSEC_REPORT_SHA256;
    if (n > 1)
        digests = strcmp(args[1], "sha384") == 0 ? DNSSEC_REPORT_SHA384
                  : strcmp(args[1], "all") == 0  ? DNSSEC_REPORT_SHA256 | DNSSEC_REPORT_SHA384
                                                 : DNSSEC_REPORT_SHA256;
    char *text = NULL, err[DNSSEC_OPS_TEXT_MAX];
    size_t len = 0;
    FILE *buf = open_memstream(&text, &len);
    rcu_read_lock();
    int rc = dnssec_ops_ds(snapshot_current_get(), args[0], digests, buf, err);
    rcu_read_unlock();
    fclose(buf);
    if (rc < 0)
        fprintf(out, "error: dnssec ds: %s\n", err);
    else
        fprintf(out, "ok\n%s", text);
    free(text);
}

/* `dnssec roll ZONE [KIND]` and `dnssec ds-seen ZONE`: checked against the serving
 * snapshot, then queued for the main thread. Returns the request id, or 0 after an error
 * reply. */
static uint64_t
queue_dnssec(const struct control_command *cmd, FILE *out)
{
    char err[DNSSEC_OPS_TEXT_MAX];
    struct dnssec_zone *dz;
    enum dnssec_roll_kind kind = DNSSEC_ROLL_CSK;
    bool roll = cmd->op == CONTROL_DNSSEC_ROLL;
    rcu_read_lock();
    const struct snapshot *snap = snapshot_current_get();
    int i = dnssec_ops_find_zone(snap, cmd->args[0], &dz, err);
    bool split = i >= 0 && snap->cfg->zones[i].dnssec.keys == CONFIG_DNSSEC_KSK_ZSK;
    rcu_read_unlock();
    if (i >= 0 && !dz)
        snprintf(err, sizeof(err), "zone %.300s is not signed (no `dnssec:` in its entry)",
                 cmd->args[0]);
    if (i < 0 || !dz) {
        fprintf(out, "error: dnssec %s: %s\n", roll ? "roll" : "ds-seen", err);
        return 0;
    }
    if (roll && cmd->arg_count > 1 && dnssec_roll_kind_parse(cmd->args[1], &kind) < 0)
        kind = DNSSEC_ROLL_CSK; /* control_parse allows only the three kinds */
    if (roll && cmd->arg_count == 1 && split) {
        fprintf(out, "error: dnssec roll: %s has a KSK and a ZSK: say which (dnssec roll %s "
                     "ksk|zsk)\n",
                cmd->args[0], cmd->args[0]);
        return 0;
    }
    uint64_t id = dnssec_ops_request(roll ? DNSSEC_OP_ROLL : DNSSEC_OP_DS_SEEN, cmd->args[0], kind);
    if (id == 0)
        fprintf(out, "error: too many requests waiting; try again\n");
    return id;
}

static const struct rrl *rrl_table;

void
control_set_rrl(const struct rrl *rrl)
{
    rrl_table = rrl;
}

/* `rrl`: the current settings and every worker's counters added up. */
static void
do_rrl(FILE *out)
{
    rcu_read_lock();
    const struct config_rrl *c = &snapshot_current_get()->cfg->rrl;
    fprintf(out, "ok\nrrl: %s, rate %u/s, slip %u, ipv4_prefix %u, ipv6_prefix %u, "
                 "exempt %zu prefixes%s, large_size %u, table %u buckets\n",
            !c->enabled ? "off" : c->log_only ? "log_only" : "on", c->rate, c->slip,
            c->ipv4_prefix, c->ipv6_prefix, c->exempt_count,
            c->exempt_loopback ? " and loopback" : "", c->large_size,
            rrl_table ? rrl_table_size(rrl_table) : 0);
    rcu_read_unlock();
    struct rrl_counters n = {0};
    if (rrl_table)
        rrl_counters_sum(rrl_table, &n);
    fprintf(out, "responses %llu, dropped %llu, slipped %llu, would_limit %llu, "
                 "exempt_cookie %llu, exempt_prefix %llu\nlimited:",
            (unsigned long long)n.responses, (unsigned long long)n.dropped,
            (unsigned long long)n.slipped, (unsigned long long)n.would_limit,
            (unsigned long long)n.exempt_cookie, (unsigned long long)n.exempt_prefix);
    for (int i = 0; i < DNS_RESP_COUNT; i++)
        fprintf(out, " %s %llu", rrl_class_name((enum dns_response_class)i),
                (unsigned long long)n.limited[i]);
    fprintf(out, "\n");
}

enum control_result
control_execute(struct health_monitor *monitor, char *line, FILE *out)
{
    uint64_t op;
    return control_execute_op(monitor, line, out, &op);
}

enum control_result
control_execute_op(struct health_monitor *monitor, char *line, FILE *out, uint64_t *op)
{
    struct control_command cmd;
    char error[CONTROL_ERROR_MAX];
    *op = 0;
    if (control_parse(line, &cmd, error) < 0) {
        fprintf(out, "error: %s\n", error);
        return CONTROL_REPLIED;
    }
    switch (cmd.op) {
    case CONTROL_STATUS:
        do_status(monitor, out);
        break;
    case CONTROL_STATES:
        if (!monitor) {
            fprintf(out, "error: health monitoring is not running (no member has a check)\n");
            break;
        }
        fprintf(out, "ok\n");
        health_monitor_states(monitor, out);
        break;
    case CONTROL_FORCE:
        do_force(monitor, cmd.args, cmd.arg_count, cmd.force, out);
        break;
    case CONTROL_EXPLAIN: {
        /* Rendered first: "ok" only when the arguments parsed. */
        char *text = NULL, err[256];
        size_t text_len = 0;
        FILE *buf = open_memstream(&text, &text_len);
        rcu_read_lock();
        const struct snapshot *snap = snapshot_current_get();
        int rc = explain_query(snap, rcu_dereference(snap->health), cmd.args[0], cmd.args[1],
                               cmd.args[2], buf, err, sizeof(err));
        rcu_read_unlock();
        fclose(buf);
        if (rc < 0)
            fprintf(out, "error: explain: %s\n", err);
        else
            fprintf(out, "ok\n%s", text);
        free(text);
        break;
    }
    case CONTROL_RELOAD:
        return CONTROL_RELOAD_PARKED;
    case CONTROL_RRL:
        do_rrl(out);
        break;
    case CONTROL_STATS:
        fprintf(out, "ok\n");
        metrics_text(out);
        break;
    case CONTROL_DNSSEC_DS:
        do_dnssec_ds(cmd.args, cmd.arg_count, out);
        break;
    case CONTROL_DNSSEC_ROLL:
    case CONTROL_DNSSEC_DS_SEEN:
        *op = queue_dnssec(&cmd, out);
        return *op ? CONTROL_RELOAD_PARKED : CONTROL_REPLIED;
    case CONTROL_ZONE_STATUS:
        rcu_read_lock();
        xfr_serve_status(snapshot_current_get(), cmd.args[0], out);
        rcu_read_unlock();
        break;
    case CONTROL_ZONE_REFRESH:
    case CONTROL_ZONE_RETRANSFER: {
        /* Started, not waited for: `zone status` shows the outcome. */
        char err[300];
        bool full = cmd.op == CONTROL_ZONE_RETRANSFER;
        if (secondary_request(cmd.args[0], full, err, sizeof(err)) < 0)
            fprintf(out, "error: %s\n", err);
        else
            fprintf(out, "ok\n%s of %s started; see `zone status %s`\n",
                    full ? "retransfer (AXFR)" : "refresh", cmd.args[0], cmd.args[0]);
        break;
    }
    }
    return CONTROL_REPLIED;
}
