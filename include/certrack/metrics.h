#ifndef CERTRACK_METRICS_H
#define CERTRACK_METRICS_H
/*
 * Prometheus counters kept in memory with atomics: requests by route and
 * status, a latency histogram by route, database errors.  Rendered in the
 * text exposition format by metrics_render().
 */
#include <stddef.h>

#include "certrack/router.h"
#include "certrack/strbuf.h"

/* Sizes the counters for ROUTES[0..N) (kept, not copied).  Returns 0/-1. */
int metrics_init(const struct route *routes, size_t n);

/* Counts one answered request: ROUTE may be NULL (no route matched). */
void metrics_observe(const struct route *route, int status, double seconds);

/* Counts rows read by CSV imports, by outcome ("created", "updated",
 * "unchanged", "failed"). */
void metrics_import_rows(const char *outcome, long n);

/* Logins: a failed one (wrong password, unknown name, disabled
 * account), one refused by the throttle (429).  Refusals because the
 * password checks were full are auth_busy_count(). */
void metrics_login_failed(void);
void metrics_login_throttled(void);

/* Appends the exposition text to SB.  Returns 0, or -1 when SB lost an
 * append (out of memory, its limit, or failed before the call): then the
 * text is incomplete and must not be served. */
int metrics_render(struct strbuf *sb);

#endif
