// SPDX-License-Identifier: MIT
/* Generic helpers for the config loader: error formatting with line numbers, strict scalar
 * parsing (integers, booleans, durations) and the table-driven mapping walker that every
 * section uses. Input is a loaded libyaml document; output goes into the caller's structs by
 * offset. Runs on the thread that calls config_load(); no global state. */
#include "config/config_yaml.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/dname.h"
#include "common/log.h"
#include "config/config.h"

static int vformat_error(struct cfg_ctx *ctx, const char *file, int line, const char *fmt,
                         va_list ap) __attribute__((format(printf, 4, 0)));

static int
vformat_error(struct cfg_ctx *ctx, const char *file, int line, const char *fmt, va_list ap)
{
    int n = snprintf(ctx->err, CONFIG_ERR_MAX, "%s:%d: ", file, line);
    /* A path longer than the buffer leaves no room for the message; keep what fits. */
    if (n >= 0 && n < CONFIG_ERR_MAX)
        vsnprintf(ctx->err + n, (size_t)(CONFIG_ERR_MAX - n), fmt, ap);
    return -1;
}

int
cfg_error(struct cfg_ctx *ctx, const yaml_node_t *node, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat_error(ctx, ctx->path, cfg_line(node), fmt, ap);
    va_end(ap);
    return -1;
}

int
cfg_error_at(struct cfg_ctx *ctx, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat_error(ctx, file ? file : ctx->path, line, fmt, ap);
    va_end(ap);
    return -1;
}

int
cfg_line(const yaml_node_t *node)
{
    /* libyaml marks are 0-based; editors and our messages count from 1. */
    return node ? (int)node->start_mark.line + 1 : 1;
}

const char *
cfg_scalar(const yaml_node_t *node)
{
    return node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : NULL;
}

/* `key:` with nothing after it, or an explicit ~/null: YAML 1.1 reads these as null, which
 * no key of ours accepts. A quoted "" is a string, not null. */
bool
cfg_is_null(const yaml_node_t *node)
{
    const char *s = cfg_scalar(node);
    if (!s || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
           strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

yaml_node_t *
cfg_seq_item(struct cfg_ctx *ctx, yaml_node_t *seq, size_t i)
{
    return yaml_document_get_node(ctx->doc, seq->data.sequence.items.start[i]);
}

size_t
cfg_seq_len(const yaml_node_t *seq)
{
    return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

size_t
cfg_map_len(const yaml_node_t *map)
{
    return (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
}

int
cfg_map_entry(struct cfg_ctx *ctx, yaml_node_t *map, size_t i, const char **name, yaml_node_t **key,
              yaml_node_t **value)
{
    yaml_node_pair_t *pair = &map->data.mapping.pairs.start[i];
    *key = yaml_document_get_node(ctx->doc, pair->key);
    *value = yaml_document_get_node(ctx->doc, pair->value);
    *name = cfg_scalar(*key);
    if (!*name)
        return cfg_error(ctx, *key, "expected a key name, not a %s",
                         (*key)->type == YAML_MAPPING_NODE ? "mapping" : "list");
    if (cfg_is_null(*value))
        return cfg_error(ctx, *value, "%s: missing value", *name);
    return 0;
}

char *
cfg_resolve_path(const struct cfg_ctx *ctx, const char *path)
{
    const char *slash = strrchr(ctx->path, '/');
    size_t dir_len = slash ? (size_t)(slash - ctx->path) + 1 : 0;
    size_t len = strlen(path);
    char *out;

    /* Relative to the config file, so a config and its data files move together. Without a
     * slash in the config path its directory is the working directory: keep `path` as is. */
    if (path[0] == '/' || dir_len == 0)
        return xstrdup(path);
    out = xmalloc(dir_len + len + 1);
    memcpy(out, ctx->path, dir_len);
    memcpy(out + dir_len, path, len + 1);
    return out;
}

struct dname_key {
    uint8_t wire[DNAME_MAX_LEN]; /* lowercased, zero-padded so memcmp compares names */
    size_t index;
};

static int
compare_dname_key(const void *a, const void *b)
{
    const struct dname_key *x = a, *y = b;
    int c = memcmp(x->wire, y->wire, sizeof(x->wire));
    if (c != 0)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

bool
cfg_find_duplicate_dname(const char *const *names, size_t n, size_t *dup, size_t *first)
{
    struct dname_key *keys = xcalloc(n ? n : 1, sizeof(*keys));
    size_t best = SIZE_MAX, best_first = 0, group = 0;

    for (size_t i = 0; i < n; i++) {
        uint8_t wire[DNAME_MAX_LEN];
        /* RFC 4343: names compare case-insensitively, and "a." equals "a". */
        (void)dname_from_text(names[i], wire);
        dname_lower_copy(keys[i].wire, wire);
        keys[i].index = i;
    }
    /* Sorting finds duplicates in O(n log n); a config may list many thousands of names. */
    qsort(keys, n, sizeof(*keys), compare_dname_key);
    for (size_t k = 1; k < n; k++) {
        if (memcmp(keys[k].wire, keys[group].wire, sizeof(keys[k].wire)) != 0) {
            group = k;
        } else if (keys[k].index < best) {
            best = keys[k].index;
            best_first = keys[group].index;
        }
    }
    free(keys);
    if (best == SIZE_MAX)
        return false;
    *dup = best;
    *first = best_first;
    return true;
}

char *
cfg_absolute_dname(const char *text)
{
    size_t len = strlen(text), slashes = 0;
    char *out;

    /* "\." at the end is an escaped dot, not the root: count the backslashes before it. */
    while (slashes + 1 < len && text[len - 2 - slashes] == '\\')
        slashes++;
    if (len > 0 && text[len - 1] == '.' && slashes % 2 == 0)
        return xstrdup(text);
    out = xmalloc(len + 2);
    memcpy(out, text, len);
    out[len] = '.';
    out[len + 1] = '\0';
    return out;
}

bool
cfg_valid_dname(const char *s)
{
    uint8_t wire[DNAME_MAX_LEN];
    /* dname_from_text reads "" as the root; an empty name is a mistake, not ".". */
    return s && s[0] != '\0' && dname_from_text(s, wire) >= 0;
}

int
cfg_parse_word(struct cfg_ctx *ctx, const char *name, yaml_node_t *value, const char *const *words,
               size_t count, int *out)
{
    const char *s = cfg_scalar(value);
    char expect[128] = "";
    size_t used = 0;

    for (size_t i = 0; s && i < count; i++) {
        if (strcmp(s, words[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    for (size_t i = 0; i < count && used < sizeof(expect); i++) {
        const char *sep = i == 0 ? "" : i + 1 == count ? " or " : ", ";
        int n = snprintf(expect + used, sizeof(expect) - used, "%s%s", sep, words[i]);
        used += n > 0 ? (size_t)n : 0;
    }
    return cfg_error(ctx, value, "%s: expected %s", name, expect);
}

int
cfg_parse_uint(const char *text, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    /* strtoul would accept spaces, a sign and wrap "-1" to a huge value. */
    if (*text == '\0')
        return -1;
    for (; *text; text++) {
        if (*text < '0' || *text > '9')
            return -1;
        v = v * 10 + (uint64_t)(*text - '0');
        if (v > max)
            return -1;
    }
    *out = v;
    return 0;
}

int
cfg_parse_duration_ms(const char *text, uint64_t *out_ms)
{
    static const struct {
        const char *suffix;
        uint64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}, {"", 1000}};
    char digits[16];
    size_t n = strspn(text, "0123456789");
    uint64_t v;

    if (n == 0 || n >= sizeof(digits))
        return -1;
    memcpy(digits, text, n);
    digits[n] = '\0';
    /* 15 digits times an hour in ms still fits in 64 bits. */
    if (cfg_parse_uint(digits, UINT64_MAX / 3600000, &v) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(text + n, units[i].suffix) == 0) {
            *out_ms = v * units[i].ms;
            return 0;
        }
    }
    return -1;
}

/* The largest whole unit, so range messages read "1ms..1h" rather than "1..3600000". */
void
cfg_format_duration(uint32_t ms, char *out, size_t out_size)
{
    if (ms != 0 && ms % 86400000 == 0)
        snprintf(out, out_size, "%ud", ms / 86400000);
    else if (ms != 0 && ms % 3600000 == 0)
        snprintf(out, out_size, "%uh", ms / 3600000);
    else if (ms != 0 && ms % 60000 == 0)
        snprintf(out, out_size, "%um", ms / 60000);
    else if (ms != 0 && ms % 1000 == 0)
        snprintf(out, out_size, "%us", ms / 1000);
    else
        snprintf(out, out_size, "%ums", ms);
}

static int
parse_bool(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, bool *out)
{
    const char *s = cfg_scalar(value);
    if (s && (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0)) {
        *out = true;
        return 0;
    }
    if (s && (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0)) {
        *out = false;
        return 0;
    }
    return cfg_error(ctx, value, "%s: expected true or false", key->name);
}

static int
parse_string(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, char **out)
{
    const char *s = cfg_scalar(value);
    if (!s || s[0] == '\0' || strlen(s) > key->max)
        return cfg_error(ctx, value, "%s: expected a string of 1..%u bytes", key->name, key->max);
    free(*out);
    *out = xstrdup(s);
    return 0;
}

static int
parse_uint_key(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, uint32_t *out)
{
    const char *s = cfg_scalar(value);
    uint64_t v;
    if (!s || cfg_parse_uint(s, key->max, &v) < 0 || v < key->min)
        return cfg_error(ctx, value, "%s: expected an integer %u..%u", key->name, key->min,
                         key->max);
    *out = (uint32_t)v;
    return 0;
}

static int
parse_duration_key(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                   uint32_t *out_ms)
{
    const char *s = cfg_scalar(value);
    uint64_t ms;
    if (!s || cfg_parse_duration_ms(s, &ms) < 0 || ms < key->min || ms > key->max) {
        char lo[24], hi[24];
        cfg_format_duration(key->min, lo, sizeof(lo));
        cfg_format_duration(key->max, hi, sizeof(hi));
        return cfg_error(ctx, value, "%s: expected a duration %s..%s (e.g. 10s, 500ms, 2m)",
                         key->name, lo, hi);
    }
    *out_ms = (uint32_t)ms;
    return 0;
}

/* Stores one typed value at target + key->offset. */
static int
parse_value(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    char *field = (char *)target + key->offset;
    uint32_t v = 0;
    int rc;

    switch (key->type) {
    case CFG_BOOL:
        return parse_bool(ctx, key, value, (bool *)field);
    case CFG_STRING:
        return parse_string(ctx, key, value, (char **)field);
    case CFG_U16:
        assert(key->max <= UINT16_MAX);
        rc = parse_uint_key(ctx, key, value, &v);
        if (rc == 0)
            *(uint16_t *)field = (uint16_t)v;
        return rc;
    case CFG_U32:
        return parse_uint_key(ctx, key, value, (uint32_t *)field);
    case CFG_DURATION_MS:
        return parse_duration_key(ctx, key, value, (uint32_t *)field);
    case CFG_CUSTOM:
        return key->parse(ctx, key, value, target);
    }
    return cfg_error(ctx, value, "%s: internal error: bad key type", key->name);
}

int
cfg_parse_mapping(struct cfg_ctx *ctx, yaml_node_t *node, const char *section,
                  const struct cfg_key *keys, size_t key_count, void *target)
{
    /* Which table entries were seen, to catch repeats (libyaml keeps both) and missing keys. */
    uint64_t seen = 0;
    assert(key_count <= 64);

    if (node->type != YAML_MAPPING_NODE) {
        if (section)
            return cfg_error(ctx, node, "%s: expected a mapping", section);
        return cfg_error(ctx, node, "expected a mapping at top level");
    }
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = yaml_document_get_node(ctx->doc, pair->key);
        yaml_node_t *v = yaml_document_get_node(ctx->doc, pair->value);
        const char *name = cfg_scalar(k);
        size_t i;

        if (!name)
            return cfg_error(ctx, k, "expected a key name, not a %s",
                             k->type == YAML_MAPPING_NODE ? "mapping" : "list");
        for (i = 0; i < key_count; i++)
            if (strcmp(name, keys[i].name) == 0)
                break;
        if (i == key_count) {
            if (section)
                return cfg_error(ctx, k, "unknown key '%s' in %s", name, section);
            return cfg_error(ctx, k, "unknown key '%s' at top level", name);
        }
        if (seen & (UINT64_C(1) << i))
            return cfg_error(ctx, k, "duplicate key '%s'", name);
        seen |= UINT64_C(1) << i;
        if (cfg_is_null(v))
            return cfg_error(ctx, v, "%s: missing value", name);
        if (parse_value(ctx, &keys[i], v, target) < 0)
            return -1;
    }
    for (size_t i = 0; i < key_count; i++) {
        if (!keys[i].required || (seen & (UINT64_C(1) << i)))
            continue;
        if (section)
            return cfg_error(ctx, node, "missing key '%s' in %s", keys[i].name, section);
        return cfg_error(ctx, node, "missing key '%s' at top level", keys[i].name);
    }
    return 0;
}

static int
parse_document(struct cfg_ctx *ctx, yaml_parser_t *parser, yaml_document_t *doc)
{
    char where[64] = "";
    if (yaml_parser_load(parser, doc))
        return 0;
    if (parser->context)
        snprintf(where, sizeof(where), " (%s at line %d)", parser->context,
                 (int)parser->context_mark.line + 1);
    snprintf(ctx->err, CONFIG_ERR_MAX, "%s:%d: YAML syntax error: %s%s", ctx->path,
             (int)parser->problem_mark.line + 1,
             parser->problem ? parser->problem : "out of memory", where);
    return -1;
}

int
cfg_document_load(struct cfg_ctx *ctx, yaml_document_t *doc)
{
    yaml_parser_t parser;
    yaml_document_t extra;
    bool have_parser = false, have_doc = false;
    struct stat st;
    int rc = -1;
    FILE *f = fopen(ctx->path, "r");
    /* A directory opens fine on Linux and would only fail later with a vague read error. */
    if (f && fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        f = NULL;
        errno = EISDIR;
    }
    if (!f) {
        snprintf(ctx->err, CONFIG_ERR_MAX, "%s: cannot open: %s", ctx->path, strerror(errno));
        goto out;
    }
    if (!yaml_parser_initialize(&parser)) {
        snprintf(ctx->err, CONFIG_ERR_MAX, "%s: cannot initialize the YAML parser", ctx->path);
        goto out;
    }
    have_parser = true;
    yaml_parser_set_input_file(&parser, f);
    if (parse_document(ctx, &parser, doc) < 0)
        goto out;
    have_doc = true;
    ctx->doc = doc;
    /* Read on to the end of the stream: a syntax error there must not pass unnoticed, and a
     * second document would be ignored silently. */
    if (parse_document(ctx, &parser, &extra) < 0)
        goto out;
    bool second = yaml_document_get_root_node(&extra) != NULL;
    if (second)
        cfg_error(ctx, yaml_document_get_root_node(&extra), "expected a single YAML document");
    yaml_document_delete(&extra);
    if (!second)
        rc = 0;
out:
    if (rc < 0 && have_doc) {
        yaml_document_delete(doc);
        ctx->doc = NULL;
    }
    if (have_parser)
        yaml_parser_delete(&parser);
    if (f)
        fclose(f);
    return rc;
}

int
cfg_parse_log_level(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                    void *target)
{
    const char *s = cfg_scalar(value);
    int level = s ? log_level_parse(s) : -1;
    if (level < 0)
        return cfg_error(ctx, value, "log_level: expected error, warning, info or debug");
    *(int *)((char *)target + key->offset) = level;
    return 0;
}

/* Reads the whole file after checking what it is and who may read it: a shared secret
 * readable by every local user is no secret (as ssh refuses such a private key file). The
 * descriptor is checked, not the path, so the file checked is the file read. */
int
cfg_read_secret_file(struct cfg_ctx *ctx, yaml_node_t *node, const char *path, const char *what,
                     char *text, size_t max)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    int rc = -1;
    size_t got = 0;
    if (fd < 0)
        return cfg_error(ctx, node, "%s '%s': %s", what, path, strerror(errno));
    if (fstat(fd, &st) < 0) {
        cfg_error(ctx, node, "%s '%s': %s", what, path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        cfg_error(ctx, node, "%s '%s' is not a regular file", what, path);
        goto out;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        cfg_error(ctx, node,
                  "%s '%s' has permissions %04o: a secret must not be accessible by group or "
                  "others (chmod 600, owned by the server's user)",
                  what, path, (unsigned)(st.st_mode & 07777));
        goto out;
    }
    for (;;) {
        ssize_t r = read(fd, text + got, max + 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            cfg_error(ctx, node, "%s '%s': %s", what, path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        got += (size_t)r;
        if (got > max) {
            cfg_error(ctx, node, "%s '%s' is too long for a secret", what, path);
            goto out;
        }
    }
    text[got] = '\0';
    rc = 0;
out:
    close(fd);
    return rc;
}
