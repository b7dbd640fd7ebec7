// SPDX-License-Identifier: MIT
/* Counting OpenSSL's allocations (see test_crypto_allocs.h). Tests only; single-threaded. */
#include "test_crypto_allocs.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>

static size_t allocs;

static void *
count_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    allocs++;
    return malloc(n);
}

static void *
count_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    allocs++;
    return realloc(p, n);
}

static void
count_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    free(p);
}

int
test_crypto_allocs_start(void)
{
    if (CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free) != 1) {
        fprintf(stderr, "CRYPTO_set_mem_functions failed: OpenSSL allocated already\n");
        return -1;
    }
    return 0;
}

size_t
test_crypto_allocs(void)
{
    return allocs;
}
