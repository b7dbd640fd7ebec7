// SPDX-License-Identifier: MIT
/* OOM-aborting allocation wrappers and the bump arena used for compiled zone data. */
#include "common/alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
die_oom(size_t size)
{
    fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", size);
    abort();
}

void *
xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        die_oom(size);
    return p;
}

void *
xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        die_oom(count * size);
    return p;
}

void *
xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p)
        die_oom(size);
    return p;
}

char *
xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

/* Chunks of 1 MiB keep malloc overhead per record negligible for million-record zones;
 * larger requests get a chunk of their own. */
#define ARENA_CHUNK_SIZE (1u << 20)

struct arena_chunk {
    struct arena_chunk *next;
    size_t size;
    _Alignas(16) unsigned char data[];
};

void
arena_init(struct arena *a)
{
    a->head = NULL;
    a->used = 0;
    a->total = 0;
}

void
arena_fini(struct arena *a)
{
    struct arena_chunk *c = a->head;
    while (c) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    arena_init(a);
}

void *
arena_alloc(struct arena *a, size_t size, size_t align)
{
    size_t start = a->head ? (a->used + align - 1) & ~(align - 1) : 0;
    if (!a->head || start + size > a->head->size) {
        size_t chunk_size = size > ARENA_CHUNK_SIZE / 4 ? size : ARENA_CHUNK_SIZE;
        struct arena_chunk *c = xmalloc(sizeof(*c) + chunk_size);
        c->size = chunk_size;
        if (a->head && chunk_size != ARENA_CHUNK_SIZE) {
            /* A big one-off block goes behind the current head so the head keeps filling. */
            c->next = a->head->next;
            a->head->next = c;
            a->total += size;
            return c->data;
        }
        c->next = a->head;
        a->head = c;
        start = 0;
    }
    a->used = start + size;
    a->total += size;
    return a->head->data + start;
}

void *
arena_memdup(struct arena *a, const void *src, size_t size)
{
    return memcpy(arena_alloc(a, size, 1), src, size);
}
