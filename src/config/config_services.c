// SPDX-License-Identifier: MIT
/* The `services` section: one steered owner name per key, each with its pools of members
 * (addresses, or CNAME targets), the geo rules and `nets` overrides that order the pools for
 * a client, and how members are picked (ARCHITECTURE.md §5). Pool names are resolved to indices
 * here, so the policy code never compares strings. Keys of a service may come in any order,
 * so the walker first stores the scalar settings and the nodes that refer to pools, then
 * reads pools, geo, nets and all_down in that order. Checks that need the geoip section run
 * after the whole file (cfg_check_services). Runs on the thread that calls config_load(). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/dname.h"
#include "config/config_services.h"

#define SERVICE_TTL_MAX 86400
#define SERVICE_DEFAULT_TTL 30
#define WEIGHT_MAX 1000000
#define FIRST_N_MAX 64
#define NEAREST_N_MAX 65535
#define POOL_NAME_MAX 63
#define CHECK_NAME_MAX 255
#define SECTION_MAX (DNAME_TEXT_MAX + 32)

/* A service while its mapping is walked: typed keys land in `svc`, keys that name pools are
 * kept as nodes until the pools are known. */
struct service_build {
    struct config_service svc;
    yaml_node_t *pools, *geo, *nets, *nets_file, *all_down;
};

struct member_build {
    struct config_member m;
    bool cname;
    yaml_node_t *address, *target; /* where each was given, for type mismatch messages */
};

struct pool_build {
    struct config_pool *pool;
    bool cname;
};

int
cfg_pool_find(const struct config_service *svc, const char *name)
{
    for (size_t i = 0; i < svc->pool_count; i++)
        if (svc->pools[i].name && strcmp(svc->pools[i].name, name) == 0)
            return (int)i;
    return -1;
}

int
cfg_parse_pool_list(struct cfg_ctx *ctx, const struct config_service *svc, const char *what,
                    yaml_node_t *value, struct config_pool_list *out)
{
    size_t n;

    if (value->type != YAML_SEQUENCE_NODE)
        return cfg_error(ctx, value, "%s: expected a list of pools", what);
    n = cfg_seq_len(value);
    if (n == 0)
        return cfg_error(ctx, value, "%s: expected at least one pool", what);
    out->pools = xcalloc(n, sizeof(*out->pools));
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = cfg_seq_item(ctx, value, i);
        const char *s = cfg_scalar(item);
        int idx = s ? cfg_pool_find(svc, s) : -1;

        if (!s)
            return cfg_error(ctx, item, "%s: expected a pool name", what);
        if (idx < 0)
            return cfg_error(ctx, item, "%s: unknown pool '%s'", what, s);
        /* A repeat adds nothing to a fallback order and hints at a typo. */
        for (size_t j = 0; j < out->count; j++)
            if (out->pools[j] == (uint32_t)idx)
                return cfg_error(ctx, item, "%s: pool '%s' listed twice", what, s);
        out->pools[out->count++] = (uint32_t)idx;
    }
    return 0;
}

/* members: */

static int
parse_member_address(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                     void *target)
{
    struct member_build *b = target;
    const char *s = cfg_scalar(value);

    (void)key;
    if (!s || cfg_parse_address(s, &b->m.address) < 0)
        return cfg_error(ctx, value, "address: invalid IP address '%s'", s ? s : "(not a string)");
    b->address = value;
    return 0;
}

static int
parse_member_target(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                    void *target)
{
    struct member_build *b = target;
    const char *s = cfg_scalar(value);

    (void)key;
    if (!cfg_valid_dname(s))
        return cfg_error(ctx, value, "target: invalid domain name '%s'", s ? s : "(not a string)");
    b->m.target = cfg_absolute_dname(s);
    b->target = value;
    return 0;
}

static const struct cfg_key member_keys[] = {
    {.name = "address", .type = CFG_CUSTOM, .parse = parse_member_address},
    {.name = "target", .type = CFG_CUSTOM, .parse = parse_member_target},
    {.name = "weight",
     .type = CFG_U32,
     .offset = offsetof(struct member_build, m.weight),
     .min = 1,
     .max = WEIGHT_MAX},
    {.name = "check",
     .type = CFG_STRING,
     .offset = offsetof(struct member_build, m.check),
     .max = CHECK_NAME_MAX},
    {.name = "down", .type = CFG_BOOL, .offset = offsetof(struct member_build, m.down)},
};

static bool
same_member(const struct config_member *a, const struct config_member *b)
{
    uint8_t wa[DNAME_MAX_LEN], wb[DNAME_MAX_LEN];

    if (!a->target || !b->target)
        return a->address.family == b->address.family &&
               memcmp(a->address.addr, b->address.addr, sizeof(a->address.addr)) == 0;
    /* RFC 4343: targets compare case-insensitively. Both were validated. */
    (void)dname_from_text(a->target, wa);
    (void)dname_from_text(b->target, wb);
    return dname_equal(wa, wb);
}

/* One member: exactly the field its service type needs (address, or target for cname). */
static int
parse_member(struct cfg_ctx *ctx, struct config_pool *pool, size_t i, yaml_node_t *node, bool cname)
{
    struct member_build b = {.m = {.weight = 1, .line = cfg_line(node)}, .cname = cname};
    struct config_member *m = &pool->members[i];
    int rc = cfg_parse_mapping(ctx, node, "member", member_keys,
                               sizeof(member_keys) / sizeof(member_keys[0]), &b);

    *m = b.m; /* even on failure: the pool owns what was allocated */
    if (rc < 0)
        return -1;
    if (cname && b.address)
        return cfg_error(ctx, b.address, "address: not allowed with type: cname (use target)");
    if (!cname && b.target)
        return cfg_error(ctx, b.target, "target: only allowed with type: cname");
    if (!b.address && !b.target)
        return cfg_error(ctx, node, "missing key '%s' in member", cname ? "target" : "address");
    for (size_t j = 0; j < i; j++) {
        if (same_member(&pool->members[j], m)) {
            char text[DNAME_TEXT_MAX];
            if (m->target)
                snprintf(text, sizeof(text), "%s", m->target);
            else
                cfg_format_prefix(&m->address, false, text, sizeof(text));
            return cfg_error(ctx, node, "duplicate member '%s' in pool '%s' (first at line %d)",
                             text, pool->name, pool->members[j].line);
        }
    }
    return 0;
}

static int
parse_members(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct pool_build *b = target;
    size_t n = value->type == YAML_SEQUENCE_NODE ? cfg_seq_len(value) : 0;

    (void)key;
    if (value->type != YAML_SEQUENCE_NODE)
        return cfg_error(ctx, value, "members: expected a list of members");
    if (n == 0)
        return cfg_error(ctx, value, "members: expected at least one member");
    b->pool->members = xcalloc(n, sizeof(*b->pool->members));
    b->pool->member_count = n;
    for (size_t i = 0; i < n; i++)
        if (parse_member(ctx, b->pool, i, cfg_seq_item(ctx, value, i), b->cname) < 0)
            return -1;
    return 0;
}

/* Strict decimal: strtod alone would take leading blanks, "nan" and "inf". */
static bool
parse_degrees(yaml_node_t *node, double limit, double *out)
{
    const char *s = cfg_scalar(node);
    char *end;

    if (!s || s[0] == '\0' || isspace((unsigned char)s[0]))
        return false;
    *out = strtod(s, &end);
    return *end == '\0' && isfinite(*out) && *out >= -limit && *out <= limit;
}

static int
parse_coordinates(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config_pool *pool = ((struct pool_build *)target)->pool;

    (void)key;
    if (value->type != YAML_SEQUENCE_NODE || cfg_seq_len(value) != 2 ||
        !parse_degrees(cfg_seq_item(ctx, value, 0), 90, &pool->latitude) ||
        !parse_degrees(cfg_seq_item(ctx, value, 1), 180, &pool->longitude))
        return cfg_error(ctx, value,
                         "coordinates: expected [latitude, longitude], latitude -90..90 and "
                         "longitude -180..180");
    pool->has_coords = true;
    return 0;
}

static const struct cfg_key pool_keys[] = {
    {.name = "members", .type = CFG_CUSTOM, .parse = parse_members, .required = true},
    {.name = "coordinates", .type = CFG_CUSTOM, .parse = parse_coordinates},
};

/* Pool names appear in "pool:<name>" and comma-separated nets_file lists: keep them plain. */
static bool
valid_pool_name(const char *s)
{
    size_t len = strlen(s);
    return len > 0 && len <= POOL_NAME_MAX &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == len;
}

static int
parse_pools(struct cfg_ctx *ctx, struct config_service *svc, yaml_node_t *value)
{
    size_t n;

    if (value->type != YAML_MAPPING_NODE)
        return cfg_error(ctx, value, "pools: expected a mapping of pool names to pools");
    n = cfg_map_len(value);
    if (n == 0)
        return cfg_error(ctx, value, "pools: expected at least one pool");
    svc->pools = xcalloc(n, sizeof(*svc->pools));
    svc->pool_count = n;
    for (size_t i = 0; i < n; i++) {
        struct config_pool *pool = &svc->pools[i];
        struct pool_build b = {.pool = pool, .cname = svc->cname};
        char section[POOL_NAME_MAX + 16];
        const char *name;
        yaml_node_t *k, *v;
        int first;

        if (cfg_map_entry(ctx, value, i, &name, &k, &v) < 0)
            return -1;
        if (!valid_pool_name(name))
            return cfg_error(ctx, k,
                             "pools: invalid pool name '%s' (1..%d letters, digits, '-', '_' "
                             "or '.')",
                             name, POOL_NAME_MAX);
        first = cfg_pool_find(svc, name);
        if (first >= 0)
            return cfg_error(ctx, k, "pools: duplicate pool '%s' (first at line %d)", name,
                             svc->pools[first].line);
        pool->name = xstrdup(name);
        pool->line = cfg_line(k);
        snprintf(section, sizeof(section), "pool '%s'", name);
        if (cfg_parse_mapping(ctx, v, section, pool_keys, sizeof(pool_keys) / sizeof(pool_keys[0]),
                              &b) < 0)
            return -1;
    }
    return 0;
}

/* geo: */

enum geo_kind { GEO_CONTINENT, GEO_COUNTRY, GEO_SUBDIVISION };

static bool
all_alpha(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isalpha((unsigned char)s[i]))
            return false;
    return true;
}

/* Uppercases `name` into `out` if it is a valid key of that kind. */
static bool
geo_key(enum geo_kind kind, const char *name, char out[8])
{
    static const char *const continents[] = {"AF", "AN", "AS", "EU", "NA", "OC", "SA"};
    size_t len = strlen(name);

    if (len >= 8)
        return false;
    for (size_t i = 0; i <= len; i++)
        out[i] = (char)toupper((unsigned char)name[i]);
    switch (kind) {
    case GEO_CONTINENT:
        for (size_t i = 0; i < sizeof(continents) / sizeof(continents[0]); i++)
            if (strcmp(out, continents[i]) == 0)
                return true;
        return false;
    case GEO_COUNTRY:
        return len == 2 && all_alpha(out, 2);
    case GEO_SUBDIVISION:
        /* ISO 3166-2: the country, '-', then one to three letters or digits. */
        if (len < 4 || len > 6 || out[2] != '-' || !all_alpha(out, 2))
            return false;
        for (size_t i = 3; i < len; i++)
            if (!isalnum((unsigned char)out[i]))
                return false;
        return true;
    }
    return false;
}

static int
parse_geo_map(struct cfg_ctx *ctx, struct config_service *svc, yaml_node_t *value,
              enum geo_kind kind, struct config_geo_rule **rules, size_t *count)
{
    static const char *const names[] = {"continent", "country", "subdivision"};
    static const char *const expect[] = {
        "a continent code (AF AN AS EU NA OC SA)",
        "a two-letter country code (ISO 3166-1)",
        "a subdivision code like US-CA (ISO 3166-2)",
    };
    size_t n;

    if (value->type != YAML_MAPPING_NODE)
        return cfg_error(ctx, value, "%s: expected a mapping of codes to pools", names[kind]);
    n = cfg_map_len(value);
    *rules = xcalloc(n ? n : 1, sizeof(**rules));
    *count = n;
    for (size_t i = 0; i < n; i++) {
        struct config_geo_rule *rule = &(*rules)[i];
        char code[8];
        const char *name;
        yaml_node_t *k, *v;

        if (cfg_map_entry(ctx, value, i, &name, &k, &v) < 0)
            return -1;
        if (!geo_key(kind, name, code))
            return cfg_error(ctx, k, "%s: '%s' is not %s", names[kind], name, expect[kind]);
        for (size_t j = 0; j < i; j++)
            if (strcmp((*rules)[j].key, code) == 0)
                return cfg_error(ctx, k, "%s: duplicate '%s' (first at line %d)", names[kind], code,
                                 (*rules)[j].line);
        rule->key = xstrdup(code);
        rule->line = cfg_line(k);
        if (cfg_parse_pool_list(ctx, svc, name, v, &rule->order) < 0)
            return -1;
    }
    return 0;
}

static int
parse_geo_continent(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                    void *target)
{
    struct config_service *svc = target;
    (void)key;
    return parse_geo_map(ctx, svc, value, GEO_CONTINENT, &svc->continents, &svc->continent_count);
}

static int
parse_geo_country(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config_service *svc = target;
    (void)key;
    return parse_geo_map(ctx, svc, value, GEO_COUNTRY, &svc->countries, &svc->country_count);
}

static int
parse_geo_subdivision(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                      void *target)
{
    struct config_service *svc = target;
    (void)key;
    return parse_geo_map(ctx, svc, value, GEO_SUBDIVISION, &svc->subdivisions,
                         &svc->subdivision_count);
}

static int
parse_geo_default(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    (void)key;
    return cfg_parse_pool_list(ctx, target, "default", value,
                               &((struct config_service *)target)->default_order);
}

static const struct cfg_key geo_keys[] = {
    {.name = "continent", .type = CFG_CUSTOM, .parse = parse_geo_continent},
    {.name = "country", .type = CFG_CUSTOM, .parse = parse_geo_country},
    {.name = "subdivision", .type = CFG_CUSTOM, .parse = parse_geo_subdivision},
    {.name = "default", .type = CFG_CUSTOM, .parse = parse_geo_default},
};

/* The rest of a service's keys. */

static int
keep_node(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    (void)ctx;
    *(yaml_node_t **)((char *)target + key->offset) = value;
    return 0;
}

static int
parse_type(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    static const char *const words[] = {"address", "cname"};
    int v;
    if (cfg_parse_word(ctx, key->name, value, words, 2, &v) < 0)
        return -1;
    ((struct service_build *)target)->svc.cname = v == 1;
    return 0;
}

static int
parse_order(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    static const char *const words[] = {"geo", "nearest"};
    int v;
    if (cfg_parse_word(ctx, key->name, value, words, 2, &v) < 0)
        return -1;
    ((struct service_build *)target)->svc.nearest = v == 1;
    return 0;
}

static int
parse_select(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    /* In enum config_select order. */
    static const char *const words[] = {"weighted", "sticky", "all", "first_n"};
    int v;
    if (cfg_parse_word(ctx, key->name, value, words, 4, &v) < 0)
        return -1;
    ((struct service_build *)target)->svc.select = (enum config_select)v;
    return 0;
}

/* At startup a service either waits for the first round of checks, takes the states saved
 * in the state file (ARCHITECTURE.md §6; the file is checked in cfg_check_health), or is
 * answered at once from what is known (`up`). */
static int
parse_startup(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    static const char *const words[] = {"wait", "persisted", "up"};
    int v;
    if (cfg_parse_word(ctx, key->name, value, words, 3, &v) < 0)
        return -1;
    ((struct service_build *)target)->svc.startup_persisted = v == 1;
    ((struct service_build *)target)->svc.startup_up = v == 2;
    return 0;
}

struct sticky_prefix {
    uint32_t v4, v6;
};

static const struct cfg_key sticky_keys[] = {
    {.name = "v4",
     .type = CFG_U32,
     .offset = offsetof(struct sticky_prefix, v4),
     .min = 1,
     .max = 32},
    {.name = "v6",
     .type = CFG_U32,
     .offset = offsetof(struct sticky_prefix, v6),
     .min = 1,
     .max = 128},
};

static int
parse_sticky_prefix(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                    void *target)
{
    struct config_service *svc = &((struct service_build *)target)->svc;
    struct sticky_prefix p = {svc->sticky_prefix_v4, svc->sticky_prefix_v6};

    (void)key;
    if (cfg_parse_mapping(ctx, value, "sticky_prefix", sticky_keys,
                          sizeof(sticky_keys) / sizeof(sticky_keys[0]), &p) < 0)
        return -1;
    svc->sticky_prefix_v4 = (uint8_t)p.v4;
    svc->sticky_prefix_v6 = (uint8_t)p.v6;
    return 0;
}

static const struct cfg_key service_keys[] = {
    {.name = "ttl",
     .type = CFG_U32,
     .offset = offsetof(struct service_build, svc.ttl_s),
     .max = SERVICE_TTL_MAX},
    {.name = "type", .type = CFG_CUSTOM, .parse = parse_type},
    {.name = "pools",
     .type = CFG_CUSTOM,
     .parse = keep_node,
     .offset = offsetof(struct service_build, pools),
     .required = true},
    {.name = "geo",
     .type = CFG_CUSTOM,
     .parse = keep_node,
     .offset = offsetof(struct service_build, geo)},
    {.name = "nets",
     .type = CFG_CUSTOM,
     .parse = keep_node,
     .offset = offsetof(struct service_build, nets)},
    {.name = "nets_file",
     .type = CFG_CUSTOM,
     .parse = keep_node,
     .offset = offsetof(struct service_build, nets_file)},
    {.name = "order", .type = CFG_CUSTOM, .parse = parse_order},
    {.name = "nearest_n",
     .type = CFG_U32,
     .offset = offsetof(struct service_build, svc.nearest_n),
     .max = NEAREST_N_MAX},
    {.name = "select", .type = CFG_CUSTOM, .parse = parse_select},
    {.name = "first_n",
     .type = CFG_U32,
     .offset = offsetof(struct service_build, svc.first_n),
     .min = 1,
     .max = FIRST_N_MAX},
    {.name = "sticky_prefix", .type = CFG_CUSTOM, .parse = parse_sticky_prefix},
    {.name = "startup", .type = CFG_CUSTOM, .parse = parse_startup},
    {.name = "all_down",
     .type = CFG_CUSTOM,
     .parse = keep_node,
     .offset = offsetof(struct service_build, all_down)},
};

static int
parse_all_down(struct cfg_ctx *ctx, struct config_service *svc, yaml_node_t *value)
{
    const char *s = cfg_scalar(value);
    int idx;

    if (s && strcmp(s, "all") == 0) {
        svc->all_down = CONFIG_ALL_DOWN_ALL;
    } else if (s && strcmp(s, "nodata") == 0) {
        svc->all_down = CONFIG_ALL_DOWN_NODATA;
    } else if (s && strncmp(s, "pool:", 5) == 0 && s[5] != '\0') {
        idx = cfg_pool_find(svc, s + 5);
        if (idx < 0)
            return cfg_error(ctx, value, "all_down: unknown pool '%s'", s + 5);
        svc->all_down = CONFIG_ALL_DOWN_POOL;
        svc->all_down_pool = (uint32_t)idx;
    } else {
        return cfg_error(ctx, value, "all_down: expected all, nodata or pool:<name>");
    }
    return 0;
}

/* The parts that refer to pools, once the pools are known. */
static int
resolve_service(struct cfg_ctx *ctx, struct config_service *svc, const struct service_build *b)
{
    if (parse_pools(ctx, svc, b->pools) < 0)
        return -1;
    if (b->geo && cfg_parse_mapping(ctx, b->geo, "geo", geo_keys,
                                    sizeof(geo_keys) / sizeof(geo_keys[0]), svc) < 0)
        return -1;
    if (svc->default_order.count == 0) {
        svc->default_order.pools = xcalloc(svc->pool_count, sizeof(uint32_t));
        svc->default_order.count = svc->pool_count;
        for (size_t i = 0; i < svc->pool_count; i++)
            svc->default_order.pools[i] = (uint32_t)i;
    }
    if (b->nets && cfg_parse_nets(ctx, svc, b->nets) < 0)
        return -1;
    if (b->nets_file && cfg_load_nets_file(ctx, svc, b->nets_file) < 0)
        return -1;
    if (cfg_check_nets(ctx, svc) < 0)
        return -1;
    if (b->all_down && parse_all_down(ctx, svc, b->all_down) < 0)
        return -1;
    /* Distance ordering needs a position for every pool (ARCHITECTURE.md §5). */
    for (size_t i = 0; svc->nearest && i < svc->pool_count; i++)
        if (!svc->pools[i].has_coords)
            return cfg_error_at(ctx, NULL, svc->pools[i].line,
                                "pool '%s': order: nearest needs coordinates", svc->pools[i].name);
    return 0;
}

static int
parse_service(struct cfg_ctx *ctx, struct config_service *svc, yaml_node_t *key_node,
              const char *name, yaml_node_t *value)
{
    struct service_build b = {.svc = {
                                  .ttl_s = SERVICE_DEFAULT_TTL,
                                  .select = CONFIG_SELECT_WEIGHTED,
                                  .first_n = 2,
                                  .all_down = CONFIG_ALL_DOWN_ALL,
                                  .sticky_prefix_v4 = 24,
                                  .sticky_prefix_v6 = 56,
                              }};
    char section[SECTION_MAX];
    int rc;

    snprintf(section, sizeof(section), "service '%s'", name);
    /* The walker allocates nothing for a service (pools and the rest come after it). */
    rc = cfg_parse_mapping(ctx, value, section, service_keys,
                           sizeof(service_keys) / sizeof(service_keys[0]), &b);
    *svc = b.svc;
    svc->name = cfg_absolute_dname(name);
    svc->line = cfg_line(key_node);
    if (rc < 0)
        return -1;
    return resolve_service(ctx, svc, &b);
}

int
cfg_parse_services(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config *cfg = target;
    const char **names;
    size_t n, dup, first;
    int rc = 0;

    (void)key;
    if (value->type != YAML_MAPPING_NODE)
        return cfg_error(ctx, value, "services: expected a mapping of owner names to services");
    n = cfg_map_len(value);
    cfg->services = xcalloc(n ? n : 1, sizeof(*cfg->services));
    cfg->service_count = n;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *k, *v;
        const char *name;

        if (cfg_map_entry(ctx, value, i, &name, &k, &v) < 0)
            return -1;
        if (!cfg_valid_dname(name))
            return cfg_error(ctx, k, "services: invalid domain name '%s'", name);
        if (parse_service(ctx, &cfg->services[i], k, name, v) < 0)
            return -1;
    }
    names = xcalloc(n ? n : 1, sizeof(*names));
    for (size_t i = 0; i < n; i++)
        names[i] = cfg->services[i].name;
    if (cfg_find_duplicate_dname(names, n, &dup, &first))
        rc = cfg_error_at(ctx, NULL, cfg->services[dup].line,
                          "duplicate service '%s' (first at line %d)", cfg->services[dup].name,
                          cfg->services[first].line);
    free(names);
    return rc;
}

int
cfg_check_services(struct cfg_ctx *ctx)
{
    const struct config *cfg = ctx->cfg;

    /* The database is only needed by rules that look a client up in it; `nets` and a
     * default order work without one. */
    for (size_t i = 0; !cfg->geoip_database && i < cfg->service_count; i++) {
        const struct config_service *svc = &cfg->services[i];
        if (svc->continent_count + svc->country_count + svc->subdivision_count > 0)
            return cfg_error_at(ctx, NULL, svc->line, "service '%s': geo rules need geoip.database",
                                svc->name);
        if (svc->nearest)
            return cfg_error_at(ctx, NULL, svc->line,
                                "service '%s': order: nearest needs geoip.database", svc->name);
    }
    return 0;
}

static void
pool_list_free(struct config_pool_list *l)
{
    free(l->pools);
}

static void
geo_rules_free(struct config_geo_rule *rules, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(rules[i].key);
        pool_list_free(&rules[i].order);
    }
    free(rules);
}

void
cfg_services_free(struct config *cfg)
{
    for (size_t i = 0; i < cfg->service_count; i++) {
        struct config_service *svc = &cfg->services[i];
        for (size_t p = 0; p < svc->pool_count; p++) {
            struct config_pool *pool = &svc->pools[p];
            for (size_t m = 0; m < pool->member_count; m++) {
                free(pool->members[m].target);
                free(pool->members[m].check);
            }
            free(pool->members);
            free(pool->name);
        }
        free(svc->pools);
        geo_rules_free(svc->continents, svc->continent_count);
        geo_rules_free(svc->countries, svc->country_count);
        geo_rules_free(svc->subdivisions, svc->subdivision_count);
        pool_list_free(&svc->default_order);
        for (size_t r = 0; r < svc->net_count; r++)
            pool_list_free(&svc->nets[r].order);
        free(svc->nets);
        free(svc->nets_file);
        free(svc->name);
    }
    free(cfg->services);
}
