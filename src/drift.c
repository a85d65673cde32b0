/* drift.c: reference profiles of a version's inputs and output, drift reports against recent predictions (Evidently's default tests), and the statistics. */
#include "drift.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvtab.h"
#include "db.h"
#include "perm.h"
#include "log.h"
#include "model.h"
#include "spec.h"

#define CHUNK_ROWS 1000            /* rows scored by one model_predict call */
#define CHUNK_FLOATS (1u << 20)    /* ... and at most this many floats of features */
#define HIST_BINS 20               /* equal-width bins of a number's histogram */
#define HIST_CATS 20               /* categories shown; the rest are "(other)" */
#define HISTORY_MAX 200            /* reports in the trend */
#define WASSERSTEIN_MIN_STD 0.001  /* Evidently's floor for the norm */

/* ---- statistics ---- */

double
drift_ks_statistic(const double *a, size_t na, const double *b, size_t nb)
{
	size_t i = 0, j = 0;
	double d = 0;

	if (na == 0 || nb == 0)
		return NAN;
	while (i < na && j < nb) {
		double x = a[i] < b[j] ? a[i] : b[j], f;

		while (i < na && a[i] <= x)
			i++;
		while (j < nb && b[j] <= x)
			j++;
		f = fabs((double)i / (double)na - (double)j / (double)nb);
		if (f > d)
			d = f;
	}
	return d;
}

/*
 * Two series of the same function: for small x the theta-function form of
 * the CDF converges fast, for large x the alternating series of the
 * survival function does (and keeps tiny p-values exact in relative terms).
 */
double
drift_kolmogorov_sf(double x)
{
	double s = 0;

	if (!(x > 0))
		return 1;
	if (x < 1.18) {
		double w = -M_PI * M_PI / (8 * x * x);

		for (int k = 1; k < 200; k++) {
			double t = exp(w * (double)((2 * k - 1) * (2 * k - 1)));

			s += t;
			if (t <= s * 1e-17)
				break;
		}
		s = 1 - sqrt(2 * M_PI) / x * s;
	} else {
		for (int k = 1; k < 200; k++) {
			double t = exp(-2.0 * k * k * x * x);

			s += k % 2 ? t : -t;
			if (t <= fabs(s) * 1e-17)
				break;
		}
		s *= 2;
	}
	return s < 0 ? 0 : s > 1 ? 1 : s;
}

double
drift_ks_pvalue(double d, size_t na, size_t nb)
{
	double en = (double)na * (double)nb / ((double)na + (double)nb);

	return drift_kolmogorov_sf(sqrt(en) * d);
}

/* P(a, x) by its power series; converges fast for x < a + 1. */
static double
gamma_p_series(double a, double x)
{
	double sum = 1 / a, term = sum, ap = a;
	int sign;

	for (int n = 0; n < 100000; n++) {
		ap += 1;
		term *= x / ap;
		sum += term;
		if (fabs(term) < fabs(sum) * 1e-17)
			break;
	}
	return sum * exp(-x + a * log(x) - lgamma_r(a, &sign));
}

/* Q(a, x) by its continued fraction (modified Lentz); for x >= a + 1. */
static double
gamma_q_fraction(double a, double x)
{
	double b = x + 1 - a, c = 1 / DBL_MIN, d = 1 / b, h = d;
	int sign;

	for (int i = 1; i < 100000; i++) {
		double an = -i * (i - a), del;

		b += 2;
		d = an * d + b;
		if (fabs(d) < DBL_MIN)
			d = DBL_MIN;
		c = b + an / c;
		if (fabs(c) < DBL_MIN)
			c = DBL_MIN;
		d = 1 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1) < 1e-17)
			break;
	}
	return exp(-x + a * log(x) - lgamma_r(a, &sign)) * h;
}

double
drift_gamma_q(double a, double x)
{
	if (!(x > 0))
		return 1;
	if (isinf(x))
		return 0;
	if (x < a + 1)
		return 1 - gamma_p_series(a, x);
	return gamma_q_fraction(a, x);
}

double
drift_chi2_sf(double x, double df)
{
	return drift_gamma_q(df / 2, x / 2);
}

double
drift_wasserstein(const double *a, size_t na, const double *b, size_t nb)
{
	size_t i = 0, j = 0;
	double area = 0, prev;

	if (na == 0 || nb == 0)
		return NAN;
	prev = a[0] < b[0] ? a[0] : b[0];
	while (i < na || j < nb) {
		double x = (j >= nb || (i < na && a[i] <= b[j])) ? a[i] : b[j];

		area += fabs((double)i / (double)na - (double)j / (double)nb) * (x - prev);
		while (i < na && a[i] <= x)
			i++;
		while (j < nb && b[j] <= x)
			j++;
		prev = x;
	}
	return area;
}

void
drift_fill_zeros(double *p, size_t k)
{
	double min = INFINITY, fill;

	for (size_t i = 0; i < k; i++)
		if (p[i] != 0 && p[i] < min)
			min = p[i];
	if (isinf(min))
		return;
	fill = min <= 1e-4 ? min / 1e6 : 1e-4;
	for (size_t i = 0; i < k; i++)
		if (p[i] == 0)
			p[i] = fill;
}

double
drift_js_distance(const double *p, const double *q, size_t k)
{
	double sp = 0, sq = 0, js = 0;

	for (size_t i = 0; i < k; i++) {
		sp += p[i];
		sq += q[i];
	}
	if (!(sp > 0) || !(sq > 0))
		return NAN;
	for (size_t i = 0; i < k; i++) {
		double a = p[i] / sp, b = q[i] / sq, m = (a + b) / 2;

		if (a > 0)
			js += a * log(a / m);
		if (b > 0)
			js += b * log(b / m);
	}
	return sqrt(js > 0 ? js / 2 : 0);
}

double
drift_psi(const double *r, const double *c, size_t k)
{
	double psi = 0;

	for (size_t i = 0; i < k; i++)
		psi += (r[i] - c[i]) * log(r[i] / c[i]);
	return psi;
}

double
drift_z_statistic(double k1, double n1, double k2, double n2)
{
	double p1 = k1 / n1, p2 = k2 / n2, p = (k1 + k2) / (n1 + n2);
	double den = sqrt(p * (1 - p) * (1 / n1 + 1 / n2));

	return den > 0 ? (p1 - p2) / den : 0;
}

double
drift_z_pvalue(double z)
{
	return erfc(fabs(z) / M_SQRT2);
}

/* numpy's "linear" method, including its lerp that is exact at both ends. */
double
drift_quantile(const double *x, size_t n, double q)
{
	double h = q * (double)(n - 1), t, diff;
	size_t lo;

	if (n == 0)
		return NAN;
	lo = (size_t)floor(h);
	if (lo + 1 >= n)
		return x[n - 1];
	t = h - (double)lo;
	diff = x[lo + 1] - x[lo];
	return t >= 0.5 ? x[lo + 1] - diff * (1 - t) : x[lo] + diff * t;
}

int
drift_window_hours(const char *s)
{
	size_t n = strlen(s);
	long v;

	if (n < 2 || n > 6 || strspn(s, "0123456789") != n - 1 || s[0] == '0' ||
	    (s[n - 1] != 'h' && s[n - 1] != 'd'))
		return -1;
	v = strtol(s, NULL, 10) * (s[n - 1] == 'd' ? 24 : 1);
	return v >= 1 && v <= DRIFT_MAX_WINDOW_HOURS ? (int)v : -1;
}

/* ---- columns: the values of one input or of the output ---- */

enum dkind { DK_NUMBER, DK_CATEGORY };

static const char *const kind_names[] = { "number", "category" };

struct dstr {
	const char *p;
	size_t len;
};

/* One column's present values while profiling or comparing (arena memory). */
struct dcol {
	const char *name;
	int position;             /* the input's index; -1 for the output */
	enum dkind kind;
	size_t n, missing;
	double *x;                /* numbers: n of them, sorted by col_finish */
	struct dstr *s;           /* categories */
};

/* A distinct value and its counts: n[0] in the reference, n[1] in the current sample. */
struct dkey {
	const char *p;            /* category bytes, or NULL for a number */
	size_t len;
	double v;
	long long n[2];
};

static int
dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c != 0 ? c : alen < blen ? -1 : alen > blen;
}

static int
dstr_cmp(const void *a, const void *b)
{
	const struct dstr *x = a, *y = b;

	return bytes_cmp(x->p, x->len, y->p, y->len);
}

/* Keys of one kind sort by bytes (categories) or by value (numbers). */
static int
key_cmp(const struct dkey *a, const struct dkey *b)
{
	if (a->p != NULL)
		return bytes_cmp(a->p, a->len, b->p, b->len);
	return a->v < b->v ? -1 : a->v > b->v;
}

/* Room for up to rows values. 0 or -1 (arena full). */
static int
col_init(struct arena *a, struct dcol *c, const char *name, int position, enum dkind kind,
    size_t rows)
{
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->position = position;
	c->kind = kind;
	if (kind == DK_NUMBER)
		c->x = arena_alloc(a, (rows + 1) * sizeof(*c->x));
	else
		c->s = arena_alloc(a, (rows + 1) * sizeof(*c->s));
	return c->x != NULL || c->s != NULL ? 0 : -1;
}

/* Adds one value (category bytes are copied). 0 or -1. */
static int
col_add_num(struct dcol *c, double v)
{
	c->x[c->n++] = v;
	return 0;
}

static int
col_add_str(struct arena *a, struct dcol *c, const char *p, size_t len)
{
	char *s = arena_strndup(a, p, len);

	if (s == NULL)
		return -1;
	c->s[c->n].p = s;
	c->s[c->n].len = len;
	c->n++;
	return 0;
}

static void
col_finish(struct dcol *c)
{
	if (c->kind == DK_NUMBER)
		qsort(c->x, c->n, sizeof(*c->x), dbl_cmp);
	else
		qsort(c->s, c->n, sizeof(*c->s), dstr_cmp);
}

/*
 * The distinct values of a finished column with their counts in n[side];
 * at most max of them (*nk = max + 1 says "more"). Arena memory; NULL when full.
 */
static struct dkey *
col_keys(struct arena *a, const struct dcol *c, int side, size_t max, size_t *nk)
{
	struct dkey *k = arena_alloc(a, (max + 2) * sizeof(*k));
	size_t m = 0;

	*nk = 0;
	if (k == NULL)
		return NULL;
	for (size_t i = 0; i < c->n; i++) {
		int same = m > 0 && (c->kind == DK_NUMBER ? k[m - 1].v == c->x[i] :
		    bytes_cmp(k[m - 1].p, k[m - 1].len, c->s[i].p, c->s[i].len) == 0);

		if (same) {
			k[m - 1].n[side]++;
			continue;
		}
		if (m == max + 1)
			break;
		memset(&k[m], 0, sizeof(k[m]));
		if (c->kind == DK_NUMBER)
			k[m].v = c->x[i];
		else {
			k[m].p = c->s[i].p;
			k[m].len = c->s[i].len;
		}
		k[m].n[side] = 1;
		m++;
	}
	*nk = m;
	return k;
}

/* ---- profiles ---- */

static json_t *
num_list(const double *x, size_t n)
{
	json_t *l = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(l, json_number_or_null(x[i]));
	return l;
}

/* The pairs [value, count] of keys (side 0). */
static json_t *
counts_json(const struct dkey *k, size_t nk)
{
	json_t *l = json_array();

	for (size_t i = 0; i < nk; i++)
		json_array_append_new(l, json_pack("[o, I]", k[i].p != NULL ?
		    json_stringn(k[i].p, k[i].len) : json_number_or_null(k[i].v),
		    (json_int_t)k[i].n[0]));
	return l;
}

/* Bin of x among 9 sorted decile edges: how many edges are below it (numpy searchsorted, left). */
static int
decile_bin(const double *edges, double x)
{
	int b = 0;

	while (b < 9 && edges[b] < x)
		b++;
	return b;
}

/*
 * A finished column's profile row: {"position","name","kind","n","missing",
 * "profile"} (the layout is in sql/006_drift.sql). NULL when out of memory.
 */
static json_t *
profile_json(struct arena *a, const struct dcol *c)
{
	json_t *p = json_object();
	struct dkey *k;
	size_t nk;

	if (c->kind == DK_NUMBER && c->n > 0) {
		double mean = 0, var = 0, dec[9];
		long long decn[10] = { 0 };
		json_t *dl;

		for (size_t i = 0; i < c->n; i++)
			mean += c->x[i];
		mean /= (double)c->n;
		for (size_t i = 0; i < c->n; i++)
			var += (c->x[i] - mean) * (c->x[i] - mean);
		var /= (double)c->n;
		json_object_set_new(p, "mean", json_number_or_null(mean));
		json_object_set_new(p, "std", json_number_or_null(sqrt(var)));
		json_object_set_new(p, "min", json_number_or_null(c->x[0]));
		json_object_set_new(p, "max", json_number_or_null(c->x[c->n - 1]));
		if (c->n <= DRIFT_SMALL)
			json_object_set_new(p, "sample", num_list(c->x, c->n));
		else {
			double *q = arena_alloc(a, DRIFT_QUANTILES * sizeof(*q));

			if (q == NULL)
				goto fail;
			/* The inverted CDF at the middle of each 1/1000 slice. */
			for (size_t i = 0; i < DRIFT_QUANTILES; i++)
				q[i] = c->x[(size_t)(((double)i + 0.5) * (double)c->n /
				    DRIFT_QUANTILES)];
			json_object_set_new(p, "quantiles", num_list(q, DRIFT_QUANTILES));
		}
		for (int i = 0; i < 9; i++)
			dec[i] = drift_quantile(c->x, c->n, (i + 1) / 10.0);
		for (size_t i = 0; i < c->n; i++)
			decn[decile_bin(dec, c->x[i])]++;
		json_object_set_new(p, "deciles", num_list(dec, 9));
		dl = json_array();
		for (int i = 0; i < 10; i++)
			json_array_append_new(dl, json_integer(decn[i]));
		json_object_set_new(p, "decile_counts", dl);
		if ((k = col_keys(a, c, 0, DRIFT_LOW_CARD, &nk)) == NULL)
			goto fail;
		if (nk <= DRIFT_LOW_CARD)
			json_object_set_new(p, "counts", counts_json(k, nk));
	} else if (c->kind == DK_CATEGORY) {
		if ((k = col_keys(a, c, 0, c->n, &nk)) == NULL)
			goto fail;
		json_object_set_new(p, "counts", counts_json(k, nk));
	}
	return json_pack("{s:i, s:s, s:s, s:I, s:I, s:o}", "position", c->position, "name",
	    c->name, "kind", kind_names[c->kind], "n", (json_int_t)c->n, "missing",
	    (json_int_t)c->missing, "profile", p);
fail:
	json_decref(p);
	return NULL;
}

/* A stored profile, read back for a comparison. */
struct dref {
	const char *name;
	int position;
	enum dkind kind;
	long long n, missing;
	double *pts;              /* sorted sample (n <= DRIFT_SMALL) or quantiles */
	size_t npts;
	double std, dec[9];
	long long decn[10];
	struct dkey *vals;        /* counts, when stored */
	size_t nvals;
	int has_vals;
};

/* Reads profile JSON p into f (arena memory; strings copied). 0 or -1. */
static int
dref_parse(struct arena *a, json_t *p, struct dref *f)
{
	json_t *pts = json_object_get(p, "sample"), *v, *counts;
	size_t i;

	if (pts == NULL)
		pts = json_object_get(p, "quantiles");
	f->npts = json_array_size(pts);
	if ((f->pts = arena_alloc(a, (f->npts + 1) * sizeof(double))) == NULL)
		return -1;
	json_array_foreach(pts, i, v)
		f->pts[i] = json_number_value(v);
	f->std = json_number_value(json_object_get(p, "std"));
	for (i = 0; i < 9; i++)
		f->dec[i] = json_number_value(json_array_get(json_object_get(p, "deciles"), i));
	for (i = 0; i < 10; i++)
		f->decn[i] = json_integer_value(json_array_get(json_object_get(p,
		    "decile_counts"), i));
	counts = json_object_get(p, "counts");
	f->has_vals = json_is_array(counts);
	f->nvals = json_array_size(counts);
	if ((f->vals = arena_alloc(a, (f->nvals + 1) * sizeof(*f->vals))) == NULL)
		return -1;
	json_array_foreach(counts, i, v) {
		json_t *key = json_array_get(v, 0);

		if (json_is_string(key)) {
			f->vals[i].len = json_string_length(key);
			if ((f->vals[i].p = arena_strndup(a, json_string_value(key),
			    f->vals[i].len)) == NULL)
				return -1;
		} else
			f->vals[i].v = json_number_value(key);
		f->vals[i].n[0] = json_integer_value(json_array_get(v, 1));
	}
	return 0;
}

/* ---- reading rows: the version's spec, and its booster for the output ---- */

/* The loaded version, or NULL after answering (404 unknown, 503 database). */
static struct model *
acquire(struct req *r, const char *name, int version)
{
	char err[512], v[16];
	struct model *m;
	int status;

	snprintf(v, sizeof(v), "%d", version);
	if ((m = model_acquire(r->db, name, SEL_VERSION, v, &status, err, sizeof(err))) != NULL)
		return m;
	if (status == 404)
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "%s", err);
	else if (status == 503) {
		if (resp_header(&r->resp, "Retry-After", "1") == 0)
			resp_error(r, 503, "TEMPORARILY_UNAVAILABLE", "%s; retry in 1 s", err);
	} else
		resp_error(r, 500, "INTERNAL_ERROR", "the model could not be loaded");
	return NULL;
}

/*
 * The columns a version is profiled on: every input but datetimes (as
 * Evidently leaves datetime columns out), then the output. *map gets, per
 * input, its column or -1. Returns the column count, or -1 (arena full).
 */
static long
columns_for(struct arena *a, const struct spec *s, size_t rows, struct dcol **cols,
    long **map)
{
	size_t nin = spec_ninputs(s), nc = 0;

	*cols = arena_alloc(a, (nin + 1) * sizeof(**cols));
	*map = arena_alloc(a, (nin + 1) * sizeof(**map));
	if (*cols == NULL || *map == NULL)
		return -1;
	for (size_t i = 0; i < nin; i++) {
		const char *t = spec_input_type(s, i);

		(*map)[i] = -1;
		if (!strcmp(t, "datetime"))
			continue;
		if (col_init(a, &(*cols)[nc], spec_input_name(s, i), (int)i,
		    !strcmp(t, "category") ? DK_CATEGORY : DK_NUMBER, rows) == -1)
			return -1;
		(*map)[i] = (long)nc++;
	}
	if (col_init(a, &(*cols)[nc], "prediction", -1, spec_task(s) == SPEC_MULTICLASS ?
	    DK_CATEGORY : DK_NUMBER, rows) == -1)
		return -1;
	return (long)nc + 1;
}

/* One row's typed inputs into their columns. 0 or -1 (arena full). */
static int
add_inputs(struct arena *a, const struct spec *s, const struct spec_value *vals,
    struct dcol *cols, const long *map)
{
	for (size_t i = 0; i < spec_ninputs(s); i++) {
		struct dcol *c;

		if (map[i] < 0)
			continue;
		c = &cols[map[i]];
		if (!vals[i].present)
			c->missing++;
		else if (c->kind == DK_NUMBER)
			col_add_num(c, vals[i].num);
		else if (col_add_str(a, c, vals[i].s, vals[i].len) == -1)
			return -1;
	}
	return 0;
}

/* The booster's answer for one row, as serving logs it: value or P(positive), or the label. */
static int
add_output(struct arena *a, const struct model *m, const float *y, struct dcol *c)
{
	size_t best = 0;

	if (c->kind == DK_NUMBER) {
		if (!isfinite(y[0])) {
			c->missing++;
			return 0;
		}
		return col_add_num(c, y[0]);
	}
	for (size_t k = 1; k < m->nout; k++)
		if (y[k] > y[best])
			best = k;
	return col_add_str(a, c, spec_class_label(m->spec, best),
	    strlen(spec_class_label(m->spec, best)));
}

/* Where reference rows come from: a JSON list, or a CSV table (header in rec[0]). */
struct rowsrc {
	json_t *list;
	const struct csv_table *t;
	const long *col;          /* CSV: each header cell's input index */
};

/* Row i as a raw-field object (new reference), or NULL with why in err. */
static json_t *
row_at(const struct rowsrc *src, size_t i, char *err, size_t errlen)
{
	const struct csv_record *h, *rec;
	json_t *o;

	if (src->list != NULL) {
		o = json_array_get(src->list, i);
		if (!json_is_object(o)) {
			snprintf(err, errlen, "row %zu: must be an object of raw fields", i);
			return NULL;
		}
		return json_incref(o);
	}
	h = &src->t->rec[0];
	rec = &src->t->rec[i + 1];
	if (rec->nf != h->nf) {
		snprintf(err, errlen, "line %ld: %zu columns, the header has %zu", rec->line,
		    rec->nf, h->nf);
		return NULL;
	}
	o = json_object();
	for (size_t k = 0; k < rec->nf; k++) {
		json_t *v;

		if (rec->len[k] == 0)
			continue;          /* an empty cell is a missing value */
		if ((v = json_stringn(rec->f[k], rec->len[k])) == NULL) {
			snprintf(err, errlen, "line %ld: field '%s': not valid UTF-8", rec->line,
			    h->f[k]);
			json_decref(o);
			return NULL;
		}
		json_object_set_new(o, h->f[k], v);
	}
	return o;
}

/* "row 3" or "line 4" for messages. */
static void
row_where(const struct rowsrc *src, size_t i, char *dst, size_t len)
{
	if (src->list != NULL)
		snprintf(dst, len, "row %zu", i);
	else
		snprintf(dst, len, "line %ld", src->t->rec[i + 1].line);
}

/*
 * Reads, scores and profiles n rows, then replaces the version's reference
 * in one transaction. 0 with *out, 1 answered, -1.
 */
static int
reference_store(struct req *r, const char *name, int version, const struct rowsrc *src,
    size_t n, json_t **out)
{
	char err[SPEC_ERR_MAX], where[32], vid[24], rows[24], uid[24];
	struct model *m;
	struct dcol *cols = NULL;
	struct spec_value *vals;
	long *map = NULL, nc;
	size_t width, nin, chunk, k = 0;
	float *x, *y;
	json_t *list = NULL, *summary = NULL, *row;
	char *text = NULL;
	PGresult *res;
	int rc = -1, began = 0;

	{
		int prc = perm_require_model(r, name, PERM_EDIT);

		if (prc != 0)
			return prc;
	}
	*out = NULL;
	if ((m = acquire(r, name, version)) == NULL)
		return 1;
	width = spec_width(m->spec);
	nin = spec_ninputs(m->spec);
	chunk = width > 0 && CHUNK_FLOATS / width < CHUNK_ROWS ? CHUNK_FLOATS / width : CHUNK_ROWS;
	if (chunk == 0)
		chunk = 1;
	x = arena_alloc(r->a, chunk * width * sizeof(float) + 1);
	y = arena_alloc(r->a, chunk * m->nout * sizeof(float) + 1);
	vals = arena_alloc(r->a, (nin + 1) * sizeof(*vals));
	if (x == NULL || y == NULL || vals == NULL ||
	    (nc = columns_for(r->a, m->spec, n, &cols, &map)) < 0)
		goto toolarge;
	for (size_t i = 0; i < n; i++) {
		if ((row = row_at(src, i, err, sizeof(err))) == NULL) {
			resp_error(r, 400, "INVALID_PARAMETER_VALUE", "%s", err);
			rc = 1;
			goto out;
		}
		if (spec_read(m->spec, row, 0, x + k * width, vals, err, sizeof(err)) == -1) {
			json_decref(row);
			row_where(src, i, where, sizeof(where));
			resp_error(r, 400, "INVALID_PARAMETER_VALUE", "%s: %s", where, err);
			rc = 1;
			goto out;
		}
		if (add_inputs(r->a, m->spec, vals, cols, map) == -1) {
			json_decref(row);
			goto toolarge;
		}
		json_decref(row);
		if (++k == chunk || i + 1 == n) {
			if (model_predict(m, x, k, y) == -1)
				goto out;
			for (size_t j = 0; j < k; j++)
				if (add_output(r->a, m, y + j * m->nout, &cols[nc - 1]) == -1)
					goto toolarge;
			k = 0;
		}
	}
	list = json_array();
	summary = json_array();
	for (long c = 0; c < nc; c++) {
		json_t *p;

		col_finish(&cols[c]);
		if ((p = profile_json(r->a, &cols[c])) == NULL)
			goto toolarge;
		json_array_append_new(list, p);
		json_array_append_new(summary, json_pack("{s:s, s:s, s:I, s:I}", "name",
		    cols[c].name, "kind", kind_names[cols[c].kind], "n", (json_int_t)cols[c].n,
		    "missing", (json_int_t)cols[c].missing));
	}
	if ((text = json_dumps(list, JSON_COMPACT)) == NULL)
		goto out;
	snprintf(vid, sizeof(vid), "%lld", m->version_id);
	snprintf(rows, sizeof(rows), "%zu", n);
	snprintf(uid, sizeof(uid), "%lld", r->user.id);
	if (db_command(r->db, "BEGIN") == -1)
		goto out;
	began = 1;
	{
		const char *dv[1] = { vid }, *iv[3] = { vid, rows, uid }, *pv[2] = { vid, text };

		if ((res = db_exec(r->db, STMT_DRIFT_REF_DELETE, 1, dv)) == NULL)
			goto out;
		PQclear(res);
		if ((res = db_exec(r->db, STMT_DRIFT_REF_INSERT, 3, iv)) == NULL)
			goto out;
		PQclear(res);
		if ((res = db_exec(r->db, STMT_DRIFT_PROFILES_INSERT, 2, pv)) == NULL)
			goto out;
		PQclear(res);
	}
	if (db_command(r->db, "COMMIT") == -1) {
		began = 0;
		goto out;
	}
	began = 0;
	*out = json_pack("{s:s, s:i, s:I, s:O}", "model", m->name, "version", m->version,
	    "rows", (json_int_t)n, "columns", summary);
	rc = *out != NULL ? 0 : -1;
	goto out;
toolarge:
	resp_error(r, 413, "PAYLOAD_TOO_LARGE", "the reference is too large for one request; "
	    "send fewer rows");
	rc = 1;
out:
	if (began)
		db_rollback(r->db);
	if (rc == -1 && r->resp.status == 0 && !db_lost(r->db))
		log_msg("error", "drift reference: %s", db_errmsg(r->db));
	free(text);
	json_decref(list);
	json_decref(summary);
	model_release(m);
	return rc;
}

int
drift_reference_json(struct req *r, const char *name, int version, json_t *list,
    json_t **out)
{
	struct rowsrc src = { list, NULL, NULL };

	*out = NULL;
	if (!json_is_array(list) || json_array_size(list) == 0) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "the body must be a non-empty "
		    "JSON list of raw-row objects (or text/csv with a header)");
		return 1;
	}
	if (json_array_size(list) > DRIFT_MAX_ROWS) {
		resp_error(r, 413, "PAYLOAD_TOO_LARGE", "%zu rows; a reference takes at most %d",
		    json_array_size(list), DRIFT_MAX_ROWS);
		return 1;
	}
	return reference_store(r, name, version, &src, json_array_size(list), out);
}

int
drift_reference_csv(struct req *r, const char *name, int version, const char *body,
    size_t len, json_t **out)
{
	struct csv_table t;
	struct rowsrc src = { NULL, &t, NULL };
	char err[200];
	int rc = csv_table_parse(r->a, body, len, DRIFT_MAX_ROWS, &t, err, sizeof(err));

	*out = NULL;
	if (rc == -2) {
		resp_error(r, 413, "PAYLOAD_TOO_LARGE", "more than %d rows; a reference takes at "
		    "most %d", DRIFT_MAX_ROWS, DRIFT_MAX_ROWS);
		return 1;
	}
	if (rc == -3)
		return -1;
	if (rc == -1) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "%s", err);
		return 1;
	}
	if (t.n < 2) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", t.n == 0 ? "the CSV is empty" :
		    "the CSV has a header but no rows");
		return 1;
	}
	/* Header cells must be distinct; unknown names are refused by the spec per row,
	 * but a duplicate would silently keep one of two values. */
	for (size_t a = 0; a < t.rec[0].nf; a++)
		for (size_t b = 0; b < a; b++)
			if (!strcmp(t.rec[0].f[a], t.rec[0].f[b])) {
				resp_error(r, 400, "INVALID_PARAMETER_VALUE", "line 1: column '%.100s' "
				    "appears twice in the header", t.rec[0].f[a]);
				return 1;
			}
	return reference_store(r, name, version, &src, t.n - 1, out);
}

/* ---- comparison ---- */

/* Merges reference keys (n[0]) with current keys (n[1]); both sorted. Arena memory. */
static struct dkey *
keys_union(struct arena *a, const struct dkey *r, size_t nr, const struct dkey *c,
    size_t nc, size_t *nk)
{
	struct dkey *k = arena_alloc(a, (nr + nc + 1) * sizeof(*k));
	size_t i = 0, j = 0, m = 0;

	if (k == NULL)
		return NULL;
	while (i < nr || j < nc) {
		int cmp = i >= nr ? 1 : j >= nc ? -1 : key_cmp(&r[i], &c[j]);

		if (cmp < 0)
			k[m] = r[i++];
		else if (cmp > 0) {
			k[m] = c[j++];
			k[m].n[0] = 0;
		} else {
			k[m] = r[i++];
			k[m].n[1] = c[j++].n[1];
		}
		if (cmp < 0)
			k[m].n[1] = 0;
		m++;
	}
	*nk = m;
	return k;
}

static json_t *
shares_json(const double *p, size_t k)
{
	return num_list(p, k);
}

/* Histogram of keys: the HIST_CATS most frequent (both samples), the rest as "(other)". */
static json_t *
hist_keys(struct arena *a, const struct dkey *k, size_t nk, double nr, double nc)
{
	size_t *idx = arena_alloc(a, (nk + 1) * sizeof(*idx)), shown;
	json_t *labels = json_array(), *rs = json_array(), *cs = json_array();
	double orest = 0, crest = 0;

	if (idx == NULL)
		goto fail;
	for (size_t i = 0; i < nk; i++)
		idx[i] = i;
	/* Selection of the largest by combined share; nk is small in practice. */
	shown = nk < HIST_CATS ? nk : HIST_CATS;
	for (size_t i = 0; i < shown; i++) {
		size_t best = i;

		for (size_t j = i + 1; j < nk; j++)
			if (k[idx[j]].n[0] / nr + k[idx[j]].n[1] / nc >
			    k[idx[best]].n[0] / nr + k[idx[best]].n[1] / nc)
				best = j;
		size_t t = idx[i];
		idx[i] = idx[best];
		idx[best] = t;
	}
	for (size_t i = 0; i < nk; i++) {
		const struct dkey *e = &k[idx[i]];

		if (i >= shown) {
			orest += e->n[0] / nr;
			crest += e->n[1] / nc;
			continue;
		}
		json_array_append_new(labels, e->p != NULL ? json_stringn(e->p, e->len) :
		    json_sprintf("%.6g", e->v));
		json_array_append_new(rs, json_number_or_null(e->n[0] / nr));
		json_array_append_new(cs, json_number_or_null(e->n[1] / nc));
	}
	if (nk > shown) {
		json_array_append_new(labels, json_string("(other)"));
		json_array_append_new(rs, json_number_or_null(orest));
		json_array_append_new(cs, json_number_or_null(crest));
	}
	return json_pack("{s:o, s:o, s:o}", "labels", labels, "reference", rs, "current", cs);
fail:
	json_decref(labels);
	json_decref(rs);
	json_decref(cs);
	return NULL;
}

/* Equal-width histogram over both samples' range; ref points each weigh 1/npts. */
static json_t *
hist_numbers(const double *rp, size_t nr, const double *cx, size_t nc)
{
	double lo = rp[0] < cx[0] ? rp[0] : cx[0];
	double hi = rp[nr - 1] > cx[nc - 1] ? rp[nr - 1] : cx[nc - 1];
	double rs[HIST_BINS] = { 0 }, cs[HIST_BINS] = { 0 }, edges[HIST_BINS + 1];
	int bins = hi > lo ? HIST_BINS : 1;

	for (int b = 0; b <= bins; b++)
		edges[b] = bins == 1 ? (b ? hi : lo) : lo + (hi - lo) * b / bins;
	for (size_t i = 0; i < nr; i++) {
		int b = bins == 1 ? 0 : (int)((rp[i] - lo) / (hi - lo) * bins);

		rs[b < bins ? b : bins - 1] += 1.0 / (double)nr;
	}
	for (size_t i = 0; i < nc; i++) {
		int b = bins == 1 ? 0 : (int)((cx[i] - lo) / (hi - lo) * bins);

		cs[b < bins ? b : bins - 1] += 1.0 / (double)nc;
	}
	return json_pack("{s:o, s:o, s:o}", "edges", num_list(edges, (size_t)bins + 1),
	    "reference", shares_json(rs, (size_t)bins), "current", shares_json(cs,
	    (size_t)bins));
}

/*
 * Compares one column with its reference by Evidently's default rule and
 * adds PSI; *tested and *drifted say whether a test ran and flagged drift.
 * NULL when out of memory.
 */
static json_t *
compare(struct arena *a, const struct dref *f, struct dcol *c, int *tested, int *drifted)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I}", "name", f->name, "kind",
	    kind_names[f->kind], "reference_n", (json_int_t)f->n, "current_n",
	    (json_int_t)c->n, "current_missing", (json_int_t)c->missing);
	struct dkey *ck = NULL, *keys = NULL;
	size_t nck = 0, nk = 0;
	double nr = (double)f->n, ncur = (double)c->n;
	const char *test = NULL;
	double stat = NAN, p = NAN, dist = NAN, thr = NAN, psi;
	int cat, drift = 0;

	*tested = *drifted = 0;
	if (o == NULL)
		return NULL;
	col_finish(c);
	if (f->n == 0 || c->n == 0 || (f->kind == DK_NUMBER && f->npts == 0)) {
		json_object_set_new(o, "test", json_null());
		json_object_set_new(o, "note", json_string(f->n == 0 ? "no values in the "
		    "reference" : "no values in the window"));
		json_object_set_new(o, "drifted", json_false());
		return o;
	}
	if (f->has_vals) {
		if ((ck = col_keys(a, c, 1, c->n, &nck)) == NULL ||
		    (keys = keys_union(a, f->vals, f->nvals, ck, nck, &nk)) == NULL)
			goto fail;
	}
	/* Numbers with few distinct values (both samples) are tested as categories. */
	cat = f->kind == DK_CATEGORY || (f->has_vals && nk <= DRIFT_LOW_CARD);
	if (cat && f->n <= DRIFT_SMALL && nk > 2) {
		double knorm = ncur / nr, x2 = 0;
		int inf = 0;

		test = "chisquare";
		for (size_t i = 0; i < nk; i++) {
			double e = (double)keys[i].n[0] * knorm, d = (double)keys[i].n[1] - e;

			if (e == 0)
				inf = 1;
			else
				x2 += d * d / e;
		}
		stat = inf ? INFINITY : x2;
		p = inf ? 0 : drift_chi2_sf(x2, (double)(nk - 1));
		thr = DRIFT_P_THRESHOLD;
		drift = p < thr;
	} else if (cat && f->n <= DRIFT_SMALL) {
		test = "z";
		if (nk < 2) {
			stat = 0;
			p = 1;
		} else {
			stat = drift_z_statistic((double)keys[1].n[0], nr, (double)keys[1].n[1], ncur);
			p = drift_z_pvalue(stat);
		}
		thr = DRIFT_P_THRESHOLD;
		drift = p < thr;
	} else if (cat) {
		double *rp = arena_alloc(a, (nk + 1) * sizeof(double));
		double *cp = arena_alloc(a, (nk + 1) * sizeof(double));

		if (rp == NULL || cp == NULL)
			goto fail;
		test = "jensenshannon";
		for (size_t i = 0; i < nk; i++) {
			rp[i] = (double)keys[i].n[0] / nr;
			cp[i] = (double)keys[i].n[1] / ncur;
		}
		drift_fill_zeros(rp, nk);
		drift_fill_zeros(cp, nk);
		stat = dist = drift_js_distance(rp, cp, nk);
		thr = DRIFT_D_THRESHOLD;
		drift = dist >= thr;
	} else if (f->n <= DRIFT_SMALL) {
		test = "ks";
		stat = drift_ks_statistic(f->pts, f->npts, c->x, c->n);
		p = drift_ks_pvalue(stat, f->npts, c->n);
		thr = DRIFT_P_THRESHOLD;
		drift = p < thr;
	} else {
		double norm = f->std > WASSERSTEIN_MIN_STD ? f->std : WASSERSTEIN_MIN_STD;

		test = "wasserstein";
		stat = dist = drift_wasserstein(f->pts, f->npts, c->x, c->n) / norm;
		thr = DRIFT_D_THRESHOLD;
		drift = dist >= thr;
	}

	/* PSI: over the values when they were counted, else over the reference's deciles. */
	if (f->has_vals || f->kind == DK_CATEGORY) {
		double *rp, *cp;

		if (keys == NULL && ((ck = col_keys(a, c, 1, c->n, &nck)) == NULL ||
		    (keys = keys_union(a, f->vals, f->nvals, ck, nck, &nk)) == NULL))
			goto fail;
		rp = arena_alloc(a, (nk + 1) * sizeof(double));
		cp = arena_alloc(a, (nk + 1) * sizeof(double));
		if (rp == NULL || cp == NULL)
			goto fail;
		for (size_t i = 0; i < nk; i++) {
			rp[i] = (double)keys[i].n[0] / nr;
			cp[i] = (double)keys[i].n[1] / ncur;
		}
		drift_fill_zeros(rp, nk);
		drift_fill_zeros(cp, nk);
		psi = drift_psi(rp, cp, nk);
		json_object_set_new(o, "histogram", hist_keys(a, keys, nk, nr, ncur));
	} else {
		double rp[10], cp[10] = { 0 };

		for (int b = 0; b < 10; b++)
			rp[b] = (double)f->decn[b] / nr;
		for (size_t i = 0; i < c->n; i++)
			cp[decile_bin(f->dec, c->x[i])] += 1;
		for (int b = 0; b < 10; b++)
			cp[b] /= ncur;
		drift_fill_zeros(rp, 10);
		drift_fill_zeros(cp, 10);
		psi = drift_psi(rp, cp, 10);
		json_object_set_new(o, "histogram", hist_numbers(f->pts, f->npts, c->x, c->n));
	}
	*tested = 1;
	*drifted = drift;
	json_object_set_new(o, "test", json_string(test));
	json_object_set_new(o, "statistic", json_number_or_null(stat));
	json_object_set_new(o, "p_value", json_number_or_null(p));
	json_object_set_new(o, "distance", json_number_or_null(dist));
	json_object_set_new(o, "threshold", json_number_or_null(thr));
	json_object_set_new(o, "drifted", json_boolean(drift));
	json_object_set_new(o, "psi", json_number_or_null(psi));
	json_object_set_new(o, "psi_drifted", json_boolean(psi >= DRIFT_PSI_THRESHOLD));
	return o;
fail:
	json_decref(o);
	return NULL;
}

static json_t *
window_name(int hours)
{
	return hours % 24 == 0 ? json_sprintf("%dd", hours / 24) : json_sprintf("%dh", hours);
}

/* The report object drift_run and drift_get answer with; detail is stolen. */
static json_t *
report_obj(long long id, int version, const char *created_at, int hours, long ref_rows,
    long cur_rows, int nf, int nd, double share, int dataset, int prediction,
    json_t *detail)
{
	json_t *o = json_pack("{s:I, s:i, s:s, s:o, s:i, s:I, s:I, s:i, s:i, s:o, s:b}",
	    "report_id", (json_int_t)id, "version", version, "created_at", created_at,
	    "window", window_name(hours), "window_hours", hours, "reference_rows",
	    (json_int_t)ref_rows, "current_rows", (json_int_t)cur_rows, "n_features", nf,
	    "n_drifted", nd, "share", json_number_or_null(share), "dataset_drift", dataset);

	if (o == NULL) {
		json_decref(detail);
		return NULL;
	}
	json_object_set_new(o, "prediction_drift", prediction < 0 ? json_null() :
	    json_boolean(prediction));
	json_object_set(o, "features", json_object_get(detail, "features") != NULL ?
	    json_object_get(detail, "features") : json_array());
	json_object_set(o, "prediction", json_object_get(detail, "prediction") != NULL ?
	    json_object_get(detail, "prediction") : json_null());
	json_decref(detail);
	return o;
}

/*
 * One version's comparison: read the reference and the window's newest
 * predictions, test each column, store the report (and the event when the
 * dataset drifted). 0 with *report or with *skip (a reason), 1 answered, -1.
 */
static int
run_version(struct req *r, const char *name, long long vid, int version, long ref_rows,
    int hours, json_t **report, const char **skip)
{
	char vids[24], hrs[16], lim[16], uid[24], ids[24];
	const char *vals[11];
	PGresult *prof = NULL, *cur = NULL, *res = NULL;
	struct model *m = NULL;
	struct dcol *cols = NULL;
	struct spec_value *sv;
	long *map = NULL, nc;
	size_t ncur, unread = 0;
	json_t *features = NULL, *pred = NULL, *detail = NULL, *ev = NULL;
	char *dtext = NULL, *etext = NULL;
	int nf = 0, nd = 0, pdrift = -1, rc = -1, began = 0;
	double share;

	*report = NULL;
	*skip = NULL;
	snprintf(vids, sizeof(vids), "%lld", vid);
	snprintf(hrs, sizeof(hrs), "%d", hours);
	snprintf(lim, sizeof(lim), "%d", DRIFT_CURRENT_MAX);
	vals[0] = vids;
	vals[1] = hrs;
	vals[2] = lim;
	if ((cur = db_exec(r->db, STMT_DRIFT_CURRENT, 3, vals)) == NULL)
		goto out;
	if ((ncur = (size_t)PQntuples(cur)) == 0) {
		*skip = "no predictions in the window";
		rc = 0;
		goto out;
	}
	if ((prof = db_exec(r->db, STMT_DRIFT_PROFILES, 1, vals)) == NULL)
		goto out;
	if ((m = acquire(r, name, version)) == NULL) {
		rc = 1;
		goto out;
	}
	sv = arena_alloc(r->a, (spec_ninputs(m->spec) + 1) * sizeof(*sv));
	if (sv == NULL || (nc = columns_for(r->a, m->spec, ncur, &cols, &map)) < 0)
		goto toolarge;
	for (size_t i = 0; i < ncur; i++) {
		char err[SPEC_ERR_MAX];
		json_t *in = json_loads(PQgetvalue(cur, (int)i, 0), 0, NULL);
		json_t *o = json_loads(PQgetvalue(cur, (int)i, 1), 0, NULL);
		struct dcol *pc = &cols[nc - 1];
		json_t *v;
		int bad;

		/* Logged rows were read by this spec when they were served: lax, and
		 * a row that no longer reads (it cannot, short of a bug) is counted. */
		bad = in == NULL || spec_read(m->spec, in, 1, NULL, sv, err, sizeof(err)) == -1;
		if (!bad && add_inputs(r->a, m->spec, sv, cols, map) == -1)
			bad = -1;
		if (!bad && pc->kind == DK_NUMBER) {
			v = json_object_get(o, "value");
			if (json_is_number(v))
				col_add_num(pc, json_number_value(v));
			else
				pc->missing++;
		} else if (!bad) {
			v = json_object_get(o, "label");
			if (json_is_string(v)) {
				if (col_add_str(r->a, pc, json_string_value(v),
				    json_string_length(v)) == -1)
					bad = -1;
			} else
				pc->missing++;
		}
		json_decref(in);
		json_decref(o);
		if (bad == -1)
			goto toolarge;
		unread += bad;
	}
	features = json_array();
	for (int i = 0; i < PQntuples(prof); i++) {
		struct dref f;
		json_t *pj = json_loads(PQgetvalue(prof, i, 5), 0, NULL), *fo;
		struct dcol *c = NULL;
		int t, d;

		memset(&f, 0, sizeof(f));
		f.position = atoi(PQgetvalue(prof, i, 0));
		f.name = PQgetvalue(prof, i, 1);
		f.kind = !strcmp(PQgetvalue(prof, i, 2), "category") ? DK_CATEGORY : DK_NUMBER;
		f.n = atoll(PQgetvalue(prof, i, 3));
		f.missing = atoll(PQgetvalue(prof, i, 4));
		if (pj == NULL || dref_parse(r->a, pj, &f) == -1) {
			json_decref(pj);
			goto toolarge;
		}
		json_decref(pj);
		if (f.position < 0)
			c = &cols[nc - 1];
		else {
			long idx = spec_input_index(m->spec, f.name);

			if (idx >= 0 && map[idx] >= 0)
				c = &cols[map[idx]];
		}
		if (c == NULL || c->kind != f.kind)
			continue;
		if ((fo = compare(r->a, &f, c, &t, &d)) == NULL)
			goto toolarge;
		if (f.position < 0) {
			pred = fo;
			pdrift = t ? d : -1;
		} else {
			json_array_append_new(features, fo);
			nf += t;
			nd += d;
		}
	}
	share = nf > 0 ? (double)nd / nf : 0;
	detail = json_pack("{s:O, s:O, s:I}", "features", features, "prediction",
	    pred != NULL ? pred : json_null(), "unreadable_rows", (json_int_t)unread);
	if (detail == NULL || (dtext = json_dumps(detail, JSON_COMPACT)) == NULL)
		goto out;
	{
		char rr[24], cr[24], nfs[16], nds[16], sh[32];

		snprintf(rr, sizeof(rr), "%ld", ref_rows);
		snprintf(cr, sizeof(cr), "%zu", ncur);
		snprintf(nfs, sizeof(nfs), "%d", nf);
		snprintf(nds, sizeof(nds), "%d", nd);
		snprintf(sh, sizeof(sh), "%.17g", share);
		snprintf(uid, sizeof(uid), "%lld", r->user.id);
		vals[0] = vids;
		vals[1] = hrs;
		vals[2] = rr;
		vals[3] = cr;
		vals[4] = nfs;
		vals[5] = nds;
		vals[6] = sh;
		vals[7] = nf > 0 && share >= DRIFT_SHARE ? "true" : "false";
		vals[8] = pdrift < 0 ? NULL : pdrift ? "true" : "false";
		vals[9] = dtext;
		vals[10] = uid;
		if (db_command(r->db, "BEGIN") == -1)
			goto out;
		began = 1;
		if ((res = db_exec(r->db, STMT_DRIFT_REPORT_INSERT, 11, vals)) == NULL)
			goto out;
		snprintf(ids, sizeof(ids), "%s", PQgetvalue(res, 0, 0));
		/* The alert interface: webhook delivery tails events. */
		if (nf > 0 && share >= DRIFT_SHARE) {
			const char *evals[4] = { "drift.detected", uid, name, NULL };
			PGresult *e;

			ev = json_pack("{s:s, s:i, s:I, s:f}", "model", name, "version", version,
			    "report_id", (json_int_t)atoll(ids), "share", share);
			if (ev == NULL || (etext = json_dumps(ev, JSON_COMPACT)) == NULL)
				goto out;
			evals[3] = etext;
			if (r->user.id == 0)
				evals[1] = NULL;
			if ((e = db_exec(r->db, STMT_EVENT_INSERT, 4, evals)) == NULL)
				goto out;
			PQclear(e);
		}
		if (db_command(r->db, "COMMIT") == -1) {
			began = 0;
			goto out;
		}
		began = 0;
		*report = report_obj(atoll(ids), version, PQgetvalue(res, 0, 1), hours, ref_rows,
		    (long)ncur, nf, nd, share, nf > 0 && share >= DRIFT_SHARE, pdrift,
		    json_incref(detail));
		rc = *report != NULL ? 0 : -1;
	}
	goto out;
toolarge:
	resp_error(r, 413, "PAYLOAD_TOO_LARGE", "the comparison did not fit in one request's "
	    "memory");
	rc = 1;
out:
	if (began)
		db_rollback(r->db);
	if (rc == -1 && r->resp.status == 0 && !db_lost(r->db))
		log_msg("error", "drift run: %s", db_errmsg(r->db));
	free(dtext);
	free(etext);
	json_decref(ev);
	json_decref(detail);
	json_decref(features);
	json_decref(pred);
	PQclear(res);
	PQclear(prof);
	PQclear(cur);
	model_release(m);
	return rc;
}

/* 1 when model name exists; 0 after answering 404; -1. */
static int
model_known(struct req *r, const char *name)
{
	const char *vals[1] = { name };
	PGresult *res = db_exec(r->db, STMT_MODEL_EXISTS, 1, vals);
	int n;

	if (res == NULL)
		return -1;
	n = PQntuples(res);
	PQclear(res);
	if (n == 0)
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "model '%.100s' does not exist",
		    name);
	return n > 0;
}

int
drift_run(struct req *r, const char *name, int version, const char *window, json_t **out)
{
	char vbuf[16];
	const char *vals[2] = { name, vbuf };
	int hours = drift_window_hours(window), known, rc = -1, any = 0;
	PGresult *refs = NULL;
	json_t *reports = NULL, *skipped = NULL;

	*out = NULL;
	/* Running a check reads the model's predictions: READ, like the quality page. */
	{
		int prc = perm_require_model(r, name, PERM_READ);

		if (prc != 0)
			return prc;
	}
	if (hours < 0) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "field 'window': expected hours or "
		    "days like '24h' or '7d', at most 365d; got '%.20s'", window);
		return 1;
	}
	if ((known = model_known(r, name)) <= 0)
		return known == 0 ? 1 : -1;
	snprintf(vbuf, sizeof(vbuf), "%d", version);
	if (version > 0) {
		PGresult *v = db_exec(r->db, STMT_MODEL_RESOLVE_VERSION, 2, vals);
		int n = v != NULL ? PQntuples(v) : -1;

		PQclear(v);
		if (n < 0)
			return -1;
		if (n == 0) {
			resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "model '%.100s' has no "
			    "version %d", name, version);
			return 1;
		}
	}
	if ((refs = db_exec(r->db, STMT_DRIFT_REF_VERSIONS, 2, vals)) == NULL)
		return -1;
	if (PQntuples(refs) == 0) {
		PQclear(refs);
		if (version > 0)
			resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "version %d of model '%.100s' "
			    "has no reference profile; upload one with POST /api/models/{name}/"
			    "versions/%d/reference or 'verdict model reference'", version, name,
			    version);
		else
			resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "no version of model '%.100s' "
			    "has a reference profile; upload one with POST /api/models/{name}/"
			    "versions/{v}/reference or 'verdict model reference'", name);
		return 1;
	}
	reports = json_array();
	skipped = json_array();
	for (int i = 0; i < PQntuples(refs); i++) {
		json_t *rep;
		const char *why;
		int ver = atoi(PQgetvalue(refs, i, 1));

		rc = run_version(r, name, atoll(PQgetvalue(refs, i, 0)), ver,
		    atol(PQgetvalue(refs, i, 3)), hours, &rep, &why);
		if (rc != 0)
			goto out;
		if (rep != NULL) {
			any |= json_is_true(json_object_get(rep, "dataset_drift"));
			json_array_append_new(reports, rep);
		} else
			json_array_append_new(skipped, json_pack("{s:i, s:s}", "version", ver,
			    "reason", why));
	}
	*out = json_pack("{s:s, s:o, s:O, s:O, s:b}", "model", name, "window",
	    window_name(hours), "reports", reports, "skipped", skipped, "dataset_drift", any);
	rc = *out != NULL ? 0 : -1;
out:
	json_decref(reports);
	json_decref(skipped);
	PQclear(refs);
	return rc;
}

int
drift_get(struct req *r, const char *name, json_t **out)
{
	const char *vals[2] = { name, "0" };
	PGresult *res = NULL;
	json_t *reports = NULL, *history = NULL, *refs = NULL;
	int known, rc = -1;

	*out = NULL;
	if ((rc = perm_require_model(r, name, PERM_READ)) != 0)
		return rc;
	rc = -1;
	if ((known = model_known(r, name)) <= 0)
		return known == 0 ? 1 : -1;
	if ((res = db_exec(r->db, STMT_DRIFT_LATEST, 1, vals)) == NULL)
		goto out;
	reports = json_array();
	for (int i = 0; i < PQntuples(res); i++) {
		json_t *detail = json_loads(PQgetvalue(res, i, 11), 0, NULL), *o;

		o = report_obj(atoll(PQgetvalue(res, i, 0)), atoi(PQgetvalue(res, i, 1)),
		    PQgetvalue(res, i, 2), atoi(PQgetvalue(res, i, 3)), atol(PQgetvalue(res, i, 4)),
		    atol(PQgetvalue(res, i, 5)), atoi(PQgetvalue(res, i, 6)),
		    atoi(PQgetvalue(res, i, 7)), strtod(PQgetvalue(res, i, 8), NULL),
		    !strcmp(PQgetvalue(res, i, 9), "t"), PQgetisnull(res, i, 10) ? -1 :
		    !strcmp(PQgetvalue(res, i, 10), "t"), detail != NULL ? detail : json_object());
		if (o == NULL)
			goto out;
		json_array_append_new(reports, o);
	}
	PQclear(res);
	if ((res = db_exec(r->db, STMT_DRIFT_HISTORY, 1, vals)) == NULL)
		goto out;
	history = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(history, json_pack("{s:I, s:i, s:s, s:o, s:b}",
		    "report_id", (json_int_t)atoll(PQgetvalue(res, i, 0)), "version",
		    atoi(PQgetvalue(res, i, 1)), "created_at", PQgetvalue(res, i, 2), "share",
		    json_number_or_null(strtod(PQgetvalue(res, i, 3), NULL)), "dataset_drift",
		    !strcmp(PQgetvalue(res, i, 4), "t")));
	PQclear(res);
	if ((res = db_exec(r->db, STMT_DRIFT_REF_VERSIONS, 2, vals)) == NULL)
		goto out;
	refs = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(refs, json_pack("{s:i, s:s, s:I, s:s}", "version",
		    atoi(PQgetvalue(res, i, 1)), "stage", PQgetvalue(res, i, 2), "rows",
		    (json_int_t)atoll(PQgetvalue(res, i, 3)), "created_at",
		    PQgetvalue(res, i, 4)));
	*out = json_pack("{s:s, s:O, s:O, s:O}", "model", name, "reports", reports,
	    "history", history, "references", refs);
	rc = *out != NULL ? 0 : -1;
out:
	PQclear(res);
	json_decref(reports);
	json_decref(history);
	json_decref(refs);
	return rc;
}
