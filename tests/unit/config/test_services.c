// SPDX-License-Identifier: MIT
/* Unit tests for the traffic steering part of config_load(): listen entries with an ECS
 * setting, the geoip section and its lookup paths, services with pools, geo rules, nets
 * (inline and from a nets_file) and selection settings, and the exact "file:line: message"
 * of each error. Each test writes its files into a private mkdtemp directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include "test_tmpdir.h"

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"

static char tmpdir[] = "/tmp/meridian-test-services-XXXXXX";

static const char zones_tail[] = "zones:\n  - {origin: example.com, file: example.com.zone}\n";

/* Writes `text` to tmpdir/name and returns the path (static storage, one at a time). */
static const char *
write_file(const char *name, const char *text)
{
    static char path[PATH_MAX];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    return path;
}

static struct config *
load_ok(const char *path)
{
    struct config *cfg = NULL;
    char err[CONFIG_ERR_MAX];
    int rc = config_load(path, &cfg, err);
    if (rc != 0)
        fail_msg("config_load(%s): %s", path, err);
    assert_non_null(cfg);
    return cfg;
}

/* Loads `yaml` (with a zones section appended, so the file is otherwise valid) and expects
 * the error `want` exactly. */
static void
expect_message(const char *yaml, const char *want)
{
    struct config *cfg = (struct config *)1;
    char err[CONFIG_ERR_MAX], text[4096];
    const char *path;

    snprintf(text, sizeof(text), "%s%s", yaml, zones_tail);
    path = write_file("bad.yaml", text);
    assert_int_equal(config_load(path, &cfg, err), -1);
    assert_null(cfg);
    assert_string_equal(err, want);
}

/* The same with "<config path>:" in front of `where`. */
static void
expect_error(const char *yaml, const char *where)
{
    char want[CONFIG_ERR_MAX + PATH_MAX];
    if (snprintf(want, sizeof(want), "%s/bad.yaml:%s", tmpdir, where) >= (int)sizeof(want))
        fail_msg("message too long");
    expect_message(yaml, want);
}

static void
assert_list(const struct config_pool_list *l, size_t count, const uint32_t *pools)
{
    assert_int_equal(l->count, count);
    for (size_t i = 0; i < count; i++)
        assert_int_equal(l->pools[i], pools[i]);
}

#define ASSERT_LIST(l, ...)                                                                        \
    do {                                                                                           \
        static const uint32_t want_[] = {__VA_ARGS__};                                             \
        assert_list((l), sizeof(want_) / sizeof(want_[0]), want_);                                 \
    } while (0)

static void
assert_path(char **path, const char *const *want)
{
    size_t i = 0;
    assert_non_null(path);
    for (; want[i]; i++) {
        assert_non_null(path[i]);
        assert_string_equal(path[i], want[i]);
    }
    assert_null(path[i]);
}

static void
assert_prefix(const struct config_prefix *p, int family, int len, const uint8_t *addr)
{
    assert_int_equal(p->family, family);
    assert_int_equal(p->prefix_len, len);
    assert_memory_equal(p->addr, addr, 16);
}

static const char *const default_country[] = {"country", "iso_code", NULL};
static const char *const default_continent[] = {"continent", "code", NULL};
static const char *const default_subdivision[] = {"subdivisions", "0", "iso_code", NULL};
static const char *const default_latitude[] = {"location", "latitude", NULL};
static const char *const default_longitude[] = {"location", "longitude", NULL};

static void
test_full(void **state)
{
    static const uint8_t a_192_0_2_10[16] = {192, 0, 2, 10};
    static const uint8_t a_2001_db8_10[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x10};
    static const uint8_t a_192_0_2_11[16] = {192, 0, 2, 11};
    static const uint8_t a_198_51_100_10[16] = {198, 51, 100, 10};
    static const uint8_t a_203_0_113_5[16] = {203, 0, 113, 5};
    static const uint8_t n_10[16] = {10};
    static const uint8_t n_2001_db8_ff[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0xff};
    static const uint8_t n_192_0_2[16] = {192, 0, 2};
    static const uint8_t n_2001_db8[16] = {0x20, 0x01, 0x0d, 0xb8};
    static const uint8_t n_zero[16] = {0};
    char want[PATH_MAX], nets_path[PATH_MAX];
    const char *path;
    struct config *cfg;
    const struct config_service *s;
    const struct config_pool *p;

    (void)state;
    snprintf(nets_path, sizeof(nets_path), "%s",
             write_file("nets.txt", "# overrides\n"
                                    "\n"
                                    "192.0.2.0/24 us,eu   # comment\n"
                                    "  2001:db8::/32\tap , eu\r\n"
                                    "0.0.0.0/0 ap\n"));
    path =
        write_file("full.yaml", "server:\n"
                                "  listen:\n"
                                "    - \"127.0.0.1:5353\"\n"
                                "    - { address: \"[::1]:5353\", ecs: ignore }\n"
                                "geoip:\n"
                                "  database: ../geoip/sample.mmdb\n"
                                "zones:\n"
                                "  - { origin: example.com, file: example.com.zone }\n"
                                "services:\n"
                                "  www.example.com:\n"
                                "    ttl: 60\n"
                                "    type: address\n"
                                "    pools:\n"
                                "      eu:\n"
                                "        members:\n"
                                "          - { address: 192.0.2.10, weight: 3, check: web-http }\n"
                                "          - { address: \"2001:db8::10\" }\n"
                                "          - { address: 192.0.2.11, down: true }\n"
                                "        coordinates: [50.11, 8.68]\n"
                                "      us:\n"
                                "        members: [ { address: 198.51.100.10 } ]\n"
                                "        coordinates: [37.77, -122.42]\n"
                                "      ap:\n"
                                "        members: [ { address: 203.0.113.5, weight: 1000000 } ]\n"
                                "        coordinates: [-33.87, 151.21]\n"
                                "    geo:\n"
                                "      continent: { EU: [eu, us], NA: [us, eu] }\n"
                                "      country: { de: [eu], US: [us] }\n"
                                "      subdivision: { us-ca: [us, eu], AU-NSW: [ap] }\n"
                                "      default: [us, eu]\n"
                                "    nets:\n"
                                "      \"10.0.0.0/8\": [eu]\n"
                                "      \"2001:db8:ff::/48\": [us, ap]\n"
                                "    nets_file: nets.txt\n"
                                "    order: nearest\n"
                                "    nearest_n: 2\n"
                                "    select: first_n\n"
                                "    first_n: 3\n"
                                "    sticky_prefix: { v4: 20, v6: 48 }\n"
                                "    all_down: \"pool:ap\"\n"
                                "  api.example.com.:\n"
                                "    pools:\n"
                                "      main:\n"
                                "        members: [ { address: 192.0.2.99 } ]\n"
                                "    select: sticky\n"
                                "    all_down: nodata\n"
                                "checks:\n"
                                "  web-http: { type: http }\n");
    cfg = load_ok(path);

    assert_int_equal(cfg->listen_count, 2);
    assert_string_equal(cfg->listen[0].text, "127.0.0.1:5353");
    assert_false(cfg->listen[0].ecs_ignore);
    assert_string_equal(cfg->listen[1].text, "[::1]:5353");
    assert_true(cfg->listen[1].ecs_ignore);

    snprintf(want, sizeof(want), "%s/../geoip/sample.mmdb", tmpdir);
    assert_string_equal(cfg->geoip_database, want);
    assert_int_equal(cfg->geoip_line, 6);
    assert_path(cfg->geoip_country_path, default_country);
    assert_path(cfg->geoip_continent_path, default_continent);
    assert_path(cfg->geoip_subdivision_path, default_subdivision);
    assert_path(cfg->geoip_latitude_path, default_latitude);
    assert_path(cfg->geoip_longitude_path, default_longitude);

    assert_int_equal(cfg->service_count, 2);
    s = &cfg->services[0];
    assert_string_equal(s->name, "www.example.com.");
    assert_int_equal(s->line, 10);
    assert_int_equal(s->ttl_s, 60);
    assert_false(s->cname);

    /* Pools in declared order, members likewise. */
    assert_int_equal(s->pool_count, 3);
    p = &s->pools[0];
    assert_string_equal(p->name, "eu");
    assert_int_equal(p->line, 14);
    assert_true(p->has_coords);
    assert_true(p->latitude == 50.11);
    assert_true(p->longitude == 8.68);
    assert_int_equal(p->member_count, 3);
    assert_prefix(&p->members[0].address, 4, 32, a_192_0_2_10);
    assert_null(p->members[0].target);
    assert_int_equal(p->members[0].weight, 3);
    assert_string_equal(p->members[0].check, "web-http");
    assert_false(p->members[0].down);
    assert_int_equal(p->members[0].line, 16);
    assert_prefix(&p->members[1].address, 6, 128, a_2001_db8_10);
    assert_int_equal(p->members[1].weight, 1);
    assert_null(p->members[1].check);
    assert_false(p->members[1].down);
    assert_int_equal(p->members[1].line, 17);
    assert_prefix(&p->members[2].address, 4, 32, a_192_0_2_11);
    assert_true(p->members[2].down);
    p = &s->pools[1];
    assert_string_equal(p->name, "us");
    assert_int_equal(p->line, 20);
    assert_true(p->latitude == 37.77);
    assert_true(p->longitude == -122.42);
    assert_int_equal(p->member_count, 1);
    assert_prefix(&p->members[0].address, 4, 32, a_198_51_100_10);
    assert_int_equal(p->members[0].line, 21);
    p = &s->pools[2];
    assert_string_equal(p->name, "ap");
    assert_true(p->latitude == -33.87);
    assert_true(p->longitude == 151.21);
    assert_prefix(&p->members[0].address, 4, 32, a_203_0_113_5);
    assert_int_equal(p->members[0].weight, 1000000);

    /* Geo rules: keys uppercased, pool names as indices (eu 0, us 1, ap 2). */
    assert_int_equal(s->continent_count, 2);
    assert_string_equal(s->continents[0].key, "EU");
    ASSERT_LIST(&s->continents[0].order, 0, 1);
    assert_int_equal(s->continents[0].line, 27);
    assert_string_equal(s->continents[1].key, "NA");
    ASSERT_LIST(&s->continents[1].order, 1, 0);
    assert_int_equal(s->country_count, 2);
    assert_string_equal(s->countries[0].key, "DE");
    ASSERT_LIST(&s->countries[0].order, 0);
    assert_int_equal(s->countries[0].line, 28);
    assert_string_equal(s->countries[1].key, "US");
    ASSERT_LIST(&s->countries[1].order, 1);
    assert_int_equal(s->subdivision_count, 2);
    assert_string_equal(s->subdivisions[0].key, "US-CA");
    ASSERT_LIST(&s->subdivisions[0].order, 1, 0);
    assert_string_equal(s->subdivisions[1].key, "AU-NSW");
    ASSERT_LIST(&s->subdivisions[1].order, 2);
    assert_int_equal(s->subdivisions[1].line, 29);
    ASSERT_LIST(&s->default_order, 1, 0);

    /* Inline nets first, then the file's lines in order. */
    assert_int_equal(s->net_count, 5);
    assert_prefix(&s->nets[0].net, 4, 8, n_10);
    ASSERT_LIST(&s->nets[0].order, 0);
    assert_string_equal(s->nets[0].file, path);
    assert_ptr_equal(s->nets[0].file, cfg->path);
    assert_int_equal(s->nets[0].line, 32);
    assert_prefix(&s->nets[1].net, 6, 48, n_2001_db8_ff);
    ASSERT_LIST(&s->nets[1].order, 1, 2);
    assert_int_equal(s->nets[1].line, 33);
    assert_string_equal(s->nets_file, nets_path);
    assert_prefix(&s->nets[2].net, 4, 24, n_192_0_2);
    ASSERT_LIST(&s->nets[2].order, 1, 0);
    assert_ptr_equal(s->nets[2].file, s->nets_file);
    assert_int_equal(s->nets[2].line, 3);
    assert_prefix(&s->nets[3].net, 6, 32, n_2001_db8);
    ASSERT_LIST(&s->nets[3].order, 2, 0);
    assert_ptr_equal(s->nets[3].file, s->nets_file);
    assert_int_equal(s->nets[3].line, 4);
    assert_prefix(&s->nets[4].net, 4, 0, n_zero);
    ASSERT_LIST(&s->nets[4].order, 2);
    assert_int_equal(s->nets[4].line, 5);

    assert_true(s->nearest);
    assert_int_equal(s->nearest_n, 2);
    assert_int_equal(s->select, CONFIG_SELECT_FIRST_N);
    assert_int_equal(s->first_n, 3);
    assert_int_equal(s->sticky_prefix_v4, 20);
    assert_int_equal(s->sticky_prefix_v6, 48);
    assert_int_equal(s->all_down, CONFIG_ALL_DOWN_POOL);
    assert_int_equal(s->all_down_pool, 2);

    s = &cfg->services[1];
    assert_string_equal(s->name, "api.example.com.");
    assert_int_equal(s->line, 41);
    assert_int_equal(s->select, CONFIG_SELECT_STICKY);
    assert_int_equal(s->all_down, CONFIG_ALL_DOWN_NODATA);
    assert_int_equal(s->net_count, 0);
    assert_null(s->nets_file);
    config_free(cfg);
}

static void
test_defaults(void **state)
{
    static const uint8_t a_192_0_2_1[16] = {192, 0, 2, 1};
    struct config *cfg;
    const struct config_service *s;

    (void)state;
    /* Without a geoip section: no database, default lookup paths all the same. */
    cfg = load_ok(write_file("min.yaml", "services:\n"
                                         "  www.example.com:\n"
                                         "    pools:\n"
                                         "      b: { members: [ {address: 192.0.2.1} ] }\n"
                                         "      a: { members: [ {address: 192.0.2.2} ] }\n"
                                         "      c: { members: [ {address: 192.0.2.3} ] }\n"
                                         "zones:\n"
                                         "  - {origin: example.com, file: example.com.zone}\n"));
    assert_null(cfg->geoip_database);
    assert_path(cfg->geoip_country_path, default_country);
    assert_path(cfg->geoip_continent_path, default_continent);
    assert_path(cfg->geoip_subdivision_path, default_subdivision);
    assert_path(cfg->geoip_latitude_path, default_latitude);
    assert_path(cfg->geoip_longitude_path, default_longitude);
    assert_int_equal(cfg->service_count, 1);
    s = &cfg->services[0];
    assert_string_equal(s->name, "www.example.com.");
    assert_int_equal(s->ttl_s, 30);
    assert_false(s->cname);
    assert_int_equal(s->pool_count, 3);
    assert_string_equal(s->pools[0].name, "b");
    assert_string_equal(s->pools[1].name, "a");
    assert_string_equal(s->pools[2].name, "c");
    assert_false(s->pools[0].has_coords);
    assert_int_equal(s->pools[0].member_count, 1);
    assert_prefix(&s->pools[0].members[0].address, 4, 32, a_192_0_2_1);
    assert_int_equal(s->pools[0].members[0].weight, 1);
    assert_null(s->pools[0].members[0].check);
    assert_false(s->pools[0].members[0].down);
    assert_int_equal(s->continent_count + s->country_count + s->subdivision_count, 0);
    ASSERT_LIST(&s->default_order, 0, 1, 2);
    assert_int_equal(s->net_count, 0);
    assert_null(s->nets_file);
    assert_false(s->nearest);
    assert_int_equal(s->nearest_n, 0);
    assert_int_equal(s->select, CONFIG_SELECT_WEIGHTED);
    assert_int_equal(s->first_n, 2);
    assert_int_equal(s->sticky_prefix_v4, 24);
    assert_int_equal(s->sticky_prefix_v6, 56);
    assert_int_equal(s->all_down, CONFIG_ALL_DOWN_ALL);
    config_free(cfg);

    /* No services at all, and an empty services mapping; a geo section with only a default
     * and inline nets need no database; the edges of each range. */
    cfg = load_ok(write_file("min.yaml", zones_tail));
    assert_int_equal(cfg->service_count, 0);
    assert_path(cfg->geoip_country_path, default_country);
    config_free(cfg);
    cfg = load_ok(write_file("min.yaml", "services: {}\nzones: [{origin: a, file: a}]\n"));
    assert_int_equal(cfg->service_count, 0);
    config_free(cfg);
    cfg = load_ok(write_file("min.yaml", "services:\n"
                                         "  a.example.com:\n"
                                         "    ttl: 0\n"
                                         "    pools: { p: { members: [{address: \"::\"}] },\n"
                                         "             q: { members: [{address: \"::1\"}] } }\n"
                                         "    geo: { default: [q] }\n"
                                         "    nets: { \"::/0\": [p], \"0.0.0.0/0\": [q] }\n"
                                         "    select: all\n"
                                         "    first_n: 64\n"
                                         "    sticky_prefix: { v6: 128 }\n"
                                         "    all_down: all\n"
                                         "  b.example.com:\n"
                                         "    ttl: 86400\n"
                                         "    pools: { p: { members: [{address: 10.0.0.1,\n"
                                         "                             weight: 1}] } }\n"
                                         "    sticky_prefix: { v4: 32 }\n"
                                         "    nearest_n: 65535\n"
                                         "  .:\n"
                                         "    pools: { p: { members: [{address: 10.0.0.1}] } }\n"
                                         "zones: [{origin: a, file: a}]\n"));
    s = &cfg->services[0];
    assert_int_equal(s->ttl_s, 0);
    ASSERT_LIST(&s->default_order, 1);
    assert_int_equal(s->net_count, 2);
    assert_int_equal(s->nets[0].net.family, 6);
    assert_int_equal(s->nets[0].net.prefix_len, 0);
    assert_int_equal(s->select, CONFIG_SELECT_ALL);
    assert_int_equal(s->first_n, 64);
    assert_int_equal(s->sticky_prefix_v4, 24);
    assert_int_equal(s->sticky_prefix_v6, 128);
    assert_int_equal(s->all_down, CONFIG_ALL_DOWN_ALL);
    s = &cfg->services[1];
    assert_int_equal(s->ttl_s, 86400);
    assert_int_equal(s->sticky_prefix_v4, 32);
    assert_int_equal(s->sticky_prefix_v6, 56);
    assert_int_equal(s->nearest_n, 65535);
    assert_string_equal(cfg->services[2].name, ".");
    config_free(cfg);
}

static void
test_cname(void **state)
{
    struct config *cfg;
    const struct config_pool *p;

    (void)state;
    cfg = load_ok(write_file("cname.yaml",
                             "services:\n"
                             "  cdn.example.com:\n"
                             "    type: cname\n"
                             "    pools:\n"
                             "      a:\n"
                             "        members:\n"
                             "          - { target: edge.cdn.example.net., weight: 2 }\n"
                             "          - { target: Edge2.CDN.example.net }\n"
                             "          - { target: \"odd\\\\.\" }\n"
                             "zones: [{origin: example.com, file: z}]\n"));
    assert_true(cfg->services[0].cname);
    p = &cfg->services[0].pools[0];
    assert_int_equal(p->member_count, 3);
    assert_string_equal(p->members[0].target, "edge.cdn.example.net.");
    assert_int_equal(p->members[0].address.family, 0);
    assert_int_equal(p->members[0].weight, 2);
    assert_int_equal(p->members[0].line, 7);
    assert_string_equal(p->members[1].target, "Edge2.CDN.example.net.");
    /* An escaped final dot is part of the label, not the root. */
    assert_string_equal(p->members[2].target, "odd\\..");
    config_free(cfg);

    /* `type` may follow `pools`. */
    cfg = load_ok(write_file("cname.yaml", "services:\n"
                                           "  cdn.example.com:\n"
                                           "    pools: { a: { members: [{target: x.example.}] } }\n"
                                           "    type: cname\n"
                                           "zones: [{origin: example.com, file: z}]\n"));
    assert_string_equal(cfg->services[0].pools[0].members[0].target, "x.example.");
    config_free(cfg);

    expect_error("services:\n"
                 "  cdn.example.com:\n"
                 "    type: cname\n"
                 "    pools: { a: { members: [{target: x.example., address: 192.0.2.1}] } }\n",
                 "4: address: not allowed with type: cname (use target)");
    expect_error("services:\n"
                 "  cdn.example.com:\n"
                 "    pools:\n"
                 "      a:\n"
                 "        members:\n"
                 "          - address: 192.0.2.1\n"
                 "            target: x.example.\n",
                 "7: target: only allowed with type: cname");
    expect_error("services:\n"
                 "  cdn.example.com:\n"
                 "    type: cname\n"
                 "    pools: { a: { members: [{weight: 2}] } }\n",
                 "4: missing key 'target' in member");
    expect_error("services:\n"
                 "  cdn.example.com:\n"
                 "    type: cname\n"
                 "    pools: { a: { members: [{target: x..example}] } }\n",
                 "4: target: invalid domain name 'x..example'");
    expect_error("services:\n"
                 "  cdn.example.com:\n"
                 "    type: cname\n"
                 "    pools: { a: { members: [{target: \"\"}] } }\n",
                 "4: target: invalid domain name ''");
    expect_error("services:\n"
                 "  cdn.example.com:\n"
                 "    type: cname\n"
                 "    pools:\n"
                 "      a:\n"
                 "        members:\n"
                 "          - target: x.example.\n"
                 "          - target: X.Example\n",
                 "8: duplicate member 'X.Example.' in pool 'a' (first at line 7)");
    expect_error("services:\n  c.example.com: {type: CNAME, pools: {}}\n",
                 "2: type: expected address or cname");
}

static void
test_listen(void **state)
{
    struct config *cfg;

    (void)state;
    cfg = load_ok(write_file("listen.yaml", "server:\n"
                                            "  listen:\n"
                                            "    - \"127.0.0.1:5353\"\n"
                                            "    - { address: \"[::1]:5353\", ecs: ignore }\n"
                                            "    - address: 10.0.0.1\n"
                                            "      ecs: honour\n"
                                            "    - { address: \"10.0.0.2:53\" }\n"
                                            "zones: [{origin: a, file: a}]\n"));
    assert_int_equal(cfg->listen_count, 4);
    assert_string_equal(cfg->listen[0].text, "127.0.0.1:5353");
    assert_false(cfg->listen[0].ecs_ignore);
    assert_string_equal(cfg->listen[1].text, "[::1]:5353");
    assert_int_equal(cfg->listen[1].addr.ss_family, AF_INET6);
    assert_true(cfg->listen[1].ecs_ignore);
    assert_string_equal(cfg->listen[2].text, "10.0.0.1");
    assert_false(cfg->listen[2].ecs_ignore);
    assert_string_equal(cfg->listen[3].text, "10.0.0.2:53");
    assert_false(cfg->listen[3].ecs_ignore);
    config_free(cfg);

    expect_error("server:\n  listen:\n    - { address: \"::1\", ecs: honor }\n",
                 "3: ecs: expected honour or ignore");
    expect_error("server:\n  listen:\n    - { ecs: ignore }\n",
                 "3: missing key 'address' in listen entry");
    expect_error("server:\n  listen:\n    - { address: \"::1\", port: 53 }\n",
                 "3: unknown key 'port' in listen entry");
    expect_error("server:\n  listen:\n    - { address: \"localhost\" }\n",
                 "3: listen: invalid address 'localhost' (expected IP, IP:port or "
                 "[IPv6]:port)");
    expect_error("server:\n  listen:\n    - \"[::1]:53\"\n    - { address: \"::1\" }\n",
                 "4: listen: duplicate address '::1'");
    expect_error("server:\n  listen:\n    - [\"::1\"]\n",
                 "3: listen: invalid address '(not a string)' (expected IP, IP:port or "
                 "[IPv6]:port)");
}

static void
test_geoip(void **state)
{
    static const char *const flat_country[] = {"country_code", NULL};
    static const char *const custom_sub[] = {"region", "3", NULL};
    struct config *cfg;

    (void)state;
    cfg = load_ok(write_file("geo.yaml", "geoip:\n"
                                         "  database: /var/lib/geo/flat.mmdb\n"
                                         "  paths:\n"
                                         "    country: [country_code]\n"
                                         "    subdivision: [region, 3]\n"
                                         "zones: [{origin: a, file: a}]\n"));
    assert_string_equal(cfg->geoip_database, "/var/lib/geo/flat.mmdb");
    assert_int_equal(cfg->geoip_line, 2);
    assert_path(cfg->geoip_country_path, flat_country);
    assert_path(cfg->geoip_subdivision_path, custom_sub);
    assert_path(cfg->geoip_continent_path, default_continent);
    assert_path(cfg->geoip_latitude_path, default_latitude);
    assert_path(cfg->geoip_longitude_path, default_longitude);
    config_free(cfg);

    /* A service may come before the geoip section its geo rules need. */
    cfg = load_ok(write_file("geo.yaml", "services:\n"
                                         "  a.example.com:\n"
                                         "    pools: { p: { members: [{address: 10.0.0.1}],\n"
                                         "                  coordinates: [0, 0] } }\n"
                                         "    geo: { country: { NO: [p] } }\n"
                                         "    order: nearest\n"
                                         "geoip: { database: g.mmdb,\n"
                                         "         paths: { latitude: [lat], longitude: [lon] } }\n"
                                         "zones: [{origin: a, file: a}]\n"));
    assert_string_equal(cfg->services[0].countries[0].key, "NO");
    assert_true(cfg->services[0].nearest);
    assert_true(cfg->services[0].pools[0].has_coords);
    assert_string_equal(cfg->geoip_latitude_path[0], "lat");
    assert_string_equal(cfg->geoip_longitude_path[0], "lon");
    config_free(cfg);

    expect_error("geoip:\n  paths: { country: [a] }\n", "2: missing key 'database' in geoip");
    expect_error("geoip: [a]\n", "1: geoip: expected a mapping");
    expect_error("geoip:\n  database: \"\"\n", "2: database: expected a path");
    expect_error("geoip:\n  database: [a]\n", "2: database: expected a path");
    expect_error("geoip:\n  database: g.mmdb\n  paths: { city: [city] }\n",
                 "3: unknown key 'city' in geoip paths");
    expect_error("geoip:\n  database: g.mmdb\n  paths:\n    country: []\n",
                 "4: country: expected a list of 1..16 keys");
    expect_error("geoip:\n  database: g.mmdb\n  paths:\n    country: country_code\n",
                 "4: country: expected a list of 1..16 keys");
    expect_error("geoip:\n  database: g.mmdb\n  paths:\n    country:\n      - a\n      - [b]\n",
                 "6: country: expected a key (a string or an array index)");
    expect_error("geoip:\n  database: g.mmdb\n  paths:\n    longitude: [a, \"\"]\n",
                 "4: longitude: expected a key (a string or an array index)");
    expect_error("geoip:\n  database: g.mmdb\n  paths:\n    country: [a]\n    country: [b]\n",
                 "5: duplicate key 'country'");
}

/* The service every error case below starts from: pools eu (line 4) and us (line 5). */
#define SVC                                                                                        \
    "services:\n"                                                                                  \
    "  www.example.com:\n"                                                                         \
    "    pools:\n"                                                                                 \
    "      eu: { members: [ {address: 192.0.2.1} ] }\n"                                            \
    "      us: { members: [ {address: 198.51.100.1} ] }\n"

static void
test_service_errors(void **state)
{
    (void)state;
    expect_error("services: [a]\n", "1: services: expected a mapping of owner names to services");
    expect_error("services:\n  bad..name:\n    pools: {}\n",
                 "2: services: invalid domain name 'bad..name'");
    expect_error("services:\n  \"\":\n    pools: {}\n", "2: services: invalid domain name ''");
    expect_error(SVC "  other.example.com:\n"
                     "    pools: { a: { members: [{address: 192.0.2.1}] } }\n"
                     "  WWW.Example.COM.:\n"
                     "    pools: { a: { members: [{address: 192.0.2.1}] } }\n",
                 "8: duplicate service 'WWW.Example.COM.' (first at line 2)");
    expect_error("services:\n  www.example.com: [1]\n",
                 "2: service 'www.example.com': expected a mapping");
    expect_error("services:\n  www.example.com:\n", "2: www.example.com: missing value");
    /* The walker reports a missing key at the mapping's first line. */
    expect_error("services:\n  www.example.com:\n    ttl: 5\n",
                 "3: missing key 'pools' in service 'www.example.com'");
    expect_error(SVC "    selekt: all\n", "6: unknown key 'selekt' in service 'www.example.com'");
    expect_error(SVC "    ttl: 86401\n", "6: ttl: expected an integer 0..86400");
    expect_error(SVC "    ttl: -1\n", "6: ttl: expected an integer 0..86400");
    expect_error(SVC "    order: random\n", "6: order: expected geo or nearest");
    expect_error(SVC "    select: nearest\n",
                 "6: select: expected weighted, sticky, all or first_n");
    expect_error(SVC "    first_n: 0\n", "6: first_n: expected an integer 1..64");
    expect_error(SVC "    first_n: 65\n", "6: first_n: expected an integer 1..64");
    expect_error(SVC "    nearest_n: 65536\n", "6: nearest_n: expected an integer 0..65535");
    expect_error(SVC "    sticky_prefix: { v4: 33 }\n", "6: v4: expected an integer 1..32");
    expect_error(SVC "    sticky_prefix: { v6: 0 }\n", "6: v6: expected an integer 1..128");
    expect_error(SVC "    sticky_prefix: { v5: 1 }\n", "6: unknown key 'v5' in sticky_prefix");
    expect_error(SVC "    sticky_prefix: 24\n", "6: sticky_prefix: expected a mapping");
    expect_error(SVC "    all_down: \"pool:asia\"\n", "6: all_down: unknown pool 'asia'");
    expect_error(SVC "    all_down: \"pool:\"\n",
                 "6: all_down: expected all, nodata or pool:<name>");
    expect_error(SVC "    all_down: none\n", "6: all_down: expected all, nodata or pool:<name>");
    expect_error(SVC "    all_down: [eu]\n", "6: all_down: expected all, nodata or pool:<name>");
}

static void
test_pool_errors(void **state)
{
    (void)state;
    expect_error("services:\n  a.example:\n    pools: [eu]\n",
                 "3: pools: expected a mapping of pool names to pools");
    expect_error("services:\n  a.example:\n    pools: {}\n",
                 "3: pools: expected at least one pool");
    expect_error("services:\n  a.example:\n    pools:\n      \"e u\": { members: [] }\n",
                 "4: pools: invalid pool name 'e u' (1..63 letters, digits, '-', '_' or '.')");
    expect_error("services:\n  a.example:\n    pools:\n      \"a,b\": { members: [] }\n",
                 "4: pools: invalid pool name 'a,b' (1..63 letters, digits, '-', '_' or '.')");
    expect_error(SVC "      eu: { members: [ {address: 192.0.2.3} ] }\n",
                 "6: pools: duplicate pool 'eu' (first at line 4)");
    expect_error(SVC "      ap:\n", "6: ap: missing value");
    expect_error(SVC "      ap: { coordinates: [1, 2] }\n",
                 "6: missing key 'members' in pool 'ap'");
    expect_error(SVC "      ap: { members: [], x: 1 }\n",
                 "6: members: expected at least one member");
    expect_error(SVC "      ap: { members: 10.0.0.1 }\n", "6: members: expected a list of members");
    expect_error(SVC "      ap: { members: [{address: 10.0.0.1}], weight: 1 }\n",
                 "6: unknown key 'weight' in pool 'ap'");
    expect_error(SVC "      ap:\n"
                     "        members:\n"
                     "          - address: 10.0.0.1\n"
                     "            port: 80\n",
                 "9: unknown key 'port' in member");
    expect_error(SVC "      ap: { members: [{address: 192.0.2.256}] }\n",
                 "6: address: invalid IP address '192.0.2.256'");
    expect_error(SVC "      ap: { members: [{address: 192.0.2.0/24}] }\n",
                 "6: address: invalid IP address '192.0.2.0/24'");
    expect_error(SVC "      ap: { members: [{address: www.example.net}] }\n",
                 "6: address: invalid IP address 'www.example.net'");
    expect_error(SVC "      ap: { members: [{address: 10.0.0.1, weight: 0}] }\n",
                 "6: weight: expected an integer 1..1000000");
    expect_error(SVC "      ap: { members: [{address: 10.0.0.1, weight: 1000001}] }\n",
                 "6: weight: expected an integer 1..1000000");
    expect_error(SVC "      ap: { members: [{address: 10.0.0.1, down: maybe}] }\n",
                 "6: down: expected true or false");
    expect_error(SVC "      ap: { members: [{address: 10.0.0.1, check: \"\"}] }\n",
                 "6: check: expected a string of 1..255 bytes");
    expect_error(SVC "      ap: { members: [{weight: 2}] }\n",
                 "6: missing key 'address' in member");
    expect_error(SVC "      ap:\n"
                     "        members:\n"
                     "          - address: \"2001:db8::1\"\n"
                     "          - address: \"2001:DB8:0::1\"\n",
                 "9: duplicate member '2001:db8::1' in pool 'ap' (first at line 8)");
    static const char *const bad_coords[] = {"[91, 0]",  "[-90.5, 0]",  "[0, 181]", "[0, -180.1]",
                                             "[1]",      "[1, 2, 3]",   "\"1, 2\"", "[nan, 0]",
                                             "[0, inf]", "[\" 1\", 2]", "[a, b]",   "[1e999, 0]",
                                             "[[1], 2]", "{a: 1}"};
    for (size_t i = 0; i < sizeof(bad_coords) / sizeof(bad_coords[0]); i++) {
        char yaml[512];
        snprintf(yaml, sizeof(yaml),
                 SVC "      ap:\n        members: [{address: 10.0.0.1}]\n        coordinates: %s\n",
                 bad_coords[i]);
        expect_error(yaml, "8: coordinates: expected [latitude, longitude], latitude -90..90 and "
                           "longitude -180..180");
    }
}

static void
test_geo_errors(void **state)
{
    (void)state;
    expect_error(SVC "    geo: { EU: [eu] }\n", "6: unknown key 'EU' in geo");
    expect_error(SVC "    geo: [eu]\n", "6: geo: expected a mapping");
    expect_error(SVC "    geo:\n      continent: { XX: [eu] }\n",
                 "7: continent: 'XX' is not a continent code (AF AN AS EU NA OC SA)");
    expect_error(SVC "    geo:\n      continent: [eu]\n",
                 "7: continent: expected a mapping of codes to pools");
    expect_error(SVC "    geo:\n      country: { DEU: [eu] }\n",
                 "7: country: 'DEU' is not a two-letter country code (ISO 3166-1)");
    expect_error(SVC "    geo:\n      country: { D1: [eu] }\n",
                 "7: country: 'D1' is not a two-letter country code (ISO 3166-1)");
    expect_error(SVC "    geo:\n      subdivision: { USCA: [eu] }\n",
                 "7: subdivision: 'USCA' is not a subdivision code like US-CA (ISO 3166-2)");
    expect_error(SVC "    geo:\n      subdivision: { US-CALI: [eu] }\n",
                 "7: subdivision: 'US-CALI' is not a subdivision code like US-CA (ISO 3166-2)");
    expect_error(SVC "    geo:\n      subdivision: { US-: [eu] }\n",
                 "7: subdivision: 'US-' is not a subdivision code like US-CA (ISO 3166-2)");
    expect_error(SVC "    geo:\n      subdivision: { US-C_: [eu] }\n",
                 "7: subdivision: 'US-C_' is not a subdivision code like US-CA (ISO 3166-2)");
    expect_error(SVC "    geo:\n"
                     "      country:\n"
                     "        DE: [eu]\n"
                     "        de: [us]\n",
                 "9: country: duplicate 'DE' (first at line 8)");
    expect_error(SVC "    geo:\n"
                     "      continent:\n"
                     "        EU:\n"
                     "          - eu\n"
                     "          - asia\n",
                 "10: EU: unknown pool 'asia'");
    expect_error(SVC "    geo:\n      continent: { EU: [] }\n",
                 "7: EU: expected at least one pool");
    expect_error(SVC "    geo:\n      continent: { EU: eu }\n", "7: EU: expected a list of pools");
    expect_error(SVC "    geo:\n      continent: { EU: [[eu]] }\n", "7: EU: expected a pool name");
    expect_error(SVC "    geo:\n      continent: { EU: [eu, us, eu] }\n",
                 "7: EU: pool 'eu' listed twice");
    expect_error(SVC "    geo:\n      continent: { EU: }\n", "7: EU: missing value");
    expect_error(SVC "    geo:\n      default: [eu, ap]\n", "7: default: unknown pool 'ap'");
    expect_error(SVC "    geo:\n      default: []\n", "7: default: expected at least one pool");

    /* Geo rules and `order: nearest` look the client up in the database. */
    expect_error(SVC "    geo:\n      country: { DE: [eu] }\n",
                 "2: service 'www.example.com.': geo rules need geoip.database");
    expect_error(SVC "    geo:\n      subdivision: { US-CA: [us] }\n",
                 "2: service 'www.example.com.': geo rules need geoip.database");
    expect_error("services:\n"
                 "  www.example.com:\n"
                 "    pools:\n"
                 "      eu: { members: [ {address: 192.0.2.1} ], coordinates: [1, 2] }\n"
                 "    order: nearest\n",
                 "2: service 'www.example.com.': order: nearest needs geoip.database");
    expect_error("geoip: { database: g.mmdb }\n"
                 "services:\n"
                 "  www.example.com:\n"
                 "    pools:\n"
                 "      eu: { members: [ {address: 192.0.2.1} ], coordinates: [1, 2] }\n"
                 "      us: { members: [ {address: 198.51.100.1} ] }\n"
                 "    order: nearest\n",
                 "6: pool 'us': order: nearest needs coordinates");
}

static void
test_nets_errors(void **state)
{
    char want[2 * PATH_MAX];

    (void)state;
    expect_error(SVC "    nets: [eu]\n", "6: nets: expected a mapping of CIDR to pools");
    expect_error(SVC "    nets:\n      \"10.0.0.0\": [eu]\n",
                 "7: nets: invalid CIDR '10.0.0.0' (expected e.g. 10.0.0.0/8 or 2001:db8::/32)");
    expect_error(SVC "    nets:\n      \"10.0.0.0/33\": [eu]\n",
                 "7: nets: invalid CIDR '10.0.0.0/33' (expected e.g. 10.0.0.0/8 or "
                 "2001:db8::/32)");
    expect_error(SVC "    nets:\n      \"2001:db8::/129\": [eu]\n",
                 "7: nets: invalid CIDR '2001:db8::/129' (expected e.g. 10.0.0.0/8 or "
                 "2001:db8::/32)");
    expect_error(SVC "    nets:\n      \"10.0.0.0/-8\": [eu]\n",
                 "7: nets: invalid CIDR '10.0.0.0/-8' (expected e.g. 10.0.0.0/8 or "
                 "2001:db8::/32)");
    expect_error(SVC "    nets:\n      \"/8\": [eu]\n",
                 "7: nets: invalid CIDR '/8' (expected e.g. 10.0.0.0/8 or 2001:db8::/32)");
    expect_error(SVC "    nets:\n      \"10.0.0.1/8\": [eu]\n",
                 "7: nets: '10.0.0.1/8' has host bits set (network 10.0.0.0/8)");
    expect_error(SVC "    nets:\n      \"192.0.2.128/23\": [eu]\n",
                 "7: nets: '192.0.2.128/23' has host bits set (network 192.0.2.0/23)");
    expect_error(SVC "    nets:\n      \"2001:db8:ff::/32\": [eu]\n",
                 "7: nets: '2001:db8:ff::/32' has host bits set (network 2001:db8::/32)");
    expect_error(SVC "    nets:\n      \"10.0.0.0/8\": [eu, asia]\n",
                 "7: 10.0.0.0/8: unknown pool 'asia'");
    expect_error(SVC "    nets:\n"
                     "      \"10.0.0.0/8\": [eu]\n"
                     "      \"2001:db8::/32\": [eu]\n"
                     "      \"10.0.0.0/08\": [us]\n",
                 "9: duplicate net 10.0.0.0/8 (first at line 7)");

    /* nets_file: errors name the nets file and its line. */
    static const struct {
        const char *text;
        const char *where;
    } file_cases[] = {
        {"# x\n10.0.0.0/8\n", "2: expected 'CIDR pool[,pool...]'"},
        {"10.0.0.0/8   # eu\n", "1: expected 'CIDR pool[,pool...]'"},
        {"\n\n10.0.0/8 eu\n",
         "3: invalid CIDR '10.0.0/8' (expected e.g. 10.0.0.0/8 or 2001:db8::/32)"},
        {"eu 10.0.0.0/8\n", "1: invalid CIDR 'eu' (expected e.g. 10.0.0.0/8 or 2001:db8::/32)"},
        {"10.0.0.1/8 eu\n", "1: '10.0.0.1/8' has host bits set (network 10.0.0.0/8)"},
        {"10.0.0.0/8 eu,asia\n", "1: 10.0.0.0/8: unknown pool 'asia'"},
        {"10.0.0.0/8 eu us\n", "1: 10.0.0.0/8: unknown pool 'eu us'"},
        {"10.0.0.0/8 eu,,us\n", "1: 10.0.0.0/8: empty pool name"},
        {"10.0.0.0/8 eu,\n", "1: 10.0.0.0/8: empty pool name"},
        {"10.0.0.0/8 ,eu\n", "1: 10.0.0.0/8: empty pool name"},
        {"10.0.0.0/8 eu, eu\n", "1: 10.0.0.0/8: pool 'eu' listed twice"},
        {"10.0.0.0/8 eu\n192.0.2.0/24 us\n10.0.0.0/8 us\n",
         "3: duplicate net 10.0.0.0/8 (first at line 1)"},
    };
    for (size_t i = 0; i < sizeof(file_cases) / sizeof(file_cases[0]); i++) {
        write_file("nets.txt", file_cases[i].text);
        snprintf(want, sizeof(want), "%s/nets.txt:%s", tmpdir, file_cases[i].where);
        expect_message(SVC "    nets_file: nets.txt\n", want);
    }
    /* A file line repeating an inline rule names both files. */
    write_file("nets.txt", "# x\n2001:db8::/32 us\n");
    snprintf(want, sizeof(want),
             "%s/nets.txt:2: duplicate net 2001:db8::/32 (first at %s/bad.yaml:7)", tmpdir, tmpdir);
    expect_message(SVC "    nets:\n      \"2001:db8::/32\": [eu]\n    nets_file: nets.txt\n", want);

    snprintf(want, sizeof(want),
             "6: nets_file: cannot open '%s/missing.txt': No such file or directory", tmpdir);
    expect_error(SVC "    nets_file: missing.txt\n", want);
    expect_error(SVC "    nets_file: \"\"\n", "6: nets_file: expected a path");
}

/* A nets file in a subdirectory, given by a relative path, with an empty file allowed. */
static void
test_nets_file_paths(void **state)
{
    char dir[PATH_MAX], file[PATH_MAX + 16];
    struct config *cfg;
    FILE *f;

    (void)state;
    snprintf(dir, sizeof(dir), "%s/steer", tmpdir);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(file, sizeof(file), "%s/nets.txt", dir);
    f = fopen(file, "w");
    assert_non_null(f);
    assert_int_equal(fclose(f), 0);
    cfg = load_ok(write_file("paths.yaml", SVC "    nets_file: steer/nets.txt\n"
                                               "zones: [{origin: a, file: a}]\n"));
    assert_string_equal(cfg->services[0].nets_file, file);
    assert_int_equal(cfg->services[0].net_count, 0);
    config_free(cfg);
}

static int
setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    return test_tmpdir_remove(tmpdir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_cname),       cmocka_unit_test(test_listen),
        cmocka_unit_test(test_geoip),       cmocka_unit_test(test_service_errors),
        cmocka_unit_test(test_pool_errors), cmocka_unit_test(test_geo_errors),
        cmocka_unit_test(test_nets_errors), cmocka_unit_test(test_nets_file_paths),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
