/* spec.c: compile a feature spec once, then turn raw inputs into the booster's float vector. */
#include "spec.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUTS 1000
#define MAX_WIDTH 100000
#define MAX_NAME 64             /* input names */
#define MAX_CATEGORY 1024       /* bytes of one category or map key */
#define MAX_LABEL 256           /* bytes of one class label */
#define MAX_FORMAT 64           /* bytes of a datetime format */
#define QUOTE_MAX 64            /* bytes of user text echoed in a message */
#define ALLOWED_SHOWN 10        /* categories listed in an "unknown category" error */
#define ARENA_CAP ((size_t)512 << 20)

enum itype { IT_NUMBER, IT_INTEGER, IT_BOOLEAN, IT_CATEGORY, IT_DATETIME, IT_COUNT };
static const char *const itype_names[IT_COUNT] = {
	"number", "integer", "boolean", "category", "datetime"
};

enum unk { UNK_ERROR, UNK_MISSING, UNK_OTHER, UNK_COUNT };
static const char *const unk_names[UNK_COUNT] = { "error", "missing", "other" };

enum xform { TR_PASSTHROUGH, TR_ONE_HOT, TR_ORDINAL, TR_FREQUENCY, TR_DATETIME, TR_COUNT };
static const char *const xform_names[TR_COUNT] = {
	"passthrough", "one_hot", "ordinal", "frequency", "datetime"
};

enum part {
	P_YEAR, P_MONTH, P_DAY, P_HOUR, P_MINUTE_OF_DAY, P_DAY_OF_WEEK,
	P_DAY_OF_YEAR, P_IS_WEEKEND, P_COUNT
};
static const char *const part_names[P_COUNT] = {
	"year", "month", "day", "hour", "minute_of_day", "day_of_week",
	"day_of_year", "is_weekend"
};

/* A moment as local time of the input's declared zone. */
struct civil {
	int64_t y, days;        /* days since 1970-01-01 */
	int mo, d, h, mi, sec;
};

/* One input value after type checks. s may point into text, so a val is not copied. */
struct val {
	double num;             /* number, integer, boolean */
	const char *s;          /* category bytes */
	size_t len;
	struct civil t;         /* datetime */
	char text[40];          /* a category spelled from a JSON number */
};

/* A category of one feature: its column (one_hot) or map value; sorted by bytes. */
struct catent {
	const char *s;
	size_t len;
	size_t col;
	double v;
};

struct feature {
	size_t input;
	enum xform tr;
	size_t col, width;
	struct catent *sorted;
	const char **decl;      /* the categories in spec order, n + NULL */
	size_t n;
	unsigned char parts[P_COUNT];
	size_t nparts;
};

struct input {
	const char *name;
	enum itype type;
	int required;
	enum unk unknown;
	json_t *def;            /* owned copy, or NULL */
	struct val defval;
	const char *format;     /* datetime; NULL = ISO 8601 */
	int tzoff;              /* seconds east of UTC */
	size_t *feats, nfeats;  /* the features it feeds */
	const char *const *cats;        /* of its first category feature */
	size_t ncats;
	struct catent *known;   /* every category of its features, sorted, unique */
	const char **knowndecl; /* the same in spec order */
	size_t nknown;
};

struct byname {
	const char *name;
	size_t len, idx;
};

struct spec {
	struct arena *a;
	enum spec_task task;
	const char **classes;
	size_t nclasses;
	double threshold;
	struct input *in;
	size_t nin;
	struct byname *byname;  /* the inputs sorted by name */
	struct feature *f;
	size_t nf;
	size_t width;
	size_t *col_input;
	const char **col_name;
};

/*
 * Messages: a bounded writer that always leaves valid UTF-8 behind, even
 * when the buffer cuts a character in two.
 */
struct msg {
	char *p;
	size_t len, cap;
};

static size_t
utf8_seqlen(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return 2;
	if (c >= 0xE0 && c <= 0xEF)
		return 3;
	if (c >= 0xF0 && c <= 0xF4)
		return 4;
	return 0;
}

/* Drops a trailing incomplete character. */
static size_t
utf8_trim(const char *p, size_t len)
{
	size_t i = len;

	while (i > 0 && len - i < 4 && ((unsigned char)p[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return len;
	if (i - 1 + utf8_seqlen((unsigned char)p[i - 1]) > len)
		return i - 1;
	return len;
}

static void
msg_init(struct msg *m, char *p, size_t cap)
{
	m->p = p;
	m->cap = p == NULL ? 0 : cap;
	m->len = 0;
	if (m->cap > 0)
		p[0] = '\0';
}

static void PRINTF(2, 3)
msg_add(struct msg *m, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (m->cap == 0 || m->len + 1 >= m->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(m->p + m->len, m->cap - m->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= m->cap - m->len) {
		m->len = utf8_trim(m->p, m->cap - 1);
		m->p[m->len] = '\0';
	} else
		m->len += (size_t)n;
}

/*
 * Appends user text: at most QUOTE_MAX bytes, cut on a character boundary;
 * invalid bytes and control characters become '?'.
 */
static void
msg_text(struct msg *m, const char *s, size_t len)
{
	char q[QUOTE_MAX + 8];
	size_t i = 0, o = 0, k;

	while (i < len) {
		k = utf8_seqlen((unsigned char)s[i]);
		if (k == 0 || k > len - i || !utf8_valid(s + i, k) ||
		    (k == 1 && ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)))
			k = 0;
		if (o + (k ? k : 1) > QUOTE_MAX) {
			memcpy(q + o, "\xe2\x80\xa6", 3);   /* … */
			o += 3;
			break;
		}
		if (k == 0) {
			q[o++] = '?';
			i++;
		} else {
			memcpy(q + o, s + i, k);
			o += k;
			i += k;
		}
	}
	msg_add(m, "%.*s", (int)o, q);
}

/* Appends a short description of a JSON value for "got ..." */
static void
msg_got(struct msg *m, json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_STRING:
		msg_add(m, ", got '");
		msg_text(m, json_string_value(j), json_string_length(j));
		msg_add(m, "'");
		break;
	case JSON_INTEGER:
		msg_add(m, ", got %" JSON_INTEGER_FORMAT, json_integer_value(j));
		break;
	case JSON_REAL:
		msg_add(m, ", got %g", json_real_value(j));
		break;
	case JSON_TRUE:
		msg_add(m, ", got true");
		break;
	case JSON_FALSE:
		msg_add(m, ", got false");
		break;
	case JSON_ARRAY:
		msg_add(m, ", got an array");
		break;
	case JSON_OBJECT:
		msg_add(m, ", got an object");
		break;
	case JSON_NULL:
		break;
	}
}

/* Calendar arithmetic (proleptic Gregorian; H. Hinnant's days_from_civil). */
static int
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int64_t y, int mo)
{
	static const int n[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return mo == 2 && is_leap(y) ? 29 : n[mo - 1];
}

static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, struct civil *c)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	c->d = (int)(doy - (153 * mp + 2) / 5 + 1);
	c->mo = (int)(mp < 10 ? mp + 3 : mp - 9);
	c->y = yoe + era * 400 + (c->mo <= 2);
}

static double
part_value(const struct civil *c, enum part p)
{
	int64_t dow = ((c->days % 7) + 7 + 3) % 7;      /* 1970-01-01 was a Thursday */

	switch (p) {
	case P_YEAR: return (double)c->y;
	case P_MONTH: return c->mo;
	case P_DAY: return c->d;
	case P_HOUR: return c->h;
	case P_MINUTE_OF_DAY: return c->h * 60 + c->mi;
	case P_DAY_OF_WEEK: return (double)dow;
	case P_DAY_OF_YEAR: return (double)(c->days - days_from_civil(c->y, 1, 1) + 1);
	case P_IS_WEEKEND: return dow >= 5;
	case P_COUNT: break;
	}
	return NAN;
}

/* Reads 1..max digits (exactly max when exact); -1 when there are none. */
static int
digits(const char *s, size_t len, size_t *i, int max, int exact)
{
	int v = 0, n = 0;

	while (n < max && *i < len && s[*i] >= '0' && s[*i] <= '9') {
		v = v * 10 + (s[*i] - '0');
		(*i)++;
		n++;
	}
	if (n == 0 || (exact && n != max))
		return -1;
	return v;
}

/* "Z", "+HH:MM" or "+HHMM" → seconds east of UTC; -1 on garbage. */
static int
offset(const char *s, size_t len, size_t *i, int *off)
{
	int sign, h, mi;

	if (*i < len && (s[*i] == 'Z' || s[*i] == 'z')) {
		(*i)++;
		*off = 0;
		return 0;
	}
	if (*i >= len || (s[*i] != '+' && s[*i] != '-'))
		return -1;
	sign = s[(*i)++] == '-' ? -1 : 1;
	if ((h = digits(s, len, i, 2, 1)) == -1)
		return -1;
	if (*i < len && s[*i] == ':')
		(*i)++;
	if ((mi = digits(s, len, i, 2, 1)) == -1 || h > 23 || mi > 59)
		return -1;
	*off = sign * (h * 3600 + mi * 60);
	return 0;
}

/*
 * Parses a datetime with fmt (NULL = ISO 8601) and converts it into the
 * zone tzoff. 0, or -1 when the text does not match or names no real moment.
 */
static int
parse_datetime(const char *fmt, int tzoff, const char *s, size_t len, struct civil *c)
{
	int y = -1, mo = -1, d = -1, h = 0, mi = 0, sec = 0, off = 0, has_off = 0;
	size_t i = 0;
	int64_t t;

	if (fmt == NULL) {
		if ((y = digits(s, len, &i, 4, 1)) == -1 || i >= len || s[i++] != '-' ||
		    (mo = digits(s, len, &i, 2, 1)) == -1 || i >= len || s[i++] != '-' ||
		    (d = digits(s, len, &i, 2, 1)) == -1)
			return -1;
		if (i < len) {
			if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
				return -1;
			i++;
			if ((h = digits(s, len, &i, 2, 1)) == -1 || i >= len ||
			    s[i++] != ':' || (mi = digits(s, len, &i, 2, 1)) == -1)
				return -1;
			if (i < len && s[i] == ':') {
				i++;
				if ((sec = digits(s, len, &i, 2, 1)) == -1)
					return -1;
				if (i < len && s[i] == '.') {
					size_t start = ++i;

					while (i < len && s[i] >= '0' && s[i] <= '9')
						i++;
					if (i == start)
						return -1;
				}
			}
			if (i < len) {
				if (offset(s, len, &i, &off) == -1)
					return -1;
				has_off = 1;
			}
		}
	} else {
		for (const char *f = fmt; *f != '\0'; f++) {
			int r = 0;

			if (*f != '%') {
				if (i >= len || s[i++] != *f)
					return -1;
				continue;
			}
			switch (*++f) {
			case 'Y': r = y = digits(s, len, &i, 4, 1); break;
			case 'm': r = mo = digits(s, len, &i, 2, 0); break;
			case 'd': r = d = digits(s, len, &i, 2, 0); break;
			case 'H': r = h = digits(s, len, &i, 2, 0); break;
			case 'M': r = mi = digits(s, len, &i, 2, 0); break;
			case 'S': r = sec = digits(s, len, &i, 2, 0); break;
			case 'T':
				if ((h = digits(s, len, &i, 2, 0)) == -1 || i >= len ||
				    s[i++] != ':' || (mi = digits(s, len, &i, 2, 0)) == -1 ||
				    i >= len || s[i++] != ':')
					return -1;
				r = sec = digits(s, len, &i, 2, 0);
				break;
			case 'F':
				if ((y = digits(s, len, &i, 4, 1)) == -1 || i >= len ||
				    s[i++] != '-' || (mo = digits(s, len, &i, 2, 0)) == -1 ||
				    i >= len || s[i++] != '-')
					return -1;
				r = d = digits(s, len, &i, 2, 0);
				break;
			case 'z':
				r = offset(s, len, &i, &off);
				has_off = 1;
				break;
			case '%':
				if (i >= len || s[i++] != '%')
					return -1;
				break;
			default:        /* rejected when the spec was compiled */
				return -1;
			}
			if (r == -1)
				return -1;
		}
	}
	if (i != len || y < 0 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) ||
	    h > 23 || mi > 59 || sec > 59)
		return -1;
	c->y = y;
	c->mo = mo;
	c->d = d;
	c->h = h;
	c->mi = mi;
	c->sec = sec;
	c->days = days_from_civil(y, mo, d);
	if (has_off) {
		t = c->days * 86400 + h * 3600 + mi * 60 + sec - off + tzoff;
		c->days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
		t -= c->days * 86400;
		c->h = (int)(t / 3600);
		c->mi = (int)(t / 60 % 60);
		c->sec = (int)(t % 60);
		civil_from_days(c->days, c);
	}
	return 0;
}

/* Category lookup: binary search over the feature's sorted categories. */
static int
catcmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int r = memcmp(a, b, alen < blen ? alen : blen);

	if (r != 0)
		return r;
	return alen < blen ? -1 : alen > blen;
}

static int
catent_cmp(const void *a, const void *b)
{
	const struct catent *x = a, *y = b;

	return catcmp(x->s, x->len, y->s, y->len);
}

static const struct catent *
cat_find(const struct catent *sorted, size_t n, const char *s, size_t len)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = catcmp(s, len, sorted[mid].s, sorted[mid].len);

		if (r == 0)
			return &sorted[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static long
input_find(const struct spec *s, const char *name, size_t len)
{
	size_t lo = 0, hi = s->nin;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct byname *b = &s->byname[mid];
		int r = catcmp(name, len, b->name, b->len);

		if (r == 0)
			return (long)b->idx;
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* Writes a JSON number as the text a category would have: 90210 → "90210". */
void
spec_number_text(json_t *j, char *buf, size_t size)
{
	double d;

	if (json_is_integer(j)) {
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		return;
	}
	d = json_real_value(j);
	if (d == floor(d) && fabs(d) < 9007199254740992.0) {
		snprintf(buf, size, "%lld", (long long)d);
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			return;
	}
}

/* A JSON string holding a number: only [0-9+-.eE], so no "nan", "inf" or hex. */
static int
string_number(const char *s, size_t len, double *d)
{
	char tmp[64], *end;

	if (len == 0 || len >= sizeof(tmp) || strspn(s, "0123456789+-.eE") < len ||
	    (s[0] != '-' && s[0] != '.' && (s[0] < '0' || s[0] > '9')))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	*d = strtod(tmp, &end);   /* underflow to 0 is fine, overflow is inf */
	if (*end != '\0' || !isfinite(*d))
		return -1;
	return 0;
}

/*
 * One raw value → v, checked against the input's type. 0, or -1 with a
 * message naming the field.
 */
static int
resolve(const struct input *in, json_t *j, struct val *v, struct msg *m)
{
	const char *str = json_is_string(j) ? json_string_value(j) : NULL;
	size_t len = str != NULL ? json_string_length(j) : 0;
	double d;

	switch (in->type) {
	case IT_NUMBER:
		if (json_is_number(j))
			d = json_number_value(j);
		else if (str == NULL || string_number(str, len, &d) == -1)
			goto bad;
		if (!isfinite(d) || fabs(d) > FLT_MAX) {
			msg_add(m, "field '%s': expected a number between -3.4e38 and 3.4e38",
			    in->name);
			msg_got(m, j);
			return -1;
		}
		v->num = d;
		return 0;
	case IT_INTEGER:
		if (json_is_integer(j)) {
			v->num = (double)json_integer_value(j);
			return 0;
		}
		if (json_is_real(j)) {
			d = json_real_value(j);
			if (d != floor(d))
				goto bad;
			if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
				goto range;
			v->num = d;
			return 0;
		}
		if (str != NULL) {
			size_t neg = len > 0 && str[0] == '-', z = neg;
			char tmp[24], *end;

			if (len == neg || strspn(str + neg, "0123456789") != len - neg)
				goto bad;
			while (z < len - 1 && str[z] == '0')
				z++;
			if (len - z > 19)
				goto range;
			snprintf(tmp, sizeof(tmp), "%s%.*s", neg ? "-" : "", (int)(len - z),
			    str + z);
			errno = 0;
			v->num = (double)strtoll(tmp, &end, 10);
			if (errno == ERANGE)
				goto range;
			return 0;
		}
		goto bad;
	case IT_BOOLEAN:
		if (json_is_boolean(j))
			v->num = json_is_true(j);
		else if (json_is_number(j) && (json_number_value(j) == 0 ||
		    json_number_value(j) == 1))
			v->num = json_number_value(j);
		else if (str != NULL && ((len == 4 && !memcmp(str, "true", 4)) ||
		    (len == 1 && str[0] == '1')))
			v->num = 1;
		else if (str != NULL && ((len == 5 && !memcmp(str, "false", 5)) ||
		    (len == 1 && str[0] == '0')))
			v->num = 0;
		else
			goto bad;
		return 0;
	case IT_CATEGORY:
		if (json_is_number(j)) {
			spec_number_text(j, v->text, sizeof(v->text));
			v->s = v->text;
			v->len = strlen(v->text);
			return 0;
		}
		if (str == NULL)
			goto bad;
		if (!utf8_valid(str, len)) {
			msg_add(m, "field '%s': expected valid UTF-8 text without NUL bytes",
			    in->name);
			return -1;
		}
		v->s = str;
		v->len = len;
		return 0;
	case IT_DATETIME:
		if (str == NULL || parse_datetime(in->format, in->tzoff, str, len, &v->t) == -1)
			goto bad;
		return 0;
	case IT_COUNT:
		break;
	}
bad:
	switch (in->type) {
	case IT_NUMBER: msg_add(m, "field '%s': expected a number", in->name); break;
	case IT_INTEGER: msg_add(m, "field '%s': expected an integer", in->name); break;
	case IT_BOOLEAN:
		msg_add(m, "field '%s': expected true or false", in->name);
		break;
	case IT_CATEGORY:
		msg_add(m, "field '%s': expected a string", in->name);
		break;
	case IT_DATETIME:
		if (in->format != NULL)
			msg_add(m, "field '%s': expected a datetime like '%s'", in->name,
			    in->format);
		else
			msg_add(m, "field '%s': expected an ISO 8601 datetime like "
			    "'2024-10-02T09:00:00Z'", in->name);
		break;
	case IT_COUNT:
		break;
	}
	msg_got(m, j);
	return -1;
range:
	msg_add(m, "field '%s': integer out of range", in->name);
	msg_got(m, j);
	return -1;
}

static void
fill(float *o, size_t n, float x)
{
	for (size_t k = 0; k < n; k++)
		o[k] = x;
}

static void
unknown_category(const struct input *in, const struct val *v, struct msg *m)
{
	size_t shown = in->nknown < ALLOWED_SHOWN ? in->nknown : ALLOWED_SHOWN;

	msg_add(m, "field '%s': unknown category '", in->name);
	msg_text(m, v->s, v->len);
	msg_add(m, "'; allowed: ");
	for (size_t k = 0; k < shown; k++) {
		msg_add(m, "%s'", k > 0 ? ", " : "");
		msg_text(m, in->knowndecl[k], strlen(in->knowndecl[k]));
		msg_add(m, "'");
	}
	if (in->nknown > shown)
		msg_add(m, " \xe2\x80\xa6 and %zu more", in->nknown - shown);
}

/*
 * Writes every column input feeds; v NULL = missing. A category is unknown
 * when none of the input's features lists it; one a feature does not list
 * but another does gives zeros in that feature's one_hot columns and NaN
 * for ordinal and frequency.
 */
static int
apply(const struct spec *s, const struct input *in, const struct val *v, float *out,
    struct msg *m)
{
	int known = 1;

	if (v != NULL && in->type == IT_CATEGORY && in->nknown > 0 &&
	    cat_find(in->known, in->nknown, v->s, v->len) == NULL) {
		if (in->unknown == UNK_ERROR) {
			unknown_category(in, v, m);
			return -1;
		}
		known = 0;
	}
	for (size_t k = 0; k < in->nfeats; k++) {
		const struct feature *f = &s->f[in->feats[k]];
		float *o = out + f->col;
		const struct catent *e;

		if (v == NULL) {
			fill(o, f->width, NAN);
			continue;
		}
		switch (f->tr) {
		case TR_PASSTHROUGH:
			o[0] = (float)v->num;
			break;
		case TR_ONE_HOT:
			if ((e = cat_find(f->sorted, f->n, v->s, v->len)) != NULL) {
				fill(o, f->width, 0);
				o[e->col] = 1;
			} else if (in->unknown == UNK_OTHER) {
				fill(o, f->width, 0);
				o[f->width - 1] = 1;
			} else
				fill(o, f->width, known ? 0 : NAN);
			break;
		case TR_ORDINAL:
		case TR_FREQUENCY:
			e = cat_find(f->sorted, f->n, v->s, v->len);
			o[0] = e != NULL ? (float)e->v : NAN;
			break;
		case TR_DATETIME:
			for (size_t p = 0; p < f->nparts; p++)
				o[p] = (float)part_value(&v->t, (enum part)f->parts[p]);
			break;
		case TR_COUNT:
			break;
		}
	}
	return 0;
}

/* A typed value as spec_read hands it out; the category text is copied when it was spelled from a number. */
static void
export_value(const struct input *in, const struct val *v, struct spec_value *sv)
{
	memset(sv, 0, sizeof(*sv));
	if (v == NULL)
		return;
	sv->present = 1;
	sv->num = v->num;
	if (in->type == IT_CATEGORY) {
		if (v->s == v->text) {
			memcpy(sv->text, v->text, sizeof(sv->text));
			sv->s = sv->text;
		} else
			sv->s = v->s;
		sv->len = v->len;
	} else if (in->type == IT_DATETIME)
		sv->num = (double)v->t.days * 86400 + v->t.h * 3600 + v->t.mi * 60 + v->t.sec;
}

/*
 * The one reading of a row: spec_transform and spec_read. out NULL: no
 * columns, but every check (types, required, unknown-category policy
 * "error") still runs. vals NULL: no typed values handed out.
 */
static int
read_row(const struct spec *s, json_t *inputs, int lax, float *out,
    struct spec_value *vals, char *err, size_t errlen)
{
	struct msg m;
	struct val tmp;
	const struct val *v;
	void *it;

	msg_init(&m, err, errlen);
	if (!json_is_object(inputs)) {
		msg_add(&m, "field 'inputs': expected a JSON object");
		return -1;
	}
	if (!lax)
		for (it = json_object_iter(inputs); it != NULL;
		    it = json_object_iter_next(inputs, it)) {
			const char *key = json_object_iter_key(it);
			size_t klen = json_object_iter_key_len(it);

			if (input_find(s, key, klen) == -1) {
				msg_add(&m, "unknown field '");
				msg_text(&m, key, klen);
				msg_add(&m, "'");
				return -1;
			}
		}
	for (size_t i = 0; i < s->nin; i++) {
		const struct input *in = &s->in[i];
		json_t *j = json_object_get(inputs, in->name);

		if (j == NULL || json_is_null(j)) {
			if (in->def != NULL)
				v = &in->defval;
			else if (in->required) {
				msg_add(&m, "field '%s': required", in->name);
				return -1;
			} else
				v = NULL;
		} else {
			if (resolve(in, j, &tmp, &m) == -1)
				return -1;
			v = &tmp;
		}
		if (out != NULL) {
			if (apply(s, in, v, out, &m) == -1)
				return -1;
		} else if (v != NULL && in->type == IT_CATEGORY && in->nknown > 0 &&
		    in->unknown == UNK_ERROR &&
		    cat_find(in->known, in->nknown, v->s, v->len) == NULL) {
			unknown_category(in, v, &m);
			return -1;
		}
		if (vals != NULL)
			export_value(in, v, &vals[i]);
	}
	return 0;
}

int
spec_transform(const struct spec *s, json_t *inputs, int lax, float *out, char *err,
    size_t errlen)
{
	return read_row(s, inputs, lax, out, NULL, err, errlen);
}

int
spec_read(const struct spec *s, json_t *inputs, int lax, float *out,
    struct spec_value *vals, char *err, size_t errlen)
{
	return read_row(s, inputs, lax, out, vals, err, errlen);
}

/* Spec compilation. */

static void PRINTF(3, 4)
serr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n >= errlen)
		err[utf8_trim(err, errlen - 1)] = '\0';
}

/* Rejects keys outside allowed (NULL-terminated). */
static int
check_keys(json_t *o, const char *const *allowed, const char *where, char *err,
    size_t errlen)
{
	const char *key;
	json_t *val;

	json_object_foreach(o, key, val) {
		size_t k;

		for (k = 0; allowed[k] != NULL; k++)
			if (strcmp(key, allowed[k]) == 0)
				break;
		if (allowed[k] == NULL) {
			struct msg m;

			msg_init(&m, err, errlen);
			msg_add(&m, "spec: %sunknown key '", where);
			msg_text(&m, key, strlen(key));
			msg_add(&m, "'");
			return -1;
		}
		if (strcmp(key, "description") == 0 && !json_is_string(val)) {
			serr(err, errlen, "spec: %sdescription: expected a string", where);
			return -1;
		}
	}
	return 0;
}

static int
lookup_name(const char *const *names, size_t n, json_t *j)
{
	if (!json_is_string(j))
		return -1;
	for (size_t k = 0; k < n; k++)
		if (strcmp(json_string_value(j), names[k]) == 0 &&
		    strlen(names[k]) == json_string_length(j))
			return (int)k;
	return -1;
}

static int
valid_name(const char *s, size_t len)
{
	if (len == 0 || len > MAX_NAME)
		return 0;
	if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	for (size_t k = 1; k < len; k++)
		if (!((s[k] >= 'A' && s[k] <= 'Z') || (s[k] >= 'a' && s[k] <= 'z') ||
		    (s[k] >= '0' && s[k] <= '9') || s[k] == '_' || s[k] == '.' || s[k] == '-'))
			return 0;
	return 1;
}

/* "UTC", "+HH:MM" or "-HH:MM" → seconds east of UTC. */
static int
parse_tz(const char *s, int *off)
{
	size_t i = 0, len = strlen(s);

	if (strcmp(s, "UTC") == 0) {
		*off = 0;
		return 0;
	}
	if (len != 6 || s[3] != ':' || s[0] == 'Z' || s[0] == 'z' ||
	    offset(s, len, &i, off) == -1 || i != len)
		return -1;
	return 0;
}

static int
check_format(const char *f)
{
	int y = 0, mo = 0, d = 0;

	for (; *f != '\0'; f++) {
		if (*f != '%')
			continue;
		switch (*++f) {
		case 'Y': y = 1; break;
		case 'm': mo = 1; break;
		case 'd': d = 1; break;
		case 'F': y = mo = d = 1; break;
		case 'H': case 'M': case 'S': case 'z': case 'T': case '%': break;
		default: return -1;
		}
	}
	return y && mo && d ? 0 : -1;
}

static int
parse_input(struct spec *s, json_t *j, size_t idx, enum unk defunk, char *err,
    size_t errlen)
{
	static const char *const keys[] = { "name", "type", "required", "default",
	    "unknown", "format", "timezone", "description", NULL };
	struct input *in = &s->in[idx];
	json_t *v;
	char where[48];
	int t;

	snprintf(where, sizeof(where), "inputs[%zu]: ", idx);
	if (!json_is_object(j)) {
		serr(err, errlen, "spec: %sexpected an object", where);
		return -1;
	}
	if (check_keys(j, keys, where, err, errlen) == -1)
		return -1;
	v = json_object_get(j, "name");
	if (!json_is_string(v) || !valid_name(json_string_value(v), json_string_length(v))) {
		serr(err, errlen, "spec: %sname: expected a name matching "
		    "[A-Za-z_][A-Za-z0-9_.-]{0,63}", where);
		return -1;
	}
	if ((in->name = arena_strdup(s->a, json_string_value(v))) == NULL)
		goto nomem;
	snprintf(where, sizeof(where), "inputs[%zu] '%s': ", idx, in->name);
	if ((t = lookup_name(itype_names, IT_COUNT, json_object_get(j, "type"))) == -1) {
		serr(err, errlen, "spec: %stype: expected number, integer, boolean, "
		    "category or datetime", where);
		return -1;
	}
	in->type = (enum itype)t;
	v = json_object_get(j, "required");
	if (v != NULL && !json_is_boolean(v)) {
		serr(err, errlen, "spec: %srequired: expected true or false", where);
		return -1;
	}
	in->required = json_is_true(v);
	in->unknown = defunk;
	if ((v = json_object_get(j, "unknown")) != NULL) {
		if (in->type != IT_CATEGORY) {
			serr(err, errlen, "spec: %sunknown: only for category inputs", where);
			return -1;
		}
		if ((t = lookup_name(unk_names, UNK_COUNT, v)) == -1) {
			serr(err, errlen, "spec: %sunknown: expected error, missing or other",
			    where);
			return -1;
		}
		in->unknown = (enum unk)t;
	}
	if ((v = json_object_get(j, "format")) != NULL) {
		if (in->type != IT_DATETIME) {
			serr(err, errlen, "spec: %sformat: only for datetime inputs", where);
			return -1;
		}
		if (!json_is_string(v) || json_string_length(v) > MAX_FORMAT ||
		    !utf8_valid(json_string_value(v), json_string_length(v)) ||
		    check_format(json_string_value(v)) == -1) {
			serr(err, errlen, "spec: %sformat: expected a format of at most %d bytes "
			    "with %%Y, %%m and %%d (or %%F) and only %%H %%M %%S %%z %%T %%%%",
			    where, MAX_FORMAT);
			return -1;
		}
		if ((in->format = arena_strdup(s->a, json_string_value(v))) == NULL)
			goto nomem;
	}
	if ((v = json_object_get(j, "timezone")) != NULL) {
		if (in->type != IT_DATETIME) {
			serr(err, errlen, "spec: %stimezone: only for datetime inputs", where);
			return -1;
		}
		if (!json_is_string(v) || parse_tz(json_string_value(v), &in->tzoff) == -1) {
			serr(err, errlen, "spec: %stimezone: expected \"UTC\", \"+HH:MM\" or "
			    "\"-HH:MM\"", where);
			return -1;
		}
	}
	if ((v = json_object_get(j, "default")) != NULL) {
		struct msg m;
		char why[256];

		if (in->required) {
			serr(err, errlen, "spec: %sdefault: not allowed on a required input",
			    where);
			return -1;
		}
		if (json_is_null(v)) {
			serr(err, errlen, "spec: %sdefault: must not be null", where);
			return -1;
		}
		msg_init(&m, why, sizeof(why));
		if (resolve(in, v, &in->defval, &m) == -1) {
			serr(err, errlen, "spec: %sdefault: %s", where, why);
			return -1;
		}
		if ((in->def = json_deep_copy(v)) == NULL)
			goto nomem;
		if (in->type == IT_CATEGORY && in->defval.s != in->defval.text) {
			/* Point into our own copy, not the caller's JSON. */
			in->defval.s = json_string_value(in->def);
		}
	}
	return 0;
nomem:
	serr(err, errlen, "spec: out of memory");
	return -1;
}

/* Stores a category (a string from the spec) into f->decl/f->sorted at k. */
static int
add_category(struct spec *s, struct feature *f, size_t k, const char *str, size_t len,
    double v, const char *where, char *err, size_t errlen)
{
	char *c;

	if (len > MAX_CATEGORY || !utf8_valid(str, len)) {
		serr(err, errlen, "spec: %sexpected categories of valid UTF-8 text without NUL "
		    "of at most %d bytes", where, MAX_CATEGORY);
		return -1;
	}
	if ((c = arena_strndup(s->a, str, len)) == NULL) {
		serr(err, errlen, "spec: out of memory");
		return -1;
	}
	f->decl[k] = c;
	f->sorted[k].s = c;
	f->sorted[k].len = len;
	f->sorted[k].col = k;
	f->sorted[k].v = v;
	return 0;
}

static int
sort_categories(struct feature *f, const char *where, char *err, size_t errlen)
{
	qsort(f->sorted, f->n, sizeof(f->sorted[0]), catent_cmp);
	for (size_t k = 1; k < f->n; k++)
		if (catent_cmp(&f->sorted[k - 1], &f->sorted[k]) == 0) {
			struct msg m;

			msg_init(&m, err, errlen);
			msg_add(&m, "spec: %sduplicate category '", where);
			msg_text(&m, f->sorted[k].s, f->sorted[k].len);
			msg_add(&m, "'");
			return -1;
		}
	return 0;
}

static int
parse_feature(struct spec *s, json_t *j, size_t idx, char *err, size_t errlen)
{
	static const char *const keys[] = { "input", "transform", "categories", "map",
	    "parts", "description", NULL };
	struct feature *f = &s->f[idx];
	const struct input *in;
	json_t *v, *cats, *map, *parts;
	char where[48];
	long i;
	int t;

	snprintf(where, sizeof(where), "features[%zu]: ", idx);
	if (!json_is_object(j)) {
		serr(err, errlen, "spec: %sexpected an object", where);
		return -1;
	}
	if (check_keys(j, keys, where, err, errlen) == -1)
		return -1;
	v = json_object_get(j, "input");
	if (!json_is_string(v) || (i = input_find(s, json_string_value(v),
	    json_string_length(v))) == -1) {
		struct msg m;

		msg_init(&m, err, errlen);
		msg_add(&m, "spec: %sinput: expected the name of an input", where);
		if (json_is_string(v)) {
			msg_add(&m, "; there is no input '");
			msg_text(&m, json_string_value(v), json_string_length(v));
			msg_add(&m, "'");
		}
		return -1;
	}
	f->input = (size_t)i;
	in = &s->in[i];
	f->tr = TR_PASSTHROUGH;
	if ((v = json_object_get(j, "transform")) != NULL) {
		if ((t = lookup_name(xform_names, TR_COUNT, v)) == -1) {
			serr(err, errlen, "spec: %stransform: expected passthrough, one_hot, "
			    "ordinal, frequency or datetime", where);
			return -1;
		}
		f->tr = (enum xform)t;
	}
	switch (f->tr) {
	case TR_PASSTHROUGH:
		if (in->type == IT_NUMBER || in->type == IT_INTEGER || in->type == IT_BOOLEAN)
			break;
		serr(err, errlen, "spec: %stransform 'passthrough' needs a number, integer "
		    "or boolean input, '%s' is %s", where, in->name, itype_names[in->type]);
		return -1;
	case TR_ONE_HOT:
	case TR_ORDINAL:
	case TR_FREQUENCY:
		if (in->type == IT_CATEGORY)
			break;
		serr(err, errlen, "spec: %stransform '%s' needs a category input, '%s' is %s",
		    where, xform_names[f->tr], in->name, itype_names[in->type]);
		return -1;
	case TR_DATETIME:
		if (in->type == IT_DATETIME)
			break;
		serr(err, errlen, "spec: %stransform 'datetime' needs a datetime input, "
		    "'%s' is %s", where, in->name, itype_names[in->type]);
		return -1;
	case TR_COUNT:
		break;
	}
	cats = json_object_get(j, "categories");
	map = json_object_get(j, "map");
	parts = json_object_get(j, "parts");
	if (cats != NULL && f->tr != TR_ONE_HOT) {
		serr(err, errlen, "spec: %scategories: only for one_hot", where);
		return -1;
	}
	if (map != NULL && f->tr != TR_ORDINAL && f->tr != TR_FREQUENCY) {
		serr(err, errlen, "spec: %smap: only for ordinal and frequency", where);
		return -1;
	}
	if (parts != NULL && f->tr != TR_DATETIME) {
		serr(err, errlen, "spec: %sparts: only for datetime", where);
		return -1;
	}
	f->width = 1;
	if (f->tr == TR_ONE_HOT) {
		size_t k;
		json_t *c;

		if (!json_is_array(cats) || json_array_size(cats) == 0 ||
		    json_array_size(cats) > MAX_WIDTH) {
			serr(err, errlen, "spec: %scategories: expected a non-empty list of "
			    "strings", where);
			return -1;
		}
		f->n = json_array_size(cats);
		if ((f->decl = arena_alloc(s->a, (f->n + 1) * sizeof(*f->decl))) == NULL ||
		    (f->sorted = arena_alloc(s->a, f->n * sizeof(*f->sorted))) == NULL)
			goto nomem;
		json_array_foreach(cats, k, c) {
			if (!json_is_string(c)) {
				serr(err, errlen, "spec: %scategories[%zu]: expected a string",
				    where, k);
				return -1;
			}
			if (add_category(s, f, k, json_string_value(c), json_string_length(c),
			    0, where, err, errlen) == -1)
				return -1;
		}
		f->width = f->n + (in->unknown == UNK_OTHER);
	} else if (f->tr == TR_ORDINAL || f->tr == TR_FREQUENCY) {
		void *it;
		size_t k = 0;

		if (!json_is_object(map) || json_object_size(map) == 0) {
			serr(err, errlen, "spec: %smap: expected a non-empty object of "
			    "category: number", where);
			return -1;
		}
		f->n = json_object_size(map);
		if ((f->decl = arena_alloc(s->a, (f->n + 1) * sizeof(*f->decl))) == NULL ||
		    (f->sorted = arena_alloc(s->a, f->n * sizeof(*f->sorted))) == NULL)
			goto nomem;
		for (it = json_object_iter(map); it != NULL && k < f->n;
		    it = json_object_iter_next(map, it), k++) {
			json_t *c = json_object_iter_value(it);
			double d;

			if (!json_is_number(c) || !isfinite(d = json_number_value(c)) ||
			    fabs(d) > FLT_MAX) {
				struct msg m;

				msg_init(&m, err, errlen);
				msg_add(&m, "spec: %smap: the value of '", where);
				msg_text(&m, json_object_iter_key(it), json_object_iter_key_len(it));
				msg_add(&m, "' is not a number");
				return -1;
			}
			if (add_category(s, f, k, json_object_iter_key(it),
			    json_object_iter_key_len(it), d, where, err, errlen) == -1)
				return -1;
		}
	} else if (f->tr == TR_DATETIME) {
		size_t k;
		json_t *p;

		if (!json_is_array(parts) || json_array_size(parts) == 0 ||
		    json_array_size(parts) > P_COUNT) {
			serr(err, errlen, "spec: %sparts: expected a list of 1 to %d parts",
			    where, P_COUNT);
			return -1;
		}
		json_array_foreach(parts, k, p) {
			if ((t = lookup_name(part_names, P_COUNT, p)) == -1) {
				serr(err, errlen, "spec: %sparts[%zu]: expected year, month, day, "
				    "hour, minute_of_day, day_of_week, day_of_year or is_weekend",
				    where, k);
				return -1;
			}
			for (size_t q = 0; q < k; q++)
				if (f->parts[q] == t) {
					serr(err, errlen, "spec: %sparts[%zu]: duplicate part '%s'",
					    where, k, part_names[t]);
					return -1;
				}
			f->parts[k] = (unsigned char)t;
		}
		f->nparts = json_array_size(parts);
		f->width = f->nparts;
	}
	if (f->n > 0 && sort_categories(f, where, err, errlen) == -1)
		return -1;
	if (s->width + f->width > MAX_WIDTH) {
		serr(err, errlen, "spec: %sthe features produce more than %d columns", where,
		    MAX_WIDTH);
		return -1;
	}
	f->col = s->width;
	s->width += f->width;
	return 0;
nomem:
	serr(err, errlen, "spec: out of memory");
	return -1;
}

static int
byname_cmp(const void *a, const void *b)
{
	const struct byname *x = a, *y = b;

	return catcmp(x->name, x->len, y->name, y->len);
}

static int
parse_classes(struct spec *s, json_t *j, char *err, size_t errlen)
{
	json_t *c = json_object_get(j, "classes");
	size_t k;
	json_t *v;

	if (s->task == SPEC_REGRESSION) {
		if (c != NULL) {
			serr(err, errlen, "spec: classes: not allowed for task 'regression'");
			return -1;
		}
		return 0;
	}
	if (!json_is_array(c) || json_array_size(c) < 2 ||
	    (s->task == SPEC_BINARY && json_array_size(c) != 2) ||
	    json_array_size(c) > MAX_WIDTH) {
		serr(err, errlen, "spec: classes: expected a list of %s class labels",
		    s->task == SPEC_BINARY ? "exactly 2" : "at least 2");
		return -1;
	}
	s->nclasses = json_array_size(c);
	if ((s->classes = arena_alloc(s->a, s->nclasses * sizeof(*s->classes))) == NULL) {
		serr(err, errlen, "spec: out of memory");
		return -1;
	}
	json_array_foreach(c, k, v) {
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > MAX_LABEL ||
		    !utf8_valid(json_string_value(v), json_string_length(v))) {
			serr(err, errlen, "spec: classes[%zu]: expected a non-empty string of at "
			    "most %d bytes", k, MAX_LABEL);
			return -1;
		}
		for (size_t q = 0; q < k; q++)
			if (strcmp(s->classes[q], json_string_value(v)) == 0) {
				struct msg m;

				msg_init(&m, err, errlen);
				msg_add(&m, "spec: classes[%zu]: duplicate label '", k);
				msg_text(&m, json_string_value(v), json_string_length(v));
				msg_add(&m, "'");
				return -1;
			}
		if ((s->classes[k] = arena_strdup(s->a, json_string_value(v))) == NULL) {
			serr(err, errlen, "spec: out of memory");
			return -1;
		}
	}
	return 0;
}

static int
catent_order_cmp(const void *a, const void *b)
{
	const struct catent *x = a, *y = b;
	int r = catcmp(x->s, x->len, y->s, y->len);

	if (r != 0)
		return r;
	return x->col < y->col ? -1 : x->col > y->col;
}

static int
catent_col_cmp(const void *a, const void *b)
{
	const struct catent *x = a, *y = b;

	return x->col < y->col ? -1 : x->col > y->col;
}

/* The union of in's features' categories: spec order for messages, sorted for lookups. */
static int
index_known(struct spec *s, struct input *in)
{
	size_t total = 0, n = 0, nfeat = 0;
	struct catent *all, *bydecl;

	for (size_t k = 0; k < in->nfeats; k++)
		if (s->f[in->feats[k]].n > 0) {
			const struct feature *f = &s->f[in->feats[k]];

			if (nfeat++ == 0) {
				in->known = f->sorted;
				in->knowndecl = f->decl;
				in->nknown = f->n;
			}
			total += f->n;
		}
	if (nfeat < 2)
		return 0;
	if ((all = arena_alloc(s->a, total * sizeof(*all))) == NULL ||
	    (bydecl = arena_alloc(s->a, total * sizeof(*bydecl))) == NULL ||
	    (in->knowndecl = arena_alloc(s->a, (total + 1) * sizeof(*in->knowndecl))) == NULL)
		return -1;
	for (size_t k = 0; k < in->nfeats; k++) {
		const struct feature *f = &s->f[in->feats[k]];

		for (size_t c = 0; c < f->n; c++) {
			all[n].s = f->decl[c];
			all[n].len = strlen(f->decl[c]);
			all[n].col = n;
			n++;
		}
	}
	qsort(all, total, sizeof(*all), catent_order_cmp);
	n = 0;
	for (size_t k = 0; k < total; k++)
		if (n == 0 || catcmp(all[n - 1].s, all[n - 1].len, all[k].s, all[k].len) != 0)
			all[n++] = all[k];
	in->known = all;
	in->nknown = n;
	memcpy(bydecl, all, n * sizeof(*all));
	qsort(bydecl, n, sizeof(*bydecl), catent_col_cmp);
	for (size_t k = 0; k < n; k++)
		in->knowndecl[k] = bydecl[k].s;
	return 0;
}

/* Per-column input and name, per-input feature lists and category lists. */
static int
index_features(struct spec *s, char *err, size_t errlen)
{
	size_t *count;

	if ((s->col_input = arena_alloc(s->a, s->width * sizeof(*s->col_input))) == NULL ||
	    (s->col_name = arena_alloc(s->a, s->width * sizeof(*s->col_name))) == NULL ||
	    (count = arena_alloc(s->a, s->nin * sizeof(*count))) == NULL)
		goto nomem;
	for (size_t k = 0; k < s->nf; k++)
		s->in[s->f[k].input].nfeats++;
	for (size_t i = 0; i < s->nin; i++)
		if (s->in[i].nfeats > 0 && (s->in[i].feats = arena_alloc(s->a,
		    s->in[i].nfeats * sizeof(*s->in[i].feats))) == NULL)
			goto nomem;
	for (size_t k = 0; k < s->nf; k++) {
		struct feature *f = &s->f[k];
		struct input *in = &s->in[f->input];

		in->feats[count[f->input]++] = k;
		if (f->n > 0 && in->cats == NULL) {
			in->cats = f->decl;
			in->ncats = f->n;
		}
		for (size_t c = 0; c < f->width; c++) {
			const char *name = NULL;

			s->col_input[f->col + c] = f->input;
			switch (f->tr) {
			case TR_PASSTHROUGH:
				name = in->name;
				break;
			case TR_ONE_HOT:
				name = c < f->n ? arena_printf(s->a, "%s=%s", in->name, f->decl[c]) :
				    arena_printf(s->a, "%s=(other)", in->name);
				break;
			case TR_ORDINAL:
			case TR_FREQUENCY:
				name = arena_printf(s->a, "%s.%s", in->name, xform_names[f->tr]);
				break;
			case TR_DATETIME:
				name = arena_printf(s->a, "%s.%s", in->name,
				    part_names[f->parts[c]]);
				break;
			case TR_COUNT:
				break;
			}
			if (name == NULL)
				goto nomem;
			s->col_name[f->col + c] = name;
		}
	}
	for (size_t i = 0; i < s->nin; i++)
		if (index_known(s, &s->in[i]) == -1)
			goto nomem;
	return 0;
nomem:
	serr(err, errlen, "spec: out of memory");
	return -1;
}

/*
 * A default must pass its own features: a category default unknown under
 * "error" would fail every request that leaves the input out.
 */
static int
check_defaults(struct spec *s, char *err, size_t errlen)
{
	float *tmp;
	int rc = 0;

	if ((tmp = malloc(s->width * sizeof(*tmp))) == NULL) {
		serr(err, errlen, "spec: out of memory");
		return -1;
	}
	for (size_t i = 0; i < s->nin && rc == 0; i++) {
		struct msg m;
		char why[SPEC_ERR_MAX];

		if (s->in[i].def == NULL)
			continue;
		msg_init(&m, why, sizeof(why));
		if (apply(s, &s->in[i], &s->in[i].defval, tmp, &m) == -1) {
			serr(err, errlen, "spec: inputs[%zu] '%s': default: %s", i,
			    s->in[i].name, why);
			rc = -1;
		}
	}
	free(tmp);
	return rc;
}

struct spec *
spec_parse(json_t *j, char *err, size_t errlen)
{
	static const char *const keys[] = { "task", "classes", "threshold",
	    "unknown_category", "inputs", "features", "description", NULL };
	static const char *const tasks[] = { "regression", "binary", "multiclass" };
	struct spec *s = NULL;
	json_t *v, *inputs, *features;
	enum unk defunk = UNK_MISSING;
	size_t k;
	int t;

	if (!json_is_object(j)) {
		serr(err, errlen, "spec: expected a JSON object");
		goto fail;
	}
	if (check_keys(j, keys, "", err, errlen) == -1)
		goto fail;
	if ((s = calloc(1, sizeof(*s))) == NULL || (s->a = arena_new(ARENA_CAP)) == NULL) {
		serr(err, errlen, "spec: out of memory");
		goto fail;
	}
	if ((t = lookup_name(tasks, ARRAY_LEN(tasks), json_object_get(j, "task"))) == -1) {
		serr(err, errlen, "spec: task: expected regression, binary or multiclass");
		goto fail;
	}
	s->task = (enum spec_task)t;
	if (parse_classes(s, j, err, errlen) == -1)
		goto fail;
	s->threshold = 0.5;
	if ((v = json_object_get(j, "threshold")) != NULL) {
		if (s->task != SPEC_BINARY) {
			serr(err, errlen, "spec: threshold: only for task 'binary'");
			goto fail;
		}
		if (!json_is_number(v) || !(json_number_value(v) > 0 &&
		    json_number_value(v) < 1)) {
			serr(err, errlen, "spec: threshold: expected a number between 0 and 1 "
			    "(exclusive)");
			goto fail;
		}
		s->threshold = json_number_value(v);
	}
	if ((v = json_object_get(j, "unknown_category")) != NULL) {
		if ((t = lookup_name(unk_names, UNK_COUNT, v)) == -1) {
			serr(err, errlen, "spec: unknown_category: expected error, missing or "
			    "other");
			goto fail;
		}
		defunk = (enum unk)t;
	}
	inputs = json_object_get(j, "inputs");
	if (!json_is_array(inputs) || json_array_size(inputs) == 0 ||
	    json_array_size(inputs) > MAX_INPUTS) {
		serr(err, errlen, "spec: inputs: expected a list of 1 to %d inputs", MAX_INPUTS);
		goto fail;
	}
	s->nin = json_array_size(inputs);
	if ((s->in = arena_alloc(s->a, s->nin * sizeof(*s->in))) == NULL ||
	    (s->byname = arena_alloc(s->a, s->nin * sizeof(*s->byname))) == NULL) {
		serr(err, errlen, "spec: out of memory");
		goto fail;
	}
	json_array_foreach(inputs, k, v) {
		if (parse_input(s, v, k, defunk, err, errlen) == -1)
			goto fail;
		s->byname[k].name = s->in[k].name;
		s->byname[k].len = strlen(s->in[k].name);
		s->byname[k].idx = k;
	}
	qsort(s->byname, s->nin, sizeof(*s->byname), byname_cmp);
	for (k = 1; k < s->nin; k++)
		if (strcmp(s->byname[k - 1].name, s->byname[k].name) == 0) {
			serr(err, errlen, "spec: inputs[%zu]: duplicate name '%s'",
			    s->byname[k - 1].idx > s->byname[k].idx ? s->byname[k - 1].idx :
			    s->byname[k].idx, s->byname[k].name);
			goto fail;
		}
	features = json_object_get(j, "features");
	if (!json_is_array(features) || json_array_size(features) == 0 ||
	    json_array_size(features) > MAX_WIDTH) {
		serr(err, errlen, "spec: features: expected a non-empty list of features");
		goto fail;
	}
	s->nf = json_array_size(features);
	if ((s->f = arena_alloc(s->a, s->nf * sizeof(*s->f))) == NULL) {
		serr(err, errlen, "spec: out of memory");
		goto fail;
	}
	json_array_foreach(features, k, v)
		if (parse_feature(s, v, k, err, errlen) == -1)
			goto fail;
	if (index_features(s, err, errlen) == -1 || check_defaults(s, err, errlen) == -1)
		goto fail;
	return s;
fail:
	spec_free(s);
	return NULL;
}

void
spec_free(struct spec *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; s->in != NULL && i < s->nin; i++)
		json_decref(s->in[i].def);
	arena_free(s->a);
	free(s);
}

size_t
spec_width(const struct spec *s)
{
	return s->width;
}

enum spec_task
spec_task(const struct spec *s)
{
	return s->task;
}

size_t
spec_nclasses(const struct spec *s)
{
	return s->nclasses;
}

const char *
spec_class_label(const struct spec *s, size_t i)
{
	return i < s->nclasses ? s->classes[i] : NULL;
}

double
spec_threshold(const struct spec *s)
{
	return s->threshold;
}

size_t
spec_ninputs(const struct spec *s)
{
	return s->nin;
}

const char *
spec_input_name(const struct spec *s, size_t i)
{
	return i < s->nin ? s->in[i].name : NULL;
}

const char *
spec_input_type(const struct spec *s, size_t i)
{
	return i < s->nin ? itype_names[s->in[i].type] : NULL;
}

int
spec_input_required(const struct spec *s, size_t i)
{
	return i < s->nin && s->in[i].required;
}

long
spec_input_index(const struct spec *s, const char *name)
{
	return input_find(s, name, strlen(name));
}

size_t
spec_feature_input(const struct spec *s, size_t feature)
{
	return feature < s->width ? s->col_input[feature] : 0;
}

const char *
spec_feature_name(const struct spec *s, size_t feature)
{
	return feature < s->width ? s->col_name[feature] : NULL;
}

size_t
spec_input_categories(const struct spec *s, size_t i, const char *const **out)
{
	if (i >= s->nin || s->in[i].cats == NULL) {
		*out = NULL;
		return 0;
	}
	*out = s->in[i].cats;
	return s->in[i].ncats;
}

json_t *
spec_input_default(const struct spec *s, size_t i)
{
	return i < s->nin ? s->in[i].def : NULL;
}

const char *
spec_input_format(const struct spec *s, size_t i)
{
	return i < s->nin ? s->in[i].format : NULL;
}

int
spec_input_tzoff(const struct spec *s, size_t i)
{
	return i < s->nin ? s->in[i].tzoff : 0;
}
