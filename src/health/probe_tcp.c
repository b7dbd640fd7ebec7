// SPDX-License-Identifier: MIT
/* TCP connect check: a non-blocking connect to the member's address and the check's port.
 * Up once the handshake completes (the socket is then closed without sending anything);
 * down with the connect error ("connect: Connection refused") or at the deadline. TCP checks
 * on name targets are the http checker's (probe_http.c): its libcurl resolver does not
 * block. Health thread. */
#include "health/probe_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

extern const struct probe_checker probe_checker_tcp; /* at the end */

struct tcp_probe {
    struct probe base;
    ev_io io;
    int fd;
};

static void
tcp_release(struct probe *p)
{
    struct tcp_probe *t = (struct tcp_probe *)p;
    ev_io_stop(p->ctx->loop, &t->io);
    if (t->fd >= 0)
        close(t->fd);
    free(t);
}

static void
tcp_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct tcp_probe *t = w->data;
    struct probe_ctx *ctx = t->base.ctx;
    int err = 0;
    socklen_t len = sizeof(err);
    (void)revents;

    probe_ctx_enter(ctx);
    /* Writable means the connect finished, one way or the other (connect(2), EINPROGRESS). */
    ev_io_stop(loop, w);
    if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err == 0) {
        probe_finish(&t->base, true, "connected");
    } else {
        char reason[PROBE_REASON_MAX];
        probe_format(reason, sizeof(reason), "connect: %s", strerror(err));
        probe_finish(&t->base, false, reason);
    }
    probe_ctx_leave(ctx);
}

static int
tcp_start(struct probe_ctx *ctx, void *state, const struct config_check *check,
          const struct probe_target *target, probe_done_fn done, void *arg)
{
    struct tcp_probe *t = probe_alloc(ctx, sizeof(*t), &probe_checker_tcp, check, done, arg);
    struct sockaddr_storage ss;
    socklen_t ss_len;

    (void)state; /* no per-context state */
    t->fd = -1;
    ev_init(&t->io, tcp_io_cb);
    t->io.data = t;
    if (probe_target_sockaddr(target, check->port, &ss, &ss_len) < 0)
        return probe_fail_now(&t->base, "tcp check needs an address");
    t->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (t->fd < 0)
        return probe_fail_now(&t->base, "socket: %s", strerror(errno));
    if (connect(t->fd, (struct sockaddr *)&ss, ss_len) < 0 && errno != EINPROGRESS) {
        /* Refused or unreachable at once: still reported from the loop. */
        probe_finish_soon(&t->base, false, "connect: %s", strerror(errno));
        return 0;
    }
    /* Connected at once or in progress: writability tells either way. */
    ev_io_set(&t->io, t->fd, EV_WRITE);
    ev_io_start(ctx->loop, &t->io);
    probe_arm(&t->base);
    return 0;
}

const struct probe_checker probe_checker_tcp = {
    .name = "tcp",
    .address_types = PROBE_TYPE(CONFIG_CHECK_TCP),
    .name_types = 0,
    .start = tcp_start,
    .release = tcp_release,
};
