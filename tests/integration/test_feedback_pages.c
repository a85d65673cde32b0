/* test_feedback_pages.c: the feedback pages end to end — verify queue, skip and bad truths, the prediction log with filters and paging, one prediction with its history, CSV uploads, the model page's live quality against the JSON API, and hostile labels on every page. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xgboost/c_api.h>

#include "fixtures.h"
#include "harness.h"

#pragma GCC diagnostic ignored "-Wformat-truncation"

#define NF 7          /* x1, x2, city (3 one-hot columns), when.hour, when.day_of_week */
#define NTRAIN 400
#define PW "violet tangerine 42 kites"
/* A class label and a category that try to break out of every context. */
#define HOSTILE "<script>alert(1)</script>\"'"
#define HOSTILE_URL "%3Cscript%3Ealert(1)%3C%2Fscript%3E%22%27"
#define HOSTILE_TEXT "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;"

static char user[64];
static char auth_header[200];

static const char spec_reg[] =
    "{\"task\":\"regression\",\"inputs\":["
    "{\"name\":\"x1\",\"type\":\"number\",\"required\":true},"
    "{\"name\":\"x2\",\"type\":\"number\"},"
    "{\"name\":\"city\",\"type\":\"category\",\"required\":true,\"unknown\":\"error\"},"
    "{\"name\":\"when\",\"type\":\"datetime\",\"format\":\"%Y-%m-%d %H:%M\",\"timezone\":\"UTC\"}],"
    "\"features\":[{\"input\":\"x1\"},{\"input\":\"x2\"},"
    "{\"input\":\"city\",\"transform\":\"one_hot\",\"categories\":[\"a\",\"b\",\"c\"]},"
    "{\"input\":\"when\",\"transform\":\"datetime\",\"parts\":[\"hour\",\"day_of_week\"]}]}";
/* Binary: classes on_time and the hostile label; the third city is hostile too. */
static char spec_bin[4096];

/* ---- a booster trained here (as in test_models.c) ---- */

static void
train_row(int i, float *f, double *target)
{
	int day = 1 + i % 7, hour = (i * 5) % 24, city = i % 3;
	double x1 = sin(i * 0.37) * 10, x2 = cos(i * 0.11) * 3 + (i % 5);

	f[0] = (float)x1;
	f[1] = (float)x2;
	f[2] = city == 0;
	f[3] = city == 1;
	f[4] = city == 2;
	f[5] = (float)hour;
	f[6] = (float)(day % 7);
	*target = x1 * 0.5 + x2 + (city == 1) * 2 + hour * 0.1;
}

/* JSON bytes of a small booster (caller frees). */
static char *
train(const char *objective, size_t *len)
{
	float *x = malloc(sizeof(float) * NTRAIN * NF), *y = malloc(sizeof(float) * NTRAIN);
	char *out;

	for (int i = 0; i < NTRAIN; i++) {
		double t;

		train_row(i, x + i * NF, &t);
		y[i] = !strncmp(objective, "binary", 6) ? t > 2 : (float)t;
	}
	out = fx_train(x, y, NTRAIN, NF, objective, 0, 20, len);
	free(x);
	free(y);
	return out;
}


/* ---- the JSON API with a bearer token ---- */

static long
api(const char *method, const char *path, const char *ctype, const char *body,
    size_t len, struct http_resp *r)
{
	const char *h[2] = { auth_header, NULL };

	ck_assert_int_eq(http_request(method, path, ctype, body, len, h, r), 0);
	return r->status;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* 303 to want; the page there shows the flash (kind "ok" or "error") holding text. */
static void
follow_flash(struct fx_jar *j, struct http_resp *r, const char *want, const char *kind,
    const char *text, struct http_resp *page)
{
	char loc[512], cls[64];

	ck_assert_msg(r->status == 303, "%ld: %s", r->status, r->body);
	ck_assert_str_eq(http_header(r, "Location", loc, sizeof(loc)), want);
	http_resp_free(r);
	fx_jar_get(j, want, page);
	ck_assert_msg(page->status == 200, "GET %s: %ld", want, page->status);
	snprintf(cls, sizeof(cls), "class=\"flash flash-%s\"", kind);
	ck_assert_msg(strstr(page->body, cls) != NULL, "no %s flash on %s", kind, want);
	ck_assert_msg(strstr(page->body, text) != NULL, "no '%s' on %s:\n%s", text, want,
	    page->body);
}

/* Predictions through the JSON API: rows is a JSON list of input objects; ids out. */
static void
predict(const char *model, const char *rows, int explain, long long *ids, size_t n)
{
	char path[256], *body = malloc(strlen(rows) + 64);
	struct http_resp r;
	json_t *j, *p;
	size_t i;

	snprintf(path, sizeof(path), "/api/models/%s/predict", model);
	sprintf(body, "{\"instances\":%s,\"explain\":%s}", rows, explain ? "true" : "false");
	ck_assert_msg(api("POST", path, "application/json", body, strlen(body), &r) == 200,
	    "%s", r.body);
	j = http_json(&r);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "predictions")), n);
	json_array_foreach(json_object_get(j, "predictions"), i, p)
		ids[i] = json_integer_value(json_object_get(p, "prediction_id"));
	json_decref(j);
	http_resp_free(&r);
	free(body);
}

/* n rows of regression inputs as a JSON list (caller frees). */
static char *
reg_rows(size_t n, const char *city)
{
	char *s = malloc(n * 128 + 8);
	size_t off = 0;

	off += (size_t)sprintf(s, "[");
	for (size_t i = 0; i < n; i++)
		off += (size_t)sprintf(s + off, "%s{\"x1\":%.2f,\"x2\":%zu,\"city\":\"%s\","
		    "\"when\":\"2024-10-02 %02zu:00\"}", i ? "," : "", sin((double)i) * 5, i % 4,
		    city, i % 24);
	sprintf(s + off, "]");
	return s;
}

/* GET /api/predictions/{id} as JSON (caller decrefs). */
static json_t *
api_prediction(long long id)
{
	char path[64];
	struct http_resp r;
	json_t *j;

	snprintf(path, sizeof(path), "/api/predictions/%lld", id);
	ck_assert_int_eq(api("GET", path, NULL, NULL, 0, &r), 200);
	j = http_json(&r);
	http_resp_free(&r);
	ck_assert_ptr_nonnull(j);
	return j;
}

/* A truth through the JSON API; returns the status. */
static long
api_truth(long long id, const char *json_value)
{
	char path[64], body[256];
	struct http_resp r;
	long st;

	snprintf(path, sizeof(path), "/api/predictions/%lld/feedback", id);
	snprintf(body, sizeof(body), "{\"true_value\":%s}", json_value);
	st = api("POST", path, "application/json", body, strlen(body), &r);
	http_resp_free(&r);
	return st;
}

/* The prediction id the verify page shows ("Prediction <a href=\"/predictions/N\">"), or 0. */
static long long
shown_id(const char *body)
{
	const char *p = strstr(body, "<h2>Prediction <a href=\"/predictions/");

	return p != NULL ? atoll(p + 37) : 0;
}

/* The number after marker in body (e.g. "class=\"metric-mae\">"); fails when absent. */
static double
figure(const char *body, const char *marker)
{
	const char *p = strstr(body, marker);

	ck_assert_msg(p != NULL, "no %s on the page", marker);
	return atof(p + strlen(marker));
}

/* The CSV upload form as a browser sends it (multipart, csrf_token as a field). */
static void
csv_upload(struct fx_jar *j, const char *csrf, const char *csv, int atomic,
    struct http_resp *r)
{
	static const char b[] = "----csvBoundary7Yq";
	size_t cap = strlen(csv) + 2048, n = 0;
	char *body = malloc(cap), ct[128];

	n += (size_t)snprintf(body + n, cap - n, "--%s\r\nContent-Disposition: form-data; "
	    "name=\"csrf_token\"\r\n\r\n%s\r\n--%s\r\nContent-Disposition: form-data; "
	    "name=\"csv\"; filename=\"truths.csv\"\r\nContent-Type: text/csv\r\n\r\n%s\r\n",
	    b, csrf, b, csv);
	if (atomic)
		n += (size_t)snprintf(body + n, cap - n, "--%s\r\nContent-Disposition: "
		    "form-data; name=\"atomic\"\r\n\r\ntrue\r\n", b);
	n += (size_t)snprintf(body + n, cap - n, "--%s--\r\n", b);
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%s", b);
	fx_jar_send(j, "POST", "/feedback/upload", ct, body, n, r);
	free(body);
}

/* No raw hostile markup anywhere on a page; its text escape at least once when shown. */
static void
no_raw_hostile(const struct http_resp *r, int shown, const char *where)
{
	ck_assert_msg(strstr(r->body, "<script>alert(1)") == NULL, "raw markup on %s", where);
	ck_assert_msg(strstr(r->body, "alert(1)</script>\"") == NULL, "raw markup on %s", where);
	if (shown)
		ck_assert_msg(strstr(r->body, HOSTILE_TEXT) != NULL, "no escaped label on %s:\n%s",
		    where, r->body);
}

/*
 * tidy -errors on a rendered page when tidy is installed (deploy/install-deps
 * installs it): exit status 2 means HTML errors.
 */
static void
tidy_check(const struct http_resp *r, const char *where)
{
	char file[] = "/tmp/verdict-tidy-XXXXXX", cmd[256];
	int fd, st;

	if (system("command -v tidy >/dev/null 2>&1") != 0) {
		fprintf(stderr, "# tidy not installed: %s not checked\n", where);
		return;
	}
	ck_assert_int_ge(fd = mkstemp(file), 0);
	ck_assert(write(fd, r->body, r->body_len) == (ssize_t)r->body_len);
	close(fd);
	snprintf(cmd, sizeof(cmd), "tidy -errors -q %s", file);
	st = system(cmd);
	unlink(file);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) < 2, "tidy found errors on %s", where);
}

/* ---- tests ---- */

START_TEST(verify_regression)
{
	struct fx_jar j;
	char csrf[128], name[64], path[256], want[256], form[512], *rows;
	long long ids[8], shown, other;
	struct http_resp r, p;
	size_t len;
	char *model = train("reg:squarederror", &len);
	json_t *js;
	int seen_other = 0;

	snprintf(name, sizeof(name), "fbreg%d", getpid());
	fx_model(auth_header, name, model, len, spec_reg);
	rows = reg_rows(8, "b");
	predict(name, rows, 0, ids, 8);
	free(rows);
	fx_html_login(&j, csrf, user);

	/* The picker lists the model; nothing is shown before one is picked. */
	fx_jar_get(&j, "/verify", &r);
	ck_assert_int_eq(r.status, 200);
	snprintf(want, sizeof(want), "<option value=\"%s\" >%s</option>", name, name);
	ck_assert_msg(strstr(r.body, want) != NULL, "%s", r.body);
	ck_assert(strstr(r.body, "<title>Verify · verdict</title>") != NULL);
	ck_assert(strstr(r.body, "<a href=\"/verify\">Verify</a>") != NULL);   /* nav */
	ck_assert(shown_id(r.body) == 0);
	http_resp_free(&r);

	/* One unverified prediction of this model, with a number input for the truth. */
	snprintf(path, sizeof(path), "/verify?model=%s", name);
	fx_jar_get(&j, path, &r);
	ck_assert_int_eq(r.status, 200);
	shown = shown_id(r.body);
	ck_assert_int_ge(shown, ids[0]);
	ck_assert_int_le(shown, ids[7]);
	ck_assert(strstr(r.body, "<input name=\"true_value\" type=\"number\" step=\"any\" "
	    "required value=\"\">") != NULL);
	ck_assert(strstr(r.body, "<select name=\"true_value\"") == NULL);
	ck_assert(strstr(r.body, "<th scope=\"row\">city</th><td>b</td>") != NULL);
	ck_assert(strstr(r.body, "<strong class=\"value\">") != NULL);
	snprintf(want, sizeof(want), "<option value=\"%s\" selected>", name);
	ck_assert(strstr(r.body, want) != NULL);
	tidy_check(&r, "/verify");
	http_resp_free(&r);

	/* Submit a truth: 303 back for the next one, with a flash; stored as source "form". */
	snprintf(form, sizeof(form), "csrf_token=%s&prediction_id=%lld&true_value=3.5&model=%s",
	    csrf, shown, name);
	fx_jar_form(&j, "/verify", form, &r);
	snprintf(want, sizeof(want), "Prediction %lld verified", shown);
	follow_flash(&j, &r, path, "ok", want, &p);
	ck_assert(shown_id(p.body) != shown);
	http_resp_free(&p);
	js = api_prediction(shown);
	ck_assert(json_is_true(json_object_get(js, "verified")));
	ck_assert(fabs(json_number_value(json_object_get(js, "true_value")) - 3.5) < 1e-9);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(js,
	    "feedback"), 0), "source")), "form");
	json_decref(js);

	/* Skip: another unverified one, never the skipped (or the verified) one. */
	fx_jar_get(&j, path, &r);
	other = shown_id(r.body);
	ck_assert(other != 0 && other != shown);
	http_resp_free(&r);
	for (int i = 0; i < 5; i++) {
		snprintf(want, sizeof(want), "%s&skip=%lld", path, other);
		fx_jar_get(&j, want, &r);
		ck_assert_int_eq(r.status, 200);
		ck_assert(shown_id(r.body) != shown);
		seen_other |= shown_id(r.body) != other && shown_id(r.body) != 0;
		http_resp_free(&r);
	}
	ck_assert(seen_other);
	fx_jar_get(&j, path, &r);
	other = shown_id(r.body);
	snprintf(want, sizeof(want), "href=\"/verify?model=%s&amp;skip=%lld\">Skip</a>", name,
	    other);
	ck_assert_msg(strstr(r.body, want) != NULL, "%s", r.body);
	http_resp_free(&r);

	/* Not a number: the reason as an error flash, nothing stored. */
	snprintf(form, sizeof(form), "csrf_token=%s&prediction_id=%lld&true_value=abc&model=%s",
	    csrf, other, name);
	fx_jar_form(&j, "/verify", form, &r);
	follow_flash(&j, &r, path, "error", "true_value must be a finite number", &p);
	http_resp_free(&p);
	js = api_prediction(other);
	ck_assert(json_is_false(json_object_get(js, "verified")));
	ck_assert(json_is_null(json_object_get(js, "true_value")));
	json_decref(js);
	/* An unknown prediction: a flash too, never a 5xx. */
	snprintf(form, sizeof(form), "csrf_token=%s&prediction_id=999999999999&true_value=1&"
	    "model=%s", csrf, name);
	fx_jar_form(&j, "/verify", form, &r);
	follow_flash(&j, &r, path, "error", "does not exist", &p);
	http_resp_free(&p);
	/* Without the CSRF token: refused. */
	snprintf(form, sizeof(form), "prediction_id=%lld&true_value=1&model=%s", other, name);
	fx_jar_form(&j, "/verify", form, &r);
	ck_assert_int_eq(r.status, 403);
	http_resp_free(&r);

	/* Verify the rest; then the empty state says what to do next. */
	for (int i = 0; i < 8; i++)
		if (ids[i] != shown)
			ck_assert_int_eq(api_truth(ids[i], "1.25"), 201);
	fx_jar_get(&j, path, &r);
	ck_assert_int_eq(r.status, 200);
	snprintf(want, sizeof(want), "All predictions of %s are verified", name);
	ck_assert_msg(strstr(r.body, want) != NULL, "%s", r.body);
	ck_assert(strstr(r.body, "predict more</a> or pick another model") != NULL);
	http_resp_free(&r);
	/* Unknown models and versions are 404 pages. */
	fx_jar_get(&j, "/verify?model=no-such-model", &r);
	ck_assert_int_eq(r.status, 404);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/verify?model=%s&version=7", name);
	fx_jar_get(&j, path, &r);
	ck_assert_int_eq(r.status, 404);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/verify?model=%s&version=x1", name);
	fx_jar_get(&j, path, &r);
	ck_assert_int_eq(r.status, 400);
	http_resp_free(&r);
	free(model);
}
END_TEST

START_TEST(verify_classification_hostile)
{
	struct fx_jar j;
	char csrf[128], name[64], path[256], want[512], form[1024], rows[1024];
	long long ids[3], shown;
	struct http_resp r, p;
	size_t len;
	char *model = train("binary:logistic", &len);
	json_t *js;

	snprintf(name, sizeof(name), "fbbin%d", getpid());
	fx_model(auth_header, name, model, len, spec_bin);
	snprintf(rows, sizeof(rows), "[{\"x1\":4,\"x2\":1,\"city\":\"%s\"},"
	    "{\"x1\":-4,\"x2\":0,\"city\":\"a\"},{\"x1\":2,\"x2\":3,\"city\":\"b\"}]",
	    "<script>alert(1)<\\/script>\\\"'");
	predict(name, rows, 1, ids, 3);
	fx_html_login(&j, csrf, user);

	/* A select of the classes; the hostile label is escaped in the option. */
	snprintf(path, sizeof(path), "/verify?model=%s", name);
	fx_jar_get(&j, path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, "<select name=\"true_value\" required><option value=\"\">"
	    "— choose —</option><option value=\"on_time\" >on_time</option>") != NULL);
	ck_assert(strstr(r.body, "type=\"number\"") == NULL);
	ck_assert(strstr(r.body, "<table class=\"probs\">") != NULL);
	ck_assert(strstr(r.body, "<div class=\"fill w") != NULL);
	no_raw_hostile(&r, 1, "/verify");
	shown = shown_id(r.body);
	ck_assert(shown != 0);
	http_resp_free(&r);

	/* A label that is not a class: the error lists the classes, nothing is stored. */
	snprintf(form, sizeof(form), "csrf_token=%s&prediction_id=%lld&true_value=%%3Cb%%3Emaybe"
	    "&model=%s", csrf, shown, name);
	fx_jar_form(&j, "/verify", form, &r);
	follow_flash(&j, &r, path, "error", "true_value &#39;&lt;b&gt;maybe&#39; is not a class "
	    "of this model; expected one of: on_time, " HOSTILE_TEXT, &p);
	ck_assert(strstr(p.body, "<b>maybe") == NULL);
	no_raw_hostile(&p, 1, "/verify after an error");
	http_resp_free(&p);
	js = api_prediction(shown);
	ck_assert(json_is_false(json_object_get(js, "verified")));
	ck_assert_uint_eq(json_array_size(json_object_get(js, "feedback")), 0);
	json_decref(js);

	/* The hostile label itself is a class: accepted and stored as sent. */
	snprintf(form, sizeof(form), "csrf_token=%s&prediction_id=%lld&true_value=%s"
	    "&model=%s&version=1", csrf, ids[0], HOSTILE_URL, name);
	fx_jar_form(&j, "/verify", form, &r);
	snprintf(want, sizeof(want), "Prediction %lld verified", ids[0]);
	snprintf(path, sizeof(path), "/verify?model=%s&version=1", name);
	follow_flash(&j, &r, path, "ok", want, &p);
	http_resp_free(&p);
	js = api_prediction(ids[0]);
	ck_assert_str_eq(json_string_value(json_object_get(js, "true_value")), HOSTILE);
	json_decref(js);

	/* The detail page: inputs, the stored explanation, the truth, all escaped. */
	snprintf(path, sizeof(path), "/predictions/%lld", ids[0]);
	fx_jar_get(&j, path, &r);
	ck_assert_int_eq(r.status, 200);
	no_raw_hostile(&r, 1, path);
	ck_assert(strstr(r.body, "<svg class=\"explain\"") != NULL);
	ck_assert_uint_eq(count(r.body, "<rect "), 4);      /* one bar per raw field */
	ck_assert(strstr(r.body, ">city = " HOSTILE_TEXT "</text>") != NULL);
	ck_assert(strstr(r.body, "<strong class=\"truth\">" HOSTILE_TEXT "</strong>") != NULL);
	ck_assert(strstr(r.body, "<option value=\"&#x3C;script&#x3E;alert&#x28;1&#x29;"
	    "&#x3C;/script&#x3E;&#x22;&#x27;\" selected>") != NULL);
	tidy_check(&r, path);
	http_resp_free(&r);

	/* The list, the model page (confusion matrix) and the upload results escape it too. */
	snprintf(path, sizeof(path), "/predictions?model=%s", name);
	fx_jar_get(&j, path, &r);
	ck_assert_int_eq(r.status, 200);
	no_raw_hostile(&r, 1, path);
	tidy_check(&r, path);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/models/%s", name);
	fx_jar_get(&j, path, &r);
	ck_assert_int_eq(r.status, 200);
	no_raw_hostile(&r, 1, path);
	ck_assert(strstr(r.body, "<table class=\"confusion\">") != NULL);
	ck_assert(strstr(r.body, "<th scope=\"row\">" HOSTILE_TEXT "</th>") != NULL);
	tidy_check(&r, path);
	http_resp_free(&r);
	snprintf(form, sizeof(form), "prediction_id,true_value\n%lld,\"<img src=x onerror=y>\"\n",
	    ids[1]);
	csv_upload(&j, csrf, form, 0, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, "<img src=x") == NULL);
	ck_assert(strstr(r.body, "&lt;img src=x onerror=y&gt;") != NULL);
	no_raw_hostile(&r, 1, "the upload results");
	http_resp_free(&r);
	free(model);
}
END_TEST

START_TEST(predictions_filters_detail_history)
{
	struct fx_jar j;
	char csrf[128], a[64], b[64], path[512], want[512], form[512], *rows;
	long long ia[51], ib[2], next;
	struct http_resp r, p;
	size_t len;
	char *model = train("reg:squarederror", &len);
	const char *older;

	snprintf(a, sizeof(a), "fbla%d", getpid());
	snprintf(b, sizeof(b), "fblb%d", getpid());
	fx_model(auth_header, a, model, len, spec_reg);
	fx_model(auth_header, b, model, len, spec_reg);
	rows = reg_rows(51, "a");
	predict(a, rows, 0, ia, 51);
	free(rows);
	rows = reg_rows(2, "c");
	predict(b, rows, 0, ib, 2);
	free(rows);
	ck_assert_int_eq(api_truth(ia[50], "2.5"), 201);
	fx_html_login(&j, csrf, user);

	/* verified=yes: only the verified one; the filter stays in the form. */
	snprintf(path, sizeof(path), "/predictions?model=%s&version=&verified=yes&from=&to=", a);
	fx_jar_get(&j, path, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_uint_eq(count(r.body, "<td><a href=\"/predictions/"), 1);
	snprintf(want, sizeof(want), "<td><a href=\"/predictions/%lld\">", ia[50]);
	ck_assert(strstr(r.body, want) != NULL);
	ck_assert(strstr(r.body, "<td>2.5</td>") != NULL);
	ck_assert(strstr(r.body, "<option value=\"yes\" selected>yes</option>") != NULL);
	snprintf(want, sizeof(want), "<option value=\"%s\" selected>%s</option>", a, a);
	ck_assert(strstr(r.body, want) != NULL);
	ck_assert(strstr(r.body, "Older →") == NULL);
	ck_assert(strstr(r.body, "<title>Predictions · verdict</title>") != NULL);
	http_resp_free(&r);

	/* The model filter: b's two rows only, unverified, newest first. */
	snprintf(path, sizeof(path), "/predictions?model=%s&verified=no", b);
	fx_jar_get(&j, path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(count(r.body, "<td><a href=\"/predictions/"), 2);
	ck_assert_uint_eq(count(r.body, "<span class=\"muted\">not verified</span>"), 2);
	snprintf(want, sizeof(want), "<td><a href=\"/predictions/%lld\">", ib[1]);
	ck_assert(strstr(r.body, want) != NULL);
	ck_assert(strstr(r.body, want) == strstr(r.body, "<td><a href=\"/predictions/"));
	snprintf(want, sizeof(want), "<td><a href=\"/predictions/%lld\">", ia[0]);
	ck_assert(strstr(r.body, want) == NULL);
	http_resp_free(&r);

	/* Keyset pages of 50: "Older →" carries the filters and after=. */
	snprintf(path, sizeof(path), "/predictions?model=%s", a);
	fx_jar_get(&j, path, &r);
	ck_assert_uint_eq(count(r.body, "<td><a href=\"/predictions/"), 50);
	older = strstr(r.body, "<p class=\"pager\"><a href=\"");
	ck_assert_ptr_nonnull(older);
	snprintf(want, sizeof(want), "/predictions?model=%s&amp;version=&amp;verified=&amp;"
	    "from=&amp;to=&amp;after=%lld\" rel=\"next\">", a, ia[1]);
	ck_assert_msg(strstr(older, want) != NULL, "%s", older);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/predictions?model=%s&after=%lld", a, ia[1]);
	fx_jar_get(&j, path, &r);
	ck_assert_uint_eq(count(r.body, "<td><a href=\"/predictions/"), 1);
	snprintf(want, sizeof(want), "<td><a href=\"/predictions/%lld\">", ia[0]);
	ck_assert(strstr(r.body, want) != NULL);
	http_resp_free(&r);

	/* Time range: everything after 2000; nothing before it; a bad time is a 400. */
	snprintf(path, sizeof(path), "/predictions?model=%s&from=2000-01-01T00%%3A00", b);
	fx_jar_get(&j, path, &r);
	ck_assert_uint_eq(count(r.body, "<td><a href=\"/predictions/"), 2);
	ck_assert(strstr(r.body, "value=\"2000-01-01T00:00\"") != NULL);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/predictions?model=%s&to=2000-01-01T00%%3A00", b);
	fx_jar_get(&j, path, &r);
	ck_assert_uint_eq(count(r.body, "<td><a href=\"/predictions/"), 0);
	ck_assert(strstr(r.body, "No predictions match these filters") != NULL);
	http_resp_free(&r);
	fx_jar_get(&j, "/predictions?from=yesterday", &r);
	ck_assert_int_eq(r.status, 400);
	ck_assert(strstr(r.body, "field &#39;from&#39;") != NULL);
	http_resp_free(&r);
	fx_jar_get(&j, "/predictions?model=no-such-model", &r);
	ck_assert_int_eq(r.status, 404);
	ck_assert(strstr(r.body, "There is no model named") != NULL);
	http_resp_free(&r);

	/* The detail page, then a correction through its form: both in the history. */
	next = ia[50];
	snprintf(path, sizeof(path), "/predictions/%lld", next);
	fx_jar_get(&j, path, &r);
	ck_assert_int_eq(r.status, 200);
	snprintf(want, sizeof(want), "<a href=\"/models/%s\">%s</a>", a, a);
	ck_assert(strstr(r.body, want) != NULL);
	snprintf(want, sizeof(want), "<a href=\"/models/%s/versions/1\">version 1</a>", a);
	ck_assert(strstr(r.body, want) != NULL);
	snprintf(want, sizeof(want), "<dt>Predicted by</dt><dd>%s</dd>", user);
	ck_assert(strstr(r.body, want) != NULL);
	ck_assert(strstr(r.body, "<strong class=\"truth\">2.5</strong>") != NULL);
	ck_assert(strstr(r.body, "No explanation was stored") != NULL);
	ck_assert(strstr(r.body, "type=\"number\" step=\"any\" required value=\"2.5\"") != NULL);
	ck_assert_uint_eq(count(r.body, "<td>current</td>"), 1);
	tidy_check(&r, path);
	http_resp_free(&r);
	snprintf(form, sizeof(form), "csrf_token=%s&true_value=7.25", csrf);
	snprintf(want, sizeof(want), "/predictions/%lld/feedback", next);
	fx_jar_form(&j, want, form, &r);
	snprintf(want, sizeof(want), "Prediction %lld corrected", next);
	follow_flash(&j, &r, path, "ok", want, &p);
	ck_assert(strstr(p.body, "<strong class=\"truth\">7.25</strong>") != NULL);
	ck_assert(strstr(p.body, "<caption>Feedback history, oldest first</caption>") != NULL);
	snprintf(want, sizeof(want), "<tr><td>2.5</td><td>%s</td><td>api</td>", user);
	ck_assert_msg(strstr(p.body, want) != NULL, "%s", p.body);
	snprintf(want, sizeof(want), "<tr><td>7.25</td><td>%s</td><td>form</td>", user);
	ck_assert(strstr(p.body, want) != NULL);
	ck_assert(strstr(p.body, want) > strstr(p.body, "<td>2.5</td>"));
	ck_assert_uint_eq(count(p.body, "<td>current</td>"), 1);
	ck_assert_uint_eq(count(p.body, "<span class=\"muted\">replaced</span>"), 1);
	http_resp_free(&p);
	/* A bad correction keeps the truth. */
	snprintf(form, sizeof(form), "csrf_token=%s&true_value=NaN", csrf);
	snprintf(want, sizeof(want), "/predictions/%lld/feedback", next);
	fx_jar_form(&j, want, form, &r);
	follow_flash(&j, &r, path, "error", "finite number", &p);
	ck_assert(strstr(p.body, "<strong class=\"truth\">7.25</strong>") != NULL);
	http_resp_free(&p);
	fx_jar_get(&j, "/predictions/999999999999", &r);
	ck_assert_int_eq(r.status, 404);
	http_resp_free(&r);
	fx_jar_get(&j, "/predictions/12x", &r);
	ck_assert_int_eq(r.status, 404);
	http_resp_free(&r);
	free(model);
}
END_TEST

START_TEST(csv_upload_rows)
{
	struct fx_jar j;
	char csrf[128], name[64], csv[1024], want[256];
	long long ids[4];
	struct http_resp r;
	size_t len;
	char *model = train("binary:logistic", &len);
	json_t *js;

	snprintf(name, sizeof(name), "fbcsv%d", getpid());
	fx_model(auth_header, name, model, len, spec_bin);
	predict(name, "[{\"x1\":1,\"city\":\"a\"},{\"x1\":2,\"city\":\"b\"},"
	    "{\"x1\":3,\"city\":\"a\"},{\"x1\":4,\"city\":\"b\"}]", 0, ids, 4);
	fx_html_login(&j, csrf, user);
	fx_jar_get(&j, "/feedback/upload", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, "enctype=\"multipart/form-data\"") != NULL);
	ck_assert(strstr(r.body, "<input type=\"file\" name=\"csv\" required") != NULL);
	ck_assert(strstr(r.body, "name=\"atomic\"") != NULL);
	tidy_check(&r, "/feedback/upload");
	http_resp_free(&r);

	/* Two good rows (lines 2 and 5), a bad id (3) and an unknown label (4). */
	snprintf(csv, sizeof(csv), "prediction_id,true_value,note\n%lld,on_time,x\n"
	    "999999999999,on_time,y\n%lld,sometimes,z\n%lld,on_time,w\n", ids[0], ids[1],
	    ids[2]);
	csv_upload(&j, csrf, csv, 0, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert(strstr(r.body, "<strong class=\"accepted\">2</strong> of 4 rows accepted") != NULL);
	ck_assert(strstr(r.body, "<strong class=\"rejected\">2</strong> rejected") != NULL);
	ck_assert(strstr(r.body, "<tr><td class=\"num\">3</td><td class=\"num\"><a href=\""
	    "/predictions/999999999999\">999999999999</a></td><td class=\"num\">404</td><td>"
	    "prediction 999999999999 does not exist</td></tr>") != NULL);
	snprintf(want, sizeof(want), "<tr><td class=\"num\">4</td><td class=\"num\"><a href=\""
	    "/predictions/%lld\">%lld</a></td><td class=\"num\">400</td><td>true_value &#39;"
	    "sometimes&#39; is not a class", ids[1], ids[1]);
	ck_assert_msg(strstr(r.body, want) != NULL, "%s", r.body);
	ck_assert_uint_eq(count(r.body, "<tr><td class=\"num\">"), 2);
	ck_assert(strstr(r.body, "Results for truths.csv") != NULL);
	tidy_check(&r, "the upload results");
	http_resp_free(&r);
	for (int i = 0; i < 4; i++) {
		js = api_prediction(ids[i]);
		ck_assert_int_eq(json_is_true(json_object_get(js, "verified")), i == 0 || i == 2);
		if (i == 0 || i == 2) {
			ck_assert_str_eq(json_string_value(json_object_get(js, "true_value")),
			    "on_time");
			ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
			    json_object_get(js, "feedback"), 0), "source")), "bulk");
		}
		json_decref(js);
	}

	/* Atomic with one bad row: 400, the reason, nothing written. */
	snprintf(csv, sizeof(csv), "prediction_id,true_value\n%lld,on_time\nnot-a-number,"
	    "on_time\n", ids[3]);
	csv_upload(&j, csrf, csv, 1, &r);
	ck_assert_int_eq(r.status, 400);
	ck_assert(strstr(r.body, "nothing was written") != NULL);
	ck_assert(strstr(r.body, "<strong class=\"accepted\">0</strong> of 2 rows accepted") != NULL);
	ck_assert(strstr(r.body, "line 3: prediction_id &#39;not-a-number&#39; is not a "
	    "positive integer") != NULL);
	http_resp_free(&r);
	js = api_prediction(ids[3]);
	ck_assert(json_is_false(json_object_get(js, "verified")));
	json_decref(js);

	/* A spreadsheet's byte order mark before the header is not part of it. */
	snprintf(csv, sizeof(csv), "\xEF\xBB\xBFprediction_id,true_value\r\n%lld,%s\r\n",
	    ids[3], "\"<script>alert(1)</script>\"\"'\"");
	csv_upload(&j, csrf, csv, 0, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert(strstr(r.body, "<strong class=\"accepted\">1</strong> of 1 rows") != NULL);
	http_resp_free(&r);
	js = api_prediction(ids[3]);
	ck_assert_str_eq(json_string_value(json_object_get(js, "true_value")), HOSTILE);
	json_decref(js);

	/* A body-level problem (no header) is a 400 page with the reason. */
	csv_upload(&j, csrf, "1,2\n", 0, &r);
	ck_assert_int_eq(r.status, 400);
	ck_assert(strstr(r.body, "prediction_id and true_value") != NULL);
	http_resp_free(&r);
	free(model);
}
END_TEST

/* The API's number at a JSON path of the first version, e.g. "metrics.mae". */
static double
api_fig(json_t *q, const char *a, const char *b)
{
	json_t *v = json_array_get(json_object_get(q, "versions"), 0);

	v = json_object_get(v, a);
	if (b != NULL)
		v = json_object_get(v, b);
	ck_assert_msg(json_is_number(v), "no %s.%s in the API answer", a, b ? b : "");
	return json_number_value(v);
}

static json_t *
api_quality(const char *name, const char *window)
{
	char path[256];
	struct http_resp r;
	json_t *q;

	snprintf(path, sizeof(path), "/api/models/%s/quality?window=%s", name, window);
	ck_assert_int_eq(api("GET", path, NULL, NULL, 0, &r), 200);
	q = http_json(&r);
	http_resp_free(&r);
	return q;
}

START_TEST(model_page_live_quality)
{
	struct fx_jar j;
	char csrf[128], name[64], bin[64], path[256], truth[32], *rows;
	long long ids[6];
	struct http_resp r;
	size_t len;
	char *model = train("reg:squarederror", &len), *bmodel;
	json_t *q;
	static const char *const marks[] = { "class=\"metric-mae\">", "class=\"metric-rmse\">",
		"class=\"metric-bias\">", "class=\"metric-r2\">" };
	static const char *const keys[] = { "mae", "rmse", "bias", "r2" };

	snprintf(name, sizeof(name), "fbq%d", getpid());
	fx_model(auth_header, name, model, len, spec_reg);
	rows = reg_rows(6, "b");
	predict(name, rows, 0, ids, 6);
	free(rows);
	for (int i = 0; i < 4; i++) {
		snprintf(truth, sizeof(truth), "%.2f", 1.5 * i - 2);
		ck_assert_int_eq(api_truth(ids[i], truth), 201);
	}
	fx_html_login(&j, csrf, user);

	/* Default window 7d, as the API's default. */
	q = api_quality(name, "7d");
	snprintf(path, sizeof(path), "/models/%s", name);
	fx_jar_get(&j, path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, "<h2 id=\"quality\">Live quality</h2>") != NULL);
	ck_assert(strstr(r.body, "<strong aria-current=\"page\">7d</strong>") != NULL);
	ck_assert_int_eq((int)figure(r.body, "class=\"q-predictions\">"), 6);
	ck_assert_int_eq((int)figure(r.body, "class=\"q-verified\">"), 4);
	ck_assert(fabs(figure(r.body, "class=\"q-coverage\">") - 100 * api_fig(q, "coverage",
	    NULL)) < 0.06);
	for (int i = 0; i < 4; i++) {
		double page = figure(r.body, marks[i]), want = api_fig(q, "metrics", keys[i]);

		ck_assert_msg(fabs(page - want) <= 1e-4 + 1e-4 * fabs(want), "%s: page %g, API %g",
		    keys[i], page, want);
	}
	ck_assert(strstr(r.body, "<svg class=\"line\"") != NULL);
	ck_assert(strstr(r.body, "<polyline class=\"series\" points=\"") != NULL);
	ck_assert(strstr(r.body, "<svg class=\"scatter\"") != NULL);
	ck_assert_uint_eq(count(r.body, "r=\"2.5\"></circle>"), 4);   /* one dot per truth */
	/* No linked run here: the training column says how to get one. */
	ck_assert(strstr(r.body, "no linked run: register versions with a run id") != NULL);
	tidy_check(&r, path);
	http_resp_free(&r);
	json_decref(q);

	/* The window switch. */
	snprintf(path, sizeof(path), "/models/%s?window=all", name);
	fx_jar_get(&j, path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, "<strong aria-current=\"page\">all</strong>") != NULL);
	ck_assert_int_eq((int)figure(r.body, "class=\"q-verified\">"), 4);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/models/%s?window=1y", name);
	fx_jar_get(&j, path, &r);
	ck_assert_int_eq(r.status, 400);
	http_resp_free(&r);

	/* Classification: accuracy and ROC AUC as the API has them, a confusion matrix. */
	bmodel = train("binary:logistic", &len);
	snprintf(bin, sizeof(bin), "fbqb%d", getpid());
	fx_model(auth_header, bin, bmodel, len, spec_bin);
	predict(bin, "[{\"x1\":4,\"city\":\"a\"},{\"x1\":-4,\"city\":\"b\"},"
	    "{\"x1\":2,\"city\":\"a\"},{\"x1\":0,\"city\":\"b\"}]", 0, ids, 4);
	ck_assert_int_eq(api_truth(ids[0], "\"on_time\""), 201);
	ck_assert_int_eq(api_truth(ids[1], "\"on_time\""), 201);
	ck_assert_int_eq(api_truth(ids[2], "\"" "<script>alert(1)<\\/script>\\\"'" "\""), 201);
	q = api_quality(bin, "24h");
	snprintf(path, sizeof(path), "/models/%s?window=24h", bin);
	fx_jar_get(&j, path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(fabs(figure(r.body, "class=\"metric-accuracy\">") - api_fig(q, "metrics",
	    "accuracy")) <= 1e-4);
	ck_assert(fabs(figure(r.body, "class=\"metric-log_loss\">") - api_fig(q, "metrics",
	    "log_loss")) <= 1e-4 * (1 + api_fig(q, "metrics", "log_loss")));
	ck_assert(fabs(figure(r.body, "class=\"metric-roc_auc\">") - api_fig(q, "metrics",
	    "roc_auc")) <= 1e-4);
	ck_assert(strstr(r.body, "<table class=\"confusion\">") != NULL);
	ck_assert_uint_eq(count(r.body, "<td class=\"num heat"), 4);
	no_raw_hostile(&r, 1, path);
	http_resp_free(&r);
	json_decref(q);
	free(bmodel);
	free(model);
}
END_TEST

START_TEST(empty_states_and_links)
{
	struct fx_jar j;
	char csrf[128], name[64], path[256], form[256];
	struct http_resp r;

	fx_html_login(&j, csrf, user);
	snprintf(name, sizeof(name), "fbempty%d", getpid());
	snprintf(form, sizeof(form), "csrf_token=%s&name=%s", csrf, name);
	fx_jar_form(&j, "/models", form, &r);
	ck_assert_int_eq(r.status, 303);
	http_resp_free(&r);
	/* A model without predictions: nothing to verify, no quality yet. */
	snprintf(path, sizeof(path), "/verify?model=%s", name);
	fx_jar_get(&j, path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, "are verified — <a href=") != NULL);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/models/%s", name);
	fx_jar_get(&j, path, &r);
	ck_assert(strstr(r.body, "No predictions in this window") != NULL);
	ck_assert(strstr(r.body, "<svg") == NULL);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/predictions?model=%s", name);
	fx_jar_get(&j, path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, "No predictions match these filters") != NULL);
	http_resp_free(&r);
	/* Not logged in: to the login form. */
	fx_jar_init(&j);
	fx_jar_get(&j, "/verify", &r);
	ck_assert_int_eq(r.status, 303);
	http_resp_free(&r);
	fx_jar_get(&j, "/predictions/1", &r);
	ck_assert_int_eq(r.status, 303);
	http_resp_free(&r);
}
END_TEST

/* spec_bin: spec_reg as a binary classifier whose second class and third city are hostile. */
static void
make_spec_bin(void)
{
	json_t *s = json_loads(spec_reg, 0, NULL), *cats;
	char *text;

	json_object_set_new(s, "task", json_string("binary"));
	json_object_set_new(s, "classes", json_pack("[s, s]", "on_time", HOSTILE));
	cats = json_object_get(json_array_get(json_object_get(s, "features"), 2), "categories");
	json_array_set_new(cats, 2, json_string(HOSTILE));
	text = json_dumps(s, JSON_COMPACT);
	snprintf(spec_bin, sizeof(spec_bin), "%s", text);
	free(text);
	json_decref(s);
}

int
main(void)
{
	Suite *s = suite_create("feedback_pages");
	TCase *tc = tcase_create("feedback_pages");
	SRunner *sr;
	int failed;
	struct http_resp r;
	char body[256];
	json_t *j;

	make_spec_bin();
	setenv("VERDICT_TRUSTED_PROXIES", "127.0.0.1", 1);
	if (harness_start() == -1)
		return 99;
	/* One account: pages log in through the form, API calls use a token. */
	snprintf(user, sizeof(user), "fbpager%d", getpid());
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"" PW "\"}", user);
	if (http_request("POST", "/api/signup", "application/json", body, strlen(body), NULL,
	    &r) != 0 || r.status != 201)
		return 99;
	http_resp_free(&r);
	snprintf(body, sizeof(body), "username=%s&password=violet+tangerine+42+kites", user);
	if (http_request("POST", "/api/token", "application/x-www-form-urlencoded", body,
	    strlen(body), NULL, &r) != 0 || r.status != 200)
		return 99;
	j = http_json(&r);
	snprintf(auth_header, sizeof(auth_header), "Authorization: Bearer %s",
	    json_string_value(json_object_get(j, "access_token")));
	json_decref(j);
	http_resp_free(&r);

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, verify_regression);
	tcase_add_test(tc, verify_classification_hostile);
	tcase_add_test(tc, predictions_filters_detail_history);
	tcase_add_test(tc, csv_upload_rows);
	tcase_add_test(tc, model_page_live_quality);
	tcase_add_test(tc, empty_states_and_links);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_stop();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
