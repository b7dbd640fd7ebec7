// SPDX-License-Identifier: MIT
/* Control socket server on the event loop (see control.h). Each connection gets a read
 * watcher and a 2 s deadline; the line is executed once it is complete (or the peer shut its
 * side), the reply is written in one go (replies are a few hundred bytes, far below the socket
 * buffer) and the connection is closed. Event loop thread. */
#include "anycast/control.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/alloc.h"

#define LINE_MAX_LEN 1024
#define CONN_MAX 16
#define CONN_DEADLINE_S 2.0

struct conn {
    struct anycast_control *owner;
    int fd; /* -1 = free slot */
    ev_io io;
    ev_timer timer;
    char line[LINE_MAX_LEN];
    size_t used;
};

struct anycast_control {
    struct ev_loop *loop;
    int fd;
    ev_io io;
    char *path;
    anycast_control_fn fn;
    void *arg;
    struct conn conns[CONN_MAX];
};

static void
conn_close(struct conn *c)
{
    ev_io_stop(c->owner->loop, &c->io);
    ev_timer_stop(c->owner->loop, &c->timer);
    close(c->fd);
    c->fd = -1;
}

static void
conn_execute(struct conn *c)
{
    char *reply = NULL;
    size_t reply_len = 0, off = 0;
    FILE *out = open_memstream(&reply, &reply_len);

    c->line[c->used] = '\0';
    c->line[strcspn(c->line, "\r\n")] = '\0';
    c->owner->fn(c->owner->arg, c->line, out);
    fclose(out);
    /* Best effort: a client that does not read its reply loses it, the loop never waits. */
    while (off < reply_len) {
        ssize_t w = send(c->fd, reply + off, reply_len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    free(reply);
    conn_close(c);
}

static void
on_conn_read(struct ev_loop *loop, ev_io *w, int revents)
{
    struct conn *c = w->data;
    ssize_t r;

    (void)loop;
    (void)revents;
    r = read(c->fd, c->line + c->used, sizeof(c->line) - 1 - c->used);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r < 0) {
        conn_close(c);
        return;
    }
    c->used += (size_t)r;
    if (r == 0 || memchr(c->line, '\n', c->used) || c->used == sizeof(c->line) - 1)
        conn_execute(c);
}

static void
on_conn_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct conn *c = w->data;
    (void)loop;
    (void)revents;
    /* meridiand's server answers an unterminated line at its deadline; so do we. */
    if (c->used > 0)
        conn_execute(c);
    else
        conn_close(c);
}

static void
on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    struct anycast_control *ctl = w->data;
    (void)revents;
    for (int n = 0; n < CONN_MAX; n++) {
        int fd = accept4(ctl->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        struct conn *c = NULL;
        if (fd < 0)
            return;
        for (int i = 0; i < CONN_MAX && !c; i++)
            if (ctl->conns[i].fd < 0)
                c = &ctl->conns[i];
        if (!c) {
            static const char busy[] = "error: too many control connections\n";
            (void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->used = 0;
        ev_io_init(&c->io, on_conn_read, fd, EV_READ);
        c->io.data = c;
        ev_io_start(loop, &c->io);
        ev_timer_init(&c->timer, on_conn_timeout, CONN_DEADLINE_S, 0.0);
        c->timer.data = c;
        ev_timer_start(loop, &c->timer);
    }
}

int
anycast_control_start(struct ev_loop *loop, const char *path, anycast_control_fn fn, void *arg,
                      struct anycast_control **out, char *err, size_t err_size)
{
    struct anycast_control *ctl = xcalloc(1, sizeof(*ctl));
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct stat st;
    mode_t old_mask;
    bool bound;
    int rc = -1;

    ctl->loop = loop;
    ctl->fn = fn;
    ctl->arg = arg;
    ctl->path = xstrdup(path);
    *out = NULL;
    for (int i = 0; i < CONN_MAX; i++) {
        ctl->conns[i].fd = -1;
        ctl->conns[i].owner = ctl;
    }
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    /* A socket file left by a crashed run would make bind() fail; only sockets are removed. */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (ctl->fd < 0) {
        snprintf(err, err_size, "control socket: %s", strerror(errno));
        goto out;
    }
    old_mask = umask(0117); /* 0660: the owner and the group may drive the sidecar */
    bound = bind(ctl->fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
    umask(old_mask);
    if (!bound) {
        snprintf(err, err_size, "control socket %s: %s", path, strerror(errno));
        goto out;
    }
    if (listen(ctl->fd, CONN_MAX) < 0) {
        snprintf(err, err_size, "control socket %s: listen: %s", path, strerror(errno));
        unlink(path);
        goto out;
    }
    ev_io_init(&ctl->io, on_accept, ctl->fd, EV_READ);
    ctl->io.data = ctl;
    ev_io_start(loop, &ctl->io);
    *out = ctl;
    ctl = NULL;
    rc = 0;
out:
    if (ctl) {
        if (ctl->fd >= 0)
            close(ctl->fd);
        free(ctl->path);
        free(ctl);
    }
    return rc;
}

void
anycast_control_stop(struct anycast_control *ctl)
{
    if (!ctl)
        return;
    for (int i = 0; i < CONN_MAX; i++)
        if (ctl->conns[i].fd >= 0)
            conn_close(&ctl->conns[i]);
    ev_io_stop(ctl->loop, &ctl->io);
    close(ctl->fd);
    unlink(ctl->path);
    free(ctl->path);
    free(ctl);
}
