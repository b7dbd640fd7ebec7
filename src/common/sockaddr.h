/* SPDX-License-Identifier: MIT */
/* Socket address helpers: parsing "host:port" / "[v6]:port" and formatting. */
#ifndef MERIDIAN_COMMON_SOCKADDR_H
#define MERIDIAN_COMMON_SOCKADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Parses "1.2.3.4:53", "[::1]:53", "1.2.3.4" or "::1" (then `default_port`).
 * Returns 0 or -1. */
int sockaddr_parse(const char *text, uint16_t default_port, struct sockaddr_storage *out,
                   socklen_t *out_len) __attribute__((warn_unused_result));

/* Same family, address and port (IPv6: and scope). */
bool sockaddr_same(const struct sockaddr *a, const struct sockaddr *b);

/* "1.2.3.4:53" or "[::1]:53". */
void sockaddr_format(const struct sockaddr *sa, char *out, size_t out_size);

/* The address of `sa` as (family 4 or 6, octets zero-padded to 16): an IPv4 address inside an
 * IPv4-mapped IPv6 one (RFC 4291 §2.5.5.2) counts as IPv4, so "192.0.2.0/24" matches it on
 * a dual-stack socket. Returns 4, 6, or 0 for another family or NULL. */
int sockaddr_ip(const struct sockaddr *sa, uint8_t addr[16]);

/* Whether the first `bits` bits of addr and net agree. */
bool sockaddr_prefix_match(const uint8_t *net, unsigned bits, const uint8_t *addr);

#endif
