// SPDX-License-Identifier: MIT
/* Prometheus text exposition format, HTML and JSON escaping (see prom.h). The format's rules
 * followed here: a label value escapes \, " and newline; HELP text escapes \ and newline;
 * histogram buckets are cumulative and end with le="+Inf", equal to _count. */
#include "stats/prom.h"

#include <stdbool.h>
#include <string.h>

void
prom_escape_label(FILE *out, const char *value)
{
    for (const char *p = value; *p; p++) {
        if (*p == '\\')
            fputs("\\\\", out);
        else if (*p == '"')
            fputs("\\\"", out);
        else if (*p == '\n')
            fputs("\\n", out);
        else
            fputc(*p, out);
    }
}

void
prom_family(FILE *out, const char *name, const char *type, const char *help)
{
    fprintf(out, "# HELP %s ", name);
    for (const char *p = help; *p; p++) {
        if (*p == '\\')
            fputs("\\\\", out);
        else if (*p == '\n')
            fputs("\\n", out);
        else
            fputc(*p, out);
    }
    fprintf(out, "\n# TYPE %s %s\n", name, type);
}

/* name{labels[,extra_name="extra_value"]} without the value. */
static void
series(FILE *out, const char *name, const char *suffix, const char *const *labels,
       const char *extra_name, const char *extra_value)
{
    fprintf(out, "%s%s", name, suffix);
    bool any = (labels && labels[0]) || extra_name;
    if (!any)
        return;
    fputc('{', out);
    bool first = true;
    for (unsigned i = 0; labels && labels[i] && labels[i + 1]; i += 2) {
        fprintf(out, "%s%s=\"", first ? "" : ",", labels[i]);
        prom_escape_label(out, labels[i + 1]);
        fputc('"', out);
        first = false;
    }
    if (extra_name) {
        fprintf(out, "%s%s=\"", first ? "" : ",", extra_name);
        prom_escape_label(out, extra_value);
        fputc('"', out);
    }
    fputc('}', out);
}

void
prom_sample(FILE *out, const char *name, const char *const *labels, uint64_t value)
{
    series(out, name, "", labels, NULL, NULL);
    fprintf(out, " %llu\n", (unsigned long long)value);
}

void
prom_sample_double(FILE *out, const char *name, const char *const *labels, double value)
{
    series(out, name, "", labels, NULL, NULL);
    fprintf(out, " %.17g\n", value);
}

void
prom_histogram(FILE *out, const char *name, const char *const *labels, const double *bounds,
               const uint64_t *buckets, unsigned n, double sum)
{
    uint64_t cumulative = 0;
    char le[32];
    for (unsigned i = 0; i < n; i++) {
        cumulative += buckets[i];
        snprintf(le, sizeof(le), "%g", bounds[i]);
        series(out, name, "_bucket", labels, "le", le);
        fprintf(out, " %llu\n", (unsigned long long)cumulative);
    }
    cumulative += buckets[n];
    series(out, name, "_bucket", labels, "le", "+Inf");
    fprintf(out, " %llu\n", (unsigned long long)cumulative);
    series(out, name, "_sum", labels, NULL, NULL);
    fprintf(out, " %.17g\n", sum);
    series(out, name, "_count", labels, NULL, NULL);
    fprintf(out, " %llu\n", (unsigned long long)cumulative);
}
