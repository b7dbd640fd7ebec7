// SPDX-License-Identifier: MIT
/* Key pairs (dnssec_key.h): OpenSSL keys made from raw private keys (generated ones go
 * through the same path, so a generated and a loaded key are built alike), their DNSKEY
 * RDATA and key tag, the public keys of DNSKEY RDATA for verifying, and the module's error
 * helpers (dnssec_internal.h). Runs on loader threads; no globals. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/dnswire.h"
#include "dnssec/dnssec_internal.h"

#define P256_GROUP "prime256v1"
#define P256_POINT_LEN 65 /* 0x04 | x | y (SEC 1 §2.3.3, uncompressed) */

void
dnssec_errorf(char err[DNSSEC_ERR_MAX], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, DNSSEC_ERR_MAX, fmt, ap);
    va_end(ap);
}

void
dnssec_crypto_errorf(char err[DNSSEC_ERR_MAX], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err, DNSSEC_ERR_MAX, fmt, ap);
    va_end(ap);
    /* The oldest error is the cause; the queue is per thread, so nothing else reads it. */
    const char *reason = ERR_reason_error_string(ERR_get_error());
    if (n >= 0 && n < DNSSEC_ERR_MAX)
        snprintf(err + n, DNSSEC_ERR_MAX - (size_t)n, ": %s", reason ? reason : "OpenSSL error");
    ERR_clear_error();
}

const char *
dnssec_algorithm_name(uint8_t algorithm)
{
    switch (algorithm) {
    case DNSSEC_ALG_ECDSAP256SHA256:
        return "ECDSAP256SHA256";
    case DNSSEC_ALG_ED25519:
        return "ED25519";
    }
    return NULL;
}

size_t
dnssec_public_len(uint8_t algorithm)
{
    switch (algorithm) {
    case DNSSEC_ALG_ECDSAP256SHA256:
        return 64; /* RFC 6605 §4: x | y */
    case DNSSEC_ALG_ED25519:
        return 32; /* RFC 8080 §3 */
    }
    return 0;
}

uint16_t
dnssec_key_tag(const uint8_t *rdata, size_t len)
{
    /* RFC 4034 B.1: RSA/MD5 keys take the tag from the modulus' least significant bits. */
    if (len >= 7 && rdata[3] == 1)
        return dnswire_get16(rdata + len - 3);
    /* RFC 4034 Appendix B: the RDATA as 16-bit big-endian words, summed with the carries
     * folded back once. 32 bits hold 32,768 words of at most 0xFFFF. */
    uint32_t ac = 0;
    for (size_t i = 0; i < len; i++)
        ac += (i & 1) ? rdata[i] : (uint32_t)rdata[i] << 8;
    ac += (ac >> 16) & 0xFFFF;
    return (uint16_t)(ac & 0xFFFF);
}

/* An EC key from OpenSSL parameters: the group and public point, with the private scalar
 * if d is not NULL. */
static EVP_PKEY *
p256_from_params(const BIGNUM *d, const uint8_t point[P256_POINT_LEN])
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, P256_GROUP, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, P256_POINT_LEN) ||
        (d && !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d)))
        goto out;
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    /* The import checks that the point is on the curve (EC_POINT_oct2point). */
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
out:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

/* A P-256 key pair from the scalar; pub gets x | y. OpenSSL 3.0 does not derive the public
 * point on import, so it is computed here: d x G. */
static EVP_PKEY *
p256_from_private(const uint8_t priv[DNSSEC_PRIVATE_LEN], uint8_t pub[64], char err[DNSSEC_ERR_MAX])
{
    EVP_PKEY *pkey = NULL;
    EC_POINT *point = NULL;
    uint8_t oct[P256_POINT_LEN];
    EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *d = BN_secure_new();
    if (!group || !d || !BN_bin2bn(priv, DNSSEC_PRIVATE_LEN, d)) {
        dnssec_crypto_errorf(err, "P-256 key");
        goto out;
    }
    /* SEC 1 §3.2.1: the private key is in [1, n-1]. */
    if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(group)) >= 0) {
        dnssec_errorf(err, "the P-256 private key is out of range");
        goto out;
    }
    point = EC_POINT_new(group);
    if (!point || !EC_POINT_mul(group, point, d, NULL, NULL, NULL) ||
        EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED, oct, sizeof(oct), NULL) !=
            sizeof(oct) ||
        !(pkey = p256_from_params(d, oct))) {
        dnssec_crypto_errorf(err, "P-256 key");
        goto out;
    }
    memcpy(pub, oct + 1, 64);
out:
    EC_POINT_free(point);
    BN_clear_free(d);
    EC_GROUP_free(group);
    return pkey;
}

static EVP_PKEY *
ed25519_from_private(const uint8_t priv[DNSSEC_PRIVATE_LEN], uint8_t pub[32],
                     char err[DNSSEC_ERR_MAX])
{
    size_t len = 32;
    EVP_PKEY *pkey =
        EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519", NULL, priv, DNSSEC_PRIVATE_LEN);
    if (!pkey || EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1 || len != 32) {
        dnssec_crypto_errorf(err, "Ed25519 key");
        EVP_PKEY_free(pkey);
        return NULL;
    }
    return pkey;
}

EVP_PKEY *
dnssec_pkey_from_dnskey(const uint8_t *rdata, size_t len)
{
    if (len < 4 || len - 4 != dnssec_public_len(rdata[3]))
        return NULL;
    if (rdata[3] == DNSSEC_ALG_ED25519)
        return EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, rdata + 4, 32);
    uint8_t oct[P256_POINT_LEN];
    oct[0] = POINT_CONVERSION_UNCOMPRESSED;
    memcpy(oct + 1, rdata + 4, 64);
    EVP_PKEY *pkey = p256_from_params(NULL, oct);
    ERR_clear_error();
    return pkey;
}

int
dnssec_key_from_private(const uint8_t *owner, uint8_t algorithm, uint16_t flags,
                        const uint8_t *priv, size_t priv_len, struct dnssec_key **out,
                        char err[DNSSEC_ERR_MAX])
{
    uint8_t pub[DNSSEC_PUBLIC_MAX];
    size_t pub_len = dnssec_public_len(algorithm);
    *out = NULL;
    if (pub_len == 0) {
        dnssec_errorf(err, "algorithm %u is not supported (13 ECDSAP256SHA256 or 15 ED25519)",
                      algorithm);
        return -1;
    }
    if (priv_len != DNSSEC_PRIVATE_LEN) {
        dnssec_errorf(err, "the %s private key is %zu bytes, not %d",
                      dnssec_algorithm_name(algorithm), priv_len, DNSSEC_PRIVATE_LEN);
        return -1;
    }
    /* RFC 4034 §2.1.1: only a key with the Zone Key flag may verify RRSIGs. */
    if (!(flags & DNSSEC_FLAG_ZONE)) {
        dnssec_errorf(err, "flags %u lack the Zone Key bit (256)", flags);
        return -1;
    }
    if (dname_wire_length(owner, DNAME_MAX_LEN) < 0) {
        dnssec_errorf(err, "malformed zone name");
        return -1;
    }
    EVP_PKEY *pkey = algorithm == DNSSEC_ALG_ED25519 ? ed25519_from_private(priv, pub, err)
                                                     : p256_from_private(priv, pub, err);
    if (!pkey)
        return -1;
    struct dnssec_key *key = xcalloc(1, sizeof(*key));
    key->pkey = pkey;
    key->algorithm = algorithm;
    key->flags = flags;
    /* RFC 4034 §2.1: flags, protocol (always 3, §2.1.2), algorithm, public key. */
    dnswire_put16(key->rdata, flags);
    key->rdata[2] = 3;
    key->rdata[3] = algorithm;
    memcpy(key->rdata + 4, pub, pub_len);
    key->rdata_len = (uint16_t)(4 + pub_len);
    key->tag = dnssec_key_tag(key->rdata, key->rdata_len);
    dname_lower_copy(key->owner, owner);
    *out = key;
    return 0;
}

int
dnssec_key_private(const struct dnssec_key *key, uint8_t out[DNSSEC_PRIVATE_LEN])
{
    if (key->algorithm == DNSSEC_ALG_ED25519) {
        size_t len = DNSSEC_PRIVATE_LEN;
        return EVP_PKEY_get_raw_private_key(key->pkey, out, &len) == 1 && len == DNSSEC_PRIVATE_LEN
                   ? 0
                   : -1;
    }
    BIGNUM *d = NULL;
    int ret = EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1 &&
                      BN_bn2binpad(d, out, DNSSEC_PRIVATE_LEN) == DNSSEC_PRIVATE_LEN
                  ? 0
                  : -1;
    BN_clear_free(d);
    return ret;
}

int
dnssec_key_generate(const uint8_t *owner, uint8_t algorithm, uint16_t flags,
                    struct dnssec_key **out, char err[DNSSEC_ERR_MAX])
{
    uint8_t priv[DNSSEC_PRIVATE_LEN] = {0};
    EVP_PKEY *pkey = NULL;
    int ret = -1;
    *out = NULL;
    if (!dnssec_algorithm_name(algorithm)) /* refused there, with the reason */
        return dnssec_key_from_private(owner, algorithm, flags, priv, sizeof(priv), out, err);
    if (algorithm == DNSSEC_ALG_ECDSAP256SHA256)
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    else
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    /* Through the raw private key, so a generated key is exactly what loading its file
     * gives. */
    struct dnssec_key tmp = {.pkey = pkey, .algorithm = algorithm};
    if (!pkey || dnssec_key_private(&tmp, priv) < 0) {
        dnssec_crypto_errorf(err, "generating a %s key", dnssec_algorithm_name(algorithm));
        goto out;
    }
    if (dnssec_key_from_private(owner, algorithm, flags, priv, sizeof(priv), out, err) < 0)
        goto out;
    (*out)->created = time(NULL);
    ret = 0;
out:
    OPENSSL_cleanse(priv, sizeof(priv));
    EVP_PKEY_free(pkey);
    return ret;
}

void
dnssec_key_free(struct dnssec_key *key)
{
    if (!key)
        return;
    EVP_PKEY_free(key->pkey);
    free(key->path);
    free(key);
}
