/* feedback.c: truths reported for past predictions, the hourly quality aggregates they move, and the reads over both. */
#include "feedback.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "csvtab.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "perm.h"

#define ARRAY_CAP (64u << 20)     /* a Postgres array literal of one batch */
#define LOGLOSS_EPS 1e-15

const char *const quality_windows[] = { "24h", "7d", "30d", "all", NULL };

/* ---- helpers ---- */

/* The text of a finished array literal, "{...}", in arena memory. */
static const char *
arr_done(struct req *r, struct buf *b)
{
	char *s = arena_alloc(r->a, b->len + 3);

	if (s == NULL)
		return NULL;
	s[0] = '{';
	memcpy(s + 1, buf_str(b), b->len);
	s[b->len + 1] = '}';
	s[b->len + 2] = '\0';
	return s;
}

/* The classes array of a spec as parsed JSON ([] for regression); new reference. */
static json_t *
classes_of(const char *text)
{
	json_t *c = json_loads(text, 0, NULL);

	if (!json_is_array(c)) {
		json_decref(c);
		c = json_array();
	}
	return c;
}

/* "a, b, c" (cut with "..." past ~200 bytes) for messages listing the classes. */
static void
class_list(json_t *classes, char *dst, size_t len)
{
	size_t i, off = 0;
	json_t *c;

	dst[0] = '\0';
	json_array_foreach(classes, i, c) {
		int n = snprintf(dst + off, len - off, "%s%s", i ? ", " : "",
		    json_string_value(c) != NULL ? json_string_value(c) : "");

		if (n < 0 || (size_t)n >= len - off || off + n > 200) {
			snprintf(dst + off, len - off, "%s...", i ? ", " : "");
			return;
		}
		off += (size_t)n;
	}
}

/*
 * The truth as the version's task wants it: *num for regression, *label
 * (a class from classes) for classification. 0, or -1 with the reason.
 */
static int
truth_parse(json_t *t, const char *task, json_t *classes, double *num,
    const char **label, char *err, size_t errlen)
{
	char text[64], list[240];
	const char *s = NULL;
	size_t i;
	json_t *c;

	if (!strcmp(task, "regression")) {
		char *end;

		if (json_is_number(t))
			*num = json_number_value(t);
		else if (json_is_string(t) && json_string_length(t) > 0 &&
		    json_string_length(t) < 64) {
			*num = strtod(json_string_value(t), &end);
			if (*end != '\0')
				goto nan;
		} else
			goto nan;
		if (!isfinite(*num))
			goto nan;
		return 0;
nan:
		snprintf(err, errlen, "true_value must be a finite number for a regression model");
		return -1;
	}
	if (json_is_string(t))
		s = json_string_value(t);
	else if (json_is_integer(t)) {
		snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(t));
		s = text;
	} else if (json_is_real(t)) {
		snprintf(text, sizeof(text), "%.17g", json_real_value(t));
		s = text;
	} else if (json_is_boolean(t) && json_array_size(classes) == 2) {
		*label = json_string_value(json_array_get(classes, json_is_true(t)));
		return 0;
	}
	if (s != NULL) {
		json_array_foreach(classes, i, c)
			if (json_string_value(c) != NULL && !strcmp(json_string_value(c), s)) {
				*label = json_string_value(c);
				return 0;
			}
		/* An integer names a class by index when no label reads the same. */
		if (json_is_integer(t) && json_integer_value(t) >= 0 &&
		    (size_t)json_integer_value(t) < json_array_size(classes)) {
			*label = json_string_value(json_array_get(classes,
			    (size_t)json_integer_value(t)));
			return 0;
		}
	}
	class_list(classes, list, sizeof(list));
	if (s != NULL)
		snprintf(err, errlen, "true_value '%.60s' is not a class of this model; "
		    "expected one of: %s", s, list);
	else
		snprintf(err, errlen, "true_value must be a class label; expected one of: %s",
		    list);
	return -1;
}

/* JSON of a stored truth: number or label. */
static json_t *
truth_json(PGresult *res, int row, int numcol, int labelcol)
{
	if (!PQgetisnull(res, row, labelcol))
		return json_string(PQgetvalue(res, row, labelcol));
	if (!PQgetisnull(res, row, numcol))
		return json_number_or_null(strtod(PQgetvalue(res, row, numcol), NULL));
	return json_null();
}

/* ---- submit ---- */

/* A prediction locked for the batch, and its current truth. */
struct prow {
	long long id, vid;
	const char *at, *hour, *task, *model;
	json_t *output, *classes;
	int has_old;
	long long old_fb, old_user;
	double old_num;
	const char *old_label;
};

/* One signed contribution to a quality bucket. */
struct delta {
	long long vid;
	const char *hour;
	long long verified, correct;
	double err, abs_err, sq_err, y, y2, logloss;
};

struct cdelta {
	long long vid;
	const char *hour, *actual, *predicted;
	long long n;
};

static int
prow_cmp(const void *a, const void *b)
{
	long long x = ((const struct prow *)a)->id, y = ((const struct prow *)b)->id;

	return x < y ? -1 : x > y;
}

static int
delta_cmp(const void *a, const void *b)
{
	const struct delta *x = a, *y = b;

	if (x->vid != y->vid)
		return x->vid < y->vid ? -1 : 1;
	return strcmp(x->hour, y->hour);
}

static int
cdelta_cmp(const void *a, const void *b)
{
	const struct cdelta *x = a, *y = b;
	int c;

	if (x->vid != y->vid)
		return x->vid < y->vid ? -1 : 1;
	if ((c = strcmp(x->hour, y->hour)) != 0)
		return c;
	if ((c = strcmp(x->actual, y->actual)) != 0)
		return c;
	return strcmp(x->predicted, y->predicted);
}

/*
 * What one truth adds to (sign 1) or takes from (sign -1) its prediction's
 * bucket; the confusion cell goes to *cd for classification (else cd->n = 0).
 */
static void
contribution(const struct prow *p, double num, const char *label, int sign,
    struct delta *d, struct cdelta *cd)
{
	memset(d, 0, sizeof(*d));
	memset(cd, 0, sizeof(*cd));
	d->vid = cd->vid = p->vid;
	d->hour = cd->hour = p->hour;
	if (!strcmp(p->task, "regression")) {
		double pred = json_number_value(json_object_get(p->output, "value"));
		double e = pred - num;

		d->err = sign * e;
		d->abs_err = sign * fabs(e);
		d->sq_err = sign * e * e;
		d->y = sign * num;
		d->y2 = sign * num * num;
	} else {
		const char *pl = json_string_value(json_object_get(p->output, "label"));
		double pt = json_number_value(json_object_get(json_object_get(p->output,
		    "probabilities"), label));

		if (pl == NULL)
			pl = "";
		if (pt < LOGLOSS_EPS)
			pt = LOGLOSS_EPS;
		if (pt > 1 - LOGLOSS_EPS)
			pt = 1 - LOGLOSS_EPS;
		d->correct = sign * !strcmp(pl, label);
		d->logloss = sign * -log(pt);
		cd->actual = label;
		cd->predicted = pl;
		cd->n = sign;
	}
}

/* The feedback row's score: the regression prediction or P(positive class). */
static int
score_of(const struct prow *p, double *score)
{
	if (!strcmp(p->task, "regression") || !strcmp(p->task, "binary")) {
		*score = json_number_value(json_object_get(p->output, "value"));
		return 1;
	}
	return 0;
}

/* Runs a statement inside the batch transaction; NULL on failure. */
static PGresult *
tx(struct req *r, enum stmt s, int n, const char *const *vals)
{
	return db_exec(r->db, s, n, vals);
}

int
feedback_submit(struct req *r, const struct fb_item *items, size_t n,
    const char *source, int atomic, struct fb_result *res, size_t *accepted)
{
	struct buf ids, a[10];
	const char *vals[10];
	struct prow *rows = NULL;
	struct delta *ds = NULL;
	struct cdelta *cds = NULL;
	size_t nrows = 0, nd = 0, ncd = 0, nok = 0, nins = 0, nold = 0, nnew = 0;
	PGresult *pr = NULL, *cur = NULL, *x;
	char uid[24];
	int rc = -1, began = 0;

	*accepted = 0;
	buf_init(&ids, ARRAY_CAP);
	for (size_t k = 0; k < 10; k++)
		buf_init(&a[k], ARRAY_CAP);
	for (size_t i = 0; i < n; i++)
		if (res[i].status == 0 && items[i].prediction_id > 0 &&
		    pgarr_int(&ids, items[i].prediction_id) == -1)
			goto out;
	if ((vals[0] = arr_done(r, &ids)) == NULL)
		goto out;
	if (db_command(r->db, "BEGIN") == -1)
		goto out;
	began = 1;
	/* Lock the predictions in id order (no deadlock between batches), then
	 * read their current truths in a fresh snapshot: a report that
	 * committed while we waited for a lock is seen. */
	if ((pr = tx(r, STMT_FEEDBACK_LOCK, 1, vals)) == NULL ||
	    (cur = tx(r, STMT_FEEDBACK_CURRENT, 1, vals)) == NULL)
		goto out;
	nrows = (size_t)PQntuples(pr);
	rows = arena_alloc(r->a, (nrows + 1) * sizeof(*rows));
	ds = arena_alloc(r->a, (2 * n + 1) * sizeof(*ds));
	cds = arena_alloc(r->a, (2 * n + 1) * sizeof(*cds));
	if (rows == NULL || ds == NULL || cds == NULL)
		goto out;
	for (size_t i = 0; i < nrows; i++) {
		struct prow *p = &rows[i];

		p->id = atoll(PQgetvalue(pr, (int)i, 0));
		p->at = PQgetvalue(pr, (int)i, 1);
		p->hour = PQgetvalue(pr, (int)i, 2);
		p->vid = atoll(PQgetvalue(pr, (int)i, 3));
		p->output = json_loads(PQgetvalue(pr, (int)i, 4), 0, NULL);
		p->task = PQgetvalue(pr, (int)i, 5);
		p->classes = classes_of(PQgetvalue(pr, (int)i, 6));
		p->model = PQgetvalue(pr, (int)i, 7);
		if (p->output == NULL)
			p->output = json_object();
	}
	/* FEEDBACK_LOCK returns rows in id order already; sorting keeps that a contract here. */
	qsort(rows, nrows, sizeof(*rows), prow_cmp);
	for (int i = 0; i < PQntuples(cur); i++) {
		struct prow key = { .id = atoll(PQgetvalue(cur, i, 0)) };
		struct prow *p = bsearch(&key, rows, nrows, sizeof(*rows), prow_cmp);

		if (p == NULL)
			continue;
		p->has_old = 1;
		p->old_fb = atoll(PQgetvalue(cur, i, 1));
		p->old_num = PQgetisnull(cur, i, 2) ? 0 : strtod(PQgetvalue(cur, i, 2), NULL);
		p->old_label = PQgetisnull(cur, i, 3) ? NULL : PQgetvalue(cur, i, 3);
		p->old_user = atoll(PQgetvalue(cur, i, 4));
	}

	for (size_t i = 0; i < n; i++) {
		struct prow key = { .id = items[i].prediction_id }, *p;
		struct fb_result *out = &res[i];
		double num = 0, score;
		const char *label = NULL;
		int dup = 0;

		if (out->status != 0)
			continue;
		p = bsearch(&key, rows, nrows, sizeof(*rows), prow_cmp);
		/* A prediction of a model the caller may not read is not there for them. */
		if (p != NULL) {
			enum perm pm;

			if (perm_model(r, p->model, &pm) == -1)
				goto out;
			if (pm < PERM_READ)
				p = NULL;
		}
		if (p == NULL) {
			out->status = 404;
			snprintf(out->error, sizeof(out->error), "prediction %lld does not exist",
			    items[i].prediction_id);
			continue;
		}
		for (size_t j = 0; j < i && !dup; j++)
			dup = res[j].status == 0 && items[j].prediction_id == p->id;
		if (dup) {
			out->status = 400;
			snprintf(out->error, sizeof(out->error), "prediction %lld appears more than "
			    "once in this request", p->id);
			continue;
		}
		if (truth_parse(items[i].truth, p->task, p->classes, &num, &label, out->error,
		    sizeof(out->error)) == -1) {
			out->status = 400;
			continue;
		}
		if (p->has_old && p->old_user != r->user.id && !r->user.admin) {
			out->status = 409;
			snprintf(out->error, sizeof(out->error), "prediction %lld was already "
			    "verified by another user; only they or an admin can correct it", p->id);
			continue;
		}
		nok++;
		if (p->has_old) {
			out->replaced = 1;
			contribution(p, p->old_num, p->old_label, -1, &ds[nd], &cds[ncd]);
			ds[nd].verified = -1;
			nd++;
			ncd += cds[ncd].n != 0;
			if (pgarr_int(&a[9], p->old_fb) == -1)
				goto out;
			nold++;
		} else if (pgarr_int(&a[8], p->id) == -1)
			goto out;
		else
			nnew++;
		contribution(p, num, label, 1, &ds[nd], &cds[ncd]);
		ds[nd].verified = 1;
		nd++;
		ncd += cds[ncd].n != 0;
		if (pgarr_int(&a[0], p->id) == -1 || pgarr_text(&a[1], p->at) == -1 ||
		    pgarr_int(&a[2], p->vid) == -1 ||
		    (label == NULL ? pgarr_num(&a[3], num) : pgarr_text(&a[3], NULL)) == -1 ||
		    pgarr_text(&a[4], label) == -1 ||
		    (score_of(p, &score) ? pgarr_num(&a[5], score) : pgarr_text(&a[5], NULL)) == -1)
			goto out;
		nins++;
	}
	if (atomic && nok < n) {
		/* All or nothing: rows that were fine say why they were not written. */
		for (size_t i = 0; i < n; i++)
			if (res[i].status == 0) {
				res[i].status = 409;
				res[i].replaced = 0;
				snprintf(res[i].error, sizeof(res[i].error), "not written: another "
				    "row was rejected and the request is atomic");
			}
		db_rollback(r->db);
		began = 0;
		rc = 0;
		goto out;
	}
	if (nins > 0) {
		const char *iv[8];

		if (nold > 0) {
			const char *ov[1] = { arr_done(r, &a[9]) };

			if (ov[0] == NULL || (x = tx(r, STMT_FEEDBACK_REPLACE, 1, ov)) == NULL)
				goto out;
			PQclear(x);
		}
		snprintf(uid, sizeof(uid), "%lld", r->user.id);
		for (size_t k = 0; k < 6; k++)
			if ((iv[k] = arr_done(r, &a[k])) == NULL)
				goto out;
		iv[6] = uid;
		iv[7] = source;
		if ((x = tx(r, STMT_FEEDBACK_INSERT, 8, iv)) == NULL)
			goto out;
		PQclear(x);
		if (nnew > 0) {
			const char *nv[1] = { arr_done(r, &a[8]) };

			if (nv[0] == NULL || (x = tx(r, STMT_PREDICTION_VERIFIED, 1, nv)) == NULL)
				goto out;
			PQclear(x);
		}
		/* Buckets in (version, hour) order: batches lock them in one order. */
		qsort(ds, nd, sizeof(*ds), delta_cmp);
		for (size_t k = 0; k < 10; k++)
			buf_reset(&a[k]);
		for (size_t i = 0; i < nd; ) {
			struct delta s = ds[i];

			for (i++; i < nd && delta_cmp(&ds[i], &s) == 0; i++) {
				s.verified += ds[i].verified;
				s.correct += ds[i].correct;
				s.err += ds[i].err;
				s.abs_err += ds[i].abs_err;
				s.sq_err += ds[i].sq_err;
				s.y += ds[i].y;
				s.y2 += ds[i].y2;
				s.logloss += ds[i].logloss;
			}
			if (pgarr_int(&a[0], s.vid) == -1 || pgarr_text(&a[1], s.hour) == -1 ||
			    pgarr_int(&a[2], s.verified) == -1 || pgarr_num(&a[3], s.err) == -1 ||
			    pgarr_num(&a[4], s.abs_err) == -1 || pgarr_num(&a[5], s.sq_err) == -1 ||
			    pgarr_num(&a[6], s.y) == -1 || pgarr_num(&a[7], s.y2) == -1 ||
			    pgarr_int(&a[8], s.correct) == -1 || pgarr_num(&a[9], s.logloss) == -1)
				goto out;
		}
		for (size_t k = 0; k < 10; k++)
			if ((vals[k] = arr_done(r, &a[k])) == NULL)
				goto out;
		if ((x = tx(r, STMT_QUALITY_ADD, 10, vals)) == NULL)
			goto out;
		PQclear(x);
		if (ncd > 0) {
			qsort(cds, ncd, sizeof(*cds), cdelta_cmp);
			for (size_t k = 0; k < 5; k++)
				buf_reset(&a[k]);
			for (size_t i = 0; i < ncd; ) {
				struct cdelta s = cds[i];

				for (i++; i < ncd && cdelta_cmp(&cds[i], &s) == 0; i++)
					s.n += cds[i].n;
				if (s.n == 0)
					continue;
				if (pgarr_int(&a[0], s.vid) == -1 || pgarr_text(&a[1], s.hour) == -1 ||
				    pgarr_text(&a[2], s.actual) == -1 ||
				    pgarr_text(&a[3], s.predicted) == -1 || pgarr_int(&a[4], s.n) == -1)
					goto out;
			}
			for (size_t k = 0; k < 5; k++)
				if ((vals[k] = arr_done(r, &a[k])) == NULL)
					goto out;
			if (a[0].len > 0) {
				if ((x = tx(r, STMT_CONFUSION_ADD, 5, vals)) == NULL)
					goto out;
				PQclear(x);
			}
		}
	}
	if (db_command(r->db, "COMMIT") == -1) {
		began = 0;
		goto out;
	}
	began = 0;
	*accepted = nok;
	for (size_t i = 0; i < n; i++) {
		struct prow key = { .id = items[i].prediction_id }, *p;

		if (res[i].status == 0 &&
		    (p = bsearch(&key, rows, nrows, sizeof(*rows), prow_cmp)) != NULL)
			metrics_feedback(p->vid, 1);
	}
	rc = 0;
out:
	if (began)
		db_rollback(r->db);
	for (size_t i = 0; rows != NULL && i < nrows; i++) {
		json_decref(rows[i].output);
		json_decref(rows[i].classes);
	}
	PQclear(pr);
	PQclear(cur);
	buf_free(&ids);
	for (size_t k = 0; k < 10; k++)
		buf_free(&a[k]);
	if (rc == -1 && !db_lost(r->db) && r->resp.status == 0)
		log_msg("error", "feedback: %s", db_errmsg(r->db));
	return rc;
}

/* ---- bulk bodies ---- */

static int
alloc_rows(struct req *r, size_t n, struct fb_item **items, struct fb_result **res,
    long **where)
{
	*items = arena_alloc(r->a, (n + 1) * sizeof(**items));
	*res = arena_alloc(r->a, (n + 1) * sizeof(**res));
	*where = arena_alloc(r->a, (n + 1) * sizeof(**where));
	return *items != NULL && *res != NULL && *where != NULL ? 0 : -1;
}

/* A prediction id from JSON: a positive integer, or its decimal string. */
static long long
id_of(json_t *j)
{
	if (json_is_integer(j))
		return json_integer_value(j) > 0 ? json_integer_value(j) : 0;
	if (json_is_string(j)) {
		const char *s = json_string_value(j);
		size_t n = strlen(s);

		if (n > 0 && n <= 18 && strspn(s, "0123456789") == n)
			return atoll(s);
	}
	return 0;
}

static void
reject(struct fb_result *res, const char *fmt, ...) PRINTF(2, 3);

static void
reject(struct fb_result *res, const char *fmt, ...)
{
	va_list ap;

	res->status = 400;
	va_start(ap, fmt);
	vsnprintf(res->error, sizeof(res->error), fmt, ap);
	va_end(ap);
}

long
feedback_rows_json(struct req *r, json_t *list, struct fb_item **items,
    struct fb_result **res, long **where)
{
	size_t n, i;
	json_t *row;

	if (!json_is_array(list)) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "the body must be a JSON list of "
		    "{\"prediction_id\": ..., \"true_value\": ...} objects");
		return -1;
	}
	n = json_array_size(list);
	if (n == 0) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "the list is empty");
		return -1;
	}
	if (n > FEEDBACK_MAX_BATCH) {
		resp_error(r, 413, "PAYLOAD_TOO_LARGE", "%zu rows; at most %d per request", n,
		    FEEDBACK_MAX_BATCH);
		return -1;
	}
	if (alloc_rows(r, n, items, res, where) == -1)
		return -2;
	json_array_foreach(list, i, row) {
		json_t *t = json_object_get(row, "true_value");

		(*where)[i] = (long)i;
		(*items)[i].prediction_id = id_of(json_object_get(row, "prediction_id"));
		(*items)[i].truth = t;
		if (!json_is_object(row))
			reject(&(*res)[i], "item %zu is not an object", i);
		else if ((*items)[i].prediction_id == 0)
			reject(&(*res)[i], "item %zu: prediction_id must be a positive integer", i);
		else if (t == NULL || json_is_null(t))
			reject(&(*res)[i], "item %zu: true_value is required", i);
	}
	return (long)n;
}

long
feedback_rows_csv(struct req *r, const char *body, size_t len, struct fb_item **items,
    struct fb_result **res, long **where)
{
	struct csv_table t;
	char err[200];
	long idc = -1, tvc = -1;
	size_t n;
	int rc = csv_table_parse(r->a, body, len, FEEDBACK_MAX_BATCH, &t, err, sizeof(err));

	if (rc == -2) {
		resp_error(r, 413, "PAYLOAD_TOO_LARGE", "more than %d rows per request",
		    FEEDBACK_MAX_BATCH);
		return -1;
	}
	if (rc == -3)
		return -2;
	if (rc == -1) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "%s", err);
		return -1;
	}
	for (size_t k = 0; t.n > 0 && k < t.rec[0].nf; k++) {
		if (!strcmp(t.rec[0].f[k], "prediction_id"))
			idc = (long)k;
		else if (!strcmp(t.rec[0].f[k], "true_value"))
			tvc = (long)k;
	}
	if (idc < 0 || tvc < 0) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "the CSV needs a header row naming "
		    "the columns prediction_id and true_value");
		return -1;
	}
	if (t.n < 2) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "the CSV has a header but no rows");
		return -1;
	}
	n = t.n - 1;
	if (alloc_rows(r, n, items, res, where) == -1)
		return -2;
	for (size_t i = 0; i < n; i++) {
		const struct csv_record *rec = &t.rec[i + 1];
		struct fb_item *it = &(*items)[i];
		const char *id, *tv;

		(*where)[i] = rec->line;
		if (rec->nf != t.rec[0].nf) {
			reject(&(*res)[i], "line %ld: %zu columns, the header has %zu", rec->line,
			    rec->nf, t.rec[0].nf);
			continue;
		}
		id = rec->f[idc];
		tv = rec->f[tvc];
		if (strlen(id) == 0 || strlen(id) > 18 || strspn(id, "0123456789") != strlen(id) ||
		    (it->prediction_id = atoll(id)) <= 0) {
			reject(&(*res)[i], "line %ld: prediction_id '%.40s' is not a positive integer",
			    rec->line, id);
			continue;
		}
		if (rec->len[tvc] == 0) {
			reject(&(*res)[i], "line %ld: true_value is empty", rec->line);
			continue;
		}
		it->owned = 1;
		if ((it->truth = json_stringn(tv, rec->len[tvc])) == NULL) {
			reject(&(*res)[i], "line %ld: true_value is not valid UTF-8", rec->line);
			continue;
		}
	}
	return (long)n;
}

void
feedback_rows_release(struct fb_item *items, size_t n)
{
	for (size_t i = 0; items != NULL && i < n; i++)
		if (items[i].owned) {
			json_decref(items[i].truth);
			items[i].truth = NULL;
			items[i].owned = 0;
		}
}

json_t *
feedback_results(const struct fb_item *items, const struct fb_result *res, size_t n,
    const long *where, const char *where_key)
{
	json_t *list = json_array();
	size_t ok = 0;

	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();

		json_object_set_new(o, where_key, json_integer(where[i]));
		json_object_set_new(o, "prediction_id", items[i].prediction_id > 0 ?
		    json_integer(items[i].prediction_id) : json_null());
		json_object_set_new(o, "status", json_string(res[i].status == 0 ? "accepted" :
		    "rejected"));
		if (res[i].status == 0) {
			json_object_set_new(o, "replaced", json_boolean(res[i].replaced));
			ok++;
		} else {
			json_object_set_new(o, "code", json_integer(res[i].status));
			json_object_set_new(o, "error", json_string(res[i].error));
		}
		json_array_append_new(list, o);
	}
	return json_pack("{s:I, s:I, s:o}", "accepted", (json_int_t)ok, "rejected",
	    (json_int_t)(n - ok), "results", list);
}

/* ---- reads ---- */

/* A prediction object from a PREDICTION_* row (columns in the order those statements use). */
static json_t *
prediction_json(PGresult *res, int i)
{
	const char *task = PQgetvalue(res, i, 4);
	json_t *o, *in = json_loads(PQgetvalue(res, i, 6), 0, NULL);
	json_t *out = json_loads(PQgetvalue(res, i, 7), 0, NULL);

	o = json_pack("{s:I, s:s, s:i, s:s, s:s, s:o, s:o, s:b, s:o, s:o, s:i, s:s}",
	    "prediction_id", (json_int_t)atoll(PQgetvalue(res, i, 0)),
	    "model", PQgetvalue(res, i, 1),
	    "version", atoi(PQgetvalue(res, i, 2)),
	    "created_at", PQgetvalue(res, i, 3),
	    "task", task,
	    "inputs", in != NULL ? in : json_object(),
	    "output", out != NULL ? out : json_object(),
	    "verified", !strcmp(PQgetvalue(res, i, 8), "t"),
	    "true_value", truth_json(res, i, 9, 10),
	    "user", PQgetisnull(res, i, 11) ? json_null() : json_string(PQgetvalue(res, i, 11)),
	    "latency_us", atoi(PQgetvalue(res, i, 12)),
	    "request_id", PQgetvalue(res, i, 13));
	if (o != NULL && strcmp(task, "regression") != 0)
		json_object_set_new(o, "classes", classes_of(PQgetvalue(res, i, 5)));
	return o;
}

int
feedback_next(struct req *r, const char *name, int version, json_t **out)
{
	char vbuf[16], pick[32];
	const char *vals[3] = { name, vbuf, NULL };
	PGresult *res = NULL;
	long long lo, hi;
	int rc = -1;

	*out = NULL;
	if ((rc = perm_require_model(r, name, PERM_READ)) != 0)
		return rc;
	rc = -1;
	snprintf(vbuf, sizeof(vbuf), "%d", version);
	/* A version with unverified predictions, chosen with weight = how many,
	 * and the id range of those: two index probes per version. */
	if ((res = db_exec(r->db, STMT_FEEDBACK_PICK_VERSION, 2, vals)) == NULL)
		return -1;
	if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
		int known = PQntuples(res) > 0;

		PQclear(res);
		if (!known)
			resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", version ? "model '%.100s' "
			    "has no version %d" : "model '%.100s' does not exist", name, version);
		else
			resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "no unverified predictions "
			    "left for model '%.100s'%s", name, version ? " at this version" : "");
		return 1;
	}
	lo = atoll(PQgetvalue(res, 0, 1));
	hi = atoll(PQgetvalue(res, 0, 2));
	snprintf(vbuf, sizeof(vbuf), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	/* A uniform point in [lo, hi], then the next unverified id from it
	 * (wrapping to lo): gaps make it a little uneven, never slow. */
	{
		unsigned long long u = (unsigned long long)randombytes_random() << 32 |
		    randombytes_random();

		snprintf(pick, sizeof(pick), "%lld", lo + (long long)(u %
		    (unsigned long long)(hi - lo + 1)));
	}
	vals[0] = vbuf;
	vals[1] = pick;
	if ((res = db_exec(r->db, STMT_FEEDBACK_NEXT, 2, vals)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "no unverified predictions left for "
		    "model '%.100s'", name);
		return 1;
	}
	*out = prediction_json(res, 0);
	rc = *out != NULL ? 0 : -1;
	PQclear(res);
	return rc;
}

int
predictions_list(struct req *r, const struct pred_filter *f, json_t **out)
{
	char ver[16], verified[8], lim[16], after[24];
	const char *vals[7];
	PGresult *res;
	json_t *list;
	int n;

	*out = NULL;
	snprintf(ver, sizeof(ver), "%d", f->version);
	snprintf(verified, sizeof(verified), "%d", f->verified);
	snprintf(lim, sizeof(lim), "%d", f->limit);
	snprintf(after, sizeof(after), "%lld", f->after);
	if (f->model != NULL && f->model[0] != '\0') {
		const char *mv[1] = { f->model };
		int prc = perm_require_model(r, f->model, PERM_READ);

		if (prc != 0)
			return prc;
		if ((res = db_exec(r->db, STMT_MODEL_EXISTS, 1, mv)) == NULL)
			return -1;
		n = PQntuples(res);
		PQclear(res);
		if (n == 0) {
			resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "model '%.100s' does not exist",
			    f->model);
			return 1;
		}
	}
	vals[0] = f->model != NULL ? f->model : "";
	vals[1] = ver;
	vals[2] = verified;
	vals[3] = f->from != NULL && f->from[0] != '\0' ? f->from : NULL;
	vals[4] = f->to != NULL && f->to[0] != '\0' ? f->to : NULL;
	vals[5] = lim;
	vals[6] = after;
	if ((res = db_exec(r->db, STMT_PREDICTION_LIST, 7, vals)) == NULL) {
		/* 22007/22008: a from/to Postgres cannot read as a time. */
		if (!db_lost(r->db) && !strncmp(db_sqlstate(r->db), "2200", 4)) {
			resp_error(r, 400, "INVALID_PARAMETER_VALUE", "from and to must be ISO 8601 "
			    "times, e.g. 2026-11-23T10:00:00Z");
			return 1;
		}
		return -1;
	}
	list = json_array();
	for (int i = 0; i < PQntuples(res); i++) {
		enum perm pm;

		/* Across models: only those the caller may read (a page may come out short). */
		if (perm_model(r, PQgetvalue(res, i, 1), &pm) == -1) {
			json_decref(list);
			PQclear(res);
			return -1;
		}
		if (pm >= PERM_READ)
			json_array_append_new(list, prediction_json(res, i));
	}
	n = PQntuples(res);
	*out = json_pack("{s:o, s:o}", "predictions", list, "next_after", n == f->limit ?
	    json_integer(atoll(PQgetvalue(res, n - 1, 0))) : json_null());
	PQclear(res);
	return *out != NULL ? 0 : -1;
}

int
prediction_get(struct req *r, long long id, json_t **out)
{
	char ibuf[24];
	const char *vals[1] = { ibuf };
	PGresult *res;
	json_t *hist;

	*out = NULL;
	snprintf(ibuf, sizeof(ibuf), "%lld", id);
	if ((res = db_exec(r->db, STMT_PREDICTION_GET, 1, vals)) == NULL)
		return -1;
	if (PQntuples(res) == 1) {
		enum perm pm;

		if (perm_model(r, PQgetvalue(res, 0, 1), &pm) == -1) {
			PQclear(res);
			return -1;
		}
		if (pm < PERM_READ) {
			PQclear(res);
			res = NULL;
		}
	}
	if (res == NULL || PQntuples(res) != 1) {
		PQclear(res);
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "prediction %lld does not exist", id);
		return 1;
	}
	*out = prediction_json(res, 0);
	PQclear(res);
	if (*out == NULL || (res = db_exec(r->db, STMT_FEEDBACK_HISTORY, 1, vals)) == NULL) {
		json_decref(*out);
		*out = NULL;
		return -1;
	}
	hist = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(hist, json_pack("{s:o, s:o, s:s, s:s, s:b}",
		    "true_value", truth_json(res, i, 0, 1),
		    "user", PQgetisnull(res, i, 2) ? json_null() : json_string(PQgetvalue(res, i, 2)),
		    "source", PQgetvalue(res, i, 3), "created_at", PQgetvalue(res, i, 4),
		    "current", !strcmp(PQgetvalue(res, i, 5), "t")));
	PQclear(res);
	json_object_set_new(*out, "feedback", hist);
	return 0;
}

/* ---- quality ---- */

struct vq {
	long long vid;
	int version;
	const char *stage, *task;
	json_t *classes;
	json_t *o;                  /* the version's object in the answer */
};

static double
col(PGresult *res, int i, int c)
{
	return strtod(PQgetvalue(res, i, c), NULL);
}

/* Regression metrics from bucket sums (n = verified rows). */
static json_t *
regression_metrics(double n, double se, double sae, double sse, double sy, double sy2)
{
	double ss_tot = sy2 - sy * sy / n;

	if (n <= 0)
		return json_null();
	return json_pack("{s:f, s:o, s:o, s:o, s:o}", "n", n,
	    "mae", json_number_or_null(sae / n),
	    "rmse", json_number_or_null(sqrt(sse > 0 ? sse / n : 0)),
	    "bias", json_number_or_null(se / n),
	    "r2", ss_tot > 1e-12 * (sy2 > 0 ? sy2 : 1) ? json_number_or_null(1 - sse / ss_tot) :
	    json_null());
}

/* Index of label in classes, or -1. */
static int
class_index(json_t *classes, const char *label)
{
	size_t i;
	json_t *c;

	json_array_foreach(classes, i, c)
		if (json_string_value(c) != NULL && !strcmp(json_string_value(c), label))
			return (int)i;
	return -1;
}

struct scored {
	double s;
	int pos;
};

static int
scored_cmp(const void *a, const void *b)
{
	double x = ((const struct scored *)a)->s, y = ((const struct scored *)b)->s;

	return x < y ? -1 : x > y;
}

/* ROC AUC by the rank-sum (Mann-Whitney) with average ranks for ties; NaN when one class is absent. */
static double
roc_auc(struct scored *v, size_t n)
{
	double npos = 0, rank_sum = 0;

	qsort(v, n, sizeof(*v), scored_cmp);
	for (size_t i = 0; i < n; ) {
		size_t j = i;
		double avg;

		while (j < n && v[j].s == v[i].s)
			j++;
		avg = (double)(i + j + 1) / 2.0;   /* ranks i+1 .. j */
		for (size_t k = i; k < j; k++)
			if (v[k].pos) {
				npos++;
				rank_sum += avg;
			}
		i = j;
	}
	if (npos == 0 || npos == (double)n)
		return NAN;
	return (rank_sum - npos * (npos + 1) / 2) / (npos * ((double)n - npos));
}

static int
window_hours(const char *w)
{
	if (!strcmp(w, "24h"))
		return 24;
	if (!strcmp(w, "7d"))
		return 7 * 24;
	if (!strcmp(w, "30d"))
		return 30 * 24;
	if (!strcmp(w, "all"))
		return 0;
	return -1;
}

/* Classification metrics of one version from its confusion cells. */
static int
classification_metrics(struct req *r, struct vq *v, PGresult *conf, const char *hours,
    double verified, double sum_logloss)
{
	size_t k = json_array_size(v->classes);
	long long *m = arena_alloc(r->a, (k * k + 1) * sizeof(*m));
	json_t *matrix, *labels, *per, *metrics;
	double correct = 0, total = 0, f1sum = 0;
	int nf1 = 0;

	if (m == NULL)
		return -1;
	for (int i = 0; i < PQntuples(conf); i++) {
		int a, p;

		if (atoll(PQgetvalue(conf, i, 0)) != v->vid)
			continue;
		a = class_index(v->classes, PQgetvalue(conf, i, 1));
		p = class_index(v->classes, PQgetvalue(conf, i, 2));
		if (a < 0 || p < 0)
			continue;
		m[a * k + p] += atoll(PQgetvalue(conf, i, 3));
	}
	matrix = json_array();
	per = json_object();
	for (size_t a = 0; a < k; a++) {
		json_t *row = json_array();
		double tp = (double)m[a * k + a], support = 0, predicted = 0, prec, rec, f1;

		for (size_t p = 0; p < k; p++) {
			json_array_append_new(row, json_integer(m[a * k + p]));
			support += (double)m[a * k + p];
			predicted += (double)m[p * k + a];
		}
		json_array_append_new(matrix, row);
		correct += tp;
		total += support;
		prec = predicted > 0 ? tp / predicted : NAN;
		rec = support > 0 ? tp / support : NAN;
		f1 = (predicted > 0 || support > 0) ? 2 * tp / (predicted + support) : NAN;
		if (support > 0) {
			f1sum += f1;
			nf1++;
		}
		json_object_set_new(per, json_string_value(json_array_get(v->classes, a)),
		    json_pack("{s:o, s:o, s:o, s:f}", "precision", json_number_or_null(prec),
		    "recall", json_number_or_null(rec), "f1", json_number_or_null(f1),
		    "support", support));
	}
	labels = json_deep_copy(v->classes);
	json_object_set_new(v->o, "confusion", json_pack("{s:o, s:o}", "labels", labels,
	    "matrix", matrix));
	if (verified <= 0) {
		json_decref(per);
		json_object_set_new(v->o, "metrics", json_null());
		return 0;
	}
	metrics = json_pack("{s:f, s:o, s:o, s:o, s:o}", "n", verified,
	    "accuracy", json_number_or_null(total > 0 ? correct / total : NAN),
	    "macro_f1", json_number_or_null(nf1 > 0 ? f1sum / nf1 : NAN),
	    "log_loss", json_number_or_null(sum_logloss / verified),
	    "per_class", per);
	if (!strcmp(v->task, "binary") && k == 2) {
		char vid[24], lim[16];
		const char *vals[4] = { vid, hours, json_string_value(json_array_get(v->classes, 1)),
		    lim };
		PGresult *res;
		struct scored *sc;

		snprintf(vid, sizeof(vid), "%lld", v->vid);
		snprintf(lim, sizeof(lim), "%d", QUALITY_AUC_ROWS);
		if ((res = db_exec(r->db, STMT_QUALITY_SCORES, 4, vals)) == NULL) {
			json_decref(metrics);
			return -1;
		}
		sc = arena_alloc(r->a, ((size_t)PQntuples(res) + 1) * sizeof(*sc));
		if (sc == NULL) {
			PQclear(res);
			json_decref(metrics);
			return -1;
		}
		for (int i = 0; i < PQntuples(res); i++) {
			sc[i].s = col(res, i, 0);
			sc[i].pos = !strcmp(PQgetvalue(res, i, 1), "t");
		}
		json_object_set_new(metrics, "roc_auc",
		    json_number_or_null(roc_auc(sc, (size_t)PQntuples(res))));
		json_object_set_new(metrics, "roc_auc_rows", json_integer(PQntuples(res)));
		PQclear(res);
	}
	json_object_set_new(v->o, "metrics", metrics);
	return 0;
}

int
quality_get(struct req *r, const char *name, const char *window, json_t **out)
{
	char hours[16];
	const char *vals[2] = { name, hours };
	PGresult *vr = NULL, *runs = NULL, *daily = NULL, *conf = NULL, *pts = NULL;
	struct vq *vs = NULL;
	json_t *list = NULL;
	size_t nv = 0;
	int h = window_hours(window), rc = -1;

	*out = NULL;
	if (h < 0) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "window must be one of 24h, 7d, "
		    "30d, all");
		return 1;
	}
	if ((rc = perm_require_model(r, name, PERM_READ)) != 0)
		return rc;
	rc = -1;
	snprintf(hours, sizeof(hours), "%d", h);
	if ((vr = db_exec(r->db, STMT_QUALITY_VERSIONS, 1, vals)) == NULL)
		goto out;
	if (PQntuples(vr) == 0) {
		const char *mv[1] = { name };
		PGresult *e = db_exec(r->db, STMT_MODEL_EXISTS, 1, mv);
		int known;

		if (e == NULL)
			goto out;
		known = PQntuples(e) > 0;
		PQclear(e);
		if (!known) {
			resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "model '%.100s' does not exist",
			    name);
			rc = 1;
			goto out;
		}
	}
	if ((daily = db_exec(r->db, STMT_QUALITY_DAILY, 2, vals)) == NULL ||
	    (conf = db_exec(r->db, STMT_QUALITY_CONFUSION, 2, vals)) == NULL ||
	    (pts = db_exec(r->db, STMT_QUALITY_POINTS, 2, vals)) == NULL)
		goto out;
	nv = (size_t)PQntuples(vr);
	if ((vs = arena_alloc(r->a, (nv + 1) * sizeof(*vs))) == NULL)
		goto out;
	/* What the linked runs recorded at training (their latest metrics), in one query. */
	{
		struct buf ids;
		const char *rv[1];

		buf_init(&ids, 1 << 16);
		for (size_t i = 0; i < nv; i++)
			if (PQgetvalue(vr, (int)i, 5)[0] != '\0' &&
			    pgarr_text(&ids, PQgetvalue(vr, (int)i, 5)) == -1)
				break;
		rv[0] = arr_done(r, &ids);
		buf_free(&ids);
		if (rv[0] == NULL || (runs = db_exec(r->db, STMT_RUNS_METRICS, 1, rv)) == NULL)
			goto out;
	}
	list = json_array();
	for (size_t i = 0; i < nv; i++) {
		struct vq *v = &vs[i];
		double pred = 0, ver = 0, s[7] = { 0 };
		json_t *days = json_array(), *points = NULL;

		v->vid = atoll(PQgetvalue(vr, (int)i, 0));
		v->version = atoi(PQgetvalue(vr, (int)i, 1));
		v->stage = PQgetvalue(vr, (int)i, 2);
		v->task = PQgetvalue(vr, (int)i, 3);
		v->classes = classes_of(PQgetvalue(vr, (int)i, 4));
		/* The window's totals are the sums of its days. */
		for (int j = 0; j < PQntuples(daily); j++)
			if (atoll(PQgetvalue(daily, j, 0)) == v->vid) {
				pred += col(daily, j, 2);
				ver += col(daily, j, 3);
				for (int c = 0; c < 7; c++)
					s[c] += col(daily, j, 4 + c);
			}
		v->o = json_pack("{s:i, s:s, s:s, s:f, s:f, s:o}", "version", v->version,
		    "stage", v->stage, "task", v->task, "predictions", pred, "verified", ver,
		    "coverage", pred > 0 ? json_real(ver / pred) : json_null());
		if (v->o == NULL) {
			json_decref(days);
			json_decref(v->classes);
			goto out;
		}
		json_array_append_new(list, v->o);
		{
			const char *run = PQgetvalue(vr, (int)i, 5);
			json_t *t = json_object();

			for (int j = 0; run[0] != '\0' && j < PQntuples(runs); j++)
				if (!strcmp(PQgetvalue(runs, j, 0), run))
					json_object_set_new(t, PQgetvalue(runs, j, 1),
					    json_number_or_null(col(runs, j, 2)));
			json_object_set_new(v->o, "run_id", run[0] ? json_string(run) : json_null());
			json_object_set_new(v->o, "training", t);
		}
		for (int j = 0; j < PQntuples(daily); j++) {
			double dn, dv;
			json_t *d;

			if (atoll(PQgetvalue(daily, j, 0)) != v->vid)
				continue;
			dn = col(daily, j, 2);
			dv = col(daily, j, 3);
			d = json_pack("{s:s, s:f, s:f}", "day", PQgetvalue(daily, j, 1),
			    "predictions", dn, "verified", dv);
			if (!strcmp(v->task, "regression"))
				json_object_set_new(d, "mae", dv > 0 ?
				    json_number_or_null(col(daily, j, 5) / dv) : json_null());
			else
				json_object_set_new(d, "accuracy", dv > 0 ?
				    json_number_or_null(col(daily, j, 9) / dv) : json_null());
			json_array_append_new(days, d);
		}
		json_object_set_new(v->o, "daily", days);
		if (!strcmp(v->task, "regression")) {
			json_object_set_new(v->o, "metrics", regression_metrics(ver, s[0], s[1],
			    s[2], s[3], s[4]));
			points = json_array();
			for (int j = 0; j < PQntuples(pts); j++)
				if (atoll(PQgetvalue(pts, j, 0)) == v->vid)
					json_array_append_new(points, json_pack("[o, o]",
					    json_number_or_null(col(pts, j, 1)),
					    json_number_or_null(col(pts, j, 2))));
			json_object_set_new(v->o, "points", points);
			json_decref(v->classes);
			v->classes = NULL;
		} else {
			json_object_set(v->o, "classes", v->classes);
			if (classification_metrics(r, v, conf, hours, ver, s[6]) == -1) {
				json_decref(v->classes);
				goto out;
			}
			json_decref(v->classes);
			v->classes = NULL;
		}
	}
	*out = json_pack("{s:s, s:s, s:O}", "model", name, "window", window, "versions", list);
	rc = *out != NULL ? 0 : -1;
out:
	json_decref(list);
	PQclear(vr);
	PQclear(runs);
	PQclear(daily);
	PQclear(conf);
	PQclear(pts);
	return rc;
}
