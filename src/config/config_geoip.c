// SPDX-License-Identifier: MIT
/* The `geoip` section: where the MaxMind DB lives (relative to the config file, like zone
 * files) and, for databases with another record layout, the lookup path of each field as a
 * list of map keys and array indices. The file itself is opened by the server, not here, so
 * `meridiand -n` can check a config on a machine without the database. Runs on the thread
 * that calls config_load(). */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "config/config_services.h"

#define GEOIP_PATH_MAX_KEYS 16 /* MMDB records are shallow; deeper is a mistake */

/* GeoIP2/GeoLite2 City and Country. */
static const char *const default_country[] = {"country", "iso_code", NULL};
static const char *const default_continent[] = {"continent", "code", NULL};
static const char *const default_subdivision[] = {"subdivisions", "0", "iso_code", NULL};
static const char *const default_latitude[] = {"location", "latitude", NULL};
static const char *const default_longitude[] = {"location", "longitude", NULL};

static char **
path_dup(const char *const *keys)
{
    size_t n = 0;
    char **out;

    while (keys[n])
        n++;
    out = xcalloc(n + 1, sizeof(*out));
    for (size_t i = 0; i < n; i++)
        out[i] = xstrdup(keys[i]);
    return out;
}

static void
path_free(char **path)
{
    if (!path)
        return;
    for (char **k = path; *k; k++)
        free(*k);
    free(path);
}

/* One path: a non-empty list of keys. YAML integers arrive as their text, which is what
 * libmaxminddb's MMDB_aget() takes for an array index. */
static int
parse_path(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    char ***field = (char ***)((char *)target + key->offset);
    size_t n = value->type == YAML_SEQUENCE_NODE ? cfg_seq_len(value) : 0;
    char **path;

    if (n == 0 || n > GEOIP_PATH_MAX_KEYS)
        return cfg_error(ctx, value, "%s: expected a list of 1..%d keys", key->name,
                         GEOIP_PATH_MAX_KEYS);
    path = xcalloc(n + 1, sizeof(*path));
    path_free(*field);
    *field = path;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = cfg_seq_item(ctx, value, i);
        const char *s = cfg_scalar(item);
        if (!s || s[0] == '\0')
            return cfg_error(ctx, item, "%s: expected a key (a string or an array index)",
                             key->name);
        path[i] = xstrdup(s);
    }
    return 0;
}

static const struct cfg_key path_keys[] = {
    {.name = "country",
     .type = CFG_CUSTOM,
     .parse = parse_path,
     .offset = offsetof(struct config, geoip_country_path)},
    {.name = "continent",
     .type = CFG_CUSTOM,
     .parse = parse_path,
     .offset = offsetof(struct config, geoip_continent_path)},
    {.name = "subdivision",
     .type = CFG_CUSTOM,
     .parse = parse_path,
     .offset = offsetof(struct config, geoip_subdivision_path)},
    {.name = "latitude",
     .type = CFG_CUSTOM,
     .parse = parse_path,
     .offset = offsetof(struct config, geoip_latitude_path)},
    {.name = "longitude",
     .type = CFG_CUSTOM,
     .parse = parse_path,
     .offset = offsetof(struct config, geoip_longitude_path)},
};

static int
parse_paths(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    (void)key;
    return cfg_parse_mapping(ctx, value, "geoip paths", path_keys,
                             sizeof(path_keys) / sizeof(path_keys[0]), target);
}

static int
parse_database(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config *cfg = target;
    const char *s = cfg_scalar(value);

    (void)key;
    if (!s || s[0] == '\0')
        return cfg_error(ctx, value, "database: expected a path");
    cfg->geoip_database = cfg_resolve_path(ctx, s);
    cfg->geoip_line = cfg_line(value);
    return 0;
}

static const struct cfg_key geoip_keys[] = {
    {.name = "database", .type = CFG_CUSTOM, .parse = parse_database, .required = true},
    {.name = "paths", .type = CFG_CUSTOM, .parse = parse_paths},
};

int
cfg_parse_geoip(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    (void)key;
    return cfg_parse_mapping(ctx, value, "geoip", geoip_keys,
                             sizeof(geoip_keys) / sizeof(geoip_keys[0]), target);
}

void
cfg_geoip_defaults(struct config *cfg)
{
    /* Filled even without a database, so readers never test for NULL. */
    if (!cfg->geoip_country_path)
        cfg->geoip_country_path = path_dup(default_country);
    if (!cfg->geoip_continent_path)
        cfg->geoip_continent_path = path_dup(default_continent);
    if (!cfg->geoip_subdivision_path)
        cfg->geoip_subdivision_path = path_dup(default_subdivision);
    if (!cfg->geoip_latitude_path)
        cfg->geoip_latitude_path = path_dup(default_latitude);
    if (!cfg->geoip_longitude_path)
        cfg->geoip_longitude_path = path_dup(default_longitude);
}

void
cfg_geoip_free(struct config *cfg)
{
    free(cfg->geoip_database);
    path_free(cfg->geoip_country_path);
    path_free(cfg->geoip_continent_path);
    path_free(cfg->geoip_subdivision_path);
    path_free(cfg->geoip_latitude_path);
    path_free(cfg->geoip_longitude_path);
}
