/* SPDX-License-Identifier: MIT */
/* Private to src/tsig: the key layout with its precomputed HMAC states, the HMAC itself
 * (tsig_hmac.c) and the parsed TSIG record (tsig_msg.c). Same threading as tsig.h. */
#ifndef MERIDIAN_TSIG_TSIG_INTERNAL_H
#define MERIDIAN_TSIG_TSIG_INTERNAL_H

/* Only the context types are used here, which OpenSSL 3.0 does not mark deprecated; the
 * deprecated functions are called in tsig_hmac.c alone (see there why). */
#include <openssl/sha.h>

#include "tsig/tsig.h"

/* SHA-384 runs on SHA-512's context. */
union tsig_sha {
    SHA256_CTX sha256;
    SHA512_CTX sha512;
};

struct tsig_key {
    uint8_t name[DNAME_MAX_LEN]; /* lowercased wire */
    uint16_t name_len;
    enum tsig_algorithm algorithm;
    /* RFC 2104 §2: H(K XOR opad, H(K XOR ipad, text)). The hash states after the padded key
     * blocks; each MAC continues copies of them. */
    union tsig_sha inner;
    union tsig_sha outer;
};

/* One MAC being computed (RFC 2104), on the caller's stack or in a tsig_stream. */
struct tsig_hmac {
    const struct tsig_key *key;
    union tsig_sha sha;
};

/* Fills key->inner and key->outer from the secret (hashed first if longer than the hash's
 * block, RFC 2104 §2). Secrets and pads on the stack are wiped. */
void tsig_hmac_key_init(struct tsig_key *key, const uint8_t *secret, size_t len);
void tsig_hmac_init(struct tsig_hmac *h, const struct tsig_key *key);
void tsig_hmac_update(struct tsig_hmac *h, const void *data, size_t len);
/* Writes the full MAC into out; returns its length. */
size_t tsig_hmac_final(struct tsig_hmac *h, uint8_t out[TSIG_MAC_MAX]);

/* The algorithm's name in wire form (lowercase: RFC 8945 §4.3.3 canonical form) and its
 * length. */
const uint8_t *tsig_algorithm_wire(enum tsig_algorithm algorithm, size_t *len);

#endif
