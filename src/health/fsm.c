// SPDX-License-Identifier: MIT
/* Rise/fall counting for one health target (see fsm.h). Runs on the health thread; pure. */
#include "health/fsm.h"

bool
health_fsm_step(struct health_fsm *f, bool up, uint32_t rise, uint32_t fall)
{
    uint8_t before = f->state;
    if (up) {
        f->successes++;
        f->failures = 0;
    } else {
        f->failures++;
        f->successes = 0;
    }
    if (f->state == HEALTH_UNKNOWN)
        f->state = up ? HEALTH_UP : HEALTH_DOWN;
    else if (f->state == HEALTH_UP && f->failures >= fall)
        f->state = HEALTH_DOWN;
    else if (f->state == HEALTH_DOWN && f->successes >= rise)
        f->state = HEALTH_UP;
    return f->state != before;
}

uint32_t
health_fsm_earliest_change(const struct health_fsm *f, uint32_t rise, uint32_t fall,
                           double now_s, double next_result_in_s, double interval_s)
{
    uint32_t needed = 1; /* from unknown, the first result decides */
    if (f->state == HEALTH_UP)
        needed = fall > f->failures ? fall - f->failures : 1;
    else if (f->state == HEALTH_DOWN)
        needed = rise > f->successes ? rise - f->successes : 1;
    double at = now_s + (next_result_in_s > 0 ? next_result_in_s : 0) +
                (double)(needed - 1) * interval_s;
    return at >= (double)(HEALTH_NEVER - 1) ? HEALTH_NEVER - 1 : (uint32_t)at;
}
