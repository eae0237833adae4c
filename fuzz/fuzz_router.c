/*
 * server/router.c's router_match() over the real route table
 * (server/routes.c), as http.c calls it.  What must hold: a match is for
 * the method asked, and putting its parameters back into its pattern gives
 * the path asked, exactly (so no parameter swallowed a '/' or was cut);
 * every parameter is found by name; no match is 404 or 405, and a 405's
 * Allow list names methods that route the path, never the one asked.
 *
 * Then the raw-path check and the parameter decoding http.c applies: a
 * path the check passes has only printable ASCII and whole escapes; a
 * decoded parameter is valid UTF-8 without NUL and never longer.
 *
 * Input: byte 0 picks the method; the rest is the path.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "certrack/api.h"
#include "certrack/csvread.h"
#include "certrack/router.h"

static const char T[] = "router";

/* PATTERN with each {name} replaced by its value from P, into OUT. */
static void
fill(const char *pattern, const struct route_params *p, char *out,
    size_t outlen)
{
	size_t o = 0;
	int k = 0;

	for (const char *s = pattern; *s != '\0';) {
		const char *v = NULL;
		size_t vlen;
		if (*s == '{') {
			const char *close = strchr(s, '}');
			fuzz_require(close != NULL && k < p->n, T,
			    "parameters and pattern differ");
			fuzz_require(strncmp(p->name[k], s + 1,
			    (size_t)(close - s - 1)) == 0, T,
			    "parameter names out of order");
			v = p->value[k++];
			s = close + 1;
			vlen = strlen(v);
		} else {
			v = s++;
			vlen = 1;
		}
		fuzz_require(o + vlen < outlen, T, "path too long");
		memcpy(out + o, v, vlen);
		o += vlen;
	}
	fuzz_require(k == p->n, T, "more parameters than the pattern has");
	out[o] = '\0';
}

int
fuzz_router(const uint8_t *data, size_t size)
{
	static const char *const methods[] = { "GET", "POST", "PATCH",
	    "DELETE", "PUT", "HEAD", "get", "OPTIONS" };
	struct route_params params;
	const struct route *r;
	char allow[64], *path, *rebuilt;
	int status = 0;

	if (size < 1)
		return 0;
	const char *method = methods[data[0] % 8];
	path = fuzz_cstring(data + 1, size - 1);
	rebuilt = malloc(size + 1);
	fuzz_require(rebuilt != NULL, T, "out of memory");
	r = router_match(api_routes, api_nroutes, method, path, &params,
	    &status, allow, sizeof(allow));
	if (r != NULL) {
		fuzz_require(strcmp(r->method, method) == 0, T,
		    "matched another method");
		fuzz_require(params.n >= 0 && params.n <= ROUTER_MAX_PARAMS, T,
		    "parameter count");
		for (int i = 0; i < params.n; i++) {
			const char *v = params.value[i];
			fuzz_require(v[0] != '\0' && strchr(v, '/') == NULL &&
			    strlen(v) < ROUTER_PARAM_MAX, T,
			    "a parameter empty, with a '/', or too long");
			fuzz_require(router_param(&params, params.name[i]) ==
			    v, T, "a parameter not found by its name");
		}
		fill(r->pattern, &params, rebuilt, size + 1);
		fuzz_require(strcmp(rebuilt, path) == 0, T,
		    "the parameters do not give back the path");
	} else if (status == 405) {
		size_t mlen = strlen(method);
		fuzz_require(allow[0] != '\0', T, "405 with no Allow");
		for (const char *a = allow; (a = strstr(a, method)) != NULL;
		    a++)
			fuzz_require((a != allow && a[-1] != ' ') ||
			    (a[mlen] != '\0' && a[mlen] != ','), T,
			    "405 allowing the method asked");
	} else {
		fuzz_require(status == 404 && allow[0] == '\0', T,
		    "no match, neither 404 nor 405");
	}
	/* the raw path, and every segment as a parameter */
	if (router_raw_path_ok(path) == 0) {
		for (const char *p = path; *p != '\0'; p++) {
			fuzz_require((unsigned char)*p > 0x20 &&
			    (unsigned char)*p < 0x7f, T, "a raw byte passed");
			if (*p == '%')
				fuzz_require(p[1] != '\0' && p[2] != '\0', T,
				    "a cut escape passed");
		}
	}
	{
		size_t before = strlen(path);
		if (router_decode(path) == 0) {
			size_t after = strlen(path);
			fuzz_require(after <= before, T, "decoding grew");
			fuzz_require(csvread_utf8_valid(path, after), T,
			    "decoded to invalid UTF-8");
		}
	}
	free(rebuilt);
	free(path);
	return 0;
}

FUZZ_ENTRY(fuzz_router)
