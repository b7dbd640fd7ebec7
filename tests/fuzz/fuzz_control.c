// SPDX-License-Identifier: MIT
/* libFuzzer target: arbitrary bytes as one control socket request (what serve_one reads:
 * at most 1023 bytes, up to the first NUL). control_parse must accept it as a command with
 * the right word count and blank-free words, which parse again to the same command when
 * joined by single spaces, or reject it with an error text. `explain` commands then run
 * explain_query against a snapshot with steering policies (tests/unit/steer_view.c on
 * geoip/sample.mmdb): every client, name and type text must either be refused or explained
 * without a crash. The other commands need the running server (RCU, the health monitor,
 * signals) and are left to the unit and e2e tests. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "server/control_parse.h"
#include "server/explain.h"
#include "steer_view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINE 1024 /* as in control.c */

static const char zone_text[] = "$ORIGIN example.com.\n$TTL 300\n"
                                "@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n"
                                "www CNAME geo\nsub NS ns.sub\nns.sub A 192.0.2.4\n";

static const char services[] =
    "  geo.example.com:\n"
    "    pools:\n"
    "      eu: { members: [ {address: 192.0.2.10}, {address: \"2001:db8::10\", down: true} ] }\n"
    "      us: { members: [ {address: 198.51.100.10} ] }\n"
    "    geo: { country: { DE: [eu] }, default: [us, eu] }\n"
    "    nets: { \"10.1.0.0/16\": [eu] }\n"
    "  cdn.example.com:\n"
    "    type: cname\n"
    "    select: sticky\n"
    "    pools: { p: { members: [ {target: www.example.com.}, {target: e.example.net.} ] } }\n";

static struct steer_view sv;
static struct snapshot snap;

static void
init(void)
{
    char mmdb[4096], err[STEER_VIEW_ERR_MAX];
    log_set_level(LOG_LEVEL_ERROR);
    snprintf(mmdb, sizeof(mmdb), "%s/geoip/sample.mmdb", MERIDIAN_SOURCE_DIR);
    if (steer_view_load(&sv, mmdb, "example.com", zone_text, NULL, services, err) < 0) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
    snap = (struct snapshot){.cfg = sv.cfg,
                             .zones = sv.zones,
                             .geo = sv.geo,
                             .policies = sv.policies,
                             .view = sv.view,
                             .health = sv.health};
}

static const char *
command_words(const struct control_command *cmd)
{
    switch (cmd->op) {
    case CONTROL_STATUS:
        return "status";
    case CONTROL_STATES:
        return "states";
    case CONTROL_EXPLAIN:
        return "explain";
    case CONTROL_RELOAD:
        return "reload";
    case CONTROL_DNSSEC_DS:
        return "dnssec ds";
    case CONTROL_DNSSEC_ROLL:
        return "dnssec roll";
    case CONTROL_DNSSEC_DS_SEEN:
        return "dnssec ds-seen";
    case CONTROL_ZONE_STATUS:
        return "zone status";
    case CONTROL_ZONE_REFRESH:
        return "zone refresh";
    case CONTROL_ZONE_RETRANSFER:
        return "zone retransfer";
    case CONTROL_RRL:
        return "rrl";
    case CONTROL_STATS:
        return "stats";
    case CONTROL_FORCE:
        return cmd->force == HEALTH_FORCE_UP     ? "force up"
               : cmd->force == HEALTH_FORCE_NONE ? "undrain"
                                                 : "drain";
    }
    abort();
}

/* Word counts per command, blank-free words, and the same command when parsed again. */
static void
check_command(const struct control_command *cmd)
{
    static const int min_args[] = {[CONTROL_STATUS] = 0,
                                   [CONTROL_STATES] = 0,
                                   [CONTROL_FORCE] = 1,
                                   [CONTROL_EXPLAIN] = 3,
                                   [CONTROL_RELOAD] = 0,
                                   [CONTROL_DNSSEC_DS] = 1,
                                   [CONTROL_DNSSEC_ROLL] = 1,
                                   [CONTROL_DNSSEC_DS_SEEN] = 1,
                                   [CONTROL_ZONE_STATUS] = 1,
                                   [CONTROL_ZONE_REFRESH] = 1,
                                   [CONTROL_ZONE_RETRANSFER] = 1,
                                   [CONTROL_RRL] = 0,
                                   [CONTROL_STATS] = 0};
    /* A selector has up to 3 words; `dnssec ds` and `roll` take an optional word. */
    static const int max_args[] = {[CONTROL_STATUS] = 0,
                                   [CONTROL_STATES] = 0,
                                   [CONTROL_FORCE] = CONTROL_MAX_WORDS - 1,
                                   [CONTROL_EXPLAIN] = 3,
                                   [CONTROL_RELOAD] = 0,
                                   [CONTROL_DNSSEC_DS] = 2,
                                   [CONTROL_DNSSEC_ROLL] = 2,
                                   [CONTROL_DNSSEC_DS_SEEN] = 1,
                                   [CONTROL_ZONE_STATUS] = 1,
                                   [CONTROL_ZONE_REFRESH] = 1,
                                   [CONTROL_ZONE_RETRANSFER] = 1,
                                   [CONTROL_RRL] = 0,
                                   [CONTROL_STATS] = 0};
    if (cmd->arg_count < min_args[cmd->op] || cmd->arg_count >= CONTROL_MAX_WORDS ||
        cmd->arg_count > max_args[cmd->op])
        abort();
    char line[MAX_LINE + 64];
    /* "force down" and "drain" are one command: the shorter form keeps within the word
     * limit whichever was sent. */
    size_t len = (size_t)snprintf(line, sizeof(line), "%s", command_words(cmd));
    for (int i = 0; i < cmd->arg_count; i++) {
        const char *a = cmd->args[i];
        if (!a[0])
            abort();
        for (const char *p = a; *p; p++)
            if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
                abort();
        len += (size_t)snprintf(line + len, sizeof(line) - len, " %s", a);
        if (len >= sizeof(line))
            abort();
    }
    struct control_command again;
    char error[CONTROL_ERROR_MAX];
    if (control_parse(line, &again, error) < 0 || again.op != cmd->op ||
        again.force != cmd->force || again.arg_count != cmd->arg_count)
        abort();
    for (int i = 0; i < cmd->arg_count; i++)
        if (strcmp(again.args[i], cmd->args[i]) != 0)
            abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char line[MAX_LINE];
    if (!sv.zones)
        init();
    if (size > MAX_LINE - 1)
        size = MAX_LINE - 1;
    memcpy(line, data, size);
    line[size] = '\0';

    struct control_command cmd;
    char error[CONTROL_ERROR_MAX];
    if (control_parse(line, &cmd, error) < 0) {
        if (!error[0] || !memchr(error, '\0', sizeof(error)))
            abort();
        return 0;
    }
    check_command(&cmd);
    if (cmd.op != CONTROL_EXPLAIN)
        return 0;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out)
        abort();
    char err[256] = "";
    int rc = explain_query(&snap, sv.health, cmd.args[0], cmd.args[1], cmd.args[2], out, err,
                           sizeof(err));
    fclose(out);
    /* Refused: nothing written and the reason said. Explained: the first line names the
     * query. */
    if (rc < 0 ? len != 0 || !err[0] : strncmp(text, "query: ", 7) != 0)
        abort();
    free(text);
    return 0;
}
