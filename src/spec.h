/* spec.h: feature specs, the one pipeline from raw inputs to the booster's float vector (serving and training). */
#ifndef VERDICT_SPEC_H
#define VERDICT_SPEC_H

#include <stddef.h>

#include <jansson.h>

#include "util.h"

/*
 * A model version is an XGBoost booster plus a feature spec: a JSON object
 * that says which raw inputs a prediction takes and how they become the
 * booster's feature vector (float, NaN = missing).
 *
 *   {
 *     "task": "binary",
 *     "classes": ["on_time", "late"],
 *     "threshold": 0.5,
 *     "unknown_category": "missing",
 *     "inputs": [
 *       {"name": "distance", "type": "number", "required": true},
 *       {"name": "passengers", "type": "integer", "default": 1},
 *       {"name": "express", "type": "boolean"},
 *       {"name": "origin", "type": "category", "required": true, "unknown": "error"},
 *       {"name": "date", "type": "datetime", "format": "%Y-%m-%d %H:%M", "timezone": "UTC"}
 *     ],
 *     "features": [
 *       {"input": "distance"},
 *       {"input": "passengers", "transform": "passthrough"},
 *       {"input": "express"},
 *       {"input": "origin", "transform": "one_hot", "categories": ["LAX", "JFK", "SFO"]},
 *       {"input": "origin", "transform": "ordinal", "map": {"LAX": 0, "JFK": 1, "SFO": 2}},
 *       {"input": "origin", "transform": "frequency", "map": {"LAX": 0.41, "JFK": 0.33}},
 *       {"input": "date", "transform": "datetime",
 *        "parts": ["hour", "day_of_week", "month", "is_weekend"]}
 *     ]
 *   }
 *
 * Top level:
 *   task              "regression" | "binary" | "multiclass" (required)
 *   classes           labels in class-index order: binary exactly 2, multiclass
 *                     >= 2 (required for both, not allowed for regression);
 *                     non-empty, unique, at most 256 bytes each
 *   threshold         binary only: P(classes[1]) >= threshold predicts
 *                     classes[1]; default 0.5, strictly between 0 and 1
 *   unknown_category  default policy of category inputs for values no feature
 *                     knows: "error" | "missing" (default) | "other"
 *   inputs            1..1000 raw inputs (required)
 *   features          output columns, in order (required, non-empty)
 *   description       free text, ignored
 * Any other key is an error (a typo must not silently change a model).
 *
 * inputs[]:
 *   name      [A-Za-z_][A-Za-z0-9_.-]{0,63}, unique (required)
 *   type      (required)
 *             number    finite double: a JSON number or a string holding one;
 *                       |x| <= 3.4e38 (the booster reads floats)
 *             integer   a JSON integer, a number with an integral value, or a
 *                       string of digits with an optional '-'; outside int64
 *                       is an error
 *             boolean   true/false, "true"/"false"/"1"/"0", or the numbers 0/1
 *             category  a JSON string, matched by exact bytes (valid UTF-8, no
 *                       NUL); a JSON number is turned into its decimal text, so
 *                       {"zip": 90210} matches the category "90210"
 *             datetime  a JSON string read with "format" in "timezone"
 *   required  true: a missing input is an error (default false)
 *   default   used when the input is missing (JSON null counts as missing);
 *             checked against the type; not with required
 *   unknown   category only: overrides unknown_category for this input
 *   format    datetime only: %Y (4 digits), %m %d %H %M %S (1 or 2 digits),
 *             %z (Z, +HH:MM or +HHMM), %T (= %H:%M:%S), %F (= %Y-%m-%d),
 *             %% (a '%'); any other character must match exactly; the format
 *             must give a year, month and day. Without it: ISO 8601,
 *             YYYY-MM-DD, optionally followed by 'T' or ' ' and HH:MM[:SS[.frac]]
 *             and then 'Z', +HH:MM/-HH:MM or +HHMM/-HHMM.
 *   timezone  datetime only: "UTC" (default) or a fixed offset "+HH:MM" /
 *             "-HH:MM". A value carrying its own offset is converted into this
 *             zone before its parts are taken; one without is read as local
 *             time of this zone.
 *   description  free text, ignored
 *
 * features[] (each one or more columns, in order):
 *   input      the input's name (required)
 *   transform  (default "passthrough")
 *     passthrough  number, integer or boolean (true = 1, false = 0); 1 column
 *     one_hot      category; "categories": non-empty unique list (strings of
 *                  valid UTF-8, at most 1024 bytes each, as are map keys); one column
 *                  per category, plus a trailing "other" column when the
 *                  input's unknown policy is "other"
 *     ordinal      category; "map": {category: number}; 1 column
 *     frequency    category; "map": {category: number}; 1 column
 *     datetime     datetime; "parts": non-empty list of year, month (1-12),
 *                  day (1-31), hour, minute_of_day (0-1439), day_of_week
 *                  (Monday = 0 .. Sunday = 6), day_of_year (1-366),
 *                  is_weekend (1 on Saturday and Sunday); 1 column per part
 *   description  free text, ignored
 *   At most 100000 columns in all. Inputs no feature uses are allowed (they
 *   are still validated).
 *
 * Transforming raw inputs (a JSON object of name → value):
 *   - an unknown name is an error ("unknown field 'x'") unless lax;
 *   - a missing input takes its default, else is an error when required,
 *     else every column it feeds is NaN;
 *   - a category value is unknown when none of the input's features lists
 *     it: policy "error" fails listing the allowed values (the first 10 of
 *     all its features' categories); "missing" makes the columns NaN;
 *     "other" sets one_hot's "other" column to 1 (ordinal and frequency give
 *     NaN). A value one feature lists but another does not gives that other
 *     feature zeros (one_hot; its "other" column under policy "other") or
 *     NaN (ordinal, frequency);
 *   - datetimes must name a real moment: month 1-12, a day the month has,
 *     hour 0-23, minute and second 0-59 (no leap seconds), year 0000-9999.
 *   Error messages name the field and what was expected, e.g.
 *   "field 'origin': unknown category 'ORD'; allowed: 'LAX', 'JFK', 'SFO'".
 *
 * Column names (spec_feature_name): passthrough "distance", one_hot
 * "origin=LAX" and "origin=(other)", ordinal "origin.ordinal", frequency
 * "origin.frequency", datetime "date.hour".
 */

struct spec;

enum spec_task { SPEC_REGRESSION, SPEC_BINARY, SPEC_MULTICLASS };

/* Room for any message this module writes (longer ones are cut on a character boundary). */
#define SPEC_ERR_MAX 1024

/*
 * Compiles a spec; NULL with a message in err. The caller frees the result
 * with spec_free; j is not kept. The spec is immutable afterwards and may be
 * shared by threads.
 */
struct spec *spec_parse(json_t *j, char *err, size_t errlen);
void spec_free(struct spec *s);

size_t spec_width(const struct spec *s);                 /* feature vector length */
enum spec_task spec_task(const struct spec *s);
size_t spec_nclasses(const struct spec *s);              /* 0 for regression */
const char *spec_class_label(const struct spec *s, size_t i);
double spec_threshold(const struct spec *s);
size_t spec_ninputs(const struct spec *s);
const char *spec_input_name(const struct spec *s, size_t i);
const char *spec_input_type(const struct spec *s, size_t i);   /* "number", ... */
int spec_input_required(const struct spec *s, size_t i);
/* The index of the input called name, or -1. */
long spec_input_index(const struct spec *s, const char *name);
/* The input a feature column comes from (to sum SHAP contributions per raw field). */
size_t spec_feature_input(const struct spec *s, size_t feature);
/* A human name per column: "origin=LAX", "date.hour", "distance"; valid while s lives. */
const char *spec_feature_name(const struct spec *s, size_t feature);
/*
 * The input's category list (one_hot categories or map keys of its first
 * category feature, in spec order) for HTML selects; NULL/0 when none.
 * Borrowed from s.
 */
size_t spec_input_categories(const struct spec *s, size_t i, const char *const **out);
/* Default value as JSON (borrowed from s) or NULL. */
json_t *spec_input_default(const struct spec *s, size_t i);
/* A datetime input's format (borrowed from s), or NULL for ISO 8601 (and other types). */
const char *spec_input_format(const struct spec *s, size_t i);
/* A datetime input's timezone in seconds east of UTC (0 for other types). */
int spec_input_tzoff(const struct spec *s, size_t i);

/*
 * The text a JSON number has as a category value (90210 -> "90210", 2.5 ->
 * "2.5"): what one_hot categories and map keys are matched against.
 */
void spec_number_text(json_t *j, char *buf, size_t size);

/*
 * Raw inputs (a JSON object) → out[0..spec_width). Returns 0, or -1 with a
 * message naming the field in err (out is then partly written). lax: ignore
 * unknown fields. Thread-safe; allocates nothing (the hot path of every
 * prediction).
 */
int spec_transform(const struct spec *s, json_t *inputs, int lax, float *out,
    char *err, size_t errlen) WUR;

/* One raw input as serving reads it (spec_read). */
struct spec_value {
	int present;            /* 0: missing without a default (NaN to the booster) */
	double num;             /* number, integer, boolean (0/1); datetime: seconds
	                           since 1970-01-01 in the input's timezone */
	const char *s;          /* category bytes: into the inputs object, or text */
	size_t len;
	char text[40];          /* a category spelled from a JSON number */
};

/*
 * spec_transform that also hands out each input's typed value into
 * vals[0..spec_ninputs) (s of a value may point into inputs or into the
 * value's own text: do not copy a spec_value by assignment and keep s).
 * out may be NULL: no columns are written, every check still runs (types,
 * required, the "error" policy for unknown categories). Same messages as
 * spec_transform.
 */
int spec_read(const struct spec *s, json_t *inputs, int lax, float *out,
    struct spec_value *vals, char *err, size_t errlen) WUR;

#endif
