/* SPDX-License-Identifier: MIT */
/* DNSSEC upkeep and operator commands of meridiand (README "DNSSEC"):
 * - background re-signing: signatures are made anew before they expire, by a reload (the
 *   snapshot_load path, which reuses every signature not yet due) that the main thread's
 *   timer starts when a signed zone's earliest expiration is less than its `refresh` away;
 * - key rollovers (dnssec_roll.h): `meridianctl dnssec roll` and `ds-seen` are queued here by
 *   the control thread and run by the main thread at the start of the reload that answers
 *   them; the timer advances each rollover's phase when its wait is over and publishes it;
 * - the texts: `meridianctl dnssec ds`, `meridiand --dnssec-ds` and the zones' `status` lines.
 * Threads: the functions say which. The request queue and the counters are locked; rollover
 * states are read and written on the main thread only (the control thread only reads them,
 * and every write replaces the file atomically). */
#ifndef MERIDIAN_SERVER_DNSSEC_OPS_H
#define MERIDIAN_SERVER_DNSSEC_OPS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "dnssec/dnssec_roll.h"
#include "server/snapshot.h"

#define DNSSEC_OPS_TEXT_MAX 512

/* The config index of zone `name` (presentation form, any case, trailing dot optional) in
 * snap, with its signer output in *dz (NULL: not signed); -1 with a message in err when there
 * is no such zone. Any thread that may read snap. */
int dnssec_ops_find_zone(const struct snapshot *snap, const char *name, struct dnssec_zone **dz,
                         char err[DNSSEC_OPS_TEXT_MAX]) __attribute__((warn_unused_result));

/* The rollover timing of zone i of snap: its config's delays, the TTLs it serves now. */
void dnssec_ops_timing(const struct snapshot *snap, size_t i, struct dnssec_roll_timing *t);

/* `dnssec ds ZONE`: the DS (digests: DNSSEC_REPORT_* mask), DNSKEY and CDNSKEY records for
 * the parent (dnssec_report_ds). 0, or -1 with err for an unknown or unsigned zone. */
int dnssec_ops_ds(const struct snapshot *snap, const char *zone, unsigned digests, FILE *out,
                  char err[DNSSEC_OPS_TEXT_MAX]) __attribute__((warn_unused_result));

/* The `status` lines of every signed zone (dnssec_report_status, with the rollover state as
 * saved now) and the upkeep counters. Control thread, under RCU. */
void dnssec_ops_status(const struct snapshot *snap, time_t now, FILE *out);

enum dnssec_op_kind { DNSSEC_OP_ROLL, DNSSEC_OP_DS_SEEN };

/* Control thread: queues `roll` (with `kind`) or `ds-seen` of zone for the main thread,
 * which runs it at the start of its next reload (dnssec_ops_run_requests). Returns the
 * request's id (> 0), or 0 when too many are waiting. */
uint64_t dnssec_ops_request(enum dnssec_op_kind op, const char *zone, enum dnssec_roll_kind kind);
/* Control thread: the outcome of request id once it has run (then forgotten): true with
 * *ok and the text for the reply; false if it has not run. */
bool dnssec_ops_result(uint64_t id, bool *ok, char text[DNSSEC_OPS_TEXT_MAX]);

/* Main thread, as a reload begins: runs the queued requests against the serving snapshot's
 * config (saving rollover states and the new key), recording each outcome. */
void dnssec_ops_run_requests(const struct snapshot *current, time_t now);

/* Main thread, after snap was published at `now`: each rollover phase it was signed in
 * counts from now (dnssec_roll_published), saved. */
void dnssec_ops_published(const struct snapshot *snap, time_t now);

/* Main thread, once snap is published and the reload answered: writes the signature store
 * (dnssec_sigstore.h) of each signed zone whose signatures or serial are new, for the next
 * start. Last, since a large zone's store takes a while to write. */
void dnssec_ops_keep_signatures(const struct snapshot *snap);

/* Main thread, from the timer: whether zone i of snap is due for re-signing at `now` (its
 * earliest expiration, steered answers included, is less than refresh away); *due_at is
 * when it will be (or was). False for an unsigned zone. */
bool dnssec_ops_resign_due(const struct snapshot *snap, size_t i, time_t now, time_t *due_at);

/* Main thread, from the timer: looks at every signed zone of snap at `now`: advances the
 * rollovers whose wait is over (saving the next phase), retires the old key of those whose
 * last phase is published, and returns true when a reload must publish something (a new
 * phase, a phase whose publication failed, signatures due), with the first reason in why.
 * *next is the earliest later time something becomes due (0: nothing known). */
bool dnssec_ops_upkeep(const struct snapshot *snap, time_t now, time_t *next,
                       char why[DNSSEC_OPS_TEXT_MAX]);

/* Main thread: one upkeep reload ended (ok or failed, with its error): counted for status. */
void dnssec_ops_count(bool ok, const char *error);

#endif
