/* SPDX-License-Identifier: MIT */
/* Private to the config module: DNSSEC signing settings (config_dnssec.c): a zone entry's
 * `dnssec:` (true/false, or a mapping) and server.key_directory. Key handlers for the tables
 * in config.c; errors are "file:line: message". Runs on whichever thread calls config_load(). */
#ifndef MERIDIAN_CONFIG_CONFIG_DNSSEC_H
#define MERIDIAN_CONFIG_CONFIG_DNSSEC_H

#include "config/config.h"
#include "config/config_yaml.h"

#define CONFIG_DNSSEC_DEFAULT_VALIDITY_MS (14u * 86400000u)
#define CONFIG_DNSSEC_DEFAULT_REFRESH_MS (5u * 86400000u)
#define CONFIG_DNSSEC_DEFAULT_PROPAGATION_MS 3600000u
#define CONFIG_DNSSEC_DEFAULT_PARENT_DS_TTL_MS 86400000u

/* A zone entry's `dnssec` (target: struct config_zone). */
int cfg_parse_zone_dnssec(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                          void *target) __attribute__((warn_unused_result));
/* server.key_directory (target: struct config), resolved against the config's directory. */
int cfg_parse_key_directory(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                            void *target) __attribute__((warn_unused_result));
/* After the walk: refresh below validity, and every signed zone's key directory (its own,
 * else server.key_directory, else `keys` beside the state file, else beside the config). */
int cfg_check_dnssec(struct cfg_ctx *ctx) __attribute__((warn_unused_result));
void cfg_dnssec_free(struct config *cfg);

#endif
