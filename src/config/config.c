// SPDX-License-Identifier: MIT
/* The configuration loader: reads one YAML file with libyaml's document API, walks it with
 * the per-section key tables below and fills a `struct config`, applying defaults for what
 * is absent. Errors come back as "file:line: message". Runs on the main or loader thread;
 * the result is immutable afterwards. A new section is a new table plus one top-level entry;
 * the steering sections (geoip, services) live in config_geoip.c, config_services.c and
 * config_nets.c, the health sections (checks, health) in config_checks.c, TSIG keys in
 * config_tsig.c. */
#include "config/config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/dname.h"
#include "common/log.h"
#include "common/sockaddr.h"
#include "config/config_checks.h"
#include "config/config_dnssec.h"
#include "config/config_dnstap.h"
#include "config/config_rrl.h"
#include "config/config_secondary.h"
#include "config/config_transfer.h"
#include "config/config_services.h"
#include "config/config_tsig.h"
#include "config/config_yaml.h"

#define CONFIG_DEFAULT_VERSION "Meridian 0.1.0"
#define CONFIG_WORKERS_MAX 256
#define CONFIG_NSID_MAX 512 /* our limit; RFC 5001 only bounds it by the option length */
#define CONFIG_TXT_MAX 255  /* one TXT character-string (RFC 1035 §3.3.14) for CHAOS answers */

static const char *const default_listen[] = {"127.0.0.1:53", "[::1]:53"};

/* server: */

static int
parse_listen_address(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                     void *target)
{
    struct config_listen *l = target;
    const char *s = cfg_scalar(value);

    (void)key;
    if (!s || sockaddr_parse(s, 53, &l->addr, &l->addr_len) < 0)
        return cfg_error(ctx, value,
                         "listen: invalid address '%s' (expected IP, IP:port or [IPv6]:port)",
                         s ? s : "(not a string)");
    l->text = xstrdup(s);
    return 0;
}

/* RFC 7871 §7.1.2: a server may ignore ECS; per listener, so e.g. a resolver-facing address
 * honours it while an anycast probe address does not. */
static int
parse_listen_ecs(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config_listen *l = target;
    const char *s = cfg_scalar(value);

    (void)key;
    if (s && strcmp(s, "honour") == 0)
        l->ecs_ignore = false;
    else if (s && strcmp(s, "ignore") == 0)
        l->ecs_ignore = true;
    else
        return cfg_error(ctx, value, "ecs: expected honour or ignore");
    return 0;
}

static const struct cfg_key listen_keys[] = {
    {.name = "address", .type = CFG_CUSTOM, .parse = parse_listen_address, .required = true},
    {.name = "ecs", .type = CFG_CUSTOM, .parse = parse_listen_ecs},
};

/* A listen entry is "IP:port" or {address: "IP:port", ecs: honour|ignore}. */
static int
parse_one_listen(struct cfg_ctx *ctx, yaml_node_t *node, struct config_listen *out)
{
    if (node->type == YAML_MAPPING_NODE)
        return cfg_parse_mapping(ctx, node, "listen entry", listen_keys,
                                 sizeof(listen_keys) / sizeof(listen_keys[0]), out);
    return parse_listen_address(ctx, NULL, node, out);
}

static int
parse_listen(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config *cfg = target;
    bool single = value->type == YAML_SCALAR_NODE;
    size_t n;

    (void)key;
    /* A lone string is the common one-address case; accept it as a list of one. */
    if (!single && value->type != YAML_SEQUENCE_NODE)
        return cfg_error(ctx, value, "listen: expected an address or a list of addresses");
    n = single ? 1 : cfg_seq_len(value);
    if (n == 0)
        return cfg_error(ctx, value, "listen: expected at least one address");
    cfg->listen = xcalloc(n, sizeof(*cfg->listen));
    cfg->listen_count = n;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = single ? value : cfg_seq_item(ctx, value, i);
        struct config_listen *l = &cfg->listen[i];
        if (parse_one_listen(ctx, item, l) < 0)
            return -1;
        /* With SO_REUSEPORT a second bind to the same address would silently succeed. */
        for (size_t j = 0; j < i; j++)
            if (cfg->listen[j].addr_len == l->addr_len &&
                memcmp(&cfg->listen[j].addr, &l->addr, l->addr_len) == 0)
                return cfg_error(ctx, item, "listen: duplicate address '%s'", l->text);
    }
    return 0;
}

static int
parse_workers(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config *cfg = target;
    const char *s = cfg_scalar(value);
    uint64_t v;

    (void)key;
    if (s && strcmp(s, "auto") == 0) {
        cfg->workers = 0; /* resolved in apply_defaults() */
        return 0;
    }
    if (!s || cfg_parse_uint(s, CONFIG_WORKERS_MAX, &v) < 0 || v == 0)
        return cfg_error(ctx, value, "workers: expected 'auto' or an integer 1..%d",
                         CONFIG_WORKERS_MAX);
    cfg->workers = (unsigned)v;
    return 0;
}

static int
hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* RFC 5001 §2.3: the payload is opaque bytes; text is taken as is, "hex:..." for binary. */
static int
parse_nsid(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config *cfg = target;
    const char *s = cfg_scalar(value);
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = -1;

    (void)key;
    if (s && strncmp(s, "hex:", 4) == 0) {
        const char *hex = s + 4;
        size_t digits = strlen(hex);
        if (digits % 2 != 0 || digits / 2 > CONFIG_NSID_MAX)
            goto out;
        len = digits / 2;
        buf = xmalloc(len ? len : 1);
        for (size_t i = 0; i < len; i++) {
            int hi = hex_nibble(hex[2 * i]), lo = hex_nibble(hex[2 * i + 1]);
            if (hi < 0 || lo < 0)
                goto out;
            buf[i] = (uint8_t)(hi << 4 | lo);
        }
    } else if (s) {
        len = strlen(s);
        if (len > CONFIG_NSID_MAX)
            goto out;
        buf = xmalloc(len ? len : 1);
        memcpy(buf, s, len);
    }
    if (len > 0) {
        cfg->nsid = buf;
        cfg->nsid_len = len;
        buf = NULL;
        rc = 0;
    }
out:
    free(buf);
    if (rc < 0)
        cfg_error(ctx, value, "nsid: expected text or hex:<hex digits>, 1..%d bytes",
                  CONFIG_NSID_MAX);
    return rc;
}

/* getpwnam_r/getgrnam_r want a caller's buffer; 16 KiB covers any sane passwd/group entry
 * (a group with thousands of members would need more: ERANGE is then reported). */
#define CONFIG_PW_BUF 16384

/* server.user: resolved now, so a typo fails `meridiand -n` at its line rather than the start
 * after the sockets are bound. */
static int
parse_user(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config *cfg = target;
    const char *s = cfg_scalar(value);
    struct passwd pw, *found = NULL;
    char *buf = xmalloc(CONFIG_PW_BUF);
    int rc;

    (void)key;
    if (!s || s[0] == '\0' || cfg_is_null(value)) {
        free(buf);
        return cfg_error(ctx, value, "user: expected a user name");
    }
    rc = getpwnam_r(s, &pw, buf, CONFIG_PW_BUF, &found);
    if (rc != 0 || !found) {
        free(buf);
        return cfg_error(ctx, value, "user: no such user '%s'%s%s", s, rc ? ": " : "",
                         rc ? strerror(rc) : "");
    }
    cfg->user = xstrdup(s);
    cfg->uid = pw.pw_uid;
    if (!cfg->group)
        cfg->gid = pw.pw_gid; /* the user's primary group unless `group` says otherwise */
    free(buf);
    return 0;
}

static int
parse_group(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config *cfg = target;
    const char *s = cfg_scalar(value);
    struct group gr, *found = NULL;
    char *buf = xmalloc(CONFIG_PW_BUF);
    int rc;

    (void)key;
    if (!s || s[0] == '\0' || cfg_is_null(value)) {
        free(buf);
        return cfg_error(ctx, value, "group: expected a group name");
    }
    rc = getgrnam_r(s, &gr, buf, CONFIG_PW_BUF, &found);
    if (rc != 0 || !found) {
        free(buf);
        return cfg_error(ctx, value, "group: no such group '%s'%s%s", s, rc ? ": " : "",
                         rc ? strerror(rc) : "");
    }
    cfg->group = xstrdup(s);
    cfg->gid = gr.gr_gid;
    cfg->group_line = cfg_line(value);
    free(buf);
    return 0;
}

/* server.log_format: text lines (default) or one JSON object a line for log collectors. */
static int
parse_log_format(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                 void *target)
{
    struct config *cfg = target;
    const char *s = cfg_scalar(value);
    (void)key;
    if (s && strcmp(s, "text") == 0)
        cfg->log_format = LOG_FORMAT_TEXT;
    else if (s && strcmp(s, "json") == 0)
        cfg->log_format = LOG_FORMAT_JSON;
    else
        return cfg_error(ctx, value, "log_format: expected text or json");
    return 0;
}

/* server.http_listen: "IP:port" of the metrics and status listener (default port 8053). */
static int
parse_http_listen(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                  void *target)
{
    struct config *cfg = target;
    const char *s = cfg_scalar(value);
    (void)key;
    if (!s || cfg_is_null(value) ||
        sockaddr_parse(s, 8053, &cfg->http_listen, &cfg->http_listen_len) < 0)
        return cfg_error(ctx, value,
                         "http_listen: invalid address '%s' (expected IP, IP:port or "
                         "[IPv6]:port)",
                         s ? s : "(not a string)");
    free(cfg->http_listen_text);
    cfg->http_listen_text = xstrdup(s);
    return 0;
}

/* server.xdp.mode: auto, native or generic. */
static int
parse_xdp_mode(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config_xdp *x = target;
    const char *s = cfg_scalar(value);
    (void)key;
    if (s && strcmp(s, "auto") == 0)
        x->mode = CONFIG_XDP_AUTO;
    else if (s && strcmp(s, "native") == 0)
        x->mode = CONFIG_XDP_NATIVE;
    else if (s && strcmp(s, "generic") == 0)
        x->mode = CONFIG_XDP_GENERIC;
    else
        return cfg_error(ctx, value, "xdp: mode: expected auto, native or generic");
    return 0;
}

static const struct cfg_key xdp_keys[] = {
    /* IFNAMSIZ holds the name and its NUL. */
    {.name = "interface",
     .type = CFG_STRING,
     .offset = offsetof(struct config_xdp, interface),
     .max = 15,
     .required = true},
    {.name = "mode", .type = CFG_CUSTOM, .parse = parse_xdp_mode},
    {.name = "zero_copy", .type = CFG_BOOL, .offset = offsetof(struct config_xdp, zero_copy)},
};

/* server.xdp: the AF_XDP fast path for UDP on one interface (net/xdp.h). */
static int
parse_xdp(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config *cfg = target;
    (void)key;
    cfg->xdp.zero_copy = true;
    cfg->xdp.line = cfg_line(value);
    return cfg_parse_mapping(ctx, value, "xdp", xdp_keys, sizeof(xdp_keys) / sizeof(xdp_keys[0]),
                             &cfg->xdp);
}

static const struct cfg_key server_keys[] = {
    {.name = "listen", .type = CFG_CUSTOM, .parse = parse_listen},
    {.name = "workers", .type = CFG_CUSTOM, .parse = parse_workers},
    {.name = "identity",
     .type = CFG_STRING,
     .offset = offsetof(struct config, identity),
     .max = CONFIG_TXT_MAX},
    {.name = "version",
     .type = CFG_STRING,
     .offset = offsetof(struct config, version),
     .max = CONFIG_TXT_MAX},
    {.name = "hide_identity", .type = CFG_BOOL, .offset = offsetof(struct config, hide_identity)},
    {.name = "hide_version", .type = CFG_BOOL, .offset = offsetof(struct config, hide_version)},
    {.name = "nsid", .type = CFG_CUSTOM, .parse = parse_nsid},
    {.name = "udp_max_size",
     .type = CFG_U16,
     .offset = offsetof(struct config, udp_max_size),
     .min = 512,
     .max = 65535},
    {.name = "tcp_idle_timeout",
     .type = CFG_DURATION_MS,
     .offset = offsetof(struct config, tcp_idle_timeout_ms),
     .min = 1,
     .max = 3600000},
    {.name = "tcp_io_timeout",
     .type = CFG_DURATION_MS,
     .offset = offsetof(struct config, tcp_io_timeout_ms),
     .min = 1,
     .max = 3600000},
    {.name = "tcp_max_per_client",
     .type = CFG_U32,
     .offset = offsetof(struct config, tcp_max_per_client),
     .min = 0,
     .max = 65535},
    {.name = "tcp_max_connections",
     .type = CFG_U32,
     .offset = offsetof(struct config, tcp_max_connections),
     .min = 1,
     .max = 65535},
    {.name = "tcp_max_pipelined",
     .type = CFG_U32,
     .offset = offsetof(struct config, tcp_max_pipelined),
     .min = 1,
     .max = 256},
    {.name = "log_level",
     .type = CFG_CUSTOM,
     .offset = offsetof(struct config, log_level),
     .parse = cfg_parse_log_level},
    {.name = "log_format", .type = CFG_CUSTOM, .parse = parse_log_format},
    {.name = "http_listen", .type = CFG_CUSTOM, .parse = parse_http_listen},
    {.name = "state_file", .type = CFG_CUSTOM, .parse = cfg_parse_state_file},
    {.name = "key_directory", .type = CFG_CUSTOM, .parse = cfg_parse_key_directory},
    {.name = "journal", .type = CFG_BOOL, .offset = offsetof(struct config, journal)},
    {.name = "journal_directory", .type = CFG_CUSTOM, .parse = cfg_parse_journal_directory},
    {.name = "control_socket", .type = CFG_CUSTOM, .parse = cfg_parse_control_socket},
    {.name = "user", .type = CFG_CUSTOM, .parse = parse_user},
    {.name = "group", .type = CFG_CUSTOM, .parse = parse_group},
    {.name = "dnstap", .type = CFG_CUSTOM, .parse = cfg_parse_dnstap},
    {.name = "xdp", .type = CFG_CUSTOM, .parse = parse_xdp},
    {.name = "rrl", .type = CFG_CUSTOM, .parse = cfg_parse_rrl},
    {.name = "cookie_secret_file", .type = CFG_CUSTOM, .parse = cfg_parse_cookie_secret_file},
};

static int
parse_server(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    (void)key;
    return cfg_parse_mapping(ctx, value, "server", server_keys,
                             sizeof(server_keys) / sizeof(server_keys[0]), target);
}

/* zones: */

static int
parse_origin(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config_zone *zone = target;
    const char *s = cfg_scalar(value);
    uint8_t wire[DNAME_MAX_LEN];

    (void)key;
    /* dname_from_text reads "" as the root; an empty origin is a mistake, not ".". */
    if (!s || s[0] == '\0' || dname_from_text(s, wire) < 0)
        return cfg_error(ctx, value, "origin: invalid domain name '%s'", s ? s : "(not a string)");
    zone->origin = xstrdup(s);
    return 0;
}

static int
parse_zone_file(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config_zone *zone = target;
    const char *s = cfg_scalar(value);

    (void)key;
    if (!s || s[0] == '\0')
        return cfg_error(ctx, value, "file: expected a path");
    zone->file = cfg_resolve_path(ctx, s);
    return 0;
}

/* A count or size: digits, and for a size an optional K, M or G (powers of 1024, as Knot's
 * zone-max-size takes them); at least 1. */
static int
parse_zone_bound(struct cfg_ctx *ctx, yaml_node_t *value, const char *name, bool size,
                 uint64_t *out)
{
    const char *s = cfg_scalar(value);
    char digits[32];
    size_t n = s ? strlen(s) : 0;
    unsigned shift = 0;
    if (size && n > 1) {
        char unit = (char)(s[n - 1] & ~0x20); /* upper case */
        shift = unit == 'K' ? 10u : unit == 'M' ? 20u : unit == 'G' ? 30u : 0u;
        if (shift)
            n--;
    }
    uint64_t v;
    if (!s || n == 0 || n >= sizeof(digits))
        return cfg_error(ctx, value, "%s: expected a positive number%s", name,
                         size ? " (optionally ending in K, M or G)" : "");
    memcpy(digits, s, n);
    digits[n] = '\0';
    if (cfg_parse_uint(digits, UINT64_MAX >> 30, &v) < 0 || v == 0)
        return cfg_error(ctx, value, "%s: expected a positive number%s, not '%s'", name,
                         size ? " (optionally ending in K, M or G)" : "", s);
    *out = v << shift;
    return 0;
}

static int
parse_zone_max_records(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                       void *target)
{
    (void)key;
    return parse_zone_bound(ctx, value, "max_records", false,
                            &((struct config_zone *)target)->max_records);
}

static int
parse_zone_max_size(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                    void *target)
{
    (void)key;
    return parse_zone_bound(ctx, value, "max_size", true,
                            &((struct config_zone *)target)->max_bytes);
}

static const struct cfg_key zone_keys[] = {
    {.name = "origin", .type = CFG_CUSTOM, .parse = parse_origin, .required = true},
    {.name = "file", .type = CFG_CUSTOM, .parse = parse_zone_file},
    {.name = "primaries", .type = CFG_CUSTOM, .parse = cfg_parse_zone_primaries},
    {.name = "dnssec", .type = CFG_CUSTOM, .parse = cfg_parse_zone_dnssec},
    {.name = "transfer", .type = CFG_CUSTOM, .parse = cfg_parse_zone_transfer},
    {.name = "notify", .type = CFG_CUSTOM, .parse = cfg_parse_zone_notify},
    {.name = "catalog", .type = CFG_CUSTOM, .parse = cfg_parse_zone_catalog},
    {.name = "max_records", .type = CFG_CUSTOM, .parse = parse_zone_max_records},
    {.name = "max_size", .type = CFG_CUSTOM, .parse = parse_zone_max_size},
    {.name = "journal", .type = CFG_CUSTOM, .parse = cfg_parse_zone_journal},
};

/* The error goes to the earliest entry that repeats an origin seen before it. */
static int
check_duplicate_zones(struct cfg_ctx *ctx, yaml_node_t *seq)
{
    struct config *cfg = ctx->cfg;
    const char **names = xcalloc(cfg->zone_count ? cfg->zone_count : 1, sizeof(*names));
    size_t dup, first;
    int rc = 0;

    for (size_t i = 0; i < cfg->zone_count; i++)
        names[i] = cfg->zones[i].origin;
    if (cfg_find_duplicate_dname(names, cfg->zone_count, &dup, &first))
        rc = cfg_error(ctx, cfg_seq_item(ctx, seq, dup), "duplicate zone '%s' (first at line %d)",
                       cfg->zones[dup].origin, cfg->zones[first].line);
    free(names);
    return rc;
}

static int
parse_zones(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config *cfg = target;
    size_t n;

    (void)key;
    if (value->type != YAML_SEQUENCE_NODE)
        return cfg_error(ctx, value, "zones: expected a list of zones");
    n = cfg_seq_len(value);
    if (n == 0)
        return cfg_error(ctx, value, "zones: expected at least one zone");
    cfg->zones = xcalloc(n, sizeof(*cfg->zones));
    cfg->zone_count = n;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = cfg_seq_item(ctx, value, i);
        cfg->zones[i].line = cfg_line(item);
        cfg->zones[i].max_records = CONFIG_ZONE_MAX_RECORDS;
        cfg->zones[i].max_bytes = CONFIG_ZONE_MAX_BYTES;
        if (cfg_parse_mapping(ctx, item, "zones entry", zone_keys,
                              sizeof(zone_keys) / sizeof(zone_keys[0]), &cfg->zones[i]) < 0)
            return -1;
        /* A zone comes from its file, or from its primaries (the file then keeps the copy). */
        if (!cfg->zones[i].file && !cfg->zones[i].primaries && !cfg->zones[i].catalog_produce)
            return cfg_error(ctx, item, "missing key 'file' in zones entry (or 'primaries' for "
                                        "a secondary zone)");
    }
    return check_duplicate_zones(ctx, value);
}

/* `anycast` belongs to meridian-anycast, which reads the same file: skipped here. */
static int
skip_section(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    (void)ctx;
    (void)key;
    (void)value;
    (void)target;
    return 0;
}

/* The top level: one entry per section. */
static const struct cfg_key top_keys[] = {
    {.name = "anycast", .type = CFG_CUSTOM, .parse = skip_section},
    {.name = "server", .type = CFG_CUSTOM, .parse = parse_server},
    {.name = "zones", .type = CFG_CUSTOM, .parse = parse_zones, .required = true},
    {.name = "geoip", .type = CFG_CUSTOM, .parse = cfg_parse_geoip},
    {.name = "services", .type = CFG_CUSTOM, .parse = cfg_parse_services},
    {.name = "health", .type = CFG_CUSTOM, .parse = cfg_parse_health},
    {.name = "checks", .type = CFG_CUSTOM, .parse = cfg_parse_checks},
    {.name = "tsig_keys", .type = CFG_CUSTOM, .parse = cfg_parse_tsig_keys},
};

/* Defaults for what the file left out. Numbers are preset before parsing (see config_load);
 * these need allocation or a system call, so they are only filled in if still unset. */
static void
apply_defaults(struct config *cfg)
{
    if (cfg->listen_count == 0) {
        size_t n = sizeof(default_listen) / sizeof(default_listen[0]);
        cfg->listen = xcalloc(n, sizeof(*cfg->listen));
        cfg->listen_count = n;
        for (size_t i = 0; i < n; i++) {
            struct config_listen *l = &cfg->listen[i];
            if (sockaddr_parse(default_listen[i], 53, &l->addr, &l->addr_len) < 0)
                abort(); /* our own constant */
            l->text = xstrdup(default_listen[i]);
        }
    }
    if (cfg->workers == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->workers = cpus < 1                    ? 1
                       : cpus > CONFIG_WORKERS_MAX ? CONFIG_WORKERS_MAX
                                                   : (unsigned)cpus;
    }
    if (!cfg->identity) {
        char host[CONFIG_TXT_MAX + 1] = "";
        /* POSIX leaves truncation unterminated; the last byte stays NUL. */
        if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == '\0')
            snprintf(host, sizeof(host), "localhost");
        cfg->identity = xstrdup(host);
    }
    if (!cfg->version)
        cfg->version = xstrdup(CONFIG_DEFAULT_VERSION);
    cfg_geoip_defaults(cfg);
}

/* Loads the next document of the stream; a syntax error becomes "file:line: ...". */

int
config_load(const char *path, struct config **out, char err[CONFIG_ERR_MAX])
{
    struct config *cfg = xcalloc(1, sizeof(*cfg));
    struct cfg_ctx ctx = {.path = path, .err = err, .cfg = cfg};
    yaml_document_t doc;
    bool have_doc = false;
    yaml_node_t *root;
    int rc = -1;

    *out = NULL;
    err[0] = '\0';
    cfg->path = xstrdup(path);
    cfg->udp_max_size = 1232;
    cfg->tcp_idle_timeout_ms = 10000;
    cfg->tcp_max_connections = 512;
    cfg->tcp_io_timeout_ms = 2000;
    cfg->tcp_max_per_client = 64;
    cfg->tcp_max_pipelined = 16;
    cfg->journal = true;
    cfg_rrl_defaults(cfg);
    cfg->log_level = LOG_LEVEL_INFO;
    cfg->startup_wait_ms = CONFIG_DEFAULT_STARTUP_WAIT_MS;
    cfg->exec_max_concurrent = CONFIG_DEFAULT_EXEC_MAX_CONCURRENT;

    if (cfg_document_load(&ctx, &doc) < 0)
        goto out;
    have_doc = true;

    root = yaml_document_get_root_node(&doc);
    if (!root) {
        cfg_error(&ctx, NULL, "missing key 'zones' at top level");
        goto out;
    }
    if (cfg_parse_mapping(&ctx, root, NULL, top_keys, sizeof(top_keys) / sizeof(top_keys[0]), cfg) <
        0)
        goto out;
    /* Checks across sections: a service may come before the geoip section it needs. */
    if (cfg_check_services(&ctx) < 0)
        goto out;
    if (cfg_check_health(&ctx) < 0 || cfg_check_dnssec(&ctx) < 0 ||
        cfg_check_transfer(&ctx) < 0 || cfg_check_secondary(&ctx) < 0)
        goto out;
    /* Switching the group alone would leave the process root: say what is missing. */
    if (cfg->group && !cfg->user) {
        cfg_error_at(&ctx, NULL, cfg->group_line, "group: needs server.user as well");
        goto out;
    }
    apply_defaults(cfg);
    *out = cfg;
    cfg = NULL;
    rc = 0;
out:
    if (have_doc)
        yaml_document_delete(&doc);
    config_free(cfg);
    return rc;
}

void
config_free(struct config *cfg)
{
    if (!cfg)
        return;
    cfg_dnssec_free(cfg);
    cfg_transfer_free(cfg);
    cfg_secondary_free(cfg);
    cfg_dnstap_free(cfg);
    free(cfg->xdp.interface);
    for (size_t i = 0; i < cfg->listen_count; i++)
        free(cfg->listen[i].text);
    free(cfg->listen);
    for (size_t i = 0; i < cfg->zone_count; i++) {
        free(cfg->zones[i].origin);
        free(cfg->zones[i].file);
    }
    free(cfg->zones);
    cfg_geoip_free(cfg);
    cfg_services_free(cfg);
    cfg_checks_free(cfg);
    cfg_tsig_free(cfg);
    cfg_rrl_free(cfg);
    free(cfg->identity);
    free(cfg->version);
    free(cfg->nsid);
    free(cfg->user);
    free(cfg->group);
    free(cfg->path);
    free(cfg);
}
