/* api-health.c: liveness (/healthz), readiness (/readyz) and version endpoints. */
#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "handlers.h"

/* Liveness: never touches the database, so it also measures the bare request path. */
int
api_healthz(struct req *r)
{
	static const char body[] = "{\"status\":\"ok\"}";

	return resp_text(r, 200, "application/json", body, sizeof(body) - 1);
}

int
api_readyz(struct req *r)
{
	PGresult *res = db_exec(r->db, STMT_SCHEMA_VERSION, 0, NULL);
	int version, head = r->app->schema_head;
	char ra[16];

	if (res == NULL) {
		snprintf(ra, sizeof(ra), "%d", r->app->cfg.db_retry_after);
		if (resp_header(&r->resp, "Retry-After", ra) == -1)
			return -1;
		return resp_json(r, 503, json_pack("{s:s, s:s}", "status", "unavailable",
		    "reason", db_lost(r->db) ? "database unreachable" :
		    "schema_migrations unreadable; run verdict migrate"));
	}
	version = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (version != head) {
		if (resp_header(&r->resp, "Retry-After", "5") == -1)
			return -1;
		return resp_json(r, 503, json_pack("{s:s, s:s, s:i, s:i}", "status",
		    "unavailable", "reason", version < head ?
		    "schema behind: run verdict migrate" :
		    "schema ahead of this build: upgrade verdictd",
		    "schema_version", version, "schema_head", head));
	}
	return resp_json(r, 200, json_pack("{s:s, s:i}", "status", "ready",
	    "schema_version", version));
}

int
api_version(struct req *r)
{
	return resp_json(r, 200, json_pack("{s:s}", "version", r->app->version));
}
