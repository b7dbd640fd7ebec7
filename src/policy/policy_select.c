// SPDX-License-Identifier: MIT
/* The steering decision on the query path (see policy.h). Pure and allocation-free: the
 * caller passes the health table and one random number per query. */
#include <math.h>
#include <string.h>

#include "common/dnswire.h"
#include "policy/policy.h"

/* Failing open overrides what probes say, never what an operator decided: members forced
 * down in the config or drained stay out. */
static bool
member_usable(const struct policy_member *m, const struct health_table *health, bool fail_open)
{
    if (m->forced_down || health_drained(health, m->health_id))
        return false;
    return fail_open || health_get(health, m->health_id) != HEALTH_DOWN;
}

static bool
member_matches(const struct policy_member *m, int family)
{
    return family == 0 || m->family == family;
}

/* splitmix64 finaliser: a well-mixed 64-bit hash step. */
static uint64_t
mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t
subnet_hash(const struct policy_client *client, int prefix)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)client->family;
    int bytes = client->family == 4 ? 4 : 16;
    for (int i = 0; i < bytes; i++) {
        int bit = i * 8;
        uint8_t b = client->addr[i];
        if (bit >= prefix)
            b = 0;
        else if (bit + 8 > prefix)
            b &= (uint8_t)(0xFF << (8 - (prefix - bit)));
        h = mix64(h ^ b ^ ((uint64_t)i << 8));
    }
    return h;
}

/* Picks from pool p into out per the service's select mode. Returns the number picked. */
static uint32_t
pick(const struct policy_service *svc, const struct policy_pool *pool,
     const struct policy_client *client, int family, const struct health_table *health,
     bool fail_open, uint64_t random, struct policy_answer *out)
{
    uint32_t n = 0;
    switch (svc->select) {
    case POLICY_SELECT_ALL:
    case POLICY_SELECT_FIRST_N: {
        uint32_t limit = svc->select == POLICY_SELECT_ALL ? POLICY_MAX_ANSWER : svc->first_n;
        if (limit > POLICY_MAX_ANSWER)
            limit = POLICY_MAX_ANSWER;
        for (uint32_t i = 0; i < pool->member_count && n < limit; i++) {
            const struct policy_member *m = &pool->members[i];
            if (member_matches(m, family) && member_usable(m, health, fail_open))
                out->members[n++] = m;
        }
        return n;
    }
    case POLICY_SELECT_WEIGHTED: {
        uint64_t total = 0;
        for (uint32_t i = 0; i < pool->member_count; i++) {
            const struct policy_member *m = &pool->members[i];
            if (member_matches(m, family) && member_usable(m, health, fail_open))
                total += m->weight;
        }
        if (total == 0)
            return 0;
        uint64_t r = random % total;
        for (uint32_t i = 0; i < pool->member_count; i++) {
            const struct policy_member *m = &pool->members[i];
            if (!member_matches(m, family) || !member_usable(m, health, fail_open))
                continue;
            if (r < m->weight) {
                out->members[0] = m;
                return 1;
            }
            r -= m->weight;
        }
        return 0;
    }
    case POLICY_SELECT_STICKY: {
        /* Weighted rendezvous hashing: each member scores -w / ln(u) with u uniform from
         * hash(subnet, member); the best score wins, so when a member goes down only the
         * subnets it held move, and they spread by weight over the rest. */
        int prefix = client->family == 6 ? svc->sticky_prefix_v6 : svc->sticky_prefix_v4;
        uint64_t base = client->family ? subnet_hash(client, prefix) : 0;
        double best = -1.0;
        for (uint32_t i = 0; i < pool->member_count; i++) {
            const struct policy_member *m = &pool->members[i];
            if (!member_matches(m, family) || !member_usable(m, health, fail_open))
                continue;
            uint64_t h = mix64(base ^ m->key);
            double u = ((double)(h >> 11) + 0.5) * (1.0 / 9007199254740992.0);
            double score = -(double)m->weight / log(u);
            if (score > best) {
                best = score;
                out->members[0] = m;
            }
        }
        return best >= 0 ? 1 : 0;
    }
    }
    return 0;
}

/* Caps out->ttl_s at the stable time of every checked member of pools [0, last] of the
 * order: any of them changing state could change this answer (a member coming back in an
 * earlier pool, a chosen one failing, the weighted set changing). */
static void
cap_ttl(const struct policy_service *svc, const struct policy_order *order, uint32_t last,
        const struct health_table *health, uint32_t now_s, struct policy_answer *out)
{
    if (!health)
        return;
    for (uint32_t i = 0; i <= last && i < order->count; i++) {
        const struct policy_pool *pool = &svc->pools[order->pools[i]];
        for (uint32_t m = 0; m < pool->member_count; m++) {
            if (pool->members[m].forced_down)
                continue;
            uint32_t stable = health_stable_for(health, pool->members[m].health_id, now_s);
            if (stable < out->ttl_s)
                out->ttl_s = stable > 0 ? stable : 1;
        }
    }
}

/* The answer from pool order out->order (already chosen) on. */
static void
select_in_order(const struct policy_service *svc, const struct policy_client *client,
                int family, const struct health_table *health, uint64_t random, uint32_t now_s,
                struct policy_answer *out)
{
    if (svc->select == POLICY_SELECT_STICKY && client->family) {
        /* The answer depends on the hashed subnet: never claim a wider scope. */
        int prefix = client->family == 6 ? svc->sticky_prefix_v6 : svc->sticky_prefix_v4;
        if (out->scope < prefix)
            out->scope = (uint8_t)prefix;
    }
    const struct policy_order *order = &svc->orders[out->order];
    for (uint32_t i = 0; i < order->count; i++) {
        const struct policy_pool *pool = &svc->pools[order->pools[i]];
        out->count = pick(svc, pool, client, family, health, false, random, out);
        if (out->count) {
            out->pool = (int32_t)order->pools[i];
            cap_ttl(svc, order, i, health, now_s, out);
            return;
        }
    }
    cap_ttl(svc, order, order->count, health, now_s, out);
    /* No member of the asked family in this client's pools at all: that is NODATA by
     * design, not an outage, so all_down does not apply. */
    bool any = false;
    for (uint32_t i = 0; i < order->count && !any; i++) {
        const struct policy_pool *pool = &svc->pools[order->pools[i]];
        for (uint32_t m = 0; m < pool->member_count && !any; m++)
            any = member_matches(&pool->members[m], family);
    }
    if (!any)
        return;
    /* Every candidate is down: the service's declared all_down behaviour. */
    out->failed_open = true;
    switch (svc->all_down) {
    case POLICY_ALL_DOWN_NODATA:
        return;
    case POLICY_ALL_DOWN_POOL:
        out->count = pick(svc, &svc->pools[svc->all_down_pool], client, family, health, true,
                          random, out);
        out->pool = out->count ? (int32_t)svc->all_down_pool : -1;
        return;
    case POLICY_ALL_DOWN_ALL:
        for (uint32_t i = 0; i < order->count; i++) {
            out->count = pick(svc, &svc->pools[order->pools[i]], client, family, health, true,
                              random, out);
            if (out->count) {
                out->pool = (int32_t)order->pools[i];
                return;
            }
        }
        return;
    }
}

static void
select_answer(const struct policy_service *svc, const struct policy_client *client,
              uint16_t qtype, const struct health_table *health, uint64_t random,
              uint32_t now_s, struct policy_answer *out)
{
    int family = svc->cname ? 0 : qtype == DNS_TYPE_AAAA ? 6 : 4;
    out->count = 0;
    out->ttl_s = svc->ttl_s;
    out->scope = 0;
    out->order = 0;
    out->pool = -1;
    out->failed_open = false;

    /* No member of the asked family: NODATA for everyone. */
    if ((family == 4 && !svc->has_v4) || (family == 6 && !svc->has_v6))
        return;

    if (svc->client_dependent && client->family) {
        int depth = 0;
        out->order = geo_tree_lookup(svc->tree, client->family, client->addr, &depth);
        if (out->order >= svc->order_count)
            out->order = 0;
        out->scope = (uint8_t)depth;
    }
    select_in_order(svc, client, family, health, random, now_s, out);
}

void
policy_select_order(const struct policy_service *svc, uint32_t order, uint16_t qtype,
                    const struct health_table *health, struct policy_answer *out)
{
    static const struct policy_client nobody;
    int family = svc->cname ? 0 : qtype == DNS_TYPE_AAAA ? 6 : 4;
    *out = (struct policy_answer){.ttl_s = svc->ttl_s, .order = order, .pool = -1};
    if (order >= svc->order_count || (family == 4 && !svc->has_v4) ||
        (family == 6 && !svc->has_v6))
        return;
    select_in_order(svc, &nobody, family, health, 0, 0, out);
}

size_t
policy_answer_rdata(const struct policy_service *svc, const struct policy_answer *ans,
                    uint8_t *out, size_t size)
{
    size_t pos = 0;
    for (uint32_t i = 0; i < ans->count; i++) {
        const struct policy_member *m = ans->members[i];
        size_t len = svc->cname ? (size_t)dname_wire_length(m->target, DNAME_MAX_LEN)
                                : (m->family == 4 ? 4u : 16u);
        if (pos + 2 + len > size)
            return 0;
        dnswire_put16(out + pos, (uint16_t)len);
        memcpy(out + pos + 2, svc->cname ? m->target : m->addr, len);
        pos += 2 + len;
    }
    return pos;
}

void
policy_select(const struct policy_service *svc, const struct policy_client *client,
              uint16_t qtype, const struct health_table *health, uint64_t random,
              uint32_t now_s, struct policy_answer *out)
{
    select_answer(svc, client, qtype, health, random, now_s, out);
    /* A NODATA answer (no member of the family in the client's pools, all_down: nodata, or
     * nothing left to fail open to) has scope 0 even where it depends on the client. RFC
     * 7871 §7.4: "Authoritative Nameservers should conservatively expect that Intermediate
     * Nameservers will treat all negative answers as /0 and therefore SHOULD set SCOPE
     * PREFIX-LENGTH accordingly." Its TTL (capped at the service's) bounds how long other
     * subnets may see it. */
    if (out->count == 0)
        out->scope = 0;
}

/* By name, for control commands and explanations. */
const struct policy_service *
policy_set_find(const struct policy_set *set, const uint8_t *lname, int len)
{
    if (!set || !set->slots)
        return NULL;
    for (uint32_t i = dname_hash(lname, len) & set->slot_mask;; i = (i + 1) & set->slot_mask) {
        uint32_t s = set->slots[i];
        if (s == UINT32_MAX)
            return NULL;
        const struct policy_service *svc = &set->services[s];
        if (svc->owner_len == len && memcmp(svc->owner, lname, (size_t)len) == 0)
            return svc;
    }
}
