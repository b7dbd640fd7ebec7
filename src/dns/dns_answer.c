// SPDX-License-Identifier: MIT
/* The authoritative answer algorithm (RFC 1034 §4.3.2, with RFC 2308 negative answers,
 * RFC 4592 wildcards, RFC 6672 DNAME, RFC 8482 minimal ANY, RFC 6891 EDNS, RFC 5001 NSID,
 * RFC 8945 TSIG). dns_answer() is pure: it reads the immutable view and writes into the
 * caller's buffer. Runs on every worker thread concurrently. */
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

#include "dns/dns_internal.h"
#include "dnssec/dnssec_zone.h"

/* CNAME/DNAME chain links followed inside a zone; enough for any sane chain and a hard
 * stop for loops (knotd and NSD use similar small limits). */
#define MAX_CHAIN_HOPS 12
/* NS/MX/SRV RRsets whose targets' addresses go in the additional section, written last. */
#define MAX_PENDING_ADDITIONAL 8
/* NSEC3 records of denial proofs (RFC 5155 §7.2): three for a name error, one per wildcard
 * expansion on a chain. */
#define MAX_PROOF_RECORDS 16

/* Sections are written in order (AN, NS, AR) into one buffer, so what belongs after the
 * answer (denial proofs, additional data) is noted while the chain is followed and written
 * at the end. */
struct pending_additional {
    const struct zone *zone;
    const struct zone_rrset *set;
    const uint8_t *cut; /* in a referral: the cut, whose glue is required */
};

struct answer {
    const struct dns_view *view;
    const struct dns_query *q;
    const struct dns_client *client;
    bool tcp;
    struct dns_writer w;
    uint16_t flags;
    int rcode;
    bool steered;
    struct dns_decision decision; /* the first steered name's (dns_result.decision) */
    uint8_t ecs_scope;   /* widest prefix for which this answer holds (RFC 7871 §7.2.1) */
    bool have_pc;        /* pc computed (only steered answers need it) */
    /* The names of the CNAME/DNAME chain answered so far (lowercased; the query's name
     * first, the rest live in follow()'s frames): a target already among them ends the
     * chain, so a loop is answered once, never repeated up to MAX_CHAIN_HOPS times. */
    const uint8_t *chain[MAX_CHAIN_HOPS + 1];
    int chain_len;
    struct policy_client pc;
    struct pending_additional additional[MAX_PENDING_ADDITIONAL];
    int additional_count;
    const struct nsec3_entry *proof[MAX_PROOF_RECORDS];
    int proof_count;
    uint32_t proof_ttl_cap; /* a steered NODATA's proof lives no longer than its SOA */
    /* Where the origin of origin_zone, the zone answering, is in the question: the SOA of
     * a negative answer points there and each NSEC3 owner is one label and a pointer there,
     * with no compression search (SIZE_MAX: unknown, searched for). */
    const struct zone *origin_zone;
    size_t origin_at;
    bool transfer;          /* an AXFR/IXFR for the caller (dns_client.transfers) */
    const struct tsig_key *key; /* the key that signed the query, verified; NULL: unsigned */
    bool nsid;                  /* room was reserved for NSID (put_opt) */
    /* DNAME nodes the chain went through: one met again would synthesize names below its
     * own target forever (a DNAME whose target is below its owner), so it ends the chain. */
    const struct zone_node *dnames[MAX_CHAIN_HOPS + 1];
    int dname_count;
    /* For rate limiting (dns_result.response_class): the zone answering, the closest
     * encloser of a wildcard answer, the cut of a referral. */
    const struct zone *zone;
    const uint8_t *wildcard_parent;
    const uint8_t *referral_cut;
    int ede;                                   /* RFC 8914 INFO-CODE to send, -1 = none */
    uint8_t server_cookie[DNS_COOKIE_SERVER_LEN]; /* sent with the client cookie (q->cookie) */
};

static void resolve(struct answer *a, const struct zone *zone, const uint8_t *owner,
                    const uint8_t *lname, int hops);

/* A required RRset did not fit: RFC 2181 §9 sets TC; nothing after it is added. */
static bool
truncated(const struct answer *a)
{
    return (a->flags & DNS_FLAG_TC) != 0;
}

/* RFC 4035 §3.1.1: a DO query gets the RRSIGs of each authoritative RRset with it. RFC 4034
 * §3: "The TTL value of an RRSIG RR MUST match the TTL value of the RRset it covers", so the
 * served (possibly capped) TTL, which stays at or below the signature's original TTL. */
static int
write_rrset_placed(struct answer *a, enum dns_section section, const uint8_t *owner,
                   const struct zone_rrset *set, size_t owner_at, size_t suffix_at)
{
    int rc = owner_at != SIZE_MAX ? dns_writer_rrset_after(&a->w, section, owner, set, owner_at)
                                  : dns_writer_rrset_below(&a->w, section, owner, set, suffix_at);
    if (rc < 0)
        return -1;
    if (!a->q->edns_do || !set->rrsig)
        return 0;
    struct zone_rrset sig = *set->rrsig;
    sig.ttl = set->ttl;
    return dns_writer_rrset_after(&a->w, section, owner, &sig, a->w.last_owner);
}

/* An RRset with its owner found by the writer's compression search. */
static int
write_rrset(struct answer *a, enum dns_section section, const uint8_t *owner,
            const struct zone_rrset *set)
{
    return write_rrset_placed(a, section, owner, set, SIZE_MAX, SIZE_MAX);
}

/* A required RRset (and its signatures: RFC 4035 §3.1.1 "the name server MUST set the TC
 * bit" when they do not fit). */
static void
add_required_placed(struct answer *a, enum dns_section section, const uint8_t *owner,
                    const struct zone_rrset *set, size_t owner_at, size_t suffix_at)
{
    if (truncated(a))
        return;
    if (write_rrset_placed(a, section, owner, set, owner_at, suffix_at) < 0)
        a->flags |= DNS_FLAG_TC;
}

static void
add_required(struct answer *a, enum dns_section section, const uint8_t *owner,
             const struct zone_rrset *set)
{
    add_required_placed(a, section, owner, set, SIZE_MAX, SIZE_MAX);
}

/* Where zone's origin is already in the response (answer.origin_at), or SIZE_MAX. */
static size_t
origin_at(const struct answer *a, const struct zone *zone)
{
    return zone == a->origin_zone ? a->origin_at : SIZE_MAX;
}

static bool signing(const struct answer *a, const struct zone *zone);

/* The negative answer's authority records from zone->negative (dns_negative.c) when the
 * response holds only the question so far (the state they were made in): the SOA, with its
 * RRSIGs for DO, and, when the noted proof starts with the records made beside them (a name
 * error directly below the apex: add_nxdomain_proof), those; the rest of the proof is
 * written by finish_sections. False: nothing written, the record path's turn. */
static bool
replay_negative(struct answer *a, const struct zone *zone)
{
    const struct dns_negative *n = zone->negative;
    const struct dns_query *q = a->q;
    if (!n || truncated(a) || a->origin_zone != zone ||
        a->w.pos != DNS_HEADER_LEN + a->w.qname_len + 4 ||
        dns_negative_conflict(n, q->lname, q->qname_len, zone->origin_len))
        return false;
    int level = 0, written = 0;
    if (signing(a, zone)) {
        level = 1;
        if (n->replay.len[2] && a->proof_ttl_cap == UINT32_MAX && a->proof_count >= 1 &&
            a->proof[0] == n->ce && (!n->wc || (a->proof_count >= 2 && a->proof[1] == n->wc))) {
            level = 2;
            written = n->wc ? 2 : 1;
        }
    }
    if (dns_writer_replay(&a->w, DNS_SECTION_NS, &n->replay, level, a->origin_at) != 0)
        return false;
    a->proof_count -= written;
    memmove(a->proof, a->proof + written, (size_t)a->proof_count * sizeof(a->proof[0]));
    return true;
}

/* RFC 2308 §3 and §5: SOA in the authority section with TTL min(SOA TTL, SOA MINIMUM). */
static void
add_negative_capped(struct answer *a, const struct zone *zone, uint32_t ttl_cap)
{
    if (ttl_cap == UINT32_MAX && replay_negative(a, zone))
        return;
    struct zone_rrset soa = *zone->soa;
    soa.ttl = zone->negative_ttl < ttl_cap ? zone->negative_ttl : ttl_cap;
    add_required_placed(a, DNS_SECTION_NS, zone->origin, &soa, origin_at(a, zone), SIZE_MAX);
}

static void
add_negative(struct answer *a, const struct zone *zone)
{
    add_negative_capped(a, zone, UINT32_MAX);
}

/* SVCB/HTTPS additional data (RFC 9460 §4.1): AliasMode targets are followed this many
 * links, and at most this many target names get records, so a chain or a loop of aliases
 * costs a bounded amount of work. */
#define MAX_SVCB_DEPTH 4
#define MAX_SVCB_TARGETS 16

/* The SVCB/HTTPS target nodes already given additional records in one write_additional
 * call (other types have one level and need only listed_before). */
struct targets_seen {
    const struct zone_rrset *answer; /* in the answer section already */
    uint32_t node[MAX_SVCB_TARGETS];
    int count;
};

static bool
target_seen(struct targets_seen *seen, uint32_t idx)
{
    for (int i = 0; i < seen->count; i++)
        if (seen->node[i] == idx)
            return true;
    if (seen->count == MAX_SVCB_TARGETS)
        return true; /* the bound: no more targets */
    seen->node[seen->count++] = idx;
    return false;
}

/* Whether record i's target is also an earlier record's. */
static bool
listed_before(const struct zone_rrset *set, uint16_t i)
{
    for (uint16_t j = 0; j < i; j++)
        if (set->targets[j] == set->targets[i])
            return true;
    return false;
}

static bool
is_svcb(uint16_t type)
{
    return type == DNS_TYPE_SVCB || type == DNS_TYPE_HTTPS;
}

/* Address records of the in-zone targets of an NS/MX/SRV/SVCB/HTTPS RRset. In a referral,
 * glue below the cut is required (RFC 9471 §3: TC if it does not fit); anything else is
 * optional and simply left out when there is no room. An SVCB/HTTPS target also gets its
 * own RRset of that type (RFC 9460 §4.1: "A, AAAA, and SVCB records ... for any TargetNames
 * that are in the zone"), and the AliasMode records among those are followed in turn. */
static void
write_targets(struct answer *a, const struct zone *zone, const struct zone_rrset *set,
              const uint8_t *cut, struct targets_seen *seen, int depth)
{
    const uint8_t *rd = set->rdata;
    for (uint16_t i = 0; i < set->count && !truncated(a); i++) {
        uint32_t idx = set->targets[i];
        uint16_t rdlen = dnswire_get16(rd);
        /* SvcPriority and the TargetName's first octet (a transferred record may be short:
         * zone_build does not parse SVCB RDATA). */
        bool service = is_svcb(set->type) && rdlen >= 3;
        bool alias = service && dnswire_get16(rd + 2) == 0;
        /* ServiceMode "." (the owner, zone_db.c): under ANY the owner's addresses are answer
         * data (TCP) or left out on purpose (UDP, RFC 8482): not additional data. */
        bool owner = service && !alias && rd[4] == 0;
        rd += 2u + rdlen;
        if (idx == ZONE_NONE || (depth > 0 && !alias) || listed_before(set, i) ||
            (owner && a->q->qtype == DNS_TYPE_ANY) ||
            (is_svcb(set->type) && target_seen(seen, idx)))
            continue;
        const struct zone_node *t = &zone->nodes[idx];
        /* Outside a referral, data below a zone cut is not ours to give. */
        if (!cut && (t->flags & ZONE_NODE_NONAUTH))
            continue;
        bool required = cut && dname_is_subdomain(t->name, cut);
        static const uint16_t types[] = {DNS_TYPE_A, DNS_TYPE_AAAA};
        for (int k = 0; k < 2; k++) {
            const struct zone_rrset *addr = zone_node_rrset(t, types[k]);
            if (addr && write_rrset(a, DNS_SECTION_AR, t->name, addr) < 0 && required)
                a->flags |= DNS_FLAG_TC;
        }
        const struct zone_rrset *svcb = is_svcb(set->type) ? zone_node_rrset(t, set->type) : NULL;
        if (!svcb || svcb == seen->answer || svcb == set ||
            write_rrset(a, DNS_SECTION_AR, t->name, svcb) < 0)
            continue;
        if (depth + 1 < MAX_SVCB_DEPTH && svcb->targets)
            write_targets(a, zone, svcb, cut, seen, depth + 1);
    }
}

static void
write_additional(struct answer *a, const struct zone *zone, const struct zone_rrset *set,
                 const uint8_t *cut)
{
    if (!set->targets || truncated(a))
        return;
    struct targets_seen seen = {.answer = set, .count = 0};
    write_targets(a, zone, set, cut, &seen, 0);
}

/* Notes an RRset whose targets' addresses go in the additional section (finish_sections). */
static void
add_additional(struct answer *a, const struct zone *zone, const struct zone_rrset *set,
               const uint8_t *cut)
{
    if (!set->targets)
        return;
    if (a->additional_count == MAX_PENDING_ADDITIONAL) {
        write_additional(a, zone, set, cut); /* cannot happen with one answer's RRsets */
        return;
    }
    a->additional[a->additional_count++] =
        (struct pending_additional){.zone = zone, .set = set, .cut = cut};
}

/* The zone's signatures and proofs go to DO queries only (RFC 4035 §3.1, RFC 3225 §3). */
static bool
signing(const struct answer *a, const struct zone *zone)
{
    return a->q->edns_do && zone->dnssec;
}

enum denial {
    DENY_NODATA,           /* RFC 5155 §7.2.3, §7.2.4 (DS); name errors: add_nxdomain_proof */
    DENY_WILDCARD_NODATA,  /* §7.2.5 */
    DENY_WILDCARD_ANSWER,  /* §7.2.6: no closer match than the wildcard */
    DENY_INSECURE_REFERRAL /* §7.2.7: the delegation has no DS */
};

/* Notes a proof's records for finish_sections, each once, and starts fetching their bytes. */
static void
note_proof(struct answer *a, const struct zone *zone, const struct nsec3_proof *proof)
{
    for (unsigned i = 0; i < proof->count; i++) {
        bool seen = false;
        for (int j = 0; j < a->proof_count && !seen; j++)
            seen = a->proof[j] == proof->entries[i];
        if (!seen && a->proof_count < MAX_PROOF_RECORDS) {
            a->proof[a->proof_count++] = proof->entries[i];
            nsec3_chain_prefetch(&zone->dnssec->chain, proof->entries[i]);
        }
    }
}

/* Notes the NSEC3 records that prove `kind` for lname (lowercased) in a signed zone. */
static void
add_proof(struct answer *a, const struct zone *zone, enum denial kind, const uint8_t *lname)
{
    if (!signing(a, zone))
        return;
    const struct nsec3_chain *c = &zone->dnssec->chain;
    struct nsec3_proof proof;
    int rc = -1;
    switch (kind) {
    case DENY_NODATA:
        rc = nsec3_prove_nodata(c, zone, lname, a->q->qtype, &proof);
        break;
    case DENY_WILDCARD_NODATA:
        rc = nsec3_prove_wildcard_nodata(c, zone, lname, &proof);
        break;
    case DENY_WILDCARD_ANSWER:
        rc = nsec3_prove_wildcard_answer(c, zone, lname, &proof);
        break;
    case DENY_INSECURE_REFERRAL:
        rc = nsec3_prove_referral(c, zone, lname, &proof);
        break;
    }
    if (rc == 0)
        note_proof(a, zone, &proof);
}

/* RFC 5155 §7.2.2 for a name resolve() did not find: ce is where its walk ended, next_closer
 * the name one label below (no second walk). */
static void
add_nxdomain_proof(struct answer *a, const struct zone *zone, const struct zone_node *ce,
                   const uint8_t *next_closer)
{
    struct nsec3_proof proof;
    if (!signing(a, zone) ||
        nsec3_prove_nxdomain_at(&zone->dnssec->chain, zone, ce, next_closer, &proof) != 0)
        return;
    /* The two records that depend on ce alone first, the next closer name's cover last (RFC
     * 5155 §7.2.2 sets no order): directly below the apex they are the ones made in advance
     * beside the SOA (replay_negative). */
    if (proof.count == 3) {
        const struct nsec3_entry *cover = proof.entries[1];
        proof.entries[1] = proof.entries[2];
        proof.entries[2] = cover;
    }
    note_proof(a, zone, &proof);
}

/* A steered name's NODATA (its policy has no answer of the asked type here and now): the
 * NSEC3 record made without that type (dnssec_zone_steered_denial), with the TTL of the
 * capped SOA, since health may bring the type back soon. */
static void
add_steered_proof(struct answer *a, const struct zone *zone, const struct zone_node *node,
                  uint16_t type, uint32_t ttl_cap)
{
    if (!signing(a, zone))
        return;
    const struct nsec3_entry *e =
        dnssec_zone_steered_denial(zone->dnssec, (uint32_t)(node - zone->nodes), type);
    if (!e) {
        add_proof(a, zone, DENY_NODATA, node->name);
        return;
    }
    if (a->proof_count < MAX_PROOF_RECORDS)
        a->proof[a->proof_count++] = e;
    if (ttl_cap < a->proof_ttl_cap)
        a->proof_ttl_cap = ttl_cap;
}

/* The authority section's proofs, then the additional section. Proofs come from the
 * zone that answers (a chain stays in its zone), so each NSEC3 owner is written as its
 * hashed label and a pointer to that zone's origin. */
static void
finish_sections(struct answer *a)
{
    const struct nsec3_chain *chain =
        a->origin_zone && a->origin_zone->dnssec ? &a->origin_zone->dnssec->chain : NULL;
    for (int i = 0; i < a->proof_count && !truncated(a); i++) {
        const struct nsec3_entry *e = a->proof[i];
        const uint8_t *wire;
        size_t len;
        /* The record and its RRSIGs pre-rendered at load: one copy, at the TTL they were made
         * with (a steered NODATA's capped TTL takes the record path). */
        if (chain && a->proof_ttl_cap == UINT32_MAX && (wire = nsec3_chain_wire(chain, e, &len))) {
            int rc = dns_writer_wire_below(&a->w, DNS_SECTION_NS, wire, len, a->origin_at);
            if (rc < 0)
                a->flags |= DNS_FLAG_TC;
            if (rc <= 0)
                continue;
        }
        struct zone_rrset set = e->rrset;
        if (set.ttl > a->proof_ttl_cap)
            set.ttl = a->proof_ttl_cap;
        add_required_placed(a, DNS_SECTION_NS, e->owner, &set, SIZE_MAX, a->origin_at);
    }
    for (int i = 0; i < a->additional_count && !truncated(a); i++)
        write_additional(a, a->additional[i].zone, a->additional[i].set, a->additional[i].cut);
}

/* RFC 1034 §4.3.2 step 3b: a referral to the child zone's servers; not authoritative. */
static void
add_referral(struct answer *a, const struct zone *zone, const struct zone_node *cut)
{
    const struct zone_rrset *ns = zone_node_rrset(cut, DNS_TYPE_NS);
    /* After a CNAME from our own data the answer stays authoritative for that part. */
    if (a->w.count[DNS_SECTION_AN] == 0)
        a->flags &= (uint16_t)~DNS_FLAG_AA;
    a->referral_cut = cut->name;
    add_required(a, DNS_SECTION_NS, cut->name, ns);
    /* RFC 4035 §3.1.4: the signed DS RRset of a secure delegation, or the proof that there
     * is none. */
    const struct zone_rrset *ds = zone_node_rrset(cut, DNS_TYPE_DS);
    if (signing(a, zone) && ds)
        add_required(a, DNS_SECTION_NS, cut->name, ds);
    else
        add_proof(a, zone, DENY_INSECURE_REFERRAL, cut->name);
    add_additional(a, zone, ns, cut->name);
}

/* The ECS option is echoed (RFC 7871 §7.2.1: a well-formed option on a listener that honours
 * it); only then does the answer carry a scope. */
static bool
echo_ecs(const struct dns_query *q, const struct dns_client *client)
{
    return q->ecs && !client->ecs_ignore;
}

/* Follows a CNAME or synthesized CNAME target if it lies in this zone.
 *
 * RFC 7871 §7.2.1: one SCOPE covers the whole message, so "For the specific case of a CNAME
 * chain, the Authoritative Nameserver SHOULD only place the initial CNAME record in the
 * Answer section". We do so whenever the chain involves client-dependent data and the
 * reply carries ECS: a tailored CNAME (a CNAME service) is written alone, and a chain from
 * the first CNAME that reaches a steered name is taken back to that CNAME, with the scope
 * and rcode it had there; the resolver asks for the target itself and gets its own scope.
 * Without ECS in the reply there is no scope to blur and a fully static chain has scope 0
 * throughout: both are followed as usual. */
static void
follow(struct answer *a, const struct zone *zone, const uint8_t *target, int hops)
{
    uint8_t ltarget[DNAME_MAX_LEN];
    if (truncated(a) || hops >= MAX_CHAIN_HOPS)
        return;
    dname_lower_copy(ltarget, target);
    if (!dname_is_subdomain(ltarget, zone->origin))
        return;
    for (int i = 0; i < a->chain_len; i++)
        if (dname_equal(a->chain[i], ltarget))
            return; /* a loop: its records are all in the answer already */
    bool rewind = echo_ecs(a->q, a->client) && hops == 0;
    if (rewind && a->steered)
        return; /* the initial CNAME is itself tailored */
    struct dns_writer_mark mark;
    uint16_t flags = a->flags;
    int rcode = a->rcode;
    uint8_t scope = a->ecs_scope;
    int additional_count = a->additional_count, proof_count = a->proof_count;
    dns_writer_mark(&a->w, &mark);
    a->chain[a->chain_len++] = ltarget;
    resolve(a, zone, target, ltarget, hops + 1);
    a->chain_len--;
    if (rewind && a->steered) {
        dns_writer_rewind(&a->w, &mark);
        a->additional_count = additional_count;
        a->proof_count = proof_count;
        a->flags = flags;
        a->rcode = rcode;
        a->ecs_scope = scope;
        a->steered = false;
    }
}

/* RFC 8482 §4.1: a subset is enough. Over UDP one RRset keeps ANY from being an
 * amplification tool; over TCP the client gets every RRset of the name. */
static void
add_any(struct answer *a, const struct zone *zone, const struct zone_node *node,
        const uint8_t *owner, const uint8_t *lname, bool wildcard)
{
    if (node->rrset_count == 0) {
        add_negative(a, zone);
        add_proof(a, zone, wildcard ? DENY_WILDCARD_NODATA : DENY_NODATA, lname);
        return;
    }
    if (wildcard)
        add_proof(a, zone, DENY_WILDCARD_ANSWER, lname);
    uint16_t n = a->tcp ? node->rrset_count : 1;
    for (uint16_t i = 0; i < n; i++)
        add_required(a, DNS_SECTION_AN, owner, &node->rrsets[i]);
    /* The targets of NS/MX/SRV RRsets get their addresses as for a query of that type
     * (RFC 1035 §3.3.9, §3.3.11; RFC 2782), after the whole answer section. */
    for (uint16_t i = 0; i < n; i++)
        add_additional(a, zone, &node->rrsets[i], NULL);
}

/* Who the steering policy answers (policy_client_init): worked out once per query, and only
 * for steered names. */
static const struct policy_client *
policy_client(struct answer *a)
{
    if (a->have_pc)
        return &a->pc;
    const struct dns_query *q = a->q;
    struct policy_ecs ecs = {.family = q->ecs_family, .source = q->ecs_source,
                             .addr = q->ecs_addr};
    policy_client_init(&a->pc, a->client->addr, echo_ecs(q, a->client) ? &ecs : NULL);
    a->have_pc = true;
    return &a->pc;
}

/* Writes one synthesized record set from the policy's choice; in a signed zone with the
 * signature made for exactly this RRset off the query path (dnssec_variants.h), whose
 * original TTL is the service's: the served TTL is capped at or below it. */
static void
add_policy_rrset(struct answer *a, const struct zone *zone, const struct zone_node *node,
                 const uint8_t *owner, const struct policy_service *svc,
                 const struct policy_answer *ans, uint16_t type)
{
    uint8_t rdata[POLICY_MAX_ANSWER * (2 + 16) + 2 + DNAME_MAX_LEN];
    size_t pos = policy_answer_rdata(svc, ans, rdata, sizeof(rdata));
    struct zone_rrset set = {.type = type, .count = (uint16_t)ans->count, .ttl = ans->ttl_s,
                             .rdata = rdata};
    if (signing(a, zone))
        set.rrsig = dnssec_variants_find(&zone->dnssec->variants, node->name, type, svc->ttl_s,
                                         rdata, set.count, pos);
    add_required(a, DNS_SECTION_AN, owner, &set);
}

/* The policy's choice for `qtype` at a steered name: the decision (the first one of the
 * query, for the counters) and the ECS scope are noted in the answer. */
static void
steer_select(struct answer *a, const struct zone_node *node, const struct policy_service *svc,
             uint16_t qtype, struct policy_answer *ans)
{
    policy_select(svc, policy_client(a), qtype, a->client->health, a->client->random,
                  a->client->now_s, ans);
    if (!a->steered)
        a->decision = (struct dns_decision){
            .service = (uint32_t)(node->steer - 1), .order = ans->order, .pool = ans->pool,
            .members = ans->count, .member = ans->count ? ans->members[0] : NULL,
            .ttl_s = ans->ttl_s, .scope = ans->scope, .failed_open = ans->failed_open};
    a->steered = true;
    if (ans->scope > a->ecs_scope)
        a->ecs_scope = ans->scope;
}

/* ANY over TCP at an address service: every RRset of the name, as add_any gives a static
 * name over TCP (RFC 8482 §4.1 lets UDP answer a subset; a client that came over TCP asked
 * for all): the service's answer for each family it has, then the name's own records of
 * other types. A and AAAA records the zone file has at the name are the service's to
 * answer, as for a query of either type. NODATA only when there is nothing at all. */
static void
answer_steered_any(struct answer *a, const struct zone *zone, const struct zone_node *node,
                   const uint8_t *owner, const struct policy_service *svc)
{
    static const uint16_t families[] = {DNS_TYPE_A, DNS_TYPE_AAAA};
    bool answered = false;
    uint32_t ttl_s = svc->ttl_s;
    for (int i = 0; i < 2; i++) {
        if (!(i == 0 ? svc->has_v4 : svc->has_v6))
            continue;
        struct policy_answer ans;
        steer_select(a, node, svc, families[i], &ans);
        if (ans.count == 0) {
            ttl_s = ans.ttl_s;
            continue;
        }
        add_policy_rrset(a, zone, node, owner, svc, &ans, families[i]);
        answered = true;
    }
    for (uint16_t i = 0; i < node->rrset_count; i++) {
        const struct zone_rrset *set = &node->rrsets[i];
        if (set->type == DNS_TYPE_A || set->type == DNS_TYPE_AAAA)
            continue;
        add_required(a, DNS_SECTION_AN, owner, set);
        answered = true;
    }
    for (uint16_t i = 0; i < node->rrset_count; i++)
        if (node->rrsets[i].type != DNS_TYPE_A && node->rrsets[i].type != DNS_TYPE_AAAA)
            add_additional(a, zone, &node->rrsets[i], NULL);
    if (!answered) {
        add_negative_capped(a, zone, ttl_s);
        add_steered_proof(a, zone, node, svc->has_v4 ? DNS_TYPE_A : DNS_TYPE_AAAA, ttl_s);
    }
}

/* A steered name (ARCHITECTURE.md §5). Returns false when the static data should answer instead
 * (address services asked for types other than A/AAAA). */
static bool
answer_steered(struct answer *a, const struct zone *zone, const struct zone_node *node,
               const uint8_t *owner, int hops)
{
    /* The zone compiler set node->steer from the policy set this view was built with. */
    const struct policy_service *svc = &a->view->policies->services[node->steer - 1];
    uint16_t qtype = a->q->qtype;
    if (qtype == DNS_TYPE_ANY && !svc->cname) {
        if (a->tcp) {
            answer_steered_any(a, zone, node, owner, svc);
            return true;
        }
        /* RFC 8482 §4.1: over UDP ANY gets one RRset, the service's address answer. */
        qtype = svc->has_v4 ? DNS_TYPE_A : DNS_TYPE_AAAA;
    }
    if (!svc->cname && qtype != DNS_TYPE_A && qtype != DNS_TYPE_AAAA)
        return false;
    struct policy_answer ans;
    steer_select(a, node, svc, qtype, &ans);
    if (ans.count == 0) {
        /* Cap the negative TTL at the service's: health may bring members back soon. */
        add_negative_capped(a, zone, ans.ttl_s);
        add_steered_proof(a, zone, node, svc->cname ? DNS_TYPE_CNAME : qtype, ans.ttl_s);
        return true;
    }
    add_policy_rrset(a, zone, node, owner, svc, &ans, svc->cname ? DNS_TYPE_CNAME : qtype);
    if (svc->cname && qtype != DNS_TYPE_CNAME && qtype != DNS_TYPE_ANY)
        follow(a, zone, ans.members[0]->target, hops);
    return true;
}

/* QTYPE RRSIG in a signed zone: the signatures of the name's RRsets, as BIND answers (RFC
 * 4035 says nothing of the query; its NSEC3 record lists RRSIG, so a NODATA would be bogus).
 * False if the name has none (an empty non-terminal: the NODATA proof holds). */
static bool
add_rrsigs(struct answer *a, const struct zone_node *node, const uint8_t *owner)
{
    bool any = false;
    for (uint16_t i = 0; i < node->rrset_count; i++) {
        const struct zone_rrset *set = &node->rrsets[i];
        if (!set->rrsig)
            continue;
        struct zone_rrset sig = *set->rrsig;
        sig.ttl = set->ttl;
        add_required(a, DNS_SECTION_AN, owner, &sig);
        any = true;
    }
    return any;
}

/* Answers from `node`: the name itself, or (wildcard) the wildcard that matched lname. A
 * signed zone proves, with a wildcard, that no closer name exists (RFC 4035 §3.1.3.3). */
static void
answer_node(struct answer *a, const struct zone *zone, const struct zone_node *node,
            const uint8_t *owner, const uint8_t *lname, bool wildcard, int hops)
{
    uint16_t qtype = a->q->qtype;
    if ((node->flags & ZONE_NODE_STEERED) && a->view->policies &&
        answer_steered(a, zone, node, owner, hops))
        return;
    if ((node->flags & ZONE_NODE_CNAME) && qtype != DNS_TYPE_CNAME && qtype != DNS_TYPE_ANY) {
        /* RFC 1034 §3.6.2: answer with the CNAME and restart at its target. */
        const struct zone_rrset *cname = zone_node_rrset(node, DNS_TYPE_CNAME);
        if (signing(a, zone))
            zone_rrset_prefetch_rrsig(cname);
        add_required(a, DNS_SECTION_AN, owner, cname);
        if (wildcard)
            add_proof(a, zone, DENY_WILDCARD_ANSWER, lname);
        follow(a, zone, cname->rdata + 2, hops);
        return;
    }
    if (qtype == DNS_TYPE_ANY) {
        add_any(a, zone, node, owner, wildcard ? lname : node->name, wildcard);
        return;
    }
    if (qtype == DNS_TYPE_RRSIG && zone->dnssec && add_rrsigs(a, node, owner))
        return;
    const struct zone_rrset *set = zone_node_rrset(node, qtype);
    if (signing(a, zone))
        zone_rrset_prefetch_rrsig(set ? set : zone->soa);
    if (!set) {
        add_negative(a, zone); /* NODATA: RFC 2308 §2.2 */
        add_proof(a, zone, wildcard ? DENY_WILDCARD_NODATA : DENY_NODATA,
                  wildcard ? lname : node->name);
        return;
    }
    add_required(a, DNS_SECTION_AN, owner, set);
    if (wildcard)
        add_proof(a, zone, DENY_WILDCARD_ANSWER, lname);
    add_additional(a, zone, set, NULL);
}

/* RFC 6672 §2.3: the DNAME, then a CNAME synthesized from it (TTL of the DNAME, §3.1),
 * then the new name is looked up. */
static void
answer_dname(struct answer *a, const struct zone *zone, const struct zone_node *node,
             const uint8_t *owner, const uint8_t *lname, int hops)
{
    const struct zone_rrset *dname = zone_node_rrset(node, DNS_TYPE_DNAME);
    for (int i = 0; i < a->dname_count; i++)
        if (a->dnames[i] == node)
            return; /* met again: its records are in the answer already (RFC 1034 §3.6.2) */
    if (a->dname_count <= MAX_CHAIN_HOPS)
        a->dnames[a->dname_count++] = node;
    add_required(a, DNS_SECTION_AN, node->name, dname);
    if (truncated(a))
        return;
    int name_len = dname_wire_length(lname, DNAME_MAX_LEN);
    int prefix_len = name_len - node->name_len;
    const uint8_t *target = dname->rdata + 2;
    int target_len = dname_wire_length(target, dnswire_get16(dname->rdata));
    if (target_len < 0)
        return;
    if (prefix_len + target_len > DNAME_MAX_LEN) {
        a->rcode = DNS_RCODE_YXDOMAIN; /* RFC 6672 §2.2: the result would be too long */
        return;
    }
    uint8_t synth[DNAME_MAX_LEN];
    memcpy(synth, owner, (size_t)prefix_len); /* the labels as the client wrote them */
    memcpy(synth + prefix_len, target, (size_t)target_len);
    if (dns_writer_rr(&a->w, DNS_SECTION_AN, owner, DNS_TYPE_CNAME, DNS_CLASS_IN, dname->ttl,
                      synth, (uint16_t)(prefix_len + target_len)) < 0) {
        a->flags |= DNS_FLAG_TC;
        return;
    }
    follow(a, zone, synth, hops);
}

/* Looks `lname` up in `zone` top-down from the apex, one table probe per label: the walk
 * meets zone cuts and DNAMEs on the way and ends at the name or its closest encloser.
 * `owner` is the same name as written in the query or in the referring RDATA. */
static void
resolve(struct answer *a, const struct zone *zone, const uint8_t *owner, const uint8_t *lname,
        int hops)
{
    int offsets[DNAME_MAX_LABELS + 1];
    int labels = 0, len = 0;
    while (lname[len]) {
        offsets[labels++] = len;
        len += 1 + lname[len];
    }
    len++;

    const struct zone_node *node = &zone->nodes[0];
    /* RFC 6672 §2.3 allows a DNAME at the apex (beside SOA and NS): it redirects every name
     * below the apex, as one further down redirects its subtree. */
    if ((node->flags & ZONE_NODE_DNAME) && labels > zone->origin_labels) {
        answer_dname(a, zone, node, owner, lname, hops);
        return;
    }
    int depth;
    for (depth = zone->origin_labels + 1; depth <= labels; depth++) {
        int off = offsets[labels - depth];
        const struct zone_node *n = zone_lookup(zone, lname + off, len - off);
        if (!n)
            break;
        node = n;
        /* RFC 4035 §3.1.4.1 spirit: DS at a cut belongs to the parent side. */
        if ((n->flags & ZONE_NODE_DELEGATION) &&
            !(depth == labels && a->q->qtype == DNS_TYPE_DS)) {
            add_referral(a, zone, n);
            return;
        }
        if ((n->flags & ZONE_NODE_DNAME) && depth < labels) {
            answer_dname(a, zone, n, owner, lname, hops);
            return;
        }
    }
    if (depth > labels) {
        answer_node(a, zone, node, owner, lname, false, hops);
        return;
    }
    /* No such name: RFC 4592 §3.3.1, a wildcard child of the closest encloser answers. */
    if ((node->flags & ZONE_NODE_WILDCARD_CHILD) && node->name_len + 2 <= DNAME_MAX_LEN) {
        uint8_t wild[DNAME_MAX_LEN];
        wild[0] = 1;
        wild[1] = '*';
        memcpy(wild + 2, node->name, node->name_len);
        const struct zone_node *w = zone_lookup(zone, wild, node->name_len + 2);
        if (w) {
            if (!a->wildcard_parent)
                a->wildcard_parent = node->name;
            answer_node(a, zone, w, owner, lname, true, hops);
            return;
        }
    }
    a->rcode = DNS_RCODE_NXDOMAIN;
    /* The proof is only noted here (finish_sections writes it after the SOA), so finding it
     * first lets its records' bytes, and the SOA's signatures, arrive from memory while the
     * next closer name is hashed and the SOA is written. */
    if (signing(a, zone))
        zone_rrset_prefetch_rrsig(zone->soa);
    add_nxdomain_proof(a, zone, node, lname + offsets[labels - depth]);
    add_negative(a, zone);
}

static bool
name_is(const uint8_t *lname, const char *wire)
{
    return strcmp((const char *)lname, wire) == 0;
}

/* CHAOS TXT id.server / hostname.bind / version.bind / version.server (RFC 4892). */
static void
answer_chaos(struct answer *a)
{
    const struct dns_query *q = a->q;
    const char *text = NULL;
    if (name_is(q->lname, "\x02id\x06server") || name_is(q->lname, "\x08hostname\x04" "bind"))
        text = a->view->identity;
    else if (name_is(q->lname, "\x07version\x04" "bind") ||
             name_is(q->lname, "\x07version\x06server"))
        text = a->view->version;
    if (!text || (q->qtype != DNS_TYPE_TXT && q->qtype != DNS_TYPE_ANY)) {
        a->rcode = DNS_RCODE_REFUSED;
        return;
    }
    uint8_t rdata[256];
    size_t n = strlen(text);
    if (n > 255)
        n = 255;
    rdata[0] = (uint8_t)n;
    memcpy(rdata + 1, text, n);
    a->flags |= DNS_FLAG_AA;
    if (dns_writer_rr(&a->w, DNS_SECTION_AN, q->qname, DNS_TYPE_TXT, DNS_CLASS_CH, 0, rdata,
                      (uint16_t)(n + 1)) < 0)
        a->flags |= DNS_FLAG_TC;
}

/* RFC 1996 NOTIFY tells a secondary to refresh. For a secondary zone of ours whose primary
 * sent it (view->notify decides: the address, and the key where the primary has one) it is
 * acknowledged (§4.7: NOERROR, the question echoed) and the refresh starts; any other NOTIFY
 * for one of our zones is REFUSED, as NSD answers a NOTIFY no `allow-notify` permits; for a
 * zone we do not serve, NOTAUTH (RFC 2136 §2.2 "not authoritative for the zone named", as
 * Knot answers both). */
static void
answer_notify(struct answer *a)
{
    const struct dns_query *q = a->q;
    const struct zone *zone = q->qclass == DNS_CLASS_IN && a->view->zones
                                  ? zone_set_find(a->view->zones, q->lname)
                                  : NULL;
    if (!zone || !dname_equal(zone->origin, q->lname)) {
        a->rcode = DNS_RCODE_NOTAUTH;
        return;
    }
    a->rcode = DNS_RCODE_REFUSED;
    if (a->view->notify && a->view->notify(a->view->notify_ctx, zone, a->client->addr, a->key)) {
        a->rcode = DNS_RCODE_NOERROR;
        a->flags |= DNS_FLAG_AA;
    }
}

static void
answer_query(struct answer *a)
{
    const struct dns_query *q = a->q;
    if (q->opcode == DNS_OPCODE_NOTIFY) {
        answer_notify(a);
        return;
    }
    if (q->qclass == DNS_CLASS_CH) {
        answer_chaos(a);
        return;
    }
    /* Meta-types (OPT, TSIG, TKEY) are looked up like any type, so they get NODATA (or
     * NXDOMAIN, a referral, a CNAME): RFC 6895 §3.1 says Meta-TYPEs "in some cases can also be
     * used in queries" and makes no error of it; knotd, NSD and PowerDNS answer NODATA. */
    switch (q->qtype) {
    case DNS_TYPE_MAILA:
    case DNS_TYPE_MAILB:
        /* RFC 1035 §3.2.3 QTYPEs for MB/MG/MR (MAILB) and MD/MF (MAILA), obsolete record
         * types we do not collect: §4.1.1 NOTIMP, "does not support the requested kind of
         * query" (BIND answers the same; knotd NODATA). */
        a->rcode = DNS_RCODE_NOTIMP;
        return;
    case DNS_TYPE_AXFR:
    case DNS_TYPE_IXFR:
        /* Parsed and checked like any query; a caller that answers transfers (xfr/,
         * ARCHITECTURE.md §11) takes it from here, else they are refused. */
        if (a->client->transfers && q->qclass == DNS_CLASS_IN)
            a->transfer = true;
        else
            a->rcode = DNS_RCODE_REFUSED;
        return;
    default:
        break;
    }
    const struct zone *zone = q->qclass == DNS_CLASS_IN && a->view->zones
                                  ? zone_set_find(a->view->zones, q->lname)
                                  : NULL;
    if (!zone) {
        a->rcode = DNS_RCODE_REFUSED; /* not authoritative for it; we never recurse */
        a->ede = DNS_EDE_NOT_AUTHORITATIVE; /* RFC 8914 §4.21, as knotd answers */
        return;
    }
    /* RFC 4035 §3.1.4.1: DS for a child apex is the parent's data; if we also serve the
     * parent, answer from there. */
    if (q->qtype == DNS_TYPE_DS && q->lname[0] != 0 && dname_equal(q->lname, zone->origin)) {
        const struct zone *parent = zone_set_find(a->view->zones, q->lname + 1 + q->lname[0]);
        if (parent)
            zone = parent;
    }
    /* A secondary zone past its SOA expire without a successful refresh, or not transferred
     * yet: its data may not be served (RFC 1035 §3.3.13 "no longer authoritative"). */
    if (zone->expired) {
        a->rcode = DNS_RCODE_SERVFAIL;
        return;
    }
    a->flags |= DNS_FLAG_AA;
    a->zone = zone;
    /* The question's name ends in the zone's origin (zone_set_find, or the parent's for DS). */
    if (a->w.count[DNS_SECTION_QD] == 1) {
        a->origin_zone = zone;
        a->origin_at = DNS_HEADER_LEN + (size_t)(q->qname_len - zone->origin_len);
    }
    a->chain[a->chain_len++] = q->lname;
    resolve(a, zone, q->qname, q->lname, 0);
    finish_sections(a);
}

/* RFC 7871 §7.2.1: FAMILY, SOURCE and ADDRESS as received, SCOPE as decided. */
static size_t
put_ecs(const struct answer *a, uint8_t *p)
{
    const struct dns_query *q = a->q;
    size_t bytes = (q->ecs_source + 7u) / 8u;
    unsigned scope = a->ecs_scope;
    if (scope && a->have_pc && a->pc.scope_offset)
        scope += (unsigned)a->pc.scope_offset;
    unsigned max = q->ecs_family == 1 ? 32 : 128;
    if (scope > max)
        scope = max;
    dnswire_put16(p, DNS_OPT_ECS);
    dnswire_put16(p + 2, (uint16_t)(4 + bytes));
    dnswire_put16(p + 4, q->ecs_family);
    p[6] = q->ecs_source;
    p[7] = (uint8_t)scope;
    memcpy(p + 8, q->ecs_addr, bytes);
    return 8 + bytes;
}

/* RFC 7873 §5.2.3-§5.2.5: every response to a query with a well-formed COOKIE carries the
 * client cookie and a server cookie of ours. */
static bool
send_cookie(const struct dns_view *v, const struct dns_query *q)
{
    return q->cookie && v->cookies;
}

/* Room for an Extended DNS Error option without EXTRA-TEXT (RFC 8914 §2). */
#define EDE_OPTION_LEN 6

static size_t
opt_length(const struct dns_view *v, const struct dns_query *q, const struct dns_client *client,
           bool nsid)
{
    if (!q->edns)
        return 0;
    size_t len = 11;
    if (nsid && q->nsid_requested && v->nsid)
        len += 4u + v->nsid_len;
    if (echo_ecs(q, client))
        len += 8u + (q->ecs_source + 7u) / 8u;
    if (send_cookie(v, q))
        len += 4u + DNS_COOKIE_CLIENT_LEN + DNS_COOKIE_SERVER_LEN;
    return len;
}

/* RFC 6891 §6.1.2-§6.1.3: our OPT, carrying the upper rcode bits, DO copied (RFC 3225 §3),
 * NSID when asked for (RFC 5001 §2.2) and ECS (RFC 7871 §7.2.1). Space was reserved before
 * the sections. */
static size_t
put_opt(const struct answer *a, uint8_t *out, size_t pos)
{
    const struct dns_view *v = a->view;
    bool nsid = a->nsid && a->q->nsid_requested && v->nsid;
    uint16_t rdlen = (uint16_t)(opt_length(v, a->q, a->client, a->nsid) - 11);
    uint8_t *p = out + pos;
    p[0] = 0; /* root owner */
    dnswire_put16(p + 1, DNS_TYPE_OPT);
    dnswire_put16(p + 3, v->udp_max_size);
    p[5] = (uint8_t)(a->rcode >> 4);
    p[6] = 0; /* version 0 */
    dnswire_put16(p + 7, a->q->edns_do ? 0x8000 : 0);
    dnswire_put16(p + 9, rdlen);
    size_t at = 11;
    if (nsid) {
        dnswire_put16(p + at, DNS_OPT_NSID);
        dnswire_put16(p + at + 2, v->nsid_len);
        memcpy(p + at + 4, v->nsid, v->nsid_len);
        at += 4u + v->nsid_len;
    }
    if (echo_ecs(a->q, a->client))
        at += put_ecs(a, p + at);
    if (send_cookie(v, a->q)) {
        dnswire_put16(p + at, DNS_OPT_COOKIE);
        dnswire_put16(p + at + 2, DNS_COOKIE_CLIENT_LEN + DNS_COOKIE_SERVER_LEN);
        memcpy(p + at + 4, a->q->cookie_client, DNS_COOKIE_CLIENT_LEN);
        memcpy(p + at + 4 + DNS_COOKIE_CLIENT_LEN, a->server_cookie, DNS_COOKIE_SERVER_LEN);
        at += 4u + DNS_COOKIE_CLIENT_LEN + DNS_COOKIE_SERVER_LEN;
    }
    if (a->ede >= 0) {
        /* RFC 8914 §2: INFO-CODE, no EXTRA-TEXT. Its room was kept back from the sections. */
        dnswire_put16(p + at, DNS_OPT_EDE);
        dnswire_put16(p + at + 2, 2);
        dnswire_put16(p + at + 4, (uint16_t)a->ede);
        rdlen = (uint16_t)(rdlen + EDE_OPTION_LEN);
        dnswire_put16(p + 9, rdlen);
    }
    return pos + 11u + rdlen;
}

/* RFC 7873 §5.2.3-§5.2.5 with RFC 9018 §4.3: the server cookie to send. A valid one the
 * client sent back is echoed until it is half an hour old, then replaced; a missing or
 * invalid one (forged, stale, from another address, made with a secret no longer held) is
 * replaced by a fresh one and the query answered as usual, which §5.2.4 allows over UDP
 * ("process the request as if ... only a Client Cookie") and which keeps clients working
 * while the whole Internet does not do cookies; it only loses the rate-limiting exemption.
 * Returns true when the client's server cookie was valid. */
static bool
answer_cookie(const struct dns_view *view, const struct dns_client *client,
              const struct dns_query *q, uint8_t out[DNS_COOKIE_SERVER_LEN])
{
    uint32_t now = (uint32_t)client->wall_s;
    enum dns_cookie_check check = DNS_COOKIE_INVALID;
    if (q->cookie_server)
        check = dns_cookie_check(view->cookies, q->cookie_client, q->cookie_server,
                                 q->cookie_server_len, client->addr, now);
    if (check == DNS_COOKIE_VALID)
        memcpy(out, q->cookie_server, DNS_COOKIE_SERVER_LEN);
    else
        dns_cookie_make(view->cookies->current, q->cookie_client, client->addr, now, out);
    return check != DNS_COOKIE_INVALID;
}

/* The response's class and the name whose rate-limiting budget it draws on (dns.h). */
static void
classify(const struct answer *a, struct dns_result *r)
{
    const struct dns_query *q = a->q;
    const uint8_t *qname = q->question_ok ? q->qname : NULL;
    r->class_name = qname;
    if (a->rcode == DNS_RCODE_NXDOMAIN && a->zone) {
        r->response_class = DNS_RESP_NEGATIVE;
        r->class_name = a->zone->origin; /* random names of one zone share a budget */
    } else if (a->rcode != DNS_RCODE_NOERROR || !qname) {
        r->response_class = DNS_RESP_ERROR;
        r->class_name = NULL; /* REFUSED for random names too: one budget per client */
    } else if (q->qtype == DNS_TYPE_ANY) {
        r->response_class = DNS_RESP_LARGE;
    } else if (a->wildcard_parent) {
        r->response_class = DNS_RESP_WILDCARD;
        r->class_name = a->wildcard_parent;
    } else if (a->w.count[DNS_SECTION_AN] == 0 && a->referral_cut) {
        r->response_class = DNS_RESP_REFERRAL;
        r->class_name = a->referral_cut;
    } else if (a->w.count[DNS_SECTION_AN] == 0) {
        r->response_class = DNS_RESP_NEGATIVE; /* NODATA: the name exists, no random ones */
    } else {
        r->response_class = DNS_RESP_POSITIVE;
    }
}

/* RFC 8945 §5.2: a query's TSIG is checked before anything is looked up. Returns the rcode
 * to answer with: FORMERR for a record that cannot be read (answered unsigned: q->tsig_pos
 * is cleared), NOTAUTH when the TSIG error is set, else `rc` as parsed; *reserve gets the
 * room of the response's TSIG record. */
static int
check_tsig(const struct dns_view *view, const struct dns_client *client, const uint8_t *query,
           size_t len, struct dns_query *q, int rc, struct tsig_request *req, size_t *reserve)
{
    if (tsig_request_verify(view->tsig, query, len, q->tsig_pos, client->wall_s, req) < 0) {
        q->tsig_pos = 0;
        rc = DNS_RCODE_FORMERR;
    } else {
        *reserve = tsig_response_size(req);
        if (req->error)
            rc = DNS_RCODE_NOTAUTH;
    }
    if (rc != DNS_RCODE_NOERROR)
        q->ecs = false; /* not answered for any subnet (see dns_parse_query) */
    return rc;
}

size_t
dns_answer(const struct dns_view *view, const struct dns_client *client, const uint8_t *query,
           size_t len, uint8_t *out, size_t out_max, struct dns_result *result)
{
    struct dns_query q;
    struct answer a = {.view = view, .q = &q, .client = client, .tcp = client->tcp,
                       .proof_ttl_cap = UINT32_MAX, .ede = -1, .origin_at = SIZE_MAX};
    struct tsig_request tsig;
    size_t tsig_len = 0;
    int rc = dns_parse_query(query, len, client->ecs_ignore, &q);
    memset(result, 0, offsetof(struct dns_result, transfer_tsig));
    if (rc < 0)
        return 0;
    if (q.tsig_pos) /* the parse found it on its walk: no cost without one */
        rc = check_tsig(view, client, query, len, &q, rc, &tsig, &tsig_len);

    size_t limit = out_max < 65535 ? out_max : 65535;
    if (!client->tcp) {
        /* RFC 6891 §6.2.3-§6.2.5: below 512 counts as 512; never above our own limit. */
        size_t udp = DNS_UDP_DEFAULT_LIMIT;
        if (q.edns) {
            udp = q.edns_udp_size < DNS_UDP_DEFAULT_LIMIT ? DNS_UDP_DEFAULT_LIMIT
                                                          : q.edns_udp_size;
            if (udp > view->udp_max_size)
                udp = view->udp_max_size;
        }
        if (udp < limit)
            limit = udp;
    }
    /* Room for the OPT is reserved before the answer, NSID included (as knotd: an answer
     * that would only fit without it gets TC). An NSID so long that not even a question
     * would fit beside it (512 octets in a 512-octet reply) is left out instead: RFC 5001
     * §2.2 has the server "choose to honor" the request, and the reply must not be lost. */
    a.nsid = true;
    size_t opt_len = opt_length(view, &q, client, true);
    if (limit < DNS_HEADER_LEN + opt_len + 4 + DNAME_MAX_LEN) {
        a.nsid = false;
        opt_len = opt_length(view, &q, client, false);
    }
    if (limit < DNS_HEADER_LEN + opt_len + 4 + DNAME_MAX_LEN)
        return 0; /* caller buffer too small to answer at all */
    /* A TSIG record too long for this UDP response beside the question (key and algorithm
     * names near 255 octets each): TC and no TSIG, so the client asks again over TCP. */
    bool tsig_room = true;
    if (q.tsig_pos && limit < DNS_HEADER_LEN + opt_len + tsig_len + (size_t)q.qname_len + 4) {
        tsig_room = false;
        q.tsig_pos = 0;
        tsig_len = 0;
    }

    dns_writer_init(&a.w, out, limit - opt_len - tsig_len);
    /* Opcode and RD are copied (RFC 1035 §4.1.1). CD is not: RFC 4035 §3.1.6, "A
     * security-aware name server SHOULD clear the CD bit when composing an authoritative
     * response"; the copy rule of §3.2.2 is for recursive servers, and we never validate for
     * anyone, so no response of ours has it (knotd and NSD clear it too). */
    a.flags = (uint16_t)(DNS_FLAG_QR | (q.flags & (0x7800 | DNS_FLAG_RD)));
    a.rcode = rc;
    if (q.question_ok)
        (void)dns_writer_question(&a.w, q.qname, q.qtype, q.qclass);
    if (!tsig_room)
        a.flags |= DNS_FLAG_TC;
    else if (rc == DNS_RCODE_NOERROR && q.question_ok) {
        a.key = q.tsig_pos ? tsig.key : NULL; /* verified: rc would be NOTAUTH otherwise */
        answer_query(&a);
    }
    /* (NOERROR without a question: RFC 7873 §5.4, a query for a server cookie only.) */
    if (a.transfer) {
        result->qtype = q.qtype;
        result->edns = q.edns;
        result->transfer = true;
        if (q.tsig_pos) {
            /* Verified with error 0 (else rc is NOTAUTH and nothing was looked up): the
             * transfer is signed with the request's key, MAC chained to its MAC. */
            result->tsig = true;
            result->transfer_tsig = tsig;
        }
        return 0;
    }

    if (send_cookie(view, &q))
        result->cookie_valid = answer_cookie(view, client, &q, a.server_cookie);
    result->cookie = q.cookie;
    /* The EDE option only where it fits beside the records written (they come first). */
    if (a.ede >= 0 && (!q.edns || a.w.pos + opt_len + EDE_OPTION_LEN + tsig_len > limit))
        a.ede = -1;

    dnswire_put16(out, q.id);
    dnswire_put16(out + 2, (uint16_t)(a.flags | (a.rcode & 0xF)));
    if (q.edns)
        a.w.count[DNS_SECTION_AR]++;
    dns_writer_finish(&a.w);
    size_t end = q.edns ? put_opt(&a, out, a.w.pos) : a.w.pos;
    if (q.tsig_pos) {
        /* RFC 8945 §5.3: signed with the query's key, last, in the room reserved for it. */
        end = tsig_response_sign(&tsig, out, end, limit, client->wall_s);
        result->tsig = true;
        result->tsig_error = tsig.error;
    }

    result->qtype = q.qtype;
    result->rcode = (uint8_t)a.rcode;
    result->truncated = truncated(&a);
    result->edns = q.edns;
    result->ecs = echo_ecs(&q, client);
    result->steered = a.steered;
    if (a.steered)
        result->decision = a.decision;
    classify(&a, result);
    return end;
}

size_t
dns_truncate_to_question(uint8_t *msg, size_t len)
{
    size_t end = DNS_HEADER_LEN;
    if (len < DNS_HEADER_LEN)
        return len;
    if (dnswire_get16(msg + DNS_OFF_QDCOUNT) == 1) {
        /* Our writer puts the question first and uncompressed. */
        while (end < len && msg[end] != 0)
            end += 1u + msg[end];
        end += 1u + 4u;
        if (end > len)
            return len; /* not one of ours: leave it */
    }
    msg[DNS_OFF_FLAGS] |= (uint8_t)(DNS_FLAG_TC >> 8);
    dnswire_put16(msg + DNS_OFF_ANCOUNT, 0);
    dnswire_put16(msg + DNS_OFF_NSCOUNT, 0);
    dnswire_put16(msg + DNS_OFF_ARCOUNT, 0);
    return end;
}
