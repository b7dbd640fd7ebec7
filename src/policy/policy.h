/* SPDX-License-Identifier: MIT */
/* Traffic steering policies (ARCHITECTURE.md §5). Built from the config's `services` and the
 * compiled GeoIP database on the loader thread into an immutable policy set; the query path
 * calls policy_select(), a pure function of the service, the client (source address or ECS
 * prefix), the health table and one random number: it picks the pool order (nets override ->
 * subdivision -> country -> continent -> default, all precompiled into one network tree per
 * service, or by distance for `order: nearest`), drops unhealthy members, falls through
 * empty pools, picks members (weighted, sticky, all, first_n) and reports the TTL and the
 * widest correct ECS scope. No allocation, no locks. A compiled service carries everything
 * selection needs; the config it came from is kept only for explanations. Building the set
 * from the config is policy_build.h. */
#ifndef MERIDIAN_POLICY_POLICY_H
#define MERIDIAN_POLICY_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/dname.h"
#include "geoip/geoip.h"
#include "health/health.h"

/* The config entries a policy came from: only explanations and health specs follow them. */
struct config_service;
struct config_member;

#define POLICY_MAX_ANSWER 32 /* records in one steered answer (`all` / `first_n`) */

struct policy_member {
    uint8_t family;                /* 4 or 6; 0 for CNAME members */
    uint8_t addr[16];              /* network order */
    const uint8_t *target;         /* CNAME members: wire name */
    uint32_t weight;
    uint32_t health_id;            /* index into the health table */
    uint64_t key;                  /* hash of the address or target: the member's identity
                                      for sticky rendezvous hashing, stable across reloads */
    bool forced_down;              /* `down: true` in the config */
    const struct config_member *cfg; /* for explanations and health specs */
};

struct policy_pool {
    const char *name;
    struct policy_member *members;
    uint32_t member_count;
};

/* A fallback order of pools. */
struct policy_order {
    const uint32_t *pools;
    uint32_t count;
    const char *why; /* what chose it, for explanations: "country DE", "default", ... */
};

/* How members are picked from a pool. */
enum policy_select_mode {
    POLICY_SELECT_WEIGHTED, /* one member, random by weight */
    POLICY_SELECT_STICKY,   /* one member, weighted rendezvous hash of the client subnet */
    POLICY_SELECT_ALL,      /* every healthy member */
    POLICY_SELECT_FIRST_N,  /* the first N healthy members in declared order */
};

/* What answers when every candidate is down. */
enum policy_all_down {
    POLICY_ALL_DOWN_ALL,    /* fail open: answer as if every member were up */
    POLICY_ALL_DOWN_NODATA,
    POLICY_ALL_DOWN_POOL,   /* answer from all_down_pool regardless of health */
};

struct policy_service {
    uint8_t owner[DNAME_MAX_LEN]; /* lowercased wire */
    int owner_len;
    const struct config_service *cfg; /* for explanations only */
    enum policy_select_mode select;   /* CNAME services: all/first_n act as weighted, since a
                                         CNAME RRset has one record (RFC 1034 §3.6.2) */
    uint32_t first_n;
    uint8_t sticky_prefix_v4, sticky_prefix_v6;
    enum policy_all_down all_down;
    uint32_t all_down_pool;
    uint32_t ttl_s;
    bool cname;
    bool has_v4, has_v6;
    struct policy_pool *pools;
    uint32_t pool_count;
    struct policy_order *orders; /* [0] is the default order */
    uint32_t order_count;
    bool client_dependent; /* nets, geo or nearest: the tree decides the order */
    const struct geo_tree *tree; /* leaf value: index into orders; owned by the set and
                                    shared by services whose rules map every location to
                                    the same order indices (and that have no nets) */
};

/* One health target: a distinct (address or CNAME target, check) pair of the members. */
struct policy_health_target {
    char *key;  /* "192.0.2.10|web-http": identity across reloads and in the state file */
    char *text; /* the address or target as printed ("192.0.2.10") */
    const struct config_member *member; /* the first member that uses it */
    bool wait_at_startup; /* some service using it starts with `startup: wait` */
    bool config_down;     /* every member using it is `down: true` in the config */
};

struct policy_set {
    struct policy_service *services;
    uint32_t count;
    uint32_t *slots; /* open-addressing index by owner hash; UINT32_MAX = empty */
    uint32_t slot_mask;
    struct policy_health_target *health_targets; /* indexed by health id */
    uint32_t health_count;
    struct geo_tree **trees; /* every distinct compiled tree */
    uint32_t tree_count;
};

/* The service owning `lname` (lowercased wire), or NULL. Off the query path: answers reach
 * their policy through the zone node (zone_node.steer). */
const struct policy_service *policy_set_find(const struct policy_set *set, const uint8_t *lname,
                                             int len);

/* Who is asking: the ECS prefix when the query carried one and the listener honours it,
 * else the packet's source address. */
struct policy_client {
    int family;       /* 4 or 6; 0 = no usable address (e.g. ECS source /0) */
    uint8_t addr[16]; /* bits beyond `bits` are zero */
    int bits;         /* ECS source prefix, or 32/128 */
    int scope_offset; /* an IPv4 address found inside an IPv6 one (mapped, compatible,
                         6to4): where it sat, to add back to an IPv4 scope on output */
};

/* An EDNS Client Subnet option as received (RFC 7871 §6). */
struct policy_ecs {
    uint16_t family;     /* 1 = IPv4, 2 = IPv6 (IANA address family numbers) */
    uint8_t source;      /* SOURCE PREFIX-LENGTH */
    const uint8_t *addr; /* at least (source + 7) / 8 bytes */
};

/* Who the policy answers: the ECS prefix when there is one (`ecs` non-NULL: the query carried
 * it and the listener honours it), else the packet's source address (AF_INET or AF_INET6,
 * NULL = none). Bits beyond the prefix are cleared and IPv4 addresses inside IPv6 (mapped,
 * compatible, 6to4) become IPv4, with scope_offset set. The one definition of the client,
 * for answers and explanations alike. */
void policy_client_init(struct policy_client *pc, const struct sockaddr *source,
                        const struct policy_ecs *ecs);

struct policy_answer {
    uint32_t count;                 /* 0 = NODATA */
    const struct policy_member *members[POLICY_MAX_ANSWER];
    uint32_t ttl_s;
    uint8_t scope;       /* ECS scope prefix length for the client's family */
    uint32_t order;      /* index into service->orders that decided */
    int32_t pool;        /* pool answered from, -1 if none */
    bool failed_open;    /* every candidate was down: all_down applied */
};

/* Answers qtype (1 = A, 28 = AAAA, anything for CNAME services) for `client` at monotonic
 * second now_s. The TTL is the service's, capped at the time until any member whose health
 * could change this answer may change state (never below 1 s), so caches follow health. */
void policy_select(const struct policy_service *svc, const struct policy_client *client,
                   uint16_t qtype, const struct health_table *health, uint64_t random,
                   uint32_t now_s, struct policy_answer *out);

/* The answer for clients whose location maps to pool order `order` (an index into
 * svc->orders), for the selection modes that do not depend on the client or on chance (all,
 * first_n): what a signer signs ahead of the queries. TTL not capped. */
void policy_select_order(const struct policy_service *svc, uint32_t order, uint16_t qtype,
                         const struct health_table *health, struct policy_answer *out);

/* The RDATA of the answer's records in zone layout (16-bit length, then the address or the
 * target name), as dns_answer writes them and a signer signs them. Returns the length, or 0
 * if it does not fit in size. */
size_t policy_answer_rdata(const struct policy_service *svc, const struct policy_answer *ans,
                           uint8_t *out, size_t size);

#endif
