/* client.c: the CLI's HTTP client — one curl handle, capped answers, verdict's error bodies, retries. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "client.h"

#define CONNECT_TIMEOUT 10L     /* seconds */
#define STALL_TIME 120L         /* seconds under 1 byte/s (either way) before giving up */
#define BACKOFF_MS 250          /* before the first retry; doubled each time */
#define URL_MAX 8192

struct client {
	CURL *curl;
	char *base;
	char *auth;                     /* "Authorization: Bearer ...", or NULL */
	char *user, *password;          /* HTTP Basic, or NULL */
	struct buf body;                /* the answer being received */
	int too_big;                    /* the answer went past CLIENT_MAX_RESPONSE */
	char reason[128];               /* reason phrase of the final status line */
	char errbuf[CURL_ERROR_SIZE];
	void **raw;                     /* client_get_bytes: a 2xx body goes here, not to JSON */
	size_t *rawlen;
};

static int
has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* Copies n bytes of text for a terminal: control characters become '?'. */
static void
copy_text(char *dst, size_t len, const char *src, size_t n)
{
	size_t i;

	for (i = 0; i < n && i + 1 < len; i++)
		dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ? '?' : src[i];
	dst[i] = '\0';
}

static void
free_secret(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

struct client *
client_new(const char *base, char *err, size_t errlen)
{
	struct client *c;
	size_t skip, n = strlen(base);

	if (!strncasecmp(base, "http://", 7))
		skip = 7;
	else if (!strncasecmp(base, "https://", 8))
		skip = 8;
	else {
		snprintf(err, errlen, "URL must start with http:// or https://: %.200s", base);
		return NULL;
	}
	if (base[skip] == '\0' || base[skip] == '/' || strpbrk(base, "?# ") != NULL ||
	    has_ctl(base)) {
		snprintf(err, errlen, "not a server URL (want http://HOST[:PORT][/PREFIX]): "
		    "%.200s", base);
		return NULL;
	}
	while (n > skip && base[n - 1] == '/')
		n--;
	if ((c = calloc(1, sizeof(*c))) == NULL || (c->base = strndup(base, n)) == NULL ||
	    (c->curl = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "out of memory");
		client_free(c);
		return NULL;
	}
	buf_init(&c->body, CLIENT_MAX_RESPONSE);
	return c;
}

void
client_free(struct client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	free(c->base);
	free_secret(c->auth);
	free_secret(c->user);
	free_secret(c->password);
	buf_free(&c->body);
	free(c);
}

const char *
client_url(const struct client *c)
{
	return c->base;
}

int
client_set_token(struct client *c, const char *token)
{
	size_t n = strlen(token) + sizeof("Authorization: Bearer ");
	char *h;

	if (token[0] == '\0' || has_ctl(token) || (h = malloc(n)) == NULL)
		return -1;
	snprintf(h, n, "Authorization: Bearer %s", token);
	free_secret(c->auth);
	c->auth = h;
	return 0;
}

int
client_set_basic(struct client *c, const char *user, const char *password)
{
	char *u, *p;

	if (user[0] == '\0' || has_ctl(user) || has_ctl(password))
		return -1;
	if ((u = strdup(user)) == NULL || (p = strdup(password)) == NULL) {
		free(u);
		return -1;
	}
	free_secret(c->user);
	free_secret(c->password);
	c->user = u;
	c->password = p;
	return 0;
}

void
client_resp_free(struct client_resp *r)
{
	json_decref(r->json);
	r->json = NULL;
}

int
client_path(char *dst, size_t len, ...)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *s;
	size_t n = 0;
	va_list ap;
	int rc = 0;

	if (len == 0)
		return -1;
	va_start(ap, len);
	while (rc == 0 && (s = va_arg(ap, const char *)) != NULL) {
		if (n + 1 >= len) {
			rc = -1;
			break;
		}
		dst[n++] = '/';
		for (; *s != '\0'; s++) {
			unsigned char ch = (unsigned char)*s;

			if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
			    ch == '~') {
				if (n + 1 >= len) {
					rc = -1;
					break;
				}
				dst[n++] = (char)ch;
			} else {
				if (n + 3 >= len) {
					rc = -1;
					break;
				}
				dst[n++] = '%';
				dst[n++] = hex[ch >> 4];
				dst[n++] = hex[ch & 15];
			}
		}
	}
	va_end(ap);
	dst[n] = '\0';
	return rc;
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct client *c = arg;
	size_t n = size * nmemb;

	if (buf_add(&c->body, p, n) == -1) {
		c->too_big = 1;
		return 0;
	}
	return n;
}

/* Keeps the reason phrase of the last status line (after any 100 Continue). */
static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct client *c = arg;
	size_t n = size * nmemb, i = 5, end;

	if (n > 5 && !strncmp(p, "HTTP/", 5)) {
		while (i < n && p[i] != ' ')            /* version */
			i++;
		while (i < n && p[i] == ' ')
			i++;
		while (i < n && p[i] >= '0' && p[i] <= '9')   /* status */
			i++;
		while (i < n && p[i] == ' ')
			i++;
		for (end = i; end < n && p[end] != '\r' && p[end] != '\n'; end++)
			;
		copy_text(c->reason, sizeof(c->reason), p + i, end - i);
	}
	return n;
}

/* One attempt; the answer lands in c->body, *status gets its code. */
static CURLcode
transfer(struct client *c, const char *method, const char *url, struct curl_slist *hdrs,
    const char *body, size_t bodylen, curl_mime *mime, long *status)
{
	CURL *h = c->curl;
	CURLcode rc;

	curl_easy_reset(h);     /* keeps the connection for the next request */
	buf_reset(&c->body);
	c->too_big = 0;
	c->reason[0] = c->errbuf[0] = '\0';
	*status = 0;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "verdict/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, STALL_TIME);
	/* A redirect would carry the credentials elsewhere: report it instead. */
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	if (c->user != NULL) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->password);
	}
	if (mime != NULL)
		curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
	else if (body != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bodylen);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	}
	if (strcmp(method, mime != NULL || body != NULL ? "POST" : "GET"))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	return rc;
}

/* No connection was made, so nothing was sent: safe to repeat any request. */
static int
unsent(CURLcode rc)
{
	return rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY ||
	    rc == CURLE_COULDNT_CONNECT;
}

/* Worth another try for a request that may be repeated. */
static int
transient(CURLcode rc)
{
	return unsent(rc) || rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_SEND_ERROR ||
	    rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING || rc == CURLE_PARTIAL_FILE ||
	    rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_HTTP2 || rc == CURLE_HTTP2_STREAM;
}

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1)
		;
}

static void
transport_error(struct client *c, CURLcode rc, struct client_resp *out)
{
	long oserr = 0;
	const char *why = c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(rc);

	curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &oserr);
	if (c->too_big)
		snprintf(out->message, sizeof(out->message), "the answer from %s is larger "
		    "than %zu MiB", c->base, CLIENT_MAX_RESPONSE >> 20);
	else if (unsent(rc))
		snprintf(out->message, sizeof(out->message), "cannot reach %s: %s", c->base,
		    rc == CURLE_COULDNT_CONNECT && oserr != 0 ? strerror((int)oserr) : why);
	else
		snprintf(out->message, sizeof(out->message), "request to %s failed: %s",
		    c->base, why);
}

/* Reads the answer in c->body into out. */
static enum client_status
answer(struct client *c, long status, struct client_resp *out)
{
	json_t *j = NULL, *v;
	char *ctype = NULL, *loc = NULL;

	out->status = status;
	if (c->raw != NULL && status >= 200 && status < 300) {
		if ((*c->raw = malloc(c->body.len ? c->body.len : 1)) == NULL) {
			snprintf(out->message, sizeof(out->message), "out of memory");
			return CLIENT_ERROR;
		}
		memcpy(*c->raw, c->body.p, c->body.len);
		*c->rawlen = c->body.len;
		return CLIENT_OK;
	}
	if (c->body.len > 0)
		j = json_loadb(c->body.p, c->body.len, 0, NULL);
	if (status >= 200 && status < 300) {
		if (c->body.len > 0 && j == NULL) {
			curl_easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE, &ctype);
			snprintf(out->message, sizeof(out->message), "%s answered with %.100s, "
			    "not JSON: is it a verdict server?", c->base,
			    ctype != NULL ? ctype : "an untyped body");
			return CLIENT_ERROR;
		}
		out->json = j;
		return CLIENT_OK;
	}
	out->json = j;
	if ((v = json_object_get(j, "error_code")) != NULL && json_is_string(v))
		copy_text(out->error_code, sizeof(out->error_code), json_string_value(v),
		    json_string_length(v));
	if ((v = json_object_get(j, "message")) != NULL && json_is_string(v))
		copy_text(out->message, sizeof(out->message), json_string_value(v),
		    json_string_length(v));
	else if (status >= 300 && status < 400 &&
	    curl_easy_getinfo(c->curl, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc != NULL)
		snprintf(out->message, sizeof(out->message), "the server redirects to %.500s; "
		    "use that URL", loc);
	else
		snprintf(out->message, sizeof(out->message), "%s",
		    c->reason[0] != '\0' ? c->reason : "unexpected answer");
	return CLIENT_HTTP;
}

/*
 * One request with body (bodylen bytes of type ctype) or mime or neither.
 * again: the request is idempotent, so it is repeated on any hiccup.
 */
static enum client_status
request(struct client *c, const char *method, const char *path, const char *body,
    size_t bodylen, const char *ctype, curl_mime *mime, int again, struct client_resp *out)
{
	struct curl_slist *hdrs = NULL, *t;
	char url[URL_MAX], ct[128];
	long status = 0;
	CURLcode rc;
	enum client_status st = CLIENT_ERROR;

	if (snprintf(url, sizeof(url), "%s%s", c->base, path) >= (int)sizeof(url)) {
		snprintf(out->message, sizeof(out->message), "URL too long");
		return CLIENT_ERROR;
	}
	if ((t = curl_slist_append(hdrs, "Accept: application/json")) == NULL)
		goto oom;
	hdrs = t;
	if (body != NULL && ctype != NULL) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
		if ((t = curl_slist_append(hdrs, ct)) == NULL)
			goto oom;
		hdrs = t;
	}
	if (c->auth != NULL) {
		if ((t = curl_slist_append(hdrs, c->auth)) == NULL)
			goto oom;
		hdrs = t;
	}
	for (int attempt = 0;; attempt++) {
		int retry;

		rc = transfer(c, method, url, hdrs, body, bodylen, mime, &status);
		if (rc == CURLE_OK)
			retry = again && status == 503;
		else
			retry = !c->too_big && (again ? transient(rc) : unsent(rc));
		if (!retry || attempt == CLIENT_RETRIES)
			break;
		pause_ms((long)BACKOFF_MS << attempt);
	}
	if (rc != CURLE_OK)
		transport_error(c, rc, out);
	else
		st = answer(c, status, out);
	goto out;
oom:
	snprintf(out->message, sizeof(out->message), "out of memory");
out:
	/* The list held a copy of the Authorization header. */
	for (t = hdrs; t != NULL; t = t->next)
		explicit_bzero(t->data, strlen(t->data));
	curl_slist_free_all(hdrs);
	buf_reset(&c->body);
	return st;
}

static void
resp_init(struct client_resp *out)
{
	memset(out, 0, sizeof(*out));
}

static enum client_status
json_request(struct client *c, const char *method, const char *path, const json_t *body,
    int again, struct client_resp *out)
{
	char *text = NULL;
	enum client_status st;

	resp_init(out);
	if (body != NULL && (text = json_dumps(body, JSON_COMPACT)) == NULL) {
		snprintf(out->message, sizeof(out->message), "out of memory");
		return CLIENT_ERROR;
	}
	/* A POST without a body still says so (Content-Length: 0), as verdict requires. */
	if (text == NULL && strcmp(method, "GET") && strcmp(method, "DELETE"))
		st = request(c, method, path, "", 0, NULL, NULL, again, out);
	else
		st = request(c, method, path, text, text != NULL ? strlen(text) : 0,
		    "application/json", NULL, again, out);
	free(text);
	return st;
}

enum client_status
client_body(struct client *c, const char *path, const char *type, const void *body,
    size_t len, struct client_resp *out)
{
	resp_init(out);
	if (strlen(type) > 100 || has_ctl(type)) {
		snprintf(out->message, sizeof(out->message), "bad content type");
		return CLIENT_ERROR;
	}
	return request(c, "POST", path, body, len, type, NULL, 0, out);
}

enum client_status
client_json(struct client *c, const char *method, const char *path, const json_t *body,
    struct client_resp *out)
{
	return json_request(c, method, path, body, !strcmp(method, "GET"), out);
}

enum client_status
client_json_idempotent(struct client *c, const char *method, const char *path,
    const json_t *body, struct client_resp *out)
{
	return json_request(c, method, path, body, 1, out);
}

enum client_status
client_put(struct client *c, const char *path, const void *data, size_t len,
    const char *type, struct client_resp *out)
{
	resp_init(out);
	/* An empty body still needs a pointer, or curl would send a GET-style PUT. */
	return request(c, "PUT", path, len > 0 ? data : "", len, type, NULL, 1, out);
}

enum client_status
client_multipart(struct client *c, const char *path, const struct client_part *parts,
    size_t nparts, struct client_resp *out)
{
	curl_mime *m;
	enum client_status st = CLIENT_ERROR;

	resp_init(out);
	if ((m = curl_mime_init(c->curl)) == NULL) {
		snprintf(out->message, sizeof(out->message), "out of memory");
		return CLIENT_ERROR;
	}
	for (size_t i = 0; i < nparts; i++) {
		curl_mimepart *p = curl_mime_addpart(m);

		if (p == NULL || curl_mime_name(p, parts[i].name) != CURLE_OK ||
		    (parts[i].type != NULL && curl_mime_type(p, parts[i].type) != CURLE_OK)) {
			snprintf(out->message, sizeof(out->message), "out of memory");
			goto out;
		}
		if (parts[i].file != NULL) {
			if (curl_mime_filedata(p, parts[i].file) != CURLE_OK) {
				snprintf(out->message, sizeof(out->message), "cannot read %.500s",
				    parts[i].file);
				goto out;
			}
		} else if (curl_mime_data(p, parts[i].value, CURL_ZERO_TERMINATED) != CURLE_OK) {
			snprintf(out->message, sizeof(out->message), "out of memory");
			goto out;
		}
	}
	st = request(c, "POST", path, NULL, 0, NULL, m, 0, out);
out:
	curl_mime_free(m);
	return st;
}

enum client_status
client_get_bytes(struct client *c, const char *path, void **data, size_t *len,
    struct client_resp *out)
{
	enum client_status st;

	resp_init(out);
	*data = NULL;
	*len = 0;
	c->raw = data;
	c->rawlen = len;
	st = request(c, "GET", path, NULL, 0, NULL, NULL, 1, out);
	c->raw = NULL;
	c->rawlen = NULL;
	return st;
}
