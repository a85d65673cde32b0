/* predlog.c: group commit for the prediction log — one writer thread, one multi-row INSERT per batch. */
#include "predlog.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "log.h"

#define NCOLS 6

/* One request's rows waiting for a commit. */
struct waiter {
	struct predlog_row *rows;
	size_t n;
	int state;                  /* 0 waiting, 1 committed, -1 failed */
	struct waiter *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static struct waiter *head, *tail;
static pthread_t writer;
static int stopping;
static char *conninfo;
static size_t max_batch = 1000;

size_t
predlog_queue_rows(void)
{
	size_t n = 0;

	pthread_mutex_lock(&lock);
	for (struct waiter *w = head; w != NULL; w = w->next)
		n += w->n;
	pthread_mutex_unlock(&lock);
	return n;
}

static PGconn *
connect_db(void)
{
	static const char *const keys[] = { "dbname", "connect_timeout",
	    "application_name", NULL };
	const char *vals[] = { conninfo, "2", "verdictd-predlog", NULL };
	PGconn *c = PQconnectdbParams(keys, vals, 1);

	if (c != NULL && PQstatus(c) == CONNECTION_OK)
		return c;
	PQfinish(c);
	return NULL;
}

/*
 * Commits every row of the waiters in [first, stop) in one statement, one
 * round trip: ids drawn from the sequence, the rows inserted, and the
 * prediction counts of the live-quality buckets moved — autocommit, so one
 * transaction and one WAL flush for the batch.
 */
static int
commit_batch(PGconn *c, struct waiter *first, struct waiter *stop, size_t nrows)
{
	struct buf sql;
	const char **vals = NULL;
	char (*nums)[3][24] = NULL;
	PGresult *res = NULL;
	size_t k = 0, r = 0;
	int rc = -1;

	buf_init(&sql, 1 << 24);
	vals = calloc(nrows * NCOLS, sizeof(*vals));
	nums = calloc(nrows, sizeof(*nums));
	if (vals == NULL || nums == NULL)
		goto out;
	if (buf_adds(&sql, "WITH x (ord, model_version_id, user_id, inputs, output, "
	    "latency_us, request_id) AS (VALUES ") == -1)
		goto out;
	for (struct waiter *w = first; w != stop; w = w->next)
		for (size_t i = 0; i < w->n; i++, r++) {
			struct predlog_row *row = &w->rows[i];

			snprintf(nums[r][0], 24, "%lld", row->version_id);
			snprintf(nums[r][1], 24, "%d", row->latency_us);
			snprintf(nums[r][2], 24, "%lld", row->user_id);
			vals[k++] = nums[r][0];
			vals[k++] = row->user_id > 0 ? nums[r][2] : NULL;
			vals[k++] = row->inputs;
			vals[k++] = row->output;
			vals[k++] = nums[r][1];
			vals[k++] = row->request_id;
			if (buf_printf(&sql, "%s(%zu,$%zu::bigint,$%zu::bigint,$%zu::jsonb,"
			    "$%zu::jsonb,$%zu::int,$%zu)", r ? "," : "", r, k - 5, k - 4, k - 3,
			    k - 2, k - 1, k) == -1)
				goto out;
		}
	if (buf_adds(&sql, "), v AS MATERIALIZED (SELECT nextval('predictions_id_seq') AS id, "
	    "x.* FROM x), ins AS (INSERT INTO predictions (id, model_version_id, user_id, "
	    "inputs, output, latency_us, request_id) SELECT id, model_version_id, user_id, "
	    "inputs, output, latency_us, request_id FROM v), q AS (INSERT INTO "
	    "quality_hourly AS q (model_version_id, hour, predictions) SELECT "
	    "model_version_id, date_trunc('hour', now(), 'UTC'), count(*) FROM v GROUP BY 1 "
	    "ORDER BY 1 ON CONFLICT (model_version_id, hour) DO UPDATE SET predictions = "
	    "q.predictions + EXCLUDED.predictions) SELECT ord, id FROM v") == -1)
		goto out;
	res = PQexecParams(c, buf_str(&sql), (int)k, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || (size_t)PQntuples(res) != nrows) {
		log_msg("error", "prediction log: %s", PQerrorMessage(c));
		goto out;
	}
	r = 0;
	{
		long long *ids = calloc(nrows, sizeof(*ids));

		if (ids == NULL)
			goto out;
		for (int i = 0; i < PQntuples(res); i++) {
			size_t ord = (size_t)atoll(PQgetvalue(res, i, 0));

			if (ord < nrows)
				ids[ord] = atoll(PQgetvalue(res, i, 1));
		}
		for (struct waiter *w = first; w != stop; w = w->next)
			for (size_t i = 0; i < w->n; i++)
				w->rows[i].id = ids[r++];
		free(ids);
	}
	rc = 0;
out:
	PQclear(res);
	free(vals);
	free(nums);
	buf_free(&sql);
	return rc;
}

static void *
writer_main(void *arg)
{
	PGconn *c = NULL;

	(void)arg;
	pthread_mutex_lock(&lock);
	while (!stopping || head != NULL) {
		struct waiter *first, *stop;
		size_t nrows = 0;
		int rc;

		if (head == NULL) {
			pthread_cond_wait(&work, &lock);
			continue;
		}
		/* Take whole requests up to max_batch rows (at least one request). */
		first = head;
		for (stop = head; stop != NULL && (nrows == 0 || nrows + stop->n <= max_batch);
		    stop = stop->next)
			nrows += stop->n;
		head = stop;
		if (head == NULL)
			tail = NULL;
		pthread_mutex_unlock(&lock);

		if (c == NULL || PQstatus(c) != CONNECTION_OK) {
			PQfinish(c);
			c = connect_db();
		}
		rc = c != NULL ? commit_batch(c, first, stop, nrows) : -1;

		pthread_mutex_lock(&lock);
		for (struct waiter *w = first; w != stop; ) {
			struct waiter *next = w->next;

			w->state = rc == 0 ? 1 : -1;
			w = next;
		}
		pthread_cond_broadcast(&done);
	}
	pthread_mutex_unlock(&lock);
	PQfinish(c);
	return NULL;
}

int
predlog_start(const char *ci, size_t batch)
{
	if ((conninfo = strdup(ci)) == NULL)
		return -1;
	if (batch > 0)
		max_batch = batch;
	return pthread_create(&writer, NULL, writer_main, NULL) == 0 ? 0 : -1;
}

void
predlog_stop(void)
{
	pthread_mutex_lock(&lock);
	stopping = 1;
	pthread_cond_signal(&work);
	pthread_mutex_unlock(&lock);
	pthread_join(writer, NULL);
	free(conninfo);
}

int
predlog_write(struct predlog_row *rows, size_t n, int timeout_ms)
{
	struct waiter w = { rows, n, 0, NULL };
	struct timespec deadline;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&lock);
	if (tail != NULL)
		tail->next = &w;
	else
		head = &w;
	tail = &w;
	pthread_cond_signal(&work);
	while (w.state == 0 && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&done, &lock, &deadline);
	if (w.state == 0) {
		/*
		 * Still queued or being written: unlink if queued; if the writer
		 * already took it we must wait, since w lives on our stack.
		 */
		struct waiter **pp = &head, *prev = NULL;

		while (*pp != NULL && *pp != &w) {
			prev = *pp;
			pp = &(*pp)->next;
		}
		if (*pp == &w) {
			*pp = w.next;
			if (tail == &w)
				tail = prev;
			w.state = -1;
		}
		while (w.state == 0)
			pthread_cond_wait(&done, &lock);
	}
	pthread_mutex_unlock(&lock);
	return w.state == 1 ? 0 : -1;
}
