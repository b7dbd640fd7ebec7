// SPDX-License-Identifier: MIT
/* Unit tests for the anycast state machine (src/anycast/state.h): every transition of the
 * table, the hold-down doubling, its cap and its reset, make-before-break gate order on
 * drains, soft failures that never withdraw, and the FORCED pin. Time is injected: each test
 * walks a virtual clock in milliseconds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <string.h>

#include "anycast/state.h"

static const struct anycast_params params = {
    .rise = 3,
    .fall = 3,
    .interval_ms = 1000,
    .fast_interval_ms = 200,
    .hold_down_ms = 5000,
    .hold_down_max_ms = 20000,
    .flap_reset_ms = 60000,
    .drain_time_ms = 5000,
};

static const struct anycast_round pass = {0};
static const struct anycast_round hard = {.hard_fail = true,
                                          .hard_reason = "192.0.2.53:53/udp: "
                                                         "SERVFAIL"};
static const struct anycast_round soft = {.soft_fail = true, .soft_reason = "slow answer"};
static const struct anycast_round site_drained = {.site_drained = true};

static struct anycast_result res;

static void
round_at(struct anycast_state *s, const struct anycast_round *r, uint64_t t)
{
    anycast_state_round(s, r, t, &res);
}

static void
command(struct anycast_state *s, enum anycast_cmd cmd, uint64_t t)
{
    const char *why = NULL;
    assert_int_equal(anycast_state_command(s, cmd, t, &res, &why), 0);
    assert_null(why);
}

static void
assert_gates(const struct anycast_state *s, bool normal, bool drain)
{
    struct anycast_gates g = anycast_state_gates(s);
    assert_int_equal(g.normal, normal);
    assert_int_equal(g.drain, drain);
}

/* STARTUP -> RISING -> UP with `rise` passes; from UP a clean state. */
static void
bring_up(struct anycast_state *s, uint64_t *t)
{
    anycast_state_init(s, &params, *t);
    for (int i = 0; i < 3; i++) {
        *t += 200;
        round_at(s, &pass, *t);
    }
    assert_int_equal(s->st, ANYCAST_UP);
}

/* From UP, `fall` hard failures: withdrawn. */
static void
fail_down(struct anycast_state *s, uint64_t *t)
{
    for (int i = 0; i < 3; i++) {
        *t += 200;
        round_at(s, &hard, *t);
    }
    assert_int_equal(s->st, ANYCAST_DOWN);
}

static void
test_startup_rising_up(void **unused)
{
    struct anycast_state s;
    (void)unused;
    anycast_state_init(&s, &params, 0);
    assert_int_equal(s.st, ANYCAST_STARTUP);
    assert_gates(&s, false, false);
    assert_int_equal(anycast_state_probe_delay_ms(&s), 1000);

    round_at(&s, &pass, 100);
    assert_int_equal(res.count, 1);
    assert_int_equal(res.steps[0].from, ANYCAST_STARTUP);
    assert_int_equal(res.steps[0].to, ANYCAST_RISING);
    assert_gates(&s, false, false);
    /* Fast probing while a transition is being confirmed. */
    assert_int_equal(anycast_state_probe_delay_ms(&s), 200);

    round_at(&s, &pass, 300);
    assert_int_equal(res.count, 0);
    assert_int_equal(s.st, ANYCAST_RISING);

    round_at(&s, &pass, 500);
    assert_int_equal(res.count, 1);
    assert_int_equal(res.steps[0].to, ANYCAST_UP);
    assert_string_equal(res.steps[0].reason, "3 passes in a row");
    assert_gates(&s, true, false);
    assert_int_equal(anycast_state_probe_delay_ms(&s), 1000);
    assert_int_equal(s.transitions, 2);
    assert_int_equal(s.entries[ANYCAST_UP], 1);
}

static void
test_startup_fail_down_no_hold(void **unused)
{
    struct anycast_state s;
    (void)unused;
    anycast_state_init(&s, &params, 0);
    round_at(&s, &hard, 100);
    assert_int_equal(s.st, ANYCAST_DOWN);
    assert_non_null(strstr(res.steps[0].reason, "SERVFAIL"));
    /* Nothing was announced: no hold-down, no flap. */
    assert_int_equal(anycast_state_hold_left_ms(&s, 100), 0);
    assert_int_equal(s.flaps, 0);
    round_at(&s, &pass, 1100);
    assert_int_equal(s.st, ANYCAST_RISING);
}

static void
test_rise_one_chains(void **unused)
{
    struct anycast_state s;
    struct anycast_params p = params;
    (void)unused;
    p.rise = 1;
    anycast_state_init(&s, &p, 0);
    round_at(&s, &pass, 10);
    assert_int_equal(res.count, 2);
    assert_int_equal(res.steps[0].to, ANYCAST_RISING);
    assert_int_equal(res.steps[1].to, ANYCAST_UP);
    assert_gates(&s, true, false);
}

static void
test_rising_hard_fail(void **unused)
{
    struct anycast_state s;
    (void)unused;
    anycast_state_init(&s, &params, 0);
    round_at(&s, &pass, 100);
    round_at(&s, &pass, 300);
    round_at(&s, &hard, 500);
    assert_int_equal(s.st, ANYCAST_DOWN);
    assert_int_equal(anycast_state_hold_left_ms(&s, 500), 0);
    /* The rise count starts over. */
    round_at(&s, &pass, 700);
    round_at(&s, &pass, 900);
    assert_int_equal(s.st, ANYCAST_RISING);
    round_at(&s, &pass, 1100);
    assert_int_equal(s.st, ANYCAST_UP);
}

static void
test_falling_recovers(void **unused)
{
    struct anycast_state s;
    uint64_t t = 0;
    (void)unused;
    bring_up(&s, &t);
    round_at(&s, &hard, t += 1000);
    assert_int_equal(s.st, ANYCAST_FALLING);
    /* Still announced while falling; probing fast. */
    assert_gates(&s, true, false);
    assert_int_equal(anycast_state_probe_delay_ms(&s), 200);
    round_at(&s, &hard, t += 200);
    assert_int_equal(s.st, ANYCAST_FALLING);
    round_at(&s, &pass, t += 200);
    assert_int_equal(s.st, ANYCAST_UP);
    assert_string_equal(res.steps[0].reason, "recovered after 2 hard failures");
    assert_gates(&s, true, false);
    /* The fall count starts over. */
    round_at(&s, &hard, t += 1000);
    round_at(&s, &hard, t += 200);
    assert_int_equal(s.st, ANYCAST_FALLING);
}

static void
test_fall_withdraws_with_hold_down(void **unused)
{
    struct anycast_state s;
    uint64_t t = 0;
    (void)unused;
    bring_up(&s, &t);
    fail_down(&s, &t);
    assert_gates(&s, false, false);
    assert_int_equal(s.flaps, 1);
    assert_non_null(strstr(s.reason, "hold-down 5000 ms"));
    assert_int_equal(anycast_state_hold_left_ms(&s, t), 5000);
    /* Passes during the hold-down do not rise. */
    round_at(&s, &pass, t + 1000);
    assert_int_equal(s.st, ANYCAST_DOWN);
    assert_int_equal(res.count, 0);
    round_at(&s, &pass, t + 4999);
    assert_int_equal(s.st, ANYCAST_DOWN);
    round_at(&s, &pass, t + 5000);
    assert_int_equal(s.st, ANYCAST_RISING);
    assert_gates(&s, false, false);
}

static void
test_fall_one(void **unused)
{
    struct anycast_state s;
    struct anycast_params p = params;
    uint64_t t = 0;
    (void)unused;
    p.fall = 1;
    anycast_state_init(&s, &p, 0);
    for (int i = 0; i < 3; i++)
        round_at(&s, &pass, t += 200);
    round_at(&s, &hard, t += 1000);
    assert_int_equal(res.count, 2);
    assert_int_equal(res.steps[0].to, ANYCAST_FALLING);
    assert_int_equal(res.steps[1].to, ANYCAST_DOWN);
    assert_int_equal(s.flaps, 1);
}

/* Flap: from DOWN wait out the hold-down, rise, fail; returns the hold-down that began. */
static uint64_t
flap(struct anycast_state *s, uint64_t *t)
{
    *t += anycast_state_hold_left_ms(s, *t);
    for (int i = 0; i < 3; i++)
        round_at(s, &pass, *t += 200);
    assert_int_equal(s->st, ANYCAST_UP);
    fail_down(s, t);
    return anycast_state_hold_left_ms(s, *t);
}

static void
test_hold_down_doubles_and_caps(void **unused)
{
    struct anycast_state s;
    uint64_t t = 0;
    (void)unused;
    bring_up(&s, &t);
    fail_down(&s, &t);
    assert_int_equal(anycast_state_hold_left_ms(&s, t), 5000);
    assert_int_equal(flap(&s, &t), 10000);
    assert_int_equal(flap(&s, &t), 20000);
    /* hold_down_max caps it. */
    assert_int_equal(flap(&s, &t), 20000);
    assert_int_equal(flap(&s, &t), 20000);
    assert_int_equal(s.flaps, 5);
}

static void
test_hold_down_resets_after_stable_up(void **unused)
{
    struct anycast_state s;
    uint64_t t = 0, up_at;
    (void)unused;
    bring_up(&s, &t);
    fail_down(&s, &t);
    assert_int_equal(flap(&s, &t), 10000);
    t += anycast_state_hold_left_ms(&s, t);
    for (int i = 0; i < 3; i++)
        round_at(&s, &pass, t += 200);
    assert_int_equal(s.st, ANYCAST_UP);
    up_at = t;
    /* Announced for less than flap_reset: the next withdrawal doubles on. */
    for (t = up_at; t < up_at + 59000; t += 1000)
        round_at(&s, &pass, t);
    assert_int_equal(s.hold_next_ms, 20000);
    /* flap_reset reached: back to hold_down. */
    round_at(&s, &pass, up_at + 60000);
    assert_int_equal(s.hold_next_ms, 5000);
    t = up_at + 60000;
    fail_down(&s, &t);
    assert_int_equal(anycast_state_hold_left_ms(&s, t), 5000);
}

static void
test_hold_down_reset_by_tick(void **unused)
{
    struct anycast_state s;
    uint64_t t = 0;
    (void)unused;
    bring_up(&s, &t);
    fail_down(&s, &t);
    assert_int_equal(flap(&s, &t), 10000);
    t += anycast_state_hold_left_ms(&s, t);
    for (int i = 0; i < 3; i++)
        round_at(&s, &pass, t += 200);
    /* The clock also runs on ticks (no probe round needed). */
    anycast_state_tick(&s, t + 60000, &res);
    assert_int_equal(res.count, 0);
    assert_int_equal(s.hold_next_ms, 5000);
}

static void
test_soft_never_withdraws(void **unused)
{
    struct anycast_state s;
    uint64_t t = 0;
    (void)unused;
    bring_up(&s, &t);
    /* Fewer than `fall` soft rounds: still UP. */
    round_at(&s, &soft, t += 1000);
    round_at(&s, &soft, t += 1000);
    assert_int_equal(s.st, ANYCAST_UP);
    round_at(&s, &pass, t += 1000);
    round_at(&s, &soft, t += 1000);
    round_at(&s, &soft, t += 1000);
    assert_int_equal(s.st, ANYCAST_UP);
    round_at(&s, &soft, t += 1000);
    assert_int_equal(s.st, ANYCAST_DEGRADED);
    assert_non_null(strstr(s.reason, "slow answer"));
    /* De-preferred, still announced: drain gate only. */
    assert_gates(&s, false, true);
    for (int i = 0; i < 1000; i++) {
        struct anycast_gates g;
        round_at(&s, &soft, t += 1000);
        g = anycast_state_gates(&s);
        assert_true(g.normal || g.drain);
    }
    assert_int_equal(s.st, ANYCAST_DEGRADED);
    assert_int_equal(s.flaps, 0);
}

static void
test_degraded_recovers(void **unused)
{
    struct anycast_state s;
    struct anycast_gate_step steps[2];
    uint64_t t = 0;
    (void)unused;
    bring_up(&s, &t);
    for (int i = 0; i < 3; i++)
        round_at(&s, &soft, t += 1000);
    assert_int_equal(s.st, ANYCAST_DEGRADED);
    /* `rise` clean rounds in a row; a soft one starts the count over. */
    round_at(&s, &pass, t += 1000);
    round_at(&s, &pass, t += 1000);
    round_at(&s, &soft, t += 1000);
    round_at(&s, &pass, t += 1000);
    round_at(&s, &pass, t += 1000);
    assert_int_equal(s.st, ANYCAST_DEGRADED);
    round_at(&s, &pass, t += 1000);
    assert_int_equal(s.st, ANYCAST_UP);
    /* Back to UP make-before-break: normal gate up first, then the drain gate down. */
    assert_int_equal(
        anycast_gate_plan((struct anycast_gates){.drain = true}, anycast_state_gates(&s), steps),
        2);
    assert_int_equal(steps[0].gate, ANYCAST_GATE_NORMAL);
    assert_true(steps[0].up);
    assert_int_equal(steps[1].gate, ANYCAST_GATE_DRAIN);
    assert_false(steps[1].up);
}

static void
test_degraded_hard_fail_withdraws(void **unused)
{
    struct anycast_state s;
    uint64_t t = 0;
    (void)unused;
    bring_up(&s, &t);
    for (int i = 0; i < 3; i++)
        round_at(&s, &soft, t += 1000);
    round_at(&s, &hard, t += 1000);
    assert_int_equal(s.st, ANYCAST_FALLING);
    /* FALLING keeps the gates of the state it fell from. */
    assert_gates(&s, false, true);
    round_at(&s, &pass, t += 200);
    assert_int_equal(s.st, ANYCAST_DEGRADED);
    for (int i = 0; i < 3; i++)
        round_at(&s, &hard, t += 200);
    assert_int_equal(s.st, ANYCAST_DOWN);
    assert_gates(&s, false, false);
    assert_int_equal(s.flaps, 1);
}

static void
test_rising_with_soft_goes_degraded(void **unused)
{
    struct anycast_state s;
    (void)unused;
    anycast_state_init(&s, &params, 0);
    round_at(&s, &soft, 100);
    round_at(&s, &soft, 300);
    assert_int_equal(s.st, ANYCAST_RISING);
    round_at(&s, &soft, 500);
    assert_int_equal(s.st, ANYCAST_DEGRADED);
    assert_gates(&s, false, true);
}

static void
test_drain_make_before_break(void **unused)
{
    struct anycast_state s;
    struct anycast_gate_step steps[2];
    struct anycast_gates before;
    uint64_t t = 0;
    (void)unused;
    bring_up(&s, &t);
    before = anycast_state_gates(&s);
    command(&s, ANYCAST_CMD_DRAIN, t += 1000);
    assert_int_equal(res.count, 1);
    assert_int_equal(res.steps[0].to, ANYCAST_DRAINING);
    assert_gates(&s, false, true);
    /* The drain gate goes up before the normal one goes down. */
    assert_int_equal(anycast_gate_plan(before, anycast_state_gates(&s), steps), 2);
    assert_int_equal(steps[0].gate, ANYCAST_GATE_DRAIN);
    assert_true(steps[0].up);
    assert_int_equal(steps[1].gate, ANYCAST_GATE_NORMAL);
    assert_false(steps[1].up);
    assert_int_equal(anycast_state_deadline_ms(&s), t + 5000);
    /* Probe rounds do not end the drain; the deadline does. */
    round_at(&s, &pass, t + 1000);
    assert_int_equal(s.st, ANYCAST_DRAINING);
    anycast_state_tick(&s, t + 4999, &res);
    assert_int_equal(res.count, 0);
    anycast_state_tick(&s, t + 5000, &res);
    assert_int_equal(res.count, 1);
    assert_int_equal(res.steps[0].to, ANYCAST_DRAINED);
    assert_gates(&s, false, false);
    assert_int_equal(anycast_state_deadline_ms(&s), 0);
    /* Drained stays drained whatever the probes say. */
    round_at(&s, &pass, t + 6000);
    assert_int_equal(s.st, ANYCAST_DRAINED);
    command(&s, ANYCAST_CMD_DRAIN, t + 6500);
    assert_int_equal(res.count, 0);
    command(&s, ANYCAST_CMD_UNDRAIN, t + 7000);
    assert_int_equal(s.st, ANYCAST_RISING);
    for (int i = 0; i < 3; i++)
        round_at(&s, &pass, t + 7200 + 200 * (uint64_t)i);
    assert_int_equal(s.st, ANYCAST_UP);
    /* A drain is not a flap. */
    assert_int_equal(s.flaps, 0);
}

static void
test_gate_plan(void **unused)
{
    struct anycast_gate_step steps[2];
    (void)unused;
    assert_int_equal(anycast_gate_plan((struct anycast_gates){0}, (struct anycast_gates){0}, steps),
                     0);
    assert_int_equal(
        anycast_gate_plan((struct anycast_gates){.normal = true}, (struct anycast_gates){0}, steps),
        1);
    assert_int_equal(steps[0].gate, ANYCAST_GATE_NORMAL);
    assert_false(steps[0].up);
    /* Both up (e.g. a half-applied change) to drain only: one step, the lowering. */
    assert_int_equal(anycast_gate_plan((struct anycast_gates){.normal = true, .drain = true},
                                       (struct anycast_gates){.drain = true}, steps),
                     1);
    assert_int_equal(steps[0].gate, ANYCAST_GATE_NORMAL);
    assert_false(steps[0].up);
}

static void
test_draining_hard_fail_and_undrain(void **unused)
{
    struct anycast_state s;
    uint64_t t = 0;
    (void)unused;
    bring_up(&s, &t);
    command(&s, ANYCAST_CMD_DRAIN, t += 1000);
    round_at(&s, &hard, t += 1000);
    assert_int_equal(s.st, ANYCAST_DRAINED);
    assert_non_null(strstr(s.reason, "hard failure while draining"));

    bring_up(&s, &t);
    command(&s, ANYCAST_CMD_DRAIN, t += 1000);
    command(&s, ANYCAST_CMD_UNDRAIN, t += 1000);
    /* Cancelled without a withdrawal. */
    assert_int_equal(s.st, ANYCAST_UP);
    assert_int_equal(res.count, 1);
    assert_gates(&s, true, false);
}

static void
test_drain_from_withdrawn_states(void **unused)
{
    struct anycast_state s;
    uint64_t t = 0;
    (void)unused;
    anycast_state_init(&s, &params, 0);
    command(&s, ANYCAST_CMD_DRAIN, 10);
    assert_int_equal(s.st, ANYCAST_DRAINED);

    bring_up(&s, &t);
    round_at(&s, &hard, t += 1000);
    assert_int_equal(s.st, ANYCAST_FALLING);
    /* Failing already: no slow drain. */
    command(&s, ANYCAST_CMD_DRAIN, t += 10);
    assert_int_equal(s.st, ANYCAST_DRAINED);
    assert_gates(&s, false, false);

    bring_up(&s, &t);
    fail_down(&s, &t);
    command(&s, ANYCAST_CMD_DRAIN, t += 10);
    assert_int_equal(s.st, ANYCAST_DRAINED);
    command(&s, ANYCAST_CMD_UNDRAIN, t += 10);
    assert_int_equal(s.st, ANYCAST_RISING);
}

static void
test_site_drained_by_meridiand(void **unused)
{
    struct anycast_state s;
    uint64_t t = 0;
    (void)unused;
    bring_up(&s, &t);
    round_at(&s, &site_drained, t += 1000);
    assert_int_equal(s.st, ANYCAST_DRAINING);
    assert_non_null(strstr(s.reason, "meridiand"));
    assert_gates(&s, false, true);
    anycast_state_tick(&s, t + 5000, &res);
    assert_int_equal(s.st, ANYCAST_DRAINED);
    /* An undrain command does not lift meridiand's drain. */
    command(&s, ANYCAST_CMD_UNDRAIN, t + 5100);
    assert_int_equal(s.st, ANYCAST_DRAINED);
    round_at(&s, &site_drained, t + 6000);
    assert_int_equal(s.st, ANYCAST_DRAINED);
    round_at(&s, &pass, t + 7000);
    assert_int_equal(s.st, ANYCAST_RISING);
    assert_string_equal(s.reason, "site active again in meridiand");

    /* Lifted while still draining: back to UP without a withdrawal. */
    bring_up(&s, &t);
    round_at(&s, &site_drained, t += 1000);
    round_at(&s, &pass, t += 1000);
    assert_int_equal(s.st, ANYCAST_UP);
}

static void
test_forced_up(void **unused)
{
    struct anycast_state s;
    const char *why = NULL;
    uint64_t t = 0;
    (void)unused;
    anycast_state_init(&s, &params, 0);
    round_at(&s, &hard, t += 100);
    assert_int_equal(s.st, ANYCAST_DOWN);
    command(&s, ANYCAST_CMD_FORCE_UP, t += 100);
    assert_int_equal(s.st, ANYCAST_FORCED);
    assert_gates(&s, true, false);
    /* Pinned: failures are recorded, nothing moves. */
    for (int i = 0; i < 10; i++)
        round_at(&s, &hard, t += 1000);
    assert_int_equal(s.st, ANYCAST_FORCED);
    assert_gates(&s, true, false);
    assert_int_equal(anycast_state_command(&s, ANYCAST_CMD_DRAIN, t, &res, &why), -1);
    assert_non_null(why);
    /* Unforce with a failing last round: FALLING, then withdrawn by the probes. */
    command(&s, ANYCAST_CMD_UNFORCE, t += 100);
    assert_int_equal(s.st, ANYCAST_FALLING);
    assert_gates(&s, true, false);
    round_at(&s, &hard, t += 200);
    round_at(&s, &hard, t += 200);
    assert_int_equal(s.st, ANYCAST_DOWN);

    /* Unforce with a passing last round: UP at once. */
    command(&s, ANYCAST_CMD_FORCE_UP, t += 100);
    round_at(&s, &pass, t += 1000);
    command(&s, ANYCAST_CMD_UNFORCE, t += 100);
    assert_int_equal(s.st, ANYCAST_UP);
    assert_int_equal(res.count, 1);
}

static void
test_forced_down(void **unused)
{
    struct anycast_state s;
    const char *why = NULL;
    uint64_t t = 0;
    (void)unused;
    bring_up(&s, &t);
    command(&s, ANYCAST_CMD_DRAIN, t += 100);
    /* A pin overrides (and clears) the local drain. */
    command(&s, ANYCAST_CMD_FORCE_DOWN, t += 100);
    assert_int_equal(s.st, ANYCAST_FORCED);
    assert_false(s.drain_cmd);
    assert_gates(&s, false, false);
    anycast_state_tick(&s, t + 100000, &res);
    assert_int_equal(s.st, ANYCAST_FORCED);
    for (int i = 0; i < 10; i++)
        round_at(&s, &pass, t += 1000);
    assert_int_equal(s.st, ANYCAST_FORCED);
    assert_gates(&s, false, false);
    /* Switching the pin is a transition too (the gates change). */
    command(&s, ANYCAST_CMD_FORCE_UP, t += 100);
    assert_int_equal(res.count, 1);
    assert_int_equal(res.steps[0].from, ANYCAST_FORCED);
    assert_gates(&s, true, false);
    command(&s, ANYCAST_CMD_FORCE_UP, t += 100);
    assert_int_equal(res.count, 0);
    command(&s, ANYCAST_CMD_FORCE_DOWN, t += 100);
    command(&s, ANYCAST_CMD_UNFORCE, t += 100);
    assert_int_equal(s.st, ANYCAST_RISING);
    assert_gates(&s, false, false);
    assert_int_equal(anycast_state_command(&s, ANYCAST_CMD_UNFORCE, t, &res, &why), -1);
    assert_string_equal(why, "not forced");
}

static void
test_drain_time_zero(void **unused)
{
    struct anycast_state s;
    struct anycast_params p = params;
    uint64_t t = 0;
    (void)unused;
    p.drain_time_ms = 0;
    anycast_state_init(&s, &p, 0);
    for (int i = 0; i < 3; i++)
        round_at(&s, &pass, t += 200);
    command(&s, ANYCAST_CMD_DRAIN, t += 100);
    assert_int_equal(res.count, 2);
    assert_int_equal(res.steps[0].to, ANYCAST_DRAINING);
    assert_int_equal(res.steps[1].to, ANYCAST_DRAINED);
    assert_gates(&s, false, false);
}

static void
test_names_and_counters(void **unused)
{
    struct anycast_state s;
    uint64_t t = 0;
    (void)unused;
    assert_string_equal(anycast_state_name(ANYCAST_DEGRADED), "DEGRADED");
    assert_string_equal(anycast_state_name(ANYCAST_FORCED), "FORCED");
    assert_string_equal(anycast_state_name(ANYCAST_STATE_COUNT), "?");
    bring_up(&s, &t);
    fail_down(&s, &t);
    /* STARTUP(init) RISING UP FALLING DOWN */
    assert_int_equal(s.transitions, 4);
    assert_int_equal(s.entries[ANYCAST_STARTUP], 1);
    assert_int_equal(s.entries[ANYCAST_RISING], 1);
    assert_int_equal(s.entries[ANYCAST_FALLING], 1);
    assert_int_equal(s.entries[ANYCAST_DOWN], 1);
    assert_int_equal(s.entered_ms, t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_startup_rising_up),
        cmocka_unit_test(test_startup_fail_down_no_hold),
        cmocka_unit_test(test_rise_one_chains),
        cmocka_unit_test(test_rising_hard_fail),
        cmocka_unit_test(test_falling_recovers),
        cmocka_unit_test(test_fall_withdraws_with_hold_down),
        cmocka_unit_test(test_fall_one),
        cmocka_unit_test(test_hold_down_doubles_and_caps),
        cmocka_unit_test(test_hold_down_resets_after_stable_up),
        cmocka_unit_test(test_hold_down_reset_by_tick),
        cmocka_unit_test(test_soft_never_withdraws),
        cmocka_unit_test(test_degraded_recovers),
        cmocka_unit_test(test_degraded_hard_fail_withdraws),
        cmocka_unit_test(test_rising_with_soft_goes_degraded),
        cmocka_unit_test(test_drain_make_before_break),
        cmocka_unit_test(test_gate_plan),
        cmocka_unit_test(test_draining_hard_fail_and_undrain),
        cmocka_unit_test(test_drain_from_withdrawn_states),
        cmocka_unit_test(test_site_drained_by_meridiand),
        cmocka_unit_test(test_forced_up),
        cmocka_unit_test(test_forced_down),
        cmocka_unit_test(test_drain_time_zero),
        cmocka_unit_test(test_names_and_counters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
