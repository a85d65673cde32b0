/* http.c: request parsing, dispatch through the route table, and response building. */
#include "http.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "db.h"
#include "log.h"
#include "router.h"
#include "template.h"

#define MAX_PARAMS 1000
#define MAX_HEADERS 16384
#define MAX_RESPONSE (64u << 20)

const char *
env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static const char *
env_dup(struct arena *a, char *const *envp, const char *name)
{
	const char *v = env_get(envp, name);

	return v != NULL ? arena_strdup(a, v) : NULL;
}

/* A client-supplied X-Request-Id is kept only when it is short and plain. */
static int
request_id_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' &&
		    s[i] != '.')
			return 0;
	return i > 0 && i < 40;
}

int
req_init(struct req *r, struct arena *a, const struct app *app,
    char *const *envp)
{
	const char *v;
	char *path, *q;

	memset(r, 0, sizeof(*r));
	r->a = a;
	r->app = app;
	buf_init(&r->resp.headers, MAX_HEADERS);
	buf_init(&r->resp.body, MAX_RESPONSE);
	r->resp.status = 200;

	r->method = env_dup(a, envp, "REQUEST_METHOD");
	if (r->method == NULL)
		r->method = "GET";
	/* DOCUMENT_URI is nginx's decoded, normalized path; REQUEST_URI is the fallback. */
	v = env_get(envp, "DOCUMENT_URI");
	if (v == NULL)
		v = env_get(envp, "REQUEST_URI");
	if (v == NULL || *v != '/')
		v = "/";
	if ((path = arena_strdup(a, v)) == NULL)
		return -1;
	if ((q = strchr(path, '?')) != NULL)
		*q = '\0';
	r->path = path;
	v = env_get(envp, "REQUEST_URI");
	if ((path = arena_strdup(a, v != NULL && *v == '/' ? v : r->path)) == NULL)
		return -1;
	if ((q = strchr(path, '?')) != NULL)
		*q = '\0';
	r->raw_path = path;
	r->query = env_dup(a, envp, "QUERY_STRING");
	r->content_type = env_dup(a, envp, "CONTENT_TYPE");
	r->content_length = -1;
	if ((v = env_get(envp, "CONTENT_LENGTH")) != NULL && *v != '\0') {
		char *end;
		long long n;

		errno = 0;
		n = strtoll(v, &end, 10);
		if (errno == 0 && *end == '\0' && n >= 0 && isdigit((unsigned char)*v))
			r->content_length = n;
		else
			r->content_length = -2;   /* present but invalid */
	}
	r->remote_addr = env_dup(a, envp, "REMOTE_ADDR");
	r->cookie_header = env_dup(a, envp, "HTTP_COOKIE");
	r->authorization = env_dup(a, envp, "HTTP_AUTHORIZATION");
	r->origin = env_dup(a, envp, "HTTP_ORIGIN");
	r->referer = env_dup(a, envp, "HTTP_REFERER");
	r->host = env_dup(a, envp, "HTTP_HOST");
	r->server_port = env_dup(a, envp, "SERVER_PORT");
	r->user_agent = env_dup(a, envp, "HTTP_USER_AGENT");
	r->forwarded_for = env_dup(a, envp, "HTTP_X_FORWARDED_FOR");
	r->forwarded_proto = env_dup(a, envp, "HTTP_X_FORWARDED_PROTO");
	r->csrf_header = env_dup(a, envp, "HTTP_X_CSRF_TOKEN");
	v = env_get(envp, "HTTPS");
	r->https = v != NULL && (!strcmp(v, "on") || !strcmp(v, "1"));
	v = env_get(envp, "HTTP_X_REQUEST_ID");
	if (v != NULL && request_id_ok(v))
		snprintf(r->request_id, sizeof(r->request_id), "%s", v);
	else {
		unsigned char rnd[8];

		randombytes_buf(rnd, sizeof(rnd));
		sodium_bin2hex(r->request_id, sizeof(r->request_id), rnd, sizeof(rnd));
	}
	if (!strcmp(r->method, "HEAD"))
		r->resp.head_only = 1;
	return 0;
}

void
req_cleanup(struct req *r)
{
	if (r->json != NULL)
		json_decref(r->json);
	r->json = NULL;
	buf_free(&r->resp.headers);
	buf_free(&r->resp.body);
}

const char *
req_path_param(struct req *r, const char *name)
{
	const struct param *p = params_get(&r->path_params, name);

	return p ? p->value : "";
}

int
http_path_is_json(const char *path)
{
	static const char *const prefixes[] = {
		"/api/", "/ajax-api/", "/v2/", "/invocations", "/healthz",
		"/readyz", "/metrics",
	};

	if (!strcmp(path, "/api"))
		return 1;
	for (size_t i = 0; i < ARRAY_LEN(prefixes); i++)
		if (!strncmp(path, prefixes[i], strlen(prefixes[i])))
			return 1;
	return 0;
}

/* Compares the media type of a Content-Type value, ignoring parameters. */
static int
media_is(const char *ct, const char *type)
{
	size_t n = strlen(type);

	if (ct == NULL || strncasecmp(ct, type, n) != 0)
		return 0;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

size_t
http_body_cap(const struct req *r)
{
	unsigned f = r->route != NULL ? r->route->flags : 0;
	const struct config *c = &r->app->cfg;

	if (f & R_BODY_STREAM)
		return c->max_artifact_size;

	if ((f & R_BODY_JSON) && media_is(r->content_type, "application/json"))
		return (f & R_BODY_BULK) ? c->max_multipart_body : c->max_json_body;
	if ((f & R_BODY_FORM) &&
	    media_is(r->content_type, "application/x-www-form-urlencoded"))
		return c->max_form_body;
	if ((f & R_BODY_MULTI) && media_is(r->content_type, "multipart/form-data"))
		return c->max_multipart_body;
	if ((f & R_BODY_CSV) && media_is(r->content_type, "text/csv"))
		return (f & R_BODY_BULK) ? c->max_multipart_body : c->max_json_body;
	return 0;
}

static int
method_has_body(const char *m)
{
	return !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH") ||
	    !strcmp(m, "DELETE");
}

static const char *
accepted_types(unsigned f)
{
	if ((f & R_BODY_JSON) && (f & R_BODY_FORM) && (f & R_BODY_MULTI))
		return "application/json, application/x-www-form-urlencoded or multipart/form-data";
	if ((f & R_BODY_JSON) && (f & R_BODY_CSV))
		return "application/json or text/csv";
	if ((f & R_BODY_JSON) && (f & R_BODY_FORM))
		return "application/json or application/x-www-form-urlencoded";
	if (f & R_BODY_JSON)
		return "application/json";
	if ((f & R_BODY_FORM) && (f & R_BODY_MULTI))
		return "application/x-www-form-urlencoded or multipart/form-data";
	if (f & R_BODY_FORM)
		return "application/x-www-form-urlencoded";
	if (f & R_BODY_MULTI)
		return "multipart/form-data";
	return "no body";
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * 1 when a raw (undecoded) path has a segment that is "." or ".." once
 * percent-decoded, or an encoded NUL. nginx resolves dot segments before
 * routing, so "/api/x/../y" would otherwise reach /api/y unnoticed; browsers
 * resolve them before sending and no URL of ours needs one, so they are
 * refused as they were sent.
 */
static int
raw_path_has_dots(const char *raw)
{
	const char *p = raw;

	while (*p != '\0') {
		int dots = 0, other = 0;

		if (*p == '/')
			p++;
		for (; *p != '\0' && *p != '/'; p++) {
			int c = (unsigned char)*p;

			if (c == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
				c = hexval(p[1]) * 16 + hexval(p[2]);
				p += 2;
				if (c == 0)
					return 1;
			}
			if (c == '.')
				dots++;
			else
				other++;
		}
		if (other == 0 && (dots == 1 || dots == 2))
			return 1;
	}
	return 0;
}

int
http_prepare(struct req *r)
{
	char allow[128];
	const struct route *route = NULL;

	const struct route *table = r->app->routes ? r->app->routes : routes;
	size_t n = r->app->routes ? r->app->nroutes : nroutes;
	const char *mpath = r->path;

	if (r->raw_path != NULL && raw_path_has_dots(r->raw_path)) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "invalid path: '.' and '..' "
		    "segments and encoded NUL bytes are not allowed in URLs");
		return 0;
	}
	/* MLflow's UI calls the same API under /ajax-api/: one table serves both. */
	if (!strncmp(r->path, "/ajax-api/2.0/", 14) &&
	    (mpath = arena_printf(r->a, "/api/%s", r->path + 10)) == NULL) {
		resp_error(r, 414, "BAD_REQUEST", "request path too long");
		return 0;
	}
	switch (router_match(table, n, r->a, r->method, mpath, &route,
	    &r->path_params, allow, sizeof(allow))) {
	case MATCH_OK:
		break;
	case MATCH_NONE:
		resp_error(r, 404, "ENDPOINT_NOT_FOUND", "no page or endpoint at %.200s",
		    r->path);
		return 0;
	case MATCH_METHOD:
		if (resp_header(&r->resp, "Allow", allow) == -1)
			return 0;
		resp_error(r, 405, "METHOD_NOT_ALLOWED",
		    "method %.16s is not allowed here; allowed: %s", r->method, allow);
		return 0;
	case MATCH_NOMEM:
		resp_error(r, 414, "BAD_REQUEST", "request path too long");
		return 0;
	}
	r->route = route;
	if ((route->flags & R_MLFLOW) && (!strcmp(r->method, "POST") ||
	    !strcmp(r->method, "PUT") || !strcmp(r->method, "PATCH")) &&
	    !media_is(r->content_type, "application/json")) {
		if (r->content_type == NULL || *r->content_type == '\0')
			resp_error(r, 400, "INVALID_PARAMETER_VALUE",
			    "Bad Request. Content-Type header is missing.");
		else
			resp_error(r, 400, "INVALID_PARAMETER_VALUE",
			    "Bad Request. Content-Type must be one of ['application/json'].");
		return 0;
	}
	if (!method_has_body(r->method)) {
		r->content_length = 0;
		return 1;
	}
	if (r->content_length == -2 ||
	    (r->content_length == -1 && strcmp(r->method, "DELETE") != 0)) {
		resp_error(r, 400, "BAD_REQUEST",
		    "missing or invalid Content-Length header");
		return 0;
	}
	if (r->content_length <= 0) {
		r->content_length = 0;
		return 1;
	}
	if ((route->flags & (R_BODY_FORM | R_BODY_JSON | R_BODY_MULTI | R_BODY_CSV |
	    R_BODY_STREAM)) == 0) {
		resp_error(r, 415, "UNSUPPORTED_MEDIA_TYPE",
		    "this endpoint takes no request body");
		return 0;
	}
	if (http_body_cap(r) == 0) {
		resp_error(r, 415, "UNSUPPORTED_MEDIA_TYPE",
		    "unsupported Content-Type %.100s; expected %s",
		    r->content_type ? r->content_type : "(none)",
		    accepted_types(route->flags));
		return 0;
	}
	if ((unsigned long long)r->content_length > http_body_cap(r)) {
		resp_error(r, 413, "PAYLOAD_TOO_LARGE",
		    "request body of %lld bytes exceeds the limit of %zu bytes",
		    r->content_length, http_body_cap(r));
		return 0;
	}
	return 1;
}

static int
parse_status_error(struct req *r, int rc, const char *what)
{
	if (rc == PARSE_NOMEM)
		resp_error(r, 413, "PAYLOAD_TOO_LARGE", "%s too large", what);
	else if (rc == PARSE_TOO_MANY)
		resp_error(r, 400, "BAD_REQUEST", "%s has more than %d parameters",
		    what, MAX_PARAMS);
	else
		resp_error(r, 400, "BAD_REQUEST", "malformed %s", what);
	return -1;
}

static int
parse_inputs(struct req *r, const char *body, size_t len)
{
	int rc;

	if (r->query != NULL && *r->query != '\0' &&
	    (rc = form_parse_urlencoded(r->a, r->query, strlen(r->query),
	    &r->query_params, MAX_PARAMS)) != PARSE_OK)
		return parse_status_error(r, rc, "query string");
	if (r->cookie_header != NULL &&
	    (rc = cookie_parse(r->a, r->cookie_header, &r->cookies, 100)) != PARSE_OK)
		return parse_status_error(r, rc, "Cookie header");
	if (len == 0)
		return 0;
	if (media_is(r->content_type, "application/json")) {
		json_error_t e;

		r->json = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
		if (r->json == NULL) {
			/* jansson names its own flag here; say what the client sent instead. */
			if (strstr(e.text, "JSON_ALLOW_NUL") != NULL)
				resp_error(r, 400, "BAD_REQUEST", "malformed JSON body: "
				    "NUL characters (\\u0000) are not allowed (line %d column %d)",
				    e.line, e.column);
			else
				resp_error(r, 400, "BAD_REQUEST",
				    "malformed JSON body: %s at line %d column %d",
				    e.text, e.line, e.column);
			return -1;
		}
	} else if (media_is(r->content_type, "application/x-www-form-urlencoded")) {
		if ((rc = form_parse_urlencoded(r->a, body, len, &r->body_params,
		    MAX_PARAMS)) != PARSE_OK)
			return parse_status_error(r, rc, "form body");
	} else if (media_is(r->content_type, "multipart/form-data")) {
		if ((rc = multipart_parse(r->a, r->content_type, body, len,
		    &r->body_params, MAX_PARAMS)) != PARSE_OK)
			return parse_status_error(r, rc, "multipart body");
	}
	return 0;
}

/* MLflow treats an absent, null or empty required value alike, and names it its own way. */
static int
mlflow_missing(struct req *r, json_t *json, const struct params *src)
{
	const struct route *rt = r->route;

	for (size_t k = 0; k < rt->nfields; k++) {
		const struct field *f = &rt->fields[k];
		const struct param *p;
		json_t *j;

		if (!f->required)
			continue;
		if (json != NULL) {
			j = json_object_get(json, f->name);
			if (j != NULL && !json_is_null(j) && !(json_is_string(j) &&
			    json_string_length(j) == 0))
				continue;
		} else if ((p = params_get(src, f->name)) != NULL && p->value_len > 0)
			continue;
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "Missing value for required "
		    "parameter '%s'. See the API docs for more information about request "
		    "parameters.", f->name);
		return -1;
	}
	return 0;
}

static int
validate_fields(struct req *r)
{
	const struct route *rt = r->route;
	char err[FIELD_ERR_MAX];
	int strict = !(rt->flags & (R_LAX_FIELDS | R_MLFLOW));
	const struct params *src = &r->query_params;
	json_t *json = NULL;

	if (rt->nfields == 0)
		return 0;
	r->in = arena_alloc(r->a, rt->nfields * sizeof(*r->in));
	if (r->in == NULL) {
		resp_error(r, 413, "PAYLOAD_TOO_LARGE", "request too large");
		return -1;
	}
	if (method_has_body(r->method) && r->content_length > 0) {
		if (r->json != NULL)
			json = r->json;
		else
			src = &r->body_params;
	} else
		strict = 0;   /* query strings carry tracking junk; never reject it */
	if ((rt->flags & R_MLFLOW) && mlflow_missing(r, json, src) == -1)
		return -1;
	if (fields_validate(r->a, rt->fields, rt->nfields, src, json, strict,
	    r->in, err, sizeof(err)) == -1) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "%s", err);
		return -1;
	}
	return 0;
}

static void
answer_503_db(struct req *r, const char *what)
{
	char ra[16];

	snprintf(ra, sizeof(ra), "%d", r->app->cfg.db_retry_after);
	if (resp_header(&r->resp, "Retry-After", ra) == -1)
		return;
	resp_error(r, 503, "TEMPORARILY_UNAVAILABLE", "%s; retry in %s s", what, ra);
}

/*
 * The order every request goes through: inputs parsed, the database made
 * ready when anything below needs it, the caller identified, the route's
 * auth level and CSRF enforced, the declared fields validated, then the
 * handler. Public JSON routes without R_DB (/healthz) skip identification
 * so they never touch Postgres.
 */
void
http_dispatch(struct req *r, const char *body, size_t len)
{
	const struct route *rt = r->route;
	int creds = (r->authorization != NULL && *r->authorization != '\0') ||
	    r->cookie_header != NULL;
	int identify = !(rt->flags & R_SELF_AUTH) && (rt->auth != AUTH_PUBLIC ||
	    (rt->flags & R_DB) || (creds && rt->kind == RK_HTML) ||
	    (r->authorization != NULL && *r->authorization != '\0'));

	r->body = body;
	r->body_len = len;
	if (parse_inputs(r, body, len) == -1)
		return;
	if ((identify || (rt->flags & R_DB)) && r->db != NULL &&
	    db_ensure(r->db) == -1) {
		if ((rt->flags & R_DB) || rt->auth != AUTH_PUBLIC ||
		    (r->authorization != NULL && *r->authorization != '\0')) {
			answer_503_db(r, "the database is unavailable");
			return;
		}
		identify = 0;   /* a public page still renders, anonymously */
	}
	if (identify && r->db != NULL && auth_identify(r) == -1)
		return;
	if (auth_enforce(r) == -1)
		return;
	if (validate_fields(r) == -1)
		return;
	if (rt->handler(r) == -1) {
		buf_reset(&r->resp.headers);
		buf_reset(&r->resp.body);
		r->resp.has_type = 0;
		r->resp.stream = NULL;
		if (db_lost(r->db))
			answer_503_db(r, "the database connection was lost");
		else
			resp_error(r, 500, "INTERNAL_ERROR",
			    "internal error (request id %s)", r->request_id);
	}
}

long
req_read(struct req *r, char *p, size_t n)
{
	long got;
	long long left = r->content_length - r->body_read;

	if (left <= 0)
		return 0;
	if (r->io == NULL || r->io->read == NULL)
		return -1;
	if ((long long)n > left)
		n = (size_t)left;
	if ((got = r->io->read(r->io->ctx, p, n)) <= 0)
		return -1;   /* the announced body ended early */
	r->body_read += got;
	return got;
}

int
req_write(struct req *r, const char *p, size_t n)
{
	if (r->io == NULL || r->io->write == NULL)
		return -1;
	return r->io->write(r->io->ctx, p, n);
}

int
resp_stream(struct req *r, int status, const char *type, long long len,
    int (*fn)(struct req *r), void *ctx)
{
	r->resp.status = status;
	buf_reset(&r->resp.body);
	if (!r->resp.has_type && resp_header(&r->resp, "Content-Type", type) == -1)
		return -1;
	r->resp.stream = fn;
	r->resp.stream_ctx = ctx;
	r->resp.stream_len = len;
	return 0;
}

/* Header names are tokens; values may not carry CR, LF or NUL (response splitting). */
int
resp_header(struct resp *s, const char *name, const char *value)
{
	for (const char *p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return -1;
	if (*name == '\0' || strpbrk(value, "\r\n") != NULL)
		return -1;
	for (const char *p = value; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return -1;
	if (!strcasecmp(name, "Content-Type"))
		s->has_type = 1;
	return buf_printf(&s->headers, "%s: %s\r\n", name, value);
}

int
resp_cookie(struct resp *s, const char *name, const char *value,
    const char *attrs)
{
	char line[1024];

	for (const char *p = value; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == ';' || *p == ',' ||
		    *p == '"' || *p == '\\' || (unsigned char)*p >= 0x7f)
			return -1;
	if (!param_name_ok(name, strlen(name)))
		return -1;
	if ((size_t)snprintf(line, sizeof(line), "%s=%s%s%s", name, value,
	    attrs && *attrs ? "; " : "", attrs ? attrs : "") >= sizeof(line))
		return -1;
	return resp_header(s, "Set-Cookie", line);
}

json_t *
json_number_or_null(double d)
{
	return isfinite(d) ? json_real(d) : json_null();
}

static int
dump_cb(const char *p, size_t n, void *data)
{
	return buf_add(data, p, n);
}

int
resp_json(struct req *r, int status, json_t *j)
{
	int rc = -1;

	r->resp.status = status;
	buf_reset(&r->resp.body);
	r->resp.stream = NULL;
	if (j == NULL)
		return -1;
	if (json_dump_callback(j, dump_cb, &r->resp.body,
	    JSON_COMPACT | JSON_ESCAPE_SLASH | JSON_ENCODE_ANY) == -1)
		goto out;
	if (!r->resp.has_type &&
	    resp_header(&r->resp, "Content-Type", "application/json") == -1)
		goto out;
	rc = 0;
out:
	json_decref(j);
	return rc;
}

int
resp_text(struct req *r, int status, const char *type, const char *body,
    size_t len)
{
	r->resp.status = status;
	buf_reset(&r->resp.body);
	r->resp.stream = NULL;
	if (!r->resp.has_type && resp_header(&r->resp, "Content-Type", type) == -1)
		return -1;
	return buf_add(&r->resp.body, body, len);
}

/* A flash travels in a short-lived cookie: base64url("kind:message"). */
int
resp_flash(struct req *r, const char *kind, const char *msg)
{
	char raw[300], enc[420];
	const char *attrs = resp_cookie_attrs(r, 60);
	int n = snprintf(raw, sizeof(raw), "%s:%s", kind, msg);

	if (n < 0 || attrs == NULL)
		return -1;
	if ((size_t)n >= sizeof(raw))
		n = sizeof(raw) - 1;
	sodium_bin2base64(enc, sizeof(enc), (const unsigned char *)raw, (size_t)n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return resp_cookie(&r->resp, "verdict_flash", enc, attrs);
}

static void
flash_take(struct req *r, json_t *ctx)
{
	const struct param *c = params_get(&r->cookies, "verdict_flash");
	unsigned char dec[320];
	size_t len;
	char *colon;
	const char *attrs;

	if (c == NULL || c->value_len == 0 || strstr(buf_str(&r->resp.headers),
	    "verdict_flash=") != NULL)
		return;
	if ((attrs = resp_cookie_attrs(r, 0)) == NULL ||
	    resp_cookie(&r->resp, "verdict_flash", "", attrs) == -1)
		return;
	if (sodium_base642bin(dec, sizeof(dec) - 1, c->value, c->value_len, NULL,
	    &len, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return;
	dec[len] = '\0';
	if (!utf8_valid((char *)dec, len) || (colon = strchr((char *)dec, ':')) == NULL)
		return;
	*colon = '\0';
	if (json_object_get(ctx, "flash") == NULL)
		json_object_set_new(ctx, "flash", json_pack("{s:s, s:s}", "kind",
		    strcmp((char *)dec, "ok") == 0 ? "ok" : "error", "message", colon + 1));
}

int
resp_html(struct req *r, int status, const char *tpl, json_t *ctx)
{
	int rc = -1;

	r->resp.status = status;
	buf_reset(&r->resp.body);
	if (ctx == NULL || r->tpl == NULL)
		goto out;
	if (json_object_get(ctx, "request_id") == NULL)
		json_object_set_new(ctx, "request_id", json_string(r->request_id));
	/* app_version, not version: pages use "version" for model versions. */
	if (r->app->version != NULL)
		json_object_set_new(ctx, "app_version", json_string(r->app->version));
	if (r->user.id != 0 && json_object_get(ctx, "user") == NULL)
		json_object_set_new(ctx, "user", json_pack("{s:I, s:s, s:b}", "id",
		    (json_int_t)r->user.id, "username", r->user.username, "admin",
		    r->user.admin));
	if (json_object_get(ctx, "csrf_token") == NULL && auth_csrf_token(r)[0] != '\0')
		json_object_set_new(ctx, "csrf_token", json_string(auth_csrf_token(r)));
	flash_take(r, ctx);
	if (tpl_render_page(r->tpl, tpl, ctx, &r->resp.body) == -1)
		goto out;
	if (!r->resp.has_type &&
	    resp_header(&r->resp, "Content-Type", "text/html; charset=utf-8") == -1)
		goto out;
	rc = 0;
out:
	json_decref(ctx);
	return rc;
}

/* 1 when loc is a same-origin path: "/x", never "//host", "/\\host" or control bytes. */
int
http_local_path_ok(const char *loc)
{
	if (loc == NULL || loc[0] != '/' || loc[1] == '/' || loc[1] == '\\')
		return 0;
	for (const char *p = loc; *p != '\0'; p++)
		/* Browsers drop tabs and newlines from URLs: "/\t/evil" is "//evil". */
		if ((unsigned char)*p < 0x21 || (unsigned char)*p >= 0x7f || *p == '\\')
			return 0;
	return strlen(loc) < 2048;
}

int
resp_redirect(struct req *r, const char *location)
{
	if (!http_local_path_ok(location))
		location = "/";
	r->resp.status = 303;
	buf_reset(&r->resp.body);
	return resp_header(&r->resp, "Location", location);
}

const char *
http_status_text(int s)
{
	switch (s) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	}
	return "Unknown";
}

int
http_error_status(const char *code)
{
	static const struct { const char *code; int status; } map[] = {
		{ "RESOURCE_DOES_NOT_EXIST", 404 }, { "ENDPOINT_NOT_FOUND", 404 },
		{ "PERMISSION_DENIED", 403 }, { "UNAUTHENTICATED", 401 },
		{ "REQUEST_LIMIT_EXCEEDED", 429 }, { "TEMPORARILY_UNAVAILABLE", 503 },
		{ "INTERNAL_ERROR", 500 },
	};

	for (size_t i = 0; i < ARRAY_LEN(map); i++)
		if (!strcmp(map[i].code, code))
			return map[i].status;
	return 400;
}

void
resp_error_code(struct req *r, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	resp_error(r, http_error_status(code), code, "%s", msg);
}

void
resp_error(struct req *r, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int json;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->resp.stream = NULL;
	/* Messages can quote user input: keep them valid UTF-8 for JSON and HTML. */
	if (!utf8_valid(msg, strlen(msg)))
		snprintf(msg, sizeof(msg), "%s", http_status_text(status));
	json = r->route != NULL ? r->route->kind == RK_JSON :
	    http_path_is_json(r->path);
	if (json) {
		if (resp_json(r, status, json_pack("{s:s, s:s}", "error_code", code,
		    "message", msg)) == 0)
			return;
	} else {
		json_t *ctx = json_pack("{s:i, s:s, s:s, s:s}", "status", status,
		    "title", http_status_text(status), "message", msg,
		    "error_code", code);

		if (resp_html(r, status, "error", ctx) == 0)
			return;
	}
	/* Last resort: a fixed plain-text body. */
	r->resp.status = status;
	buf_reset(&r->resp.body);
	if (buf_adds(&r->resp.body, msg) == -1)
		buf_reset(&r->resp.body);
	r->resp.has_type = 0;
	buf_reset(&r->resp.headers);
	if (resp_header(&r->resp, "Content-Type", "text/plain; charset=utf-8") == -1)
		return;
}

int
resp_serialize(struct req *r, struct buf *head)
{
	struct resp *s = &r->resp;

	buf_reset(head);
	if (buf_printf(head, "Status: %d %s\r\n", s->status,
	    http_status_text(s->status)) == -1 ||
	    buf_adds(head,
	    "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'; "
	    "base-uri 'self'; form-action 'self'\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "X-Frame-Options: DENY\r\n"
	    "Referrer-Policy: same-origin\r\n") == -1 ||
	    buf_printf(head, "X-Request-Id: %s\r\n", r->request_id) == -1)
		return -1;
	if (!s->has_type && s->body.len > 0 &&
	    buf_adds(head, "Content-Type: text/plain; charset=utf-8\r\n") == -1)
		return -1;
	if (s->headers.len > 0 && buf_add(head, s->headers.p, s->headers.len) == -1)
		return -1;
	if (strstr(buf_str(&s->headers), "Cache-Control:") == NULL &&
	    buf_adds(head, "Cache-Control: no-store\r\n") == -1)
		return -1;
	if (buf_printf(head, "Content-Length: %lld\r\n\r\n", s->stream != NULL ?
	    s->stream_len : (long long)s->body.len) == -1)
		return -1;
	return 0;
}
