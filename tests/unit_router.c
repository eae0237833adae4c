/*
 * Unit tests of server/router.c: matching METHOD + path against a small
 * route table, {name} parameters, and the 404 / 405 + Allow distinction.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "certrack/router.h"

/* Dummy handlers: only their addresses matter. */
static int
h_list(struct request *req)
{
	(void)req;
	return 1;
}

static int
h_create(struct request *req)
{
	(void)req;
	return 2;
}

static int
h_get(struct request *req)
{
	(void)req;
	return 3;
}

static int
h_patch(struct request *req)
{
	(void)req;
	return 4;
}

static int
h_enrollments(struct request *req)
{
	(void)req;
	return 5;
}

static int
h_enrollment(struct request *req)
{
	(void)req;
	return 6;
}

static int
h_health(struct request *req)
{
	(void)req;
	return 7;
}

static const struct route routes[] = {
	{ "GET", "/v1/clinicians", ROLE_ANY, h_list, NULL },
	{ "POST", "/v1/clinicians", ROLE_ADMIN, h_create, NULL },
	{ "GET", "/v1/clinicians/{id}", ROLE_ANY, h_get, NULL },
	{ "PATCH", "/v1/clinicians/{id}", ROLE_ADMIN, h_patch, NULL },
	{ "GET", "/v1/clinicians/{id}/enrollments", ROLE_ANY, h_enrollments, NULL },
	{ "GET", "/v1/clinicians/{id}/enrollments/{eid}", ROLE_ANY,
	  h_enrollment, NULL },
	{ "GET", "/healthz", ROLE_PUBLIC, h_health, NULL },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* Matches and asserts the route found is the one with HANDLER. */
static const struct route *
match_ok(const char *method, const char *path, route_handler handler,
    struct route_params *params)
{
	char allow[64] = "untouched";
	int status = -1;
	const struct route *r;

	r = router_match(routes, NROUTES, method, path, params, &status,
	    allow, sizeof(allow));
	if (r == NULL)
		fail_msg("%s %s: no match (status %d, allow '%s')", method,
		    path, status, allow);
	if (r->handler != handler)
		fail_msg("%s %s: matched %s %s", method, path, r->method,
		    r->pattern);
	assert_string_equal(r->method, method);
	return r;
}

static void
match_404(const char *method, const char *path)
{
	struct route_params params;
	char allow[64] = "untouched";
	int status = -1;
	const struct route *r;

	r = router_match(routes, NROUTES, method, path, &params, &status,
	    allow, sizeof(allow));
	if (r != NULL)
		fail_msg("%s '%s': matched %s %s, expected 404", method, path,
		    r->method, r->pattern);
	if (status != 404)
		fail_msg("%s '%s': status %d, expected 404", method, path,
		    status);
	assert_string_equal(allow, "");
}

static void
match_405(const char *method, const char *path, const char *want_allow)
{
	struct route_params params;
	char allow[64] = "untouched";
	int status = -1;
	const struct route *r;

	r = router_match(routes, NROUTES, method, path, &params, &status,
	    allow, sizeof(allow));
	if (r != NULL)
		fail_msg("%s '%s': matched %s %s, expected 405", method, path,
		    r->method, r->pattern);
	if (status != 405)
		fail_msg("%s '%s': status %d, expected 405", method, path,
		    status);
	assert_string_equal(allow, want_allow);
}

static void
test_match_plain(void **state)
{
	struct route_params params;
	const struct route *r;

	(void)state;
	r = match_ok("GET", "/healthz", h_health, &params);
	assert_int_equal(params.n, 0);
	assert_int_equal(r->roles, ROLE_PUBLIC);
	assert_int_equal(r->handler(NULL), 7);

	r = match_ok("GET", "/v1/clinicians", h_list, &params);
	assert_int_equal(params.n, 0);
	assert_int_equal(r->roles, ROLE_ANY);
	r = match_ok("POST", "/v1/clinicians", h_create, &params);
	assert_int_equal(r->roles, ROLE_ADMIN);
}

static void
test_match_params(void **state)
{
	struct route_params params;

	(void)state;
	match_ok("GET", "/v1/clinicians/5", h_get, &params);
	assert_int_equal(params.n, 1);
	assert_string_equal(params.name[0], "id");
	assert_string_equal(params.value[0], "5");
	assert_string_equal(router_param(&params, "id"), "5");

	match_ok("PATCH", "/v1/clinicians/abc-123", h_patch, &params);
	assert_string_equal(router_param(&params, "id"), "abc-123");

	match_ok("GET", "/v1/clinicians/42/enrollments", h_enrollments,
	    &params);
	assert_int_equal(params.n, 1);
	assert_string_equal(router_param(&params, "id"), "42");

	match_ok("GET", "/v1/clinicians/42/enrollments/7", h_enrollment,
	    &params);
	assert_int_equal(params.n, 2);
	assert_string_equal(router_param(&params, "id"), "42");
	assert_string_equal(router_param(&params, "eid"), "7");

	/* a parameter takes a segment as it is, percent signs and all */
	match_ok("GET", "/v1/clinicians/a%2Fb", h_get, &params);
	assert_string_equal(router_param(&params, "id"), "a%2Fb");
	/* a literal segment's text is a fine parameter value too */
	match_ok("GET", "/v1/clinicians/enrollments", h_get, &params);
	assert_string_equal(router_param(&params, "id"), "enrollments");
}

static void
test_router_param(void **state)
{
	struct route_params params;

	(void)state;
	match_ok("GET", "/v1/clinicians/9/enrollments/11", h_enrollment,
	    &params);
	assert_string_equal(router_param(&params, "id"), "9");
	assert_string_equal(router_param(&params, "eid"), "11");
	assert_null(router_param(&params, "nope"));
	assert_null(router_param(&params, ""));
	assert_null(router_param(&params, "ID"));
	assert_null(router_param(&params, "i"));

	match_ok("GET", "/healthz", h_health, &params);
	assert_null(router_param(&params, "id"));

	memset(&params, 0, sizeof(params));
	assert_null(router_param(&params, "id"));
}

static void
test_405_allow(void **state)
{
	(void)state;
	match_405("DELETE", "/v1/clinicians/5", "GET, PATCH");
	match_405("POST", "/v1/clinicians/5", "GET, PATCH");
	match_405("PUT", "/v1/clinicians/5", "GET, PATCH");
	match_405("DELETE", "/v1/clinicians", "GET, POST");
	match_405("PATCH", "/v1/clinicians", "GET, POST");
	match_405("POST", "/healthz", "GET");
	match_405("POST", "/v1/clinicians/5/enrollments", "GET");
	/* methods are case-sensitive (RFC 9110) */
	match_405("get", "/healthz", "GET");
	match_405("", "/healthz", "GET");
}

static void
test_405_allow_small_buffer(void **state)
{
	struct route_params params;
	char allow[4];
	int status = -1;

	(void)state;
	/* a short buffer stays a terminated string */
	memset(allow, 'x', sizeof(allow));
	assert_null(router_match(routes, NROUTES, "DELETE", "/v1/clinicians/5",
	    &params, &status, allow, sizeof(allow)));
	assert_int_equal(status, 405);
	assert_non_null(memchr(allow, '\0', sizeof(allow)));

	/* and no buffer at all is fine */
	status = -1;
	assert_null(router_match(routes, NROUTES, "DELETE", "/v1/clinicians/5",
	    &params, &status, NULL, 0));
	assert_int_equal(status, 405);
	status = -1;
	assert_null(router_match(routes, NROUTES, "GET", "/nowhere", &params,
	    &status, NULL, 0));
	assert_int_equal(status, 404);
}

static void
test_404(void **state)
{
	static const char *const paths[] = {
		"",
		"/",
		"//",
		"/v1",
		"/v1/",
		"/v1/clinician",
		"/v1/cliniciansx",
		"/v1/clinicians/5/extra",
		"/v1/clinicians/5/enrollments/7/extra",
		"/v1/clinicians/5/enrollment",
		"/V1/clinicians",
		"/HEALTHZ",
		"healthz",
		"v1/clinicians",
		"/healthz/x",
		"/nowhere",
		"/v2/clinicians",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		match_404("GET", paths[i]);
		/* an unknown path is 404 whatever the method */
		match_404("DELETE", paths[i]);
	}
}

static void
test_slashes(void **state)
{
	(void)state;
	/* trailing slash: a different path, not silently the same one */
	match_404("GET", "/healthz/");
	match_404("GET", "/v1/clinicians/");
	match_404("POST", "/v1/clinicians/");
	match_404("GET", "/v1/clinicians/5/");
	match_404("GET", "/v1/clinicians/5/enrollments/");
	/* double slashes */
	match_404("GET", "//healthz");
	match_404("GET", "//v1/clinicians");
	match_404("GET", "/v1//clinicians");
	match_404("GET", "/v1/clinicians//5");
	match_404("GET", "/v1/clinicians/5//enrollments");
	/* an empty segment never fills a parameter */
	match_404("GET", "/v1/clinicians//enrollments");
	match_404("GET", "/v1/clinicians//enrollments/7");
	match_404("GET", "/v1/clinicians/5/enrollments//");
}

static void
test_segment_length(void **state)
{
	struct route_params params;
	char path[512], seg[ROUTER_PARAM_MAX + 2];

	(void)state;
	/* 127 characters: the longest value that fits */
	memset(seg, 'a', ROUTER_PARAM_MAX - 1);
	seg[ROUTER_PARAM_MAX - 1] = '\0';
	snprintf(path, sizeof(path), "/v1/clinicians/%s", seg);
	match_ok("GET", path, h_get, &params);
	assert_int_equal(strlen(router_param(&params, "id")), 127);
	assert_string_equal(router_param(&params, "id"), seg);
	snprintf(path, sizeof(path), "/v1/clinicians/%s/enrollments", seg);
	match_ok("GET", path, h_enrollments, &params);
	assert_string_equal(router_param(&params, "id"), seg);
	snprintf(path, sizeof(path), "/v1/clinicians/1/enrollments/%s", seg);
	match_ok("GET", path, h_enrollment, &params);
	assert_string_equal(router_param(&params, "eid"), seg);

	/* 128 characters: no parameter takes it, so no path matches */
	memset(seg, 'b', ROUTER_PARAM_MAX);
	seg[ROUTER_PARAM_MAX] = '\0';
	snprintf(path, sizeof(path), "/v1/clinicians/%s", seg);
	match_404("GET", path);
	match_404("PATCH", path);
	snprintf(path, sizeof(path), "/v1/clinicians/%s/enrollments", seg);
	match_404("GET", path);
	snprintf(path, sizeof(path), "/v1/clinicians/1/enrollments/%s", seg);
	match_404("GET", path);
}

static void
test_param_limits(void **state)
{
	static const struct route four[] = {
		{ "GET", "/{a}/{b}/{c}/{d}", ROLE_PUBLIC, h_get, NULL },
		{ "GET", "/x/{a}/{b}/{c}/{d}/{e}", ROLE_PUBLIC, h_get, NULL },
	};
	struct route_params params;
	char allow[32];
	int status = -1;
	const struct route *r;

	(void)state;
	r = router_match(four, 2, "GET", "/1/2/3/4", &params, &status, allow,
	    sizeof(allow));
	assert_ptr_equal(r, &four[0]);
	assert_int_equal(params.n, ROUTER_MAX_PARAMS);
	assert_string_equal(router_param(&params, "a"), "1");
	assert_string_equal(router_param(&params, "d"), "4");

	/* a fifth parameter does not fit; the pattern never matches */
	r = router_match(four, 2, "GET", "/x/1/2/3/4/5", &params, &status,
	    allow, sizeof(allow));
	assert_null(r);
	assert_int_equal(status, 404);
}

static void
test_first_route_wins(void **state)
{
	static const struct route t[] = {
		{ "GET", "/v1/clinicians/me", ROLE_ANY, h_list, NULL },
		{ "GET", "/v1/clinicians/{id}", ROLE_ANY, h_get, NULL },
		{ "DELETE", "/v1/clinicians/{id}", ROLE_ADMIN, h_patch, NULL },
	};
	struct route_params params;
	char allow[32];
	int status = -1;
	const struct route *r;

	(void)state;
	r = router_match(t, 3, "GET", "/v1/clinicians/me", &params, &status,
	    allow, sizeof(allow));
	assert_ptr_equal(r, &t[0]);
	assert_int_equal(params.n, 0);
	r = router_match(t, 3, "GET", "/v1/clinicians/7", &params, &status,
	    allow, sizeof(allow));
	assert_ptr_equal(r, &t[1]);
	assert_string_equal(router_param(&params, "id"), "7");
	/* both patterns match "me": GET is listed once */
	r = router_match(t, 3, "POST", "/v1/clinicians/me", &params, &status,
	    allow, sizeof(allow));
	assert_null(r);
	assert_int_equal(status, 405);
	assert_string_equal(allow, "GET, DELETE");
	/* an empty table knows no path */
	r = router_match(t, 0, "GET", "/v1/clinicians/me", &params, &status,
	    allow, sizeof(allow));
	assert_null(r);
	assert_int_equal(status, 404);
}

/* "{number}.pdf": the suffix must end the segment and is not part of the
 * parameter; the route before the bare "{number}" one wins. */
static void
test_param_suffix(void **state)
{
	static const struct route rs[] = {
		{ "GET", "/c/{number}.pdf", 0, h_get, NULL },
		{ "GET", "/c/{number}", 0, h_list, NULL },
	};
	struct route_params p;
	char allow[64];
	int status = 0;
	const struct route *r;

	(void)state;
	r = router_match(rs, 2, "GET", "/c/AB-12.pdf", &p, &status, allow,
	    sizeof(allow));
	assert_ptr_equal(r, &rs[0]);
	assert_string_equal(router_param(&p, "number"), "AB-12");
	/* the suffix alone is no value; a near miss is the bare route */
	r = router_match(rs, 2, "GET", "/c/.pdf", &p, &status, allow,
	    sizeof(allow));
	assert_ptr_equal(r, &rs[1]);
	assert_string_equal(router_param(&p, "number"), ".pdf");
	r = router_match(rs, 2, "GET", "/c/AB-12.pd", &p, &status, allow,
	    sizeof(allow));
	assert_ptr_equal(r, &rs[1]);
	r = router_match(rs, 2, "GET", "/c/AB-12.pdfx", &p, &status, allow,
	    sizeof(allow));
	assert_ptr_equal(r, &rs[1]);
	assert_string_equal(router_param(&p, "number"), "AB-12.pdfx");
	/* only the suffixed route: a missing suffix is a 404 */
	r = router_match(rs, 1, "GET", "/c/AB-12", &p, &status, allow,
	    sizeof(allow));
	assert_null(r);
	assert_int_equal(status, 404);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_plain),
		cmocka_unit_test(test_match_params),
		cmocka_unit_test(test_router_param),
		cmocka_unit_test(test_405_allow),
		cmocka_unit_test(test_405_allow_small_buffer),
		cmocka_unit_test(test_404),
		cmocka_unit_test(test_slashes),
		cmocka_unit_test(test_segment_length),
		cmocka_unit_test(test_param_limits),
		cmocka_unit_test(test_first_route_wins),
		cmocka_unit_test(test_param_suffix),
	};

	return cmocka_run_group_tests_name("unit_router", tests, NULL, NULL);
}
