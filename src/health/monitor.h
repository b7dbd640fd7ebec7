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

/* One line: probes started and their start lateness (p50, p99, max). */
void health_monitor_summary(struct health_monitor *m, FILE *out);

/* Stops probing, saves the state file, joins the thread. */
void health_monitor_stop(struct health_monitor *m);

/* Frees a table taken out of a slot (after an RCU grace period). */
void health_table_free(struct health_table *table);

/* Current CLOCK_MONOTONIC time in whole seconds, the clock of earliest_change_s. */
uint32_t health_now_s(void);

#endif
