/* SPDX-License-Identifier: MIT */
/* The health table that steering reads: one state per health target (a (target, check)
 * pair, probed once however many services use it). Published as a whole by the health
 * thread and swapped atomically; query threads only read it, never lock it (DESIGN.md §6).
 * Until health checks run, no table is published and every member counts as up unless it
 * is forced down in the config. */
#ifndef MERIDIAN_HEALTH_HEALTH_H
#define MERIDIAN_HEALTH_HEALTH_H

#include <stdint.h>

enum health_state {
    HEALTH_UNKNOWN = 0, /* not probed yet: counts as up */
    HEALTH_UP = 1,
    HEALTH_DOWN = 2,
};

struct health_table {
    uint32_t count;
    uint8_t state[]; /* enum health_state, indexed by health id */
};

static inline enum health_state
health_get(const struct health_table *table, uint32_t id)
{
    return table && id < table->count ? (enum health_state)table->state[id] : HEALTH_UNKNOWN;
}

#endif
