/* SPDX-License-Identifier: MIT */
/* The open-files budget of the front end. Every TCP connection holds a descriptor, so
 * workers x tcp_max_connections must fit under RLIMIT_NOFILE beside everything else the
 * process opens (health probes, zone transfers, the control socket and its clients, state
 * and zone files): otherwise a connection flood exhausts the limit and every other part of
 * the server fails with EMFILE. meridiand raises its soft limit to the hard one at start and
 * lowers the per-worker connection table to what fits (lifecycle.c); the arithmetic is here,
 * pure, so that it can be tested. Main thread, at start. */
#ifndef MERIDIAN_NET_NET_FD_H
#define MERIDIAN_NET_NET_FD_H

#include <stddef.h>
#include <stdint.h>

/* Descriptors a worker holds besides its connections, per listen address: its UDP socket and
 * its TCP listener. */
#define NET_FD_PER_LISTEN 2
/* And once: its loop's epoll descriptor, the eventfd behind its ev_async, and two spare for
 * libev's own (signal and timer descriptors on some backends). */
#define NET_FD_PER_WORKER 4
/* Below this many connections per worker TCP is not worth serving: the start fails. */
#define NET_FD_MIN_CONNECTIONS 8

/* Descriptors the workers hold with no connection open. */
uint64_t net_fd_fixed(unsigned workers, size_t listen_count);

/* Connections per worker that fit under `limit` when `reserve` descriptors are kept for the
 * rest of the process: min(wanted, (limit - reserve - fixed) / workers), 0 when not even
 * one fits. */
uint32_t net_fd_tcp_fit(uint64_t limit, uint64_t reserve, unsigned workers, size_t listen_count,
                        uint32_t wanted);

/* Raises the soft RLIMIT_NOFILE to the hard limit (a raise needs no privilege). Returns the
 * soft limit in force afterwards (RLIM_INFINITY as UINT64_MAX); *raised_from gets the soft
 * limit before, or the same value if unchanged. */
uint64_t net_fd_raise_limit(uint64_t *raised_from);

#endif
