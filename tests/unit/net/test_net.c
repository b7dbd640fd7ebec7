// SPDX-License-Identifier: MIT
/* Unit tests for net/: a real front end (worker threads, SO_REUSEPORT sockets on 127.0.0.1 and
 * [::1], on a port each test holds for the life of the process: test_port.h) with an echo
 * handler that returns the query with QR set, and RA set too when the query came over TCP.
 * Covers UDP on both families and in bulk, TCP single, pipelined and split queries, the idle
 * timeout, the connection cap, malformed lengths, a client that never reads, bind errors, and
 * streams (a TCP query of type 252 is answered with STREAM_MSGS messages of STREAM_MSG_LEN
 * bytes, as a zone transfer is): complete and in order, the worker serving others meanwhile,
 * end() exactly once whether the stream finished, the client left or the worker stopped.
 * Every wait is bounded by poll, and upper bounds are scaled for the build (test_time.h).
 * `test_net --wildcard` runs only the wildcard-address case, which needs a network namespace:
 * exit 77 without the privilege. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net/net.h"
#include "test_port.h"
#include "test_time.h"

#define QUERY_LEN 24                     /* header + "a.test. IN A" */
#define BIG_ANSWER 60000                 /* answer size a TCP query with RD set asks for */
#define WAIT_MS test_ms(3000)            /* upper bound for anything that should happen "now" */
#define IDLE_MS ((uint32_t)test_ms(400)) /* tcp_idle_timeout of test_tcp_idle_timeout */
#define BUSY_GAP_MS 50                   /* its busy client's pause between queries */
#define SLOW_IDLE_MS ((uint32_t)test_ms(300)) /* tcp_idle_timeout of test_tcp_slow_reader */
#define UDP_BURST 200
#define STREAM_QTYPE 252   /* asks for a stream */
#define STREAM_MSGS 64     /* messages of a stream, the first included */
#define STREAM_MSG_LEN 60000
#define MAX_LANES 16 /* lanes a test front end may have (workers x (1 + addresses)) */

struct counters {
    atomic_uint answered;
    atomic_uint started;
    atomic_uint stopped;
    atomic_uint idle;
    atomic_uint streams;     /* started */
    atomic_uint stream_ends; /* end() calls */
    /* Lanes (net.h): the thread each lane's calls came from, and what broke the promise. */
    _Atomic(pthread_t) lane_thread[MAX_LANES];
    atomic_uint lane_starts[MAX_LANES];
    atomic_bool lane_shared;      /* one lane seen on two threads */
    atomic_uint lane_udp_min;     /* smallest lane of a UDP query (UINT_MAX: none yet) */
    atomic_uint lane_tcp_max;     /* largest lane of a TCP query */
};

/* What a test stream keeps between messages (inside net_stream.state). */
struct test_stream {
    struct counters *k;
    uint16_t id;
    uint32_t seq; /* messages written */
};

/* A stream message: the query's id, QR, then its sequence number, then zeros. */
static size_t
stream_message(struct test_stream *ts, uint8_t *out, size_t out_max)
{
    if (ts->seq == STREAM_MSGS || out_max < STREAM_MSG_LEN)
        return 0;
    memset(out, 0, STREAM_MSG_LEN);
    out[0] = (uint8_t)(ts->id >> 8);
    out[1] = (uint8_t)ts->id;
    out[2] = 0x80;
    out[12] = (uint8_t)(ts->seq >> 8);
    out[13] = (uint8_t)ts->seq;
    ts->seq++;
    return STREAM_MSG_LEN;
}

static size_t
stream_next(void *state, unsigned worker, uint8_t *out, size_t out_max)
{
    (void)worker;
    return stream_message(state, out, out_max);
}

static void
stream_end(void *state, unsigned worker)
{
    struct test_stream *ts = state;
    (void)worker;
    atomic_fetch_add(&ts->k->stream_ends, 1);
}

struct fixture {
    struct counters counters;
    struct net *net;
    uint16_t port;
    unsigned workers;
};

/* Records that `lane` ran on this thread; a lane seen on another thread before is a bug. */
static void
lane_note(struct counters *k, unsigned lane)
{
    pthread_t zero = 0;
    assert_true(lane < MAX_LANES);
    if (!atomic_compare_exchange_strong(&k->lane_thread[lane], &zero, pthread_self()) &&
        !pthread_equal(zero, pthread_self()))
        atomic_store(&k->lane_shared, true);
}

static size_t
echo_answer(void *ctx, unsigned worker, const struct net_query *q, uint8_t *out, size_t out_max)
{
    struct counters *k = ctx;
    size_t len = q->len;

    lane_note(k, worker);
    if (q->tcp) {
        unsigned m = atomic_load(&k->lane_tcp_max);
        while (worker > m && !atomic_compare_exchange_weak(&k->lane_tcp_max, &m, worker)) {
        }
    } else {
        unsigned m = atomic_load(&k->lane_udp_min);
        while (worker < m && !atomic_compare_exchange_weak(&k->lane_udp_min, &m, worker)) {
        }
    }
    atomic_fetch_add(&k->answered, 1);
    if (q->len < 12 || q->len > out_max || !q->client || !q->local ||
        q->client->sa_family != q->local->sa_family)
        return 0;
    if (q->tcp && q->stream && q->len >= 22 && q->data[21] == STREAM_QTYPE) {
        struct test_stream *ts = (struct test_stream *)q->stream->state;
        assert_null(q->stream->next);
        *ts = (struct test_stream){.k = k, .id = (uint16_t)(q->data[0] << 8 | q->data[1])};
        q->stream->next = stream_next;
        q->stream->end = stream_end;
        atomic_fetch_add(&k->streams, 1);
        return stream_message(ts, out, out_max);
    }
    if (!q->tcp && q->stream)
        return 0; /* UDP never streams */
    memcpy(out, q->data, q->len);
    out[2] |= 0x80;
    if (q->tcp) {
        out[3] |= 0x80;
        /* RD asks for a large answer, to fill a non-reading client's buffers quickly. */
        if ((q->data[2] & 0x01) && BIG_ANSWER <= out_max) {
            memset(out + q->len, 0, BIG_ANSWER - q->len);
            len = BIG_ANSWER;
        }
    }
    return len;
}

static void
on_start(void *ctx, unsigned worker)
{
    struct counters *k = ctx;
    lane_note(k, worker);
    atomic_fetch_add(&k->lane_starts[worker], 1);
    atomic_fetch_add(&k->started, 1);
}

static void
on_stop(void *ctx, unsigned worker)
{
    struct counters *k = ctx;
    lane_note(k, worker);
    atomic_fetch_add(&k->stopped, 1);
}

static void
on_idle(void *ctx, unsigned worker)
{
    struct counters *k = ctx;
    lane_note(k, worker);
    atomic_fetch_add(&k->idle, 1);
}

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void
addr_make(int family, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof(*ss));
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        *len = sizeof(*sin);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        sin6->sin6_addr = in6addr_loopback;
        *len = sizeof(*sin6);
    }
}

/* A plain (no SO_REUSEPORT) socket bound to the loopback address of family on port, or -1. */
static int
plain_bind(int family, int type, uint16_t port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int one = 1;
    int fd = socket(family, type | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    if (family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    addr_make(family, port, &ss, &len);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* True if nothing, not even another SO_REUSEPORT server of ours, holds the port. */
static bool
port_free(uint16_t port)
{
    static const int families[] = {AF_INET, AF_INET6};
    static const int types[] = {SOCK_DGRAM, SOCK_STREAM};
    int fds[4];
    int n = 0;
    bool ok = true;

    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            if ((fds[n++] = plain_bind(families[i], types[j], port)) < 0)
                ok = false;
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return ok;
}

static int
start_on(struct fixture *f, const struct sockaddr_storage *addrs, const socklen_t *lens,
         size_t count, unsigned workers, uint32_t max_conns, uint32_t idle_ms,
         char err[CONFIG_ERR_MAX])
{
    struct config_listen listen[4];
    char text[4][64];
    struct config cfg;
    struct net_handler h = {
        .answer = echo_answer,
        .thread_start = on_start,
        .thread_stop = on_stop,
        .idle = on_idle,
        .ctx = &f->counters,
    };

    memset(&cfg, 0, sizeof(cfg));
    memset(listen, 0, sizeof(listen));
    for (size_t i = 0; i < count; i++) {
        listen[i].addr = addrs[i];
        listen[i].addr_len = lens[i];
        snprintf(text[i], sizeof(text[i]), "listen-%zu", i);
        listen[i].text = text[i];
    }
    cfg.listen = listen;
    cfg.listen_count = count;
    cfg.workers = workers;
    cfg.udp_max_size = 1232;
    cfg.tcp_idle_timeout_ms = idle_ms;
    cfg.tcp_max_connections = max_conns;
    cfg.tcp_max_pipelined = 16;
    return net_start(&cfg, &h, &f->net, err);
}

/* Listens on 127.0.0.1:port and [::1]:port. */
static int
try_start(struct fixture *f, uint16_t port, unsigned workers, uint32_t max_conns, uint32_t idle_ms,
          char err[CONFIG_ERR_MAX])
{
    struct sockaddr_storage addrs[2];
    socklen_t lens[2];

    addr_make(AF_INET, port, &addrs[0], &lens[0]);
    addr_make(AF_INET6, port, &addrs[1], &lens[1]);
    return start_on(f, addrs, lens, 2, workers, max_conns, idle_ms, err);
}

/* Each test gets a port of its own, held until the process exits (so a test that stops and
 * starts its front end again, or reuses the port after a blocker, still owns it), and never
 * one a previous test left connections in TIME_WAIT on. */
static int
fixture_start(void **state, unsigned workers, uint32_t max_conns, uint32_t idle_ms)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char err[CONFIG_ERR_MAX];

    f->workers = workers;
    atomic_store(&f->counters.lane_udp_min, UINT_MAX);
    if (test_port_hold(&f->port) < 0) {
        free(f);
        return -1;
    }
    if (try_start(f, f->port, workers, max_conns, idle_ms, err) < 0) {
        fprintf(stderr, "net_start on held port %u: %s\n", f->port, err);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int
setup_default(void **state)
{
    return fixture_start(state, 2, 64, 5000);
}

static int
setup_idle(void **state)
{
    return fixture_start(state, 2, 64, IDLE_MS);
}

/* One worker, so that every connection lands in the same table. */
static int
setup_cap(void **state)
{
    return fixture_start(state, 1, 2, 5000);
}

/* One worker, idle timeout far above anything the test waits for. */
static int
setup_one_worker(void **state)
{
    return fixture_start(state, 1, 8, 5000);
}

static int
setup_slow(void **state)
{
    return fixture_start(state, 1, 8, SLOW_IDLE_MS);
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    net_stop(f->net);
    free(f);
    return 0;
}

static void
query_make(uint8_t *q, uint16_t id, bool big)
{
    static const uint8_t question[] = {1, 'a', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1};
    memset(q, 0, 12);
    q[0] = (uint8_t)(id >> 8);
    q[1] = (uint8_t)id;
    q[2] = big ? 0x01 : 0x00;
    q[5] = 1; /* QDCOUNT */
    memcpy(q + 12, question, sizeof(question));
}

static void
check_answer(const uint8_t *a, size_t len, uint16_t id, bool tcp)
{
    assert_int_equal(len, QUERY_LEN);
    assert_int_equal((a[0] << 8) | a[1], id);
    assert_true(a[2] & 0x80);
    assert_int_equal(!!(a[3] & 0x80), tcp);
}

static bool
wait_readable(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return timeout_ms > 0 && poll(&p, 1, timeout_ms) == 1;
}

static int
udp_client(int family)
{
    /* Room for a whole burst of answers: the test reads them only after sending. */
    int size = 1 << 22;
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    return fd;
}

static void
udp_send(int fd, int family, uint16_t port, const uint8_t *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    addr_make(family, port, &ss, &sslen);
    assert_int_equal(sendto(fd, buf, len, 0, (struct sockaddr *)&ss, sslen), (ssize_t)len);
}

static void
udp_roundtrip(struct fixture *f, int family)
{
    uint8_t q[QUERY_LEN], a[512];
    struct sockaddr_storage from, server;
    socklen_t from_len = sizeof(from), server_len;
    int fd = udp_client(family);

    /* Shorter than a header: dropped by net before the handler sees it. */
    udp_send(fd, family, f->port, (const uint8_t *)"short", 5);
    query_make(q, 0x1234, false);
    udp_send(fd, family, f->port, q, sizeof(q));
    assert_true(wait_readable(fd, WAIT_MS));
    ssize_t n = recvfrom(fd, a, sizeof(a), 0, (struct sockaddr *)&from, &from_len);
    check_answer(a, (size_t)n, 0x1234, false);
    /* The answer comes from the address the query went to. */
    addr_make(family, f->port, &server, &server_len);
    assert_int_equal(from_len, server_len);
    assert_memory_equal(&from, &server, server_len);
    assert_int_equal(atomic_load(&f->counters.answered), 1);
    close(fd);
}

static void
test_udp_v4(void **state)
{
    udp_roundtrip(*state, AF_INET);
}

static void
test_udp_v6(void **state)
{
    udp_roundtrip(*state, AF_INET6);
}

/* A burst from one socket lands on one worker's socket and is read in batches. */
static void
test_udp_burst(void **state)
{
    struct fixture *f = *state;
    bool seen[UDP_BURST] = {false};
    uint8_t q[QUERY_LEN], a[512];
    int fd = udp_client(AF_INET);
    unsigned got = 0;
    double deadline = now_ms() + WAIT_MS;

    for (uint16_t id = 0; id < UDP_BURST; id++) {
        query_make(q, id, false);
        udp_send(fd, AF_INET, f->port, q, sizeof(q));
    }
    while (got < UDP_BURST && wait_readable(fd, (int)(deadline - now_ms()))) {
        ssize_t n = recv(fd, a, sizeof(a), MSG_DONTWAIT);
        if (n < 0)
            continue;
        uint16_t id = (uint16_t)(a[0] << 8 | a[1]);
        assert_true(id < UDP_BURST);
        check_answer(a, (size_t)n, id, false);
        assert_false(seen[id]);
        seen[id] = true;
        got++;
    }
    assert_int_equal(got, UDP_BURST);
    close(fd);
}

static int
tcp_connect(int family, uint16_t port, int rcvbuf)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int one = 1;
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    /* Before connect, so the window is negotiated for it. */
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    /* Each of our writes leaves as its own segment (the split test relies on it). */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    addr_make(family, port, &ss, &len);
    /* Loopback: the listen backlog completes the handshake at once. */
    assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), 0);
    return fd;
}

static size_t
tcp_frame(uint8_t *buf, uint16_t id, bool big)
{
    buf[0] = 0;
    buf[1] = QUERY_LEN;
    query_make(buf + 2, id, big);
    return 2 + QUERY_LEN;
}

static void
send_all(int fd, const uint8_t *buf, size_t len)
{
    assert_int_equal(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Reads exactly len bytes within timeout_ms. */
static bool
read_exact(int fd, uint8_t *buf, size_t len, int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;
    size_t got = 0;

    while (got < len) {
        if (!wait_readable(fd, (int)(deadline - now_ms())))
            return false;
        ssize_t n = recv(fd, buf + got, len - got, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            return false;
        if (n > 0)
            got += (size_t)n;
    }
    return true;
}

static void
tcp_expect_answer(int fd, uint16_t id)
{
    uint8_t buf[2 + QUERY_LEN];
    assert_true(read_exact(fd, buf, 2, WAIT_MS));
    assert_int_equal((buf[0] << 8) | buf[1], QUERY_LEN);
    assert_true(read_exact(fd, buf + 2, QUERY_LEN, WAIT_MS));
    check_answer(buf + 2, QUERY_LEN, id, true);
}

static void
tcp_roundtrip(int fd, uint16_t id)
{
    uint8_t buf[2 + QUERY_LEN];
    send_all(fd, buf, tcp_frame(buf, id, false));
    tcp_expect_answer(fd, id);
}

/* True once the server has closed fd (end of stream or reset), reading past any answers. */
static bool
wait_closed(int fd, int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;
    uint8_t buf[4096];

    for (;;) {
        if (!wait_readable(fd, (int)(deadline - now_ms())))
            return false;
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return true;
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return false;
    }
}

static void
test_tcp_single(void **state)
{
    struct fixture *f = *state;
    int fd4 = tcp_connect(AF_INET, f->port, 0);
    int fd6 = tcp_connect(AF_INET6, f->port, 0);

    tcp_roundtrip(fd4, 0x4444);
    tcp_roundtrip(fd6, 0x6666);
    /* The connection stays open for more (RFC 7766 §6.2.1). */
    tcp_roundtrip(fd4, 0x4445);
    close(fd4);
    close(fd6);
}

static void
test_tcp_pipelined(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[10 * (2 + QUERY_LEN)];
    size_t len = 0;
    int fd = tcp_connect(AF_INET, f->port, 0);

    for (uint16_t i = 0; i < 10; i++)
        len += tcp_frame(buf + len, (uint16_t)(100 + i), false);
    send_all(fd, buf, len);
    for (uint16_t i = 0; i < 10; i++)
        tcp_expect_answer(fd, (uint16_t)(100 + i));
    close(fd);
}

/* RFC 7766 §6.2.4: a client may send its queries and shut down its side; it still gets every
 * answer, then the server closes. */
static void
test_tcp_half_close(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[3 * (2 + QUERY_LEN)];
    size_t len = 0;
    int fd = tcp_connect(AF_INET, f->port, 0);

    for (uint16_t i = 0; i < 3; i++)
        len += tcp_frame(buf + len, (uint16_t)(200 + i), false);
    send_all(fd, buf, len);
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    for (uint16_t i = 0; i < 3; i++)
        tcp_expect_answer(fd, (uint16_t)(200 + i));
    assert_true(wait_closed(fd, WAIT_MS));
    close(fd);
}

static void
test_tcp_split(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[2 * (2 + QUERY_LEN)];
    size_t len = 0;
    int fd = tcp_connect(AF_INET6, f->port, 0);

    len += tcp_frame(buf, 7, false);
    len += tcp_frame(buf + len, 8, false);
    /* One byte per segment, length prefix included; the second query straddles nothing but
     * still arrives in pieces after the first. */
    for (size_t i = 0; i < len; i++) {
        send_all(fd, buf + i, 1);
        sleep_ms(1);
    }
    tcp_expect_answer(fd, 7);
    tcp_expect_answer(fd, 8);
    close(fd);
}

/* idle 400 ms (scaled): a silent connection is closed, not before the timeout; a connection
 * used every 50 ms is not closed, even after the silent one was. The busy client's pauses
 * stay far below the timeout however the machine delays this thread. */
static void
test_tcp_idle_timeout(void **state)
{
    struct fixture *f = *state;
    int quiet = tcp_connect(AF_INET, f->port, 0);
    int busy = tcp_connect(AF_INET, f->port, 0);
    bool closed = false;

    tcp_roundtrip(quiet, 1);
    tcp_roundtrip(busy, 2);
    double start = now_ms();
    /* Bounded: until quiet is closed, or the timeout plus WAIT_MS. */
    for (uint16_t i = 0; !closed && now_ms() - start < IDLE_MS + WAIT_MS; i++) {
        sleep_ms(BUSY_GAP_MS);
        tcp_roundtrip(busy, (uint16_t)(10 + i));
        closed = wait_closed(quiet, 5);
    }
    double took = now_ms() - start;
    if (!closed || took < IDLE_MS - 50)
        fail_msg("quiet connection %s after %.0f ms (idle timeout %u ms)",
                 closed ? "closed" : "still open", took, IDLE_MS);
    tcp_roundtrip(busy, 99); /* open for longer than the timeout, busy all along */
    close(quiet);
    close(busy);
}

/* tcp_max_connections 2, one worker: the third client is served and the connection idle the
 * longest is closed for it. */
static void
test_tcp_connection_cap(void **state)
{
    struct fixture *f = *state;
    int c1 = tcp_connect(AF_INET, f->port, 0);
    tcp_roundtrip(c1, 1);
    int c2 = tcp_connect(AF_INET6, f->port, 0);
    tcp_roundtrip(c2, 2);
    int c3 = tcp_connect(AF_INET, f->port, 0);
    tcp_roundtrip(c3, 3);

    assert_true(wait_closed(c1, WAIT_MS));
    tcp_roundtrip(c2, 4);
    tcp_roundtrip(c3, 5);
    close(c1);
    close(c2);
    close(c3);
}

static void
test_tcp_bad_length(void **state)
{
    struct fixture *f = *state;
    static const uint8_t zero[] = {0, 0};
    static const uint8_t tiny[] = {0, 5, 1, 2, 3, 4, 5};
    int fd = tcp_connect(AF_INET, f->port, 0);

    tcp_roundtrip(fd, 1);
    send_all(fd, zero, sizeof(zero));
    assert_true(wait_closed(fd, WAIT_MS));
    close(fd);

    fd = tcp_connect(AF_INET6, f->port, 0);
    send_all(fd, tiny, sizeof(tiny));
    assert_true(wait_closed(fd, WAIT_MS));
    close(fd);
}

/* A client that asks for a lot and never reads: the worker keeps serving others, and the
 * stuck connection is reset at the idle timeout (300 ms, scaled). One worker, so "others"
 * share it. */
static void
test_tcp_slow_reader(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[200 * (2 + QUERY_LEN)];
    uint8_t q[QUERY_LEN], a[512];
    size_t len = 0;
    int slow = tcp_connect(AF_INET, f->port, 4096);

    for (uint16_t i = 0; i < 200; i++)
        len += tcp_frame(buf + len, i, true);
    send_all(slow, buf, len);
    double start = now_ms();

    int other = tcp_connect(AF_INET, f->port, 0);
    tcp_roundtrip(other, 42);
    int udp = udp_client(AF_INET);
    query_make(q, 43, false);
    udp_send(udp, AF_INET, f->port, q, sizeof(q));
    assert_true(wait_readable(udp, WAIT_MS));
    ssize_t n = recv(udp, a, sizeof(a), 0);
    check_answer(a, (size_t)n, 43, false);

    /* Not reading, so wait for the reset itself: poll reports POLLHUP/POLLERR regardless of
     * the events asked for. */
    struct pollfd p = {.fd = slow, .events = 0};
    assert_int_equal(poll(&p, 1, WAIT_MS), 1);
    assert_true(p.revents & (POLLHUP | POLLERR));
    assert_true(now_ms() - start >= SLOW_IDLE_MS - 100);
    close(other); /* idle as long as slow by now, so closed too */
    other = tcp_connect(AF_INET, f->port, 0);
    tcp_roundtrip(other, 44);
    close(slow);
    close(other);
    close(udp);
}

static size_t
stream_request(uint8_t *buf, uint16_t id)
{
    size_t n = tcp_frame(buf, id, false);
    buf[2 + 21] = STREAM_QTYPE;
    return n;
}

/* Reads one stream message and checks its id and sequence number. */
static void
expect_stream_message(int fd, uint16_t id, uint32_t seq)
{
    static uint8_t buf[STREAM_MSG_LEN];
    uint8_t len[2];
    assert_true(read_exact(fd, len, 2, WAIT_MS));
    assert_int_equal((len[0] << 8) | len[1], STREAM_MSG_LEN);
    assert_true(read_exact(fd, buf, STREAM_MSG_LEN, WAIT_MS));
    assert_int_equal((buf[0] << 8) | buf[1], id);
    assert_int_equal((buf[12] << 8) | buf[13], seq);
}

/* Every message of a stream in order, then the answer to the query pipelined behind it, and
 * end() once. */
static void
test_tcp_stream(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[2 * (2 + QUERY_LEN)];
    size_t len = stream_request(buf, 0x5151);
    len += tcp_frame(buf + len, 0x5252, false);
    int fd = tcp_connect(AF_INET, f->port, 0);

    send_all(fd, buf, len);
    for (uint32_t i = 0; i < STREAM_MSGS; i++)
        expect_stream_message(fd, 0x5151, i);
    tcp_expect_answer(fd, 0x5252);
    tcp_roundtrip(fd, 0x5353); /* the connection goes on */
    assert_int_equal(atomic_load(&f->counters.streams), 1);
    assert_int_equal(atomic_load(&f->counters.stream_ends), 1);
    close(fd);
}

/* One worker: while a client holds a stream open by not reading, other clients of the same
 * worker are answered at once; the stream then completes when its client reads. */
static void
test_tcp_stream_shares_worker(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[2 + QUERY_LEN];
    int slow = tcp_connect(AF_INET, f->port, 4096);

    send_all(slow, buf, stream_request(buf, 0x6161));
    for (uint16_t i = 0; i < 20; i++) {
        int other = tcp_connect(i % 2 ? AF_INET6 : AF_INET, f->port, 0);
        double t0 = now_ms();
        tcp_roundtrip(other, (uint16_t)(300 + i));
        assert_true(now_ms() - t0 < WAIT_MS);
        close(other);
    }
    /* Not finished while nobody reads: the stream waits for its client, bounded. */
    assert_int_equal(atomic_load(&f->counters.stream_ends), 0);
    for (uint32_t i = 0; i < STREAM_MSGS; i++)
        expect_stream_message(slow, 0x6161, i);
    tcp_roundtrip(slow, 0x6262);
    assert_int_equal(atomic_load(&f->counters.stream_ends), 1);
    close(slow);
}

/* A client that leaves in the middle of a stream: end() runs once; a stream cut short by
 * net_stop ends too. */
static void
test_tcp_stream_abandoned(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[2 + QUERY_LEN];
    int fd = tcp_connect(AF_INET, f->port, 4096);

    send_all(fd, buf, stream_request(buf, 0x7171));
    expect_stream_message(fd, 0x7171, 0);
    close(fd);
    double deadline = now_ms() + WAIT_MS;
    while (atomic_load(&f->counters.stream_ends) == 0 && now_ms() < deadline)
        sleep_ms(5);
    assert_int_equal(atomic_load(&f->counters.stream_ends), 1);

    fd = tcp_connect(AF_INET6, f->port, 4096);
    send_all(fd, buf, stream_request(buf, 0x7272));
    expect_stream_message(fd, 0x7272, 0);
    net_stop(f->net);
    f->net = NULL;
    assert_int_equal(atomic_load(&f->counters.streams), 2);
    assert_int_equal(atomic_load(&f->counters.stream_ends), 2);
    close(fd);
}

/* In a private network namespace (only lo), so the wildcard addresses reach nothing else. */
static int
lo_up(void)
{
    struct ifreq ifr;
    int ret = -1;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, "lo");
    if (fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP;
        ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    if (fd >= 0)
        close(fd);
    return ret;
}

/* Sends a query to dst and checks that the answer comes back from dst. Returns 0 if so. */
static int
wildcard_query(const char *dst, int family, uint16_t port)
{
    struct sockaddr_storage to, from;
    socklen_t to_len, from_len = sizeof(from);
    uint8_t q[QUERY_LEN], a[512];
    int ret = -1;
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    addr_make(family, port, &to, &to_len);
    if (family == AF_INET)
        inet_pton(AF_INET, dst, &((struct sockaddr_in *)&to)->sin_addr);
    else
        inet_pton(AF_INET6, dst, &((struct sockaddr_in6 *)&to)->sin6_addr);
    query_make(q, 77, false);
    if (fd < 0 || sendto(fd, q, sizeof(q), 0, (struct sockaddr *)&to, to_len) < 0 ||
        !wait_readable(fd, WAIT_MS)) {
        fprintf(stderr, "wildcard %s: no answer\n", dst);
    } else if (recvfrom(fd, a, sizeof(a), 0, (struct sockaddr *)&from, &from_len) != QUERY_LEN ||
               from_len != to_len || memcmp(&from, &to, to_len) != 0) {
        fprintf(stderr, "wildcard %s: answer from another address\n", dst);
    } else {
        ret = 0;
    }
    if (fd >= 0)
        close(fd);
    return ret;
}

/* Child of test_udp_wildcard: exit code 0 pass, 1 fail, 77 cannot set up (no privilege). */
static int
wildcard_child(void)
{
    struct fixture f;
    struct sockaddr_storage addrs[2];
    socklen_t lens[2];
    char err[CONFIG_ERR_MAX];
    int failed = 0;

    if (unshare(CLONE_NEWNET) < 0 || lo_up() < 0)
        return 77;
    memset(&f, 0, sizeof(f));
    addr_make(AF_INET, 5353, &addrs[0], &lens[0]);
    ((struct sockaddr_in *)&addrs[0])->sin_addr.s_addr = htonl(INADDR_ANY);
    addr_make(AF_INET6, 5353, &addrs[1], &lens[1]);
    ((struct sockaddr_in6 *)&addrs[1])->sin6_addr = in6addr_any;
    if (start_on(&f, addrs, lens, 2, 2, 4, 1000, err) < 0) {
        fprintf(stderr, "net_start: %s\n", err);
        return 1;
    }
    /* 127.0.0.2 is not the address routing would pick as source (127.0.0.1). */
    failed |= wildcard_query("127.0.0.1", AF_INET, 5353);
    failed |= wildcard_query("127.0.0.2", AF_INET, 5353);
    failed |= wildcard_query("::1", AF_INET6, 5353);
    net_stop(f.net);
    return failed ? 1 : 0;
}

/* Wildcard sockets answer from the address each query was sent to (IP_PKTINFO /
 * IPV6_PKTINFO), checked in a child in a network namespace of its own (`test_net --wildcard`).
 * Returns the exit status: 0 pass, 1 fail, 77 skipped (no privilege for a namespace). */
static int
run_wildcard(void)
{
    int status = 0;
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0)
        _exit(wildcard_child());
    for (int i = 0; i < test_ms(200) && waitpid(pid, &status, WNOHANG) == 0; i++)
        sleep_ms(50);
    if (waitpid(pid, &status, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        fprintf(stderr, "FAIL: wildcard child did not finish in %d s\n", test_ms(10));
        return 1;
    }
    if (!WIFEXITED(status)) {
        fprintf(stderr, "FAIL: wildcard child died (status %d)\n", status);
        return 1;
    }
    if (WEXITSTATUS(status) == 77)
        printf("SKIP: no privilege for a private network namespace (needs root)\n");
    else
        printf("%s: wildcard sockets answer from the address asked\n",
               WEXITSTATUS(status) == 0 ? "PASS" : "FAIL");
    return WEXITSTATUS(status);
}

/* thread_start/thread_stop run once per worker, idle runs, and a stop right after a start
 * does not hang. */
static void
test_lifecycle(void **state)
{
    struct fixture *f = *state;
    uint8_t q[QUERY_LEN], a[512];
    int fd = udp_client(AF_INET6);

    query_make(q, 5, false);
    udp_send(fd, AF_INET6, f->port, q, sizeof(q));
    assert_true(wait_readable(fd, WAIT_MS));
    check_answer(a, (size_t)recv(fd, a, sizeof(a), 0), 5, false);
    close(fd);
    net_stop(f->net);
    f->net = NULL;
    /* Each worker's loop and its UDP thread for each of the two addresses. */
    assert_int_equal(atomic_load(&f->counters.started), f->workers * 3);
    assert_int_equal(atomic_load(&f->counters.stopped), f->workers * 3);
    assert_true(atomic_load(&f->counters.idle) > 0);

    for (int i = 0; i < 5; i++) {
        char err[CONFIG_ERR_MAX];
        assert_int_equal(try_start(f, f->port, 2, 4, 1000, err), 0);
        net_stop(f->net);
        f->net = NULL;
    }
    assert_int_equal(atomic_load(&f->counters.started), atomic_load(&f->counters.stopped));
}

/* Lanes (net.h): every thread that calls the handler has a lane of its own, each lane is
 * started once, UDP is answered on the UDP threads' lanes (after the workers') and TCP on
 * the workers'. Per-lane counters and random state rely on this to need no lock. */
static void
test_lanes(void **state)
{
    struct fixture *f = *state;
    struct config cfg = {.workers = f->workers, .listen_count = 2};
    unsigned lanes = net_lanes(&cfg);
    uint8_t q[QUERY_LEN], a[512];

    assert_int_equal(lanes, f->workers * 3);
    /* Several client sockets per family, so that both workers' sockets get some. */
    for (int i = 0; i < 8; i++) {
        int family = i % 2 ? AF_INET6 : AF_INET;
        int fd = udp_client(family);
        query_make(q, (uint16_t)i, false);
        udp_send(fd, family, f->port, q, sizeof(q));
        assert_true(wait_readable(fd, WAIT_MS));
        check_answer(a, (size_t)recv(fd, a, sizeof(a), 0), (uint16_t)i, false);
        close(fd);
        int t = tcp_connect(family, f->port, 0);
        tcp_roundtrip(t, (uint16_t)(0x100 + i));
        close(t);
    }
    net_stop(f->net);
    f->net = NULL;
    assert_int_equal(atomic_load(&f->counters.started), lanes);
    for (unsigned l = 0; l < lanes; l++)
        assert_int_equal(atomic_load(&f->counters.lane_starts[l]), 1);
    assert_false(atomic_load(&f->counters.lane_shared));
    assert_true(atomic_load(&f->counters.lane_udp_min) >= f->workers);
    assert_true(atomic_load(&f->counters.lane_udp_min) < lanes);
    assert_true(atomic_load(&f->counters.lane_tcp_max) < f->workers);
}

/* A port held by a socket without SO_REUSEPORT: net_start fails, names the address, and
 * starts nothing. */
static void
test_bind_conflict(void **state)
{
    struct fixture f;
    char err[CONFIG_ERR_MAX], want[CONFIG_ERR_MAX];
    uint16_t port = 0;
    int blocker;
    (void)state;

    memset(&f, 0, sizeof(f));
    /* held: the blockers below and the final check see only this test's own sockets */
    assert_int_equal(test_port_hold(&port), 0);
    blocker = plain_bind(AF_INET, SOCK_DGRAM, port);
    assert_true(blocker >= 0);
    assert_int_equal(try_start(&f, port, 2, 4, 1000, err), -1);
    snprintf(want, sizeof(want),
             "listen 127.0.0.1:%u: already in use (another meridiand or DNS server is "
             "listening there)",
             port);
    assert_string_equal(err, want);
    close(blocker);

    /* TCP on the second address: the first address's sockets are undone too. */
    blocker = plain_bind(AF_INET6, SOCK_STREAM, port);
    assert_true(blocker >= 0);
    assert_int_equal(listen(blocker, 1), 0);
    assert_int_equal(try_start(&f, port, 2, 4, 1000, err), -1);
    snprintf(want, sizeof(want),
             "listen [::1]:%u: already in use (another meridiand or DNS server is listening "
             "there)",
             port);
    assert_string_equal(err, want);
    close(blocker);
    assert_int_equal(atomic_load(&f.counters.started), 0);
    assert_true(port_free(port));
}

/* A second front end on the address a running one serves is refused, although both would
 * set SO_REUSEPORT: the kernel would otherwise split the queries between them. The first one
 * keeps its sockets and keeps answering. */
static void
test_second_server_refused(void **state)
{
    struct fixture *f = *state;
    struct fixture second;
    char err[CONFIG_ERR_MAX], want[CONFIG_ERR_MAX];

    memset(&second, 0, sizeof(second));
    assert_int_equal(try_start(&second, f->port, 1, 4, 1000, err), -1);
    snprintf(want, sizeof(want),
             "listen 127.0.0.1:%u: already in use (another meridiand or DNS server is "
             "listening there)",
             f->port);
    assert_string_equal(err, want);
    assert_int_equal(atomic_load(&second.counters.started), 0);
    udp_roundtrip(f, AF_INET);
}

int
main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--wildcard") == 0)
        return run_wildcard();
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--wildcard]\n", argv[0]);
        return 2;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_udp_v4, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_second_server_refused, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_udp_v6, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_udp_burst, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_single, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_pipelined, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_split, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_half_close, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_idle_timeout, setup_idle, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_connection_cap, setup_cap, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_bad_length, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_slow_reader, setup_slow, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_stream, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_stream_shares_worker, setup_one_worker,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tcp_stream_abandoned, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_lifecycle, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_lanes, setup_default, teardown),
        cmocka_unit_test(test_bind_conflict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
