/* verdict.c: the command-line tool — schema migrations now; users, models and training join it later. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "migrate.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: verdict [--config FILE] COMMAND [ARGS]\n"
	    "       verdict --help | --version\n"
	    "\n"
	    "commands:\n"
	    "  migrate     apply pending SQL migrations (safe to run concurrently)\n"
	    "\n"
	    "The config is found as verdictd finds it: --config, $VERDICT_CONFIG,\n"
	    "./var/verdict.conf (a checkout's local stack), then\n"
	    "%s/verdict/verdict.conf.\n", VERDICT_SYSCONFDIR);
}

static int
cmd_migrate(const struct config *c, int argc, char **argv)
{
	char err[1024];
	int n;

	if (argc != 1) {
		fprintf(stderr, "usage: verdict migrate\n");
		return 2;
	}
	n = migrate_run(c->database_url, c->sql_dir, 1, err, sizeof(err));
	if (n < 0) {
		fprintf(stderr, "verdict migrate: %s\n", err);
		return 1;
	}
	return 0;
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
	fprintf(stderr, "verdict: unknown command '%s'\n", argv[0]);
	usage(stderr);
	return 2;
}
