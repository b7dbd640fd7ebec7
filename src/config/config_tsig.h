/* SPDX-License-Identifier: MIT */
/* Private to the config module: the `tsig_keys` section (config_tsig.c), TSIG keys (RFC 8945)
 * by name, each with an algorithm and a base64 secret given inline or in a file of its own.
 * Key handlers for the top-level table in config.c; errors are "file:line: message". Runs on
 * whichever thread calls config_load(). */
#ifndef MERIDIAN_CONFIG_CONFIG_TSIG_H
#define MERIDIAN_CONFIG_CONFIG_TSIG_H

#include "config/config.h"
#include "config/config_yaml.h"

/* Decoded secrets longer than this are refused: HMAC hashes a key longer than its block
 * (RFC 2104 §2), so nothing is gained, and a file that large is not a key. */
#define CONFIG_TSIG_SECRET_MAX 512

/* The `tsig_keys` section (target: struct config): a mapping of key names to keys. */
int cfg_parse_tsig_keys(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                        void *target) __attribute__((warn_unused_result));
/* Frees the keys, wiping their secrets. */
void cfg_tsig_free(struct config *cfg);

#endif
