/* routes.c: the route table — every URL, method, handler, auth level and declared input in one place. */
#include "handlers.h"
#include "router.h"

#define F(x) x, ARRAY_LEN(x)
#define NOF NULL, 0

const struct route routes[] = {
	/* method  pattern        handler       auth         kind     flags  fields */
	{ "GET", "/",            page_home,    AUTH_PUBLIC, RK_HTML, 0,     NOF },
	{ "GET", "/healthz",     api_healthz,  AUTH_PUBLIC, RK_JSON, 0,     NOF },
	{ "GET", "/readyz",      api_readyz,   AUTH_PUBLIC, RK_JSON, R_DB,  NOF },
	{ "GET", "/api/version", api_version,  AUTH_PUBLIC, RK_JSON, 0,     NOF },
};

const size_t nroutes = ARRAY_LEN(routes);
