/* SPDX-License-Identifier: MIT */
/* Building a policy set from the config (loader thread) and explaining a choice against the
 * config's rules (meridiand -q, meridianctl explain). Everything here reads the config; the
 * query path needs only policy.h. */
#ifndef MERIDIAN_POLICY_POLICY_BUILD_H
#define MERIDIAN_POLICY_POLICY_BUILD_H

#include <stdio.h>

#include "config/config.h"
#include "policy/policy.h"

/* Builds the policies of cfg->services. `geo` may be NULL when no database is configured.
 * 0, or -1 with "file:line: message" in err. */
int policy_set_build(const struct config *cfg, const struct geo_db *geo, struct policy_set **out,
                     char err[CONFIG_ERR_MAX]) __attribute__((warn_unused_result));
void policy_set_free(struct policy_set *set);

/* Prints how the answer was chosen (meridiand -q, meridianctl explain). */
void policy_explain(const struct policy_service *svc, const struct policy_client *client,
                    uint16_t qtype, const struct health_table *health, uint32_t now_s,
                    const struct geo_db *geo, FILE *out);

#endif
