/* metrics.c: Prometheus metrics — per-thread counters written without locks on the request path and summed when /metrics is scraped. */
#include "metrics.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "db.h"
#include "log.h"
#include "model.h"
#include "predlog.h"
#include "router.h"

/* Upper bounds of the duration buckets, in microseconds (0.5 ms … 10 s). */
static const long long bucket_us[] = { 500, 1000, 2500, 5000, 10000, 25000, 50000,
	100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000 };
#define NBUCKETS (sizeof(bucket_us) / sizeof(bucket_us[0]))

/* The status codes verdict answers; anything else counts as "other". */
static const int codes[] = { 200, 201, 204, 301, 302, 303, 304, 400, 401, 403, 404, 405,
	409, 411, 413, 415, 429, 500, 502, 503 };
#define NCODES (sizeof(codes) / sizeof(codes[0]))

struct hist {
	unsigned long long b[NBUCKETS + 1];   /* the last: +Inf only */
	unsigned long long count, sum_us;
};

struct vstat {
	long long vid;                         /* 0: free slot */
	unsigned long long predictions, feedback;
	struct hist h;
};

/*
 * One worker's counters. Only its thread writes them (relaxed atomic
 * stores, so a scrape reads whole values); the scrape sums every thread's.
 */
struct tstat {
	unsigned long long (*req)[NCODES + 1];     /* [route][code] */
	struct hist *rh;                           /* [route] */
	struct vstat v[METRICS_VERSIONS + 1];      /* the last: every other version */
	struct tstat *next;
};

static size_t nroute;                   /* routes + 1 (unmatched) */
static time_t started;
static struct tstat *threads;           /* pushed once per thread, never freed */
static pthread_mutex_t threads_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread struct tstat *mine;

#define ADD(p, n) __atomic_store_n(&(p), (p) + (n), __ATOMIC_RELAXED)
#define GET(p) __atomic_load_n(&(p), __ATOMIC_RELAXED)

void
metrics_init(size_t n)
{
	nroute = n + 1;
	started = time(NULL);
}

/* This thread's block, created on first use (the only lock, once per thread). */
static struct tstat *
me(void)
{
	struct tstat *t;

	if (mine != NULL || nroute == 0)
		return mine;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->req = calloc(nroute, sizeof(*t->req));
	t->rh = calloc(nroute, sizeof(*t->rh));
	if (t->req == NULL || t->rh == NULL) {
		free(t->req);
		free(t->rh);
		free(t);
		return NULL;
	}
	pthread_mutex_lock(&threads_lock);
	t->next = threads;
	__atomic_store_n(&threads, t, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&threads_lock);
	return mine = t;
}

static void
observe(struct hist *h, long long us)
{
	size_t i = 0;

	while (i < NBUCKETS && us > bucket_us[i])
		i++;
	ADD(h->b[i], 1);
	ADD(h->count, 1);
	ADD(h->sum_us, (unsigned long long)(us > 0 ? us : 0));
}

void
metrics_request(size_t route, int status, long long duration_us)
{
	struct tstat *t = me();
	size_t c = 0;

	if (t == NULL)
		return;
	if (route >= nroute)
		route = nroute - 1;
	while (c < NCODES && codes[c] != status)
		c++;
	ADD(t->req[route][c], 1);
	observe(&t->rh[route], duration_us);
}

/* The slot of a version in this thread's table (open addressing; full: the overflow slot). */
static struct vstat *
vslot(struct tstat *t, long long vid)
{
	size_t h = (size_t)vid % METRICS_VERSIONS;

	for (size_t k = 0; k < METRICS_VERSIONS; k++) {
		struct vstat *v = &t->v[(h + k) % METRICS_VERSIONS];

		if (GET(v->vid) == vid)
			return v;
		if (GET(v->vid) == 0) {
			__atomic_store_n(&v->vid, vid, __ATOMIC_RELEASE);
			return v;
		}
	}
	return &t->v[METRICS_VERSIONS];
}

void
metrics_predictions(long long version_id, size_t n, long long duration_us)
{
	struct tstat *t = me();
	struct vstat *v;

	if (t == NULL)
		return;
	v = vslot(t, version_id);
	ADD(v->predictions, n);
	observe(&v->h, duration_us);
}

void
metrics_feedback(long long version_id, size_t n)
{
	struct tstat *t = me();

	if (t != NULL)
		ADD(vslot(t, version_id)->feedback, n);
}

static void hist_add(struct hist *out, const struct hist *a);

/* The q-quantile (ms) of a histogram, linear within its bucket. */
static double
quantile_ms(const struct hist *h, double q)
{
	double want = q * (double)h->count, cum = 0;

	for (size_t i = 0; i <= NBUCKETS; i++) {
		double lo = i ? bucket_us[i - 1] : 0, hi = i < NBUCKETS ? bucket_us[i] :
		    bucket_us[NBUCKETS - 1];

		if (cum + (double)h->b[i] >= want && h->b[i] > 0)
			return (lo + (hi - lo) * (want - cum) / (double)h->b[i]) / 1000.0;
		cum += (double)h->b[i];
	}
	return bucket_us[NBUCKETS - 1] / 1000.0;
}

unsigned long long
metrics_latency(const long long *vids, size_t n, double *p50, double *p99)
{
	struct hist h;

	memset(&h, 0, sizeof(h));
	for (struct tstat *t = __atomic_load_n(&threads, __ATOMIC_ACQUIRE); t != NULL;
	    t = t->next)
		for (size_t k = 0; k < METRICS_VERSIONS; k++) {
			long long vid = __atomic_load_n(&t->v[k].vid, __ATOMIC_ACQUIRE);

			for (size_t j = 0; vid != 0 && j < n; j++)
				if (vids[j] == vid)
					hist_add(&h, &t->v[k].h);
		}
	if (h.count == 0)
		return 0;
	*p50 = quantile_ms(&h, 0.5);
	*p99 = quantile_ms(&h, 0.99);
	return h.count;
}

/* ---- the scrape ---- */

/* A label value in the exposition format: backslash, quote and newline escaped. */
static int
label(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		const char *e = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;

		if (e != NULL ? buf_adds(b, e) == -1 : buf_addc(b, *s) == -1)
			return -1;
	}
	return 0;
}

static int
hist_lines(struct buf *b, const char *name, const char *labels, const struct hist *h)
{
	unsigned long long cum = 0;

	for (size_t i = 0; i <= NBUCKETS; i++) {
		cum += h->b[i];
		if (i < NBUCKETS) {
			if (buf_printf(b, "%s_bucket{%s,le=\"%g\"} %llu\n", name, labels,
			    bucket_us[i] / 1e6, cum) == -1)
				return -1;
		} else if (buf_printf(b, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels,
		    cum) == -1)
			return -1;
	}
	return buf_printf(b, "%s_sum{%s} %.6f\n%s_count{%s} %llu\n", name, labels,
	    h->sum_us / 1e6, name, labels, h->count);
}

/* Sum of every thread's histogram a (read with relaxed loads) into out. */
static void
hist_add(struct hist *out, const struct hist *a)
{
	for (size_t i = 0; i <= NBUCKETS; i++)
		out->b[i] += GET(a->b[i]);
	out->count += GET(a->count);
	out->sum_us += GET(a->sum_us);
}

/* Process figures from /proc/self. */
static int
process_lines(struct buf *b)
{
	struct rusage ru;
	long rss_pages = 0, page = sysconf(_SC_PAGESIZE);
	FILE *f;
	DIR *d;
	int fds = 0;

	if (getrusage(RUSAGE_SELF, &ru) == 0)
		if (buf_printf(b, "# HELP process_cpu_seconds_total User and system CPU time.\n"
		    "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.6f\n",
		    ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
		    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6) == -1)
			return -1;
	if ((f = fopen("/proc/self/statm", "r")) != NULL) {
		long size;

		if (fscanf(f, "%ld %ld", &size, &rss_pages) != 2)
			rss_pages = 0;
		fclose(f);
	}
	if (buf_printf(b, "# HELP process_resident_memory_bytes Resident set size.\n"
	    "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %ld\n",
	    rss_pages * page) == -1)
		return -1;
	if ((d = opendir("/proc/self/fd")) != NULL) {
		struct dirent *e;

		while ((e = readdir(d)) != NULL)
			fds += e->d_name[0] != '.';
		closedir(d);
		fds--;   /* the directory itself */
	}
	if (buf_printf(b, "# HELP process_open_fds Open file descriptors.\n"
	    "# TYPE process_open_fds gauge\nprocess_open_fds %d\n"
	    "# HELP process_start_time_seconds Start time since the epoch.\n"
	    "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %lld\n",
	    fds, (long long)started) == -1)
		return -1;
	return 0;
}

/* Is the caller allowed: an address in metrics_allow, or the bearer metrics_token? */
static int
allowed(struct req *r)
{
	const struct config *c = &r->app->cfg;
	const char *a = r->authorization;

	if (c->metrics_token[0] != '\0' && a != NULL && !strncasecmp(a, "Bearer ", 7) &&
	    strlen(a + 7) == strlen(c->metrics_token) &&
	    sodium_memcmp(a + 7, c->metrics_token, strlen(c->metrics_token)) == 0)
		return 1;
	if (r->remote_addr != NULL) {
		const char *p = c->metrics_allow;
		size_t n = strlen(r->remote_addr);

		while (*p != '\0') {
			size_t len;

			p += strspn(p, " ,");
			len = strcspn(p, " ,");
			if (len == n && !strncmp(p, r->remote_addr, n))
				return 1;
			p += len;
		}
	}
	return 0;
}

int
api_metrics(struct req *r)
{
	const struct route *rt = r->app->routes != NULL ? r->app->routes : routes;
	size_t nrt = r->app->routes != NULL ? r->app->nroutes : nroutes;
	unsigned long long (*req)[NCODES + 1] = NULL;
	struct hist *rh = NULL, *vh = NULL;
	struct vstat *vs = NULL;
	size_t nv = 0;
	struct buf b, ids;
	PGresult *res = NULL;
	int rc = -1;

	if (!allowed(r)) {
		resp_error(r, 403, "PERMISSION_DENIED", "metrics are open to the addresses in "
		    "metrics_allow, or to Authorization: Bearer <metrics_token>");
		return 0;
	}
	buf_init(&b, 16 << 20);
	buf_init(&ids, 1 << 20);
	req = calloc(nroute, sizeof(*req));
	rh = calloc(nroute, sizeof(*rh));
	vs = calloc(METRICS_VERSIONS * 4, sizeof(*vs));
	vh = calloc(METRICS_VERSIONS * 4, sizeof(*vh));
	if (req == NULL || rh == NULL || vs == NULL || vh == NULL || nroute != nrt + 1)
		goto out;
	/* Sum every thread's counters; versions merge by id. */
	for (struct tstat *t = __atomic_load_n(&threads, __ATOMIC_ACQUIRE); t != NULL;
	    t = t->next) {
		for (size_t i = 0; i < nroute; i++) {
			for (size_t c = 0; c <= NCODES; c++)
				req[i][c] += GET(t->req[i][c]);
			hist_add(&rh[i], &t->rh[i]);
		}
		for (size_t k = 0; k < METRICS_VERSIONS; k++) {
			long long vid = __atomic_load_n(&t->v[k].vid, __ATOMIC_ACQUIRE);
			size_t j;

			if (vid == 0)
				continue;
			for (j = 0; j < nv && vs[j].vid != vid; j++)
				;
			if (j == nv) {
				if (nv == METRICS_VERSIONS * 4)
					continue;
				vs[nv++].vid = vid;
			}
			vs[j].predictions += GET(t->v[k].predictions);
			vs[j].feedback += GET(t->v[k].feedback);
			hist_add(&vh[j], &t->v[k].h);
		}
	}

	if (buf_printf(&b, "# HELP verdict_build_info verdict's version.\n"
	    "# TYPE verdict_build_info gauge\nverdict_build_info{version=\"%s\"} 1\n",
	    r->app->version) == -1)
		goto out;
	if (buf_adds(&b, "# HELP verdict_http_requests_total HTTP requests by route "
	    "template, method and status.\n# TYPE verdict_http_requests_total counter\n") == -1)
		goto out;
	for (size_t i = 0; i < nroute; i++)
		for (size_t c = 0; c <= NCODES; c++) {
			if (req[i][c] == 0)
				continue;
			if (buf_adds(&b, "verdict_http_requests_total{route=\"") == -1 ||
			    label(&b, i < nrt ? rt[i].pattern : "unmatched") == -1 ||
			    buf_printf(&b, "\",method=\"%s\",code=\"", i < nrt ? rt[i].method :
			    "any") == -1 ||
			    (c < NCODES ? buf_printf(&b, "%d", codes[c]) : buf_adds(&b, "other")) == -1 ||
			    buf_printf(&b, "\"} %llu\n", req[i][c]) == -1)
				goto out;
		}
	if (buf_adds(&b, "# HELP verdict_http_request_duration_seconds Time from request "
	    "to response in verdictd, by route template.\n"
	    "# TYPE verdict_http_request_duration_seconds histogram\n") == -1)
		goto out;
	for (size_t i = 0; i < nroute; i++) {
		struct buf l;
		int e;

		if (rh[i].count == 0)
			continue;
		buf_init(&l, 4096);
		e = buf_adds(&l, "route=\"") == -1 || label(&l, i < nrt ? rt[i].pattern :
		    "unmatched") == -1 || buf_printf(&l, "\",method=\"%s\"", i < nrt ?
		    rt[i].method : "any") == -1 ||
		    hist_lines(&b, "verdict_http_request_duration_seconds", buf_str(&l),
		    &rh[i]) == -1;
		buf_free(&l);
		if (e)
			goto out;
	}

	/* Model names and versions for the ids the threads counted. */
	if (buf_addc(&ids, '{') == -1)
		goto out;
	for (size_t j = 0; j < nv; j++)
		if (buf_printf(&ids, "%s%lld", j ? "," : "", vs[j].vid) == -1)
			goto out;
	if (buf_addc(&ids, '}') == -1)
		goto out;
	{
		const char *vals[1] = { buf_str(&ids) };

		if ((res = db_exec(r->db, STMT_METRICS_VERSIONS, 1, vals)) == NULL)
			goto out;
	}
	if (buf_adds(&b, "# HELP verdict_predictions_total Rows predicted, by model version.\n"
	    "# TYPE verdict_predictions_total counter\n") == -1)
		goto out;
	for (int i = 0; i < PQntuples(res); i++)
		for (size_t j = 0; j < nv; j++)
			if (vs[j].vid == atoll(PQgetvalue(res, i, 0)) && vs[j].predictions > 0) {
				if (buf_adds(&b, "verdict_predictions_total{model=\"") == -1 ||
				    label(&b, PQgetvalue(res, i, 1)) == -1 ||
				    buf_printf(&b, "\",version=\"%s\"} %llu\n", PQgetvalue(res, i, 2),
				    vs[j].predictions) == -1)
					goto out;
			}
	if (buf_adds(&b, "# HELP verdict_prediction_duration_seconds Time to predict and "
	    "log one request, by model.\n# TYPE verdict_prediction_duration_seconds histogram\n") == -1)
		goto out;
	/* By model: sum the versions of each name (rows come ordered by name). */
	for (int i = 0; i < PQntuples(res); ) {
		struct hist h;
		struct buf l;
		const char *name = PQgetvalue(res, i, 1);
		int e = 0;

		memset(&h, 0, sizeof(h));
		for (; i < PQntuples(res) && !strcmp(PQgetvalue(res, i, 1), name); i++)
			for (size_t j = 0; j < nv; j++)
				if (vs[j].vid == atoll(PQgetvalue(res, i, 0)))
					hist_add(&h, &vh[j]);
		if (h.count == 0)
			continue;
		buf_init(&l, 4096);
		e = buf_adds(&l, "model=\"") == -1 || label(&l, name) == -1 ||
		    buf_addc(&l, '"') == -1 ||
		    hist_lines(&b, "verdict_prediction_duration_seconds", buf_str(&l), &h) == -1;
		buf_free(&l);
		if (e)
			goto out;
	}
	if (buf_adds(&b, "# HELP verdict_feedback_total Truths recorded, by model version.\n"
	    "# TYPE verdict_feedback_total counter\n") == -1)
		goto out;
	for (int i = 0; i < PQntuples(res); i++)
		for (size_t j = 0; j < nv; j++)
			if (vs[j].vid == atoll(PQgetvalue(res, i, 0)) && vs[j].feedback > 0) {
				if (buf_adds(&b, "verdict_feedback_total{model=\"") == -1 ||
				    label(&b, PQgetvalue(res, i, 1)) == -1 ||
				    buf_printf(&b, "\",version=\"%s\"} %llu\n", PQgetvalue(res, i, 2),
				    vs[j].feedback) == -1)
					goto out;
			}
	PQclear(res);

	/* Live quality of every version with verified rows, per window. */
	if ((res = db_exec(r->db, STMT_METRICS_QUALITY, 0, NULL)) == NULL)
		goto out;
	if (buf_adds(&b, "# HELP verdict_model_quality Live quality from verified "
	    "predictions, by model version, metric and window.\n"
	    "# TYPE verdict_model_quality gauge\n") == -1)
		goto out;
	for (int i = 0; i < PQntuples(res); i++) {
		static const char *const reg[] = { "mae", "rmse", "bias" };
		static const char *const cls[] = { "accuracy", "log_loss" };
		double n = strtod(PQgetvalue(res, i, 4), NULL), m[3];
		int isreg = !strcmp(PQgetvalue(res, i, 3), "regression");

		if (n <= 0)
			continue;
		if (isreg) {
			m[0] = strtod(PQgetvalue(res, i, 6), NULL) / n;
			m[1] = sqrt(strtod(PQgetvalue(res, i, 7), NULL) / n);
			m[2] = strtod(PQgetvalue(res, i, 5), NULL) / n;
		} else {
			m[0] = strtod(PQgetvalue(res, i, 8), NULL) / n;
			m[1] = strtod(PQgetvalue(res, i, 9), NULL) / n;
		}
		for (int k = 0; k < (isreg ? 3 : 2); k++)
			if (buf_adds(&b, "verdict_model_quality{model=\"") == -1 ||
			    label(&b, PQgetvalue(res, i, 0)) == -1 ||
			    buf_printf(&b, "\",version=\"%s\",metric=\"%s\",window=\"%s\"} %.17g\n",
			    PQgetvalue(res, i, 1), isreg ? reg[k] : cls[k], PQgetvalue(res, i, 2),
			    m[k]) == -1)
				goto out;
	}
	PQclear(res);
	res = NULL;

	/* The newest drift report of each version: a score per feature and test
	 * (the p-value for statistical tests, else the distance) and its PSI. */
	if ((res = db_exec(r->db, STMT_METRICS_DRIFT, 0, NULL)) == NULL)
		goto out;
	if (buf_adds(&b, "# HELP verdict_drift_score Newest drift report: p-value of the "
	    "feature's test, or its distance.\n# TYPE verdict_drift_score gauge\n") == -1)
		goto out;
	for (int i = 0; i < PQntuples(res); i++) {
		json_t *d = json_loads(PQgetvalue(res, i, 2), 0, NULL), *f;
		json_t *all = json_array();
		size_t k;

		json_array_extend(all, json_object_get(d, "features"));
		if (json_is_object(json_object_get(d, "prediction")))
			json_array_append(all, json_object_get(d, "prediction"));
		json_array_foreach(all, k, f) {
			json_t *p = json_object_get(f, "p_value");
			const char *name = json_string_value(json_object_get(f, "name"));
			const char *test = json_string_value(json_object_get(f, "test"));
			double v = json_is_number(p) ? json_number_value(p) :
			    json_number_value(json_object_get(f, "distance"));

			if (test == NULL)
				continue;
			if (name == NULL)
				name = k == json_array_size(all) - 1 ? "prediction" : "";
			if (buf_adds(&b, "verdict_drift_score{model=\"") == -1 ||
			    label(&b, PQgetvalue(res, i, 0)) == -1 ||
			    buf_printf(&b, "\",version=\"%s\",feature=\"", PQgetvalue(res, i, 1)) == -1 ||
			    label(&b, name) == -1 || buf_adds(&b, "\",test=\"") == -1 ||
			    label(&b, test) == -1 || buf_printf(&b, "\"} %.17g\n", v) == -1) {
				json_decref(all);
				json_decref(d);
				goto out;
			}
		}
		json_decref(all);
		json_decref(d);
	}
	PQclear(res);
	res = NULL;

	if (buf_printf(&b, "# HELP verdict_models_loaded Model versions held in memory.\n"
	    "# TYPE verdict_models_loaded gauge\nverdict_models_loaded %zu\n"
	    "# HELP verdict_prediction_log_queue_rows Prediction rows waiting for their "
	    "group commit.\n# TYPE verdict_prediction_log_queue_rows gauge\n"
	    "verdict_prediction_log_queue_rows %zu\n"
	    "# HELP verdict_db_connections_up Worker connections to Postgres that are up.\n"
	    "# TYPE verdict_db_connections_up gauge\nverdict_db_connections_up %d\n"
	    "# HELP verdict_threads Worker threads.\n# TYPE verdict_threads gauge\n"
	    "verdict_threads %d\n", model_loaded_count(), predlog_queue_rows(),
	    db_connections_up(), r->app->cfg.threads) == -1)
		goto out;
	if (process_lines(&b) == -1)
		goto out;
	if (resp_header(&r->resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8") == -1 ||
	    buf_add(&r->resp.body, buf_str(&b), b.len) == -1)
		goto out;
	r->resp.has_type = 1;
	r->resp.status = 200;
	rc = 0;
out:
	PQclear(res);
	buf_free(&b);
	buf_free(&ids);
	free(req);
	free(rh);
	free(vs);
	free(vh);
	return rc;
}
