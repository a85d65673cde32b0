/* csvtab.c: CSV bodies read into records with their line numbers (libcsv). */
#include "csvtab.h"

#include <stdio.h>
#include <string.h>

#include <csv.h>

#define CELLS_MAX 4096          /* columns per record */

struct state {
	struct arena *a;
	struct csv_table *t;
	size_t cap, max;
	const char *cells[CELLS_MAX];
	size_t lens[CELLS_MAX];
	size_t nf;
	long line, start;           /* current line; the current record's first line */
	int rc;
};

static void
field_cb(void *s, size_t len, void *data)
{
	struct state *st = data;
	char *c;

	if (st->rc != 0)
		return;
	if (st->nf == CELLS_MAX) {
		st->rc = -1;
		return;
	}
	if ((c = arena_alloc(st->a, len + 1)) == NULL) {
		st->rc = -3;
		return;
	}
	if (len > 0)
		memcpy(c, s, len);
	/* Newlines inside quoted cells move the line count. */
	for (size_t i = 0; i < len; i++)
		st->line += c[i] == '\n';
	st->cells[st->nf] = c;
	st->lens[st->nf++] = len;
}

static void
record_cb(int term, void *data)
{
	struct state *st = data;
	struct csv_record *r;

	(void)term;
	if (st->rc != 0)
		return;
	if (st->t->n == st->max + 1) {
		st->rc = -2;
		return;
	}
	if (st->t->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 64;
		struct csv_record *nr = arena_alloc(st->a, cap * sizeof(*nr));

		if (nr == NULL) {
			st->rc = -3;
			return;
		}
		if (st->t->n > 0)
			memcpy(nr, st->t->rec, st->t->n * sizeof(*nr));
		st->t->rec = nr;
		st->cap = cap;
	}
	r = &st->t->rec[st->t->n];
	r->nf = st->nf;
	r->f = arena_alloc(st->a, (st->nf + 1) * sizeof(*r->f));
	r->len = arena_alloc(st->a, (st->nf + 1) * sizeof(*r->len));
	if (r->f == NULL || r->len == NULL) {
		st->rc = -3;
		return;
	}
	memcpy(r->f, st->cells, st->nf * sizeof(*r->f));
	memcpy(r->len, st->lens, st->nf * sizeof(*r->len));
	r->line = st->start;
	st->t->n++;
	st->nf = 0;
	st->line++;
	st->start = st->line;
}

int
csv_table_parse(struct arena *a, const char *s, size_t len, size_t max_records,
    struct csv_table *t, char *err, size_t errlen)
{
	struct csv_parser p;
	struct state *st;
	int rc;

	memset(t, 0, sizeof(*t));
	err[0] = '\0';
	if ((st = arena_alloc(a, sizeof(*st))) == NULL)
		return -3;
	st->a = a;
	st->t = t;
	st->max = max_records;
	st->line = st->start = 1;
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
		return -3;
	if (csv_parse(&p, s, len, field_cb, record_cb, st) != len ||
	    csv_fini(&p, field_cb, record_cb, st) != 0) {
		if (st->rc == 0) {
			snprintf(err, errlen, "malformed CSV near line %ld: %s", st->line,
			    csv_strerror(csv_error(&p)));
			st->rc = -1;
		}
	}
	csv_free(&p);
	rc = st->rc;
	if (rc == -1 && err[0] == '\0')
		snprintf(err, errlen, "line %ld has more than %d columns", st->line, CELLS_MAX);
	return rc;
}

json_t *
csv_record_json(const struct csv_table *t, size_t i, long *badcol)
{
	const struct csv_record *h = &t->rec[0], *rec = &t->rec[i];
	json_t *o = json_object(), *v;

	*badcol = -1;
	if (o == NULL)
		return NULL;
	for (size_t k = 0; k < rec->nf && k < h->nf; k++) {
		if (rec->len[k] == 0)
			continue;
		if ((v = json_stringn(rec->f[k], rec->len[k])) == NULL) {
			if (!utf8_valid(rec->f[k], rec->len[k]))
				*badcol = (long)k;
			goto fail;
		}
		if (json_object_set_new(o, h->f[k], v) == -1)
			goto fail;
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}
