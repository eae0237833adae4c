/* The route table: every route of the API, its roles and its handler. */
#include "certrack/api.h"

const struct route api_routes[] = {
	{ "GET", "/healthz", ROLE_PUBLIC, api_healthz },
	{ "GET", "/readyz", ROLE_PUBLIC, api_readyz },
};
const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
