/* test_webhooks.c: alerts by webhook — a local receiver gets stage changes and quality alerts, signed; a 500 is retried; delivery gives up after the configured attempts and says so in the log. */
#include <check.h>
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "fixtures.h"

#define NF 2
#define SECRET "webhook-secret-7d2f0c9e81ab"
#define MAXREQ 64

static char admin[256], alice[256], prefix[32];

static const char spec[] = "{\"task\":\"regression\",\"inputs\":["
    "{\"name\":\"a\",\"type\":\"number\",\"required\":true},"
    "{\"name\":\"b\",\"type\":\"number\",\"required\":true}],"
    "\"features\":[{\"input\":\"a\"},{\"input\":\"b\"}]}";

/* ---- a receiver: /ok answers 200, /flaky 500 once then 200, /down always 500 ---- */

struct seen {
	char path[64];
	char event[64];
	char signature[128];
	char *body;
};

static struct {
	pthread_mutex_t lock;
	struct seen req[MAXREQ];
	int n, flaky_failed, fd, port;
} R = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void
header(const char *head, const char *name, char *dst, size_t len)
{
	const char *p = strcasestr(head, name);

	dst[0] = '\0';
	if (p == NULL)
		return;
	p += strlen(name);
	while (*p == ' ')
		p++;
	snprintf(dst, len, "%.*s", (int)strcspn(p, "\r\n"), p);
}

static void *
serve(void *arg)
{
	(void)arg;
	for (;;) {
		char buf[65536], cl[32], path[64];
		size_t have = 0, need;
		char *end;
		int c = accept(R.fd, NULL, NULL), code;
		ssize_t k;

		if (c < 0)
			return NULL;
		while ((end = memmem(buf, have, "\r\n\r\n", 4)) == NULL && have < sizeof(buf) - 1 &&
		    (k = read(c, buf + have, sizeof(buf) - 1 - have)) > 0)
			have += (size_t)k;
		buf[have] = '\0';
		if (end == NULL) {
			close(c);
			continue;
		}
		*end = '\0';
		header(buf, "Content-Length:", cl, sizeof(cl));
		need = (size_t)(end + 4 - buf) + (size_t)atol(cl);
		while (have < need && have < sizeof(buf) - 1 &&
		    (k = read(c, buf + have, sizeof(buf) - 1 - have)) > 0)
			have += (size_t)k;
		buf[have] = '\0';
		sscanf(buf, "POST %63s", path);
		pthread_mutex_lock(&R.lock);
		if (R.n < MAXREQ) {
			struct seen *s = &R.req[R.n++];

			snprintf(s->path, sizeof(s->path), "%s", path);
			header(buf, "X-Verdict-Event:", s->event, sizeof(s->event));
			header(buf, "X-Verdict-Signature:", s->signature, sizeof(s->signature));
			s->body = strndup(end + 4, (size_t)atol(cl));
		}
		code = !strcmp(path, "/down") ? 500 : !strcmp(path, "/flaky") &&
		    !R.flaky_failed++ ? 500 : 200;
		pthread_mutex_unlock(&R.lock);
		snprintf(buf, sizeof(buf), "HTTP/1.1 %d X\r\nContent-Length: 2\r\nConnection: close"
		    "\r\n\r\nok", code);
		if (write(c, buf, strlen(buf)) < 0)
			fprintf(stderr, "# receiver: write failed\n");
		close(c);
	}
}

static void
receiver_start(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	pthread_t t;
	int one = 1;

	R.fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(R.fd, 0);
	setsockopt(R.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(R.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(R.fd, 16), 0);
	ck_assert_int_eq(getsockname(R.fd, (struct sockaddr *)&a, &len), 0);
	R.port = ntohs(a.sin_port);
	ck_assert_int_eq(pthread_create(&t, NULL, serve, NULL), 0);
	pthread_detach(t);
}

/* Requests the receiver got on path (waits up to ms for at least want). */
static int
received(const char *path, int want, int ms)
{
	int n = 0;

	for (int waited = 0; ; waited += 100) {
		n = 0;
		pthread_mutex_lock(&R.lock);
		for (int i = 0; i < R.n; i++)
			n += !strcmp(R.req[i].path, path);
		pthread_mutex_unlock(&R.lock);
		if (n >= want || waited >= ms)
			return n;
		usleep(100000);
	}
}

static const struct seen *
first(const char *path)
{
	for (int i = 0; i < R.n; i++)
		if (!strcmp(R.req[i].path, path))
			return &R.req[i];
	return NULL;
}

/* ---- helpers ---- */

static long long
webhook(const char *path, const char *events, const char *model, const char *extra)
{
	char body[1024];
	struct http_resp r;
	json_t *j;
	long long id;

	snprintf(body, sizeof(body), "{\"url\":\"http://127.0.0.1:%d%s\",\"events\":%s,"
	    "\"secret\":\"" SECRET "\"%s%s%s%s}", R.port, path, events, model ? ",\"model\":\"" :
	    "", model ? model : "", model ? "\"" : "", extra ? extra : "");
	ck_assert_msg(fx_call(admin, "POST", "/api/webhooks", "application/json", body, &r) == 201,
	    "%ld %s", r.status, r.body);
	j = http_json(&r);
	id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	http_resp_free(&r);
	return id;
}

static void
model(const char *name)
{
	float x[100 * NF], y[100];
	size_t len;
	char *b;

	for (int i = 0; i < 100; i++) {
		x[i * NF] = (float)i;
		x[i * NF + 1] = (float)(i % 5);
		y[i] = (float)(i % 5);
	}
	b = fx_train(x, y, 100, NF, "reg:squarederror", 0, 5, &len);
	fx_model(alice, name, b, len, spec);
	free(b);
}

static void
promote(const char *name)
{
	char path[256];
	struct http_resp r;

	snprintf(path, sizeof(path), "/api/models/%s/versions/1/stage", name);
	ck_assert_int_eq(fx_call(alice, "POST", path, "application/json",
	    "{\"stage\":\"Production\"}", &r), 200);
	http_resp_free(&r);
}

/* The newest delivery of webhook id, waiting up to ms for its status to be want. */
static json_t *
delivery(long long id, const char *want, int ms)
{
	char path[128];

	snprintf(path, sizeof(path), "/api/webhooks/%lld/deliveries", id);
	for (int waited = 0; ; waited += 200) {
		struct http_resp r;
		json_t *j, *d;

		ck_assert_int_eq(fx_call(admin, "GET", path, NULL, NULL, &r), 200);
		j = http_json(&r);
		http_resp_free(&r);
		d = json_incref(json_array_get(json_object_get(j, "deliveries"), 0));
		json_decref(j);
		if ((d != NULL && !strcmp(json_string_value(json_object_get(d, "status")), want)) ||
		    waited >= ms)
			return d;
		json_decref(d);
		usleep(200000);
	}
}

/* ---- tests ---- */

START_TEST(subscriptions_are_admin_only_and_checked)
{
	struct http_resp r;
	json_t *j;
	char path[64];
	long long id;

	receiver_start();
	ck_assert_int_eq(fx_call(alice, "POST", "/api/webhooks", "application/json",
	    "{\"url\":\"http://127.0.0.1:1/x\",\"events\":[\"*\"]}", &r), 403);
	http_resp_free(&r);
	ck_assert_int_eq(fx_call(alice, "GET", "/api/webhooks", NULL, NULL, &r), 403);
	http_resp_free(&r);
	ck_assert_int_eq(fx_call(admin, "POST", "/api/webhooks", "application/json",
	    "{\"url\":\"ftp://x.example/y\",\"events\":[\"*\"]}", &r), 400);
	ck_assert_ptr_nonnull(strstr(r.body, "url must start with http"));
	http_resp_free(&r);
	ck_assert_int_eq(fx_call(admin, "POST", "/api/webhooks", "application/json",
	    "{\"url\":\"http://127.0.0.1:1/x\",\"events\":[\"model.stage\",\"rain\"]}", &r), 400);
	ck_assert_ptr_nonnull(strstr(r.body, "events[1]"));
	http_resp_free(&r);
	ck_assert_int_eq(fx_call(admin, "POST", "/api/webhooks", "application/json",
	    "{\"url\":\"http://127.0.0.1:1/x\",\"events\":[\"*\"],\"model\":\"nope\"}", &r), 404);
	http_resp_free(&r);
	ck_assert_int_eq(fx_call(admin, "POST", "/api/webhooks", "application/json",
	    "{\"url\":\"http://127.0.0.1:1/x\",\"events\":[\"*\"],\"quality_metric\":\"mae\"}",
	    &r), 400);
	ck_assert_ptr_nonnull(strstr(r.body, "go together"));
	http_resp_free(&r);
	/* Without a secret, one is generated and shown once. */
	ck_assert_int_eq(fx_call(admin, "POST", "/api/webhooks", "application/json",
	    "{\"url\":\"http://127.0.0.1:1/x\",\"events\":[\"*\"]}", &r), 201);
	j = http_json(&r);
	http_resp_free(&r);
	ck_assert_int_eq(strlen(json_string_value(json_object_get(j, "secret"))), 48);
	id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	ck_assert_int_eq(fx_call(admin, "GET", "/api/webhooks", NULL, NULL, &r), 200);
	ck_assert_ptr_null(strstr(r.body, "secret"));
	j = http_json(&r);
	http_resp_free(&r);
	{
		json_t *w = json_array_get(json_object_get(j, "webhooks"), 0);

		ck_assert_int_eq(json_integer_value(json_object_get(w, "id")), id);
		ck_assert_str_eq(json_string_value(json_object_get(w, "url")), "http://127.0.0.1:1/x");
	}
	json_decref(j);
	snprintf(path, sizeof(path), "/api/webhooks/%lld", id);
	ck_assert_int_eq(fx_call(admin, "DELETE", path, NULL, NULL, &r), 204);
	http_resp_free(&r);
	ck_assert_int_eq(fx_call(admin, "DELETE", path, NULL, NULL, &r), 404);
	http_resp_free(&r);
}
END_TEST

START_TEST(stage_change_delivered_signed)
{
	char name[64], other[64], sig[72];
	const struct seen *s;
	json_t *j;

	receiver_start();
	snprintf(name, sizeof(name), "%s-stage", prefix);
	snprintf(other, sizeof(other), "%s-other", prefix);
	model(name);
	model(other);
	webhook("/ok", "[\"model.stage\"]", name, NULL);
	webhook("/elsewhere", "[\"model.stage\"]", other, NULL);
	promote(name);
	ck_assert_int_eq(received("/ok", 1, 15000), 1);
	pthread_mutex_lock(&R.lock);
	s = first("/ok");
	ck_assert_str_eq(s->event, "model.stage");
	{
		crypto_auth_hmacsha256_state st;
		unsigned char mac[32];

		crypto_auth_hmacsha256_init(&st, (const unsigned char *)SECRET, strlen(SECRET));
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)s->body, strlen(s->body));
		crypto_auth_hmacsha256_final(&st, mac);
		memcpy(sig, "sha256=", 7);
		sodium_bin2hex(sig + 7, 65, mac, sizeof(mac));
	}
	ck_assert_str_eq(s->signature, sig);
	j = json_loads(s->body, 0, NULL);
	pthread_mutex_unlock(&R.lock);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "event")), "model.stage");
	ck_assert_str_eq(json_string_value(json_object_get(j, "model")), name);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "detail"), "to")),
	    "Production");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "detail"),
	    "version")), 1);
	json_decref(j);
	/* The other model's webhook heard nothing of this one. */
	ck_assert_int_eq(received("/elsewhere", 1, 1000), 0);
}
END_TEST

START_TEST(a_500_is_retried)
{
	char name[64];
	long long id;
	json_t *d;

	receiver_start();
	snprintf(name, sizeof(name), "%s-flaky", prefix);
	model(name);
	id = webhook("/flaky", "[\"*\"]", name, NULL);
	promote(name);
	d = delivery(id, "delivered", 20000);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(json_string_value(json_object_get(d, "status")), "delivered");
	ck_assert_int_eq(json_integer_value(json_object_get(d, "attempts")), 2);
	ck_assert_int_eq(received("/flaky", 2, 1000), 2);
	json_decref(d);
}
END_TEST

START_TEST(delivery_gives_up_and_logs_it)
{
	char name[64];
	long long id;
	json_t *d;

	receiver_start();
	snprintf(name, sizeof(name), "%s-down", prefix);
	model(name);
	id = webhook("/down", "[\"model.stage\"]", name, NULL);
	promote(name);
	d = delivery(id, "failed", 20000);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(json_string_value(json_object_get(d, "status")), "failed");
	ck_assert_int_eq(json_integer_value(json_object_get(d, "attempts")), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(d, "last_code")), 500);
	ck_assert_str_eq(json_string_value(json_object_get(d, "last_error")), "HTTP 500");
	json_decref(d);
	/* Three attempts (webhook_max_attempts), then no more. */
	ck_assert_int_eq(received("/down", 3, 1000), 3);
	usleep(1500000);
	ck_assert_int_eq(received("/down", 4, 0), 3);
}
END_TEST

START_TEST(quality_below_threshold_alerts)
{
	char name[64], path[256], body[8192];
	struct http_resp r;
	const struct seen *s;
	json_t *j, *list, *o;
	size_t k, off;

	receiver_start();
	snprintf(name, sizeof(name), "%s-quality", prefix);
	model(name);
	webhook("/quality", "[\"quality.below\"]", name, ",\"quality_metric\":\"mae\","
	    "\"quality_threshold\":0.5,\"quality_window\":\"all\"");
	snprintf(path, sizeof(path), "/api/models/%s/predict", name);
	ck_assert_int_eq(fx_call(alice, "POST", path, "application/json",
	    "{\"instances\":[{\"a\":1,\"b\":1},{\"a\":2,\"b\":2},{\"a\":3,\"b\":3}]}", &r), 200);
	j = http_json(&r);
	http_resp_free(&r);
	list = json_object_get(j, "predictions");
	off = (size_t)snprintf(body, sizeof(body), "[");
	/* Truths 10 above the predictions: MAE 10 > 0.5. */
	json_array_foreach(list, k, o)
		off += (size_t)snprintf(body + off, sizeof(body) - off, "%s{\"prediction_id\":%lld,"
		    "\"true_value\":%.17g}", k ? "," : "",
		    (long long)json_integer_value(json_object_get(o, "prediction_id")),
		    json_number_value(json_object_get(o, "value")) + 10);
	snprintf(body + off, sizeof(body) - off, "]");
	json_decref(j);
	ck_assert_int_eq(fx_call(alice, "POST", "/api/feedback", "application/json", body, &r),
	    200);
	http_resp_free(&r);
	ck_assert_int_eq(received("/quality", 1, 20000), 1);
	pthread_mutex_lock(&R.lock);
	s = first("/quality");
	ck_assert_str_eq(s->event, "quality.below");
	j = json_loads(s->body, 0, NULL);
	pthread_mutex_unlock(&R.lock);
	o = json_object_get(j, "detail");
	ck_assert_str_eq(json_string_value(json_object_get(o, "metric")), "mae");
	ck_assert(fabs(json_number_value(json_object_get(o, "value")) - 10) < 1e-4);
	ck_assert_str_eq(json_string_value(json_object_get(o, "direction")), "above");
	json_decref(j);
	/* Still breached: no second alert until it recovers. */
	ck_assert_int_eq(received("/quality", 2, 2500), 1);
}
END_TEST

/* The dashboard (runs last): the models, their 24 h counts and live quality, the events. */
START_TEST(dashboard_shows_models_quality_events)
{
	char name[64], want[256];
	struct http_resp r;

	snprintf(name, sizeof(name), "%s-quality", prefix);
	ck_assert_int_eq(fx_call(alice, "GET", "/", NULL, NULL, &r), 200);
	ck_assert_ptr_nonnull(strstr(r.body, "<h1>Dashboard</h1>"));
	snprintf(want, sizeof(want), "<a href=\"/models/%s\">%s</a>", name, name);
	ck_assert_msg(strstr(r.body, want) != NULL, "no row for %s", name);
	/* The quality model: 3 predictions, all verified 10 off. */
	ck_assert_ptr_nonnull(strstr(r.body, "MAE 10 · 3 verified (100.0%)"));
	ck_assert_ptr_nonnull(strstr(r.body, "<td>model.stage</td>"));
	ck_assert_ptr_nonnull(strstr(r.body, "<svg class=\"spark\""));
	http_resp_free(&r);
	/* Visitors get the landing page. */
	ck_assert_int_eq(http_get("/", &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_null(strstr(r.body, "Dashboard"));
	http_resp_free(&r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("webhooks");
	TCase *tc = tcase_create("webhooks");
	SRunner *sr;
	char user[64];
	int failed;

	if (sodium_init() < 0)
		return 99;
	snprintf(prefix, sizeof(prefix), "wh%d", (int)getpid());
	setenv("VERDICT_WEBHOOK_MAX_ATTEMPTS", "3", 1);
	setenv("VERDICT_WEBHOOK_BACKOFF_MS", "200", 1);
	setenv("VERDICT_WEBHOOK_POLL_MS", "100", 1);
	setenv("VERDICT_QUALITY_CHECK_INTERVAL", "1", 1);
	if (harness_start() == -1)
		return 99;
	snprintf(user, sizeof(user), "root%s", prefix);
	if (fx_account(user, 1, admin, sizeof(admin)) == -1)
		return 99;
	snprintf(user, sizeof(user), "alice%s", prefix);
	if (fx_account(user, 0, alice, sizeof(alice)) == -1)
		return 99;
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, subscriptions_are_admin_only_and_checked);
	tcase_add_test(tc, stage_change_delivered_signed);
	tcase_add_test(tc, a_500_is_retried);
	tcase_add_test(tc, delivery_gives_up_and_logs_it);
	tcase_add_test(tc, quality_below_threshold_alerts);
	tcase_add_test(tc, dashboard_shows_models_quality_events);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_stop();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
