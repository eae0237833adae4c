-- Keeping a credential, the rest of issue 13: renewal by re-sitting the
-- written exam (a renewal policy's third method), and the CSV import of
-- continuing-education (CE) activities (POST /v1/imports?kind=ce).
--
-- The rule of when a certificate may be renewed keeps its one home,
-- renewal_progress(): redefined here to know the written-exam method, so
-- status, the refusals of certificate_renew(), the automatic renewal after
-- CE, and now the renewal exam all read it.  The CE import checks and
-- merges its staging table with ce_record(), the API's own write.

-- ---------------------------------------------------------------------------
-- Policy: renew by the written exam
-- ---------------------------------------------------------------------------

-- method written_exam: re-sit the level's written exam inside the renewal
-- window, passing at EXAM_PASS_MARK percent, in at most EXAM_MAX_ATTEMPTS
-- attempts per certificate.
ALTER TABLE renewal_policies
	ADD COLUMN exam_pass_mark numeric(5, 2)
		CONSTRAINT renewal_policies_exam_pass_mark
		CHECK (exam_pass_mark > 0 AND exam_pass_mark <= 100),
	ADD COLUMN exam_max_attempts int
		CONSTRAINT renewal_policies_exam_attempts
		CHECK (exam_max_attempts BETWEEN 1 AND 20),
	DROP CONSTRAINT renewal_policies_method,
	ADD CONSTRAINT renewal_policies_method
		CHECK (method IN ('ce_hours', 'written_exam', 'none')),
	DROP CONSTRAINT renewal_policies_method_fields,
	ADD CONSTRAINT renewal_policies_method_fields CHECK (
		(method = 'ce_hours' AND ce_hours IS NOT NULL
		 AND (ce_category IS NULL) = (ce_category_hours IS NULL)
		 AND exam_pass_mark IS NULL AND exam_max_attempts IS NULL)
		OR (method = 'written_exam' AND exam_pass_mark IS NOT NULL
		    AND exam_max_attempts IS NOT NULL AND ce_hours IS NULL
		    AND ce_category IS NULL AND ce_category_hours IS NULL)
		OR (method = 'none' AND ce_hours IS NULL AND ce_category IS NULL
		    AND ce_category_hours IS NULL AND exam_pass_mark IS NULL
		    AND exam_max_attempts IS NULL));

CREATE OR REPLACE VIEW level_renewal_policy AS
	SELECT l.id AS level_id,
	       coalesce(lp.method, pp.method, 'none') AS method,
	       CASE WHEN lp.id IS NOT NULL THEN lp.ce_hours ELSE pp.ce_hours END AS ce_hours,
	       CASE WHEN lp.id IS NOT NULL THEN lp.ce_category ELSE pp.ce_category END AS ce_category,
	       CASE WHEN lp.id IS NOT NULL THEN lp.ce_category_hours ELSE pp.ce_category_hours END AS ce_category_hours,
	       coalesce(lp.window_before_days, pp.window_before_days, 90) AS window_before_days,
	       coalesce(lp.window_after_days, pp.window_after_days, 365) AS window_after_days,
	       CASE WHEN lp.id IS NOT NULL THEN 'level' WHEN pp.id IS NOT NULL THEN 'program' END AS set_on,
	       CASE WHEN lp.id IS NOT NULL THEN lp.exam_pass_mark ELSE pp.exam_pass_mark END AS exam_pass_mark,
	       CASE WHEN lp.id IS NOT NULL THEN lp.exam_max_attempts ELSE pp.exam_max_attempts END AS exam_max_attempts
	  FROM levels l
	  LEFT JOIN renewal_policies lp ON lp.level_id = l.id
	  LEFT JOIN renewal_policies pp ON pp.program_id = l.program_id;

-- renewal_policy_set() of 0011 with the exam's pass mark and attempts.
DROP FUNCTION renewal_policy_set(bigint, bigint, text, numeric, text,
    numeric, int, int);

CREATE FUNCTION renewal_policy_set(p_program bigint, p_level bigint,
    p_method text, p_ce_hours numeric, p_category text,
    p_category_hours numeric, p_before int, p_after int,
    p_exam_pass_mark numeric, p_exam_max_attempts int)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	old renewal_policies;
	new renewal_policies;
BEGIN
	SELECT * INTO old FROM renewal_policies
	 WHERE program_id IS NOT DISTINCT FROM p_program
	   AND level_id IS NOT DISTINCT FROM p_level FOR UPDATE;
	IF p_method IS NULL THEN
		DELETE FROM renewal_policies WHERE id = old.id;
	ELSIF old.id IS NULL THEN
		INSERT INTO renewal_policies (program_id, level_id, method,
		       ce_hours, ce_category, ce_category_hours, window_before_days,
		       window_after_days, exam_pass_mark, exam_max_attempts)
		VALUES (p_program, p_level, p_method, p_ce_hours, p_category,
		        p_category_hours, coalesce(p_before, 90),
		        coalesce(p_after, 365), p_exam_pass_mark,
		        p_exam_max_attempts)
		RETURNING * INTO new;
	ELSE
		UPDATE renewal_policies SET method = p_method, ce_hours = p_ce_hours,
		       ce_category = p_category, ce_category_hours = p_category_hours,
		       window_before_days = coalesce(p_before, old.window_before_days),
		       window_after_days = coalesce(p_after, old.window_after_days),
		       exam_pass_mark = p_exam_pass_mark,
		       exam_max_attempts = p_exam_max_attempts,
		       updated_at = now()
		 WHERE id = old.id RETURNING * INTO new;
	END IF;
	INSERT INTO audit_log (action, entity, entity_id, before, after)
	VALUES ('renewal_policy.set', CASE WHEN p_level IS NULL THEN 'program'
	        ELSE 'level' END, coalesce(p_level, p_program)::text,
	        to_jsonb(old), to_jsonb(new));
	RETURN coalesce(new.id, old.id);
END
$$;

-- ---------------------------------------------------------------------------
-- Renewal exams
-- ---------------------------------------------------------------------------

-- A sitting of the written exam to renew CERTIFICATE_ID, attempt ATTEMPT
-- of its renewal (numbered per certificate: a renewed certificate's
-- successor starts again at 1), graded against the policy's pass mark in
-- force then.  Append-only, as exam results are.
CREATE TABLE renewal_exams (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	certificate_id bigint NOT NULL
		REFERENCES certificates (id) ON DELETE RESTRICT,
	clinician_id bigint NOT NULL
		REFERENCES clinicians (id) ON DELETE RESTRICT,
	attempt int NOT NULL CONSTRAINT renewal_exams_attempt CHECK (attempt >= 1),
	score numeric NOT NULL CONSTRAINT renewal_exams_score CHECK (score >= 0),
	max_score numeric NOT NULL
		CONSTRAINT renewal_exams_max_score CHECK (max_score > 0 AND score <= max_score),
	pass_mark numeric(5, 2) NOT NULL,
	passed boolean NOT NULL,
	taken_on date NOT NULL,
	graded_by bigint REFERENCES users (id) ON DELETE RESTRICT,
	graded_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT renewal_exams_attempt_key UNIQUE (certificate_id, attempt),
	CONSTRAINT renewal_exams_passed_consistent
		CHECK (passed = exam_passed(score, max_score, pass_mark))
);
CREATE INDEX renewal_exams_clinician_idx ON renewal_exams (clinician_id);

CREATE TRIGGER renewal_exams_no_change BEFORE UPDATE OR DELETE ON renewal_exams
	FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- status is cached per clinician (sql/0015_import_speed.sql)
CREATE TRIGGER renewal_exams_cache_insert AFTER INSERT ON renewal_exams
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
	EXECUTE FUNCTION cache_notify_rows('clinician_id');

-- ---------------------------------------------------------------------------
-- The rule, knowing the written exam
-- ---------------------------------------------------------------------------

-- renewal_progress() of 0011, and for method written_exam: the pass mark,
-- the attempts allowed and used, and the day of the first pass, counting
-- the certificate's renewal exams taken up to P_TODAY.  The requirement is
-- met by a pass; MISSING says how many attempts are left, or that none is.
-- Its columns grow, so it is dropped and made again; its callers are SQL
-- and PL/pgSQL functions that name it at run time.
DROP FUNCTION renewal_progress(bigint[], date);

CREATE FUNCTION renewal_progress(p_clinicians bigint[], p_today date)
RETURNS TABLE (certificate_id bigint, clinician_id bigint, level_id bigint,
               method text, window_opens date, window_closes date,
               hours_required numeric, hours_done numeric,
               category text, category_hours_required numeric,
               category_hours_done numeric, met boolean, window_state text,
               due boolean, missing text, exam_pass_mark numeric,
               exam_attempts_allowed int, exam_attempts_used int,
               exam_passed_on date)
LANGUAGE sql STABLE
AS $$
	WITH c AS (
		SELECT c.id, c.clinician_id, c.level_id, c.issued_on, c.expires_on,
		       p.method, p.ce_hours, p.ce_category, p.ce_category_hours,
		       p.exam_pass_mark, p.exam_max_attempts,
		       c.expires_on - p.window_before_days AS opens,
		       c.expires_on + p.window_after_days AS closes
		  FROM certificates c
		  JOIN level_renewal_policy p ON p.level_id = c.level_id
		 WHERE c.clinician_id = ANY (p_clinicians)
		   AND c.revoked_at IS NULL AND c.renewed_at IS NULL
	), h AS (
		SELECT c.id,
		       coalesce(sum(a.hours), 0) AS done,
		       coalesce(sum(a.hours) FILTER (WHERE a.category = c.ce_category), 0)
		           AS cat_done
		  FROM c
		  LEFT JOIN ce_activities a ON a.clinician_id = c.clinician_id
		   AND a.status = 'approved'
		   AND a.completed_on >= c.issued_on AND a.completed_on <= p_today
		 GROUP BY c.id
	), x AS (
		SELECT c.id, count(e.id)::int AS used,
		       min(e.taken_on) FILTER (WHERE e.passed) AS passed_on
		  FROM c
		  LEFT JOIN renewal_exams e ON e.certificate_id = c.id
		   AND e.taken_on <= p_today
		 GROUP BY c.id
	), m AS (
		SELECT c.*, h.done, h.cat_done, x.used, x.passed_on,
		       CASE c.method
		       WHEN 'ce_hours' THEN h.done >= c.ce_hours
		            AND (c.ce_category IS NULL OR h.cat_done >= c.ce_category_hours)
		       WHEN 'written_exam' THEN x.passed_on IS NOT NULL
		       ELSE false END AS met,
		       CASE WHEN c.method = 'none' OR c.expires_on IS NULL THEN 'never'
		            WHEN p_today < c.opens THEN 'not_open'
		            WHEN p_today > c.closes THEN 'closed'
		            ELSE 'open' END AS win
		  FROM c JOIN h ON h.id = c.id JOIN x ON x.id = c.id
	)
	SELECT m.id, m.clinician_id, m.level_id, m.method, m.opens, m.closes,
	       m.ce_hours, m.done, m.ce_category, m.ce_category_hours, m.cat_done,
	       m.met, m.win, m.met AND m.win = 'open',
	       CASE
	       WHEN m.method = 'none' THEN 'this level is not renewable: take the course again'
	       WHEN m.met THEN NULL
	       WHEN m.method = 'written_exam' AND m.used >= m.exam_max_attempts THEN
	            format('all %s renewal written exam attempts are used, none passed: take the course again',
	                   m.exam_max_attempts)
	       WHEN m.method = 'written_exam' THEN
	            format('a renewal written exam passed at %s%%; %s of %s attempts left',
	                   trim_scale(m.exam_pass_mark),
	                   m.exam_max_attempts - m.used, m.exam_max_attempts)
	       WHEN m.done < m.ce_hours THEN
	            format('%s of %s CE hours since %s; %s to go',
	                   trim_scale(m.done), trim_scale(m.ce_hours), m.issued_on,
	                   trim_scale(m.ce_hours - m.done))
	       ELSE format('%s of %s CE hours in %s; %s to go',
	                   trim_scale(m.cat_done), trim_scale(m.ce_category_hours),
	                   m.ce_category, trim_scale(m.ce_category_hours - m.cat_done))
	       END,
	       m.exam_pass_mark, m.exam_max_attempts,
	       CASE WHEN m.method = 'written_exam' THEN m.used END, m.passed_on
	  FROM m
$$;

-- renewal_status() of 0011 with the written exam's progress.
CREATE OR REPLACE FUNCTION renewal_status(p_clinician bigint, p_today date)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object(
		'certificate', c.number, 'level_code', l.code,
		'expires_on', c.expires_on, 'method', r.method,
		'window_opens', r.window_opens, 'window_closes', r.window_closes,
		'window', r.window_state, 'hours_required', r.hours_required,
		'hours_done', r.hours_done, 'category', r.category,
		'category_hours_required', r.category_hours_required,
		'category_hours_done', r.category_hours_done,
		'exam_pass_mark', r.exam_pass_mark,
		'exam_attempts_allowed', r.exam_attempts_allowed,
		'exam_attempts_used', r.exam_attempts_used,
		'exam_passed_on', r.exam_passed_on,
		'requirement_met', r.met, 'due', r.due, 'missing', r.missing)
		ORDER BY l.ordinal), '[]'::jsonb)
	  FROM renewal_progress(ARRAY[p_clinician], p_today) r
	  JOIN certificates c ON c.id = r.certificate_id
	  JOIN levels l ON l.id = r.level_id
$$;

-- A renewal exam to record: the certificate's NUMBER, the score out of
-- MAX_SCORE, the day it was TAKEN_ON.
CREATE TYPE renewal_exam_entry AS (
	line int,
	number text,
	score numeric,
	max_score numeric,
	taken_on date
);

-- A certificate asked to be renewed: its NUMBER, as of ON_DATE.
CREATE TYPE renewal_candidate AS (
	line int,
	number text,
	on_date date
);

-- Why each candidate may not be renewed, whatever its requirement: at most
-- one row per line and refusal, RANK ordering them (callers add their own
-- between them):
--   0 unknown_certificate       no certificate has that number
--   2 certificate_revoked       the certificate was revoked
--   3 already_renewed           it was renewed (naming its successor)
--   4 not_renewable             its level's policy is none, or it never
--                               expires
--   6 renewal_window_not_open   ON_DATE is before the window opens
--   7 renewal_window_closed     ON_DATE is after the window closed
-- The window is renewal_progress()'s as of ON_DATE.  Set-based: the
-- certificates joined by number, the progress by a lateral join the
-- planner inlines.
CREATE FUNCTION renewal_refusals(p renewal_candidate[])
RETURNS TABLE (line int, rank int, code text, field text, detail text)
LANGUAGE sql STABLE
AS $$
	WITH c AS (
		SELECT e.line, e.number, e.on_date, k.id, k.clinician_id,
		       k.revoked_at, k.renewed_at,
		       (SELECT n.number FROM certificates n WHERE n.renews = k.id)
		           AS successor
		  FROM unnest(p) e LEFT JOIN certificates k ON k.number = e.number
	), j AS (
		SELECT c.*, r.window_state, r.window_opens, r.window_closes
		  FROM c LEFT JOIN LATERAL renewal_progress(ARRAY[c.clinician_id],
		       c.on_date) r ON r.certificate_id = c.id
	)
	SELECT j.line, 0, 'unknown_certificate'::text, 'number'::text,
	       format('there is no certificate ''%s''', j.number)
	  FROM j WHERE j.id IS NULL
	UNION ALL
	SELECT j.line, 2, 'certificate_revoked', 'number',
	       format('certificate ''%s'' was revoked on %s: it cannot be renewed',
	              j.number, j.revoked_at::date)
	  FROM j WHERE j.revoked_at IS NOT NULL
	UNION ALL
	SELECT j.line, 3, 'already_renewed', 'number',
	       format('certificate ''%s'' was already renewed by ''%s''',
	              j.number, j.successor)
	  FROM j WHERE j.revoked_at IS NULL AND j.renewed_at IS NOT NULL
	UNION ALL
	SELECT j.line, 4, 'not_renewable', 'number',
	       'this level is not renewable: take the course again'
	  FROM j WHERE j.window_state = 'never'
	UNION ALL
	SELECT j.line, 6, 'renewal_window_not_open', NULL,
	       format('the renewal window opens on %s', j.window_opens)
	  FROM j WHERE j.window_state = 'not_open'
	UNION ALL
	SELECT j.line, 7, 'renewal_window_closed', NULL,
	       format('the renewal window closed on %s: take the course again',
	              j.window_closes)
	  FROM j WHERE j.window_state = 'closed'
$$;

-- certificate_renew() of 0011, its refusals asked of renewal_refusals()
-- (as of today), then of the requirement (renewal_requirement_not_met,
-- the detail saying what is missing).
CREATE OR REPLACE FUNCTION certificate_renew(p_number text)
RETURNS SETOF write_verdict
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	v write_verdict;
	c certificates;
	r record;
BEGIN
	v.line := 1;
	SELECT * INTO c FROM certificates WHERE number = p_number FOR UPDATE;
	SELECT f.code, f.field, f.detail INTO v.code, v.field, v.detail
	  FROM renewal_refusals(ARRAY[ROW(1, p_number,
	       current_date)::renewal_candidate]) f
	 ORDER BY f.rank LIMIT 1;
	IF v.code IS NULL THEN
		SELECT * INTO r FROM renewal_progress(ARRAY[c.clinician_id], current_date) p
		 WHERE p.certificate_id = c.id;
		IF NOT r.met THEN
			v.code := 'renewal_requirement_not_met';
			v.detail := r.missing;
		ELSE
			SELECT x.certificate_id INTO v.certificate_id
			  FROM certificates_renew(ARRAY[c.id], current_date) x;
			v.id := c.id;
		END IF;
	END IF;
	RETURN NEXT v;
END
$$;

-- Records renewal exams.  Each is refused with the first of
-- renewal_refusals() as of TAKEN_ON (the window is the exam date's) and:
--   1 date_in_future            TAKEN_ON is after today
--   5 not_renewed_by_exam       its level's policy is CE hours
--   8 already_passed            a renewal exam of it passed already
--   9 attempts_exhausted        the policy's attempts are all used
--  10 exam_before_previous      TAKEN_ON is before the last attempt's date
-- Otherwise the exam is the certificate's next attempt, graded against the
-- policy's pass mark; a pass renews the certificate at once, dated
-- TAKEN_ON (valid from the old expiry when taken before it, from TAKEN_ON
-- after it), and CERTIFICATE_ID names the renewal.  Concurrent calls for
-- one certificate run one after another (its row is locked).  The rows of
-- one call are checked against what was recorded before it, and numbered
-- in date order (the API sends one).
CREATE FUNCTION renewal_exam_record(p_rows renewal_exam_entry[])
RETURNS SETOF write_verdict
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	v_refused write_verdict[];
	v_ins bigint[];
	v_lines int[];
	v_renewed bigint[];
	v_new bigint[];
	d date;
BEGIN
	PERFORM 1 FROM certificates k JOIN unnest(p_rows) e ON e.number = k.number
	 ORDER BY k.id FOR UPDATE OF k;

	WITH j AS (
		SELECT e.*, r.method, r.exam_attempts_allowed,
		       r.exam_attempts_used, r.exam_passed_on,
		       (SELECT max(x.taken_on) FROM renewal_exams x
		         WHERE x.certificate_id = k.id) AS last_on
		  FROM unnest(p_rows) e
		  LEFT JOIN certificates k ON k.number = e.number
		  LEFT JOIN LATERAL renewal_progress(ARRAY[k.clinician_id],
		       e.taken_on) r ON r.certificate_id = k.id
	), x AS (
		SELECT DISTINCT ON (f.line) f.* FROM (
			SELECT * FROM renewal_refusals(ARRAY(
				SELECT ROW(e.line, e.number, e.taken_on)::renewal_candidate
				  FROM unnest(p_rows) e))
			UNION ALL
			SELECT j.line, 1, 'date_in_future', 'taken_on',
			       format('the exam cannot be dated %s, after today', j.taken_on)
			  FROM j WHERE date_in_future(j.taken_on)
			UNION ALL
			SELECT j.line, 5, 'not_renewed_by_exam', 'number',
			       format('certificate ''%s'' is renewed by continuing education hours, not by an exam',
			              j.number)
			  FROM j WHERE j.method = 'ce_hours'
			UNION ALL
			SELECT j.line, 8, 'already_passed', 'number',
			       format('a renewal exam of certificate ''%s'' was passed on %s',
			              j.number, j.exam_passed_on)
			  FROM j WHERE j.exam_passed_on IS NOT NULL
			UNION ALL
			SELECT j.line, 9, 'attempts_exhausted', 'number',
			       format('all %s renewal exam attempts of certificate ''%s'' are used: take the course again',
			              j.exam_attempts_allowed, j.number)
			  FROM j WHERE j.exam_attempts_used >= j.exam_attempts_allowed
			UNION ALL
			SELECT j.line, 10, 'exam_before_previous', 'taken_on',
			       format('the last renewal exam of certificate ''%s'' was taken on %s: a retake is not dated before it',
			              j.number, j.last_on)
			  FROM j WHERE j.taken_on < j.last_on
		) f
		ORDER BY f.line, f.rank
	)
	SELECT array_agg(ROW(x.line, NULL, x.code, x.field, x.detail, NULL,
	                     NULL, NULL)::write_verdict)
	  INTO v_refused FROM x;

	WITH ok AS (
		SELECT e.line, k.id AS cert_id, k.clinician_id, e.score,
		       e.max_score, e.taken_on, p.exam_pass_mark AS mark,
		       (SELECT count(*) FROM renewal_exams x
		         WHERE x.certificate_id = k.id)
		       + row_number() OVER (PARTITION BY k.id
		                            ORDER BY e.taken_on, e.line) AS attempt
		  FROM unnest(p_rows) e JOIN certificates k ON k.number = e.number
		  JOIN level_renewal_policy p ON p.level_id = k.level_id
		 WHERE NOT EXISTS (SELECT 1 FROM unnest(v_refused) r
		                    WHERE r.line = e.line)
	), ins AS (
		INSERT INTO renewal_exams (certificate_id, clinician_id, attempt,
		       score, max_score, pass_mark, passed, taken_on, graded_by)
		SELECT ok.cert_id, ok.clinician_id, ok.attempt, ok.score,
		       ok.max_score, ok.mark,
		       exam_passed(ok.score, ok.max_score, ok.mark), ok.taken_on,
		       ctx_actor()
		  FROM ok
		RETURNING *
	), aud AS (
		INSERT INTO audit_log (action, entity, entity_id, after)
		SELECT 'renewal_exam.record', 'renewal_exam', ins.id::text,
		       to_jsonb(ins)
		  FROM ins
	)
	SELECT array_agg(ins.id ORDER BY ok.line), array_agg(ok.line ORDER BY ok.line)
	  INTO v_ins, v_lines
	  FROM ok JOIN ins ON ins.certificate_id = ok.cert_id
	   AND ins.attempt = ok.attempt;

	-- a pass renews, on the day it was taken: one renewal per exam day
	-- (certificates_renew() dates a whole set by one day)
	v_renewed := '{}';
	v_new := '{}';
	FOR d IN SELECT DISTINCT x.taken_on FROM renewal_exams x
	          WHERE x.id = ANY (v_ins) AND x.passed ORDER BY 1
	LOOP
		SELECT v_renewed || coalesce(array_agg(n.renewed_id), '{}'),
		       v_new || coalesce(array_agg(n.certificate_id), '{}')
		  INTO v_renewed, v_new
		  FROM certificates_renew(ARRAY(
			SELECT r.certificate_id
			  FROM renewal_exams x
			 CROSS JOIN LATERAL renewal_progress(ARRAY[x.clinician_id], d) r
			 WHERE x.id = ANY (v_ins) AND x.taken_on = d AND x.passed
			   AND r.certificate_id = x.certificate_id AND r.due
			 ORDER BY r.certificate_id), d) n;
	END LOOP;

	RETURN QUERY
	SELECT u.line, u.id, NULL::text, NULL::text, NULL::text, NULL::date,
	       n.certificate_id, NULL::bigint
	  FROM unnest(v_ins, v_lines) AS u(id, line)
	  JOIN renewal_exams x ON x.id = u.id
	  LEFT JOIN unnest(v_renewed, v_new) AS n(renewed_id, certificate_id)
	    ON n.renewed_id = x.certificate_id
	UNION ALL
	SELECT * FROM unnest(v_refused)
	ORDER BY 1;
END
$$;

-- ---------------------------------------------------------------------------
-- The CE import (POST /v1/imports?kind=ce)
-- ---------------------------------------------------------------------------

ALTER TABLE imports
	DROP CONSTRAINT imports_kind_values,
	ADD CONSTRAINT imports_kind_values
		CHECK (kind IN ('roster', 'results', 'ce'));

-- The CE import's staging table: the file's columns (the clinician by id,
-- NPI or email) as C read them, the problem C found, and what the check
-- adds.
CREATE FUNCTION import_ce_staging_create() RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
	CREATE TEMP TABLE import_rows (
		line int NOT NULL, clinician_id bigint, npi text, email text,
		title text, provider text, completed_on date, hours numeric,
		category text, evidence text,
		err_column text, err_value text, err_message text,
		outcome text
	) ON COMMIT DROP;
END
$$;

-- The CE file's checks that need the database, in one pass: the clinician
-- (by clinician_id when the row has one, else by NPI, else by email); the
-- same activity twice in the file; the activity already recorded.  An
-- activity is the clinician, title and provider (any case, surrounding
-- blanks ignored) and date: recorded with the same hours, category and
-- evidence it is unchanged; with others, a conflict an import does not
-- settle (nothing changes a recorded activity).  Every other rule is
-- ce_record()'s, asked by the merge.  A row with no problem and nothing
-- recorded is predicted created; its clinician_id is the one found.
CREATE FUNCTION import_ce_check() RETURNS void
LANGUAGE plpgsql
SET jit = off
SET work_mem = '64MB'
AS $$
BEGIN
	ANALYZE import_rows;
	PERFORM import_fresh_stats(ARRAY['clinicians', 'ce_activities']);

	CREATE TEMP TABLE import_rows_checked ON COMMIT DROP AS
	WITH a AS (
		SELECT r.*,
		       CASE WHEN r.clinician_id IS NOT NULL THEN ci.id
		            WHEN r.npi IS NOT NULL THEN cn.id ELSE ce.id END AS k_id,
		       lower(btrim(r.title)) AS k_title,
		       coalesce(lower(btrim(r.provider)), '') AS k_provider
		  FROM import_rows r
		  LEFT JOIN clinicians ci ON ci.id = r.clinician_id
		  LEFT JOIN clinicians cn ON r.clinician_id IS NULL
		   AND cn.npi = r.npi
		  LEFT JOIN clinicians ce ON r.clinician_id IS NULL
		   AND r.npi IS NULL AND lower(ce.email) = lower(r.email)
	), b AS (
		SELECT a.*, CASE WHEN a.err_message IS NOT NULL THEN 0
		                 WHEN a.k_id IS NULL THEN 1 END AS e
		  FROM a
	), c AS (
		SELECT b.*, min(b.line) FILTER (WHERE b.e IS NULL)
		       OVER (PARTITION BY b.k_id, b.k_title, b.k_provider,
		             b.completed_on) AS first
		  FROM b
	), rec AS (
		SELECT c.line,
		       bool_or(x.hours = c.hours
		               AND x.category IS NOT DISTINCT FROM btrim(c.category)
		               AND x.evidence IS NOT DISTINCT FROM btrim(c.evidence))
		           AS same,
		       (array_agg(x.id ORDER BY x.id))[1] AS o_id,
		       (array_agg(x.hours ORDER BY x.id))[1] AS o_hours,
		       (array_agg(x.status ORDER BY x.id))[1] AS o_status
		  FROM c JOIN ce_activities x ON x.clinician_id = c.k_id
		   AND x.completed_on = c.completed_on
		   AND lower(x.title) = c.k_title
		   AND coalesce(lower(x.provider), '') = c.k_provider
		 WHERE c.e IS NULL AND NOT c.first < c.line
		 GROUP BY c.line
	), d AS (
		SELECT c.*, rec.same, rec.o_id, rec.o_hours, rec.o_status,
		       CASE WHEN c.e IS NOT NULL THEN c.e
		            WHEN c.first < c.line THEN 2
		            WHEN rec.same THEN NULL
		            WHEN rec.line IS NOT NULL THEN 3 END AS e2
		  FROM c LEFT JOIN rec ON rec.line = c.line
	)
	SELECT d.line,
	       CASE WHEN d.e IS NULL OR d.e > 1 THEN d.k_id END AS clinician_id,
	       d.npi, d.email, d.title, d.provider, d.completed_on, d.hours,
	       d.category, d.evidence,
	       CASE d.e2 WHEN 0 THEN d.err_column
	            WHEN 1 THEN CASE WHEN d.clinician_id IS NOT NULL
	                        THEN 'clinician_id' WHEN d.npi IS NOT NULL
	                        THEN 'npi' ELSE 'email' END
	            WHEN 2 THEN 'title' WHEN 3 THEN 'hours' END AS err_column,
	       CASE d.e2 WHEN 0 THEN d.err_value
	            WHEN 1 THEN coalesce(d.clinician_id::text, d.npi, d.email)
	            WHEN 2 THEN d.title WHEN 3 THEN d.hours::text END AS err_value,
	       CASE d.e2 WHEN 0 THEN d.err_message
	            WHEN 1 THEN CASE WHEN d.clinician_id IS NOT NULL
	                        THEN format('there is no clinician %s', d.clinician_id)
	                        WHEN d.npi IS NOT NULL
	                        THEN format('there is no clinician with NPI %s', d.npi)
	                        ELSE format('there is no clinician with email ''%s''',
	                                    d.email) END
	            WHEN 2 THEN format('the same CE activity (clinician, title, provider and date) as line %s',
	                               d.first)
	            WHEN 3 THEN format('CE activity %s (%s) is recorded with %s hours and other details; an import does not change a recorded activity',
	                               d.o_id, d.o_status, trim_scale(d.o_hours))
	            END AS err_message,
	       CASE WHEN d.e2 IS NOT NULL THEN NULL
	            WHEN d.same THEN 'unchanged' ELSE 'created' END AS outcome
	  FROM d;

	PERFORM import_rows_replace();
END
$$;

-- The CE file's merge: ce_record(), the API's write, with the rows
-- predicted created, as staff record them (approved; what they complete
-- renews at once).  Only the rows it refuses are updated.  P_USER enters
-- them when no write_context() was set (a psql session).
CREATE FUNCTION import_ce_merge(p_user bigint) RETURNS void
LANGUAGE plpgsql
SET jit = off
SET work_mem = '64MB'
AS $$
BEGIN
	IF ctx_actor() IS NULL THEN
		PERFORM write_context(p_user,
		    (SELECT u.username FROM users u WHERE u.id = p_user),
		    ctx_request(), ctx_import());
	END IF;
	UPDATE import_rows r SET outcome = NULL,
		err_column = v.field,
		err_value = CASE v.field WHEN 'completed_on' THEN r.completed_on::text
		            WHEN 'clinician_id' THEN r.clinician_id::text END,
		err_message = v.detail
		FROM ce_record(ARRAY(
			SELECT ROW(x.line, x.clinician_id, x.title, x.provider,
			           x.completed_on, x.hours, x.category, x.evidence,
			           false)::ce_entry
			  FROM import_rows x
			 WHERE x.err_message IS NULL AND x.outcome = 'created'
			 ORDER BY x.line)) v
		WHERE r.line = v.line AND v.code IS NOT NULL;
END
$$;
