/* SPDX-License-Identifier: MIT */
/* The dnstap query log (ARCHITECTURE.md §15): AUTH_QUERY and AUTH_RESPONSE records
 * (dnstap.proto) for the queries the workers answer, written by fstrm's I/O thread as Frame
 * Streams to a UNIX socket or a file (`server.dnstap`). A worker never blocks on the log and
 * never allocates for it (bar responses too large for a slot, see dnstap_log): each has its
 * own fstrm input queue and a ring of preallocated record buffers that the I/O thread hands
 * back once a record is written. A record that finds the queue full or no free buffer is
 * dropped and counted; records fstrm discards while the output is not open (no reader on the
 * socket yet, or it went away) are counted as lost. Opened once at start, after the privilege
 * drop (the file or socket is this user's); the config is not re-read on reload. */
#ifndef MERIDIAN_DNSTAP_DNSTAP_H
#define MERIDIAN_DNSTAP_DNSTAP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "config/config.h"
#include "dns/dns.h"
#include "dnstap/dnstap_encode.h"
#include "policy/policy.h"

struct dnstap;

/* Starts the log of cfg->dnstap for `workers` workers (worker numbers 0..workers-1) and
 * its I/O thread, which opens the output in the background (and every second after it
 * failed, so a reader started later is found). *out = NULL when cfg has no dnstap section.
 * 0, or -1 with err. Main thread. */
int dnstap_open(const struct config *cfg, unsigned workers, struct dnstap **out,
                char err[CONFIG_ERR_MAX]) __attribute__((warn_unused_result));

/* Writes out what is queued, stops the I/O thread and frees the log. After the workers have
 * stopped. NULL is a no-op. Main thread. */
void dnstap_close(struct dnstap *dt);

/* Worker `worker`, before answering: true if this query is to be logged (sampling: one in
 * `sample`), with *query_time the wall clock now. */
bool dnstap_sample(struct dnstap *dt, unsigned worker, struct timespec *query_time);

/* Worker `worker`, after answering a query dnstap_sample chose: queues its records. ev has
 * the query and query_time; response (response_len 0: the query was dropped, only the query
 * is logged) is what was sent. response_time and extra are filled in here (extra: the
 * decision of a steered answer, named from `policies`, the set the answer came from). A
 * record that does not fit a ring buffer (a TCP response over about 2 KiB) is allocated on
 * the heap and freed by the I/O thread. */
void dnstap_log(struct dnstap *dt, unsigned worker, struct dnstap_event *ev,
                const uint8_t *response, size_t response_len,
                const struct policy_set *policies, const struct dns_result *result);

/* Records of one worker (UINT32_MAX: all workers) so far: queued, dropped (queue full or no
 * free buffer) and lost (discarded by fstrm while the output was not open). Any thread. */
struct dnstap_counters {
    uint64_t logged;
    uint64_t dropped;
    uint64_t lost;
};
void dnstap_counters_get(const struct dnstap *dt, unsigned worker, struct dnstap_counters *out);

/* `status` lines: where the log goes, whether it is open, the counters in total and per
 * worker. NULL: "dnstap: off". Any thread. */
void dnstap_status(const struct dnstap *dt, FILE *out);

/* True when cfg's dnstap section differs from the one the log was opened with (dt NULL: from
 * none), i.e. a reload asks for what only a restart applies. Main thread. */
bool dnstap_config_changed(const struct dnstap *dt, const struct config *cfg);

#endif
