/* SPDX-License-Identifier: MIT */
/* DNSSEC keys (RFC 4034 §2): ECDSAP256SHA256 (13, RFC 6605) and ED25519 (15, RFC 8080) key
 * pairs, their DNSKEY RDATA and key tag, their files in BIND's format (K<zone>.+<alg>+<tag>
 * .key and .private, "Private-key-format: v1.3", read by BIND, ldns-signzone and Knot's
 * `keymgr import-bind`), a per-zone key directory, DS records (RFC 4034 §5, RFC 4509) and the
 * presentation text of DNSKEY, CDNSKEY, DS and CDS records (RFC 7344).
 *
 * Off the query path: the loader thread loads, generates and saves keys. A loaded key is
 * immutable and may sign from several threads at once (dnssec_sign.h): the EVP_PKEY is only
 * read, every signature uses its own digest context. Errors are one line in err[DNSSEC_ERR_MAX],
 * naming the file ("file:line: message" for a malformed key file). */
#ifndef MERIDIAN_DNSSEC_DNSSEC_KEY_H
#define MERIDIAN_DNSSEC_DNSSEC_KEY_H

#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/dname.h"

#define DNSSEC_ERR_MAX 512

/* DNSSEC algorithm numbers (IANA "DNS Security Algorithm Numbers") this module signs with. */
enum dnssec_algorithm {
    DNSSEC_ALG_ECDSAP256SHA256 = 13, /* RFC 6605, the default */
    DNSSEC_ALG_ED25519 = 15,         /* RFC 8080 */
};

/* DNSKEY flags (RFC 4034 §2.1.1): a zone key, and the Secure Entry Point bit of KSKs and
 * CSKs (RFC 3757). */
enum {
    DNSSEC_FLAG_ZONE = 0x0100,
    DNSSEC_FLAG_SEP = 0x0001,
    DNSSEC_FLAGS_ZSK = DNSSEC_FLAG_ZONE,                   /* 256 */
    DNSSEC_FLAGS_KSK = DNSSEC_FLAG_ZONE | DNSSEC_FLAG_SEP, /* 257, also a CSK */
};

/* DS digest types (RFC 4509 SHA-256, RFC 6605 §2 SHA-384). */
enum dnssec_digest { DNSSEC_DIGEST_SHA256 = 2, DNSSEC_DIGEST_SHA384 = 4 };

#define DNSSEC_PRIVATE_LEN 32 /* both algorithms: a P-256 scalar or an Ed25519 seed */
#define DNSSEC_PUBLIC_MAX 64  /* P-256 x|y (RFC 6605 §4); Ed25519 is 32 (RFC 8080 §3) */
#define DNSSEC_DNSKEY_RDATA_MAX (4 + DNSSEC_PUBLIC_MAX)
#define DNSSEC_DS_RDATA_MAX (4 + 48) /* key tag, algorithm, digest type, SHA-384 */
/* One record of dnssec_rr_text for the keys and digests of this module's algorithms. */
#define DNSSEC_RR_TEXT_MAX (DNAME_TEXT_MAX + 256)

/* One key pair. Immutable once made; owned by whoever made it (dnssec_key_free). */
struct dnssec_key {
    EVP_PKEY *pkey; /* the private key; shared read-only by signing threads */
    uint8_t algorithm;
    uint16_t flags; /* DNSSEC_FLAGS_ZSK or DNSSEC_FLAGS_KSK (or others with the ZONE bit) */
    uint16_t tag;   /* RFC 4034 Appendix B, over rdata */
    uint16_t rdata_len;
    uint8_t rdata[DNSSEC_DNSKEY_RDATA_MAX]; /* DNSKEY RDATA: flags, protocol 3, algorithm, key */
    uint8_t owner[DNAME_MAX_LEN];           /* the zone, lowercased wire name */
    time_t created;                         /* the file's "Created:" (BIND timing), 0 if unknown */
    char *path; /* "<dir>/K<zone>.+<alg>+<tag>" without .key/.private; NULL until saved
                   or loaded */
};

/* The keys of one zone, sorted by algorithm, tag and flags. */
struct dnssec_keyset {
    struct dnssec_key **keys;
    size_t count;
};

/* "ECDSAP256SHA256", "ED25519", or NULL for an algorithm this module does not sign with. */
const char *dnssec_algorithm_name(uint8_t algorithm);

/* True for a KSK or CSK (the SEP bit). */
static inline bool
dnssec_key_is_sep(const struct dnssec_key *key)
{
    return (key->flags & DNSSEC_FLAG_SEP) != 0;
}

/* The key tag of a DNSKEY RDATA (RFC 4034 Appendix B; B.1 for algorithm 1). */
uint16_t dnssec_key_tag(const uint8_t *rdata, size_t len);

/* A new random key pair for zone `owner` (wire name). `flags` must have the ZONE bit. The key
 * has created = now and no path until dnssec_key_save. */
int dnssec_key_generate(const uint8_t *owner, uint8_t algorithm, uint16_t flags,
                        struct dnssec_key **out, char err[DNSSEC_ERR_MAX])
    __attribute__((warn_unused_result));

/* A key from its raw private key (DNSSEC_PRIVATE_LEN bytes: the big-endian P-256 scalar, or
 * the Ed25519 seed of RFC 8032 §5.1.5), as a .private file's PrivateKey holds it. The
 * public key, DNSKEY RDATA and tag are derived. */
int dnssec_key_from_private(const uint8_t *owner, uint8_t algorithm, uint16_t flags,
                            const uint8_t *priv, size_t priv_len, struct dnssec_key **out,
                            char err[DNSSEC_ERR_MAX]) __attribute__((warn_unused_result));

void dnssec_key_free(struct dnssec_key *key);

/* Writes <dir>/K<zone>.+<alg>+<tag>.key (0644) and .private (0600) in BIND's format and sets
 * key->path. Each is written to a temporary file in dir, synced, and linked to its name, so
 * an existing key file is never overwritten (the save fails naming it) and no reader ever
 * sees half a file. The zone's name in the file name is lowercased; '/' is written \047. */
int dnssec_key_save(struct dnssec_key *key, const char *dir, char err[DNSSEC_ERR_MAX])
    __attribute__((warn_unused_result));

/* Reads a key pair from `path`: "<dir>/K<zone>.+<alg>+<tag>", with or without ".key" or
 * ".private". The .key file gives the flags (one DNSKEY record in presentation form,
 * comments and parentheses allowed), the .private file the key; the two, and the file name's
 * zone, algorithm and tag, must agree. A malformed file gives "file:line: message". */
int dnssec_key_load(const char *path, struct dnssec_key **out, char err[DNSSEC_ERR_MAX])
    __attribute__((warn_unused_result));

/* Loads every key of zone `origin` (wire name, any case) in `dir`, skipping other zones'
 * files and files not named like key files, and keys of every algorithm this module signs
 * with (an algorithm rollover has two); a key file of another algorithm is an error. Then
 * generates and saves what `algorithm` lacks: with split false a CSK (257) unless a key of
 * `algorithm` has the SEP bit; with split true a KSK (257) unless one has the SEP bit and a
 * ZSK (256) unless one has not. A generated key's tag differs from every loaded key's. dir
 * is created 0700 if missing (its parent must exist). On error *out is empty. */
int dnssec_keystore_load(const char *dir, const uint8_t *origin, uint8_t algorithm, bool split,
                         struct dnssec_keyset *out, char err[DNSSEC_ERR_MAX])
    __attribute__((warn_unused_result));

void dnssec_keyset_fini(struct dnssec_keyset *set);

/* DS RDATA (RFC 4034 §5.1: key tag, algorithm, digest type, digest; §5.1.4: the digest is
 * over the owner's canonical wire name and the DNSKEY RDATA) of digest type
 * DNSSEC_DIGEST_SHA256 or DNSSEC_DIGEST_SHA384, for any DNSKEY algorithm. The same RDATA
 * is a CDS (RFC 7344 §3.1). Returns its length, or -1 (unknown digest type, RDATA shorter
 * than 4 bytes, out_max too small). */
int dnssec_ds_rdata(const uint8_t *owner, const uint8_t *dnskey, size_t dnskey_len,
                    uint8_t digest_type, uint8_t *out, size_t out_max)
    __attribute__((warn_unused_result));

/* Presentation form of a DNSKEY or CDNSKEY RDATA ("257 3 13 <base64>", RFC 4034 §2.2) or a
 * DS or CDS RDATA ("55648 13 2 <HEX>", RFC 4034 §5.3). 0, or -1 for another type, an
 * RDATA too short for its type, or a buffer too small. */
int dnssec_rdata_text(uint16_t type, const uint8_t *rdata, size_t len, char *out, size_t size)
    __attribute__((warn_unused_result));

/* One record: "<owner> <ttl> IN <TYPE> <rdata_text>", e.g. the CDS, CDNSKEY or DS a parent
 * needs. Same types and results as dnssec_rdata_text. */
int dnssec_rr_text(const uint8_t *owner, uint32_t ttl, uint16_t type, const uint8_t *rdata,
                   size_t len, char *out, size_t size) __attribute__((warn_unused_result));

#endif
