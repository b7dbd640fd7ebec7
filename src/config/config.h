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
#include <sys/types.h>

#include "common/dname.h"

#define CONFIG_ERR_MAX 512

struct config_listen {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char *text;      /* as written, e.g. "[::1]:5353" */
    bool ecs_ignore; /* RFC 7871 on this listener: false = honour (default), true = ignore */
};

/* An IP address or prefix: family 4 or 6, address in network order (IPv4 in the first 4
 * bytes). */
struct config_prefix {
    uint8_t family;
    uint8_t prefix_len;
    uint8_t addr[16];
};

/* One pool member: an address (A/AAAA services) or a target name (CNAME services). */
struct config_member {
    struct config_prefix address; /* prefix_len 32/128; family 0 for CNAME members */
    char *target;                 /* CNAME services: absolute target name, else NULL */
    uint32_t weight;              /* 1..1000000, default 1 */
    char *check;                  /* health check name (issue: health checks), or NULL */
    bool down;                    /* forced down in config */
    int line;
};

struct config_pool {
    char *name;
    struct config_member *members;
    size_t member_count;
    bool has_coords; /* for `order: nearest` */
    double latitude;
    double longitude;
    int line;
};

/* A list of pool indices (into config_service.pools), in fallback order. */
struct config_pool_list {
    uint32_t *pools;
    size_t count;
};

/* A geo rule: key is a continent code (AF AN AS EU NA OC SA), an ISO 3166-1 country code
 * ("DE") or an ISO 3166-2 subdivision ("US-CA"), uppercased. */
struct config_geo_rule {
    char *key;
    struct config_pool_list order;
    int line;
};

struct config_net_rule {
    struct config_prefix net; /* host bits zero */
    struct config_pool_list order;
    int line;         /* in the config, or in nets_file (see file) */
    const char *file; /* config->path for inline rules, service->nets_file for file rules */
};

enum config_select {
    CONFIG_SELECT_WEIGHTED = 0, /* one member, random by weight */
    CONFIG_SELECT_STICKY,       /* one member, weighted rendezvous hash of the client subnet */
    CONFIG_SELECT_ALL,          /* every healthy member */
    CONFIG_SELECT_FIRST_N,      /* the first N healthy members in declared order */
};

enum config_all_down {
    CONFIG_ALL_DOWN_ALL = 0, /* fail open: answer as if every member were up */
    CONFIG_ALL_DOWN_NODATA,
    CONFIG_ALL_DOWN_POOL, /* answer from all_down_pool regardless of health */
};

struct config_service {
    char *name; /* owner name as written (absolute) */
    int line;
    uint32_t ttl_s; /* default 30 */
    bool cname;     /* `type: cname`; default A/AAAA from member addresses */
    struct config_pool *pools;
    size_t pool_count;
    struct config_geo_rule *continents, *countries, *subdivisions;
    size_t continent_count, country_count, subdivision_count;
    struct config_pool_list default_order; /* default: every pool in declared order */
    struct config_net_rule *nets;          /* inline `nets` and then `nets_file` lines */
    size_t net_count;
    char *nets_file;    /* resolved `nets_file` path, or NULL; its rules' `file` points here */
    bool nearest;       /* `order: nearest`: pools ordered by distance to the client */
    uint32_t nearest_n; /* 0 = all pools */
    enum config_select select;
    uint32_t first_n; /* for first_n; default 2 */
    enum config_all_down all_down;
    uint32_t all_down_pool;   /* pool index for CONFIG_ALL_DOWN_POOL */
    uint8_t sticky_prefix_v4; /* default 24 */
    uint8_t sticky_prefix_v6; /* default 56 */
    bool startup_persisted;   /* `startup: persisted` (use the state file's last states);
                                 default `wait` (its answers wait for the first round of
                                 checks; everything else is answered at once) */
    bool startup_up;          /* `startup: up`: answered at once, members up (unless `down:
                                 true`) or as the state file has them, until probed */
};

enum config_check_type {
    CONFIG_CHECK_TCP = 0, /* connect */
    CONFIG_CHECK_HTTP,
    CONFIG_CHECK_HTTPS,
    CONFIG_CHECK_DNS,  /* query a name, expect an rcode and optionally an answer */
    CONFIG_CHECK_EXEC, /* run a command: exit 0 = up */
    CONFIG_CHECK_FILE, /* an operator or tool writes states into a file */
};

/* A health check, referenced by name from pool members (`check: NAME`). */
struct config_check {
    char *name;
    int line;
    enum config_check_type type;
    uint32_t interval_ms; /* default 5000 */
    uint32_t timeout_ms;  /* default 2000; must be below the interval */
    uint32_t rise;        /* successes in a row to go up; default 2 */
    uint32_t fall;        /* failures in a row to go down; default 3 */
    uint16_t port;        /* tcp (required), http 80, https 443, dns 53; exec: for {port} */
    /* http, https */
    char *method;            /* default "GET" */
    char *path;              /* default "/" */
    char *host;              /* Host header and TLS SNI; default: the member address */
    uint16_t *expect_status; /* default {200} */
    size_t expect_status_count;
    char *expect_body; /* substring the body must contain, or NULL */
    bool tls_verify;   /* https: verify the certificate; default true */
    /* dns */
    char *qname;          /* absolute name to ask */
    uint16_t qtype;       /* default A (1) */
    uint8_t expect_rcode; /* default NOERROR */
    /* text that one answer RR's rdata must equal (e.g. "192.0.2.1"), or NULL */
    char *expect_answer;
    /* exec: argv[0] is the program; "{address}" in any argument becomes the member's address
     * (or target name), "{port}" the check's `port` (required when {port} is used) */
    char **argv; /* NULL-terminated */
    /* file: each line "ADDRESS STATE" (STATE up|down), '#' comments; a member absent from the
     * file is down */
    char *file; /* resolved path */
};

/* DNSSEC signing of one zone (`dnssec:` on its entry: true, or a mapping). */
enum config_dnssec_keys {
    CONFIG_DNSSEC_CSK = 0, /* one combined signing key (RFC 7583 §2: "CSK") */
    CONFIG_DNSSEC_KSK_ZSK, /* a key-signing key for the DNSKEY RRset and a zone-signing key */
};

struct config_dnssec {
    bool enabled;
    uint8_t algorithm;           /* 13 ECDSAP256SHA256 (default, RFC 6605), 15 ED25519 (RFC 8080) */
    enum config_dnssec_keys keys;
    uint32_t validity_ms;        /* RRSIG expiration - now; default 14d */
    uint32_t refresh_ms;         /* re-sign when less than this is left; default 5d */
    uint16_t nsec3_iterations;   /* RFC 9276 §3.1: 0 (default) */
    uint8_t nsec3_salt_len;      /* RFC 9276 §3.1: no salt (default) */
    uint8_t nsec3_salt[255];
    char *key_directory;         /* resolved; default server.key_directory */
    /* Key rollover timing (RFC 7583 §2): Dprp of the zone, DprpP and TTLds of the parent. */
    uint32_t propagation_delay_ms;        /* default 1h */
    uint32_t parent_propagation_delay_ms; /* default 1h */
    uint32_t parent_ds_ttl_ms;            /* default 1d */
    int line;
};

/* Outgoing zone transfers of one zone (`transfer:` on its entry; RFC 5936 AXFR, RFC 1995
 * IXFR). Without it every transfer of the zone is REFUSED. With `allow` the client's address
 * must lie in one of the networks, with `keys` the request must be TSIG-signed by one of the
 * keys (RFC 8945), with both, both. */
struct config_transfer {
    bool enabled;                /* `transfer:` given */
    struct config_prefix *allow; /* networks, host bits zero; NULL = no address check */
    size_t allow_count;
    char **keys;                 /* TSIG key names as written (tsig_keys entries) */
    int *key_lines;              /* the line of each */
    size_t key_count;            /* 0 = no key check */
    int line;
};

struct config_tsig_key;

/* A secondary told of every serial change (`notify:` on a zone entry, RFC 1996): "ADDR:PORT",
 * or { address: "ADDR:PORT", key: NAME } to sign the NOTIFY with a TSIG key (RFC 8945). */
struct config_notify {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char *text; /* the address as written */
    int line;
    char *key; /* the key's name as written, or NULL: unsigned */
    int key_line;
    const struct config_tsig_key *tsig_key; /* that tsig_keys entry (checked at load) */
};

/* A primary of a secondary zone (`primaries:` on its entry; RFC 1996, RFC 5936): where SOA
 * queries, IXFR/AXFR go, and an address NOTIFY is accepted from (the port is not compared). */
struct config_primary {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char *text; /* as written, e.g. "127.0.0.1:5300" */
    char *key;  /* TSIG key name (a tsig_keys entry) signing every exchange, or NULL */
    int line;
};

struct config_zone {
    char *origin; /* presentation form as written, e.g. "example.com" */
    /* Resolved: relative paths are taken from the config file's directory. A secondary zone
     * (primaries) keeps its copy here, by default <state_file's or the config's
     * directory>/secondary/<origin>.zone (file_default true). */
    char *file;
    bool file_default;
    struct config_primary *primaries; /* NULL: a primary zone, loaded from `file` */
    size_t primary_count;
    int line;     /* line of the entry in the config file, for error messages */
    struct config_dnssec dnssec;
    struct config_transfer transfer;
    struct config_notify *notify;
    size_t notify_count;
    /* Catalog zones (RFC 9432, ARCHITECTURE.md §13). `catalog: true` on a secondary entry: the
     * zone is a catalog, and each zone it lists becomes a secondary of the same primaries
     * (and keys), with its `transfer:` and `notify:`. The server adds those member entries
     * after loading (config_zone_add_member); member_of then names their catalog. */
    bool catalog;
    /* `catalog: produce` (no file, no primaries): a catalog meridiand generates, listing
     * every configured zone that is not a catalog or a catalog's member (server/catalog.c). */
    bool catalog_produce;
    int catalog_line;
    const char *member_of; /* a member: its catalog's `origin` string (owned there); else NULL */
    /* Size bounds checked at every load and transfer (`max_records`, `max_size`; zone/'s
     * struct zone_limits): records, and wire octets (a size may end in K, M or G). */
    uint64_t max_records; /* default CONFIG_ZONE_MAX_RECORDS */
    uint64_t max_bytes;   /* default CONFIG_ZONE_MAX_BYTES */
    /* The IXFR history kept on disk (`journal:`, ARCHITECTURE.md §11): resolved after the
     * walk to the entry's own setting, else server.journal; only zones with `transfer:`
     * have a history to keep. */
    bool journal;
    bool journal_given; /* the entry said `journal:` */
};
#define CONFIG_ZONE_MAX_RECORDS ((uint64_t)16 << 20)
#define CONFIG_ZONE_MAX_BYTES ((uint64_t)2 << 30)

/* A TSIG key (RFC 8945): `tsig_keys:` name -> {algorithm, secret | secret_file}. */
enum config_tsig_algorithm {
    CONFIG_TSIG_HMAC_SHA256 = 0, /* RFC 8945 §6: mandatory to implement */
    CONFIG_TSIG_HMAC_SHA384,
    CONFIG_TSIG_HMAC_SHA512,
};

struct config_tsig_key {
    char *name;                       /* as written, e.g. "xfr-key" */
    uint8_t name_wire[DNAME_MAX_LEN]; /* the same, lowercased wire (RFC 8945 §4.2: an owner) */
    enum config_tsig_algorithm algorithm;
    uint8_t *secret;   /* decoded base64; wiped by config_free */
    size_t secret_len; /* 1..512 */
    char *secret_file; /* resolved path it was read from, or NULL for an inline `secret` */
    int line;          /* of the key's name */
};

/* server.dnstap: query logging in the dnstap format (ARCHITECTURE.md §15), read at start only.
 * Off when neither socket nor file is set. */
struct config_dnstap {
    char *socket;   /* a Frame Streams UNIX socket (e.g. fstrm_capture -u), or NULL */
    char *file;     /* a Frame Streams file, or NULL; exactly one of the two when on */
    char *identity; /* Dnstap.identity; NULL = server.identity (none when hidden) */
    char *version;  /* Dnstap.version; NULL = server.version (none when hidden) */
    bool queries;   /* log AUTH_QUERY messages; default true */
    bool responses; /* log AUTH_RESPONSE messages; default true */
    uint32_t sample; /* log one query in `sample` per worker; 1 (default) = every query */
    int line;        /* of the section, for messages */
};

/* server.xdp: UDP queries arriving on one interface are read from AF_XDP sockets
 * (net/xdp.c, ARCHITECTURE.md §18), read at start only. Off when interface is NULL. */
enum config_xdp_mode {
    CONFIG_XDP_AUTO = 0, /* the driver's native mode where it has one, generic otherwise */
    CONFIG_XDP_NATIVE,
    CONFIG_XDP_GENERIC,
};
struct config_xdp {
    char *interface; /* e.g. "eth0"; NULL = off */
    enum config_xdp_mode mode;
    bool zero_copy;  /* try zero-copy sockets (default true; copy mode where unsupported) */
    int line;        /* of the section, for messages */
};

/* Response rate limiting (`server.rrl`, rrl/, ARCHITECTURE.md §16): UDP responses per
 * second per (client prefix, response class, name) bucket. */
struct config_rrl {
    bool enabled;                 /* default true */
    uint32_t rate;                /* responses per second per bucket; default 20 */
    uint32_t slip;                /* every Nth limited response a TC=1 stub; 0 = drop all; 2 */
    uint8_t ipv4_prefix;          /* client aggregation, default 24 */
    uint8_t ipv6_prefix;          /* default 56 */
    struct config_prefix *exempt; /* never limited; NULL = none */
    bool exempt_loopback;         /* 127.0.0.0/8 and ::1 never limited; default false */
    size_t exempt_count;
    uint32_t table_size;          /* buckets (rounded up to a power of two); default 262144 */
    uint32_t large_size;          /* responses above this many octets are class `large` */
    bool log_only;                /* count and log what would be limited, send everything */
};

/* DNS cookies (RFC 7873, RFC 9018): `server.cookie_secret_file`, a file (mode 0600) of one
 * or two lines of 32 hex digits: the current secret, then the previous one during a rollover. */
struct config_cookies {
    char *secret_file; /* resolved path, or NULL: a random secret made at start */
    uint8_t secret[16];
    uint8_t previous[16];
    bool has_previous;
    int line;
};

struct config {
    char *path; /* the config file as given */

    /* server: */
    struct config_listen *listen;
    size_t listen_count;
    unsigned workers;   /* "auto" resolves to the number of online CPUs */
    char *identity;     /* id.server / hostname.bind; default: gethostname() */
    char *version;      /* version.bind; default "meridian <version>" */
    bool hide_identity; /* CHAOS id.server/hostname.bind answer REFUSED */
    bool hide_version;  /* CHAOS version.bind answers REFUSED */
    uint8_t *nsid;      /* RFC 5001 payload; NULL = NSID off */
    size_t nsid_len;
    uint16_t udp_max_size;        /* our EDNS UDP payload limit, 512..65535, default 1232 */
    uint32_t tcp_idle_timeout_ms; /* RFC 7766 §6.2.3; default 10000 */
    uint32_t tcp_io_timeout_ms;   /* a whole TCP message from its first byte; default 2000 */
    uint32_t tcp_max_connections; /* per worker; default 512 */
    uint32_t tcp_max_per_client;  /* per worker and client address (/64 for IPv6), 0 = no
                                     limit; default 64 */
    uint32_t tcp_max_pipelined;   /* queries read ahead per connection; default 16 */
    struct config_rrl rrl;
    struct config_cookies cookies;
    int log_level;                /* enum log_level; default info */
    int log_format;               /* enum log_format: text (default) or json */
    /* server.http_listen: /metrics, /status and /status.json (server/http.h); NULL = off.
     * Bound at start, before the privilege drop; changes only on restart. */
    char *http_listen_text;
    struct sockaddr_storage http_listen;
    socklen_t http_listen_len;
    /* Privilege drop (runs outside systemd): after binding, switch to this user and group.
     * Resolved at load; NULL = keep the user meridiand was started as. */
    char *user;
    char *group; /* NULL = the user's primary group */
    uid_t uid;   /* of user */
    gid_t gid;   /* of group, else the user's primary group */
    int group_line;

    struct config_zone *zones;
    size_t zone_count;

    /* tsig_keys: */
    struct config_tsig_key *tsig_keys;
    size_t tsig_key_count;

    /* geoip: */
    char *geoip_database; /* resolved path, or NULL = no GeoIP */
    int geoip_line;
    /* Lookup paths into the MMDB record, each a NULL-terminated list of keys (a decimal key
     * is an array index). Defaults: GeoIP2/GeoLite2 City and Country layouts. */
    char **geoip_country_path;     /* country iso_code */
    char **geoip_continent_path;   /* continent code */
    char **geoip_subdivision_path; /* subdivisions 0 iso_code */
    char **geoip_latitude_path;    /* location latitude */
    char **geoip_longitude_path;   /* location longitude */

    struct config_service *services;
    size_t service_count;

    /* health: */
    struct config_check *checks;
    size_t check_count;
    char *state_file;             /* health states saved here and read at start; NULL = none */
    char *key_directory;          /* server.key_directory: DNSSEC keys; NULL = the default */
    bool journal;                 /* server.journal: IXFR history on disk; default true */
    char *journal_directory;      /* resolved; default `journal` beside the state file, else
                                     beside the config */
    char *control_socket;         /* meridianctl UNIX socket path; NULL = none */
    uint32_t startup_wait_ms;     /* longest wait for the first round of checks; default 10000 */
    uint32_t exec_max_concurrent; /* exec checks running at once; default 8 */
    struct config_dnstap dnstap;  /* server.dnstap */
    struct config_xdp xdp;        /* server.xdp */
};

/* Reads and validates `path`. On success returns 0 and a new config in *out; on failure
 * returns -1 and writes "file:line: message" into err. */
int config_load(const char *path, struct config **out, char err[CONFIG_ERR_MAX])
    __attribute__((warn_unused_result));
void config_free(struct config *cfg);

/* Appends a member zone of the catalog cfg->zones[catalog] (RFC 9432 §4.1: served like the
 * catalog, from its primaries): origin `origin` (presentation form), its copy kept at `file`,
 * the catalog's primaries, `transfer:` and `notify:` copied. cfg->zones may move. For the
 * snapshot loader, before the config is shared with any other thread. */
void config_zone_add_member(struct config *cfg, size_t catalog, const char *origin,
                            const char *file);

/* The TSIG key named `name` (presentation form, compared as a domain name: RFC 4343 case,
 * "k" equals "k."), or NULL. For sections that refer to keys by name. */
const struct config_tsig_key *config_tsig_key_find(const struct config *cfg, const char *name);

/* "hmac-sha256", "hmac-sha384" or "hmac-sha512". */
const char *config_tsig_algorithm_name(enum config_tsig_algorithm algorithm);

#endif
