// SPDX-License-Identifier: MIT
/* The health state file format (see state_file.h): written and read by the health thread
 * through monitor.c, and fuzzed on its own. */
#include "health/state_file.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

const char *const health_state_names[3] = {"unknown", "up", "down"};
const char *const health_force_names[3] = {"none", "up", "down"};

static int
name_index(const char *const names[3], const char *word)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(names[i], word) == 0)
            return i;
    return -1;
}

void
health_state_write(FILE *f, const char *key, uint8_t state, uint8_t force, long long since,
                   unsigned long long transitions)
{
    /* A CNAME target may start with '#': indent its line, or it would read as a comment
     * and the target would lose its state and forcing at the next start. */
    fprintf(f, "%s%s %s %s %lld %llu\n", key[0] == '#' ? " " : "", key, health_state_names[state],
            health_force_names[force], since, transitions);
}

bool
health_state_parse(const char *line, struct health_saved *out)
{
    char state[16], force[16];
    /* %799s: HEALTH_STATE_KEY_MAX - 1. */
    if (line[0] == '#' || sscanf(line, "%799s %15s %15s %lld %llu", out->key, state, force,
                                 &out->since, &out->transitions) != 5)
        return false;
    int s = name_index(health_state_names, state), fo = name_index(health_force_names, force);
    if (s < 0 || fo < 0)
        return false;
    out->state = (uint8_t)s;
    out->force = (uint8_t)fo;
    return true;
}

uint32_t
health_state_read(FILE *f, void (*fn)(const struct health_saved *saved, void *arg), void *arg)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    struct health_saved saved;
    uint32_t records = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        /* A line too long to be one of ours is no record, and no part of it is: a key cut
         * from the middle of a line could match a real target and restore a wrong state. */
        if (len >= HEALTH_STATE_LINE_MAX || !health_state_parse(line, &saved))
            continue;
        fn(&saved, arg);
        records++;
    }
    free(line);
    return records;
}
