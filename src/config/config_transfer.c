// SPDX-License-Identifier: MIT
/* Outgoing zone transfer settings of a zone entry (see config_transfer.h). `transfer` is a
 * mapping with `allow` (networks, "192.0.2.0/24" or a single address) and/or `keys` (TSIG key
 * names, each checked against the tsig_keys section after the walk); `notify` a list of
 * "address[:port]" targets, or of { address, key } mappings for NOTIFY signed with a TSIG key
 * (RFC 8945). Runs on whichever thread calls config_load(). */
#include "config/config_transfer.h"

#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/dname.h"
#include "common/sockaddr.h"
#include "config/config_services.h"

/* A list node with at least one item, or an error naming `what`. */
static int
nonempty_list(struct cfg_ctx *ctx, const char *what, yaml_node_t *value, size_t *n)
{
    if (value->type != YAML_SEQUENCE_NODE)
        return cfg_error(ctx, value, "%s: expected a list", what);
    *n = cfg_seq_len(value);
    if (*n == 0)
        return cfg_error(ctx, value, "%s: expected at least one entry", what);
    return 0;
}

/* `allow`: "ADDRESS/LEN" or a bare address (a host). Host bits are refused as in `nets`. */
static int
parse_allow(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config_transfer *t = target;
    (void)key;
    return cfg_parse_prefix_list(ctx, "allow", value, &t->allow, &t->allow_count);
}

/* `keys`: TSIG key names (RFC 8945 §4.2: a domain name), distinct ignoring case. */
static int
parse_keys(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config_transfer *t = target;
    size_t n, dup, first;
    (void)key;
    if (nonempty_list(ctx, "keys", value, &n) < 0)
        return -1;
    t->keys = xcalloc(n, sizeof(*t->keys));
    t->key_lines = xcalloc(n, sizeof(*t->key_lines));
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = cfg_seq_item(ctx, value, i);
        const char *s = cfg_scalar(item);
        if (!cfg_valid_dname(s))
            return cfg_error(ctx, item, "keys: expected a TSIG key name, not '%s'",
                             s ? s : "(not a string)");
        t->key_lines[t->key_count] = cfg_line(item);
        t->keys[t->key_count++] = xstrdup(s);
    }
    if (cfg_find_duplicate_dname((const char *const *)t->keys, t->key_count, &dup, &first))
        return cfg_error(ctx, cfg_seq_item(ctx, value, dup), "keys: '%s' is listed twice",
                         t->keys[dup]);
    return 0;
}

static const struct cfg_key transfer_keys[] = {
    {.name = "allow", .type = CFG_CUSTOM, .parse = parse_allow},
    {.name = "keys", .type = CFG_CUSTOM, .parse = parse_keys},
};

int
cfg_parse_zone_transfer(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                        void *target)
{
    struct config_zone *zone = target;
    struct config_transfer *t = &zone->transfer;
    (void)key;
    t->line = cfg_line(value);
    t->enabled = true;
    if (cfg_parse_mapping(ctx, value, "transfer", transfer_keys,
                          sizeof(transfer_keys) / sizeof(transfer_keys[0]), t) < 0)
        return -1;
    /* An empty mapping would allow nobody, which is what leaving it out already means;
     * allowing everybody must be written out (allow: ["0.0.0.0/0", "::/0"]). */
    if (t->allow_count == 0 && t->key_count == 0)
        return cfg_error(ctx, value,
                         "transfer: give allow (networks), keys (TSIG key names) "
                         "or both");
    return 0;
}

static bool
same_address(const struct config_notify *a, const struct config_notify *b)
{
    return a->addr_len == b->addr_len && memcmp(&a->addr, &b->addr, a->addr_len) == 0;
}

/* A target's address: "ADDR" or "ADDR:PORT" (IPv6 in brackets). */
static int
parse_notify_address(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                     void *target)
{
    struct config_notify *t = target;
    const char *s = cfg_scalar(value);
    (void)key;
    if (!s || sockaddr_parse(s, CONFIG_NOTIFY_DEFAULT_PORT, &t->addr, &t->addr_len) < 0)
        return cfg_error(ctx, value,
                         "notify: expected ADDRESS or ADDRESS:PORT (IPv6 in "
                         "brackets: \"[2001:db8::53]:53\"), not '%s'",
                         s ? s : "(not a string)");
    t->text = xstrdup(s);
    t->line = cfg_line(value);
    return 0;
}

/* A target's TSIG key (RFC 8945): a name of the tsig_keys section, checked after the walk. */
static int
parse_notify_key(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config_notify *t = target;
    const char *s = cfg_scalar(value);
    (void)key;
    if (!cfg_valid_dname(s))
        return cfg_error(ctx, value, "notify: key: expected a TSIG key name, not '%s'",
                         s ? s : "(not a string)");
    t->key = xstrdup(s);
    t->key_line = cfg_line(value);
    return 0;
}

static const struct cfg_key notify_keys[] = {
    {.name = "address", .type = CFG_CUSTOM, .parse = parse_notify_address, .required = true},
    {.name = "key", .type = CFG_CUSTOM, .parse = parse_notify_key},
};

int
cfg_parse_zone_notify(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                      void *target)
{
    struct config_zone *zone = target;
    size_t n = 0;
    (void)key;
    if (nonempty_list(ctx, "notify", value, &n) < 0)
        return -1;
    if (n > CONFIG_NOTIFY_MAX)
        return cfg_error(ctx, value, "notify: at most %d targets", CONFIG_NOTIFY_MAX);
    zone->notify = xcalloc(n, sizeof(*zone->notify));
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = cfg_seq_item(ctx, value, i);
        struct config_notify *t = &zone->notify[zone->notify_count];
        /* Counted first, so that config_free frees what a failed entry holds. */
        zone->notify_count++;
        int rc = item->type == YAML_MAPPING_NODE
                     ? cfg_parse_mapping(ctx, item, "notify", notify_keys,
                                         sizeof(notify_keys) / sizeof(notify_keys[0]), t)
                     : parse_notify_address(ctx, NULL, item, t);
        if (rc < 0)
            return -1;
        for (size_t j = 0; j + 1 < zone->notify_count; j++)
            if (same_address(&zone->notify[j], t))
                return cfg_error(ctx, item, "notify: %s is listed twice (first at line %d)",
                                 t->text, zone->notify[j].line);
    }
    return 0;
}

int
cfg_parse_zone_journal(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                       void *target)
{
    struct config_zone *zone = target;
    const char *s = cfg_scalar(value);
    (void)key;
    if (s && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0))
        zone->journal = true;
    else if (s && (strcmp(s, "false") == 0 || strcmp(s, "no") == 0))
        zone->journal = false;
    else
        return cfg_error(ctx, value, "journal: expected true or false, not '%s'",
                         s ? s : "(not a string)");
    zone->journal_given = true;
    return 0;
}

int
cfg_parse_journal_directory(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                            void *target)
{
    struct config *cfg = target;
    const char *s = cfg_scalar(value);
    (void)key;
    if (!s || s[0] == '\0')
        return cfg_error(ctx, value, "journal_directory: expected a path");
    free(cfg->journal_directory);
    cfg->journal_directory = cfg_resolve_path(ctx, s);
    return 0;
}

/* `journal` beside the state file (the server's writable place), else beside the config. */
static char *
default_journal_directory(struct cfg_ctx *ctx)
{
    const struct config *cfg = ctx->cfg;
    if (!cfg->state_file)
        return cfg_resolve_path(ctx, "journal");
    char *copy = xstrdup(cfg->state_file);
    const char *dir = dirname(copy);
    size_t n = strlen(dir) + sizeof("/journal");
    char *path = xmalloc(n);
    snprintf(path, n, "%s/journal", dir);
    free(copy);
    return path;
}

int
cfg_check_transfer(struct cfg_ctx *ctx)
{
    struct config *cfg = ctx->cfg;
    if (!cfg->journal_directory)
        cfg->journal_directory = default_journal_directory(ctx);
    for (size_t i = 0; i < cfg->zone_count; i++) {
        struct config_zone *z = &cfg->zones[i];
        if (!z->journal_given)
            z->journal = cfg->journal;
        if (z->notify_count && !z->transfer.enabled)
            return cfg_error_at(ctx, NULL, z->notify[0].line,
                                "notify: zone %s has no `transfer:`, so the secondaries it "
                                "notifies could not fetch the zone",
                                z->origin);
        /* Keys are named here and defined in tsig_keys, which may come later in the file. */
        for (size_t k = 0; k < z->transfer.key_count; k++)
            if (!config_tsig_key_find(cfg, z->transfer.keys[k]))
                return cfg_error_at(ctx, NULL, z->transfer.key_lines[k],
                                    "transfer: keys: no key '%s' in tsig_keys",
                                    z->transfer.keys[k]);
        for (size_t k = 0; k < z->notify_count; k++) {
            struct config_notify *t = &z->notify[k];
            if (t->key && !(t->tsig_key = config_tsig_key_find(cfg, t->key)))
                return cfg_error_at(ctx, NULL, t->key_line, "notify: key: no key '%s' in tsig_keys",
                                    t->key);
        }
    }
    return 0;
}

void
cfg_transfer_free(struct config *cfg)
{
    free(cfg->journal_directory);
    for (size_t i = 0; i < cfg->zone_count; i++) {
        struct config_zone *z = &cfg->zones[i];
        free(z->transfer.allow);
        for (size_t k = 0; k < z->transfer.key_count; k++)
            free(z->transfer.keys[k]);
        free(z->transfer.keys);
        free(z->transfer.key_lines);
        for (size_t k = 0; k < z->notify_count; k++) {
            free(z->notify[k].text);
            free(z->notify[k].key);
        }
        free(z->notify);
    }
}
