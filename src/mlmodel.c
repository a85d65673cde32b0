/* mlmodel.c: MLmodel YAML into JSON (libyaml's document API), and the passthrough spec of an xgboost-flavor model's column signature. */
#include "mlmodel.h"

#include <stdio.h>
#include <string.h>

#include <yaml.h>

#define NODES_MAX 100000
#define DEPTH_MAX 64

struct conv {
	yaml_document_t *doc;
	long budget;            /* nodes left: aliases can make a tree exponential */
};

static json_t *
convert(struct conv *c, yaml_node_t *n, int depth)
{
	json_t *out = NULL;

	if (n == NULL || depth > DEPTH_MAX || --c->budget < 0)
		return NULL;
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return json_stringn((const char *)n->data.scalar.value, n->data.scalar.length);
	case YAML_SEQUENCE_NODE:
		out = json_array();
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		    it < n->data.sequence.items.top; it++) {
			json_t *v = convert(c, yaml_document_get_node(c->doc, *it), depth + 1);

			if (v == NULL || json_array_append_new(out, v) == -1) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	case YAML_MAPPING_NODE:
		out = json_object();
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		    p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
			json_t *v;

			/* MLmodel keys are plain strings; anything else is not an MLmodel. */
			if (k == NULL || k->type != YAML_SCALAR_NODE || memchr(k->data.scalar.value,
			    '\0', k->data.scalar.length) != NULL) {
				json_decref(out);
				return NULL;
			}
			v = convert(c, yaml_document_get_node(c->doc, p->value), depth + 1);
			if (v == NULL || json_object_setn_new(out, (const char *)k->data.scalar.value,
			    k->data.scalar.length, v) == -1) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	case YAML_NO_NODE:
		break;
	}
	return NULL;
}

json_t *
mlmodel_parse(const char *text, size_t len, char *err, size_t errlen)
{
	yaml_parser_t p;
	yaml_document_t doc;
	struct conv c;
	json_t *out = NULL;

	if (len > MLMODEL_MAX) {
		snprintf(err, errlen, "MLmodel is larger than %u bytes", MLMODEL_MAX);
		return NULL;
	}
	if (!yaml_parser_initialize(&p)) {
		snprintf(err, errlen, "cannot start the YAML parser");
		return NULL;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (!yaml_parser_load(&p, &doc)) {
		snprintf(err, errlen, "MLmodel is not valid YAML: %s at line %zu",
		    p.problem ? p.problem : "error", p.problem_mark.line + 1);
		yaml_parser_delete(&p);
		return NULL;
	}
	c.doc = &doc;
	c.budget = NODES_MAX;
	out = convert(&c, yaml_document_get_root_node(&doc), 0);
	if (out == NULL)
		snprintf(err, errlen, "MLmodel is empty, too large or too deep, or has "
		    "keys that are not strings");
	else if (!json_is_object(out)) {
		snprintf(err, errlen, "MLmodel must be a YAML mapping");
		json_decref(out);
		out = NULL;
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	return out;
}

const char *
mlmodel_xgboost_data(json_t *m)
{
	json_t *x = json_object_get(json_object_get(m, "flavors"), "xgboost");

	if (!json_is_object(x))
		return NULL;
	return json_string_value(json_object_get(x, "data"));
}

/* MLflow's column types that a booster reads as a number, and their spec type. */
static const char *
spec_type(const char *mlflow_type)
{
	static const struct { const char *mlflow, *spec; } map[] = {
		{ "double", "number" }, { "float", "number" },
		{ "long", "integer" }, { "integer", "integer" },
		{ "boolean", "boolean" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].mlflow, mlflow_type))
			return map[i].spec;
	return NULL;
}

json_t *
mlmodel_spec(json_t *m, const char *objective, int num_class, int *no_signature,
    char *err, size_t errlen)
{
	const char *text = json_string_value(json_object_get(json_object_get(m, "signature"),
	    "inputs"));
	json_t *cols = NULL, *spec = NULL, *inputs, *features, *col;
	json_error_t je;
	size_t i;

	*no_signature = 0;
	if (text == NULL || !strcmp(text, "null") || *text == '\0') {
		*no_signature = 1;
		snprintf(err, errlen, "the model has no signature");
		return NULL;
	}
	if ((cols = json_loads(text, JSON_REJECT_DUPLICATES, &je)) == NULL ||
	    !json_is_array(cols) || json_array_size(cols) == 0) {
		snprintf(err, errlen, "signature.inputs must be a JSON list of columns");
		goto fail;
	}
	inputs = json_array();
	features = json_array();
	spec = json_pack("{s:o, s:o}", "inputs", inputs, "features", features);
	json_array_foreach(cols, i, col) {
		const char *name = json_string_value(json_object_get(col, "name"));
		const char *type = json_string_value(json_object_get(col, "type"));
		const char *st;
		json_t *req = json_object_get(col, "required");

		if (name == NULL || type == NULL) {
			snprintf(err, errlen, "signature input %zu has no name or type: only "
			    "column signatures (a DataFrame's) give a feature spec; store a "
			    "verdict-spec.json beside the model", i);
			goto fail;
		}
		if ((st = spec_type(type)) == NULL) {
			if (!strcmp(type, "string"))
				snprintf(err, errlen, "signature column '%.100s' is a string: a "
				    "booster reads numbers, and how the strings were encoded in "
				    "training is not in the model; store a verdict-spec.json beside "
				    "the model that says it (one_hot, ordinal or frequency)", name);
			else
				snprintf(err, errlen, "signature column '%.100s' has type '%.40s'; "
				    "only double, float, long, integer and boolean columns pass "
				    "through to the booster (or store a verdict-spec.json beside the "
				    "model)", name, type);
			goto fail;
		}
		json_array_append_new(inputs, json_pack("{s:s, s:s, s:b}", "name", name,
		    "type", st, "required", req == NULL || json_is_true(req)));
		json_array_append_new(features, json_pack("{s:s}", "input", name));
	}
	if (objective != NULL && !strcmp(objective, "binary:logistic")) {
		json_object_set_new(spec, "task", json_string("binary"));
		json_object_set_new(spec, "classes", json_pack("[s, s]", "0", "1"));
	} else if (objective != NULL && !strcmp(objective, "multi:softprob") &&
	    num_class >= 2) {
		json_t *classes = json_array();

		for (int k = 0; k < num_class && k < 100000; k++) {
			char label[16];

			snprintf(label, sizeof(label), "%d", k);
			json_array_append_new(classes, json_string(label));
		}
		json_object_set_new(spec, "task", json_string("multiclass"));
		json_object_set_new(spec, "classes", classes);
	} else
		json_object_set_new(spec, "task", json_string("regression"));
	json_decref(cols);
	return spec;
fail:
	json_decref(cols);
	json_decref(spec);
	return NULL;
}
