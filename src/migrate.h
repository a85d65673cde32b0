/* migrate.h: numbered SQL migrations (sql/NNN_name.sql) applied in order under an advisory lock. */
#ifndef VERDICT_MIGRATE_H
#define VERDICT_MIGRATE_H

#include <stddef.h>

#include "util.h"

/* The highest NNN among sql_dir/NNN_*.sql, 0 when none, -1 on error. */
int migrate_head(const char *sql_dir, char *err, size_t errlen) WUR;

/*
 * Applies every pending migration of sql_dir to the database at conninfo.
 * Each file holds its own BEGIN; … COMMIT; and records itself with
 * INSERT INTO schema_migrations (version, name) VALUES (NNN, 'name') inside
 * that transaction, so a migration and its record commit together. Holds
 * pg_advisory_lock while working so concurrent runs (two hosts) serialize.
 * Writes progress lines to stdout when verbose. Returns the number applied,
 * or -1 with err set.
 */
int migrate_run(const char *conninfo, const char *sql_dir, int verbose,
    char *err, size_t errlen) WUR;

#endif
