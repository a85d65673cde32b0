/* params.c: parameter lists and the query-string, form, cookie and multipart parsers. */
#include "params.h"

#include <stdint.h>
#include <string.h>

#define NAME_MAX_LEN		64
#define BOUNDARY_MAX		70
#define PART_HEADER_MAX		8192	/* bytes of part header lines */
#define SEARCH_WINDOW		65536

/* Our own classifiers: <ctype.h> depends on the locale and wants unsigned. */
static int
is_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int
is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static int
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* RFC 7230 tchar. */
static int
is_tchar(unsigned char c)
{
	return is_alpha(c) || is_digit(c) || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 2046 bchars; a space is allowed, but not last. */
static int
is_bchar(unsigned char c)
{
	return is_alpha(c) || is_digit(c) || (c != '\0' &&
	    strchr("'()+_,-./:=? ", c) != NULL);
}

static int
is_unreserved(unsigned char c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '.' ||
	    c == '_' || c == '~';
}

static unsigned char
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* 1 when s[0..n) equals the lower-case literal lit, ignoring ASCII case. */
static int
ci_eq(const char *s, size_t n, const char *lit)
{
	size_t i;

	if (strlen(lit) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (lower((unsigned char)s[i]) != (unsigned char)lit[i])
			return 0;
	return 1;
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
param_name_ok(const char *name, size_t len)
{
	size_t i;
	unsigned char c;

	if (name == NULL || len == 0 || len > NAME_MAX_LEN)
		return 0;
	if (!is_alpha((unsigned char)name[0]))
		return 0;
	for (i = 1; i < len; i++) {
		c = (unsigned char)name[i];
		if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '.' &&
		    c != '-')
			return 0;
	}
	return 1;
}

/* Abandoned arrays stay in the arena until it is reset; that is the price of no free(). */
int
params_add(struct arena *a, struct params *p, const struct param *item)
{
	struct param *nv;
	size_t ncap;

	if (p->n == p->cap) {
		ncap = p->cap ? p->cap * 2 : 8;
		if (ncap < p->cap || ncap > SIZE_MAX / sizeof(*nv))
			return -1;
		nv = arena_alloc(a, ncap * sizeof(*nv));
		if (nv == NULL)
			return -1;
		if (p->n > 0)
			memcpy(nv, p->v, p->n * sizeof(*nv));
		p->v = nv;
		p->cap = ncap;
	}
	p->v[p->n++] = *item;
	return 0;
}

const struct param *
params_get(const struct params *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->v[i].name, name) == 0)
			return &p->v[i];
	return NULL;
}

size_t
params_count(const struct params *p, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->v[i].name, name) == 0)
			n++;
	return n;
}

/*
 * Form-decodes s[0..n) ('+' is a space, %XX a byte) into dst. Writes at
 * most cap bytes but always stores the full decoded length in *outlen, so a
 * small dst (or none) still validates the whole input. Returns 0, or -1 on
 * a '%' without two hex digits.
 */
static int
form_decode(const char *s, size_t n, char *dst, size_t cap, size_t *outlen)
{
	size_t i, o = 0;
	unsigned char c;
	int hi, lo;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '+')
			c = ' ';
		else if (c == '%') {
			if (n - i < 3)
				return -1;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (o < cap)
			dst[o] = (char)c;
		o++;
	}
	*outlen = o;
	return 0;
}

/*
 * On any error out->n is put back, so a caller never sees half a request;
 * the arena memory used so far is simply abandoned. max_params counts the
 * parameters this call adds, not what out already held.
 */
int
form_parse_urlencoded(struct arena *a, const char *s, size_t len,
    struct params *out, size_t max_params)
{
	char name[NAME_MAX_LEN];
	struct param item;
	size_t n0 = out->n, added = 0, i = 0, end, eq, vlen, nlen;
	const char *amp, *e;
	char *v;
	int rc = PARSE_OK;

	while (i < len) {
		amp = memchr(s + i, '&', len - i);
		end = amp != NULL ? (size_t)(amp - s) : len;
		if (end == i) {
			i++;
			continue;
		}
		e = memchr(s + i, '=', end - i);
		eq = e != NULL ? (size_t)(e - s) : end;
		/* Decoded into a fixed buffer: a name too long to be safe needs no memory. */
		if (form_decode(s + i, eq - i, name, sizeof(name), &nlen) == -1) {
			rc = PARSE_MALFORMED;
			goto out;
		}
		if (eq < end)
			eq++;
		if (!param_name_ok(name, nlen)) {
			if (form_decode(s + eq, end - eq, NULL, 0, &vlen) == -1) {
				rc = PARSE_MALFORMED;
				goto out;
			}
		} else {
			if (added == max_params) {
				rc = PARSE_TOO_MANY;
				goto out;
			}
			memset(&item, 0, sizeof(item));
			if ((item.name = arena_strndup(a, name, nlen)) == NULL ||
			    (v = arena_alloc(a, end - eq + 1)) == NULL) {
				rc = PARSE_NOMEM;
				goto out;
			}
			if (form_decode(s + eq, end - eq, v, end - eq, &vlen) == -1) {
				rc = PARSE_MALFORMED;
				goto out;
			}
			v[vlen] = '\0';
			item.value = v;
			item.value_len = vlen;
			if (params_add(a, out, &item) == -1) {
				rc = PARSE_NOMEM;
				goto out;
			}
			added++;
		}
		i = end + 1;
	}
out:
	if (rc != PARSE_OK)
		out->n = n0;
	return rc;
}

/*
 * One "name=value" cookie piece p[0..n), already cut at ';'. Pieces a
 * browser should not have sent (no '=', unsafe name, control bytes, an
 * unbalanced quote) are ignored: 1 means added or skipped, else a status.
 */
static int
cookie_piece(struct arena *a, const char *p, size_t n, struct params *out,
    size_t *added, size_t max_params)
{
	struct param item;
	const char *eq;
	size_t nlen, vlen, i;

	while (n > 0 && is_ows((unsigned char)p[0])) {
		p++;
		n--;
	}
	while (n > 0 && is_ows((unsigned char)p[n - 1]))
		n--;
	if ((eq = memchr(p, '=', n)) == NULL)
		return 1;
	nlen = eq - p;
	while (nlen > 0 && is_ows((unsigned char)p[nlen - 1]))
		nlen--;
	if (!param_name_ok(p, nlen))
		return 1;
	eq++;
	vlen = n - (eq - p);
	while (vlen > 0 && is_ows((unsigned char)eq[0])) {
		eq++;
		vlen--;
	}
	if (vlen > 0 && eq[0] == '"') {
		if (vlen < 2 || eq[vlen - 1] != '"')
			return 1;
		eq++;
		vlen -= 2;
	}
	for (i = 0; i < vlen; i++)
		if (is_ctl((unsigned char)eq[i]))
			return 1;
	if (*added == max_params)
		return PARSE_TOO_MANY;
	memset(&item, 0, sizeof(item));
	if ((item.name = arena_strndup(a, p, nlen)) == NULL ||
	    (item.value = arena_strndup(a, eq, vlen)) == NULL)
		return PARSE_NOMEM;
	item.value_len = vlen;
	if (params_add(a, out, &item) == -1)
		return PARSE_NOMEM;
	(*added)++;
	return 1;
}

int
cookie_parse(struct arena *a, const char *header, struct params *out,
    size_t max_params)
{
	size_t n0 = out->n, added = 0, n;
	const char *p = header;
	int rc = PARSE_OK, r;

	if (header == NULL)
		goto out;
	while (*p != '\0') {
		n = strcspn(p, ";");
		if ((r = cookie_piece(a, p, n, out, &added, max_params)) != 1) {
			rc = r;
			goto out;
		}
		p += n;
		if (*p == ';')
			p++;
	}
out:
	if (rc != PARSE_OK)
		out->n = n0;
	return rc;
}

/* One "key=value" parameter of a header value (RFC 7231 3.1.1.1, RFC 2183). */
struct hparam {
	const char *key;
	size_t keylen;
	const char *val;	/* inside the quotes when quoted */
	size_t vallen;
	int quoted;
};

/*
 * Reads the next "; key=value" from [*pp, end). Returns 1 with *hp set, 0
 * when there are no more, -1 on bad syntax (no '=', unclosed quote, junk
 * after a value). In a quoted value only \" and \\ are escapes, so a bare
 * Windows path ("C:\dir\f.txt", as old browsers send it) survives.
 */
static int
hparam_next(const char **pp, const char *end, struct hparam *hp)
{
	const char *p = *pp;

	while (p < end && (is_ows((unsigned char)*p) || *p == ';'))
		p++;
	if (p == end) {
		*pp = p;
		return 0;
	}
	hp->key = p;
	while (p < end && is_tchar((unsigned char)*p))
		p++;
	hp->keylen = p - hp->key;
	while (p < end && is_ows((unsigned char)*p))
		p++;
	if (hp->keylen == 0 || p == end || *p != '=')
		return -1;
	p++;
	while (p < end && is_ows((unsigned char)*p))
		p++;
	if (p < end && *p == '"') {
		hp->val = ++p;
		while (p < end && *p != '"') {
			if (*p == '\\' && end - p >= 2 &&
			    (p[1] == '"' || p[1] == '\\'))
				p++;
			p++;
		}
		if (p == end)
			return -1;
		hp->vallen = p - hp->val;
		hp->quoted = 1;
		p++;
	} else {
		/* Lenient: boundaries like a:b are often sent unquoted. */
		hp->val = p;
		while (p < end && *p != ';' && *p != '"' &&
		    !is_ows((unsigned char)*p) && !is_ctl((unsigned char)*p))
			p++;
		hp->vallen = p - hp->val;
		hp->quoted = 0;
	}
	while (p < end && is_ows((unsigned char)*p))
		p++;
	if (p < end && *p != ';')
		return -1;
	*pp = p;
	return 1;
}

/*
 * Copies hp's value, undoing the escapes hparam_next accepted, writing at
 * most cap bytes into dst. Returns the full unescaped length.
 */
static size_t
hparam_value(const struct hparam *hp, char *dst, size_t cap)
{
	size_t i, o = 0;
	char c;

	for (i = 0; i < hp->vallen; i++) {
		c = hp->val[i];
		if (hp->quoted && c == '\\' && i + 1 < hp->vallen &&
		    (hp->val[i + 1] == '"' || hp->val[i + 1] == '\\'))
			c = hp->val[++i];
		if (o < cap)
			dst[o] = c;
		o++;
	}
	return o;
}

/* hp's unescaped value as a NUL-terminated arena string, or NULL. */
static char *
hparam_dup(struct arena *a, const struct hparam *hp)
{
	char *s = arena_alloc(a, hp->vallen + 1);

	if (s == NULL)
		return NULL;
	s[hparam_value(hp, s, hp->vallen)] = '\0';
	return s;
}

/*
 * Finds the boundary= parameter of a Content-Type value and writes it into
 * b (BOUNDARY_MAX bytes). A duplicate boundary is refused rather than
 * guessed at: a front end might have picked the other one.
 */
static int
boundary_parse(const char *ct, char *b, size_t *blen)
{
	struct hparam hp;
	const char *p, *end;
	size_t n, i;
	int r, found = 0;

	if (ct == NULL)
		return PARSE_MALFORMED;
	end = ct + strlen(ct);
	if ((p = memchr(ct, ';', end - ct)) == NULL)
		return PARSE_MALFORMED;
	while ((r = hparam_next(&p, end, &hp)) == 1) {
		if (!ci_eq(hp.key, hp.keylen, "boundary"))
			continue;
		if (found)
			return PARSE_MALFORMED;
		found = 1;
		n = hparam_value(&hp, b, BOUNDARY_MAX);
		if (n == 0 || n > BOUNDARY_MAX || b[n - 1] == ' ')
			return PARSE_MALFORMED;
		for (i = 0; i < n; i++)
			if (!is_bchar((unsigned char)b[i]))
				return PARSE_MALFORMED;
		*blen = n;
	}
	return r == 0 && found ? PARSE_OK : PARSE_MALFORMED;
}

/* What a part's header block said; pointers are into the body. */
struct part {
	struct hparam name;
	struct hparam filename;
	const char *ctype;
	size_t ctypelen;
	int has_disp, has_name, has_filename, has_ctype;
};

static int
part_disposition(const char *v, size_t n, struct part *pt)
{
	struct hparam hp;
	const char *p = v, *end = v + n;
	int r;

	while (p < end && is_tchar((unsigned char)*p))
		p++;
	if (!ci_eq(v, p - v, "form-data"))
		return PARSE_MALFORMED;
	while (p < end && is_ows((unsigned char)*p))
		p++;
	if (p < end && *p != ';')
		return PARSE_MALFORMED;
	while ((r = hparam_next(&p, end, &hp)) == 1) {
		/* Duplicates are ambiguous, hence hostile. */
		if (ci_eq(hp.key, hp.keylen, "name")) {
			if (pt->has_name)
				return PARSE_MALFORMED;
			pt->name = hp;
			pt->has_name = 1;
		} else if (ci_eq(hp.key, hp.keylen, "filename")) {
			if (pt->has_filename)
				return PARSE_MALFORMED;
			pt->filename = hp;
			pt->has_filename = 1;
		}
	}
	if (r == -1 || !pt->has_name)
		return PARSE_MALFORMED;
	return PARSE_OK;
}

/*
 * Parses a part's header lines h[0..n), each ending in CRLF. Only
 * Content-Disposition (required) and Content-Type are looked at; control
 * bytes, obsolete line folding and repeated headers are refused.
 */
static int
part_headers(const char *h, size_t n, struct part *pt)
{
	const char *line, *colon, *v, *crlf;
	size_t i = 0, llen, vlen, k;
	int rc;

	memset(pt, 0, sizeof(*pt));
	while (i < n) {
		line = h + i;
		crlf = memmem(line, n - i, "\r\n", 2);
		if (crlf == NULL)
			return PARSE_MALFORMED;
		llen = crlf - line;
		i += llen + 2;
		for (k = 0; k < llen; k++)
			if (is_ctl((unsigned char)line[k]) && line[k] != '\t')
				return PARSE_MALFORMED;
		if ((colon = memchr(line, ':', llen)) == NULL || colon == line)
			return PARSE_MALFORMED;
		for (k = 0; line + k < colon; k++)
			if (!is_tchar((unsigned char)line[k]))
				return PARSE_MALFORMED;
		v = colon + 1;
		vlen = llen - (v - line);
		while (vlen > 0 && is_ows((unsigned char)v[0])) {
			v++;
			vlen--;
		}
		while (vlen > 0 && is_ows((unsigned char)v[vlen - 1]))
			vlen--;
		if (ci_eq(line, colon - line, "content-disposition")) {
			if (pt->has_disp)
				return PARSE_MALFORMED;
			pt->has_disp = 1;
			if ((rc = part_disposition(v, vlen, pt)) != PARSE_OK)
				return rc;
		} else if (ci_eq(line, colon - line, "content-type")) {
			if (pt->has_ctype)
				return PARSE_MALFORMED;
			pt->has_ctype = 1;
			pt->ctype = v;
			pt->ctypelen = vlen;
		}
	}
	return pt->has_disp ? PARSE_OK : PARSE_MALFORMED;
}

/*
 * Text parts are copied so that their value is a C string like every other
 * parameter's. File parts (filename present) point into body and are not
 * NUL-terminated: uploads are binary anyway and may be large, and copying
 * them would count them against the arena cap twice.
 */
static int
part_add(struct arena *a, const struct part *pt, const char *name,
    size_t nlen, const char *data, size_t dlen, struct params *out)
{
	struct param item;

	memset(&item, 0, sizeof(item));
	if ((item.name = arena_strndup(a, name, nlen)) == NULL)
		return PARSE_NOMEM;
	if (pt->has_filename) {
		if ((item.filename = hparam_dup(a, &pt->filename)) == NULL)
			return PARSE_NOMEM;
		item.value = data;
	} else if ((item.value = arena_strndup(a, data, dlen)) == NULL)
		return PARSE_NOMEM;
	item.value_len = dlen;
	if (pt->has_ctype &&
	    (item.content_type = arena_strndup(a, pt->ctype, pt->ctypelen)) == NULL)
		return PARSE_NOMEM;
	if (params_add(a, out, &item) == -1)
		return PARSE_NOMEM;
	return PARSE_OK;
}

/*
 * memmem over h[0..n) in bounded, overlapping windows. glibc's memmem stops
 * at the first match, but sanitizer interceptors check the whole haystack
 * on every call, which made many small parts in a large body quadratic in
 * ASan and fuzzing builds. nl must be less than SEARCH_WINDOW.
 */
static const char *
find(const char *h, size_t n, const char *needle, size_t nl)
{
	const char *hit;
	size_t off = 0, w;

	for (;;) {
		w = n - off;
		if (w > SEARCH_WINDOW)
			w = SEARCH_WINDOW;
		if ((hit = memmem(h + off, w, needle, nl)) != NULL)
			return hit;
		if (off + w == n)
			return NULL;
		off += w - (nl - 1);
	}
}

/*
 * Every search starts where the previous one stopped and find() is
 * linear, so a body is scanned a bounded number of times whatever its shape.
 */
int
multipart_parse(struct arena *a, const char *content_type,
    const char *body, size_t len, struct params *out, size_t max_params)
{
	char delim[4 + BOUNDARY_MAX];	/* CRLF "--" boundary */
	char name[NAME_MAX_LEN];
	struct part pt;
	const char *hit;
	size_t n0 = out->n, added = 0, blen, dl, pos, hlen, win, data, nlen;
	int rc;

	if ((rc = boundary_parse(content_type, delim + 4, &blen)) != PARSE_OK)
		goto out;
	memcpy(delim, "\r\n--", 4);
	dl = 4 + blen;
	rc = PARSE_MALFORMED;
	if (body == NULL)
		goto out;

	/* The first delimiter may open the body; otherwise a preamble precedes it. */
	if (len >= dl - 2 && memcmp(body, delim + 2, dl - 2) == 0)
		pos = dl - 2;
	else if ((hit = find(body, len, delim, dl)) != NULL)
		pos = hit - body + dl;
	else
		goto out;

	for (;;) {
		/* pos is just past a delimiter: "--" closes, else padding and CRLF. */
		if (len - pos >= 2 && body[pos] == '-' && body[pos + 1] == '-')
			break;
		while (pos < len && is_ows((unsigned char)body[pos]))
			pos++;
		if (len - pos < 2 || body[pos] != '\r' || body[pos + 1] != '\n')
			goto out;
		pos += 2;

		/* Header block: lines up to an empty line, never more than the cap. */
		win = len - pos;
		if (win > PART_HEADER_MAX + 4)
			win = PART_HEADER_MAX + 4;
		if (win >= 2 && body[pos] == '\r' && body[pos + 1] == '\n')
			goto out;	/* no headers, so no Content-Disposition */
		if ((hit = memmem(body + pos, win, "\r\n\r\n", 4)) == NULL)
			goto out;
		hlen = hit - (body + pos) + 2;
		if ((rc = part_headers(body + pos, hlen, &pt)) != PARSE_OK)
			goto out;
		rc = PARSE_MALFORMED;
		data = pos + hlen + 2;

		if ((hit = find(body + data, len - data, delim, dl)) == NULL)
			goto out;
		nlen = hparam_value(&pt.name, name, sizeof(name));
		if (param_name_ok(name, nlen)) {
			if (added == max_params) {
				rc = PARSE_TOO_MANY;
				goto out;
			}
			if ((rc = part_add(a, &pt, name, nlen, body + data,
			    hit - (body + data), out)) != PARSE_OK)
				goto out;
			rc = PARSE_MALFORMED;
			added++;
		}
		pos = hit - body + dl;
	}
	rc = PARSE_OK;
out:
	if (rc != PARSE_OK)
		out->n = n0;
	return rc;
}

int
url_encode(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3];
	size_t i = 0, run, old = out->len;
	unsigned char c;
	int rc = -1;

	while (i < len) {
		for (run = 0; i + run < len &&
		    is_unreserved((unsigned char)s[i + run]); run++)
			;
		if (run > 0) {
			if (buf_add(out, s + i, run) == -1)
				goto out;
			i += run;
			continue;
		}
		c = (unsigned char)s[i++];
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 0x0f];
		if (buf_add(out, esc, sizeof(esc)) == -1)
			goto out;
	}
	rc = 0;
out:
	/* All or nothing, like buf_add itself. */
	if (rc == -1 && out->p != NULL) {
		out->len = old;
		out->p[old] = '\0';
	}
	return rc;
}
