/* http.h: the request and response of one FastCGI exchange, the route table types, and dispatch. */
#ifndef VERDICT_HTTP_H
#define VERDICT_HTTP_H

#include <jansson.h>
#include <stddef.h>

#include "config.h"
#include "fields.h"
#include "params.h"
#include "util.h"
#include "auth.h"

struct req;
struct db;
struct tpl_set;

typedef int (*handler_fn)(struct req *r);

enum auth_level { AUTH_PUBLIC, AUTH_USER, AUTH_ADMIN };
enum route_kind { RK_HTML, RK_JSON };

/* Route flags. */
#define R_DB          0x01   /* needs Postgres: 503 + Retry-After when it is away */
#define R_BODY_FORM   0x02   /* accepts application/x-www-form-urlencoded */
#define R_BODY_JSON   0x04   /* accepts application/json */
#define R_BODY_MULTI  0x08   /* accepts multipart/form-data */
#define R_LAX_FIELDS  0x10   /* unknown body fields are ignored (MLflow API) */
#define R_BODY_CSV    0x20   /* accepts text/csv (handed to the handler raw) */
/*
 * MLflow REST conventions (implies R_LAX_FIELDS): a POST/PUT without
 * Content-Type: application/json is a 400 INVALID_PARAMETER_VALUE, and a
 * missing (or empty) required field is "Missing value for required
 * parameter '...'", as MLflow words both.
 */
#define R_MLFLOW      0x40
#define R_SELF_AUTH   0x80   /* the handler checks its caller itself (/metrics): no identification */
/*
 * The body is streamed, not read: any content type, up to max_artifact_size,
 * left in the FastCGI stream for the handler to pull with req_read in
 * chunks (artifact uploads). Whatever the handler leaves unread is drained
 * before the answer goes out.
 */
#define R_BODY_STREAM 0x200
#define R_BODY_BULK   0x100  /* data uploads: JSON and CSV bodies capped by max_multipart_body */

/* One line of the route table (routes.c): every URL the server answers. */
struct route {
	const char *method;             /* "GET", "POST", ... */
	const char *pattern;            /* "/api/models/{name}/versions/{version}" */
	handler_fn handler;
	enum auth_level auth;
	enum route_kind kind;
	unsigned flags;
	const struct field *fields;     /* declared inputs, validated before the handler */
	size_t nfields;
};

/* Process-wide, read-only after start. */
struct app {
	struct config cfg;
	struct tpl_set *tpl;            /* NULL in dev mode: reloaded per request */
	int schema_head;                /* highest migration number in sql_dir */
	const char *version;
	const struct route *routes;     /* NULL: the table in routes.c */
	size_t nroutes;
};

/*
 * The request's FastCGI streams, as server.c hands them over: the one way a
 * handler reads a streamed body (req_read) and a streamed response goes out
 * (req_write). NULL outside a server (unit tests).
 */
struct req_io {
	void *ctx;
	long (*read)(void *ctx, char *p, size_t n);        /* bytes, 0 at the end, -1 */
	int (*write)(void *ctx, const char *p, size_t n);  /* 0 or -1 */
};

struct resp {
	int status;
	struct buf headers;             /* "Name: value\r\n" lines */
	struct buf body;
	int has_type;
	int head_only;                  /* HEAD: headers only */
	/*
	 * A streamed body (downloads): after the headers, stream(r) writes
	 * exactly stream_len bytes with req_write, a chunk at a time, instead of
	 * body. Set with resp_stream; not called for HEAD.
	 */
	int (*stream)(struct req *r);
	void *stream_ctx;
	long long stream_len;
};

struct req {
	struct arena *a;
	const struct app *app;
	struct db *db;                  /* this worker's connection */
	const struct tpl_set *tpl;

	/* Copied from the FastCGI environment; arena memory. */
	const char *method;
	const char *path;
	const char *raw_path;           /* REQUEST_URI up to '?', as the client sent it (not decoded) */
	const char *query;
	const char *content_type;
	long long content_length;       /* -1 when absent or invalid */
	const char *remote_addr;
	const char *cookie_header;
	const char *authorization;
	const char *origin;
	const char *referer;
	const char *host;
	const char *server_port;
	const char *user_agent;
	const char *forwarded_for;      /* X-Forwarded-For, believed only from trusted proxies */
	const char *forwarded_proto;
	const char *csrf_header;        /* X-CSRF-Token */
	int https;
	char request_id[40];

	const struct route *route;
	struct params path_params;      /* {name} segments */
	struct params query_params;
	struct params body_params;      /* form or multipart */
	struct params cookies;
	json_t *json;                   /* application/json body, owned */
	const char *body;               /* the raw body (arena), body_len bytes */
	size_t body_len;
	struct value *in;               /* validated fields, route->nfields long */
	const struct req_io *io;        /* R_BODY_STREAM bodies and streamed answers */
	long long body_read;            /* bytes of a streamed body read so far */

	struct auth_user user;          /* id 0 = anonymous */
	const char *session_token;      /* raw verdict_session cookie when valid */
	const char *pre_token;          /* raw verdict_pre cookie (login CSRF) */
	char csrf[AUTH_HASH_HEX];       /* derived lazily by auth_csrf_token */
	json_t *flash;                  /* {"kind","message"} for the next page */
	struct resp resp;
};

/* Environment lookup over a NULL-terminated "NAME=value" array. */
const char *env_get(char *const *envp, const char *name);

/*
 * Fills r from the FastCGI environment (copies everything into the arena).
 * Returns 0, or -1 when the arena is exhausted.
 */
int req_init(struct req *r, struct arena *a, const struct app *app,
    char *const *envp) WUR;
void req_cleanup(struct req *r);

/* The {name} segment of the matched route; "" when absent. Valid until the request ends. */
const char *req_path_param(struct req *r, const char *name);

/* 1 when this path is answered in JSON (API prefixes), else 0 (HTML). */
int http_path_is_json(const char *path);

/*
 * The body cap that applies to r's content type for r's route, or 0 when
 * the content type is not accepted by the route.
 */
size_t http_body_cap(const struct req *r);

/*
 * Routes r (method, path) and checks the announced body before it is read:
 * sets r->route, or answers 404/405/400/411/413/415 itself. Returns 1 when
 * the caller should read r->content_length bytes of body and then call
 * http_dispatch, 0 when a response is already set.
 */
int http_prepare(struct req *r);

/*
 * Parses the body (len bytes, arena memory) and query, enforces auth, field
 * declarations and the DB requirement, then runs the handler. Always leaves
 * a complete response in r->resp.
 */
void http_dispatch(struct req *r, const char *body, size_t len);

/*
 * Reads the next at most n bytes of an R_BODY_STREAM body into p. Returns
 * the count, 0 once Content-Length bytes were read, or -1 when the client's
 * body ended early or the stream failed.
 */
long req_read(struct req *r, char *p, size_t n) WUR;
/* Writes n bytes of a streamed answer (from a resp_stream callback). 0 or -1. */
int req_write(struct req *r, const char *p, size_t n) WUR;

/*
 * Answers with status and Content-Type type, and a body of len bytes that
 * fn writes with req_write after the headers (ctx in r->resp.stream_ctx).
 * fn returns 0, or -1 when it could not finish: the client then sees a
 * body shorter than Content-Length. Returns 0 or -1.
 */
int resp_stream(struct req *r, int status, const char *type, long long len,
    int (*fn)(struct req *r), void *ctx) WUR;

/* Response building. All return 0 or -1 (cap or bad value). */
int resp_header(struct resp *s, const char *name, const char *value) WUR;
int resp_cookie(struct resp *s, const char *name, const char *value,
    const char *attrs) WUR;
/* Steals the reference to j. Writes with `/` escaped and compact. */
int resp_json(struct req *r, int status, json_t *j);
/* Renders templates/<tpl>.html inside the layout with ctx (steals ctx). */
int resp_html(struct req *r, int status, const char *tpl, json_t *ctx);
int resp_redirect(struct req *r, const char *location);
int http_local_path_ok(const char *loc);
/* A one-shot message shown on the next HTML page (kind: "ok" or "error"). */
int resp_flash(struct req *r, const char *kind, const char *msg) WUR;
/* Cookie attributes every verdict cookie carries (Secure under HTTPS). */
const char *resp_cookie_attrs(struct req *r, long long max_age);
int resp_text(struct req *r, int status, const char *type, const char *body,
    size_t len);
/*
 * An error in the form the route speaks: HTML page, or
 * {"error_code": code, "message": ...}. Always succeeds in setting a
 * response (falls back to a fixed body when even that fails).
 */
void resp_error(struct req *r, int status, const char *code,
    const char *fmt, ...) PRINTF(4, 5);

/*
 * resp_error with the HTTP status MLflow gives the error code:
 * RESOURCE_DOES_NOT_EXIST 404, PERMISSION_DENIED 403, UNAUTHENTICATED 401,
 * REQUEST_LIMIT_EXCEEDED 429, TEMPORARILY_UNAVAILABLE 503, INTERNAL_ERROR 500,
 * every other code (INVALID_PARAMETER_VALUE, BAD_REQUEST,
 * RESOURCE_ALREADY_EXISTS, ...) 400.
 */
void resp_error_code(struct req *r, const char *code, const char *fmt, ...)
    PRINTF(3, 4);
int http_error_status(const char *code);

/* JSON number that is null for NaN/Inf (jansson rejects them). */
json_t *json_number_or_null(double d);

/*
 * Serializes status line, security headers, r's headers and body into out,
 * as a FastCGI responder writes them. Returns 0 or -1.
 */
int resp_serialize(struct req *r, struct buf *head) WUR;

const char *http_status_text(int status);

#endif
