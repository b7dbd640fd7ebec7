/* SPDX-License-Identifier: MIT */
/* Shared by the XDP program (xdp_filter.bpf.c) and its loader (xdp.c): the key of the
 * program's listen_map and the maps' sizes. Plain fixed-size types only, the same layout in
 * both compilers. */
#ifndef MERIDIAN_NET_XDP_FILTER_H
#define MERIDIAN_NET_XDP_FILTER_H

#include <linux/types.h>

#define XDP_FILTER_MAX_QUEUES 64
#define XDP_FILTER_MAX_LISTEN 64

struct xdp_filter_key {
    __u8 addr[16]; /* IPv4 in the first 4 bytes; all zeros: any address of the family */
    __be16 port;   /* network order */
    __u8 family;   /* 4 or 6 */
    __u8 pad;
};

#endif
