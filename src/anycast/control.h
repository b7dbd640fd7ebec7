/* SPDX-License-Identifier: MIT */
/* The sidecar's control socket, same protocol as meridiand's (so `meridianctl -s PATH` works):
 * a UNIX stream socket whose file permissions are the access control (mode 0660), one request
 * per connection, a single line "COMMAND ARGS...", answered with text whose first line is
 * "ok" or "error: ..." and then closed. Served on the event loop with a per-connection
 * deadline and a bounded number of connections. Event loop thread. */
#ifndef MERIDIAN_ANYCAST_CONTROL_H
#define MERIDIAN_ANYCAST_CONTROL_H

#include <ev.h>
#include <stddef.h>
#include <stdio.h>

/* Runs one command line (without the newline) and writes the reply to `out`. */
typedef void (*anycast_control_fn)(void *arg, char *line, FILE *out);

struct anycast_control;

/* Binds `path` (replacing a stale socket file) and starts serving. 0, or -1 with err. */
int anycast_control_start(struct ev_loop *loop, const char *path, anycast_control_fn fn, void *arg,
                          struct anycast_control **out, char *err, size_t err_size)
    __attribute__((warn_unused_result));

/* Closes every connection and the socket and removes the socket file. */
void anycast_control_stop(struct anycast_control *c);

#endif
