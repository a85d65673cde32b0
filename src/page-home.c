/* page-home.c: the landing page. */
#include "handlers.h"

int
page_home(struct req *r)
{
	return resp_html(r, 200, "home", json_pack("{s:s}", "title", "verdict"));
}
