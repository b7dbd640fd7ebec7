// SPDX-License-Identifier: MIT
/* Control socket server (see control.h). Commands:
 *   status                         zones, records, reload result, health summary, site state
 *   states                         every health target: state, real state, forcing, errors
 *   drain|undrain SELECTOR         force down / clear forcing
 *   force up|down SELECTOR
 *   explain CLIENT[/PREFIX] QNAME QTYPE
 *   reload                         same as SIGHUP
 * SELECTOR: "member ADDRESS" (every check of that address or CNAME target), "pool SERVICE
 * POOL", "service SERVICE", "all", or "site" (drain/undrain only: marks the whole site
 * drained in `status`, which the anycast sidecar reads, without touching member states). */
#include "server/control.h"
#include "server/control_parse.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <urcu.h>

#include "common/alloc.h"
#include "common/log.h"
#include "server/explain.h"
#include "server/snapshot.h"

#define MAX_LINE 1024

struct control {
    pthread_t thread;
    int fd;
    char *path;
    struct health_monitor *monitor;
    atomic_bool stop;
};

static atomic_bool site_drained;

bool
control_site_drained(void)
{
    return atomic_load(&site_drained);
}

/* Collects the health keys a selector names, from the current snapshot. */
static uint32_t
select_keys(const struct snapshot *snap, char **words, int n, const char **keys, uint32_t max,
            const char **why)
{
    const struct policy_set *set = snap->policies;
    uint32_t count = 0;
    *why = NULL;
    if (!set) {
        *why = "no services are configured";
        return 0;
    }
    bool all = n == 1 && strcmp(words[0], "all") == 0;
    bool member = n == 2 && strcmp(words[0], "member") == 0;
    bool pool = n == 3 && strcmp(words[0], "pool") == 0;
    bool service = n == 2 && strcmp(words[0], "service") == 0;
    if (!all && !member && !pool && !service) {
        *why = "selector: member ADDRESS | pool SERVICE POOL | service SERVICE | all | site";
        return 0;
    }
    for (uint32_t id = 0; id < set->health_count && all; id++)
        if (count < max)
            keys[count++] = set->health_targets[id].key;
    for (uint32_t id = 0; id < set->health_count && member; id++)
        if (strcmp(set->health_targets[id].text, words[1]) == 0 && count < max)
            keys[count++] = set->health_targets[id].key;
    if (pool || service) {
        uint8_t wire[DNAME_MAX_LEN];
        int len = dname_from_text(words[1], wire);
        const struct policy_service *svc = NULL;
        if (len > 0) {
            len = dname_lower_copy(wire, wire);
            svc = policy_set_find(set, wire, len);
        }
        if (!svc) {
            *why = "no such service";
            return 0;
        }
        for (uint32_t p = 0; p < svc->pool_count; p++) {
            if (pool && strcmp(svc->pools[p].name, words[2]) != 0)
                continue;
            for (uint32_t i = 0; i < svc->pools[p].member_count && count < max; i++)
                keys[count++] = set->health_targets[svc->pools[p].members[i].health_id].key;
        }
    }
    if (count == 0 && !*why)
        *why = "nothing matches";
    return count;
}

static void
do_force(struct health_monitor *monitor, char **words, int n, enum health_force force,
         FILE *out)
{
    if (n == 1 && strcmp(words[0], "site") == 0) {
        if (force == HEALTH_FORCE_UP) {
            fprintf(out, "error: a site can be drained or undrained, not forced up\n");
            return;
        }
        atomic_store(&site_drained, force == HEALTH_FORCE_DOWN);
        log_info("control: site %s", force == HEALTH_FORCE_DOWN ? "drained" : "undrained");
        fprintf(out, "ok\nsite %s\n", force == HEALTH_FORCE_DOWN ? "drained" : "undrained");
        return;
    }
    if (!monitor) {
        fprintf(out, "error: health monitoring is not running\n");
        return;
    }
    rcu_read_lock();
    const struct snapshot *snap = snapshot_current_get();
    uint32_t max = snap->policies ? snap->policies->health_count : 0;
    const char **keys = xcalloc(max ? max : 1, sizeof(*keys));
    const char *why;
    uint32_t n_keys = select_keys(snap, words, n, keys, max, &why);
    /* Keys point into the snapshot: copy them before leaving the read-side section. */
    char **copies = xcalloc(n_keys ? n_keys : 1, sizeof(*copies));
    for (uint32_t i = 0; i < n_keys; i++)
        copies[i] = xstrdup(keys[i]);
    rcu_read_unlock();
    if (n_keys == 0) {
        fprintf(out, "error: %s\n", why);
    } else {
        uint32_t matched = health_monitor_force(monitor, (const char *const *)copies, n_keys,
                                                force, "meridianctl");
        fprintf(out, "ok\n%u targets %s\n", matched,
                force == HEALTH_FORCE_NONE ? "unforced"
                : force == HEALTH_FORCE_UP ? "forced up"
                                           : "forced down");
    }
    for (uint32_t i = 0; i < n_keys; i++)
        free(copies[i]);
    free(copies);
    free(keys);
}

static void
do_status(struct health_monitor *monitor, FILE *out)
{
    rcu_read_lock();
    const struct snapshot *snap = snapshot_current_get();
    fprintf(out, "ok\n");
    fprintf(out, "site: %s\n", atomic_load(&site_drained) ? "drained" : "active");
    fprintf(out, "zones: %zu\nrecords: %zu\n", snap->cfg->zone_count, snap->record_count);
    fprintf(out, "loaded: %lld\n", (long long)snap->loaded_at);
    struct snapshot_reload last = snapshot_last_reload();
    if (!last.at)
        fprintf(out, "last_reload: none\n");
    else
        fprintf(out, "last_reload: %s at %lld%s%s\n", last.ok ? "ok" : "failed",
                (long long)last.at, last.ok ? "" : ": ", last.ok ? "" : last.error);
    const struct health_table *table = rcu_dereference(snap->health);
    uint32_t up = 0, down = 0, unknown = 0;
    for (uint32_t i = 0; table && i < table->count; i++) {
        uint8_t s = table->entries[i].state;
        up += s == HEALTH_UP;
        down += s == HEALTH_DOWN;
        unknown += s == HEALTH_UNKNOWN;
    }
    fprintf(out, "health: %u up, %u down, %u unknown\n", up, down, unknown);
    fprintf(out, "geoip: %s\n", snap->geo ? snap->geo->path : "none");
    rcu_read_unlock();
    if (monitor)
        health_monitor_summary(monitor, out);
}

void
control_execute(struct health_monitor *monitor, char *line, FILE *out)
{
    struct control_command cmd;
    const char *error;
    if (control_parse(line, &cmd, &error) < 0) {
        fprintf(out, "error: %s\n", error);
        return;
    }
    switch (cmd.op) {
    case CONTROL_STATUS:
        do_status(monitor, out);
        break;
    case CONTROL_STATES:
        if (!monitor) {
            fprintf(out, "error: health monitoring is not running\n");
            return;
        }
        fprintf(out, "ok\n");
        health_monitor_states(monitor, out);
        break;
    case CONTROL_FORCE:
        do_force(monitor, cmd.args, cmd.arg_count, cmd.force, out);
        break;
    case CONTROL_EXPLAIN: {
        /* Rendered first: "ok" only when the arguments parsed. */
        char *text = NULL;
        size_t len = 0;
        FILE *buf = open_memstream(&text, &len);
        rcu_read_lock();
        const struct snapshot *snap = snapshot_current_get();
        int rc = explain_query(snap, rcu_dereference(snap->health), cmd.args[0], cmd.args[1],
                               cmd.args[2], buf);
        rcu_read_unlock();
        fclose(buf);
        if (rc < 0)
            fprintf(out, "error: usage: explain CLIENT[/PREFIX] QNAME QTYPE\n");
        else
            fprintf(out, "ok\n%s", text);
        free(text);
        break;
    }
    case CONTROL_RELOAD:
        kill(getpid(), SIGHUP);
        fprintf(out, "ok\nreload requested (see `status` for its result)\n");
        break;
    }
}

static void
serve_one(struct control *ctl, int fd)
{
    char line[MAX_LINE];
    size_t used = 0;
    /* One line, read with a deadline so a silent client cannot hold the thread. */
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (used < sizeof(line) - 1 && !memchr(line, '\n', used) && poll(&p, 1, 2000) == 1) {
        ssize_t r = read(fd, line + used, sizeof(line) - 1 - used);
        if (r <= 0)
            break;
        used += (size_t)r;
    }
    line[used] = '\0';
    char *reply = NULL;
    size_t reply_len = 0;
    FILE *out = open_memstream(&reply, &reply_len);
    control_execute(ctl->monitor, line, out);
    fclose(out);
    for (size_t off = 0; off < reply_len;) {
        ssize_t w = write(fd, reply + off, reply_len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    free(reply);
}

static void *
control_main(void *arg)
{
    struct control *ctl = arg;
    rcu_register_thread();
    while (!atomic_load(&ctl->stop)) {
        struct pollfd p = {.fd = ctl->fd, .events = POLLIN};
        if (poll(&p, 1, 200) != 1)
            continue;
        int fd = accept4(ctl->fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        serve_one(ctl, fd);
        close(fd);
    }
    rcu_unregister_thread();
    return NULL;
}

int
control_start(const char *path, struct health_monitor *monitor, struct control **out,
              char err[CONFIG_ERR_MAX])
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sun.sun_path)) {
        snprintf(err, CONFIG_ERR_MAX, "control socket path too long: %s", path);
        return -1;
    }
    strcpy(sun.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, CONFIG_ERR_MAX, "control socket: %s", strerror(errno));
        return -1;
    }
    unlink(path); /* a socket file left by a previous run */
    /* Owner and group only: the file mode is the access control. */
    mode_t old = umask(0117);
    int rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
    umask(old);
    if (rc < 0 || listen(fd, 16) < 0) {
        snprintf(err, CONFIG_ERR_MAX, "control socket %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    struct control *ctl = xcalloc(1, sizeof(*ctl));
    ctl->fd = fd;
    ctl->path = xstrdup(path);
    ctl->monitor = monitor;
    if ((rc = pthread_create(&ctl->thread, NULL, control_main, ctl)) != 0) {
        snprintf(err, CONFIG_ERR_MAX, "control thread: %s", strerror(rc));
        close(fd);
        free(ctl->path);
        free(ctl);
        return -1;
    }
    *out = ctl;
    return 0;
}

void
control_stop(struct control *ctl)
{
    if (!ctl)
        return;
    atomic_store(&ctl->stop, true);
    pthread_join(ctl->thread, NULL);
    close(ctl->fd);
    unlink(ctl->path);
    free(ctl->path);
    free(ctl);
}
