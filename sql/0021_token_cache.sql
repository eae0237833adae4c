-- Token checks in the daemons' lookup caches (issue 10, item 4).
--
-- A daemon caches who holds a bearer token (server/api_auth.c, keyed by
-- the token's SHA-256) until the token expires.  Every statement that
-- changes what that check answers tells the daemons, in its own
-- transaction: pg_notify('certrack_cache', 'u' || ids), the accounts whose
-- token checks changed, comma-separated; '*' for more accounts than a
-- notification should carry or for a TRUNCATE.  Each daemon drops those
-- accounts' checks (server/cache.c).  What changes a check:
--
--   api_tokens  revoked_at (a logout, an admin's DELETE /v1/tokens/{id},
--               the oldest tokens beyond the cap at a login, every token
--               of an account disabled or given a new password), the
--               expiry, the hash or the account of a token; a token
--               deleted (also by its account's deletion).  Not
--               last_used_at: the check does not read it.
--   users       disabled, role, clinician, username, the password (its
--               hash: a reset revokes the tokens too) and
--               password_change_required (a token of an account that must
--               change its password serves only the first-use routes); an
--               account deleted.
--
-- A new token or account needs no notification: only good tokens are
-- cached, never a refusal.  An expiry needs none either: the daemon stores
-- it and judges it by its clock.  Statement-level triggers with transition
-- tables, like sql/0015_import_speed.sql's: one notification per
-- statement, never one per row.

-- TG_ARGV[0]: the column naming the account; TG_ARGV[1]: the columns the
-- token check reads, comma-separated.  For UPDATE and DELETE.
CREATE FUNCTION cache_notify_accounts() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
	v_rows text;
	v_n bigint;
	v_ids text;
BEGIN
	IF TG_OP = 'DELETE' THEN
		v_rows := format('SELECT o.%I AS u FROM old_rows o', TG_ARGV[0]);
	ELSE
		-- an account changed, or a token moved from one account to
		-- another: both accounts
		SELECT format('SELECT x.u FROM old_rows o JOIN new_rows n'
		              ' ON n.id = o.id, LATERAL (VALUES (o.%1$I), (n.%1$I))'
		              ' x(u) WHERE ROW(%2$s) IS DISTINCT FROM ROW(%3$s)',
		              TG_ARGV[0],
		              string_agg(format('o.%I', col), ', '),
		              string_agg(format('n.%I', col), ', '))
		  INTO v_rows
		  FROM unnest(string_to_array(TG_ARGV[1], ',')) AS col;
	END IF;
	EXECUTE format('SELECT count(DISTINCT s.u), string_agg(DISTINCT'
	               ' s.u::text, '','') FROM (%s) s', v_rows)
	   INTO v_n, v_ids;
	IF v_n > 200 THEN
		PERFORM pg_notify('certrack_cache', '*');
	ELSIF v_ids IS NOT NULL THEN
		PERFORM pg_notify('certrack_cache', 'u' || v_ids);
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER api_tokens_cache_update AFTER UPDATE ON api_tokens
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION
	cache_notify_accounts('user_id', 'revoked_at,expires_at,token_hash,user_id');
CREATE TRIGGER api_tokens_cache_delete AFTER DELETE ON api_tokens
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION cache_notify_accounts('user_id');
CREATE TRIGGER users_cache_update AFTER UPDATE ON users
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION
	cache_notify_accounts('id',
	'disabled,role,clinician_id,username,password_hash,password_change_required');
CREATE TRIGGER users_cache_delete AFTER DELETE ON users
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION cache_notify_accounts('id');
CREATE TRIGGER api_tokens_cache_truncate AFTER TRUNCATE ON api_tokens
	FOR EACH STATEMENT EXECUTE FUNCTION cache_notify_all();
CREATE TRIGGER users_cache_truncate AFTER TRUNCATE ON users
	FOR EACH STATEMENT EXECUTE FUNCTION cache_notify_all();

-- ---------------------------------------------------------------------------
-- The status SQL, planned once per connection (issue 10, item 4: what bounds
-- a lookup that misses the cache, and pgbench's baseline alike)
-- ---------------------------------------------------------------------------

-- renewal_status() and clinician_status_full() (sql/0011_renewals.sql,
-- sql/0016_renewal_status.sql, and whatever migration before this one
-- redefined them last) are LANGUAGE sql functions that cannot be inlined
-- (an aggregate; a FROM of a function), so PostgreSQL plans their bodies
-- on every call, as clinician_status() once did (see docs/benchmarks.md,
-- finding 4): renewal_status() cost 3.0 ms a call, 0.36 ms as the same
-- statement in plpgsql, whose plan is kept for the connection's life.
-- Each becomes a plpgsql function returning its own statement, taken from
-- the catalog as the migrations before this one left it (not copied here,
-- so a later version of the statement is the one kept): the same
-- parameters, the same statement, the same answers.
--
-- And a status is one clinician's rows: JIT compilation never pays for
-- itself there, but PostgreSQL starts it when the planner's estimate passes
-- jit_above_cost, which it does on tables never analyzed (a new or small
-- database, where the planner assumes ten pages a table): measured on an
-- empty database, 120-270 ms a status with JIT, 1-2 ms without.  Off for
-- the status functions, whatever the statistics say.
DO $$
DECLARE
	f record;
BEGIN
	FOR f IN SELECT p.oid, p.proname, p.prosrc
	           FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
	          WHERE p.oid IN ('renewal_status(bigint, date)'::regprocedure,
	                          'clinician_status_full(bigint, date)'::regprocedure)
	            AND l.lanname = 'sql' AND btrim(p.prosrc) <> ''
	LOOP
		EXECUTE format('CREATE OR REPLACE FUNCTION %I(%s) RETURNS %s'
		               ' LANGUAGE plpgsql STABLE SET jit = off AS %L',
		               f.proname, pg_get_function_arguments(f.oid),
		               pg_get_function_result(f.oid),
		               E'BEGIN\n\tRETURN (\n' ||
		               rtrim(btrim(f.prosrc, E' \t\r\n'), E'; \t\r\n') ||
		               E'\n\t);\nEND');
	END LOOP;
END
$$;

ALTER FUNCTION clinician_status(bigint, date) SET jit = off;
ALTER FUNCTION clinician_status_full(bigint, date) SET jit = off;
ALTER FUNCTION renewal_status(bigint, date) SET jit = off;
