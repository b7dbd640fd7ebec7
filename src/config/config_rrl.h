/* SPDX-License-Identifier: MIT */
/* Private to the config module: the `server.rrl` mapping and `server.cookie_secret_file`
 * (config_rrl.c). */
#ifndef MERIDIAN_CONFIG_CONFIG_RRL_H
#define MERIDIAN_CONFIG_CONFIG_RRL_H

#include "config/config.h"
#include "config/config_yaml.h"

int cfg_parse_rrl(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                  void *target);
int cfg_parse_cookie_secret_file(struct cfg_ctx *ctx, const struct cfg_key *key,
                                 yaml_node_t *value, void *target);
/* Defaults of both, before the walk. */
void cfg_rrl_defaults(struct config *cfg);
void cfg_rrl_free(struct config *cfg);

#endif
