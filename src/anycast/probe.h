/* SPDX-License-Identifier: MIT */
/* Probe rounds: the canary query to every service address over UDP (and TCP when asked),
 * as a client would, plus one `status` request to meridiand's control socket if configured.
 * All run concurrently on the event loop, each with the configured timeout; when the last one
 * finishes the round is judged (hard: any address failed; soft: slow answers, meridiand says
 * the last reload failed or the data is too old, or its status is unavailable) and handed to
 * the callback. One round at a time. Event loop thread. */
#ifndef MERIDIAN_ANYCAST_PROBE_H
#define MERIDIAN_ANYCAST_PROBE_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "anycast/canary.h"
#include "anycast/config.h"
#include "anycast/state.h"

struct anycast_round_report {
    bool hard_fail;
    bool soft_fail;
    bool status_ok;    /* meridiand answered `status` (false also when not configured) */
    bool site_drained; /* valid if status_ok */
    bool tcp;          /* this round included TCP */
    unsigned probes;   /* DNS probes sent */
    unsigned failed;   /* DNS probes that failed */
    uint32_t max_rtt_ms;
    char hard_reason[ANYCAST_REASON_MAX];
    char soft_reason[ANYCAST_REASON_MAX];
};

typedef void (*anycast_round_fn)(void *arg, const struct anycast_round_report *report);

struct anycast_prober;

/* `cfg` and `canary` are borrowed for the prober's lifetime. */
struct anycast_prober *anycast_prober_new(struct ev_loop *loop, const struct anycast_config *cfg,
                                          const struct anycast_canary *canary,
                                          anycast_round_fn done, void *arg);
void anycast_prober_free(struct anycast_prober *p);

/* Starts a round (ignored while one is running). */
void anycast_prober_start(struct anycast_prober *p, bool with_tcp);
bool anycast_prober_running(const struct anycast_prober *p);

#endif
