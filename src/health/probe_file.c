// SPDX-License-Identifier: MIT
/* File check: a state file written by an operator or a tool, read when the probe runs (on
 * the loop's next iteration, so that the result is never reported from inside probe_start).
 * Each line is "ADDRESS STATE" with STATE up or down; '#' starts a comment; blank lines are
 * skipped. The target is up only if its address (compared as an address, so any spelling of
 * it matches) or its name (case-insensitive, final dot optional) is listed as up; the last
 * line for it wins. An absent, unreadable or oversized file makes every target down with
 * the reason. The file is small and local: it is read with ordinary blocking calls, the one
 * exception in this module. Health thread. */
#include "health/probe_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"

#define FILE_MAX_BYTES (4 * 1024 * 1024) /* a state file bigger than this is an error */
#define LINE_MAX_BYTES 1024

extern const struct probe_checker probe_checker_file; /* at the end */

struct file_probe {
    struct probe base;
    char *path;
    char *text; /* the target's printable address or name */
    int family;
    uint8_t addr[16];
};

static void
file_release(struct probe *p)
{
    struct file_probe *f = (struct file_probe *)p;
    free(f->path);
    free(f->text);
    free(f);
}

/* Does the file's ADDRESS field name this target? */
static bool
matches(const struct file_probe *f, const char *field)
{
    uint8_t addr[16];
    if (f->family == 4 && inet_pton(AF_INET, field, addr) == 1)
        return memcmp(addr, f->addr, 4) == 0;
    if (f->family == 6 && inet_pton(AF_INET6, field, addr) == 1)
        return memcmp(addr, f->addr, 16) == 0;
    size_t la = strlen(field), lb = strlen(f->text);
    if (la > 1 && field[la - 1] == '.')
        la--;
    if (lb > 1 && f->text[lb - 1] == '.')
        lb--;
    return la == lb && strncasecmp(field, f->text, la) == 0;
}

/* Reads the file; returns 1 up, 0 down, with the reason. */
static int
judge(const struct file_probe *f, char *reason, size_t size)
{
    char line[LINE_MAX_BYTES];
    int state = -1, state_line = 0, lineno = 0;
    size_t total = 0;
    int rc = 0;

    FILE *fp = fopen(f->path, "re");
    if (!fp) {
        probe_format(reason, size, "state file: %s", strerror(errno));
        return 0;
    }
    /* Bounded by FILE_MAX_BYTES. */
    while (fgets(line, sizeof(line), fp)) {
        total += strlen(line);
        if (total > FILE_MAX_BYTES) {
            probe_format(reason, size, "state file larger than %d bytes", FILE_MAX_BYTES);
            goto out;
        }
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *save = NULL;
        char *field = strtok_r(line, " \t\r\n", &save);
        if (!field || !matches(f, field))
            continue;
        char *word = strtok_r(NULL, " \t\r\n", &save);
        if (word && strcasecmp(word, "up") == 0)
            state = 1;
        else if (word && strcasecmp(word, "down") == 0)
            state = 0;
        else
            state = 2; /* a line for us that says neither: down, and say where */
        state_line = lineno;
    }
    if (ferror(fp)) {
        probe_format(reason, size, "state file: read error");
        goto out;
    }
    if (state == 1) {
        probe_format(reason, size, "up in state file (line %d)", state_line);
        rc = 1;
    } else if (state == 0) {
        probe_format(reason, size, "down in state file (line %d)", state_line);
    } else if (state == 2) {
        probe_format(reason, size, "bad state in state file (line %d)", state_line);
    } else {
        probe_format(reason, size, "not in state file");
    }
out:
    fclose(fp);
    return rc;
}

static void
file_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct file_probe *f = w->data;
    struct probe_ctx *ctx = f->base.ctx;
    char reason[PROBE_REASON_MAX];
    (void)loop;
    (void)revents;

    probe_ctx_enter(ctx);
    int up = judge(f, reason, sizeof(reason));
    probe_finish(&f->base, up == 1, reason);
    probe_ctx_leave(ctx);
}

static int
file_start(struct probe_ctx *ctx, void *state, const struct config_check *check,
           const struct probe_target *target, probe_done_fn done, void *arg)
{
    struct file_probe *f = probe_alloc(ctx, sizeof(*f), &probe_checker_file, check, done, arg);
    (void)state; /* no per-context state */

    if (!check->file || !*check->file)
        return probe_fail_now(&f->base, "file check without a file");
    f->path = xstrdup(check->file);
    f->text = xstrdup(target->text ? target->text : (target->name ? target->name : ""));
    f->family = target->family;
    memcpy(f->addr, target->addr, sizeof(f->addr));
    /* The probe's own timer, at zero delay, runs the read on the next loop iteration. */
    ev_set_cb(&f->base.timer, file_timer_cb);
    ev_timer_set(&f->base.timer, 0., 0.);
    ev_timer_start(ctx->loop, &f->base.timer);
    return 0;
}

const struct probe_checker probe_checker_file = {
    .name = "file",
    .address_types = PROBE_TYPE(CONFIG_CHECK_FILE),
    .name_types = PROBE_TYPE(CONFIG_CHECK_FILE),
    .start = file_start,
    .release = file_release,
};
