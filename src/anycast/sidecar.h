/* SPDX-License-Identifier: MIT */
/* The sidecar: wires the state machine to its inputs (probe rounds, control commands,
 * signals, a deadline timer) and outputs (gate devices or the fallback include file), and
 * watches BIRD read-only. Everything runs on one libev loop. The config is borrowed for the
 * sidecar's lifetime. Control commands (see anycast_sidecar_command):
 *   status                  state, reason, gates, counters, BIRD verification
 *   drain | undrain         GRACEFUL_SHUTDOWN for drain_time, then withdraw | lift the drain
 *   force up | force down   pin the gates (FORCED) until `unforce`
 *   unforce
 * Event loop thread. */
#ifndef MERIDIAN_ANYCAST_SIDECAR_H
#define MERIDIAN_ANYCAST_SIDECAR_H

#include <ev.h>
#include <stdbool.h>
#include <stdio.h>

#include "anycast/config.h"

struct anycast_sidecar;

/* Creates the gate devices (both down; or, failing that with fallback_include set, writes
 * the withdrawn include file), binds the control socket and schedules the first probe round.
 * 0, or -1 with a message in err. */
int anycast_sidecar_start(struct ev_loop *loop, const struct anycast_config *cfg,
                          struct anycast_sidecar **out, char *err, size_t err_size)
    __attribute__((warn_unused_result));

/* Runs one control command line and writes the reply ("ok ..." / "error: ..."). */
void anycast_sidecar_command(struct anycast_sidecar *sc, char *line, FILE *out);

/* True while probe rounds keep completing on schedule (the last one ended less than two
 * round periods plus a second ago): the systemd watchdog is fed only then, so a loop that
 * still runs but no longer probes is restarted too (and withdraws). */
bool anycast_sidecar_alive(const struct anycast_sidecar *sc);

/* Withdraws (both gates down, devices closed; in fallback mode the withdrawn file plus a
 * `configure`, waited for up to a few seconds), closes the control socket and frees. */
void anycast_sidecar_stop(struct anycast_sidecar *sc);

#endif
