// SPDX-License-Identifier: MIT
/* Signing steered answers ahead of the queries (see steer_sign.h). Loader thread and health
 * thread; the variant table serializes its writers. */
#include "server/steer_sign.h"

#include <time.h>

#include "common/dnswire.h"
#include "common/log.h"

/* Headroom for the subsets health changes bring, per pool order and family. */
#define SUBSETS_PER_ORDER 4

static bool
inside(const struct policy_service *svc, const struct zone *zone)
{
    return dname_is_subdomain(svc->owner, zone->origin);
}

uint32_t
steer_sign_expected(const struct policy_set *set, const struct zone *zone)
{
    uint64_t n = 0;
    for (uint32_t s = 0; set && s < set->count; s++) {
        const struct policy_service *svc = &set->services[s];
        if (!inside(svc, zone))
            continue;
        for (uint32_t p = 0; p < svc->pool_count; p++)
            n += svc->pools[p].member_count;
        n += (uint64_t)svc->order_count * 2 * SUBSETS_PER_ORDER;
        n += 2; /* what zone transfers carry for the name, per family (xfr/xfr_zone.c) */
    }
    return n > UINT32_MAX / 4 ? UINT32_MAX / 4 : (uint32_t)n;
}

static void
sign_answer(struct dnssec_zone *dz, const struct policy_service *svc, uint16_t type,
            const struct policy_answer *ans, time_t now)
{
    uint8_t rdata[POLICY_MAX_ANSWER * (2 + 16) + 2 + DNAME_MAX_LEN];
    size_t len = policy_answer_rdata(svc, ans, rdata, sizeof(rdata));
    if (ans->count == 0 || len == 0)
        return;
    if (dnssec_variants_sign(&dz->variants, dz, svc->owner, type, svc->ttl_s, rdata,
                             (uint16_t)ans->count, len, now) == 1) {
        char name[DNAME_TEXT_MAX];
        dname_to_text(svc->owner, name, sizeof(name));
        log_warning("dnssec: the steered answers of %s outgrow their signature table; this "
                    "one goes out unsigned", name);
    }
}

static void
sign_service(struct dnssec_zone *dz, const struct policy_service *svc,
             const struct health_table *health, time_t now)
{
    /* Each member alone: every answer of weighted and sticky, and of every CNAME service. */
    for (uint32_t p = 0; p < svc->pool_count; p++) {
        for (uint32_t m = 0; m < svc->pools[p].member_count; m++) {
            const struct policy_member *member = &svc->pools[p].members[m];
            struct policy_answer one = {.count = 1, .members = {member}};
            uint16_t type = svc->cname ? DNS_TYPE_CNAME
                                       : member->family == 4 ? DNS_TYPE_A : DNS_TYPE_AAAA;
            sign_answer(dz, svc, type, &one, now);
        }
    }
    if (svc->select != POLICY_SELECT_ALL && svc->select != POLICY_SELECT_FIRST_N)
        return;
    static const uint16_t types[] = {DNS_TYPE_A, DNS_TYPE_AAAA};
    for (uint32_t o = 0; o < svc->order_count; o++) {
        for (int t = 0; t < 2; t++) {
            struct policy_answer ans;
            policy_select_order(svc, o, types[t], health, &ans);
            sign_answer(dz, svc, types[t], &ans, now);
        }
    }
}

void
steer_sign(const struct snapshot *snap, const struct health_table *health, time_t now)
{
    const struct policy_set *set = snap->policies;
    for (uint32_t s = 0; set && s < set->count; s++) {
        const struct policy_service *svc = &set->services[s];
        const struct zone *zone = zone_set_find(snap->zones, svc->owner);
        /* The zone set keeps the config's order: its index finds the signer's output. */
        for (size_t z = 0; zone && z < snap->zones->count; z++)
            if (snap->zones->zones[z] == zone && snap->signed_zones[z])
                sign_service(snap->signed_zones[z], svc, health, now);
    }
}
