/* SPDX-License-Identifier: MIT */
/* Network front end: N worker threads, each with its own libev loop, its own SO_REUSEPORT
 * UDP socket per listen address (recvmmsg/sendmmsg in batches) and its own SO_REUSEPORT TCP
 * listener per address (RFC 7766: pipelining, idle and per-message timeouts, a per-client
 * quota, and a connection cap or descriptor shortage closing a silent or the longest-idle
 * connection first; ARCHITECTURE.md §14). Each UDP socket is served by a thread of its own
 * (blocking recvmmsg, udp.c); the loop keeps TCP and AF_XDP. net/ only moves bytes: answers
 * come from the handler. No allocation per query: buffers and TCP connection slots are
 * allocated when a worker starts. */
#ifndef MERIDIAN_NET_NET_H
#define MERIDIAN_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config/config.h"

/* A TCP response of several messages (a zone transfer, RFC 5936 §2.2). The handler writes
 * the first message as for any query and, to go on, sets `next` and `end` and keeps what it
 * needs in `state`. net/ then calls next() on the worker whenever the connection can take a
 * largest message (so a client that reads slowly holds one message, never the whole
 * response), a few messages per wakeup, while the worker serves its other connections; next()
 * writes one message into out and returns its length, or 0 when the response is complete.
 * end() runs exactly once afterwards: after next() returned 0, when the connection closes
 * (client gone, idle timeout, slot given up) or when the worker stops (then on the thread
 * calling net_stop). Queries the client pipelined behind the stream are answered after it.
 * Both must not block. */
#define NET_STREAM_STATE_MAX 2048
struct net_stream {
    size_t (*next)(void *state, unsigned worker, uint8_t *out, size_t out_max);
    void (*end)(void *state, unsigned worker);
    _Alignas(16) unsigned char state[NET_STREAM_STATE_MAX];
};

struct net_query {
    const struct sockaddr *client; /* source address of the query */
    socklen_t client_len;
    const struct sockaddr *local;  /* the listen address it arrived on */
    uint32_t listen_index;         /* that address's position in config->listen */
    bool tcp;
    const uint8_t *data; /* the DNS message, without the TCP length prefix */
    size_t len;
    struct net_stream *stream; /* TCP: where the handler may start a stream (next and end are
                                  NULL on entry); NULL over UDP */
};

/* What net/ handles without the handler, reported for counters (handler->event). */
enum net_event {
    NET_EVENT_UDP_TRUNCATED = 0, /* a datagram larger than the receive buffer: dropped */
    NET_EVENT_SHORT,             /* a datagram shorter than a DNS header: dropped */
    NET_EVENT_TCP_FRAMING,       /* a TCP length prefix out of bounds: connection closed */
    NET_EVENT_TCP_ACCEPTED,
    NET_EVENT_TCP_CLOSED,        /* every close, evictions included */
    NET_EVENT_TCP_EVICTED,       /* closed to give its slot to a new connection */
};

/* `worker` in these calls is the calling thread's lane (net_lanes below): a worker's loop
 * (TCP, AF_XDP) or one of its UDP threads; no two threads share one. */
struct net_handler {
    /* Called on lane `worker` for each query. Writes the response into out (capacity
     * out_max: 65535 for TCP; for UDP the largest datagram the handler may send) and returns
     * its length, or 0 to send nothing (drop). Must not block. */
    size_t (*answer)(void *ctx, unsigned worker, const struct net_query *q, uint8_t *out,
                     size_t out_max);
    /* Called on each thread of a lane as it starts / before it exits (e.g. RCU
     * registration). Either may be NULL. */
    void (*thread_start)(void *ctx, unsigned worker);
    void (*thread_stop)(void *ctx, unsigned worker);
    /* Called on each lane outside any query: by a worker once per loop iteration, by a UDP
     * thread after each batch (e.g. an RCU quiescent point). May be NULL. */
    void (*idle)(void *ctx, unsigned worker);
    /* Called on lane `worker` for each net_event. May be NULL. Must not block. */
    void (*event)(void *ctx, unsigned worker, enum net_event event);
    void *ctx;
};

struct net;

/* Binds every listen address of cfg for every worker (so bind errors are reported before
 * any thread starts) and prepares the workers without starting them, so that the caller may
 * drop privileges in between. tcp_max_connections, if not 0, lowers cfg's per-worker
 * connection table (to what the descriptor budget holds, net_fd.h). An address another
 * process already listens on (UDP or TCP) is refused with "listen ADDR: already in use
 * (...)" rather than shared through SO_REUSEPORT. Returns 0, or -1 with a message in err.
 * Free with net_stop. */
int net_open(const struct config *cfg, const struct net_handler *handler,
             uint32_t tcp_max_connections, struct net **out, char err[CONFIG_ERR_MAX])
    __attribute__((warn_unused_result));
/* Starts the workers of an opened net. 0, or -1 with err (then net_stop it). */
int net_run(struct net *net, char err[CONFIG_ERR_MAX]) __attribute__((warn_unused_result));
/* net_open and net_run in one. */
int net_start(const struct config *cfg, const struct net_handler *handler, struct net **out,
              char err[CONFIG_ERR_MAX]) __attribute__((warn_unused_result));

/* The handler's `worker` argument is a lane: every thread that calls it has its own, so
 * per-thread state (counters, random state, query-log queues) needs no lock. Lanes
 * 0..workers-1 are the workers' loops (TCP, AF_XDP); each worker's UDP socket of each listen
 * address has its own thread and lane after those. This many in all, for cfg. */
unsigned net_lanes(const struct config *cfg);

/* Stops the workers (each finishes its current batch), joins them and closes the sockets. */
void net_stop(struct net *net);

#endif
