/* SPDX-License-Identifier: MIT */
/* BIRD 2 control-socket replies, pure (BIRD's doc/reply_codes):
 * each line starts with a 4-digit code and '-' (more lines follow) or ' ' (last line of the
 * reply); a line starting with a space continues the previous code. 0xxx = done, 1xxx = table
 * row, 2xxx = heading, 8xxx = run-time error, 9xxx = parse error. On connect BIRD sends
 * "0001 BIRD x.y.z ready.". BIRD prints '+' lines for asynchronous messages (spooled log
 * output); they are not part of any reply and are skipped.
 *
 * On top of the reader: the rows of `show protocols` and `show route for PREFIX [export P]`,
 * and the verification verdict (what BIRD shows against what the gates intend), so the whole
 * judgement is unit-tested with recorded replies. Event loop thread. */
#ifndef MERIDIAN_ANYCAST_BIRD_H
#define MERIDIAN_ANYCAST_BIRD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ANYCAST_BIRD_NAME_MAX 64

struct anycast_bird_line {
    uint16_t code; /* the code this line belongs to (continuations inherit it) */
    char *text;    /* after "NNNN-" / "NNNN " / " " */
};

struct anycast_bird_reply {
    int code; /* code of the final line; -1 until complete */
    struct anycast_bird_line *lines;
    size_t count;
    size_t cap;
    uint16_t last_code;
};

enum { ANYCAST_BIRD_MORE = 0, ANYCAST_BIRD_DONE = 1 };

void anycast_bird_reply_init(struct anycast_bird_reply *r);
void anycast_bird_reply_fini(struct anycast_bird_reply *r);

/* Adds one line (without "\n"; a trailing "\r" is ignored). Returns ANYCAST_BIRD_DONE when
 * this line ends the reply, ANYCAST_BIRD_MORE if more are needed, -1 for a line that fits no
 * rule (the connection is then out of step and must be dropped). */
int anycast_bird_reply_feed(struct anycast_bird_reply *r, const char *line)
    __attribute__((warn_unused_result));

/* The final line's text ("Network not found"), or "" while incomplete. */
const char *anycast_bird_reply_message(const struct anycast_bird_reply *r);

/* True for 8xxx/9xxx. */
bool anycast_bird_reply_error(const struct anycast_bird_reply *r);

/* One row of `show protocols`. */
struct anycast_bird_protocol {
    char name[ANYCAST_BIRD_NAME_MAX + 1];
    char proto[16]; /* "BGP", "Static" */
    char state[16]; /* "up", "start", "down", ... */
    char info[48];  /* "Established", "Active", ... ("" if none) */
};

/* Parses a complete `show protocols` reply. Returns the number of rows stored (at most max),
 * or -1 if the reply is an error. */
int anycast_bird_parse_protocols(const struct anycast_bird_reply *r,
                                 struct anycast_bird_protocol *out, size_t max);

/* One route of `show route for PREFIX [...]`. */
struct anycast_bird_route {
    char proto[ANYCAST_BIRD_NAME_MAX + 1]; /* originating protocol, from "[name ...]" */
    bool primary;                          /* marked '*' (the best route) */
};

enum anycast_bird_routes {
    ANYCAST_BIRD_ROUTES,   /* 0..n routes (8001 "Network not found" gives 0) */
    ANYCAST_BIRD_NO_TABLE, /* 9001 "No valid tables": export to a peer that is down or of
                              another address family; nothing can be exported there */
    ANYCAST_BIRD_FAILED,   /* any other error */
};

/* Parses a complete `show route` reply; *count gets the routes found (at most max stored). */
enum anycast_bird_routes anycast_bird_parse_routes(const struct anycast_bird_reply *r,
                                                   struct anycast_bird_route *out, size_t max,
                                                   size_t *count);

/* What the gates intend. */
enum anycast_intent { ANYCAST_INTENT_WITHDRAW, ANYCAST_INTENT_ANNOUNCE, ANYCAST_INTENT_DRAIN };

const char *anycast_intent_name(enum anycast_intent intent);

/* The names the check knows about (borrowed from the config). */
struct anycast_bird_names {
    char *const *normal; /* static protocols via the normal gate */
    size_t normal_count;
    char *const *drain; /* static protocols via the drain gate */
    size_t drain_count;
};

/* Checks one prefix's routes (from `show route for PREFIX`) against the intent; 0 if they
 * agree, else -1 with a message (e.g. "announce: no route from anycast4"). */
int anycast_bird_check_routes(enum anycast_intent intent, const struct anycast_bird_names *names,
                              const struct anycast_bird_route *routes, size_t count, char *msg,
                              size_t msg_size);

/* Checks what one established peer exports for a prefix (`show route for PREFIX export P`)
 * against the intent; 0 or -1 with a message. */
int anycast_bird_check_export(enum anycast_intent intent, const struct anycast_bird_names *names,
                              const char *peer, const struct anycast_bird_route *routes,
                              size_t count, char *msg, size_t msg_size);

#endif
