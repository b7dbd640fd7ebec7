/* SPDX-License-Identifier: MIT */
/* Private to src/health/probe*.c: the probe context, the part every probe shares, and the
 * table of operations each checker fills in (ARCHITECTURE.md §6). probe.c knows the checkers
 * only through that table; each probe_<name>.c defines one `const struct probe_checker
 * probe_checker_<name>` and keeps its state in its own structs, and probe_registry.c is the
 * only place that lists them. A probe is one allocation whose first member is `struct probe`;
 * the checker's `release` frees it. Every event callback of this module runs between
 * probe_ctx_enter and probe_ctx_leave, so that a done callback may call probe_ctx_free: the
 * context is then emptied at once and freed when the outermost callback returns. Health
 * thread only. */
#ifndef MERIDIAN_HEALTH_PROBE_INTERNAL_H
#define MERIDIAN_HEALTH_PROBE_INTERNAL_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "health/probe.h"

#define PROBE_REASON_MAX 256

/* The bit of one enum config_check_type in a checker's type masks. */
#define PROBE_TYPE(type) (1u << (type))

struct probe;

/* One kind of checker. Exactly one registered checker runs each check type on each kind of
 * target (an address, or a name for CNAME members): probe_start finds it by the masks. */
struct probe_checker {
    const char *name;
    uint32_t address_types; /* PROBE_TYPE bits run on address targets (family 4/6) */
    uint32_t name_types;    /* PROBE_TYPE bits run on name targets (family 0) */
    /* Optional: the checker's state shared by its probes of one context (never NULL),
     * made by probe_ctx_new in registry order. */
    void *(*ctx_new)(struct probe_ctx *ctx);
    /* Optional, with ctx_new: frees that state once every probe of the context is released. */
    void (*ctx_free)(void *state);
    /* Starts one probe with probe_alloc (the checker's own struct, `struct probe` first),
     * copying what it needs of check and target, and returns 0; or reports through
     * probe_fail_now and returns -1. `state` is ctx_new's result, or NULL without one. */
    int (*start)(struct probe_ctx *ctx, void *state, const struct config_check *check,
                 const struct probe_target *target, probe_done_fn done, void *arg);
    /* Frees one probe's resources and the probe itself, without reporting: after its
     * report, or when it is cancelled. */
    void (*release)(struct probe *p);
};

/* probe_registry.c: every checker, in the order their ctx_new and ctx_free run. */
extern const struct probe_checker *const probe_checkers[];
extern const size_t probe_checker_count;

/* The checker that runs `type` on an address or a name target, or NULL (an unknown type). */
const struct probe_checker *probe_checker_find(enum config_check_type type, bool name_target);

struct probe {
    struct probe_ctx *ctx;
    struct probe *prev, *next; /* ctx->active: every probe not yet reported */
    const struct probe_checker *checker;
    probe_done_fn done;
    void *arg;
    ev_timer timer;      /* the deadline, or a zero delay for a result known early */
    uint32_t timeout_ms; /* for "timeout after N ms" */
    bool soon;           /* timer carries soon_up/soon_reason rather than the deadline */
    bool soon_up;
    char soon_reason[PROBE_REASON_MAX];
};

struct probe_ctx {
    struct ev_loop *loop;
    struct probe *active;
    unsigned depth;    /* nesting of this module's callbacks on the stack */
    bool dead;         /* probe_ctx_free was called inside a callback: free on leaving */
    uint32_t exec_max; /* probe_ctx_new's limit, for the checkers that run processes */
    void **states;     /* per probe_checkers entry: its ctx_new's result, or NULL */
};

/* probe.c */
void probe_ctx_enter(struct probe_ctx *ctx);
/* Frees the context if it died meanwhile; the caller must not touch it afterwards. */
void probe_ctx_leave(struct probe_ctx *ctx);
/* Allocates a probe of `size` bytes (at least sizeof(struct probe)) and links it. The
 * deadline is not armed: the checker calls probe_arm once its work has begun. */
void *probe_alloc(struct probe_ctx *ctx, size_t size, const struct probe_checker *checker,
                  const struct config_check *check, probe_done_fn done, void *arg);
void probe_arm(struct probe *p);
/* Reports now: unlinks the probe, releases it, then calls done. Afterwards the caller must
 * check ctx->dead before using the context again. */
void probe_finish(struct probe *p, bool up, const char *reason);
/* Reports from the loop on its next iteration (never from inside probe_start). */
void probe_finish_soon(struct probe *p, bool up, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* For probe_start's failure path: releases the probe, calls done, returns -1. */
int probe_fail_now(struct probe *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The target's socket address at `port`; -1 for a name target (family 0). */
int probe_target_sockaddr(const struct probe_target *target, uint16_t port,
                          struct sockaddr_storage *out, socklen_t *out_len)
    __attribute__((warn_unused_result));
/* snprintf that never fails the build on truncation: reasons are cut, not lost. */
void probe_format(char *out, size_t out_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
