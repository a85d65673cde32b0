/* chart.h: inline-SVG chart geometry (lines, sparklines, scatter, parallel coordinates) for the HTML pages; templates/chart*.html draw it. */
#ifndef VERDICT_CHART_H
#define VERDICT_CHART_H

#include <jansson.h>
#include <stddef.h>

#include "util.h"

/* The line chart's canvas, SVG user units; one bucket of history per plot pixel. */
#define CHART_W 800
#define CHART_H 320
#define CHART_PLOT_W (CHART_W - 76)
#define CHART_SERIES_MAX 10     /* overlaid series, each its own colour class s0..s9 */

/* What an x value is, for tick labels. */
enum chart_x { CHART_X_NUMBER, CHART_X_EPOCH_MS, CHART_X_DURATION_MS };

/*
 * One series: the line through (x[i], y[i]); when ylo/yhi are given, a band
 * from ylo to yhi (the min and max of each aggregated bucket) is drawn
 * under it. Non-finite values (and values <= 0 on a log axis) are skipped.
 */
struct chart_series {
	const char *label;
	const char *href;       /* where the legend links, may be NULL */
	size_t n;
	const double *x, *y, *ylo, *yhi;
};

/*
 * Geometry of a line chart for templates/chart-line.html: {width, height,
 * plot {x, y, w, h, right, bottom}, series [{cls, label, href, line, band}],
 * xticks/yticks [{x|y, label}], points (vertices drawn)}. Paths use only
 * "M", "L", "Z", digits, '.', ',' and '-', so the attribute escaper leaves
 * them as they are. NULL when out of memory.
 */
json_t *chart_lines(struct arena *a, const struct chart_series *s, size_t ns,
    enum chart_x xkind, int logy);

/* A 120×28 sparkline path through (x[i], y[i]): {d, w, h}; NULL when fewer than 2 points. */
json_t *chart_spark(struct arena *a, const double *x, const double *y, size_t n);

/*
 * Debiased exponential moving average in place (TensorBoard's and MLflow's
 * smoothing): weight in [0, 1), 0 leaves y as it is.
 */
void chart_ema(double *y, size_t n, double weight);

/*
 * An axis over values that are all numbers (numeric) or not (categories in
 * first-seen order). vals[i] may be NULL (no value): such points are left
 * out. Used by scatter and parallel coordinates.
 */
struct chart_axis_in {
	const char *label;
	const char *const *vals;        /* n strings as logged */
};

/*
 * A scatter of y against x for n points: {width, height, plot, xticks,
 * yticks, points [{cx, cy, label, href, text}], xlabel, ylabel}.
 * labels/hrefs name each point (run names, run pages).
 */
json_t *chart_scatter(struct arena *a, const struct chart_axis_in *x,
    const struct chart_axis_in *y, const char *const *labels,
    const char *const *hrefs, size_t n);

/*
 * Parallel coordinates over naxes axes for n runs: {width, height, axes [{x,
 * label, hi, lo, top, bottom}], lines [{d, cls, label}]}; a run lacking a
 * value on some axis is drawn up to that axis only.
 */
json_t *chart_parallel(struct arena *a, const struct chart_axis_in *axes, size_t naxes,
    const char *const *labels, size_t n);

/* A number as the pages show it: %.4g, with "NaN", "∞" and "-∞" spelled out. */
const char *chart_num(struct arena *a, double v);

/* The shortest text that reads back as exactly v (%.15g to %.17g), for CSV and comparisons. */
const char *chart_exact(struct arena *a, double v);

/* Epoch milliseconds as ISO 8601 UTC ("2024-05-01T10:00:00Z"); arena memory. */
const char *chart_iso_ms(struct arena *a, long long ms);

/* A size in bytes as the pages show it: "812 bytes", "4.2 KiB", "1.5 MiB", "2.0 GiB". */
void chart_bytes(long long n, char *dst, size_t len);

/*
 * A time as every page shows it, for templates/time.html: {"iso":
 * "2024-05-01T10:00:00Z" (the <time datetime>), "text": "2024-05-01 10:00
 * UTC"} — static/time.js rewrites the text into the viewer's zone. From ISO
 * 8601 UTC as chart_iso_ms and the SQL statements write it, or from epoch
 * milliseconds. NULL when iso is not that form (or out of memory).
 */
json_t *chart_time(const char *iso);
json_t *chart_time_ms(struct arena *a, long long ms);

/* A duration in milliseconds as "850 ms", "42.1 s", "12 min 5 s", "3 h 20 min". */
const char *chart_duration_ms(struct arena *a, long long ms);

#endif
