/*
 * The lookup cache (include/certrack/cache.h): a hash table of answers
 * with an LRU list and an index by clinician, one mutex, and the listener
 * thread that keeps it true.
 */
#include "certrack/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "certrack/log.h"
#include "certrack/strnum.h"

#define CHANNEL "certrack_cache"
/* How long a lookup waits for the listener to catch up. */
#define SYNC_WAIT_MS 1000
/* How long the listener waits before connecting again. */
#define RETRY_MS 1000
/* How often a cached token's use is recorded (api_tokens.last_used_at). */
#define TOUCH_SECONDS 60.0
/*
 * How stale an answer may be about another daemon's write (the issue
 * allows 100 ms): a lookup is served when the listener's last round trip
 * began at most this long before the request did.  The daemon's own
 * writes are never served stale (cache_wrote()).
 */
#define STALE_SECONDS 0.050
/* While lookups come, the listener makes a round trip this often, so the
 * window above is kept open without a lookup ever waiting for one. */
#define HEARTBEAT_MS 20
/* ... for this long after the last lookup (then one a minute). */
#define ACTIVE_SECONDS 1.0

struct entry {
	char *key;			/* kind letter, then the key */
	void *value;
	size_t size;
	long long owner;		/* the clinician, or the account */
	double expires;			/* 0: none; else not served from then */
	double touched;			/* a token's use last recorded */
	struct entry *hnext;		/* hash chain by key */
	struct entry *cnext, *cprev;	/* chain of one owner's bucket */
	struct entry *prev, *next;	/* LRU list, most recent first */
};

/* One bounded table: entries by key, by owner, and in LRU order. */
struct table {
	struct entry **byk, **byc;	/* buckets by key, by owner */
	size_t nbuckets;		/* a power of two */
	struct entry *head, *tail;
	long count;
	unsigned long hits, misses;
};

static double mono_now(void);

static struct {
	pthread_mutex_t mu;
	pthread_cond_t synced;
	struct table answers, tokens;
	long capacity;			/* of each table */
	unsigned long epoch, drops;
	bool listening;
	double (*now)(void);		/* the clock of expiries */

	/* the listener */
	char *conninfo;
	pthread_t thread;
	bool running, stopping;
	int wake[2];			/* a pipe: lookups wake the listener */
	unsigned long want, done;	/* round trips asked and made */
	bool wake_pending;		/* a byte in the pipe, not yet read */
	double synced_from;		/* the last round trip's start */
	double wrote;			/* the end of this daemon's last write */
	double asked;			/* the last lookup that needed the listener */
	int slow_notify_ms;		/* a test's delay of notifications */
	unsigned long round_trips;
	char day[16];			/* the database's current_date */
} c = { .mu = PTHREAD_MUTEX_INITIALIZER, .synced = PTHREAD_COND_INITIALIZER,
	.wake = { -1, -1 }, .now = mono_now };

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
cache_set_clock(double (*now)(void))
{
	pthread_mutex_lock(&c.mu);
	c.now = now != NULL ? now : mono_now;
	pthread_mutex_unlock(&c.mu);
}

static size_t
hash_str(const char *s)
{
	size_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static size_t
hash_id(long long id)
{
	return (size_t)((unsigned long long)id * 11400714819323198485ULL >> 17);
}

static void
lru_unlink(struct table *t, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		t->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		t->tail = e->prev;
	e->prev = e->next = NULL;
}

static void
lru_front(struct table *t, struct entry *e)
{
	e->next = t->head;
	e->prev = NULL;
	if (t->head)
		t->head->prev = e;
	t->head = e;
	if (t->tail == NULL)
		t->tail = e;
}

/* The entry of KEY and the link pointing at it, under the lock. */
static struct entry *
find(struct table *t, const char *key, struct entry ***link)
{
	struct entry **p = &t->byk[hash_str(key) & (t->nbuckets - 1)];

	for (; *p != NULL; p = &(*p)->hnext)
		if (strcmp((*p)->key, key) == 0)
			break;
	if (link)
		*link = p;
	return *p;
}

/* Unlinks E from everything and frees it, under the lock. */
static void
remove_entry(struct table *t, struct entry *e)
{
	struct entry **p;

	find(t, e->key, &p);
	*p = e->hnext;
	if (e->cprev)
		e->cprev->cnext = e->cnext;
	else
		t->byc[hash_id(e->owner) & (t->nbuckets - 1)] = e->cnext;
	if (e->cnext)
		e->cnext->cprev = e->cprev;
	lru_unlink(t, e);
	free(e->key);
	free(e->value);
	free(e);
	t->count--;
}

static void
drop_all_locked(void)
{
	while (c.answers.head)
		remove_entry(&c.answers, c.answers.head);
	while (c.tokens.head)
		remove_entry(&c.tokens, c.tokens.head);
	c.epoch++;
	c.drops++;
}

static void
make_key(char *out, size_t len, enum cache_kind kind, const char *key)
{
	snprintf(out, len, "%c%s", kind == CACHE_STATUS ? 's' : 'v', key);
}

/* Sets whether answers may be stored and served; off drops them all. */
void
cache_set_listening(bool on)
{
	pthread_mutex_lock(&c.mu);
	c.listening = on;
	c.synced_from = 0;
	drop_all_locked();
	pthread_cond_broadcast(&c.synced);
	pthread_mutex_unlock(&c.mu);
}

unsigned long
cache_epoch(void)
{
	unsigned long e;

	pthread_mutex_lock(&c.mu);
	e = c.epoch;
	pthread_mutex_unlock(&c.mu);
	return e;
}

/*
 * Waits (under the lock) until the listener has applied every change a
 * request begun at SINCE must see: every write of this daemon finished
 * before SINCE (cache_wrote()), and every other change committed
 * STALE_SECONDS before it.  A round trip begun after a commit vouches for
 * it (PostgreSQL delivers pending notifications before its answer);
 * notifications also arrive on their own, within milliseconds, between
 * round trips.  False when the listener did not catch up within
 * SYNC_WAIT_MS or stopped listening.
 */
static bool
catch_up_locked(double since)
{
	struct timespec until;
	char one = 1;
	double need = since - STALE_SECONDS;

	if (!c.running)
		return c.listening;	/* no listener: a table under test */
	if (c.wrote > need)
		need = c.wrote < since ? c.wrote : since;
	c.asked = since;
	if (c.listening && c.synced_from >= need)
		return true;		/* a recent round trip vouches */
	c.want++;
	/* one byte wakes the listener for every waiter until it reads it */
	if (!c.wake_pending) {
		if (write(c.wake[1], &one, 1) < 0 && errno != EAGAIN)
			return false;
		c.wake_pending = true;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += (long)SYNC_WAIT_MS * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	while (c.listening && c.synced_from < need)
		if (pthread_cond_timedwait(&c.synced, &c.mu, &until) ==
		    ETIMEDOUT)
			return false;
	return c.listening;
}

void
cache_wrote(double when)
{
	pthread_mutex_lock(&c.mu);
	if (when > c.wrote)
		c.wrote = when;
	pthread_mutex_unlock(&c.mu);
}

/*
 * The live entry of KEY in T, vouched for since SINCE, moved to the front
 * and counted; NULL on a miss.  Under the lock.
 */
static struct entry *
lookup_locked(struct table *t, const char *key, double since)
{
	struct entry *e = NULL;

	if (c.capacity > 0 && c.listening && find(t, key, NULL) != NULL &&
	    catch_up_locked(since) && (e = find(t, key, NULL)) != NULL &&
	    e->expires != 0 && c.now() >= e->expires) {
		remove_entry(t, e);	/* expired: never served again */
		e = NULL;
	}
	if (e != NULL) {
		lru_unlink(t, e);
		lru_front(t, e);
		t->hits++;
	} else {
		t->misses++;
	}
	return e;
}

char *
cache_get(enum cache_kind kind, const char *key, double since)
{
	char k[96];
	struct entry *e;
	char *v = NULL;

	make_key(k, sizeof(k), kind, key);
	pthread_mutex_lock(&c.mu);
	if ((e = lookup_locked(&c.answers, k, since)) != NULL &&
	    (v = strdup(e->value)) == NULL) {
		c.answers.hits--;	/* out of memory: asked again */
		c.answers.misses++;
	}
	pthread_mutex_unlock(&c.mu);
	return v;
}

/* Stores VALUE (SIZE bytes, copied) under KEY in T, about OWNER. */
static struct entry *
put_locked(struct table *t, const char *key, long long owner,
    const void *value, size_t size, unsigned long epoch)
{
	struct entry *e, **link;
	size_t b;

	if (c.capacity <= 0 || !c.listening || c.epoch != epoch)
		return NULL;
	if ((e = find(t, key, &link)) != NULL)
		remove_entry(t, e);
	while (t->count >= c.capacity && t->tail)
		remove_entry(t, t->tail);
	e = calloc(1, sizeof(*e));
	if (e == NULL || (e->key = strdup(key)) == NULL ||
	    (e->value = malloc(size)) == NULL) {
		if (e) {
			free(e->key);
			free(e);
		}
		return NULL;
	}
	memcpy(e->value, value, size);
	e->size = size;
	e->owner = owner;
	find(t, key, &link);
	*link = e;
	b = hash_id(owner) & (t->nbuckets - 1);
	e->cnext = t->byc[b];
	if (t->byc[b])
		t->byc[b]->cprev = e;
	t->byc[b] = e;
	lru_front(t, e);
	t->count++;
	return e;
}

void
cache_put(enum cache_kind kind, const char *key, long long clinician,
    const char *value, unsigned long epoch)
{
	char k[96];

	make_key(k, sizeof(k), kind, key);
	pthread_mutex_lock(&c.mu);
	put_locked(&c.answers, k, clinician, value, strlen(value) + 1, epoch);
	pthread_mutex_unlock(&c.mu);
}

/* A token's key: "t" and its SHA-256 in hex. */
static void
token_key(char out[2 + 64], const unsigned char hash[32])
{
	static const char hex[] = "0123456789abcdef";

	out[0] = 't';
	for (int i = 0; i < 32; i++) {
		out[1 + 2 * i] = hex[hash[i] >> 4];
		out[2 + 2 * i] = hex[hash[i] & 15];
	}
	out[1 + 64] = '\0';
}

bool
cache_token_get(const unsigned char hash[32], double since, void *who,
    size_t size, bool *touch)
{
	char k[2 + 64];
	struct entry *e;
	bool hit = false;
	double now;

	token_key(k, hash);
	*touch = false;
	pthread_mutex_lock(&c.mu);
	if ((e = lookup_locked(&c.tokens, k, since)) != NULL) {
		if (e->size == size) {
			memcpy(who, e->value, size);
			hit = true;
			now = c.now();
			if (now - e->touched >= TOUCH_SECONDS) {
				e->touched = now;
				*touch = true;
			}
		} else {
			c.tokens.hits--;
			c.tokens.misses++;
		}
	}
	pthread_mutex_unlock(&c.mu);
	return hit;
}

void
cache_token_put(const unsigned char hash[32], long long user,
    const void *who, size_t size, double expires, unsigned long epoch)
{
	char k[2 + 64];
	struct entry *e;

	token_key(k, hash);
	pthread_mutex_lock(&c.mu);
	/* read from the database just now: its use was just recorded, or
	 * was less than a minute ago */
	if (c.now() < expires &&
	    (e = put_locked(&c.tokens, k, user, who, size, epoch)) != NULL) {
		e->expires = expires;
		e->touched = c.now();
	}
	pthread_mutex_unlock(&c.mu);
}

/* Drops OWNER's entries of T and counts an invalidation, under the lock. */
static void
drop_owner_locked(struct table *t, long long owner)
{
	struct entry *e, *next;

	if (t->byc != NULL) {
		for (e = t->byc[hash_id(owner) & (t->nbuckets - 1)]; e;
		    e = next) {
			next = e->cnext;
			if (e->owner == owner)
				remove_entry(t, e);
		}
	}
	c.epoch++;
}

void
cache_drop_clinician(long long clinician)
{
	pthread_mutex_lock(&c.mu);
	drop_owner_locked(&c.answers, clinician);
	pthread_mutex_unlock(&c.mu);
}

void
cache_drop_user(long long user)
{
	pthread_mutex_lock(&c.mu);
	drop_owner_locked(&c.tokens, user);
	pthread_mutex_unlock(&c.mu);
}

void
cache_drop_all(void)
{
	pthread_mutex_lock(&c.mu);
	drop_all_locked();
	pthread_mutex_unlock(&c.mu);
}

void
cache_apply(const char *payload)
{
	char *copy = strdup(payload), *save = NULL, *tok, *ids;
	void (*drop)(long long) = cache_drop_clinician;
	long long id;

	if (copy == NULL || strcmp(copy, "*") == 0 || *copy == '\0') {
		cache_drop_all();
		free(copy);
		return;
	}
	ids = copy;
	if (*ids == 'u') {		/* accounts: their token checks */
		drop = cache_drop_user;
		ids++;
	}
	if (*ids == '\0') {
		cache_drop_all();
		free(copy);
		return;
	}
	for (tok = strtok_r(ids, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strnum_ll(tok, 1, INT64_MAX, &id, NULL) != 0) {
			cache_drop_all();
			break;
		}
		drop(id);
	}
	free(copy);
}

void
cache_stats(struct cache_stats *st)
{
	pthread_mutex_lock(&c.mu);
	st->hits = c.answers.hits;
	st->misses = c.answers.misses;
	st->entries = (unsigned long)c.answers.count;
	st->token_hits = c.tokens.hits;
	st->token_misses = c.tokens.misses;
	st->token_entries = (unsigned long)c.tokens.count;
	st->capacity = c.capacity > 0 ? (unsigned long)c.capacity : 0;
	st->drops = c.drops;
	st->round_trips = c.round_trips;
	st->listening = c.listening;
	pthread_mutex_unlock(&c.mu);
}

void
cache_metrics(struct strbuf *sb)
{
	struct cache_stats st;

	cache_stats(&st);
	strbuf_addf(sb, "# HELP certrack_cache_lookups_total Status and "
	    "verification lookups by cache result.\n"
	    "# TYPE certrack_cache_lookups_total counter\n"
	    "certrack_cache_lookups_total{result=\"hit\"} %lu\n"
	    "certrack_cache_lookups_total{result=\"miss\"} %lu\n"
	    "# HELP certrack_cache_entries Answers in the cache.\n"
	    "# TYPE certrack_cache_entries gauge\n"
	    "certrack_cache_entries %lu\n"
	    "# HELP certrack_cache_listening 1 while the cache's listener "
	    "listens.\n"
	    "# TYPE certrack_cache_listening gauge\n"
	    "certrack_cache_listening %d\n", st.hits, st.misses, st.entries,
	    st.listening ? 1 : 0);
	strbuf_addf(sb, "# HELP certrack_cache_token_checks_total Bearer "
	    "token checks by cache result.\n"
	    "# TYPE certrack_cache_token_checks_total counter\n"
	    "certrack_cache_token_checks_total{result=\"hit\"} %lu\n"
	    "certrack_cache_token_checks_total{result=\"miss\"} %lu\n"
	    "# HELP certrack_cache_token_entries Token checks in the cache.\n"
	    "# TYPE certrack_cache_token_entries gauge\n"
	    "certrack_cache_token_entries %lu\n"
	    "# HELP certrack_cache_round_trips_total Round trips of the "
	    "cache's listener that vouched for cached answers.\n"
	    "# TYPE certrack_cache_round_trips_total counter\n"
	    "certrack_cache_round_trips_total %lu\n", st.token_hits,
	    st.token_misses, st.token_entries, st.round_trips);
}

/* ---- the listener ------------------------------------------------------ */

/* Applies every notification libpq has read on CONN. */
static void
apply_notifies(PGconn *conn)
{
	PGnotify *n;

	while ((n = PQnotifies(conn)) != NULL) {
		cache_apply(n->extra);
		PQfreemem(n);
	}
}

/*
 * One round trip on CONN: every notification committed before it is
 * delivered before its answer, which is the database's day (a new day
 * drops everything: "expired" is judged by it).  0, or -1 when lost.
 */
static int
round_trip(PGconn *conn)
{
	PGresult *res = PQexecPrepared(conn, "cache_day", 0, NULL, NULL, NULL,
	    0);
	int rc = -1;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		const char *day = PQgetvalue(res, 0, 0);
		pthread_mutex_lock(&c.mu);
		if (strcmp(day, c.day) != 0) {
			if (c.day[0] != '\0')
				drop_all_locked();
			snprintf(c.day, sizeof(c.day), "%s", day);
		}
		pthread_mutex_unlock(&c.mu);
		rc = 0;
	}
	PQclear(res);
	apply_notifies(conn);
	return rc;
}

/* Sleeps MS milliseconds, or until woken by cache_stop(). */
static void
nap(int ms)
{
	struct pollfd p = { .fd = c.wake[0], .events = POLLIN };
	char buf[64];

	if (poll(&p, 1, ms) > 0)
		while (read(c.wake[0], buf, sizeof(buf)) > 0)
			;
}

static bool
stopping(void)
{
	bool s;

	pthread_mutex_lock(&c.mu);
	s = c.stopping;
	pthread_mutex_unlock(&c.mu);
	return s;
}

/* Listens on CONN until it is lost or the cache stops. */
static void
listen_on(PGconn *conn)
{
	char buf[64];
	bool more = false;	/* lookups came during the last round trip */
	double due = 0;		/* a test's slow notifications: read then */

	while (!stopping()) {
		struct pollfd p[2] = {
			{ .fd = PQsocket(conn), .events = POLLIN },
			{ .fd = c.wake[0], .events = POLLIN },
		};
		unsigned long want;
		double begun;
		int wait_ms, slow;

		/* a round trip every HEARTBEAT_MS while lookups come, so
		 * that they find the window open; else one a minute, to
		 * notice a new day or a lost connection */
		pthread_mutex_lock(&c.mu);
		slow = c.slow_notify_ms;
		wait_ms = more ? 0 : mono_now() - c.asked < ACTIVE_SECONDS ?
		    (slow > 0 ? slow : HEARTBEAT_MS) : 60 * 1000;
		pthread_mutex_unlock(&c.mu);
		if (due > 0) {
			int left = (int)((due - mono_now()) * 1000) + 1;
			if (left < wait_ms)
				wait_ms = left > 0 ? left : 0;
		}
		if (poll(p, 2, wait_ms) < 0 && errno != EINTR)
			return;
		if (p[1].revents & POLLIN)
			while (read(c.wake[0], buf, sizeof(buf)) > 0)
				;
		/* data, or the peer's close (POLLHUP, POLLERR): a close
		 * makes PQconsumeInput() fail */
		if (p[0].revents != 0 && !PQconsumeInput(conn))
			return;
		/* A test's slow notifications are left in libpq's queue
		 * until SLOW ms after they came (a round trip reads them
		 * at once, as always). */
		if (slow > 0 && p[0].revents != 0 && due == 0)
			due = mono_now() + slow / 1000.0;
		if (slow == 0 || (due > 0 && mono_now() >= due)) {
			apply_notifies(conn);
			due = 0;
		}
		pthread_mutex_lock(&c.mu);
		c.wake_pending = false;
		want = c.want;
		begun = mono_now();	/* the clock of http_now() */
		pthread_mutex_unlock(&c.mu);
		/* A round trip for every lookup waiting now (one for all of
		 * them: it vouches for every request begun before it), and
		 * one when the wait above ran out. */
		more = false;
		if (want > c.done || p[0].revents == 0) {
			if (round_trip(conn) != 0)
				return;
			pthread_mutex_lock(&c.mu);
			c.done = want;
			c.synced_from = begun;
			c.round_trips++;
			more = c.want > want;
			pthread_cond_broadcast(&c.synced);
			pthread_mutex_unlock(&c.mu);
		}
		if (PQstatus(conn) != CONNECTION_OK)
			return;
	}
}

static void *
listener(void *arg)
{
	const char *const keys[] = { "dbname", "application_name", NULL };
	const char *const values[] = { c.conninfo, "certrackd cache", NULL };
	bool said = false;

	(void)arg;
	while (!stopping()) {
		PGconn *conn = PQconnectdbParams(keys, values, 1);
		PGresult *res = NULL;

		if (PQstatus(conn) == CONNECTION_OK)
			res = PQexec(conn, "LISTEN " CHANNEL);
		/* the round trip, planned once */
		if (PQresultStatus(res) == PGRES_COMMAND_OK) {
			PQclear(res);
			res = PQprepare(conn, "cache_day",
			    "SELECT current_date::text", 0, NULL);
		}
		if (PQresultStatus(res) == PGRES_COMMAND_OK &&
		    round_trip(conn) == 0) {
			/* Listening again: what was missed meanwhile is
			 * unknown, so nothing cached before counts. */
			cache_set_listening(true);
			log_info("cache: listening for changes (%ld entries)",
			    c.capacity);
			said = false;
			listen_on(conn);
			cache_set_listening(false);
			if (!stopping())
				log_warn("cache: the listening connection was "
				    "lost; the cache is emptied and off until "
				    "it is back");
		} else if (!said) {
			/* A standby refuses LISTEN: it never caches. */
			log_warn("cache: cannot listen for changes (%s); not "
			    "caching until it can",
			    res != NULL && PQresultErrorMessage(res)[0] ?
			    PQresultErrorMessage(res) : PQerrorMessage(conn));
			said = true;
		}
		PQclear(res);
		PQfinish(conn);
		if (!stopping())
			nap(RETRY_MS);
	}
	return NULL;
}

/* Makes room for N buckets (a power of two) in T: 0, or -1. */
static int
table_init(struct table *t, size_t n)
{
	memset(t, 0, sizeof(*t));
	t->byk = calloc(n, sizeof(*t->byk));
	t->byc = calloc(n, sizeof(*t->byc));
	t->nbuckets = n;
	return t->byk != NULL && t->byc != NULL ? 0 : -1;
}

/* Frees T's buckets (its entries are gone already). */
static void
table_free(struct table *t)
{
	free(t->byk);
	free(t->byc);
	t->byk = t->byc = NULL;
	t->nbuckets = 0;
}

int
cache_start(const char *conninfo, long max_entries)
{
	size_t n = 16;

	cache_stop();
	if (max_entries <= 0)
		return 0;
	while (n < (size_t)max_entries * 2 && n < ((size_t)1 << 30))
		n <<= 1;
	pthread_mutex_lock(&c.mu);
	if (table_init(&c.answers, n) != 0 || table_init(&c.tokens, n) != 0) {
		table_free(&c.answers);
		table_free(&c.tokens);
		pthread_mutex_unlock(&c.mu);
		return -1;
	}
	c.capacity = max_entries;
	c.stopping = false;
	c.want = c.done = 0;
	c.wake_pending = false;
	c.synced_from = 0;
	c.wrote = c.asked = 0;
	c.day[0] = '\0';
	/* Tests only (e2e_cache_window): a slow listener, which reads each
	 * notification that long after it arrives and makes its periodic
	 * round trips that far apart, as on a loaded or distant database:
	 * only the round trips a lookup asks for vouch for its answer. */
	c.slow_notify_ms = 0;
	const char *slow = getenv("CERTRACK_TEST_SLOW_NOTIFY_MS");
	if (slow != NULL && strnum_int(slow, 0, 1000, &c.slow_notify_ms,
	    NULL) != 0)
		c.slow_notify_ms = 0;
	pthread_mutex_unlock(&c.mu);
	if (conninfo == NULL)
		return 0;
	if (pipe(c.wake) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		int fl = fcntl(c.wake[i], F_GETFL);
		fcntl(c.wake[i], F_SETFL, fl | O_NONBLOCK);
	}
	c.conninfo = strdup(conninfo);
	if (c.conninfo == NULL)
		return -1;
	/* Running before the thread starts: no lookup is served without a
	 * round trip of it. */
	pthread_mutex_lock(&c.mu);
	c.running = true;
	pthread_mutex_unlock(&c.mu);
	if (pthread_create(&c.thread, NULL, listener, NULL) != 0) {
		pthread_mutex_lock(&c.mu);
		c.running = false;
		pthread_mutex_unlock(&c.mu);
		cache_stop();
		return -1;
	}
	return 0;
}

void
cache_stop(void)
{
	char one = 1;
	bool running;

	pthread_mutex_lock(&c.mu);
	running = c.running;
	c.stopping = true;
	pthread_mutex_unlock(&c.mu);
	if (running) {
		if (write(c.wake[1], &one, 1) < 0)
			log_warn("cache: cannot wake the listener");
		pthread_join(c.thread, NULL);
	}
	pthread_mutex_lock(&c.mu);
	c.running = false;
	c.listening = false;
	if (c.answers.byk != NULL)
		drop_all_locked();
	table_free(&c.answers);
	table_free(&c.tokens);
	c.capacity = 0;
	pthread_cond_broadcast(&c.synced);
	pthread_mutex_unlock(&c.mu);
	for (int i = 0; i < 2; i++) {
		if (c.wake[i] >= 0)
			close(c.wake[i]);
		c.wake[i] = -1;
	}
	free(c.conninfo);
	c.conninfo = NULL;
}
