// SPDX-License-Identifier: MIT
/* The two deadline-ordered connection lists of a TCP worker and the choice of the connection to
 * give up (tcp_slot.h). Pure; worker thread only. */
#include "net/tcp_slot.h"

void
tcp_slot_append(struct tcp_slot_list *list, struct tcp_slot *s)
{
    s->prev = list->tail;
    s->next = NULL;
    if (list->tail)
        list->tail->next = s;
    else
        list->head = s;
    list->tail = s;
}

void
tcp_slot_unlink(struct tcp_slot_list *list, struct tcp_slot *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        list->head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        list->tail = s->prev;
    s->prev = s->next = NULL;
}

static bool
serves_nobody(const struct tcp_slot *s, double now, double grace)
{
    return s->messages == 0 && now - s->opened >= grace;
}

struct tcp_slot *
tcp_slot_victim(const struct tcp_slot_list *idle, const struct tcp_slot_list *partial,
                double now, double grace)
{
    struct tcp_slot *best = NULL;
    int scanned = 0;

    /* A partial connection's own deadline is short, but until it fires it holds a slot: the
     * oldest that has not finished its first message goes first. The partial list is ordered
     * by message start, which for a first message is close to the accept time. */
    for (struct tcp_slot *s = partial->head; s && scanned < TCP_SLOT_SCAN; s = s->next, scanned++)
        if (serves_nobody(s, now, grace) && (!best || s->opened < best->opened))
            best = s;
    scanned = 0;
    for (struct tcp_slot *s = idle->head; s && scanned < TCP_SLOT_SCAN; s = s->next, scanned++)
        if (serves_nobody(s, now, grace) && (!best || s->opened < best->opened))
            best = s;
    if (best)
        return best;
    return idle->head ? idle->head : partial->head;
}
