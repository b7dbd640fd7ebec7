// SPDX-License-Identifier: MIT
/* Parsing of control command lines (see control_parse.h): words split on blanks, at most
 * CONTROL_MAX_WORDS, then matched against the commands and their word counts; an error
 * says what is missing or unknown. Called by the control thread for every request. */
#include "server/control_parse.h"

#include <stdio.h>
#include <string.h>

static const char selector_help[] =
    "member ADDRESS | pool SERVICE POOL | service SERVICE | all | site";

static bool
is(const char *word, const char *name)
{
    return strcmp(word, name) == 0;
}

static const char dnssec_help[] =
    "dnssec ds ZONE [sha256|sha384|all] | dnssec roll ZONE [csk|ksk|zsk] | dnssec ds-seen ZONE";

/* "dnssec SUBCOMMAND ZONE [WORD]": the subcommand, the word count and the optional word. */
static void
dnssec_command(int n, char **words, struct control_command *cmd, char error[CONTROL_ERROR_MAX])
{
    static const char *const digests[] = {"sha256", "sha384", "all"};
    static const char *const kinds[] = {"csk", "ksk", "zsk"};
    const char *sub = n > 1 ? words[1] : "";
    const char *const *allowed = NULL;
    int most = 3; /* dnssec, the subcommand, the zone */
    if (is(sub, "ds")) {
        cmd->op = CONTROL_DNSSEC_DS;
        allowed = digests;
        most = 4;
    } else if (is(sub, "roll")) {
        cmd->op = CONTROL_DNSSEC_ROLL;
        allowed = kinds;
        most = 4;
    } else if (is(sub, "ds-seen")) {
        cmd->op = CONTROL_DNSSEC_DS_SEEN;
    } else {
        snprintf(error, CONTROL_ERROR_MAX, "dnssec needs a subcommand: %s", dnssec_help);
        return;
    }
    if (n < 3 || n > most) {
        snprintf(error, CONTROL_ERROR_MAX, "dnssec %s needs a zone: %s", sub, dnssec_help);
        return;
    }
    bool known = n == 3;
    for (int i = 0; i < 3 && !known; i++)
        known = is(words[3], allowed[i]);
    if (!known)
        snprintf(error, CONTROL_ERROR_MAX, "dnssec %s: '%.64s' is not one of %s|%s|%s", sub,
                 words[3], allowed[0], allowed[1], allowed[2]);
}

/* The command word and its argument count decide; arguments are checked by whoever runs
 * the command (a selector needs the snapshot to be resolved). */
int
control_parse(char *line, struct control_command *cmd, char error[CONTROL_ERROR_MAX])
{
    char *words[CONTROL_MAX_WORDS + 1];
    int n = 0;
    for (char *save, *w = strtok_r(line, " \t\r\n", &save); w && n <= CONTROL_MAX_WORDS;
         w = strtok_r(NULL, " \t\r\n", &save))
        words[n++] = w;
    memset(cmd, 0, sizeof(*cmd));
    error[0] = '\0';
    const char *word = n ? words[0] : "";
    int skip = 1; /* words before the arguments */
    if (n == 0) {
        snprintf(error, CONTROL_ERROR_MAX, "empty command");
    } else if (n > CONTROL_MAX_WORDS) {
        snprintf(error, CONTROL_ERROR_MAX, "too many words (at most %d)", CONTROL_MAX_WORDS);
    } else if ((is(word, "status") || is(word, "states") || is(word, "reload") ||
                is(word, "rrl") || is(word, "stats")) &&
               n > 1) {
        snprintf(error, CONTROL_ERROR_MAX, "%s takes no arguments", word);
    } else if (is(word, "status")) {
        cmd->op = CONTROL_STATUS;
    } else if (is(word, "states")) {
        cmd->op = CONTROL_STATES;
    } else if (is(word, "reload")) {
        cmd->op = CONTROL_RELOAD;
    } else if (is(word, "rrl")) {
        cmd->op = CONTROL_RRL;
    } else if (is(word, "stats")) {
        cmd->op = CONTROL_STATS;
    } else if ((is(word, "drain") || is(word, "undrain")) && n == 1) {
        snprintf(error, CONTROL_ERROR_MAX, "%s needs a selector: %s", word, selector_help);
    } else if (is(word, "drain") || is(word, "undrain")) {
        cmd->op = CONTROL_FORCE;
        cmd->force = word[0] == 'd' ? HEALTH_FORCE_DOWN : HEALTH_FORCE_NONE;
    } else if (is(word, "force") && (n < 2 || (!is(words[1], "up") && !is(words[1], "down")))) {
        snprintf(error, CONTROL_ERROR_MAX,
                 "force needs up or down, then a selector: force up|down %s", selector_help);
    } else if (is(word, "force") && n == 2) {
        snprintf(error, CONTROL_ERROR_MAX, "force %s needs a selector: %s", words[1],
                 selector_help);
    } else if (is(word, "force")) {
        cmd->op = CONTROL_FORCE;
        cmd->force = words[1][0] == 'u' ? HEALTH_FORCE_UP : HEALTH_FORCE_DOWN;
        skip = 2;
    } else if (is(word, "explain") && n != 4) {
        snprintf(error, CONTROL_ERROR_MAX, "explain needs CLIENT[/PREFIX] QNAME QTYPE");
    } else if (is(word, "explain")) {
        cmd->op = CONTROL_EXPLAIN;
    } else if (is(word, "dnssec")) {
        skip = 2;
        dnssec_command(n, words, cmd, error);
    } else if (is(word, "zone") &&
               (n != 3 || (!is(words[1], "status") && !is(words[1], "refresh") &&
                           !is(words[1], "retransfer")))) {
        snprintf(error, CONTROL_ERROR_MAX, "zone needs status|refresh|retransfer ZONE");
    } else if (is(word, "zone")) {
        cmd->op = is(words[1], "status")    ? CONTROL_ZONE_STATUS
                  : is(words[1], "refresh") ? CONTROL_ZONE_REFRESH
                                            : CONTROL_ZONE_RETRANSFER;
        skip = 2;
    } else {
        snprintf(error, CONTROL_ERROR_MAX,
                 "unknown command '%.64s'; try: status | states | stats | drain SELECTOR | "
                 "undrain SELECTOR | force up|down SELECTOR | explain CLIENT QNAME QTYPE | "
                 "reload | dnssec ds|roll|ds-seen ZONE | zone status|refresh|retransfer ZONE | "
                 "rrl",
                 word);
    }
    if (error[0])
        return -1;
    for (int i = skip; i < n; i++)
        cmd->args[cmd->arg_count++] = words[i];
    return 0;
}
