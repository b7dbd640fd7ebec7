/* SPDX-License-Identifier: MIT */
/* Private to the config module: `server.dnstap` (config_dnstap.c), the query log's section.
 * Key handler for the server table in config.c; errors are "file:line: message". Runs on
 * whichever thread calls config_load(). */
#ifndef MERIDIAN_CONFIG_CONFIG_DNSTAP_H
#define MERIDIAN_CONFIG_CONFIG_DNSTAP_H

#include "config/config.h"
#include "config/config_yaml.h"

/* `server.dnstap` (target: struct config). */
int cfg_parse_dnstap(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                     void *target) __attribute__((warn_unused_result));
void cfg_dnstap_free(struct config *cfg);

#endif
