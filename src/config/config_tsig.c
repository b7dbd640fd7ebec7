// SPDX-License-Identifier: MIT
/* The `tsig_keys` section (see config_tsig.h): name -> {algorithm, secret | secret_file}. A
 * key name is a domain name (RFC 8945 §4.2: it is the TSIG record's owner), kept as written
 * for messages and as lowercased wire for the key ring. The secret is base64 (RFC 4648 §4);
 * `secret_file` names a file holding it, taken from the config's directory, which must not be
 * open to group or others (as ssh refuses a private key file others can read): a shared
 * secret readable by every local user is no secret. Runs on whichever thread calls
 * config_load(); secrets are wiped from every buffer they pass through. */
#include "config/config_tsig.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/base64.h"
#include "common/dname.h"

/* Base64 of CONFIG_TSIG_SECRET_MAX bytes, and room for a line break and blanks around it. */
#define SECRET_TEXT_MAX (BASE64_ENCODED_LEN(CONFIG_TSIG_SECRET_MAX) + 64)

static const char *const algorithm_names[] = {"hmac-sha256", "hmac-sha384", "hmac-sha512"};

const struct config_tsig_key *
config_tsig_key_find(const struct config *cfg, const char *name)
{
    uint8_t wire[DNAME_MAX_LEN], lower[DNAME_MAX_LEN];
    if (!name || dname_from_text(name, wire) < 0)
        return NULL;
    dname_lower_copy(lower, wire);
    for (size_t i = 0; i < cfg->tsig_key_count; i++)
        if (dname_equal(cfg->tsig_keys[i].name_wire, lower))
            return &cfg->tsig_keys[i];
    return NULL;
}

const char *
config_tsig_algorithm_name(enum config_tsig_algorithm algorithm)
{
    return (size_t)algorithm < sizeof(algorithm_names) / sizeof(algorithm_names[0])
               ? algorithm_names[algorithm]
               : "?";
}

/* Strips blanks and line ends around the text in place (a file usually ends in "\n"). */
static char *
trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Decodes base64 text into the key's secret. `where` names the source in messages. */
static int
store_secret(struct cfg_ctx *ctx, struct config_tsig_key *k, yaml_node_t *node, char *text,
             const char *where)
{
    uint8_t buf[CONFIG_TSIG_SECRET_MAX];
    char *s = trim(text);
    int n = strlen(s) <= SECRET_TEXT_MAX ? base64_decode(s, buf, sizeof(buf)) : -1;
    int rc = 0;
    if (n <= 0)
        rc =
            cfg_error(ctx, node, "tsig_keys: %s: %s is not a base64 secret (RFC 4648, 1..%d bytes)",
                      k->name, where, CONFIG_TSIG_SECRET_MAX);
    else {
        k->secret = xmalloc((size_t)n);
        memcpy(k->secret, buf, (size_t)n);
        k->secret_len = (size_t)n;
    }
    explicit_bzero(buf, sizeof(buf));
    return rc;
}

static int
parse_secret(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config_tsig_key *k = target;
    const char *s = cfg_scalar(value);
    (void)key;
    if (!s)
        return cfg_error(ctx, value, "tsig_keys: %s: secret: expected base64 text", k->name);
    if (k->secret || k->secret_file)
        return cfg_error(ctx, value, "tsig_keys: %s: give secret or secret_file, not both",
                         k->name);
    size_t n = strlen(s);
    char *copy = xmalloc(n + 1);
    memcpy(copy, s, n + 1);
    int rc = store_secret(ctx, k, value, copy, "secret");
    explicit_bzero(copy, n);
    free(copy);
    return rc;
}

static int
parse_secret_file(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config_tsig_key *k = target;
    const char *s = cfg_scalar(value);
    char text[SECRET_TEXT_MAX + 2];
    (void)key;
    if (!s || s[0] == '\0')
        return cfg_error(ctx, value, "tsig_keys: %s: secret_file: expected a path", k->name);
    if (k->secret || k->secret_file)
        return cfg_error(ctx, value, "tsig_keys: %s: give secret or secret_file, not both",
                         k->name);
    k->secret_file = cfg_resolve_path(ctx, s);
    char what[CONFIG_ERR_MAX];
    snprintf(what, sizeof(what), "tsig_keys: %s: secret_file", k->name);
    int rc = cfg_read_secret_file(ctx, value, k->secret_file, what, text, SECRET_TEXT_MAX);
    if (rc == 0) {
        size_t n = strlen(k->secret_file) + sizeof("secret_file ''");
        char *where = xmalloc(n);
        snprintf(where, n, "secret_file '%s'", k->secret_file);
        rc = store_secret(ctx, k, value, text, where);
        free(where);
    }
    explicit_bzero(text, sizeof(text));
    return rc;
}

static int
parse_algorithm(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config_tsig_key *k = target;
    int which;
    (void)key;
    if (cfg_parse_word(ctx, "algorithm", value, algorithm_names,
                       sizeof(algorithm_names) / sizeof(algorithm_names[0]), &which) < 0)
        return -1;
    k->algorithm = (enum config_tsig_algorithm)which;
    return 0;
}

/* RFC 8945 §6 makes HMAC-SHA256 mandatory to implement; SHA-1 and MD5 keys are not taken
 * (RFC 8945 §6: MD5 is "deprecated", SHA-1 "not recommended" for new use). */
static const struct cfg_key tsig_key_keys[] = {
    {.name = "algorithm", .type = CFG_CUSTOM, .parse = parse_algorithm, .required = true},
    {.name = "secret", .type = CFG_CUSTOM, .parse = parse_secret},
    {.name = "secret_file", .type = CFG_CUSTOM, .parse = parse_secret_file},
};

static int
parse_tsig_key(struct cfg_ctx *ctx, struct config_tsig_key *k, yaml_node_t *name_node,
               const char *name, yaml_node_t *value)
{
    uint8_t wire[DNAME_MAX_LEN];
    k->name = xstrdup(name);
    k->line = cfg_line(name_node);
    /* RFC 8945 §4.2: the key name is the TSIG record's owner, so it is a domain name; the
     * root alone would be a nameless key. */
    if (!cfg_valid_dname(name) || dname_from_text(name, wire) <= 1)
        return cfg_error(ctx, name_node, "tsig_keys: invalid key name '%s' (a domain name)", name);
    dname_lower_copy(k->name_wire, wire);
    if (value->type != YAML_MAPPING_NODE)
        return cfg_error(ctx, value,
                         "tsig_keys: %s: expected a mapping {algorithm, secret or secret_file}",
                         name);
    if (cfg_parse_mapping(ctx, value, "tsig key", tsig_key_keys,
                          sizeof(tsig_key_keys) / sizeof(tsig_key_keys[0]), k) < 0)
        return -1;
    if (!k->secret)
        return cfg_error(ctx, value, "tsig_keys: %s: missing secret or secret_file", name);
    return 0;
}

int
cfg_parse_tsig_keys(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                    void *target)
{
    struct config *cfg = target;
    (void)key;
    if (value->type != YAML_MAPPING_NODE)
        return cfg_error(ctx, value, "tsig_keys: expected a mapping of key names to keys");
    size_t n = cfg_map_len(value);
    cfg->tsig_keys = xcalloc(n ? n : 1, sizeof(*cfg->tsig_keys));
    for (size_t i = 0; i < n; i++) {
        const char *name;
        yaml_node_t *k, *v;
        if (cfg_map_entry(ctx, value, i, &name, &k, &v) < 0)
            return -1;
        /* Counted before parsing, so config_free() wipes a half-built key too. */
        cfg->tsig_key_count = i + 1;
        struct config_tsig_key *tk = &cfg->tsig_keys[i];
        if (parse_tsig_key(ctx, tk, k, name, v) < 0)
            return -1;
        /* RFC 4343: "Xfr-Key" and "xfr-key." are one name, so one key. */
        for (size_t j = 0; j < i; j++)
            if (dname_equal(cfg->tsig_keys[j].name_wire, tk->name_wire))
                return cfg_error(ctx, k, "tsig_keys: duplicate key '%s' (first at line %d)", name,
                                 cfg->tsig_keys[j].line);
    }
    return 0;
}

void
cfg_tsig_free(struct config *cfg)
{
    for (size_t i = 0; i < cfg->tsig_key_count; i++) {
        struct config_tsig_key *k = &cfg->tsig_keys[i];
        if (k->secret)
            explicit_bzero(k->secret, k->secret_len);
        free(k->secret);
        free(k->secret_file);
        free(k->name);
    }
    free(cfg->tsig_keys);
}
