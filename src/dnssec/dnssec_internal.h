/* SPDX-License-Identifier: MIT */
/* Shared inside src/dnssec only: error formatting, key construction from raw bytes
 * and the key file names. Same threading as the public headers: any thread, no globals. */
#ifndef MERIDIAN_DNSSEC_DNSSEC_INTERNAL_H
#define MERIDIAN_DNSSEC_DNSSEC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dnssec/dnssec_key.h"

/* snprintf into err. */
void dnssec_errorf(char err[DNSSEC_ERR_MAX], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same with ": <OpenSSL's reason>" appended; empties this thread's OpenSSL error queue. */
void dnssec_crypto_errorf(char err[DNSSEC_ERR_MAX], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Public key length of a DNSKEY of this algorithm, 0 for one this module does not sign with. */
size_t dnssec_public_len(uint8_t algorithm);

/* The public key of DNSKEY RDATA as an EVP_PKEY for verifying. NULL if the algorithm is not
 * ours or the key is malformed (wrong length, not a point on the curve). */
EVP_PKEY *dnssec_pkey_from_dnskey(const uint8_t *rdata, size_t len);

/* The key's raw private key (DNSSEC_PRIVATE_LEN bytes). 0 or -1. The caller wipes it. */
int dnssec_key_private(const struct dnssec_key *key, uint8_t out[DNSSEC_PRIVATE_LEN])
    __attribute__((warn_unused_result));

/* Key file names "K<zone>.+<alg>+<tag>" (BIND's dst_key_buildfilename form). */
#define DNSSEC_KEY_NAME_MAX (1 + DNAME_TEXT_MAX + 12)
/* "K<zone>" (the zone's absolute name, '/' written \047) into name: the start of every file
 * name of the zone in a key directory. Returns its length. */
size_t dnssec_zone_file_base(const uint8_t *owner, char name[DNSSEC_KEY_NAME_MAX]);
/* The base name (no directory, no suffix) of key's files into name. */
void dnssec_key_name(const struct dnssec_key *key, char name[DNSSEC_KEY_NAME_MAX]);
/* Parses a base name: 0 with the zone (wire), algorithm and tag, or -1 if it is not one. */
int dnssec_key_name_parse(const char *name, uint8_t owner[DNAME_MAX_LEN], unsigned *algorithm,
                          unsigned *tag);

/* A new key pair (not saved) for zone origin whose tag no key of set has (validators pick
 * keys by tag, RFC 4035 §5.3.1, and files are named by it). 0 or -1 with err. */
int dnssec_keystore_new_key(const struct dnssec_keyset *set, const uint8_t *origin,
                            uint8_t algorithm, uint16_t flags, struct dnssec_key **out,
                            char err[DNSSEC_ERR_MAX]) __attribute__((warn_unused_result));

/* Writes text to `path` with `mode` through a temporary file beside it, synced: renamed over
 * an existing file when `replace`, else link()ed, which fails rather than replace one. The
 * directory is not synced (dnssec_dir_sync). 0 or -1 with err. */
int dnssec_file_write(const char *path, const char *text, mode_t mode, bool replace,
                      char err[DNSSEC_ERR_MAX]) __attribute__((warn_unused_result));
/* fsync of a directory, so new names survive a crash as the files' data does. */
int dnssec_dir_sync(const char *dir, char err[DNSSEC_ERR_MAX]) __attribute__((warn_unused_result));
/* A small file (64 KiB at most) whole, NUL-terminated, on the heap; NULL with err. */
char *dnssec_file_read(const char *file, char err[DNSSEC_ERR_MAX]);

#endif
