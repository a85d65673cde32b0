/* verdict.c: the command-line tool — schema migrations and user administration (Postgres), the model registry, drift checks and training (verdict's HTTP API). */
#include <errno.h>
#include <sys/stat.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "auth.h"
#include "cli.h"
#include "client.h"
#include "config.h"
#include "db.h"
#include "migrate.h"
#include "registry.h"
#include "retrain.h"
#include "train.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: verdict [--config FILE] COMMAND [ARGS]\n"
	    "       verdict --help | --version\n"
	    "\n"
	    "commands:\n"
	    "  migrate                               apply pending SQL migrations\n"
	    "                                        (safe to run concurrently)\n"
	    "  user add NAME [--admin] --password-stdin   create an account\n"
	    "  user passwd NAME [--password-stdin]   set a password (prompts on a tty)\n"
	    "  user list                             list accounts\n"
	    "  model register NAME --booster FILE --spec FILE [--stage STAGE]\n"
	    "        [--alias ALIAS] [--archive-existing] [--description TEXT] [--run-id RUN]\n"
	    "                                        upload a booster and its feature spec\n"
	    "                                        as NAME's next version (creating NAME),\n"
	    "                                        then set its stage and alias\n"
	    "  model list                            list registered models\n"
	    "  model reference NAME VERSION --data FILE   store VERSION's reference profile\n"
	    "                                        from a CSV with a header (or a JSON list)\n"
	    "  drift --model NAME [--window 7d] [--version V]   compare recent predictions\n"
	    "                                        with the references; exit 0 no drift,\n"
	    "                                        3 dataset drift, 1 failed, 2 usage\n"
	    "  train --data FILE --target COL ...    train and log a booster (train --help)\n"
	    "  retrain --model NAME [--data FILE] [--include-feedback] [--min-improvement X]\n"
	    "                                        retrain the serving version, promote only\n"
	    "                                        when better; exit 0 promoted, 3 not,\n"
	    "                                        4 locked (retrain --help)\n"
	    "\n"
	    "migrate and user work on the database; the config is found as verdictd\n"
	    "finds it: --config, $VERDICT_CONFIG, ./var/verdict.conf (a checkout's local\n"
	    "stack), then %s/verdict/verdict.conf.\n"
	    "\n"
	    "model and drift commands talk to a running server over HTTP and take:\n"
	    "  --url URL                 the server; else $VERDICT_URL, else the\n"
	    "                            VERDICT_URL of ./var/stack.env (a checkout)\n"
	    "  --token TOKEN             an API token; else $VERDICT_TOKEN\n"
	    "  --user USER --password-stdin   HTTP Basic instead of a token\n"
	    "STAGE is None, Staging, Production or Archived; --archive-existing moves\n"
	    "the model's other versions in that stage to Archived.\n", VERDICT_SYSCONFDIR);
}

static int
cmd_migrate(const struct config *c, int argc, char **argv)
{
	char err[1024];

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: verdict migrate\n");
		return 2;
	}
	if (migrate_run(c->database_url, c->sql_dir, 1, err, sizeof(err)) < 0) {
		fprintf(stderr, "verdict migrate: %s\n", err);
		return 1;
	}
	return 0;
}

static const char *
status_text(enum auth_status st)
{
	switch (st) {
	case AUTH_TAKEN: return "username taken";
	case AUTH_BUSY: return "hashing failed";
	case AUTH_DBERR: return "database error";
	default: return "failed";
	}
}

static int
cmd_user(const struct config *c, int argc, char **argv)
{
	char pw[PASSWORD_MAX + 2], err[256] = "";
	struct db *db = NULL;
	int rc = 1;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0 || auth_init(c, err, sizeof(err)) == -1) {
		fprintf(stderr, "verdict: %s\n", err);
		return 1;
	}
	if ((db = db_new(c->database_url)) == NULL || db_ensure(db) == -1) {
		fprintf(stderr, "verdict: cannot reach Postgres: %s\n",
		    db ? db_errmsg(db) : "out of memory");
		goto out;
	}
	if (!strcmp(argv[1], "list") && argc == 2) {
		const char *vals[3] = { "", "100000", "0" };
		PGresult *res = db_exec(db, STMT_USER_LIST, 3, vals);

		if (res == NULL)
			goto dberr;
		printf("%-6s %-32s %-6s %-9s %s\n", "ID", "USERNAME", "ROLE", "STATUS",
		    "LAST LOGIN");
		for (int i = 0; i < PQntuples(res); i++)
			printf("%-6s %-32s %-6s %-9s %s\n", PQgetvalue(res, i, 0),
			    PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
			    PQgetvalue(res, i, 3)[0] == 't' ? "disabled" : "active",
			    PQgetvalue(res, i, 5)[0] ? PQgetvalue(res, i, 5) : "never");
		PQclear(res);
		rc = 0;
	} else if (!strcmp(argv[1], "add") && argc >= 3) {
		int admin = 0, stdin_pw = 0;
		long long id;
		enum auth_status st;

		for (int i = 3; i < argc; i++) {
			if (!strcmp(argv[i], "--admin"))
				admin = 1;
			else if (!strcmp(argv[i], "--password-stdin"))
				stdin_pw = 1;
			else {
				fprintf(stderr, "verdict user add: unknown option %s\n", argv[i]);
				rc = 2;
				goto out;
			}
		}
		if (!stdin_pw && !isatty(0)) {
			fprintf(stderr, "verdict user add: pass --password-stdin\n");
			rc = 2;
			goto out;
		}
		if (cli_read_password(pw, sizeof(pw), !stdin_pw) == -1)
			goto out;
		st = auth_signup(db, NULL, argv[2], strlen(argv[2]), pw, strlen(pw),
		    admin ? "admin" : "user", &id, err, sizeof(err));
		sodium_memzero(pw, sizeof(pw));
		if (st != AUTH_OK) {
			fprintf(stderr, "verdict user add: %s\n", err[0] ? err : status_text(st));
			goto out;
		}
		printf("created %s %s (id %lld)\n", admin ? "admin" : "user", argv[2], id);
		rc = 0;
	} else if (!strcmp(argv[1], "passwd") && argc >= 3) {
		const char *vals[1] = { argv[2] };
		PGresult *res = db_exec(db, STMT_USER_BY_NAME, 1, vals);
		enum auth_status st;
		long long id;
		char uname[USERNAME_MAX + 1];

		if (res == NULL)
			goto dberr;
		if (PQntuples(res) != 1) {
			PQclear(res);
			fprintf(stderr, "verdict user passwd: no user %s\n", argv[2]);
			goto out;
		}
		id = atoll(PQgetvalue(res, 0, 0));
		snprintf(uname, sizeof(uname), "%s", PQgetvalue(res, 0, 1));
		PQclear(res);
		if (cli_read_password(pw, sizeof(pw), 1) == -1)
			goto out;
		st = auth_set_password(db, id, uname, pw, strlen(pw), err, sizeof(err));
		sodium_memzero(pw, sizeof(pw));
		if (st != AUTH_OK) {
			fprintf(stderr, "verdict user passwd: %s\n", err[0] ? err : status_text(st));
			goto out;
		}
		/* Existing sessions end with the old password. */
		{
			char idbuf[24];
			const char *v[1] = { idbuf };

			snprintf(idbuf, sizeof(idbuf), "%lld", id);
			PQclear(db_exec(db, STMT_SESSION_DELETE_USER, 1, v));
		}
		printf("password set for %s\n", uname);
		rc = 0;
	} else {
		usage(stderr);
		rc = 2;
	}
	goto out;
dberr:
	fprintf(stderr, "verdict: database error: %s\n", db_errmsg(db));
out:
	db_free(db);
	return rc;
}

/* ---- model: the registry through verdict's JSON API ---- */

static const char register_usage[] =
    "usage: verdict model register NAME --booster FILE --spec FILE [--stage STAGE]\n"
    "           [--alias ALIAS] [--archive-existing] [--description TEXT]\n"
    "           [--run-id RUN] [--url URL] [--token TOKEN | --user USER --password-stdin]\n";

/*
 * Creates NAME unless it exists, uploads the booster and spec as its next
 * version, then sets the stage and alias: each step one call, each failure
 * reported with the server's message. Exit status 0, 1 (failed), 2 (usage).
 */
static int
cmd_model_register(int argc, char **argv)
{
	static const char cmd[] = "verdict model register";
	struct cli_version v = { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0 };
	struct cli_remote rm = { NULL, NULL, NULL, 0 };
	struct client *c = NULL;
	char source[300];
	const char *base;
	long long version;
	int rc;

	for (int i = 2; i < argc; i++) {
		int o;

		if ((o = cli_remote_option(argc, argv, &i, &rm)) == 0 &&
		    (o = cli_opt_value(argc, argv, &i, "--booster", &v.booster)) == 0 &&
		    (o = cli_opt_value(argc, argv, &i, "--spec", &v.spec)) == 0 &&
		    (o = cli_opt_value(argc, argv, &i, "--stage", &v.stage)) == 0 &&
		    (o = cli_opt_value(argc, argv, &i, "--alias", &v.alias)) == 0 &&
		    (o = cli_opt_value(argc, argv, &i, "--description", &v.description)) == 0 &&
		    (o = cli_opt_value(argc, argv, &i, "--run-id", &v.run_id)) == 0) {
			if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
				fputs(register_usage, stdout);
				return 0;
			}
			if (!strcmp(argv[i], "--archive-existing"))
				v.archive = 1;
			else if (argv[i][0] != '-' && v.name == NULL)
				v.name = argv[i];
			else {
				fprintf(stderr, "%s: unexpected argument %s\n", cmd, argv[i]);
				goto usage;
			}
		} else if (o == -1) {
			fprintf(stderr, "%s: %s needs a value\n", cmd, argv[i]);
			goto usage;
		}
	}
	if (v.name == NULL || v.booster == NULL || v.spec == NULL)
		goto usage;
	if (v.stage != NULL && (v.stage = canonical_stage(v.stage)) == NULL) {
		fprintf(stderr, "%s: --stage must be None, Staging, Production or Archived\n",
		    cmd);
		return 2;
	}
	if (v.archive && v.stage == NULL) {
		fprintf(stderr, "%s: --archive-existing goes with --stage\n", cmd);
		return 2;
	}
	if (cli_check_file(cmd, "booster", v.booster, CLI_BOOSTER_MAX) == -1 ||
	    cli_check_file(cmd, "spec", v.spec, CLI_SPEC_MAX) == -1)
		return 1;
	if ((c = cli_remote_open(cmd, &rm, &rc)) == NULL)
		return rc;

	/* The source names where it came from, for the registry's history. */
	base = strrchr(v.booster, '/') ? strrchr(v.booster, '/') + 1 : v.booster;
	snprintf(source, sizeof(source), "verdict model register %s", base);
	for (char *p = source; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	v.source = source;
	rc = cli_register(cmd, c, &v, &version);
	client_free(c);
	return rc;
usage:
	fputs(register_usage, stderr);
	return 2;
}

/* GET /api/models as a table: NAME, LATEST, PRODUCTION ("-" for none). */
static int
cmd_model_list(int argc, char **argv)
{
	static const char cmd[] = "verdict model list";
	struct cli_remote rm = { NULL, NULL, NULL, 0 };
	struct client *c;
	struct client_resp r = { 0, NULL, "", "" };
	enum client_status st;
	json_t *models, *m;
	size_t i;
	int w = 4, rc;

	for (int k = 2; k < argc; k++) {
		int o = cli_remote_option(argc, argv, &k, &rm);

		if (o == 1)
			continue;
		if (o == 0 && (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h"))) {
			printf("usage: verdict model list [--url URL] [--token TOKEN | --user USER "
			    "--password-stdin]\n");
			return 0;
		}
		if (o == -1)
			fprintf(stderr, "%s: %s needs a value\n", cmd, argv[k]);
		else
			fprintf(stderr, "%s: unexpected argument %s\n", cmd, argv[k]);
		fprintf(stderr, "usage: verdict model list [--url URL] [--token TOKEN | "
		    "--user USER --password-stdin]\n");
		return 2;
	}
	if ((c = cli_remote_open(cmd, &rm, &rc)) == NULL)
		return rc;
	rc = 1;
	if ((st = client_json(c, "GET", "/api/models", NULL, &r)) != CLIENT_OK) {
		rc = cli_api_failed(cmd, st, &r);
		goto out;
	}
	if (!json_is_array(models = json_object_get(r.json, "models"))) {
		fprintf(stderr, "%s: the server's answer has no model list\n", cmd);
		goto out;
	}
	json_array_foreach(models, i, m) {
		int n = (int)strlen(json_string_value(json_object_get(m, "name")) ?
		    json_string_value(json_object_get(m, "name")) : "");

		if (n > w)
			w = n;
	}
	printf("%-*s %-7s %s\n", w, "NAME", "LATEST", "PRODUCTION");
	json_array_foreach(models, i, m) {
		const char *name = json_string_value(json_object_get(m, "name"));
		json_t *lv = json_object_get(m, "latest_version");
		json_t *pv = json_object_get(m, "production_version");
		char l[24] = "-", p[24] = "-";

		if (json_is_integer(lv))
			snprintf(l, sizeof(l), "%lld", (long long)json_integer_value(lv));
		if (json_is_integer(pv))
			snprintf(p, sizeof(p), "%lld", (long long)json_integer_value(pv));
		printf("%-*s %-7s %s\n", w, name ? name : "?", l, p);
	}
	rc = 0;
out:
	client_resp_free(&r);
	client_free(c);
	return rc;
}

/* The upload limit of POST /api/models/{name}/versions/{v}/reference (max_multipart_body's default). */
#define REFERENCE_MAX ((off_t)64 << 20)

static const char reference_usage[] =
    "usage: verdict model reference NAME VERSION --data FILE\n"
    "           [--url URL] [--token TOKEN | --user USER --password-stdin]\n";

/* The whole of a checked file into a malloc'd buffer (*len bytes); NULL after printing why. */
static char *
slurp(const char *cmd, const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;
	char *p = NULL;

	if (f == NULL || fstat(fileno(f), &sb) == -1 ||
	    (p = malloc((size_t)sb.st_size + 1)) == NULL ||
	    fread(p, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
		fprintf(stderr, "%s: %s: %s\n", cmd, path, strerror(errno ? errno : EIO));
		free(p);
		p = NULL;
	} else
		*len = (size_t)sb.st_size;
	if (f != NULL)
		fclose(f);
	return p;
}

/*
 * Uploads FILE as the reference profile of NAME's version VERSION: a JSON
 * list of raw rows when its first non-blank byte is '[', else CSV with a
 * header. Exit status 0, 1 (refused: the server's message names the row
 * and field), 2 (usage).
 */
static int
cmd_model_reference(int argc, char **argv)
{
	static const char cmd[] = "verdict model reference";
	const char *pos[2] = { NULL, NULL }, *data = NULL;
	struct cli_remote rm = { NULL, NULL, NULL, 0 };
	struct client_resp r = { 0, NULL, "", "" };
	struct client *c = NULL;
	enum client_status st;
	char path[1024], *body = NULL;
	size_t len = 0, k = 0;
	int np = 0, rc;

	for (int i = 2; i < argc; i++) {
		int o = cli_remote_option(argc, argv, &i, &rm);

		if (o == 0)
			o = cli_opt_value(argc, argv, &i, "--data", &data);
		if (o == 1)
			continue;
		if (o == -1) {
			fprintf(stderr, "%s: %s needs a value\n", cmd, argv[i]);
			goto usage;
		}
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(reference_usage, stdout);
			return 0;
		}
		if (argv[i][0] == '-' || np == 2) {
			fprintf(stderr, "%s: unexpected argument %s\n", cmd, argv[i]);
			goto usage;
		}
		pos[np++] = argv[i];
	}
	if (np != 2 || data == NULL)
		goto usage;
	if (strlen(pos[1]) == 0 || strlen(pos[1]) > 9 ||
	    strspn(pos[1], "0123456789") != strlen(pos[1])) {
		fprintf(stderr, "%s: VERSION must be a version number\n", cmd);
		goto usage;
	}
	if (cli_check_file(cmd, "data", data, REFERENCE_MAX) == -1)
		return 1;
	if ((c = cli_remote_open(cmd, &rm, &rc)) == NULL)
		return rc;
	rc = 1;
	if ((body = slurp(cmd, data, &len)) == NULL)
		goto out;
	while (k < len && strchr(" \t\r\n", body[k]) != NULL)
		k++;
	if (client_path(path, sizeof(path), "api", "models", pos[0], "versions", pos[1],
	    "reference", NULL) == -1) {
		fprintf(stderr, "%s: model name too long\n", cmd);
		goto out;
	}
	st = client_body(c, path, k < len && body[k] == '[' ? "application/json" : "text/csv",
	    body, len, &r);
	if (st != CLIENT_OK) {
		rc = cli_api_failed(cmd, st, &r);
		goto out;
	}
	printf("reference of %s version %s: %lld rows\n", pos[0], pos[1],
	    (long long)json_integer_value(json_object_get(r.json, "rows")));
	rc = 0;
out:
	client_resp_free(&r);
	client_free(c);
	free(body);
	return rc;
usage:
	fputs(reference_usage, stderr);
	return 2;
}

static const char drift_usage[] =
    "usage: verdict drift --model NAME [--window 7d] [--version V]\n"
    "           [--url URL] [--token TOKEN | --user USER --password-stdin]\n";

/*
 * Runs a drift check now (POST /api/models/NAME/drift) and prints one line
 * per version. Exit status 0 no dataset drift, 3 dataset drift in some
 * version, 1 failed, 2 usage: a timer or a cron job can act on it.
 */
static int
cmd_drift(int argc, char **argv)
{
	static const char cmd[] = "verdict drift";
	const char *name = NULL, *window = "7d", *version = NULL;
	struct cli_remote rm = { NULL, NULL, NULL, 0 };
	struct client_resp r = { 0, NULL, "", "" };
	struct client *c = NULL;
	enum client_status st;
	json_t *body = NULL, *rep, *f;
	char path[1024];
	size_t i, k;
	int rc;

	for (int a = 1; a < argc; a++) {
		int o = cli_remote_option(argc, argv, &a, &rm);

		if (o == 0 && (o = cli_opt_value(argc, argv, &a, "--model", &name)) == 0 &&
		    (o = cli_opt_value(argc, argv, &a, "--window", &window)) == 0)
			o = cli_opt_value(argc, argv, &a, "--version", &version);
		if (o == 1)
			continue;
		if (o == -1) {
			fprintf(stderr, "%s: %s needs a value\n", cmd, argv[a]);
			goto usage;
		}
		if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
			fputs(drift_usage, stdout);
			return 0;
		}
		fprintf(stderr, "%s: unexpected argument %s\n", cmd, argv[a]);
		goto usage;
	}
	if (name == NULL)
		goto usage;
	if (version != NULL && (strlen(version) == 0 || strlen(version) > 9 ||
	    strspn(version, "0123456789") != strlen(version))) {
		fprintf(stderr, "%s: --version must be a version number\n", cmd);
		goto usage;
	}
	if ((c = cli_remote_open(cmd, &rm, &rc)) == NULL)
		return rc;
	rc = 1;
	body = json_pack("{s:s}", "window", window);
	if (version != NULL)
		json_object_set_new(body, "version", json_integer(atoll(version)));
	if (client_path(path, sizeof(path), "api", "models", name, "drift", NULL) == -1) {
		fprintf(stderr, "%s: model name too long\n", cmd);
		goto out;
	}
	if ((st = client_json(c, "POST", path, body, &r)) != CLIENT_OK) {
		rc = cli_api_failed(cmd, st, &r);
		goto out;
	}
	json_array_foreach(json_object_get(r.json, "reports"), i, rep) {
		int dd = json_is_true(json_object_get(rep, "dataset_drift"));

		printf("%s version %lld: %s, %lld of %lld inputs drifted (report %lld, %lld "
		    "predictions in %s)", name,
		    (long long)json_integer_value(json_object_get(rep, "version")),
		    dd ? "DATASET DRIFT" : "no dataset drift",
		    (long long)json_integer_value(json_object_get(rep, "n_drifted")),
		    (long long)json_integer_value(json_object_get(rep, "n_features")),
		    (long long)json_integer_value(json_object_get(rep, "report_id")),
		    (long long)json_integer_value(json_object_get(rep, "current_rows")),
		    json_string_value(json_object_get(r.json, "window")));
		json_array_foreach(json_object_get(rep, "features"), k, f)
			if (json_is_true(json_object_get(f, "drifted")))
				printf("%s %s", k ? "," : ":",
				    json_string_value(json_object_get(f, "name")));
		if (json_is_true(json_object_get(json_object_get(rep, "prediction"), "drifted")))
			printf("; prediction drift");
		printf("\n");
	}
	json_array_foreach(json_object_get(r.json, "skipped"), i, rep)
		printf("%s version %lld: skipped, %s\n", name,
		    (long long)json_integer_value(json_object_get(rep, "version")),
		    json_string_value(json_object_get(rep, "reason")));
	rc = json_is_true(json_object_get(r.json, "dataset_drift")) ? 3 : 0;
out:
	json_decref(body);
	client_resp_free(&r);
	client_free(c);
	return rc;
usage:
	fputs(drift_usage, stderr);
	return 2;
}

static int
cmd_model(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "register"))
		return cmd_model_register(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "list"))
		return cmd_model_list(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "reference"))
		return cmd_model_reference(argc, argv);
	usage(stderr);
	return 2;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfgpath = NULL;
	struct config cfg;
	char err[512];
	int ch;

	/* '+': stop at the command so its own options are left to it. */
	while ((ch = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("verdict %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	/* model commands talk HTTP to a server: no config, no database. */
	if (!strcmp(argv[optind], "model"))
		return cmd_model(argc - optind, argv + optind);
	if (!strcmp(argv[optind], "drift"))
		return cmd_drift(argc - optind, argv + optind);
	if (!strcmp(argv[optind], "train"))
		return train_main(argc - optind, argv + optind);
	if (!strcmp(argv[optind], "retrain"))
		return retrain_main(argc - optind, argv + optind);
	if (cfgpath == NULL)
		cfgpath = config_find();
	if (config_load(&cfg, cfgpath, err, sizeof(err)) == -1) {
		fprintf(stderr, "verdict: %s\n", err);
		return 1;
	}
	argc -= optind;
	argv += optind;
	if (!strcmp(argv[0], "migrate"))
		return cmd_migrate(&cfg, argc, argv);
	if (!strcmp(argv[0], "user"))
		return cmd_user(&cfg, argc, argv);
	fprintf(stderr, "verdict: unknown command '%s'\n", argv[0]);
	usage(stderr);
	return 2;
}
