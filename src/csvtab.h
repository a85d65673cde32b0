/* csvtab.h: CSV bodies read into records with their line numbers (libcsv), for every text/csv endpoint. */
#ifndef VERDICT_CSVTAB_H
#define VERDICT_CSVTAB_H

#include <stddef.h>

#include <jansson.h>

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

/*
 * Record i (>= 1) of t as the JSON object a CSV row stands for wherever verdict
 * reads one (a prediction, a training row): header cell -> the cell as a
 * string, empty cells left out (missing), cells past the header's width
 * ignored (callers report ragged rows first). NULL when a cell is not valid
 * UTF-8 (*badcol = its index) or memory ran out (*badcol = -1). Caller decrefs.
 */
json_t *csv_record_json(const struct csv_table *t, size_t i, long *badcol) WUR;

#endif
