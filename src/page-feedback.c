/* page-feedback.c: HTML pages for ground truth — the verify queue, the prediction log and one prediction, the CSV upload, and the live-quality block of the model page. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "feedback.h"
#include "handlers.h"
#include "svg.h"

#define LIST_PAGE 50            /* rows per page of /predictions */
#define SKIP_TRIES 8            /* draws before a skipped prediction is shown again */
#define LABEL_MAX 40            /* bytes of "field = value" in the explanation chart */
#define CELL_MAX 200            /* bytes of an input value shown in a table cell */

/* ---- small helpers ---- */

/* A version number from a form or query: 1..999999999; 0 for "", -1 when malformed. */
static int
version_of(const struct value *v)
{
	if (!v->present || v->len == 0)
		return 0;
	if (v->len > 9 || v->s[0] == '0' || strspn(v->s, "0123456789") != v->len)
		return -1;
	return atoi(v->s);
}

/* Text of a truth or an input value: a string as is, numbers short, null as "". */
static const char *
value_text(struct req *r, json_t *v)
{
	char buf[64];

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_true(v) || json_is_false(v))
		return json_is_true(v) ? "true" : "false";
	if (json_is_integer(v))
		return arena_printf(r->a, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	if (json_is_real(v)) {
		snprintf(buf, sizeof(buf), "%.10g", json_real_value(v));
		return arena_strdup(r->a, buf);
	}
	return "";
}

/* s cut to max bytes on a character boundary, with "…" when cut; arena memory. */
static const char *
cut(struct req *r, const char *s, size_t max)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) <= max)
		return s;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return arena_printf(r->a, "%.*s…", (int)n, s);
}

/* Appends "&k=v" (or "?k=v" first), v percent-encoded; skips empty values. 0 or -1. */
static int
qs_add(struct buf *b, const char *k, const char *v)
{
	if (v == NULL || v[0] == '\0')
		return 0;
	if (buf_adds(b, strchr(buf_str(b), '?') != NULL ? "&" : "?") == -1 ||
	    buf_adds(b, k) == -1 || buf_addc(b, '=') == -1)
		return -1;
	return url_encode(b, v, strlen(v));
}

/* "/verify?model=NAME[&version=V]" in arena memory; NULL when out of memory. */
static const char *
verify_url(struct req *r, const char *model, int version)
{
	struct buf b;
	char ver[16] = "";
	const char *s = NULL;

	buf_init(&b, 4096);
	if (version > 0)
		snprintf(ver, sizeof(ver), "%d", version);
	if (buf_adds(&b, "/verify") == 0 && qs_add(&b, "model", model) == 0 &&
	    qs_add(&b, "version", ver) == 0)
		s = arena_strdup(r->a, buf_str(&b));
	buf_free(&b);
	return s;
}

/* The response as it stood before a domain call answered with an error. */
struct answer_mark {
	size_t headers_len;
	int has_type;
};

static void
answer_mark(struct req *r, struct answer_mark *m)
{
	m->headers_len = r->resp.headers.len;
	m->has_type = r->resp.has_type;
}

/* Takes back an error answer (its page, headers and flash consumption) to answer otherwise. */
static void
answer_undo(struct req *r, const struct answer_mark *m)
{
	buf_truncate(&r->resp.headers, m->headers_len);
	r->resp.has_type = m->has_type;
	r->resp.status = 0;
	buf_reset(&r->resp.body);
}

/* The model select: every model, the chosen one selected; NULL on a DB error. */
static json_t *
model_options(struct req *r, const char *chosen, int *found)
{
	json_t *models = page_model_list(r), *m;
	size_t i;

	*found = 0;
	if (models == NULL)
		return NULL;
	json_array_foreach(models, i, m) {
		int sel = chosen != NULL && !strcmp(chosen, json_string_value(json_object_get(m,
		    "name")));

		*found |= sel;
		json_object_set_new(m, "selected", json_boolean(sel));
	}
	return models;
}

/* The version select of a model (newest first), the chosen one selected; NULL on a DB error. */
static json_t *
version_options(struct req *r, const char *model, int chosen, int *found)
{
	const char *vals[1] = { model };
	PGresult *res = db_exec(r->db, STMT_MODEL_VERSIONS, 1, vals);
	json_t *a;

	*found = 0;
	if (res == NULL)
		return NULL;
	a = json_array();
	for (int i = 0; i < PQntuples(res); i++) {
		int v = atoi(PQgetvalue(res, i, 0));

		*found |= v == chosen;
		json_array_append_new(a, json_pack("{s:i, s:s, s:b}", "version", v, "stage",
		    PQgetvalue(res, i, 1), "selected", v == chosen));
	}
	PQclear(res);
	return a;
}

/* ---- one prediction as the pages show it ---- */

/* Inputs as table rows, in the order they were sent. */
static json_t *
inputs_ctx(struct req *r, json_t *inputs)
{
	json_t *a = json_array(), *v;
	const char *k;

	json_object_foreach(inputs, k, v)
		json_array_append_new(a, json_pack("{s:s, s:s, s:b}", "name", k, "value",
		    cut(r, value_text(r, v), CELL_MAX), "missing", json_is_null(v)));
	return a;
}

/* The predicted value or label as one line of text. */
static const char *
predicted_text(struct req *r, json_t *p)
{
	json_t *out = json_object_get(p, "output"), *label = json_object_get(out, "label");
	char buf[64];

	if (json_is_string(label))
		return json_string_value(label);
	svg_num(json_number_value(json_object_get(out, "value")), buf, sizeof(buf));
	return arena_strdup(r->a, buf);
}

/* The output block: value or label, and probability bars in class order. */
static json_t *
output_ctx(struct req *r, json_t *p)
{
	json_t *out = json_object_get(p, "output"), *probs = json_object_get(out,
	    "probabilities"), *label = json_object_get(out, "label"), *classes, *c, *o;
	char value[64];
	size_t i;

	svg_num(json_number_value(json_object_get(out, "value")), value, sizeof(value));
	o = json_pack("{s:s}", "value", value);
	if (o == NULL)
		return NULL;
	if (json_is_string(label))
		json_object_set(o, "label", label);
	if (json_is_object(probs)) {
		json_t *bars = json_array();

		classes = json_object_get(p, "classes");
		json_array_foreach(classes, i, c) {
			const char *cl = json_string_value(c);
			double pr = json_number_value(json_object_get(probs, cl != NULL ? cl : ""));
			int bucket = (int)floor(pr * 20 + 0.5) * 5;

			bucket = bucket < 0 ? 0 : bucket > 100 ? 100 : bucket;
			json_array_append_new(bars, json_pack("{s:s, s:o, s:o, s:b}", "label",
			    cl != NULL ? cl : "", "pct", json_sprintf("%.1f%%", pr * 100), "bucket",
			    json_sprintf("w%d", bucket), "top", json_is_string(label) && cl != NULL &&
			    !strcmp(cl, json_string_value(label))));
		}
		json_object_set_new(o, "probabilities", bars);
		if (!strcmp(json_string_value(json_object_get(p, "task")), "binary") &&
		    json_array_size(classes) == 2)
			json_object_set(o, "binary_of", json_array_get(classes, 1));
	}
	return o;
}

/*
 * The explanation chart from a stored output with "contributions" (the
 * prediction was made with explain): one bar per raw field, labelled with
 * the value that was sent. NULL without contributions; *err on failure.
 */
static json_t *
explain_ctx(struct req *r, json_t *p, int *err)
{
	json_t *out = json_object_get(p, "output"), *contribs = json_object_get(out,
	    "contributions"), *inputs = json_object_get(p, "inputs"), *v, *ex;
	size_t n = json_object_size(contribs), k = 0;
	struct svg_bar *b;
	const char *name;
	char bias[64];

	*err = 0;
	if (!json_is_object(contribs) || n == 0)
		return NULL;
	if ((b = arena_alloc(r->a, n * sizeof(*b))) == NULL) {
		*err = 1;
		return NULL;
	}
	json_object_foreach(contribs, name, v) {
		json_t *in = json_object_get(inputs, name);
		const char *text = in == NULL || json_is_null(in) ? "missing" : value_text(r, in);
		const char *l = text != NULL ? arena_printf(r->a, "%s = %s", name, text) : NULL;

		if (l == NULL || (b[k].label = cut(r, l, LABEL_MAX)) == NULL) {
			*err = 1;
			return NULL;
		}
		b[k++].value = json_number_value(v);
	}
	if ((ex = svg_diverging_bars(b, k)) == NULL) {
		*err = 1;
		return NULL;
	}
	svg_num(json_number_value(json_object_get(out, "bias")), bias, sizeof(bias));
	json_object_set_new(ex, "bias", json_string(bias));
	json_object_set_new(ex, "logodds", json_boolean(strcmp(json_string_value(
	    json_object_get(p, "task")), "regression") != 0));
	json_object_set_new(ex, "multiclass", json_boolean(!strcmp(json_string_value(
	    json_object_get(p, "task")), "multiclass")));
	return ex;
}

/* The truth widget: a select of the classes, or a number input; current preselected. */
static json_t *
truth_ctx(struct req *r, json_t *p)
{
	json_t *classes = json_object_get(p, "classes"), *c, *cur = json_object_get(p,
	    "true_value");
	size_t i;

	if (json_array_size(classes) > 0) {
		json_t *opts = json_array();

		json_array_foreach(classes, i, c)
			json_array_append_new(opts, json_pack("{s:O, s:b}", "value", c, "selected",
			    json_is_string(cur) && json_equal(cur, c)));
		return json_pack("{s:o, s:b}", "classes", opts, "has_current", json_is_string(cur));
	}
	return json_pack("{s:b, s:s}", "number", 1, "current", json_is_number(cur) ?
	    value_text(r, cur) : "");
}

/* ---- POST: one truth from a form ---- */

/*
 * Records true_value (as typed: feedback.c reads numbers and labels from
 * text) for prediction id, source "form", and leaves the outcome as a
 * flash: "Prediction N verified" or the row's reason. 0, or -1; *answered
 * when feedback_submit answered the request itself.
 */
static int
submit_truth(struct req *r, long long id, const char *text, int *answered)
{
	json_t *t = json_string(text);
	struct fb_item it = { id, t, 0 };
	struct fb_result res;
	char msg[300];
	size_t ok;
	int rc;

	*answered = 0;
	memset(&res, 0, sizeof(res));
	if (t == NULL)
		return -1;
	rc = feedback_submit(r, &it, 1, "form", 0, &res, &ok);
	json_decref(t);
	if (rc != 0) {
		*answered = rc == 1;
		return rc == 1 ? 0 : -1;
	}
	if (res.status != 0)
		return resp_flash(r, "error", res.error);
	snprintf(msg, sizeof(msg), "Prediction %lld %s", id, res.replaced ? "corrected" :
	    "verified");
	return resp_flash(r, "ok", msg);
}

int
page_verify_post(struct req *r)
{
	int answered, version = version_of(&r->in[3]);
	const char *back;

	if (version < 0) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "field 'version': must be a "
		    "positive integer");
		return 0;
	}
	if (submit_truth(r, r->in[0].i, r->in[1].s, &answered) == -1)
		return -1;
	if (answered)
		return 0;
	if ((back = verify_url(r, r->in[2].s, version)) == NULL)
		return -1;
	return resp_redirect(r, back);
}

int
page_prediction_feedback_post(struct req *r)
{
	long long id = feedback_path_id(r);
	int answered;

	if (id == 0) {
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "no such prediction");
		return 0;
	}
	if (submit_truth(r, id, r->in[0].s, &answered) == -1)
		return -1;
	if (answered)
		return 0;
	return resp_redirect(r, arena_printf(r->a, "/predictions/%lld", id));
}

/* ---- GET /verify ---- */

int
page_verify(struct req *r)
{
	const char *model = r->in[0].present ? r->in[0].s : "";
	int version = version_of(&r->in[1]), known, vknown, rc;
	long long skip = r->in[2].present ? r->in[2].i : 0;
	json_t *ctx, *models, *p = NULL;
	struct answer_mark mark;

	if (version < 0) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "field 'version': must be a "
		    "positive integer");
		return 0;
	}
	if ((models = model_options(r, model, &known)) == NULL)
		return -1;
	ctx = json_pack("{s:s, s:o, s:s}", "title", "Verify", "models", models, "model", model);
	if (ctx == NULL)
		return -1;
	if (model[0] == '\0')
		return resp_html(r, 200, "verify", ctx);
	if (!known) {
		json_decref(ctx);
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "model '%.100s' does not exist",
		    model);
		return 0;
	}
	json_object_set_new(ctx, "title", json_sprintf("Verify · %s", model));
	json_object_set_new(ctx, "versions", version_options(r, model, version, &vknown));
	if (json_object_get(ctx, "versions") == NULL) {
		json_decref(ctx);
		return -1;
	}
	if (version > 0 && !vknown) {
		json_decref(ctx);
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "model '%.100s' has no version %d",
		    model, version);
		return 0;
	}
	if (version > 0)
		json_object_set_new(ctx, "version", json_integer(version));
	/* A skip draws again: the skipped one comes back only when it is all that is left. */
	for (int i = 0; i < SKIP_TRIES; i++) {
		json_decref(p);
		p = NULL;
		answer_mark(r, &mark);
		if ((rc = feedback_next(r, model, version, &p)) == -1) {
			json_decref(ctx);
			return -1;
		}
		if (rc == 1) {
			/* The model and version exist: a 404 here means none left. */
			answer_undo(r, &mark);
			break;
		}
		if (json_integer_value(json_object_get(p, "prediction_id")) != skip)
			break;
	}
	if (p != NULL) {
		/* json_pack steals output and widget even when it fails. */
		json_t *pred = json_pack("{s:O, s:O, s:O, s:O, s:o, s:o?, s:o?}", "prediction_id",
		    json_object_get(p, "prediction_id"), "pversion", json_object_get(p, "version"),
		    "created_at", json_object_get(p, "created_at"), "task",
		    json_object_get(p, "task"), "inputs", inputs_ctx(r, json_object_get(p,
		    "inputs")), "output", output_ctx(r, p), "widget", truth_ctx(r, p));

		json_decref(p);
		if (pred == NULL || json_is_null(json_object_get(pred, "output")) ||
		    json_is_null(json_object_get(pred, "widget"))) {
			json_decref(pred);
			json_decref(ctx);
			return -1;
		}
		if (json_object_set_new(ctx, "pred", pred) == -1) {
			json_decref(ctx);
			return -1;
		}
	}
	return resp_html(r, 200, "verify", ctx);
}

/* ---- GET /predictions ---- */

/* The browser's datetime-local "YYYY-MM-DDTHH:MM[:SS]" as ISO 8601 UTC; "" for ""; NULL when malformed. */
static const char *
utc_of(struct req *r, const struct value *v)
{
	struct tm tm;
	const char *end;

	if (!v->present || v->len == 0)
		return "";
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(v->s, "%Y-%m-%dT%H:%M", &tm)) == NULL)
		return NULL;
	if (*end == ':' && (end = strptime(end, ":%S", &tm)) == NULL)
		return NULL;
	if (*end != '\0')
		return NULL;
	return arena_printf(r->a, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int
page_predictions(struct req *r)
{
	const char *model = r->in[0].present ? r->in[0].s : "";
	const char *verified = r->in[2].present ? r->in[2].s : "";
	const char *from = utc_of(r, &r->in[3]), *to = utc_of(r, &r->in[4]);
	int version = version_of(&r->in[1]), known, rc;
	struct pred_filter f;
	json_t *ctx, *models, *page = NULL, *rows, *p;
	size_t i;
	char ver[16] = "";

	if (version < 0 || from == NULL || to == NULL) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "field '%s': must be %s",
		    version < 0 ? "version" : from == NULL ? "from" : "to", version < 0 ?
		    "a positive integer" : "a date and time (YYYY-MM-DDTHH:MM)");
		return 0;
	}
	if ((models = model_options(r, model, &known)) == NULL)
		return -1;
	if (version > 0)
		snprintf(ver, sizeof(ver), "%d", version);
	ctx = json_pack("{s:s, s:o, s:s, s:s, s:s, s:s, s:b, s:b, s:b}", "title",
	    "Predictions", "models", models, "model", model, "version", ver,
	    /* the form shows what was typed, the query used UTC */
	    "from", r->in[3].present ? r->in[3].s : "", "to", r->in[4].present ? r->in[4].s :
	    "", "v_any", strcmp(verified, "yes") && strcmp(verified, "no"), "v_yes",
	    !strcmp(verified, "yes"), "v_no", !strcmp(verified, "no"));
	if (ctx == NULL)
		return -1;
	if (model[0] != '\0' && !known) {
		json_object_set_new(ctx, "error", json_sprintf("There is no model named '%.100s'.",
		    model));
		return resp_html(r, 404, "predictions", ctx);
	}
	if (version > 0 && model[0] == '\0') {
		json_object_set_new(ctx, "error", json_string("A version needs a model: pick "
		    "the model too."));
		return resp_html(r, 400, "predictions", ctx);
	}
	f = (struct pred_filter){ .model = model, .version = version, .verified =
	    !strcmp(verified, "yes") ? 1 : !strcmp(verified, "no") ? 0 : -1,
	    .from = from, .to = to, .limit = LIST_PAGE,
	    .after = r->in[5].present ? r->in[5].i : 0 };
	if ((rc = predictions_list(r, &f, &page)) != 0) {
		json_decref(ctx);
		return rc == 1 ? 0 : -1;
	}
	rows = json_array();
	json_array_foreach(json_object_get(page, "predictions"), i, p) {
		json_t *t = json_object_get(p, "true_value");

		json_array_append_new(rows, json_pack("{s:O, s:O, s:O, s:O, s:s, s:s, s:O, s:s}",
		    "id", json_object_get(p, "prediction_id"), "created_at",
		    json_object_get(p, "created_at"), "pmodel", json_object_get(p, "model"),
		    "pversion", json_object_get(p, "version"), "predicted", predicted_text(r, p),
		    "truth", json_is_null(t) ? "" : value_text(r, t), "verified",
		    json_object_get(p, "verified"), "by", value_text(r, json_object_get(p, "user"))));
	}
	json_object_set_new(ctx, "rows", rows);
	json_object_set_new(ctx, "filtered", json_boolean(model[0] != '\0' || f.verified >= 0 ||
	    from[0] != '\0' || to[0] != '\0'));
	/* Keyset paging: the template carries the filters into the "Older" link. */
	json_object_set(ctx, "older", json_object_get(page, "next_after"));
	json_object_set_new(ctx, "vfilter", json_string(verified));
	json_decref(page);
	return resp_html(r, 200, "predictions", ctx);
}

/* ---- GET /predictions/{id} ---- */

int
page_prediction(struct req *r)
{
	long long id = feedback_path_id(r);
	json_t *p = NULL, *ctx = NULL, *hist, *h, *ex, *o, *w, *t;
	size_t i;
	int rc, err;

	if (id == 0) {
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "no such prediction");
		return 0;
	}
	if ((rc = prediction_get(r, id, &p)) != 0)
		return rc == 1 ? 0 : -1;
	rc = -1;
	hist = json_array();
	json_array_foreach(json_object_get(p, "feedback"), i, h)
		json_array_append_new(hist, json_pack("{s:s, s:s, s:O, s:O, s:O}", "truth",
		    value_text(r, json_object_get(h, "true_value")), "by",
		    value_text(r, json_object_get(h, "user")), "source", json_object_get(h, "source"),
		    "created_at", json_object_get(h, "created_at"), "current",
		    json_object_get(h, "current")));
	o = output_ctx(r, p);
	w = truth_ctx(r, p);
	t = json_object_get(p, "true_value");
	/* "predicted_by": the layout reads "user" as who is logged in. */
	ctx = json_pack("{s:o, s:I, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:o, s:o?, s:o?, "
	    "s:s, s:o}", "title", json_sprintf("Prediction %lld", id), "id", (json_int_t)id,
	    "pmodel", json_object_get(p, "model"), "pversion", json_object_get(p, "version"),
	    "task", json_object_get(p, "task"), "created_at", json_object_get(p, "created_at"),
	    "predicted_by", json_object_get(p, "user"), "latency_us",
	    json_object_get(p, "latency_us"),
	    "request_id", json_object_get(p, "request_id"), "inputs", inputs_ctx(r,
	    json_object_get(p, "inputs")), "output", o, "widget", w, "truth",
	    json_is_null(t) ? "" : value_text(r, t), "history", hist);
	if (ctx == NULL || o == NULL || w == NULL)
		goto out;
	if ((ex = explain_ctx(r, p, &err)) != NULL)
		json_object_set_new(ctx, "explain", ex);
	else if (err)
		goto out;
	rc = resp_html(r, 200, "prediction", ctx);
	ctx = NULL;
out:
	json_decref(ctx);
	json_decref(p);
	return rc;
}

/* ---- the CSV upload ---- */

int
page_feedback_upload(struct req *r)
{
	return resp_html(r, 200, "feedback-upload", json_pack("{s:s, s:i}", "title",
	    "Upload feedback", "max_rows", FEEDBACK_MAX_BATCH));
}

/* Spreadsheets save CSV with a UTF-8 byte order mark; it is not part of the header. */
static size_t
bom_len(const char *s, size_t len)
{
	return len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3) ? 3 : 0;
}

int
page_feedback_upload_post(struct req *r)
{
	struct fb_item *items = NULL;
	struct fb_result *res = NULL;
	long *where = NULL;
	size_t skip = bom_len(r->in[0].s, r->in[0].len);
	long n = feedback_rows_csv(r, r->in[0].s + skip, r->in[0].len - skip, &items, &res,
	    &where);
	int atomic = r->in[1].present && r->in[1].b, rc, replaced = 0;
	size_t ok = 0;
	json_t *rejected, *ctx;

	if (n == -1)
		return 0;
	if (n < 0)
		return -1;
	rc = feedback_submit(r, items, (size_t)n, "bulk", atomic, res, &ok);
	if (rc != 0) {
		feedback_rows_release(items, (size_t)n);
		return rc == 1 ? 0 : -1;
	}
	rejected = json_array();
	for (long i = 0; i < n; i++) {
		if (res[i].status == 0) {
			replaced += res[i].replaced;
			continue;
		}
		json_array_append_new(rejected, json_pack("{s:I, s:o, s:i, s:s}", "line",
		    (json_int_t)where[i], "prediction_id", items[i].prediction_id > 0 ?
		    json_integer(items[i].prediction_id) : json_null(), "code", res[i].status,
		    "error", res[i].error));
	}
	feedback_rows_release(items, (size_t)n);
	ctx = json_pack("{s:s, s:i, s:s, s:I, s:I, s:I, s:i, s:o, s:b, s:b}", "title",
	    "Upload feedback", "max_rows", FEEDBACK_MAX_BATCH, "filename",
	    r->in[0].filename != NULL ? r->in[0].filename : "", "rows", (json_int_t)n,
	    "accepted", (json_int_t)ok, "nrejected", (json_int_t)((size_t)n - ok),
	    "replaced", replaced, "rejected", rejected, "atomic", atomic,
	    "nothing_written", atomic && ok < (size_t)n);
	if (ctx == NULL)
		return -1;
	json_object_set_new(ctx, "result", json_true());
	return resp_html(r, atomic && ok < (size_t)n ? 400 : 200, "feedback-upload", ctx);
}

/* ---- live quality on the model page ---- */

/* Days since the epoch of "YYYY-MM-DD"; NAN when malformed. */
static double
day_number(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || strptime(s, "%Y-%m-%d", &tm) == NULL)
		return NAN;
	return (double)(timegm(&tm) / 86400);
}

/* {label, key, value} for the metrics list; NaN/null shows as a dash. */
static int
metric(json_t *list, const char *label, const char *key, json_t *v)
{
	char buf[64];

	svg_num(json_is_number(v) ? json_number_value(v) : NAN, buf, sizeof(buf));
	return json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "label", label, "key",
	    key, "value", buf));
}

/* The daily line: MAE (regression) or accuracy (classification) per day. */
static json_t *
daily_chart(struct req *r, json_t *days, const char *key)
{
	size_t n = json_array_size(days), k = 0, i;
	struct svg_point *pts = arena_alloc(r->a, (n + 1) * sizeof(*pts));
	const char *first = NULL, *last = NULL;
	json_t *d;

	if (pts == NULL)
		return NULL;
	json_array_foreach(days, i, d) {
		json_t *v = json_object_get(d, key);
		const char *day = json_string_value(json_object_get(d, "day"));
		char num[64];

		if (!json_is_number(v) || !isfinite(day_number(day)))
			continue;
		svg_num(json_number_value(v), num, sizeof(num));
		pts[k].x = day_number(day);
		pts[k].y = json_number_value(v);
		if ((pts[k].label = arena_printf(r->a, "%s: %s %s", day, key, num)) == NULL)
			return NULL;
		if (first == NULL)
			first = day;
		last = day;
		k++;
	}
	if (k == 0)
		return json_object();   /* nothing verified yet: no chart */
	return svg_line(pts, k, 0, !strcmp(key, "accuracy") ? 1 : 0, first, last);
}

/* The confusion matrix as table rows with a heat class per cell (share of the row). */
static json_t *
confusion_ctx(json_t *conf)
{
	json_t *labels = json_object_get(conf, "labels"), *matrix = json_object_get(conf,
	    "matrix"), *rows = json_array(), *row, *cell;
	size_t a, p;

	json_array_foreach(matrix, a, row) {
		json_t *cells = json_array();
		double total = 0;

		json_array_foreach(row, p, cell)
			total += (double)json_integer_value(cell);
		json_array_foreach(row, p, cell) {
			long long n = json_integer_value(cell);
			int heat = total > 0 ? (int)floor((double)n / total * 10 + 0.5) : 0;

			json_array_append_new(cells, json_pack("{s:I, s:o, s:b}", "n",
			    (json_int_t)n, "heat", json_sprintf("heat%d", heat), "diag", a == p));
		}
		json_array_append_new(rows, json_pack("{s:O, s:o}", "actual",
		    json_array_get(labels, a), "cells", cells));
	}
	return json_pack("{s:O, s:o}", "labels", labels, "rows", rows);
}

/* One version's block: counts, metrics, the daily chart and the scatter or matrix. */
static json_t *
quality_version_ctx(struct req *r, json_t *v)
{
	json_t *m = json_object_get(v, "metrics"), *list = json_array(), *o, *chart;
	const char *task = json_string_value(json_object_get(v, "task"));
	int reg = task != NULL && !strcmp(task, "regression");
	double pred = json_number_value(json_object_get(v, "predictions"));
	double ver = json_number_value(json_object_get(v, "verified"));

	if (json_is_object(m) && reg) {
		metric(list, "MAE", "mae", json_object_get(m, "mae"));
		metric(list, "RMSE", "rmse", json_object_get(m, "rmse"));
		metric(list, "Bias (mean predicted − actual)", "bias", json_object_get(m, "bias"));
		metric(list, "R²", "r2", json_object_get(m, "r2"));
	} else if (json_is_object(m)) {
		metric(list, "Accuracy", "accuracy", json_object_get(m, "accuracy"));
		metric(list, "Macro-F1", "macro_f1", json_object_get(m, "macro_f1"));
		metric(list, "Log-loss", "log_loss", json_object_get(m, "log_loss"));
		if (json_object_get(m, "roc_auc") != NULL)
			metric(list, "ROC AUC", "roc_auc", json_object_get(m, "roc_auc"));
	}
	o = json_pack("{s:O, s:O, s:s, s:I, s:I, s:o, s:o, s:b, s:s}", "qversion",
	    json_object_get(v, "version"), "stage", json_object_get(v, "stage"), "task",
	    task != NULL ? task : "", "predictions", (json_int_t)pred, "verified",
	    (json_int_t)ver, "coverage", pred > 0 ? json_sprintf("%.1f%%", ver / pred * 100) :
	    json_string("—"), "metrics", list, "regression", reg, "metric_name", reg ?
	    "MAE" : "accuracy");
	if (o == NULL)
		return NULL;
	/* At training: what the linked run recorded, next to the live figures. */
	{
		json_t *t = json_object_get(v, "training"), *tl = json_array(), *tv;
		const char *k;

		json_object_foreach(t, k, tv) {
			char num[32];

			snprintf(num, sizeof(num), "%.4g", json_number_value(tv));
			json_array_append_new(tl, json_pack("{s:s, s:s}", "key", k, "value", num));
		}
		json_object_set_new(o, "training", tl);
		json_object_set(o, "run_id", json_object_get(v, "run_id"));
	}
	if ((chart = daily_chart(r, json_object_get(v, "daily"), reg ? "mae" : "accuracy"))
	    == NULL) {
		json_decref(o);
		return NULL;
	}
	if (json_object_size(chart) > 0)
		json_object_set_new(o, "daily_chart", chart);
	else
		json_decref(chart);
	if (reg) {
		json_t *pts = json_object_get(v, "points"), *pt;
		size_t n = json_array_size(pts), i;
		double *x = arena_alloc(r->a, (n + 1) * sizeof(double));
		double *y = arena_alloc(r->a, (n + 1) * sizeof(double));

		if (x == NULL || y == NULL) {
			json_decref(o);
			return NULL;
		}
		json_array_foreach(pts, i, pt) {
			x[i] = json_is_number(json_array_get(pt, 0)) ?
			    json_number_value(json_array_get(pt, 0)) : NAN;
			y[i] = json_is_number(json_array_get(pt, 1)) ?
			    json_number_value(json_array_get(pt, 1)) : NAN;
		}
		if (n > 0)
			json_object_set_new(o, "scatter", svg_scatter(x, y, n));
	} else if (ver > 0 && json_is_object(json_object_get(v, "confusion")))
		json_object_set_new(o, "confusion", confusion_ctx(json_object_get(v, "confusion")));
	return o;
}

int
page_quality(struct req *r, const char *name, const char *window, json_t **out)
{
	json_t *q = NULL, *versions, *v, *wins;
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = quality_get(r, name, window, &q)) != 0)
		return rc;
	versions = json_array();
	json_array_foreach(json_object_get(q, "versions"), i, v) {
		json_t *c;

		if (json_number_value(json_object_get(v, "predictions")) <= 0)
			continue;
		if ((c = quality_version_ctx(r, v)) == NULL) {
			json_decref(versions);
			json_decref(q);
			return -1;
		}
		json_array_append_new(versions, c);
	}
	json_decref(q);
	wins = json_array();
	for (const char *const *w = quality_windows; *w != NULL; w++)
		json_array_append_new(wins, json_pack("{s:s, s:b}", "window", *w, "current",
		    !strcmp(*w, window)));
	*out = json_pack("{s:s, s:o, s:o}", "window", window, "windows", wins, "versions",
	    versions);
	return *out != NULL ? 0 : -1;
}
