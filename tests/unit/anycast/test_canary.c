// SPDX-License-Identifier: MIT
/* Unit tests for the canary probe's wire format and verdicts (src/anycast/canary.h) and for
 * the parser of meridiand's `status` reply (src/anycast/site.h). Replies are built by hand
 * in the tests, byte by byte, so each failure kind is exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <string.h>

#include "anycast/canary.h"
#include "anycast/site.h"

#define ID 0x1234

/* A reply builder: header, the question copied from the query, then answer RRs. */
struct msg {
    uint8_t b[1024];
    size_t len;
};

static void
put(struct msg *m, const void *data, size_t n)
{
    memcpy(m->b + m->len, data, n);
    m->len += n;
}

static void
put16(struct msg *m, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(m, b, 2);
}

/* Starts a reply to `c`'s query: flags byte 2 and byte 3 as given, QDCOUNT 1. */
static void
reply_start(struct msg *m, const struct anycast_canary *c, uint8_t flags2, uint8_t flags3,
            uint16_t ancount)
{
    uint8_t q[ANYCAST_QUERY_MAX];
    size_t qlen = anycast_canary_query(c, ID, q);
    m->len = 0;
    put(m, q, qlen);
    m->b[2] = flags2;
    m->b[3] = flags3;
    m->b[6] = (uint8_t)(ancount >> 8);
    m->b[7] = (uint8_t)ancount;
}

/* An answer RR whose owner is a pointer to the question name (offset 12). */
static void
answer(struct msg *m, uint16_t type, const void *rdata, uint16_t rdlen)
{
    put16(m, 0xC00C);
    put16(m, type);
    put16(m, 1);
    put16(m, 0);
    put16(m, 300);
    put16(m, rdlen);
    put(m, rdata, rdlen);
}

static enum anycast_verdict
check(const struct anycast_canary *c, const struct msg *m, char *why)
{
    return anycast_canary_check(c, ID, m->b, m->len, why, 160);
}

static void
test_query(void **unused)
{
    struct anycast_canary c;
    uint8_t q[ANYCAST_QUERY_MAX];
    char err[160];
    static const uint8_t want[] = {0x12, 0x34, 0,   0,   0,   1,   0,   0,   0, 0,   0,
                                   0,    6,    'c', 'a', 'n', 'a', 'r', 'y', 7, 'e', 'x',
                                   'a',  'm',  'p', 'l', 'e', 0,   0,   1,   0, 1};
    (void)unused;
    assert_int_equal(anycast_canary_init(&c, "canary.example", NULL, "192.0.2.1", err, 160), 0);
    /* RD clear, no EDNS, class IN, type A. */
    assert_int_equal(anycast_canary_query(&c, ID, q), sizeof(want));
    assert_memory_equal(q, want, sizeof(want));
}

static void
test_init_errors(void **unused)
{
    struct anycast_canary c;
    char err[160];
    (void)unused;
    assert_int_equal(anycast_canary_init(&c, "", "A", "192.0.2.1", err, 160), -1);
    assert_int_equal(anycast_canary_init(&c, "a.example", "SOA", "x", err, 160), -1);
    assert_int_equal(anycast_canary_init(&c, "a.example", "AAAA", "192.0.2.1", err, 160), -1);
    assert_string_equal(err, "canary: expect '192.0.2.1' is not an IPv6 address");
    assert_int_equal(anycast_canary_init(&c, "a.example", "CNAME", "", err, 160), -1);
    assert_int_equal(anycast_canary_init(&c, "a.example", "txt", "hello", err, 160), 0);
}

static void
test_verdicts_a(void **unused)
{
    struct anycast_canary c;
    struct msg m;
    char why[160];
    static const uint8_t good[4] = {192, 0, 2, 1}, bad[4] = {192, 0, 2, 9};
    (void)unused;
    assert_int_equal(anycast_canary_init(&c, "canary.example", "A", "192.0.2.1", why, 160), 0);

    /* QR + AA, NOERROR, the expected address. */
    reply_start(&m, &c, 0x84, 0x00, 1);
    answer(&m, 1, good, 4);
    assert_int_equal(check(&c, &m, why), ANYCAST_ANSWER_PASS);

    /* A wrong address among the answers does not matter if the right one is there. */
    reply_start(&m, &c, 0x84, 0x00, 2);
    answer(&m, 1, bad, 4);
    answer(&m, 1, good, 4);
    assert_int_equal(check(&c, &m, why), ANYCAST_ANSWER_PASS);

    reply_start(&m, &c, 0x84, 0x00, 1);
    answer(&m, 1, bad, 4);
    assert_int_equal(check(&c, &m, why), ANYCAST_ANSWER_FAIL);
    assert_string_equal(why, "wrong answer '192.0.2.9', expected '192.0.2.1'");

    /* AA clear: a resolver or a cache answered, not our authority. */
    reply_start(&m, &c, 0x80, 0x00, 1);
    answer(&m, 1, good, 4);
    assert_int_equal(check(&c, &m, why), ANYCAST_ANSWER_FAIL);
    assert_string_equal(why, "not authoritative (AA clear)");

    reply_start(&m, &c, 0x84, 0x02, 0);
    assert_int_equal(check(&c, &m, why), ANYCAST_ANSWER_FAIL);
    assert_string_equal(why, "SERVFAIL");
    reply_start(&m, &c, 0x84, 0x0C, 0);
    assert_int_equal(check(&c, &m, why), ANYCAST_ANSWER_FAIL);
    assert_string_equal(why, "RCODE12");

    reply_start(&m, &c, 0x84, 0x00, 0);
    assert_int_equal(check(&c, &m, why), ANYCAST_ANSWER_FAIL);
    assert_string_equal(why, "no A answer");

    reply_start(&m, &c, 0x86, 0x00, 0);
    assert_int_equal(check(&c, &m, why), ANYCAST_ANSWER_FAIL);
    assert_string_equal(why, "truncated (TC)");

    /* An answer RR running past the end. */
    reply_start(&m, &c, 0x84, 0x00, 1);
    answer(&m, 1, good, 4);
    m.len -= 2;
    assert_int_equal(check(&c, &m, why), ANYCAST_ANSWER_FAIL);
    assert_string_equal(why, "malformed answer section");
}

static void
test_foreign(void **unused)
{
    struct anycast_canary c, other;
    struct msg m;
    char why[160];
    static const uint8_t good[4] = {192, 0, 2, 1};
    (void)unused;
    assert_int_equal(anycast_canary_init(&c, "canary.example", "A", "192.0.2.1", why, 160), 0);
    reply_start(&m, &c, 0x84, 0x00, 1);
    answer(&m, 1, good, 4);
    /* Wrong ID. */
    assert_int_equal(anycast_canary_check(&c, ID + 1, m.b, m.len, why, 160),
                     ANYCAST_ANSWER_FOREIGN);
    /* Not a response (QR clear): e.g. our own query looped back. */
    m.b[2] = 0x04;
    assert_int_equal(check(&c, &m, why), ANYCAST_ANSWER_FOREIGN);
    /* Another question. */
    assert_int_equal(anycast_canary_init(&other, "other.example", "A", "192.0.2.1", why, 160), 0);
    reply_start(&m, &other, 0x84, 0x00, 0);
    assert_int_equal(check(&c, &m, why), ANYCAST_ANSWER_FOREIGN);
    /* Too short. */
    assert_int_equal(anycast_canary_check(&c, ID, m.b, 5, why, 160), ANYCAST_ANSWER_FOREIGN);
    /* RFC 4343: a case-changed question is still ours. */
    reply_start(&m, &c, 0x84, 0x00, 1);
    m.b[13] = 'C';
    answer(&m, 1, good, 4);
    assert_int_equal(check(&c, &m, why), ANYCAST_ANSWER_PASS);
}

static void
test_verdicts_other_types(void **unused)
{
    struct anycast_canary c;
    struct msg m;
    char why[160];
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const uint8_t txt[] = {5, 'h', 'e', 'l', 'l', 'o', 6, ' ', 'w', 'o', 'r', 'l', 'd'};
    static const uint8_t target[] = {6,   'T', 'a', 'r', 'g', 'e', 't', 7,
                                     'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};
    (void)unused;
    assert_int_equal(anycast_canary_init(&c, "canary.example", "AAAA", "2001:db8::1", why, 160), 0);
    reply_start(&m, &c, 0x84, 0x00, 1);
    answer(&m, 28, v6, 16);
    assert_int_equal(check(&c, &m, why), ANYCAST_ANSWER_PASS);

    /* TXT: character-strings joined. */
    assert_int_equal(anycast_canary_init(&c, "canary.example", "TXT", "hello world", why, 160), 0);
    reply_start(&m, &c, 0x84, 0x00, 1);
    answer(&m, 16, txt, sizeof(txt));
    assert_int_equal(check(&c, &m, why), ANYCAST_ANSWER_PASS);
    assert_int_equal(anycast_canary_init(&c, "canary.example", "TXT", "hello", why, 160), 0);
    reply_start(&m, &c, 0x84, 0x00, 1);
    answer(&m, 16, txt, sizeof(txt));
    assert_int_equal(check(&c, &m, why), ANYCAST_ANSWER_FAIL);
    assert_string_equal(why, "wrong answer 'hello world', expected 'hello'");

    /* CNAME: names compare case-insensitively, final dot optional. */
    assert_int_equal(
        anycast_canary_init(&c, "canary.example", "CNAME", "target.example.", why, 160), 0);
    reply_start(&m, &c, 0x84, 0x00, 1);
    answer(&m, 5, target, sizeof(target));
    assert_int_equal(check(&c, &m, why), ANYCAST_ANSWER_PASS);
    assert_int_equal(anycast_canary_init(&c, "canary.example", "CNAME", "other.example", why, 160),
                     0);
    reply_start(&m, &c, 0x84, 0x00, 1);
    answer(&m, 5, target, sizeof(target));
    assert_int_equal(check(&c, &m, why), ANYCAST_ANSWER_FAIL);
    assert_string_equal(why, "wrong answer 'Target.example.', expected 'other.example'");
}

static void
test_pointer_loop(void **unused)
{
    struct anycast_canary c;
    struct msg m;
    char why[160];
    (void)unused;
    assert_int_equal(anycast_canary_init(&c, "canary.example", "A", "192.0.2.1", why, 160), 0);
    reply_start(&m, &c, 0x84, 0x00, 1);
    /* An owner name that points at itself. */
    put16(&m, (uint16_t)(0xC000 | m.len));
    put16(&m, 1);
    assert_int_equal(check(&c, &m, why), ANYCAST_ANSWER_FAIL);
    assert_string_equal(why, "malformed answer section");
}

static void
test_site_status(void **unused)
{
    struct anycast_site_status st;
    char err[160], why[160];
    static const char ok[] = "ok\nsite: active\nzones: 2\nrecords: 10\nloaded: 1700000000\n"
                             "last_reload: ok at 1700000000\nhealth: 1 up, 0 down, 0 unknown\n";
    /* Today's meridiand shows UTC times with ages; 1700000000 is 2023-11-14T22:13:20Z. */
    static const char failed[] = "ok\nsite: drained\nloaded: 2023-11-14T22:13:20Z (100 s ago)\n"
                                 "last_reload: failed at 2023-11-14T22:15:00Z (0 s ago): "
                                 "zones.yaml:3: bad\n";
    (void)unused;
    assert_int_equal(anycast_site_parse(ok, &st, err, sizeof(err)), 0);
    assert_false(st.drained);
    assert_false(st.reload_failed);
    assert_true(st.have_loaded);
    assert_int_equal(st.loaded_unix, 1700000000);
    assert_false(anycast_site_soft_failure(&st, 1700000500, 0, why, sizeof(why)));
    /* Data age: only with max_data_age set. */
    assert_false(anycast_site_soft_failure(&st, 1700000500, 600000, why, sizeof(why)));
    assert_true(anycast_site_soft_failure(&st, 1700000700, 600000, why, sizeof(why)));
    assert_string_equal(why, "data loaded 700 s ago (max_data_age 600000 ms)");

    assert_int_equal(anycast_site_parse(failed, &st, err, sizeof(err)), 0);
    assert_true(st.have_loaded);
    assert_int_equal(st.loaded_unix, 1700000000);
    assert_true(st.drained);
    assert_true(st.reload_failed);
    /* A drained site is a drain, not a soft failure; the failed reload is. */
    assert_true(anycast_site_soft_failure(&st, 1700000100, 0, why, sizeof(why)));
    assert_string_equal(why, "meridiand last_reload failed at 2023-11-14T22:15:00Z (0 s ago): "
                             "zones.yaml:3: bad");

    assert_int_equal(anycast_site_parse("error: unknown command\n", &st, err, sizeof(err)), -1);
    assert_string_equal(err, "status: error: unknown command");
    assert_int_equal(anycast_site_parse("", &st, err, sizeof(err)), -1);
    assert_string_equal(err, "status: empty reply");
    assert_int_equal(anycast_site_parse("ok\n", &st, err, sizeof(err)), 0);
    assert_true(anycast_site_soft_failure(&st, 1, 1000, why, sizeof(why)));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_init_errors),
        cmocka_unit_test(test_verdicts_a),
        cmocka_unit_test(test_foreign),
        cmocka_unit_test(test_verdicts_other_types),
        cmocka_unit_test(test_pointer_loop),
        cmocka_unit_test(test_site_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
