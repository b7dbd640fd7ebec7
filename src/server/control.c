// SPDX-License-Identifier: MIT
/* Control socket server (see control.h). Commands:
 *   status                         zones, records, reload result, health summary, site state
 *   states                         every health target: state, real state, forcing, errors
 *   stats                          the query counters (server/metrics.h)
 *   drain|undrain SELECTOR         force down / clear forcing
 *   force up|down SELECTOR
 *   explain CLIENT[/PREFIX] QNAME QTYPE
 *   reload                         same as SIGHUP, but answered with the reload's result
 *   dnssec ds ZONE [DIGEST]        the DS, DNSKEY and CDNSKEY records for the parent
 *   dnssec roll ZONE [KIND]        start a key rollover (dnssec_ops.h), answered like reload
 *   dnssec ds-seen ZONE            the parent has the new DS; answered like reload
 *   zone status ZONE               serial, last change, transfer history and counters
 *   zone refresh|retransfer ZONE   a secondary zone: refresh now (SOA, IXFR) / AXFR now
 * SELECTOR: "member ADDRESS" (every check of that address or CNAME target), "pool SERVICE
 * POOL", "service SERVICE", "all", or "site" (drain/undrain only: marks the whole site
 * drained in `status`, which the anycast sidecar reads, without touching member states).
 * The thread serves one connection at a time, except `reload`: its connection is parked
 * until the main thread has finished a reload that started after the request (the main
 * thread wakes us through an eventfd), so a slow reload never holds up `status`, which the
 * anycast sidecar polls every second. `dnssec roll` and `ds-seen` are parked the same way:
 * the main thread runs them as that reload begins, and the reply gives both outcomes. */
#include "server/control.h"
#include "server/control_parse.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "common/alloc.h"
#include "common/log.h"
#include "dnssec/dnssec_report.h"
#include "server/dnssec_ops.h"
#include "server/secondary.h"
#include "server/explain.h"
#include "server/metrics.h"
#include "server/snapshot.h"
#include "server/xfr_serve.h"

#define MAX_LINE 1024
#define MAX_PENDING_RELOADS 16 /* parked `reload` connections */

/* A `reload` request waiting for the reload numbered `wait_for` or later; with `op`, the
 * dnssec_ops request that reload runs first. */
struct pending_reload {
    int fd;
    uint64_t wait_for;
    uint64_t op;
};

struct control {
    pthread_t thread;
    bool running;
    int fd;
    int wake; /* eventfd: a reload finished, or stop */
    char *path;
    _Atomic(struct health_monitor *) monitor;
    atomic_bool stop;
    struct pending_reload pending[MAX_PENDING_RELOADS];
    unsigned pending_count;
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
        *why = "selector: member ADDRESS | pool SERVICE POOL | service SERVICE | all | site "
               "(site: drain/undrain only)";
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

/* "2026-01-02T03:04:05Z (12 s ago)": UTC for logs and humans, the age for a quick look. */
static void
print_time(FILE *out, time_t t, time_t now)
{
    char text[32];
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(out, "%s (%lld s ago)", text, (long long)(now >= t ? now - t : 0));
}

static void
do_status(struct health_monitor *monitor, FILE *out)
{
    time_t now = snapshot_now();
    rcu_read_lock();
    const struct snapshot *snap = snapshot_current_get();
    fprintf(out, "ok\n");
    fprintf(out, "site: %s\n", atomic_load(&site_drained) ? "drained" : "active");
    fprintf(out, "zones: %zu\nrecords: %zu\n", snap->cfg->zone_count, snap->record_count);
    fprintf(out, "loaded: ");
    print_time(out, snap->loaded_at, now);
    fprintf(out, "\n");
    struct snapshot_reload last = snapshot_last_reload();
    if (!last.at) {
        fprintf(out, "last_reload: none\n");
    } else {
        fprintf(out, "last_reload: %s at ", last.ok ? "ok" : "failed");
        print_time(out, last.at, now);
        fprintf(out, "%s%s\n", last.ok ? "" : ": ", last.ok ? "" : last.message);
    }
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
    dnssec_ops_status(snap, now, out);
    rcu_read_unlock();
    if (monitor)
        health_monitor_summary(monitor, out);
}

/* `dnssec ds ZONE [sha256|sha384|all]`. */
static void
do_dnssec_ds(char **args, int n, FILE *out)
{
    unsigned digests = DNSSEC_REPORT_SHA256;
    if (n > 1)
        digests = strcmp(args[1], "sha384") == 0 ? DNSSEC_REPORT_SHA384
                  : strcmp(args[1], "all") == 0  ? DNSSEC_REPORT_SHA256 | DNSSEC_REPORT_SHA384
                                                 : DNSSEC_REPORT_SHA256;
    char *text = NULL, err[DNSSEC_OPS_TEXT_MAX];
    size_t len = 0;
    FILE *buf = open_memstream(&text, &len);
    rcu_read_lock();
    int rc = dnssec_ops_ds(snapshot_current_get(), args[0], digests, buf, err);
    rcu_read_unlock();
    fclose(buf);
    if (rc < 0)
        fprintf(out, "error: dnssec ds: %s\n", err);
    else
        fprintf(out, "ok\n%s", text);
    free(text);
}

/* `dnssec roll ZONE [KIND]` and `dnssec ds-seen ZONE`: checked against the serving
 * snapshot, then queued for the main thread. Returns the request id, or 0 after an error
 * reply. */
static uint64_t
queue_dnssec(const struct control_command *cmd, FILE *out)
{
    char err[DNSSEC_OPS_TEXT_MAX];
    struct dnssec_zone *dz;
    enum dnssec_roll_kind kind = DNSSEC_ROLL_CSK;
    bool roll = cmd->op == CONTROL_DNSSEC_ROLL;
    rcu_read_lock();
    const struct snapshot *snap = snapshot_current_get();
    int i = dnssec_ops_find_zone(snap, cmd->args[0], &dz, err);
    bool split = i >= 0 && snap->cfg->zones[i].dnssec.keys == CONFIG_DNSSEC_KSK_ZSK;
    rcu_read_unlock();
    if (i >= 0 && !dz)
        snprintf(err, sizeof(err), "zone %.300s is not signed (no `dnssec:` in its entry)",
                 cmd->args[0]);
    if (i < 0 || !dz) {
        fprintf(out, "error: dnssec %s: %s\n", roll ? "roll" : "ds-seen", err);
        return 0;
    }
    if (roll && cmd->arg_count > 1 && dnssec_roll_kind_parse(cmd->args[1], &kind) < 0)
        kind = DNSSEC_ROLL_CSK; /* control_parse allows only the three kinds */
    if (roll && cmd->arg_count == 1 && split) {
        fprintf(out, "error: dnssec roll: %s has a KSK and a ZSK: say which (dnssec roll %s "
                     "ksk|zsk)\n",
                cmd->args[0], cmd->args[0]);
        return 0;
    }
    uint64_t id = dnssec_ops_request(roll ? DNSSEC_OP_ROLL : DNSSEC_OP_DS_SEEN, cmd->args[0], kind);
    if (id == 0)
        fprintf(out, "error: too many requests waiting; try again\n");
    return id;
}

enum control_result
control_execute(struct health_monitor *monitor, char *line, FILE *out)
{
    uint64_t op;
    return control_execute_op(monitor, line, out, &op);
}

enum control_result
control_execute_op(struct health_monitor *monitor, char *line, FILE *out, uint64_t *op)
{
    struct control_command cmd;
    char error[CONTROL_ERROR_MAX];
    *op = 0;
    if (control_parse(line, &cmd, error) < 0) {
        fprintf(out, "error: %s\n", error);
        return CONTROL_REPLIED;
    }
    switch (cmd.op) {
    case CONTROL_STATUS:
        do_status(monitor, out);
        break;
    case CONTROL_STATES:
        if (!monitor) {
            fprintf(out, "error: health monitoring is not running (no member has a check)\n");
            break;
        }
        fprintf(out, "ok\n");
        health_monitor_states(monitor, out);
        break;
    case CONTROL_FORCE:
        do_force(monitor, cmd.args, cmd.arg_count, cmd.force, out);
        break;
    case CONTROL_EXPLAIN: {
        /* Rendered first: "ok" only when the arguments parsed. */
        char *text = NULL, err[256];
        size_t text_len = 0;
        FILE *buf = open_memstream(&text, &text_len);
        rcu_read_lock();
        const struct snapshot *snap = snapshot_current_get();
        int rc = explain_query(snap, rcu_dereference(snap->health), cmd.args[0], cmd.args[1],
                               cmd.args[2], buf, err, sizeof(err));
        rcu_read_unlock();
        fclose(buf);
        if (rc < 0)
            fprintf(out, "error: explain: %s\n", err);
        else
            fprintf(out, "ok\n%s", text);
        free(text);
        break;
    }
    case CONTROL_RELOAD:
        return CONTROL_RELOAD_PARKED;
    case CONTROL_STATS:
        fprintf(out, "ok\n");
        metrics_text(out);
        break;
    case CONTROL_DNSSEC_DS:
        do_dnssec_ds(cmd.args, cmd.arg_count, out);
        break;
    case CONTROL_DNSSEC_ROLL:
    case CONTROL_DNSSEC_DS_SEEN:
        *op = queue_dnssec(&cmd, out);
        return *op ? CONTROL_RELOAD_PARKED : CONTROL_REPLIED;
    case CONTROL_ZONE_STATUS:
        rcu_read_lock();
        xfr_serve_status(snapshot_current_get(), cmd.args[0], out);
        rcu_read_unlock();
        break;
    case CONTROL_ZONE_REFRESH:
    case CONTROL_ZONE_RETRANSFER: {
        /* Started, not waited for: `zone status` shows the outcome. */
        char err[300];
        bool full = cmd.op == CONTROL_ZONE_RETRANSFER;
        if (secondary_request(cmd.args[0], full, err, sizeof(err)) < 0)
            fprintf(out, "error: %s\n", err);
        else
            fprintf(out, "ok\n%s of %s started; see `zone status %s`\n",
                    full ? "retransfer (AXFR)" : "refresh", cmd.args[0], cmd.args[0]);
        break;
    }
    }
    return CONTROL_REPLIED;
}

static void
write_all(int fd, const char *data, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, data + off, len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
}

/* Parks a `reload` connection (with its dnssec_ops request, if any) and asks the main
 * thread for a reload (SIGHUP). */
static void
park_reload(struct control *ctl, int fd, uint64_t op)
{
    if (ctl->pending_count == MAX_PENDING_RELOADS) {
        static const char busy[] = "error: too many reload requests waiting; try again\n";
        write_all(fd, busy, sizeof(busy) - 1);
        close(fd);
        return;
    }
    /* Any reload that starts from now on reads the files as they are now, and runs the
     * queued request first. */
    ctl->pending[ctl->pending_count++] = (struct pending_reload){
        .fd = fd, .wait_for = snapshot_reloads_started() + 1, .op = op};
    kill(getpid(), SIGHUP);
}

/* The reply to a parked dnssec request: its outcome, then the reload's. */
static int
dnssec_reply(const struct pending_reload *p, const struct snapshot_reload *last, bool covered,
             char *reply, size_t size)
{
    char text[DNSSEC_OPS_TEXT_MAX];
    bool ok = false;
    if (!dnssec_ops_result(p->op, &ok, text))
        return snprintf(reply, size, "error: meridiand is stopping; the request did not run\n");
    if (!ok)
        return snprintf(reply, size, "error: %s\n", text);
    if (covered && last->ok)
        return snprintf(reply, size, "ok\n%s\nreloaded: %s\n", text, last->message);
    /* The state is saved: the main thread's timer publishes it once a reload succeeds. */
    return snprintf(reply, size, "error: %s; but the reload failed, still serving the previous "
                                 "data (retried by the timer): %s\n",
                    text, covered ? last->message : "meridiand is stopping");
}

/* Answers the parked requests that the last reload covers (all of them when stopping). */
static void
answer_reloads(struct control *ctl, bool stopping)
{
    struct snapshot_reload last = snapshot_last_reload();
    unsigned kept = 0;
    for (unsigned i = 0; i < ctl->pending_count; i++) {
        struct pending_reload *p = &ctl->pending[i];
        if (!stopping && (last.at == 0 || last.seq < p->wait_for)) {
            ctl->pending[kept++] = *p;
            continue;
        }
        char reply[CONFIG_ERR_MAX + DNSSEC_OPS_TEXT_MAX + 128];
        int len;
        if (p->op)
            len = dnssec_reply(p, &last, last.at != 0 && last.seq >= p->wait_for, reply,
                               sizeof(reply));
        else if (stopping && (last.at == 0 || last.seq < p->wait_for))
            len = snprintf(reply, sizeof(reply), "error: meridiand is stopping; not reloaded\n");
        else if (last.ok)
            len = snprintf(reply, sizeof(reply), "ok\nreloaded: %s\n", last.message);
        else
            len = snprintf(reply, sizeof(reply),
                           "error: reload failed, still serving the previous data: %s\n",
                           last.message);
        write_all(p->fd, reply, len < (int)sizeof(reply) ? (size_t)len : sizeof(reply) - 1);
        close(p->fd);
    }
    ctl->pending_count = kept;
}

/* Reads one command line and answers it, or parks it (reload). */
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
    uint64_t op;
    enum control_result res = control_execute_op(atomic_load(&ctl->monitor), line, out, &op);
    fclose(out);
    if (res == CONTROL_RELOAD_PARKED) {
        free(reply);
        park_reload(ctl, fd, op);
        return;
    }
    write_all(fd, reply, reply_len);
    free(reply);
    close(fd);
}

static void *
control_main(void *arg)
{
    struct control *ctl = arg;
    rcu_register_thread();
    while (!atomic_load(&ctl->stop)) {
        struct pollfd p[2] = {{.fd = ctl->fd, .events = POLLIN},
                              {.fd = ctl->wake, .events = POLLIN}};
        if (poll(p, 2, -1) < 0)
            continue; /* EINTR */
        if (p[1].revents & POLLIN) {
            uint64_t v;
            (void)!read(ctl->wake, &v, sizeof(v));
            answer_reloads(ctl, false);
        }
        if (!(p[0].revents & POLLIN) || atomic_load(&ctl->stop))
            continue;
        int fd = accept4(ctl->fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0)
            serve_one(ctl, fd);
    }
    answer_reloads(ctl, true);
    rcu_unregister_thread();
    return NULL;
}

int
control_open(const char *path, uid_t uid, gid_t gid, struct control **out,
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
    /* Privilege drop: the socket is bound by root (its directory may be root's, as /run is)
     * and handed to the user we switch to, so that server.group members can connect and the
     * server can remove it at exit where the directory allows. */
    if (uid != (uid_t)-1 && chown(path, uid, gid) < 0) {
        snprintf(err, CONFIG_ERR_MAX, "control socket %s: chown to %u:%u: %s", path,
                 (unsigned)uid, (unsigned)gid, strerror(errno));
        close(fd);
        unlink(path);
        return -1;
    }
    struct control *ctl = xcalloc(1, sizeof(*ctl));
    ctl->fd = fd;
    ctl->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (ctl->wake < 0) {
        snprintf(err, CONFIG_ERR_MAX, "control socket: eventfd: %s", strerror(errno));
        close(fd);
        unlink(path);
        free(ctl);
        return -1;
    }
    ctl->path = xstrdup(path);
    *out = ctl;
    return 0;
}

int
control_run(struct control *ctl, char err[CONFIG_ERR_MAX])
{
    int rc = pthread_create(&ctl->thread, NULL, control_main, ctl);
    if (rc != 0) {
        snprintf(err, CONFIG_ERR_MAX, "control thread: %s", strerror(rc));
        return -1;
    }
    ctl->running = true;
    return 0;
}

void
control_set_monitor(struct control *ctl, struct health_monitor *monitor)
{
    if (ctl)
        atomic_store(&ctl->monitor, monitor);
}

static void
wake(struct control *ctl)
{
    uint64_t one = 1;
    (void)!write(ctl->wake, &one, sizeof(one));
}

void
control_reload_done(struct control *ctl)
{
    if (ctl)
        wake(ctl);
}

void
control_stop(struct control *ctl)
{
    if (!ctl)
        return;
    atomic_store(&ctl->stop, true);
    if (ctl->running) {
        wake(ctl);
        pthread_join(ctl->thread, NULL);
    }
    close(ctl->wake);
    close(ctl->fd);
    unlink(ctl->path);
    free(ctl->path);
    free(ctl);
}
