/* drift.h: data drift — reference profiles of a version's raw inputs and output, comparisons of recent predictions with them (Evidently's default tests), and the statistics behind them. */
#ifndef VERDICT_DRIFT_H
#define VERDICT_DRIFT_H

#include <stddef.h>

#include <jansson.h>

#include "http.h"

#define DRIFT_MAX_ROWS 100000      /* rows of one reference upload */
#define DRIFT_CURRENT_MAX 10000    /* newest predictions of a window that are compared */
#define DRIFT_SMALL 1000           /* reference values up to which p-value tests are used */
#define DRIFT_QUANTILES 1000       /* points kept of a larger numeric reference */
#define DRIFT_LOW_CARD 5           /* numbers with this many distinct values or fewer
                                      are tested as categories (Evidently's rule) */
#define DRIFT_P_THRESHOLD 0.05     /* KS, chi-square, Z: drift when p < this */
#define DRIFT_D_THRESHOLD 0.1      /* Wasserstein (normed), Jensen-Shannon: drift when >= */
#define DRIFT_PSI_THRESHOLD 0.1    /* PSI: drift when >= (reported alongside) */
#define DRIFT_SHARE 0.5            /* dataset drift when this share of inputs drift */
#define DRIFT_MAX_WINDOW_HOURS (365 * 24)

/*
 * Every function taking a req answers errors itself (resp_error, in the
 * route's language) and returns 1; 0 on success with *out set (a new
 * reference); -1 on an internal failure.
 */

/*
 * Stores the reference profile of version `version` of model name from raw
 * rows, replacing an earlier one: each row is read by the version's spec
 * exactly as serving reads it (unknown fields, bad values, unknown
 * categories under policy "error" are a 400 naming the row and field, and
 * nothing is stored) and scored by the version's booster for the output's
 * profile. rows: a JSON list of raw-row objects (index = row number), or a
 * CSV with a header of input names (line numbers; an empty cell is a
 * missing value). *out = {"model","version","rows","columns":[{"name",
 * "kind","n","missing"}]}.
 */
int drift_reference_json(struct req *r, const char *name, int version, json_t *list,
    json_t **out);
int drift_reference_csv(struct req *r, const char *name, int version, const char *body,
    size_t len, json_t **out);

/*
 * Compares the newest DRIFT_CURRENT_MAX predictions of the last window
 * ("24h", "7d": 1..8760 hours) with the reference of each version that has
 * one (version 0), or of that version, and stores a report per version; a
 * report with dataset drift also writes an event 'drift.detected' in the
 * same transaction. *out = {"model","window","reports":[report],
 * "skipped":[{"version","reason"}]}; a report is as drift_get returns it.
 */
int drift_run(struct req *r, const char *name, int version, const char *window,
    json_t **out);

/*
 * The latest report of every version, the history of all reports (newest
 * 200: id, version, created_at, share, dataset_drift) and the references:
 * {"model","reports":[...],"history":[...],"references":[{"version",
 * "stage","rows","created_at"}]}.
 */
int drift_get(struct req *r, const char *name, json_t **out);

/* "24h", "7d" → hours (1..DRIFT_MAX_WINDOW_HOURS), or -1. */
int drift_window_hours(const char *s);

/* ---- the statistics (pure; unit-tested against scipy's values) ---- */

/* Two-sample Kolmogorov-Smirnov statistic D of sorted samples. */
double drift_ks_statistic(const double *a, size_t na, const double *b, size_t nb);
/* The Kolmogorov distribution's survival function Q(x) = P(K > x). */
double drift_kolmogorov_sf(double x);
/* Asymptotic two-sided p-value: Q(sqrt(na nb / (na + nb)) D). */
double drift_ks_pvalue(double d, size_t na, size_t nb);
/* Regularized upper incomplete gamma Q(a, x), a > 0, x >= 0. */
double drift_gamma_q(double a, double x);
/* Chi-square survival function with df degrees of freedom. */
double drift_chi2_sf(double x, double df);
/* Wasserstein-1 distance of two sorted equal-weight samples. */
double drift_wasserstein(const double *a, size_t na, const double *b, size_t nb);
/* Evidently's fill for empty bins: zero shares become 1e-4, or the smallest
 * non-zero share / 1e6 when that is at most 1e-4. */
void drift_fill_zeros(double *p, size_t k);
/* Jensen-Shannon distance (natural log) of two share vectors, each normalized to sum 1. */
double drift_js_distance(const double *p, const double *q, size_t k);
/* PSI = sum (r - c) ln(r / c) over bins (shares already filled). */
double drift_psi(const double *r, const double *c, size_t k);
/* Two-proportion Z statistic for counts k1 of n1 and k2 of n2 (0 when pooled p is 0 or 1). */
double drift_z_statistic(double k1, double n1, double k2, double n2);
/* Two-sided p-value of a standard normal statistic: erfc(|z| / sqrt 2). */
double drift_z_pvalue(double z);
/* numpy's default (linear) quantile of a sorted sample. */
double drift_quantile(const double *x, size_t n, double q);

#endif
