/* db.c: worker connections to Postgres with prepared statements and reconnect. */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static const struct {
	const char *name;
	int readonly;
	const char *sql;
} stmts[] = {
#define X(n, ro, sql) { #n, ro, sql },
	DB_STATEMENTS(X)
#undef X
};

/*
 * Bumped whenever any connection of this process is found dead (a Postgres
 * restart kills them all): every worker then pings before its next
 * request instead of failing its first write with a stale connection.
 */
static int db_epoch;

void
db_mark_lost(void)
{
	__atomic_add_fetch(&db_epoch, 1, __ATOMIC_ACQ_REL);
}

struct db {
	int seen_epoch;
	char *conninfo;
	PGconn *conn;
	int ready;              /* connected and every statement prepared */
	int lost;
	struct timespec last_try;
	char sqlstate[6];
	char errmsg[256];
};

struct db *
db_new(const char *conninfo)
{
	struct db *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	if ((d->conninfo = strdup(conninfo)) == NULL) {
		free(d);
		return NULL;
	}
	return d;
}

static void set_ready(struct db *d, int ready);

void
db_free(struct db *d)
{
	if (d == NULL)
		return;
	if (d->conn != NULL)
		PQfinish(d->conn);
	set_ready(d, 0);
	free(d->conninfo);
	free(d);
}

/* Worker connections that are up and prepared, for the metrics gauge. */
static int nready;

static void
set_ready(struct db *d, int ready)
{
	if (d->ready != ready)
		__atomic_add_fetch(&nready, ready ? 1 : -1, __ATOMIC_RELAXED);
	d->ready = ready;
}

int
db_connections_up(void)
{
	return __atomic_load_n(&nready, __ATOMIC_RELAXED);
}

static void
set_error(struct db *d, const char *state, const char *msg)
{
	snprintf(d->sqlstate, sizeof(d->sqlstate), "%s", state ? state : "");
	snprintf(d->errmsg, sizeof(d->errmsg), "%s", msg ? msg : "");
	/* libpq messages end with a newline; the JSON log does not want it. */
	d->errmsg[strcspn(d->errmsg, "\n")] = '\0';
}

static int
connect_now(struct db *d)
{
	/*
	 * No parallel query: on a web server's few cores the workers a parallel
	 * plan starts compete with the other requests (issue 7's filtered runs
	 * search took 270-480 ms with two workers, 145 ms without). Before
	 * dbname, so options in database_url win.
	 */
	static const char *const keys[] = { "options", "dbname", "connect_timeout",
	    "application_name", NULL };
	const char *vals[] = { "-c max_parallel_workers_per_gather=0", d->conninfo, "2",
	    "verdictd", NULL };

	if (d->conn != NULL)
		PQfinish(d->conn);
	set_ready(d, 0);
	/* expand_dbname: database_url may be a conninfo string or a URI. */
	d->conn = PQconnectdbParams(keys, vals, 1);
	if (d->conn == NULL || PQstatus(d->conn) != CONNECTION_OK) {
		set_error(d, "", d->conn ? PQerrorMessage(d->conn) : "out of memory");
		return -1;
	}
	for (size_t i = 0; i < ARRAY_LEN(stmts); i++) {
		PGresult *res = PQprepare(d->conn, stmts[i].name, stmts[i].sql, 0, NULL);
		int ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;

		if (!ok) {
			set_error(d, res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : "",
			    PQerrorMessage(d->conn));
			log_msg("error", "preparing %s: %s", stmts[i].name, d->errmsg);
			PQclear(res);
			return -1;
		}
		PQclear(res);
	}
	set_ready(d, 1);
	d->lost = 0;
	d->seen_epoch = __atomic_load_n(&db_epoch, __ATOMIC_ACQUIRE);
	return 0;
}

int
db_ensure(struct db *d)
{
	struct timespec now;
	long long ms;

	if (d->ready && d->conn != NULL && PQstatus(d->conn) == CONNECTION_OK) {
		int epoch = __atomic_load_n(&db_epoch, __ATOMIC_ACQUIRE);
		PGresult *res;

		if (d->seen_epoch == epoch)
			return 0;
		d->seen_epoch = epoch;
		res = PQexec(d->conn, "SELECT 1");
		if (PQresultStatus(res) == PGRES_TUPLES_OK) {
			PQclear(res);
			return 0;
		}
		PQclear(res);
		/* Dead: reconnect now, not after the throttle. */
		set_ready(d, 0);
		d->last_try.tv_sec = 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - d->last_try.tv_sec) * 1000LL +
	    (now.tv_nsec - d->last_try.tv_nsec) / 1000000;
	if (d->last_try.tv_sec != 0 && ms < 250)
		return -1;
	d->last_try = now;
	if (connect_now(d) == -1) {
		d->lost = 1;
		return -1;
	}
	log_msg("info", "connected to Postgres");
	return 0;
}

static PGresult *
exec_once(struct db *d, enum stmt s, int n, const char *const *vals, const int *lens,
    const int *fmts, int binary_result)
{
	PGresult *res;
	ExecStatusType st;

	res = PQexecPrepared(d->conn, stmts[s].name, n, vals, lens, fmts, binary_result);
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
		d->sqlstate[0] = '\0';
		return res;
	}
	set_error(d, res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : "",
	    res ? PQresultErrorMessage(res) : PQerrorMessage(d->conn));
	PQclear(res);
	if (PQstatus(d->conn) != CONNECTION_OK) {
		d->lost = 1;
		set_ready(d, 0);
		d->sqlstate[0] = '\0';
		db_mark_lost();
	}
	return NULL;
}

PGresult *
db_exec_bin(struct db *d, enum stmt s, int n, const char *const *vals, const int *lens,
    const int *fmts, int binary_result)
{
	PGresult *res;

	if (!d->ready && db_ensure(d) == -1)
		return NULL;
	res = exec_once(d, s, n, vals, lens, fmts, binary_result);
	if (res == NULL && d->lost && stmts[s].readonly) {
		/* The server restarted under us: one immediate retry is safe for reads. */
		d->last_try.tv_sec = 0;
		if (db_ensure(d) == 0)
			res = exec_once(d, s, n, vals, lens, fmts, binary_result);
	}
	return res;
}

PGresult *
db_exec(struct db *d, enum stmt s, int n, const char *const *vals)
{
	return db_exec_bin(d, s, n, vals, NULL, NULL, 0);
}

PGresult *
db_query(struct db *d, const char *sql, int n, const char *const *vals)
{
	PGresult *res;
	ExecStatusType st;

	if (!d->ready && db_ensure(d) == -1)
		return NULL;
	res = PQexecParams(d->conn, sql, n, NULL, vals, NULL, NULL, 0);
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
		d->sqlstate[0] = '\0';
		return res;
	}
	set_error(d, res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : "",
	    res ? PQresultErrorMessage(res) : PQerrorMessage(d->conn));
	PQclear(res);
	if (PQstatus(d->conn) != CONNECTION_OK) {
		d->lost = 1;
		d->ready = 0;
		d->sqlstate[0] = '\0';
		db_mark_lost();
	}
	return NULL;
}

/*
 * Whether res (which this clears) has status want; if not, the error goes to
 * d, and a broken connection marks d lost so the next request reconnects.
 */
static int
result_ok(struct db *d, PGresult *res, ExecStatusType want)
{
	int ok = res != NULL && PQresultStatus(res) == want;

	if (!ok) {
		set_error(d, res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : "",
		    PQerrorMessage(d->conn));
		if (PQstatus(d->conn) != CONNECTION_OK) {
			d->lost = 1;
			set_ready(d, 0);
		}
	}
	PQclear(res);
	return ok;
}

int
db_command(struct db *d, const char *sql)
{
	if (!d->ready && db_ensure(d) == -1)
		return -1;
	return result_ok(d, PQexec(d->conn, sql), PGRES_COMMAND_OK) ? 0 : -1;
}

int
db_copy_in(struct db *d, const char *copy, const char *data, size_t len)
{
	PGresult *res;
	int ok;

	if (!d->ready && db_ensure(d) == -1)
		return -1;
	if (!result_ok(d, PQexec(d->conn, copy), PGRES_COPY_IN))
		return -1;
	/* libpq buffers and sends in pieces; one call per request keeps it simple. */
	ok = PQputCopyData(d->conn, data, (int)len) == 1 && PQputCopyEnd(d->conn, NULL) == 1;
	if (!ok)
		set_error(d, "", PQerrorMessage(d->conn));
	/* The COPY's own result, then NULL. */
	while ((res = PQgetResult(d->conn)) != NULL)
		ok = result_ok(d, res, PGRES_COMMAND_OK) && ok;
	if (!ok && PQstatus(d->conn) != CONNECTION_OK) {
		d->lost = 1;
		set_ready(d, 0);
	}
	return ok ? 0 : -1;
}

void
db_rollback(struct db *d)
{
	PGresult *res;

	if (d->conn == NULL)
		return;
	res = PQexec(d->conn, "ROLLBACK");
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQstatus(d->conn) != CONNECTION_OK) {
		d->lost = 1;
		set_ready(d, 0);
	}
	PQclear(res);
}

const char *db_sqlstate(const struct db *d) { return d->sqlstate; }
const char *db_errmsg(const struct db *d) { return d->errmsg; }
int db_lost(const struct db *d) { return d != NULL && d->lost; }
PGconn *db_conn(struct db *d) { return d->conn; }
