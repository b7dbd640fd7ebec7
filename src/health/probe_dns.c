// SPDX-License-Identifier: MIT
/* DNS check: one UDP query (RFC 1035 §4.1, random ID, RD clear, no EDNS) for the check's
 * qname and qtype, class IN, sent over a connected non-blocking socket to the member's
 * address and the check's port. A reply counts only if its ID, QR, opcode and question match
 * the query (RFC 5452 §9.1); anything else is ignored and the probe keeps waiting, so a stray
 * datagram cannot decide it. Up when the rcode equals expect_rcode and, if expect_answer is
 * set, one answer RR's RDATA renders to it: A/AAAA as address text (compared as addresses),
 * NS/CNAME/PTR/DNAME as an absolute name (case-insensitive, final dot optional), MX as
 * "PREF NAME", TXT as its strings joined. The small encoder and decoder are written here, as
 * the wire library stays inside zone/. Health thread. */
#include "health/probe_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/dname.h"

#define DNS_HEADER 12
#define DNS_CLASS_IN 1
#define DNS_MSG_MAX 4096    /* without EDNS a reply is at most 512; room for odd servers */
#define DNS_RECV_BATCH 16   /* datagrams read per wakeup */
#define RDATA_TEXT_MAX 1100 /* a name in text (1024) plus MX preference; TXT is cut */

enum {
    T_A = 1,
    T_NS = 2,
    T_CNAME = 5,
    T_PTR = 12,
    T_MX = 15,
    T_TXT = 16,
    T_AAAA = 28,
    T_DNAME = 39
};

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
    uint8_t query[DNS_HEADER + DNAME_MAX_LEN + 4];
};

static const char *const rcode_names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                          "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                          "NXRRSET", "NOTAUTH", "NOTZONE"};

static const char *
rcode_name(unsigned rcode, char *buf, size_t size)
{
    if (rcode < sizeof(rcode_names) / sizeof(rcode_names[0]))
        return rcode_names[rcode];
    probe_format(buf, size, "RCODE%u", rcode);
    return buf;
}

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}


/* Compares two names in text, case-insensitively, the final dot optional on either. */
static bool
name_text_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 1 && a[la - 1] == '.')
        la--;
    if (lb > 1 && b[lb - 1] == '.')
        lb--;
    return la == lb && strncasecmp(a, b, la) == 0;
}

/* Does one answer RR's RDATA render to `expect`? */
static bool
rdata_matches(const uint8_t *msg, size_t len, size_t rdpos, uint16_t rdlen, uint16_t type,
              const char *expect)
{
    uint8_t name[DNAME_MAX_LEN];
    uint8_t addr[16];
    char text[RDATA_TEXT_MAX];
    size_t pos = rdpos;

    switch (type) {
    case T_A:
        return rdlen == 4 && inet_pton(AF_INET, expect, addr) == 1 &&
               memcmp(addr, msg + rdpos, 4) == 0;
    case T_AAAA:
        return rdlen == 16 && inet_pton(AF_INET6, expect, addr) == 1 &&
               memcmp(addr, msg + rdpos, 16) == 0;
    case T_NS:
    case T_CNAME:
    case T_PTR:
    case T_DNAME:
        /* Pointers may lead anywhere before; the name itself must end inside RDATA. */
        if (dname_read_compressed(msg, len, &pos, name) < 0 || pos > rdpos + rdlen)
            return false;
        dname_to_text(name, text, sizeof(text));
        return name_text_equal(text, expect);
    case T_MX: {
        if (rdlen < 3)
            return false;
        unsigned pref = get16(msg + rdpos);
        pos += 2;
        if (dname_read_compressed(msg, len, &pos, name) < 0 || pos > rdpos + rdlen)
            return false;
        char target[DNAME_TEXT_MAX];
        dname_to_text(name, target, sizeof(target));
        const char *space = strchr(expect, ' ');
        return space && strtoul(expect, NULL, 10) == pref && name_text_equal(target, space + 1);
    }
    case T_TXT: {
        /* RFC 1035 §3.3.14: character-strings, joined. */
        size_t o = 0;
        while (pos < rdpos + rdlen) {
            uint8_t l = msg[pos++];
            if (pos + l > rdpos + rdlen || o + l >= sizeof(text))
                return false;
            memcpy(text + o, msg + pos, l);
            o += l;
            pos += l;
        }
        text[o] = '\0';
        return strlen(expect) == o && memcmp(text, expect, o) == 0;
    }
    default:
        return false;
    }
}

/* Judges one datagram. Returns 1 if it is the reply (reason and *up set), 0 to ignore it. */
static int
judge(struct dns_probe *d, const uint8_t *msg, size_t len, bool *up, char *reason, size_t size)
{
    uint8_t name[DNAME_MAX_LEN];
    size_t pos = DNS_HEADER;
    char rbuf[16], ebuf[16];

    if (len < DNS_HEADER || get16(msg) != d->id || !(msg[2] & 0x80) || (msg[2] & 0x78) != 0)
        return 0;
    /* The question must be ours (0x20-style case changes allowed: RFC 4343). */
    if (get16(msg + 4) != 1 || dname_read_compressed(msg, len, &pos, name) < 0 || pos + 4 > len ||
        !dname_equal(name, d->qname) || get16(msg + pos) != d->qtype ||
        get16(msg + pos + 2) != DNS_CLASS_IN)
        return 0;
    pos += 4;
    unsigned rcode = msg[3] & 0x0F;
    if (rcode != d->expect_rcode) {
        *up = false;
        probe_format(reason, size, "rcode %s (expected %s)", rcode_name(rcode, rbuf, sizeof(rbuf)),
                     rcode_name(d->expect_rcode, ebuf, sizeof(ebuf)));
        return 1;
    }
    if (!d->expect_answer) {
        *up = true;
        probe_format(reason, size, "rcode %s", rcode_name(rcode, rbuf, sizeof(rbuf)));
        return 1;
    }
    unsigned ancount = get16(msg + 6);
    for (unsigned i = 0; i < ancount; i++) {
        if (dname_read_compressed(msg, len, &pos, name) < 0 || pos + 10 > len)
            break;
        uint16_t type = get16(msg + pos);
        uint16_t rdlen = get16(msg + pos + 8);
        pos += 10;
        if (pos + rdlen > len)
            break;
        if (rdata_matches(msg, len, pos, rdlen, type, d->expect_answer)) {
            *up = true;
            probe_format(reason, size, "answer %.200s", d->expect_answer);
            return 1;
        }
        pos += rdlen;
    }
    *up = false;
    probe_format(reason, size, "%sno answer equals '%.100s'", (msg[2] & 0x02) ? "truncated: " : "",
                 d->expect_answer);
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

static const struct probe_ops dns_ops = {.release = dns_release};

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

/* Writes the query: header, one question (RFC 1035 §4.1.1-2). */
static void
build_query(struct dns_probe *d, int qname_len)
{
    uint8_t *q = d->query;
    memset(q, 0, DNS_HEADER);
    put16(q, d->id);
    put16(q + 4, 1); /* QDCOUNT; RD clear: the member answers from its own data */
    memcpy(q + DNS_HEADER, d->qname, (size_t)qname_len);
    put16(q + DNS_HEADER + qname_len, d->qtype);
    put16(q + DNS_HEADER + qname_len + 2, DNS_CLASS_IN);
    d->query_len = DNS_HEADER + (size_t)qname_len + 4;
}

int
probe_dns_start(struct probe_ctx *ctx, const struct config_check *check,
                const struct probe_target *target, probe_done_fn done, void *arg)
{
    struct dns_probe *d = probe_alloc(ctx, sizeof(*d), &dns_ops, check, done, arg);
    struct sockaddr_storage ss;
    socklen_t ss_len;

    d->fd = -1;
    ev_init(&d->io, dns_io_cb);
    d->io.data = d;
    if (probe_target_sockaddr(target, check->port ? check->port : 53, &ss, &ss_len) < 0)
        return probe_fail_now(&d->base, "dns check needs an address");
    int qname_len = check->qname ? dname_from_text(check->qname, d->qname) : -1;
    if (qname_len < 0)
        return probe_fail_now(&d->base, "bad qname '%.100s'", check->qname ? check->qname : "");
    d->qtype = check->qtype ? check->qtype : T_A;
    d->expect_rcode = check->expect_rcode;
    if (check->expect_answer)
        d->expect_answer = xstrdup(check->expect_answer);
    /* RFC 5452 §9.2: an unpredictable ID (the kernel picks a random source port). */
    d->id = (uint16_t)arc4random_uniform(65536);
    build_query(d, qname_len);

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
