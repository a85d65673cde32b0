/* metrics.h: Prometheus metrics — per-thread counters written without locks on the request path and summed when /metrics is scraped. */
#ifndef VERDICT_METRICS_H
#define VERDICT_METRICS_H

#include <stddef.h>

#include "http.h"

#define METRICS_VERSIONS 256      /* model versions one thread counts (more: counted as "other") */

/* Process start: the route count (labels are route templates) and the start time. */
void metrics_init(size_t nroutes);

/* One request: route index (nroutes or more: unmatched), status, duration. */
void metrics_request(size_t route, int status, long long duration_us);

/* n rows predicted by one model version in duration_us (one request). */
void metrics_predictions(long long version_id, size_t n, long long duration_us);

/* n truths recorded for a model version. */
void metrics_feedback(long long version_id, size_t n);

/*
 * Prediction latency of these versions since this process started: p50
 * and p99 in ms, interpolated within the histogram's buckets. Returns the
 * number of requests observed (0: nothing, and p50 and p99 untouched).
 */
unsigned long long metrics_latency(const long long *vids, size_t n, double *p50,
    double *p99);

/* GET /metrics: the exposition in Prometheus text format 0.0.4, to the
 * addresses in metrics_allow or with Authorization: Bearer <metrics_token>. */
int api_metrics(struct req *r);

#endif
