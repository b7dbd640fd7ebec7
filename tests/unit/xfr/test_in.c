// SPDX-License-Identifier: MIT
/* Unit tests for reading AXFR and IXFR answers (xfr_in.c) and a secondary zone's timers
 * (xfr_refresh.c). The answers are built here byte by byte as RFC 5936 §2.2 and RFC 1995 §4
 * lay them out (names compressed where RFC 3597 §4 allows it): a full transfer over two
 * messages, IXFR differences of two steps applied to a base version, the up-to-date and
 * full forms of IXFR, and each malformed stream refused with its reason. The timers run on
 * an injected clock. */
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
#include "xfr/xfr_in.h"
#include "xfr/xfr_refresh.h"

#define ID 0x4242

static uint8_t msg[65535];
static size_t pos;
static uint16_t ancount;

static size_t
put_name(uint8_t *p, const char *text)
{
    int n = dname_from_text(text, p);
    assert_true(n > 0);
    return (size_t)n;
}

/* A response header and, unless `no_question`, the question example.net/qtype/IN. */
static void
begin(uint16_t id, uint16_t qtype, uint8_t rcode, bool no_question)
{
    memset(msg, 0, DNS_HEADER_LEN);
    dnswire_put16(msg, id);
    dnswire_put16(msg + 2, DNS_FLAG_QR | DNS_FLAG_AA | rcode);
    pos = DNS_HEADER_LEN;
    ancount = 0;
    if (!no_question) {
        dnswire_put16(msg + DNS_OFF_QDCOUNT, 1);
        pos += put_name(msg + pos, "example.net.");
        dnswire_put16(msg + pos, qtype);
        dnswire_put16(msg + pos + 2, DNS_CLASS_IN);
        pos += 4;
    }
}

static void
rr(const char *owner, uint16_t type, const uint8_t *rd, size_t rdlen)
{
    pos += put_name(msg + pos, owner);
    dnswire_put16(msg + pos, type);
    dnswire_put16(msg + pos + 2, DNS_CLASS_IN);
    dnswire_put32(msg + pos + 4, 300);
    dnswire_put16(msg + pos + 8, (uint16_t)rdlen);
    memcpy(msg + pos + 10, rd, rdlen);
    pos += 10 + rdlen;
    dnswire_put16(msg + DNS_OFF_ANCOUNT, ++ancount);
}

static void
soa(uint32_t serial)
{
    uint8_t rd[300];
    size_t n = put_name(rd, "ns1.example.net.");
    n += put_name(rd + n, "hostmaster.example.net.");
    uint32_t f[5] = {serial, 100, 10, 300, 60};
    for (int i = 0; i < 5; i++, n += 4)
        dnswire_put32(rd + n, f[i]);
    rr("example.net.", DNS_TYPE_SOA, rd, n);
}

static void
a(const char *owner, uint8_t last)
{
    const uint8_t rd[4] = {192, 0, 2, last};
    rr(owner, DNS_TYPE_A, rd, 4);
}

/* NS ns1.example.net. written as "ns1" and a pointer to the question's name (offset 12). */
static void
ns_compressed(void)
{
    rr("example.net.", DNS_TYPE_NS, (const uint8_t *)"\3ns1\xc0\x0c", 6);
}

static enum xfr_in_status
feed(struct xfr_in *x)
{
    return xfr_in_message(x, msg, pos);
}

static const uint8_t *
origin(void)
{
    static uint8_t o[DNAME_MAX_LEN];
    put_name(o, "example.net.");
    return o;
}

/* "owner TYPE last-octet-or-ttl" lines of a version, sorted, to compare sets. */
static void
assert_version(const struct zone_records *r, uint32_t serial, const char *want)
{
    uint32_t s, timers[4];
    assert_int_equal(r->recs[0].type, DNS_TYPE_SOA);
    assert_true(zone_soa_fields(r->recs[0].rdata, r->recs[0].rdlen, &s, timers));
    assert_int_equal(s, serial);
    static char lines[64][2 * DNAME_TEXT_MAX + 16];
    size_t n = 0;
    for (size_t i = 1; i < r->count; i++) {
        char owner[DNAME_TEXT_MAX], target[DNAME_TEXT_MAX] = "";
        const struct zone_record *rec = &r->recs[i];
        dname_to_text(rec->owner, owner, sizeof(owner));
        if (rec->type == DNS_TYPE_NS)
            dname_to_text(rec->rdata, target, sizeof(target));
        else
            snprintf(target, sizeof(target), "%u", rec->rdata[rec->rdlen - 1]);
        snprintf(lines[n++], sizeof(lines[0]), "%s %u %s", owner, rec->type, target);
    }
    qsort(lines, n, sizeof(lines[0]), (int (*)(const void *, const void *))strcmp);
    static char all[8192];
    all[0] = 0;
    for (size_t i = 0; i < n; i++) {
        strcat(all, lines[i]);
        strcat(all, "\n");
    }
    assert_string_equal(all, want);
}

/* The base version an IXFR applies to: serial 1. */
static void
base_version(struct zone_records *base)
{
    struct xfr_in x;
    xfr_in_init(&x, origin(), DNS_TYPE_AXFR, ID, NULL, 0, NULL);
    begin(ID, DNS_TYPE_AXFR, 0, false);
    soa(1);
    ns_compressed();
    a("ns1.example.net.", 1);
    a("www.example.net.", 10);
    a("old.example.net.", 20);
    soa(1);
    assert_int_equal(feed(&x), XFR_IN_DONE);
    assert_true(xfr_in_result(&x, base));
    xfr_in_fini(&x);
}

static void
test_axfr(void **state)
{
    (void)state;
    struct xfr_in x;
    struct zone_records r;
    xfr_in_init(&x, origin(), DNS_TYPE_AXFR, ID, NULL, 0, NULL);
    begin(ID, DNS_TYPE_AXFR, 0, false);
    soa(7);
    ns_compressed();
    a("ns1.example.net.", 1);
    assert_int_equal(feed(&x), XFR_IN_MORE);
    /* RFC 5936 §2.2.1: later messages may leave the question out. */
    begin(ID, DNS_TYPE_AXFR, 0, true);
    a("WWW.Example.NET.", 10);
    soa(7);
    assert_int_equal(feed(&x), XFR_IN_DONE);
    assert_string_equal(xfr_in_kind_text(&x), "AXFR");
    assert_true(xfr_in_result(&x, &r));
    assert_version(&r, 7,
                   "example.net. 2 ns1.example.net.\n"
                   "ns1.example.net. 1 1\n"
                   "www.example.net. 1 10\n");
    zone_records_fini(&r);
    /* Anything after the end is refused. */
    assert_int_equal(feed(&x), XFR_IN_ERROR);
    xfr_in_fini(&x);
}

static void
test_ixfr_incremental(void **state)
{
    (void)state;
    struct zone_records base, r;
    struct xfr_in x;
    base_version(&base);
    xfr_in_init(&x, origin(), DNS_TYPE_IXFR, ID, &base, 1, NULL);
    /* RFC 1995 §4: new SOA; old SOA, deletions, new SOA, additions; per step; new SOA. */
    begin(ID, DNS_TYPE_IXFR, 0, false);
    soa(3);
    soa(1);
    a("old.example.net.", 20);
    soa(2);
    a("new.example.net.", 30);
    a("www.example.net.", 10); /* there already: kept once */
    assert_int_equal(feed(&x), XFR_IN_MORE);
    begin(ID, DNS_TYPE_IXFR, 0, true);
    soa(2);
    a("www.example.net.", 10);
    soa(3);
    a("www.example.net.", 11);
    soa(3);
    assert_int_equal(feed(&x), XFR_IN_DONE);
    assert_string_equal(xfr_in_kind_text(&x), "IXFR");
    assert_true(xfr_in_result(&x, &r));
    assert_version(&r, 3,
                   "example.net. 2 ns1.example.net.\n"
                   "new.example.net. 1 30\n"
                   "ns1.example.net. 1 1\n"
                   "www.example.net. 1 11\n");
    zone_records_fini(&r);
    xfr_in_fini(&x);

    /* Up to date: the SOA alone, our serial. */
    xfr_in_init(&x, origin(), DNS_TYPE_IXFR, ID, &base, 1, NULL);
    begin(ID, DNS_TYPE_IXFR, 0, false);
    soa(1);
    assert_int_equal(feed(&x), XFR_IN_DONE);
    assert_int_equal(x.kind, XFR_IN_UP_TO_DATE);
    assert_false(xfr_in_result(&x, &r));
    zone_records_fini(&r);
    xfr_in_fini(&x);

    /* Answered with the whole zone (RFC 1995 §4): the second record is not our SOA. */
    xfr_in_init(&x, origin(), DNS_TYPE_IXFR, ID, &base, 1, NULL);
    begin(ID, DNS_TYPE_IXFR, 0, false);
    soa(9);
    ns_compressed();
    a("ns1.example.net.", 1);
    soa(9);
    assert_int_equal(feed(&x), XFR_IN_DONE);
    assert_string_equal(xfr_in_kind_text(&x), "IXFR (full)");
    assert_true(xfr_in_result(&x, &r));
    assert_version(&r, 9, "example.net. 2 ns1.example.net.\nns1.example.net. 1 1\n");
    zone_records_fini(&r);
    xfr_in_fini(&x);
    zone_records_fini(&base);
}

/* Each stream must fail with `want` in err. */
static void
must_fail(struct xfr_in *x, const char *want)
{
    assert_int_equal(feed(x), XFR_IN_ERROR);
    assert_string_equal(x->err, want);
    xfr_in_fini(x);
}

static void
test_malformed(void **state)
{
    (void)state;
    struct zone_records base;
    struct xfr_in x;
    base_version(&base);
    const struct xfr_in_limits small = {.max_records = 3, .max_bytes = 1 << 20, .max_messages = 2};

    xfr_in_init(&x, origin(), DNS_TYPE_AXFR, ID, NULL, 0, NULL);
    begin(ID + 1, DNS_TYPE_AXFR, 0, false);
    soa(1);
    must_fail(&x, "not a response to our request");

    xfr_in_init(&x, origin(), DNS_TYPE_AXFR, ID, NULL, 0, NULL);
    begin(ID, DNS_TYPE_AXFR, DNS_RCODE_NOTAUTH, false);
    assert_int_equal(feed(&x), XFR_IN_ERROR);
    assert_int_equal(x.rcode, DNS_RCODE_NOTAUTH);
    must_fail(&x, "the primary answered NOTAUTH");

    xfr_in_init(&x, origin(), DNS_TYPE_AXFR, ID, NULL, 0, NULL);
    begin(ID, DNS_TYPE_IXFR, 0, false);
    soa(1);
    must_fail(&x, "the response's question is not ours");

    xfr_in_init(&x, origin(), DNS_TYPE_AXFR, ID, NULL, 0, NULL);
    begin(ID, DNS_TYPE_AXFR, 0, false);
    a("www.example.net.", 1);
    must_fail(&x, "the answer does not start with the zone's SOA");

    xfr_in_init(&x, origin(), DNS_TYPE_AXFR, ID, NULL, 0, NULL);
    begin(ID, DNS_TYPE_AXFR, 0, false);
    soa(1);
    a("www.example.org.", 1);
    must_fail(&x, "record of www.example.org., outside the zone");

    xfr_in_init(&x, origin(), DNS_TYPE_AXFR, ID, NULL, 0, NULL);
    begin(ID, DNS_TYPE_AXFR, 0, false);
    soa(5);
    a("www.example.net.", 1);
    soa(4);
    must_fail(&x, "closing SOA serial 4 differs from the opening 5");

    xfr_in_init(&x, origin(), DNS_TYPE_AXFR, ID, NULL, 0, NULL);
    begin(ID, DNS_TYPE_AXFR, 0, false);
    soa(5);
    soa(5);
    a("www.example.net.", 1);
    must_fail(&x, "records after the closing SOA");

    /* Truncated: a record cut short, and the TC bit. */
    xfr_in_init(&x, origin(), DNS_TYPE_AXFR, ID, NULL, 0, NULL);
    begin(ID, DNS_TYPE_AXFR, 0, false);
    soa(5);
    a("www.example.net.", 1);
    pos -= 2;
    must_fail(&x, "malformed record 2 of message 1");
    xfr_in_init(&x, origin(), DNS_TYPE_AXFR, ID, NULL, 0, NULL);
    begin(ID, DNS_TYPE_AXFR, 0, false);
    msg[2] |= DNS_FLAG_TC >> 8;
    soa(5);
    must_fail(&x, "truncated message (TC)");

    /* A compressed name pointing past the RDATA's end. */
    xfr_in_init(&x, origin(), DNS_TYPE_AXFR, ID, NULL, 0, NULL);
    begin(ID, DNS_TYPE_AXFR, 0, false);
    soa(5);
    rr("example.net.", DNS_TYPE_NS, (const uint8_t *)"\3ns1", 4);
    must_fail(&x, "malformed record 2 of message 1");

    /* Bounds. */
    xfr_in_init(&x, origin(), DNS_TYPE_AXFR, ID, NULL, 0, &small);
    begin(ID, DNS_TYPE_AXFR, 0, false);
    soa(5);
    a("a.example.net.", 1);
    a("b.example.net.", 1);
    a("c.example.net.", 1);
    must_fail(&x, "more than 3 records");
    xfr_in_init(&x, origin(), DNS_TYPE_AXFR, ID, NULL, 0, &small);
    begin(ID, DNS_TYPE_AXFR, 0, false);
    soa(5);
    assert_int_equal(feed(&x), XFR_IN_MORE);
    begin(ID, DNS_TYPE_AXFR, 0, true);
    a("a.example.net.", 1);
    assert_int_equal(feed(&x), XFR_IN_MORE);
    must_fail(&x, "more than 2 messages");

    /* IXFR: a deletion of a record the zone lacks, a step that goes backwards, a newer SOA
     * alone (we cannot use it: AXFR next). */
    xfr_in_init(&x, origin(), DNS_TYPE_IXFR, ID, &base, 1, NULL);
    begin(ID, DNS_TYPE_IXFR, 0, false);
    soa(2);
    soa(1);
    a("nothere.example.net.", 1);
    must_fail(&x, "IXFR 1 -> 1 deletes nothere.example.net. A, which the zone does not have");
    xfr_in_init(&x, origin(), DNS_TYPE_IXFR, ID, &base, 1, NULL);
    begin(ID, DNS_TYPE_IXFR, 0, false);
    soa(3);
    soa(1);
    soa(5);
    must_fail(&x, "IXFR step from serial 1 goes to 5 (expected a newer serial up to 3)");
    xfr_in_init(&x, origin(), DNS_TYPE_IXFR, ID, &base, 1, NULL);
    begin(ID, DNS_TYPE_IXFR, 0, false);
    soa(3);
    soa(1);
    soa(2);
    soa(7);
    must_fail(&x, "IXFR: SOA serial 7 where 2 was expected");
    xfr_in_init(&x, origin(), DNS_TYPE_IXFR, ID, &base, 1, NULL);
    begin(ID, DNS_TYPE_IXFR, 0, false);
    soa(2);
    must_fail(&x, "the IXFR answer is a newer SOA (serial 2) alone");
    zone_records_fini(&base);
}

static void
test_timers(void **state)
{
    (void)state;
    struct xfr_refresh r;
    const uint32_t soa_timers[4] = {100, 10, 300, 60};
    xfr_refresh_init(&r, 1000);
    assert_true(xfr_refresh_expired(&r, 1000)); /* no data yet */
    assert_int_equal(xfr_refresh_wake(&r, 1000), 1000);
    xfr_refresh_failed(&r, 1000); /* before any SOA: the default retry */
    assert_int_equal(r.next, 1000 + XFR_REFRESH_FIRST_RETRY_S);

    xfr_refresh_done(&r, soa_timers, 1000, 1000);
    assert_false(xfr_refresh_expired(&r, 1000));
    assert_int_equal(r.next, 1100);
    assert_int_equal(r.expires_at, 1300);
    xfr_refresh_failed(&r, 1100);
    assert_int_equal(r.next, 1110);
    xfr_refresh_failed(&r, 1295);
    /* The expiry comes before the next retry: wake for it. */
    assert_int_equal(xfr_refresh_wake(&r, 1296), 1300);
    assert_false(xfr_refresh_expired(&r, 1299));
    assert_true(xfr_refresh_expired(&r, 1300));
    assert_int_equal(xfr_refresh_wake(&r, 1300), 1305);
    xfr_refresh_now(&r, 1302);
    assert_int_equal(xfr_refresh_wake(&r, 1302), 1302);

    /* A disk copy confirmed long ago: refresh at once, expiry counted from then. */
    xfr_refresh_done(&r, soa_timers, 500, 1000);
    assert_int_equal(r.next, 1000);
    assert_true(xfr_refresh_expired(&r, 1000));

    /* Bounds: refresh 0 asks after a second, an expire shorter than refresh + retry is
     * raised to it. */
    const uint32_t odd[4] = {0, 20, 5, 0};
    xfr_refresh_done(&r, odd, 2000, 2000);
    assert_int_equal(r.refresh_s, XFR_REFRESH_MIN_S);
    assert_int_equal(r.next, 2001);
    assert_int_equal(r.expire_s, 21);
    const uint32_t huge[4] = {UINT32_MAX, UINT32_MAX, UINT32_MAX, 0};
    xfr_refresh_done(&r, huge, 2000, 2000);
    assert_int_equal(r.refresh_s, XFR_REFRESH_MAX_S);
    assert_int_equal(r.retry_s, XFR_REFRESH_MAX_S);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_axfr),
        cmocka_unit_test(test_ixfr_incremental),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_timers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
