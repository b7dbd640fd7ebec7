/* SPDX-License-Identifier: MIT */
/* Private to the config module: the traffic steering sections. `geoip` (config_geoip.c),
 * `services` with their pools, geo rules and settings (config_services.c) and the `nets`
 * overrides, inline or from a `nets_file` (config_nets.c). The parse functions are key
 * handlers for the top-level table in config.c; errors are "file:line: message" in the
 * context's buffer. Runs on whichever thread calls config_load(). */
#ifndef MERIDIAN_CONFIG_CONFIG_SERVICES_H
#define MERIDIAN_CONFIG_CONFIG_SERVICES_H

#include <stdbool.h>

#include "config/config.h"
#include "config/config_yaml.h"

/* config_geoip.c: the `geoip` section (target: struct config). */
int cfg_parse_geoip(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                    void *target) __attribute__((warn_unused_result));
/* Fills the lookup paths the file left out (GeoIP2 layout). */
void cfg_geoip_defaults(struct config *cfg);
void cfg_geoip_free(struct config *cfg);

/* config_services.c: the `services` section (target: struct config). */
int cfg_parse_services(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                       void *target) __attribute__((warn_unused_result));
/* Checks that need the whole file (a service may precede the geoip section). */
int cfg_check_services(struct cfg_ctx *ctx) __attribute__((warn_unused_result));
void cfg_services_free(struct config *cfg);

/* Index of the pool called `name` in `svc`, or -1. */
int cfg_pool_find(const struct config_service *svc, const char *name);
/* A YAML list of pool names of `svc` into `out` (which the caller's struct owns even on
 * failure): non-empty, known pools, no repeats; `what` prefixes messages. */
int cfg_parse_pool_list(struct cfg_ctx *ctx, const struct config_service *svc, const char *what,
                        yaml_node_t *value, struct config_pool_list *out)
    __attribute__((warn_unused_result));

/* config_nets.c */

/* An IPv4 or IPv6 literal, as a full-length prefix. Returns 0 or -1. */
int cfg_parse_address(const char *text, struct config_prefix *out)
    __attribute__((warn_unused_result));
/* "address/len". Returns 0, -1 on a syntax error, or -2 if bits beyond len are set (then
 * *out holds the network with those bits cleared, for the message). */
int cfg_parse_cidr(const char *text, struct config_prefix *out) __attribute__((warn_unused_result));
/* A YAML list of "ADDRESS/LEN" or bare addresses (hosts) into a new array *out (which the
 * caller owns even on failure) and *count; host bits beyond a length are refused. `what`
 * prefixes messages ("allow"). */
int cfg_parse_prefix_list(struct cfg_ctx *ctx, const char *what, yaml_node_t *value,
                          struct config_prefix **out, size_t *count)
    __attribute__((warn_unused_result));
/* "192.0.2.0/24", "2001:db8::/32"; an address alone when with_len is false. */
void cfg_format_prefix(const struct config_prefix *p, bool with_len, char *out, size_t out_size);

/* Inline `nets:` ("CIDR": [pools]) appended to svc->nets; pools must already be parsed. */
int cfg_parse_nets(struct cfg_ctx *ctx, struct config_service *svc, yaml_node_t *value)
    __attribute__((warn_unused_result));
/* `nets_file:` lines appended to svc->nets; errors are "nets-file:line: message". */
int cfg_load_nets_file(struct cfg_ctx *ctx, struct config_service *svc, yaml_node_t *value)
    __attribute__((warn_unused_result));
/* One prefix listed twice in a service (inline or file) is an error at the second. */
int cfg_check_nets(struct cfg_ctx *ctx, const struct config_service *svc)
    __attribute__((warn_unused_result));

#endif
