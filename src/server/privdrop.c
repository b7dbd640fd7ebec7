// SPDX-License-Identifier: MIT
/* Privilege drop (see privdrop.h). meridiand binds port 53 and its control socket as root,
 * then becomes server.user: supplementary groups first (initgroups: what the administrator
 * granted that user in /etc/group), then the group, then the user, in that order because a
 * process that is no longer root may not change its groups. Real, effective and saved ids
 * are all set (setresuid/setresgid), so no saved root id is left to switch back to; the
 * result is verified, including that setuid(0) now fails and that no capability survived the
 * change of user (Linux clears them on a switch away from uid 0 unless SECBIT_KEEP_CAPS is
 * set, which we never do). glibc applies the switch to every thread of the process. Main
 * thread, once at start. */
#include "server/privdrop.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/alloc.h"

bool
privdrop_needed(const struct config *cfg)
{
    return cfg->user && geteuid() == 0;
}

/* True if the process holds no capability in its effective or permitted set. */
static bool
no_capabilities(void)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

    memset(data, 0, sizeof(data));
    if (syscall(SYS_capget, &hdr, data) < 0)
        return false;
    for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
        if (data[i].effective || data[i].permitted)
            return false;
    return true;
}

static bool
ids_are(uid_t uid, gid_t gid)
{
    uid_t ru, eu, su;
    gid_t rg, eg, sg;

    if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
        return false;
    return ru == uid && eu == uid && su == uid && rg == gid && eg == gid && sg == gid;
}

/* Groups before the user: once the user is not root, groups can no longer change. -1 with
 * errno and the failed call's name in *step. */
static int
switch_ids(const struct config *cfg, const char **step)
{
    *step = "initgroups";
    if (initgroups(cfg->user, cfg->gid) < 0)
        return -1;
    *step = "setresgid";
    if (setresgid(cfg->gid, cfg->gid, cfg->gid) < 0)
        return -1;
    *step = "setresuid";
    return setresuid(cfg->uid, cfg->uid, cfg->uid);
}

int
privdrop_apply(const struct config *cfg, char err[CONFIG_ERR_MAX])
{
    if (!cfg->user)
        return 0;
    if (geteuid() != 0) {
        /* Started as the configured user already (a unit with User=, or by hand): fine. */
        if (ids_are(cfg->uid, cfg->gid))
            return 0;
        snprintf(err, CONFIG_ERR_MAX,
                 "%s: server.user '%s' (uid %u, gid %u): meridiand runs as uid %u, gid %u, "
                 "which is neither root nor that user and group, so it cannot switch (start "
                 "it as root, or as that user, or remove server.user)",
                 cfg->path, cfg->user, (unsigned)cfg->uid, (unsigned)cfg->gid, (unsigned)geteuid(),
                 (unsigned)getegid());
        return -1;
    }
    const char *step = NULL;
    if (switch_ids(cfg, &step) < 0) {
        snprintf(err, CONFIG_ERR_MAX,
                 "%s: server.user '%s': cannot switch to uid %u, gid %u: %s: %s (refusing to "
                 "run as root)",
                 cfg->path, cfg->user, (unsigned)cfg->uid, (unsigned)cfg->gid, step,
                 strerror(errno));
        return -1;
    }
    /* Trust, but verify: a half-done switch must never run as root. */
    if (!ids_are(cfg->uid, cfg->gid)) {
        snprintf(err, CONFIG_ERR_MAX, "%s: server.user '%s': ids are not what was set", cfg->path,
                 cfg->user);
        return -1;
    }
    if (cfg->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0 || !no_capabilities())) {
        snprintf(err, CONFIG_ERR_MAX,
                 "%s: server.user '%s': root privileges could be regained after the switch; "
                 "refusing to run",
                 cfg->path, cfg->user);
        return -1;
    }
    return 0;
}

int
privdrop_check_state_dir(const struct config *cfg, char err[CONFIG_ERR_MAX])
{
    if (!cfg->state_file)
        return 0;
    /* dirname may modify its argument: work on a copy. */
    char *copy = xstrdup(cfg->state_file);
    const char *dir = dirname(copy);
    int rc = 0;
    if (access(dir, W_OK | X_OK) < 0) {
        snprintf(err, CONFIG_ERR_MAX,
                 "%s: state_file %s: its directory %s is not writable by uid %u (%s); the "
                 "state file is replaced by a rename there, so the directory must belong to "
                 "the user meridiand runs as%s",
                 cfg->path, cfg->state_file, dir, (unsigned)getuid(), strerror(errno),
                 cfg->user ? " (server.user)" : "");
        rc = -1;
    }
    free(copy);
    return rc;
}

int
privdrop_hand_over_keys(const struct config *cfg, char err[CONFIG_ERR_MAX])
{
    for (size_t i = 0; i < cfg->zone_count; i++) {
        const struct config_dnssec *d = &cfg->zones[i].dnssec;
        if (!d->enabled)
            continue;
        DIR *dir = opendir(d->key_directory);
        if (!dir || fchown(dirfd(dir), cfg->uid, cfg->gid) < 0) {
            snprintf(err, CONFIG_ERR_MAX, "%s:%d: key_directory %s: cannot hand it to uid %u: %s",
                     cfg->path, d->line, d->key_directory, (unsigned)cfg->uid, strerror(errno));
            if (dir)
                closedir(dir);
            return -1;
        }
        const struct dirent *e;
        int rc = 0;
        while (rc == 0 && (e = readdir(dir)) != NULL) {
            /* BIND's key file names: K<zone>.+<alg>+<tag>.*, the rollover states
             * K<zone>.state, and retired/, where rollovers move old keys. */
            if (e->d_name[0] != 'K' && strcmp(e->d_name, "retired") != 0)
                continue;
            rc = fchownat(dirfd(dir), e->d_name, cfg->uid, cfg->gid, AT_SYMLINK_NOFOLLOW);
            if (rc < 0)
                snprintf(err, CONFIG_ERR_MAX, "%s:%d: key file %s/%s: cannot hand it to uid %u: %s",
                         cfg->path, d->line, d->key_directory, e->d_name, (unsigned)cfg->uid,
                         strerror(errno));
        }
        closedir(dir);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int
privdrop_check_key_dirs(const struct config *cfg, char err[CONFIG_ERR_MAX])
{
    for (size_t i = 0; i < cfg->zone_count; i++) {
        const struct config_dnssec *d = &cfg->zones[i].dnssec;
        if (d->enabled && access(d->key_directory, R_OK | W_OK | X_OK) < 0) {
            snprintf(err, CONFIG_ERR_MAX,
                     "%s:%d: key_directory %s is not readable and writable by uid %u (%s): "
                     "reloads read the keys and rollovers write there",
                     cfg->path, d->line, d->key_directory, (unsigned)getuid(), strerror(errno));
            return -1;
        }
    }
    const struct config_cookies *c = &cfg->cookies;
    if (c->secret_file && access(c->secret_file, R_OK) < 0) {
        snprintf(err, CONFIG_ERR_MAX,
                 "%s:%d: cookie_secret_file %s is not readable by uid %u (%s): reloads read "
                 "it; give it to the server's user (chmod 600)",
                 cfg->path, c->line, c->secret_file, (unsigned)getuid(), strerror(errno));
        return -1;
    }
    return 0;
}

int
privdrop_check_tsig_secrets(const struct config *cfg, char err[CONFIG_ERR_MAX])
{
    for (size_t i = 0; i < cfg->tsig_key_count; i++) {
        const struct config_tsig_key *k = &cfg->tsig_keys[i];
        if (k->secret_file && access(k->secret_file, R_OK) < 0) {
            snprintf(err, CONFIG_ERR_MAX,
                     "%s:%d: tsig_keys: %s: secret_file %s is not readable by uid %u (%s): "
                     "reloads read it; give it to the server's user (chmod 600)",
                     cfg->path, k->line, k->name, k->secret_file, (unsigned)getuid(),
                     strerror(errno));
            return -1;
        }
    }
    return 0;
}
