// SPDX-License-Identifier: MIT
/* The checker registry behind probe_start (src/health/probe_registry.c, ARCHITECTURE.md §6):
 * every check type, on an address and on a name target, is run by exactly one registered
 * checker, the one expected (a tcp check on a name goes through libcurl's resolver in the
 * http checker), with its mandatory operations set; a type no checker runs is refused with
 * one synchronous report and leaves the context working; the context makes the per-context
 * state of exactly the checkers that have one. The checkers' behaviour itself is in
 * test_probe.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <ev.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/probe_internal.h"
#include "test_time.h"
#include "test_tmpdir.h"

/* The last enum config_check_type value: expected_checker's switch has no default, so a new
 * type fails the build (-Wswitch, -Werror) until it is added there and, if last, here. */
#define LAST_TYPE CONFIG_CHECK_FILE

/* Which checker runs each check type: the behaviour probe_start had as a switch. */
static const char *
expected_checker(enum config_check_type type, bool name_target)
{
    switch (type) {
    case CONFIG_CHECK_TCP:
        return name_target ? "http" : "tcp";
    case CONFIG_CHECK_HTTP:
    case CONFIG_CHECK_HTTPS:
        return "http";
    case CONFIG_CHECK_DNS:
        return "dns";
    case CONFIG_CHECK_EXEC:
        return "exec";
    case CONFIG_CHECK_FILE:
        return "file";
    }
    return NULL;
}

static bool
runs(const struct probe_checker *c, unsigned type, bool name_target)
{
    return type < 32 && ((name_target ? c->name_types : c->address_types) & PROBE_TYPE(type));
}

static void
test_every_type_has_one_checker(void **state)
{
    (void)state;
    for (unsigned t = 0; t <= LAST_TYPE; t++) {
        for (int n = 0; n < 2; n++) {
            bool name_target = n == 1;
            const char *want = expected_checker((enum config_check_type)t, name_target);
            size_t matches = 0;
            for (size_t i = 0; i < probe_checker_count; i++)
                matches += runs(probe_checkers[i], t, name_target);
            if (matches != 1)
                fail_msg("type %u on %s target: %zu checkers run it, want 1", t,
                         name_target ? "a name" : "an address", matches);
            const struct probe_checker *c =
                probe_checker_find((enum config_check_type)t, name_target);
            assert_non_null(c);
            assert_non_null(c->name);
            if (strcmp(c->name, want) != 0)
                fail_msg("type %u on %s target: checker %s, want %s", t,
                         name_target ? "a name" : "an address", c->name, want);
            assert_non_null(c->start);
            assert_non_null(c->release);
        }
    }
}

static void
test_registry_well_formed(void **state)
{
    (void)state;
    uint32_t known = PROBE_TYPE(LAST_TYPE + 1) - 1;

    assert_true(probe_checker_count > 0);
    for (size_t i = 0; i < probe_checker_count; i++) {
        const struct probe_checker *c = probe_checkers[i];
        assert_non_null(c);
        assert_non_null(c->name);
        assert_true(c->name[0] != '\0');
        for (size_t j = 0; j < i; j++)
            if (strcmp(probe_checkers[j]->name, c->name) == 0)
                fail_msg("checker name %s registered twice", c->name);
        assert_non_null(c->start);
        assert_non_null(c->release);
        /* State made by ctx_new is freed by ctx_free: both or neither. */
        assert_int_equal(c->ctx_new == NULL, c->ctx_free == NULL);
        /* Each runs something, and only types that exist. */
        assert_true((c->address_types | c->name_types) != 0);
        assert_int_equal((c->address_types | c->name_types) & ~known, 0);
    }
}

/* Every probe here is expected down, with a known reason, checked during the call (the
 * reason is valid only then). */
struct expect {
    const char *reason;
    int calls;
};

static void
on_down(void *arg, bool up, const char *reason)
{
    struct expect *e = arg;
    e->calls++;
    assert_false(up);
    assert_string_equal(reason, e->reason);
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
}

/* Runs the loop until e->calls > 0 or max_ms pass (a ticking timer bounds each run). */
static void
run_until_called(struct ev_loop *loop, const struct expect *e, int max_ms)
{
    ev_timer tick;
    ev_now_update(loop);
    double deadline = ev_now(loop) + max_ms / 1000.0;

    ev_timer_init(&tick, tick_cb, 0.01, 0.01);
    ev_timer_start(loop, &tick);
    while (e->calls == 0 && ev_now(loop) < deadline)
        ev_run(loop, EVRUN_ONCE);
    ev_timer_stop(loop, &tick);
}

static void
test_unknown_type_refused(void **state)
{
    (void)state;
    /* Past the last type, at and beyond the masks' width, and negative. */
    const int unknown[] = {LAST_TYPE + 1, 31, 32, 99, -1};
    struct config_check check;
    struct probe_target addr = {.family = 4, .addr = {127, 0, 0, 1}, .text = "127.0.0.1"};
    struct probe_target name = {.family = 0, .name = "www.example.test.", .text = "www"};

    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        assert_null(probe_checker_find((enum config_check_type)unknown[i], false));
        assert_null(probe_checker_find((enum config_check_type)unknown[i], true));
    }

    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    assert_non_null(loop);
    struct probe_ctx *ctx = probe_ctx_new(loop, 1);
    memset(&check, 0, sizeof(check));
    check.name = "test";
    check.timeout_ms = (uint32_t)test_ms(2000);
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        struct expect e = {.reason = "unknown check type"};
        check.type = (enum config_check_type)unknown[i];
        /* Refused at once: one report, before probe_start returns, and no probe left. */
        assert_int_equal(probe_start(ctx, &check, i % 2 ? &name : &addr, on_down, &e), -1);
        assert_int_equal(e.calls, 1);
        assert_null(ctx->active);
    }

    /* The context still dispatches: a file check on an absent file reports down from the
     * loop, never from inside probe_start. */
    char dir[] = "/tmp/meridian-registry-XXXXXX";
    char path[sizeof(dir) + 16];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/absent", dir);
    struct expect e = {.reason = "state file: No such file or directory"};
    check.type = CONFIG_CHECK_FILE;
    check.file = path;
    assert_int_equal(probe_start(ctx, &check, &addr, on_down, &e), 0);
    assert_int_equal(e.calls, 0);
    run_until_called(loop, &e, test_ms(5000));
    assert_int_equal(e.calls, 1);

    probe_ctx_free(ctx);
    ev_loop_destroy(loop);
    assert_int_equal(test_tmpdir_remove(dir), 0);
}

static void
test_ctx_makes_checker_states(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    assert_non_null(loop);
    struct probe_ctx *ctx = probe_ctx_new(loop, 0);

    /* A state for each checker with ctx_new, kept for its probes; none for the others. */
    assert_non_null(ctx->states);
    for (size_t i = 0; i < probe_checker_count; i++) {
        if (probe_checkers[i]->ctx_new)
            assert_non_null(ctx->states[i]);
        else
            assert_null(ctx->states[i]);
    }
    /* exec_max 0 would queue every exec probe forever: it becomes 1. */
    assert_int_equal(ctx->exec_max, 1);
    probe_ctx_free(ctx);
    ev_loop_destroy(loop);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_type_has_one_checker),
        cmocka_unit_test(test_registry_well_formed),
        cmocka_unit_test(test_unknown_type_refused),
        cmocka_unit_test(test_ctx_makes_checker_states),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
