/* SPDX-License-Identifier: MIT */
/* Escaping untrusted text (zone, service and member names, error messages) for HTML and JSON
 * output. Pure; any thread. */
#ifndef MERIDIAN_COMMON_ESCAPE_H
#define MERIDIAN_COMMON_ESCAPE_H

#include <stdio.h>

/* Text into HTML: & < > " ' as character references. */
void html_escape(FILE *out, const char *text);

/* A JSON string with its quotes: " \ and control characters escaped (RFC 8259 §7); bytes
 * of invalid UTF-8 become U+FFFD, so the output is always valid JSON. */
void json_string(FILE *out, const char *text);

#endif
