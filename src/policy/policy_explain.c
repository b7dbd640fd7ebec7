// SPDX-License-Identifier: MIT
/* Human-readable account of one steering decision (meridiand -q, meridianctl explain): the
 * location found, the pool order and why, every member's weight and health, the choice, the
 * TTL and the ECS scope. Runs policy_select() itself, so it cannot disagree with the answer
 * path. Not on the query path. */
#include <arpa/inet.h>
#include <stdio.h>

#include "policy/policy_internal.h"

static const char *const select_names[] = {"weighted", "sticky", "all", "first_n"};
static const char *const all_down_names[] = {"all", "nodata", "pool"};
static const char *const health_names[] = {"unknown (counts as up)", "up", "down"};

static void
format_member(const struct policy_member *m, char *buf, size_t size)
{
    if (m->target) {
        dname_to_text(m->target, buf, size);
        return;
    }
    inet_ntop(m->family == 4 ? AF_INET : AF_INET6, m->addr, buf, (socklen_t)size);
}

/* The most specific `nets` rule containing the client, or NULL. */
static const struct config_net_rule *
matching_net(const struct config_service *c, const struct policy_client *client)
{
    const struct config_net_rule *best = NULL;
    for (size_t i = 0; i < c->net_count; i++) {
        const struct config_net_rule *r = &c->nets[i];
        if (r->net.family != client->family || (best && best->net.prefix_len >= r->net.prefix_len))
            continue;
        bool inside = true;
        for (int bit = 0; bit < r->net.prefix_len && inside; bit++) {
            uint8_t mask = (uint8_t)(0x80 >> (bit % 8));
            inside = (r->net.addr[bit / 8] & mask) == (client->addr[bit / 8] & mask);
        }
        if (inside)
            best = r;
    }
    return best;
}

/* Prints the location and returns which rule decides ("country DE", "nets ..."). */
static void
explain_location(const struct policy_service *svc, const struct policy_client *client,
                 const struct geo_db *geo, char *why, size_t why_size, FILE *out)
{
    const struct config_service *c = svc->cfg;
    snprintf(why, why_size, "default");
    const struct config_net_rule *net = client->family ? matching_net(c, client) : NULL;
    if (net)
        snprintf(why, why_size, "nets rule at %s:%d", net->file, net->line);
    if (!geo || !client->family) {
        fprintf(out, "location: %s\n", geo ? "none (no client address)" : "no GeoIP database");
        return;
    }
    int depth = 0;
    uint32_t id = geo_tree_lookup(&geo->tree, client->family, client->addr, &depth);
    const struct geo_location *loc = &geo->locations[id < geo->location_count ? id : 0];
    fprintf(out, "location: continent %s, country %s, subdivision %s", 
            loc->continent[0] ? loc->continent : "-", loc->country[0] ? loc->country : "-",
            loc->subdivision[0] ? loc->subdivision : "-");
    if (loc->has_coords)
        fprintf(out, ", coordinates %.4f,%.4f", loc->latitude, loc->longitude);
    fprintf(out, " (GeoIP network /%d)\n", depth);
    if (net)
        return;
    if (c->nearest)
        snprintf(why, why_size, loc->has_coords ? "nearest to the client" : "default (no "
                                                                             "coordinates)");
    else
        policy_geo_rule(c, loc, why, why_size);
}

void
policy_explain(const struct policy_service *svc, const struct policy_client *client,
               uint16_t qtype, const struct health_table *health, uint32_t now_s,
               const struct geo_db *geo, FILE *out)
{
    const struct config_service *c = svc->cfg;
    char text[DNAME_TEXT_MAX];
    dname_to_text(svc->owner, text, sizeof(text));
    fprintf(out, "service %s: %s, select %s, order %s, all_down %s%s%s, ttl %u\n", text,
            svc->cname ? "cname" : "address", select_names[c->select],
            c->nearest ? "nearest" : "geo", all_down_names[c->all_down],
            c->all_down == CONFIG_ALL_DOWN_POOL ? ":" : "",
            c->all_down == CONFIG_ALL_DOWN_POOL ? svc->pools[c->all_down_pool].name : "",
            svc->ttl_s);
    if (client->family) {
        char addr[INET6_ADDRSTRLEN];
        inet_ntop(client->family == 4 ? AF_INET : AF_INET6, client->addr, addr, sizeof(addr));
        fprintf(out, "client: %s/%d\n", addr, client->bits);
    } else {
        fprintf(out, "client: none (ECS source prefix 0)\n");
    }
    char why[128];
    explain_location(svc, client, geo, why, sizeof(why), out);

    struct policy_answer ans;
    policy_select(svc, client, qtype, health, 0, now_s, &ans);
    const struct policy_order *order = &svc->orders[ans.order];
    fprintf(out, "pool order (%s):", svc->client_dependent ? why : "default");
    for (uint32_t i = 0; i < order->count; i++)
        fprintf(out, " %s", svc->pools[order->pools[i]].name);
    fprintf(out, "\n");
    for (uint32_t i = 0; i < order->count; i++) {
        const struct policy_pool *pool = &svc->pools[order->pools[i]];
        fprintf(out, "  pool %s:\n", pool->name);
        for (uint32_t m = 0; m < pool->member_count; m++) {
            const struct policy_member *pm = &pool->members[m];
            format_member(pm, text, sizeof(text));
            uint32_t stable = health_stable_for(health, pm->health_id, now_s);
            char stable_text[32] = "";
            if (stable != HEALTH_NEVER)
                snprintf(stable_text, sizeof(stable_text), ", may change in %us", stable);
            fprintf(out, "    %-40s weight %-7u health %s%s%s%s\n", text, pm->weight,
                    health_names[health_get(health, pm->health_id)], stable_text,
                    health_drained(health, pm->health_id) ? ", drained by the operator" : "",
                    pm->forced_down ? ", forced down in config" : "");
        }
    }
    if (ans.count == 0) {
        fprintf(out, "choice: none (NODATA)%s\n", ans.failed_open ? ", every member down" : "");
    } else {
        fprintf(out, "choice: pool %s%s:", svc->pools[ans.pool].name,
                ans.failed_open ? " (all down: all_down applied)" : "");
        if (c->select == CONFIG_SELECT_WEIGHTED && ans.count == 1)
            fprintf(out, " one member at random by weight, e.g.");
        for (uint32_t i = 0; i < ans.count; i++) {
            format_member(ans.members[i], text, sizeof(text));
            fprintf(out, " %s", text);
        }
        fprintf(out, "\n");
    }
    fprintf(out, "ttl %u, ecs scope /%u\n", ans.ttl_s, ans.scope);
}
