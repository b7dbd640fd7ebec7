// SPDX-License-Identifier: MIT
/* HMAC (RFC 2104) over SHA-256, SHA-384 and SHA-512 for TSIG. The padded key blocks are
 * hashed once, when the key ring is built; a MAC copies those two states and goes on from
 * there. Runs on the answer path: caller memory only, no allocation, no locks.
 *
 * The exception to "no deprecated APIs" (as in dnssec/nsec3_hash.c): OpenSSL 3.0's
 * EVP_MAC and EVP_Digest interfaces fetch the algorithm (a lock) and allocate a context for
 * every MAC; only the low-level SHA*_Init/Update/Final work on caller memory, and copying a
 * SHA context is what lets the key's pads be hashed once instead of per message. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <string.h>

#include "tsig/tsig_internal.h"

_Static_assert(sizeof(struct tsig_hmac) <= TSIG_HMAC_STATE_SIZE,
               "struct tsig_stream holds a struct tsig_hmac");
_Static_assert(_Alignof(struct tsig_hmac) <= 16, "struct tsig_stream aligns it to 16");

#define BLOCK_MAX SHA512_CBLOCK /* 128: SHA-384/512; SHA-256's is 64 */

static size_t
block_len(enum tsig_algorithm algorithm)
{
    return algorithm == TSIG_HMAC_SHA256 ? SHA256_CBLOCK : SHA512_CBLOCK;
}

static void
sha_init(enum tsig_algorithm algorithm, union tsig_sha *sha)
{
    switch (algorithm) {
    case TSIG_HMAC_SHA256:
        SHA256_Init(&sha->sha256);
        break;
    case TSIG_HMAC_SHA384:
        SHA384_Init(&sha->sha512);
        break;
    case TSIG_HMAC_SHA512:
        SHA512_Init(&sha->sha512);
        break;
    }
}

static void
sha_update(enum tsig_algorithm algorithm, union tsig_sha *sha, const void *data, size_t len)
{
    switch (algorithm) {
    case TSIG_HMAC_SHA256:
        SHA256_Update(&sha->sha256, data, len);
        break;
    case TSIG_HMAC_SHA384:
        SHA384_Update(&sha->sha512, data, len);
        break;
    case TSIG_HMAC_SHA512:
        SHA512_Update(&sha->sha512, data, len);
        break;
    }
}

static void
sha_final(enum tsig_algorithm algorithm, union tsig_sha *sha, uint8_t *out)
{
    switch (algorithm) {
    case TSIG_HMAC_SHA256:
        SHA256_Final(out, &sha->sha256);
        break;
    case TSIG_HMAC_SHA384:
        SHA384_Final(out, &sha->sha512);
        break;
    case TSIG_HMAC_SHA512:
        SHA512_Final(out, &sha->sha512);
        break;
    }
}

void
tsig_hmac_key_init(struct tsig_key *key, const uint8_t *secret, size_t len)
{
    enum tsig_algorithm alg = key->algorithm;
    size_t block = block_len(alg);
    uint8_t k[BLOCK_MAX], pad[BLOCK_MAX];
    union tsig_sha tmp;
    /* RFC 2104 §2: a key longer than the block is replaced by its hash; shorter keys are
     * padded with zeros to the block. */
    memset(k, 0, sizeof(k));
    if (len > block) {
        sha_init(alg, &tmp);
        sha_update(alg, &tmp, secret, len);
        sha_final(alg, &tmp, k);
        OPENSSL_cleanse(&tmp, sizeof(tmp));
    } else {
        memcpy(k, secret, len);
    }
    for (size_t i = 0; i < block; i++)
        pad[i] = k[i] ^ 0x36; /* ipad */
    sha_init(alg, &key->inner);
    sha_update(alg, &key->inner, pad, block);
    for (size_t i = 0; i < block; i++)
        pad[i] = k[i] ^ 0x5c; /* opad */
    sha_init(alg, &key->outer);
    sha_update(alg, &key->outer, pad, block);
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(pad, sizeof(pad));
}

void
tsig_hmac_init(struct tsig_hmac *h, const struct tsig_key *key)
{
    h->key = key;
    h->sha = key->inner;
}

void
tsig_hmac_update(struct tsig_hmac *h, const void *data, size_t len)
{
    sha_update(h->key->algorithm, &h->sha, data, len);
}

size_t
tsig_hmac_final(struct tsig_hmac *h, uint8_t out[TSIG_MAC_MAX])
{
    enum tsig_algorithm alg = h->key->algorithm;
    size_t n = tsig_algorithm_mac_len(alg);
    uint8_t inner[TSIG_MAC_MAX];
    sha_final(alg, &h->sha, inner);
    union tsig_sha outer = h->key->outer;
    sha_update(alg, &outer, inner, n);
    sha_final(alg, &outer, out);
    OPENSSL_cleanse(&h->sha, sizeof(h->sha));
    return n;
}
