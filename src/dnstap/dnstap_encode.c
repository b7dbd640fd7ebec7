// SPDX-License-Identifier: MIT
/* One dnstap record packed with protobuf-c (the C of dnstap.proto, generated at build time)
 * into the caller's buffer: the generated structs live on the stack and point at the
 * caller's bytes, and protobuf-c writes them out without allocating. The AUTH_QUERY record
 * carries the query, the AUTH_RESPONSE record the response and the decision text, as the
 * dnstap schema recommends for an authoritative server; both carry the addresses, ports,
 * transport and the query time. Also the decision's text for Dnstap.extra. Any thread. */
#include "dnstap/dnstap_encode.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "dnstap/dnstap.pb-c.h"

/* A name in presentation form: 255 wire bytes, each at most "\\DDD". */
#define NAME_TEXT_MAX (4 * DNAME_MAX_LEN + 1)

/* The address and port of sa when it has the family `family` (AF_INET/AF_INET6). */
static bool
address_of(const struct sockaddr *sa, int family, ProtobufCBinaryData *addr, uint32_t *port)
{
    if (!sa || sa->sa_family != family)
        return false;
    if (family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        addr->data = (uint8_t *)&in->sin_addr;
        addr->len = 4;
        *port = ntohs(in->sin_port);
    } else {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        addr->data = (uint8_t *)&in6->sin6_addr;
        addr->len = 16;
        *port = ntohs(in6->sin6_port);
    }
    return true;
}

static ProtobufCBinaryData
bytes(const void *p, size_t len)
{
    /* protobuf-c's struct is not const-correct; it only reads what we point it at. */
    return (ProtobufCBinaryData){.len = len, .data = (uint8_t *)(uintptr_t)p};
}

size_t
dnstap_encode(const struct dnstap_origin *origin, enum dnstap_kind kind,
              const struct dnstap_event *ev, uint8_t *out, size_t out_max, size_t *needed)
{
    Dnstap__Dnstap d = DNSTAP__DNSTAP__INIT;
    Dnstap__Message m = DNSTAP__MESSAGE__INIT;
    d.type = DNSTAP__DNSTAP__TYPE__MESSAGE;
    d.message = &m;
    if (origin->identity) {
        d.has_identity = true;
        d.identity = bytes(origin->identity, strlen(origin->identity));
    }
    if (origin->version) {
        d.has_version = true;
        d.version = bytes(origin->version, strlen(origin->version));
    }
    m.type = kind == DNSTAP_AUTH_QUERY ? DNSTAP__MESSAGE__TYPE__AUTH_QUERY
                                       : DNSTAP__MESSAGE__TYPE__AUTH_RESPONSE;
    m.has_socket_protocol = true;
    m.socket_protocol = ev->tcp ? DNSTAP__SOCKET_PROTOCOL__TCP : DNSTAP__SOCKET_PROTOCOL__UDP;
    int family = ev->client ? ev->client->sa_family : AF_UNSPEC;
    if (family == AF_INET || family == AF_INET6) {
        m.has_socket_family = true;
        m.socket_family = family == AF_INET ? DNSTAP__SOCKET_FAMILY__INET
                                            : DNSTAP__SOCKET_FAMILY__INET6;
        m.has_query_address = m.has_query_port =
            address_of(ev->client, family, &m.query_address, &m.query_port);
        /* Our side only when it is of the same family (the schema has one family field). */
        m.has_response_address = m.has_response_port =
            address_of(ev->local, family, &m.response_address, &m.response_port);
    }
    /* Both records say when the query came: a reader pairs them by it (and the addresses). */
    m.has_query_time_sec = m.has_query_time_nsec = true;
    m.query_time_sec = (uint64_t)ev->query_time.tv_sec;
    m.query_time_nsec = (uint32_t)ev->query_time.tv_nsec;
    if (kind == DNSTAP_AUTH_QUERY) {
        m.has_query_message = true;
        m.query_message = bytes(ev->query, ev->query_len);
    } else {
        m.has_response_time_sec = m.has_response_time_nsec = true;
        m.response_time_sec = (uint64_t)ev->response_time.tv_sec;
        m.response_time_nsec = (uint32_t)ev->response_time.tv_nsec;
        m.has_response_message = ev->response_len > 0;
        m.response_message = bytes(ev->response, ev->response_len);
        if (ev->extra) {
            d.has_extra = true;
            d.extra = bytes(ev->extra, ev->extra_len);
        }
    }
    size_t size = dnstap__dnstap__get_packed_size(&d);
    if (needed)
        *needed = size;
    if (size > out_max)
        return 0;
    return dnstap__dnstap__pack(&d, out);
}

/* A member as the config writes it: its address, or its CNAME target (absolute name). */
static void
member_text(const struct policy_member *m, char *out, size_t size)
{
    if (!m)
        snprintf(out, size, "-");
    else if (m->family == 4 || m->family == 6)
        inet_ntop(m->family == 4 ? AF_INET : AF_INET6, m->addr, out, (socklen_t)size);
    else if (m->target)
        dname_to_text(m->target, out, size);
    else
        snprintf(out, size, "-");
}

size_t
dnstap_extra_format(const struct policy_set *set, const struct dns_decision *d, bool ecs,
                    char *out, size_t out_size)
{
    if (!set || d->service >= set->count || out_size == 0)
        return 0;
    const struct policy_service *svc = &set->services[d->service];
    char owner[NAME_TEXT_MAX], member[NAME_TEXT_MAX], scope[8] = "-";
    dname_to_text(svc->owner, owner, sizeof(owner));
    member_text(d->member, member, sizeof(member));
    const char *pool =
        d->pool >= 0 && (uint32_t)d->pool < svc->pool_count ? svc->pools[d->pool].name : "-";
    const char *rule = d->order < svc->order_count ? svc->orders[d->order].why : "-";
    if (ecs)
        snprintf(scope, sizeof(scope), "/%u", (unsigned)d->scope);
    int n = snprintf(out, out_size,
                     "svc=%s pool=%s member=%s members=%u ttl=%u ecs=%s failed_open=%d rule=%s",
                     owner, pool, member, (unsigned)d->members, (unsigned)d->ttl_s, scope,
                     d->failed_open ? 1 : 0, rule);
    if (n < 0)
        return 0;
    return (size_t)n < out_size ? (size_t)n : out_size - 1;
}
