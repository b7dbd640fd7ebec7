// SPDX-License-Identifier: MIT
/* Unit tests for the `anycast:` loader (src/anycast/config.h): a full section, the defaults,
 * other top-level keys ignored, and the exact "file:line: message" of the errors. Each test
 * writes its YAML into a private mkdtemp directory, removed at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anycast/config.h"
#include "common/log.h"

static char tmpdir[] = "/tmp/meridian-test-anycast-XXXXXX";
static char path[PATH_MAX];

static const char *
write_config(const char *text)
{
    FILE *f;
    snprintf(path, sizeof(path), "%s/meridian.yaml", tmpdir);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* Loads `text`, expecting failure with exactly "PATH:LINE: message". */
static void
expect_error(const char *text, int line, const char *message)
{
    struct anycast_config *cfg = NULL;
    char err[ANYCAST_CONFIG_ERR_MAX], want[PATH_MAX + ANYCAST_CONFIG_ERR_MAX];
    write_config(text);
    assert_int_equal(anycast_config_load(path, &cfg, err), -1);
    assert_null(cfg);
    snprintf(want, sizeof(want), "%s:%d: %s", path, line, message);
    assert_string_equal(err, want);
}

static const char minimal[] = "anycast:\n"
                              "  prefixes: [\"192.0.2.53/32\"]\n"
                              "  service_addresses: [\"192.0.2.53\"]\n"
                              "  canary: {name: canary.example.com, expect: 192.0.2.1}\n";

static void
test_full(void **unused)
{
    struct anycast_config *cfg;
    char err[ANYCAST_CONFIG_ERR_MAX];
    (void)unused;
    write_config("server:\n"
                 "  listen: [\"127.0.0.1:5300\"]\n"
                 "zones: []\n"
                 "anycast:\n"
                 "  prefixes: [\"192.0.2.53/32\", \"2001:db8:53::53/128\"]\n"
                 "  service_addresses: [\"192.0.2.53\", \"[2001:db8:53::53]:5353\"]\n"
                 "  canary: { name: canary.example.com, type: AAAA, expect: \"2001:db8::1\" }\n"
                 "  interval: 2s\n"
                 "  fast_interval: 100ms\n"
                 "  timeout: 300ms\n"
                 "  tcp_every: 0\n"
                 "  rise: 5\n"
                 "  fall: 2\n"
                 "  hold_down: 10s\n"
                 "  hold_down_max: 5m\n"
                 "  flap_reset: 10m\n"
                 "  drain_time: 30s\n"
                 "  gate_device: acast0\n"
                 "  drain_device: acast0d\n"
                 "  bird_socket: bird.ctl\n"
                 "  bird_protocols: [anycast4, anycast6]\n"
                 "  bird_drain_protocols: [anycast4d, anycast6d]\n"
                 "  bird_peers: [up4, up6]\n"
                 "  bird_interval: 1s\n"
                 "  control_socket: /run/meridian/anycast.sock\n"
                 "  meridiand_control: /run/meridian/control.sock\n"
                 "  max_data_age: 1h\n"
                 "  fallback_include: anycast.conf\n"
                 "  log_level: debug\n");
    assert_int_equal(anycast_config_load(path, &cfg, err), 0);
    assert_int_equal(cfg->prefix_count, 2);
    assert_string_equal(cfg->prefixes[0].text, "192.0.2.53/32");
    assert_int_equal(cfg->prefixes[0].family, AF_INET);
    assert_int_equal(cfg->prefixes[0].len, 32);
    assert_string_equal(cfg->prefixes[1].text, "2001:db8:53::53/128");
    assert_int_equal(cfg->service_count, 2);
    assert_string_equal(cfg->services[0].text, "192.0.2.53:53");
    assert_string_equal(cfg->services[1].text, "[2001:db8:53::53]:5353");
    assert_string_equal(cfg->canary_name, "canary.example.com");
    assert_string_equal(cfg->canary_type, "AAAA");
    assert_string_equal(cfg->canary_expect, "2001:db8::1");
    assert_int_equal(cfg->interval_ms, 2000);
    assert_int_equal(cfg->fast_interval_ms, 100);
    assert_int_equal(cfg->timeout_ms, 300);
    assert_int_equal(cfg->tcp_every, 0);
    assert_int_equal(cfg->rise, 5);
    assert_int_equal(cfg->fall, 2);
    assert_int_equal(cfg->hold_down_ms, 10000);
    assert_int_equal(cfg->hold_down_max_ms, 300000);
    assert_int_equal(cfg->flap_reset_ms, 600000);
    assert_int_equal(cfg->drain_time_ms, 30000);
    assert_string_equal(cfg->gate_device, "acast0");
    assert_string_equal(cfg->drain_device, "acast0d");
    /* Relative paths follow the config file. */
    assert_int_equal(strncmp(cfg->bird_socket, tmpdir, strlen(tmpdir)), 0);
    assert_string_equal(cfg->bird_socket + strlen(tmpdir), "/bird.ctl");
    assert_int_equal(cfg->bird_protocol_count, 2);
    assert_string_equal(cfg->bird_protocols[1], "anycast6");
    assert_int_equal(cfg->bird_drain_protocol_count, 2);
    assert_string_equal(cfg->bird_drain_protocols[0], "anycast4d");
    assert_int_equal(cfg->bird_peer_count, 2);
    assert_string_equal(cfg->bird_peers[1], "up6");
    assert_int_equal(cfg->bird_interval_ms, 1000);
    assert_string_equal(cfg->control_socket, "/run/meridian/anycast.sock");
    assert_string_equal(cfg->meridiand_control, "/run/meridian/control.sock");
    assert_int_equal(cfg->max_data_age_ms, 3600000);
    assert_string_equal(cfg->fallback_include + strlen(tmpdir), "/anycast.conf");
    assert_int_equal(cfg->log_level, LOG_LEVEL_DEBUG);
    anycast_config_free(cfg);
}

static void
test_defaults(void **unused)
{
    struct anycast_config *cfg;
    char err[ANYCAST_CONFIG_ERR_MAX];
    (void)unused;
    write_config(minimal);
    assert_int_equal(anycast_config_load(path, &cfg, err), 0);
    assert_string_equal(cfg->canary_type, "A");
    assert_int_equal(cfg->interval_ms, 1000);
    assert_int_equal(cfg->fast_interval_ms, 200);
    assert_int_equal(cfg->timeout_ms, 500);
    assert_int_equal(cfg->tcp_every, 5);
    assert_int_equal(cfg->rise, 3);
    assert_int_equal(cfg->fall, 3);
    assert_int_equal(cfg->hold_down_ms, 5000);
    assert_int_equal(cfg->hold_down_max_ms, 300000);
    assert_int_equal(cfg->flap_reset_ms, 600000);
    assert_int_equal(cfg->drain_time_ms, 5000);
    assert_string_equal(cfg->gate_device, "mgate0");
    assert_string_equal(cfg->drain_device, "mdrain0");
    assert_string_equal(cfg->bird_socket, "/run/bird/bird.ctl");
    assert_int_equal(cfg->bird_protocol_count, 0);
    assert_int_equal(cfg->bird_peer_count, 0);
    assert_int_equal(cfg->bird_interval_ms, 2000);
    assert_string_equal(cfg->control_socket, "/run/meridian-anycast/anycast.sock");
    assert_null(cfg->meridiand_control);
    assert_int_equal(cfg->max_data_age_ms, 0);
    assert_null(cfg->fallback_include);
    assert_int_equal(cfg->log_level, LOG_LEVEL_INFO);
    anycast_config_free(cfg);

    /* "" switches the optional paths off. */
    write_config("anycast:\n"
                 "  prefixes: [\"192.0.2.53/32\"]\n"
                 "  service_addresses: [\"192.0.2.53\"]\n"
                 "  canary: {name: canary.example.com, expect: 192.0.2.1}\n"
                 "  bird_socket: \"\"\n"
                 "  meridiand_control: \"\"\n"
                 "  fallback_include: \"\"\n");
    assert_int_equal(anycast_config_load(path, &cfg, err), 0);
    assert_null(cfg->bird_socket);
    assert_null(cfg->meridiand_control);
    assert_null(cfg->fallback_include);
    anycast_config_free(cfg);
}

static void
test_errors(void **unused)
{
    (void)unused;
    expect_error("zones: []\n", 1, "missing key 'anycast' at top level");
    expect_error("- a\n", 1, "expected a mapping at top level");
    expect_error("anycast: [1]\n", 1, "anycast: expected a mapping");
    expect_error("anycast:\n  prefixes: [\"192.0.2.53/32\"]\n", 2,
                 "missing key 'service_addresses' in anycast");
    expect_error("anycast:\n  prefixes: [\"192.0.2.53/32\"]\n  bogus: 1\n", 3,
                 "unknown key 'bogus' in anycast");
    expect_error("anycast:\n  prefixes: [\"192.0.2.53/32\", \"192.0.2.1/24\"]\n", 2,
                 "prefixes: invalid prefix '192.0.2.1/24' (expected ADDRESS/LENGTH, no host bits "
                 "set)");
    expect_error("anycast:\n  prefixes: [\"192.0.2.53/32\", \"192.0.2.53/32\"]\n", 2,
                 "prefixes: '192.0.2.53/32' is listed twice");
    expect_error("anycast:\n  prefixes: []\n", 2, "prefixes: expected 1..64 entries");
    expect_error("anycast:\n  prefixes: \"192.0.2.53/32\"\n", 2, "prefixes: expected a list");
    expect_error("anycast:\n  service_addresses: [\"192.0.2.53:99999\"]\n", 2,
                 "service_addresses: invalid address '192.0.2.53:99999' (expected IP, IP:port "
                 "or [IPv6]:port)");
    expect_error("anycast:\n  canary: {name: c.example, type: MX, expect: x}\n", 2,
                 "canary: type must be A, AAAA, TXT, CNAME, NS or PTR");
    expect_error("anycast:\n  canary: {name: c.example, expect: 2001:db8::1}\n", 2,
                 "canary: expect '2001:db8::1' is not an IPv4 address");
    expect_error("anycast:\n  canary: {name: c.example}\n", 2, "missing key 'expect' in canary");
    expect_error("anycast:\n  interval: 5\n  timeout: 2h\n", 3,
                 "timeout: expected a duration 10ms..1m (e.g. 10s, 500ms, 2m)");
    expect_error("anycast:\n  rise: 0\n", 2, "rise: expected an integer 1..100");
    expect_error("anycast:\n  gate_device: \"bad/name\"\n", 2,
                 "gate_device: expected an interface name of 1..15 characters (letters, digits, "
                 "'_', '.', '-')");
    expect_error("anycast:\n  bird_peers: [\"1up\"]\n", 2,
                 "bird_peers: '1up' is not a BIRD protocol name");
    expect_error("anycast:\n  control_socket: \"\"\n"
                 "  prefixes: [\"192.0.2.53/32\"]\n"
                 "  service_addresses: [\"192.0.2.53\"]\n"
                 "  canary: {name: canary.example.com, expect: 192.0.2.1}\n",
                 2, "control_socket: expected a path");
}

static void
test_cross_key_errors(void **unused)
{
    char text[1024];
    (void)unused;
    snprintf(text, sizeof(text), "%s  hold_down: 1m\n  hold_down_max: 10s\n", minimal);
    expect_error(text, 6, "hold_down_max: must not be below hold_down (60000 ms)");
    snprintf(text, sizeof(text), "%s  drain_device: mgate0\n", minimal);
    expect_error(text, 5, "drain_device: must differ from gate_device");
    snprintf(text, sizeof(text), "%s  fallback_include: /tmp/x.conf\n", minimal);
    expect_error(text, 5,
                 "bird_protocols: fallback_include needs one static protocol per address "
                 "family of `prefixes` (1, IPv4 first)");
    snprintf(text, sizeof(text), "%s  fallback_include: /tmp/x.conf\n  bird_socket: \"\"\n",
             minimal);
    expect_error(text, 5, "fallback_include: needs bird_socket (to send `configure`)");
    snprintf(text, sizeof(text), "%sanycast:\n  rise: 1\n", minimal);
    expect_error(text, 5, "duplicate key 'anycast'");
}

static int
setup(void **unused)
{
    (void)unused;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown(void **unused)
{
    (void)unused;
    unlink(path);
    return rmdir(tmpdir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_cross_key_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
