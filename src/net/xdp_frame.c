// SPDX-License-Identifier: MIT
/* Frames of the AF_XDP fast path (ARCHITECTURE.md §18): the UDP query read out of a received
 * Ethernet frame, and the headers of the reply, written in front of the answer in a frame of
 * its own, from the query's headers. Checksums of received frames are not verified: the
 * hardware or the sender's kernel did, as for the kernel's own UDP sockets behind a NIC with
 * receive offload; a corrupted query at worst gets a FORMERR or a wrong-question answer the
 * client discards (RFC 5452 §9.1 checks). The reply's checksums are computed in full: IPv6
 * requires the UDP one (RFC 8200 §8.1), and a veth peer's stack verifies it. Pure
 * functions, any thread. */
#include "net/xdp_frame.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#define ETH_HEADER 14
#define ETH_ADDR 6
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define IPV4_HEADER 20
#define IPV6_HEADER 40
#define UDP_HEADER 8
#define PROTO_UDP 17
/* RFC 1700 / RFC 8200 §3: a common default TTL / hop limit for our replies. */
#define REPLY_TTL 64

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* RFC 1071: the one's complement sum of 16-bit words, not yet folded. Summed in the host's
 * byte order, four bytes at a time: the sum is independent of byte order (RFC 1071 §2(B)),
 * so stored back the same way (put_sum) its bytes are those of a sum in network order, and
 * a 64-bit accumulator of 32-bit words folds to the same 16 bits. Values added to it
 * (pseudo-header fields) must be in network order (net16). */
static uint64_t
sum_words(const uint8_t *p, size_t len, uint64_t sum)
{
    uint32_t w;
    uint16_t h;
    for (; len >= 4; p += 4, len -= 4) {
        memcpy(&w, p, 4);
        sum += w;
    }
    if (len >= 2) {
        memcpy(&h, p, 2);
        sum += h;
        p += 2;
        len -= 2;
    }
    if (len) {
        /* An odd last byte is padded with a zero byte after it (RFC 768). */
        const uint8_t pad[2] = {p[0], 0};
        memcpy(&h, pad, 2);
        sum += h;
    }
    return sum;
}

static uint64_t
net16(uint16_t v)
{
    return htons(v);
}

/* Folds sum to 16 bits and stores its complement at p, in the order it was summed. */
static uint16_t
put_sum(uint8_t *p, uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    uint16_t check = (uint16_t)~sum;
    memcpy(p, &check, 2);
    return check;
}

/* The client (source) and local (destination) addresses and ports of the query. */
static void
set_addresses(struct xdp_frame_query *q, int family, const uint8_t *src, const uint8_t *dst,
              const uint8_t *udp)
{
    if (family == AF_INET) {
        struct sockaddr_in *c = (struct sockaddr_in *)&q->client;
        struct sockaddr_in *l = (struct sockaddr_in *)&q->local;
        /* Only the address's own bytes: a whole sockaddr_storage each would be 256 bytes of
         * stores per query. */
        memset(c, 0, sizeof(*c));
        memset(l, 0, sizeof(*l));
        c->sin_family = l->sin_family = AF_INET;
        memcpy(&c->sin_addr, src, 4);
        memcpy(&l->sin_addr, dst, 4);
        memcpy(&c->sin_port, udp, 2);
        memcpy(&l->sin_port, udp + 2, 2);
        q->client_len = sizeof(*c);
    } else {
        struct sockaddr_in6 *c = (struct sockaddr_in6 *)&q->client;
        struct sockaddr_in6 *l = (struct sockaddr_in6 *)&q->local;
        memset(c, 0, sizeof(*c));
        memset(l, 0, sizeof(*l));
        c->sin6_family = l->sin6_family = AF_INET6;
        memcpy(&c->sin6_addr, src, 16);
        memcpy(&l->sin6_addr, dst, 16);
        memcpy(&c->sin6_port, udp, 2);
        memcpy(&l->sin6_port, udp + 2, 2);
        q->client_len = sizeof(*c);
    }
}

bool
xdp_frame_parse(const uint8_t *frame, size_t len, struct xdp_frame_query *q)
{
    const uint8_t *udp;
    size_t ip_room;

    if (len < ETH_HEADER)
        return false;
    uint16_t type = get16(frame + 12);
    const uint8_t *ip = frame + ETH_HEADER;
    if (type == ETHERTYPE_IPV4) {
        if (len < ETH_HEADER + IPV4_HEADER + UDP_HEADER || ip[0] != 0x45 || ip[9] != PROTO_UDP)
            return false;
        /* MF or a fragment offset: only the kernel can reassemble. */
        if (get16(ip + 6) & 0x3fff)
            return false;
        size_t total = get16(ip + 2);
        if (total < IPV4_HEADER + UDP_HEADER || total > len - ETH_HEADER)
            return false;
        ip_room = total - IPV4_HEADER;
        udp = ip + IPV4_HEADER;
        set_addresses(q, AF_INET, ip + 12, ip + 16, udp);
        q->header_len = ETH_HEADER + IPV4_HEADER + UDP_HEADER;
    } else if (type == ETHERTYPE_IPV6) {
        if (len < ETH_HEADER + IPV6_HEADER + UDP_HEADER || (ip[0] >> 4) != 6 || ip[6] != PROTO_UDP)
            return false;
        size_t payload = get16(ip + 4);
        if (payload < UDP_HEADER || payload > len - ETH_HEADER - IPV6_HEADER)
            return false;
        ip_room = payload;
        udp = ip + IPV6_HEADER;
        set_addresses(q, AF_INET6, ip + 8, ip + 24, udp);
        q->header_len = ETH_HEADER + IPV6_HEADER + UDP_HEADER;
    } else {
        return false;
    }
    size_t udp_len = get16(udp + 4);
    if (udp_len < UDP_HEADER || udp_len > ip_room)
        return false;
    q->dns = udp + UDP_HEADER;
    q->dns_len = udp_len - UDP_HEADER;
    return true;
}

size_t
xdp_frame_reply(uint8_t *reply, const uint8_t *query, const struct xdp_frame_query *q, size_t n)
{
    bool v4 = q->client.ss_family == AF_INET;
    size_t ip_len = v4 ? IPV4_HEADER : IPV6_HEADER;
    const uint8_t *qip = query + ETH_HEADER;
    const uint8_t *qudp = qip + ip_len;
    uint8_t *ip = reply + ETH_HEADER;
    uint8_t *udp = ip + ip_len;
    size_t udp_len = UDP_HEADER + n;
    uint64_t sum;

    /* Back to where the query came from: MACs, addresses and ports swapped. */
    memcpy(reply, query + ETH_ADDR, ETH_ADDR);
    memcpy(reply + ETH_ADDR, query, ETH_ADDR);
    memcpy(reply + 2 * ETH_ADDR, query + 2 * ETH_ADDR, 2);
    memcpy(udp, qudp + 2, 2);
    memcpy(udp + 2, qudp, 2);
    put16(udp + 4, (uint16_t)udp_len);
    put16(udp + 6, 0);
    if (v4) {
        ip[0] = 0x45;
        ip[1] = 0; /* DSCP/ECN: none */
        put16(ip + 2, (uint16_t)(IPV4_HEADER + udp_len));
        memcpy(ip + 4, qip + 4, 2); /* the query's identification, as before */
        put16(ip + 6, 0);           /* no DF: as the sockets (IP_PMTUDISC_OMIT, net/udp.c) */
        ip[8] = REPLY_TTL;
        ip[9] = PROTO_UDP;
        memcpy(ip + 12, qip + 16, 4);
        memcpy(ip + 16, qip + 12, 4);
        put16(ip + 10, 0);
        (void)put_sum(ip + 10, sum_words(ip, IPV4_HEADER, 0));
        /* RFC 768: pseudo-header of source, destination, protocol and UDP length. */
        sum = sum_words(ip + 12, 8, net16(PROTO_UDP) + net16((uint16_t)udp_len));
    } else {
        /* Version 6, traffic class and flow label 0 (RFC 8200 §3). */
        ip[0] = 0x60;
        ip[1] = ip[2] = ip[3] = 0;
        put16(ip + 4, (uint16_t)udp_len);
        ip[6] = PROTO_UDP;
        ip[7] = REPLY_TTL;
        memcpy(ip + 8, qip + 24, 16);
        memcpy(ip + 24, qip + 8, 16);
        /* RFC 8200 §8.1: the pseudo-header of addresses, upper-layer length and next header. */
        sum = sum_words(ip + 8, 32, net16(PROTO_UDP) + net16((uint16_t)udp_len));
    }
    /* RFC 768: a computed zero is sent as all ones (zero means "none", forbidden for IPv6,
     * RFC 8200 §8.1); all ones reads the same in either byte order. */
    if (put_sum(udp + 6, sum_words(udp, udp_len, sum)) == 0)
        put16(udp + 6, 0xffff);
    return q->header_len + n;
}
