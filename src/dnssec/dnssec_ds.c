// SPDX-License-Identifier: MIT
/* DS digests (RFC 4034 §5.1.4, RFC 4509 §2.1, RFC 6605 §2) and the presentation text of the
 * records a parent or an operator needs: DNSKEY and CDNSKEY (RFC 4034 §2.2, RFC 7344 §3.2),
 * DS and CDS (RFC 4034 §5.3, RFC 7344 §3.1). Pure functions on caller memory plus a digest
 * context per call: any thread. */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "common/base64.h"
#include "common/dnswire.h"
#include "dnssec/dnssec_internal.h"

int
dnssec_ds_rdata(const uint8_t *owner, const uint8_t *dnskey, size_t dnskey_len, uint8_t digest_type,
                uint8_t *out, size_t out_max)
{
    uint8_t lowered[DNAME_MAX_LEN];
    unsigned digest_len = 0;
    const EVP_MD *md = digest_type == DNSSEC_DIGEST_SHA256   ? EVP_sha256()
                       : digest_type == DNSSEC_DIGEST_SHA384 ? EVP_sha384()
                                                             : NULL;
    if (!md || dnskey_len < 4 || out_max < 4 + (size_t)EVP_MD_get_size(md) ||
        dname_wire_length(owner, DNAME_MAX_LEN) < 0)
        return -1;
    /* §5.1.4: digest = H(canonical owner name | DNSKEY RDATA); canonical = lowercased,
     * uncompressed (§6.2). */
    int owner_len = dname_lower_copy(lowered, owner);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
             EVP_DigestUpdate(ctx, lowered, (size_t)owner_len) == 1 &&
             EVP_DigestUpdate(ctx, dnskey, dnskey_len) == 1 &&
             EVP_DigestFinal_ex(ctx, out + 4, &digest_len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -1;
    /* §5.1: key tag, algorithm (the DNSKEY's), digest type, digest. */
    dnswire_put16(out, dnssec_key_tag(dnskey, dnskey_len));
    out[2] = dnskey[3];
    out[3] = digest_type;
    return (int)(4 + digest_len);
}

/* The mnemonic of the types this file renders, NULL for others. */
static const char *
type_name(uint16_t type)
{
    switch (type) {
    case DNS_TYPE_DNSKEY:
        return "DNSKEY";
    case DNS_TYPE_CDNSKEY:
        return "CDNSKEY";
    case DNS_TYPE_DS:
        return "DS";
    case DNS_TYPE_CDS:
        return "CDS";
    }
    return NULL;
}

int
dnssec_rdata_text(uint16_t type, const uint8_t *rdata, size_t len, char *out, size_t size)
{
    /* RFC 4034 §2.2 and §5.3: the four fixed octets as decimals (flags, protocol and
     * algorithm; key tag, algorithm and digest type), then the key or digest. */
    if (!type_name(type) || len < 5)
        return -1;
    int n = snprintf(out, size, "%u %u %u ", dnswire_get16(rdata), rdata[2], rdata[3]);
    if (n < 0 || (size_t)n >= size)
        return -1;
    if (type == DNS_TYPE_DNSKEY || type == DNS_TYPE_CDNSKEY)
        return base64_encode(rdata + 4, len - 4, out + n, size - (size_t)n) < 0 ? -1 : 0;
    /* The digest in hex, upper case as BIND's dnssec-dsfromkey and the RFC examples. */
    if ((size_t)n + 2 * (len - 4) + 1 > size)
        return -1;
    for (size_t i = 4; i < len; i++)
        n += snprintf(out + n, size - (size_t)n, "%02X", rdata[i]);
    return 0;
}

int
dnssec_rr_text(const uint8_t *owner, uint32_t ttl, uint16_t type, const uint8_t *rdata, size_t len,
               char *out, size_t size)
{
    char name[DNAME_TEXT_MAX];
    if (!type_name(type) || dname_wire_length(owner, DNAME_MAX_LEN) < 0)
        return -1;
    dname_to_text(owner, name, sizeof(name));
    int n = snprintf(out, size, "%s %u IN %s ", name, ttl, type_name(type));
    if (n < 0 || (size_t)n >= size)
        return -1;
    return dnssec_rdata_text(type, rdata, len, out + n, size - (size_t)n);
}
