/* template.c: compile *.html templates once into instruction lists; render them with escaping chosen by HTML context. */
#include "template.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TPL_FILE_MAX	(1024 * 1024)		/* per template file */
#define TPL_ARENA_MAX	((size_t)256 << 20)	/* all sources and names of a set */
#define TPL_NEST_MAX	64			/* open sections in one file */
#define TPL_DEPTH_MAX	16			/* nested partials at render time */
#define TPL_FRAMES	128			/* context stack at render time */

/*
 * Written instead of a URL attribute value whose scheme is not one we know
 * to be inert, so "javascript:" and "data:" cannot reach href/src/action.
 */
#define UNSAFE_URL	"about:invalid#unsafe-url"

enum op {
	OP_TEXT,	/* literal bytes, already valid HTML */
	OP_VAR,		/* {{x}}: value, filter, escaper */
	OP_SECTION,	/* {{#x}}: body is [i + 1, end) */
	OP_INVERTED,	/* {{^x}} */
	OP_PARTIAL,	/* {{>x}} */
	OP_CONTENT,	/* {{>@content}} in the layout */
	OP_URLMARK,	/* a URL attribute value starts here */
};

enum esc { ESC_TEXT, ESC_ATTR };
enum filter { F_NONE, F_URL, F_RAW, F_JSON };
enum pkind { P_NAME, P_DOT, P_INDEX, P_FIRST, P_LAST };

struct path {
	unsigned char kind;
	unsigned char nseg;
	const char *seg;	/* nseg NUL-separated names (arena) */
};

struct tpl;

struct ins {
	unsigned char op;
	unsigned char esc;
	unsigned char filter;
	unsigned char urlcheck;	/* value starts a URL attribute: check scheme */
	unsigned int line;
	const char *text;	/* OP_TEXT: bytes in src; OP_PARTIAL: name */
	size_t len;
	size_t end;		/* sections: index just past the body */
	struct path path;
	const struct tpl *partial;
};

struct tpl {
	const char *name;	/* file name without ".html" */
	const char *file;
	const char *src;	/* OP_TEXT points into it */
	size_t srclen;
	struct ins *ins;
	size_t nins;
	size_t ains;
};

/* Immutable once tpl_load_dir returns: render only reads it. */
struct tpl_set {
	struct arena *arena;
	struct tpl **v;		/* sorted by name */
	size_t n;
	size_t alloc;
	const struct tpl *layout;
};

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(int c)
{
	return is_alpha(c) || is_digit(c);
}

static int
to_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* HTML tokenizer whitespace (CR included: the parser turns it into LF). */
static int
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static int
eq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/*
 * Length of the valid UTF-8 sequence at s (1 to 4), or 0 when the byte at s
 * does not start one or is NUL: that byte is then written as U+FFFD.
 */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;

	if (c == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if ((c & 0xE0) == 0xC0)
		len = 2;
	else if ((c & 0xF0) == 0xE0)
		len = 3;
	else if ((c & 0xF8) == 0xF0)
		len = 4;
	else
		return 0;
	if (len > n || !utf8_valid((const char *)s, len))
		return 0;
	return len;
}

#define REPLACEMENT	"\xEF\xBF\xBD"

int
html_escape_text(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, n;
	const char *rep;

	while (i < len) {
		switch (p[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default:
			if (p[i] != 0 && p[i] < 0x80) {
				i++;
				continue;
			}
			if ((n = utf8_seq(p + i, len - i)) > 0) {
				i += n;
				continue;
			}
			rep = REPLACEMENT;
			break;
		}
		if (buf_add(out, s + run, i - run) == -1 ||
		    buf_adds(out, rep) == -1)
			return -1;
		run = ++i;
	}
	return buf_add(out, s + run, i - run);
}

/*
 * OWASP attribute rule: everything but ASCII alphanumerics and ",.-_/:"
 * becomes &#xHH;, which is safe quoted and unquoted. Non-ASCII passes.
 */
int
html_escape_attr(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, n;
	char ent[6] = { '&', '#', 'x', 0, 0, ';' };

	while (i < len) {
		unsigned char c = p[i];

		if (is_alnum(c) || c == ',' || c == '.' || c == '-' ||
		    c == '_' || c == '/' || c == ':') {
			i++;
			continue;
		}
		if (c >= 0x80 && (n = utf8_seq(p + i, len - i)) > 0) {
			i += n;
			continue;
		}
		if (buf_add(out, s + run, i - run) == -1)
			return -1;
		if (c == 0 || c >= 0x80) {
			if (buf_adds(out, REPLACEMENT) == -1)
				return -1;
		} else {
			ent[3] = hex[c >> 4];
			ent[4] = hex[c & 15];
			if (buf_add(out, ent, sizeof(ent)) == -1)
				return -1;
		}
		run = ++i;
	}
	return buf_add(out, s + run, i - run);
}

/* ---------------------------------------------------------------------- */
/* The HTML scanner: which context each {{tag}} sits in, decided at compile time. */

enum hstate {
	H_TEXT,
	H_RAW,			/* content of script, style, title, textarea... */
	H_TAG_OPEN,		/* after '<' */
	H_END_TAG_OPEN,		/* after "</" */
	H_TAG_NAME,
	H_BEFORE_ATTR_NAME,
	H_ATTR_NAME,
	H_AFTER_ATTR_NAME,
	H_BEFORE_ATTR_VALUE,
	H_ATTR_VALUE_DQ,
	H_ATTR_VALUE_SQ,
	H_ATTR_VALUE_UNQ,
	H_AFTER_ATTR_VALUE_Q,
	H_SELF_CLOSING,
	H_MARKUP_DECL,		/* after "<!" */
	H_BOGUS_COMMENT,	/* <!DOCTYPE ...>, <?...>, </ ...> */
	H_COMMENT,
};

/* Raw-text elements: the tokenizer ignores markup until "</name". */
enum raw { R_NONE, R_SCRIPT, R_RAWTEXT, R_RCDATA, R_PLAINTEXT };

static const struct {
	const char *name;
	unsigned char kind;
} raw_tags[] = {
	{ "script", R_SCRIPT },
	{ "style", R_RAWTEXT },
	{ "xmp", R_RAWTEXT },
	{ "iframe", R_RAWTEXT },
	{ "noembed", R_RAWTEXT },
	{ "noframes", R_RAWTEXT },
	{ "noscript", R_RAWTEXT },
	{ "title", R_RCDATA },		/* character data: text escaping fits */
	{ "textarea", R_RCDATA },
	{ "plaintext", R_PLAINTEXT },
};

/*
 * Attribute kinds. Entity escaping is undone by the browser before the
 * value reaches a JS, CSS or HTML parser, so variables may not appear in
 * those values at all; URL values get a scheme check at render time.
 */
enum akind { A_NORMAL, A_URL, A_JS, A_CSS, A_HTML };

static const char *const url_attrs[] = {
	"action", "background", "cite", "codebase", "data", "dynsrc",
	"formaction", "href", "icon", "longdesc", "lowsrc", "manifest",
	"poster", "src", "usemap", "xlink:href",
};

enum cstate { C_START, C_START_DASH, C_MID, C_END_DASH, C_END, C_END_BANG };

/* Scanner results: >= 0 events, < 0 errors. */
enum {
	EV_NONE = 0,
	EV_MARK_BEFORE = 1,	/* URL value starts at this character */
	EV_MARK_AFTER = 2,	/* URL value starts after this character */
	SE_CDATA = -1,
	SE_SCRIPT_COMMENT = -2,
	SE_BOUNDARY = -3,
};

struct scan {
	unsigned char st;
	unsigned char raw;	/* enum raw of the open raw-text element */
	unsigned char rawmatch;	/* bytes of "</name" matched in raw text */
	unsigned char cmatch;	/* bytes of "<!--" matched in script */
	unsigned char cstate;
	unsigned char ndecl;
	unsigned char akind;
	unsigned char end_tag;
	unsigned char bnd;	/* 1: section tag just placed in a tag; 2: in a name */
	char decl[8];
	char tag[16];		/* lowercased, first 15 bytes */
	size_t taglen;
	char attr[32];
	size_t attrlen;
};

static void
tag_add(struct scan *sc, int c)
{
	if (sc->taglen < sizeof(sc->tag) - 1)
		sc->tag[sc->taglen] = (char)to_lower(c);
	sc->taglen++;
}

static void
attr_add(struct scan *sc, int c)
{
	if (sc->attrlen < sizeof(sc->attr) - 1)
		sc->attr[sc->attrlen] = (char)to_lower(c);
	sc->attrlen++;
}

static int
tag_is(const struct scan *sc, const char *name)
{
	return sc->taglen < sizeof(sc->tag) && eq(sc->tag, sc->taglen, name);
}

static int
attr_kind(const struct scan *sc)
{
	size_t i;

	if (sc->attrlen >= sizeof(sc->attr))
		return A_NORMAL;
	if (sc->attrlen > 2 && sc->attr[0] == 'o' && sc->attr[1] == 'n')
		return A_JS;
	if (eq(sc->attr, sc->attrlen, "style"))
		return A_CSS;
	if (eq(sc->attr, sc->attrlen, "srcdoc"))
		return A_HTML;
	for (i = 0; i < ARRAY_LEN(url_attrs); i++)
		if (eq(sc->attr, sc->attrlen, url_attrs[i]))
			return A_URL;
	return A_NORMAL;
}

static void
tag_end(struct scan *sc)
{
	size_t i;

	sc->st = H_TEXT;
	if (sc->end_tag)
		return;
	for (i = 0; i < ARRAY_LEN(raw_tags); i++) {
		if (tag_is(sc, raw_tags[i].name)) {
			sc->st = H_RAW;
			sc->raw = raw_tags[i].kind;
			sc->rawmatch = 0;
			sc->cmatch = 0;
			return;
		}
	}
}

static void
value_start(struct scan *sc)
{
	sc->akind = (unsigned char)attr_kind(sc);
	sc->st = H_BEFORE_ATTR_VALUE;
}

static int
scan_markup_decl(struct scan *sc, int c)
{
	static const char *const decls[] = { "--", "doctype", "[cdata[" };
	size_t i, len;
	int prefix = 0;

	sc->decl[sc->ndecl++] = (char)to_lower(c);
	for (i = 0; i < ARRAY_LEN(decls); i++) {
		len = strlen(decls[i]);
		if (sc->ndecl > len || memcmp(sc->decl, decls[i], sc->ndecl) != 0)
			continue;
		if (sc->ndecl < len) {
			prefix = 1;
			continue;
		}
		if (i == 0) {
			sc->st = H_COMMENT;
			sc->cstate = C_START;
		} else if (i == 1)
			sc->st = H_BOGUS_COMMENT;
		else
			return SE_CDATA;	/* CDATA outside SVG ends at '>', inside at "]]>" */
		return EV_NONE;
	}
	if (!prefix)
		sc->st = c == '>' ? H_TEXT : H_BOGUS_COMMENT;
	return EV_NONE;
}

static void
scan_comment(struct scan *sc, int c)
{
	switch (sc->cstate) {
	case C_START:
	case C_START_DASH:
		if (c == '-')
			sc->cstate = sc->cstate == C_START ? C_START_DASH : C_END;
		else if (c == '>')
			sc->st = H_TEXT;	/* "<!-->" and "<!--->" end at once */
		else
			sc->cstate = C_MID;
		break;
	case C_MID:
		if (c == '-')
			sc->cstate = C_END_DASH;
		break;
	case C_END_DASH:
		sc->cstate = c == '-' ? C_END : C_MID;
		break;
	case C_END:
		if (c == '>')
			sc->st = H_TEXT;
		else if (c == '!')
			sc->cstate = C_END_BANG;
		else if (c != '-')
			sc->cstate = C_MID;
		break;
	case C_END_BANG:
		if (c == '>')
			sc->st = H_TEXT;
		else
			sc->cstate = c == '-' ? C_END_DASH : C_MID;
		break;
	}
}

static int
scan_raw(struct scan *sc, int c)
{
	if (sc->raw == R_PLAINTEXT)
		return EV_NONE;
	/*
	 * "<!--" in a script switches the tokenizer into escaped states where
	 * "</script>" may not end the element; we refuse it rather than model it.
	 */
	if (sc->raw == R_SCRIPT) {
		if (c == "<!--"[sc->cmatch]) {
			if (++sc->cmatch == 4)
				return SE_SCRIPT_COMMENT;
		} else
			sc->cmatch = c == '<';
	}
	if (sc->rawmatch >= 2 && sc->rawmatch == sc->taglen + 2) {
		sc->end_tag = 1;
		if (is_ws(c))
			sc->st = H_BEFORE_ATTR_NAME;
		else if (c == '/')
			sc->st = H_SELF_CLOSING;
		else if (c == '>')
			sc->st = H_TEXT;
		else
			sc->rawmatch = c == '<';
		return EV_NONE;
	}
	if (sc->rawmatch == 1 && c == '/')
		sc->rawmatch = 2;
	else if (sc->rawmatch >= 2 && to_lower(c) == sc->tag[sc->rawmatch - 2])
		sc->rawmatch++;
	else
		sc->rawmatch = c == '<';
	return EV_NONE;
}

/*
 * Feeds one literal byte to the scanner, following the HTML tokenizer
 * closely enough that the context of every later {{tag}} is known.
 */
static int
scan_char(struct scan *sc, int c)
{
	int mark;

	if (sc->bnd) {
		int in_name = sc->bnd == 2;

		/* A name or '=' continuing across a section tag could pair
		 * a value with a different attribute when the section is skipped. */
		sc->bnd = 0;
		if (c == '=' || (in_name && !is_ws(c) && c != '/' && c != '>'))
			return SE_BOUNDARY;
	}
again:
	switch (sc->st) {
	case H_TEXT:
		if (c == '<')
			sc->st = H_TAG_OPEN;
		break;
	case H_RAW:
		return scan_raw(sc, c);
	case H_TAG_OPEN:
		if (c == '!') {
			sc->st = H_MARKUP_DECL;
			sc->ndecl = 0;
		} else if (c == '/')
			sc->st = H_END_TAG_OPEN;
		else if (is_alpha(c)) {
			sc->end_tag = 0;
			sc->taglen = 0;
			tag_add(sc, c);
			sc->st = H_TAG_NAME;
		} else if (c == '?')
			sc->st = H_BOGUS_COMMENT;
		else {
			sc->st = H_TEXT;
			goto again;
		}
		break;
	case H_END_TAG_OPEN:
		if (is_alpha(c)) {
			sc->end_tag = 1;
			sc->taglen = 0;
			tag_add(sc, c);
			sc->st = H_TAG_NAME;
		} else
			sc->st = c == '>' ? H_TEXT : H_BOGUS_COMMENT;
		break;
	case H_TAG_NAME:
		if (is_ws(c))
			sc->st = H_BEFORE_ATTR_NAME;
		else if (c == '/')
			sc->st = H_SELF_CLOSING;
		else if (c == '>')
			tag_end(sc);
		else
			tag_add(sc, c);
		break;
	case H_BEFORE_ATTR_NAME:
		if (is_ws(c))
			break;
		if (c == '/')
			sc->st = H_SELF_CLOSING;
		else if (c == '>')
			tag_end(sc);
		else {
			sc->attrlen = 0;
			attr_add(sc, c);	/* even '=' starts a name here */
			sc->st = H_ATTR_NAME;
		}
		break;
	case H_ATTR_NAME:
		if (is_ws(c))
			sc->st = H_AFTER_ATTR_NAME;
		else if (c == '/')
			sc->st = H_SELF_CLOSING;
		else if (c == '>')
			tag_end(sc);
		else if (c == '=')
			value_start(sc);
		else
			attr_add(sc, c);
		break;
	case H_AFTER_ATTR_NAME:
		if (is_ws(c))
			break;
		if (c == '/')
			sc->st = H_SELF_CLOSING;
		else if (c == '=')
			value_start(sc);
		else if (c == '>')
			tag_end(sc);
		else {
			sc->attrlen = 0;
			sc->st = H_ATTR_NAME;
			goto again;
		}
		break;
	case H_BEFORE_ATTR_VALUE:
		mark = sc->akind == A_URL;
		if (is_ws(c))
			break;
		if (c == '"' || c == '\'') {
			sc->st = c == '"' ? H_ATTR_VALUE_DQ : H_ATTR_VALUE_SQ;
			return mark ? EV_MARK_AFTER : EV_NONE;
		}
		if (c == '>') {
			tag_end(sc);
			break;
		}
		sc->st = H_ATTR_VALUE_UNQ;
		return mark ? EV_MARK_BEFORE : EV_NONE;
	case H_ATTR_VALUE_DQ:
	case H_ATTR_VALUE_SQ:
		if (c == (sc->st == H_ATTR_VALUE_DQ ? '"' : '\''))
			sc->st = H_AFTER_ATTR_VALUE_Q;
		break;
	case H_ATTR_VALUE_UNQ:
		if (is_ws(c))
			sc->st = H_BEFORE_ATTR_NAME;
		else if (c == '>')
			tag_end(sc);
		break;
	case H_AFTER_ATTR_VALUE_Q:
	case H_SELF_CLOSING:
		/* "<script/>" still opens a script: HTML ignores the slash. */
		if (c == '>')
			tag_end(sc);
		else if (c == '/')
			sc->st = H_SELF_CLOSING;
		else {
			sc->st = H_BEFORE_ATTR_NAME;
			if (!is_ws(c))
				goto again;
		}
		break;
	case H_MARKUP_DECL:
		return scan_markup_decl(sc, c);
	case H_BOGUS_COMMENT:
		if (c == '>')
			sc->st = H_TEXT;
		break;
	case H_COMMENT:
		scan_comment(sc, c);
		break;
	}
	return EV_NONE;
}

static const char *
scan_error(int e)
{
	switch (e) {
	case SE_CDATA:
		return "CDATA sections are not supported";
	case SE_SCRIPT_COMMENT:
		return "'<!--' inside <script> is not supported";
	default:
		return "attribute name or '=' continues past a section tag";
	}
}

/* Between attributes, or in an attribute name, of some tag. */
static int
in_tag(int st)
{
	return st == H_BEFORE_ATTR_NAME || st == H_ATTR_NAME ||
	    st == H_AFTER_ATTR_NAME || st == H_AFTER_ATTR_VALUE_Q;
}

/*
 * Where a section tag may stand. It may be skipped or repeated at render
 * time, so the scanner's linear view only holds if the text after it
 * parses the same either way: no half-read names, markup or end tags.
 */
static int
boundary_ok(const struct scan *sc, int closing)
{
	switch (sc->st) {
	case H_TEXT:
	case H_ATTR_VALUE_DQ:
	case H_ATTR_VALUE_SQ:
	case H_BEFORE_ATTR_NAME:
	case H_AFTER_ATTR_NAME:
	case H_AFTER_ATTR_VALUE_Q:
		return 1;
	case H_ATTR_NAME:
		return closing;		/* {{#on}}checked{{/on}} */
	case H_RAW:
		return sc->raw != R_PLAINTEXT && sc->rawmatch == 0 &&
		    sc->cmatch == 0;
	case H_COMMENT:
		return sc->cstate == C_MID;
	default:
		return 0;
	}
}

static int
same_tag(const struct scan *a, const struct scan *b)
{
	size_t n = a->taglen < sizeof(a->tag) ? a->taglen : sizeof(a->tag) - 1;

	return a->taglen == b->taglen && a->end_tag == b->end_tag &&
	    memcmp(a->tag, b->tag, n) == 0;
}

/* Does a section that opened in state a and closes in b leave the same context? */
static int
scan_same(const struct scan *a, const struct scan *b)
{
	if (in_tag(a->st) || in_tag(b->st))
		return in_tag(a->st) && in_tag(b->st) && same_tag(a, b);
	if (a->st != b->st)
		return 0;
	switch (a->st) {
	case H_RAW:
		return same_tag(a, b);
	case H_ATTR_VALUE_DQ:
	case H_ATTR_VALUE_SQ:
		return a->akind == b->akind && same_tag(a, b);
	default:
		return 1;
	}
}

static void
scan_boundary(struct scan *sc)
{
	if (in_tag(sc->st))
		sc->bnd = sc->st == H_ATTR_NAME ? 2 : 1;
}

/* Escaper for a variable at the scanner's position, or -1 when none is safe. */
static int
var_escaper(const struct scan *sc, int *urlcheck)
{
	*urlcheck = 0;
	switch (sc->st) {
	case H_TEXT:
		return ESC_TEXT;
	case H_RAW:
		return sc->raw == R_RCDATA && sc->rawmatch == 0 ? ESC_TEXT : -1;
	case H_BEFORE_ATTR_VALUE:
	case H_ATTR_VALUE_DQ:
	case H_ATTR_VALUE_SQ:
	case H_ATTR_VALUE_UNQ:
		if (sc->akind == A_URL)
			*urlcheck = 1;
		return sc->akind == A_NORMAL || sc->akind == A_URL ?
		    ESC_ATTR : -1;
	default:
		return -1;
	}
}

static const char *
scan_where(const struct scan *sc)
{
	switch (sc->st) {
	case H_RAW:
		return "a raw-text element (script, style, title...)";
	case H_COMMENT:
	case H_BOGUS_COMMENT:
	case H_MARKUP_DECL:
		return "a comment";
	default:
		return "a tag";
	}
}

/* ---------------------------------------------------------------------- */
/* Compiler: template source to instruction list. */

struct open_sec {
	const char *name;
	size_t namelen;
	size_t ins;		/* index of the OP_SECTION/OP_INVERTED */
	unsigned int line;
	size_t nvars;		/* variables compiled before the open tag */
	struct scan at;		/* scanner state at the open tag */
};

struct compiler {
	struct tpl_set *set;
	struct tpl *t;
	struct scan sc;
	unsigned int line;
	size_t nvars;
	size_t nsec;
	struct open_sec sec[TPL_NEST_MAX];
	char *err;
	size_t errlen;
};

static void PRINTF(3, 4)
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int PRINTF(3, 4)
cerr(struct compiler *c, unsigned int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	seterr(c->err, c->errlen, "%s:%u: %s", c->t->file, line, msg);
	return -1;
}

/* Tag text in messages: capped so a runaway tag does not flood the log. */
#define TAGFMT(n) ((int)((n) > 40 ? 40 : (n)))

static int
emit(struct compiler *c, const struct ins *in)
{
	struct tpl *t = c->t;

	if (t->nins == t->ains) {
		size_t na = t->ains ? t->ains * 2 : 32;
		struct ins *nv = realloc(t->ins, na * sizeof(*nv));

		if (nv == NULL)
			return cerr(c, c->line, "out of memory");
		t->ins = nv;
		t->ains = na;
	}
	t->ins[t->nins++] = *in;
	return 0;
}

static int
emit_op(struct compiler *c, int op)
{
	struct ins in = { .op = (unsigned char)op, .line = c->line };

	return emit(c, &in);
}

static int
emit_text(struct compiler *c, const char *s, size_t n)
{
	struct ins in = { .op = OP_TEXT, .line = c->line, .text = s, .len = n };

	return n == 0 ? 0 : emit(c, &in);
}

static int
literal(struct compiler *c, const char *s, size_t n)
{
	size_t i, start = 0, cut;
	int ev;

	for (i = 0; i < n; i++) {
		ev = scan_char(&c->sc, (unsigned char)s[i]);
		if (ev < 0)
			return cerr(c, c->line, "%s", scan_error(ev));
		if (ev == EV_MARK_BEFORE || ev == EV_MARK_AFTER) {
			cut = ev == EV_MARK_BEFORE ? i : i + 1;
			if (emit_text(c, s + start, cut - start) == -1 ||
			    emit_op(c, OP_URLMARK) == -1)
				return -1;
			start = cut;
		}
		if (s[i] == '\n')
			c->line++;
	}
	return emit_text(c, s + start, n - start);
}

static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && ((*s)[0] == ' ' || (*s)[0] == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

/* "." | "@index" | "@first" | "@last" | name("." name)*, name = [A-Za-z0-9_-]+ */
static int
parse_path(struct compiler *c, const char *s, size_t n, struct path *p)
{
	size_t i, nseg = 1;
	char *seg;

	memset(p, 0, sizeof(*p));
	if (eq(s, n, ".")) {
		p->kind = P_DOT;
		return 0;
	}
	if (n > 0 && s[0] == '@') {
		if (eq(s, n, "@index"))
			p->kind = P_INDEX;
		else if (eq(s, n, "@first"))
			p->kind = P_FIRST;
		else if (eq(s, n, "@last"))
			p->kind = P_LAST;
		else
			return -1;
		return 0;
	}
	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return -1;
			nseg++;
		} else if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '-')
			return -1;
	}
	if (nseg > UINT8_MAX)
		return -1;
	if ((seg = arena_strndup(c->set->arena, s, n)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (seg[i] == '.')
			seg[i] = '\0';
	p->kind = P_NAME;
	p->nseg = (unsigned char)nseg;
	p->seg = seg;
	return 0;
}

static int
tag_variable(struct compiler *c, const char *s, size_t n, unsigned int line)
{
	struct ins in = { .op = OP_VAR, .line = line, .filter = F_NONE };
	const char *bar = memchr(s, '|', n), *name = s, *f;
	size_t nlen = bar != NULL ? (size_t)(bar - s) : n, flen;
	int esc, urlcheck;

	trim(&name, &nlen);
	if (parse_path(c, name, nlen, &in.path) == -1)
		return cerr(c, line, "bad tag '{{%.*s}}'", TAGFMT(n), s);
	if (bar != NULL) {
		f = bar + 1;
		flen = n - (size_t)(f - s);
		trim(&f, &flen);
		if (eq(f, flen, "url"))
			in.filter = F_URL;
		else if (eq(f, flen, "raw"))
			in.filter = F_RAW;
		else if (eq(f, flen, "json"))
			in.filter = F_JSON;
		else
			return cerr(c, line, "unknown filter '%.*s'",
			    TAGFMT(flen), f);
	}
	if ((esc = var_escaper(&c->sc, &urlcheck)) == -1)
		return cerr(c, line, "variable in unsafe context");
	in.esc = (unsigned char)esc;
	in.urlcheck = (unsigned char)urlcheck;
	if (c->sc.st == H_BEFORE_ATTR_VALUE) {
		/* <a href={{x}}>: the variable starts an unquoted value */
		c->sc.st = H_ATTR_VALUE_UNQ;
		if (urlcheck && emit_op(c, OP_URLMARK) == -1)
			return -1;
	}
	c->nvars++;
	return emit(c, &in);
}

static int
tag_open(struct compiler *c, const char *s, size_t n, unsigned int line)
{
	struct ins in = { .op = s[0] == '#' ? OP_SECTION : OP_INVERTED,
	    .line = line };
	const char *name = s + 1;
	size_t nlen = n - 1;
	struct open_sec *o;

	trim(&name, &nlen);
	if (parse_path(c, name, nlen, &in.path) == -1)
		return cerr(c, line, "bad tag '{{%.*s}}'", TAGFMT(n), s);
	if (!boundary_ok(&c->sc, 0))
		return cerr(c, line, "section tag in unsafe context");
	if (c->nsec == TPL_NEST_MAX)
		return cerr(c, line, "sections nested too deeply");
	o = &c->sec[c->nsec++];
	o->name = name;
	o->namelen = nlen;
	o->ins = c->t->nins;
	o->line = line;
	o->nvars = c->nvars;
	o->at = c->sc;
	scan_boundary(&c->sc);
	return emit(c, &in);
}

static int
tag_close(struct compiler *c, const char *s, size_t n, unsigned int line)
{
	const char *name = s + 1;
	size_t nlen = n - 1;
	struct open_sec *o;

	trim(&name, &nlen);
	if (c->nsec == 0)
		return cerr(c, line, "mismatched close '%.*s': no open section",
		    TAGFMT(nlen), name);
	o = &c->sec[c->nsec - 1];
	if (nlen != o->namelen || memcmp(name, o->name, nlen) != 0)
		return cerr(c, line, "mismatched close '%.*s', expected '%.*s'",
		    TAGFMT(nlen), name, TAGFMT(o->namelen), o->name);
	if (!boundary_ok(&c->sc, 1) || !scan_same(&o->at, &c->sc))
		return cerr(c, line,
		    "section '%.*s' ends in another HTML context than it starts",
		    TAGFMT(nlen), name);
	if (c->sc.st == H_ATTR_NAME && c->nvars != o->nvars)
		return cerr(c, line,
		    "section '%.*s' ends inside an attribute name and has variables",
		    TAGFMT(nlen), name);
	c->t->ins[o->ins].end = c->t->nins;
	c->nsec--;
	scan_boundary(&c->sc);
	return 0;
}

static int
partial_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

static int
tag_partial(struct compiler *c, const char *s, size_t n, unsigned int line)
{
	struct ins in = { .op = OP_PARTIAL, .line = line };
	const char *name = s + 1;
	size_t nlen = n - 1;

	trim(&name, &nlen);
	if (eq(name, nlen, "@content")) {
		if (strcmp(c->t->name, "layout") != 0)
			return cerr(c, line, "{{>@content}} outside layout.html");
		in.op = OP_CONTENT;
	} else if (!partial_name_ok(name, nlen))
		return cerr(c, line, "bad tag '{{%.*s}}'", TAGFMT(n), s);
	/* A partial is compiled as starting and ending in text. */
	if (c->sc.st != H_TEXT)
		return cerr(c, line, "partial in unsafe context");
	if (in.op == OP_PARTIAL) {
		if ((in.text = arena_strndup(c->set->arena, name, nlen)) == NULL)
			return cerr(c, line, "out of memory");
		in.len = nlen;
	}
	return emit(c, &in);
}

static int
tag(struct compiler *c, const char *s, size_t n, unsigned int line)
{
	switch (n > 0 ? s[0] : '\0') {
	case '!':
		return 0;
	case '#':
	case '^':
		return tag_open(c, s, n, line);
	case '/':
		return tag_close(c, s, n, line);
	case '>':
		return tag_partial(c, s, n, line);
	default:
		return tag_variable(c, s, n, line);
	}
}

static int
compile(struct compiler *c)
{
	const char *p = c->t->src, *end = p + c->t->srclen, *open, *close, *q;
	unsigned int line;

	while (p < end) {
		open = memmem(p, (size_t)(end - p), "{{", 2);
		if (literal(c, p, (size_t)((open != NULL ? open : end) - p)) == -1)
			return -1;
		if (open == NULL)
			break;
		close = memmem(open + 2, (size_t)(end - open - 2), "}}", 2);
		if (close == NULL)
			return cerr(c, c->line, "unclosed tag");
		line = c->line;
		if (tag(c, open + 2, (size_t)(close - open - 2), line) == -1)
			return -1;
		for (q = open; q < close; q++)
			if (*q == '\n')
				c->line++;
		p = close + 2;
	}
	if (c->nsec > 0) {
		struct open_sec *o = &c->sec[c->nsec - 1];

		return cerr(c, o->line, "unclosed section '%.*s'",
		    TAGFMT(o->namelen), o->name);
	}
	if (c->sc.st != H_TEXT)
		return cerr(c, c->line, "template ends inside %s",
		    scan_where(&c->sc));
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Loading. */

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
cmp_tpl(const void *a, const void *b)
{
	return strcmp((*(struct tpl *const *)a)->name,
	    (*(struct tpl *const *)b)->name);
}

static const struct tpl *
find(const struct tpl_set *set, const char *name)
{
	size_t lo = 0, hi = set->n, mid;
	int r;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		r = strcmp(name, set->v[mid]->name);
		if (r == 0)
			return set->v[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Reads and compiles dir/file. Returns 0 (also for skipped non-regular files) or -1. */
static int
load_file(struct tpl_set *set, int dfd, const char *file, char *err,
    size_t errlen)
{
	struct compiler *c = NULL;
	struct tpl *t = NULL;
	struct buf b;
	struct stat st;
	char chunk[8192];
	ssize_t r;
	int fd, rc = -1;

	buf_init(&b, TPL_FILE_MAX);
	/* O_NONBLOCK: a FIFO named *.html must not hang startup. */
	fd = openat(dfd, file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd == -1) {
		seterr(err, errlen, "%s: %s", file, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		seterr(err, errlen, "%s: %s", file, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = 0;
		goto out;
	}
	while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			seterr(err, errlen, "%s: %s", file, strerror(errno));
			goto out;
		}
		if (buf_add(&b, chunk, (size_t)r) == -1) {
			seterr(err, errlen, "%s: larger than %d bytes", file,
			    TPL_FILE_MAX);
			goto out;
		}
	}
	if (!utf8_valid(buf_str(&b), b.len)) {
		seterr(err, errlen, "%s: not valid UTF-8 (or has NUL bytes)", file);
		goto out;
	}
	if (set->n == set->alloc) {
		size_t na = set->alloc ? set->alloc * 2 : 16;
		struct tpl **nv = realloc(set->v, na * sizeof(*nv));

		if (nv == NULL)
			goto nomem;
		set->v = nv;
		set->alloc = na;
	}
	if ((t = arena_alloc(set->arena, sizeof(*t))) == NULL ||
	    (t->file = arena_strdup(set->arena, file)) == NULL ||
	    (t->name = arena_strndup(set->arena, file, strlen(file) - 5)) == NULL ||
	    (t->src = arena_strndup(set->arena, buf_str(&b), b.len)) == NULL)
		goto nomem;
	t->srclen = b.len;
	set->v[set->n++] = t;	/* owned by the set from here on */
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto nomem;
	c->set = set;
	c->t = t;
	c->line = 1;
	c->err = err;
	c->errlen = errlen;
	rc = compile(c);
	goto out;
nomem:
	seterr(err, errlen, "%s: out of memory", file);
out:
	free(c);
	buf_free(&b);
	if (fd != -1)
		close(fd);
	return rc;
}

static int
resolve_partials(struct tpl_set *set, char *err, size_t errlen)
{
	size_t i, k;

	for (i = 0; i < set->n; i++) {
		struct tpl *t = set->v[i];

		for (k = 0; k < t->nins; k++) {
			struct ins *in = &t->ins[k];

			if (in->op != OP_PARTIAL)
				continue;
			if ((in->partial = find(set, in->text)) == NULL) {
				seterr(err, errlen, "%s:%u: unknown partial '%s'",
				    t->file, in->line, in->text);
				return -1;
			}
		}
	}
	return 0;
}

struct tpl_set *
tpl_load_dir(const char *dir, char *err, size_t errlen)
{
	struct tpl_set *set = NULL;
	DIR *d = NULL;
	struct dirent *de;
	char **names = NULL;
	size_t nnames = 0, anames = 0, i, len;

	if ((set = calloc(1, sizeof(*set))) == NULL ||
	    (set->arena = arena_new(TPL_ARENA_MAX)) == NULL) {
		seterr(err, errlen, "%s: out of memory", dir);
		goto fail;
	}
	if ((d = opendir(dir)) == NULL) {
		seterr(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len <= 5 ||
		    strcmp(de->d_name + len - 5, ".html") != 0)
			continue;
		if (nnames == anames) {
			size_t na = anames ? anames * 2 : 16;
			char **nv = realloc(names, na * sizeof(*nv));

			if (nv == NULL)
				goto nomem;
			names = nv;
			anames = na;
		}
		if ((names[nnames++] = arena_strdup(set->arena, de->d_name)) == NULL)
			goto nomem;
	}
	if (errno != 0) {
		seterr(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	/* Sorted, so the first error reported does not depend on readdir order. */
	if (nnames > 0)
		qsort(names, nnames, sizeof(*names), cmp_name);
	for (i = 0; i < nnames; i++)
		if (load_file(set, dirfd(d), names[i], err, errlen) == -1)
			goto fail;
	if (set->n > 0)
		qsort(set->v, set->n, sizeof(*set->v), cmp_tpl);
	if (resolve_partials(set, err, errlen) == -1)
		goto fail;
	set->layout = find(set, "layout");
	free(names);
	closedir(d);
	return set;
nomem:
	seterr(err, errlen, "%s: out of memory", dir);
fail:
	free(names);
	if (d != NULL)
		closedir(d);
	tpl_free(set);
	return NULL;
}

void
tpl_free(struct tpl_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		free(set->v[i]->ins);
	free(set->v);
	arena_free(set->arena);
	free(set);
}

int
tpl_exists(const struct tpl_set *set, const char *name)
{
	return find(set, name) != NULL;
}

/* ---------------------------------------------------------------------- */
/* Rendering: reads the set and ctx, writes only out and its own stack state. */

struct frame {
	json_t *v;
	size_t index;
	size_t count;
	int iter;		/* pushed by an array section */
};

struct rstate {
	struct buf *out;
	const struct tpl *page;	/* what {{>@content}} renders, or NULL */
	size_t url_mark;	/* out->len where the current URL value began */
	size_t base;		/* lookups see frames[base..nframes) */
	size_t nframes;
	int depth;
	struct frame frames[TPL_FRAMES];
};

static int render(struct rstate *, const struct tpl *, size_t, size_t);

static int
push(struct rstate *st, json_t *v, size_t index, size_t count, int iter)
{
	struct frame *f;

	if (st->nframes == TPL_FRAMES)
		return -1;
	f = &st->frames[st->nframes++];
	f->v = v;
	f->index = index;
	f->count = count;
	f->iter = iter;
	return 0;
}

static const struct frame *
iter_frame(const struct rstate *st)
{
	size_t k;

	for (k = st->nframes; k-- > st->base;)
		if (st->frames[k].iter)
			return &st->frames[k];
	return NULL;
}

static json_t *
child(json_t *v, const char *seg)
{
	char *end;
	unsigned long long i;

	if (json_is_object(v))
		return json_object_get(v, seg);
	if (!json_is_array(v) || !is_digit(seg[0]))
		return NULL;
	errno = 0;
	i = strtoull(seg, &end, 10);
	if (*end != '\0' || errno != 0 || i >= json_array_size(v))
		return NULL;
	return json_array_get(v, (size_t)i);
}

/*
 * The value a path names, searching the stack innermost first for the first
 * segment only (mustache rule). @index is not a json_t: callers handle it.
 * Borrowed reference; json_true/json_false are static singletons.
 */
static json_t *
lookup(const struct rstate *st, const struct path *p)
{
	const struct frame *f;
	const char *seg = p->seg;
	json_t *v = NULL;
	size_t k, i;

	switch (p->kind) {
	case P_DOT:
		return st->frames[st->nframes - 1].v;
	case P_FIRST:
	case P_LAST:
		if ((f = iter_frame(st)) == NULL)
			return NULL;
		if (p->kind == P_FIRST)
			return f->index == 0 ? json_true() : json_false();
		return f->index + 1 == f->count ? json_true() : json_false();
	case P_INDEX:
		return NULL;
	}
	for (k = st->nframes; k-- > st->base;)
		if ((v = json_object_get(st->frames[k].v, seg)) != NULL)
			break;
	for (i = 1; v != NULL && i < p->nseg; i++) {
		seg += strlen(seg) + 1;
		v = child(v, seg);
	}
	return v;
}

/* Falsy: missing, null, false, 0, NaN, "", []. Objects are truthy. */
static int
value_truthy(json_t *v)
{
	if (v == NULL)
		return 0;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
	case JSON_TRUE:
		return 1;
	case JSON_ARRAY:
		return json_array_size(v) > 0;
	case JSON_STRING:
		return json_string_length(v) > 0;
	case JSON_INTEGER:
		return json_integer_value(v) != 0;
	case JSON_REAL:
		return json_real_value(v) != 0 && !isnan(json_real_value(v));
	default:
		return 0;
	}
}

static int
truthy(const struct rstate *st, const struct path *p)
{
	const struct frame *f;

	if (p->kind == P_INDEX)
		return (f = iter_frame(st)) != NULL && f->index != 0;
	return value_truthy(lookup(st, p));
}

/* Decimal text of an integer at the end of num[32]; printf is slow in loops. */
static const char *
fmt_int(char num[32], long long v, size_t *len)
{
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v;
	char *p = num + 31;

	*p = '\0';
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	*len = (size_t)(num + 31 - p);
	return p;
}

/* Text of a scalar: a pointer into v or into num; empty for the rest. */
static void
scalar_text(json_t *v, char *num, size_t numlen, const char **s, size_t *len)
{
	int n = 0;

	*s = num;
	*len = 0;
	if (v == NULL)
		return;
	switch (json_typeof(v)) {
	case JSON_STRING:
		*s = json_string_value(v);
		*len = json_string_length(v);
		return;
	case JSON_INTEGER:
		*s = fmt_int(num, (long long)json_integer_value(v), len);
		return;
	case JSON_REAL:
		if (isfinite(json_real_value(v)))
			n = snprintf(num, numlen, "%.15g", json_real_value(v));
		break;
	case JSON_TRUE:
		n = snprintf(num, numlen, "true");
		break;
	case JSON_FALSE:
		n = snprintf(num, numlen, "false");
		break;
	default:
		break;
	}
	*len = n > 0 ? (size_t)n : 0;
}

static int
escape(struct buf *out, int esc, const char *s, size_t len)
{
	return esc == ESC_ATTR ? html_escape_attr(out, s, len) :
	    html_escape_text(out, s, len);
}

static int
write_raw(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, n;

	while (i < len) {
		if ((n = utf8_seq(p + i, len - i)) > 0) {
			i += n;
			continue;
		}
		if (buf_add(out, s + run, i - run) == -1 ||
		    buf_adds(out, REPLACEMENT) == -1)
			return -1;
		run = ++i;
	}
	return buf_add(out, s + run, i - run);
}

/* Percent-encodes all but unreserved bytes, then escapes for the context. */
static int
write_url(struct buf *out, int esc, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s, *bytes;
	char chunk[256];
	size_t i = 0, n = 0, k, seq, nbytes;

	while (i < len) {
		if ((seq = utf8_seq(p + i, len - i)) > 0) {
			bytes = p + i;
			nbytes = seq;
		} else {
			bytes = (const unsigned char *)REPLACEMENT;
			nbytes = 3;
			seq = 1;
		}
		for (k = 0; k < nbytes; k++) {
			unsigned char c = bytes[k];

			if (n + 3 > sizeof(chunk)) {
				if (escape(out, esc, chunk, n) == -1)
					return -1;
				n = 0;
			}
			if (is_alnum(c) || c == '-' || c == '.' || c == '_' ||
			    c == '~')
				chunk[n++] = (char)c;
			else {
				chunk[n++] = '%';
				chunk[n++] = hex[c >> 4];
				chunk[n++] = hex[c & 15];
			}
		}
		i += seq;
	}
	return escape(out, esc, chunk, n);
}

struct jsink {
	struct buf *out;
	int esc;
	int full;
};

static int
json_chunk(const char *s, size_t n, void *data)
{
	struct jsink *j = data;

	if (escape(j->out, j->esc, s, n) == -1) {
		j->full = 1;
		return -1;
	}
	return 0;
}

/* Compact JSON; "\/" keeps "</script>" out; then escaped for the context. */
static int
write_json(struct buf *out, int esc, json_t *v)
{
	struct jsink j = { out, esc, 0 };
	size_t mark = out->len;

	if (v != NULL && json_dump_callback(v, json_chunk, &j, JSON_COMPACT |
	    JSON_ESCAPE_SLASH | JSON_ENCODE_ANY) == 0)
		return 0;
	if (j.full)
		return -1;
	/* Missing, or a string jansson refuses to encode (invalid UTF-8). */
	buf_truncate(out, mark);
	return escape(out, esc, "null", 4);
}

/*
 * URL scheme detection over decoded characters: leading C0/space skipped,
 * tab/LF/CR dropped, as the URL parser does. done: 1 relative, 2 scheme.
 */
struct urlscan {
	char scheme[8];
	size_t n;
	int lead;
	int done;
};

static void
url_feed(struct urlscan *u, unsigned long cp)
{
	if (u->done)
		return;
	if (u->lead && cp <= 0x20)
		return;
	u->lead = 0;
	if (cp == '\t' || cp == '\n' || cp == '\r')
		return;
	if (cp == '/' || cp == '?' || cp == '#')
		u->done = 1;
	else if (cp == ':')
		u->done = 2;
	else {
		if (u->n < sizeof(u->scheme))
			u->scheme[u->n] = cp < 0x80 ? (char)to_lower((int)cp) : '?';
		u->n++;
	}
}

static int
hexval(int c)
{
	if (is_digit(c))
		return c - '0';
	c = to_lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Feeds already-written attribute bytes, decoding character references. */
static void
url_feed_html(struct urlscan *u, const char *s, size_t len)
{
	size_t i = 0, j;
	unsigned long cp;
	int base, d;

	while (i < len && !u->done) {
		if (s[i] == '&' && len - i >= 2 && s[i + 1] == '#') {
			j = i + 2;
			base = j < len && (s[j] == 'x' || s[j] == 'X') ? 16 : 10;
			if (base == 16)
				j++;
			cp = 0;
			while (j < len && (d = hexval(s[j])) >= 0 && d < base) {
				if (cp < 0x110000)
					cp = cp * (unsigned long)base + (unsigned long)d;
				j++;
			}
			if (j < len && s[j] == ';')
				j++;
			url_feed(u, cp == 0 ? 0xFFFD : cp);
			i = j;
		} else if (len - i >= 5 && memcmp(s + i, "&Tab;", 5) == 0) {
			url_feed(u, '\t');
			i += 5;
		} else if (len - i >= 9 && memcmp(s + i, "&NewLine;", 9) == 0) {
			url_feed(u, '\n');
			i += 9;
		} else if (len - i >= 7 && memcmp(s + i, "&colon;", 7) == 0) {
			url_feed(u, ':');
			i += 7;
		} else
			url_feed(u, (unsigned char)s[i++]);
	}
}

/*
 * Whether value, written next in a URL attribute, leaves the URL with a
 * harmless scheme: relative, or http, https, mailto, tel. What was already
 * written since the value began counts, so "{{a}}{{b}}" cannot split
 * "javascript:" in two.
 */
static int
url_ok(const struct rstate *st, const char *s, size_t len)
{
	static const char *const ok[] = { "http", "https", "mailto", "tel" };
	struct urlscan u = { .lead = 1 };
	size_t mark = st->url_mark < st->out->len ? st->url_mark : st->out->len;
	size_t i;

	if (st->out->p != NULL)
		url_feed_html(&u, st->out->p + mark, st->out->len - mark);
	if (u.done)
		return 1;	/* decided by earlier text or an earlier, checked value */
	for (i = 0; i < len && !u.done; i++)
		url_feed(&u, (unsigned char)s[i]);
	if (u.done != 2)
		return 1;
	for (i = 0; i < ARRAY_LEN(ok); i++)
		if (u.n <= sizeof(u.scheme) && eq(u.scheme, u.n, ok[i]))
			return 1;
	return 0;
}

static int
write_var(struct rstate *st, const struct ins *in)
{
	char num[64];
	const char *s = num;
	size_t len = 0;
	const struct frame *f;
	json_t *v = NULL;

	if (in->path.kind == P_INDEX) {
		if ((f = iter_frame(st)) != NULL)
			s = fmt_int(num, (long long)f->index, &len);
		else if (in->filter == F_JSON)
			return write_json(st->out, in->esc, NULL);
	} else {
		v = lookup(st, &in->path);
		if (in->filter == F_JSON)
			return write_json(st->out, in->esc, v);
		scalar_text(v, num, sizeof(num), &s, &len);
	}
	if (in->urlcheck && in->filter == F_NONE && !url_ok(st, s, len))
		return buf_adds(st->out, UNSAFE_URL);
	switch (in->filter) {
	case F_RAW:
		return write_raw(st->out, s, len);
	case F_URL:
		return write_url(st->out, in->esc, s, len);
	default:
		return escape(st->out, in->esc, s, len);
	}
}

static int
render_section(struct rstate *st, const struct tpl *t, size_t i)
{
	const struct ins *in = &t->ins[i];
	json_t *v;
	size_t k, n;
	int rc;

	if (in->path.kind == P_INDEX)
		return truthy(st, &in->path) ? render(st, t, i + 1, in->end) : 0;
	v = lookup(st, &in->path);
	if (json_is_array(v)) {
		n = json_array_size(v);
		for (k = 0; k < n; k++) {
			if (push(st, json_array_get(v, k), k, n, 1) == -1)
				return -1;
			rc = render(st, t, i + 1, in->end);
			st->nframes--;
			if (rc == -1)
				return -1;
		}
		return 0;
	}
	if (json_is_object(v)) {
		if (push(st, v, 0, 0, 0) == -1)
			return -1;
		rc = render(st, t, i + 1, in->end);
		st->nframes--;
		return rc;
	}
	return value_truthy(v) ? render(st, t, i + 1, in->end) : 0;
}

/* The page under the layout sees only ctx, as if rendered on its own. */
static int
render_content(struct rstate *st)
{
	const struct tpl *page = st->page;
	size_t base = st->base;
	int rc;

	if (page == NULL)
		return 0;
	if (push(st, st->frames[0].v, 0, 0, 0) == -1)
		return -1;
	st->base = st->nframes - 1;
	st->page = NULL;
	rc = render(st, page, 0, page->nins);
	st->page = page;
	st->base = base;
	st->nframes--;
	return rc;
}

static int
render(struct rstate *st, const struct tpl *t, size_t from, size_t to)
{
	const struct ins *in;
	size_t i;
	int rc;

	for (i = from; i < to; i++) {
		in = &t->ins[i];
		switch (in->op) {
		case OP_TEXT:
			rc = buf_add(st->out, in->text, in->len);
			break;
		case OP_VAR:
			rc = write_var(st, in);
			break;
		case OP_URLMARK:
			st->url_mark = st->out->len;
			rc = 0;
			break;
		case OP_SECTION:
			rc = render_section(st, t, i);
			i = in->end - 1;
			break;
		case OP_INVERTED:
			rc = truthy(st, &in->path) ? 0 :
			    render(st, t, i + 1, in->end);
			i = in->end - 1;
			break;
		case OP_PARTIAL:
			if (st->depth == TPL_DEPTH_MAX)
				return -1;
			st->depth++;
			rc = render(st, in->partial, 0, in->partial->nins);
			st->depth--;
			break;
		case OP_CONTENT:
			rc = render_content(st);
			break;
		default:
			rc = -1;
			break;
		}
		if (rc == -1)
			return -1;
	}
	return 0;
}

static int
render_root(const struct tpl *t, const struct tpl *page, json_t *ctx,
    struct buf *out)
{
	struct rstate rs;
	struct rstate *st = &rs;
	size_t mark = out->len;

	st->out = out;
	st->page = page;
	st->url_mark = SIZE_MAX;
	st->base = 0;
	st->nframes = 0;
	st->depth = 0;
	if (push(st, ctx, 0, 0, 0) == -1 || render(st, t, 0, t->nins) == -1) {
		buf_truncate(out, mark);
		return -1;
	}
	return 0;
}

int
tpl_render(const struct tpl_set *set, const char *name, json_t *ctx,
    struct buf *out)
{
	const struct tpl *t = find(set, name);

	return t == NULL ? -1 : render_root(t, NULL, ctx, out);
}

int
tpl_render_page(const struct tpl_set *set, const char *name, json_t *ctx,
    struct buf *out)
{
	const struct tpl *t = find(set, name);

	if (t == NULL)
		return -1;
	if (set->layout == NULL || set->layout == t)
		return render_root(t, NULL, ctx, out);
	return render_root(set->layout, t, ctx, out);
}
