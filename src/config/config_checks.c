// SPDX-License-Identifier: MIT
/* The health sections (ARCHITECTURE.md §6): `checks`, a mapping of names to health checks (tcp,
 * http, https, dns, exec, file) that pool members refer to with `check: NAME`; `health`
 * (how long startup waits for the first round, how many exec checks run at once); and the
 * server's `state_file` and `control_socket`. Each check's `type` is read first, so a key
 * that does not belong to that type is reported at its own line; then the table walker reads
 * the values and the type's defaults are filled in. References from members and services
 * are checked after the whole file (cfg_check_health), as sections may come in any order.
 * Runs on the thread that calls config_load(). */
#include "config/config_checks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "common/alloc.h"
#include "common/dnswire.h"

#define CHECK_NAME_MAX 63
#define CHECK_INTERVAL_MIN_MS 100
#define CHECK_INTERVAL_MAX_MS 3600000
#define CHECK_DEFAULT_INTERVAL_MS 5000
#define CHECK_DEFAULT_TIMEOUT_MS 2000
#define CHECK_COUNT_MAX 100 /* rise and fall */
#define CHECK_TEXT_MAX 1024 /* path, host, expect_body, expect_answer */
#define HOST_MAX 255
#define STATUS_MIN 100
#define STATUS_MAX 599
#define STARTUP_WAIT_MAX_MS 600000
#define EXEC_MAX_CONCURRENT 1024

/* One bit per enum config_check_type, for the keys that only some types take. */
#define T(type) (1u << (type))
#define T_TCP T(CONFIG_CHECK_TCP)
#define T_HTTP T(CONFIG_CHECK_HTTP)
#define T_HTTPS T(CONFIG_CHECK_HTTPS)
#define T_DNS T(CONFIG_CHECK_DNS)
#define T_EXEC T(CONFIG_CHECK_EXEC)
#define T_FILE T(CONFIG_CHECK_FILE)

/* In enum config_check_type order. */
static const char *const type_names[] = {"tcp", "http", "https", "dns", "exec", "file"};

/* Keys limited to some types; a key not listed here is valid for every type. */
static const struct {
    const char *name;
    unsigned types;
} type_only_keys[] = {
    {"port", T_TCP | T_HTTP | T_HTTPS | T_DNS | T_EXEC},
    {"method", T_HTTP | T_HTTPS},
    {"path", T_HTTP | T_HTTPS},
    {"host", T_HTTP | T_HTTPS},
    {"expect_status", T_HTTP | T_HTTPS},
    {"expect_body", T_HTTP | T_HTTPS},
    {"tls_verify", T_HTTPS},
    {"qname", T_DNS},
    {"qtype", T_DNS},
    {"expect_rcode", T_DNS},
    {"expect_answer", T_DNS},
    {"command", T_EXEC},
    {"file", T_FILE},
};

/* The qtypes a dns check names by mnemonic; any other is TYPEnnn. */
static const uint16_t check_qtypes[] = {DNS_TYPE_A,     DNS_TYPE_AAAA, DNS_TYPE_TXT,
                                        DNS_TYPE_CNAME, DNS_TYPE_MX,   DNS_TYPE_NS,
                                        DNS_TYPE_SOA,   DNS_TYPE_SRV,  DNS_TYPE_PTR};

static const char *const method_names[] = {"GET", "HEAD", "POST", "PUT", "OPTIONS"};

/* Text fit for an HTTP request line or header: no spaces, no control characters (a CR or LF
 * would end the line early and let the config inject headers). */
static bool
http_token(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return false;
    return true;
}

static int
parse_type(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config_check *c = target;
    int v;

    if (cfg_parse_word(ctx, key->name, value, type_names,
                       sizeof(type_names) / sizeof(type_names[0]), &v) < 0)
        return -1;
    c->type = (enum config_check_type)v;
    return 0;
}

static int
parse_method(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config_check *c = target;
    int v;

    if (cfg_parse_word(ctx, key->name, value, method_names,
                       sizeof(method_names) / sizeof(method_names[0]), &v) < 0)
        return -1;
    c->method = xstrdup(method_names[v]);
    return 0;
}

static int
parse_path(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config_check *c = target;
    const char *s = cfg_scalar(value);

    (void)key;
    if (!s || s[0] != '/' || strlen(s) > CHECK_TEXT_MAX || !http_token(s))
        return cfg_error(ctx, value,
                         "path: expected a path starting with '/', at most %d bytes, without "
                         "spaces or control characters",
                         CHECK_TEXT_MAX);
    c->path = xstrdup(s);
    return 0;
}

static int
parse_host(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config_check *c = target;
    const char *s = cfg_scalar(value);

    (void)key;
    if (!s || s[0] == '\0' || strlen(s) > HOST_MAX || !http_token(s))
        return cfg_error(ctx, value,
                         "host: expected a host name of 1..%d bytes, without spaces or control "
                         "characters",
                         HOST_MAX);
    c->host = xstrdup(s);
    return 0;
}

/* One status code or a list of them; a lone integer is the common case. */
static int
parse_expect_status(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                    void *target)
{
    struct config_check *c = target;
    bool single = value->type == YAML_SCALAR_NODE;
    size_t n = single ? 1 : value->type == YAML_SEQUENCE_NODE ? cfg_seq_len(value) : 0;

    (void)key;
    if (n == 0)
        return cfg_error(ctx, value,
                         "expect_status: expected a status code %d..%d or a list of them",
                         STATUS_MIN, STATUS_MAX);
    c->expect_status = xcalloc(n, sizeof(*c->expect_status));
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = single ? value : cfg_seq_item(ctx, value, i);
        const char *s = cfg_scalar(item);
        uint64_t v;

        if (!s || cfg_parse_uint(s, STATUS_MAX, &v) < 0 || v < STATUS_MIN)
            return cfg_error(ctx, item, "expect_status: expected a status code %d..%d", STATUS_MIN,
                             STATUS_MAX);
        /* A repeat changes nothing and hints at a typo. */
        for (size_t j = 0; j < c->expect_status_count; j++)
            if (c->expect_status[j] == v)
                return cfg_error(ctx, item, "expect_status: %u listed twice", (unsigned)v);
        c->expect_status[c->expect_status_count++] = (uint16_t)v;
    }
    return 0;
}

static int
parse_qname(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config_check *c = target;
    const char *s = cfg_scalar(value);

    (void)key;
    if (!cfg_valid_dname(s))
        return cfg_error(ctx, value, "qname: invalid domain name '%s'", s ? s : "(not a string)");
    c->qname = cfg_absolute_dname(s);
    return 0;
}

/* Mnemonics compare case-insensitively as in zone files; TYPEnnn is RFC 3597 §5. */
static int
parse_qtype(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config_check *c = target;
    size_t n = sizeof(check_qtypes) / sizeof(check_qtypes[0]);
    int type = dnswire_type_from_text(cfg_scalar(value), check_qtypes, n, true);
    char list[128];

    (void)key;
    if (type > 0) {
        c->qtype = (uint16_t)type;
        return 0;
    }
    dnswire_type_list(check_qtypes, n, true, list, sizeof(list));
    return cfg_error(ctx, value, "qtype: expected %s", list);
}

/* A dns check asks a QUERY, so only the rcodes RFC 1035 §4.1.1 defines for it are
 * expected (0..5). */
static int
parse_expect_rcode(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config_check *c = target;
    int rcode = dnswire_rcode_from_text(cfg_scalar(value), DNS_RCODE_REFUSED);

    (void)key;
    if (rcode >= 0) {
        c->expect_rcode = (uint8_t)rcode;
        return 0;
    }
    return cfg_error(ctx, value,
                     "expect_rcode: expected NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP or "
                     "REFUSED");
}

/* A list, so arguments with spaces need no shell quoting and no shell runs. */
static int
parse_command(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config_check *c = target;
    size_t n;

    (void)key;
    if (value->type == YAML_SCALAR_NODE)
        return cfg_error(ctx, value,
                         "command: use a list of strings, e.g. [\"/usr/bin/check\", "
                         "\"{address}\"]");
    n = value->type == YAML_SEQUENCE_NODE ? cfg_seq_len(value) : 0;
    if (n == 0)
        return cfg_error(ctx, value, "command: expected a non-empty list of strings");
    c->argv = xcalloc(n + 1, sizeof(*c->argv));
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = cfg_seq_item(ctx, value, i);
        const char *s = cfg_scalar(item);

        if (!s || cfg_is_null(item))
            return cfg_error(ctx, item, "command: expected a string");
        if (i == 0 && s[0] == '\0')
            return cfg_error(ctx, item, "command: the program (first item) is empty");
        c->argv[i] = xstrdup(s);
    }
    return 0;
}

static int
parse_check_file(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config_check *c = target;
    const char *s = cfg_scalar(value);

    (void)key;
    if (!s || s[0] == '\0')
        return cfg_error(ctx, value, "file: expected a path");
    c->file = cfg_resolve_path(ctx, s);
    return 0;
}

static const struct cfg_key check_keys[] = {
    {.name = "type", .type = CFG_CUSTOM, .parse = parse_type, .required = true},
    {.name = "interval",
     .type = CFG_DURATION_MS,
     .offset = offsetof(struct config_check, interval_ms),
     .min = CHECK_INTERVAL_MIN_MS,
     .max = CHECK_INTERVAL_MAX_MS},
    {.name = "timeout",
     .type = CFG_DURATION_MS,
     .offset = offsetof(struct config_check, timeout_ms),
     .min = 1,
     .max = CHECK_INTERVAL_MAX_MS},
    {.name = "rise",
     .type = CFG_U32,
     .offset = offsetof(struct config_check, rise),
     .min = 1,
     .max = CHECK_COUNT_MAX},
    {.name = "fall",
     .type = CFG_U32,
     .offset = offsetof(struct config_check, fall),
     .min = 1,
     .max = CHECK_COUNT_MAX},
    {.name = "port",
     .type = CFG_U16,
     .offset = offsetof(struct config_check, port),
     .min = 1,
     .max = 65535},
    {.name = "method", .type = CFG_CUSTOM, .parse = parse_method},
    {.name = "path", .type = CFG_CUSTOM, .parse = parse_path},
    {.name = "host", .type = CFG_CUSTOM, .parse = parse_host},
    {.name = "expect_status", .type = CFG_CUSTOM, .parse = parse_expect_status},
    {.name = "expect_body",
     .type = CFG_STRING,
     .offset = offsetof(struct config_check, expect_body),
     .max = CHECK_TEXT_MAX},
    {.name = "tls_verify", .type = CFG_BOOL, .offset = offsetof(struct config_check, tls_verify)},
    {.name = "qname", .type = CFG_CUSTOM, .parse = parse_qname},
    {.name = "qtype", .type = CFG_CUSTOM, .parse = parse_qtype},
    {.name = "expect_rcode", .type = CFG_CUSTOM, .parse = parse_expect_rcode},
    {.name = "expect_answer",
     .type = CFG_STRING,
     .offset = offsetof(struct config_check, expect_answer),
     .max = CHECK_TEXT_MAX},
    {.name = "command", .type = CFG_CUSTOM, .parse = parse_command},
    {.name = "file", .type = CFG_CUSTOM, .parse = parse_check_file},
};

/* The value of the first `name` key of a mapping, or NULL. */
static yaml_node_t *
map_value(struct cfg_ctx *ctx, yaml_node_t *map, const char *name)
{
    for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top;
         pair++) {
        const char *s = cfg_scalar(yaml_document_get_node(ctx->doc, pair->key));
        if (s && strcmp(s, name) == 0)
            return yaml_document_get_node(ctx->doc, pair->value);
    }
    return NULL;
}

/* "tcp, http, https and dns" */
static void
format_types(unsigned types, char *out, size_t out_size)
{
    size_t count = 0, done = 0, used = 0;

    out[0] = '\0';
    for (size_t t = 0; t < sizeof(type_names) / sizeof(type_names[0]); t++)
        count += (types & T(t)) != 0;
    for (size_t t = 0; t < sizeof(type_names) / sizeof(type_names[0]) && used < out_size; t++) {
        const char *sep;
        int n;
        if (!(types & T(t)))
            continue;
        sep = done == 0 ? "" : done + 1 == count ? " and " : ", ";
        n = snprintf(out + used, out_size - used, "%s%s", sep, type_names[t]);
        used += n > 0 ? (size_t)n : 0;
        done++;
    }
}

/* Reads `type` ahead of the walk and rejects keys that belong to other types, each at its
 * own line. Without a usable `type` this does nothing: the walker reports it. */
static int
check_type_keys(struct cfg_ctx *ctx, yaml_node_t *map, struct config_check *c)
{
    yaml_node_t *type = map->type == YAML_MAPPING_NODE ? map_value(ctx, map, "type") : NULL;

    if (!type || cfg_is_null(type))
        return 0;
    if (parse_type(ctx, &check_keys[0], type, c) < 0)
        return -1;
    for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top;
         pair++) {
        yaml_node_t *k = yaml_document_get_node(ctx->doc, pair->key);
        const char *name = cfg_scalar(k);

        for (size_t i = 0; name && i < sizeof(type_only_keys) / sizeof(type_only_keys[0]); i++) {
            char types[64];
            if (strcmp(name, type_only_keys[i].name) != 0 || (type_only_keys[i].types & T(c->type)))
                continue;
            format_types(type_only_keys[i].types, types, sizeof(types));
            return cfg_error(ctx, k, "%s: only for %s checks", name, types);
        }
    }
    return 0;
}

/* Per-type required keys and defaults, and the timeout against the interval. */
static int
finish_check(struct cfg_ctx *ctx, yaml_node_t *map, const char *section, struct config_check *c)
{
    const char *missing = NULL;
    char timeout[24], interval[24];

    switch (c->type) {
    case CONFIG_CHECK_TCP:
        missing = c->port == 0 ? "port" : NULL;
        break;
    case CONFIG_CHECK_HTTP:
    case CONFIG_CHECK_HTTPS:
        if (c->port == 0)
            c->port = c->type == CONFIG_CHECK_HTTP ? 80 : 443;
        if (!c->method)
            c->method = xstrdup("GET");
        if (!c->path)
            c->path = xstrdup("/");
        if (c->expect_status_count == 0) {
            c->expect_status = xcalloc(1, sizeof(*c->expect_status));
            c->expect_status[0] = 200;
            c->expect_status_count = 1;
        }
        break;
    case CONFIG_CHECK_DNS:
        if (c->port == 0)
            c->port = 53;
        if (c->qtype == 0)
            c->qtype = DNS_TYPE_A;
        missing = c->qname ? NULL : "qname";
        break;
    case CONFIG_CHECK_EXEC:
        missing = c->argv ? NULL : "command";
        /* "{port}" is the check's own port: without one it would silently become 0. */
        for (size_t i = 0; c->argv && c->argv[i] && c->port == 0; i++)
            if (strstr(c->argv[i], "{port}")) {
                yaml_node_t *at = map_value(ctx, map, "command");
                return cfg_error(ctx, at ? at : map, "command uses {port} but %s sets no port",
                                 section);
            }
        break;
    case CONFIG_CHECK_FILE:
        missing = c->file ? NULL : "file";
        break;
    }
    /* The walker's own wording and line for a missing key. */
    if (missing)
        return cfg_error(ctx, map, "missing key '%s' in %s", missing, section);
    /* A probe still running when the next one is due would overlap it. */
    if (c->timeout_ms >= c->interval_ms) {
        yaml_node_t *at = map_value(ctx, map, "timeout");
        cfg_format_duration(c->timeout_ms, timeout, sizeof(timeout));
        cfg_format_duration(c->interval_ms, interval, sizeof(interval));
        return cfg_error(ctx, at ? at : map_value(ctx, map, "interval"),
                         "timeout %s must be less than interval %s", timeout, interval);
    }
    return 0;
}

/* Check names appear in member entries, logs, metrics labels and meridianctl output. */
static bool
valid_check_name(const char *s)
{
    size_t len = strlen(s);
    return len > 0 && len <= CHECK_NAME_MAX &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == len;
}

static const struct config_check *
find_check(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->check_count; i++)
        if (cfg->checks[i].name && strcmp(cfg->checks[i].name, name) == 0)
            return &cfg->checks[i];
    return NULL;
}

static int
parse_check(struct cfg_ctx *ctx, struct config_check *out, yaml_node_t *key_node, const char *name,
            yaml_node_t *value)
{
    struct config_check c = {
        .interval_ms = CHECK_DEFAULT_INTERVAL_MS,
        .timeout_ms = CHECK_DEFAULT_TIMEOUT_MS,
        .rise = 2,
        .fall = 3,
        .tls_verify = true,
    };
    char section[CHECK_NAME_MAX + 16];
    int rc;

    snprintf(section, sizeof(section), "check '%s'", name);
    rc = check_type_keys(ctx, value, &c);
    if (rc == 0)
        rc = cfg_parse_mapping(ctx, value, section, check_keys,
                               sizeof(check_keys) / sizeof(check_keys[0]), &c);
    if (rc == 0)
        rc = finish_check(ctx, value, section, &c);
    /* Even on failure: the config owns what was allocated. */
    *out = c;
    out->name = xstrdup(name);
    out->line = cfg_line(key_node);
    return rc;
}

int
cfg_parse_checks(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config *cfg = target;
    size_t n;

    (void)key;
    if (value->type != YAML_MAPPING_NODE)
        return cfg_error(ctx, value, "checks: expected a mapping of check names to checks");
    n = cfg_map_len(value);
    cfg->checks = xcalloc(n ? n : 1, sizeof(*cfg->checks));
    for (size_t i = 0; i < n; i++) {
        const struct config_check *first;
        const char *name;
        yaml_node_t *k, *v;

        if (cfg_map_entry(ctx, value, i, &name, &k, &v) < 0)
            return -1;
        if (!valid_check_name(name))
            return cfg_error(ctx, k,
                             "checks: invalid check name '%s' (1..%d letters, digits, '-', '_' "
                             "or '.')",
                             name, CHECK_NAME_MAX);
        first = find_check(cfg, name);
        if (first)
            return cfg_error(ctx, k, "checks: duplicate check '%s' (first at line %d)", name,
                             first->line);
        /* Counted before parsing, so config_free() sees a half-built check too. */
        cfg->check_count = i + 1;
        if (parse_check(ctx, &cfg->checks[i], k, name, v) < 0)
            return -1;
    }
    return 0;
}

static const struct cfg_key health_keys[] = {
    {.name = "startup_wait",
     .type = CFG_DURATION_MS,
     .offset = offsetof(struct config, startup_wait_ms),
     .min = 0,
     .max = STARTUP_WAIT_MAX_MS},
    {.name = "exec_max_concurrent",
     .type = CFG_U32,
     .offset = offsetof(struct config, exec_max_concurrent),
     .min = 1,
     .max = EXEC_MAX_CONCURRENT},
};

int
cfg_parse_health(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    (void)key;
    return cfg_parse_mapping(ctx, value, "health", health_keys,
                             sizeof(health_keys) / sizeof(health_keys[0]), target);
}

int
cfg_parse_state_file(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                     void *target)
{
    struct config *cfg = target;
    const char *s = cfg_scalar(value);

    (void)key;
    if (!s || s[0] == '\0')
        return cfg_error(ctx, value, "state_file: expected a path");
    cfg->state_file = cfg_resolve_path(ctx, s);
    return 0;
}

int
cfg_parse_control_socket(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                         void *target)
{
    struct config *cfg = target;
    const char *s = cfg_scalar(value);
    char *path;
    size_t len;

    (void)key;
    if (!s || s[0] == '\0')
        return cfg_error(ctx, value, "control_socket: expected a path");
    path = cfg_resolve_path(ctx, s);
    len = strlen(path);
    /* bind() would fail later, at a worse time: sun_path holds the path and its NUL. */
    if (len >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
        free(path);
        return cfg_error(ctx, value,
                         "control_socket: '%s' is too long for a UNIX socket (%zu bytes "
                         "after resolving, at most %zu)",
                         s, len, sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1);
    }
    cfg->control_socket = path;
    return 0;
}

int
cfg_check_health(struct cfg_ctx *ctx)
{
    const struct config *cfg = ctx->cfg;

    for (size_t i = 0; i < cfg->service_count; i++) {
        const struct config_service *svc = &cfg->services[i];

        /* Persisted states come from the state file; without one there is nothing to use. */
        if (svc->startup_persisted && !cfg->state_file)
            return cfg_error_at(ctx, NULL, svc->line,
                                "service '%s': startup: persisted needs server.state_file",
                                svc->name);
        for (size_t p = 0; p < svc->pool_count; p++) {
            const struct config_pool *pool = &svc->pools[p];
            for (size_t m = 0; m < pool->member_count; m++) {
                const struct config_member *mem = &pool->members[m];
                if (mem->check && !find_check(cfg, mem->check))
                    return cfg_error_at(ctx, NULL, mem->line, "unknown check '%s'", mem->check);
            }
        }
    }
    return 0;
}

void
cfg_checks_free(struct config *cfg)
{
    for (size_t i = 0; i < cfg->check_count; i++) {
        struct config_check *c = &cfg->checks[i];
        free(c->name);
        free(c->method);
        free(c->path);
        free(c->host);
        free(c->expect_status);
        free(c->expect_body);
        free(c->qname);
        free(c->expect_answer);
        for (size_t a = 0; c->argv && c->argv[a]; a++)
            free(c->argv[a]);
        free(c->argv);
        free(c->file);
    }
    free(cfg->checks);
    free(cfg->state_file);
    free(cfg->control_socket);
    free(cfg->http_listen_text);
}
