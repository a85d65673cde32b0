/* test_model_pages.c: the registry's HTML pages end to end — create, upload, stage, alias, download, the predict form against the JSON API, and hostile forms. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xgboost/c_api.h>

#include "fixtures.h"
#include "harness.h"

#pragma GCC diagnostic ignored "-Wformat-truncation"

#define NF 7          /* x1, x2, city=a|b|c, when.hour, when.day_of_week */
#define NTRAIN 400
#define PW "violet tangerine 42 kites"

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
static char spec_bin[2048];
/* Every widget: integer and boolean with defaults, an optional category, a datetime
 * in a format with %T and %z in another zone; still 7 columns for the same booster. */
static const char spec_mixed[] =
    "{\"task\":\"regression\",\"inputs\":["
    "{\"name\":\"x1\",\"type\":\"number\",\"required\":true},"
    "{\"name\":\"n\",\"type\":\"integer\",\"default\":2},"
    "{\"name\":\"flag\",\"type\":\"boolean\"},"
    "{\"name\":\"city\",\"type\":\"category\"},"
    "{\"name\":\"when\",\"type\":\"datetime\",\"format\":\"%d/%m/%Y %T%z\","
    "\"timezone\":\"+02:00\",\"default\":\"05/01/2024 08:30:00+00:00\"}],"
    "\"features\":[{\"input\":\"x1\"},{\"input\":\"n\"},{\"input\":\"flag\"},"
    "{\"input\":\"city\",\"transform\":\"one_hot\",\"categories\":[\"a\",\"b\",\"c\"]},"
    "{\"input\":\"when\",\"transform\":\"datetime\",\"parts\":[\"hour\"]}]}";

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
	DMatrixHandle d;
	BoosterHandle b;
	bst_ulong n;
	const char *buf;
	char *out;

	for (int i = 0; i < NTRAIN; i++) {
		double t;

		train_row(i, x + i * NF, &t);
		y[i] = !strncmp(objective, "binary", 6) ? t > 2 : (float)t;
	}
	ck_assert_int_eq(XGDMatrixCreateFromMat(x, NTRAIN, NF, NAN, &d), 0);
	ck_assert_int_eq(XGDMatrixSetFloatInfo(d, "label", y, NTRAIN), 0);
	ck_assert_int_eq(XGBoosterCreate(&d, 1, &b), 0);
	XGBoosterSetParam(b, "objective", objective);
	XGBoosterSetParam(b, "max_depth", "4");
	XGBoosterSetParam(b, "nthread", "1");
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(XGBoosterUpdateOneIter(b, i, d), 0);
	ck_assert_int_eq(XGBoosterSaveModelToBuffer(b, "{\"format\":\"json\"}", &n, &buf), 0);
	out = malloc(n);
	memcpy(out, buf, n);
	*len = n;
	XGBoosterFree(b);
	XGDMatrixFree(d);
	free(x);
	free(y);
	return out;
}


/* 303 to want; then the page there shows flash (escaped as HTML text). */
static void
expect_redirect_flash(struct fx_jar *j, struct http_resp *r, const char *want,
    const char *flash)
{
	char loc[512];
	struct http_resp p;

	ck_assert_msg(r->status == 303, "%ld: %s", r->status, r->body);
	ck_assert_str_eq(http_header(r, "Location", loc, sizeof(loc)), want);
	http_resp_free(r);
	fx_jar_get(j, want, &p);
	ck_assert_int_eq(p.status, 200);
	ck_assert_msg(strstr(p.body, flash) != NULL, "no flash '%s' on %s", flash, want);
	ck_assert(strstr(p.body, "class=\"flash flash-ok\"") != NULL);
	http_resp_free(&p);
	/* Shown once. */
	fx_jar_get(j, want, &p);
	ck_assert(strstr(p.body, flash) == NULL);
	http_resp_free(&p);
}

/* multipart/form-data like a browser's upload form (csrf_token as a field). */
static void
html_upload(struct fx_jar *j, const char *model, const char *csrf, const char *booster,
    size_t blen, const char *spec, struct http_resp *r)
{
	static const char b[] = "----browserBoundaryQ9x";
	size_t cap = blen + strlen(spec) + 2048, n = 0;
	char *body = malloc(cap), ct[128], path[256];

	n += (size_t)snprintf(body + n, cap - n, "--%s\r\nContent-Disposition: form-data; "
	    "name=\"csrf_token\"\r\n\r\n%s\r\n--%s\r\nContent-Disposition: form-data; "
	    "name=\"booster\"; filename=\"model.json\"\r\nContent-Type: application/json"
	    "\r\n\r\n", b, csrf, b);
	memcpy(body + n, booster, blen);
	n += blen;
	n += (size_t)snprintf(body + n, cap - n, "\r\n--%s\r\nContent-Disposition: form-data; "
	    "name=\"spec\"; filename=\"spec.json\"\r\nContent-Type: application/json\r\n\r\n"
	    "%s\r\n--%s\r\nContent-Disposition: form-data; name=\"source\"\r\n\r\n"
	    "notebook 7\r\n--%s--\r\n", b, spec, b, b);
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%s", b);
	snprintf(path, sizeof(path), "/models/%s/versions", model);
	fx_jar_send(j, "POST", path, ct, body, n, r);
	free(body);
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

/* The number inside <strong class="value">…</strong> or <span class="value">…</span>. */
static double
page_value(const char *body)
{
	const char *p = strstr(body, "class=\"value\">");

	ck_assert_msg(p != NULL, "no value on the page");
	return atof(p + 14);
}

/* ---- tests ---- */

START_TEST(create_upload_stage_alias_download)
{
	struct fx_jar j;
	char csrf[128], name[64], form[512], path[256], want[256], hdr[256];
	size_t len;
	char *model = train("reg:squarederror", &len);
	struct http_resp r;

	fx_html_login(&j, csrf, user);
	snprintf(name, sizeof(name), "pages%d", getpid());

	/* Create through the form: 303 to the model page with a flash. */
	snprintf(form, sizeof(form), "csrf_token=%s&name=%s&description=Delay+%%3Cb%%3Eminutes"
	    "%%3C%%2Fb%%3E", csrf, name);
	fx_jar_form(&j, "/models", form, &r);
	snprintf(want, sizeof(want), "/models/%s", name);
	expect_redirect_flash(&j, &r, want, "created: upload its first version below.");
	fx_jar_get(&j, want, &r);
	ck_assert(strstr(r.body, "No versions yet") != NULL);
	ck_assert(strstr(r.body, "Delay &lt;b&gt;minutes&lt;/b&gt;") != NULL);
	ck_assert(strstr(r.body, "enctype=\"multipart/form-data\"") != NULL);
	http_resp_free(&r);

	/* Upload through the multipart form. */
	html_upload(&j, name, csrf, model, len, spec_reg, &r);
	expect_redirect_flash(&j, &r, want, "Version 1 uploaded");
	fx_jar_get(&j, want, &r);
	snprintf(path, sizeof(path), "<a href=\"/models/%s/versions/1\">v1</a>", name);
	ck_assert_msg(strstr(r.body, path) != NULL, "%s", r.body);
	ck_assert(strstr(r.body, "<span class=\"stage stage-none\">None</span>") != NULL);
	ck_assert(strstr(r.body, "notebook 7") != NULL);
	ck_assert(strstr(r.body, "<td class=\"num\">7</td>") != NULL);   /* features */
	http_resp_free(&r);

	/* Stage: Production. */
	snprintf(path, sizeof(path), "/models/%s/versions/1/stage", name);
	snprintf(form, sizeof(form), "csrf_token=%s&stage=Production&"
	    "archive_existing_versions=true", csrf);
	fx_jar_form(&j, path, form, &r);
	expect_redirect_flash(&j, &r, want, "Version 1 is now Production");
	fx_jar_get(&j, want, &r);
	ck_assert(strstr(r.body, "<span class=\"stage stage-production\">Production</span>"));
	ck_assert(strstr(r.body, "<option value=\"Production\" selected>Production</option>"));
	http_resp_free(&r);

	/* Alias, then its delete button. */
	snprintf(path, sizeof(path), "/models/%s/aliases", name);
	snprintf(form, sizeof(form), "csrf_token=%s&alias=champion&version=1", csrf);
	fx_jar_form(&j, path, form, &r);
	expect_redirect_flash(&j, &r, want, "Alias &#39;champion&#39; now points to version 1");
	fx_jar_get(&j, want, &r);
	ck_assert(strstr(r.body, "<span class=\"alias\">@champion</span>") != NULL);
	snprintf(path, sizeof(path), "action=\"/models/%s/aliases/champion/delete\"", name);
	ck_assert(strstr(r.body, path) != NULL);
	http_resp_free(&r);
	/* The API sees the same alias. */
	snprintf(path, sizeof(path), "/api/models/%s", name);
	ck_assert_int_eq(api("GET", path, NULL, NULL, 0, &r), 200);
	ck_assert(strstr(r.body, "\"aliases\":[\"champion\"]") != NULL);
	ck_assert(strstr(r.body, "\"stage\":\"Production\"") != NULL);
	http_resp_free(&r);

	/* The version page: facts, features, spec. */
	snprintf(path, sizeof(path), "/models/%s/versions/1", name);
	fx_jar_get(&j, path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, "<dt>Format</dt><dd>json") != NULL);
	ck_assert(strstr(r.body, "@champion") != NULL);
	ck_assert(strstr(r.body, "<td><code>city=b</code></td><td>city</td>") != NULL);
	ck_assert(strstr(r.body, "<td><code>when.day_of_week</code></td><td>when</td>") != NULL);
	ck_assert(strstr(r.body, "<pre class=\"spec\">{\n  &quot;") != NULL);
	ck_assert(strstr(r.body, "&quot;one_hot&quot;") != NULL);
	http_resp_free(&r);

	snprintf(path, sizeof(path), "/models/%s/aliases/champion/delete", name);
	snprintf(form, sizeof(form), "csrf_token=%s", csrf);
	fx_jar_form(&j, path, form, &r);
	expect_redirect_flash(&j, &r, want, "Alias &#39;champion&#39; deleted");
	fx_jar_get(&j, want, &r);
	ck_assert(strstr(r.body, "@champion") == NULL);
	http_resp_free(&r);

	/* Download: the bytes that were uploaded, under a sane name. */
	snprintf(path, sizeof(path), "/models/%s/versions/1/booster", name);
	fx_jar_get(&j, path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(http_header(&r, "Content-Type", hdr, sizeof(hdr)),
	    "application/octet-stream");
	snprintf(want, sizeof(want), "attachment; filename=\"%s-v1.json\"", name);
	ck_assert_str_eq(http_header(&r, "Content-Disposition", hdr, sizeof(hdr)), want);
	ck_assert_uint_eq(r.body_len, len);
	ck_assert(memcmp(r.body, model, len) == 0);
	http_resp_free(&r);

	/* The list: serving v1, latest v1, no predictions yet. */
	fx_jar_get(&j, "/models", &r);
	snprintf(path, sizeof(path), "<a href=\"/models/%s/versions/1\">v1</a> <span "
	    "class=\"muted\">Production</span>", name);
	ck_assert_msg(strstr(r.body, path) != NULL, "%s", r.body);
	http_resp_free(&r);
	free(model);
}
END_TEST

START_TEST(predict_form_equals_api)
{
	struct fx_jar j;
	char csrf[128], name[64], path[256], form[512], body[512], *p;
	size_t len;
	char *model = train("reg:squarederror", &len);
	struct http_resp r;
	json_t *js, *pred;
	double want, got;

	snprintf(name, sizeof(name), "form%d", getpid());
	fx_model(auth_header, name, model, len, spec_reg);
	fx_html_login(&j, csrf, user);

	/* The form follows the spec. */
	snprintf(path, sizeof(path), "/models/%s/predict", name);
	fx_jar_get(&j, path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, "<select id=\"in-city\" name=\"city\" required>"
	    "<option value=\"a\" >a</option><option value=\"b\" >b</option>"
	    "<option value=\"c\" >c</option></select>") != NULL);
	ck_assert(strstr(r.body, "<input id=\"in-when\" name=\"when\" type=\"datetime-local\"")
	    != NULL);
	ck_assert(strstr(r.body, "<input id=\"in-x1\" name=\"x1\" type=\"number\" step=\"any\" "
	    "value=\"\" required>") != NULL);
	ck_assert(strstr(r.body, "<input id=\"in-x2\" name=\"x2\" type=\"number\" step=\"any\" "
	    "value=\"\" >") != NULL);
	ck_assert_uint_eq(count(r.body, "title=\"required\""), 2);
	snprintf(form, sizeof(form), "action=\"/models/%s/predict\"", name);
	ck_assert(strstr(r.body, form) != NULL);
	http_resp_free(&r);

	/* Submit; the same raw inputs through the JSON API. */
	snprintf(form, sizeof(form), "csrf_token=%s&x1=2.75&x2=-1.5&city=b&"
	    "when=2024-10-02T09%%3A00", csrf);
	fx_jar_form(&j, path, form, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	got = page_value(r.body);
	ck_assert(strstr(r.body, "<svg class=\"explain\"") != NULL);
	ck_assert_uint_eq(count(r.body, "<rect "), 4);    /* one bar per raw field */
	ck_assert(strstr(r.body, ">city = b</text>") != NULL);
	ck_assert(strstr(r.body, ">when = 2024-10-02 09:00</text>") != NULL);
	ck_assert(strstr(r.body, ">x1 = 2.75</text>") != NULL);
	ck_assert(strstr(r.body, "\">Report the true outcome</a> when you know it.") != NULL);
	/* The values stay in the form for another try. */
	ck_assert(strstr(r.body, "<option value=\"b\" selected>b</option>") != NULL);
	ck_assert(strstr(r.body, "value=\"2024-10-02T09:00\"") != NULL);
	p = strstr(r.body, "Prediction id <strong>");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_gt(atoll(p + 22), 0);
	http_resp_free(&r);

	snprintf(path, sizeof(path), "/api/models/%s/predict", name);
	snprintf(body, sizeof(body), "{\"inputs\":{\"x1\":2.75,\"x2\":-1.5,\"city\":\"b\","
	    "\"when\":\"2024-10-02 09:00\"}}");
	ck_assert_int_eq(api("POST", path, "application/json", body, strlen(body), &r), 200);
	js = http_json(&r);
	pred = json_array_get(json_object_get(js, "predictions"), 0);
	want = json_number_value(json_object_get(pred, "value"));
	ck_assert_msg(fabs(got - want) <= 1e-4, "page %g, API %g", got, want);
	json_decref(js);
	http_resp_free(&r);
	/* Another hour gives another answer: the datetime really reached the spec. */
	snprintf(body, sizeof(body), "{\"inputs\":{\"x1\":2.75,\"x2\":-1.5,\"city\":\"b\","
	    "\"when\":\"2024-10-02 21:00\"}}");
	ck_assert_int_eq(api("POST", path, "application/json", body, strlen(body), &r), 200);
	js = http_json(&r);
	pred = json_array_get(json_object_get(js, "predictions"), 0);
	ck_assert(fabs(json_number_value(json_object_get(pred, "value")) - want) > 1e-3);
	json_decref(js);
	http_resp_free(&r);

	/* Both predictions were logged: the list counts them. */
	fx_jar_get(&j, "/models", &r);
	snprintf(path, sizeof(path), "/models/%s/predict\">Predict</a>", name);
	ck_assert(strstr(r.body, path) != NULL);
	p = strstr(r.body, path);
	ck_assert_ptr_nonnull(p);
	{
		/* The count is the last numeric cell before this row's Predict link. */
		const char *c = p;

		while (c > r.body && strncmp(c, "<td class=\"num\">", 16) != 0)
			c--;
		ck_assert_int_eq(atoi(c + 16), 3);
	}
	http_resp_free(&r);
	free(model);
}
END_TEST

START_TEST(every_widget_and_datetime_format)
{
	struct fx_jar j;
	char csrf[128], name[64], path[256], form[512], body[512];
	size_t len;
	char *model = train("reg:squarederror", &len);
	struct http_resp r;
	json_t *js;
	double got, want;

	snprintf(name, sizeof(name), "mixed%d", getpid());
	fx_model(auth_header, name, model, len, spec_mixed);
	fx_html_login(&j, csrf, user);
	snprintf(path, sizeof(path), "/models/%s/predict", name);
	fx_jar_get(&j, path, &r);
	ck_assert_int_eq(r.status, 200);
	/* Defaults pre-filled; the datetime one (08:30 UTC) as local time of +02:00. */
	ck_assert(strstr(r.body, "name=\"n\" type=\"number\" step=\"1\" value=\"2\" >") != NULL);
	ck_assert(strstr(r.body, "<select id=\"in-flag\" name=\"flag\" ><option value=\"\" "
	    "selected>—</option><option value=\"true\" >true</option><option value=\"false\" "
	    ">false</option></select>") != NULL);
	ck_assert(strstr(r.body, "<select id=\"in-city\" name=\"city\" ><option value=\"\" "
	    "selected>—</option><option value=\"a\" >a</option>") != NULL);
	ck_assert(strstr(r.body, "type=\"datetime-local\" value=\"2024-01-05T10:30\"") != NULL);
	ck_assert(strstr(r.body, "datetime, UTC+02:00") != NULL);
	http_resp_free(&r);

	snprintf(form, sizeof(form), "csrf_token=%s&x1=-3.25&n=7&flag=true&city=&"
	    "when=2024-10-02T21%%3A15", csrf);
	fx_jar_form(&j, path, form, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	got = page_value(r.body);
	ck_assert(strstr(r.body, ">when = 02/10/2024 21:15:00+02:00</text>") != NULL);
	ck_assert(strstr(r.body, ">city = missing</text>") != NULL);
	ck_assert(strstr(r.body, ">flag = true</text>") != NULL);
	ck_assert_uint_eq(count(r.body, "<rect "), 5);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/models/%s/predict", name);
	snprintf(body, sizeof(body), "{\"inputs\":{\"x1\":-3.25,\"n\":7,\"flag\":true,"
	    "\"when\":\"02/10/2024 21:15:00+02:00\"}}");
	ck_assert_int_eq(api("POST", path, "application/json", body, strlen(body), &r), 200);
	js = http_json(&r);
	want = json_number_value(json_object_get(json_array_get(json_object_get(js,
	    "predictions"), 0), "value"));
	ck_assert_msg(fabs(got - want) <= 1e-4, "page %g, API %g", got, want);
	json_decref(js);
	http_resp_free(&r);

	/* An integer that is not one: the spec's message, the form kept. */
	snprintf(path, sizeof(path), "/models/%s/predict", name);
	snprintf(form, sizeof(form), "csrf_token=%s&x1=1&n=2.5&flag=false", csrf);
	fx_jar_form(&j, path, form, &r);
	ck_assert_int_eq(r.status, 400);
	ck_assert_msg(strstr(r.body, "field &#39;n&#39;") != NULL, "%s", r.body);
	ck_assert(strstr(r.body, "<option value=\"false\" selected>false</option>") != NULL);
	ck_assert(strstr(r.body, "value=\"2.5\"") != NULL);
	http_resp_free(&r);
	free(model);
}
END_TEST

START_TEST(classification_bars)
{
	struct fx_jar j;
	char csrf[128], name[64], path[256], form[512], body[512], cls[64];
	size_t len;
	char *model = train("binary:logistic", &len);
	struct http_resp r;
	json_t *js, *pred;
	double p_late, got;
	int bucket;

	snprintf(name, sizeof(name), "bin%d", getpid());
	fx_model(auth_header, name, model, len, spec_bin);
	fx_html_login(&j, csrf, user);
	snprintf(path, sizeof(path), "/models/%s/predict?version=1", name);
	snprintf(form, sizeof(form), "csrf_token=%s&x1=4&x2=1&city=b&when=", csrf);
	fx_jar_form(&j, path, form, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	got = page_value(r.body);
	ck_assert(strstr(r.body, "<th>on_time</th>") != NULL);
	ck_assert(strstr(r.body, "<th>late</th>") != NULL);
	ck_assert(strstr(r.body, ">when = missing</text>") != NULL);
	http_resp_free(&r);

	snprintf(path, sizeof(path), "/api/models/%s/predict", name);
	snprintf(body, sizeof(body), "{\"inputs\":{\"x1\":4,\"x2\":1,\"city\":\"b\"}}");
	ck_assert_int_eq(api("POST", path, "application/json", body, strlen(body), &r), 200);
	js = http_json(&r);
	pred = json_array_get(json_object_get(js, "predictions"), 0);
	p_late = json_number_value(json_object_get(json_object_get(pred, "probabilities"),
	    "late"));
	ck_assert(fabs(got - p_late) <= 1e-4);
	bucket = (int)floor(p_late * 20 + 0.5) * 5;
	snprintf(cls, sizeof(cls), "<div class=\"fill w%d\"></div>", bucket);
	json_decref(js);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/models/%s/predict?version=1", name);
	fx_jar_form(&j, path, form, &r);
	ck_assert_msg(strstr(r.body, cls) != NULL, "no %s", cls);
	snprintf(cls, sizeof(cls), "<div class=\"fill w%d\"></div>", 100 - bucket);
	ck_assert_msg(strstr(r.body, cls) != NULL, "no %s", cls);
	http_resp_free(&r);
	free(model);
}
END_TEST

START_TEST(hostile_forms)
{
	struct fx_jar j, anon;
	char csrf[128], name[64], path[256], form[512], loc[256], hdr[128];
	size_t len;
	char *model = train("reg:squarederror", &len);
	struct http_resp r;

	snprintf(name, sizeof(name), "hostile%d", getpid());
	fx_model(auth_header, name, model, len, spec_reg);
	fx_html_login(&j, csrf, user);
	snprintf(path, sizeof(path), "/models/%s/predict", name);

	/* A missing required field: the form again, 400, the values kept. */
	snprintf(form, sizeof(form), "csrf_token=%s&x1=&x2=3.5&city=c&when=2024-10-05T18%%3A30",
	    csrf);
	fx_jar_form(&j, path, form, &r);
	ck_assert_int_eq(r.status, 400);
	ck_assert_msg(strstr(r.body, "field &#39;x1&#39;: required") != NULL, "%s", r.body);
	ck_assert(strstr(r.body, "class=\"flash flash-error\"") != NULL);
	ck_assert(strstr(r.body, "name=\"x2\" type=\"number\" step=\"any\" value=\"3.5\"") != NULL);
	ck_assert(strstr(r.body, "<option value=\"c\" selected>c</option>") != NULL);
	ck_assert(strstr(r.body, "value=\"2024-10-05T18:30\"") != NULL);
	ck_assert(strstr(r.body, "<svg") == NULL);
	http_resp_free(&r);

	/* A category the spec does not know. */
	snprintf(form, sizeof(form), "csrf_token=%s&x1=1&city=%%3Cq%%3E", csrf);
	fx_jar_form(&j, path, form, &r);
	ck_assert_int_eq(r.status, 400);
	ck_assert_msg(strstr(r.body, "field &#39;city&#39;: unknown category &#39;&lt;q&gt;"
	    "&#39;") != NULL, "%s", r.body);
	ck_assert(strstr(r.body, "<option value=\"&#x3C;q&#x3E;\" selected>&lt;q&gt;</option>")
	    != NULL);
	http_resp_free(&r);

	/* Text in a number field and an unknown field: the spec names them. */
	snprintf(form, sizeof(form), "csrf_token=%s&x1=abc&city=a", csrf);
	fx_jar_form(&j, path, form, &r);
	ck_assert_int_eq(r.status, 400);
	ck_assert_msg(strstr(r.body, "field &#39;x1&#39;") != NULL, "%s", r.body);
	http_resp_free(&r);
	snprintf(form, sizeof(form), "csrf_token=%s&x1=1&city=a&bogus=1", csrf);
	fx_jar_form(&j, path, form, &r);
	ck_assert_int_eq(r.status, 400);
	ck_assert(strstr(r.body, "unknown field &#39;bogus&#39;") != NULL);
	http_resp_free(&r);
	/* A version that does not exist. */
	snprintf(path, sizeof(path), "/models/%s/predict?version=9", name);
	snprintf(form, sizeof(form), "csrf_token=%s&x1=1&city=a", csrf);
	fx_jar_form(&j, path, form, &r);
	ck_assert_int_eq(r.status, 404);
	ck_assert(strstr(r.body, "has no version 9") != NULL);
	http_resp_free(&r);

	/* An invalid booster through the upload form: the HTML 400 page with the reason. */
	html_upload(&j, name, csrf, "{\"not\": \"a model\"}", 18, spec_reg, &r);
	ck_assert_int_eq(r.status, 400);
	ck_assert(strstr(http_header(&r, "Content-Type", hdr, sizeof(hdr)), "text/html") != NULL);
	ck_assert(strstr(r.body, "<section class=\"error\">") != NULL);
	ck_assert_msg(strstr(r.body, "booster") != NULL, "%s", r.body);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/models/%s/versions/2", name);
	fx_jar_get(&j, path, &r);
	ck_assert_int_eq(r.status, 404);
	http_resp_free(&r);

	/* A stage change without the CSRF token. */
	snprintf(path, sizeof(path), "/models/%s/versions/1/stage", name);
	fx_jar_form(&j, path, "stage=Archived", &r);
	ck_assert_int_eq(r.status, 403);
	ck_assert(strstr(r.body, "CSRF") != NULL);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/models/%s", name);
	ck_assert_int_eq(api("GET", path, NULL, NULL, 0, &r), 200);
	ck_assert(strstr(r.body, "\"stage\":\"None\"") != NULL);
	http_resp_free(&r);

	/* Bad names and versions in URLs. */
	fx_jar_get(&j, "/models/no-such-model", &r);
	ck_assert_int_eq(r.status, 404);
	ck_assert(strstr(r.body, "does not exist") != NULL);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/models/%s/versions/01", name);
	fx_jar_get(&j, path, &r);
	ck_assert_int_eq(r.status, 404);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/models/%s/versions/1x/booster", name);
	fx_jar_get(&j, path, &r);
	ck_assert_int_eq(r.status, 404);
	http_resp_free(&r);
	snprintf(form, sizeof(form), "csrf_token=%s&name=..%%2Fetc", csrf);
	fx_jar_form(&j, "/models", form, &r);
	ck_assert_int_eq(r.status, 400);
	ck_assert(strstr(r.body, "model name must be") != NULL);
	http_resp_free(&r);
	snprintf(form, sizeof(form), "csrf_token=%s&name=%s", csrf, name);
	fx_jar_form(&j, "/models", form, &r);
	ck_assert_int_eq(r.status, 409);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/models/%s/aliases", name);
	snprintf(form, sizeof(form), "csrf_token=%s&alias=latest&version=1", csrf);
	fx_jar_form(&j, path, form, &r);
	ck_assert_int_eq(r.status, 400);
	ck_assert(strstr(r.body, "reserved") != NULL);
	http_resp_free(&r);

	/* Not logged in: every page sends you to the login form. */
	fx_jar_init(&anon);
	fx_jar_get(&anon, "/models", &r);
	ck_assert_int_eq(r.status, 303);
	ck_assert_str_eq(http_header(&r, "Location", loc, sizeof(loc)), "/login?next=%2Fmodels");
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/models/%s/versions/1/booster", name);
	fx_jar_get(&anon, path, &r);
	ck_assert_int_eq(r.status, 303);
	ck_assert_uint_eq(r.body_len, 0);
	http_resp_free(&r);
	free(model);
}
END_TEST

START_TEST(empty_states)
{
	struct fx_jar j;
	char csrf[128], name[64], path[256], form[256];
	struct http_resp r;

	fx_html_login(&j, csrf, user);
	fx_jar_get(&j, "/predict", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, "<h1>Predict</h1>") != NULL);
	http_resp_free(&r);
	/* A model without versions has no form to offer. */
	snprintf(name, sizeof(name), "empty%d", getpid());
	snprintf(form, sizeof(form), "csrf_token=%s&name=%s", csrf, name);
	fx_jar_form(&j, "/models", form, &r);
	ck_assert_int_eq(r.status, 303);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/models/%s/predict", name);
	fx_jar_get(&j, path, &r);
	ck_assert_int_eq(r.status, 404);
	ck_assert(strstr(r.body, "has no servable version") != NULL);
	http_resp_free(&r);
	fx_jar_get(&j, "/predict", &r);
	snprintf(path, sizeof(path), "%s <span class=\"muted\">no servable version yet", name);
	ck_assert_msg(strstr(r.body, path) != NULL, "%s", r.body);
	http_resp_free(&r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("model_pages");
	TCase *tc = tcase_create("model_pages");
	SRunner *sr;
	int failed;
	struct http_resp r;
	char body[256];
	json_t *j;

	snprintf(spec_bin, sizeof(spec_bin), "{\"task\":\"binary\",\"classes\":"
	    "[\"on_time\",\"late\"],%s", strstr(spec_reg, "\"inputs\""));
	setenv("VERDICT_TRUSTED_PROXIES", "127.0.0.1", 1);
	if (harness_start() == -1)
		return 99;
	/* One account: pages log in through the form, API calls use a token. */
	snprintf(user, sizeof(user), "pager%d", getpid());
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
	tcase_add_test(tc, create_upload_stage_alias_download);
	tcase_add_test(tc, predict_form_equals_api);
	tcase_add_test(tc, every_widget_and_datetime_format);
	tcase_add_test(tc, classification_bars);
	tcase_add_test(tc, hostile_forms);
	tcase_add_test(tc, empty_states);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_stop();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
