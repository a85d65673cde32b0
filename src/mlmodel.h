/* mlmodel.h: MLflow's MLmodel files (YAML, read with libyaml) and the feature spec an xgboost-flavor model's signature gives. */
#ifndef VERDICT_MLMODEL_H
#define VERDICT_MLMODEL_H

#include <stddef.h>

#include <jansson.h>

#define MLMODEL_MAX (1u << 20)          /* bytes of an MLmodel file we read */

/*
 * Parses an MLmodel file into JSON: mappings become objects, sequences
 * arrays, every scalar a string (aliases are followed, at most 100,000
 * nodes and 64 levels, so a hostile file cannot blow up). Returns a new
 * reference, or NULL with the reason (and line) in err.
 */
json_t *mlmodel_parse(const char *text, size_t len, char *err, size_t errlen);

/*
 * The booster file named by flavors.xgboost.data ("model.xgb", "model.json",
 * "model.ubj"), borrowed from mlmodel; NULL when there is no xgboost flavor.
 */
const char *mlmodel_xgboost_data(json_t *mlmodel);

/*
 * A passthrough feature spec from signature.inputs (a JSON string of
 * [{"name","type"[,"required"]}]): double/float → number, long/integer →
 * integer, boolean → boolean, one feature per column in order. The task
 * comes from the booster's objective: binary:logistic → binary (classes
 * "0", "1"), multi:softprob → multiclass (classes "0".."k-1"), anything
 * else regression. Returns a new spec, or NULL with err naming the column
 * or the problem; *no_signature is set when the model has none at all.
 */
json_t *mlmodel_spec(json_t *mlmodel, const char *objective, int num_class,
    int *no_signature, char *err, size_t errlen);

#endif
