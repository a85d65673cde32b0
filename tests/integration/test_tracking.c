/* test_tracking.c: the MLflow tracking API end to end — every endpoint, MLflow's errors and messages, write rules, search semantics, exact pagination under inserts. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"
#include "harness.h"

#pragma GCC diagnostic ignored "-Wformat-truncation"

/* Built once in main, before any thread: client threads only read them. */
static char auth_header[200], username[64];

static const char *const *
auth(void)
{
	static const char *hdrs[2] = { auth_header, NULL };

	return hdrs;
}

/* One request; *out gets the JSON body (caller decrefs) when out is non-NULL. Returns the status. */
static long
call(const char *method, const char *path, const char *body, json_t **out)
{
	struct http_resp r;
	long st;

	ck_assert_int_eq(http_request(method, path, body ? "application/json" : NULL, body,
	    body ? strlen(body) : 0, auth(), &r), 0);
	st = r.status;
	if (out != NULL) {
		*out = http_json(&r);
		ck_assert_msg(*out != NULL, "%s %s: not JSON: %s", method, path, r.body);
	}
	http_resp_free(&r);
	return st;
}

static long
post(const char *path, json_t **out, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static long
post(const char *path, json_t **out, const char *fmt, ...)
{
	static char body[1 << 20];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	return call("POST", path, body, out);
}

static long
get(json_t **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static long
get(json_t **out, const char *fmt, ...)
{
	char path[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return call("GET", path, NULL, out);
}

/* Asserts an MLflow error: status, error_code and a part of the message. */
static void
want_error(long st, json_t *j, long want_st, const char *code, const char *msg)
{
	const char *m = json_string_value(json_object_get(j, "message"));

	ck_assert_msg(st == want_st, "status %ld, want %ld: %s", st, want_st, m ? m : "");
	ck_assert_str_eq(json_string_value(json_object_get(j, "error_code")), code);
	ck_assert_msg(m != NULL && strstr(m, msg) != NULL, "message '%s' lacks '%s'", m, msg);
	json_decref(j);
}

static const char *
str(json_t *j, const char *path)
{
	char key[128], *dot;
	const char *p = path;

	while ((dot = strchr(p, '.')) != NULL) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - p), p);
		j = json_object_get(j, key);
		p = dot + 1;
	}
	return json_string_value(json_object_get(j, p));
}

static void
mkexp(const char *name, char *id, size_t len)
{
	json_t *j;

	ck_assert_int_eq(post("/api/2.0/mlflow/experiments/create", &j, "{\"name\":\"%s\"}",
	    name), 200);
	snprintf(id, len, "%s", str(j, "experiment_id"));
	json_decref(j);
}

static void
mkrun(const char *exp, const char *name, char *id, size_t len)
{
	json_t *j;

	ck_assert_int_eq(post("/api/2.0/mlflow/runs/create", &j, "{\"experiment_id\":\"%s\","
	    "\"run_name\":\"%s\"}", exp, name), 200);
	snprintf(id, len, "%s", str(j, "run.info.run_id"));
	json_decref(j);
}

static void
uniq(char *buf, size_t len, const char *what)
{
	static int n;

	snprintf(buf, len, "%s-%d-%d", what, (int)getpid(), ++n);
}

/* The number of points of a metric, through get-history. */
static size_t
history_len(const char *run, const char *key)
{
	json_t *j;
	size_t n;

	ck_assert_int_eq(get(&j, "/api/2.0/mlflow/metrics/get-history?run_id=%s&metric_key=%s",
	    run, key), 200);
	n = json_array_size(json_object_get(j, "metrics"));
	json_decref(j);
	return n;
}

START_TEST(experiments_lifecycle)
{
	char name[64], name2[80], id[32];
	json_t *j;
	long st;

	uniq(name, sizeof(name), "exp");
	mkexp(name, id, sizeof(id));
	ck_assert_int_eq(get(&j, "/api/2.0/mlflow/experiments/get?experiment_id=%s", id), 200);
	ck_assert_str_eq(str(j, "experiment.name"), name);
	ck_assert_str_eq(str(j, "experiment.lifecycle_stage"), "active");
	ck_assert(json_is_integer(json_object_get(json_object_get(j, "experiment"),
	    "creation_time")));
	json_decref(j);
	/* The same under /ajax-api/ and by name. */
	ck_assert_int_eq(get(&j, "/ajax-api/2.0/mlflow/experiments/get-by-name?"
	    "experiment_name=%s", name), 200);
	ck_assert_str_eq(str(j, "experiment.experiment_id"), id);
	json_decref(j);
	st = get(&j, "/api/2.0/mlflow/experiments/get-by-name?experiment_name=no-such-%d",
	    (int)getpid());
	want_error(st, j, 404, "RESOURCE_DOES_NOT_EXIST", "Could not find experiment with name");
	st = post("/api/2.0/mlflow/experiments/create", &j, "{\"name\":\"%s\"}", name);
	want_error(st, j, 400, "RESOURCE_ALREADY_EXISTS", "already exists");
	st = get(&j, "/api/2.0/mlflow/experiments/get?experiment_id=987654321");
	want_error(st, j, 404, "RESOURCE_DOES_NOT_EXIST", "No Experiment with id=987654321 exists");
	st = get(&j, "/api/2.0/mlflow/experiments/get?experiment_id=%%2E%%2E");
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "Invalid experiment ID: '..'");
	st = get(&j, "/api/2.0/mlflow/experiments/get");
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "Missing value for required "
	    "parameter 'experiment_id'. See the API docs for more information about request "
	    "parameters.");
	/* Tags. */
	ck_assert_int_eq(post("/api/2.0/mlflow/experiments/set-experiment-tag", NULL,
	    "{\"experiment_id\":\"%s\",\"key\":\"team\",\"value\":\"blue\"}", id), 200);
	ck_assert_int_eq(post("/api/2.0/mlflow/experiments/set-experiment-tag", NULL,
	    "{\"experiment_id\":\"%s\",\"key\":\"team\",\"value\":\"red\"}", id), 200);
	ck_assert_int_eq(get(&j, "/api/2.0/mlflow/experiments/get?experiment_id=%s", id), 200);
	ck_assert_str_eq(str(json_array_get(json_object_get(json_object_get(j, "experiment"),
	    "tags"), 0), "value"), "red");
	json_decref(j);
	ck_assert_int_eq(post("/api/2.0/mlflow/experiments/delete-experiment-tag", NULL,
	    "{\"experiment_id\":\"%s\",\"key\":\"team\"}", id), 200);
	st = post("/api/2.0/mlflow/experiments/delete-experiment-tag", &j,
	    "{\"experiment_id\":\"%s\",\"key\":\"team\"}", id);
	want_error(st, j, 404, "RESOURCE_DOES_NOT_EXIST", "No tag with name: team");
	st = post("/api/2.0/mlflow/experiments/set-experiment-tag", &j,
	    "{\"experiment_id\":\"%s\",\"key\":\"../x\",\"value\":\"v\"}", id);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "Invalid tag name: '../x'");
	/* Rename, delete, restore. */
	snprintf(name2, sizeof(name2), "%s-renamed", name);
	ck_assert_int_eq(post("/api/2.0/mlflow/experiments/update", NULL,
	    "{\"experiment_id\":\"%s\",\"new_name\":\"%s\"}", id, name2), 200);
	ck_assert_int_eq(get(&j, "/api/2.0/mlflow/experiments/get-by-name?experiment_name=%s",
	    name2), 200);
	json_decref(j);
	ck_assert_int_eq(post("/api/2.0/mlflow/experiments/delete", NULL,
	    "{\"experiment_id\":\"%s\"}", id), 200);
	ck_assert_int_eq(get(&j, "/api/2.0/mlflow/experiments/get?experiment_id=%s", id), 200);
	ck_assert_str_eq(str(j, "experiment.lifecycle_stage"), "deleted");
	json_decref(j);
	st = post("/api/2.0/mlflow/runs/create", &j, "{\"experiment_id\":\"%s\"}", id);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "must be in the 'active' state");
	st = post("/api/2.0/mlflow/experiments/update", &j,
	    "{\"experiment_id\":\"%s\",\"new_name\":\"x%s\"}", id, name);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "Cannot rename a non-active experiment");
	st = post("/api/2.0/mlflow/experiments/create", &j, "{\"name\":\"%s\"}", name2);
	want_error(st, j, 400, "RESOURCE_ALREADY_EXISTS", "deleted state");
	ck_assert_int_eq(post("/api/2.0/mlflow/experiments/restore", NULL,
	    "{\"experiment_id\":\"%s\"}", id), 200);
	st = post("/api/2.0/mlflow/experiments/restore", &j, "{\"experiment_id\":\"%s\"}", id);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "Current state is active");
	st = post("/api/2.0/mlflow/experiments/delete", &j, "{\"experiment_id\":\"0\"}");
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "default experiment");
}
END_TEST

/* Deleting an experiment deletes its runs; restoring brings back exactly those. */
START_TEST(experiment_delete_cascades_to_runs)
{
	char name[64], exp[32], r1[40], r2[40];
	json_t *j;

	uniq(name, sizeof(name), "casc");
	mkexp(name, exp, sizeof(exp));
	mkrun(exp, "a", r1, sizeof(r1));
	mkrun(exp, "b", r2, sizeof(r2));
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/delete", NULL, "{\"run_id\":\"%s\"}", r2), 200);
	ck_assert_int_eq(post("/api/2.0/mlflow/experiments/delete", NULL,
	    "{\"experiment_id\":\"%s\"}", exp), 200);
	ck_assert_int_eq(get(&j, "/api/2.0/mlflow/runs/get?run_id=%s", r1), 200);
	ck_assert_str_eq(str(j, "run.info.lifecycle_stage"), "deleted");
	json_decref(j);
	ck_assert_int_eq(post("/api/2.0/mlflow/experiments/restore", NULL,
	    "{\"experiment_id\":\"%s\"}", exp), 200);
	ck_assert_int_eq(get(&j, "/api/2.0/mlflow/runs/get?run_id=%s", r1), 200);
	ck_assert_str_eq(str(j, "run.info.lifecycle_stage"), "active");
	json_decref(j);
	ck_assert_int_eq(get(&j, "/api/2.0/mlflow/runs/get?run_uuid=%s", r2), 200);
	ck_assert_str_eq(str(j, "run.info.lifecycle_stage"), "deleted");
	json_decref(j);
}
END_TEST

START_TEST(experiments_search_and_list)
{
	char prefix[64], name[96], ids[5][32], token[4096] = "";
	json_t *j;
	long st;
	int seen = 0;

	uniq(prefix, sizeof(prefix), "srch");
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "%s-%d", prefix, i);
		mkexp(name, ids[i], sizeof(ids[i]));
		if (i % 2 == 0)
			ck_assert_int_eq(post("/api/2.0/mlflow/experiments/set-experiment-tag",
			    NULL, "{\"experiment_id\":\"%s\",\"key\":\"even\",\"value\":\"yes\"}",
			    ids[i]), 200);
	}
	/* GET: filter on name LIKE, order by name, pages of two. */
	do {
		ck_assert_int_eq(get(&j, "/api/2.0/mlflow/experiments/search?max_results=2&"
		    "filter=name+LIKE+%%27%s-%%25%%27&order_by=name+DESC%s%s", prefix,
		    token[0] ? "&page_token=" : "", token), 200);
		for (size_t k = 0; k < json_array_size(json_object_get(j, "experiments")); k++) {
			snprintf(name, sizeof(name), "%s-%d", prefix, 4 - seen);
			ck_assert_str_eq(str(json_array_get(json_object_get(j, "experiments"), k),
			    "name"), name);
			seen++;
		}
		snprintf(token, sizeof(token), "%s", str(j, "next_page_token") ?
		    str(j, "next_page_token") : "");
		json_decref(j);
	} while (token[0] != '\0');
	ck_assert_int_eq(seen, 5);
	/* POST: tags and != */
	ck_assert_int_eq(post("/api/2.0/mlflow/experiments/search", &j, "{\"filter\":"
	    "\"name ILIKE '%s-%%' AND tags.even = 'yes' AND name != '%s-0'\"}", prefix, prefix), 200);
	ck_assert_int_eq(json_array_size(json_object_get(j, "experiments")), 2);
	json_decref(j);
	/* Deleted ones only with the view type. */
	ck_assert_int_eq(post("/api/2.0/mlflow/experiments/delete", NULL,
	    "{\"experiment_id\":\"%s\"}", ids[1]), 200);
	ck_assert_int_eq(post("/api/2.0/mlflow/experiments/search", &j, "{\"filter\":"
	    "\"name LIKE '%s-%%'\",\"view_type\":\"DELETED_ONLY\"}", prefix), 200);
	ck_assert_int_eq(json_array_size(json_object_get(j, "experiments")), 1);
	json_decref(j);
	ck_assert_int_eq(post("/api/2.0/mlflow/experiments/search", &j, "{\"filter\":"
	    "\"name LIKE '%s-%%'\",\"view_type\":\"ALL\"}", prefix), 200);
	ck_assert_int_eq(json_array_size(json_object_get(j, "experiments")), 5);
	json_decref(j);
	st = post("/api/2.0/mlflow/experiments/search", &j, "{\"filter\":\"name = 1\"}");
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "at position 8");
	st = post("/api/2.0/mlflow/experiments/search", &j, "{\"max_results\":50001}");
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "It must be at most 50000");
	st = post("/api/2.0/mlflow/experiments/search", &j, "{\"view_type\":\"SOME\"}");
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "view_type");
	/* The 1.x list endpoints, both paths, include Default and these. */
	ck_assert_int_eq(get(&j, "/api/2.0/preview/mlflow/experiments/list"), 200);
	ck_assert_uint_ge(json_array_size(json_object_get(j, "experiments")), 5);
	json_decref(j);
	ck_assert_int_eq(get(&j, "/api/2.0/mlflow/experiments/list?view_type=DELETED_ONLY"), 200);
	ck_assert_uint_ge(json_array_size(json_object_get(j, "experiments")), 1);
	for (size_t k = 0; k < json_array_size(json_object_get(j, "experiments")); k++)
		ck_assert_str_eq(str(json_array_get(json_object_get(j, "experiments"), k),
		    "lifecycle_stage"), "deleted");
	json_decref(j);
	ck_assert_int_eq(get(&j, "/ajax-api/2.0/preview/mlflow/experiments/list"), 200);
	json_decref(j);
}
END_TEST

/* MLflow's request rules: content type, required fields, run ids, authentication. */
START_TEST(request_errors)
{
	struct http_resp r;
	char hdr[128];
	json_t *j;
	long st;

	ck_assert_int_eq(http_request("POST", "/api/2.0/mlflow/runs/create", "text/plain",
	    "{}", 2, auth(), &r), 0);
	j = http_json(&r);
	want_error(r.status, j, 400, "INVALID_PARAMETER_VALUE",
	    "Bad Request. Content-Type must be one of ['application/json'].");
	http_resp_free(&r);
	ck_assert_int_eq(http_request("POST", "/ajax-api/2.0/mlflow/runs/log-batch",
	    "application/x-www-form-urlencoded", "run_id=x", 8, auth(), &r), 0);
	j = http_json(&r);
	want_error(r.status, j, 400, "INVALID_PARAMETER_VALUE", "Content-Type must be one of");
	http_resp_free(&r);
	{
		static const char *const h[] = { auth_header, "Content-Type:", NULL };

		ck_assert_int_eq(http_request("POST", "/api/2.0/mlflow/runs/log-batch", NULL,
		    NULL, 0, h, &r), 0);
		j = http_json(&r);
		want_error(r.status, j, 400, "INVALID_PARAMETER_VALUE",
		    "Bad Request. Content-Type header is missing.");
		http_resp_free(&r);
	}
	/* Other routes keep their own answer. */
	ck_assert_int_eq(http_request("POST", "/api/models", "text/plain", "x", 1, auth(),
	    &r), 0);
	ck_assert_int_eq(r.status, 415);
	http_resp_free(&r);
	st = post("/api/2.0/mlflow/runs/log-batch", &j, "{\"metrics\":[]}");
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "Missing value for required "
	    "parameter 'run_id'. See the API docs for more information about request parameters.");
	st = post("/api/2.0/mlflow/runs/log-metric", &j, "{\"run_id\":\"abc\",\"key\":\"\","
	    "\"value\":1,\"timestamp\":1}");
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "required parameter 'key'");
	st = get(&j, "/api/2.0/mlflow/runs/get");
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "required parameter 'run_id'");
	st = get(&j, "/api/2.0/mlflow/runs/get?run_id=..%%2Fetc");
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "Invalid run ID: '../etc'");
	st = get(&j, "/api/2.0/mlflow/runs/get?run_id=0123456789abcdef0123456789abcdef");
	want_error(st, j, 404, "RESOURCE_DOES_NOT_EXIST",
	    "Run with id=0123456789abcdef0123456789abcdef not found");
	st = post("/api/2.0/mlflow/runs/create", &j, "{\"experiment_id\":\"424242424\"}");
	want_error(st, j, 404, "RESOURCE_DOES_NOT_EXIST", "No Experiment with id=424242424");
	st = post("/api/2.0/mlflow/runs/log-batch", &j, "{\"run_id\":\"0123456789abcdef0123"
	    "456789abcdef\",\"metrics\":[{\"key\":\"a\",\"value\":1,\"timestamp\":1}]}");
	want_error(st, j, 404, "RESOURCE_DOES_NOT_EXIST", "not found");
	/* Unauthenticated: 401 with a Basic challenge, as MLflow clients expect. */
	ck_assert_int_eq(http_request("GET", "/api/2.0/mlflow/experiments/list", NULL, NULL, 0,
	    NULL, &r), 0);
	ck_assert_int_eq(r.status, 401);
	ck_assert_str_eq(http_header(&r, "WWW-Authenticate", hdr, sizeof(hdr)),
	    "Basic realm=\"verdict\"");
	j = http_json(&r);
	want_error(r.status, j, 401, "UNAUTHENTICATED", "authentication required");
	http_resp_free(&r);
	ck_assert_int_eq(http_request("GET", "/ajax-api/2.0/mlflow/experiments/list", NULL,
	    NULL, 0, NULL, &r), 0);
	ck_assert_int_eq(r.status, 401);
	http_resp_free(&r);
}
END_TEST

START_TEST(runs_and_write_rules)
{
	char name[64], exp[32], run[40];
	json_t *j, *data;
	long st;

	uniq(name, sizeof(name), "runs");
	mkexp(name, exp, sizeof(exp));
	/* The user: the mlflow.user tag, else the authenticated user. */
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/create", &j, "{\"experiment_id\":\"%s\","
	    "\"start_time\":\"1700000000000\",\"tags\":[{\"key\":\"mlflow.user\",\"value\":"
	    "\"ada\"},{\"key\":\"mlflow.runName\",\"value\":\"named-by-tag\"}]}", exp), 200);
	ck_assert_str_eq(str(j, "run.info.user_id"), "ada");
	ck_assert_str_eq(str(j, "run.info.run_name"), "named-by-tag");
	ck_assert_str_eq(str(j, "run.info.status"), "RUNNING");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(json_object_get(j,
	    "run"), "info"), "start_time")), 1700000000000LL);
	json_decref(j);
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/create", &j, "{\"experiment_id\":\"%s\","
	    "\"unknown_field\":1}", exp), 200);
	ck_assert_str_eq(str(j, "run.info.user_id"), username);
	ck_assert_ptr_nonnull(str(j, "run.info.run_name"));
	snprintf(run, sizeof(run), "%s", str(j, "run.info.run_id"));
	ck_assert_int_eq(strlen(run), 32);
	ck_assert_int_eq(strspn(run, "0123456789abcdef"), 32);
	{
		char uri[200];

		snprintf(uri, sizeof(uri), "mlflow-artifacts:/%s/%s/artifacts", exp, run);
		ck_assert_str_eq(str(j, "run.info.artifact_uri"), uri);
	}
	json_decref(j);
	/* Params: immutable; the same value again is fine. */
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/log-parameter", NULL, "{\"run_id\":\"%s\","
	    "\"key\":\"lr\",\"value\":\"0.1\"}", run), 200);
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/log-parameter", NULL, "{\"run_uuid\":\"%s\","
	    "\"key\":\"lr\",\"value\":\"0.1\"}", run), 200);
	st = post("/api/2.0/mlflow/runs/log-parameter", &j, "{\"run_id\":\"%s\",\"key\":\"lr\","
	    "\"value\":\"0.2\"}", run);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "Changing param values is not "
	    "allowed. Param with key='lr' was already logged with value='0.1' for run ID=");
	/* Tags overwrite; delete-tag removes. */
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/set-tag", NULL, "{\"run_id\":\"%s\","
	    "\"key\":\"stage\",\"value\":\"a\"}", run), 200);
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/set-tag", NULL, "{\"run_id\":\"%s\","
	    "\"key\":\"stage\",\"value\":\"b\"}", run), 200);
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/set-tag", NULL, "{\"run_id\":\"%s\","
	    "\"key\":\"gone\",\"value\":\"x\"}", run), 200);
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/delete-tag", NULL, "{\"run_id\":\"%s\","
	    "\"key\":\"gone\"}", run), 200);
	st = post("/api/2.0/mlflow/runs/delete-tag", &j, "{\"run_id\":\"%s\",\"key\":\"gone\"}", run);
	want_error(st, j, 404, "RESOURCE_DOES_NOT_EXIST", "No tag with name: gone");
	/* Metrics: append-only; latest = latest timestamp, then the larger value. */
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/log-metric", NULL, "{\"run_id\":\"%s\","
	    "\"key\":\"loss\",\"value\":0.9,\"timestamp\":1000,\"step\":1}", run), 200);
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/log-metric", NULL, "{\"run_id\":\"%s\","
	    "\"key\":\"loss\",\"value\":0.5,\"timestamp\":\"3000\",\"step\":\"2\"}", run), 200);
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/log-metric", NULL, "{\"run_id\":\"%s\","
	    "\"key\":\"loss\",\"value\":0.7,\"timestamp\":3000,\"step\":3}", run), 200);
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/log-metric", NULL, "{\"run_id\":\"%s\","
	    "\"key\":\"loss\",\"value\":0.1,\"timestamp\":2000,\"step\":4}", run), 200);
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/log-metric", NULL, "{\"run_id\":\"%s\","
	    "\"key\":\"odd\",\"value\":\"NaN\",\"timestamp\":5}", run), 200);
	ck_assert_int_eq(history_len(run, "loss"), 4);
	st = post("/api/2.0/mlflow/runs/log-metric", &j, "{\"run_id\":\"%s\",\"key\":\"loss\","
	    "\"value\":\"abc\",\"timestamp\":5}", run);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "valid double");
	st = post("/api/2.0/mlflow/runs/log-metric", &j, "{\"run_id\":\"%s\",\"key\":\"loss\","
	    "\"value\":1,\"timestamp\":-5}", run);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "nonnegative");
	ck_assert_int_eq(get(&j, "/api/2.0/mlflow/runs/get?run_id=%s", run), 200);
	data = json_object_get(json_object_get(j, "run"), "data");
	for (size_t i = 0; i < json_array_size(json_object_get(data, "metrics")); i++) {
		json_t *m = json_array_get(json_object_get(data, "metrics"), i);

		if (!strcmp(str(m, "key"), "loss")) {
			ck_assert(json_real_value(json_object_get(m, "value")) == 0.7);
			ck_assert_int_eq(json_integer_value(json_object_get(m, "step")), 3);
		} else {
			ck_assert_str_eq(str(m, "key"), "odd");
			ck_assert_str_eq(str(m, "value"), "NaN");
		}
	}
	ck_assert_int_eq(json_array_size(json_object_get(data, "metrics")), 2);
	for (size_t i = 0; i < json_array_size(json_object_get(data, "tags")); i++) {
		json_t *t = json_array_get(json_object_get(data, "tags"), i);

		ck_assert_str_ne(str(t, "key"), "gone");
		if (!strcmp(str(t, "key"), "stage"))
			ck_assert_str_eq(str(t, "value"), "b");
	}
	json_decref(j);
	/* Update: status, end time, name (the tag follows). */
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/update", &j, "{\"run_id\":\"%s\","
	    "\"status\":\"FINISHED\",\"end_time\":1700000009999,\"run_name\":\"renamed\"}",
	    run), 200);
	ck_assert_str_eq(str(j, "run_info.status"), "FINISHED");
	ck_assert_str_eq(str(j, "run_info.run_name"), "renamed");
	json_decref(j);
	st = post("/api/2.0/mlflow/runs/update", &j, "{\"run_id\":\"%s\",\"status\":\"DONE\"}",
	    run);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "status");
	/* Deleted runs take no writes until restored. */
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/delete", NULL, "{\"run_id\":\"%s\"}", run), 200);
	st = post("/api/2.0/mlflow/runs/set-tag", &j, "{\"run_id\":\"%s\",\"key\":\"k\","
	    "\"value\":\"v\"}", run);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "must be in the 'active' state. "
	    "Current state is deleted.");
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/restore", NULL, "{\"run_id\":\"%s\"}", run), 200);
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/set-tag", NULL, "{\"run_id\":\"%s\","
	    "\"key\":\"k\",\"value\":\"v\"}", run), 200);
	/* Datasets. */
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/log-inputs", NULL, "{\"run_id\":\"%s\","
	    "\"datasets\":[{\"tags\":[{\"key\":\"mlflow.data.context\",\"value\":\"train\"}],"
	    "\"dataset\":{\"name\":\"flights\",\"digest\":\"abc123\",\"source_type\":\"local\","
	    "\"source\":\"{\\\"uri\\\":\\\"/d.csv\\\"}\",\"schema\":\"{}\"}}]}", run), 200);
	st = post("/api/2.0/mlflow/runs/log-inputs", &j, "{\"run_id\":\"%s\",\"datasets\":"
	    "[{\"dataset\":{\"name\":\"x\"}}]}", run);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "datasets[0].dataset.digest");
	ck_assert_int_eq(get(&j, "/api/2.0/mlflow/runs/get?run_id=%s", run), 200);
	{
		json_t *in = json_array_get(json_object_get(json_object_get(json_object_get(j,
		    "run"), "inputs"), "dataset_inputs"), 0);

		ck_assert_str_eq(str(in, "dataset.name"), "flights");
		ck_assert_str_eq(str(in, "dataset.digest"), "abc123");
		ck_assert_str_eq(str(json_array_get(json_object_get(in, "tags"), 0), "value"),
		    "train");
	}
	json_decref(j);
}
END_TEST

/* Builds {"run_id":..., "metrics":[nm], "params":[np], "tags":[nt]}; caller frees. */
static char *
batch_body(const char *run, int nm, int np, int nt, const char *extra_param)
{
	size_t cap = 200 + (size_t)(nm + np + nt) * 80 + (extra_param ? strlen(extra_param) : 0);
	char *b = malloc(cap);
	size_t n = 0;

	n += (size_t)snprintf(b + n, cap - n, "{\"run_id\":\"%s\",\"metrics\":[", run);
	for (int i = 0; i < nm; i++)
		n += (size_t)snprintf(b + n, cap - n, "%s{\"key\":\"m%d\",\"value\":%d.5,"
		    "\"timestamp\":%d,\"step\":%d}", i ? "," : "", i % 7, i, 1000 + i, i);
	n += (size_t)snprintf(b + n, cap - n, "],\"params\":[");
	for (int i = 0; i < np; i++)
		n += (size_t)snprintf(b + n, cap - n, "%s{\"key\":\"p%d\",\"value\":\"v%d\"}",
		    i ? "," : "", i, i);
	if (extra_param != NULL)
		n += (size_t)snprintf(b + n, cap - n, "%s%s", np ? "," : "", extra_param);
	n += (size_t)snprintf(b + n, cap - n, "],\"tags\":[");
	for (int i = 0; i < nt; i++)
		n += (size_t)snprintf(b + n, cap - n, "%s{\"key\":\"t%d\",\"value\":\"v\"}",
		    i ? "," : "", i);
	snprintf(b + n, cap - n, "]}");
	return b;
}

START_TEST(log_batch_limits_and_atomicity)
{
	static const struct { int nm, np, nt; const char *msg; } limits[] = {
		{ 1001, 0, 0, "A batch logging request can contain at most 1000 metrics. Got 1001 "
		    "metrics. Please split up metrics across multiple requests and try again." },
		{ 0, 101, 0, "at most 100 params. Got 101 params." },
		{ 0, 0, 101, "at most 100 tags. Got 101 tags." },
		{ 950, 30, 30, "at most 1000 metrics, params, and tags. Got 1010 metrics, params, "
		    "and tags." },
	};
	char name[64], exp[32], run[40], key[300], val[6100];
	json_t *j;
	char *b;
	long st;

	uniq(name, sizeof(name), "batch");
	mkexp(name, exp, sizeof(exp));
	mkrun(exp, "r", run, sizeof(run));
	b = batch_body(run, 1000, 0, 0, NULL);
	ck_assert_int_eq(call("POST", "/api/2.0/mlflow/runs/log-batch", b, NULL), 200);
	free(b);
	ck_assert_int_eq(history_len(run, "m3"), 143);
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		b = batch_body(run, limits[i].nm, limits[i].np, limits[i].nt, NULL);
		st = call("POST", "/api/2.0/mlflow/runs/log-batch", b, &j);
		free(b);
		want_error(st, j, 400, "INVALID_PARAMETER_VALUE", limits[i].msg);
	}
	/* Over 1 MB of request (an over-long value pads it). */
	b = malloc(1000200);
	memset(b, 'x', 1000200);
	{
		int n = snprintf(b, 200, "{\"run_id\":\"%s\",\"tags\":[{\"key\":\"k\",\"value\":\"", run);

		b[n] = 'x';
		memcpy(b + 1000200 - 5, "\"}]}", 5);
	}
	st = call("POST", "/api/2.0/mlflow/runs/log-batch", b, &j);
	free(b);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "Batched logging API requests must "
	    "be at most 1000000 bytes, got a request of size 1000199.");
	/* Key and value lengths (MLflow's limits, counted in characters). */
	memset(key, 'k', 251);
	key[251] = '\0';
	st = post("/api/2.0/mlflow/runs/log-batch", &j, "{\"run_id\":\"%s\",\"params\":[{\"key\""
	    ":\"%s\",\"value\":\"v\"}]}", run, key);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "had length 251, which exceeded length "
	    "limit of 250");
	st = post("/api/2.0/mlflow/runs/log-metric", &j, "{\"run_id\":\"%s\",\"key\":\"%s\","
	    "\"value\":1,\"timestamp\":1}", run, key);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "Metric name '");
	key[250] = '\0';
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/set-tag", NULL, "{\"run_id\":\"%s\",\"key\":"
	    "\"%s\",\"value\":\"ok\"}", run, key), 200);
	memset(val, 'v', 6001);
	val[6001] = '\0';
	st = post("/api/2.0/mlflow/runs/log-parameter", &j, "{\"run_id\":\"%s\",\"key\":\"big\","
	    "\"value\":\"%s\"}", run, val);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "Param value 'vvv");
	val[6000] = '\0';
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/log-parameter", NULL, "{\"run_id\":\"%s\","
	    "\"key\":\"big\",\"value\":\"%s\"}", run, val), 200);
	val[5001] = '\0';
	st = post("/api/2.0/mlflow/runs/set-tag", &j, "{\"run_id\":\"%s\",\"key\":\"bigtag\","
	    "\"value\":\"%s\"}", run, val);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "exceeded length limit of 5000");
	/* One bad item anywhere: nothing of the batch is written. */
	b = batch_body(run, 10, 2, 2, "{\"key\":\"bad/../key\",\"value\":\"x\"}");
	st = call("POST", "/api/2.0/mlflow/runs/log-batch", b, &j);
	free(b);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "Invalid parameter name: 'bad/../key'");
	b = batch_body(run, 10, 2, 2, "{\"key\":\"big\",\"value\":\"another value\"}");
	st = call("POST", "/api/2.0/mlflow/runs/log-batch", b, &j);
	free(b);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "Changing param values is not allowed");
	b = batch_body(run, 3, 0, 0, "{\"key\":\"p0\",\"value\":\"a\"},{\"key\":\"p0\",\"value\":\"b\"}");
	st = call("POST", "/api/2.0/mlflow/runs/log-batch", b, &j);
	free(b);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "Duplicate parameter keys");
	ck_assert_int_eq(history_len(run, "m3"), 143);
	ck_assert_int_eq(get(&j, "/api/2.0/mlflow/runs/get?run_id=%s", run), 200);
	ck_assert_int_eq(json_array_size(json_object_get(json_object_get(json_object_get(j,
	    "run"), "data"), "params")), 1);     /* only "big" */
	json_decref(j);
}
END_TEST

/* Search runs: each operator x identifier type, against a known set of runs. */
START_TEST(search_semantics)
{
	static const struct { const char *filter; const char *want; } cases[] = {
		/* want: run names in the default order (start_time DESC), joined by ',' */
		{ "metrics.acc > 0.5", "r4,r3" },
		{ "metrics.acc >= 0.5", "r4,r3,r2" },
		{ "metrics.acc = 0.5", "r2" },
		{ "metrics.acc != 0.5", "r4,r3,r1" },
		{ "metrics.acc < 0.5", "r1" },
		{ "metrics.acc <= 0.5", "r2,r1" },
		{ "params.model = 'xgb'", "r3,r1" },
		{ "params.model != 'xgb'", "r4,r2" },
		{ "params.model LIKE 'x%'", "r3,r1" },
		{ "params.model LIKE 'X%'", "" },
		{ "params.model ILIKE 'X%'", "r3,r1" },
		{ "tags.team = 'blue'", "r2" },
		{ "tags.team != 'blue'", "r4" },     /* only runs that have the tag */
		{ "tags.team LIKE '%e%'", "r4,r2" },
		{ "tags.team ILIKE 'RED'", "r4" },
		{ "attributes.run_name = 'r2'", "r2" },
		{ "attributes.run_name != 'r2'", "r4,r3,r1,r0" },
		{ "run_name LIKE 'r_'", "r4,r3,r2,r1,r0" },
		{ "attributes.status = 'FINISHED'", "r3" },
		{ "attributes.status ILIKE 'running'", "r4,r2,r1,r0" },
		{ "attributes.start_time > 1700000002000", "r4,r3" },
		{ "attributes.start_time >= 1700000002000", "r4,r3,r2" },
		{ "attributes.start_time = 1700000002000", "r2" },
		{ "attributes.start_time != 1700000002000", "r4,r3,r1,r0" },
		{ "attributes.start_time < 1700000001000", "r0" },
		{ "attributes.start_time <= 1700000001000", "r1,r0" },
		{ "attributes.end_time > 0", "r3" },
		{ "attributes.user_id = 'ada'", "r1" },
		{ "params.model = 'xgb' AND metrics.acc > 0.5", "r3" },
		{ "metrics.`acc` > 0.5 and tags.\"team\" = 'red'", "r4" },
	};
	char name[64], exp[32], runs[5][40], filt[512], got[256], esc[512];
	json_t *j;
	long st;

	uniq(name, sizeof(name), "sem");
	mkexp(name, exp, sizeof(exp));
	for (int i = 0; i < 5; i++) {
		static const char *const models[] = { NULL, "xgb", "lgbm", "xgb", "rf" };
		static const char *const teams[] = { NULL, NULL, "blue", NULL, "red" };
		static const char *const accs[] = { NULL, "0.25", "0.5", "0.75", "0.9" };

		ck_assert_int_eq(post("/api/2.0/mlflow/runs/create", &j, "{\"experiment_id\":"
		    "\"%s\",\"run_name\":\"r%d\",\"start_time\":%lld%s}", exp, i,
		    1700000000000LL + i * 1000, i == 1 ? ",\"tags\":[{\"key\":\"mlflow.user\","
		    "\"value\":\"ada\"}]" : ""), 200);
		snprintf(runs[i], sizeof(runs[i]), "%s", str(j, "run.info.run_id"));
		json_decref(j);
		snprintf(got, sizeof(got), "{\"run_id\":\"%s\",\"metrics\":[%s%s%s],\"params\":[%s%s%s],"
		    "\"tags\":[%s%s%s]}", runs[i],
		    accs[i] ? "{\"key\":\"acc\",\"value\":" : "", accs[i] ? accs[i] : "",
		    accs[i] ? ",\"timestamp\":1}" : "",
		    models[i] ? "{\"key\":\"model\",\"value\":\"" : "", models[i] ? models[i] : "",
		    models[i] ? "\"}" : "",
		    teams[i] ? "{\"key\":\"team\",\"value\":\"" : "", teams[i] ? teams[i] : "",
		    teams[i] ? "\"}" : "");
		ck_assert_int_eq(call("POST", "/api/2.0/mlflow/runs/log-batch", got, NULL), 200);
	}
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/update", NULL, "{\"run_id\":\"%s\","
	    "\"status\":\"FINISHED\",\"end_time\":1700000009000}", runs[3]), 200);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t e = 0;

		for (const char *p = cases[c].filter; *p; p++) {
			if (*p == '"' || *p == '\\')
				esc[e++] = '\\';
			esc[e++] = *p;
		}
		esc[e] = '\0';
		snprintf(filt, sizeof(filt), "{\"experiment_ids\":[\"%s\"],\"filter\":\"%s\"}",
		    exp, esc);
		ck_assert_int_eq(call("POST", "/api/2.0/mlflow/runs/search", filt, &j), 200);
		got[0] = '\0';
		for (size_t k = 0; k < json_array_size(json_object_get(j, "runs")); k++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", k ? "," : "",
			    str(json_array_get(json_object_get(j, "runs"), k), "info.run_name"));
		ck_assert_msg(!strcmp(got, cases[c].want), "%s: got '%s', want '%s'",
		    cases[c].filter, got, cases[c].want);
		json_decref(j);
	}
	/* Missing values order last, ascending and descending; ties by start_time DESC. */
	{
		static const struct { const char *ob, *want; } orders[] = {
			{ "metrics.acc ASC", "r1,r2,r3,r4,r0" },
			{ "metrics.acc DESC", "r4,r3,r2,r1,r0" },
			{ "params.model", "r2,r4,r3,r1,r0" },
			{ "tags.team DESC", "r4,r2,r3,r1,r0" },
			{ "attributes.start_time ASC", "r0,r1,r2,r3,r4" },
			{ "attributes.end_time DESC", "r3,r4,r2,r1,r0" },
		};

		for (size_t c = 0; c < sizeof(orders) / sizeof(orders[0]); c++) {
			ck_assert_int_eq(post("/api/2.0/mlflow/runs/search", &j, "{\"experiment_ids\":"
			    "[%s],\"order_by\":[\"%s\"]}", exp, orders[c].ob), 200);
			got[0] = '\0';
			for (size_t k = 0; k < json_array_size(json_object_get(j, "runs")); k++)
				snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
				    k ? "," : "", str(json_array_get(json_object_get(j, "runs"), k),
				    "info.run_name"));
			ck_assert_msg(!strcmp(got, orders[c].want), "%s: got '%s', want '%s'",
			    orders[c].ob, got, orders[c].want);
			json_decref(j);
		}
	}
	/* run_id IN / NOT IN, deleted runs, and errors. */
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/search", &j, "{\"experiment_ids\":[\"%s\"],"
	    "\"filter\":\"attributes.run_id IN ('%s', '%s')\"}", exp, runs[0], runs[4]), 200);
	ck_assert_int_eq(json_array_size(json_object_get(j, "runs")), 2);
	json_decref(j);
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/search", &j, "{\"experiment_ids\":[\"%s\"],"
	    "\"filter\":\"attributes.run_id NOT IN ('%s')\"}", exp, runs[0]), 200);
	ck_assert_int_eq(json_array_size(json_object_get(j, "runs")), 4);
	json_decref(j);
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/delete", NULL, "{\"run_id\":\"%s\"}", runs[0]), 200);
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/search", &j, "{\"experiment_ids\":[\"%s\"]}",
	    exp), 200);
	ck_assert_int_eq(json_array_size(json_object_get(j, "runs")), 4);
	json_decref(j);
	ck_assert_int_eq(post("/api/2.0/mlflow/runs/search", &j, "{\"experiment_ids\":[\"%s\"],"
	    "\"run_view_type\":\"DELETED_ONLY\"}", exp), 200);
	ck_assert_int_eq(json_array_size(json_object_get(j, "runs")), 1);
	json_decref(j);
	st = post("/api/2.0/mlflow/runs/search", &j, "{\"experiment_ids\":[\"%s\"],\"filter\":"
	    "\"metrics.acc > 1 AND params.model > 'x'\"}", exp);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "invalid comparator '>' for parameter "
	    "model at position 34");
	st = post("/api/2.0/mlflow/runs/search", &j, "{\"experiment_ids\":[\"%s\"],\"filter\":"
	    "\"metrics.acc >\"}", exp);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "at position 14");
	st = post("/api/2.0/mlflow/runs/search", &j, "{\"experiment_ids\":[\"%s\"],\"order_by\":"
	    "[\"metrics.acc SIDEWAYS\"]}", exp);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "invalid order_by clause");
	st = post("/api/2.0/mlflow/runs/search", &j, "{\"experiment_ids\":[\"%s\"],"
	    "\"max_results\":50001}", exp);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "at most 50000");
	st = post("/api/2.0/mlflow/runs/search", &j, "{\"experiment_ids\":[\"%s\"],"
	    "\"page_token\":\"garbage\"}", exp);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "invalid page token");
}
END_TEST

struct inserter {
	const char *exp;
	volatile int stop;
	int made;
};

static void *
insert_runs(void *arg)
{
	struct inserter *in = arg;
	char body[256];
	struct http_resp r;

	while (!in->stop) {
		snprintf(body, sizeof(body), "{\"experiment_id\":\"%s\",\"run_name\":\"late\","
		    "\"tags\":[{\"key\":\"late\",\"value\":\"1\"}]}", in->exp);
		if (http_request("POST", "/api/2.0/mlflow/runs/create", "application/json", body,
		    strlen(body), auth(), &r) == 0 && r.status == 200)
			in->made++;
		http_resp_free(&r);
	}
	return NULL;
}

/* Keyset pages: every run that existed at the start is seen exactly once, whatever is inserted meanwhile. */
START_TEST(pagination_exact_under_inserts)
{
	enum { N = 60 };
	char name[64], exp[32], ids[N][40], token[4096] = "";
	int seen[N] = { 0 }, pages = 0;
	struct inserter in = { exp, 0, 0 };
	pthread_t t;
	json_t *j;

	uniq(name, sizeof(name), "page");
	mkexp(name, exp, sizeof(exp));
	for (int i = 0; i < N; i++) {
		char rn[16];

		snprintf(rn, sizeof(rn), "p%d", i);
		mkrun(exp, rn, ids[i], sizeof(ids[i]));
		ck_assert_int_eq(post("/api/2.0/mlflow/runs/log-metric", NULL, "{\"run_id\":\"%s\","
		    "\"key\":\"m\",\"value\":%d,\"timestamp\":1}", ids[i], i % 9), 200);
	}
	ck_assert_int_eq(pthread_create(&t, NULL, insert_runs, &in), 0);
	/* Sorted by a metric with many ties and NULLs (the inserted runs have none). */
	do {
		ck_assert_int_eq(post("/api/2.0/mlflow/runs/search", &j, "{\"experiment_ids\":"
		    "[\"%s\"],\"max_results\":7,\"order_by\":[\"metrics.m DESC\"]%s%s%s}", exp,
		    token[0] ? ",\"page_token\":\"" : "", token, token[0] ? "\"" : ""), 200);
		for (size_t k = 0; k < json_array_size(json_object_get(j, "runs")); k++) {
			const char *id = str(json_array_get(json_object_get(j, "runs"), k), "info.run_id");

			for (int i = 0; i < N; i++)
				if (!strcmp(id, ids[i]))
					seen[i]++;
		}
		snprintf(token, sizeof(token), "%s", str(j, "next_page_token") ?
		    str(j, "next_page_token") : "");
		json_decref(j);
		pages++;
		usleep(20000);
	} while (token[0] != '\0' && pages < 1000);
	for (int i = 0; i < N; i++)
		ck_assert_msg(seen[i] == 1, "run p%d seen %d times", i, seen[i]);
	/* The default order (newest first) while runs keep arriving in front. */
	token[0] = '\0';
	memset(seen, 0, sizeof(seen));
	do {
		ck_assert_int_eq(post("/api/2.0/mlflow/runs/search", &j, "{\"experiment_ids\":"
		    "[\"%s\"],\"max_results\":11,\"filter\":\"attributes.run_name LIKE 'p%%'\"%s%s%s}",
		    exp, token[0] ? ",\"page_token\":\"" : "", token, token[0] ? "\"" : ""), 200);
		for (size_t k = 0; k < json_array_size(json_object_get(j, "runs")); k++) {
			const char *id = str(json_array_get(json_object_get(j, "runs"), k), "info.run_id");

			for (int i = 0; i < N; i++)
				if (!strcmp(id, ids[i]))
					seen[i]++;
		}
		snprintf(token, sizeof(token), "%s", str(j, "next_page_token") ?
		    str(j, "next_page_token") : "");
		json_decref(j);
		usleep(20000);
	} while (token[0] != '\0');
	in.stop = 1;
	pthread_join(t, NULL);
	ck_assert_int_gt(in.made, 0);
	for (int i = 0; i < N; i++)
		ck_assert_msg(seen[i] == 1, "run p%d seen %d times (default order)", i, seen[i]);
}
END_TEST

/* Every point of run's "loss" history through get-history pages of size, in one array. */
static json_t *
history_pages(const char *run, int size)
{
	char token[4096] = "";
	json_t *all = json_array(), *j;

	do {
		ck_assert_int_eq(get(&j, "/api/2.0/mlflow/metrics/get-history?run_id=%s&"
		    "metric_key=loss&max_results=%d%s%s", run, size, token[0] ?
		    "&page_token=" : "", token), 200);
		ck_assert_uint_le(json_array_size(json_object_get(j, "metrics")), (size_t)size);
		json_array_extend(all, json_object_get(j, "metrics"));
		snprintf(token, sizeof(token), "%s", str(j, "next_page_token") ?
		    str(j, "next_page_token") : "");
		json_decref(j);
	} while (token[0] != '\0');
	return all;
}

START_TEST(metric_history_and_sampling)
{
	char name[64], exp[32], run[40], run2[40], *b, *p;
	json_t *j, *pts;
	int total = 0, last_step = -1;
	long st;

	uniq(name, sizeof(name), "hist");
	mkexp(name, exp, sizeof(exp));
	mkrun(exp, "h", run, sizeof(run));
	mkrun(exp, "h2", run2, sizeof(run2));
	/* 200 points; step 50 logged three times identically (duplicates across a page edge). */
	b = malloc(200 * 100 + 200);
	p = b + sprintf(b, "{\"run_id\":\"%s\",\"metrics\":[", run);
	for (int i = 0; i < 200; i++) {
		int step = i >= 51 && i <= 52 ? 50 : i;
		double v = step == 77 ? -5 : step == 123 ? 99 : step * 0.01;

		p += sprintf(p, "%s{\"key\":\"loss\",\"value\":%g,\"timestamp\":%d,\"step\":%d}",
		    i ? "," : "", v, step == 50 ? 5000 : 1000 + i, step);
	}
	strcpy(p, "]}");
	ck_assert_int_eq(call("POST", "/api/2.0/mlflow/runs/log-batch", b, NULL), 200);
	free(b);
	pts = history_pages(run, 17);
	for (size_t k = 0; k < json_array_size(pts); k++) {
		int s = (int)json_integer_value(json_object_get(json_array_get(pts, k), "step"));

		ck_assert_int_ge(s, last_step);
		last_step = s;
		total++;
	}
	json_decref(pts);
	ck_assert_int_eq(total, 200);
	ck_assert_int_eq(last_step, 199);
	/* Bulk interval: at most max_results per run, keeping first, last and extremes. */
	ck_assert_int_eq(get(&j, "/api/2.0/mlflow/metrics/get-history-bulk-interval?"
	    "run_ids=%s&run_ids=%s&metric_key=loss&max_results=10", run, run2), 200);
	pts = json_object_get(j, "metrics");
	ck_assert_uint_le(json_array_size(pts), 10);
	{
		int first = 0, last = 0, lo = 0, hi = 0;

		for (size_t k = 0; k < json_array_size(pts); k++) {
			json_t *pt = json_array_get(pts, k);
			int s = (int)json_integer_value(json_object_get(pt, "step"));

			ck_assert_str_eq(str(pt, "run_id"), run);
			first |= s == 0;
			last |= s == 199;
			lo |= s == 77;
			hi |= s == 123;
		}
		ck_assert(first && last && lo && hi);
	}
	json_decref(j);
	ck_assert_int_eq(get(&j, "/api/2.0/mlflow/metrics/get-history-bulk-interval?"
	    "run_ids=%s&metric_key=loss&start_step=10&end_step=19", run), 200);
	ck_assert_int_eq(json_array_size(json_object_get(j, "metrics")), 10);
	json_decref(j);
	{
		char path[8000];
		size_t n = (size_t)snprintf(path, sizeof(path), "/api/2.0/mlflow/metrics/"
		    "get-history-bulk-interval?metric_key=loss");

		/* Short ids: the count is checked before any id is looked up. */
		for (int i = 0; i < 101; i++)
			n += (size_t)snprintf(path + n, sizeof(path) - n, "&run_ids=r%d", i);
		st = get(&j, "%s", path);
		want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "at most 100 run_ids");
	}
	st = get(&j, "/api/2.0/mlflow/metrics/get-history-bulk-interval?metric_key=loss");
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "required parameter 'run_ids'");
	st = get(&j, "/api/2.0/mlflow/metrics/get-history?run_id=%s", run);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "required parameter 'metric_key'");
	st = get(&j, "/api/2.0/mlflow/metrics/get-history?run_id=%s&metric_key=loss&"
	    "page_token=zzz", run);
	want_error(st, j, 400, "INVALID_PARAMETER_VALUE", "invalid page token");
}
END_TEST

/* A point as the test expects it back: value as the API writes it ("NaN" etc. as strings). */
struct hpt {
	long long step, ts;
	double v;
};

/* History order: step, timestamp, value, NaN above everything (Postgres' float8 order). */
static int
hpt_cmp(const void *pa, const void *pb)
{
	const struct hpt *a = pa, *b = pb;

	if (a->step != b->step)
		return a->step < b->step ? -1 : 1;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (isnan(a->v) || isnan(b->v))
		return isnan(a->v) - isnan(b->v);
	return (a->v > b->v) - (a->v < b->v);
}

static double
json_metric(json_t *v)
{
	if (json_is_string(v))
		return strtod(json_string_value(v), NULL);   /* "NaN", "Infinity", "-Infinity" */
	return json_number_value(v);
}

/*
 * Histories are stored as chunks of up to 128 points (sql/014_metric_chunks.sql).
 * Points logged out of order, in several batches and one at a time, make chunks
 * whose step ranges overlap; every read must still see one history in
 * (step, timestamp, value) order: get-history pages, bulk-interval ranges, and
 * the run's latest value.
 */
START_TEST(metric_chunks_out_of_order)
{
	enum { N = 700 };
	static struct hpt want[N];
	char name[64], exp[32], run[40], *b, *p;
	size_t n = 0, got = 0, inrange = 0;
	json_t *j, *pts;

	uniq(name, sizeof(name), "chunks");
	mkexp(name, exp, sizeof(exp));
	mkrun(exp, "c", run, sizeof(run));
	b = malloc(1000 * 110 + 200);
	/* Batch 1: even steps 0..598 descending (300 points: three chunks, unsorted input).
	 * Batch 2: odd steps 1..599 ascending, with NaN, ±Infinity and a repeated step.
	 * Batch 3: 90 more points at steps already covered, later timestamps. */
	for (int batch = 0; batch < 3; batch++) {
		int cnt = batch == 2 ? 90 : 300;

		p = b + sprintf(b, "{\"run_id\":\"%s\",\"metrics\":[", run);
		for (int i = 0; i < cnt; i++) {
			struct hpt *w = &want[n++];
			char val[32];

			w->step = batch == 0 ? 598 - 2 * i : batch == 1 ? 1 + 2 * i : (i * 37) % 600;
			if (batch == 1 && i == 11)
				w->step = 21;           /* twice, with its neighbour's step */
			w->ts = 1700000000000LL + (batch == 2 ? 900000 : 0) + w->step * 10 + batch;
			w->v = (double)((w->step * 7919 + batch * 13) % 1000) / 1000.0;
			if (batch == 1 && i % 50 == 7)
				w->v = NAN;
			else if (batch == 1 && i % 50 == 17)
				w->v = i % 100 == 17 ? INFINITY : -INFINITY;
			if (isnan(w->v))
				snprintf(val, sizeof(val), "\"NaN\"");
			else if (isinf(w->v))
				snprintf(val, sizeof(val), "\"%sInfinity\"", w->v < 0 ? "-" : "");
			else
				snprintf(val, sizeof(val), "%.17g", w->v);
			p += sprintf(p, "%s{\"key\":\"loss\",\"value\":%s,\"timestamp\":%lld,"
			    "\"step\":%lld}", i ? "," : "", val, w->ts, w->step);
		}
		strcpy(p, "]}");
		ck_assert_int_eq(call("POST", "/api/2.0/mlflow/runs/log-batch", b, NULL), 200);
	}
	free(b);
	/* And ten one at a time, in the middle of the history. */
	for (int i = 0; i < 10; i++) {
		struct hpt *w = &want[n++];

		w->step = 250 + i;
		w->ts = 1700000000000LL + 5;
		w->v = -1 - i;
		ck_assert_int_eq(post("/api/2.0/mlflow/runs/log-metric", NULL, "{\"run_id\":\"%s\","
		    "\"key\":\"loss\",\"value\":%g,\"timestamp\":%lld,\"step\":%lld}", run, w->v,
		    w->ts, w->step), 200);
	}
	qsort(want, n, sizeof(want[0]), hpt_cmp);
	/* log-batch sends its chunks sorted and summarized; the same arrays inserted
	 * bare go through sql/014's trigger: every column must come out the same. */
	{
		PGconn *db = fx_db();
		const char *v[1] = { run };
		PGresult *res;

		res = PQexec(db, "BEGIN");
		PQclear(res);
		res = PQexecParams(db, "WITH w AS (SELECT * FROM metric_chunks WHERE run_uuid = $1 "
		    "AND key = 'loss'), t AS (INSERT INTO metric_chunks (run_uuid, key, steps, "
		    "timestamps, vals) SELECT run_uuid, 'copy', steps, timestamps, vals FROM w "
		    "RETURNING *) SELECT (SELECT count(*) FROM w), count(*) FILTER (WHERE "
		    "(w.step_lo, w.ts_lo, w.step_hi, w.ts_hi, w.fin_step, w.fin_ts, w.n) IS "
		    "DISTINCT FROM (t.step_lo, t.ts_lo, t.step_hi, t.ts_hi, t.fin_step, t.fin_ts, "
		    "t.n)) FROM w FULL JOIN t ON (w.steps, w.timestamps, w.vals) = (t.steps, "
		    "t.timestamps, t.vals)", 1, NULL, v, NULL, NULL, 0);
		ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQerrorMessage(db));
		ck_assert_int_ge(atoi(PQgetvalue(res, 0, 0)), 8);
		ck_assert_str_eq(PQgetvalue(res, 0, 1), "0");
		PQclear(res);
		res = PQexec(db, "ROLLBACK");
		PQclear(res);
		PQfinish(db);
	}
	/* Every point, pages of 23, in order. */
	pts = history_pages(run, 23);
	for (size_t k = 0; k < json_array_size(pts); k++, got++) {
		json_t *pt = json_array_get(pts, k);
		struct hpt h = { json_integer_value(json_object_get(pt, "step")),
		    json_integer_value(json_object_get(pt, "timestamp")),
		    json_metric(json_object_get(pt, "value")) };

		ck_assert_uint_lt(got, n);
		ck_assert_msg(hpt_cmp(&h, &want[got]) == 0, "point %zu: got step %lld ts %lld "
		    "value %g, want step %lld ts %lld value %g", got, h.step, h.ts, h.v,
		    want[got].step, want[got].ts, want[got].v);
	}
	json_decref(pts);
	ck_assert_uint_eq(got, n);
	/* A step range reads exactly its points, whatever chunks hold them. */
	for (size_t k = 0; k < n; k++)
		inrange += want[k].step >= 240 && want[k].step <= 262;
	ck_assert_int_eq(get(&j, "/api/2.0/mlflow/metrics/get-history-bulk-interval?"
	    "run_ids=%s&metric_key=loss&start_step=240&end_step=262&max_results=1000", run), 200);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "metrics")), inrange);
	json_decref(j);
	/* The latest value: the largest timestamp (batch 3 came last, its largest step). */
	ck_assert_int_eq(get(&j, "/api/2.0/mlflow/runs/get?run_id=%s", run), 200);
	{
		json_t *m = json_array_get(json_object_get(json_object_get(json_object_get(j, "run"),
		    "data"), "metrics"), 0);
		struct hpt latest = want[0];

		for (size_t k = 1; k < n; k++)
			if (want[k].ts > latest.ts || (want[k].ts == latest.ts && want[k].v > latest.v))
				latest = want[k];
		ck_assert_int_eq(json_integer_value(json_object_get(m, "step")), latest.step);
		ck_assert_int_eq(json_integer_value(json_object_get(m, "timestamp")), latest.ts);
	}
	json_decref(j);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tracking");
	TCase *tc = tcase_create("tracking");
	SRunner *sr;
	struct http_resp r;
	char body[256];
	json_t *j;
	int failed;

	if (harness_start() == -1)
		return 99;
	snprintf(username, sizeof(username), "tracker%d", (int)getpid());
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"violet "
	    "tangerine 42 kites\"}", username);
	if (http_request("POST", "/api/signup", "application/json", body, strlen(body), NULL,
	    &r) != 0 || r.status != 201)
		return 99;
	http_resp_free(&r);
	snprintf(body, sizeof(body), "username=%s&password=violet+tangerine+42+kites", username);
	if (http_request("POST", "/api/token", "application/x-www-form-urlencoded", body,
	    strlen(body), NULL, &r) != 0 || r.status != 200)
		return 99;
	j = http_json(&r);
	snprintf(auth_header, sizeof(auth_header), "Authorization: Bearer %s",
	    json_string_value(json_object_get(j, "access_token")));
	json_decref(j);
	http_resp_free(&r);

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, experiments_lifecycle);
	tcase_add_test(tc, experiment_delete_cascades_to_runs);
	tcase_add_test(tc, experiments_search_and_list);
	tcase_add_test(tc, request_errors);
	tcase_add_test(tc, runs_and_write_rules);
	tcase_add_test(tc, log_batch_limits_and_atomicity);
	tcase_add_test(tc, search_semantics);
	tcase_add_test(tc, pagination_exact_under_inserts);
	tcase_add_test(tc, metric_history_and_sampling);
	tcase_add_test(tc, metric_chunks_out_of_order);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
