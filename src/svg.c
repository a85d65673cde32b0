/* svg.c: geometry of the inline SVG charts (explanation bars, daily line, predicted-vs-actual scatter); numbers only, labels left to the template's escaping. */
#include "svg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Diverging bars (SVG user units). */
#define BAR_W 760
#define BAR_LABEL_X 240         /* labels end here (text-anchor: end) */
#define BAR_CX 480              /* the zero axis */
#define BAR_HALF 220            /* the largest |value| spans this */
#define BAR_ROW 26
#define BAR_H 18
#define BAR_PAD 10

/* Line and scatter charts: a plot area inside margins for the tick labels. */
#define LINE_W 640
#define LINE_H 220
#define SCAT_W 360
#define M_LEFT 56
#define M_RIGHT 12
#define M_TOP 10
#define M_BOTTOM 28

/* A coordinate as the template places it (NULL when out of memory: json_pack fails). */
static json_t *
coord(double v)
{
	return json_sprintf("%.1f", v);
}

void
svg_num(double v, char *dst, size_t len)
{
	char *e;

	if (!isfinite(v)) {
		snprintf(dst, len, "—");
		return;
	}
	if (fabs(v) >= 1e9 || (v != 0 && fabs(v) < 1e-4)) {
		snprintf(dst, len, "%.4g", v);
		return;
	}
	snprintf(dst, len, "%.4f", v);
	e = dst + strlen(dst);
	while (e > dst && e[-1] == '0')
		*--e = '\0';
	if (e > dst && e[-1] == '.')
		*--e = '\0';
	if (!strcmp(dst, "-0"))
		snprintf(dst, len, "0");
}

static json_t *
num_json(double v)
{
	char buf[64];

	svg_num(v, buf, sizeof(buf));
	return json_string(buf);
}

static int
by_magnitude(const void *x, const void *y)
{
	double p = fabs(((const struct svg_bar *)x)->value);
	double q = fabs(((const struct svg_bar *)y)->value);

	return p < q ? 1 : p > q ? -1 : 0;
}

json_t *
svg_diverging_bars(struct svg_bar *b, size_t n)
{
	json_t *bars = json_array();
	double max = 0;
	int h = 2 * BAR_PAD + (int)n * BAR_ROW;

	if (bars == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (fabs(b[i].value) > max)
			max = fabs(b[i].value);
	qsort(b, n, sizeof(*b), by_magnitude);
	for (size_t k = 0; k < n; k++) {
		double w = max > 0 ? fabs(b[k].value) / max * BAR_HALF : 0;
		int y = BAR_PAD + (int)k * BAR_ROW + (BAR_ROW - BAR_H) / 2, pos = b[k].value >= 0;

		if (w > 0 && w < 1)
			w = 1;
		/* The number sits on the other side of the axis: it never leaves the chart. */
		if (json_array_append_new(bars, json_pack("{s:s, s:o, s:b, s:o, s:o, s:o, s:o, "
		    "s:o, s:s}", "label", b[k].label != NULL ? b[k].label : "",
		    "contribution", json_sprintf("%+.4g", b[k].value), "positive", pos,
		    "x", coord(pos ? (double)BAR_CX : BAR_CX - w),
		    "y", json_sprintf("%d", y), "w", coord(w),
		    "text_y", json_sprintf("%d", y + BAR_H - 5),
		    "num_x", json_sprintf("%d", pos ? BAR_CX - 6 : BAR_CX + 6),
		    "num_anchor", pos ? "end" : "start")) == -1) {
			json_decref(bars);
			return NULL;
		}
	}
	return json_pack("{s:o, s:i, s:i, s:i, s:i, s:i, s:i}", "bars", bars, "width", BAR_W,
	    "height", h, "label_x", BAR_LABEL_X, "cx", BAR_CX, "axis_top", 2, "axis_bottom",
	    h - 2);
}

/* Plot-area mapping of one axis: value v in [lo, hi] onto [p0, p1]. */
static double
scale(double v, double lo, double hi, double p0, double p1)
{
	return hi > lo ? p0 + (v - lo) / (hi - lo) * (p1 - p0) : (p0 + p1) / 2;
}

/* Appends one tick {"y", "text_y", "label"} at value v. -1 when out of memory. */
static int
y_tick(json_t *ticks, double v, double lo, double hi, double bottom,
    double top)
{
	double y = scale(v, lo, hi, bottom, top);

	return json_array_append_new(ticks, json_pack("{s:o, s:o, s:o}", "y", coord(y),
	    "text_y", coord(y + 4), "label", num_json(v)));
}

json_t *
svg_line(const struct svg_point *p, size_t n, double ymin, double ymax,
    const char *x_first, const char *x_last)
{
	double left = M_LEFT, right = LINE_W - M_RIGHT, top = M_TOP, bottom = LINE_H - M_BOTTOM;
	double x0 = n > 0 ? p[0].x : 0, x1 = n > 0 ? p[n - 1].x : 1;
	struct buf pts;
	json_t *dots = json_array(), *yt = json_array(), *xt = json_array(), *o = NULL;

	buf_init(&pts, (size_t)1 << 20);
	for (size_t i = 0; i < n; i++) {
		if (p[i].y < ymin)
			ymin = p[i].y;
		if (p[i].y > ymax)
			ymax = p[i].y;
	}
	if (dots == NULL || yt == NULL || xt == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		double cx = n == 1 ? (left + right) / 2 : scale(p[i].x, x0, x1, left, right);
		double cy = scale(p[i].y, ymin, ymax, bottom, top);

		if (buf_printf(&pts, "%s%.1f,%.1f", i ? " " : "", cx, cy) == -1 ||
		    json_array_append_new(dots, json_pack("{s:o, s:o, s:s}", "cx", coord(cx),
		    "cy", coord(cy), "label", p[i].label != NULL ? p[i].label : "")) == -1)
			goto out;
	}
	if (y_tick(yt, ymin, ymin, ymax, bottom, top) == -1 ||
	    y_tick(yt, (ymin + ymax) / 2, ymin, ymax, bottom, top) == -1 ||
	    y_tick(yt, ymax, ymin, ymax, bottom, top) == -1)
		goto out;
	if (json_array_append_new(xt, json_pack("{s:o, s:s, s:s}", "x", coord(left),
	    "label", x_first != NULL ? x_first : "", "anchor", "start")) == -1 ||
	    (x_last != NULL && n > 1 && json_array_append_new(xt, json_pack("{s:o, s:s, s:s}",
	    "x", coord(right), "label", x_last, "anchor", "end")) == -1))
		goto out;
	o = json_pack("{s:i, s:i, s:s, s:O, s:O, s:O, s:o, s:o, s:o, s:o, s:o}",
	    "width", LINE_W, "height", LINE_H, "points", buf_str(&pts), "dots", dots,
	    "y_ticks", yt, "x_ticks", xt, "left", coord(left), "right", coord(right),
	    "top", coord(top), "bottom", coord(bottom), "x_label_y",
	    coord(bottom + 18));
out:
	buf_free(&pts);
	json_decref(dots);
	json_decref(yt);
	json_decref(xt);
	return o;
}

json_t *
svg_scatter(const double *x, const double *y, size_t n)
{
	double left = M_LEFT, right = SCAT_W - M_RIGHT, top = M_TOP;
	double bottom = top + (right - left), lo = INFINITY, hi = -INFINITY, pad;
	json_t *dots = json_array(), *o = NULL;

	if (dots == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(x[i]) || !isfinite(y[i]))
			continue;
		lo = fmin(lo, fmin(x[i], y[i]));
		hi = fmax(hi, fmax(x[i], y[i]));
	}
	if (!isfinite(lo)) {
		lo = 0;
		hi = 1;
	}
	pad = hi > lo ? (hi - lo) * 0.05 : 1;
	lo -= pad;
	hi += pad;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(x[i]) || !isfinite(y[i]))
			continue;
		if (json_array_append_new(dots, json_pack("{s:o, s:o}", "cx", coord(
		    scale(x[i], lo, hi, left, right)), "cy", coord(scale(y[i], lo, hi,
		    bottom, top)))) == -1)
			goto out;
	}
	o = json_pack("{s:i, s:i, s:O, s:{s:o, s:o, s:o, s:o}, s:o, s:o, s:o, s:o, "
	    "s:o, s:o, s:o, s:o}", "width", SCAT_W, "height",
	    (int)(bottom + M_BOTTOM), "dots", dots,
	    "diag", "x1", coord(left), "y1", coord(bottom), "x2", coord(right),
	    "y2", coord(top), "lo", num_json(lo), "hi", num_json(hi),
	    "left", coord(left), "right", coord(right), "top", coord(top),
	    "bottom", coord(bottom), "label_y", coord(bottom + 18),
	    "mid", coord((left + right) / 2));
out:
	json_decref(dots);
	return o;
}
