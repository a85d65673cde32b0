/* fixtures.h: what integration tests share on top of the harness — accounts, JSON calls, model uploads, boosters trained in the test, a Postgres connection. */
#ifndef VERDICT_TEST_FIXTURES_H
#define VERDICT_TEST_FIXTURES_H

#include <stddef.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "harness.h"

/*
 * Signs up username (password fixed) and fills hdr with "Authorization:
 * Bearer <token>". admin: the account is made an admin in Postgres first.
 * Call from main() after harness_start, before tests fork. 0 or -1.
 */
int fx_account(const char *username, int admin, char *hdr, size_t hdrlen);

/* One request as the account whose header is hdr (NULL: anonymous); returns the status. */
long fx_call(const char *hdr, const char *method, const char *path,
    const char *content_type, const char *body, struct http_resp *r);

/* A JSON request (body NULL: none) as hdr's account: the answer parsed (caller
 * decrefs; NULL when it is not JSON), its status in *status. */
json_t *fx_json(const char *hdr, const char *method, const char *path, const char *body,
    long *status);

/* The runs/search answer for experiment name's runs, as hdr's account ("runs"
 * always an array; caller decrefs); NULL when there is no such experiment. */
json_t *fx_runs_of(const char *hdr, const char *name);

/* The value of key among a runs/get or runs/search run's data.<kind> ("tags",
 * "params", "metrics": [{key, value}]), borrowed from run; NULL when absent. */
json_t *fx_run_value(json_t *run, const char *kind, const char *key);

/* Creates a model and uploads booster + spec as its next version (asserts 201). */
void fx_model(const char *hdr, const char *name, const char *booster, size_t blen,
    const char *spec);
/* The same, the version linked to a tracking run (run_id may be NULL). */
void fx_model_run(const char *hdr, const char *name, const char *booster, size_t blen,
    const char *spec, const char *run_id);

/*
 * Trains a booster with libxgboost on rows x rows of nf floats and labels y
 * (asserts success); JSON bytes, caller frees.
 */
char *fx_train(const float *x, const float *y, int rows, int nf, const char *objective,
    int num_class, int rounds, size_t *len);

/* A connection to the stack's Postgres (asserts); caller PQfinish()es. */
PGconn *fx_db(void);

/* The first column of the first row of sql with up to one text parameter, as a number. */
double fx_db_num(const char *sql, const char *param);

/*
 * Reference models trained elsewhere, on public data the tests never made:
 * runs deploy/fetch-data vega-datasets and tests/integration/train-reference.py
 * (Python XGBoost, /usr/bin/python3 or $VERDICT_PYTHON) into a new temporary
 * directory, written to dir (see train-reference.py for its layout). Checks
 * the xgboost CLI is there too. Call from main() before tests fork (no check
 * asserts). 0, or -1 after saying why on stderr.
 */
int fx_reference_models(char *dir, size_t dirlen);

/*
 * deploy/fetch-data vega-datasets: the data set's directory (cached in
 * $VERDICT_DATA_CACHE) into dir. Call from main(). 0, or -1 after saying why.
 */
int fx_vega_datasets(char *dir, size_t len);

/* What a CLI command printed (stdout and stderr together) and its exit status (-1: no exit). */
struct fx_cli {
	int status;
	char out[65536];
};

/*
 * Runs `cd CWD && verdict ARGS </dev/null 2>&1` ($VERDICT_BUILDDIR/src/verdict)
 * with no VERDICT_URL, VERDICT_TOKEN or MLFLOW_TRACKING_URI from the test's
 * environment; args is a printf format (quote paths with '...').
 */
void fx_verdict(struct fx_cli *r, const char *cwd, const char *args, ...)
    __attribute__((format(printf, 3, 4)));

/* Removes dir, a reference or a test's own directory (unless $VERDICT_KEEP_TEST_DIR); safe with "". */
void fx_reference_cleanup(const char *dir);

/*
 * A fresh /tmp/PREFIX-XXXXXX for the test program, its path in dir; removed
 * (as fx_reference_cleanup) when the process that made it exits, not when a
 * forked test does. 0 or -1.
 */
int fx_tmpdir(const char *prefix, char *dir, size_t len);

/* A whole file (at most 256 MiB), NUL-terminated; caller frees. NULL when unreadable. */
char *fx_slurp(const char *path, size_t *len);

/* A minimal cookie-keeping browser: the session, pre-session and flash
 * cookies, a per-jar X-Forwarded-For address and our own Origin. */
struct fx_jar {
	char session[128];
	char pre[128];
	char flash[512];
	char addr[32];
};

void fx_jar_init(struct fx_jar *j);
/* A request with the jar's cookies (ctype NULL: no body); asserts a response came. */
void fx_jar_send(struct fx_jar *j, const char *method, const char *path, const char *ctype,
    const char *body, size_t len, struct http_resp *out);
void fx_jar_get(struct fx_jar *j, const char *path, struct http_resp *out);
void fx_jar_form(struct fx_jar *j, const char *path, const char *form, struct http_resp *out);
/* The csrf_token hidden field of a page into dst[128], or "". */
void fx_csrf_of(const struct http_resp *r, char *dst);
/* GET path (asserts 200) and its csrf_token. */
void fx_get_csrf(struct fx_jar *j, const char *path, char *csrf);
/* Logs user in through the login form; csrf gets /models' token. */
void fx_html_login(struct fx_jar *j, char *csrf, const char *user);

#endif
