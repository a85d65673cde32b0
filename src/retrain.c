/* retrain.c: `verdict retrain` — the serving version's data (plus verified feedback) retrained with its spec and params through verdict train, compared with Production on one holdout, promoted only when better; under a lease, with a retrain.result event. */
#include "retrain.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <xgboost/c_api.h>

#include "cli.h"
#include "client.h"
#include "model.h"
#include "params.h"
#include "spec.h"
#include "train.h"

#define CMD "verdict retrain"
#define FEEDBACK_PAGE 1000              /* rows per GET /api/predictions page */
#define FEEDBACK_MAX 10000000           /* feedback rows taken at most */
#define ARGV_MAX 200                    /* arguments handed to verdict train */
#define HOLDOUT_FEEDBACK 0.2            /* the newest share of feedback rows held out */

static const char usage_text[] =
    "usage: verdict retrain --model NAME [--data FILE] [--target COL] [--include-feedback]\n"
    "           [--min-improvement X] [--url URL]\n"
    "           [--token TOKEN | --user USER --password-stdin] [--quiet | --verbose]\n"
    "\n"
    "Retrains NAME's serving version (Production, else the latest) on the data file\n"
    "its run recorded (or FILE) with the same spec and parameters, plus the verified\n"
    "feedback rows of NAME with --include-feedback; registers the candidate in\n"
    "Staging, evaluates it and the Production version on the same holdout (the\n"
    "data's validation share and the newest 20% of the feedback rows), and promotes\n"
    "it to Production only when its metric (regression RMSE, binary and multiclass\n"
    "log loss; lower is better) improves on Production's by at least X, relative\n"
    "(default 0: strictly better). A retrain.result event records the outcome.\n"
    "\n"
    "  --data FILE            train on FILE instead of the run's recorded data file\n"
    "  --target COL           the target column, for a version without a run\n"
    "  --include-feedback     add verified feedback rows (raw inputs + current truth)\n"
    "  --min-improvement X    required relative improvement, e.g. 0.01 for 1%\n"
    "  --url URL              verdict (else $VERDICT_URL, else ./var/stack.env)\n"
    "  --quiet | --verbose    only errors / verdict train's progress and calls\n"
    "\n"
    "Exit status: 0 promoted; 3 not promoted (the candidate stays in Staging with the\n"
    "tag verdict.retrain.reason); 1 a server, the disk or XGBoost failed; 2 bad usage,\n"
    "an unknown model, no data, or a data file that changed since the run; 4 another\n"
    "retrain of the model holds the lock; 130 interrupted.\n";

struct ropts {
	const char *model, *data, *target;
	double min_imp;
	int feedback, quiet, verbose;
	struct cli_remote rm;
};

/* What the serving version's run recorded. */
struct origin {
	int serving, production;        /* version numbers; 0 = none */
	char run_id[64], experiment[512], target[256];
	char data_path[PATH_MAX], data_sha[65];
	double valid_fraction;
	char valid_by[256];
	unsigned long long seed;
	json_t *params;                 /* [{key, value}] of the run, or NULL */
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int
parse_opts(int argc, char **argv, struct ropts *o)
{
	const char *mi = NULL;
	char *end;

	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		int r;

		if ((r = cli_remote_option(argc, argv, &i, &o->rm)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--model", &o->model)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--data", &o->data)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--target", &o->target)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--min-improvement", &mi)) == 0) {
			int f = cli_common_flag(argv[i], usage_text, &o->quiet, &o->verbose);

			if (f == 2)
				return 1;
			if (f == 1)
				continue;
			if (!strcmp(argv[i], "--include-feedback"))
				o->feedback = 1;
			else {
				fprintf(stderr, CMD ": unexpected argument %s\n", argv[i]);
				return -1;
			}
		} else if (r == -1) {
			fprintf(stderr, CMD ": %s needs a value\n", argv[i]);
			return -1;
		}
	}
	if (o->model == NULL || *o->model == '\0') {
		fprintf(stderr, CMD ": --model NAME is required\n");
		return -1;
	}
	if (mi != NULL) {
		o->min_imp = strtod(mi, &end);
		if (*end != '\0' || end == mi || !(o->min_imp >= 0 && o->min_imp < 1)) {
			fprintf(stderr, CMD ": --min-improvement must be a share from 0 to below 1 "
			    "(0.01 = 1%%)\n");
			return -1;
		}
	}
	if (o->quiet && o->verbose) {
		fprintf(stderr, CMD ": give --quiet or --verbose, not both\n");
		return -1;
	}
	return 0;
}

/* ---- the server ---- */

/* GET path as JSON into *out (caller decrefs): 0; else prints why and returns the status code (0 when unreachable). */
static long
get_json(struct client *c, const char *path, json_t **out, char *msg, size_t len)
{
	struct client_resp r;
	enum client_status st = client_json(c, "GET", path, NULL, &r);

	*out = NULL;
	if (st == CLIENT_OK) {
		*out = r.json;
		return 0;
	}
	snprintf(msg, len, "%s", r.message);
	client_resp_free(&r);
	return st == CLIENT_HTTP ? r.status : -1;
}

static const char *
kv_get(json_t *list, const char *key)
{
	size_t i;
	json_t *t;

	json_array_foreach(list, i, t)
		if (json_is_string(json_object_get(t, "key")) &&
		    !strcmp(json_string_value(json_object_get(t, "key")), key))
			return json_string_value(json_object_get(t, "value"));
	return NULL;
}

/*
 * The serving version (Production, else the latest non-archived one with a
 * booster: the rule serving applies) and the Production one. 0 or an exit status.
 */
static int
resolve_versions(struct client *c, const char *name, struct origin *g)
{
	char path[600], msg[1024];
	json_t *m, *v;
	size_t i;
	long st;

	if (client_path(path, sizeof(path), "api", "models", name, NULL) == -1) {
		fprintf(stderr, CMD ": --model: the name is too long\n");
		return RETRAIN_BAD_INPUT;
	}
	if ((st = get_json(c, path, &m, msg, sizeof(msg))) != 0) {
		fprintf(stderr, CMD ": model '%s': %s\n", name, msg);
		return st == 404 || st == 400 ? RETRAIN_BAD_INPUT : RETRAIN_FAILED;
	}
	json_array_foreach(json_object_get(m, "versions"), i, v) {
		int ver = (int)json_integer_value(json_object_get(v, "version"));
		const char *stage = json_string_value(json_object_get(v, "stage"));

		if (stage == NULL || !strcmp(stage, "Archived") ||
		    json_integer_value(json_object_get(v, "num_features")) <= 0)
			continue;
		if (!strcmp(stage, "Production") && ver > g->production)
			g->production = ver;
		if (ver > g->serving)
			g->serving = ver;
	}
	json_decref(m);
	if (g->production > 0)
		g->serving = g->production;
	if (g->serving == 0) {
		fprintf(stderr, CMD ": model '%s' has no version to retrain (none with a booster "
		    "outside Archived)\n", name);
		return RETRAIN_BAD_INPUT;
	}
	return 0;
}

/* The serving version's spec and run id; the spec's JSON in *spec (caller decrefs). */
static int
version_spec(struct client *c, const char *name, int version, struct origin *g, json_t **spec)
{
	char path[600], ver[24], msg[1024];
	json_t *v;
	long st;

	snprintf(ver, sizeof(ver), "%d", version);
	if (client_path(path, sizeof(path), "api", "models", name, "versions", ver, NULL) == -1)
		return RETRAIN_BAD_INPUT;
	if ((st = get_json(c, path, &v, msg, sizeof(msg))) != 0) {
		fprintf(stderr, CMD ": model '%s' version %d: %s\n", name, version, msg);
		return RETRAIN_FAILED;
	}
	snprintf(g->run_id, sizeof(g->run_id), "%s",
	    json_string_value(json_object_get(v, "run_id")) ?: "");
	*spec = json_incref(json_object_get(v, "spec"));
	json_decref(v);
	if (!json_is_object(*spec)) {
		fprintf(stderr, CMD ": model '%s' version %d has no feature spec\n", name, version);
		return RETRAIN_BAD_INPUT;
	}
	return 0;
}

/* What the run logged: target, data file and hash, split, params, experiment. */
static int
read_run(struct client *c, const struct ropts *o, struct origin *g)
{
	char path[700], msg[1024], q[200];
	json_t *run, *data, *tags, *e;
	const char *t, *eid;
	long st;
	int rc = RETRAIN_FAILED;

	snprintf(q, sizeof(q), "/api/2.0/mlflow/runs/get?run_id=%s", g->run_id);
	if (strspn(g->run_id, "0123456789abcdefABCDEF") != strlen(g->run_id)) {
		fprintf(stderr, CMD ": version %d names run '%s', not a run id\n", g->serving,
		    g->run_id);
		return RETRAIN_BAD_INPUT;
	}
	if ((st = get_json(c, q, &run, msg, sizeof(msg))) != 0) {
		fprintf(stderr, CMD ": run %s of version %d: %s\n", g->run_id, g->serving, msg);
		return st == 404 && o->data != NULL && o->target != NULL ? 0 : st == 404 ?
		    RETRAIN_BAD_INPUT : RETRAIN_FAILED;
	}
	data = json_object_get(json_object_get(run, "run"), "data");
	tags = json_object_get(data, "tags");
	g->params = json_incref(json_object_get(data, "params"));
	if ((t = kv_get(tags, "verdict.target")) != NULL || (t = kv_get(g->params, "target")))
		snprintf(g->target, sizeof(g->target), "%s", t);
	/* A candidate retrain made records the original file, not its temporary one. */
	if ((t = kv_get(tags, "verdict.retrain.data.path")) != NULL ||
	    (t = kv_get(tags, "verdict.data.path")) != NULL)
		snprintf(g->data_path, sizeof(g->data_path), "%s", t);
	if ((t = kv_get(tags, "verdict.retrain.data.sha256")) != NULL ||
	    (t = kv_get(tags, "verdict.data.sha256")) != NULL)
		snprintf(g->data_sha, sizeof(g->data_sha), "%s", t);
	if ((t = kv_get(tags, "verdict.retrain.split")) != NULL) {
		json_t *sp = json_loads(t, 0, NULL);

		g->valid_fraction = json_number_value(json_object_get(sp, "valid_fraction"));
		snprintf(g->valid_by, sizeof(g->valid_by), "%s",
		    json_string_value(json_object_get(sp, "valid_by")) ?: "");
		g->seed = (unsigned long long)json_integer_value(json_object_get(sp, "seed"));
		json_decref(sp);
	} else {
		if ((t = kv_get(g->params, "valid_fraction")) != NULL)
			g->valid_fraction = strtod(t, NULL);
		if ((t = kv_get(g->params, "valid_by")) != NULL)
			snprintf(g->valid_by, sizeof(g->valid_by), "%s", t);
		if ((t = kv_get(g->params, "split_seed")) != NULL)
			g->seed = strtoull(t, NULL, 10);
	}
	eid = json_string_value(json_object_get(json_object_get(json_object_get(run, "run"),
	    "info"), "experiment_id"));
	if (eid != NULL && strspn(eid, "0123456789") == strlen(eid) && strlen(eid) < 40) {
		snprintf(path, sizeof(path), "/api/2.0/mlflow/experiments/get?experiment_id=%s",
		    eid);
		if (get_json(c, path, &e, msg, sizeof(msg)) != 0) {
			fprintf(stderr, CMD ": experiment %s of run %s: %s\n", eid, g->run_id, msg);
			goto out;
		}
		snprintf(g->experiment, sizeof(g->experiment), "%s", json_string_value(
		    json_object_get(json_object_get(e, "experiment"), "name")) ?: "");
		json_decref(e);
	}
	rc = 0;
out:
	json_decref(run);
	return rc;
}

/* POST body as JSON; 0, or prints why (what) and returns the exit status. */
static int
post(struct client *c, const char *path, json_t *body, const char *what, long *status)
{
	struct client_resp r;
	enum client_status st = client_json(c, "POST", path, body, &r);

	json_decref(body);
	*status = r.status;
	if (st == CLIENT_OK) {
		client_resp_free(&r);
		return 0;
	}
	fprintf(stderr, CMD ": %s: %s\n", what, r.message);
	client_resp_free(&r);
	return RETRAIN_FAILED;
}

/* The lease: 0 with lease set, RETRAIN_LOCKED when another retrain holds it. */
static int
take_lock(struct client *c, const char *name, char *lease, size_t len)
{
	struct client_resp r;
	char path[600];
	enum client_status st;
	const char *l;

	if (client_path(path, sizeof(path), "api", "models", name, "retrain-lock", NULL) == -1)
		return RETRAIN_BAD_INPUT;
	st = client_json(c, "POST", path, NULL, &r);
	if (st == CLIENT_HTTP && r.status == 409) {
		fprintf(stderr, CMD ": %s\n", r.message);
		client_resp_free(&r);
		return RETRAIN_LOCKED;
	}
	if (st != CLIENT_OK || (l = json_string_value(json_object_get(r.json, "lease"))) == NULL) {
		fprintf(stderr, CMD ": taking the retrain lock of '%s': %s\n", name,
		    r.message[0] ? r.message : "the answer has no lease");
		client_resp_free(&r);
		return st == CLIENT_HTTP && r.status == 404 ? RETRAIN_BAD_INPUT : RETRAIN_FAILED;
	}
	snprintf(lease, len, "%s", l);
	client_resp_free(&r);
	return 0;
}

static void
release_lock(struct client *c, const char *name, const char *lease)
{
	struct client_resp r;
	char path[700];

	if (lease[0] == '\0' || client_path(path, sizeof(path), "api", "models", name,
	    "retrain-lock", lease, NULL) == -1)
		return;
	if (client_json_idempotent(c, "DELETE", path, NULL, &r) != CLIENT_OK)
		fprintf(stderr, CMD ": releasing the retrain lock of '%s': %s\n", name, r.message);
	client_resp_free(&r);
}

/* A bearer token for verdict train when the credentials are a password (OAuth2 password grant). */
static int
password_token(struct client *c, const struct cli_creds *cr, char *token, size_t len)
{
	struct buf b;
	struct client_resp r;
	enum client_status st;
	const char *t;
	int rc = -1;

	buf_init(&b, 4096);
	if (buf_adds(&b, "grant_type=password&username=") == -1 ||
	    url_encode(&b, cr->user, strlen(cr->user)) == -1 || buf_adds(&b, "&password=") == -1 ||
	    url_encode(&b, cr->password, strlen(cr->password)) == -1) {
		buf_free(&b);
		return -1;
	}
	st = client_body(c, "/api/token", "application/x-www-form-urlencoded", b.p, b.len, &r);
	explicit_bzero(b.p, b.len);
	buf_free(&b);
	if (st == CLIENT_OK && (t = json_string_value(json_object_get(r.json, "access_token")))
	    != NULL && strlen(t) < len) {
		snprintf(token, len, "%s", t);
		rc = 0;
	} else
		fprintf(stderr, CMD ": a token for verdict train: %s\n", r.message);
	client_resp_free(&r);
	return rc;
}

/* ---- the data ---- */

/* Verified feedback rows, oldest first. */
struct fbrow {
	json_t *row;            /* raw inputs + the target (owned) */
	char at[40];
	long long id;
};

static int
fb_cmp(const void *a, const void *b)
{
	const struct fbrow *x = a, *y = b;
	int c = strcmp(x->at, y->at);

	if (c != 0)
		return c;
	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Pages through GET /api/predictions?model=NAME&verified=true (keyset, newest
 * first) into rows sorted oldest first. 0 or an exit status.
 */
static int
fetch_feedback(struct client *c, const char *name, const char *target, struct fbrow **out,
    size_t *n)
{
	struct buf q;
	char msg[1024];
	long long after = 0;
	size_t cap = 0;
	int rc = RETRAIN_FAILED;

	*out = NULL;
	*n = 0;
	buf_init(&q, 4096);
	for (;;) {
		json_t *page, *p, *next;
		size_t i;

		buf_reset(&q);
		if (buf_adds(&q, "/api/predictions?verified=true&limit=1000&model=") == -1 ||
		    url_encode(&q, name, strlen(name)) == -1 ||
		    (after > 0 && buf_printf(&q, "&after=%lld", after) == -1))
			goto out;
		if (get_json(c, buf_str(&q), &page, msg, sizeof(msg)) != 0) {
			fprintf(stderr, CMD ": the verified predictions of '%s': %s\n", name, msg);
			goto out;
		}
		json_array_foreach(json_object_get(page, "predictions"), i, p) {
			json_t *in = json_object_get(p, "inputs"), *truth = json_object_get(p,
			    "true_value"), *row;
			struct fbrow *nr;

			if (!json_is_object(in) || truth == NULL || json_is_null(truth))
				continue;
			if (*n == FEEDBACK_MAX)
				break;
			if (*n == cap) {
				cap = cap ? cap * 2 : 1024;
				if ((nr = realloc(*out, cap * sizeof(**out))) == NULL) {
					json_decref(page);
					goto out;
				}
				*out = nr;
			}
			if ((row = json_copy(in)) == NULL ||
			    json_object_set(row, target, truth) == -1) {
				json_decref(row);
				json_decref(page);
				goto out;
			}
			(*out)[*n].row = row;
			(*out)[*n].id = json_integer_value(json_object_get(p, "prediction_id"));
			snprintf((*out)[*n].at, sizeof((*out)[*n].at), "%s",
			    json_string_value(json_object_get(p, "created_at")) ?: "");
			(*n)++;
		}
		next = json_object_get(page, "next_after");
		after = json_is_integer(next) ? json_integer_value(next) : 0;
		json_decref(page);
		if (after <= 0 || *n == FEEDBACK_MAX)
			break;
	}
	if (*n > 0)
		qsort(*out, *n, sizeof(**out), fb_cmp);
	rc = 0;
out:
	buf_free(&q);
	return rc;
}

/* One CSV field: quoted when it holds a comma, quote, CR/LF or edge spaces. */
static void
csv_text(FILE *f, const char *s)
{
	if (s[0] != '\0' && strpbrk(s, ",\"\r\n") == NULL && s[0] != ' ' &&
	    s[strlen(s) - 1] != ' ') {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* A raw value as a CSV cell, as train reads it back: missing is an empty cell. */
static void
csv_cell(FILE *f, json_t *v)
{
	char num[64];

	if (json_is_string(v))
		csv_text(f, json_string_value(v));
	else if (json_is_boolean(v))
		fputs(json_is_true(v) ? "true" : "false", f);
	else if (json_is_integer(v))
		fprintf(f, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v)) {
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		fputs(num, f);
	}
}

/* Writes rows to path (created, mode 0600) in the data's format: CSV with t's header, else JSON lines. */
static int
write_rows(const char *path, const struct train_table *t, json_t *const *rows, size_t n)
{
	FILE *f = fopen(path, "wx");
	int rc = 0;

	if (f == NULL) {
		fprintf(stderr, CMD ": %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (size_t c = 0; t->csv && c < t->ncol; c++) {
		if (c > 0)
			fputc(',', f);
		csv_text(f, t->col[c]);
	}
	if (t->csv)
		fputc('\n', f);
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (t->csv) {
			for (size_t c = 0; c < t->ncol; c++) {
				if (c > 0)
					fputc(',', f);
				csv_cell(f, json_object_get(rows[i], t->col[c]));
			}
			fputc('\n', f);
		} else if (json_dumpf(rows[i], f, JSON_COMPACT) == -1)
			rc = -1;
		else
			fputc('\n', f);
	}
	if (ferror(f))
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	if (rc == -1)
		fprintf(stderr, CMD ": writing %s: %s\n", path, strerror(errno));
	return rc;
}

/* ---- evaluation ---- */

/* A booster from bytes; NULL after saying why. */
static BoosterHandle
load_booster(const void *bytes, size_t len, const char *what)
{
	BoosterHandle b = NULL;

	if (XGBoosterCreate(NULL, 0, &b) != 0 ||
	    XGBoosterLoadModelFromBuffer(b, bytes, (bst_ulong)len) != 0) {
		fprintf(stderr, CMD ": %s: XGBoost cannot load it: %s\n", what, XGBGetLastError());
		if (b != NULL)
			XGBoosterFree(b);
		return NULL;
	}
	return b;
}

/*
 * The task's metric of booster b on n rows x (labels y) through model.c's
 * prediction: RMSE, or log loss with p clipped to [1e-15, 1 - 1e-15] as the
 * live-quality log loss is. 0 with *out, or -1.
 */
static int
evaluate(BoosterHandle b, struct spec *s, const float *x, const float *y, size_t n,
    const char *what, double *out)
{
	struct model m;
	size_t k = spec_task(s) == SPEC_MULTICLASS ? spec_nclasses(s) : 1;
	float *pred = malloc((n ? n : 1) * k * sizeof(float));
	double sum = 0;
	int rc;

	memset(&m, 0, sizeof(m));
	snprintf(m.name, sizeof(m.name), "%s", what);
	m.booster = b;
	m.spec = s;
	m.nout = k;
	rc = pred == NULL || n == 0 ? -1 : model_predict(&m, x, n, pred);
	model_thread_done();   /* nothing kept past the evaluation */
	if (rc != 0) {
		fprintf(stderr, CMD ": predicting the holdout with %s failed%s\n", what,
		    n == 0 ? ": the holdout is empty" : "");
		free(pred);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		double p;

		switch (spec_task(s)) {
		case SPEC_REGRESSION:
			sum += ((double)pred[i] - y[i]) * ((double)pred[i] - y[i]);
			break;
		case SPEC_BINARY:
			p = y[i] != 0 ? pred[i] : 1.0 - pred[i];
			sum -= log(fmin(fmax(p, 1e-15), 1 - 1e-15));
			break;
		default:
			p = pred[i * k + (size_t)y[i]];
			sum -= log(fmin(fmax(p, 1e-15), 1 - 1e-15));
			break;
		}
	}
	free(pred);
	*out = spec_task(s) == SPEC_REGRESSION ? sqrt(sum / (double)n) : sum / (double)n;
	return 0;
}

/* ---- the command ---- */

/* Removes the files of the private temporary directory, then it. */
static void
remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[PATH_MAX];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR)
			remove_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

/* Booster parameters train derives itself (objective from the task) or that describe the run, not the booster. */
static int
not_booster_param(const char *k)
{
	static const char *const skip[] = { "objective", "num_class", "nthread", "seed",
		"num_boost_round", "early_stopping_rounds", "valid_fraction", "valid_split",
		"valid_by", "valid_data", "split_seed", "train_rows", "valid_rows", "target" };

	if (!strncmp(k, "spec.", 5))
		return 1;
	for (size_t i = 0; i < ARRAY_LEN(skip); i++)
		if (!strcmp(k, skip[i]))
			return 1;
	return 0;
}

/* verdict train's argv for the candidate, strings kept in store (freed by the caller). */
struct targv {
	char *v[ARGV_MAX + 1];
	int n;
	char *own[ARGV_MAX];
	int nown;
};

static void
arg(struct targv *a, const char *s)
{
	if (a->n < ARGV_MAX)
		a->v[a->n++] = (char *)s;
}

static void
argf(struct targv *a, const char *fmt, ...) PRINTF(2, 3);

static void
argf(struct targv *a, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		s = NULL;
	va_end(ap);
	if (s == NULL || a->nown == ARGV_MAX || a->n == ARGV_MAX) {
		free(s);
		return;
	}
	a->own[a->nown++] = s;
	arg(a, s);
}

static void
targv_free(struct targv *a)
{
	for (int i = 0; i < a->nown; i++)
		free(a->own[i]);
}

/* Sets one MLflow run tag; failures are reported, not fatal (the outcome is already decided). */
static void
run_tag(struct client *c, const char *run_id, const char *key, const char *value)
{
	struct client_resp r;
	json_t *b = json_pack("{s:s, s:s, s:s}", "run_id", run_id, "key", key, "value", value);

	if (client_json_idempotent(c, "POST", "/api/2.0/mlflow/runs/set-tag", b, &r) != CLIENT_OK)
		fprintf(stderr, CMD ": tagging run %s with %s: %s\n", run_id, key, r.message);
	json_decref(b);
	client_resp_free(&r);
}

/* The candidate's run_id and version from verdict train's --result-out. */
static int
read_result(const char *path, char *run_id, size_t len, int *version)
{
	json_error_t e;
	json_t *j = json_load_file(path, 0, &e);
	const char *id = json_string_value(json_object_get(j, "run_id"));

	*version = (int)json_integer_value(json_object_get(j, "version"));
	if (id == NULL || strlen(id) >= len || *version <= 0) {
		fprintf(stderr, CMD ": %s: verdict train reported no run and version\n", path);
		json_decref(j);
		return -1;
	}
	snprintf(run_id, len, "%s", id);
	json_decref(j);
	return 0;
}

/* The outcome: promotion (or the reason tag) and the retrain.result event. 0 or an exit status. */
static int
conclude(struct client *c, const struct ropts *o, const struct origin *g, int cand,
    const char *run_id, const char *metric, double cv, double pv, int promote,
    const char *reason)
{
	char path[700], ver[24];
	long st;
	json_t *ev;
	int rc = 0;

	snprintf(ver, sizeof(ver), "%d", cand);
	if (promote) {
		if (client_path(path, sizeof(path), "api", "models", o->model, "versions", ver,
		    "stage", NULL) == -1 || post(c, path, json_pack("{s:s, s:b}", "stage",
		    "Production", "archive_existing_versions", 1), "promoting the candidate", &st))
			return RETRAIN_FAILED;
	} else {
		if (post(c, "/api/2.0/mlflow/model-versions/set-tag", json_pack("{s:s, s:s, s:s, "
		    "s:s}", "name", o->model, "version", ver, "key", "verdict.retrain.reason",
		    "value", reason), "tagging the candidate with the reason", &st))
			rc = RETRAIN_FAILED;
	}
	ev = json_pack("{s:i, s:s, s:f, s:b, s:s, s:s}", "candidate_version", cand, "metric",
	    metric, "candidate_value", cv, "promoted", promote, "reason", reason, "run_id",
	    run_id);
	if (g->production > 0) {
		json_object_set_new(ev, "production_version", json_integer(g->production));
		json_object_set_new(ev, "production_value", json_real(pv));
	}
	if (client_path(path, sizeof(path), "api", "models", o->model, "retrain-result",
	    NULL) == -1 || post(c, path, ev, "recording the retrain.result event", &st))
		return RETRAIN_FAILED;
	return rc;
}

int
retrain_main(int argc, char **argv)
{
	static const char *const metric_names[] = { "rmse", "logloss", "mlogloss" };
	static const char *const metric_text[] = { "RMSE", "log loss", "log loss" };
	struct ropts o;
	struct origin g;
	struct cli_creds cr;
	struct client *c = NULL;
	struct train_table t;
	struct targv ta;
	struct fbrow *fb = NULL;
	size_t nfb = 0, nfbhold = 0, ntrain = 0, nhold = 0;
	struct spec *s = NULL;
	json_t *specj = NULL, **trainrows = NULL, **holdrows = NULL;
	char url[1024], token[600] = "", lease[64] = "", dir[PATH_MAX] = "";
	char trainf[PATH_MAX + 32], holdf[PATH_MAX + 32], specf[PATH_MAX + 32];
	char outd[PATH_MAX + 32], resf[PATH_MAX + 32], booster[PATH_MAX + 64];
	char err[SPEC_ERR_MAX], run_id[64] = "", reason[600], split[600];
	const char *datapath, *tmp, *ext, *metric;
	float *x = NULL, *y = NULL;
	BoosterHandle cb = NULL, pb = NULL;
	double cv = 0, pv = 0;
	int rc, cand = 0, promote, task;

	memset(&cr, 0, sizeof(cr));
	memset(&g, 0, sizeof(g));
	memset(&t, 0, sizeof(t));
	memset(&ta, 0, sizeof(ta));
	if ((rc = parse_opts(argc, argv, &o)) != 0) {
		if (rc == 1)
			return RETRAIN_PROMOTED;
		fprintf(stderr, "run 'verdict retrain --help' for the options\n");
		return RETRAIN_BAD_INPUT;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, CMD ": libsodium failed to start\n");
		return RETRAIN_FAILED;
	}
	catch_signals();
	rc = RETRAIN_BAD_INPUT;
	if (cli_server_url(&o.rm, url, sizeof(url)) == -1) {
		fprintf(stderr, CMD ": no server: pass --url or set VERDICT_URL\n");
		goto out;
	}
	if (cli_creds_get(CMD, &o.rm, 1, &cr, &rc) == -1 ||
	    (c = cli_client(CMD, url, &cr)) == NULL)
		goto out;
	rc = RETRAIN_FAILED;
	if (cr.basic) {
		if (password_token(c, &cr, token, sizeof(token)) == -1)
			goto out;
	} else
		snprintf(token, sizeof(token), "%s", cr.token);
	cli_creds_wipe(&cr);

	/* What to retrain: the serving version, its spec, its run. */
	g.valid_fraction = 0.2;
	g.seed = 42;
	if ((rc = resolve_versions(c, o.model, &g)) != 0 ||
	    (rc = version_spec(c, o.model, g.serving, &g, &specj)) != 0)
		goto out;
	if ((s = spec_parse(specj, err, sizeof(err))) == NULL) {
		fprintf(stderr, CMD ": the spec of '%s' version %d: %s\n", o.model, g.serving, err);
		rc = RETRAIN_FAILED;
		goto out;
	}
	if (g.run_id[0] != '\0' && (rc = read_run(c, &o, &g)) != 0)
		goto out;
	rc = RETRAIN_BAD_INPUT;
	if (o.target != NULL)
		snprintf(g.target, sizeof(g.target), "%s", o.target);
	if (g.run_id[0] == '\0' && o.data == NULL) {
		fprintf(stderr, CMD ": '%s' version %d has no run that recorded its data: give "
		    "--data FILE (and --target COL)\n", o.model, g.serving);
		goto out;
	}
	if (g.target[0] == '\0') {
		fprintf(stderr, CMD ": '%s' version %d: no run records the target column: give "
		    "--target COL\n", o.model, g.serving);
		goto out;
	}
	if ((datapath = o.data) == NULL) {
		if (g.data_path[0] == '\0') {
			fprintf(stderr, CMD ": run %s records no data file (verdict.data.path): give "
			    "--data FILE\n", g.run_id);
			goto out;
		}
		if (access(g.data_path, R_OK) != 0) {
			fprintf(stderr, CMD ": %s, the data file of run %s, is gone (%s): give --data "
			    "FILE\n", g.data_path, g.run_id, strerror(errno));
			goto out;
		}
		datapath = g.data_path;
	}
	if (g.experiment[0] == '\0')
		snprintf(g.experiment, sizeof(g.experiment), "%s", o.model);

	/* From here on the lease is held: every way out releases it. */
	if ((rc = take_lock(c, o.model, lease, sizeof(lease))) != 0)
		goto out;
	if (!o.quiet)
		fprintf(stderr, CMD ": retraining '%s' version %d%s%s on %s; Production is %s%d\n",
		    o.model, g.serving, g.run_id[0] ? " of run " : "", g.run_id, datapath,
		    g.production ? "version " : "none", g.production);
	if ((rc = train_table_load(&t, datapath, g.target, s, g.valid_fraction,
	    g.valid_by[0] ? g.valid_by : NULL, g.seed)) != 0)
		goto out;
	rc = RETRAIN_BAD_INPUT;
	if (o.data == NULL && g.data_sha[0] != '\0' && strcmp(g.data_sha, t.sha256)) {
		fprintf(stderr, CMD ": %s changed since run %s was trained on it (SHA-256 %.16s... "
		    "then, %.16s... now): give --data FILE to retrain on it as it is\n", datapath,
		    g.run_id, g.data_sha, t.sha256);
		goto out;
	}
	rc = RETRAIN_FAILED;
	if (o.feedback && fetch_feedback(c, o.model, g.target, &fb, &nfb) != 0)
		goto out;
	if (stop)
		goto interrupted;

	/* The sets: the data's validation share + the newest feedback hold out; the rest trains. */
	nfbhold = (size_t)ceil((double)nfb * HOLDOUT_FEEDBACK);
	trainrows = malloc((t.n + nfb + 1) * sizeof(*trainrows));
	holdrows = malloc((t.n + nfb + 1) * sizeof(*holdrows));
	if (trainrows == NULL || holdrows == NULL)
		goto out;
	for (size_t i = 0; i < t.n; i++) {
		if (t.valid[i])
			holdrows[nhold++] = t.row[i];
		else
			trainrows[ntrain++] = t.row[i];
	}
	for (size_t i = 0; i < nfb; i++) {
		if (i < nfb - nfbhold)
			trainrows[ntrain++] = fb[i].row;
		else
			holdrows[nhold++] = fb[i].row;
	}
	if (!o.quiet)
		fprintf(stderr, CMD ": %zu data rows and %zu verified feedback rows: %zu train, "
		    "%zu held out (%zu of them feedback)\n", t.n, nfb, ntrain, nhold, nfbhold);
	tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/verdict-retrain-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, CMD ": a temporary directory in %s: %s\n", tmp && *tmp ? tmp :
		    "/tmp", strerror(errno));
		dir[0] = '\0';
		goto out;
	}
	ext = t.csv ? "csv" : "json";
	snprintf(trainf, sizeof(trainf), "%s/train.%s", dir, ext);
	snprintf(holdf, sizeof(holdf), "%s/holdout.%s", dir, ext);
	snprintf(specf, sizeof(specf), "%s/spec.json", dir);
	snprintf(outd, sizeof(outd), "%s/out", dir);
	snprintf(resf, sizeof(resf), "%s/result.json", dir);
	if (write_rows(trainf, &t, trainrows, ntrain) == -1 ||
	    write_rows(holdf, &t, holdrows, nhold) == -1)
		goto out;
	if (json_dump_file(specj, specf, JSON_INDENT(1) | JSON_PRESERVE_ORDER) == -1) {
		fprintf(stderr, CMD ": writing %s failed\n", specf);
		goto out;
	}

	/* The candidate: verdict train with the run's parameters, registered in Staging. */
	arg(&ta, "train");
	arg(&ta, "--data");
	arg(&ta, trainf);
	arg(&ta, "--valid-data");
	arg(&ta, holdf);
	arg(&ta, "--target");
	arg(&ta, g.target);
	arg(&ta, "--spec");
	arg(&ta, specf);
	arg(&ta, "--experiment");
	arg(&ta, g.experiment);
	argf(&ta, "--run-name=retrain of %s v%d", o.model, g.serving);
	{
		size_t i;
		json_t *p;

		json_array_foreach(g.params, i, p) {
			const char *k = json_string_value(json_object_get(p, "key"));
			const char *v = json_string_value(json_object_get(p, "value"));

			if (k == NULL || v == NULL)
				continue;
			if (!strcmp(k, "num_boost_round"))
				argf(&ta, "--rounds=%s", v);
			else if (!strcmp(k, "early_stopping_rounds"))
				argf(&ta, "--early-stopping=%s", v);
			else if (!strcmp(k, "seed"))
				argf(&ta, "--seed=%s", v);
			else if (!not_booster_param(k))
				argf(&ta, "--param=%s=%s", k, v);
		}
	}
	arg(&ta, "--register");
	arg(&ta, o.model);
	arg(&ta, "--stage");
	arg(&ta, "Staging");
	arg(&ta, "--out");
	arg(&ta, outd);
	arg(&ta, "--result-out");
	arg(&ta, resf);
	arg(&ta, "--url");
	arg(&ta, url);
	arg(&ta, "--tracking-uri");
	arg(&ta, url);
	if (token[0] != '\0') {
		arg(&ta, "--token");
		arg(&ta, token);
	}
	if (o.quiet || o.verbose)
		arg(&ta, o.quiet ? "--quiet" : "--verbose");
	if (ta.n == ARGV_MAX) {
		fprintf(stderr, CMD ": run %s has too many parameters to hand on\n", g.run_id);
		goto out;
	}
	ta.v[ta.n] = NULL;
	rc = train_main(ta.n, ta.v);
	catch_signals();        /* train had its own handlers while its run was open */
	if (rc == 130)
		goto interrupted;
	if (rc != 0) {
		rc = rc == 2 ? RETRAIN_BAD_INPUT : RETRAIN_FAILED;
		goto out;
	}
	rc = RETRAIN_FAILED;
	if (read_result(resf, run_id, sizeof(run_id), &cand) == -1)
		goto out;
	snprintf(split, sizeof(split), "{\"valid_fraction\":%.17g,\"valid_by\":%s%s%s,\"seed\":%llu}",
	    g.valid_fraction, g.valid_by[0] ? "\"" : "", g.valid_by[0] ? g.valid_by : "null",
	    g.valid_by[0] ? "\"" : "", g.seed);
	snprintf(reason, sizeof(reason), "candidate v%d vs Production %s%d", cand,
	    g.production ? "v" : "none", g.production);
	run_tag(c, run_id, "verdict.retrain.of", o.model);
	run_tag(c, run_id, "verdict.retrain.compared", reason);
	run_tag(c, run_id, "verdict.retrain.data.path", realpath(datapath, booster) ? booster :
	    datapath);
	run_tag(c, run_id, "verdict.retrain.data.sha256", t.sha256);
	run_tag(c, run_id, "verdict.retrain.split", split);
	snprintf(err, sizeof(err), "%zu", nfb);
	run_tag(c, run_id, "verdict.retrain.feedback.rows", err);
	if (stop)
		goto interrupted;

	/* Both contenders on the same holdout. */
	if ((rc = train_features(s, holdrows, nhold, g.target, "the holdout", &x, &y)) != 0) {
		rc = rc == 2 ? RETRAIN_BAD_INPUT : RETRAIN_FAILED;
		goto out;
	}
	rc = RETRAIN_FAILED;
	snprintf(booster, sizeof(booster), "%s/model/model.ubj", outd);
	if (XGBoosterCreate(NULL, 0, &cb) != 0 || XGBoosterLoadModel(cb, booster) != 0) {
		fprintf(stderr, CMD ": %s: XGBoost cannot load it: %s\n", booster, XGBGetLastError());
		goto out;
	}
	task = (int)spec_task(s);
	metric = metric_names[task];
	if (evaluate(cb, s, x, y, nhold, "the candidate", &cv) == -1)
		goto out;
	if (g.production > 0) {
		struct client_resp r;
		void *bytes = NULL;
		size_t len = 0;
		char path[700], ver[24];

		snprintf(ver, sizeof(ver), "%d", g.production);
		if (client_path(path, sizeof(path), "models", o.model, "versions", ver, "booster",
		    NULL) == -1)
			goto out;
		if (client_get_bytes(c, path, &bytes, &len, &r) != CLIENT_OK) {
			fprintf(stderr, CMD ": downloading Production version %d's booster: %s\n",
			    g.production, r.message);
			client_resp_free(&r);
			goto out;
		}
		client_resp_free(&r);
		snprintf(err, sizeof(err), "Production version %d's booster", g.production);
		pb = load_booster(bytes, len, err);
		free(bytes);
		if (pb == NULL || evaluate(pb, s, x, y, nhold, "Production", &pv) == -1)
			goto out;
	}
	promote = g.production == 0 || cv < pv * (1 - o.min_imp);
	if (g.production == 0)
		snprintf(reason, sizeof(reason), "%s %.6g; no Production version", metric_text[task],
		    cv);
	else {
		int n = snprintf(reason, sizeof(reason), "%s %.6g vs Production v%d %.6g: %s",
		    metric_text[task], cv, g.production, pv, promote ? "better" : "not better");

		if (n > 0 && (size_t)n < sizeof(reason) && (o.min_imp > 0 || promote))
			snprintf(reason + n, sizeof(reason) - (size_t)n, " by %.3g%%", promote ?
			    (pv > 0 ? (pv - cv) / pv * 100 : 0) : o.min_imp * 100);
	}
	if ((rc = conclude(c, &o, &g, cand, run_id, metric, cv, pv, promote, reason)) != 0)
		goto out;
	printf("%s version %d (run %s): %s; %s\n", o.model, cand, run_id, reason, promote ?
	    "promoted to Production" : "stays in Staging");
	rc = promote ? RETRAIN_PROMOTED : RETRAIN_NOT_PROMOTED;
	goto out;
interrupted:
	fprintf(stderr, CMD ": interrupted; the lock is released%s\n", cand > 0 ?
	    ", the candidate stays in Staging" : "");
	rc = RETRAIN_INTERRUPTED;
out:
	if (c != NULL)
		release_lock(c, o.model, lease);
	cli_creds_wipe(&cr);
	explicit_bzero(token, sizeof(token));
	if (cb != NULL)
		XGBoosterFree(cb);
	if (pb != NULL)
		XGBoosterFree(pb);
	free(x);
	free(y);
	if (dir[0] != '\0')
		remove_tree(dir);
	targv_free(&ta);
	for (size_t i = 0; i < nfb; i++)
		json_decref(fb[i].row);
	free(fb);
	free(trainrows);
	free(holdrows);
	train_table_free(&t);
	spec_free(s);
	json_decref(specj);
	json_decref(g.params);
	client_free(c);
	return rc;
}
