/* hpspace.c: hyperparameter search spaces for `verdict train --search` — the JSON format, its checks against what XGBoost accepts, seeded random samples. */
#include "hpspace.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUNDS_MAX 100000       /* as --rounds (train.c) */

/*
 * The hyperparameters a space may name and the values XGBoost accepts for
 * each: [min, max], min excluded when open_min.
 */
static const struct hpkey {
	const char *name, *synonym;
	double min, max;
	int open_min, integer;
} hpkeys[] = {
	{ "max_depth", NULL, 0, INT_MAX, 0, 1 },
	{ "eta", "learning_rate", 0, INFINITY, 0, 0 },
	{ "subsample", NULL, 0, 1, 1, 0 },
	{ "colsample_bytree", NULL, 0, 1, 1, 0 },
	{ "min_child_weight", NULL, 0, INFINITY, 0, 0 },
	{ "lambda", "reg_lambda", 0, INFINITY, 0, 0 },
	{ "alpha", "reg_alpha", 0, INFINITY, 0, 0 },
	{ "gamma", "min_split_loss", 0, INFINITY, 0, 0 },
	{ "n_estimators", "num_boost_round", 1, ROUNDS_MAX, 0, 1 },
};

enum hp_kind { HP_UNIFORM, HP_LOG_UNIFORM, HP_INT, HP_CHOICE };

static const char *const kind_names[] = { "uniform", "log_uniform", "int", "choice" };

struct hpdim {
	const struct hpkey *key;
	enum hp_kind kind;
	double lo, hi;
	struct hp_value *choice;
	size_t nchoice;
};

_Static_assert(ARRAY_LEN(hpkeys) == HP_DIMS_MAX, "HP_DIMS_MAX is the number of keys");

struct hpspace {
	struct hpdim dim[HP_DIMS_MAX];
	size_t n;
};

void
hpspace_free(struct hpspace *sp)
{
	if (sp == NULL)
		return;
	for (size_t i = 0; i < sp->n; i++)
		free(sp->dim[i].choice);
	free(sp);
}

size_t
hpspace_size(const struct hpspace *sp)
{
	return sp->n;
}

const char *
hpspace_name(const struct hpspace *sp, size_t i)
{
	return sp->dim[i].key->name;
}

const char *
hpspace_synonym(const struct hpspace *sp, size_t i)
{
	return sp->dim[i].key->synonym;
}

static int
in_domain(const struct hpkey *k, double v)
{
	return (k->open_min ? v > k->min : v >= k->min) && v <= k->max &&
	    (!k->integer || v == floor(v));
}

/* "[0, inf)", "(0, 1]", "integers 1 to 100000": what XGBoost accepts for k. */
static void
domain_text(const struct hpkey *k, char *buf, size_t len)
{
	if (k->integer)
		snprintf(buf, len, "integers %.0f to %.0f", k->min, k->max);
	else if (isinf(k->max))
		snprintf(buf, len, "%s%g, inf)", k->open_min ? "(" : "[", k->min);
	else
		snprintf(buf, len, "%s%g, %g]", k->open_min ? "(" : "[", k->min, k->max);
}

/* v as the shortest text that reads back as v. */
static void
exact_text(double v, char *buf, size_t len)
{
	for (int prec = 6; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

static int PRINTF(4, 5)
fail(const char *key, char *err, size_t len, const char *fmt, ...)
{
	char msg[HP_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, len, "key '%.100s': %s", key, msg);
	return -1;
}

/* A choice value: a number, or a string that is one. 0, or -1 with err. */
static int
choice_value(const char *key, const struct hpkey *k, json_t *v, size_t i,
    struct hp_value *out, char *err, size_t len)
{
	char dom[64];
	const char *s = json_string_value(v);
	char *end;

	if (json_is_number(v)) {
		out->num = json_number_value(v);
		exact_text(out->num, out->text, sizeof(out->text));
	} else if (s != NULL) {
		out->num = strtod(s, &end);
		if (*s == '\0' || *end != '\0' || !isfinite(out->num) || strlen(s) >= HP_TEXT_MAX)
			return fail(key, err, len, "choice value %zu, \"%.40s\", is not a number", i + 1,
			    s);
		snprintf(out->text, sizeof(out->text), "%s", s);
	} else
		return fail(key, err, len, "choice value %zu is not a number or a string", i + 1);
	if (!in_domain(k, out->num)) {
		domain_text(k, dom, sizeof(dom));
		return fail(key, err, len, "choice value %s is outside what XGBoost accepts, %s",
		    out->text, dom);
	}
	return 0;
}

/* One key's distribution into d. 0, or -1 with err. */
static int
parse_dim(const char *key, const struct hpkey *k, json_t *v, struct hpdim *d, char *err,
    size_t len)
{
	const char *kind = NULL;
	json_t *arg = NULL, *lo, *hi;
	char dom[64];
	size_t ki;

	if (json_is_object(v) && json_object_size(v) == 1) {
		json_object_foreach(v, kind, arg)
			break;
	}
	for (ki = 0; kind != NULL && ki < ARRAY_LEN(kind_names) && strcmp(kind, kind_names[ki]);
	    ki++)
		;
	if (kind == NULL || ki == ARRAY_LEN(kind_names))
		return fail(key, err, len, "expected one of {\"uniform\": [low, high]}, "
		    "{\"log_uniform\": [low, high]}, {\"int\": [low, high]}, {\"choice\": [v1, ...]}");
	d->key = k;
	d->kind = (enum hp_kind)ki;
	if (d->kind == HP_CHOICE) {
		if (!json_is_array(arg))
			return fail(key, err, len, "choice takes a list of values");
		if (json_array_size(arg) == 0)
			return fail(key, err, len, "choice is empty");
		if (json_array_size(arg) > HP_CHOICES_MAX)
			return fail(key, err, len, "choice has more than %d values", HP_CHOICES_MAX);
		if ((d->choice = calloc(json_array_size(arg), sizeof(*d->choice))) == NULL)
			return fail(key, err, len, "out of memory");
		for (size_t i = 0; i < json_array_size(arg); i++, d->nchoice++)
			if (choice_value(key, k, json_array_get(arg, i), i, &d->choice[i], err,
			    len) == -1)
				return -1;
		return 0;
	}
	lo = json_array_get(arg, 0);
	hi = json_array_get(arg, 1);
	if (!json_is_array(arg) || json_array_size(arg) != 2 || !json_is_number(lo) ||
	    !json_is_number(hi))
		return fail(key, err, len, "%s takes [low, high], two numbers", kind);
	d->lo = json_number_value(lo);
	d->hi = json_number_value(hi);
	if (k->integer && d->kind != HP_INT)
		return fail(key, err, len, "takes integers: use int or choice, not %s", kind);
	if (d->kind == HP_INT && (d->lo != floor(d->lo) || d->hi != floor(d->hi) ||
	    fabs(d->lo) > 9e15 || fabs(d->hi) > 9e15))
		return fail(key, err, len, "int takes two integers");
	if (d->lo > d->hi)
		return fail(key, err, len, "low %g is above high %g", d->lo, d->hi);
	if (d->kind == HP_LOG_UNIFORM && d->lo <= 0)
		return fail(key, err, len, "log_uniform needs low > 0, not %g", d->lo);
	if (!in_domain(k, d->lo) || !in_domain(k, d->hi)) {
		domain_text(k, dom, sizeof(dom));
		return fail(key, err, len, "[%g, %g] goes outside what XGBoost accepts, %s", d->lo,
		    d->hi, dom);
	}
	return 0;
}

struct hpspace *
hpspace_parse(const json_t *j, char *err, size_t len)
{
	struct hpspace *sp = NULL;
	const char *key;
	json_t *v;

	if (!json_is_object(j)) {
		snprintf(err, len, "the space must be a JSON object of hyperparameters and their "
		    "distributions");
		return NULL;
	}
	if (json_object_size(j) == 0) {
		snprintf(err, len, "the space names no hyperparameter");
		return NULL;
	}
	if ((sp = calloc(1, sizeof(*sp))) == NULL) {
		snprintf(err, len, "out of memory");
		return NULL;
	}
	json_object_foreach((json_t *)j, key, v) {
		const struct hpkey *k = NULL;

		for (size_t i = 0; i < ARRAY_LEN(hpkeys) && k == NULL; i++)
			if (!strcmp(key, hpkeys[i].name) || (hpkeys[i].synonym != NULL &&
			    !strcmp(key, hpkeys[i].synonym)))
				k = &hpkeys[i];
		if (k == NULL) {
			fail(key, err, len, "not a hyperparameter the search knows (max_depth, eta "
			    "or learning_rate, subsample, colsample_bytree, min_child_weight, lambda "
			    "or reg_lambda, alpha or reg_alpha, gamma, n_estimators)");
			goto bad;
		}
		for (size_t i = 0; i < sp->n; i++)
			if (sp->dim[i].key == k) {
				fail(key, err, len, "names '%s' a second time", k->name);
				goto bad;
			}
		if (parse_dim(key, k, v, &sp->dim[sp->n++], err, len) == -1)
			goto bad;
	}
	return sp;
bad:
	hpspace_free(sp);
	return NULL;
}

/* 64 random bits (wyrand's step): small, fast and plenty for sampling. */
static uint64_t
next_bits(uint64_t *state)
{
	unsigned __int128 m;

	*state += 0xa0761d6478bd642fULL;
	m = (unsigned __int128)*state * (*state ^ 0xe7037ed1a0b428dbULL);
	return (uint64_t)(m >> 64) ^ (uint64_t)m;
}

/* Uniform in [0, 1). */
static double
unit(uint64_t *state)
{
	return (double)(next_bits(state) >> 11) * 0x1.0p-53;
}

void
hpspace_sample(const struct hpspace *sp, uint64_t *state, struct hp_value *out)
{
	for (size_t i = 0; i < sp->n; i++) {
		const struct hpdim *d = &sp->dim[i];
		struct hp_value *o = &out[i];

		switch (d->kind) {
		case HP_CHOICE:
			*o = d->choice[next_bits(state) % d->nchoice];
			continue;
		case HP_INT: {
			uint64_t span = (uint64_t)((long long)d->hi - (long long)d->lo) + 1;

			o->num = (double)((long long)d->lo + (long long)(next_bits(state) % span));
			snprintf(o->text, sizeof(o->text), "%lld", (long long)o->num);
			continue;
		}
		case HP_UNIFORM:
			o->num = d->lo + unit(state) * (d->hi - d->lo);
			break;
		case HP_LOG_UNIFORM:
			o->num = exp(log(d->lo) + unit(state) * (log(d->hi) - log(d->lo)));
			break;
		}
		o->num = fmin(fmax(o->num, d->lo), d->hi);
		/* Six digits read well in a run's params; more only when six would round the
		 * value out of its range (or out of XGBoost's, as 0.0000001 for subsample). */
		snprintf(o->text, sizeof(o->text), "%.6g", o->num);
		if (!hpspace_contains(sp, i, strtod(o->text, NULL)))
			snprintf(o->text, sizeof(o->text), "%.17g", o->num);
		o->num = strtod(o->text, NULL);
	}
}

int
hpspace_contains(const struct hpspace *sp, size_t i, double v)
{
	const struct hpdim *d = &sp->dim[i];

	if (d->kind == HP_CHOICE) {
		for (size_t c = 0; c < d->nchoice; c++)
			if (d->choice[c].num == v)
				return 1;
		return 0;
	}
	return v >= d->lo && v <= d->hi && in_domain(d->key, v) && (d->kind != HP_INT ||
	    v == floor(v));
}
