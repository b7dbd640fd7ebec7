// SPDX-License-Identifier: MIT
/* Probe rounds (see probe.h). Each probe owns a non-blocking socket, a watcher and a timer,
 * allocated once with the prober; a round re-arms them. UDP uses a connected socket, so ICMP
 * "port unreachable" arrives as ECONNREFUSED instead of a silent timeout, and datagrams that
 * are not the reply (wrong ID or question, RFC 5452 §9.1) are ignored. TCP sends the query
 * with its 2-byte length (RFC 1035 §4.2.2) and reads one reply. The meridiand `status` request
 * is one line on its control socket, answered until the server closes. Event loop thread. */
#include "anycast/probe.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "anycast/site.h"
#include "common/alloc.h"
#include "common/dnswire.h"

#define UDP_BUF 4096
#define TCP_BUF (2 + 65535)
#define STATUS_BUF 65536
#define RECV_BATCH 16 /* datagrams read per wakeup */

enum probe_kind { PROBE_UDP, PROBE_TCP, PROBE_STATUS };

struct probe {
    struct anycast_prober *owner;
    enum probe_kind kind;
    const struct anycast_service *svc; /* UDP/TCP */
    int fd;
    ev_io io;
    ev_timer timer;
    bool active;
    bool connected; /* TCP: connect finished */
    uint16_t id;
    uint8_t out[ANYCAST_QUERY_MAX + 2];
    size_t out_len;
    size_t out_sent;
    uint8_t *in;
    size_t in_len;
    size_t in_cap;
    uint64_t start_us;
    bool ok;
    uint32_t rtt_ms;
    char why[160];
};

struct anycast_prober {
    struct ev_loop *loop;
    const struct anycast_config *cfg;
    const struct anycast_canary *canary;
    anycast_round_fn done;
    void *arg;
    struct probe *probes; /* 2 per service (UDP, TCP) + 1 status */
    size_t probe_count;
    size_t pending;
    bool running;
    bool with_tcp;
};

static uint64_t
mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint16_t
random_id(void)
{
    uint16_t id;
    /* RFC 5452 §9.2: unpredictable IDs, so a stray or spoofed packet cannot pass. */
    if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != (ssize_t)sizeof(id))
        id = (uint16_t)(mono_us() * 2654435761u >> 7);
    return id;
}

static const char *
kind_name(enum probe_kind kind)
{
    return kind == PROBE_UDP ? "udp" : kind == PROBE_TCP ? "tcp" : "status";
}

static void judge_round(struct anycast_prober *p);

/* Ends one probe with its verdict; the round is judged when the last one ends. */
__attribute__((format(printf, 3, 4))) static void
finish(struct probe *pr, bool ok, const char *fmt, ...)
{
    struct anycast_prober *p = pr->owner;

    if (!pr->active)
        return;
    pr->active = false;
    pr->ok = ok;
    pr->rtt_ms = (uint32_t)((mono_us() - pr->start_us + 999) / 1000);
    pr->why[0] = '\0';
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(pr->why, sizeof(pr->why), fmt, ap);
        va_end(ap);
    }
    ev_io_stop(p->loop, &pr->io);
    ev_timer_stop(p->loop, &pr->timer);
    if (pr->fd >= 0)
        close(pr->fd);
    pr->fd = -1;
    if (--p->pending == 0)
        judge_round(p);
}

static void
judge_dns(struct probe *pr, const uint8_t *msg, size_t len, bool foreign_fails)
{
    char why[160];
    enum anycast_verdict v =
        anycast_canary_check(pr->owner->canary, pr->id, msg, len, why, sizeof(why));

    if (v == ANYCAST_ANSWER_PASS)
        finish(pr, true, NULL);
    else if (v == ANYCAST_ANSWER_FAIL)
        finish(pr, false, "%s", why);
    else if (foreign_fails)
        finish(pr, false, "reply does not match the query");
}

static void
on_udp(struct ev_loop *loop, ev_io *w, int revents)
{
    struct probe *pr = w->data;
    (void)loop;
    (void)revents;
    for (int i = 0; i < RECV_BATCH && pr->active; i++) {
        ssize_t n = recv(pr->fd, pr->in, pr->in_cap, 0);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                finish(pr, false, "%s", strerror(errno)); /* e.g. ECONNREFUSED from ICMP */
            return;
        }
        judge_dns(pr, pr->in, (size_t)n, false);
    }
}

static void
on_tcp(struct ev_loop *loop, ev_io *w, int revents)
{
    struct probe *pr = w->data;
    ssize_t n;

    if (!pr->connected) {
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (getsockopt(pr->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0) {
            finish(pr, false, "connect: %s", strerror(soerr ? soerr : errno));
            return;
        }
        pr->connected = true;
    }
    if (pr->out_sent < pr->out_len) {
        n = send(pr->fd, pr->out + pr->out_sent, pr->out_len - pr->out_sent, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            finish(pr, false, "send: %s", strerror(errno));
            return;
        }
        if (n > 0)
            pr->out_sent += (size_t)n;
        if (pr->out_sent == pr->out_len) {
            ev_io_stop(loop, &pr->io);
            ev_io_set(&pr->io, pr->fd, EV_READ);
            ev_io_start(loop, &pr->io);
        }
        return;
    }
    if (!(revents & EV_READ))
        return;
    n = recv(pr->fd, pr->in + pr->in_len, pr->in_cap - pr->in_len, 0);
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR)
            finish(pr, false, "recv: %s", strerror(errno));
        return;
    }
    if (n == 0) {
        finish(pr, false, "connection closed before the reply");
        return;
    }
    pr->in_len += (size_t)n;
    if (pr->in_len >= 2) {
        size_t want = dnswire_get16(pr->in);
        if (pr->in_len >= 2 + want)
            judge_dns(pr, pr->in + 2, want, true);
    }
}

static void
on_status(struct ev_loop *loop, ev_io *w, int revents)
{
    struct probe *pr = w->data;
    struct anycast_site_status st;
    char err[160];
    ssize_t n;

    (void)loop;
    (void)revents;
    n = read(pr->fd, pr->in + pr->in_len, pr->in_cap - 1 - pr->in_len);
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR)
            finish(pr, false, "read: %s", strerror(errno));
        return;
    }
    pr->in_len += (size_t)n;
    if (n > 0 && pr->in_len < pr->in_cap - 1)
        return;
    /* The server closed (or the buffer is full): the reply is complete. */
    pr->in[pr->in_len] = '\0';
    if (anycast_site_parse((const char *)pr->in, &st, err, sizeof(err)) < 0)
        finish(pr, false, "%s", err);
    else
        finish(pr, true, NULL);
}

static void
on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct probe *pr = w->data;
    (void)loop;
    (void)revents;
    finish(pr, false, "no answer within %u ms", pr->owner->cfg->timeout_ms);
}

/* Opens the socket and sends (or starts sending) the request. Failures end the probe. */
static void
launch(struct probe *pr)
{
    struct anycast_prober *p = pr->owner;
    int fam = pr->svc ? pr->svc->addr.ss_family : AF_UNIX;
    int type = pr->kind == PROBE_UDP ? SOCK_DGRAM : SOCK_STREAM;

    pr->active = true;
    pr->connected = false;
    pr->in_len = 0;
    pr->out_sent = 0;
    pr->start_us = mono_us();
    p->pending++;
    ev_timer_set(&pr->timer, (double)p->cfg->timeout_ms / 1000.0, 0.0);
    ev_timer_start(p->loop, &pr->timer);
    pr->fd = socket(fam, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (pr->fd < 0) {
        finish(pr, false, "socket: %s", strerror(errno));
        return;
    }
    if (pr->kind == PROBE_STATUS) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", p->cfg->meridiand_control);
        if (connect(pr->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
            finish(pr, false, "%s: %s", p->cfg->meridiand_control, strerror(errno));
            return;
        }
        /* One request per connection; the reply ends when meridiand closes. */
        if (send(pr->fd, "status\n", 7, MSG_NOSIGNAL) != 7) {
            finish(pr, false, "send: %s", strerror(errno));
            return;
        }
        shutdown(pr->fd, SHUT_WR);
        ev_io_init(&pr->io, on_status, pr->fd, EV_READ);
        ev_io_start(p->loop, &pr->io);
        return;
    }
    pr->id = random_id();
    if (pr->kind == PROBE_UDP) {
        pr->out_len = anycast_canary_query(p->canary, pr->id, pr->out);
        if (connect(pr->fd, (const struct sockaddr *)&pr->svc->addr, pr->svc->addr_len) < 0 ||
            send(pr->fd, pr->out, pr->out_len, 0) != (ssize_t)pr->out_len) {
            finish(pr, false, "%s", strerror(errno));
            return;
        }
        ev_io_init(&pr->io, on_udp, pr->fd, EV_READ);
        ev_io_start(p->loop, &pr->io);
        return;
    }
    pr->out_len = anycast_canary_query(p->canary, pr->id, pr->out + 2) + 2;
    dnswire_put16(pr->out, (uint16_t)(pr->out_len - 2)); /* RFC 1035 §4.2.2 length */
    if (connect(pr->fd, (const struct sockaddr *)&pr->svc->addr, pr->svc->addr_len) < 0 &&
        errno != EINPROGRESS) {
        finish(pr, false, "connect: %s", strerror(errno));
        return;
    }
    ev_io_init(&pr->io, on_tcp, pr->fd, EV_WRITE);
    ev_io_start(p->loop, &pr->io);
}

static void
judge_round(struct anycast_prober *p)
{
    struct anycast_round_report r = {.tcp = p->with_tcp};
    const struct anycast_config *cfg = p->cfg;

    p->running = false;
    for (size_t i = 0; i < p->probe_count; i++) {
        struct probe *pr = &p->probes[i];
        if (pr->kind == PROBE_STATUS || (pr->kind == PROBE_TCP && !p->with_tcp))
            continue;
        r.probes++;
        if (!pr->ok) {
            r.failed++;
            if (!r.hard_fail)
                snprintf(r.hard_reason, sizeof(r.hard_reason), "%s/%s: %s", pr->svc->text,
                         kind_name(pr->kind), pr->why);
            r.hard_fail = true;
            continue;
        }
        if (pr->rtt_ms > r.max_rtt_ms)
            r.max_rtt_ms = pr->rtt_ms;
        /* Slow but correct answers de-prefer the site; they never withdraw it. */
        if ((uint64_t)pr->rtt_ms * 2 > cfg->timeout_ms && !r.soft_fail) {
            snprintf(r.soft_reason, sizeof(r.soft_reason), "%s/%s: slow answer %u ms (over %u)",
                     pr->svc->text, kind_name(pr->kind), pr->rtt_ms, cfg->timeout_ms / 2);
            r.soft_fail = true;
        }
    }
    if (cfg->meridiand_control) {
        struct probe *pr = &p->probes[p->probe_count - 1];
        struct anycast_site_status st;
        char why[160], err[160];

        if (pr->ok && anycast_site_parse((const char *)pr->in, &st, err, sizeof(err)) == 0) {
            r.status_ok = true;
            r.site_drained = st.drained;
            if (anycast_site_soft_failure(&st, (int64_t)time(NULL), cfg->max_data_age_ms, why,
                                          sizeof(why)) &&
                !r.soft_fail) {
                snprintf(r.soft_reason, sizeof(r.soft_reason), "%s", why);
                r.soft_fail = true;
            }
        } else if (!r.soft_fail) {
            /* Unknown is de-preferred, not withdrawn: the DNS probes decide that. */
            snprintf(r.soft_reason, sizeof(r.soft_reason), "meridiand status unavailable: %s",
                     pr->why);
            r.soft_fail = true;
        }
    }
    p->done(p->arg, &r);
}

struct anycast_prober *
anycast_prober_new(struct ev_loop *loop, const struct anycast_config *cfg,
                   const struct anycast_canary *canary, anycast_round_fn done, void *arg)
{
    struct anycast_prober *p = xcalloc(1, sizeof(*p));
    size_t n = 0;

    p->loop = loop;
    p->cfg = cfg;
    p->canary = canary;
    p->done = done;
    p->arg = arg;
    p->probe_count = cfg->service_count * 2 + (cfg->meridiand_control ? 1 : 0);
    p->probes = xcalloc(p->probe_count, sizeof(*p->probes));
    for (size_t i = 0; i < cfg->service_count; i++) {
        for (int k = 0; k < 2; k++) {
            struct probe *pr = &p->probes[n++];
            pr->kind = k == 0 ? PROBE_UDP : PROBE_TCP;
            pr->svc = &cfg->services[i];
            pr->in_cap = k == 0 ? UDP_BUF : TCP_BUF;
        }
    }
    if (cfg->meridiand_control) {
        p->probes[n].kind = PROBE_STATUS;
        p->probes[n].in_cap = STATUS_BUF;
    }
    for (size_t i = 0; i < p->probe_count; i++) {
        struct probe *pr = &p->probes[i];
        pr->owner = p;
        pr->fd = -1;
        pr->in = xmalloc(pr->in_cap);
        ev_timer_init(&pr->timer, on_timeout, 1.0, 0.0);
        pr->timer.data = pr;
        ev_io_init(&pr->io, on_udp, -1, EV_READ);
        pr->io.data = pr;
    }
    return p;
}

void
anycast_prober_start(struct anycast_prober *p, bool with_tcp)
{
    if (p->running)
        return;
    p->running = true;
    p->with_tcp = with_tcp;
    /* pending is raised per probe before any can finish; a probe that fails at once inside
     * launch() must not see pending reach zero while others are still to be launched. */
    p->pending = 1;
    for (size_t i = 0; i < p->probe_count; i++) {
        struct probe *pr = &p->probes[i];
        pr->ok = false;
        pr->why[0] = '\0';
        if (pr->kind == PROBE_TCP && !with_tcp)
            continue;
        launch(pr);
    }
    if (--p->pending == 0)
        judge_round(p);
}

bool
anycast_prober_running(const struct anycast_prober *p)
{
    return p->running;
}

void
anycast_prober_free(struct anycast_prober *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->probe_count; i++) {
        struct probe *pr = &p->probes[i];
        ev_io_stop(p->loop, &pr->io);
        ev_timer_stop(p->loop, &pr->timer);
        if (pr->fd >= 0)
            close(pr->fd);
        free(pr->in);
    }
    free(p->probes);
    free(p);
}
