// SPDX-License-Identifier: MIT
/* Compiled to assembly (not linked) by prefetch_kept.cmake: a caller of
 * nsec3_chain_prefetch, as dns_answer's note_proof is, must keep its prefetch instructions
 * at -O2. GCC 12 deleted them when the helper was a plain static inline function (its
 * prefetches have no side effects, so the whole call counted as pure and unused). */
#include "dnssec/nsec3.h"

void prefetch_caller(const struct nsec3_chain *c, const struct nsec3_entry *const *e, int n);

void
prefetch_caller(const struct nsec3_chain *c, const struct nsec3_entry *const *e, int n)
{
    for (int i = 0; i < n; i++)
        nsec3_chain_prefetch(c, e[i]);
}
