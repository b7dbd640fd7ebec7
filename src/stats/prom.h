/* SPDX-License-Identifier: MIT */
/* Writers of the Prometheus text exposition format (version 0.0.4): HELP and TYPE lines,
 * samples with escaped label values, histograms as cumulative _bucket series with _sum and
 * _count.
 * Pure: they write to a FILE (an open_memstream buffer), any thread. */
#ifndef MERIDIAN_STATS_PROM_H
#define MERIDIAN_STATS_PROM_H

#include <stdint.h>
#include <stdio.h>

/* Labels of one sample: pairs (name, value), NULL-terminated; NULL = no labels. Names are
 * ours ([a-z_]); values may be anything and are escaped. */
typedef const char *const prom_labels[];

/* "# HELP name help" (help escaped: backslash, newline) and "# TYPE name type". */
void prom_family(FILE *out, const char *name, const char *type, const char *help);

/* "name{a="x",b="y"} value". */
void prom_sample(FILE *out, const char *name, const char *const *labels, uint64_t value);
void prom_sample_double(FILE *out, const char *name, const char *const *labels, double value);

/* A histogram's series: name_bucket{labels,le="bound"} with the counts summed up to each
 * bound, le="+Inf" with the total, name_sum and name_count. buckets[i] counts the
 * observations in (bounds[i-1], bounds[i]]; buckets[n] those above bounds[n-1]. */
void prom_histogram(FILE *out, const char *name, const char *const *labels, const double *bounds,
                    const uint64_t *buckets, unsigned n, double sum);

/* A label value: backslash, double quote and newline escaped (exposition format). */
void prom_escape_label(FILE *out, const char *value);

#endif
