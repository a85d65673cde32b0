/* api-serving.c: the MLflow scoring protocol (/invocations, /ping, /health) and the Open Inference Protocol v2 (/v2/...), both on serving_predict. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "handlers.h"
#include "registry.h"
#include "spec.h"
#include "csvtab.h"

/* ---- CSV bodies: a header row, then one row per prediction ---- */

/* Rows from a CSV body (an empty cell is a missing value), or NULL after answering 400/413. */
static json_t *
csv_rows(struct req *r)
{
	struct csv_table t;
	char err[160];
	json_t *rows = NULL, *o;
	int rc = csv_table_parse(r->a, r->body, r->body_len, PREDICT_MAX_BATCH, &t, err,
	    sizeof(err));

	if (rc == -2) {
		resp_error(r, 413, "PAYLOAD_TOO_LARGE", "more than %d rows", PREDICT_MAX_BATCH);
		return NULL;
	}
	if (rc == -3)
		return NULL;
	if (rc == 0 && t.n < 2)
		snprintf(err, sizeof(err), "the CSV has a header but no rows");
	for (size_t k = 0; rc == 0 && t.n > 0 && k < t.rec[0].nf; k++)
		if (t.rec[0].len[k] == 0 || !utf8_valid(t.rec[0].f[k], t.rec[0].len[k])) {
			snprintf(err, sizeof(err), "CSV header column %zu is empty or not valid "
			    "UTF-8", k + 1);
			rc = -1;
		}
	if (rc != 0 || t.n < 2) {
		resp_error(r, 400, "BAD_REQUEST", "%s", err);
		return NULL;
	}
	rows = json_array();
	for (size_t i = 1; i < t.n; i++) {
		const struct csv_record *rec = &t.rec[i];
		long bad;

		if (rec->nf > t.rec[0].nf) {
			resp_error(r, 400, "BAD_REQUEST", "CSV row %zu (line %ld) has more columns "
			    "than the header", i, rec->line);
			goto fail;
		}
		if ((o = csv_record_json(&t, i, &bad)) == NULL) {
			if (bad < 0)
				goto fail;
			resp_error(r, 400, "BAD_REQUEST", "CSV row %zu column '%.64s' is not "
			    "valid UTF-8", i, t.rec[0].f[bad]);
			goto fail;
		}
		json_array_append_new(rows, o);
	}
	return rows;
fail:
	json_decref(rows);
	return NULL;
}

/* ---- MLflow's JSON input formats → rows ---- */

static json_t *
columns_to_rows(json_t *columns, json_t *data, char *err, size_t errlen)
{
	json_t *rows = json_array();
	size_t i;
	json_t *rec;

	json_array_foreach(data, i, rec) {
		json_t *o = json_object();
		size_t k;
		json_t *v;

		if (!json_is_array(rec) || json_array_size(rec) != json_array_size(columns)) {
			snprintf(err, errlen, "dataframe_split: data[%zu] must be a list of %zu "
			    "values", i, json_array_size(columns));
			json_decref(o);
			json_decref(rows);
			return NULL;
		}
		json_array_foreach(rec, k, v)
			if (!json_is_null(v))
				json_object_set(o, json_string_value(json_array_get(columns, k)), v);
		json_array_append_new(rows, o);
	}
	return rows;
}

static json_t *
json_rows(struct req *r)
{
	json_t *j = r->json, *v, *rows = NULL;
	char err[256] = "";

	if (!json_is_object(j)) {
		resp_error(r, 400, "BAD_REQUEST", "the body must be a JSON object with one of "
		    "dataframe_split, dataframe_records, instances, inputs");
		return NULL;
	}
	if ((v = json_object_get(j, "dataframe_split")) != NULL) {
		json_t *cols = json_object_get(v, "columns"), *data = json_object_get(v, "data");
		size_t i;
		json_t *c;

		if (!json_is_array(cols) || !json_is_array(data))
			snprintf(err, sizeof(err), "dataframe_split needs 'columns' and 'data' lists");
		else {
			json_array_foreach(cols, i, c)
				if (!json_is_string(c)) {
					snprintf(err, sizeof(err), "dataframe_split: columns must be strings");
					break;
				}
			if (err[0] == '\0')
				rows = columns_to_rows(cols, data, err, sizeof(err));
		}
	} else if ((v = json_object_get(j, "dataframe_records")) != NULL ||
	    (v = json_object_get(j, "instances")) != NULL) {
		if (!json_is_array(v))
			snprintf(err, sizeof(err), "dataframe_records/instances must be a list of "
			    "objects");
		else
			rows = json_incref(v);
	} else if ((v = json_object_get(j, "inputs")) != NULL) {
		if (json_is_array(v))
			rows = json_incref(v);
		else if (json_is_object(v)) {
			/* Column-oriented: {"a": [1, 2], "b": [3, 4]}. */
			const char *key;
			json_t *col, *names = json_array(), *data = json_array();
			size_t n = (size_t)-1;

			json_object_foreach(v, key, col) {
				if (!json_is_array(col) || (n != (size_t)-1 &&
				    json_array_size(col) != n)) {
					snprintf(err, sizeof(err), "inputs: every column must be a list "
					    "of the same length");
					break;
				}
				n = json_array_size(col);
				json_array_append_new(names, json_string(key));
			}
			if (err[0] == '\0' && n != (size_t)-1) {
				for (size_t i = 0; i < n; i++) {
					json_t *rec = json_array();

					json_object_foreach(v, key, col)
						json_array_append(rec, json_array_get(col, i));
					json_array_append_new(data, rec);
				}
				rows = columns_to_rows(names, data, err, sizeof(err));
			}
			json_decref(names);
			json_decref(data);
		} else
			snprintf(err, sizeof(err), "inputs must be a list of objects or an object "
			    "of columns");
	} else
		snprintf(err, sizeof(err), "the body must have one of dataframe_split, "
		    "dataframe_records, instances, inputs");
	if (err[0] != '\0') {
		json_decref(rows);
		resp_error(r, 400, "BAD_REQUEST", "%s", err);
		return NULL;
	}
	if (json_array_size(rows) == 0) {
		json_decref(rows);
		resp_error(r, 400, "BAD_REQUEST", "no rows to score");
		return NULL;
	}
	if (json_array_size(rows) > PREDICT_MAX_BATCH) {
		json_decref(rows);
		resp_error(r, 413, "PAYLOAD_TOO_LARGE", "at most %d rows per request",
		    PREDICT_MAX_BATCH);
		return NULL;
	}
	return rows;
}

/*
 * POST /invocations: MLflow's scoring protocol for ?model=NAME or the
 * configured default_model. {"predictions": [...]}: the value for
 * regression, the label for classification.
 */
int
api_invocations(struct req *r)
{
	const struct param *mp = params_get(&r->query_params, "model");
	const char *name = mp ? mp->value : r->app->cfg.default_model;
	json_t *rows, *out, *preds, *p;
	size_t i;
	int rc;

	if (name[0] == '\0') {
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "no model: pass ?model=NAME or "
		    "set default_model in the configuration");
		return 0;
	}
	if (r->body_len == 0) {
		resp_error(r, 400, "BAD_REQUEST", "empty body: send JSON (dataframe_split, "
		    "dataframe_records, instances or inputs) or text/csv with a header row");
		return 0;
	}
	rows = r->json != NULL ? json_rows(r) : csv_rows(r);
	if (rows == NULL)
		return 0;
	rc = serving_predict(r, name, SEL_DEFAULT, "", rows, NULL, 0, 0, &out);
	json_decref(rows);
	if (rc != 0)
		return rc == 1 ? 0 : -1;
	preds = json_array();
	json_array_foreach(json_object_get(out, "predictions"), i, p)
		json_array_append(preds, json_object_get(p, "label") ?
		    json_object_get(p, "label") : json_object_get(p, "value"));
	json_decref(out);
	return resp_json(r, 200, json_pack("{s:o}", "predictions", preds));
}

int
api_ping(struct req *r)
{
	return resp_text(r, 200, "application/json", "{}", 2);
}

/* ---- Open Inference Protocol v2 ---- */

int
api_v2_live(struct req *r)
{
	return resp_json(r, 200, json_pack("{s:b}", "live", 1));
}

int
api_v2_ready(struct req *r)
{
	return resp_json(r, 200, json_pack("{s:b}", "ready", 1));
}

static const char *
v2_datatype(const char *type)
{
	if (!strcmp(type, "number"))
		return "FP64";
	if (!strcmp(type, "integer"))
		return "INT64";
	if (!strcmp(type, "boolean"))
		return "BOOL";
	return "BYTES";
}

/* The model for /v2/models/{name}[/versions/{version}]; NULL after answering. */
static struct model *
v2_model(struct req *r)
{
	const char *ver = req_path_param(r, "version");
	char err[512];
	int status;
	struct model *m = model_acquire(r->db, req_path_param(r, "name"),
	    ver[0] ? SEL_VERSION : SEL_DEFAULT, ver, &status, err, sizeof(err));

	if (m == NULL) {
		if (status == 404)
			resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "%s", err);
		else
			resp_error(r, 503, "TEMPORARILY_UNAVAILABLE", "%s", err);
	}
	return m;
}

int
api_v2_model(struct req *r)
{
	struct model *m = v2_model(r);
	json_t *inputs, *outputs;
	char v[16];

	if (m == NULL)
		return 0;
	inputs = json_array();
	for (size_t i = 0; i < spec_ninputs(m->spec); i++)
		json_array_append_new(inputs, json_pack("{s:s, s:s, s:[i]}", "name",
		    spec_input_name(m->spec, i), "datatype",
		    v2_datatype(spec_input_type(m->spec, i)), "shape", -1));
	outputs = json_pack("[{s:s, s:s, s:[i]}]", "name", "predict", "datatype",
	    spec_task(m->spec) == SPEC_REGRESSION ? "FP64" : "BYTES", "shape", -1);
	if (spec_task(m->spec) != SPEC_REGRESSION)
		json_array_append_new(outputs, json_pack("{s:s, s:s, s:[i,i]}", "name",
		    "probabilities", "datatype", "FP64", "shape", -1,
		    (int)spec_nclasses(m->spec)));
	snprintf(v, sizeof(v), "%d", m->version);
	model_release(m);
	return resp_json(r, 200, json_pack("{s:s, s:[s], s:s, s:o, s:o}", "name",
	    req_path_param(r, "name"), "versions", v, "platform", "xgboost", "inputs", inputs,
	    "outputs", outputs));
}

int
api_v2_model_ready(struct req *r)
{
	struct model *m = v2_model(r);

	if (m == NULL)
		return 0;
	model_release(m);
	return resp_json(r, 200, json_pack("{s:s, s:b}", "name", req_path_param(r, "name"),
	    "ready", 1));
}

/*
 * POST .../infer: one tensor per raw field, shape [N] or [N, 1], flattened
 * data; BYTES carries strings. Row i takes element i of every tensor.
 */
int
api_v2_infer(struct req *r)
{
	json_t *inputs = r->in[1].json, *rows = NULL, *out, *preds, *t, *p;
	const char *ver = req_path_param(r, "version");
	size_t n = (size_t)-1, i;
	json_t *labels, *probs;
	int rc, classify;

	if (!json_is_array(inputs) || json_array_size(inputs) == 0) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE",
		    "field 'inputs': must be a non-empty list of tensors");
		return 0;
	}
	json_array_foreach(inputs, i, t) {
		json_t *data = json_object_get(t, "data"), *shape = json_object_get(t, "shape");

		if (!json_is_string(json_object_get(t, "name")) || !json_is_array(data) ||
		    !json_is_array(shape) || json_array_size(shape) < 1 ||
		    (n != (size_t)-1 && json_array_size(data) != n)) {
			resp_error(r, 400, "INVALID_PARAMETER_VALUE", "inputs[%zu]: needs a "
			    "name, a shape [N] or [N, 1] and N data values, the same N for "
			    "every input", i);
			return 0;
		}
		n = json_array_size(data);
	}
	if (n == 0 || n > PREDICT_MAX_BATCH) {
		resp_error(r, n ? 413 : 400, n ? "PAYLOAD_TOO_LARGE" : "INVALID_PARAMETER_VALUE",
		    "between 1 and %d rows per request", PREDICT_MAX_BATCH);
		return 0;
	}
	rows = json_array();
	for (size_t k = 0; k < n; k++) {
		json_t *o = json_object();

		json_array_foreach(inputs, i, t)
			json_object_set(o, json_string_value(json_object_get(t, "name")),
			    json_array_get(json_object_get(t, "data"), k));
		json_array_append_new(rows, o);
	}
	rc = serving_predict(r, req_path_param(r, "name"), ver[0] ? SEL_VERSION : SEL_DEFAULT,
	    ver, rows, NULL, 0, 0, &out);
	json_decref(rows);
	if (rc != 0)
		return rc == 1 ? 0 : -1;
	preds = json_object_get(out, "predictions");
	classify = json_object_get(json_array_get(preds, 0), "label") != NULL;
	labels = json_array();
	probs = json_array();
	{
		json_t *ids = json_array(), *outputs;
		size_t nclasses = 0;

		json_array_foreach(preds, i, p) {
			json_array_append(labels, classify ? json_object_get(p, "label") :
			    json_object_get(p, "value"));
			json_array_append(ids, json_object_get(p, "prediction_id"));
			if (classify) {
				const char *k;
				json_t *pv;

				nclasses = json_object_size(json_object_get(p, "probabilities"));
				json_object_foreach(json_object_get(p, "probabilities"), k, pv)
					json_array_append(probs, pv);
			}
		}
		outputs = json_pack("[{s:s, s:s, s:[I], s:o}]", "name", "predict", "datatype",
		    classify ? "BYTES" : "FP64", "shape", (json_int_t)n, "data", labels);
		if (classify)
			json_array_append_new(outputs, json_pack("{s:s, s:s, s:[I,I], s:o}",
			    "name", "probabilities", "datatype", "FP64", "shape", (json_int_t)n,
			    (json_int_t)nclasses, "data", probs));
		else
			json_decref(probs);
		t = json_pack("{s:s, s:O, s:o, s:{s:o}}", "model_name",
		    json_string_value(json_object_get(out, "model")), "model_version",
		    json_object_get(out, "version"), "outputs", outputs, "parameters",
		    "prediction_ids", ids);
	}
	/* model_version is a string in the protocol. */
	json_object_set_new(t, "model_version", json_sprintf("%lld",
	    (long long)json_integer_value(json_object_get(out, "version"))));
	if (r->in[0].present)
		json_object_set_new(t, "id", json_stringn(r->in[0].s, r->in[0].len));
	json_decref(out);
	return resp_json(r, 200, t);
}
