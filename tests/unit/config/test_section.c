// SPDX-License-Identifier: MIT
/* Helpers of the config tests of one `server` section: see test_section.h. */
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

int
test_section_load(const char *dir, const char *key, const char *section, struct config **cfg,
                  char err[CONFIG_ERR_MAX])
{
    char text[4096];
    snprintf(text, sizeof(text),
             "server:\n  %s: %s\nzones:\n  - {origin: example.com, file: x.zone}\n", key, section);
    return config_load(test_tmpdir_write(dir, "meridian.yaml", text), cfg, err);
}

void
test_section_expect_error(const char *dir, const char *key, const char *section,
                          const char *message)
{
    struct config *cfg = NULL;
    char err[CONFIG_ERR_MAX], want[CONFIG_ERR_MAX + PATH_MAX];
    assert_int_equal(test_section_load(dir, key, section, &cfg, err), -1);
    assert_null(cfg);
    snprintf(want, sizeof(want), "%s/meridian.yaml:%s", dir, message);
    assert_string_equal(err, want);
}
