/* SPDX-License-Identifier: MIT */
/* Private to net/: reading a UDP query out of an Ethernet frame and writing the reply's
 * headers from it (xdp_frame.c). Pure: bytes in, bytes out, any thread. */
#ifndef MERIDIAN_NET_XDP_FRAME_H
#define MERIDIAN_NET_XDP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Ethernet + IPv6 (no extension headers) + UDP: the most a reply's headers take. */
#define XDP_FRAME_HEADERS_MAX (14 + 40 + 8)

struct xdp_frame_query {
    struct sockaddr_storage client; /* source address and port */
    socklen_t client_len;
    struct sockaddr_storage local; /* destination address and port */
    size_t header_len;             /* Ethernet, IP and UDP headers */
    const uint8_t *dns;            /* the UDP payload, inside the frame */
    size_t dns_len;
};

/* A UDP datagram over IPv4 (no options, not a fragment) or IPv6 (UDP as the first next
 * header) in an untagged Ethernet frame of len bytes, its lengths consistent with len: true
 * with q filled in. Anything else (the XDP program passes most of it to the kernel): false. */
bool xdp_frame_parse(const uint8_t *frame, size_t len, struct xdp_frame_query *q);

/* Makes reply, whose answer (n bytes) is already at reply + q->header_len, the reply to the
 * parsed query frame: its headers, the query's with MACs, addresses and ports swapped, lengths,
 * IPv4 header checksum and UDP checksum set. The query frame is only read; reply must be
 * another frame. Returns the reply frame's length. */
size_t xdp_frame_reply(uint8_t *reply, const uint8_t *query, const struct xdp_frame_query *q,
                       size_t n);

#endif
