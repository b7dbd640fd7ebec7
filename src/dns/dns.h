/* SPDX-License-Identifier: MIT */
/* The answer path: dns_answer() turns one query message into one response message. It is
 * a pure function of its inputs: no sockets, no locks, no allocation, no global state, so
 * any worker thread may call it concurrently on the same (immutable) view, and tests and
 * fuzzers drive it without a network. */
#ifndef MERIDIAN_DNS_DNS_H
#define MERIDIAN_DNS_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/dnswire.h"
#include "dns/dns_cookie.h"
#include "health/health.h"
#include "policy/policy.h"
#include "tsig/tsig.h"
#include "zone/zone.h"

#define DNS_UDP_DEFAULT_LIMIT 512  /* RFC 1035 §4.2.1, queries without EDNS */
#define DNS_EDNS_DEFAULT_SIZE 1232 /* DNS flag day 2020: avoids IP fragmentation */

/* Everything dns_answer reads besides the query: part of the server's snapshot. */
struct dns_view {
    const struct zone_set *zones;
    const char *identity; /* CHAOS id.server / hostname.bind; NULL = hidden (REFUSED) */
    const char *version;  /* CHAOS version.bind / version.server; NULL = hidden */
    const uint8_t *nsid;  /* RFC 5001 payload; NULL = NSID off */
    uint16_t nsid_len;
    uint16_t udp_max_size;             /* largest UDP response we send to an EDNS client */
    const struct policy_set *policies; /* steered names; NULL = none */
    const struct tsig_keyring *tsig;   /* TSIG keys (RFC 8945); NULL = none: BADKEY to all */
    /* NOTIFY (RFC 1996) for the apex of one of the zones: true when `from`, with `key` (the
     * TSIG key that signed it, verified, or NULL), may notify that zone, which the callee
     * then refreshes (answered NOERROR); false: REFUSED. NULL: every NOTIFY is refused. Called
     * on the workers: no allocation, no locks. */
    bool (*notify)(const void *ctx, const struct zone *zone, const struct sockaddr *from,
                   const struct tsig_key *key);
    const void *notify_ctx;
    /* DNS cookies (RFC 7873, RFC 9018 server cookies); NULL = off: the option is ignored
     * like any unknown one (RFC 6891 §6.1.2). */
    const struct dns_cookie_secrets *cookies;
};

struct dns_client {
    const struct sockaddr *addr; /* source address (AF_INET or AF_INET6), or NULL */
    bool tcp;
    bool ecs_ignore;                   /* the listener ignores EDNS Client Subnet (RFC 7871) */
    uint64_t random;                   /* one random number for this query (weighted choice) */
    const struct health_table *health; /* NULL = every member up unless forced down */
    uint32_t now_s;                    /* CLOCK_MONOTONIC seconds, for TTL caps (health_now_s) */
    /* CLOCK_REALTIME seconds for TSIG time checks (RFC 8945 §5.2.3) and cookie timestamps
     * (RFC 9018 §4.3). Read when the view has keys or cookies. */
    uint64_t wall_s;
    /* The caller answers zone transfers (xfr/, ARCHITECTURE.md §11): a well-formed AXFR or
     * IXFR of class IN is only reported (dns_result.transfer), not answered. false: they
     * are REFUSED. */
    bool transfers;
};

/* The steering decision behind a steered answer, for metrics and query logs (dnstap). For a
 * chain that meets several steered names (a CNAME to another service), the first one: the
 * name the client asked about, or the first steered name its chain reached. */
struct dns_decision {
    uint32_t service; /* index into dns_view.policies->services */
    uint32_t order;   /* index into that service's orders (the location rule that decided) */
    int32_t pool;     /* index into the service's pools, -1 = none answered (NODATA) */
    uint32_t members; /* records answered, 0 = NODATA */
    const struct policy_member *member; /* the first member answered, NULL when none */
    uint32_t ttl_s;                     /* the TTL given (the service's, capped by health) */
    uint8_t scope;                      /* ECS scope prefix length of this decision */
    bool failed_open;                   /* every candidate was down: all_down applied */
};

/* What kind of response this is, for response rate limiting (rrl/, ARCHITECTURE.md §16):
 * responses of one kind about one name share a budget. */
enum dns_response_class {
    DNS_RESP_POSITIVE = 0, /* an answer (NOERROR with records in the answer section) */
    DNS_RESP_NEGATIVE,     /* NXDOMAIN or NODATA */
    DNS_RESP_ERROR,        /* any other rcode (REFUSED, FORMERR, SERVFAIL, ...) */
    DNS_RESP_REFERRAL,     /* a delegation to a child zone */
    DNS_RESP_LARGE,        /* ANY (rrl/ also counts answers above its size threshold here) */
    DNS_RESP_WILDCARD,     /* synthesized from a wildcard */
    DNS_RESP_COUNT
};

/* What happened, for counters. */
struct dns_result {
    uint16_t qtype;
    uint8_t rcode; /* full (extended) rcode of the response */
    bool truncated;
    bool edns;
    bool ecs;            /* the query carried a usable ECS option */
    bool steered;        /* a steering policy chose (part of) the answer */
    struct dns_decision decision; /* written only when steered */
    bool tsig;           /* the query carried a TSIG record and the response one too */
    uint16_t tsig_error; /* enum tsig_error answered (rcode NOTAUTH), 0 = none */
    bool transfer;       /* an AXFR/IXFR left to the caller (dns_client.transfers): nothing
                            written */
    bool cookie;         /* the query had a well-formed COOKIE option (answered with ours) */
    bool cookie_valid;   /* ... with a server cookie of ours, valid (RFC 9018 §4.3) */
    /* Rate limiting's view of the response: its class and the name whose budget it draws
     * on, as an uncompressed wire name in any case (the query's name as sent, or a name in
     * the zone data: valid while the caller holds the query and the snapshot), NULL for
     * none (errors). NXDOMAIN draws on the zone's name, a wildcard answer on the wildcard's
     * parent and a referral on the cut, so a flood of random names shares one budget (as
     * BIND and Knot do). */
    enum dns_response_class response_class;
    const uint8_t *class_name;
    /* With `transfer` and `tsig`: the request's TSIG, verified with error 0 (key set), for
     * the caller to sign every message of the transfer with (RFC 8945 §5.3.1). Written only
     * then: other queries do not pay for clearing it. */
    struct tsig_request transfer_tsig;
};

/* Answers the query (query, len) from `view` into out (capacity out_max). Over UDP the
 * response is limited to 512 bytes, or the client's EDNS size clamped to
 * view->udp_max_size, with TC set when required data does not fit (RFC 2181 §9). Returns
 * the response length, or 0 when the message must be dropped (shorter than a header, or a
 * response: QR set) or is a zone transfer the caller answers (result->transfer).
 *
 * A query ending in a TSIG record (RFC 8945) is checked against view->tsig at
 * client->wall_s: an authentic one is answered as usual and the response signed with the
 * same key, its MAC chained to the query's; otherwise the rcode is NOTAUTH with the TSIG error
 * (BADKEY, BADSIG: unsigned; BADTIME, BADTRUNC: signed), or FORMERR for a TSIG record that
 * cannot be read or is not last. Room for the response's TSIG is reserved like the OPT's.
 * An authentic signed transfer is reported with result->tsig and result->transfer_tsig: its
 * answer is the caller's, and so is signing it. */
size_t dns_answer(const struct dns_view *view, const struct dns_client *client,
                  const uint8_t *query, size_t len, uint8_t *out, size_t out_max,
                  struct dns_result *result);

/* Cuts the response (msg, len) that dns_answer wrote down to its header and question with TC
 * set, the "slip" of rate limiting: a client that really asked retries over TCP, where it
 * is not limited. Returns the new length. */
size_t dns_truncate_to_question(uint8_t *msg, size_t len);

/* Makes zone->negative (dns_negative.c: the authority records of its negative answers,
 * written once), or leaves it NULL where they cannot be made. Call on the loader thread after
 * the zone is complete and signed (if it is to be), before it is shared. */
void dns_negative_render(struct zone *zone);

#endif
