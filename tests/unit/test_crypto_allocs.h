/* SPDX-License-Identifier: MIT */
/* Shared by the unit tests that show a query-path function makes no OpenSSL allocation
 * (NSEC3 hashing, TSIG): OpenSSL's allocations counted through CRYPTO_set_mem_functions. */
#ifndef MERIDIAN_TESTS_TEST_CRYPTO_ALLOCS_H
#define MERIDIAN_TESTS_TEST_CRYPTO_ALLOCS_H

#include <stddef.h>

/* Starts counting; call first thing in main(), before OpenSSL allocates anything (it refuses
 * the change afterwards). 0, or -1 with a message on stderr. */
int test_crypto_allocs_start(void);

/* OpenSSL's allocations (malloc and realloc calls) since test_crypto_allocs_start. */
size_t test_crypto_allocs(void);

#endif
