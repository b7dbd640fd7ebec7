// SPDX-License-Identifier: MIT
/* libFuzzer target: arbitrary bytes as a zone file for example.com. The loader must either
 * compile the zone or return a "file:line: message" error; never crash or leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zone/zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0]) {
        snprintf(path, sizeof(path), "/tmp/meridian-fuzz-zone-%d", (int)getpid());
    }
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fwrite(data, 1, size, f);
    fclose(f);
    struct zone *zone = NULL;
    char err[ZONE_ERR_MAX];
    if (zone_load("example.com", path, &zone, err) == 0) {
        zone_free(zone);
    } else if (strncmp(err, path, strlen(path)) != 0) {
        abort(); /* every error names the file */
    }
    return 0;
}
