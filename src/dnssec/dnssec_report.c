// SPDX-License-Identifier: MIT
/* Operator texts of a signed zone (see dnssec_report.h): the DS, DNSKEY and CDNSKEY records
 * for the parent and the zone's `status` lines. Reads the zone, writes text; the clock is an
 * argument. Any thread that may read the zone. */
#include "dnssec/dnssec_report.h"

#include <inttypes.h>
#include <string.h>

#include "common/dnswire.h"

void
dnssec_report_duration(int64_t seconds, char *out, size_t size)
{
    static const struct {
        char unit;
        int64_t s;
    } units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
    uint64_t left = seconds < 0 ? (uint64_t)0 - (uint64_t)seconds : (uint64_t)seconds;
    size_t n = 0;
    int shown = 0;
    out[0] = '\0';
    for (size_t i = 0; i < 4 && n < size; i++) {
        uint64_t v = left / (uint64_t)units[i].s;
        left -= v * (uint64_t)units[i].s;
        /* The largest unit with a value (seconds if none has), then the next one if it has
         * one. */
        if (shown == 0 && v == 0 && i < 3)
            continue;
        if (shown == 1 && v == 0)
            break;
        n += (size_t)snprintf(out + n, size - n, "%s%" PRIu64 "%c", shown ? " " : "", v,
                              units[i].unit);
        if (++shown == 2)
            break;
    }
}

int
dnssec_report_ds(const struct dnssec_zone *dz, unsigned digests, FILE *out)
{
    char text[DNSSEC_RR_TEXT_MAX];
    uint8_t ds[DNSSEC_DS_RDATA_MAX];
    static const uint8_t types[] = {DNSSEC_DIGEST_SHA256, DNSSEC_DIGEST_SHA384};
    for (unsigned i = 0; i < dz->cds_count; i++) {
        const struct dnssec_key *k = dz->cds_keys[i];
        for (size_t d = 0; d < sizeof(types); d++) {
            if (!(digests & (1u << types[d])))
                continue;
            /* RFC 4034 §5.1.4 over the owner and the DNSKEY RDATA. */
            int len = dnssec_ds_rdata(dz->origin, k->rdata, k->rdata_len, types[d], ds, sizeof(ds));
            if (len < 0 || dnssec_rr_text(dz->origin, dz->dnskey_ttl, DNS_TYPE_DS, ds, (size_t)len,
                                          text, sizeof(text)) < 0)
                return -1;
            fprintf(out, "%s\n", text);
        }
    }
    static const uint16_t key_types[] = {DNS_TYPE_DNSKEY, DNS_TYPE_CDNSKEY};
    for (size_t t = 0; t < 2; t++) {
        for (unsigned i = 0; i < dz->cds_count; i++) {
            const struct dnssec_key *k = dz->cds_keys[i];
            if (dnssec_rr_text(dz->origin, dz->dnskey_ttl, key_types[t], k->rdata, k->rdata_len,
                               text, sizeof(text)) < 0)
                return -1;
            fprintf(out, "%s\n", text);
        }
    }
    return 0;
}

/* "2026-01-02T03:04:05Z (in 13d 22h)" or "(... ago)". */
static void
print_when(FILE *out, time_t t, time_t now)
{
    char text[32], span[32];
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
    dnssec_report_duration((int64_t)t - (int64_t)now, span, sizeof(span));
    fprintf(out, "%s (%s%s%s)", text, t >= now ? "in " : "", span, t >= now ? "" : " ago");
}

static bool
has_zsk(const struct dnssec_zone *dz)
{
    for (size_t i = 0; i < dz->keys.count; i++)
        if (!dnssec_key_is_sep(dz->keys.keys[i]))
            return true;
    return false;
}

static void
print_keys(const struct dnssec_zone *dz, const char *zone, FILE *out)
{
    bool zsk = has_zsk(dz);
    for (size_t i = 0; i < dz->keys.count; i++) {
        const struct dnssec_key *k = dz->keys.keys[i];
        unsigned roles = dz->roles[i];
        const char *kind = !dnssec_key_is_sep(k) ? "ZSK" : zsk ? "KSK" : "CSK";
        fprintf(out, "dnssec: %s key %u %s %s:", zone, k->tag, dnssec_algorithm_name(k->algorithm),
                kind);
        if (roles == 0)
            fprintf(out, " removed (rollover done)");
        if (roles & DNSSEC_ROLE_PUBLISH)
            fprintf(out, " published");
        if (roles & DNSSEC_ROLE_SIGN_ZONE)
            fprintf(out, ", signs zone");
        if (roles & DNSSEC_ROLE_SIGN_KEYS)
            fprintf(out, ", signs keys");
        if (roles & DNSSEC_ROLE_CDS)
            fprintf(out, ", in CDS");
        if ((roles & DNSSEC_ROLE_PUBLISH) && !(roles & ~(unsigned)DNSSEC_ROLE_PUBLISH))
            fprintf(out, " only");
        fprintf(out, "\n");
    }
}

static void
print_roll(const struct dnssec_zone *dz, const struct dnssec_roll *roll,
           const struct dnssec_roll_timing *timing, const char *zone, time_t now, FILE *out)
{
    if (!roll) {
        fprintf(out, "dnssec: %s rollover: the state file cannot be read (see the log)\n", zone);
        return;
    }
    if (roll->phase == DNSSEC_ROLL_NONE) {
        if (roll->finished) {
            fprintf(out, "dnssec: %s rollover: none; the last one (%s %u -> %u) ended ", zone,
                    dnssec_roll_kind_name(roll->kind), roll->old_tag, roll->new_tag);
            print_when(out, roll->finished, now);
            fprintf(out, "\n");
        }
        return;
    }
    fprintf(out, "dnssec: %s rollover: %s %u -> %u, phase %s", zone,
            dnssec_roll_kind_name(roll->kind), roll->old_tag, roll->new_tag,
            dnssec_roll_phase_name(roll->phase));
    if (dz->roll_void)
        fprintf(out, " (ignored by the signer: a key is missing from the key directory)");
    if (roll->since) {
        fprintf(out, " since ");
        print_when(out, roll->since, now);
    }
    struct dnssec_roll next;
    time_t when;
    enum dnssec_roll_action a = dnssec_roll_step(roll, timing, now, &next, &when);
    if (a != DNSSEC_ROLL_WAIT)
        fprintf(out, "; next step now");
    else if (when) {
        fprintf(out, "; next step ");
        print_when(out, when, now);
    } else if (roll->since == 0)
        fprintf(out, "; waiting for the zone of this phase to be published");
    else
        fprintf(out,
                "; waiting for `meridianctl dnssec ds-seen %s` once the parent's DS names "
                "key %u",
                zone, roll->new_tag);
    fprintf(out, "\n");
}

void
dnssec_report_status(struct dnssec_zone *dz, const struct dnssec_roll *roll,
                     const struct dnssec_roll_timing *timing, time_t now, FILE *out)
{
    char zone[DNAME_TEXT_MAX], refresh[32];
    dname_to_text(dz->origin, zone, sizeof(zone));
    fprintf(out, "dnssec: %s signed: %u RRsets signed, %u reused, %u signatures\n", zone,
            dz->signed_rrsets, dz->reused_rrsets, dz->signatures);
    uint32_t earliest = dnssec_zone_earliest_expiration(dz);
    if (earliest != UINT32_MAX) {
        fprintf(out, "dnssec: %s earliest expiration: ", zone);
        print_when(out, (time_t)earliest, now);
        fprintf(out, "\n");
    }
    print_keys(dz, zone, out);
    print_roll(dz, roll, timing, zone, now, out);
    /* Signatures are refreshed once less than `refresh` is left (the main thread's timer): an
     * earliest expiration nearer than that means the re-signing failed or did not run. */
    if (earliest != UINT32_MAX && (int64_t)earliest - (int64_t)now < (int64_t)dz->refresh_s) {
        dnssec_report_duration(dz->refresh_s, refresh, sizeof(refresh));
        fprintf(out, "ALARM: dnssec: %s a signature expires ", zone);
        print_when(out, (time_t)earliest, now);
        fprintf(out, ", less than refresh (%s) away: re-signing is failing\n", refresh);
    }
}
