// SPDX-License-Identifier: MIT
/* RRSIG signing and verification (dnssec_sign.h): the signed data of RFC 4034 §3.1.8.1 (the
 * RRSIG RDATA without its signature, then every RR of the RRset in canonical form and order,
 * §6.2-6.3), signed with ECDSA P-256/SHA-256 (RFC 6605, the signature as r|s: §4) or Ed25519
 * (RFC 8080 §4). A struct dnssec_signer keeps one thread's OpenSSL contexts and scratch
 * memory from one signature to the next: OpenSSL 3 looks the algorithm up in its provider
 * tables (under locks) whenever a context is set up, which made two signing threads contend
 * when each signature had its own. Loader threads only. */
#include <errno.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/dnswire.h"
#include "dnssec/dnssec_internal.h"
#include "dnssec/dnssec_sign.h"

#define P256_HALF 32     /* r and s are 32 octets each (RFC 6605 §4) */
#define SHA256_LEN 32    /* RFC 6605 §2: ECDSAP256SHA256 signs a SHA-256 digest */
#define ECDSA_DER_MAX 80 /* SEQUENCE of two INTEGERs of up to 33 octets: 72 */

/* Types in RFC 4034 §6.2 item 3 that dnswire.h does not name (RFC 1035 §3.3, RFC 1183,
 * RFC 2163, RFC 2535, RFC 2915, RFC 2230, RFC 2874). */
enum {
    TYPE_MD = 3,
    TYPE_MF = 4,
    TYPE_MB = 7,
    TYPE_MG = 8,
    TYPE_MR = 9,
    TYPE_MINFO = 14,
    TYPE_RP = 17,
    TYPE_AFSDB = 18,
    TYPE_RT = 21,
    TYPE_SIG = 24,
    TYPE_PX = 26,
    TYPE_NXT = 30,
    TYPE_NAPTR = 35,
    TYPE_KX = 36,
    TYPE_A6 = 38,
};

/* Where the names to lowercase sit in a type's RDATA, as a walk: 'N' a name, '2' a 16-bit
 * field, 'S' a character-string, 'F' the 18 fixed octets of SIG/RRSIG. RFC 4034 §6.2 item 3
 * as corrected by RFC 6840 §5.1: RRSIG's signer is lowercased, NSEC's next name is not, and
 * HINFO has no names. Types not listed (NSEC, SVCB, HTTPS and every later one: RFC 3597 §7)
 * keep their case. A6 is walked apart. */
static const char *
name_walk(uint16_t type)
{
    switch (type) {
    case DNS_TYPE_NS:
    case TYPE_MD:
    case TYPE_MF:
    case DNS_TYPE_CNAME:
    case TYPE_MB:
    case TYPE_MG:
    case TYPE_MR:
    case DNS_TYPE_PTR:
    case TYPE_NXT:
    case DNS_TYPE_DNAME:
        return "N";
    case DNS_TYPE_SOA:
    case TYPE_MINFO:
    case TYPE_RP:
        return "NN";
    case DNS_TYPE_MX:
    case TYPE_AFSDB:
    case TYPE_RT:
    case TYPE_KX:
        return "2N";
    case TYPE_PX:
        return "2NN";
    case DNS_TYPE_SRV:
        return "222N";
    case TYPE_NAPTR:
        return "22SSSN";
    case TYPE_SIG:
    case DNS_TYPE_RRSIG:
        return "FN";
    }
    return "";
}

/* Copies one record's RDATA to dst with its names lowercased (RFC 4034 §6.2 item 3). -1 if
 * a field it must walk runs past the RDATA. */
static int
canonical_rdata(uint16_t type, const uint8_t *rd, size_t len, uint8_t *dst)
{
    const char *walk = name_walk(type);
    size_t pos = 0;
    memcpy(dst, rd, len);
    if (type == TYPE_A6) {
        /* RFC 2874 §3.1.1: prefix length, the address suffix, a prefix name if it is > 0. */
        if (len < 1 || rd[0] > 128)
            return -1;
        pos = 1 + (size_t)(128 - rd[0] + 7) / 8;
        walk = rd[0] > 0 ? "N" : "";
    }
    for (; *walk; walk++) {
        if (*walk == 'N') {
            int n = pos < len ? dname_wire_length(rd + pos, len - pos) : -1;
            if (n < 0)
                return -1;
            dname_lower_copy(dst + pos, rd + pos);
            pos += (size_t)n;
        } else if (*walk == '2') {
            pos += 2;
        } else if (*walk == 'F') {
            pos += DNSSEC_RRSIG_FIXED;
        } else { /* 'S': a length octet and that many */
            pos += pos < len ? 1u + rd[pos] : 1;
        }
        if (pos > len)
            return -1;
    }
    return 0;
}

/* One record's canonical RDATA. */
struct canon_rr {
    const uint8_t *rdata;
    uint16_t len;
};

/* RFC 4034 §6.3: RDATA compared as left-justified unsigned octet strings, a missing octet
 * sorting before a zero. */
static int
canon_order(const void *a, const void *b)
{
    const struct canon_rr *x = a, *y = b;
    int c = memcmp(x->rdata, y->rdata, x->len < y->len ? x->len : y->len);
    return c ? c : (int)x->len - (int)y->len;
}

/* Memory reused from one signed data to the next (grown, never shrunk). */
struct scratch {
    struct canon_rr *rrs;
    uint8_t *rdata, *data;
    size_t rrs_cap, rdata_cap, data_cap;
};

static void *
grow(void *p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return p;
    *cap = need > 2 * *cap ? need : 2 * *cap;
    return xrealloc(p, *cap);
}

static void
scratch_fini(struct scratch *m)
{
    free(m->rrs);
    free(m->rdata);
    free(m->data);
}

/* The signed data of RFC 4034 §3.1.8.1 into m->data (*out_len bytes): head (the 18 fixed
 * RRSIG octets) and the lowercased signer, then each distinct record as owner | type | class |
 * TTL | RDATA length | RDATA, sorted. owner is already canonical (lowercased, or the wildcard
 * form of RFC 4035 §5.3.2). -1 for malformed RDATA. */
static int
signed_data(struct scratch *m, const uint8_t *head, const uint8_t *signer, const uint8_t *owner,
            uint16_t type, uint16_t rclass, uint32_t ttl, const uint8_t *rdata, uint16_t count,
            size_t *out_len)
{
    size_t total = 0, unique = 0;
    int owner_len = dname_wire_length(owner, DNAME_MAX_LEN);
    int signer_len = dname_wire_length(signer, DNAME_MAX_LEN);
    m->rrs = grow(m->rrs, &m->rrs_cap, (count ? count : 1) * sizeof(*m->rrs));
    struct canon_rr *rrs = m->rrs;
    const uint8_t *p = rdata;
    for (uint16_t i = 0; i < count; i++) {
        rrs[i].len = dnswire_get16(p);
        total += rrs[i].len;
        p += 2 + rrs[i].len;
    }
    m->rdata = grow(m->rdata, &m->rdata_cap, total ? total : 1);
    uint8_t *scratch = m->rdata;
    p = rdata;
    total = 0;
    for (uint16_t i = 0; i < count; i++) {
        if (canonical_rdata(type, p + 2, rrs[i].len, scratch + total) < 0)
            return -1;
        rrs[i].rdata = scratch + total;
        total += rrs[i].len;
        p += 2 + rrs[i].len;
    }
    qsort(rrs, count, sizeof(*rrs), canon_order);
    /* RFC 4034 §6.3: an RRset has no duplicate records; equal canonical forms are one. */
    for (uint16_t i = 0; i < count; i++)
        if (unique == 0 || canon_order(&rrs[unique - 1], &rrs[i]) != 0)
            rrs[unique++] = rrs[i];
    size_t len = DNSSEC_RRSIG_FIXED + (size_t)signer_len;
    for (size_t i = 0; i < unique; i++)
        len += (size_t)owner_len + 10 + rrs[i].len;
    m->data = grow(m->data, &m->data_cap, len);
    uint8_t *data = m->data;
    memcpy(data, head, DNSSEC_RRSIG_FIXED);
    uint8_t *w = data + DNSSEC_RRSIG_FIXED;
    w += dname_lower_copy(w, signer);
    for (size_t i = 0; i < unique; i++) {
        memcpy(w, owner, (size_t)owner_len);
        w += owner_len;
        dnswire_put16(w, type);
        dnswire_put16(w + 2, rclass);
        dnswire_put32(w + 4, ttl);
        dnswire_put16(w + 8, rrs[i].len);
        memcpy(w + 10, rrs[i].rdata, rrs[i].len);
        w += 10 + rrs[i].len;
    }
    *out_len = len;
    return 0;
}

/* One key's contexts in a signer, set up on its first signature. */
struct signer_key {
    const struct dnssec_key *key;
    EVP_PKEY_CTX *ecdsa; /* ECDSA: initialised for signing digests (EVP_PKEY_sign) */
    EVP_MD_CTX *eddsa;   /* Ed25519: initialised for one-shot signing (EVP_DigestSign) */
};

#define SIGNER_KEYS 16 /* a zone has at most DNSSEC_MAX_KEYS signing keys */

struct dnssec_signer {
    struct signer_key keys[SIGNER_KEYS];
    unsigned key_count;
    EVP_MD *sha256;     /* fetched once: EVP_sha256() would be looked up on each use */
    EVP_MD_CTX *digest; /* reused for every ECDSA digest */
    struct scratch mem;
};

struct dnssec_signer *
dnssec_signer_new(void)
{
    return xcalloc(1, sizeof(struct dnssec_signer));
}

static void
signer_key_fini(struct signer_key *k)
{
    EVP_PKEY_CTX_free(k->ecdsa);
    EVP_MD_CTX_free(k->eddsa);
    memset(k, 0, sizeof(*k));
}

void
dnssec_signer_free(struct dnssec_signer *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < s->key_count; i++)
        signer_key_fini(&s->keys[i]);
    EVP_MD_CTX_free(s->digest);
    EVP_MD_free(s->sha256);
    scratch_fini(&s->mem);
    free(s);
}

/* Sets up (or re-initialises) the Ed25519 context of k. 0 or -1. */
static int
eddsa_init(struct signer_key *k)
{
    if (!k->eddsa && !(k->eddsa = EVP_MD_CTX_new()))
        return -1;
    return EVP_DigestSignInit(k->eddsa, NULL, NULL, NULL, k->key->pkey) == 1 ? 0 : -1;
}

/* key's contexts in s, made on first use; NULL if OpenSSL fails. The key must outlive s's
 * use of it (a signer lives for one signing run of one key set). */
static struct signer_key *
signer_key(struct dnssec_signer *s, const struct dnssec_key *key)
{
    for (unsigned i = 0; i < s->key_count; i++)
        if (s->keys[i].key == key)
            return &s->keys[i];
    if (s->key_count == SIGNER_KEYS) /* cannot happen with one zone's keys: start again */
        while (s->key_count > 0)
            signer_key_fini(&s->keys[--s->key_count]);
    struct signer_key *k = &s->keys[s->key_count];
    k->key = key;
    bool ok;
    if (key->algorithm == DNSSEC_ALG_ED25519) {
        ok = eddsa_init(k) == 0;
    } else {
        k->ecdsa = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
        ok = k->ecdsa && EVP_PKEY_sign_init(k->ecdsa) == 1 &&
             EVP_PKEY_CTX_set_signature_md(k->ecdsa, EVP_sha256()) == 1;
    }
    if (!ok) {
        signer_key_fini(k);
        return NULL;
    }
    s->key_count++;
    return k;
}

/* RFC 6605 §4: the signature is r | s, each 32 octets, not OpenSSL's DER. */
static int
ecdsa_raw(const uint8_t *der, size_t der_len, uint8_t *sig)
{
    const uint8_t *p = der;
    const BIGNUM *r, *s;
    int ret = -1;
    ECDSA_SIG *ecdsa = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (!ecdsa)
        return -1;
    ECDSA_SIG_get0(ecdsa, &r, &s);
    if (BN_bn2binpad(r, sig, P256_HALF) == P256_HALF &&
        BN_bn2binpad(s, sig + P256_HALF, P256_HALF) == P256_HALF)
        ret = 0;
    ECDSA_SIG_free(ecdsa);
    return ret;
}

/* Signs data with the contexts of s; sig gets DNSSEC_SIGNATURE_LEN octets. 0 or -1. */
static int
sign_data(struct dnssec_signer *s, const struct dnssec_key *key, const uint8_t *data, size_t len,
          uint8_t *sig)
{
    int ret = -1;
    struct signer_key *k = signer_key(s, key);
    if (!k)
        goto out;
    if (k->eddsa) {
        /* Ed25519 hashes inside (RFC 8032 PureEdDSA): one-shot only. The context signs
         * again as initialised; should an OpenSSL refuse that, it is initialised anew. */
        size_t sig_len = DNSSEC_SIGNATURE_LEN;
        if (EVP_DigestSign(k->eddsa, sig, &sig_len, data, len) != 1) {
            sig_len = DNSSEC_SIGNATURE_LEN;
            if (eddsa_init(k) < 0 || EVP_DigestSign(k->eddsa, sig, &sig_len, data, len) != 1)
                goto out;
        }
        ret = sig_len == DNSSEC_SIGNATURE_LEN ? 0 : -1;
        goto out;
    }
    uint8_t md[SHA256_LEN], der[ECDSA_DER_MAX];
    unsigned md_len = 0;
    size_t der_len = sizeof(der);
    if (!s->sha256 && !(s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)))
        goto out;
    if (!s->digest && !(s->digest = EVP_MD_CTX_new()))
        goto out;
    if (EVP_DigestInit_ex2(s->digest, s->sha256, NULL) != 1 ||
        EVP_DigestUpdate(s->digest, data, len) != 1 ||
        EVP_DigestFinal_ex(s->digest, md, &md_len) != 1 || md_len != SHA256_LEN ||
        EVP_PKEY_sign(k->ecdsa, der, &der_len, md, md_len) != 1)
        goto out;
    ret = ecdsa_raw(der, der_len, sig);
out:
    ERR_clear_error();
    return ret;
}

/* Verifies sig (DNSSEC_SIGNATURE_LEN octets) over data with a public key. true if good. */
static bool
verify_data(EVP_PKEY *pkey, uint8_t algorithm, const uint8_t *data, size_t len, const uint8_t *sig)
{
    uint8_t der[ECDSA_DER_MAX], *q = der;
    const uint8_t *checked = sig;
    size_t checked_len = DNSSEC_SIGNATURE_LEN;
    bool good = false;
    ECDSA_SIG *ecdsa = NULL;
    BIGNUM *r = NULL, *s = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const EVP_MD *md = algorithm == DNSSEC_ALG_ED25519 ? NULL : EVP_sha256();
    if (!ctx)
        goto out;
    if (md) {
        /* RFC 6605 §4: r | s back to the DER that OpenSSL verifies. */
        ecdsa = ECDSA_SIG_new();
        r = BN_bin2bn(sig, P256_HALF, NULL);
        s = BN_bin2bn(sig + P256_HALF, P256_HALF, NULL);
        if (!ecdsa || !r || !s || !ECDSA_SIG_set0(ecdsa, r, s))
            goto out;
        r = s = NULL; /* owned by ecdsa now */
        int n = i2d_ECDSA_SIG(ecdsa, &q);
        if (n <= 0)
            goto out;
        checked = der;
        checked_len = (size_t)n;
    }
    good = EVP_DigestVerifyInit(ctx, NULL, md, NULL, pkey) == 1 &&
           EVP_DigestVerify(ctx, checked, checked_len, data, len) == 1;
out:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(ecdsa);
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return good;
}

/* RFC 4034 §3.1.3: the owner's labels, a leading "*" label not counted. */
static uint8_t
rrsig_labels(const uint8_t *owner)
{
    int n = dname_label_count(owner);
    return (uint8_t)(owner[0] == 1 && owner[1] == '*' ? n - 1 : n);
}

int
dnssec_signer_sign_rrset(struct dnssec_signer *s, const struct dnssec_key *key,
                         const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
                         const uint8_t *rdata, uint16_t count, uint32_t inception,
                         uint32_t expiration, const uint8_t *signer, uint8_t *out, size_t out_max)
{
    uint8_t lowered[DNAME_MAX_LEN];
    size_t data_len = 0;
    if (!signer)
        signer = key->owner;
    int signer_len = dname_wire_length(signer, DNAME_MAX_LEN);
    /* RFC 4035 §2.2: RRSIGs are not signed; §5.3.1: the signer's zone holds the owner. */
    if (dname_wire_length(owner, DNAME_MAX_LEN) < 0 || signer_len < 0 || count == 0 ||
        type == DNS_TYPE_RRSIG || !dname_is_subdomain(owner, signer))
        return -EINVAL;
    size_t len = DNSSEC_RRSIG_FIXED + (size_t)signer_len + DNSSEC_SIGNATURE_LEN;
    if (len > out_max)
        return -ENOSPC;
    /* RFC 4034 §3.1: the RRSIG RDATA up to the signature, which is what is signed with the
     * records (§3.1.8.1). */
    dnswire_put16(out, type);
    out[2] = key->algorithm;
    out[3] = rrsig_labels(owner);
    dnswire_put32(out + 4, ttl);
    dnswire_put32(out + 8, expiration);
    dnswire_put32(out + 12, inception);
    dnswire_put16(out + 16, key->tag);
    /* RFC 4034 §6.2 item 3 (RRSIG) and RFC 6840 §5.1: the signer is lowercased. */
    dname_lower_copy(out + DNSSEC_RRSIG_FIXED, signer);
    dname_lower_copy(lowered, owner);
    if (signed_data(&s->mem, out, out + DNSSEC_RRSIG_FIXED, lowered, type, rclass, ttl, rdata,
                    count, &data_len) < 0)
        return -EINVAL;
    return sign_data(s, key, s->mem.data, data_len, out + len - DNSSEC_SIGNATURE_LEN) < 0
               ? -EIO
               : (int)len;
}

int
dnssec_sign_rrset(const struct dnssec_key *key, const uint8_t *owner, uint16_t type,
                  uint16_t rclass, uint32_t ttl, const uint8_t *rdata, uint16_t count,
                  uint32_t inception, uint32_t expiration, const uint8_t *signer, uint8_t *out,
                  size_t out_max)
{
    struct dnssec_signer *s = dnssec_signer_new();
    int ret = dnssec_signer_sign_rrset(s, key, owner, type, rclass, ttl, rdata, count, inception,
                                       expiration, signer, out, out_max);
    dnssec_signer_free(s);
    return ret;
}

/* RFC 4035 §5.3.2: the owner whose RRset was signed. An owner with more labels than the
 * RRSIG's labels field answered from a wildcard: "*" and its rightmost `labels` labels. */
static void
signed_owner(const uint8_t *owner, int owner_labels, uint8_t labels, uint8_t out[DNAME_MAX_LEN])
{
    if (owner_labels <= labels) {
        dname_lower_copy(out, owner);
        return;
    }
    for (int skip = owner_labels - labels; skip > 0; skip--)
        owner += 1u + owner[0];
    out[0] = 1;
    out[1] = '*';
    dname_lower_copy(out + 2, owner);
}

int
dnssec_verify_rrset(const uint8_t *dnskey, size_t dnskey_len, const uint8_t *owner, uint16_t type,
                    uint16_t rclass, uint32_t ttl, const uint8_t *rdata, uint16_t count,
                    const uint8_t *rrsig, size_t rrsig_len, const char **why)
{
    uint8_t canonical[DNAME_MAX_LEN];
    struct scratch mem = {0};
    size_t data_len = 0;
    const char *reason = NULL;
    EVP_PKEY *pkey = NULL;
    int signer_len =
        rrsig_len > DNSSEC_RRSIG_FIXED
            ? dname_wire_length(rrsig + DNSSEC_RRSIG_FIXED, rrsig_len - DNSSEC_RRSIG_FIXED)
            : -1;
    int owner_labels = dname_wire_length(owner, DNAME_MAX_LEN) < 0 ? -1 : dname_label_count(owner);
    if (dnskey_len < 4 || !(dnswire_get16(dnskey) & DNSSEC_FLAG_ZONE) || dnskey[2] != 3)
        reason = "not a zone key (RFC 4034 §2.1.1-2)";
    else if (!(pkey = dnssec_pkey_from_dnskey(dnskey, dnskey_len)))
        reason = "unsupported algorithm or malformed public key";
    else if (signer_len < 0 ||
             rrsig_len != DNSSEC_RRSIG_FIXED + (size_t)signer_len + DNSSEC_SIGNATURE_LEN)
        reason = "malformed RRSIG";
    else if (owner_labels < 0 || count == 0)
        reason = "malformed owner or empty RRset";
    else if (dnswire_get16(rrsig) != type)
        reason = "the RRSIG covers another type";
    else if (rrsig[2] != dnskey[3] ||
             dnswire_get16(rrsig + 16) != dnssec_key_tag(dnskey, dnskey_len))
        reason = "the RRSIG's algorithm or key tag is not the key's";
    else if (rrsig[3] > owner_labels)
        reason = "the RRSIG's labels exceed the owner's (RFC 4035 §5.3.1)";
    else if (dnswire_get32(rrsig + 4) != ttl)
        reason = "the TTL is not the RRSIG's original TTL";
    else if (!dname_is_subdomain(owner, rrsig + DNSSEC_RRSIG_FIXED))
        reason = "the owner is not in the signer's zone (RFC 4035 §5.3.1)";
    if (reason)
        goto out;
    signed_owner(owner, owner_labels, rrsig[3], canonical);
    if (signed_data(&mem, rrsig, rrsig + DNSSEC_RRSIG_FIXED, canonical, type, rclass, ttl, rdata,
                    count, &data_len) < 0)
        reason = "malformed RDATA";
    else if (!verify_data(pkey, dnskey[3], mem.data, data_len,
                          rrsig + rrsig_len - DNSSEC_SIGNATURE_LEN))
        reason = "the signature does not verify";
out:
    scratch_fini(&mem);
    EVP_PKEY_free(pkey);
    if (why)
        *why = reason;
    return reason ? -1 : 0;
}
