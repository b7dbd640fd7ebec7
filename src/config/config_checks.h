/* SPDX-License-Identifier: MIT */
/* Private to the config module: the health sections (config_checks.c). `checks` (named
 * health checks), `health` (startup wait, exec concurrency) and the server's `state_file` and
 * `control_socket` paths. The parse functions are key handlers for the tables in config.c;
 * errors are "file:line: message" in the context's buffer. Runs on whichever thread calls
 * config_load(). */
#ifndef MERIDIAN_CONFIG_CONFIG_CHECKS_H
#define MERIDIAN_CONFIG_CONFIG_CHECKS_H

#include "config/config.h"
#include "config/config_yaml.h"

#define CONFIG_DEFAULT_STARTUP_WAIT_MS 10000
#define CONFIG_DEFAULT_EXEC_MAX_CONCURRENT 8

/* The `checks` section (target: struct config): a mapping of check names to checks. */
int cfg_parse_checks(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                     void *target) __attribute__((warn_unused_result));
/* The `health` section (target: struct config). */
int cfg_parse_health(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                     void *target) __attribute__((warn_unused_result));
/* server.state_file and server.control_socket (target: struct config), resolved against the
 * config file's directory. */
int cfg_parse_state_file(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                         void *target) __attribute__((warn_unused_result));
int cfg_parse_control_socket(struct cfg_ctx *ctx, const struct cfg_key *key, yaml_node_t *value,
                             void *target) __attribute__((warn_unused_result));
/* Checks that need the whole file: every member's `check` names a defined check, and
 * `startup: persisted` has a server.state_file. Run after the walk (sections in any order). */
int cfg_check_health(struct cfg_ctx *ctx) __attribute__((warn_unused_result));
/* Frees the checks, state_file and control_socket. */
void cfg_checks_free(struct config *cfg);

#endif
