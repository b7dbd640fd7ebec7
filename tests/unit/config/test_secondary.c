// SPDX-License-Identifier: MIT
/* Unit tests for a secondary zone entry's `primaries:` (config_secondary.c): the forms
 * accepted, the default path of the zone's copy, and the exact "file:line: message" of each
 * error. The YAML goes into a private mkdtemp directory, removed at the end. */
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

static char dir[] = "/tmp/meridian-test-secondary-XXXXXX";

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

#define KEYS "tsig_keys:\n  xfr-key: { algorithm: hmac-sha256, secret: \"c2VjcmV0\" }\n"

/* `text` must fail with "<path>:<where>". */
static void
must_fail(const char *text, const char *where)
{
    char want[CONFIG_ERR_MAX + PATH_MAX], err[CONFIG_ERR_MAX];
    const char *path = test_tmpdir_write(dir, "meridian.yaml", text);
    struct config *cfg = (struct config *)1;
    assert_int_equal(config_load(path, &cfg, err), -1);
    assert_null(cfg);
    snprintf(want, sizeof(want), "%s:%s", path, where);
    assert_string_equal(err, want);
}

static void
test_primaries_forms(void **state)
{
    (void)state;
    char want[PATH_MAX + 64];
    struct config *cfg = must_load(KEYS "zones:\n"
                                        "  - origin: example.net.\n"
                                        "    primaries:\n"
                                        "      - { address: \"127.0.0.1:5300\", key: xfr-key }\n"
                                        "      - address: \"::1\"\n"
                                        "  - origin: b.example\n"
                                        "    file: copies/b.zone\n"
                                        "    primaries: [ { address: 127.0.0.2 } ]\n"
                                        "  - origin: c.example\n"
                                        "    file: c.zone\n");
    const struct config_zone *a = &cfg->zones[0], *b = &cfg->zones[1], *c = &cfg->zones[2];
    assert_int_equal(a->primary_count, 2);
    assert_string_equal(a->primaries[0].text, "127.0.0.1:5300");
    assert_string_equal(a->primaries[0].key, "xfr-key");
    assert_int_equal(a->primaries[0].line, 6);
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->primaries[0].addr;
    assert_int_equal(sin->sin_family, AF_INET);
    assert_int_equal(ntohs(sin->sin_port), 5300);
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->primaries[1].addr;
    assert_int_equal(sin6->sin6_family, AF_INET6);
    assert_int_equal(ntohs(sin6->sin6_port), 53);
    assert_null(a->primaries[1].key);
    /* No file: the copy goes beside the config (no state file), trailing dot dropped. */
    assert_true(a->file_default);
    snprintf(want, sizeof(want), "%s/secondary/example.net.zone", dir);
    assert_string_equal(a->file, want);
    assert_false(b->file_default);
    snprintf(want, sizeof(want), "%s/copies/b.zone", dir);
    assert_string_equal(b->file, want);
    assert_int_equal(b->primary_count, 1);
    assert_null(c->primaries);
    assert_int_equal(c->primary_count, 0);
    config_free(cfg);

    /* With a state file, the copies go beside it. */
    cfg = must_load("server:\n  state_file: /var/lib/meridian/state\n"
                    "zones:\n  - origin: example.net\n"
                    "    primaries: [ { address: \"127.0.0.1\" } ]\n");
    assert_string_equal(cfg->zones[0].file, "/var/lib/meridian/secondary/example.net.zone");
    config_free(cfg);
}

static void
test_primaries_errors(void **state)
{
    (void)state;
    must_fail("zones:\n  - origin: example.net\n",
              "2: missing key 'file' in zones entry (or 'primaries' for a secondary zone)");
    must_fail("zones:\n  - origin: example.net\n    primaries: []\n",
              "3: primaries: expected at least one primary");
    must_fail("zones:\n  - origin: example.net\n    primaries: 127.0.0.1\n",
              "3: primaries: expected a list of { address: \"ADDR:PORT\", key: NAME }");
    must_fail("zones:\n  - origin: example.net\n    primaries: [ \"127.0.0.1\" ]\n",
              "3: primaries: expected { address: \"ADDR:PORT\", key: NAME }");
    must_fail("zones:\n  - origin: example.net\n    primaries:\n      - key: k\n",
              "4: missing key 'address' in primaries entry");
    must_fail("zones:\n  - origin: example.net\n    primaries:\n"
              "      - address: \"127.0.0.1:99999\"\n",
              "4: primaries: address: expected ADDRESS or ADDRESS:PORT (IPv6 in brackets: "
              "\"[2001:db8::53]:53\"), not '127.0.0.1:99999'");
    must_fail("zones:\n  - origin: example.net\n    primaries:\n"
              "      - { address: 127.0.0.1, port: 53 }\n",
              "4: unknown key 'port' in primaries entry");
    must_fail("zones:\n  - origin: example.net\n    primaries:\n"
              "      - { address: \"127.0.0.1:53\" }\n      - { address: 127.0.0.1 }\n",
              "5: primaries: 127.0.0.1 is listed twice (first at line 4)");
    must_fail("zones:\n  - origin: example.net\n    primaries:\n"
              "      - { address: 127.0.0.1, key: \"a..b\" }\n",
              "4: primaries: key: expected a TSIG key name, not 'a..b'");
    must_fail("zones:\n  - origin: example.net\n    primaries:\n"
              "      - { address: 127.0.0.1, key: nokey }\n",
              "4: primaries: key 'nokey' is not in tsig_keys");
    must_fail("zones:\n  - origin: example.net\n    primaries:\n"
              "      - { address: 127.0.0.1 }\n    dnssec: true\n",
              "5: dnssec: zone example.net is a secondary: it is served as transferred (signed "
              "by its primary or not), so `dnssec:` is not supported on it");
}

/* `catalog:` (RFC 9432): on a secondary only; a member entry copies the catalog's primaries,
 * transfer and notify, and config_free frees both (ASan sees a double free or a leak). */
static void
test_catalog(void **state)
{
    (void)state;
    must_fail("zones:\n  - origin: cat.example\n    file: cat.zone\n    catalog: true\n",
              "4: catalog: zone cat.example has no `primaries:`: a catalog zone (RFC 9432) is "
              "consumed as a secondary, its members from its primaries");
    must_fail("zones:\n  - origin: cat.example\n    primaries: [ { address: 127.0.0.1 } ]\n"
              "    catalog: maybe\n",
              "4: catalog: expected true, false or produce, not 'maybe'");
    must_fail("zones:\n  - origin: cat.example\n    file: cat.zone\n    catalog: produce\n",
              "4: catalog: produce: zone cat.example is generated from the other zones: it "
              "takes neither `file:` nor `primaries:`");
    struct config *cfg =
        must_load(KEYS "zones:\n  - origin: cat.example\n"
                       "    primaries: [ { address: 127.0.0.1, key: xfr-key } ]\n"
                       "    catalog: true\n"
                       "    transfer: { allow: [127.0.0.1], keys: [xfr-key] }\n"
                       "    notify: [ { address: \"127.0.0.1:5300\", key: xfr-key } ]\n"
                       "  - origin: plain.example\n"
                       "    primaries: [ { address: 127.0.0.2 } ]\n");
    assert_true(cfg->zones[0].catalog);
    assert_false(cfg->zones[1].catalog);
    config_zone_add_member(cfg, 0, "member.example.", "/var/m/member.example.zone");
    assert_int_equal(cfg->zone_count, 3);
    const struct config_zone *m = &cfg->zones[2], *c = &cfg->zones[0];
    assert_string_equal(m->origin, "member.example.");
    assert_string_equal(m->file, "/var/m/member.example.zone");
    assert_ptr_equal(m->member_of, c->origin);
    assert_false(m->catalog);
    assert_int_equal(m->primary_count, 1);
    assert_ptr_not_equal(m->primaries, c->primaries);
    assert_string_equal(m->primaries[0].key, "xfr-key");
    assert_true(m->transfer.enabled);
    assert_int_equal(m->transfer.allow_count, 1);
    assert_string_equal(m->transfer.keys[0], "xfr-key");
    assert_int_equal(m->notify_count, 1);
    assert_string_equal(m->notify[0].text, "127.0.0.1:5300");
    assert_ptr_equal(m->notify[0].tsig_key, c->notify[0].tsig_key);
    config_free(cfg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_primaries_forms),
        cmocka_unit_test(test_primaries_errors),
        cmocka_unit_test(test_catalog),
    };
    test_tmpdir_template = dir;
    return cmocka_run_group_tests(tests, test_tmpdir_setup, test_tmpdir_teardown);
}
