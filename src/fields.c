/* fields.c: validate raw parameters or a JSON object against a route's declared fields. */
#include "fields.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *
type_name(enum field_type t)
{
	switch (t) {
	case FT_STRING: return "a string";
	case FT_INT: return "an integer";
	case FT_NUMBER: return "a number";
	case FT_BOOL: return "true or false";
	case FT_ENUM: return "one of the listed values";
	case FT_FILE: return "a file upload";
	case FT_JSON: return "a JSON value";
	case FT_LIST: return "a list of strings";
	}
	return "a value";
}

static int
check_string(const struct field *f, const char *s, size_t len, struct value *v,
    char *err, size_t errlen)
{
	if (!utf8_valid(s, len)) {
		snprintf(err, errlen, "field '%s': must be valid UTF-8 without NUL bytes",
		    f->name);
		return -1;
	}
	if (f->type == FT_ENUM) {
		for (const char *const *c = f->choices; c != NULL && *c != NULL; c++)
			if (strlen(*c) == len && memcmp(*c, s, len) == 0)
				goto ok;
		snprintf(err, errlen, "field '%s': must be one of", f->name);
		for (const char *const *c = f->choices; c != NULL && *c != NULL; c++) {
			size_t used = strlen(err);

			snprintf(err + used, errlen - used, "%s '%s'",
			    c == f->choices ? "" : ",", *c);
		}
		return -1;
	}
	if ((long long)len < f->min) {
		if (f->min == 1)
			snprintf(err, errlen, "field '%s': must not be empty", f->name);
		else
			snprintf(err, errlen, "field '%s': must be at least %lld bytes",
			    f->name, f->min);
		return -1;
	}
	if (f->max > 0 && (long long)len > f->max) {
		snprintf(err, errlen, "field '%s': must be at most %lld bytes",
		    f->name, f->max);
		return -1;
	}
ok:
	v->s = s;
	v->len = len;
	return 0;
}

static int
check_int(const struct field *f, long long i, struct value *v, char *err,
    size_t errlen)
{
	if ((f->min != 0 || f->max != 0) && (i < f->min || i > f->max)) {
		snprintf(err, errlen, "field '%s': must be between %lld and %lld",
		    f->name, f->min, f->max);
		return -1;
	}
	v->i = i;
	return 0;
}

static int
check_number(const struct field *f, double d, struct value *v, char *err,
    size_t errlen)
{
	if (!isfinite(d)) {
		snprintf(err, errlen, "field '%s': must be a finite number", f->name);
		return -1;
	}
	if ((f->minf != 0 || f->maxf != 0) && (d < f->minf || d > f->maxf)) {
		snprintf(err, errlen, "field '%s': must be between %g and %g",
		    f->name, f->minf, f->maxf);
		return -1;
	}
	v->d = d;
	return 0;
}

/* A value that arrived as text (query, form, multipart, or a JSON string). */
static int
from_text(const struct field *f, const char *s, size_t len, struct value *v,
    char *err, size_t errlen)
{
	char tmp[64], *end;

	switch (f->type) {
	case FT_STRING:
	case FT_ENUM:
		return check_string(f, s, len, v, err, errlen);
	case FT_INT:
	case FT_NUMBER:
		if (len == 0 || len >= sizeof(tmp) || memchr(s, '\0', len) != NULL)
			goto bad;
		memcpy(tmp, s, len);
		tmp[len] = '\0';
		errno = 0;
		if (f->type == FT_INT) {
			long long i = strtoll(tmp, &end, 10);

			if (errno != 0 || *end != '\0' || tmp[0] == ' ' || tmp[0] == '+')
				goto bad;
			return check_int(f, i, v, err, errlen);
		} else {
			double d = strtod(tmp, &end);

			if (errno == ERANGE || *end != '\0' || tmp[0] == ' ')
				goto bad;
			return check_number(f, d, v, err, errlen);
		}
	case FT_BOOL:
		if ((len == 4 && !memcmp(s, "true", 4)) || (len == 2 && !memcmp(s, "on", 2)) ||
		    (len == 1 && s[0] == '1'))
			v->b = 1;
		else if ((len == 5 && !memcmp(s, "false", 5)) || (len == 1 && s[0] == '0'))
			v->b = 0;
		else
			goto bad;
		return 0;
	case FT_FILE:
	case FT_JSON:
	case FT_LIST:
		goto bad;
	}
bad:
	snprintf(err, errlen, "field '%s': must be %s", f->name, type_name(f->type));
	return -1;
}

static int
from_json(const struct field *f, json_t *j, struct value *v, char *err,
    size_t errlen)
{
	if (f->type == FT_JSON) {
		v->json = j;
		return 0;
	}
	if (json_is_string(j))
		return from_text(f, json_string_value(j), json_string_length(j),
		    v, err, errlen);
	switch (f->type) {
	case FT_INT:
		if (json_is_integer(j))
			return check_int(f, json_integer_value(j), v, err, errlen);
		break;
	case FT_NUMBER:
		if (json_is_number(j))
			return check_number(f, json_number_value(j), v, err, errlen);
		break;
	case FT_BOOL:
		if (json_is_boolean(j)) {
			v->b = json_is_true(j);
			return 0;
		}
		break;
	default:
		break;
	}
	snprintf(err, errlen, "field '%s': must be %s", f->name, type_name(f->type));
	return -1;
}

static int
list_item(struct arena *a, const struct field *f, const char *s, size_t len,
    struct value *v, size_t i, char *err, size_t errlen)
{
	if (!utf8_valid(s, len) || (f->max > 0 && (long long)len > f->max)) {
		snprintf(err, errlen, "field '%s': item %zu must be valid UTF-8 of at most "
		    "%lld bytes", f->name, i, f->max);
		return -1;
	}
	if ((v->list[i] = arena_strndup(a, s, len)) == NULL) {
		snprintf(err, errlen, "field '%s': too large", f->name);
		return -1;
	}
	return 0;
}

/* FT_LIST from a JSON array of strings or integers. */
static int
list_from_json(struct arena *a, const struct field *f, json_t *j, struct value *v,
    char *err, size_t errlen)
{
	size_t n = json_array_size(j);

	if (!json_is_array(j) || (v->list = arena_alloc(a, (n + 1) * sizeof(char *))) == NULL) {
		snprintf(err, errlen, "field '%s': must be %s", f->name, type_name(f->type));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(j, i);
		char num[32];

		if (json_is_string(e)) {
			if (list_item(a, f, json_string_value(e), json_string_length(e), v, i,
			    err, errlen) == -1)
				return -1;
		} else if (json_is_integer(e)) {
			snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(e));
			if (list_item(a, f, num, strlen(num), v, i, err, errlen) == -1)
				return -1;
		} else {
			snprintf(err, errlen, "field '%s': must be %s", f->name, type_name(f->type));
			return -1;
		}
	}
	v->nlist = n;
	return 0;
}

/* FT_LIST from every parameter of that name, in order. */
static int
list_from_params(struct arena *a, const struct field *f, const struct params *params,
    struct value *v, char *err, size_t errlen)
{
	size_t n = (size_t)params_count(params, f->name), k = 0;

	if ((v->list = arena_alloc(a, (n + 1) * sizeof(char *))) == NULL) {
		snprintf(err, errlen, "field '%s': too large", f->name);
		return -1;
	}
	for (size_t p = 0; p < params->n; p++)
		if (!strcmp(params->v[p].name, f->name) && list_item(a, f, params->v[p].value,
		    params->v[p].value_len, v, k++, err, errlen) == -1)
			return -1;
	v->nlist = k;
	return 0;
}

int
fields_validate(struct arena *a, const struct field *spec, size_t n,
    const struct params *params, json_t *json, int strict, struct value *out,
    char *err, size_t errlen)
{
	memset(out, 0, n * sizeof(*out));
	if (json != NULL && !json_is_object(json)) {
		snprintf(err, errlen, "request body must be a JSON object");
		return -1;
	}
	if (strict && json != NULL) {
		const char *key;
		json_t *val;

		json_object_foreach(json, key, val) {
			size_t k;

			for (k = 0; k < n; k++)
				if (!strcmp(spec[k].name, key))
					break;
			if (k == n) {
				snprintf(err, errlen, "unknown field '%.64s'", key);
				return -1;
			}
		}
	} else if (strict && params != NULL) {
		for (size_t p = 0; p < params->n; p++) {
			size_t k;

			for (k = 0; k < n; k++)
				if (!strcmp(spec[k].name, params->v[p].name))
					break;
			if (k == n) {
				snprintf(err, errlen, "unknown field '%.64s'",
				    params->v[p].name);
				return -1;
			}
		}
	}
	for (size_t k = 0; k < n; k++) {
		const struct field *f = &spec[k];
		struct value *v = &out[k];

		if (json != NULL) {
			json_t *j = json_object_get(json, f->name);

			if (j == NULL || json_is_null(j))
				goto missing;
			if (f->type == FT_LIST) {
				if (list_from_json(a, f, j, v, err, errlen) == -1)
					return -1;
			} else if (from_json(f, j, v, err, errlen) == -1)
				return -1;
		} else {
			const struct param *p = params != NULL ?
			    params_get(params, f->name) : NULL;

			if (p == NULL)
				goto missing;
			if (f->type != FT_LIST && params_count(params, f->name) > 1) {
				snprintf(err, errlen, "field '%s': given more than once",
				    f->name);
				return -1;
			}
			if (f->type == FT_LIST) {
				if (list_from_params(a, f, params, v, err, errlen) == -1)
					return -1;
			} else if (f->type == FT_FILE) {
				if (p->filename == NULL) {
					snprintf(err, errlen, "field '%s': must be a file upload",
					    f->name);
					return -1;
				}
				if (f->max > 0 && (long long)p->value_len > f->max) {
					snprintf(err, errlen, "field '%s': file larger than %lld bytes",
					    f->name, f->max);
					return -1;
				}
				/* A browser's "no file chosen" is an empty part. */
				if (p->filename[0] == '\0' && p->value_len == 0)
					goto missing;
				v->s = p->value;
				v->len = p->value_len;
				v->filename = p->filename;
				v->content_type = p->content_type;
			} else if (from_text(f, p->value, p->value_len, v, err,
			    errlen) == -1)
				return -1;
		}
		v->present = 1;
		continue;
missing:
		if (f->required) {
			snprintf(err, errlen, "field '%s': required", f->name);
			return -1;
		}
	}
	return 0;
}
