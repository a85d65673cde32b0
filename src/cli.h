/* cli.h: what the CLI's HTTP commands share — option parsing, finding the server and credentials, registering a version. */
#ifndef VERDICT_CLI_H
#define VERDICT_CLI_H

#include <stddef.h>
#include <sys/types.h>

#include "auth.h"
#include "client.h"
#include "util.h"

/* The upload limits of POST /api/models/{name}/versions (f_version_new in routes.c). */
#define CLI_BOOSTER_MAX ((off_t)256 << 20)
#define CLI_SPEC_MAX ((off_t)4 << 20)

/* How to reach the server: the options every HTTP command takes. */
struct cli_remote {
	const char *url, *token, *user;
	int password_stdin;
};

/* Credentials once read (a password comes from stdin only once); cli_creds_wipe clears them. */
struct cli_creds {
	char token[512];
	char user[USERNAME_MAX + 1];
	char password[PASSWORD_MAX + 2];
	int basic;              /* 1: user + password; 0: token (may be "": none) */
};

/*
 * argv[*i] as "--name VALUE" or "--name=VALUE": 1 with *val set (*i moves
 * past the value), 0 when it is another argument, -1 when the value is missing.
 */
int cli_opt_value(int argc, char **argv, int *i, const char *name, const char **val);

/*
 * The flags every command shares: --help/-h prints usage to stdout (returns
 * 2), --quiet/-q and --verbose/-v set *quiet or *verbose (1); 0 for any
 * other argument.
 */
int cli_common_flag(const char *arg, const char *usage, int *quiet, int *verbose);

/* As cli_opt_value, for any connection option (stored in rm). */
int cli_remote_option(int argc, char **argv, int *i, struct cli_remote *rm);

/* One password line from stdin (no echo on a terminal when prompt); caller wipes it. 0 or -1. */
int cli_read_password(char *buf, size_t len, int prompt);

/*
 * verdict's URL: rm->url, else $VERDICT_URL, else the VERDICT_URL of
 * ./var/stack.env (a checkout's local stack). 0, or -1 when there is none.
 */
int cli_server_url(const struct cli_remote *rm, char *dst, size_t len);

/*
 * The credentials in rm, else $VERDICT_TOKEN; the password is read here.
 * required: having none is an error; else cr->token stays "". 0, or -1
 * after printing why, with *rc the exit status (2 for usage).
 */
int cli_creds_get(const char *cmd, const struct cli_remote *rm, int required,
    struct cli_creds *cr, int *rc);
void cli_creds_wipe(struct cli_creds *cr);

/* A client for url with cr's credentials (none when cr->token is ""). NULL after printing why. */
struct client *cli_client(const char *cmd, const char *url, const struct cli_creds *cr);

/*
 * A client for the server and credentials in rm (cli_server_url,
 * cli_creds_get). NULL after printing why, with *rc set to the exit status
 * (2 for usage). Caller frees.
 */
struct client *cli_remote_open(const char *cmd, const struct cli_remote *rm, int *rc);

/* Prints why a call failed, as the server said it; returns the exit status (1). */
int cli_api_failed(const char *cmd, enum client_status st, const struct client_resp *r);

/*
 * The cheap checks worth making before an upload: path is a readable,
 * non-empty regular file of at most max bytes. 0, or -1 after printing why.
 */
int cli_check_file(const char *cmd, const char *what, const char *path, off_t max);

/* A version to register: the model is created unless it exists. */
struct cli_version {
	const char *name, *booster, *spec;
	const char *source;             /* where it came from, for the registry's history */
	const char *run_id;             /* the tracking run it came from, or NULL */
	const char *stage, *alias;      /* canonical stage / alias to set, or NULL */
	const char *description;        /* for a model created here, or NULL */
	int archive;                    /* move others in stage to Archived */
};

/*
 * Creates v->name unless it exists, uploads booster and spec as its next
 * version, then sets the stage and alias: each step one call, each reported
 * on stdout, each failure on stderr with the server's message. 0 with
 * *version set, or 1 (failed).
 */
int cli_register(const char *cmd, struct client *c, const struct cli_version *v,
    long long *version) WUR;

#endif
