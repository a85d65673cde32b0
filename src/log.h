/* log.h: one JSON line per request and per server event, written with a single write(2). */
#ifndef VERDICT_LOG_H
#define VERDICT_LOG_H

#include <stddef.h>

#include "util.h"

/* Opens path for appending ("-" = stderr). Returns 0 or -1. */
int log_open(const char *path) WUR;

struct log_request {
	const char *method;
	const char *path;
	const char *route;       /* the route pattern, or NULL when none matched */
	int status;
	long long duration_us;
	size_t bytes;
	const char *request_id;
	long long user_id;       /* 0 when anonymous */
};
void log_request(const struct log_request *r);

/* level: "info", "warn", "error". Message is printf-formatted. */
void log_msg(const char *level, const char *fmt, ...) PRINTF(2, 3);

/* Appends s as a JSON string body (no quotes), escaping / and controls. */
int json_escape(struct buf *out, const char *s, size_t len) WUR;

#endif
