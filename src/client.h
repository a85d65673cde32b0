/* client.h: the CLI's HTTP client for verdict's JSON API (libcurl + jansson). */
#ifndef VERDICT_CLIENT_H
#define VERDICT_CLIENT_H

#include <stddef.h>

#include <jansson.h>

#include "util.h"

#define CLIENT_MAX_RESPONSE ((size_t)16 << 20)  /* bytes of one answer; more is an error */
#define CLIENT_RETRIES 3                         /* retries after the first attempt */

struct client;

/*
 * A client for base, an http:// or https:// URL without query or fragment
 * (trailing '/' dropped; a path prefix is kept). NULL with err set when the
 * URL is unusable or memory ran out. Caller frees with client_free.
 */
struct client *client_new(const char *base, char *err, size_t errlen) WUR;

/* Frees c and wipes the credentials it holds; NULL is fine. */
void client_free(struct client *c);

/* The base URL as given, without the trailing '/'; valid while c lives. */
const char *client_url(const struct client *c);

/*
 * Credentials for every later request: "Authorization: Bearer token", or
 * HTTP Basic (verdict accepts it on JSON routes). Both copy their arguments.
 * -1 when a value is empty or holds a control character (it would split the
 * header), or memory ran out.
 */
int client_set_token(struct client *c, const char *token) WUR;
int client_set_basic(struct client *c, const char *user, const char *password) WUR;

/* One answer; client_resp_free releases json. */
struct client_resp {
	long status;            /* HTTP status; 0 when no answer arrived */
	json_t *json;           /* the body when it was JSON, else NULL */
	char error_code[64];    /* verdict's error_code of a non-2xx answer, else "" */
	char message[1024];     /* why it failed: the server's message, the status
	                           line, or the transport error; "" on success */
};

enum client_status {
	CLIENT_OK = 0,          /* a 2xx answer; json is set when it had a body */
	CLIENT_HTTP = 1,        /* another status: status, error_code, message say why */
	CLIENT_ERROR = -1,      /* no usable answer: message says why */
};

/*
 * method path (from client_path) with body sent as application/json, or no
 * body when NULL. GET is retried CLIENT_RETRIES times with a short backoff on
 * transport errors and 503; other methods only when the connection could not
 * be made (nothing was sent). out is always initialised.
 */
enum client_status client_json(struct client *c, const char *method, const char *path,
    const json_t *body, struct client_resp *out) WUR;

/* POST path with len bytes of body as Content-Type type (a data upload: text/csv, a JSON
 * list read from a file); retried as client_json retries a POST. */
enum client_status client_body(struct client *c, const char *path, const char *type,
    const void *body, size_t len, struct client_resp *out) WUR;

/*
 * As client_json, for a call the caller knows to be idempotent (MLflow's
 * get, set-tag, log-parameter, runs/update): retried as a GET is, whatever
 * the method.
 */
enum client_status client_json_idempotent(struct client *c, const char *method,
    const char *path, const json_t *body, struct client_resp *out) WUR;

/*
 * PUT path with len bytes of data as Content-Type type (an upload that
 * replaces what is there, so it is retried as a GET is).
 */
enum client_status client_put(struct client *c, const char *path, const void *data,
    size_t len, const char *type, struct client_resp *out) WUR;

/* One multipart/form-data part: a file read at send time, or a value. */
struct client_part {
	const char *name;
	const char *file;       /* path of the file to send, or NULL */
	const char *value;      /* the value when file is NULL */
	const char *type;       /* Content-Type of the part, or NULL */
};

/* POST path as multipart/form-data; retried as client_json retries a POST. */
enum client_status client_multipart(struct client *c, const char *path,
    const struct client_part *parts, size_t nparts, struct client_resp *out) WUR;

/*
 * GET path for bytes of any type (a booster download): a 2xx answer's body
 * in *data (*len bytes; caller frees), else as client_json. Retried as a GET.
 */
enum client_status client_get_bytes(struct client *c, const char *path, void **data,
    size_t *len, struct client_resp *out) WUR;

void client_resp_free(struct client_resp *r);

/*
 * "/seg1/seg2/..." into dst from the NULL-terminated segments, each
 * percent-encoded (everything but A-Z a-z 0-9 - . _ ~), so a name cannot add
 * path segments or a query. 0, or -1 when it does not fit in len.
 */
int client_path(char *dst, size_t len, ...) __attribute__((sentinel)) WUR;

#endif
