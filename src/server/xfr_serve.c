// SPDX-License-Identifier: MIT
/* Outgoing zone transfers in meridiand (see xfr_serve.h). A transfer reads one snapshot from
 * its first message to its last, across many event-loop iterations of its worker, while the
 * RCU read side may only be held within one: so it takes a reference on the snapshot
 * (snapshot_hold) and the snapshot outlives its replacement until the transfer ends
 * (ARCHITECTURE.md §4). The stream's state lives in the net/ connection (struct net_stream), so a
 * transfer allocates nothing. Transfers are logged at info (they are rare and operators want to see
 * them); refusals are counted, and logged only at debug. */
#include "server/xfr_serve.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/sockaddr.h"
#include "server/journal.h"
#include "server/secondary.h"

/* --- counters per origin ---------------------------------------------------------------- */

struct stats_entry {
    struct stats_entry *next;
    uint8_t origin[DNAME_MAX_LEN];
    struct xfr_stats stats;
};

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stats_entry *stats_head;

struct xfr_stats *
xfr_serve_stats(const uint8_t *origin)
{
    pthread_mutex_lock(&stats_lock);
    struct stats_entry *e = stats_head;
    while (e && !dname_equal(e->origin, origin))
        e = e->next;
    if (!e) {
        e = xcalloc(1, sizeof(*e));
        dname_lower_copy(e->origin, origin);
        e->next = stats_head;
        stats_head = e;
    }
    pthread_mutex_unlock(&stats_lock);
    return &e->stats;
}

void
xfr_serve_stats_free(void)
{
    pthread_mutex_lock(&stats_lock);
    while (stats_head) {
        struct stats_entry *next = stats_head->next;
        free(stats_head);
        stats_head = next;
    }
    pthread_mutex_unlock(&stats_lock);
}

/* --- building the views ----------------------------------------------------------------- */

/* The transfer view of `origin` in the snapshot being served now, or NULL. Main thread: the
 * only one that publishes, so it reads `current` without the RCU read side. */
static const struct xfr_zone *
serving_view(const uint8_t *origin)
{
    const struct snapshot *cur = snapshot_current_get();
    if (!cur || !cur->zones || !cur->xfr_zones)
        return NULL;
    for (size_t i = 0; i < cur->zones->count; i++)
        if (dname_equal(cur->zones->zones[i]->origin, origin))
            return cur->xfr_zones[i];
    return NULL;
}

/* What following the new version did, for the log. */
static void
log_change(const struct xfr_zone *xz, const struct xfr_zone *prev, enum xfr_change change)
{
    char name[DNAME_TEXT_MAX];
    dname_to_text(xz->zone->origin, name, sizeof(name));
    uint32_t from = prev ? prev->zone->serial : 0, to = xz->zone->serial;
    switch (change) {
    case XFR_CHANGE_DIFF:
        log_info("zone %s: serial %u -> %u; IXFR history %u versions, %zu bytes", name, from, to,
                 xz->history.count, xz->history.bytes);
        break;
    case XFR_CHANGE_NO_SERIAL:
        log_warning("zone %s changed but its serial %u did not: secondaries keep the old data "
                    "until the serial increases (IXFR history dropped)",
                    name, to);
        break;
    case XFR_CHANGE_BACKWARDS:
        log_warning("zone %s: serial %u -> %u is not an increase (RFC 1982): secondaries will "
                    "not transfer it (IXFR history dropped)",
                    name, from, to);
        break;
    case XFR_CHANGE_NONE:
    case XFR_CHANGE_SAME:
        break;
    }
}

int
xfr_serve_load(struct snapshot *snap, char err[CONFIG_ERR_MAX])
{
    const struct config *cfg = snap->cfg;
    size_t count = snap->zones->count;
    time_t now = time(NULL);
    snap->xfr_zones = xcalloc(count ? count : 1, sizeof(*snap->xfr_zones));
    /* The zone set keeps the config's order (load_zones): index i is cfg->zones[i]. */
    for (size_t i = 0; i < count; i++) {
        const struct config_zone *cz = &cfg->zones[i];
        const struct zone *zone = snap->zones->zones[i];
        const struct xfr_zone *prev = serving_view(zone->origin);
        struct xfr_zone_params p = {
            .policies = snap->policies,
            .dz = snap->signed_zones ? snap->signed_zones[i] : NULL,
            .transfer = &cz->transfer,
            .stats = xfr_serve_stats(zone->origin),
            .previous = prev,
            .stored = snap->sigstores ? snap->sigstores[i] : NULL,
            .refresh_s = cz->dnssec.refresh_ms / 1000,
            .now = now,
        };
        char xerr[XFR_ERR_MAX];
        if (xfr_zone_new(zone, &p, &snap->xfr_zones[i], xerr) < 0) {
            snprintf(err, CONFIG_ERR_MAX, "%.150s:%d: zone %.80s: %.250s", cfg->path, cz->line,
                     cz->origin, xerr);
            return -1;
        }
        log_change(
            snap->xfr_zones[i], prev,
            xfr_zone_follow(snap->xfr_zones[i], prev, XFR_HISTORY_VERSIONS, XFR_HISTORY_BYTES));
        /* Nothing served before this version to follow (the start, or transfers just turned
         * on): the history from before, if the zone's journal ends here. */
        if (!prev || !prev->transfer || !prev->transfer->enabled)
            journal_load(snap, i, snap->xfr_zones[i]);
    }
    snap->xfr = (struct xfr_view){
        .zones = snap->zones, .xzones = snap->xfr_zones, .udp_max_size = cfg->udp_max_size};
    return 0;
}

/* --- serving ----------------------------------------------------------------------------- */

/* A transfer in progress, in the connection's net_stream.state. */
struct served {
    struct snapshot *snap; /* held */
    struct timespec start;
    char client[INET6_ADDRSTRLEN + 8];
    const struct tsig_key *key; /* that signed the request (in snap's ring), or NULL */
    struct xfr_signer signer;   /* s.signer points here when the request was signed */
    struct xfr_stream s;
};
_Static_assert(sizeof(struct served) <= NET_STREAM_STATE_MAX,
               "a transfer's state must fit the connection's stream state");

static const char *
kind_text(const struct xfr_stream *s)
{
    switch (s->kind) {
    case XFR_KIND_AXFR:
        return "AXFR";
    case XFR_KIND_IXFR:
        return "IXFR (incremental)";
    case XFR_KIND_IXFR_FULL:
        return "IXFR (whole zone: serial not in the history)";
    case XFR_KIND_UP_TO_DATE:
        return "IXFR (up to date)";
    case XFR_KIND_UDP_SOA:
        return "IXFR over UDP (too big: SOA only)";
    case XFR_KIND_ERROR:
        break;
    }
    return "transfer";
}

static double
since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* " (key NAME)" for a signed transfer's log line, else "". */
static const char *
key_text(const struct tsig_key *key, char *buf, size_t size)
{
    if (!key)
        return "";
    char name[DNAME_TEXT_MAX];
    dname_to_text(tsig_key_name(key), name, sizeof(name));
    snprintf(buf, size, " (key %s)", name);
    return buf;
}

static void
log_done(const struct served *sv, bool complete)
{
    const struct xfr_stream *s = &sv->s;
    char name[DNAME_TEXT_MAX], key[DNAME_TEXT_MAX + 8];
    dname_to_text(s->xz->zone->origin, name, sizeof(name));
    if (complete && s->rcode == DNS_RCODE_NOERROR)
        log_info("%s of %s serial %u to %s%s: %u messages, %llu records, %llu bytes, %.3f s",
                 kind_text(s), name, s->xz->zone->serial, sv->client,
                 key_text(sv->key, key, sizeof(key)), s->messages, (unsigned long long)s->records,
                 (unsigned long long)s->bytes, since(&sv->start));
    else
        log_warning("%s of %s serial %u to %s%s: %s after %u messages, %.3f s", kind_text(s), name,
                    s->xz->zone->serial, sv->client, key_text(sv->key, key, sizeof(key)),
                    complete ? "failed (SERVFAIL)" : "abandoned (client gone or stalled)",
                    s->messages, since(&sv->start));
}

static size_t
serve_next(void *state, unsigned worker, uint8_t *out, size_t out_max)
{
    struct served *sv = state;
    (void)worker;
    return xfr_stream_next(&sv->s, out, out_max);
}

static void
serve_end(void *state, unsigned worker)
{
    struct served *sv = state;
    (void)worker;
    bool complete = sv->s.phase == XFR_PHASE_DONE;
    if (!complete)
        atomic_fetch_add(&sv->s.xz->stats->aborted, 1);
    log_done(sv, complete);
    snapshot_release(sv->snap);
}

/* Counts what the request got. */
static void
count(const struct xfr_stream *s)
{
    struct xfr_stats *st = s->xz ? s->xz->stats : NULL;
    if (!st)
        return;
    switch (s->kind) {
    case XFR_KIND_AXFR:
    case XFR_KIND_IXFR_FULL:
        atomic_fetch_add(&st->axfr, 1);
        break;
    case XFR_KIND_IXFR:
        atomic_fetch_add(&st->ixfr, 1);
        break;
    case XFR_KIND_UP_TO_DATE:
        atomic_fetch_add(&st->up_to_date, 1);
        break;
    case XFR_KIND_ERROR:
        if (s->rcode == DNS_RCODE_REFUSED)
            atomic_fetch_add(&st->refused, 1);
        break;
    case XFR_KIND_UDP_SOA:
        break;
    }
}

/* Time Signed of each message of a signed transfer (RFC 8945 §5.3.1): the wall clock, read
 * per message, since a transfer to a slow client may outlast the fudge. */
static uint64_t
wall_clock_s(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t)now.tv_sec;
}

size_t
xfr_serve(struct snapshot *snap, const struct net_query *nq, const struct xfr_request *req,
          const struct tsig_request *tsig, uint8_t *out, size_t out_max)
{
    struct served local;
    struct served *sv = nq->stream ? (struct served *)(void *)nq->stream->state : &local;
    struct xfr_client c = {.addr = nq->client, .tcp = nq->tcp, .key = NULL, .signer = NULL};
    struct xfr_tsig init;
    sv->key = NULL;
    if (tsig && tsig->key) {
        /* RFC 8945 §5.2: dns_answer verified the request; the key that signed it is the
         * ACL's input, and every message of the answer, refusals included, is signed with
         * it (§5.3.1), MAC chained to the request's. */
        sv->key = tsig->key;
        c.key = tsig_key_name(tsig->key);
        xfr_tsig_signer(&sv->signer, &init, tsig, wall_clock_s);
        c.signer = &sv->signer;
    }
    clock_gettime(CLOCK_MONOTONIC, &sv->start);
    size_t n = xfr_begin(&snap->xfr, req, &c, out, out_max, &sv->s);
    count(&sv->s);
    if (sv->s.kind == XFR_KIND_ERROR) {
        if (log_get_level() >= LOG_LEVEL_DEBUG) {
            char client[INET6_ADDRSTRLEN + 8], name[DNAME_TEXT_MAX], rcode[DNSWIRE_TYPE_TEXT_MAX];
            char key[DNAME_TEXT_MAX + 8];
            sockaddr_format(nq->client, client, sizeof(client));
            dname_to_text(req->lname, name, sizeof(name));
            log_debug("%s of %s from %s%s: %s", req->qtype == DNS_TYPE_AXFR ? "AXFR" : "IXFR", name,
                      client, key_text(sv->key, key, sizeof(key)),
                      dnswire_rcode_text(sv->s.rcode, rcode));
        }
        return n;
    }
    sockaddr_format(nq->client, sv->client, sizeof(sv->client));
    if (n > 0 && sv->s.more && nq->stream) {
        /* The rest follows message by message (net.h): keep the snapshot until the end. */
        snapshot_hold(snap);
        sv->snap = snap;
        nq->stream->next = serve_next;
        nq->stream->end = serve_end;
        return n;
    }
    if (sv->s.kind != XFR_KIND_UP_TO_DATE && sv->s.kind != XFR_KIND_UDP_SOA)
        log_done(sv, true);
    return n;
}

/* --- NOTIFY and status ------------------------------------------------------------------- */

void
xfr_serve_published(const struct snapshot *snap, struct xfr_notifier **notifier)
{
    const struct config *cfg = snap->cfg;
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < snap->zones->count; i++) {
        const struct zone *zone = snap->zones->zones[i];
        const struct config_zone *cz = &cfg->zones[i];
        struct xfr_stats *st = snap->xfr_zones[i]->stats;
        uint32_t old = atomic_exchange(&st->serial, zone->serial);
        bool first = atomic_load(&st->changed_at) == 0;
        if (!first && old == zone->serial)
            continue;
        atomic_store(&st->changed_at, now);
        /* RFC 1996 §3.5: notify when the zone changes; at start too, since a secondary
         * may have missed the change that happened while we were down. */
        /* A secondary zone without data has nothing to announce. */
        if (cz->notify_count == 0 || zone->expired)
            continue;
        if (!*notifier) {
            char err[XFR_ERR_MAX];
            if (xfr_notifier_start(0, 0, notifier, err) < 0) {
                log_error("%s: NOTIFY disabled: %s", cz->origin, err);
                continue;
            }
        }
        xfr_notifier_send(*notifier, zone, cz->notify, cz->notify_count, snap->tsig, st);
    }
}

static void
print_prefix(FILE *out, const struct config_prefix *p)
{
    char text[INET6_ADDRSTRLEN];
    inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, text, sizeof(text));
    fprintf(out, "%s/%u", text, p->prefix_len);
}

static void
print_when(FILE *out, int64_t t, time_t now)
{
    char text[32];
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(out, "%s (%lld s ago)", text, (long long)(now >= tt ? now - tt : 0));
}

void
xfr_serve_status(const struct snapshot *snap, const char *zone, FILE *out)
{
    uint8_t wire[DNAME_MAX_LEN];
    size_t i = 0;
    if (dname_from_text(zone, wire) > 0)
        for (; i < snap->zones->count; i++)
            if (dname_equal(snap->zones->zones[i]->origin, wire))
                break;
    if (i == snap->zones->count || !snap->xfr_zones) {
        fprintf(out, "error: no zone %s\n", zone);
        return;
    }
    const struct xfr_zone *xz = snap->xfr_zones[i];
    const struct config_zone *cz = &snap->cfg->zones[i];
    const struct config_transfer *t = &cz->transfer;
    const struct xfr_stats *st = xz->stats;
    char name[DNAME_TEXT_MAX];
    dname_to_text(xz->zone->origin, name, sizeof(name));
    fprintf(out, "ok\nzone: %s\nrole: %s\nserial: %u%s\nlast_change: ", name,
            cz->primaries ? "secondary" : "primary", xz->zone->serial,
            xz->zone->expired ? " (expired or not transferred: SERVFAIL)" : "");
    if (atomic_load(&st->changed_at))
        print_when(out, atomic_load(&st->changed_at), time(NULL));
    else
        fprintf(out, "not served yet");
    fprintf(out, "\ntransfer: ");
    if (!t->enabled)
        fprintf(out, "refused (no `transfer:`)");
    for (size_t k = 0; t->enabled && k < t->allow_count; k++) {
        fprintf(out, "%s", k ? ", " : "from ");
        print_prefix(out, &t->allow[k]);
    }
    for (size_t k = 0; t->enabled && k < t->key_count; k++)
        fprintf(out, "%s%s", k ? ", " : t->allow_count ? "; key " : "key ", t->keys[k]);
    fprintf(out, "\nhistory: %u versions", xz->history.count);
    if (xz->history.count)
        fprintf(out, " (serials %u..%u), %zu bytes", xz->history.diffs[0]->from_serial,
                xz->history.diffs[xz->history.count - 1]->to_serial, xz->history.bytes);
    fprintf(out,
            "\ntransfers: axfr %llu, ixfr %llu, up_to_date %llu, refused %llu, "
            "abandoned %llu\n",
            (unsigned long long)atomic_load(&st->axfr), (unsigned long long)atomic_load(&st->ixfr),
            (unsigned long long)atomic_load(&st->up_to_date),
            (unsigned long long)atomic_load(&st->refused),
            (unsigned long long)atomic_load(&st->aborted));
    fprintf(out, "notify:");
    for (size_t k = 0; k < cz->notify_count; k++)
        fprintf(out, cz->notify[k].key ? " %s (key %s)" : " %s", cz->notify[k].text,
                cz->notify[k].key);
    fprintf(out, "%s\nnotifies: sent %llu, acked %llu, failed %llu\n",
            cz->notify_count ? "" : " none", (unsigned long long)atomic_load(&st->notify_sent),
            (unsigned long long)atomic_load(&st->notify_acked),
            (unsigned long long)atomic_load(&st->notify_failed));
    if (cz->primaries)
        secondary_status(xz->zone->origin, out);
}
