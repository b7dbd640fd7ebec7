// SPDX-License-Identifier: MIT
/* libFuzzer target: arbitrary bytes as meridiand's YAML config. The loader must either load
 * it or fail with a "file:line: message" (or "file: message") error; a loaded config is then
 * compiled into policies against geoip/sample.mmdb, which must succeed or fail the same way.
 * Never a crash, a leak or an unterminated error. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "policy/policy_build.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];
static struct geo_db *geo;

/* An error must be terminated and located: it starts with the config's path, or with some
 * other file's "name:line: " (a nets_file). */
static void
check_error(const char *err)
{
    if (!memchr(err, '\0', CONFIG_ERR_MAX) || !err[0])
        abort();
    size_t plen = strlen(path);
    if (strncmp(err, path, plen) == 0 && err[plen] == ':')
        return;
    const char *colon = strchr(err, ':');
    if (!colon || colon == err)
        abort();
    const char *p = colon + 1;
    while (*p >= '0' && *p <= '9')
        p++;
    if (p == colon + 1 || p[0] != ':' || p[1] != ' ')
        abort();
}

static void
init(void)
{
    char mmdb[4096], err[GEO_ERR_MAX];
    log_set_level(LOG_LEVEL_ERROR);
    snprintf(path, sizeof(path), "/tmp/meridian-fuzz-config-%d.yaml", (int)getpid());
    snprintf(mmdb, sizeof(mmdb), "%s/geoip/sample.mmdb", MERIDIAN_SOURCE_DIR);
    if (geo_db_load(mmdb, &geo_paths_geoip2, &geo, err) < 0) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!geo)
        init();
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fwrite(data, 1, size, f);
    fclose(f);
    struct config *cfg = NULL;
    char err[CONFIG_ERR_MAX];
    memset(err, 0xA5, sizeof(err));
    if (config_load(path, &cfg, err) < 0) {
        check_error(err);
        return 0;
    }
    struct policy_set *set = NULL;
    memset(err, 0xA5, sizeof(err));
    if (policy_set_build(cfg, geo, &set, err) < 0)
        check_error(err);
    policy_set_free(set);
    config_free(cfg);
    return 0;
}
