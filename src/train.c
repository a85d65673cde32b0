/* train.c: `verdict train` — a booster from a CSV or JSON file through the feature spec serving uses, trained with libxgboost, logged over the MLflow REST API, optionally registered. */
#include "train.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <xgboost/c_api.h>

#include "cli.h"
#include "client.h"
#include "csvtab.h"
#include "hpspace.h"
#include "registry.h"
#include "spec.h"

#define CMD "verdict train"
#define DATA_MAX ((size_t)1 << 30)      /* bytes of a data file */
#define ROWS_MAX 10000000               /* data rows */
#define CELLS_MAX ((size_t)1 << 31)     /* rows x features */
#define USER_PARAMS_MAX 64
#define ROUNDS_DEFAULT 100
#define ROUNDS_MAX 100000
#define ONE_HOT_MAX 32                  /* inferred categories up to this many get one_hot */
#define METRIC_BATCH 1000               /* MLflow's limit of metrics per log-batch */
#define PARAM_BATCH 100                 /* ... and of params or tags */
#define FLUSH_MS 5000                   /* per-iteration metrics go out at least this often */
#define METRICS_MAX 8                   /* eval metrics per data set */
#define SPEC_TAG_MAX 5000               /* MLflow's tag value limit */
#define ERR_MAX 1536
#define SEARCH_MAX 1000                 /* --search trials */

static const char usage_text[] =
    "usage: verdict train --data FILE --target COL --task regression|binary|multiclass\n"
    "           (--spec FILE | --infer-spec [--spec-out FILE]) --experiment NAME\n"
    "           [--run-name NAME] [--param KEY=VALUE ...] [--rounds N]\n"
    "           [--valid-fraction F | --valid-by DATETIME_COLUMN] [--seed N]\n"
    "           [--early-stopping N] [--out DIR] [--split-out FILE]\n"
    "           [--valid-data FILE] [--result-out FILE]\n"
    "           [--tracking-uri URL] [--url URL]\n"
    "           [--token TOKEN | --user USER --password-stdin]\n"
    "           [--register NAME [--stage STAGE | --alias ALIAS]] [--no-tracking]\n"
    "           [--search N --space FILE [--register-best K]] [--quiet | --verbose]\n"
    "\n"
    "Trains an XGBoost booster on FILE (CSV with a header, a JSON array of objects,\n"
    "or one JSON object per line) through the feature spec serving uses, logs the\n"
    "run to an MLflow tracking server, writes the model to DIR and optionally\n"
    "registers it as a new version of NAME in verdict.\n"
    "\n"
    "  --spec FILE            the feature spec (its task and classes are used)\n"
    "  --infer-spec           infer one from the data; it is written to --spec-out\n"
    "                         (default: FILE's name with .spec.json) and logged\n"
    "  --param KEY=VALUE      a booster parameter (repeatable), e.g. max_depth=4,\n"
    "                         eta=0.1, eval_metric=rmse,mae\n"
    "  --rounds N             boosting rounds (default 100)\n"
    "  --valid-fraction F     validation share of a seeded shuffle (default 0.2)\n"
    "  --valid-by COL         validation = the latest F of rows by datetime COL\n"
    "  --seed N               the shuffle's and the booster's seed (default 42)\n"
    "  --early-stopping N     stop after N rounds without a better first\n"
    "                         validation metric; the best iteration is kept\n"
    "  --out DIR              model files (default ./verdict-train-RUN_ID)\n"
    "  --split-out FILE       write the row indices of the split as JSON\n"
    "  --valid-data FILE      validate on FILE (same format) instead of a split\n"
    "  --result-out FILE      write {\"run_id\", \"experiment_id\", \"version\",\n"
    "                         \"metrics\"} there as JSON when done\n"
    "  --tracking-uri URL     the MLflow server (else $MLFLOW_TRACKING_URI, else\n"
    "                         verdict's URL)\n"
    "  --url URL              verdict (else $VERDICT_URL, else ./var/stack.env)\n"
    "  --register NAME        register the model as NAME's next version, linked\n"
    "                         to the run; --stage or --alias then\n"
    "  --no-tracking          log nothing anywhere: no MLflow call, only the model\n"
    "                         files in DIR (not with --register or --tracking-uri)\n"
    "  --quiet | --verbose    no progress / every iteration and every call\n"
    "  --search N             random search: N trials, each a child run of one\n"
    "                         parent run, with the --param values overridden by\n"
    "                         values drawn (seeded by --seed) from --space\n"
    "  --space FILE           JSON: {\"max_depth\": {\"int\": [2, 8]}, \"eta\":\n"
    "                         {\"log_uniform\": [0.01, 0.3]}, \"subsample\": {\"uniform\":\n"
    "                         [0.6, 1]}, \"n_estimators\": {\"choice\": [50, 100]}}; also\n"
    "                         colsample_bytree, min_child_weight, lambda, alpha, gamma\n"
    "  --register-best K      with --register: the best K trials as K versions,\n"
    "                         best first (--stage/--alias go to the best); without\n"
    "                         it --register takes the best trial\n"
    "\n"
    "Exit status: 0 done; 1 the server, the disk or XGBoost failed (the run is\n"
    "marked FAILED); 2 bad usage, data or spec (reported as FILE:LINE: column;\n"
    "nothing is logged or registered); 130 interrupted (the run is KILLED).\n"
    "In a search a failed or interrupted trial fails or kills its parent too, and\n"
    "a bad --space FILE exits 2 as FILE: key 'NAME': why.\n";

/* ---- options ---- */

struct opts {
	const char *data, *target, *task, *spec, *spec_out, *experiment, *run_name;
	const char *valid_by, *tracking, *reg_name, *stage, *alias, *out, *split_out;
	const char *valid_data, *result_out;    /* used by verdict retrain */
	const char *params[USER_PARAMS_MAX];
	size_t nparams;
	double valid_fraction;
	long rounds, early_stop;
	unsigned long long seed;
	int infer, quiet, verbose, no_tracking;
	struct cli_remote rm;
	const char *space;      /* --search: the space file, the trials, how many to register */
	long search, register_best;
};

/* ---- the data, as serving would receive it ---- */

struct data {
	const char *path, *base;
	char sha256[65];
	int csv;
	size_t n;               /* rows */
	json_t **row;           /* raw-field objects without the target (owned) */
	json_t **label;         /* the target's raw value (owned), NULL when missing */
	long *line;             /* the line each row starts on */
	char **col;             /* column names in file order (owned) */
	size_t ncol;
	long target_col;        /* index in col */
};

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long
col_index(const struct data *d, const char *name)
{
	for (size_t i = 0; i < d->ncol; i++)
		if (!strcmp(d->col[i], name))
			return (long)i;
	return -1;
}

/*
 * "verdict train: FILE:LINE: column N (NAME): ..." for CSV, "... field 'NAME': ..."
 * for JSON; name NULL for a whole row. Returns TRAIN_BAD_INPUT.
 */
static int PRINTF(4, 5)
bad_row(const struct data *d, long line, const char *name, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, CMD ": %s:%ld: ", d->path, line);
	if (name != NULL) {
		if (d->csv)
			fprintf(stderr, "column %ld (%s): ", col_index(d, name) + 1, name);
		else
			fprintf(stderr, "field '%s': ", name);
	}
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return TRAIN_BAD_INPUT;
}

static void
data_free(struct data *d)
{
	for (size_t i = 0; i < d->n; i++) {
		json_decref(d->row ? d->row[i] : NULL);
		json_decref(d->label ? d->label[i] : NULL);
	}
	for (size_t i = 0; i < d->ncol; i++)
		free(d->col[i]);
	free(d->row);
	free(d->label);
	free(d->line);
	free(d->col);
}

static int
add_col(struct data *d, const char *name)
{
	char **nc;

	if (col_index(d, name) >= 0)
		return 0;
	if ((nc = realloc(d->col, (d->ncol + 1) * sizeof(*nc))) == NULL)
		return -1;
	d->col = nc;
	if ((d->col[d->ncol] = strdup(name)) == NULL)
		return -1;
	d->ncol++;
	return 0;
}

/* Room for n rows. */
static int
data_alloc(struct data *d, size_t n)
{
	d->row = calloc(n ? n : 1, sizeof(*d->row));
	d->label = calloc(n ? n : 1, sizeof(*d->label));
	d->line = calloc(n ? n : 1, sizeof(*d->line));
	return d->row && d->label && d->line ? 0 : -1;
}

static int
load_csv(struct data *d, const char *text, size_t len)
{
	struct arena *a = arena_new(((size_t)64 << 20) + len * 40);
	struct csv_table t;
	char err[256];
	int rc = TRAIN_BAD_INPUT, prc;

	if (a == NULL)
		return TRAIN_FAILED;
	d->csv = 1;
	prc = csv_table_parse(a, text, len, ROWS_MAX, &t, err, sizeof(err));
	if (prc == -2) {
		fprintf(stderr, CMD ": %s: more than %d rows\n", d->path, ROWS_MAX);
		goto out;
	}
	if (prc == -3) {
		fprintf(stderr, CMD ": %s: out of memory\n", d->path);
		rc = TRAIN_FAILED;
		goto out;
	}
	if (prc != 0) {
		fprintf(stderr, CMD ": %s: %s\n", d->path, err);
		goto out;
	}
	if (t.n == 0) {
		fprintf(stderr, CMD ": %s:1: empty file: no header and no rows\n", d->path);
		goto out;
	}
	for (size_t k = 0; k < t.rec[0].nf; k++) {
		const char *h = t.rec[0].f[k];

		if (t.rec[0].len[k] == 0 || strlen(h) != t.rec[0].len[k] ||
		    !utf8_valid(h, t.rec[0].len[k])) {
			fprintf(stderr, CMD ": %s:1: column %zu: the header cell is empty or not "
			    "valid UTF-8\n", d->path, k + 1);
			goto out;
		}
		if (col_index(d, h) >= 0) {
			fprintf(stderr, CMD ": %s:1: column %zu (%s): the header names it twice\n",
			    d->path, k + 1, h);
			goto out;
		}
		if (add_col(d, h) == -1) {
			rc = TRAIN_FAILED;
			goto out;
		}
	}
	if (t.n < 2) {
		fprintf(stderr, CMD ": %s:2: no rows after the header\n", d->path);
		goto out;
	}
	if (data_alloc(d, t.n - 1) == -1) {
		rc = TRAIN_FAILED;
		goto out;
	}
	for (size_t i = 1; i < t.n; i++) {
		const struct csv_record *r = &t.rec[i];
		long badcol;

		if (r->nf != t.rec[0].nf) {
			fprintf(stderr, CMD ": %s:%ld: %zu columns, but the header has %zu\n",
			    d->path, r->line, r->nf, t.rec[0].nf);
			goto out;
		}
		if ((d->row[d->n] = csv_record_json(&t, i, &badcol)) == NULL) {
			if (badcol < 0) {
				rc = TRAIN_FAILED;
				goto out;
			}
			fprintf(stderr, CMD ": %s:%ld: column %ld (%s): not valid UTF-8\n", d->path,
			    r->line, badcol + 1, t.rec[0].f[badcol]);
			goto out;
		}
		d->line[d->n++] = r->line;
	}
	rc = 0;
out:
	arena_free(a);
	return rc;
}

/* Records the keys of o as columns; -1 when memory ran out. */
static int
json_cols(struct data *d, json_t *o)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v)
		if (add_col(d, k) == -1)
			return -1;
	return 0;
}

/*
 * The line each top-level element of a JSON array starts on (jansson keeps
 * no positions): a scan that skips strings.
 */
static void
element_lines(const char *s, size_t len, long *line, size_t n)
{
	long ln = 1;
	int depth = 0, instr = 0;
	size_t k = 0;

	for (size_t i = 0; i < len && k < n; i++) {
		char ch = s[i];

		if (ch == '\n')
			ln++;
		if (instr) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				instr = 0;
			continue;
		}
		if (ch == '"') {
			if (depth == 1)
				line[k++] = ln;
			instr = 1;
		} else if (ch == '[' || ch == '{') {
			if (depth == 1)
				line[k++] = ln;
			depth++;
		} else if (ch == ']' || ch == '}')
			depth--;
		else if (depth == 1 && ch != ',' && ch != ' ' && ch != '\t' && ch != '\r' &&
		    ch != '\n') {
			line[k++] = ln;
			while (i + 1 < len && strchr(",]} \t\r\n", s[i + 1]) == NULL)
				i++;
		}
	}
}

static int
load_json(struct data *d, const char *text, size_t len, size_t skip)
{
	json_error_t e;
	json_t *j;

	if (text[skip] == '[') {
		size_t i;
		json_t *o;

		if ((j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e)) == NULL) {
			fprintf(stderr, CMD ": %s:%d:%d: %s\n", d->path, e.line, e.column, e.text);
			return TRAIN_BAD_INPUT;
		}
		if (json_array_size(j) == 0 || json_array_size(j) > ROWS_MAX) {
			fprintf(stderr, CMD ": %s:1: %s\n", d->path, json_array_size(j) == 0 ?
			    "an empty array: no rows" : "too many rows");
			json_decref(j);
			return TRAIN_BAD_INPUT;
		}
		if (data_alloc(d, json_array_size(j)) == -1) {
			json_decref(j);
			return TRAIN_FAILED;
		}
		element_lines(text, len, d->line, json_array_size(j));
		json_array_foreach(j, i, o) {
			if (!json_is_object(o)) {
				fprintf(stderr, CMD ": %s:%ld: element %zu is not an object\n", d->path,
				    d->line[i], i + 1);
				json_decref(j);
				return TRAIN_BAD_INPUT;
			}
			d->row[d->n++] = json_incref(o);
			if (json_cols(d, o) == -1) {
				json_decref(j);
				return TRAIN_FAILED;
			}
		}
		json_decref(j);
		return 0;
	}
	/* One object per line. */
	{
		size_t cap = 0, pos = 0;
		long ln = 0;

		for (size_t i = 0; i < len; i++)
			cap += text[i] == '\n';
		if (data_alloc(d, cap + 1) == -1)
			return TRAIN_FAILED;
		while (pos < len) {
			const char *nl = memchr(text + pos, '\n', len - pos);
			size_t end = nl ? (size_t)(nl - text) : len, k = pos;

			ln++;
			while (k < end && strchr(" \t\r", text[k]) != NULL)
				k++;
			if (k < end) {
				if ((j = json_loadb(text + pos, end - pos, JSON_REJECT_DUPLICATES,
				    &e)) == NULL) {
					fprintf(stderr, CMD ": %s:%ld:%d: %s\n", d->path, ln, e.column,
					    e.text);
					return TRAIN_BAD_INPUT;
				}
				if (!json_is_object(j)) {
					fprintf(stderr, CMD ": %s:%ld: not a JSON object\n", d->path, ln);
					json_decref(j);
					return TRAIN_BAD_INPUT;
				}
				if (d->n == ROWS_MAX) {
					fprintf(stderr, CMD ": %s: more than %d rows\n", d->path,
					    ROWS_MAX);
					json_decref(j);
					return TRAIN_BAD_INPUT;
				}
				d->line[d->n] = ln;
				d->row[d->n++] = j;
				if (json_cols(d, j) == -1)
					return TRAIN_FAILED;
			}
			pos = end + 1;
		}
	}
	return 0;
}

/*
 * Reads path (CSV, a JSON array, or JSON lines: the first byte decides) into
 * d, hashing it; moves the target out of every row. 0 or an exit status
 * after saying why.
 */
static int
load_data(struct data *d, const char *path, const char *target)
{
	FILE *f = fopen(path, "rb");
	unsigned char h[crypto_hash_sha256_BYTES];
	struct stat sb;
	char *text = NULL;
	size_t len = 0, skip = 0;
	int rc = TRAIN_BAD_INPUT;

	memset(d, 0, sizeof(*d));
	d->path = path;
	d->base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (f == NULL || fstat(fileno(f), &sb) == -1) {
		fprintf(stderr, CMD ": %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || (size_t)sb.st_size > DATA_MAX) {
		fprintf(stderr, CMD ": %s: not a regular file of at most %zu MiB\n", path,
		    DATA_MAX >> 20);
		goto out;
	}
	if ((text = malloc((size_t)sb.st_size + 1)) == NULL) {
		rc = TRAIN_FAILED;
		goto out;
	}
	len = fread(text, 1, (size_t)sb.st_size, f);
	if (ferror(f)) {
		fprintf(stderr, CMD ": %s: %s\n", path, strerror(errno));
		goto out;
	}
	text[len] = '\0';
	crypto_hash_sha256(h, (const unsigned char *)text, len);
	sodium_bin2hex(d->sha256, sizeof(d->sha256), h, sizeof(h));
	while (skip < len && strchr(" \t\r\n", text[skip]) != NULL)
		skip++;
	if (skip == len) {
		fprintf(stderr, CMD ": %s:1: empty file\n", path);
		goto out;
	}
	if (text[skip] == '[' || text[skip] == '{')
		rc = load_json(d, text, len, skip);
	else
		rc = load_csv(d, text, len);
	if (rc != 0)
		goto out;
	if ((d->target_col = col_index(d, target)) < 0) {
		fprintf(stderr, CMD ": %s:1: no column '%s' (the --target)\n", path, target);
		rc = TRAIN_BAD_INPUT;
		goto out;
	}
	for (size_t i = 0; i < d->n; i++) {
		json_t *v = json_object_get(d->row[i], target);

		if (v != NULL && !json_is_null(v))
			d->label[i] = json_incref(v);
		json_object_del(d->row[i], target);
	}
out:
	free(text);
	if (f != NULL)
		fclose(f);
	return rc;
}

/* ---- labels ---- */

/* A label value as class text (what spec classes are matched against); -1 for objects and arrays. */
static int
label_text(json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_number(v))
		spec_number_text(v, buf, len);
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
	else
		return -1;
	return 0;
}

static int
parse_number(json_t *v, double *out)
{
	const char *s;
	char *end;

	if (json_is_number(v)) {
		*out = json_number_value(v);
		return isfinite(*out) ? 0 : -1;
	}
	if (!json_is_string(v) || (s = json_string_value(v))[0] == '\0' ||
	    strspn(s, "0123456789+-.eE") != strlen(s))
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	return *end == '\0' && isfinite(*out) ? 0 : -1;
}

/* ---- spec inference ---- */

/* Datetime patterns tried in order; NULL is spec.c's ISO 8601 (covers %Y-%m-%d[ %H:%M[:%S]]). */
static const char *const dt_formats[] = { NULL, "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
	"%Y/%m/%d" };
#define NFORMATS (sizeof(dt_formats) / sizeof(dt_formats[0]))

/*
 * A one-input spec reading column name as a datetime with format (NULL:
 * ISO) in timezone tz, giving the parts listed. Caller frees.
 */
static struct spec *
dt_probe(const char *name, const char *format, const char *tz, const char *const *parts,
    size_t nparts)
{
	json_t *in = json_pack("{s:s, s:s, s:s}", "name", name, "type", "datetime",
	    "timezone", tz ? tz : "UTC"), *p = json_array(), *j;
	struct spec *s;
	char err[SPEC_ERR_MAX];

	if (format != NULL)
		json_object_set_new(in, "format", json_string(format));
	for (size_t i = 0; i < nparts; i++)
		json_array_append_new(p, json_string(parts[i]));
	j = json_pack("{s:s, s:[o], s:[{s:s, s:s, s:o}]}", "task", "regression", "inputs", in,
	    "features", "input", name, "transform", "datetime", "parts", p);
	s = j != NULL ? spec_parse(j, err, sizeof(err)) : NULL;
	json_decref(j);
	return s;
}

/* Parses v as a datetime through probe: 0 with the parts in out, or -1. */
static int
dt_parse(const struct spec *probe, const char *name, json_t *v, float *out)
{
	json_t *o = json_object();
	char err[SPEC_ERR_MAX];
	int rc;

	json_object_set(o, name, v);
	rc = spec_transform(probe, o, 0, out, err, sizeof(err));
	json_decref(o);
	return rc;
}

enum col_type { CT_NONE, CT_BOOLEAN, CT_INTEGER, CT_NUMBER, CT_DATETIME, CT_CATEGORY };

struct colinfo {
	enum col_type type;
	int format;             /* dt_formats index */
	int has_time;
};

static int
is_bool_value(json_t *v)
{
	const char *s = json_string_value(v);

	return json_is_boolean(v) || (s != NULL && (!strcmp(s, "true") || !strcmp(s, "false")));
}

static int
is_int_value(json_t *v)
{
	const char *s = json_string_value(v);
	size_t neg;

	if (json_is_integer(v))
		return 1;
	if (s == NULL)
		return 0;
	neg = s[0] == '-';
	return s[neg] != '\0' && strlen(s + neg) <= 18 && strspn(s + neg, "0123456789") ==
	    strlen(s + neg);
}

/* The type of column name over every row that has it. */
static int
infer_column(const struct data *d, const char *name, struct colinfo *ci)
{
	static const char *const tparts[] = { "minute_of_day" };
	int isbool = 1, isint = 1, isnum = 1, isdt = 1, any = 0, alive[NFORMATS];
	struct spec *probe[NFORMATS];
	double x;
	float part;

	memset(ci, 0, sizeof(*ci));
	for (size_t f = 0; f < NFORMATS; f++) {
		probe[f] = dt_probe(name, dt_formats[f], NULL, tparts, 1);
		alive[f] = probe[f] != NULL;
	}
	for (size_t i = 0; i < d->n; i++) {
		json_t *v = json_object_get(d->row[i], name);

		if (v == NULL || json_is_null(v))
			continue;
		if (json_is_object(v) || json_is_array(v)) {
			ci->type = CT_NONE;
			goto out;
		}
		any = 1;
		isbool = isbool && is_bool_value(v);
		isint = isint && is_int_value(v);
		isnum = isnum && parse_number(v, &x) == 0;
		if (isdt) {
			isdt = 0;
			for (size_t f = 0; f < NFORMATS; f++) {
				if (alive[f] && dt_parse(probe[f], name, v, &part) == -1)
					alive[f] = 0;
				isdt |= alive[f];
			}
			if (!json_is_string(v))
				isdt = 0;
		}
	}
	if (!any)
		ci->type = CT_NONE;
	else if (isbool)
		ci->type = CT_BOOLEAN;
	else if (isint)
		ci->type = CT_INTEGER;
	else if (isnum)
		ci->type = CT_NUMBER;
	else if (isdt) {
		ci->type = CT_DATETIME;
		for (size_t f = 0; f < NFORMATS; f++)
			if (alive[f]) {
				ci->format = (int)f;
				break;
			}
		for (size_t i = 0; i < d->n && !ci->has_time; i++) {
			json_t *v = json_object_get(d->row[i], name);

			if (v != NULL && !json_is_null(v) &&
			    dt_parse(probe[ci->format], name, v, &part) == 0 && part != 0)
				ci->has_time = 1;
		}
	} else
		ci->type = CT_CATEGORY;
out:
	for (size_t f = 0; f < NFORMATS; f++)
		spec_free(probe[f]);
	return 0;
}

struct catcount {
	char *text;
	size_t n;
};

static int
catcount_cmp(const void *a, const void *b)
{
	return strcmp(((const struct catcount *)a)->text, ((const struct catcount *)b)->text);
}

/*
 * The distinct values of column name over the rows in idx[0..n), sorted,
 * with their counts; numbers as their category text. Caller frees each text
 * and the array.
 */
static struct catcount *
category_values(const struct data *d, const char *name, const size_t *idx, size_t n,
    size_t *out_n)
{
	struct catcount *c = NULL;
	size_t nc = 0, cap = 0;

	for (size_t k = 0; k < n; k++) {
		json_t *v = json_object_get(d->row[idx[k]], name);
		char text[512];
		size_t j;

		if (v == NULL || json_is_null(v) || label_text(v, text, sizeof(text)) == -1)
			continue;
		for (j = 0; j < nc && strcmp(c[j].text, text); j++)
			;
		if (j < nc) {
			c[j].n++;
			continue;
		}
		if (nc == cap) {
			struct catcount *t = realloc(c, (cap = cap ? cap * 2 : 16) * sizeof(*c));

			if (t == NULL)
				goto fail;
			c = t;
		}
		if ((c[nc].text = strdup(text)) == NULL)
			goto fail;
		c[nc++].n = 1;
	}
	if (nc > 0)
		qsort(c, nc, sizeof(*c), catcount_cmp);
	*out_n = nc;
	return c != NULL ? c : calloc(1, sizeof(*c));
fail:
	for (size_t j = 0; j < nc; j++)
		free(c[j].text);
	free(c);
	return NULL;
}

static void
catcount_free(struct catcount *c, size_t n)
{
	for (size_t i = 0; c != NULL && i < n; i++)
		free(c[i].text);
	free(c);
}

/* ---- the split ---- */

struct split {
	size_t *train, *valid;
	size_t ntrain, nvalid;
};

static uint64_t
splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int
size_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

struct keyed {
	double key;
	size_t row;
};

static int
keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

/* Takes the last nvalid of order[0..n) as validation; both sets sorted by row. */
static int
split_take(struct split *sp, const size_t *order, size_t n, size_t nvalid)
{
	sp->ntrain = n - nvalid;
	sp->nvalid = nvalid;
	sp->train = malloc((sp->ntrain ? sp->ntrain : 1) * sizeof(size_t));
	sp->valid = malloc((nvalid ? nvalid : 1) * sizeof(size_t));
	if (sp->train == NULL || sp->valid == NULL)
		return -1;
	memcpy(sp->train, order, sp->ntrain * sizeof(size_t));
	memcpy(sp->valid, order + sp->ntrain, nvalid * sizeof(size_t));
	qsort(sp->train, sp->ntrain, sizeof(size_t), size_cmp);
	qsort(sp->valid, nvalid, sizeof(size_t), size_cmp);
	return 0;
}

/* --valid-data: every row of d trains, every row of dv validates. */
static int
whole_split(const struct data *d, const struct data *dv, struct split *sp)
{
	size_t *order = malloc((d->n + dv->n) * sizeof(*order));
	int rc;

	memset(sp, 0, sizeof(*sp));
	if (order == NULL)
		return TRAIN_FAILED;
	for (size_t i = 0; i < d->n; i++)
		order[i] = i;
	for (size_t i = 0; i < dv->n; i++)
		order[d->n + i] = i;
	rc = split_take(sp, order, d->n + dv->n, dv->n) == 0 ? 0 : TRAIN_FAILED;
	free(order);
	return rc;
}

/*
 * The split: by time on column by (format/tz of its spec input, else as
 * inferred) — the latest fraction to validation — or a seeded shuffle. 0, or
 * an exit status after saying why.
 */
static int
make_split(const struct data *d, const struct opts *o, const char *by_format,
    const char *by_tz, struct split *sp)
{
	static const char *const parts[] = { "year", "day_of_year", "minute_of_day" };
	size_t nvalid = (size_t)ceil((double)d->n * o->valid_fraction), *order;
	int rc = TRAIN_FAILED;

	memset(sp, 0, sizeof(*sp));
	if (nvalid >= d->n) {
		fprintf(stderr, CMD ": %s: %zu rows leave none for training with a validation "
		    "fraction of %g\n", d->path, d->n, o->valid_fraction);
		return TRAIN_BAD_INPUT;
	}
	if ((order = malloc(d->n * sizeof(*order))) == NULL)
		return TRAIN_FAILED;
	if (o->valid_by != NULL) {
		struct spec *probe = dt_probe(o->valid_by, by_format, by_tz, parts, 3);
		struct keyed *k = malloc(d->n * sizeof(*k));

		if (probe == NULL || k == NULL) {
			spec_free(probe);
			free(k);
			goto out;
		}
		for (size_t i = 0; i < d->n; i++) {
			json_t *v = json_object_get(d->row[i], o->valid_by);
			float p[3];

			if (v == NULL || json_is_null(v) ||
			    dt_parse(probe, o->valid_by, v, p) == -1) {
				const char *s = json_string_value(v);

				rc = bad_row(d, d->line[i], o->valid_by, "%s%.80s%s is not a datetime "
				    "like '%s' (the --valid-by column)", s ? "'" : "", s ? s : "missing",
				    s ? "'" : "", by_format ? by_format : "2024-10-02 09:00");
				spec_free(probe);
				free(k);
				goto out;
			}
			k[i].key = ((double)p[0] * 400 + p[1]) * 1440 + p[2];
			k[i].row = i;
		}
		spec_free(probe);
		qsort(k, d->n, sizeof(*k), keyed_cmp);
		for (size_t i = 0; i < d->n; i++)
			order[i] = k[i].row;
		free(k);
	} else {
		uint64_t s = o->seed;

		for (size_t i = 0; i < d->n; i++)
			order[i] = i;
		for (size_t i = d->n - 1; i > 0; i--) {
			size_t j = (size_t)(splitmix(&s) % (i + 1)), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
	}
	rc = split_take(sp, order, d->n, nvalid) == 0 ? 0 : TRAIN_FAILED;
out:
	free(order);
	return rc;
}

/* ---- the spec ---- */

static const char *const date_parts[] = { "year", "month", "day", "day_of_week",
	"day_of_year", "is_weekend" };
static const char *const time_parts[] = { "hour", "minute_of_day" };

/*
 * A spec inferred from the data: types from every row, categories and
 * frequencies from the training rows, classes from every label (sorted,
 * numerically when all are numbers). NULL after saying why (*rc set).
 */
static json_t *
infer_spec(const struct data *d, const struct opts *o, const struct split *sp, int *rc)
{
	json_t *spec = json_pack("{s:s, s:s, s:[], s:[]}", "description", "", "task", o->task,
	    "inputs", "features"), *inputs, *features;
	char desc[600];

	*rc = TRAIN_FAILED;
	if (spec == NULL)
		return NULL;
	snprintf(desc, sizeof(desc), "inferred by verdict train from %.200s (target %.200s)",
	    d->base, o->target);
	json_object_set_new(spec, "description", json_string(desc));
	inputs = json_object_get(spec, "inputs");
	features = json_object_get(spec, "features");
	for (size_t c = 0; c < d->ncol; c++) {
		const char *name = d->col[c];
		struct colinfo ci;
		json_t *in, *f;

		if ((long)c == d->target_col)
			continue;
		infer_column(d, name, &ci);
		if (ci.type == CT_NONE) {
			if (!o->quiet)
				fprintf(stderr, CMD ": note: column '%s' has no values (or nested "
				    "ones): left out\n", name);
			continue;
		}
		in = json_pack("{s:s}", "name", name);
		f = json_pack("{s:s}", "input", name);
		switch (ci.type) {
		case CT_BOOLEAN:
			json_object_set_new(in, "type", json_string("boolean"));
			break;
		case CT_INTEGER:
			json_object_set_new(in, "type", json_string("integer"));
			break;
		case CT_NUMBER:
			json_object_set_new(in, "type", json_string("number"));
			break;
		case CT_DATETIME: {
			json_t *p = json_array();

			json_object_set_new(in, "type", json_string("datetime"));
			if (dt_formats[ci.format] != NULL)
				json_object_set_new(in, "format", json_string(dt_formats[ci.format]));
			for (size_t k = 0; k < ARRAY_LEN(date_parts); k++)
				json_array_append_new(p, json_string(date_parts[k]));
			for (size_t k = 0; ci.has_time && k < ARRAY_LEN(time_parts); k++)
				json_array_append_new(p, json_string(time_parts[k]));
			json_object_set_new(f, "transform", json_string("datetime"));
			json_object_set_new(f, "parts", p);
			break;
		}
		case CT_CATEGORY: {
			size_t nv;
			struct catcount *cv = category_values(d, name, sp->train, sp->ntrain, &nv);

			if (cv == NULL) {
				json_decref(in);
				json_decref(f);
				goto fail;
			}
			json_object_set_new(in, "type", json_string("category"));
			if (nv == 0) {
				/* Only validation rows have it: nothing to learn from. */
				catcount_free(cv, nv);
				json_decref(in);
				json_decref(f);
				continue;
			}
			if (nv <= ONE_HOT_MAX) {
				json_t *cats = json_array();

				for (size_t k = 0; k < nv; k++)
					json_array_append_new(cats, json_string(cv[k].text));
				json_object_set_new(f, "transform", json_string("one_hot"));
				json_object_set_new(f, "categories", cats);
			} else {
				json_t *map = json_object();

				for (size_t k = 0; k < nv; k++)
					json_object_set_new(map, cv[k].text,
					    json_real((double)cv[k].n / (double)sp->ntrain));
				json_object_set_new(f, "transform", json_string("frequency"));
				json_object_set_new(f, "map", map);
			}
			catcount_free(cv, nv);
			break;
		}
		case CT_NONE:
			break;
		}
		json_array_append_new(inputs, in);
		json_array_append_new(features, f);
	}
	if (json_array_size(inputs) == 0) {
		fprintf(stderr, CMD ": %s:1: no column besides the target has values\n", d->path);
		*rc = TRAIN_BAD_INPUT;
		goto fail;
	}
	if (strcmp(o->task, "regression")) {
		struct catcount *cv = NULL;
		size_t nv = 0, cap = 0;
		int numeric = 1, oom = 0;
		json_t *classes = json_array();

		/* Labels live outside the rows: counted here, as category_values counts cells. */
		for (size_t i = 0; i < d->n; i++) {
			char text[512];
			size_t j;

			if (d->label[i] == NULL || label_text(d->label[i], text, sizeof(text)) == -1)
				continue;
			numeric = numeric && json_is_number(d->label[i]);
			oom = 1;
			for (j = 0; j < nv && strcmp(cv[j].text, text); j++)
				;
			if (j < nv) {
				cv[j].n++;
				oom = 0;
				continue;
			}
			if (nv == cap) {
				struct catcount *t = realloc(cv, (cap = cap ? cap * 2 : 8) * sizeof(*cv));

				if (t == NULL)
					break;
				cv = t;
			}
			if ((cv[nv].text = strdup(text)) == NULL)
				break;
			cv[nv++].n = 1;
			oom = 0;
		}
		if (oom || classes == NULL) {
			fprintf(stderr, CMD ": out of memory\n");
			catcount_free(cv, nv);
			json_decref(classes);
			goto fail;
		}
		if (nv > 1)
			qsort(cv, nv, sizeof(*cv), catcount_cmp);
		if (numeric && nv > 1) {
			/* 2 < 10: numbers sort as numbers. */
			for (size_t a = 1; a < nv; a++)
				for (size_t b = a; b > 0 && strtod(cv[b - 1].text, NULL) >
				    strtod(cv[b].text, NULL); b--) {
					struct catcount t = cv[b];

					cv[b] = cv[b - 1];
					cv[b - 1] = t;
				}
		}
		for (size_t k = 0; k < nv; k++)
			json_array_append_new(classes, json_string(cv[k].text));
		catcount_free(cv, nv);
		json_object_set_new(spec, "classes", classes);
		if (!strcmp(o->task, "binary") && json_array_size(classes) != 2) {
			fprintf(stderr, CMD ": %s:1: column %ld (%s): %zu distinct %s; a binary "
			    "task needs exactly 2%s\n", d->path, d->target_col + 1, o->target,
			    json_array_size(classes), json_array_size(classes) == 1 ?
			    "class" : "classes", json_array_size(classes) > 2 ?
			    " (use --task multiclass)" : "");
			*rc = TRAIN_BAD_INPUT;
			goto fail;
		}
		if (json_array_size(classes) < 2) {
			fprintf(stderr, CMD ": %s:1: column %ld (%s): %zu distinct class%s; "
			    "classification needs at least 2\n", d->path, d->target_col + 1,
			    o->target, json_array_size(classes), json_array_size(classes) == 1 ?
			    "" : "es");
			*rc = TRAIN_BAD_INPUT;
			goto fail;
		}
	}
	return spec;
fail:
	json_decref(spec);
	return NULL;
}

/* The field a spec_transform message names ("field 'x': ..."), into name; "" when none. */
static void
message_field(const char *msg, char *name, size_t len)
{
	const char *p = strstr(msg, "field '"), *e;

	name[0] = '\0';
	if (p == NULL || (e = strchr(p + 7, '\'')) == NULL)
		return;
	snprintf(name, len, "%.*s", (int)(e - p - 7), p + 7);
}

/* ---- features and labels ---- */

struct matrix {
	float *x, *y;
	size_t n, width;
};

/*
 * Rows idx[0..n) through the spec (as serving does: spec_transform on the
 * raw-field object) and their labels. 0, or an exit status after saying why.
 */
static int
build_matrix(const struct data *d, const struct spec *s, const size_t *idx, size_t n,
    struct matrix *m, const char *target)
{
	size_t w = spec_width(s);
	char err[SPEC_ERR_MAX], field[128], text[512];

	m->n = n;
	m->width = w;
	if (n > 0 && w > CELLS_MAX / n)
		return TRAIN_BAD_INPUT;
	m->x = malloc((n > 0 && w > 0 ? n * w : 1) * sizeof(float));
	m->y = malloc((n ? n : 1) * sizeof(float));
	if (m->x == NULL || m->y == NULL)
		return TRAIN_FAILED;
	for (size_t k = 0; k < n; k++) {
		size_t i = idx[k];
		json_t *lab = d->label[i];

		if (spec_transform(s, d->row[i], 1, m->x + k * w, err, sizeof(err)) == -1) {
			message_field(err, field, sizeof(field));
			return bad_row(d, d->line[i], field[0] ? field : NULL, "%s", err);
		}
		if (lab == NULL)
			return bad_row(d, d->line[i], target, "the target is missing");
		if (spec_task(s) == SPEC_REGRESSION) {
			double v;

			if (parse_number(lab, &v) == -1 || fabs(v) > 3.4e38) {
				const char *str = json_string_value(lab);

				return bad_row(d, d->line[i], target, "the target %s%.80s%s is not a "
				    "number (the task is regression)", str ? "'" : "", str ? str :
				    "value", str ? "'" : "");
			}
			m->y[k] = (float)v;
		} else {
			size_t c, nc = spec_nclasses(s);

			if (label_text(lab, text, sizeof(text)) == -1)
				return bad_row(d, d->line[i], target, "the target is not a class "
				    "label");
			for (c = 0; c < nc && strcmp(spec_class_label(s, c), text); c++)
				;
			if (c == nc)
				return bad_row(d, d->line[i], target, "'%.80s' is not one of the "
				    "spec's classes", text);
			m->y[k] = (float)c;
		}
	}
	return 0;
}

static void
matrix_free(struct matrix *m)
{
	free(m->x);
	free(m->y);
}

/* ---- tracking over the MLflow REST API ---- */

struct trk {
	struct client *c;
	char exp_id[64], run_id[64], art_path[512];
	int verbose;
	int off;                /* --no-tracking: every call succeeds without being made */
	char err[ERR_MAX];
	json_t *pending;        /* metrics not yet sent */
	long long last_flush;
};

/*
 * One MLflow call: POST (or GET when body is NULL) /api/2.0/mlflow/endpoint.
 * idempotent: retried on transport errors and 503. body is consumed. 0 with
 * *out (may be NULL) the answer (caller decrefs), or -1 with t->err set.
 */
static int
mlflow(struct trk *t, const char *endpoint, const char *query, json_t *body, int idempotent,
    json_t **out)
{
	struct client_resp r;
	enum client_status st;
	char path[2048];

	if (out != NULL)
		*out = NULL;
	if (t->off) {
		json_decref(body);
		return 0;
	}
	snprintf(path, sizeof(path), "/api/2.0/mlflow/%s%s%s", endpoint, query ? "?" : "",
	    query ? query : "");
	if (t->verbose)
		fprintf(stderr, CMD ": %s %s\n", body ? "POST" : "GET", endpoint);
	if (body == NULL)
		st = client_json(t->c, "GET", path, NULL, &r);
	else if (idempotent)
		st = client_json_idempotent(t->c, "POST", path, body, &r);
	else
		st = client_json(t->c, "POST", path, body, &r);
	json_decref(body);
	if (st != CLIENT_OK) {
		if (st == CLIENT_HTTP)
			snprintf(t->err, sizeof(t->err), "%s: %s%s%s (HTTP %ld)", endpoint,
			    r.error_code, r.error_code[0] ? ": " : "", r.message, r.status);
		else
			snprintf(t->err, sizeof(t->err), "%s: %s", endpoint, r.message);
		client_resp_free(&r);
		return st == CLIENT_HTTP && r.status == 404 ? -404 : -1;
	}
	if (out != NULL)
		*out = r.json;
	else
		json_decref(r.json);
	return 0;
}

/* Percent-encodes s into dst for a query string value. */
static void
qenc(char *dst, size_t len, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *s != '\0' && n + 4 < len; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' &&
		    ch <= '9') || strchr("-._~", ch) != NULL)
			dst[n++] = (char)ch;
		else {
			dst[n++] = '%';
			dst[n++] = hex[ch >> 4];
			dst[n++] = hex[ch & 15];
		}
	}
	dst[n] = '\0';
}

/* The experiment's id, created when missing. */
static int
trk_experiment(struct trk *t, const char *name)
{
	char q[1600], enc[1500];
	json_t *out;
	const char *id;
	int rc;

	qenc(enc, sizeof(enc), name);
	snprintf(q, sizeof(q), "experiment_name=%s", enc);
	for (int attempt = 0; attempt < 2; attempt++) {
		rc = mlflow(t, "experiments/get-by-name", q, NULL, 1, &out);
		if (rc == 0) {
			id = json_string_value(json_object_get(json_object_get(out, "experiment"),
			    "experiment_id"));
			snprintf(t->exp_id, sizeof(t->exp_id), "%s", id ? id : "");
			json_decref(out);
			return t->exp_id[0] ? 0 : -1;
		}
		if (rc != -404)
			return -1;
		rc = mlflow(t, "experiments/create", NULL, json_pack("{s:s}", "name", name), 0,
		    &out);
		if (rc == 0) {
			id = json_string_value(json_object_get(out, "experiment_id"));
			snprintf(t->exp_id, sizeof(t->exp_id), "%s", id ? id : "");
			json_decref(out);
			return t->exp_id[0] ? 0 : -1;
		}
		/* Someone else created it meanwhile: look again. */
		if (strstr(t->err, "RESOURCE_ALREADY_EXISTS") == NULL)
			return -1;
	}
	return -1;
}

/*
 * The experiment (created when missing) and a new run in it with tags
 * (consumed): sets t->exp_id, t->run_id and t->art_path. 0, or -1 after
 * saying why on stderr.
 */
static int
trk_start(struct trk *t, const char *experiment, json_t *tags)
{
	json_t *out = NULL, *info;
	const char *id, *au;

	if (trk_experiment(t, experiment) == -1) {
		fprintf(stderr, CMD ": experiment '%s': %s\n", experiment, t->err);
		json_decref(tags);
		return -1;
	}
	if (mlflow(t, "runs/create", NULL, json_pack("{s:s, s:I, s:o}", "experiment_id",
	    t->exp_id, "start_time", (json_int_t)now_ms(), "tags", tags), 0, &out) != 0) {
		fprintf(stderr, CMD ": %s\n", t->err);
		return -1;
	}
	info = json_object_get(json_object_get(out, "run"), "info");
	id = json_string_value(json_object_get(info, "run_id"));
	au = json_string_value(json_object_get(info, "artifact_uri"));
	if (id == NULL)
		id = json_string_value(json_object_get(info, "run_uuid"));
	if (id == NULL || strlen(id) >= sizeof(t->run_id)) {
		fprintf(stderr, CMD ": runs/create: the answer names no run\n");
		json_decref(out);
		return -1;
	}
	snprintf(t->run_id, sizeof(t->run_id), "%s", id);
	if (au != NULL && !strncmp(au, "mlflow-artifacts:/", 18)) {
		au += 18;
		while (*au == '/')
			au++;
		snprintf(t->art_path, sizeof(t->art_path), "%s", au);
	} else
		snprintf(t->art_path, sizeof(t->art_path), "%s/%s/artifacts", t->exp_id,
		    t->run_id);
	json_decref(out);
	return 0;
}

static json_t *
kv(const char *k, const char *v)
{
	return json_pack("{s:s, s:s}", "key", k, "value", v);
}

static int
trk_flush(struct trk *t)
{
	int rc = 0;

	while (rc == 0 && json_array_size(t->pending) > 0) {
		json_t *chunk = json_array();
		size_t n = json_array_size(t->pending);

		for (size_t i = 0; i < n && i < METRIC_BATCH; i++)
			json_array_append(chunk, json_array_get(t->pending, i));
		/* Metrics append to the history: sent again after an answer was lost they
		 * would count twice on some servers, so only an unsent batch is retried. */
		rc = mlflow(t, "runs/log-batch", NULL, json_pack("{s:s, s:o}", "run_id", t->run_id,
		    "metrics", chunk), 0, NULL);
		if (rc == 0)
			for (size_t i = 0; i < n && i < METRIC_BATCH; i++)
				json_array_remove(t->pending, 0);
	}
	t->last_flush = now_ms();
	return rc;
}

static int
trk_metric(struct trk *t, const char *key, double v, long long step, long long ts)
{
	if (json_array_append_new(t->pending, json_pack("{s:s, s:f, s:I, s:I}", "key", key,
	    "value", v, "timestamp", (json_int_t)ts, "step", (json_int_t)step)) == -1)
		return -1;
	if (json_array_size(t->pending) >= METRIC_BATCH || now_ms() - t->last_flush >= FLUSH_MS)
		return trk_flush(t);
	return 0;
}

static int
trk_status(struct trk *t, const char *status)
{
	return mlflow(t, "runs/update", NULL, json_pack("{s:s, s:s, s:s, s:I}", "run_id",
	    t->run_id, "run_uuid", t->run_id, "status", status, "end_time",
	    (json_int_t)now_ms()), 1, NULL);
}

/* params or tags (arrays of {key, value}, consumed) in batches within MLflow's limit. */
static int
trk_log_kv(struct trk *t, const char *what, json_t *items)
{
	size_t n = json_array_size(items);
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n; i += PARAM_BATCH) {
		json_t *chunk = json_array();

		for (size_t k = i; k < n && k < i + PARAM_BATCH; k++)
			json_array_append(chunk, json_array_get(items, k));
		/* Params and tags are the same values sent twice: safe to repeat. */
		rc = mlflow(t, "runs/log-batch", NULL, json_pack("{s:s, s:o}", "run_id", t->run_id,
		    what, chunk), 1, NULL);
	}
	json_decref(items);
	return rc;
}

/* ---- XGBoost ---- */

static int
xgb(int rc, const char *what, char *err, size_t len)
{
	if (rc != 0)
		snprintf(err, len, "XGBoost %s: %s", what, XGBGetLastError());
	return rc;
}

struct bparam {
	char key[64];
	char value[512];
};

struct bparams {
	struct bparam p[USER_PARAMS_MAX + 16];
	size_t n;
	char metrics[METRICS_MAX][64];
	size_t nmetrics;
};

static void
param_set(struct bparams *ps, const char *k, const char *v)
{
	size_t i;

	for (i = 0; i < ps->n && strcmp(ps->p[i].key, k); i++)
		;
	if (i == ps->n) {
		if (ps->n == ARRAY_LEN(ps->p))
			return;
		ps->n++;
	}
	snprintf(ps->p[i].key, sizeof(ps->p[i].key), "%s", k);
	snprintf(ps->p[i].value, sizeof(ps->p[i].value), "%s", v);
}

/* Metrics where larger is better; the rest are minimized. */
static int
maximize(const char *m)
{
	return !strncmp(m, "auc", 3) || !strncmp(m, "aucpr", 5) || !strncmp(m, "map", 3) ||
	    !strncmp(m, "ndcg", 4) || !strncmp(m, "pre", 3);
}

/*
 * The booster parameters: the task's objective and metrics, nthread = cores
 * and the seed, then the user's (which win). -1 after saying why.
 */
static int
make_params(const struct opts *o, const struct spec *s, struct bparams *ps)
{
	char buf[64];
	const char *metrics;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	memset(ps, 0, sizeof(*ps));
	switch (spec_task(s)) {
	case SPEC_REGRESSION:
		param_set(ps, "objective", "reg:squarederror");
		metrics = "rmse,mae";
		break;
	case SPEC_BINARY:
		param_set(ps, "objective", "binary:logistic");
		metrics = "logloss,auc,error";
		break;
	default:
		param_set(ps, "objective", "multi:softprob");
		snprintf(buf, sizeof(buf), "%zu", spec_nclasses(s));
		param_set(ps, "num_class", buf);
		metrics = "mlogloss,merror";
		break;
	}
	snprintf(buf, sizeof(buf), "%ld", cores > 0 ? cores : 1);
	param_set(ps, "nthread", buf);
	snprintf(buf, sizeof(buf), "%llu", o->seed);
	param_set(ps, "seed", buf);
	param_set(ps, "eval_metric", metrics);
	for (size_t i = 0; i < o->nparams; i++) {
		const char *eq = strchr(o->params[i], '=');
		char k[64];

		if (eq == NULL || eq == o->params[i] || (size_t)(eq - o->params[i]) >= sizeof(k)) {
			fprintf(stderr, CMD ": --param %s: expected KEY=VALUE\n", o->params[i]);
			return -1;
		}
		snprintf(k, sizeof(k), "%.*s", (int)(eq - o->params[i]), o->params[i]);
		if (!strcmp(k, "num_class") || !strcmp(k, "objective")) {
			fprintf(stderr, CMD ": --param %s: set by --task\n", k);
			return -1;
		}
		param_set(ps, k, eq + 1);
	}
	for (size_t i = 0; i < ps->n; i++)
		if (!strcmp(ps->p[i].key, "eval_metric")) {
			char tmp[512], *save = NULL;

			snprintf(tmp, sizeof(tmp), "%s", ps->p[i].value);
			for (char *m = strtok_r(tmp, ",", &save); m != NULL && ps->nmetrics <
			    METRICS_MAX; m = strtok_r(NULL, ",", &save))
				snprintf(ps->metrics[ps->nmetrics++], sizeof(ps->metrics[0]), "%s", m);
		}
	if (ps->nmetrics == 0) {
		fprintf(stderr, CMD ": --param eval_metric: name at least one metric\n");
		return -1;
	}
	return 0;
}

/*
 * Reads "[i]\ttrain-rmse:1.5\tvalid-rmse:2.0" into vals[set][metric]; -1 when
 * a value is missing.
 */
static int
parse_eval(const char *s, const struct bparams *ps, int nsets, double vals[2][METRICS_MAX])
{
	static const char *const sets[2] = { "train", "valid" };
	char key[96];

	for (int d = 0; d < nsets; d++)
		for (size_t m = 0; m < ps->nmetrics; m++) {
			const char *p;

			snprintf(key, sizeof(key), "\t%s-%s:", sets[d], ps->metrics[m]);
			if ((p = strstr(s, key)) == NULL)
				return -1;
			vals[d][m] = strtod(p + strlen(key), NULL);
		}
	return 0;
}

static DMatrixHandle
dmatrix(const struct matrix *m, char *err, size_t len)
{
	DMatrixHandle h = NULL;

	if (xgb(XGDMatrixCreateFromMat(m->x, m->n, m->width, NAN, &h), "DMatrix", err, len) ||
	    xgb(XGDMatrixSetFloatInfo(h, "label", m->y, m->n), "labels", err, len)) {
		if (h != NULL)
			XGDMatrixFree(h);
		return NULL;
	}
	return h;
}

/* ---- progress ---- */

static void
hms(char *buf, size_t len, double s)
{
	long t = (long)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

struct progress {
	int tty, quiet, verbose;
	double t0, last;
	long rounds;
};

static void
progress(struct progress *p, long it, const struct bparams *ps, int nsets,
    double vals[2][METRICS_MAX], int last)
{
	double now = mono(), el = now - p->t0, eta = el / (double)(it + 1) *
	    (double)(p->rounds - it - 1);
	char e[32], r[32];

	if (p->quiet)
		return;
	if (!p->tty && !p->verbose && !last && it != 0 && (it + 1) % (p->rounds >= 10 ?
	    p->rounds / 10 : 1) != 0 && now - p->last < 10)
		return;
	if (p->tty && !last && now - p->last < 0.05)
		return;
	p->last = now;
	hms(e, sizeof(e), el);
	hms(r, sizeof(r), last ? 0 : eta);
	fprintf(stderr, "%s[%*ld/%ld] %s elapsed, ETA %s  train %s %.6g", p->tty ? "\r" : "",
	    (int)snprintf(NULL, 0, "%ld", p->rounds), it + 1, p->rounds, e, r, ps->metrics[0],
	    vals[0][0]);
	if (nsets > 1)
		fprintf(stderr, "  valid %s %.6g", ps->metrics[0], vals[1][0]);
	fputs(p->tty ? "\033[K" : "\n", stderr);
	if (p->tty && last)
		fputc('\n', stderr);
	fflush(stderr);
}

/* ---- files ---- */

static int
write_file(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	return 0;
}

static int
write_json(const char *path, json_t *j, char *err, size_t errlen)
{
	char *s = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER), *nl;
	int rc;

	if (s == NULL || (nl = realloc(s, strlen(s) + 2)) == NULL) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	strcat(nl, "\n");
	rc = write_file(path, nl, strlen(nl), err, errlen);
	free(nl);
	return rc;
}

/* Gain-based importance per feature column, largest first, named as spec_feature_name. */
static json_t *
importance(BoosterHandle b, const struct spec *s, char *err, size_t len)
{
	bst_ulong nf = 0, dim = 0;
	const char **names = NULL;
	const bst_ulong *shape = NULL;
	const float *scores = NULL;
	json_t *list = json_array();

	if (xgb(XGBoosterFeatureScore(b, "{\"importance_type\":\"gain\"}", &nf, &names, &dim,
	    &shape, &scores), "feature importance", err, len)) {
		json_decref(list);
		return NULL;
	}
	for (bst_ulong i = 0; i < nf; i++) {
		unsigned long col = strtoul(names[i] + (names[i][0] == 'f'), NULL, 10);
		size_t k, n = json_array_size(list);

		if (col >= spec_width(s))
			continue;
		for (k = 0; k < n && json_real_value(json_object_get(json_array_get(list, k),
		    "gain")) >= scores[i]; k++)
			;
		json_array_insert_new(list, k, json_pack("{s:s, s:f}", "feature",
		    spec_feature_name(s, col), "gain", (double)scores[i]));
	}
	return json_pack("{s:s, s:o}", "importance_type", "gain", "features", list);
}

/* MLflow's model descriptor for the xgboost flavor (plain YAML, fixed keys). */
static int
write_mlmodel(const char *path, const char *run_id, char *err, size_t len)
{
	unsigned char rnd[16];
	char uuid[33], when[40], text[2048];
	int maj, min, pat;
	time_t now = time(NULL);
	struct tm tm;

	XGBoostVersion(&maj, &min, &pat);
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(uuid, sizeof(uuid), rnd, sizeof(rnd));
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S.000000", &tm);
	snprintf(text, sizeof(text),
	    "artifact_path: model\n"
	    "flavors:\n"
	    "  python_function:\n"
	    "    data: model.ubj\n"
	    "    loader_module: mlflow.xgboost\n"
	    "  xgboost:\n"
	    "    code: null\n"
	    "    data: model.ubj\n"
	    "    model_class: xgboost.core.Booster\n"
	    "    model_format: ubj\n"
	    "    xgb_version: %d.%d.%d\n"
	    "metadata:\n"
	    "  verdict_spec: spec.json\n"
	    "model_uuid: %s\n"
	    "run_id: %s\n"
	    "utc_time_created: '%s'\n", maj, min, pat, uuid, run_id, when);
	return write_file(path, text, strlen(text), err, len);
}

/*
 * PUT each file of dir (relative names in files) to the run's artifacts
 * through the mlflow-artifacts proxy. 0 uploaded; 1 no proxy (a 404: said
 * on stderr); -1 failed with t->err set.
 */
static int
upload_artifacts(struct trk *t, const char *dir, const char *const *files, size_t n,
    int quiet)
{
	if (t->off)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char local[PATH_MAX], path[2048], seg[512];
		struct client_resp r;
		enum client_status st;
		size_t len = 0, pl;
		char *data;
		FILE *f;

		if (snprintf(local, sizeof(local), "%s/%s", dir, files[i]) >= (int)sizeof(local) ||
		    (f = fopen(local, "rb")) == NULL) {
			snprintf(t->err, sizeof(t->err), "%.1000s: %s", local, strerror(errno));
			return -1;
		}
		fseek(f, 0, SEEK_END);
		len = (size_t)ftell(f);
		rewind(f);
		if ((data = malloc(len + 1)) == NULL || fread(data, 1, len, f) != len) {
			snprintf(t->err, sizeof(t->err), "%.1000s: cannot read", local);
			free(data);
			fclose(f);
			return -1;
		}
		fclose(f);
		/* api/2.0/mlflow-artifacts/artifacts/<exp>/<run>/artifacts/<file>, each segment encoded */
		if (client_path(path, sizeof(path), "api", "2.0", "mlflow-artifacts", "artifacts",
		    (char *)NULL) == -1) {
			free(data);
			return -1;
		}
		pl = strlen(path);
		{
			char tmp[1024], *save = NULL;

			snprintf(tmp, sizeof(tmp), "%s/%s", t->art_path, files[i]);
			for (char *sg = strtok_r(tmp, "/", &save); sg != NULL;
			    sg = strtok_r(NULL, "/", &save)) {
				if (client_path(seg, sizeof(seg), sg, (char *)NULL) == -1 ||
				    pl + strlen(seg) >= sizeof(path)) {
					free(data);
					return -1;
				}
				memcpy(path + pl, seg, strlen(seg) + 1);
				pl += strlen(seg);
			}
		}
		if (t->verbose)
			fprintf(stderr, CMD ": PUT %s\n", path);
		st = client_put(t->c, path, data, len, "application/octet-stream", &r);
		free(data);
		if (st == CLIENT_HTTP && r.status == 404 && i == 0) {
			if (!quiet)
				fprintf(stderr, CMD ": note: %s has no artifact proxy (PUT %s answered "
				    "404); the model stays in %s only\n", client_url(t->c), path, dir);
			client_resp_free(&r);
			return 1;
		}
		if (st != CLIENT_OK) {
			snprintf(t->err, sizeof(t->err), "uploading %s: %s (HTTP %ld)", files[i],
			    r.message, r.status);
			client_resp_free(&r);
			return -1;
		}
		client_resp_free(&r);
	}
	return 0;
}

/* mkdir -p for one or two levels (DIR and DIR/model). */
static int
make_dir(const char *d, char *err, size_t len)
{
	if (mkdir(d, 0777) == -1 && errno != EEXIST) {
		snprintf(err, len, "%s: %s", d, strerror(errno));
		return -1;
	}
	return 0;
}

static const char *
login_name(const struct opts *o)
{
	struct passwd *pw;

	if (o->rm.user != NULL)
		return o->rm.user;
	if ((pw = getpwuid(getuid())) != NULL)
		return pw->pw_name;
	return "unknown";
}

/* ---- options ---- */

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	const char *vf = NULL, *rounds = NULL, *es = NULL, *seed = NULL, *param = NULL;
	const char *search = NULL, *best = NULL;
	char *end;

	memset(o, 0, sizeof(*o));
	o->valid_fraction = 0.2;
	o->rounds = ROUNDS_DEFAULT;
	o->seed = 42;
	for (int i = 1; i < argc; i++) {
		int r;

		param = NULL;
		if ((r = cli_remote_option(argc, argv, &i, &o->rm)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--data", &o->data)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--target", &o->target)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--task", &o->task)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--spec", &o->spec)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--spec-out", &o->spec_out)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--experiment", &o->experiment)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--run-name", &o->run_name)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--param", &param)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--valid-fraction", &vf)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--valid-by", &o->valid_by)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--early-stopping", &es)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--rounds", &rounds)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--seed", &seed)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--tracking-uri", &o->tracking)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--register", &o->reg_name)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--stage", &o->stage)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--alias", &o->alias)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--out", &o->out)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--split-out", &o->split_out)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--search", &search)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--space", &o->space)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--register-best", &best)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--valid-data", &o->valid_data)) == 0 &&
		    (r = cli_opt_value(argc, argv, &i, "--result-out", &o->result_out)) == 0) {
			int f = cli_common_flag(argv[i], usage_text, &o->quiet, &o->verbose);

			if (f == 2)
				return 1;
			if (f == 1)
				continue;
			if (!strcmp(argv[i], "--infer-spec"))
				o->infer = 1;
			else if (!strcmp(argv[i], "--no-tracking"))
				o->no_tracking = 1;
			else {
				fprintf(stderr, CMD ": unexpected argument %s\n", argv[i]);
				return -1;
			}
		} else if (r == -1) {
			fprintf(stderr, CMD ": %s needs a value\n", argv[i]);
			return -1;
		}
		if (param != NULL) {
			if (o->nparams == USER_PARAMS_MAX) {
				fprintf(stderr, CMD ": more than %d --param\n", USER_PARAMS_MAX);
				return -1;
			}
			o->params[o->nparams++] = param;
		}
	}
	if (o->data == NULL || o->target == NULL || o->experiment == NULL ||
	    (o->task == NULL && o->spec == NULL)) {
		fprintf(stderr, CMD ": --data, --target, --task and --experiment are required\n");
		return -1;
	}
	if (o->task != NULL && strcmp(o->task, "regression") && strcmp(o->task, "binary") &&
	    strcmp(o->task, "multiclass")) {
		fprintf(stderr, CMD ": --task must be regression, binary or multiclass\n");
		return -1;
	}
	if ((o->spec != NULL) == o->infer) {
		fprintf(stderr, CMD ": give --spec FILE or --infer-spec\n");
		return -1;
	}
	if (o->infer && o->task == NULL) {
		fprintf(stderr, CMD ": --infer-spec needs --task\n");
		return -1;
	}
	if (o->spec_out != NULL && !o->infer) {
		fprintf(stderr, CMD ": --spec-out goes with --infer-spec\n");
		return -1;
	}
	if (vf != NULL) {
		errno = 0;
		o->valid_fraction = strtod(vf, &end);
		if (*end != '\0' || !(o->valid_fraction > 0 && o->valid_fraction < 1)) {
			fprintf(stderr, CMD ": --valid-fraction must be between 0 and 1\n");
			return -1;
		}
	}
	if (rounds != NULL && ((o->rounds = strtol(rounds, &end, 10)) < 1 || *end != '\0' ||
	    o->rounds > ROUNDS_MAX)) {
		fprintf(stderr, CMD ": --rounds must be 1 to %d\n", ROUNDS_MAX);
		return -1;
	}
	if (es != NULL && ((o->early_stop = strtol(es, &end, 10)) < 1 || *end != '\0')) {
		fprintf(stderr, CMD ": --early-stopping must be a positive number of rounds\n");
		return -1;
	}
	if (seed != NULL && (seed[0] == '-' || (o->seed = strtoull(seed, &end, 10), *end != '\0'))) {
		fprintf(stderr, CMD ": --seed must be a non-negative integer\n");
		return -1;
	}
	if ((o->stage != NULL || o->alias != NULL) && o->reg_name == NULL) {
		fprintf(stderr, CMD ": --stage and --alias go with --register\n");
		return -1;
	}
	if (o->stage != NULL && o->alias != NULL) {
		fprintf(stderr, CMD ": give --stage or --alias, not both\n");
		return -1;
	}
	if (o->stage != NULL && (o->stage = canonical_stage(o->stage)) == NULL) {
		fprintf(stderr, CMD ": --stage must be None, Staging, Production or Archived\n");
		return -1;
	}
	if (o->alias != NULL && !registry_alias_valid(o->alias)) {
		fprintf(stderr, CMD ": --alias must be 1 to 255 letters, digits, '_' or '-', "
		    "neither 'latest' nor v<digits>\n");
		return -1;
	}
	if (search != NULL && ((o->search = strtol(search, &end, 10)) < 1 || *end != '\0' ||
	    o->search > SEARCH_MAX)) {
		fprintf(stderr, CMD ": --search must be 1 to %d trials\n", SEARCH_MAX);
		return -1;
	}
	if ((o->search > 0) != (o->space != NULL)) {
		fprintf(stderr, CMD ": --search N and --space FILE go together\n");
		return -1;
	}
	if (best != NULL && ((o->register_best = strtol(best, &end, 10)) < 1 || *end != '\0')) {
		fprintf(stderr, CMD ": --register-best must be a positive number of trials\n");
		return -1;
	}
	if (best != NULL && (o->reg_name == NULL || o->search == 0)) {
		fprintf(stderr, CMD ": --register-best K goes with --search N and --register NAME\n");
		return -1;
	}
	if (o->register_best > o->search) {
		fprintf(stderr, CMD ": --register-best %ld is more than the %ld trials of --search\n",
		    o->register_best, o->search);
		return -1;
	}
	if (o->result_out != NULL && o->search > 0) {
		fprintf(stderr, CMD ": --result-out describes one run, not a --search\n");
		return -1;
	}
	if (o->valid_data != NULL && (vf != NULL || o->valid_by != NULL)) {
		fprintf(stderr, CMD ": --valid-data replaces the split: no --valid-fraction or "
		    "--valid-by with it\n");
		return -1;
	}
	if (o->quiet && o->verbose) {
		fprintf(stderr, CMD ": give --quiet or --verbose, not both\n");
		return -1;
	}
	if (o->no_tracking && (o->reg_name != NULL || o->tracking != NULL || o->search > 0 ||
	    o->result_out != NULL)) {
		fprintf(stderr, CMD ": --no-tracking goes with neither --register, --tracking-uri, "
		    "--search nor --result-out\n");
		return -1;
	}
	return 0;
}

/* The spec file's JSON, or NULL after saying why with the line and column. */
static json_t *
load_spec_file(const char *path)
{
	json_error_t e;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &e);

	if (j == NULL)
		fprintf(stderr, CMD ": %s:%d:%d: %s\n", path, e.line, e.column, e.text);
	return j;
}

/*
 * Prints a spec error as FILE:LINE:COL when the name it quotes ('x') occurs
 * in the file as "x" (jansson keeps no positions of valid JSON), else FILE.
 */
static void
spec_error(const char *path, const char *msg)
{
	const char *q = strchr(msg, '\''), *e = q ? strchr(q + 1, '\'') : NULL, *hit;
	char needle[300], *text = NULL;
	size_t len = 0;
	FILE *f;

	if (q != NULL && e != NULL && e - q < 250 && (f = fopen(path, "rb")) != NULL) {
		text = calloc(1, CLI_SPEC_MAX + 1);
		if (text != NULL)
			len = fread(text, 1, CLI_SPEC_MAX, f);
		fclose(f);
		snprintf(needle, sizeof(needle), "\"%.*s\"", (int)(e - q - 1), q + 1);
		if (text != NULL && len > 0 && (hit = strstr(text, needle)) != NULL) {
			long line = 1, col = 1;

			for (const char *p = text; p < hit; p++, col++)
				if (*p == '\n') {
					line++;
					col = 0;
				}
			fprintf(stderr, CMD ": %s:%ld:%ld: %s\n", path, line, col, msg);
			free(text);
			return;
		}
	}
	free(text);
	fprintf(stderr, CMD ": %s: %s\n", path, msg);
}

/* FILE without its extension + ".spec.json", next to it. */
static void
default_spec_out(const char *data, char *dst, size_t len)
{
	const char *slash = strrchr(data, '/'), *dot = strrchr(data, '.');
	int n = dot != NULL && (slash == NULL || dot > slash + 1) ? (int)(dot - data) :
	    (int)strlen(data);

	snprintf(dst, len, "%.*s.spec.json", n, data);
}

static int
write_split(const char *path, const struct split *sp, char *err, size_t len)
{
	json_t *j = json_pack("{s:[], s:[]}", "train", "valid");
	int rc;

	for (size_t i = 0; i < sp->ntrain; i++)
		json_array_append_new(json_object_get(j, "train"), json_integer((json_int_t)sp->train[i]));
	for (size_t i = 0; i < sp->nvalid; i++)
		json_array_append_new(json_object_get(j, "valid"), json_integer((json_int_t)sp->valid[i]));
	rc = write_json(path, j, err, len);
	json_decref(j);
	return rc;
}

/*
 * An MLflow metric key: letters, digits, _ - . / and space; anything else
 * becomes '_'. A key longer than len is cut (metric names are short).
 */
static void
metric_key(char *dst, size_t len, const char *prefix, const char *m)
{
	if (snprintf(dst, len, "%s%s", prefix, m) < 0)
		dst[0] = '\0';
	for (char *p = dst; *p != '\0'; p++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./ ",
		    *p) == NULL)
			*p = '_';
}

/* A finished run: its id, model directory and objective (the first validation metric). */
struct trial {
	char run_id[64], dir[PATH_MAX];
	double objective;
	long index;             /* 1-based, in a search */
};

/* Everything after the data and the spec are ready: log, train, write, register. */
struct job {
	struct opts *o;
	struct data *d;
	struct spec *s;
	const char *spec_text;
	struct split *sp;
	struct matrix *mt, *mv;
	struct bparams *ps;
	struct data *dv;        /* --valid-data, or NULL */
	const char *parent_id;  /* a search trial: its parent run, or NULL */
	struct trial *res;      /* what the run became, or NULL */
};

static json_t *
run_tags(const struct job *j)
{
	char rows[32], abs[PATH_MAX];
	json_t *tags = json_array();

	/* Rows used: training and, with --valid-data, the validation file's too. */
	snprintf(rows, sizeof(rows), "%zu", j->d->n + (j->dv != NULL ? j->dv->n : 0));
	json_array_append_new(tags, kv("mlflow.user", login_name(j->o)));
	json_array_append_new(tags, kv("mlflow.source.name", "verdict train"));
	json_array_append_new(tags, kv("mlflow.source.type", "LOCAL"));
	if (j->o->run_name != NULL)
		json_array_append_new(tags, kv("mlflow.runName", j->o->run_name));
	if (j->parent_id != NULL)
		json_array_append_new(tags, kv("mlflow.parentRunId", j->parent_id));
	json_array_append_new(tags, kv("verdict.data.file", j->d->base));
	json_array_append_new(tags, kv("verdict.data.path", realpath(j->d->path, abs) ?
	    abs : j->d->path));
	json_array_append_new(tags, kv("verdict.data.sha256", j->d->sha256));
	json_array_append_new(tags, kv("verdict.data.rows", rows));
	json_array_append_new(tags, kv("verdict.target", j->o->target));
	if (strlen(j->spec_text) <= SPEC_TAG_MAX)
		json_array_append_new(tags, kv("verdict.spec", j->spec_text));
	return tags;
}

static json_t *
run_params(const struct job *j)
{
	static const char *const tasks[] = { "regression", "binary", "multiclass" };
	json_t *p = json_array();
	char b[64];

	for (size_t i = 0; i < j->ps->n; i++)
		json_array_append_new(p, kv(j->ps->p[i].key, j->ps->p[i].value));
	snprintf(b, sizeof(b), "%ld", j->o->rounds);
	json_array_append_new(p, kv("num_boost_round", b));
	if (j->o->early_stop > 0) {
		snprintf(b, sizeof(b), "%ld", j->o->early_stop);
		json_array_append_new(p, kv("early_stopping_rounds", b));
	}
	if (j->dv != NULL) {
		json_array_append_new(p, kv("valid_split", "file"));
		json_array_append_new(p, kv("valid_data", j->dv->base));
	} else {
		snprintf(b, sizeof(b), "%g", j->o->valid_fraction);
		json_array_append_new(p, kv("valid_fraction", b));
		json_array_append_new(p, kv("valid_split", j->o->valid_by ? "time" : "shuffle"));
	}
	if (j->dv == NULL && j->o->valid_by != NULL)
		json_array_append_new(p, kv("valid_by", j->o->valid_by));
	else {
		snprintf(b, sizeof(b), "%llu", j->o->seed);
		json_array_append_new(p, kv("split_seed", b));
	}
	snprintf(b, sizeof(b), "%zu", j->sp->ntrain);
	json_array_append_new(p, kv("train_rows", b));
	snprintf(b, sizeof(b), "%zu", j->sp->nvalid);
	json_array_append_new(p, kv("valid_rows", b));
	json_array_append_new(p, kv("spec.task", tasks[spec_task(j->s)]));
	snprintf(b, sizeof(b), "%zu", spec_ninputs(j->s));
	json_array_append_new(p, kv("spec.inputs", b));
	snprintf(b, sizeof(b), "%zu", spec_width(j->s));
	json_array_append_new(p, kv("spec.features", b));
	if (spec_nclasses(j->s) > 0) {
		snprintf(b, sizeof(b), "%zu", spec_nclasses(j->s));
		json_array_append_new(p, kv("spec.classes", b));
	}
	json_array_append_new(p, kv("spec.source", j->o->infer ? "inferred" : j->o->spec));
	json_array_append_new(p, kv("target", j->o->target));
	return p;
}

static int
log_dataset(struct trk *t, const struct data *d)
{
	char digest[37], abs[PATH_MAX], *src;
	json_t *source, *profile;
	int rc;

	snprintf(digest, sizeof(digest), "%.32s", d->sha256);
	source = json_pack("{s:s}", "uri", realpath(d->path, abs) ? abs : d->path);
	profile = json_pack("{s:I, s:s}", "num_rows", (json_int_t)d->n, "sha256", d->sha256);
	src = json_dumps(source, JSON_COMPACT);
	{
		char *prof = json_dumps(profile, JSON_COMPACT);

		rc = mlflow(t, "runs/log-inputs", NULL, json_pack("{s:s, s:[{s:[{s:s, s:s}], "
		    "s:{s:s, s:s, s:s, s:s, s:s}}]}", "run_id", t->run_id, "datasets", "tags",
		    "key", "mlflow.data.context", "value", "training", "dataset", "name", d->base,
		    "digest", digest, "source_type", "local", "source", src ? src : "{}",
		    "profile", prof ? prof : "{}"), 1, NULL);
		free(prof);
	}
	free(src);
	json_decref(source);
	json_decref(profile);
	return rc;
}

/*
 * The model in dir (model/model.ubj, model/spec.json) as name's next version,
 * linked to run_id, then stage or alias (NULL: none); its number in *version when
 * version is not NULL. 0, or -1 (said on stderr).
 */
static int
register_model(struct client *vc, const char *name, const char *dir, const char *run_id,
    const char *data_base, const char *stage, const char *alias, long long *version)
{
	char booster[PATH_MAX + 32], specf[PATH_MAX + 32], source[600];
	struct cli_version v = { name, booster, specf, source, run_id, stage, alias, NULL, 0 };
	long long ignored;

	snprintf(booster, sizeof(booster), "%s/model/model.ubj", dir);
	snprintf(specf, sizeof(specf), "%s/model/spec.json", dir);
	snprintf(source, sizeof(source), "verdict train %.200s (run %s)", data_base, run_id);
	for (char *p = source; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return cli_register(CMD, vc, &v, version != NULL ? version : &ignored) == 0 ? 0 : -1;
}

/*
 * The run: created, then params, dataset, per-iteration metrics, artifacts,
 * final metrics, registration, FINISHED — or FAILED / KILLED with the reason.
 */
static int
run_job(struct job *j, struct client *tc, struct client *vc)
{
	struct opts *o = j->o;
	struct trk t;
	DMatrixHandle dm[2] = { NULL, NULL };
	BoosterHandle b = NULL, keep = NULL;
	const char *names[2] = { "train", "valid" };
	double vals[2][METRICS_MAX], best[2][METRICS_MAX], bestv = 0;
	long best_it = -1, it, done = 0;
	int nsets = j->sp->nvalid > 0 ? 2 : 1, rc = TRAIN_FAILED;
	char key[128], dir[PATH_MAX], path[PATH_MAX + 64], err[ERR_MAX] = "";
	struct progress pg = { isatty(2), o->quiet, o->verbose, 0, 0, o->rounds };
	json_t *imp = NULL;
	struct sigaction sa;
	long long version = 0;

	memset(&t, 0, sizeof(t));
	t.c = tc;
	t.verbose = o->verbose;
	t.pending = json_array();
	t.last_flush = now_ms();
	if (o->no_tracking) {
		/* No server assigns an id: this one only names the default --out. */
		t.off = 1;
		snprintf(t.run_id, sizeof(t.run_id), "untracked-%lld", now_ms());
	} else if (trk_start(&t, o->experiment, run_tags(j)) != 0)
		goto out_norun;
	if (j->res != NULL)
		snprintf(j->res->run_id, sizeof(j->res->run_id), "%s", t.run_id);
	/* From here on a run exists: an interrupt marks it KILLED instead of leaving it RUNNING. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!o->quiet)
		fprintf(stderr, CMD ": run %s in experiment %s (%s), %zu training and %zu "
		    "validation rows, %zu features\n", t.run_id, o->experiment, t.exp_id,
		    j->sp->ntrain, j->sp->nvalid, spec_width(j->s));
	if (trk_log_kv(&t, "params", run_params(j)) != 0 || log_dataset(&t, j->d) != 0) {
		snprintf(err, sizeof(err), "%s", t.err);
		goto fail;
	}

	/* Training. */
	if ((dm[0] = dmatrix(j->mt, err, sizeof(err))) == NULL ||
	    (nsets > 1 && (dm[1] = dmatrix(j->mv, err, sizeof(err))) == NULL) ||
	    xgb(XGBoosterCreate(dm, (bst_ulong)nsets, &b), "booster", err, sizeof(err)))
		goto fail;
	for (size_t i = 0; i < j->ps->n; i++) {
		if (!strcmp(j->ps->p[i].key, "eval_metric"))
			continue;
		if (xgb(XGBoosterSetParam(b, j->ps->p[i].key, j->ps->p[i].value), "parameter",
		    err, sizeof(err)))
			goto fail;
	}
	for (size_t m = 0; m < j->ps->nmetrics; m++)
		if (xgb(XGBoosterSetParam(b, "eval_metric", j->ps->metrics[m]), "eval_metric",
		    err, sizeof(err)))
			goto fail;
	pg.t0 = mono();
	for (it = 0; it < o->rounds; it++) {
		const char *ev;
		long long ts;

		if (interrupted)
			break;
		if (xgb(XGBoosterUpdateOneIter(b, (int)it, dm[0]), "training", err, sizeof(err)) ||
		    xgb(XGBoosterEvalOneIter(b, (int)it, dm, names, (bst_ulong)nsets, &ev),
		    "evaluation", err, sizeof(err)))
			goto fail;
		if (parse_eval(ev, j->ps, nsets, vals) == -1) {
			snprintf(err, sizeof(err), "XGBoost's evaluation '%.200s' lacks a metric", ev);
			goto fail;
		}
		done = it + 1;
		ts = now_ms();
		for (int d = 0; d < nsets; d++)
			for (size_t m = 0; m < j->ps->nmetrics; m++) {
				metric_key(key, sizeof(key), d ? "valid_" : "train_", j->ps->metrics[m]);
				if (trk_metric(&t, key, vals[d][m], it, ts) != 0) {
					snprintf(err, sizeof(err), "%s", t.err);
					goto fail;
				}
			}
		/* The kept iteration: the best first validation metric, else the last. */
		if (best_it < 0 || nsets == 1 || (maximize(j->ps->metrics[0]) ?
		    vals[1][0] > bestv : vals[1][0] < bestv)) {
			best_it = it;
			bestv = vals[nsets - 1][0];
			memcpy(best, vals, sizeof(best));
		}
		progress(&pg, it, j->ps, nsets, vals, it + 1 == o->rounds);
		if (o->early_stop > 0 && nsets > 1 && it - best_it >= o->early_stop) {
			progress(&pg, it, j->ps, nsets, vals, 1);
			if (!o->quiet)
				fprintf(stderr, CMD ": early stop: no better valid %s for %ld rounds; "
				    "keeping iteration %ld\n", j->ps->metrics[0], o->early_stop, best_it);
			break;
		}
	}
	if (interrupted) {
		if (pg.tty && !o->quiet)
			fputc('\n', stderr);
		trk_flush(&t);
		trk_log_kv(&t, "tags", json_pack("[{s:s, s:s}]", "key", "verdict.error", "value",
		    "interrupted"));
		trk_status(&t, "KILLED");
		fprintf(stderr, CMD ": interrupted after %ld rounds; run %s marked KILLED\n", done,
		    t.run_id);
		rc = TRAIN_INTERRUPTED;
		goto out;
	}
	if (trk_flush(&t) != 0) {
		snprintf(err, sizeof(err), "%s", t.err);
		goto fail;
	}
	keep = b;
	if (best_it + 1 < done && xgb(XGBoosterSlice(b, 0, (int)best_it + 1, 1, &keep),
	    "slicing the best iteration", err, sizeof(err)))
		goto fail;

	/* The model files. */
	if (o->out != NULL)
		snprintf(dir, sizeof(dir), "%s", o->out);
	else
		snprintf(dir, sizeof(dir), "verdict-train-%s", t.run_id);
	snprintf(path, sizeof(path), "%s/model", dir);
	if (make_dir(dir, err, sizeof(err)) == -1 || make_dir(path, err, sizeof(err)) == -1)
		goto fail;
	{
		bst_ulong n;
		const char *buf;

		if (xgb(XGBoosterSaveModelToBuffer(keep, "{\"format\":\"ubj\"}", &n, &buf),
		    "saving", err, sizeof(err)))
			goto fail;
		snprintf(path, sizeof(path), "%s/model/model.ubj", dir);
		if (write_file(path, buf, n, err, sizeof(err)) == -1)
			goto fail;
	}
	snprintf(path, sizeof(path), "%s/model/spec.json", dir);
	if (write_file(path, j->spec_text, strlen(j->spec_text), err, sizeof(err)) == -1)
		goto fail;
	snprintf(path, sizeof(path), "%s/model/MLmodel", dir);
	if (write_mlmodel(path, t.run_id, err, sizeof(err)) == -1)
		goto fail;
	if ((imp = importance(keep, j->s, err, sizeof(err))) == NULL)
		goto fail;
	snprintf(path, sizeof(path), "%s/feature_importance.json", dir);
	if (write_json(path, imp, err, sizeof(err)) == -1)
		goto fail;
	{
		static const char *const files[] = { "model/MLmodel", "model/model.ubj",
			"model/spec.json", "feature_importance.json" };

		if (upload_artifacts(&t, dir, files, ARRAY_LEN(files), o->quiet) == -1) {
			snprintf(err, sizeof(err), "%s", t.err);
			goto fail;
		}
	}

	/* Final metrics: the kept iteration's, validation when there is one. */
	if (trk_metric(&t, "best_iteration", (double)best_it, best_it, now_ms()) != 0)
		goto tfail;
	for (size_t m = 0; m < j->ps->nmetrics; m++) {
		metric_key(key, sizeof(key), "", j->ps->metrics[m]);
		if (trk_metric(&t, key, best[nsets - 1][m], best_it, now_ms()) != 0)
			goto tfail;
	}
	if (trk_flush(&t) != 0)
		goto tfail;

	if (o->reg_name != NULL && register_model(vc, o->reg_name, dir, t.run_id, j->d->base,
	    o->stage, o->alias, &version) != 0) {
		snprintf(err, sizeof(err), "registering %s failed (above)", o->reg_name);
		goto fail;
	}
	if (o->result_out != NULL) {
		json_t *res = json_pack("{s:s, s:s, s:o, s:{}}", "run_id", t.run_id,
		    "experiment_id", t.exp_id, "version", version > 0 ?
		    json_integer(version) : json_null(), "metrics");

		for (size_t m = 0; res != NULL && m < j->ps->nmetrics; m++)
			json_object_set_new(json_object_get(res, "metrics"), j->ps->metrics[m],
			    json_real(best[nsets - 1][m]));
		if (res == NULL || write_json(o->result_out, res, err, sizeof(err)) == -1) {
			json_decref(res);
			goto fail;
		}
		json_decref(res);
	}
	if (trk_status(&t, "FINISHED") != 0) {
		fprintf(stderr, CMD ": %s\n", t.err);
		goto out;
	}
	if (j->res != NULL) {
		snprintf(j->res->dir, sizeof(j->res->dir), "%s", dir);
		j->res->objective = best[nsets - 1][0];
	}
	rc = TRAIN_OK;
	/* A search trial's summary is its parent's progress line. */
	if (j->parent_id != NULL)
		goto out;
	printf("run %s: %ld rounds, kept iteration %ld", t.run_id, done, best_it);
	for (size_t m = 0; m < j->ps->nmetrics; m++)
		printf(", %s %s %.6g", nsets > 1 ? "valid" : "train", j->ps->metrics[m],
		    best[nsets - 1][m]);
	printf("\nmodel in %s\n", dir);
	rc = TRAIN_OK;
	goto out;
tfail:
	snprintf(err, sizeof(err), "%s", t.err);
fail:
	if (pg.tty && !o->quiet && done > 0)
		fputc('\n', stderr);
	trk_log_kv(&t, "tags", json_pack("[{s:s, s:s}]", "key", "verdict.error", "value", err));
	if (trk_status(&t, "FAILED") == 0)
		fprintf(stderr, CMD ": %s; run %s marked FAILED\n", err, t.run_id);
	else
		fprintf(stderr, CMD ": %s; marking run %s FAILED failed too: %s\n", err, t.run_id,
		    t.err);
	rc = TRAIN_FAILED;
out:
	json_decref(imp);
	if (keep != NULL && keep != b)
		XGBoosterFree(keep);
	if (b != NULL)
		XGBoosterFree(b);
	for (int d = 0; d < 2; d++)
		if (dm[d] != NULL)
			XGDMatrixFree(dm[d]);
out_norun:
	json_decref(t.pending);
	return rc;
}

/* ---- hyperparameter search ---- */

/* a is better than b in the objective's direction; NaN (a diverged trial) is worst. */
static int
better(double a, double b, int max)
{
	if (isnan(b))
		return !isnan(a);
	return !isnan(a) && (max ? a > b : a < b);
}

/* A trial's booster params: the user's, with the sampled values replacing them. */
static void
trial_params(const struct hpspace *hs, const struct hp_value *vals, struct bparams *ps,
    long *rounds)
{
	for (size_t i = 0; i < hpspace_size(hs); i++) {
		const char *name = hpspace_name(hs, i), *syn = hpspace_synonym(hs, i);

		if (!strcmp(name, "n_estimators")) {
			*rounds = (long)vals[i].num;
			continue;
		}
		/* --param learning_rate=... gives way to a sampled eta: one key, not two. */
		for (size_t k = 0; syn != NULL && k < ps->n; k++)
			if (!strcmp(ps->p[k].key, syn))
				snprintf(ps->p[k].key, sizeof(ps->p[k].key), "%s", name);
		param_set(ps, name, vals[i].text);
	}
}

/* The parent run's params: what was searched, how, and what for. */
static json_t *
search_params(const struct opts *o, const char *objective, int max)
{
	char b[64];
	json_t *p = json_array();

	snprintf(b, sizeof(b), "%ld", o->search);
	json_array_append_new(p, kv("search.trials", b));
	snprintf(b, sizeof(b), "%llu", o->seed);
	json_array_append_new(p, kv("search.seed", b));
	json_array_append_new(p, kv("search.algorithm", "random"));
	json_array_append_new(p, kv("search.space_file", o->space));
	json_array_append_new(p, kv("search.objective", objective));
	json_array_append_new(p, kv("search.direction", max ? "maximize" : "minimize"));
	return p;
}

/* "[3/20] max_depth=4 eta=0.05: valid rmse 3.2, best 3.1 (trial 2), 0:42 elapsed, ETA 3:44" */
static void
trial_line(const struct opts *o, const struct hpspace *hs, const struct hp_value *vals,
    const struct trial *tr, const struct trial *best, const char *metric, double t0)
{
	double el = mono() - t0, eta = el / (double)tr->index * (double)(o->search - tr->index);
	char e[32], r[32];

	if (o->quiet)
		return;
	hms(e, sizeof(e), el);
	hms(r, sizeof(r), eta);
	fprintf(stderr, "[%*ld/%ld]", (int)snprintf(NULL, 0, "%ld", o->search), tr->index,
	    o->search);
	for (size_t i = 0; i < hpspace_size(hs); i++)
		fprintf(stderr, " %s=%s", hpspace_name(hs, i), vals[i].text);
	fprintf(stderr, ": valid %s %.6g, best %.6g (trial %ld), %s elapsed, ETA %s\n", metric,
	    tr->objective, best->objective, best->index, e, r);
	fflush(stderr);
}

/*
 * Random search: a parent run, then o->search trials as its child runs, each
 * run_job with sampled params; the parent logs each trial's objective and the
 * best run; then the best o->register_best (1 with --register alone) trials
 * are registered, best first. Returns the exit status.
 */
static int
search_job(struct job *j, const struct hpspace *hs, const json_t *space, struct client *tc,
    struct client *vc)
{
	struct opts *o = j->o, po = *o, to;
	struct job pj = *j, cj;
	struct trk t;
	struct trial *tr = NULL, *best = NULL;
	struct hp_value vals[HP_DIMS_MAX];
	struct bparams *tps = NULL;
	uint64_t state = o->seed;
	const char *metric = j->ps->metrics[0];
	int max = maximize(metric), rc = TRAIN_FAILED;
	long n = 0, nreg = o->register_best > 0 ? o->register_best : o->reg_name ? 1 : 0;
	char objective[128], key[160], name[600], outdir[PATH_MAX], err[ERR_MAX] = "";
	json_t *tags = NULL;
	char *space_text = NULL;
	struct sigaction sa;
	double t0 = mono();

	memset(&t, 0, sizeof(t));
	t.c = tc;
	t.verbose = o->verbose;
	t.pending = json_array();
	t.last_flush = now_ms();
	metric_key(objective, sizeof(objective), "valid_", metric);
	if ((tr = calloc((size_t)o->search, sizeof(*tr))) == NULL ||
	    (tps = malloc(sizeof(*tps))) == NULL ||
	    (space_text = json_dumps(space, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL) {
		fprintf(stderr, CMD ": out of memory\n");
		goto out_norun;
	}
	po.run_name = o->run_name != NULL ? o->run_name : "search";
	pj.o = &po;
	tags = run_tags(&pj);
	if (strlen(space_text) <= SPEC_TAG_MAX)
		json_array_append_new(tags, kv("verdict.search.space", space_text));
	if (trk_start(&t, o->experiment, tags) != 0)
		goto out_norun;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!o->quiet)
		fprintf(stderr, CMD ": search run %s in experiment %s (%s): %ld trials, %s %s\n",
		    t.run_id, o->experiment, t.exp_id, o->search, max ? "maximizing" : "minimizing",
		    objective);
	if (trk_log_kv(&t, "params", search_params(o, objective, max)) != 0 ||
	    log_dataset(&t, j->d) != 0) {
		snprintf(err, sizeof(err), "%s", t.err);
		goto fail;
	}
	if (o->out != NULL && make_dir(o->out, err, sizeof(err)) == -1)
		goto fail;

	for (n = 0; n < o->search && !interrupted; n++) {
		struct trial *cur = &tr[n];

		hpspace_sample(hs, &state, vals);
		*tps = *j->ps;
		to = *o;
		to.reg_name = to.stage = to.alias = NULL;
		to.quiet = o->quiet || !o->verbose;
		snprintf(name, sizeof(name), "%.500s-%ld", po.run_name, n + 1);
		to.run_name = name;
		if (o->out != NULL) {
			snprintf(outdir, sizeof(outdir), "%.4000s/trial-%ld", o->out, n + 1);
			to.out = outdir;
		}
		trial_params(hs, vals, tps, &to.rounds);
		cj = *j;
		cj.o = &to;
		cj.ps = tps;
		cj.parent_id = t.run_id;
		cj.res = cur;
		cur->index = n + 1;
		if ((rc = run_job(&cj, tc, NULL)) == TRAIN_INTERRUPTED)
			break;
		if (rc != TRAIN_OK) {
			snprintf(err, sizeof(err), "trial %ld failed%s%s", n + 1, cur->run_id[0] ?
			    ": run " : " before its run existed", cur->run_id);
			goto fail;
		}
		snprintf(key, sizeof(key), "trial_%s", objective);
		if (best == NULL || better(cur->objective, best->objective, max))
			best = cur;
		if (trk_metric(&t, key, cur->objective, n + 1, now_ms()) != 0 || trk_flush(&t) != 0) {
			snprintf(err, sizeof(err), "%s", t.err);
			goto fail;
		}
		trial_line(o, hs, vals, cur, best, metric, t0);
	}
	if (interrupted) {
		trk_flush(&t);
		trk_log_kv(&t, "tags", json_pack("[{s:s, s:s}]", "key", "verdict.error", "value",
		    "interrupted"));
		trk_status(&t, "KILLED");
		fprintf(stderr, CMD ": interrupted after %ld of %ld trials; search run %s marked "
		    "KILLED\n", n, o->search, t.run_id);
		rc = TRAIN_INTERRUPTED;
		goto out;
	}

	/* The best trials first; equal objectives keep trial order. */
	for (long a = 1; a < n; a++)
		for (long b = a; b > 0 && better(tr[b].objective, tr[b - 1].objective, max); b--) {
			struct trial x = tr[b];

			tr[b] = tr[b - 1];
			tr[b - 1] = x;
		}
	snprintf(key, sizeof(key), "best_%s", objective);
	if (trk_log_kv(&t, "tags", json_pack("[{s:s, s:s}]", "key", "verdict.search.best_run_id",
	    "value", tr[0].run_id)) != 0 || trk_metric(&t, key, tr[0].objective, tr[0].index,
	    now_ms()) != 0 || trk_flush(&t) != 0) {
		snprintf(err, sizeof(err), "%s", t.err);
		goto fail;
	}
	for (long k = 0; k < nreg; k++)
		if (register_model(vc, o->reg_name, tr[k].dir, tr[k].run_id, j->d->base,
		    k == 0 ? o->stage : NULL, k == 0 ? o->alias : NULL, NULL) != 0) {
			snprintf(err, sizeof(err), "registering trial %ld (run %s) as %s failed "
			    "(above)", tr[k].index, tr[k].run_id, o->reg_name);
			goto fail;
		}
	if (trk_status(&t, "FINISHED") != 0) {
		fprintf(stderr, CMD ": %s\n", t.err);
		rc = TRAIN_FAILED;
		goto out;
	}
	printf("search run %s: %ld trials, best trial %ld, run %s, valid %s %.6g\nmodel in %s\n",
	    t.run_id, n, tr[0].index, tr[0].run_id, metric, tr[0].objective, tr[0].dir);
	rc = TRAIN_OK;
	goto out;
fail:
	trk_flush(&t);
	trk_log_kv(&t, "tags", json_pack("[{s:s, s:s}]", "key", "verdict.error", "value", err));
	if (trk_status(&t, "FAILED") == 0)
		fprintf(stderr, CMD ": %s; search run %s marked FAILED\n", err, t.run_id);
	else
		fprintf(stderr, CMD ": %s; marking search run %s FAILED failed too: %s\n", err,
		    t.run_id, t.err);
	rc = TRAIN_FAILED;
	goto out;
out_norun:
	rc = TRAIN_FAILED;
out:
	free(space_text);
	free(tps);
	free(tr);
	json_decref(t.pending);
	return rc;
}

/* Checks a given spec against the data: its task, every input a column, the target none. */
static int
check_spec(const struct opts *o, const struct data *d, const struct spec *s)
{
	static const char *const tasks[] = { "regression", "binary", "multiclass" };

	if (o->task != NULL && strcmp(o->task, tasks[spec_task(s)])) {
		fprintf(stderr, CMD ": %s: the spec's task is %s, not %s (--task)\n", o->spec,
		    tasks[spec_task(s)], o->task);
		return TRAIN_BAD_INPUT;
	}
	for (size_t i = 0; i < spec_ninputs(s); i++) {
		const char *n = spec_input_name(s, i);

		if (!strcmp(n, o->target)) {
			fprintf(stderr, CMD ": %s: input '%s' is the --target\n", o->spec, n);
			return TRAIN_BAD_INPUT;
		}
		if (col_index(d, n) < 0) {
			fprintf(stderr, CMD ": %s: input '%s' is not a column of %s (line 1 names "
			    "%zu columns)\n", o->spec, n, d->path, d->ncol);
			return TRAIN_BAD_INPUT;
		}
	}
	if (!o->quiet)
		for (size_t c = 0; c < d->ncol; c++)
			if ((long)c != d->target_col && spec_input_index(s, d->col[c]) < 0)
				fprintf(stderr, CMD ": note: column '%s' is not in the spec: "
				    "ignored\n", d->col[c]);
	return 0;
}

/* Binary training needs both classes among the training rows. */
static int
check_classes(const struct opts *o, const struct data *d, const struct spec *s,
    const struct matrix *mt)
{
	size_t count[2] = { 0, 0 };

	if (spec_task(s) != SPEC_BINARY)
		return 0;
	for (size_t i = 0; i < mt->n; i++)
		count[mt->y[i] != 0]++;
	if (count[0] == 0 || count[1] == 0) {
		fprintf(stderr, CMD ": %s:1: column %ld (%s): the training rows hold a single "
		    "class, '%s'; a binary task needs both\n", d->path, d->target_col + 1,
		    o->target, spec_class_label(s, count[1] > 0));
		return TRAIN_BAD_INPUT;
	}
	return 0;
}

int
train_main(int argc, char **argv)
{
	struct opts o;
	struct data d, dv;
	struct split sp = { NULL, NULL, 0, 0 };
	struct matrix mt = { NULL, NULL, 0, 0 }, mv = { NULL, NULL, 0, 0 };
	struct bparams ps;
	struct spec *s = NULL;
	struct client *tc = NULL, *vc = NULL;
	struct cli_creds cr;
	struct hpspace *hs = NULL;
	json_t *specj = NULL, *spacej = NULL;
	char *spec_text = NULL, err[SPEC_ERR_MAX], vurl[1024], spath[PATH_MAX];
	const char *by_format = NULL, *turl;
	char by_tz[16] = "UTC";
	int rc, have_vurl;

	memset(&cr, 0, sizeof(cr));
	memset(&d, 0, sizeof(d));
	memset(&dv, 0, sizeof(dv));
	if ((rc = parse_opts(argc, argv, &o)) != 0) {
		if (rc == 1)
			return TRAIN_OK;
		fprintf(stderr, "%s", "run 'verdict train --help' for the options\n");
		return TRAIN_BAD_INPUT;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, CMD ": libsodium failed to start\n");
		return TRAIN_FAILED;
	}
	/* The space first: a mistake in it costs no data loading. */
	rc = TRAIN_BAD_INPUT;
	if (o.space != NULL && ((spacej = load_spec_file(o.space)) == NULL ||
	    (hs = hpspace_parse(spacej, err, sizeof(err))) == NULL)) {
		if (spacej != NULL)
			fprintf(stderr, CMD ": %s: %s\n", o.space, err);
		goto out;
	}
	if ((rc = load_data(&d, o.data, o.target)) != 0 ||
	    (o.valid_data != NULL && (rc = load_data(&dv, o.valid_data, o.target)) != 0))
		goto out;
	rc = TRAIN_BAD_INPUT;
	if (o.valid_by != NULL && col_index(&d, o.valid_by) < 0) {
		fprintf(stderr, CMD ": %s:1: no column '%s' (the --valid-by)\n", d.path,
		    o.valid_by);
		goto out;
	}
	if (o.spec != NULL) {
		if ((specj = load_spec_file(o.spec)) == NULL)
			goto out;
		if ((s = spec_parse(specj, err, sizeof(err))) == NULL) {
			spec_error(o.spec, err);
			goto out;
		}
		if ((rc = check_spec(&o, &d, s)) != 0)
			goto out;
		rc = TRAIN_BAD_INPUT;
		if (o.task == NULL)
			o.task = spec_task(s) == SPEC_REGRESSION ? "regression" :
			    spec_task(s) == SPEC_BINARY ? "binary" : "multiclass";
		if (o.valid_by != NULL) {
			long i = spec_input_index(s, o.valid_by);
			int off;

			if (i >= 0 && strcmp(spec_input_type(s, (size_t)i), "datetime")) {
				fprintf(stderr, CMD ": %s: input '%s' (the --valid-by) is a %s, not a "
				    "datetime\n", o.spec, o.valid_by, spec_input_type(s, (size_t)i));
				goto out;
			}
			if (i >= 0) {
				by_format = spec_input_format(s, (size_t)i);
				off = spec_input_tzoff(s, (size_t)i);
				if (off != 0)
					snprintf(by_tz, sizeof(by_tz), "%c%02d:%02d", off < 0 ? '-' : '+',
					    abs(off) / 3600, abs(off) / 60 % 60);
			}
		}
	} else if (o.valid_by != NULL) {
		struct colinfo ci;

		infer_column(&d, o.valid_by, &ci);
		if (ci.type != CT_DATETIME) {
			fprintf(stderr, CMD ": %s:1: column %ld (%s): not a datetime column (the "
			    "--valid-by), or a value does not parse as one\n", d.path,
			    col_index(&d, o.valid_by) + 1, o.valid_by);
			goto out;
		}
		by_format = dt_formats[ci.format];
	}
	if (o.valid_data != NULL)
		rc = whole_split(&d, &dv, &sp);
	else
		rc = make_split(&d, &o, by_format, by_tz, &sp);
	if (rc != 0)
		goto out;
	rc = TRAIN_BAD_INPUT;
	if (o.infer) {
		if ((specj = infer_spec(&d, &o, &sp, &rc)) == NULL)
			goto out;
		if ((s = spec_parse(specj, err, sizeof(err))) == NULL) {
			fprintf(stderr, CMD ": the inferred spec is not valid: %s\n", err);
			rc = TRAIN_FAILED;
			goto out;
		}
	}
	if ((spec_text = json_dumps(specj, JSON_INDENT(1) | JSON_PRESERVE_ORDER)) == NULL) {
		rc = TRAIN_FAILED;
		goto out;
	}
	if ((rc = build_matrix(&d, s, sp.train, sp.ntrain, &mt, o.target)) != 0 ||
	    (rc = build_matrix(o.valid_data != NULL ? &dv : &d, s, sp.valid, sp.nvalid, &mv,
	    o.target)) != 0 ||
	    (rc = check_classes(&o, &d, s, &mt)) != 0)
		goto out;
	rc = TRAIN_BAD_INPUT;
	if (make_params(&o, s, &ps) == -1)
		goto out;
	rc = TRAIN_FAILED;
	if (o.infer) {
		if (o.spec_out != NULL)
			snprintf(spath, sizeof(spath), "%s", o.spec_out);
		else
			default_spec_out(o.data, spath, sizeof(spath));
		if (write_json(spath, specj, err, sizeof(err)) == -1) {
			fprintf(stderr, CMD ": %s\n", err);
			goto out;
		}
		if (!o.quiet)
			fprintf(stderr, CMD ": inferred spec written to %s\n", spath);
	}
	if (o.split_out != NULL && write_split(o.split_out, &sp, err, sizeof(err)) == -1) {
		fprintf(stderr, CMD ": %s\n", err);
		goto out;
	}

	/* The servers: tracking (any MLflow), and verdict for --register. */
	if (o.no_tracking)
		goto train;
	rc = TRAIN_BAD_INPUT;
	have_vurl = cli_server_url(&o.rm, vurl, sizeof(vurl)) == 0;
	turl = o.tracking;
	if (turl == NULL || *turl == '\0')
		turl = getenv("MLFLOW_TRACKING_URI");
	if (turl == NULL || *turl == '\0')
		turl = have_vurl ? vurl : NULL;
	if (turl == NULL) {
		fprintf(stderr, CMD ": no tracking server: pass --tracking-uri or --url, or set "
		    "MLFLOW_TRACKING_URI or VERDICT_URL\n");
		goto out;
	}
	if (o.reg_name != NULL && !have_vurl) {
		fprintf(stderr, CMD ": --register needs verdict: pass --url or set VERDICT_URL\n");
		goto out;
	}
	/* A plain MLflow server may need no credentials; verdict always does. */
	if (cli_creds_get(CMD, &o.rm, o.reg_name != NULL || (have_vurl && !strcmp(turl, vurl)),
	    &cr, &rc) == -1)
		goto out;
	if ((tc = cli_client(CMD, turl, &cr)) == NULL ||
	    (o.reg_name != NULL && (vc = cli_client(CMD, vurl, &cr)) == NULL))
		goto out;
	cli_creds_wipe(&cr);
train:
	{
		struct job j = { &o, &d, s, spec_text, &sp, &mt, &mv, &ps,
			o.valid_data != NULL ? &dv : NULL, NULL, NULL };

		rc = hs != NULL ? search_job(&j, hs, spacej, tc, vc) : run_job(&j, tc, vc);
	}
out:
	cli_creds_wipe(&cr);
	client_free(tc);
	client_free(vc);
	free(spec_text);
	json_decref(specj);
	json_decref(spacej);
	hpspace_free(hs);
	spec_free(s);
	matrix_free(&mt);
	matrix_free(&mv);
	free(sp.train);
	free(sp.valid);
	data_free(&d);
	data_free(&dv);
	return rc;
}

/* ---- for verdict retrain: train's reading, split and features, reused ---- */

int
train_table_load(struct train_table *t, const char *path, const char *target,
    const struct spec *s, double valid_fraction, const char *valid_by,
    unsigned long long seed)
{
	struct data d;
	struct opts o;
	struct split sp = { NULL, NULL, 0, 0 };
	const char *by_format = NULL;
	char by_tz[16] = "UTC";
	long in = valid_by != NULL ? spec_input_index(s, valid_by) : -1;
	int rc;

	memset(t, 0, sizeof(*t));
	memset(&o, 0, sizeof(o));
	o.valid_fraction = valid_fraction;
	o.valid_by = valid_by;
	o.seed = seed;
	if ((rc = load_data(&d, path, target)) != 0)
		goto out;
	rc = TRAIN_BAD_INPUT;
	if (valid_by != NULL && col_index(&d, valid_by) < 0) {
		fprintf(stderr, "%s:1: no column '%s' (the run's valid_by)\n", path, valid_by);
		goto out;
	}
	if (in >= 0 && !strcmp(spec_input_type(s, (size_t)in), "datetime")) {
		int off = spec_input_tzoff(s, (size_t)in);

		by_format = spec_input_format(s, (size_t)in);
		if (off != 0)
			snprintf(by_tz, sizeof(by_tz), "%c%02d:%02d", off < 0 ? '-' : '+',
			    abs(off) / 3600, abs(off) / 60 % 60);
	} else if (valid_by != NULL) {
		struct colinfo ci;

		infer_column(&d, valid_by, &ci);
		by_format = dt_formats[ci.format];
	}
	if ((rc = make_split(&d, &o, by_format, by_tz, &sp)) != 0)
		goto out;
	rc = TRAIN_FAILED;
	t->row = calloc(d.n ? d.n : 1, sizeof(*t->row));
	t->valid = calloc(d.n ? d.n : 1, 1);
	if (t->row == NULL || t->valid == NULL)
		goto out;
	for (size_t i = 0; i < d.n; i++) {
		if (d.label[i] != NULL && json_object_set(d.row[i], target, d.label[i]) == -1)
			goto out;
		t->row[i] = json_incref(d.row[i]);
	}
	for (size_t k = 0; k < sp.nvalid; k++)
		t->valid[sp.valid[k]] = 1;
	t->n = d.n;
	t->csv = d.csv;
	t->col = d.col;
	t->ncol = d.ncol;
	d.col = NULL;
	d.ncol = 0;
	memcpy(t->sha256, d.sha256, sizeof(t->sha256));
	rc = 0;
out:
	free(sp.train);
	free(sp.valid);
	data_free(&d);
	if (rc != 0)
		train_table_free(t);
	return rc;
}

void
train_table_free(struct train_table *t)
{
	for (size_t i = 0; t->row != NULL && i < t->n; i++)
		json_decref(t->row[i]);
	for (size_t i = 0; i < t->ncol; i++)
		free(t->col[i]);
	free(t->row);
	free(t->valid);
	free(t->col);
	memset(t, 0, sizeof(*t));
}

int
train_features(const struct spec *s, json_t *const *rows, size_t n, const char *target,
    const char *what, float **x, float **y)
{
	struct data d;
	struct matrix m = { NULL, NULL, 0, 0 };
	size_t *idx = malloc((n ? n : 1) * sizeof(*idx));
	int rc = TRAIN_FAILED;

	memset(&d, 0, sizeof(d));
	d.path = d.base = what;
	*x = *y = NULL;
	if (idx == NULL || data_alloc(&d, n) == -1)
		goto out;
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_object_get(rows[i], target);

		if ((d.row[i] = json_copy(rows[i])) == NULL)
			goto out;
		d.n = i + 1;
		json_object_del(d.row[i], target);
		d.label[i] = v != NULL && !json_is_null(v) ? json_incref(v) : NULL;
		d.line[i] = (long)i + 1;
		idx[i] = i;
	}
	if ((rc = build_matrix(&d, s, idx, n, &m, target)) != 0)
		goto out;
	*x = m.x;
	*y = m.y;
	m.x = m.y = NULL;
out:
	matrix_free(&m);
	free(idx);
	data_free(&d);
	return rc;
}
