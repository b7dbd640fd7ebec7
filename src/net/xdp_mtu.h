/* SPDX-License-Identifier: MIT */
/* Private to net/: the interface MTU the AF_XDP fast path follows (xdp_mtu.c, ARCHITECTURE.md
 * §18). xdp_mtu_watch_open and xdp_mtu_get run on any thread and need no privilege;
 * xdp_mtu_parse and xdp_mtu_frame_max are pure (bytes in, value out), for unit tests. */
#ifndef MERIDIAN_NET_XDP_MTU_H
#define MERIDIAN_NET_XDP_MTU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The Ethernet header in front of the IP packet (xdp_frame_parse accepts untagged frames
 * only): a frame is this plus at most the MTU. */
#define XDP_MTU_ETH_HEADER 14u

/* A non-blocking NETLINK_ROUTE socket subscribed to link notifications (RTNLGRP_LINK: every
 * RTM_NEWLINK the kernel sends when a link of this network namespace changes, its MTU
 * included). 0 with the descriptor in *fd, or a negative errno. */
int xdp_mtu_watch_open(int *fd) __attribute__((warn_unused_result));

/* The MTU of the interface now (SIOCGIFMTU), or 0 when it cannot be read. */
uint32_t xdp_mtu_get(const char *ifname);

/* The MTU (IFLA_MTU) that the last RTM_NEWLINK for ifindex among the netlink messages in buf
 * (len bytes, one datagram as read from the socket) gives, or 0 when none does; *gone is set
 * when an RTM_DELLINK says the link itself went (deleted, or moved to another network
 * namespace), and left alone otherwise. Anything malformed (a length beyond the buffer, an
 * attribute too short) ends the walk there. */
uint32_t xdp_mtu_parse(const void *buf, size_t len, int ifindex, bool *gone);

/* The longest reply frame for an MTU: the Ethernet header plus the MTU, at most frame_size
 * (a UMEM frame). */
uint32_t xdp_mtu_frame_max(uint32_t mtu, uint32_t frame_size);

#endif
