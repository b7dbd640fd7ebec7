/* SPDX-License-Identifier: MIT */
/* Encoding one dnstap record (dnstap.proto: a Dnstap holding a Message) into caller memory,
 * and the text of a steering decision that meridiand puts into Dnstap.extra. Pure functions:
 * no allocation, no state; any thread. */
#ifndef MERIDIAN_DNSTAP_DNSTAP_ENCODE_H
#define MERIDIAN_DNSTAP_DNSTAP_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "dns/dns.h"
#include "policy/policy.h"

/* Message.type values we write (dnstap.proto). */
enum dnstap_kind {
    DNSTAP_AUTH_QUERY = 1,
    DNSTAP_AUTH_RESPONSE = 2,
};

/* One query and its response as the server saw them. */
struct dnstap_event {
    bool tcp;
    const struct sockaddr *client; /* AF_INET or AF_INET6 (else no address fields) */
    const struct sockaddr *local;  /* the listen address, or NULL */
    struct timespec query_time;    /* CLOCK_REALTIME */
    struct timespec response_time;
    const uint8_t *query;
    size_t query_len;
    const uint8_t *response; /* NULL/0: the query was dropped, nothing was sent */
    size_t response_len;
    const char *extra; /* Dnstap.extra of the response, or NULL */
    size_t extra_len;
};

/* Who writes the records: Dnstap.identity and .version, each NULL = left out. */
struct dnstap_origin {
    const char *identity;
    const char *version;
};

/* Packs the record of `kind` for ev into out (capacity out_max). Returns its length, or 0
 * when it needs more than out_max bytes (*needed then says how many; needed may be NULL). */
size_t dnstap_encode(const struct dnstap_origin *origin, enum dnstap_kind kind,
                     const struct dnstap_event *ev, uint8_t *out, size_t out_max,
                     size_t *needed);

/* Room for any decision's text: two names of up to 1021 characters in presentation form
 * (escapes), the pool name, the order's rule and the numbers. */
#define DNSTAP_EXTRA_MAX 3072

/* The decision behind a steered answer as one line of space-separated key=value fields, in
 * this order (README "Query logging (dnstap)"):
 *   svc=<service name as configured, absolute> pool=<pool name, - for none>
 *   member=<first member answered: address or CNAME target, - for none>
 *   members=<records answered> ttl=<seconds> ecs=</scope, - when the query had no ECS>
 *   failed_open=<1 when every candidate was down and all_down applied, else 0>
 *   rule=<the location rule that chose the pool order>
 * rule= comes last and runs to the end of the line, since rules contain spaces ("country
 * DE", "nets rule at meridian.yaml:12", "default"). `ecs` says whether the query carried
 * ECS. Returns the length (out is NUL-terminated; cut at out_size), 0 when the decision
 * names a service `set` does not have. No allocation. */
size_t dnstap_extra_format(const struct policy_set *set, const struct dns_decision *d, bool ecs,
                           char *out, size_t out_size);

#endif
