/* config.c: parse the key = value configuration file and VERDICT_* overrides. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum ctype { C_STR, C_INT, C_SIZE, C_BOOL, C_MODE, C_LL };

/* The one table of keys: name, type, where it lives. README documents each. */
static const struct ckey {
	const char *name;
	enum ctype type;
	size_t off;
	size_t size;     /* for strings */
	long long min, max;
} keys[] = {
#define S(n) #n, C_STR, offsetof(struct config, n), sizeof(((struct config *)0)->n), 0, 0
#define N(n, t, lo, hi) #n, t, offsetof(struct config, n), 0, lo, hi
	{ S(listen) },
	{ N(socket_mode, C_MODE, 0, 0777) },
	{ N(threads, C_INT, 0, 1024) },
	{ S(database_url) },
	{ S(template_dir) },
	{ S(sql_dir) },
	{ N(dev_mode, C_BOOL, 0, 1) },
	{ N(max_json_body, C_SIZE, 1024, 1LL << 30) },
	{ N(max_form_body, C_SIZE, 1024, 1LL << 30) },
	{ N(max_multipart_body, C_SIZE, 1024, 1LL << 32) },
	{ S(access_log) },
	{ N(backlog, C_INT, 1, 65535) },
	{ N(db_retry_after, C_INT, 1, 3600) },
	{ N(session_idle, C_INT, 60, 365 * 86400) },
	{ N(session_lifetime, C_INT, 60, 365 * 86400) },
	{ N(token_lifetime, C_INT, 60, 365 * 86400) },
	{ N(signup_open, C_BOOL, 0, 1) },
	{ N(signup_per_hour, C_INT, 1, 1000000) },
	{ N(login_max_failures, C_INT, 1, 1000) },
	{ N(login_addr_max_failures, C_INT, 1, 100000) },
	{ S(trusted_proxies) },
	{ S(public_url) },
	{ N(max_concurrent_hashes, C_INT, 0, 256) },
	{ N(pwhash_opslimit, C_LL, 1, 1000) },
	{ N(pwhash_memlimit, C_SIZE, 8192, 1LL << 32) },
	{ S(password_blocklist) },
	{ N(auth_cache_ttl, C_INT, 0, 3600) },
	{ S(default_model) },
	{ S(metrics_allow) },
	{ S(default_permission) },
	{ S(metrics_token) },
	{ N(webhook_timeout, C_INT, 1, 300) },
	{ N(webhook_max_attempts, C_INT, 1, 100) },
	{ N(webhook_backoff_ms, C_INT, 10, 3600000) },
	{ N(webhook_poll_ms, C_INT, 10, 60000) },
	{ N(quality_check_interval, C_INT, 1, 86400) },
	{ N(retrain_lock_ttl, C_INT, 1, 30 * 86400) },
	{ S(artifact_root) },
	{ N(max_artifact_size, C_LL, 1, 1LL << 40) },
	{ N(chart_summary_min_points, C_LL, 1, 1LL << 50) },
#undef S
#undef N
};

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen, sizeof(c->listen), "/run/verdict/verdictd.sock");
	snprintf(c->metrics_allow, sizeof(c->metrics_allow), "127.0.0.1 ::1");
	snprintf(c->default_permission, sizeof(c->default_permission), "READ");
	c->socket_mode = 0660;
	c->threads = 0;
	snprintf(c->database_url, sizeof(c->database_url), "dbname=verdict");
	snprintf(c->template_dir, sizeof(c->template_dir), "%s/templates",
	    VERDICT_DATADIR);
	snprintf(c->sql_dir, sizeof(c->sql_dir), "%s/sql", VERDICT_DATADIR);
	c->dev_mode = 0;
	c->max_json_body = 1 << 20;
	c->max_form_body = 1 << 20;
	c->max_multipart_body = 64 << 20;
	snprintf(c->access_log, sizeof(c->access_log), "-");
	c->backlog = 1024;
	c->db_retry_after = 1;
	c->webhook_timeout = 5;
	c->webhook_max_attempts = 5;
	c->webhook_backoff_ms = 1000;
	c->webhook_poll_ms = 1000;
	c->quality_check_interval = 60;
	c->retrain_lock_ttl = 6 * 3600;
	c->max_artifact_size = 2LL << 30;
	c->chart_summary_min_points = 50000;
	c->session_idle = 12 * 3600;
	c->session_lifetime = 7 * 86400;
	c->token_lifetime = 3600;
	c->signup_open = 1;
	c->signup_per_hour = 20;
	c->login_max_failures = 5;
	c->login_addr_max_failures = 50;
	c->max_concurrent_hashes = 0;
	/* libsodium's INTERACTIVE limits: ~96 ms per hash on the 2-core reference machine. */
	c->pwhash_opslimit = 2;
	c->pwhash_memlimit = 64u << 20;
	snprintf(c->password_blocklist, sizeof(c->password_blocklist),
	    "%s/common-passwords.txt", VERDICT_DATADIR);
	c->auth_cache_ttl = 5;
}

static int
parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") ||
	    !strcmp(v, "1"))
		*out = 1;
	else if (!strcmp(v, "false") || !strcmp(v, "no") ||
	    !strcmp(v, "off") || !strcmp(v, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

int
config_set(struct config *c, const char *key, const char *value, char *err,
    size_t errlen)
{
	const struct ckey *k = NULL;
	char *end;
	long long n;
	int b;

	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		if (!strcmp(keys[i].name, key))
			k = &keys[i];
	if (k == NULL) {
		snprintf(err, errlen, "unknown key '%s'", key);
		return -1;
	}
	switch (k->type) {
	case C_STR:
		if (strlen(value) >= k->size) {
			snprintf(err, errlen, "%s: value longer than %zu bytes",
			    key, k->size - 1);
			return -1;
		}
		snprintf((char *)c + k->off, k->size, "%s", value);
		return 0;
	case C_BOOL:
		if (parse_bool(value, &b) == -1) {
			snprintf(err, errlen, "%s: expected true or false, got '%s'",
			    key, value);
			return -1;
		}
		*(int *)((char *)c + k->off) = b;
		return 0;
	case C_INT:
	case C_SIZE:
	case C_MODE:
	case C_LL:
		errno = 0;
		n = strtoll(value, &end, k->type == C_MODE ? 8 : 10);
		if (errno != 0 || end == value || *end != '\0' ||
		    n < k->min || n > k->max) {
			snprintf(err, errlen, "%s: expected %s between %lld and %lld, got '%s'",
			    key, k->type == C_MODE ? "an octal mode" : "an integer",
			    k->min, k->max, value);
			return -1;
		}
		if (k->type == C_SIZE)
			*(size_t *)((char *)c + k->off) = (size_t)n;
		else if (k->type == C_LL)
			*(long long *)((char *)c + k->off) = n;
		else if (k->type == C_MODE)
			*(unsigned *)((char *)c + k->off) = (unsigned)n;
		else
			*(int *)((char *)c + k->off) = (int)n;
		return 0;
	}
	return -1;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
load_file(struct config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[2048], msg[512];
	int lineno = 0, rc = -1;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p, *eq, *key, *val;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line too long", path, lineno);
			goto out;
		}
		p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		if ((eq = strchr(p, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected 'key = value'",
			    path, lineno);
			goto out;
		}
		*eq = '\0';
		key = trim(p);
		val = trim(eq + 1);
		/* Optional double quotes keep leading/trailing spaces. */
		if (strlen(val) >= 2 && val[0] == '"' && val[strlen(val) - 1] == '"') {
			val[strlen(val) - 1] = '\0';
			val++;
		}
		if (config_set(c, key, val, msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
			goto out;
		}
	}
	rc = 0;
out:
	fclose(f);
	return rc;
}

int
config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	char env[128], msg[512];

	config_defaults(c);
	if (path != NULL && load_file(c, path, err, errlen) == -1)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		const char *v;
		size_t j;

		snprintf(env, sizeof(env), "VERDICT_%s", keys[i].name);
		for (j = 8; env[j] != '\0'; j++)
			env[j] = (char)toupper((unsigned char)env[j]);
		if ((v = getenv(env)) == NULL)
			continue;
		if (config_set(c, keys[i].name, v, msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "environment %s: %s", env, msg);
			return -1;
		}
	}
	return 0;
}

const char *
config_find(void)
{
	static const char local[] = "var/verdict.conf";
	static const char sys[] = VERDICT_SYSCONFDIR "/verdict/verdict.conf";
	const char *e = getenv("VERDICT_CONFIG");

	if (e != NULL && *e != '\0')
		return e;
	if (access(local, R_OK) == 0)
		return local;
	if (access(sys, R_OK) == 0)
		return sys;
	return NULL;
}

int
config_dump(const struct config *c, struct buf *out)
{
	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		const struct ckey *k = &keys[i];
		const char *p = (const char *)c + k->off;
		int rc = 0;

		switch (k->type) {
		case C_STR:
			/* Secrets are not printed, only whether they are set. */
			if (strstr(k->name, "_token") != NULL && *p != '\0')
				rc = buf_printf(out, "%s = (set)\n", k->name);
			else
				rc = buf_printf(out, "%s = %s\n", k->name, p);
			break;
		case C_BOOL:
			rc = buf_printf(out, "%s = %s\n", k->name,
			    *(const int *)p ? "true" : "false");
			break;
		case C_INT:
			rc = buf_printf(out, "%s = %d\n", k->name, *(const int *)p);
			break;
		case C_SIZE:
			rc = buf_printf(out, "%s = %zu\n", k->name,
			    *(const size_t *)p);
			break;
		case C_MODE:
			rc = buf_printf(out, "%s = %04o\n", k->name,
			    *(const unsigned *)p);
			break;
		case C_LL:
			rc = buf_printf(out, "%s = %lld\n", k->name,
			    *(const long long *)p);
			break;
		}
		if (rc == -1)
			return -1;
	}
	return 0;
}
