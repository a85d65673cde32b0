/* csvtab.h: CSV bodies read into records with their line numbers (libcsv), for every text/csv endpoint. */
#ifndef VERDICT_CSVTAB_H
#define VERDICT_CSVTAB_H

#include <stddef.h>

#include "util.h"

struct csv_record {
	size_t nf;
	const char **f;        /* NUL-terminated cells; "" for an empty cell */
	size_t *len;           /* cell lengths (0 = empty = missing) */
	long line;             /* the line the record starts on (the header is line 1) */
};

struct csv_table {
	struct csv_record *rec;   /* rec[0] is the header row */
	size_t n;
};

/*
 * Parses len bytes of CSV (RFC 4180; CRLF or LF) into t. Cells are copied
 * into arena a. At most max_records records after the header.
 * Returns 0; -1 malformed (err says why, with the line); -2 more than
 * max_records records; -3 out of memory. Ragged rows are not an error
 * here: callers compare nf with the header and report the line.
 */
int csv_table_parse(struct arena *a, const char *s, size_t len, size_t max_records,
    struct csv_table *t, char *err, size_t errlen) WUR;

#endif
