/* SPDX-License-Identifier: MIT */
/* Read-only verification of BIRD (src/anycast/README.md, "Watching BIRD"): every bird_interval a
 * restricted CLI session asks `show protocols`, `show route for PREFIX` per prefix and
 * `show route for PREFIX export PEER` per prefix and established peer, and compares what BIRD
 * originates and exports with the gates' intent (bird.h has the rules). A check that overlaps
 * a gate change, or follows one by less than a second, is not judged (BIRD needs a moment);
 * a mismatch must be seen twice in a row before it is reported: logged, counted, shown in
 * `status`, and passed to the owner's callback (the fallback re-applies its file then). An
 * unreachable BIRD is "unknown", never "withdrawn". Event loop thread. */
#ifndef MERIDIAN_ANYCAST_VERIFY_H
#define MERIDIAN_ANYCAST_VERIFY_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "anycast/bird.h"
#include "anycast/config.h"

/* The owner's view, read at the start and at the end of each check. */
struct anycast_verify_input {
    enum anycast_intent intent; /* from the gates as applied */
    uint64_t gate_epoch;        /* increments on every gate change */
    uint64_t last_change_ms;    /* monotonic time of the last gate change */
};

typedef void (*anycast_verify_input_fn)(void *arg, struct anycast_verify_input *in);
typedef void (*anycast_verify_mismatch_fn)(void *arg, const char *msg);

struct anycast_verifier;

/* `fallback`: routes come from bird_protocols in every announcing intent (the include file
 * marks a drain with the community, not with other protocols). Does nothing without
 * bird_socket. The config is borrowed. */
struct anycast_verifier *anycast_verifier_new(struct ev_loop *loop,
                                              const struct anycast_config *cfg, bool fallback,
                                              anycast_verify_input_fn input,
                                              anycast_verify_mismatch_fn mismatch, void *arg);
void anycast_verifier_free(struct anycast_verifier *v);

/* Writes "bird: ...", "bird_peers: ...", "bird_checks: N", "bird_mismatches: N" lines. */
void anycast_verifier_status(const struct anycast_verifier *v, FILE *out);

#endif
