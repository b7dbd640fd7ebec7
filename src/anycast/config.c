// SPDX-License-Identifier: MIT
/* Loader for the `anycast:` section (schema in config.h). Reads the whole YAML stream with
 * libyaml like meridiand's loader, ignores every top-level key but `anycast`, and walks that
 * mapping with the config module's table-driven walker (config/config_yaml.h), so messages
 * look the same in both programs: "file:line: message". Cross-key checks come after the walk
 * and point at the line of the key they blame. Main thread, once at start. */
#include "anycast/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <yaml.h>

#include "anycast/canary.h"
#include "common/alloc.h"
#include "common/log.h"
#include "common/sockaddr.h"
#include "config/config.h"
#include "config/config_yaml.h"

#define NAME_MAX_LEN 64 /* BIRD protocol names */
#define IFNAME_MAX_LEN 15
#define PATH_MAX_LEN 4096
#define LIST_MAX 64

/* The walker writes errors into a CONFIG_ERR_MAX buffer; ours must be as large. */
_Static_assert(ANYCAST_CONFIG_ERR_MAX >= CONFIG_ERR_MAX, "error buffer too small");

static int
parse_prefix(const char *s, struct anycast_prefix *p)
{
    char host[INET6_ADDRSTRLEN + 1], text[INET6_ADDRSTRLEN + 8];
    const char *slash = strchr(s, '/');
    uint64_t len;

    if (!slash || (size_t)(slash - s) >= sizeof(host))
        return -1;
    memcpy(host, s, (size_t)(slash - s));
    host[slash - s] = '\0';
    if (inet_pton(AF_INET, host, p->addr) == 1)
        p->family = AF_INET;
    else if (inet_pton(AF_INET6, host, p->addr) == 1)
        p->family = AF_INET6;
    else
        return -1;
    if (cfg_parse_uint(slash + 1, p->family == AF_INET ? 32 : 128, &len) < 0)
        return -1;
    p->len = (unsigned)len;
    /* Host bits set would be a different route in BIRD than the one intended. */
    for (unsigned bit = p->len; bit < (p->family == AF_INET ? 32u : 128u); bit++)
        if (p->addr[bit / 8] & (0x80 >> (bit % 8)))
            return -1;
    inet_ntop(p->family, p->addr, host, sizeof(host));
    snprintf(text, sizeof(text), "%s/%u", host, p->len);
    p->text = xstrdup(text);
    return 0;
}

/* A sequence of 1..LIST_MAX scalars; each is handed to `one` with its node. */
typedef int (*item_fn)(struct cfg_ctx *ctx, const char *name, yaml_node_t *item, const char *s,
                       void *target, size_t index);

static int
walk_list(struct cfg_ctx *ctx, const char *name, yaml_node_t *value, bool allow_empty, item_fn one,
          void *target, size_t *count)
{
    size_t n;
    if (value->type != YAML_SEQUENCE_NODE)
        return cfg_error(ctx, value, "%s: expected a list", name);
    n = cfg_seq_len(value);
    if ((n == 0 && !allow_empty) || n > LIST_MAX)
        return cfg_error(ctx, value, "%s: expected 1..%d entries", name, LIST_MAX);
    *count = n;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = cfg_seq_item(ctx, value, i);
        const char *s = cfg_scalar(item);
        if (!s)
            return cfg_error(ctx, item, "%s: expected a string", name);
        if (one(ctx, name, item, s, target, i) < 0)
            return -1;
    }
    return 0;
}

static int
one_prefix(struct cfg_ctx *ctx, const char *name, yaml_node_t *item, const char *s, void *target,
           size_t i)
{
    struct anycast_config *cfg = target;
    if (parse_prefix(s, &cfg->prefixes[i]) < 0)
        return cfg_error(ctx, item,
                         "%s: invalid prefix '%s' (expected ADDRESS/LENGTH, no host "
                         "bits set)",
                         name, s);
    for (size_t k = 0; k < i; k++)
        if (strcmp(cfg->prefixes[k].text, cfg->prefixes[i].text) == 0)
            return cfg_error(ctx, item, "%s: '%s' is listed twice", name, s);
    return 0;
}

static int
parse_prefixes(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct anycast_config *cfg = target;
    if (value->type == YAML_SEQUENCE_NODE)
        cfg->prefixes = xcalloc(cfg_seq_len(value) + 1, sizeof(*cfg->prefixes));
    return walk_list(ctx, key->name, value, false, one_prefix, cfg, &cfg->prefix_count);
}

static int
one_service(struct cfg_ctx *ctx, const char *name, yaml_node_t *item, const char *s, void *target,
            size_t i)
{
    struct anycast_config *cfg = target;
    struct anycast_service *svc = &cfg->services[i];
    char text[INET6_ADDRSTRLEN + 16];

    if (sockaddr_parse(s, 53, &svc->addr, &svc->addr_len) < 0)
        return cfg_error(ctx, item,
                         "%s: invalid address '%s' (expected IP, IP:port or "
                         "[IPv6]:port)",
                         name, s);
    sockaddr_format((struct sockaddr *)&svc->addr, text, sizeof(text));
    svc->text = xstrdup(text);
    return 0;
}

static int
parse_services(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct anycast_config *cfg = target;
    if (value->type == YAML_SEQUENCE_NODE)
        cfg->services = xcalloc(cfg_seq_len(value) + 1, sizeof(*cfg->services));
    return walk_list(ctx, key->name, value, false, one_service, cfg, &cfg->service_count);
}

/* BIRD symbol syntax: a letter or underscore, then letters, digits, underscores. */
static bool
valid_bird_name(const char *s)
{
    static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_";
    size_t n = strlen(s);
    return n > 0 && n <= NAME_MAX_LEN && strchr(letters, s[0]) &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789") == n;
}

static int
one_name(struct cfg_ctx *ctx, const char *name, yaml_node_t *item, const char *s, void *target,
         size_t i)
{
    char **names = *(char ***)target;
    if (!valid_bird_name(s))
        return cfg_error(ctx, item, "%s: '%s' is not a BIRD protocol name", name, s);
    names[i] = xstrdup(s);
    return 0;
}

static int
parse_names(struct cfg_ctx *ctx, const char *name, yaml_node_t *value, char ***out, size_t *count)
{
    if (value->type == YAML_SEQUENCE_NODE) {
        for (size_t i = 0; i < *count; i++)
            free((*out)[i]);
        free(*out);
        *out = xcalloc(cfg_seq_len(value) + 1, sizeof(char *));
    }
    return walk_list(ctx, name, value, true, one_name, out, count);
}

static int
parse_protocols(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct anycast_config *cfg = target;
    return parse_names(ctx, key->name, value, &cfg->bird_protocols, &cfg->bird_protocol_count);
}

static int
parse_drain_protocols(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                      void *target)
{
    struct anycast_config *cfg = target;
    return parse_names(ctx, key->name, value, &cfg->bird_drain_protocols,
                       &cfg->bird_drain_protocol_count);
}

static int
parse_peers(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct anycast_config *cfg = target;
    return parse_names(ctx, key->name, value, &cfg->bird_peers, &cfg->bird_peer_count);
}

struct canary_text {
    char *name;
    char *type;
    char *expect;
};

static const struct cfg_key canary_keys[] = {
    {.name = "name",
     .type = CFG_STRING,
     .offset = offsetof(struct canary_text, name),
     .max = DNAME_TEXT_MAX,
     .required = true},
    {.name = "type", .type = CFG_STRING, .offset = offsetof(struct canary_text, type), .max = 8},
    {.name = "expect",
     .type = CFG_STRING,
     .offset = offsetof(struct canary_text, expect),
     .max = ANYCAST_CANARY_TEXT_MAX,
     .required = true},
};

static int
parse_canary(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct anycast_config *cfg = target;
    struct canary_text t = {0};
    struct anycast_canary check;
    char msg[256];
    int rc = -1;

    (void)key;
    if (cfg_parse_mapping(ctx, value, "canary", canary_keys,
                          sizeof(canary_keys) / sizeof(canary_keys[0]), &t) < 0)
        goto out;
    if (anycast_canary_init(&check, t.name, t.type, t.expect, msg, sizeof(msg)) < 0) {
        cfg_error(ctx, value, "%s", msg);
        goto out;
    }
    cfg->canary_name = t.name;
    cfg->canary_type = t.type ? t.type : xstrdup("A");
    cfg->canary_expect = t.expect;
    t.name = t.type = t.expect = NULL;
    rc = 0;
out:
    free(t.name);
    free(t.type);
    free(t.expect);
    return rc;
}

static int
parse_device(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    char **out = (char **)((char *)target + key->offset);
    const char *s = cfg_scalar(value);
    size_t n = s ? strlen(s) : 0;

    /* Linux interface names: IFNAMSIZ - 1 bytes; keep to characters BIRD's "via" accepts
     * unquoted-safe and that never mean anything to the kernel (no '/', ':', spaces). */
    if (n == 0 || n > IFNAME_MAX_LEN || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 ||
        strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n)
        return cfg_error(ctx, value,
                         "%s: expected an interface name of 1..%d characters "
                         "(letters, digits, '_', '.', '-')",
                         key->name, IFNAME_MAX_LEN);
    free(*out);
    *out = xstrdup(s);
    return 0;
}

/* A path; "" is stored as "" and means "off" for the optional ones (see finish()). */
static int
parse_path(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    char **out = (char **)((char *)target + key->offset);
    const char *s = cfg_scalar(value);

    if (!s || strlen(s) > PATH_MAX_LEN)
        return cfg_error(ctx, value, "%s: expected a path", key->name);
    free(*out);
    *out = s[0] ? cfg_resolve_path(ctx, s) : xstrdup("");
    /* bind()/connect() would fail later, at a worse time: sun_path holds the path and NUL. */
    if (key->max == 1 && strlen(*out) >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
        return cfg_error(ctx, value, "%s: '%s' is too long for a UNIX socket", key->name, *out);
    return 0;
}

#define KEY_DURATION(key_name, field, lo, hi)                                                      \
    {                                                                                              \
        .name = key_name, .type = CFG_DURATION_MS,                                                 \
        .offset = offsetof(struct anycast_config, field), .min = lo, .max = hi                     \
    }
#define KEY_COUNT(key_name, field, lo, hi)                                                         \
    {                                                                                              \
        .name = key_name, .type = CFG_U32, .offset = offsetof(struct anycast_config, field),       \
        .min = lo, .max = hi                                                                       \
    }
/* `.max = 1` on a path marks a UNIX socket path (length checked). */
#define KEY_PATH(key_name, field, is_socket)                                                       \
    {                                                                                              \
        .name = key_name, .type = CFG_CUSTOM, .offset = offsetof(struct anycast_config, field),    \
        .max = is_socket, .parse = parse_path                                                      \
    }

static const struct cfg_key anycast_keys[] = {
    {.name = "prefixes", .type = CFG_CUSTOM, .parse = parse_prefixes, .required = true},
    {.name = "service_addresses", .type = CFG_CUSTOM, .parse = parse_services, .required = true},
    {.name = "canary", .type = CFG_CUSTOM, .parse = parse_canary, .required = true},
    KEY_DURATION("interval", interval_ms, 10, 3600000),
    KEY_DURATION("fast_interval", fast_interval_ms, 10, 3600000),
    KEY_DURATION("timeout", timeout_ms, 10, 60000),
    KEY_COUNT("tcp_every", tcp_every, 0, 1000),
    KEY_COUNT("rise", rise, 1, 100),
    KEY_COUNT("fall", fall, 1, 100),
    KEY_DURATION("hold_down", hold_down_ms, 0, 3600000),
    KEY_DURATION("hold_down_max", hold_down_max_ms, 0, 86400000),
    KEY_DURATION("flap_reset", flap_reset_ms, 1000, 86400000),
    KEY_DURATION("drain_time", drain_time_ms, 0, 3600000),
    {.name = "gate_device",
     .type = CFG_CUSTOM,
     .offset = offsetof(struct anycast_config, gate_device),
     .parse = parse_device},
    {.name = "drain_device",
     .type = CFG_CUSTOM,
     .offset = offsetof(struct anycast_config, drain_device),
     .parse = parse_device},
    KEY_PATH("bird_socket", bird_socket, 1),
    {.name = "bird_protocols", .type = CFG_CUSTOM, .parse = parse_protocols},
    {.name = "bird_drain_protocols", .type = CFG_CUSTOM, .parse = parse_drain_protocols},
    {.name = "bird_peers", .type = CFG_CUSTOM, .parse = parse_peers},
    KEY_DURATION("bird_interval", bird_interval_ms, 100, 3600000),
    KEY_PATH("control_socket", control_socket, 1),
    KEY_PATH("meridiand_control", meridiand_control, 1),
    KEY_DURATION("max_data_age", max_data_age_ms, 0, 4000000000u),
    KEY_PATH("fallback_include", fallback_include, 0),
    {.name = "log_level",
     .type = CFG_CUSTOM,
     .offset = offsetof(struct anycast_config, log_level),
     .parse = cfg_parse_log_level},
};

/* The value node of `name` in `map` (for the line of a cross-key message), or the map. */
static yaml_node_t *
key_node(struct cfg_ctx *ctx, yaml_node_t *map, const char *name)
{
    for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top;
         pair++) {
        const char *k = cfg_scalar(yaml_document_get_node(ctx->doc, pair->key));
        if (k && strcmp(k, name) == 0)
            return yaml_document_get_node(ctx->doc, pair->value);
    }
    return map;
}

/* "" means off for optional paths; NULL (absent) takes the default. */
static void
path_default(char **field, const char *def)
{
    if (*field && (*field)[0] == '\0') {
        free(*field);
        *field = NULL;
    } else if (!*field && def) {
        *field = xstrdup(def);
    }
}

/* Defaults for unset strings, and checks across keys. */
static int
finish(struct cfg_ctx *ctx, yaml_node_t *map, struct anycast_config *cfg)
{
    bool v4 = false, v6 = false;

    if (!cfg->gate_device)
        cfg->gate_device = xstrdup("mgate0");
    if (!cfg->drain_device)
        cfg->drain_device = xstrdup("mdrain0");
    path_default(&cfg->bird_socket, "/run/bird/bird.ctl");
    path_default(&cfg->meridiand_control, NULL);
    path_default(&cfg->fallback_include, NULL);
    if (cfg->control_socket && cfg->control_socket[0] == '\0')
        return cfg_error(ctx, key_node(ctx, map, "control_socket"),
                         "control_socket: expected a path");
    path_default(&cfg->control_socket, "/run/meridian-anycast/anycast.sock");

    if (cfg->hold_down_max_ms < cfg->hold_down_ms)
        return cfg_error(ctx, key_node(ctx, map, "hold_down_max"),
                         "hold_down_max: must not be below hold_down (%u ms)", cfg->hold_down_ms);
    if (strcmp(cfg->gate_device, cfg->drain_device) == 0)
        return cfg_error(ctx, key_node(ctx, map, "drain_device"),
                         "drain_device: must differ from gate_device");
    for (size_t i = 0; i < cfg->prefix_count; i++) {
        v4 |= cfg->prefixes[i].family == AF_INET;
        v6 |= cfg->prefixes[i].family == AF_INET6;
    }
    if (cfg->fallback_include) {
        size_t want = (size_t)v4 + (size_t)v6;
        if (!cfg->bird_socket)
            return cfg_error(ctx, key_node(ctx, map, "fallback_include"),
                             "fallback_include: needs bird_socket (to send `configure`)");
        if (cfg->bird_protocol_count != want)
            return cfg_error(ctx,
                             cfg->bird_protocol_count ? key_node(ctx, map, "bird_protocols")
                                                      : key_node(ctx, map, "fallback_include"),
                             "bird_protocols: fallback_include needs one static protocol per "
                             "address family of `prefixes` (%zu, IPv4 first)",
                             want);
    }
    return 0;
}

/* Loads the next document of the stream; a syntax error becomes "file:line: ...". */

/* Finds the `anycast` mapping among the top-level keys (all others belong to meridiand). */
static int
find_section(struct cfg_ctx *ctx, yaml_node_t *root, yaml_node_t **out)
{
    *out = NULL;
    if (!root)
        return cfg_error(ctx, NULL, "missing key 'anycast' at top level");
    if (root->type != YAML_MAPPING_NODE)
        return cfg_error(ctx, root, "expected a mapping at top level");
    for (yaml_node_pair_t *pair = root->data.mapping.pairs.start;
         pair < root->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = yaml_document_get_node(ctx->doc, pair->key);
        const char *name = cfg_scalar(k);
        if (!name || strcmp(name, "anycast") != 0)
            continue;
        if (*out)
            return cfg_error(ctx, k, "duplicate key 'anycast'");
        *out = yaml_document_get_node(ctx->doc, pair->value);
    }
    if (!*out)
        return cfg_error(ctx, root, "missing key 'anycast' at top level");
    return 0;
}

int
anycast_config_load(const char *path, struct anycast_config **out, char err[ANYCAST_CONFIG_ERR_MAX])
{
    struct anycast_config *cfg = xcalloc(1, sizeof(*cfg));
    struct cfg_ctx ctx = {.path = path, .err = err};
    yaml_document_t doc;
    bool have_doc = false;
    yaml_node_t *section;
    int rc = -1;

    *out = NULL;
    err[0] = '\0';
    cfg->path = xstrdup(path);
    cfg->interval_ms = 1000;
    cfg->fast_interval_ms = 200;
    cfg->timeout_ms = 500;
    cfg->tcp_every = 5;
    cfg->rise = 3;
    cfg->fall = 3;
    cfg->hold_down_ms = 5000;
    cfg->hold_down_max_ms = 300000;
    cfg->flap_reset_ms = 600000;
    cfg->drain_time_ms = 5000;
    cfg->bird_interval_ms = 2000;
    cfg->log_level = LOG_LEVEL_INFO;

    if (cfg_document_load(&ctx, &doc) < 0)
        goto out;
    have_doc = true;
    if (find_section(&ctx, yaml_document_get_root_node(&doc), &section) < 0)
        goto out;
    if (cfg_parse_mapping(&ctx, section, "anycast", anycast_keys,
                          sizeof(anycast_keys) / sizeof(anycast_keys[0]), cfg) < 0)
        goto out;
    if (finish(&ctx, section, cfg) < 0)
        goto out;
    *out = cfg;
    cfg = NULL;
    rc = 0;
out:
    if (have_doc)
        yaml_document_delete(&doc);
    anycast_config_free(cfg);
    return rc;
}

static void
free_names(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

void
anycast_config_free(struct anycast_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; cfg->prefixes && i < cfg->prefix_count; i++)
        free(cfg->prefixes[i].text);
    free(cfg->prefixes);
    for (size_t i = 0; cfg->services && i < cfg->service_count; i++)
        free(cfg->services[i].text);
    free(cfg->services);
    free(cfg->canary_name);
    free(cfg->canary_type);
    free(cfg->canary_expect);
    free(cfg->gate_device);
    free(cfg->drain_device);
    free(cfg->bird_socket);
    free_names(cfg->bird_protocols, cfg->bird_protocol_count);
    free_names(cfg->bird_drain_protocols, cfg->bird_drain_protocol_count);
    free_names(cfg->bird_peers, cfg->bird_peer_count);
    free(cfg->control_socket);
    free(cfg->meridiand_control);
    free(cfg->fallback_include);
    free(cfg->path);
    free(cfg);
}
