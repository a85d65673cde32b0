/* test_cli.c: `verdict model register` and `verdict model list` run as a user would, against a real stack — versions, stages, aliases, the server's errors, unreachable servers, credentials. */
#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xgboost/c_api.h>

#include "client.h"
#include "fixtures.h"
#include "harness.h"

#define NF 7          /* x1, x2, city=a|b|c, when.hour, when.day_of_week */
#define NTRAIN 400
#define PASSWORD "violet tangerine 42 kites"

static char token[128], auth_header[200], user[64];
static char verdict_bin[PATH_MAX], tmpdir[64];

/* The regression spec of test_models.c. */
static const char spec_reg[] =
    "{\"task\":\"regression\",\"inputs\":["
    "{\"name\":\"x1\",\"type\":\"number\",\"required\":true},"
    "{\"name\":\"x2\",\"type\":\"number\"},"
    "{\"name\":\"city\",\"type\":\"category\",\"required\":true,\"unknown\":\"error\"},"
    "{\"name\":\"when\",\"type\":\"datetime\",\"format\":\"%Y-%m-%d %H:%M\",\"timezone\":\"UTC\"}],"
    "\"features\":[{\"input\":\"x1\"},{\"input\":\"x2\"},"
    "{\"input\":\"city\",\"transform\":\"one_hot\",\"categories\":[\"a\",\"b\",\"c\"]},"
    "{\"input\":\"when\",\"transform\":\"datetime\",\"parts\":[\"hour\",\"day_of_week\"]}]}";

/* ---- a booster, trained in-process as test_models.c does ---- */

static void
features(int i, float *f, float *target)
{
	static const char cities[] = "abc";
	int day = 1 + i % 7, hour = (i * 5) % 24;
	double x1 = sin(i * 0.37) * 10, x2 = cos(i * 0.11) * 3 + (i % 5);
	char city = cities[i % 3];

	f[0] = (float)x1;
	f[1] = (float)x2;
	f[2] = city == 'a';
	f[3] = city == 'b';
	f[4] = city == 'c';
	f[5] = (float)hour;
	f[6] = (float)(day % 7);
	*target = (float)(x1 * 0.5 + x2 + (city == 'b') * 2 + hour * 0.1);
}

/* A small squared-error booster as JSON bytes (caller frees). */
static char *
train(int rounds, size_t *len)
{
	float *x = malloc(sizeof(float) * NTRAIN * NF), *y = malloc(sizeof(float) * NTRAIN);
	DMatrixHandle d;
	BoosterHandle b;
	bst_ulong n;
	const char *buf;
	char *out;

	for (int i = 0; i < NTRAIN; i++)
		features(i, x + i * NF, y + i);
	ck_assert_int_eq(XGDMatrixCreateFromMat(x, NTRAIN, NF, NAN, &d), 0);
	ck_assert_int_eq(XGDMatrixSetFloatInfo(d, "label", y, NTRAIN), 0);
	ck_assert_int_eq(XGBoosterCreate(&d, 1, &b), 0);
	XGBoosterSetParam(b, "objective", "reg:squarederror");
	XGBoosterSetParam(b, "max_depth", "4");
	XGBoosterSetParam(b, "nthread", "1");
	for (int i = 0; i < rounds; i++)
		ck_assert_int_eq(XGBoosterUpdateOneIter(b, i, d), 0);
	ck_assert_int_eq(XGBoosterSaveModelToBuffer(b, "{\"format\":\"json\"}", &n, &buf), 0);
	out = malloc(n);
	memcpy(out, buf, n);
	*len = n;
	XGBoosterFree(b);
	XGDMatrixFree(d);
	free(x);
	free(y);
	return out;
}

static void
write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_msg(f != NULL, "%s", path);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* Writes TMP/<tag>-booster.json (rounds trees) and TMP/spec.json; paths into b and s. */
static void
model_files(const char *tag, int rounds, char *b, char *s, size_t len)
{
	size_t n;
	char *m = train(rounds, &n);

	snprintf(b, len, "%s/%s-booster.json", tmpdir, tag);
	snprintf(s, len, "%s/spec.json", tmpdir);
	write_file(b, m, n);
	write_file(s, spec_reg, strlen(spec_reg));
	free(m);
}

/* ---- running the CLI ---- */

struct run {
	int status;             /* exit status, or -1 when it did not exit */
	char out[65536];        /* stdout and stderr together */
};

/*
 * Runs `cd TMP && env -u VERDICT_URL -u VERDICT_TOKEN ENV verdict ARGS 2>&1`
 * with stdin from /dev/null unless ARGS redirects it: no URL or token leaks in
 * from the caller's environment, and no var/stack.env from the caller's cwd.
 * args is a printf format; quote paths with '...' in it.
 */
static void
run(struct run *r, const char *env, const char *args, ...)
{
	char cmd[8192], a[4096];
	va_list ap;
	FILE *p;
	size_t n = 0, got;
	int st;

	va_start(ap, args);
	ck_assert_int_lt(vsnprintf(a, sizeof(a), args, ap), (int)sizeof(a));
	va_end(ap);
	ck_assert_int_lt(snprintf(cmd, sizeof(cmd), "cd '%s' && env -u VERDICT_URL -u "
	    "VERDICT_TOKEN %s '%s' </dev/null %s 2>&1", tmpdir, env, verdict_bin, a),
	    (int)sizeof(cmd));
	ck_assert_ptr_nonnull(p = popen(cmd, "r"));
	while ((got = fread(r->out + n, 1, sizeof(r->out) - 1 - n, p)) > 0)
		n += got;
	r->out[n] = '\0';
	st = pclose(p);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define ck_assert_out(r, s) ck_assert_msg(strstr((r)->out, (s)) != NULL, \
	"output lacks \"%s\":\n%s", (s), (r)->out)
#define ck_assert_not_out(r, s) ck_assert_msg(strstr((r)->out, (s)) == NULL, \
	"output has \"%s\":\n%s", (s), (r)->out)
#define ck_assert_exit(r, n) ck_assert_msg((r)->status == (n), \
	"exit %d, want %d:\n%s", (r)->status, (n), (r)->out)

/* ---- the API, to check what the CLI did ---- */

static const char *const *
auth(void)
{
	static const char *hdrs[2] = { auth_header, NULL };

	return hdrs;
}

/* GET /api/models/NAME: the model (caller decrefs) or NULL when 404. */
static json_t *
get_model(const char *name)
{
	char path[256];
	struct http_resp r;
	json_t *j;

	snprintf(path, sizeof(path), "/api/models/%s", name);
	ck_assert_int_eq(http_request("GET", path, NULL, NULL, 0, auth(), &r), 0);
	if (r.status == 404) {
		http_resp_free(&r);
		return NULL;
	}
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_ptr_nonnull(j = http_json(&r));
	http_resp_free(&r);
	return j;
}

static json_t *
version_of(json_t *model, int v)
{
	size_t i;
	json_t *x;

	json_array_foreach(json_object_get(model, "versions"), i, x)
		if (json_integer_value(json_object_get(x, "version")) == v)
			return x;
	ck_abort_msg("no version %d", v);
	return NULL;
}

static int
has_alias(json_t *version, const char *alias)
{
	size_t i;
	json_t *a;

	json_array_foreach(json_object_get(version, "aliases"), i, a)
		if (!strcmp(json_string_value(a), alias))
			return 1;
	return 0;
}

static const char *
stage_of(json_t *model, int v)
{
	return json_string_value(json_object_get(version_of(model, v), "stage"));
}

/* ---- tests ---- */

START_TEST(register_versions_stage_alias)
{
	char name[64], b[PATH_MAX], s[PATH_MAX], bad[PATH_MAX], want[128];
	struct run r;
	json_t *m;

	snprintf(name, sizeof(name), "cli%d", getpid());
	model_files(name, 5, b, s, sizeof(b));

	run(&r, "", "model register %s --booster '%s' --spec '%s' --stage Production "
	    "--alias champion --url %s --token %s", name, b, s, harness_url(), token);
	ck_assert_exit(&r, 0);
	snprintf(want, sizeof(want), "registered %s version 1\n", name);
	ck_assert_out(&r, want);
	ck_assert_out(&r, "stage Production");
	ck_assert_out(&r, "alias champion");

	ck_assert_ptr_nonnull(m = get_model(name));
	ck_assert_uint_eq(json_array_size(json_object_get(m, "versions")), 1);
	ck_assert_str_eq(stage_of(m, 1), "Production");
	ck_assert(has_alias(version_of(m, 1), "champion"));
	snprintf(want, sizeof(want), "verdict model register %s-booster.json", name);
	ck_assert_str_eq(json_string_value(json_object_get(version_of(m, 1), "source")), want);
	json_decref(m);

	/* The model exists now (409 from POST /api/models): the CLI goes on. */
	run(&r, "", "model register %s --booster '%s' --spec '%s' --url %s --token %s", name,
	    b, s, harness_url(), token);
	ck_assert_exit(&r, 0);
	snprintf(want, sizeof(want), "registered %s version 2\n", name);
	ck_assert_out(&r, want);
	ck_assert_not_out(&r, "stage");

	/* A corrupt booster: the server's reason, exit 1, nothing stored. */
	snprintf(bad, sizeof(bad), "%s/%s-corrupt.json", tmpdir, name);
	write_file(bad, "{\"not\": \"a model\"}", 18);
	run(&r, "", "model register %s --booster '%s' --spec '%s' --stage Production --url %s "
	    "--token %s", name, bad, s, harness_url(), token);
	ck_assert_exit(&r, 1);
	ck_assert_out(&r, "verdict model register: ");
	ck_assert_out(&r, "booster");
	ck_assert_out(&r, "(HTTP 400)");
	ck_assert_not_out(&r, "registered");

	ck_assert_ptr_nonnull(m = get_model(name));
	ck_assert_uint_eq(json_array_size(json_object_get(m, "versions")), 2);
	ck_assert_str_eq(stage_of(m, 1), "Production");
	ck_assert_str_eq(stage_of(m, 2), "None");
	json_decref(m);
}
END_TEST

START_TEST(bad_spec_reports_server_message)
{
	char name[64], b[PATH_MAX], s[PATH_MAX], bad[PATH_MAX];
	struct run r;
	json_t *m;

	snprintf(name, sizeof(name), "clispec%d", getpid());
	model_files(name, 3, b, s, sizeof(b));
	snprintf(bad, sizeof(bad), "%s/%s-spec.json", tmpdir, name);
	write_file(bad, "{\"task\": nope}", 14);
	run(&r, "", "model register %s --booster '%s' --spec '%s' --url %s --token %s", name,
	    b, bad, harness_url(), token);
	ck_assert_exit(&r, 1);
	ck_assert_out(&r, "spec is not valid JSON");
	ck_assert_out(&r, "(HTTP 400)");
	/* The model was created before the upload failed: it stays, empty. */
	ck_assert_ptr_nonnull(m = get_model(name));
	ck_assert_uint_eq(json_array_size(json_object_get(m, "versions")), 0);
	json_decref(m);
}
END_TEST

START_TEST(archive_existing_versions)
{
	char name[64], b[PATH_MAX], s[PATH_MAX];
	struct run r;
	json_t *m;

	snprintf(name, sizeof(name), "cliarch%d", getpid());
	model_files(name, 3, b, s, sizeof(b));
	run(&r, "", "model register %s --booster '%s' --spec '%s' --stage production "
	    "--description 'first try' --url %s --token %s", name, b, s, harness_url(),
	    token);
	ck_assert_exit(&r, 0);
	ck_assert_out(&r, "stage Production");      /* canonical, whatever the case given */
	run(&r, "", "model register %s --booster '%s' --spec '%s' --stage Production "
	    "--archive-existing --url %s --token %s", name, b, s, harness_url(), token);
	ck_assert_exit(&r, 0);
	ck_assert_out(&r, "version 2: stage Production");
	ck_assert_ptr_nonnull(m = get_model(name));
	ck_assert_str_eq(json_string_value(json_object_get(m, "description")), "first try");
	ck_assert_str_eq(stage_of(m, 1), "Archived");
	ck_assert_str_eq(stage_of(m, 2), "Production");
	json_decref(m);
}
END_TEST

START_TEST(bad_alias_after_upload)
{
	char name[64], b[PATH_MAX], s[PATH_MAX], want[128];
	struct run r;
	json_t *m;

	/* The alias is the server's to judge; the version is in before it says no. */
	snprintf(name, sizeof(name), "clialias%d", getpid());
	model_files(name, 3, b, s, sizeof(b));
	run(&r, "", "model register %s --booster '%s' --spec '%s' --alias latest --url %s "
	    "--token %s", name, b, s, harness_url(), token);
	ck_assert_exit(&r, 1);
	snprintf(want, sizeof(want), "registered %s version 1\n", name);
	ck_assert_out(&r, want);
	ck_assert_out(&r, "reserved");
	ck_assert_out(&r, "(HTTP 400)");
	ck_assert_ptr_nonnull(m = get_model(name));
	ck_assert_uint_eq(json_array_size(json_object_get(m, "versions")), 1);
	ck_assert(!has_alias(version_of(m, 1), "latest"));
	json_decref(m);
}
END_TEST

START_TEST(unreachable_server)
{
	char b[PATH_MAX], s[PATH_MAX];
	struct run r;

	model_files("unreach", 2, b, s, sizeof(b));
	run(&r, "", "model register unreach --booster '%s' --spec '%s' --url "
	    "http://127.0.0.1:1 --token %s", b, s, token);
	ck_assert_exit(&r, 1);
	ck_assert_out(&r, "cannot reach http://127.0.0.1:1: Connection refused");
	run(&r, "", "model list --url http://127.0.0.1:1/ --token %s", token);
	ck_assert_exit(&r, 1);
	ck_assert_out(&r, "verdict model list: cannot reach http://127.0.0.1:1: ");
}
END_TEST

START_TEST(wrong_token_is_401)
{
	char name[64], b[PATH_MAX], s[PATH_MAX];
	struct run r;

	snprintf(name, sizeof(name), "clitok%d", getpid());
	model_files(name, 2, b, s, sizeof(b));
	run(&r, "", "model register %s --booster '%s' --spec '%s' --url %s --token "
	    "vdt_thisIsNotAValidTokenAtAllxxxxxxxxxxxxxxxxx", name, b, s, harness_url());
	ck_assert_exit(&r, 1);
	ck_assert_out(&r, "verdict model register: invalid or expired token (HTTP 401)");
	ck_assert_ptr_null(get_model(name));
}
END_TEST

START_TEST(list_prints_models)
{
	char name[64], b[PATH_MAX], s[PATH_MAX], line[256], *p;
	struct run r;

	snprintf(name, sizeof(name), "clilist%d", getpid());
	model_files(name, 2, b, s, sizeof(b));
	run(&r, "", "model register %s --booster '%s' --spec '%s' --stage Production --url %s "
	    "--token %s", name, b, s, harness_url(), token);
	ck_assert_exit(&r, 0);
	run(&r, "", "model register %s --booster '%s' --spec '%s' --url %s --token %s", name,
	    b, s, harness_url(), token);
	ck_assert_exit(&r, 0);

	run(&r, "", "model list --url %s --token %s", harness_url(), token);
	ck_assert_exit(&r, 0);
	ck_assert_msg(!strncmp(r.out, "NAME ", 5) && strstr(r.out, "LATEST") &&
	    strstr(r.out, "PRODUCTION"), "%s", r.out);
	snprintf(line, sizeof(line), "\n%s ", name);
	ck_assert_ptr_nonnull(p = strstr(r.out, line));
	{
		char got[64];
		int latest = 0, prod = 0;

		ck_assert_int_eq(sscanf(p + 1, "%63s %d %d", got, &latest, &prod), 3);
		ck_assert_str_eq(got, name);
		ck_assert_int_eq(latest, 2);
		ck_assert_int_eq(prod, 1);
	}
}
END_TEST

START_TEST(server_from_environment_and_stack_env)
{
	char name[64], b[PATH_MAX], s[PATH_MAX], env[512], f[PATH_MAX], want[128];
	struct run r;

	snprintf(name, sizeof(name), "clienv%d", getpid());
	model_files(name, 2, b, s, sizeof(b));

	/* Nothing: no URL, no var/stack.env in the cwd. */
	run(&r, "", "model list --token %s", token);
	ck_assert_exit(&r, 2);
	ck_assert_out(&r, "no server: pass --url or set VERDICT_URL");

	/* $VERDICT_URL and $VERDICT_TOKEN. */
	snprintf(env, sizeof(env), "VERDICT_URL=%s VERDICT_TOKEN=%s", harness_url(), token);
	run(&r, env, "model register %s --booster '%s' --spec '%s'", name, b, s);
	ck_assert_exit(&r, 0);
	snprintf(want, sizeof(want), "registered %s version 1\n", name);
	ck_assert_out(&r, want);

	/* A checkout's var/stack.env, as deploy/stack writes it. */
	snprintf(f, sizeof(f), "%s/var", tmpdir);
	ck_assert_int_eq(mkdir(f, 0755), 0);
	snprintf(f, sizeof(f), "%s/var/stack.env", tmpdir);
	snprintf(env, sizeof(env), "# Written by deploy/stack start\nVERDICT_URL=%s\n"
	    "VERDICT_DIR=/nowhere\nexport VERDICT_URL VERDICT_DIR\n", harness_url());
	write_file(f, env, strlen(env));
	snprintf(env, sizeof(env), "VERDICT_TOKEN=%s", token);
	run(&r, env, "model register %s --booster '%s' --spec '%s'", name, b, s);
	ck_assert_exit(&r, 0);
	snprintf(want, sizeof(want), "registered %s version 2\n", name);
	ck_assert_out(&r, want);
	/* --url wins over both. */
	snprintf(env, sizeof(env), "VERDICT_URL=http://127.0.0.1:1 VERDICT_TOKEN=%s", token);
	run(&r, env, "model list --url %s", harness_url());
	ck_assert_exit(&r, 0);
	ck_assert_out(&r, name);
	unlink(f);
}
END_TEST

START_TEST(basic_auth_from_stdin)
{
	char pw[PATH_MAX], name[64], b[PATH_MAX], s[PATH_MAX];
	struct run r;

	snprintf(name, sizeof(name), "clibasic%d", getpid());
	model_files(name, 2, b, s, sizeof(b));
	snprintf(pw, sizeof(pw), "%s/password", tmpdir);
	write_file(pw, PASSWORD "\n", strlen(PASSWORD) + 1);
	run(&r, "", "model register %s --booster '%s' --spec '%s' --url %s --user %s "
	    "--password-stdin <'%s'", name, b, s, harness_url(), user, pw);
	ck_assert_exit(&r, 0);
	ck_assert_out(&r, "version 1");
	run(&r, "", "model list --url %s --user %s --password-stdin <'%s'", harness_url(),
	    user, pw);
	ck_assert_exit(&r, 0);
	ck_assert_out(&r, name);

	write_file(pw, "not the password\n", 17);
	run(&r, "", "model list --url %s --user %s --password-stdin <'%s'", harness_url(),
	    user, pw);
	ck_assert_exit(&r, 1);
	ck_assert_out(&r, "(HTTP 401)");
	ck_assert_out(&r, "invalid username or password");
}
END_TEST

START_TEST(bad_usage_and_local_checks)
{
	char b[PATH_MAX], s[PATH_MAX], big[PATH_MAX];
	struct run r;
	int fd;

	model_files("usage", 2, b, s, sizeof(b));
	/* Usage: exit 2, before any request. */
	run(&r, "", "model register m --booster '%s' --url http://127.0.0.1:1 --token t", b);
	ck_assert_exit(&r, 2);
	ck_assert_out(&r, "usage: verdict model register NAME --booster FILE --spec FILE");
	run(&r, "", "model register m --booster '%s' --spec '%s' --bogus --url "
	    "http://127.0.0.1:1 --token t", b, s);
	ck_assert_exit(&r, 2);
	ck_assert_out(&r, "unexpected argument --bogus");
	run(&r, "", "model register m --booster '%s' --spec '%s' --stage Prod --url "
	    "http://127.0.0.1:1 --token t", b, s);
	ck_assert_exit(&r, 2);
	ck_assert_out(&r, "--stage must be None, Staging, Production or Archived");
	run(&r, "", "model register m --booster '%s' --spec '%s' --archive-existing --url "
	    "http://127.0.0.1:1 --token t", b, s);
	ck_assert_exit(&r, 2);
	run(&r, "", "model register m --booster '%s' --spec '%s' --url http://127.0.0.1:1 "
	    "--token t --user u --password-stdin", b, s);
	ck_assert_exit(&r, 2);
	ck_assert_out(&r, "not both");
	run(&r, "", "model register m --booster '%s' --spec '%s' --url http://127.0.0.1:1", b,
	    s);
	ck_assert_exit(&r, 2);
	ck_assert_out(&r, "no credentials");
	run(&r, "", "model register m --booster '%s' --spec '%s' --url ftp://127.0.0.1 "
	    "--token t", b, s);
	ck_assert_exit(&r, 2);
	ck_assert_out(&r, "http:// or https://");
	run(&r, "", "model frobnicate");
	ck_assert_exit(&r, 2);
	run(&r, "", "model register --help");
	ck_assert_exit(&r, 0);
	ck_assert_out(&r, "--archive-existing");

	/* Files are checked before the network (the URL is unreachable on purpose). */
	run(&r, "", "model register m --booster '%s/missing' --spec '%s' --url "
	    "http://127.0.0.1:1 --token t", tmpdir, s);
	ck_assert_exit(&r, 1);
	ck_assert_out(&r, "booster");
	ck_assert_out(&r, "No such file or directory");
	ck_assert_not_out(&r, "cannot reach");
	run(&r, "", "model register m --booster '%s' --spec '%s' --url http://127.0.0.1:1 "
	    "--token t", b, tmpdir);
	ck_assert_exit(&r, 1);
	ck_assert_out(&r, "not a regular file");
	/* Over 256 MiB (sparse): refused without uploading. */
	snprintf(big, sizeof(big), "%s/big.json", tmpdir);
	ck_assert_int_ge(fd = open(big, O_CREAT | O_WRONLY | O_TRUNC, 0600), 0);
	ck_assert_int_eq(ftruncate(fd, ((off_t)256 << 20) + 1), 0);
	close(fd);
	run(&r, "", "model register m --booster '%s' --spec '%s' --url http://127.0.0.1:1 "
	    "--token t", big, s);
	ck_assert_exit(&r, 1);
	ck_assert_out(&r, "268435457 bytes");
	ck_assert_not_out(&r, "cannot reach");
	unlink(big);
}
END_TEST

/* Lines in verdictd's access log for method on exactly /api/models. */
static int
log_count(const char *method)
{
	char path[PATH_MAX], line[8192], want[128];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/log/verdictd.log", harness_dir());
	snprintf(want, sizeof(want), "\"method\":\"%s\",\"path\":\"\\/api\\/models\",", method);
	ck_assert_msg((f = fopen(path, "r")) != NULL, "%s", path);
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, want) != NULL;
	fclose(f);
	return n;
}

/* log_count(method) once it reaches at least want (≤ 2 s), after a settling pause. */
static int
log_count_settled(const char *method, int want)
{
	for (int i = 0; i < 40 && log_count(method) < want; i++)
		usleep(50000);
	usleep(200000);
	return log_count(method);
}

START_TEST(get_retries_post_does_not)
{
	char name[64], b[PATH_MAX], s[PATH_MAX];
	struct run r;
	struct http_resp h;
	int gets, posts, ok = 0;

	snprintf(name, sizeof(name), "cliretry%d", getpid());
	model_files(name, 2, b, s, sizeof(b));
	/* Without Postgres, verdictd answers /api/models with 503 + Retry-After. */
	ck_assert_int_eq(harness_pg_stop(), 0);
	gets = log_count("GET");
	run(&r, "", "model list --url %s --token %s", harness_url(), token);
	ck_assert_exit(&r, 1);
	ck_assert_out(&r, "(HTTP 503)");
	ck_assert_int_eq(log_count_settled("GET", gets + 1 + CLIENT_RETRIES),
	    gets + 1 + CLIENT_RETRIES);

	posts = log_count("POST");
	run(&r, "", "model register %s --booster '%s' --spec '%s' --url %s --token %s", name,
	    b, s, harness_url(), token);
	ck_assert_exit(&r, 1);
	ck_assert_out(&r, "(HTTP 503)");
	ck_assert_not_out(&r, "registered");
	ck_assert_int_eq(log_count_settled("POST", posts + 1), posts + 1);

	ck_assert_int_eq(harness_pg_start(), 0);
	for (int i = 0; i < 100 && !ok; i++) {   /* ≤ 5 s */
		ck_assert_int_eq(http_get("/readyz", &h), 0);
		ok = h.status == 200;
		http_resp_free(&h);
		if (!ok)
			usleep(50000);
	}
	ck_assert_msg(ok, "readyz not back within 5 s of Postgres restarting");
	run(&r, "", "model register %s --booster '%s' --spec '%s' --url %s --token %s", name,
	    b, s, harness_url(), token);
	ck_assert_exit(&r, 0);
	ck_assert_out(&r, "version 1");
}
END_TEST

/* The verdict binary next to the verdictd the harness runs. */
static int
find_verdict(void)
{
	const char *e = getenv("VERDICT_BUILDDIR");
	char exe[PATH_MAX];
	ssize_t n;
	int len = -1;

	if (e != NULL && *e != '\0')
		len = snprintf(verdict_bin, sizeof(verdict_bin), "%s/src/verdict", e);
	else if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
		exe[n] = '\0';
		/* BUILDDIR/tests/integration/test_cli */
		for (int up = 0; up < 3; up++)
			if ((e = strrchr(exe, '/')) != NULL)
				exe[e - exe] = '\0';
		len = snprintf(verdict_bin, sizeof(verdict_bin), "%s/src/verdict", exe);
	}
	if (len < 0 || len >= (int)sizeof(verdict_bin) || access(verdict_bin, X_OK) != 0) {
		fprintf(stderr, "test_cli: no verdict binary at %s: set VERDICT_BUILDDIR\n",
		    verdict_bin);
		return -1;
	}
	return 0;
}

int
main(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");
	SRunner *sr;
	int failed;
	struct http_resp r;
	char body[256];
	json_t *j;

	if (find_verdict() == -1)
		return 99;
	if (fx_tmpdir("verdict-cli", tmpdir, sizeof(tmpdir)) == -1)
		return 99;
	if (harness_start() == -1)
		return 99;
	/* One account and token for every test. */
	snprintf(user, sizeof(user), "clier%d", getpid());
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"" PASSWORD "\"}", user);
	if (http_request("POST", "/api/signup", "application/json", body, strlen(body), NULL,
	    &r) != 0 || r.status != 201)
		return 99;
	http_resp_free(&r);
	snprintf(body, sizeof(body), "username=%s&password=violet+tangerine+42+kites", user);
	if (http_request("POST", "/api/token", "application/x-www-form-urlencoded", body,
	    strlen(body), NULL, &r) != 0 || r.status != 200)
		return 99;
	j = http_json(&r);
	snprintf(token, sizeof(token), "%s", json_string_value(json_object_get(j, "access_token")));
	snprintf(auth_header, sizeof(auth_header), "Authorization: Bearer %s", token);
	json_decref(j);
	http_resp_free(&r);

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, register_versions_stage_alias);
	tcase_add_test(tc, bad_spec_reports_server_message);
	tcase_add_test(tc, archive_existing_versions);
	tcase_add_test(tc, bad_alias_after_upload);
	tcase_add_test(tc, unreachable_server);
	tcase_add_test(tc, wrong_token_is_401);
	tcase_add_test(tc, list_prints_models);
	tcase_add_test(tc, server_from_environment_and_stack_env);
	tcase_add_test(tc, basic_auth_from_stdin);
	tcase_add_test(tc, bad_usage_and_local_checks);
	tcase_add_test(tc, get_retries_post_does_not);   /* stops Postgres: last */
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_stop();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
