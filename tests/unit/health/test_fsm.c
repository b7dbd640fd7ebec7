// SPDX-License-Identifier: MIT
/* The rise/fall state machine and the earliest-change bound used to cap TTLs, with results
 * and time injected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "health/fsm.h"

static void
feed(struct health_fsm *f, const char *results, uint32_t rise, uint32_t fall, const char *states)
{
    /* results: '+' success, '-' failure; states: expected state after each ('u'/'d'). */
    for (int i = 0; results[i]; i++) {
        health_fsm_step(f, results[i] == '+', rise, fall);
        uint8_t want = states[i] == 'u' ? HEALTH_UP : HEALTH_DOWN;
        if (f->state != want)
            fail_msg("after result %d ('%c') state %u, want %c", i, results[i], f->state,
                     states[i]);
    }
}

static void
test_first_result_decides(void **state)
{
    (void)state;
    struct health_fsm up = {0}, down = {0};
    assert_true(health_fsm_step(&up, true, 3, 3));
    assert_int_equal(up.state, HEALTH_UP);
    assert_true(health_fsm_step(&down, false, 3, 3));
    assert_int_equal(down.state, HEALTH_DOWN);
}

static void
test_rise_and_fall(void **state)
{
    (void)state;
    struct health_fsm f = {0};
    /* fall 3: two failures keep it up, the third takes it down; rise 2 brings it back. */
    feed(&f, "+--+---++", 2, 3, "uuuuuuddu");
}

static void
test_alternating_never_flaps(void **state)
{
    (void)state;
    struct health_fsm f = {0};
    health_fsm_step(&f, true, 2, 2);
    for (int i = 0; i < 100; i++)
        assert_false(health_fsm_step(&f, i % 2 == 0, 2, 2));
    assert_int_equal(f.state, HEALTH_UP);

    struct health_fsm d = {0};
    health_fsm_step(&d, false, 2, 2);
    for (int i = 0; i < 100; i++)
        assert_false(health_fsm_step(&d, i % 2 == 0, 2, 2));
    assert_int_equal(d.state, HEALTH_DOWN);
}

static void
test_rise_fall_of_one(void **state)
{
    (void)state;
    struct health_fsm f = {0};
    feed(&f, "+-+-", 1, 1, "udud");
}

static void
test_earliest_change(void **state)
{
    (void)state;
    struct health_fsm f = {0};
    /* Unknown: the next result decides, 2.5 s from now. */
    assert_int_equal(health_fsm_earliest_change(&f, 2, 3, 100.0, 2.5, 5.0), 102);
    /* Up with no failures, fall 3: the next result plus two more intervals. */
    health_fsm_step(&f, true, 2, 3);
    assert_int_equal(health_fsm_earliest_change(&f, 2, 3, 100.0, 2.5, 5.0), 112);
    /* One failure seen: one interval fewer. */
    health_fsm_step(&f, false, 2, 3);
    assert_int_equal(health_fsm_earliest_change(&f, 2, 3, 100.0, 2.5, 5.0), 107);
    /* A probe in flight (next result due now). */
    assert_int_equal(health_fsm_earliest_change(&f, 2, 3, 100.0, 0.0, 5.0), 105);
    /* Down with rise 2: one success seen, the next result can bring it up. */
    health_fsm_step(&f, false, 2, 3);
    health_fsm_step(&f, false, 2, 3);
    assert_int_equal(f.state, HEALTH_DOWN);
    health_fsm_step(&f, true, 2, 3);
    assert_int_equal(health_fsm_earliest_change(&f, 2, 3, 100.0, 1.0, 5.0), 101);
    /* Saturates instead of wrapping. */
    assert_int_equal(health_fsm_earliest_change(&f, 2, 3, 4294967290.0, 100.0, 5.0),
                     HEALTH_NEVER - 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_result_decides),
        cmocka_unit_test(test_rise_and_fall),
        cmocka_unit_test(test_alternating_never_flaps),
        cmocka_unit_test(test_rise_fall_of_one),
        cmocka_unit_test(test_earliest_change),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
