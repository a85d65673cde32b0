/* hpspace.h: hyperparameter search spaces for `verdict train --search` — the JSON format, its checks against what XGBoost accepts, seeded random samples. */
#ifndef VERDICT_HPSPACE_H
#define VERDICT_HPSPACE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "util.h"

#define HP_DIMS_MAX 9           /* the hyperparameters a space may name */
#define HP_CHOICES_MAX 256      /* values of one choice */
#define HP_TEXT_MAX 32          /* a sampled value as text, with its NUL */
#define HP_ERR_MAX 512

/* One sampled value: the number, and the text XGBoost is given and the run logs. */
struct hp_value {
	double num;
	char text[HP_TEXT_MAX];
};

struct hpspace;

/*
 * The space in j (an object: hyperparameter → {"uniform": [lo, hi]},
 * {"log_uniform": [lo, hi]}, {"int": [lo, hi]} or {"choice": [v, ...]}); j is
 * not kept. NULL with err "key 'eta': why" (or "the space ..."). Caller frees.
 */
struct hpspace *hpspace_parse(const json_t *j, char *err, size_t len) WUR;
void hpspace_free(struct hpspace *sp);

/* How many hyperparameters the space draws. */
size_t hpspace_size(const struct hpspace *sp);

/*
 * Dimension i's name as XGBoost knows it (eta, lambda, alpha, ...;
 * "n_estimators" is the boosting rounds), in the file's order, and the other
 * name it may be given under (learning_rate, reg_lambda, ...) or NULL.
 */
const char *hpspace_name(const struct hpspace *sp, size_t i);
const char *hpspace_synonym(const struct hpspace *sp, size_t i);

/*
 * One trial: out[i] for every dimension, drawn from *state, which the call
 * advances. The same starting state gives the same trials.
 */
void hpspace_sample(const struct hpspace *sp, uint64_t *state, struct hp_value *out);

/* 1 when v is a value dimension i can give (inside its range, or one of its choices). */
int hpspace_contains(const struct hpspace *sp, size_t i, double v);

#endif
