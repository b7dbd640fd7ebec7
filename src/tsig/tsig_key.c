// SPDX-License-Identifier: MIT
/* TSIG algorithms and the key ring (tsig.h): keys by name with their HMAC states computed at
 * load. Built on the main or loader thread; lookups run on the answer path (a scan of a
 * short list: no allocation, no locks). */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "tsig/tsig_internal.h"

struct tsig_keyring {
    struct tsig_key **keys; /* one allocation each: a key's address is stable */
    size_t count;
};

/* RFC 8945 §6 names (IANA "TSIG Algorithm Names"), in wire form. */
static const struct {
    const char *text;
    const uint8_t *wire;
    size_t wire_len;
    size_t mac_len;
} algorithms[] = {
    [TSIG_HMAC_SHA256] = {"hmac-sha256", (const uint8_t *)"\x0bhmac-sha256", 13, 32},
    [TSIG_HMAC_SHA384] = {"hmac-sha384", (const uint8_t *)"\x0bhmac-sha384", 13, 48},
    [TSIG_HMAC_SHA512] = {"hmac-sha512", (const uint8_t *)"\x0bhmac-sha512", 13, 64},
};

const char *
tsig_algorithm_name(enum tsig_algorithm algorithm)
{
    return algorithms[algorithm].text;
}

size_t
tsig_algorithm_mac_len(enum tsig_algorithm algorithm)
{
    return algorithms[algorithm].mac_len;
}

const uint8_t *
tsig_algorithm_wire(enum tsig_algorithm algorithm, size_t *len)
{
    *len = algorithms[algorithm].wire_len;
    return algorithms[algorithm].wire;
}

struct tsig_keyring *
tsig_keyring_new(void)
{
    return xcalloc(1, sizeof(struct tsig_keyring));
}

void
tsig_keyring_free(struct tsig_keyring *ring)
{
    if (!ring)
        return;
    for (size_t i = 0; i < ring->count; i++) {
        OPENSSL_cleanse(ring->keys[i], sizeof(*ring->keys[i]));
        free(ring->keys[i]);
    }
    free(ring->keys);
    free(ring);
}

int
tsig_keyring_add(struct tsig_keyring *ring, const uint8_t *name, enum tsig_algorithm algorithm,
                 const uint8_t *secret, size_t secret_len)
{
    if (tsig_keyring_find(ring, name))
        return -1;
    struct tsig_key *key = xcalloc(1, sizeof(*key));
    key->name_len = (uint16_t)dname_lower_copy(key->name, name);
    key->algorithm = algorithm;
    tsig_hmac_key_init(key, secret, secret_len);
    ring->keys = xrealloc(ring->keys, (ring->count + 1) * sizeof(*ring->keys));
    ring->keys[ring->count++] = key;
    return 0;
}

const struct tsig_key *
tsig_keyring_find(const struct tsig_keyring *ring, const uint8_t *name)
{
    if (!ring)
        return NULL;
    for (size_t i = 0; i < ring->count; i++)
        if (dname_equal(ring->keys[i]->name, name))
            return ring->keys[i];
    return NULL;
}

size_t
tsig_keyring_count(const struct tsig_keyring *ring)
{
    return ring ? ring->count : 0;
}

struct tsig_key *
tsig_key_dup(const struct tsig_key *key)
{
    /* A key is plain data: its name and two hash states (no pointers inside). */
    struct tsig_key *copy = xmalloc(sizeof(*copy));
    memcpy(copy, key, sizeof(*copy));
    return copy;
}

void
tsig_key_free(struct tsig_key *key)
{
    if (!key)
        return;
    OPENSSL_cleanse(key, sizeof(*key));
    free(key);
}

const uint8_t *
tsig_key_name(const struct tsig_key *key)
{
    return key->name;
}

enum tsig_algorithm
tsig_key_algorithm(const struct tsig_key *key)
{
    return key->algorithm;
}

size_t
tsig_key_rr_size(const struct tsig_key *key)
{
    /* Owner, TYPE CLASS TTL RDLENGTH, algorithm name, Time Signed (6) Fudge (2) MAC Size (2)
     * MAC, Original ID (2) Error (2) Other Len (2). */
    return key->name_len + 10u + algorithms[key->algorithm].wire_len + 16u +
           algorithms[key->algorithm].mac_len;
}
