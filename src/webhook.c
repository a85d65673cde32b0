/* webhook.c: the webhook worker — fans alert events out to subscriptions, delivers each signed with HMAC-SHA256 and retried with backoff, and raises per-webhook quality alerts. Never on the request path. */
#include "webhook.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "db.h"
#include "log.h"

const char *const webhook_kinds[] = { "model.stage", "drift.detected", "retrain.result",
	"quality.below", NULL };

/* The kinds fanned out from the events table (quality.below is per webhook). */
#define FANOUT_KINDS "{model.stage,drift.detected,retrain.result}"
#define BACKOFF_MAX_MS (3600LL * 1000)
#define RESPONSE_MAX 4096          /* bytes of a receiver's answer we keep reading */

static pthread_t worker;
static volatile int worker_stop;
static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stop_cond = PTHREAD_COND_INITIALIZER;
static int worker_running;
static struct config wcfg;

void
webhook_sign(const char *secret, const char *body, size_t len, char out[72])
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	memcpy(out, "sha256=", 7);
	sodium_bin2hex(out + 7, 65, mac, sizeof(mac));
}

static size_t
discard(char *p, size_t size, size_t n, void *data)
{
	size_t *seen = data;

	(void)p;
	*seen += size * n;
	return *seen > RESPONSE_MAX ? 0 : size * n;
}

/* One POST. Returns the HTTP status, or 0 with err set when none arrived. */
static long
post(CURL *h, const char *url, const char *secret, const char *kind, const char *id,
    const char *body, char *err, size_t errlen)
{
	struct curl_slist *hdrs = NULL;
	char sig[72], line[160], cerr[CURL_ERROR_SIZE] = "";
	size_t seen = 0;
	long code = 0;
	CURLcode rc;

	webhook_sign(secret, body, strlen(body), sig);
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)wcfg.webhook_timeout);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)wcfg.webhook_timeout);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &seen);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "verdict-webhook/" PACKAGE_VERSION);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	snprintf(line, sizeof(line), "X-Verdict-Event: %s", kind);
	hdrs = curl_slist_append(hdrs, line);
	snprintf(line, sizeof(line), "X-Verdict-Delivery: %s", id);
	hdrs = curl_slist_append(hdrs, line);
	snprintf(line, sizeof(line), "X-Verdict-Signature: %s", sig);
	hdrs = curl_slist_append(hdrs, line);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK || rc == CURLE_WRITE_ERROR)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	else
		snprintf(err, errlen, "%s", cerr[0] ? cerr : curl_easy_strerror(rc));
	curl_slist_free_all(hdrs);
	return code;
}

/* Delivers what is due, one delivery per transaction (its row locked, others skip it). */
static void
deliver(struct db *db, CURL *h)
{
	for (int k = 0; k < 50 && !worker_stop; k++) {
		PGresult *res;
		char err[256] = "", code[16], delay[24];
		const char *vals[5];
		long st;
		int attempts, ok, gave_up;
		const char *status;

		if (db_command(db, "BEGIN") == -1)
			return;
		if ((res = db_exec(db, STMT_WEBHOOK_DUE, 0, NULL)) == NULL) {
			db_rollback(db);
			return;
		}
		if (PQntuples(res) == 0) {
			PQclear(res);
			db_rollback(db);
			return;
		}
		attempts = atoi(PQgetvalue(res, 0, 3)) + 1;
		st = post(h, PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5), PQgetvalue(res, 0, 2),
		    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), err, sizeof(err));
		ok = st >= 200 && st < 300;
		gave_up = !ok && attempts >= wcfg.webhook_max_attempts;
		status = ok ? "delivered" : gave_up ? "failed" : "pending";
		if (!ok && err[0] == '\0')
			snprintf(err, sizeof(err), "HTTP %ld", st);
		snprintf(code, sizeof(code), "%ld", st);
		/* Exponential backoff: base, 2 x base, 4 x base, ... capped at an hour. */
		snprintf(delay, sizeof(delay), "%lld", (long long)fmin((double)BACKOFF_MAX_MS,
		    (double)wcfg.webhook_backoff_ms * pow(2, attempts - 1)));
		vals[0] = PQgetvalue(res, 0, 0);
		vals[1] = status;
		vals[2] = code;
		vals[3] = ok ? "" : err;
		vals[4] = delay;
		{
			PGresult *u = db_exec(db, STMT_WEBHOOK_DONE, 5, vals);

			if (u == NULL) {
				PQclear(res);
				db_rollback(db);
				return;
			}
			PQclear(u);
		}
		if (!ok)
			log_msg(gave_up ? "error" : "warning", "webhook delivery %s to %s: %s "
			    "(attempt %d of %d)%s", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 4), err,
			    attempts, wcfg.webhook_max_attempts, gave_up ? "; giving up" : "");
		PQclear(res);
		if (db_command(db, "COMMIT") == -1)
			return;
	}
}

static void
fanout(struct db *db)
{
	const char *vals[1] = { FANOUT_KINDS };
	PGresult *res = db_exec(db, STMT_WEBHOOK_FANOUT, 1, vals);

	PQclear(res);
}

/* Higher is better for these metrics; the others are errors (lower is better). */
static int
higher_is_better(const char *m)
{
	return !strcmp(m, "accuracy") || !strcmp(m, "r2");
}

/* The metric from a WEBHOOK_QUALITY row's sums; NaN for an unknown name. */
static double
metric_of(PGresult *res, int i, const char *m)
{
	double n = strtod(PQgetvalue(res, i, 6), NULL);
	double se = strtod(PQgetvalue(res, i, 7), NULL), sae = strtod(PQgetvalue(res, i, 8), NULL);
	double sse = strtod(PQgetvalue(res, i, 9), NULL), c = strtod(PQgetvalue(res, i, 10), NULL);
	double ll = strtod(PQgetvalue(res, i, 11), NULL);

	if (!strcmp(m, "mae"))
		return sae / n;
	if (!strcmp(m, "rmse"))
		return sqrt(sse / n);
	if (!strcmp(m, "bias"))
		return fabs(se / n);
	if (!strcmp(m, "accuracy"))
		return c / n;
	if (!strcmp(m, "log_loss"))
		return ll / n;
	return NAN;
}

/*
 * Each webhook with a quality threshold: its metric over its window on the
 * model's newest non-archived version. Crossing into breach raises one
 * "quality.below" event delivered to that webhook; recovering re-arms it.
 */
static void
check_quality(struct db *db)
{
	PGresult *res;
	long long last = -1;

	if (db_command(db, "BEGIN") == -1)
		return;
	if ((res = db_exec(db, STMT_WEBHOOK_QUALITY, 0, NULL)) == NULL) {
		db_rollback(db);
		return;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		long long id = atoll(PQgetvalue(res, i, 0));
		const char *m = PQgetvalue(res, i, 1);
		double thr = strtod(PQgetvalue(res, i, 2), NULL), v = metric_of(res, i, m);
		int was = !strcmp(PQgetvalue(res, i, 3), "t");
		int bad = higher_is_better(m) ? v < thr : v > thr;
		const char *bv[2] = { PQgetvalue(res, i, 0), bad ? "true" : "false" };
		PGresult *x;

		if (id == last || isnan(v))
			continue;   /* rows come newest version first per webhook */
		last = id;
		if (bad == was)
			continue;
		if ((x = db_exec(db, STMT_WEBHOOK_BREACHED, 2, bv)) == NULL)
			goto fail;
		PQclear(x);
		if (bad) {
			char detail[1024], *d;
			const char *ev[4];
			json_t *j = json_pack("{s:s, s:i, s:s, s:f, s:f, s:s, s:s}", "model",
			    PQgetvalue(res, i, 4), "version", atoi(PQgetvalue(res, i, 5)), "metric", m,
			    "value", v, "threshold", thr, "direction", higher_is_better(m) ? "below" :
			    "above", "verified", PQgetvalue(res, i, 6));

			d = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
			json_decref(j);
			snprintf(detail, sizeof(detail), "%s", d != NULL ? d : "{}");
			free(d);
			ev[0] = "quality.below";
			ev[1] = NULL;
			ev[2] = PQgetvalue(res, i, 4);
			ev[3] = detail;
			if ((x = db_exec(db, STMT_EVENT_INSERT_ID, 4, ev)) == NULL)
				goto fail;
			{
				const char *dv[3] = { PQgetvalue(res, i, 0), PQgetvalue(x, 0, 0),
				    "quality.below" };
				PGresult *y = db_exec(db, STMT_WEBHOOK_DIRECT, 3, dv);

				PQclear(x);
				if (y == NULL)
					goto fail;
				PQclear(y);
			}
		}
	}
	PQclear(res);
	if (db_command(db, "COMMIT") == -1)
		return;
	return;
fail:
	PQclear(res);
	db_rollback(db);
}

static void *
worker_main(void *arg)
{
	struct db *db = db_new(wcfg.database_url);
	CURL *h = curl_easy_init();
	struct timespec last_quality = { 0, 0 };

	(void)arg;
	if (db == NULL || h == NULL) {
		log_msg("error", "webhook worker: out of memory; no webhooks will be delivered");
		goto out;
	}
	while (!worker_stop) {
		struct timespec now, until;

		if (db_ensure(db) == 0) {
			fanout(db);
			deliver(db, h);
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - last_quality.tv_sec >= wcfg.quality_check_interval) {
				check_quality(db);
				last_quality = now;
			}
		}
		/* Sleep until the next poll, or until webhook_worker_stop wakes us. */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += wcfg.webhook_poll_ms / 1000;
		until.tv_nsec += (long)(wcfg.webhook_poll_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&stop_lock);
		if (!worker_stop)
			pthread_cond_timedwait(&stop_cond, &stop_lock, &until);
		pthread_mutex_unlock(&stop_lock);
	}
out:
	if (h != NULL)
		curl_easy_cleanup(h);
	db_free(db);
	return NULL;
}

int
webhook_worker_start(const struct config *cfg)
{
	wcfg = *cfg;
	worker_stop = 0;
	if (pthread_create(&worker, NULL, worker_main, NULL) != 0)
		return -1;
	worker_running = 1;
	return 0;
}

void
webhook_worker_stop(void)
{
	if (!worker_running)
		return;
	pthread_mutex_lock(&stop_lock);
	worker_stop = 1;
	pthread_cond_signal(&stop_cond);
	pthread_mutex_unlock(&stop_lock);
	pthread_join(worker, NULL);
	worker_running = 0;
}
