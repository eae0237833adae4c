#ifndef CERTRACK_CACHE_H
#define CERTRACK_CACHE_H
/*
 * A bounded in-memory cache of the daemon's lookup answers (a clinician's
 * status, a certificate's verification), kept true by the database.
 *
 * Every write that can change an answer notifies, in its own transaction,
 * the clinicians it changed (pg_notify on channel "certrack_cache" from the
 * triggers of sql/0011_import_speed.sql; "*" for a change that touches
 * every answer).  A listener thread holds a connection of its own
 * (LISTEN), drops the answers of each clinician named, and drops
 * everything when that connection is lost (nothing is cached again until
 * it listens anew), when the database's day changes, and on a standby,
 * where LISTEN is refused, caches nothing at all.
 *
 * An answer is served only after the listener has caught up with every
 * change committed before the lookup began: the lookup asks it for a
 * round trip on its connection (PostgreSQL delivers pending notifications
 * before answering), shared by every lookup waiting at that moment.  So a
 * write's reply is never followed by the old answer, from this daemon or
 * another.
 *
 * Bounded by a number of entries (cache_entries); the least recently used
 * is dropped first.  Thread-safe.
 */
#include <stdbool.h>

#include "certrack/strbuf.h"

enum cache_kind {
	CACHE_STATUS,		/* key: the clinician id */
	CACHE_VERIFY,		/* key: the canonical certificate number */
};

/*
 * Makes room for MAX_ENTRIES answers (0: no cache, every lookup misses)
 * and, with CONNINFO not NULL, starts the listener on a connection of its
 * own.  Without a listener nothing is ever served (tests of the table
 * itself call cache_set_listening()).  Returns 0, or -1 when out of memory
 * or the thread cannot start.
 */
int cache_start(const char *conninfo, long max_entries);

/* Stops the listener and frees every entry. */
void cache_stop(void);

/*
 * The invalidation count, taken before a lookup reads the database: an
 * answer read before an invalidation is not stored after it.
 */
unsigned long cache_epoch(void);

/*
 * The answer cached for KIND and KEY, vouched for by the listener as
 * described above; malloc'd (the caller frees), or NULL on a miss (also
 * when the cache is off, the listener is not listening, or it did not
 * catch up within a second).
 */
char *cache_get(enum cache_kind kind, const char *key);

/*
 * Stores VALUE (copied) as the answer for KIND and KEY, about CLINICIAN,
 * unless an invalidation happened since EPOCH or nobody listens.
 */
void cache_put(enum cache_kind kind, const char *key, long long clinician,
    const char *value, unsigned long epoch);

/* Drops the answers about CLINICIAN; every answer. */
void cache_drop_clinician(long long clinician);
void cache_drop_all(void);

/*
 * Applies a notification's PAYLOAD: "*" drops everything, a
 * comma-separated list of clinician ids drops theirs; anything else drops
 * everything too (a payload not understood is never ignored).
 */
void cache_apply(const char *payload);

/* Marks the cache as listening or not (the listener; tests). */
void cache_set_listening(bool on);

struct cache_stats {
	unsigned long hits, misses, entries, capacity, drops;
	bool listening;
};
void cache_stats(struct cache_stats *st);

/* The counters as Prometheus text lines (for /metrics). */
void cache_metrics(struct strbuf *sb);

#endif
