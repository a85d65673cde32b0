/* verdict.c: the command-line tool — schema migrations and user administration; models and training join it later. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "auth.h"
#include "config.h"
#include "db.h"
#include "migrate.h"

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
	    "\n"
	    "The config is found as verdictd finds it: --config, $VERDICT_CONFIG,\n"
	    "./var/verdict.conf (a checkout's local stack), then\n"
	    "%s/verdict/verdict.conf.\n", VERDICT_SYSCONFDIR);
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

/* One password line from stdin (no echo on a terminal); caller wipes it. */
static int
read_password(char *buf, size_t len, int prompt)
{
	struct termios old, noecho;
	int tty = isatty(0), rc = -1;

	if (prompt && tty) {
		fprintf(stderr, "password: ");
		tcgetattr(0, &old);
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSANOW, &noecho);
	}
	if (fgets(buf, (int)len, stdin) != NULL) {
		size_t n = strcspn(buf, "\r\n");

		if (buf[n] == '\0' && n == len - 1)
			fprintf(stderr, "verdict: password longer than %d bytes\n", PASSWORD_MAX);
		else {
			buf[n] = '\0';
			rc = 0;
		}
	}
	if (prompt && tty) {
		tcsetattr(0, TCSANOW, &old);
		fprintf(stderr, "\n");
	}
	return rc;
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
	if (sodium_init() < 0 || auth_init(c, 2, err, sizeof(err)) == -1) {
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
		if (read_password(pw, sizeof(pw), !stdin_pw) == -1)
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
		if (read_password(pw, sizeof(pw), 1) == -1)
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
