// SPDX-License-Identifier: MIT
/* A zone's keys in a key directory (dnssec_key.h, dnssec_keystore_load): every key file of
 * the zone is loaded, and the keys the zone's policy (CSK, or KSK and ZSK) lacks are
 * generated and saved beside them. Several zones may share one directory; their files are
 * told apart by the zone in the name. Runs on the loader thread. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/alloc.h"
#include "common/log.h"
#include "dnssec/dnssec_internal.h"

/* A generated key whose tag some loaded key has is thrown away: validators pick keys by tag
 * (RFC 4035 §5.3.1), and the files are named by it. */
#define GENERATE_TRIES 16

void
dnssec_keyset_fini(struct dnssec_keyset *set)
{
    for (size_t i = 0; i < set->count; i++)
        dnssec_key_free(set->keys[i]);
    free(set->keys);
    set->keys = NULL;
    set->count = 0;
}

static void
keyset_add(struct dnssec_keyset *set, struct dnssec_key *key)
{
    set->keys = xrealloc(set->keys, (set->count + 1) * sizeof(*set->keys));
    set->keys[set->count++] = key;
}

static int
key_order(const void *a, const void *b)
{
    const struct dnssec_key *x = *(const struct dnssec_key *const *)a;
    const struct dnssec_key *y = *(const struct dnssec_key *const *)b;
    if (x->algorithm != y->algorithm)
        return x->algorithm - y->algorithm;
    if (x->tag != y->tag)
        return x->tag - y->tag;
    return x->flags - y->flags;
}

/* The directory, created 0700 (it holds private keys) if it does not exist. */
static int
ensure_dir(const char *dir, char err[DNSSEC_ERR_MAX])
{
    struct stat st;
    if (mkdir(dir, 0700) == 0) {
        log_info("%s: key directory created", dir);
        return 0;
    }
    if (errno != EEXIST) {
        dnssec_errorf(err, "%s: cannot create the key directory: %s", dir, strerror(errno));
        return -1;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        dnssec_errorf(err, "%s: not a directory", dir);
        return -1;
    }
    return 0;
}

/* Loads the keys of `origin` among dir's *.key files. */
static int
load_dir(const char *dir, const uint8_t *origin, struct dnssec_keyset *set,
         char err[DNSSEC_ERR_MAX])
{
    char path[PATH_MAX], base[DNSSEC_KEY_NAME_MAX];
    uint8_t owner[DNAME_MAX_LEN];
    unsigned algorithm, tag;
    struct dirent *de;
    int ret = -1;
    DIR *d = opendir(dir);
    if (!d) {
        dnssec_errorf(err, "%s: cannot open: %s", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len <= 4 || len - 4 >= sizeof(base) || strcmp(de->d_name + len - 4, ".key") != 0)
            continue;
        memcpy(base, de->d_name, len - 4);
        base[len - 4] = '\0';
        /* Not a key file name, or another zone's key: not ours to read. */
        if (dnssec_key_name_parse(base, owner, &algorithm, &tag) < 0 || !dname_equal(owner, origin))
            continue;
        struct dnssec_key *key;
        if (snprintf(path, sizeof(path), "%s/%s", dir, base) >= (int)sizeof(path) - 8) {
            dnssec_errorf(err, "%s/%s: path too long", dir, base);
            goto out;
        }
        if (dnssec_key_load(path, &key, err) < 0)
            goto out;
        keyset_add(set, key);
    }
    ret = 0;
out:
    closedir(d);
    return ret;
}

static bool
tag_taken(const struct dnssec_keyset *set, uint16_t tag)
{
    for (size_t i = 0; i < set->count; i++)
        if (set->keys[i]->tag == tag)
            return true;
    return false;
}

int
dnssec_keystore_new_key(const struct dnssec_keyset *set, const uint8_t *origin, uint8_t algorithm,
                        uint16_t flags, struct dnssec_key **out, char err[DNSSEC_ERR_MAX])
{
    struct dnssec_key *key = NULL;
    *out = NULL;
    for (int i = 0; i < GENERATE_TRIES; i++) {
        if (dnssec_key_generate(origin, algorithm, flags, &key, err) < 0)
            return -1;
        if (!tag_taken(set, key->tag))
            break;
        dnssec_key_free(key);
        key = NULL;
    }
    if (!key) {
        dnssec_errorf(err, "no free key tag after %d keys", GENERATE_TRIES);
        return -1;
    }
    *out = key;
    return 0;
}

/* Generates a key with `flags`, saves it in dir and adds it to set. */
static int
generate(const char *dir, const uint8_t *origin, uint8_t algorithm, uint16_t flags,
         const char *role, struct dnssec_keyset *set, char err[DNSSEC_ERR_MAX])
{
    struct dnssec_key *key;
    if (dnssec_keystore_new_key(set, origin, algorithm, flags, &key, err) < 0)
        return -1;
    if (dnssec_key_save(key, dir, err) < 0) {
        dnssec_key_free(key);
        return -1;
    }
    log_info("%s: generated the %s %s, key tag %u", key->path, dnssec_algorithm_name(algorithm),
             role, key->tag);
    keyset_add(set, key);
    return 0;
}

int
dnssec_keystore_load(const char *dir, const uint8_t *origin, uint8_t algorithm, bool split,
                     struct dnssec_keyset *out, char err[DNSSEC_ERR_MAX])
{
    bool sep = false, zsk = false;
    int ret = -1;
    out->keys = NULL;
    out->count = 0;
    if (!dnssec_algorithm_name(algorithm)) {
        dnssec_errorf(err, "algorithm %u is not supported (13 ECDSAP256SHA256 or 15 ED25519)",
                      algorithm);
        return -1;
    }
    if (dname_wire_length(origin, DNAME_MAX_LEN) < 0) {
        dnssec_errorf(err, "%s: malformed zone name", dir);
        return -1;
    }
    if (ensure_dir(dir, err) < 0 || load_dir(dir, origin, out, err) < 0)
        goto out;
    for (size_t i = 0; i < out->count; i++) {
        if (out->keys[i]->algorithm != algorithm)
            continue;
        sep = sep || dnssec_key_is_sep(out->keys[i]);
        zsk = zsk || !dnssec_key_is_sep(out->keys[i]);
    }
    /* A SEP key (KSK or CSK) always; a ZSK with split keys (RFC 6781 §3.1). */
    if (!sep &&
        generate(dir, origin, algorithm, DNSSEC_FLAGS_KSK, split ? "KSK" : "CSK", out, err) < 0)
        goto out;
    if (split && !zsk && generate(dir, origin, algorithm, DNSSEC_FLAGS_ZSK, "ZSK", out, err) < 0)
        goto out;
    qsort(out->keys, out->count, sizeof(*out->keys), key_order);
    ret = 0;
out:
    if (ret < 0)
        dnssec_keyset_fini(out);
    return ret;
}
