// SPDX-License-Identifier: MIT
/* net/xdp_frame.c: what a received frame must look like to be read as a query (IPv4 without
 * options or fragments, IPv6 with UDP as the first header, lengths within the frame), and
 * the reply's headers written in front of an answer in another frame: addresses and ports
 * swapped, lengths, and checksums that a receiver verifying them (RFC 1071 sums over the
 * IPv4 header, RFC 768 / RFC 8200 §8.1 pseudo-headers) accepts, the query frame unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "net/xdp_frame.h"

static const uint8_t dns_query[] = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
                                    0x00, 0x00, 0x01, 'a',  0x00, 0x00, 0x01, 0x00, 0x01};

/* A UDP header from port 40000 to 53 and dns_query. */
static void
put_udp(uint8_t *udp, size_t udp_len)
{
    udp[0] = 40000 >> 8;
    udp[1] = 40000 & 0xff;
    udp[3] = 53;
    udp[5] = (uint8_t)udp_len;
    memcpy(udp + 8, dns_query, sizeof(dns_query));
}

/* A frame from 10.0.0.2:40000 (MAC ...02) to 10.0.0.1:53 (MAC ...01) carrying dns_query. */
static size_t
frame_v4(uint8_t *f)
{
    size_t udp_len = 8 + sizeof(dns_query);
    memset(f, 0, 128);
    memcpy(f, "\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x02\x08\x00", 14);
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    ip[2] = 0;
    ip[3] = (uint8_t)(20 + udp_len);
    ip[8] = 64;
    ip[9] = 17;
    memcpy(ip + 12, "\x0a\x00\x00\x02\x0a\x00\x00\x01", 8);
    put_udp(ip + 20, udp_len);
    return 14 + 20 + udp_len;
}

/* The same from fd00::2 to fd00::1. */
static size_t
frame_v6(uint8_t *f)
{
    size_t udp_len = 8 + sizeof(dns_query);
    memset(f, 0, 128);
    memcpy(f, "\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x02\x86\xdd", 14);
    uint8_t *ip = f + 14;
    ip[0] = 0x60;
    ip[5] = (uint8_t)udp_len;
    ip[6] = 17;
    ip[7] = 64;
    ip[8] = 0xfd;
    ip[23] = 2;
    ip[24] = 0xfd;
    ip[39] = 1;
    put_udp(ip + 40, udp_len);
    return 14 + 40 + udp_len;
}

/* RFC 1071 folded sum: 0xffff over data whose checksum is right. */
static uint16_t
folded_sum(const uint8_t *p, size_t len, uint32_t sum)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

static void
test_parse_v4(void **state)
{
    uint8_t f[128];
    struct xdp_frame_query q;
    (void)state;
    size_t len = frame_v4(f);
    assert_true(xdp_frame_parse(f, len, &q));
    const struct sockaddr_in *c = (const struct sockaddr_in *)&q.client;
    const struct sockaddr_in *l = (const struct sockaddr_in *)&q.local;
    assert_int_equal(c->sin_family, AF_INET);
    assert_int_equal(ntohs(c->sin_port), 40000);
    assert_int_equal(ntohl(c->sin_addr.s_addr), 0x0a000002);
    assert_int_equal(ntohs(l->sin_port), 53);
    assert_int_equal(ntohl(l->sin_addr.s_addr), 0x0a000001);
    assert_int_equal(q.header_len, 42);
    assert_int_equal(q.dns_len, sizeof(dns_query));
    assert_memory_equal(q.dns, dns_query, sizeof(dns_query));
    /* Ethernet padding after the datagram is not part of it. */
    assert_true(xdp_frame_parse(f, len + 10, &q));
    assert_int_equal(q.dns_len, sizeof(dns_query));
}

static void
test_parse_rejects(void **state)
{
    uint8_t f[128];
    struct xdp_frame_query q;
    (void)state;
    size_t len = frame_v4(f);
    assert_false(xdp_frame_parse(f, len - 1, &q)); /* IP total length past the frame */
    assert_false(xdp_frame_parse(f, 13, &q));
    f[14] = 0x46; /* IPv4 options */
    assert_false(xdp_frame_parse(f, len, &q));
    len = frame_v4(f);
    f[14 + 6] = 0x20; /* more fragments */
    assert_false(xdp_frame_parse(f, len, &q));
    len = frame_v4(f);
    f[14 + 9] = 6; /* TCP */
    assert_false(xdp_frame_parse(f, len, &q));
    len = frame_v4(f);
    f[14 + 20 + 5] = 7; /* UDP length below its header */
    assert_false(xdp_frame_parse(f, len, &q));
    len = frame_v4(f);
    f[14 + 20 + 5] = 200; /* UDP length past the IP payload */
    assert_false(xdp_frame_parse(f, len, &q));
    len = frame_v4(f);
    f[12] = 0x81; /* a VLAN tag */
    assert_false(xdp_frame_parse(f, len, &q));
    len = frame_v6(f);
    f[14 + 6] = 0; /* a hop-by-hop extension header first */
    assert_false(xdp_frame_parse(f, len, &q));
    len = frame_v6(f);
    assert_false(xdp_frame_parse(f, len - 1, &q)); /* payload length past the frame */
}

static void
test_reply_v4(void **state)
{
    uint8_t query[256], copy[256], f[256];
    struct xdp_frame_query q;
    const uint8_t answer[] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0,
                              0,    0,    1,    'a',  0, 0, 1, 0, 1};
    (void)state;
    size_t qlen = frame_v4(query);
    memcpy(copy, query, sizeof(query));
    assert_true(xdp_frame_parse(query, qlen, &q));
    /* The reply frame holds leftovers of an earlier reply: every header byte is written. */
    memset(f, 0xa5, sizeof(f));
    memcpy(f + q.header_len, answer, sizeof(answer));
    size_t n = xdp_frame_reply(f, query, &q, sizeof(answer));
    assert_int_equal(n, 14 + 20 + 8 + sizeof(answer));
    assert_memory_equal(query, copy, sizeof(query));
    assert_int_equal(f[12] << 8 | f[13], 0x0800);
    assert_memory_equal(f, "\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x01", 12);
    const uint8_t *ip = f + 14;
    assert_int_equal(ip[0], 0x45);
    assert_int_equal(ip[1], 0);
    assert_int_equal(ip[6] << 8 | ip[7], 0); /* no DF, not a fragment */
    assert_int_equal(ip[8], 64);
    assert_int_equal(ip[9], 17);
    assert_memory_equal(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
    assert_int_equal(ip[2] << 8 | ip[3], 20 + 8 + sizeof(answer));
    assert_int_equal(folded_sum(ip, 20, 0), 0xffff);
    const uint8_t *udp = ip + 20;
    assert_int_equal(udp[0] << 8 | udp[1], 53);
    assert_int_equal(udp[2] << 8 | udp[3], 40000);
    size_t udp_len = 8 + sizeof(answer);
    assert_int_equal(udp[4] << 8 | udp[5], udp_len);
    assert_int_not_equal(udp[6] << 8 | udp[7], 0);
    assert_int_equal(folded_sum(udp, udp_len, folded_sum(ip + 12, 8, 17 + (uint32_t)udp_len)),
                     0xffff);
    assert_memory_equal(udp + 8, answer, sizeof(answer));
}

static void
test_reply_v6(void **state)
{
    uint8_t query[256], copy[256], f[256];
    struct xdp_frame_query q;
    uint8_t answer[101]; /* odd: the checksum's last byte pads with zero */
    (void)state;
    for (size_t i = 0; i < sizeof(answer); i++)
        answer[i] = (uint8_t)(i * 7 + 3);
    size_t qlen = frame_v6(query);
    memcpy(copy, query, sizeof(query));
    assert_true(xdp_frame_parse(query, qlen, &q));
    const struct sockaddr_in6 *c = (const struct sockaddr_in6 *)&q.client;
    assert_int_equal(c->sin6_family, AF_INET6);
    assert_int_equal(c->sin6_addr.s6_addr[15], 2);
    assert_int_equal(q.header_len, 62);
    memset(f, 0xa5, sizeof(f));
    memcpy(f + q.header_len, answer, sizeof(answer));
    size_t n = xdp_frame_reply(f, query, &q, sizeof(answer));
    assert_int_equal(n, 14 + 40 + 8 + sizeof(answer));
    assert_memory_equal(query, copy, sizeof(query));
    assert_memory_equal(f, "\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x01\x86\xdd", 14);
    const uint8_t *ip = f + 14;
    assert_int_equal(ip[0], 0x60);
    assert_int_equal(ip[1] | ip[2] | ip[3], 0);
    assert_int_equal(ip[6], 17);
    assert_int_equal(ip[7], 64);
    assert_memory_equal(ip + 8, query + 14 + 24, 16);
    assert_memory_equal(ip + 24, query + 14 + 8, 16);
    assert_int_equal(ip[8 + 15], 1);  /* source fd00::1 */
    assert_int_equal(ip[24 + 15], 2); /* destination fd00::2 */
    size_t udp_len = 8 + sizeof(answer);
    assert_int_equal(ip[4] << 8 | ip[5], udp_len);
    const uint8_t *udp = ip + 40;
    assert_int_equal(udp[2] << 8 | udp[3], 40000);
    assert_int_not_equal(udp[6] << 8 | udp[7], 0); /* RFC 8200 §8.1: never zero over IPv6 */
    assert_int_equal(folded_sum(udp, udp_len, folded_sum(ip + 8, 32, 17 + (uint32_t)udp_len)),
                     0xffff);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_v4),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_reply_v4),
        cmocka_unit_test(test_reply_v6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
