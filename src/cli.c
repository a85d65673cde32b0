/* cli.c: what the CLI's HTTP commands share — option parsing, finding the server and credentials, registering a version. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

int
cli_opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n))
		return 0;
	if (argv[*i][n] == '=') {
		*val = argv[*i] + n + 1;
		return 1;
	}
	if (argv[*i][n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*val = argv[++*i];
	return 1;
}

int
cli_remote_option(int argc, char **argv, int *i, struct cli_remote *rm)
{
	int rc;

	if ((rc = cli_opt_value(argc, argv, i, "--url", &rm->url)) != 0 ||
	    (rc = cli_opt_value(argc, argv, i, "--token", &rm->token)) != 0 ||
	    (rc = cli_opt_value(argc, argv, i, "--user", &rm->user)) != 0)
		return rc;
	if (!strcmp(argv[*i], "--password-stdin")) {
		rm->password_stdin = 1;
		return 1;
	}
	return 0;
}

int
cli_read_password(char *buf, size_t len, int prompt)
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

/*
 * VERDICT_URL of ./var/stack.env (a checkout's local stack) into dst; 0, or
 * -1 when there is none. deploy/stack writes it with printf %q, which
 * escapes with backslashes; a URL needs none, but they are undone anyway.
 */
static int
stack_url(char *dst, size_t len)
{
	char line[1024];
	FILE *f = fopen("var/stack.env", "r");
	size_t n = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *v = line + 12;

		if (strncmp(line, "VERDICT_URL=", 12))
			continue;
		v[strcspn(v, "\r\n")] = '\0';
		if (v[0] == '\'' && v[1] != '\0' && v[strlen(v) - 1] == '\'') {
			v[strlen(v) - 1] = '\0';
			v++;
			n = (size_t)snprintf(dst, len, "%s", v);
			break;
		}
		for (; *v != '\0' && n + 1 < len; v++) {
			if (*v == '\\' && v[1] != '\0')
				v++;
			dst[n++] = *v;
		}
		dst[n] = '\0';
		break;
	}
	fclose(f);
	return n > 0 && n < len ? 0 : -1;
}

int
cli_server_url(const struct cli_remote *rm, char *dst, size_t len)
{
	const char *u = rm->url;

	if (u == NULL || *u == '\0')
		u = getenv("VERDICT_URL");
	if (u == NULL || *u == '\0')
		return stack_url(dst, len);
	if (snprintf(dst, len, "%s", u) >= (int)len)
		return -1;
	return 0;
}

void
cli_creds_wipe(struct cli_creds *cr)
{
	sodium_memzero(cr, sizeof(*cr));
}

int
cli_creds_get(const char *cmd, const struct cli_remote *rm, int required,
    struct cli_creds *cr, int *rc)
{
	const char *token = rm->token;

	memset(cr, 0, sizeof(*cr));
	*rc = 2;
	if (rm->user != NULL && rm->token != NULL) {
		fprintf(stderr, "%s: give --token or --user, not both\n", cmd);
		return -1;
	}
	if (rm->password_stdin && rm->user == NULL) {
		fprintf(stderr, "%s: --password-stdin goes with --user\n", cmd);
		return -1;
	}
	if (rm->user == NULL && (token == NULL || *token == '\0'))
		token = getenv("VERDICT_TOKEN");
	if (rm->user == NULL && (token == NULL || *token == '\0')) {
		if (!required)
			return 0;
		fprintf(stderr, "%s: no credentials: pass --token, set VERDICT_TOKEN, or "
		    "--user USER --password-stdin\n", cmd);
		return -1;
	}
	if (rm->user != NULL && !rm->password_stdin && !isatty(0)) {
		fprintf(stderr, "%s: pass --password-stdin\n", cmd);
		return -1;
	}
	if (rm->user == NULL) {
		if (snprintf(cr->token, sizeof(cr->token), "%s", token) >= (int)sizeof(cr->token)) {
			fprintf(stderr, "%s: unusable token\n", cmd);
			return -1;
		}
		return 0;
	}
	if (snprintf(cr->user, sizeof(cr->user), "%s", rm->user) >= (int)sizeof(cr->user)) {
		fprintf(stderr, "%s: unusable user name or password\n", cmd);
		return -1;
	}
	if (cli_read_password(cr->password, sizeof(cr->password), !rm->password_stdin) == -1) {
		fprintf(stderr, "%s: no password read from stdin\n", cmd);
		*rc = 1;
		return -1;
	}
	cr->basic = 1;
	return 0;
}

struct client *
cli_client(const char *cmd, const char *url, const struct cli_creds *cr)
{
	struct client *c;
	char err[512];

	if ((c = client_new(url, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s: %s\n", cmd, err);
		return NULL;
	}
	if (cr->basic) {
		if (client_set_basic(c, cr->user, cr->password) == -1) {
			fprintf(stderr, "%s: unusable user name or password\n", cmd);
			goto fail;
		}
	} else if (cr->token[0] != '\0' && client_set_token(c, cr->token) == -1) {
		fprintf(stderr, "%s: unusable token\n", cmd);
		goto fail;
	}
	return c;
fail:
	client_free(c);
	return NULL;
}

struct client *
cli_remote_open(const char *cmd, const struct cli_remote *rm, int *rc)
{
	struct cli_creds cr;
	struct client *c = NULL;
	char url[1024];

	*rc = 2;
	if (rm->user != NULL && rm->token != NULL) {
		fprintf(stderr, "%s: give --token or --user, not both\n", cmd);
		return NULL;
	}
	if (rm->password_stdin && rm->user == NULL) {
		fprintf(stderr, "%s: --password-stdin goes with --user\n", cmd);
		return NULL;
	}
	if (cli_server_url(rm, url, sizeof(url)) == -1) {
		fprintf(stderr, "%s: no server: pass --url or set VERDICT_URL\n", cmd);
		return NULL;
	}
	if (cli_creds_get(cmd, rm, 1, &cr, rc) == 0)
		c = cli_client(cmd, url, &cr);
	cli_creds_wipe(&cr);
	return c;
}

int
cli_api_failed(const char *cmd, enum client_status st, const struct client_resp *r)
{
	if (st == CLIENT_HTTP)
		fprintf(stderr, "%s: %s (HTTP %ld)\n", cmd, r->message, r->status);
	else
		fprintf(stderr, "%s: %s\n", cmd, r->message);
	return 1;
}

int
cli_check_file(const char *cmd, const char *what, const char *path, off_t max)
{
	struct stat sb;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), &sb) == -1) {
		fprintf(stderr, "%s: %s %s: %s\n", cmd, what, path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	fclose(f);
	if (!S_ISREG(sb.st_mode)) {
		fprintf(stderr, "%s: %s %s: not a regular file\n", cmd, what, path);
		return -1;
	}
	if (sb.st_size == 0 || sb.st_size > max) {
		fprintf(stderr, "%s: %s %s: %lld bytes; the server takes 1 byte to %lld MiB\n",
		    cmd, what, path, (long long)sb.st_size, (long long)(max >> 20));
		return -1;
	}
	return 0;
}

int
cli_register(const char *cmd, struct client *c, const struct cli_version *v,
    long long *version)
{
	struct client_resp r = { 0, NULL, "", "" };
	enum client_status st;
	char path[1024], ver[24];
	json_t *body;
	int rc = 1;

	*version = 0;
	/* The model; one that exists already is fine (its description stays). */
	if ((body = json_pack("{s:s}", "name", v->name)) == NULL || (v->description != NULL &&
	    json_object_set_new(body, "description", json_string(v->description)) == -1)) {
		json_decref(body);
		fprintf(stderr, "%s: out of memory\n", cmd);
		goto out;
	}
	st = client_json(c, "POST", "/api/models", body, &r);
	json_decref(body);
	if (st != CLIENT_OK && !(st == CLIENT_HTTP && r.status == 409 &&
	    !strcmp(r.error_code, "RESOURCE_ALREADY_EXISTS")))
		goto fail;
	if (st != CLIENT_OK && v->description != NULL)
		fprintf(stderr, "%s: %s exists already; its description stays as it was\n",
		    cmd, v->name);
	client_resp_free(&r);

	{
		const struct client_part parts[] = {
			{ "booster", v->booster, NULL, "application/octet-stream" },
			{ "spec", v->spec, NULL, "application/json" },
			{ "source", NULL, v->source, NULL },
			{ "run_id", NULL, v->run_id, NULL },
		};
		size_t nparts = v->run_id != NULL ? 4 : 3;

		if (client_path(path, sizeof(path), "api", "models", v->name, "versions",
		    (char *)NULL) == -1) {
			fprintf(stderr, "%s: model name too long\n", cmd);
			goto out;
		}
		st = client_multipart(c, path, parts, nparts, &r);
	}
	if (st != CLIENT_OK) {
		rc = cli_api_failed(cmd, st, &r);
		if (st == CLIENT_HTTP && r.status == 413)
			fprintf(stderr, "%s: the upload is over this server's limit (verdictd's "
			    "max_multipart_body, nginx's client_max_body_size)\n", cmd);
		goto out;
	}
	*version = json_integer_value(json_object_get(r.json, "version"));
	if (*version <= 0) {
		fprintf(stderr, "%s: the server's answer names no version\n", cmd);
		goto out;
	}
	client_resp_free(&r);
	printf("registered %s version %lld\n", v->name, *version);
	fflush(stdout);
	snprintf(ver, sizeof(ver), "%lld", *version);

	if (v->stage != NULL) {
		if (client_path(path, sizeof(path), "api", "models", v->name, "versions", ver,
		    "stage", (char *)NULL) == -1 || (body = json_pack("{s:s, s:b}", "stage",
		    v->stage, "archive_existing_versions", v->archive)) == NULL) {
			fprintf(stderr, "%s: out of memory\n", cmd);
			goto out;
		}
		st = client_json(c, "POST", path, body, &r);
		json_decref(body);
		if (st != CLIENT_OK)
			goto fail;
		client_resp_free(&r);
		printf("%s version %s: stage %s%s\n", v->name, ver, v->stage,
		    v->archive ? " (the others there archived)" : "");
		fflush(stdout);
	}
	if (v->alias != NULL) {
		if (client_path(path, sizeof(path), "api", "models", v->name, "aliases", v->alias,
		    (char *)NULL) == -1 || (body = json_pack("{s:I}", "version",
		    (json_int_t)*version)) == NULL) {
			fprintf(stderr, "%s: alias too long\n", cmd);
			goto out;
		}
		st = client_json(c, "PUT", path, body, &r);
		json_decref(body);
		if (st != CLIENT_OK)
			goto fail;
		printf("%s version %s: alias %s\n", v->name, ver, v->alias);
		fflush(stdout);
	}
	rc = 0;
	goto out;
fail:
	rc = cli_api_failed(cmd, st, &r);
out:
	client_resp_free(&r);
	return rc;
}

int
cli_common_flag(const char *arg, const char *usage, int *quiet, int *verbose)
{
	if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
		fputs(usage, stdout);
		return 2;
	}
	if (!strcmp(arg, "--quiet") || !strcmp(arg, "-q"))
		*quiet = 1;
	else if (!strcmp(arg, "--verbose") || !strcmp(arg, "-v"))
		*verbose = 1;
	else
		return 0;
	return 1;
}
