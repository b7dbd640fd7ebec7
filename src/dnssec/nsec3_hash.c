// SPDX-License-Identifier: MIT
/* The NSEC3 hash of a name (RFC 5155 §5), base32hex (RFC 4648 §7) for hashed owner names and
 * the NSEC3PARAM RDATA (RFC 5155 §4.2). nsec3_hash runs on the query path (negative answers
 * hash the next closer name and a wildcard): any thread, no allocation, no locks. */

/* The exception to "no deprecated APIs": OpenSSL 3.0's one-shot SHA1() and the EVP digests
 * fetch the algorithm (a lock) and allocate a context on every call; only the low-level
 * SHA1_Init/Update/Final work on the caller's stack, which the answer path needs. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <string.h>

#include "common/dnswire.h"
#include "dnssec/nsec3.h"

void
nsec3_hash(const uint8_t *lname, const struct nsec3_params *p, uint8_t out[NSEC3_HASH_LEN])
{
    _Static_assert(SHA_DIGEST_LENGTH == NSEC3_HASH_LEN, "NSEC3 hashes are SHA-1 digests");
    SHA_CTX ctx;
    int len = dname_wire_length(lname, DNAME_MAX_LEN);
    /* IH(salt, x, 0) = H(x || salt); IH(salt, x, k) = H(IH(salt, x, k-1) || salt). */
    SHA1_Init(&ctx);
    SHA1_Update(&ctx, lname, len > 0 ? (size_t)len : 0);
    SHA1_Update(&ctx, p->salt, p->salt_len);
    SHA1_Final(out, &ctx);
    for (unsigned i = 0; i < p->iterations; i++) {
        SHA1_Init(&ctx);
        SHA1_Update(&ctx, out, NSEC3_HASH_LEN);
        SHA1_Update(&ctx, p->salt, p->salt_len);
        SHA1_Final(out, &ctx);
    }
}

int
nsec3_base32hex(const uint8_t *in, size_t len, char *out, size_t out_size)
{
    static const char alphabet[] = "0123456789abcdefghijklmnopqrstuv";
    size_t chars = (len * 8 + 4) / 5;
    if (chars + 1 > out_size)
        return -1;
    /* Five bits at a time from the top of a bit buffer; the last group is zero-padded on
     * the right (RFC 4648 §6), and no "=" padding follows (RFC 5155 §3.3). */
    uint32_t buf = 0;
    unsigned bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        buf = buf << 8 | in[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[n++] = alphabet[(buf >> bits) & 31];
        }
    }
    if (bits > 0)
        out[n++] = alphabet[(buf << (5 - bits)) & 31];
    out[n] = '\0';
    return (int)n;
}

int
nsec3_param_rdata(const struct nsec3_params *p, uint8_t *out, size_t size)
{
    size_t rdlen = 5u + p->salt_len;
    if (size < 2 + rdlen)
        return -1;
    dnswire_put16(out, (uint16_t)rdlen);
    out[2] = NSEC3_ALG_SHA1;
    out[3] = 0; /* RFC 5155 §4.1.2: flags, opt-out is not set in NSEC3PARAM */
    dnswire_put16(out + 4, p->iterations);
    out[6] = p->salt_len;
    memcpy(out + 7, p->salt, p->salt_len);
    return (int)(2 + rdlen);
}
