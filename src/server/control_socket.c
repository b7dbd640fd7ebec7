// SPDX-License-Identifier: MIT
/* The control socket and its thread (control.h). One libev loop serves up to
 * CONTROL_MAX_CLIENTS connections at once, every one non-blocking with a deadline: a command
 * line must arrive within CONTROL_READ_S (what arrived is then run), a reply must be taken
 * within CONTROL_WRITE_S, or the connection is closed. A client that connects and stalls, or
 * never reads, therefore delays no other: `status`, which the anycast sidecar polls every
 * second, is answered while it waits. One client too many closes the oldest that is not
 * waiting for a reload. `reload` (and `dnssec roll`/`ds-seen`, which the main thread runs as
 * that reload begins) is parked, without a deadline, until the main thread has finished a
 * reload that started after the request and wakes us (ev_async); the reply gives the outcome.
 * Out of descriptors, accepting pauses briefly instead of spinning on a listener that stays
 * readable. The path is replaced only if it holds a stale socket: a regular file, a
 * directory or a live server's socket there fails the start. Replies are built whole (their
 * size is bounded by the config and snapshot) and sent as the client takes them. Runs on the
 * control thread; control_open and control_stop on the main thread. */
#include "server/control.h"

#include <errno.h>
#include <ev.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <urcu.h>

#include "common/alloc.h"
#include "server/dnssec_ops.h"
#include "server/snapshot.h"

#define MAX_LINE 1024
#define MAX_PARKED 16         /* connections waiting for a reload */
#define CONTROL_READ_S 2.0    /* a command line must arrive within this */
#define CONTROL_WRITE_S 10.0  /* and its reply be read within this */
#define ACCEPT_PAUSE_S 0.1    /* out of descriptors: accept again after this */
#define CONTROL_BACKLOG 64

enum client_phase {
    CLIENT_FREE,
    CLIENT_READING,
    CLIENT_PARKED, /* waiting for a reload */
    CLIENT_WRITING,
};

struct client {
    struct control *ctl;
    ev_io io;
    ev_timer deadline;
    int fd;
    enum client_phase phase;
    double opened; /* ev_now at accept: the oldest goes first when all are taken */
    char line[MAX_LINE];
    size_t used;
    char *reply; /* malloc'd, being sent */
    size_t reply_len, sent;
    uint64_t wait_for; /* parked: the reload numbered this or later answers it */
    uint64_t op;       /* parked: the dnssec_ops request, 0 for `reload` */
};

struct control {
    pthread_t thread;
    bool running;
    int fd;
    char *path;
    dev_t dev; /* of the socket file we bound, so that stop removes only ours */
    ino_t ino;
    _Atomic(struct health_monitor *) monitor;
    atomic_bool stop;
    struct ev_loop *loop;
    ev_io accept_io;
    ev_timer accept_pause;
    ev_async wake; /* a reload finished, or stop */
    struct client clients[CONTROL_MAX_CLIENTS];
};

static void
client_close(struct client *c)
{
    struct ev_loop *loop = c->ctl->loop;

    ev_io_stop(loop, &c->io);
    ev_timer_stop(loop, &c->deadline);
    close(c->fd);
    c->fd = -1;
    free(c->reply);
    c->reply = NULL;
    c->phase = CLIENT_FREE;
}

static void
deadline_set(struct client *c, double after)
{
    ev_timer_stop(c->ctl->loop, &c->deadline);
    ev_timer_set(&c->deadline, after, 0);
    ev_timer_start(c->ctl->loop, &c->deadline);
}

/* Sends what the socket takes; closes the connection once the reply is out or if the
 * client is gone. */
static void
client_write(struct client *c)
{
    while (c->sent < c->reply_len) {
        /* MSG_NOSIGNAL: a client that went away must not SIGPIPE the server. */
        ssize_t n = send(c->fd, c->reply + c->sent, c->reply_len - c->sent,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0)
            break;
        c->sent += (size_t)n;
    }
    client_close(c);
}

/* Starts sending reply (taken over) with the write deadline. */
static void
client_reply(struct client *c, char *reply, size_t len)
{
    struct ev_loop *loop = c->ctl->loop;

    c->reply = reply;
    c->reply_len = len;
    c->sent = 0;
    c->phase = CLIENT_WRITING;
    ev_io_stop(loop, &c->io);
    ev_io_set(&c->io, c->fd, EV_WRITE);
    ev_io_start(loop, &c->io);
    deadline_set(c, CONTROL_WRITE_S);
    client_write(c);
}

static void
client_reply_text(struct client *c, const char *text)
{
    client_reply(c, xstrdup(text), strlen(text));
}

static unsigned
parked_count(const struct control *ctl)
{
    unsigned n = 0;
    for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
        n += ctl->clients[i].phase == CLIENT_PARKED;
    return n;
}

/* Parks a `reload` connection (with its dnssec_ops request, if any) and asks the main thread
 * for a reload (SIGHUP). */
static void
client_park(struct client *c, uint64_t op)
{
    if (parked_count(c->ctl) >= MAX_PARKED) {
        client_reply_text(c, "error: too many reload requests waiting; try again\n");
        return;
    }
    /* Any reload that starts from now on reads the files as they are now, and runs the
     * queued request first. */
    c->phase = CLIENT_PARKED;
    c->wait_for = snapshot_reloads_started() + 1;
    c->op = op;
    ev_io_stop(c->ctl->loop, &c->io);
    ev_timer_stop(c->ctl->loop, &c->deadline);
    kill(getpid(), SIGHUP);
}

/* Runs the command line read so far and replies, or parks it. */
static void
client_run(struct client *c)
{
    char *reply = NULL;
    size_t reply_len = 0;
    uint64_t op;

    c->line[c->used] = '\0';
    FILE *out = open_memstream(&reply, &reply_len);
    enum control_result res =
        control_execute_op(atomic_load(&c->ctl->monitor), c->line, out, &op);
    fclose(out);
    if (res == CONTROL_RELOAD_PARKED) {
        free(reply);
        client_park(c, op);
        return;
    }
    client_reply(c, reply, reply_len);
}

static void
client_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct client *c = io->data;
    (void)loop;
    (void)revents;

    if (c->phase == CLIENT_WRITING) {
        client_write(c);
        return;
    }
    ssize_t n = recv(c->fd, c->line + c->used, sizeof(c->line) - 1 - c->used, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n > 0)
        c->used += (size_t)n;
    /* One line per connection: a newline, a full buffer or the client's end of writing
     * (meridianctl shuts down its side) completes it. */
    if (n <= 0 || c->used == sizeof(c->line) - 1 || memchr(c->line, '\n', c->used))
        client_run(c);
}

/* A deadline passed: a line that did not finish is run as it is (as a line that ended
 * would be); a reply that is not taken is given up. */
static void
client_deadline_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct client *c = t->data;
    (void)loop;
    (void)revents;

    if (c->phase == CLIENT_READING)
        client_run(c);
    else
        client_close(c);
}

/* A free slot, or the oldest one not parked, closed for the newcomer. */
static struct client *
client_slot(struct control *ctl)
{
    struct client *oldest = NULL;
    for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++) {
        struct client *c = &ctl->clients[i];
        if (c->phase == CLIENT_FREE)
            return c;
        if (c->phase != CLIENT_PARKED && (!oldest || c->opened < oldest->opened))
            oldest = c;
    }
    /* At most MAX_PARKED are parked, fewer than the slots: there is an oldest. */
    client_close(oldest);
    return oldest;
}

static void
accept_resume_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct control *ctl = t->data;
    (void)revents;
    ev_io_start(loop, &ctl->accept_io);
}

static void
accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct control *ctl = io->data;
    (void)revents;

    for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
        int fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            /* Out of descriptors: the listener stays readable, so waiting for it again
             * would spin; look again shortly instead. */
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                ev_io_stop(loop, &ctl->accept_io);
                ev_timer_set(&ctl->accept_pause, ACCEPT_PAUSE_S, 0);
                ev_timer_start(loop, &ctl->accept_pause);
            }
            return;
        }
        struct client *c = client_slot(ctl);
        c->fd = fd;
        c->phase = CLIENT_READING;
        c->opened = ev_now(loop);
        c->used = 0;
        c->reply = NULL;
        ev_io_init(&c->io, client_io_cb, fd, EV_READ);
        c->io.data = c;
        ev_io_start(loop, &c->io);
        ev_timer_init(&c->deadline, client_deadline_cb, CONTROL_READ_S, 0);
        c->deadline.data = c;
        ev_timer_start(loop, &c->deadline);
    }
}

/* The reply to a parked dnssec request: its outcome, then the reload's. */
static int
dnssec_reply(const struct client *p, const struct snapshot_reload *last, bool covered,
             char *reply, size_t size)
{
    char text[DNSSEC_OPS_TEXT_MAX];
    bool ok = false;
    if (!dnssec_ops_result(p->op, &ok, text))
        return snprintf(reply, size, "error: meridiand is stopping; the request did not run\n");
    if (!ok)
        return snprintf(reply, size, "error: %s\n", text);
    if (covered && last->ok)
        return snprintf(reply, size, "ok\n%s\nreloaded: %s\n", text, last->message);
    /* The state is saved: the main thread's timer publishes it once a reload succeeds. */
    return snprintf(reply, size, "error: %s; but the reload failed, still serving the previous "
                                 "data (retried by the timer): %s\n",
                    text, covered ? last->message : "meridiand is stopping");
}

/* Answers the parked requests that the last reload covers (all of them when stopping). */
static void
answer_reloads(struct control *ctl, bool stopping)
{
    struct snapshot_reload last = snapshot_last_reload();
    for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++) {
        struct client *p = &ctl->clients[i];
        if (p->phase != CLIENT_PARKED)
            continue;
        bool covered = last.at != 0 && last.seq >= p->wait_for;
        if (!stopping && !covered)
            continue;
        char reply[CONFIG_ERR_MAX + DNSSEC_OPS_TEXT_MAX + 128];
        int len;
        if (p->op)
            len = dnssec_reply(p, &last, covered, reply, sizeof(reply));
        else if (!covered)
            len = snprintf(reply, sizeof(reply), "error: meridiand is stopping; not reloaded\n");
        else if (last.ok)
            len = snprintf(reply, sizeof(reply), "ok\nreloaded: %s\n", last.message);
        else
            len = snprintf(reply, sizeof(reply),
                           "error: reload failed, still serving the previous data: %s\n",
                           last.message);
        size_t n = len < (int)sizeof(reply) ? (size_t)len : sizeof(reply) - 1;
        char *copy = xmalloc(n + 1);
        memcpy(copy, reply, n + 1);
        copy[n] = '\0';
        /* When stopping, what the socket takes now is all the client gets. */
        client_reply(p, copy, n);
    }
}

static void
wake_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    struct control *ctl = w->data;
    (void)revents;
    bool stopping = atomic_load(&ctl->stop);
    answer_reloads(ctl, stopping);
    if (stopping)
        ev_break(loop, EVBREAK_ALL);
}

static void *
control_main(void *arg)
{
    struct control *ctl = arg;
    rcu_register_thread();
    ev_run(ctl->loop, 0);
    rcu_unregister_thread();
    return NULL;
}

/* What is at path: nothing, a stale socket (removed), or something we must not replace. */
static int
check_path(const char *path, const struct sockaddr_un *sun, char err[CONFIG_ERR_MAX])
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return 0; /* nothing there (or nothing we can see: bind will say) */
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, CONFIG_ERR_MAX,
                 "control socket %s: a file that is not a socket is there; not replacing it "
                 "(remove it or set another server.control_socket)",
                 path);
        return -1;
    }
    /* A socket: stale if nobody accepts on it. A live one belongs to another meridiand
     * (started twice by mistake) whose meridianctl we would silently take over. */
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (probe >= 0) {
        int rc = connect(probe, (const struct sockaddr *)sun, sizeof(*sun));
        int e = errno;
        close(probe);
        if (rc == 0 || e == EAGAIN || e == EINPROGRESS) {
            snprintf(err, CONFIG_ERR_MAX,
                     "control socket %s: another server is listening there (a meridiand "
                     "already running?)",
                     path);
            return -1;
        }
    }
    unlink(path); /* a socket file left by a previous run */
    return 0;
}

int
control_open(const char *path, uid_t uid, gid_t gid, struct control **out,
             char err[CONFIG_ERR_MAX])
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct stat st;
    int ret = -1;
    int fd = -1;
    bool bound = false;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        snprintf(err, CONFIG_ERR_MAX, "control socket path too long: %s", path);
        return -1;
    }
    strcpy(sun.sun_path, path);
    if (check_path(path, &sun, err) < 0)
        return -1;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, CONFIG_ERR_MAX, "control socket: %s", strerror(errno));
        goto out;
    }
    /* Owner and group only: the file mode is the access control. */
    mode_t old = umask(0117);
    int rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
    umask(old);
    bound = rc == 0;
    if (rc < 0 || listen(fd, CONTROL_BACKLOG) < 0 || lstat(path, &st) < 0) {
        snprintf(err, CONFIG_ERR_MAX, "control socket %s: %s", path, strerror(errno));
        goto out;
    }
    /* Privilege drop: the socket is bound by root (its directory may be root's, as /run is)
     * and handed to the user we switch to, so that server.group members can connect and the
     * server can remove it at exit where the directory allows. */
    if (uid != (uid_t)-1 && chown(path, uid, gid) < 0) {
        snprintf(err, CONFIG_ERR_MAX, "control socket %s: chown to %u:%u: %s", path,
                 (unsigned)uid, (unsigned)gid, strerror(errno));
        goto out;
    }
    struct control *ctl = xcalloc(1, sizeof(*ctl));
    ctl->loop = ev_loop_new(EVFLAG_AUTO);
    if (!ctl->loop) {
        snprintf(err, CONFIG_ERR_MAX, "control socket: cannot create an event loop");
        free(ctl);
        goto out;
    }
    ctl->fd = fd;
    ctl->dev = st.st_dev;
    ctl->ino = st.st_ino;
    ctl->path = xstrdup(path);
    for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
        ctl->clients[i] = (struct client){.ctl = ctl, .fd = -1, .phase = CLIENT_FREE};
    ev_io_init(&ctl->accept_io, accept_cb, fd, EV_READ);
    ctl->accept_io.data = ctl;
    ev_io_start(ctl->loop, &ctl->accept_io);
    ev_timer_init(&ctl->accept_pause, accept_resume_cb, 0, 0);
    ctl->accept_pause.data = ctl;
    /* Started here, before the thread exists, so that a wake sent early is not lost. */
    ev_async_init(&ctl->wake, wake_cb);
    ctl->wake.data = ctl;
    ev_async_start(ctl->loop, &ctl->wake);
    *out = ctl;
    fd = -1;
    ret = 0;
out:
    if (fd >= 0) {
        close(fd);
        if (bound)
            unlink(path);
    }
    return ret;
}

int
control_run(struct control *ctl, char err[CONFIG_ERR_MAX])
{
    sigset_t all, old;
    /* Signals are the main thread's (its sigwait); none may run a handler here. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&ctl->thread, NULL, control_main, ctl);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, CONFIG_ERR_MAX, "control thread: %s", strerror(rc));
        return -1;
    }
    ctl->running = true;
    return 0;
}

void
control_set_monitor(struct control *ctl, struct health_monitor *monitor)
{
    if (ctl)
        atomic_store(&ctl->monitor, monitor);
}

void
control_reload_done(struct control *ctl)
{
    if (ctl)
        ev_async_send(ctl->loop, &ctl->wake);
}

void
control_stop(struct control *ctl)
{
    struct stat st;
    if (!ctl)
        return;
    atomic_store(&ctl->stop, true);
    if (ctl->running) {
        ev_async_send(ctl->loop, &ctl->wake);
        pthread_join(ctl->thread, NULL);
    }
    for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
        if (ctl->clients[i].phase != CLIENT_FREE)
            client_close(&ctl->clients[i]);
    ev_loop_destroy(ctl->loop);
    close(ctl->fd);
    /* Only our own socket: someone may have put another file there meanwhile. */
    if (lstat(ctl->path, &st) == 0 && st.st_dev == ctl->dev && st.st_ino == ctl->ino)
        unlink(ctl->path);
    free(ctl->path);
    free(ctl);
}
