// SPDX-License-Identifier: MIT
/* Unit tests for DNSSEC signing (src/dnssec/dnssec_sign.c) and DS/key tags (dnssec_ds.c,
 * dnssec_key.c): the known answers of RFC 8080 §6.1 (Ed25519 is deterministic, so the
 * RRSIG bytes are compared; the RRSIGs as corrected by verified Errata ID 4935), RFC 6605
 * §6.1-6.2, RFC 4034 §5.4 and RFC 4509 §2.3; canonical form and order (RFC 4034 §6, RFC 6840
 * §5.1) through the signatures themselves; tampering; wildcards; signing from several
 * threads with one key. Test RRsets are encoded by ldns (dnssec_test.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common/base64.h"
#include "common/dnswire.h"
#include "dnssec/dnssec_internal.h"
#include "dnssec/dnssec_key.h"
#include "dnssec/dnssec_sign.h"
#include "dnssec_test.h"

/* RFC 8080 §6.1 (and its Errata ID 4935 for the RRSIGs). */
#define RFC8080_INCEPTION 1438207200u  /* 20150729220000 */
#define RFC8080_EXPIRATION 1440021600u /* 20150819220000 */
static const struct {
    const char *priv, *dnskey, *ds, *sig;
    uint16_t tag;
} rfc8080[] = {
    {"ODIyNjAzODQ2MjgwODAxMjI2NDUxOTAyMDQxNDIyNjI=",
     "257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=",
     "3613 15 2 3AA5AB37EFCE57F737FC1627013FEE07BDF241BD10F3B1964AB55C78E79A304B",
     "oL9krJun7xfBOIWcGHi7mag5/hdZrKWw15jPGrHpjQeRAvTdszaPD+QLs3fx8A4M3e23mRZ9VrbpMngwcrqNAg==",
     3613},
    {"DSSF3o0s0f+ElWzj9E/Osxw8hLpk55chkmx0LYN5WiY=",
     "257 3 15 zPnZ/QwEe7S8C5SPz2OfS5RR40ATk2/rYnE9xHIEijs=",
     "35217 15 2 401781B934E392DE492EC77AE2E15D70F6575A1C0BC59C5275C04EBE80C6614C",
     "zXQ0bkYgQTEFyfLyi9QoiY6D8ZdYo4wyUhVioYZXFdT410QPRITQSqJSnzQoSm5poJ7gD7AQR0O7KuI5k2pcBg==",
     35217},
};

/* RFC 6605 §6.1. */
#define RFC6605_PRIV "GU6SnQ/Ou+xC5RumuIUIuJZteXT2z0O/ok1s38Et6mQ="
#define RFC6605_DNSKEY                                                                             \
    "257 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8" \
    "NAA=="
#define RFC6605_SIG                                                                                \
    "qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXAyGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw=="

static uint8_t name_buf[DNAME_MAX_LEN];

static struct dnssec_key *
key_from(const char *zone, uint8_t algorithm, uint16_t flags, const char *priv_b64)
{
    uint8_t priv[64];
    char err[DNSSEC_ERR_MAX];
    struct dnssec_key *key = NULL;
    int n = base64_decode(priv_b64, priv, sizeof(priv));
    assert_int_equal(n, DNSSEC_PRIVATE_LEN);
    if (dnssec_key_from_private(t_name(zone, name_buf), algorithm, flags, priv, (size_t)n, &key,
                                err) < 0)
        fail_msg("%s", err);
    return key;
}

static struct dnssec_key *
new_key(uint8_t algorithm, const char *zone)
{
    char err[DNSSEC_ERR_MAX];
    struct dnssec_key *key = NULL;
    if (dnssec_key_generate(t_name(zone, name_buf), algorithm, DNSSEC_FLAGS_KSK, &key, err) < 0)
        fail_msg("%s", err);
    return key;
}

static void
rrset(struct t_rrset *set, const char *const *lines)
{
    memset(set, 0, sizeof(*set));
    for (; *lines; lines++)
        assert_int_equal(t_rrset_add(set, *lines), 0);
}

static int
sign(const struct dnssec_key *key, const struct t_rrset *set, uint8_t sig[DNSSEC_RRSIG_RDATA_MAX])
{
    return dnssec_sign_rrset(key, set->owner, set->type, set->rclass, set->ttl, set->rdata,
                             set->count, 1700000000, 1702592000, NULL, sig, DNSSEC_RRSIG_RDATA_MAX);
}

/* The reason verify gives (NULL if it verifies). */
static const char *
verify(const struct dnssec_key *key, const struct t_rrset *set, const uint8_t *sig, int len)
{
    const char *why = NULL;
    int ret = dnssec_verify_rrset(key->rdata, key->rdata_len, set->owner, set->type, set->rclass,
                                  set->ttl, set->rdata, set->count, sig, (size_t)len, &why);
    assert_int_equal(ret, why ? -1 : 0);
    return why;
}

static void
assert_text(uint16_t type, const uint8_t *rdata, size_t len, const char *expect)
{
    char text[DNSSEC_RR_TEXT_MAX];
    assert_int_equal(dnssec_rdata_text(type, rdata, len, text, sizeof(text)), 0);
    assert_string_equal(text, expect);
}

static void
test_rfc8080_ed25519(void **state)
{
    static const char *const mx[] = {"example.com. 3600 IN MX 10 mail.example.com.", NULL};
    struct t_rrset set;
    uint8_t sig[DNSSEC_RRSIG_RDATA_MAX], ds[DNSSEC_DS_RDATA_MAX];
    char b64[128];
    (void)state;
    rrset(&set, mx);
    for (size_t i = 0; i < sizeof(rfc8080) / sizeof(rfc8080[0]); i++) {
        struct dnssec_key *key = key_from("example.com.", DNSSEC_ALG_ED25519, 257, rfc8080[i].priv);
        assert_text(DNS_TYPE_DNSKEY, key->rdata, key->rdata_len, rfc8080[i].dnskey);
        assert_int_equal(key->tag, rfc8080[i].tag);
        int n = dnssec_ds_rdata(key->owner, key->rdata, key->rdata_len, DNSSEC_DIGEST_SHA256, ds,
                                sizeof(ds));
        assert_int_equal(n, 4 + 32);
        assert_text(DNS_TYPE_DS, ds, (size_t)n, rfc8080[i].ds);
        /* "MX 15 2 3600 1440021600 1438207200 <tag> example.com. <signature>" */
        n = dnssec_sign_rrset(key, set.owner, set.type, set.rclass, set.ttl, set.rdata, set.count,
                              RFC8080_INCEPTION, RFC8080_EXPIRATION, NULL, sig, sizeof(sig));
        assert_int_equal(n, 18 + 13 + 64);
        const uint8_t head[18] = {0,
                                  15,
                                  15,
                                  2,
                                  0,
                                  0,
                                  0x0e,
                                  0x10,
                                  0x55,
                                  0xd4,
                                  0xfc,
                                  0x60,
                                  0x55,
                                  0xb9,
                                  0x4c,
                                  0xe0,
                                  (uint8_t)(rfc8080[i].tag >> 8),
                                  (uint8_t)rfc8080[i].tag};
        assert_memory_equal(sig, head, sizeof(head));
        assert_memory_equal(sig + 18, "\7example\3com", 13);
        assert_true(base64_encode(sig + 31, 64, b64, sizeof(b64)) > 0);
        assert_string_equal(b64, rfc8080[i].sig);
        assert_null(verify(key, &set, sig, n));
        dnssec_key_free(key);
    }
}

static void
test_rfc6605_p256(void **state)
{
    static const char *const a[] = {"www.example.net. 3600 IN A 192.0.2.1", NULL};
    struct t_rrset set;
    uint8_t rrsig[DNSSEC_RRSIG_RDATA_MAX], ds[DNSSEC_DS_RDATA_MAX];
    (void)state;
    rrset(&set, a);
    struct dnssec_key *key =
        key_from("example.net.", DNSSEC_ALG_ECDSAP256SHA256, 257, RFC6605_PRIV);
    assert_text(DNS_TYPE_DNSKEY, key->rdata, key->rdata_len, RFC6605_DNSKEY);
    assert_int_equal(key->tag, 55648);
    int n = dnssec_ds_rdata(key->owner, key->rdata, key->rdata_len, DNSSEC_DIGEST_SHA256, ds,
                            sizeof(ds));
    assert_int_equal(n, 36);
    assert_text(DNS_TYPE_DS, ds, (size_t)n,
                "55648 13 2 B4C8C1FE2E7477127B27115656AD6256F424625BF5C1E2770CE6D6E37DF61D17");
    /* The RFC's RRSIG: "A 13 3 3600 20100909100439 20100812100439 55648 example.net. ..." */
    static const uint8_t head[18] = {0,    1,    13,   3,    0,    0,    0x0e, 0x10, 0x4c,
                                     0x88, 0xb1, 0x37, 0x4c, 0x63, 0xc7, 0x37, 0xd9, 0x60};
    memcpy(rrsig, head, sizeof(head));
    memcpy(rrsig + 18, "\7example\3net", 13);
    assert_int_equal(base64_decode(RFC6605_SIG, rrsig + 31, 64), 64);
    assert_null(verify(key, &set, rrsig, 95));
    /* One bit of r, then one of s, makes it fail in the signature check itself. */
    for (size_t at = 31; at <= 31 + 63; at += 63) {
        rrsig[at] ^= 1;
        assert_string_equal(verify(key, &set, rrsig, 95), "the signature does not verify");
        rrsig[at] ^= 1;
    }
    /* ECDSA signatures are random: ours differs from the RFC's and verifies. */
    n = sign(key, &set, rrsig);
    assert_int_equal(n, 95);
    assert_null(verify(key, &set, rrsig, n));
    dnssec_key_free(key);
}

static void
test_key_tags_and_ds(void **state)
{
    /* RFC 4034 §5.4 / RFC 4509 §2.3 (RSASHA1: only the tag and digests are ours to check). */
    static const char rfc4034[] =
        "dskey.example.com. 86400 IN DNSKEY 256 3 5 AQOeiiR0GOMYkDshWoSKz9Xz"
        "fwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvx"
        "egXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/r ljwvFw==";
    /* RFC 6605 §6.2: P-384, for the SHA-384 digest type. */
    static const char rfc6605_384[] =
        "example.net. 3600 IN DNSKEY 257 3 14 xKYaNhWdGOfJ+nPrL8/arkwf2EY3MDJ+SErKivBVSum1w/"
        "egsXvSADtNJhyem5RCOpgQ6K8X1DRSEkrbYQ+OB+v8/uX45NBwY8rp65F6Glur8I/mlVNgF6W/qTI37m40";
    uint8_t rdata[512], ds[DNSSEC_DS_RDATA_MAX];
    (void)state;
    int len = t_rdata(rfc4034, rdata, sizeof(rdata), NULL);
    assert_true(len > 4);
    assert_int_equal(dnssec_key_tag(rdata, (size_t)len), 60485);
    int n = dnssec_ds_rdata(t_name("DSKEY.example.COM.", name_buf), rdata, (size_t)len,
                            DNSSEC_DIGEST_SHA256, ds, sizeof(ds));
    assert_int_equal(n, 36);
    assert_text(DNS_TYPE_DS, ds, (size_t)n,
                "60485 5 2 D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A");
    /* SHA-1 (digest type 1) is not offered; nor is a DS that does not fit. */
    assert_int_equal(dnssec_ds_rdata(name_buf, rdata, (size_t)len, 1, ds, sizeof(ds)), -1);
    assert_int_equal(dnssec_ds_rdata(name_buf, rdata, (size_t)len, 2, ds, 35), -1);

    len = t_rdata(rfc6605_384, rdata, sizeof(rdata), NULL);
    assert_int_equal(dnssec_key_tag(rdata, (size_t)len), 10771);
    n = dnssec_ds_rdata(t_name("example.net.", name_buf), rdata, (size_t)len, DNSSEC_DIGEST_SHA384,
                        ds, sizeof(ds));
    assert_int_equal(n, 52);
    assert_text(DNS_TYPE_DS, ds, (size_t)n,
                "10771 14 4 72D7B62976CE06438E9C0BF319013CF801F09ECC84B8D7E9495F27E305C6A9B0563A9B"
                "5F4D288405C3008A946DF983D6");
    /* The same key as CDS/CDNSKEY records (RFC 7344 §3). */
    char text[DNSSEC_RR_TEXT_MAX];
    assert_int_equal(dnssec_rr_text(name_buf, 3600, DNS_TYPE_CDS, ds, 52, text, sizeof(text)), 0);
    assert_string_equal(text, "example.net. 3600 IN CDS 10771 14 4 72D7B62976CE06438E9C0BF319013C"
                              "F801F09ECC84B8D7E9495F27E305C6A9B0563A9B5F4D288405C3008A946DF983D6");
    struct dnssec_key *key = key_from("example.com.", DNSSEC_ALG_ED25519, 257, rfc8080[0].priv);
    assert_int_equal(dnssec_rr_text(key->owner, 0, DNS_TYPE_CDNSKEY, key->rdata, key->rdata_len,
                                    text, sizeof(text)),
                     0);
    assert_string_equal(text, "example.com. 0 IN CDNSKEY 257 3 15 "
                              "l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=");
    /* A buffer one byte short fails instead of cutting the record. */
    assert_int_equal(dnssec_rr_text(key->owner, 0, DNS_TYPE_DNSKEY, key->rdata, key->rdata_len,
                                    text, strlen("example.com. 0 IN DNSKEY 257 3 15 ") + 44),
                     -1);
    assert_int_equal(
        dnssec_rr_text(key->owner, 0, DNS_TYPE_A, key->rdata, key->rdata_len, text, sizeof(text)),
        -1);
    dnssec_key_free(key);
}

static void
test_round_trip(void **state)
{
    static const char *const sets[][5] = {
        {"example.org. 300 IN A 192.0.2.1", "example.org. 300 IN A 192.0.2.2", NULL},
        {"example.org. 86400 IN SOA ns1.example.org. hostmaster.example.org. 1 7200 3600 "
         "1209600 300",
         NULL},
        {"_sip._tcp.example.org. 60 IN SRV 10 60 5060 sip.example.org.", NULL},
        {"deep.sub.example.org. 60 IN TXT \"a\" \"b c\"", "deep.sub.example.org. 60 IN TXT x",
         NULL},
        {"example.org. 0 IN AAAA 2001:db8::1", NULL},
    };
    struct t_rrset set;
    uint8_t sig[DNSSEC_RRSIG_RDATA_MAX];
    (void)state;
    static const uint8_t algorithms[] = {DNSSEC_ALG_ECDSAP256SHA256, DNSSEC_ALG_ED25519};
    for (size_t a = 0; a < 2; a++) {
        struct dnssec_key *key = new_key(algorithms[a], "example.org.");
        struct dnssec_key *other = new_key(algorithms[a], "example.org.");
        for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
            rrset(&set, sets[i]);
            int n = sign(key, &set, sig);
            assert_int_equal(n, 18 + 13 + 64);
            assert_int_equal(sig[2], algorithms[a]);
            assert_int_equal(sig[3], dname_label_count(set.owner));
            assert_null(verify(key, &set, sig, n));
            /* Another key of the same algorithm: its tag differs, or the signature fails. */
            assert_non_null(verify(other, &set, sig, n));
        }
        dnssec_key_free(other);
        dnssec_key_free(key);
    }
}

/* What verify says of the Ed25519 RRSIG `sig` over `lines`. */
static const char *
verify_lines(const struct dnssec_key *key, const char *const *lines, const uint8_t *sig, int n)
{
    struct t_rrset set;
    rrset(&set, lines);
    return verify(key, &set, sig, n);
}

static void
test_tampering(void **state)
{
    static const char *const signed_set[] = {"www.example.com. 300 IN A 192.0.2.1",
                                             "www.example.com. 300 IN A 192.0.2.2",
                                             "www.example.com. 300 IN A 192.0.2.3", NULL};
    static const char *const byte[] = {"www.example.com. 300 IN A 192.0.2.1",
                                       "www.example.com. 300 IN A 192.0.2.2",
                                       "www.example.com. 300 IN A 192.0.2.4", NULL};
    static const char *const fewer[] = {"www.example.com. 300 IN A 192.0.2.1",
                                        "www.example.com. 300 IN A 192.0.2.2", NULL};
    static const char *const ttl[] = {"www.example.com. 301 IN A 192.0.2.1",
                                      "www.example.com. 301 IN A 192.0.2.2",
                                      "www.example.com. 301 IN A 192.0.2.3", NULL};
    static const char *const owner[] = {"www.example.net. 300 IN A 192.0.2.1",
                                        "www.example.net. 300 IN A 192.0.2.2",
                                        "www.example.net. 300 IN A 192.0.2.3", NULL};
    static const char *const cased[] = {"WwW.ExAmple.COM. 300 IN A 192.0.2.1",
                                        "WwW.ExAmple.COM. 300 IN A 192.0.2.2",
                                        "WwW.ExAmple.COM. 300 IN A 192.0.2.3", NULL};
    static const char *const reordered[] = {"www.example.com. 300 IN A 192.0.2.3",
                                            "www.example.com. 300 IN A 192.0.2.1",
                                            "www.example.com. 300 IN A 192.0.2.2", NULL};
    static const char *const duplicated[] = {
        "www.example.com. 300 IN A 192.0.2.2", "www.example.com. 300 IN A 192.0.2.1",
        "www.example.com. 300 IN A 192.0.2.3", "www.example.com. 300 IN A 192.0.2.2",
        "www.example.com. 300 IN A 192.0.2.1", NULL};
    struct t_rrset set;
    uint8_t sig[DNSSEC_RRSIG_RDATA_MAX], again[DNSSEC_RRSIG_RDATA_MAX];
    const char *bad_sig = "the signature does not verify";
    (void)state;
    struct dnssec_key *key = key_from("example.com.", DNSSEC_ALG_ED25519, 257, rfc8080[0].priv);
    rrset(&set, signed_set);
    int n = sign(key, &set, sig);
    assert_int_equal(n, 95);
    assert_null(verify_lines(key, signed_set, sig, n));
    assert_string_equal(verify_lines(key, byte, sig, n), bad_sig);
    assert_string_equal(verify_lines(key, fewer, sig, n), bad_sig);
    assert_string_equal(verify_lines(key, ttl, sig, n), "the TTL is not the RRSIG's original TTL");
    assert_string_equal(verify_lines(key, owner, sig, n),
                        "the owner is not in the signer's zone (RFC 4035 §5.3.1)");
    /* Case, order and duplicates are not part of what is signed (RFC 4034 §6.2-6.3). */
    assert_null(verify_lines(key, cased, sig, n));
    assert_null(verify_lines(key, reordered, sig, n));
    assert_null(verify_lines(key, duplicated, sig, n));
    /* Ed25519 is deterministic: the same canonical data gives the same bytes. */
    const char *const *same[] = {cased, reordered, duplicated};
    for (size_t i = 0; i < 3; i++) {
        rrset(&set, same[i]);
        assert_int_equal(sign(key, &set, again), n);
        assert_memory_equal(again, sig, (size_t)n);
    }
    /* Each signed RRSIG field: a change fails the signature (TTL: the set's TTL changes too,
     * so only the signature can tell). */
    rrset(&set, signed_set);
    for (int at = 4; at < 16; at++) {
        memcpy(again, sig, (size_t)n);
        again[at] ^= 0x01;
        set.ttl = dnswire_get32(again + 4);
        assert_string_equal(verify(key, &set, again, n), bad_sig);
    }
    set.ttl = 300;
    memcpy(again, sig, (size_t)n);
    again[3] = 2; /* labels: "*.example.com" is what it would claim was signed */
    assert_string_equal(verify(key, &set, again, n), bad_sig);
    again[3] = 4;
    assert_string_equal(verify(key, &set, again, n),
                        "the RRSIG's labels exceed the owner's (RFC 4035 §5.3.1)");
    memcpy(again, sig, (size_t)n);
    again[1] = DNS_TYPE_AAAA;
    assert_string_equal(verify(key, &set, again, n), "the RRSIG covers another type");
    dnssec_key_free(key);
}

/* Signs `lines` with the RFC 8080 key into sig; its length. */
static int
sign_lines(const struct dnssec_key *key, const char *const *lines, uint8_t *sig)
{
    struct t_rrset set;
    rrset(&set, lines);
    int n = sign(key, &set, sig);
    assert_true(n > 0);
    assert_null(verify(key, &set, sig, n));
    return n;
}

static void
test_canonical_names(void **state)
{
    /* Pairs: the names in the RDATA of the first in mixed case, of the second in lower case.
     * RFC 4034 §6.2 item 3 lowercases these types' names, so the signatures are equal. */
    static const char *const lowered[][2] = {
        {"a.example.com. 60 IN MX 10 MAIL.Example.COM.",
         "a.example.com. 60 IN MX 10 mail.example.com."},
        {"a.example.com. 60 IN NS NS1.Example.COM.", "a.example.com. 60 IN NS ns1.example.com."},
        {"a.example.com. 60 IN CNAME WWW.Example.COM.",
         "a.example.com. 60 IN CNAME www.example.com."},
        {"a.example.com. 60 IN PTR Host.Example.COM.",
         "a.example.com. 60 IN PTR host.example.com."},
        {"a.example.com. 60 IN DNAME Other.NET.", "a.example.com. 60 IN DNAME other.net."},
        {"a.example.com. 60 IN SOA NS.X. Host.Master.X. 1 2 3 4 5",
         "a.example.com. 60 IN SOA ns.x. host.master.x. 1 2 3 4 5"},
        {"a.example.com. 60 IN SRV 1 2 3 Target.X.", "a.example.com. 60 IN SRV 1 2 3 target.x."},
        {"a.example.com. 60 IN NAPTR 1 2 \"S\" \"SIP+D2U\" \"\" _SIP._UDP.X.",
         "a.example.com. 60 IN NAPTR 1 2 \"S\" \"SIP+D2U\" \"\" _sip._udp.x."},
        {"a.example.com. 60 IN RP Mbox.X. Txt.X.", "a.example.com. 60 IN RP mbox.x. txt.x."},
        {"a.example.com. 60 IN AFSDB 1 Db.X.", "a.example.com. 60 IN AFSDB 1 db.x."},
        {"a.example.com. 60 IN KX 1 Kx.X.", "a.example.com. 60 IN KX 1 kx.x."},
        {"a.example.com. 60 IN RT 1 Rt.X.", "a.example.com. 60 IN RT 1 rt.x."},
        {"a.example.com. 60 IN PX 1 Map.X. X400.X.", "a.example.com. 60 IN PX 1 map.x. x400.x."},
        {"a.example.com. 60 IN MINFO Mb.X. Err.X.", "a.example.com. 60 IN MINFO mb.x. err.x."},
        /* A6 (RFC 2874): prefix length 64, 8 suffix octets, the prefix name. */
        {"a.example.com. 60 IN TYPE38 \\# 14 40 0000000000000001 01410158 00",
         "a.example.com. 60 IN TYPE38 \\# 14 40 0000000000000001 01610178 00"},
    };
    /* RFC 6840 §5.1: NSEC's next name keeps its case; so do later types' names (HTTPS,
     * RFC 9460) and everything that is not a name. */
    static const char *const kept[][2] = {
        {"a.example.com. 60 IN NSEC B.Example.COM. A RRSIG NSEC",
         "a.example.com. 60 IN NSEC b.example.com. A RRSIG NSEC"},
        {"a.example.com. 60 IN TYPE65 \\# 8 0001 0358595a 0000",
         "a.example.com. 60 IN TYPE65 \\# 8 0001 0378797a 0000"},
        {"a.example.com. 60 IN TXT \"Hello\"", "a.example.com. 60 IN TXT \"hello\""},
        {"a.example.com. 60 IN HINFO \"PC\" \"Linux\"",
         "a.example.com. 60 IN HINFO \"pc\" \"linux\""},
    };
    uint8_t a[DNSSEC_RRSIG_RDATA_MAX], b[DNSSEC_RRSIG_RDATA_MAX];
    (void)state;
    struct dnssec_key *key = key_from("example.com.", DNSSEC_ALG_ED25519, 257, rfc8080[0].priv);
    for (size_t i = 0; i < sizeof(lowered) / sizeof(lowered[0]); i++) {
        const char *one[] = {lowered[i][0], NULL}, *two[] = {lowered[i][1], NULL};
        int n = sign_lines(key, one, a);
        assert_int_equal(sign_lines(key, two, b), n);
        if (memcmp(a, b, (size_t)n) != 0)
            fail_msg("names not lowercased: %s", lowered[i][0]);
    }
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
        const char *one[] = {kept[i][0], NULL}, *two[] = {kept[i][1], NULL};
        int n = sign_lines(key, one, a);
        assert_int_equal(sign_lines(key, two, b), n);
        if (memcmp(a, b, (size_t)n) == 0)
            fail_msg("RDATA lowercased: %s", kept[i][0]);
        assert_string_equal(verify_lines(key, two, a, n), "the signature does not verify");
    }
    /* §6.3 order compares the lowercased RDATA: "B" sorts with "b", after "a". */
    static const char *const mixed[] = {"x.example.com. 60 IN NS B.x.",
                                        "x.example.com. 60 IN NS a.x.", NULL};
    static const char *const lower[] = {"x.example.com. 60 IN NS a.x.",
                                        "x.example.com. 60 IN NS b.x.", NULL};
    int n = sign_lines(key, mixed, a);
    assert_int_equal(sign_lines(key, lower, b), n);
    assert_memory_equal(a, b, (size_t)n);
    dnssec_key_free(key);
}

static void
test_canonical_order(void **state)
{
    /* RFC 4034 §6.3: "" < "a" < "a" "b" (a prefix sorts first) < "b" (lowercase 'b' is not a
     * name's: TXT keeps its case, and "B" < "a"). The expected signature was made by another
     * implementation, dnspython 2.3.0 (dns.dnssec.sign) with RFC 8080's first key over the
     * same RRset: TXT 15 2 3600 20150819220000 20150729220000 3613 example.com. */
    static const char *const txt[] = {
        "example.com. 3600 IN TXT \"B\"", "example.com. 3600 IN TXT \"a\" \"b\"",
        "example.com. 3600 IN TXT \"\"", "example.com. 3600 IN TXT \"a\"", NULL};
    struct t_rrset set;
    uint8_t sig[DNSSEC_RRSIG_RDATA_MAX];
    char b64[128];
    (void)state;
    struct dnssec_key *key = key_from("example.com.", DNSSEC_ALG_ED25519, 257, rfc8080[0].priv);
    rrset(&set, txt);
    int n = dnssec_sign_rrset(key, set.owner, set.type, set.rclass, set.ttl, set.rdata, set.count,
                              RFC8080_INCEPTION, RFC8080_EXPIRATION, NULL, sig, sizeof(sig));
    assert_int_equal(n, 95);
    assert_true(base64_encode(sig + 31, 64, b64, sizeof(b64)) > 0);
    assert_string_equal(b64, "C/1qv1L/R8r15ltf5J/zqPutcBehx0aGBTExMOI+byz6El0PpRDF+w54+adZtykjZkX"
                             "SyVWlgQHsCIWAeLSDAg==");
    dnssec_key_free(key);
}

static void
test_signer_case(void **state)
{
    static const char *const a[] = {"www.example.com. 300 IN A 192.0.2.1", NULL};
    struct t_rrset set;
    uint8_t sig[DNSSEC_RRSIG_RDATA_MAX], cased[DNSSEC_RRSIG_RDATA_MAX];
    (void)state;
    struct dnssec_key *key = key_from("example.com.", DNSSEC_ALG_ED25519, 257, rfc8080[0].priv);
    rrset(&set, a);
    int n = sign(key, &set, sig);
    /* A signer given in another case is written and signed lowercased (RFC 6840 §5.1). */
    assert_int_equal(dnssec_sign_rrset(key, set.owner, set.type, set.rclass, set.ttl, set.rdata,
                                       set.count, 1700000000, 1702592000,
                                       t_name("EXAMPLE.Com.", name_buf), cased, sizeof(cased)),
                     n);
    assert_memory_equal(cased, sig, (size_t)n);
    /* An RRSIG that carries its signer in capitals verifies: RFC 4035 §5.3.2 signs the
     * canonical (lowercased) name. */
    memcpy(cased + 18, "\7EXAMPLE\3cOm", 13);
    assert_null(verify(key, &set, cased, n));
    dnssec_key_free(key);
}

static void
test_wildcard(void **state)
{
    static const char *const wild[] = {"*.W.example.com. 60 IN TXT \"w\"", NULL};
    static const char *const expanded[] = {"a.b.w.example.com. 60 IN TXT \"w\"", NULL};
    static const char *const sibling[] = {"x.w.example.com. 60 IN TXT \"w\"", NULL};
    static const char *const other[] = {"x.example.com. 60 IN TXT \"w\"", NULL};
    uint8_t sig[DNSSEC_RRSIG_RDATA_MAX];
    (void)state;
    struct dnssec_key *key = key_from("example.com.", DNSSEC_ALG_ED25519, 257, rfc8080[0].priv);
    int n = sign_lines(key, wild, sig);
    assert_int_equal(sig[3], 3); /* RFC 4034 §3.1.3: "*" is not counted */
    /* RFC 4035 §5.3.2: an answer synthesised from the wildcard verifies with its owner. */
    assert_null(verify_lines(key, expanded, sig, n));
    assert_null(verify_lines(key, sibling, sig, n));
    /* Same label count as the labels field: not an expansion, and not what was signed. */
    assert_string_equal(verify_lines(key, other, sig, n), "the signature does not verify");
    dnssec_key_free(key);
}

static void
test_sign_errors(void **state)
{
    static const char *const a[] = {"www.example.com. 300 IN A 192.0.2.1", NULL};
    struct t_rrset set;
    uint8_t sig[DNSSEC_RRSIG_RDATA_MAX];
    (void)state;
    struct dnssec_key *key = key_from("example.com.", DNSSEC_ALG_ED25519, 257, rfc8080[0].priv);
    rrset(&set, a);
    assert_int_equal(dnssec_sign_rrset(key, set.owner, set.type, set.rclass, set.ttl, set.rdata, 1,
                                       0, 0, NULL, sig, 18 + 13 + 63),
                     -ENOSPC);
    assert_int_equal(dnssec_sign_rrset(key, set.owner, set.type, set.rclass, set.ttl, set.rdata, 0,
                                       0, 0, NULL, sig, sizeof(sig)),
                     -EINVAL);
    assert_int_equal(dnssec_sign_rrset(key, set.owner, set.type, set.rclass, set.ttl, set.rdata, 1,
                                       0, 0, t_name("example.net.", name_buf), sig, sizeof(sig)),
                     -EINVAL);
    /* An MX whose exchange runs past its RDATA. */
    static const uint8_t bad_mx[] = {0, 6, 0, 10, 4, 'm', 'a', 'i'};
    assert_int_equal(dnssec_sign_rrset(key, set.owner, DNS_TYPE_MX, set.rclass, set.ttl, bad_mx, 1,
                                       0, 0, NULL, sig, sizeof(sig)),
                     -EINVAL);
    /* The same bytes as an unknown type are opaque and sign. */
    assert_int_equal(dnssec_sign_rrset(key, set.owner, 65280, set.rclass, set.ttl, bad_mx, 1, 0, 0,
                                       NULL, sig, sizeof(sig)),
                     95);
    /* A DNSKEY without the Zone Key flag verifies nothing (RFC 4034 §2.1.1). */
    int n = sign(key, &set, sig);
    uint8_t rdata[DNSSEC_DNSKEY_RDATA_MAX];
    memcpy(rdata, key->rdata, key->rdata_len);
    rdata[0] = 0;
    const char *why = NULL;
    assert_int_equal(dnssec_verify_rrset(rdata, key->rdata_len, set.owner, set.type, set.rclass,
                                         set.ttl, set.rdata, set.count, sig, (size_t)n, &why),
                     -1);
    assert_string_equal(why, "not a zone key (RFC 4034 §2.1.1-2)");
    dnssec_key_free(key);
}

#define THREADS 4
#define SIGNATURES 40

struct worker {
    struct dnssec_key *const *keys;                  /* ECDSA, Ed25519 */
    const struct t_rrset *sets;                      /* two RRsets of different sizes */
    const uint8_t (*expect)[DNSSEC_RRSIG_RDATA_MAX]; /* Ed25519's bytes for each set */
    bool reuse;                                      /* one dnssec_signer for every signature */
    int bad;
};

static void *
worker_run(void *arg)
{
    struct worker *w = arg;
    uint8_t sig[DNSSEC_RRSIG_RDATA_MAX];
    struct dnssec_signer *signer = w->reuse ? dnssec_signer_new() : NULL;
    for (int i = 0; i < SIGNATURES; i++) {
        /* Keys and RRsets alternate, so the signer's contexts and scratch memory serve
         * both keys and grow and shrink between signatures. */
        const struct dnssec_key *key = w->keys[i % 2];
        const struct t_rrset *set = &w->sets[(i / 2) % 2];
        int n = signer ? dnssec_signer_sign_rrset(signer, key, set->owner, set->type, set->rclass,
                                                  set->ttl, set->rdata, set->count, 1, 2, NULL, sig,
                                                  sizeof(sig))
                       : dnssec_sign_rrset(key, set->owner, set->type, set->rclass, set->ttl,
                                           set->rdata, set->count, 1, 2, NULL, sig, sizeof(sig));
        const char *why = NULL;
        if (n != 95 ||
            dnssec_verify_rrset(key->rdata, key->rdata_len, set->owner, set->type, set->rclass,
                                set->ttl, set->rdata, set->count, sig, (size_t)n, &why) != 0 ||
            (i % 2 && memcmp(sig, w->expect[(i / 2) % 2], 95) != 0))
            w->bad++;
    }
    dnssec_signer_free(signer);
    return NULL;
}

/* Threads sign with the same keys at once, each with its own reused signer (as the zone
 * signer's threads do) or a new one per signature; every signature verifies, and Ed25519's
 * (deterministic, RFC 8032) are the very bytes a one-off signature has. */
static void
test_threads(void **state)
{
    static const char *const mx[] = {"example.com. 60 IN MX 10 a.example.com.",
                                     "example.com. 60 IN MX 20 B.example.com.", NULL};
    static const char *const txt[] = {
        "example.com. 60 IN TXT \"a longer record, so that the signed data grows\"",
        "example.com. 60 IN TXT \"and a second one, as long or longer than the first\"",
        "example.com. 60 IN TXT \"and a third\"", NULL};
    struct t_rrset sets[2];
    uint8_t expect[2][DNSSEC_RRSIG_RDATA_MAX];
    pthread_t threads[THREADS];
    struct worker workers[THREADS];
    (void)state;
    rrset(&sets[0], mx);
    rrset(&sets[1], txt);
    struct dnssec_key *keys[2] = {new_key(DNSSEC_ALG_ECDSAP256SHA256, "example.com."),
                                  new_key(DNSSEC_ALG_ED25519, "example.com.")};
    for (int k = 0; k < 2; k++)
        assert_int_equal(dnssec_sign_rrset(keys[1], sets[k].owner, sets[k].type, sets[k].rclass,
                                           sets[k].ttl, sets[k].rdata, sets[k].count, 1, 2, NULL,
                                           expect[k], sizeof(expect[k])),
                         95);
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){.keys = keys, .sets = sets, .expect = expect, .reuse = i > 0};
        assert_int_equal(pthread_create(&threads[i], NULL, worker_run, &workers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(workers[i].bad, 0);
    }
    dnssec_key_free(keys[0]);
    dnssec_key_free(keys[1]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8080_ed25519), cmocka_unit_test(test_rfc6605_p256),
        cmocka_unit_test(test_key_tags_and_ds), cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_tampering),       cmocka_unit_test(test_canonical_names),
        cmocka_unit_test(test_wildcard),        cmocka_unit_test(test_sign_errors),
        cmocka_unit_test(test_threads),         cmocka_unit_test(test_canonical_order),
        cmocka_unit_test(test_signer_case),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
