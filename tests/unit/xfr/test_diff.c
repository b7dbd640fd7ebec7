// SPDX-License-Identifier: MIT
/* Differences between versions of a zone (xfr_diff_new) and the history IXFR is served from
 * (xfr_zone_follow): known zones, the exact records removed and added (RFC 1995 §4: a changed
 * record is removed and added, a changed TTL changes the whole RRset), names that appear and
 * disappear, the SOA kept apart; the history carried across versions, trimmed by count and by
 * size (RFC 1995 §5), dropped when the serial does not increase (RFC 1982) or the data changes
 * under the same serial, and kept when nothing changed. Single-threaded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dnswire.h"
#include "xfr_test.h"

static const char v1[] = "$ORIGIN x.test.\n"
                         "$TTL 300\n"
                         "@ SOA ns1 host 1 7200 3600 1209600 300\n"
                         "@ NS ns1\n"
                         "ns1 A 192.0.2.1\n"
                         "www A 192.0.2.10\n"
                         "www A 192.0.2.11\n"
                         "www TXT \"same\"\n"
                         "old TXT \"gone\"\n"
                         "mail MX 10 ns1\n"
                         "deep.sub TXT \"ent\"\n";

/* www: one address replaced; old: gone; new: appears; mail: TTL changed; the empty
 * non-terminal sub loses its only child, which moves to deeper.sub. */
static const char v2[] = "$ORIGIN x.test.\n"
                         "$TTL 300\n"
                         "@ SOA ns1 host 2 7200 3600 1209600 300\n"
                         "@ NS ns1\n"
                         "ns1 A 192.0.2.1\n"
                         "www A 192.0.2.11\n"
                         "www A 192.0.2.12\n"
                         "www TXT \"same\"\n"
                         "new TXT \"here\"\n"
                         "mail 600 MX 10 ns1\n"
                         "deeper.sub TXT \"ent\"\n";

static void
test_diff_records(void **state)
{
    (void)state;
    struct zone *a = xt_zone("x.test", v1), *b = xt_zone("x.test", v2);
    struct xfr_zone *xa = xt_xfr(a, NULL), *xb = xt_xfr(b, NULL);
    struct xfr_diff *d = xfr_diff_new(xa, xb);
    assert_int_equal(d->from_serial, 1);
    assert_int_equal(d->to_serial, 2);
    assert_int_equal(d->old_soa.type, DNS_TYPE_SOA);
    struct xt_list removed = {0}, added = {0};
    xt_run(d->removed, d->removed_len, &removed);
    xt_run(d->added, d->added_len, &added);
    assert_int_equal(d->removed_count, removed.count);
    assert_int_equal(d->added_count, added.count);
    static const char *const want_removed[] = {
        "www.x.test. 300 IN A 192.0.2.10",
        "old.x.test. 300 IN TXT \"gone\"",
        "mail.x.test. 300 IN MX 10 ns1.x.test.",
        "deep.sub.x.test. 300 IN TXT \"ent\"",
        NULL,
    };
    static const char *const want_added[] = {
        "www.x.test. 300 IN A 192.0.2.12",
        "new.x.test. 300 IN TXT \"here\"",
        "mail.x.test. 600 IN MX 10 ns1.x.test.",
        "deeper.sub.x.test. 300 IN TXT \"ent\"",
        NULL,
    };
    xt_list_expect(&removed, want_removed);
    xt_list_expect(&added, want_added);
    /* The SOAs frame the difference; they are not among its records. */
    char *old_soa = xt_rr_text(a->origin, DNS_TYPE_SOA, d->old_soa.ttl, d->old_soa.rdata + 2,
                               dnswire_get16(d->old_soa.rdata));
    assert_non_null(strstr(old_soa, " 1 7200 3600 1209600 300"));
    free(old_soa);

    /* The other way round, removed and added trade places. */
    struct xfr_diff *back = xfr_diff_new(xb, xa);
    struct xt_list r2 = {0}, a2 = {0};
    xt_run(back->removed, back->removed_len, &r2);
    xt_run(back->added, back->added_len, &a2);
    xt_list_expect(&r2, want_added);
    xt_list_expect(&a2, want_removed);

    /* A version against itself: nothing. */
    struct xfr_diff *same = xfr_diff_new(xa, xa);
    assert_int_equal(same->removed_count + same->added_count, 0);

    xt_list_free(&removed);
    xt_list_free(&added);
    xt_list_free(&r2);
    xt_list_free(&a2);
    xfr_diff_unref(d);
    xfr_diff_unref(back);
    xfr_diff_unref(same);
    xfr_zone_free(xa);
    xfr_zone_free(xb);
    zone_free(a);
    zone_free(b);
}

/* A zone of one TXT record whose text names the version, and `extra` more names of which
 * the first `changed` carry the version's text too. */
static struct zone *
version_of(uint32_t serial, const char *text, int extra, int changed)
{
    char buf[8192];
    int n = snprintf(buf, sizeof(buf),
                     "$ORIGIN h.test.\n$TTL 300\n@ SOA ns1 host %u 7200 3600 1209600 300\n"
                     "@ NS ns1\nns1 A 192.0.2.1\nv TXT \"%s\"\n",
                     serial, text);
    for (int i = 0; i < extra; i++)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "n%d TXT \"%s-%d\"\n", i,
                      i < changed ? text : "same", i);
    return xt_zone("h.test", buf);
}

static struct zone *
version(uint32_t serial, const char *text, int extra)
{
    return version_of(serial, text, extra, extra);
}

/* A version whose one changed record is a small part of the zone (60 more names), so that
 * its difference is much shorter than the zone (RFC 1995 §5). */
static struct zone *
small_change(uint32_t serial, const char *text)
{
    return version_of(serial, text, 60, 0);
}

/* Serials of the history, oldest first: "1>2 2>3". */
static void
expect_history(const struct xfr_zone *xz, const char *want)
{
    char got[256] = "";
    size_t n = 0;
    for (uint32_t i = 0; i < xz->history.count; i++) {
        const struct xfr_diff *d = xz->history.diffs[i];
        n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%u>%u", i ? " " : "", d->from_serial,
                              d->to_serial);
        if (i + 1 < xz->history.count)
            assert_int_equal(d->to_serial, xz->history.diffs[i + 1]->from_serial);
    }
    assert_string_equal(got, want);
    if (xz->history.count)
        assert_int_equal(xz->history.diffs[xz->history.count - 1]->to_serial, xz->zone->serial);
}

struct chain {
    struct zone *zones[16];
    struct xfr_zone *xzs[16];
    int count;
};

static struct xfr_zone *
next(struct chain *c, struct zone *z, uint32_t max_versions, size_t max_bytes, enum xfr_change want)
{
    struct xfr_zone_params p = {.transfer = &xt_allow_all, .now = 1};
    struct xfr_zone *xz = NULL;
    char err[XFR_ERR_MAX];
    assert_int_equal(xfr_zone_new(z, &p, &xz, err), 0);
    const struct xfr_zone *prev = c->count ? c->xzs[c->count - 1] : NULL;
    assert_int_equal(xfr_zone_follow(xz, prev, max_versions, max_bytes), want);
    c->zones[c->count] = z;
    c->xzs[c->count++] = xz;
    return xz;
}

static void
chain_free(struct chain *c)
{
    for (int i = 0; i < c->count; i++) {
        xfr_zone_free(c->xzs[i]);
        zone_free(c->zones[i]);
    }
}

static void
test_history(void **state)
{
    (void)state;
    struct chain c = {0};
    const size_t big = XFR_HISTORY_BYTES;
    expect_history(next(&c, small_change(1, "a"), 3, big, XFR_CHANGE_NONE), "");
    expect_history(next(&c, small_change(2, "b"), 3, big, XFR_CHANGE_DIFF), "1>2");
    expect_history(next(&c, small_change(3, "c"), 3, big, XFR_CHANGE_DIFF), "1>2 2>3");
    expect_history(next(&c, small_change(4, "d"), 3, big, XFR_CHANGE_DIFF), "1>2 2>3 3>4");
    /* Three versions at most: the oldest goes. */
    expect_history(next(&c, small_change(5, "e"), 3, big, XFR_CHANGE_DIFF), "2>3 3>4 4>5");
    /* A reload of the same data keeps the history, sharing its differences. */
    struct xfr_zone *same = next(&c, small_change(5, "e"), 3, big, XFR_CHANGE_SAME);
    expect_history(same, "2>3 3>4 4>5");
    assert_ptr_equal(same->history.diffs[0], c.xzs[c.count - 2]->history.diffs[0]);
    /* 2>3 is held by the versions 3, 4, 5 and this one. */
    assert_int_equal(atomic_load(&same->history.diffs[0]->refs), 4);
    /* Data changed under the same serial: secondaries cannot tell; the history is dropped. */
    expect_history(next(&c, small_change(5, "f"), 3, big, XFR_CHANGE_NO_SERIAL), "");
    expect_history(next(&c, small_change(6, "g"), 3, big, XFR_CHANGE_DIFF), "5>6");
    /* RFC 1982: 6 -> 5 goes backwards; so does a jump of 2^31 or more. */
    expect_history(next(&c, small_change(5, "h"), 3, big, XFR_CHANGE_BACKWARDS), "");
    expect_history(next(&c, small_change(0x80000005u, "i"), 3, big, XFR_CHANGE_BACKWARDS), "");
    /* Wrapping forward is an increase: 0x80000005 -> 3 is 2^31 - 2 ahead. */
    expect_history(next(&c, small_change(3, "j"), 3, big, XFR_CHANGE_DIFF), "2147483653>3");
    chain_free(&c);
    assert_true(dnswire_serial_before(0xFFFFFFFFu, 0));
    assert_false(dnswire_serial_before(0, 0x80000000u));
    assert_false(dnswire_serial_before(7, 7));
}

/* RFC 1995 §5: no history longer than the zone; and the byte bound. */
static void
test_history_bytes(void **state)
{
    (void)state;
    struct chain c = {0};
    /* 40 names; each version changes 15 of them: a difference is 30 of the zone's 44
     * records, two are more than the zone. */
    next(&c, version_of(1, "a", 40, 15), 8, XFR_HISTORY_BYTES, XFR_CHANGE_NONE);
    struct xfr_zone *x2 =
        next(&c, version_of(2, "b", 40, 15), 8, XFR_HISTORY_BYTES, XFR_CHANGE_DIFF);
    expect_history(x2, "1>2");
    assert_true(x2->history.bytes <= x2->wire_bytes);
    assert_int_equal(x2->history.bytes, x2->history.diffs[0]->bytes);
    assert_int_equal(x2->history.diffs[0]->removed_count, 16);
    assert_int_equal(x2->history.diffs[0]->added_count, 16);
    struct xfr_zone *x3 =
        next(&c, version_of(3, "c", 40, 15), 8, XFR_HISTORY_BYTES, XFR_CHANGE_DIFF);
    expect_history(x3, "2>3");
    /* Every record replaced: the difference alone is longer than the zone (IXFR answers in
     * full). */
    struct xfr_zone *x4 = next(&c, version(4, "d", 40), 8, XFR_HISTORY_BYTES, XFR_CHANGE_DIFF);
    expect_history(x4, "");
    /* And a byte bound below one small difference. */
    struct xfr_zone *x5 = next(&c, version_of(5, "e", 40, 1), 8, 100, XFR_CHANGE_DIFF);
    expect_history(x5, "");
    assert_int_equal(x5->history.bytes, 0);
    struct xfr_zone *x6 = next(&c, version_of(6, "f", 40, 1), 8, 1000, XFR_CHANGE_DIFF);
    expect_history(x6, "5>6");
    chain_free(&c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_records),
        cmocka_unit_test(test_history),
        cmocka_unit_test(test_history_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
