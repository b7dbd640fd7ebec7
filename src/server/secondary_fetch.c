// SPDX-License-Identifier: MIT
/* One refresh of a secondary zone from one primary (see secondary_fetch.h). RFC 1035 §4.2.2
 * framing (two-byte length) over a blocking socket with poll() timeouts: no message read or
 * connect waits longer than SECONDARY_IO_TIMEOUT_S, no transfer longer than
 * SECONDARY_XFR_TIME_MAX_S. The SOA query tells whether the primary is newer (RFC 1035
 * §3.3.13); IXFR (RFC 1995 §3) carries our SOA in its authority section; whatever comes back
 * is read by xfr_in (pure) and the version it makes is compiled once by zone_build, without
 * steered names, so a bad transfer never reaches the main thread. Transfer client thread. */
#include "server/secondary_fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/dnswire.h"
#include "xfr/xfr_in.h"

#define MSG_MAX 65535

struct conn {
    int fd;
    int cancel_fd;   /* readable: give up now (the server stops); -1: none */
    time_t deadline; /* CLOCK_MONOTONIC seconds */
    uint8_t buf[MSG_MAX + 2];
};

static time_t
mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec;
}

static uint64_t
wall_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec;
}

/* Waits until fd is ready for `events`, the I/O timeout and the deadline both bounding it. */
static int
wait_fd(const struct conn *c, short events)
{
    time_t left = c->deadline - mono_s();
    if (left > SECONDARY_IO_TIMEOUT_S)
        left = SECONDARY_IO_TIMEOUT_S;
    if (left <= 0)
        return -1;
    struct pollfd p[2] = {{.fd = c->fd, .events = events}, {.fd = c->cancel_fd, .events = POLLIN}};
    int n;
    do
        n = poll(p, c->cancel_fd >= 0 ? 2 : 1, (int)left * 1000);
    while (n < 0 && errno == EINTR);
    return n > 0 && p[0].revents && !(c->cancel_fd >= 0 && p[1].revents) ? 0 : -1;
}

static int
conn_open(struct conn *c, const struct sockaddr *addr, socklen_t len, char *err, size_t size)
{
    c->fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        snprintf(err, size, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(c->fd, addr, len) < 0 && errno != EINPROGRESS) {
        snprintf(err, size, "connect: %s", strerror(errno));
        return -1;
    }
    int so = 0;
    socklen_t sl = sizeof(so);
    if (wait_fd(c, POLLOUT) < 0 || getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &so, &sl) < 0 ||
        so != 0) {
        snprintf(err, size, "connect: %s", so ? strerror(so) : "timed out");
        return -1;
    }
    return 0;
}

static void
conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static int
send_all(struct conn *c, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(c, POLLOUT) < 0)
                return -1;
            continue;
        }
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int
recv_all(struct conn *c, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = recv(c->fd, p, n, 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(c, POLLIN) < 0)
                return -1;
            continue;
        }
        if (r <= 0)
            return -1; /* closed early: a truncated stream */
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* The next message into c->buf + 2; its length, or 0 (closed, timed out, empty). */
static size_t
read_message(struct conn *c)
{
    if (recv_all(c, c->buf, 2) < 0)
        return 0;
    size_t len = dnswire_get16(c->buf);
    if (len < DNS_HEADER_LEN || recv_all(c, c->buf + 2, len) < 0)
        return 0;
    return len;
}

/* Builds, signs and sends a query for the zone (IXFR: our SOA in the authority section,
 * RFC 1995 §3). */
static int
send_query(struct conn *c, struct secondary_fetch *f, uint16_t id, uint16_t qtype,
           struct tsig_stream *ts)
{
    uint8_t *m = c->buf + 2;
    int olen = dname_wire_length(f->origin, DNAME_MAX_LEN);
    size_t n = dnswire_query(m, id, 0, f->origin, (size_t)olen, qtype, DNS_CLASS_IN);
    if (qtype == DNS_TYPE_IXFR) {
        const struct zone_record *soa = &f->base->recs[0];
        memcpy(m + n, f->origin, (size_t)olen);
        n += (size_t)olen;
        dnswire_put16(m + n, DNS_TYPE_SOA);
        dnswire_put16(m + n + 2, DNS_CLASS_IN);
        dnswire_put32(m + n + 4, soa->ttl);
        dnswire_put16(m + n + 8, soa->rdlen);
        memcpy(m + n + 10, soa->rdata, soa->rdlen);
        n += 10u + soa->rdlen;
        dnswire_put16(m + DNS_OFF_NSCOUNT, 1);
    }
    if (f->key) {
        n = tsig_request_sign(ts, f->key, m, n, MSG_MAX, wall_s());
        if (n == 0)
            return -1;
    }
    dnswire_put16(c->buf, (uint16_t)n);
    return send_all(c, c->buf, n + 2);
}

/* Reads one response message and verifies its TSIG; its body length, or 0 with err set. */
static size_t
read_verified(struct conn *c, struct secondary_fetch *f, struct tsig_stream *ts)
{
    size_t len = read_message(c);
    if (len == 0) {
        snprintf(f->err, sizeof(f->err), "connection closed or timed out mid-answer");
        return 0;
    }
    size_t body = len;
    if (f->key) {
        enum tsig_status st = tsig_stream_verify(ts, c->buf + 2, len, wall_s(), &body);
        if (st != TSIG_OK && st != TSIG_UNSIGNED) {
            snprintf(f->err, sizeof(f->err), "TSIG: %s", tsig_status_text(st));
            return 0;
        }
    }
    return body;
}

static uint16_t
new_id(void)
{
    uint16_t id = 0;
    if (getrandom(&id, sizeof(id), 0) != sizeof(id))
        id = (uint16_t)(mono_s() * 2654435761u);
    return id;
}

/* RFC 1035 §3.3.13: the primary's serial, from its answer to our SOA query. */
static int
query_soa(struct conn *c, struct secondary_fetch *f)
{
    struct tsig_stream ts;
    uint16_t id = new_id();
    size_t pos;
    if (send_query(c, f, id, DNS_TYPE_SOA, &ts) < 0) {
        snprintf(f->err, sizeof(f->err), "cannot send the SOA query");
        return -1;
    }
    size_t len = read_verified(c, f, &ts);
    const uint8_t *m = c->buf + 2;
    if (len == 0)
        return -1;
    if (!dnswire_reply_matches(m, len, id, f->origin, DNS_TYPE_SOA, &pos) ||
        dnswire_rcode(m) != DNS_RCODE_NOERROR || !(dnswire_flags(m) & DNS_FLAG_AA)) {
        snprintf(f->err, sizeof(f->err), "no authoritative SOA answer");
        return -1;
    }
    for (uint16_t i = 0; i < dnswire_count(m, DNS_OFF_ANCOUNT); i++) {
        struct dnswire_rr rr;
        if (dnswire_rr_read(m, len, &pos, &rr) < 0)
            break;
        if (rr.type != DNS_TYPE_SOA || !dname_equal(rr.owner, f->origin))
            continue;
        uint8_t name[DNAME_MAX_LEN];
        size_t p = rr.rdpos;
        /* MNAME and RNAME may be compressed; the serial follows them. */
        if (dname_read_compressed(m, len, &p, name) < 0 ||
            dname_read_compressed(m, len, &p, name) < 0 || p + 20 > rr.rdpos + rr.rdlen)
            break;
        f->serial = dnswire_get32(m + p);
        return 0;
    }
    snprintf(f->err, sizeof(f->err), "the SOA answer has no SOA record");
    return -1;
}

/* One transfer of type qtype over c into f->recs. 0, or -1 with err; *refused when the
 * primary answered with an error rcode. */
static int
transfer(struct conn *c, struct secondary_fetch *f, uint16_t qtype)
{
    struct tsig_stream ts;
    struct xfr_in x;
    uint16_t id = new_id();
    int rc = -1;
    xfr_in_init(&x, f->origin, qtype, id, qtype == DNS_TYPE_IXFR ? f->base : NULL,
                f->base_serial, NULL);
    if (send_query(c, f, id, qtype, &ts) < 0) {
        snprintf(f->err, sizeof(f->err), "cannot send the request");
        goto out;
    }
    for (;;) {
        size_t len = read_verified(c, f, &ts);
        if (len == 0)
            goto out;
        enum xfr_in_status st = xfr_in_message(&x, c->buf + 2, len);
        if (st == XFR_IN_ERROR) {
            snprintf(f->err, sizeof(f->err), "%s", x.err);
            goto out;
        }
        if (st == XFR_IN_DONE)
            break;
    }
    /* RFC 8945 §5.3.1: the last message must be signed. */
    if (f->key && tsig_stream_end(&ts) != TSIG_OK) {
        snprintf(f->err, sizeof(f->err), "TSIG: the last message is not signed");
        goto out;
    }
    snprintf(f->kind, sizeof(f->kind), "%s", xfr_in_kind_text(&x));
    f->serial = x.serial;
    if (!xfr_in_result(&x, &f->recs)) {
        f->outcome = SECONDARY_UP_TO_DATE;
        rc = 0;
        goto out;
    }
    /* Bad input until checked: the zone file's checks and the zone's size bounds, before
     * anyone sees it (a version past max_records is refused here, not at every reload). */
    char source[300], zerr[ZONE_ERR_MAX];
    struct zone *z;
    snprintf(source, sizeof(source), "%s from %s serial %u record", f->kind, f->addr_text,
             x.serial);
    if (zone_build(f->origin_text, source, &f->recs, NULL, 0, f->limits, &z, zerr) < 0) {
        snprintf(f->err, sizeof(f->err), "%s", zerr);
        zone_records_fini(&f->recs);
        goto out;
    }
    zone_free(z);
    f->outcome = SECONDARY_NEW;
    rc = 0;
out:
    xfr_in_fini(&x);
    return rc;
}

void
secondary_fetch(struct secondary_fetch *f)
{
    struct conn *c = xmalloc(sizeof(*c));
    c->fd = -1;
    c->cancel_fd = f->cancel_fd > 0 ? f->cancel_fd : -1; /* a zeroed request has none */
    c->deadline = mono_s() + SECONDARY_XFR_TIME_MAX_S;
    f->outcome = SECONDARY_FAILED;
    f->err[0] = '\0';
    zone_records_init(&f->recs);
    snprintf(f->kind, sizeof(f->kind), "SOA");
    bool incremental = f->base && !f->force_axfr;
    if (conn_open(c, f->addr, f->addr_len, f->err, sizeof(f->err)) < 0)
        goto out;
    if (incremental) {
        if (query_soa(c, f) < 0)
            goto out;
        if (f->serial == f->base_serial || dnswire_serial_before(f->serial, f->base_serial)) {
            f->outcome = SECONDARY_UP_TO_DATE;
            goto out;
        }
        snprintf(f->kind, sizeof(f->kind), "IXFR");
        if (transfer(c, f, DNS_TYPE_IXFR) == 0)
            goto out;
        /* RFC 1995 §4 lets a server answer IXFR with the whole zone but not every server
         * does IXFR at all; and a failed IXFR may have left the stream mid-message: AXFR on
         * a new connection. */
        char first[sizeof(f->err)];
        snprintf(first, sizeof(first), "%s", f->err);
        conn_close(c);
        c->deadline = mono_s() + SECONDARY_XFR_TIME_MAX_S;
        if (conn_open(c, f->addr, f->addr_len, f->err, sizeof(f->err)) < 0 ||
            transfer(c, f, DNS_TYPE_AXFR) < 0) {
            char second[sizeof(f->err)];
            snprintf(second, sizeof(second), "%s", f->err);
            snprintf(f->err, sizeof(f->err), "IXFR: %.280s; then AXFR: %.280s", first, second);
        }
        goto out;
    }
    snprintf(f->kind, sizeof(f->kind), "AXFR");
    (void)transfer(c, f, DNS_TYPE_AXFR);
out:
    conn_close(c);
    free(c);
}
