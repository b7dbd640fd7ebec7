// SPDX-License-Identifier: MIT
/* Unit tests for `server.dnstap` in config_load(): the defaults, every key, paths taken from
 * the config's directory, and the exact "file:line: message" of each error (both or neither
 * of socket and file, both record kinds off, sample out of range, a socket path too long for
 * sun_path, an unknown key). Files go into a private mkdtemp directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include "test_section.h"
#include "test_tmpdir.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

static char dir[] = "/tmp/meridian-test-dnstap-XXXXXX";

static void
test_defaults(void **state)
{
    (void)state;
    struct config *cfg = NULL;
    char err[CONFIG_ERR_MAX], want[PATH_MAX];
    assert_int_equal(test_section_load(dir, "dnstap", "{ socket: tap.sock }", &cfg, err), 0);
    snprintf(want, sizeof(want), "%s/tap.sock", dir); /* from the config's directory */
    assert_string_equal(cfg->dnstap.socket, want);
    assert_null(cfg->dnstap.file);
    assert_null(cfg->dnstap.identity);
    assert_null(cfg->dnstap.version);
    assert_true(cfg->dnstap.queries);
    assert_true(cfg->dnstap.responses);
    assert_int_equal(cfg->dnstap.sample, 1);
    assert_int_equal(cfg->dnstap.line, 2);
    config_free(cfg);
    /* No section: off. */
    assert_int_equal(
        config_load(test_tmpdir_write(dir, "off.yaml", "zones:\n  - {origin: a.test, file: x}\n"),
                    &cfg, err),
        0);
    assert_null(cfg->dnstap.socket);
    assert_null(cfg->dnstap.file);
    config_free(cfg);
}

static void
test_every_key(void **state)
{
    (void)state;
    struct config *cfg = NULL;
    char err[CONFIG_ERR_MAX];
    assert_int_equal(
        test_section_load(dir, "dnstap",
                          "{ file: /var/log/tap.fstrm, identity: ns1, version: v9, queries: "
                          "false, responses: true, sample: 1000 }",
                          &cfg, err),
        0);
    assert_null(cfg->dnstap.socket);
    assert_string_equal(cfg->dnstap.file, "/var/log/tap.fstrm");
    assert_string_equal(cfg->dnstap.identity, "ns1");
    assert_string_equal(cfg->dnstap.version, "v9");
    assert_false(cfg->dnstap.queries);
    assert_true(cfg->dnstap.responses);
    assert_int_equal(cfg->dnstap.sample, 1000);
    config_free(cfg);
}

static void
test_errors(void **state)
{
    (void)state;
    test_section_expect_error(dir, "dnstap", "{ socket: a.sock, file: b.fstrm }",
                              "2: dnstap: expected exactly one of 'socket' or 'file'");
    test_section_expect_error(dir, "dnstap", "{ identity: x }",
                              "2: dnstap: expected exactly one of 'socket' or 'file'");
    test_section_expect_error(
        dir, "dnstap", "{ file: f, queries: false, responses: false }",
        "2: dnstap: queries and responses are both off: remove the section to turn "
        "the log off");
    test_section_expect_error(dir, "dnstap", "{ file: f, sample: 0 }",
                              "2: sample: expected an integer 1..1000000");
    test_section_expect_error(dir, "dnstap", "{ file: f, colour: blue }",
                              "2: unknown key 'colour' in dnstap");
    test_section_expect_error(dir, "dnstap", "{ file: \"\" }", "2: dnstap: file: expected a path");
    char section[512];
    snprintf(section, sizeof(section), "{ socket: /%0200d }", 0);
    test_section_expect_error(dir, "dnstap", section,
                              "2: dnstap: socket: '/000000000000000000000000000000000000000000000"
                              "00000000000000000000000000000000000000000000000000000000000000000000"
                              "00000000000000000000000000000000000000000000000000000000000000000000"
                              "0000000000000000000' is too long for a UNIX socket");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_errors),
    };
    test_tmpdir_template = dir;
    return cmocka_run_group_tests(tests, test_tmpdir_setup, test_tmpdir_teardown);
}
