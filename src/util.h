/* util.h: per-request arena, capped growable buffer, small shared helpers. */
#ifndef VERDICT_UTIL_H
#define VERDICT_UTIL_H

#include <stdarg.h>
#include <stddef.h>

#define WUR __attribute__((warn_unused_result))
#define PRINTF(a, b) __attribute__((format(printf, a, b)))
#define ARRAY_LEN(x) (sizeof(x) / sizeof((x)[0]))

/*
 * Arena: a bump allocator with a hard cap. Everything allocated from it is
 * valid until arena_reset() (end of the request) or arena_free(). Returns NULL
 * when the cap would be exceeded; callers treat that as "request too large".
 */
struct arena;
struct arena *arena_new(size_t cap) WUR;
void *arena_alloc(struct arena *a, size_t n) WUR;          /* zeroed */
char *arena_strndup(struct arena *a, const char *s, size_t n) WUR;
char *arena_strdup(struct arena *a, const char *s) WUR;
char *arena_printf(struct arena *a, const char *fmt, ...) PRINTF(2, 3) WUR;
size_t arena_used(const struct arena *a);
void arena_reset(struct arena *a);
void arena_free(struct arena *a);

/*
 * buf: a growable byte buffer with a hard size cap (curl's dynbuf idea).
 * buf_add* return 0, or -1 when the cap would be exceeded or memory ran out;
 * the buffer is left unchanged on failure. p is always NUL-terminated when
 * len > 0. buf_reset keeps the allocation for reuse; buf_free releases it.
 */
struct buf {
	char *p;
	size_t len;
	size_t alloc;
	size_t max;
};
void buf_init(struct buf *b, size_t max);
int buf_add(struct buf *b, const void *data, size_t n) WUR;
int buf_adds(struct buf *b, const char *s) WUR;
int buf_addc(struct buf *b, char c) WUR;
int buf_printf(struct buf *b, const char *fmt, ...) PRINTF(2, 3) WUR;
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) WUR;
void buf_reset(struct buf *b);
void buf_truncate(struct buf *b, size_t len);   /* shrink to len (no-op if longer) */
void buf_free(struct buf *b);
const char *buf_str(const struct buf *b);  /* "" when empty */

/*
 * Postgres array literals built up in a buf: the elements, comma-separated,
 * without the braces (the caller wraps "{...}"). pgarr_text quotes and
 * escapes s, or writes a NULL element when s is NULL. 0 or -1 as buf_add.
 */
int pgarr_text(struct buf *b, const char *s) WUR;
int pgarr_int(struct buf *b, long long v) WUR;
int pgarr_num(struct buf *b, double d) WUR;

/* 1 when s[0..n) is valid UTF-8 without NUL bytes, else 0. */
int utf8_valid(const char *s, size_t n);

/*
 * The exact text a client sent for part of a JSON document that a parser
 * (jansson) has already accepted, so it can be stored without being
 * re-serialized (numbers are then kept as sent, not rounded through a
 * double). A slice points into the document.
 */
struct json_slice {
	const char *p;          /* NULL: not found */
	size_t len;
};

/*
 * The value of top-level member key of the object s[0..n). 0, or -1 when the
 * text is no object or has no such member (a key written with an escape
 * does not match).
 */
int json_raw_member(const char *s, size_t n, const char *key, struct json_slice *out) WUR;

/*
 * The elements of the array s[0..n) into out[0..max). Returns how many, or
 * -1 when the text is no array or has more than max elements.
 */
long json_raw_elements(const char *s, size_t n, struct json_slice *out, size_t max) WUR;

/*
 * 1 when a slice can go to Postgres' jsonb as it is: no NUL byte, no \u
 * escape in its strings, and every number at most 32 characters with an
 * exponent of at most three digits. jansson reads "1e-99999" as 0, "3\0" as
 * 3 and any number of digits, where jsonb's numeric refuses them: such text
 * would fail a whole group commit.
 */
int json_raw_plain(const struct json_slice *v);

#endif
