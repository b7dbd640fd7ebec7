// SPDX-License-Identifier: MIT
/* Parsing and printing of listen addresses. */
#include "common/sockaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
parse_port(const char *text, uint16_t *port)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < 0 || v > 65535)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

int
sockaddr_parse(const char *text, uint16_t default_port, struct sockaddr_storage *out,
               socklen_t *out_len)
{
    char host[INET6_ADDRSTRLEN + 1];
    uint16_t port = default_port;
    const char *colon = strrchr(text, ':');
    memset(out, 0, sizeof(*out));

    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || (size_t)(close - text - 1) >= sizeof(host))
            return -1;
        memcpy(host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        if (close[1] == ':') {
            if (parse_port(close + 2, &port) < 0)
                return -1;
        } else if (close[1] != '\0') {
            return -1;
        }
    } else if (colon && strchr(text, ':') == colon) {
        /* Exactly one colon: IPv4 with a port. */
        if ((size_t)(colon - text) >= sizeof(host) || parse_port(colon + 1, &port) < 0)
            return -1;
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
    } else {
        if (strlen(text) >= sizeof(host))
            return -1;
        strcpy(host, text);
    }

    struct sockaddr_in *sin = (struct sockaddr_in *)out;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        *out_len = sizeof(*sin);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        *out_len = sizeof(*sin6);
        return 0;
    }
    return -1;
}

void
sockaddr_format(const struct sockaddr *sa, char *out, size_t out_size)
{
    char host[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
        snprintf(out, out_size, "%s:%u", host, ntohs(sin->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
        snprintf(out, out_size, "[%s]:%u", host, ntohs(sin6->sin6_port));
    } else {
        snprintf(out, out_size, "(family %d)", sa->sa_family);
    }
}

bool
sockaddr_same(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family != b->sa_family)
        return false;
    if (a->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->sa_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
        return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
               memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
    }
    return false;
}

int
sockaddr_ip(const struct sockaddr *sa, uint8_t addr[16])
{
    memset(addr, 0, 16);
    if (sa && sa->sa_family == AF_INET) {
        memcpy(addr, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return 4;
    }
    if (sa && sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a6)) {
            memcpy(addr, a6->s6_addr + 12, 4);
            return 4;
        }
        memcpy(addr, a6->s6_addr, 16);
        return 6;
    }
    return 0;
}

bool
sockaddr_prefix_match(const uint8_t *net, unsigned bits, const uint8_t *addr)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(net, addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff00u >> rest);
    return (net[full] & mask) == (addr[full] & mask);
}
