/* SPDX-License-Identifier: MIT */
/* Shared by the policy builder and the explainer. */
#ifndef MERIDIAN_POLICY_POLICY_INTERNAL_H
#define MERIDIAN_POLICY_POLICY_INTERNAL_H

#include "policy/policy_build.h"

/* The geo rule (subdivision, then country, then continent) that applies to a location, or
 * NULL for the default; `why` names it ("country DE", "default"). */
const struct config_geo_rule *policy_geo_rule(const struct config_service *c,
                                              const struct geo_location *loc, char *why,
                                              size_t why_size);

#endif
