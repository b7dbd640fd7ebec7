/* SPDX-License-Identifier: MIT */
/* A worker's TCP connections as seen by its timers and by eviction (tcp.c), kept apart from the
 * sockets so that the choices can be tested alone. Every open connection is on exactly one of
 * two lists, each ordered by `since` (oldest at the head), so the head of each is the next to
 * time out and the timer needs no search:
 *   - idle: connections between messages, or waiting for the client to read its answers;
 *     `since` is the last time bytes moved (a complete message read or answer bytes written),
 *     the deadline is since + idle timeout (RFC 7766 §6.2.3);
 *   - partial: connections with an incomplete message in their input; `since` is when its
 *     first byte arrived, the deadline is since + the I/O timeout. Bytes that trickle in do not
 *     move it, so a slowloris client cannot keep a slot by sending one byte at a time.
 * Pure: no sockets, no clock (times are passed in). Worker thread only. */
#ifndef MERIDIAN_NET_TCP_SLOT_H
#define MERIDIAN_NET_TCP_SLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tcp_slot {
    struct tcp_slot *prev, *next;
    double since;      /* monotonic seconds, see above */
    double opened;     /* when the connection was accepted */
    uint32_t messages; /* complete messages received so far */
    bool partial;      /* on the partial list */
};

struct tcp_slot_list {
    struct tcp_slot *head, *tail;
};

void tcp_slot_append(struct tcp_slot_list *list, struct tcp_slot *s);
void tcp_slot_unlink(struct tcp_slot_list *list, struct tcp_slot *s);

/* How far eviction looks from the idle list's head for a connection that never sent a
 * message: silent connections are not touched, so they stay near the head. */
#define TCP_SLOT_SCAN 16

/* The connection to give up when a new client needs its slot or its descriptor (the table is
 * full, or accept failed with EMFILE/ENFILE). In this order:
 *   1. the oldest connection that has not sent one complete message in `grace` seconds since
 *      it was accepted (silent, or a slowloris still on its first message): it serves nobody;
 *   2. the idle list's head, idle the longest (RFC 7766 §6.2.3: close idle connections first);
 *   3. the partial list's head (everything is mid-message: the one that started first).
 * NULL when both lists are empty. */
struct tcp_slot *tcp_slot_victim(const struct tcp_slot_list *idle,
                                 const struct tcp_slot_list *partial, double now, double grace);

#endif
