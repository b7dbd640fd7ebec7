/* SPDX-License-Identifier: MIT */
/* A dns_view with steering policies, built the way meridiand builds one (see
 * src/server/snapshot.c): a config with `services` compiled against a GeoIP database, the
 * zone loaded with every service owner as a steered node, each such node pointing at its
 * policy. Shared by the dns unit tests and the dns_answer fuzz target; single-threaded. */
#ifndef MERIDIAN_TESTS_STEER_VIEW_H
#define MERIDIAN_TESTS_STEER_VIEW_H

#include "dns/dns.h"
#include "dnssec/dnssec_zone.h"
#include "policy/policy_build.h"

#define STEER_VIEW_ERR_MAX 1024

struct steer_view {
    struct config *cfg;
    struct geo_db *geo;
    struct policy_set *policies;
    struct zone_set *zones;
    struct health_table *health;     /* one entry per health target: unknown, never changing */
    struct dns_view view;            /* identity "ns.test", no NSID, udp_max_size 1232 */
    struct dnssec_zone *signed_zone; /* after steer_view_sign, else NULL */
};

/* Builds zone `origin` from `zone_text` (master file) and the services in `services_yaml`
 * (the lines under "services:", which may use checks from `checks_yaml`, the lines under
 * "checks:", or NULL) against the MMDB at `mmdb_path`. The files are written to a private
 * temp directory and removed again. 0, or -1 with a message in err. */
int steer_view_load(struct steer_view *sv, const char *mmdb_path, const char *origin,
                    const char *zone_text, const char *checks_yaml, const char *services_yaml,
                    char err[STEER_VIEW_ERR_MAX]) __attribute__((warn_unused_result));

/* Signs the zone as meridiand does for `dnssec: true` (server/snapshot.c: dnssec_zone_sign
 * with the RFC 9276 NSEC3 parameters, validity 14 days), with a CSK of `algorithm` generated
 * into key_dir (which must exist), and a variant table for `variants` steered RRsets. Its
 * variants are signed by the caller (server/steer_sign.c). 0, or -1 with a message in err. */
int steer_view_sign(struct steer_view *sv, const char *key_dir, uint8_t algorithm,
                    uint32_t variants, char err[STEER_VIEW_ERR_MAX])
    __attribute__((warn_unused_result));

/* The health entry of the target printed as `text` (a member address or CNAME target), or
 * NULL if no member has it. */
struct health_entry *steer_view_health_entry(struct steer_view *sv, const char *text);

/* Sets every health entry back to unknown and never changing, not drained. */
void steer_view_health_reset(struct steer_view *sv);

void steer_view_fini(struct steer_view *sv);

#endif
