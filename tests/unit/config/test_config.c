// SPDX-License-Identifier: MIT
/* Unit tests for config_load(): a full config with every field, the defaults, path
 * resolution for zone files, and the exact "file:line: message" of each kind of error.
 * Each test writes its YAML into a private mkdtemp directory, removed at the end. */
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
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "config/config.h"

static char tmpdir[] = "/tmp/meridian-test-config-XXXXXX";

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
    assert_string_equal(err, "");
    return cfg;
}

/* Loads `path`, expects failure and the message "<path>:<where>". */
static void
expect_error_at(const char *path, const char *where)
{
    struct config *cfg = (struct config *)1;
    char err[CONFIG_ERR_MAX], want[CONFIG_ERR_MAX + PATH_MAX];

    assert_int_equal(config_load(path, &cfg, err), -1);
    assert_null(cfg);
    snprintf(want, sizeof(want), "%s:%s", path, where);
    assert_string_equal(err, want);
}

static void
expect_error(const char *yaml, const char *where)
{
    expect_error_at(write_file("bad.yaml", yaml), where);
}

static const char minimal_zones[] = "zones:\n"
                                    "  - origin: example.com\n"
                                    "    file: example.com.zone\n";

static uint16_t
listen_port(const struct config_listen *l)
{
    if (l->addr.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&l->addr)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)&l->addr)->sin6_port);
}

static void
test_full(void **state)
{
    char want[PATH_MAX];
    (void)state;
    const char *path =
        write_file("full.yaml", "# every key\n"
                                "server:\n"
                                "  listen: [\"127.0.0.1:5353\", \"[::1]:5353\", \"10.0.0.1\"]\n"
                                "  workers: 4\n"
                                "  identity: meridian-example\n"
                                "  version: \"Meridian test\"\n"
                                "  hide_identity: yes\n"
                                "  hide_version: true\n"
                                "  nsid: \"site-1\"\n"
                                "  udp_max_size: 1400\n"
                                "  tcp_idle_timeout: 500ms\n"
                                "  tcp_io_timeout: 300ms\n"
                                "  tcp_max_connections: 1000\n"
                                "  tcp_max_per_client: 0\n"
                                "  tcp_max_pipelined: 32\n"
                                "  log_level: debug\n"
                                "zones:\n"
                                "  - origin: example.com\n"
                                "    file: example.com.zone\n"
                                "  - origin: example.org.\n"
                                "    file: /var/lib/meridian/example.org.zone\n");
    struct config *cfg = load_ok(path);

    assert_string_equal(cfg->path, path);
    assert_int_equal(cfg->listen_count, 3);
    assert_string_equal(cfg->listen[0].text, "127.0.0.1:5353");
    assert_int_equal(cfg->listen[0].addr.ss_family, AF_INET);
    assert_int_equal(cfg->listen[0].addr_len, sizeof(struct sockaddr_in));
    assert_int_equal(listen_port(&cfg->listen[0]), 5353);
    assert_string_equal(cfg->listen[1].text, "[::1]:5353");
    assert_int_equal(cfg->listen[1].addr.ss_family, AF_INET6);
    assert_int_equal(cfg->listen[1].addr_len, sizeof(struct sockaddr_in6));
    assert_int_equal(listen_port(&cfg->listen[1]), 5353);
    assert_int_equal(listen_port(&cfg->listen[2]), 53);
    assert_int_equal(cfg->workers, 4);
    assert_string_equal(cfg->identity, "meridian-example");
    assert_string_equal(cfg->version, "Meridian test");
    assert_true(cfg->hide_identity);
    assert_true(cfg->hide_version);
    assert_int_equal(cfg->nsid_len, 6);
    assert_memory_equal(cfg->nsid, "site-1", 6);
    assert_int_equal(cfg->udp_max_size, 1400);
    assert_int_equal(cfg->tcp_idle_timeout_ms, 500);
    assert_int_equal(cfg->tcp_io_timeout_ms, 300);
    assert_int_equal(cfg->tcp_max_connections, 1000);
    assert_int_equal(cfg->tcp_max_per_client, 0);
    assert_int_equal(cfg->tcp_max_pipelined, 32);
    assert_int_equal(cfg->log_level, LOG_LEVEL_DEBUG);
    assert_int_equal(cfg->zone_count, 2);
    assert_string_equal(cfg->zones[0].origin, "example.com");
    snprintf(want, sizeof(want), "%s/example.com.zone", tmpdir);
    assert_string_equal(cfg->zones[0].file, want);
    assert_int_equal(cfg->zones[0].line, 18);
    assert_string_equal(cfg->zones[1].origin, "example.org.");
    assert_string_equal(cfg->zones[1].file, "/var/lib/meridian/example.org.zone");
    assert_int_equal(cfg->zones[1].line, 20);
    config_free(cfg);
}

static void
test_defaults(void **state)
{
    char host[256] = "";
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    struct config *cfg = load_ok(write_file("min.yaml", minimal_zones));

    (void)state;
    assert_int_equal(cfg->listen_count, 2);
    assert_string_equal(cfg->listen[0].text, "127.0.0.1:53");
    assert_int_equal(cfg->listen[0].addr.ss_family, AF_INET);
    assert_int_equal(listen_port(&cfg->listen[0]), 53);
    assert_string_equal(cfg->listen[1].text, "[::1]:53");
    assert_int_equal(cfg->listen[1].addr.ss_family, AF_INET6);
    assert_int_equal(cfg->workers, cpus < 1 ? 1 : cpus > 256 ? 256 : cpus);
    assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
    assert_string_equal(cfg->identity, host);
    assert_string_equal(cfg->version, "Meridian 0.1.0");
    assert_false(cfg->hide_identity);
    assert_false(cfg->hide_version);
    assert_null(cfg->nsid);
    assert_int_equal(cfg->nsid_len, 0);
    assert_int_equal(cfg->udp_max_size, 1232);
    assert_int_equal(cfg->tcp_idle_timeout_ms, 10000);
    assert_int_equal(cfg->tcp_io_timeout_ms, 2000);
    assert_int_equal(cfg->tcp_max_connections, 512);
    assert_int_equal(cfg->tcp_max_per_client, 64);
    assert_int_equal(cfg->tcp_max_pipelined, 16);
    assert_int_equal(cfg->log_level, LOG_LEVEL_INFO);
    assert_int_equal(cfg->zone_count, 1);
    assert_true(cfg->zones[0].max_records == CONFIG_ZONE_MAX_RECORDS);
    assert_true(cfg->zones[0].max_bytes == CONFIG_ZONE_MAX_BYTES);
    /* RRL on as README's table says; loopback is limited like any source (BIND, Knot). */
    assert_true(cfg->rrl.enabled);
    assert_false(cfg->rrl.log_only);
    assert_false(cfg->rrl.exempt_loopback);
    assert_int_equal(cfg->rrl.exempt_count, 0);
    assert_int_equal(cfg->rrl.rate, 20);
    assert_int_equal(cfg->rrl.slip, 2);
    assert_int_equal(cfg->rrl.ipv4_prefix, 24);
    assert_int_equal(cfg->rrl.ipv6_prefix, 56);
    assert_int_equal(cfg->rrl.table_size, 262144);
    assert_int_equal(cfg->rrl.large_size, 1024);
    config_free(cfg);
}

/* zones[].max_records and max_size (K, M, G: powers of 1024, as Knot's zone-max-size). */
static void
test_zone_bounds(void **state)
{
    (void)state;
    struct config *cfg = load_ok(write_file("bounds.yaml", "zones:\n"
                                                           "  - origin: a.test\n"
                                                           "    file: a.zone\n"
                                                           "    max_records: 1000\n"
                                                           "    max_size: 64k\n"
                                                           "  - origin: b.test\n"
                                                           "    file: b.zone\n"
                                                           "    max_size: 3G\n"
                                                           "  - origin: c.test\n"
                                                           "    file: c.zone\n"
                                                           "    max_size: 12345\n"));
    assert_true(cfg->zones[0].max_records == 1000);
    assert_true(cfg->zones[0].max_bytes == 64u << 10);
    assert_true(cfg->zones[1].max_records == CONFIG_ZONE_MAX_RECORDS);
    assert_true(cfg->zones[1].max_bytes == (uint64_t)3 << 30);
    assert_true(cfg->zones[2].max_bytes == 12345);
    config_free(cfg);
    expect_error("zones:\n  - origin: a.test\n    file: a.zone\n    max_records: 0\n",
                 "4: max_records: expected a positive number, not '0'");
    expect_error("zones:\n  - origin: a.test\n    file: a.zone\n    max_records: 10k\n",
                 "4: max_records: expected a positive number, not '10k'");
    expect_error("zones:\n  - origin: a.test\n    file: a.zone\n    max_size: 1T\n",
                 "4: max_size: expected a positive number (optionally ending in K, M or G), "
                 "not '1T'");
    expect_error("zones:\n  - origin: a.test\n    file: a.zone\n    max_size: G\n",
                 "4: max_size: expected a positive number (optionally ending in K, M or G), "
                 "not 'G'");
    expect_error("zones:\n  - origin: a.test\n    file: a.zone\n    max_size: [1]\n",
                 "4: max_size: expected a positive number (optionally ending in K, M or G)");
}

static void
test_scalar_forms(void **state)
{
    static const uint8_t nsid[] = {0x0a, 0x0b, 0xff};
    struct config *cfg = load_ok(write_file("forms.yaml", "server:\n"
                                                          "  listen: \"::1\"\n"
                                                          "  workers: auto\n"
                                                          "  hide_identity: no\n"
                                                          "  hide_version: False\n"
                                                          "  nsid: hex:0a0BfF\n"
                                                          "  tcp_idle_timeout: 2m\n"
                                                          "zones:\n"
                                                          "  - {origin: ., file: root.zone}\n"));

    (void)state;
    assert_int_equal(cfg->listen_count, 1);
    assert_string_equal(cfg->listen[0].text, "::1");
    assert_int_equal(listen_port(&cfg->listen[0]), 53);
    assert_true(cfg->workers >= 1 && cfg->workers <= 256);
    assert_false(cfg->hide_identity);
    assert_false(cfg->hide_version);
    assert_int_equal(cfg->nsid_len, sizeof(nsid));
    assert_memory_equal(cfg->nsid, nsid, sizeof(nsid));
    assert_int_equal(cfg->tcp_idle_timeout_ms, 120000);
    assert_string_equal(cfg->zones[0].origin, ".");
    config_free(cfg);

    /* Bare integer = seconds; the range ends are inclusive. */
    cfg = load_ok(write_file("forms.yaml", "server:\n"
                                           "  tcp_idle_timeout: 3600\n"
                                           "  udp_max_size: 65535\n"
                                           "zones:\n"
                                           "  - {origin: a, file: a}\n"));
    assert_int_equal(cfg->tcp_idle_timeout_ms, 3600000);
    assert_int_equal(cfg->udp_max_size, 65535);
    config_free(cfg);
}

static void
test_relative_paths(void **state)
{
    char dir[128], path[PATH_MAX], want[PATH_MAX], cwd[PATH_MAX];
    struct config *cfg;
    FILE *f;

    (void)state;
    snprintf(dir, sizeof(dir), "%s/sub", tmpdir);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(path, sizeof(path), "%s/meridian.yaml", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("zones:\n"
          "  - origin: a.example\n"
          "    file: a.zone\n"
          "  - origin: b.example\n"
          "    file: zones/b.zone\n"
          "  - origin: c.example\n"
          "    file: /abs/c.zone\n",
          f);
    assert_int_equal(fclose(f), 0);

    cfg = load_ok(path);
    snprintf(want, sizeof(want), "%s/a.zone", dir);
    assert_string_equal(cfg->zones[0].file, want);
    snprintf(want, sizeof(want), "%s/zones/b.zone", dir);
    assert_string_equal(cfg->zones[1].file, want);
    assert_string_equal(cfg->zones[2].file, "/abs/c.zone");
    config_free(cfg);

    /* A config path without a directory: zone paths stay relative to the working dir. */
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(dir), 0);
    cfg = load_ok("meridian.yaml");
    assert_int_equal(chdir(cwd), 0);
    assert_string_equal(cfg->zones[0].file, "a.zone");
    assert_string_equal(cfg->zones[1].file, "zones/b.zone");
    config_free(cfg);
}

static void
test_unknown_keys(void **state)
{
    (void)state;
    expect_error("server:\n"
                 "  workers: 2\n"
                 "  x: 1\n",
                 "3: unknown key 'x' in server");
    expect_error("zones:\n"
                 "  - origin: a\n"
                 "    file: a\n"
                 "servers:\n"
                 "  workers: 2\n",
                 "4: unknown key 'servers' at top level");
    expect_error("zones:\n"
                 "  - origin: a\n"
                 "    file: a\n"
                 "    type: primary\n",
                 "4: unknown key 'type' in zones entry");
    expect_error("server:\n"
                 "  workers: 2\n"
                 "  workers: 3\n",
                 "3: duplicate key 'workers'");
}

static void
test_bad_types(void **state)
{
    (void)state;
    expect_error("server:\n  workers: many\n", "2: workers: expected 'auto' or an integer 1..256");
    expect_error("server:\n  workers: 0\n", "2: workers: expected 'auto' or an integer 1..256");
    expect_error("server:\n  workers: 257\n", "2: workers: expected 'auto' or an integer 1..256");
    expect_error("server:\n  workers: -1\n", "2: workers: expected 'auto' or an integer 1..256");
    expect_error("server:\n  workers: [1]\n", "2: workers: expected 'auto' or an integer 1..256");
    expect_error("server:\n  hide_version: maybe\n", "2: hide_version: expected true or false");
    expect_error("server:\n  udp_max_size: 511\n",
                 "2: udp_max_size: expected an integer 512..65535");
    expect_error("server:\n  udp_max_size: 65536\n",
                 "2: udp_max_size: expected an integer 512..65535");
    expect_error("server:\n  tcp_max_pipelined: 257\n",
                 "2: tcp_max_pipelined: expected an integer 1..256");
    expect_error("server:\n  tcp_max_connections: 99999999999999999999999\n",
                 "2: tcp_max_connections: expected an integer 1..65535");
    expect_error("server:\n  log_level: verbose\n",
                 "2: log_level: expected error, warning, info or debug");
    expect_error("server:\n  identity: {a: b}\n", "2: identity: expected a string of 1..255 bytes");
    expect_error("server:\n  version: \"\"\n", "2: version: expected a string of 1..255 bytes");
    expect_error("server:\n  nsid: hex:abc\n",
                 "2: nsid: expected text or hex:<hex digits>, 1..512 bytes");
    expect_error("server:\n  nsid: hex:zz\n",
                 "2: nsid: expected text or hex:<hex digits>, 1..512 bytes");
    expect_error("server:\n  identity:\n", "2: identity: missing value");
    expect_error("server: [1, 2]\n", "1: server: expected a mapping");
    expect_error("- a\n- b\n", "1: expected a mapping at top level");
    expect_error("zones: example.com\n", "1: zones: expected a list of zones");
    expect_error("zones:\n  - example.com\n", "2: zones entry: expected a mapping");
}

static void
test_bad_address(void **state)
{
    (void)state;
    expect_error("server:\n"
                 "  listen:\n"
                 "    - 127.0.0.1:5353\n"
                 "    - localhost:53\n",
                 "4: listen: invalid address 'localhost:53' (expected IP, IP:port or "
                 "[IPv6]:port)");
    expect_error("server:\n  listen: \"127.0.0.1:99999\"\n",
                 "2: listen: invalid address '127.0.0.1:99999' (expected IP, IP:port or "
                 "[IPv6]:port)");
    expect_error("server:\n  listen: [\"::1\", \"[::1]:53\"]\n",
                 "2: listen: duplicate address '[::1]:53'");
    expect_error("server:\n  listen: []\n", "2: listen: expected at least one address");
    expect_error("server:\n  listen: {a: b}\n",
                 "2: listen: expected an address or a list of addresses");
}

static void
test_bad_duration(void **state)
{
    static const char *const bad[] = {"10x", "0",   "0ms",  "2h",   "3601s",
                                      "s",   "-1s", "1.5s", "10 s", "99999999999999999999"};
    char yaml[128];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(yaml, sizeof(yaml), "\nserver:\n  tcp_idle_timeout: %s\n", bad[i]);
        expect_error(yaml, "3: tcp_idle_timeout: expected a duration 1ms..1h "
                           "(e.g. 10s, 500ms, 2m)");
    }
}

static void
test_bad_zones(void **state)
{
    (void)state;
    expect_error("zones:\n"
                 "  - origin: a.example\n"
                 "    file: a\n"
                 "  - origin: bad..example\n"
                 "    file: b\n",
                 "4: origin: invalid domain name 'bad..example'");
    expect_error("zones:\n  - origin: \"\"\n    file: a\n", "2: origin: invalid domain name ''");
    expect_error("zones:\n"
                 "  - origin: a.example\n"
                 "    file: a\n"
                 "  - origin: b.example\n"
                 "    file: b\n"
                 "  - origin: A.Example.\n"
                 "    file: c\n"
                 "  - origin: b.example\n"
                 "    file: d\n",
                 "6: duplicate zone 'A.Example.' (first at line 2)");
    expect_error("server:\n  workers: 1\n", "1: missing key 'zones' at top level");
    expect_error("", "1: missing key 'zones' at top level");
    expect_error("# nothing\n", "1: missing key 'zones' at top level");
    expect_error("zones: []\n", "1: zones: expected at least one zone");
    expect_error("zones:\n"
                 "  - origin: a\n"
                 "    file: a\n"
                 "  - origin: b\n",
                 "4: missing key 'file' in zones entry (or 'primaries' for a secondary zone)");
    expect_error("zones:\n  - file: a\n", "2: missing key 'origin' in zones entry");
}

static void
test_yaml_syntax(void **state)
{
    (void)state;
    expect_error("server:\n"
                 "  listen: [\"127.0.0.1:53\"\n"
                 "zones: []\n",
                 "3: YAML syntax error: did not find expected ',' or ']' "
                 "(while parsing a flow sequence at line 2)");
    expect_error("zones:\n"
                 "  - origin: a\n"
                 "     file: a\n",
                 "3: YAML syntax error: mapping values are not allowed in this context");
    expect_error("zones:\n"
                 "  - {origin: a, file: a}\n"
                 "---\n"
                 "zones: []\n",
                 "4: expected a single YAML document");
}

static void
test_missing_file(void **state)
{
    struct config *cfg = (struct config *)1;
    char err[CONFIG_ERR_MAX], path[PATH_MAX], want[PATH_MAX + 64];

    (void)state;
    snprintf(path, sizeof(path), "%s/nonexistent.yaml", tmpdir);
    assert_int_equal(config_load(path, &cfg, err), -1);
    assert_null(cfg);
    snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
    assert_string_equal(err, want);

    assert_int_equal(config_load(tmpdir, &cfg, err), -1);
    snprintf(want, sizeof(want), "%s: cannot open: Is a directory", tmpdir);
    assert_string_equal(err, want);
}

/* The checked-in broken configs, as a user would hand them to `meridiand -n`. */
static void
test_fixtures(void **state)
{
    static const struct {
        const char *file;
        const char *where;
    } cases[] = {
        {"bad_unknown_key.yaml", "6: unknown key 'tcp_timeout' in server"},
        {"bad_duplicate_zone.yaml", "9: duplicate zone 'example.com.' (first at line 5)"},
        {"bad_syntax.yaml", "4: YAML syntax error: did not find expected key "
                            "(while parsing a block mapping at line 2)"},
    };
    const char *src = getenv("MERIDIAN_SOURCE_DIR");
    char path[PATH_MAX];

    (void)state;
    if (!src)
        fail_msg("MERIDIAN_SOURCE_DIR is not set (ctest sets it to the source tree)");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(path, sizeof(path), "%s/tests/unit/config/%s", src, cases[i].file);
        expect_error_at(path, cases[i].where);
    }
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

/* `dnssec:` on a zone entry: true (defaults), a mapping (each key), and the errors. */
static void
test_dnssec(void **state)
{
    (void)state;
    struct config *cfg = load_ok(write_file("dnssec.yaml", "server:\n"
                                                          "  state_file: /var/lib/m/state\n"
                                                          "zones:\n"
                                                          "  - origin: a.example\n"
                                                          "    file: a.zone\n"
                                                          "    dnssec: true\n"
                                                          "  - origin: b.example\n"
                                                          "    file: b.zone\n"
                                                          "    dnssec:\n"
                                                          "      algorithm: ed25519\n"
                                                          "      keys: ksk-zsk\n"
                                                          "      validity: 30d\n"
                                                          "      refresh: 10d\n"
                                                          "      nsec3_iterations: 5\n"
                                                          "      nsec3_salt: aBcd\n"
                                                          "      key_directory: k\n"
                                                          "  - origin: c.example\n"
                                                          "    file: c.zone\n"));
    const struct config_dnssec *a = &cfg->zones[0].dnssec, *b = &cfg->zones[1].dnssec;
    assert_true(a->enabled);
    assert_int_equal(a->algorithm, 13);
    assert_int_equal(a->keys, CONFIG_DNSSEC_CSK);
    assert_int_equal(a->validity_ms, 14u * 86400000u);
    assert_int_equal(a->refresh_ms, 5u * 86400000u);
    assert_int_equal(a->nsec3_iterations, 0);
    assert_int_equal(a->nsec3_salt_len, 0);
    assert_string_equal(a->key_directory, "/var/lib/m/keys"); /* beside the state file */
    assert_true(b->enabled);
    assert_int_equal(b->algorithm, 15);
    assert_int_equal(b->keys, CONFIG_DNSSEC_KSK_ZSK);
    assert_int_equal(b->validity_ms, 30u * 86400000u);
    assert_int_equal(b->refresh_ms, 10u * 86400000u);
    assert_int_equal(b->nsec3_iterations, 5);
    assert_int_equal(b->nsec3_salt_len, 2);
    assert_int_equal(b->nsec3_salt[0], 0xab);
    assert_int_equal(b->nsec3_salt[1], 0xcd);
    char want[PATH_MAX];
    snprintf(want, sizeof(want), "%s/k", tmpdir);
    assert_string_equal(b->key_directory, want);
    assert_false(cfg->zones[2].dnssec.enabled);
    /* Unsigned zones get the default too: where a zone signed before keeps its serial. */
    assert_non_null(cfg->zones[2].dnssec.key_directory);
    config_free(cfg);

    /* server.key_directory is the default for every signed zone. */
    cfg = load_ok(write_file("dnssec2.yaml", "server: { key_directory: /srv/keys }\n"
                                             "zones:\n"
                                             "  - { origin: a.example, file: a.zone, dnssec: yes }\n"));
    assert_string_equal(cfg->zones[0].dnssec.key_directory, "/srv/keys");
    config_free(cfg);

    static const char head[] = "zones:\n  - origin: a.example\n    file: a.zone\n    dnssec:";
    char yaml[512];
    snprintf(yaml, sizeof(yaml), "%s maybe\n", head);
    expect_error(yaml, "4: dnssec: expected true, false or a mapping");
    snprintf(yaml, sizeof(yaml), "%s { algorithm: rsasha1 }\n", head);
    expect_error(yaml, "4: algorithm: expected ecdsap256sha256 or ed25519");
    snprintf(yaml, sizeof(yaml), "%s { nsec3_iterations: 101 }\n", head);
    expect_error(yaml, "4: nsec3_iterations: expected an integer 0..100");
    snprintf(yaml, sizeof(yaml), "%s { nsec3_salt: abc }\n", head);
    expect_error(yaml, "4: nsec3_salt: expected hexadecimal digits (at most 255 bytes) or \"-\" "
                       "for none");
    snprintf(yaml, sizeof(yaml), "%s { validity: 7d, refresh: 7d }\n", head);
    expect_error(yaml, "4: dnssec: refresh must be shorter than validity (signatures are "
                       "renewed when `refresh` is left of their `validity`)");
    snprintf(yaml, sizeof(yaml), "%s { validity: 50d }\n", head);
    expect_error(yaml, "4: validity: expected a duration 1h..45d (e.g. 10s, 500ms, 2m)");
    snprintf(yaml, sizeof(yaml), "%s { colour: blue }\n", head);
    expect_error(yaml, "4: unknown key 'colour' in dnssec");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),         cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_scalar_forms), cmocka_unit_test(test_relative_paths),
        cmocka_unit_test(test_unknown_keys), cmocka_unit_test(test_bad_types),
        cmocka_unit_test(test_bad_address),  cmocka_unit_test(test_bad_duration),
        cmocka_unit_test(test_bad_zones),    cmocka_unit_test(test_yaml_syntax),
        cmocka_unit_test(test_missing_file), cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_dnssec),
        cmocka_unit_test(test_zone_bounds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
