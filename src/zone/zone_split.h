/* SPDX-License-Identifier: MIT */
/* Splitting a master file into self-contained record texts (private to zone/). RFC 1035
 * §5.1 syntax is handled here only as far as needed to cut records apart: comments,
 * quoted strings, escapes, parentheses spanning lines, an omitted owner (the previous one),
 * `@`, and the $ORIGIN and $TTL directives. Every record text leaves with an absolute owner,
 * so records can then be parsed by ldns independently and in parallel. */
#ifndef MERIDIAN_ZONE_ZONE_SPLIT_H
#define MERIDIAN_ZONE_ZONE_SPLIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "zone/zone.h"

/* The directives in force for a run of records. */
struct zone_split_context {
    char *origin; /* absolute, presentation form */
    uint32_t default_ttl;
};

struct zone_split_record {
    size_t text;  /* offset into zone_split.text of the NUL-terminated record */
    int line;     /* where it starts */
    uint32_t context;
};

struct zone_split {
    char *text;
    size_t text_len, text_cap;
    struct zone_split_record *records;
    size_t count, cap;
    struct zone_split_context *contexts;
    size_t context_count, context_cap;
};

/* Reads fp (named `file` in errors) for zone `origin` (absolute presentation form).
 * 0, or -1 with "file:line: message". The result is freed with zone_split_fini. */
int zone_split_read(FILE *fp, const char *file, const char *origin, uint32_t default_ttl,
                    struct zone_split *out, char err[ZONE_ERR_MAX])
    __attribute__((warn_unused_result));
void zone_split_fini(struct zone_split *s);

#endif
