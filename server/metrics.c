#include "certrack/metrics.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/api.h"
#include "certrack/auth.h"
#include "certrack/cache.h"
#include "certrack/db.h"
#include "certrack/http.h"

/* The statuses the API answers; anything else is counted as "other". */
static const int statuses[] = { 200, 201, 204, 400, 401, 403, 404, 405, 409,
    412, 413, 415, 422, 428, 429, 500, 503 };
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]) + 1)

static const double buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5 };
#define NBUCKET (sizeof(buckets) / sizeof(buckets[0]))

struct route_metrics {
	atomic_ulong by_status[NSTATUS];
	atomic_ulong le[NBUCKET];	/* cumulative at render time */
	atomic_ulong count;
	atomic_ulong micros;
};

static const char *const outcomes[] = { "created", "updated", "unchanged",
    "failed" };
static atomic_ulong import_rows[4];

/* logins */
static atomic_ulong login_failed, login_throttled;

void
metrics_login_failed(void)
{
	atomic_fetch_add(&login_failed, 1);
}

void
metrics_login_throttled(void)
{
	atomic_fetch_add(&login_throttled, 1);
}

static const struct route *table;
static size_t nroutes;
static struct route_metrics *m;	/* nroutes + 1: the last is "no route" */

int
metrics_init(const struct route *routes, size_t n)
{
	free(m);
	m = calloc(n + 1, sizeof(*m));
	if (m == NULL)
		return -1;
	table = routes;
	nroutes = n;
	return 0;
}

void
metrics_observe(const struct route *route, int status, double seconds)
{
	size_t r = nroutes, s;
	struct route_metrics *rm;

	if (m == NULL)
		return;
	if (route != NULL && route >= table && route < table + nroutes)
		r = (size_t)(route - table);
	rm = &m[r];
	for (s = 0; s < NSTATUS - 1 && statuses[s] != status; s++)
		;
	atomic_fetch_add(&rm->by_status[s], 1);
	for (size_t b = 0; b < NBUCKET; b++) {
		if (seconds <= buckets[b]) {
			atomic_fetch_add(&rm->le[b], 1);
			break;
		}
	}
	atomic_fetch_add(&rm->count, 1);
	atomic_fetch_add(&rm->micros, (unsigned long)(seconds * 1e6));
}

static void
labels(struct strbuf *sb, size_t r)
{
	if (r == nroutes)
		strbuf_addstr(sb, "method=\"\",route=\"unmatched\"");
	else
		strbuf_addf(sb, "method=\"%s\",route=\"%s\"", table[r].method,
		    table[r].pattern);
}

void
metrics_import_rows(const char *outcome, long n)
{
	for (size_t i = 0; i < 4; i++)
		if (strcmp(outcomes[i], outcome) == 0 && n > 0)
			atomic_fetch_add(&import_rows[i], (unsigned long)n);
}

int
metrics_render(struct strbuf *sb)
{
	strbuf_addstr(sb,
	    "# HELP certrack_http_requests_total HTTP requests answered, by "
	    "route and status.\n"
	    "# TYPE certrack_http_requests_total counter\n");
	for (size_t r = 0; m != NULL && r <= nroutes; r++) {
		for (size_t s = 0; s < NSTATUS; s++) {
			unsigned long v = atomic_load(&m[r].by_status[s]);
			if (v == 0)
				continue;
			strbuf_addstr(sb, "certrack_http_requests_total{");
			labels(sb, r);
			if (s < NSTATUS - 1)
				strbuf_addf(sb, ",status=\"%d\"} %lu\n",
				    statuses[s], v);
			else
				strbuf_addf(sb, ",status=\"other\"} %lu\n", v);
		}
	}
	strbuf_addstr(sb,
	    "# HELP certrack_http_request_duration_seconds Time from a "
	    "request's arrival to its answer being sent.\n"
	    "# TYPE certrack_http_request_duration_seconds histogram\n");
	for (size_t r = 0; m != NULL && r <= nroutes; r++) {
		unsigned long count = atomic_load(&m[r].count), cum = 0;
		if (count == 0)
			continue;
		for (size_t b = 0; b < NBUCKET; b++) {
			cum += atomic_load(&m[r].le[b]);
			strbuf_addstr(sb,
			    "certrack_http_request_duration_seconds_bucket{");
			labels(sb, r);
			strbuf_addf(sb, ",le=\"%g\"} %lu\n", buckets[b], cum);
		}
		strbuf_addstr(sb, "certrack_http_request_duration_seconds_bucket{");
		labels(sb, r);
		strbuf_addf(sb, ",le=\"+Inf\"} %lu\n", count);
		strbuf_addstr(sb, "certrack_http_request_duration_seconds_sum{");
		labels(sb, r);
		strbuf_addf(sb, "} %.6f\n",
		    (double)atomic_load(&m[r].micros) / 1e6);
		strbuf_addstr(sb, "certrack_http_request_duration_seconds_count{");
		labels(sb, r);
		strbuf_addf(sb, "} %lu\n", count);
	}
	strbuf_addstr(sb, "# HELP certrack_import_rows_total Rows read by CSV "
	    "imports, by outcome.\n"
	    "# TYPE certrack_import_rows_total counter\n");
	for (size_t i = 0; i < 4; i++)
		strbuf_addf(sb, "certrack_import_rows_total{outcome=\"%s\"} "
		    "%lu\n", outcomes[i], atomic_load(&import_rows[i]));
	strbuf_addf(sb,
	    "# HELP certrack_db_errors_total Database errors: lost "
	    "connections and failed statements.\n"
	    "# TYPE certrack_db_errors_total counter\n"
	    "certrack_db_errors_total %lu\n", db_error_count());
	/* logins */
	strbuf_addf(sb,
	    "# HELP certrack_login_failures_total Failed logins: wrong "
	    "password, unknown name or disabled account.\n"
	    "# TYPE certrack_login_failures_total counter\n"
	    "certrack_login_failures_total %lu\n"
	    "# HELP certrack_login_throttled_total Logins refused unchecked "
	    "(429) while the name or the address was locked.\n"
	    "# TYPE certrack_login_throttled_total counter\n"
	    "certrack_login_throttled_total %lu\n"
	    "# HELP certrack_password_checks_busy_total Logins and password "
	    "changes refused (429) because the password checks were full.\n"
	    "# TYPE certrack_password_checks_busy_total counter\n"
	    "certrack_password_checks_busy_total %lu\n",
	    atomic_load(&login_failed), atomic_load(&login_throttled),
	    auth_busy_count());
	/* the lookup cache: hits, misses, answers dropped */
	cache_metrics(sb);
	/* One check for every append above: a failed one is sticky. */
	return strbuf_failed(sb) ? -1 : 0;
}

int
api_metrics(struct request *req)
{
	struct strbuf sb;
	int rc;

	strbuf_init(&sb);
	if (metrics_render(&sb) != 0) {
		strbuf_release(&sb);
		return cterr_set(&req->err, 500, "internal", NULL,
		    "out of memory");
	}
	rc = http_reply_text(req, 200, "text/plain; version=0.0.4",
	    sb.buf, sb.len);
	strbuf_release(&sb);
	return rc;
}
