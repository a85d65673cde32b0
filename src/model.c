/* model.c: loaded model versions, their resolution table, prediction through libxgboost, and the registry watcher. */
#include "model.h"

#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "db.h"
#include "log.h"
#include "spec.h"

/* The in-process table: one entry per selector in use, each owning a reference. */
struct entry {
	char name[256];
	enum model_sel sel;
	char value[256];
	struct model *m;
};

static struct entry *table;
static size_t ntable, captable;
static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;

/* "cache_id":0 and "missing":NaN or libxgboost 1.7 rejects in-place prediction. */
static const char predict_config[] =
    "{\"type\":0,\"training\":false,\"iteration_begin\":0,\"iteration_end\":0,"
    "\"strict_shape\":false,\"cache_id\":0,\"missing\":NaN}";

/*
 * Each thread's proxy DMatrix for in-place prediction. Without one,
 * XGBoosterPredictFromDense makes a proxy per call, and libxgboost 1.7's
 * proxy constructor reads the cgroup CPU quota files: an open, read and
 * close per prediction, measured at a tenth of verdictd's CPU per request.
 * The proxy only points at the caller's rows during a call. It is freed by
 * model_thread_done, not by a thread-exit destructor: those run after
 * libxgboost's own thread-local ones, and freeing through its API then
 * registers new ones that never run.
 */
static __thread DMatrixHandle proxy;

/* The calling thread's proxy, made at its first prediction; NULL lets libxgboost make one. */
static DMatrixHandle
thread_proxy(void)
{
	if (proxy == NULL && XGProxyDMatrixCreate(&proxy) != 0)
		proxy = NULL;
	return proxy;
}

void
model_thread_done(void)
{
	if (proxy != NULL)
		XGDMatrixFree(proxy);
	proxy = NULL;
}

/*
 * In-place prediction of nrows dense float rows; *res is libxgboost's
 * thread-local buffer, valid until this thread's next call. 0 or -1.
 */
static int
predict_dense(BoosterHandle b, const float *rows, size_t nrows, size_t width,
    bst_ulong const **shape, bst_ulong *dim, float const **res)
{
	char iface[256];

	snprintf(iface, sizeof(iface), "{\"data\":[%lu,true],\"shape\":[%zu,%zu],"
	    "\"typestr\":\"<f4\",\"version\":3}", (unsigned long)(uintptr_t)rows, nrows,
	    width);
	return XGBoosterPredictFromDense(b, iface, predict_config, thread_proxy(), shape,
	    dim, res) == 0 ? 0 : -1;
}

static void
model_free(struct model *m)
{
	if (m == NULL)
		return;
	if (m->booster != NULL)
		XGBoosterFree(m->booster);
	spec_free(m->spec);
	free(m);
}

void
model_release(struct model *m)
{
	if (m != NULL && __atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) == 0)
		model_free(m);
}

static void
model_ref(struct model *m)
{
	__atomic_add_fetch(&m->refs, 1, __ATOMIC_ACQ_REL);
}

/* Output floats per row, found by predicting one all-missing row. */
static int
output_width(BoosterHandle b, size_t width, size_t *nout, char *err, size_t errlen)
{
	float *row = malloc((width ? width : 1) * sizeof(float));
	bst_ulong const *shape;
	bst_ulong dim;
	float const *res;
	int rc = -1;

	if (row == NULL)
		return -1;
	for (size_t i = 0; i < width; i++)
		row[i] = NAN;
	if (predict_dense(b, row, 1, width, &shape, &dim, &res) == -1) {
		snprintf(err, errlen, "booster cannot predict: %s", XGBGetLastError());
		goto out;
	}
	*nout = 1;
	for (bst_ulong i = 1; i < dim; i++)
		*nout *= shape[i];
	rc = 0;
out:
	free(row);
	return rc;
}

/*
 * libxgboost's messages carry a timestamp, a source path and a stack trace:
 * keep the one line a user can act on.
 */
static const char *
xgb_error(char *dst, size_t len)
{
	const char *e = XGBGetLastError(), *p;
	size_t n;

	if ((p = strstr(e, ": ")) != NULL && e[0] == '[')
		e = strstr(p + 2, ": ") ? strstr(p + 2, ": ") + 2 : p + 2;
	n = strcspn(e, "\n");
	if (n >= len)
		n = len - 1;
	memcpy(dst, e, n);
	dst[n] = '\0';
	return dst;
}

/* Loads booster bytes; NULL with err. */
static BoosterHandle
booster_load(const void *buf, size_t len, char *err, size_t errlen)
{
	BoosterHandle b = NULL;

	if (XGBoosterCreate(NULL, 0, &b) != 0) {
		snprintf(err, errlen, "booster: %s", XGBGetLastError());
		return NULL;
	}
	if (XGBoosterLoadModelFromBuffer(b, buf, (bst_ulong)len) != 0) {
		char why[200];

		snprintf(err, errlen, "booster does not load: %s", xgb_error(why, sizeof(why)));
		XGBoosterFree(b);
		return NULL;
	}
	/* nthread is set once here, never while serving. */
	if (XGBoosterSetParam(b, "nthread", "1") != 0) {
		snprintf(err, errlen, "booster: %s", XGBGetLastError());
		XGBoosterFree(b);
		return NULL;
	}
	return b;
}

/* The objective and class count from the booster's own config. */
static int
booster_objective(BoosterHandle b, char *obj, size_t objlen, int *num_class)
{
	bst_ulong len;
	const char *cfg;
	json_t *j, *o;
	int rc = -1;

	if (XGBoosterSaveJsonConfig(b, &len, &cfg) != 0)
		return -1;
	if ((j = json_loadb(cfg, len, 0, NULL)) == NULL)
		return -1;
	o = json_object_get(json_object_get(json_object_get(j, "learner"), "objective"),
	    "name");
	if (json_is_string(o)) {
		snprintf(obj, objlen, "%s", json_string_value(o));
		o = json_object_get(json_object_get(json_object_get(j, "learner"),
		    "learner_model_param"), "num_class");
		*num_class = json_is_string(o) ? atoi(json_string_value(o)) : 0;
		rc = 0;
	}
	json_decref(j);
	return rc;
}

int
model_objective(const void *buf, size_t len, char *obj, size_t objlen, int *num_class,
    char *err, size_t errlen)
{
	BoosterHandle b;
	int rc = 0;

	if ((b = booster_load(buf, len, err, errlen)) == NULL)
		return -1;
	if (booster_objective(b, obj, objlen, num_class) == -1) {
		snprintf(err, errlen, "cannot read the booster's objective");
		rc = -1;
	}
	XGBoosterFree(b);
	return rc;
}

int
model_validate(const void *buf, size_t len, json_t *spec_json, char fmt[8],
    int *nfeat, char *err, size_t errlen)
{
	BoosterHandle b = NULL;
	struct spec *s = NULL;
	bst_ulong nf = 0;
	size_t nout, width;
	char obj[64] = "";
	int num_class = 0, rc = -1;
	const unsigned char *p = buf;

	if (len < 2 || p[0] != '{') {
		snprintf(err, errlen, "booster must be an XGBoost model saved as JSON or UBJ");
		return -1;
	}
	/* JSON continues with whitespace or a quote; UBJ with a type marker. */
	snprintf(fmt, 8, "%s", (p[1] == '"' || p[1] == ' ' || p[1] == '\n' ||
	    p[1] == '\r' || p[1] == '\t' || p[1] == '}') ? "json" : "ubj");
	if ((s = spec_parse(spec_json, err, errlen)) == NULL)
		return -1;
	if ((b = booster_load(buf, len, err, errlen)) == NULL)
		goto out;
	width = spec_width(s);
	if (XGBoosterGetNumFeature(b, &nf) != 0 || (size_t)nf != width) {
		snprintf(err, errlen, "the booster takes %lu features but the spec produces %zu",
		    (unsigned long)nf, width);
		goto out;
	}
	if (output_width(b, width, &nout, err, errlen) == -1)
		goto out;
	if (booster_objective(b, obj, sizeof(obj), &num_class) == -1) {
		snprintf(err, errlen, "cannot read the booster's objective");
		goto out;
	}
	switch (spec_task(s)) {
	case SPEC_REGRESSION:
		if (nout != 1 || !strncmp(obj, "binary:", 7) || !strncmp(obj, "multi:", 6)) {
			snprintf(err, errlen, "spec task is regression but the booster's "
			    "objective is %s", obj);
			goto out;
		}
		break;
	case SPEC_BINARY:
		if (strcmp(obj, "binary:logistic") != 0 || nout != 1) {
			snprintf(err, errlen, "spec task is binary: the booster's objective "
			    "must be binary:logistic, not %s", obj);
			goto out;
		}
		break;
	case SPEC_MULTICLASS:
		if (strcmp(obj, "multi:softprob") != 0 || (size_t)num_class !=
		    spec_nclasses(s) || nout != spec_nclasses(s)) {
			snprintf(err, errlen, "spec has %zu classes: the booster must be "
			    "multi:softprob with num_class %zu (it is %s with %d)",
			    spec_nclasses(s), spec_nclasses(s), obj, num_class);
			goto out;
		}
		break;
	}
	*nfeat = (int)nf;
	rc = 0;
out:
	if (b != NULL)
		XGBoosterFree(b);
	spec_free(s);
	return rc;
}

/* Loads version id from Postgres into a new model with one reference. */
static struct model *
model_load(struct db *db, long long id, int *status, char *err, size_t errlen)
{
	char idbuf[24];
	const char *vals[1] = { idbuf };
	PGresult *res;
	unsigned char *bytes = NULL;
	size_t len;
	struct model *m = NULL;
	json_t *sj = NULL;

	snprintf(idbuf, sizeof(idbuf), "%lld", id);
	if ((res = db_exec(db, STMT_MODEL_LOAD, 1, vals)) == NULL) {
		*status = 503;
		snprintf(err, errlen, "the database is unavailable");
		return NULL;
	}
	*status = 404;
	if (PQntuples(res) != 1) {
		snprintf(err, errlen, "model version %lld no longer exists", id);
		goto out;
	}
	if (!strcmp(PQgetvalue(res, 0, 4), "t")) {
		/* Registered through MLflow's API without a booster verdict can serve. */
		snprintf(err, errlen, "model '%.100s' version %s is registered without a servable "
		    "booster: %.300s", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
		    PQgetvalue(res, 0, 5));
		goto out;
	}
	*status = 500;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		goto out;
	m->version_id = id;
	snprintf(m->name, sizeof(m->name), "%s", PQgetvalue(res, 0, 0));
	m->version = atoi(PQgetvalue(res, 0, 1));
	bytes = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 2), &len);
	sj = json_loads(PQgetvalue(res, 0, 3), 0, NULL);
	if (bytes == NULL || sj == NULL ||
	    (m->spec = spec_parse(sj, err, errlen)) == NULL ||
	    (m->booster = booster_load(bytes, len, err, errlen)) == NULL ||
	    output_width(m->booster, spec_width(m->spec), &m->nout, err, errlen) == -1) {
		log_msg("error", "loading %s version %d: %s", m->name, m->version, err);
		model_free(m);
		m = NULL;
		goto out;
	}
	m->refs = 1;
	log_msg("info", "loaded model %s version %d (%zu features)", m->name, m->version,
	    spec_width(m->spec));
out:
	PQfreemem(bytes);
	json_decref(sj);
	PQclear(res);
	return m;
}

/* version id for name + selector: >0, 0 when none, -1 when the DB failed. */
static long long
resolve(struct db *db, const char *name, enum model_sel sel, const char *value)
{
	const char *vals[2] = { name, value };
	enum stmt st = STMT_MODEL_RESOLVE_DEFAULT;
	PGresult *res;
	long long id = 0;

	switch (sel) {
	case SEL_VERSION: st = STMT_MODEL_RESOLVE_VERSION; break;
	case SEL_ALIAS: st = STMT_MODEL_RESOLVE_ALIAS; break;
	case SEL_STAGE: st = STMT_MODEL_RESOLVE_STAGE; break;
	case SEL_DEFAULT: break;
	}
	if ((res = db_exec(db, st, sel == SEL_DEFAULT ? 1 : 2, vals)) == NULL)
		return -1;
	if (PQntuples(res) == 1)
		id = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	return id;
}

static struct entry *
find_entry(const char *name, enum model_sel sel, const char *value)
{
	for (size_t i = 0; i < ntable; i++)
		if (table[i].sel == sel && !strcmp(table[i].name, name) &&
		    !strcmp(table[i].value, value))
			return &table[i];
	return NULL;
}

/* A loaded model with that version id, with a new reference; NULL if none. Caller holds the lock. */
static struct model *
find_loaded(long long id)
{
	for (size_t i = 0; i < ntable; i++)
		if (table[i].m != NULL && table[i].m->version_id == id) {
			model_ref(table[i].m);
			return table[i].m;
		}
	return NULL;
}

size_t
model_loaded_count(void)
{
	size_t n = 0;

	pthread_rwlock_rdlock(&table_lock);
	for (size_t i = 0; i < ntable; i++) {
		int dup = 0;

		if (table[i].m == NULL)
			continue;
		for (size_t j = 0; j < i && !dup; j++)
			dup = table[j].m == table[i].m;
		n += !dup;
	}
	pthread_rwlock_unlock(&table_lock);
	return n;
}

struct model *
model_acquire(struct db *db, const char *name, enum model_sel sel,
    const char *value, int *status, char *err, size_t errlen)
{
	struct entry *e;
	struct model *m;
	long long id;

	if (value == NULL)
		value = "";
	pthread_rwlock_rdlock(&table_lock);
	if ((e = find_entry(name, sel, value)) != NULL && e->m != NULL) {
		m = e->m;
		model_ref(m);
		pthread_rwlock_unlock(&table_lock);
		return m;
	}
	pthread_rwlock_unlock(&table_lock);

	/* First use of this selector in this process: resolve and load. */
	if ((id = resolve(db, name, sel, value)) < 0) {
		*status = 503;
		snprintf(err, errlen, "the database is unavailable");
		return NULL;
	}
	if (id == 0) {
		const char *vals[1] = { name };
		PGresult *res = db_exec(db, STMT_MODEL_EXISTS, 1, vals);
		int exists = res != NULL && PQntuples(res) == 1;

		PQclear(res);
		*status = 404;
		if (!exists)
			snprintf(err, errlen, "model '%.100s' does not exist", name);
		else if (sel == SEL_VERSION)
			snprintf(err, errlen, "model '%.100s' has no version %.20s", name, value);
		else if (sel == SEL_ALIAS)
			snprintf(err, errlen, "model '%.100s' has no alias '%.100s'", name, value);
		else if (sel == SEL_STAGE)
			snprintf(err, errlen, "model '%.100s' has no version in stage %.20s",
			    name, value);
		else
			snprintf(err, errlen, "model '%.100s' has no servable version", name);
		return NULL;
	}
	pthread_rwlock_rdlock(&table_lock);
	m = find_loaded(id);
	pthread_rwlock_unlock(&table_lock);
	if (m == NULL && (m = model_load(db, id, status, err, errlen)) == NULL)
		return NULL;
	/* m holds one reference for the caller; the table takes another. */
	pthread_rwlock_wrlock(&table_lock);
	if ((e = find_entry(name, sel, value)) == NULL) {
		if (ntable == captable) {
			size_t nc = captable ? captable * 2 : 16;
			struct entry *nt = realloc(table, nc * sizeof(*nt));

			if (nt == NULL) {
				pthread_rwlock_unlock(&table_lock);
				return m;   /* served, just not cached */
			}
			table = nt;
			captable = nc;
		}
		e = &table[ntable++];
		memset(e, 0, sizeof(*e));
		snprintf(e->name, sizeof(e->name), "%s", name);
		e->sel = sel;
		snprintf(e->value, sizeof(e->value), "%s", value);
	}
	if (e->m != m) {
		struct model *old = e->m;

		model_ref(m);
		e->m = m;
		model_release(old);
	}
	pthread_rwlock_unlock(&table_lock);
	return m;
}

int
model_predict(struct model *m, const float *rows, size_t nrows, float *out)
{
	bst_ulong const *shape;
	bst_ulong dim;
	float const *res;

	if (predict_dense(m->booster, rows, nrows, spec_width(m->spec), &shape, &dim,
	    &res) == -1) {
		log_msg("error", "predict %s v%d: %s", m->name, m->version, XGBGetLastError());
		return -1;
	}
	/* The result buffer is the thread's own until its next xgboost call: copy now. */
	memcpy(out, res, nrows * m->nout * sizeof(float));
	return 0;
}

long
model_contributions(struct model *m, const float *row, float *out, size_t outlen)
{
	DMatrixHandle d = NULL;
	bst_ulong const *shape;
	bst_ulong dim, n = 1;
	float const *res;
	long rc = -1;

	if (XGDMatrixCreateFromMat(row, 1, (bst_ulong)spec_width(m->spec), NAN, &d) != 0)
		return -1;
	if (XGBoosterPredictFromDMatrix(m->booster, d, "{\"type\":2,\"training\":false,"
	    "\"iteration_begin\":0,\"iteration_end\":0,\"strict_shape\":false}", &shape,
	    &dim, &res) != 0)
		goto out;
	for (bst_ulong i = 0; i < dim; i++)
		n *= shape[i];
	if (n > outlen)
		goto out;
	memcpy(out, res, n * sizeof(float));
	rc = (long)n;
out:
	XGDMatrixFree(d);
	return rc;
}

/* ---- the watcher ---- */

static pthread_t watcher;
static volatile int watcher_stop;
static char *watcher_conninfo;

/* Re-resolves every cached selector; new versions are loaded here, off the request path. */
static void
refresh(struct db *db)
{
	size_t n;
	struct entry *copy;

	pthread_rwlock_rdlock(&table_lock);
	n = ntable;
	copy = n ? malloc(n * sizeof(*copy)) : NULL;
	if (copy != NULL)
		memcpy(copy, table, n * sizeof(*copy));
	pthread_rwlock_unlock(&table_lock);
	if (copy == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		long long id = resolve(db, copy[i].name, copy[i].sel, copy[i].value);
		struct model *m = NULL, *old = NULL;
		char err[256];
		int status;
		struct entry *e;

		if (id < 0)
			break;   /* DB away: keep serving what we have */
		if (copy[i].m != NULL && copy[i].m->version_id == id)
			continue;
		if (id > 0) {
			pthread_rwlock_rdlock(&table_lock);
			m = find_loaded(id);
			pthread_rwlock_unlock(&table_lock);
			/* A version that cannot be served (404) clears the selector; else keep the old. */
			if (m == NULL && (m = model_load(db, id, &status, err, sizeof(err))) == NULL &&
			    status != 404)
				continue;
		}
		int newv = m != NULL ? m->version : 0;

		pthread_rwlock_wrlock(&table_lock);
		if ((e = find_entry(copy[i].name, copy[i].sel, copy[i].value)) != NULL) {
			old = e->m;
			e->m = m;     /* NULL: the selector resolves to nothing now */
			m = NULL;
		}
		pthread_rwlock_unlock(&table_lock);
		model_release(m);
		if (old != NULL) {
			log_msg("info", "model %s: %s%s now version %d", copy[i].name,
			    copy[i].sel == SEL_ALIAS ? "@" : "", copy[i].value[0] ?
			    copy[i].value : "default", newv);
			model_release(old);   /* freed when its last request ends */
		}
	}
	free(copy);
}

static void *
watcher_main(void *arg)
{
	struct db *db = db_new(watcher_conninfo);
	int listening = 0;

	(void)arg;
	while (!watcher_stop && db != NULL) {
		PGconn *c;
		PGnotify *nf;
		struct pollfd pfd;
		int changed = 0;

		if (db_ensure(db) == -1) {
			listening = 0;
			usleep(250000);
			continue;
		}
		c = db_conn(db);
		if (!listening) {
			if (db_command(db, "LISTEN verdict_registry") == -1) {
				usleep(250000);
				continue;
			}
			listening = 1;
			refresh(db);   /* changes made while we were not listening */
		}
		pfd.fd = PQsocket(c);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 250) < 0)
			continue;
		if (PQconsumeInput(c) == 0) {
			/*
			 * The connection broke (a Postgres restart): the workers'
			 * connections are dead too, even if nobody has used one yet.
			 */
			db_mark_lost();
			listening = 0;
			if (db_command(db, "LISTEN verdict_registry") == -1)
				usleep(250000);
			continue;
		}
		while ((nf = PQnotifies(c)) != NULL) {
			changed = 1;
			PQfreemem(nf);
		}
		if (changed)
			refresh(db);
	}
	db_free(db);
	model_thread_done();
	return NULL;
}

int
model_watcher_start(const char *conninfo)
{
	if ((watcher_conninfo = strdup(conninfo)) == NULL)
		return -1;
	return pthread_create(&watcher, NULL, watcher_main, NULL) == 0 ? 0 : -1;
}

void
model_watcher_stop(void)
{
	watcher_stop = 1;
	pthread_join(watcher, NULL);
	free(watcher_conninfo);
}
