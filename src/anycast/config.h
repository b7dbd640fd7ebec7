/* SPDX-License-Identifier: MIT */
/* meridian-anycast's configuration: the `anycast:` mapping of the same YAML file meridiand
 * reads (meridiand skips that key; this loader skips every other top-level key). Errors are
 * "file:line: message". Loaded once at start on the main thread; the result is immutable.
 *
 *   anycast:
 *     prefixes: ["192.0.2.53/32", "2001:db8:53::53/128"]   # required; announced by BIRD,
 *                                                          # used for verification/fallback
 *     service_addresses: ["192.0.2.53", "[2001:db8:53::53]:53"]  # required; port default 53
 *     canary: {name: canary.example.com, type: A, expect: 192.0.2.1}  # required; type A,
 *                                        # AAAA, TXT, CNAME, NS or PTR (default A)
 *     interval: 1s            # probe round period                     (10ms..1h)
 *     fast_interval: 200ms    # while RISING or FALLING                (10ms..1h)
 *     timeout: 500ms          # per probe; slower than timeout/2 is a soft failure (10ms..1m)
 *     tcp_every: 5            # every Nth round also over TCP; 0 = never (0..1000)
 *     rise: 3                 # passes in a row to announce            (1..100)
 *     fall: 3                 # hard failures in a row to withdraw     (1..100)
 *     hold_down: 5s           # minimum time withdrawn after a withdrawal (0..1h)
 *     hold_down_max: 5m       # cap of the doubling                    (>= hold_down, ..24h)
 *     flap_reset: 10m         # announced this long resets the doubling (1s..24h)
 *     drain_time: 5s          # GRACEFUL_SHUTDOWN held before withdrawing on drain (0..1h)
 *     gate_device: mgate0     # tun device: up = announce
 *     drain_device: mdrain0   # tun device: up = announce with GRACEFUL_SHUTDOWN
 *     bird_socket: /run/bird/bird.ctl   # "" = no BIRD verification
 *     bird_protocols: [anycast4, anycast6]        # static protocols routed via gate_device
 *     bird_drain_protocols: [anycast4d, anycast6d] # optional: those via drain_device
 *     bird_peers: [up4, up6]  # optional: BGP protocols whose export is checked
 *     bird_interval: 2s       # verification period                    (100ms..1h)
 *     control_socket: /run/meridian-anycast/anycast.sock
 *     meridiand_control: /run/meridian/control.sock  # optional ("" = none): soft checks
 *     max_data_age: 0         # 0 = off; older data (meridiand "loaded:") is a soft failure
 *     fallback_include: ""    # if set and no tun device can be created: BIRD include file
 *                             # written with the intent, then `configure` over bird_socket
 *     log_level: info         # error, warning, info, debug
 *
 * Relative paths are taken relative to the config file's directory. In fallback mode
 * bird_protocols names one static protocol per address family present in `prefixes`, IPv4
 * first (e.g. [anycast4, anycast6]); the sidecar writes those protocols into the file. */
#ifndef MERIDIAN_ANYCAST_CONFIG_H
#define MERIDIAN_ANYCAST_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ANYCAST_CONFIG_ERR_MAX 512
#define ANYCAST_DEFAULT_CONFIG "/etc/meridian/meridian.yaml"

struct anycast_prefix {
    char *text; /* as written, normalised by inet_ntop: "192.0.2.53/32" */
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    unsigned len;
};

struct anycast_service {
    char *text; /* "192.0.2.53:53" */
    struct sockaddr_storage addr;
    socklen_t addr_len;
};

struct anycast_config {
    char *path;
    struct anycast_prefix *prefixes;
    size_t prefix_count;
    struct anycast_service *services;
    size_t service_count;
    char *canary_name;
    char *canary_type;
    char *canary_expect;
    uint32_t interval_ms;
    uint32_t fast_interval_ms;
    uint32_t timeout_ms;
    uint32_t tcp_every;
    uint32_t rise;
    uint32_t fall;
    uint32_t hold_down_ms;
    uint32_t hold_down_max_ms;
    uint32_t flap_reset_ms;
    uint32_t drain_time_ms;
    char *gate_device;
    char *drain_device;
    char *bird_socket; /* NULL = no verification */
    char **bird_protocols;
    size_t bird_protocol_count;
    char **bird_drain_protocols;
    size_t bird_drain_protocol_count;
    char **bird_peers;
    size_t bird_peer_count;
    uint32_t bird_interval_ms;
    char *control_socket;
    char *meridiand_control;  /* NULL = none */
    uint32_t max_data_age_ms; /* 0 = off */
    char *fallback_include;   /* NULL = no fallback */
    int log_level;
};

/* Loads `path`. 0, or -1 with "file:line: message" in err. */
int anycast_config_load(const char *path, struct anycast_config **out,
                        char err[ANYCAST_CONFIG_ERR_MAX]) __attribute__((warn_unused_result));
void anycast_config_free(struct anycast_config *cfg);

#endif
