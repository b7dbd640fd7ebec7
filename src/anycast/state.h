/* SPDX-License-Identifier: MIT */
/* The anycast sidecar's state machine (ARCHITECTURE.md §7), pure: no I/O, no clock, no allocation.
 * Inputs are probe rounds (hard failure, soft failure, "site drained" from meridiand),
 * operator commands and the passage of time, all with an injected monotonic time in ms.
 * Outputs are the two gate intents (normal gate = announce, drain gate = announce with
 * GRACEFUL_SHUTDOWN at lower preference), the delay to the next probe round, a deadline for
 * time-driven transitions, and the list of transitions an input caused (with reasons) for
 * the caller to log. Counters (entries per state, flaps) live in the state.
 *
 *   state      normal drain  leaves on
 *   STARTUP    down   down   pass -> RISING(1); hard fail -> DOWN; drain -> DRAINED
 *   DOWN       down   down   pass once the hold-down has expired -> RISING(1); drain -> DRAINED
 *   RISING     down   down   `rise` passes in a row -> UP (DEGRADED if that round was soft);
 *                            hard fail -> DOWN (nothing was announced: no hold-down);
 *                            drain -> DRAINED
 *   UP         up     down   hard fail -> FALLING(1); `fall` soft rounds in a row -> DEGRADED;
 *                            drain -> DRAINING
 *   FALLING    as the state it fell from (UP or DEGRADED)
 *                            pass -> back to that state; `fall` hard fails -> DOWN: both gates
 *                            down, hold-down starts and doubles for the next withdrawal;
 *                            drain -> DRAINED (a failing site is not drained slowly)
 *   DEGRADED   down   up     `rise` clean passes in a row -> UP; hard fail -> FALLING(1);
 *                            drain -> DRAINING.  Soft failures never withdraw.
 *   DRAINING   down   up     `drain_time` elapsed -> DRAINED; hard fail -> DRAINED;
 *                            undrain -> UP (the drain is cancelled)
 *   DRAINED    down   down   undrain (and meridiand's site no longer drained) -> RISING(0)
 *   FORCED     up|down down  operator pin, probes only recorded; unforce -> UP if the last
 *                            round passed (FALLING(1) if it failed) after force up,
 *                            RISING(0) after force down
 *
 * "pass" means no hard failure; "drain" is the local drain command or meridiand's site drain.
 * Hold-down: a withdrawal from FALLING starts hold_down; each further withdrawal doubles it up
 * to hold_down_max; being announced for flap_reset without a withdrawal resets it. Gate
 * changes are planned raise-first (anycast_gate_plan), so every move between the two gates
 * is make-before-break. Runs on the sidecar's event loop thread; tests drive it directly. */
#ifndef MERIDIAN_ANYCAST_STATE_H
#define MERIDIAN_ANYCAST_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum anycast_st {
    ANYCAST_STARTUP,
    ANYCAST_DOWN,
    ANYCAST_RISING,
    ANYCAST_UP,
    ANYCAST_FALLING,
    ANYCAST_DEGRADED,
    ANYCAST_DRAINING,
    ANYCAST_DRAINED,
    ANYCAST_FORCED,
    ANYCAST_STATE_COUNT,
};

enum anycast_force { ANYCAST_FORCE_NONE, ANYCAST_FORCE_UP, ANYCAST_FORCE_DOWN };

enum anycast_cmd {
    ANYCAST_CMD_DRAIN,
    ANYCAST_CMD_UNDRAIN,
    ANYCAST_CMD_FORCE_UP,
    ANYCAST_CMD_FORCE_DOWN,
    ANYCAST_CMD_UNFORCE,
};

struct anycast_params {
    uint32_t rise; /* >= 1 */
    uint32_t fall; /* >= 1 */
    uint32_t interval_ms;
    uint32_t fast_interval_ms; /* while RISING or FALLING */
    uint32_t hold_down_ms;
    uint32_t hold_down_max_ms; /* >= hold_down_ms */
    uint32_t flap_reset_ms;
    uint32_t drain_time_ms;
};

/* One probe round, as judged by the caller. Reasons are copied; NULL is fine. */
struct anycast_round {
    bool hard_fail;    /* any service address failed (no answer, SERVFAIL, wrong, no AA) */
    bool soft_fail;    /* reload failed, stale data, slow answers, status unavailable */
    bool site_drained; /* meridiand's `status` says "site: drained" */
    const char *hard_reason;
    const char *soft_reason;
};

struct anycast_gates {
    bool normal; /* gate device up: BIRD originates the prefixes */
    bool drain;  /* drain device up: originated with GRACEFUL_SHUTDOWN, lower preference */
};

#define ANYCAST_REASON_MAX 192
#define ANYCAST_STEPS_MAX 3

struct anycast_transition {
    enum anycast_st from;
    enum anycast_st to;
    char reason[ANYCAST_REASON_MAX];
};

/* Transitions caused by one input, in order (usually 0 or 1). */
struct anycast_result {
    size_t count;
    struct anycast_transition steps[ANYCAST_STEPS_MAX];
};

struct anycast_state {
    struct anycast_params p;
    enum anycast_st st;
    enum anycast_st falling_from; /* UP or DEGRADED while FALLING */
    enum anycast_force forced;
    uint32_t passes;       /* RISING: passes in a row */
    uint32_t fails;        /* FALLING: hard fails in a row */
    uint32_t soft_rounds;  /* UP: soft rounds in a row */
    uint32_t clean_rounds; /* DEGRADED: clean rounds in a row */
    bool drain_cmd;        /* local drain (control socket / SIGUSR1), until undrain */
    bool site_drained;     /* last value seen from meridiand */
    bool have_round;       /* at least one round seen */
    bool last_hard_fail;
    bool last_soft_fail;
    uint64_t entered_ms;     /* when the current state was entered */
    uint64_t hold_until_ms;  /* DOWN may not rise before this */
    uint32_t hold_next_ms;   /* hold-down the next withdrawal will start */
    bool announced;          /* a gate is up (flap-reset clock running) */
    uint64_t announced_ms;   /* start of the current announced stretch */
    uint64_t drain_until_ms; /* DRAINING ends here */
    uint64_t flaps;          /* withdrawals after a hard failure */
    uint64_t transitions;
    uint64_t entries[ANYCAST_STATE_COUNT];
    char reason[ANYCAST_REASON_MAX]; /* why the current state was entered */
};

/* STARTUP with both gates down; `p` is copied (rise/fall of 0 are taken as 1). */
void anycast_state_init(struct anycast_state *s, const struct anycast_params *p, uint64_t now_ms);

/* Feeds one finished probe round. */
void anycast_state_round(struct anycast_state *s, const struct anycast_round *r, uint64_t now_ms,
                         struct anycast_result *out);

/* Applies an operator command. Returns 0, or -1 with *why set (e.g. drain while FORCED, unforce
 * while not forced); a command that changes nothing (drain while DRAINED) returns 0. */
int anycast_state_command(struct anycast_state *s, enum anycast_cmd cmd, uint64_t now_ms,
                          struct anycast_result *out, const char **why)
    __attribute__((warn_unused_result));

/* Time-driven transitions (DRAINING -> DRAINED) and the flap-reset clock. */
void anycast_state_tick(struct anycast_state *s, uint64_t now_ms, struct anycast_result *out);

/* The gates this state wants. */
struct anycast_gates anycast_state_gates(const struct anycast_state *s);

/* Delay from the start of one probe round to the next: fast while RISING or FALLING. */
uint32_t anycast_state_probe_delay_ms(const struct anycast_state *s);

/* Absolute time of the next time-driven transition, or 0 if none is pending. */
uint64_t anycast_state_deadline_ms(const struct anycast_state *s);

/* Remaining hold-down at now_ms (0 if none). */
uint64_t anycast_state_hold_left_ms(const struct anycast_state *s, uint64_t now_ms);

/* "UP", "DRAINING", ... */
const char *anycast_state_name(enum anycast_st st);

/* Which gate a step moves. */
enum anycast_gate_id { ANYCAST_GATE_NORMAL, ANYCAST_GATE_DRAIN };

struct anycast_gate_step {
    enum anycast_gate_id gate;
    bool up;
};

/* The ordered gate changes from `from` to `to`: every raise before every lower, so moving
 * between the gates never leaves a moment with neither up (make-before-break, ARCHITECTURE.md §7).
 * Returns the number of steps (0..2) written to steps[]. */
size_t anycast_gate_plan(struct anycast_gates from, struct anycast_gates to,
                         struct anycast_gate_step steps[2]);

#endif
