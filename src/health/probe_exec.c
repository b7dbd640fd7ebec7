// SPDX-License-Identifier: MIT
/* Exec check: runs the check's argv ("{address}" and "{port}" substituted in every argument)
 * with posix_spawnp, stdin/stdout/stderr on /dev/null, descriptors above 2 closed, signal
 * mask and dispositions reset, in a process group of its own. Exit status 0 is up. At most
 * exec_max children run at once; later probes wait in FIFO order and their deadline starts
 * when their child does. At the deadline the whole group gets SIGKILL and the probe reports
 * at once; the child is reaped when it is gone, and only then frees its slot.
 * Child exit is seen through a pidfd (Linux 5.3+) watched by an ev_io, since ev_child works
 * only on libev's default loop and the health loop is not it; without pidfd_open, waitpid
 * is polled every EXEC_POLL_S. Either way waitpid names the pid, so other children of the
 * process are left alone. (A process that reaps every child, such as one running libev's
 * default loop, would take the status away: the check then reports "exit status unknown".)
 * The slots, the queue and the children are the checker's per-context state (struct
 * exec_state). Health thread. */
#include "health/probe_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/alloc.h"

#define EXEC_POLL_S 0.02 /* waitpid polling period without pidfd */
#define REAP_TRIES 1000  /* bound on EINTR retries when reaping at shutdown */

extern char **environ;

extern const struct probe_checker probe_checker_exec; /* at the end */

struct exec_probe;
struct exec_child;

/* Per context: the running children and the probes waiting for a slot. */
struct exec_state {
    struct probe_ctx *ctx;
    uint32_t max;                   /* children running at once */
    uint32_t running;               /* children not yet reaped */
    struct exec_probe *head, *tail; /* waiting for a free slot, oldest first */
    struct exec_child *children;
    ev_timer kick; /* zero delay: start waiting probes outside the reaping callback */
};

struct exec_child {
    struct exec_state *es;
    struct exec_child *prev, *next; /* es->children */
    struct exec_probe *probe;       /* NULL once the probe has reported (deadline) */
    pid_t pid;
    int pidfd; /* -1: polled */
    ev_io io;
    ev_timer poll;
};

struct exec_probe {
    struct probe base;
    struct exec_state *es;
    char **argv;                      /* substituted, NULL-terminated */
    struct exec_probe *qprev, *qnext; /* es->head/tail while waiting for a slot */
    bool queued;
    struct exec_child *child;
};

static void exec_kick_cb(struct ev_loop *loop, ev_timer *w, int revents);

static void *
exec_ctx_new(struct probe_ctx *ctx)
{
    struct exec_state *es = xcalloc(1, sizeof(*es));
    es->ctx = ctx;
    es->max = ctx->exec_max;
    ev_timer_init(&es->kick, exec_kick_cb, 0., 0.);
    es->kick.data = es;
    return es;
}

/* Copies `arg` with every "{address}" and "{port}" replaced. */
static char *
substitute(const char *arg, const char *address, const char *port)
{
    static const char a_key[] = "{address}", p_key[] = "{port}";
    size_t alen = strlen(address), plen = strlen(port), need = 1;

    for (const char *s = arg; *s;) {
        if (strncmp(s, a_key, sizeof(a_key) - 1) == 0) {
            need += alen;
            s += sizeof(a_key) - 1;
        } else if (strncmp(s, p_key, sizeof(p_key) - 1) == 0) {
            need += plen;
            s += sizeof(p_key) - 1;
        } else {
            need++;
            s++;
        }
    }
    char *out = xmalloc(need), *o = out;
    for (const char *s = arg; *s;) {
        if (strncmp(s, a_key, sizeof(a_key) - 1) == 0) {
            memcpy(o, address, alen);
            o += alen;
            s += sizeof(a_key) - 1;
        } else if (strncmp(s, p_key, sizeof(p_key) - 1) == 0) {
            memcpy(o, port, plen);
            o += plen;
            s += sizeof(p_key) - 1;
        } else {
            *o++ = *s++;
        }
    }
    *o = '\0';
    return out;
}

static void
free_argv(char **argv)
{
    if (!argv)
        return;
    for (char **a = argv; *a; a++)
        free(*a);
    free(argv);
}

static void
queue_unlink(struct exec_state *es, struct exec_probe *e)
{
    if (e->qprev)
        e->qprev->qnext = e->qnext;
    else
        es->head = e->qnext;
    if (e->qnext)
        e->qnext->qprev = e->qprev;
    else
        es->tail = e->qprev;
    e->qprev = e->qnext = NULL;
    e->queued = false;
}

static void
exec_release(struct probe *p)
{
    struct exec_probe *e = (struct exec_probe *)p;
    if (e->queued)
        queue_unlink(e->es, e);
    if (e->child) {
        /* Reported before the child ended (deadline or cancel): kill its whole group. The
         * zombie leader keeps the group id from being reused until it is reaped. */
        kill(-e->child->pid, SIGKILL);
        e->child->probe = NULL;
    }
    free_argv(e->argv);
    free(e);
}

static void
child_unlink_free(struct exec_state *es, struct exec_child *c)
{
    ev_io_stop(es->ctx->loop, &c->io);
    ev_timer_stop(es->ctx->loop, &c->poll);
    if (c->pidfd >= 0)
        close(c->pidfd);
    if (c->prev)
        c->prev->next = c->next;
    else
        es->children = c->next;
    if (c->next)
        c->next->prev = c->prev;
    es->running--;
    free(c);
}

/* Tries to reap the child; reports its probe if it still waits. */
static void
child_check(struct exec_child *c)
{
    struct exec_state *es = c->es;
    char reason[PROBE_REASON_MAX];
    bool up = false;
    int status = 0;
    pid_t r;

    /* Bounded: EINTR only repeats while signals keep arriving. */
    for (int i = 0; i < REAP_TRIES; i++) {
        r = waitpid(c->pid, &status, WNOHANG);
        if (r >= 0 || errno != EINTR)
            break;
    }
    if (r == 0)
        return; /* still running */
    if (r < 0)
        probe_format(reason, sizeof(reason), "exit status unknown (%s)", strerror(errno));
    else if (WIFEXITED(status)) {
        up = WEXITSTATUS(status) == 0;
        probe_format(reason, sizeof(reason), "exit status %d", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status))
        probe_format(reason, sizeof(reason), "killed by signal %d", WTERMSIG(status));
    else
        probe_format(reason, sizeof(reason), "exit status unknown");

    struct exec_probe *e = c->probe;
    child_unlink_free(es, c);
    /* A slot is free: start a waiting probe, from the loop rather than from here. */
    if (es->head)
        ev_timer_start(es->ctx->loop, &es->kick);
    if (e) {
        e->child = NULL;
        probe_finish(&e->base, up, reason);
    }
}

static void
child_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct exec_child *c = w->data;
    struct probe_ctx *ctx = c->es->ctx;
    (void)loop;
    (void)revents;

    probe_ctx_enter(ctx);
    child_check(c);
    probe_ctx_leave(ctx);
}

static void
child_poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct exec_child *c = w->data;
    struct probe_ctx *ctx = c->es->ctx;
    (void)loop;
    (void)revents;

    probe_ctx_enter(ctx);
    child_check(c);
    probe_ctx_leave(ctx);
}

static int
pidfd_open_compat(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

/* posix_spawnp with /dev/null for 0-2, nothing else inherited, a new process group. */
static int
spawn(char **argv, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, all;
    int rc;

    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    /* Sockets of other modules may lack CLOEXEC: the check gets none of them. */
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
    /* The health thread may block signals and the process may ignore SIGPIPE: the command
     * starts clean. Its own group lets the deadline kill whatever it started. */
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                        POSIX_SPAWN_SETPGROUP);
    rc = posix_spawnp(pid, argv[0], &fa, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

/* Starts the child of a probe that has its slot; a failure is reported from the loop. */
static void
run(struct exec_probe *e)
{
    struct exec_state *es = e->es;
    pid_t pid;

    int rc = spawn(e->argv, &pid);
    if (rc != 0) {
        probe_finish_soon(&e->base, false, "spawn %.100s: %s", e->argv[0], strerror(rc));
        return;
    }
    struct exec_child *c = xcalloc(1, sizeof(*c));
    c->es = es;
    c->probe = e;
    c->pid = pid;
    c->pidfd = pidfd_open_compat(pid);
    ev_init(&c->io, child_io_cb);
    c->io.data = c;
    ev_init(&c->poll, child_poll_cb);
    c->poll.data = c;
    c->next = es->children;
    if (c->next)
        c->next->prev = c;
    es->children = c;
    es->running++;
    e->child = c;
    if (c->pidfd >= 0) {
        /* A pidfd turns readable when the process ends (pidfd_open(2)). */
        ev_io_set(&c->io, c->pidfd, EV_READ);
        ev_io_start(es->ctx->loop, &c->io);
    } else {
        ev_timer_set(&c->poll, EXEC_POLL_S, EXEC_POLL_S);
        ev_timer_start(es->ctx->loop, &c->poll);
    }
    probe_arm(&e->base);
}

static void
exec_kick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct exec_state *es = w->data;
    struct probe_ctx *ctx = es->ctx;
    (void)loop;
    (void)revents;

    probe_ctx_enter(ctx);
    /* Bounded by the queue length: each pass takes one probe off it. */
    while (!ctx->dead && es->head && es->running < es->max) {
        struct exec_probe *e = es->head;
        queue_unlink(es, e);
        run(e);
    }
    probe_ctx_leave(ctx);
}

static int
exec_start(struct probe_ctx *ctx, void *state, const struct config_check *check,
           const struct probe_target *target, probe_done_fn done, void *arg)
{
    struct exec_probe *e = probe_alloc(ctx, sizeof(*e), &probe_checker_exec, check, done, arg);
    struct exec_state *es = state;
    char port[8];
    size_t argc = 0;

    e->es = es;
    if (!check->argv || !check->argv[0])
        return probe_fail_now(&e->base, "exec check without a command");
    while (check->argv[argc])
        argc++;
    probe_format(port, sizeof(port), "%u", (unsigned)check->port);
    e->argv = xcalloc(argc + 1, sizeof(char *));
    for (size_t i = 0; i < argc; i++)
        e->argv[i] = substitute(check->argv[i], target->text ? target->text : "", port);

    if (!es->head && es->running < es->max) {
        run(e);
        return 0;
    }
    /* Wait for a slot; the deadline is armed when the child starts. */
    e->queued = true;
    e->qprev = es->tail;
    if (e->qprev)
        e->qprev->qnext = e;
    else
        es->head = e;
    es->tail = e;
    return 0;
}

/* Kills and reaps every child (SIGKILL, then a wait that cannot last). */
static void
exec_ctx_free(void *state)
{
    struct exec_state *es = state;
    ev_timer_stop(es->ctx->loop, &es->kick);
    /* Every probe is gone; what remains are children killed at their deadline or cancel.
     * After SIGKILL the blocking wait is short. */
    while (es->children) {
        struct exec_child *c = es->children;
        kill(-c->pid, SIGKILL);
        for (int i = 0; i < REAP_TRIES; i++)
            if (waitpid(c->pid, NULL, 0) >= 0 || errno != EINTR)
                break;
        child_unlink_free(es, c);
    }
    free(es);
}

const struct probe_checker probe_checker_exec = {
    .name = "exec",
    .address_types = PROBE_TYPE(CONFIG_CHECK_EXEC),
    .name_types = PROBE_TYPE(CONFIG_CHECK_EXEC),
    .ctx_new = exec_ctx_new,
    .ctx_free = exec_ctx_free,
    .start = exec_start,
    .release = exec_release,
};
