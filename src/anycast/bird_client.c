// SPDX-License-Identifier: MIT
/* BIRD CLI sessions over the UNIX control socket (see bird_client.h). One non-blocking
 * socket, one read watcher, one deadline timer; lines are split here and fed to the pure
 * reply reader. Commands are short and the socket buffer is large, so each is written with
 * one write(); a short write is treated as a failure. Event loop thread. */
#include "anycast/bird_client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/alloc.h"

#define READ_MAX (1024 * 1024) /* one reply; `show protocols` on a big router stays below */
#define LINE_MAX_LEN 8192

struct anycast_bird_session {
    struct ev_loop *loop;
    int fd;
    ev_io io;
    ev_timer timer;
    char **commands;
    size_t count;
    size_t next;     /* index of the command whose reply is being read */
    bool restricted; /* `restrict` still to be sent/answered */
    bool welcomed;
    struct anycast_bird_reply current; /* welcome, restrict, or commands[next] */
    struct anycast_bird_reply *replies;
    size_t reply_bytes;
    char buf[LINE_MAX_LEN];
    size_t used;
    anycast_bird_done_fn done;
    void *arg;
};

static void
session_free(struct anycast_bird_session *s)
{
    if (s->fd >= 0) {
        ev_io_stop(s->loop, &s->io);
        close(s->fd);
    }
    ev_timer_stop(s->loop, &s->timer);
    anycast_bird_reply_fini(&s->current);
    for (size_t i = 0; i < s->count; i++) {
        anycast_bird_reply_fini(&s->replies[i]);
        free(s->commands[i]);
    }
    free(s->replies);
    free(s->commands);
    free(s);
}

__attribute__((format(printf, 3, 4))) static void
finish(struct anycast_bird_session *s, int rc, const char *fmt, ...)
{
    char err[256] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, sizeof(err), fmt, ap);
        va_end(ap);
    }
    ev_io_stop(s->loop, &s->io);
    ev_timer_stop(s->loop, &s->timer);
    s->done(s->arg, rc, err, s->replies, s->next);
    session_free(s);
}

static int
send_line(struct anycast_bird_session *s, const char *cmd)
{
    size_t len = strlen(cmd);
    char *line = xmalloc(len + 2);
    ssize_t w;

    memcpy(line, cmd, len);
    line[len] = '\n';
    w = send(s->fd, line, len + 1, MSG_NOSIGNAL);
    free(line);
    return w == (ssize_t)(len + 1) ? 0 : -1;
}

/* A reply is complete: move on to the next request. Returns 1 when the session finished. */
static int
advance(struct anycast_bird_session *s)
{
    if (!s->welcomed) {
        if (s->current.code != 1) {
            finish(s, -1, "unexpected greeting %04d %s", s->current.code,
                   anycast_bird_reply_message(&s->current));
            return 1;
        }
        s->welcomed = true;
    } else if (s->restricted) {
        /* 0016 "Access restricted": from now on BIRD refuses anything that writes. */
        if (s->current.code != 16) {
            finish(s, -1, "restrict refused: %04d %s", s->current.code,
                   anycast_bird_reply_message(&s->current));
            return 1;
        }
        s->restricted = false;
    } else {
        s->replies[s->next++] = s->current;
        anycast_bird_reply_init(&s->current);
        if (s->next == s->count) {
            finish(s, 0, NULL);
            return 1;
        }
    }
    anycast_bird_reply_fini(&s->current);
    if (send_line(s, s->restricted ? "restrict" : s->commands[s->next]) < 0) {
        finish(s, -1, "write: %s", strerror(errno));
        return 1;
    }
    return 0;
}

static void
on_read(struct ev_loop *loop, ev_io *w, int revents)
{
    struct anycast_bird_session *s = w->data;
    ssize_t r;

    (void)loop;
    (void)revents;
    r = read(s->fd, s->buf + s->used, sizeof(s->buf) - s->used);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r == 0) {
        finish(s, -1, "connection closed by BIRD");
        return;
    }
    if (r < 0) {
        finish(s, -1, "read: %s", strerror(errno));
        return;
    }
    s->used += (size_t)r;
    s->reply_bytes += (size_t)r;
    if (s->reply_bytes > READ_MAX) {
        finish(s, -1, "reply larger than %d bytes", READ_MAX);
        return;
    }
    for (;;) {
        char *nl = memchr(s->buf, '\n', s->used);
        size_t len;
        int rc;
        if (!nl)
            break;
        *nl = '\0';
        len = (size_t)(nl - s->buf) + 1;
        rc = anycast_bird_reply_feed(&s->current, s->buf);
        memmove(s->buf, s->buf + len, s->used - len);
        s->used -= len;
        if (rc < 0) {
            finish(s, -1, "malformed reply line");
            return;
        }
        if (rc == ANYCAST_BIRD_DONE) {
            s->reply_bytes = s->used;
            if (advance(s))
                return;
        }
    }
    if (s->used == sizeof(s->buf))
        finish(s, -1, "reply line longer than %d bytes", LINE_MAX_LEN);
}

static void
on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct anycast_bird_session *s = w->data;
    (void)loop;
    (void)revents;
    finish(s, -1, "no complete reply within the deadline");
}

struct anycast_bird_session *
anycast_bird_session_start(struct ev_loop *loop, const char *path, bool restricted,
                           const char *const *commands, size_t count, uint32_t timeout_ms,
                           anycast_bird_done_fn done, void *arg)
{
    struct anycast_bird_session *s = xcalloc(1, sizeof(*s));
    struct sockaddr_un sun = {.sun_family = AF_UNIX};

    s->loop = loop;
    s->restricted = restricted;
    s->done = done;
    s->arg = arg;
    s->count = count;
    s->commands = xcalloc(count + 1, sizeof(char *));
    s->replies = xcalloc(count + 1, sizeof(*s->replies));
    for (size_t i = 0; i < count; i++) {
        s->commands[i] = xstrdup(commands[i]);
        anycast_bird_reply_init(&s->replies[i]);
    }
    anycast_bird_reply_init(&s->current);
    ev_timer_init(&s->timer, on_timeout, (double)timeout_ms / 1000.0, 0.0);
    s->timer.data = s;
    s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        finish(s, -1, "socket: %s", strerror(errno));
        return NULL;
    }
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    /* A UNIX stream connect completes at once or fails (EAGAIN: BIRD's backlog is full). */
    if (connect(s->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        finish(s, -1, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (count == 0) {
        finish(s, 0, NULL);
        return NULL;
    }
    ev_io_init(&s->io, on_read, s->fd, EV_READ);
    s->io.data = s;
    ev_io_start(loop, &s->io);
    ev_timer_start(loop, &s->timer);
    return s;
}

void
anycast_bird_session_cancel(struct anycast_bird_session *s)
{
    if (s)
        session_free(s);
}
