/* perm.h: per-resource permissions (MLflow's auth model) — the one place that says whether a user may read, edit or manage an experiment or a registered model. */
#ifndef VERDICT_PERM_H
#define VERDICT_PERM_H

#include "http.h"

enum perm { PERM_NONE, PERM_READ, PERM_EDIT, PERM_MANAGE };

/* "NO_PERMISSIONS", "READ", "EDIT", "MANAGE". */
const char *perm_name(enum perm p);
/* Parses those names; 0 or -1. */
int perm_parse(const char *s, enum perm *out);

/*
 * The caller's permission: admins MANAGE everything; else the user's row,
 * else default_permission. Anonymous callers have none. Answers are cached
 * per process for auth_cache_ttl seconds (dropped at once on a local change).
 * 0 or -1 (database).
 */
int perm_model(struct req *r, const char *name, enum perm *out);
int perm_experiment(struct req *r, const char *experiment_id, enum perm *out);

/*
 * Require at least need. Answers and returns 1 when the caller lacks it: on
 * MLflow routes 403 PERMISSION_DENIED (as MLflow's auth plugin does), on
 * verdict's own pages and API 404 "does not exist" (a resource you may not
 * read is not there for you). 0 when allowed; -1 on a database error.
 * A resource that does not exist passes (the caller answers its own 404).
 */
int perm_require_model(struct req *r, const char *name, enum perm need);
int perm_require_experiment(struct req *r, const char *experiment_id, enum perm need);
int perm_require_run(struct req *r, const char *run_id, enum perm need);

/* Grants the caller MANAGE on what they just created (inside their transaction). 0 or -1. */
int perm_grant_creator_model(struct req *r, const char *name);
int perm_grant_creator_experiment(struct req *r, const char *experiment_id);

/* SQL-side filter for searches: 1 when default_permission lets users read what has no row. */
int perm_default_readable(const struct req *r);

/* Drops this process's cached answers (after a permission change). */
void perm_cache_clear(void);

/* The MLflow permission and user management endpoints (api-permissions.c). */
int api_experiment_permission(struct req *r);
int api_model_permission(struct req *r);
int api_mlflow_user(struct req *r);

#endif
