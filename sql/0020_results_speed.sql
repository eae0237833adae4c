-- Results sheets at the speed of hand-written SQL (issue 10, item 1).
--
-- exam_record() is the API's write (POST /v1/exam-results, a set of one)
-- and the results import's (a sheet's generation of attempts, a set of
-- 100,000), so it stays the one home of rules 3, 4, 5 and 8; what changes
-- is how often it reads:
--   - the history of each candidate is read once: exam_verdicts() answers,
--     for every line, its refusal (the rules of exam_refusals(), which is
--     now the refused lines of exam_verdicts()) or the attempt number and
--     pass mark it is recorded with, and the one statement that asks it
--     also writes the results and their audit rows;
--   - the refusals are one CASE over one join per fact (clinician,
--     enrollment, session, history), not eight passes over a materialized
--     join sorted by DISTINCT ON;
--   - the live enrollments are locked by one statement, as before, each
--     once (a semi-join: a person's written and practical exams of one
--     level lock their enrollment once), in key order;
--   - the certificates now due (rule 6) are asked once for the whole set
--     by certificates_due_for(), aggregates joined by hash to the pairs
--     (the view certificates_due asked a LATERAL pair of aggregates and
--     two probes of certificates per pair; a plan made while certificates
--     was empty scanned it once per pair as the statement filled it:
--     quadratic), then inserted by a second statement.  The view is now
--     certificates_due_for() over every completed enrollment: one rule,
--     one text.
-- (plan_cache_mode force_custom_plan on exam_record() was tried, so that
-- no plan cached for an API call of one row serves a sheet: it also
-- replans the foreign-key checks of every row written, 100,000 plans a
-- sheet, and tripled the time.  An import runs on a connection of its
-- own, whose few calls of exam_record() are planned for their sets.)

-- Rule 6: the certificates owed to the (clinician, level) pairs given as
-- two parallel arrays (see the view certificates_due of 0007 for the rule:
-- the enrollment completed, the current written and practical results
-- each include a pass, no unrevoked certificate of the level and none
-- revoked for any category but exam_result_amended; ISSUED_ON the day the
-- last requirement was met, EXPIRES_ON certificate_expiry(), REPLACES the
-- latest revoked certificate of the level).  Set-based: each table read
-- once for the whole set (by hash, or by index for a few pairs).
CREATE FUNCTION certificates_due_for(p_clinicians bigint[], p_levels bigint[])
RETURNS TABLE (clinician_id bigint, level_id bigint, issued_on date,
               expires_on date, replaces bigint)
LANGUAGE sql STABLE
AS $$
	-- the completed enrollments of the pairs, a semi-join (a DISTINCT
	-- of the pairs would be guessed at 200 rows, and everything after it
	-- probed by index once per pair)
	WITH e AS MATERIALIZED (
		SELECT e.clinician_id, e.level_id, e.completed_on
		  FROM enrollments e
		 WHERE e.status = 'completed'
		   AND (e.clinician_id, e.level_id) IN (
			SELECT u.c, u.l FROM unnest(p_clinicians, p_levels) AS u(c, l))
	), passes AS (
		SELECT r.clinician_id, r.level_id,
		       min(r.taken_on) FILTER (WHERE r.kind = 'written') AS written_on,
		       min(r.taken_on) FILTER (WHERE r.kind = 'practical') AS practical_on
		  FROM e
		  JOIN exam_results r ON r.clinician_id = e.clinician_id
		   AND r.level_id = e.level_id
		 WHERE r.passed
		   AND NOT EXISTS (SELECT 1 FROM exam_results a WHERE a.supersedes = r.id)
		 GROUP BY r.clinician_id, r.level_id
	), held AS (
		SELECT c.clinician_id, c.level_id,
		       bool_or(c.revoked_at IS NULL
		               OR c.revocation_category <> 'exam_result_amended') AS blocks,
		       (array_agg(c.id ORDER BY c.revoked_at DESC, c.id DESC))[1] AS latest
		  FROM e
		  JOIN certificates c ON c.clinician_id = e.clinician_id
		   AND c.level_id = e.level_id
		 GROUP BY c.clinician_id, c.level_id
	)
	SELECT e.clinician_id, e.level_id, d.issued_on,
	       certificate_expiry(d.issued_on, pg.certificate_validity_months),
	       h.latest
	  FROM e
	  JOIN passes s ON s.clinician_id = e.clinician_id
	   AND s.level_id = e.level_id
	  JOIN levels l ON l.id = e.level_id
	  JOIN programs pg ON pg.id = l.program_id
	  LEFT JOIN held h ON h.clinician_id = e.clinician_id
	   AND h.level_id = e.level_id
	 CROSS JOIN LATERAL (SELECT greatest(e.completed_on, s.written_on,
	                                     s.practical_on) AS issued_on) d
	 WHERE s.written_on IS NOT NULL AND s.practical_on IS NOT NULL
	   AND h.blocks IS NOT TRUE
$$;

-- Every clinician and level owed a certificate, as 0007 defines it, now
-- asked of certificates_due_for() (the one text of rule 6).
CREATE OR REPLACE VIEW certificates_due AS
	SELECT d.clinician_id, d.level_id, d.issued_on, d.expires_on, d.replaces
	  FROM certificates_due_for(
		ARRAY(SELECT e.clinician_id FROM enrollments e
		       WHERE e.status = 'completed' ORDER BY e.id),
		ARRAY(SELECT e.level_id FROM enrollments e
		       WHERE e.status = 'completed' ORDER BY e.id)) d;

-- Issues every certificate due to the pairs, with an audit row each, as
-- 0007 does: what is due is asked first, in a statement of its own (so the
-- question never reads the table its insert is filling), and nothing is
-- written when nothing is due.
CREATE OR REPLACE FUNCTION certificates_issue_due(p_clinicians bigint[],
                                                  p_levels bigint[])
RETURNS TABLE (clinician_id bigint, level_id bigint, certificate_id bigint)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	v_constraint text;
	v_dc bigint[];
	v_dl bigint[];
	v_issued date[];
	v_expires date[];
	v_replaces bigint[];
	v_c bigint[];
	v_l bigint[];
	v_id bigint[];
BEGIN
	SELECT array_agg(d.clinician_id), array_agg(d.level_id),
	       array_agg(d.issued_on), array_agg(d.expires_on),
	       array_agg(d.replaces)
	  INTO v_dc, v_dl, v_issued, v_expires, v_replaces
	  FROM certificates_due_for(p_clinicians, p_levels) d;
	IF v_dc IS NULL THEN
		RETURN;
	END IF;
	FOR i IN 1..5 LOOP
		BEGIN
			WITH ins AS (
				INSERT INTO certificates (number, clinician_id, level_id,
				                          issued_on, expires_on, replaces)
				SELECT certificate_number_new(), d.c, d.l, d.issued_on,
				       d.expires_on, d.replaces
				  FROM unnest(v_dc, v_dl, v_issued, v_expires, v_replaces)
				       AS d(c, l, issued_on, expires_on, replaces)
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

-- Every candidate exam result with its verdict, one row per line whose
-- level exists: CODE, FIELD, DETAIL and NEXT_ALLOWED_ON of the first
-- refusal (the rules and their order as 0007's exam_refusals() lists
-- them), NULL when it may be recorded; NEXT_ATTEMPT, the attempt it is
-- recorded as, and PASS_MARK, the level's mark in force for its kind.
-- The one reading of each history (exam_histories()), joined by hash or
-- by index like every other fact.
CREATE FUNCTION exam_verdicts(p exam_entry[])
RETURNS TABLE (line int, clinician_id bigint, level_id bigint, kind text,
               score numeric, max_score numeric, taken_on date,
               code text, field text, detail text, next_allowed_on date,
               next_attempt int, pass_mark numeric)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	WITH j AS (
		SELECT c.line, c.clinician_id, c.level_id, c.kind, c.score,
		       c.max_score, c.taken_on, c.attempt, l.title, l.max_attempts,
		       pass_mark_for(c.kind, l.written_pass_mark,
		                     l.practical_pass_mark) AS pass_mark,
		       k.id AS known, e.id AS enrollment_id, s.starts_on,
		       coalesce(h.used, 0) AS used,
		       coalesce(h.next_attempt, 1) AS next_attempt,
		       h.passed_attempt,
		       retake_allowed_on(h.last_on, l.retake_wait_days) AS allowed_on
		  FROM unnest(p) c
		 -- a level per row, kept apart from the joins below: as a plain
		 -- join the planner guessed it kept one row in a hundred, and
		 -- probed clinicians and enrollments by index once per row of a
		 -- sheet (random reads of tables larger than the cache at a
		 -- million rows) instead of joining them by hash
		 CROSS JOIN LATERAL (SELECT * FROM levels l
		                      WHERE l.id = c.level_id OFFSET 0) l
		  LEFT JOIN clinicians k ON k.id = c.clinician_id
		  LEFT JOIN enrollments e ON e.clinician_id = c.clinician_id
		   AND e.level_id = c.level_id AND e.status <> 'withdrawn'
		  LEFT JOIN course_sessions s ON s.id = e.session_id
		  LEFT JOIN exam_histories(p) h ON h.line = c.line
	), r AS (
		SELECT j.*, CASE
			WHEN j.known IS NULL THEN 0
			WHEN date_in_future(j.taken_on) THEN 1
			WHEN j.enrollment_id IS NULL THEN 2
			WHEN j.attempt IS NOT NULL AND j.attempt <> j.next_attempt THEN 3
			WHEN j.taken_on < j.starts_on THEN 4
			WHEN j.passed_attempt IS NOT NULL THEN 5
			WHEN j.used >= j.max_attempts THEN 6
			WHEN j.taken_on < j.allowed_on THEN 7 END AS rank
		  FROM j
	)
	SELECT r.line, r.clinician_id, r.level_id, r.kind, r.score, r.max_score,
	       r.taken_on,
	       (ARRAY['unknown_clinician', 'date_in_future', 'not_enrolled',
	              'attempt_conflict', 'exam_before_course', 'already_passed',
	              'attempts_exhausted', 'retake_too_soon'])[r.rank + 1],
	       (ARRAY['clinician_id', 'taken_on', 'level', 'attempt', 'taken_on',
	              'kind', 'kind', 'taken_on'])[r.rank + 1],
	       CASE r.rank
	       WHEN 0 THEN format('there is no clinician %s', r.clinician_id)
	       WHEN 1 THEN format('the exam cannot be dated %s, after today',
	                          r.taken_on)
	       WHEN 2 THEN format('clinician %s is not enrolled in %s',
	                          r.clinician_id, r.title)
	       WHEN 3 THEN CASE WHEN r.attempt < r.next_attempt
	            THEN format('attempt %s is already recorded; the next is %s',
	                        r.attempt, r.next_attempt)
	            ELSE format('attempt %s cannot be recorded yet; the next is %s',
	                        r.attempt, r.next_attempt) END
	       WHEN 4 THEN format('the exam cannot be dated %s, before its course session starts on %s',
	                          r.taken_on, r.starts_on)
	       WHEN 5 THEN format('the %s exam of %s is already passed (attempt %s)',
	                          r.kind, r.title, r.passed_attempt)
	       WHEN 6 THEN format('all %s attempts at the %s exam of %s are used',
	                          r.max_attempts, r.kind, r.title)
	       WHEN 7 THEN format('the next %s attempt at %s is allowed on or after %s',
	                          r.kind, r.title,
	                          to_char(r.allowed_on, 'YYYY-MM-DD')) END,
	       CASE WHEN r.rank = 7 THEN r.allowed_on END,
	       r.next_attempt, r.pass_mark
	  FROM r
$$;

-- The refusals of 0007, now the refused lines of exam_verdicts(): one
-- text of rules 3, 5 and 8.
CREATE OR REPLACE FUNCTION exam_refusals(p exam_entry[])
RETURNS TABLE (line int, code text, field text, detail text,
               next_allowed_on date, next_attempt int)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT v.line, v.code, v.field, v.detail, v.next_allowed_on,
	       v.next_attempt
	  FROM exam_verdicts(p) v
	 WHERE v.code IS NOT NULL
	 ORDER BY v.line
$$;

-- Records each candidate as a new attempt (rules 3, 4, 5, 8), graded by
-- the context's actor with the level's pass mark in force, and issues the
-- certificates now due (rule 6), as 0007 describes it: the enrollments
-- locked, then one statement that reads each history once, decides, and
-- writes the results and their audit rows; then the certificates.
CREATE OR REPLACE FUNCTION exam_record(p_rows exam_entry[])
RETURNS SETOF write_verdict
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	v_out write_verdict[];
	v_line int[];
	v_c bigint[];
	v_l bigint[];
BEGIN
	-- concurrent submissions for one clinician and level run one after
	-- another; the statement below, a new one, sees the winner's rows
	PERFORM 1 FROM enrollments e
	 WHERE e.status <> 'withdrawn'
	   AND (e.clinician_id, e.level_id) IN (
		SELECT c.clinician_id, c.level_id FROM unnest(p_rows) c)
	 ORDER BY e.id FOR UPDATE OF e;

	WITH v AS MATERIALIZED (
		SELECT * FROM exam_verdicts(p_rows)
	), ins AS (
		INSERT INTO exam_results (clinician_id, level_id, kind, attempt,
		                          score, max_score, pass_mark, passed,
		                          taken_on, graded_by)
		SELECT v.clinician_id, v.level_id, v.kind, v.next_attempt, v.score,
		       v.max_score, v.pass_mark,
		       exam_passed(v.score, v.max_score, v.pass_mark), v.taken_on,
		       ctx_actor()
		  FROM v WHERE v.code IS NULL
		RETURNING *
	), aud AS (
		INSERT INTO audit_log (action, entity, entity_id, after)
		SELECT 'exam_result.record', 'exam_result', ins.id::text,
		       to_jsonb(ins)
		  FROM ins
	)
	SELECT array_agg(ROW(v.line, ins.id, v.code, v.field, v.detail,
	                     v.next_allowed_on, NULL, NULL)::write_verdict),
	       array_agg(v.line) FILTER (WHERE ins.id IS NOT NULL),
	       array_agg(v.clinician_id) FILTER (WHERE ins.id IS NOT NULL),
	       array_agg(v.level_id) FILTER (WHERE ins.id IS NOT NULL)
	  INTO v_out, v_line, v_c, v_l
	  FROM v LEFT JOIN ins ON v.code IS NULL
	   AND ins.clinician_id = v.clinician_id AND ins.level_id = v.level_id
	   AND ins.kind = v.kind;

	-- a sheet's worth of new results: the certificates' question is
	-- planned on statistics that count them
	IF cardinality(p_rows) >= 1000 THEN
		ANALYZE exam_results;
	END IF;

	-- a result may meet the last requirement of its level
	RETURN QUERY
	WITH due AS (
		SELECT * FROM certificates_issue_due(v_c, v_l)
	), w AS (
		SELECT w.line, due.certificate_id
		  FROM unnest(v_line, v_c, v_l) AS w(line, c, l)
		  JOIN due ON due.clinician_id = w.c AND due.level_id = w.l
	)
	SELECT o.line, o.id, o.code, o.field, o.detail, o.next_allowed_on,
	       w.certificate_id, NULL::bigint
	  FROM unnest(v_out) o LEFT JOIN w ON w.line = o.line;
END
$$;

-- The results sheet's check, as 0015 writes it, but for what is recorded
-- for each row's sitting: its first attempt and whether any recorded
-- score is the row's, found with one sort (DISTINCT ON and a window)
-- instead of four ordered aggregates per row (a tuplesort each: a third
-- of a re-imported sheet's check).
CREATE OR REPLACE FUNCTION import_results_check() RETURNS void
LANGUAGE plpgsql
SET jit = off
SET work_mem = '64MB'
AS $$
BEGIN
	ANALYZE import_rows;
	PERFORM import_fresh_stats(ARRAY['clinicians', 'enrollments',
	                                 'exam_results', 'certificates']);

	CREATE TEMP TABLE import_rows_checked ON COMMIT DROP AS
	WITH lev AS MATERIALIZED (
		SELECT t.level, lr.id, lr.detail
		  FROM (SELECT DISTINCT level FROM import_rows
		         WHERE err_message IS NULL) t
		 CROSS JOIN LATERAL level_resolve(t.level) lr
	), a AS (
		SELECT r.*, l.id AS l_id, l.detail AS l_detail,
		       CASE WHEN r.npi IS NOT NULL THEN cn.id ELSE ce.id END AS k_id
		  FROM import_rows r
		  LEFT JOIN lev l ON l.level = r.level
		  LEFT JOIN clinicians cn ON cn.npi = r.npi
		  LEFT JOIN clinicians ce ON r.npi IS NULL
		   AND lower(ce.email) = lower(r.email)
	), b AS (
		SELECT a.*, CASE WHEN a.err_message IS NOT NULL THEN 0
		                 WHEN a.l_id IS NULL THEN 1
		                 WHEN a.k_id IS NULL THEN 2 END AS e
		  FROM a
	), c AS (
		SELECT b.*, min(b.line) FILTER (WHERE b.e IS NULL)
		       OVER (PARTITION BY b.k_id, b.l_id, b.kind, b.taken_on) AS first
		  FROM b
	), rec AS (
		-- what is recorded for the sitting of each good row: its first
		-- attempt, and whether any has the same score (one sort, not
		-- four ordered aggregates per row)
		SELECT DISTINCT ON (c.line) c.line,
		       bool_or(x.score = c.score AND x.max_score = c.max_score)
		           OVER (PARTITION BY c.line) AS same,
		       x.attempt AS o_attempt, x.taken_on AS o_taken_on,
		       x.score AS o_score, x.max_score AS o_max_score
		  FROM c JOIN exam_results_current x ON x.clinician_id = c.k_id
		   AND x.level_id = c.l_id AND x.kind = c.kind
		   AND x.taken_on = c.taken_on
		 WHERE c.e IS NULL AND NOT c.first < c.line
		 ORDER BY c.line, x.attempt
	), d AS (
		SELECT c.*, rec.same, rec.o_attempt, rec.o_taken_on, rec.o_score,
		       rec.o_max_score,
		       CASE WHEN c.e IS NOT NULL THEN c.e
		            WHEN c.first < c.line THEN 3
		            WHEN rec.same THEN NULL
		            WHEN rec.line IS NOT NULL THEN 4 END AS e2
		  FROM c LEFT JOIN rec ON rec.line = c.line
	), g AS (
		SELECT d.*, CASE WHEN d.e2 IS NULL AND NOT coalesce(d.same, false)
		       THEN row_number() OVER (PARTITION BY d.k_id, d.l_id, d.kind,
		            d.e2 IS NULL AND NOT coalesce(d.same, false)
		            ORDER BY d.taken_on, d.line) END AS gen
		  FROM d
	)
	SELECT g.line, g.npi, g.email, g.level, g.kind, g.score, g.max_score,
	       g.taken_on,
	       CASE g.e2 WHEN 0 THEN g.err_column WHEN 1 THEN 'level'
	            WHEN 2 THEN CASE WHEN g.npi IS NOT NULL THEN 'npi'
	                        ELSE 'email' END
	            WHEN 3 THEN 'taken_on' WHEN 4 THEN 'score' END AS err_column,
	       CASE g.e2 WHEN 0 THEN g.err_value WHEN 1 THEN g.level
	            WHEN 2 THEN coalesce(g.npi, g.email)
	            WHEN 3 THEN g.taken_on::text WHEN 4 THEN g.score::text
	            END AS err_value,
	       CASE g.e2 WHEN 0 THEN g.err_message WHEN 1 THEN g.l_detail
	            WHEN 2 THEN CASE WHEN g.npi IS NOT NULL
	                        THEN format('there is no clinician with NPI %s', g.npi)
	                        ELSE format('there is no clinician with email ''%s''',
	                                    g.email) END
	            WHEN 3 THEN format('the same exam and date as line %s', g.first)
	            WHEN 4 THEN format('attempt %s on %s is recorded with %s of %s;
	amend it rather than import another score', g.o_attempt,
	                        g.o_taken_on, g.o_score, g.o_max_score)
	            END AS err_message,
	       CASE WHEN g.e IS NULL OR g.e > 1 THEN g.l_id END AS level_id,
	       CASE WHEN g.e IS NULL OR g.e > 2 THEN g.k_id END AS clinician_id,
	       g.gen::int AS generation,
	       CASE WHEN g.e2 IS NOT NULL THEN NULL
	            WHEN g.same THEN 'unchanged' ELSE 'created' END AS outcome
	  FROM g;

	PERFORM import_rows_replace();
END
$$;

-- ---------------------------------------------------------------------------
-- The certificates an import issued (issue 13: the import report names
-- them)
-- ---------------------------------------------------------------------------

-- Every certificate a write issues has its audit row, which an import's
-- rows carry the import's id in (ctx_import()): the certificates import N
-- issued are its 'certificate.issue' audit rows.  Indexed by import, for
-- those rows only: an import writes one audit row per record, and only
-- its certificates need finding.
CREATE INDEX audit_log_import_certificates_idx ON audit_log (import_id)
	WHERE action = 'certificate.issue' AND import_id IS NOT NULL;

-- The certificates import P_IMPORT issued: LIST, the first P_LIMIT by
-- certificate id as a JSON array of {number, clinician_id, level} (the
-- level's code), and TOTAL, how many.  A dry run, or a refused import,
-- issued none: what it wrote was rolled back.
CREATE FUNCTION import_certificates(p_import bigint, p_limit int)
RETURNS TABLE (list json, total bigint)
LANGUAGE sql STABLE
AS $$
	WITH c AS (
		SELECT c.id, c.number, c.clinician_id, l.code
		  FROM audit_log a
		  JOIN certificates c ON c.id = a.entity_id::bigint
		  JOIN levels l ON l.id = c.level_id
		 WHERE a.import_id = p_import AND a.action = 'certificate.issue'
	)
	SELECT coalesce((SELECT json_agg(json_build_object('number', f.number,
	                        'clinician_id', f.clinician_id, 'level', f.code)
	                        ORDER BY f.id)
	                   FROM (SELECT * FROM c ORDER BY c.id LIMIT p_limit) f),
	                '[]'),
	       (SELECT count(*) FROM c)
$$;
