/* registry.h: the registry's and serving's domain operations, shared by the JSON API, the HTML pages and the MLflow/OIP endpoints. */
#ifndef VERDICT_REGISTRY_H
#define VERDICT_REGISTRY_H

#include <jansson.h>

#include "http.h"
#include "model.h"

#define PREDICT_MAX_BATCH 1000     /* rows per prediction request */

/*
 * Every function here answers errors itself with resp_error (which speaks
 * the route's language, HTML or JSON) and returns 1 then; 0 on success
 * (the caller answers); -1 on an internal failure (500, or 503 when the
 * database went away).
 */
int registry_create_model(struct req *r, const char *name, const char *description);
int registry_add_version(struct req *r, const char *name, const char *booster,
    size_t booster_len, const char *spec, size_t spec_len, const char *source,
    const char *run_id, int *version);
int registry_set_stage(struct req *r, const char *name, const char *version,
    const char *stage, int archive_existing_versions);
int registry_set_alias(struct req *r, const char *name, const char *alias,
    long long version);
int registry_delete_alias(struct req *r, const char *name, const char *alias);

/* 1 when a is a usable alias: 1-255 of [A-Za-z0-9_-], not "latest" nor "v<digits>". */
int registry_alias_valid(const char *a);

/* "None", "Staging", "Production", "Archived" for any case; NULL otherwise. */
const char *canonical_stage(const char *s);

/*
 * The one prediction path: rows (a JSON array of raw-field objects) through
 * name + selector; every row is committed to the prediction log before this
 * returns 0 with *out = {"model","version","predictions":[{"prediction_id",
 * "value", ["label","probabilities"], ["contributions","bias"]}]}.
 * single: error messages without the "instances[i]: " prefix.
 */
int serving_predict(struct req *r, const char *name, enum model_sel sel,
    const char *selv, json_t *rows, int explain, int single, json_t **out);

#endif
