/* model.h: model versions in memory (booster + feature spec), refcounted and shared by every worker, and the resolution of "name + selector" to a version. */
#ifndef VERDICT_MODEL_H
#define VERDICT_MODEL_H

#include <stddef.h>

#include <jansson.h>
#include <xgboost/c_api.h>

#include "util.h"

struct db;
struct spec;

struct model {
	long long version_id;
	char name[256];
	int version;
	BoosterHandle booster;
	struct spec *spec;
	size_t nout;            /* floats per row that predict returns */
	int refs;               /* atomic; freed when it reaches 0 */
};

/* How a request names the version: explicit number, @alias, stage, or the default. */
enum model_sel { SEL_DEFAULT, SEL_VERSION, SEL_ALIAS, SEL_STAGE };

/*
 * Checks an upload before anything is stored: the booster loads, its
 * feature count equals the spec's width, its output matches the task and
 * class count. Writes "json" or "ubj" into fmt and the feature count into
 * nfeat. Returns 0, or -1 with the reason in err.
 */
int model_validate(const void *booster, size_t len, json_t *spec_json,
    char fmt[8], int *nfeat, char *err, size_t errlen) WUR;

/*
 * The objective ("reg:squarederror", "binary:logistic", ...) and class count
 * a booster was trained with, to derive a spec for it. 0, or -1 with err.
 */
int model_objective(const void *booster, size_t len, char *obj, size_t objlen,
    int *num_class, char *err, size_t errlen) WUR;

/*
 * The loaded version for name + selector, with a reference the caller
 * drops with model_release. Resolves through the in-memory table first;
 * a first use queries Postgres and loads the booster. Returns NULL with an
 * HTTP status (404 unknown model/version/alias or a version registered
 * without a servable booster, 503 database) and message.
 */
struct model *model_acquire(struct db *db, const char *name, enum model_sel sel,
    const char *value, int *status, char *err, size_t errlen) WUR;
void model_release(struct model *m);

/* Distinct versions held in memory now (a gauge). */
size_t model_loaded_count(void);

/*
 * Runs the booster on nrows rows of spec_width floats (NaN = missing) and
 * copies nrows * m->nout floats into out. 0 or -1.
 */
int model_predict(struct model *m, const float *rows, size_t nrows, float *out) WUR;

/* Frees what predictions keep per thread; a thread that predicted calls it before it ends. */
void model_thread_done(void);

/*
 * SHAP contributions for one row (a DMatrix; costs ~40x a prediction):
 * out gets (width + 1) * groups floats, the last of each group the bias.
 * Returns the number of floats, or -1.
 */
long model_contributions(struct model *m, const float *row, float *out, size_t outlen) WUR;

/*
 * Starts the watcher thread: LISTEN verdict_registry on its own connection
 * and re-resolve every cached selector when a version or alias changes, so
 * stage and alias moves reach this process within a second, loading new
 * boosters off the request path. 0 or -1.
 */
int model_watcher_start(const char *conninfo) WUR;
void model_watcher_stop(void);

#endif
