/* template.h: a small logic-less template engine whose default output is escaped for its HTML context. */
#ifndef VERDICT_TEMPLATE_H
#define VERDICT_TEMPLATE_H

#include <jansson.h>

#include "util.h"

/*
 * Syntax (data is a jansson object; lookups search the section stack from
 * the innermost value outward, mustache style):
 *   {{name}} {{a.b.c}} {{list.0}}  value, escaped for where the tag stands:
 *                          text, or an attribute value; anywhere else
 *                          (script/style content, comments, inside a tag,
 *                          on*=, style=, srcdoc=) is a compile error
 *   {{x|url}} {{x|json}}   percent-encoded / compact JSON, then escaped
 *   {{x|raw}}              unescaped: the one explicit exception
 *   {{#x}}..{{/x}}         array: once per element; object: once, pushed;
 *                          truthy scalar: once; falsy: skipped
 *   {{^x}}..{{/x}}         when x is falsy (missing, null, false, 0, "", [])
 *   {{.}} {{@index}} {{#@first}} {{#@last}}   current element, loop info
 *   {{>name}}              another template of the set, same stack
 *   {{>@content}}          in layout.html: the page (tpl_render_page)
 *   {{! comment }}
 * Values in href, src, action and other URL attributes that would start
 * the URL with a scheme other than http, https, mailto or tel are written
 * as "about:invalid#unsafe-url".
 */
struct tpl_set;

/*
 * Compiles every *.html file in dir; a template's name is its file name
 * without ".html" ("layout", "error", "home"). Returns NULL and writes a
 * message ("login.html:12: unclosed section 'items'") into err on failure.
 * Caller frees with tpl_free. A compiled set is immutable and may be shared
 * by all threads.
 */
struct tpl_set *tpl_load_dir(const char *dir, char *err, size_t errlen) WUR;
void tpl_free(struct tpl_set *set);
int tpl_exists(const struct tpl_set *set, const char *name);

/*
 * Renders template name with ctx (a JSON object) appended to out.
 * Returns 0, or -1 when out's cap is reached, the template is missing or
 * partials nest deeper than 16; on -1, out is left as it was. Reads the set
 * and ctx only, so threads may render from one set at once.
 */
int tpl_render(const struct tpl_set *set, const char *name, json_t *ctx,
    struct buf *out) WUR;

/*
 * Renders template name, then the "layout" template with the same ctx,
 * where the layout's {{>@content}} inserts the page's output verbatim (it
 * is already escaped); the page sees ctx as in tpl_render, so a handler sets
 * "title" in ctx for both. Without a "layout" template this is tpl_render.
 * Returns as tpl_render; on -1, out is left as it was.
 */
int tpl_render_page(const struct tpl_set *set, const char *name, json_t *ctx,
    struct buf *out) WUR;

/*
 * Escapers, one per output context; exported for handlers and tests.
 * Text: & < > " ' become entities. Attribute: all but ASCII alphanumerics
 * and ",.-_/:" become &#xHH; (safe quoted or not). Both pass valid UTF-8
 * and write U+FFFD for each byte of invalid UTF-8 and for NUL.
 */
int html_escape_text(struct buf *out, const char *s, size_t len) WUR;
int html_escape_attr(struct buf *out, const char *s, size_t len) WUR;

#endif
