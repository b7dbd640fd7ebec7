// SPDX-License-Identifier: MIT
/* The tsig module on a pipe, for interop.py to play against dnspython (not installed):
 *   tsig_tool ALG NAME SECRET      one key (hmac-sha256|384|512, a domain name, base64)
 * then one command per line on stdin, one answer line on stdout (flushed), messages in hex:
 *   verify NOW MSG       tsig_find + tsig_request_verify: "error N" (the TSIG error, 0 = ok)
 *                        or "formerr"; the request is kept for the next commands
 *   respond NOW MSG      tsig_response_sign of MSG (a response without TSIG): the message
 *   stream               tsig_stream_respond from the kept request: "ok"
 *   sign NOW MSG         tsig_stream_sign: the message
 *   request NOW MSG      tsig_request_sign: the signed request (starts a client stream)
 *   check NOW MSG        tsig_stream_verify: "<status number> <text>"
 *   end                  tsig_stream_end: "<status number> <text>"
 * Exit status 0 at end of input, 1 on a usage error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "common/dname.h"
#include "tsig/tsig.h"

#define MSG_MAX 65535

static size_t
from_hex(const char *hex, uint8_t *out)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n && i < MSG_MAX; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return 0;
        out[i] = (uint8_t)v;
    }
    return n <= MSG_MAX ? n : 0;
}

static void
print_hex(const uint8_t *msg, size_t len)
{
    if (len == 0)
        printf("none");
    for (size_t i = 0; i < len; i++)
        printf("%02x", msg[i]);
    printf("\n");
}

int
main(int argc, char **argv)
{
    static const char *const algs[] = {"hmac-sha256", "hmac-sha384", "hmac-sha512"};
    uint8_t name[DNAME_MAX_LEN], secret[512];
    int alg = -1, secret_len = argc == 4 ? base64_decode(argv[3], secret, sizeof(secret)) : -1;
    for (int i = 0; i < 3 && argc == 4; i++)
        if (strcmp(argv[1], algs[i]) == 0)
            alg = i;
    if (alg < 0 || secret_len <= 0 || dname_from_text(argv[2], name) < 0) {
        fprintf(stderr, "usage: tsig_tool hmac-sha256|hmac-sha384|hmac-sha512 NAME BASE64\n");
        return 1;
    }
    struct tsig_keyring *ring = tsig_keyring_new();
    if (tsig_keyring_add(ring, name, (enum tsig_algorithm)alg, secret, (size_t)secret_len) < 0)
        return 1;
    const struct tsig_key *key = tsig_keyring_find(ring, name);

    static char line[2 * MSG_MAX + 64];
    static uint8_t msg[MSG_MAX];
    struct tsig_request req = {0};
    struct tsig_stream server = {0}, client = {0};
    while (fgets(line, sizeof(line), stdin)) {
        char cmd[16], hex[2 * MSG_MAX + 1] = "";
        unsigned long long now = 0;
        line[strcspn(line, "\n")] = '\0';
        if (sscanf(line, "%15s %llu %131070s", cmd, &now, hex) < 1)
            continue;
        size_t len = from_hex(hex, msg), off;
        if (strcmp(cmd, "verify") == 0) {
            if (tsig_find(msg, len, &off) != 1 ||
                tsig_request_verify(ring, msg, len, off, now, &req) < 0)
                printf("formerr\n");
            else
                printf("error %u\n", req.error);
        } else if (strcmp(cmd, "respond") == 0) {
            print_hex(msg, tsig_response_sign(&req, msg, len, sizeof(msg), now));
        } else if (strcmp(cmd, "stream") == 0) {
            tsig_stream_respond(&server, &req);
            printf("ok\n");
        } else if (strcmp(cmd, "sign") == 0) {
            print_hex(msg, tsig_stream_sign(&server, msg, len, sizeof(msg), now));
        } else if (strcmp(cmd, "request") == 0) {
            print_hex(msg, tsig_request_sign(&client, key, msg, len, sizeof(msg), now));
        } else if (strcmp(cmd, "check") == 0) {
            enum tsig_status st = tsig_stream_verify(&client, msg, len, now, NULL);
            printf("%d %s\n", (int)st, tsig_status_text(st));
        } else if (strcmp(cmd, "end") == 0) {
            enum tsig_status st = tsig_stream_end(&client);
            printf("%d %s\n", (int)st, tsig_status_text(st));
        } else {
            printf("unknown command\n");
        }
        fflush(stdout);
    }
    tsig_keyring_free(ring);
    return 0;
}
