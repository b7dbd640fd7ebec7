// SPDX-License-Identifier: MIT
/* Rollovers on disk (see dnssec_roll.h): the state file K<zone>.state beside the zone's key
 * files, replaced atomically; starting a rollover (a new key, saved after the state that
 * keeps it from signing); the operator's `ds-seen`; the old key's files moved to retired/
 * at the end. Main thread. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "dnssec/dnssec_internal.h"
#include "dnssec/dnssec_roll.h"

#define RETIRED_DIR "retired"

/* <dir>/K<zone>.state */
static int
state_path(const char *dir, const uint8_t *origin, char out[PATH_MAX], char err[DNSSEC_ERR_MAX])
{
    char base[DNSSEC_KEY_NAME_MAX];
    dnssec_zone_file_base(origin, base);
    if (snprintf(out, PATH_MAX, "%s/%sstate", dir, base) >= PATH_MAX) {
        dnssec_errorf(err, "%s/%sstate: path too long", dir, base);
        return -1;
    }
    return 0;
}

int
dnssec_roll_load(const char *dir, const uint8_t *origin, struct dnssec_roll *out,
                 char err[DNSSEC_ERR_MAX])
{
    char path[PATH_MAX];
    struct stat st;
    memset(out, 0, sizeof(*out));
    if (state_path(dir, origin, path, err) < 0)
        return -1;
    if (stat(path, &st) != 0 && errno == ENOENT)
        return 0; /* no rollover ever */
    char *text = dnssec_file_read(path, err);
    if (!text)
        return -1;
    int rc = dnssec_roll_parse(text, path, out, err);
    free(text);
    return rc;
}

int
dnssec_roll_save(const char *dir, const uint8_t *origin, const struct dnssec_roll *r,
                 char err[DNSSEC_ERR_MAX])
{
    char path[PATH_MAX], text[DNSSEC_ROLL_TEXT_MAX];
    if (state_path(dir, origin, path, err) < 0)
        return -1;
    dnssec_roll_format(r, origin, text);
    if (dnssec_file_write(path, text, 0644, true, err) < 0 || dnssec_dir_sync(dir, err) < 0)
        return -1;
    return 0;
}

/* The one key of `kind` that signs now: 0 with its tag, or -1 naming how many there are. */
static int
current_key(const struct dnssec_keyset *set, uint8_t algorithm, enum dnssec_roll_kind kind,
            uint16_t *tag, char err[DNSSEC_ERR_MAX])
{
    unsigned n = 0;
    for (size_t i = 0; i < set->count; i++) {
        const struct dnssec_key *k = set->keys[i];
        if (k->algorithm == algorithm && dnssec_key_is_sep(k) == (kind != DNSSEC_ROLL_ZSK)) {
            *tag = k->tag;
            n++;
        }
    }
    if (n != 1) {
        dnssec_errorf(err,
                      "the zone has %u %s keys of algorithm %u; a rollover replaces exactly "
                      "one",
                      n, kind == DNSSEC_ROLL_ZSK ? "zone-signing" : "SEP (KSK or CSK)", algorithm);
        return -1;
    }
    return 0;
}

int
dnssec_roll_start(const char *dir, const uint8_t *origin, uint8_t algorithm, bool split,
                  enum dnssec_roll_kind kind, time_t now, struct dnssec_roll *out,
                  char err[DNSSEC_ERR_MAX])
{
    struct dnssec_roll cur;
    struct dnssec_keyset set = {0};
    struct dnssec_key *key = NULL;
    uint16_t old_tag = 0;
    int ret = -1;
    if ((kind == DNSSEC_ROLL_CSK) == split) {
        dnssec_errorf(err, "the zone's keys are %s: roll %s",
                      split ? "a KSK and a ZSK (keys: ksk-zsk)" : "one CSK (keys: csk)",
                      split ? "ksk or zsk" : "csk");
        return -1;
    }
    if (dnssec_roll_load(dir, origin, &cur, err) < 0 ||
        dnssec_keystore_load(dir, origin, algorithm, split, &set, err) < 0)
        return -1;
    /* A state naming a key the directory lacks (a crash between saving the state and the
     * key) is void: the signer ignores it, and a new rollover may replace it. */
    if (cur.phase != DNSSEC_ROLL_NONE && dnssec_roll_keys_present(&cur, &set)) {
        dnssec_errorf(err, "a %s rollover is under way (phase %s, old key %u, new key %u)",
                      dnssec_roll_kind_name(cur.kind), dnssec_roll_phase_name(cur.phase),
                      cur.old_tag, cur.new_tag);
        goto out;
    }
    if (current_key(&set, algorithm, kind, &old_tag, err) < 0)
        goto out;
    uint16_t flags = kind == DNSSEC_ROLL_ZSK ? DNSSEC_FLAGS_ZSK : DNSSEC_FLAGS_KSK;
    if (dnssec_keystore_new_key(&set, origin, algorithm, flags, &key, err) < 0)
        goto out;
    *out = (struct dnssec_roll){.phase = DNSSEC_ROLL_PUBLISH,
                                .kind = kind,
                                .algorithm = algorithm,
                                .old_tag = old_tag,
                                .new_tag = key->tag,
                                .started = now,
                                .finished = cur.finished};
    /* The state first: a key file found without it would be a key that signs at once. */
    if (dnssec_roll_save(dir, origin, out, err) < 0)
        goto out;
    if (dnssec_key_save(key, dir, err) < 0) {
        char undo[DNSSEC_ERR_MAX];
        if (dnssec_roll_save(dir, origin, &cur, undo) < 0)
            log_error("%s", undo); /* the state names a missing key: void, see above */
        goto out;
    }
    log_info("%s: %s rollover started: new key %u published beside key %u", key->path,
             dnssec_roll_kind_name(kind), key->tag, old_tag);
    ret = 0;
out:
    dnssec_key_free(key);
    dnssec_keyset_fini(&set);
    return ret;
}

int
dnssec_roll_ds_seen(const char *dir, const uint8_t *origin, time_t now, struct dnssec_roll *out,
                    char err[DNSSEC_ERR_MAX])
{
    if (dnssec_roll_load(dir, origin, out, err) < 0)
        return -1;
    if (out->phase == DNSSEC_ROLL_NONE || out->kind == DNSSEC_ROLL_ZSK) {
        dnssec_errorf(err, "no KSK or CSK rollover is under way");
        return -1;
    }
    /* Before ACTIVE the CDS still names the old key, and a DS for the new one would break
     * the chain for resolvers while the new key does not yet sign the DNSKEY RRset. */
    if (out->phase != DNSSEC_ROLL_ACTIVE) {
        dnssec_errorf(err,
                      "the %s rollover is in phase %s: the parent's DS may change only in "
                      "phase active, once CDS names the new key %u",
                      dnssec_roll_kind_name(out->kind), dnssec_roll_phase_name(out->phase),
                      out->new_tag);
        return -1;
    }
    if (out->ds_seen == 0)
        out->ds_seen = now;
    return dnssec_roll_save(dir, origin, out, err);
}

int
dnssec_roll_retire(const char *dir, const uint8_t *origin, const struct dnssec_roll *r,
                   char err[DNSSEC_ERR_MAX])
{
    static const char *const suffixes[] = {".key", ".private"};
    char base[DNSSEC_KEY_NAME_MAX], retired[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
    size_t n = dnssec_zone_file_base(origin, base);
    snprintf(base + n, sizeof(base) - n, "+%03u+%05u", r->algorithm, r->old_tag);
    if (snprintf(retired, sizeof(retired), "%s/" RETIRED_DIR, dir) >= (int)sizeof(retired)) {
        dnssec_errorf(err, "%s/" RETIRED_DIR ": path too long", dir);
        return -1;
    }
    if (mkdir(retired, 0700) != 0 && errno != EEXIST) {
        dnssec_errorf(err, "%s: cannot create: %s", retired, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        if (snprintf(from, sizeof(from), "%s/%s%s", dir, base, suffixes[i]) >= (int)sizeof(from) ||
            snprintf(to, sizeof(to), "%s/%s%s", retired, base, suffixes[i]) >= (int)sizeof(to)) {
            dnssec_errorf(err, "%s/%s: path too long", dir, base);
            return -1;
        }
        if (rename(from, to) != 0 && errno != ENOENT) {
            dnssec_errorf(err, "%s: cannot move to %s: %s", from, retired, strerror(errno));
            return -1;
        }
    }
    return dnssec_dir_sync(retired, err) < 0 || dnssec_dir_sync(dir, err) < 0 ? -1 : 0;
}
