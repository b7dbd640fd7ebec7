// SPDX-License-Identifier: MIT
/* Signing a compiled zone (see dnssec_zone.h). Order: keys, the records the signer owns at
 * the apex (DNSKEY, CDS, CDNSKEY), the NSEC3 chain and NSEC3PARAM, then one job per RRset to
 * sign, spread over threads that each write into their own arena. Loader thread. */
#include "dnssec/dnssec_zone.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/dnswire.h"
#include "common/log.h"
#include "dnssec/dnssec_sigstore.h"
#include "dnssec/dnssec_sign.h"
#include "dnssec/typebitmap.h"

/* RFC 4035 §5.3.1 checks the validity window against the resolver's clock: start it an hour
 * back so a resolver whose clock is behind ours does not see a signature from the future. */
#define INCEPTION_BACKDATE_S 3600
#define MAX_THREADS 64

struct sign_job {
    const uint8_t *owner;
    struct zone_rrset *set;
    const struct zone_rrset *previous; /* the same RRset in the zone this one replaces */
    bool sep;                          /* signed by the key-signing keys (apex DNSKEY, CDS...) */
};

struct signer {
    const struct dnssec_sign_params *p;
    const struct zone *zone;
    struct dnssec_zone *dz;
    struct sign_job *jobs;
    size_t job_count;
};

struct worker {
    struct signer *s;
    struct dnssec_signer *signer; /* this thread's OpenSSL contexts, reused per signature */
    unsigned index, stride;
    struct arena *arena;
    uint32_t earliest, signed_sets, reused_sets, signatures;
    char err[DNSSEC_ERR_MAX];
    int rc;
};

/* The records the signer owns: a zone file's own are replaced (a pre-signed zone loaded with
 * `dnssec: true` is signed anew; its old signatures would not match our keys). */
static const uint16_t signer_types[] = {DNS_TYPE_RRSIG,      DNS_TYPE_NSEC, DNS_TYPE_NSEC3,
                                        DNS_TYPE_NSEC3PARAM, DNS_TYPE_DNSKEY, DNS_TYPE_CDS,
                                        DNS_TYPE_CDNSKEY};

static size_t
rdata_bytes(const struct zone_rrset *set)
{
    size_t pos = 0;
    for (uint16_t i = 0; i < set->count; i++)
        pos += 2u + dnswire_get16(set->rdata + pos);
    return pos;
}

static bool
same_rrset(const struct zone_rrset *a, const struct zone_rrset *b)
{
    if (a->type != b->type || a->ttl != b->ttl || a->count != b->count)
        return false;
    size_t n = rdata_bytes(a);
    return n == rdata_bytes(b) && memcmp(a->rdata, b->rdata, n) == 0;
}

/* One RRset of records built from `parts` (each with its length) into the zone's arena. */
static void
add_apex_rrset(struct zone *zone, uint16_t type, uint32_t ttl, const uint8_t *const *parts,
               const size_t *lens, unsigned n)
{
    if (n == 0)
        return;
    size_t total = 0;
    for (unsigned i = 0; i < n; i++)
        total += 2 + lens[i];
    uint8_t *rd = arena_alloc(&zone->arena, total, 1);
    size_t pos = 0;
    for (unsigned i = 0; i < n; i++) {
        dnswire_put16(rd + pos, (uint16_t)lens[i]);
        memcpy(rd + pos + 2, parts[i], lens[i]);
        pos += 2 + lens[i];
    }
    struct zone_rrset set = {.type = type, .count = (uint16_t)n, .ttl = ttl, .rdata = rd};
    zone_node_add_rrset(zone, &zone->nodes[0], &set);
}

/* Each key's roles (dnssec_roll.h): from the rollover state when it names two keys of the
 * zone, else from the key's kind. */
static void
assign_roles(struct dnssec_zone *dz, const struct zone *zone)
{
    const struct dnssec_keyset *keys = &dz->keys;
    bool zsk_present = false;
    for (size_t i = 0; i < keys->count; i++)
        zsk_present = zsk_present || !dnssec_key_is_sep(keys->keys[i]);
    if (dz->roll.phase != DNSSEC_ROLL_NONE && !dnssec_roll_keys_present(&dz->roll, keys)) {
        log_warning("%s: the rollover state names key %u or %u, which the key directory lacks: "
                    "ignored, every key has the roles of its kind",
                    zone->file, dz->roll.old_tag, dz->roll.new_tag);
        dz->roll_void = true;
    }
    const struct dnssec_roll *roll = dz->roll_void ? NULL : &dz->roll;
    dz->roles = xcalloc(keys->count + 1, sizeof(*dz->roles));
    for (size_t i = 0; i < keys->count; i++) {
        const struct dnssec_key *k = keys->keys[i];
        /* Only the rollover's own algorithm: another algorithm's key with the same tag
         * keeps its kind's roles. */
        const struct dnssec_roll *r = roll && roll->algorithm == k->algorithm ? roll : NULL;
        dz->roles[i] = (uint8_t)dnssec_roll_roles(r, k->tag, dnssec_key_is_sep(k), zsk_present);
    }
}

/* RFC 4034 §2 DNSKEY for the published keys, RFC 7344 §3-4 CDS/CDNSKEY for the keys the
 * parent's DS should point at; who signs what (struct dnssec_zone). */
static int
add_key_records(struct signer *s, struct zone *zone, char err[DNSSEC_ERR_MAX])
{
    struct dnssec_zone *dz = s->dz;
    const struct dnssec_keyset *keys = &dz->keys;
    const uint8_t *dnskey[DNSSEC_MAX_KEYS], *cdnskey[DNSSEC_MAX_KEYS], *cds[DNSSEC_MAX_KEYS];
    size_t dnskey_len[DNSSEC_MAX_KEYS], cdnskey_len[DNSSEC_MAX_KEYS], cds_len[DNSSEC_MAX_KEYS];
    uint8_t ds[DNSSEC_MAX_KEYS][DNSSEC_DS_RDATA_MAX];
    unsigned n = 0, sep = 0;
    assign_roles(dz, zone);
    for (size_t i = 0; i < keys->count; i++) {
        const struct dnssec_key *k = keys->keys[i];
        unsigned roles = dz->roles[i];
        if ((roles & DNSSEC_ROLE_PUBLISH) && n < DNSSEC_MAX_KEYS) {
            dnskey[n] = k->rdata;
            dnskey_len[n++] = k->rdata_len;
        }
        if ((roles & DNSSEC_ROLE_CDS) && sep < DNSSEC_MAX_KEYS) {
            int len = dnssec_ds_rdata(zone->origin, k->rdata, k->rdata_len, DNSSEC_DIGEST_SHA256,
                                      ds[sep], sizeof(ds[sep]));
            if (len < 0) {
                snprintf(err, DNSSEC_ERR_MAX, "%s: cannot compute the DS of key %u",
                         zone->file, k->tag);
                return -1;
            }
            cds[sep] = ds[sep];
            cds_len[sep] = (size_t)len;
            cdnskey[sep] = k->rdata;
            cdnskey_len[sep] = k->rdata_len;
            dz->cds_keys[sep++] = k;
        }
        if ((roles & DNSSEC_ROLE_SIGN_KEYS) && dz->sep_count < DNSSEC_MAX_KEYS)
            dz->sep_keys[dz->sep_count++] = k;
        if ((roles & DNSSEC_ROLE_SIGN_ZONE) && dz->zone_count < DNSSEC_MAX_KEYS)
            dz->zone_keys[dz->zone_count++] = k;
    }
    dz->cds_count = sep;
    if (dz->sep_count == 0 || n == 0) {
        snprintf(err, DNSSEC_ERR_MAX, "%s: no key signs the DNSKEY RRset", zone->file);
        return -1;
    }
    /* RFC 4034 §2: DNSKEY TTL is the operator's choice; the SOA's keeps it in step with the
     * zone's own caching. */
    uint32_t ttl = zone->soa->ttl;
    dz->dnskey_ttl = ttl;
    add_apex_rrset(zone, DNS_TYPE_DNSKEY, ttl, dnskey, dnskey_len, n);
    add_apex_rrset(zone, DNS_TYPE_CDS, ttl, cds, cds_len, sep);
    add_apex_rrset(zone, DNS_TYPE_CDNSKEY, ttl, cdnskey, cdnskey_len, sep);
    return 0;
}

static void
add_job(struct signer *s, size_t *cap, const uint8_t *owner, struct zone_rrset *set,
        const struct zone_rrset *previous, bool sep)
{
    if (s->job_count == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        s->jobs = xrealloc(s->jobs, *cap * sizeof(*s->jobs));
    }
    s->jobs[s->job_count++] =
        (struct sign_job){.owner = owner, .set = set, .previous = previous, .sep = sep};
    /* RFC 7583 TTLsig: how long a cached signature may outlive the key that made it. */
    if (set->ttl > s->dz->max_ttl)
        s->dz->max_ttl = set->ttl;
}

/* Steered nodes' NSEC3 records without each type their policy answers (struct
 * dnssec_denial), in node order (the chain's node map gives each node's entry). */
static int
build_denials(struct dnssec_zone *dz, const struct zone *zone, char err[DNSSEC_ERR_MAX])
{
    static const struct {
        uint8_t bit;
        uint16_t type;
    } steer[] = {{ZONE_STEER_A, DNS_TYPE_A},
                 {ZONE_STEER_AAAA, DNS_TYPE_AAAA},
                 {ZONE_STEER_CNAME, DNS_TYPE_CNAME}};
    uint32_t cap = 0;
    for (uint32_t i = 0; i < zone->node_count; i++)
        if (zone->nodes[i].steer_types)
            cap += 3;
    dz->denials = xcalloc(cap + 1, sizeof(*dz->denials));
    for (uint32_t i = 0; i < zone->node_count; i++) {
        const struct zone_node *node = &zone->nodes[i];
        const struct nsec3_entry *e = node->steer_types ? nsec3_chain_node(&dz->chain, zone, node)
                                                        : NULL;
        for (size_t t = 0; e && t < sizeof(steer) / sizeof(steer[0]); t++) {
            if (!(node->steer_types & steer[t].bit))
                continue;
            /* RFC 5155 §3.2: hash alg, flags, iterations, salt length and salt, hash length
             * and next hashed owner, then the type bit map. */
            const uint8_t *rd = e->rrset.rdata + 2;
            size_t rdlen = dnswire_get16(e->rrset.rdata);
            size_t map_at = 5u + rd[4];
            map_at += 1u + rd[map_at];
            uint8_t *copy = arena_alloc(&dz->arena, 2 + map_at + TYPEBITMAP_MAX, 1);
            int map_len = typebitmap_without(rd + map_at, rdlen - map_at, steer[t].type,
                                             copy + 2 + map_at, TYPEBITMAP_MAX);
            if (map_len < 0) {
                snprintf(err, DNSSEC_ERR_MAX, "%s: a malformed NSEC3 type bit map", zone->file);
                return -1;
            }
            memcpy(copy + 2, rd, map_at);
            dnswire_put16(copy, (uint16_t)(map_at + (size_t)map_len));
            struct dnssec_denial *d = &dz->denials[dz->denial_count++];
            d->node = i;
            d->without = steer[t].type;
            d->entry = *e;
            d->entry.rrset.rdata = copy;
            d->entry.rrset.rrsig = NULL;
        }
    }
    return 0;
}

const struct nsec3_entry *
dnssec_zone_steered_denial(const struct dnssec_zone *dz, uint32_t node, uint16_t type)
{
    uint32_t lo = 0, hi = dz->denial_count;
    while (lo < hi) { /* the first denial of `node` */
        uint32_t mid = lo + (hi - lo) / 2;
        if (dz->denials[mid].node < node)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < dz->denial_count && dz->denials[lo].node == node; lo++)
        if (dz->denials[lo].without == type)
            return &dz->denials[lo].entry;
    return NULL;
}

/* RFC 4035 §2.2: every authoritative RRset is signed; NS at a delegation and glue are not
 * (RFC 4035 §2.2: "NS RRsets that appear at delegation points ... MUST NOT" be signed). */
/* The RRset at owner in the version this one replaces: previous's (from_previous, found by
 * the caller), else the store's equal one; NULL if there is none. */
static const struct zone_rrset *
earlier(const struct signer *s, const struct zone_rrset *from_previous, const uint8_t *owner,
        const struct zone_rrset *set)
{
    if (s->p->previous)
        return from_previous;
    return s->p->stored ? dnssec_sigstore_find(s->p->stored, owner, set) : NULL;
}

static void
collect_jobs(struct signer *s, struct zone *zone)
{
    const struct zone *prev = s->p->previous;
    const struct nsec3_chain *prev_chain = prev && prev->dnssec ? &prev->dnssec->chain : NULL;
    size_t cap = 0;
    for (uint32_t i = 0; i < zone->node_count; i++) {
        struct zone_node *node = &zone->nodes[i];
        if (node->flags & ZONE_NODE_NONAUTH)
            continue;
        const struct zone_node *old =
            prev && prev->dnssec ? zone_lookup(prev, node->name, node->name_len) : NULL;
        for (uint16_t r = 0; r < node->rrset_count; r++) {
            struct zone_rrset *set = &node->rrsets[r];
            if ((node->flags & ZONE_NODE_DELEGATION) && set->type != DNS_TYPE_DS)
                continue;
            bool sep = i == 0 && (set->type == DNS_TYPE_DNSKEY || set->type == DNS_TYPE_CDS ||
                                  set->type == DNS_TYPE_CDNSKEY);
            add_job(s, &cap, node->name, set,
                    earlier(s, old ? zone_node_rrset(old, set->type) : NULL, node->name, set),
                    sep);
        }
    }
    for (uint32_t d = 0; d < s->dz->denial_count; d++) {
        struct dnssec_denial *denial = &s->dz->denials[d];
        const struct zone_node *node = &zone->nodes[denial->node];
        const struct zone_node *old =
            prev && prev->dnssec ? zone_lookup(prev, node->name, node->name_len) : NULL;
        const struct nsec3_entry *old_entry =
            old ? dnssec_zone_steered_denial(prev->dnssec, (uint32_t)(old - prev->nodes),
                                             denial->without)
                : NULL;
        add_job(s, &cap, denial->entry.owner, &denial->entry.rrset,
                earlier(s, old_entry ? &old_entry->rrset : NULL, denial->entry.owner,
                        &denial->entry.rrset),
                false);
    }
    for (uint32_t e = 0; e < s->dz->chain.count; e++) {
        struct nsec3_entry *entry = &s->dz->chain.entries[e];
        const struct nsec3_entry *old = prev_chain ? nsec3_chain_match(prev_chain, entry->hash)
                                                   : NULL;
        add_job(s, &cap, entry->owner, &entry->rrset,
                earlier(s, old ? &old->rrset : NULL, entry->owner, &entry->rrset), false);
    }
}

/* The most an expiration is moved ahead of now + validity: RFC 6781 §4.4.2.2 spreads them
 * (a tenth of the validity), but never so far that a new signature would be due for refresh
 * (a quarter of validity - refresh at most: see can_reuse). */
uint32_t
dnssec_zone_spread(uint32_t validity_s, uint32_t refresh_s)
{
    uint32_t spread = validity_s / 10;
    uint32_t room = validity_s > refresh_s ? (validity_s - refresh_s) / 4 : 0;
    return spread < room ? spread : room;
}

/* RFC 6781 §4.4.2.2: spread expirations; the same RRset gets the same offset every time. */
static uint32_t
expiration_for(const struct dnssec_zone *dz, const uint8_t *owner, uint16_t type, time_t now)
{
    uint32_t h = dname_hash(owner, dname_wire_length(owner, DNAME_MAX_LEN));
    h = (h ^ type) * 2654435761u;
    return (uint32_t)now + dz->validity_s - h % (dz->spread_s + 1);
}

/* The keys that sign an RRset: see struct dnssec_zone. */
static const struct dnssec_key *const *
signing_keys(const struct dnssec_zone *dz, bool sep, unsigned *n)
{
    if (sep || dz->zone_count == 0) {
        *n = dz->sep_count;
        return dz->sep_keys;
    }
    *n = dz->zone_count;
    return dz->zone_keys;
}

/* An RRSIG RRset in the arena, its RDATA (len bytes) right behind the struct: the answer path
 * reads both for every signed RRset it writes, and one block lets it fetch them together
 * (zone_rrset_prefetch_rrsig) instead of missing the cache on the struct and then on the
 * RDATA it points to. */
static const struct zone_rrset *
new_rrsig(struct arena *arena, uint16_t count, uint32_t ttl, const uint8_t *rdata, size_t len)
{
    struct zone_rrset *sig = arena_alloc(arena, sizeof(*sig) + len, _Alignof(struct zone_rrset));
    uint8_t *rd = (uint8_t *)(sig + 1);
    memcpy(rd, rdata, len);
    *sig = (struct zone_rrset){.type = DNS_TYPE_RRSIG, .count = count, .ttl = ttl, .rdata = rd};
    return sig;
}

int
dnssec_zone_sign_rrset(const struct dnssec_zone *dz, struct dnssec_signer *signer,
                       const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rdata,
                       uint16_t count, bool sep, time_t now, struct arena *arena,
                       const struct zone_rrset **out, uint32_t *expiration,
                       char err[DNSSEC_ERR_MAX])
{
    struct dnssec_signer *own = signer ? NULL : dnssec_signer_new();
    int ret = -1;
    unsigned nkeys;
    const struct dnssec_key *const *keys = signing_keys(dz, sep, &nkeys);
    /* Signed on the stack, kept at its size: an ECDSA RRSIG is ~100 bytes of the 339 room
     * a signer name of 255 bytes needs (a million records would waste ~350 MiB). */
    uint8_t rd[DNSSEC_MAX_KEYS * (2 + DNSSEC_RRSIG_RDATA_MAX)];
    uint32_t exp = expiration_for(dz, owner, type, now);
    uint32_t inception = (uint32_t)(now - INCEPTION_BACKDATE_S);
    size_t pos = 0;
    for (unsigned k = 0; k < nkeys; k++) {
        int len = dnssec_signer_sign_rrset(signer ? signer : own, keys[k], owner, type,
                                           DNS_CLASS_IN, ttl, rdata, count, inception, exp,
                                           dz->origin, rd + pos + 2, DNSSEC_RRSIG_RDATA_MAX);
        if (len < 0) {
            char name[DNAME_TEXT_MAX], tname[DNSWIRE_TYPE_TEXT_MAX];
            dname_to_text(owner, name, sizeof(name));
            snprintf(err, DNSSEC_ERR_MAX, "cannot sign %.300s %s with key %u (error %d)", name,
                     dnswire_type_text(type, tname), keys[k]->tag, len);
            goto out;
        }
        dnswire_put16(rd + pos, (uint16_t)len);
        pos += 2u + (size_t)len;
    }
    *out = new_rrsig(arena, (uint16_t)nkeys, ttl, rd, pos);
    *expiration = exp;
    ret = 0;
out:
    dnssec_signer_free(own);
    return ret;
}

/* The previous version's signatures, if they are by exactly our keys and not due for
 * refresh. */
static bool
can_reuse(const struct signer *s, const struct sign_job *job)
{
    unsigned nkeys;
    const struct dnssec_key *const *keys = signing_keys(s->dz, job->sep, &nkeys);
    const struct zone_rrset *old = job->previous;
    if (!old || !old->rrsig || old->rrsig->count != nkeys || !same_rrset(old, job->set))
        return false;
    const uint8_t *p = old->rrsig->rdata;
    for (uint16_t i = 0; i < old->rrsig->count; i++) {
        uint16_t len = dnswire_get16(p);
        const uint8_t *rd = p + 2;
        uint32_t expiration = dnswire_get32(rd + 8);
        uint16_t tag = dnswire_get16(rd + 16);
        /* Less than refresh left, or so little more that the jitter would make it due in
         * the next moments: made anew with the rest of its batch, so re-signing comes once
         * per validity period for the whole zone rather than a little every minute. */
        if ((int64_t)expiration - (int64_t)s->p->now <=
            (int64_t)s->p->refresh_s + (int64_t)s->dz->spread_s)
            return false;
        bool ours = false;
        for (unsigned k = 0; k < nkeys && !ours; k++)
            ours = keys[k]->tag == tag && keys[k]->algorithm == rd[2];
        if (!ours)
            return false;
        p += 2u + len;
    }
    return true;
}

/* Collects the jobs under the serial to serve (see dnssec_zone_sign in dnssec_zone.h).
 * Secondaries fetch only a serial newer than theirs (RFC 1034 §4.3.5): signatures
 * made anew under the old serial would never reach them, and their copies would expire. */
static void
collect_with_serial(struct signer *s, struct zone *zone)
{
    const struct zone *prev = s->p->previous;
    const struct dnssec_sigstore *stored = prev ? NULL : s->p->stored;
    bool known = prev || stored;
    uint32_t served = prev ? prev->serial : stored ? dnssec_sigstore_serial(stored) : 0;
    s->dz->file_serial = zone->serial;
    if (known && !dnswire_serial_before(served, zone->serial))
        zone_set_serial(zone, served); /* the SOA is then equal to the one served */
    collect_jobs(s, zone);
    bool same = known && zone->serial == served;
    for (size_t i = 0; same && i < s->job_count; i++)
        same = can_reuse(s, &s->jobs[i]);
    /* The SOA's job sees the new serial: its RDATA differs now, so it is signed anew. */
    if (!same && known && zone->serial == served)
        zone_set_serial(zone, served + 1);
    s->dz->changed = !same;
}

static int
sign_one(struct worker *w, const struct sign_job *job)
{
    const struct signer *s = w->s;
    if (can_reuse(s, job)) {
        const struct zone_rrset *old = job->previous->rrsig;
        const struct zone_rrset *sig =
            new_rrsig(w->arena, old->count, job->set->ttl, old->rdata, rdata_bytes(old));
        for (size_t i = 0, pos = 0; i < old->count; i++) {
            uint32_t exp = dnswire_get32(old->rdata + pos + 2 + 8);
            if (exp < w->earliest)
                w->earliest = exp;
            pos += 2u + dnswire_get16(old->rdata + pos);
        }
        w->reused_sets++;
        w->signatures += sig->count;
        job->set->rrsig = sig;
        return 0;
    }
    uint32_t exp;
    char err[DNSSEC_ERR_MAX];
    if (dnssec_zone_sign_rrset(s->dz, w->signer, job->owner, job->set->type, job->set->ttl,
                               job->set->rdata, job->set->count, job->sep, s->p->now, w->arena,
                               &job->set->rrsig, &exp, err) < 0) {
        snprintf(w->err, sizeof(w->err), "%.100s: %.400s", s->zone->file, err);
        return -1;
    }
    if (exp < w->earliest)
        w->earliest = exp;
    w->signed_sets++;
    w->signatures += job->set->rrsig->count;
    return 0;
}

static void *
sign_worker(void *arg)
{
    struct worker *w = arg;
    w->signer = dnssec_signer_new();
    for (size_t i = w->index; i < w->s->job_count && w->rc == 0; i += w->stride)
        w->rc = sign_one(w, &w->s->jobs[i]);
    dnssec_signer_free(w->signer);
    w->signer = NULL;
    return NULL;
}

static int
sign_jobs(struct signer *s, char err[DNSSEC_ERR_MAX])
{
    unsigned threads = s->p->threads;
    if (threads == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus > 0 ? (unsigned)cpus : 1;
    }
    /* Small zones are not worth a thread. */
    if (threads > s->job_count / 256 + 1)
        threads = (unsigned)(s->job_count / 256 + 1);
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    struct dnssec_zone *dz = s->dz;
    dz->arenas = xcalloc(threads, sizeof(*dz->arenas));
    dz->arena_count = threads;
    struct worker *w = xcalloc(threads, sizeof(*w));
    pthread_t *tids = xcalloc(threads, sizeof(*tids));
    bool *started = xcalloc(threads, sizeof(*started));
    for (unsigned t = 0; t < threads; t++) {
        arena_init(&dz->arenas[t]);
        w[t] = (struct worker){.s = s, .index = t, .stride = threads, .arena = &dz->arenas[t],
                               .earliest = UINT32_MAX};
        /* Thread 0 is this one: a zone signs even where no thread can be made. */
        started[t] = t > 0 && pthread_create(&tids[t], NULL, sign_worker, &w[t]) == 0;
    }
    sign_worker(&w[0]);
    for (unsigned t = 1; t < threads; t++) {
        if (started[t])
            pthread_join(tids[t], NULL);
        else
            sign_worker(&w[t]);
    }
    int rc = 0;
    dz->earliest_expiration = UINT32_MAX;
    for (unsigned t = 0; t < threads; t++) {
        if (w[t].rc < 0 && rc == 0) {
            snprintf(err, DNSSEC_ERR_MAX, "%s", w[t].err);
            rc = -1;
        }
        if (w[t].earliest < dz->earliest_expiration)
            dz->earliest_expiration = w[t].earliest;
        dz->signed_rrsets += w[t].signed_sets;
        dz->reused_rrsets += w[t].reused_sets;
        dz->signatures += w[t].signatures;
    }
    free(started);
    free(tids);
    free(w);
    return rc;
}

int
dnssec_zone_sign(struct zone *zone, const struct dnssec_sign_params *p, struct dnssec_zone **out,
                 char err[DNSSEC_ERR_MAX])
{
    struct dnssec_zone *dz = xcalloc(1, sizeof(*dz));
    struct signer s = {.p = p, .zone = zone, .dz = dz};
    dz->origin = zone->origin;
    dz->validity_s = p->validity_s;
    dz->refresh_s = p->refresh_s;
    dz->spread_s = dnssec_zone_spread(p->validity_s, p->refresh_s);
    arena_init(&dz->arena);
    dnssec_variants_init(&dz->variants, p->variants);
    int rc = -1;
    *out = NULL;

    if (dnssec_keystore_load(p->key_directory, zone->origin, p->algorithm, p->split_keys,
                             &dz->keys, err) < 0 ||
        dnssec_roll_load(p->key_directory, zone->origin, &dz->roll, err) < 0)
        goto out;
    size_t before = zone->record_count;
    zone_drop_types(zone, signer_types, sizeof(signer_types) / sizeof(signer_types[0]));
    if (zone->record_count != before)
        log_warning("%s: %zu DNSSEC records of the zone file (RRSIG, NSEC, NSEC3, DNSKEY, "
                    "CDS, CDNSKEY, NSEC3PARAM) are ignored: the zone is signed with `dnssec`",
                    zone->file, before - zone->record_count);
    if (add_key_records(&s, zone, err) < 0)
        goto out;
    static const uint16_t apex_extra[] = {DNS_TYPE_NSEC3PARAM};
    char nerr[NSEC3_ERR_MAX];
    if (nsec3_chain_build(zone, &p->nsec3, apex_extra, 1, &dz->chain, nerr) < 0) {
        snprintf(err, DNSSEC_ERR_MAX, "%s: NSEC3: %s", zone->file, nerr);
        goto out;
    }
    zone_node_add_rrset(zone, &zone->nodes[0], &dz->chain.param);
    if (build_denials(dz, zone, err) < 0)
        goto out;
    collect_with_serial(&s, zone);
    if (sign_jobs(&s, err) < 0)
        goto out;
    nsec3_chain_render_wire(&dz->chain);
    zone->dnssec = dz;
    rc = 0;
out:
    free(s.jobs);
    if (rc < 0) {
        dnssec_zone_free(dz);
        dz = NULL;
    }
    *out = dz;
    return rc;
}

void
dnssec_zone_free(struct dnssec_zone *dz)
{
    if (!dz)
        return;
    nsec3_chain_fini(&dz->chain);
    dnssec_variants_fini(&dz->variants);
    free(dz->denials);
    arena_fini(&dz->arena);
    dnssec_keyset_fini(&dz->keys);
    free(dz->roles);
    for (unsigned t = 0; t < dz->arena_count; t++)
        arena_fini(&dz->arenas[t]);
    free(dz->arenas);
    free(dz);
}

uint32_t
dnssec_zone_earliest_expiration(struct dnssec_zone *dz)
{
    uint32_t variants, ttl;
    dnssec_variants_stats(&dz->variants, &variants, &ttl);
    return variants < dz->earliest_expiration ? variants : dz->earliest_expiration;
}
