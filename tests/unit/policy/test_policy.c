// SPDX-License-Identifier: MIT
/* Unit tests for the steering engine (src/policy): each test writes a config into a private
 * mkdtemp directory, loads it with config_load() (its zone file does not exist: the config
 * loader never opens zone files), compiles it with policy_set_build() against
 * geoip/sample.mmdb (rows in geoip/sample.csv) and calls policy_select() with injected
 * randomness and an injected health table. Covered: every selection mode (weighted shares
 * checked statistically, sticky per /24 and /56 with minimal movement when a member goes
 * down), pool failover, geo precedence, nets overrides, all_down, nearest, the ECS scope
 * (merged networks), CNAME services, owner lookup and explanations. Single-threaded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include "test_tmpdir.h"

#include <arpa/inet.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "policy/policy_build.h"

#define QTYPE_A 1
#define QTYPE_AAAA 28
#define QTYPE_CNAME 5

static char tmpdir[] = "/tmp/meridian-test-policy-XXXXXX";
static char mmdb_path[PATH_MAX];
static struct geo_db *geo;

/* The current test's config, policies and health table (freed by the per-test teardown,
 * also when an assertion fails). */
static struct config *cfg;
static struct policy_set *set;
static struct health_table *health;
static char *explained;
static const struct geo_db *built_geo; /* the database the policies were built with */

/* splitmix64: the "good PRNG" feeding policy_select's `random`. Seeded per test. */
static uint64_t prng_state;

static uint64_t
prng(void)
{
    uint64_t z = (prng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Writes a config with the sample GeoIP database, one zone (whose file does not exist) and
 * `services` (YAML lines under "services:"), loads and compiles it, and gives it an empty
 * health table (every member unknown, which counts as up). */
static void
build_with(const char *services, const struct geo_db *db)
{
    char path[PATH_MAX + 32], err[CONFIG_ERR_MAX];
    FILE *f;
    int n;

    n = snprintf(path, sizeof(path), "%s/meridian.yaml", tmpdir);
    assert_true(n > 0 && (size_t)n < sizeof(path));
    f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fprintf(f,
                        "geoip: { database: \"%s\" }\n"
                        "zones: [ { origin: example.com, file: missing/example.com.zone } ]\n"
                        "services:\n%s",
                        mmdb_path, services) > 0);
    assert_int_equal(fclose(f), 0);
    if (config_load(path, &cfg, err) != 0)
        fail_msg("config_load: %s", err);
    built_geo = db;
    if (policy_set_build(cfg, db, &set, err) != 0)
        fail_msg("policy_set_build: %s", err);
    health = calloc(1, sizeof(*health) + set->health_count * sizeof(health->entries[0]));
    assert_non_null(health);
    health->count = set->health_count;
    for (uint32_t i = 0; i < health->count; i++)
        health->entries[i].earliest_change_s = HEALTH_NEVER;
}

static void
build(const char *services)
{
    build_with(services, geo);
}

static const struct policy_service *
service(const char *name)
{
    uint8_t wire[DNAME_MAX_LEN];
    int len = dname_from_text(name, wire);
    const struct policy_service *svc;

    assert_true(len > 0);
    svc = policy_set_find(set, wire, len);
    if (!svc)
        fail_msg("no service %s", name);
    return svc;
}

/* A client from an address in text; bits < 0 means a full address (/32 or /128), else an
 * ECS source prefix (host bits cleared, RFC 7871 §6). */
static struct policy_client
client(const char *text, int bits)
{
    struct policy_client c;
    int max;

    memset(&c, 0, sizeof(c));
    if (inet_pton(AF_INET, text, c.addr) == 1) {
        c.family = 4;
        max = 32;
    } else {
        assert_int_equal(inet_pton(AF_INET6, text, c.addr), 1);
        c.family = 6;
        max = 128;
    }
    c.bits = bits < 0 ? max : bits;
    for (int bit = c.bits; bit < max; bit++)
        c.addr[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
    return c;
}

static struct policy_answer
ask_bits(const struct policy_service *svc, const char *addr, int bits, uint16_t qtype,
         uint64_t random)
{
    struct policy_client c = client(addr, bits);
    struct policy_answer a;

    memset(&a, 0xA5, sizeof(a)); /* policy_select must set every field */
    policy_select(svc, &c, qtype, health, random, 0, &a);
    return a;
}

static struct policy_answer
ask(const struct policy_service *svc, const char *addr, uint16_t qtype, uint64_t random)
{
    return ask_bits(svc, addr, -1, qtype, random);
}

static void
member_text(const struct policy_member *m, char *buf, size_t size)
{
    if (m->target)
        dname_to_text(m->target, buf, size);
    else
        assert_non_null(
            inet_ntop(m->family == 4 ? AF_INET : AF_INET6, m->addr, buf, (socklen_t)size));
}

/* Appends `word` to buf (space-separated). */
static void
append(char *buf, size_t size, const char *word)
{
    size_t used = strlen(buf);
    int n = snprintf(buf + used, size - used, "%s%s", used ? " " : "", word);
    assert_true(n >= 0 && (size_t)n < size - used);
}

/* The answer's records as text, e.g. "192.0.2.1 192.0.2.4". */
static const char *
members_text(const struct policy_answer *a)
{
    static char buf[4096];
    char one[DNAME_TEXT_MAX];

    buf[0] = '\0';
    assert_true(a->count <= POLICY_MAX_ANSWER);
    for (uint32_t i = 0; i < a->count; i++) {
        member_text(a->members[i], one, sizeof(one));
        append(buf, sizeof(buf), one);
    }
    return buf;
}

/* The pool order that decided, e.g. "ap eu". */
static const char *
order_text(const struct policy_service *svc, const struct policy_answer *a)
{
    static char buf[1024];
    const struct policy_order *o;

    buf[0] = '\0';
    assert_true(a->order < svc->order_count);
    o = &svc->orders[a->order];
    for (uint32_t i = 0; i < o->count; i++)
        append(buf, sizeof(buf), svc->pools[o->pools[i]].name);
    return buf;
}

static const char *
pool_name(const struct policy_service *svc, const struct policy_answer *a)
{
    if (a->pool < 0)
        return "-";
    assert_true((uint32_t)a->pool < svc->pool_count);
    return svc->pools[a->pool].name;
}

static const struct policy_member *
member(const struct policy_service *svc, const char *text)
{
    char one[DNAME_TEXT_MAX];
    for (uint32_t p = 0; p < svc->pool_count; p++)
        for (uint32_t m = 0; m < svc->pools[p].member_count; m++) {
            member_text(&svc->pools[p].members[m], one, sizeof(one));
            if (strcasecmp(one, text) == 0)
                return &svc->pools[p].members[m];
        }
    fail_msg("no member %s", text);
    return NULL;
}

static void
set_health(const struct policy_service *svc, const char *text, enum health_state state)
{
    const struct policy_member *m = member(svc, text);
    assert_true(m->health_id < health->count);
    health->entries[m->health_id].state = (uint8_t)state;
}

/* One A query from `addr` must be decided by `order`, answered from `pool` with `scope`. */
static void
expect_geo(const struct policy_service *svc, const char *addr, const char *order, const char *pool,
           int scope)
{
    struct policy_answer a = ask(svc, addr, QTYPE_A, 0);
    if (strcmp(order_text(svc, &a), order) != 0 || strcmp(pool_name(svc, &a), pool) != 0 ||
        a.scope != scope)
        fail_msg("client %s: got order '%s' pool %s scope /%u, expected order '%s' pool %s "
                 "scope /%d",
                 addr, order_text(svc, &a), pool_name(svc, &a), a.scope, order, pool, scope);
    assert_int_equal(a.count, 1);
    assert_false(a.failed_open);
}

/* count of n draws within 5 sigma of the binomial mean n*p. */
static void
assert_share(uint32_t count, uint32_t n, double p, const char *what)
{
    double mean = n * p, sigma = sqrt(n * p * (1.0 - p));
    if (fabs((double)count - mean) > 5.0 * sigma + 1.0)
        fail_msg("%s: %u of %u, expected %.1f +- %.1f (5 sigma)", what, count, n, mean,
                 5.0 * sigma);
}

static void
assert_contains(const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("missing \"%s\" in:\n%s", want, text);
}

/* policy_explain() into a string (freed by the teardown). addr NULL: no client (ECS /0). */
static const char *
explain(const struct policy_service *svc, const char *addr, uint16_t qtype)
{
    struct policy_client c;
    size_t len = 0;
    FILE *f;

    free(explained);
    explained = NULL;
    if (addr)
        c = client(addr, -1);
    else
        memset(&c, 0, sizeof(c));
    f = open_memstream(&explained, &len);
    assert_non_null(f);
    policy_explain(svc, &c, qtype, health, 0, built_geo, f);
    assert_int_equal(fclose(f), 0);
    return explained;
}

/* --- lookup --- */

static void
test_find(void **state)
{
    char *yaml = NULL, name[64];
    size_t len = 0;
    FILE *f = open_memstream(&yaml, &len);

    (void)state;
    assert_non_null(f);
    fprintf(f, "  WWW.Example.COM:\n"
               "    ttl: 45\n"
               "    pools: { p: { members: [ {address: 192.0.2.1} ] } }\n"
               "  api.example.com.:\n"
               "    pools: { p: { members: [ {address: 192.0.2.2} ] } }\n");
    /* Enough services to fill the open-addressing table with collisions. */
    for (int i = 0; i < 60; i++)
        fprintf(f, "  s%d.example.com:\n    pools: { p: { members: [ {address: 10.0.0.%d} ] } }\n",
                i, i + 1);
    assert_int_equal(fclose(f), 0);
    build(yaml);
    free(yaml);
    assert_int_equal(set->count, 62);

    const struct policy_service *www = service("www.example.com");
    char text[DNAME_TEXT_MAX];
    dname_to_text(www->owner, text, sizeof(text));
    assert_string_equal(text, "www.example.com.");
    assert_int_equal(www->ttl_s, 45);
    assert_int_equal(service("api.example.com.")->ttl_s, 30);
    assert_ptr_not_equal(service("api.example.com"), www);
    for (int i = 0; i < 60; i++) {
        char addr[16];
        assert_true(snprintf(name, sizeof(name), "s%d.example.com", i) < (int)sizeof(name));
        assert_true(snprintf(addr, sizeof(addr), "10.0.0.%d", i + 1) < (int)sizeof(addr));
        const struct policy_service *svc = service(name);
        dname_to_text(svc->owner, text, sizeof(text));
        assert_memory_equal(text, name, strlen(name));
        assert_string_equal(text + strlen(name), ".");
        struct policy_answer a = ask(svc, "192.0.2.99", QTYPE_A, 0);
        assert_string_equal(members_text(&a), addr);
    }

    /* Names that are not owners: the parent, a child, a near miss, the root. */
    static const char *const absent[] = {"example.com", "x.www.example.com", "www.example.co",
                                         "s60.example.com", "."};
    for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
        uint8_t wire[DNAME_MAX_LEN];
        int wlen = dname_from_text(absent[i], wire);
        assert_true(wlen > 0);
        assert_null(policy_set_find(set, wire, wlen));
    }
    assert_null(policy_set_find(NULL, www->owner, www->owner_len));
}

/* --- weighted --- */

#define DRAWS 100000

static void
test_weighted(void **state)
{
    static const char *const addrs[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"};
    uint32_t counts[4], total, n;
    struct policy_answer a;

    (void)state;
    prng_state = 1;
    build("  w.example.com:\n"
          "    pools:\n"
          "      p:\n"
          "        members:\n"
          "          - { address: 192.0.2.1, weight: 1 }\n"
          "          - { address: 192.0.2.2, weight: 2 }\n"
          "          - { address: 192.0.2.3, weight: 3 }\n"
          "          - { address: 192.0.2.4, weight: 4 }\n"
          "          - { address: 192.0.2.5, weight: 5, down: true }\n"
          "          - { address: \"2001:db8::1\", weight: 100 }\n"
          "  x.example.com:\n"
          "    pools:\n"
          "      p:\n"
          "        members:\n"
          "          - { address: 198.51.100.1, weight: 1 }\n"
          "          - { address: 198.51.100.2, weight: 1000 }\n");
    const struct policy_service *w = service("w.example.com");

    /* Shares follow weight/total; the forced-down and the IPv6 member never answer A. */
    for (int round = 0; round < 2; round++) {
        memset(counts, 0, sizeof(counts));
        for (n = 0; n < DRAWS; n++) {
            a = ask(w, "10.1.2.3", QTYPE_A, prng());
            assert_int_equal(a.count, 1);
            assert_int_equal(a.pool, 0);
            assert_int_equal(a.scope, 0); /* random, not client-dependent */
            assert_int_equal(a.ttl_s, 30);
            assert_false(a.failed_open);
            const struct policy_member *m = a.members[0];
            assert_true(m >= w->pools[0].members && m < w->pools[0].members + 4);
            counts[m - w->pools[0].members]++;
        }
        /* Round 2: 192.0.2.4 is down, the others share its weight. */
        total = round == 0 ? 10 : 6;
        for (int i = 0; i < (round == 0 ? 4 : 3); i++)
            assert_share(counts[i], DRAWS, (i + 1) / (double)total, addrs[i]);
        if (round == 1)
            assert_int_equal(counts[3], 0);
        set_health(w, "192.0.2.4", HEALTH_DOWN);
    }

    /* The same random number gives the same member; AAAA only the IPv6 member. */
    for (n = 0; n < 1000; n++) {
        uint64_t r = prng();
        assert_ptr_equal(ask(w, "10.1.2.3", QTYPE_A, r).members[0],
                         ask(w, "203.0.113.9", QTYPE_A, r).members[0]);
        a = ask(w, "10.1.2.3", QTYPE_AAAA, r);
        assert_string_equal(members_text(&a), "2001:db8::1");
    }

    /* Extremes: weight 1 against 1000 still gets its share, no more. */
    const struct policy_service *x = service("x.example.com");
    uint32_t light = 0;
    for (n = 0; n < DRAWS; n++) {
        a = ask(x, "10.1.2.3", QTYPE_A, prng());
        assert_int_equal(a.count, 1);
        light += a.members[0] == &x->pools[0].members[0];
    }
    assert_true(light > 0);
    assert_share(light, DRAWS, 1.0 / 1001.0, "weight 1 of 1001");
    /* Random values at the ends of the range are fine too. */
    assert_int_equal(ask(x, "10.1.2.3", QTYPE_A, 0).count, 1);
    assert_int_equal(ask(x, "10.1.2.3", QTYPE_A, UINT64_MAX).count, 1);
}

/* --- sticky --- */

static const char sticky_services[] =
    "  s.example.com:\n"
    "    pools:\n"
    "      p:\n"
    "        members:\n"
    "          - { address: 192.0.2.1, weight: 1 }\n"
    "          - { address: 192.0.2.2, weight: 2 }\n"
    "          - { address: 192.0.2.3, weight: 3 }\n"
    "          - { address: 192.0.2.4, weight: 4 }\n"
    "          - { address: \"2001:db8::1\", weight: 1 }\n"
    "          - { address: \"2001:db8::2\", weight: 2 }\n"
    "          - { address: \"2001:db8::3\", weight: 3 }\n"
    "          - { address: \"2001:db8::4\", weight: 4 }\n"
    "    select: sticky\n"
    "  s20.example.com:\n"
    "    pools:\n"
    "      p:\n"
    "        members: [ {address: 192.0.2.1}, {address: 192.0.2.2}, {address: 192.0.2.3},\n"
    "                   {address: \"2001:db8::1\"}, {address: \"2001:db8::2\"} ]\n"
    "    select: sticky\n"
    "    sticky_prefix: { v4: 20, v6: 48 }\n"
    "  sf.example.com:\n"
    "    pools:\n"
    "      p:\n"
    "        members:\n"
    "          - { address: 192.0.2.1, weight: 1 }\n"
    "          - { address: 192.0.2.2, weight: 2 }\n"
    "          - { address: 192.0.2.3, weight: 3, down: true }\n"
    "          - { address: 192.0.2.4, weight: 4 }\n"
    "    select: sticky\n"
    "  geo-sticky.example.com:\n"
    "    pools:\n"
    "      a: { members: [ {address: 192.0.2.1}, {address: 192.0.2.2} ] }\n"
    "      nz: { members: [ {address: 192.0.2.3}, {address: 192.0.2.4} ] }\n"
    "    geo: { country: { NZ: [nz] }, default: [a] }\n"
    "    select: sticky\n";

/* Index within pool 0 of the answer's member. */
static int
sticky_index(const struct policy_service *svc, const struct policy_client *c, uint16_t qtype)
{
    struct policy_answer a;
    policy_select(svc, c, qtype, health, prng(), 0, &a);
    assert_int_equal(a.count, 1);
    assert_int_equal(a.pool, 0);
    return (int)(a.members[0] - svc->pools[0].members);
}

static void
test_sticky_same_subnet(void **state)
{
    char addr[INET6_ADDRSTRLEN];
    struct policy_answer a;

    (void)state;
    prng_state = 2;
    build(sticky_services);
    const struct policy_service *s = service("s.example.com");
    const struct policy_service *s20 = service("s20.example.com");
    int seen[8] = {0};

    /* Every host of a /24, every random number: one member; scope the /24. */
    for (int net = 0; net < 256; net++) {
        assert_true(snprintf(addr, sizeof(addr), "10.%d.%d.0", net, (net * 7) & 255) > 0);
        struct policy_client base = client(addr, 24);
        int first = sticky_index(s, &base, QTYPE_A);
        seen[first]++;
        for (int host = 0; host < 256; host += 37) {
            struct policy_client c = base;
            c.addr[3] = (uint8_t)host;
            c.bits = 32;
            assert_int_equal(sticky_index(s, &c, QTYPE_A), first);
        }
        policy_select(s, &base, QTYPE_A, health, UINT64_MAX, 0, &a);
        assert_int_equal(a.members[0] - s->pools[0].members, first);
        assert_int_equal(a.scope, 24);
    }
    for (int i = 0; i < 4; i++)
        assert_true(seen[i] > 0); /* different subnets do get different members */

    /* IPv6: the /56 decides, and AAAA gets only IPv6 members. */
    memset(seen, 0, sizeof(seen));
    for (int net = 0; net < 256; net++) {
        assert_true(snprintf(addr, sizeof(addr), "2001:db8:%x:%x00::", net * 131, net) > 0);
        struct policy_client base = client(addr, 56);
        int first = sticky_index(s, &base, QTYPE_AAAA);
        assert_true(first >= 4);
        seen[first]++;
        for (int host = 0; host < 16; host++) {
            struct policy_client c = base;
            for (int b = 7; b < 16; b++)
                c.addr[b] = (uint8_t)prng();
            c.bits = 128;
            assert_int_equal(sticky_index(s, &c, QTYPE_AAAA), first);
        }
        a = ask_bits(s, addr, 56, QTYPE_AAAA, 0);
        assert_int_equal(a.scope, 56);
    }
    for (int i = 4; i < 8; i++)
        assert_true(seen[i] > 0);

    /* A configured prefix: the whole /20 sticks together, scope /20 (v6 /48). */
    for (int net = 0; net < 64; net++) {
        assert_true(snprintf(addr, sizeof(addr), "10.%d.%d.0", 1 + net / 16, (net % 16) * 16) > 0);
        struct policy_client base = client(addr, 20);
        int first = sticky_index(s20, &base, QTYPE_A);
        for (int host = 1; host < 16; host += 5) {
            struct policy_client c = base;
            c.addr[2] = (uint8_t)(c.addr[2] + host);
            c.addr[3] = (uint8_t)(host * 13);
            c.bits = 32;
            assert_int_equal(sticky_index(s20, &c, QTYPE_A), first);
        }
        a = ask(s20, addr, QTYPE_A, 0);
        assert_int_equal(a.scope, 20);
    }
    a = ask(s20, "2001:db8:7:ff00::1", QTYPE_AAAA, 0);
    assert_int_equal(a.scope, 48);
    assert_ptr_equal(ask(s20, "2001:db8:7:1::1", QTYPE_AAAA, 5).members[0], a.members[0]);

    /* ECS source /0: no subnet to hash, one answer for all, scope 0. */
    struct policy_client none = {.family = 0};
    policy_select(s, &none, QTYPE_A, health, 0, 0, &a);
    assert_int_equal(a.count, 1);
    assert_int_equal(a.scope, 0);
    const struct policy_member *m0 = a.members[0];
    policy_select(s, &none, QTYPE_A, health, 12345, 0, &a);
    assert_ptr_equal(a.members[0], m0);
}

#define SUBNETS 16384

static void
test_sticky_distribution_and_down(void **state)
{
    static uint8_t before[SUBNETS], after[SUBNETS];
    static const char *const names[] = {"weight 1", "weight 2", "weight 3", "weight 4"};
    uint32_t counts[8], moved = 0;

    (void)state;
    prng_state = 3;
    build(sticky_services);
    const struct policy_service *s = service("s.example.com");

    /* 16384 /24s (100.64.0.0/10), a random host in each. */
    for (int round = 0; round < 2; round++) {
        memset(counts, 0, sizeof(counts));
        for (uint32_t i = 0; i < SUBNETS; i++) {
            struct policy_client c = {.family = 4, .bits = 32};
            c.addr[0] = 100;
            c.addr[1] = (uint8_t)(64 | (i >> 8));
            c.addr[2] = (uint8_t)i;
            c.addr[3] = (uint8_t)prng();
            int idx = sticky_index(s, &c, QTYPE_A);
            (round == 0 ? before : after)[i] = (uint8_t)idx;
            counts[idx]++;
        }
        if (round == 0) {
            for (int k = 0; k < 4; k++)
                assert_share(counts[k], SUBNETS, (k + 1) / 10.0, names[k]);
            /* 192.0.2.3 (weight 3) goes down. */
            set_health(s, "192.0.2.3", HEALTH_DOWN);
        }
    }
    /* Rendezvous hashing: only the subnets that had 192.0.2.3 move, spread by weight. */
    memset(counts, 0, sizeof(counts));
    for (uint32_t i = 0; i < SUBNETS; i++) {
        assert_int_not_equal(after[i], 2);
        if (before[i] != 2) {
            if (after[i] != before[i])
                fail_msg("subnet 100.%u.%u.0/24 moved from member %u to %u although its "
                         "member stayed up",
                         64 | (i >> 8), i & 255, before[i], after[i]);
        } else {
            moved++;
            counts[after[i]]++;
        }
    }
    assert_share(moved, SUBNETS, 0.3, "moved subnets");
    assert_share(counts[0], moved, 1 / 7.0, "moved to weight 1");
    assert_share(counts[1], moved, 2 / 7.0, "moved to weight 2");
    assert_share(counts[3], moved, 4 / 7.0, "moved to weight 4");

    /* Back up: every subnet returns to its first member. The same member forced down in
     * the config (another service, same addresses) moves the same subnets the same way. */
    set_health(s, "192.0.2.3", HEALTH_UP);
    const struct policy_service *sf = service("sf.example.com");
    for (uint32_t i = 0; i < SUBNETS; i += 7) {
        struct policy_client c = {.family = 4, .bits = 24};
        c.addr[0] = 100;
        c.addr[1] = (uint8_t)(64 | (i >> 8));
        c.addr[2] = (uint8_t)i;
        assert_int_equal(sticky_index(s, &c, QTYPE_A), before[i]);
        assert_int_equal(sticky_index(sf, &c, QTYPE_A), after[i]);
    }

    /* IPv6 /56s follow the weights too. */
    memset(counts, 0, sizeof(counts));
    for (uint32_t i = 0; i < SUBNETS; i++) {
        struct policy_client c = {.family = 6, .bits = 56};
        c.addr[0] = 0x20;
        c.addr[1] = 0x01;
        c.addr[2] = 0x0d;
        c.addr[3] = 0xb8;
        c.addr[4] = 0x99;
        c.addr[5] = (uint8_t)(i >> 8);
        c.addr[6] = (uint8_t)i;
        counts[sticky_index(s, &c, QTYPE_AAAA)]++;
    }
    for (int k = 0; k < 4; k++)
        assert_share(counts[4 + k], SUBNETS, (k + 1) / 10.0, names[k]);
}

/* Sticky scope is at least the sticky prefix, and the geo depth where that is longer. */
static void
test_sticky_scope(void **state)
{
    (void)state;
    build(sticky_services);
    const struct policy_service *g = service("geo-sticky.example.com");
    struct policy_answer a;

    a = ask(g, "10.1.0.5", QTYPE_A, 0); /* default: a /1 of the tree, but the /24 hashes */
    assert_string_equal(pool_name(g, &a), "a");
    assert_int_equal(a.scope, 24);
    a = ask(g, "203.0.113.130", QTYPE_A, 0); /* NZ: 203.0.113.128/26 */
    assert_string_equal(pool_name(g, &a), "nz");
    assert_int_equal(a.scope, 26);
    a = ask(g, "203.0.113.5", QTYPE_A, 0); /* IN half: 203.0.113.0/25, default */
    assert_string_equal(pool_name(g, &a), "a");
    assert_int_equal(a.scope, 25);
    a = ask(g, "2001:db8::1", QTYPE_A, 0);
    assert_int_equal(a.scope, 56);
    a = ask_bits(g, "10.1.0.0", 16, QTYPE_A, 0); /* ECS /16: still the /24 decides */
    assert_int_equal(a.scope, 24);
}

/* --- all and first_n --- */

static void
test_all_first_n(void **state)
{
    static const char pools[] =
        "    pools:\n"
        "      p:\n"
        "        members:\n"
        "          - { address: 192.0.2.1 }\n"
        "          - { address: 192.0.2.2, weight: 50 }\n"
        "          - { address: \"2001:db8::2\" }\n"
        "          - { address: 192.0.2.3, down: true }\n"
        "          - { address: 192.0.2.4 }\n"
        "          - { address: 192.0.2.5 }\n"
        "          - { address: \"2001:db8::5\" }\n"
        "      q: { members: [ {address: 198.51.100.1}, {address: 198.51.100.2} ] }\n";
    char yaml[8192];
    struct policy_answer a;
    int n;

    (void)state;
    n = snprintf(yaml, sizeof(yaml),
                 "  all.example.com:\n%s    select: all\n"
                 "  first.example.com:\n%s    select: first_n\n    first_n: 3\n"
                 "  first2.example.com:\n%s    select: first_n\n"
                 "  big.example.com:\n    pools:\n      p:\n        members:\n",
                 pools, pools, pools);
    assert_true(n > 0 && (size_t)n < sizeof(yaml));
    for (int i = 1; i <= 40; i++) {
        int m = snprintf(yaml + n, sizeof(yaml) - (size_t)n,
                         "          - { address: 203.0.113.%d }\n", i);
        assert_true(m > 0 && (size_t)m < sizeof(yaml) - (size_t)n);
        n += m;
    }
    assert_true(snprintf(yaml + n, sizeof(yaml) - (size_t)n, "    select: all\n") <
                (int)(sizeof(yaml) - (size_t)n));
    build(yaml);
    const struct policy_service *all = service("all.example.com");
    const struct policy_service *first = service("first.example.com");
    const struct policy_service *first2 = service("first2.example.com");

    /* Declared order, forced-down skipped, family filtered; random plays no part. */
    for (uint64_t r = 0; r < 3; r++) {
        uint64_t random = r == 2 ? UINT64_MAX : r;
        a = ask(all, "10.2.0.1", QTYPE_A, random);
        assert_string_equal(members_text(&a), "192.0.2.1 192.0.2.2 192.0.2.4 192.0.2.5");
        assert_int_equal(a.scope, 0);
        a = ask(all, "10.2.0.1", QTYPE_AAAA, random);
        assert_string_equal(members_text(&a), "2001:db8::2 2001:db8::5");
        a = ask(first, "10.2.0.1", QTYPE_A, random);
        assert_string_equal(members_text(&a), "192.0.2.1 192.0.2.2 192.0.2.4");
        a = ask(first2, "10.2.0.1", QTYPE_A, random);
        assert_string_equal(members_text(&a), "192.0.2.1 192.0.2.2");
        a = ask(first2, "10.2.0.1", QTYPE_AAAA, random);
        assert_string_equal(members_text(&a), "2001:db8::2 2001:db8::5");
    }

    /* DOWN members are skipped; UP and UNKNOWN count. */
    set_health(all, "192.0.2.2", HEALTH_DOWN);
    set_health(all, "192.0.2.4", HEALTH_UP);
    set_health(all, "2001:db8::2", HEALTH_DOWN);
    a = ask(all, "10.2.0.1", QTYPE_A, 0);
    assert_string_equal(members_text(&a), "192.0.2.1 192.0.2.4 192.0.2.5");
    a = ask(all, "10.2.0.1", QTYPE_AAAA, 0);
    assert_string_equal(members_text(&a), "2001:db8::5");
    a = ask(first, "10.2.0.1", QTYPE_A, 0);
    assert_string_equal(members_text(&a), "192.0.2.1 192.0.2.4 192.0.2.5");
    a = ask(first2, "10.2.0.1", QTYPE_A, 0);
    assert_string_equal(members_text(&a), "192.0.2.1 192.0.2.4");

    /* Fewer healthy than N: what the pool has. */
    set_health(all, "192.0.2.1", HEALTH_DOWN);
    set_health(all, "192.0.2.5", HEALTH_DOWN);
    a = ask(first, "10.2.0.1", QTYPE_A, 0);
    assert_string_equal(members_text(&a), "192.0.2.4");
    assert_string_equal(pool_name(first, &a), "p");

    /* The pool's last address member down: the next pool. */
    set_health(all, "192.0.2.4", HEALTH_DOWN);
    a = ask(all, "10.2.0.1", QTYPE_A, 0);
    assert_string_equal(members_text(&a), "198.51.100.1 198.51.100.2");
    assert_string_equal(pool_name(all, &a), "q");
    assert_false(a.failed_open);
    a = ask(first2, "10.2.0.1", QTYPE_AAAA, 0); /* 2001:db8::5 still up */
    assert_string_equal(members_text(&a), "2001:db8::5");

    /* At most POLICY_MAX_ANSWER records. */
    a = ask(service("big.example.com"), "10.2.0.1", QTYPE_A, 0);
    assert_int_equal(a.count, POLICY_MAX_ANSWER);
    char last[INET6_ADDRSTRLEN];
    member_text(a.members[POLICY_MAX_ANSWER - 1], last, sizeof(last));
    assert_string_equal(last, "203.0.113.32");
}

/* --- failover and geo --- */

static void
test_failover(void **state)
{
    struct policy_answer a;

    (void)state;
    build("  f.example.com:\n"
          "    pools:\n"
          "      a: { members: [ {address: 192.0.2.1}, {address: 192.0.2.2} ] }\n"
          "      b: { members: [ {address: 192.0.2.3, down: true}, {address: 192.0.2.4} ] }\n"
          "      c: { members: [ {address: 192.0.2.5} ] }\n"
          "    geo: { default: [c, a, b] }\n"
          "  g.example.com:\n"
          "    pools: { z: { members: [ {address: 192.0.2.9}, {address: 192.0.2.5} ] } }\n");
    const struct policy_service *f = service("f.example.com");
    const struct policy_service *g = service("g.example.com");
    assert_false(f->client_dependent); /* a geo section with only a default */

    /* One health id (and one sticky identity) per address, shared between services. */
    assert_int_equal(set->health_count, 6);
    assert_int_equal(member(f, "192.0.2.5")->health_id, member(g, "192.0.2.5")->health_id);
    assert_true(member(f, "192.0.2.5")->key == member(g, "192.0.2.5")->key);
    assert_true(member(f, "192.0.2.4")->key != member(g, "192.0.2.9")->key);

    a = ask(f, "10.2.0.1", QTYPE_A, 0);
    assert_string_equal(order_text(f, &a), "c a b");
    assert_string_equal(pool_name(f, &a), "c");
    assert_int_equal(a.scope, 0);

    /* No table yet, or a table shorter than the ids: everything counts as up. */
    struct policy_client cl = client("10.2.0.1", -1);
    policy_select(f, &cl, QTYPE_A, NULL, 0, 0, &a);
    assert_string_equal(pool_name(f, &a), "c");
    set_health(f, "192.0.2.5", HEALTH_DOWN);
    uint32_t count = health->count;
    health->count = 0;
    a = ask(f, "10.2.0.1", QTYPE_A, 0);
    assert_string_equal(pool_name(f, &a), "c");
    health->count = count;

    /* c down: a; partly down a still answers from a. The shared member is down in g too. */
    a = ask(f, "10.2.0.1", QTYPE_A, 0);
    assert_string_equal(pool_name(f, &a), "a");
    a = ask(g, "10.2.0.1", QTYPE_A, 1);
    assert_string_equal(members_text(&a), "192.0.2.9");
    a = ask(g, "10.2.0.1", QTYPE_A, UINT64_MAX);
    assert_string_equal(members_text(&a), "192.0.2.9");
    set_health(f, "192.0.2.1", HEALTH_DOWN);
    for (int i = 0; i < 8; i++) {
        a = ask(f, "10.2.0.1", QTYPE_A, prng());
        assert_string_equal(members_text(&a), "192.0.2.2");
    }
    /* a wholly down: b, whose forced-down member never answers. */
    set_health(f, "192.0.2.2", HEALTH_DOWN);
    for (int i = 0; i < 8; i++) {
        a = ask(f, "10.2.0.1", QTYPE_A, prng());
        assert_string_equal(pool_name(f, &a), "b");
        assert_string_equal(members_text(&a), "192.0.2.4");
        assert_false(a.failed_open);
    }
}

static void
test_geo_precedence(void **state)
{
    (void)state;
    build("  geo.example.com:\n"
          "    pools:\n"
          "      na: { members: [ {address: 192.0.2.1} ] }\n"
          "      us: { members: [ {address: 192.0.2.2} ] }\n"
          "      ny: { members: [ {address: 192.0.2.3} ] }\n"
          "      eu: { members: [ {address: 192.0.2.4} ] }\n"
          "      de: { members: [ {address: 192.0.2.5} ] }\n"
          "      def: { members: [ {address: 192.0.2.6} ] }\n"
          "    geo:\n"
          "      continent: { NA: [na, def], EU: [eu, def] }\n"
          "      country: { US: [us, na], DE: [de, eu] }\n"
          "      subdivision: { US-NY: [ny, us] }\n"
          "      default: [def]\n");
    const struct policy_service *g = service("geo.example.com");
    assert_true(g->client_dependent);

    /* Subdivision beats country: New York inside the Ashburn /16. */
    expect_geo(g, "10.1.2.5", "ny us", "ny", 24);
    expect_geo(g, "10.1.0.5", "us na", "us", 23); /* 10.1.0.0/23 */
    expect_geo(g, "10.1.3.5", "us na", "us", 24);
    expect_geo(g, "10.1.200.1", "us na", "us", 17);
    expect_geo(g, "10.11.0.1", "ny us", "ny", 16);
    expect_geo(g, "127.0.0.1", "us na", "us", 24);
    /* Country beats continent. */
    expect_geo(g, "10.2.0.1", "de eu", "de", 16);
    expect_geo(g, "127.0.1.1", "de eu", "de", 24);
    /* Continent: CA (NA), a derived continent (127.0.18.0/24 CA has none in the data, and
     * MX next to it is NA too: one /23), and a continent-only record. */
    expect_geo(g, "198.51.100.5", "na def", "na", 25);
    expect_geo(g, "127.0.18.5", "na def", "na", 23);
    expect_geo(g, "127.0.19.5", "na def", "na", 23);
    expect_geo(g, "127.0.17.5", "eu def", "eu", 24);
    expect_geo(g, "10.8.0.1", "eu def", "eu", 15); /* FR: continent EU */
    /* Default: no rule (JP, AQ) and no record (10.64.0.0/10); scope is still the network. */
    expect_geo(g, "10.3.0.1", "def", "def", 16);
    expect_geo(g, "127.0.16.5", "def", "def", 24);
    expect_geo(g, "10.99.0.1", "def", "def", 10);
    /* IPv6 clients, same rules. */
    expect_geo(g, "2001:db8:1:100::1", "ny us", "ny", 56);
    expect_geo(g, "2001:db8:1::1", "us na", "us", 56);
    expect_geo(g, "2001:db8:1:8000::1", "us na", "us", 49);
    expect_geo(g, "2001:db8:2::1", "de eu", "de", 48);

    /* An empty subdivision pool falls through to the rest of its order. */
    set_health(g, "192.0.2.3", HEALTH_DOWN);
    expect_geo(g, "10.1.2.5", "ny us", "us", 24);

    /* ECS /0: the default order, scope 0. */
    struct policy_client none = {.family = 0};
    struct policy_answer a;
    policy_select(g, &none, QTYPE_A, health, 0, 0, &a);
    assert_int_equal(a.order, 0);
    assert_string_equal(pool_name(g, &a), "def");
    assert_int_equal(a.scope, 0);
}

/* nets override geo, the more specific net wins, and the scope is the net's. */
static void
test_nets(void **state)
{
    (void)state;
    build("  nets.example.com:\n"
          "    pools:\n"
          "      eu: { members: [ {address: 192.0.2.1} ] }\n"
          "      us: { members: [ {address: 192.0.2.2} ] }\n"
          "      ap: { members: [ {address: 192.0.2.3} ] }\n"
          "    geo: { country: { DE: [eu] }, default: [us] }\n"
          "    nets:\n"
          "      \"10.2.3.0/24\": [us]\n"
          "      \"10.0.0.0/8\": [ap]\n"
          "      \"2001:db8:3::/48\": [eu, ap]\n"
          "  office.example.com:\n"
          "    pools:\n"
          "      lan: { members: [ {address: 192.168.1.1} ] }\n"
          "      wan: { members: [ {address: 198.51.100.1} ] }\n"
          "    nets: { \"192.168.0.0/16\": [lan] }\n"
          "    geo: { default: [wan] }\n");
    const struct policy_service *n = service("nets.example.com");

    expect_geo(n, "10.2.3.9", "us", "us", 24);  /* the /24 inside the /8 */
    expect_geo(n, "10.2.4.1", "ap", "ap", 22);  /* the /8 beats DE geo: 10.2.4.0/22 */
    expect_geo(n, "10.3.0.1", "ap", "ap", 16);  /* 10.3.0.0/16 */
    expect_geo(n, "10.200.0.1", "ap", "ap", 9); /* 10.128.0.0/9 */
    expect_geo(n, "127.0.1.5", "eu", "eu", 24); /* DE outside the nets: geo */
    expect_geo(n, "11.0.0.1", "us", "us", 8);   /* default beside the /8 */
    expect_geo(n, "2001:db8:3::1", "eu ap", "eu", 48);
    expect_geo(n, "2001:db8:2::1", "eu", "eu", 48);
    set_health(n, "192.0.2.1", HEALTH_DOWN);
    expect_geo(n, "2001:db8:3::1", "eu ap", "ap", 48);
    /* An ECS /16 inside the /8, away from the /24: the scope is the leaf holding it. */
    struct policy_answer a = ask_bits(n, "10.5.0.0", 16, QTYPE_A, 0);
    assert_string_equal(order_text(n, &a), "ap");
    assert_int_equal(a.scope, 14); /* 10.4.0.0/14: 10.0.0.0/14 holds the /24 */

    /* nets without GeoIP rules: the rest of the address space is the default. */
    const struct policy_service *o = service("office.example.com");
    assert_true(o->client_dependent);
    expect_geo(o, "192.168.5.5", "lan", "lan", 16);
    expect_geo(o, "8.8.8.8", "wan", "wan", 1);     /* 0.0.0.0/1 */
    expect_geo(o, "2001:db8::1", "wan", "wan", 0); /* no IPv6 rule: /0 */
}

/* --- all_down --- */

static void
test_all_down(void **state)
{
    static const char body[] =
        "    pools:\n"
        "      a: { members: [ {address: 192.0.2.1}, {address: 192.0.2.2} ] }\n"
        "      b: { members: [ {address: 198.51.100.1} ] }\n"
        "      backup: { members: [ {address: 203.0.113.1} ] }\n"
        "    geo: { country: { JP: [b, a] }, default: [a, b] }\n"
        "    select: all\n";
    char yaml[4096];
    struct policy_answer a;

    (void)state;
    assert_true(snprintf(yaml, sizeof(yaml),
                         "  open.example.com:\n%s    all_down: all\n"
                         "  nodata.example.com:\n%s    all_down: nodata\n"
                         "  backup.example.com:\n%s    all_down: \"pool:backup\"\n",
                         body, body, body) < (int)sizeof(yaml));
    build(yaml);
    const struct policy_service *open = service("open.example.com");
    const struct policy_service *nodata = service("nodata.example.com");
    const struct policy_service *backup = service("backup.example.com");

    a = ask(open, "10.2.0.1", QTYPE_A, 0);
    assert_false(a.failed_open);
    /* Every member of a and b down (the backup pool too: pool:<name> ignores health). */
    set_health(open, "192.0.2.1", HEALTH_DOWN);
    set_health(open, "192.0.2.2", HEALTH_DOWN);
    set_health(open, "198.51.100.1", HEALTH_DOWN);
    set_health(open, "203.0.113.1", HEALTH_DOWN);

    /* all: fail open from the first pool of the client's order, scope unchanged. */
    a = ask(open, "10.2.0.1", QTYPE_A, 0);
    assert_true(a.failed_open);
    assert_string_equal(pool_name(open, &a), "a");
    assert_string_equal(members_text(&a), "192.0.2.1 192.0.2.2");
    assert_int_equal(a.scope, 16);
    assert_int_equal(a.ttl_s, 30);
    a = ask(open, "10.3.0.1", QTYPE_A, 0);
    assert_true(a.failed_open);
    assert_string_equal(pool_name(open, &a), "b");
    assert_string_equal(members_text(&a), "198.51.100.1");
    assert_int_equal(a.scope, 16);

    /* nodata: no records, the TTL still set. */
    a = ask(nodata, "10.3.0.1", QTYPE_A, 0);
    assert_int_equal(a.count, 0);
    assert_int_equal(a.pool, -1);
    assert_true(a.failed_open);
    assert_int_equal(a.ttl_s, 30);

    /* pool:backup, whatever the client's order. */
    for (int i = 0; i < 2; i++) {
        a = ask(backup, i ? "10.3.0.1" : "10.2.0.1", QTYPE_A, prng());
        assert_true(a.failed_open);
        assert_string_equal(pool_name(backup, &a), "backup");
        assert_string_equal(members_text(&a), "203.0.113.1");
    }

    /* One member back: normal answers again. */
    set_health(open, "198.51.100.1", HEALTH_UP);
    a = ask(open, "10.2.0.1", QTYPE_A, 0);
    assert_false(a.failed_open);
    assert_string_equal(pool_name(open, &a), "b");
    a = ask(backup, "10.2.0.1", QTYPE_A, 0);
    assert_false(a.failed_open);
    assert_string_equal(pool_name(backup, &a), "b");
}

/* --- nearest --- */

static void
test_nearest(void **state)
{
    static const char pools[] =
        "    pools:\n"
        "      eu: { members: [ {address: 192.0.2.1} ], coordinates: [50.11, 8.68] }\n"
        "      us: { members: [ {address: 192.0.2.2} ], coordinates: [39.04, -77.49] }\n"
        "      ap: { members: [ {address: 192.0.2.3} ], coordinates: [35.69, 139.69] }\n"
        "      sg: { members: [ {address: 192.0.2.4} ], coordinates: [1.35, 103.82] }\n"
        "      sa: { members: [ {address: 192.0.2.5} ], coordinates: [-23.55, -46.63] }\n"
        "    order: nearest\n";
    char yaml[4096];
    struct policy_answer a;

    (void)state;
    assert_true(snprintf(yaml, sizeof(yaml),
                         "  near.example.com:\n%s"
                         "  near2.example.com:\n%s    nearest_n: 2\n",
                         pools, pools) < (int)sizeof(yaml));
    build(yaml);
    const struct policy_service *near = service("near.example.com");
    const struct policy_service *near2 = service("near2.example.com");

    /* Orders by great-circle distance from the sample coordinates. */
    expect_geo(near, "10.3.0.1", "ap sg eu us sa", "ap", 16); /* Tokyo */
    expect_geo(near, "2001:db8:3::1", "ap sg eu us sa", "ap", 48);
    expect_geo(near, "10.2.0.1", "eu us ap sa sg", "eu", 16);  /* Frankfurt */
    expect_geo(near, "127.1.2.3", "sg eu ap us sa", "sg", 16); /* Mumbai */
    expect_geo(near, "10.4.0.1", "sa us eu sg ap", "sa", 15);  /* Sao Paulo */
    /* Ashburn and New York have the same order: the whole 10.1.0.0/16 is one answer. */
    expect_geo(near, "10.1.2.5", "us eu sa ap sg", "us", 16);
    /* No coordinates (MX, and CA next to it): the declared order. */
    expect_geo(near, "127.0.19.5", "eu us ap sg sa", "eu", 23);
    a = ask(near, "127.0.19.5", QTYPE_A, 0);
    assert_int_equal(a.order, 0);

    const char *text = explain(near, "10.3.0.1", QTYPE_A);
    assert_contains(text, ", order nearest,");
    assert_contains(text, "pool order (nearest to the client): ap sg eu us sa\n");
    text = explain(near, "127.0.19.5", QTYPE_A);
    assert_contains(text, "pool order (default (no coordinates)): eu us ap sg sa\n");

    set_health(near, "192.0.2.3", HEALTH_DOWN);
    expect_geo(near, "10.3.0.1", "ap sg eu us sa", "sg", 16);

    /* nearest_n: only the two nearest; both down is all down (fail open to the nearest). */
    expect_geo(near2, "10.3.0.1", "ap sg", "sg", 16);
    expect_geo(near2, "10.2.0.1", "eu us", "eu", 16);
    set_health(near2, "192.0.2.4", HEALTH_DOWN);
    a = ask(near2, "10.3.0.1", QTYPE_A, 0);
    assert_true(a.failed_open);
    assert_string_equal(pool_name(near2, &a), "ap");
    assert_string_equal(members_text(&a), "192.0.2.3");
}

/* --- ECS scope --- */

static void
test_scope(void **state)
{
    struct policy_answer a;
    struct policy_client none = {.family = 0};

    (void)state;
    build("  country.example.com:\n"
          "    pools:\n"
          "      us: { members: [ {address: 192.0.2.1} ] }\n"
          "      other: { members: [ {address: 192.0.2.2} ] }\n"
          "    geo: { country: { US: [us] }, default: [other] }\n"
          "  plain.example.com:\n"
          "    pools: { p: { members: [ {address: 192.0.2.1}, {address: \"2001:db8::9\"} ] } }\n"
          "  v6only.example.com:\n"
          "    pools: { p: { members: [ {address: \"2001:db8::53\"} ] },\n"
          "             q: { members: [ {address: \"2001:db8::54\"} ] } }\n"
          "    geo: { country: { JP: [p] }, default: [q] }\n"
          "  same.example.com:\n"
          "    pools: { p: { members: [ {address: 192.0.2.1} ] } }\n"
          "    geo: { country: { JP: [p] } }\n");
    const struct policy_service *c = service("country.example.com");

    /* CA and NY rows are adjacent /24s: one country, one /23. */
    expect_geo(c, "127.0.2.9", "us", "us", 23);
    expect_geo(c, "127.0.3.1", "us", "us", 23);
    expect_geo(c, "127.0.0.1", "us", "us", 24);
    expect_geo(c, "10.10.1.1", "us", "us", 15);
    expect_geo(c, "10.11.255.1", "us", "us", 15);
    /* Every non-US location gets the default: JP|BR|AU|ZA merge to a /22, FR..SG to a
     * /21, AQ, EU-only, CA, MX and the unknown rest to a /20. */
    expect_geo(c, "127.0.4.1", "other", "other", 22);
    expect_geo(c, "127.0.9.5", "other", "other", 21);
    expect_geo(c, "127.0.17.1", "other", "other", 20);
    /* Ashburn with a New York /24 inside: one country, one /16. */
    expect_geo(c, "10.1.2.5", "us", "us", 16);
    a = ask_bits(c, "10.1.0.0", 16, QTYPE_A, 0);
    assert_int_equal(a.scope, 16);
    a = ask_bits(c, "10.1.2.0", 24, QTYPE_A, 0);
    assert_int_equal(a.scope, 16);
    /* A source prefix shorter than the network: the scope may be longer (RFC 7871 §7.2.1). */
    a = ask_bits(c, "10.0.0.0", 8, QTYPE_A, 0);
    assert_string_equal(pool_name(c, &a), "other");
    assert_int_equal(a.scope, 16);
    expect_geo(c, "2001:db8:1:100::1", "us", "us", 48);
    expect_geo(c, "2001:db8:3::1", "other", "other", 47); /* DE and JP /48s: default */

    /* AAAA on an IPv4-only service: NODATA for every client, scope 0. */
    a = ask(c, "127.0.2.9", QTYPE_AAAA, 0);
    assert_int_equal(a.count, 0);
    assert_int_equal(a.scope, 0);
    assert_int_equal(a.pool, -1);
    assert_false(a.failed_open);
    a = ask(c, "2001:db8:1::1", QTYPE_AAAA, 0);
    assert_int_equal(a.count, 0);
    assert_int_equal(a.scope, 0);

    /* ECS source /0: the default order, scope 0. */
    policy_select(c, &none, QTYPE_A, health, 0, 0, &a);
    assert_int_equal(a.order, 0);
    assert_string_equal(pool_name(c, &a), "other");
    assert_int_equal(a.scope, 0);

    /* No client-dependent rule: scope 0 whoever asks. */
    const struct policy_service *p = service("plain.example.com");
    assert_false(p->client_dependent);
    static const char *const clients[] = {"10.1.2.5", "127.0.4.1", "2001:db8:1::1", "8.8.8.8"};
    for (size_t i = 0; i < sizeof(clients) / sizeof(clients[0]); i++) {
        a = ask(p, clients[i], QTYPE_A, 0);
        assert_string_equal(members_text(&a), "192.0.2.1");
        assert_int_equal(a.scope, 0);
        a = ask(p, clients[i], QTYPE_AAAA, 0);
        assert_string_equal(members_text(&a), "2001:db8::9");
        assert_int_equal(a.scope, 0);
    }
    a = ask_bits(p, "10.1.2.0", 24, QTYPE_A, 0);
    assert_int_equal(a.scope, 0);

    /* A on an IPv6-only service: NODATA, scope 0; AAAA has the geo scope. */
    const struct policy_service *v6 = service("v6only.example.com");
    a = ask(v6, "10.3.0.1", QTYPE_A, 0);
    assert_int_equal(a.count, 0);
    assert_int_equal(a.scope, 0);
    a = ask(v6, "10.3.0.1", QTYPE_AAAA, 0);
    assert_string_equal(members_text(&a), "2001:db8::53");
    assert_int_equal(a.scope, 16);
    a = ask(v6, "10.2.0.1", QTYPE_AAAA, 0);
    assert_string_equal(members_text(&a), "2001:db8::54");
    assert_int_equal(a.scope, 16);

    /* A geo rule that repeats the default order: nobody's answer depends on it, scope 0. */
    a = ask(service("same.example.com"), "10.3.0.1", QTYPE_A, 0);
    assert_string_equal(members_text(&a), "192.0.2.1");
    assert_int_equal(a.scope, 0);
}

/* --- CNAME services --- */

static void
test_cname(void **state)
{
    static const uint16_t qtypes[] = {QTYPE_A, QTYPE_AAAA, QTYPE_CNAME};
    char text[DNAME_TEXT_MAX];
    uint32_t heavy = 0, n;
    struct policy_answer a;

    (void)state;
    prng_state = 5;
    build("  cdn.example.com:\n"
          "    type: cname\n"
          "    pools:\n"
          "      a:\n"
          "        members:\n"
          "          - { target: edge1.cdn.example.net., weight: 1 }\n"
          "          - { target: Edge2.CDN.example.net, weight: 3 }\n"
          "      b: { members: [ {target: backup.example.net.} ] }\n"
          "    select: all\n");
    const struct policy_service *cdn = service("cdn.example.com");
    assert_true(cdn->cname);

    /* One target per answer, whatever the qtype, even with select: all; weighted. */
    for (n = 0; n < 20000; n++) {
        a = ask(cdn, "10.2.0.1", qtypes[n % 3], prng());
        assert_int_equal(a.count, 1);
        assert_int_equal(a.scope, 0);
        assert_non_null(a.members[0]->target);
        dname_to_text(a.members[0]->target, text, sizeof(text));
        if (strcasecmp(text, "edge2.cdn.example.net.") == 0)
            heavy++;
        else
            assert_string_equal(text, "edge1.cdn.example.net.");
    }
    assert_share(heavy, 20000, 0.75, "CNAME weight 3 of 4");
    set_health(cdn, "edge1.cdn.example.net.", HEALTH_DOWN);
    set_health(cdn, "Edge2.CDN.example.net.", HEALTH_DOWN);
    a = ask(cdn, "10.2.0.1", QTYPE_A, 7);
    assert_string_equal(members_text(&a), "backup.example.net.");
    assert_string_equal(pool_name(cdn, &a), "b");
}

/* sticky CNAME: the /24 decides the target, so the scope must cover the /24 (RFC 7871
 * §7.2.1: a wider scope would let a resolver cache one /24's target for every client). The
 * scope is raised to the sticky prefix for CNAME services as for address services. */
static void
test_cname_sticky_scope(void **state)
{
    static const uint16_t qtypes[] = {QTYPE_A, QTYPE_AAAA, QTYPE_CNAME};
    char addr[INET_ADDRSTRLEN];
    struct policy_answer a;

    (void)state;
    prng_state = 6;
    build("  sticky-cdn.example.com:\n"
          "    type: cname\n"
          "    pools:\n"
          "      a:\n"
          "        members: [ {target: e1.example.net.}, {target: e2.example.net.},\n"
          "                   {target: e3.example.net.} ]\n"
          "    select: sticky\n");
    const struct policy_service *st = service("sticky-cdn.example.com");
    int distinct = 0;
    bool seen[3] = {false, false, false};
    for (int net = 0; net < 64; net++) {
        assert_true(snprintf(addr, sizeof(addr), "10.7.%d.1", net) > 0);
        a = ask(st, addr, QTYPE_A, prng());
        assert_int_equal(a.count, 1);
        for (int i = 0; i < 4; i++)
            assert_ptr_equal(ask(st, addr, qtypes[i % 3], prng()).members[0], a.members[0]);
        int k = (int)(a.members[0] - st->pools[0].members);
        if (!seen[k]) {
            seen[k] = true;
            distinct++;
        }
    }
    assert_int_equal(distinct, 3);
    a = ask(st, "10.7.1.1", QTYPE_A, 0);
    if (a.scope != 24)
        fail_msg("sticky CNAME service: client 10.7.1.1 got ECS scope /%u, expected /24 "
                 "(the target depends on the client's /24)",
                 a.scope);
}

/* A client whose pool order has no member of the asked family, all healthy: NODATA for
 * that family (the client is steered to IPv4-only pools), not an all-down event. So
 * failed_open stays false and all_down does not apply: with all_down: pool:<name> the backup
 * pool must not answer although nothing is down (JP clients asking AAAA must not get eu's
 * 2001:db8::1, which would defeat the geo rule). */
static void
test_family_gap(void **state)
{
    static const char body[] =
        "    pools:\n"
        "      eu: { members: [ {address: 192.0.2.1}, {address: \"2001:db8::1\"} ] }\n"
        "      ap: { members: [ {address: 192.0.2.2} ] }\n"
        "    geo: { continent: { AS: [ap] }, default: [eu] }\n";
    char yaml[2048];
    struct policy_answer a;

    (void)state;
    assert_true(snprintf(yaml, sizeof(yaml),
                         "  ds.example.com:\n%s"
                         "  backup.example.com:\n%s    all_down: \"pool:eu\"\n",
                         body, body) < (int)sizeof(yaml));
    build(yaml);
    const struct policy_service *ds = service("ds.example.com");
    const struct policy_service *bk = service("backup.example.com");

    a = ask(ds, "10.2.0.1", QTYPE_AAAA, 0); /* DE: eu has IPv6 */
    assert_string_equal(members_text(&a), "2001:db8::1");
    assert_int_equal(a.scope, 16);
    a = ask(ds, "10.3.0.1", QTYPE_A, 0); /* JP: ap */
    assert_string_equal(members_text(&a), "192.0.2.2");

    a = ask(ds, "10.3.0.1", QTYPE_AAAA, 0);
    assert_int_equal(a.count, 0);
    int failed_open_ds = a.failed_open;
    a = ask(bk, "10.3.0.1", QTYPE_AAAA, 0);
    if (a.count != 0 || a.failed_open || failed_open_ds)
        fail_msg("JP client, AAAA, all members up, order [ap] (IPv4 only): expected NODATA "
                 "without fail-open; got all_down all: count 0 failed_open %d; "
                 "all_down pool:eu: count %u (%s) failed_open %d",
                 failed_open_ds, a.count, members_text(&a), a.failed_open);
    /* The explanation says NODATA, not "every member down". */
    assert_contains(explain(ds, "10.3.0.1", QTYPE_AAAA), "choice: none (NODATA)\n");
    assert_contains(explain(bk, "10.3.0.1", QTYPE_AAAA), "choice: none (NODATA)\n");
}

/* Without a GeoIP database (policy_set_build with geo NULL): nets still steer, geo rules
 * fall back to the default order, explanations say so. */
static void
test_no_geoip(void **state)
{
    char want[PATH_MAX + 64];

    (void)state;
    build_with("  office.example.com:\n"
               "    pools:\n"
               "      lan: { members: [ {address: 192.168.1.1} ] }\n"
               "      wan: { members: [ {address: 198.51.100.1} ] }\n"
               "    nets: { \"192.168.0.0/16\": [lan] }\n"
               "  geo.example.com:\n"
               "    pools:\n"
               "      us: { members: [ {address: 192.0.2.1} ] }\n"
               "      other: { members: [ {address: 192.0.2.2} ] }\n"
               "    geo: { country: { US: [us] }, default: [other] }\n",
               NULL);
    const struct policy_service *o = service("office.example.com");
    expect_geo(o, "192.168.5.5", "lan", "lan", 16);
    expect_geo(o, "8.8.8.8", "lan wan", "lan", 1); /* default: every pool in order */
    const char *text = explain(o, "192.168.5.5", QTYPE_A);
    assert_contains(text, "location: no GeoIP database\n");
    assert_true(snprintf(want, sizeof(want), "pool order (nets rule at %s/meridian.yaml:8): lan\n",
                         tmpdir) < (int)sizeof(want));
    assert_contains(text, want);
    expect_geo(service("geo.example.com"), "10.1.2.5", "other", "other", 0);
}

/* --- explanations --- */

static void
test_explain(void **state)
{
    char want[PATH_MAX + 64];
    const char *text;

    (void)state;
    build("  www.example.com:\n"
          "    ttl: 45\n"
          "    pools:\n"
          "      eu: { members: [ {address: 192.0.2.10, weight: 3}, "
          "{address: 192.0.2.11, down: true} ] }\n"
          "      ap: { members: [ {address: 203.0.113.5} ] }\n"
          "    geo:\n"
          "      country: { JP: [ap, eu] }\n"
          "      subdivision: { US-NY: [eu] }\n"
          "      default: [eu, ap]\n"
          "    nets: { \"10.9.0.0/16\": [ap] }\n");
    const struct policy_service *w = service("www.example.com");

    text = explain(w, "10.3.0.1", QTYPE_A);
    assert_contains(text, "service www.example.com.: address, select weighted, order geo, "
                          "all_down all, ttl 45\n");
    assert_contains(text, "client: 10.3.0.1/32\n");
    assert_contains(text, "location: continent AS, country JP, subdivision 13, coordinates "
                          "35.6895,139.6917 (GeoIP network /16)\n");
    assert_contains(text, "pool order (country JP): ap eu\n");
    assert_contains(text, "203.0.113.5");
    assert_contains(text, "health unknown");
    assert_contains(text, "weight 3");
    assert_contains(text, ", forced down in config\n");
    assert_contains(text, "choice: pool ap: one member at random by weight, e.g. 203.0.113.5\n");
    assert_contains(text, "ttl 45, ecs scope /16\n");

    set_health(w, "203.0.113.5", HEALTH_DOWN);
    text = explain(w, "10.3.0.1", QTYPE_A);
    assert_contains(text, "health down");
    assert_contains(text, "choice: pool eu: one member at random by weight, e.g. 192.0.2.10\n");
    assert_contains(text, "ttl 45, ecs scope /16\n");
    set_health(w, "203.0.113.5", HEALTH_UP);

    text = explain(w, "10.1.2.5", QTYPE_A);
    assert_contains(text, "country US, subdivision NY");
    assert_contains(text, "pool order (subdivision US-NY): eu\n");
    assert_contains(text, "ecs scope /24\n");

    text = explain(w, "10.9.1.1", QTYPE_A);
    assert_true(snprintf(want, sizeof(want), "pool order (nets rule at %s/meridian.yaml:13): ap\n",
                         tmpdir) < (int)sizeof(want));
    assert_contains(text, want);
    assert_contains(text, "choice: pool ap");
    assert_contains(text, "ecs scope /16\n");

    text = explain(w, NULL, QTYPE_A);
    assert_contains(text, "client: none (ECS source prefix 0)\n");
    assert_contains(text, "pool order (default): eu ap\n");
    assert_contains(text, "ecs scope /0\n");

    text = explain(w, "10.2.0.1", QTYPE_AAAA);
    assert_contains(text, "choice: none (NODATA)\n");
    assert_contains(text, "ecs scope /0\n");

    set_health(w, "192.0.2.10", HEALTH_DOWN);
    set_health(w, "203.0.113.5", HEALTH_DOWN);
    text = explain(w, "10.2.0.1", QTYPE_A);
    assert_contains(text, "pool order (default): eu ap\n");
    assert_contains(text, "(all down: all_down applied)");
}

/* --- fixture --- */

static int
unload(void **state)
{
    (void)state;
    policy_set_free(set);
    config_free(cfg);
    free(health);
    free(explained);
    set = NULL;
    cfg = NULL;
    health = NULL;
    explained = NULL;
    return 0;
}

static int
setup(void **state)
{
    const char *src = getenv("MERIDIAN_SOURCE_DIR");
    char err[GEO_ERR_MAX];
    int n;

    (void)state;
    n = snprintf(mmdb_path, sizeof(mmdb_path), "%s/geoip/sample.mmdb", src ? src : ".");
    if (n < 0 || (size_t)n >= sizeof(mmdb_path))
        return -1;
    if (geo_db_load(mmdb_path, &geo_paths_geoip2, &geo, err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    geo_db_free(geo);
    return test_tmpdir_remove(tmpdir);
}

/* TTLs never outlive the next possible health change of a member that could change the
 * answer (the chosen pool and every pool before it), never drop below 1 s, and ignore
 * members that cannot matter (later pools) or cannot change (forced down in the config). */
static void
test_ttl_cap(void **state)
{
    (void)state;
    build("  ttl.example.com:\n"
          "    ttl: 60\n"
          "    pools:\n"
          "      first: { members: [ { address: 192.0.2.1 }, { address: 192.0.2.2, down: true } ] }\n"
          "      second: { members: [ { address: 192.0.2.3 } ] }\n"
          "      third: { members: [ { address: 192.0.2.4 } ] }\n");
    const struct policy_service *svc = service("ttl.example.com");
    struct policy_client c = client("10.1.0.1", -1);
    struct policy_answer a;
    uint32_t now = 1000;

    /* Nothing can change: the service TTL. */
    policy_select(svc, &c, QTYPE_A, health, 0, now, &a);
    assert_int_equal(a.ttl_s, 60);

    /* The chosen member may go down in 12 s: TTL 12. A member of a later pool changing
     * soon does not matter; a forced-down member never changes. */
    health->entries[member(svc, "192.0.2.1")->health_id].earliest_change_s = now + 12;
    health->entries[member(svc, "192.0.2.4")->health_id].earliest_change_s = now + 2;
    policy_select(svc, &c, QTYPE_A, health, 0, now, &a);
    assert_string_equal(svc->pools[a.pool].name, "first");
    assert_int_equal(a.ttl_s, 12);

    /* First pool down, answer from the second: the first coming back in 5 s caps it. */
    set_health(svc, "192.0.2.1", HEALTH_DOWN);
    health->entries[member(svc, "192.0.2.1")->health_id].earliest_change_s = now + 5;
    health->entries[member(svc, "192.0.2.3")->health_id].earliest_change_s = now + 30;
    policy_select(svc, &c, QTYPE_A, health, 0, now, &a);
    assert_string_equal(svc->pools[a.pool].name, "second");
    assert_int_equal(a.ttl_s, 5);

    /* A change due now (or overdue) still gives 1 s, never 0. */
    policy_select(svc, &c, QTYPE_A, health, 0, now + 9, &a);
    assert_int_equal(a.ttl_s, 1);
}

/* Services whose rules map every location to the same order indices share one compiled tree
 * (several MB on a real database); a service with nets, or other rules, gets its own. */
static void
test_tree_sharing(void **state)
{
    (void)state;
    build("  a.example.com:\n"
          "    pools: { x: { members: [ { address: 192.0.2.1 } ] }, y: { members: [ { address: 192.0.2.2 } ] } }\n"
          "    geo: { country: { DE: [x] }, default: [y] }\n"
          "  b.example.com:\n"
          "    pools: { p: { members: [ { address: 192.0.2.3 } ] }, q: { members: [ { address: 192.0.2.4 } ] } }\n"
          "    geo: { country: { DE: [p] }, default: [q] }\n"
          "  c.example.com:\n"
          "    pools: { x: { members: [ { address: 192.0.2.1 } ] }, y: { members: [ { address: 192.0.2.2 } ] } }\n"
          "    geo: { country: { JP: [x] }, default: [y] }\n"
          "  d.example.com:\n"
          "    pools: { x: { members: [ { address: 192.0.2.1 } ] }, y: { members: [ { address: 192.0.2.2 } ] } }\n"
          "    geo: { country: { DE: [x] }, default: [y] }\n"
          "    nets: { \"10.3.0.0/16\": [x] }\n");
    const struct policy_service *a = service("a.example.com"), *b = service("b.example.com");
    const struct policy_service *c = service("c.example.com"), *d = service("d.example.com");
    assert_ptr_equal(a->tree, b->tree);
    assert_ptr_not_equal(a->tree, c->tree);
    assert_ptr_not_equal(a->tree, d->tree);
    /* Sharing changes nothing in the answers: b answers from its own pools. */
    struct policy_answer ans = ask_bits(b, "10.2.0.0", 24, QTYPE_A, 0);
    assert_string_equal(b->pools[ans.pool].name, "p");
    ans = ask_bits(d, "10.3.0.0", 24, QTYPE_A, 0);
    assert_string_equal(d->pools[ans.pool].name, "x");
    ans = ask_bits(a, "10.3.0.0", 24, QTYPE_A, 0);
    assert_string_equal(a->pools[ans.pool].name, "y");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_find, unload),
        cmocka_unit_test_teardown(test_weighted, unload),
        cmocka_unit_test_teardown(test_sticky_same_subnet, unload),
        cmocka_unit_test_teardown(test_sticky_distribution_and_down, unload),
        cmocka_unit_test_teardown(test_sticky_scope, unload),
        cmocka_unit_test_teardown(test_all_first_n, unload),
        cmocka_unit_test_teardown(test_failover, unload),
        cmocka_unit_test_teardown(test_geo_precedence, unload),
        cmocka_unit_test_teardown(test_nets, unload),
        cmocka_unit_test_teardown(test_all_down, unload),
        cmocka_unit_test_teardown(test_nearest, unload),
        cmocka_unit_test_teardown(test_scope, unload),
        cmocka_unit_test_teardown(test_cname, unload),
        cmocka_unit_test_teardown(test_cname_sticky_scope, unload),
        cmocka_unit_test_teardown(test_family_gap, unload),
        cmocka_unit_test_teardown(test_no_geoip, unload),
        cmocka_unit_test_teardown(test_explain, unload),
        cmocka_unit_test_teardown(test_ttl_cap, unload),
        cmocka_unit_test_teardown(test_tree_sharing, unload),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
