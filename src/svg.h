/* svg.h: geometry of the inline SVG charts — numbers computed here, every label a JSON string that the template escapes. */
#ifndef VERDICT_SVG_H
#define VERDICT_SVG_H

#include <stddef.h>

#include <jansson.h>

/*
 * Each function returns a JSON object for a template to place (new
 * reference), or NULL when memory ran out. Coordinates are strings with one
 * decimal; labels are copied as given (plain text: the template escapes
 * them where it writes them).
 */

/* One bar of a diverging bar chart (the explanation chart). */
struct svg_bar {
	const char *label;
	double value;
};

/*
 * Bars sorted by |value| (bars[] is reordered), positive to the right of a
 * zero axis, negative to the left: {"bars": [{"label", "contribution",
 * "positive", "x", "y", "w", "text_y", "num_x", "num_anchor"}], "width",
 * "height", "label_x", "cx", "axis_top", "axis_bottom"}.
 */
json_t *svg_diverging_bars(struct svg_bar *bars, size_t n);

/* One point of a time series: x in days (any origin), y. */
struct svg_point {
	double x, y;
	const char *label;          /* the point's tooltip, e.g. "2026-11-23: 0.81" */
};

/*
 * A line through points (ascending x) over [ymin, ymax] (widened to the
 * data): {"width", "height", "points" (polyline), "dots": [{"cx", "cy",
 * "label"}], "y_ticks": [{"y", "text_y", "label"}], "x_ticks": [{"x",
 * "label", "anchor"}], "left", "right", "top", "bottom", "x_label_y"}.
 * x_first / x_last label the ends of the x axis.
 */
json_t *svg_line(const struct svg_point *p, size_t n, double ymin, double ymax,
    const char *x_first, const char *x_last);

/*
 * A square scatter of (x[i], y[i]) with the diagonal y = x, both axes over
 * the same range: {"width", "height", "dots": [{"cx", "cy"}], "diag":
 * {"x1", "y1", "x2", "y2"}, "lo", "hi", "left", "right", "top", "bottom",
 * "label_y", "mid"}.
 */
json_t *svg_scatter(const double *x, const double *y, size_t n);

/* Display text of a number: up to 4 decimals, trailing zeros dropped; "—" for NaN. */
void svg_num(double v, char *dst, size_t len);

#endif
