// SPDX-License-Identifier: MIT
/* Unit tests for a zone entry's `transfer:` and `notify:` (config_transfer.c): every form
 * accepted, what it is parsed into, and the exact "file:line: message" of each error. The
 * YAML goes into a private mkdtemp directory, removed at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include "test_tmpdir.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

static char dir[] = "/tmp/meridian-test-transfer-XXXXXX";

static struct config *
must_load(const char *text)
{
    struct config *cfg = NULL;
    char err[CONFIG_ERR_MAX];
    const char *path = test_tmpdir_write(dir, "meridian.yaml", text);
    if (config_load(path, &cfg, err) != 0)
        fail_msg("config_load: %s", err);
    return cfg;
}

/* The zone entry `entry` (indented as a list item's keys) must fail with "<path>:<where>".
 * The file defines TSIG keys k1 and k2 after the zones (at lines past the entry's). */
static void
must_fail(const char *entry, const char *where)
{
    char text[2048], want[CONFIG_ERR_MAX + PATH_MAX], err[CONFIG_ERR_MAX];
    snprintf(text, sizeof(text),
             "zones:\n  - origin: example.com\n    file: e.zone\n%stsig_keys:\n"
             "  k1: { algorithm: hmac-sha256, secret: \"AAAA\" }\n"
             "  k2: { algorithm: hmac-sha256, secret: \"AAAA\" }\n",
             entry);
    const char *path = test_tmpdir_write(dir, "meridian.yaml", text);
    struct config *cfg = (struct config *)1;
    assert_int_equal(config_load(path, &cfg, err), -1);
    assert_null(cfg);
    snprintf(want, sizeof(want), "%s:%s", path, where);
    assert_string_equal(err, want);
}

static void
test_transfer_forms(void **state)
{
    (void)state;
    struct config *cfg = must_load("zones:\n"
                                   "  - origin: a.example\n"
                                   "    file: a.zone\n"
                                   "    transfer: { allow: [\"192.0.2.0/24\", \"::1\"], keys: "
                                   "[xfr-key, Other.Key.] }\n"
                                   "    notify: [\"127.0.0.1:5300\", \"[::1]:5301\", "
                                   "\"127.0.0.2\"]\n"
                                   "  - origin: b.example\n"
                                   "    file: b.zone\n"
                                   "    transfer:\n"
                                   "      keys: [k]\n"
                                   "    notify:\n"
                                   "      - { address: \"127.0.0.1:5300\", key: K. }\n"
                                   "      - address: \"[::1]\"\n"
                                   "      - \"127.0.0.3\"\n"
                                   "  - origin: c.example\n"
                                   "    file: c.zone\n"
                                   "tsig_keys:\n"
                                   "  other.key: { algorithm: hmac-sha256, secret: \"AAAA\" }\n"
                                   "  xfr-key: { algorithm: hmac-sha256, secret: \"AAAA\" }\n"
                                   "  k: { algorithm: hmac-sha512, secret: \"AAAA\" }\n");
    const struct config_zone *a = &cfg->zones[0], *b = &cfg->zones[1], *c = &cfg->zones[2];
    assert_true(a->transfer.enabled);
    assert_int_equal(a->transfer.line, 4);
    assert_int_equal(a->transfer.allow_count, 2);
    assert_int_equal(a->transfer.allow[0].family, 4);
    assert_int_equal(a->transfer.allow[0].prefix_len, 24);
    uint8_t net[4] = {192, 0, 2, 0};
    assert_memory_equal(a->transfer.allow[0].addr, net, 4);
    /* A bare address is a host. */
    assert_int_equal(a->transfer.allow[1].family, 6);
    assert_int_equal(a->transfer.allow[1].prefix_len, 128);
    assert_int_equal(a->transfer.allow[1].addr[15], 1);
    assert_int_equal(a->transfer.key_count, 2);
    assert_string_equal(a->transfer.keys[0], "xfr-key");
    assert_string_equal(a->transfer.keys[1], "Other.Key.");
    assert_int_equal(a->transfer.key_lines[1], 4);
    assert_int_equal(a->notify_count, 3);
    const struct sockaddr_in *n0 = (const struct sockaddr_in *)&a->notify[0].addr;
    assert_int_equal(n0->sin_family, AF_INET);
    assert_int_equal(ntohs(n0->sin_port), 5300);
    assert_int_equal(ntohl(n0->sin_addr.s_addr), 0x7f000001);
    assert_string_equal(a->notify[0].text, "127.0.0.1:5300");
    const struct sockaddr_in6 *n1 = (const struct sockaddr_in6 *)&a->notify[1].addr;
    assert_int_equal(n1->sin6_family, AF_INET6);
    assert_int_equal(ntohs(n1->sin6_port), 5301);
    /* No port: RFC 1996 goes to the DNS port. */
    const struct sockaddr_in *n2 = (const struct sockaddr_in *)&a->notify[2].addr;
    assert_int_equal(ntohs(n2->sin_port), 53);
    assert_int_equal(a->notify[2].line, 5);
    assert_null(a->notify[0].key);
    assert_null(a->notify[0].tsig_key);

    assert_true(b->transfer.enabled);
    assert_int_equal(b->transfer.allow_count, 0);
    assert_null(b->transfer.allow);
    assert_int_equal(b->transfer.key_count, 1);
    assert_int_equal(b->transfer.key_lines[0], 9);
    /* Targets with a key (resolved to its tsig_keys entry, names compared as domain names),
     * a mapping without one, and a plain string in the same list. */
    assert_int_equal(b->notify_count, 3);
    const struct sockaddr_in *b0 = (const struct sockaddr_in *)&b->notify[0].addr;
    assert_int_equal(ntohs(b0->sin_port), 5300);
    assert_string_equal(b->notify[0].text, "127.0.0.1:5300");
    assert_string_equal(b->notify[0].key, "K.");
    assert_int_equal(b->notify[0].line, 11);
    assert_ptr_equal(b->notify[0].tsig_key, &cfg->tsig_keys[2]);
    assert_int_equal(b->notify[1].addr.ss_family, AF_INET6);
    assert_int_equal(ntohs(((const struct sockaddr_in6 *)&b->notify[1].addr)->sin6_port), 53);
    assert_null(b->notify[1].key);
    assert_null(b->notify[1].tsig_key);
    assert_string_equal(b->notify[2].text, "127.0.0.3");
    assert_null(b->notify[2].tsig_key);

    assert_false(c->transfer.enabled);
    assert_int_equal(c->transfer.key_count, 0);
    assert_int_equal(c->notify_count, 0);
    config_free(cfg);
}

/* `journal`: server.journal is the default of every zone (true unless set), a zone's own
 * setting wins; the directory is `journal` beside the state file, else beside the config. */
static void
test_journal(void **state)
{
    (void)state;
    struct config *cfg = must_load("zones:\n"
                                   "  - { origin: a.example, file: a.zone }\n"
                                   "  - { origin: b.example, file: b.zone, journal: false }\n");
    char want[PATH_MAX + 16];
    assert_true(cfg->journal);
    assert_true(cfg->zones[0].journal);
    assert_false(cfg->zones[1].journal);
    snprintf(want, sizeof(want), "%s/journal", dir);
    assert_string_equal(cfg->journal_directory, want);
    config_free(cfg);
    cfg = must_load("server:\n  journal: false\n  state_file: /var/lib/m/state\n"
                    "zones:\n"
                    "  - { origin: a.example, file: a.zone }\n"
                    "  - { origin: b.example, file: b.zone, journal: true }\n");
    assert_false(cfg->zones[0].journal);
    assert_true(cfg->zones[1].journal);
    assert_string_equal(cfg->journal_directory, "/var/lib/m/journal");
    config_free(cfg);
    cfg = must_load("server:\n  journal_directory: jnl\nzones:\n  - { origin: a.example, "
                    "file: a.zone }\n");
    snprintf(want, sizeof(want), "%s/jnl", dir);
    assert_string_equal(cfg->journal_directory, want);
    config_free(cfg);
    must_fail("    journal: maybe\n", "4: journal: expected true or false, not 'maybe'");
}

static void
test_transfer_errors(void **state)
{
    (void)state;
    must_fail("    transfer: yes\n", "4: transfer: expected a mapping");
    must_fail("    transfer: {}\n",
              "4: transfer: give allow (networks), keys (TSIG key names) or both");
    must_fail("    transfer: { allow: [] }\n", "4: allow: expected at least one entry");
    must_fail("    transfer: { allow: 10.0.0.0/8 }\n", "4: allow: expected a list");
    must_fail("    transfer: { allow: [\"10.0.0.1/8\"] }\n",
              "4: allow: 10.0.0.1/8 has bits set beyond its prefix length (did you mean "
              "10.0.0.0/8?)");
    must_fail("    transfer:\n      allow:\n        - 10.0.0.0/8\n        - example.net\n",
              "7: allow: expected an address or network, e.g. 192.0.2.0/24 or 2001:db8::53, "
              "not 'example.net'");
    must_fail("    transfer: { keys: [\"a..b\"] }\n",
              "4: keys: expected a TSIG key name, not 'a..b'");
    must_fail("    transfer:\n      keys: [k1, K1.]\n", "5: keys: 'K1.' is listed twice");
    must_fail("    transfer: { allow: [\"::1\"], colour: blue }\n",
              "4: unknown key 'colour' in transfer");
    must_fail("    transfer: { allow: [\"::1\"] }\n    notify: []\n",
              "5: notify: expected at least one entry");
    must_fail("    transfer: { allow: [\"::1\"] }\n    notify: [\"127.0.0.1:99999\"]\n",
              "5: notify: expected ADDRESS or ADDRESS:PORT (IPv6 in brackets: "
              "\"[2001:db8::53]:53\"), not '127.0.0.1:99999'");
    must_fail("    transfer: { allow: [\"::1\"] }\n    notify:\n      - 127.0.0.1\n"
              "      - 127.0.0.1:53\n",
              "7: notify: 127.0.0.1:53 is listed twice (first at line 6)");
    /* Keys must be defined in tsig_keys, which may come later in the file. */
    must_fail("    transfer:\n      allow: [\"::1\"]\n      keys:\n        - k1\n"
              "        - xfr-key\n",
              "8: transfer: keys: no key 'xfr-key' in tsig_keys");
    must_fail("    transfer: { keys: [k2] }\n    notify:\n      - 127.0.0.1\n"
              "      - { address: \"127.0.0.2\", key: k3 }\n",
              "7: notify: key: no key 'k3' in tsig_keys");
    must_fail("    transfer: { keys: [k2] }\n    notify: [ { key: k1 } ]\n",
              "5: missing key 'address' in notify");
    must_fail(
        "    transfer: { keys: [k2] }\n    notify: [ { address: 127.0.0.1, key: \"a..b\" } ]\n",
        "5: notify: key: expected a TSIG key name, not 'a..b'");
    must_fail("    transfer: { keys: [k2] }\n    notify: [ { address: 127.0.0.1, port: 53 } ]\n",
              "5: unknown key 'port' in notify");
    must_fail("    transfer: { keys: [k2] }\n    notify:\n      - 127.0.0.1\n"
              "      - { address: \"127.0.0.1:53\", key: k1 }\n",
              "7: notify: 127.0.0.1:53 is listed twice (first at line 6)");
    /* Told of a change it could not fetch: a configuration mistake. */
    must_fail("    notify: [\"127.0.0.1:5300\"]\n",
              "4: notify: zone example.com has no `transfer:`, so the secondaries it notifies "
              "could not fetch the zone");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transfer_forms),
        cmocka_unit_test(test_transfer_errors),
        cmocka_unit_test(test_journal),
    };
    test_tmpdir_template = dir;
    return cmocka_run_group_tests(tests, test_tmpdir_setup, test_tmpdir_teardown);
}
