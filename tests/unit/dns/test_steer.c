// SPDX-License-Identifier: MIT
/* dns_answer with steering policies: the policies are compiled from a config against
 * geoip/sample.mmdb (rows in geoip/sample.csv) and linked to the zone as the server does
 * (tests/unit/steer_view.c); randomness, health and the clock are passed in per query, so
 * every case is deterministic. Covered: the ECS option echoed with the scope the policy
 * decided (RFC 7871 §6, §7.2.1), IPv4 inside IPv6 prefixes, ECS /0, listeners that ignore
 * ECS, source-address steering; steered NODATA and its SOA TTL; CNAME services; weighted,
 * sticky and `all` selection and health as seen in the wire answer. Single-threaded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer_test.h"
#include "steer_view.h"

/* Two behaviours issue 9 may still change (RFC 7871 §7.4 and §7.2.1 recommend otherwise).
 * Each is encoded here once; the assertions that depend on them say so.
 * NODATA_SCOPE_IS_GEO: a client-dependent NODATA (the client's pools have no member of the
 * family, or all_down: nodata) carries the scope of the location that decided it. Set it to
 * false when such answers get scope 0.
 * CNAME_FOLLOWS_TAILORED / _UNTAILORED: a CNAME service's answer continues with the target's
 * records when the target is in the zone, for client-dependent (tailored, scope > 0) and for
 * other (weighted at random, scope 0) CNAME services. Set to false when only the CNAME is
 * answered. */
#define NODATA_SCOPE_IS_GEO false
#define CNAME_FOLLOWS_TAILORED false
#define CNAME_FOLLOWS_UNTAILORED true

static const char zone_text[] = "$ORIGIN example.com.\n"
                                "$TTL 3600\n"
                                "@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
                                "@ NS ns1\n"
                                "ns1 A 192.0.2.1\n"
                                "mail A 192.0.2.25\n"
                                "www A 192.0.2.80\n"
                                "geo MX 10 mail\n";

static const char checks[] = "  web: { type: tcp, port: 80 }\n";

static const char services[] =
    /* Geo steering: DE -> eu, Asia -> ap (IPv4 only), everyone else us then eu. */
    "  geo.example.com:\n"
    "    ttl: 20\n"
    "    pools:\n"
    "      eu: { members: [ {address: 192.0.2.10, check: web},\n"
    "                       {address: \"2001:db8::10\", check: web} ] }\n"
    "      us: { members: [ {address: 198.51.100.10, check: web},\n"
    "                       {address: \"2001:db8::20\", check: web} ] }\n"
    "      ap: { members: [ {address: 203.0.113.10, check: web} ] }\n"
    "    geo: { country: { DE: [eu] }, continent: { AS: [ap] }, default: [us, eu] }\n"
    /* all_down: nodata, with geo. */
    "  nodata.example.com:\n"
    "    ttl: 15\n"
    "    all_down: nodata\n"
    "    pools:\n"
    "      eu: { members: [ {address: 192.0.2.20, check: web} ] }\n"
    "      us: { members: [ {address: 198.51.100.20, check: web} ] }\n"
    "    geo: { country: { DE: [eu] }, default: [us] }\n"
    /* No IPv6 member at all; a TTL above the zone's negative TTL. */
    "  v4.example.com:\n"
    "    ttl: 600\n"
    "    pools: { p: { members: [ {address: 192.0.2.30} ] } }\n"
    "  w.example.com:\n"
    "    pools:\n"
    "      p:\n"
    "        members:\n"
    "          - { address: 192.0.2.41, weight: 1, check: web }\n"
    "          - { address: 192.0.2.42, weight: 3, check: web }\n"
    "  sticky.example.com:\n"
    "    select: sticky\n"
    "    pools:\n"
    "      p: { members: [ {address: 192.0.2.51}, {address: 192.0.2.52}, {address: 192.0.2.53},\n"
    "                      {address: \"2001:db8::51\"}, {address: \"2001:db8::52\"} ] }\n"
    "  all.example.com:\n"
    "    select: all\n"
    "    pools:\n"
    "      p: { members: [ {address: 192.0.2.61}, {address: 192.0.2.62, down: true},\n"
    "                      {address: 192.0.2.63} ] }\n"
    /* CNAME services: tailored by country, and weighted at random. */
    "  cdn.example.com:\n"
    "    type: cname\n"
    "    ttl: 40\n"
    "    pools:\n"
    "      near: { members: [ {target: www.example.com.} ] }\n"
    "      far: { members: [ {target: edge.example.net.} ] }\n"
    "    geo: { country: { DE: [near] }, default: [far] }\n"
    "  wcdn.example.com:\n"
    "    type: cname\n"
    "    pools:\n"
    "      p:\n"
    "        members:\n"
    "          - { target: www.example.com., weight: 1 }\n"
    "          - { target: mail.example.com., weight: 3 }\n";

static const char soa_rdata[] = "ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300";

static struct steer_view sv;

static int
setup(void **state)
{
    const char *src = getenv("MERIDIAN_SOURCE_DIR");
    char mmdb[PATH_MAX], err[STEER_VIEW_ERR_MAX];

    (void)state;
    snprintf(mmdb, sizeof(mmdb), "%s/geoip/sample.mmdb", src ? src : ".");
    if (steer_view_load(&sv, mmdb, "example.com", zone_text, checks, services, err) < 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    steer_view_fini(&sv);
    return 0;
}

static int
reset_health(void **state)
{
    (void)state;
    steer_view_health_reset(&sv);
    return 0;
}

/* A query with the shared health table. */
static ldns_pkt *
ask(struct answer_q q)
{
    q.health = sv.health;
    return answer_ask(&sv.view, &q);
}

/* The response must carry ECS with the query's FAMILY, SOURCE PREFIX-LENGTH and ADDRESS
 * (RFC 7871 §6: "mirrors the same value as in the queries") and `scope`. `ecs` is the
 * query's "address/bits". */
static void
assert_ecs(const ldns_pkt *r, const char *ecs, int scope)
{
    struct answer_ecs got;
    uint8_t raw[16];
    int bits;
    uint16_t family = answer_prefix(ecs, raw, &bits) == 4 ? 1 : 2;

    assert_true(answer_ecs(r, &got));
    if (got.family != family || got.source != bits || got.scope != scope)
        fail_msg("ECS for %s: got family %u source /%u scope /%u, expected family %u source "
                 "/%d scope /%d",
                 ecs, got.family, got.source, got.scope, family, bits, scope);
    assert_int_equal(got.addr_len, ((size_t)bits + 7) / 8);
    assert_memory_equal(got.addr, raw, got.addr_len);
}

static void
assert_no_ecs(const ldns_pkt *r)
{
    struct answer_ecs got;
    assert_false(answer_ecs(r, &got));
}

/* The negative answer: NOERROR, nothing in the answer section, the zone's SOA with
 * `ttl` in the authority section (RFC 2308 §3), authoritative. */
static void
assert_nodata(const ldns_pkt *r, uint32_t ttl)
{
    char want[256];
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    assert_true(ldns_pkt_aa(r));
    assert_int_equal(ldns_pkt_ancount(r), 0);
    snprintf(want, sizeof(want), "example.com. %u IN SOA %s\n", ttl, soa_rdata);
    answer_assert_section(ldns_pkt_authority(r), want);
}

/* The scope a client-dependent NODATA carries (see NODATA_SCOPE_IS_GEO). */
static int
nodata_scope(int geo_scope)
{
    return NODATA_SCOPE_IS_GEO ? geo_scope : 0;
}

/* A CNAME service's answer: its CNAME, then `rest` (the target's records) when the chain
 * is followed (see CNAME_FOLLOWS_*). */
static void
assert_cname_answer(ldns_pkt *r, bool follows, const char *cname, const char *rest)
{
    char want[512];
    snprintf(want, sizeof(want), "%s%s", cname, follows ? rest : "");
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    assert_true(ldns_pkt_aa(r));
    answer_assert_ordered(ldns_pkt_answer(r), want);
}

/* The health entry of `addr` (a member address or target as printed). */
static struct health_entry *
entry(const char *addr)
{
    struct health_entry *e = steer_view_health_entry(&sv, addr);
    if (!e)
        fail_msg("no health target %s", addr);
    return e;
}

/* One answer record's text, for the cases whose owner, TTL and type are fixed. */
static void
expect_a(ldns_pkt *r, const char *owner, uint32_t ttl, const char *type, const char *addr)
{
    char want[256];
    snprintf(want, sizeof(want), "%s %u IN %s %s\n", owner, ttl, type, addr);
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    assert_true(ldns_pkt_aa(r));
    answer_assert_section(ldns_pkt_answer(r), want);
    assert_int_equal(ldns_pkt_nscount(r), 0);
    assert_true(answer_last.steered);
}

/* --- ECS --- */

static void
test_ecs_scope(void **state)
{
    /* Client prefix, qtype, answer, scope: DE is 10.2.0.0/16, and its /15 sibling is JP
     * (another answer), so /16; GB 10.0/16 and US 10.1/16 (with NY 10.1.2/24 nested) all
     * take the default and merge into 10.0.0.0/15, wider than any of their records; the
     * unknown 10.99/24 sits in a default-only 10.64.0.0/10; DE 2001:db8:2::/48 has JP
     * 2001:db8:3::/48 beside it. */
    static const struct {
        const char *ecs;
        ldns_rr_type type;
        const char *addr;
        int scope;
    } cases[] = {
        {"10.2.0.0/24", LDNS_RR_TYPE_A, "192.0.2.10", 16},
        {"10.2.3.4/32", LDNS_RR_TYPE_A, "192.0.2.10", 16},
        {"10.2.0.0/16", LDNS_RR_TYPE_AAAA, "2001:db8::10", 16},
        {"10.3.0.0/24", LDNS_RR_TYPE_A, "203.0.113.10", 16},
        {"10.1.2.0/24", LDNS_RR_TYPE_A, "198.51.100.10", 15},
        {"10.99.0.0/24", LDNS_RR_TYPE_A, "198.51.100.10", 10},
        {"2001:db8:2::/48", LDNS_RR_TYPE_AAAA, "2001:db8::10", 48},
        {"2001:db8:2:ff00::/56", LDNS_RR_TYPE_A, "192.0.2.10", 48},
        /* IPv4 inside IPv6 (mapped at bit 96, 6to4 at bit 16): steered as 10.2.0.0/24,
         * the scope counted in the IPv6 address the client sent. */
        {"::ffff:10.2.0.0/120", LDNS_RR_TYPE_A, "192.0.2.10", 96 + 16},
        {"2002:a02::/40", LDNS_RR_TYPE_A, "192.0.2.10", 16 + 16},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* The source address (DE) must not matter when ECS is honoured. */
        ldns_pkt *r = ask((struct answer_q){.name = "geo.example.com.",
                                            .type = cases[i].type,
                                            .ecs = cases[i].ecs,
                                            .source = "127.0.1.1"});
        expect_a(r, "geo.example.com.", 20, cases[i].type == LDNS_RR_TYPE_A ? "A" : "AAAA",
                 cases[i].addr);
        assert_ecs(r, cases[i].ecs, cases[i].scope);
        ldns_pkt_free(r);
    }
}

/* ECS /0 (RFC 7871 §7.1.2: the client asks for no tailoring): the default answer for
 * everyone, scope 0, and not the source address's location. */
static void
test_ecs_source_zero(void **state)
{
    (void)state;
    ldns_pkt *r = ask((struct answer_q){.name = "geo.example.com.",
                                        .type = LDNS_RR_TYPE_A,
                                        .ecs = "0.0.0.0/0",
                                        .source = "127.0.1.1"});
    expect_a(r, "geo.example.com.", 20, "A", "198.51.100.10");
    assert_ecs(r, "0.0.0.0/0", 0);
    ldns_pkt_free(r);
    r = ask((struct answer_q){.name = "geo.example.com.",
                              .type = LDNS_RR_TYPE_AAAA,
                              .ecs = "::/0",
                              .source = "127.0.1.1"});
    expect_a(r, "geo.example.com.", 20, "AAAA", "2001:db8::20");
    assert_ecs(r, "::/0", 0);
    ldns_pkt_free(r);
}

/* Without ECS, or on a listener that ignores it, the source address decides and no option
 * is sent back. */
static void
test_source_address(void **state)
{
    (void)state;
    ldns_pkt *r = ask((struct answer_q){.name = "geo.example.com.",
                                        .type = LDNS_RR_TYPE_A,
                                        .source = "127.0.4.1",
                                        .edns = true}); /* JP */
    expect_a(r, "geo.example.com.", 20, "A", "203.0.113.10");
    assert_no_ecs(r);
    ldns_pkt_free(r);
    r = ask((struct answer_q){
        .name = "geo.example.com.", .type = LDNS_RR_TYPE_AAAA, .source = "::1"}); /* US */
    expect_a(r, "geo.example.com.", 20, "AAAA", "2001:db8::20");
    ldns_pkt_free(r);
    r = ask((struct answer_q){.name = "geo.example.com.",
                              .type = LDNS_RR_TYPE_A,
                              .ecs = "10.3.0.0/24",
                              .ecs_ignore = true,
                              .source = "127.0.1.1"});
    expect_a(r, "geo.example.com.", 20, "A", "192.0.2.10"); /* DE source, not JP ECS */
    assert_no_ecs(r);
    ldns_pkt_free(r);
    /* No address at all (a test or -q without a client): the default order. */
    r = ask((struct answer_q){.name = "geo.example.com.", .type = LDNS_RR_TYPE_A});
    expect_a(r, "geo.example.com.", 20, "A", "198.51.100.10");
    ldns_pkt_free(r);
}

/* Answers that do not depend on the client: scope 0 (RFC 7871 §7.2.1), the option still
 * echoed. */
static void
test_ecs_untailored(void **state)
{
    (void)state;
    ldns_pkt *r = ask((struct answer_q){
        .name = "www.example.com.", .type = LDNS_RR_TYPE_A, .ecs = "10.2.0.0/24"});
    answer_assert_section(ldns_pkt_answer(r), "www.example.com. 3600 IN A 192.0.2.80\n");
    assert_ecs(r, "10.2.0.0/24", 0);
    assert_false(answer_last.steered);
    ldns_pkt_free(r);

    r = ask((struct answer_q){
        .name = "nope.example.com.", .type = LDNS_RR_TYPE_A, .ecs = "10.2.0.0/24"});
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
    assert_ecs(r, "10.2.0.0/24", 0);
    ldns_pkt_free(r);

    /* Other types at a steered address name come from the zone. */
    r = ask((struct answer_q){
        .name = "geo.example.com.", .type = LDNS_RR_TYPE_MX, .ecs = "10.2.0.0/24"});
    answer_assert_section(ldns_pkt_answer(r), "geo.example.com. 3600 IN MX 10 mail.example.com.\n");
    answer_assert_section(ldns_pkt_additional(r), "mail.example.com. 3600 IN A 192.0.2.25\n");
    assert_ecs(r, "10.2.0.0/24", 0);
    assert_false(answer_last.steered);
    ldns_pkt_free(r);
    r = ask((struct answer_q){
        .name = "geo.example.com.", .type = LDNS_RR_TYPE_TXT, .ecs = "10.2.0.0/24"});
    assert_nodata(r, 300);
    assert_ecs(r, "10.2.0.0/24", 0);
    ldns_pkt_free(r);

    /* Weighted at random: the same for every client. */
    r = ask(
        (struct answer_q){.name = "w.example.com.", .type = LDNS_RR_TYPE_A, .ecs = "10.2.0.0/24"});
    assert_ecs(r, "10.2.0.0/24", 0);
    ldns_pkt_free(r);
}

/* --- steered NODATA --- */

static void
test_steered_nodata(void **state)
{
    (void)state;
    /* A service with no IPv6 member: NODATA for everyone, scope 0 (nothing about the client
     * decided it); SOA TTL is the zone's negative TTL, below the service's 600. */
    ldns_pkt *r = ask((struct answer_q){
        .name = "v4.example.com.", .type = LDNS_RR_TYPE_AAAA, .ecs = "10.2.0.0/24"});
    assert_nodata(r, 300);
    assert_ecs(r, "10.2.0.0/24", 0);
    assert_true(answer_last.steered);
    ldns_pkt_free(r);

    /* JP's pools (ap) have no IPv6 member, all up: NODATA, not all_down; the SOA TTL is
     * capped at the service's TTL (20 < 300) so a config or health change shows soon.
     * Scope: see NODATA_SCOPE_IS_GEO (10.3.0.0/16 decided the pools). */
    r = ask((struct answer_q){
        .name = "geo.example.com.", .type = LDNS_RR_TYPE_AAAA, .ecs = "10.3.0.0/24"});
    assert_nodata(r, 20);
    assert_ecs(r, "10.3.0.0/24", nodata_scope(16));
    ldns_pkt_free(r);
}

static void
test_all_down_nodata(void **state)
{
    (void)state;
    /* DE's only member down: all_down: nodata. The SOA TTL is the service's 15... */
    entry("192.0.2.20")->state = HEALTH_DOWN;
    ldns_pkt *r = ask((struct answer_q){.name = "nodata.example.com.",
                                        .type = LDNS_RR_TYPE_A,
                                        .ecs = "10.2.0.0/24",
                                        .now_s = 1000});
    assert_nodata(r, 15);
    assert_ecs(r, "10.2.0.0/24", nodata_scope(16)); /* see NODATA_SCOPE_IS_GEO */
    ldns_pkt_free(r);
    /* ...or less when the member may come back sooner (its next probe in 7 s). */
    entry("192.0.2.20")->earliest_change_s = 1007;
    r = ask((struct answer_q){.name = "nodata.example.com.",
                              .type = LDNS_RR_TYPE_A,
                              .ecs = "10.2.0.0/24",
                              .now_s = 1000});
    assert_nodata(r, 7);
    ldns_pkt_free(r);
    /* Other clients still get their pool, with the untouched service TTL. */
    r = ask((struct answer_q){.name = "nodata.example.com.",
                              .type = LDNS_RR_TYPE_A,
                              .ecs = "10.3.0.0/24",
                              .now_s = 1000});
    expect_a(r, "nodata.example.com.", 15, "A", "198.51.100.20");
    ldns_pkt_free(r);
}

/* --- CNAME services --- */

static void
test_cname_service(void **state)
{
    (void)state;
    /* Tailored: DE gets the in-zone target (followed, see CNAME_FOLLOWS_TAILORED), JP the
     * external one; each with the scope of its location. */
    ldns_pkt *r = ask((struct answer_q){
        .name = "CDN.example.com.", .type = LDNS_RR_TYPE_A, .ecs = "10.2.0.0/24"});
    assert_cname_answer(r, CNAME_FOLLOWS_TAILORED,
                        "CDN.example.com. 40 IN CNAME www.example.com.\n",
                        "www.example.com. 3600 IN A 192.0.2.80\n");
    assert_ecs(r, "10.2.0.0/24", 16);
    assert_true(answer_last.steered);
    ldns_pkt_free(r);

    r = ask((struct answer_q){
        .name = "cdn.example.com.", .type = LDNS_RR_TYPE_A, .ecs = "10.3.0.0/24"});
    assert_cname_answer(r, true, "cdn.example.com. 40 IN CNAME edge.example.net.\n", "");
    assert_ecs(r, "10.3.0.0/24", 16);
    ldns_pkt_free(r);

    /* Asking for the CNAME itself never follows it. */
    r = ask((struct answer_q){
        .name = "cdn.example.com.", .type = LDNS_RR_TYPE_CNAME, .ecs = "10.2.0.0/24"});
    assert_cname_answer(r, true, "cdn.example.com. 40 IN CNAME www.example.com.\n", "");
    assert_ecs(r, "10.2.0.0/24", 16);
    ldns_pkt_free(r);

    /* Any type is answered with the CNAME (RFC 1034 §3.6.2: no other data beside it). */
    r = ask((struct answer_q){
        .name = "cdn.example.com.", .type = LDNS_RR_TYPE_TXT, .ecs = "10.3.0.0/24"});
    assert_cname_answer(r, true, "cdn.example.com. 40 IN CNAME edge.example.net.\n", "");
    ldns_pkt_free(r);
}

/* Weighted targets 1:3, chosen by the query's random number modulo the total weight. */
static void
test_cname_weighted(void **state)
{
    static const char www_a[] = "www.example.com. 3600 IN A 192.0.2.80\n";
    static const char mail_a[] = "mail.example.com. 3600 IN A 192.0.2.25\n";

    (void)state;
    for (uint64_t random = 0; random < 8; random++) {
        bool www = random % 4 == 0;
        ldns_pkt *r = ask((struct answer_q){
            .name = "wcdn.example.com.", .type = LDNS_RR_TYPE_A, .random = random});
        assert_cname_answer(r, CNAME_FOLLOWS_UNTAILORED,
                            www ? "wcdn.example.com. 30 IN CNAME www.example.com.\n"
                                : "wcdn.example.com. 30 IN CNAME mail.example.com.\n",
                            www ? www_a : mail_a);
        ldns_pkt_free(r);
    }
}

/* --- selection and health in the answer --- */

static void
test_weighted_health(void **state)
{
    (void)state;
    /* Weights 1 and 3: random % 4 == 0 picks the first. */
    for (uint64_t random = 0; random < 8; random++) {
        ldns_pkt *r = ask(
            (struct answer_q){.name = "w.example.com.", .type = LDNS_RR_TYPE_A, .random = random});
        expect_a(r, "w.example.com.", 30, "A", random % 4 == 0 ? "192.0.2.41" : "192.0.2.42");
        ldns_pkt_free(r);
    }
    /* .42 down: .41 for every draw, its TTL capped by when .42 may come back (5 s). */
    entry("192.0.2.42")->state = HEALTH_DOWN;
    entry("192.0.2.42")->earliest_change_s = 105;
    for (uint64_t random = 0; random < 4; random++) {
        ldns_pkt *r = ask((struct answer_q){
            .name = "w.example.com.", .type = LDNS_RR_TYPE_A, .random = random, .now_s = 100});
        expect_a(r, "w.example.com.", 5, "A", "192.0.2.41");
        ldns_pkt_free(r);
    }
    /* Both down: all_down (default `all`) fails open by weight again... */
    entry("192.0.2.41")->state = HEALTH_DOWN;
    entry("192.0.2.42")->earliest_change_s = HEALTH_NEVER;
    ldns_pkt *r =
        ask((struct answer_q){.name = "w.example.com.", .type = LDNS_RR_TYPE_A, .random = 1});
    expect_a(r, "w.example.com.", 30, "A", "192.0.2.42");
    ldns_pkt_free(r);
    /* ...but never to a member the operator drained. */
    entry("192.0.2.42")->drained = 1;
    for (uint64_t random = 0; random < 4; random++) {
        r = ask(
            (struct answer_q){.name = "w.example.com.", .type = LDNS_RR_TYPE_A, .random = random});
        expect_a(r, "w.example.com.", 30, "A", "192.0.2.41");
        ldns_pkt_free(r);
    }
}

/* The member policy_select picks for `ecs` ("a.b.c.d/bits" or IPv6) as text. */
static void
sticky_choice(const char *ecs, uint16_t qtype, char *out, size_t size)
{
    struct policy_client c = {0};
    uint8_t wire[DNAME_MAX_LEN];
    int len = dname_from_text("sticky.example.com", wire);
    struct policy_answer a;

    c.family = answer_prefix(ecs, c.addr, &c.bits);
    const struct policy_service *svc = policy_set_find(sv.policies, wire, len);
    assert_non_null(svc);
    policy_select(svc, &c, qtype, NULL, 0, 0, &a);
    assert_int_equal(a.count, 1);
    assert_non_null(
        inet_ntop(c.family == 4 ? AF_INET : AF_INET6, a.members[0]->addr, out, (socklen_t)size));
}

/* Sticky: one member per /24 (/56), whatever the random number; the scope is the hashed
 * prefix even when the ECS source is shorter; the subnets spread over the members. */
static void
test_sticky(void **state)
{
    char ecs[64], want[INET6_ADDRSTRLEN];
    bool seen[3] = {false, false, false};

    (void)state;
    for (int net = 0; net < 48; net++) {
        snprintf(ecs, sizeof(ecs), "10.7.%d.0/24", net);
        sticky_choice(ecs, 1, want, sizeof(want));
        seen[want[strlen(want) - 1] - '1'] = true;
        for (uint64_t random = 0; random < 3; random++) {
            ldns_pkt *r = ask((struct answer_q){.name = "sticky.example.com.",
                                                .type = LDNS_RR_TYPE_A,
                                                .ecs = ecs,
                                                .random = random * 7919});
            expect_a(r, "sticky.example.com.", 30, "A", want);
            assert_ecs(r, ecs, 24);
            ldns_pkt_free(r);
        }
    }
    assert_true(seen[0] && seen[1] && seen[2]);

    ldns_pkt *r = ask((struct answer_q){
        .name = "sticky.example.com.", .type = LDNS_RR_TYPE_A, .ecs = "10.7.0.0/16"});
    sticky_choice("10.7.0.0/16", 1, want, sizeof(want));
    expect_a(r, "sticky.example.com.", 30, "A", want);
    assert_ecs(r, "10.7.0.0/16", 24);
    ldns_pkt_free(r);

    r = ask((struct answer_q){
        .name = "sticky.example.com.", .type = LDNS_RR_TYPE_AAAA, .ecs = "2001:db8:7:100::/56"});
    sticky_choice("2001:db8:7:100::/56", 28, want, sizeof(want));
    expect_a(r, "sticky.example.com.", 30, "AAAA", want);
    assert_ecs(r, "2001:db8:7:100::/56", 56);
    ldns_pkt_free(r);

    /* Two hosts of one /24 by source address: one member. */
    sticky_choice("127.0.9.0/24", 1, want, sizeof(want));
    static const char *const hosts[] = {"127.0.9.1", "127.0.9.200"};
    for (int i = 0; i < 2; i++) {
        r = ask((struct answer_q){.name = "sticky.example.com.",
                                  .type = LDNS_RR_TYPE_A,
                                  .source = hosts[i],
                                  .random = (uint64_t)i});
        expect_a(r, "sticky.example.com.", 30, "A", want);
        ldns_pkt_free(r);
    }
}

/* `all`: every usable member in declared order, one RRset. */
static void
test_select_all(void **state)
{
    (void)state;
    ldns_pkt *r = ask((struct answer_q){.name = "all.example.com.", .type = LDNS_RR_TYPE_A});
    answer_assert_ordered(ldns_pkt_answer(r), "all.example.com. 30 IN A 192.0.2.61\n"
                                              "all.example.com. 30 IN A 192.0.2.63\n");
    ldns_pkt_free(r);
    r = ask((struct answer_q){.name = "all.example.com.", .type = LDNS_RR_TYPE_AAAA});
    assert_nodata(r, 30);
    ldns_pkt_free(r);
    /* RFC 8482 §4.1: ANY gets one RRset, the service's address answer. */
    r = ask((struct answer_q){.name = "all.example.com.", .type = LDNS_RR_TYPE_ANY});
    answer_assert_ordered(ldns_pkt_answer(r), "all.example.com. 30 IN A 192.0.2.61\n"
                                              "all.example.com. 30 IN A 192.0.2.63\n");
    ldns_pkt_free(r);
}

/* ANY at an address service: over UDP one RRset, the service's A (RFC 8482 §4.1); over TCP
 * every RRset of the name, as a static name answers over TCP: the service's A and AAAA for
 * the client and the name's own MX (with its target's address), not one family alone. A
 * service of one family gives that one; NODATA only when nothing is there. */
static void
test_any_address_service(void **state)
{
    (void)state;
    /* DE (10.2/16): the eu pool, both families. */
    ldns_pkt *r = ask((struct answer_q){.name = "geo.example.com.", .type = LDNS_RR_TYPE_ANY,
                                        .ecs = "10.2.0.0/24"});
    expect_a(r, "geo.example.com.", 20, "A", "192.0.2.10");
    ldns_pkt_free(r);
    r = ask((struct answer_q){.name = "geo.example.com.", .type = LDNS_RR_TYPE_ANY,
                              .ecs = "10.2.0.0/24", .tcp = true});
    answer_assert_section(ldns_pkt_answer(r), "geo.example.com. 20 IN A 192.0.2.10\n"
                                              "geo.example.com. 3600 IN MX 10 mail.example.com.\n"
                                              "geo.example.com. 20 IN AAAA 2001:db8::10\n");
    answer_assert_section(ldns_pkt_additional(r), "mail.example.com. 3600 IN A 192.0.2.25\n");
    assert_ecs(r, "10.2.0.0/24", 16);
    assert_true(answer_last.steered);
    assert_int_equal(answer_last.response_class, DNS_RESP_LARGE);
    ldns_pkt_free(r);
    /* IPv4 only: its A over TCP too, no AAAA, nothing else at the name. */
    r = ask((struct answer_q){.name = "v4.example.com.", .type = LDNS_RR_TYPE_ANY, .tcp = true});
    expect_a(r, "v4.example.com.", 600, "A", "192.0.2.30");
    ldns_pkt_free(r);
    /* Every member down and all_down: nodata: NODATA over TCP as over UDP. */
    entry("198.51.100.20")->state = HEALTH_DOWN;
    entry("192.0.2.20")->state = HEALTH_DOWN;
    r = ask((struct answer_q){.name = "nodata.example.com.", .type = LDNS_RR_TYPE_ANY,
                              .tcp = true});
    assert_nodata(r, 15);
    ldns_pkt_free(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_ecs_scope, reset_health),
        cmocka_unit_test_setup(test_ecs_source_zero, reset_health),
        cmocka_unit_test_setup(test_source_address, reset_health),
        cmocka_unit_test_setup(test_ecs_untailored, reset_health),
        cmocka_unit_test_setup(test_steered_nodata, reset_health),
        cmocka_unit_test_setup(test_all_down_nodata, reset_health),
        cmocka_unit_test_setup(test_cname_service, reset_health),
        cmocka_unit_test_setup(test_cname_weighted, reset_health),
        cmocka_unit_test_setup(test_weighted_health, reset_health),
        cmocka_unit_test_setup(test_sticky, reset_health),
        cmocka_unit_test_setup(test_select_all, reset_health),
        cmocka_unit_test_setup(test_any_address_service, reset_health),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
