// SPDX-License-Identifier: MIT
/* Unit tests for the TCP front end's limits, without sockets: which connection is given up
 * when a new client needs a slot or a descriptor (tcp_slot.h: a connection that has sent no
 * complete message for longer than the grace first, oldest first, then the longest idle,
 * then the oldest mid-message), the two lists' order, and the open-files budget arithmetic
 * (net_fd.h: what fits beside the reserve, nothing when not even one connection does). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>
#include <sys/resource.h>

#include "net/net_fd.h"
#include "net/tcp_slot.h"

#define GRACE 2.0

/* A slot accepted at `opened`, last active (or mid-message since) `since`, with `messages`
 * complete messages, appended to list. */
static void
add(struct tcp_slot_list *list, struct tcp_slot *s, double opened, double since,
    uint32_t messages, bool partial)
{
    memset(s, 0, sizeof(*s));
    s->opened = opened;
    s->since = since;
    s->messages = messages;
    s->partial = partial;
    tcp_slot_append(list, s);
}

static void
test_victim_empty(void **state)
{
    (void)state;
    struct tcp_slot_list idle = {0}, partial = {0};
    assert_null(tcp_slot_victim(&idle, &partial, 100.0, GRACE));
}

/* Every connection has been served: the one idle the longest goes (RFC 7766 §6.2.3). */
static void
test_victim_longest_idle(void **state)
{
    (void)state;
    struct tcp_slot_list idle = {0}, partial = {0};
    struct tcp_slot a, b, c;
    add(&idle, &a, 10.0, 50.0, 3, false);
    add(&idle, &b, 5.0, 60.0, 1, false);
    add(&partial, &c, 1.0, 99.0, 7, true);
    assert_ptr_equal(tcp_slot_victim(&idle, &partial, 100.0, GRACE), &a);
}

/* A connection that never sent a message, open longer than the grace, goes before a served
 * one that has been idle longer; the oldest such first, on either list. */
static void
test_victim_serves_nobody_first(void **state)
{
    (void)state;
    struct tcp_slot_list idle = {0}, partial = {0};
    struct tcp_slot served, silent, slowloris, young;
    add(&idle, &served, 1.0, 10.0, 5, false);
    add(&idle, &silent, 40.0, 40.0, 0, false);
    add(&partial, &slowloris, 30.0, 97.0, 0, true);
    add(&idle, &young, 99.5, 99.5, 0, false); /* inside the grace: may be about to ask */
    assert_ptr_equal(tcp_slot_victim(&idle, &partial, 100.0, GRACE), &slowloris);
    tcp_slot_unlink(&partial, &slowloris);
    assert_ptr_equal(tcp_slot_victim(&idle, &partial, 100.0, GRACE), &silent);
    tcp_slot_unlink(&idle, &silent);
    /* Only the young silent one and a served one left: the longest idle goes. */
    assert_ptr_equal(tcp_slot_victim(&idle, &partial, 100.0, GRACE), &served);
}

/* Only connections in the middle of a message: the one whose message started first. */
static void
test_victim_partial_only(void **state)
{
    (void)state;
    struct tcp_slot_list idle = {0}, partial = {0};
    struct tcp_slot a, b;
    add(&partial, &a, 90.0, 99.0, 2, true);
    add(&partial, &b, 80.0, 99.5, 4, true);
    assert_ptr_equal(tcp_slot_victim(&idle, &partial, 100.0, GRACE), &a);
}

/* The scan is bounded: a silent connection deeper than TCP_SLOT_SCAN in the idle list is
 * not looked for, and the head goes. */
static void
test_victim_scan_bounded(void **state)
{
    (void)state;
    struct tcp_slot_list idle = {0}, partial = {0};
    struct tcp_slot s[TCP_SLOT_SCAN + 1];
    for (int i = 0; i < TCP_SLOT_SCAN; i++)
        add(&idle, &s[i], i, 10.0 + i, 1, false);
    add(&idle, &s[TCP_SLOT_SCAN], 0.5, 50.0, 0, false);
    assert_ptr_equal(tcp_slot_victim(&idle, &partial, 100.0, GRACE), &s[0]);
}

static void
test_list_order(void **state)
{
    (void)state;
    struct tcp_slot_list l = {0};
    struct tcp_slot a, b, c;
    add(&l, &a, 0, 1, 0, false);
    add(&l, &b, 0, 2, 0, false);
    add(&l, &c, 0, 3, 0, false);
    tcp_slot_unlink(&l, &b);
    assert_ptr_equal(l.head, &a);
    assert_ptr_equal(a.next, &c);
    assert_ptr_equal(c.prev, &a);
    tcp_slot_unlink(&l, &a);
    tcp_slot_append(&l, &a);
    assert_ptr_equal(l.head, &c);
    assert_ptr_equal(l.tail, &a);
    tcp_slot_unlink(&l, &c);
    tcp_slot_unlink(&l, &a);
    assert_null(l.head);
    assert_null(l.tail);
}

/* The review's case: limit 1,024, 2 workers, 512 connections each cannot fit beside the
 * listeners and a reserve; what fits is (limit - reserve - fixed) / workers. */
static void
test_fd_fit(void **state)
{
    (void)state;
    /* 2 workers, 2 listen addresses: 2 x (4 + 2 x 2) = 16 fixed. */
    assert_int_equal(net_fd_fixed(2, 2), 16);
    assert_int_equal(net_fd_tcp_fit(1024, 100, 2, 2, 512), (1024 - 100 - 16) / 2);
    /* Room for all: the configured number, not more. */
    assert_int_equal(net_fd_tcp_fit(65536, 100, 2, 2, 512), 512);
    /* Exactly enough. */
    assert_int_equal(net_fd_tcp_fit(100 + 16 + 2 * 512, 100, 2, 2, 512), 512);
    assert_int_equal(net_fd_tcp_fit(100 + 16 + 2 * 512 - 1, 100, 2, 2, 512), 511);
    /* Nothing left beside the reserve and the listeners. */
    assert_int_equal(net_fd_tcp_fit(100, 100, 2, 2, 512), 0);
    assert_int_equal(net_fd_tcp_fit(116, 100, 2, 2, 512), 0);
    assert_int_equal(net_fd_tcp_fit(50, 100, 2, 2, 512), 0);
    assert_int_equal(net_fd_tcp_fit(1024, 0, 0, 2, 512), 0);
    /* An unlimited limit does not overflow. */
    assert_int_equal(net_fd_tcp_fit(UINT64_MAX, 100, 64, 8, 65535), 65535);
}

/* The soft limit is raised to the hard one. Runs in a child-free way: lowers its own soft
 * limit first (allowed), then checks the raise back. */
static void
test_fd_raise(void **state)
{
    (void)state;
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 64)
        skip();
    struct rlimit low = {.rlim_cur = 64, .rlim_max = rl.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    uint64_t was = 0;
    uint64_t now = net_fd_raise_limit(&was);
    assert_int_equal(was, 64);
    assert_true(now > 64);
    if (rl.rlim_max != RLIM_INFINITY)
        assert_int_equal(now, rl.rlim_max);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_victim_empty),
        cmocka_unit_test(test_victim_longest_idle),
        cmocka_unit_test(test_victim_serves_nobody_first),
        cmocka_unit_test(test_victim_partial_only),
        cmocka_unit_test(test_victim_scan_bounded),
        cmocka_unit_test(test_list_order),
        cmocka_unit_test(test_fd_fit),
        cmocka_unit_test(test_fd_raise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
