// SPDX-License-Identifier: MIT
/* The status page (/status) and its data (/status.json), see metrics.h: zones (serial,
 * signed, records, load time), services with their pools and members (health state after
 * forcing, the probes' state, forcing, since when, answers), site drain, the last reloads and
 * the last health transitions. One HTML page with inline CSS and no external assets,
 * readable on a phone (viewport meta), reloading itself every few seconds; every string
 * from the config, the zones or a probe is escaped. Runs on the http thread. */
#include "server/metrics.h"

#include <string.h>
#include <urcu.h>

#include "common/escape.h"
#include "health/state_file.h"
#include "server/control.h"

#define REFRESH_S 5

/* One member as the page shows it. */
struct member_view {
    const char *address; /* or CNAME target */
    const char *key;     /* health target */
    const char *state;   /* effective: up, down, unknown */
    const char *real;    /* from the probes, or "unchecked" */
    const char *forced;  /* none, up, down, config */
    time_t since;        /* 0: unknown (no health thread) */
    uint64_t transitions;
    const char *last_error;
    uint64_t answers;
};

static void
member_view(const struct snapshot *snap, const struct health_table *table,
            const struct health_report *r, uint32_t s, uint32_t p, uint32_t m,
            struct member_view *v)
{
    const struct policy_set *set = snap->policies;
    const struct policy_member *pm = &set->services[s].pools[p].members[m];
    const struct policy_health_target *ht = &set->health_targets[pm->health_id];
    const struct health_target_report *t = metrics_target_find(r, ht->key, pm->health_id);
    memset(v, 0, sizeof(*v));
    v->address = ht->text;
    v->key = ht->key;
    v->answers = snap->stats_steer ? stats_steer_member(snap->stats_steer, s, p, m) : 0;
    v->last_error = "";
    if (t) {
        v->state = health_state_names[t->state];
        v->real = t->checked ? health_state_names[t->real] : "unchecked";
        v->forced = t->config_down ? "config" : health_force_names[t->force];
        v->since = t->since;
        v->transitions = t->transitions;
        v->last_error = t->last_error;
    } else {
        /* No health thread (no checks): only the config can take a member out. */
        bool down = pm->forced_down || ht->config_down;
        v->state = down ? "down" : health_state_names[health_get(table, pm->health_id)];
        v->real = "unchecked";
        v->forced = down ? "config" : health_drained(table, pm->health_id) ? "down" : "none";
    }
    if (pm->forced_down)
        v->forced = "config"; /* `down: true` on this member, whatever the shared target says */
}

static void
html_text_cell(FILE *out, const char *text)
{
    fputs("<td>", out);
    html_escape(out, text);
    fputs("</td>", out);
}

static void
html_time_cell(FILE *out, time_t t)
{
    char utc[32] = "-";
    if (t)
        metrics_utc(t, utc);
    html_text_cell(out, utc);
}

static const char page_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<meta http-equiv=\"refresh\" content=\"%d\">\n<title>meridiand status</title>\n"
    "<style>body{font-family:system-ui,sans-serif;margin:0.5em;font-size:15px}"
    "table{border-collapse:collapse;margin-bottom:1em;display:block;overflow-x:auto}"
    "th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;white-space:nowrap}"
    "th{background:#eee}.up{color:#060}.down{color:#b00;font-weight:bold}.unknown{color:#850}"
    "h2{font-size:1.1em;margin:0.8em 0 0.3em}</style></head><body>\n";

static void
html_zones(FILE *out, const struct snapshot *snap)
{
    fputs("<h2>Zones</h2><table><tr><th>zone</th><th>serial</th><th>records</th><th>signed</th>"
          "<th>role</th><th>loaded</th></tr>\n",
          out);
    for (size_t i = 0; i < snap->zones->count; i++) {
        const struct zone *z = snap->zones->zones[i];
        fprintf(out, "<tr class=\"zone\">");
        html_text_cell(out, snap->cfg->zones[i].origin);
        fprintf(out, "<td>%u</td><td>%zu</td><td>%s</td><td>%s%s</td>", z->serial, z->record_count,
                z->dnssec ? "yes" : "no", snap->cfg->zones[i].primaries ? "secondary" : "primary",
                z->expired ? " (expired)" : "");
        html_time_cell(out, snap->loaded_at);
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
}

static void
html_services(FILE *out, const struct snapshot *snap, const struct health_report *r)
{
    const struct policy_set *set = snap->policies;
    const struct health_table *table = rcu_dereference(snap->health);
    fputs("<h2>Services</h2>\n", out);
    if (!set)
        fputs("<p>none</p>\n", out);
    for (uint32_t s = 0; set && s < set->count; s++) {
        const struct policy_service *svc = &set->services[s];
        fputs("<h3 class=\"service\">", out);
        html_escape(out, svc->cfg->name);
        fprintf(out, "</h3><p>TTL %u s, %llu answers</p>\n", svc->ttl_s,
                snap->stats_steer ? (unsigned long long)stats_steer_service(snap->stats_steer, s)
                                  : 0ULL);
        fputs("<table><tr><th>pool</th><th>member</th><th>state</th><th>probes</th>"
              "<th>forced</th><th>since</th><th>transitions</th><th>answers</th>"
              "<th>last error</th></tr>\n",
              out);
        for (uint32_t p = 0; p < svc->pool_count; p++) {
            for (uint32_t m = 0; m < svc->pools[p].member_count; m++) {
                struct member_view v;
                member_view(snap, table, r, s, p, m, &v);
                fputs("<tr class=\"member\">", out);
                html_text_cell(out, svc->pools[p].name);
                html_text_cell(out, v.address);
                fprintf(out, "<td class=\"%s\">%s</td>", v.state, v.state);
                html_text_cell(out, v.real);
                html_text_cell(out, v.forced);
                html_time_cell(out, v.since);
                fprintf(out, "<td>%llu</td><td>%llu</td>", (unsigned long long)v.transitions,
                        (unsigned long long)v.answers);
                html_text_cell(out, v.last_error);
                fputs("</tr>\n", out);
            }
        }
        fputs("</table>\n", out);
    }
}

static void
html_history(FILE *out, const struct health_report *r)
{
    struct snapshot_reload_history h;
    snapshot_reload_history(&h);
    fprintf(out, "<h2>Reloads</h2><p>%llu ok, %llu failed</p>\n", (unsigned long long)h.ok,
            (unsigned long long)h.failed);
    fputs("<table><tr><th>at</th><th>result</th><th>message</th></tr>\n", out);
    for (unsigned i = 0; i < h.count; i++) {
        fputs("<tr class=\"reload\">", out);
        html_time_cell(out, h.last[i].at);
        html_text_cell(out, h.last[i].ok ? "ok" : "failed");
        html_text_cell(out, h.last[i].message);
        fputs("</tr>\n", out);
    }
    fputs("</table>\n<h2>Recent health transitions</h2>\n", out);
    fputs("<table><tr><th>at</th><th>target</th><th>from</th><th>to</th><th>why</th></tr>\n", out);
    for (uint32_t i = 0; i < r->recent_count; i++) {
        const struct health_transition *tr = &r->recent[i];
        fputs("<tr class=\"transition\">", out);
        html_time_cell(out, tr->at);
        html_text_cell(out, tr->key);
        html_text_cell(out, health_state_names[tr->from]);
        html_text_cell(out, health_state_names[tr->to]);
        html_text_cell(out, tr->why);
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
}

void
status_page_html(FILE *out, struct health_monitor *monitor)
{
    struct health_report r = {0};
    if (monitor)
        health_monitor_report(monitor, &r);
    char now[32];
    metrics_utc(snapshot_now(), now);
    fprintf(out, page_head, REFRESH_S);
    rcu_read_lock();
    const struct snapshot *snap = snapshot_current_get();
    fputs("<h1>meridiand ", out);
    html_escape(out, snap->view.identity ? snap->view.identity : "");
    fprintf(out,
            "</h1><p>%s &middot; site <b id=\"site\">%s</b> &middot; %zu records"
            " &middot; memory %llu MiB</p>\n",
            now, control_site_drained() ? "drained" : "active", snap->record_count,
            metrics_rss_bytes() >> 20);
    html_zones(out, snap);
    html_services(out, snap, &r);
    rcu_read_unlock();
    html_history(out, &r);
    fputs("<p><a href=\"/status.json\">status.json</a> &middot; <a href=\"/metrics\">metrics"
          "</a></p></body></html>\n",
          out);
    health_report_fini(&r);
}

/* --- JSON ------------------------------------------------------------------------------- */

static void
json_key_string(FILE *out, const char *key, const char *value, bool comma)
{
    fprintf(out, "%s\"%s\":", comma ? "," : "", key);
    json_string(out, value);
}

static void
json_time(FILE *out, const char *key, time_t t)
{
    char utc[32];
    metrics_utc(t, utc);
    if (t)
        json_key_string(out, key, utc, true);
    else
        fprintf(out, ",\"%s\":null", key);
}

static void
json_services(FILE *out, const struct snapshot *snap, const struct health_report *r)
{
    const struct policy_set *set = snap->policies;
    const struct health_table *table = rcu_dereference(snap->health);
    fputs(",\"services\":[", out);
    for (uint32_t s = 0; set && s < set->count; s++) {
        const struct policy_service *svc = &set->services[s];
        fprintf(out, "%s{", s ? "," : "");
        json_key_string(out, "name", svc->cfg->name, false);
        fprintf(out, ",\"ttl\":%u,\"answers\":%llu,\"pools\":[", svc->ttl_s,
                snap->stats_steer ? (unsigned long long)stats_steer_service(snap->stats_steer, s)
                                  : 0ULL);
        for (uint32_t p = 0; p < svc->pool_count; p++) {
            fprintf(out, "%s{", p ? "," : "");
            json_key_string(out, "name", svc->pools[p].name, false);
            fprintf(out, ",\"answers\":%llu,\"members\":[",
                    snap->stats_steer
                        ? (unsigned long long)stats_steer_pool(snap->stats_steer, s, p)
                        : 0ULL);
            for (uint32_t m = 0; m < svc->pools[p].member_count; m++) {
                struct member_view v;
                member_view(snap, table, r, s, p, m, &v);
                fprintf(out, "%s{", m ? "," : "");
                json_key_string(out, "address", v.address, false);
                json_key_string(out, "target", v.key, true);
                json_key_string(out, "state", v.state, true);
                json_key_string(out, "probes", v.real, true);
                json_key_string(out, "forced", v.forced, true);
                json_time(out, "since", v.since);
                fprintf(out, ",\"transitions\":%llu,\"answers\":%llu",
                        (unsigned long long)v.transitions, (unsigned long long)v.answers);
                json_key_string(out, "last_error", v.last_error, true);
                fputc('}', out);
            }
            fputs("]}", out);
        }
        fputs("]}", out);
    }
    fputc(']', out);
}

static void
json_zones(FILE *out, const struct snapshot *snap)
{
    fputs(",\"zones\":[", out);
    for (size_t i = 0; i < snap->zones->count; i++) {
        const struct zone *z = snap->zones->zones[i];
        fprintf(out, "%s{", i ? "," : "");
        json_key_string(out, "name", snap->cfg->zones[i].origin, false);
        fprintf(out,
                ",\"serial\":%u,\"records\":%zu,\"signed\":%s,\"role\":\"%s\","
                "\"expired\":%s",
                z->serial, z->record_count, z->dnssec ? "true" : "false",
                snap->cfg->zones[i].primaries ? "secondary" : "primary",
                z->expired ? "true" : "false");
        json_time(out, "loaded", snap->loaded_at);
        fputc('}', out);
    }
    fputc(']', out);
}

static void
json_history(FILE *out, const struct health_report *r)
{
    struct snapshot_reload_history h;
    snapshot_reload_history(&h);
    fprintf(out, ",\"reloads\":{\"ok\":%llu,\"failed\":%llu,\"last\":[", (unsigned long long)h.ok,
            (unsigned long long)h.failed);
    for (unsigned i = 0; i < h.count; i++) {
        fprintf(out, "%s{\"ok\":%s", i ? "," : "", h.last[i].ok ? "true" : "false");
        json_time(out, "at", h.last[i].at);
        json_key_string(out, "message", h.last[i].message, true);
        fputc('}', out);
    }
    fputs("]},\"transitions\":[", out);
    for (uint32_t i = 0; i < r->recent_count; i++) {
        const struct health_transition *tr = &r->recent[i];
        fprintf(out, "%s{", i ? "," : "");
        json_key_string(out, "target", tr->key, false);
        json_key_string(out, "from", health_state_names[tr->from], true);
        json_key_string(out, "to", health_state_names[tr->to], true);
        json_key_string(out, "why", tr->why, true);
        json_time(out, "at", tr->at);
        fputc('}', out);
    }
    fputc(']', out);
}

void
status_page_json(FILE *out, struct health_monitor *monitor)
{
    struct health_report r = {0};
    if (monitor)
        health_monitor_report(monitor, &r);
    fputs("{\"format\":1", out);
    json_time(out, "now", snapshot_now());
    fprintf(out, ",\"site\":\"%s\",\"resident_memory_bytes\":%llu",
            control_site_drained() ? "drained" : "active", metrics_rss_bytes());
    rcu_read_lock();
    const struct snapshot *snap = snapshot_current_get();
    fprintf(out, ",\"records\":%zu", snap->record_count);
    json_zones(out, snap);
    json_services(out, snap, &r);
    rcu_read_unlock();
    json_history(out, &r);
    fputs("}\n", out);
    health_report_fini(&r);
}
