// SPDX-License-Identifier: MIT
/* Include-file fallback (see fallback.h): rendering is pure and unit-tested; writing is the
 * usual temp + fsync + rename in the target directory. Event loop thread. */
#include "anycast/fallback.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/alloc.h"

char *
anycast_fallback_render(const struct anycast_config *cfg, enum anycast_intent intent)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    size_t proto = 0;

    fprintf(f,
            "# Written by meridian-anycast (fallback: no tun gate). Do not edit.\n"
            "# intent: %s\n",
            anycast_intent_name(intent));
    /* One protocol per family present, in the order IPv4, IPv6 (config.h). */
    for (int pass = 0; pass < 2; pass++) {
        int family = pass == 0 ? AF_INET : AF_INET6;
        bool any = false;
        for (size_t i = 0; i < cfg->prefix_count; i++)
            any |= cfg->prefixes[i].family == family;
        if (!any || proto >= cfg->bird_protocol_count)
            continue;
        fprintf(f, "protocol static %s {\n    %s;\n", cfg->bird_protocols[proto++],
                family == AF_INET ? "ipv4" : "ipv6");
        for (size_t i = 0; i < cfg->prefix_count && intent != ANYCAST_INTENT_WITHDRAW; i++) {
            if (cfg->prefixes[i].family != family)
                continue;
            if (intent == ANYCAST_INTENT_DRAIN)
                fprintf(f, "    route %s blackhole { bgp_community.add((65535, 0)); };\n",
                        cfg->prefixes[i].text);
            else
                fprintf(f, "    route %s blackhole;\n", cfg->prefixes[i].text);
        }
        fprintf(f, "}\n");
    }
    fclose(f);
    return text;
}

int
anycast_fallback_write(const char *path, const char *text, char *err, size_t err_size)
{
    size_t plen = strlen(path), len = strlen(text), off = 0;
    char *tmp = xmalloc(plen + 16);
    int fd, rc = -1;

    snprintf(tmp, plen + 16, "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, err_size, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, err_size, "%s: write: %s", tmp, strerror(errno));
            close(fd);
            goto out;
        }
        off += (size_t)w;
    }
    if (fsync(fd) < 0) {
        snprintf(err, err_size, "%s: fsync: %s", tmp, strerror(errno));
        close(fd);
        goto out;
    }
    if (close(fd) < 0) {
        snprintf(err, err_size, "%s: close: %s", tmp, strerror(errno));
        goto out;
    }
    if (rename(tmp, path) < 0) {
        snprintf(err, err_size, "rename %s: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

bool
anycast_fallback_configured(int code)
{
    return code == 3 || code == 4 || code == 5;
}
