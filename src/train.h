/* train.h: `verdict train` — a booster from a CSV or JSON file through the feature spec serving uses, logged over the MLflow REST API. */
#ifndef VERDICT_TRAIN_H
#define VERDICT_TRAIN_H

#include <stddef.h>

#include <jansson.h>

#include "util.h"

/* Exit statuses of verdict train (README: "verdict train"). */
enum train_exit {
	TRAIN_OK = 0,
	TRAIN_FAILED = 1,       /* the server, the disk or XGBoost failed; a run is FAILED */
	TRAIN_BAD_INPUT = 2,    /* usage, data or spec: nothing was logged or registered */
	TRAIN_INTERRUPTED = 130 /* SIGINT/SIGTERM; a run is KILLED */
};

/* argv[0] is "train". Returns the exit status. */
int train_main(int argc, char **argv);

/*
 * For verdict retrain: a data file read exactly as verdict train reads it,
 * each row the raw object with its target, and train's split of it (the
 * seeded shuffle, or the latest valid_fraction by valid_by).
 */
struct train_table {
	size_t n;
	json_t **row;           /* owned */
	unsigned char *valid;   /* 1: the row is in train's validation share */
	int csv;                /* the file was CSV (else JSON) */
	char **col;             /* column names in file order */
	size_t ncol;
	char sha256[65];        /* of the file's bytes */
};

struct spec;

/* 0, or an exit status (enum train_exit) after saying why on stderr. */
int train_table_load(struct train_table *t, const char *path, const char *target,
    const struct spec *s, double valid_fraction, const char *valid_by,
    unsigned long long seed) WUR;
void train_table_free(struct train_table *t);

/*
 * rows[0..n) (raw objects with target) through the spec as training builds
 * them: *x n * spec_width floats, *y n labels (class index for
 * classification); caller frees both. 0, or an exit status after saying why
 * (what names the rows' source in the message).
 */
int train_features(const struct spec *s, json_t *const *rows, size_t n, const char *target,
    const char *what, float **x, float **y) WUR;

#endif
