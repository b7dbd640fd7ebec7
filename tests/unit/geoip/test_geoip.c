// SPDX-License-Identifier: MIT
/* GeoIP: geoip/sample.mmdb compiled into a network trie (every CSV row's location and the
 * merged prefix depth around it), IPv6 and the ::/96 aliases, geo_normalize, tries mapped to
 * answers and edited with geo_tree_set, distances, load errors, and the compiled trie checked
 * against libmaxminddb itself: always on the project's own databases (around every network
 * of the CSVs they are built from, and at random), and, when the shared test data is there
 * (../shared/geoip or /work/shared/geoip), on the MaxMind test files and a real-world country
 * file too (a note says when it is absent). */
#include <arpa/inet.h>
#include <limits.h>
#include <maxminddb.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "geoip/geoip.h"

static struct geo_db *sample;
static char shared_dir[PATH_MAX];

static void
source_path(char *out, size_t len, const char *rel)
{
    const char *src = getenv("MERIDIAN_SOURCE_DIR");
    snprintf(out, len, "%s/%s", src ? src : ".", rel);
}

static struct geo_db *
load_ok(const char *path, const struct geo_paths *paths)
{
    char err[GEO_ERR_MAX];
    struct geo_db *db = NULL;
    if (geo_db_load(path, paths, &db, err) != 0)
        fail_msg("load failed: %s", err);
    return db;
}

static int
setup(void **state)
{
    char path[PATH_MAX];
    (void)state;
    source_path(path, sizeof(path), "geoip/sample.mmdb");
    sample = load_ok(path, &geo_paths_geoip2);
    source_path(shared_dir, sizeof(shared_dir), "../shared/geoip");
    if (access(shared_dir, R_OK) != 0)
        snprintf(shared_dir, sizeof(shared_dir), "/work/shared/geoip");
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    geo_db_free(sample);
    return 0;
}

/* Parses an address and normalises it as a server does with a client address. */
static int
parse(const char *text, uint8_t addr[16], bool normalize)
{
    int family = 4, bits = 128;
    memset(addr, 0, 16);
    if (inet_pton(AF_INET, text, addr) != 1) {
        family = 6;
        if (inet_pton(AF_INET6, text, addr) != 1)
            fail_msg("bad address %s", text);
        if (normalize)
            geo_normalize(&family, addr, &bits);
    }
    return family;
}

static uint32_t
lookup(const struct geo_tree *t, const char *text, int *depth)
{
    uint8_t addr[16];
    int family = parse(text, addr, true);
    return geo_tree_lookup(t, family, addr, depth);
}

static const struct geo_location *
locate(const struct geo_db *db, const char *text, int *depth)
{
    uint32_t id = lookup(&db->tree, text, depth);
    assert_true(id < db->location_count);
    return &db->locations[id];
}

struct row_case {
    const char *addr, *country, *continent, *subdivision;
    double lat, lon; /* 0, 0: no coordinates */
    int depth;
};

/* One address per CSV row (and the gaps between them); depth is the merged network. */
static const struct row_case sample_cases[] = {
    {"127.0.0.1", "US", "NA", "VA", 39.0438, -77.4874, 24},
    {"127.0.0.255", "US", "NA", "VA", 39.0438, -77.4874, 24},
    {"127.0.1.1", "DE", "EU", "HE", 50.1109, 8.6821, 24},
    {"127.0.2.1", "US", "NA", "CA", 37.3382, -121.8863, 24},
    {"127.0.3.1", "US", "NA", "NY", 40.7128, -74.0060, 24},
    {"127.0.4.1", "JP", "AS", "13", 35.6895, 139.6917, 24},
    {"127.0.5.1", "BR", "SA", "SP", -23.5505, -46.6333, 24},
    {"127.0.6.1", "AU", "OC", "NSW", -33.8688, 151.2093, 24},
    {"127.0.7.1", "ZA", "AF", "GP", -26.2041, 28.0473, 24},
    {"127.0.8.1", "FR", "EU", "IDF", 48.8566, 2.3522, 24},
    {"127.0.9.1", "GB", "EU", "ENG", 51.5074, -0.1278, 24},   /* two /25s merged */
    {"127.0.9.200", "GB", "EU", "ENG", 51.5074, -0.1278, 24}, /* two /25s merged */
    {"127.0.10.1", "IT", "EU", "25", 45.4642, 9.19, 23},      /* two /24s merged */
    {"127.0.11.77", "IT", "EU", "25", 45.4642, 9.19, 23},
    {"127.0.12.1", "SG", "AS", "", 1.3521, 103.8198, 22}, /* /23+/24+/25+/25 merged */
    {"127.0.15.200", "SG", "AS", "", 1.3521, 103.8198, 22},
    {"127.0.16.1", "AQ", "AN", "", -77.846, 166.676, 24},
    {"127.0.17.1", "", "EU", "", 0, 0, 24},   /* continent only */
    {"127.0.18.1", "CA", "NA", "", 0, 0, 24}, /* continent derived from the country */
    {"127.0.19.1", "MX", "NA", "", 0, 0, 24},
    {"127.1.2.3", "IN", "AS", "MH", 19.076, 72.8777, 16},
    {"0.0.0.1", "US", "NA", "VA", 39.0438, -77.4874, 32}, /* the slot of ::1 */
    {"10.0.0.1", "GB", "EU", "ENG", 51.5074, -0.1278, 16},
    {"10.1.0.1", "US", "NA", "VA", 39.0438, -77.4874, 23}, /* 10.1.0.0/23 */
    {"10.1.2.1", "US", "NA", "NY", 40.7128, -74.0060, 24}, /* nested /24 */
    {"10.1.3.1", "US", "NA", "VA", 39.0438, -77.4874, 24},
    {"10.1.5.1", "US", "NA", "VA", 39.0438, -77.4874, 22},
    {"10.1.128.1", "US", "NA", "VA", 39.0438, -77.4874, 17},
    {"10.2.0.1", "DE", "EU", "HE", 50.1109, 8.6821, 16},
    {"10.3.255.1", "JP", "AS", "13", 35.6895, 139.6917, 16},
    {"10.4.0.1", "BR", "SA", "SP", -23.5505, -46.6333, 15},
    {"10.5.255.255", "BR", "SA", "SP", -23.5505, -46.6333, 15},
    {"10.6.0.1", "AU", "OC", "NSW", -33.8688, 151.2093, 16},
    {"10.7.0.1", "ZA", "AF", "GP", -26.2041, 28.0473, 16},
    {"10.8.0.1", "FR", "EU", "IDF", 48.8566, 2.3522, 15}, /* two /16s merged */
    {"10.9.9.9", "FR", "EU", "IDF", 48.8566, 2.3522, 15},
    {"10.10.0.1", "US", "NA", "CA", 37.3382, -121.8863, 16},
    {"10.11.0.1", "US", "NA", "NY", 40.7128, -74.0060, 16},
    {"192.0.2.1", "GB", "EU", "ENG", 51.5074, -0.1278, 24},
    {"198.51.100.1", "CA", "NA", "ON", 43.6532, -79.3832, 25},
    {"198.51.100.129", "SG", "AS", "", 1.3521, 103.8198, 25},
    {"203.0.113.1", "IN", "AS", "MH", 19.076, 72.8777, 25},
    {"203.0.113.129", "NZ", "OC", "AUK", -36.8485, 174.7633, 26},
    {"203.0.113.193", "IN", "AS", "MH", 19.076, 72.8777, 26},
    {"2001:db8::1", "NL", "EU", "NH", 52.3676, 4.9041, 48},
    {"2001:db8:abcd::1", "NL", "EU", "NH", 52.3676, 4.9041, 33},
    {"2001:db8:7::1", "NL", "EU", "NH", 52.3676, 4.9041, 48},
    {"2001:db8:12::1", "NL", "EU", "NH", 52.3676, 4.9041, 47},
    {"2001:db8:1::1", "US", "NA", "VA", 39.0438, -77.4874, 56},
    {"2001:db8:1:100::1", "US", "NA", "NY", 40.7128, -74.0060, 56}, /* nested /56 */
    {"2001:db8:1:200::1", "US", "NA", "VA", 39.0438, -77.4874, 55},
    {"2001:db8:1:8000::1", "US", "NA", "VA", 39.0438, -77.4874, 49},
    {"2001:db8:2::1", "DE", "EU", "HE", 50.1109, 8.6821, 48},
    {"2001:db8:3::1", "JP", "AS", "13", 35.6895, 139.6917, 48},
    {"2001:db8:4::1", "BR", "SA", "SP", -23.5505, -46.6333, 48},
    {"2001:db8:5::1", "AU", "OC", "NSW", -33.8688, 151.2093, 48},
    {"2001:db8:6::1", "ZA", "AF", "GP", -26.2041, 28.0473, 48},
    {"2001:db8:10::1", "FR", "EU", "IDF", 48.8566, 2.3522, 47}, /* two /48s merged */
    {"2001:db8:11:ffff::1", "FR", "EU", "IDF", 48.8566, 2.3522, 47},
    {"::1", "US", "NA", "VA", 39.0438, -77.4874, 128},
    /* Aliases, normalised to IPv4 before the lookup. */
    {"::ffff:127.0.4.9", "JP", "AS", "13", 35.6895, 139.6917, 24},
    {"2002:7f00:0501::", "BR", "SA", "SP", -23.5505, -46.6333, 24},
    {"::10.2.3.4", "DE", "EU", "HE", 50.1109, 8.6821, 16},
    /* Unknown: location 0, depth of the widest unknown network around it. */
    {"127.0.20.1", "", "", "", 0, 0, 22},
    {"127.0.24.1", "", "", "", 0, 0, 21},
    {"127.0.200.1", "", "", "", 0, 0, 17},
    {"127.200.0.1", "", "", "", 0, 0, 9},
    {"126.1.1.1", "", "", "", 0, 0, 8},
    {"8.8.8.8", "", "", "", 0, 0, 7},
    {"10.12.0.1", "", "", "", 0, 0, 14},
    {"10.99.0.1", "", "", "", 0, 0, 10},
    {"192.0.3.1", "", "", "", 0, 0, 24},
    {"2001:db9::1", "", "", "", 0, 0, 32},
    {"::", "", "", "", 0, 0, 128},
};

static void
check_case(const struct geo_db *db, const struct row_case *c)
{
    int depth = -1;
    const struct geo_location *loc = locate(db, c->addr, &depth);
    bool coords = c->lat != 0 || c->lon != 0;

    if (strcmp(loc->country, c->country) || strcmp(loc->continent, c->continent) ||
        strcmp(loc->subdivision, c->subdivision) || loc->has_coords != coords || depth != c->depth)
        fail_msg("%s: got %s/%s/%s coords=%d depth %d, want %s/%s/%s coords=%d depth %d", c->addr,
                 loc->country, loc->continent, loc->subdivision, loc->has_coords, depth, c->country,
                 c->continent, c->subdivision, coords, c->depth);
    if (coords) {
        assert_float_equal(loc->latitude, c->lat, 1e-9);
        assert_float_equal(loc->longitude, c->lon, 1e-9);
    }
    if (!c->country[0] && !c->continent[0])
        assert_int_equal(lookup(&db->tree, c->addr, NULL), GEO_LOCATION_UNKNOWN);
}

static void
test_sample_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(sample_cases) / sizeof(sample_cases[0]); i++)
        check_case(sample, &sample_cases[i]);
}

static void
test_sample_structure(void **state)
{
    uint8_t addr[16];
    int depth;
    (void)state;
    assert_string_equal(sample->database_type, "GeoIP2-City");
    assert_int_equal(sample->build_epoch, 1735689600);
    /* 20 distinct locations in the CSV (equal rows share an id) plus "unknown". */
    assert_int_equal(sample->location_count, 21);
    assert_int_equal(lookup(&sample->tree, "10.0.0.1", NULL),
                     lookup(&sample->tree, "192.0.2.1", NULL));
    assert_int_equal(lookup(&sample->tree, "127.0.9.1", NULL),
                     lookup(&sample->tree, "10.0.0.1", NULL));
    assert_true(sample->tree.node_count < 400);
    /* Without normalisation the IPv6 aliases of IPv4 are unknown, not a second copy. */
    parse("::ffff:127.0.0.1", addr, false);
    assert_int_equal(geo_tree_lookup(&sample->tree, 6, addr, &depth), 0);
    assert_true(depth <= 96);
    parse("2002:7f00:1::", addr, false);
    assert_int_equal(geo_tree_lookup(&sample->tree, 6, addr, &depth), 0);
    assert_true(depth <= 16);
    printf("sample.mmdb: %u nodes, %u locations\n", sample->tree.node_count,
           sample->location_count);
}

static void
expect_norm(const char *text, int bits, int want_family, const char *want, int want_bits)
{
    uint8_t addr[16], expect[16] = {0};
    int family = parse(text, addr, false);
    geo_normalize(&family, addr, &bits);
    assert_int_equal(family, want_family);
    assert_int_equal(bits, want_bits);
    assert_int_equal(inet_pton(want_family == 4 ? AF_INET : AF_INET6, want, expect), 1);
    assert_memory_equal(addr, expect, want_family == 4 ? 4 : 16);
}

static void
test_normalize(void **state)
{
    uint8_t addr[16];
    int family;
    (void)state;
    expect_norm("::ffff:192.0.2.33", 128, 4, "192.0.2.33", 32);
    expect_norm("::ffff:192.0.2.0", 120, 4, "192.0.2.0", 24);
    expect_norm("::ffff:0.0.0.0", 96, 6, "::ffff:0.0.0.0", 96);
    expect_norm("::10.1.2.3", 128, 4, "10.1.2.3", 32);
    expect_norm("::10.1.0.0", 112, 4, "10.1.0.0", 16);
    expect_norm("::", 128, 6, "::", 128);
    expect_norm("::1", 128, 6, "::1", 128);
    expect_norm("2002:c000:0221::", 48, 4, "192.0.2.33", 32);
    expect_norm("2002:c000:0200::", 40, 4, "192.0.2.0", 24);
    expect_norm("2002:c000:0221:1::", 64, 4, "192.0.2.33", 32);
    expect_norm("2002::", 16, 6, "2002::", 16);
    expect_norm("2001:db8::1", 128, 6, "2001:db8::1", 128);
    expect_norm("192.0.2.1", 24, 4, "192.0.2.1", 24);
    family = parse("::ffff:10.0.0.1", addr, false); /* bits may be NULL: a full address */
    geo_normalize(&family, addr, NULL);
    assert_int_equal(family, 4);
    assert_int_equal(addr[0], 10);
}

/* A trie of answers: the location's country index among `countries`, else 0. */
static void
map_countries(const struct geo_db *db, const char *const *countries, struct geo_tree *out)
{
    uint32_t *map = calloc(db->location_count, sizeof(uint32_t));
    for (uint32_t i = 0; i < db->location_count; i++)
        for (uint32_t j = 0; countries[j]; j++)
            if (strcmp(db->locations[i].country, countries[j]) == 0)
                map[i] = j + 1;
    assert_int_equal(geo_tree_map(&db->tree, map, db->location_count, 0, out), 0);
    free(map);
}

static void
expect_answer(const struct geo_tree *t, const char *addr, uint32_t value, int depth)
{
    int got_depth = -1;
    uint32_t got = lookup(t, addr, &got_depth);
    if (got != value || got_depth != depth)
        fail_msg("%s: got %u depth %d, want %u depth %d", addr, got, got_depth, value, depth);
}

static void
test_map(void **state)
{
    static const char *const by_country[] = {"US", "DE", "JP", "FR", "GB", NULL};
    static const char *const far_away[] = {"JP", "BR", "AU", "ZA", NULL};
    struct geo_tree t;
    uint32_t one = 1, bad = GEO_TREE_LEAF, before, *map;
    uint8_t net[16];
    (void)state;

    map_countries(sample, by_country, &t);
    expect_answer(&t, "127.0.2.1", 1, 23); /* US-CA + US-NY */
    expect_answer(&t, "10.1.2.1", 1, 16);  /* the nested NY /24 is US too */
    expect_answer(&t, "10.10.0.1", 1, 15); /* CA + NY */
    expect_answer(&t, "2001:db8:1:100::1", 1, 48);
    expect_answer(&t, "127.0.1.1", 2, 24);
    expect_answer(&t, "127.0.9.1", 5, 24);
    expect_answer(&t, "10.99.0.1", 0, 10);
    assert_true(t.node_count < sample->tree.node_count);
    geo_tree_fini(&t);

    /* Four continents to one answer (7), the rest known to 1: the four /24s become one
     * 127.0.4.0/22 leaf, and so do the four /24s before them. */
    map = calloc(sample->location_count, sizeof(uint32_t));
    for (uint32_t i = 1; i < sample->location_count; i++) {
        const char *c = sample->locations[i].country;
        map[i] = 1;
        for (int j = 0; far_away[j]; j++)
            if (strcmp(c, far_away[j]) == 0)
                map[i] = 7;
    }
    assert_int_equal(geo_tree_map(&sample->tree, map, sample->location_count, 0, &t), 0);
    free(map);
    expect_answer(&t, "127.0.4.1", 7, 22);
    expect_answer(&t, "127.0.7.255", 7, 22);
    expect_answer(&t, "127.0.3.1", 1, 22); /* 127.0.0.0/22 is all "1" now */

    /* geo_tree_set: a nets override inside the merged leaf, then back again. */
    before = t.node_count;
    parse("127.0.5.0", net, false);
    geo_tree_set(&t, 4, net, 24, 9);
    geo_tree_merge(&t);
    expect_answer(&t, "127.0.5.1", 9, 24);
    expect_answer(&t, "127.0.4.1", 7, 24);
    expect_answer(&t, "127.0.6.1", 7, 23);
    geo_tree_set(&t, 4, net, 24, 7);
    geo_tree_merge(&t);
    expect_answer(&t, "127.0.4.1", 7, 22);
    assert_int_equal(t.node_count, before);
    geo_tree_fini(&t);

    /* Values past map_len take the fallback; values with the leaf bit are refused. */
    assert_int_equal(geo_tree_map(&sample->tree, &one, 1, 3, &t), 0);
    expect_answer(&t, "127.0.1.1", 3, 20); /* 127.0.0.0/20 is all known: all 3 */
    expect_answer(&t, "8.8.8.8", 1, 7);
    geo_tree_fini(&t);
    assert_int_equal(geo_tree_map(&sample->tree, &one, 1, bad, &t), -1);
    geo_tree_fini(&t);
    assert_int_equal(geo_tree_map(&sample->tree, &bad, 1, 0, &t), -1);
    geo_tree_fini(&t);
}

static void
test_set_constant(void **state)
{
    struct geo_tree t;
    uint8_t a[16];
    (void)state;
    geo_tree_init_constant(&t, 5);
    expect_answer(&t, "192.0.2.1", 5, 0);
    expect_answer(&t, "2001:db8::1", 5, 0);
    parse("10.0.0.0", a, false);
    geo_tree_set(&t, 4, a, 8, 1);
    parse("10.1.0.0", a, false);
    geo_tree_set(&t, 4, a, 16, 2);
    parse("2001:db8::", a, false);
    geo_tree_set(&t, 6, a, 32, 4);
    geo_tree_merge(&t);
    expect_answer(&t, "10.1.1.1", 2, 16);
    expect_answer(&t, "10.0.0.1", 1, 16);
    expect_answer(&t, "10.2.0.1", 1, 15);
    expect_answer(&t, "10.200.0.1", 1, 9);
    expect_answer(&t, "11.0.0.1", 5, 8);
    expect_answer(&t, "2001:db8:ffff::1", 4, 32);
    expect_answer(&t, "2001:db9::1", 5, 32);
    assert_int_equal(t.node_count, 8 + 8 + 32); /* one node per bit of the three paths */

    /* Setting the parent's value again makes the override redundant: merged away. */
    parse("10.1.0.0", a, false);
    geo_tree_set(&t, 4, a, 16, 1);
    geo_tree_merge(&t);
    expect_answer(&t, "10.1.1.1", 1, 8);
    /* A /0 replaces a whole family. */
    geo_tree_set(&t, 6, a, 0, 3);
    geo_tree_merge(&t);
    expect_answer(&t, "2001:db8::1", 3, 0);
    assert_int_equal(t.node_count, 8);
    geo_tree_fini(&t);
}

static void
test_distance(void **state)
{
    double fra_nyc = geo_distance_km(50.1109, 8.6821, 40.7128, -74.0060);
    (void)state;
    printf("Frankfurt-New York: %.0f km\n", fra_nyc);
    assert_true(fra_nyc > 6150 && fra_nyc < 6250);
    assert_true(geo_distance_km(1.0, 2.0, 1.0, 2.0) < 1e-9);
    assert_float_equal(geo_distance_km(0, 0, 0, 180), 20015.1, 1.0);
    assert_float_equal(geo_distance_km(51.5074, -0.1278, -33.8688, 151.2093),
                       geo_distance_km(-33.8688, 151.2093, 51.5074, -0.1278), 1e-9);
}

static void
test_paths(void **state)
{
    static const char *const country_only[] = {"country", "iso_code", NULL};
    const struct geo_paths p = {.country = country_only};
    struct geo_db *db;
    int depth;
    (void)state;
    /* Continents from the table alone; continent-only records become unknown. */
    db = load_ok(sample->path, &p);
    assert_string_equal(locate(db, "127.0.1.1", &depth)->continent, "EU");
    assert_string_equal(locate(db, "127.0.16.1", &depth)->continent, "AN");
    assert_false(locate(db, "127.0.1.1", &depth)->has_coords);
    assert_int_equal(lookup(&db->tree, "127.0.17.1", NULL), GEO_LOCATION_UNKNOWN);
    /* JP, BR, AU, ZA, FR, GB, IT, SG, AQ, CA, MX, IN, NZ, NL, US, DE: 16 + unknown. */
    assert_int_equal(db->location_count, 17);
    expect_answer(&db->tree, "127.0.2.1", lookup(&db->tree, "127.0.0.1", NULL), 23); /* CA+NY */
    geo_db_free(db);
}

static void cross_check(const struct geo_db *db, int family, int n);

static void
test_ipv4_only(void **state)
{
    char path[PATH_MAX];
    struct geo_db *db;
    int depth;
    (void)state;
    source_path(path, sizeof(path), "tests/unit/geoip/ipv4-only.mmdb");
    db = load_ok(path, &geo_paths_geoip2);
    assert_string_equal(locate(db, "192.0.2.200", &depth)->subdivision, "HE");
    assert_int_equal(depth, 24);
    assert_string_equal(locate(db, "198.51.100.7", &depth)->continent, "AS");
    assert_int_equal(depth, 24);
    assert_string_equal(locate(db, "0.0.0.1", &depth)->country, "ZA");
    assert_int_equal(depth, 32);
    /* No IPv6 in the file: the IPv6 root is one unknown leaf. */
    expect_answer(&db->tree, "2001:db8::1", GEO_LOCATION_UNKNOWN, 0);
    expect_answer(&db->tree, "::1", GEO_LOCATION_UNKNOWN, 0);
    expect_answer(&db->tree, "::ffff:192.0.2.1", lookup(&db->tree, "192.0.2.1", NULL), 24);
    cross_check(db, 4, 5000);
    geo_db_free(db);
}

/* Copies sample.mmdb with the 24-bit record at `byte` set to `record`. */
static void
corrupt_copy(const char *out, long byte, uint32_t record)
{
    FILE *in = fopen(sample->path, "rb"), *f = fopen(out, "wb");
    char buf[65536];
    size_t n;
    assert_non_null(in);
    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf), in);
    buf[byte] = (char)(record >> 16);
    buf[byte + 1] = (char)(record >> 8);
    buf[byte + 2] = (char)record;
    assert_int_equal(fwrite(buf, 1, n, f), n);
    fclose(in);
    fclose(f);
}

static void
expect_load_error(const char *path, const char *word)
{
    char err[GEO_ERR_MAX], prefix[PATH_MAX + 2];
    struct geo_db *db = (struct geo_db *)1;
    assert_int_equal(geo_db_load(path, &geo_paths_geoip2, &db, err), -1);
    assert_null(db);
    snprintf(prefix, sizeof(prefix), "%s: ", path);
    if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, word))
        fail_msg("got '%s', want prefix '%s' and '%s'", err, prefix, word);
}

static void
test_errors(void **state)
{
    char path[] = "/tmp/meridian-test-geoip-XXXXXX";
    int fd = mkstemp(path);
    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not an mmdb\n", 12), 12);
    close(fd);
    expect_load_error(path, "cannot open");
    expect_load_error("/nonexistent/geo.mmdb", "cannot open");
    /* Node 0's left record pointing at node 0: a loop down the zero path. */
    corrupt_copy(path, 0, 0);
    expect_load_error(path, "corrupt search tree");
    /* ... and pointing far past the data section. */
    corrupt_copy(path, 0, 0xffffff);
    expect_load_error(path, "corrupt search tree");
    unlink(path);
}

/* What libmaxminddb says about an address: whether a record covers it, the record's prefix
 * length in the family's bits, and the codes the server reads ("" where absent). */
struct mmdb_answer {
    bool found;
    int prefix;
    char country[3], continent[3], subdivision[8];
};

static void
mmdb_string(MMDB_lookup_result_s *r, char *out, size_t size, const char *const *path)
{
    MMDB_entry_data_s d;
    out[0] = '\0';
    if (MMDB_aget_value(&r->entry, &d, path) == MMDB_SUCCESS && d.has_data &&
        d.type == MMDB_DATA_TYPE_UTF8_STRING && d.data_size < size) {
        memcpy(out, d.utf8_string, d.data_size);
        out[d.data_size] = '\0';
    }
}

static struct mmdb_answer
mmdb_ask(MMDB_s *mmdb, int family, const uint8_t *addr)
{
    static const char *const country[] = {"country", "iso_code", NULL};
    static const char *const country_code[] = {"country_code", NULL};
    static const char *const continent[] = {"continent", "code", NULL};
    static const char *const subdivision[] = {"subdivisions", "0", "iso_code", NULL};
    struct mmdb_answer a = {0};
    struct sockaddr_storage ss = {0};
    int mmdb_err;
    if (family == 4) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        memcpy(&s4->sin_addr, addr, 4);
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        memcpy(&s6->sin6_addr, addr, 16);
    }
    MMDB_lookup_result_s r = MMDB_lookup_sockaddr(mmdb, (struct sockaddr *)&ss, &mmdb_err);
    assert_int_equal(mmdb_err, MMDB_SUCCESS);
    a.prefix = r.netmask - (family == 4 && mmdb->metadata.ip_version == 6 ? 96 : 0);
    a.found = r.found_entry;
    if (!a.found)
        return a;
    mmdb_string(&r, a.country, sizeof(a.country), country);
    if (!a.country[0]) /* flat `country_code` files, the loader's fallback key */
        mmdb_string(&r, a.country, sizeof(a.country), country_code);
    mmdb_string(&r, a.continent, sizeof(a.continent), continent);
    mmdb_string(&r, a.subdivision, sizeof(a.subdivision), subdivision);
    return a;
}

/* The compiled trie agrees with libmaxminddb at one address: same country and subdivision,
 * the same continent where the record has one (the loader derives it from the country
 * otherwise), unknown where no record covers the address, and a merged depth never longer
 * than the record's prefix. */
static void
check_address(const struct geo_db *db, MMDB_s *mmdb, int family, const uint8_t *addr)
{
    char text[INET6_ADDRSTRLEN];
    int depth;
    uint32_t id = geo_tree_lookup(&db->tree, family, addr, &depth);
    const struct geo_location *loc = &db->locations[id];
    struct mmdb_answer m = mmdb_ask(mmdb, family, addr);
    if (strcmp(loc->country, m.country) == 0 && strcmp(loc->subdivision, m.subdivision) == 0 &&
        (!m.continent[0] || strcmp(loc->continent, m.continent) == 0) &&
        (m.found || id == GEO_LOCATION_UNKNOWN) && (!m.found || depth <= m.prefix))
        return;
    inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, text, sizeof(text));
    fail_msg("%s: mmdb %s %s/%s/%s /%d, compiled %s/%s/%s /%d", text,
             m.found ? "found" : "not found", m.country, m.continent, m.subdivision, m.prefix,
             loc->country, loc->continent, loc->subdivision, depth);
}

static uint64_t
xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* The compiled trie agrees with libmaxminddb on `n` pseudo-random addresses. */
static void
cross_check(const struct geo_db *db, int family, int n)
{
    MMDB_s mmdb;
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    int checked = 0;
    assert_int_equal(MMDB_open(db->path, MMDB_MODE_MMAP, &mmdb), MMDB_SUCCESS);
    for (int i = 0; i < n; i++) {
        uint8_t addr[16] = {0};
        for (int b = 0; b < 16; b++)
            addr[b] = (uint8_t)xorshift(&x);
        if (family == 6) {
            addr[0] = 0x20 | (addr[0] & 0x1f); /* 2000::/3, the global unicast space */
            if ((addr[0] == 0x20 && (addr[1] == 0x02 || (addr[1] == 0x01 && !addr[2] && !addr[3]))))
                continue; /* 6to4 and Teredo: aliases of IPv4, compiled as unknown */
        }
        check_address(db, &mmdb, family, addr);
        checked++;
    }
    MMDB_close(&mmdb);
    assert_true(checked > n / 2);
}

/* Adds `delta` (+1 or -1) to a big-endian address of `len` bytes; false on wrap-around. */
static bool
addr_step(uint8_t *addr, int len, int delta)
{
    for (int i = len - 1; i >= 0; i--) {
        int v = addr[i] + delta;
        addr[i] = (uint8_t)v;
        if (v >= 0 && v <= 255)
            return true;
    }
    return false;
}

/* The compiled trie agrees with libmaxminddb around every network of a CSV the database was
 * built from (geoip/make-sample-mmdb.pl's input): first and last address, the addresses just
 * outside, and `inside` pseudo-random ones within. Returns the number of networks. */
static int
cross_check_csv(const struct geo_db *db, const char *csv, int inside)
{
    MMDB_s mmdb;
    char line[512];
    uint64_t x = 0x2545f4914f6cdd1dULL;
    int networks = 0;
    FILE *fp = fopen(csv, "r");
    if (!fp)
        fail_msg("cannot open %s", csv);
    assert_int_equal(MMDB_open(db->path, MMDB_MODE_MMAP, &mmdb), MMDB_SUCCESS);
    while (fgets(line, sizeof(line), fp)) {
        uint8_t net[16] = {0}, a[16];
        char *slash = strchr(line, '/'), *comma = strchr(line, ',');
        if (line[0] == '#' || !slash || !comma || slash > comma)
            continue; /* comments, blank lines, the header */
        *slash = *comma = '\0';
        int family = strchr(line, ':') ? 6 : 4, len = family == 4 ? 4 : 16;
        int bits = atoi(slash + 1);
        if (inet_pton(family == 4 ? AF_INET : AF_INET6, line, net) != 1 || bits < 0 ||
            bits > 8 * len)
            fail_msg("%s: bad network %s/%s", csv, line, slash + 1);
        networks++;
        check_address(db, &mmdb, family, net); /* first */
        memcpy(a, net, 16);
        if (addr_step(a, len, -1))
            check_address(db, &mmdb, family, a); /* just before */
        for (int i = 0; i < len; i++) {          /* last: all host bits set */
            int host = 8 * (i + 1) - bits;
            a[i] = (uint8_t)(net[i] | (host >= 8 ? 0xff : host > 0 ? (1u << host) - 1 : 0));
        }
        check_address(db, &mmdb, family, a);
        if (addr_step(a, len, +1))
            check_address(db, &mmdb, family, a); /* just after */
        for (int k = 0; k < inside; k++) {
            for (int i = 0; i < len; i++) {
                int host = 8 * (i + 1) - bits;
                uint8_t mask = (uint8_t)(host >= 8 ? 0xff : host > 0 ? (1u << host) - 1 : 0);
                a[i] = (uint8_t)(net[i] | (xorshift(&x) & mask));
            }
            check_address(db, &mmdb, family, a);
        }
    }
    fclose(fp);
    MMDB_close(&mmdb);
    return networks;
}

/* The project's own databases against libmaxminddb, so that the cross-check runs in a
 * fresh clone: every network of the CSVs they are built from, and random addresses. */
static void
test_own_dbs_vs_libmaxminddb(void **state)
{
    char csv[PATH_MAX], path[PATH_MAX];
    struct geo_db *db;
    (void)state;
    source_path(csv, sizeof(csv), "geoip/sample.csv");
    assert_int_equal(cross_check_csv(sample, csv, 64), 50);
    cross_check(sample, 4, 20000);
    cross_check(sample, 6, 20000);

    source_path(path, sizeof(path), "tests/unit/geoip/ipv4-only.mmdb");
    db = load_ok(path, &geo_paths_geoip2);
    source_path(csv, sizeof(csv), "tests/unit/geoip/ipv4-only.csv");
    assert_int_equal(cross_check_csv(db, csv, 64), 4);
    geo_db_free(db);
}

static bool
shared_file(char *out, size_t len, const char *rel)
{
    if (snprintf(out, len, "%s/%s", shared_dir, rel) >= (int)len)
        return false;
    if (access(out, R_OK) == 0)
        return true;
    /* Optional extra data: not a skip of the test, which checks the project's own
     * databases against libmaxminddb (test_own_dbs_vs_libmaxminddb) in any clone. */
    printf("note: %s absent: this optional cross-check did not run\n", out);
    return false;
}

static void
test_maxmind_test_dbs(void **state)
{
    char path[PATH_MAX];
    struct geo_db *db;
    int depth;
    (void)state;
    if (!shared_file(path, sizeof(path), "maxmind-test/GeoIP2-City-Test.mmdb"))
        return;
    db = load_ok(path, &geo_paths_geoip2);
    const struct geo_location *gb = locate(db, "81.2.69.142", &depth);
    assert_string_equal(gb->country, "GB");
    assert_string_equal(gb->continent, "EU");
    assert_string_equal(gb->subdivision, "ENG");
    assert_true(gb->has_coords);
    assert_float_equal(gb->latitude, 51.5142, 1e-6);
    assert_true(locate(db, "::ffff:81.2.69.142", &depth) == gb);
    assert_string_equal(locate(db, "216.160.83.56", &depth)->subdivision, "WA");
    assert_string_equal(locate(db, "89.160.20.112", &depth)->country, "SE");
    assert_string_equal(locate(db, "2.3.3.1", &depth)->continent, "EU"); /* no country */
    assert_string_equal(locate(db, "2.3.3.1", &depth)->country, "");
    assert_int_equal(lookup(&db->tree, "214.1.1.1", NULL), 0); /* anycast trait only */
    assert_int_equal(lookup(&db->tree, "2001:480::1", NULL), 0);
    cross_check(db, 4, 20000);
    cross_check(db, 6, 20000);
    printf("GeoIP2-City-Test: %u nodes, %u locations\n", db->tree.node_count, db->location_count);
    geo_db_free(db);

    if (!shared_file(path, sizeof(path), "maxmind-test/GeoLite2-Country-Test.mmdb"))
        return;
    db = load_ok(path, &geo_paths_geoip2);
    assert_string_equal(locate(db, "81.2.69.142", &depth)->country, "GB");
    assert_string_equal(locate(db, "2001:218::1", &depth)->country, "JP");
    assert_string_equal(locate(db, "2001:218::1", &depth)->continent, "AS");
    assert_false(locate(db, "2001:218::1", &depth)->has_coords);
    cross_check(db, 6, 20000);
    geo_db_free(db);
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_real_db(void **state)
{
    char path[PATH_MAX];
    struct geo_db *db;
    const struct geo_location *loc;
    int depth;
    double t0;
    (void)state;
    if (!shared_file(path, sizeof(path), "real/geo-whois-asn-country.mmdb"))
        return;
    t0 = now_s();
    db = load_ok(path, &geo_paths_geoip2); /* flat `country_code`: the fallback key */
    printf("geo-whois-asn-country.mmdb: loaded in %.3f s, %u nodes, %u locations\n", now_s() - t0,
           db->tree.node_count, db->location_count);
    loc = locate(db, "8.8.8.8", &depth);
    assert_string_equal(loc->country, "US");
    assert_string_equal(loc->continent, "NA"); /* derived */
    assert_true(depth >= 8 && depth <= 15);
    assert_string_equal(locate(db, "1.1.1.1", &depth)->country, "AU");
    assert_string_equal(locate(db, "1.1.1.1", &depth)->continent, "OC");
    assert_true(depth <= 24);
    loc = locate(db, "2001:4860:4860::8888", &depth);
    assert_string_equal(loc->country, "US");
    assert_true(depth <= 32);
    assert_string_equal(locate(db, "193.0.6.139", &depth)->continent, "EU");
    assert_string_equal(locate(db, "196.216.2.1", &depth)->continent, "AF");
    assert_string_equal(locate(db, "200.160.2.3", &depth)->continent, "SA");
    /* No alias in this file: normalisation is what makes these work. */
    assert_string_equal(locate(db, "::ffff:8.8.8.8", &depth)->country, "US");
    assert_string_equal(locate(db, "2002:808:808::1", &depth)->country, "US");
    assert_int_equal(lookup(&db->tree, "127.0.0.1", NULL), 0);
    assert_int_equal(lookup(&db->tree, "::1", NULL), 0);
    cross_check(db, 4, 200000);
    cross_check(db, 6, 200000);
    geo_db_free(db);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_rows),
        cmocka_unit_test(test_sample_structure),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_map),
        cmocka_unit_test(test_set_constant),
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_ipv4_only),
        cmocka_unit_test(test_own_dbs_vs_libmaxminddb),
        cmocka_unit_test(test_maxmind_test_dbs),
        cmocka_unit_test(test_real_db),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
