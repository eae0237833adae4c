-- Logins under attack (issue 11, item 3): failed logins are throttled per
-- account and per client address with a lock that doubles after each
-- further failure (OWASP ASVS 2.2), every failed login leaves an audit
-- row, and an account holds at most a configured number of live tokens.
--
-- The state is here, not in a daemon's memory, so that every daemon in
-- front of the database throttles alike and a restart forgets nothing.
-- The daemon passes its configured limits as arguments; the rule itself
-- is these functions.

-- One row per throttled key: an account name as tried (lower case, whether
-- or not such an account exists, so a lock tells nothing about which names
-- exist) or a client address.  FAILURES counts the attempts since the last
-- success (for an account) or within the memory window (both), LOCKED_UNTIL
-- is when the next attempt may be made.
CREATE TABLE login_throttle (
	kind text NOT NULL
		CONSTRAINT login_throttle_kind_values
		CHECK (kind IN ('account', 'address')),
	key text NOT NULL
		CONSTRAINT login_throttle_key_length
		CHECK (length(key) BETWEEN 1 AND 256),
	failures integer NOT NULL DEFAULT 0
		CONSTRAINT login_throttle_failures_sign CHECK (failures >= 0),
	last_at timestamptz NOT NULL DEFAULT now(),
	locked_until timestamptz,
	PRIMARY KEY (kind, key)
);
CREATE INDEX login_throttle_last_at_idx ON login_throttle (last_at);

-- The lock that follows FAILURES attempts when AFTER are free: none below
-- AFTER, else LOCK_SECONDS doubled for each attempt past AFTER, at most
-- LOCK_MAX_SECONDS.
CREATE FUNCTION login_lock_until(p_failures integer, p_after integer,
	p_lock_seconds integer, p_lock_max_seconds integer)
RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT CASE WHEN p_failures < p_after THEN NULL
	       ELSE now() + make_interval(secs => least(
	              p_lock_seconds * 2.0 ^ least(p_failures - p_after, 40),
	              p_lock_max_seconds::numeric)::double precision)
	       END
$$;

-- The first step of POST /v1/login, before any password is checked.
--
-- When the account name or the address is locked, answers RETRY_AFTER (in
-- whole seconds, at least 1) and nothing else: the attempt is refused
-- uncounted, and the same way whether the account exists or not.
--
-- Otherwise the attempt is counted at once as a failure on both keys (a
-- success takes it back, login_succeeded()), so that any number of
-- concurrent guesses cannot slip past the limit while their passwords are
-- being checked; the attempt that reaches a limit starts the lock.  Then
-- RETRY_AFTER is 0 and the account's row follows when there is one.
--
-- A key's failures are forgotten after P_MEMORY_SECONDS without an
-- attempt.  Each call also deletes up to 100 forgotten rows (none that
-- another attempt holds), so names tried once do not pile up.
CREATE FUNCTION login_begin(p_username text, p_address text,
	p_account_after integer, p_address_after integer,
	p_lock_seconds integer, p_lock_max_seconds integer,
	p_memory_seconds integer)
RETURNS TABLE (retry_after integer, user_id bigint, password_hash text,
	disabled boolean, username text)
LANGUAGE plpgsql
AS $$
DECLARE
	wait double precision;
	forget timestamptz := now() - make_interval(secs => p_memory_seconds);
BEGIN
	-- Both rows exist before they are locked, so two first attempts
	-- racing each other are counted one after the other.
	INSERT INTO login_throttle (kind, key)
	VALUES ('account', lower(p_username)), ('address', p_address)
	ON CONFLICT DO NOTHING;
	PERFORM 1 FROM login_throttle
	  WHERE (kind, key) IN (('account', lower(p_username)),
	                        ('address', p_address))
	  ORDER BY kind, key FOR UPDATE;
	SELECT max(extract(epoch FROM t.locked_until - now())) INTO wait
	  FROM login_throttle t
	 WHERE (t.kind, t.key) IN (('account', lower(p_username)),
	                           ('address', p_address))
	   AND t.locked_until > now();
	IF wait IS NULL THEN
		UPDATE login_throttle t
		   SET failures = n.failures,
		       last_at = now(),
		       locked_until = login_lock_until(n.failures,
		           CASE t.kind WHEN 'account' THEN p_account_after
		                       ELSE p_address_after END,
		           p_lock_seconds, p_lock_max_seconds)
		  FROM (SELECT kind, key,
		               CASE WHEN last_at < forget THEN 1
		                    ELSE failures + 1 END AS failures
		          FROM login_throttle
		         WHERE (kind, key) IN (('account', lower(p_username)),
		                               ('address', p_address))) n
		 WHERE t.kind = n.kind AND t.key = n.key;
	END IF;
	-- Last, holding only this attempt's rows, and waiting for none.
	DELETE FROM login_throttle
	 WHERE ctid IN (SELECT ctid FROM login_throttle
	                 WHERE last_at < forget
	                   AND (locked_until IS NULL OR locked_until < now())
	                 LIMIT 100 FOR UPDATE SKIP LOCKED);
	IF wait IS NOT NULL THEN
		RETURN QUERY SELECT greatest(ceil(wait), 1)::integer,
			NULL::bigint, NULL::text, NULL::boolean, NULL::text;
		RETURN;
	END IF;
	RETURN QUERY SELECT 0, u.id, u.password_hash, u.disabled, u.username
	  FROM (SELECT 1) one
	  LEFT JOIN users u ON lower(u.username) = lower(p_username);
END
$$;

-- A failed attempt (wrong password, no such account, a disabled account;
-- REASON says which, for the audit log only): the failure counted by
-- login_begin() stands, and the audit row records the name tried, the
-- client address, the account's failures so far and the lock, if any.
-- Returns that audit row's after-image.
CREATE FUNCTION login_failed(p_username text, p_address text,
	p_user_id bigint, p_reason text, p_request_id text)
RETURNS jsonb
LANGUAGE sql
AS $$
	INSERT INTO audit_log (actor_name, action, entity, entity_id, after,
	                       request_id)
	SELECT 'anonymous', 'user.login_failed', 'user', p_user_id::text,
	       jsonb_build_object('username', p_username,
	           'address', p_address, 'reason', p_reason,
	           'failures', a.failures, 'locked_until', a.locked_until,
	           'address_failures', d.failures,
	           'address_locked_until', d.locked_until),
	       p_request_id
	  FROM (SELECT 1) one
	  LEFT JOIN login_throttle a
	    ON a.kind = 'account' AND a.key = lower(p_username)
	  LEFT JOIN login_throttle d
	    ON d.kind = 'address' AND d.key = p_address
	RETURNING after
$$;

-- A successful attempt: the account's failures are forgotten; the
-- address's loses the attempt login_begin() counted (its other failures
-- stand: one good password must not clear a run of guesses at other
-- accounts).  Then the new token (its SHA-256 P_TOKEN_HASH, valid
-- P_TTL_HOURS) is stored, and the account's oldest live tokens beyond
-- P_MAX_TOKENS (the new one included) are revoked.  The account's row is
-- locked first, so concurrent logins of one account keep the cap.
-- Returns the token's id and expiry and the ids revoked.
CREATE FUNCTION login_succeeded(p_username text, p_address text,
	p_address_after integer, p_user_id bigint, p_token_hash bytea,
	p_ttl_hours integer, p_max_tokens integer)
RETURNS TABLE (token_id bigint, expires_at timestamptz, revoked bigint[])
LANGUAGE plpgsql
AS $$
DECLARE
	tid bigint;
	texp timestamptz;
BEGIN
	DELETE FROM login_throttle
	 WHERE kind = 'account' AND key = lower(p_username);
	UPDATE login_throttle
	   SET failures = greatest(failures - 1, 0),
	       locked_until = CASE WHEN failures - 1 < p_address_after
	                      THEN NULL ELSE locked_until END
	 WHERE kind = 'address' AND key = p_address;
	PERFORM 1 FROM users WHERE id = p_user_id FOR UPDATE;
	INSERT INTO api_tokens (user_id, token_hash, expires_at)
	VALUES (p_user_id, p_token_hash,
	        now() + make_interval(hours => p_ttl_hours))
	RETURNING id, api_tokens.expires_at INTO tid, texp;
	RETURN QUERY
	WITH old AS (
		SELECT t.id FROM api_tokens t
		 WHERE t.user_id = p_user_id AND t.revoked_at IS NULL
		   AND t.expires_at > now()
		 ORDER BY t.created_at DESC, t.id DESC
		OFFSET p_max_tokens
	), gone AS (
		UPDATE api_tokens t SET revoked_at = now()
		  FROM old WHERE t.id = old.id
		RETURNING t.id
	)
	SELECT tid, texp,
	       coalesce((SELECT array_agg(id ORDER BY id) FROM gone),
	                '{}'::bigint[]);
END
$$;
