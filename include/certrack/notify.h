#ifndef CERTRACK_NOTIFY_H
#define CERTRACK_NOTIFY_H
/*
 * Notifications (docs/notifications.md): a worker thread in certrackd that
 * delivers the outbox of sql/0014_notifications.sql -- signed webhooks and
 * emails through an SMTP relay -- and runs the daily expiry sweep.
 *
 * The worker has a database connection of its own (never one of the
 * request pool's), claims due deliveries with FOR UPDATE SKIP LOCKED, so
 * several daemons deliver each one once, and delivers at most
 * notify_max_concurrent at a time, each within notify_timeout_ms, reading
 * at most notify_max_response_bytes of an answer.
 */
#include <stddef.h>

#include "certrack/config.h"
#include "certrack/cterr.h"

/* The header a webhook's signature travels in, and its scheme. */
#define NOTIFY_SIGNATURE_HEADER "Certrack-Signature"

/* A secret's text: "whsec_" and 64 hex digits, and its NUL. */
#define NOTIFY_SECRET_LEN 71

/* A signature header's value: "t=<seconds>,v1=<64 hex digits>". */
#define NOTIFY_SIGNATURE_LEN 96

/*
 * Starts the worker per CFG (the values it needs are copied).  Does
 * nothing when notify_enabled is false.  Call before any other thread uses
 * libcurl (it initialises libcurl).  Returns 0, or -1 when the thread
 * cannot start.
 */
int notify_start(const struct config *cfg);

/*
 * Stops the worker and waits for it.  Deliveries in flight are abandoned:
 * they are due again once their claim lapses (notify_timeout_ms plus a
 * margin), on this daemon or another.
 */
void notify_stop(void);

/*
 * Checks a webhook URL: http:// or https:// (libcurl's URL parser), a
 * host, no user name or password, at most 2048 characters.  Returns 0, or
 * -1 with ERR 422 "invalid_url" about FIELD "url".
 */
int notify_url_check(const char *url, struct cterr *err);

/* A new random endpoint secret into OUT (NOTIFY_SECRET_LEN bytes). */
void notify_new_secret(char out[NOTIFY_SECRET_LEN]);

/*
 * The signature of BODY (LEN bytes) sent at unix time TS with SECRET:
 * "t=TS,v1=" and the hex HMAC-SHA256, keyed with SECRET's bytes, of the
 * text "TS.BODY".  Into OUT (NOTIFY_SIGNATURE_LEN bytes).
 */
void notify_sign(const char *secret, long long ts, const char *body,
    size_t len, char out[NOTIFY_SIGNATURE_LEN]);

#endif
