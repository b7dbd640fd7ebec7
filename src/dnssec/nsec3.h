/* SPDX-License-Identifier: MIT */
/* NSEC3 (RFC 5155) for a compiled zone: the hash of names (§5), the chain of NSEC3 records
 * built from the zone's nodes (§7.1) with the parameters RFC 9276 §3.1 recommends (SHA-1,
 * no extra iterations, no salt, no opt-out; salt and iterations only for tests and
 * operators who insist), and the denial-of-existence proofs the answer path adds to negative
 * and wildcard answers (§7.2).
 *
 * The chain is built on the loader thread next to the zone it describes (it holds node
 * indexes of that zone) and lives in one arena, freed by nsec3_chain_fini(). It is immutable
 * afterwards: the lookups and proofs read it from any thread without locks or allocation.
 *
 * Cost on the query path: nsec3_hash is (iterations + 1) SHA-1 computations over the name
 * and salt (a few hundred ns with the RFC 9276 defaults). Names that exist in the zone find
 * their NSEC3 through the node map without hashing, so a NODATA or referral proof hashes
 * nothing, a wildcard answer or wildcard NODATA hashes one name (the next closer name), an
 * NXDOMAIN one (the next closer name: the record covering the wildcard at the closest
 * encloser is found when the chain is built, per node, RFC 5155 §7.2.2). Each proof also walks
 * the query name from the apex with one zone_lookup per label, as dns_answer does, unless the
 * caller already did (nsec3_prove_nxdomain_at). */
#ifndef MERIDIAN_DNSSEC_NSEC3_H
#define MERIDIAN_DNSSEC_NSEC3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/alloc.h"
#include "zone/zone.h"

#define NSEC3_ALG_SHA1 1   /* RFC 5155 §11: the only hash algorithm */
#define NSEC3_HASH_LEN 20  /* SHA-1 output */
#define NSEC3_B32_LEN 32   /* base32hex of a hash, unpadded (RFC 5155 §3.3) */
#define NSEC3_SALT_MAX 255 /* one length octet (RFC 5155 §3.2) */
/* RFC 9276 §3.2: validators may treat more iterations as insecure or bogus, and each one is
 * paid for on every negative answer; the builder refuses more than this. */
#define NSEC3_ITERATIONS_MAX 100
#define NSEC3_ERR_MAX 256
/* NSEC3PARAM in Meridian's RDATA form: 16-bit length, alg, flags, iterations, salt. */
#define NSEC3PARAM_RDATA_MAX (2 + 5 + NSEC3_SALT_MAX)
#define NSEC3_PROOF_MAX 3

/* The chain's parameters. All zero is RFC 9276 §3.1: 0 extra iterations, empty salt. The
 * hash algorithm is always SHA-1 and the flags always 0 (no opt-out, RFC 9276 §3.1). */
struct nsec3_params {
    uint16_t iterations;
    uint8_t salt_len;
    uint8_t salt[NSEC3_SALT_MAX];
};

/* RFC 5155 §5: IH(salt, name, iterations), name in canonical (lowercased wire) form. The
 * caller lowercases (query names are lowercased by the parser). No allocation, no locks. */
void nsec3_hash(const uint8_t *lname, const struct nsec3_params *p, uint8_t out[NSEC3_HASH_LEN]);

/* RFC 4648 §7 base32hex of `len` octets, lowercase and without padding (RFC 5155 §3.3), and
 * a NUL, into out. Returns the number of characters, or -1 if out_size is too small (it
 * needs (len * 8 + 4) / 5 + 1). */
int nsec3_base32hex(const uint8_t *in, size_t len, char *out, size_t out_size)
    __attribute__((warn_unused_result));

/* One NSEC3 record of the chain. */
struct nsec3_entry {
    uint8_t hash[NSEC3_HASH_LEN]; /* of the original owner name */
    uint8_t owner_len;
    const uint8_t *owner; /* wire: the base32hex label of hash, then the zone's origin */
    uint32_t node;        /* the original owner: index into zone->nodes */
    /* type NSEC3, one record: 16-bit length, then alg 1, flags 0, iterations, salt, the next
     * hashed owner (20 octets) and the type bit map (RFC 5155 §3.2); TTL min(SOA TTL, SOA
     * MINIMUM) (RFC 9077 §3.3). A signer signs it as it stands. */
    struct zone_rrset rrset;
};

struct nsec3_chain {
    struct nsec3_params params;
    struct nsec3_entry *entries; /* sorted by hash: the chain's order (RFC 5155 §3.1.7) */
    /* The first 8 octets of each entry's hash as a big-endian number: what the binary
     * search reads, 8 bytes apart instead of one entry (a cache line or two) apart. */
    uint64_t *prefix;
    /* An index by the top `bucket_bits` bits of the prefix (about log2(count)): the entries
     * whose prefix starts with b are bucket[b] .. bucket[b + 1] - 1, so a search looks at one
     * or two entries on average instead of log2(count). 2^bucket_bits + 1 elements. */
    uint32_t *bucket;
    unsigned bucket_bits;
    uint32_t count;
    uint32_t *node_entry; /* per zone node: index into entries, or ZONE_NONE */
    /* Per zone node: index of the entry covering the hash of "*.<node>" (RFC 5155 §7.2.2:
     * the wildcard at a closest encloser does not exist), found at build time so a name error
     * hashes one name instead of two; ZONE_NONE where no name error can have the node as
     * closest encloser (not in the chain, a delegation, or the wildcard exists). */
    uint32_t *wildcard_cover;
    uint32_t node_count; /* zone->node_count when built */
    /* Each signed entry and its RRSIGs as response bytes (RFC 1035 §4.1.3), so a proof is
     * one copy (nsec3_chain_render_wire, after signing; NULL before): entry i's slot is at
     * wire + i * wire_stride, its length (16 bits, 0 = none), then the owner as its hashed
     * label and a 2-byte compression pointer to be set to where the origin is, type NSEC3 to
     * RDATA at rrset.ttl, then each RRSIG record with its owner a 2-byte pointer to be set
     * to the start of the copy (dns_writer_wire_below sets both). Fixed-size slots, so the
     * answer path can prefetch an entry's bytes as soon as a proof names it. */
    uint8_t *wire;
    size_t wire_stride;
    /* The apex NSEC3PARAM (RFC 5155 §4), one record; TTL as the NSEC3 records. */
    struct zone_rrset param;
    struct arena arena; /* everything above */
};

/* Builds the chain of zone `z` (RFC 5155 §7.1): one NSEC3 per authoritative name, i.e. per
 * node not flagged ZONE_NODE_NONAUTH: the apex, names with data, empty non-terminals,
 * delegation points (signed or not: no opt-out), wildcards under their literal "*" name.
 * Type bit maps: the node's RRset types (RRSIG, NSEC, NSEC3 in the file are not counted);
 * at a delegation only NS and DS; the types of steer_types at steered nodes; the
 * extra_apex_types (n entries: DNSKEY, NSEC3PARAM, CDS, ... the signer adds) at the apex;
 * RRSIG wherever something is signed (every name with data, a delegation only with DS).
 * Returns 0, or -1 with err set: parameters out of range, an origin too long for hashed
 * owner names, NSEC3 records already in the zone, or two names with the same hash (RFC
 * 5155 §7.1: choose another salt). The chain must not outlive the zone. */
int nsec3_chain_build(const struct zone *z, const struct nsec3_params *p,
                      const uint16_t *extra_apex_types, size_t n, struct nsec3_chain *out,
                      char err[NSEC3_ERR_MAX]) __attribute__((warn_unused_result));
/* Fills the chain's `wire` slots (in its arena): call once its records carry their RRSIGs
 * (rrset.rrsig), before the chain is shared. Costs about 192 bytes per entry with one ECDSA
 * or Ed25519 signature (the largest entry's size, rounded up to 64, for every entry). */
void nsec3_chain_render_wire(struct nsec3_chain *c);
/* Frees what nsec3_chain_build allocated (one arena); safe on a zeroed chain. */
void nsec3_chain_fini(struct nsec3_chain *c);

/* Writes the NSEC3PARAM record of p (RFC 5155 §4.2: alg 1, flags 0) in Meridian's RDATA
 * form (16-bit length, then RDATA) into out. Returns the bytes written, or -1 if size is
 * too small (NSEC3PARAM_RDATA_MAX always suffices). */
int nsec3_param_rdata(const struct nsec3_params *p, uint8_t *out, size_t size)
    __attribute__((warn_unused_result));

/* --- query path: pure, no allocation, no locks ----------------------------------------- */

/* Entry e's response bytes (struct nsec3_chain.wire) and their length, or NULL: none made,
 * or e is not one of c's entries (a steered denial's record). */
static inline const uint8_t *
nsec3_chain_wire(const struct nsec3_chain *c, const struct nsec3_entry *e, size_t *len)
{
    if (!c->wire || e < c->entries || e >= c->entries + c->count)
        return NULL;
    const uint8_t *slot = c->wire + (size_t)(e - c->entries) * c->wire_stride;
    *len = (size_t)slot[0] << 8 | slot[1];
    return *len ? slot + 2 : NULL;
}

/* Starts loading entry e's response bytes into the cache: a proof's records are then fetched
 * from memory at once, not one after the other while the response is written.
 * always_inline: prefetches have no side effects GCC must keep, so GCC 12 at -O2 found a
 * plain inline function of them pure and deleted every call before inlining it, and nothing
 * was fetched (tests/unit/dnssec/prefetch_kept.cmake compiles a caller and checks). */
static inline __attribute__((always_inline)) void
nsec3_chain_prefetch(const struct nsec3_chain *c, const struct nsec3_entry *e)
{
    if (!c->wire || e < c->entries || e >= c->entries + c->count)
        return;
    const uint8_t *slot = c->wire + (size_t)(e - c->entries) * c->wire_stride;
    for (size_t line = 0; line < c->wire_stride; line += 64)
        __builtin_prefetch(slot + line);
}

/* The first 8 octets of a hash as a big-endian number (struct nsec3_chain.prefix). */
static inline uint64_t
nsec3_hash_prefix(const uint8_t hash[NSEC3_HASH_LEN])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | hash[i];
    return v;
}

/* The entry whose hash equals `hash` (binary search), or NULL. */
const struct nsec3_entry *nsec3_chain_match(const struct nsec3_chain *c,
                                            const uint8_t hash[NSEC3_HASH_LEN]);
/* The entry that covers `hash` (RFC 5155 §1.3: owner hash < hash < next hash, the last
 * entry wrapping to the first), or NULL if an entry matches it or the chain is empty. */
const struct nsec3_entry *nsec3_chain_cover(const struct nsec3_chain *c,
                                            const uint8_t hash[NSEC3_HASH_LEN]);
/* The entry of a node of the chain's zone, or NULL (non-authoritative node). */
const struct nsec3_entry *nsec3_chain_node(const struct nsec3_chain *c, const struct zone *z,
                                           const struct zone_node *node);
/* The entry covering the hash of "*.<node>" (struct nsec3_chain.wildcard_cover), or NULL. */
const struct nsec3_entry *nsec3_chain_wildcard_cover(const struct nsec3_chain *c,
                                                     const struct zone *z,
                                                     const struct zone_node *node);

/* The NSEC3 records a response needs: up to 3 distinct entries, in the order the RFC
 * lists them. */
struct nsec3_proof {
    const struct nsec3_entry *entries[NSEC3_PROOF_MAX];
    unsigned count;
};

/* The proofs. `lname` is the name that was looked up (the query name, or the last target
 * of a CNAME/DNAME chain), lowercased wire, inside z's origin; c was built from z. Each
 * returns 0 with out filled, or -1 (out->count 0) if the zone does not have the shape the
 * proof describes (e.g. an NXDOMAIN proof for a name that exists, or a name at or below
 * a zone cut where a referral is the answer). */

/* RFC 5155 §7.2.2 Name Error: the NSEC3 matching the closest encloser, the one covering the
 * next closer name, the one covering the wildcard at the closest encloser. */
int nsec3_prove_nxdomain(const struct nsec3_chain *c, const struct zone *z, const uint8_t *lname,
                         struct nsec3_proof *out) __attribute__((warn_unused_result));
/* The same for a caller that has walked the name already (dns_answer's resolve): ce is the
 * closest encloser (a node of z, not a delegation, no wildcard child) and next_closer the
 * query name's suffix one label longer than ce's name. Hashes next_closer only. */
int nsec3_prove_nxdomain_at(const struct nsec3_chain *c, const struct zone *z,
                            const struct zone_node *ce, const uint8_t *next_closer,
                            struct nsec3_proof *out) __attribute__((warn_unused_result));
/* RFC 5155 §7.2.3 No Data (qtype not DS): the NSEC3 matching lname. §7.2.4 (qtype DS): the
 * matching NSEC3 as well (every delegation has one: no opt-out); if none matches, the
 * closest provable encloser proof (the closest encloser's match and the next closer's
 * cover), which only an opt-out chain makes sufficient: with this chain the answer path
 * answers such a name NXDOMAIN instead. */
int nsec3_prove_nodata(const struct nsec3_chain *c, const struct zone *z, const uint8_t *lname,
                       uint16_t qtype, struct nsec3_proof *out) __attribute__((warn_unused_result));
/* RFC 5155 §7.2.5 Wildcard No Data: the closest encloser's match, the next closer's cover,
 * and the match of the wildcard "*.<closest encloser>", which must exist. */
int nsec3_prove_wildcard_nodata(const struct nsec3_chain *c, const struct zone *z,
                                const uint8_t *lname, struct nsec3_proof *out)
    __attribute__((warn_unused_result));
/* RFC 5155 §7.2.6 Wildcard Answer: the NSEC3 covering the next closer name (the wildcard
 * "*.<closest encloser>" must exist). */
int nsec3_prove_wildcard_answer(const struct nsec3_chain *c, const struct zone *z,
                                const uint8_t *lname, struct nsec3_proof *out)
    __attribute__((warn_unused_result));
/* RFC 5155 §7.2.7 Referral to an unsigned subzone: the NSEC3 matching the delegation point
 * met on the way to lname (its bit map has NS and no DS). A delegation with DS needs no
 * NSEC3 (the signed DS goes in instead, RFC 4035 §3.1.4): 0 with out->count 0. */
int nsec3_prove_referral(const struct nsec3_chain *c, const struct zone *z, const uint8_t *lname,
                         struct nsec3_proof *out) __attribute__((warn_unused_result));

#endif
