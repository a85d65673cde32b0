/* fixtures.c: accounts, JSON calls, model uploads, boosters and Postgres for integration tests. */
#include "fixtures.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <xgboost/c_api.h>

#define FX_FILE_MAX (256L << 20)   /* fx_slurp refuses bigger files */
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

json_t *
fx_json(const char *hdr, const char *method, const char *path, const char *body, long *status)
{
	struct http_resp r;
	json_t *j;

	*status = fx_call(hdr, method, path, body ? "application/json" : NULL, body, &r);
	j = http_json(&r);
	http_resp_free(&r);
	return j;
}

json_t *
fx_runs_of(const char *hdr, const char *name)
{
	char path[512], body[256];
	long st;
	json_t *e = NULL, *runs;
	const char *id;

	snprintf(path, sizeof(path), "/api/2.0/mlflow/experiments/get-by-name?"
	    "experiment_name=%s", name);
	e = fx_json(hdr, "GET", path, NULL, &st);
	if (st == 404) {
		json_decref(e);
		return NULL;
	}
	ck_assert_int_eq(st, 200);
	id = json_string_value(json_object_get(json_object_get(e, "experiment"),
	    "experiment_id"));
	ck_assert_ptr_nonnull(id);
	snprintf(body, sizeof(body), "{\"experiment_ids\":[\"%s\"],\"max_results\":1000}", id);
	runs = fx_json(hdr, "POST", "/api/2.0/mlflow/runs/search", body, &st);
	ck_assert_int_eq(st, 200);
	json_decref(e);
	if (json_object_get(runs, "runs") == NULL)
		json_object_set_new(runs, "runs", json_array());
	return runs;
}

json_t *
fx_run_value(json_t *run, const char *kind, const char *key)
{
	size_t i;
	json_t *t;

	json_array_foreach(json_object_get(json_object_get(run, "data"), kind), i, t)
		if (!strcmp(json_string_value(json_object_get(t, "key")), key))
			return json_object_get(t, "value");
	return NULL;
}

void
fx_model(const char *hdr, const char *name, const char *booster, size_t blen,
    const char *spec)
{
	fx_model_run(hdr, name, booster, blen, spec, NULL);
}

void
fx_model_run(const char *hdr, const char *name, const char *booster, size_t blen,
    const char *spec, const char *run_id)
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
	    "%s\r\n", b, spec);
	if (run_id != NULL)
		n += (size_t)snprintf(body + n, cap - n, "--%s\r\nContent-Disposition: form-data; "
		    "name=\"run_id\"\r\n\r\n%s\r\n", b, run_id);
	n += (size_t)snprintf(body + n, cap - n, "--%s--\r\n", b);
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

/* ---- reference models trained in Python on public data ---- */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Runs cmd; its stdout's first line into out (may be NULL). 0, or -1 after saying why. */
static int
run(const char *what, const char *cmd, char *out, size_t outlen)
{
	FILE *p = popen(cmd, "r");
	char line[1024] = "";
	int st;

	if (p == NULL) {
		fprintf(stderr, "fixtures: cannot run %s: %s\n", what, strerror(errno));
		return -1;
	}
	if (fgets(line, sizeof(line), p) != NULL)
		while (fgetc(p) != EOF)
			;
	st = pclose(p);
	if (st != 0) {
		fprintf(stderr, "fixtures: %s failed (exit status %d): %s\n", what,
		    WIFEXITED(st) ? WEXITSTATUS(st) : -1, cmd);
		return -1;
	}
	line[strcspn(line, "\n")] = '\0';
	if (out != NULL)
		snprintf(out, outlen, "%s", line);
	return 0;
}

int
fx_vega_datasets(char *dir, size_t len)
{
	const char *src = getenv("VERDICT_SRCDIR");
	char cmd[4096];

	if (src == NULL || src[0] == '\0')
		src = ".";
	if (strchr(src, '\'') != NULL) {
		fprintf(stderr, "fixtures: quotes in VERDICT_SRCDIR\n");
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "'%s/deploy/fetch-data' vega-datasets", src);
	if (run("deploy/fetch-data", cmd, dir, len) == -1 || dir[0] == '\0' ||
	    strchr(dir, '\'') != NULL) {
		fprintf(stderr, "fixtures: deploy/fetch-data vega-datasets gave no data "
		    "directory (it needs npm and the npm registry, or a filled "
		    "VERDICT_DATA_CACHE)\n");
		return -1;
	}
	return 0;
}

void
fx_verdict(struct fx_cli *r, const char *cwd, const char *args, ...)
{
	const char *b = getenv("VERDICT_BUILDDIR");
	char cmd[16384], a[8192];
	va_list ap;
	FILE *p;
	size_t n = 0, got;
	int st;

	va_start(ap, args);
	ck_assert_int_lt(vsnprintf(a, sizeof(a), args, ap), (int)sizeof(a));
	va_end(ap);
	ck_assert_int_lt(snprintf(cmd, sizeof(cmd), "cd '%s' && env -u VERDICT_URL -u "
	    "VERDICT_TOKEN -u MLFLOW_TRACKING_URI '%s/src/verdict' %s </dev/null 2>&1", cwd,
	    b != NULL && *b != '\0' ? b : ".", a), (int)sizeof(cmd));
	ck_assert_ptr_nonnull(p = popen(cmd, "r"));
	while ((got = fread(r->out + n, 1, sizeof(r->out) - 1 - n, p)) > 0)
		n += got;
	r->out[n] = '\0';
	st = pclose(p);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int
fx_reference_models(char *refdir, size_t refdirlen)
{
	const char *src = getenv("VERDICT_SRCDIR"), *py = getenv("VERDICT_PYTHON");
	char data[1024], cmd[4096];

	if (src == NULL || src[0] == '\0')
		src = ".";
	/* Debian's python3-xgboost lives in /usr/bin/python3's path; a pyenv or
	 * venv python3 earlier on PATH would not see it. */
	if (py == NULL || py[0] == '\0')
		py = "/usr/bin/python3";
	if (strchr(src, '\'') != NULL || strchr(py, '\'') != NULL) {
		fprintf(stderr, "fixtures: quotes in VERDICT_SRCDIR or VERDICT_PYTHON\n");
		return -1;
	}
	snprintf(refdir, refdirlen, "/tmp/verdict-reference.XXXXXX");
	if (mkdtemp(refdir) == NULL) {
		fprintf(stderr, "fixtures: mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	if (run("which xgboost", "command -v xgboost >/dev/null", NULL, 0) == -1) {
		fprintf(stderr, "fixtures: the xgboost CLI (Debian package xgboost) is "
		    "missing: run deploy/install-deps as root\n");
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "'%s' -c 'import xgboost, numpy'", py);
	if (run("python3-xgboost", cmd, NULL, 0) == -1) {
		fprintf(stderr, "fixtures: %s cannot import xgboost and numpy (Debian "
		    "packages python3-xgboost, python3-numpy): run deploy/install-deps as "
		    "root, or point VERDICT_PYTHON at a python3 that has them\n", py);
		return -1;
	}
	if (fx_vega_datasets(data, sizeof(data)) == -1)
		return -1;
	snprintf(cmd, sizeof(cmd), "'%s' '%s/tests/integration/train-reference.py' '%s' '%s' "
	    ">&2", py, src, data, refdir);
	if (run("train-reference.py", cmd, NULL, 0) == -1)
		return -1;
	return 0;
}

void
fx_reference_cleanup(const char *refdir)
{
	if (refdir == NULL || refdir[0] == '\0')
		return;
	if (getenv("VERDICT_KEEP_TEST_DIR") != NULL)
		fprintf(stderr, "fixtures: files kept in %s\n", refdir);
	else
		nftw(refdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char tmp_made[256];
static pid_t tmp_owner;

static void
tmp_remove(void)
{
	if (getpid() == tmp_owner)
		fx_reference_cleanup(tmp_made);
}

int
fx_tmpdir(const char *prefix, char *dir, size_t len)
{
	if (tmp_made[0] != '\0' ||
	    snprintf(tmp_made, sizeof(tmp_made), "/tmp/%s-XXXXXX", prefix) >= (int)sizeof(tmp_made) ||
	    mkdtemp(tmp_made) == NULL || (size_t)snprintf(dir, len, "%s", tmp_made) >= len)
		return -1;
	tmp_owner = getpid();
	return atexit(tmp_remove) == 0 ? 0 : -1;
}

char *
fx_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *ret = NULL;
	struct stat st;
	size_t n = 0;

	if (f == NULL || fstat(fileno(f), &st) == -1 || st.st_size > FX_FILE_MAX)
		goto out;
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto out;
	n = fread(buf, 1, (size_t)st.st_size + 1, f);
	if (ferror(f) || n != (size_t)st.st_size)
		goto out;
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	ret = buf;
	buf = NULL;
out:
	free(buf);
	if (f != NULL)
		fclose(f);
	return ret;
}

/* ---- a minimal cookie-keeping browser ---- */

void
fx_jar_init(struct fx_jar *j)
{
	static int n;

	memset(j, 0, sizeof(*j));
	n++;
	snprintf(j->addr, sizeof(j->addr), "10.%d.%d.%d", getpid() % 250, (n / 250) % 250,
	    n % 250 + 1);
}

static void
fx_jar_update(struct fx_jar *j, const struct http_resp *r)
{
	const char *p = r->headers;

	while ((p = strcasestr(p, "\nSet-Cookie: ")) != NULL) {
		char name[32], value[512];

		p += 13;
		if (sscanf(p, "%31[^=]=%511[^;\r\n]", name, value) < 1)
			continue;
		if (p[strlen(name) + 1] == ';')
			value[0] = '\0';
		if (!strcmp(name, "verdict_session"))
			snprintf(j->session, sizeof(j->session), "%s", value);
		else if (!strcmp(name, "verdict_pre"))
			snprintf(j->pre, sizeof(j->pre), "%s", value);
		else if (!strcmp(name, "verdict_flash"))
			snprintf(j->flash, sizeof(j->flash), "%s", value);
	}
}

/* A request with the jar's cookies and our own Origin; ctype NULL = no body. */
void
fx_jar_send(struct fx_jar *j, const char *method, const char *path, const char *ctype,
    const char *body, size_t len, struct http_resp *out)
{
	char cookie[1000], org[200], xff[64];
	const char *h[4] = { cookie, xff, org, NULL };

	snprintf(cookie, sizeof(cookie), "Cookie: verdict_session=%s; verdict_pre=%s; "
	    "verdict_flash=%s", j->session, j->pre, j->flash);
	snprintf(xff, sizeof(xff), "X-Forwarded-For: %s", j->addr);
	snprintf(org, sizeof(org), "Origin: %s", harness_url());
	ck_assert_int_eq(http_request(method, path, ctype, body, len, h, out), 0);
	fx_jar_update(j, out);
}

void
fx_jar_get(struct fx_jar *j, const char *path, struct http_resp *out)
{
	fx_jar_send(j, "GET", path, NULL, NULL, 0, out);
}

void
fx_jar_form(struct fx_jar *j, const char *path, const char *form, struct http_resp *out)
{
	fx_jar_send(j, "POST", path, "application/x-www-form-urlencoded", form, strlen(form),
	    out);
}

/* The csrf_token hidden field of a page, or "". */
void
fx_csrf_of(const struct http_resp *r, char *dst)
{
	const char *p = strstr(r->body ? r->body : "", "name=\"csrf_token\" value=\"");

	dst[0] = '\0';
	if (p != NULL)
		sscanf(p + 25, "%127[^\"]", dst);
}

void
fx_get_csrf(struct fx_jar *j, const char *path, char *csrf)
{
	struct http_resp r;

	fx_jar_get(j, path, &r);
	ck_assert_msg(r.status == 200, "GET %s: %ld", path, r.status);
	fx_csrf_of(&r, csrf);
	ck_assert_uint_eq(strlen(csrf), 64);
	http_resp_free(&r);
}

/* A browser session for user (the fixtures' password), through the login form. */
void
fx_html_login(struct fx_jar *j, char *csrf, const char *user)
{
	char form[512], loc[256];
	struct http_resp r;

	fx_jar_init(j);
	fx_get_csrf(j, "/login", csrf);
	snprintf(form, sizeof(form), "csrf_token=%s&username=%s&password=violet+tangerine+42"
	    "+kites&next=/models", csrf, user);
	fx_jar_form(j, "/login", form, &r);
	ck_assert_msg(r.status == 303, "login %ld: %s", r.status, r.body);
	ck_assert_str_eq(http_header(&r, "Location", loc, sizeof(loc)), "/models");
	ck_assert_uint_eq(strlen(j->session), 43);
	http_resp_free(&r);
	fx_get_csrf(j, "/models", csrf);
}
