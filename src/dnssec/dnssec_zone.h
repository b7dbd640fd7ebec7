/* SPDX-License-Identifier: MIT */
/* Signing a compiled zone (RFC 4033-4035, NSEC3 per RFC 5155 with RFC 9276 parameters): keys
 * from the key store (generated on first use), DNSKEY, CDS and CDNSKEY (RFC 7344) and
 * NSEC3PARAM at the apex, the NSEC3 chain, and an RRSIG RRset for every authoritative RRset
 * and NSEC3 record, attached to the RRsets (zone_rrset.rrsig) so the answer path only copies
 * bytes. Signatures of RRsets unchanged since the previous version of the zone are reused
 * while they have more than `refresh_s` (plus the expiration jitter, dnssec_zone_spread)
 * left, so a reload re-signs only what changed or is due. Which key publishes, signs and is
 * in CDS follows the key's kind, or the rollover state in the key directory (dnssec_roll.h).
 *
 * Runs on the loader thread (signing itself on `threads` threads) before the zone is shared;
 * the result is immutable afterwards and read by every worker. */
#ifndef MERIDIAN_DNSSEC_DNSSEC_ZONE_H
#define MERIDIAN_DNSSEC_DNSSEC_ZONE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/alloc.h"
#include "dnssec/dnssec_key.h"
#include "dnssec/dnssec_roll.h"
#include "dnssec/dnssec_variants.h"
#include "dnssec/nsec3.h"
#include "zone/zone.h"

struct dnssec_sigstore;

struct dnssec_sign_params {
    const char *key_directory;
    uint8_t algorithm;      /* DNSSEC_ALG_* */
    bool split_keys;        /* KSK + ZSK instead of one CSK */
    uint32_t validity_s;    /* expiration = now + validity (less dnssec_zone_spread) */
    uint32_t refresh_s;     /* signatures with less than this left are made anew */
    struct nsec3_params nsec3;
    time_t now;
    unsigned threads;       /* signing threads; 0 = one per online CPU */
    const struct zone *previous; /* the zone this one replaces (same origin), or NULL */
    /* Without a previous zone (a start): the signatures the last run served
     * (dnssec_sigstore.h), reused as previous's are; or NULL. */
    const struct dnssec_sigstore *stored;
    uint32_t variants;      /* steered RRsets expected in this zone (dnssec_variants) */
};

#define DNSSEC_MAX_KEYS 8

/* A steered name's NSEC3 record without one of the types its policy may answer: the proof
 * of a NODATA the policy gives (no member of the asked family for this client, or every
 * member down with `all_down: nodata`), where the regular record lists the type. */
struct dnssec_denial {
    uint32_t node;           /* zone node index */
    uint16_t without;        /* DNS_TYPE_A, DNS_TYPE_AAAA or DNS_TYPE_CNAME */
    struct nsec3_entry entry; /* the node's entry with that type cut from its bit map */
};

/* Everything the signer made for one zone; the zone's RRsets point into it. */
struct dnssec_zone {
    struct nsec3_chain chain;
    struct dnssec_keyset keys;
    /* Who signs what (the keys' roles, dnssec_roll_roles): the DNSKEY RRset (and CDS,
     * CDNSKEY) by sep_keys (DNSSEC_ROLE_SIGN_KEYS), everything else by zone_keys
     * (DNSSEC_ROLE_SIGN_ZONE; a CSK is in both); cds_keys are in CDS and CDNSKEY, the keys
     * the parent's DS should name. */
    const struct dnssec_key *sep_keys[DNSSEC_MAX_KEYS], *zone_keys[DNSSEC_MAX_KEYS];
    const struct dnssec_key *cds_keys[DNSSEC_MAX_KEYS];
    unsigned sep_count, zone_count, cds_count;
    uint8_t *roles;         /* per keys.keys[i]: DNSSEC_ROLE_* */
    struct dnssec_roll roll; /* the rollover state the roles came from (phase NONE: none) */
    bool roll_void;         /* it named a key the directory lacks, and was ignored */
    const uint8_t *origin;  /* the zone's, lowercased wire (signer name) */
    uint32_t validity_s, refresh_s;
    uint32_t spread_s;      /* dnssec_zone_spread(validity_s, refresh_s) */
    uint32_t dnskey_ttl;    /* RFC 7583 TTLkey */
    uint32_t max_ttl;       /* the largest TTL of an RRset signed here (RFC 7583 TTLsig) */
    struct dnssec_variants variants; /* steered answers' signatures */
    struct dnssec_denial *denials;   /* sorted by node, then type */
    uint32_t denial_count;
    struct arena arena;              /* the denials' RDATA */
    struct arena *arenas; /* the signatures: one arena per signing thread */
    unsigned arena_count;
    uint32_t earliest_expiration; /* seconds since the epoch */
    uint32_t signed_rrsets;       /* RRsets signed now */
    uint32_t reused_rrsets;       /* RRsets whose signatures came from `previous` */
    uint32_t file_serial;         /* the zone file's SOA serial (zone->serial is the served one) */
    /* The version differs from the one `previous` or `stored` describes (new signatures or a
     * new serial), or there was none: the signature store should be written again. */
    bool changed;
    uint32_t signatures;          /* RRSIG records in the zone */
};

/* How far before now + validity an expiration may be put (RFC 6781 §4.4.2.2 jitter): a
 * tenth of validity, at most a quarter of validity - refresh, so a new signature always has
 * more than refresh + this left and is reused by the next load. */
uint32_t dnssec_zone_spread(uint32_t validity_s, uint32_t refresh_s);

/* The earliest expiration of every signature the zone serves, those of steered answers
 * made since (dnssec_variants) included; UINT32_MAX if none. Any thread. */
uint32_t dnssec_zone_earliest_expiration(struct dnssec_zone *dz);

/* Signs `zone` (not yet shared: its RRsets are written). The serial served follows RFC 1982
 * so that secondaries fetch every version with new signatures: the zone file's when it is
 * newer than the one served before (previous's or stored's), else that one when nothing
 * changes, else that one + 1 (a re-signing, or data edited without raising the serial;
 * zone_set_serial). On success zone->dnssec is set and
 * the result returned in *out (free it after the zone is no longer read); -1 with a message
 * naming the key file or the step in err. */
int dnssec_zone_sign(struct zone *zone, const struct dnssec_sign_params *p,
                     struct dnssec_zone **out, char err[DNSSEC_ERR_MAX])
    __attribute__((warn_unused_result));
void dnssec_zone_free(struct dnssec_zone *dz);

/* The signed NSEC3 record proving that steered node `node` has no `type` (A, AAAA, CNAME),
 * or NULL (not steered, or the policy never answers that type there). Query path. */
const struct nsec3_entry *dnssec_zone_steered_denial(const struct dnssec_zone *dz, uint32_t node,
                                                     uint16_t type);

/* Signs one RRset (owner lowercased wire, zone RDATA layout) with the zone-signing keys,
 * valid from an hour ago for validity_s (less a jitter fixed per owner and type): the RRSIG
 * RRset is allocated in `arena`, *expiration set to its earliest expiration. 0 or -1 with
 * err. Any thread (the keys are only read), with the calling thread's signer (its OpenSSL
 * contexts, dnssec_sign.h) or NULL for a one-off. */
struct dnssec_signer;
int dnssec_zone_sign_rrset(const struct dnssec_zone *dz, struct dnssec_signer *signer,
                           const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rdata,
                           uint16_t count, bool sep, time_t now, struct arena *arena,
                           const struct zone_rrset **out, uint32_t *expiration,
                           char err[DNSSEC_ERR_MAX]) __attribute__((warn_unused_result));

#endif
