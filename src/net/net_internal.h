/* SPDX-License-Identifier: MIT */
/* Private to net/: what net.c (lifecycle), udp.c and tcp.c share. net.c builds every worker
 * on the thread calling net_start, before the worker's thread exists, and frees it after the
 * thread is joined; in between, a worker's sockets, loop and buffers are touched only by that
 * worker's thread. Nothing here is allocated per query or per connection. */
#ifndef MERIDIAN_NET_NET_INTERNAL_H
#define MERIDIAN_NET_NET_INTERNAL_H

#include <ev.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "net/net.h"

/* RFC 1035 §4.1.1: anything shorter than the fixed header is not a DNS message. */
#define NET_DNS_HEADER_SIZE 12
/* RFC 1035 §4.2.2: the TCP length prefix is 16 bits, so no DNS message is longer. This is the
 * out_max handed to the handler on both transports. */
#define NET_MSG_MAX 65535

/* One listen address, copied from the config so the config need not outlive net. */
struct net_listen {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    bool wildcard;                   /* 0.0.0.0 or ::: replies need an explicit source */
    uint32_t index;                  /* position in the config's listen list */
    char text[INET6_ADDRSTRLEN + 8]; /* "1.2.3.4:53" / "[::1]:53", for error messages */
};

struct udp_state;

/* A worker's socket for one listen address: a UDP socket (served by its own thread, udp.c)
 * or a TCP listener (a watcher on the worker's loop). */
struct net_sock {
    ev_io io; /* TCP: io.data points back to this struct */
    int fd;   /* -1 when not open */
    const struct net_listen *listen;
    struct net_worker *worker;
    /* UDP only: */
    struct udp_state *udp; /* the thread's batch buffers */
    unsigned lane;         /* the handler's per-thread index (net_lanes) */
    pthread_t thread;
    bool started; /* the thread runs and must be joined */
};

struct tcp_state;

struct net_worker {
    struct net *net;
    unsigned id;
    struct ev_loop *loop;
    ev_async stop;        /* net_stop -> ev_break */
    ev_prepare idle;      /* handler->idle once per loop iteration */
    struct net_sock *udp; /* listen_count entries */
    struct net_sock *tcp; /* listen_count entries */
    struct tcp_state *tcp_state;
    pthread_t thread;
    bool started; /* thread is running and must be joined */
};

struct net {
    struct net_handler handler;
    struct net_listen *listen;
    size_t listen_count;
    unsigned worker_count;
    uint32_t tcp_idle_timeout_ms;
    uint32_t tcp_io_timeout_ms;   /* a whole message from its first byte */
    uint32_t tcp_max_connections; /* per worker, at least 1 */
    uint32_t tcp_max_per_client;  /* per worker and client address, 0 = no limit */
    uint32_t tcp_max_pipelined;   /* answers per connection per wakeup, at least 1 */
    struct net_worker *workers;
    struct net_xdp *xdp; /* the AF_XDP fast path (xdp.h), or NULL */
    atomic_bool stopping; /* set by net_stop before it wakes the UDP threads */
};

/* Reports an event to the handler's counters, if it counts, from the thread of `lane`. */
static inline void
net_event_report(const struct net *net, unsigned lane, enum net_event event)
{
    const struct net_handler *h = &net->handler;
    if (h->event)
        h->event(h->ctx, lane, event);
}

/* net.c: writes "listen <addr>: [<what>: ]<strerror>" into err. */
void net_error(char err[CONFIG_ERR_MAX], const struct net_listen *l, const char *what, int errnum);
/* net.c: a non-blocking SO_REUSEPORT socket of `type` bound to l (IPv6: V6ONLY). Returns 0 with
 * the descriptor in *out, or -1 with a message in err. */
int net_socket_open(const struct net_listen *l, int type, int *out, char err[CONFIG_ERR_MAX])
    __attribute__((warn_unused_result));

/* udp.c: a bound UDP socket with buffers and (wildcard) packet-info options set. */
int net_udp_open(const struct net_listen *l, int *out, char err[CONFIG_ERR_MAX])
    __attribute__((warn_unused_result));
/* udp.c: allocates the batch buffers of the worker's UDP sockets and gives each its lane. */
void net_udp_worker_init(struct net_worker *w);
/* udp.c: starts one thread per UDP socket of the worker. 0, or -1 with err (the threads
 * already started are stopped by net_stop). */
int net_udp_run(struct net_worker *w, char err[CONFIG_ERR_MAX]) __attribute__((warn_unused_result));
/* udp.c: wakes the worker's UDP threads (net->stopping is set), then waits for them. */
void net_udp_wake(struct net_worker *w);
void net_udp_join(struct net_worker *w);
/* udp.c: frees the buffers, after net_udp_join. */
void net_udp_worker_fini(struct net_worker *w);

/* tcp.c: a bound, listening TCP socket. */
int net_tcp_open(const struct net_listen *l, int *out, char err[CONFIG_ERR_MAX])
    __attribute__((warn_unused_result));
/* tcp.c: allocates the worker's connection table and starts watchers on its listeners. */
void net_tcp_worker_init(struct net_worker *w);
/* tcp.c: closes the worker's open connections and frees the table. */
void net_tcp_worker_fini(struct net_worker *w);

#endif
