/* fixtures.c: accounts, JSON calls, model uploads, boosters and Postgres for integration tests. */
#include "fixtures.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <xgboost/c_api.h>

#define FX_PASSWORD "violet tangerine 42 kites"

static PGconn *db_connect(void);

int
fx_account(const char *username, int admin, char *hdr, size_t hdrlen)
{
	char body[512];
	struct http_resp r;
	json_t *j;
	int rc = -1;

	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"" FX_PASSWORD "\"}",
	    username);
	if (http_request("POST", "/api/signup", "application/json", body, strlen(body), NULL,
	    &r) != 0 || r.status != 201) {
		fprintf(stderr, "# fixtures: signup %s: %ld %s\n", username, r.status,
		    r.body ? r.body : "");
		http_resp_free(&r);
		return -1;
	}
	http_resp_free(&r);
	if (admin) {
		PGconn *c = db_connect();
		const char *vals[1] = { username };
		PGresult *res;

		if (c == NULL)
			return -1;
		res = PQexecParams(c, "UPDATE users SET role = 'admin' "
		    "WHERE username = $1", 1, NULL, vals, NULL, NULL, 0);

		rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
		PQclear(res);
		PQfinish(c);
		if (rc == -1)
			return -1;
		rc = -1;
	}
	snprintf(body, sizeof(body), "username=%s&password=violet+tangerine+42+kites",
	    username);
	if (http_request("POST", "/api/token", "application/x-www-form-urlencoded", body,
	    strlen(body), NULL, &r) != 0 || r.status != 200)
		goto out;
	if ((j = http_json(&r)) == NULL)
		goto out;
	snprintf(hdr, hdrlen, "Authorization: Bearer %s",
	    json_string_value(json_object_get(j, "access_token")));
	json_decref(j);
	rc = 0;
out:
	http_resp_free(&r);
	return rc;
}

long
fx_call(const char *hdr, const char *method, const char *path, const char *content_type,
    const char *body, struct http_resp *r)
{
	const char *hdrs[2] = { hdr, NULL };

	ck_assert_int_eq(http_request(method, path, content_type, body,
	    body != NULL ? strlen(body) : 0, hdr != NULL ? hdrs : NULL, r), 0);
	return r->status;
}

void
fx_model(const char *hdr, const char *name, const char *booster, size_t blen,
    const char *spec)
{
	static const char b[] = "fixtureBoundary93c";
	const char *hdrs[2] = { hdr, NULL };
	size_t cap = blen + strlen(spec) + 1024, n = 0;
	char *body = malloc(cap), ct[128], path[512];
	struct http_resp r;

	snprintf(path, sizeof(path), "{\"name\":\"%s\"}", name);
	ck_assert_msg(fx_call(hdr, "POST", "/api/models", "application/json", path, &r) == 201,
	    "create %s: %ld %s", name, r.status, r.body);
	http_resp_free(&r);
	n += (size_t)snprintf(body + n, cap - n, "--%s\r\nContent-Disposition: form-data; "
	    "name=\"booster\"; filename=\"model.json\"\r\nContent-Type: application/json"
	    "\r\n\r\n", b);
	memcpy(body + n, booster, blen);
	n += blen;
	n += (size_t)snprintf(body + n, cap - n, "\r\n--%s\r\nContent-Disposition: form-data; "
	    "name=\"spec\"; filename=\"spec.json\"\r\nContent-Type: application/json\r\n\r\n"
	    "%s\r\n--%s--\r\n", b, spec, b);
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%s", b);
	snprintf(path, sizeof(path), "/api/models/%s/versions", name);
	ck_assert_int_eq(http_request("POST", path, ct, body, n, hdrs, &r), 0);
	ck_assert_msg(r.status == 201, "upload %s: %ld %s", name, r.status, r.body);
	http_resp_free(&r);
	free(body);
}

char *
fx_train(const float *x, const float *y, int rows, int nf, const char *objective,
    int num_class, int rounds, size_t *len)
{
	DMatrixHandle d;
	BoosterHandle b;
	bst_ulong n;
	const char *buf;
	char nc[16], *out;

	ck_assert_int_eq(XGDMatrixCreateFromMat(x, (bst_ulong)rows, (bst_ulong)nf, NAN, &d), 0);
	ck_assert_int_eq(XGDMatrixSetFloatInfo(d, "label", y, (bst_ulong)rows), 0);
	ck_assert_int_eq(XGBoosterCreate(&d, 1, &b), 0);
	ck_assert_int_eq(XGBoosterSetParam(b, "objective", objective), 0);
	ck_assert_int_eq(XGBoosterSetParam(b, "max_depth", "3"), 0);
	ck_assert_int_eq(XGBoosterSetParam(b, "nthread", "1"), 0);
	if (num_class > 0) {
		snprintf(nc, sizeof(nc), "%d", num_class);
		ck_assert_int_eq(XGBoosterSetParam(b, "num_class", nc), 0);
	}
	for (int i = 0; i < rounds; i++)
		ck_assert_int_eq(XGBoosterUpdateOneIter(b, i, d), 0);
	ck_assert_int_eq(XGBoosterSaveModelToBuffer(b, "{\"format\":\"json\"}", &n, &buf), 0);
	ck_assert_ptr_nonnull(out = malloc(n));
	memcpy(out, buf, n);
	*len = n;
	XGBoosterFree(b);
	XGDMatrixFree(d);
	return out;
}

/* The stack's Postgres, or NULL; usable outside a test (no check asserts). */
static PGconn *
db_connect(void)
{
	char path[1024], line[1024], *v = NULL;
	FILE *f;
	PGconn *c;

	snprintf(path, sizeof(path), "%s/verdict.conf", harness_dir());
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	while (fgets(line, sizeof(line), f) != NULL)
		if (!strncmp(line, "database_url = ", 15)) {
			line[strcspn(line, "\n")] = '\0';
			v = line + 15;
			break;
		}
	fclose(f);
	if (v == NULL)
		return NULL;
	c = PQconnectdb(v);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "# fixtures: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

PGconn *
fx_db(void)
{
	PGconn *c = db_connect();

	ck_assert_ptr_nonnull(c);
	return c;
}

double
fx_db_num(const char *sql, const char *param)
{
	PGconn *c = fx_db();
	const char *vals[1] = { param };
	PGresult *res = PQexecParams(c, sql, param ? 1 : 0, NULL, vals, NULL, NULL, 0);
	double v;

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
	v = strtod(PQgetvalue(res, 0, 0), NULL);
	PQclear(res);
	PQfinish(c);
	return v;
}
