// SPDX-License-Identifier: MIT
/* Parsing of control command lines (see control_parse.h): words split on blanks, at most
 * CONTROL_MAX_WORDS, then matched against the commands and their word counts. Called by the
 * control thread for every request. */
#include "server/control_parse.h"

#include <string.h>

static const char usage[] = "unknown command; try: status | states | drain SEL | undrain SEL | "
                            "force up|down SEL | explain CLIENT QNAME QTYPE | reload";

/* The command word and its argument count decide; arguments are checked by whoever runs
 * the command (a selector needs the snapshot to be resolved). */
int
control_parse(char *line, struct control_command *cmd, const char **error)
{
    char *words[CONTROL_MAX_WORDS];
    int n = 0;
    for (char *save, *w = strtok_r(line, " \t\r\n", &save); w && n < CONTROL_MAX_WORDS;
         w = strtok_r(NULL, " \t\r\n", &save))
        words[n++] = w;
    memset(cmd, 0, sizeof(*cmd));
    *error = NULL;
    int skip = 1; /* words before the arguments */
    if (n == 0) {
        *error = "empty command";
        return -1;
    } else if (strcmp(words[0], "status") == 0 && n == 1) {
        cmd->op = CONTROL_STATUS;
    } else if (strcmp(words[0], "states") == 0 && n == 1) {
        cmd->op = CONTROL_STATES;
    } else if (strcmp(words[0], "drain") == 0 && n >= 2) {
        cmd->op = CONTROL_FORCE;
        cmd->force = HEALTH_FORCE_DOWN;
    } else if (strcmp(words[0], "undrain") == 0 && n >= 2) {
        cmd->op = CONTROL_FORCE;
        cmd->force = HEALTH_FORCE_NONE;
    } else if (strcmp(words[0], "force") == 0 && n >= 3 &&
               (strcmp(words[1], "up") == 0 || strcmp(words[1], "down") == 0)) {
        cmd->op = CONTROL_FORCE;
        cmd->force = words[1][0] == 'u' ? HEALTH_FORCE_UP : HEALTH_FORCE_DOWN;
        skip = 2;
    } else if (strcmp(words[0], "explain") == 0 && n == 4) {
        cmd->op = CONTROL_EXPLAIN;
    } else if (strcmp(words[0], "reload") == 0 && n == 1) {
        cmd->op = CONTROL_RELOAD;
    } else {
        *error = usage;
        return -1;
    }
    for (int i = skip; i < n; i++)
        cmd->args[cmd->arg_count++] = words[i];
    return 0;
}
