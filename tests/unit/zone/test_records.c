// SPDX-License-Identifier: MIT
/* Unit tests for zones built from records (zone_records.c): what a zone transfer delivers is
 * compiled with the checks of a zone file, so each bad input here must be refused with its
 * message (no SOA, two SOAs, no apex NS, CNAME beside other data, data outside the zone,
 * missing glue, malformed RDATA); a good one compiles, and a copy written to disk reads back
 * record for record through the zone-file parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include "test_tmpdir.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/dnswire.h"
#include "zone/zone.h"

static char dir[] = "/tmp/meridian-test-records-XXXXXX";

/* Appends a name in wire form at p; returns its length. */
static size_t
put_name(uint8_t *p, const char *text)
{
    int n = dname_from_text(text, p);
    assert_true(n > 0);
    return (size_t)n;
}

static void
add_soa(struct zone_records *r, const char *owner, uint32_t serial)
{
    uint8_t own[DNAME_MAX_LEN], rd[600];
    size_t n = put_name(rd, "ns1.example.net.");
    n += put_name(rd + n, "hostmaster.example.net.");
    uint32_t f[5] = {serial, 3600, 600, 86400, 300};
    for (int i = 0; i < 5; i++, n += 4)
        dnswire_put32(rd + n, f[i]);
    put_name(own, owner);
    zone_records_add(r, own, DNS_TYPE_SOA, 3600, rd, (uint16_t)n);
}

static void
add_name_rr(struct zone_records *r, const char *owner, uint16_t type, const char *target)
{
    uint8_t own[DNAME_MAX_LEN], rd[DNAME_MAX_LEN];
    put_name(own, owner);
    zone_records_add(r, own, type, 3600, rd, (uint16_t)put_name(rd, target));
}

static void
add_a(struct zone_records *r, const char *owner, uint8_t last)
{
    uint8_t own[DNAME_MAX_LEN], rd[4] = {192, 0, 2, last};
    put_name(own, owner);
    zone_records_add(r, own, DNS_TYPE_A, 300, rd, 4);
}

/* A valid zone: SOA, apex NS (one in-zone with its address), a host, a delegation with glue. */
static void
good_zone(struct zone_records *r)
{
    zone_records_init(r);
    add_soa(r, "example.net.", 2024010101);
    add_name_rr(r, "Example.NET.", DNS_TYPE_NS, "ns1.example.net.");
    add_a(r, "ns1.example.net.", 1);
    add_a(r, "www.example.net.", 2);
    add_name_rr(r, "sub.example.net.", DNS_TYPE_NS, "ns.sub.example.net.");
    add_a(r, "ns.sub.example.net.", 3);
}

static void
must_refuse(struct zone_records *r, const char *want)
{
    struct zone *z = (struct zone *)1;
    char err[ZONE_ERR_MAX];
    assert_int_equal(zone_build("example.net", "AXFR from 127.0.0.1:53", r, NULL, 0, NULL, &z, err), -1);
    assert_null(z);
    assert_string_equal(err, want);
    zone_records_fini(r);
}

static void
test_build_good(void **state)
{
    (void)state;
    struct zone_records r;
    struct zone *z = NULL;
    char err[ZONE_ERR_MAX];
    good_zone(&r);
    if (zone_build("example.net", "test", &r, NULL, 0, NULL, &z, err) < 0)
        fail_msg("%s", err);
    assert_int_equal(z->serial, 2024010101);
    assert_int_equal(z->record_count, 6);
    assert_false(z->expired);
    /* Owners were lowercased on the way in. */
    uint8_t name[DNAME_MAX_LEN];
    int len = dname_from_text("www.example.net.", name);
    const struct zone_node *n = zone_lookup(z, name, len);
    assert_non_null(n);
    assert_non_null(zone_node_rrset(n, DNS_TYPE_A));
    len = dname_from_text("ns.sub.example.net.", name);
    assert_true(zone_lookup(z, name, len)->flags & ZONE_NODE_NONAUTH);
    zone_free(z);

    uint32_t serial, timers[4];
    assert_true(zone_soa_fields(r.recs[0].rdata, r.recs[0].rdlen, &serial, timers));
    assert_int_equal(serial, 2024010101);
    assert_int_equal(timers[0], 3600);
    assert_int_equal(timers[1], 600);
    assert_int_equal(timers[2], 86400);
    assert_int_equal(timers[3], 300);
    assert_false(zone_soa_fields(r.recs[0].rdata, r.recs[0].rdlen - 1, &serial, timers));
    zone_records_fini(&r);
}

static void
test_build_refused(void **state)
{
    (void)state;
    struct zone_records r;
    uint8_t own[DNAME_MAX_LEN];

    zone_records_init(&r);
    add_name_rr(&r, "example.net.", DNS_TYPE_NS, "ns1.example.net.");
    must_refuse(&r, "AXFR from 127.0.0.1:53:1: zone example.net. has no SOA record at its apex");

    good_zone(&r);
    add_soa(&r, "example.net.", 7);
    must_refuse(&r, "AXFR from 127.0.0.1:53:1: zone example.net. has more than one SOA record");

    zone_records_init(&r);
    add_soa(&r, "example.net.", 1);
    add_a(&r, "www.example.net.", 2);
    must_refuse(&r, "AXFR from 127.0.0.1:53:1: zone example.net. has no NS records at its apex");

    good_zone(&r);
    add_name_rr(&r, "www.example.net.", DNS_TYPE_CNAME, "elsewhere.example.org.");
    must_refuse(&r, "AXFR from 127.0.0.1:53:7: CNAME and other data at the same name");

    good_zone(&r);
    add_a(&r, "www.example.org.", 9);
    must_refuse(&r, "AXFR from 127.0.0.1:53:7: www.example.org. is outside the zone example.net");

    good_zone(&r);
    add_name_rr(&r, "other.example.net.", DNS_TYPE_NS, "ns.other.example.net.");
    must_refuse(&r, "AXFR from 127.0.0.1:53:7: missing glue: name server ns.other.example.net. "
                    "has no A/AAAA record");

    good_zone(&r);
    add_soa(&r, "www.example.net.", 1);
    must_refuse(&r, "AXFR from 127.0.0.1:53:7: SOA record outside the zone apex");

    /* Malformed RDATA: an A of 5 bytes, an NS whose name runs past its RDATA, an MX with
     * bytes after its name. */
    good_zone(&r);
    put_name(own, "bad.example.net.");
    zone_records_add(&r, own, DNS_TYPE_A, 60, (const uint8_t *)"\1\2\3\4\5", 5);
    must_refuse(&r, "AXFR from 127.0.0.1:53:7: bad.example.net. A: malformed RDATA");
    good_zone(&r);
    zone_records_add(&r, own, DNS_TYPE_NS, 60, (const uint8_t *)"\3ns", 3);
    must_refuse(&r, "AXFR from 127.0.0.1:53:7: bad.example.net. NS: malformed RDATA");
    good_zone(&r);
    zone_records_add(&r, own, DNS_TYPE_MX, 60, (const uint8_t *)"\0\12\2mx\0\0", 7);
    must_refuse(&r, "AXFR from 127.0.0.1:53:7: bad.example.net. MX: malformed RDATA");
}

/* Written to disk and read back by the zone-file parser: the same records, in order. */
static void
test_write_round_trip(void **state)
{
    (void)state;
    struct zone_records r, back;
    char path[PATH_MAX], err[ZONE_ERR_MAX];
    uint8_t own[DNAME_MAX_LEN];
    good_zone(&r);
    /* A type ldns knows by number only, and a TXT with a space. */
    put_name(own, "x.example.net.");
    zone_records_add(&r, own, 65280, 60, (const uint8_t *)"\xde\xad", 2);
    zone_records_add(&r, own, DNS_TYPE_TXT, 60, (const uint8_t *)"\5a b c", 6);
    /* Addresses (written without ldns) at an owner whose label needs every kind of escape:
     * a dot, a space, a quote, ;()@$\ and a byte outside ASCII, in mixed case. */
    static const uint8_t odd[] = "\x0fWe.ird \";()@$\\\xe9\7example\3net";
    memcpy(own, odd, sizeof(odd));
    zone_records_add(&r, own, DNS_TYPE_A, 3600, (const uint8_t *)"\xc0\0\2\x7f", 4);
    zone_records_add(&r, own, DNS_TYPE_AAAA, 0,
                     (const uint8_t *)"\x20\1\xd\xb8\0\0\0\0\0\0\0\0\0\0\0\1", 16);
    zone_records_add(&r, own, DNS_TYPE_AAAA, 2147483647,
                     (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\0\2\1", 16);
    snprintf(path, sizeof(path), "%s/secondary/sub/example.net.zone", dir);
    if (zone_records_write(&r, "meridian copy of example.net serial 2024010101", path, err) < 0)
        fail_msg("%s", err);
    struct stat st;
    snprintf(path + strlen(path), 8, ".tmp");
    assert_int_equal(stat(path, &st), -1); /* renamed away */
    path[strlen(path) - 4] = '\0';
    if (zone_records_load("example.net", path, &back, err) < 0)
        fail_msg("%s", err);
    assert_int_equal(back.count, r.count);
    for (size_t i = 0; i < r.count; i++) {
        assert_int_equal(back.recs[i].type, r.recs[i].type);
        assert_int_equal(back.recs[i].ttl, r.recs[i].ttl);
        assert_int_equal(back.recs[i].owner_len, r.recs[i].owner_len);
        assert_memory_equal(back.recs[i].owner, r.recs[i].owner, r.recs[i].owner_len);
        assert_int_equal(back.recs[i].rdlen, r.recs[i].rdlen);
        assert_memory_equal(back.recs[i].rdata, r.recs[i].rdata, r.recs[i].rdlen);
    }
    zone_records_fini(&back);
    zone_records_fini(&r);
    /* A directory that cannot be made: an error, no file. */
    zone_records_init(&r);
    assert_int_equal(zone_records_write(&r, "x", "/proc/no/such/dir/z.zone", err), -1);
    zone_records_fini(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_good),
        cmocka_unit_test(test_build_refused),
        cmocka_unit_test(test_write_round_trip),
    };
    test_tmpdir_template = dir;
    return cmocka_run_group_tests(tests, test_tmpdir_setup, test_tmpdir_teardown);
}
