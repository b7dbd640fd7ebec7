// SPDX-License-Identifier: MIT
/* The IXFR journal in meridiand (see journal.h). Per zone origin it remembers what its file
 * holds (the serials of each record and their sizes on disk), across reloads, so that a new
 * version costs one appended record: the history of a published snapshot is always the
 * file's records minus a trimmed prefix, plus what is new. Anything else (the first publish
 * after the journal was turned on, a failed write) rewrites the whole file atomically. Main
 * thread. */
#include "server/journal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "xfr/xfr_journal.h"

/* What one record on disk is. */
struct jrec {
    uint32_t from, to;
    size_t bytes;
};

/* What the journal file of one origin holds, as far as we know. */
struct jstate {
    struct jstate *next;
    uint8_t origin[DNAME_MAX_LEN];
    bool known;   /* false: unknown (rewrite or delete at the next publish) */
    bool present; /* a file exists (when known) */
    struct jrec *recs;
    uint32_t count;
    size_t file_bytes;
    /* The fingerprint sums of the version served last (have_sums), so that a new one's
     * follow from its difference instead of a pass over the whole zone. */
    bool have_sums;
    uint32_t sums_serial;
    struct xfr_fingerprint sums;
};

static struct jstate *states; /* main thread only */

static struct jstate *
state_of(const uint8_t *origin)
{
    struct jstate *s = states;
    while (s && !dname_equal(s->origin, origin))
        s = s->next;
    if (!s) {
        s = xcalloc(1, sizeof(*s));
        dname_lower_copy(s->origin, origin);
        s->next = states;
        states = s;
    }
    return s;
}

static void
state_set(struct jstate *s, bool known, bool present)
{
    s->known = known;
    s->present = present;
    s->count = 0;
    s->file_bytes = 0;
    s->have_sums = false;
}

static void
sums_set(struct jstate *s, const struct xfr_fingerprint *sums, uint32_t serial)
{
    s->sums = *sums;
    s->sums_serial = serial;
    s->have_sums = true;
}

static void
state_add(struct jstate *s, const struct xfr_diff *d, size_t bytes)
{
    s->recs = xrealloc(s->recs, (s->count + 1) * sizeof(*s->recs));
    s->recs[s->count++] = (struct jrec){.from = d->from_serial, .to = d->to_serial, .bytes = bytes};
}

void
journal_free(void)
{
    while (states) {
        struct jstate *next = states->next;
        free(states->recs);
        free(states);
        states = next;
    }
}

/* <journal_directory>/<origin>.jnl, the origin as written, lowercased (one file whatever the
 * spelling, RFC 4343), without its final dot ('/' in a label becomes '_', the root "root"). */
static char *
journal_path(const struct config *cfg, const struct config_zone *cz)
{
    char name[DNAME_TEXT_MAX + 8];
    size_t len = strlen(cz->origin);
    if (len > 1 && cz->origin[len - 1] == '.')
        len--;
    snprintf(name, sizeof(name), "%.*s", (int)len, strcmp(cz->origin, ".") ? cz->origin : "root");
    for (char *c = name; *c; c++)
        *c = *c == '/' ? '_' : (char)tolower((unsigned char)*c);
    size_t n = strlen(cfg->journal_directory) + strlen(name) + sizeof("/.jnl");
    char *path = xmalloc(n);
    snprintf(path, n, "%s/%s.jnl", cfg->journal_directory, name);
    return path;
}

static bool
keeps_journal(const struct config_zone *cz, const struct xfr_zone *xz)
{
    return cz->journal && xz && xz->transfer && xz->transfer->enabled;
}

/* Whether the journal j ends where xz is (sums: xz's fingerprint sums); if not, says why in
 * the log. */
static bool
journal_fits(const struct xfr_zone *xz, const struct xfr_journal *j,
             const struct xfr_fingerprint *sums, const char *path, const char *name)
{
    uint32_t last = j->diffs[j->count - 1]->to_serial, serial = xz->zone->serial;
    if (last != serial) {
        /* The zone file changed while we were down: the difference from the journal's last
         * version to it is unknown (that version's data is not kept), so none is served. */
        log_info("zone %s: journal %s ends at serial %u but the zone has serial %u: discarded "
                 "(IXFR from an older serial gets the whole zone)",
                 name, path, last, serial);
        return false;
    }
    uint8_t fp[XFR_FINGERPRINT_LEN];
    xfr_fingerprint_final(sums, fp);
    if (memcmp(fp, j->fingerprint, sizeof(fp)) != 0) {
        /* The data changed under the same serial (an edit without a serial increase, or a
         * signed zone re-signed at start): the history does not lead to what is served. */
        if (xz->zone->dnssec)
            log_info("zone %s: journal %s ends at serial %u, but the zone as signed now differs "
                     "from its end (new signatures): discarded",
                     name, path, serial);
        else
            log_warning("zone %s: journal %s ends at serial %u, but the zone's data under that "
                        "serial differs from it: discarded (secondaries keep the old data until "
                        "the serial increases)",
                        name, path, serial);
        return false;
    }
    return true;
}

/* The journal j becomes xz's history, and s what the file holds. */
static void
adopt(struct jstate *s, struct xfr_zone *xz, const struct xfr_journal *j,
      const struct xfr_fingerprint *sums, const char *path, const char *name)
{
    uint32_t n = xfr_zone_adopt(xz, j->diffs, j->count, XFR_HISTORY_VERSIONS, XFR_HISTORY_BYTES);
    log_info("zone %s: IXFR history read from %s: %u versions (serials %u..%u), %zu bytes", name,
             path, n, n ? xz->history.diffs[0]->from_serial : 0, xz->zone->serial,
             xz->history.bytes);
    for (uint32_t k = 0; k < j->count; k++)
        state_add(s, j->diffs[k], j->record_bytes[k]);
    s->file_bytes = j->file_bytes;
    sums_set(s, sums, xz->zone->serial);
}

void
journal_load(const struct snapshot *snap, size_t i, struct xfr_zone *xz)
{
    const struct config_zone *cz = &snap->cfg->zones[i];
    if (!keeps_journal(cz, xz))
        return;
    char *path = journal_path(snap->cfg, cz), err[XFR_JOURNAL_ERR_MAX], name[DNAME_TEXT_MAX];
    struct jstate *s = state_of(xz->zone->origin);
    struct xfr_journal j;
    dname_to_text(xz->zone->origin, name, sizeof(name));
    int rc = xfr_journal_read(path, s->origin, &j, err);
    if (rc == 1) {
        state_set(s, true, false);
    } else if (rc < 0) {
        log_warning("zone %s: journal ignored: %s (IXFR from an older serial gets the whole "
                    "zone; the file is replaced at the next change)",
                    name, err);
        state_set(s, true, true);
    } else {
        struct xfr_fingerprint sums;
        xfr_zone_fingerprint_sum(xz, &sums);
        bool fits = journal_fits(xz, &j, &sums, path, name);
        state_set(s, true, true);
        if (fits)
            adopt(s, xz, &j, &sums, path, name);
    }
    if (rc == 0)
        xfr_journal_fini(&j);
    free(path);
}

/* The first record of s that is h's first difference, with every later one h's next: the
 * records before it are what trimming dropped. s->count when none (or no records). */
static uint32_t
aligned_at(const struct jstate *s, const struct xfr_history *h)
{
    for (uint32_t k = 0; k < s->count; k++) {
        uint32_t m = s->count - k;
        if (m > h->count)
            continue;
        bool same = true;
        for (uint32_t r = 0; r < m && same; r++)
            same = s->recs[k + r].from == h->diffs[r]->from_serial &&
                   s->recs[k + r].to == h->diffs[r]->to_serial;
        if (same)
            return k;
    }
    return s->count;
}

static void
remove_file(struct jstate *s, const char *path)
{
    if (unlink(path) < 0 && errno != ENOENT) {
        log_warning("journal %s: cannot delete it: %s", path, strerror(errno));
        state_set(s, false, true);
        return;
    }
    state_set(s, true, false);
}

/* The whole history into a new file. */
static void
rewrite(struct jstate *s, const struct xfr_zone *xz, const char *path)
{
    const struct xfr_history *h = &xz->history;
    uint8_t fp[XFR_FINGERPRINT_LEN];
    char err[XFR_JOURNAL_ERR_MAX];
    size_t *bytes = xcalloc(h->count, sizeof(*bytes)), file_bytes = 0;
    struct xfr_fingerprint sums;
    xfr_zone_fingerprint_sum(xz, &sums);
    xfr_fingerprint_final(&sums, fp);
    if (xfr_journal_write(path, s->origin, h->diffs, h->count, fp, bytes, &file_bytes, err) < 0) {
        log_warning("journal not written (a restart will answer IXFR with the whole zone): %s",
                    err);
        remove_file(s, path);
    } else {
        state_set(s, true, true);
        for (uint32_t i = 0; i < h->count; i++)
            state_add(s, h->diffs[i], bytes[i]);
        s->file_bytes = file_bytes;
        sums_set(s, &sums, xz->zone->serial);
    }
    free(bytes);
}

/* The fingerprint sums of xz, whose history's differences from `from` on are new: from the
 * last version's sums moved by them (O(difference)), else a pass over the whole zone. */
static void
next_sums(const struct jstate *s, const struct xfr_zone *xz, uint32_t from,
          struct xfr_fingerprint *out)
{
    const struct xfr_history *h = &xz->history;
    if (!s->have_sums || s->sums_serial != h->diffs[from]->from_serial) {
        xfr_zone_fingerprint_sum(xz, out);
        return;
    }
    *out = s->sums;
    for (uint32_t i = from; i < h->count; i++)
        xfr_fingerprint_apply(out, xz->zone->origin, h->diffs[i]);
}

/* The new differences h->diffs[from..) at the end of the file. */
static void
append(struct jstate *s, const struct xfr_zone *xz, const char *path, uint32_t from)
{
    const struct xfr_history *h = &xz->history;
    uint32_t n = h->count - from;
    uint8_t fp[XFR_FINGERPRINT_LEN];
    char err[XFR_JOURNAL_ERR_MAX];
    size_t *bytes = xcalloc(n, sizeof(*bytes)), file_bytes = 0;
    struct xfr_fingerprint sums;
    next_sums(s, xz, from, &sums);
    xfr_fingerprint_final(&sums, fp);
    if (xfr_journal_append(path, s->file_bytes, h->diffs + from, n, fp, bytes, &file_bytes, err) <
        0) {
        log_warning("journal append failed, rewriting it: %s", err);
        free(bytes);
        rewrite(s, xz, path);
        return;
    }
    for (uint32_t i = 0; i < n; i++)
        state_add(s, h->diffs[from + i], bytes[i]);
    s->file_bytes = file_bytes;
    sums_set(s, &sums, xz->zone->serial);
    free(bytes);
}

/* Brings one zone's file to its history. */
static void
sync_zone(const struct config *cfg, const struct config_zone *cz, const struct xfr_zone *xz)
{
    struct jstate *s = state_of(xz->zone->origin);
    const struct xfr_history *h = &xz->history;
    char *path = journal_path(cfg, cz);
    if (h->count == 0) {
        /* No history (dropped, or none yet): no file, so none is read at the next start. */
        if (!s->known || s->present)
            remove_file(s, path);
        free(path);
        return;
    }
    uint32_t k = s->known && s->present ? aligned_at(s, h) : s->count;
    bool aligned = k < s->count;
    size_t dead = 0, live = 0;
    for (uint32_t r = 0; aligned && r < s->count; r++)
        *(r < k ? &dead : &live) += s->recs[r].bytes;
    if (!aligned || k >= XFR_HISTORY_VERSIONS || dead > live) {
        /* Unknown or unrelated content, or trimming left more behind than it kept: the
         * whole history into a new file. */
        rewrite(s, xz, path);
    } else if (s->count - k < h->count) {
        /* The records trimmed off the front stay in the file until it is compacted (a
         * reader trims them again). */
        append(s, xz, path, s->count - k);
    }
    free(path);
}

void
journal_published(const struct snapshot *snap)
{
    for (size_t i = 0; i < snap->zones->count; i++) {
        const struct config_zone *cz = &snap->cfg->zones[i];
        const struct xfr_zone *xz = snap->xfr_zones[i];
        if (keeps_journal(cz, xz))
            sync_zone(snap->cfg, cz, xz);
        else if (xz)
            /* Not kept now: forget what we knew, so turning it on again rewrites the file. */
            state_set(state_of(xz->zone->origin), false, true);
    }
}
