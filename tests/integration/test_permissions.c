/* test_permissions.c: the permission matrix — user × permission × endpoint for registered models, experiments and runs, with default_permission NO_PERMISSIONS, plus MLflow's permission and user endpoints. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "fixtures.h"

#define NF 2

enum who { OWNER, READER, EDITOR, STRANGER, ADMIN, NWHO };
static const char *const who_name[NWHO] = { "owner", "reader", "editor", "stranger", "admin" };
static char hdr[NWHO][256], user[NWHO][64], prefix[32], model[64], exper[64];

static const char spec[] = "{\"task\":\"regression\",\"inputs\":["
    "{\"name\":\"a\",\"type\":\"number\",\"required\":true},"
    "{\"name\":\"b\",\"type\":\"number\",\"required\":true}],"
    "\"features\":[{\"input\":\"a\"},{\"input\":\"b\"}]}";

static long
call(enum who w, const char *method, const char *path, const char *body, char **out)
{
	struct http_resp r;
	long st = fx_call(hdr[w], method, path, body ? "application/json" : NULL, body, &r);

	if (out != NULL)
		*out = strdup(r.body ? r.body : "");
	http_resp_free(&r);
	return st;
}

/* A JSON field of an answer (string or number as text), "" when absent. */
static void
field(const char *body, const char *k1, const char *k2, char *dst, size_t len)
{
	json_t *j = json_loads(body, 0, NULL), *v = json_object_get(j, k1);

	if (k2 != NULL)
		v = json_object_get(v, k2);
	if (json_is_string(v))
		snprintf(dst, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(dst, len, "%lld", (long long)json_integer_value(v));
	else
		dst[0] = '\0';
	json_decref(j);
}

static void
experiment_id(char *dst, size_t len)
{
	char path[256], *b;

	snprintf(path, sizeof(path), "/api/2.0/mlflow/experiments/get-by-name?experiment_name=%s",
	    exper);
	ck_assert_int_eq(call(ADMIN, "GET", path, NULL, &b), 200);
	field(b, "experiment", "experiment_id", dst, len);
	free(b);
}

static void
run_id(char *dst, size_t len)
{
	char body[256], eid[32], *b;
	json_t *j;

	experiment_id(eid, sizeof(eid));
	snprintf(body, sizeof(body), "{\"experiment_ids\":[\"%s\"]}", eid);
	ck_assert_int_eq(call(ADMIN, "POST", "/api/2.0/mlflow/runs/search", body, &b), 200);
	j = json_loads(b, 0, NULL);
	snprintf(dst, len, "%s", json_string_value(json_object_get(json_object_get(
	    json_array_get(json_object_get(j, "runs"), 0), "info"), "run_id")));
	json_decref(j);
	free(b);
}

/* First case: the owner's model, prediction, experiment and run; grants for reader and editor. */
START_TEST(owner_creates_and_grants)
{
	float x[100 * NF], y[100];
	size_t len;
	char *b, path[256], body[512], eid[32];

	for (int i = 0; i < 100; i++) {
		x[i * NF] = (float)i;
		x[i * NF + 1] = (float)(i % 3);
		y[i] = (float)(i % 3);
	}
	b = fx_train(x, y, 100, NF, "reg:squarederror", 0, 4, &len);
	fx_model(hdr[OWNER], model, b, len, spec);
	free(b);
	snprintf(path, sizeof(path), "/api/models/%s/predict", model);
	ck_assert_int_eq(call(OWNER, "POST", path, "{\"inputs\":{\"a\":1,\"b\":2}}", NULL), 200);
	snprintf(body, sizeof(body), "{\"name\":\"%s\"}", exper);
	ck_assert_int_eq(call(OWNER, "POST", "/api/2.0/mlflow/experiments/create", body, &b), 200);
	field(b, "experiment_id", NULL, eid, sizeof(eid));
	free(b);
	snprintf(body, sizeof(body), "{\"experiment_id\":\"%s\",\"run_name\":\"r1\"}", eid);
	ck_assert_int_eq(call(OWNER, "POST", "/api/2.0/mlflow/runs/create", body, NULL), 200);
	/* Grants through MLflow's permission endpoints. */
	for (enum who w = READER; w <= EDITOR; w++) {
		const char *p = w == READER ? "READ" : "EDIT";

		snprintf(body, sizeof(body), "{\"name\":\"%s\",\"username\":\"%s\",\"permission\":"
		    "\"%s\"}", model, user[w], p);
		ck_assert_int_eq(call(OWNER, "POST", "/api/2.0/mlflow/registered-models/"
		    "permissions/create", body, NULL), 200);
		snprintf(body, sizeof(body), "{\"experiment_id\":\"%s\",\"username\":\"%s\","
		    "\"permission\":\"%s\"}", eid, user[w], p);
		ck_assert_int_eq(call(OWNER, "POST", "/api/2.0/mlflow/experiments/permissions/"
		    "create", body, NULL), 200);
	}
	/* The creator holds MANAGE, stored. */
	snprintf(path, sizeof(path), "/api/2.0/mlflow/registered-models/permissions/get?name=%s"
	    "&username=%s", model, user[OWNER]);
	ck_assert_int_eq(call(OWNER, "GET", path, NULL, &b), 200);
	ck_assert_ptr_nonnull(strstr(b, "\"MANAGE\""));
	free(b);
}
END_TEST

struct cell {
	const char *method, *path, *body;   /* %M model, %E experiment id, %R run id, %P prediction id */
	long want[NWHO];
};

static void
expand(const char *in, const char *eid, const char *rid, const char *pid, char *out,
    size_t len)
{
	size_t o = 0;

	for (const char *p = in; *p != '\0' && o + 1 < len; p++) {
		const char *sub = NULL;

		if (p[0] == '%' && p[1] == 'M')
			sub = model;
		else if (p[0] == '%' && p[1] == 'E')
			sub = eid;
		else if (p[0] == '%' && p[1] == 'R')
			sub = rid;
		else if (p[0] == '%' && p[1] == 'P')
			sub = pid;
		if (sub != NULL) {
			o += (size_t)snprintf(out + o, len - o, "%s", sub);
			p++;
		} else
			out[o++] = *p;
	}
	out[o < len ? o : len - 1] = '\0';
}

/* The matrix: each row an endpoint, each column what a user gets (reads before writes). */
static const struct cell matrix[] = {
	/*                                                                       owner reader editor stranger admin */
	{ "GET", "/api/models/%M", NULL,                                          { 200, 200, 200, 404, 200 } },
	{ "POST", "/api/models/%M/predict", "{\"inputs\":{\"a\":3,\"b\":1}}",      { 200, 200, 200, 404, 200 } },
	{ "GET", "/api/models/%M/quality?window=all", NULL,                       { 200, 200, 200, 404, 200 } },
	{ "GET", "/api/predictions/%P", NULL,                                     { 200, 200, 200, 404, 200 } },
	{ "GET", "/api/predictions?model=%M", NULL,                               { 200, 200, 200, 404, 200 } },
	{ "GET", "/api/feedback/next?model=%M", NULL,                             { 200, 200, 200, 404, 200 } },
	/* the HTML pages share the checks */
	{ "GET", "/models/%M", NULL,                                              { 200, 200, 200, 404, 200 } },
	{ "GET", "/models/%M/versions/1", NULL,                                   { 200, 200, 200, 404, 200 } },
	{ "GET", "/models/%M/predict", NULL,                                      { 200, 200, 200, 404, 200 } },
	{ "GET", "/predictions/%P", NULL,                                         { 200, 200, 200, 404, 200 } },
	{ "GET", "/verify?model=%M", NULL,                                        { 200, 200, 200, 404, 200 } },
	{ "GET", "/experiments/%E", NULL,                                         { 200, 200, 200, 404, 200 } },
	{ "GET", "/runs/%R", NULL,                                                { 200, 200, 200, 404, 200 } },
	{ "POST", "/api/predictions/%P/feedback", "{\"true_value\":1.5}",         { 409, 409, 409, 404, 201 } },
	{ "POST", "/api/models/%M/versions/1/stage", "{\"stage\":\"Staging\"}",    { 200, 403, 200, 404, 200 } },
	{ "PUT", "/api/models/%M/aliases/champ", "{\"version\":1}",               { 200, 403, 200, 404, 200 } },
	{ "GET", "/api/2.0/mlflow/experiments/get?experiment_id=%E", NULL,        { 200, 200, 200, 403, 200 } },
	{ "GET", "/api/2.0/mlflow/runs/get?run_id=%R", NULL,                      { 200, 200, 200, 403, 200 } },
	{ "POST", "/api/2.0/mlflow/runs/search", "{\"experiment_ids\":[\"%E\"]}",  { 200, 200, 200, 403, 200 } },
	{ "GET", "/api/2.0/mlflow/metrics/get-history?run_id=%R&metric_key=m", NULL, { 200, 200, 200, 403, 200 } },
	{ "POST", "/api/2.0/mlflow/runs/log-metric", "{\"run_id\":\"%R\",\"key\":\"m\",\"value\":1,\"timestamp\":1}", { 200, 403, 200, 403, 200 } },
	{ "POST", "/api/2.0/mlflow/runs/create", "{\"experiment_id\":\"%E\"}",     { 200, 403, 200, 403, 200 } },
	{ "POST", "/api/2.0/mlflow/experiments/set-experiment-tag", "{\"experiment_id\":\"%E\",\"key\":\"k\",\"value\":\"v\"}", { 200, 403, 200, 403, 200 } },
	{ "GET", "/api/2.0/mlflow/registered-models/get?name=%M", NULL,          { 200, 200, 200, 403, 200 } },
	{ "GET", "/api/2.0/mlflow/model-versions/get?name=%M&version=1", NULL,    { 200, 200, 200, 403, 200 } },
	{ "PATCH", "/api/2.0/mlflow/registered-models/update", "{\"name\":\"%M\",\"description\":\"d\"}", { 200, 403, 200, 403, 200 } },
	{ "PUT", "/api/2.0/mlflow-artifacts/artifacts/%E/%R/artifacts/p.json", "{\"a\":1}", { 200, 403, 200, 403, 200 } },
	{ "GET", "/api/2.0/mlflow-artifacts/artifacts/%E/%R/artifacts/p.json", NULL, { 200, 200, 200, 403, 200 } },
	{ "POST", "/api/2.0/mlflow/registered-models/permissions/create", "{\"name\":\"%M\",\"username\":\"nobody-here\",\"permission\":\"READ\"}", { 404, 403, 403, 403, 404 } },
	{ "GET", "/api/2.0/mlflow/experiments/permissions/get?experiment_id=%E&username=nobody-here", NULL, { 404, 403, 403, 403, 404 } },
};

START_TEST(the_matrix)
{
	const struct cell *c = &matrix[_i];
	char eid[32], rid[40], pid[24], path[512], body[512], *b;
	json_t *j;

	experiment_id(eid, sizeof(eid));
	run_id(rid, sizeof(rid));
	snprintf(path, sizeof(path), "/api/predictions?model=%s&limit=1", model);
	ck_assert_int_eq(call(OWNER, "GET", path, NULL, &b), 200);
	j = json_loads(b, 0, NULL);
	snprintf(pid, sizeof(pid), "%lld", (long long)json_integer_value(json_object_get(
	    json_array_get(json_object_get(j, "predictions"), 0), "prediction_id")));
	json_decref(j);
	free(b);
	/* The feedback row: verified once by the admin first, so others get 409 (it exists
	 * and they may see it) or 404 (they may not). */
	if (strstr(c->path, "/feedback") != NULL && c->method[0] == 'P') {
		snprintf(path, sizeof(path), "/api/predictions/%s/feedback", pid);
		(void)call(ADMIN, "POST", path, "{\"true_value\":1.0}", NULL);
	}
	expand(c->path, eid, rid, pid, path, sizeof(path));
	if (c->body != NULL)
		expand(c->body, eid, rid, pid, body, sizeof(body));
	for (enum who w = 0; w < NWHO; w++) {
		long st = call(w, c->method, path, c->body ? body : NULL, &b);

		ck_assert_msg(st == c->want[w], "%s %s as %s: %ld, want %ld (%s)", c->method, path,
		    who_name[w], st, c->want[w], b);
		if (st == 403 && strstr(path, "/api/2.0/") != NULL)
			ck_assert_ptr_nonnull(strstr(b, "PERMISSION_DENIED"));
		free(b);
	}
}
END_TEST

/* Lists and searches hold only what the caller may read. */
START_TEST(lists_hold_only_readable)
{
	char *b;

	ck_assert_int_eq(call(STRANGER, "GET", "/api/models", NULL, &b), 200);
	ck_assert_ptr_null(strstr(b, model));
	free(b);
	ck_assert_int_eq(call(READER, "GET", "/api/models", NULL, &b), 200);
	ck_assert_ptr_nonnull(strstr(b, model));
	free(b);
	ck_assert_int_eq(call(STRANGER, "POST", "/api/2.0/mlflow/experiments/search",
	    "{\"max_results\":1000}", &b), 200);
	ck_assert_ptr_null(strstr(b, exper));
	free(b);
	ck_assert_int_eq(call(READER, "POST", "/api/2.0/mlflow/experiments/search",
	    "{\"max_results\":1000}", &b), 200);
	ck_assert_ptr_nonnull(strstr(b, exper));
	free(b);
	ck_assert_int_eq(call(STRANGER, "GET", "/api/predictions?limit=1000", NULL, &b), 200);
	ck_assert_ptr_null(strstr(b, model));
	free(b);
	ck_assert_int_eq(call(STRANGER, "GET", "/models", NULL, &b), 200);
	ck_assert_ptr_null(strstr(b, model));
	free(b);
	ck_assert_int_eq(call(READER, "GET", "/models", NULL, &b), 200);
	ck_assert_ptr_nonnull(strstr(b, model));
	free(b);
	ck_assert_int_eq(call(STRANGER, "GET", "/experiments", NULL, &b), 200);
	ck_assert_ptr_null(strstr(b, exper));
	free(b);
	ck_assert_int_eq(call(READER, "GET", "/experiments", NULL, &b), 200);
	ck_assert_ptr_nonnull(strstr(b, exper));
	free(b);
}
END_TEST

/* Changing a grant takes effect; deleting it falls back to default_permission. */
START_TEST(grants_change_and_go)
{
	char body[512], path[256], *b;

	snprintf(path, sizeof(path), "/api/models/%s", model);
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"username\":\"%s\",\"permission\":"
	    "\"NO_PERMISSIONS\"}", model, user[READER]);
	ck_assert_int_eq(call(OWNER, "PATCH", "/api/2.0/mlflow/registered-models/permissions/"
	    "update", body, NULL), 200);
	ck_assert_int_eq(call(READER, "GET", path, NULL, NULL), 404);
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"username\":\"%s\",\"permission\":"
	    "\"MANAGE\"}", model, user[STRANGER]);
	ck_assert_int_eq(call(OWNER, "POST", "/api/2.0/mlflow/registered-models/permissions/"
	    "create", body, NULL), 200);
	ck_assert_int_eq(call(STRANGER, "GET", path, NULL, NULL), 200);
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"username\":\"%s\"}", model,
	    user[STRANGER]);
	ck_assert_int_eq(call(OWNER, "DELETE", "/api/2.0/mlflow/registered-models/permissions/"
	    "delete", body, NULL), 200);
	ck_assert_int_eq(call(STRANGER, "GET", path, NULL, NULL), 404);
	ck_assert_int_eq(call(OWNER, "PATCH", "/api/2.0/mlflow/registered-models/permissions/"
	    "update", "{\"name\":\"x\",\"username\":\"y\",\"permission\":\"ROOT\"}", &b), 404);
	free(b);
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"username\":\"%s\",\"permission\":"
	    "\"ROOT\"}", model, user[READER]);
	ck_assert_int_eq(call(OWNER, "PATCH", "/api/2.0/mlflow/registered-models/permissions/"
	    "update", body, &b), 400);
	ck_assert_ptr_nonnull(strstr(b, "READ, EDIT, MANAGE or NO_PERMISSIONS"));
	free(b);
}
END_TEST

START_TEST(mlflow_users_map_onto_accounts)
{
	char body[512], path[256], *b, name[64];

	snprintf(name, sizeof(name), "made%s", prefix);
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"crimson lantern 88 "
	    "ferns\"}", name);
	ck_assert_int_eq(call(READER, "POST", "/api/2.0/mlflow/users/create", body, &b), 403);
	free(b);
	ck_assert_int_eq(call(ADMIN, "POST", "/api/2.0/mlflow/users/create", body, &b), 200);
	ck_assert_ptr_nonnull(strstr(b, name));
	free(b);
	ck_assert_int_eq(call(ADMIN, "POST", "/api/2.0/mlflow/users/create", body, &b), 400);
	ck_assert_ptr_nonnull(strstr(b, "RESOURCE_ALREADY_EXISTS"));
	free(b);
	/* Oneself: yes; another user: admins only. */
	snprintf(path, sizeof(path), "/api/2.0/mlflow/users/get?username=%s", user[READER]);
	ck_assert_int_eq(call(READER, "GET", path, NULL, &b), 200);
	ck_assert_ptr_nonnull(strstr(b, "\"is_admin\":false"));
	free(b);
	snprintf(path, sizeof(path), "/api/2.0/mlflow/users/get?username=%s", name);
	ck_assert_int_eq(call(READER, "GET", path, NULL, NULL), 403);
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"is_admin\":true}", name);
	ck_assert_int_eq(call(ADMIN, "PATCH", "/api/2.0/mlflow/users/update-admin", body, NULL),
	    200);
	ck_assert_int_eq(call(ADMIN, "GET", path, NULL, &b), 200);
	ck_assert_ptr_nonnull(strstr(b, "\"is_admin\":true"));
	free(b);
	/* The new account can sign in with HTTP Basic, as MLflow clients do. */
	{
		struct http_resp r;
		char basic[256], cred[128];
		const char *hs[2] = { basic, NULL };
		size_t n;

		n = (size_t)snprintf(cred, sizeof(cred), "%s:crimson lantern 88 ferns", name);
		snprintf(basic, sizeof(basic), "Authorization: Basic ");
		sodium_bin2base64(basic + strlen(basic), sizeof(basic) - strlen(basic),
		    (unsigned char *)cred, n, sodium_base64_VARIANT_ORIGINAL);
		ck_assert_int_eq(http_request("GET", "/api/me", NULL, NULL, 0, hs, &r), 0);
		ck_assert_int_eq(r.status, 200);
		http_resp_free(&r);
	}
	snprintf(body, sizeof(body), "{\"username\":\"%s\"}", name);
	ck_assert_int_eq(call(ADMIN, "DELETE", "/api/2.0/mlflow/users/delete", body, NULL), 200);
	ck_assert_int_eq(call(ADMIN, "GET", path, NULL, NULL), 404);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("permissions");
	TCase *tc = tcase_create("permissions");
	SRunner *sr;
	int failed;

	if (sodium_init() < 0)
		return 99;
	snprintf(prefix, sizeof(prefix), "pm%d", (int)getpid());
	snprintf(model, sizeof(model), "%s-model", prefix);
	snprintf(exper, sizeof(exper), "%s-experiment", prefix);
	/* Nothing is readable without a grant here. */
	setenv("VERDICT_DEFAULT_PERMISSION", "NO_PERMISSIONS", 1);
	setenv("VERDICT_SIGNUP_PER_HOUR", "100", 1);
	setenv("VERDICT_AUTH_CACHE_TTL", "0", 1);
	if (harness_start() == -1)
		return 99;
	for (enum who w = 0; w < NWHO; w++) {
		snprintf(user[w], sizeof(user[w]), "%s%s", who_name[w], prefix);
		if (fx_account(user[w], w == ADMIN, hdr[w], sizeof(hdr[w])) == -1)
			return 99;
	}
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, owner_creates_and_grants);
	tcase_add_loop_test(tc, the_matrix, 0, (int)(sizeof(matrix) / sizeof(matrix[0])));
	tcase_add_test(tc, lists_hold_only_readable);
	tcase_add_test(tc, grants_change_and_go);
	tcase_add_test(tc, mlflow_users_map_onto_accounts);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_stop();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
