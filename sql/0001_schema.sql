-- certrack domain model.  Run by `certrackd migrate` inside one transaction.
--
-- Every rule that can be stated about one row, or one row against the rows it
-- references, is a constraint here, so a bug in the daemon or an import
-- cannot store an impossible record.  Constraints carry explicit names: the
-- daemon maps PG_DIAG_CONSTRAINT_NAME to a problem code (see
-- docs/data-model.md).  History is kept with ON DELETE RESTRICT throughout.

-- ---------------------------------------------------------------------------
-- Pure check functions (the same algorithms as server/npi.c and the
-- certificate number module; docs/data-model.md has the exact definitions).
-- ---------------------------------------------------------------------------

-- True when NPI is ten digits whose last is the Luhn check digit computed
-- over the prefix 80840 followed by the first nine digits; false otherwise
-- (NULL for NULL).  ascii() arithmetic keeps it free of cast errors.
CREATE FUNCTION npi_valid(npi text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
	SELECT CASE WHEN npi ~ '^[0-9]{10}$' THEN (
		SELECT (10 - sum(CASE WHEN i % 2 = 0
		                      THEN (2 * d) / 10 + (2 * d) % 10
		                      ELSE d END) % 10) % 10
		       = ascii(substr(npi, 10, 1)) - 48
		FROM (SELECT i, ascii(substr('80840' || substr(npi, 1, 9), i, 1)) - 48 AS d
		      FROM generate_series(1, 14) AS i) AS digits)
	ELSE false END
$$;

-- The Luhn mod 32 check symbol for DATA, a string of Crockford base32
-- symbols (0123456789ABCDEFGHJKMNPQRSTVWXYZ, upper case, no hyphens).
-- NULL when DATA holds anything else.
CREATE FUNCTION certificate_check_symbol(data text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
	SELECT CASE WHEN data ~ '^[0-9A-HJKMNP-TV-Z]+$' THEN (
		SELECT substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ',
		              ((32 - sum(a / 32 + a % 32) % 32) % 32)::int + 1, 1)
		FROM (SELECT CASE WHEN (length(data) - i) % 2 = 0 THEN 2 ELSE 1 END
		             * (strpos('0123456789ABCDEFGHJKMNPQRSTVWXYZ',
		                       substr(data, i, 1)) - 1) AS a
		      FROM generate_series(1, length(data)) AS i) AS addends)
	END
$$;

-- True when NUMBER is a canonical certificate number: 'XXXX-XXXX-XXXX',
-- twelve upper-case Crockford base32 symbols whose last is the Luhn mod 32
-- check symbol of the first eleven.  False otherwise (NULL for NULL).
CREATE FUNCTION certificate_number_valid(number text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
	SELECT CASE
		WHEN number ~ '^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$'
		THEN certificate_check_symbol(substr(replace(number, '-', ''), 1, 11))
		     = substr(number, 14, 1)
		ELSE false END
$$;

-- A fresh random certificate number (55 random bits from the server's
-- strong random source via gen_random_uuid()), for set-based issuing.
-- Collisions are caught by certificates_number_key; retry on 23505.
CREATE FUNCTION certificate_number_new() RETURNS text
LANGUAGE sql VOLATILE PARALLEL SAFE
AS $$
	WITH r AS (
		-- hex digits 18..32 of a version-4 UUID are all random (60 bits)
		SELECT ('x' || lpad(substr(replace(gen_random_uuid()::text, '-', ''), 18, 15),
		                     16, '0'))::bit(64)::bigint AS v
	), d AS (
		SELECT string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ',
		                         ((r.v >> (5 * k)) & 31)::int + 1, 1), '' ORDER BY k) AS s
		FROM r, generate_series(0, 10) AS k
	), n AS (
		SELECT d.s || certificate_check_symbol(d.s) AS s FROM d
	)
	SELECT substr(s, 1, 4) || '-' || substr(s, 5, 4) || '-' || substr(s, 9, 4) FROM n
$$;

-- passed = score / max_score * 100 >= pass_mark, evaluated without rounding
-- (max_score > 0, so multiplying both sides by it is exact).
CREATE FUNCTION exam_passed(score numeric, max_score numeric, pass_mark numeric)
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
	SELECT score * 100 >= pass_mark * max_score
$$;

-- Trigger function for append-only tables: no row is ever changed or removed.
CREATE FUNCTION forbid_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
		USING ERRCODE = 'integrity_constraint_violation',
		      HINT = 'record a new row instead';
END
$$;

-- ---------------------------------------------------------------------------
-- Professions and programs
-- ---------------------------------------------------------------------------

CREATE TABLE professions (
	code text PRIMARY KEY
		CONSTRAINT professions_code_shape CHECK (code ~ '^[A-Za-z][A-Za-z0-9]{0,15}$'),
	name text NOT NULL
		CONSTRAINT professions_name_blank CHECK (btrim(name) <> '')
);
CREATE UNIQUE INDEX professions_code_lower_key ON professions (lower(code));

-- Accepted spellings of a profession ("Physical Therapist", "DPT", "P.T.").
-- An import looks a profession up by code or alias, case-insensitively:
-- see profession_lookup().
CREATE TABLE profession_aliases (
	alias text NOT NULL
		CONSTRAINT profession_aliases_alias_blank CHECK (btrim(alias) <> '' AND alias = btrim(alias)),
	profession_code text NOT NULL
		REFERENCES professions (code) ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE UNIQUE INDEX profession_aliases_alias_lower_key ON profession_aliases (lower(alias));
CREATE INDEX profession_aliases_profession_idx ON profession_aliases (profession_code);

-- The profession code for WHAT, matched case-insensitively (surrounding
-- blanks ignored) against codes first, then aliases; NULL when unknown.
CREATE FUNCTION profession_lookup(what text) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$
	SELECT code FROM (
		SELECT p.code, 1 AS rank FROM professions p
		 WHERE lower(p.code) = lower(btrim(what))
		UNION ALL
		SELECT a.profession_code, 2 FROM profession_aliases a
		 WHERE lower(a.alias) = lower(btrim(what))
	) AS m ORDER BY rank LIMIT 1
$$;

CREATE TABLE programs (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	code text NOT NULL
		CONSTRAINT programs_code_key UNIQUE
		CONSTRAINT programs_code_shape CHECK (code ~ '^[A-Z][A-Z0-9_]{0,15}$'),
	name text NOT NULL
		CONSTRAINT programs_name_blank CHECK (btrim(name) <> ''),
	credential_title text NOT NULL
		CONSTRAINT programs_credential_title_blank CHECK (btrim(credential_title) <> ''),
	-- NULL: certificates never expire.
	certificate_validity_months int
		CONSTRAINT programs_validity_positive CHECK (certificate_validity_months > 0)
);

-- Which professions may enroll in a program (rule 1, eligibility).
CREATE TABLE program_professions (
	program_id bigint NOT NULL REFERENCES programs (id) ON DELETE CASCADE,
	profession_code text NOT NULL
		REFERENCES professions (code) ON UPDATE CASCADE ON DELETE RESTRICT,
	PRIMARY KEY (program_id, profession_code)
);

CREATE TABLE levels (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	program_id bigint NOT NULL REFERENCES programs (id) ON DELETE RESTRICT,
	code text NOT NULL
		CONSTRAINT levels_code_shape CHECK (code ~ '^[A-Z][A-Z0-9_]{0,15}$'),
	ordinal int NOT NULL
		CONSTRAINT levels_ordinal_positive CHECK (ordinal >= 1),
	title text NOT NULL
		CONSTRAINT levels_title_blank CHECK (btrim(title) <> ''),
	contact_hours numeric(6,2) NOT NULL DEFAULT 0
		CONSTRAINT levels_contact_hours_range CHECK (contact_hours >= 0),
	written_pass_mark numeric NOT NULL
		CONSTRAINT levels_written_pass_mark_range CHECK (written_pass_mark BETWEEN 0 AND 100),
	practical_pass_mark numeric NOT NULL
		CONSTRAINT levels_practical_pass_mark_range CHECK (practical_pass_mark BETWEEN 0 AND 100),
	max_attempts int NOT NULL
		CONSTRAINT levels_max_attempts_range CHECK (max_attempts >= 1),
	retake_wait_days int NOT NULL
		CONSTRAINT levels_retake_wait_days_range CHECK (retake_wait_days >= 0),
	CONSTRAINT levels_program_code_key UNIQUE (program_id, code),
	CONSTRAINT levels_program_ordinal_key UNIQUE (program_id, ordinal),
	-- target of the composite keys that keep prerequisites inside a program
	CONSTRAINT levels_id_program_key UNIQUE (id, program_id)
);

-- Level LEVEL_ID requires REQUIRES_LEVEL_ID certified first (rule 2).  Both
-- levels carry PROGRAM_ID, so a prerequisite cannot cross programs.
CREATE TABLE level_prerequisites (
	program_id bigint NOT NULL,
	level_id bigint NOT NULL,
	requires_level_id bigint NOT NULL,
	PRIMARY KEY (level_id, requires_level_id),
	CONSTRAINT level_prerequisites_level_fkey FOREIGN KEY (level_id, program_id)
		REFERENCES levels (id, program_id) ON DELETE CASCADE,
	CONSTRAINT level_prerequisites_requires_fkey FOREIGN KEY (requires_level_id, program_id)
		REFERENCES levels (id, program_id) ON DELETE RESTRICT,
	CONSTRAINT level_prerequisites_not_self CHECK (level_id <> requires_level_id)
);
CREATE INDEX level_prerequisites_requires_idx ON level_prerequisites (requires_level_id);

-- A prerequisite must not close a cycle (A requires B requires A): such a
-- program could never be completed.
CREATE FUNCTION level_prerequisites_no_cycle() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	IF EXISTS (
		WITH RECURSIVE req(id) AS (
			SELECT NEW.requires_level_id
			UNION
			SELECT p.requires_level_id
			  FROM level_prerequisites p JOIN req ON p.level_id = req.id
		)
		SELECT 1 FROM req WHERE id = NEW.level_id
	) THEN
		RAISE EXCEPTION 'level % requiring level % would close a cycle',
			NEW.level_id, NEW.requires_level_id
			USING ERRCODE = 'check_violation',
			      CONSTRAINT = 'level_prerequisites_no_cycle';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER level_prerequisites_no_cycle
	BEFORE INSERT OR UPDATE ON level_prerequisites
	FOR EACH ROW EXECUTE FUNCTION level_prerequisites_no_cycle();

-- ---------------------------------------------------------------------------
-- Clinicians, sessions, enrollments
-- ---------------------------------------------------------------------------

CREATE TABLE clinicians (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	npi text
		CONSTRAINT clinicians_npi_key UNIQUE
		CONSTRAINT clinicians_npi_shape CHECK (npi ~ '^[0-9]{10}$')
		CONSTRAINT clinicians_npi_check_digit CHECK (npi_valid(npi)),
	email text NOT NULL
		CONSTRAINT clinicians_email_shape CHECK (
			length(email) <= 254
			AND email ~ '^[^@[:space:][:cntrl:]]+@[^@[:space:][:cntrl:]]+\.[^@[:space:][:cntrl:]]+$'),
	given_name text NOT NULL
		CONSTRAINT clinicians_given_name_blank CHECK (btrim(given_name) <> ''),
	family_name text NOT NULL
		CONSTRAINT clinicians_family_name_blank CHECK (btrim(family_name) <> ''),
	profession_code text NOT NULL
		REFERENCES professions (code) ON UPDATE CASCADE ON DELETE RESTRICT,
	license_state text
		CONSTRAINT clinicians_license_state_shape CHECK (license_state ~ '^[A-Z]{2}$'),
	license_number text
		CONSTRAINT clinicians_license_number_blank CHECK (btrim(license_number) <> ''),
	-- Optimistic concurrency: writers UPDATE ... SET version = version + 1
	-- WHERE id = $1 AND version = $2, and report a conflict on 0 rows.
	version int NOT NULL DEFAULT 1
		CONSTRAINT clinicians_version_positive CHECK (version >= 1),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT clinicians_updated_after_created CHECK (updated_at >= created_at)
);
CREATE UNIQUE INDEX clinicians_email_lower_key ON clinicians (lower(email));
CREATE INDEX clinicians_family_name_lower_idx ON clinicians (lower(family_name), lower(given_name));
CREATE INDEX clinicians_profession_idx ON clinicians (profession_code);

CREATE TABLE course_sessions (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	level_id bigint NOT NULL REFERENCES levels (id) ON DELETE RESTRICT,
	starts_on date NOT NULL,
	ends_on date NOT NULL,
	location text
		CONSTRAINT course_sessions_location_blank CHECK (btrim(location) <> ''),
	instructor text
		CONSTRAINT course_sessions_instructor_blank CHECK (btrim(instructor) <> ''),
	created_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT course_sessions_dates CHECK (ends_on >= starts_on),
	-- the natural key a roster import finds its session by
	CONSTRAINT course_sessions_natural_key
		UNIQUE NULLS NOT DISTINCT (level_id, starts_on, ends_on, location),
	CONSTRAINT course_sessions_id_level_key UNIQUE (id, level_id)
);

CREATE TABLE enrollments (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	clinician_id bigint NOT NULL REFERENCES clinicians (id) ON DELETE RESTRICT,
	level_id bigint NOT NULL REFERENCES levels (id) ON DELETE RESTRICT,
	session_id bigint,
	status text NOT NULL DEFAULT 'enrolled'
		CONSTRAINT enrollments_status_values
		CHECK (status IN ('enrolled', 'completed', 'withdrawn')),
	completed_on date,
	enrolled_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	-- the session, when given, teaches the enrolled level
	CONSTRAINT enrollments_session_fkey FOREIGN KEY (session_id, level_id)
		REFERENCES course_sessions (id, level_id) ON DELETE RESTRICT,
	CONSTRAINT enrollments_completed_on
		CHECK ((status = 'completed') = (completed_on IS NOT NULL))
);
-- At most one live (not withdrawn) enrollment per clinician and level.
CREATE UNIQUE INDEX enrollments_live_key ON enrollments (clinician_id, level_id)
	WHERE status <> 'withdrawn';
CREATE INDEX enrollments_clinician_idx ON enrollments (clinician_id, level_id);
CREATE INDEX enrollments_level_idx ON enrollments (level_id);
CREATE INDEX enrollments_session_idx ON enrollments (session_id) WHERE session_id IS NOT NULL;

-- ---------------------------------------------------------------------------
-- Accounts
-- ---------------------------------------------------------------------------

CREATE TABLE users (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	username text NOT NULL
		CONSTRAINT users_username_shape CHECK (username ~ '^[^[:space:][:cntrl:]]{1,128}$'),
	role text NOT NULL
		CONSTRAINT users_role_values CHECK (role IN ('admin', 'grader', 'clinician')),
	clinician_id bigint
		CONSTRAINT users_clinician_key UNIQUE
		REFERENCES clinicians (id) ON DELETE RESTRICT,
	password_hash text NOT NULL
		CONSTRAINT users_password_hash_blank CHECK (password_hash <> ''),
	disabled boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL DEFAULT now(),
	-- a clinician account belongs to exactly one clinician; staff to none
	CONSTRAINT users_clinician_iff_role
		CHECK ((role = 'clinician') = (clinician_id IS NOT NULL))
);
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));

-- Bearer tokens: only SHA-256 (32 bytes) of the token is stored.
CREATE TABLE api_tokens (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	token_hash bytea NOT NULL
		CONSTRAINT api_tokens_token_hash_key UNIQUE
		CONSTRAINT api_tokens_token_hash_length CHECK (octet_length(token_hash) = 32),
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	last_used_at timestamptz,
	revoked_at timestamptz,
	CONSTRAINT api_tokens_expiry CHECK (expires_at > created_at)
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

-- ---------------------------------------------------------------------------
-- Exam results (append-only) and certificates
-- ---------------------------------------------------------------------------

-- One row per graded attempt.  An amendment is a new row with the same
-- clinician, level, kind and attempt whose SUPERSEDES names the row it
-- replaces (the current one); the current result of an attempt is the row
-- no other row supersedes (view exam_results_current).
CREATE TABLE exam_results (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	clinician_id bigint NOT NULL REFERENCES clinicians (id) ON DELETE RESTRICT,
	level_id bigint NOT NULL REFERENCES levels (id) ON DELETE RESTRICT,
	kind text NOT NULL
		CONSTRAINT exam_results_kind_values CHECK (kind IN ('written', 'practical')),
	attempt int NOT NULL
		CONSTRAINT exam_results_attempt_positive CHECK (attempt >= 1),
	score numeric NOT NULL
		CONSTRAINT exam_results_score_range CHECK (score >= 0),
	max_score numeric NOT NULL
		CONSTRAINT exam_results_max_score_positive CHECK (max_score > 0),
	pass_mark numeric NOT NULL
		CONSTRAINT exam_results_pass_mark_range CHECK (pass_mark BETWEEN 0 AND 100),
	passed boolean NOT NULL,
	taken_on date NOT NULL,
	graded_by bigint REFERENCES users (id) ON DELETE RESTRICT,
	graded_at timestamptz NOT NULL DEFAULT now(),
	supersedes bigint
		CONSTRAINT exam_results_supersedes_key UNIQUE,
	amend_reason text,
	CONSTRAINT exam_results_score_le_max CHECK (score <= max_score),
	CONSTRAINT exam_results_passed_consistent
		CHECK (passed = exam_passed(score, max_score, pass_mark)),
	CONSTRAINT exam_results_amend_reason
		CHECK ((supersedes IS NULL AND amend_reason IS NULL)
		    OR (supersedes IS NOT NULL AND amend_reason IS NOT NULL
		        AND btrim(amend_reason) <> '')),
	CONSTRAINT exam_results_identity_key UNIQUE (id, clinician_id, level_id, kind, attempt),
	-- an amendment replaces a row of the very same attempt
	CONSTRAINT exam_results_supersedes_fkey
		FOREIGN KEY (supersedes, clinician_id, level_id, kind, attempt)
		REFERENCES exam_results (id, clinician_id, level_id, kind, attempt)
		ON DELETE RESTRICT
);
-- One original row per attempt number (amendments share it).  This index
-- also makes concurrent attempt numbering race-free: the loser gets 23505.
CREATE UNIQUE INDEX exam_results_attempt_key
	ON exam_results (clinician_id, level_id, kind, attempt)
	WHERE supersedes IS NULL;
CREATE INDEX exam_results_clinician_idx ON exam_results (clinician_id, level_id, kind, attempt);
CREATE INDEX exam_results_level_idx ON exam_results (level_id);
CREATE TRIGGER exam_results_append_only
	BEFORE UPDATE OR DELETE ON exam_results
	FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- The result in force for every attempt: rows no amendment supersedes.
CREATE VIEW exam_results_current AS
	SELECT r.*
	  FROM exam_results r
	 WHERE NOT EXISTS (SELECT 1 FROM exam_results a WHERE a.supersedes = r.id);

CREATE TABLE certificates (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	number text NOT NULL
		CONSTRAINT certificates_number_key UNIQUE
		CONSTRAINT certificates_number_shape CHECK (certificate_number_valid(number)),
	clinician_id bigint NOT NULL REFERENCES clinicians (id) ON DELETE RESTRICT,
	level_id bigint NOT NULL REFERENCES levels (id) ON DELETE RESTRICT,
	issued_on date NOT NULL,
	-- NULL: never expires (program without a validity period)
	expires_on date,
	revoked_at timestamptz,
	revoked_by bigint REFERENCES users (id) ON DELETE RESTRICT,
	revocation_reason text,
	created_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT certificates_expiry CHECK (expires_on > issued_on),
	-- not revoked: all three NULL; revoked: when and why (who may be NULL
	-- for the system)
	CONSTRAINT certificates_revocation CHECK (
		(revoked_at IS NULL AND revoked_by IS NULL AND revocation_reason IS NULL)
		OR (revoked_at IS NOT NULL AND revocation_reason IS NOT NULL
		    AND btrim(revocation_reason) <> ''))
);
-- At most one unrevoked certificate per clinician and level.
CREATE UNIQUE INDEX certificates_unrevoked_key ON certificates (clinician_id, level_id)
	WHERE revoked_at IS NULL;
CREATE INDEX certificates_clinician_idx ON certificates (clinician_id, level_id);

-- ---------------------------------------------------------------------------
-- Audit log (append-only)
-- ---------------------------------------------------------------------------

CREATE TABLE audit_log (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT now(),
	-- NULL: the system or a database shell
	actor_id bigint REFERENCES users (id) ON DELETE RESTRICT,
	actor_name text,
	action text NOT NULL
		CONSTRAINT audit_log_action_blank CHECK (btrim(action) <> ''),
	entity text NOT NULL
		CONSTRAINT audit_log_entity_blank CHECK (btrim(entity) <> ''),
	entity_id text,
	before jsonb,
	after jsonb,
	request_id text
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id, at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, at);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE TRIGGER audit_log_append_only
	BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- ---------------------------------------------------------------------------
-- CSV imports
-- ---------------------------------------------------------------------------

CREATE TABLE imports (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind text NOT NULL
		CONSTRAINT imports_kind_values CHECK (kind IN ('roster', 'results')),
	user_id bigint REFERENCES users (id) ON DELETE RESTRICT,
	filename text,
	started_at timestamptz NOT NULL DEFAULT now(),
	finished_at timestamptz,
	dry_run boolean NOT NULL DEFAULT false,
	partial boolean NOT NULL DEFAULT false,
	status text NOT NULL DEFAULT 'running'
		CONSTRAINT imports_status_values CHECK (status IN ('running', 'succeeded', 'failed')),
	rows_total bigint NOT NULL DEFAULT 0,
	rows_created bigint NOT NULL DEFAULT 0,
	rows_updated bigint NOT NULL DEFAULT 0,
	rows_unchanged bigint NOT NULL DEFAULT 0,
	rows_failed bigint NOT NULL DEFAULT 0,
	CONSTRAINT imports_counts CHECK (rows_total >= 0 AND rows_created >= 0
		AND rows_updated >= 0 AND rows_unchanged >= 0 AND rows_failed >= 0),
	CONSTRAINT imports_finished CHECK (finished_at >= started_at),
	CONSTRAINT imports_finished_iff_done
		CHECK ((status = 'running') = (finished_at IS NULL))
);
CREATE INDEX imports_user_idx ON imports (user_id, started_at);

CREATE TABLE import_errors (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	import_id bigint NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
	line int NOT NULL
		CONSTRAINT import_errors_line_positive CHECK (line >= 1),
	column_name text,
	value text,
	message text NOT NULL
		CONSTRAINT import_errors_message_blank CHECK (btrim(message) <> '')
);
CREATE INDEX import_errors_import_idx ON import_errors (import_id, line);
