// SPDX-License-Identifier: MIT
/* Unit tests for reading a catalog zone (xfr_catalog.c, RFC 9432): the records are built here
 * as a transfer would leave them (owners lowercased wire, RDATA uncompressed). A good catalog
 * lists its members in label order with their coo and group properties; each broken form
 * (no version, two version TXTs, version "1", a version of two strings, two PTRs at one
 * member node, two coo PTRs) is refused with its reason; members that cannot be used (a zone
 * named twice, the catalog itself or a name inside it, a PTR that is not a name) are listed
 * with the reason and the others still apply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "common/dnswire.h"
#include "xfr/xfr_catalog.h"

static struct zone_records recs;
static uint8_t origin[DNAME_MAX_LEN];

static int
setup(void **state)
{
    (void)state;
    zone_records_init(&recs);
    assert_true(dname_from_text("catalog.example.", origin) > 0);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    zone_records_fini(&recs);
    return 0;
}

static void
add(const char *owner, uint16_t type, const uint8_t *rd, size_t rdlen)
{
    uint8_t name[DNAME_MAX_LEN];
    assert_true(dname_from_text(owner, name) > 0);
    zone_records_add(&recs, name, type, 0, rd, (uint16_t)rdlen);
}

static void
ptr(const char *owner, const char *target)
{
    uint8_t rd[DNAME_MAX_LEN];
    int n = dname_from_text(target, rd);
    assert_true(n > 0);
    add(owner, DNS_TYPE_PTR, rd, (size_t)n);
}

static void
txt(const char *owner, const char *text)
{
    uint8_t rd[256];
    rd[0] = (uint8_t)strlen(text);
    memcpy(rd + 1, text, rd[0]);
    add(owner, DNS_TYPE_TXT, rd, (size_t)rd[0] + 1);
}

/* The apex every catalog has (RFC 9432 §4.1): SOA and NS invalid., then version "2". */
static void
head(const char *version)
{
    uint8_t soa[64];
    const uint8_t invalid[] = "\7invalid";
    memcpy(soa, invalid, sizeof(invalid));
    memcpy(soa + sizeof(invalid), invalid, sizeof(invalid));
    memset(soa + 2 * sizeof(invalid), 0, 20);
    soa[2 * sizeof(invalid) + 3] = 1;
    add("catalog.example.", DNS_TYPE_SOA, soa, 2 * sizeof(invalid) + 20);
    add("catalog.example.", DNS_TYPE_NS, invalid, sizeof(invalid));
    if (version)
        txt("version.catalog.example.", version);
}

static const char *
zone_text(const struct xfr_catalog_member *m)
{
    static char text[DNAME_TEXT_MAX];
    dname_to_text(m->zone, text, sizeof(text));
    return text;
}

static void
refused(const char *reason_part)
{
    struct xfr_catalog cat;
    char err[XFR_CATALOG_ERR_MAX] = "";
    assert_int_equal(xfr_catalog_read(origin, &recs, &cat, err), -1);
    if (!strstr(err, reason_part))
        fail_msg("error '%s' lacks '%s'", err, reason_part);
    assert_int_equal(cat.count, 0);
    assert_null(cat.members);
}

static void
test_members_in_label_order(void **state)
{
    (void)state;
    head("2");
    ptr("zz.zones.catalog.example.", "Example.NET.");
    ptr("a1.zones.catalog.example.", "example.com.");
    ptr("b.zones.catalog.example.", "example.org.");
    txt("group.b.zones.catalog.example.", "blue");
    ptr("coo.a1.zones.catalog.example.", "other-catalog.example.");
    /* Ignored (RFC 9432 §3): other types at a member node, deeper names, names elsewhere. */
    txt("a1.zones.catalog.example.", "ignored");
    ptr("x.y.zones.catalog.example.", "deep.example.");
    ptr("zones.catalog.example.", "at-zones.example.");
    ptr("elsewhere.catalog.example.", "elsewhere.example.");
    struct xfr_catalog cat;
    char err[XFR_CATALOG_ERR_MAX];
    assert_int_equal(xfr_catalog_read(origin, &recs, &cat, err), 0);
    assert_int_equal(cat.count, 3);
    assert_int_equal(cat.used, 3);
    assert_string_equal(zone_text(&cat.members[0]), "example.com.");
    assert_string_equal(zone_text(&cat.members[1]), "example.org.");
    assert_string_equal(zone_text(&cat.members[2]), "example.net."); /* lowercased */
    assert_memory_equal(cat.members[0].unique, "\2a1", 3);
    assert_non_null(cat.members[0].coo);
    assert_null(cat.members[0].group);
    assert_non_null(cat.members[1].group);
    assert_memory_equal(cat.members[1].group, "\4blue", 5);
    assert_null(cat.members[2].coo);
    for (size_t i = 0; i < cat.count; i++)
        assert_null(cat.members[i].skipped);
    xfr_catalog_fini(&cat);
}

static void
test_empty_catalog(void **state)
{
    (void)state;
    head("2");
    struct xfr_catalog cat;
    char err[XFR_CATALOG_ERR_MAX];
    assert_int_equal(xfr_catalog_read(origin, &recs, &cat, err), 0);
    assert_int_equal(cat.count, 0);
    assert_int_equal(cat.used, 0);
    xfr_catalog_fini(&cat);
}

static void
test_no_version(void **state)
{
    (void)state;
    head(NULL);
    ptr("a.zones.catalog.example.", "example.com.");
    refused("no version.<catalog> TXT record");
}

static void
test_version_1(void **state)
{
    (void)state;
    head("1");
    ptr("a.zones.catalog.example.", "example.com.");
    refused("schema version \"1\" is not supported");
}

static void
test_two_versions(void **state)
{
    (void)state;
    head("2");
    txt("version.catalog.example.", "3");
    refused("more than one TXT record");
}

static void
test_version_two_strings(void **state)
{
    (void)state;
    head(NULL);
    const uint8_t rd[] = "\0012\0012";
    add("version.catalog.example.", DNS_TYPE_TXT, rd, 4);
    refused("is not supported");
}

static void
test_two_ptrs_at_a_member_node(void **state)
{
    (void)state;
    head("2");
    ptr("a.zones.catalog.example.", "example.com.");
    ptr("b.zones.catalog.example.", "example.net.");
    ptr("A.zones.catalog.example.", "example.org."); /* the same node: owners compare caselessly */
    refused("member node a. has more than one PTR record");
}

static void
test_two_coo(void **state)
{
    (void)state;
    head("2");
    ptr("a.zones.catalog.example.", "example.com.");
    ptr("coo.a.zones.catalog.example.", "one.example.");
    ptr("coo.a.zones.catalog.example.", "two.example.");
    refused("more than one coo PTR record");
}

static void
test_unusable_members_skipped(void **state)
{
    (void)state;
    head("2");
    ptr("m2.zones.catalog.example.", "dup.example.");
    ptr("m1.zones.catalog.example.", "DUP.example.");
    ptr("m3.zones.catalog.example.", "catalog.example.");
    ptr("m4.zones.catalog.example.", "sub.catalog.example.");
    ptr("m5.zones.catalog.example.", "fine.example.");
    const uint8_t not_a_name[] = {5, 'a', 'b'}; /* a label longer than the RDATA */
    add("m6.zones.catalog.example.", DNS_TYPE_PTR, not_a_name, sizeof(not_a_name));
    struct xfr_catalog cat;
    char err[XFR_CATALOG_ERR_MAX];
    assert_int_equal(xfr_catalog_read(origin, &recs, &cat, err), 0);
    assert_int_equal(cat.count, 6);
    assert_int_equal(cat.used, 2);
    /* m1 sorts before m2: it keeps dup.example whatever the record order. */
    assert_string_equal(zone_text(&cat.members[0]), "dup.example.");
    assert_null(cat.members[0].skipped);
    assert_non_null(strstr(cat.members[1].skipped, "names the same zone"));
    assert_non_null(strstr(cat.members[2].skipped, "catalog zone itself"));
    assert_non_null(strstr(cat.members[3].skipped, "catalog zone itself"));
    assert_null(cat.members[4].skipped);
    assert_string_equal(zone_text(&cat.members[4]), "fine.example.");
    assert_non_null(strstr(cat.members[5].skipped, "not a domain name"));
    xfr_catalog_fini(&cat);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_members_in_label_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_catalog, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_two_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_ptrs_at_a_member_node, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_coo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unusable_members_skipped, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
