// SPDX-License-Identifier: MIT
/* `server.rrl` (response rate limiting, see README "Abuse resistance") and
 * `server.cookie_secret_file` (DNS cookies, RFC 7873 with RFC 9018 server cookies). The
 * secret file holds one or two lines of 32 hex digits (16 octets, the SipHash-2-4 key of RFC
 * 9018 §4.4): the current secret, then, during a rollover, the previous one, still accepted
 * (RFC 9018 §5). It is checked like a TSIG secret file: regular, closed to group and others.
 * Runs on whichever thread calls config_load(); secrets are wiped from the buffers they pass
 * through. */
#include "config/config_rrl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_services.h"

#define RRL_DEFAULT_RATE 20
#define RRL_DEFAULT_SLIP 2
#define RRL_DEFAULT_TABLE_SIZE 262144
#define RRL_DEFAULT_LARGE_SIZE 1024
/* Two lines of 32 hex digits with their line breaks, and some blanks. */
#define COOKIE_FILE_MAX 128

/* A prefix length 0..key->max into the uint8_t at key->offset. */
static int
parse_prefix_len(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    const char *s = cfg_scalar(value);
    uint64_t v;
    if (!s || cfg_parse_uint(s, key->max, &v) < 0)
        return cfg_error(ctx, value, "rrl: %s: expected a prefix length 0..%u", key->name,
                         key->max);
    *((uint8_t *)target + key->offset) = (uint8_t)v;
    return 0;
}

static int
parse_exempt(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config_rrl *r = target;
    (void)key;
    return cfg_parse_prefix_list(ctx, "rrl: exempt", value, &r->exempt, &r->exempt_count);
}

static const struct cfg_key rrl_keys[] = {
    {.name = "enabled", .type = CFG_BOOL, .offset = offsetof(struct config_rrl, enabled)},
    {.name = "rate",
     .type = CFG_U32,
     .offset = offsetof(struct config_rrl, rate),
     .min = 1,
     .max = 16000}, /* rrl.c keeps a bucket's credit in 24 bits of 1/1000 response */
    {.name = "slip", .type = CFG_U32, .offset = offsetof(struct config_rrl, slip), .max = 100},
    {.name = "ipv4_prefix",
     .type = CFG_CUSTOM,
     .parse = parse_prefix_len,
     .offset = offsetof(struct config_rrl, ipv4_prefix),
     .max = 32},
    {.name = "ipv6_prefix",
     .type = CFG_CUSTOM,
     .parse = parse_prefix_len,
     .offset = offsetof(struct config_rrl, ipv6_prefix),
     .max = 128},
    {.name = "exempt", .type = CFG_CUSTOM, .parse = parse_exempt},
    {.name = "exempt_loopback",
     .type = CFG_BOOL,
     .offset = offsetof(struct config_rrl, exempt_loopback)},
    {.name = "table_size",
     .type = CFG_U32,
     .offset = offsetof(struct config_rrl, table_size),
     .min = 1024,
     .max = 1u << 26},
    {.name = "large_size",
     .type = CFG_U32,
     .offset = offsetof(struct config_rrl, large_size),
     .min = 512,
     .max = 65535},
    {.name = "log_only", .type = CFG_BOOL, .offset = offsetof(struct config_rrl, log_only)},
};

int
cfg_parse_rrl(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config *cfg = target;
    (void)key;
    return cfg_parse_mapping(ctx, value, "rrl", rrl_keys, sizeof(rrl_keys) / sizeof(rrl_keys[0]),
                             &cfg->rrl);
}

static int
hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One line of exactly 32 hex digits (blanks around it ignored) into out; returns the text
 * after it, or NULL. */
static const char *
parse_secret_line(const char *p, uint8_t out[16])
{
    while (*p == ' ' || *p == '\t')
        p++;
    for (int i = 0; i < 16; i++) {
        int hi = hex_value((unsigned char)p[0]), lo = hi < 0 ? -1 : hex_value((unsigned char)p[1]);
        if (hi < 0 || lo < 0)
            return NULL;
        out[i] = (uint8_t)(hi << 4 | lo);
        p += 2;
    }
    while (*p == ' ' || *p == '\t' || *p == '\r')
        p++;
    if (*p != '\n' && *p != '\0')
        return NULL;
    return *p ? p + 1 : p;
}

int
cfg_parse_cookie_secret_file(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                             void *target)
{
    struct config *cfg = target;
    struct config_cookies *c = &cfg->cookies;
    const char *s = cfg_scalar(value);
    char text[COOKIE_FILE_MAX + 2];
    (void)key;
    if (!s || s[0] == '\0')
        return cfg_error(ctx, value, "cookie_secret_file: expected a path");
    c->secret_file = cfg_resolve_path(ctx, s);
    c->line = cfg_line(value);
    int rc = cfg_read_secret_file(ctx, value, c->secret_file, "cookie_secret_file", text,
                                  COOKIE_FILE_MAX);
    if (rc == 0) {
        const char *p = parse_secret_line(text, c->secret);
        if (p && *p) {
            p = parse_secret_line(p, c->previous);
            c->has_previous = p != NULL;
        }
        if (!p || *p) {
            rc = cfg_error(ctx, value,
                           "cookie_secret_file '%s': expected one or two lines of 32 hex "
                           "digits (the current secret, then the previous one)",
                           c->secret_file);
        }
    }
    explicit_bzero(text, sizeof(text));
    return rc;
}

void
cfg_rrl_defaults(struct config *cfg)
{
    cfg->rrl.enabled = true;
    /* Off, as BIND and Knot exempt nothing by default: a flood from loopback (an operator's
     * or an outside check's) must see the limit work. A local front end sets it true. */
    cfg->rrl.exempt_loopback = false;
    cfg->rrl.rate = RRL_DEFAULT_RATE;
    cfg->rrl.slip = RRL_DEFAULT_SLIP;
    cfg->rrl.ipv4_prefix = 24;
    cfg->rrl.ipv6_prefix = 56;
    cfg->rrl.table_size = RRL_DEFAULT_TABLE_SIZE;
    cfg->rrl.large_size = RRL_DEFAULT_LARGE_SIZE;
}

void
cfg_rrl_free(struct config *cfg)
{
    free(cfg->rrl.exempt);
    free(cfg->cookies.secret_file);
    explicit_bzero(cfg->cookies.secret, sizeof(cfg->cookies.secret));
    explicit_bzero(cfg->cookies.previous, sizeof(cfg->cookies.previous));
}
