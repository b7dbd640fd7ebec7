/* SPDX-License-Identifier: MIT */
/* The control socket (meridianctl): a UNIX stream socket whose file permissions are the
 * access control. One request per connection: a single line "COMMAND ARGS...", answered with
 * text whose first line is "ok" or "error: ...". Served by its own thread, which reads the
 * current snapshot under RCU and asks the health monitor for states and forcing. */
#ifndef MERIDIAN_SERVER_CONTROL_H
#define MERIDIAN_SERVER_CONTROL_H

#include "config/config.h"
#include "health/monitor.h"

struct control;

/* Binds `path` (replacing a stale socket file) and starts serving. 0 or -1 with err. */
int control_start(const char *path, struct health_monitor *monitor, struct control **out,
                  char err[CONFIG_ERR_MAX]) __attribute__((warn_unused_result));
void control_stop(struct control *ctl);

/* True while an operator has drained the whole site (read by `status`, for the sidecar). */
bool control_site_drained(void);

/* Runs one command line and writes the reply to out (also used by tests). */
void control_execute(struct health_monitor *monitor, char *line, FILE *out);

#endif
