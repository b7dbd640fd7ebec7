// SPDX-License-Identifier: MIT
/* net/xdp_mtu.c: the MTU read from rtnetlink link notifications (RTM_NEWLINK, IFLA_MTU,
 * rtnetlink(7)) for our interface only, the last one of a datagram winning, and nothing read
 * from a malformed datagram beyond its bytes (each case copies the datagram into a buffer of
 * exactly its length, so the ASan build catches a read past it); and the reply frame limit,
 * held to one UMEM frame whatever the MTU. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/xdp_mtu.h"

#define IFINDEX 7

/* 4-byte aligned, as the kernel's datagrams are (NLMSG_ALIGNTO). */
static union {
    uint8_t b[4096];
    uint32_t align;
} dgram;

/* Appends an attribute of type with len bytes of data at off; the new end. */
static size_t
put_attr(size_t off, unsigned short type, const void *data, size_t len)
{
    struct rtattr rta = {.rta_len = (unsigned short)RTA_LENGTH(len), .rta_type = type};
    memcpy(dgram.b + off, &rta, sizeof(rta));
    memcpy(dgram.b + off + RTA_LENGTH(0), data, len);
    return off + RTA_SPACE(len);
}

/* Appends a link message (type, ifindex) carrying IFLA_IFNAME and an IFLA_MTU of mtu_len
 * bytes (4 is right) at off; the new end. */
static size_t
put_link(size_t off, unsigned short type, int ifindex, uint32_t mtu, size_t mtu_len)
{
    size_t start = off;
    struct nlmsghdr nh = {.nlmsg_type = type};
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex};
    memcpy(dgram.b + off + NLMSG_HDRLEN, &ifi, sizeof(ifi));
    off += NLMSG_SPACE(sizeof(ifi));
    off = put_attr(off, IFLA_IFNAME, "veth0", 6);
    off = put_attr(off, IFLA_MTU, &mtu, mtu_len);
    nh.nlmsg_len = (uint32_t)(off - start);
    memcpy(dgram.b + start, &nh, sizeof(nh));
    return off;
}

/* xdp_mtu_parse of the first len bytes of dgram, from a buffer of exactly that length: the
 * MTU, and in *gone whether the link went away. */
static uint32_t
parse_report(size_t len, int ifindex, bool *gone)
{
    void *copy = malloc(len ? len : 1);
    memcpy(copy, dgram.b, len);
    *gone = false;
    uint32_t mtu = xdp_mtu_parse(copy, len, ifindex, gone);
    free(copy);
    return mtu;
}

static uint32_t
parse(size_t len, int ifindex)
{
    bool gone;
    return parse_report(len, ifindex, &gone);
}

static bool
parse_gone(size_t len, int ifindex)
{
    bool gone;
    (void)parse_report(len, ifindex, &gone);
    return gone;
}

static void
test_our_link(void **state)
{
    (void)state;
    size_t len = put_link(0, RTM_NEWLINK, IFINDEX, 1280, 4);
    assert_int_equal(parse(len, IFINDEX), 1280);
    /* Another interface's change says nothing about ours. */
    assert_int_equal(parse(len, IFINDEX + 1), 0);
}

static void
test_other_messages(void **state)
{
    (void)state;
    /* A link going away carries its last MTU: not a change to follow. */
    size_t len = put_link(0, RTM_DELLINK, IFINDEX, 1280, 4);
    assert_int_equal(parse(len, IFINDEX), 0);
    len = put_link(0, RTM_NEWADDR, IFINDEX, 1280, 4);
    assert_int_equal(parse(len, IFINDEX), 0);
    assert_false(parse_gone(len, IFINDEX));
}

static void
test_link_gone(void **state)
{
    (void)state;
    /* Our link deleted (or moved to another namespace): said, and no MTU taken from it. */
    size_t len = put_link(0, RTM_NEWLINK, IFINDEX, 1400, 4);
    len = put_link(len, RTM_DELLINK, IFINDEX, 1400, 4);
    assert_true(parse_gone(len, IFINDEX));
    assert_int_equal(parse(len, IFINDEX), 1400);
    /* Another link going, or only our changes: not gone. */
    assert_false(parse_gone(len, IFINDEX + 1));
    len = put_link(0, RTM_NEWLINK, IFINDEX, 1400, 4);
    assert_false(parse_gone(len, IFINDEX));
    /* An AF_BRIDGE RTM_DELLINK takes a port out of a bridge; the link stays. */
    len = put_link(0, RTM_DELLINK, IFINDEX, 1400, 4);
    struct ifinfomsg ifi;
    memcpy(&ifi, dgram.b + NLMSG_HDRLEN, sizeof(ifi));
    ifi.ifi_family = AF_BRIDGE;
    memcpy(dgram.b + NLMSG_HDRLEN, &ifi, sizeof(ifi));
    assert_false(parse_gone(len, IFINDEX));
    /* Cut short, the message is not read at all. */
    len = put_link(0, RTM_DELLINK, IFINDEX, 1400, 4);
    for (size_t cut = 0; cut < NLMSG_SPACE(sizeof(struct ifinfomsg)); cut++)
        assert_false(parse_gone(cut, IFINDEX));
}

static void
test_last_wins(void **state)
{
    (void)state;
    size_t len = put_link(0, RTM_NEWLINK, IFINDEX, 1280, 4);
    len = put_link(len, RTM_NEWLINK, IFINDEX, 9000, 4);
    assert_int_equal(parse(len, IFINDEX), 9000);
    len = put_link(0, RTM_NEWLINK, IFINDEX, 1400, 4);
    len = put_link(len, RTM_NEWLINK, IFINDEX + 1, 9000, 4);
    assert_int_equal(parse(len, IFINDEX), 1400);
}

static void
test_short_attribute(void **state)
{
    (void)state;
    /* An IFLA_MTU of 2 bytes is no u32: ignored, not read past. */
    size_t len = put_link(0, RTM_NEWLINK, IFINDEX, 1280, 2);
    assert_int_equal(parse(len, IFINDEX), 0);
}

static void
test_every_truncation(void **state)
{
    (void)state;
    size_t len = put_link(0, RTM_NEWLINK, IFINDEX, 1280, 4);
    /* The message's length then passes the datagram's end: the walk stops at once. */
    for (size_t cut = 0; cut < len; cut++)
        assert_int_equal(parse(cut, IFINDEX), 0);
}

static void
test_lengths_inside_lie(void **state)
{
    (void)state;
    size_t len = put_link(0, RTM_NEWLINK, IFINDEX, 1280, 4);
    struct nlmsghdr *nh = (struct nlmsghdr *)dgram.b;
    /* A message claiming less than its ifinfomsg. */
    nh->nlmsg_len = NLMSG_HDRLEN + 4;
    assert_int_equal(parse(len, IFINDEX), 0);
    /* A message that ends inside the IFLA_MTU attribute: the attribute's length passes the
     * message's end, so it is not read even though the datagram holds its bytes. */
    nh->nlmsg_len = (uint32_t)(len - 2);
    assert_int_equal(parse(len, IFINDEX), 0);
    /* A message length of 0 would loop for ever if the walk trusted it. */
    nh->nlmsg_len = 0;
    assert_int_equal(parse(len, IFINDEX), 0);
    /* An attribute length below the attribute header, then one past the message. */
    len = put_link(0, RTM_NEWLINK, IFINDEX, 1280, 4);
    struct rtattr *first = (struct rtattr *)(dgram.b + NLMSG_SPACE(sizeof(struct ifinfomsg)));
    first->rta_len = 2;
    assert_int_equal(parse(len, IFINDEX), 0);
    first->rta_len = 0xffff;
    assert_int_equal(parse(len, IFINDEX), 0);
}

static void
test_random_bytes(void **state)
{
    (void)state;
    /* A fixed-seed generator: the same bytes every run. Any answer will do; only a crash, a
     * hang or (under ASan) a read past the buffer fails. */
    uint32_t x = 2463534242u;
    for (int round = 0; round < 20000; round++) {
        size_t len = 16 + (size_t)(round % 200);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            dgram.b[i] = (uint8_t)x;
        }
        /* Half the rounds with a plausible header, so the walk gets into the attributes. */
        if (round % 2) {
            struct nlmsghdr nh = {.nlmsg_len = (uint32_t)len - (x % 8), .nlmsg_type = RTM_NEWLINK};
            struct ifinfomsg ifi = {.ifi_index = IFINDEX};
            memcpy(dgram.b, &nh, sizeof(nh));
            memcpy(dgram.b + NLMSG_HDRLEN, &ifi, sizeof(ifi));
        }
        (void)parse(len, IFINDEX);
    }
}

static void
test_frame_max(void **state)
{
    (void)state;
    assert_int_equal(xdp_mtu_frame_max(1500, 2048), 1514);
    assert_int_equal(xdp_mtu_frame_max(1280, 2048), 1294);
    assert_int_equal(xdp_mtu_frame_max(2033, 2048), 2047);
    assert_int_equal(xdp_mtu_frame_max(2034, 2048), 2048);
    /* Jumbo frames: still one 2 KiB frame. */
    assert_int_equal(xdp_mtu_frame_max(9000, 2048), 2048);
    assert_int_equal(xdp_mtu_frame_max(UINT32_MAX, 2048), 2048);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_our_link),           cmocka_unit_test(test_other_messages),
        cmocka_unit_test(test_link_gone),          cmocka_unit_test(test_last_wins),
        cmocka_unit_test(test_short_attribute),    cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_lengths_inside_lie), cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_frame_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
