/* page-models.c: HTML pages of the model registry (models, versions, stages, aliases, uploads) and the predict form with its explanation chart. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chart.h"
#include "db.h"
#include "handlers.h"
#include "model.h"
#include "perm.h"
#include "registry.h"
#include "spec.h"
#include "svg.h"

#define FEATURES_SHOWN 1000     /* rows of the features table; wider specs are cut */
#define LABEL_MAX 40            /* bytes of "field = value" in the explanation chart */

static const char *const stage_names[] = { "None", "Staging", "Production", "Archived" };

/* A version number from a URL: 1..999999999 without leading zeros; 0 when malformed. */
static int
version_num(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 9 || s[0] == '0' || strspn(s, "0123456789") != n)
		return 0;
	return atoi(s);
}

/* "/models/<name><suffix>", the name percent-encoded; arena memory, NULL when full. */
static const char *
model_url(struct req *r, const char *name, const char *suffix)
{
	struct buf b;
	const char *s = NULL;

	buf_init(&b, 4096);
	if (buf_adds(&b, "/models/") == 0 && url_encode(&b, name, strlen(name)) == 0 &&
	    buf_adds(&b, suffix) == 0)
		s = arena_strdup(r->a, buf_str(&b));
	buf_free(&b);
	return s;
}

/* Redirect-after-POST: a flash for the next page, then 303 to the model's page + suffix. */
static int
done(struct req *r, const char *name, const char *suffix, const char *msg)
{
	const char *url = model_url(r, name, suffix);

	if (url == NULL || resp_flash(r, "ok", msg) == -1)
		return -1;
	return resp_redirect(r, url);
}

static json_t *
stage_options(const char *current)
{
	json_t *a = json_array();

	for (size_t i = 0; i < ARRAY_LEN(stage_names); i++)
		json_array_append_new(a, json_pack("{s:s, s:b}", "value", stage_names[i],
		    "selected", strcmp(current, stage_names[i]) == 0));
	return a;
}

/* "Production" → "production", for the CSS class of a stage badge. */
static json_t *
stage_class(const char *stage)
{
	char lc[16];
	size_t i;

	for (i = 0; stage[i] != '\0' && i < sizeof(lc) - 1; i++)
		lc[i] = (char)(stage[i] >= 'A' && stage[i] <= 'Z' ? stage[i] + 32 : stage[i]);
	lc[i] = '\0';
	return json_string(lc);
}

/* Comma-separated aliases (as the statements aggregate them) → JSON array of strings. */
static json_t *
alias_list(const char *csv)
{
	json_t *a = json_array();
	const char *p = csv;

	while (*p != '\0') {
		size_t n = strcspn(p, ",");

		if (n > 0)
			json_array_append_new(a, json_stringn(p, n));
		p += n + (p[n] == ',');
	}
	return a;
}

/* ---- models ---- */

/* Every model with its serving and latest version and 24 h prediction count; NULL on DB error. */
json_t *
page_model_list(struct req *r)
{
	PGresult *res = db_exec(r->db, STMT_MODEL_LIST_PAGE, 0, NULL);
	json_t *arr;

	if (res == NULL)
		return NULL;
	arr = json_array();
	for (int i = 0; i < PQntuples(res); i++) {
		enum perm p;

		/* Only the models the caller may read. */
		if (perm_model(r, PQgetvalue(res, i, 0), &p) == -1) {
			PQclear(res);
			json_decref(arr);
			return NULL;
		}
		if (p >= PERM_READ)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
			    "name", PQgetvalue(res, i, 0), "description", PQgetvalue(res, i, 1),
			    "latest", PQgetvalue(res, i, 2), "serving", PQgetvalue(res, i, 3),
			    "serving_stage", PQgetvalue(res, i, 4), "predictions_24h",
			    PQgetvalue(res, i, 5)));
	}
	PQclear(res);
	return arr;
}

int
page_models(struct req *r)
{
	json_t *models = page_model_list(r);

	if (models == NULL)
		return -1;
	return resp_html(r, 200, "models", json_pack("{s:s, s:o}", "title", "Models",
	    "models", models));
}

int
page_models_create(struct req *r)
{
	const char *name = r->in[0].s;
	char msg[300];
	int rc = registry_create_model(r, name, r->in[1].present ? r->in[1].s : "");

	if (rc != 0)
		return rc == 1 ? 0 : -1;
	snprintf(msg, sizeof(msg), "Model '%.100s' created: upload its first version below.",
	    name);
	return done(r, name, "", msg);
}

int
page_predict_pick(struct req *r)
{
	json_t *models = page_model_list(r);

	if (models == NULL)
		return -1;
	return resp_html(r, 200, "predict-pick", json_pack("{s:s, s:o}", "title", "Predict",
	    "models", models));
}

int
page_model(struct req *r)
{
	const char *name = req_path_param(r, "name");
	const char *vals[1] = { name };
	PGresult *res;
	json_t *ctx, *versions, *aliases, *quality;
	int serving = 0, fallback = 0, latest = 0, rc;
	int prc;

	if ((prc = perm_require_model(r, name, PERM_READ)) != 0)
		return prc == 1 ? 0 : -1;

	if ((res = db_exec(r->db, STMT_MODEL_GET, 1, vals)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "model '%.100s' does not exist",
		    name);
		return 0;
	}
	ctx = json_pack("{s:s, s:s, s:s}", "title", name, "name", PQgetvalue(res, 0, 0),
	    "description", PQgetvalue(res, 0, 1));
	PQclear(res);
	if ((res = db_exec(r->db, STMT_MODEL_VERSIONS, 1, vals)) == NULL) {
		json_decref(ctx);
		return -1;
	}
	versions = json_array();
	aliases = json_array();
	/* Rows come newest first; the serving version follows MODEL_RESOLVE_DEFAULT. */
	for (int i = 0; i < PQntuples(res); i++) {
		int v = atoi(PQgetvalue(res, i, 0));
		const char *stage = PQgetvalue(res, i, 1);
		json_t *al = alias_list(PQgetvalue(res, i, 7)), *a;
		size_t k;

		if (latest == 0)
			latest = v;
		if (serving == 0 && !strcmp(stage, "Production"))
			serving = v;
		if (fallback == 0 && strcmp(stage, "Archived") != 0)
			fallback = v;
		json_array_foreach(al, k, a)
			json_array_append_new(aliases, json_pack("{s:O, s:i}", "alias", a,
			    "version", v));
		json_array_append_new(versions, json_pack("{s:i, s:s, s:o, s:o, s:o, s:o?, "
		    "s:i, s:s, s:s}", "version", v, "stage", stage, "stage_class",
		    stage_class(stage), "stages", stage_options(stage), "aliases", al,
		    "created_at", chart_time(PQgetvalue(res, i, 5)), "num_features",
		    atoi(PQgetvalue(res, i, 6)), "source", PQgetvalue(res, i, 3), "run_id",
		    PQgetvalue(res, i, 4)));
	}
	PQclear(res);
	if (serving == 0)
		serving = fallback;
	json_object_set_new(ctx, "versions", versions);
	json_object_set_new(ctx, "alias_rows", aliases);
	json_object_set_new(ctx, "serving", json_integer(serving));
	json_object_set_new(ctx, "latest", json_integer(latest));
	json_object_set_new(ctx, "alias_version", json_integer(serving ? serving : latest));
	if ((rc = page_quality(r, name, r->in[0].present ? r->in[0].s : "7d", &quality)) != 0) {
		json_decref(ctx);
		return rc == 1 ? 0 : -1;
	}
	json_object_set_new(ctx, "quality", quality);
	return resp_html(r, 200, "model", ctx);
}

int
page_model_version(struct req *r)
{
	const char *name = req_path_param(r, "name"), *ver = req_path_param(r, "version");
	const char *vals[2] = { name, ver };
	char size[32], err[SPEC_ERR_MAX] = "";
	PGresult *res;
	json_t *ctx, *sj, *features;
	struct spec *s = NULL;
	char *pretty = NULL;
	int v = version_num(ver);
	int prc;

	if ((prc = perm_require_model(r, name, PERM_READ)) != 0)
		return prc == 1 ? 0 : -1;

	if (v == 0) {
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "model '%.100s' has no version "
		    "%.20s", name, ver);
		return 0;
	}
	if ((res = db_exec(r->db, STMT_VERSION_DETAIL, 2, vals)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "model '%.100s' has no version %d",
		    name, v);
		return 0;
	}
	chart_bytes(atoll(PQgetvalue(res, 0, 6)), size, sizeof(size));
	ctx = json_pack("{s:s, s:s, s:i, s:s, s:o, s:s, s:i, s:o?, s:s, s:s, s:s, s:o}",
	    "title", arena_printf(r->a, "%s v%d", name, v), "name", name, "model_version", v,
	    "stage", PQgetvalue(res, 0, 0), "stage_class", stage_class(PQgetvalue(res, 0, 0)),
	    "format", PQgetvalue(res, 0, 1), "num_features", atoi(PQgetvalue(res, 0, 2)),
	    "created_at", chart_time(PQgetvalue(res, 0, 3)), "source", PQgetvalue(res, 0, 4),
	    "run_id", PQgetvalue(res, 0, 5), "booster_size", size, "aliases",
	    alias_list(PQgetvalue(res, 0, 8)));
	if (ctx != NULL && PQgetisnull(res, 0, 7)) {
		/* Registered through MLflow's API without a booster: nothing to show or serve. */
		json_object_set_new(ctx, "spec_error", json_sprintf("not servable: this version "
		    "has no booster (%s)", PQgetvalue(res, 0, 9)));
		json_object_set_new(ctx, "format", json_string("none"));
		json_object_set_new(ctx, "features", json_array());
		PQclear(res);
		return resp_html(r, 200, "model-version", ctx);
	}
	sj = json_loads(PQgetvalue(res, 0, 7), 0, NULL);
	PQclear(res);
	if (ctx == NULL || sj == NULL) {
		json_decref(ctx);
		json_decref(sj);
		return -1;
	}
	if ((pretty = json_dumps(sj, JSON_INDENT(2))) != NULL)
		json_object_set_new(ctx, "spec", json_string(pretty));
	free(pretty);
	features = json_array();
	if ((s = spec_parse(sj, err, sizeof(err))) != NULL) {
		size_t w = spec_width(s);

		for (size_t f = 0; f < w && f < FEATURES_SHOWN; f++)
			json_array_append_new(features, json_pack("{s:I, s:s, s:s}", "index",
			    (json_int_t)f, "name", spec_feature_name(s, f), "input",
			    spec_input_name(s, spec_feature_input(s, f))));
		if (w > FEATURES_SHOWN)
			json_object_set_new(ctx, "features_cut", json_sprintf("the first %d of "
			    "%zu columns", FEATURES_SHOWN, w));
		spec_free(s);
	} else
		json_object_set_new(ctx, "spec_error", json_string(err));
	json_decref(sj);
	json_object_set_new(ctx, "features", features);
	return resp_html(r, 200, "model-version", ctx);
}

/* The booster bytes as uploaded, as a download named NAME-vN.json / .ubj. */
int
page_model_booster(struct req *r)
{
	const char *name = req_path_param(r, "name"), *ver = req_path_param(r, "version");
	const char *vals[2] = { name, ver };
	char disp[400];
	unsigned char *bytes;
	size_t len;
	PGresult *res;
	int v = version_num(ver), rc = -1;
	int prc;

	if ((prc = perm_require_model(r, name, PERM_READ)) != 0)
		return prc == 1 ? 0 : -1;

	if (v == 0) {
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "model '%.100s' has no version "
		    "%.20s", name, ver);
		return 0;
	}
	if ((res = db_exec(r->db, STMT_VERSION_BOOSTER, 2, vals)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "model '%.100s' has no version %d",
		    name, v);
		return 0;
	}
	if (PQgetisnull(res, 0, 0)) {
		PQclear(res);
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "model '%.100s' version %d has no "
		    "booster (registered with metadata only)", name, v);
		return 0;
	}
	/* The name matched a stored one, so it is [A-Za-z0-9_.-]: safe inside the quotes. */
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s-v%d.%s\"", name, v,
	    PQgetvalue(res, 0, 1));
	bytes = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 0), &len);
	PQclear(res);
	if (bytes == NULL)
		return -1;
	if (resp_header(&r->resp, "Content-Disposition", disp) == 0)
		rc = resp_text(r, 200, "application/octet-stream", (const char *)bytes, len);
	PQfreemem(bytes);
	return rc;
}

int
page_version_upload(struct req *r)
{
	const char *name = req_path_param(r, "name");
	char msg[64];
	int version = 0;
	int rc = registry_add_version(r, name, r->in[0].s, r->in[0].len, r->in[1].s,
	    r->in[1].len, r->in[2].present ? r->in[2].s : "", r->in[3].present ?
	    r->in[3].s : "", NULL, &version);

	if (rc != 0)
		return rc == 1 ? 0 : -1;
	snprintf(msg, sizeof(msg), "Version %d uploaded", version);
	return done(r, name, "", msg);
}

int
page_version_stage(struct req *r)
{
	const char *name = req_path_param(r, "name"), *ver = req_path_param(r, "version");
	char msg[80];
	int rc = registry_set_stage(r, name, ver, r->in[0].s,
	    r->in[1].present && r->in[1].b);

	if (rc != 0)
		return rc == 1 ? 0 : -1;
	snprintf(msg, sizeof(msg), "Version %.20s is now %s", ver,
	    canonical_stage(r->in[0].s));
	return done(r, name, "", msg);
}

int
page_alias_set(struct req *r)
{
	const char *name = req_path_param(r, "name");
	char msg[200];
	int rc = registry_set_alias(r, name, r->in[0].s, r->in[1].i);

	if (rc != 0)
		return rc == 1 ? 0 : -1;
	snprintf(msg, sizeof(msg), "Alias '%.100s' now points to version %lld", r->in[0].s,
	    r->in[1].i);
	return done(r, name, "", msg);
}

int
page_alias_delete(struct req *r)
{
	const char *name = req_path_param(r, "name"), *alias = req_path_param(r, "alias");
	char msg[200];
	int rc = registry_delete_alias(r, name, alias);

	if (rc != 0)
		return rc == 1 ? 0 : -1;
	snprintf(msg, sizeof(msg), "Alias '%.100s' deleted", alias);
	return done(r, name, "", msg);
}

/* ---- predict: datetimes between the browser's datetime-local and the spec's format ---- */

struct dt {
	int y, mo, d, h, mi, s;
	int has_off, off;       /* dt_scan: the text carried an offset (seconds east) */
};

/* Reads exactly min..max digits; 0 or -1. */
static int
digits(const char **p, int min, int max, int *out)
{
	int n = 0, v = 0;

	while (n < max && (*p)[n] >= '0' && (*p)[n] <= '9')
		v = v * 10 + ((*p)[n++] - '0');
	if (n < min)
		return -1;
	*p += n;
	*out = v;
	return 0;
}

static int
lit(const char **p, char c)
{
	if (**p != c)
		return -1;
	(*p)++;
	return 0;
}

/* The browser's "YYYY-MM-DDTHH:MM[:SS[.fff]]". 0 or -1. */
static int
local_parse(const char *s, struct dt *t)
{
	memset(t, 0, sizeof(*t));
	if (digits(&s, 4, 4, &t->y) || lit(&s, '-') || digits(&s, 2, 2, &t->mo) ||
	    lit(&s, '-') || digits(&s, 2, 2, &t->d) || lit(&s, 'T') ||
	    digits(&s, 2, 2, &t->h) || lit(&s, ':') || digits(&s, 2, 2, &t->mi))
		return -1;
	if (*s == ':' && (s++, digits(&s, 2, 2, &t->s) == -1))
		return -1;
	if (*s == '.') {
		int frac;

		s++;
		if (digits(&s, 1, 9, &frac) == -1)
			return -1;
	}
	return *s == '\0' ? 0 : -1;
}

/*
 * Writes t in a spec datetime format (%Y %m %d %H %M %S %T %F %z %%; %z is
 * the input's own zone, so the value means local time there, as one without
 * an offset does). 0, or -1 for another directive or no room.
 */
static int
dt_format(const char *fmt, const struct dt *t, int tzoff, char *out, size_t len)
{
	size_t n = 0;
	int w;

	for (const char *p = fmt; *p != '\0'; p++) {
		char one[32];

		if (*p != '%') {
			one[0] = *p;
			one[1] = '\0';
		} else {
			switch (*++p) {
			case 'Y': snprintf(one, sizeof(one), "%04d", t->y); break;
			case 'm': snprintf(one, sizeof(one), "%02d", t->mo); break;
			case 'd': snprintf(one, sizeof(one), "%02d", t->d); break;
			case 'H': snprintf(one, sizeof(one), "%02d", t->h); break;
			case 'M': snprintf(one, sizeof(one), "%02d", t->mi); break;
			case 'S': snprintf(one, sizeof(one), "%02d", t->s); break;
			case 'T': snprintf(one, sizeof(one), "%02d:%02d:%02d", t->h, t->mi, t->s);
				break;
			case 'F': snprintf(one, sizeof(one), "%04d-%02d-%02d", t->y, t->mo, t->d);
				break;
			case 'z': snprintf(one, sizeof(one), "%c%02d:%02d", tzoff < 0 ? '-' : '+',
				abs(tzoff) / 3600, abs(tzoff) / 60 % 60); break;
			case '%': snprintf(one, sizeof(one), "%%"); break;
			default: return -1;
			}
		}
		w = snprintf(out + n, len - n, "%s", one);
		if (w < 0 || (size_t)w >= len - n)
			return -1;
		n += (size_t)w;
	}
	return 0;
}

/* Reads s in a spec format, or ISO 8601 when fmt is NULL (offsets are skipped). 0 or -1. */
static int
dt_scan(const char *fmt, const char *s, struct dt *t)
{
	memset(t, 0, sizeof(*t));
	if (fmt == NULL) {
		if (digits(&s, 4, 4, &t->y) || lit(&s, '-') || digits(&s, 2, 2, &t->mo) ||
		    lit(&s, '-') || digits(&s, 2, 2, &t->d))
			return -1;
		if ((*s == 'T' || *s == ' ') && (s++, digits(&s, 2, 2, &t->h) ||
		    lit(&s, ':') || digits(&s, 2, 2, &t->mi)))
			return -1;
		if (*s == ':' && (s++, digits(&s, 2, 2, &t->s)))
			return -1;
		s += strspn(s, ".0123456789");
		if (*s == 'Z' || *s == '+' || *s == '-') {
			int sign = *s == '-' ? -1 : 1, hh = 0, mm = 0;

			t->has_off = 1;
			if (*s++ != 'Z' && (digits(&s, 2, 2, &hh) || (*s == ':' && (s++, 0)) ||
			    digits(&s, 2, 2, &mm)))
				return -1;
			t->off = sign * (hh * 3600 + mm * 60);
		}
		return *s == '\0' ? 0 : -1;
	}
	for (const char *p = fmt; *p != '\0'; p++) {
		int bad = 0;

		if (*p != '%') {
			bad = lit(&s, *p);
		} else switch (*++p) {
		case 'Y': bad = digits(&s, 4, 4, &t->y); break;
		case 'm': bad = digits(&s, 1, 2, &t->mo); break;
		case 'd': bad = digits(&s, 1, 2, &t->d); break;
		case 'H': bad = digits(&s, 1, 2, &t->h); break;
		case 'M': bad = digits(&s, 1, 2, &t->mi); break;
		case 'S': bad = digits(&s, 1, 2, &t->s); break;
		case 'T': bad = digits(&s, 1, 2, &t->h) || lit(&s, ':') ||
			digits(&s, 1, 2, &t->mi) || lit(&s, ':') || digits(&s, 1, 2, &t->s); break;
		case 'F': bad = digits(&s, 4, 4, &t->y) || lit(&s, '-') ||
			digits(&s, 1, 2, &t->mo) || lit(&s, '-') || digits(&s, 1, 2, &t->d); break;
		case 'z': {
			int hh, mm;

			int sign = *s == '-' ? -1 : 1;

			t->has_off = 1;
			if (*s == 'Z') {
				s++;
				break;
			}
			bad = (*s != '+' && *s != '-') || (s++, digits(&s, 2, 2, &hh)) ||
			    (*s == ':' && (s++, 0)) || digits(&s, 2, 2, &mm);
			t->off = sign * (hh * 3600 + mm * 60);
			break;
		}
		case '%': bad = lit(&s, '%'); break;
		default: bad = 1;
		}
		if (bad)
			return -1;
	}
	return *s == '\0' ? 0 : -1;
}

/* ---- predict: form values ↔ raw fields ---- */

/* A JSON number when s is plainly one (no hex, inf or nan), else NULL. */
static json_t *
parse_number(const char *s, int integer)
{
	char *end;

	if (s[strspn(s, integer ? "-0123456789" : "+-.0123456789eE")] != '\0')
		return NULL;
	if (integer) {
		long long v;

		errno = 0;
		v = strtoll(s, &end, 10);
		return errno == 0 && end != s && *end == '\0' ? json_integer(v) : NULL;
	} else {
		double d = strtod(s, &end);

		return end != s && *end == '\0' && isfinite(d) ? json_real(d) : NULL;
	}
}

/*
 * The raw-field object from the submitted form: empty fields are left out
 * (the spec's default or "required" applies), numbers and booleans become
 * JSON values when they parse (else the text goes on, and the spec says
 * what is wrong), datetime-local values are rewritten in the input's
 * format. A repeated name counts once. 0, or -1 with a message in err.
 */
static int
form_row(const struct spec *s, const struct params *form, json_t *row, char *err,
    size_t errlen)
{
	for (size_t k = 0; k < form->n; k++) {
		const struct param *p = &form->v[k];
		const char *type = "";
		json_t *v = NULL;
		long i;

		if (p->value_len == 0 || json_object_get(row, p->name) != NULL)
			continue;
		if (!utf8_valid(p->value, p->value_len)) {
			snprintf(err, errlen, "field '%.64s': not valid UTF-8 text", p->name);
			return -1;
		}
		if ((i = spec_input_index(s, p->name)) >= 0)
			type = spec_input_type(s, (size_t)i);
		if (!strcmp(type, "number") || !strcmp(type, "integer"))
			v = parse_number(p->value, type[0] == 'i');
		else if (!strcmp(type, "boolean") && !strcmp(p->value, "true"))
			v = json_true();
		else if (!strcmp(type, "boolean") && !strcmp(p->value, "false"))
			v = json_false();
		else if (!strcmp(type, "datetime") && spec_input_format(s, (size_t)i) != NULL) {
			struct dt t;
			char out[256];

			if (local_parse(p->value, &t) == 0 && dt_format(spec_input_format(s,
			    (size_t)i), &t, spec_input_tzoff(s, (size_t)i), out, sizeof(out)) == 0)
				v = json_string(out);
		}
		if (v == NULL)
			v = json_stringn(p->value, p->value_len);
		if (v == NULL || json_object_set_new(row, p->name, v) == -1) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

/* A default value as the form shows it ("" when it cannot be shown). */
static const char *
default_text(struct req *r, const struct spec *s, size_t i)
{
	json_t *d = spec_input_default(s, i);
	struct dt t;

	if (d == NULL)
		return "";
	if (json_is_true(d))
		return "true";
	if (json_is_false(d))
		return "false";
	if (json_is_integer(d))
		return arena_printf(r->a, "%" JSON_INTEGER_FORMAT, json_integer_value(d));
	if (json_is_real(d))
		return arena_printf(r->a, "%.15g", json_real_value(d));
	if (!json_is_string(d))
		return "";
	if (strcmp(spec_input_type(s, i), "datetime") != 0)
		return json_string_value(d);
	if (dt_scan(spec_input_format(s, i), json_string_value(d), &t) == -1)
		return "";
	/* The form shows local time of the input's zone. */
	if (t.has_off && t.off != spec_input_tzoff(s, i)) {
		struct tm tm = { .tm_year = t.y - 1900, .tm_mon = t.mo - 1, .tm_mday = t.d,
		    .tm_hour = t.h, .tm_min = t.mi, .tm_sec = t.s };
		time_t u = timegm(&tm) - t.off + spec_input_tzoff(s, i);

		if (gmtime_r(&u, &tm) == NULL)
			return "";
		t = (struct dt){ tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, 0, 0 };
	}
	if (t.s != 0)
		return arena_printf(r->a, "%04d-%02d-%02dT%02d:%02d:%02d", t.y, t.mo, t.d, t.h,
		    t.mi, t.s);
	return arena_printf(r->a, "%04d-%02d-%02dT%02d:%02d", t.y, t.mo, t.d, t.h, t.mi);
}

static json_t *
option(const char *value, const char *label, int selected)
{
	return json_pack("{s:s, s:s, s:b}", "value", value, "label", label, "selected",
	    selected);
}

/*
 * One object per spec input for model-predict.html: its widget, required
 * mark and value — the submitted one when given (a re-render keeps what
 * the user typed), else the default.
 */
static json_t *
form_inputs(struct req *r, const struct spec *s, const struct params *given)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < spec_ninputs(s); i++) {
		const char *name = spec_input_name(s, i), *type = spec_input_type(s, i);
		const char *value = default_text(r, s, i), *kind = type;
		int req = spec_input_required(s, i);
		json_t *o, *opts = NULL;

		if (given != NULL) {
			const struct param *p = params_get(given, name);

			value = p != NULL && utf8_valid(p->value, p->value_len) ? p->value : "";
		}
		if (!strcmp(type, "boolean")) {
			opts = json_array();
			json_array_append_new(opts, option("", "—", value[0] == '\0'));
			json_array_append_new(opts, option("true", "true", !strcmp(value, "true")));
			json_array_append_new(opts, option("false", "false", !strcmp(value, "false")));
		} else if (!strcmp(type, "category")) {
			const char *const *cats;
			size_t n = spec_input_categories(s, i, &cats);
			int found = value[0] == '\0';

			if (n == 0)
				kind = "text";
			else {
				opts = json_array();
				if (!req)
					json_array_append_new(opts, option("", "—", value[0] == '\0'));
				for (size_t c = 0; c < n; c++) {
					int sel = !strcmp(value, cats[c]);

					found |= sel;
					json_array_append_new(opts, option(cats[c], cats[c], sel));
				}
				/* A value the spec does not list stays visible next to its error. */
				if (!found)
					json_array_append_new(opts, option(value, value, 1));
			}
		}
		o = json_pack("{s:s, s:s, s:b, s:s, s:b}", "name", name, "type", type,
		    "required", req, "value", value, arena_printf(r->a, "is_%s", kind), 1);
		if (opts != NULL)
			json_object_set_new(o, "options", opts);
		if (!strcmp(type, "datetime")) {
			int off = spec_input_tzoff(s, i);

			json_object_set_new(o, "tz", off == 0 ? json_string("UTC") :
			    json_sprintf("UTC%c%02d:%02d", off < 0 ? '-' : '+', abs(off) / 3600,
			    abs(off) / 60 % 60));
			json_object_set_new(o, "seconds", json_boolean(strlen(value) > 16));
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

static const char *
task_name(const struct spec *s)
{
	switch (spec_task(s)) {
	case SPEC_BINARY: return "binary classification";
	case SPEC_MULTICLASS: return "multiclass classification";
	case SPEC_REGRESSION: break;
	}
	return "regression";
}

/* The page around the form; pinned: the URL named the version. */
static json_t *
predict_ctx(struct req *r, const char *name, struct model *m, int pinned,
    const struct params *given)
{
	char suffix[40];

	snprintf(suffix, sizeof(suffix), pinned ? "/predict?version=%d" : "/predict",
	    m->version);
	return json_pack("{s:s, s:s, s:i, s:b, s:s, s:s, s:o}", "title",
	    arena_printf(r->a, "Predict · %s", name), "name", name, "model_version",
	    m->version, "pinned", pinned, "task", task_name(m->spec), "action",
	    model_url(r, name, suffix), "inputs", form_inputs(r, m->spec, given));
}

/* Display text: plain decimals for ordinary magnitudes, exponent beyond. */
static void
fmt_value(double v, char *dst, size_t len)
{
	if (fabs(v) < 1e15) {
		char *e;

		snprintf(dst, len, "%.6f", v);
		e = dst + strlen(dst);
		while (e > dst && e[-1] == '0')
			*--e = '\0';
		if (e > dst && e[-1] == '.')
			*--e = '\0';
		if (!strcmp(dst, "-0"))
			snprintf(dst, len, "0");
	} else
		snprintf(dst, len, "%.6g", v);
}

/* "field = value" for the chart, cut on a character boundary. */
static const char *
bar_label(struct req *r, const struct spec *s, size_t i, json_t *row)
{
	json_t *v = json_object_get(row, spec_input_name(s, i));
	const char *text, *suffix = "";
	char *out;
	size_t n;

	if (v == NULL && spec_input_default(s, i) != NULL) {
		v = spec_input_default(s, i);
		suffix = " (default)";
	}
	if (v == NULL)
		text = "missing";
	else if (json_is_string(v))
		text = json_string_value(v);
	else if (json_is_true(v) || json_is_false(v))
		text = json_is_true(v) ? "true" : "false";
	else if (json_is_integer(v))
		text = arena_printf(r->a, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		text = arena_printf(r->a, "%.6g", json_number_value(v));
	if (text == NULL)
		return NULL;
	out = arena_printf(r->a, "%s = %s%s", spec_input_name(s, i), text, suffix);
	if (out == NULL || (n = strlen(out)) <= LABEL_MAX)
		return out;
	n = LABEL_MAX;
	while (n > 0 && ((unsigned char)out[n] & 0xC0) == 0x80)
		n--;
	return arena_printf(r->a, "%.*s…", (int)n, out);
}

/*
 * The explanation chart: one bar per raw field, largest |contribution|
 * first (svg.c computes the geometry; the template only places it).
 */
static json_t *
explain_ctx(struct req *r, const struct spec *s, json_t *pred, json_t *row)
{
	json_t *contribs = json_object_get(pred, "contributions"), *ex;
	size_t n = spec_ninputs(s);
	struct svg_bar *b = arena_alloc(r->a, n * sizeof(*b) + 1);
	char bias[64];

	if (b == NULL || contribs == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		b[i].value = json_number_value(json_object_get(contribs, spec_input_name(s, i)));
		if ((b[i].label = bar_label(r, s, i, row)) == NULL)
			return NULL;
	}
	if ((ex = svg_diverging_bars(b, n)) == NULL)
		return NULL;
	fmt_value(json_number_value(json_object_get(pred, "bias")), bias, sizeof(bias));
	json_object_set_new(ex, "bias", json_string(bias));
	return ex;
}

/* The result block: value or label, probability bars, explanation, prediction id. */
static json_t *
result_ctx(struct req *r, const struct spec *s, json_t *pred, json_t *row)
{
	json_t *probs = json_object_get(pred, "probabilities"), *label, *o, *ex;
	char value[64];

	fmt_value(json_number_value(json_object_get(pred, "value")), value, sizeof(value));
	o = json_pack("{s:s, s:O}", "value", value, "prediction_id",
	    json_object_get(pred, "prediction_id"));
	if ((label = json_object_get(pred, "label")) != NULL)
		json_object_set(o, "label", label);
	if (probs != NULL) {
		json_t *bars = json_array();

		for (size_t c = 0; c < spec_nclasses(s); c++) {
			const char *cl = spec_class_label(s, c);
			double p = json_number_value(json_object_get(probs, cl));
			int bucket = (int)floor(p * 20 + 0.5) * 5;
			char pct[32];

			bucket = bucket < 0 ? 0 : bucket > 100 ? 100 : bucket;
			snprintf(pct, sizeof(pct), "%.1f%%", p * 100);
			json_array_append_new(bars, json_pack("{s:s, s:s, s:s, s:b}", "label", cl,
			    "pct", pct, "bucket", arena_printf(r->a, "w%d", bucket), "top",
			    label != NULL && !strcmp(cl, json_string_value(label))));
		}
		json_object_set_new(o, "probabilities", bars);
		if (spec_task(s) == SPEC_BINARY)
			json_object_set_new(o, "binary_of", json_string(spec_class_label(s, 1)));
	}
	if ((ex = explain_ctx(r, s, pred, row)) == NULL) {
		json_decref(o);
		return NULL;
	}
	json_object_set_new(ex, "multiclass", json_boolean(spec_task(s) == SPEC_MULTICLASS));
	json_object_set_new(ex, "logodds", json_boolean(spec_task(s) != SPEC_REGRESSION));
	json_object_set_new(o, "explain", ex);
	return o;
}

/* The version to predict with: ?version=N, else the serving one. NULL when answered (*rc 0) or failed (-1). */
static struct model *
acquire(struct req *r, const char *name, long long version, int *rc)
{
	char vbuf[24], err[512];
	int status;
	struct model *m;

	snprintf(vbuf, sizeof(vbuf), "%lld", version);
	m = model_acquire(r->db, name, version > 0 ? SEL_VERSION : SEL_DEFAULT,
	    version > 0 ? vbuf : "", &status, err, sizeof(err));
	if (m != NULL)
		return m;
	*rc = 0;
	if (status == 404)
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "%s", err);
	else if (status == 503 && resp_header(&r->resp, "Retry-After", "1") == 0)
		resp_error(r, 503, "TEMPORARILY_UNAVAILABLE", "%s; retry in 1 s", err);
	else
		*rc = -1;
	return NULL;
}

int
page_model_predict(struct req *r)
{
	const char *name = req_path_param(r, "name");
	int rc = 0, pinned = r->in[0].present, prc;
	struct model *m;
	json_t *ctx;

	if ((prc = perm_require_model(r, name, PERM_READ)) != 0)
		return prc == 1 ? 0 : -1;
	m = acquire(r, name, pinned ? r->in[0].i : 0, &rc);
	if (m == NULL)
		return rc;
	ctx = predict_ctx(r, name, m, pinned, NULL);
	model_release(m);
	return resp_html(r, 200, "model-predict", ctx);
}

/*
 * The form's answer. The row is checked against the spec of the version
 * the form came from before serving_predict runs, so a bad input re-renders
 * the form (400, values kept, the spec's message) instead of an error page;
 * the prediction is then pinned to that same version.
 */
int
page_model_predict_post(struct req *r)
{
	const char *name = req_path_param(r, "name");
	const struct param *vp = params_get(&r->query_params, "version");
	char err[SPEC_ERR_MAX] = "", vbuf[24];
	int rc = 0, version = 0;
	struct model *m;
	json_t *row = NULL, *rows = NULL, *out = NULL, *ctx = NULL, *res;
	float *x;

	if (vp != NULL && (version = version_num(vp->value)) == 0) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE",
		    "field 'version': must be a positive integer");
		return 0;
	}
	if ((m = acquire(r, name, version, &rc)) == NULL)
		return rc;
	rc = -1;
	row = json_object();
	if ((x = arena_alloc(r->a, spec_width(m->spec) * sizeof(float) + 1)) == NULL)
		goto out;
	if (form_row(m->spec, &r->body_params, row, err, sizeof(err)) == -1 ||
	    spec_transform(m->spec, row, 0, x, err, sizeof(err)) == -1) {
		ctx = predict_ctx(r, name, m, vp != NULL, &r->body_params);
		json_object_set_new(ctx, "error", json_string(utf8_valid(err, strlen(err)) ?
		    err : "invalid input"));
		rc = resp_html(r, 400, "model-predict", ctx);
		goto out;
	}
	rows = json_pack("[O]", row);
	snprintf(vbuf, sizeof(vbuf), "%d", m->version);
	if ((rc = serving_predict(r, name, SEL_VERSION, vbuf, rows, NULL, 1, 1, &out)) != 0) {
		rc = rc == 1 ? 0 : -1;
		goto out;
	}
	rc = -1;
	res = result_ctx(r, m->spec, json_array_get(json_object_get(out, "predictions"), 0),
	    row);
	if (res == NULL)
		goto out;
	ctx = predict_ctx(r, name, m, vp != NULL, &r->body_params);
	json_object_set_new(ctx, "result", res);
	rc = resp_html(r, 200, "model-predict", ctx);
out:
	json_decref(out);
	json_decref(rows);
	json_decref(row);
	model_release(m);
	return rc;
}
