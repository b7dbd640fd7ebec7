/* SPDX-License-Identifier: MIT */
/* Private to the config module: the load context and a table-driven mapping walker over a
 * libyaml document. A section is a table of `struct cfg_key`; plain typed keys (bool,
 * string, integer, duration) are stored by offset into the section's target struct, anything
 * else goes to a per-key function. Every error is written as "file:line: message" into the
 * context's buffer, and the walker returns -1. Runs on whichever thread calls config_load(). */
#ifndef MERIDIAN_CONFIG_CONFIG_YAML_H
#define MERIDIAN_CONFIG_CONFIG_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

struct config;

struct cfg_ctx {
    const char *path;     /* the config file as given, for messages */
    char *err;            /* CONFIG_ERR_MAX bytes */
    yaml_document_t *doc; /* borrowed for the duration of the load */
    struct config *cfg;   /* the config being built */
};

enum cfg_type {
    CFG_BOOL,        /* bool: true/false/yes/no */
    CFG_STRING,      /* char *, max = longest length in bytes */
    CFG_U16,         /* uint16_t, min..max */
    CFG_U32,         /* uint32_t, min..max */
    CFG_DURATION_MS, /* uint32_t milliseconds: "10s", "500ms", "2m", "1h" or bare seconds */
    CFG_CUSTOM,      /* handled by `parse` */
};

struct cfg_key;
/* Parses `value` (never a null scalar) for `key` into `target`; 0 or -1 with ctx->err set. */
typedef int (*cfg_parse_fn)(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                            void *target);

struct cfg_key {
    const char *name;
    enum cfg_type type;
    size_t offset; /* into the target struct, for the typed kinds */
    uint32_t min;
    uint32_t max;
    cfg_parse_fn parse; /* CFG_CUSTOM only */
    bool required;
};

/* Formats "file:line: message" into ctx->err; `node` gives the line (NULL: line 1).
 * Always returns -1 so callers can `return cfg_error(...)`. */
int cfg_error(struct cfg_ctx *ctx, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The same for a line known without its node (checks after the walk, or another file):
 * "file:line: message"; `file` NULL means the config file. Returns -1. */
int cfg_error_at(struct cfg_ctx *ctx, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* 1-based line of a node, as shown in messages. */
int cfg_line(const yaml_node_t *node);

/* The scalar's text, or NULL if the node is not a scalar. */
const char *cfg_scalar(const yaml_node_t *node);

/* True for `key:` with no value, `~` or `null` (plain style only; "" is a string). */
bool cfg_is_null(const yaml_node_t *node);

/* Items of a sequence node, and pairs of a mapping node. */
yaml_node_t *cfg_seq_item(struct cfg_ctx *ctx, yaml_node_t *seq, size_t i);
size_t cfg_seq_len(const yaml_node_t *seq);
size_t cfg_map_len(const yaml_node_t *map);

/* The i-th pair of a free-form mapping (names chosen by the user, not a key table): a key
 * that is not a scalar, or a null value, is an error. `name` is the key's text. */
int cfg_map_entry(struct cfg_ctx *ctx, yaml_node_t *map, size_t i, const char **name,
                  yaml_node_t **key, yaml_node_t **value) __attribute__((warn_unused_result));

/* A path from the config taken relative to the config file's directory (absolute paths and
 * a config path without a directory leave it as is). Returns a new string. */
char *cfg_resolve_path(const struct cfg_ctx *ctx, const char *path);

/* Finds a repeated domain name among names[0..n), all valid (RFC 4343: case-insensitive,
 * "a." equals "a"). Returns true with *dup the earliest index that repeats a name listed
 * before it, and *first that earlier index. */
bool cfg_find_duplicate_dname(const char *const *names, size_t n, size_t *dup, size_t *first);

/* A domain name as written, made absolute (a trailing "." added unless present; "\." at
 * the end is an escaped dot). Returns a new string. */
char *cfg_absolute_dname(const char *text);

/* A non-empty, valid presentation-form domain name (NULL is not). */
bool cfg_valid_dname(const char *s);

/* Matches a scalar against `words` (case-sensitive) and stores the index; otherwise an error
 * "name: expected a, b or c" at the node. */
int cfg_parse_word(struct cfg_ctx *ctx, const char *name, yaml_node_t *value,
                   const char *const *words, size_t count, int *out)
    __attribute__((warn_unused_result));

/* A duration in its largest whole unit ("2s", "500ms", "10m", "1h"). */
void cfg_format_duration(uint32_t ms, char *out, size_t out_size);

/* Opens ctx->path and parses exactly one YAML document into *doc (a syntax error anywhere
 * in the file, or a second document, is an error), setting ctx->doc. 0, or -1 with
 * "path: ..." / "path:line: ..." in ctx->err. On success the caller frees *doc with
 * yaml_document_delete. */
int cfg_document_load(struct cfg_ctx *ctx, yaml_document_t *doc) __attribute__((warn_unused_result));

/* Walks the mapping `node` with the key table: unknown, repeated or missing required keys are
 * errors. `section` names it in messages ("server"); NULL means the top level. */
int cfg_parse_mapping(struct cfg_ctx *ctx, yaml_node_t *node, const char *section,
                      const struct cfg_key *keys, size_t key_count, void *target)
    __attribute__((warn_unused_result));

/* CFG_CUSTOM parser for `log_level` (error|warning|info|debug) into the int at key->offset. */
int cfg_parse_log_level(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                        void *target);

/* Reads the secret file `path` whole into text (max + 2 bytes, NUL-terminated) after
 * checking that it is a regular file closed to group and others. Errors at `node`, prefixed
 * with `what` ("tsig_keys: k: secret_file"). 0 or -1. */
int cfg_read_secret_file(struct cfg_ctx *ctx, yaml_node_t *node, const char *path, const char *what,
                         char *text, size_t max) __attribute__((warn_unused_result));

/* Strict unsigned decimal: digits only, no sign, no spaces. */
int cfg_parse_uint(const char *text, uint64_t max, uint64_t *out)
    __attribute__((warn_unused_result));

/* "10s", "500ms", "2m", "1h", "14d" or a bare integer (seconds) into milliseconds. */
int cfg_parse_duration_ms(const char *text, uint64_t *out_ms) __attribute__((warn_unused_result));

#endif
