/* SPDX-License-Identifier: MIT */
/* Private to net/: the AF_XDP fast path (xdp.c, ARCHITECTURE.md §18). net_xdp_open runs on
 * the thread calling net_open, before any worker exists; each worker then serves the queues
 * assigned to it (queue q to worker q mod workers) from its own loop; net_xdp_free runs after
 * the workers are joined. */
#ifndef MERIDIAN_NET_XDP_H
#define MERIDIAN_NET_XDP_H

#include "net/net_internal.h"

struct net_xdp;

/* Loads our filter program onto cfg->interface (as a bpf_link, so it goes away with the
 * process however that ends), creates one AF_XDP socket per receive queue and fills the
 * program's maps with net's listen addresses. 0 with *out set, or -1 with a message in err
 * and nothing left attached. */
int net_xdp_open(struct net *net, const struct config_xdp *cfg, struct net_xdp **out,
                 char err[CONFIG_ERR_MAX]) __attribute__((warn_unused_result));
/* Starts watchers for the worker's queues (on the thread building the worker). */
void net_xdp_worker_init(struct net_xdp *x, struct net_worker *w);
/* Detaches the program and closes the sockets. NULL is allowed. */
void net_xdp_free(struct net_xdp *x);

#endif
