// SPDX-License-Identifier: MIT
/* typebitmap_without: a steered name's NSEC3 bit map without the type its policy has no
 * answer for (dnssec_zone_steered_denial). The result must be the canonical encoding of the
 * smaller set (RFC 4034 §4.1.2: no empty windows, no trailing zero octets), so it is compared
 * with typebitmap_encode of that set, and with hand-written bytes for the edge cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/dnswire.h"
#include "dnssec/typebitmap.h"

static int
encode(const uint16_t *types, size_t n, uint8_t *out)
{
    int len = typebitmap_encode(types, n, out, TYPEBITMAP_MAX);
    assert_true(len >= 0);
    return len;
}

static void
expect_without(const uint16_t *all, size_t n, uint16_t drop)
{
    uint8_t map[TYPEBITMAP_MAX], got[TYPEBITMAP_MAX], want[TYPEBITMAP_MAX];
    uint16_t rest[16];
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (all[i] != drop)
            rest[m++] = all[i];
    int len = encode(all, n, map);
    int want_len = encode(rest, m, want);
    int got_len = typebitmap_without(map, (size_t)len, drop, got, sizeof(got));
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, (size_t)want_len);
    assert_false(typebitmap_contains(got, (size_t)got_len, drop));
    for (size_t i = 0; i < m; i++)
        assert_true(typebitmap_contains(got, (size_t)got_len, rest[i]));
}

static void
test_without(void **state)
{
    (void)state;
    /* A steered name with both families and signatures: drop either. */
    static const uint16_t both[] = {DNS_TYPE_A, DNS_TYPE_AAAA, DNS_TYPE_RRSIG};
    expect_without(both, 3, DNS_TYPE_A);
    expect_without(both, 3, DNS_TYPE_AAAA);
    /* AAAA (octet 3) is the last octet of window 0 here: dropping it must cut the map
     * short, not leave trailing zero octets. */
    static const uint16_t a_aaaa[] = {DNS_TYPE_A, DNS_TYPE_AAAA};
    expect_without(a_aaaa, 2, DNS_TYPE_AAAA);
    /* A type in window 1 (CAA 257) stays; a window left empty goes. */
    static const uint16_t two_windows[] = {DNS_TYPE_A, DNS_TYPE_CAA};
    expect_without(two_windows, 2, DNS_TYPE_A);
    expect_without(two_windows, 2, DNS_TYPE_CAA);
    /* A CNAME service's record: only CNAME and RRSIG; without CNAME, RRSIG alone. */
    static const uint16_t cname[] = {DNS_TYPE_CNAME, DNS_TYPE_RRSIG};
    expect_without(cname, 2, DNS_TYPE_CNAME);
    /* A type that is not there: the same map. */
    expect_without(both, 3, DNS_TYPE_MX);

    /* The only type gone: an empty map (length 0). */
    uint8_t map[TYPEBITMAP_MAX], out[TYPEBITMAP_MAX];
    static const uint16_t only_a[] = {DNS_TYPE_A};
    int len = encode(only_a, 1, map);
    assert_int_equal(typebitmap_without(map, (size_t)len, DNS_TYPE_A, out, sizeof(out)), 0);

    /* Window 0, one octet: A (bit 1) and NS (bit 2) = 0x60; without A: 0x20. */
    static const uint8_t a_ns[] = {0x00, 0x01, 0x60};
    assert_int_equal(typebitmap_without(a_ns, sizeof(a_ns), DNS_TYPE_A, out, sizeof(out)), 3);
    static const uint8_t ns[] = {0x00, 0x01, 0x20};
    assert_memory_equal(out, ns, 3);

    /* Malformed (a window longer than the map) and a too small output: -1. */
    static const uint8_t bad[] = {0x00, 0x05, 0x60};
    assert_int_equal(typebitmap_without(bad, sizeof(bad), DNS_TYPE_A, out, sizeof(out)), -1);
    assert_int_equal(typebitmap_without(a_ns, sizeof(a_ns), DNS_TYPE_MX, out, 2), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_without),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
