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
#include <string.h>

#include "config/config.h"
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

/* An upper bound on the packed size of d: the byte fields' lengths plus, for every field
 * dnstap_encode may set, its largest tag (1 byte: numbers below 16), length prefix (5) and
 * fixed-size value (a 10-byte varint, 16-byte address). */
#define RECORD_OVERHEAD_MAX 200
static size_t
record_bound(const Dnstap__Dnstap *d)
{
    const Dnstap__Message *m = d->message;
    return RECORD_OVERHEAD_MAX + d->identity.len + d->version.len + d->extra.len +
           m->query_message.len + m->response_message.len;
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
    /* protobuf-c walks the descriptors once to size a message and again to pack it; the
     * first walk costs as much as the second, so a record that surely fits is packed
     * without it. */
    if (record_bound(&d) <= out_max) {
        size_t len = dnstap__dnstap__pack(&d, out);
        if (needed)
            *needed = len;
        return len;
    }
    size_t size = dnstap__dnstap__get_packed_size(&d);
    if (needed)
        *needed = size;
    if (size > out_max)
        return 0;
    return dnstap__dnstap__pack(&d, out);
}

/* The decision's text is written for every steered response the log records: appends
 * instead of snprintf, which costs several times more per field. Cut at the end. */
struct text {
    char *p, *end; /* end: the last byte, kept for the NUL */
};

static void
put(struct text *t, const char *s, size_t n)
{
    size_t room = (size_t)(t->end - t->p);
    n = n < room ? n : room;
    memcpy(t->p, s, n);
    t->p += n;
}

static void
put_str(struct text *t, const char *s)
{
    put(t, s, strlen(s));
}

static void
put_u32(struct text *t, uint32_t v)
{
    char digits[10];
    size_t n = 0;
    do {
        digits[sizeof(digits) - ++n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(t, digits + sizeof(digits) - n, n);
}

/* A member as the config writes it: its address, or its CNAME target (absolute name). */
static void
put_member(struct text *t, const struct policy_member *m)
{
    char addr[INET6_ADDRSTRLEN], name[NAME_TEXT_MAX];
    if (m && (m->family == 4 || m->family == 6)) {
        inet_ntop(m->family == 4 ? AF_INET : AF_INET6, m->addr, addr, sizeof(addr));
        put_str(t, addr);
    } else if (m && m->cfg && m->cfg->target) {
        put_str(t, m->cfg->target);
    } else if (m && m->target) {
        dname_to_text(m->target, name, sizeof(name));
        put_str(t, name);
    } else {
        put_str(t, "-");
    }
}

size_t
dnstap_extra_format(const struct policy_set *set, const struct dns_decision *d, bool ecs,
                    char *out, size_t out_size)
{
    if (!set || d->service >= set->count || out_size == 0)
        return 0;
    const struct policy_service *svc = &set->services[d->service];
    struct text t = {.p = out, .end = out + out_size - 1};
    put_str(&t, "svc=");
    /* The name as the config writes it (absolute), else from the compiled owner. */
    if (svc->cfg && svc->cfg->name) {
        put_str(&t, svc->cfg->name);
    } else {
        char owner[NAME_TEXT_MAX];
        dname_to_text(svc->owner, owner, sizeof(owner));
        put_str(&t, owner);
    }
    put_str(&t, " pool=");
    put_str(&t, d->pool >= 0 && (uint32_t)d->pool < svc->pool_count ? svc->pools[d->pool].name
                                                                      : "-");
    put_str(&t, " member=");
    put_member(&t, d->member);
    put_str(&t, " members=");
    put_u32(&t, d->members);
    put_str(&t, " ttl=");
    put_u32(&t, d->ttl_s);
    put_str(&t, " ecs=");
    if (ecs) {
        put_str(&t, "/");
        put_u32(&t, d->scope);
    } else {
        put_str(&t, "-");
    }
    put_str(&t, d->failed_open ? " failed_open=1 rule=" : " failed_open=0 rule=");
    put_str(&t, d->order < svc->order_count ? svc->orders[d->order].why : "-");
    *t.p = '\0';
    return (size_t)(t.p - out);
}
