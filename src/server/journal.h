/* SPDX-License-Identifier: MIT */
/* meridiand's side of the IXFR journal (ARCHITECTURE.md §11, "Journal"; the file format is
 * xfr/xfr_journal.h): which zones keep one (`journal:` resolved in the config, and only zones
 * with `transfer:`), where (<server.journal_directory>/<origin>.jnl), reading it back when a
 * zone is loaded with no version served before it, and keeping the file equal to the
 * history after every publish (appending the new difference, compacting what trimming left
 * behind, deleting it when the history is dropped). Main thread only: the loader and the
 * publisher; nothing here runs on the query path. */
#ifndef MERIDIAN_SERVER_JOURNAL_H
#define MERIDIAN_SERVER_JOURNAL_H

#include <stddef.h>

#include "server/snapshot.h"

/* While snap is built, for config zone i whose view xz has no predecessor to follow (the
 * start, or a zone new to the config or newly transferred out): if the zone keeps a journal
 * and the journal ends at this version (same origin, same serial, same fingerprint: the
 * same data), the history is read from it; otherwise it is left empty, logged (a journal
 * that does not parse: a warning naming the file), and the file is replaced or deleted at
 * the next publish. */
void journal_load(const struct snapshot *snap, size_t i, struct xfr_zone *xz);

/* After snap is published (start and every reload): every zone with a journal gets its file
 * brought to its history. Failures are logged and leave no journal that would be read
 * wrong. */
void journal_published(const struct snapshot *snap);

/* At exit: what the module remembers of the files. */
void journal_free(void);

#endif
