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

struct entry {
	char *key;			/* kind letter, then the key */
	char *value;
	long long clinician;
	struct entry *hnext;		/* hash chain by key */
	struct entry *cnext, *cprev;	/* chain of one clinician's bucket */
	struct entry *prev, *next;	/* LRU list, most recent first */
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t synced;
	struct entry **byk, **byc;	/* buckets by key, by clinician */
	size_t nbuckets;		/* a power of two */
	struct entry *head, *tail;
	long count, capacity;
	unsigned long epoch, hits, misses, drops;
	bool listening;

	/* the listener */
	char *conninfo;
	pthread_t thread;
	bool running, stopping;
	int wake[2];			/* a pipe: lookups wake the listener */
	unsigned long want, done;	/* round trips asked and made */
	char day[16];			/* the database's current_date */
} c = { .mu = PTHREAD_MUTEX_INITIALIZER, .synced = PTHREAD_COND_INITIALIZER,
	.wake = { -1, -1 } };

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
lru_unlink(struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c.head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c.tail = e->prev;
	e->prev = e->next = NULL;
}

static void
lru_front(struct entry *e)
{
	e->next = c.head;
	e->prev = NULL;
	if (c.head)
		c.head->prev = e;
	c.head = e;
	if (c.tail == NULL)
		c.tail = e;
}

/* The entry of KEY and the link pointing at it, under the lock. */
static struct entry *
find(const char *key, struct entry ***link)
{
	struct entry **p = &c.byk[hash_str(key) & (c.nbuckets - 1)];

	for (; *p != NULL; p = &(*p)->hnext)
		if (strcmp((*p)->key, key) == 0)
			break;
	if (link)
		*link = p;
	return *p;
}

/* Unlinks E from everything and frees it, under the lock. */
static void
remove_entry(struct entry *e)
{
	struct entry **p;

	find(e->key, &p);
	*p = e->hnext;
	if (e->cprev)
		e->cprev->cnext = e->cnext;
	else
		c.byc[hash_id(e->clinician) & (c.nbuckets - 1)] = e->cnext;
	if (e->cnext)
		e->cnext->cprev = e->cprev;
	lru_unlink(e);
	free(e->key);
	free(e->value);
	free(e);
	c.count--;
}

static void
drop_all_locked(void)
{
	while (c.head)
		remove_entry(c.head);
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
 * Waits (under the lock) until the listener made a round trip begun after
 * this call, so every change committed before it is applied.  False when
 * it did not within SYNC_WAIT_MS or stopped listening.
 */
static bool
catch_up_locked(void)
{
	unsigned long ticket;
	struct timespec until;
	char one = 1;

	if (!c.running)
		return c.listening;	/* no listener: a table under test */
	ticket = ++c.want;
	if (write(c.wake[1], &one, 1) < 0 && errno != EAGAIN)
		return false;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += (long)SYNC_WAIT_MS * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	while (c.listening && c.done < ticket)
		if (pthread_cond_timedwait(&c.synced, &c.mu, &until) ==
		    ETIMEDOUT)
			return false;
	return c.listening;
}

char *
cache_get(enum cache_kind kind, const char *key)
{
	char k[96];
	struct entry *e;
	char *v = NULL;

	make_key(k, sizeof(k), kind, key);
	pthread_mutex_lock(&c.mu);
	if (c.capacity > 0 && c.listening && find(k, NULL) != NULL &&
	    catch_up_locked() && (e = find(k, NULL)) != NULL) {
		lru_unlink(e);
		lru_front(e);
		v = strdup(e->value);
	}
	if (v)
		c.hits++;
	else
		c.misses++;
	pthread_mutex_unlock(&c.mu);
	return v;
}

void
cache_put(enum cache_kind kind, const char *key, long long clinician,
    const char *value, unsigned long epoch)
{
	char k[96];
	struct entry *e, **link;
	size_t b;

	make_key(k, sizeof(k), kind, key);
	pthread_mutex_lock(&c.mu);
	if (c.capacity <= 0 || !c.listening || c.epoch != epoch)
		goto out;
	if ((e = find(k, &link)) != NULL)
		remove_entry(e);
	while (c.count >= c.capacity && c.tail)
		remove_entry(c.tail);
	e = calloc(1, sizeof(*e));
	if (e == NULL || (e->key = strdup(k)) == NULL ||
	    (e->value = strdup(value)) == NULL) {
		if (e) {
			free(e->key);
			free(e);
		}
		goto out;
	}
	e->clinician = clinician;
	find(k, &link);
	*link = e;
	b = hash_id(clinician) & (c.nbuckets - 1);
	e->cnext = c.byc[b];
	if (c.byc[b])
		c.byc[b]->cprev = e;
	c.byc[b] = e;
	lru_front(e);
	c.count++;
out:
	pthread_mutex_unlock(&c.mu);
}

void
cache_drop_clinician(long long clinician)
{
	struct entry *e, *next;

	pthread_mutex_lock(&c.mu);
	if (c.byc != NULL) {
		for (e = c.byc[hash_id(clinician) & (c.nbuckets - 1)]; e;
		    e = next) {
			next = e->cnext;
			if (e->clinician == clinician)
				remove_entry(e);
		}
	}
	c.epoch++;
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
	char *copy = strdup(payload), *save = NULL, *tok;
	long long id;

	if (copy == NULL || strcmp(copy, "*") == 0 || *copy == '\0') {
		cache_drop_all();
		free(copy);
		return;
	}
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strnum_ll(tok, 1, INT64_MAX, &id, NULL) != 0) {
			cache_drop_all();
			break;
		}
		cache_drop_clinician(id);
	}
	free(copy);
}

void
cache_stats(struct cache_stats *st)
{
	pthread_mutex_lock(&c.mu);
	st->hits = c.hits;
	st->misses = c.misses;
	st->entries = (unsigned long)c.count;
	st->capacity = c.capacity > 0 ? (unsigned long)c.capacity : 0;
	st->drops = c.drops;
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
	PGresult *res = PQexec(conn, "SELECT current_date::text");
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

	while (!stopping()) {
		struct pollfd p[2] = {
			{ .fd = PQsocket(conn), .events = POLLIN },
			{ .fd = c.wake[0], .events = POLLIN },
		};
		unsigned long want;

		if (poll(p, 2, 60 * 1000) < 0 && errno != EINTR)
			return;
		if (p[1].revents & POLLIN)
			while (read(c.wake[0], buf, sizeof(buf)) > 0)
				;
		/* data, or the peer's close (POLLHUP, POLLERR): a close
		 * makes PQconsumeInput() fail */
		if (p[0].revents != 0 && !PQconsumeInput(conn))
			return;
		apply_notifies(conn);
		pthread_mutex_lock(&c.mu);
		want = c.want;
		pthread_mutex_unlock(&c.mu);
		/* A round trip for every lookup waiting now (one for all of
		 * them), and one a minute to notice a new day or a lost
		 * connection. */
		if (want > c.done || p[0].revents == 0) {
			if (round_trip(conn) != 0)
				return;
			pthread_mutex_lock(&c.mu);
			c.done = want;
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
	c.byk = calloc(n, sizeof(*c.byk));
	c.byc = calloc(n, sizeof(*c.byc));
	if (c.byk == NULL || c.byc == NULL) {
		free(c.byk);
		free(c.byc);
		c.byk = c.byc = NULL;
		pthread_mutex_unlock(&c.mu);
		return -1;
	}
	c.nbuckets = n;
	c.capacity = max_entries;
	c.stopping = false;
	c.want = c.done = 0;
	c.day[0] = '\0';
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
	if (c.byk != NULL)
		drop_all_locked();
	free(c.byk);
	free(c.byc);
	c.byk = c.byc = NULL;
	c.nbuckets = 0;
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
