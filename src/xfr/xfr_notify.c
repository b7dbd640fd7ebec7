// SPDX-License-Identifier: MIT
/* The NOTIFY sender (see xfr_notify.h). Other threads queue jobs under a mutex and wake the
 * loop with an ev_async; the loop owns every target in flight (a slot of a fixed table with
 * its message, its timer and its tries, and for a signed NOTIFY its own copy of the key and
 * the TSIG state that verifies the reply), the two sockets and their read watchers. A reply
 * counts when it comes from the target's address and port with our ID, QR set, opcode NOTIFY
 * and our question (RFC 1996 §4.7, RFC 5452 §9.1 spirit), and, to a signed NOTIFY, when its
 * TSIG verifies (RFC 8945 §5.4). Runs on its own thread. */
#include "xfr/xfr_notify.h"

#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/dnswire.h"
#include "common/log.h"
#include "common/sockaddr.h"
#include "tsig/tsig.h"

#define OPCODE_NOTIFY 4 /* RFC 1996 §3.1 */
/* Question, SOA record: origin twice, fixed fields, the largest SOA RDATA (two names, 20);
 * then the TSIG record of a signed one. */
#define NOTIFY_MAX                                                                                 \
    (DNS_HEADER_LEN + 2 * DNAME_MAX_LEN + 4 + 10 + 2 * DNAME_MAX_LEN + 20 + TSIG_RR_MAX)

/* One target being notified of one version of one zone. */
struct target {
    ev_timer timer; /* timer.data: this */
    bool used;
    struct xfr_notifier *n;
    uint8_t origin[DNAME_MAX_LEN];
    uint32_t serial;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char text[64]; /* the target as written in the config */
    struct xfr_stats *stats;
    uint16_t id;
    unsigned tries;
    double timeout_s;
    uint8_t msg[NOTIFY_MAX];
    size_t msg_len;
    /* A signed NOTIFY (RFC 8945 §5.1; RFC 1996 §5 leaves authentication to TSIG): the key,
     * owned by the target (its snapshot's ring may go first), and the request's MAC that
     * the reply must chain. NULL: unsigned. */
    struct tsig_key *key;
    struct tsig_stream tsig;
};

/* A request from another thread, before the loop takes it in. */
struct job {
    struct job *next;
    struct target t;
};

struct xfr_notifier {
    pthread_t thread;
    bool running;
    struct ev_loop *loop;
    ev_async wake, stop;
    pthread_mutex_t lock;
    struct job *jobs; /* under lock, newest first */
    unsigned tries;
    double first_timeout_s;
    int fd4, fd6;
    ev_io io4, io6;
    struct target targets[XFR_NOTIFY_PENDING];
};

static uint16_t
random_id(void)
{
    uint16_t id;
    /* RFC 5452 §9.2 spirit: an unpredictable ID, so a forged acknowledgement is hard. */
    if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != (ssize_t)sizeof(id))
        id = (uint16_t)(rand() ^ (getpid() << 4));
    return id;
}

/* RFC 1996 §3.7: opcode NOTIFY, AA, the zone's SOA as question and (a hint of the serial)
 * in the answer section. */
static size_t
build_message(uint8_t *m, uint16_t id, const uint8_t *origin, const struct zone_rrset *soa)
{
    int olen = dname_wire_length(origin, DNAME_MAX_LEN);
    uint16_t rdlen = dnswire_get16(soa->rdata);
    memset(m, 0, DNS_HEADER_LEN);
    dnswire_put16(m + DNS_OFF_ID, id);
    dnswire_put16(m + DNS_OFF_FLAGS, (uint16_t)(OPCODE_NOTIFY << 11 | DNS_FLAG_AA));
    dnswire_put16(m + DNS_OFF_QDCOUNT, 1);
    dnswire_put16(m + DNS_OFF_ANCOUNT, 1);
    size_t pos = DNS_HEADER_LEN;
    memcpy(m + pos, origin, (size_t)olen);
    pos += (size_t)olen;
    dnswire_put16(m + pos, DNS_TYPE_SOA);
    dnswire_put16(m + pos + 2, DNS_CLASS_IN);
    pos += 4;
    memcpy(m + pos, origin, (size_t)olen);
    pos += (size_t)olen;
    dnswire_put16(m + pos, DNS_TYPE_SOA);
    dnswire_put16(m + pos + 2, DNS_CLASS_IN);
    dnswire_put32(m + pos + 4, soa->ttl);
    dnswire_put16(m + pos + 8, rdlen);
    memcpy(m + pos + 10, soa->rdata + 2, rdlen);
    return pos + 10 + rdlen;
}

static void
zone_text(const struct target *t, char *out, size_t size)
{
    dname_to_text(t->origin, out, size);
}

static void
release(struct target *t)
{
    ev_timer_stop(t->n->loop, &t->timer);
    t->used = false;
    tsig_key_free(t->key);
    t->key = NULL;
}

static uint64_t
wall_s(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t)now.tv_sec;
}

/* A reply to a signed NOTIFY must be signed with the same key and chain our MAC; anything
 * else is logged and ignored, and the wait for a signed reply goes on until the tries run
 * out (RFC 8945 §5.4: an unsigned or unverifiable reply "SHOULD NOT be considered an
 * acceptable response", even a NOTAUTH with a TSIG error, which anyone could forge). */
static bool
reply_verifies(struct target *t, const uint8_t *m, size_t len)
{
    enum tsig_status st = tsig_stream_verify(&t->tsig, m, len, wall_s(), NULL);
    if (st == TSIG_OK)
        return true;
    char zone[DNAME_TEXT_MAX], rcode[DNSWIRE_TYPE_TEXT_MAX];
    zone_text(t, zone, sizeof(zone));
    log_warning("notify %s serial %u to %s: reply %s ignored: %s%s%s", zone, t->serial, t->text,
                dnswire_rcode_text(dnswire_rcode(m), rcode), tsig_status_text(st),
                st == TSIG_PEER_ERROR ? ": " : "",
                st == TSIG_PEER_ERROR ? tsig_error_text(t->tsig.peer_error) : "");
    return false;
}

static void
send_one(struct target *t)
{
    struct xfr_notifier *n = t->n;
    int fd = t->addr.ss_family == AF_INET6 ? n->fd6 : n->fd4;
    t->tries++;
    atomic_fetch_add(&t->stats->notify_sent, 1);
    if (fd < 0 || sendto(fd, t->msg, t->msg_len, MSG_DONTWAIT, (struct sockaddr *)&t->addr,
                         t->addr_len) < 0) {
        char zone[DNAME_TEXT_MAX];
        zone_text(t, zone, sizeof(zone));
        log_debug("notify %s to %s: send: %s", zone, t->text,
                  fd < 0 ? "no socket" : strerror(errno));
    }
    ev_timer_set(&t->timer, t->timeout_s, 0);
    ev_timer_start(n->loop, &t->timer);
    t->timeout_s *= 2; /* RFC 1996 §3.6: retransmit, backing off */
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct target *t = w->data;
    (void)loop;
    (void)revents;
    if (t->tries < t->n->tries) {
        send_one(t);
        return;
    }
    char zone[DNAME_TEXT_MAX];
    zone_text(t, zone, sizeof(zone));
    log_warning("notify %s serial %u to %s: no answer after %u tries", zone, t->serial, t->text,
                t->tries);
    atomic_fetch_add(&t->stats->notify_failed, 1);
    release(t);
}

static bool
same_peer(const struct target *t, const struct sockaddr_storage *from, socklen_t len)
{
    if (from->ss_family != t->addr.ss_family)
        return false;
    if (from->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)from, *b = (const void *)&t->addr;
        return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *a = (const void *)from, *b = (const void *)&t->addr;
    (void)len;
    return a->sin6_port == b->sin6_port &&
           memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0;
}

/* The target a reply answers, or NULL. */
static struct target *
match(struct xfr_notifier *n, const uint8_t *m, size_t len, const struct sockaddr_storage *from,
      socklen_t from_len)
{
    if (len < DNS_HEADER_LEN || !(dnswire_flags(m) & DNS_FLAG_QR) ||
        dnswire_opcode(m) != OPCODE_NOTIFY || dnswire_count(m, DNS_OFF_QDCOUNT) != 1)
        return NULL;
    uint8_t qname[DNAME_MAX_LEN];
    size_t pos = DNS_HEADER_LEN;
    if (dname_read_compressed(m, len, &pos, qname) < 0 || pos + 4 > len ||
        dnswire_get16(m + pos) != DNS_TYPE_SOA)
        return NULL;
    for (size_t i = 0; i < XFR_NOTIFY_PENDING; i++) {
        struct target *t = &n->targets[i];
        if (t->used && t->id == dnswire_id(m) && same_peer(t, from, from_len) &&
            dname_equal(t->origin, qname))
            return t;
    }
    return NULL;
}

static void
read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct xfr_notifier *n = w->data;
    (void)loop;
    (void)revents;
    for (int i = 0; i < 64; i++) {
        uint8_t m[4096];
        struct sockaddr_storage from;
        socklen_t from_len = sizeof(from);
        ssize_t r =
            recvfrom(w->fd, m, sizeof(m), MSG_DONTWAIT, (struct sockaddr *)&from, &from_len);
        if (r < 0)
            break;
        struct target *t = match(n, m, (size_t)r, &from, from_len);
        if (!t)
            continue; /* not ours, or late: ignored */
        if (t->key && !reply_verifies(t, m, (size_t)r))
            continue;
        char zone[DNAME_TEXT_MAX], rcode[DNSWIRE_TYPE_TEXT_MAX];
        zone_text(t, zone, sizeof(zone));
        unsigned rc = dnswire_rcode(m);
        if (rc == DNS_RCODE_NOERROR) {
            log_info("notify %s serial %u to %s: acknowledged (%u %s)", zone, t->serial, t->text,
                     t->tries, t->tries == 1 ? "try" : "tries");
            atomic_fetch_add(&t->stats->notify_acked, 1);
        } else {
            /* An answer that refuses will not change on resending. */
            log_warning("notify %s serial %u to %s: answered %s", zone, t->serial, t->text,
                        dnswire_rcode_text(rc, rcode));
            atomic_fetch_add(&t->stats->notify_failed, 1);
        }
        release(t);
    }
}

/* Takes a queued job into a free slot, replacing a pending one for the same zone and
 * target (the secondary only needs the newest serial). */
static void
take(struct xfr_notifier *n, const struct target *job)
{
    struct target *slot = NULL;
    for (size_t i = 0; i < XFR_NOTIFY_PENDING; i++) {
        struct target *t = &n->targets[i];
        if (t->used && dname_equal(t->origin, job->origin) && t->addr_len == job->addr_len &&
            memcmp(&t->addr, &job->addr, t->addr_len) == 0)
            release(t);
        if (!t->used && !slot)
            slot = t;
    }
    if (!slot) {
        char zone[DNAME_TEXT_MAX];
        zone_text(job, zone, sizeof(zone));
        log_warning("notify %s to %s: %d notifications pending already; dropped", zone, job->text,
                    XFR_NOTIFY_PENDING);
        atomic_fetch_add(&job->stats->notify_failed, 1);
        tsig_key_free(job->key);
        return;
    }
    ev_timer timer = slot->timer;
    *slot = *job;
    slot->timer = timer;
    slot->used = true;
    slot->n = n;
    slot->timeout_s = n->first_timeout_s;
    send_one(slot);
}

static void
wake_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    struct xfr_notifier *n = w->data;
    (void)loop;
    (void)revents;
    pthread_mutex_lock(&n->lock);
    struct job *jobs = n->jobs;
    n->jobs = NULL;
    pthread_mutex_unlock(&n->lock);
    /* Oldest first, so that of two serials of a zone the newer one stays. */
    struct job *rev = NULL;
    while (jobs) {
        struct job *next = jobs->next;
        jobs->next = rev;
        rev = jobs;
        jobs = next;
    }
    while (rev) {
        struct job *next = rev->next;
        take(n, &rev->t);
        free(rev);
        rev = next;
    }
}

static void
stop_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)w;
    (void)revents;
    ev_break(loop, EVBREAK_ALL);
}

static void *
notifier_main(void *arg)
{
    struct xfr_notifier *n = arg;
    ev_run(n->loop, 0);
    return NULL;
}

static int
open_socket(int family)
{
    return socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

int
xfr_notifier_start(unsigned tries, double first_timeout_s, struct xfr_notifier **out,
                   char err[XFR_ERR_MAX])
{
    struct xfr_notifier *n = xcalloc(1, sizeof(*n));
    n->tries = tries ? tries : XFR_NOTIFY_TRIES;
    n->first_timeout_s = first_timeout_s > 0 ? first_timeout_s : XFR_NOTIFY_FIRST_TIMEOUT;
    pthread_mutex_init(&n->lock, NULL);
    n->loop = ev_loop_new(EVFLAG_AUTO);
    /* A host without IPv6 (or IPv4) still notifies the targets of the other family. */
    n->fd4 = open_socket(AF_INET);
    n->fd6 = open_socket(AF_INET6);
    if (!n->loop || (n->fd4 < 0 && n->fd6 < 0)) {
        snprintf(err, XFR_ERR_MAX, "notify: %s", n->loop ? strerror(errno) : "no event loop");
        xfr_notifier_stop(n);
        return -1;
    }
    ev_async_init(&n->wake, wake_cb);
    n->wake.data = n;
    ev_async_start(n->loop, &n->wake);
    ev_async_init(&n->stop, stop_cb);
    ev_async_start(n->loop, &n->stop);
    if (n->fd4 >= 0) {
        ev_io_init(&n->io4, read_cb, n->fd4, EV_READ);
        n->io4.data = n;
        ev_io_start(n->loop, &n->io4);
    }
    if (n->fd6 >= 0) {
        ev_io_init(&n->io6, read_cb, n->fd6, EV_READ);
        n->io6.data = n;
        ev_io_start(n->loop, &n->io6);
    }
    for (size_t i = 0; i < XFR_NOTIFY_PENDING; i++) {
        ev_timer_init(&n->targets[i].timer, timer_cb, 0, 0);
        n->targets[i].timer.data = &n->targets[i];
    }
    /* Signals belong to the main thread (ARCHITECTURE.md §2). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&n->thread, NULL, notifier_main, n);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, XFR_ERR_MAX, "notify thread: %s", strerror(rc));
        xfr_notifier_stop(n);
        return -1;
    }
    n->running = true;
    *out = n;
    return 0;
}

/* Signs the target's message with the key its entry names (RFC 8945 §5.1), Time Signed now:
 * resends repeat it unchanged, well within the fudge (31 s of tries against 300 s), so a
 * late reply to the first send still verifies. false when the key is not in `keys`. */
static bool
sign_message(struct target *t, const struct config_notify *entry, const struct tsig_keyring *keys)
{
    const struct tsig_key *key = tsig_keyring_find(keys, entry->tsig_key->name_wire);
    if (!key)
        return false;
    t->key = tsig_key_dup(key);
    t->msg_len = tsig_request_sign(&t->tsig, t->key, t->msg, t->msg_len, sizeof(t->msg), wall_s());
    return t->msg_len > 0;
}

void
xfr_notifier_send(struct xfr_notifier *n, const struct zone *zone,
                  const struct config_notify *targets, size_t count,
                  const struct tsig_keyring *keys, struct xfr_stats *stats)
{
    if (!n || count == 0)
        return;
    for (size_t i = 0; i < count; i++) {
        struct job *j = xcalloc(1, sizeof(*j));
        struct target *t = &j->t;
        memcpy(t->origin, zone->origin, (size_t)zone->origin_len);
        t->serial = zone->serial;
        memcpy(&t->addr, &targets[i].addr, targets[i].addr_len);
        t->addr_len = targets[i].addr_len;
        snprintf(t->text, sizeof(t->text), "%s", targets[i].text);
        t->stats = stats;
        t->id = random_id();
        t->msg_len = build_message(t->msg, t->id, zone->origin, zone->soa);
        if (targets[i].tsig_key && !sign_message(t, &targets[i], keys)) {
            /* Cannot happen with a ring built from the same config (keys are checked at
             * load), but an unsigned NOTIFY where a signed one was asked for is worse. */
            char name[DNAME_TEXT_MAX];
            zone_text(t, name, sizeof(name));
            log_error("notify %s to %s: key %s not loaded; not sent", name, t->text,
                      targets[i].key);
            atomic_fetch_add(&stats->notify_failed, 1);
            tsig_key_free(t->key);
            free(j);
            continue;
        }
        pthread_mutex_lock(&n->lock);
        j->next = n->jobs;
        n->jobs = j;
        pthread_mutex_unlock(&n->lock);
    }
    ev_async_send(n->loop, &n->wake);
}

void
xfr_notifier_stop(struct xfr_notifier *n)
{
    if (!n)
        return;
    if (n->running) {
        ev_async_send(n->loop, &n->stop);
        pthread_join(n->thread, NULL);
    }
    while (n->jobs) {
        struct job *next = n->jobs->next;
        tsig_key_free(n->jobs->t.key);
        free(n->jobs);
        n->jobs = next;
    }
    for (size_t i = 0; i < XFR_NOTIFY_PENDING; i++)
        tsig_key_free(n->targets[i].key); /* NULL unless pending: release() clears it */
    if (n->fd4 >= 0)
        close(n->fd4);
    if (n->fd6 >= 0)
        close(n->fd6);
    if (n->loop)
        ev_loop_destroy(n->loop);
    pthread_mutex_destroy(&n->lock);
    free(n);
}
