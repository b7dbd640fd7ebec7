// SPDX-License-Identifier: MIT
/* The XDP program of the AF_XDP fast path (net/xdp.c, ARCHITECTURE.md §18), compiled with
 * clang -target bpf at build time and embedded in meridiand. It runs in the driver (or the
 * generic hook) for every frame the interface receives and redirects to the AF_XDP socket of
 * the frame's receive queue exactly the UDP datagrams sent to a listen address and port;
 * everything else (TCP, other ports, ARP, ICMP, NDP, fragments, IPv4 options, IPv6 extension
 * headers, VLAN tags) goes on to the kernel (XDP_PASS), so the interface works as before.
 * Userspace fills `listen_map` with one key per listen address (the address all zeros for a
 * wildcard) and `xsks_map` with one socket per queue. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "net/xdp_filter.h"

struct {
    __uint(type, BPF_MAP_TYPE_XSKMAP);
    __uint(max_entries, XDP_FILTER_MAX_QUEUES);
    __type(key, __u32);
    __type(value, __u32);
} xsks_map SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, XDP_FILTER_MAX_LISTEN);
    __type(key, struct xdp_filter_key);
    __type(value, __u32);
} listen_map SEC(".maps");

/* A listen address, or the wildcard of its family, on the datagram's port. */
static __always_inline int
listed(struct xdp_filter_key *k)
{
    if (bpf_map_lookup_elem(&listen_map, k))
        return 1;
    __builtin_memset(k->addr, 0, sizeof(k->addr));
    return bpf_map_lookup_elem(&listen_map, k) != 0;
}

SEC("xdp")
int
xdp_dns_filter(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct xdp_filter_key k = {0};
    struct udphdr *udp;

    if ((void *)(eth + 1) > end)
        return XDP_PASS;
    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = (void *)(eth + 1);
        if ((void *)(ip + 1) > end || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
            return XDP_PASS;
        /* A fragment (MF set or an offset) is for the kernel to reassemble. */
        if (ip->frag_off & bpf_htons(0x3fff))
            return XDP_PASS;
        udp = (void *)(ip + 1);
        k.family = 4;
        __builtin_memcpy(k.addr, &ip->daddr, 4);
    } else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = (void *)(eth + 1);
        if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_UDP)
            return XDP_PASS;
        udp = (void *)(ip6 + 1);
        k.family = 6;
        __builtin_memcpy(k.addr, &ip6->daddr, 16);
    } else {
        return XDP_PASS;
    }
    if ((void *)(udp + 1) > end)
        return XDP_PASS;
    k.port = udp->dest;
    if (!listed(&k))
        return XDP_PASS;
    /* No socket on this queue (yet): the kernel's UDP sockets answer instead. */
    return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
}

char _license[] SEC("license") = "Dual MIT/GPL";
