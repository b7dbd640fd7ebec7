// SPDX-License-Identifier: MIT
/* Zone loader and compiler: structure of a compiled zone (nodes, empty non-terminals, cut
 * and wildcard flags, additional-section targets, negative TTL) and every load-time check
 * with its file:line message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/dname.h"
#include "common/dnswire.h"
#include "zone/zone.h"

static char zone_path[64];

static void
write_zone(const char *text)
{
    strcpy(zone_path, "/tmp/meridian-test-zone-XXXXXX");
    int fd = mkstemp(zone_path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static struct zone *
load_ok(const char *text)
{
    char err[ZONE_ERR_MAX] = "";
    struct zone *z = NULL;
    write_zone(text);
    int rc = zone_load("example.com", zone_path, &z, err);
    if (rc != 0)
        fail_msg("unexpected error: %s", err);
    unlink(zone_path);
    return z;
}

/* Loads a broken zone; asserts the message is "<file>:<line>: ..." containing `word`. */
static void
load_fails(const char *text, int line, const char *word)
{
    char err[ZONE_ERR_MAX] = "", prefix[128];
    struct zone *z = NULL;
    write_zone(text);
    assert_int_equal(zone_load("example.com", zone_path, &z, err), -1);
    unlink(zone_path);
    assert_null(z);
    snprintf(prefix, sizeof(prefix), "%s:%d: ", zone_path, line);
    if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, word))
        fail_msg("got '%s', want prefix '%s' and '%s'", err, prefix, word);
}

static const struct zone_node *
find(const struct zone *z, const char *text)
{
    uint8_t wire[DNAME_MAX_LEN];
    int len = dname_from_text(text, wire);
    assert_true(len > 0);
    return zone_lookup(z, wire, len);
}

#define HEAD                                                                                   \
    "$ORIGIN example.com.\n"                                                                   \
    "$TTL 3600\n"                                                                              \
    "@ IN SOA ns1 hostmaster ( 2024010101 7200 3600 1209600\n"                                 \
    "                          300 )\n"                                                        \
    "@ NS ns1\n"                                                                               \
    "ns1 A 192.0.2.1\n"

static void
test_structure(void **state)
{
    (void)state;
    struct zone *z = load_ok(HEAD "a.b.c A 192.0.2.2\n"
                                  "*.w A 192.0.2.3\n"
                                  "sub NS ns.sub\n"
                                  "ns.sub A 192.0.2.4\n"
                                  "mx MX 10 ns1\n"
                                  "mx MX 20 elsewhere.net.\n"
                                  "dup TXT \"x\"\n"
                                  "dup TXT \"x\"\n"
                                  "Mixed.Case A 192.0.2.5\n");
    assert_int_equal(z->serial, 2024010101);
    assert_int_equal(z->negative_ttl, 300); /* min(SOA TTL 3600, MINIMUM 300) */
    assert_true(z->nodes[0].flags & ZONE_NODE_APEX);

    /* Empty non-terminals exist and hold no data (RFC 4592 §2.2.2). */
    const struct zone_node *b = find(z, "b.c.example.com");
    assert_non_null(b);
    assert_int_equal(b->rrset_count, 0);
    assert_non_null(find(z, "c.example.com"));
    assert_null(find(z, "x.c.example.com"));

    assert_true(find(z, "w.example.com")->flags & ZONE_NODE_WILDCARD_CHILD);
    assert_true(find(z, "sub.example.com")->flags & ZONE_NODE_DELEGATION);
    assert_true(find(z, "ns.sub.example.com")->flags & ZONE_NODE_NONAUTH);
    assert_false(find(z, "ns1.example.com")->flags & ZONE_NODE_NONAUTH);

    /* Owner names are case-folded at load. */
    assert_non_null(find(z, "mixed.case.example.com"));

    /* Duplicate records collapse (RFC 2181 §5). */
    assert_int_equal(zone_node_rrset(find(z, "dup.example.com"), 16)->count, 1);

    /* MX targets: one in the zone, one not. */
    const struct zone_rrset *mx = zone_node_rrset(find(z, "mx.example.com"), 15);
    assert_int_equal(mx->count, 2);
    assert_non_null(mx->targets);
    int in_zone = 0;
    for (int i = 0; i < 2; i++)
        in_zone += mx->targets[i] != ZONE_NONE;
    assert_int_equal(in_zone, 1);
    assert_int_equal(z->record_count, 11);
    zone_free(z);
}

static void
test_rdata_wire(void **state)
{
    (void)state;
    struct zone *z = load_ok(HEAD "t TXT \"a b\" \"c\\\"d\"\n"
                                  "u TYPE65400 \\# 4 0a000001\n"
                                  "h HTTPS 1 . alpn=h2\n");
    const struct zone_rrset *txt = zone_node_rrset(find(z, "t.example.com"), 16);
    static const uint8_t want_txt[] = {0, 8, 3, 'a', ' ', 'b', 3, 'c', '"', 'd'};
    assert_memory_equal(txt->rdata, want_txt, sizeof(want_txt));
    const struct zone_rrset *unk = zone_node_rrset(find(z, "u.example.com"), 65400);
    static const uint8_t want_unk[] = {0, 4, 10, 0, 0, 1};
    assert_memory_equal(unk->rdata, want_unk, sizeof(want_unk));
    assert_non_null(zone_node_rrset(find(z, "h.example.com"), 65));
    zone_free(z);
}

static void
test_errors(void **state)
{
    (void)state;
    load_fails("$ORIGIN example.com.\n@ 60 NS ns1\nns1 60 A 192.0.2.1\n", 1, "no SOA");
    /* No records at all (fuzz_zone's first input: UBSan once caught a NULL memcpy). */
    load_fails("", 1, "no SOA");
    load_fails("; only a comment\n\n", 1, "no SOA");
    load_fails("$ORIGIN example.com.\n$TTL 60\n@ SOA ns1 h 1 2 3 4 5\nns1 A 192.0.2.1\n", 1,
               "no NS");
    load_fails(HEAD "www CNAME ns1\nwww A 192.0.2.9\n", 8, "CNAME");
    load_fails(HEAD "www A 192.0.2.9\nwww CNAME ns1\n", 8, "CNAME");
    load_fails(HEAD "www CNAME ns1\nwww CNAME ns2\n", 8, "more than one CNAME");
    load_fails(HEAD "www.example.net. A 192.0.2.9\n", 7, "outside the zone");
    load_fails(HEAD "sub NS ns.sub\n", 7, "missing glue");
    load_fails(HEAD "bad A 300.1.2.3\n", 7, "");
    load_fails(HEAD "x SOA ns1 h 1 2 3 4 5\n", 7, "SOA record outside");
    load_fails(HEAD "$INCLUDE other.zone\n", 7, "$INCLUDE");
    load_fails(HEAD "x CH TXT \"x\"\n", 7, "class IN");
}

static void
test_missing_file(void **state)
{
    (void)state;
    char err[ZONE_ERR_MAX];
    struct zone *z;
    assert_int_equal(zone_load("example.com", "/nonexistent/zone", &z, err), -1);
    assert_string_equal(err, "/nonexistent/zone: cannot open: No such file or directory");
}

static void
test_zone_set_longest_match(void **state)
{
    (void)state;
    struct zone **zones = calloc(2, sizeof(*zones));
    char err[ZONE_ERR_MAX];
    write_zone(HEAD);
    assert_int_equal(zone_load("example.com", zone_path, &zones[0], err), 0);
    unlink(zone_path);
    write_zone("$ORIGIN sub.example.com.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.7\n");
    assert_int_equal(zone_load("sub.example.com", zone_path, &zones[1], err), 0);
    unlink(zone_path);
    struct zone_set *set = zone_set_new(zones, 2);
    uint8_t name[DNAME_MAX_LEN];
    dname_from_text("a.sub.example.com", name);
    assert_ptr_equal(zone_set_find(set, name), zones[1]);
    dname_from_text("a.example.com", name);
    assert_ptr_equal(zone_set_find(set, name), zones[0]);
    dname_from_text("example.org", name);
    assert_null(zone_set_find(set, name));
    zone_set_free(set);
}

/* The splitter: comments, quotes, parentheses over lines, omitted owners, $ORIGIN and $TTL
 * changes, escapes; and its errors with their lines. */
static void
test_master_file_syntax(void **state)
{
    (void)state;
    struct zone *z = load_ok("$ORIGIN example.com.\n"
                             "$TTL 1h\n"
                             "@ IN SOA ns1 hostmaster ( 1 ; serial (with a paren)\n"
                             "    7200 3600\n"
                             "    1209600 300 )\n"
                             "  NS ns1 ; owner omitted: the apex\n"
                             "ns1 A 192.0.2.1\n"
                             "t TXT \"semi;colon (paren\" \"quote\\\"d\"\n"
                             "   TXT \"second record, owner t\"\n"
                             "$ORIGIN sub2.example.com.\n"
                             "a 60 A 192.0.2.2\n"
                             "  AAAA 2001:db8::2\n"
                             "$TTL 120\n"
                             "b A 192.0.2.3\n"
                             "dot\\.ted A 192.0.2.4\n");
    const struct zone_rrset *txt = zone_node_rrset(find(z, "t.example.com"), 16);
    assert_non_null(txt);
    assert_int_equal(txt->count, 2);
    assert_int_equal(txt->ttl, 3600);
    const struct zone_node *a = find(z, "a.sub2.example.com");
    assert_non_null(a);
    assert_int_equal(zone_node_rrset(a, 1)->ttl, 60);
    assert_int_equal(zone_node_rrset(a, 28)->ttl, 3600); /* the $TTL 120 comes later */
    assert_int_equal(zone_node_rrset(find(z, "b.sub2.example.com"), 1)->ttl, 120);
    uint8_t wire[] = {7, 'd', 'o', 't', '.', 't', 'e', 'd', 4, 's', 'u', 'b', '2', 7, 'e', 'x',
                      'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0};
    assert_non_null(zone_lookup(z, wire, sizeof(wire)));
    zone_free(z);

    load_fails(HEAD "x TXT ( \"a\"\n", 7, "unbalanced");
    load_fails(HEAD "x TXT \"open\n", 7, "unterminated");
    load_fails(HEAD "x A 192.0.2.1 )\n", 7, "')'");
    load_fails(HEAD "$TTL 1x\n", 7, "$TTL");
    load_fails(HEAD "$FOO bar\n", 7, "directive");
    load_fails(HEAD "x A 192.0.2.1\ny MX\n", 8, "");
}

/* Steered names handed to the compiler: nodes created where the file has no data, each
 * linked to its policy index with its types; names a policy may not synthesize at are
 * refused with the steer's location and the reason. */
static int
load_steered(const char *text, const char *name, uint8_t types, struct zone **z, char *err)
{
    uint8_t wire[DNAME_MAX_LEN];
    assert_true(dname_from_text(name, wire) > 0);
    dname_lower_copy(wire, wire);
    struct zone_steer steers[1] = {
        {.name = wire, .index = 6, .types = types, .where = "cfg.yaml:9: service X"},
    };
    write_zone(text);
    int rc = zone_load_steered("example.com", zone_path, steers, 1, NULL, z, err);
    unlink(zone_path);
    return rc;
}

static void
test_steered(void **state)
{
    (void)state;
    static const char base[] = "$TTL 300\n"
                               "@ IN SOA ns1 host 1 7200 3600 1209600 300\n"
                               "@ IN NS ns1\n"
                               "ns1 IN A 192.0.2.1\n"
                               "sub IN NS ns.other.net.\n"
                               "alias IN CNAME ns1\n"
                               "txt IN TXT \"hello\"\n";
    char err[ZONE_ERR_MAX] = "";
    struct zone *z = NULL;

    /* A new node, below a new empty non-terminal, linked to index 6 (+1). */
    assert_int_equal(load_steered(base, "www.geo.example.com", ZONE_STEER_A | ZONE_STEER_AAAA,
                                  &z, err), 0);
    const struct zone_node *n = find(z, "www.geo.example.com");
    assert_true(n->flags & ZONE_NODE_STEERED);
    assert_int_equal(n->steer, 7);
    assert_int_equal(n->steer_types, ZONE_STEER_A | ZONE_STEER_AAAA);
    assert_int_equal(n->rrset_count, 0);
    const struct zone_node *ent = find(z, "geo.example.com");
    assert_int_equal(ent->steer, 0);
    assert_false(ent->flags & ZONE_NODE_STEERED);
    zone_free(z);

    /* An address service beside other data keeps that data. */
    assert_int_equal(load_steered(base, "txt.example.com", ZONE_STEER_A, &z, err), 0);
    n = find(z, "txt.example.com");
    assert_int_equal(n->steer, 7);
    assert_non_null(zone_node_rrset(n, DNS_TYPE_TXT));
    zone_free(z);

    static const struct {
        const char *name;
        uint8_t types;
        const char *why;
    } bad[] = {
        {"sub.example.com", ZONE_STEER_A, "at or below a delegation"},
        {"www.sub.example.com", ZONE_STEER_A, "at or below a delegation"},
        {"alias.example.com", ZONE_STEER_A, "has a CNAME record"},
        {"txt.example.com", ZONE_STEER_CNAME, "is a CNAME service but its zone has other data"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        z = NULL;
        assert_int_equal(load_steered(base, bad[i].name, bad[i].types, &z, err), -1);
        assert_null(z);
        if (strncmp(err, "cfg.yaml:9: service X ", 22) != 0 || !strstr(err, bad[i].why))
            fail_msg("%s: got '%s', want '%s'", bad[i].name, err, bad[i].why);
    }
}

/* Text of HEAD then `n` A records at "many" from 10.0.0.0 up, with every `dup_every`th one
 * written twice (0: none); malloc'd. */
static char *
many_a(unsigned n, unsigned dup_every)
{
    size_t cap = sizeof(HEAD) + (size_t)n * 2 * 32;
    char *text = malloc(cap);
    size_t at = (size_t)snprintf(text, cap, "%s", HEAD);
    for (unsigned i = 0; i < n; i++) {
        int copies = dup_every && i % dup_every == 0 ? 2 : 1;
        for (int c = 0; c < copies; c++)
            at += (size_t)snprintf(text + at, cap - at, "many A 10.%u.%u.%u\n", i >> 16,
                                   (i >> 8) & 255, i & 255);
    }
    return text;
}

/* An RRset too large for any response is a file:line error, not a 16-bit count that wraps
 * (65,537 A records once loaded as 1). */
static void
test_rrset_too_large(void **state)
{
    (void)state;
    char *text = many_a(65537, 0);
    /* 4,080 A records (12 + 4 octets each on the wire) fill 65,280 of the 65,264 octets
     * a 64 KiB message leaves: the 4,080th (line 7 + 4,079) fails. */
    load_fails(text, 7 + 4079, "too large");
    free(text);
    /* Just under the bound loads, every record kept. */
    text = many_a(4079, 0);
    struct zone *z = load_ok(text);
    assert_int_equal(zone_node_rrset(find(z, "many.example.com"), DNS_TYPE_A)->count, 4079);
    zone_free(z);
    free(text);
}

/* Duplicates are removed by sorting (one pass over equal neighbours), the earliest copy kept
 * and the RRset in file order. */
static void
test_duplicates_sorted(void **state)
{
    (void)state;
    char *text = many_a(3000, 3);
    struct zone *z = load_ok(text);
    const struct zone_rrset *set = zone_node_rrset(find(z, "many.example.com"), DNS_TYPE_A);
    assert_int_equal(set->count, 3000);
    const uint8_t *p = set->rdata;
    for (unsigned i = 0; i < set->count; i++) {
        uint8_t want[4] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
        assert_int_equal(dnswire_get16(p), 4);
        assert_memory_equal(p + 2, want, 4);
        p += 6;
    }
    assert_int_equal(z->record_count, 3000 + 3);
    zone_free(z);
    free(text);
    /* Duplicates in reverse order: the first line's TTL wins. */
    z = load_ok(HEAD "d 100 TXT \"b\"\nd 200 TXT \"a\"\nd 300 TXT \"b\"\n");
    set = zone_node_rrset(find(z, "d.example.com"), DNS_TYPE_TXT);
    assert_int_equal(set->count, 2);
    assert_int_equal(set->ttl, 100);
    assert_memory_equal(set->rdata, "\0\2\1b\0\2\1a", 8);
    zone_free(z);
}

/* zones[].max_records and max_size: the first record past the bound is named. */
static void
test_zone_limits(void **state)
{
    (void)state;
    char err[ZONE_ERR_MAX], prefix[128];
    struct zone *z = NULL;
    char *text = many_a(20, 0);
    write_zone(text);
    struct zone_limits lim = {.max_records = 10};
    assert_int_equal(zone_load_steered("example.com", zone_path, NULL, 0, &lim, &z, err), -1);
    snprintf(prefix, sizeof(prefix), "%s:%d: ", zone_path, 7 + 7); /* the 11th record */
    assert_true(strncmp(err, prefix, strlen(prefix)) == 0);
    assert_non_null(strstr(err, "max_records"));
    /* Records: SOA 62 octets with owner etc., each A "many.example.com." 18 + 10 + 4. */
    lim = (struct zone_limits){.max_bytes = 500};
    assert_int_equal(zone_load_steered("example.com", zone_path, NULL, 0, &lim, &z, err), -1);
    assert_non_null(strstr(err, "max_size"));
    lim = (struct zone_limits){.max_records = 23, .max_bytes = 4096};
    assert_int_equal(zone_load_steered("example.com", zone_path, NULL, 0, &lim, &z, err), 0);
    assert_int_equal(z->record_count, 23);
    zone_free(z);
    unlink(zone_path);
    free(text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_rdata_wire),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_master_file_syntax),
        cmocka_unit_test(test_zone_set_longest_match),
        cmocka_unit_test(test_steered),
        cmocka_unit_test(test_rrset_too_large),
        cmocka_unit_test(test_duplicates_sorted),
        cmocka_unit_test(test_zone_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
