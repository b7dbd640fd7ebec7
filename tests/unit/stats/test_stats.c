// SPDX-License-Identifier: MIT
/* stats/: counters fed from real dns_answer results (a steered zone built as the server builds
 * it), summed over two workers whose blocks sit on separate cache lines; answers per service,
 * pool and member and their carrying to a new policy set by name; drops and transfers; the
 * Prometheus writer (label and HELP escaping, histogram buckets, _sum, _count) and the
 * HTML/JSON escaping of common/escape.c. Single-threaded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "answer_test.h"
#include "common/escape.h"
#include "stats/prom.h"
#include "stats/stats.h"
#include "steer_view.h"

static const char zone_text[] = "$ORIGIN example.com.\n"
                                "$TTL 3600\n"
                                "@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
                                "@ NS ns1\n"
                                "ns1 A 192.0.2.53\n"
                                "www A 192.0.2.80\n"
                                "www AAAA 2001:db8::80\n";

/* geoip/sample.csv: 10.2.0.0/16 is in DE. */
static const char services_v1[] = "  geo.example.com:\n"
                                  "    pools:\n"
                                  "      eu: { members: [ {address: 192.0.2.10} ] }\n"
                                  "      us: { members: [ {address: 198.51.100.10},\n"
                                  "                       {address: 198.51.100.11} ] }\n"
                                  "    geo: { country: { DE: [eu] }, default: [us] }\n";
/* The reload: pool us renamed to na, a service added in front (indices move). */
static const char services_v2[] = "  other.example.com:\n"
                                  "    pools: { p: { members: [ {address: 192.0.2.99} ] } }\n"
                                  "  geo.example.com:\n"
                                  "    pools:\n"
                                  "      eu: { members: [ {address: 192.0.2.12},\n"
                                  "                       {address: 192.0.2.10} ] }\n"
                                  "      na: { members: [ {address: 198.51.100.10} ] }\n"
                                  "    geo: { country: { DE: [eu] }, default: [na] }\n";

static struct steer_view v1, v2;

static int
load(struct steer_view *sv, const char *services)
{
    const char *src = getenv("MERIDIAN_SOURCE_DIR");
    char mmdb[PATH_MAX], err[STEER_VIEW_ERR_MAX];
    snprintf(mmdb, sizeof(mmdb), "%s/geoip/sample.mmdb", src ? src : ".");
    if (steer_view_load(sv, mmdb, "example.com", zone_text, NULL, services, err) < 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static int
setup(void **state)
{
    (void)state;
    return load(&v1, services_v1) < 0 || load(&v2, services_v2) < 0 ? -1 : 0;
}

static int
teardown(void **state)
{
    (void)state;
    steer_view_fini(&v1);
    steer_view_fini(&v2);
    return 0;
}

/* Answers q from sv with dns_answer and counts the result on worker `worker`. */
static void
ask(struct steer_view *sv, struct stats *st, struct stats_steer *ss, unsigned worker,
    struct answer_q q)
{
    size_t len;
    uint8_t *query = answer_build(&q, &len);
    static uint8_t out[65535];
    struct dns_client client = {.tcp = q.tcp, .random = q.random, .now_s = 1};
    struct dns_result r;
    size_t n = dns_answer(&sv->view, &client, query, len, out, sizeof(out), &r);
    stats_count(stats_worker_get(st, worker), ss, worker, &r, q.tcp, q.tcp ? AF_INET6 : AF_INET, n);
    free(query);
}

static void
test_sum_over_workers(void **state)
{
    (void)state;
    struct stats *st = stats_new(2);
    /* Each worker's block starts a cache line of its own. */
    uintptr_t a = (uintptr_t)stats_worker_get(st, 0), b = (uintptr_t)stats_worker_get(st, 1);
    assert_int_equal(a % STATS_CACHE_LINE, 0);
    assert_int_equal(b % STATS_CACHE_LINE, 0);
    assert_true(b - a >= sizeof(struct stats_worker));
    for (int i = 0; i < 3; i++)
        ask(&v1, st, NULL, 0, (struct answer_q){.name = "www.example.com", .type = LDNS_RR_TYPE_A});
    ask(&v1, st, NULL, 1,
        (struct answer_q){
            .name = "www.example.com", .type = LDNS_RR_TYPE_AAAA, .tcp = true, .edns = true});
    ask(&v1, st, NULL, 1, (struct answer_q){.name = "nope.example.com", .type = LDNS_RR_TYPE_A});
    ask(&v1, st, NULL, 1, (struct answer_q){.name = "www.example.com", .type = LDNS_RR_TYPE_MX});
    ask(&v1, st, NULL, 0, (struct answer_q){.name = "www.example.com", .type = 99 /* SPF */});
    ask(&v1, st, NULL, 0, (struct answer_q){.name = "www.example.com", .type = 13 /* HINFO */});

    struct stats_totals t;
    stats_sum(st, &t);
    assert_int_equal(t.queries[STATS_UDP][STATS_IPV4], 7);
    assert_int_equal(t.queries[STATS_TCP][STATS_IPV6], 1);
    assert_int_equal(t.queries[STATS_UDP][STATS_IPV6] + t.queries[STATS_TCP][STATS_IPV4], 0);
    uint64_t by_type[4] = {0};
    for (unsigned i = 0; i < STATS_QTYPES; i++) {
        const char *name = stats_label(STATS_LABEL_QTYPE, i);
        by_type[0] += strcmp(name, "A") == 0 ? t.qtype[i] : 0;
        by_type[1] += strcmp(name, "AAAA") == 0 ? t.qtype[i] : 0;
        by_type[2] += strcmp(name, "MX") == 0 ? t.qtype[i] : 0;
        by_type[3] += strcmp(name, "other") == 0 ? t.qtype[i] : 0;
    }
    assert_int_equal(by_type[0], 4);
    assert_int_equal(by_type[1], 1);
    assert_int_equal(by_type[2], 1);
    assert_int_equal(by_type[3], 1); /* HINFO; SPF has its own label */
    assert_int_equal(t.rcode[0], 7); /* NOERROR (NODATA included) */
    assert_int_equal(t.rcode[3], 1); /* NXDOMAIN */
    assert_string_equal(stats_label(STATS_LABEL_RCODE, 3), "NXDOMAIN");
    assert_int_equal(t.edns, 1);
    assert_int_equal(t.steered, 0);
    assert_true(t.response_bytes[STATS_TCP] > 0 && t.response_bytes[STATS_UDP] > 0);
    stats_free(st);
}

static void
test_drops_transfers_events(void **state)
{
    (void)state;
    struct stats *st = stats_new(1);
    struct stats_worker *ws = stats_worker_get(st, 0);
    /* A response (QR set) is dropped by dns_answer: counted as unanswerable, not by rcode. */
    static const uint8_t response[12] = {0x12, 0x34, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    uint8_t out[512];
    struct dns_client client = {0};
    struct dns_result r;
    size_t n = dns_answer(&v1.view, &client, response, sizeof(response), out, sizeof(out), &r);
    assert_int_equal(n, 0);
    stats_count(ws, NULL, 0, &r, false, AF_INET, n);
    struct dns_result xfr = {.qtype = 252, .transfer = true};
    stats_count(ws, NULL, 0, &xfr, true, AF_INET, 0);
    stats_drop(ws, STATS_DROP_SHORT);
    stats_event(ws, STATS_EVENT_TCP_ACCEPTED);
    stats_event(ws, STATS_EVENT_TCP_ACCEPTED);
    stats_event(ws, STATS_EVENT_TCP_CLOSED);
    struct stats_totals t;
    stats_sum(st, &t);
    assert_int_equal(t.dropped[STATS_DROP_UNANSWERABLE], 1);
    assert_int_equal(t.dropped[STATS_DROP_SHORT], 1);
    assert_int_equal(t.transfers[0], 1);
    assert_int_equal(t.transfers[1], 0);
    uint64_t rcodes = 0;
    for (unsigned i = 0; i < STATS_RCODES; i++)
        rcodes += t.rcode[i];
    assert_int_equal(rcodes, 0);
    assert_int_equal(t.events[STATS_EVENT_TCP_ACCEPTED], 2);
    assert_int_equal(t.events[STATS_EVENT_TCP_CLOSED], 1);
    assert_string_equal(stats_label(STATS_LABEL_EVENT, STATS_EVENT_TCP_EVICTED), "evicted");
    stats_free(st);
}

/* The index of pool `name` in service s of set, or fail. */
static uint32_t
pool_index(const struct policy_set *set, uint32_t s, const char *name)
{
    for (uint32_t p = 0; p < set->services[s].pool_count; p++)
        if (strcmp(set->services[s].pools[p].name, name) == 0)
            return p;
    fail_msg("no pool %s", name);
    return 0;
}

static uint32_t
service_index(const struct policy_set *set, const char *name)
{
    for (uint32_t s = 0; s < set->count; s++)
        if (strcmp(set->services[s].cfg->name, name) == 0)
            return s;
    fail_msg("no service %s", name);
    return 0;
}

static void
test_steer_counts_and_carry(void **state)
{
    (void)state;
    struct stats *st = stats_new(2);
    struct stats_steer *s1 = stats_steer_new(v1.policies, 2);
    assert_int_equal((uintptr_t)s1->counts % STATS_CACHE_LINE, 0);
    assert_int_equal(s1->stride % (STATS_CACHE_LINE / sizeof(uint64_t)), 0);
    /* DE by ECS: pool eu, its only member; twice on worker 0, once on worker 1. */
    struct answer_q de = {.name = "geo.example.com", .type = LDNS_RR_TYPE_A, .ecs = "10.2.0.0/24"};
    ask(&v1, st, s1, 0, de);
    ask(&v1, st, s1, 0, de);
    ask(&v1, st, s1, 1, de);
    /* No client location: the default order, pool us; random picks the member. */
    struct answer_q us = {.name = "geo.example.com", .type = LDNS_RR_TYPE_A};
    ask(&v1, st, s1, 1, us);
    uint32_t geo = service_index(v1.policies, "geo.example.com.");
    uint32_t eu = pool_index(v1.policies, geo, "eu"), usp = pool_index(v1.policies, geo, "us");
    assert_int_equal(stats_steer_service(s1, geo), 4);
    assert_int_equal(stats_steer_pool(s1, geo, eu), 3);
    assert_int_equal(stats_steer_member(s1, geo, eu, 0), 3);
    assert_int_equal(stats_steer_pool(s1, geo, usp), 1);
    assert_int_equal(stats_steer_member(s1, geo, usp, 0) + stats_steer_member(s1, geo, usp, 1), 1);
    struct stats_totals t;
    stats_sum(st, &t);
    assert_int_equal(t.steered, 4);
    assert_int_equal(t.ecs_present, 3);
    assert_int_equal(t.ecs_used, 3); /* the DE answers depend on the subnet (scope > 0) */

    /* The reload: counts move by name, whatever the indices. */
    struct stats_steer *s2 = stats_steer_new(v2.policies, 2);
    stats_steer_carry(s2, s1);
    uint32_t geo2 = service_index(v2.policies, "geo.example.com.");
    uint32_t other = service_index(v2.policies, "other.example.com.");
    uint32_t eu2 = pool_index(v2.policies, geo2, "eu"), na = pool_index(v2.policies, geo2, "na");
    assert_int_not_equal(geo2, geo);
    assert_int_equal(stats_steer_service(s2, geo2), 4);
    assert_int_equal(stats_steer_service(s2, other), 0);
    assert_int_equal(stats_steer_pool(s2, geo2, eu2), 3);
    assert_int_equal(stats_steer_member(s2, geo2, eu2, 0), 0); /* 192.0.2.12 is new */
    assert_int_equal(stats_steer_member(s2, geo2, eu2, 1), 3); /* 192.0.2.10 moved */
    assert_int_equal(stats_steer_pool(s2, geo2, na), 0);       /* renamed: starts over */
    /* Counted into the old set after the first carry (a worker still on it), then carried
     * again: assigned, not added twice. */
    ask(&v1, st, s1, 0, de);
    stats_steer_carry(s2, s1);
    assert_int_equal(stats_steer_service(s2, geo2), 5);
    assert_int_equal(stats_steer_member(s2, geo2, eu2, 1), 4);
    /* New counts add to the carried ones. */
    ask(&v2, st, s2, 1, de);
    assert_int_equal(stats_steer_service(s2, geo2), 6);
    assert_int_equal(stats_steer_pool(s2, geo2, eu2), 5);
    stats_steer_free(s1);
    stats_steer_free(s2);
    stats_free(st);
}

/* Every named type maps to its own label and back; others are "other". */
static void
test_qtype_labels(void **state)
{
    (void)state;
    static const struct {
        uint16_t type;
        const char *name;
    } named[] = {{1, "A"},      {2, "NS"},      {5, "CNAME"}, {6, "SOA"},    {12, "PTR"},
                 {15, "MX"},    {16, "TXT"},    {28, "AAAA"}, {33, "SRV"},   {35, "NAPTR"},
                 {43, "DS"},    {48, "DNSKEY"}, {64, "SVCB"}, {65, "HTTPS"}, {99, "SPF"},
                 {251, "IXFR"}, {252, "AXFR"},  {255, "ANY"}, {257, "CAA"}};
    assert_int_equal(sizeof(named) / sizeof(named[0]), STATS_QTYPES - 1);
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        assert_string_equal(stats_label(STATS_LABEL_QTYPE, stats_qtype_index(named[i].type)),
                            named[i].name);
    for (unsigned t = 0; t < 65536; t++) {
        bool is_named = false;
        for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
            is_named |= named[i].type == t;
        if (!is_named)
            assert_int_equal(stats_qtype_index((uint16_t)t), STATS_QTYPES - 1);
    }
}

/* What a writer wrote into a memory stream, for comparison. */
struct capture {
    char *text;
    size_t len;
    FILE *f;
};

static void
capture_begin(struct capture *c)
{
    c->text = NULL;
    c->f = open_memstream(&c->text, &c->len);
}

static const char *
capture_end(struct capture *c)
{
    fclose(c->f);
    return c->text;
}

static void
test_prom_escaping(void **state)
{
    (void)state;
    struct capture c;
    capture_begin(&c);
    prom_family(c.f, "meridian_x_total", "counter", "help with \\ and\nnewline");
    prom_sample(c.f, "meridian_x_total", (prom_labels){"zone", "a\"b\\c\nd", "k", "v", NULL}, 7);
    prom_sample(c.f, "meridian_x_total", NULL, 18446744073709551615ULL);
    assert_string_equal(capture_end(&c), "# HELP meridian_x_total help with \\\\ and\\nnewline\n"
                                         "# TYPE meridian_x_total counter\n"
                                         "meridian_x_total{zone=\"a\\\"b\\\\c\\nd\",k=\"v\"} 7\n"
                                         "meridian_x_total 18446744073709551615\n");
    free(c.text);
}

static void
test_prom_histogram(void **state)
{
    (void)state;
    static const double bounds[] = {0.005, 0.1, 2.5};
    static const uint64_t buckets[] = {2, 0, 3, 1}; /* the last: above 2.5 */
    struct capture c;
    capture_begin(&c);
    prom_histogram(c.f, "meridian_h_seconds", (prom_labels){"target", "t|1", NULL}, bounds, buckets,
                   3, 4.75);
    assert_string_equal(capture_end(&c),
                        "meridian_h_seconds_bucket{target=\"t|1\",le=\"0.005\"} 2\n"
                        "meridian_h_seconds_bucket{target=\"t|1\",le=\"0.1\"} 2\n"
                        "meridian_h_seconds_bucket{target=\"t|1\",le=\"2.5\"} 5\n"
                        "meridian_h_seconds_bucket{target=\"t|1\",le=\"+Inf\"} 6\n"
                        "meridian_h_seconds_sum{target=\"t|1\"} 4.75\n"
                        "meridian_h_seconds_count{target=\"t|1\"} 6\n");
    free(c.text);
    /* Without labels, le is the only one; buckets[n] is the one above the last bound. */
    static const uint64_t two[] = {2, 4};
    capture_begin(&c);
    prom_histogram(c.f, "h", NULL, bounds, two, 1, 0);
    assert_string_equal(capture_end(&c), "h_bucket{le=\"0.005\"} 2\nh_bucket{le=\"+Inf\"} 6\n"
                                         "h_sum 0\nh_count 6\n");
    free(c.text);
}

static void
test_html_json_escaping(void **state)
{
    (void)state;
    struct capture c;
    capture_begin(&c);
    html_escape(c.f, "<a href='x'>&\"</a>");
    assert_string_equal(capture_end(&c), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
    free(c.text);
    capture_begin(&c);
    /* Quote, backslash, a control character, valid UTF-8 kept, a lone byte and an
     * overlong encoding replaced. */
    json_string(c.f, "a\"b\\c\x01\n\xc3\xa9\xff\xc0\xaf.");
    assert_string_equal(capture_end(&c),
                        "\"a\\\"b\\\\c\\u0001\\u000a\xc3\xa9\\ufffd\\ufffd\\ufffd.\"");
    free(c.text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sum_over_workers),   cmocka_unit_test(test_drops_transfers_events),
        cmocka_unit_test(test_qtype_labels),       cmocka_unit_test(test_steer_counts_and_carry),
        cmocka_unit_test(test_prom_escaping),      cmocka_unit_test(test_prom_histogram),
        cmocka_unit_test(test_html_json_escaping),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
