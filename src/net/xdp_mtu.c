// SPDX-License-Identifier: MIT
/* The interface MTU that limits AF_XDP reply frames (ARCHITECTURE.md §18). AF_XDP frames are
 * not fragmented and a frame longer than the MTU is dropped on the wire, so the fast path must
 * know the MTU while it runs, not only at start: an operator may lower it (a tunnel) or raise
 * it (jumbo frames) at any time. The kernel announces every change of a link, its MTU
 * included, as an RTM_NEWLINK on the RTNLGRP_LINK group of NETLINK_ROUTE (rtnetlink(7));
 * this file opens such a socket, reads the MTU from those messages (IFLA_MTU) and, as a
 * fallback when messages were lost, with SIOCGIFMTU. Which thread reads the socket, and where
 * the limit goes, is xdp.c's business. Nothing here allocates. */
#include "net/xdp_mtu.h"

#include <errno.h>
#include <limits.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int
xdp_mtu_watch_open(int *fd)
{
    /* Listening to RTNLGRP_LINK needs no privilege (rtnetlink accepts unprivileged
     * receivers, NL_CFG_F_NONROOT_RECV), so the socket would also work if opened after the
     * privilege drop; it is opened at start anyway, with the rest of the fast path. */
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK};
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (s < 0)
        return -errno;
    if (bind(s, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(s);
        return -e;
    }
    *fd = s;
    return 0;
}

uint32_t
xdp_mtu_get(const char *ifname)
{
    struct ifreq ifr = {0};
    uint32_t mtu = 0;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    if (fd >= 0 && ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
        mtu = (uint32_t)ifr.ifr_mtu;
    if (fd >= 0)
        close(fd);
    return mtu;
}

/* IFLA_MTU among the attributes of one RTM_NEWLINK (after its ifinfomsg), or 0. */
static uint32_t
link_mtu(const struct nlmsghdr *nh)
{
    const struct ifinfomsg *ifi = NLMSG_DATA(nh);
    /* The caller checked that the message holds the ifinfomsg; len is then >= 0. int, as
     * RTA_OK/RTA_NEXT expect: an attribute whose aligned length passes the end drives it
     * negative, where an unsigned one would wrap around and read on. */
    int len = (int)IFLA_PAYLOAD(nh);
    for (const struct rtattr *rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
        uint32_t mtu;
        if (rta->rta_type != IFLA_MTU || RTA_PAYLOAD(rta) < sizeof(mtu))
            continue;
        /* rtnetlink puts IFLA_MTU as a u32 in host order (rtnl_fill_ifinfo). */
        memcpy(&mtu, RTA_DATA(rta), sizeof(mtu));
        return mtu;
    }
    return 0;
}

uint32_t
xdp_mtu_parse(const void *buf, size_t len, int ifindex, bool *gone)
{
    uint32_t mtu = 0;
    /* int for NLMSG_OK/NLMSG_NEXT, as in link_mtu; a datagram is far below INT_MAX. */
    int left = len > INT_MAX ? INT_MAX : (int)len;
    /* Every message in the datagram, in order: the last word on our link wins. */
    for (const struct nlmsghdr *nh = buf; NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left)) {
        if ((nh->nlmsg_type != RTM_NEWLINK && nh->nlmsg_type != RTM_DELLINK) ||
            nh->nlmsg_len < NLMSG_SPACE(sizeof(struct ifinfomsg)))
            continue;
        const struct ifinfomsg *ifi = NLMSG_DATA(nh);
        if (ifi->ifi_index != ifindex)
            continue;
        /* A link going away still carries its last MTU: not a change to follow. AF_BRIDGE
         * RTM_DELLINKs only take a port out of a bridge; the link stays. */
        if (nh->nlmsg_type == RTM_DELLINK) {
            if (ifi->ifi_family == AF_UNSPEC)
                *gone = true;
            continue;
        }
        uint32_t m = link_mtu(nh);
        if (m)
            mtu = m;
    }
    return mtu;
}

uint32_t
xdp_mtu_frame_max(uint32_t mtu, uint32_t frame_size)
{
    /* A jumbo MTU is still held to one UMEM frame: a reply is written into one frame, and
     * frames are not chained (no multi-buffer AF_XDP here). */
    if (mtu >= frame_size - XDP_MTU_ETH_HEADER)
        return frame_size;
    return XDP_MTU_ETH_HEADER + mtu;
}
