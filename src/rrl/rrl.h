/* SPDX-License-Identifier: MIT */
/* Response rate limiting (RRL) for UDP, as BIND and Knot do it (ARCHITECTURE.md §16): a
 * token bucket per (client prefix, response class, name) in one fixed-size table shared by
 * every worker, lock-free (one 64-bit word per bucket, updated with compare-and-swap), so
 * memory is bounded and nothing is allocated on the query path. A response over its
 * bucket's rate is dropped, or every `slip`-th one cut to a TC=1 stub that sends a real
 * client to TCP, which is never limited. Clients with a valid server cookie (RFC 7873) and
 * `exempt` prefixes are not limited. Counters are kept per worker and summed when read.
 *
 * Why one shared table and not one per worker: SO_REUSEPORT spreads a client's datagrams
 * over the workers by its source port, so per-worker buckets would let one client draw up
 * to `workers` times the rate. A shared bucket holds the configured rate exactly; the cost is
 * that the bucket of an attack's target bounces between the cores that serve it, one cache
 * line, which is cheap next to the response that is not sent. */
#ifndef MERIDIAN_RRL_RRL_H
#define MERIDIAN_RRL_RRL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config/config.h"
#include "dns/dns.h"

struct rrl;

/* What one worker counted; rrl_counters_sum adds up every worker's. */
struct rrl_counters {
    uint64_t responses;                /* UDP responses looked at (rate limiting on) */
    uint64_t limited[DNS_RESP_COUNT];  /* over the rate, by response class */
    uint64_t dropped;                  /* limited and not sent */
    uint64_t slipped;                  /* limited and sent as a TC=1 stub */
    uint64_t would_limit;              /* log_only: limited, but sent in full */
    uint64_t exempt_cookie;            /* not limited: a valid server cookie */
    uint64_t exempt_prefix;            /* not limited: an `exempt` prefix, or loopback */
};

/* A head start on a response's bucket, made from the query before it is answered
 * (rrl_prefetch): the hash of the query's name and the client's network, which every class
 * drawing on that name shares, and the client's exemption. */
struct rrl_hint {
    const uint8_t *name; /* the query's name in the message, NULL: none (malformed query) */
    uint64_t hash;       /* of name and the client's network */
    bool exempt;         /* an `exempt` prefix, or loopback with exempt_loopback */
};

/* One response to decide on. */
struct rrl_response {
    const struct sockaddr *client; /* AF_INET or AF_INET6 */
    enum dns_response_class cls;
    const uint8_t *name; /* uncompressed wire name, any case, or NULL (dns_result.class_name) */
    size_t size;         /* octets: above cfg->large_size the class is DNS_RESP_LARGE */
    bool cookie_valid;
    /* rrl_prefetch's, with the same client and cfg, or NULL. Its hash is used when `name`
     * is the very pointer it was made from (dns_result.class_name points at the query's
     * name for positive, NODATA and ANY answers). */
    const struct rrl_hint *hint;
};

enum rrl_verdict {
    RRL_SEND,
    RRL_DROP,
    RRL_SLIP, /* send dns_truncate_to_question() of the response instead */
};

/* A table of at least `table_size` buckets (rounded up to a power of two) for `workers`
 * workers, its hash keyed with `key` (random: the buckets of chosen names cannot be made to
 * collide). Main thread, before the workers start. */
struct rrl *rrl_new(uint32_t table_size, unsigned workers, const uint8_t key[16]);
void rrl_free(struct rrl *rrl);
/* Its number of buckets. */
uint32_t rrl_table_size(const struct rrl *rrl);
/* The number of buckets rrl_new makes for `table_size` (to tell whether a reload's setting
 * differs from the table's). */
uint32_t rrl_buckets_for(uint32_t table_size);

/* Before the query (query, len) from `client` is answered: hashes its name (read with
 * bounds: the query is not parsed yet), notes the client's exemption into *hint and starts
 * loading the bucket a positive answer (an ANY query: a large one) would use, so that
 * rrl_check does not wait for memory. Worker threads; no allocation, no lock, no write to the
 * table. */
void rrl_prefetch(const struct rrl *rrl, const struct config_rrl *cfg,
                  const struct sockaddr *client, const uint8_t *query, size_t len,
                  struct rrl_hint *hint);

/* Decides on one UDP response on worker `worker` with the settings `cfg` (the current
 * snapshot's: rate, slip, prefixes, exempt and log_only may change on reload) at `now_ms`
 * (any monotonic milliseconds). Worker threads, concurrently; no allocation, no lock. */
enum rrl_verdict rrl_check(struct rrl *rrl, unsigned worker, const struct config_rrl *cfg,
                           const struct rrl_response *resp, uint64_t now_ms);

/* Every worker's counters added up (any thread; each value is read atomically, the sum is
 * not a snapshot across workers). */
void rrl_counters_sum(const struct rrl *rrl, struct rrl_counters *out);

/* "positive", "negative", "error", "referral", "large", "wildcard". */
const char *rrl_class_name(enum dns_response_class cls);

#endif
