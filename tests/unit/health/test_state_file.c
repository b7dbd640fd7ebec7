// SPDX-License-Identifier: MIT
/* Unit tests for the health state file format (src/health/state_file.c): what the health
 * thread writes it reads back unchanged, comments and damaged lines are skipped without
 * stopping the rest. Streams in memory; single-threaded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/health.h"
#include "health/monitor.h"
#include "health/state_file.h"

#define MAX_SAVED 8

struct collected {
    struct health_saved saved[MAX_SAVED];
    uint32_t count;
};

static void
collect(const struct health_saved *saved, void *arg)
{
    struct collected *c = arg;
    assert_true(c->count < MAX_SAVED);
    c->saved[c->count++] = *saved;
}

/* Reads `text` as a state file. */
static uint32_t
read_text(const char *text, struct collected *c)
{
    memset(c, 0, sizeof(*c));
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(f);
    uint32_t n = health_state_read(f, collect, c);
    fclose(f);
    assert_int_equal(n, c->count);
    return n;
}

static void
assert_saved(const struct health_saved *s, const char *key, uint8_t state, uint8_t force,
             long long since, unsigned long long transitions)
{
    assert_string_equal(s->key, key);
    assert_int_equal(s->state, state);
    assert_int_equal(s->force, force);
    assert_true(s->since == since);
    assert_true(s->transitions == transitions);
}

static void
test_round_trip(void **state)
{
    char *text = NULL;
    size_t len = 0;
    struct collected c;

    (void)state;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    fprintf(f, "# meridian health states: key state force since transitions\n");
    health_state_write(f, "192.0.2.10|web-http", HEALTH_UP, HEALTH_FORCE_NONE, 1700000000, 3);
    health_state_write(f, "2001:db8::10|web-http", HEALTH_DOWN, HEALTH_FORCE_DOWN, 0, 0);
    health_state_write(f, "edge.example.net.|", HEALTH_UNKNOWN, HEALTH_FORCE_UP, -1,
                       18446744073709551615ULL);
    assert_int_equal(fclose(f), 0);
    assert_string_equal(text, "# meridian health states: key state force since transitions\n"
                              "192.0.2.10|web-http up none 1700000000 3\n"
                              "2001:db8::10|web-http down down 0 0\n"
                              "edge.example.net.| unknown up -1 18446744073709551615\n");
    assert_int_equal(read_text(text, &c), 3);
    assert_saved(&c.saved[0], "192.0.2.10|web-http", HEALTH_UP, HEALTH_FORCE_NONE, 1700000000, 3);
    assert_saved(&c.saved[1], "2001:db8::10|web-http", HEALTH_DOWN, HEALTH_FORCE_DOWN, 0, 0);
    assert_saved(&c.saved[2], "edge.example.net.|", HEALTH_UNKNOWN, HEALTH_FORCE_UP, -1,
                 18446744073709551615ULL);
    free(text);
}

/* Damaged lines cost only themselves. */
static void
test_damaged_lines(void **state)
{
    struct collected c;

    (void)state;
    assert_int_equal(read_text("a up none 1 2\n"
                               "\n"
                               "# b up none 1 2\n"
                               "c sideways none 1 2\n" /* unknown state */
                               "d up maybe 1 2\n"      /* unknown forcing */
                               "e up none 1\n"         /* a field short */
                               "f up none x 2\n"       /* not a number */
                               "g down up 5 6",        /* last line without its newline */
                               &c),
                     2);
    assert_saved(&c.saved[0], "a", HEALTH_UP, HEALTH_FORCE_NONE, 1, 2);
    assert_saved(&c.saved[1], "g", HEALTH_DOWN, HEALTH_FORCE_UP, 5, 6);
}

/* A line too long for the reader is skipped whole: neither its start nor a record-shaped
 * tail counts (the reader once split it into two lines and restored the tail). */
static void
test_long_line(void **state)
{
    char text[3000];
    struct collected c;

    (void)state;
    int n =
        snprintf(text, sizeof(text), "a up none 1 2%*sb down down 3 4\nc up up 5 6\n", 1100, "");
    assert_true(n > 0 && (size_t)n < sizeof(text));
    assert_int_equal(read_text(text, &c), 1);
    assert_saved(&c.saved[0], "c", HEALTH_UP, HEALTH_FORCE_UP, 5, 6);

    /* The longest line that is read: HEALTH_STATE_LINE_MAX - 1 bytes with its newline. */
    n = snprintf(text, sizeof(text), "d up none 7 8%*s\n", HEALTH_STATE_LINE_MAX - 15, "");
    assert_int_equal(n, HEALTH_STATE_LINE_MAX - 1);
    assert_int_equal(read_text(text, &c), 1);
    assert_saved(&c.saved[0], "d", HEALTH_UP, HEALTH_FORCE_NONE, 7, 8);
    n = snprintf(text, sizeof(text), "d up none 7 8%*s\n", HEALTH_STATE_LINE_MAX - 14, "");
    assert_int_equal(read_text(text, &c), 0);
}

/* A key that starts with '#' (a CNAME target may) is read back, not taken for a comment. */
static void
test_hash_key(void **state)
{
    char *text = NULL;
    size_t len = 0;
    struct collected c;

    (void)state;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    health_state_write(f, "#edge.example.net.|web", HEALTH_DOWN, HEALTH_FORCE_DOWN, 9, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(read_text(text, &c), 1);
    assert_saved(&c.saved[0], "#edge.example.net.|web", HEALTH_DOWN, HEALTH_FORCE_DOWN, 9, 1);
    free(text);
    assert_int_equal(read_text("#edge.example.net.|web down down 9 1\n", &c), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_damaged_lines),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_hash_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
