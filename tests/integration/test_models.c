/* test_models.c: registry and serving end to end — uploads, validation, selectors, predictions equal to libxgboost's own, the prediction log, bad input, hot swap under load. */
#include <check.h>
#include <libpq-fe.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xgboost/c_api.h>

#include "harness.h"

/* Buffers here are sized for the rows this file builds; row_json asserts it. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define NF 7          /* x1, x2, city=a|b|c, when.hour, when.day_of_week */
#define NTRAIN 400

static char token[128];

static const char spec_reg[] =
    "{\"task\":\"regression\",\"inputs\":["
    "{\"name\":\"x1\",\"type\":\"number\",\"required\":true},"
    "{\"name\":\"x2\",\"type\":\"number\"},"
    "{\"name\":\"city\",\"type\":\"category\",\"required\":true,\"unknown\":\"error\"},"
    "{\"name\":\"when\",\"type\":\"datetime\",\"format\":\"%Y-%m-%d %H:%M\",\"timezone\":\"UTC\"}],"
    "\"features\":[{\"input\":\"x1\"},{\"input\":\"x2\"},"
    "{\"input\":\"city\",\"transform\":\"one_hot\",\"categories\":[\"a\",\"b\",\"c\"]},"
    "{\"input\":\"when\",\"transform\":\"datetime\",\"parts\":[\"hour\",\"day_of_week\"]}]}";

/* The same pipeline for classification tasks. */
static char spec_bin[2048], spec_multi[2048];

/* Raw rows and the feature vectors the oracle builds by hand. */
struct row {
	double x1, x2;
	const char *city;
	const char *when;       /* "2024-10-0D HH:00", D = 1..7 */
	int hour, dow;
};

static void
features(const struct row *r, float *f)
{
	f[0] = (float)r->x1;
	f[1] = (float)r->x2;
	f[2] = strcmp(r->city, "a") == 0;
	f[3] = strcmp(r->city, "b") == 0;
	f[4] = strcmp(r->city, "c") == 0;
	f[5] = (float)r->hour;
	f[6] = (float)r->dow;
}

/* 2024-09-30 was a Monday: day d of October 2024 has day_of_week (d) % 7 (Mon=0). */
static struct row
make_row(int i)
{
	static char whens[64][32];
	static const char *cities[] = { "a", "b", "c" };
	struct row r;
	int day = 1 + i % 7, hour = (i * 5) % 24;

	snprintf(whens[i % 64], 32, "2024-10-%02d %02d:00", day, hour);
	r.x1 = sin(i * 0.37) * 10;
	r.x2 = cos(i * 0.11) * 3 + (i % 5);
	r.city = cities[i % 3];
	r.when = whens[i % 64];
	r.hour = hour;
	r.dow = day % 7;
	return r;
}

/* Trains a small booster on synthetic rows; returns JSON or UBJ bytes (caller frees). */
static char *
train(const char *objective, int num_class, int rounds, const char *format, size_t *len)
{
	float *x = malloc(sizeof(float) * NTRAIN * NF), *y = malloc(sizeof(float) * NTRAIN);
	DMatrixHandle d;
	BoosterHandle b;
	bst_ulong n;
	const char *buf;
	char cfg[64], nc[16];
	char *out;

	for (int i = 0; i < NTRAIN; i++) {
		struct row r = make_row(i);
		double t = r.x1 * 0.5 + r.x2 + (r.city[0] == 'b') * 2 + r.hour * 0.1;

		features(&r, x + i * NF);
		if (!strncmp(objective, "binary", 6))
			y[i] = t > 2;
		else if (!strncmp(objective, "multi", 5))
			y[i] = t < 0 ? 0 : t < 4 ? 1 : 2;
		else
			y[i] = (float)t;
	}
	ck_assert_int_eq(XGDMatrixCreateFromMat(x, NTRAIN, NF, NAN, &d), 0);
	ck_assert_int_eq(XGDMatrixSetFloatInfo(d, "label", y, NTRAIN), 0);
	ck_assert_int_eq(XGBoosterCreate(&d, 1, &b), 0);
	XGBoosterSetParam(b, "objective", objective);
	XGBoosterSetParam(b, "max_depth", "4");
	XGBoosterSetParam(b, "nthread", "1");
	if (num_class > 0) {
		snprintf(nc, sizeof(nc), "%d", num_class);
		XGBoosterSetParam(b, "num_class", nc);
	}
	for (int i = 0; i < rounds; i++)
		ck_assert_int_eq(XGBoosterUpdateOneIter(b, i, d), 0);
	snprintf(cfg, sizeof(cfg), "{\"format\":\"%s\"}", format);
	ck_assert_int_eq(XGBoosterSaveModelToBuffer(b, cfg, &n, &buf), 0);
	out = malloc(n);
	memcpy(out, buf, n);
	*len = n;
	XGBoosterFree(b);
	XGDMatrixFree(d);
	free(x);
	free(y);
	return out;
}

/* libxgboost's own answer through a DMatrix: the oracle. */
static void
oracle(const char *model, size_t len, const float *x, int rows, float *out, int nout)
{
	BoosterHandle b;
	DMatrixHandle d;
	bst_ulong const *shape;
	bst_ulong dim;
	float const *res;

	ck_assert_int_eq(XGBoosterCreate(NULL, 0, &b), 0);
	ck_assert_int_eq(XGBoosterLoadModelFromBuffer(b, model, len), 0);
	ck_assert_int_eq(XGDMatrixCreateFromMat(x, rows, NF, NAN, &d), 0);
	ck_assert_int_eq(XGBoosterPredictFromDMatrix(b, d, "{\"type\":0,\"training\":false,"
	    "\"iteration_begin\":0,\"iteration_end\":0,\"strict_shape\":false}", &shape,
	    &dim, &res), 0);
	memcpy(out, res, sizeof(float) * rows * nout);
	XGDMatrixFree(d);
	XGBoosterFree(b);
}

/* Built once in main, before any thread: client threads only read it. */
static char auth_header[200];

static const char *const *
auth(void)
{
	static const char *hdrs[2] = { auth_header, NULL };

	return hdrs;
}

static long
post_json(const char *path, const char *body, struct http_resp *r)
{
	ck_assert_int_eq(http_request("POST", path, "application/json", body, strlen(body),
	    auth(), r), 0);
	return r->status;
}

/* Uploads booster + spec as multipart; returns the HTTP status. */
static long
upload(const char *model, const char *booster, size_t blen, const char *spec,
    struct http_resp *r)
{
	static const char b[] = "verdictTestBoundary7d1";
	size_t cap = blen + strlen(spec) + 1024, n = 0;
	char *body = malloc(cap), ct[128], path[256];
	long st;

	n += (size_t)snprintf(body + n, cap - n, "--%s\r\nContent-Disposition: form-data; "
	    "name=\"booster\"; filename=\"model.bin\"\r\nContent-Type: application/octet-stream"
	    "\r\n\r\n", b);
	memcpy(body + n, booster, blen);
	n += blen;
	n += (size_t)snprintf(body + n, cap - n, "\r\n--%s\r\nContent-Disposition: form-data; "
	    "name=\"spec\"; filename=\"spec.json\"\r\nContent-Type: application/json\r\n\r\n"
	    "%s\r\n--%s\r\nContent-Disposition: form-data; name=\"source\"\r\n\r\n"
	    "test_models.c\r\n--%s--\r\n", b, spec, b, b);
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%s", b);
	snprintf(path, sizeof(path), "/api/models/%s/versions", model);
	ck_assert_int_eq(http_request("POST", path, ct, body, n, auth(), r), 0);
	st = r->status;
	free(body);
	return st;
}

static void
create_model(const char *name)
{
	char body[256];
	struct http_resp r;

	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"description\":\"test\"}", name);
	ck_assert_msg(post_json("/api/models", body, &r) == 201, "%ld %s", r.status, r.body);
	http_resp_free(&r);
}

static void
row_json(const struct row *r, char *dst, size_t len)
{
	int n = snprintf(dst, len, "{\"x1\":%.17g,\"x2\":%.17g,\"city\":\"%s\",\"when\":\"%s\"}",
	    r->x1, r->x2, r->city, r->when);

	ck_assert((size_t)n < len);
}

static PGconn *
db(void)
{
	char path[1024], line[1024], *v = NULL;
	FILE *f;
	PGconn *c;

	snprintf(path, sizeof(path), "%s/verdict.conf", harness_dir());
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		if (!strncmp(line, "database_url = ", 15)) {
			line[strcspn(line, "\n")] = '\0';
			v = line + 15;
			break;
		}
	fclose(f);
	c = PQconnectdb(v);
	ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
	return c;
}

static long long
db_count(const char *sql, const char *param)
{
	PGconn *c = db();
	const char *vals[1] = { param };
	PGresult *res = PQexecParams(c, sql, param ? 1 : 0, NULL, vals, NULL, NULL, 0);
	long long n;

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
	n = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(c);
	return n;
}

/* ---- tests ---- */

START_TEST(predictions_equal_libxgboost)
{
	static const struct { const char *obj, *fmt, *spec; int num_class, nout; } cases[] = {
		{ "reg:squarederror", "json", spec_reg, 0, 1 },
		{ "reg:squarederror", "ubj", spec_reg, 0, 1 },
		{ "binary:logistic", "json", spec_bin, 0, 1 },
		{ "multi:softprob", "ubj", spec_multi, 3, 3 },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char name[64], path[128], body[512 * 64 + 64];
		size_t len, n = 0;
		char *model = train(cases[c].obj, cases[c].num_class, 30, cases[c].fmt, &len);
		float x[50 * NF], want[50 * 3];
		struct http_resp r;
		json_t *j, *preds;

		snprintf(name, sizeof(name), "eq%d_%zu", getpid(), c);
		create_model(name);
		ck_assert_msg(upload(name, model, len, cases[c].spec, &r) == 201, "%s: %ld %s",
		    cases[c].obj, r.status, r.body);
		http_resp_free(&r);
		/* 50 rows the booster never saw in training. */
		n += (size_t)snprintf(body + n, sizeof(body) - n, "{\"instances\":[");
		for (int i = 0; i < 50; i++) {
			struct row rw = make_row(NTRAIN + 17 * i + 3);
			char rj[512];

			features(&rw, x + i * NF);
			row_json(&rw, rj, sizeof(rj));
			n += (size_t)snprintf(body + n, sizeof(body) - n, "%s%s", i ? "," : "", rj);
		}
		snprintf(body + n, sizeof(body) - n, "]}");
		oracle(model, len, x, 50, want, cases[c].nout);
		snprintf(path, sizeof(path), "/api/models/%s/predict", name);
		ck_assert_msg(post_json(path, body, &r) == 200, "%ld %s", r.status, r.body);
		j = http_json(&r);
		ck_assert_int_eq(json_integer_value(json_object_get(j, "version")), 1);
		preds = json_object_get(j, "predictions");
		ck_assert_uint_eq(json_array_size(preds), 50);
		for (int i = 0; i < 50; i++) {
			json_t *p = json_array_get(preds, i);

			ck_assert_int_gt(json_integer_value(json_object_get(p, "prediction_id")), 0);
			if (cases[c].nout == 1)
				ck_assert_msg(fabs(json_number_value(json_object_get(p, "value")) -
				    want[i]) <= 1e-6, "%s row %d: %g vs %g", cases[c].obj, i,
				    json_number_value(json_object_get(p, "value")), want[i]);
			if (cases[c].num_class > 0) {
				json_t *probs = json_object_get(p, "probabilities");
				double sum = 0;
				static const char *const labels[] = { "low", "mid", "high" };

				for (int k = 0; k < 3; k++) {
					double v = json_number_value(json_object_get(probs, labels[k]));

					ck_assert(fabs(v - want[i * 3 + k]) <= 1e-6);
					sum += v;
				}
				ck_assert(fabs(sum - 1) < 1e-5);
			}
			if (!strcmp(cases[c].obj, "binary:logistic"))
				ck_assert_str_eq(json_string_value(json_object_get(p, "label")),
				    want[i] >= 0.5 ? "late" : "on_time");
		}
		json_decref(j);
		http_resp_free(&r);
		free(model);
	}
}
END_TEST

START_TEST(every_prediction_is_logged)
{
	char name[64], path[128], body[1024], idbuf[32];
	size_t len;
	char *model = train("reg:squarederror", 0, 10, "json", &len);
	struct http_resp r;
	struct row rw = make_row(5);
	json_t *j, *p;
	PGconn *c;
	PGresult *res;
	const char *vals[1] = { idbuf };

	snprintf(name, sizeof(name), "log%d", getpid());
	create_model(name);
	ck_assert_int_eq(upload(name, model, len, spec_reg, &r), 201);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/models/%s/predict", name);
	snprintf(body, sizeof(body), "{\"inputs\":");
	row_json(&rw, body + strlen(body), sizeof(body) - strlen(body));
	strcat(body, "}");
	ck_assert_int_eq(post_json(path, body, &r), 200);
	j = http_json(&r);
	p = json_array_get(json_object_get(j, "predictions"), 0);
	snprintf(idbuf, sizeof(idbuf), "%lld", (long long)json_integer_value(
	    json_object_get(p, "prediction_id")));
	c = db();
	res = PQexecParams(c, "SELECT p.inputs->>'city', (p.output->>'value')::float8, "
	    "v.name, v.version, p.latency_us > 0, p.user_id IS NOT NULL FROM predictions p "
	    "JOIN model_versions v ON v.id = p.model_version_id WHERE p.id = $1",
	    1, NULL, vals, NULL, NULL, 0);
	ck_assert_int_eq(PQntuples(res), 1);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), rw.city);
	ck_assert(fabs(atof(PQgetvalue(res, 0, 1)) - json_number_value(json_object_get(p,
	    "value"))) < 1e-9);
	ck_assert_str_eq(PQgetvalue(res, 0, 2), name);
	ck_assert_str_eq(PQgetvalue(res, 0, 3), "1");
	ck_assert_str_eq(PQgetvalue(res, 0, 4), "t");
	ck_assert_str_eq(PQgetvalue(res, 0, 5), "t");
	PQclear(res);
	PQfinish(c);
	json_decref(j);
	http_resp_free(&r);
	free(model);
}
END_TEST

/* The jsonb stored for prediction id (from answer p) equals want (jsonb text), per Postgres. */
static void
logged_as(json_t *p, const char *want)
{
	char idbuf[32];
	const char *vals[2] = { idbuf, want };
	PGconn *c = db();
	PGresult *res;

	snprintf(idbuf, sizeof(idbuf), "%lld", (long long)json_integer_value(
	    json_object_get(p, "prediction_id")));
	res = PQexecParams(c, "SELECT inputs = $2::jsonb, inputs::text FROM predictions "
	    "WHERE id = $1::bigint", 2, NULL, vals, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
	ck_assert_int_eq(PQntuples(res), 1);
	ck_assert_msg(!strcmp(PQgetvalue(res, 0, 0), "t"), "logged %s, expected %s",
	    PQgetvalue(res, 0, 1), want);
	PQclear(res);
	PQfinish(c);
}

/*
 * The log keeps the client's own text of each row (0.1 stays 0.1, not the
 * double 0.10000000000000001), except where jsonb could refuse it: those
 * rows are re-serialized, and the batch they share a commit with is
 * committed all the same.
 */
START_TEST(logged_inputs_are_the_clients_text)
{
	static const char one[] = "{\"x1\": 0.1, \"x2\": 1e2, \"city\": \"b\", "
	    "\"when\": \"2024-10-02 09:00\"}";
	static const char nul[] = "{\"inputs\":{\"x1\":3\0,\"city\":\"a\"}}";
	char name[64], path[128], body[2048];
	size_t len;
	char *model = train("reg:squarederror", 0, 10, "json", &len);
	struct http_resp r;
	json_t *j, *preds;

	snprintf(name, sizeof(name), "raw%d", getpid());
	create_model(name);
	ck_assert_int_eq(upload(name, model, len, spec_reg, &r), 201);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/models/%s/predict", name);

	snprintf(body, sizeof(body), "{ \"inputs\" :\n %s }", one);
	ck_assert_int_eq(post_json(path, body, &r), 200);
	j = http_json(&r);
	logged_as(json_array_get(json_object_get(j, "predictions"), 0), one);
	json_decref(j);
	http_resp_free(&r);

	/* A batch: plain, a number jsonb refuses (jansson reads 0), an escape. */
	snprintf(body, sizeof(body), "{\"instances\": [%s, {\"x1\": 1e-99999, \"city\": "
	    "\"c\"}, {\"x1\": 2.5, \"city\": \"\\u0062\"}]}", one);
	ck_assert_int_eq(post_json(path, body, &r), 200);
	j = http_json(&r);
	preds = json_object_get(j, "predictions");
	ck_assert_int_eq(json_array_size(preds), 3);
	logged_as(json_array_get(preds, 0), one);
	logged_as(json_array_get(preds, 1), "{\"x1\": 0, \"city\": \"c\"}");
	logged_as(json_array_get(preds, 2), "{\"x1\": 2.5, \"city\": \"b\"}");
	json_decref(j);
	http_resp_free(&r);

	/* jansson reads "3\0" as 3: the NUL must not cut the logged text short. */
	ck_assert_int_eq(http_request("POST", path, "application/json", nul, sizeof(nul) - 1,
	    auth(), &r), 0);
	ck_assert_int_eq(r.status, 200);
	j = http_json(&r);
	logged_as(json_array_get(json_object_get(j, "predictions"), 0),
	    "{\"x1\": 3, \"city\": \"a\"}");
	json_decref(j);
	http_resp_free(&r);
	free(model);
}
END_TEST

START_TEST(invalid_uploads_store_nothing)
{
	char name[64], spec_wide[4096];
	size_t len, binlen;
	char *model = train("reg:squarederror", 0, 5, "json", &len);
	char *binmodel = train("binary:logistic", 0, 5, "json", &binlen);
	struct http_resp r;
	struct { const char *booster; size_t blen; const char *spec; long status; const char *msg; } cases[6];
	size_t n = 0;

	snprintf(name, sizeof(name), "bad%d", getpid());
	create_model(name);
	/* A spec producing one more column than the booster takes. */
	snprintf(spec_wide, sizeof(spec_wide), "%s", spec_reg);
	{
		char *p = strstr(spec_wide, "\"parts\":[\"hour\",\"day_of_week\"]");

		memcpy(p, "\"parts\":[\"hour\",\"day_of_week\",\"month\"]}]}", 42);
		p[42] = '\0';
	}
	cases[n++] = (typeof(cases[0])){ "{\"not\": \"a model\"}", 18, spec_reg, 400, "booster" };
	cases[n++] = (typeof(cases[0])){ "\x00\x01garbage", 9, spec_reg, 400, "booster" };
	cases[n++] = (typeof(cases[0])){ model, len / 2, spec_reg, 400, "booster" };
	cases[n++] = (typeof(cases[0])){ model, len, spec_wide, 400, "features but the spec produces 8" };
	cases[n++] = (typeof(cases[0])){ model, len, "{\"task\": nope}", 400, "spec is not valid JSON" };
	cases[n++] = (typeof(cases[0])){ binmodel, binlen, spec_reg, 400, "regression" };
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(upload(name, cases[i].booster, cases[i].blen, cases[i].spec,
		    &r), cases[i].status);
		ck_assert_msg(strstr(r.body, cases[i].msg) != NULL, "case %zu: %s", i, r.body);
		http_resp_free(&r);
	}
	ck_assert_int_eq(db_count("SELECT count(*) FROM model_versions WHERE name = $1", name), 0);
	ck_assert_int_eq(upload("no-such-model", model, len, spec_reg, &r), 404);
	http_resp_free(&r);
	free(model);
	free(binmodel);
}
END_TEST

START_TEST(selectors_stages_aliases)
{
	char name[64], path[160], body[1024];
	size_t len1, len2;
	char *m1 = train("reg:squarederror", 0, 5, "json", &len1);
	char *m2 = train("reg:squarederror", 0, 25, "json", &len2);
	struct http_resp r;
	struct row rw = make_row(9);
	char rj[512];
	json_t *j;
	static const struct { const char *sel; long status; int version; } cases[] = {
		{ "", 200, 1 },                                 /* default = Production */
		{ ",\"version\":1", 200, 1 },
		{ ",\"alias\":\"champion\"", 200, 1 },
		{ ",\"stage\":\"Production\"", 200, 1 },
		{ ",\"version\":9", 404, 0 },
		{ ",\"alias\":\"nobody\"", 404, 0 },
		{ ",\"stage\":\"Staging\"", 404, 0 },
		{ ",\"version\":1,\"alias\":\"champion\"", 400, 0 },
	};

	snprintf(name, sizeof(name), "sel%d", getpid());
	create_model(name);
	ck_assert_int_eq(upload(name, m1, len1, spec_reg, &r), 201);
	http_resp_free(&r);
	ck_assert_int_eq(upload(name, m2, len2, spec_reg, &r), 201);
	j = http_json(&r);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "version")), 2);
	json_decref(j);
	http_resp_free(&r);
	row_json(&rw, rj, sizeof(rj));

	snprintf(path, sizeof(path), "/api/models/%s/predict", name);
	snprintf(body, sizeof(body), "{\"inputs\":%s}", rj);
	ck_assert_int_eq(post_json(path, body, &r), 200);
	j = http_json(&r);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "version")), 2);
	json_decref(j);
	http_resp_free(&r);

	snprintf(path, sizeof(path), "/api/models/%s/aliases/champion", name);
	ck_assert_int_eq(http_request("PUT", path, "application/json", "{\"version\":1}", 13,
	    auth(), &r), 0);
	ck_assert_int_eq(r.status, 200);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/models/%s/aliases/latest", name);
	ck_assert_int_eq(http_request("PUT", path, "application/json", "{\"version\":1}", 13,
	    auth(), &r), 0);
	ck_assert_int_eq(r.status, 400);
	ck_assert_ptr_nonnull(strstr(r.body, "reserved"));
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/models/%s/versions/1/stage", name);
	ck_assert_int_eq(post_json(path, "{\"stage\":\"Production\",\"archive_existing_versions\":true}",
	    &r), 200);
	http_resp_free(&r);
	usleep(300000);   /* the watcher re-resolves on NOTIFY */

	snprintf(path, sizeof(path), "/api/models/%s/predict", name);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(body, sizeof(body), "{\"inputs\":%s%s}", rj, cases[i].sel);
		ck_assert_msg(post_json(path, body, &r) == cases[i].status, "case %zu: %ld %s",
		    i, r.status, r.body);
		if (cases[i].status == 200) {
			j = http_json(&r);
			ck_assert_msg(json_integer_value(json_object_get(j, "version")) ==
			    cases[i].version, "case %zu: %s", i, r.body);
			json_decref(j);
		}
		http_resp_free(&r);
	}
	/* The first request (no Production then) cached "default → v2"; it moved to v1. */
	snprintf(body, sizeof(body), "{\"inputs\":%s}", rj);
	ck_assert_int_eq(post_json(path, body, &r), 200);
	j = http_json(&r);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "version")), 1);
	json_decref(j);
	http_resp_free(&r);
	/* GET /api/models/{name} shows stages and aliases. */
	snprintf(path, sizeof(path), "/api/models/%s", name);
	ck_assert_int_eq(http_request("GET", path, NULL, NULL, 0, auth(), &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"stage\":\"Production\""));
	ck_assert_ptr_nonnull(strstr(r.body, "\"champion\""));
	http_resp_free(&r);
	free(m1);
	free(m2);
}
END_TEST

START_TEST(bad_inputs_are_4xx)
{
	char name[64], path[160], big[200000];
	size_t len;
	char *model = train("reg:squarederror", 0, 5, "json", &len);
	struct http_resp r;
	static const struct { const char *body; long status; const char *msg; } cases[] = {
		{ "{\"inputs\":{\"x2\":1,\"city\":\"a\",\"when\":\"2024-10-01 09:00\"}}", 400, "field 'x1'" },
		{ "{\"inputs\":{\"x1\":\"abc\",\"city\":\"a\",\"when\":\"2024-10-01 09:00\"}}", 400, "field 'x1'" },
		{ "{\"inputs\":{\"x1\":1,\"city\":\"zz\",\"when\":\"2024-10-01 09:00\"}}", 400, "'a'" },
		{ "{\"inputs\":{\"x1\":1,\"city\":\"a\",\"when\":\"yesterday\"}}", 400, "field 'when'" },
		{ "{\"inputs\":{\"x1\":1,\"city\":\"a\",\"when\":\"2024-10-01 09:00\",\"extra\":1}}", 400, "unknown field 'extra'" },
		{ "{\"inputs\":{\"x1\":1e400,\"city\":\"a\"}}", 400, "malformed JSON" },
		{ "{\"inputs\":[1,2]}", 400, "field 'inputs'" },
		{ "{\"instances\":[]}", 400, "field 'instances'" },
		{ "{\"instances\":[{\"x1\":1,\"city\":\"a\"},5]}", 400, "instances[1]" },
		{ "{}", 400, "exactly one of 'inputs'" },
		{ "{\"inputs\":{},\"stage\":\"Live\"}", 400, "field 'stage'" },
	};

	snprintf(name, sizeof(name), "hostile%d", getpid());
	create_model(name);
	ck_assert_int_eq(upload(name, model, len, spec_reg, &r), 201);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/models/%s/predict", name);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(post_json(path, cases[i].body, &r) == cases[i].status,
		    "case %zu: %ld %s", i, r.status, r.body);
		ck_assert_msg(strstr(r.body, cases[i].msg) != NULL, "case %zu: %s", i, r.body);
		http_resp_free(&r);
	}
	/* 1001 rows: over the batch limit. */
	{
		size_t n = (size_t)snprintf(big, sizeof(big), "{\"instances\":[");

		for (int i = 0; i < 1001; i++)
			n += (size_t)snprintf(big + n, sizeof(big) - n, "%s{\"x1\":1,\"city\":\"a\"}",
			    i ? "," : "");
		snprintf(big + n, sizeof(big) - n, "]}");
		ck_assert_int_eq(post_json(path, big, &r), 413);
		http_resp_free(&r);
	}
	ck_assert_int_eq(post_json("/api/models/no-such-model/predict",
	    "{\"inputs\":{\"x1\":1}}", &r), 404);
	ck_assert_ptr_nonnull(strstr(r.body, "does not exist"));
	http_resp_free(&r);
	/* Unauthenticated: 401, and nothing logged. */
	ck_assert_int_eq(http_request("POST", path, "application/json", "{\"inputs\":{}}", 13,
	    NULL, &r), 0);
	ck_assert_int_eq(r.status, 401);
	http_resp_free(&r);
	free(model);
}
END_TEST

START_TEST(explanations_add_up)
{
	char name[64], path[160], body[1024], rj[512];
	size_t len;
	char *model = train("reg:squarederror", 0, 20, "json", &len);
	struct http_resp r;
	struct row rw = make_row(11);
	json_t *j, *p, *c;
	double sum;

	snprintf(name, sizeof(name), "shap%d", getpid());
	create_model(name);
	ck_assert_int_eq(upload(name, model, len, spec_reg, &r), 201);
	http_resp_free(&r);
	row_json(&rw, rj, sizeof(rj));
	snprintf(path, sizeof(path), "/api/models/%s/predict", name);
	snprintf(body, sizeof(body), "{\"inputs\":%s,\"explain\":true}", rj);
	ck_assert_msg(post_json(path, body, &r) == 200, "%s", r.body);
	j = http_json(&r);
	p = json_array_get(json_object_get(j, "predictions"), 0);
	c = json_object_get(p, "contributions");
	/* One contribution per raw field (one_hot and datetime columns summed back). */
	ck_assert_uint_eq(json_object_size(c), 4);
	sum = json_number_value(json_object_get(p, "bias"));
	ck_assert_ptr_nonnull(json_object_get(c, "city"));
	ck_assert_ptr_nonnull(json_object_get(c, "when"));
	{
		const char *key;
		json_t *v;

		json_object_foreach(c, key, v)
			sum += json_number_value(v);
	}
	/* For regression, the contributions and the bias add up to the prediction. */
	ck_assert_msg(fabs(sum - json_number_value(json_object_get(p, "value"))) < 1e-3,
	    "sum %g value %g", sum, json_number_value(json_object_get(p, "value")));
	json_decref(j);
	http_resp_free(&r);
	free(model);
}
END_TEST

START_TEST(flat_predict_for_default_model)
{
	char name[64], rj[512];
	size_t len;
	char *model = train("binary:logistic", 0, 10, "json", &len);
	struct http_resp r;
	struct row rw = make_row(21);
	json_t *j;
	const char *label;

	/* The model main() named in VERDICT_DEFAULT_MODEL (tests run in forked children). */
	snprintf(name, sizeof(name), "%s", getenv("VERDICT_DEFAULT_MODEL"));
	create_model(name);
	ck_assert_int_eq(upload(name, model, len, spec_bin, &r), 201);
	http_resp_free(&r);
	row_json(&rw, rj, sizeof(rj));
	ck_assert_msg(post_json("/predict", rj, &r) == 200, "%s", r.body);
	j = http_json(&r);
	label = json_string_value(json_object_get(j, "prediction"));
	ck_assert(label && (!strcmp(label, "late") || !strcmp(label, "on_time")));
	ck_assert_int_gt(json_integer_value(json_object_get(j, "prediction_id")), 0);
	ck_assert_ptr_nonnull(json_object_get(json_object_get(j, "probabilities"), "late"));
	json_decref(j);
	http_resp_free(&r);
	ck_assert_int_eq(post_json("/predict", "{\"x1\":1,\"city\":\"a\",\"bogus\":2}", &r), 400);
	ck_assert_ptr_nonnull(strstr(r.body, "unknown field 'bogus'"));
	http_resp_free(&r);
	ck_assert_int_eq(post_json("/predict", "[1]", &r), 400);
	http_resp_free(&r);
	free(model);
}
END_TEST

START_TEST(mlflow_and_v2_protocols)
{
	char name[64], path[200], body[8192], csv[4096], ct[64];
	size_t len, n = 0, m = 0, k = 0;
	char *model = train("reg:squarederror", 0, 15, "ubj", &len);
	float x[5 * NF], want[5];
	struct http_resp r;
	json_t *j, *preds;
	const char *fmts[4];
	char f0[2048], f1[2048], f2[2048], f3[2048];

	snprintf(name, sizeof(name), "proto%d", getpid());
	create_model(name);
	ck_assert_int_eq(upload(name, model, len, spec_reg, &r), 201);
	http_resp_free(&r);
	/* The same five rows in every input format. */
	n += (size_t)snprintf(f0 + n, sizeof(f0) - n, "{\"dataframe_split\":{\"columns\":"
	    "[\"x1\",\"x2\",\"city\",\"when\"],\"data\":[");
	m += (size_t)snprintf(f1 + m, sizeof(f1) - m, "{\"dataframe_records\":[");
	k += (size_t)snprintf(csv + k, sizeof(csv) - k, "x1,x2,city,when\r\n");
	for (int i = 0; i < 5; i++) {
		struct row rw = make_row(900 + i * 13);
		char rj[512];

		features(&rw, x + i * NF);
		row_json(&rw, rj, sizeof(rj));
		n += (size_t)snprintf(f0 + n, sizeof(f0) - n, "%s[%.17g,%.17g,\"%s\",\"%s\"]",
		    i ? "," : "", rw.x1, rw.x2, rw.city, rw.when);
		m += (size_t)snprintf(f1 + m, sizeof(f1) - m, "%s%s", i ? "," : "", rj);
		k += (size_t)snprintf(csv + k, sizeof(csv) - k, "%.17g,%.17g,%s,\"%s\"\r\n",
		    rw.x1, rw.x2, rw.city, rw.when);
	}
	snprintf(f0 + n, sizeof(f0) - n, "]}}");
	snprintf(f1 + m, sizeof(f1) - m, "]}");
	snprintf(f2, sizeof(f2), "{\"instances\":%s", strchr(f1, '['));
	snprintf(f3, sizeof(f3), "{\"inputs\":%s", strchr(f1, '['));
	fmts[0] = f0; fmts[1] = f1; fmts[2] = f2; fmts[3] = f3;
	oracle(model, len, x, 5, want, 1);
	snprintf(path, sizeof(path), "/invocations?model=%s", name);
	for (int f = 0; f < 5; f++) {
		if (f < 4)
			ck_assert_msg(post_json(path, fmts[f], &r) == 200, "format %d: %s", f, r.body);
		else {
			snprintf(ct, sizeof(ct), "text/csv");
			ck_assert_int_eq(http_request("POST", path, ct, csv, strlen(csv), auth(), &r), 0);
			ck_assert_msg(r.status == 200, "csv: %s", r.body);
		}
		j = http_json(&r);
		preds = json_object_get(j, "predictions");
		ck_assert_uint_eq(json_array_size(preds), 5);
		for (int i = 0; i < 5; i++)
			ck_assert_msg(fabs(json_number_value(json_array_get(preds, i)) - want[i]) <= 1e-6,
			    "format %d row %d", f, i);
		json_decref(j);
		http_resp_free(&r);
	}
	ck_assert_int_eq(http_request("POST", path, "text/plain", "x", 1, auth(), &r), 0);
	ck_assert_int_eq(r.status, 415);
	http_resp_free(&r);
	ck_assert_int_eq(post_json(path, "{\"dataframe_split\":{\"columns\":[\"x1\"],"
	    "\"data\":[[1,2]]}}", &r), 400);
	ck_assert_ptr_nonnull(strstr(r.body, "BAD_REQUEST"));
	http_resp_free(&r);
	ck_assert_int_eq(http_request("POST", path, "text/csv", "x1,city\n\"unterminated", 22,
	    auth(), &r), 0);
	ck_assert_int_eq(r.status, 400);
	http_resp_free(&r);
	ck_assert_int_eq(http_get("/ping", &r), 0);
	ck_assert_int_eq(r.status, 200);
	http_resp_free(&r);

	/* Open Inference Protocol v2. */
	snprintf(path, sizeof(path), "/v2/models/%s", name);
	ck_assert_int_eq(http_request("GET", path, NULL, NULL, 0, auth(), &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "{\"name\":\"city\",\"datatype\":\"BYTES\""));
	http_resp_free(&r);
	{
		struct row a = make_row(900), b = make_row(913);

		snprintf(body, sizeof(body), "{\"id\":\"req-7\",\"inputs\":["
		    "{\"name\":\"x1\",\"shape\":[2],\"datatype\":\"FP64\",\"data\":[%.17g,%.17g]},"
		    "{\"name\":\"x2\",\"shape\":[2],\"datatype\":\"FP64\",\"data\":[%.17g,%.17g]},"
		    "{\"name\":\"city\",\"shape\":[2],\"datatype\":\"BYTES\",\"data\":[\"%s\",\"%s\"]},"
		    "{\"name\":\"when\",\"shape\":[2],\"datatype\":\"BYTES\",\"data\":[\"%s\",\"%s\"]}]}",
		    a.x1, b.x1, a.x2, b.x2, a.city, b.city, a.when, b.when);
	}
	snprintf(path, sizeof(path), "/v2/models/%s/versions/1/infer", name);
	ck_assert_msg(post_json(path, body, &r) == 200, "%s", r.body);
	j = http_json(&r);
	ck_assert_str_eq(json_string_value(json_object_get(j, "id")), "req-7");
	ck_assert_str_eq(json_string_value(json_object_get(j, "model_version")), "1");
	preds = json_object_get(json_array_get(json_object_get(j, "outputs"), 0), "data");
	ck_assert(fabs(json_number_value(json_array_get(preds, 0)) - want[0]) <= 1e-6);
	ck_assert(fabs(json_number_value(json_array_get(preds, 1)) - want[1]) <= 1e-6);
	json_decref(j);
	http_resp_free(&r);
	ck_assert_int_eq(post_json(path, "{\"inputs\":[{\"name\":\"x1\",\"shape\":[2],"
	    "\"data\":[1]}]}", &r), 400);
	http_resp_free(&r);
	ck_assert_int_eq(http_get("/v2/health/ready", &r), 0);
	ck_assert_int_eq(r.status, 200);
	http_resp_free(&r);
	free(model);
}
END_TEST

struct swap_arg {
	const char *path;
	const char *body;
	int ok, bad, other_version;
	char last_bad[300];
	long long ids[4000];
	int nids;
	volatile int *stop;
};

static void *
predict_loop(void *p)
{
	struct swap_arg *a = p;

	while (!*a->stop && a->nids < 4000) {
		struct http_resp r;
		json_t *j;
		int v;

		if (http_request("POST", a->path, "application/json", a->body, strlen(a->body),
		    auth(), &r) != 0 || r.status != 200) {
			a->bad++;
			snprintf(a->last_bad, sizeof(a->last_bad), "%ld %s", r.status,
			    r.body ? r.body : "(transport error)");
			http_resp_free(&r);
			continue;
		}
		j = http_json(&r);
		v = (int)json_integer_value(json_object_get(j, "version"));
		if (v != 1 && v != 2)
			a->other_version++;
		a->ids[a->nids++] = json_integer_value(json_object_get(json_array_get(
		    json_object_get(j, "predictions"), 0), "prediction_id"));
		a->ok++;
		json_decref(j);
		http_resp_free(&r);
	}
	return NULL;
}

START_TEST(hot_swap_under_load)
{
	enum { CLIENTS = 8 };
	char name[64], path[160], body[1024], stage_path[2][160], rj[512];
	size_t len1, len2;
	char *m1 = train("reg:squarederror", 0, 5, "json", &len1);
	char *m2 = train("reg:squarederror", 0, 25, "ubj", &len2);
	static struct swap_arg args[CLIENTS];
	pthread_t t[CLIENTS];
	volatile int stop = 0;
	struct http_resp r;
	struct row rw = make_row(3);
	long long total = 0, logged;
	PGconn *c;

	snprintf(name, sizeof(name), "swap%d", getpid());
	create_model(name);
	ck_assert_int_eq(upload(name, m1, len1, spec_reg, &r), 201);
	http_resp_free(&r);
	ck_assert_int_eq(upload(name, m2, len2, spec_reg, &r), 201);
	http_resp_free(&r);
	for (int v = 0; v < 2; v++)
		snprintf(stage_path[v], sizeof(stage_path[v]), "/api/models/%s/versions/%d/stage",
		    name, v + 1);
	ck_assert_int_eq(post_json(stage_path[0], "{\"stage\":\"Production\"}", &r), 200);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/models/%s/predict", name);
	row_json(&rw, rj, sizeof(rj));
	snprintf(body, sizeof(body), "{\"inputs\":%s}", rj);
	ck_assert_int_eq(post_json(path, body, &r), 200);   /* curl init before threads */
	http_resp_free(&r);
	for (int i = 0; i < CLIENTS; i++) {
		memset(&args[i], 0, sizeof(args[i]));
		args[i].path = path;
		args[i].body = body;
		args[i].stop = &stop;
		pthread_create(&t[i], NULL, predict_loop, &args[i]);
	}
	/* Production flips between v1 and v2 every 100 ms for 2 s. */
	for (int k = 0; k < 20; k++) {
		usleep(100000);
		ck_assert_int_eq(post_json(stage_path[(k + 1) % 2],
		    "{\"stage\":\"Production\",\"archive_existing_versions\":true}", &r), 200);
		http_resp_free(&r);
	}
	stop = 1;
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(t[i], NULL);
		ck_assert_msg(args[i].bad == 0, "%d bad, last: %s", args[i].bad, args[i].last_bad);
		ck_assert_int_eq(args[i].other_version, 0);
		total += args[i].ok;
	}
	ck_assert_int_gt(total, 50);
	/* The log matches the responses one to one. */
	c = db();
	logged = 0;
	for (int i = 0; i < CLIENTS; i++)
		for (int k = 0; k < args[i].nids; k++) {
			char idb[32];
			const char *vals[2] = { idb, name };
			PGresult *res;

			snprintf(idb, sizeof(idb), "%lld", args[i].ids[k]);
			res = PQexecParams(c, "SELECT 1 FROM predictions p JOIN model_versions v ON "
			    "v.id = p.model_version_id WHERE p.id = $1 AND v.name = $2", 2, NULL, vals,
			    NULL, NULL, 0);
			logged += PQntuples(res);
			PQclear(res);
		}
	PQfinish(c);
	ck_assert_int_eq(logged, total);
	ck_assert_int_eq(db_count("SELECT count(*) FROM predictions p JOIN model_versions v ON "
	    "v.id = p.model_version_id WHERE v.name = $1", name), total + 1);
	free(m1);
	free(m2);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("models");
	TCase *tc = tcase_create("models");
	SRunner *sr;
	int failed;
	struct http_resp r;
	char body[256];
	json_t *j;

	{
		/* The classification specs: the regression spec's inputs and features. */
		const char *rest = strstr(spec_reg, "\"inputs\"");

		snprintf(spec_bin, sizeof(spec_bin), "{\"task\":\"binary\",\"classes\":"
		    "[\"on_time\",\"late\"],\"threshold\":0.5,%s", rest);
		snprintf(spec_multi, sizeof(spec_multi), "{\"task\":\"multiclass\",\"classes\":"
		    "[\"low\",\"mid\",\"high\"],%s", rest);
	}
	setenv("VERDICT_TRUSTED_PROXIES", "127.0.0.1", 1);
	snprintf(body, sizeof(body), "flat%d", getpid());
	setenv("VERDICT_DEFAULT_MODEL", body, 1);
	if (harness_start() == -1)
		return 99;
	/* One account and token for every test. */
	snprintf(body, sizeof(body), "{\"username\":\"modeler%d\",\"password\":\"violet "
	    "tangerine 42 kites\"}", getpid());
	if (http_request("POST", "/api/signup", "application/json", body, strlen(body), NULL,
	    &r) != 0 || r.status != 201)
		return 99;
	http_resp_free(&r);
	snprintf(body, sizeof(body), "username=modeler%d&password=violet+tangerine+42+kites",
	    getpid());
	if (http_request("POST", "/api/token", "application/x-www-form-urlencoded", body,
	    strlen(body), NULL, &r) != 0 || r.status != 200)
		return 99;
	j = http_json(&r);
	snprintf(token, sizeof(token), "%s", json_string_value(json_object_get(j, "access_token")));
	snprintf(auth_header, sizeof(auth_header), "Authorization: Bearer %s", token);
	json_decref(j);
	http_resp_free(&r);

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, predictions_equal_libxgboost);
	tcase_add_test(tc, every_prediction_is_logged);
	tcase_add_test(tc, logged_inputs_are_the_clients_text);
	tcase_add_test(tc, invalid_uploads_store_nothing);
	tcase_add_test(tc, selectors_stages_aliases);
	tcase_add_test(tc, bad_inputs_are_4xx);
	tcase_add_test(tc, explanations_add_up);
	tcase_add_test(tc, flat_predict_for_default_model);
	tcase_add_test(tc, mlflow_and_v2_protocols);
	tcase_add_test(tc, hot_swap_under_load);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_stop();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
