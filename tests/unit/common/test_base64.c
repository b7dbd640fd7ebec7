// SPDX-License-Identifier: MIT
/* Base64 (src/common/base64.h): the RFC 4648 §10 test vectors both ways, the strict decoding
 * rules (alphabet, padding, canonical trailing bits, the output bound), and every length up
 * to 64 bytes of random data against OpenSSL's EVP_EncodeBlock as an independent encoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#include "common/base64.h"

/* RFC 4648 §10. */
static const struct {
    const char *raw, *b64;
} rfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void
test_rfc4648_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        char out[16];
        uint8_t raw[16];
        size_t n = strlen(rfc4648[i].raw);
        assert_int_equal(base64_encode((const uint8_t *)rfc4648[i].raw, n, out, sizeof(out)),
                         (int)strlen(rfc4648[i].b64));
        assert_string_equal(out, rfc4648[i].b64);
        if (n == 0) {
            assert_int_equal(base64_decode(rfc4648[i].b64, raw, sizeof(raw)), -1); /* empty */
            continue;
        }
        assert_int_equal(base64_decode(rfc4648[i].b64, raw, sizeof(raw)), (int)n);
        assert_memory_equal(raw, rfc4648[i].raw, n);
    }
}

static void
test_decode_refuses(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Zg=",                    /* not a multiple of 4 */
        "Zg",                     /* padding missing */
        "Zm9v Zg==",              /* a blank (§3.3) */
        "Zm9v\nZg==", "Zg==Zm9v", /* padding before the end */
        "Z===",                   /* three '=' */
        "Zm=v",                   /* '=' inside a quantum */
        "Zh==",                   /* non-zero bits after the last octet (§3.5): "f" is Zg== */
        "Zm9=",                   /* "fo" is Zm8= */
        "Zm9v-_==",               /* base64url characters (§5) are another alphabet */
        "",
    };
    uint8_t out[16];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(base64_decode(bad[i], out, sizeof(out)), -1);
    /* The output bound: "foobar" is 6 bytes. */
    assert_int_equal(base64_decode("Zm9vYmFy", out, 5), -1);
    assert_int_equal(base64_decode("Zm9vYmFy", out, 6), 6);
    assert_int_equal(base64_decode("Zm9vYg==", out, 4), 4);
    assert_int_equal(base64_decode("Zm9vYg==", out, 3), -1);
}

static void
test_encode_bound(void **state)
{
    (void)state;
    char out[9];
    const uint8_t raw[] = "foobar";
    assert_int_equal(base64_encode(raw, 6, out, 8), -1); /* no room for the NUL */
    assert_string_equal(out, "");
    assert_int_equal(base64_encode(raw, 6, out, 9), 8);
    assert_string_equal(out, "Zm9vYmFy");
}

/* Every length 1..64 of random bytes: our encoding equals EVP_EncodeBlock's, and decodes back. */
static void
test_random_against_openssl(void **state)
{
    (void)state;
    for (int round = 0; round < 20; round++) {
        for (size_t len = 1; len <= 64; len++) {
            uint8_t raw[64], back[64];
            char ours[BASE64_ENCODED_LEN(64) + 1];
            unsigned char theirs[BASE64_ENCODED_LEN(64) + 1];
            assert_int_equal(RAND_bytes(raw, (int)len), 1);
            int n = base64_encode(raw, len, ours, sizeof(ours));
            assert_int_equal(n, EVP_EncodeBlock(theirs, raw, (int)len));
            assert_string_equal(ours, (const char *)theirs);
            assert_int_equal(base64_decode(ours, back, sizeof(back)), (int)len);
            assert_memory_equal(back, raw, len);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_decode_refuses),
        cmocka_unit_test(test_encode_bound),
        cmocka_unit_test(test_random_against_openssl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
