/* handlers.h: every page and API handler, one group per page-<area>.c / api-<area>.c file. */
#ifndef VERDICT_HANDLERS_H
#define VERDICT_HANDLERS_H

#include "http.h"

/* api-health.c */
int api_healthz(struct req *r);
int api_readyz(struct req *r);
int api_version(struct req *r);

/* page-home.c */
int page_home(struct req *r);

#endif
