/* SPDX-License-Identifier: MIT */
/* Query counters (ARCHITECTURE.md §17). Each worker owns one cache-line-aligned block
 * (struct stats_worker) and adds to it with plain increments: no lock, no atomic
 * read-modify-write, no cache line shared with another worker on the query path. Readers
 * (the HTTP thread, the control thread) sum the blocks when asked; a sum read while workers
 * count is a moment's view, each counter monotonic.
 *
 * Counters per service, pool and member live in a struct stats_steer sized from one
 * snapshot's policy set (services, pools, members are indexed arrays there). A reload builds a
 * new one; stats_steer_carry copies the old totals into the new one by name (service, service
 * + pool, service + pool + member address or target), so a counter keeps growing across
 * reloads while its name exists and disappears with it. Workers write only their own segment
 * of it, each segment starting on its own cache line.
 *
 * Depends on dns.h's struct dns_result (read, not called) and libc. */
#ifndef MERIDIAN_STATS_STATS_H
#define MERIDIAN_STATS_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns.h"
#include "policy/policy.h"

#define STATS_CACHE_LINE 64

/* Query types counted by name; every other type counts as "other" (the last index). */
#define STATS_QTYPES 20
/* Response codes 0..23 (RFC 6895 §2.3: 4-bit rcodes and the extended ones up to BADCOOKIE);
 * any higher one counts as "other" (the last index). */
#define STATS_RCODES 25

enum stats_transport { STATS_UDP = 0, STATS_TCP, STATS_TRANSPORTS };
enum stats_family { STATS_IPV4 = 0, STATS_IPV6, STATS_FAMILIES };

/* Messages that got no answer, by why. */
enum stats_drop {
    STATS_DROP_UDP_TRUNCATED = 0, /* a datagram larger than the receive buffer (net/) */
    STATS_DROP_SHORT,             /* shorter than a DNS header (net/) */
    STATS_DROP_UNANSWERABLE,      /* dns_answer gave nothing: a response (QR set), a header
                                     it cannot read */
    STATS_DROP_TCP_FRAMING,       /* a TCP length prefix out of bounds: connection closed */
    STATS_DROPS
};

/* What net/ and the server report outside an answer (enum net_event maps onto these). */
enum stats_event {
    STATS_EVENT_TCP_ACCEPTED = 0,
    STATS_EVENT_TCP_CLOSED,
    STATS_EVENT_TCP_EVICTED, /* closed to make room for a new connection */
    STATS_EVENTS
};

/* One worker's counters. Written only by its worker, read by anyone with relaxed loads. */
struct stats_worker {
    _Alignas(STATS_CACHE_LINE) uint64_t queries[STATS_TRANSPORTS][STATS_FAMILIES];
    uint64_t qtype[STATS_QTYPES];
    uint64_t rcode[STATS_RCODES];
    uint64_t response_bytes[STATS_TRANSPORTS];
    uint64_t edns;
    uint64_t ecs_present;  /* the query carried a usable ECS option (RFC 7871) */
    uint64_t ecs_used;     /* ... and the answer depended on it (steered, scope > 0) */
    uint64_t truncated;    /* TC sent */
    uint64_t malformed;    /* answered FORMERR */
    uint64_t steered;      /* answers a policy chose */
    uint64_t failed_open;  /* ... with every candidate down (all_down applied) */
    uint64_t transfers[2]; /* AXFR, IXFR requests handed to the transfer code */
    uint64_t dropped[STATS_DROPS];
    uint64_t events[STATS_EVENTS];
};

/* Everything summed over the workers. */
struct stats_totals {
    uint64_t queries[STATS_TRANSPORTS][STATS_FAMILIES];
    uint64_t qtype[STATS_QTYPES];
    uint64_t rcode[STATS_RCODES];
    uint64_t response_bytes[STATS_TRANSPORTS];
    uint64_t edns, ecs_present, ecs_used, truncated, malformed, steered, failed_open;
    uint64_t transfers[2];
    uint64_t dropped[STATS_DROPS];
    uint64_t events[STATS_EVENTS];
};

struct stats {
    unsigned worker_count;
    struct stats_worker *workers; /* worker_count blocks, each on its own cache lines */
};

/* Allocated once at start, before the workers run; freed after they stopped. */
struct stats *stats_new(unsigned workers);
void stats_free(struct stats *st);

static inline struct stats_worker *
stats_worker_get(struct stats *st, unsigned worker)
{
    return &st->workers[worker];
}

/* Adds one to a counter its worker owns. Relaxed load and store, not a read-modify-write:
 * the same instructions as `(*p)++`, but a concurrent reader's load is not a data race. */
static inline void
stats_inc(uint64_t *p)
{
    __atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

static inline void
stats_add(uint64_t *p, uint64_t n)
{
    __atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static inline uint64_t
stats_load(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* Counters per service, pool and member of one snapshot's policy set. */
struct stats_steer {
    const struct policy_set *set; /* borrowed: lives as long as the snapshot */
    unsigned worker_count;
    size_t slot_count;      /* counters per worker */
    size_t stride;          /* counters per worker segment, a whole number of cache lines */
    uint32_t *service_base; /* per service: its slot; its pools' slots follow (pool_base) */
    uint32_t **pool_base;   /* [service][pool]: the pool's slot; its members' follow */
    uint64_t *counts;       /* worker_count * stride, cache-line aligned */
    uint64_t *carried;      /* slot_count: what earlier sets counted under the same names
                               (stats_steer_carry), written by the main thread only */
};

/* Sized from `set` (NULL: no services, nothing counted) for `workers` workers. Main thread,
 * at snapshot build. */
struct stats_steer *stats_steer_new(const struct policy_set *set, unsigned workers);
void stats_steer_free(struct stats_steer *ss);

/* The totals of service s, pool p of s, member m of that pool (over every worker). */
uint64_t stats_steer_service(const struct stats_steer *ss, uint32_t s);
uint64_t stats_steer_pool(const struct stats_steer *ss, uint32_t s, uint32_t p);
uint64_t stats_steer_member(const struct stats_steer *ss, uint32_t s, uint32_t p, uint32_t m);

/* Reload: sets `to`'s carried counts to the totals of `from` (its own carried counts
 * included) wherever the service, pool and member names match; a name `from` lacks starts at
 * zero, one `to` lacks is gone. The values are assigned, never added, so the main thread calls
 * it twice: before publishing `to` (readers never see the new set without its past) and again
 * after synchronize_rcu (what workers counted into `from` meanwhile); each call only raises
 * the values. Main thread. */
void stats_steer_carry(struct stats_steer *to, const struct stats_steer *from);

/* The one call per query, on worker `ws` after dns_answer: what the result says, the
 * transport, the client's address family (AF_INET, AF_INET6; others not counted by
 * family), and the response length (0: nothing sent, counted as dropped unless it is a
 * transfer). `steer` may be NULL. No allocation, no lock. */
void stats_count(struct stats_worker *ws, struct stats_steer *steer, unsigned worker,
                 const struct dns_result *r, bool tcp, int family, size_t len);

/* An event outside an answer (net/: drops, TCP connections). */
static inline void
stats_event(struct stats_worker *ws, enum stats_event e)
{
    stats_inc(&ws->events[e]);
}

static inline void
stats_drop(struct stats_worker *ws, enum stats_drop d)
{
    stats_inc(&ws->dropped[d]);
}

/* Sums every worker's block into *out. Any thread. */
void stats_sum(const struct stats *st, struct stats_totals *out);

/* Label values: the counted query types ("A", ..., "other"), rcodes ("NOERROR", ...,
 * "RCODE12", "BADCOOKIE", "other"), transports, families, drop reasons, TCP events. */
enum stats_label {
    STATS_LABEL_QTYPE,
    STATS_LABEL_RCODE,
    STATS_LABEL_TRANSPORT,
    STATS_LABEL_FAMILY,
    STATS_LABEL_DROP,
    STATS_LABEL_EVENT,
};
const char *stats_label(enum stats_label kind, unsigned index);
/* The index of a query type among the counted ones (STATS_QTYPES - 1: other). */
unsigned stats_qtype_index(uint16_t type);

#endif
