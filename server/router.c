#include "certrack/router.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "certrack/csvread.h"

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

/* The value of the two hex digits at S, or -1. */
static int
hexpair(const char *s)
{
	int v = 0;

	for (int i = 0; i < 2; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

int
router_raw_path_ok(const char *path)
{
	for (const char *p = path; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f)
			return -1;
		if (c == '%' && hexpair(p + 1) < 0)
			return -2;
	}
	return 0;
}

int
router_decode(char *s)
{
	char *out = s;

	for (const char *in = s; *in != '\0'; ) {
		if (*in == '%') {
			int v = hexpair(in + 1);
			if (v <= 0)	/* malformed, or %00 */
				return -1;
			*out++ = (char)v;
			in += 3;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
	return csvread_utf8_valid(s, (size_t)(out - s)) ? 0 : -1;
}
