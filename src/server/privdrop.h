/* SPDX-License-Identifier: MIT */
/* Privilege drop for meridiand started as root outside systemd (server.user, server.group).
 * Main thread, once at start: after every socket is bound and before the health thread,
 * the control thread or the workers run, so probes, exec checks and reloads run as the
 * configured user. */
#ifndef MERIDIAN_SERVER_PRIVDROP_H
#define MERIDIAN_SERVER_PRIVDROP_H

#include <stdbool.h>

#include "config/config.h"

/* True if privdrop_apply will switch users: cfg names a user and we run as root. The
 * caller then hands files it creates before the switch (the control socket) to cfg->uid and
 * cfg->gid. */
bool privdrop_needed(const struct config *cfg);

/* Without server.user: nothing. As root: the user's supplementary groups (initgroups), then
 * the group, then the user, and a check that root cannot be regained. Not root: fine if we
 * already are that user and group, else an error. 0, or -1 with a message in err: the
 * caller must then refuse to run. */
int privdrop_apply(const struct config *cfg, char err[CONFIG_ERR_MAX])
    __attribute__((warn_unused_result));

/* The state file is replaced by writing "FILE.tmp" and renaming it (atomic), which needs
 * write access to its directory as the user we run as now: checked at start so that a
 * directory the dropped user cannot write fails the start, not every later save. 0 or -1
 * with err. */
int privdrop_check_state_dir(const struct config *cfg, char err[CONFIG_ERR_MAX])
    __attribute__((warn_unused_result));

#endif
