// SPDX-License-Identifier: MIT
/* A secondary zone's settings (see config_secondary.h): `primaries` is a list of mappings
 * { address: "ADDR[:PORT]", key: NAME } (key optional), tried in order for SOA queries and
 * transfers; NOTIFY is accepted from their addresses. The zone's `file` becomes optional:
 * where the latest transferred copy is kept, by default in `secondary/` beside the state file
 * (the server's writable place), else beside the config. Runs on whichever thread calls
 * config_load(). */
#include "config/config_secondary.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/sockaddr.h"

static int
parse_primary_address(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                      void *target)
{
    struct config_primary *p = target;
    const char *s = cfg_scalar(value);
    (void)key;
    if (!s || sockaddr_parse(s, CONFIG_PRIMARY_DEFAULT_PORT, &p->addr, &p->addr_len) < 0)
        return cfg_error(ctx, value,
                         "primaries: address: expected ADDRESS or ADDRESS:PORT (IPv6 in "
                         "brackets: \"[2001:db8::53]:53\"), not '%s'",
                         s ? s : "(not a string)");
    p->text = xstrdup(s);
    return 0;
}

static int
parse_primary_key(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                  void *target)
{
    struct config_primary *p = target;
    const char *s = cfg_scalar(value);
    (void)key;
    if (!cfg_valid_dname(s))
        return cfg_error(ctx, value, "primaries: key: expected a TSIG key name, not '%s'",
                         s ? s : "(not a string)");
    p->key = xstrdup(s);
    return 0;
}

static const struct cfg_key primary_keys[] = {
    {.name = "address", .type = CFG_CUSTOM, .parse = parse_primary_address, .required = true},
    {.name = "key", .type = CFG_CUSTOM, .parse = parse_primary_key},
};

static bool
same_address(const struct config_primary *a, const struct config_primary *b)
{
    return a->addr_len == b->addr_len && memcmp(&a->addr, &b->addr, a->addr_len) == 0;
}

int
cfg_parse_zone_primaries(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                         void *target)
{
    struct config_zone *zone = target;
    (void)key;
    if (value->type != YAML_SEQUENCE_NODE)
        return cfg_error(ctx, value,
                         "primaries: expected a list of { address: \"ADDR:PORT\", key: NAME }");
    size_t n = cfg_seq_len(value);
    if (n == 0)
        return cfg_error(ctx, value, "primaries: expected at least one primary");
    if (n > CONFIG_PRIMARIES_MAX)
        return cfg_error(ctx, value, "primaries: at most %d", CONFIG_PRIMARIES_MAX);
    zone->primaries = xcalloc(n, sizeof(*zone->primaries));
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = cfg_seq_item(ctx, value, i);
        struct config_primary *p = &zone->primaries[zone->primary_count++];
        p->line = cfg_line(item);
        if (item->type != YAML_MAPPING_NODE)
            return cfg_error(ctx, item,
                             "primaries: expected { address: \"ADDR:PORT\", key: NAME }");
        if (cfg_parse_mapping(ctx, item, "primaries entry", primary_keys,
                              sizeof(primary_keys) / sizeof(primary_keys[0]), p) < 0)
            return -1;
        for (size_t j = 0; j + 1 < zone->primary_count; j++)
            if (same_address(&zone->primaries[j], p))
                return cfg_error(ctx, item, "primaries: %s is listed twice (first at line %d)",
                                 p->text, zone->primaries[j].line);
    }
    return 0;
}

int
cfg_parse_zone_catalog(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                       void *target)
{
    struct config_zone *zone = target;
    const char *s = cfg_scalar(value);
    (void)key;
    zone->catalog_line = cfg_line(value);
    if (s && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0))
        zone->catalog = true;
    else if (s && strcmp(s, "produce") == 0)
        zone->catalog_produce = true;
    else if (!s || (strcmp(s, "false") != 0 && strcmp(s, "no") != 0))
        return cfg_error(ctx, value, "catalog: expected true, false or produce, not '%s'",
                         s ? s : "(not a string)");
    return 0;
}

/* `secondary/<origin>.zone` beside the state file, else beside the config. */
static char *
default_file(struct cfg_ctx *ctx, const char *origin)
{
    char name[DNAME_TEXT_MAX + 32];
    size_t len = strlen(origin);
    if (len > 1 && origin[len - 1] == '.')
        len--;
    /* A zone name may hold '/' only escaped or as itself in a label: make it a file name. */
    snprintf(name, sizeof(name), "secondary/%.*s.zone", (int)len, origin);
    for (char *c = name + sizeof("secondary/") - 1; *c; c++)
        if (*c == '/')
            *c = '_';
    if (!ctx->cfg->state_file)
        return cfg_resolve_path(ctx, name);
    char *copy = xstrdup(ctx->cfg->state_file);
    const char *dir = dirname(copy);
    size_t n = strlen(dir) + 1 + strlen(name) + 1;
    char *path = xmalloc(n);
    snprintf(path, n, "%s/%s", dir, name);
    free(copy);
    return path;
}

int
cfg_check_secondary(struct cfg_ctx *ctx)
{
    struct config *cfg = ctx->cfg;
    for (size_t i = 0; i < cfg->zone_count; i++) {
        struct config_zone *z = &cfg->zones[i];
        if (z->catalog && !z->primaries)
            return cfg_error_at(ctx, NULL, z->catalog_line,
                                "catalog: zone %s has no `primaries:`: a catalog zone (RFC "
                                "9432) is consumed as a secondary, its members from its "
                                "primaries",
                                z->origin);
        if (z->catalog_produce && (z->primaries || z->file))
            return cfg_error_at(ctx, NULL, z->catalog_line,
                                "catalog: produce: zone %s is generated from the other zones: "
                                "it takes neither `file:` nor `primaries:`",
                                z->origin);
        if (!z->primaries)
            continue;
        if (z->dnssec.enabled)
            return cfg_error_at(ctx, NULL, z->dnssec.line,
                                "dnssec: zone %s is a secondary: it is served as transferred "
                                "(signed by its primary or not), so `dnssec:` is not "
                                "supported on it",
                                z->origin);
        for (size_t k = 0; k < z->primary_count; k++) {
            const struct config_primary *p = &z->primaries[k];
            if (p->key && !config_tsig_key_find(cfg, p->key))
                return cfg_error_at(ctx, NULL, p->line,
                                    "primaries: key '%s' is not in tsig_keys", p->key);
        }
        if (!z->file) {
            z->file = default_file(ctx, z->origin);
            z->file_default = true;
        }
    }
    return 0;
}

static char **
copy_strings(char *const *from, size_t n)
{
    char **to = xcalloc(n ? n : 1, sizeof(*to));
    for (size_t k = 0; k < n; k++)
        to[k] = from[k] ? xstrdup(from[k]) : NULL;
    return to;
}

static void *
copy_bytes(const void *from, size_t n)
{
    void *to = xmalloc(n ? n : 1);
    if (n)
        memcpy(to, from, n);
    return to;
}

void
config_zone_add_member(struct config *cfg, size_t catalog, const char *origin, const char *file)
{
    cfg->zones = xrealloc(cfg->zones, (cfg->zone_count + 1) * sizeof(*cfg->zones));
    const struct config_zone *c = &cfg->zones[catalog];
    struct config_zone *z = &cfg->zones[cfg->zone_count++];
    *z = (struct config_zone){
        .origin = xstrdup(origin),
        .file = xstrdup(file),
        .primary_count = c->primary_count,
        .line = c->line,
        .transfer = c->transfer,
        .notify_count = c->notify_count,
        .member_of = c->origin,
        .max_records = c->max_records, /* the catalog's size bounds hold for its members */
        .max_bytes = c->max_bytes,
        .journal = c->journal, /* the catalog's setting (resolved) holds for its members */
        .journal_given = true,
    };
    /* Deep copies: config_free frees every entry alike. */
    z->primaries = copy_bytes(c->primaries, c->primary_count * sizeof(*c->primaries));
    for (size_t k = 0; k < c->primary_count; k++) {
        z->primaries[k].text = xstrdup(c->primaries[k].text);
        z->primaries[k].key = c->primaries[k].key ? xstrdup(c->primaries[k].key) : NULL;
    }
    z->transfer.allow = c->transfer.allow_count
                            ? copy_bytes(c->transfer.allow,
                                         c->transfer.allow_count * sizeof(*c->transfer.allow))
                            : NULL;
    z->transfer.keys = c->transfer.key_count ? copy_strings(c->transfer.keys, c->transfer.key_count)
                                             : NULL;
    z->transfer.key_lines =
        c->transfer.key_count
            ? copy_bytes(c->transfer.key_lines, c->transfer.key_count * sizeof(int))
            : NULL;
    z->notify = c->notify_count ? copy_bytes(c->notify, c->notify_count * sizeof(*c->notify))
                                : NULL;
    for (size_t k = 0; k < c->notify_count; k++) {
        z->notify[k].text = xstrdup(c->notify[k].text);
        z->notify[k].key = c->notify[k].key ? xstrdup(c->notify[k].key) : NULL;
    }
}

void
cfg_secondary_free(struct config *cfg)
{
    for (size_t i = 0; i < cfg->zone_count; i++) {
        struct config_zone *z = &cfg->zones[i];
        for (size_t k = 0; k < z->primary_count; k++) {
            free(z->primaries[k].text);
            free(z->primaries[k].key);
        }
        free(z->primaries);
    }
}
