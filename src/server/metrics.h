/* SPDX-License-Identifier: MIT */
/* What meridiand tells an operator (ARCHITECTURE.md §17): the counters of stats/ with the
 * snapshot's zones and services and the health thread's targets, rendered as Prometheus
 * metrics (/metrics), as `meridianctl stats` lines, and as the status page and its JSON
 * (/status, /status.json: status_page.c). The renderers read the current snapshot under
 * rcu_read_lock, so they run on threads registered with RCU (control, http), never on a
 * worker; they ask the health thread for its report (monitor may be NULL: no checks). */
#ifndef MERIDIAN_SERVER_METRICS_H
#define MERIDIAN_SERVER_METRICS_H

#include <stdio.h>
#include <time.h>

#include "health/monitor.h"
#include "server/snapshot.h"
#include "stats/stats.h"

/* The workers' counters the renderers read: set by server_start before any reader runs,
 * cleared by server_stop after they stopped (NULL: nothing counted yet). */
void metrics_register(struct stats *st);

/* Likewise the rate limiting table and the query log whose counters /metrics shows (NULL:
 * none; the rrl families then read 0, the dnstap ones are left out). */
struct rrl;
struct dnstap;
void metrics_register_rrl(const struct rrl *rrl);
void metrics_register_dnstap(const struct dnstap *dt);

/* Prometheus text exposition format 0.0.4. */
void metrics_prometheus(FILE *out, struct health_monitor *monitor);

/* `meridianctl stats`: "name value" lines (after the "ok" line the caller writes). */
void metrics_text(FILE *out);

/* The status page (HTML, refreshing itself) and the same data as JSON. */
void status_page_html(FILE *out, struct health_monitor *monitor);
void status_page_json(FILE *out, struct health_monitor *monitor);

/* The report entry of health target `key` (hint: its health id in the current set), or
 * NULL. */
const struct health_target_report *metrics_target_find(const struct health_report *r,
                                                       const char *key, uint32_t hint);

/* VmRSS of this process in bytes (/proc/self/status), 0 if unknown. */
unsigned long long metrics_rss_bytes(void);

/* "2026-01-02T03:04:05Z". */
void metrics_utc(time_t t, char out[32]);

#endif
