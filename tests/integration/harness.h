/* harness.h: private Postgres + verdictd + nginx stack and an HTTP client for integration tests. */
#ifndef VERDICT_TEST_HARNESS_H
#define VERDICT_TEST_HARNESS_H

#include <stddef.h>

#include <jansson.h>

/*
 * Starts a private stack with `deploy/stack start --dir <mkdtemp in /tmp>
 * --port 0 --supervise --builddir $VERDICT_BUILDDIR` (the repository is
 * $VERDICT_SRCDIR; make check sets both; without them both are found from
 * the test binary's location or the cwd). When $VERDICT_TEST_URL is set, that
 * running stack is used instead and never stopped ($VERDICT_DIR, as written by
 * stack.env, then names its directory for harness_pg_stop and friends).
 *
 * Call it in main() before srunner_run_all: check forks a child per test
 * case, and only the process that started the stack tears it down (atexit,
 * SIGINT, SIGTERM, SIGHUP), removing the temp dir unless
 * $VERDICT_KEEP_TEST_DIR is set. At teardown, sanitizer reports found in
 * verdictd's stderr log are printed and make the program exit 1.
 * Returns 0, or -1 after printing why to stderr.
 */
int harness_start(void);

/* Stops the stack and removes its directory now; safe to call twice. */
void harness_stop(void);

/* "http://127.0.0.1:PORT" without a trailing slash; "" before start. */
const char *harness_url(void);

/* The stack directory (DIR/run, DIR/log, ...); "" when unknown. */
const char *harness_dir(void);

/* Stop / start only Postgres (DB outage tests). 0 or -1. */
int harness_pg_stop(void);
int harness_pg_start(void);

/* verdictd's pid from DIR/run/verdictd.pid, -1 if none. The supervisor
 * restarts verdictd within ~0.3 s when it dies, with a new pid. */
long harness_verdictd_pid(void);

/* Polls GET /healthz until it answers 200 or timeout_ms passes: after
 * killing verdictd, for instance. 0 or -1. */
int harness_wait_healthy(int timeout_ms);

struct http_resp {
	long status;
	char *headers;       /* raw header block of the final response, NUL-terminated */
	size_t headers_len;
	char *body;          /* NUL-terminated (the NUL is not counted in body_len) */
	size_t body_len;
};

/*
 * One HTTP request with libcurl to harness_url() + path. extra_headers is a
 * NULL-terminated array of "Name: value" strings, or NULL; an entry "Name:"
 * removes a header curl would send. body may be NULL. Redirects are not
 * followed and bodies are not decompressed. Returns 0 when a response arrived
 * (any status), -1 on a transport error (printed to stderr). Paths are sent
 * as written ("/../" included, CURLOPT_PATH_AS_IS). out is always
 * initialised; free it with http_resp_free.
 */
int http_request(const char *method, const char *path, const char *content_type,
    const void *body, size_t body_len, const char *const *extra_headers,
    struct http_resp *out);

/* GET path; as http_request. */
int http_get(const char *path, struct http_resp *out);

/* The first header named name (case-insensitive), value trimmed and copied
 * into dst (truncated to dstlen - 1). Returns dst, or NULL if absent. */
const char *http_header(const struct http_resp *r, const char *name, char *dst,
    size_t dstlen);

/* The body parsed as JSON (caller owns the reference: json_decref), or NULL. */
json_t *http_json(const struct http_resp *r);

/* Frees what r holds and zeroes it. */
void http_resp_free(struct http_resp *r);

#endif
