/* SPDX-License-Identifier: MIT */
/* Shared by the unit tests that write files: removing the temp directory a test made. */
#ifndef MERIDIAN_TESTS_TEST_TMPDIR_H
#define MERIDIAN_TESTS_TEST_TMPDIR_H

/* Removes `dir` and everything below it (depth first, links not followed). 0 or -1. */
int test_tmpdir_remove(const char *dir);

/* Writes `text` into dir/name (replacing it) and returns the path, in static storage valid
 * until the next call. Aborts the test process if the file cannot be written. */
const char *test_tmpdir_write(const char *dir, const char *name, const char *text);

/* cmocka group setup and teardown for a test file whose files live in one directory: the
 * setup makes test_tmpdir_template (a mkdtemp template in the caller's storage, "...XXXXXX",
 * filled in), the teardown removes it and everything below. Set the template before
 * cmocka_run_group_tests. */
extern char *test_tmpdir_template;
int test_tmpdir_setup(void **state);
int test_tmpdir_teardown(void **state);

#endif
