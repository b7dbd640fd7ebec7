// SPDX-License-Identifier: MIT
/* Health probes: the context and the part all checkers share. probe_start finds the checker
 * for a check's type and target in the registry (probe_registry.c) and hands both to its
 * `start`, which copies what it needs, so that neither has to outlive the call. This file
 * knows the checkers only through their table of operations (struct probe_checker), and
 * their per-context states only as pointers their own ctx_new and ctx_free make and free.
 * Every probe carries one ev_timer: its deadline, or a zero delay when the result is known
 * before the loop runs again, so that done() is never called from inside probe_start except
 * when the probe cannot start at all. A probe is reported exactly once: probe_finish unlinks
 * and frees it before calling done(), and probe_ctx_free frees the rest unreported. Runs on
 * the health thread, on the caller's libev loop. */
#include "health/probe_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

static void vformat(char *out, size_t out_size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void
vformat(char *out, size_t out_size, const char *fmt, va_list ap)
{
    /* A reason is a short human text: a cut one is still useful, so truncation is fine. */
    int n = vsnprintf(out, out_size, fmt, ap);
    if (n < 0 && out_size > 0)
        out[0] = '\0';
}

void
probe_format(char *out, size_t out_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(out, out_size, fmt, ap);
    va_end(ap);
}

void
probe_ctx_enter(struct probe_ctx *ctx)
{
    ctx->depth++;
}

/* Frees every probe still in flight without reporting it. */
static void
cancel_all(struct probe_ctx *ctx)
{
    /* Bounded: each pass removes the head, and release never adds a probe. */
    while (ctx->active) {
        struct probe *p = ctx->active;
        ctx->active = p->next;
        if (ctx->active)
            ctx->active->prev = NULL;
        ev_timer_stop(ctx->loop, &p->timer);
        p->checker->release(p);
    }
}

static void
ctx_teardown(struct probe_ctx *ctx)
{
    cancel_all(ctx);
    /* No probe is left to use the checkers' states; a checker may still clean up after its
     * probes (the exec checker kills and reaps their children). */
    for (size_t i = 0; i < probe_checker_count; i++)
        if (probe_checkers[i]->ctx_free)
            probe_checkers[i]->ctx_free(ctx->states[i]);
    free(ctx->states);
    free(ctx);
}

void
probe_ctx_leave(struct probe_ctx *ctx)
{
    if (--ctx->depth == 0 && ctx->dead)
        ctx_teardown(ctx);
}

struct probe_ctx *
probe_ctx_new(struct ev_loop *loop, uint32_t exec_max)
{
    struct probe_ctx *ctx = xcalloc(1, sizeof(*ctx));
    ctx->loop = loop;
    /* Zero would queue every exec probe forever. */
    ctx->exec_max = exec_max ? exec_max : 1;
    ctx->states = xcalloc(probe_checker_count, sizeof(*ctx->states));
    for (size_t i = 0; i < probe_checker_count; i++)
        if (probe_checkers[i]->ctx_new)
            ctx->states[i] = probe_checkers[i]->ctx_new(ctx);
    return ctx;
}

void
probe_ctx_free(struct probe_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->depth > 0) {
        /* Called from a done callback: the callers up the stack still hold the context, so
         * cancel now (no more callbacks) and free it when the outermost one returns. */
        cancel_all(ctx);
        ctx->dead = true;
        return;
    }
    ctx_teardown(ctx);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct probe *p = w->data;
    struct probe_ctx *ctx = p->ctx;
    (void)loop;
    (void)revents;

    probe_ctx_enter(ctx);
    if (p->soon) {
        probe_finish(p, p->soon_up, p->soon_reason);
    } else {
        char reason[PROBE_REASON_MAX];
        probe_format(reason, sizeof(reason), "timeout after %u ms", p->timeout_ms);
        probe_finish(p, false, reason);
    }
    probe_ctx_leave(ctx);
}

void *
probe_alloc(struct probe_ctx *ctx, size_t size, const struct probe_checker *checker,
            const struct config_check *check, probe_done_fn done, void *arg)
{
    struct probe *p = xcalloc(1, size);
    p->ctx = ctx;
    p->checker = checker;
    p->done = done;
    p->arg = arg;
    p->timeout_ms = check->timeout_ms;
    ev_timer_init(&p->timer, timer_cb, check->timeout_ms / 1000.0, 0.);
    p->timer.data = p;
    p->next = ctx->active;
    if (p->next)
        p->next->prev = p;
    ctx->active = p;
    return p;
}

void
probe_arm(struct probe *p)
{
    if (!p->soon)
        ev_timer_start(p->ctx->loop, &p->timer);
}

void
probe_finish(struct probe *p, bool up, const char *reason)
{
    struct probe_ctx *ctx = p->ctx;
    probe_done_fn done = p->done;
    void *arg = p->arg;
    char copy[PROBE_REASON_MAX];

    /* The reason may live inside the probe, which is freed before done() runs: done() may
     * start the next probe or free the context, and must find this one gone. */
    if (!reason || !*reason)
        reason = up ? "ok" : "down";
    probe_format(copy, sizeof(copy), "%s", reason);
    if (p->prev)
        p->prev->next = p->next;
    else
        ctx->active = p->next;
    if (p->next)
        p->next->prev = p->prev;
    ev_timer_stop(ctx->loop, &p->timer);
    p->checker->release(p);
    done(arg, up, copy);
}

void
probe_finish_soon(struct probe *p, bool up, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(p->soon_reason, sizeof(p->soon_reason), fmt, ap);
    va_end(ap);
    p->soon = true;
    p->soon_up = up;
    ev_timer_stop(p->ctx->loop, &p->timer);
    ev_timer_set(&p->timer, 0., 0.);
    ev_timer_start(p->ctx->loop, &p->timer);
}

int
probe_fail_now(struct probe *p, const char *fmt, ...)
{
    char reason[PROBE_REASON_MAX];
    va_list ap;
    va_start(ap, fmt);
    vformat(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    probe_finish(p, false, reason);
    return -1;
}

int
probe_target_sockaddr(const struct probe_target *target, uint16_t port,
                      struct sockaddr_storage *out, socklen_t *out_len)
{
    memset(out, 0, sizeof(*out));
    if (target->family == 4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)out;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        memcpy(&sin->sin_addr, target->addr, 4);
        *out_len = sizeof(*sin);
        return 0;
    }
    if (target->family == 6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        memcpy(&sin6->sin6_addr, target->addr, 16);
        *out_len = sizeof(*sin6);
        return 0;
    }
    return -1;
}

/* The registry index of the checker that runs `type` on this kind of target, or -1. */
static int
checker_index(enum config_check_type type, bool name_target)
{
    /* A type beyond the masks' bits (an enum value no checker knows) matches none. */
    if ((unsigned)type >= 32)
        return -1;
    for (size_t i = 0; i < probe_checker_count; i++) {
        const struct probe_checker *c = probe_checkers[i];
        if ((name_target ? c->name_types : c->address_types) & PROBE_TYPE(type))
            return (int)i;
    }
    return -1;
}

const struct probe_checker *
probe_checker_find(enum config_check_type type, bool name_target)
{
    int i = checker_index(type, name_target);
    return i < 0 ? NULL : probe_checkers[i];
}

int
probe_start(struct probe_ctx *ctx, const struct config_check *check,
            const struct probe_target *target, probe_done_fn done, void *arg)
{
    int rc;

    /* Entered, so that a done() called on the failure path may free the context. */
    probe_ctx_enter(ctx);
    /* Deadlines count from ev_now, which is stale if the loop has not run for a while. */
    ev_now_update(ctx->loop);
    int i = checker_index(check->type, target->family == 0);
    if (i < 0) {
        /* No probe exists yet: report the refusal directly. */
        done(arg, false, "unknown check type");
        rc = -1;
    } else {
        rc = probe_checkers[i]->start(ctx, ctx->states[i], check, target, done, arg);
    }
    probe_ctx_leave(ctx);
    return rc;
}
