// SPDX-License-Identifier: MIT
/* libFuzzer target: arbitrary bytes as the health state file. Every record read must be a
 * whole line of the input that parses on its own (a line too long for the reader is no
 * record, and never splits into one), carry valid names and a key without blanks, and be
 * written back and read again unchanged. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/state_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RECORDS 4096

struct records {
    struct health_saved *saved;
    uint32_t count;
};

static void
collect(const struct health_saved *saved, void *arg)
{
    struct records *r = arg;
    if (r->count >= MAX_RECORDS)
        abort();
    r->saved[r->count++] = *saved;
}

static bool
same(const struct health_saved *a, const struct health_saved *b)
{
    return strcmp(a->key, b->key) == 0 && a->state == b->state && a->force == b->force &&
           a->since == b->since && a->transitions == b->transitions;
}

/* Written back and parsed again, a record is unchanged. */
static void
round_trip(const struct health_saved *s)
{
    char line[HEALTH_STATE_LINE_MAX + 64];
    struct health_saved again;
    size_t klen = strnlen(s->key, sizeof(s->key));
    if (klen == 0 || klen >= sizeof(s->key) || s->state > 2 || s->force > 2)
        abort();
    for (size_t i = 0; i < klen; i++)
        if (isspace((unsigned char)s->key[i]))
            abort();
    FILE *f = fmemopen(line, sizeof(line), "w");
    if (!f)
        abort();
    health_state_write(f, s->key, s->state, s->force, s->since, s->transitions);
    fclose(f);
    if (!health_state_parse(line, &again) || !same(s, &again))
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct health_saved got[MAX_RECORDS], want[MAX_RECORDS];
    struct records r = {.saved = got};
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f) /* fmemopen refuses size 0 */
        return 0;
    uint32_t n = health_state_read(f, collect, &r);
    fclose(f);
    if (n != r.count)
        abort();

    /* The expected records: each line that fits the reader (with its newline) and parses. */
    uint32_t expected = 0;
    char line[HEALTH_STATE_LINE_MAX];
    for (size_t pos = 0; pos < size;) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (data + pos)) + 1 : size - pos;
        if (len < HEALTH_STATE_LINE_MAX) {
            memcpy(line, data + pos, len);
            line[len] = '\0';
            if (expected >= MAX_RECORDS)
                abort();
            if (health_state_parse(line, &want[expected]))
                expected++;
        }
        pos += len;
    }
    if (expected != n)
        abort();
    for (uint32_t i = 0; i < n; i++) {
        if (!same(&got[i], &want[i]))
            abort();
        round_trip(&got[i]);
    }
    return 0;
}
