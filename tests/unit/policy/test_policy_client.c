// SPDX-License-Identifier: MIT
/* policy_client_init: the one definition of "who is asking" for answers and explanations.
 * ECS over source, RFC 7871 §7.1.2 source /0, host bits cleared, IPv4 inside IPv6 (mapped,
 * compatible, 6to4) turned into IPv4 with the offset that maps a scope back. Links only
 * mer_policy: the query-path side of policies needs no config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "policy/policy.h"

static struct sockaddr_storage
source(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
    } else {
        assert_int_equal(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
        sin6->sin6_family = AF_INET6;
    }
    return ss;
}

static void
expect(const struct policy_client *pc, int family, const char *addr, int bits, int offset)
{
    uint8_t want[16] = {0};
    assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6, addr, want), 1);
    assert_int_equal(pc->family, family);
    assert_int_equal(pc->bits, bits);
    assert_int_equal(pc->scope_offset, offset);
    assert_memory_equal(pc->addr, want, family == 4 ? 4 : 16);
}

static void
test_source_address(void **state)
{
    (void)state;
    struct policy_client pc;
    struct sockaddr_storage ss = source("198.51.100.7");
    policy_client_init(&pc, (const struct sockaddr *)&ss, NULL);
    expect(&pc, 4, "198.51.100.7", 32, 0);

    ss = source("2001:db8::9");
    policy_client_init(&pc, (const struct sockaddr *)&ss, NULL);
    expect(&pc, 6, "2001:db8::9", 128, 0);

    policy_client_init(&pc, NULL, NULL);
    assert_int_equal(pc.family, 0);
}

/* IPv4 inside IPv6 is answered as IPv4; the offset says where it sat (bit 96 for mapped and
 * compatible, bit 16 for 6to4) so an IPv4 scope can be written back as an IPv6 one. */
static void
test_ipv4_aliases(void **state)
{
    (void)state;
    struct policy_client pc;
    struct sockaddr_storage ss = source("::ffff:203.0.113.5");
    policy_client_init(&pc, (const struct sockaddr *)&ss, NULL);
    expect(&pc, 4, "203.0.113.5", 32, 96);

    ss = source("2002:cb00:7105::1");
    policy_client_init(&pc, (const struct sockaddr *)&ss, NULL);
    expect(&pc, 4, "203.0.113.5", 32, 16);

    /* An ECS prefix of a mapped address: /120 covers 24 bits of the IPv4 address. */
    uint8_t mapped[16];
    assert_int_equal(inet_pton(AF_INET6, "::ffff:203.0.113.0", mapped), 1);
    struct policy_ecs ecs = {.family = 2, .source = 120, .addr = mapped};
    policy_client_init(&pc, NULL, &ecs);
    expect(&pc, 4, "203.0.113.0", 24, 96);
}

/* ECS wins over the source; host bits beyond the prefix are cleared; source /0 means no
 * client at all (RFC 7871 §7.1.2), not the source address. */
static void
test_ecs(void **state)
{
    (void)state;
    struct policy_client pc;
    struct sockaddr_storage ss = source("192.0.2.1");
    uint8_t addr[16] = {198, 51, 100, 255};
    struct policy_ecs ecs = {.family = 1, .source = 20, .addr = addr};
    policy_client_init(&pc, (const struct sockaddr *)&ss, &ecs);
    expect(&pc, 4, "198.51.96.0", 20, 0);

    uint8_t v6[16];
    assert_int_equal(inet_pton(AF_INET6, "2001:db8:abcd:ffff::", v6), 1);
    ecs = (struct policy_ecs){.family = 2, .source = 56, .addr = v6};
    policy_client_init(&pc, (const struct sockaddr *)&ss, &ecs);
    expect(&pc, 6, "2001:db8:abcd:ff00::", 56, 0);

    ecs.source = 0;
    policy_client_init(&pc, (const struct sockaddr *)&ss, &ecs);
    assert_int_equal(pc.family, 0);
    assert_int_equal(pc.bits, 0);

    ecs = (struct policy_ecs){.family = 7, .source = 8, .addr = addr};
    policy_client_init(&pc, (const struct sockaddr *)&ss, &ecs);
    assert_int_equal(pc.family, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_source_address),
        cmocka_unit_test(test_ipv4_aliases),
        cmocka_unit_test(test_ecs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
