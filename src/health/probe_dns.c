// SPDX-License-Identifier: MIT
/* DNS check: one UDP query (RFC 1035 §4.1, random ID, RD clear, no EDNS) for the check's
 * qname and qtype, class IN, sent over a connected non-blocking socket to the member's
 * address and the check's port. A reply counts only if its ID, QR, opcode and question match
 * the query (RFC 5452 §9.1); anything else is ignored and the probe keeps waiting, so a stray
 * datagram cannot decide it. Up when the rcode equals expect_rcode and, if expect_answer is
 * set, one answer RR's RDATA renders to it: A/AAAA as address text (compared as addresses),
 * NS/CNAME/PTR/DNAME as an absolute name (case-insensitive, final dot optional), MX as
 * "PREF NAME", TXT as its strings joined (common/dnswire: the wire library ldns stays inside
 * zone/). Health thread. */
#include "health/probe_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/dname.h"
#include "common/dnswire.h"

#define DNS_MSG_MAX 4096  /* without EDNS a reply is at most 512; room for odd servers */
#define DNS_RECV_BATCH 16 /* datagrams read per wakeup */

extern const struct probe_checker probe_checker_dns; /* at the end */

struct dns_probe {
    struct probe base;
    ev_io io;
    int fd;
    uint16_t id;
    uint16_t qtype;
    uint8_t expect_rcode;
    char *expect_answer;
    uint8_t qname[DNAME_MAX_LEN];
    size_t query_len;
    uint8_t query[DNSWIRE_QUERY_MAX];
};

/* Judges one datagram. Returns 1 if it is the reply (reason and *up set), 0 to ignore it. */
static int
judge(struct dns_probe *d, const uint8_t *msg, size_t len, bool *up, char *reason, size_t size)
{
    size_t pos;
    char rbuf[DNSWIRE_TYPE_TEXT_MAX], ebuf[DNSWIRE_TYPE_TEXT_MAX];

    if (!dnswire_reply_matches(msg, len, d->id, d->qname, d->qtype, &pos))
        return 0;
    unsigned rcode = dnswire_rcode(msg);
    if (rcode != d->expect_rcode) {
        *up = false;
        probe_format(reason, size, "rcode %s (expected %s)", dnswire_rcode_text(rcode, rbuf),
                     dnswire_rcode_text(d->expect_rcode, ebuf));
        return 1;
    }
    if (!d->expect_answer) {
        *up = true;
        probe_format(reason, size, "rcode %s", dnswire_rcode_text(rcode, rbuf));
        return 1;
    }
    /* Any answer RR may match, by its own type: a CNAME's target as well as the address. */
    unsigned ancount = dnswire_count(msg, DNS_OFF_ANCOUNT);
    for (unsigned i = 0; i < ancount; i++) {
        struct dnswire_rr rr;
        if (dnswire_rr_read(msg, len, &pos, &rr) < 0)
            break;
        if (dnswire_rdata_matches(msg, len, &rr, d->expect_answer)) {
            *up = true;
            probe_format(reason, size, "answer %.200s", d->expect_answer);
            return 1;
        }
    }
    *up = false;
    probe_format(reason, size, "%sno answer equals '%.100s'",
                 (dnswire_flags(msg) & DNS_FLAG_TC) ? "truncated: " : "", d->expect_answer);
    return 1;
}

static void
dns_release(struct probe *p)
{
    struct dns_probe *d = (struct dns_probe *)p;
    ev_io_stop(p->ctx->loop, &d->io);
    if (d->fd >= 0)
        close(d->fd);
    free(d->expect_answer);
    free(d);
}

static void
dns_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct dns_probe *d = w->data;
    struct probe_ctx *ctx = d->base.ctx;
    uint8_t msg[DNS_MSG_MAX];
    char reason[PROBE_REASON_MAX];
    (void)loop;
    (void)revents;

    probe_ctx_enter(ctx);
    for (int i = 0; i < DNS_RECV_BATCH; i++) {
        ssize_t n = recv(d->fd, msg, sizeof(msg), 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                break;
            /* ICMP port unreachable arrives as ECONNREFUSED on a connected socket. */
            probe_format(reason, sizeof(reason), "recv: %s", strerror(errno));
            probe_finish(&d->base, false, reason);
            break;
        }
        bool up = false;
        if (judge(d, msg, (size_t)n, &up, reason, sizeof(reason))) {
            probe_finish(&d->base, up, reason);
            break;
        }
    }
    probe_ctx_leave(ctx);
}

static int
dns_start(struct probe_ctx *ctx, void *state, const struct config_check *check,
          const struct probe_target *target, probe_done_fn done, void *arg)
{
    struct dns_probe *d = probe_alloc(ctx, sizeof(*d), &probe_checker_dns, check, done, arg);
    struct sockaddr_storage ss;
    socklen_t ss_len;

    (void)state; /* no per-context state */
    d->fd = -1;
    ev_init(&d->io, dns_io_cb);
    d->io.data = d;
    if (probe_target_sockaddr(target, check->port ? check->port : 53, &ss, &ss_len) < 0)
        return probe_fail_now(&d->base, "dns check needs an address");
    int qname_len = check->qname ? dname_from_text(check->qname, d->qname) : -1;
    if (qname_len < 0)
        return probe_fail_now(&d->base, "bad qname '%.100s'", check->qname ? check->qname : "");
    d->qtype = check->qtype ? check->qtype : DNS_TYPE_A;
    d->expect_rcode = check->expect_rcode;
    if (check->expect_answer)
        d->expect_answer = xstrdup(check->expect_answer);
    /* RFC 5452 §9.2: an unpredictable ID (the kernel picks a random source port). */
    d->id = (uint16_t)arc4random_uniform(65536);
    /* RD clear: the member answers from its own data. */
    d->query_len =
        dnswire_query(d->query, d->id, 0, d->qname, (size_t)qname_len, d->qtype, DNS_CLASS_IN);

    d->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (d->fd < 0)
        return probe_fail_now(&d->base, "socket: %s", strerror(errno));
    /* Connected, so only the member's replies arrive and ICMP errors are reported. */
    if (connect(d->fd, (struct sockaddr *)&ss, ss_len) < 0) {
        probe_finish_soon(&d->base, false, "connect: %s", strerror(errno));
        return 0;
    }
    if (send(d->fd, d->query, d->query_len, 0) < 0) {
        probe_finish_soon(&d->base, false, "send: %s", strerror(errno));
        return 0;
    }
    ev_io_set(&d->io, d->fd, EV_READ);
    ev_io_start(ctx->loop, &d->io);
    probe_arm(&d->base);
    return 0;
}

const struct probe_checker probe_checker_dns = {
    .name = "dns",
    .address_types = PROBE_TYPE(CONFIG_CHECK_DNS),
    .name_types = PROBE_TYPE(CONFIG_CHECK_DNS),
    .start = dns_start,
    .release = dns_release,
};
