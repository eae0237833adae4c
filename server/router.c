#include "certrack/router.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Matches PATH against PATTERN segment by segment, filling PARAMS. */
static bool
match_path(const char *pattern, const char *path, struct route_params *params)
{
	const char *p = pattern, *s = path;

	params->n = 0;
	while (*p != '\0' && *s != '\0') {
		if (*p != '/' || *s != '/')
			return false;
		p++;
		s++;
		const char *pend = strchr(p, '/'), *send = strchr(s, '/');
		size_t plen = pend ? (size_t)(pend - p) : strlen(p);
		size_t slen = send ? (size_t)(send - s) : strlen(s);

		const char *close = plen >= 2 && p[0] == '{' ?
		    memchr(p, '}', plen) : NULL;
		if (close != NULL) {
			/* "{name}" or "{name}.pdf": a literal suffix after
			 * the parameter must end the segment */
			int i = params->n;
			size_t nlen = (size_t)(close - p) - 1;
			size_t sufl = plen - nlen - 2;
			if (slen <= sufl || slen - sufl >= ROUTER_PARAM_MAX ||
			    i >= ROUTER_MAX_PARAMS || nlen >= 32 ||
			    memcmp(s + slen - sufl, close + 1, sufl) != 0)
				return false;
			memcpy(params->name[i], p + 1, nlen);
			params->name[i][nlen] = '\0';
			memcpy(params->value[i], s, slen - sufl);
			params->value[i][slen - sufl] = '\0';
			params->n++;
		} else if (plen != slen || memcmp(p, s, plen) != 0) {
			return false;
		}
		p += plen;
		s += slen;
	}
	return *p == '\0' && *s == '\0';
}

const struct route *
router_match(const struct route *routes, size_t n, const char *method,
    const char *path, struct route_params *params, int *status, char *allow,
    size_t allowlen)
{
	struct route_params scratch;
	bool path_known = false;
	size_t used = 0;

	if (allowlen > 0)
		allow[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!match_path(routes[i].pattern, path, &scratch))
			continue;
		if (strcmp(routes[i].method, method) == 0) {
			*params = scratch;
			return &routes[i];
		}
		path_known = true;
		if (used < allowlen && strstr(allow, routes[i].method) == NULL) {
			int w = snprintf(allow + used, allowlen - used, "%s%s",
			    used ? ", " : "", routes[i].method);
			if (w > 0)
				used += (size_t)w;
		}
	}
	*status = path_known ? 405 : 404;
	return NULL;
}

const char *
router_param(const struct route_params *params, const char *name)
{
	for (int i = 0; i < params->n; i++)
		if (strcmp(params->name[i], name) == 0)
			return params->value[i];
	return NULL;
}
