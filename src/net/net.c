// SPDX-License-Identifier: MIT
/* Lifecycle of the network front end. net_start (on the caller's thread) copies what it needs
 * from the config, checks that no other process serves any listen address, opens every
 * listen address once per worker for UDP and TCP (SO_REUSEPORT) so that a bind error is
 * reported before any thread exists, builds each worker's libev loop, buffers and TCP
 * connection table, and then starts one pthread per worker and one per worker's UDP socket.
 * A worker thread runs only its own loop: handler->thread_start, TCP (tcp.c) and AF_XDP
 * (xdp.c) until net_stop wakes it through an ev_async, then handler->thread_stop; a UDP
 * thread (udp.c) the same around its blocking receive, until net_stop sets `stopping` and
 * shuts its socket's receive side. net_stop joins the threads and closes and frees everything
 * on the caller's thread. */
#include "net/net_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/sockaddr.h"
#include "net/xdp.h"

void
net_error(char err[CONFIG_ERR_MAX], const struct net_listen *l, const char *what, int errnum)
{
    if (what)
        snprintf(err, CONFIG_ERR_MAX, "listen %s: %s: %s", l->text, what, strerror(errnum));
    else
        snprintf(err, CONFIG_ERR_MAX, "listen %s: %s", l->text, strerror(errnum));
}

/* A socket of `type` bound to l, with or without SO_REUSEPORT (see check_address_free). */
static int
socket_bind(const struct net_listen *l, int type, bool reuseport, int *out,
            char err[CONFIG_ERR_MAX])
{
    int one = 1;
    int ret = -1;
    int fd = socket(l->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        net_error(err, l, "socket", errno);
        goto out;
    }
    /* Every worker binds the same address; the kernel spreads datagrams and connections over
     * the workers' sockets by flow hash, so no socket is shared between threads. */
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
        net_error(err, l, "setsockopt SO_REUSEPORT", errno);
        goto out;
    }
    /* A restarted server must be able to listen again while old connections sit in
     * TIME_WAIT. UDP does not get it: there it would let us share a port with a socket of
     * another program instead of reporting EADDRINUSE. */
    if (type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
        net_error(err, l, "setsockopt SO_REUSEADDR", errno);
        goto out;
    }
    /* Without V6ONLY a wildcard [::] socket would also take IPv4 (as mapped addresses) and
     * collide with an IPv4 listen address on the same port. */
    if (l->addr.ss_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) {
        net_error(err, l, "setsockopt IPV6_V6ONLY", errno);
        goto out;
    }
    if (bind(fd, (const struct sockaddr *)&l->addr, l->addr_len) < 0) {
        if (errno == EADDRINUSE)
            snprintf(err, CONFIG_ERR_MAX,
                     "listen %s: already in use (another meridiand or DNS server is listening "
                     "there)",
                     l->text);
        else
            net_error(err, l, NULL, errno);
        goto out;
    }
    *out = fd;
    fd = -1;
    ret = 0;
out:
    if (fd >= 0)
        close(fd);
    return ret;
}

int
net_socket_open(const struct net_listen *l, int type, int *out, char err[CONFIG_ERR_MAX])
{
    return socket_bind(l, type, true, out, err);
}

/* Is anyone else serving l? SO_REUSEPORT would let our sockets join a group another process
 * (an old meridiand of the same user, started twice by mistake) already has on the address,
 * and the kernel would then split the queries between the two servers without a word. So a
 * plain socket, without SO_REUSEPORT, is bound first: it fails with EADDRINUSE if any socket
 * holds the address, reuseport or not. TCP sets SO_REUSEADDR as our listeners do, so that
 * connections of a previous run in TIME_WAIT do not count while a live listener does (on
 * Linux SO_REUSEADDR never lets a bind share a port with a socket in LISTEN). IPv6 sets
 * V6ONLY as ours do, so [::]:53 does not collide with our own 0.0.0.0:53.
 * The probe is closed before our group binds, so another server starting in that window of a
 * few microseconds could still slip in and share the address; that race needs two servers
 * started at the same instant and is accepted. */
static int
check_address_free(const struct net_listen *l, int type, char err[CONFIG_ERR_MAX])
{
    int fd;
    if (socket_bind(l, type, false, &fd, err) < 0)
        return -1;
    close(fd);
    return 0;
}

static bool
addr_is_wildcard(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
    return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static void
stop_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)w;
    (void)revents;
    ev_break(loop, EVBREAK_ALL);
}

static void
idle_cb(struct ev_loop *loop, ev_prepare *p, int revents)
{
    struct net_worker *w = p->data;
    (void)loop;
    (void)revents;
    /* ev_prepare runs after all callbacks of an iteration, just before the loop blocks: the
     * point where no query is in progress. */
    w->net->handler.idle(w->net->handler.ctx, w->id);
}

static void *
worker_main(void *arg)
{
    struct net_worker *w = arg;
    const struct net_handler *h = &w->net->handler;

    if (h->thread_start)
        h->thread_start(h->ctx, w->id);
    ev_run(w->loop, 0);
    if (h->thread_stop)
        h->thread_stop(h->ctx, w->id);
    return NULL;
}

/* Builds the loop and every watcher on the calling thread, before the worker thread exists:
 * an ev_async that was sent before its watcher was started would be lost, and net_stop may
 * come right after net_start. */
static int
worker_init(struct net_worker *w, char err[CONFIG_ERR_MAX])
{
    w->loop = ev_loop_new(EVFLAG_AUTO);
    if (!w->loop) {
        snprintf(err, CONFIG_ERR_MAX, "worker %u: cannot create an event loop", w->id);
        return -1;
    }
    ev_async_init(&w->stop, stop_cb);
    w->stop.data = w;
    ev_async_start(w->loop, &w->stop);
    if (w->net->handler.idle) {
        ev_prepare_init(&w->idle, idle_cb);
        w->idle.data = w;
        ev_prepare_start(w->loop, &w->idle);
    }
    net_udp_worker_init(w);
    net_tcp_worker_init(w);
    net_xdp_worker_init(w->net->xdp, w);
    return 0;
}

static void
worker_fini(struct net_worker *w)
{
    if (w->tcp_state)
        net_tcp_worker_fini(w);
    if (w->udp)
        net_udp_worker_fini(w);
    for (size_t i = 0; i < w->net->listen_count; i++) {
        if (w->udp && w->udp[i].fd >= 0)
            close(w->udp[i].fd);
        if (w->tcp && w->tcp[i].fd >= 0)
            close(w->tcp[i].fd);
    }
    if (w->loop)
        ev_loop_destroy(w->loop);
    free(w->udp);
    free(w->tcp);
}

/* Copies the listen addresses and limits from cfg (tcp_max_connections lowered to the given
 * one, if not 0); cfg is not referenced afterwards. */
static struct net *
net_new(const struct config *cfg, const struct net_handler *handler,
        uint32_t tcp_max_connections)
{
    struct net *net = xcalloc(1, sizeof(*net));

    net->handler = *handler;
    net->listen_count = cfg->listen_count;
    net->listen = xcalloc(cfg->listen_count, sizeof(*net->listen));
    for (size_t i = 0; i < cfg->listen_count; i++) {
        struct net_listen *l = &net->listen[i];
        memcpy(&l->addr, &cfg->listen[i].addr, sizeof(l->addr));
        l->addr_len = cfg->listen[i].addr_len;
        l->index = (uint32_t)i;
        l->wildcard = addr_is_wildcard(&l->addr);
        sockaddr_format((const struct sockaddr *)&l->addr, l->text, sizeof(l->text));
    }
    net->worker_count = cfg->workers;
    net->tcp_idle_timeout_ms = cfg->tcp_idle_timeout_ms;
    /* A config built by hand (tests) may leave the message deadline out: the idle one then
     * bounds a message too, as before it existed. */
    net->tcp_io_timeout_ms = cfg->tcp_io_timeout_ms ? cfg->tcp_io_timeout_ms
                                                    : cfg->tcp_idle_timeout_ms;
    net->tcp_max_per_client = cfg->tcp_max_per_client;
    if (tcp_max_connections == 0 || tcp_max_connections > cfg->tcp_max_connections)
        tcp_max_connections = cfg->tcp_max_connections;
    net->tcp_max_connections = tcp_max_connections ? tcp_max_connections : 1;
    net->tcp_max_pipelined = cfg->tcp_max_pipelined ? cfg->tcp_max_pipelined : 1;
    net->workers = xcalloc(net->worker_count, sizeof(*net->workers));
    for (unsigned i = 0; i < net->worker_count; i++) {
        struct net_worker *w = &net->workers[i];
        w->net = net;
        w->id = i;
        w->udp = xcalloc(net->listen_count, sizeof(*w->udp));
        w->tcp = xcalloc(net->listen_count, sizeof(*w->tcp));
        for (size_t j = 0; j < net->listen_count; j++) {
            w->udp[j] = (struct net_sock){.fd = -1, .listen = &net->listen[j], .worker = w};
            w->tcp[j] = (struct net_sock){.fd = -1, .listen = &net->listen[j], .worker = w};
        }
    }
    return net;
}

int
net_open(const struct config *cfg, const struct net_handler *handler,
         uint32_t tcp_max_connections, struct net **out, char err[CONFIG_ERR_MAX])
{
    struct net *net = NULL;
    int ret = -1;

    if (cfg->workers == 0 || cfg->listen_count == 0 || !handler->answer) {
        snprintf(err, CONFIG_ERR_MAX, "net: need a worker, a listen address and a handler");
        goto out;
    }
    net = net_new(cfg, handler, tcp_max_connections);

    /* Every address is checked before any of ours is bound: our own groups would otherwise
     * collide with the probes of overlapping addresses (0.0.0.0:53 and 127.0.0.1:53). */
    for (size_t j = 0; j < net->listen_count; j++)
        if (check_address_free(&net->listen[j], SOCK_DGRAM, err) < 0 ||
            check_address_free(&net->listen[j], SOCK_STREAM, err) < 0)
            goto out;
    /* Everything is bound before anything runs, so a taken address fails the start as a
     * whole instead of leaving a half-served listen list. */
    for (unsigned i = 0; i < net->worker_count; i++) {
        struct net_worker *w = &net->workers[i];
        for (size_t j = 0; j < net->listen_count; j++) {
            if (net_udp_open(&net->listen[j], &w->udp[j].fd, err) < 0 ||
                net_tcp_open(&net->listen[j], &w->tcp[j].fd, err) < 0)
                goto out;
        }
    }
    /* server.xdp (ARCHITECTURE.md §18): where XDP cannot be had (no such interface, no
     * privilege, another program attached, an old kernel), the interface's UDP queries keep
     * going to the sockets just bound, so the error is logged rather than fatal. */
    if (cfg->xdp.interface) {
        char xerr[CONFIG_ERR_MAX];
        if (net_xdp_open(net, &cfg->xdp, &net->xdp, xerr) < 0)
            log_error("%s; UDP on %s is served by sockets", xerr, cfg->xdp.interface);
    }
    for (unsigned i = 0; i < net->worker_count; i++)
        if (worker_init(&net->workers[i], err) < 0)
            goto out;
    *out = net;
    net = NULL;
    ret = 0;
out:
    if (net)
        net_stop(net);
    return ret;
}

int
net_run(struct net *net, char err[CONFIG_ERR_MAX])
{
    sigset_t all, old;

    /* Workers and UDP threads inherit this mask: signals are the main thread's business, and
     * a handler must never run on a worker in the middle of a batch. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int ret = 0;
    for (unsigned i = 0; i < net->worker_count && ret == 0; i++) {
        struct net_worker *w = &net->workers[i];
        int rc = pthread_create(&w->thread, NULL, worker_main, w);
        if (rc != 0) {
            snprintf(err, CONFIG_ERR_MAX, "worker %u: pthread_create: %s", i, strerror(rc));
            ret = -1;
            break;
        }
        w->started = true;
        ret = net_udp_run(w, err);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return ret;
}

unsigned
net_lanes(const struct config *cfg)
{
    return cfg->workers * (1 + (unsigned)cfg->listen_count);
}

int
net_start(const struct config *cfg, const struct net_handler *handler, struct net **out,
          char err[CONFIG_ERR_MAX])
{
    struct net *net;

    if (net_open(cfg, handler, 0, &net, err) < 0)
        return -1;
    if (net_run(net, err) < 0) {
        net_stop(net);
        return -1;
    }
    *out = net;
    return 0;
}

void
net_stop(struct net *net)
{
    if (!net)
        return;
    /* Wake all first, then join: the workers and UDP threads wind down in parallel. */
    atomic_store_explicit(&net->stopping, true, memory_order_release);
    for (unsigned i = 0; i < net->worker_count; i++) {
        if (net->workers[i].started)
            ev_async_send(net->workers[i].loop, &net->workers[i].stop);
        net_udp_wake(&net->workers[i]);
    }
    for (unsigned i = 0; i < net->worker_count; i++) {
        if (net->workers[i].started)
            pthread_join(net->workers[i].thread, NULL);
        net_udp_join(&net->workers[i]);
    }
    for (unsigned i = 0; i < net->worker_count; i++)
        worker_fini(&net->workers[i]);
    net_xdp_free(net->xdp);
    free(net->workers);
    free(net->listen);
    free(net);
}
