// SPDX-License-Identifier: MIT
/* TSIG (src/tsig): HMAC against the RFC 4231 vectors; signed messages byte for byte against
 * dnspython's (a query and its response for each algorithm, made once with dnspython 2.3 at
 * a fixed time: tests/unit/tsig/interop.py checks the same live); every verification
 * outcome of RFC 8945 §5.2 (BADKEY, BADSIG, BADTIME at the fudge's edge, BADTRUNC, FORMERR
 * for bad records and MAC sizes, §5.1 placement); the error responses of §5.3.2 field by
 * field; streams with chained MACs, unsigned messages inside and their limits (§5.3.1); and
 * that signing and verifying make no OpenSSL allocation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_crypto_allocs.h"

#include "common/dnswire.h"
#include "tsig/tsig.h"
#include "tsig/tsig_internal.h"

#define KAT_TIME 1700000000u
#define KAT_SECRET "meridian-tsig-kat-0123456789abcd"
#define KAT_NAME                                                                                   \
    "\x07kat-key\x07"                                                                              \
    "example"

static size_t
unhex(const char *hex, uint8_t *out, size_t max)
{
    size_t n = strlen(hex) / 2;
    assert_true(n <= max);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

/* A ring with one key named `name` (wire). */
static struct tsig_keyring *
ring_with(const char *name, enum tsig_algorithm alg, const void *secret, size_t len)
{
    struct tsig_keyring *ring = tsig_keyring_new();
    assert_int_equal(tsig_keyring_add(ring, (const uint8_t *)name, alg, secret, len), 0);
    return ring;
}

/* ------------------------------------------------------------------------- RFC 4231 */

static void
test_hmac_rfc4231(void **state)
{
    (void)state;
    static const char *const data[] = {"Hi There", "what do ya want for nothing?", NULL,
                                       "Test Using Larger Than Block-Size Key - Hash Key First"};
    /* Test cases 1, 2, 3 and 6: SHA-256, SHA-384, SHA-512. */
    static const char *const want[4][3] = {
        {"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
         "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af1"
         "52e8b2fa9cb6",
         "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b"
         "274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
        {"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
         "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b32"
         "39ecfab21649",
         "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d03"
         "4f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
        {"773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
         "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3a"
         "b6e101a34f27",
         "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b4"
         "85a47e67c807b946a337bee8942674278859e13292fb"},
        {"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
         "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe829624"
         "8df163f44952",
         "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0f"
         "d2215d6a1e5295e64f73f63f0aec8b915a985d786598"},
    };
    uint8_t key[131], msg[64];
    for (int c = 0; c < 4; c++) {
        size_t key_len, msg_len;
        switch (c) {
        case 0:
            key_len = 20;
            memset(key, 0x0b, key_len);
            break;
        case 1:
            key_len = 4;
            memcpy(key, "Jefe", 4);
            break;
        case 2:
            key_len = 20;
            memset(key, 0xaa, key_len);
            break;
        default:
            key_len = 131; /* longer than every block: hashed first (RFC 2104 §2) */
            memset(key, 0xaa, key_len);
            break;
        }
        if (data[c]) {
            msg_len = strlen(data[c]);
            memcpy(msg, data[c], msg_len);
        } else {
            msg_len = 50;
            memset(msg, 0xdd, msg_len);
        }
        for (int a = 0; a < 3; a++) {
            struct tsig_keyring *ring = ring_with("\x01k", (enum tsig_algorithm)a, key, key_len);
            const struct tsig_key *k = tsig_keyring_find(ring, (const uint8_t *)"\x01K");
            assert_non_null(k);
            struct tsig_hmac h;
            uint8_t mac[TSIG_MAC_MAX], expect[TSIG_MAC_MAX];
            tsig_hmac_init(&h, k);
            /* In two pieces: the MAC of a message is fed piece by piece. */
            tsig_hmac_update(&h, msg, msg_len / 3);
            tsig_hmac_update(&h, msg + msg_len / 3, msg_len - msg_len / 3);
            size_t n = tsig_hmac_final(&h, mac);
            assert_int_equal(n, unhex(want[c][a], expect, sizeof(expect)));
            assert_memory_equal(mac, expect, n);
            tsig_keyring_free(ring);
        }
    }
}

/* -------------------------------------------------------- known answers from dnspython */

/* dnspython 2.3: make_query("www.example.com.", "A"), id 0x1234, use_tsig(Key("kat-key.example.",
 * KAT_SECRET, alg)) at time 1700000000; the response: make_response + www A 192.0.2.1, AA. */
static const struct {
    enum tsig_algorithm alg;
    const char *query, *response;
} kat[] = {
    {TSIG_HMAC_SHA256,
     "12340100000100000000000103777777076578616d706c6503636f6d0000010001076b61742d6b6579076578"
     "616d706c650000fa00ff00000000003d0b686d61632d7368613235360000006553f100012c0020e404064ade"
     "63987381610c14ff0472dc5c3e694a52ff473e328bedac103fe228123400000000",
     "12348500000100010000000103777777076578616d706c6503636f6d0000010001c00c000100010000012c00"
     "04c0000201076b61742d6b6579076578616d706c650000fa00ff00000000003d0b686d61632d736861323536"
     "0000006553f100012c00203759432f261d99617cbfec93bd29e1f8db8ef6bff0fd168b4955279223d7a2161234"
     "00000000"},
    {TSIG_HMAC_SHA384,
     "12340100000100000000000103777777076578616d706c6503636f6d0000010001076b61742d6b6579076578"
     "616d706c650000fa00ff00000000004d0b686d61632d7368613338340000006553f100012c0030e7771dfb7b"
     "4a9374080a6c4da9974a9957ed20c2f702e74f891e586bb35464354e764879b773e9380fa76f54ab27326812"
     "3400000000",
     "12348500000100010000000103777777076578616d706c6503636f6d0000010001c00c000100010000012c00"
     "04c0000201076b61742d6b6579076578616d706c650000fa00ff00000000004d0b686d61632d736861333834"
     "0000006553f100012c003079ee8431df602a3d76f6ef6fce39cb052fda2f6be0567b8f4a9ee8acc41d80576e"
     "370619f9f545c0f9d81cfcb473d456123400000000"},
    {TSIG_HMAC_SHA512,
     "12340100000100000000000103777777076578616d706c6503636f6d0000010001076b61742d6b6579076578"
     "616d706c650000fa00ff00000000005d0b686d61632d7368613531320000006553f100012c0040630c1964ed"
     "32489e27c54b9169ea36e57f39d1796d608235e332c4f9882d5b5f9ddbe78e16c1f8b8ab85a7a5a495912d26"
     "34e1b9f0baa0c9c01b1f7cd0cf87b2123400000000",
     "12348500000100010000000103777777076578616d706c6503636f6d0000010001c00c000100010000012c00"
     "04c0000201076b61742d6b6579076578616d706c650000fa00ff00000000005d0b686d61632d736861353132"
     "0000006553f100012c00402327d1c4fcc7de73391f9a2d697c55ec11d11e540d4319854333caa432ee7fc647"
     "389bc6e54ae6528481be39f603a28ef159a3e7ca5b3903eec558f028616ca7123400000000"},
};

/* The message without its TSIG record, ARCOUNT lowered: what was signed. */
static size_t
strip_tsig(uint8_t *msg, size_t len)
{
    size_t off;
    assert_int_equal(tsig_find(msg, len, &off), 1);
    dnswire_put16(msg + DNS_OFF_ARCOUNT, (uint16_t)(dnswire_count(msg, DNS_OFF_ARCOUNT) - 1));
    return off;
}

static void
test_known_answers(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
        struct tsig_keyring *ring = ring_with(KAT_NAME, kat[i].alg, KAT_SECRET, strlen(KAT_SECRET));
        const struct tsig_key *key = tsig_keyring_find(ring, (const uint8_t *)KAT_NAME);
        uint8_t q[512], r[512], msg[512];
        size_t qlen = unhex(kat[i].query, q, sizeof(q));
        size_t rlen = unhex(kat[i].response, r, sizeof(r));

        /* Server: dnspython's query verifies, and our response is dnspython's, byte for byte. */
        size_t off;
        struct tsig_request req;
        assert_int_equal(tsig_find(q, qlen, &off), 1);
        assert_int_equal(tsig_request_verify(ring, q, qlen, off, KAT_TIME, &req), 0);
        assert_int_equal(req.error, TSIG_ERROR_NONE);
        assert_ptr_equal(req.key, key);
        assert_int_equal(req.original_id, 0x1234);
        assert_int_equal(req.mac_len, tsig_algorithm_mac_len(kat[i].alg));
        memcpy(msg, r, rlen);
        size_t body = strip_tsig(msg, rlen);
        assert_int_equal(tsig_response_size(&req), rlen - body);
        assert_int_equal(tsig_response_sign(&req, msg, body, sizeof(msg), KAT_TIME), rlen);
        assert_memory_equal(msg, r, rlen);
        assert_int_equal(tsig_response_sign(&req, msg, body, rlen - 1, KAT_TIME), 0);

        /* Client: our signed query is dnspython's, and its response verifies in the stream. */
        struct tsig_stream s;
        memcpy(msg, q, qlen);
        body = strip_tsig(msg, qlen);
        assert_int_equal(tsig_key_rr_size(key), qlen - body);
        assert_int_equal(tsig_request_sign(&s, key, msg, body, sizeof(msg), KAT_TIME), qlen);
        assert_memory_equal(msg, q, qlen);
        size_t content, roff;
        assert_int_equal(tsig_stream_verify(&s, r, rlen, KAT_TIME + 300, &content), TSIG_OK);
        assert_int_equal(tsig_find(r, rlen, &roff), 1);
        assert_int_equal(content, roff);
        assert_int_equal(tsig_stream_end(&s), TSIG_OK);
        tsig_keyring_free(ring);
    }
}

/* ------------------------------------------------------------------ request checks */

/* kat[0]'s query with one edit, verified at `now`; returns tsig_request_verify's result. */
static int
verify_edited(struct tsig_keyring *ring, void (*edit)(uint8_t *, size_t *), uint64_t now,
              struct tsig_request *req)
{
    uint8_t q[600];
    size_t len = unhex(kat[0].query, q, sizeof(q)), off;
    if (edit)
        edit(q, &len);
    int found = tsig_find(q, len, &off);
    if (found != 1)
        return found == 0 ? -2 : -3;
    return tsig_request_verify(ring, q, len, off, now, req);
}

/* Offsets in kat[0]'s query (121 octets): the TSIG owner at 33 (17 octets), TYPE 50, CLASS 52,
 * TTL 54, RDLENGTH 58, the algorithm name 60 (13), Time Signed 73, Fudge 79, MAC Size 81, the
 * MAC 83 (32), then Original ID, Error, Other Len. */
enum {
    Q_TSIG = 33,
    Q_CLASS = 52,
    Q_TTL = 54,
    Q_RDLEN = 58,
    Q_ALG = 60,
    Q_MACSIZE = 81,
    Q_MAC = 83
};

static void
flip_mac(uint8_t *q, size_t *len)
{
    (void)len;
    q[Q_MAC + 5] ^= 1;
}
static void
flip_qname(uint8_t *q, size_t *len)
{
    (void)len;
    q[14] ^= 0x20;
}
static void
flip_rd(uint8_t *q, size_t *len)
{
    (void)len;
    q[2] ^= 1;
}
static void
flip_original_id(uint8_t *q, size_t *len)
{
    (void)len;
    q[Q_MAC + 32 + 1] ^= 1;
}
/* The header's ID is not covered: the Original ID stands in for it (§4.3.2), so a message
 * whose ID a forwarder changed still verifies. */
static void
flip_id(uint8_t *q, size_t *len)
{
    (void)len;
    q[1] ^= 1;
}
static void
class_in(uint8_t *q, size_t *len)
{
    (void)len;
    q[Q_CLASS + 1] = 1;
}
static void
ttl_one(uint8_t *q, size_t *len)
{
    (void)len;
    q[Q_TTL + 3] = 1;
}
static void
trailing(uint8_t *q, size_t *len)
{
    q[(*len)++] = 0;
}
static void
alg_sha512(uint8_t *q, size_t *len)
{
    (void)len;
    memcpy(q + Q_ALG + 9, "512", 3);
}
static void
key_upper(uint8_t *q, size_t *len)
{
    (void)len;
    q[Q_TSIG + 1] = 'K';
}
static void
key_other(uint8_t *q, size_t *len)
{
    (void)len;
    q[Q_TSIG + 1] = 'x';
}

/* The MAC cut to n octets (MAC Size, RDLENGTH and the message shortened). */
static void
cut_mac(uint8_t *q, size_t *len, size_t n)
{
    size_t drop = 32 - n;
    memmove(q + Q_MAC + n, q + Q_MAC + 32, *len - (Q_MAC + 32));
    *len -= drop;
    dnswire_put16(q + Q_MACSIZE, (uint16_t)n);
    dnswire_put16(q + Q_RDLEN, (uint16_t)(dnswire_get16(q + Q_RDLEN) - drop));
}
static void
mac16(uint8_t *q, size_t *len)
{
    cut_mac(q, len, 16);
}
static void
mac15(uint8_t *q, size_t *len)
{
    cut_mac(q, len, 15);
}
static void
mac0(uint8_t *q, size_t *len)
{
    cut_mac(q, len, 0);
}

/* A second record after the TSIG (an empty A at the root): the TSIG is no longer last. */
static void
tsig_not_last(uint8_t *q, size_t *len)
{
    static const uint8_t rr[] = {0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0};
    memcpy(q + *len, rr, sizeof(rr));
    *len += sizeof(rr);
    dnswire_put16(q + DNS_OFF_ARCOUNT, 2);
}

/* The TSIG counted in the authority section instead. */
static void
tsig_in_authority(uint8_t *q, size_t *len)
{
    (void)len;
    dnswire_put16(q + DNS_OFF_NSCOUNT, 1);
    dnswire_put16(q + DNS_OFF_ARCOUNT, 0);
}

static void
test_request_checks(void **state)
{
    (void)state;
    struct tsig_keyring *ring =
        ring_with(KAT_NAME, TSIG_HMAC_SHA256, KAT_SECRET, strlen(KAT_SECRET));
    struct tsig_request req;

    assert_int_equal(verify_edited(ring, NULL, KAT_TIME, &req), 0);
    assert_int_equal(req.error, TSIG_ERROR_NONE);
    /* Key names compare case-insensitively; the request's spelling is kept for the echo. */
    assert_int_equal(verify_edited(ring, key_upper, KAT_TIME, &req), 0);
    assert_int_equal(req.error, TSIG_ERROR_NONE);
    assert_memory_equal(req.name, "\x07Kat-key", 8);

    /* §5.2.1 */
    assert_int_equal(verify_edited(NULL, NULL, KAT_TIME, &req), 0);
    assert_int_equal(req.error, TSIG_ERROR_BADKEY);
    assert_null(req.key);
    assert_int_equal(verify_edited(ring, key_other, KAT_TIME, &req), 0);
    assert_int_equal(req.error, TSIG_ERROR_BADKEY);
    assert_int_equal(verify_edited(ring, alg_sha512, KAT_TIME, &req), 0);
    assert_int_equal(req.error, TSIG_ERROR_BADKEY);
    assert_memory_equal(req.alg, "\x0bhmac-sha512", 13); /* echoed as sent */
    /* §5.2.2: any change to the MAC or to what it covers. */
    void (*bad[])(uint8_t *, size_t *) = {flip_mac, flip_qname, flip_rd, flip_original_id};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(verify_edited(ring, bad[i], KAT_TIME, &req), 0);
        assert_int_equal(req.error, TSIG_ERROR_BADSIG);
        assert_null(req.key);
    }
    assert_int_equal(verify_edited(ring, flip_id, KAT_TIME, &req), 0);
    assert_int_equal(req.error, TSIG_ERROR_NONE);
    /* §5.2.3: Fudge 300 either side is still in time. */
    assert_int_equal(verify_edited(ring, NULL, KAT_TIME + 300, &req), 0);
    assert_int_equal(req.error, TSIG_ERROR_NONE);
    assert_int_equal(verify_edited(ring, NULL, KAT_TIME - 300, &req), 0);
    assert_int_equal(req.error, TSIG_ERROR_NONE);
    assert_int_equal(verify_edited(ring, NULL, KAT_TIME + 301, &req), 0);
    assert_int_equal(req.error, TSIG_ERROR_BADTIME);
    assert_non_null(req.key);
    assert_int_equal(req.time_signed, KAT_TIME);
    assert_int_equal(verify_edited(ring, NULL, KAT_TIME - 301, &req), 0);
    assert_int_equal(req.error, TSIG_ERROR_BADTIME);
    /* A wrong MAC with a wrong time is BADSIG: the time of a forgery earns no signed reply. */
    assert_int_equal(verify_edited(ring, flip_mac, KAT_TIME + 9999, &req), 0);
    assert_int_equal(req.error, TSIG_ERROR_BADSIG);
    /* §5.2.2.1 and §5.2.4: 16 octets of SHA-256 is an allowed truncation that our policy
     * refuses; 15 (less than half) and 0 are format errors. */
    assert_int_equal(verify_edited(ring, mac16, KAT_TIME, &req), 0);
    assert_int_equal(req.error, TSIG_ERROR_BADTRUNC);
    assert_int_equal(req.mac_len, 16);
    assert_int_equal(verify_edited(ring, mac15, KAT_TIME, &req), -1);
    assert_int_equal(verify_edited(ring, mac0, KAT_TIME, &req), -1);
    /* §4.2, §5.2: records that cannot be interpreted. */
    assert_int_equal(verify_edited(ring, class_in, KAT_TIME, &req), -1);
    assert_int_equal(verify_edited(ring, ttl_one, KAT_TIME, &req), -1);
    /* §5.1: placement, found by tsig_find. */
    assert_int_equal(verify_edited(ring, trailing, KAT_TIME, &req), -3);
    assert_int_equal(verify_edited(ring, tsig_not_last, KAT_TIME, &req), -3);
    assert_int_equal(verify_edited(ring, tsig_in_authority, KAT_TIME, &req), -3);
    uint8_t plain[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1};
    size_t off = 99;
    assert_int_equal(tsig_find(plain, sizeof(plain), &off), 0);
    assert_int_equal(off, 99);
    tsig_keyring_free(ring);
}

/* -------------------------------------------------------------- error responses (§5.3.2) */

/* The TSIG record at the end of msg, read back field by field. */
struct read_tsig {
    uint64_t time;
    uint16_t fudge, mac_len, id, error, other_len;
    const uint8_t *other;
    size_t owner;
};

static void
read_tsig(const uint8_t *msg, size_t len, struct read_tsig *t)
{
    size_t off;
    assert_int_equal(tsig_find(msg, len, &off), 1);
    size_t p = off + 1 + msg[off] + 1 + msg[off + 1 + msg[off]] + 1; /* two labels, root */
    t->owner = off;
    p += 10 + 13; /* fixed fields, algorithm */
    t->time = (uint64_t)dnswire_get16(msg + p) << 32 | dnswire_get32(msg + p + 2);
    t->fudge = dnswire_get16(msg + p + 6);
    t->mac_len = dnswire_get16(msg + p + 8);
    p += 10 + t->mac_len;
    t->id = dnswire_get16(msg + p);
    t->error = dnswire_get16(msg + p + 2);
    t->other_len = dnswire_get16(msg + p + 4);
    t->other = msg + p + 6;
    assert_int_equal(p + 6 + t->other_len, len);
}

/* A response to kat[0]'s query (edited by `edit`, verified with `ring` at `now`): its
 * question with QR and NOTAUTH, signed at `sign_at` into r; the TSIG is read back into t.
 * Returns the response's length; *body_len is the length before the TSIG. */
static size_t
respond(struct tsig_keyring *ring, void (*edit)(uint8_t *, size_t *), uint64_t now,
        uint64_t sign_at, struct tsig_request *req, uint8_t r[600], struct read_tsig *t)
{
    const size_t body = DNS_HEADER_LEN + 21;
    assert_int_equal(verify_edited(ring, edit, now, req), 0);
    unhex(kat[0].query, r, 600);
    r[2] |= 0x80;
    r[3] = DNS_RCODE_NOTAUTH;
    dnswire_put16(r + DNS_OFF_ARCOUNT, 0);
    size_t n = tsig_response_sign(req, r, body, 600, sign_at);
    assert_int_equal(n, body + tsig_response_size(req));
    assert_int_equal(dnswire_count(r, DNS_OFF_ARCOUNT), 1);
    read_tsig(r, n, t);
    assert_int_equal(t->id, 0x1234);
    return n;
}

static void
test_error_responses(void **state)
{
    (void)state;
    struct tsig_keyring *ring =
        ring_with(KAT_NAME, TSIG_HMAC_SHA256, KAT_SECRET, strlen(KAT_SECRET));
    struct tsig_request req;
    struct read_tsig t;
    uint8_t r[600];

    /* BADKEY: unsigned, names echoed as sent, the server's time. */
    respond(NULL, key_upper, KAT_TIME, KAT_TIME + 5000, &req, r, &t);
    assert_memory_equal(r + t.owner,
                        "\x07Kat-key\x07"
                        "example",
                        17);
    assert_int_equal(t.mac_len, 0);
    assert_int_equal(t.error, TSIG_ERROR_BADKEY);
    assert_int_equal(t.time, KAT_TIME + 5000);
    assert_int_equal(t.other_len, 0);
    /* Without a clock (a server holding no keys), the request's time is echoed. */
    respond(NULL, key_upper, KAT_TIME, 0, &req, r, &t);
    assert_int_equal(t.time, KAT_TIME);

    /* BADSIG: unsigned too. */
    respond(ring, flip_mac, KAT_TIME, KAT_TIME, &req, r, &t);
    assert_int_equal(t.mac_len, 0);
    assert_int_equal(t.error, TSIG_ERROR_BADSIG);

    /* BADTIME: signed, with the client's time and fudge and ours in Other Data (§5.2.3). */
    size_t n = respond(ring, NULL, KAT_TIME + 1000, KAT_TIME + 1000, &req, r, &t);
    assert_int_equal(t.mac_len, 32);
    assert_int_equal(t.error, TSIG_ERROR_BADTIME);
    assert_int_equal(t.time, KAT_TIME);
    assert_int_equal(t.fudge, 300);
    assert_int_equal(t.other_len, 6);
    assert_int_equal((uint64_t)dnswire_get16(t.other) << 32 | dnswire_get32(t.other + 2),
                     KAT_TIME + 1000);
    /* Its MAC: HMAC(request MAC, body, variables with the error and Other Data). */
    const struct tsig_key *key = tsig_keyring_find(ring, (const uint8_t *)KAT_NAME);
    struct tsig_hmac h;
    uint8_t mac[TSIG_MAC_MAX], vars[64];
    tsig_hmac_init(&h, key);
    dnswire_put16(vars, 32);
    tsig_hmac_update(&h, vars, 2);
    tsig_hmac_update(&h, req.mac, 32);
    dnswire_put16(r + DNS_OFF_ARCOUNT, 0); /* the body as it was signed */
    tsig_hmac_update(&h, r, DNS_HEADER_LEN + 21);
    tsig_hmac_update(&h, KAT_NAME, 17);
    tsig_hmac_update(&h, "\x00\xff\x00\x00\x00\x00\x0bhmac-sha256", 19);
    const uint8_t *mac_at = r + n - 6 - 6 - 32; /* Other Data, ID Error Other Len, MAC */
    memcpy(vars, mac_at - 10, 8);               /* Time Signed, Fudge */
    memcpy(vars + 8, "\x00\x12\x00\x06", 4);
    memcpy(vars + 12, t.other, 6);
    tsig_hmac_update(&h, vars, 18);
    tsig_hmac_final(&h, mac);
    assert_memory_equal(mac, mac_at, 32);

    /* BADTRUNC: signed, full length. */
    respond(ring, mac16, KAT_TIME, KAT_TIME, &req, r, &t);
    assert_int_equal(t.mac_len, 32);
    assert_int_equal(t.error, TSIG_ERROR_BADTRUNC);
    tsig_keyring_free(ring);
}

/* ------------------------------------------------------------------------- streams */

/* A small response message with `tag` as its first answer's RDATA byte. */
static size_t
stream_message(uint8_t *buf, uint8_t tag)
{
    static const uint8_t msg[] = {0x12, 0x34, 0x84, 0, 0, 0, 0, 1, 0, 0,   0, 0, 0, 0,
                                  1,    0,    1,    0, 0, 0, 0, 0, 4, 192, 0, 2, 0};
    memcpy(buf, msg, sizeof(msg));
    buf[sizeof(msg) - 1] = tag;
    return sizeof(msg);
}

static void
test_streams(void **state)
{
    (void)state;
    for (int a = 0; a < 3; a++) {
        struct tsig_keyring *ring =
            ring_with(KAT_NAME, (enum tsig_algorithm)a, KAT_SECRET, strlen(KAT_SECRET));
        const struct tsig_key *key = tsig_keyring_find(ring, (const uint8_t *)KAT_NAME);
        struct tsig_stream client, server;
        struct tsig_request req;
        uint8_t q[512], m[8][256];
        size_t len[8];

        /* The client signs a request; the server verifies it and signs 8 messages. */
        size_t qlen = dnswire_query(q, 0x1234, 0,
                                    (const uint8_t *)"\x07"
                                                     "example",
                                    9, DNS_TYPE_AXFR, DNS_CLASS_IN);
        qlen = tsig_request_sign(&client, key, q, qlen, sizeof(q), KAT_TIME);
        assert_int_equal(
            tsig_request_verify(ring, q, qlen, qlen - tsig_key_rr_size(key), KAT_TIME, &req), 0);
        assert_int_equal(req.error, 0);
        tsig_stream_respond(&server, &req);
        for (int i = 0; i < 8; i++) {
            len[i] = stream_message(m[i], (uint8_t)i);
            len[i] = tsig_stream_sign(&server, m[i], len[i], sizeof(m[i]), KAT_TIME + (unsigned)i);
            assert_int_not_equal(len[i], 0);
        }
        /* Each verifies in order; chained, so out of order or a repeat does not. */
        struct tsig_stream copy = client;
        for (int i = 0; i < 8; i++)
            assert_int_equal(tsig_stream_verify(&copy, m[i], len[i], KAT_TIME, NULL), TSIG_OK);
        assert_int_equal(tsig_stream_end(&copy), TSIG_OK);
        copy = client;
        assert_int_equal(tsig_stream_verify(&copy, m[0], len[0], KAT_TIME, NULL), TSIG_OK);
        assert_int_equal(tsig_stream_verify(&copy, m[2], len[2], KAT_TIME, NULL), TSIG_BADSIG);
        copy = client;
        assert_int_equal(tsig_stream_verify(&copy, m[1], len[1], KAT_TIME, NULL), TSIG_BADSIG);
        copy = client;
        assert_int_equal(tsig_stream_verify(&copy, m[0], len[0], KAT_TIME, NULL), TSIG_OK);
        assert_int_equal(tsig_stream_verify(&copy, m[0], len[0], KAT_TIME, NULL), TSIG_BADSIG);
        /* Later messages carry the timers only: their own time is checked. */
        copy = client;
        assert_int_equal(tsig_stream_verify(&copy, m[0], len[0], KAT_TIME + 300, NULL), TSIG_OK);
        assert_int_equal(tsig_stream_verify(&copy, m[1], len[1], KAT_TIME + 302, NULL),
                         TSIG_BADTIME);

        /* Unsigned messages: the first may not be; later ones are taken into the next MAC,
         * which therefore fails when the server signed without them; the stream may not end
         * unsigned. */
        uint8_t plain[256];
        size_t plen = stream_message(plain, 99);
        copy = client;
        assert_int_equal(tsig_stream_verify(&copy, plain, plen, KAT_TIME, NULL), TSIG_MISSING);
        copy = client;
        assert_int_equal(tsig_stream_verify(&copy, m[0], len[0], KAT_TIME, NULL), TSIG_OK);
        size_t body = 0;
        assert_int_equal(tsig_stream_verify(&copy, plain, plen, KAT_TIME, &body), TSIG_UNSIGNED);
        assert_int_equal(body, plen);
        assert_int_equal(tsig_stream_end(&copy), TSIG_MISSING);
        assert_int_equal(tsig_stream_verify(&copy, m[1], len[1], KAT_TIME, NULL), TSIG_BADSIG);
        copy = client;
        assert_int_equal(tsig_stream_verify(&copy, m[0], len[0], KAT_TIME, NULL), TSIG_OK);
        for (int i = 0; i < 99; i++)
            assert_int_equal(tsig_stream_verify(&copy, plain, plen, KAT_TIME, NULL), TSIG_UNSIGNED);
        assert_int_equal(tsig_stream_verify(&copy, plain, plen, KAT_TIME, NULL), TSIG_MISSING);

        /* A response signed with another key, and a peer's error response. */
        struct tsig_keyring *other =
            ring_with("\x05other", (enum tsig_algorithm)a, KAT_SECRET, strlen(KAT_SECRET));
        struct tsig_request oreq = req;
        oreq.key = tsig_keyring_find(other, (const uint8_t *)"\x05other");
        struct tsig_stream ostream;
        tsig_stream_respond(&ostream, &oreq);
        uint8_t om[256];
        size_t olen = tsig_stream_sign(&ostream, om, stream_message(om, 0), sizeof(om), KAT_TIME);
        copy = client;
        assert_int_equal(tsig_stream_verify(&copy, om, olen, KAT_TIME, NULL), TSIG_BADKEY);
        req.error = TSIG_ERROR_BADTIME;
        olen = tsig_response_sign(&req, om, stream_message(om, 0), sizeof(om), KAT_TIME);
        copy = client;
        assert_int_equal(tsig_stream_verify(&copy, om, olen, KAT_TIME, NULL), TSIG_PEER_ERROR);
        assert_int_equal(copy.peer_error, TSIG_ERROR_BADTIME);
        tsig_keyring_free(other);
        tsig_keyring_free(ring);
    }
}

static void
test_keyring(void **state)
{
    (void)state;
    struct tsig_keyring *ring = ring_with("\x03Xfr\x07"
                                          "example",
                                          TSIG_HMAC_SHA384, "k", 1);
    assert_int_equal(tsig_keyring_add(ring,
                                      (const uint8_t *)"\x03xfr\x07"
                                                       "EXAMPLE",
                                      TSIG_HMAC_SHA256, (const uint8_t *)"k", 1),
                     -1);
    assert_int_equal(tsig_keyring_add(ring, (const uint8_t *)"\x03xfr", TSIG_HMAC_SHA256,
                                      (const uint8_t *)"k", 1),
                     0);
    assert_int_equal(tsig_keyring_count(ring), 2);
    const struct tsig_key *k = tsig_keyring_find(ring, (const uint8_t *)"\x03XFR\x07"
                                                                        "example");
    assert_non_null(k);
    assert_memory_equal(tsig_key_name(k),
                        "\x03xfr\x07"
                        "example",
                        13);
    assert_int_equal(tsig_key_algorithm(k), TSIG_HMAC_SHA384);
    assert_int_equal(tsig_key_rr_size(k), 13 + 10 + 13 + 16 + 48);
    assert_null(tsig_keyring_find(ring, (const uint8_t *)"\x07"
                                                         "example"));
    assert_null(tsig_keyring_find(NULL, (const uint8_t *)"\x03xfr"));
    assert_int_equal(tsig_keyring_count(NULL), 0);
    assert_string_equal(tsig_algorithm_name(TSIG_HMAC_SHA512), "hmac-sha512");
    assert_string_equal(tsig_status_text(TSIG_BADTIME), "time signed outside the fudge (BADTIME)");
    assert_string_equal(tsig_error_text(TSIG_ERROR_BADKEY), "BADKEY");
    assert_string_equal(tsig_error_text(TSIG_ERROR_BADSIG), "BADSIG");
    assert_string_equal(tsig_error_text(TSIG_ERROR_NONE), "NOERROR");
    assert_string_equal(tsig_error_text(99), "unknown");

    /* A copy outlives its ring and signs as the key did: a request signed with the copy
     * after the ring is gone verifies against another ring holding the same secret. */
    struct tsig_key *copy = tsig_key_dup(k);
    tsig_keyring_free(ring);
    assert_memory_equal(tsig_key_name(copy),
                        "\x03xfr\x07"
                        "example",
                        13);
    assert_int_equal(tsig_key_algorithm(copy), TSIG_HMAC_SHA384);
    uint8_t msg[512] = {0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1};
    struct tsig_stream s;
    size_t len = tsig_request_sign(&s, copy, msg, 17, sizeof(msg), 1700000000);
    assert_int_equal(len, 17 + tsig_key_rr_size(copy));
    tsig_key_free(copy);
    tsig_key_free(NULL);
    struct tsig_keyring *other = ring_with("\x03xfr\x07"
                                           "example",
                                           TSIG_HMAC_SHA384, "k", 1);
    struct tsig_request req;
    assert_int_equal(tsig_request_verify(other, msg, len, 17, 1700000000, &req), 0);
    assert_int_equal(req.error, TSIG_ERROR_NONE);
    tsig_keyring_free(other);
}

/* The answer path's part (verify, sign a response) and the stream functions make no OpenSSL
 * allocation once the ring exists. */
static void
test_no_allocation(void **state)
{
    (void)state;
    struct tsig_keyring *ring[3];
    uint8_t q[512], r[512];
    for (int a = 0; a < 3; a++)
        ring[a] = ring_with(KAT_NAME, kat[a].alg, KAT_SECRET, strlen(KAT_SECRET));
    size_t before = test_crypto_allocs();
    for (int a = 0; a < 3; a++) {
        struct tsig_request req;
        struct tsig_stream s;
        size_t qlen = unhex(kat[a].query, q, sizeof(q)), off;
        size_t rlen = unhex(kat[a].response, r, sizeof(r));
        assert_int_equal(tsig_find(q, qlen, &off), 1);
        assert_int_equal(tsig_request_verify(ring[a], q, qlen, off, KAT_TIME, &req), 0);
        assert_int_equal(req.error, 0);
        size_t body = strip_tsig(r, rlen);
        assert_int_equal(tsig_response_sign(&req, r, body, sizeof(r), KAT_TIME), rlen);
        qlen = strip_tsig(q, qlen);
        assert_int_not_equal(tsig_request_sign(&s, req.key, q, qlen, sizeof(q), KAT_TIME), 0);
        assert_int_equal(tsig_stream_verify(&s, r, rlen, KAT_TIME, NULL), TSIG_OK);
        tsig_stream_respond(&s, &req);
        assert_int_not_equal(tsig_stream_sign(&s, r, body, sizeof(r), KAT_TIME), 0);
    }
    assert_int_equal(test_crypto_allocs(), before);
    for (int a = 0; a < 3; a++)
        tsig_keyring_free(ring[a]);
}

int
main(void)
{
    if (test_crypto_allocs_start() < 0) /* before any other OpenSSL call */
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac_rfc4231),   cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_request_checks), cmocka_unit_test(test_error_responses),
        cmocka_unit_test(test_streams),        cmocka_unit_test(test_keyring),
        cmocka_unit_test(test_no_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
