# SPDX-License-Identifier: MIT
"""Deliberate faults for tests/mutation/run.py. Each replaces `old` (which must occur exactly
once in `file`) by `new`. The first nine are the list of issue 9; the rest cover more of
what an authoritative server must get right. A fault must compile and must change what the
server does for some input the suite could send; run.py reports one that no longer applies
(STALE) so this list is kept in step with the code."""

MUTATIONS = [
    {"id": "opt-dropped-on-notimp",
     "what": "NOTIMP replies drop the OPT record (RFC 6891 §6.1.1 MUST include it)",
     "file": "src/dns/dns_answer.c",
     "old": "    dnswire_put16(out, q.id);\n",
     "new": "    if (a.rcode == DNS_RCODE_NOTIMP)\n        q.edns = false;\n"
            "    dnswire_put16(out, q.id);\n"},
    {"id": "cd-copied",
     "what": "the CD bit is copied into responses (RFC 4035 §3.1.6 SHOULD clear)",
     "file": "src/dns/dns_answer.c",
     "old": "(q.flags & (0x7800 | DNS_FLAG_RD))",
     "new": "(q.flags & (0x7800 | DNS_FLAG_RD | DNS_FLAG_CD))"},
    {"id": "answer-record-duplicated",
     "what": "the first record of every multi-record answer RRset is written twice",
     "file": "src/dns/dns_writer.c",
     "old": "    w->count[section] = (uint16_t)(w->count[section] + set->count);\n",
     "new": "    if (section == DNS_SECTION_AN && set->count > 1 &&\n"
            "        put_rr(w, owner, set->type, DNS_CLASS_IN, set->ttl, set->rdata + 2,\n"
            "               dnswire_get16(set->rdata)) == 0)\n"
            "        w->count[section]++;\n"
            "    w->count[section] = (uint16_t)(w->count[section] + set->count);\n"},
    {"id": "chain-order-swapped",
     "what": "a CNAME's target records come before the CNAME",
     "file": "src/dns/dns_answer.c",
     "old": "        add_required(a, DNS_SECTION_AN, owner, cname);\n"
            "        follow(a, zone, cname->rdata + 2, hops);\n",
     "new": "        follow(a, zone, cname->rdata + 2, hops);\n"
            "        add_required(a, DNS_SECTION_AN, owner, cname);\n"},
    {"id": "ecs-scope-off-by-one",
     "what": "the ECS scope returned is one bit longer than decided",
     "file": "src/dns/dns_answer.c",
     "old": "    p[7] = (uint8_t)scope;\n",
     "new": "    p[7] = (uint8_t)(scope && scope < max ? scope + 1 : scope);\n"},
    {"id": "nodata-without-soa",
     "what": "NODATA answers carry no SOA (RFC 2308 §2.2)",
     "file": "src/dns/dns_answer.c",
     "old": "        add_negative(a, zone); /* NODATA: RFC 2308 §2.2 */\n",
     "new": "        /* mutation: no SOA */\n"},
    {"id": "tc-never-set",
     "what": "TC is never set in the header, whatever did not fit",
     "file": "src/dns/dns_answer.c",
     "old": "    dnswire_put16(out + 2, (uint16_t)(a.flags | (a.rcode & 0xF)));\n",
     "new": "    dnswire_put16(out + 2, (uint16_t)((a.flags & ~DNS_FLAG_TC) | (a.rcode & 0xF)));\n"},
    {"id": "aa-cleared",
     "what": "AA is never set in the header",
     "file": "src/dns/dns_answer.c",
     "old": "    dnswire_put16(out + 2, (uint16_t)(a.flags | (a.rcode & 0xF)));\n",
     "new": "    dnswire_put16(out + 2, (uint16_t)((a.flags & ~DNS_FLAG_AA) | (a.rcode & 0xF)));\n"},
    {"id": "health-down-one-probe-late",
     "what": "a member goes down one failed probe after `fall`",
     "file": "src/health/fsm.c",
     "old": "f->state == HEALTH_UP && f->failures >= fall",
     "new": "f->state == HEALTH_UP && f->failures > fall"},
    # Beyond the list.
    {"id": "health-up-one-probe-late",
     "what": "a member comes back one good probe after `rise`",
     "file": "src/health/fsm.c",
     "old": "f->state == HEALTH_DOWN && f->successes >= rise",
     "new": "f->state == HEALTH_DOWN && f->successes > rise"},
    {"id": "negative-ttl-from-soa-ttl",
     "what": "the negative answer's SOA keeps its own TTL, not min(TTL, MINIMUM) (RFC 2308 §3)",
     "file": "src/dns/dns_answer.c",
     "old": "    soa.ttl = zone->negative_ttl < ttl_cap ? zone->negative_ttl : ttl_cap;\n",
     "new": "    soa.ttl = zone->soa->ttl < ttl_cap ? zone->soa->ttl : ttl_cap;\n"},
    {"id": "question-case-lost",
     "what": "the question is echoed lowercased (0x20 clients reject it)",
     "file": "src/dns/dns_answer.c",
     "old": "(void)dns_writer_question(&a.w, q.qname, q.qtype, q.qclass);",
     "new": "(void)dns_writer_question(&a.w, q.lname, q.qtype, q.qclass);"},
    {"id": "referral-without-glue",
     "what": "referrals carry no glue",
     "file": "src/dns/dns_answer.c",
     "old": "    add_required(a, DNS_SECTION_NS, cut->name, ns);\n"
            "    add_additional(a, zone, ns, cut->name);\n",
     "new": "    add_required(a, DNS_SECTION_NS, cut->name, ns);\n    (void)zone;\n"},
    {"id": "down-members-served",
     "what": "members whose checks fail stay in the answers",
     "file": "src/policy/policy_select.c",
     "old": "    return fail_open || health_get(health, m->health_id) != HEALTH_DOWN;\n",
     "new": "    (void)fail_open;\n    return true;\n"},
    {"id": "weights-ignored",
     "what": "weighted selection ignores the weights (uniform)",
     "file": "src/policy/policy_select.c",
     "old": "                total += m->weight;\n",
     "new": "                total += 1;\n"},
    {"id": "sticky-hashes-whole-address",
     "what": "sticky hashes the whole client address instead of its /24 (/56)",
     "file": "src/policy/policy_select.c",
     "old": "client->family ? subnet_hash(client, prefix) : 0;",
     "new": "client->family ? subnet_hash(client, client->family == 6 ? 128 : 32) : 0;\n"
            "        (void)prefix;"},
]
