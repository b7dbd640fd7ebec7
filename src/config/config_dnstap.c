// SPDX-License-Identifier: MIT
/* `server.dnstap`: where the dnstap query log goes (a Frame Streams UNIX socket or file,
 * exactly one), the identity and version its records carry, which message kinds are logged
 * and the sampling rate. Absent: no query log. Paths are taken relative to the config file
 * like every other path. Runs on the thread that calls config_load(). */
#include "config/config_dnstap.h"

#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#define DNSTAP_TEXT_MAX 255 /* identity, version: as server.identity and server.version */
#define DNSTAP_SAMPLE_MAX 1000000

/* `socket` and `file`: a path, resolved against the config's directory. */
static int
parse_path(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config_dnstap *d = target;
    const char *s = cfg_scalar(value);
    bool socket = strcmp(key->name, "socket") == 0;

    if (!s || s[0] == '\0')
        return cfg_error(ctx, value, "dnstap: %s: expected a path", key->name);
    char *path = cfg_resolve_path(ctx, s);
    /* connect() would fail at every attempt, silently: sun_path holds the path and a NUL. */
    if (socket && strlen(path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
        free(path);
        return cfg_error(ctx, value, "dnstap: socket: '%s' is too long for a UNIX socket", s);
    }
    if (socket)
        d->socket = path;
    else
        d->file = path;
    return 0;
}

static const struct cfg_key dnstap_keys[] = {
    {.name = "socket", .type = CFG_CUSTOM, .parse = parse_path},
    {.name = "file", .type = CFG_CUSTOM, .parse = parse_path},
    {.name = "identity",
     .type = CFG_STRING,
     .offset = offsetof(struct config_dnstap, identity),
     .max = DNSTAP_TEXT_MAX},
    {.name = "version",
     .type = CFG_STRING,
     .offset = offsetof(struct config_dnstap, version),
     .max = DNSTAP_TEXT_MAX},
    {.name = "queries", .type = CFG_BOOL, .offset = offsetof(struct config_dnstap, queries)},
    {.name = "responses", .type = CFG_BOOL, .offset = offsetof(struct config_dnstap, responses)},
    {.name = "sample",
     .type = CFG_U32,
     .offset = offsetof(struct config_dnstap, sample),
     .min = 1,
     .max = DNSTAP_SAMPLE_MAX},
};

int
cfg_parse_dnstap(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value, void *target)
{
    struct config *cfg = target;
    struct config_dnstap *d = &cfg->dnstap;

    (void)key;
    d->queries = true;
    d->responses = true;
    d->sample = 1;
    d->line = cfg_line(value);
    if (cfg_parse_mapping(ctx, value, "dnstap", dnstap_keys,
                          sizeof(dnstap_keys) / sizeof(dnstap_keys[0]), d) < 0)
        return -1;
    if (!d->socket == !d->file)
        return cfg_error(ctx, value, "dnstap: expected exactly one of 'socket' or 'file'");
    if (!d->queries && !d->responses)
        return cfg_error(ctx, value, "dnstap: queries and responses are both off: remove the "
                                     "section to turn the log off");
    return 0;
}

void
cfg_dnstap_free(struct config *cfg)
{
    free(cfg->dnstap.socket);
    free(cfg->dnstap.file);
    free(cfg->dnstap.identity);
    free(cfg->dnstap.version);
}
