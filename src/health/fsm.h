/* SPDX-License-Identifier: MIT */
/* The rise/fall state machine of one health target, pure: results and time are passed in.
 * From unknown the first result decides; after that `rise` successes in a row bring a down
 * target up and `fall` failures in a row bring an up target down, so a target that fails
 * every other probe never flaps (HAProxy's and Route 53's rule). */
#ifndef MERIDIAN_HEALTH_FSM_H
#define MERIDIAN_HEALTH_FSM_H

#include <stdbool.h>
#include <stdint.h>

#include "health/health.h"

struct health_fsm {
    uint8_t state; /* enum health_state */
    uint32_t successes, failures; /* in a row */
};

/* Feeds one probe result; returns true if the state changed. */
bool health_fsm_step(struct health_fsm *f, bool up, uint32_t rise, uint32_t fall);

/* Lower bound of when the state can next change: results needed to flip it, times the
 * interval, after the next result (next_result_in_s from now). Returns an absolute second
 * on the caller's clock (now_s + ...), saturating below HEALTH_NEVER. */
uint32_t health_fsm_earliest_change(const struct health_fsm *f, uint32_t rise, uint32_t fall,
                                    double now_s, double next_result_in_s, double interval_s);

#endif
