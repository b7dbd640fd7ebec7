// SPDX-License-Identifier: MIT
/* Who is asking (see policy_client_init in policy.h): the one place that turns an ECS option
 * or a source address into the client a policy answers, for dns_answer() on every worker and
 * for explanations on the main thread. Pure, no allocation. */
#include <netinet/in.h>
#include <string.h>

#include "policy/policy.h"

/* RFC 7871 §6: "ADDRESS ... MUST be truncated to the number of bits indicated by the SOURCE
 * PREFIX-LENGTH field"; the parser refuses a dirty address, explanations build a clean one,
 * and clearing again keeps the tree lookup and the sticky hash honest for any caller. */
static void
clear_host_bits(uint8_t addr[16], int bits, int max)
{
    for (int bit = bits; bit < max; bit++)
        addr[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
}

void
policy_client_init(struct policy_client *pc, const struct sockaddr *source,
                   const struct policy_ecs *ecs)
{
    memset(pc, 0, sizeof(*pc));
    if (ecs) {
        /* RFC 7871 §7.1.2: a source prefix of 0 asks for no tailoring, and the source address
         * is not to be used in its place. */
        if (ecs->source == 0 || (ecs->family != 1 && ecs->family != 2))
            return;
        int max = ecs->family == 1 ? 32 : 128;
        pc->family = ecs->family == 1 ? 4 : 6;
        pc->bits = ecs->source < max ? ecs->source : max;
        memcpy(pc->addr, ecs->addr, ((size_t)pc->bits + 7) / 8);
        clear_host_bits(pc->addr, pc->bits, max);
    } else if (source && source->sa_family == AF_INET) {
        pc->family = 4;
        pc->bits = 32;
        memcpy(pc->addr, &((const struct sockaddr_in *)source)->sin_addr, 4);
    } else if (source && source->sa_family == AF_INET6) {
        pc->family = 6;
        pc->bits = 128;
        memcpy(pc->addr, &((const struct sockaddr_in6 *)source)->sin6_addr, 16);
    }
    if (pc->family == 6) {
        /* Where the IPv4 address sits inside the IPv6 one: bit 16 for 6to4 (2002::/16),
         * bit 96 for mapped and compatible addresses. */
        int offset = pc->addr[0] == 0x20 && pc->addr[1] == 0x02 ? 16 : 96;
        geo_normalize(&pc->family, pc->addr, &pc->bits);
        pc->scope_offset = pc->family == 4 ? offset : 0;
    }
}
