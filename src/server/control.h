/* SPDX-License-Identifier: MIT */
/* The control socket (meridianctl): a UNIX stream socket whose file permissions are the
 * access control. One request per connection: a single line "COMMAND ARGS...", answered with
 * text whose first line is "ok" or "error: ...". Served by its own thread (control_socket.c:
 * many clients at once, each with deadlines, never blocking on one), which reads the
 * current snapshot under RCU and asks the health monitor for states and forcing. `reload`
 * is answered with the result of a reload that started after the request. */
#ifndef MERIDIAN_SERVER_CONTROL_H
#define MERIDIAN_SERVER_CONTROL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "config/config.h"
#include "health/monitor.h"

struct control;

/* Clients served at once; one more closes the oldest that is not waiting for a reload. */
#define CONTROL_MAX_CLIENTS 32

/* Binds `path` with mode 0660, replacing a stale socket file; a file that is not a socket,
 * or a socket another server listens on, fails with err and is left alone. When uid is not
 * (uid_t)-1, hands the file to uid:gid (the user meridiand is about to switch to). Does not
 * serve yet: see control_run. Main thread. 0 or -1 with err. */
int control_open(const char *path, uid_t uid, gid_t gid, struct control **out,
                 char err[CONFIG_ERR_MAX]) __attribute__((warn_unused_result));
/* Starts the control thread. 0 or -1 with err. */
int control_run(struct control *ctl, char err[CONFIG_ERR_MAX]) __attribute__((warn_unused_result));
/* The health monitor that `states`, `drain` and `force` talk to (NULL: none yet; it may start
 * on a reload that adds the first check). Main thread; ctl may be NULL. */
void control_set_monitor(struct control *ctl, struct health_monitor *monitor);
/* Main thread, after every reload once its result is recorded (snapshot_record_reload):
 * answers the `reload` requests it covers. ctl may be NULL. */
void control_reload_done(struct control *ctl);
/* Stops the thread (parked `reload` requests get an error), closes and removes the socket. */
void control_stop(struct control *ctl);

/* The query log whose counters `status` prints (NULL: off). Main thread, before control_run
 * and after control_stop. */
struct dnstap;
void control_set_dnstap(struct dnstap *dt);
struct rrl;
/* The rate limiting table `rrl` reports on (NULL: none). Main thread, while the control
 * thread is not running or before the table is freed. */
void control_set_rrl(const struct rrl *rrl);

/* True while an operator has drained the whole site (read by `status`, for the sidecar). */
bool control_site_drained(void);

enum control_result {
    CONTROL_REPLIED,
    CONTROL_RELOAD_PARKED, /* `reload`: nothing written; answered once the reload is done */
};

/* Runs one command line and writes the reply to out (control thread; also tests and the
 * fuzzer). */
enum control_result control_execute(struct health_monitor *monitor, char *line, FILE *out);
/* The same; a parked `dnssec roll` or `ds-seen` gives its dnssec_ops request id in *op (0 for
 * every other command), which the reply after the reload reports on. */
enum control_result control_execute_op(struct health_monitor *monitor, char *line, FILE *out,
                                       uint64_t *op);

#endif
