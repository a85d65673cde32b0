/* db.h: one Postgres connection per worker, every statement prepared at connect from one table. */
#ifndef VERDICT_DB_H
#define VERDICT_DB_H

#include <libpq-fe.h>

#include "util.h"

/*
 * The statement table: X(NAME, readonly, "SQL with $1 params"). Each is
 * prepared on every (re)connect; db_exec runs them by enum. readonly
 * statements are retried once on a fresh connection when the old one
 * turns out to be dead (a Postgres restart), others are not.
 */
#define DB_STATEMENTS(X) \
	X(SCHEMA_VERSION, 1, "SELECT coalesce(max(version), 0) FROM schema_migrations") \
	X(PING, 1, "SELECT 1")

enum stmt {
#define X(name, ro, sql) STMT_##name,
	DB_STATEMENTS(X)
#undef X
	STMT__COUNT
};

struct db;

/* Creates a handle; does not connect yet. Caller frees with db_free. */
struct db *db_new(const char *conninfo) WUR;
void db_free(struct db *d);

/*
 * Makes sure the connection is up and prepared. Reconnect attempts are
 * throttled (one per 250 ms per worker) so an outage costs each request
 * microseconds, not a connect timeout. Returns 0 or -1.
 */
int db_ensure(struct db *d) WUR;

/*
 * Runs a prepared statement with text parameters (NULL = SQL NULL).
 * Returns a result with status TUPLES_OK or COMMAND_OK (caller PQclear()s),
 * or NULL: then db_sqlstate() is the SQLSTATE, or "" when the connection
 * was lost (db_lost() is 1).
 */
PGresult *db_exec(struct db *d, enum stmt s, int n, const char *const *vals) WUR;
/* Plain command without parameters (BEGIN, COMMIT, ROLLBACK). 0 or -1. */
int db_command(struct db *d, const char *sql) WUR;

const char *db_sqlstate(const struct db *d);
const char *db_errmsg(const struct db *d);
int db_lost(const struct db *d);
PGconn *db_conn(struct db *d);

#endif
