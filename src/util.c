/* util.c: per-request arena, capped growable buffer, UTF-8 check. */
#include "util.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK 16384

struct chunk {
	struct chunk *next;
	size_t size;
	size_t used;
	max_align_t data[];
};

struct arena {
	struct chunk *head;
	size_t cap;
	size_t total;    /* bytes of chunk payload currently allocated */
};

static struct chunk *
chunk_new(size_t size)
{
	struct chunk *c = malloc(sizeof(*c) + size);

	if (c == NULL)
		return NULL;
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

struct arena *
arena_new(size_t cap)
{
	struct arena *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->cap = cap;
	a->head = chunk_new(ARENA_CHUNK);
	if (a->head == NULL) {
		free(a);
		return NULL;
	}
	a->total = ARENA_CHUNK;
	return a;
}

void *
arena_alloc(struct arena *a, size_t n)
{
	struct chunk *c = a->head;
	size_t align = _Alignof(max_align_t);
	size_t need = (n + align - 1) & ~(align - 1);
	void *p;

	if (n == 0)
		need = align;
	if (need < n)
		return NULL;
	if (c->size - c->used < need) {
		size_t size = need > ARENA_CHUNK ? need : ARENA_CHUNK;

		if (a->total + size > a->cap || a->total + size < a->total)
			return NULL;
		c = chunk_new(size);
		if (c == NULL)
			return NULL;
		c->next = a->head;
		a->head = c;
		a->total += size;
	}
	p = (char *)c->data + c->used;
	c->used += need;
	memset(p, 0, n);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	p = arena_alloc(a, (size_t)n + 1);
	if (p == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

size_t
arena_used(const struct arena *a)
{
	return a->total;
}

/* Keeps the first (oldest) chunk so a steady request load allocates nothing. */
void
arena_reset(struct arena *a)
{
	struct chunk *c = a->head, *next;

	while (c->next != NULL) {
		next = c->next;
		free(c);
		c = next;
	}
	c->used = 0;
	a->head = c;
	a->total = c->size;
}

void
arena_free(struct arena *a)
{
	struct chunk *c, *next;

	if (a == NULL)
		return;
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

void
buf_init(struct buf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->alloc = 0;
	/* Clamped so that max + 1 and the doubling below cannot overflow. */
	b->max = max > SIZE_MAX / 4 ? SIZE_MAX / 4 : max;
}

void
buf_truncate(struct buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->p[len] = '\0';
	}
}

int
buf_add(struct buf *b, const void *data, size_t n)
{
	if (n > b->max || b->len > b->max - n)
		return -1;
	if (b->len + n + 1 > b->alloc) {
		size_t na = b->alloc ? b->alloc : 256;
		char *np;

		while (na < b->len + n + 1)
			na *= 2;
		if (na > b->max + 1)
			na = b->max + 1;
		np = realloc(b->p, na);
		if (np == NULL)
			return -1;
		b->p = np;
		b->alloc = na;
	}
	if (n > 0)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int
buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	char small[512];
	va_list ap2;
	int n;
	char *big;
	int rc;

	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small))
		return buf_add(b, small, (size_t)n);
	if ((size_t)n > b->max)
		return -1;
	big = malloc((size_t)n + 1);
	if (big == NULL)
		return -1;
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	rc = buf_add(b, big, (size_t)n);
	free(big);
	return rc;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->alloc = 0;
}

const char *
buf_str(const struct buf *b)
{
	return b->p != NULL ? b->p : "";
}

int
utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t len;
		uint32_t cp;

		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			len = 2;
			cp = c & 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			len = 3;
			cp = c & 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			len = 4;
			cp = c & 0x07;
		} else
			return 0;
		if (n - i < len)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		/* overlong forms, surrogates, beyond Unicode */
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += len;
	}
	return 1;
}

int
pgarr_text(struct buf *b, const char *s)
{
	if (b->len > 0 && buf_addc(b, ',') == -1)
		return -1;
	if (s == NULL)
		return buf_adds(b, "NULL");
	if (buf_addc(b, '"') == -1)
		return -1;
	for (; *s != '\0'; s++)
		if ((*s == '"' || *s == '\\') ? buf_addc(b, '\\') == -1 ||
		    buf_addc(b, *s) == -1 : buf_addc(b, *s) == -1)
			return -1;
	return buf_addc(b, '"');
}

int
pgarr_int(struct buf *b, long long v)
{
	if (b->len > 0 && buf_addc(b, ',') == -1)
		return -1;
	return buf_printf(b, "%lld", v);
}

int
pgarr_num(struct buf *b, double d)
{
	if (b->len > 0 && buf_addc(b, ',') == -1)
		return -1;
	return buf_printf(b, "%.17g", d);
}

/* ---- raw JSON slices (text already accepted by a parser) ---- */

static size_t
json_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* The index after the string opening at s[i] ('"'), or n + 1 when unterminated. */
static size_t
json_skip_string(const char *s, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return n + 1;
}

/* The index after the value starting at s[i], or n + 1 when it does not end. */
static size_t
json_skip_value(const char *s, size_t n, size_t i)
{
	size_t depth = 0;

	if (i >= n)
		return n + 1;
	if (s[i] == '"')
		return json_skip_string(s, n, i);
	if (s[i] != '{' && s[i] != '[') {
		size_t start = i;

		while (i < n && !strchr(",}] \t\n\r", s[i]))
			i++;
		return i > start ? i : n + 1;
	}
	while (i < n) {
		if (s[i] == '"') {
			i = json_skip_string(s, n, i);
			continue;
		}
		if (s[i] == '{' || s[i] == '[')
			depth++;
		else if ((s[i] == '}' || s[i] == ']') && --depth == 0)
			return i + 1;
		i++;
	}
	return n + 1;
}

int
json_raw_member(const char *s, size_t n, const char *key, struct json_slice *out)
{
	size_t i = json_ws(s, n, 0), klen = strlen(key);

	out->p = NULL;
	out->len = 0;
	if (i >= n || s[i] != '{')
		return -1;
	for (i = json_ws(s, n, i + 1); i < n && s[i] == '"'; ) {
		size_t ks = i + 1, ke = json_skip_string(s, n, i), vs, ve;

		if (ke > n)
			return -1;
		i = json_ws(s, n, ke);
		if (i >= n || s[i] != ':')
			return -1;
		vs = json_ws(s, n, i + 1);
		if ((ve = json_skip_value(s, n, vs)) > n)
			return -1;
		if (ke - 1 - ks == klen && !memcmp(s + ks, key, klen)) {
			out->p = s + vs;
			out->len = ve - vs;
			return 0;
		}
		i = json_ws(s, n, ve);
		if (i >= n || s[i] != ',')
			return -1;
		i = json_ws(s, n, i + 1);
	}
	return -1;
}

long
json_raw_elements(const char *s, size_t n, struct json_slice *out, size_t max)
{
	size_t i = json_ws(s, n, 0), k = 0;

	if (i >= n || s[i] != '[')
		return -1;
	i = json_ws(s, n, i + 1);
	if (i < n && s[i] == ']')
		return 0;
	while (i < n) {
		size_t e = json_skip_value(s, n, i);

		if (e > n || k == max)
			return -1;
		out[k].p = s + i;
		out[k++].len = e - i;
		i = json_ws(s, n, e);
		if (i < n && s[i] == ']')
			return (long)k;
		if (i >= n || s[i] != ',')
			return -1;
		i = json_ws(s, n, i + 1);
	}
	return -1;
}

int
json_raw_plain(const struct json_slice *v)
{
	const char *s = v->p;
	size_t n = v->len, i = 0;

	/* jansson reads "3\0" as 3: the NUL would cut the stored text short. */
	if (memchr(s, '\0', n) != NULL)
		return 0;
	while (i < n) {
		if (s[i] == '"') {
			for (i++; i < n && s[i] != '"'; i++)
				if (s[i] == '\\' && (++i >= n || s[i] == 'u'))
					return 0;
			i++;
		} else if (s[i] == '-' || (s[i] >= '0' && s[i] <= '9')) {
			size_t start = i, exp = 0, expdigits = 0;

			for (; i < n && strchr("0123456789+-.eE", s[i]) != NULL; i++) {
				if (s[i] == 'e' || s[i] == 'E')
					exp = 1;
				else if (exp && s[i] >= '0' && s[i] <= '9')
					expdigits++;
			}
			if (i - start > 32 || expdigits > 3)
				return 0;
		} else
			i++;
	}
	return 1;
}
