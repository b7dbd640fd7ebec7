/* SPDX-License-Identifier: MIT */
/* RRSIG generation and verification (RFC 4034 §3, RFC 4035 §5.3) over an RRset in the zone's
 * RDATA format (struct zone_rrset in zone/zone.h: `count` records, each a big-endian 16-bit
 * length and the record's uncompressed wire RDATA). The signed data is built in canonical
 * form (RFC 4034 §6.2 as amended by RFC 6840 §5.1: the owner and the names in the RDATA of
 * NS, MD, MF, CNAME, SOA, MB, MG, MR, PTR, MINFO, MX, RP, AFSDB, RT, SIG, PX, NXT, NAPTR, KX,
 * SRV, DNAME, A6 and RRSIG are lowercased; NSEC's and later types' names keep their case) and
 * order (§6.3: records sorted by their canonical RDATA, duplicates dropped), so the caller
 * may pass records in any order and case.
 *
 * Off the query path, on loader threads; any number of threads may sign with the same key at
 * once, each with its own struct dnssec_signer (or dnssec_sign_rrset, which makes one per
 * call). */
#ifndef MERIDIAN_DNSSEC_DNSSEC_SIGN_H
#define MERIDIAN_DNSSEC_DNSSEC_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "common/dname.h"
#include "dnssec/dnssec_key.h"

#define DNSSEC_RRSIG_FIXED 18   /* type covered .. key tag (RFC 4034 §3.1) */
#define DNSSEC_SIGNATURE_LEN 64 /* ECDSA P-256 r|s (RFC 6605 §4), Ed25519 (RFC 8080 §4) */
#define DNSSEC_RRSIG_RDATA_MAX (DNSSEC_RRSIG_FIXED + DNAME_MAX_LEN + DNSSEC_SIGNATURE_LEN)

/* Signs the RRset owner/type/rclass/ttl with `count` records at `rdata` and writes the RRSIG
 * RDATA (RFC 4034 §3.1) to out: type covered, algorithm, labels (of owner, a leading "*"
 * label not counted: §3.1.3), original TTL = ttl, expiration and inception (seconds since
 * the epoch, modulo 2^32: RFC 4034 §3.1.5), key tag, signer's name (lowercased; NULL = the
 * key's zone) and signature. A wildcard owner "*.x" is signed as it is.
 * Returns the RDATA length (at most DNSSEC_RRSIG_RDATA_MAX), or -EINVAL (a malformed name or
 * RDATA, no records, type RRSIG, owner not at or below the signer), -ENOSPC (out_max too
 * small) or -EIO (the crypto library failed). */
int dnssec_sign_rrset(const struct dnssec_key *key, const uint8_t *owner, uint16_t type,
                      uint16_t rclass, uint32_t ttl, const uint8_t *rdata, uint16_t count,
                      uint32_t inception, uint32_t expiration, const uint8_t *signer, uint8_t *out,
                      size_t out_max) __attribute__((warn_unused_result));

/* One thread's reusable signing state: per key an OpenSSL context set up on its first
 * signature and kept (ECDSA: a signing context fed SHA-256 digests; Ed25519: a one-shot
 * signing context), a fetched SHA-256 and scratch memory for the signed data. Owned by one
 * thread; the keys it signs with must outlive it. */
struct dnssec_signer;
struct dnssec_signer *dnssec_signer_new(void);
void dnssec_signer_free(struct dnssec_signer *s); /* NULL is fine */
/* dnssec_sign_rrset with s's contexts and memory. */
int dnssec_signer_sign_rrset(struct dnssec_signer *s, const struct dnssec_key *key,
                             const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
                             const uint8_t *rdata, uint16_t count, uint32_t inception,
                             uint32_t expiration, const uint8_t *signer, uint8_t *out,
                             size_t out_max) __attribute__((warn_unused_result));

/* Verifies an RRSIG RDATA over the RRset with a DNSKEY RDATA (RFC 4035 §5.3): the RRSIG's
 * type covered, algorithm and key tag match the RRset and key; the key has the ZONE flag and
 * protocol 3; the labels field is at most the owner's labels (fewer: the owner is a wildcard
 * expansion and "*" plus the owner's rightmost `labels` labels is what was signed, §5.3.2);
 * ttl equals the original TTL (an authoritative RRset's TTL, RFC 4034 §3.1.4); the owner is
 * at or below the signer; and the signature is right. The validity period is NOT checked
 * (the caller knows the time). 0 if it verifies, else -1 with a static reason in *why (why
 * may be NULL). */
int dnssec_verify_rrset(const uint8_t *dnskey, size_t dnskey_len, const uint8_t *owner,
                        uint16_t type, uint16_t rclass, uint32_t ttl, const uint8_t *rdata,
                        uint16_t count, const uint8_t *rrsig, size_t rrsig_len, const char **why)
    __attribute__((warn_unused_result));

#endif
