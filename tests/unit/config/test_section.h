/* SPDX-License-Identifier: MIT */
/* Shared by the config tests of one `server` section (test_dnstap.c, test_xdp.c): loading
 * "server:\n  <key>: <section>" plus a zone from a config file in the test's temp dir, and
 * checking the exact "file:line: message" of an error. */
#ifndef MERIDIAN_TEST_SECTION_H
#define MERIDIAN_TEST_SECTION_H

#include "config/config.h"

/* config_load of the section written to dir/meridian.yaml (it is on line 2). */
int test_section_load(const char *dir, const char *key, const char *section,
                      struct config **cfg, char err[CONFIG_ERR_MAX]);
/* The section must fail with "dir/meridian.yaml:<message>" (message starts at the line). */
void test_section_expect_error(const char *dir, const char *key, const char *section,
                               const char *message);

#endif
