/* SPDX-License-Identifier: MIT */
/* Private to the config module: a secondary zone's `primaries:` (config_secondary.c). Key
 * handler for the zone table in config.c and the checks after the walk; errors are
 * "file:line: message". Runs on whichever thread calls config_load(). */
#ifndef MERIDIAN_CONFIG_CONFIG_SECONDARY_H
#define MERIDIAN_CONFIG_CONFIG_SECONDARY_H

#include "config/config.h"
#include "config/config_yaml.h"

/* RFC 5936 §4.1: transfers go to the primary's DNS port; 53 when none is written. */
#define CONFIG_PRIMARY_DEFAULT_PORT 53
#define CONFIG_PRIMARIES_MAX 16

/* A zone entry's `primaries` (target: struct config_zone). */
int cfg_parse_zone_primaries(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                             void *target) __attribute__((warn_unused_result));
/* A zone entry's `catalog` (true/false; target: struct config_zone). */
int cfg_parse_zone_catalog(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                           void *target) __attribute__((warn_unused_result));
/* After the walk: every key named by a primary exists in tsig_keys, a secondary is not signed
 * by us (`dnssec:`: it is served as transferred), and a secondary without `file:` gets its
 * default copy path. */
int cfg_check_secondary(struct cfg_ctx *ctx) __attribute__((warn_unused_result));
void cfg_secondary_free(struct config *cfg);

#endif
