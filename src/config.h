/* config.h: verdictd/verdict configuration: a key = value file plus VERDICT_* environment overrides. */
#ifndef VERDICT_CONFIG_H
#define VERDICT_CONFIG_H

#include <stddef.h>

#include "util.h"

struct config {
	char listen[256];
	unsigned socket_mode;
	int threads;
	char database_url[1024];
	char template_dir[512];
	char sql_dir[512];
	int dev_mode;
	size_t max_json_body;
	size_t max_form_body;
	size_t max_multipart_body;
	char access_log[512];
	int backlog;
	int db_retry_after;       /* seconds, sent with 503 when Postgres is away */

	/* accounts */
	int session_idle;         /* seconds without a request before a session ends */
	int session_lifetime;     /* absolute session lifetime, seconds */
	int token_lifetime;       /* OAuth2 password-grant access tokens, seconds */
	int signup_open;
	int signup_per_hour;      /* accounts created per client address per hour */
	int login_max_failures;   /* per username in 15 minutes, then lockout */
	int login_addr_max_failures;
	char trusted_proxies[512];/* comma-separated addresses whose X-Forwarded-* is believed */
	char public_url[256];     /* e.g. https://verdict.example.com; "" = derive */
	int max_concurrent_hashes;/* 0 = max(1, threads / 2) */
	long long pwhash_opslimit;
	size_t pwhash_memlimit;
	char password_blocklist[512];
	int auth_cache_ttl;       /* seconds a verified session/token/Basic credential is cached */

	/* serving */
	char default_model[256];  /* model behind POST /predict; "" = none */
	char default_permission[32]; /* READ, EDIT, MANAGE or NO_PERMISSIONS where a user has no row */
	char metrics_allow[1024]; /* addresses that may GET /metrics (space or comma separated) */
	char metrics_token[256];  /* or a bearer token for /metrics; "" = none */
	int webhook_timeout;      /* s per delivery attempt */
	int webhook_max_attempts; /* then the delivery is marked failed */
	int webhook_backoff_ms;   /* first retry delay; doubles per attempt, capped at 1 h */
	int webhook_poll_ms;      /* how often the worker looks for events and due deliveries */
	int quality_check_interval; /* s between quality-threshold checks */
	int retrain_lock_ttl;     /* s a retrain lease lasts; then another retrain may take it */

	/* artifacts */
	char artifact_root[512];  /* directory for artifact bytes; "" = chunks in Postgres */
	long long max_artifact_size; /* bytes per uploaded artifact; 413 beyond */

	/* browsing */
	long long chart_summary_min_points; /* finite points from which a chart reads block summaries */
};

/* Defaults for every key. */
void config_defaults(struct config *c);

/*
 * Loads path (NULL: defaults only) then applies VERDICT_<KEY> environment
 * overrides. Returns 0, or -1 with a message "file:line: ..." in err.
 * A missing file is an error when path was given explicitly.
 */
int config_load(struct config *c, const char *path, char *err, size_t errlen) WUR;

/* Sets one key from text; -1 with a message in err. Exported for tests. */
int config_set(struct config *c, const char *key, const char *value,
    char *err, size_t errlen) WUR;

/*
 * Where to find the config when none was given: $VERDICT_CONFIG, then
 * ./var/verdict.conf (the local stack of a checkout), then
 * SYSCONFDIR/verdict/verdict.conf. Returns a static string or NULL.
 */
const char *config_find(void);

/* Writes every key = value (effective config) to out; for --check-config. */
int config_dump(const struct config *c, struct buf *out) WUR;

#endif
