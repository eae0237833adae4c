-- Every write a rule governs, as one SQL function (DESIGN.md "One
-- implementation of each rule"), and every piece of a rule defined once.
--
-- The write functions take a set of candidate rows (an array of a composite
-- type, each row carrying the caller's LINE: 1 for the API, the CSV line
-- for an import) and answer one write_verdict per row: the id written, or
-- the refusal's problem code, the field it is about and a sentence.  The
-- API calls them with a set of one, the CSV import with its staging rows,
-- through the same code.  Each locks what it decides on, decides with
-- set-based statements (joins, never a per-row function that queries a
-- table), writes, and writes its audit rows in the same statement.
--
-- Who is writing (the audit row's actor, request id and import id) is set
-- once per transaction by write_context(); a database shell that never
-- calls it writes as "the system".
--
-- Earlier functions of 0003/0004 are redefined here in terms of the same
-- pieces, so no rule is written out twice.

-- ---------------------------------------------------------------------------
-- Schema: revocation categories, certificate lineage, the import of an
-- audit row
-- ---------------------------------------------------------------------------

-- The public category of a revocation (rule 7); revocation_reason stays
-- the staff-only note.
ALTER TABLE certificates
	ADD COLUMN revocation_category text
		CONSTRAINT certificates_revocation_category_values CHECK (
			revocation_category IN ('issued_in_error',
			    'exam_result_amended', 'license_action', 'misconduct',
			    'other')),
	-- the revoked certificate this one was issued in place of (rule 9)
	ADD COLUMN replaces bigint
		CONSTRAINT certificates_replaces_key UNIQUE
		REFERENCES certificates (id) ON DELETE RESTRICT;

UPDATE certificates SET revocation_category = CASE
	WHEN revocation_reason LIKE 'exam result amended%'
	THEN 'exam_result_amended' ELSE 'other' END
 WHERE revoked_at IS NOT NULL;

ALTER TABLE certificates DROP CONSTRAINT certificates_revocation;
ALTER TABLE certificates ADD CONSTRAINT certificates_revocation CHECK (
	(revoked_at IS NULL AND revoked_by IS NULL AND revocation_reason IS NULL
	 AND revocation_category IS NULL)
	OR (revoked_at IS NOT NULL AND revocation_category IS NOT NULL
	    AND revocation_reason IS NOT NULL AND btrim(revocation_reason) <> ''));

-- The import a row was written by.  No foreign key: an import writes an
-- audit row for every record it touches, and a per-row referential check
-- of millions of rows against one imports row costs more than the rows
-- (imports are never deleted, so the id stays meaningful).
ALTER TABLE audit_log ADD COLUMN import_id bigint
	CONSTRAINT audit_log_import_id_positive CHECK (import_id >= 1);

-- ---------------------------------------------------------------------------
-- The pieces of the rules, each defined once
-- ---------------------------------------------------------------------------

-- Rule 8: a date after the database's today.
CREATE FUNCTION date_in_future(d date) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT d > current_date $$;

-- Rule 4: the pass mark in force for a KIND exam of a level whose marks
-- are WRITTEN and PRACTICAL.
CREATE FUNCTION pass_mark_for(kind text, written numeric, practical numeric)
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE kind WHEN 'written' THEN written WHEN 'practical' THEN practical END $$;

-- Rule 5: the first day a retake is allowed after an attempt taken on LAST.
CREATE FUNCTION retake_allowed_on(last date, wait_days int) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT last + wait_days $$;

-- Rule 6: the expiry of a certificate issued on ISSUED of a program whose
-- certificates are valid VALIDITY_MONTHS (NULL: never expires).
CREATE FUNCTION certificate_expiry(issued date, validity_months int)
RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (issued + validity_months * interval '1 month')::date $$;

-- Rule 1: the professions that may enroll in PROGRAM's levels.  A set-
-- returning LANGUAGE sql function, so the planner inlines it into the
-- query that asks (status, enrollment_refusals(): a join, never a call
-- per row).
CREATE FUNCTION eligible_professions(program bigint) RETURNS SETOF text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT pp.profession_code FROM program_professions pp
	 WHERE pp.program_id = program
$$;

-- Rule 1 for one program and profession (an API's single question).
CREATE FUNCTION profession_eligible(program bigint, profession text)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT EXISTS (SELECT 1 FROM eligible_professions(program) e
	                WHERE e = profession)
$$;

-- The level a person means by TEXT: a level code or title, any case,
-- surrounding blanks ignored, optionally after its program's code and a
-- slash ("DN/DN1", "dn/level 1") to tell apart the levels of programs that
-- share a name.  Always one row: ID when exactly one level matches; else
-- CODE unknown_level or ambiguous_level and a sentence.  The API, the CLI
-- (through the API) and the imports all read a level through this.
CREATE FUNCTION level_resolve(what text)
RETURNS TABLE (id bigint, code text, detail text)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT CASE WHEN m.n = 1 THEN m.first END,
	       CASE WHEN m.n = 0 THEN 'unknown_level'
	            WHEN m.n > 1 THEN 'ambiguous_level' END,
	       CASE WHEN m.n = 0
	            THEN format('there is no level ''%s'' (levels: %s)', what,
	                 (SELECT string_agg(l.code || ' ' || l.title, ', '
	                                    ORDER BY l.program_id, l.ordinal)
	                    FROM levels l))
	            WHEN m.n > 1
	            THEN format('''%s'' names %s levels: write one of %s',
	                 what, m.n, m.names) END
	  FROM (SELECT count(*)::int AS n, min(l.id) AS first,
	               string_agg(g.code || '/' || l.code, ', ' ORDER BY g.code) AS names
	          FROM levels l JOIN programs g ON g.id = l.program_id
	         CROSS JOIN (SELECT CASE WHEN strpos(what, '/') > 0
	                            THEN upper(btrim(split_part(what, '/', 1))) END AS program,
	                            btrim(CASE WHEN strpos(what, '/') > 0
	                                  THEN substr(what, strpos(what, '/') + 1)
	                                  ELSE what END) AS name) AS w
	         WHERE (w.program IS NULL OR g.code = w.program)
	           AND (l.code = upper(w.name) OR lower(l.title) = lower(w.name))) AS m
$$;

-- ---------------------------------------------------------------------------
-- Who is writing
-- ---------------------------------------------------------------------------

-- Sets the actor (user id and name), request id and import id that the
-- audit rows of this transaction carry.  Transaction-local.
CREATE FUNCTION write_context(actor bigint, actor_name text, request text,
                              import bigint)
RETURNS void
LANGUAGE sql VOLATILE
AS $$
	SELECT set_config('certrack.actor', coalesce(actor::text, ''), true),
	       set_config('certrack.actor_name', coalesce(actor_name, ''), true),
	       set_config('certrack.request', coalesce(request, ''), true),
	       set_config('certrack.import', coalesce(import::text, ''), true)
$$;

CREATE FUNCTION ctx_actor() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(current_setting('certrack.actor', true), '')::bigint $$;

CREATE FUNCTION ctx_actor_name() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(current_setting('certrack.actor_name', true), '') $$;

CREATE FUNCTION ctx_request() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(current_setting('certrack.request', true), '') $$;

CREATE FUNCTION ctx_import() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(current_setting('certrack.import', true), '')::bigint $$;

-- Nothing reads the audit log by actor id (GET /v1/audit filters by the
-- actor's name), and an import now writes a row per record: one index
-- fewer to keep.
DROP INDEX audit_log_actor_idx;

-- The actor_id of an audit row a write writes: the context's user, but
-- NULL inside an import, whose rows name their user by actor_name and by
-- import_id (imports.user_id): a referential check of the user for each of
-- millions of rows costs more than the rows.
CREATE FUNCTION ctx_audit_actor() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN ctx_import() IS NULL THEN ctx_actor() END $$;

-- An audit row written by SQL is the context's unless it says otherwise:
-- a write names only its action, entity and records.
ALTER TABLE audit_log
	ALTER COLUMN actor_id SET DEFAULT ctx_audit_actor(),
	ALTER COLUMN actor_name SET DEFAULT ctx_actor_name(),
	ALTER COLUMN request_id SET DEFAULT ctx_request(),
	ALTER COLUMN import_id SET DEFAULT ctx_import();

-- What every write function answers for each candidate row: ID of the row
-- written (NULL when refused), or CODE (a problem code), FIELD and DETAIL;
-- NEXT_ALLOWED_ON for retake_too_soon; the certificate the write issued
-- and the one it revoked, if any.
CREATE TYPE write_verdict AS (
	line int,
	id bigint,
	code text,
	field text,
	detail text,
	next_allowed_on date,
	certificate_id bigint,
	revoked_certificate_id bigint
);

-- ---------------------------------------------------------------------------
-- Rules 1 and 2: enrollment
-- ---------------------------------------------------------------------------

-- A candidate enrollment: CLINICIAN_ID (NULL for a person an import is
-- about to create, who holds no certificates) with PROFESSION_CODE (the one
-- the candidate will have) in LEVEL_ID.
CREATE TYPE enroll_candidate AS (
	line int,
	clinician_id bigint,
	profession_code text,
	level_id bigint
);

-- Why each candidate may not enroll: at most one row per line, the first
-- refusal:
--   profession_not_eligible  the profession is not one of the program's
--   prerequisite_missing     a prerequisite level has no unrevoked
--                            certificate (an expired one counts: a
--                            prerequisite is about history, not today)
-- Set-based: a hash or index join per question, whatever the set's size.
CREATE FUNCTION enrollment_refusals(p enroll_candidate[])
RETURNS TABLE (line int, code text, detail text)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT DISTINCT ON (x.line) x.line, x.code, x.detail FROM (
		SELECT c.line, 1 AS rank, 'profession_not_eligible'::text AS code,
		       format('%s (%s) may not enroll in %s: eligible professions are %s',
		              pr.name, pr.code, g.name,
		              coalesce((SELECT string_agg(e, ', ' ORDER BY e)
		                          FROM eligible_professions(g.id) e), 'none')) AS detail
		  FROM unnest(p) c
		  JOIN levels l ON l.id = c.level_id
		  JOIN programs g ON g.id = l.program_id
		  JOIN professions pr ON pr.code = c.profession_code
		 WHERE NOT EXISTS (SELECT 1 FROM eligible_professions(l.program_id) e
		                    WHERE e = c.profession_code)
		UNION ALL
		SELECT c.line, 2, 'prerequisite_missing',
		       format('%s requires %s to be certified first', l.title,
		              string_agg(req.title, ' and ' ORDER BY req.ordinal))
		  FROM unnest(p) c
		  JOIN levels l ON l.id = c.level_id
		  JOIN level_prerequisites lp ON lp.level_id = c.level_id
		  JOIN levels req ON req.id = lp.requires_level_id
		 WHERE NOT EXISTS (SELECT 1 FROM certificates ce
		                    WHERE ce.clinician_id = c.clinician_id
		                      AND ce.level_id = lp.requires_level_id
		                      AND ce.revoked_at IS NULL)
		 GROUP BY c.line, l.title
	) AS x
	ORDER BY x.line, x.rank
$$;

-- 0003's one-candidate forms: nothing calls them any more, and a second
-- way to ask a rule is a second thing to keep true.
DROP FUNCTION enrollment_refusal(bigint, bigint);
DROP FUNCTION enrollment_refusal_for(bigint, text, bigint);

-- ---------------------------------------------------------------------------
-- Rules 3, 5 and 8: exam attempts
-- ---------------------------------------------------------------------------

-- A candidate exam result.  ATTEMPT is the attempt number the client
-- believes it records (NULL: whichever is next).
CREATE TYPE exam_entry AS (
	line int,
	clinician_id bigint,
	level_id bigint,
	kind text,
	score numeric,
	max_score numeric,
	taken_on date,
	attempt int
);

-- Each candidate's history at its level and kind, the one reading of it
-- (rule 5): USED original attempts, NEXT_ATTEMPT (one more than the
-- highest original attempt), the first attempt whose current result
-- passed, and the current date of the latest attempt.  Lines without a
-- history have no row.  Set-based (one join), inlined by the planner.
CREATE FUNCTION exam_histories(p exam_entry[])
RETURNS TABLE (line int, used bigint, next_attempt int, passed_attempt int,
               last_on date)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT c.line,
	       count(*) FILTER (WHERE r.supersedes IS NULL),
	       coalesce(max(r.attempt) FILTER (WHERE r.supersedes IS NULL), 0) + 1,
	       min(r.attempt) FILTER (WHERE a.id IS NULL AND r.passed),
	       (array_agg(r.taken_on ORDER BY r.attempt DESC, r.id DESC)
	            FILTER (WHERE a.id IS NULL))[1]
	  FROM unnest(p) c
	  JOIN exam_results r ON r.clinician_id = c.clinician_id
	   AND r.level_id = c.level_id AND r.kind = c.kind
	  LEFT JOIN exam_results a ON a.supersedes = r.id
	 GROUP BY c.line
$$;

DROP FUNCTION next_attempt(bigint, bigint, text);

-- Why each candidate may not be recorded as a new attempt: at most one row
-- per line, the first refusal:
--   unknown_clinician   there is no such clinician
--   date_in_future      TAKEN_ON is after today
--   not_enrolled        no live (enrolled or completed) enrollment
--   attempt_conflict    ATTEMPT was given and is not the next one
--   exam_before_course  TAKEN_ON is before the enrollment's session starts
--   already_passed      the current result of an earlier attempt passed
--   attempts_exhausted  max_attempts original attempts are recorded
--   retake_too_soon     TAKEN_ON is before retake_allowed_on() of the
--                       previous attempt's (current) date; NEXT_ALLOWED_ON
-- Callers that record lock the live enrollments FOR UPDATE first.
CREATE FUNCTION exam_refusals(p exam_entry[])
RETURNS TABLE (line int, code text, field text, detail text,
               next_allowed_on date, next_attempt int)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	WITH c AS (SELECT * FROM unnest(p)),
	h AS (SELECT * FROM exam_histories(p)),
	j AS (
		SELECT c.*, l.title, l.max_attempts, l.retake_wait_days,
		       e.id AS enrollment_id, s.starts_on,
		       coalesce(h.used, 0) AS used,
		       coalesce(h.next_attempt, 1) AS next_attempt,
		       h.passed_attempt, h.last_on
		  FROM c
		  JOIN levels l ON l.id = c.level_id
		  LEFT JOIN enrollments e ON e.clinician_id = c.clinician_id
		   AND e.level_id = c.level_id AND e.status <> 'withdrawn'
		  LEFT JOIN course_sessions s ON s.id = e.session_id
		  LEFT JOIN h ON h.line = c.line
	)
	SELECT DISTINCT ON (x.line) x.line, x.code, x.field, x.detail,
	       x.next_allowed_on, x.next_attempt
	  FROM (
		SELECT j.line, 0 AS rank, 'unknown_clinician'::text AS code,
		       'clinician_id'::text AS field,
		       format('there is no clinician %s', j.clinician_id) AS detail,
		       NULL::date AS next_allowed_on, j.next_attempt
		  FROM j WHERE NOT EXISTS (SELECT 1 FROM clinicians k
		                            WHERE k.id = j.clinician_id)
		UNION ALL
		SELECT j.line, 1, 'date_in_future',
		       'taken_on',
		       format('the exam cannot be dated %s, after today', j.taken_on),
		       NULL, j.next_attempt
		  FROM j WHERE date_in_future(j.taken_on)
		UNION ALL
		SELECT j.line, 2, 'not_enrolled', 'level',
		       format('clinician %s is not enrolled in %s', j.clinician_id, j.title),
		       NULL, j.next_attempt
		  FROM j WHERE j.enrollment_id IS NULL
		UNION ALL
		SELECT j.line, 3, 'attempt_conflict', 'attempt',
		       CASE WHEN j.attempt < j.next_attempt
		            THEN format('attempt %s is already recorded; the next is %s',
		                        j.attempt, j.next_attempt)
		            ELSE format('attempt %s cannot be recorded yet; the next is %s',
		                        j.attempt, j.next_attempt) END,
		       NULL, j.next_attempt
		  FROM j WHERE j.attempt IS NOT NULL AND j.attempt <> j.next_attempt
		UNION ALL
		SELECT j.line, 4, 'exam_before_course', 'taken_on',
		       format('the exam cannot be dated %s, before its course session starts on %s',
		              j.taken_on, j.starts_on),
		       NULL, j.next_attempt
		  FROM j WHERE j.taken_on < j.starts_on
		UNION ALL
		SELECT j.line, 5, 'already_passed', 'kind',
		       format('the %s exam of %s is already passed (attempt %s)',
		              j.kind, j.title, j.passed_attempt),
		       NULL, j.next_attempt
		  FROM j WHERE j.passed_attempt IS NOT NULL
		UNION ALL
		SELECT j.line, 6, 'attempts_exhausted', 'kind',
		       format('all %s attempts at the %s exam of %s are used',
		              j.max_attempts, j.kind, j.title),
		       NULL, j.next_attempt
		  FROM j WHERE j.used >= j.max_attempts
		UNION ALL
		SELECT j.line, 7, 'retake_too_soon', 'taken_on',
		       format('the next %s attempt at %s is allowed on or after %s',
		              j.kind, j.title,
		              to_char(retake_allowed_on(j.last_on, j.retake_wait_days),
		                      'YYYY-MM-DD')),
		       retake_allowed_on(j.last_on, j.retake_wait_days), j.next_attempt
		  FROM j WHERE j.taken_on < retake_allowed_on(j.last_on, j.retake_wait_days)
	) AS x
	ORDER BY x.line, x.rank
$$;

DROP FUNCTION exam_refusal(bigint, bigint, text, date);

-- ---------------------------------------------------------------------------
-- Rule 6 and 9: certificates due, and issuing them
-- ---------------------------------------------------------------------------

-- Every clinician and level owed a certificate: the enrollment is
-- completed, the current written and practical results each include a
-- pass, and the clinician holds no unrevoked certificate of the level and
-- none revoked for any reason but an amended exam result (a certificate an
-- administrator revoked is never re-issued by the rules: reinstating it is
-- a person's decision).  ISSUED_ON is the day the last of the three
-- requirements was met; EXPIRES_ON is certificate_expiry(); REPLACES the
-- latest revoked certificate of the level, if any (rule 9).
CREATE OR REPLACE VIEW certificates_due AS
	SELECT e.clinician_id, e.level_id, d.issued_on,
	       certificate_expiry(d.issued_on, pg.certificate_validity_months)
	           AS expires_on,
	       (SELECT c.id FROM certificates c
	         WHERE c.clinician_id = e.clinician_id AND c.level_id = e.level_id
	         ORDER BY c.revoked_at DESC, c.id DESC LIMIT 1) AS replaces
	  FROM enrollments e
	  JOIN levels l ON l.id = e.level_id
	  JOIN programs pg ON pg.id = l.program_id
	 CROSS JOIN LATERAL (
		SELECT min(x.taken_on) AS taken_on FROM exam_results_current x
		 WHERE x.clinician_id = e.clinician_id AND x.level_id = e.level_id
		   AND x.kind = 'written' AND x.passed) AS w
	 CROSS JOIN LATERAL (
		SELECT min(x.taken_on) AS taken_on FROM exam_results_current x
		 WHERE x.clinician_id = e.clinician_id AND x.level_id = e.level_id
		   AND x.kind = 'practical' AND x.passed) AS p
	 CROSS JOIN LATERAL (
		SELECT greatest(e.completed_on, w.taken_on, p.taken_on) AS issued_on) AS d
	 WHERE e.status = 'completed'
	   AND w.taken_on IS NOT NULL AND p.taken_on IS NOT NULL
	   AND NOT EXISTS (SELECT 1 FROM certificates c
	                    WHERE c.clinician_id = e.clinician_id
	                      AND c.level_id = e.level_id
	                      AND (c.revoked_at IS NULL
	                           OR c.revocation_category <> 'exam_result_amended'));

-- Issues every certificate due to the (clinician, level) pairs given as two
-- parallel arrays, with an audit row each, in one statement; answers the
-- certificates issued.  A random number that collides with an existing one
-- (certificates_number_key) draws the whole set again.
CREATE FUNCTION certificates_issue_due(p_clinicians bigint[], p_levels bigint[])
RETURNS TABLE (clinician_id bigint, level_id bigint, certificate_id bigint)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	v_constraint text;
	v_c bigint[];
	v_l bigint[];
	v_id bigint[];
BEGIN
	FOR i IN 1..5 LOOP
		BEGIN
			-- only pairs with a passing result can be due: one index
			-- probe each before the view's whole question
			WITH want AS (
				SELECT DISTINCT u.c, u.l FROM unnest(p_clinicians, p_levels) AS u(c, l)
				 WHERE EXISTS (SELECT 1 FROM exam_results r
				                WHERE r.clinician_id = u.c AND r.level_id = u.l
				                  AND r.passed)
			), ins AS (
				INSERT INTO certificates (number, clinician_id, level_id,
				                          issued_on, expires_on, replaces)
				SELECT certificate_number_new(), d.clinician_id, d.level_id,
				       d.issued_on, d.expires_on, d.replaces
				  FROM want JOIN certificates_due d
				    ON d.clinician_id = want.c AND d.level_id = want.l
				RETURNING *
			), aud AS (
				INSERT INTO audit_log (action, entity, entity_id, before, after)
				SELECT 'certificate.issue', 'certificate', ins.id::text, NULL,
				       to_jsonb(ins)
				  FROM ins
			)
			SELECT array_agg(ins.clinician_id), array_agg(ins.level_id),
			       array_agg(ins.id)
			  INTO v_c, v_l, v_id FROM ins;
			RETURN QUERY SELECT * FROM unnest(v_c, v_l, v_id);
			RETURN;
		EXCEPTION WHEN unique_violation THEN
			GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
			IF v_constraint IS DISTINCT FROM 'certificates_number_key' THEN
				RAISE;
			END IF;
		END;
	END LOOP;
	RAISE EXCEPTION 'no free certificate number after 5 draws'
		USING ERRCODE = 'unique_violation',
		      CONSTRAINT = 'certificates_number_key';
END
$$;

DROP FUNCTION certificate_issue_due(bigint, bigint);

-- ---------------------------------------------------------------------------
-- The writes
-- ---------------------------------------------------------------------------

-- Creates a course session of LEVEL.  Refusals: invalid_dates (ends
-- before it starts), date_in_future (starts_on or ends_on after today),
-- duplicate (the same level, dates and location exist: ID names it).
CREATE FUNCTION session_create(p_level bigint, p_starts date, p_ends date,
                               p_location text, p_instructor text)
RETURNS SETOF write_verdict
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	v write_verdict;
BEGIN
	v.line := 1;
	IF p_ends < p_starts THEN
		v.code := 'invalid_dates';
		v.field := 'ends_on';
		v.detail := format('the session cannot end (%s) before it starts (%s)',
		                   p_ends, p_starts);
		RETURN NEXT v;
		RETURN;
	END IF;
	IF date_in_future(p_starts) OR date_in_future(p_ends) THEN
		v.code := 'date_in_future';
		v.field := CASE WHEN date_in_future(p_starts) THEN 'starts_on' ELSE 'ends_on' END;
		v.detail := format('a session cannot be dated after today (%s)',
		                   CASE WHEN date_in_future(p_starts) THEN p_starts ELSE p_ends END);
		RETURN NEXT v;
		RETURN;
	END IF;
	WITH s AS (
		INSERT INTO course_sessions (level_id, starts_on, ends_on, location,
		                             instructor)
		VALUES (p_level, p_starts, p_ends, p_location, p_instructor)
		ON CONFLICT ON CONSTRAINT course_sessions_natural_key DO NOTHING
		RETURNING *
	), a AS (
		INSERT INTO audit_log (action, entity, entity_id, after)
		SELECT 'session.create', 'course_session', s.id::text,
		       to_jsonb(s)
		  FROM s
	)
	SELECT s.id INTO v.id FROM s;
	IF v.id IS NULL THEN
		SELECT s.id INTO v.id FROM course_sessions s
		 WHERE s.level_id = p_level AND s.starts_on = p_starts
		   AND s.ends_on = p_ends AND s.location IS NOT DISTINCT FROM p_location;
		v.code := 'duplicate';
		v.detail := format('a session of %s from %s to %s at that location already exists (session %s)',
		                   (SELECT l.code FROM levels l WHERE l.id = p_level),
		                   p_starts, p_ends, v.id);
	END IF;
	RETURN NEXT v;
END
$$;

-- A candidate completion of ENROLLMENT_ID on COMPLETED_ON.
CREATE TYPE completion_entry AS (
	line int,
	enrollment_id bigint,
	completed_on date
);

-- A candidate enrollment of CLINICIAN_ID in LEVEL_ID, optionally in
-- SESSION_ID; COMPLETED_ON, when set, enrolls a course already completed
-- that day (a roster of a past course), under the same date rules as
-- enrollment_complete().
CREATE TYPE enroll_entry AS (
	line int,
	clinician_id bigint,
	level_id bigint,
	session_id bigint,
	completed_on date
);

-- A course completed on COMPLETED_ON, taught in SESSION_ID (or none).
CREATE TYPE completion_candidate AS (
	line int,
	session_id bigint,
	completed_on date
);

-- Rule 8 for completions: why each candidate may not be a course's
-- completion, the first refusal per line:
--   date_in_future            COMPLETED_ON is after today
--   completed_before_session  COMPLETED_ON is before the session starts
CREATE FUNCTION completion_refusals(p completion_candidate[])
RETURNS TABLE (line int, code text, field text, detail text)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT DISTINCT ON (x.line) x.line, x.code, x.field, x.detail FROM (
		SELECT c.line, 1 AS rank, 'date_in_future'::text AS code,
		       'completed_on'::text AS field,
		       format('the course cannot be completed on %s, after today',
		              c.completed_on) AS detail
		  FROM unnest(p) c WHERE date_in_future(c.completed_on)
		UNION ALL
		SELECT c.line, 2, 'completed_before_session', 'completed_on',
		       format('the course cannot be completed on %s, before its session starts on %s',
		              c.completed_on, s.starts_on)
		  FROM unnest(p) c
		  JOIN course_sessions s ON s.id = c.session_id
		 WHERE c.completed_on < s.starts_on
	) AS x
	ORDER BY x.line, x.rank
$$;

-- Enrolls each candidate (rules 1 and 2), completed when it says so (and
-- then issues the certificates now due).  Refusals, the first per line:
-- unknown_clinician, unknown_session, session_level_mismatch, then
-- enrollment_refusals(), then completion_refusals(), then already_enrolled
-- (a live enrollment exists; DETAIL names it).  Lines must name distinct
-- (clinician, level) pairs.
CREATE FUNCTION enrollment_create(p_rows enroll_entry[])
RETURNS SETOF write_verdict
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	v_refused write_verdict[];
	v_ins write_verdict[];
BEGIN
	SELECT array_agg(ROW(x.line, NULL, x.code, x.field, x.detail, NULL,
	                     NULL, NULL)::write_verdict)
	  INTO v_refused
	  FROM (
		SELECT DISTINCT ON (y.line) y.* FROM (
			SELECT c.line, 1 AS rank, 'unknown_clinician'::text AS code,
			       'clinician_id'::text AS field,
			       format('there is no clinician %s', c.clinician_id) AS detail
			  FROM unnest(p_rows) c
			 WHERE NOT EXISTS (SELECT 1 FROM clinicians k WHERE k.id = c.clinician_id)
			UNION ALL
			SELECT c.line, 2, 'unknown_session', 'session_id',
			       format('there is no session %s', c.session_id)
			  FROM unnest(p_rows) c
			 WHERE c.session_id IS NOT NULL
			   AND NOT EXISTS (SELECT 1 FROM course_sessions s WHERE s.id = c.session_id)
			UNION ALL
			SELECT c.line, 3, 'session_level_mismatch', 'session_id',
			       format('session %s does not teach %s', c.session_id, l.code)
			  FROM unnest(p_rows) c
			  JOIN course_sessions s ON s.id = c.session_id
			  JOIN levels l ON l.id = c.level_id
			 WHERE s.level_id <> c.level_id
			UNION ALL
			SELECT f.line, 4, f.code, CASE f.code WHEN 'profession_not_eligible'
			       THEN 'profession' ELSE 'level' END, f.detail
			  FROM enrollment_refusals(ARRAY(
				SELECT ROW(c.line, c.clinician_id, k.profession_code,
				           c.level_id)::enroll_candidate
				  FROM unnest(p_rows) c JOIN clinicians k ON k.id = c.clinician_id)) f
			UNION ALL
			SELECT f.line, 5, f.code, f.field, f.detail
			  FROM completion_refusals(ARRAY(
				SELECT ROW(c.line, c.session_id, c.completed_on)::completion_candidate
				  FROM unnest(p_rows) c WHERE c.completed_on IS NOT NULL)) f
			UNION ALL
			SELECT c.line, 6, 'already_enrolled', 'level',
			       format('clinician %s already has a live enrollment in %s (enrollment %s, %s)',
			              c.clinician_id, l.code, e.id, e.status)
			  FROM unnest(p_rows) c
			  JOIN enrollments e ON e.clinician_id = c.clinician_id
			   AND e.level_id = c.level_id AND e.status <> 'withdrawn'
			  JOIN levels l ON l.id = c.level_id
		) y ORDER BY y.line, y.rank
	  ) x;

	WITH ok AS (
		SELECT c.* FROM unnest(p_rows) c
		 WHERE NOT EXISTS (SELECT 1 FROM unnest(v_refused) r WHERE r.line = c.line)
	), ins AS (
		INSERT INTO enrollments (clinician_id, level_id, session_id, status,
		                         completed_on)
		SELECT ok.clinician_id, ok.level_id, ok.session_id,
		       CASE WHEN ok.completed_on IS NULL THEN 'enrolled'
		            ELSE 'completed' END, ok.completed_on
		  FROM ok
		ON CONFLICT (clinician_id, level_id) WHERE status <> 'withdrawn'
		DO NOTHING
		RETURNING *
	), aud AS (
		INSERT INTO audit_log (action, entity, entity_id, after)
		SELECT 'enrollment.create', 'enrollment', ins.id::text,
		       to_jsonb(ins)
		  FROM ins
	)
	SELECT array_agg(ROW(ok.line, ins.id,
	       CASE WHEN ins.id IS NULL THEN 'already_enrolled' END,
	       CASE WHEN ins.id IS NULL THEN 'level' END,
	       CASE WHEN ins.id IS NULL
	            THEN format('clinician %s enrolled in that level meanwhile',
	                        ok.clinician_id) END,
	       NULL, NULL, NULL)::write_verdict)
	  INTO v_ins
	  FROM ok LEFT JOIN ins ON ins.clinician_id = ok.clinician_id
	   AND ins.level_id = ok.level_id;

	-- a course enrolled as completed may meet a level's last requirement
	RETURN QUERY
	WITH w AS (
		SELECT v.line, v.id, v.code, v.field, v.detail, c.clinician_id,
		       c.level_id, c.completed_on
		  FROM unnest(v_ins) v JOIN unnest(p_rows) c ON c.line = v.line
	), due AS (
		SELECT * FROM certificates_issue_due(
			ARRAY(SELECT w.clinician_id FROM w
			       WHERE w.id IS NOT NULL AND w.completed_on IS NOT NULL
			       ORDER BY w.line),
			ARRAY(SELECT w.level_id FROM w
			       WHERE w.id IS NOT NULL AND w.completed_on IS NOT NULL
			       ORDER BY w.line))
	)
	SELECT w.line, w.id, w.code, w.field, w.detail, NULL::date,
	       due.certificate_id, NULL::bigint
	  FROM w LEFT JOIN due ON due.clinician_id = w.clinician_id
	   AND due.level_id = w.level_id
	UNION ALL
	SELECT * FROM unnest(v_refused);
END
$$;


-- Marks each enrollment completed (one of rule 6's requirements) and issues
-- the certificates now due.  Refusals, the first per line: not_found,
-- enrollment_withdrawn, already_completed, date_in_future,
-- completed_before_session.
CREATE FUNCTION enrollment_complete(p_rows completion_entry[])
RETURNS SETOF write_verdict
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	v_refused write_verdict[];
	v_done bigint[];
BEGIN
	-- the enrollments, locked: exam results of the same clinician and
	-- level wait for this transaction
	PERFORM 1 FROM enrollments e
	  JOIN unnest(p_rows) c ON c.enrollment_id = e.id
	 ORDER BY e.id FOR UPDATE OF e;

	SELECT array_agg(ROW(x.line, NULL, x.code, x.field, x.detail, NULL,
	                     NULL, NULL)::write_verdict)
	  INTO v_refused
	  FROM (
		SELECT DISTINCT ON (y.line) y.* FROM (
			SELECT c.line, 1 AS rank, 'not_found'::text AS code,
			       NULL::text AS field,
			       format('there is no enrollment %s', c.enrollment_id) AS detail
			  FROM unnest(p_rows) c
			 WHERE NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.id = c.enrollment_id)
			UNION ALL
			SELECT c.line, 2, CASE e.status WHEN 'withdrawn'
			       THEN 'enrollment_withdrawn' ELSE 'already_completed' END,
			       NULL,
			       CASE e.status WHEN 'withdrawn'
			       THEN format('enrollment %s was withdrawn: it cannot be completed', e.id)
			       ELSE format('enrollment %s is already completed', e.id) END
			  FROM unnest(p_rows) c JOIN enrollments e ON e.id = c.enrollment_id
			 WHERE e.status <> 'enrolled'
			UNION ALL
			SELECT f.line, 3, f.code, f.field, f.detail
			  FROM completion_refusals(ARRAY(
				SELECT ROW(c.line, e.session_id, c.completed_on)::completion_candidate
				  FROM unnest(p_rows) c
				  JOIN enrollments e ON e.id = c.enrollment_id)) f
		) y ORDER BY y.line, y.rank
	  ) x;

	WITH ok AS (
		SELECT c.* FROM unnest(p_rows) c
		 WHERE NOT EXISTS (SELECT 1 FROM unnest(v_refused) r WHERE r.line = c.line)
	), old AS (
		SELECT e.* FROM enrollments e JOIN ok ON ok.enrollment_id = e.id
	), upd AS (
		UPDATE enrollments e SET status = 'completed',
		       completed_on = ok.completed_on, updated_at = now()
		  FROM ok WHERE e.id = ok.enrollment_id
		RETURNING e.*
	), aud AS (
		INSERT INTO audit_log (action, entity, entity_id, before, after)
		SELECT 'enrollment.complete', 'enrollment', upd.id::text,
		       to_jsonb(old), to_jsonb(upd)
		  FROM upd JOIN old ON old.id = upd.id
	)
	SELECT array_agg(upd.id) INTO v_done FROM upd;

	-- completion may be the last of the three requirements
	RETURN QUERY
	WITH done AS (
		SELECT e.id, e.clinician_id, e.level_id
		  FROM unnest(v_done) d(id) JOIN enrollments e ON e.id = d.id
	), due AS (
		SELECT * FROM certificates_issue_due(
			ARRAY(SELECT done.clinician_id FROM done ORDER BY done.id),
			ARRAY(SELECT done.level_id FROM done ORDER BY done.id))
	)
	SELECT c.line, done.id, NULL::text, NULL::text, NULL::text, NULL::date,
	       due.certificate_id, NULL::bigint
	  FROM unnest(p_rows) c
	  JOIN done ON done.id = c.enrollment_id
	  LEFT JOIN due ON due.clinician_id = done.clinician_id AND due.level_id = done.level_id
	UNION ALL
	SELECT * FROM unnest(v_refused);
END
$$;

-- Withdraws each enrollment.  Refusals: not_found, already_withdrawn,
-- already_completed (a completed course cannot be withdrawn).
CREATE FUNCTION enrollment_withdraw(p_ids bigint[])
RETURNS SETOF write_verdict
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
	PERFORM 1 FROM enrollments e JOIN unnest(p_ids) u(id) ON u.id = e.id
	 ORDER BY e.id FOR UPDATE OF e;
	RETURN QUERY
	WITH c AS (SELECT u.id AS enrollment_id, u.n::int AS line
	             FROM unnest(p_ids) WITH ORDINALITY AS u(id, n)),
	old AS (
		SELECT e.* FROM enrollments e JOIN c ON c.enrollment_id = e.id
		 WHERE e.status = 'enrolled'
	), upd AS (
		UPDATE enrollments e SET status = 'withdrawn', updated_at = now()
		  FROM old WHERE e.id = old.id
		RETURNING e.*
	), aud AS (
		INSERT INTO audit_log (action, entity, entity_id, before, after)
		SELECT 'enrollment.withdraw', 'enrollment', upd.id::text,
		       to_jsonb(old), to_jsonb(upd)
		  FROM upd JOIN old ON old.id = upd.id
	)
	SELECT c.line, upd.id,
	       CASE WHEN e.id IS NULL THEN 'not_found'
	            WHEN e.status = 'withdrawn' THEN 'already_withdrawn'
	            WHEN e.status = 'completed' THEN 'already_completed' END,
	       NULL::text,
	       CASE WHEN e.id IS NULL THEN format('there is no enrollment %s', c.enrollment_id)
	            WHEN e.status = 'withdrawn' THEN format('enrollment %s is already withdrawn', e.id)
	            WHEN e.status = 'completed' THEN format('enrollment %s is completed: it cannot be withdrawn', e.id) END,
	       NULL::date, NULL::bigint, NULL::bigint
	  FROM c LEFT JOIN enrollments e ON e.id = c.enrollment_id
	  LEFT JOIN upd ON upd.id = c.enrollment_id;
END
$$;

-- Records each candidate as a new attempt (rules 3, 4, 5, 8), graded by
-- the context's actor with the level's pass mark in force, and issues the
-- certificates now due (rule 6).  Refusals: exam_refusals().  Lines must
-- name distinct (clinician, level, kind) triples: the results import
-- records a sheet's attempts of one person generation by generation.
CREATE FUNCTION exam_record(p_rows exam_entry[])
RETURNS SETOF write_verdict
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	v_refused write_verdict[];
	v_ins write_verdict[];
BEGIN
	-- concurrent submissions for one clinician and level run one after
	-- another; the checks below, a new statement, see the winner's rows
	PERFORM 1 FROM enrollments e
	  JOIN unnest(p_rows) c ON c.clinician_id = e.clinician_id
	   AND c.level_id = e.level_id
	 WHERE e.status <> 'withdrawn'
	 ORDER BY e.id FOR UPDATE OF e;

	SELECT array_agg(ROW(f.line, NULL, f.code, f.field, f.detail,
	                     f.next_allowed_on, NULL, NULL)::write_verdict)
	  INTO v_refused
	  FROM exam_refusals(p_rows) f;

	WITH ok AS (
		SELECT c.*, l.written_pass_mark, l.practical_pass_mark,
		       coalesce(h.next_attempt, 1) AS next
		  FROM unnest(p_rows) c JOIN levels l ON l.id = c.level_id
		  LEFT JOIN exam_histories(p_rows) h ON h.line = c.line
		 WHERE NOT EXISTS (SELECT 1 FROM unnest(v_refused) r WHERE r.line = c.line)
	), ins AS (
		INSERT INTO exam_results (clinician_id, level_id, kind, attempt,
		                          score, max_score, pass_mark, passed,
		                          taken_on, graded_by)
		SELECT ok.clinician_id, ok.level_id, ok.kind, ok.next, ok.score,
		       ok.max_score, m.mark, exam_passed(ok.score, ok.max_score, m.mark),
		       ok.taken_on, ctx_actor()
		  FROM ok CROSS JOIN LATERAL (SELECT pass_mark_for(ok.kind,
		       ok.written_pass_mark, ok.practical_pass_mark) AS mark) m
		RETURNING *
	), aud AS (
		INSERT INTO audit_log (action, entity, entity_id, after)
		SELECT 'exam_result.record', 'exam_result', ins.id::text,
		       to_jsonb(ins)
		  FROM ins
	)
	SELECT array_agg(ROW(ok.line, ins.id, NULL, NULL, NULL, NULL, NULL,
	                     NULL)::write_verdict)
	  INTO v_ins
	  FROM ok JOIN ins ON ins.clinician_id = ok.clinician_id
	   AND ins.level_id = ok.level_id AND ins.kind = ok.kind;

	-- a result may meet the last requirement of its level
	RETURN QUERY
	WITH w AS (
		SELECT v.line, v.id, r.clinician_id, r.level_id
		  FROM unnest(v_ins) v JOIN exam_results r ON r.id = v.id
	), due AS (
		SELECT * FROM certificates_issue_due(
			ARRAY(SELECT w.clinician_id FROM w ORDER BY w.line),
			ARRAY(SELECT w.level_id FROM w ORDER BY w.line))
	)
	SELECT w.line, w.id, NULL::text, NULL::text, NULL::text, NULL::date,
	       due.certificate_id, NULL::bigint
	  FROM w LEFT JOIN due ON due.clinician_id = w.clinician_id
	   AND due.level_id = w.level_id
	UNION ALL
	SELECT * FROM unnest(v_refused);
END
$$;

-- Amends exam result P_RESULT (rule 9): a new row superseding it, with the
-- same attempt and the pass mark of the original grading, the pass
-- recomputed; a NULL max score or date keeps the old one.  When the
-- amendment breaks a requirement of a certified level, the certificate is
-- revoked ("exam result amended", the reason as the staff note); when it
-- restores every requirement, a new certificate is issued in place of the
-- revoked one.  Refusals: not_found, superseded (DETAIL names the current
-- row), score_above_max, date_in_future, exam_before_course.
CREATE FUNCTION exam_amend(p_result bigint, p_score numeric,
                           p_max_score numeric, p_taken_on date,
                           p_reason text)
RETURNS SETOF write_verdict
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	v write_verdict;
	r exam_results;
	v_cur bigint;
	v_start date;
	v_new exam_results;
BEGIN
	v.line := 1;
	SELECT * INTO r FROM exam_results x WHERE x.id = p_result;
	IF NOT FOUND THEN
		v.code := 'not_found';
		v.detail := format('there is no exam result %s', p_result);
		RETURN NEXT v;
		RETURN;
	END IF;
	-- a withdrawn enrollment leaves nothing to lock; the unique
	-- supersedes key still lets one amendment of a row win
	SELECT s.starts_on INTO v_start
	  FROM enrollments e LEFT JOIN course_sessions s ON s.id = e.session_id
	 WHERE e.clinician_id = r.clinician_id AND e.level_id = r.level_id
	   AND e.status <> 'withdrawn'
	   FOR UPDATE OF e;

	SELECT x.id INTO v_cur FROM exam_results_current x
	 WHERE x.clinician_id = r.clinician_id AND x.level_id = r.level_id
	   AND x.kind = r.kind AND x.attempt = r.attempt;
	IF v_cur <> p_result THEN
		v.code := 'superseded';
		v.detail := format('exam result %s has been amended: amend the current result of that attempt, %s',
		                   p_result, v_cur);
		RETURN NEXT v;
		RETURN;
	END IF;
	IF p_score > coalesce(p_max_score, r.max_score) THEN
		v.code := 'score_above_max';
		v.field := 'score';
		v.detail := format('the score %s is above the maximum %s', p_score,
		                   coalesce(p_max_score, r.max_score));
		RETURN NEXT v;
		RETURN;
	END IF;
	IF date_in_future(p_taken_on) THEN
		v.code := 'date_in_future';
		v.field := 'taken_on';
		v.detail := format('the exam cannot be dated %s, after today', p_taken_on);
		RETURN NEXT v;
		RETURN;
	END IF;
	IF coalesce(p_taken_on, r.taken_on) < v_start THEN
		v.code := 'exam_before_course';
		v.field := 'taken_on';
		v.detail := format('the exam cannot be dated %s, before its course session starts on %s',
		                   coalesce(p_taken_on, r.taken_on), v_start);
		RETURN NEXT v;
		RETURN;
	END IF;

	INSERT INTO exam_results (clinician_id, level_id, kind, attempt, score,
	                          max_score, pass_mark, passed, taken_on,
	                          graded_by, supersedes, amend_reason)
	VALUES (r.clinician_id, r.level_id, r.kind, r.attempt, p_score,
	        coalesce(p_max_score, r.max_score), r.pass_mark,
	        exam_passed(p_score, coalesce(p_max_score, r.max_score), r.pass_mark),
	        coalesce(p_taken_on, r.taken_on), ctx_actor(), r.id, p_reason)
	ON CONFLICT (supersedes) DO NOTHING
	RETURNING * INTO v_new;
	IF v_new.id IS NULL THEN
		v.code := 'superseded';
		v.detail := format('exam result %s was amended meanwhile: amend the current result of that attempt',
		                   p_result);
		RETURN NEXT v;
		RETURN;
	END IF;
	v.id := v_new.id;
	INSERT INTO audit_log (action, entity, entity_id, before, after)
	VALUES ('exam_result.amend', 'exam_result', v_new.id::text, to_jsonb(r), to_jsonb(v_new));

	-- a requirement broken: no current result of this kind passes any more
	IF NOT EXISTS (SELECT 1 FROM exam_results_current x
	                WHERE x.clinician_id = r.clinician_id
	                  AND x.level_id = r.level_id AND x.kind = r.kind
	                  AND x.passed) THEN
		WITH old AS (
			SELECT c.* FROM certificates c
			 WHERE c.clinician_id = r.clinician_id
			   AND c.level_id = r.level_id AND c.revoked_at IS NULL
			   FOR UPDATE
		), upd AS (
			UPDATE certificates c SET revoked_at = now(),
			       revoked_by = ctx_actor(),
			       revocation_category = 'exam_result_amended',
			       revocation_reason = left('exam result amended: ' || p_reason, 500)
			  FROM old WHERE c.id = old.id
			RETURNING c.*
		), aud AS (
			INSERT INTO audit_log (action, entity, entity_id, before, after)
			SELECT 'certificate.revoke', 'certificate', upd.id::text,
			       to_jsonb(old), to_jsonb(upd)
			  FROM upd JOIN old ON old.id = upd.id
		)
		SELECT upd.id INTO v.revoked_certificate_id FROM upd;
	END IF;

	-- every requirement met again (or for the first time)
	SELECT d.certificate_id INTO v.certificate_id
	  FROM certificates_issue_due(ARRAY[r.clinician_id], ARRAY[r.level_id]) d;
	RETURN NEXT v;
END
$$;

-- Revokes certificate P_NUMBER (canonical form) with a public CATEGORY
-- and a staff-only NOTE (rule 7).  Refusals: unknown_certificate,
-- invalid_category, already_revoked.
CREATE FUNCTION certificate_revoke(p_number text, p_category text,
                                   p_note text)
RETURNS SETOF write_verdict
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	v write_verdict;
	old certificates;
	new certificates;
BEGIN
	v.line := 1;
	SELECT * INTO old FROM certificates c WHERE c.number = p_number FOR UPDATE;
	IF NOT FOUND THEN
		v.code := 'unknown_certificate';
		v.field := 'number';
		v.detail := format('there is no certificate ''%s''', p_number);
	ELSIF p_category IS NULL OR p_category NOT IN ('issued_in_error',
	      'exam_result_amended', 'license_action', 'misconduct', 'other') THEN
		v.code := 'invalid_category';
		v.field := 'category';
		v.detail := 'the category must be one of issued_in_error, exam_result_amended, license_action, misconduct, other';
	ELSIF old.revoked_at IS NOT NULL THEN
		v.code := 'already_revoked';
		v.field := 'number';
		v.detail := format('certificate ''%s'' was already revoked on %s (%s)',
		                   p_number, old.revoked_at::date,
		                   replace(old.revocation_category, '_', ' '));
	ELSE
		UPDATE certificates SET revoked_at = now(), revoked_by = ctx_actor(),
		       revocation_category = p_category,
		       revocation_reason = btrim(p_note)
		 WHERE id = old.id RETURNING * INTO new;
		INSERT INTO audit_log (action, entity, entity_id, before, after)
		VALUES ('certificate.revoke', 'certificate', new.id::text,
		        to_jsonb(old), to_jsonb(new));
		v.id := new.id;
	END IF;
	RETURN NEXT v;
END
$$;

-- ---------------------------------------------------------------------------
-- Status, through the same pieces
-- ---------------------------------------------------------------------------

-- clinician_status() of 0004, with eligibility, the pass mark in force and
-- the next retake date from the pieces above, and a revoked certificate's
-- public category (never the staff note) and the number it replaced.
CREATE OR REPLACE FUNCTION clinician_status(p_clinician bigint, p_today date)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
RETURN (
SELECT jsonb_build_object(
	'as_of', p_today,
	'clinician', jsonb_build_object(
		'id', c.id,
		'given_name', c.given_name,
		'family_name', c.family_name,
		'email', c.email,
		'npi', c.npi,
		'profession', jsonb_build_object('code', pr.code, 'name', pr.name),
		'license', jsonb_build_object('state', c.license_state,
		                              'number', c.license_number)),
	'programs', coalesce((
		SELECT jsonb_agg(jsonb_build_object(
			'code', g.code,
			'name', g.name,
			'credential_title', g.credential_title,
			'certificate_validity_months', g.certificate_validity_months,
			'eligible', EXISTS (SELECT 1 FROM eligible_professions(g.id) e
			                   WHERE e = c.profession_code),
			'eligible_professions', coalesce(el.codes, '[]'::jsonb),
			'credential_held', coalesce(lv.held, false),
			'levels', coalesce(lv.levels, '[]'::jsonb)) ORDER BY g.code)
		  FROM programs g
		 CROSS JOIN LATERAL (
			SELECT jsonb_agg(e ORDER BY e) AS codes
			  FROM eligible_professions(g.id) e) AS el
		 CROSS JOIN LATERAL (
			-- the credential is held while every level has a valid
			-- certificate (and the program has levels at all)
			SELECT jsonb_agg(x.j ORDER BY x.ordinal) AS levels,
			       bool_and(coalesce(x.cert->>'status' = 'valid', false)) AS held
			  FROM (
				SELECT l.ordinal, cert.j AS cert, jsonb_build_object(
					'id', l.id,
					'code', l.code,
					'ordinal', l.ordinal,
					'title', l.title,
					'prerequisites', coalesce((
						SELECT jsonb_agg(rl.code ORDER BY rl.ordinal)
						  FROM level_prerequisites lp
						  JOIN levels rl ON rl.id = lp.requires_level_id
						 WHERE lp.level_id = l.id), '[]'::jsonb),
					-- the live enrollment, else the latest withdrawn one
					'enrollment', (
						SELECT jsonb_build_object(
							'id', e.id,
							'status', e.status,
							'enrolled_at', e.enrolled_at,
							'completed_on', e.completed_on,
							'session', (
								SELECT jsonb_build_object(
									'id', s.id,
									'starts_on', s.starts_on,
									'ends_on', s.ends_on,
									'location', s.location)
								  FROM course_sessions s
								 WHERE s.id = e.session_id))
						  FROM enrollments e
						 WHERE e.clinician_id = c.id AND e.level_id = l.id
						 ORDER BY e.status = 'withdrawn', e.enrolled_at DESC, e.id DESC
						 LIMIT 1),
					'exams', (
						SELECT jsonb_object_agg(k.kind, jsonb_build_object(
							'pass_mark', k.pass_mark,
							'max_attempts', l.max_attempts,
							'attempts_used', a.used,
							'attempts_left', greatest(l.max_attempts - a.used, 0),
							'passed', a.passed,
							'next_allowed_on', CASE
								WHEN NOT a.passed AND a.used > 0
								     AND a.used < l.max_attempts
								THEN retake_allowed_on(a.last_on, l.retake_wait_days) END,
							'attempts', a.list))
						  FROM (SELECT v.kind, pass_mark_for(v.kind,
						               l.written_pass_mark, l.practical_pass_mark)
						               AS pass_mark
						          FROM (VALUES ('written'), ('practical')) AS v(kind)) AS k
						 CROSS JOIN LATERAL (
							SELECT count(*)::int AS used,
							       coalesce(bool_or(r.passed), false) AS passed,
							       -- the last attempt's date, as exam_refusals()
							       -- reads it
							       (array_agg(r.taken_on ORDER BY r.attempt DESC))[1] AS last_on,
							       coalesce(jsonb_agg(jsonb_build_object(
									'attempt', r.attempt,
									'score', r.score,
									'max_score', r.max_score,
									'percent', round(r.score * 100 / r.max_score, 2),
									'pass_mark', r.pass_mark,
									'passed', r.passed,
									'taken_on', r.taken_on,
									'amended', r.supersedes IS NOT NULL)
									ORDER BY r.attempt), '[]'::jsonb) AS list
							  FROM exam_results_current r
							 WHERE r.clinician_id = c.id AND r.level_id = l.id
							   AND r.kind = k.kind) AS a),
					'certificate', cert.j) AS j
				  FROM levels l
				  -- the unrevoked certificate, else the latest revoked one
				  LEFT JOIN LATERAL (
					SELECT jsonb_build_object(
						'number', ce.number,
						'issued_on', ce.issued_on,
						'expires_on', ce.expires_on,
						'status', certificate_status_on(ce.revoked_at, ce.expires_on, p_today),
						'revoked_on', ce.revoked_at::date,
						'revocation_category', ce.revocation_category,
						'replaces', (SELECT o.number FROM certificates o
						              WHERE o.id = ce.replaces)) AS j
					  FROM certificates ce
					 WHERE ce.clinician_id = c.id AND ce.level_id = l.id
					 ORDER BY ce.revoked_at IS NOT NULL, ce.issued_on DESC, ce.id DESC
					 LIMIT 1) AS cert ON true
				 WHERE l.program_id = g.id) AS x) AS lv
	), '[]'::jsonb))
  FROM clinicians c
  JOIN professions pr ON pr.code = c.profession_code
 WHERE c.id = p_clinician);
END
$$;

-- ---------------------------------------------------------------------------
-- The CSV imports, through the same writes
-- ---------------------------------------------------------------------------

-- The roster's checks that need the database, set-based.  Marks err_* on
-- bad rows.  Levels and professions are read by level_resolve() and
-- profession_lookup(), once per distinct text in the file.
CREATE OR REPLACE FUNCTION import_roster_check() RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
	ANALYZE import_rows;

	-- rule 8: no course dated after today
	UPDATE import_rows SET
		err_column = CASE WHEN date_in_future(course_start)
		             THEN 'course_start' ELSE 'course_end' END,
		err_value = CASE WHEN date_in_future(course_start)
		            THEN course_start ELSE course_end END::text,
		err_message = format('a course cannot be dated after today (%s)',
		              CASE WHEN date_in_future(course_start)
		              THEN course_start ELSE course_end END)
		WHERE err_message IS NULL
		  AND (date_in_future(course_start) OR date_in_future(course_end));

	-- professions: a code or an alias, any case
	UPDATE import_rows r SET profession_code = p.code
		FROM (SELECT t.profession, profession_lookup(t.profession) AS code
		        FROM (SELECT DISTINCT profession FROM import_rows
		               WHERE err_message IS NULL) t) p
		WHERE r.err_message IS NULL AND r.profession = p.profession;

	UPDATE import_rows SET err_column = 'profession', err_value = profession,
		err_message = format('unknown profession ''%s'' (known: %s)',
		profession, (SELECT string_agg(code, ', ' ORDER BY code)
		FROM professions))
		WHERE err_message IS NULL AND profession_code IS NULL;

	-- levels: by code or title, any case; a name two programs share is
	-- refused as the API refuses it
	UPDATE import_rows r SET level_id = v.id,
		err_column = CASE WHEN v.id IS NULL THEN 'level' END,
		err_value = CASE WHEN v.id IS NULL THEN r.level END,
		err_message = v.detail
		FROM (SELECT t.level, lr.id, lr.detail
		        FROM (SELECT DISTINCT level FROM import_rows
		               WHERE err_message IS NULL) t
		       CROSS JOIN LATERAL level_resolve(t.level) lr) v
		WHERE r.err_message IS NULL AND r.level = v.level;

	-- the same person twice for one level
	UPDATE import_rows r SET err_column = 'email', err_value = r.email,
		err_message = format('the same person and level as line %s', d.first)
		FROM (SELECT line, min(line) OVER (PARTITION BY lower(email), level_id)
		AS first FROM import_rows WHERE err_message IS NULL) d
		WHERE r.line = d.line AND d.first < d.line;

	UPDATE import_rows r SET err_column = 'npi', err_value = r.npi,
		err_message = format('the same NPI and level as line %s', d.first)
		FROM (SELECT line, min(line) OVER (PARTITION BY npi, level_id)
		AS first FROM import_rows
		WHERE err_message IS NULL AND npi IS NOT NULL) d
		WHERE r.line = d.line AND d.first < d.line;

	-- one person in the file: the same NPI must come with one email
	UPDATE import_rows r SET err_column = 'email', err_value = r.email,
		err_message = format('NPI %s has another email on line %s', r.npi,
		o.line)
		FROM import_rows o WHERE r.err_message IS NULL AND r.npi = o.npi
		AND lower(r.email) <> lower(o.email) AND o.line < r.line;

	-- match clinicians: by NPI, else by email; the two must agree
	UPDATE import_rows r SET clinician_id = coalesce(
		(SELECT c.id FROM clinicians c WHERE c.npi = r.npi),
		(SELECT c.id FROM clinicians c WHERE lower(c.email) = lower(r.email)))
		WHERE r.err_message IS NULL;

	UPDATE import_rows r SET err_column = 'email', err_value = r.email,
		err_message = format('the email belongs to clinician %s, the NPI to
	clinician %s', e.id, r.clinician_id)
		FROM clinicians e WHERE r.err_message IS NULL
		AND lower(e.email) = lower(r.email) AND e.id <> r.clinician_id;

	UPDATE import_rows r SET err_column = 'npi', err_value = r.npi,
		err_message = format('clinician %s (%s) has NPI %s already', c.id,
		c.email, c.npi)
		FROM clinicians c WHERE r.err_message IS NULL AND c.id = r.clinician_id
		AND r.npi IS NOT NULL AND c.npi IS NOT NULL AND c.npi <> r.npi;

	-- rules 1 and 2, before anything of the row is written, with the
	-- profession the file gives (a new clinician holds no certificates);
	-- an existing live enrollment is not enrolled again
	ANALYZE import_rows;
	UPDATE import_rows r SET err_column = CASE WHEN f.code =
		'profession_not_eligible' THEN 'profession' ELSE 'level' END,
		err_value = CASE WHEN f.code = 'profession_not_eligible'
		THEN r.profession ELSE r.level END, err_message = f.detail
		FROM enrollment_refusals(ARRAY(
			SELECT ROW(x.line, x.clinician_id, x.profession_code,
			           x.level_id)::enroll_candidate
			  FROM import_rows x
			 WHERE x.err_message IS NULL
			   AND NOT EXISTS (SELECT 1 FROM enrollments e
			                    WHERE e.clinician_id = x.clinician_id
			                      AND e.level_id = x.level_id
			                      AND e.status <> 'withdrawn'))) f
		WHERE r.line = f.line;
END
$$;

-- The roster's merge of the rows without errors: sessions and clinicians
-- created or updated, then enrollments and completions through
-- enrollment_create() and enrollment_complete() (which issue the
-- certificates now due); an audit row for everything written, carrying
-- the import's id.  Sets outcome created/updated/unchanged, or err_* for a
-- row a write refused.
CREATE OR REPLACE FUNCTION import_roster_merge() RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
	-- course sessions, created or reused
	WITH s AS (
		INSERT INTO course_sessions (level_id, starts_on, ends_on, location,
			instructor)
		SELECT DISTINCT ON (level_id, coalesce(course_start, course_end),
			coalesce(course_end, course_start), location)
			level_id, coalesce(course_start, course_end),
			coalesce(course_end, course_start), location, instructor
		  FROM import_rows
		 WHERE err_message IS NULL AND coalesce(course_start, course_end)
		       IS NOT NULL
		   AND NOT EXISTS (SELECT 1 FROM course_sessions s
		                    WHERE s.level_id = import_rows.level_id
		                      AND s.starts_on = coalesce(course_start, course_end)
		                      AND s.ends_on = coalesce(course_end, course_start)
		                      AND s.location IS NOT DISTINCT FROM import_rows.location)
		 ORDER BY level_id, coalesce(course_start, course_end),
		       coalesce(course_end, course_start), location, line
		ON CONFLICT ON CONSTRAINT course_sessions_natural_key DO NOTHING
		RETURNING *
	)
	INSERT INTO audit_log (action, entity, entity_id, after)
	SELECT 'session.create', 'course_session', s.id::text, to_jsonb(s)
	  FROM s;

	UPDATE import_rows r SET session_id = s.id FROM course_sessions s
		WHERE r.err_message IS NULL AND s.level_id = r.level_id
		AND s.starts_on = coalesce(r.course_start, r.course_end)
		AND s.ends_on = coalesce(r.course_end, r.course_start)
		AND s.location IS NOT DISTINCT FROM r.location;

	-- new clinicians (a person on two lines is created once)
	WITH n AS (
		SELECT DISTINCT ON (lower(email)) * FROM import_rows
		WHERE err_message IS NULL AND clinician_id IS NULL
		ORDER BY lower(email), line
	), c AS (
		INSERT INTO clinicians (npi, email, given_name, family_name,
		profession_code, license_state, license_number)
		SELECT npi, email, given_name, family_name, profession_code,
		license_state, license_number FROM n
		RETURNING *
	), a AS (
		INSERT INTO audit_log (action, entity, entity_id, after)
		SELECT 'clinician.create', 'clinician', c.id::text, to_jsonb(c)
		  FROM c
	) UPDATE import_rows r SET clinician_id = c.id, outcome = 'created'
		FROM c WHERE r.err_message IS NULL AND r.clinician_id IS NULL
		AND lower(r.email) = lower(c.email);

	-- existing clinicians whose details changed
	WITH r AS (
		SELECT DISTINCT ON (clinician_id) * FROM import_rows
		WHERE err_message IS NULL AND outcome IS NULL
		ORDER BY clinician_id, line
	), old AS (
		SELECT c.* FROM clinicians c JOIN r ON c.id = r.clinician_id
		 WHERE c.npi IS DISTINCT FROM coalesce(r.npi, c.npi)
		    OR c.email <> r.email OR c.given_name <> r.given_name
		    OR c.family_name <> r.family_name
		    OR c.profession_code <> r.profession_code
		    OR c.license_state IS DISTINCT FROM
		       coalesce(r.license_state, c.license_state)
		    OR c.license_number IS DISTINCT FROM
		       coalesce(r.license_number, c.license_number)
	), u AS (
		UPDATE clinicians c SET npi = coalesce(r.npi, c.npi),
		email = r.email, given_name = r.given_name,
		family_name = r.family_name, profession_code = r.profession_code,
		license_state = coalesce(r.license_state, c.license_state),
		license_number = coalesce(r.license_number, c.license_number),
		version = c.version + 1, updated_at = now()
		FROM r JOIN old ON old.id = r.clinician_id
		WHERE c.id = r.clinician_id
		RETURNING c.*
	), a AS (
		INSERT INTO audit_log (action, entity, entity_id, before, after)
		SELECT 'clinician.update', 'clinician', u.id::text,
		       to_jsonb(old), to_jsonb(u)
		  FROM u JOIN old ON old.id = u.id
	) UPDATE import_rows r SET outcome = 'updated' FROM u
		WHERE r.clinician_id = u.id AND r.err_message IS NULL
		AND r.outcome IS NULL;

	-- live enrollments that exist already ...
	UPDATE import_rows r SET enrollment_id = e.id FROM enrollments e
		WHERE r.err_message IS NULL AND e.clinician_id = r.clinician_id
		AND e.level_id = r.level_id AND e.status <> 'withdrawn';

	-- ... given the session they lacked
	WITH old AS (
		SELECT e.* FROM enrollments e JOIN import_rows r
		    ON r.enrollment_id = e.id
		 WHERE r.err_message IS NULL AND e.session_id IS NULL
		   AND r.session_id IS NOT NULL
	), u AS (
		UPDATE enrollments e SET session_id = r.session_id,
		       updated_at = now()
		  FROM import_rows r JOIN old ON old.id = r.enrollment_id
		 WHERE e.id = r.enrollment_id
		RETURNING e.*
	), a AS (
		INSERT INTO audit_log (action, entity, entity_id, before, after)
		SELECT 'enrollment.update', 'enrollment', u.id::text,
		       to_jsonb(old), to_jsonb(u)
		  FROM u JOIN old ON old.id = u.id
	) UPDATE import_rows r SET outcome = coalesce(r.outcome, 'updated')
		FROM u WHERE r.enrollment_id = u.id;

	-- new enrollments (completed, for a row that says so), as the API
	-- makes them; rows refused here are marked, so the completions below
	-- skip them
	UPDATE import_rows r SET enrollment_id = v.id,
		outcome = CASE WHEN v.code IS NULL
		          THEN coalesce(r.outcome, 'created') END,
		err_column = CASE WHEN v.code IS NOT NULL THEN
		             coalesce(v.field, 'level') END,
		err_value = CASE v.field WHEN 'profession' THEN r.profession
		            WHEN 'level' THEN r.level END,
		err_message = v.detail
		FROM enrollment_create(ARRAY(
			SELECT ROW(x.line, x.clinician_id, x.level_id, x.session_id,
			           CASE WHEN x.completed
			           THEN coalesce(x.course_end, x.course_start) END)::enroll_entry
			  FROM import_rows x
			 WHERE x.err_message IS NULL AND x.enrollment_id IS NULL)) v
		WHERE r.line = v.line;

	-- completions of enrollments that existed already, as the API records
	-- them (issuing what is now due)
	UPDATE import_rows r SET
		outcome = CASE WHEN v.code IS NULL
		          THEN coalesce(nullif(r.outcome, 'unchanged'), 'updated') END,
		err_column = CASE WHEN v.code IS NOT NULL THEN 'completed' END,
		err_value = CASE WHEN v.code IS NOT NULL THEN 'yes' END,
		err_message = v.detail
		FROM enrollment_complete(ARRAY(
			SELECT ROW(x.line, x.enrollment_id,
			           coalesce(x.course_end, x.course_start))::completion_entry
			  FROM import_rows x JOIN enrollments e ON e.id = x.enrollment_id
			 WHERE x.err_message IS NULL AND x.completed
			   AND e.status = 'enrolled')) v
		WHERE r.line = v.line;

	UPDATE import_rows SET outcome = 'unchanged'
		WHERE err_message IS NULL AND outcome IS NULL;
END
$$;

-- The results sheet's checks that need the database, set-based; then the
-- order (generation) in which each person's new attempts are recorded.
CREATE OR REPLACE FUNCTION import_results_check() RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
	ANALYZE import_rows;

	UPDATE import_rows r SET level_id = v.id,
		err_column = CASE WHEN v.id IS NULL THEN 'level' END,
		err_value = CASE WHEN v.id IS NULL THEN r.level END,
		err_message = v.detail
		FROM (SELECT t.level, lr.id, lr.detail
		        FROM (SELECT DISTINCT level FROM import_rows
		               WHERE err_message IS NULL) t
		       CROSS JOIN LATERAL level_resolve(t.level) lr) v
		WHERE r.err_message IS NULL AND r.level = v.level;

	UPDATE import_rows r SET clinician_id = c.id
		FROM clinicians c
		WHERE r.err_message IS NULL AND r.npi IS NOT NULL AND c.npi = r.npi;
	UPDATE import_rows r SET clinician_id = c.id
		FROM clinicians c
		WHERE r.err_message IS NULL AND r.npi IS NULL
		  AND lower(c.email) = lower(r.email);

	UPDATE import_rows SET
		err_column = CASE WHEN npi IS NOT NULL THEN 'npi' ELSE 'email' END,
		err_value = coalesce(npi, email),
		err_message = CASE WHEN npi IS NOT NULL
		THEN format('there is no clinician with NPI %s', npi)
		ELSE format('there is no clinician with email ''%s''', email) END
		WHERE err_message IS NULL AND clinician_id IS NULL;

	ANALYZE import_rows;

	-- one exam on one day, once per file
	UPDATE import_rows r SET err_column = 'taken_on',
		err_value = r.taken_on::text,
		err_message = format('the same exam and date as line %s', d.first)
		FROM (SELECT line, min(line) OVER (PARTITION BY clinician_id, level_id,
		kind, taken_on) AS first FROM import_rows
		WHERE err_message IS NULL) d
		WHERE r.line = d.line AND d.first < d.line;

	-- already recorded: the same result is nothing new, another score for
	-- the same sitting is a conflict to settle by amending
	UPDATE import_rows r SET outcome = 'unchanged'
		FROM exam_results_current x
		WHERE r.err_message IS NULL AND x.clinician_id = r.clinician_id
		AND x.level_id = r.level_id AND x.kind = r.kind
		AND x.taken_on = r.taken_on AND x.score = r.score
		AND x.max_score = r.max_score;

	UPDATE import_rows r SET err_column = 'score', err_value = r.score::text,
		err_message = format('attempt %s on %s is recorded with %s of %s;
	amend it rather than import another score', x.attempt, x.taken_on,
		x.score, x.max_score)
		FROM exam_results_current x
		WHERE r.err_message IS NULL AND r.outcome IS NULL
		AND x.clinician_id = r.clinician_id AND x.level_id = r.level_id
		AND x.kind = r.kind AND x.taken_on = r.taken_on;

	-- the order in which new attempts are recorded
	UPDATE import_rows r SET generation = g.n
		FROM (SELECT line, row_number() OVER (PARTITION BY clinician_id,
		level_id, kind ORDER BY taken_on, line) AS n FROM import_rows
		WHERE err_message IS NULL AND outcome IS NULL) g
		WHERE r.line = g.line;
END
$$;

-- The results sheet's merge: exam_record() generation by generation, so a
-- sheet's second attempt of one person meets the rules (attempts, retake
-- wait) with its first already recorded; the certificates now due are
-- issued by exam_record() itself.  P_GRADER grades the results when no
-- write_context() was set (a psql session).
CREATE OR REPLACE FUNCTION import_results_merge(p_grader bigint) RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
	last int;
BEGIN
	IF ctx_actor() IS NULL THEN
		PERFORM write_context(p_grader,
		    (SELECT u.username FROM users u WHERE u.id = p_grader),
		    ctx_request(), ctx_import());
	END IF;
	SELECT coalesce(max(generation), 0) INTO last
	  FROM import_rows WHERE err_message IS NULL;
	FOR g IN 1..last LOOP
		UPDATE import_rows r SET
			outcome = CASE WHEN v.code IS NULL THEN 'created' END,
			err_column = v.field,
			err_value = CASE v.field WHEN 'taken_on' THEN r.taken_on::text
			            WHEN 'level' THEN r.level WHEN 'kind' THEN r.kind
			            WHEN 'clinician_id' THEN coalesce(r.npi, r.email) END,
			err_message = v.detail
			FROM exam_record(ARRAY(
				SELECT ROW(x.line, x.clinician_id, x.level_id, x.kind,
				           x.score, x.max_score, x.taken_on, NULL)::exam_entry
				  FROM import_rows x
				 WHERE x.generation = g AND x.err_message IS NULL)) v
			WHERE r.line = v.line;
	END LOOP;
END
$$;
