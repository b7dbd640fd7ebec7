// SPDX-License-Identifier: MIT
/*
 * blast: a light batch UDP load generator for loopback DNS benchmarks.
 *
 * It keeps a fixed number of queries in flight on each of N connected UDP
 * sockets (N x W in total), sending with sendmmsg() and receiving with
 * recvmmsg(), so that one generator core can saturate one server core (dnsperf
 * needs 2-4x more CPU per query than a good server; see tests/bench/README.md).
 * A query that gets no answer within the timeout is counted as lost and its
 * slot is reused, so the window never shrinks.  The run is bounded in time
 * (-d, at most MAX_DURATION_S) and optionally in count (-n).  With -Q it paces the
 * queries at a fixed rate instead (the window then only bounds what is in flight), for
 * latency at a given load: one thread, so no second thread delays the receive path.
 *
 * Input (-q FILE): text lines "name type" (dnsperf format; '#' comments),
 * converted to wire format at startup; or, with -B, length-prefixed wire
 * messages (2-byte big-endian length, then the message: dnsperf -B format).
 * Optional -e FILE: binary EDNS Client Subnet list, 20-byte records
 *   family (2 bytes, big-endian, 1 = IPv4, 2 = IPv6), source prefix (1 byte),
 *   reserved (1 byte, 0), address (16 bytes; IPv4 in the first 4)
 * query i carries ECS record i mod count (text input only; implies -E).
 * Optional -D: set the DNSSEC OK bit (RFC 3225 §3) in the OPT RR (text input only;
 * implies -E).
 *
 * Output: one line of key=value pairs on stdout (sent, answered, lost, rates,
 * latency percentiles, rcode counts, own CPU time), for scripts to parse.
 * Traffic is refused unless the server address is loopback (127/8 or ::1).
 *
 * Single-threaded; nothing is allocated after startup.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE // recvmmsg, sendmmsg
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOCKETS 256
#define MAX_WINDOW 1024 // DNS ID = generation << window_bits | slot
#define MAX_BATCH 64
#define MAX_QUERY 512
#define RECV_BUF 4096
#define MAX_DURATION_S 600.0
#define LAT_BUCKETS 100000 // 1 us buckets up to 100 ms, then one overflow bucket

struct query_set {
    uint8_t *buf;   // all messages back to back
    size_t *off;    // offset of message i in buf
    uint16_t *len;  // length of message i
    uint16_t *qlen; // length of the question section of message i
    size_t n;
};

struct slot {
    uint64_t sent_ns;
    uint32_t query;
    uint16_t id;
    bool busy;
    uint8_t msg[MAX_QUERY]; // copy with this slot's ID patched in
};

struct sock {
    int fd;
    struct slot *slots;
    uint16_t *free_list; // stack of free slot indexes
    unsigned nfree;
};

struct stats {
    uint64_t sent, answered, lost, late, bad, send_err, tc, resp_bytes;
    uint64_t rcode[16];
    uint64_t lat_sum_ns, lat_max_ns;
    uint32_t *lat_hist; // LAT_BUCKETS + 1
};

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static uint64_t
mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
die(const char *msg)
{
    fprintf(stderr, "blast: %s\n", msg);
    exit(2);
}

static void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        die("out of memory");
    return p;
}

static const struct {
    const char *name;
    uint16_t code;
} rr_types[] = {
    {"A", 1},     {"NS", 2},     {"CNAME", 5},  {"SOA", 6},    {"PTR", 12},
    {"HINFO", 13}, {"MX", 15},   {"TXT", 16},   {"AAAA", 28},  {"LOC", 29},
    {"SRV", 33},  {"NAPTR", 35}, {"DS", 43},    {"RRSIG", 46}, {"NSEC", 47},
    {"DNSKEY", 48}, {"TLSA", 52}, {"SVCB", 64}, {"HTTPS", 65}, {"ANY", 255},
    {"CAA", 257},
};

static const char *const rcode_names[16] = {
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
    "NXRRSET", "NOTAUTH", "NOTZONE", "RCODE11", "RCODE12", "RCODE13", "RCODE14", "RCODE15",
};

static int
parse_type(const char *s, uint16_t *out)
{
    for (size_t i = 0; i < sizeof(rr_types) / sizeof(rr_types[0]); i++) {
        if (strcasecmp(s, rr_types[i].name) == 0) {
            *out = rr_types[i].code;
            return 0;
        }
    }
    // RFC 3597 §5: TYPEnnn; also accept a bare number.
    const char *digits = strncasecmp(s, "TYPE", 4) == 0 ? s + 4 : s;
    char *end;
    unsigned long v = strtoul(digits, &end, 10);
    if (*digits == '\0' || *end != '\0' || v > 65535)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

// Writes NAME (presentation form, no escapes) as wire labels; returns length or -1.
static int
encode_name(const char *name, uint8_t *out, size_t cap)
{
    size_t pos = 0;
    const char *p = name;
    if (strcmp(name, ".") == 0) {
        out[0] = 0;
        return 1;
    }
    while (*p != '\0') {
        const char *dot = strchr(p, '.');
        size_t llen = dot ? (size_t)(dot - p) : strlen(p);
        if (llen == 0 || llen > 63 || pos + llen + 2 > cap || pos + llen + 2 > 255)
            return -1;
        out[pos++] = (uint8_t)llen;
        memcpy(out + pos, p, llen);
        pos += llen;
        p += llen;
        if (*p == '.')
            p++;
    }
    out[pos++] = 0;
    return (int)pos;
}

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

// Length of the question section of MSG (name + type + class), or -1.
static int
question_len(const uint8_t *msg, size_t len)
{
    size_t pos = 12;
    while (pos < len && msg[pos] != 0) {
        if (msg[pos] > 63) // no compression pointers in a question we send
            return -1;
        pos += (size_t)msg[pos] + 1;
    }
    if (pos + 5 > len)
        return -1;
    return (int)(pos + 5 - 12);
}

/*
 * Builds one query: header (ID 0, RD clear: we talk to authoritative servers),
 * one question, and with edns an OPT RR (RFC 6891) carrying ECS (RFC 7871 §6)
 * when ecs is not NULL, with the DO bit (RFC 3225 §3) when do_bit.  Returns the
 * length or -1.
 */
static int
build_query(uint8_t *out, const char *name, uint16_t type, bool edns, bool do_bit,
            const uint8_t *ecs)
{
    memset(out, 0, 12);
    put16(out + 4, 1); // QDCOUNT
    int nl = encode_name(name, out + 12, MAX_QUERY - 12 - 4);
    if (nl < 0)
        return -1;
    size_t pos = 12 + (size_t)nl;
    put16(out + pos, type);
    put16(out + pos + 2, 1); // class IN
    pos += 4;
    if (!edns)
        return (int)pos;
    put16(out + 10, 1); // ARCOUNT
    out[pos++] = 0;     // root owner
    put16(out + pos, 41);
    put16(out + pos + 2, 1232); // UDP payload size
    memset(out + pos + 4, 0, 4); // extended rcode, version, flags
    if (do_bit)
        out[pos + 6] = 0x80; // RFC 6891 §6.1.3: DO is the top bit of the flags
    pos += 8;
    if (ecs == NULL) {
        put16(out + pos, 0);
        return (int)pos + 2;
    }
    uint16_t family = (uint16_t)(ecs[0] << 8 | ecs[1]);
    unsigned prefix = ecs[2];
    unsigned maxbits = family == 1 ? 32 : 128;
    if ((family != 1 && family != 2) || prefix > maxbits)
        return -1;
    unsigned addr_bytes = (prefix + 7) / 8; // RFC 7871 §6: address truncated to the prefix
    put16(out + pos, (uint16_t)(4 + 4 + addr_bytes));
    put16(out + pos + 2, 8); // option code ECS
    put16(out + pos + 4, (uint16_t)(4 + addr_bytes));
    put16(out + pos + 6, family);
    out[pos + 8] = (uint8_t)prefix;
    out[pos + 9] = 0; // scope prefix length: 0 in queries
    pos += 10;
    memcpy(out + pos, ecs + 4, addr_bytes);
    if (prefix % 8 != 0) // host bits beyond the prefix must be zero
        out[pos + addr_bytes - 1] &= (uint8_t)(0xff << (8 - prefix % 8));
    return (int)(pos + addr_bytes);
}

static uint8_t *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = xcalloc(cap, 1);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (buf == NULL)
                die("out of memory");
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static void
qs_add(struct query_set *qs, size_t *cap, size_t *used, const uint8_t *msg, int len)
{
    int ql = question_len(msg, (size_t)len);
    if (ql < 0 || len > MAX_QUERY)
        die("malformed query in input");
    if (qs->n % 4096 == 0) {
        size_t ncap = qs->n + 4096;
        qs->off = realloc(qs->off, ncap * sizeof(*qs->off));
        qs->len = realloc(qs->len, ncap * sizeof(*qs->len));
        qs->qlen = realloc(qs->qlen, ncap * sizeof(*qs->qlen));
        if (!qs->off || !qs->len || !qs->qlen)
            die("out of memory");
    }
    if (*used + (size_t)len > *cap) {
        *cap = (*cap + (size_t)len) * 2;
        qs->buf = realloc(qs->buf, *cap);
        if (qs->buf == NULL)
            die("out of memory");
    }
    memcpy(qs->buf + *used, msg, (size_t)len);
    qs->off[qs->n] = *used;
    qs->len[qs->n] = (uint16_t)len;
    qs->qlen[qs->n] = (uint16_t)ql;
    qs->n++;
    *used += (size_t)len;
}

static void
load_queries(struct query_set *qs, const char *path, bool binary, bool edns, bool do_bit,
             const char *ecs_path)
{
    size_t flen, cap = 0, used = 0;
    uint8_t *file = read_file(path, &flen);
    uint8_t msg[MAX_QUERY];
    if (binary) {
        for (size_t pos = 0; pos + 2 <= flen;) {
            size_t l = (size_t)file[pos] << 8 | file[pos + 1];
            if (l < 17 || pos + 2 + l > flen)
                die("truncated binary query file");
            qs_add(qs, &cap, &used, file + pos + 2, (int)l);
            pos += 2 + l;
        }
        free(file);
        return;
    }
    size_t necs = 0;
    uint8_t *ecs = NULL;
    if (ecs_path != NULL) {
        size_t elen;
        ecs = read_file(ecs_path, &elen);
        necs = elen / 20;
        if (necs == 0 || elen % 20 != 0)
            die("ECS file must hold 20-byte records");
        edns = true;
    }
    if (do_bit)
        edns = true;
    // Text lines; first collect (name, type) pairs, then combine with ECS.
    size_t nlines = 0, lines_cap = 0;
    char **names = NULL;
    uint16_t *types = NULL;
    char *save = NULL, *fsave = NULL;
    file = realloc(file, flen + 1);
    if (file == NULL)
        die("out of memory");
    file[flen] = '\0';
    for (char *line = strtok_r((char *)file, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *name = strtok_r(line, " \t\r", &fsave);
        char *type = name ? strtok_r(NULL, " \t\r", &fsave) : NULL;
        if (name == NULL || name[0] == '#')
            continue;
        uint16_t t;
        if (type == NULL || parse_type(type, &t) != 0) {
            fprintf(stderr, "blast: bad query line '%s'\n", name);
            exit(2);
        }
        if (nlines == lines_cap) {
            lines_cap = lines_cap ? lines_cap * 2 : 4096;
            names = realloc(names, lines_cap * sizeof(*names));
            types = realloc(types, lines_cap * sizeof(*types));
            if (!names || !types)
                die("out of memory");
        }
        names[nlines] = name;
        types[nlines++] = t;
    }
    if (nlines == 0)
        die("no queries in input");
    size_t total = necs > nlines ? necs : nlines;
    for (size_t i = 0; i < total; i++) {
        int l = build_query(msg, names[i % nlines], types[i % nlines], edns, do_bit,
                            ecs ? ecs + 20 * (i % necs) : NULL);
        if (l < 0) {
            fprintf(stderr, "blast: cannot encode '%s'\n", names[i % nlines]);
            exit(2);
        }
        qs_add(qs, &cap, &used, msg, l);
    }
    free(names);
    free(types);
    free(ecs);
    free(file);
}

static int
open_socket(const struct sockaddr_storage *ss, socklen_t sslen)
{
    int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("socket");
        exit(2);
    }
    int buf = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
    if (connect(fd, (const struct sockaddr *)ss, sslen) != 0) {
        perror("connect");
        exit(2);
    }
    return fd;
}

struct run {
    struct sock *socks;
    unsigned nsock, window, window_bits;
    struct query_set qs;
    uint64_t next_query, max_queries, timeout_ns;
    struct stats st;
    uint8_t *rbuf; // MAX_BATCH x RECV_BUF
    struct mmsghdr msgs[MAX_BATCH];
    struct iovec iov[MAX_BATCH];
};

// Sends up to LIMIT queries on S (fewer if its window is full); returns how many went out.
static unsigned
send_batch(struct run *r, struct sock *s, uint64_t now, uint64_t limit)
{
    unsigned n = 0;
    uint16_t idx[MAX_BATCH];
    while (n < s->nfree && n < MAX_BATCH && n < limit) {
        if (r->max_queries && r->st.sent + n >= r->max_queries)
            break;
        uint16_t si = s->free_list[s->nfree - 1 - n];
        struct slot *sl = &s->slots[si];
        uint32_t q = (uint32_t)(r->next_query++ % r->qs.n);
        // A new generation per send, so a late answer to a timed-out query is
        // recognised as late rather than matched to the slot's new query.
        uint16_t gen = (uint16_t)((sl->id >> r->window_bits) + 1);
        sl->id = (uint16_t)(gen << r->window_bits | si);
        sl->query = q;
        memcpy(sl->msg, r->qs.buf + r->qs.off[q], r->qs.len[q]);
        put16(sl->msg, sl->id);
        r->iov[n].iov_base = sl->msg;
        r->iov[n].iov_len = r->qs.len[q];
        memset(&r->msgs[n].msg_hdr, 0, sizeof(r->msgs[n].msg_hdr));
        r->msgs[n].msg_hdr.msg_iov = &r->iov[n];
        r->msgs[n].msg_hdr.msg_iovlen = 1;
        idx[n] = si;
        n++;
    }
    if (n == 0)
        return 0;
    int sent = sendmmsg(s->fd, r->msgs, n, MSG_DONTWAIT);
    if (sent < 0) {
        if (errno != EAGAIN && errno != ENOBUFS)
            r->st.send_err++; // e.g. ECONNREFUSED: the server is not listening
        r->next_query -= n;
        return 0;
    }
    r->next_query -= (uint64_t)(n - (unsigned)sent); // reuse the unsent queries next time
    for (int i = 0; i < sent; i++) {
        struct slot *sl = &s->slots[idx[i]];
        sl->busy = true;
        sl->sent_ns = now;
    }
    s->nfree -= (unsigned)sent;
    r->st.sent += (uint64_t)sent;
    return (unsigned)sent;
}

/*
 * Rate mode (-Q): by time NOW, rate x elapsed queries should have been sent; send the
 * missing ones, one socket after the other (round robin), so that each pacing tick
 * is one small sendmmsg.  Queries that find every window full are sent late (the run
 * then reports a sent rate below the target).
 */
static void
send_paced(struct run *r, uint64_t now, uint64_t start, double rate, unsigned *rr)
{
    uint64_t due = (uint64_t)((double)(now - start) * rate / 1e9) + 1;
    if (due <= r->st.sent)
        return;
    uint64_t want = due - r->st.sent;
    for (unsigned tries = 0; want > 0 && tries < r->nsock; tries++) {
        struct sock *s = &r->socks[*rr];
        *rr = (*rr + 1) % r->nsock;
        want -= send_batch(r, s, now, want);
    }
}

static void
handle_response(struct run *r, struct sock *s, const uint8_t *p, size_t len, uint64_t now)
{
    if (len < 12 || !(p[2] & 0x80)) {
        r->st.bad++;
        return;
    }
    uint16_t id = (uint16_t)(p[0] << 8 | p[1]);
    unsigned si = id & ((1u << r->window_bits) - 1);
    if (si >= r->window || !s->slots[si].busy || s->slots[si].id != id) {
        r->st.late++; // answer after its timeout, or a duplicate
        return;
    }
    struct slot *sl = &s->slots[si];
    sl->busy = false;
    s->free_list[s->nfree++] = (uint16_t)si;
    uint16_t ql = r->qs.qlen[sl->query];
    // The answer must echo our question (RFC 1035 §4.1.2); FORMERR may omit it.
    uint8_t rc = p[3] & 0x0f;
    bool has_q = (p[4] | p[5]) != 0;
    if (has_q && (len < 12u + ql || memcmp(p + 12, sl->msg + 12, ql) != 0)) {
        r->st.bad++;
        return;
    }
    r->st.answered++;
    r->st.rcode[rc]++;
    r->st.resp_bytes += len;
    if (p[2] & 0x02)
        r->st.tc++;
    uint64_t lat = now - sl->sent_ns;
    r->st.lat_sum_ns += lat;
    if (lat > r->st.lat_max_ns)
        r->st.lat_max_ns = lat;
    uint64_t us = lat / 1000;
    r->st.lat_hist[us < LAT_BUCKETS ? us : LAT_BUCKETS]++;
}

static void
recv_batch(struct run *r, struct sock *s)
{
    unsigned want = MAX_BATCH;
    for (unsigned i = 0; i < want; i++) {
        r->iov[i].iov_base = r->rbuf + (size_t)i * RECV_BUF;
        r->iov[i].iov_len = RECV_BUF;
        memset(&r->msgs[i].msg_hdr, 0, sizeof(r->msgs[i].msg_hdr));
        r->msgs[i].msg_hdr.msg_iov = &r->iov[i];
        r->msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int got = recvmmsg(s->fd, r->msgs, want, MSG_DONTWAIT, NULL);
    if (got <= 0)
        return; // EAGAIN, or ECONNREFUSED from an ICMP error: timeouts handle it
    uint64_t now = mono_ns();
    for (int i = 0; i < got; i++)
        handle_response(r, s, r->rbuf + (size_t)i * RECV_BUF, r->msgs[i].msg_len, now);
}

static void
expire(struct run *r, uint64_t now)
{
    for (unsigned k = 0; k < r->nsock; k++) {
        struct sock *s = &r->socks[k];
        for (unsigned i = 0; i < r->window; i++) {
            struct slot *sl = &s->slots[i];
            if (sl->busy && now - sl->sent_ns > r->timeout_ns) {
                sl->busy = false;
                s->free_list[s->nfree++] = (uint16_t)i;
                r->st.lost++;
            }
        }
    }
}

static uint64_t
percentile_us(const struct stats *st, double pct)
{
    if (st->answered == 0)
        return 0;
    uint64_t target = (uint64_t)((double)st->answered * pct / 100.0 + 0.5), acc = 0;
    if (target == 0)
        target = 1;
    for (unsigned i = 0; i <= LAT_BUCKETS; i++) {
        acc += st->lat_hist[i];
        if (acc >= target)
            return i;
    }
    return LAT_BUCKETS;
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: blast -q FILE [-B] [-e ECSFILE] [-E] [-D] [-s ADDR] [-p PORT] [-c SOCKETS]\n"
            "             [-w WINDOW] [-d SECONDS] [-n MAXQUERIES] [-t TIMEOUT_MS] [-Q QPS]\n"
            "  -q FILE     queries: text 'name type' lines, or with -B length-prefixed wire\n"
            "  -e ECSFILE  20-byte ECS records (family, prefix, 0, address[16]); implies -E\n"
            "  -E          add an EDNS0 OPT RR (payload 1232) to text queries\n"
            "  -D          set the DNSSEC OK bit in that OPT RR; implies -E\n"
            "  -s ADDR     server, loopback only (default 127.0.0.1)   -p PORT (default 53)\n"
            "  -c N        sockets (default 16, max %d)   -w N  queries in flight per socket\n"
            "              (default 16, max %d)\n"
            "  -d S        duration in seconds (default 10, max %.0f)\n"
            "  -n N        stop after sending N queries (default: no limit)\n"
            "  -t MS       a query unanswered after MS ms is lost (default 50)\n"
            "  -Q QPS      send at this rate (paced) instead of keeping the windows full\n",
            MAX_SOCKETS, MAX_WINDOW, MAX_DURATION_S);
    exit(2);
}

int
main(int argc, char **argv)
{
    const char *qfile = NULL, *ecs_file = NULL, *addr = "127.0.0.1";
    bool binary = false, edns = false, do_bit = false;
    unsigned port = 53;
    double duration = 10, timeout_ms = 50, rate = 0;
    struct run r;
    memset(&r, 0, sizeof(r));
    r.nsock = 16;
    r.window = 16;
    int opt;
    while ((opt = getopt(argc, argv, "q:Be:EDs:p:c:w:d:n:t:Q:h")) != -1) {
        switch (opt) {
        case 'q': qfile = optarg; break;
        case 'B': binary = true; break;
        case 'e': ecs_file = optarg; break;
        case 'E': edns = true; break;
        case 'D': do_bit = true; break;
        case 's': addr = optarg; break;
        case 'p': port = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'c': r.nsock = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'w': r.window = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'd': duration = strtod(optarg, NULL); break;
        case 'n': r.max_queries = strtoull(optarg, NULL, 10); break;
        case 't': timeout_ms = strtod(optarg, NULL); break;
        case 'Q': rate = strtod(optarg, NULL); break;
        default: usage();
        }
    }
    if (qfile == NULL || port == 0 || port > 65535 || r.nsock == 0 || r.nsock > MAX_SOCKETS ||
        r.window == 0 || r.window > MAX_WINDOW || !(duration > 0) || duration > MAX_DURATION_S ||
        !(timeout_ms >= 1) || timeout_ms > 10000 || !(rate >= 0) || rate > 1e7)
        usage();

    // Loopback only: this tool must never load a real network.
    struct sockaddr_storage ss;
    socklen_t sslen;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
        if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
            die("refusing a non-loopback server address");
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        sslen = sizeof(*sin);
    } else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
        if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
            die("refusing a non-loopback server address");
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        sslen = sizeof(*sin6);
    } else {
        die("bad server address");
    }

    if (binary && do_bit)
        die("-D applies to text queries only");
    load_queries(&r.qs, qfile, binary, edns, do_bit, ecs_file);
    r.window_bits = 0;
    while ((1u << r.window_bits) < r.window)
        r.window_bits++;
    r.timeout_ns = (uint64_t)(timeout_ms * 1e6);
    r.st.lat_hist = xcalloc(LAT_BUCKETS + 1, sizeof(uint32_t));
    r.rbuf = xcalloc(MAX_BATCH, RECV_BUF);
    r.socks = xcalloc(r.nsock, sizeof(*r.socks));
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1 failed");
    for (unsigned k = 0; k < r.nsock; k++) {
        struct sock *s = &r.socks[k];
        s->fd = open_socket(&ss, sslen);
        s->slots = xcalloc(r.window, sizeof(*s->slots));
        s->free_list = xcalloc(r.window, sizeof(*s->free_list));
        for (unsigned i = 0; i < r.window; i++) {
            s->slots[i].id = (uint16_t)i;
            s->free_list[i] = (uint16_t)(r.window - 1 - i);
        }
        s->nfree = r.window;
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = k};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev) != 0)
            die("epoll_ctl failed");
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    struct epoll_event evs[MAX_SOCKETS];
    uint64_t start = mono_ns(), end = start + (uint64_t)(duration * 1e9);
    uint64_t last_scan = start, send_end = 0, drain_deadline = 0;
    bool sending = true;
    unsigned rr = 0;
    // Pacing tick: the interval between queries, but no shorter than 25 us (fewer
    // wake-ups; at most a few queries per tick).  Timer slack would add up to 50 us.
    uint64_t tick_ns = rate > 0 ? (uint64_t)(1e9 / rate) : 0;
    if (tick_ns < 25000)
        tick_ns = 25000;
    if (rate > 0)
        prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    for (;;) {
        uint64_t now = mono_ns();
        if (sending && (now >= end || interrupted ||
                        (r.max_queries && r.st.sent >= r.max_queries))) {
            // Stop sending; wait up to one timeout for the answers in flight.
            sending = false;
            send_end = now;
            drain_deadline = now + r.timeout_ns;
        }
        if (sending && rate > 0) {
            send_paced(&r, now, start, rate, &rr);
        } else if (sending) {
            for (unsigned k = 0; k < r.nsock; k++)
                if (r.socks[k].nfree > 0)
                    send_batch(&r, &r.socks[k], now, MAX_BATCH);
        } else {
            uint64_t inflight = 0;
            for (unsigned k = 0; k < r.nsock; k++)
                inflight += r.window - r.socks[k].nfree;
            if (inflight == 0 || now >= drain_deadline)
                break;
        }
        int n;
        if (sending && rate > 0) {
            // Sleep until the next query is due, at least one pacing tick.
            uint64_t next = start + (uint64_t)((double)(r.st.sent + 1) * 1e9 / rate), wait_ns = tick_ns;
            now = mono_ns();
            if (next > now + tick_ns)
                wait_ns = next - now < 1000000 ? next - now : 1000000;
            struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)wait_ns};
            n = epoll_pwait2(ep, evs, (int)r.nsock, &ts, NULL);
        } else {
            n = epoll_wait(ep, evs, (int)r.nsock, 1);
        }
        for (int i = 0; i < n; i++)
            recv_batch(&r, &r.socks[evs[i].data.u32]);
        now = mono_ns();
        if (now - last_scan >= 1000000) {
            expire(&r, now);
            last_scan = now;
        }
    }
    // Whatever is still in flight after the drain is lost.
    for (unsigned k = 0; k < r.nsock; k++)
        r.st.lost += r.window - r.socks[k].nfree;

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double secs = (double)(send_end - start) / 1e9;
    const struct stats *st = &r.st;
    printf("duration_s=%.3f rate=%.0f sockets=%u window=%u queries=%zu sent=%" PRIu64 " answered=%" PRIu64
           " lost=%" PRIu64 " late=%" PRIu64 " bad=%" PRIu64 " send_err=%" PRIu64 " tc=%" PRIu64
           " sent_qps=%.0f answered_qps=%.0f avg_resp_bytes=%.1f",
           secs, rate, r.nsock, r.window, r.qs.n, st->sent, st->answered, st->lost, st->late, st->bad,
           st->send_err, st->tc, (double)st->sent / secs, (double)st->answered / secs,
           st->answered ? (double)st->resp_bytes / (double)st->answered : 0.0);
    printf(" lat_avg_us=%.1f lat_p50_us=%" PRIu64 " lat_p99_us=%" PRIu64 " lat_max_us=%" PRIu64,
           st->answered ? (double)st->lat_sum_ns / (double)st->answered / 1000.0 : 0.0,
           percentile_us(st, 50), percentile_us(st, 99), st->lat_max_ns / 1000);
    for (unsigned i = 0; i < 16; i++)
        if (st->rcode[i] || i == 0 || i == 3)
            printf(" rcode_%s=%" PRIu64, rcode_names[i], st->rcode[i]);
    printf(" cpu_user_s=%.3f cpu_sys_s=%.3f\n",
           (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
    return st->answered > 0 ? 0 : 1;
}
