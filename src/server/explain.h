/* SPDX-License-Identifier: MIT */
/* `meridiand -q CLIENT[/ECS_PREFIX] QNAME QTYPE`: answers one query offline from a loaded
 * snapshot and prints how a steered answer was chosen (policy_explain) and the response
 * dns_answer() really produces for that client. */
#ifndef MERIDIAN_SERVER_EXPLAIN_H
#define MERIDIAN_SERVER_EXPLAIN_H

#include <stdio.h>

#include "server/snapshot.h"

/* Returns 0, or -1 (nothing written) when the client, name or type does not parse. */
int explain_query(const struct snapshot *snap, const struct health_table *health,
                  const char *client, const char *qname, const char *qtype, FILE *out);

#endif
