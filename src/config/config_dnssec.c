// SPDX-License-Identifier: MIT
/* DNSSEC settings (see config_dnssec.h). `dnssec: true` signs a zone with the defaults: one
 * ECDSAP256SHA256 combined signing key, signatures valid 14 days and refreshed when 5 are
 * left, NSEC3 with no salt and no extra iterations (RFC 9276 §3.1), key rollovers timed for a
 * propagation delay of an hour here and at the parent and a parent DS TTL of a day (RFC 7583
 * §2). A mapping sets any of them. Runs on whichever thread calls config_load(). */
#include "config/config_dnssec.h"

#include <libgen.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

static int
parse_algorithm(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    static const char *const names[] = {"ecdsap256sha256", "ed25519"};
    static const uint8_t numbers[] = {13, 15}; /* RFC 8624 §3.1: both MUST/RECOMMENDED to sign */
    struct config_dnssec *d = target;
    int which;
    (void)key;
    if (cfg_parse_word(ctx, "algorithm", value, names, 2, &which) < 0)
        return -1;
    d->algorithm = numbers[which];
    return 0;
}

static int
parse_keys(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    static const char *const names[] = {"csk", "ksk-zsk"};
    struct config_dnssec *d = target;
    int which;
    (void)key;
    if (cfg_parse_word(ctx, "keys", value, names, 2, &which) < 0)
        return -1;
    d->keys = (enum config_dnssec_keys)which;
    return 0;
}

/* RFC 9276 §3.1 asks for no salt; a salt is still accepted for zones moved from elsewhere:
 * hexadecimal, or "-" for none (RFC 5155 §3.3 presentation). */
static int
parse_salt(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config_dnssec *d = target;
    const char *s = cfg_scalar(value);
    (void)key;
    if (s && strcmp(s, "-") == 0) {
        d->nsec3_salt_len = 0;
        return 0;
    }
    size_t n = s ? strlen(s) : 1;
    if (!s || n % 2 || n / 2 > sizeof(d->nsec3_salt) || strspn(s, "0123456789abcdefABCDEF") != n)
        return cfg_error(ctx, value, "nsec3_salt: expected hexadecimal digits (at most 255 "
                                     "bytes) or \"-\" for none");
    for (size_t i = 0; i < n / 2; i++) {
        char byte[3] = {s[2 * i], s[2 * i + 1], '\0'};
        d->nsec3_salt[i] = (uint8_t)strtoul(byte, NULL, 16);
    }
    d->nsec3_salt_len = (uint8_t)(n / 2);
    return 0;
}

static int
parse_zone_key_directory(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                         void *target)
{
    struct config_dnssec *d = target;
    const char *s = cfg_scalar(value);
    (void)key;
    if (!s || s[0] == '\0')
        return cfg_error(ctx, value, "key_directory: expected a path");
    free(d->key_directory);
    d->key_directory = cfg_resolve_path(ctx, s);
    return 0;
}

static const struct cfg_key dnssec_keys[] = {
    {.name = "enabled", .type = CFG_BOOL, .offset = offsetof(struct config_dnssec, enabled)},
    {.name = "algorithm", .type = CFG_CUSTOM, .parse = parse_algorithm},
    {.name = "keys", .type = CFG_CUSTOM, .parse = parse_keys},
    /* RFC 4035 §5.3.1: signatures outside [inception, expiration] are bogus. An hour is
     * far too short to ride out a resolver's clock or an outage; 45 days fits the field. */
    {.name = "validity",
     .type = CFG_DURATION_MS,
     .offset = offsetof(struct config_dnssec, validity_ms),
     .min = 3600000,
     .max = 45u * 86400000u},
    {.name = "refresh",
     .type = CFG_DURATION_MS,
     .offset = offsetof(struct config_dnssec, refresh_ms),
     .min = 1800000,
     .max = 44u * 86400000u},
    /* RFC 9276 §3.2: validators may treat more than 100 iterations as insecure, or fail. */
    {.name = "nsec3_iterations",
     .type = CFG_U16,
     .offset = offsetof(struct config_dnssec, nsec3_iterations),
     .min = 0,
     .max = 100},
    {.name = "nsec3_salt", .type = CFG_CUSTOM, .parse = parse_salt},
    {.name = "key_directory", .type = CFG_CUSTOM, .parse = parse_zone_key_directory},
    /* RFC 7583 §2 rollover timing. 0 is allowed (a test, or a zone on one server only);
     * 30 days covers any parent's DS TTL. */
    {.name = "propagation_delay",
     .type = CFG_DURATION_MS,
     .offset = offsetof(struct config_dnssec, propagation_delay_ms),
     .min = 0,
     .max = 30u * 86400000u},
    {.name = "parent_propagation_delay",
     .type = CFG_DURATION_MS,
     .offset = offsetof(struct config_dnssec, parent_propagation_delay_ms),
     .min = 0,
     .max = 30u * 86400000u},
    {.name = "parent_ds_ttl",
     .type = CFG_DURATION_MS,
     .offset = offsetof(struct config_dnssec, parent_ds_ttl_ms),
     .min = 0,
     .max = 30u * 86400000u},
};

int
cfg_parse_zone_dnssec(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                      void *target)
{
    struct config_zone *zone = target;
    struct config_dnssec *d = &zone->dnssec;
    const char *s = cfg_scalar(value);
    (void)key;
    d->line = cfg_line(value);
    d->algorithm = 13;
    d->validity_ms = CONFIG_DNSSEC_DEFAULT_VALIDITY_MS;
    d->refresh_ms = CONFIG_DNSSEC_DEFAULT_REFRESH_MS;
    d->propagation_delay_ms = CONFIG_DNSSEC_DEFAULT_PROPAGATION_MS;
    d->parent_propagation_delay_ms = CONFIG_DNSSEC_DEFAULT_PROPAGATION_MS;
    d->parent_ds_ttl_ms = CONFIG_DNSSEC_DEFAULT_PARENT_DS_TTL_MS;
    if (s) {
        if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)
            d->enabled = true;
        else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0)
            d->enabled = false;
        else
            return cfg_error(ctx, value, "dnssec: expected true, false or a mapping");
        return 0;
    }
    d->enabled = true; /* a mapping turns signing on unless it says `enabled: false` */
    return cfg_parse_mapping(ctx, value, "dnssec", dnssec_keys,
                             sizeof(dnssec_keys) / sizeof(dnssec_keys[0]), d);
}

int
cfg_parse_key_directory(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                        void *target)
{
    struct config *cfg = target;
    const char *s = cfg_scalar(value);
    (void)key;
    if (!s || s[0] == '\0')
        return cfg_error(ctx, value, "key_directory: expected a path");
    cfg->key_directory = cfg_resolve_path(ctx, s);
    return 0;
}

/* `keys` beside the state file (the server's writable place), else beside the config. */
static char *
default_key_directory(struct cfg_ctx *ctx)
{
    const struct config *cfg = ctx->cfg;
    if (cfg->key_directory)
        return xstrdup(cfg->key_directory);
    if (cfg->state_file) {
        char *copy = xstrdup(cfg->state_file);
        const char *dir = dirname(copy); /* may write into copy: called once */
        size_t n = strlen(dir) + sizeof("/keys");
        char *path = xmalloc(n);
        snprintf(path, n, "%s/keys", dir);
        free(copy);
        return path;
    }
    return cfg_resolve_path(ctx, "keys");
}

int
cfg_check_dnssec(struct cfg_ctx *ctx)
{
    struct config *cfg = ctx->cfg;
    for (size_t i = 0; i < cfg->zone_count; i++) {
        struct config_dnssec *d = &cfg->zones[i].dnssec;
        /* Unsigned zones too: one signed before keeps its serial floor there (snapshot.c). */
        if (!d->key_directory)
            d->key_directory = default_key_directory(ctx);
        if (!d->enabled)
            continue;
        if (d->refresh_ms >= d->validity_ms)
            return cfg_error_at(ctx, NULL, d->line,
                                "dnssec: refresh must be shorter than validity (signatures "
                                "are renewed when `refresh` is left of their `validity`)");
    }
    return 0;
}

void
cfg_dnssec_free(struct config *cfg)
{
    for (size_t i = 0; i < cfg->zone_count; i++)
        free(cfg->zones[i].dnssec.key_directory);
    free(cfg->key_directory);
}
