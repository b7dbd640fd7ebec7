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

#endif
