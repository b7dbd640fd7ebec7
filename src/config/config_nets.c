// SPDX-License-Identifier: MIT
/* Addresses and networks in the config: member addresses, and a service's `nets` overrides
 * ("CIDR": [pools]) written inline or kept in a `nets_file` of "CIDR pool[,pool...]" lines,
 * which may be long (a provider's whole prefix list), so it is read line by line and its
 * errors name its own file and line. Rules are appended to the service in the order read,
 * inline ones first. Runs on the thread that calls config_load(). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "config/config_services.h"

#define CIDR_TEXT_MAX 64 /* longest address text plus "/128", with room to spare */
#define CIDR_HINT "expected e.g. 10.0.0.0/8 or 2001:db8::/32"

int
cfg_parse_address(const char *text, struct config_prefix *out)
{
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, text, out->addr) == 1) {
        out->family = 4;
        out->prefix_len = 32;
        return 0;
    }
    if (inet_pton(AF_INET6, text, out->addr) == 1) {
        out->family = 6;
        out->prefix_len = 128;
        return 0;
    }
    return -1;
}

int
cfg_parse_cidr(const char *text, struct config_prefix *out)
{
    const char *slash = strchr(text, '/');
    char addr[CIDR_TEXT_MAX];
    size_t len = slash ? (size_t)(slash - text) : 0;
    uint64_t bits;
    bool host_bits = false;

    if (!slash || len == 0 || len >= sizeof(addr))
        return -1;
    memcpy(addr, text, len);
    addr[len] = '\0';
    if (cfg_parse_address(addr, out) < 0 || cfg_parse_uint(slash + 1, out->prefix_len, &bits) < 0)
        return -1;
    out->prefix_len = (uint8_t)bits;
    /* Bits beyond the prefix are almost always a typo for another network; clear them so
     * the message can show the network that was probably meant. */
    for (unsigned i = 0; i < 16; i++) {
        unsigned keep = bits >= 8 * (i + 1) ? 8 : bits > 8 * i ? (unsigned)bits - 8 * i : 0;
        uint8_t mask = (uint8_t)(0xff00u >> keep);
        if (out->addr[i] & ~mask)
            host_bits = true;
        out->addr[i] &= mask;
    }
    return host_bits ? -2 : 0;
}

void
cfg_format_prefix(const struct config_prefix *p, bool with_len, char *out, size_t out_size)
{
    char addr[INET6_ADDRSTRLEN] = "?";

    inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, addr, sizeof(addr));
    if (with_len)
        snprintf(out, out_size, "%s/%u", addr, p->prefix_len);
    else
        snprintf(out, out_size, "%s", addr);
}

/* A zeroed rule at the end of svc->nets (counted at once, so config_free() sees it). */
static struct config_net_rule *
append_rule(struct config_service *svc, size_t *cap)
{
    if (svc->net_count == *cap) {
        *cap = *cap ? 2 * *cap : 16;
        svc->nets = xrealloc(svc->nets, *cap * sizeof(*svc->nets));
    }
    memset(&svc->nets[svc->net_count], 0, sizeof(*svc->nets));
    return &svc->nets[svc->net_count++];
}

int
cfg_parse_nets(struct cfg_ctx *ctx, struct config_service *svc, yaml_node_t *value)
{
    size_t cap = svc->net_count;

    if (value->type != YAML_MAPPING_NODE)
        return cfg_error(ctx, value, "nets: expected a mapping of CIDR to pools");
    for (size_t i = 0; i < cfg_map_len(value); i++) {
        yaml_node_t *k, *v;
        const char *name;
        struct config_net_rule *rule;
        char net[CIDR_TEXT_MAX];
        int rc;

        if (cfg_map_entry(ctx, value, i, &name, &k, &v) < 0)
            return -1;
        rule = append_rule(svc, &cap);
        rule->file = ctx->cfg->path;
        rule->line = cfg_line(k);
        rc = cfg_parse_cidr(name, &rule->net);
        if (rc == -1)
            return cfg_error(ctx, k, "nets: invalid CIDR '%s' (" CIDR_HINT ")", name);
        if (rc == -2) {
            cfg_format_prefix(&rule->net, true, net, sizeof(net));
            return cfg_error(ctx, k, "nets: '%s' has host bits set (network %s)", name, net);
        }
        if (cfg_parse_pool_list(ctx, svc, name, v, &rule->order) < 0)
            return -1;
    }
    return 0;
}

/* "eu, us" after the CIDR on a nets_file line; `what` (the CIDR) prefixes messages. */
static int
parse_pool_text(struct cfg_ctx *ctx, const struct config_service *svc, int line, const char *what,
                char *text, struct config_pool_list *out)
{
    size_t n = 1;

    for (const char *c = text; *c; c++)
        n += *c == ',';
    out->pools = xcalloc(n, sizeof(*out->pools));
    for (char *tok = text, *next; tok; tok = next) {
        char *end;
        int idx;

        next = strchr(tok, ',');
        if (next)
            *next++ = '\0';
        tok += strspn(tok, " \t");
        end = tok + strlen(tok);
        while (end > tok && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (*tok == '\0')
            return cfg_error_at(ctx, svc->nets_file, line, "%s: empty pool name", what);
        idx = cfg_pool_find(svc, tok);
        if (idx < 0)
            return cfg_error_at(ctx, svc->nets_file, line, "%s: unknown pool '%s'", what, tok);
        for (size_t j = 0; j < out->count; j++)
            if (out->pools[j] == (uint32_t)idx)
                return cfg_error_at(ctx, svc->nets_file, line, "%s: pool '%s' listed twice", what,
                                    tok);
        out->pools[out->count++] = (uint32_t)idx;
    }
    return 0;
}

/* One line of a nets file, without its newline. Blank and comment lines add nothing. */
static int
parse_nets_line(struct cfg_ctx *ctx, struct config_service *svc, size_t *cap, int line, char *text)
{
    char *hash = strchr(text, '#'), *cidr, *pools;
    struct config_net_rule *rule;
    char net[CIDR_TEXT_MAX];
    size_t len;
    int rc;

    if (hash)
        *hash = '\0';
    cidr = text + strspn(text, " \t\r");
    if (*cidr == '\0')
        return 0;
    len = strcspn(cidr, " \t\r");
    pools = cidr + len;
    pools += strspn(pools, " \t\r");
    /* Strip the tail (a CRLF file, trailing blanks) so the pool list ends cleanly. */
    for (char *end = pools + strlen(pools);
         end > pools && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r');)
        *--end = '\0';
    cidr[len] = '\0';
    if (*pools == '\0')
        return cfg_error_at(ctx, svc->nets_file, line, "expected 'CIDR pool[,pool...]'");
    rule = append_rule(svc, cap);
    rule->file = svc->nets_file;
    rule->line = line;
    rc = cfg_parse_cidr(cidr, &rule->net);
    if (rc == -1)
        return cfg_error_at(ctx, svc->nets_file, line, "invalid CIDR '%s' (" CIDR_HINT ")", cidr);
    if (rc == -2) {
        cfg_format_prefix(&rule->net, true, net, sizeof(net));
        return cfg_error_at(ctx, svc->nets_file, line, "'%s' has host bits set (network %s)", cidr,
                            net);
    }
    return parse_pool_text(ctx, svc, line, cidr, pools, &rule->order);
}

int
cfg_load_nets_file(struct cfg_ctx *ctx, struct config_service *svc, yaml_node_t *value)
{
    const char *s = cfg_scalar(value);
    size_t cap = svc->net_count, buf_size = 0;
    char *buf = NULL;
    int line = 0, rc = 0;
    FILE *f;

    if (!s || s[0] == '\0')
        return cfg_error(ctx, value, "nets_file: expected a path");
    svc->nets_file = cfg_resolve_path(ctx, s);
    f = fopen(svc->nets_file, "r");
    if (!f)
        return cfg_error(ctx, value, "nets_file: cannot open '%s': %s", svc->nets_file,
                         strerror(errno));
    while (rc == 0 && getline(&buf, &buf_size, f) >= 0) {
        size_t len = strlen(buf);
        line++;
        if (len > 0 && buf[len - 1] == '\n')
            buf[len - 1] = '\0';
        rc = parse_nets_line(ctx, svc, &cap, line, buf);
    }
    if (rc == 0 && ferror(f))
        rc = cfg_error(ctx, value, "nets_file: cannot read '%s': %s", svc->nets_file,
                       strerror(errno));
    free(buf);
    fclose(f);
    return rc;
}

struct net_key {
    struct config_prefix net;
    size_t index;
};

/* Sort order for duplicate detection: family, length, address, then position. */
static int
compare_net_key(const void *a, const void *b)
{
    const struct net_key *x = a, *y = b;
    int c = memcmp(&x->net, &y->net, sizeof(x->net));
    if (c != 0)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

int
cfg_check_nets(struct cfg_ctx *ctx, const struct config_service *svc)
{
    size_t n = svc->net_count, best = SIZE_MAX, best_first = 0, group = 0;
    struct net_key *keys;
    int rc = 0;

    if (n < 2)
        return 0;
    /* Sorting keeps this O(n log n) for nets files of many thousands of lines. Prefixes are
     * fully zeroed beyond their length (cfg_parse_cidr), so memcmp compares networks. */
    keys = xcalloc(n, sizeof(*keys));
    for (size_t i = 0; i < n; i++) {
        keys[i].net = svc->nets[i].net;
        keys[i].index = i;
    }
    qsort(keys, n, sizeof(*keys), compare_net_key);
    for (size_t k = 1; k < n; k++) {
        if (memcmp(&keys[k].net, &keys[group].net, sizeof(keys[k].net)) != 0) {
            group = k;
        } else if (keys[k].index < best) {
            best = keys[k].index;
            best_first = keys[group].index;
        }
    }
    if (best != SIZE_MAX) {
        const struct config_net_rule *dup = &svc->nets[best], *first = &svc->nets[best_first];
        char net[CIDR_TEXT_MAX];
        cfg_format_prefix(&dup->net, true, net, sizeof(net));
        if (first->file == dup->file)
            rc = cfg_error_at(ctx, dup->file, dup->line, "duplicate net %s (first at line %d)", net,
                              first->line);
        else
            rc = cfg_error_at(ctx, dup->file, dup->line, "duplicate net %s (first at %s:%d)", net,
                              first->file, first->line);
    }
    free(keys);
    return rc;
}

int
cfg_parse_prefix_list(struct cfg_ctx *ctx, const char *what, yaml_node_t *value,
                      struct config_prefix **out, size_t *count)
{
    if (value->type != YAML_SEQUENCE_NODE)
        return cfg_error(ctx, value, "%s: expected a list", what);
    size_t n = cfg_seq_len(value);
    if (n == 0)
        return cfg_error(ctx, value, "%s: expected at least one entry", what);
    *out = xcalloc(n, sizeof(**out));
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = cfg_seq_item(ctx, value, i);
        const char *s = cfg_scalar(item);
        struct config_prefix *p = &(*out)[*count];
        int rc = s ? (strchr(s, '/') ? cfg_parse_cidr(s, p) : cfg_parse_address(s, p)) : -1;
        if (rc == -2) {
            char net[64];
            cfg_format_prefix(p, true, net, sizeof(net));
            return cfg_error(ctx, item,
                             "%s: %s has bits set beyond its prefix length (did you mean %s?)",
                             what, s, net);
        }
        if (rc < 0)
            return cfg_error(ctx, item,
                             "%s: expected an address or network, e.g. 192.0.2.0/24 or "
                             "2001:db8::53, not '%s'",
                             what, s ? s : "(not a string)");
        (*count)++;
    }
    return 0;
}
