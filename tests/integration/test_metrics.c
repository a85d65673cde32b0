/* test_metrics.c: /metrics — access control, promtool accepts the exposition, counters move by exactly what happened, and a real Prometheus scrapes it. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "fixtures.h"

#define TOKEN "metrics-token-4f1c9e2ab7"
#define NF 3

static char alice[256], prefix[32], model[64];
static const char *const scrape_hdr[] = { "Authorization: Bearer " TOKEN, NULL };

static const char spec[] = "{\"task\":\"regression\",\"inputs\":["
    "{\"name\":\"a\",\"type\":\"number\",\"required\":true},"
    "{\"name\":\"b\",\"type\":\"number\",\"required\":true},"
    "{\"name\":\"c\",\"type\":\"number\",\"required\":true}],"
    "\"features\":[{\"input\":\"a\"},{\"input\":\"b\"},{\"input\":\"c\"}]}";

/* The exposition, scraped with the token (asserts 200 and the content type). */
static char *
scrape(void)
{
	struct http_resp r;
	char ct[128], *body;

	ck_assert_int_eq(http_request("GET", "/metrics", NULL, NULL, 0, scrape_hdr, &r), 0);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_ptr_nonnull(http_header(&r, "Content-Type", ct, sizeof(ct)));
	ck_assert_str_eq(ct, "text/plain; version=0.0.4; charset=utf-8");
	body = strdup(r.body);
	http_resp_free(&r);
	return body;
}

/* The value of the sample whose line starts with series (name{labels}); -1 if absent. */
static double
sample(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (!strncmp(p, series, n) && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

static void *
predictor(void *arg)
{
	const char *hdrs[2] = { alice, NULL };
	char path[128], body[128];

	(void)arg;
	snprintf(path, sizeof(path), "/api/models/%s/predict", model);
	for (int i = 0; i < 25; i++) {
		struct http_resp r;

		snprintf(body, sizeof(body), "{\"inputs\":{\"a\":%d,\"b\":1.5,\"c\":-2}}", i);
		if (http_request("POST", path, "application/json", body, strlen(body), hdrs, &r) == 0)
			ck_assert_int_eq(r.status, 200);
		http_resp_free(&r);
	}
	return NULL;
}

/* First case: the model the others predict with (cases run in order; the database persists). */
START_TEST(model_registers)
{
	float x[200 * NF], y[200];
	size_t len;
	char *b;

	for (int i = 0; i < 200; i++) {
		x[i * NF] = (float)i;
		x[i * NF + 1] = (float)(i % 7);
		x[i * NF + 2] = (float)sin(i);
		y[i] = (float)(i * 0.1 + (i % 7));
	}
	b = fx_train(x, y, 200, NF, "reg:squarederror", 0, 5, &len);
	fx_model(alice, model, b, len, spec);
	free(b);
}
END_TEST

START_TEST(access_is_limited)
{
	struct http_resp r;
	const char *wrong[] = { "Authorization: Bearer not-the-token", NULL };
	char *m;

	/* 127.0.0.1 is not in this stack's metrics_allow: no token, no metrics. */
	ck_assert_int_eq(http_get("/metrics", &r), 0);
	ck_assert_int_eq(r.status, 403);
	ck_assert_ptr_nonnull(strstr(r.body, "metrics_allow"));
	http_resp_free(&r);
	ck_assert_int_eq(http_request("GET", "/metrics", NULL, NULL, 0, wrong, &r), 0);
	ck_assert_int_eq(r.status, 403);
	http_resp_free(&r);
	/* A user's API token is not the metrics token either. */
	ck_assert_int_eq(fx_call(alice, "GET", "/metrics", NULL, NULL, &r), 403);
	http_resp_free(&r);
	m = scrape();
	ck_assert_ptr_nonnull(strstr(m, "verdict_build_info{version=\""));
	ck_assert(sample(m, "process_resident_memory_bytes") > 1e6);
	ck_assert(sample(m, "process_open_fds") > 3);
	ck_assert(sample(m, "verdict_db_connections_up") >= 1);
	free(m);
}
END_TEST

START_TEST(promtool_accepts_it)
{
	char *m = scrape(), path[] = "/tmp/verdict-metrics-XXXXXX", cmd[256];
	int fd = mkstemp(path), st;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, m, strlen(m)), (ssize_t)strlen(m));
	close(fd);
	/* promtool: 0 valid and lint-clean, 1 invalid, 3 lint findings (printed). */
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s >&2", path);
	st = system(cmd);
	unlink(path);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "promtool check metrics: status %d",
	    WEXITSTATUS(st));
	/* Labels are route templates, never raw paths. */
	ck_assert_ptr_null(strstr(m, "route=\"/api/models/fx"));
	free(m);
}
END_TEST

START_TEST(counters_move_by_exactly_n)
{
	char series[256], route[256], fseries[256];
	char *before, *after;
	double p0, p1, r0, r1, f0, f1;
	pthread_t t[8];
	struct http_resp r;

	snprintf(series, sizeof(series), "verdict_predictions_total{model=\"%s\",version=\"1\"}",
	    model);
	snprintf(route, sizeof(route), "verdict_http_requests_total{route=\"/api/models/{name}/"
	    "predict\",method=\"POST\",code=\"200\"}");
	snprintf(fseries, sizeof(fseries), "verdict_feedback_total{model=\"%s\",version=\"1\"}",
	    model);
	before = scrape();
	p0 = fmax(sample(before, series), 0);
	r0 = fmax(sample(before, route), 0);
	f0 = fmax(sample(before, fseries), 0);
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, predictor, NULL), 0);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	/* Three truths for the newest predictions of the model. */
	{
		char path[256];
		json_t *j, *list, *o;
		size_t k;
		char body[512];
		size_t off;

		snprintf(path, sizeof(path), "/api/predictions?model=%s&limit=3", model);
		ck_assert_int_eq(fx_call(alice, "GET", path, NULL, NULL, &r), 200);
		j = http_json(&r);
		http_resp_free(&r);
		list = json_object_get(j, "predictions");
		off = (size_t)snprintf(body, sizeof(body), "[");
		json_array_foreach(list, k, o)
			off += (size_t)snprintf(body + off, sizeof(body) - off, "%s{\"prediction_id\":"
			    "%lld,\"true_value\":%zu.5}", k ? "," : "",
			    (long long)json_integer_value(json_object_get(o, "prediction_id")), k);
		snprintf(body + off, sizeof(body) - off, "]");
		json_decref(j);
		ck_assert_int_eq(fx_call(alice, "POST", "/api/feedback", "application/json", body,
		    &r), 200);
		http_resp_free(&r);
	}
	after = scrape();
	p1 = sample(after, series);
	r1 = sample(after, route);
	f1 = sample(after, fseries);
	ck_assert_msg(p1 - p0 == 200, "predictions moved by %g, not 200", p1 - p0);
	ck_assert_msg(r1 - r0 == 200, "predict requests moved by %g, not 200", r1 - r0);
	ck_assert_msg(f1 - f0 == 3, "feedback moved by %g, not 3", f1 - f0);
	/* The live-quality gauge agrees with the quality API. */
	{
		char q[256], path[256];
		json_t *j;
		double mae;

		snprintf(path, sizeof(path), "/api/models/%s/quality?window=all", model);
		ck_assert_int_eq(fx_call(alice, "GET", path, NULL, NULL, &r), 200);
		j = http_json(&r);
		http_resp_free(&r);
		mae = json_number_value(json_object_get(json_object_get(json_array_get(
		    json_object_get(j, "versions"), 0), "metrics"), "mae"));
		json_decref(j);
		snprintf(q, sizeof(q), "verdict_model_quality{model=\"%s\",version=\"1\","
		    "metric=\"mae\",window=\"all\"}", model);
		ck_assert_msg(fabs(sample(after, q) - mae) < 1e-9, "gauge %g, API %g",
		    sample(after, q), mae);
	}
	/* The histogram's count is the requests' count. */
	snprintf(series, sizeof(series), "verdict_http_request_duration_seconds_count{route=\""
	    "/api/models/{name}/predict\",method=\"POST\"}");
	ck_assert(sample(after, series) >= 200);
	free(before);
	free(after);
}
END_TEST

/* A port nothing listens on now: bind 0, read it, close (a tiny race, no collisions in practice). */
static int
free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	ck_assert_int_ge(fd, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* A real Prometheus scrapes verdictd every second; its API then has the series. */
START_TEST(prometheus_scrapes_it)
{
	char dir[] = "/tmp/verdict-prom-XXXXXX", conf[300], data[300], listen[64], url[256];
	char hostport[128], q[300];
	const char *u = harness_url();
	FILE *f;
	pid_t pid;
	int port = free_port(), found = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/prometheus.yml", dir);
	snprintf(data, sizeof(data), "%s/data", dir);
	snprintf(hostport, sizeof(hostport), "%s", u + strlen("http://"));
	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fprintf(f, "global:\n  scrape_interval: 1s\nscrape_configs:\n"
	    "  - job_name: verdict\n    authorization:\n      credentials: %s\n"
	    "    static_configs:\n      - targets: ['%s']\n", TOKEN, hostport);
	fclose(f);
	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", port);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char cf[320], sp[320];

		snprintf(cf, sizeof(cf), "--config.file=%s", conf);
		snprintf(sp, sizeof(sp), "--storage.tsdb.path=%s", data);
		char logf[320];

		snprintf(logf, sizeof(logf), "%s/prometheus.log", dir);
		if (freopen(logf, "w", stdout) == NULL || freopen(logf, "a", stderr) == NULL)
			_exit(126);
		execlp("prometheus", "prometheus", cf, sp, listen, (char *)NULL);
		_exit(127);
	}
	/* Up to 60 s (a busy machine) for Prometheus to start and scrape at least once. */
	snprintf(q, sizeof(q), "http://127.0.0.1:%d/api/v1/query?query=verdict_build_info", port);
	for (int i = 0; i < 120 && !found; i++) {
		char cmd[512];
		FILE *p;
		char out[4096] = "";

		usleep(500000);
		snprintf(cmd, sizeof(cmd), "curl -s '%s'", q);
		if ((p = popen(cmd, "r")) == NULL)
			continue;
		if (fread(out, 1, sizeof(out) - 1, p) == 0)
			out[0] = '\0';
		pclose(p);
		found = strstr(out, "\"job\":\"verdict\"") != NULL && strstr(out, "\"version\"") != NULL;
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	if (!found) {
		snprintf(url, sizeof(url), "tail -n 30 %s/prometheus.log >&2", dir);
		if (system(url) != 0)
			fprintf(stderr, "# no prometheus.log\n");
	}
	snprintf(url, sizeof(url), "rm -rf %s", dir);
	if (system(url) != 0)
		fprintf(stderr, "# could not remove %s\n", dir);
	ck_assert_msg(found, "Prometheus never returned verdict_build_info from job verdict");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");
	SRunner *sr;
	char user[64];
	int failed;

	snprintf(prefix, sizeof(prefix), "mx%d", (int)getpid());
	snprintf(model, sizeof(model), "%s-m", prefix);
	/* 127.0.0.1 deliberately not allowed: the token is the way in. */
	setenv("VERDICT_METRICS_ALLOW", "192.0.2.1", 1);
	setenv("VERDICT_METRICS_TOKEN", TOKEN, 1);
	if (harness_start() == -1)
		return 99;
	snprintf(user, sizeof(user), "alice%s", prefix);
	if (fx_account(user, 0, alice, sizeof(alice)) == -1)
		return 99;
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, model_registers);
	tcase_add_test(tc, access_is_limited);
	tcase_add_test(tc, promtool_accepts_it);
	tcase_add_test(tc, counters_move_by_exactly_n);
	tcase_add_test(tc, prometheus_scrapes_it);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_stop();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
