/* SPDX-License-Identifier: MIT */
/* Shared by the unit tests that bound how long something may take: the build's time scale.
 * Sanitizer builds run several times slower, and a loaded machine delays everything, so a
 * bound like "the timeout fires within 1 s" is written as test_ms(1000). Lower bounds ("not
 * before 250 ms") are never scaled: slowness cannot make something happen early. */
#ifndef MERIDIAN_TESTS_TEST_TIME_H
#define MERIDIAN_TESTS_TEST_TIME_H

/* MERIDIAN_TEST_TIME_SCALE from the environment (ctest sets it from the CMake option of the
 * same name), else the value compiled in for this build type; at least 1. */
int test_time_scale(void);

/* base_ms times the time scale. */
int test_ms(int base_ms);

#endif
