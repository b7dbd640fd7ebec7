// SPDX-License-Identifier: MIT
/* DNS over TCP for one worker (RFC 7766). Each worker owns one SO_REUSEPORT listener per
 * listen address and a connection table of tcp_max_connections slots allocated when the
 * worker is built, so nothing is allocated per connection or per query. A connection reads
 * 2-byte length-prefixed queries into its input buffer, answers every complete one in order
 * into its output buffer (pipelining, RFC 7766 §6.2.1.1) and writes what it can without
 * blocking; a client that does not read its answers is not read from either, so it holds
 * two fixed buffers until its idle timeout. Open connections sit on two lists (tcp_slot.h):
 * idle ones by last activity (idle timeout, RFC 7766 §6.2.3) and those in the middle of a
 * message by its first byte (the I/O timeout: a whole message within tcp_io_timeout, however
 * slowly it trickles in); one ev_timer per worker is armed for the earlier head. When a new
 * client needs a slot, or accept() runs out of descriptors (EMFILE/ENFILE), a connection
 * that serves nobody (no message yet) or the one idle the longest is given up instead of
 * refusing or pausing. A client address (IPv4 /32, IPv6 /64) may hold tcp_max_per_client
 * connections per worker; more are refused. A response of many messages (net.h, struct
 * net_stream) is produced one message at a time into the same output buffer, when it has
 * room, a few per wakeup. Runs only on the worker's thread; every socket is non-blocking. */
#include "net/net_internal.h"

#include <errno.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "net/tcp_slot.h"

/* Input per connection. A query to an authoritative server is a question plus OPT (maybe a
 * cookie, ECS, TSIG): a few hundred bytes. A longer message is refused by closing; the room
 * above one query lets a single read take in a burst of pipelined ones. */
#define TCP_IN_SIZE 8192
#define TCP_QUERY_MAX (TCP_IN_SIZE - 2)
/* Output per connection: room for one largest answer (length prefix included) plus 16 KiB,
 * so that several small pipelined answers leave in one write. An answer is produced only
 * when a largest one would fit; otherwise the connection waits until the client reads. */
#define TCP_ANSWER_ROOM (2 + NET_MSG_MAX)
#define TCP_OUT_SIZE (TCP_ANSWER_ROOM + 16384)
/* Messages of a stream produced per wakeup: one (up to 64 KiB, about 0.3 ms of CPU for a
 * message of small records), so UDP queries and the other connections of the worker get
 * their turn after each: a zone transfer delays a query on its worker by one message at
 * most. The loop's extra turn per message is small beside building the message. With four
 * per turn, tests/bench/xfr.sh saw p50 query latency during AXFRs at 2.3x idle, with one
 * at 1.2x. */
#define TCP_STREAM_BATCH 1
/* Connections accepted per listener wakeup, so that a SYN flood cannot monopolise a worker. */
#define TCP_ACCEPT_BATCH 64
#define TCP_BACKLOG 1024
/* Out of descriptors with no connection of this worker to give up (other workers or the rest
 * of the process hold them all): stop accepting for this long instead of spinning on a
 * listener that stays readable. */
#define TCP_ACCEPT_PAUSE_S 0.1

struct tcp_conn {
    ev_io io; /* io.data points back to the connection */
    struct tcp_state *ts;
    struct tcp_slot slot;          /* on ts->idle or ts->partial while open */
    struct tcp_conn *free_next;    /* free list when not open */
    struct tcp_conn *client_next;  /* same hash bucket of ts->clients */
    uint32_t client_hash;
    int fd;                        /* -1 when the slot is free */
    bool eof;                     /* the client shut down its side: finish, then close */
    bool streaming;               /* `stream` is producing: queries behind it wait */
    const struct net_listen *listen;
    struct sockaddr_storage client;
    socklen_t client_len;
    size_t in_len;             /* bytes in in[] */
    size_t out_start, out_end; /* unsent bytes are out[out_start, out_end) */
    uint8_t in[TCP_IN_SIZE];
    uint8_t out[TCP_OUT_SIZE];
    struct net_stream stream;
};

struct tcp_state {
    struct net_worker *worker;
    struct tcp_conn *conns; /* the table: tcp_max_connections slots */
    struct tcp_conn *free_list;
    struct tcp_slot_list idle;    /* between messages, by last activity */
    struct tcp_slot_list partial; /* mid-message, by the message's first byte */
    struct tcp_conn **clients;    /* open connections by client address hash */
    uint32_t client_mask;         /* buckets - 1 (a power of two) */
    uint32_t max_per_client;      /* 0 = no limit */
    double idle_timeout_s;
    double io_timeout_s;
    ev_timer idle_timer;   /* armed for the earlier head's deadline, or earlier */
    ev_timer accept_pause; /* restarts the listeners after ENOBUFS and the like */
};

static struct tcp_conn *
conn_of(struct tcp_slot *s)
{
    return (struct tcp_conn *)((char *)s - offsetof(struct tcp_conn, slot));
}

/* Activity stamps use the monotonic clock: ev_now() follows the wall clock, and a clock step
 * would otherwise close every connection at once or none for an hour. */
static double
mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct tcp_slot_list *
list_of(struct tcp_state *ts, const struct tcp_conn *c)
{
    return c->slot.partial ? &ts->partial : &ts->idle;
}

static double
slot_deadline(const struct tcp_state *ts, const struct tcp_slot *s)
{
    return s->since + (s->partial ? ts->io_timeout_s : ts->idle_timeout_s);
}

/* The timer may already be pending for an earlier deadline (a head that has since become
 * active or closed): it then fires early, finds nothing expired and re-arms. That costs one
 * wakeup instead of a timer update on every read and write. Only a deadline earlier than the
 * pending one (a message begun while the timer waits for an idle deadline) moves it. */
static void
idle_timer_arm(struct tcp_state *ts)
{
    struct ev_loop *loop = ts->worker->loop;
    double at;

    if (!ts->idle.head && !ts->partial.head)
        return;
    if (ts->idle.head && ts->partial.head) {
        double a = slot_deadline(ts, ts->idle.head), b = slot_deadline(ts, ts->partial.head);
        at = a < b ? a : b;
    } else {
        at = slot_deadline(ts, ts->idle.head ? ts->idle.head : ts->partial.head);
    }
    double after = at - mono_now();
    if (ev_is_active(&ts->idle_timer)) {
        if (after >= ev_timer_remaining(loop, &ts->idle_timer))
            return;
        ev_timer_stop(loop, &ts->idle_timer);
    }
    ev_timer_set(&ts->idle_timer, after > 0 ? after : 0, 0);
    ev_timer_start(loop, &ts->idle_timer);
}

/* Puts c at the tail of the idle (partial false) or partial list, stamped now. */
static void
conn_requeue(struct tcp_conn *c, bool partial)
{
    struct tcp_state *ts = c->ts;

    tcp_slot_unlink(list_of(ts, c), &c->slot);
    c->slot.partial = partial;
    c->slot.since = mono_now();
    tcp_slot_append(list_of(ts, c), &c->slot);
    /* An idle deadline set now is later than any pending one; a message's may be earlier. */
    if (partial || !ev_is_active(&ts->idle_timer))
        idle_timer_arm(ts);
}

/* Some bytes moved: an idle connection goes to the tail of the idle list. A connection in the
 * middle of a message keeps that message's deadline, whatever else moves. */
static void
conn_touch(struct tcp_conn *c)
{
    if (!c->slot.partial)
        conn_requeue(c, false);
}

/* True if answers are still waiting for a client that has stopped reading: ours in out[], or
 * the kernel's in the socket's send queue (SIOCOUTQ counts unsent and unacknowledged). */
static bool
conn_stalled(const struct tcp_conn *c)
{
    int queued = 0;

    if (c->out_start < c->out_end)
        return true;
    return ioctl(c->fd, SIOCOUTQ, &queued) == 0 && queued > 0;
}

/* --- per-client accounting -------------------------------------------------------------- */

/* The client a connection counts against: its IPv4 address, or the /64 of its IPv6 address
 * (one subscriber's allocation, RFC 6177; a single host may hold all of it). */
static size_t
client_key(const struct sockaddr_storage *ss, const uint8_t **key)
{
    if (ss->ss_family == AF_INET) {
        *key = (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr;
        return 4;
    }
    *key = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
    return 8;
}

static uint32_t
client_hash_of(const struct sockaddr_storage *ss)
{
    const uint8_t *key;
    size_t len = client_key(ss, &key);
    uint32_t h = 2166136261u; /* FNV-1a */

    for (size_t i = 0; i < len; i++)
        h = (h ^ key[i]) * 16777619u;
    return h ^ ss->ss_family;
}

static bool
same_client(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    const uint8_t *ka, *kb;
    size_t len = client_key(a, &ka);

    return a->ss_family == b->ss_family && client_key(b, &kb) == len && memcmp(ka, kb, len) == 0;
}

/* Open connections of the client at `client` on this worker. Walks one bucket: the table has
 * as many buckets as slots, so a bucket holds about one client's connections. */
static uint32_t
client_count(const struct tcp_state *ts, const struct sockaddr_storage *client, uint32_t hash)
{
    uint32_t n = 0;

    for (const struct tcp_conn *c = ts->clients[hash & ts->client_mask]; c; c = c->client_next)
        n += c->client_hash == hash && same_client(&c->client, client);
    return n;
}

static void
client_add(struct tcp_state *ts, struct tcp_conn *c)
{
    struct tcp_conn **bucket = &ts->clients[c->client_hash & ts->client_mask];

    c->client_next = *bucket;
    *bucket = c;
}

static void
client_remove(struct tcp_state *ts, struct tcp_conn *c)
{
    struct tcp_conn **p = &ts->clients[c->client_hash & ts->client_mask];

    while (*p && *p != c)
        p = &(*p)->client_next;
    if (*p)
        *p = c->client_next;
    c->client_next = NULL;
}

/* The stream's end() runs once, whatever ends it (net.h). */
static void
stream_end(struct tcp_conn *c)
{
    if (!c->streaming)
        return;
    c->streaming = false;
    c->stream.next = NULL;
    if (c->stream.end)
        c->stream.end(c->stream.state, c->ts->worker->id);
    c->stream.end = NULL;
}

/* abortive: reset instead of FIN. Used when we give up on a client that stopped reading,
 * so the kernel drops the queued answers now rather than keep retrying them for minutes. */
static void
conn_close(struct tcp_conn *c, bool abortive)
{
    struct tcp_state *ts = c->ts;

    stream_end(c);
    ev_io_stop(ts->worker->loop, &c->io);
    if (abortive) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        (void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    close(c->fd);
    c->fd = -1;
    net_event_report(ts->worker->net, ts->worker->id, NET_EVENT_TCP_CLOSED);
    tcp_slot_unlink(list_of(ts, c), &c->slot);
    client_remove(ts, c);
    c->free_next = ts->free_list;
    ts->free_list = c;
}

static void
conn_set_events(struct tcp_conn *c, int events)
{
    struct ev_loop *loop = c->ts->worker->loop;

    if ((c->io.events & (EV_READ | EV_WRITE)) == events)
        return;
    ev_io_stop(loop, &c->io);
    ev_io_modify(&c->io, events);
    ev_io_start(loop, &c->io);
}

static size_t
msg_len_at(const uint8_t *p)
{
    return (size_t)p[0] << 8 | p[1];
}

/* True if in[] starts with a complete message (RFC 7766 §8: 2-byte length, then message). */
static bool
conn_has_query(const struct tcp_conn *c)
{
    return c->in_len >= 2 && c->in_len >= 2 + msg_len_at(c->in);
}

/* True if out[] has room for a largest answer, after moving unsent bytes to the front. */
static bool
conn_out_room(struct tcp_conn *c)
{
    if (TCP_OUT_SIZE - c->out_end >= TCP_ANSWER_ROOM)
        return true;
    if (c->out_start > 0) {
        memmove(c->out, c->out + c->out_start, c->out_end - c->out_start);
        c->out_end -= c->out_start;
        c->out_start = 0;
    }
    return TCP_OUT_SIZE - c->out_end >= TCP_ANSWER_ROOM;
}

/* Writes as much of out[] as the socket takes. Returns -1 if the connection is dead. */
static int
conn_flush(struct tcp_conn *c)
{
    while (c->out_start < c->out_end) {
        /* MSG_NOSIGNAL: a client that went away must not SIGPIPE the server. */
        ssize_t n = send(c->fd, c->out + c->out_start, c->out_end - c->out_start,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            return -1;
        }
        c->out_start += (size_t)n;
        conn_touch(c);
    }
    c->out_start = c->out_end = 0;
    return 0;
}

/* Produces up to TCP_STREAM_BATCH messages of the connection's stream, each written out (as
 * far as the socket takes it) before the next, so out[] holds at most one message and a bit.
 * Stops early when the client does not read fast enough: the next writability resumes it.
 * Returns -1 if the connection is dead. */
static int
conn_stream(struct tcp_conn *c)
{
    const struct net_worker *w = c->ts->worker;

    for (int i = 0; i < TCP_STREAM_BATCH && c->streaming; i++) {
        if (conn_flush(c) < 0)
            return -1;
        if (!conn_out_room(c))
            break;
        uint8_t *dst = c->out + c->out_end;
        size_t n = c->stream.next(c->stream.state, w->id, dst + 2, NET_MSG_MAX);
        if (n == 0 || n > NET_MSG_MAX) {
            stream_end(c);
            break;
        }
        dst[0] = (uint8_t)(n >> 8);
        dst[1] = (uint8_t)n;
        c->out_end += 2 + n;
    }
    return conn_flush(c);
}

/* Answers the complete queries in in[], in the order received (answers could be reordered,
 * RFC 7766 §7, but ours are all immediate). Stops at an incomplete message, after
 * tcp_max_pipelined answers (the rest wait for the next wakeup, so one client's burst does
 * not hold up the others), or when out[] cannot take another answer while the client is not
 * reading. Returns -1 if the client sent something that is not a DNS query. */
static int
conn_process(struct tcp_conn *c)
{
    struct net_worker *w = c->ts->worker;
    const struct net_handler *h = &w->net->handler;
    uint32_t answered = 0;
    size_t pos = 0;
    int ret = 0;

    if (c->streaming && conn_stream(c) < 0)
        return -1;
    while (!c->streaming && c->in_len - pos >= 2) {
        size_t len = msg_len_at(c->in + pos);
        /* A zero length or one shorter than a header is not a message; longer than our
         * buffer is not a query we would answer. Either way the stream cannot be trusted. */
        if (len < NET_DNS_HEADER_SIZE || len > TCP_QUERY_MAX) {
            net_event_report(w->net, w->id, NET_EVENT_TCP_FRAMING);
            ret = -1;
            goto out;
        }
        if (c->in_len - pos < 2 + len || answered == w->net->tcp_max_pipelined)
            break;
        if (!conn_out_room(c)) {
            if (conn_flush(c) < 0) {
                ret = -1;
                goto out;
            }
            if (!conn_out_room(c))
                break;
        }

        struct net_query q = {
            .client = (const struct sockaddr *)&c->client,
            .client_len = c->client_len,
            .local = (const struct sockaddr *)&c->listen->addr,
            .listen_index = c->listen->index,
            .tcp = true,
            .data = c->in + pos + 2,
            .len = len,
            .stream = &c->stream,
        };
        c->stream.next = NULL;
        c->stream.end = NULL;
        uint8_t *dst = c->out + c->out_end;
        size_t n = h->answer(h->ctx, w->id, &q, dst + 2, NET_MSG_MAX);
        if (n > 0 && n <= NET_MSG_MAX) {
            dst[0] = (uint8_t)(n >> 8);
            dst[1] = (uint8_t)n;
            c->out_end += 2 + n;
        }
        /* A stream's messages follow its first, before any other answer (the loop stops). */
        c->streaming = c->stream.next != NULL;
        if (c->streaming && (n == 0 || n > NET_MSG_MAX))
            stream_end(c); /* no first message: nothing to continue */
        pos += 2 + len;
        answered++;
        c->slot.messages++;
    }
out:
    if (pos > 0) {
        memmove(c->in, c->in + pos, c->in_len - pos);
        c->in_len -= pos;
    }
    return ret;
}

/* Answers what can be answered, writes what can be written, and decides what to wait for:
 * - a stream producing, queries left over or answers unsent: wait for writability (immediate
 *   if the socket has room, which is how left-over queries and the stream's next messages get
 *   their turn in the next loop iteration);
 * - otherwise read. A connection whose output is stuck therefore stops reading, so a client
 *   that never reads holds at most in[] and out[] until the idle timeout closes it. */
static void
conn_run(struct tcp_conn *c)
{
    uint32_t before = c->slot.messages;
    if (conn_process(c) < 0) {
        /* The stream cannot be trusted past a bad length, but the queries before it were
         * sound: their answers go out (as far as the socket takes them now) before the
         * close, so a client that pipelined them is not left without. */
        (void)conn_flush(c);
        conn_close(c, false);
        return;
    }
    if (conn_flush(c) < 0) {
        conn_close(c, false);
        return;
    }
    bool got_message = c->slot.messages != before;
    bool queued = conn_has_query(c);
    bool unsent = c->out_start < c->out_end;
    if (c->eof && !queued && !unsent && !c->streaming) {
        conn_close(c, false);
        return;
    }
    /* Mid-message while we read: the message's deadline applies from its first byte. While
     * we wait for the client to read answers (or a stream to finish), only the idle timeout
     * does, since it is not the client that is slow to send. */
    bool partial = c->in_len > 0 && !queued && !unsent && !c->streaming;
    if (partial != c->slot.partial)
        conn_requeue(c, partial);
    else if (got_message)
        conn_touch(c);
    if (queued || unsent || c->streaming)
        conn_set_events(c, EV_WRITE);
    else
        conn_set_events(c, EV_READ);
}

static void
conn_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct tcp_conn *c = io->data;
    (void)loop;

    /* in[] always has room here: a full in[] holds a complete query (TCP_QUERY_MAX), and
     * then we wait for writability, not input. The check keeps recv from seeing a zero-size
     * buffer, whose 0 would look like end of stream. */
    if ((revents & EV_READ) && c->in_len < TCP_IN_SIZE) {
        ssize_t n = recv(c->fd, c->in + c->in_len, TCP_IN_SIZE - c->in_len, MSG_DONTWAIT);
        if (n > 0) {
            /* Activity counts when a message is complete (conn_run): bytes of an unfinished
             * one do not push its deadline back. */
            c->in_len += (size_t)n;
        } else if (n == 0) {
            /* RFC 7766 §6.2.4 allows a client to half-close after its queries: answer what
             * arrived, then close. */
            c->eof = true;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            conn_close(c, false);
            return;
        }
    }
    conn_run(c);
}

/* Gives up the connection tcp_slot_victim picks (tcp_slot.h). False if there is none. A
 * stalled client (not reading) gets a reset, see conn_close. */
static bool
evict_one(struct tcp_state *ts)
{
    struct tcp_slot *victim = tcp_slot_victim(&ts->idle, &ts->partial, mono_now(),
                                              ts->io_timeout_s);
    if (!victim)
        return false;
    struct tcp_conn *c = conn_of(victim);
    net_event_report(ts->worker->net, ts->worker->id, NET_EVENT_TCP_EVICTED);
    conn_close(c, conn_stalled(c));
    return true;
}

static void
conn_open(struct tcp_state *ts, const struct net_listen *l, int fd,
          const struct sockaddr_storage *client, socklen_t client_len)
{
    struct tcp_conn *c;
    uint32_t hash = client_hash_of(client);

    /* One address may not take the table: past its quota the new connection is reset at
     * once (RFC 7766 §6.2.2 lets a server limit connections per client). */
    if (ts->max_per_client && client_count(ts, client, hash) >= ts->max_per_client) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(fd);
        return;
    }
    /* All slots taken: give up a connection that serves nobody or the one idle the longest
     * rather than refuse the new client (RFC 7766 §6.2.3, §10: servers manage their
     * connection budget by closing idle connections). */
    if (!ts->free_list)
        (void)evict_one(ts);
    c = ts->free_list;
    ts->free_list = c->free_next;

    c->fd = fd;
    c->eof = false;
    c->streaming = false;
    c->listen = l;
    memcpy(&c->client, client, client_len);
    c->client_len = client_len;
    c->client_hash = hash;
    client_add(ts, c);
    c->in_len = 0;
    c->out_start = c->out_end = 0;
    c->slot.messages = 0;
    c->slot.partial = false;
    c->slot.opened = c->slot.since = mono_now();
    tcp_slot_append(&ts->idle, &c->slot);
    net_event_report(ts->worker->net, ts->worker->id, NET_EVENT_TCP_ACCEPTED);
    ev_io_init(&c->io, conn_cb, fd, EV_READ);
    c->io.data = c;
    ev_io_start(ts->worker->loop, &c->io);
    idle_timer_arm(ts);
}

static void
accept_pause(struct tcp_state *ts)
{
    struct net_worker *w = ts->worker;

    for (size_t i = 0; i < w->net->listen_count; i++)
        ev_io_stop(w->loop, &w->tcp[i].io);
    if (!ev_is_active(&ts->accept_pause)) {
        ev_timer_set(&ts->accept_pause, TCP_ACCEPT_PAUSE_S, 0);
        ev_timer_start(w->loop, &ts->accept_pause);
    }
}

static void
accept_resume_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct tcp_state *ts = t->data;
    (void)revents;

    for (size_t i = 0; i < ts->worker->net->listen_count; i++)
        ev_io_start(loop, &ts->worker->tcp[i].io);
}

static void
accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct net_sock *s = io->data;
    struct tcp_state *ts = s->worker->tcp_state;
    (void)loop;
    (void)revents;

    for (int i = 0; i < TCP_ACCEPT_BATCH; i++) {
        struct sockaddr_storage client;
        socklen_t len = sizeof(client);
        int fd = accept4(s->fd, (struct sockaddr *)&client, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            /* Out of descriptors: a client that holds one without being served must not
             * stop TCP for everyone, nor pausing let a flood of them keep the table. Give up
             * one of ours (as for a full table) and accept again; only a worker with nothing
             * to give up pauses. */
            if ((errno == EMFILE || errno == ENFILE) && evict_one(ts))
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                accept_pause(ts);
            break; /* EAGAIN, or a network error on a connection already gone */
        }
        conn_open(ts, s->listen, fd, &client, len);
    }
}

/* Closes every connection whose deadline has passed, on both lists, oldest first, then
 * re-arms for the next one. A stalled client (not reading) gets a reset, see conn_close. */
static void
idle_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct tcp_state *ts = t->data;
    double now = mono_now();
    (void)loop;
    (void)revents;

    while (ts->idle.head && slot_deadline(ts, ts->idle.head) <= now) {
        struct tcp_conn *c = conn_of(ts->idle.head);
        conn_close(c, conn_stalled(c));
    }
    while (ts->partial.head && slot_deadline(ts, ts->partial.head) <= now)
        conn_close(conn_of(ts->partial.head), false);
    idle_timer_arm(ts);
}

int
net_tcp_open(const struct net_listen *l, int *out, char err[CONFIG_ERR_MAX])
{
    int one = 1;
    int fd = -1;
    int ret = -1;

    if (net_socket_open(l, SOCK_STREAM, &fd, err) < 0)
        goto out;
    /* We write whole answers, batched per wakeup; Nagle would only hold the next batch back
     * until the client acknowledges the last. Accepted sockets inherit the option. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (listen(fd, TCP_BACKLOG) < 0) {
        net_error(err, l, "listen", errno);
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

void
net_tcp_worker_init(struct net_worker *w)
{
    struct tcp_state *ts = xcalloc(1, sizeof(*ts));
    uint32_t count = w->net->tcp_max_connections;

    ts->worker = w;
    /* One block for the whole table; its pages are touched only as connections use them. */
    ts->conns = xcalloc(count, sizeof(*ts->conns));
    for (uint32_t i = count; i-- > 0;) {
        struct tcp_conn *c = &ts->conns[i];
        c->ts = ts;
        c->fd = -1;
        c->free_next = ts->free_list;
        ts->free_list = c;
    }
    uint32_t buckets = 1;
    while (buckets < count)
        buckets <<= 1;
    ts->clients = xcalloc(buckets, sizeof(*ts->clients));
    ts->client_mask = buckets - 1;
    ts->max_per_client = w->net->tcp_max_per_client;
    ts->idle_timeout_s = w->net->tcp_idle_timeout_ms / 1000.0;
    ts->io_timeout_s = w->net->tcp_io_timeout_ms / 1000.0;
    ev_timer_init(&ts->idle_timer, idle_timer_cb, 0, 0);
    ts->idle_timer.data = ts;
    ev_timer_init(&ts->accept_pause, accept_resume_cb, 0, 0);
    ts->accept_pause.data = ts;
    w->tcp_state = ts;

    for (size_t i = 0; i < w->net->listen_count; i++) {
        struct net_sock *s = &w->tcp[i];
        ev_io_init(&s->io, accept_cb, s->fd, EV_READ);
        s->io.data = s;
        ev_io_start(w->loop, &s->io);
    }
}

void
net_tcp_worker_fini(struct net_worker *w)
{
    struct tcp_state *ts = w->tcp_state;

    /* The worker has stopped: close what is open, without touching its loop's watchers one
     * by one (the loop is destroyed next). */
    for (uint32_t i = 0; i < w->net->tcp_max_connections; i++) {
        if (ts->conns[i].fd >= 0) {
            stream_end(&ts->conns[i]);
            close(ts->conns[i].fd);
        }
    }
    free(ts->conns);
    free(ts->clients);
    free(ts);
    w->tcp_state = NULL;
}
