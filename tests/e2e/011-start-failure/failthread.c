// SPDX-License-Identifier: MIT
/* Test-only LD_PRELOAD library for e2e 011 (never linked into meridiand): the Nth call to
 * pthread_create in the process (MERIDIAN_FAIL_THREAD=N, counted from 1 over every thread)
 * fails with EAGAIN, as it does when the process or user is out of threads, so the test can
 * fail each thread meridiand starts, one run at a time, and see the start unwind. Without
 * the variable every call goes through. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

static atomic_uint calls;

int
pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    unsigned call = atomic_fetch_add(&calls, 1) + 1;
    const char *fail = getenv("MERIDIAN_FAIL_THREAD");

    if (fail && strtoul(fail, NULL, 10) == call) {
        /* Said on stderr so the test can tell a run whose Nth thread was failed from one
         * that started fewer threads. */
        fprintf(stderr, "failthread: pthread_create call %u fails with EAGAIN\n", call);
        return EAGAIN;
    }
    create_fn real = (create_fn)dlsym(RTLD_NEXT, "pthread_create");
    return real(thread, attr, fn, arg);
}
