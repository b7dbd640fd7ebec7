// SPDX-License-Identifier: MIT
/* DNSSEC upkeep and operator commands (see dnssec_ops.h): the queue between the control
 * thread and the main thread for `roll` and `ds-seen`, the timer's decisions (re-signing due,
 * rollover steps), the stamping of published phases, and the operator texts. The queue and
 * the counters are under one mutex; everything else runs on the thread its caller names. */
#include "server/dnssec_ops.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/log.h"
#include "dnssec/dnssec_report.h"
#include "dnssec/dnssec_sigstore.h"

#define MAX_REQUESTS 16 /* as many as the control thread parks */

struct request {
    uint64_t id; /* 0: free */
    enum dnssec_op_kind op;
    enum dnssec_roll_kind kind;
    char zone[DNAME_TEXT_MAX];
    bool done, ok;
    char text[DNSSEC_OPS_TEXT_MAX];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct request requests[MAX_REQUESTS]; /* under lock */
static uint64_t last_id;                      /* under lock */
static struct {
    uint64_t runs, failures;
    char last_error[DNSSEC_OPS_TEXT_MAX];
} upkeep; /* under lock */

int
dnssec_ops_find_zone(const struct snapshot *snap, const char *name, struct dnssec_zone **dz,
                     char err[DNSSEC_OPS_TEXT_MAX])
{
    uint8_t wire[DNAME_MAX_LEN];
    *dz = NULL;
    if (dname_from_text(name, wire) < 0) {
        snprintf(err, DNSSEC_OPS_TEXT_MAX, "'%.300s' is not a domain name", name);
        return -1;
    }
    dname_lower_copy(wire, wire);
    /* The zone set keeps the config's order: its index is the config's and the signer's. */
    for (size_t i = 0; snap->zones && i < snap->zones->count; i++) {
        if (dname_equal(snap->zones->zones[i]->origin, wire)) {
            *dz = snap->signed_zones ? snap->signed_zones[i] : NULL;
            return (int)i;
        }
    }
    snprintf(err, DNSSEC_OPS_TEXT_MAX, "no zone %.300s is configured", name);
    return -1;
}

/* dnssec_ops_find_zone, and an error for a zone that is not signed. */
static int
find_signed(const struct snapshot *snap, const char *name, struct dnssec_zone **dz,
            char err[DNSSEC_OPS_TEXT_MAX])
{
    int i = dnssec_ops_find_zone(snap, name, dz, err);
    if (i >= 0 && !*dz) {
        snprintf(err, DNSSEC_OPS_TEXT_MAX, "zone %.300s is not signed (no `dnssec:` in its entry)",
                 name);
        return -1;
    }
    return i;
}

void
dnssec_ops_timing(const struct snapshot *snap, size_t i, struct dnssec_roll_timing *t)
{
    const struct config_dnssec *d = &snap->cfg->zones[i].dnssec;
    struct dnssec_zone *dz = snap->signed_zones[i];
    uint32_t variants_earliest, variants_ttl;
    dnssec_variants_stats(&dz->variants, &variants_earliest, &variants_ttl);
    *t = (struct dnssec_roll_timing){
        .propagation_s = d->propagation_delay_ms / 1000,
        .parent_propagation_s = d->parent_propagation_delay_ms / 1000,
        .parent_ds_ttl_s = d->parent_ds_ttl_ms / 1000,
        .ttl_key = dz->dnskey_ttl,
        .ttl_sig = dz->max_ttl > variants_ttl ? dz->max_ttl : variants_ttl,
    };
}

int
dnssec_ops_ds(const struct snapshot *snap, const char *zone, unsigned digests, FILE *out,
              char err[DNSSEC_OPS_TEXT_MAX])
{
    struct dnssec_zone *dz;
    if (find_signed(snap, zone, &dz, err) < 0)
        return -1;
    if (dnssec_report_ds(dz, digests, out) < 0) {
        snprintf(err, DNSSEC_OPS_TEXT_MAX, "cannot render the records of %.300s", zone);
        return -1;
    }
    return 0;
}

void
dnssec_ops_status(const struct snapshot *snap, time_t now, FILE *out)
{
    bool any = false;
    for (size_t i = 0; snap->signed_zones && i < snap->cfg->zone_count; i++) {
        struct dnssec_zone *dz = snap->signed_zones[i];
        if (!dz)
            continue;
        char err[DNSSEC_ERR_MAX];
        struct dnssec_roll roll;
        struct dnssec_roll_timing t;
        bool read =
            dnssec_roll_load(snap->cfg->zones[i].dnssec.key_directory, dz->origin, &roll, err) == 0;
        dnssec_ops_timing(snap, i, &t);
        dnssec_report_status(dz, read ? &roll : NULL, &t, now, out);
        any = true;
    }
    if (!any)
        return;
    pthread_mutex_lock(&lock);
    fprintf(out, "dnssec upkeep: %llu reloads to re-sign or roll keys, %llu failed%s%s\n",
            (unsigned long long)upkeep.runs, (unsigned long long)upkeep.failures,
            upkeep.failures ? "; last: " : "", upkeep.failures ? upkeep.last_error : "");
    pthread_mutex_unlock(&lock);
}

uint64_t
dnssec_ops_request(enum dnssec_op_kind op, const char *zone, enum dnssec_roll_kind kind)
{
    uint64_t id = 0;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < MAX_REQUESTS && id == 0; i++) {
        struct request *r = &requests[i];
        if (r->id != 0)
            continue;
        *r = (struct request){.id = ++last_id, .op = op, .kind = kind};
        snprintf(r->zone, sizeof(r->zone), "%s", zone);
        id = r->id;
    }
    pthread_mutex_unlock(&lock);
    return id;
}

bool
dnssec_ops_result(uint64_t id, bool *ok, char text[DNSSEC_OPS_TEXT_MAX])
{
    bool found = false;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < MAX_REQUESTS && !found; i++) {
        struct request *r = &requests[i];
        if (r->id != id || !r->done)
            continue;
        *ok = r->ok;
        snprintf(text, DNSSEC_OPS_TEXT_MAX, "%s", r->text);
        r->id = 0;
        found = true;
    }
    pthread_mutex_unlock(&lock);
    return found;
}

/* Runs one request (main thread, without the lock: it writes files). */
static bool
run_request(const struct snapshot *cur, const struct request *req, time_t now,
            char text[DNSSEC_OPS_TEXT_MAX])
{
    struct dnssec_zone *dz;
    char err[DNSSEC_ERR_MAX];
    struct dnssec_roll r;
    int i = find_signed(cur, req->zone, &dz, text);
    if (i < 0)
        return false;
    const struct config_dnssec *d = &cur->cfg->zones[i].dnssec;
    char zone[DNAME_TEXT_MAX];
    dname_to_text(dz->origin, zone, sizeof(zone));
    if (req->op == DNSSEC_OP_ROLL) {
        if (dnssec_roll_start(d->key_directory, dz->origin, d->algorithm,
                              d->keys == CONFIG_DNSSEC_KSK_ZSK, req->kind, now, &r, err) < 0) {
            snprintf(text, DNSSEC_OPS_TEXT_MAX, "%.250s: %.250s", zone, err);
            return false;
        }
        snprintf(text, DNSSEC_OPS_TEXT_MAX,
                 "%.250s %s rollover started: key %u is published beside key %u (phase publish; "
                 "`meridianctl status` shows the next step)",
                 zone, dnssec_roll_kind_name(r.kind), r.new_tag, r.old_tag);
        return true;
    }
    if (dnssec_roll_ds_seen(d->key_directory, dz->origin, now, &r, err) < 0) {
        snprintf(text, DNSSEC_OPS_TEXT_MAX, "%.250s: %.250s", zone, err);
        return false;
    }
    char wait[32];
    dnssec_report_duration((int64_t)(d->parent_propagation_delay_ms / 1000) +
                               d->parent_ds_ttl_ms / 1000,
                           wait, sizeof(wait));
    log_info("%s: the parent's DS for key %u is seen (meridianctl)", zone, r.new_tag);
    snprintf(text, DNSSEC_OPS_TEXT_MAX,
             "%.250s the parent's DS for key %u noted; key %u goes after parent_propagation_delay "
             "+ parent_ds_ttl (%s) and the zone's own waits",
             zone, r.new_tag, r.old_tag, wait);
    return true;
}

void
dnssec_ops_run_requests(const struct snapshot *current, time_t now)
{
    for (size_t i = 0; i < MAX_REQUESTS; i++) {
        struct request req;
        pthread_mutex_lock(&lock);
        req = requests[i];
        pthread_mutex_unlock(&lock);
        if (req.id == 0 || req.done)
            continue;
        char text[DNSSEC_OPS_TEXT_MAX];
        bool ok = run_request(current, &req, now, text);
        pthread_mutex_lock(&lock);
        if (requests[i].id == req.id) {
            requests[i].done = true;
            requests[i].ok = ok;
            memcpy(requests[i].text, text, sizeof(text));
        }
        pthread_mutex_unlock(&lock);
    }
}

/* Zone i's rollover state with the phase snap was signed in stamped as published at now. */
static void
stamp(const struct snapshot *snap, size_t i, const struct dnssec_roll *cur, time_t now)
{
    const struct config_dnssec *d = &snap->cfg->zones[i].dnssec;
    struct dnssec_zone *dz = snap->signed_zones[i];
    struct dnssec_roll_timing t;
    struct dnssec_roll next;
    char err[DNSSEC_ERR_MAX], zone[DNAME_TEXT_MAX];
    if (dz->roll_void)
        return;
    dnssec_ops_timing(snap, i, &t);
    if (!dnssec_roll_published(cur, &dz->roll, t.ttl_key, t.ttl_sig, now, &next))
        return;
    dname_to_text(dz->origin, zone, sizeof(zone));
    if (dnssec_roll_save(d->key_directory, dz->origin, &next, err) < 0) {
        log_error("%s: rollover: %s", zone, err);
        return;
    }
    if (next.since != cur->since)
        log_info("%s: %s rollover %u -> %u: phase %s published", zone,
                 dnssec_roll_kind_name(next.kind), next.old_tag, next.new_tag,
                 dnssec_roll_phase_name(next.phase));
}

/* Writes what a restart reuses (dnssec_sigstore.h): the zone's signatures and those of the
 * steered RRsets its transfers carry. A failure is only logged: the next start signs anew. */
static void
keep_signatures(const struct snapshot *snap, size_t i, struct dnssec_zone *dz)
{
    const struct zone *zone = snap->zones->zones[i];
    const struct xfr_zone *xz = snap->xfr_zones ? snap->xfr_zones[i] : NULL;
    char err[DNSSEC_ERR_MAX];
    if (zone->dnssec != dz)
        return;
    uint32_t n = xz ? xz->extra_count : 0;
    struct dnssec_sigstore_rrset *more = xcalloc(n ? n : 1, sizeof(*more));
    for (uint32_t e = 0; e < n; e++)
        more[e] = (struct dnssec_sigstore_rrset){.owner = zone->nodes[xz->extras[e].node].name,
                                                 .set = &xz->extras[e].set};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (dnssec_sigstore_save(snap->cfg->zones[i].dnssec.key_directory, zone, more, n, err) < 0) {
        log_error("zone %s: signatures not kept for the next start: %s",
                  snap->cfg->zones[i].origin, err);
    } else {
        dz->changed = false;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        log_info("zone %s: signatures kept for the next start (serial %u, %.3f s)",
                 snap->cfg->zones[i].origin, zone->serial,
                 (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    }
    free(more);
}

void
dnssec_ops_keep_signatures(const struct snapshot *snap)
{
    for (size_t i = 0; snap->signed_zones && i < snap->cfg->zone_count; i++)
        if (snap->signed_zones[i] && snap->signed_zones[i]->changed)
            keep_signatures(snap, i, snap->signed_zones[i]);
}

void
dnssec_ops_published(const struct snapshot *snap, time_t now)
{
    for (size_t i = 0; snap->signed_zones && i < snap->cfg->zone_count; i++) {
        struct dnssec_zone *dz = snap->signed_zones[i];
        struct dnssec_roll cur;
        char err[DNSSEC_ERR_MAX];
        if (!dz)
            continue;
        if (dnssec_roll_load(snap->cfg->zones[i].dnssec.key_directory, dz->origin, &cur, err) < 0)
            log_error("rollover: %s", err);
        else
            stamp(snap, i, &cur, now);
    }
}

bool
dnssec_ops_resign_due(const struct snapshot *snap, size_t i, time_t now, time_t *due_at)
{
    struct dnssec_zone *dz = snap->signed_zones ? snap->signed_zones[i] : NULL;
    *due_at = 0;
    if (!dz)
        return false;
    uint32_t earliest = dnssec_zone_earliest_expiration(dz);
    if (earliest == UINT32_MAX)
        return false;
    *due_at = (time_t)earliest - (time_t)dz->refresh_s;
    return *due_at <= now;
}

static void
sooner(time_t *next, time_t t)
{
    if (t && (*next == 0 || t < *next))
        *next = t;
}

/* One zone's rollover at now; true when a reload must publish its phase. */
static bool
roll_upkeep(const struct snapshot *snap, size_t i, time_t now, time_t *next,
            char why[DNSSEC_OPS_TEXT_MAX])
{
    const struct config_dnssec *d = &snap->cfg->zones[i].dnssec;
    struct dnssec_zone *dz = snap->signed_zones[i];
    struct dnssec_roll cur, nxt;
    struct dnssec_roll_timing t;
    char err[DNSSEC_ERR_MAX], zone[DNAME_TEXT_MAX];
    time_t when;
    dname_to_text(dz->origin, zone, sizeof(zone));
    if (dnssec_roll_load(d->key_directory, dz->origin, &cur, err) < 0) {
        log_error("%s: rollover: %s", zone, err);
        return false;
    }
    if (cur.phase == DNSSEC_ROLL_NONE || dz->roll_void)
        return false;
    if (cur.since == 0) {
        /* Published but not stamped (the save failed then): stamp now. Else the phase is
         * not published yet (its reload failed): publish it. */
        if (!dnssec_roll_same_phase(&cur, &dz->roll)) {
            snprintf(why, DNSSEC_OPS_TEXT_MAX, "%.250s: rollover phase %s to publish", zone,
                     dnssec_roll_phase_name(cur.phase));
            return true;
        }
        stamp(snap, i, &cur, now);
        return false;
    }
    dnssec_ops_timing(snap, i, &t);
    switch (dnssec_roll_step(&cur, &t, now, &nxt, &when)) {
    case DNSSEC_ROLL_WAIT:
        sooner(next, when);
        return false;
    case DNSSEC_ROLL_ADVANCE:
        if (dnssec_roll_save(d->key_directory, dz->origin, &nxt, err) < 0) {
            log_error("%s: rollover: %s", zone, err);
            return false;
        }
        log_info("%s: %s rollover %u -> %u: phase %s begins", zone, dnssec_roll_kind_name(nxt.kind),
                 nxt.old_tag, nxt.new_tag, dnssec_roll_phase_name(nxt.phase));
        snprintf(why, DNSSEC_OPS_TEXT_MAX, "%.250s: rollover phase %s", zone,
                 dnssec_roll_phase_name(nxt.phase));
        return true;
    case DNSSEC_ROLL_FINISH:
        /* The zone without the old key is served: its files go, then the state says so. */
        if (dnssec_roll_retire(d->key_directory, dz->origin, &cur, err) < 0 ||
            dnssec_roll_save(d->key_directory, dz->origin, &nxt, err) < 0) {
            log_error("%s: rollover: %s", zone, err);
            return false;
        }
        log_info("%s: %s rollover %u -> %u done: key %u moved to %s/retired", zone,
                 dnssec_roll_kind_name(cur.kind), cur.old_tag, cur.new_tag, cur.old_tag,
                 d->key_directory);
        return false;
    }
    return false;
}

bool
dnssec_ops_upkeep(const struct snapshot *snap, time_t now, time_t *next,
                  char why[DNSSEC_OPS_TEXT_MAX])
{
    bool reload = false;
    *next = 0;
    why[0] = '\0';
    for (size_t i = 0; snap->signed_zones && i < snap->cfg->zone_count; i++) {
        struct dnssec_zone *dz = snap->signed_zones[i];
        time_t due;
        char reason[DNSSEC_OPS_TEXT_MAX] = "";
        if (!dz)
            continue;
        bool zone_reload = roll_upkeep(snap, i, now, next, reason);
        if (dnssec_ops_resign_due(snap, i, now, &due)) {
            if (!zone_reload) {
                char zone[DNAME_TEXT_MAX];
                dname_to_text(dz->origin, zone, sizeof(zone));
                snprintf(reason, sizeof(reason), "%.250s: signatures due for refresh", zone);
            }
            zone_reload = true;
        } else {
            sooner(next, due);
        }
        if (zone_reload && !reload)
            memcpy(why, reason, DNSSEC_OPS_TEXT_MAX);
        reload = reload || zone_reload;
    }
    return reload;
}

void
dnssec_ops_count(bool ok, const char *error)
{
    pthread_mutex_lock(&lock);
    upkeep.runs++;
    if (!ok) {
        upkeep.failures++;
        snprintf(upkeep.last_error, sizeof(upkeep.last_error), "%s", error ? error : "");
    }
    pthread_mutex_unlock(&lock);
}
