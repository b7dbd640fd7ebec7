// SPDX-License-Identifier: MIT
/* Response rate limiting (see rrl.h): the shared bucket table and the per-worker counters.
 * A bucket is one 64-bit word: an 8-bit tag (more hash bits than the index, to tell most
 * colliding keys apart), the 32-bit millisecond time of its last refill and a 24-bit credit
 * in thousandths of a response. A response costs 1000 and every millisecond brings back
 * `rate` (exact integers, so no fraction is lost however often a bucket is hit), up to one
 * second's worth, so a quiet client may burst `rate` responses and a flood
 * gets `rate` per second. A key whose slot holds another key's bucket takes it over, full:
 * with a keyed hash and a table far larger than the busy keys that is rare, and it only ever
 * errs towards answering. The bucket's index and tag are the keyed SipHash of (client network,
 * lowercased name), mixed with the class by a fixed bijection, so the hash of a query's name
 * made before the answer (rrl_prefetch) serves every class that draws on that name. Worker
 * threads run rrl_prefetch and rrl_check concurrently; rrl_counters_sum runs on the control
 * thread. */
#include "rrl/rrl.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/dname.h"
#include "common/dnswire.h"
#include "common/log.h"
#include "common/sockaddr.h"

#define CREDIT_UNIT 1000u           /* one response; a millisecond at rate r earns r */
#define CREDIT_MAX ((1u << 24) - 1) /* the field's width: rate * 1000 must fit (rate <= 16000) */
/* The table is aligned to a huge page and offered to transparent huge pages: one TLB entry
 * for the default 2 MiB instead of 512, so a bucket's miss is one cache miss, not two. */
#define TABLE_ALIGN (2u << 20)

/* One worker's counters and slip state, alone on its cache lines. */
struct rrl_worker {
    _Alignas(64) _Atomic uint64_t counts[sizeof(struct rrl_counters) / sizeof(uint64_t)];
    uint32_t slip_count; /* limited responses so far: every slip-th one slips */
    uint64_t log_s;      /* the second a limiting was last logged */
};

struct rrl {
    _Atomic uint64_t *slots;
    uint32_t mask;
    unsigned workers;
    uint8_t key[crypto_shorthash_siphash24_KEYBYTES];
    struct rrl_worker *w;
};

static const char *const class_names[DNS_RESP_COUNT] = {
    "positive", "negative", "error", "referral", "large", "wildcard"};

const char *
rrl_class_name(enum dns_response_class cls)
{
    return (unsigned)cls < DNS_RESP_COUNT ? class_names[cls] : "?";
}

uint32_t
rrl_buckets_for(uint32_t table_size)
{
    uint32_t n = 1024;
    while (n < table_size && n < (1u << 30))
        n <<= 1;
    return n;
}

/* Zeroed memory aligned to `align` (a power of two dividing `size`), or abort. Memory of a
 * huge page's size and alignment is offered to transparent huge pages before it is touched. */
static void *
aligned_zalloc(size_t align, size_t size)
{
    void *p = aligned_alloc(align, size);
    if (!p) {
        fprintf(stderr, "fatal: out of memory allocating the rate limiting table\n");
        abort();
    }
    if (align == TABLE_ALIGN)
        (void)madvise(p, size, MADV_HUGEPAGE); /* a hint: no THP is not an error */
    memset(p, 0, size);
    return p;
}

struct rrl *
rrl_new(uint32_t table_size, unsigned workers, const uint8_t key[16])
{
    struct rrl *r = xcalloc(1, sizeof(*r));
    uint32_t n = rrl_buckets_for(table_size);
    size_t bytes = (size_t)n * sizeof(*r->slots);
    r->slots = aligned_zalloc(bytes < TABLE_ALIGN ? bytes : TABLE_ALIGN, bytes);
    r->mask = n - 1;
    r->workers = workers;
    memcpy(r->key, key, sizeof(r->key));
    /* calloc promises only 16-byte alignment; each worker's counters need their own line. */
    r->w = aligned_zalloc(_Alignof(struct rrl_worker), workers * sizeof(*r->w));
    return r;
}

void
rrl_free(struct rrl *rrl)
{
    if (!rrl)
        return;
    free(rrl->slots);
    free(rrl->w);
    free(rrl);
}

uint32_t
rrl_table_size(const struct rrl *rrl)
{
    return rrl->mask + 1;
}

/* Index of a counter in struct rrl_counters (all uint64_t, in order). */
#define COUNTER(field) (offsetof(struct rrl_counters, field) / sizeof(uint64_t))

/* One writer per worker: a relaxed load and store, no locked instruction. */
static void
bump(struct rrl_worker *w, size_t i)
{
    atomic_store_explicit(&w->counts[i], atomic_load_explicit(&w->counts[i], memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

/* The client's network (ipv4_prefix / ipv6_prefix) after its family into out; its length.
 * An IPv4-mapped IPv6 address counts as IPv4. */
static size_t
client_prefix(const struct sockaddr *sa, const struct config_rrl *cfg, uint8_t out[17])
{
    uint8_t addr[16];
    int family = sockaddr_ip(sa, addr);
    unsigned bits = family == 4 ? cfg->ipv4_prefix : cfg->ipv6_prefix;
    unsigned len = family == 4 ? 4 : 16;
    out[0] = (uint8_t)family;
    memset(out + 1, 0, len);
    memcpy(out + 1, addr, bits / 8);
    if (bits % 8)
        out[1 + bits / 8] = (uint8_t)(addr[bits / 8] & (0xFF00u >> (bits % 8)));
    return 1u + len;
}

/* Whether the address lies in one of the `exempt` prefixes (a handful: a linear scan), or
 * is a loopback address with exempt_loopback. Loopback sources cannot come from the network
 * (the kernel drops them as martians on other interfaces), so they are local processes: a
 * front end such as dnsdist on the same host, whose clients would otherwise all share one
 * budget, or a local resolver. */
static bool
exempt(const struct sockaddr *sa, const struct config_rrl *cfg)
{
    uint8_t addr[16];
    int family = sockaddr_ip(sa, addr);
    static const uint8_t v6_loopback[16] = {[15] = 1};
    if (cfg->exempt_loopback &&
        ((family == 4 && addr[0] == 127) || (family == 6 && !memcmp(addr, v6_loopback, 16))))
        return true;
    for (size_t i = 0; i < cfg->exempt_count; i++) {
        const struct config_prefix *p = &cfg->exempt[i];
        if (p->family == family && sockaddr_prefix_match(p->addr, p->prefix_len, addr))
            return true;
    }
    return false;
}

/* SipHash of the client's network and the name, lowercased (RFC 4343: case games do not
 * open new buckets), into *out; returns the name's length. `end`, if not NULL, bounds a name
 * not validated yet (a query's, before it is parsed): -1 if it is not a well-formed
 * uncompressed name there. A NULL name (errors) hashes the network alone: length 0. */
static int
name_hash(const struct rrl *rrl, const struct config_rrl *cfg, const struct sockaddr *client,
          const uint8_t *name, const uint8_t *end, uint64_t *out)
{
    uint8_t buf[17 + DNAME_MAX_LEN];
    size_t len = client_prefix(client, cfg, buf);
    size_t start = len;
    for (const uint8_t *n = name; n;) {
        if (end && (n >= end || (n[0] & 0xC0) || n + 1 + n[0] > end))
            return -1;
        uint8_t l = n[0];
        if (len - start + 1u + l > DNAME_MAX_LEN)
            return -1; /* only an unvalidated name can be this long */
        buf[len++] = l;
        for (unsigned i = 1; i <= l; i++) {
            uint8_t c = n[i];
            buf[len++] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
        }
        if (l == 0)
            break;
        n += 1u + l;
    }
    uint8_t h[8];
    crypto_shorthash_siphash24(h, buf, len, rrl->key);
    memcpy(out, h, sizeof(*out));
    return (int)(len - start);
}

/* The bucket hash of one class's budget for a name hash: a fixed bijection (the 64-bit
 * finalizer of MurmurHash3) of the keyed hash and the class, so the classes of one name fall
 * on unrelated slots that nobody without the key can predict. */
static uint64_t
class_hash(uint64_t name_h, enum dns_response_class cls)
{
    uint64_t x = name_h ^ ((uint64_t)cls + 1u) * 0x9E3779B97F4A7C15ull;
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDull;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ull;
    x ^= x >> 33;
    return x;
}

#define SLOT(tag, time, credit) (((uint64_t)(tag) << 56) | ((uint64_t)(time) << 24) | (credit))

/* Takes one response's credit from the bucket; false when it has none (over the rate). */
static bool
take(struct rrl *rrl, uint64_t hash, uint32_t rate, uint64_t now_ms)
{
    _Atomic uint64_t *slot = &rrl->slots[hash & rrl->mask];
    uint32_t tag = (uint32_t)(hash >> 56) | 1u; /* never 0: an empty slot is all zero */
    uint32_t now = (uint32_t)now_ms;
    uint64_t cap = (uint64_t)rate * CREDIT_UNIT;
    if (cap > CREDIT_MAX)
        cap = CREDIT_MAX;
    uint64_t old = atomic_load_explicit(slot, memory_order_relaxed);
    for (;;) {
        uint64_t credit = cap;
        uint32_t last = now;
        if ((old >> 56) == tag) {
            last = (uint32_t)(old >> 24);
            credit = old & CREDIT_MAX;
            /* Credit earned since the last refill: `rate` thousandths per millisecond. */
            uint64_t earned = (uint64_t)(uint32_t)(now - last) * rate;
            credit = credit + earned > cap ? cap : credit + earned;
            last = now;
        }
        bool ok = credit >= CREDIT_UNIT;
        if (ok)
            credit -= CREDIT_UNIT;
        uint64_t next = SLOT(tag, last, credit);
        if (next == old ||
            atomic_compare_exchange_weak_explicit(slot, &old, next, memory_order_relaxed,
                                                  memory_order_relaxed))
            return ok;
    }
}

/* The exemptions that need no answer: an `exempt` prefix or loopback. */
static bool
client_exempt(const struct sockaddr *client, const struct config_rrl *cfg)
{
    return (cfg->exempt_count || cfg->exempt_loopback) && exempt(client, cfg);
}

void
rrl_prefetch(const struct rrl *rrl, const struct config_rrl *cfg, const struct sockaddr *client,
             const uint8_t *query, size_t len, struct rrl_hint *hint)
{
    hint->name = NULL;
    hint->exempt = client_exempt(client, cfg);
    if (hint->exempt || len <= DNS_HEADER_LEN)
        return;
    const uint8_t *qname = query + DNS_HEADER_LEN, *end = query + len;
    int qlen = name_hash(rrl, cfg, client, qname, end, &hint->hash);
    if (qlen < 0)
        return;
    hint->name = qname;
    /* Most answers are positive and draw on the query's name; ANY is `large` (dns.h). The
     * QTYPE follows the name; a query too short for it is never answered positively. */
    const uint8_t *qtype = qname + qlen;
    bool any = end - qtype >= 2 && qtype[0] == 0 && qtype[1] == DNS_TYPE_ANY;
    uint64_t h = class_hash(hint->hash, any ? DNS_RESP_LARGE : DNS_RESP_POSITIVE);
    __builtin_prefetch(&rrl->slots[h & rrl->mask], 1, 3);
}

/* The line limiting logs (at most one per worker and second): who, what and how fast. */
static void
log_limiting(const struct config_rrl *cfg, const struct rrl_response *resp,
             enum dns_response_class cls)
{
    uint8_t net[17];
    char addr[INET6_ADDRSTRLEN] = "?", name[DNAME_TEXT_MAX] = "";
    (void)client_prefix(resp->client, cfg, net);
    bool v4 = net[0] == 4;
    inet_ntop(v4 ? AF_INET : AF_INET6, net + 1, addr, sizeof(addr));
    if (resp->name)
        dname_to_text(resp->name, name, sizeof(name));
    log_info("rrl: %s %s responses%s%s to %s/%u over %u/s%s",
             cfg->log_only ? "would limit" : "limiting", rrl_class_name(cls),
             resp->name ? " for " : "", name, addr, v4 ? cfg->ipv4_prefix : cfg->ipv6_prefix,
             cfg->rate, cfg->log_only ? " (log_only)" : "");
}

enum rrl_verdict
rrl_check(struct rrl *rrl, unsigned worker, const struct config_rrl *cfg,
          const struct rrl_response *resp, uint64_t now_ms)
{
    struct rrl_worker *w = &rrl->w[worker];
    const struct rrl_hint *hint = resp->hint;
    bump(w, COUNTER(responses));
    /* A valid server cookie proves the source address is the client's own (RFC 7873 §1):
     * nobody can be reflected at. */
    if (resp->cookie_valid) {
        bump(w, COUNTER(exempt_cookie));
        return RRL_SEND;
    }
    if (hint ? hint->exempt : client_exempt(resp->client, cfg)) {
        bump(w, COUNTER(exempt_prefix));
        return RRL_SEND;
    }
    enum dns_response_class cls = resp->cls;
    if (cls == DNS_RESP_POSITIVE && resp->size > cfg->large_size)
        cls = DNS_RESP_LARGE;
    /* The hint's hash is of the query's name: any class drawing on that name may use it. */
    uint64_t name_h;
    if (hint && hint->name && hint->name == resp->name)
        name_h = hint->hash;
    else
        (void)name_hash(rrl, cfg, resp->client, resp->name, NULL, &name_h);
    if (take(rrl, class_hash(name_h, cls), cfg->rate, now_ms))
        return RRL_SEND;

    bump(w, COUNTER(limited) + (size_t)cls);
    uint64_t now_s = now_ms / 1000u;
    if (w->log_s != now_s) {
        /* At most one line per worker and second: the log must not become the flood. */
        w->log_s = now_s;
        log_limiting(cfg, resp, cls);
    }
    if (cfg->log_only) {
        bump(w, COUNTER(would_limit));
        return RRL_SEND;
    }
    if (cfg->slip && ++w->slip_count % cfg->slip == 0) {
        bump(w, COUNTER(slipped));
        return RRL_SLIP;
    }
    bump(w, COUNTER(dropped));
    return RRL_DROP;
}

void
rrl_counters_sum(const struct rrl *rrl, struct rrl_counters *out)
{
    uint64_t sum[sizeof(struct rrl_counters) / sizeof(uint64_t)] = {0};
    for (unsigned i = 0; i < rrl->workers; i++)
        for (size_t j = 0; j < sizeof(sum) / sizeof(sum[0]); j++)
            sum[j] += atomic_load_explicit(&rrl->w[i].counts[j], memory_order_relaxed);
    memcpy(out, sum, sizeof(*out));
}
