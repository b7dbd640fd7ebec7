// SPDX-License-Identifier: MIT
/* Query counters (see stats.h): the per-worker blocks, the one call per query that turns a
 * dns_result into increments, the per-service/pool/member counters of a policy set and
 * their carrying across reloads by name, and the sums readers take. stats_count runs on
 * the workers (no allocation, no lock); everything else on the main thread or a reader. */
#include "stats/stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/alloc.h"

/* The query types counted by name, in label order; index STATS_QTYPES - 1 is "other". */
static const struct {
    uint16_t type;
    const char *name;
} qtypes[STATS_QTYPES - 1] = {
    {1, "A"},      {2, "NS"},      {5, "CNAME"}, {6, "SOA"},    {12, "PTR"},
    {15, "MX"},    {16, "TXT"},    {28, "AAAA"}, {33, "SRV"},   {35, "NAPTR"},
    {43, "DS"},    {48, "DNSKEY"}, {64, "SVCB"}, {65, "HTTPS"}, {99, "SPF"},
    {251, "IXFR"}, {252, "AXFR"},  {255, "ANY"}, {257, "CAA"},
};

/* RFC 6895 §2.3 (and RFC 7873 for 23): the names of rcodes 0..23. */
static const char *const rcode_names[STATS_RCODES] = {
    "NOERROR", "FORMERR",  "SERVFAIL",  "NXDOMAIN", "NOTIMP",    "REFUSED", "YXDOMAIN",
    "YXRRSET", "NXRRSET",  "NOTAUTH",   "NOTZONE",  "DSOTYPENI", "RCODE12", "RCODE13",
    "RCODE14", "RCODE15",  "BADVERS",   "BADKEY",   "BADTIME",   "BADMODE", "BADNAME",
    "BADALG",  "BADTRUNC", "BADCOOKIE", "other",
};

static const char *const transport_names[STATS_TRANSPORTS] = {"udp", "tcp"};
static const char *const family_names[STATS_FAMILIES] = {"ipv4", "ipv6"};
static const char *const drop_names[STATS_DROPS] = {"udp_truncated", "short", "unanswerable",
                                                    "tcp_framing"};
static const char *const event_names[STATS_EVENTS] = {"accepted", "closed", "evicted"};

const char *
stats_label(enum stats_label kind, unsigned index)
{
    static const struct {
        const char *const *names;
        unsigned count;
    } tables[] = {
        [STATS_LABEL_RCODE] = {rcode_names, STATS_RCODES},
        [STATS_LABEL_TRANSPORT] = {transport_names, STATS_TRANSPORTS},
        [STATS_LABEL_FAMILY] = {family_names, STATS_FAMILIES},
        [STATS_LABEL_DROP] = {drop_names, STATS_DROPS},
        [STATS_LABEL_EVENT] = {event_names, STATS_EVENTS},
    };
    if (kind == STATS_LABEL_QTYPE)
        return index < STATS_QTYPES - 1 ? qtypes[index].name : "other";
    return index < tables[kind].count ? tables[kind].names[index] : "other";
}

/* Cache-line aligned, zeroed memory: calloc promises only 16 bytes of alignment. */
static void *
aligned_zalloc(size_t size)
{
    size = (size + STATS_CACHE_LINE - 1) / STATS_CACHE_LINE * STATS_CACHE_LINE;
    void *p = aligned_alloc(STATS_CACHE_LINE, size ? size : STATS_CACHE_LINE);
    if (!p) {
        fprintf(stderr, "fatal: out of memory allocating counters\n");
        abort();
    }
    memset(p, 0, size ? size : STATS_CACHE_LINE);
    return p;
}

struct stats *
stats_new(unsigned workers)
{
    struct stats *st = xcalloc(1, sizeof(*st));
    st->worker_count = workers;
    st->workers = aligned_zalloc(workers * sizeof(*st->workers));
    return st;
}

void
stats_free(struct stats *st)
{
    if (!st)
        return;
    free(st->workers);
    free(st);
}

/* The qtype's index: one load from a table of the types below 256 holding index + 1 of
 * the type in qtypes[] (0: "other"), CAA apart. Kept in step with qtypes[] by hand; the
 * unit test checks every named type round-trips (test_qtype_labels). */
static const uint8_t qtype_slot[256] = {
    [1] = 1,   [2] = 2,   [5] = 3,   [6] = 4,    [12] = 5,   [15] = 6,
    [16] = 7,  [28] = 8,  [33] = 9,  [35] = 10,  [43] = 11,  [48] = 12,
    [64] = 13, [65] = 14, [99] = 15, [251] = 16, [252] = 17, [255] = 18,
};

static unsigned
qtype_index(uint16_t type)
{
    if (type < 256)
        return qtype_slot[type] ? qtype_slot[type] - 1u : STATS_QTYPES - 1;
    return type == 257 ? STATS_QTYPES - 2 : STATS_QTYPES - 1; /* CAA is the last named */
}

unsigned
stats_qtype_index(uint16_t type)
{
    return qtype_index(type);
}

void
stats_count(struct stats_worker *ws, struct stats_steer *steer, unsigned worker,
            const struct dns_result *r, bool tcp, int family, size_t len)
{
    unsigned t = tcp ? STATS_TCP : STATS_UDP;
    if (family == AF_INET || family == AF_INET6)
        stats_inc(&ws->queries[t][family == AF_INET ? STATS_IPV4 : STATS_IPV6]);
    if (r->transfer) {
        /* Answered by the transfer code (xfr_serve), which counts its outcomes per zone. */
        stats_inc(&ws->transfers[r->qtype == 251 ? 1 : 0]);
        stats_inc(&ws->qtype[qtype_index(r->qtype)]);
        return;
    }
    if (len == 0) {
        stats_inc(&ws->dropped[STATS_DROP_UNANSWERABLE]);
        return;
    }
    stats_inc(&ws->qtype[qtype_index(r->qtype)]);
    stats_inc(&ws->rcode[r->rcode < STATS_RCODES - 1 ? r->rcode : STATS_RCODES - 1]);
    stats_add(&ws->response_bytes[t], len);
    if (r->rcode == 1) /* FORMERR: RFC 1035 §4.1.1 */
        stats_inc(&ws->malformed);
    if (r->edns)
        stats_inc(&ws->edns);
    if (r->truncated)
        stats_inc(&ws->truncated);
    if (r->ecs)
        stats_inc(&ws->ecs_present);
    if (!r->steered)
        return;
    stats_inc(&ws->steered);
    /* RFC 7871 §7.2.1: a scope above 0 says the answer depends on the client's subnet. */
    if (r->ecs && r->decision.scope > 0)
        stats_inc(&ws->ecs_used);
    if (r->decision.failed_open)
        stats_inc(&ws->failed_open);
    const struct dns_decision *d = &r->decision;
    if (!steer || !steer->set || d->service >= steer->set->count)
        return;
    uint64_t *seg = steer->counts + (size_t)worker * steer->stride;
    stats_inc(&seg[steer->service_base[d->service]]);
    const struct policy_service *svc = &steer->set->services[d->service];
    if (d->pool < 0 || (uint32_t)d->pool >= svc->pool_count)
        return;
    uint32_t pool_slot = steer->pool_base[d->service][d->pool];
    stats_inc(&seg[pool_slot]);
    const struct policy_pool *pool = &svc->pools[d->pool];
    if (d->member && d->member >= pool->members && d->member < pool->members + pool->member_count)
        stats_inc(&seg[pool_slot + 1 + (uint32_t)(d->member - pool->members)]);
}

void
stats_sum(const struct stats *st, struct stats_totals *out)
{
    memset(out, 0, sizeof(*out));
    for (unsigned w = 0; w < st->worker_count; w++) {
        const struct stats_worker *ws = &st->workers[w];
        for (unsigned t = 0; t < STATS_TRANSPORTS; t++) {
            for (unsigned f = 0; f < STATS_FAMILIES; f++)
                out->queries[t][f] += stats_load(&ws->queries[t][f]);
            out->response_bytes[t] += stats_load(&ws->response_bytes[t]);
        }
        for (unsigned i = 0; i < STATS_QTYPES; i++)
            out->qtype[i] += stats_load(&ws->qtype[i]);
        for (unsigned i = 0; i < STATS_RCODES; i++)
            out->rcode[i] += stats_load(&ws->rcode[i]);
        out->edns += stats_load(&ws->edns);
        out->ecs_present += stats_load(&ws->ecs_present);
        out->ecs_used += stats_load(&ws->ecs_used);
        out->truncated += stats_load(&ws->truncated);
        out->malformed += stats_load(&ws->malformed);
        out->steered += stats_load(&ws->steered);
        out->failed_open += stats_load(&ws->failed_open);
        for (unsigned i = 0; i < 2; i++)
            out->transfers[i] += stats_load(&ws->transfers[i]);
        for (unsigned i = 0; i < STATS_DROPS; i++)
            out->dropped[i] += stats_load(&ws->dropped[i]);
        for (unsigned i = 0; i < STATS_EVENTS; i++)
            out->events[i] += stats_load(&ws->events[i]);
    }
}

/* --- per service, pool and member ---------------------------------------------------------- */

struct stats_steer *
stats_steer_new(const struct policy_set *set, unsigned workers)
{
    struct stats_steer *ss = xcalloc(1, sizeof(*ss));
    ss->set = set;
    ss->worker_count = workers;
    uint32_t services = set ? set->count : 0;
    ss->service_base = xcalloc(services ? services : 1, sizeof(*ss->service_base));
    ss->pool_base = xcalloc(services ? services : 1, sizeof(*ss->pool_base));
    /* Layout: service, then per pool the pool and its members, service after service. */
    size_t slot = 0;
    for (uint32_t s = 0; s < services; s++) {
        const struct policy_service *svc = &set->services[s];
        ss->service_base[s] = (uint32_t)slot++;
        ss->pool_base[s] = xcalloc(svc->pool_count ? svc->pool_count : 1, sizeof(uint32_t));
        for (uint32_t p = 0; p < svc->pool_count; p++) {
            ss->pool_base[s][p] = (uint32_t)slot;
            slot += 1 + svc->pools[p].member_count;
        }
    }
    ss->slot_count = slot;
    size_t per_line = STATS_CACHE_LINE / sizeof(uint64_t);
    ss->stride = (slot + per_line - 1) / per_line * per_line;
    if (ss->stride == 0)
        ss->stride = per_line;
    ss->counts = aligned_zalloc((size_t)workers * ss->stride * sizeof(uint64_t));
    ss->carried = xcalloc(slot ? slot : 1, sizeof(uint64_t));
    return ss;
}

void
stats_steer_free(struct stats_steer *ss)
{
    if (!ss)
        return;
    uint32_t services = ss->set ? ss->set->count : 0;
    for (uint32_t s = 0; s < services; s++)
        free(ss->pool_base[s]);
    free(ss->pool_base);
    free(ss->service_base);
    free(ss->counts);
    free(ss->carried);
    free(ss);
}

/* Carried plus every worker's count of one slot. */
static uint64_t
slot_total(const struct stats_steer *ss, size_t slot)
{
    uint64_t n = stats_load(&ss->carried[slot]);
    for (unsigned w = 0; w < ss->worker_count; w++)
        n += stats_load(&ss->counts[(size_t)w * ss->stride + slot]);
    return n;
}

uint64_t
stats_steer_service(const struct stats_steer *ss, uint32_t s)
{
    return slot_total(ss, ss->service_base[s]);
}

uint64_t
stats_steer_pool(const struct stats_steer *ss, uint32_t s, uint32_t p)
{
    return slot_total(ss, ss->pool_base[s][p]);
}

uint64_t
stats_steer_member(const struct stats_steer *ss, uint32_t s, uint32_t p, uint32_t m)
{
    return slot_total(ss, ss->pool_base[s][p] + 1 + m);
}

/* A member's name: its address or CNAME target as the health target prints it. */
static const char *
member_name(const struct policy_set *set, const struct policy_member *m)
{
    return m->health_id < set->health_count ? set->health_targets[m->health_id].text : "";
}

static void
carry_pool(struct stats_steer *to, uint32_t ts, uint32_t tp, const struct stats_steer *from,
           uint32_t fs, uint32_t fp)
{
    const struct policy_pool *tpool = &to->set->services[ts].pools[tp];
    const struct policy_pool *fpool = &from->set->services[fs].pools[fp];
    __atomic_store_n(&to->carried[to->pool_base[ts][tp]], stats_steer_pool(from, fs, fp),
                     __ATOMIC_RELAXED);
    for (uint32_t m = 0; m < tpool->member_count; m++) {
        const char *name = member_name(to->set, &tpool->members[m]);
        for (uint32_t k = 0; k < fpool->member_count; k++) {
            if (strcmp(name, member_name(from->set, &fpool->members[k])) != 0)
                continue;
            __atomic_store_n(&to->carried[to->pool_base[ts][tp] + 1 + m],
                             stats_steer_member(from, fs, fp, k), __ATOMIC_RELAXED);
            break;
        }
    }
}

void
stats_steer_carry(struct stats_steer *to, const struct stats_steer *from)
{
    if (!to->set || !from || !from->set)
        return;
    for (uint32_t s = 0; s < to->set->count; s++) {
        const struct policy_service *tsvc = &to->set->services[s];
        const struct policy_service *fsvc =
            policy_set_find(from->set, tsvc->owner, tsvc->owner_len);
        if (!fsvc)
            continue;
        uint32_t fs = (uint32_t)(fsvc - from->set->services);
        __atomic_store_n(&to->carried[to->service_base[s]], stats_steer_service(from, fs),
                         __ATOMIC_RELAXED);
        for (uint32_t p = 0; p < tsvc->pool_count; p++)
            for (uint32_t q = 0; q < fsvc->pool_count; q++)
                if (strcmp(tsvc->pools[p].name, fsvc->pools[q].name) == 0) {
                    carry_pool(to, s, p, from, fs, q);
                    break;
                }
    }
}
