// SPDX-License-Identifier: MIT
/* meridian-anycast: the anycast sidecar (ARCHITECTURE.md §7). Reads the `anycast:` section of the
 * Meridian config, creates the gate devices, probes meridiand as a client would and raises or
 * lowers the gates that BIRD's static routes depend on. One thread, one libev loop: signals,
 * timers, probes, the control socket and BIRD sessions are all watchers on it, so the systemd
 * watchdog pinged from the loop proves the loop is alive. */
#include <ev.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anycast/config.h"
#include "common/notify.h"
#include "anycast/sidecar.h"
#include "common/log.h"

#define VERSION "0.1.0"

static void
usage(FILE *f)
{
    fprintf(f, "usage: meridian-anycast [-c FILE] [-n] [-V] [-h]\n"
               "  -c FILE  configuration file; reads its `anycast:` section "
               "(default " ANYCAST_DEFAULT_CONFIG ")\n"
               "  -n       check the configuration and exit\n"
               "  -V       print the version and exit\n"
               "  -h       this help\n"
               "control socket (anycast.control_socket; `meridianctl -s PATH CMD` works):\n"
               "  status | drain | undrain | force up | force down | unforce\n"
               "signals: SIGUSR1 drain, SIGUSR2 undrain, SIGTERM/SIGINT withdraw and exit\n"
               "exit status: 0 after SIGTERM/SIGINT, 1 on a start-up error, 2 on bad usage\n");
}

struct ctx {
    struct anycast_sidecar *sc;
};

static void
on_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)revents;
    log_info("signal %d: withdrawing and stopping", w->signum);
    ev_break(loop, EVBREAK_ALL);
}

static void
on_drain_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    struct ctx *ctx = w->data;
    char line[16];
    char *reply = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&reply, &len);

    (void)loop;
    (void)revents;
    snprintf(line, sizeof(line), "%s", w->signum == SIGUSR1 ? "drain" : "undrain");
    anycast_sidecar_command(ctx->sc, line, out);
    fclose(out);
    if (strncmp(reply, "ok", 2) != 0)
        log_warning("signal %d (%s): %s", w->signum, w->signum == SIGUSR1 ? "drain" : "undrain",
                    reply);
    free(reply);
}

static void
on_hup(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    /* Re-reading the config would have to re-create gates; a restart withdraws. Say so. */
    log_warning("SIGHUP ignored: restart to apply a new configuration (drain first)");
}

static void
on_watchdog(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct ctx *ctx = w->data;
    (void)loop;
    (void)revents;
    /* Fed from the loop, and only while probe rounds complete: a hung loop or stalled probing
     * gets the process killed by systemd, and its gates go with it. */
    if (anycast_sidecar_alive(ctx->sc))
        notify_systemd("WATCHDOG=1");
    else
        log_warning("watchdog: probe rounds stalled; not feeding systemd's watchdog");
}

int
main(int argc, char **argv)
{
    const char *path = ANYCAST_DEFAULT_CONFIG;
    bool check_only = false;
    char err[ANYCAST_CONFIG_ERR_MAX];
    struct anycast_config *cfg;
    struct ctx ctx = {0};
    struct ev_loop *loop;
    ev_signal sigs[5];
    ev_timer watchdog;
    uint64_t wd_usec;
    int opt;

    while ((opt = getopt(argc, argv, "c:nVh")) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 'n':
            check_only = true;
            break;
        case 'V':
            printf("meridian-anycast " VERSION "\n");
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if (anycast_config_load(path, &cfg, err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (check_only) {
        printf("%s: ok: %zu prefixes, %zu service addresses\n", path, cfg->prefix_count,
               cfg->service_count);
        anycast_config_free(cfg);
        return 0;
    }
    log_set_level((enum log_level)cfg->log_level);
    signal(SIGPIPE, SIG_IGN);

    loop = ev_default_loop(EVFLAG_AUTO);
    if (anycast_sidecar_start(loop, cfg, &ctx.sc, err, sizeof(err)) < 0) {
        fprintf(stderr, "meridian-anycast: %s\n", err);
        anycast_config_free(cfg);
        return 1;
    }
    ev_signal_init(&sigs[0], on_stop, SIGTERM);
    ev_signal_init(&sigs[1], on_stop, SIGINT);
    ev_signal_init(&sigs[2], on_drain_signal, SIGUSR1);
    ev_signal_init(&sigs[3], on_drain_signal, SIGUSR2);
    ev_signal_init(&sigs[4], on_hup, SIGHUP);
    for (int i = 0; i < 5; i++) {
        sigs[i].data = &ctx;
        ev_signal_start(loop, &sigs[i]);
    }
    /* Pinged from the loop at half the watchdog period: a hung loop gets killed, and with it
     * go the gates (ARCHITECTURE.md §7). */
    wd_usec = notify_watchdog_usec();
    if (wd_usec > 0) {
        double period = (double)wd_usec / 2e6;
        ev_timer_init(&watchdog, on_watchdog, period, period);
        watchdog.data = &ctx;
        ev_timer_start(loop, &watchdog);
    }
    log_info("meridian-anycast " VERSION ": %zu prefixes, %zu service addresses, control %s",
             cfg->prefix_count, cfg->service_count, cfg->control_socket);
    notify_systemd("READY=1");
    ev_run(loop, 0);

    notify_systemd("STOPPING=1");
    for (int i = 0; i < 5; i++)
        ev_signal_stop(loop, &sigs[i]);
    if (wd_usec > 0)
        ev_timer_stop(loop, &watchdog);
    anycast_sidecar_stop(ctx.sc);
    anycast_config_free(cfg);
    ev_loop_destroy(loop);
    return 0;
}
