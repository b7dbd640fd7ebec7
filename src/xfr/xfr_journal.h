/* SPDX-License-Identifier: MIT */
/* The IXFR history on disk (ARCHITECTURE.md §11, "Journal"): a zone's differences written to
 * one file so that a restart can serve IXFR (RFC 1995) from the versions before it. This
 * module is the file format and its checks, and the fingerprint that says whether a loaded
 * version is the one a journal ends at; which zones have a journal, where it lives and when
 * it is written is server/journal.c's.
 *
 * The file: a header (magic, format version, the zone origin, a checksum), then one record
 * per difference, oldest first, each framed by its length and closed by a checksum
 * (BLAKE2b-128 over length and payload), so a record cut short by a crash or a flipped byte
 * makes the file unreadable rather than read wrong. A reader refuses the whole file on any
 * fault: a journal is served entirely or not at all.
 *
 * Loader thread (main), never the query path. Functions that fail return -1 with err. */
#ifndef MERIDIAN_XFR_XFR_JOURNAL_H
#define MERIDIAN_XFR_XFR_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "xfr/xfr.h"

#define XFR_JOURNAL_ERR_MAX 512
#define XFR_FINGERPRINT_LEN 16

/* A digest of every record a full transfer of xz carries (the SOA, every RRset and its
 * signatures, steered RRsets, the NSEC3 chain), independent of their order: equal
 * fingerprints mean the same data, so a history that ends at one version may be served from
 * another only when their fingerprints agree. Costs one BLAKE2b per record. */
void xfr_zone_fingerprint(const struct xfr_zone *xz, uint8_t out[XFR_FINGERPRINT_LEN]);

/* The same in steps, so that a reload need not read the whole zone: the running sums of a
 * version (one digest per record), moved by a difference from that version to the next (its
 * SOAs and removed records taken away, the added ones added: the sums of the next version
 * when the difference is exact), and the fingerprint they give. */
struct xfr_fingerprint {
    uint64_t lane[2];
    uint64_t count;
};
void xfr_zone_fingerprint_sum(const struct xfr_zone *xz, struct xfr_fingerprint *out);
void xfr_fingerprint_apply(struct xfr_fingerprint *fp, const uint8_t *origin,
                           const struct xfr_diff *d);
void xfr_fingerprint_final(const struct xfr_fingerprint *fp, uint8_t out[XFR_FINGERPRINT_LEN]);

/* A journal as read: every difference of the file, oldest first (each holds one reference,
 * dropped by xfr_journal_fini), chained (diffs[i]->to_serial == diffs[i + 1]->from_serial),
 * the fingerprint stored with the last (all zero when the writer did not know it), and each
 * record's size on disk. */
struct xfr_journal {
    struct xfr_diff **diffs;
    uint32_t count;
    size_t *record_bytes;
    size_t header_bytes;
    size_t file_bytes;
    uint8_t fingerprint[XFR_FINGERPRINT_LEN];
};

/* Reads the journal at `path`, written for `origin` (lowercased wire). 0, 1 when there is no
 * file, or -1 with err saying what is wrong and where (the file is then to be ignored). */
int xfr_journal_read(const char *path, const uint8_t *origin, struct xfr_journal *out,
                     char err[XFR_JOURNAL_ERR_MAX]) __attribute__((warn_unused_result));
void xfr_journal_fini(struct xfr_journal *j);

/* Replaces `path` atomically (PATH.tmp, written, synced, renamed, directory synced; mode
 * 0640; the directory made 0750 if missing) with a journal of `origin` holding diffs[0..count)
 * (count >= 1), the last one stored with fingerprint `fp` (the others with none). *bytes gets
 * each record's size (count entries) and *file_bytes the file's. 0 or -1. */
int xfr_journal_write(const char *path, const uint8_t *origin, struct xfr_diff *const *diffs,
                      uint32_t count, const uint8_t fp[XFR_FINGERPRINT_LEN], size_t *bytes,
                      size_t *file_bytes, char err[XFR_JOURNAL_ERR_MAX])
    __attribute__((warn_unused_result));

/* Appends diffs[0..count) to the journal at `path`, which must be `file_bytes` long (else it
 * changed behind our back: -1), the last with fingerprint `fp`; synced. A failed write is cut
 * off again (ftruncate), so the file holds its old records or the new ones. *bytes and
 * *file_bytes as for xfr_journal_write. 0 or -1. */
int xfr_journal_append(const char *path, size_t file_bytes, struct xfr_diff *const *diffs,
                       uint32_t count, const uint8_t fp[XFR_FINGERPRINT_LEN], size_t *bytes,
                       size_t *new_file_bytes, char err[XFR_JOURNAL_ERR_MAX])
    __attribute__((warn_unused_result));

#endif
