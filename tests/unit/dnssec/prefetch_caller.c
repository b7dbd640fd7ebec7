// SPDX-License-Identifier: MIT
/* Compiled to assembly (not linked) by prefetch_kept.cmake: callers of the answer path's
 * prefetch helpers, nsec3_chain_prefetch as dns_answer's note_proof calls it and
 * zone_rrset_prefetch_rrsig as answer_node does, must keep their prefetch instructions at
 * -O2. GCC 12 deleted them when the helper was a plain static inline function (its
 * prefetches have no side effects, so the whole call counted as pure and unused). */
#include "dnssec/nsec3.h"

void prefetch_caller(const struct nsec3_chain *c, const struct nsec3_entry *const *e, int n);
void rrsig_prefetch_caller(const struct zone_rrset *set);

void
prefetch_caller(const struct nsec3_chain *c, const struct nsec3_entry *const *e, int n)
{
    for (int i = 0; i < n; i++)
        nsec3_chain_prefetch(c, e[i]);
}

void
rrsig_prefetch_caller(const struct zone_rrset *set)
{
    zone_rrset_prefetch_rrsig(set);
}
