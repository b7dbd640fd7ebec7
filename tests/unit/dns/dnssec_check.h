/* SPDX-License-Identifier: MIT */
/* Helpers of the signed-answer tests: sections as text with RRSIGs summarized (their
 * timestamps, key tag and signature differ per run; what is left is covered type,
 * algorithm, labels, original TTL and signer), and every RRSIG of a section verified against
 * the zone's keys with the RRset as served (RFC 4035 §5.3). Tests only; single-threaded. */
#ifndef MERIDIAN_TESTS_DNS_DNSSEC_CHECK_H
#define MERIDIAN_TESTS_DNS_DNSSEC_CHECK_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "dnssec/dnssec_key.h"

/* The section as lines "owner ttl IN TYPE rdata" (ldns's text, spaces collapsed), an RRSIG
 * as "owner ttl IN RRSIG <covered> <alg> <labels> <original ttl> <signer>", compared with
 * want in order (RRSIG after its RRset, sections read as written) or sorted. */
void dnssec_assert_ordered(ldns_rr_list *list, const char *want);
void dnssec_assert_sorted(ldns_rr_list *list, const char *want);

/* Does the list hold a record of this type? */
bool dnssec_has_type(const ldns_rr_list *list, ldns_rr_type type);

/* Verifies every RRSIG of the list (RFC 4035 §5.3) against the key of its tag in keys: over
 * the records of the same list with its owner (any case) and covered type, whose TTLs must
 * all equal the RRSIG's (RFC 4034 §3) and be at most its original TTL; the signature valid
 * at `now`; DNSKEY, CDS and CDNSKEY signed by a SEP key, everything else by a zone-signing
 * key when the set has one. Returns the number of RRSIGs verified. */
unsigned dnssec_verify_list(const struct dnssec_keyset *keys, ldns_rr_list *list, time_t now);

/* The same over the answer, authority and additional sections. */
unsigned dnssec_verify_pkt(const struct dnssec_keyset *keys, const ldns_pkt *r, time_t now);

/* ldns's own validator on the denial of a response (its NSEC3 records and their RRSIGs in
 * the authority section; the question as the denied RR; ldns_dnssec_verify_denial_nsec3):
 * LDNS_STATUS_OK when ldns accepts the proof. An independent second opinion on the proofs;
 * signatures are dnssec_verify_pkt's business. */
ldns_status dnssec_ldns_denial(const ldns_pkt *r);

/* An answer to DO=0 must equal the DO=1 answer without its RRSIG and NSEC3 records, and
 * without DS in a referral's authority section (`drop_ds`; RFC 4035 §3.1.4: DS goes with DO
 * only): `got` against the same section of the DO=1 response. */
void dnssec_assert_unsigned_equal(ldns_rr_list *got, ldns_rr_list *signed_list, bool drop_ds);

/* One record in ldns's text form from its wire RDATA (for expected lines built from bytes,
 * e.g. the keys' DNSKEY RDATA), with a trailing newline, into out. */
void dnssec_rr_line(const char *owner, uint32_t ttl, uint16_t type, const uint8_t *rdata,
                    size_t len, char *out, size_t size);

#endif
