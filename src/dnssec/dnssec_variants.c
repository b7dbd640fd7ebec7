// SPDX-License-Identifier: MIT
/* The steered answers' signature table (see dnssec_variants.h): open addressing by a 64-bit
 * hash of the content, linear probing, entries published once with release order and never
 * changed or removed while the table lives. */
#include "dnssec/dnssec_variants.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dnswire.h"
#include "common/log.h"
#include "dnssec/dnssec_zone.h"

struct dnssec_variant {
    _Atomic uint64_t key; /* 0 = empty; published last */
    const uint8_t *content; /* owner | type | ttl | rdata, as hashed */
    uint32_t content_len;
    const struct zone_rrset *rrsig;
};

/* Room for the owner, type, TTL and the largest steered RDATA: 32 AAAA records (policy.h
 * POLICY_MAX_ANSWER), or one CNAME. */
#define CONTENT_MAX (DNAME_MAX_LEN + 6 + 32 * (2 + 16))

static size_t
content_of(uint8_t *buf, const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rdata,
           size_t rdata_len)
{
    int olen = dname_wire_length(owner, DNAME_MAX_LEN);
    if (olen < 0 || (size_t)olen + 6 + rdata_len > CONTENT_MAX)
        return 0;
    memcpy(buf, owner, (size_t)olen);
    dnswire_put16(buf + olen, type);
    dnswire_put32(buf + olen + 2, ttl);
    memcpy(buf + olen + 6, rdata, rdata_len);
    return (size_t)olen + 6 + rdata_len;
}

/* FNV-1a, 64 bits; never 0 (the empty mark). */
static uint64_t
hash_of(const uint8_t *p, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h ? h : 1;
}

void
dnssec_variants_init(struct dnssec_variants *v, uint32_t expected)
{
    uint32_t size = 64;
    while (size < expected * 2 && size < (1u << 24))
        size *= 2;
    memset(v, 0, sizeof(*v));
    v->slots = xcalloc(size, sizeof(*v->slots));
    v->mask = size - 1;
    v->limit = size / 4 * 3;
    v->earliest_expiration = UINT32_MAX;
    pthread_mutex_init(&v->lock, NULL);
    arena_init(&v->arena);
}

void
dnssec_variants_fini(struct dnssec_variants *v)
{
    if (!v->slots)
        return;
    free(v->slots);
    arena_fini(&v->arena);
    pthread_mutex_destroy(&v->lock);
    memset(v, 0, sizeof(*v));
}

static const struct dnssec_variant *
find(const struct dnssec_variants *v, const uint8_t *content, size_t len, uint64_t key)
{
    for (uint32_t i = (uint32_t)key & v->mask;; i = (i + 1) & v->mask) {
        const struct dnssec_variant *e = &v->slots[i];
        uint64_t k = atomic_load_explicit(&e->key, memory_order_acquire);
        if (k == 0)
            return NULL;
        if (k == key && e->content_len == len && memcmp(e->content, content, len) == 0)
            return e;
    }
}

const struct zone_rrset *
dnssec_variants_find(const struct dnssec_variants *v, const uint8_t *owner, uint16_t type,
                     uint32_t ttl, const uint8_t *rdata, uint16_t count, size_t rdata_len)
{
    uint8_t content[CONTENT_MAX];
    (void)count;
    if (!v->slots)
        return NULL;
    size_t len = content_of(content, owner, type, ttl, rdata, rdata_len);
    if (len == 0)
        return NULL;
    const struct dnssec_variant *e = find(v, content, len, hash_of(content, len));
    return e ? e->rrsig : NULL;
}

int
dnssec_variants_sign(struct dnssec_variants *v, const struct dnssec_zone *dz,
                     const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rdata,
                     uint16_t count, size_t rdata_len, time_t now)
{
    uint8_t content[CONTENT_MAX];
    size_t len = content_of(content, owner, type, ttl, rdata, rdata_len);
    if (len == 0 || count == 0)
        return -1;
    uint64_t key = hash_of(content, len);
    int rc = 0;
    pthread_mutex_lock(&v->lock);
    if (find(v, content, len, key))
        goto out;
    if (v->used >= v->limit) {
        v->full++;
        rc = 1;
        goto out;
    }
    const struct zone_rrset *sig;
    uint32_t exp;
    char err[DNSSEC_ERR_MAX];
    /* A one-off signer: a few signatures per health change, under the writers' lock. */
    if (dnssec_zone_sign_rrset(dz, NULL, owner, type, ttl, rdata, count, false, now, &v->arena,
                               &sig, &exp, err) < 0) {
        log_error("dnssec: steered answer: %s", err);
        rc = -1;
        goto out;
    }
    uint32_t i = (uint32_t)key & v->mask;
    while (atomic_load_explicit(&v->slots[i].key, memory_order_relaxed) != 0)
        i = (i + 1) & v->mask;
    struct dnssec_variant *e = &v->slots[i];
    e->content = arena_memdup(&v->arena, content, len);
    e->content_len = (uint32_t)len;
    e->rrsig = sig;
    atomic_store_explicit(&e->key, key, memory_order_release);
    v->used++;
    if (exp < v->earliest_expiration)
        v->earliest_expiration = exp;
    if (ttl > v->max_ttl)
        v->max_ttl = ttl;
out:
    pthread_mutex_unlock(&v->lock);
    return rc;
}

void
dnssec_variants_stats(struct dnssec_variants *v, uint32_t *earliest, uint32_t *max_ttl)
{
    *earliest = UINT32_MAX;
    *max_ttl = 0;
    if (!v->slots)
        return;
    pthread_mutex_lock(&v->lock);
    *earliest = v->earliest_expiration;
    *max_ttl = v->max_ttl;
    pthread_mutex_unlock(&v->lock);
}
