/* SPDX-License-Identifier: MIT */
/* The YAML configuration (libyaml) read into an immutable `struct config`. Every error is
 * reported as "file:line: message". Loaded on the main or loader thread; after loading the
 * struct is read-only and may be shared by every thread until config_free(). */
#ifndef MERIDIAN_CONFIG_CONFIG_H
#define MERIDIAN_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CONFIG_ERR_MAX 512

struct config_listen {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char *text; /* as written, e.g. "[::1]:5353" */
};

struct config_zone {
    char *origin; /* presentation form as written, e.g. "example.com" */
    char *file;   /* resolved: relative paths are taken from the config file's directory */
    int line;     /* line of the entry in the config file, for error messages */
};

struct config {
    char *path; /* the config file as given */

    /* server: */
    struct config_listen *listen;
    size_t listen_count;
    unsigned workers;           /* "auto" resolves to the number of online CPUs */
    char *identity;             /* id.server / hostname.bind; default: gethostname() */
    char *version;              /* version.bind; default "meridian <version>" */
    bool hide_identity;         /* CHAOS id.server/hostname.bind answer REFUSED */
    bool hide_version;          /* CHAOS version.bind answers REFUSED */
    uint8_t *nsid;              /* RFC 5001 payload; NULL = NSID off */
    size_t nsid_len;
    uint16_t udp_max_size;      /* our EDNS UDP payload limit, 512..65535, default 1232 */
    uint32_t tcp_idle_timeout_ms; /* RFC 7766 §6.2.3; default 10000 */
    uint32_t tcp_max_connections; /* per worker; default 512 */
    uint32_t tcp_max_pipelined;   /* queries read ahead per connection; default 16 */
    int log_level;              /* enum log_level; default info */

    struct config_zone *zones;
    size_t zone_count;
};

/* Reads and validates `path`. On success returns 0 and a new config in *out; on failure
 * returns -1 and writes "file:line: message" into err. */
int config_load(const char *path, struct config **out, char err[CONFIG_ERR_MAX])
    __attribute__((warn_unused_result));
void config_free(struct config *cfg);

#endif
