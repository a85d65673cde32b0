/* test_browse.c: the experiment-browsing pages end to end — data logged through the MLflow API, then every page: status, content, filter/sort/pages, inline errors, CSV, compare, a downsampled 100k-point chart, block summaries of large histories (appended, rebuilt, refreshed concurrently), hostile names, and tidy on each page. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"
#include "fixtures.h"

#pragma GCC diagnostic ignored "-Wformat-truncation"

#define HOSTILE "<script>alert(1)</script>\\\"'"    /* as it sits in a JSON string */
#define HOSTILE_RAW "<script>alert(1)</script>\"'"

static char hdr[256], other_hdr[256], user[64], other_user[64];

/* ---- helpers ---- */

static long
api(const char *path, json_t **out, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static long
api(const char *path, json_t **out, const char *fmt, ...)
{
	static char body[1 << 20];
	struct http_resp r;
	va_list ap;
	long st;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	st = fx_call(hdr, "POST", path, "application/json", body, &r);
	ck_assert_msg(st == 200, "POST %s: %ld %s", path, st, r.body);
	if (out != NULL)
		*out = http_json(&r);
	http_resp_free(&r);
	return st;
}

/* Runs tidy -errors -q on body: fails the test on any error (warnings are printed). */
static void
tidy_ok(const char *what, const char *body)
{
	char path[] = "/tmp/verdict-tidy-XXXXXX", cmd[256];
	int fd = mkstemp(path), st;
	FILE *p;
	char line[512];

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, body, strlen(body)), (ssize_t)strlen(body));
	close(fd);
	snprintf(cmd, sizeof(cmd), "tidy -errors -q %s 2>&1", path);
	ck_assert_msg((p = popen(cmd, "r")) != NULL, "tidy did not start");
	while (fgets(line, sizeof(line), p) != NULL)
		fprintf(stderr, "tidy %s: %s", what, line);
	st = pclose(p);
	unlink(path);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) < 2, "tidy found errors in %s (exit %d)",
	    what, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* GET path as the test user; asserts the status; the body (caller frees) tidied when HTML. */
static char *
page(long want, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *
page(long want, const char *fmt, ...)
{
	char path[16384], ct[128];
	struct http_resp r;
	va_list ap;
	char *body;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	ck_assert_msg(fx_call(hdr, "GET", path, NULL, NULL, &r) == want, "GET %s: %ld, want "
	    "%ld: %.600s", path, r.status, want, r.body);
	if (http_header(&r, "Content-Type", ct, sizeof(ct)) != NULL && strstr(ct, "text/html"))
		tidy_ok(path, r.body);
	body = strdup(r.body);
	http_resp_free(&r);
	return body;
}

static int
count(const char *hay, const char *needle)
{
	size_t k = strlen(needle), len = strlen(hay);
	int n = 0;

	/*
	 * One pass: the sanitizer's strstr checks the whole rest of hay on every
	 * call, which made counting the lines of a 6 MB CSV take minutes.
	 */
	for (size_t i = 0; k > 0 && i + k <= len; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, k) == 0) {
			n++;
			i += k - 1;
		}
	return n;
}

static void
uniq(char *buf, size_t len, const char *what)
{
	static int n;

	snprintf(buf, len, "%s-%d-%d", what, (int)getpid(), ++n);
}

static void
mkexp(const char *name, char *id, size_t len)
{
	json_t *j;

	api("/api/2.0/mlflow/experiments/create", &j, "{\"name\":\"%s\"}", name);
	snprintf(id, len, "%s", json_string_value(json_object_get(j, "experiment_id")));
	json_decref(j);
}

static void
mkrun(const char *exp, const char *name, const char *tags, char *id, size_t len)
{
	json_t *j;

	api("/api/2.0/mlflow/runs/create", &j, "{\"experiment_id\":\"%s\",\"run_name\":\"%s\","
	    "\"tags\":[%s]}", exp, name, tags ? tags : "");
	snprintf(id, len, "%s", json_string_value(json_object_get(json_object_get(
	    json_object_get(j, "run"), "info"), "run_id")));
	json_decref(j);
}

/* Five runs r0..r4: lr 0.0i, model xgb/lgbm, rmse 1 - i/10 over 10 steps, a tag. */
struct five {
	char exp[32], run[5][40];
};

static void
five_runs(struct five *f, const char *expname)
{
	mkexp(expname, f->exp, sizeof(f->exp));
	for (int i = 0; i < 5; i++) {
		char name[16], metrics[4096];
		size_t n = 0;

		snprintf(name, sizeof(name), "r%d", i);
		mkrun(f->exp, name, NULL, f->run[i], sizeof(f->run[i]));
		for (int s = 0; s < 10; s++)
			n += (size_t)snprintf(metrics + n, sizeof(metrics) - n, "%s{\"key\":\"rmse\","
			    "\"value\":%g,\"timestamp\":%d,\"step\":%d}", s ? "," : "",
			    1.0 - i / 10.0 + (9 - s) * 0.01, 1700000000 + s * 1000, s);
		api("/api/2.0/mlflow/runs/log-batch", NULL, "{\"run_id\":\"%s\",\"metrics\":[%s,"
		    "{\"key\":\"acc\",\"value\":%g,\"timestamp\":1,\"step\":0}],\"params\":["
		    "{\"key\":\"lr\",\"value\":\"0.0%d\"},{\"key\":\"model\",\"value\":\"%s\"},"
		    "{\"key\":\"depth\",\"value\":\"6\"}],\"tags\":[{\"key\":\"team\","
		    "\"value\":\"t%d\"}]}", f->run[i], metrics, 0.5 + i / 10.0, i + 1,
		    i % 2 ? "lgbm" : "xgb", i);
	}
}

/* ---- tests ---- */

START_TEST(experiments_list_create_delete_restore)
{
	char name[64], id[32], path[128], loc[256], *b;
	struct http_resp r;

	uniq(name, sizeof(name), "listed");
	mkexp(name, id, sizeof(id));
	b = page(200, "/experiments");
	ck_assert_ptr_nonnull(strstr(b, name));
	ck_assert_ptr_nonnull(strstr(b, "href=\"/experiments/"));
	ck_assert_ptr_nonnull(strstr(b, "<time datetime=\""));
	ck_assert_ptr_nonnull(strstr(b, "href=\"/experiments\">Experiments</a>"));
	free(b);
	/* name search: literal, case-insensitive; % is no wildcard */
	b = page(200, "/experiments?q=%s", name + 1);
	ck_assert_ptr_nonnull(strstr(b, name));
	free(b);
	b = page(200, "/experiments?q=%%25%%25nothing");
	ck_assert_ptr_null(strstr(b, name));
	ck_assert_ptr_nonnull(strstr(b, "class=\"empty\""));
	free(b);
	/* create through the form */
	uniq(name, sizeof(name), "formmade");
	snprintf(path, sizeof(path), "name=%s", name);
	ck_assert_int_eq(fx_call(hdr, "POST", "/experiments", "application/x-www-form-urlencoded",
	    path, &r), 303);
	ck_assert_ptr_nonnull(http_header(&r, "Location", loc, sizeof(loc)));
	ck_assert_msg(!strncmp(loc, "/experiments/", 13), "%s", loc);
	http_resp_free(&r);
	b = page(200, "%s", loc);
	ck_assert_ptr_nonnull(strstr(b, name));
	ck_assert_ptr_nonnull(strstr(b, "MLFLOW_TRACKING_URI"));     /* the empty state */
	free(b);
	/* the same name again: a 400 page naming the problem */
	ck_assert_int_eq(fx_call(hdr, "POST", "/experiments", "application/x-www-form-urlencoded",
	    path, &r), 400);
	ck_assert_ptr_nonnull(strstr(r.body, "already exists"));
	http_resp_free(&r);
	/* delete, listed under deleted, restore */
	snprintf(path, sizeof(path), "%s/delete", loc);
	ck_assert_int_eq(fx_call(hdr, "POST", path, "application/x-www-form-urlencoded", "", &r),
	    303);
	http_resp_free(&r);
	b = page(200, "/experiments");
	ck_assert_ptr_null(strstr(b, name));
	free(b);
	b = page(200, "/experiments?view=deleted");
	ck_assert_ptr_nonnull(strstr(b, name));
	ck_assert_ptr_nonnull(strstr(b, "/restore\""));
	free(b);
	snprintf(path, sizeof(path), "%s/restore", loc);
	ck_assert_int_eq(fx_call(hdr, "POST", path, "application/x-www-form-urlencoded", "", &r),
	    303);
	http_resp_free(&r);
	b = page(200, "/experiments");
	ck_assert_ptr_nonnull(strstr(b, name));
	free(b);
	/* bad input: 4xx pages that say what is wrong */
	b = page(400, "/experiments?view=sideways");
	ck_assert_ptr_nonnull(strstr(b, "view"));
	free(b);
	free(page(404, "/experiments/987654321"));
	free(page(400, "/experiments/x%%27y"));
	/* anonymous: sent to log in */
	ck_assert_int_eq(fx_call(NULL, "GET", "/experiments", NULL, NULL, &r) / 100, 3);
	http_resp_free(&r);
}
END_TEST

START_TEST(runs_table_filter_sort_pages)
{
	struct five f;
	char name[64], *b, *p, *next, *prev, url[8192];

	uniq(name, sizeof(name), "table");
	five_runs(&f, name);
	/* default: attributes, the metrics and params as columns, newest first */
	b = page(200, "/experiments/%s", f.exp);
	ck_assert_int_eq(count(b, "name=\"runs\" value=\""), 5);
	ck_assert_ptr_nonnull(strstr(b, "metrics.rmse"));
	ck_assert_ptr_nonnull(strstr(b, "params.lr"));
	ck_assert_msg(strstr(b, ">r4</a>") < strstr(b, ">r0</a>"), "newest first");
	ck_assert_ptr_nonnull(strstr(b, "action=\"/compare\""));
	free(b);
	/* a 2-clause filter and a metric sort, kept in the links */
	b = page(200, "/experiments/%s?filter=metrics.rmse+%%3C+0.85+AND+params.model+%%3D+%%27xgb"
	    "%%27&order=metrics.rmse+ASC", f.exp);
	ck_assert_int_eq(count(b, "name=\"runs\" value=\""), 2);         /* r2, r4 */
	ck_assert_msg(strstr(b, ">r4</a>") != NULL && strstr(b, ">r4</a>") < strstr(b, ">r2</a>"),
	    "sorted by rmse ascending");
	ck_assert_ptr_nonnull(strstr(b, "aria-sort=\"ascending\""));
	ck_assert_ptr_nonnull(strstr(b, "value=\"metrics.rmse&#x20;&#x3C;&#x20;0.85"));
	free(b);
	b = page(200, "/experiments/%s?order=metrics.rmse+DESC", f.exp);
	ck_assert_msg(strstr(b, ">r0</a>") < strstr(b, ">r4</a>"), "sorted by rmse descending");
	ck_assert_ptr_nonnull(strstr(b, "aria-sort=\"descending\""));
	free(b);
	/* chosen columns */
	b = page(200, "/experiments/%s?cols=tags.team,params.depth", f.exp);
	ck_assert_ptr_nonnull(strstr(b, ">t3<"));
	ck_assert_ptr_null(strstr(b, ">metrics.rmse</a>"));
	/* the runs load the chosen keys alone; the picker still offers every key */
	ck_assert_int_eq(count(b, ">6</td>"), 5);
	ck_assert_ptr_nonnull(strstr(b, "value=\"metrics.rmse\" >"));
	ck_assert_ptr_nonnull(strstr(b, "value=\"params.lr\" >"));
	ck_assert_ptr_nonnull(strstr(b, "value=\"params.depth\" checked>"));
	ck_assert_ptr_nonnull(strstr(b, "value=\"tags.team\" checked>"));
	free(b);
	free(page(400, "/experiments/%s?cols=bogus.x", f.exp));
	/* errors inline at their position, the page still there: a 400 */
	b = page(400, "/experiments/%s?filter=params.lr+%%3E+1", f.exp);
	ck_assert_ptr_nonnull(strstr(b, "at position 11"));
	ck_assert_ptr_nonnull(strstr(b, "params.lr <mark>&gt;</mark> 1"));
	ck_assert_ptr_nonnull(strstr(b, "id=\"filter\""));
	free(b);
	b = page(400, "/experiments/%s?order=metrics.rmse+SIDEWAYS", f.exp);
	ck_assert_ptr_nonnull(strstr(b, "class=\"filter-error\""));
	free(b);
	/* keyset pages of two: next, next, previous, first */
	b = page(200, "/experiments/%s?n=2", f.exp);
	ck_assert_int_eq(count(b, "name=\"runs\" value=\""), 2);
	ck_assert_ptr_nonnull(strstr(b, ">r4</a>"));
	ck_assert_ptr_nonnull(next = strstr(b, "rel=\"next\" href=\""));
	next += strlen("rel=\"next\" href=\"");
	/* the href is attribute-escaped: undo &#xHH; */
	{
		size_t k = 0;

		for (p = next; *p != '"' && k < sizeof(url) - 1; p++) {
			if (!strncmp(p, "&#x", 3)) {
				url[k++] = (char)strtol(p + 3, &p, 16);
				continue;
			}
			url[k++] = *p;
		}
		url[k] = '\0';
	}
	free(b);
	b = page(200, "%s", url);
	ck_assert_ptr_nonnull(strstr(b, ">r2</a>"));
	ck_assert_ptr_null(strstr(b, ">r4</a>"));
	ck_assert_ptr_nonnull(prev = strstr(b, "rel=\"prev\""));
	ck_assert_ptr_nonnull(strstr(b, "First page"));
	free(b);
	/* deleted runs view */
	api("/api/2.0/mlflow/runs/delete", NULL, "{\"run_id\":\"%s\"}", f.run[1]);
	b = page(200, "/experiments/%s", f.exp);
	ck_assert_ptr_null(strstr(b, ">r1</a>"));
	free(b);
	b = page(200, "/experiments/%s?view=deleted", f.exp);
	ck_assert_ptr_nonnull(strstr(b, ">r1</a>"));
	ck_assert_int_eq(count(b, "name=\"runs\" value=\""), 1);
	free(b);
	free(page(400, "/experiments/%s?page_token=garbage", f.exp));
}
END_TEST

START_TEST(csv_export)
{
	struct five f;
	char name[64], *b, ct[128];
	struct http_resp r;

	uniq(name, sizeof(name), "csv");
	five_runs(&f, name);
	b = page(200, "/experiments/%s/runs.csv?filter=params.model+%%3D+%%27xgb%%27"
	    "&order=metrics.rmse+ASC&cols=params.lr,metrics.rmse,tags.team", f.exp);
	ck_assert_msg(!strncmp(b, "run_id,run_name,status,start_time,end_time,duration_s,user,"
	    "params.lr,metrics.rmse,tags.team\r\n", 81), "%.200s", b);
	ck_assert_int_eq(count(b, "\r\n"), 4);          /* header + r4, r2, r0 */
	ck_assert_msg(strstr(b, ",r4,") < strstr(b, ",r2,") && strstr(b, ",r2,") < strstr(b,
	    ",r0,"), "%s", b);
	ck_assert_ptr_nonnull(strstr(b, ",0.05,0.6,t4\r\n"));
	free(b);
	/* hostile values are quoted, formulas defused */
	{
		char exp[32], run[40];

		uniq(name, sizeof(name), "csvq");
		mkexp(name, exp, sizeof(exp));
		mkrun(exp, "a,b \\\"c\\\"", NULL, run, sizeof(run));
		api("/api/2.0/mlflow/runs/log-parameter", NULL, "{\"run_id\":\"%s\",\"key\":\"f\","
		    "\"value\":\"=cmd()\"}", run);
		ck_assert_int_eq(fx_call(hdr, "GET", "/experiments/x/runs.csv", NULL, NULL, &r), 404);
		http_resp_free(&r);
		b = page(200, "/experiments/%s/runs.csv?cols=params.f", exp);
		ck_assert_msg(strstr(b, ",\"a,b \"\"c\"\"\",") != NULL, "%s", b);
		ck_assert_msg(strstr(b, ",\"'=cmd()\"\r\n") != NULL, "%s", b);
		free(b);
		snprintf(name, sizeof(name), "/experiments/%s/runs.csv", exp);
		ck_assert_int_eq(fx_call(hdr, "GET", name, NULL, NULL, &r), 200);
		ck_assert_ptr_nonnull(strstr(r.headers, "attachment"));
		ck_assert_ptr_nonnull(http_header(&r, "Content-Type", ct, sizeof(ct)));
		ck_assert_ptr_nonnull(strstr(ct, "text/csv"));
		http_resp_free(&r);
	}
}
END_TEST

START_TEST(run_page)
{
	struct five f;
	char name[64], child[40], tags[512], *b, big[5200];

	uniq(name, sizeof(name), "runpage");
	five_runs(&f, name);
	snprintf(tags, sizeof(tags), "{\"key\":\"mlflow.parentRunId\",\"value\":\"%s\"},"
	    "{\"key\":\"mlflow.source.name\",\"value\":\"train.py\"}", f.run[0]);
	mkrun(f.exp, "the-child", tags, child, sizeof(child));
	memset(big, 'w', 5000);
	big[5000] = '\0';
	api("/api/2.0/mlflow/runs/log-parameter", NULL, "{\"run_id\":\"%s\",\"key\":\"huge\","
	    "\"value\":\"%s\"}", f.run[0], big);
	api("/api/2.0/mlflow/runs/log-inputs", NULL, "{\"run_id\":\"%s\",\"datasets\":[{"
	    "\"dataset\":{\"name\":\"flights\",\"digest\":\"abc123\",\"source_type\":\"local\","
	    "\"source\":\"/data/flights.csv\"},\"tags\":[{\"key\":\"mlflow.data.context\","
	    "\"value\":\"training\"}]}]}", f.run[0]);
	api("/api/2.0/mlflow/runs/update", NULL, "{\"run_id\":\"%s\",\"status\":\"FINISHED\","
	    "\"end_time\":1700000065000}", f.run[0]);
	b = page(200, "/runs/%s", f.run[0]);
	ck_assert_ptr_nonnull(strstr(b, "<h1>r0"));
	ck_assert_ptr_nonnull(strstr(b, "FINISHED"));
	ck_assert_ptr_nonnull(strstr(b, ">the-child</a>"));
	ck_assert_ptr_nonnull(strstr(b, "flights"));
	ck_assert_ptr_nonnull(strstr(b, "training"));
	ck_assert_ptr_nonnull(strstr(b, big));
	ck_assert_ptr_nonnull(strstr(b, "<svg class=\"spark\""));
	ck_assert_ptr_nonnull(strstr(b, "/metrics/rmse\""));
	ck_assert_ptr_nonnull(strstr(b, "id=\"artifacts\""));
	ck_assert_ptr_nonnull(strstr(b, "id=\"model-versions\""));
	ck_assert_ptr_nonnull(strstr(b, "href=\"/experiments/"));      /* breadcrumbs */
	free(b);
	b = page(200, "/runs/%s", child);
	ck_assert_ptr_nonnull(strstr(b, ">r0</a>"));                   /* the parent */
	ck_assert_ptr_nonnull(strstr(b, "train.py"));
	free(b);
	free(page(404, "/runs/0123456789abcdef0123456789abcdef"));
	free(page(400, "/runs/bad%%21id"));
}
END_TEST

/* The SQL of statement name in src/db.h, to run it as verdictd does. */
static const char *
stmt_sql(const char *name)
{
#define X(n, ro, sql) if (!strcmp(#n, name)) return sql;
	DB_STATEMENTS(X)
#undef X
	return NULL;
}

/*
 * Sparklines read the chunk that ends first at or after each of 40 evenly
 * spaced steps (sql/014_metric_chunks.sql): each point is the first non-NaN
 * one at or after its step, for a history of three chunks with NaN at a
 * sampled step, and for one logged out of order whose chunks overlap.
 */
START_TEST(sparklines_follow_the_history)
{
	enum { NPT = 40 };
	char name[64], exp[32], run[40], *b, *p, np[8];
	PGconn *db;
	PGresult *res;
	int row = 0;

	uniq(name, sizeof(name), "spark");
	mkexp(name, exp, sizeof(exp));
	mkrun(exp, "s", NULL, run, sizeof(run));
	b = malloc(300 * 100 + 200);
	/* loss: steps 0, 2, .., 598 in order, value step / 2, NaN at 16 (the first
	 * point at or after the second sampled step, 15) and at 300. */
	p = b + sprintf(b, "{\"run_id\":\"%s\",\"metrics\":[", run);
	for (int i = 0; i < 300; i++) {
		int step = 2 * i;

		if (step == 16 || step == 300)
			p += sprintf(p, "%s{\"key\":\"loss\",\"value\":\"NaN\",\"timestamp\":%d,"
			    "\"step\":%d}", i ? "," : "", 1000 + step, step);
		else
			p += sprintf(p, "%s{\"key\":\"loss\",\"value\":%d.5,\"timestamp\":%d,"
			    "\"step\":%d}", i ? "," : "", step / 2, 1000 + step, step);
	}
	strcpy(p, "]}");
	api("/api/2.0/mlflow/runs/log-batch", NULL, "%s", b);
	/* acc: steps 100..199 first, then 0..149 (value 1000 + step, then step):
	 * chunks [100, 199], [0, 127] and [128, 149]. */
	for (int batch = 0; batch < 2; batch++) {
		int lo = batch ? 0 : 100, hi = batch ? 149 : 199;

		p = b + sprintf(b, "{\"run_id\":\"%s\",\"metrics\":[", run);
		for (int s = lo; s <= hi; s++)
			p += sprintf(p, "%s{\"key\":\"acc\",\"value\":%d,\"timestamp\":%d,"
			    "\"step\":%d}", s > lo ? "," : "", batch ? s : 1000 + s, 5000 + s, s);
		strcpy(p, "]}");
		api("/api/2.0/mlflow/runs/log-batch", NULL, "%s", b);
	}
	free(b);
	db = fx_db();
	snprintf(np, sizeof(np), "%d", NPT);
	{
		const char *v[2] = { run, np };

		ck_assert_ptr_nonnull(stmt_sql("METRIC_SPARKS"));
		res = PQexecParams(db, stmt_sql("METRIC_SPARKS"), 2, NULL, v, NULL, NULL, 0);
	}
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	ck_assert_int_eq(PQntuples(res), 2 * NPT);
	/* acc (keys in order): from 0 to 199; overlapping steps hold two values. */
	for (int i = 0; i < NPT; i++, row++) {
		long long t = 199LL * i / (NPT - 1), step = atoll(PQgetvalue(res, row, 1));
		double v = atof(PQgetvalue(res, row, 2));

		ck_assert_str_eq(PQgetvalue(res, row, 0), "acc");
		ck_assert_int_eq(step, t);
		ck_assert_msg(v == (double)t || v == 1000.0 + (double)t, "acc at %lld: %g", t, v);
	}
	/* loss: from 0 to 598; the first even step at or after t, skipping NaN. */
	for (int i = 0; i < NPT; i++, row++) {
		long long t = 598LL * i / (NPT - 1), want = (t + 1) / 2 * 2;

		if (want == 16 || want == 300)
			want += 2;
		ck_assert_str_eq(PQgetvalue(res, row, 0), "loss");
		ck_assert_int_eq(atoll(PQgetvalue(res, row, 1)), want);
		ck_assert_double_eq(atof(PQgetvalue(res, row, 2)), want / 2 + 0.5);
	}
	PQclear(res);
	PQfinish(db);
}
END_TEST

START_TEST(metric_chart_downsampled)
{
	char name[64], exp[32], run[40], other[40], *b, sql[512];
	PGconn *db;
	PGresult *res;
	const char *d;
	int vertices = 0;

	uniq(name, sizeof(name), "chart");
	mkexp(name, exp, sizeof(exp));
	mkrun(exp, "long", NULL, run, sizeof(run));
	mkrun(exp, "short", NULL, other, sizeof(other));
	api("/api/2.0/mlflow/runs/log-metric", NULL, "{\"run_id\":\"%s\",\"key\":\"loss\","
	    "\"value\":0.5,\"timestamp\":1700000000000,\"step\":0}", other);
	api("/api/2.0/mlflow/runs/log-metric", NULL, "{\"run_id\":\"%s\",\"key\":\"loss\","
	    "\"value\":0.25,\"timestamp\":1700000001000,\"step\":50000}", other);
	/* 100,000 points straight into the table, 128 to a chunk (the API would
	 * take 100 batches). */
	db = fx_db();
	snprintf(sql, sizeof(sql), "INSERT INTO metric_chunks (run_uuid, key, steps, timestamps, "
	    "vals) SELECT $1, 'loss', array_agg(s), array_agg(1700000000000 + s * 10), "
	    "array_agg(1.0 / (s + 1) + (s %% 7) * 0.001) FROM generate_series(0, 99999) s "
	    "GROUP BY s / 128");
	{
		const char *v[1] = { run };

		res = PQexecParams(db, sql, 1, NULL, v, NULL, NULL, 0);
		ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
		PQclear(res);
		res = PQexecParams(db, "INSERT INTO latest_metrics (run_uuid, key, value, timestamp, "
		    "step, n, experiment_id, run_stage, run_start) SELECT $1, 'loss', 0.00001, "
		    "1700000999990, 99999, 100000, experiment_id, lifecycle_stage, start_time FROM runs "
		    "WHERE run_uuid = $1", 1, NULL, v, NULL, NULL, 0);
		ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
		PQclear(res);
	}
	PQfinish(db);
	b = page(200, "/runs/%s/metrics/loss", run);
	ck_assert_ptr_nonnull(strstr(b, "100000 points"));
	ck_assert_ptr_nonnull(d = strstr(b, "class=\"line\" d=\"M"));
	for (const char *p = strstr(b, "<svg class=\"chart\""); p != NULL && *p &&
	    strncmp(p, "</svg>", 6) != 0; p++)
		vertices += *p == 'L' || (*p == 'M' && p[-1] == '"');
	ck_assert_msg(vertices > 500 && vertices <= 3 * 800, "%d vertices drawn", vertices);
	ck_assert_ptr_nonnull(strstr(b, "class=\"band\""));
	free(b);
	/* x choices, smoothing, log scale, an overlay */
	b = page(200, "/runs/%s/metrics/loss?x=relative&smooth=0.9&log=1&runs=%s", run, other);
	ck_assert_ptr_nonnull(strstr(b, "class=\"legend\""));
	ck_assert_ptr_nonnull(strstr(b, ">short</a>"));
	ck_assert_int_eq(count(b, "class=\"line\""), 2);
	free(b);
	b = page(200, "/runs/%s/metrics/loss?x=time", run);
	ck_assert_ptr_nonnull(strstr(b, "11-14 "));
	free(b);
	b = page(200, "/runs/%s/metric?key=loss", run);
	ck_assert_ptr_nonnull(strstr(b, "100000 points"));
	free(b);
	free(page(400, "/runs/%s/metrics/loss?smooth=2", run));
	free(page(400, "/runs/%s/metrics/loss?x=sideways", run));
	free(page(404, "/runs/%s/metrics/loss?runs=0123456789abcdef0123456789abcdef", run));
	b = page(200, "/runs/%s/metrics/nothing", run);
	ck_assert_ptr_nonnull(strstr(b, "No finite values"));
	free(b);
	/* the raw history, every point */
	b = page(200, "/runs/%s/metric.csv?key=loss", run);
	ck_assert_int_eq(count(b, "\r\n"), 100001);
	ck_assert_ptr_nonnull(strstr(b, "step,timestamp,time,value\r\n0,1700000000000,"
	    "2023-11-14T22:13:20Z,1\r\n"));
	free(b);
}
END_TEST

START_TEST(compare_runs)
{
	struct five f;
	char name[64], *b;

	uniq(name, sizeof(name), "compare");
	five_runs(&f, name);
	b = page(200, "/compare?runs=%s,%s,%s", f.run[0], f.run[1], f.run[2]);
	ck_assert_ptr_nonnull(strstr(b, "Compare 3 runs"));
	ck_assert_ptr_nonnull(strstr(b, "class=\"differs\"><th class=\"key\">lr"));
	ck_assert_ptr_nonnull(strstr(b, "<tr ><th class=\"key\">depth"));
	ck_assert_ptr_nonnull(strstr(b, "<svg class=\"chart\""));          /* overlaid rmse */
	ck_assert_int_eq(count(b, "class=\"line\""), 3);
	ck_assert_ptr_nonnull(strstr(b, "<svg class=\"chart scatter\""));
	ck_assert_int_eq(count(b, "<circle "), 3);
	ck_assert_ptr_nonnull(strstr(b, "<svg class=\"chart parallel\""));
	ck_assert_int_eq(count(b, "class=\"pc "), 3);
	free(b);
	/* differences only; checkboxes arrive as repeated runs= */
	b = page(200, "/compare?runs=%s&runs=%s&diff=1&metric=acc&param=lr", f.run[0], f.run[1]);
	ck_assert_ptr_null(strstr(b, "<th class=\"key\">depth<"));
	ck_assert_ptr_nonnull(strstr(b, "<th class=\"key\">lr<"));
	ck_assert_ptr_nonnull(strstr(b, "acc against lr"));
	free(b);
	b = page(200, "/compare?runs=%s,%s&axes=params.lr,params.model,metrics.acc", f.run[0],
	    f.run[2]);
	ck_assert_int_eq(count(b, "class=\"axis\""), 3);
	free(b);
	b = page(400, "/compare?runs=%s", f.run[0]);
	ck_assert_ptr_nonnull(strstr(b, "at least two"));
	free(b);
	free(page(404, "/compare?runs=%s,0123456789abcdef0123456789abcdef", f.run[0]));
	free(page(400, "/compare"));
	free(page(400, "/compare?runs=%s,%s&axes=bogus", f.run[0], f.run[1]));
}
END_TEST

START_TEST(hostile_names_render_as_text)
{
	char exp[32], run[40], run2[40], *b, big[5100];

	mkexp(HOSTILE, exp, sizeof(exp));
	mkrun(exp, HOSTILE, NULL, run, sizeof(run));
	mkrun(exp, HOSTILE, NULL, run2, sizeof(run2));
	memset(big, 'v', 5000);
	big[5000] = '\0';
	api("/api/2.0/mlflow/runs/log-batch", NULL, "{\"run_id\":\"%s\",\"params\":[{\"key\":"
	    "\"p\",\"value\":\"" HOSTILE "\"},{\"key\":\"long\",\"value\":\"%s\"}],\"tags\":["
	    "{\"key\":\"t\",\"value\":\"" HOSTILE "\"}],\"metrics\":[{\"key\":\"m\","
	    "\"value\":1,\"timestamp\":1,\"step\":0}]}", run, big);
	{
		char *pages[5];

		pages[0] = page(200, "/experiments");
		pages[1] = page(200, "/experiments/%s?cols=params.p,tags.t,params.long", exp);
		pages[2] = page(200, "/runs/%s", run);
		pages[3] = page(200, "/runs/%s/metrics/m", run);
		pages[4] = page(200, "/compare?runs=%s,%s", run, run2);
		for (int i = 0; i < 5; i++) {
			ck_assert_msg(strstr(pages[i], HOSTILE_RAW) == NULL, "page %d: raw", i);
			ck_assert_msg(strstr(pages[i], "<script>alert") == NULL, "page %d: script", i);
			ck_assert_msg(strstr(pages[i], "&lt;script&gt;alert(1)&lt;/script&gt;&quot;"
			    "&#39;") != NULL || i == 4, "page %d lacks the escaped name", i);
			free(pages[i]);
		}
	}
	b = page(200, "/runs/%s", run);
	ck_assert_ptr_nonnull(strstr(b, big));
	free(b);
}
END_TEST


/* ---- the run page's artifacts, registering from a run, times ---- */

#define HOSTILE_NAME "<img src=x onerror=alert(1)>\"'.txt"
#define HOSTILE_NAME_URL "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E%22'.txt"
#define HOSTILE_NAME_ESC "&lt;img src=x onerror=alert(1)&gt;&quot;&#39;.txt"

/* PUTs len bytes as <exp>/<run>/artifacts/<rel> (rel already percent-encoded) as the test user. */
static void
put_artifact(const char *exp, const char *run, const char *rel, const void *data, size_t len)
{
	const char *h[2] = { hdr, NULL };
	char path[2048];
	struct http_resp r;

	snprintf(path, sizeof(path), "/api/2.0/mlflow-artifacts/artifacts/%s/%s/artifacts/%s",
	    exp, run, rel);
	ck_assert_int_eq(http_request("PUT", path, "application/octet-stream", data, len, h,
	    &r), 0);
	ck_assert_msg(r.status == 200, "PUT %s: %ld %s", path, r.status, r.body);
	http_resp_free(&r);
}

/* fmt into buf; returns buf. */
static const char *
pathf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static const char *
pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return buf;
}

/* GET path as the account of header h; the status. */
static long
get_as(const char *h, const char *path)
{
	struct http_resp r;
	long st = fx_call(h, "GET", path, NULL, NULL, &r);

	http_resp_free(&r);
	return st;
}

/* The account other may do nothing with experiment exp (set by its owner, the test user). */
static void
shut_out(const char *exp)
{
	api("/api/2.0/mlflow/experiments/permissions/create", NULL, "{\"experiment_id\":\"%s\","
	    "\"username\":\"%s\",\"permission\":\"NO_PERMISSIONS\"}", exp, other_user);
}

START_TEST(artifact_browser)
{
	char name[64], exp[32], run[40], empty[40], path[1024], ct[128], disp[256];
	static char bin[3000], large[70000];
	struct http_resp r;
	char *b;

	uniq(name, sizeof(name), "artifacts");
	mkexp(name, exp, sizeof(exp));
	mkrun(exp, "with-files", NULL, run, sizeof(run));
	mkrun(exp, "without-files", NULL, empty, sizeof(empty));
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (char)(i * 7 % 256);               /* NUL bytes among them */
	memset(large, 'x', sizeof(large));
	put_artifact(exp, run, "notes.txt", "hello\n", 6);
	put_artifact(exp, run, HOSTILE_NAME_URL, HOSTILE_RAW, strlen(HOSTILE_RAW));
	put_artifact(exp, run, "data/table.csv", "a,b\n1,2\n", 8);
	put_artifact(exp, run, "data/sub/big.bin", bin, sizeof(bin));
	put_artifact(exp, run, "large.txt", large, sizeof(large));

	/* the tree: the root lists files with sizes, directories link to their listing */
	b = page(200, "/runs/%s", run);
	ck_assert_ptr_nonnull(strstr(b, ">notes.txt</a></td><td class=\"num\">6 bytes<"));
	ck_assert_ptr_nonnull(strstr(b, ">large.txt</a></td><td class=\"num\">68.4 KiB<"));
	snprintf(path, sizeof(path), "href=\"/runs/%s&#x3F;path&#x3D;data&#x23;artifacts\">data/</a>",
	    run);
	ck_assert_msg(strstr(b, path) != NULL, "no link to data/");
	snprintf(path, sizeof(path), "href=\"/runs/%s/artifacts/notes.txt\" download>", run);
	ck_assert_msg(strstr(b, path) != NULL, "no download link");
	ck_assert_ptr_nonnull(strstr(b, HOSTILE_NAME_ESC));
	ck_assert_ptr_null(strstr(b, "<img src=x"));
	ck_assert_ptr_nonnull(strstr(b, "action=\"/runs/"));          /* the register form */
	free(b);
	/* a subdirectory, two levels down, with breadcrumbs back up */
	b = page(200, "/runs/%s?path=data", run);
	ck_assert_ptr_nonnull(strstr(b, ">table.csv</a></td><td class=\"num\">8 bytes<"));
	ck_assert_ptr_nonnull(strstr(b, ">sub/</a>"));
	ck_assert_ptr_null(strstr(b, "notes.txt"));
	free(b);
	b = page(200, "/runs/%s?path=data%%2Fsub", run);
	ck_assert_ptr_nonnull(strstr(b, ">big.bin</a></td><td class=\"num\">2.9 KiB<"));
	snprintf(path, sizeof(path), "<a href=\"/runs/%s&#x3F;path&#x3D;data&#x23;artifacts\">data</a> / "
	    "<span aria-current=\"page\">sub</span>", run);
	ck_assert_msg(strstr(b, path) != NULL, "breadcrumbs: %s", strstr(b, "tree-crumbs"));
	free(b);
	free(page(404, "/runs/%s?path=nothing-here", run));
	free(page(400, "/runs/%s?path=data/../../x", run));
	/* the empty state */
	b = page(200, "/runs/%s", empty);
	ck_assert_ptr_nonnull(strstr(b, "No artifacts. Log them with <code>mlflow.log_artifact"
	    "</code> or <code>verdict train</code>."));
	ck_assert_ptr_null(strstr(b, "/register\""));                  /* nothing to register */
	free(b);

	/* downloads: the exact bytes, as an attachment nobody sniffs */
	snprintf(path, sizeof(path), "/runs/%s/artifacts/data/sub/big.bin", run);
	ck_assert_int_eq(fx_call(hdr, "GET", path, NULL, NULL, &r), 200);
	ck_assert_uint_eq(r.body_len, sizeof(bin));
	ck_assert(memcmp(r.body, bin, sizeof(bin)) == 0);
	ck_assert_str_eq(http_header(&r, "Content-Type", ct, sizeof(ct)),
	    "application/octet-stream");
	ck_assert_str_eq(http_header(&r, "Content-Disposition", disp, sizeof(disp)),
	    "attachment; filename=\"big.bin\"");
	ck_assert_str_eq(http_header(&r, "X-Content-Type-Options", ct, sizeof(ct)), "nosniff");
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/runs/%s/artifacts/%s", run, HOSTILE_NAME_URL);
	ck_assert_int_eq(fx_call(hdr, "GET", path, NULL, NULL, &r), 200);
	ck_assert_str_eq(r.body, HOSTILE_RAW);
	ck_assert_str_eq(http_header(&r, "Content-Disposition", disp, sizeof(disp)),
	    "attachment; filename=\"<img src=x onerror=alert(1)>_'.txt\"");
	http_resp_free(&r);
	ck_assert_int_eq(get_as(hdr, pathf(path, sizeof(path), "/runs/%s/artifacts/"
	    "missing.txt", run)), 404);
	ck_assert_int_eq(get_as(hdr, pathf(path, sizeof(path), "/runs/%s/artifacts/"
	    "data/%%2e%%2e/notes.txt", run)), 400);

	/* previews: small text escaped in <pre>; binary and large files say why not */
	b = page(200, "/runs/%s/preview/notes.txt", run);
	ck_assert_ptr_nonnull(strstr(b, "<pre class=\"preview\">hello\n</pre>"));
	free(b);
	b = page(200, "/runs/%s/preview/%s", run, HOSTILE_NAME_URL);
	ck_assert_ptr_nonnull(strstr(b, "<pre class=\"preview\">&lt;script&gt;alert(1)&lt;/script"
	    "&gt;&quot;&#39;</pre>"));
	ck_assert_ptr_nonnull(strstr(b, HOSTILE_NAME_ESC));
	ck_assert_ptr_null(strstr(b, HOSTILE_RAW));
	ck_assert_ptr_null(strstr(b, "<img src=x"));
	free(b);
	b = page(200, "/runs/%s/preview/data/sub/big.bin", run);
	ck_assert_ptr_null(strstr(b, "<pre"));
	ck_assert_ptr_nonnull(strstr(b, "binary file"));
	free(b);
	b = page(200, "/runs/%s/preview/large.txt", run);
	ck_assert_ptr_null(strstr(b, "<pre"));
	ck_assert_ptr_nonnull(strstr(b, "It is 68.4 KiB; files up to 64 KiB are shown here."));
	free(b);
	free(page(404, "/runs/%s/preview/missing.txt", run));

	/* without READ on the experiment: the page, the preview and the download are 404 */
	ck_assert_int_eq(get_as(other_hdr, pathf(path, sizeof(path), "/runs/%s",
	    run)), 200);
	shut_out(exp);
	ck_assert_int_eq(get_as(other_hdr, pathf(path, sizeof(path), "/runs/%s",
	    run)), 404);
	ck_assert_int_eq(get_as(other_hdr, pathf(path, sizeof(path), "/runs/%s/preview/"
	    "notes.txt", run)), 404);
	ck_assert_int_eq(get_as(other_hdr, pathf(path, sizeof(path), "/runs/%s/"
	    "artifacts/notes.txt", run)), 404);
	ck_assert_int_eq(get_as(other_hdr, pathf(path, sizeof(path), "/runs/%s/"
	    "artifacts/missing.txt", run)), 404);
}
END_TEST

/* POSTs a JSON body to /api/models/<model>/versions as the account of h; status and body. */
static long
version_from_run(const char *h, const char *model, const char *run, const char *apath,
    const char *extra, json_t **out)
{
	char path[512], body[1024];
	struct http_resp r;
	long st;

	snprintf(path, sizeof(path), "/api/models/%s/versions", model);
	snprintf(body, sizeof(body), "{\"run_id\":\"%s\",\"artifact_path\":\"%s\"%s}", run, apath,
	    extra ? extra : "");
	st = fx_call(h, "POST", path, "application/json", body, &r);
	if (out != NULL)
		*out = http_json(&r);
	else
		fprintf(stderr, "# %s -> %ld %s\n", path, st, r.body);
	http_resp_free(&r);
	return st;
}

/* The versions of a model as the test user sees them; -1 when it does not exist. */
static int
nversions(const char *model)
{
	char path[512];
	struct http_resp r;
	json_t *j;
	int n;

	snprintf(path, sizeof(path), "/api/models/%s", model);
	if (fx_call(hdr, "GET", path, NULL, NULL, &r) == 404) {
		http_resp_free(&r);
		return -1;
	}
	ck_assert_int_eq(r.status, 200);
	j = http_json(&r);
	n = (int)json_array_size(json_object_get(j, "versions"));
	json_decref(j);
	http_resp_free(&r);
	return n;
}

/* One prediction of {"a": 0.3, "b": 0.7} by model's latest version. */
static double
predict_one(const char *model)
{
	char path[512];
	struct http_resp r;
	json_t *j;
	double v;

	snprintf(path, sizeof(path), "/api/models/%s/predict", model);
	ck_assert_int_eq(fx_call(hdr, "POST", path, "application/json", "{\"inputs\":{\"a\":0.3,"
	    "\"b\":0.7}}", &r), 200);
	j = http_json(&r);
	v = json_number_value(json_object_get(json_array_get(json_object_get(j, "predictions"),
	    0), "value"));
	json_decref(j);
	http_resp_free(&r);
	return v;
}

START_TEST(register_from_run)
{
	static const char spec[] = "{\"task\":\"regression\",\"inputs\":[{\"name\":\"a\","
	    "\"type\":\"number\"},{\"name\":\"b\",\"type\":\"number\"}],\"features\":"
	    "[{\"input\":\"a\"},{\"input\":\"b\"}]}";
	static const char spec3[] = "{\"task\":\"regression\",\"inputs\":[{\"name\":\"a\","
	    "\"type\":\"number\"},{\"name\":\"b\",\"type\":\"number\"},{\"name\":\"c\","
	    "\"type\":\"number\"}],\"features\":[{\"input\":\"a\"},{\"input\":\"b\"},"
	    "{\"input\":\"c\"}]}";
	/* as verdict train writes it: an xgboost flavor, the spec named in metadata only */
	static const char mlmodel[] = "artifact_path: model\nflavors:\n  xgboost:\n"
	    "    data: model.json\n    model_format: json\nmetadata:\n  verdict_spec: spec.json\n";
	float x[40], y[20];
	char base[64], exp[32], run[40], m_form[80], m_json[80], m_copy[80], m_none[80];
	char csrf[128], form[512], loc[512], want[512], *booster, *b;
	struct fx_jar jar;
	struct http_resp r;
	json_t *j;
	size_t blen;

	for (int i = 0; i < 20; i++) {
		x[2 * i] = (float)i / 20;
		x[2 * i + 1] = (float)((i * 7) % 20) / 20;
		y[i] = 3 * x[2 * i] - x[2 * i + 1];
	}
	booster = fx_train(x, y, 20, 2, "reg:squarederror", 0, 10, &blen);
	uniq(base, sizeof(base), "regrun");
	snprintf(m_form, sizeof(m_form), "%s-form", base);
	snprintf(m_json, sizeof(m_json), "%s-json", base);
	snprintf(m_copy, sizeof(m_copy), "%s-copy", base);
	snprintf(m_none, sizeof(m_none), "%s-none", base);
	mkexp(base, exp, sizeof(exp));
	mkrun(exp, "trained", NULL, run, sizeof(run));
	put_artifact(exp, run, "model/MLmodel", mlmodel, strlen(mlmodel));
	put_artifact(exp, run, "model/model.json", booster, blen);
	put_artifact(exp, run, "model/spec.json", spec, strlen(spec));
	/* without an MLmodel: model.json beside a spec whose width is wrong */
	put_artifact(exp, run, "wide/model.json", booster, blen);
	put_artifact(exp, run, "wide/spec.json", spec3, strlen(spec3));
	put_artifact(exp, run, "junk/model.json", "not a booster", 13);
	put_artifact(exp, run, "junk/spec.json", spec, strlen(spec));

	/* the run page's form, with its CSRF token: a new model, in Staging, 303 to the version */
	fx_html_login(&jar, csrf, user);
	fx_get_csrf(&jar, pathf(loc, sizeof(loc), "/runs/%s", run), csrf);
	snprintf(form, sizeof(form), "csrf_token=%s&name=%s&artifact_path=model&stage=Staging",
	    csrf, m_form);
	fx_jar_form(&jar, pathf(loc, sizeof(loc), "/runs/%s/register", run), form, &r);
	ck_assert_msg(r.status == 303, "register form: %ld %s", r.status, r.body);
	snprintf(want, sizeof(want), "/models/%s/versions/1", m_form);
	ck_assert_str_eq(http_header(&r, "Location", loc, sizeof(loc)), want);
	http_resp_free(&r);
	/* without the token: refused, nothing stored */
	snprintf(form, sizeof(form), "name=%s-nocsrf&artifact_path=model", base);
	fx_jar_form(&jar, pathf(loc, sizeof(loc), "/runs/%s/register", run), form, &r);
	ck_assert_int_eq(r.status, 403);
	http_resp_free(&r);
	ck_assert_int_eq(nversions(pathf(loc, sizeof(loc), "%s-nocsrf", base)), -1);

	/* JSON: the same run's model under another name */
	ck_assert_int_eq(version_from_run(hdr, m_json, run, "model", NULL, &j), 201);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "version")), 1);
	json_decref(j);
	/* and a multipart copy of the same booster and spec */
	fx_model(hdr, m_copy, booster, blen, spec);
	ck_assert(predict_one(m_json) == predict_one(m_copy));
	ck_assert(predict_one(m_form) == predict_one(m_copy));
	for (int k = 0; k < 2; k++) {
		const char *m = k ? m_json : m_form;
		json_t *v;

		ck_assert_int_eq(fx_call(hdr, "GET", pathf(loc, sizeof(loc), "/api/models/%s", m),
		    NULL, NULL, &r), 200);
		j = http_json(&r);
		v = json_array_get(json_object_get(j, "versions"), 0);
		ck_assert_str_eq(json_string_value(json_object_get(v, "run_id")), run);
		ck_assert_str_eq(json_string_value(json_object_get(v, "stage")), k ? "None" :
		    "Staging");
		snprintf(want, sizeof(want), "runs:/%s/model", run);
		ck_assert_str_eq(json_string_value(json_object_get(v, "source")), want);
		json_decref(j);
		http_resp_free(&r);
	}
	/* both ways linked: the run lists its versions, a version links to its run */
	b = page(200, "/runs/%s", run);
	ck_assert_ptr_nonnull(strstr(b, pathf(want, sizeof(want), "href=\"/models/%s/versions/1\"",
	    m_form)));
	ck_assert_ptr_nonnull(strstr(b, pathf(want, sizeof(want), "href=\"/models/%s/versions/1\"",
	    m_json)));
	free(b);
	b = page(200, "/models/%s/versions/1", m_form);
	ck_assert_ptr_nonnull(strstr(b, pathf(want, sizeof(want), "href=\"/runs/%s\"", run)));
	free(b);

	/* wrong: no model there (404), a width mismatch, a booster that does not load (400) */
	ck_assert_int_eq(version_from_run(hdr, m_none, run, "nowhere", NULL, &j), 404);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "message")),
	    "no MLmodel, model.ubj or model.json"));
	json_decref(j);
	ck_assert_int_eq(version_from_run(hdr, m_none, run, "wide", NULL, &j), 400);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "message")), "3"));
	json_decref(j);
	ck_assert_int_eq(version_from_run(hdr, m_none, run, "junk", NULL, NULL), 400);
	ck_assert_int_eq(version_from_run(hdr, m_json, run, "wide", NULL, NULL), 400);
	ck_assert_int_eq(version_from_run(hdr, m_none, run, "../x", NULL, NULL), 400);
	ck_assert_int_eq(version_from_run(hdr, "-bad", run, "model", NULL, NULL), 400);
	ck_assert_int_eq(version_from_run(hdr, m_none, "0123456789abcdef0123456789abcdef",
	    "model", NULL, NULL), 404);
	ck_assert_int_eq(version_from_run(hdr, m_json, run, "model", ",\"booster\":\"x\"", NULL),
	    400);
	ck_assert_int_eq(nversions(m_none), -1);                       /* not even the model */
	ck_assert_int_eq(nversions(m_json), 1);
	/* the form's errors are pages naming the problem, nothing stored */
	snprintf(form, sizeof(form), "csrf_token=%s&name=%s&artifact_path=wide", csrf, m_none);
	fx_jar_form(&jar, pathf(loc, sizeof(loc), "/runs/%s/register", run), form, &r);
	ck_assert_int_eq(r.status, 400);
	ck_assert_ptr_nonnull(strstr(r.body, "<!doctype html>"));
	http_resp_free(&r);
	ck_assert_int_eq(nversions(m_none), -1);

	/* rights: the outsider may read the run but not edit the model (403); then not read the run (404) */
	api("/api/2.0/mlflow/registered-models/permissions/create", NULL, "{\"name\":\"%s\","
	    "\"username\":\"%s\",\"permission\":\"READ\"}", m_json, other_user);
	ck_assert_int_eq(version_from_run(other_hdr, m_json, run, "model", NULL, NULL), 403);
	ck_assert_int_eq(nversions(m_json), 1);
	shut_out(exp);
	ck_assert_int_eq(version_from_run(other_hdr, m_none, run, "model", NULL, NULL), 404);
	ck_assert_int_eq(nversions(m_none), -1);
	free(booster);
}
END_TEST

/* ---- charts of large histories: block summaries (chart_summary_min_points = SUMMARY_MIN) ---- */

#define SUMMARY_MIN 1000     /* main() sets VERDICT_CHART_SUMMARY_MIN_POINTS to it */

/* A value for step s of the summarized history: NaN and ±Infinity now and then. */
static const char *
summary_value(int s, char *buf, size_t len)
{
	if (s % 97 == 13)
		return "\"NaN\"";
	if (s % 211 == 5)
		return s % 2 ? "\"Infinity\"" : "\"-Infinity\"";
	snprintf(buf, len, "%.17g", 1.0 / (1 + s / 100.0) + (s % 11) * 0.0037);
	return buf;
}

/* What a chart must report for the finite points logged. */
struct facts {
	long long n;
	double lo, hi;
};

static void
facts_add(struct facts *f, const char *v)
{
	double d;

	if (v[0] == '"')
		return;
	d = strtod(v, NULL);
	if (f->n == 0 || d < f->lo)
		f->lo = d;
	if (f->n == 0 || d > f->hi)
		f->hi = d;
	f->n++;
}

/* Logs steps [from, to) of the history (values from summary_value, or v when
 * not NULL) through runs/log-batch, 1000 points a request. */
static void
log_steps(const char *run, int from, int to, const char *v, struct facts *f)
{
	static char metrics[1 << 17];

	for (int s0 = from; s0 < to; s0 += 1000) {
		size_t n = 0;

		for (int s = s0; s < to && s < s0 + 1000; s++) {
			char num[40];
			const char *val = v != NULL ? v : summary_value(s, num, sizeof(num));

			facts_add(f, val);
			n += (size_t)snprintf(metrics + n, sizeof(metrics) - n, "%s{\"key\":\"loss\","
			    "\"value\":%s,\"timestamp\":%lld,\"step\":%d}", s > s0 ? "," : "", val,
			    1700000000000LL + s * 1000LL, s);
		}
		api("/api/2.0/mlflow/runs/log-batch", NULL, "{\"run_id\":\"%s\",\"metrics\":[%s]}",
		    run, metrics);
	}
}

/* The chart page's point total and exact extremes (data-min, data-max) for x. */
static struct facts
chart_facts(const char *run, const char *x)
{
	struct facts f = { 0, 0, 0 };
	char *b = page(200, "/runs/%s/metrics/loss?x=%s", run, x);
	const char *p;

	ck_assert_ptr_nonnull(p = strstr(b, " data-min=\""));
	f.lo = strtod(p + 11, NULL);
	ck_assert_ptr_nonnull(p = strstr(b, " data-max=\""));
	f.hi = strtod(p + 11, NULL);
	ck_assert_ptr_nonnull(p = strchr(p, '>'));
	f.n = strtoll(p + 1, NULL, 10);
	ck_assert_msg(!strncmp(strchr(p, ' '), " points, from ", 14), "%.80s", p);
	free(b);
	return f;
}

/* One row of SQL about run's "loss" summary, as text (caller frees). */
static char *
summary_sql(const char *sql, const char *run)
{
	PGconn *db = fx_db();
	const char *v[1] = { run };
	PGresult *res = PQexecParams(db, sql, 1, NULL, v, NULL, NULL, 0);
	char *out;

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1, "%s: %s",
	    sql, PQerrorMessage(db));
	out = strdup(PQgetisnull(res, 0, 0) ? "null" : PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(db);
	return out;
}

/* The page equals the logged facts, and the summary (not the exact path) drew it:
 * it covers every finite point, in blocks of 64 that add up. */
static void
chart_matches(const char *run, const struct facts *want)
{
	const char *xs[2] = { "step", "time" };
	char *s;

	for (int i = 0; i < 2; i++) {
		struct facts got = chart_facts(run, xs[i]);

		ck_assert_int_eq(got.n, want->n);
		ck_assert_msg(got.lo == want->lo && got.hi == want->hi, "x=%s: page %.17g..%.17g, "
		    "logged %.17g..%.17g", xs[i], got.lo, got.hi, want->lo, want->hi);
	}
	s = summary_sql("SELECT s.n || ' ' || l.n || ' ' || (SELECT count(*) || ' ' || sum(b.n) "
	    "|| ' ' || count(*) FILTER (WHERE b.n = 64) || ' ' || max(b.block) FROM metric_blocks b "
	    "WHERE b.run_uuid = $1 AND b.key = 'loss') FROM metric_summaries s JOIN latest_metrics l "
	    "USING (run_uuid, key) WHERE s.run_uuid = $1 AND s.key = 'loss'", run);
	{
		long long blocks = (want->n + 63) / 64;
		char exp[160];

		snprintf(exp, sizeof(exp), "%lld %lld %lld %lld %lld %lld", want->n, want->n, blocks,
		    want->n, want->n / 64, blocks - 1);
		ck_assert_str_eq(s, exp);
	}
	free(s);
	/* every block as the test computes it from the points: same extent and aggregates */
	s = summary_sql("WITH p AS (SELECT step, timestamp, value, row_number() OVER (ORDER BY "
	    "step, timestamp, value) - 1 AS o FROM metrics WHERE run_uuid = $1 AND key = 'loss' "
	    "AND NOT is_nan AND value > '-Infinity' AND value < 'Infinity'), "
	    "want AS (SELECT o / 64 AS block, count(*) AS n, min(step) AS s0, max(step) AS s1, "
	    "min(timestamp) AS t0, max(timestamp) AS t1, min(value) AS lo, max(value) AS hi, "
	    "sum(value) AS sum FROM p GROUP BY 1), "
	    "got AS (SELECT * FROM metric_blocks WHERE run_uuid = $1 AND key = 'loss') "
	    "SELECT count(*)::text FROM want w FULL JOIN got g USING (block) WHERE "
	    "(w.n, w.s0, w.s1, w.t0, w.t1, w.lo, w.hi) IS DISTINCT FROM "
	    "(g.n, g.step_lo, g.step_hi, g.ts_lo, g.ts_hi, g.vmin, g.vmax) "
	    "OR abs(w.sum - g.vsum) > 1e-9 * greatest(1, abs(w.sum))", run);
	ck_assert_msg(!strcmp(s, "0"), "%s blocks differ from the points", s);
	free(s);
}

/* Block 0's row version: the same after an incremental refresh, new after a rebuild. */
static char *
block0_version(const char *run)
{
	return summary_sql("SELECT xmin::text FROM metric_blocks WHERE run_uuid = $1 AND "
	    "key = 'loss' AND block = 0", run);
}

START_TEST(metric_chart_summary)
{
	char name[64], exp[32], run[40], *v0, *v1;
	struct facts f = { 0, 0, 0 };
	pid_t kids[3];

	uniq(name, sizeof(name), "summary");
	mkexp(name, exp, sizeof(exp));
	mkrun(exp, "large", NULL, run, sizeof(run));
	/* below the threshold: the exact path, no summary */
	log_steps(run, 0, SUMMARY_MIN / 2, NULL, &f);
	{
		struct facts got = chart_facts(run, "step");

		ck_assert_int_eq(got.n, f.n);
		ck_assert(got.lo == f.lo && got.hi == f.hi);
	}
	v0 = summary_sql("SELECT count(*)::text FROM metric_summaries WHERE run_uuid = $1", run);
	ck_assert_str_eq(v0, "0");
	free(v0);
	/* a few thousand points: summarized (a first build) */
	log_steps(run, SUMMARY_MIN / 2, 3000, NULL, &f);
	v0 = summary_sql("SELECT n::text FROM latest_metrics WHERE run_uuid = $1 AND key = 'loss'",
	    run);
	ck_assert_int_eq(strtoll(v0, NULL, 10), f.n);
	free(v0);
	chart_matches(run, &f);
	/* appended at later steps, a new largest value among them: incremental */
	v0 = block0_version(run);
	log_steps(run, 3000, 3100, NULL, &f);
	log_steps(run, 3100, 3101, "41.5", &f);
	log_steps(run, 3101, 3137, NULL, &f);
	chart_matches(run, &f);
	ck_assert_msg(f.hi == 41.5, "%g", f.hi);
	v1 = block0_version(run);
	ck_assert_str_eq(v0, v1);
	free(v1);
	/* a point inside the covered range with a new smallest value: rebuilt */
	log_steps(run, 1500, 1501, "-7.25", &f);
	chart_matches(run, &f);
	ck_assert_msg(f.lo == -7.25, "%g", f.lo);
	v1 = block0_version(run);
	ck_assert_str_ne(v0, v1);
	free(v0);
	free(v1);
	/* another at the very step and time of the last covered point: rebuilt too */
	log_steps(run, 3136, 3137, "0.125", &f);
	chart_matches(run, &f);
	/* stale, and four requests at once: one refreshes, none doubles a block */
	log_steps(run, 3137, 3900, NULL, &f);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_ge(kids[i] = fork(), 0);
		if (kids[i] == 0) {
			struct http_resp r;
			char path[128];

			snprintf(path, sizeof(path), "/runs/%s/metrics/loss", run);
			_exit(fx_call(hdr, "GET", path, NULL, NULL, &r) == 200 ? 0 : 1);
		}
	}
	chart_matches(run, &f);
	for (int i = 0; i < 3; i++) {
		int st;

		ck_assert_int_eq(waitpid(kids[i], &st, 0), kids[i]);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	chart_matches(run, &f);
	/* deleting the run by hand takes its summary along */
	v0 = summary_sql("WITH d AS (DELETE FROM runs WHERE run_uuid = $1 RETURNING 1) "
	    "SELECT count(*)::text FROM d", run);
	free(v0);
	v0 = summary_sql("SELECT ((SELECT count(*) FROM metric_blocks WHERE run_uuid = $1) + "
	    "(SELECT count(*) FROM metric_summaries WHERE run_uuid = $1))::text", run);
	ck_assert_str_eq(v0, "0");
	free(v0);
}
END_TEST

/* <time> carries ISO 8601 UTC in datetime; its text says UTC until static/time.js rewrites it. */
START_TEST(times_in_time_elements)
{
	char name[64], exp[32], run[40], *b;
	json_t *j;

	uniq(name, sizeof(name), "times");
	mkexp(name, exp, sizeof(exp));
	api("/api/2.0/mlflow/runs/create", &j, "{\"experiment_id\":\"%s\",\"run_name\":\"t\","
	    "\"start_time\":1700000000000}", exp);
	snprintf(run, sizeof(run), "%s", json_string_value(json_object_get(json_object_get(
	    json_object_get(j, "run"), "info"), "run_id")));
	json_decref(j);
	api("/api/2.0/mlflow/runs/update", NULL, "{\"run_id\":\"%s\",\"status\":\"FINISHED\","
	    "\"end_time\":1700000065000}", run);
	b = page(200, "/runs/%s", run);
	ck_assert_ptr_nonnull(strstr(b, "<time datetime=\"2023-11-14T22:13:20Z\" title=\""
	    "2023-11-14T22:13:20Z\">2023-11-14 22:13 UTC</time>"));
	ck_assert_ptr_nonnull(strstr(b, ">2023-11-14 22:14 UTC</time>"));
	ck_assert_ptr_nonnull(strstr(b, "<script src=\"/static/time.js\" defer></script>"));
	free(b);
	b = page(200, "/experiments/%s", exp);
	ck_assert_ptr_nonnull(strstr(b, ">2023-11-14 22:13 UTC</time>"));
	free(b);
	b = page(200, "/experiments");
	ck_assert_int_ge(count(b, " UTC</time>"), 1);
	ck_assert_int_eq(count(b, "<time datetime=\""), count(b, " UTC</time>"));
	free(b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("browse");
	TCase *tc = tcase_create("browse");
	SRunner *sr;
	int failed;

	if (system("tidy -v >/dev/null 2>&1") != 0) {
		fprintf(stderr, "test_browse: tidy is missing (deploy/install-deps installs it)\n");
		return 99;
	}
	/* Histories from SUMMARY_MIN finite points on are drawn from block summaries. */
	{
		char v[16];

		snprintf(v, sizeof(v), "%d", SUMMARY_MIN);
		setenv("VERDICT_CHART_SUMMARY_MIN_POINTS", v, 1);
	}
	if (harness_start() == -1)
		return 99;
	snprintf(user, sizeof(user), "browser%d", (int)getpid());
	snprintf(other_user, sizeof(other_user), "outsider%d", (int)getpid());
	if (fx_account(user, 0, hdr, sizeof(hdr)) == -1 ||
	    fx_account(other_user, 0, other_hdr, sizeof(other_hdr)) == -1)
		return 99;
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, experiments_list_create_delete_restore);
	tcase_add_test(tc, runs_table_filter_sort_pages);
	tcase_add_test(tc, csv_export);
	tcase_add_test(tc, run_page);
	tcase_add_test(tc, metric_chart_downsampled);
	tcase_add_test(tc, metric_chart_summary);
	tcase_add_test(tc, sparklines_follow_the_history);
	tcase_add_test(tc, compare_runs);
	tcase_add_test(tc, hostile_names_render_as_text);
	suite_add_tcase(s, tc);
	/* the run page's artifacts, registering from a run, times (CK_RUN_CASE=runpage) */
	tc = tcase_create("runpage");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, artifact_browser);
	tcase_add_test(tc, register_from_run);
	tcase_add_test(tc, times_in_time_elements);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
