/* server.c: verdictd — the threaded FastCGI server: config, listening socket, workers, graceful stop. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <fcgiapp.h>
#include <sodium.h>

#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "migrate.h"
#include "template.h"
#include "auth.h"
#include "metrics.h"
#include "perm.h"
#include "webhook.h"
#include "router.h"
#include "model.h"
#include "predlog.h"

#define ARENA_BASE (16u << 20)     /* per-request arena cap on top of the body cap */
#define HEAD_MAX 32768

static struct app app;
static int listen_fd = -1;
static volatile sig_atomic_t stopping;

struct worker {
	pthread_t tid;
	int id;
	FCGX_Request fcgi;
	struct arena *arena;
	struct db *db;
	struct buf head;
};

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/*
 * Reads exactly want bytes of body into arena memory. Returns the buffer,
 * or NULL with *got set to what arrived (a short body) or (size_t)-1 when the
 * arena cap was hit.
 */
static char *
read_body(struct worker *w, struct req *r, size_t want, size_t *got)
{
	char *body = arena_alloc(w->arena, want + 1);
	size_t have = 0;

	*got = (size_t)-1;
	if (body == NULL)
		return NULL;
	while (have < want) {
		size_t chunk = want - have > (1u << 30) ? (1u << 30) : want - have;
		int n = FCGX_GetStr(body + have, (int)chunk, w->fcgi.in);

		if (n <= 0)
			break;
		have += (size_t)n;
	}
	*got = have;
	if (have < want)
		return NULL;
	body[want] = '\0';
	(void)r;
	return body;
}

/* The request's streams for R_BODY_STREAM bodies and streamed answers (http.h: struct req_io). */
static long
io_read(void *ctx, char *p, size_t n)
{
	struct worker *w = ctx;
	int got = FCGX_GetStr(p, n > (1u << 30) ? (1 << 30) : (int)n, w->fcgi.in);

	return got > 0 ? got : (got == 0 ? 0 : -1);
}

static int
io_write(void *ctx, const char *p, size_t n)
{
	struct worker *w = ctx;

	while (n > 0) {
		int chunk = n > (1u << 30) ? (1 << 30) : (int)n;

		if (FCGX_PutStr(p, chunk, w->fcgi.out) != chunk)
			return -1;
		p += chunk;
		n -= (size_t)chunk;
	}
	return 0;
}

/*
 * What a streaming handler left of its body is read and dropped before the
 * answer: with request buffering off nginx is still sending it, and closing
 * on it could turn our answer into a 502.
 */
static void
drain_body(struct req *r)
{
	char sink[65536];

	while (req_read(r, sink, sizeof(sink)) > 0)
		;
}

static void
handle(struct worker *w)
{
	struct req r;
	long long t0 = now_us();
	const char *body = NULL;
	size_t len = 0;
	struct tpl_set *dev_tpl = NULL;
	struct log_request lr;
	struct req_io io = { w, io_read, io_write };

	if (req_init(&r, w->arena, &app, w->fcgi.envp) == -1) {
		FCGX_FPrintF(w->fcgi.out, "Status: 500 Internal Server Error\r\n"
		    "Content-Type: text/plain\r\n\r\nrequest setup failed\n");
		return;
	}
	r.db = w->db;
	r.tpl = app.tpl;
	r.io = &io;
	if (app.cfg.dev_mode) {
		char err[512];

		/* Dev mode: edit a template, reload the page. */
		dev_tpl = tpl_load_dir(app.cfg.template_dir, err, sizeof(err));
		if (dev_tpl == NULL)
			log_msg("error", "templates: %s", err);
		else
			r.tpl = dev_tpl;
	}
	if (http_prepare(&r) == 1) {
		if (r.content_length > 0 && (r.route->flags & R_BODY_STREAM)) {
			/* The handler pulls the body itself with req_read. */
			http_dispatch(&r, NULL, 0);
			drain_body(&r);
			goto send;
		}
		if (r.content_length > 0) {
			size_t got;

			len = (size_t)r.content_length;
			body = read_body(w, &r, len, &got);
			if (body == NULL) {
				if (got == (size_t)-1)
					resp_error(&r, 413, "PAYLOAD_TOO_LARGE",
					    "request body too large");
				else
					resp_error(&r, 400, "BAD_REQUEST",
					    "request body shorter than Content-Length "
					    "(%zu of %zu bytes)", got, len);
				goto send;
			}
		}
		http_dispatch(&r, body, len);
	}
send:
	if (resp_serialize(&r, &w->head) == -1) {
		FCGX_FPrintF(w->fcgi.out, "Status: 500 Internal Server Error\r\n"
		    "Content-Type: text/plain\r\n\r\nresponse too large\n");
	} else {
		FCGX_PutStr(w->head.p, (int)w->head.len, w->fcgi.out);
		if (r.resp.stream != NULL) {
			/* Headers are out: a failure now can only cut the body short. */
			if (!r.resp.head_only && r.resp.stream(&r) == -1)
				log_msg("error", "request %s: streamed answer cut short",
				    r.request_id);
		} else if (!r.resp.head_only && r.resp.body.len > 0)
			FCGX_PutStr(r.resp.body.p, (int)r.resp.body.len, w->fcgi.out);
	}
	lr.method = r.method;
	lr.path = r.path;
	lr.route = r.route ? r.route->pattern : NULL;
	lr.status = r.resp.status;
	lr.duration_us = now_us() - t0;
	lr.bytes = r.resp.stream != NULL ? (size_t)r.resp.stream_len : r.resp.body.len;
	lr.request_id = r.request_id;
	lr.user_id = r.user.id;
	log_request(&lr);
	metrics_request(r.route != NULL ? (size_t)(r.route - (app.routes != NULL ? app.routes :
	    routes)) : (size_t)-1, r.resp.status, lr.duration_us);
	req_cleanup(&r);
	tpl_free(dev_tpl);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	while (!stopping) {
		if (FCGX_Accept_r(&w->fcgi) < 0) {
			if (stopping)
				break;
			/* A transient accept error: do not spin. */
			usleep(10000);
			continue;
		}
		handle(w);
		/*
		 * libfcgi ends a connection with a lingering close: shut down
		 * our side, then sleep in poll until nginx closes (up to 2 s),
		 * so that unread input cannot turn into a TCP reset that loses
		 * the answer. When the request's input has been read to its end
		 * there is nothing to reset, so a "detached" request closes at
		 * once: measured as a tenth of verdictd's CPU per prediction
		 * (a sleep and a wake-up per request). nginx has sent its end
		 * of input before it reads an answer, so the read below finds
		 * it buffered or arriving.
		 */
		w->fcgi.detached = FCGX_GetChar(w->fcgi.in) == EOF &&
		    FCGX_GetError(w->fcgi.in) == 0;
		FCGX_Finish_r(&w->fcgi);
		arena_reset(w->arena);
	}
	model_thread_done();
	return NULL;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: verdictd [--config FILE] [--check-config]\n"
	    "       verdictd --help | --version\n"
	    "\n"
	    "verdict's FastCGI server. Runs in the foreground; SIGTERM stops it\n"
	    "after in-flight requests finish.\n"
	    "\n"
	    "  -c, --config FILE   configuration file (key = value); default:\n"
	    "                      $VERDICT_CONFIG, ./var/verdict.conf, then\n"
	    "                      %s/verdict/verdict.conf\n"
	    "      --check-config  validate the configuration, templates and\n"
	    "                      migrations, print the effective settings, exit\n"
	    "  -h, --help          this text\n"
	    "  -V, --version       print the version\n"
	    "\n"
	    "Every key can be overridden by VERDICT_<KEY> in the environment.\n",
	    VERDICT_SYSCONFDIR);
}

static int
open_listener(const struct config *c)
{
	const char *l = c->listen;
	int is_unix = l[0] == '/' || l[0] == '.';
	int fd;

	if (is_unix)
		unlink(l);   /* a stale socket from a crash would block bind() */
	fd = FCGX_OpenSocket(l, c->backlog);
	if (fd < 0)
		return -1;
	if (is_unix && chmod(l, c->socket_mode) == -1) {
		log_msg("error", "chmod %s: %s", l, strerror(errno));
		return -1;
	}
	return fd;
}

static int
check_config(const char *path)
{
	char err[512];
	struct tpl_set *t;
	struct buf out;
	int head;

	t = tpl_load_dir(app.cfg.template_dir, err, sizeof(err));
	if (t == NULL) {
		fprintf(stderr, "verdictd: templates: %s\n", err);
		return 1;
	}
	tpl_free(t);
	if ((head = migrate_head(app.cfg.sql_dir, err, sizeof(err))) < 0) {
		fprintf(stderr, "verdictd: migrations: %s\n", err);
		return 1;
	}
	buf_init(&out, 1 << 20);
	if (config_dump(&app.cfg, &out) == -1) {
		buf_free(&out);
		return 1;
	}
	printf("# %s: ok (schema head %d)\n%s", path ? path : "(defaults)", head,
	    buf_str(&out));
	buf_free(&out);
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfgpath = NULL;
	int check = 0, failed = 0, ch, nthreads = 0, nalloc = 0, sig = 0, rc = 1;
	char err[512];
	struct worker *workers = NULL;
	sigset_t set;

	while ((ch = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; break;
		case 'k': check = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("verdictd %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (cfgpath == NULL)
		cfgpath = config_find();
	if (config_load(&app.cfg, cfgpath, err, sizeof(err)) == -1) {
		fprintf(stderr, "verdictd: %s\n", err);
		return 1;
	}
	app.version = PACKAGE_VERSION;
	if (check)
		return check_config(cfgpath);
	if (sodium_init() < 0) {
		fprintf(stderr, "verdictd: libsodium failed to initialize\n");
		return 1;
	}
	if (log_open(app.cfg.access_log) == -1) {
		fprintf(stderr, "verdictd: %s: %s\n", app.cfg.access_log,
		    strerror(errno));
		return 1;
	}
	if ((app.tpl = tpl_load_dir(app.cfg.template_dir, err, sizeof(err))) == NULL) {
		fprintf(stderr, "verdictd: templates: %s\n", err);
		log_msg("error", "templates: %s", err);
		return 1;
	}
	metrics_init(app.routes != NULL ? app.nroutes : nroutes);
	if ((app.schema_head = migrate_head(app.cfg.sql_dir, err, sizeof(err))) < 0) {
		fprintf(stderr, "verdictd: migrations: %s\n", err);
		goto out;
	}

	/* Signals go to one place (sigwait below); workers never see them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (FCGX_Init() != 0) {
		fprintf(stderr, "verdictd: FCGX_Init failed\n");
		goto out;
	}
	if ((listen_fd = open_listener(&app.cfg)) < 0) {
		fprintf(stderr, "verdictd: cannot listen on %s: %s\n", app.cfg.listen,
		    strerror(errno));
		log_msg("error", "cannot listen on %s", app.cfg.listen);
		goto out;
	}
	nthreads = app.cfg.threads;
	if (nthreads == 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);

		/*
		 * A worker mostly waits (for nginx, for its prediction's group
		 * commit), and one commit can only hold as many requests as there
		 * are threads: measured 1,950 predictions/s with 4 threads and
		 * 5,389 with 32 on 2 cores, /healthz unchanged.
		 */
		nthreads = 16 * (int)(cores > 0 ? cores : 1);
		if (nthreads > 256)
			nthreads = 256;
	}
	{
		enum perm p;

		if (perm_parse(app.cfg.default_permission, &p) == -1) {
			fprintf(stderr, "verdictd: default_permission must be READ, EDIT, MANAGE or "
			    "NO_PERMISSIONS, not '%s'\n", app.cfg.default_permission);
			goto out;
		}
	}
	if (auth_init(&app.cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "verdictd: %s\n", err);
		log_msg("error", "%s", err);
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "verdictd: libcurl failed to initialize\n");
		goto out;
	}
	if (predlog_start(app.cfg.database_url, 1000) == -1 ||
	    model_watcher_start(app.cfg.database_url) == -1 ||
	    webhook_worker_start(&app.cfg) == -1) {
		fprintf(stderr, "verdictd: cannot start the prediction log, model watcher or "
		    "webhook worker\n");
		goto out;
	}
	if ((workers = calloc((size_t)nthreads, sizeof(*workers))) == NULL)
		goto out;
	nalloc = nthreads;
	for (int i = 0; i < nthreads; i++) {
		struct worker *w = &workers[i];
		size_t cap = ARENA_BASE + app.cfg.max_multipart_body;

		w->id = i;
		if (app.cfg.max_json_body > app.cfg.max_multipart_body)
			cap = ARENA_BASE + app.cfg.max_json_body;
		if ((w->arena = arena_new(cap)) == NULL ||
		    (w->db = db_new(app.cfg.database_url)) == NULL) {
			nthreads = i;
			failed = 1;
			goto stop;
		}
		buf_init(&w->head, HEAD_MAX);
		FCGX_InitRequest(&w->fcgi, listen_fd, 0);
		/* Connect now so the first requests are fast; failure is retried later. */
		if (db_ensure(w->db) == -1 && i == 0)
			log_msg("warn", "Postgres not reachable yet: %s",
			    db_errmsg(w->db));
		if (pthread_create(&w->tid, NULL, worker_main, w) != 0) {
			nthreads = i;
			failed = 1;
			goto stop;
		}
	}
	log_msg("info", "verdictd %s listening on %s with %d threads (schema head %d)",
	    PACKAGE_VERSION, app.cfg.listen, nthreads, app.schema_head);

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			/* Reopen the log (logrotate). */
			if (log_open(app.cfg.access_log) == -1)
				log_msg("error", "reopening %s failed", app.cfg.access_log);
			continue;
		}
		break;
	}
	log_msg("info", "signal %d: finishing in-flight requests", sig);
stop:
	stopping = 1;
	FCGX_ShutdownPending();
	/* Wakes every thread blocked in accept(); in-flight requests continue. */
	shutdown(listen_fd, SHUT_RDWR);
	for (int i = 0; i < nthreads; i++)
		pthread_join(workers[i].tid, NULL);
	/* Workers are done: flush the last prediction rows, stop watching. */
	predlog_stop();
	model_watcher_stop();
	webhook_worker_stop();
	rc = failed;
	log_msg("info", "stopped");
out:
	if (workers != NULL) {
		for (int i = 0; i < nalloc; i++) {
			db_free(workers[i].db);
			arena_free(workers[i].arena);
			buf_free(&workers[i].head);
		}
		free(workers);
	}
	if (listen_fd >= 0) {
		close(listen_fd);
		if (app.cfg.listen[0] == '/' || app.cfg.listen[0] == '.')
			unlink(app.cfg.listen);
	}
	tpl_free(app.tpl);
	return rc;
}
