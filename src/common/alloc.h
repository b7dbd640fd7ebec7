/* SPDX-License-Identifier: MIT */
/* Allocation that aborts on OOM (so callers never check for NULL), and a bump arena: one
 * data generation lives in one arena and is freed in one call (STYLE.md). Not for the query
 * path: workers use buffers allocated once at start. */
#ifndef MERIDIAN_COMMON_ALLOC_H
#define MERIDIAN_COMMON_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t size) __attribute__((malloc, returns_nonnull));
void *xcalloc(size_t count, size_t size) __attribute__((malloc, returns_nonnull));
void *xrealloc(void *ptr, size_t size) __attribute__((returns_nonnull));
char *xstrdup(const char *s) __attribute__((malloc, returns_nonnull));

/* Arena: allocations are never freed one by one; arena_fini frees them all. */
struct arena_chunk;
struct arena {
    struct arena_chunk *head;
    size_t used;  /* bytes used in head */
    size_t total; /* bytes handed out, for memory reports */
};

void arena_init(struct arena *a);
void arena_fini(struct arena *a);
/* Returns memory aligned to `align` (a power of two, at most 16). */
void *arena_alloc(struct arena *a, size_t size, size_t align) __attribute__((returns_nonnull));
void *arena_memdup(struct arena *a, const void *src, size_t size) __attribute__((returns_nonnull));

#endif
