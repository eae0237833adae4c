#ifndef CERTRACK_CACHE_H
#define CERTRACK_CACHE_H
/*
 * A bounded in-memory cache of the daemon's lookup answers (a clinician's
 * status, a certificate's verification) and of its token checks (who holds
 * a bearer token), kept true by the database.
 *
 * Every write that can change an answer notifies, in its own transaction,
 * the clinicians it changed (pg_notify on channel "certrack_cache" from the
 * triggers of sql/0015_import_speed.sql; "*" for a change that touches
 * every answer), and the accounts whose token checks changed ("u" and
 * their ids, from sql/0021_token_cache.sql: a token revoked, deleted or
 * given another expiry, an account disabled, its role, clinician or
 * password changed).  A listener thread holds a connection of its own
 * (LISTEN), drops the answers of each clinician and the token checks of
 * each account named, and drops
 * everything when that connection is lost (nothing is cached again until
 * it listens anew), when the database's day changes, and on a standby,
 * where LISTEN is refused, caches nothing at all.
 *
 * An answer is served only after the listener has caught up with every
 * change a request begun at SINCE (its CLOCK_MONOTONIC start in seconds,
 * http_now()) must see:
 *   - every write of this daemon that finished before SINCE
 *     (cache_wrote(), called when a request that may write has run, before
 *     its reply goes out): a write's reply is never followed by the old
 *     answer from the daemon that wrote;
 *   - every change committed 50 ms (STALE_SECONDS) before SINCE, by any
 *     daemon: another daemon serves the new answer within 50 ms of the
 *     commit (the issue allows 100), and in practice within milliseconds,
 *     as the notifications arrive.
 * The listener's round trip on its connection vouches for every change
 * committed before it began (PostgreSQL delivers pending notifications
 * before answering).  While lookups come the listener makes one every
 * 20 ms, so a lookup finds the window open and never waits; after a write
 * of this daemon, or when the listener fell behind, the lookup asks for a
 * new one and waits, and lookups waiting at the same moment share one.
 *
 * Two tables, each bounded by the same number of entries (cache_entries),
 * the least recently used dropped first: answers, and token checks (so
 * callers' tokens never push answers out).  A token check is kept under
 * the token's SHA-256 (never the token), with the token's expiry: it is
 * not served at or after it.  Only good tokens are kept: an unknown or
 * refused one is asked of the database every time.  Thread-safe.
 */
#include <stdbool.h>
#include <stddef.h>

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
 * A request that may have written (any method but GET, HEAD and OPTIONS)
 * ended its work at WHEN (http_now()): lookups of requests begun after it
 * wait for the listener to apply what it changed.
 */
void cache_wrote(double when);

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
char *cache_get(enum cache_kind kind, const char *key, double since);

/*
 * Stores VALUE (copied) as the answer for KIND and KEY, about CLINICIAN,
 * unless an invalidation happened since EPOCH or nobody listens.
 */
void cache_put(enum cache_kind kind, const char *key, long long clinician,
    const char *value, unsigned long epoch);

/*
 * The token check cached for the token whose SHA-256 is HASH, vouched for
 * as cache_get() and not expired: true with the caller's record (SIZE
 * bytes, as given to cache_token_put()) in WHO, and *TOUCH true when its
 * use is worth recording (the first hit a minute, per daemon).  False on a
 * miss.
 */
bool cache_token_get(const unsigned char hash[32], double since, void *who,
    size_t size, bool *touch);

/*
 * Stores the check of the token whose SHA-256 is HASH: the caller's record
 * WHO (SIZE bytes, copied), about account USER, good until EXPIRES (a
 * CLOCK_MONOTONIC time in seconds, no later than the token's expiry),
 * unless an invalidation happened since EPOCH or nobody listens.
 */
void cache_token_put(const unsigned char hash[32], long long user,
    const void *who, size_t size, double expires, unsigned long epoch);

/* Drops the answers about CLINICIAN; the token checks of account USER;
 * everything. */
void cache_drop_clinician(long long clinician);
void cache_drop_user(long long user);
void cache_drop_all(void);

/*
 * Applies a notification's PAYLOAD: "*" drops everything, a
 * comma-separated list of clinician ids drops theirs, "u" and a
 * comma-separated list of account ids drops their token checks; anything
 * else drops everything too (a payload not understood is never ignored).
 */
void cache_apply(const char *payload);

/* Marks the cache as listening or not (the listener; tests). */
void cache_set_listening(bool on);

/* The clock of expiries (CLOCK_MONOTONIC seconds); tests set their own
 * (NULL: the real one). */
void cache_set_clock(double (*now)(void));

struct cache_stats {
	unsigned long hits, misses, entries, capacity, drops;
	unsigned long token_hits, token_misses, token_entries;
	unsigned long round_trips;	/* the listener's, to vouch */
	bool listening;
};
void cache_stats(struct cache_stats *st);

/* The counters as Prometheus text lines (for /metrics). */
void cache_metrics(struct strbuf *sb);

#endif
