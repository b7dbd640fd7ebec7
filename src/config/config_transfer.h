/* SPDX-License-Identifier: MIT */
/* Private to the config module: a zone entry's outgoing transfer settings (config_transfer.c):
 * `transfer: { allow: [CIDR...], keys: [NAME...] }` and `notify: ["ADDR:PORT" or
 * { address: "ADDR:PORT", key: NAME }, ...]`. Key
 * handlers for the zone table in config.c; errors are "file:line: message". Runs on whichever
 * thread calls config_load(). */
#ifndef MERIDIAN_CONFIG_CONFIG_TRANSFER_H
#define MERIDIAN_CONFIG_CONFIG_TRANSFER_H

#include "config/config.h"
#include "config/config_yaml.h"

/* RFC 1996 §2: NOTIFY goes to the port the secondary listens on; 53 when none is written. */
#define CONFIG_NOTIFY_DEFAULT_PORT 53
/* More targets than this is a mistake (a list pasted twice), not a fleet. */
#define CONFIG_NOTIFY_MAX 64

/* A zone entry's `transfer` (target: struct config_zone). */
int cfg_parse_zone_transfer(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                            void *target) __attribute__((warn_unused_result));
/* A zone entry's `notify` (target: struct config_zone). */
int cfg_parse_zone_notify(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                          void *target) __attribute__((warn_unused_result));
/* After the walk: a zone that notifies must allow transfers (its secondaries could not fetch
 * what they are told of); each zone's `journal` is resolved and the journal directory
 * defaulted; and every key named by `transfer.keys` or a notify target must be
 * in tsig_keys (the notify target's entry is resolved into its tsig_key). */
int cfg_check_transfer(struct cfg_ctx *ctx) __attribute__((warn_unused_result));
/* A zone entry's `journal: true|false` (target: struct config_zone). */
int cfg_parse_zone_journal(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                           void *target) __attribute__((warn_unused_result));
/* server.journal_directory (target: struct config), resolved against the config's directory. */
int cfg_parse_journal_directory(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                                void *target) __attribute__((warn_unused_result));
void cfg_transfer_free(struct config *cfg);

#endif
