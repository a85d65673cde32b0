/* perm.c: per-resource permissions (MLflow's auth model) — lookups with a short per-process cache, the require checks every domain operation calls, and creator grants. */
#include "perm.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "db.h"

#define CACHE_SLOTS 4096

static const char *const names[] = { "NO_PERMISSIONS", "READ", "EDIT", "MANAGE" };

struct slot {
	long long user;
	char kind;                  /* 'm' model, 'e' experiment */
	char key[256];
	enum perm p;
	time_t until;
};

static struct slot cache[CACHE_SLOTS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

const char *
perm_name(enum perm p)
{
	return names[p];
}

int
perm_parse(const char *s, enum perm *out)
{
	for (size_t i = 0; i < 4; i++)
		if (s != NULL && !strcmp(s, names[i])) {
			*out = (enum perm)i;
			return 0;
		}
	return -1;
}

void
perm_cache_clear(void)
{
	pthread_mutex_lock(&cache_lock);
	memset(cache, 0, sizeof(cache));
	pthread_mutex_unlock(&cache_lock);
}

static size_t
slot_of(long long user, char kind, const char *key)
{
	unsigned char h[8];
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)&user, sizeof(user));
	crypto_generichash_update(&st, (const unsigned char *)&kind, 1);
	crypto_generichash_update(&st, (const unsigned char *)key, strlen(key));
	crypto_generichash_final(&st, h, sizeof(h));
	return ((size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16) % CACHE_SLOTS;
}

static int
cached(long long user, char kind, const char *key, enum perm *out)
{
	size_t i = slot_of(user, kind, key);
	int hit;

	pthread_mutex_lock(&cache_lock);
	hit = cache[i].until > time(NULL) && cache[i].user == user && cache[i].kind == kind &&
	    !strcmp(cache[i].key, key);
	if (hit)
		*out = cache[i].p;
	pthread_mutex_unlock(&cache_lock);
	return hit;
}

static void
remember(const struct req *r, long long user, char kind, const char *key, enum perm p)
{
	size_t i = slot_of(user, kind, key);

	if (r->app->cfg.auth_cache_ttl <= 0 || strlen(key) >= sizeof(cache[i].key))
		return;
	pthread_mutex_lock(&cache_lock);
	cache[i].user = user;
	cache[i].kind = kind;
	snprintf(cache[i].key, sizeof(cache[i].key), "%s", key);
	cache[i].p = p;
	cache[i].until = time(NULL) + r->app->cfg.auth_cache_ttl;
	pthread_mutex_unlock(&cache_lock);
}

static enum perm
default_perm(const struct req *r)
{
	enum perm p = PERM_READ;

	if (perm_parse(r->app->cfg.default_permission, &p) == -1)
		p = PERM_READ;
	return p;
}

int
perm_default_readable(const struct req *r)
{
	return default_perm(r) >= PERM_READ;
}

static int
lookup(struct req *r, char kind, enum stmt s, const char *key, enum perm *out)
{
	char uid[24];
	const char *vals[2] = { key, uid };
	PGresult *res;

	if (r->user.id == 0) {
		*out = PERM_NONE;
		return 0;
	}
	if (r->user.admin) {
		*out = PERM_MANAGE;
		return 0;
	}
	if (cached(r->user.id, kind, key, out))
		return 0;
	snprintf(uid, sizeof(uid), "%lld", r->user.id);
	if ((res = db_exec(r->db, s, 2, vals)) == NULL)
		return -1;
	if (PQntuples(res) == 0 || perm_parse(PQgetvalue(res, 0, 0), out) == -1)
		*out = default_perm(r);
	PQclear(res);
	remember(r, r->user.id, kind, key, *out);
	return 0;
}

int
perm_model(struct req *r, const char *name, enum perm *out)
{
	return lookup(r, 'm', STMT_PERM_MODEL, name, out);
}

/* Experiment ids are decimal; anything else has no rows (and no experiment). */
static int
id_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 18 && strspn(s, "0123456789") == n;
}

int
perm_experiment(struct req *r, const char *id, enum perm *out)
{
	if (!id_ok(id)) {
		*out = r->user.admin ? PERM_MANAGE : default_perm(r);
		return 0;
	}
	return lookup(r, 'e', STMT_PERM_EXPERIMENT, id, out);
}

/* MLflow's API (tracking, registry, artifacts proxy) speaks MLflow's errors. */
static int
mlflow_api(const struct req *r)
{
	return (r->route != NULL && (r->route->flags & R_MLFLOW)) ||
	    (r->path != NULL && (!strncmp(r->path, "/api/2.0/", 9) ||
	    !strncmp(r->path, "/ajax-api/2.0/", 14)));
}

static int
deny(struct req *r, const char *what, const char *id, enum perm need)
{
	if (mlflow_api(r))
		resp_error_code(r, "PERMISSION_DENIED", "Permission denied: %s %.200s needs %s",
		    what, id, perm_name(need));
	else
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "%s '%.200s' does not exist", what,
		    id);
	return 1;
}

/* 1 when the statement finds the resource, 0 when not, -1 on error. */
static int
exists(struct req *r, enum stmt s, const char *key)
{
	const char *vals[1] = { key };
	PGresult *res = db_exec(r->db, s, 1, vals);
	int n;

	if (res == NULL)
		return -1;
	n = PQntuples(res) > 0;
	PQclear(res);
	return n;
}

int
perm_require_model(struct req *r, const char *name, enum perm need)
{
	enum perm p;
	int e;

	if (perm_model(r, name, &p) == -1)
		return -1;
	if (p >= need)
		return 0;
	/* No such model: the caller answers its own 404. */
	if ((e = exists(r, STMT_MODEL_EXISTS, name)) <= 0)
		return e;
	/* Lacking EDIT but able to read: say so rather than pretend it is not there. */
	if (p >= PERM_READ) {
		if (mlflow_api(r))
			return deny(r, "registered model", name, need);
		resp_error(r, 403, "PERMISSION_DENIED", "model '%.200s' needs %s permission for "
		    "this", name, perm_name(need));
		return 1;
	}
	return deny(r, "model", name, need);
}

int
perm_require_experiment(struct req *r, const char *id, enum perm need)
{
	enum perm p;
	int e;

	if (perm_experiment(r, id, &p) == -1)
		return -1;
	if (p >= need)
		return 0;
	if (!id_ok(id) || (e = exists(r, STMT_EXPERIMENT_EXISTS, id)) == 0)
		return 0;
	if (e == -1)
		return -1;
	if (p >= PERM_READ && !mlflow_api(r)) {
		resp_error(r, 403, "PERMISSION_DENIED", "experiment %.40s needs %s permission for "
		    "this", id, perm_name(need));
		return 1;
	}
	return deny(r, "experiment", id, need);
}

int
perm_require_run(struct req *r, const char *run_id, enum perm need)
{
	const char *vals[1] = { run_id };
	PGresult *res;
	char exp[24];
	int rc;

	if (r->user.admin)
		return 0;
	if ((res = db_exec(r->db, STMT_PERM_RUN_EXPERIMENT, 1, vals)) == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;   /* no such run: the caller says so */
	}
	snprintf(exp, sizeof(exp), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if ((rc = perm_require_experiment(r, exp, need)) == 1 && !mlflow_api(r)) {
		/* verdict's pages speak of the run, not its experiment */
		buf_reset(&r->resp.body);
		r->resp.has_type = 0;
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "run '%.64s' does not exist", run_id);
	}
	return rc;
}

static int
grant(struct req *r, enum stmt s, const char *key)
{
	char uid[24];
	const char *vals[3] = { key, uid, "MANAGE" };
	PGresult *res;

	if (r->user.id == 0)
		return 0;
	snprintf(uid, sizeof(uid), "%lld", r->user.id);
	if ((res = db_exec(r->db, s, 3, vals)) == NULL)
		return -1;
	PQclear(res);
	perm_cache_clear();
	return 0;
}

int
perm_grant_creator_model(struct req *r, const char *name)
{
	return grant(r, STMT_PERM_MODEL_SET, name);
}

int
perm_grant_creator_experiment(struct req *r, const char *experiment_id)
{
	return grant(r, STMT_PERM_EXPERIMENT_SET, experiment_id);
}
