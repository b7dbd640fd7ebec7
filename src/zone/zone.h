/* SPDX-License-Identifier: MIT */
/* Compiled zones: RFC 1035 master files parsed with ldns, checked, and compiled into an
 * immutable structure with pre-rendered wire RDATA that the answer path reads without
 * locks or allocation. Built on the main/loader thread; read-only afterwards and shared by
 * every worker until freed (after the last reader has moved on: see server/snapshot).
 *
 * Names are uncompressed wire format. Owner names are stored lowercased (RFC 4343), so
 * lookups take a lowercased query name. */
#ifndef MERIDIAN_ZONE_ZONE_H
#define MERIDIAN_ZONE_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/alloc.h"
#include "common/dname.h"

struct dnssec_zone; /* dnssec/dnssec_zone.h */
struct dns_negative; /* dns/dns_internal.h */
struct zone;

#define ZONE_ERR_MAX 512
#define ZONE_NONE UINT32_MAX /* "no node" in node-index fields */

enum zone_node_flags {
    ZONE_NODE_APEX = 1 << 0,
    ZONE_NODE_DELEGATION = 1 << 1,     /* NS below the apex: a zone cut (RFC 1034 §4.2.1) */
    ZONE_NODE_NONAUTH = 1 << 2,        /* below a zone cut: glue or occluded data */
    ZONE_NODE_WILDCARD_CHILD = 1 << 3, /* "*.<this name>" exists (RFC 4592 §2.1.1) */
    ZONE_NODE_DNAME = 1 << 4,          /* has a DNAME RRset (RFC 6672) */
    ZONE_NODE_CNAME = 1 << 5,          /* has a CNAME RRset */
    ZONE_NODE_STEERED = 1 << 6,        /* a steering policy answers here (policy/) */
};

/* Which record types a steering policy synthesizes at a steered node (zone_node.steer_types),
 * for the types it lists in NSEC3/NSEC type bitmaps (RFC 4034 §4.1.2, RFC 5155 §3.2.1). */
enum zone_steer_types {
    ZONE_STEER_A = 1 << 0,
    ZONE_STEER_AAAA = 1 << 1,
    ZONE_STEER_CNAME = 1 << 2,
};

/* A name a steering policy answers at. Policies are built before zones and handed to the
 * zone compiler as these, so every steered node knows its policy from the start. */
struct zone_steer {
    const uint8_t *name; /* lowercased wire, inside the zone's origin */
    uint16_t index;      /* the policy's index in its set (stored + 1 in zone_node.steer) */
    uint8_t types;       /* enum zone_steer_types */
    const char *where;   /* "file:line: service NAME", the start of error messages */
};

/* One RRset. RDATA is `count` records, each a big-endian 16-bit length and the record's
 * uncompressed wire RDATA; owner, type, class (IN) and TTL are shared. */
struct zone_rrset {
    uint16_t type;
    uint16_t count;
    uint32_t ttl;
    const uint8_t *rdata;
    /* For NS, MX, SRV, SVCB and HTTPS: per record, the node index of the target name inside
     * this zone (ZONE_NONE if absent), for additional-section processing (RFC 1035 §3.3.9,
     * RFC 9460 §4.1). */
    const uint32_t *targets;
    /* Signed zones: the RRSIG RRset covering this one (type RRSIG, one record per signing
     * key, same layout), made at load by dnssec/; NULL when unsigned (insecure delegation NS,
     * glue, unsigned zones). */
    const struct zone_rrset *rrsig;
};

struct zone_node {
    const uint8_t *name; /* lowercased wire name */
    struct zone_rrset *rrsets;       /* sorted by type */
    uint16_t rrset_count;            /* 0 for an empty non-terminal */
    uint8_t flags;                   /* enum zone_node_flags */
    uint8_t label_count;
    uint8_t name_len;
    uint8_t steer_types; /* steered nodes: enum zone_steer_types */
    uint16_t steer;      /* steered nodes: the policy's index + 1 (zone_steer.index) */
};

struct zone_slot {
    uint32_t hash;
    uint32_t node; /* ZONE_NONE = empty slot */
};

/* Bounds on one zone's size, checked as it is compiled (a file or a transfer), so a zone
 * too big for the machine or for its own answers is a "file:line:" error, not an exhausted
 * server (cf. Knot's zone-max-size). Every RRset is also bounded by the message it must fit
 * in: its records (owner compressed to a pointer) within a 64 KiB message. */
struct zone_limits {
    uint64_t max_records; /* records in the zone; 0 = ZONE_DEFAULT_MAX_RECORDS */
    uint64_t max_bytes;   /* wire size: owner, type, class, TTL, RDLENGTH, RDATA each record;
                           * 0 = ZONE_DEFAULT_MAX_BYTES */
};
#define ZONE_DEFAULT_MAX_RECORDS ((uint64_t)16 << 20)
#define ZONE_DEFAULT_MAX_BYTES ((uint64_t)2 << 30)

/* One record before compilation: from a zone file (owner and RDATA in the loader's scratch
 * arena, `line` its line) or a zone transfer (struct zone_records, `line` its position). */
struct zone_record {
    const uint8_t *owner; /* lowercased wire */
    const uint8_t *rdata; /* uncompressed wire RDATA */
    uint32_t ttl;
    uint16_t type;
    uint16_t rdlen;
    uint8_t owner_len;
    int line;
};

/* The records of one version of a zone, held together (a secondary's transferred copy,
 * ARCHITECTURE.md §13): class IN implied, owners lowercased, everything in `arena`. Built and
 * read by one thread at a time; immutable once shared. */
struct zone_records {
    struct zone_record *recs;
    size_t count, cap;
    size_t bytes; /* owner and RDATA bytes held, for the transfer bounds */
    struct arena arena;
};

void zone_records_init(struct zone_records *r);
void zone_records_fini(struct zone_records *r);
/* Appends a copy of the record (the owner lowercased). */
void zone_records_add(struct zone_records *r, const uint8_t *owner, uint16_t type, uint32_t ttl,
                      const uint8_t *rdata, uint16_t rdlen);
/* The SOA's serial (RFC 1035 §3.3.13) and timers of RDATA `rd` (rdlen bytes, uncompressed):
 * refresh, retry, expire, minimum. false if the RDATA is not a SOA's. */
bool zone_soa_fields(const uint8_t *rd, size_t rdlen, uint32_t *serial, uint32_t timers[4]);

/* Rewrites the serial in the zone's SOA RDATA and zone->serial: only before the zone is
 * shared (a signer raising it, dnssec_zone.h). */
void zone_set_serial(struct zone *zone, uint32_t serial);

/* Reads a master file like zone_load, without compiling it: its records into `out`
 * (initialized here; fini it either way). 0, or -1 with "file:line: message". */
int zone_records_load(const char *origin, const char *file, struct zone_records *out,
                      char err[ZONE_ERR_MAX]) __attribute__((warn_unused_result));

/* Writes the records as an RFC 1035 master file (absolute names, one record a line, `comment`
 * as the first line after "; "), atomically: into `path`.tmp, flushed to disk, then renamed
 * over `path` (the directory is made if missing), so a reader sees the old file or the new
 * one, whole. 0, or -1 with the reason. */
int zone_records_write(const struct zone_records *r, const char *comment, const char *path,
                       char err[ZONE_ERR_MAX]) __attribute__((warn_unused_result));

/* Compiles records that did not come from a file we parsed (a zone transfer): the same checks
 * as zone_load_steered and, before them, those a file's parser makes: every owner inside
 * `origin`, and the names in the RDATA of NS, CNAME, DNAME, PTR, SOA, MX and SRV well formed;
 * `limits` as for zone_load_steered.
 * `source` starts every error ("source:N: message", N the record's position from 1). */
int zone_build(const char *origin, const char *source, const struct zone_records *r,
               const struct zone_steer *steered, size_t steered_count,
               const struct zone_limits *limits, struct zone **out, char err[ZONE_ERR_MAX])
    __attribute__((warn_unused_result));

struct zone {
    uint8_t origin[DNAME_MAX_LEN];
    int origin_len;
    int origin_labels;
    char *file;

    struct zone_node *nodes; /* nodes[0] is the apex */
    uint32_t node_count;
    struct zone_slot *slots; /* open addressing, power-of-two size */
    uint32_t slot_mask;

    const struct zone_rrset *soa;
    uint32_t negative_ttl; /* RFC 2308 §5: min(SOA TTL, SOA MINIMUM) */
    uint32_t serial;
    size_t record_count;

    struct arena arena; /* every name, RRset and RDATA of this zone */

    /* A secondary zone past its SOA expire without a successful refresh, or never transferred
     * (then the data is a placeholder): every query and transfer of it answers SERVFAIL
     * (RFC 1035 §3.3.13, RFC 1996 §2). Set before the zone is shared. */
    bool expired;

    /* Signed zones: what the signer made (NSEC3 chain, keys, signatures), set by dnssec/ before
     * the zone is shared and freed by whoever signed it (the snapshot); NULL = unsigned. */
    const struct dnssec_zone *dnssec;
    /* The authority records of a negative answer, made once by dns/ (dns_negative_render)
     * before the zone is shared, in `arena`; NULL: the answer path writes them record by
     * record. */
    const struct dns_negative *negative;
};

/* Reads `file` (RFC 1035 master format, $ORIGIN/$TTL, RFC 3597 unknown types) for zone
 * `origin` (presentation form), checks it and compiles it. On error returns -1 with
 * "file:line: message" in err. Warnings (non-fatal oddities) are logged. */
int zone_load(const char *origin, const char *file, struct zone **out, char err[ZONE_ERR_MAX])
    __attribute__((warn_unused_result));
/* The same, within `limits` (NULL: the defaults), and every name of steered[] gets a node flagged ZONE_NODE_STEERED with its
 * policy index and types, created if the file has no data there. A steered name must be
 * authoritative data a policy may synthesize at: not at or below a delegation, no CNAME,
 * and a CNAME policy (ZONE_STEER_CNAME) only where the file has no data (RFC 1034 §3.6.2);
 * otherwise -1 with the steer's `where` and the reason in err. */
int zone_load_steered(const char *origin, const char *file, const struct zone_steer *steered,
                      size_t steered_count, const struct zone_limits *limits, struct zone **out,
                      char err[ZONE_ERR_MAX])
    __attribute__((warn_unused_result));
void zone_free(struct zone *zone);

/* For the DNSSEC signer, before the zone is shared (loader thread): removes every RRset of
 * the given types from every node (records the signer owns: RRSIG, NSEC, NSEC3, DNSKEY, ...),
 * and adds one RRset to a node, keeping its RRsets sorted by type. `set` is copied; its RDATA
 * must live as long as the zone (in zone->arena). The record count follows. */
void zone_drop_types(struct zone *zone, const uint16_t *types, size_t count);
void zone_node_add_rrset(struct zone *zone, struct zone_node *node, const struct zone_rrset *set);

/* Exact lookup of a lowercased wire name (of length len) in the zone; NULL if absent. */
const struct zone_node *zone_lookup(const struct zone *zone, const uint8_t *lname, int len);

/* Bytes of the RRset's RDATA run (every record's 16-bit length and RDATA). */
size_t zone_rrset_rdata_len(const struct zone_rrset *set);

/* The node's RRset of `type`, or NULL. */
const struct zone_rrset *zone_node_rrset(const struct zone_node *node, uint16_t type);

/* Starts loading the signatures of `set` (its rrsig) into the cache, for a DO answer that
 * will write them after the RRset: the signer puts an RRSIG RRset's RDATA right behind its
 * struct, so the struct and about 150 bytes of RDATA (one or two ECDSA or Ed25519
 * signatures) come in at once instead of one cache miss after the other. always_inline: see
 * nsec3_chain_prefetch (GCC drops a plain inline function of nothing but prefetches). */
static inline __attribute__((always_inline)) void
zone_rrset_prefetch_rrsig(const struct zone_rrset *set)
{
    const char *p = (const char *)set->rrsig;
    if (!p)
        return;
    __builtin_prefetch(p);
    __builtin_prefetch(p + 64);
    __builtin_prefetch(p + 128);
}

/* Several zones; a query goes to the zone with the longest matching origin. */
struct zone_set {
    struct zone **zones;
    size_t count;
    struct zone_slot *slots; /* origins, open addressing; node = index into zones */
    uint32_t slot_mask;
    int max_labels; /* of the longest origin: shorter suffixes are the only candidates */
};

/* Takes ownership of the zones array (count entries). Origins must be distinct. */
struct zone_set *zone_set_new(struct zone **zones, size_t count);
void zone_set_free(struct zone_set *set);
/* The zone whose origin is the longest suffix of lname (lowercased wire), or NULL. */
const struct zone *zone_set_find(const struct zone_set *set, const uint8_t *lname);

#endif
