// SPDX-License-Identifier: MIT
/* Unit tests for `server.xdp` in config_load(): off without the section, the defaults, every
 * key, and the exact "file:line: message" of each error (no interface, a name longer than
 * IFNAMSIZ holds, an unknown mode or key). Files go into a private mkdtemp directory. */
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

static char dir[] = "/tmp/meridian-test-xdp-XXXXXX";

static void
test_defaults(void **state)
{
    (void)state;
    struct config *cfg = NULL;
    char err[CONFIG_ERR_MAX];
    assert_int_equal(test_section_load(dir, "xdp", "{ interface: eth0 }", &cfg, err), 0);
    assert_string_equal(cfg->xdp.interface, "eth0");
    assert_int_equal(cfg->xdp.mode, CONFIG_XDP_AUTO);
    assert_true(cfg->xdp.zero_copy);
    assert_int_equal(cfg->xdp.line, 2);
    config_free(cfg);
    assert_int_equal(
        config_load(test_tmpdir_write(dir, "off.yaml", "zones:\n  - {origin: a.test, file: x}\n"),
                    &cfg, err),
        0);
    assert_null(cfg->xdp.interface);
    config_free(cfg);
}

static void
test_every_key(void **state)
{
    (void)state;
    struct config *cfg = NULL;
    char err[CONFIG_ERR_MAX];
    assert_int_equal(test_section_load(dir, "xdp",
                                       "{ interface: enp1s0f0np0, mode: native, zero_copy: false }",
                                       &cfg, err),
                     0);
    assert_string_equal(cfg->xdp.interface, "enp1s0f0np0");
    assert_int_equal(cfg->xdp.mode, CONFIG_XDP_NATIVE);
    assert_false(cfg->xdp.zero_copy);
    config_free(cfg);
    assert_int_equal(
        test_section_load(dir, "xdp", "{ interface: veth0, mode: generic }", &cfg, err), 0);
    assert_int_equal(cfg->xdp.mode, CONFIG_XDP_GENERIC);
    config_free(cfg);
}

static void
test_errors(void **state)
{
    (void)state;
    test_section_expect_error(dir, "xdp", "{ mode: native }", "2: missing key 'interface' in xdp");
    test_section_expect_error(dir, "xdp", "{ interface: abcdefghijklmnop }",
                              "2: interface: expected a string of 1..15 bytes");
    test_section_expect_error(dir, "xdp", "{ interface: eth0, mode: fast }",
                              "2: xdp: mode: expected auto, native or "
                              "generic");
    test_section_expect_error(dir, "xdp", "{ interface: eth0, queues: 4 }",
                              "2: unknown key 'queues' in xdp");
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
