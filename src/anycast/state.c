// SPDX-License-Identifier: MIT
/* The sidecar's state machine (see state.h for the table). Pure: every function takes the
 * time as an argument and reports transitions in an anycast_result instead of logging, so
 * tests can replay any sequence of probe rounds, commands and clock ticks. Gate intents are a
 * function of the state alone (plus the FORCED direction and the state FALLING came from),
 * which makes "gates change only on transitions" true by construction. Runs on the sidecar's
 * event loop thread. */
#include "anycast/state.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const state_names[ANYCAST_STATE_COUNT] = {
    "STARTUP", "DOWN", "RISING", "UP", "FALLING", "DEGRADED", "DRAINING", "DRAINED", "FORCED",
};

const char *
anycast_state_name(enum anycast_st st)
{
    return st < ANYCAST_STATE_COUNT ? state_names[st] : "?";
}

static struct anycast_gates
gates_of(enum anycast_st st, enum anycast_st falling_from, enum anycast_force forced)
{
    switch (st) {
    case ANYCAST_UP:
        return (struct anycast_gates){.normal = true};
    case ANYCAST_DEGRADED:
    case ANYCAST_DRAINING:
        return (struct anycast_gates){.drain = true};
    case ANYCAST_FALLING:
        /* FALLING keeps announcing as before; only reaching `fall` withdraws. */
        return gates_of(falling_from, ANYCAST_UP, ANYCAST_FORCE_NONE);
    case ANYCAST_FORCED:
        return (struct anycast_gates){.normal = forced == ANYCAST_FORCE_UP};
    default:
        return (struct anycast_gates){0};
    }
}

struct anycast_gates
anycast_state_gates(const struct anycast_state *s)
{
    return gates_of(s->st, s->falling_from, s->forced);
}

static bool
announcing(const struct anycast_state *s)
{
    struct anycast_gates g = anycast_state_gates(s);
    return g.normal || g.drain;
}

/* Enters `to`, records the transition in `out` and keeps the counters. A self-transition is
 * recorded too (FORCED up -> FORCED down changes the gates). */
__attribute__((format(printf, 5, 6))) static void
enter(struct anycast_state *s, enum anycast_st to, uint64_t now_ms, struct anycast_result *out,
      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->reason, sizeof(s->reason), fmt, ap);
    va_end(ap);
    if (out->count < ANYCAST_STEPS_MAX) {
        struct anycast_transition *t = &out->steps[out->count++];
        t->from = s->st;
        t->to = to;
        memcpy(t->reason, s->reason, sizeof(t->reason));
    }
    s->st = to;
    s->entered_ms = now_ms;
    s->transitions++;
    s->entries[to]++;
    s->passes = s->fails = s->soft_rounds = s->clean_rounds = 0;
    /* The flap-reset clock runs while anything is announced, from the first announcing state
     * after a withdrawal. */
    if (!announcing(s)) {
        s->announced = false;
    } else if (!s->announced) {
        s->announced = true;
        s->announced_ms = now_ms;
    }
}

/* "stable UP this long resets the doubling": announced for flap_reset without a withdrawal. */
static void
check_flap_reset(struct anycast_state *s, uint64_t now_ms)
{
    if (s->announced && s->hold_next_ms > s->p.hold_down_ms &&
        now_ms - s->announced_ms >= s->p.flap_reset_ms)
        s->hold_next_ms = s->p.hold_down_ms;
}

static const char *
why(const char *reason, const char *fallback)
{
    return reason && reason[0] ? reason : fallback;
}

/* FALLING reached `fall`: withdraw and start the hold-down, doubling it for the next time. */
static void
withdraw(struct anycast_state *s, uint64_t now_ms, struct anycast_result *out, const char *reason)
{
    uint32_t hold = s->hold_next_ms;
    uint64_t next = (uint64_t)hold * 2;

    s->flaps++;
    s->hold_until_ms = now_ms + hold;
    s->hold_next_ms = next > s->p.hold_down_max_ms ? s->p.hold_down_max_ms : (uint32_t)next;
    enter(s, ANYCAST_DOWN, now_ms, out, "%u hard failures in a row (%s); hold-down %u ms",
          s->p.fall, reason, hold);
}

/* A hard failure while announced: FALLING(1), or straight on to DOWN when fall is 1. */
static void
start_falling(struct anycast_state *s, uint64_t now_ms, struct anycast_result *out,
              const char *reason)
{
    s->falling_from = s->st;
    enter(s, ANYCAST_FALLING, now_ms, out, "hard failure: %s", reason);
    s->fails = 1;
    if (s->fails >= s->p.fall)
        withdraw(s, now_ms, out, reason);
}

/* RISING after a pass: promote once `rise` passes are in. */
static void
count_rise(struct anycast_state *s, const struct anycast_round *r, uint64_t now_ms,
           struct anycast_result *out)
{
    s->passes++;
    if (s->passes < s->p.rise)
        return;
    if (r->soft_fail)
        enter(s, ANYCAST_DEGRADED, now_ms, out, "%u passes, but soft failure: %s", s->p.rise,
              why(r->soft_reason, "soft failure"));
    else
        enter(s, ANYCAST_UP, now_ms, out, "%u passes in a row", s->p.rise);
}

static void
start_rising(struct anycast_state *s, const struct anycast_round *r, uint64_t now_ms,
             struct anycast_result *out, const char *reason)
{
    enter(s, ANYCAST_RISING, now_ms, out, "%s", reason);
    if (r)
        count_rise(s, r, now_ms, out);
}

static void
start_draining(struct anycast_state *s, uint64_t now_ms, struct anycast_result *out,
               const char *reason)
{
    enter(s, ANYCAST_DRAINING, now_ms, out, "%s (GRACEFUL_SHUTDOWN for %u ms, then withdraw)",
          reason, s->p.drain_time_ms);
    s->drain_until_ms = now_ms + s->p.drain_time_ms;
    if (s->p.drain_time_ms == 0)
        enter(s, ANYCAST_DRAINED, now_ms, out, "drain_time is 0");
}

/* A drain request (command or meridiand) in any unforced state. */
static void
apply_drain(struct anycast_state *s, uint64_t now_ms, struct anycast_result *out,
            const char *reason)
{
    switch (s->st) {
    case ANYCAST_UP:
    case ANYCAST_DEGRADED:
        start_draining(s, now_ms, out, reason);
        break;
    case ANYCAST_STARTUP:
    case ANYCAST_DOWN:
    case ANYCAST_RISING:
    case ANYCAST_FALLING: /* failing hard already: no point in a slow drain */
        enter(s, ANYCAST_DRAINED, now_ms, out, "%s", reason);
        break;
    default:
        break;
    }
}

/* The drain is lifted (undrain command, or meridiand's site active again). */
static void
lift_drain(struct anycast_state *s, uint64_t now_ms, struct anycast_result *out, const char *reason)
{
    if (s->st == ANYCAST_DRAINING) {
        /* Still announced with GSHUT: cancel the drain without a withdrawal. */
        if (s->last_soft_fail)
            enter(s, ANYCAST_DEGRADED, now_ms, out, "%s; drain cancelled, soft failure remains",
                  reason);
        else
            enter(s, ANYCAST_UP, now_ms, out, "%s; drain cancelled", reason);
    } else if (s->st == ANYCAST_DRAINED) {
        enter(s, ANYCAST_RISING, now_ms, out, "%s", reason);
    }
}

void
anycast_state_init(struct anycast_state *s, const struct anycast_params *p, uint64_t now_ms)
{
    memset(s, 0, sizeof(*s));
    s->p = *p;
    if (s->p.rise == 0)
        s->p.rise = 1;
    if (s->p.fall == 0)
        s->p.fall = 1;
    if (s->p.hold_down_max_ms < s->p.hold_down_ms)
        s->p.hold_down_max_ms = s->p.hold_down_ms;
    s->st = ANYCAST_STARTUP;
    s->falling_from = ANYCAST_UP;
    s->entered_ms = now_ms;
    s->hold_next_ms = s->p.hold_down_ms;
    s->entries[ANYCAST_STARTUP] = 1;
    snprintf(s->reason, sizeof(s->reason), "started");
}

void
anycast_state_round(struct anycast_state *s, const struct anycast_round *r, uint64_t now_ms,
                    struct anycast_result *out)
{
    const char *hard = why(r->hard_reason, "probe failed");
    bool drain;

    out->count = 0;
    s->have_round = true;
    s->last_hard_fail = r->hard_fail;
    s->last_soft_fail = r->soft_fail;
    s->site_drained = r->site_drained;
    check_flap_reset(s, now_ms);
    drain = s->drain_cmd || s->site_drained;

    switch (s->st) {
    case ANYCAST_FORCED:
        break; /* pinned: the round is only recorded */
    case ANYCAST_STARTUP:
        if (drain)
            enter(s, ANYCAST_DRAINED, now_ms, out, "drained before the first announcement");
        else if (r->hard_fail)
            enter(s, ANYCAST_DOWN, now_ms, out, "first probe failed: %s", hard);
        else
            start_rising(s, r, now_ms, out, "first probe passed");
        break;
    case ANYCAST_DOWN:
        if (drain)
            enter(s, ANYCAST_DRAINED, now_ms, out, "drained while withdrawn");
        else if (!r->hard_fail && now_ms >= s->hold_until_ms)
            start_rising(s, r, now_ms, out, "probe passed after the hold-down");
        break;
    case ANYCAST_RISING:
        if (drain)
            enter(s, ANYCAST_DRAINED, now_ms, out, "drained while rising");
        else if (r->hard_fail)
            enter(s, ANYCAST_DOWN, now_ms, out, "hard failure while rising: %s", hard);
        else
            count_rise(s, r, now_ms, out);
        break;
    case ANYCAST_UP:
        if (drain) {
            start_draining(s, now_ms, out, s->drain_cmd ? "drain" : "site drained in meridiand");
        } else if (r->hard_fail) {
            start_falling(s, now_ms, out, hard);
        } else if (r->soft_fail) {
            if (++s->soft_rounds >= s->p.fall)
                enter(s, ANYCAST_DEGRADED, now_ms, out, "%u soft failures in a row: %s", s->p.fall,
                      why(r->soft_reason, "soft failure"));
        } else {
            s->soft_rounds = 0;
        }
        break;
    case ANYCAST_FALLING:
        if (drain) {
            enter(s, ANYCAST_DRAINED, now_ms, out, "drained while failing: %s", hard);
        } else if (!r->hard_fail) {
            uint32_t fails = s->fails;
            enter(s, s->falling_from, now_ms, out, "recovered after %u hard failure%s", fails,
                  fails == 1 ? "" : "s");
        } else if (++s->fails >= s->p.fall) {
            withdraw(s, now_ms, out, hard);
        }
        break;
    case ANYCAST_DEGRADED:
        if (drain) {
            start_draining(s, now_ms, out, s->drain_cmd ? "drain" : "site drained in meridiand");
        } else if (r->hard_fail) {
            start_falling(s, now_ms, out, hard);
        } else if (r->soft_fail) {
            s->clean_rounds = 0;
        } else if (++s->clean_rounds >= s->p.rise) {
            enter(s, ANYCAST_UP, now_ms, out, "soft failure cleared for %u rounds", s->p.rise);
        }
        break;
    case ANYCAST_DRAINING:
        if (r->hard_fail)
            enter(s, ANYCAST_DRAINED, now_ms, out, "hard failure while draining: %s", hard);
        else if (!drain)
            lift_drain(s, now_ms, out, "site active again in meridiand");
        break;
    case ANYCAST_DRAINED:
        if (!drain)
            lift_drain(s, now_ms, out, "site active again in meridiand");
        break;
    default:
        break;
    }
}

int
anycast_state_command(struct anycast_state *s, enum anycast_cmd cmd, uint64_t now_ms,
                      struct anycast_result *out, const char **why_out)
{
    enum anycast_force was = s->forced;

    out->count = 0;
    *why_out = NULL;
    check_flap_reset(s, now_ms);
    switch (cmd) {
    case ANYCAST_CMD_DRAIN:
        if (s->st == ANYCAST_FORCED) {
            *why_out = "the state is pinned (FORCED); unforce first";
            return -1;
        }
        s->drain_cmd = true;
        apply_drain(s, now_ms, out, "drain command");
        return 0;
    case ANYCAST_CMD_UNDRAIN:
        s->drain_cmd = false;
        if (s->st != ANYCAST_FORCED && !s->site_drained)
            lift_drain(s, now_ms, out, "undrain command");
        return 0;
    case ANYCAST_CMD_FORCE_UP:
    case ANYCAST_CMD_FORCE_DOWN:
        /* A pin overrides a local drain; undrain is implied so unforce does not re-drain. */
        s->drain_cmd = false;
        s->forced = cmd == ANYCAST_CMD_FORCE_UP ? ANYCAST_FORCE_UP : ANYCAST_FORCE_DOWN;
        if (s->st != ANYCAST_FORCED || was != s->forced)
            enter(s, ANYCAST_FORCED, now_ms, out, "force %s",
                  s->forced == ANYCAST_FORCE_UP ? "up" : "down");
        return 0;
    case ANYCAST_CMD_UNFORCE:
        if (s->st != ANYCAST_FORCED) {
            *why_out = "not forced";
            return -1;
        }
        s->forced = ANYCAST_FORCE_NONE;
        if (was == ANYCAST_FORCE_DOWN) {
            enter(s, ANYCAST_RISING, now_ms, out, "unforce (was down): probes decide");
        } else if (s->have_round && s->last_hard_fail) {
            /* Gates stay up through FALLING; probes confirm within `fall` rounds. */
            enter(s, ANYCAST_UP, now_ms, out, "unforce (was up)");
            start_falling(s, now_ms, out, "last probe round failed");
        } else {
            enter(s, ANYCAST_UP, now_ms, out, "unforce (was up), last probe round passed");
        }
        return 0;
    }
    *why_out = "unknown command";
    return -1;
}

void
anycast_state_tick(struct anycast_state *s, uint64_t now_ms, struct anycast_result *out)
{
    out->count = 0;
    check_flap_reset(s, now_ms);
    if (s->st == ANYCAST_DRAINING && now_ms >= s->drain_until_ms)
        enter(s, ANYCAST_DRAINED, now_ms, out, "drain_time elapsed");
}

uint32_t
anycast_state_probe_delay_ms(const struct anycast_state *s)
{
    /* ExaBGP's idea: confirm a change quickly, probe calmly otherwise. */
    if (s->st == ANYCAST_RISING || s->st == ANYCAST_FALLING)
        return s->p.fast_interval_ms;
    return s->p.interval_ms;
}

uint64_t
anycast_state_deadline_ms(const struct anycast_state *s)
{
    return s->st == ANYCAST_DRAINING ? s->drain_until_ms : 0;
}

uint64_t
anycast_state_hold_left_ms(const struct anycast_state *s, uint64_t now_ms)
{
    return s->hold_until_ms > now_ms ? s->hold_until_ms - now_ms : 0;
}

size_t
anycast_gate_plan(struct anycast_gates from, struct anycast_gates to,
                  struct anycast_gate_step steps[2])
{
    size_t n = 0;
    /* Raise first: e.g. UP -> DRAINING raises the drain gate before lowering the normal one,
     * so BIRD always has a route to export (ARCHITECTURE.md §7, RFC 8326 make-before-break). */
    if (!from.normal && to.normal)
        steps[n++] = (struct anycast_gate_step){ANYCAST_GATE_NORMAL, true};
    if (!from.drain && to.drain)
        steps[n++] = (struct anycast_gate_step){ANYCAST_GATE_DRAIN, true};
    if (from.normal && !to.normal)
        steps[n++] = (struct anycast_gate_step){ANYCAST_GATE_NORMAL, false};
    if (from.drain && !to.drain)
        steps[n++] = (struct anycast_gate_step){ANYCAST_GATE_DRAIN, false};
    return n;
}
