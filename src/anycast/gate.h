/* SPDX-License-Identifier: MIT */
/* Gate devices (ARCHITECTURE.md §7, "link-gated origination"): a tun device created from
 * /dev/net/tun (IFF_TUN | IFF_NO_PI, never persistent) and held open by this process. BIRD
 * originates the anycast prefixes from a static protocol routed `via` the device, so link up =
 * announce, link down = withdraw, and the process gone (crash, SIGKILL, OOM) = the kernel
 * deletes the device = withdrawn. Up/down is one ioctl(SIOCSIFFLAGS) on an AF_INET datagram
 * socket. Nothing routes packets into the device; whatever the kernel queues (e.g. IPv6
 * solicitations) is read and dropped. Needs CAP_NET_ADMIN. Event loop thread. */
#ifndef MERIDIAN_ANYCAST_GATE_H
#define MERIDIAN_ANYCAST_GATE_H

#include <ev.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

struct anycast_gate {
    int fd; /* the tun fd; -1 when closed */
    char name[IFNAMSIZ];
    bool up;  /* last state set successfully */
    ev_io io; /* drops queued packets */
    struct ev_loop *loop;
};

/* Creates the device `name`, administratively down, and starts dropping its packets.
 * 0, or -1 with a message in err (e.g. no /dev/net/tun, no CAP_NET_ADMIN, name in use). */
int anycast_gate_open(struct anycast_gate *g, struct ev_loop *loop, const char *name, char *err,
                      size_t err_size) __attribute__((warn_unused_result));

/* Sets the device up or down (IFF_UP). 0, or -1 with a message in err. */
int anycast_gate_set(struct anycast_gate *g, bool up, char *err, size_t err_size)
    __attribute__((warn_unused_result));

/* Lowers the device, stops the watcher and closes the fd (the kernel deletes the device).
 * Safe on a gate that was never opened if g->fd is -1. */
void anycast_gate_close(struct anycast_gate *g);

#endif
