/* migrate.c: apply sql/NNN_name.sql files in order, once each, under an advisory lock. */
#include "migrate.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libpq-fe.h>

#define MIGRATE_LOCK_KEY "7365726469637401"   /* arbitrary, fixed */
#define MAX_MIGRATIONS 1000
#define MAX_SQL_FILE (4 << 20)

struct mfile {
	int version;
	char name[128];
};

static int
parse_name(const char *fn, struct mfile *m)
{
	size_t len = strlen(fn);

	if (len < 9 || len >= sizeof(m->name) + 4 || strcmp(fn + len - 4, ".sql") != 0)
		return -1;
	for (int i = 0; i < 3; i++)
		if (!isdigit((unsigned char)fn[i]))
			return -1;
	if (fn[3] != '_')
		return -1;
	for (size_t i = 4; i < len - 4; i++)
		if (!islower((unsigned char)fn[i]) && !isdigit((unsigned char)fn[i]) &&
		    fn[i] != '_')
			return -1;
	m->version = (fn[0] - '0') * 100 + (fn[1] - '0') * 10 + (fn[2] - '0');
	snprintf(m->name, sizeof(m->name), "%.*s", (int)(len - 4), fn);
	return 0;
}

static int
cmp_mfile(const void *a, const void *b)
{
	return ((const struct mfile *)a)->version - ((const struct mfile *)b)->version;
}

/* Lists migrations sorted; returns count or -1. Caller frees *out. */
static int
list_dir(const char *dir, struct mfile **out, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct mfile *v = NULL;
	int n = 0;

	*out = NULL;
	if (d == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if ((v = calloc(MAX_MIGRATIONS, sizeof(*v))) == NULL) {
		closedir(d);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		struct mfile m;

		if (parse_name(de->d_name, &m) == -1)
			continue;
		if (n == MAX_MIGRATIONS) {
			snprintf(err, errlen, "%s: too many migrations", dir);
			goto fail;
		}
		v[n++] = m;
	}
	qsort(v, (size_t)n, sizeof(*v), cmp_mfile);
	for (int i = 1; i < n; i++)
		if (v[i].version == v[i - 1].version) {
			snprintf(err, errlen, "%s: two migrations numbered %03d",
			    dir, v[i].version);
			goto fail;
		}
	closedir(d);
	*out = v;
	return n;
fail:
	closedir(d);
	free(v);
	return -1;
}

int
migrate_head(const char *sql_dir, char *err, size_t errlen)
{
	struct mfile *v;
	int n = list_dir(sql_dir, &v, err, errlen), head = 0;

	if (n < 0)
		return -1;
	if (n > 0)
		head = v[n - 1].version;
	free(v);
	return head;
}

static char *
read_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *s = NULL;

	if (f == NULL || fstat(fileno(f), &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (st.st_size > MAX_SQL_FILE) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, MAX_SQL_FILE);
		goto out;
	}
	if ((s = malloc((size_t)st.st_size + 1)) == NULL)
		goto out;
	if (fread(s, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		snprintf(err, errlen, "%s: short read", path);
		free(s);
		s = NULL;
		goto out;
	}
	s[st.st_size] = '\0';
out:
	if (f != NULL)
		fclose(f);
	return s;
}

static int
exec_ok(PGconn *c, const char *sql, char *err, size_t errlen, const char *what)
{
	PGresult *res = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(res);
	int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

	if (!ok)
		snprintf(err, errlen, "%s: %s", what, PQerrorMessage(c));
	PQclear(res);
	return ok ? 0 : -1;
}

static int
applied(PGconn *c, int version, char *err, size_t errlen)
{
	char vbuf[16];
	const char *vals[1] = { vbuf };
	PGresult *res;
	int rc;

	snprintf(vbuf, sizeof(vbuf), "%d", version);
	res = PQexecParams(c, "SELECT 1 FROM schema_migrations WHERE version = $1",
	    1, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "reading schema_migrations: %s", PQerrorMessage(c));
		rc = -1;
	} else
		rc = PQntuples(res) > 0;
	PQclear(res);
	return rc;
}

int
migrate_run(const char *conninfo, const char *sql_dir, int verbose, char *err,
    size_t errlen)
{
	static const char *const keys[] = { "dbname", "connect_timeout",
	    "application_name", NULL };
	const char *vals[] = { conninfo, "5", "verdict-migrate", NULL };
	PGconn *c = NULL;
	struct mfile *v = NULL;
	int n, count = -1, done = 0;
	char *sql = NULL;

	if ((n = list_dir(sql_dir, &v, err, errlen)) < 0)
		return -1;
	c = PQconnectdbParams(keys, vals, 1);
	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		snprintf(err, errlen, "connecting to Postgres: %s",
		    c ? PQerrorMessage(c) : "out of memory");
		goto out;
	}
	PQsetNoticeProcessor(c, NULL, NULL);
	if (exec_ok(c, "SET client_min_messages = warning", err, errlen, "setup") == -1 ||
	    exec_ok(c, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", err, errlen,
	    "taking the migration lock") == -1 ||
	    exec_ok(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "version integer PRIMARY KEY, name text NOT NULL, "
	    "applied_at timestamptz NOT NULL DEFAULT now())", err, errlen,
	    "creating schema_migrations") == -1)
		goto out;
	for (int i = 0; i < n; i++) {
		char path[1024];
		int a = applied(c, v[i].version, err, errlen);

		if (a == -1)
			goto out;
		if (a == 1)
			continue;
		snprintf(path, sizeof(path), "%s/%s.sql", sql_dir, v[i].name);
		if ((sql = read_file(path, err, errlen)) == NULL)
			goto out;
		if (verbose)
			printf("applying %s\n", v[i].name);
		if (exec_ok(c, sql, err, errlen, v[i].name) == -1) {
			/* A failed file may leave its transaction open. */
			PQclear(PQexec(c, "ROLLBACK"));
			goto out;
		}
		free(sql);
		sql = NULL;
		if ((a = applied(c, v[i].version, err, errlen)) != 1) {
			if (a == 0)
				snprintf(err, errlen, "%s did not record itself in "
				    "schema_migrations (add the INSERT before COMMIT)",
				    v[i].name);
			goto out;
		}
		done++;
	}
	count = done;
	if (verbose)
		printf("schema at version %d (%d applied)\n",
		    n > 0 ? v[n - 1].version : 0, done);
out:
	free(sql);
	free(v);
	if (c != NULL)
		PQfinish(c);   /* closing the session releases the advisory lock */
	return count;
}
