/* test_template.c: template compiler, context-aware escaping, rendering, errors. */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "template.h"

static char errbuf[512];
static char rendered[65536];

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	ck_assert_int_eq(fclose(f), 0);
}

static void
remove_dir(const char *dir)
{
	char path[512];
	struct dirent *de;
	DIR *d = opendir(dir);

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) == -1)
			ck_assert_int_eq(rmdir(path), 0);
	}
	closedir(d);
	ck_assert_int_eq(rmdir(dir), 0);
}

/*
 * Writes the files given as name, text pairs (NULL-terminated) into a fresh
 * mkdtemp directory, loads it, removes it. NULL on error, message in errbuf.
 */
static struct tpl_set *
mkset(const char *name, ...)
{
	char dir[] = "/tmp/tpltest.XXXXXX";
	struct tpl_set *set;
	va_list ap;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	va_start(ap, name);
	for (; name != NULL; name = va_arg(ap, const char *))
		write_file(dir, name, va_arg(ap, const char *));
	va_end(ap);
	errbuf[0] = '\0';
	set = tpl_load_dir(dir, errbuf, sizeof(errbuf));
	remove_dir(dir);
	return set;
}

/* Renders name with ctx; returns the output (static) or NULL on -1. */
static const char *
render_ctx(const struct tpl_set *set, const char *name, json_t *ctx, int page)
{
	struct buf b;
	int rc;

	buf_init(&b, 1 << 20);
	rc = page ? tpl_render_page(set, name, ctx, &b) :
	    tpl_render(set, name, ctx, &b);
	snprintf(rendered, sizeof(rendered), "%s", buf_str(&b));
	buf_free(&b);
	return rc == 0 ? rendered : NULL;
}

static const char *
render_json(const struct tpl_set *set, const char *name, const char *json)
{
	json_error_t jerr;
	json_t *ctx = json_loads(json, 0, &jerr);
	const char *s;

	ck_assert_msg(ctx != NULL, "bad test JSON: %s", jerr.text);
	s = render_ctx(set, name, ctx, 0);
	json_decref(ctx);
	return s;
}

/* One template t.html rendered with json: the common case. */
static const char *
one(const char *text, const char *json)
{
	static char copy[65536];
	struct tpl_set *set = mkset("t.html", text, NULL);
	const char *s;

	ck_assert_msg(set != NULL, "load failed: %s", errbuf);
	s = render_json(set, "t", json);
	ck_assert_ptr_nonnull(s);
	snprintf(copy, sizeof(copy), "%s", s);
	tpl_free(set);
	return copy;
}

/* t.html must fail to compile with exactly this message. */
static void
fails(const char *text, const char *want)
{
	struct tpl_set *set = mkset("t.html", text, NULL);

	ck_assert_msg(set == NULL, "compiled: %s", text);
	ck_assert_msg(strcmp(errbuf, want) == 0, "template %s\n got: %s\nwant: %s",
	    text, errbuf, want);
}

START_TEST(variables_and_scalars)
{
	ck_assert_str_eq(one("Hello {{name}}!", "{\"name\":\"World\"}"),
	    "Hello World!");
	ck_assert_str_eq(one("{{ name }}", "{\"name\":\"spaced\"}"), "spaced");
	ck_assert_str_eq(one("[{{i}}|{{n}}|{{r}}|{{t}}|{{f}}|{{z}}|{{o}}|{{a}}|{{missing}}]",
	    "{\"i\":-42,\"n\":9007199254740993,\"r\":2.5,\"t\":true,\"f\":false,"
	    "\"z\":null,\"o\":{\"k\":1},\"a\":[1,2]}"),
	    "[-42|9007199254740993|2.5|true|false||||]");
	ck_assert_str_eq(one("{{a}} {{b}} {{c}}",
	    "{\"a\":-9223372036854775808,\"b\":9223372036854775807,\"c\":0}"),
	    "-9223372036854775808 9223372036854775807 0");
	ck_assert_str_eq(one("{{r1}} {{r2}} {{r3}} {{r4}}",
	    "{\"r1\":0.1,\"r2\":3.0,\"r3\":1e100,\"r4\":-0.000001}"),
	    "0.1 3 1e+100 -1e-06");
	ck_assert_str_eq(one("{{! a comment\n over lines }}x{{!}}", "{}"), "x");
	ck_assert_str_eq(one("no tags at all < > & \" '", "{}"),
	    "no tags at all < > & \" '");
}
END_TEST

START_TEST(dotted_lookup)
{
	const char *ctx = "{\"a\":{\"b\":{\"c\":\"deep\"}},\"list\":[\"x\",\"y\"],"
	    "\"s\":\"str\",\"a-b_1\":\"dash\"}";

	ck_assert_str_eq(one("{{a.b.c}}", ctx), "deep");
	ck_assert_str_eq(one("{{list.1}}{{list.0}}", ctx), "yx");
	ck_assert_str_eq(one("[{{a.x.c}}{{s.c}}{{list.9}}{{list.01x}}]", ctx), "[]");
	ck_assert_str_eq(one("{{a-b_1}}", ctx), "dash");
	/* Only the first segment searches outward (mustache rule). */
	ck_assert_str_eq(one("{{#a}}{{b.c}}/{{a.b.c}}{{/a}}", ctx), "deep/deep");
	ck_assert_str_eq(one("{{#a}}{{#b}}[{{s}}][{{b.x}}]{{/b}}{{/a}}",
	    "{\"a\":{\"b\":{\"c\":1}},\"s\":\"outer\",\"b\":{\"x\":\"no\"}}"),
	    "[outer][]");
}
END_TEST

START_TEST(text_escaping)
{
	ck_assert_str_eq(one("<p>{{x}}</p>",
	    "{\"x\":\"<script>alert('x')</script>\"}"),
	    "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</p>");
	ck_assert_str_eq(one("{{x}}", "{\"x\":\"a & b \\\" c\"}"),
	    "a &amp; b &quot; c");
	/* title and textarea hold character data: text escaping applies. */
	ck_assert_str_eq(one("<title>{{x}}</title><textarea>{{x}}</textarea>",
	    "{\"x\":\"</title><b>\"}"),
	    "<title>&lt;/title&gt;&lt;b&gt;</title>"
	    "<textarea>&lt;/title&gt;&lt;b&gt;</textarea>");
	ck_assert_str_eq(one("{{x}}", "{\"x\":\"caf\xc3\xa9 \xe2\x82\xac\"}"),
	    "caf\xc3\xa9 \xe2\x82\xac");
}
END_TEST

START_TEST(attr_escaping)
{
	ck_assert_str_eq(one("<a title=\"{{t}}\">x</a>",
	    "{\"t\":\"\\\" onmouseover=alert(1)\"}"),
	    "<a title=\"&#x22;&#x20;onmouseover&#x3D;alert&#x28;1&#x29;\">x</a>");
	ck_assert_str_eq(one("<a title='{{t}}'>", "{\"t\":\"it's <b>\"}"),
	    "<a title='it&#x27;s&#x20;&#x3C;b&#x3E;'>");
	/* Unquoted values are safe too: space and '>' are escaped. */
	ck_assert_str_eq(one("<a class={{t}}>", "{\"t\":\"a b>c\"}"),
	    "<a class=a&#x20;b&#x3E;c>");
	ck_assert_str_eq(one("<a class=x{{t}}>", "{\"t\":\"y z\"}"),
	    "<a class=xy&#x20;z>");
	/* Kept: alnum , . - _ / : and non-ASCII. */
	ck_assert_str_eq(one("<i data-v=\"{{t}}\">", "{\"t\":\"a,b.c-d_e/f:g\xc3\xa9\"}"),
	    "<i data-v=\"a,b.c-d_e/f:g\xc3\xa9\">");
	/* After the tag closes, text context again. */
	ck_assert_str_eq(one("<b class=\"c\">{{t}}</b>", "{\"t\":\"'\"}"),
	    "<b class=\"c\">&#39;</b>");
}
END_TEST

START_TEST(url_filter)
{
	const char *ctx = "{\"q\":\"a b&c/\xc3\xa9~\",\"n\":12}";

	ck_assert_str_eq(one("{{q|url}}", ctx), "a%20b%26c%2F%C3%A9~");
	/* In an attribute the encoded text is escaped again: '%' is &#x25;. */
	ck_assert_str_eq(one("<a href=\"/s?q={{q|url}}\">", ctx),
	    "<a href=\"/s?q=a&#x25;20b&#x25;26c&#x25;2F&#x25;C3&#x25;A9&#x7E;\">");
	ck_assert_str_eq(one("{{ n | url }}", ctx), "12");
	ck_assert_str_eq(one("[{{missing|url}}]", ctx), "[]");
}
END_TEST

START_TEST(raw_filter)
{
	ck_assert_str_eq(one("<div>{{h|raw}}</div>", "{\"h\":\"<b>bold</b> & 'q'\"}"),
	    "<div><b>bold</b> & 'q'</div>");
	ck_assert_str_eq(one("<a title=\"{{h|raw}}\">", "{\"h\":\"x&amp;y\"}"),
	    "<a title=\"x&amp;y\">");
	ck_assert_str_eq(one("{{n|raw}}", "{\"n\":5}"), "5");
}
END_TEST

START_TEST(json_filter)
{
	const char *ctx = "{\"d\":{\"s\":\"</script><b>\",\"n\":[1,2.5,null]}}";

	ck_assert_str_eq(one("{{d|json}}", ctx),
	    "{&quot;s&quot;:&quot;&lt;\\/script&gt;&lt;b&gt;&quot;,&quot;n&quot;:[1,2.5,null]}");
	ck_assert_str_eq(one("<div data-d=\"{{d|json}}\">", ctx),
	    "<div data-d=\"&#x7B;&#x22;s&#x22;:&#x22;&#x3C;&#x5C;/script&#x3E;"
	    "&#x3C;b&#x3E;&#x22;,&#x22;n&#x22;:&#x5B;1,2.5,null&#x5D;&#x7D;\">");
	ck_assert_ptr_null(strstr(one("{{d|json}}", ctx), "</script"));
	ck_assert_str_eq(one("{{s|json}} {{i|json}} {{t|json}} {{missing|json}}",
	    "{\"s\":\"x\",\"i\":3,\"t\":true}"),
	    "&quot;x&quot; 3 true null");
}
END_TEST

START_TEST(sections_arrays)
{
	ck_assert_str_eq(one("<ul>{{#items}}<li>{{.}}</li>{{/items}}</ul>",
	    "{\"items\":[\"a\",\"<b>\",3]}"),
	    "<ul><li>a</li><li>&lt;b&gt;</li><li>3</li></ul>");
	ck_assert_str_eq(one("{{#users}}{{name}}({{age}}) {{/users}}",
	    "{\"users\":[{\"name\":\"ann\",\"age\":31},{\"name\":\"bob\"}]}"),
	    "ann(31) bob() ");
	ck_assert_str_eq(one("[{{#e}}x{{/e}}]", "{\"e\":[]}"), "[]");
	ck_assert_str_eq(one("{{#m}}{{#.}}{{.}}{{/.}};{{/m}}", "{\"m\":[[1,2],[3]]}"),
	    "12;3;");
}
END_TEST

START_TEST(sections_objects_and_scalars)
{
	const char *t = "{{#v}}yes{{/v}}";

	ck_assert_str_eq(one("{{#o}}{{k}}{{/o}}", "{\"o\":{\"k\":\"in\"},\"k\":\"out\"}"), "in");
	ck_assert_str_eq(one("{{#o}}x{{/o}}", "{\"o\":{}}"), "x");
	ck_assert_str_eq(one(t, "{\"v\":true}"), "yes");
	ck_assert_str_eq(one(t, "{\"v\":false}"), "");
	ck_assert_str_eq(one(t, "{\"v\":1}"), "yes");
	ck_assert_str_eq(one(t, "{\"v\":0}"), "");
	ck_assert_str_eq(one(t, "{\"v\":0.5}"), "yes");
	ck_assert_str_eq(one(t, "{\"v\":0.0}"), "");
	ck_assert_str_eq(one(t, "{\"v\":\"s\"}"), "yes");
	ck_assert_str_eq(one(t, "{\"v\":\"\"}"), "");
	ck_assert_str_eq(one(t, "{\"v\":null}"), "");
	ck_assert_str_eq(one(t, "{}"), "");
	/* A truthy scalar is not pushed: {{.}} is still the enclosing value. */
	ck_assert_str_eq(one("{{#l}}{{#f}}[{{.}}]{{/f}}{{/l}}", "{\"l\":[\"e\"],\"f\":1}"),
	    "[e]");
}
END_TEST

START_TEST(nested_sections_outer_scope)
{
	ck_assert_str_eq(one("{{#users}}{{name}}@{{site}}:{{#tags}}[{{.}} of {{name}} on {{site}}]{{/tags}};{{/users}}",
	    "{\"site\":\"S\",\"users\":[{\"name\":\"ann\",\"tags\":[\"x\",\"y\"]},"
	    "{\"name\":\"bob\",\"site\":\"T\",\"tags\":[\"z\"]}]}"),
	    "ann@S:[x of ann on S][y of ann on S];bob@T:[z of bob on T];");
}
END_TEST

START_TEST(inverted_sections)
{
	const char *t = "{{^v}}none{{/v}}{{#v}}some{{/v}}";

	ck_assert_str_eq(one(t, "{}"), "none");
	ck_assert_str_eq(one(t, "{\"v\":[]}"), "none");
	ck_assert_str_eq(one(t, "{\"v\":\"\"}"), "none");
	ck_assert_str_eq(one(t, "{\"v\":0}"), "none");
	ck_assert_str_eq(one(t, "{\"v\":false}"), "none");
	ck_assert_str_eq(one(t, "{\"v\":[0]}"), "some");
	ck_assert_str_eq(one(t, "{\"v\":{}}"), "some");
	ck_assert_str_eq(one(t, "{\"v\":\"x\"}"), "some");
}
END_TEST

START_TEST(iteration_specials)
{
	ck_assert_str_eq(one("{{#l}}{{#@first}}[{{/@first}}{{@index}}={{.}}"
	    "{{^@last}}, {{/@last}}{{#@last}}]{{/@last}}{{/l}}",
	    "{\"l\":[\"a\",\"b\",\"c\"]}"),
	    "[0=a, 1=b, 2=c]");
	/* A lone '<' before a section tag is half-open markup: refused. */
	fails("{{#l}}<{{/l}}", "t.html:1: section 'l' ends in another HTML context than it starts");
	ck_assert_str_eq(one("{{#l}}{{@first}}/{{@last}} {{/l}}", "{\"l\":[1,2]}"),
	    "true/false false/true ");
	ck_assert_str_eq(one("{{#l}}{{#@index}}+{{/@index}}{{.}}{{/l}}", "{\"l\":[1,2,3]}"),
	    "1+2+3");
	/* The innermost array counts; objects in between do not hide it. */
	ck_assert_str_eq(one("{{#l}}{{#o}}{{@index}}{{/o}}{{#in}}{{@index}}{{/in}};{{/l}}",
	    "{\"l\":[{\"o\":{},\"in\":[7,8]},{\"o\":{}}]}"),
	    "001;1;");
	/* Outside any array: empty and falsy. */
	ck_assert_str_eq(one("[{{@index}}{{@first}}{{#@first}}x{{/@first}}{{^@last}}n{{/@last}}]", "{}"),
	    "[n]");
	ck_assert_str_eq(one("{{#l}}{{@index|json}}{{/l}}", "{\"l\":[1,2]}"), "01");
}
END_TEST

START_TEST(partials)
{
	struct tpl_set *set = mkset(
	    "page.html", "<ul>{{#items}}{{>item}}{{/items}}</ul>{{>footer}}",
	    "item.html", "<li title=\"{{title}}\">{{name}} ({{owner}})</li>",
	    "footer.html", "<p>{{owner}}</p>",
	    "tree.html", "<li>{{n}}{{#kids}}<ul>{{>tree}}</ul>{{/kids}}</li>",
	    NULL);

	ck_assert_msg(set != NULL, "%s", errbuf);
	ck_assert_int_eq(tpl_exists(set, "item"), 1);
	ck_assert_int_eq(tpl_exists(set, "nope"), 0);
	ck_assert_str_eq(render_json(set, "page",
	    "{\"owner\":\"<o>\",\"items\":[{\"name\":\"a\",\"title\":\"t 1\"},{\"name\":\"b\"}]}"),
	    "<ul><li title=\"t&#x20;1\">a (&lt;o&gt;)</li><li title=\"\">b (&lt;o&gt;)</li></ul>"
	    "<p>&lt;o&gt;</p>");
	/* Leaves need their own empty "kids": lookups search outward. */
	ck_assert_str_eq(render_json(set, "tree",
	    "{\"n\":1,\"kids\":[{\"n\":2,\"kids\":[{\"n\":3,\"kids\":[]}]},"
	    "{\"n\":4,\"kids\":null}]}"),
	    "<li>1<ul><li>2<ul><li>3</li></ul></li></ul><ul><li>4</li></ul></li>");
	tpl_free(set);
}
END_TEST

START_TEST(layout_content)
{
	struct tpl_set *set = mkset(
	    "layout.html", "<title>{{title}}{{^title}}site{{/title}}</title>"
		"<main>{{#user}}[{{name}}]{{>@content}}{{/user}}{{^user}}{{>@content}}{{/user}}</main>",
	    "home.html", "<p>{{name}} &amp; {{msg}}</p>",
	    NULL);
	json_t *ctx = json_pack("{s:s, s:s, s:s, s:{s:s}}", "title", "Home <1>",
	    "name", "root", "msg", "<hi>", "user", "name", "inner");

	ck_assert_msg(set != NULL, "%s", errbuf);
	/* The page sees ctx itself, not the layout's section stack. */
	ck_assert_str_eq(render_ctx(set, "home", ctx, 1),
	    "<title>Home &lt;1&gt;</title><main>[inner]<p>root &amp; &lt;hi&gt;</p></main>");
	json_object_del(ctx, "user");
	json_object_del(ctx, "title");
	ck_assert_str_eq(render_ctx(set, "home", ctx, 1),
	    "<title>site</title><main><p>root &amp; &lt;hi&gt;</p></main>");
	/* tpl_render does not wrap; @content alone renders nothing. */
	ck_assert_str_eq(render_ctx(set, "home", ctx, 0), "<p>root &amp; &lt;hi&gt;</p>");
	ck_assert_str_eq(render_ctx(set, "layout", ctx, 0), "<title>site</title><main></main>");
	ck_assert_ptr_null(render_ctx(set, "missing", ctx, 1));
	json_decref(ctx);
	tpl_free(set);
}
END_TEST

START_TEST(page_without_layout)
{
	struct tpl_set *set = mkset("home.html", "<p>{{x}}</p>", NULL);
	json_t *ctx = json_pack("{s:s}", "x", "1");

	ck_assert_msg(set != NULL, "%s", errbuf);
	ck_assert_str_eq(render_ctx(set, "home", ctx, 1), "<p>1</p>");
	json_decref(ctx);
	tpl_free(set);
}
END_TEST

START_TEST(nan_and_inf_are_empty)
{
	json_t *ctx = json_object();
	struct tpl_set *set = mkset("t.html", "[{{r}}][{{i}}][{{ok}}]", NULL);

	ck_assert_msg(set != NULL, "%s", errbuf);
	/*
	 * jansson refuses non-finite reals, so the renderer's isfinite() check
	 * is defence in depth: the value can only arrive as missing.
	 */
	ck_assert_ptr_null(json_real(NAN));
	ck_assert_ptr_null(json_real(INFINITY));
	ck_assert_int_eq(json_object_set_new(ctx, "r", json_real(NAN)), -1);
	ck_assert_int_eq(json_object_set_new(ctx, "i", json_real(-INFINITY)), -1);
	ck_assert_int_eq(json_object_set_new(ctx, "ok", json_real(1.5)), 0);
	ck_assert_str_eq(render_ctx(set, "t", ctx, 0), "[][][1.5]");
	json_decref(ctx);
	tpl_free(set);
}
END_TEST

START_TEST(invalid_utf8_becomes_fffd)
{
	struct tpl_set *set = mkset("t.html",
	    "{{s}}|<a title=\"{{s}}\">|{{s|raw}}|{{s|url}}|{{s|json}}|{{z}}", NULL);
	json_t *ctx = json_object();

	ck_assert_msg(set != NULL, "%s", errbuf);
	/* "a", lone 0xFF, "b", truncated euro sign: jansson's unchecked strings. */
	json_object_set_new(ctx, "s", json_stringn_nocheck("a\xff" "b\xe2\x82", 5));
	json_object_set_new(ctx, "z", json_stringn("x\0y", 3));
	ck_assert_str_eq(render_ctx(set, "t", ctx, 0),
	    "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd"
	    "|<a title=\"a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd\">"
	    "|a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd"
	    "|a%EF%BF%BDb%EF%BF%BD%EF%BF%BD"
	    "|null"
	    "|x\xef\xbf\xbdy");
	json_decref(ctx);
	tpl_free(set);
}
END_TEST

START_TEST(escapers_direct)
{
	struct buf b;

	buf_init(&b, 4096);
	ck_assert_int_eq(html_escape_text(&b, "<a href='x'>&\"</a>", 18), 0);
	ck_assert_str_eq(buf_str(&b), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
	buf_reset(&b);
	ck_assert_int_eq(html_escape_attr(&b, "a b\t\"'<>&=`\x01", 12), 0);
	ck_assert_str_eq(buf_str(&b),
	    "a&#x20;b&#x09;&#x22;&#x27;&#x3C;&#x3E;&#x26;&#x3D;&#x60;&#x01;");
	buf_reset(&b);
	ck_assert_int_eq(html_escape_text(&b, "\xc3\xa9\xc3", 3), 0);
	ck_assert_str_eq(buf_str(&b), "\xc3\xa9\xef\xbf\xbd");
	buf_reset(&b);
	ck_assert_int_eq(html_escape_attr(&b, "\xed\xa0\x80", 3), 0);	/* surrogate */
	ck_assert_str_eq(buf_str(&b), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	buf_free(&b);
	/* Cap reached: -1. */
	buf_init(&b, 5);
	ck_assert_int_eq(html_escape_text(&b, "<<", 2), -1);
	buf_free(&b);
}
END_TEST

START_TEST(compile_errors)
{
	fails("a\n{{#items}}\nb", "t.html:2: unclosed section 'items'");
	fails("{{#a}}\n{{#b}}\n{{/a}}{{/b}}", "t.html:3: mismatched close 'a', expected 'b'");
	fails("x\n\n{{/a}}", "t.html:3: mismatched close 'a': no open section");
	fails("\n\n{{x|upper}}", "t.html:3: unknown filter 'upper'");
	fails("{{x|}}", "t.html:1: unknown filter ''");
	fails("{{x|url|raw}}", "t.html:1: unknown filter 'url|raw'");
	fails("{{{x}}}", "t.html:1: bad tag '{{{x}}'");
	fails("{{&x}}", "t.html:1: bad tag '{{&x}}'");
	fails("{{a..b}}", "t.html:1: bad tag '{{a..b}}'");
	fails("{{.a}}", "t.html:1: bad tag '{{.a}}'");
	fails("{{}}", "t.html:1: bad tag '{{}}'");
	fails("{{#}}{{/}}", "t.html:1: bad tag '{{#}}'");
	fails("{{@foo}}", "t.html:1: bad tag '{{@foo}}'");
	fails("{{#a|raw}}{{/a}}", "t.html:1: bad tag '{{#a|raw}}'");
	fails("{{>bad name}}", "t.html:1: bad tag '{{>bad name}}'");
	fails("{{=<% %>=}}", "t.html:1: bad tag '{{=<% %>=}}'");
	fails("ok\n{{x", "t.html:2: unclosed tag");
	fails("{{>@content}}", "t.html:1: {{>@content}} outside layout.html");
	fails("<p>\n<a href=\"x\"", "t.html:2: template ends inside a tag");
	fails("<!-- open", "t.html:1: template ends inside a comment");
	fails("<script>x", "t.html:1: template ends inside a raw-text element (script, style, title...)");
	fails("<![CDATA[ x ]]>", "t.html:1: CDATA sections are not supported");
	fails("<script><!--\n</script>", "t.html:1: '<!--' inside <script> is not supported");

	/* Unknown partials are found after every file is loaded. */
	ck_assert_ptr_null(mkset("a.html", "{{>b}}", "b.html", "x\n{{>c}}", NULL));
	ck_assert_str_eq(errbuf, "b.html:2: unknown partial 'c'");
	ck_assert_ptr_null(mkset("a.html", "ok", "bad.html", "\xff", NULL));
	ck_assert_str_eq(errbuf, "bad.html: not valid UTF-8 (or has NUL bytes)");
}
END_TEST

START_TEST(unsafe_contexts)
{
	static const char *const bad[] = {
		"<script>\nvar x = {{x}};</script>",
		"<script>var x = {{x|json}};</script>",
		"<script>{{x|raw}}</script>",
		"<SCRIPT type=\"text/javascript\">{{x}}</script>",
		"<style>\np { color: {{x}} }</style>",
		"<div {{x}}>",
		"<div\n{{x}}>",
		"<div data-{{x}}=\"1\">",
		"<div class=\"a\" {{x}}>",
		"<!-- {{x}} -->",
		"<!--\n{{x}}-->",
		"<a onclick=\"{{x}}\">",
		"<a onmouseover='go({{x}})'>",
		"<p style=\"color: {{x}}\">",
		"<iframe srcdoc=\"{{x}}\">",
		"<{{x}}>",
		"</p {{x}}>",
		"<!DOCTYPE {{x}}>",
		"<title>a</ti{{x}}</title>",
		"<noscript>{{x}}</noscript>",
		"<script>\"</script >\"; {{x}}",
	};
	char want[64];
	size_t i;

	for (i = 0; i < ARRAY_LEN(bad); i++) {
		snprintf(want, sizeof(want), "t.html:%d: variable in unsafe context",
		    strchr(bad[i], '\n') != NULL ? 2 : 1);
		if (i == ARRAY_LEN(bad) - 1) {
			/* "</script >" ends the script: the variable is in text. */
			ck_assert_str_eq(one(bad[i], "{\"x\":\"<\"}"),
			    "<script>\"</script >\"; &lt;");
			continue;
		}
		fails(bad[i], want);
	}
	fails("<a title=\"{{>p}}\">", "t.html:1: partial in unsafe context");
	fails("<div data-{{#x}}a{{/x}}>", "t.html:1: section tag in unsafe context");
	/* Markup after a raw-text element is ordinary text again. */
	ck_assert_str_eq(one("<script>var a = '<b>';</script><style>p{}</style>{{x}}",
	    "{\"x\":\"<\"}"), "<script>var a = '<b>';</script><style>p{}</style>&lt;");
	ck_assert_str_eq(one("<!-- {{! a comment is fine }} -->{{x}}", "{\"x\":1}"),
	    "<!--  -->1");
}
END_TEST

START_TEST(section_context_rules)
{
	const char *ctx = "{\"c\":true,\"d\":false,\"t\":\"T\",\"a\":1}";

	/* Common patterns compile and render. */
	ck_assert_str_eq(one("<input type=\"checkbox\" {{#c}}checked{{/c}}>", ctx),
	    "<input type=\"checkbox\" checked>");
	ck_assert_str_eq(one("<input checked {{#d}}disabled{{/d}}>", ctx),
	    "<input checked >");
	ck_assert_str_eq(one("<a class=\"x{{#a}} active{{/a}}\">", ctx),
	    "<a class=\"x active\">");
	ck_assert_str_eq(one("<title>{{#t}}{{t}} - {{/t}}site</title>", ctx),
	    "<title>T - site</title>");
	ck_assert_str_eq(one("<script>{{#c}}var dev = 1;{{/c}}</script>", ctx),
	    "<script>var dev = 1;</script>");
	ck_assert_str_eq(one("{{#c}}<b>{{t}}</b>{{/c}}", ctx), "<b>T</b>");

	/* A section must leave the HTML context it started in. */
	fails("{{#c}}<a title=\"{{/c}}\">",
	    "t.html:1: section 'c' ends in another HTML context than it starts");
	fails("<script>{{#c}}</script>{{/c}}",
	    "t.html:1: section 'c' ends in another HTML context than it starts");
	fails("<a href=\"{{#c}}\" title=\"{{/c}}\">",
	    "t.html:1: section 'c' ends in another HTML context than it starts");
	fails("<script {{#c}}><b {{/c}}>",
	    "t.html:1: section 'c' ends in another HTML context than it starts");
	fails("<a hr{{#c}}ef{{/c}}>", "t.html:1: section tag in unsafe context");
	fails("<{{#c}}b{{/c}}script>", "t.html:1: section tag in unsafe context");
	fails("<a href={{#c}}x{{/c}}>", "t.html:1: section tag in unsafe context");
	/* Skipping the section would hand the value to another attribute. */
	fails("<a {{#c}}title{{/c}}=\"{{t}}\">",
	    "t.html:1: attribute name or '=' continues past a section tag");
	fails("<a {{#c}}x{{/c}}onclick=\"{{t}}\">",
	    "t.html:1: attribute name or '=' continues past a section tag");
	/* Repeating it would glue "on" to "click". */
	fails("<a {{#c}}click=\"{{t}}\" on{{/c}}>",
	    "t.html:1: section 'c' ends inside an attribute name and has variables");
}
END_TEST

START_TEST(url_scheme_check)
{
	const char *t = "<a href=\"{{u}}\">";

	ck_assert_str_eq(one(t, "{\"u\":\"javascript:alert(1)\"}"),
	    "<a href=\"about:invalid#unsafe-url\">");
	ck_assert_str_eq(one(t, "{\"u\":\" JaVaScRiPt:alert(1)\"}"),
	    "<a href=\"about:invalid#unsafe-url\">");
	ck_assert_str_eq(one(t, "{\"u\":\"java\\tscript:x\"}"),
	    "<a href=\"about:invalid#unsafe-url\">");
	ck_assert_str_eq(one(t, "{\"u\":\"data:text/html,x\"}"),
	    "<a href=\"about:invalid#unsafe-url\">");
	ck_assert_str_eq(one(t, "{\"u\":\"https://example.com/a?b=c\"}"),
	    "<a href=\"https://example.com/a&#x3F;b&#x3D;c\">");
	ck_assert_str_eq(one(t, "{\"u\":\"MAILTO:a@b\"}"),
	    "<a href=\"MAILTO:a&#x40;b\">");
	ck_assert_str_eq(one(t, "{\"u\":\"/p/a:b\"}"), "<a href=\"/p/a:b\">");
	ck_assert_str_eq(one(t, "{\"u\":\"#top\"}"), "<a href=\"&#x23;top\">");
	ck_assert_str_eq(one(t, "{\"u\":\"rel\"}"), "<a href=\"rel\">");
	/* Pieces cannot assemble a scheme, even behind escaped whitespace. */
	ck_assert_str_eq(one("<a href=\"{{a}}{{b}}\">",
	    "{\"a\":\"java\",\"b\":\"script:alert(1)\"}"),
	    "<a href=\"javaabout:invalid#unsafe-url\">");
	ck_assert_str_eq(one("<a href=\"{{a}}{{b}}\">",
	    "{\"a\":\" \",\"b\":\"javascript:x\"}"),
	    "<a href=\"&#x20;about:invalid#unsafe-url\">");
	ck_assert_str_eq(one("<a href=\"{{a}}{{b}}\">",
	    "{\"a\":\"https:\",\"b\":\"//x/javascript:y\"}"),
	    "<a href=\"https://x/javascript:y\">");
	/* Template text decides the scheme: later values are not checked. */
	ck_assert_str_eq(one("<a href=\"/u/{{u}}\">", "{\"u\":\"javascript:1\"}"),
	    "<a href=\"/u/javascript:1\">");
	/* Unquoted, other URL attributes, sections in between. */
	ck_assert_str_eq(one("<a href={{u}}>", "{\"u\":\"javascript:1\"}"),
	    "<a href=about:invalid#unsafe-url>");
	ck_assert_str_eq(one("<img alt=\"{{u}}\" src=\"{{u}}\"><form action='{{u}}'>",
	    "{\"u\":\"javascript:1\"}"),
	    "<img alt=\"javascript:1\" src=\"about:invalid#unsafe-url\">"
	    "<form action='about:invalid#unsafe-url'>");
	ck_assert_str_eq(one("<a href=\"{{#l}}{{.}}{{/l}}\">",
	    "{\"l\":[\"javascript:\",\"javascript:\"]}"),
	    "<a href=\"about:invalid#unsafe-url" "javascript:\">");
	/* |url encodes the colon; |raw is the explicit exception. */
	ck_assert_str_eq(one("<a href=\"{{u|url}}\">", "{\"u\":\"javascript:1\"}"),
	    "<a href=\"javascript&#x25;3A1\">");
	ck_assert_str_eq(one("<a href=\"{{u|raw}}\">", "{\"u\":\"javascript:1\"}"),
	    "<a href=\"javascript:1\">");
}
END_TEST

START_TEST(recursion_cap)
{
	struct tpl_set *set = mkset(
	    "loop.html", "x{{>loop}}",
	    "node.html", "{{n}}{{#next}}{{>node}}{{/next}}",
	    NULL);
	struct buf b;
	json_t *deep = json_pack("{s:i}", "n", 0), *cur = deep, *last;
	int i;

	ck_assert_msg(set != NULL, "%s", errbuf);
	buf_init(&b, 1 << 20);
	ck_assert_int_eq(buf_adds(&b, "keep"), 0);
	ck_assert_int_eq(tpl_render(set, "loop", deep, &b), -1);
	ck_assert_str_eq(buf_str(&b), "keep");
	buf_free(&b);
	/* 16 nested partials render; the 17th is refused. */
	for (i = 1; i <= 16; i++) {
		json_t *next = json_pack("{s:i, s:b}", "n", i % 10, "next", 0);

		json_object_set_new(cur, "next", next);
		cur = next;
	}
	ck_assert_str_eq(render_ctx(set, "node", deep, 0), "01234567890123456");
	last = json_pack("{s:i, s:b}", "n", 7, "next", 0);
	json_object_set_new(cur, "next", last);
	ck_assert_ptr_null(render_ctx(set, "node", deep, 0));
	json_decref(deep);
	tpl_free(set);
}
END_TEST

START_TEST(buffer_cap)
{
	struct tpl_set *set = mkset("t.html", "hello {{#l}}{{.}}{{/l}}", NULL);
	json_t *ctx = json_pack("{s:[s,s]}", "l", "world", "<&>");
	struct buf b;

	ck_assert_msg(set != NULL, "%s", errbuf);
	buf_init(&b, 10);
	ck_assert_int_eq(buf_adds(&b, "ab"), 0);
	ck_assert_int_eq(tpl_render(set, "t", ctx, &b), -1);
	ck_assert_str_eq(buf_str(&b), "ab");
	buf_free(&b);
	/* Exactly enough room succeeds: "hello world&lt;&amp;&gt;" is 24 bytes. */
	buf_init(&b, 24);
	ck_assert_int_eq(tpl_render(set, "t", ctx, &b), 0);
	ck_assert_str_eq(buf_str(&b), "hello world&lt;&amp;&gt;");
	buf_free(&b);
	buf_init(&b, 23);
	ck_assert_int_eq(tpl_render(set, "t", ctx, &b), -1);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
	json_decref(ctx);
	tpl_free(set);
}
END_TEST

START_TEST(missing_template)
{
	struct tpl_set *set = mkset("t.html", "x", NULL);
	struct buf b;

	ck_assert_msg(set != NULL, "%s", errbuf);
	buf_init(&b, 100);
	ck_assert_int_eq(tpl_render(set, "nope", NULL, &b), -1);
	ck_assert_int_eq(tpl_render_page(set, "nope", NULL, &b), -1);
	ck_assert_int_eq(tpl_render(set, "t.html", NULL, &b), -1);
	ck_assert_uint_eq(b.len, 0);
	/* A NULL ctx renders with nothing defined. */
	ck_assert_int_eq(tpl_render(set, "t", NULL, &b), 0);
	ck_assert_str_eq(buf_str(&b), "x");
	buf_free(&b);
	tpl_free(set);
}
END_TEST

START_TEST(load_dir_files)
{
	char dir[] = "/tmp/tpltest.XXXXXX", path[512];
	char *big;
	struct tpl_set *set;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_file(dir, "a.html", "A");
	write_file(dir, "notes.txt", "{{#broken");
	write_file(dir, ".hidden.html", "{{#broken");
	write_file(dir, "a.html~", "{{#broken");
	snprintf(path, sizeof(path), "%s/sub.html", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);	/* not a regular file */
	snprintf(path, sizeof(path), "%s/fifo.html", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	set = tpl_load_dir(dir, errbuf, sizeof(errbuf));
	ck_assert_msg(set != NULL, "%s", errbuf);
	ck_assert_int_eq(tpl_exists(set, "a"), 1);
	ck_assert_int_eq(tpl_exists(set, "notes"), 0);
	ck_assert_int_eq(tpl_exists(set, "sub"), 0);
	ck_assert_int_eq(tpl_exists(set, "fifo"), 0);
	tpl_free(set);

	/* 1 MiB is the cap per file. */
	big = malloc((1 << 20) + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', (1 << 20) + 1);
	big[1 << 20] = '\0';
	write_file(dir, "big.html", big);
	set = tpl_load_dir(dir, errbuf, sizeof(errbuf));
	ck_assert_msg(set != NULL, "%s", errbuf);
	tpl_free(set);
	big[1 << 20] = 'x';
	big[(1 << 20) + 1] = '\0';
	write_file(dir, "big.html", big);
	free(big);
	ck_assert_ptr_null(tpl_load_dir(dir, errbuf, sizeof(errbuf)));
	ck_assert_str_eq(errbuf, "big.html: larger than 1048576 bytes");
	remove_dir(dir);

	ck_assert_ptr_null(tpl_load_dir("/nonexistent/tpl", errbuf, sizeof(errbuf)));
	ck_assert_str_eq(errbuf, "/nonexistent/tpl: No such file or directory");
	/* An empty directory is an empty set. */
	set = mkset(NULL);
	ck_assert_ptr_nonnull(set);
	ck_assert_int_eq(tpl_exists(set, "layout"), 0);
	tpl_free(set);
}
END_TEST

START_TEST(project_templates)
{
	const char *src = getenv("VERDICT_SRCDIR");
	char dir[512];
	struct tpl_set *set;
	json_t *ctx;
	const char *out;

	snprintf(dir, sizeof(dir), "%s/templates", src != NULL ? src : ".");
	set = tpl_load_dir(dir, errbuf, sizeof(errbuf));
	ck_assert_msg(set != NULL, "%s", errbuf);
	ctx = json_pack("{s:s, s:s, s:i, s:s}", "title", "<T>", "version", "1",
	    "status", 404, "message", "gone");
	if (tpl_exists(set, "error")) {
		out = render_ctx(set, "error", ctx, 1);
		ck_assert_ptr_nonnull(out);
		ck_assert_ptr_nonnull(strstr(out, "&lt;T&gt;"));
		ck_assert_ptr_null(strstr(out, "<T>"));
	}
	json_decref(ctx);
	tpl_free(set);
}
END_TEST

struct worker {
	const struct tpl_set *set;
	json_t *ctx;
	const char *want;
	int bad;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct buf b;
	int i;

	buf_init(&b, 1 << 16);
	for (i = 0; i < 300; i++) {
		buf_reset(&b);
		if (tpl_render_page(w->set, "page", w->ctx, &b) != 0 ||
		    strcmp(buf_str(&b), w->want) != 0)
			w->bad++;
	}
	buf_free(&b);
	return NULL;
}

START_TEST(threads_share_one_set)
{
	struct tpl_set *set = mkset(
	    "layout.html", "<h1>{{title}}</h1>{{>@content}}",
	    "page.html", "{{#l}}{{>item}}{{/l}}",
	    "item.html", "<a href=\"{{u}}\" title=\"{{@index}}\">{{u|url}}</a>",
	    NULL);
	json_t *ctx = json_loads("{\"title\":\"t\",\"l\":[{\"u\":\"/a b\"},"
	    "{\"u\":\"javascript:x\"}]}", 0, NULL);
	struct worker w[4];
	pthread_t th[4];
	static char want[sizeof(rendered)];
	int i;

	ck_assert_msg(set != NULL, "%s", errbuf);
	snprintf(want, sizeof(want), "%s", render_ctx(set, "page", ctx, 1));
	ck_assert_str_eq(want, "<h1>t</h1><a href=\"/a&#x20;b\" title=\"0\">%2Fa%20b</a>"
	    "<a href=\"about:invalid#unsafe-url\" title=\"1\">javascript%3Ax</a>");
	for (i = 0; i < 4; i++) {
		w[i] = (struct worker){ set, ctx, want, 0 };
		ck_assert_int_eq(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_int_eq(w[i].bad, 0);
	}
	json_decref(ctx);
	tpl_free(set);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("template");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, variables_and_scalars);
	tcase_add_test(tc, dotted_lookup);
	tcase_add_test(tc, text_escaping);
	tcase_add_test(tc, attr_escaping);
	tcase_add_test(tc, url_filter);
	tcase_add_test(tc, raw_filter);
	tcase_add_test(tc, json_filter);
	tcase_add_test(tc, sections_arrays);
	tcase_add_test(tc, sections_objects_and_scalars);
	tcase_add_test(tc, nested_sections_outer_scope);
	tcase_add_test(tc, inverted_sections);
	tcase_add_test(tc, iteration_specials);
	tcase_add_test(tc, partials);
	tcase_add_test(tc, layout_content);
	tcase_add_test(tc, page_without_layout);
	tcase_add_test(tc, nan_and_inf_are_empty);
	tcase_add_test(tc, invalid_utf8_becomes_fffd);
	tcase_add_test(tc, escapers_direct);
	tcase_add_test(tc, compile_errors);
	tcase_add_test(tc, unsafe_contexts);
	tcase_add_test(tc, section_context_rules);
	tcase_add_test(tc, url_scheme_check);
	tcase_add_test(tc, recursion_cap);
	tcase_add_test(tc, buffer_cap);
	tcase_add_test(tc, missing_template);
	tcase_add_test(tc, load_dir_files);
	tcase_add_test(tc, project_templates);
	tcase_add_test(tc, threads_share_one_set);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
