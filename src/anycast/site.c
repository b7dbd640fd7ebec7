// SPDX-License-Identifier: MIT
/* Parser and judge for meridiand's `status` reply (see site.h). Unknown lines are ignored so
 * meridiand can add fields freely. Pure; event loop thread. */
#include "anycast/site.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The value of "key: value" if `line` has that key, else NULL. */
static const char *
value_of(const char *line, const char *key)
{
    size_t n = strlen(key);
    if (strncmp(line, key, n) != 0 || line[n] != ':')
        return NULL;
    line += n + 1;
    while (*line == ' ')
        line++;
    return line;
}

/* "2026-01-02T03:04:05Z (12 s ago)" (meridiand since the status shows UTC times) or a bare
 * "1767323045" (older meridiand): Unix seconds. 0 or -1. */
static int
parse_time(const char *v, int64_t *out)
{
    struct tm tm;
    char z = 0;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(v, "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &z) == 7) {
        if (z != 'Z')
            return -1;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        *out = (int64_t)timegm(&tm);
        return 0;
    }
    char *end;
    long long t = strtoll(v, &end, 10);
    if (end == v)
        return -1;
    *out = (int64_t)t;
    return 0;
}

int
anycast_site_parse(const char *text, struct anycast_site_status *out, char *err, size_t err_size)
{
    const char *p = text;
    bool first = true;

    memset(out, 0, sizeof(*out));
    while (*p) {
        size_t n = strcspn(p, "\n");
        char line[512];
        const char *v;

        snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) ? n : sizeof(line) - 1), p);
        p += n + (p[n] == '\n');
        if (first) {
            if (strcmp(line, "ok") != 0) {
                snprintf(err, err_size, "status: %s", line[0] ? line : "empty reply");
                return -1;
            }
            first = false;
        } else if ((v = value_of(line, "site"))) {
            out->drained = strncmp(v, "drained", 7) == 0;
        } else if ((v = value_of(line, "loaded"))) {
            out->have_loaded = parse_time(v, &out->loaded_unix) == 0;
        } else if ((v = value_of(line, "last_reload"))) {
            out->reload_failed = strncmp(v, "failed", 6) == 0;
            if (out->reload_failed)
                snprintf(out->reload_error, sizeof(out->reload_error), "%s", v);
        }
    }
    if (first) {
        snprintf(err, err_size, "status: empty reply");
        return -1;
    }
    return 0;
}

bool
anycast_site_soft_failure(const struct anycast_site_status *st, int64_t now_unix,
                          uint32_t max_age_ms, char *why, size_t why_size)
{
    why[0] = '\0';
    if (st->reload_failed) {
        snprintf(why, why_size, "meridiand last_reload %s", st->reload_error);
        return true;
    }
    if (max_age_ms > 0 && st->have_loaded && st->loaded_unix > 0) {
        int64_t age = now_unix - st->loaded_unix;
        if (age * 1000 > (int64_t)max_age_ms) {
            snprintf(why, why_size, "data loaded %" PRId64 " s ago (max_data_age %u ms)", age,
                     max_age_ms);
            return true;
        }
    }
    if (max_age_ms > 0 && !st->have_loaded) {
        snprintf(why, why_size, "meridiand status has no 'loaded:' line (max_data_age is set)");
        return true;
    }
    return false;
}
