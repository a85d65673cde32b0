/* api-drift.c: JSON endpoints for data drift — reference uploads, drift checks on demand, and the latest reports. */
#include <stdlib.h>
#include <string.h>

#include "drift.h"
#include "handlers.h"

/* A version number from the URL: 1..999999999 without leading zeros; 0 when malformed. */
static int
path_version(struct req *r)
{
	const char *s = req_path_param(r, "version");
	size_t n = strlen(s);

	if (n == 0 || n > 9 || s[0] == '0' || strspn(s, "0123456789") != n)
		return 0;
	return atoi(s);
}

/* POST /api/models/{name}/versions/{version}/reference: a JSON list or text/csv. */
int
api_drift_reference(struct req *r)
{
	const char *name = req_path_param(r, "name");
	int version = path_version(r), rc;
	json_t *out;

	if (version == 0) {
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "model '%.100s' has no version "
		    "'%.20s'", name, req_path_param(r, "version"));
		return 0;
	}
	if (r->json != NULL)
		rc = drift_reference_json(r, name, version, r->json, &out);
	else if (r->body_len > 0)
		rc = drift_reference_csv(r, name, version, r->body, r->body_len, &out);
	else {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "send the reference rows: a JSON "
		    "list of raw-row objects, or text/csv with a header of input names");
		return 0;
	}
	if (rc != 0)
		return rc == 1 ? 0 : -1;
	return resp_json(r, 201, out);
}

/* POST /api/models/{name}/drift[?window=7d&version=V] (or the same fields in a JSON body). */
int
api_drift_run(struct req *r)
{
	json_t *out;
	int rc = drift_run(r, req_path_param(r, "name"), r->in[1].present ? (int)r->in[1].i : 0,
	    r->in[0].present ? r->in[0].s : "7d", &out);

	if (rc != 0)
		return rc == 1 ? 0 : -1;
	return resp_json(r, 200, out);
}

/* GET /api/models/{name}/drift */
int
api_drift_get(struct req *r)
{
	json_t *out;
	int rc = drift_get(r, req_path_param(r, "name"), &out);

	if (rc != 0)
		return rc == 1 ? 0 : -1;
	return resp_json(r, 200, out);
}
