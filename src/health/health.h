/* SPDX-License-Identifier: MIT */
/* The health table that steering reads: one entry per health target (a (target, check)
 * pair, probed once however many services use it). Published as a whole by the health
 * thread and swapped atomically (RCU); query threads only read it, never lock it (ARCHITECTURE.md
 * §4). Without a table every member counts as up unless it is forced down in the config. */
#ifndef MERIDIAN_HEALTH_HEALTH_H
#define MERIDIAN_HEALTH_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

enum health_state {
    HEALTH_UNKNOWN = 0, /* not probed yet: counts as up */
    HEALTH_UP = 1,
    HEALTH_DOWN = 2,
};

#define HEALTH_NEVER UINT32_MAX

struct health_entry {
    uint8_t state;              /* effective: enum health_state after operator forcing */
    uint8_t drained;            /* forced down by the operator: stays out even when a
                                   service fails open (all_down: all) */
    uint8_t waiting;            /* used by a `startup: wait` service and not probed yet:
                                   the server's start drops that service's answers */
    uint32_t earliest_change_s; /* CLOCK_MONOTONIC second of the earliest possible state
                                   change (next probe completing a rise/fall), or
                                   HEALTH_NEVER (unchecked or forced) */
};

struct health_table {
    uint32_t count;
    struct health_entry entries[];
};

static inline enum health_state
health_get(const struct health_table *table, uint32_t id)
{
    return table && id < table->count ? (enum health_state)table->entries[id].state
                                      : HEALTH_UNKNOWN;
}

static inline bool
health_waiting(const struct health_table *table, uint32_t id)
{
    return table && id < table->count && table->entries[id].waiting;
}

static inline bool
health_drained(const struct health_table *table, uint32_t id)
{
    return table && id < table->count && table->entries[id].drained;
}

/* Seconds from now_s until the entry may change state (HEALTH_NEVER if it cannot). */
static inline uint32_t
health_stable_for(const struct health_table *table, uint32_t id, uint32_t now_s)
{
    if (!table || id >= table->count)
        return HEALTH_NEVER;
    uint32_t at = table->entries[id].earliest_change_s;
    if (at == HEALTH_NEVER)
        return HEALTH_NEVER;
    return at > now_s ? at - now_s : 0;
}

#endif
