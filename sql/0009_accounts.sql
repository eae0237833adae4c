-- Accounts (DESIGN.md "The rules" 11): at least one enabled admin, always,
-- under any concurrency; and a generated password must be changed at first
-- use.

-- Set when the password was generated (`certrackd create-user`, an admin's
-- POST /v1/users without a password or PATCH reset_password), cleared when
-- the owner sets a password of their own (POST /v1/me/password).  While it
-- is set, the account's tokens serve only /v1/me, /v1/me/password and
-- /v1/logout.
ALTER TABLE users
	ADD COLUMN password_change_required boolean NOT NULL DEFAULT false;

-- An account as the API shows it (never its password hash).
CREATE FUNCTION user_json(u users)
RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT json_build_object('id', u.id, 'username', u.username,
		'role', u.role, 'clinician_id', u.clinician_id,
		'disabled', u.disabled,
		'password_change_required', u.password_change_required,
		'created_at', u.created_at)
$$;

-- Every write that may change the set of enabled admins takes this lock
-- first, so they happen one at a time: the first admin made from the shell
-- (`create-user --if-no-admin`) and every disable or demotion below.  Held
-- to the end of the transaction.  Under READ COMMITTED each later
-- statement of the holder sees what the previous holder committed.
CREATE FUNCTION admins_lock()
RETURNS void
LANGUAGE sql
AS $$
	SELECT pg_advisory_xact_lock(7243011860)
$$;

-- PATCH /v1/users/{id}: the one write that disables, enables, changes the
-- role or the clinician of an account, or gives it a new (generated)
-- password, which must then be changed at first use.  NULL arguments
-- leave their column as it is; P_SET_CLINICIAN says whether
-- P_CLINICIAN_ID (possibly NULL) is to be stored.  Disabling or a new
-- password revokes the account's tokens.
--
-- Refuses, with SQLSTATE 23514 and constraint users_last_admin, a change
-- that would leave no enabled admin.  Disabling and demoting take
-- admins_lock() before they read anything, so two admins disabling each
-- other at the same moment cannot both pass the count: the second one to
-- get the lock counts after the first has committed.
--
-- One row (the account before and after, as user_json()), or none when
-- there is no account P_ID.
CREATE FUNCTION user_update(p_id bigint, p_disabled boolean, p_role text,
	p_set_clinician boolean, p_clinician_id bigint, p_password_hash text)
RETURNS TABLE (before json, after json)
LANGUAGE plpgsql
AS $$
DECLARE
	old users;
	cur users;
BEGIN
	IF p_disabled OR p_role <> 'admin' THEN
		PERFORM admins_lock();
	END IF;
	SELECT * INTO old FROM users WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	UPDATE users SET
		disabled = coalesce(p_disabled, disabled),
		role = coalesce(p_role, role),
		clinician_id = CASE WHEN p_set_clinician THEN p_clinician_id
		               ELSE clinician_id END,
		password_hash = coalesce(p_password_hash, password_hash),
		password_change_required = p_password_hash IS NOT NULL
		                           OR password_change_required
	 WHERE id = p_id
	RETURNING * INTO cur;
	IF old.role = 'admin' AND NOT old.disabled
	   AND (cur.role <> 'admin' OR cur.disabled)
	   AND NOT EXISTS (SELECT 1 FROM users
	                    WHERE role = 'admin' AND NOT disabled) THEN
		RAISE EXCEPTION
			'user % is the last enabled admin; make another admin first',
			p_id
			USING ERRCODE = 'check_violation',
			      CONSTRAINT = 'users_last_admin';
	END IF;
	IF p_disabled OR p_password_hash IS NOT NULL THEN
		UPDATE api_tokens SET revoked_at = now()
		 WHERE user_id = p_id AND revoked_at IS NULL;
	END IF;
	RETURN QUERY SELECT user_json(old), user_json(cur);
END
$$;

-- POST /v1/me/password: the owner's own new password.  Clears
-- password_change_required, and ends every other session of the account
-- (token P_KEEP_TOKEN, the one making the change, goes on).
CREATE FUNCTION user_set_own_password(p_id bigint, p_password_hash text,
	p_keep_token bigint)
RETURNS void
LANGUAGE sql
AS $$
	UPDATE users SET password_hash = p_password_hash,
	                 password_change_required = false
	 WHERE id = p_id;
	UPDATE api_tokens SET revoked_at = now()
	 WHERE user_id = p_id AND id <> p_keep_token AND revoked_at IS NULL;
$$;
