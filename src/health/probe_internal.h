/* SPDX-License-Identifier: MIT */
/* Private to src/health/probe*.c: the probe context, the part every probe shares, and each
 * checker's entry points. A probe is one allocation whose first member is `struct probe`;
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

struct probe;
struct exec_child;
struct curl_sock;

struct probe_ops {
    /* Frees the checker's resources and the probe itself, without reporting. */
    void (*release)(struct probe *p);
};

struct probe {
    struct probe_ctx *ctx;
    struct probe *prev, *next; /* ctx->active: every probe not yet reported */
    const struct probe_ops *ops;
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
    unsigned depth; /* nesting of this module's callbacks on the stack */
    bool dead;      /* probe_ctx_free was called inside a callback: free on leaving */

    /* http, https, tcp to a name: one curl multi handle driven by libev */
    void *multi; /* CURLM * (kept opaque here so that only probe_http.c sees curl.h) */
    ev_timer curl_timer;
    struct curl_sock *curl_socks;

    /* exec */
    uint32_t exec_max;
    uint32_t exec_running;               /* children not yet reaped */
    struct probe *exec_head, *exec_tail; /* waiting for a free slot, oldest first */
    struct exec_child *children;
    ev_timer exec_kick; /* zero delay: start waiting probes outside the reaping callback */
};

/* probe.c */
void probe_ctx_enter(struct probe_ctx *ctx);
/* Frees the context if it died meanwhile; the caller must not touch it afterwards. */
void probe_ctx_leave(struct probe_ctx *ctx);
/* Allocates a probe of `size` bytes (at least sizeof(struct probe)) and links it. The
 * deadline is not armed: the checker calls probe_arm once its work has begun. */
void *probe_alloc(struct probe_ctx *ctx, size_t size, const struct probe_ops *ops,
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

/* Checkers: each sets up its probe and returns 0, or reports through probe_fail_now. */
int probe_tcp_start(struct probe_ctx *ctx, const struct config_check *check,
                    const struct probe_target *target, probe_done_fn done, void *arg);
int probe_http_start(struct probe_ctx *ctx, const struct config_check *check,
                     const struct probe_target *target, probe_done_fn done, void *arg);
/* TCP connect to a name target: curl resolves it without blocking (CURLOPT_CONNECT_ONLY). */
int probe_http_connect_start(struct probe_ctx *ctx, const struct config_check *check,
                             const struct probe_target *target, probe_done_fn done, void *arg);
int probe_dns_start(struct probe_ctx *ctx, const struct config_check *check,
                    const struct probe_target *target, probe_done_fn done, void *arg);
int probe_exec_start(struct probe_ctx *ctx, const struct config_check *check,
                     const struct probe_target *target, probe_done_fn done, void *arg);
int probe_file_start(struct probe_ctx *ctx, const struct config_check *check,
                     const struct probe_target *target, probe_done_fn done, void *arg);

/* Per-context parts of the checkers that keep shared state. */
void probe_http_init(struct probe_ctx *ctx);
void probe_http_fini(struct probe_ctx *ctx);
void probe_exec_init(struct probe_ctx *ctx);
/* Kills and reaps every child (SIGKILL, then a wait that cannot last). */
void probe_exec_fini(struct probe_ctx *ctx);

#endif
