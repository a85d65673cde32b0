/* chart.c: inline-SVG chart geometry for the HTML pages — every coordinate is computed here, the templates only place attribute values. */
#include "chart.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PATH_MAX_BYTES (4u << 20)

/* Plot area of the line and scatter charts. */
#define PL 64
#define PT 10
#define PR 12
#define PB 30

const char *
chart_num(struct arena *a, double v)
{
	if (isnan(v))
		return "NaN";
	if (isinf(v))
		return v > 0 ? "∞" : "-∞";
	if (v == 0)
		return "0";
	return arena_printf(a, "%.4g", v);
}

const char *
chart_exact(struct arena *a, double v)
{
	char b[40];

	for (int prec = 15; prec <= 17; prec++) {
		snprintf(b, sizeof(b), "%.*g", prec, v);
		if (strtod(b, NULL) == v || prec == 17 || isnan(v))
			break;
	}
	return arena_strdup(a, b);
}

const char *
chart_iso_ms(struct arena *a, long long ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char b[40];

	if (gmtime_r(&t, &tm) == NULL)
		return "";
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return arena_strdup(a, b);
}

void
chart_bytes(long long n, char *dst, size_t len)
{
	if (n < 1024)
		snprintf(dst, len, "%lld bytes", n);
	else if (n < 1024 * 1024)
		snprintf(dst, len, "%.1f KiB", n / 1024.0);
	else if (n < 1024LL * 1024 * 1024)
		snprintf(dst, len, "%.1f MiB", n / (1024.0 * 1024.0));
	else
		snprintf(dst, len, "%.1f GiB", n / (1024.0 * 1024.0 * 1024.0));
}

json_t *
chart_time(const char *iso)
{
	char text[32];

	/* "YYYY-MM-DDTHH:MM:SSZ" as the pages' times are; anything else is not shown as one. */
	if (iso == NULL || strlen(iso) != 20 || iso[10] != 'T' || iso[19] != 'Z')
		return NULL;
	snprintf(text, sizeof(text), "%.10s %.5s UTC", iso, iso + 11);
	return json_pack("{s:s, s:s}", "iso", iso, "text", text);
}

json_t *
chart_time_ms(struct arena *a, long long ms)
{
	return chart_time(chart_iso_ms(a, ms));
}

const char *
chart_duration_ms(struct arena *a, long long ms)
{
	if (ms < 1000)
		return arena_printf(a, "%lld ms", ms);
	if (ms < 60000)
		return arena_printf(a, "%.1f s", ms / 1000.0);
	if (ms < 3600000)
		return arena_printf(a, "%lld min %lld s", ms / 60000, ms / 1000 % 60);
	return arena_printf(a, "%lld h %lld min", ms / 3600000, ms / 60000 % 60);
}

void
chart_ema(double *y, size_t n, double weight)
{
	double last = 0;
	size_t k = 0;

	if (weight <= 0 || weight >= 1)
		return;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(y[i]))
			continue;
		last = last * weight + (1 - weight) * y[i];
		k++;
		y[i] = last / (1 - pow(weight, (double)k));
	}
}

/* ---- scales and ticks ---- */

struct scale {
	double lo, hi;          /* data range (log10 of it on a log axis) */
	double p0, p1;          /* pixel range */
	int log;
};

static double
sc(const struct scale *s, double v)
{
	if (s->log)
		v = log10(v);
	if (s->hi == s->lo)
		return (s->p0 + s->p1) / 2;
	return s->p0 + (v - s->lo) / (s->hi - s->lo) * (s->p1 - s->p0);
}

static int
usable(double v, int logv)
{
	return isfinite(v) && (!logv || v > 0);
}

/* A step of 1, 2 or 5 × 10^k that cuts span into about n pieces. */
static double
nice_step(double span, int n)
{
	double raw = span / n, mag = pow(10, floor(log10(raw))), f = raw / mag;

	return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

static const char *
x_label(struct arena *a, enum chart_x kind, double v)
{
	if (kind == CHART_X_EPOCH_MS) {
		time_t t = (time_t)(v / 1000);
		struct tm tm;
		char b[32];

		gmtime_r(&t, &tm);
		strftime(b, sizeof(b), "%m-%d %H:%M:%S", &tm);
		return arena_strdup(a, b);
	}
	if (kind == CHART_X_DURATION_MS) {
		double s = v / 1000;

		if (fabs(s) < 120)
			return arena_printf(a, "%.3gs", s);
		if (fabs(s) < 7200)
			return arena_printf(a, "%.3gmin", s / 60);
		return arena_printf(a, "%.3gh", s / 3600);
	}
	return chart_num(a, v);
}

/* Ticks of s (pixel positions on axis "x" or "y"); NULL when out of memory. */
static json_t *
ticks(struct arena *a, const struct scale *s, const char *axis, enum chart_x kind)
{
	json_t *t = json_array();
	double step;

	if (s->hi == s->lo) {
		double v = s->log ? pow(10, s->lo) : s->lo;

		json_array_append_new(t, json_pack("{s:s, s:s}", axis, arena_printf(a, "%.1f",
		    sc(s, v)), "label", x_label(a, kind, v)));
		return t;
	}
	if (s->log) {
		step = ceil((s->hi - s->lo) / 6);
		for (double e = ceil(s->lo); e <= s->hi + 1e-9; e += step)
			json_array_append_new(t, json_pack("{s:s, s:s}", axis, arena_printf(a,
			    "%.1f", sc(s, pow(10, e))), "label", chart_num(a, pow(10, e))));
		return t;
	}
	step = nice_step(s->hi - s->lo, 5);
	for (double v = ceil(s->lo / step) * step; v <= s->hi + step * 1e-9; v += step)
		json_array_append_new(t, json_pack("{s:s, s:s}", axis, arena_printf(a, "%.1f",
		    sc(s, v)), "label", x_label(a, kind, fabs(v) < step * 1e-9 ? 0 : v)));
	return t;
}

/* Range of usable values; 0 when there is none. */
static int
range(const double *v, size_t n, int logv, double *lo, double *hi, int first)
{
	int any = !first;

	for (size_t i = 0; v != NULL && i < n; i++) {
		if (!usable(v[i], logv))
			continue;
		if (!any || v[i] < *lo)
			*lo = v[i];
		if (!any || v[i] > *hi)
			*hi = v[i];
		any = 1;
	}
	return any;
}

static void
scale_set(struct scale *s, double lo, double hi, double p0, double p1, int logv, int pad)
{
	s->log = logv;
	s->lo = logv ? log10(lo) : lo;
	s->hi = logv ? log10(hi) : hi;
	if (pad && s->hi > s->lo) {
		double m = (s->hi - s->lo) * 0.04;

		s->lo -= m;
		s->hi += m;
	}
	s->p0 = p0;
	s->p1 = p1;
}

static json_t *
plot_box(int w, int h)
{
	return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "x", PL, "y", PT, "w",
	    w - PL - PR, "h", h - PT - PB, "right", w - PR, "bottom", h - PB, "label_y",
	    h - PB + 18, "label_x", PL - 6);
}

/* ---- line charts ---- */

static int
path_pt(struct buf *b, int *pen, double x, double y)
{
	int rc = buf_printf(b, "%c%.1f,%.1f", *pen ? 'L' : 'M', x, y);

	*pen = 1;
	return rc;
}

json_t *
chart_lines(struct arena *a, const struct chart_series *s, size_t ns, enum chart_x xkind,
    int logy)
{
	struct scale xs, ys;
	double xlo = 0, xhi = 0, ylo = 0, yhi = 0;
	int anyx = 0, anyy = 0;
	long points = 0;
	json_t *out = NULL, *series;
	struct buf line, band;

	buf_init(&line, PATH_MAX_BYTES);
	buf_init(&band, PATH_MAX_BYTES);
	for (size_t k = 0; k < ns; k++) {
		anyx = range(s[k].x, s[k].n, 0, &xlo, &xhi, !anyx) || anyx;
		anyy = range(s[k].y, s[k].n, logy, &ylo, &yhi, !anyy) || anyy;
		anyy = range(s[k].ylo, s[k].n, logy, &ylo, &yhi, !anyy) || anyy;
		anyy = range(s[k].yhi, s[k].n, logy, &ylo, &yhi, !anyy) || anyy;
	}
	scale_set(&xs, xlo, xhi, PL, CHART_W - PR, 0, 0);
	scale_set(&ys, ylo, yhi, CHART_H - PB, PT, logy, 1);
	series = json_array();
	for (size_t k = 0; k < ns && anyx && anyy; k++) {
		int pen = 0, banded = 0;

		buf_reset(&line);
		buf_reset(&band);
		for (size_t i = 0; i < s[k].n; i++) {
			if (!usable(s[k].x[i], 0) || !usable(s[k].y[i], logy)) {
				pen = 0;
				continue;
			}
			if (path_pt(&line, &pen, sc(&xs, s[k].x[i]), sc(&ys, s[k].y[i])) == -1)
				goto out;
			points++;
			if (s[k].ylo != NULL && s[k].yhi != NULL && s[k].ylo[i] != s[k].yhi[i])
				banded = 1;
		}
		/* The band: along the maxima, back along the minima. */
		if (banded) {
			pen = 0;
			for (size_t i = 0; i < s[k].n; i++)
				if (usable(s[k].x[i], 0) && usable(s[k].yhi[i], logy)) {
					if (path_pt(&band, &pen, sc(&xs, s[k].x[i]),
					    sc(&ys, s[k].yhi[i])) == -1)
						goto out;
					points++;
				}
			for (size_t i = s[k].n; i-- > 0;)
				if (usable(s[k].x[i], 0) && usable(s[k].ylo[i], logy)) {
					if (path_pt(&band, &pen, sc(&xs, s[k].x[i]),
					    sc(&ys, s[k].ylo[i])) == -1)
						goto out;
					points++;
				}
			if (pen && buf_addc(&band, 'Z') == -1)
				goto out;
		}
		json_array_append_new(series, json_pack("{s:s, s:s, s:s?, s:s, s:s}", "cls",
		    arena_printf(a, "s%zu", k % CHART_SERIES_MAX), "label", s[k].label,
		    "href", s[k].href, "line", arena_strdup(a, buf_str(&line)), "band",
		    arena_strdup(a, buf_str(&band))));
	}
	out = json_pack("{s:i, s:i, s:o, s:o, s:o, s:o, s:I, s:b}", "width", CHART_W,
	    "height", CHART_H, "plot", plot_box(CHART_W, CHART_H), "series", series,
	    "xticks", anyx ? ticks(a, &xs, "x", xkind) : json_array(), "yticks",
	    anyy ? ticks(a, &ys, "y", CHART_X_NUMBER) : json_array(), "points",
	    (json_int_t)points, "empty", !(anyx && anyy));
	series = NULL;
out:
	json_decref(series);
	buf_free(&line);
	buf_free(&band);
	return out;
}

json_t *
chart_spark(struct arena *a, const double *x, const double *y, size_t n)
{
	struct scale xs, ys;
	double xlo = 0, xhi = 0, ylo = 0, yhi = 0;
	struct buf d;
	json_t *out = NULL;
	int pen = 0;

	if (n < 2 || !range(x, n, 0, &xlo, &xhi, 1) || !range(y, n, 0, &ylo, &yhi, 1))
		return NULL;
	scale_set(&xs, xlo, xhi, 1, 119, 0, 0);
	scale_set(&ys, ylo, yhi, 26, 2, 0, 0);
	buf_init(&d, 64 * 1024);
	for (size_t i = 0; i < n; i++)
		if (usable(x[i], 0) && usable(y[i], 0) &&
		    path_pt(&d, &pen, sc(&xs, x[i]), sc(&ys, y[i])) == -1)
			goto out;
	out = json_pack("{s:s, s:i, s:i}", "d", arena_strdup(a, buf_str(&d)), "w", 120,
	    "h", 28);
out:
	buf_free(&d);
	return out;
}

/* ---- axes over logged values: numbers, or categories ---- */

struct axis {
	struct scale s;
	int categorical;
	size_t ncat;
	const char **cats;
	double *v;              /* per point: the number, or the category index; NaN = none */
	double rlo, rhi;        /* the values' own range, before padding */
};

static int
is_number(const char *s, double *out)
{
	char *end;

	if (s == NULL || *s == '\0')
		return 0;
	*out = strtod(s, &end);
	return *end == '\0' && isfinite(*out);
}

/* Reads in's values onto pixels p0..p1; -1 when out of memory. */
static int
axis_build(struct arena *a, const struct chart_axis_in *in, size_t n, double p0, double p1,
    struct axis *ax)
{
	double lo = 0, hi = 0, d = 0;
	int any = 0;

	memset(ax, 0, sizeof(*ax));
	if ((ax->v = arena_alloc(a, sizeof(double) * (n + 1))) == NULL ||
	    (ax->cats = arena_alloc(a, sizeof(char *) * (n + 1))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (in->vals[i] != NULL && !is_number(in->vals[i], &d))
			ax->categorical = 1;
	for (size_t i = 0; i < n; i++) {
		ax->v[i] = NAN;
		if (in->vals[i] == NULL)
			continue;
		if (ax->categorical) {
			size_t c;

			for (c = 0; c < ax->ncat && strcmp(ax->cats[c], in->vals[i]) != 0; c++)
				;
			if (c == ax->ncat)
				ax->cats[ax->ncat++] = in->vals[i];
			d = (double)c;
		} else
			(void)is_number(in->vals[i], &d);
		ax->v[i] = d;
		if (!any || d < lo)
			lo = d;
		if (!any || d > hi)
			hi = d;
		any = 1;
	}
	ax->rlo = lo;
	ax->rhi = hi;
	if (ax->categorical) {
		lo = -0.5;
		hi = (double)ax->ncat - 0.5;
	}
	scale_set(&ax->s, lo, hi, p0, p1, 0, !ax->categorical);
	return 0;
}

static json_t *
axis_ticks(struct arena *a, const struct axis *ax, const char *which)
{
	json_t *t;

	if (!ax->categorical)
		return ticks(a, &ax->s, which, CHART_X_NUMBER);
	t = json_array();
	/* At most 20 category labels; the rest stay unlabelled. */
	for (size_t c = 0; c < ax->ncat && c < 20; c++)
		json_array_append_new(t, json_pack("{s:s, s:s}", which, arena_printf(a, "%.1f",
		    sc(&ax->s, (double)c)), "label", ax->cats[c]));
	return t;
}

json_t *
chart_scatter(struct arena *a, const struct chart_axis_in *x, const struct chart_axis_in *y,
    const char *const *labels, const char *const *hrefs, size_t n)
{
	struct axis xa, ya;
	json_t *pts;
	int w = 640, h = 360;

	if (axis_build(a, x, n, PL + 8, w - PR - 8, &xa) == -1 ||
	    axis_build(a, y, n, h - PB - 8, PT + 8, &ya) == -1)
		return NULL;
	pts = json_array();
	for (size_t i = 0; i < n; i++) {
		if (isnan(xa.v[i]) || isnan(ya.v[i]))
			continue;
		json_array_append_new(pts, json_pack("{s:s, s:s, s:s, s:s?, s:s}", "cx",
		    arena_printf(a, "%.1f", sc(&xa.s, xa.v[i])), "cy", arena_printf(a, "%.1f",
		    sc(&ya.s, ya.v[i])), "label", labels[i], "href", hrefs ? hrefs[i] : NULL,
		    "text", arena_printf(a, "%s: %s = %s, %s = %s", labels[i], x->label,
		    x->vals[i], y->label, y->vals[i])));
	}
	return json_pack("{s:i, s:i, s:o, s:o, s:o, s:o, s:s, s:s, s:b}", "width", w,
	    "height", h, "plot", plot_box(w, h), "xticks", axis_ticks(a, &xa, "x"), "yticks",
	    axis_ticks(a, &ya, "y"), "points", pts, "xlabel", x->label, "ylabel", y->label,
	    "empty", json_array_size(pts) == 0);
}

json_t *
chart_parallel(struct arena *a, const struct chart_axis_in *axes, size_t naxes,
    const char *const *labels, size_t n)
{
	struct axis *ax = arena_alloc(a, sizeof(*ax) * (naxes + 1));
	int w = 880, h = 340, top = 36, bottom = h - 36;
	json_t *ja, *lines;
	struct buf d;
	double gap = naxes > 1 ? (double)(w - 120) / (double)(naxes - 1) : 0;

	if (ax == NULL)
		return NULL;
	ja = json_array();
	for (size_t k = 0; k < naxes; k++) {
		double x = 60 + gap * (double)k;

		if (axis_build(a, &axes[k], n, bottom, top, &ax[k]) == -1) {
			json_decref(ja);
			return NULL;
		}
		const char *hi = "", *lo = "";

		if (ax[k].categorical && ax[k].ncat > 0) {
			hi = ax[k].cats[ax[k].ncat - 1];
			lo = ax[k].cats[0];
		} else if (!ax[k].categorical) {
			hi = chart_num(a, ax[k].rhi);
			lo = chart_num(a, ax[k].rlo);
		}
		json_array_append_new(ja, json_pack("{s:s, s:s, s:s, s:s}", "x", arena_printf(a,
		    "%.1f", x), "label", axes[k].label, "hi", hi, "lo", lo));
	}
	lines = json_array();
	buf_init(&d, PATH_MAX_BYTES);
	for (size_t i = 0; i < n; i++) {
		int pen = 0;

		buf_reset(&d);
		for (size_t k = 0; k < naxes && !isnan(ax[k].v[i]); k++)
			if (path_pt(&d, &pen, 60 + gap * (double)k, sc(&ax[k].s, ax[k].v[i])) == -1)
				break;
		json_array_append_new(lines, json_pack("{s:s, s:s, s:s}", "d", arena_strdup(a,
		    buf_str(&d)), "cls", arena_printf(a, "s%zu", i % CHART_SERIES_MAX), "label",
		    labels[i]));
	}
	buf_free(&d);
	return json_pack("{s:i, s:i, s:i, s:i, s:o, s:o}", "width", w, "height", h, "top",
	    top, "bottom", bottom, "axes", ja, "lines", lines);
}
