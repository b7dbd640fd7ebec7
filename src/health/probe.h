/* SPDX-License-Identifier: MIT */
/* Health probes: one check of one target, asynchronous on the health thread's libev loop.
 * tcp (non-blocking connect), http/https (libcurl multi interface driven by libev), dns (a
 * UDP query over a non-blocking socket), exec (a child process, at most N at once, killed at
 * the timeout), file (a state file read and parsed). Every probe reports exactly once, by its
 * timeout at the latest, unless it is cancelled with probe_ctx_free. Health thread only. */
#ifndef MERIDIAN_HEALTH_PROBE_H
#define MERIDIAN_HEALTH_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"

struct ev_loop;
struct probe_ctx;

/* What is probed: a pool member's address (family 4/6) or, for CNAME members, its target
 * name (family 0, `name` set). `text` is the printable form used in `{address}` and errors. */
struct probe_target {
    int family;
    uint8_t addr[16];
    const char *name; /* absolute name, CNAME members only */
    const char *text;
};

/* Called once per probe: up, or down with a short reason ("connect: Connection refused",
 * "http status 503", "timeout after 2000 ms", "exit status 1"). `reason` is never NULL ("ok"
 * when up) and valid only during the call. The probe is already gone when this runs: the
 * callback may start the next probe or even call probe_ctx_free. */
typedef void (*probe_done_fn)(void *arg, bool up, const char *reason);

/* exec_max: exec probes running at once; more wait their turn (their timeout counts from
 * when they start). */
struct probe_ctx *probe_ctx_new(struct ev_loop *loop, uint32_t exec_max);
/* Cancels every probe in flight (their callbacks are not called), kills exec children. */
void probe_ctx_free(struct probe_ctx *ctx);

/* Starts one probe. `check` and `target` are copied as needed: neither has to outlive the
 * call. Returns 0 and reports later from the loop (never from inside this call), or -1 if
 * the probe could not even start (bad check, no socket): done() is then called before
 * returning, with the reason. A tcp check on a name target resolves the name through
 * libcurl's asynchronous resolver; a dns check needs an address target. */
int probe_start(struct probe_ctx *ctx, const struct config_check *check,
                const struct probe_target *target, probe_done_fn done, void *arg);

#endif
