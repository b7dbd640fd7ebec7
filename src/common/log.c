// SPDX-License-Identifier: MIT
/* Leveled logging to stderr, as text lines or JSON lines (server.log_format). The level and
 * the format are relaxed atomics so any thread may log while the main thread changes them on
 * reload. */
#include "common/log.h"

#include "common/escape.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static _Atomic int current_level = LOG_LEVEL_INFO;
static _Atomic int current_format = LOG_FORMAT_TEXT;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void
log_set_level(enum log_level level)
{
    atomic_store_explicit(&current_level, (int)level, memory_order_relaxed);
}

enum log_level
log_get_level(void)
{
    return (enum log_level)atomic_load_explicit(&current_level, memory_order_relaxed);
}

void
log_set_format(enum log_format format)
{
    atomic_store_explicit(&current_format, (int)format, memory_order_relaxed);
}

int
log_level_parse(const char *text)
{
    for (int i = 0; i < (int)(sizeof(level_names) / sizeof(level_names[0])); i++)
        if (strcmp(text, level_names[i]) == 0)
            return i;
    return -1;
}

/* {"time":"2026-01-02T03:04:05.123Z","level":"info","msg":"..."}: one object a line, the
 * message escaped (names in it come from configs, zones and clients). */
static void
write_json(const struct tm *tm, long ms, enum log_level level, const char *msg)
{
    char line[3 * 1024];
    FILE *f = fmemopen(line, sizeof(line), "w");
    if (!f)
        return;
    fprintf(f, "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"%s\",\"msg\":",
            tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min,
            tm->tm_sec, ms, level_names[level]);
    json_string(f, msg);
    fputc('}', f);
    long len = ftell(f);
    fclose(f);
    /* A message cut by the buffer would not be JSON: a shorter valid line instead. */
    if (len <= 0 || len >= (long)sizeof(line) - 1)
        fprintf(stderr, "{\"level\":\"%s\",\"msg\":\"(message too long)\"}\n", level_names[level]);
    else
        fprintf(stderr, "%.*s\n", (int)len, line);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
    if ((int)level > atomic_load_explicit(&current_level, memory_order_relaxed))
        return;
    char line[1024];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    va_list ap;
    if (atomic_load_explicit(&current_format, memory_order_relaxed) == LOG_FORMAT_JSON) {
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        write_json(&tm, now.tv_nsec / 1000000, level, line);
        return;
    }
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02dZ %s: ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     level_names[level]);
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    /* One write per message so lines from several threads do not interleave. */
    fprintf(stderr, "%s\n", line);
}
