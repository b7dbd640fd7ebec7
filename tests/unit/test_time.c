// SPDX-License-Identifier: MIT
/* The unit tests' time scale (see test_time.h): read once from the environment. */
#include "test_time.h"

#include <stdlib.h>

#ifndef MERIDIAN_TIME_SCALE_BUILD
#define MERIDIAN_TIME_SCALE_BUILD 1
#endif

int
test_time_scale(void)
{
    static int scale;
    if (scale == 0) {
        const char *env = getenv("MERIDIAN_TEST_TIME_SCALE");
        long v = env ? strtol(env, NULL, 10) : 0;
        scale = v >= 1 && v <= 99 ? (int)v : MERIDIAN_TIME_SCALE_BUILD;
    }
    return scale;
}

int
test_ms(int base_ms)
{
    return base_ms * test_time_scale();
}
