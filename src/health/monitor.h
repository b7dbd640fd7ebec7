/* SPDX-License-Identifier: MIT */
/* The health monitor: meridiand's health thread. It owns one libev loop, probes every health
 * target (a (target, check) pair) on its interval with rise/fall counting, applies operator
 * forcing (drain, force up/down), and publishes the resulting health table into the slot of
 * the current snapshot with an RCU pointer swap, so workers read it without locks. It saves
 * states to the state file and reads them back at start. Transitions are logged with their
 * reason and counted. All public functions are called from other threads (main, control);
 * they hand work to the health thread and wait for it where they return results. */
#ifndef MERIDIAN_HEALTH_MONITOR_H
#define MERIDIAN_HEALTH_MONITOR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "config/config.h"
#include "health/health.h"
#include "health/probe.h"

/* One health target. `key` is its identity across reloads and in the state file
 * ("192.0.2.10|web-http"); check NULL = not checked (up unless forced). */
struct health_spec {
    const char *key;
    const struct config_check *check;
    struct probe_target target;
    bool wait_at_startup; /* used by a service with `startup: wait` */
    /* Every member using it is `down: true` in the config: steering never picks it, so it is
     * published and listed as down ("forced config") whatever probes say. */
    bool config_down;
};

enum health_force {
    HEALTH_FORCE_NONE = 0,
    HEALTH_FORCE_UP,
    HEALTH_FORCE_DOWN, /* drain */
};

struct health_monitor;

/* Called on the health thread with each table before it is published (the snapshot's
 * steered answers are signed for it there: ARCHITECTURE.md §4), so workers never see a table
 * whose answers lack their signatures. */
struct health_hook {
    void (*before_publish)(void *arg, const struct health_table *table);
    void *arg;
};

/* Starts the health thread with targets specs[0..n) publishing into *slot (an RCU pointer
 * owned by the caller's snapshot; the caller frees the table left there when it frees the
 * snapshot, after a grace period), calling `hook` (NULL = none) before each publish. Reads cfg->state_file for initial states. The specs,
 * their checks and strings must stay valid until the next update or stop. */
int health_monitor_start(const struct config *cfg, const struct health_spec *specs, uint32_t n,
                         struct health_table **slot, const struct health_hook *hook,
                         struct health_monitor **out, char err[CONFIG_ERR_MAX])
    __attribute__((warn_unused_result));

/* Waits until every target with wait_at_startup has had its first probe result, at most
 * max_wait_ms. Returns how many are still unknown. */
uint32_t health_monitor_wait_first_round(struct health_monitor *m, uint32_t max_wait_ms);

/* Reload: switches to new targets and a new slot. States and forcing carry over by key;
 * probes in flight are abandoned (their targets are probed again at once). Returns after
 * the health thread no longer uses the old specs or the old slot. */
void health_monitor_update(struct health_monitor *m, const struct config *cfg,
                           const struct health_spec *specs, uint32_t n,
                           struct health_table **slot, const struct health_hook *hook);

/* Forces (or un-forces) every target whose key is in keys[0..n). Returns how many matched. */
uint32_t health_monitor_force(struct health_monitor *m, const char *const *keys, uint32_t n,
                              enum health_force force, const char *who);

/* Writes one line per target (key, state, real state, forcing, since, transitions, last
 * error) to out. */
void health_monitor_states(struct health_monitor *m, FILE *out);

/* Probe durations (start to result, timeouts included) are counted per target in buckets
 * with these upper bounds in seconds, plus one above the last. */
#define HEALTH_LATENCY_BUCKETS 12
extern const double health_latency_bounds_s[HEALTH_LATENCY_BUCKETS];

/* One target as the health thread sees it, copied for readers (metrics, status page). */
struct health_target_report {
    char *key;           /* "192.0.2.10|web-http" */
    uint8_t state;       /* effective: enum health_state after forcing and `down: true` */
    uint8_t real;        /* from the probes (HEALTH_UP for an unchecked target) */
    bool checked;        /* has a check */
    uint8_t force;       /* enum health_force */
    bool config_down;    /* every member using it is `down: true` */
    time_t since;        /* wall clock of the last change of the real state (or the start) */
    uint64_t transitions;
    uint64_t probes;     /* results received */
    char last_error[160];
    uint64_t latency[HEALTH_LATENCY_BUCKETS + 1]; /* probe durations per bucket */
    double latency_sum_s;
};

/* A state change of a target: probes (rise/fall) or the operator's forcing. */
#define HEALTH_RECENT_MAX 16
struct health_transition {
    time_t at;
    char key[128];
    uint8_t from, to; /* effective states (enum health_state) */
    char why[96];     /* "probe succeeded", the probe's error, "forced down by meridianctl" */
};

struct health_report {
    struct health_target_report *targets;
    uint32_t count;
    struct health_transition recent[HEALTH_RECENT_MAX]; /* newest first */
    uint32_t recent_count;
};

/* Copies every target's state and counters and the last transitions into *out (free with
 * health_report_fini). Waits for the health thread. */
void health_monitor_report(struct health_monitor *m, struct health_report *out);
void health_report_fini(struct health_report *r);

/* One line: probes started and their start lateness (p50, p99, max). */
void health_monitor_summary(struct health_monitor *m, FILE *out);

/* Stops probing, saves the state file, joins the thread. */
void health_monitor_stop(struct health_monitor *m);

/* Frees a table taken out of a slot (after an RCU grace period). */
void health_table_free(struct health_table *table);

/* Current CLOCK_MONOTONIC time in whole seconds, the clock of earliest_change_s. */
uint32_t health_now_s(void);

#endif
