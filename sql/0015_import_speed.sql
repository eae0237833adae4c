-- Imports at the speed of hand-written SQL (issue 10, item 1).
--
-- The checks of 0007 filled the staging table column by column, each step
-- an UPDATE of the whole table (profession, level, clinician, session,
-- enrollment, outcome, ...): a million-row file was rewritten a dozen
-- times.  Here each check computes every fact of a row in one pass, a
-- CREATE TABLE AS over the rows COPY brought in, joined by hash to the
-- lookups (professions and levels once per distinct text, clinicians,
-- live enrollments, sessions, recorded results), with the file's own
-- questions (the same person twice, an NPI with two emails, the same exam
-- twice) as window functions; the new table replaces import_rows and is
-- analyzed before anything joins it.  It also predicts each row's outcome
-- (created, updated, unchanged) from those facts; the merge writes, and
-- only the rows a write refused, or whose outcome came out other than
-- predicted, are updated afterwards: an import that goes as checked
-- rewrites no staging row.
--
-- The rules keep one home, the set-based functions of 0007: rules 1 and 2
-- are asked once per import, by enrollment_refusals() in the check, and
-- enrollment_create() is told so instead of asking them again (its other
-- refusals, and everything it writes and audits, stay as they are).
--
-- The import functions run with JIT compilation off (their statements are
-- estimated big, and compiling them took longer than running them) and
-- with work_mem 64MB, so their hash joins and aggregates stay in memory.
--
-- At the end: the notifications that keep the daemons' lookup caches true
-- (item 4).

-- Enrollment, as 0007 writes it, with P_RULES_ASKED: true when the caller
-- asked enrollment_refusals() of these very candidates, in this
-- transaction, with the profession each clinician has now (the roster
-- import's check does, before writing a clinician's profession from the
-- same row), so rules 1 and 2 are not asked twice.  The API leaves it
-- false.
DROP FUNCTION enrollment_create(enroll_entry[]);

CREATE FUNCTION enrollment_create(p_rows enroll_entry[],
                                  p_rules_asked boolean DEFAULT false)
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
				  FROM unnest(p_rows) c JOIN clinicians k ON k.id = c.clinician_id
				 WHERE NOT p_rules_asked)) f
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

-- Exam results, as 0007 records them, with fresh statistics of
-- exam_results after a large set is inserted (a results sheet): the
-- certificates now due are asked of the table as it is then.
CREATE OR REPLACE FUNCTION exam_record(p_rows exam_entry[])
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

	-- a sheet's worth of new results: the questions below are planned
	-- on statistics that count them (a plan for an empty table probes
	-- every result once per pair)
	IF cardinality(p_rows) >= 1000 THEN
		ANALYZE exam_results, certificates;
	END IF;

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

-- Certificate numbers, as 0001 defines them (55 random bits, eleven
-- Crockford base32 symbols and their Luhn mod 32 check symbol), computed
-- in one pass instead of a query per symbol: a results sheet issues
-- thousands, and every one is checked again by certificates_number_shape.
CREATE OR REPLACE FUNCTION certificate_check_symbol(data text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
	a constant text := '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
	n int := length(data);
	sum int := 0;
	x int;
BEGIN
	IF data !~ '^[0-9A-HJKMNP-TV-Z]+$' THEN
		RETURN NULL;
	END IF;
	FOR i IN 1..n LOOP
		x := (strpos(a, substr(data, i, 1)) - 1)
		     * CASE WHEN (n - i) % 2 = 0 THEN 2 ELSE 1 END;
		sum := sum + x / 32 + x % 32;
	END LOOP;
	RETURN substr(a, (32 - sum % 32) % 32 + 1, 1);
END
$$;

CREATE OR REPLACE FUNCTION certificate_number_new() RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL SAFE
AS $$
DECLARE
	a constant text := '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
	-- hex digits 18..32 of a version-4 UUID are all random (60 bits)
	v bigint := ('x' || lpad(substr(replace(gen_random_uuid()::text, '-',
	             ''), 18, 15), 16, '0'))::bit(64)::bigint;
	s text := '';
BEGIN
	FOR k IN 0..10 LOOP
		s := s || substr(a, ((v >> (5 * k)) & 31)::int + 1, 1);
	END LOOP;
	s := s || certificate_check_symbol(s);
	RETURN substr(s, 1, 4) || '-' || substr(s, 5, 4) || '-' || substr(s, 9, 4);
END
$$;

-- Indexes on the level alone: every row of a program has one of a few
-- levels, so they select nothing, yet a plan made on stale statistics
-- probed them and filtered by clinician once per row (issue 10).  The
-- indexes that lead with the clinician serve every question.
DROP INDEX exam_results_level_idx;
DROP INDEX enrollments_level_idx;

-- Fresh statistics for the tables an import joins, when more than a tenth
-- of a table changed since they were taken (the import before this one
-- loaded it, and autovacuum has not been by yet): a plan made for an
-- empty table probes a full one once per row.  ANALYZE samples a bounded
-- number of rows, so this costs the same whatever the table's size; a
-- table the importing user does not own is skipped with a warning.
CREATE FUNCTION import_fresh_stats(p_tables text[]) RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
	t text;
BEGIN
	FOR t IN SELECT s.relname FROM pg_stat_user_tables s
	          WHERE s.relid = ANY (SELECT to_regclass(x) FROM unnest(p_tables) x)
	            AND s.n_mod_since_analyze > 1000
	            AND s.n_mod_since_analyze > 0.1 * s.n_live_tup
	LOOP
		EXECUTE format('ANALYZE %I', t);
	END LOOP;
END
$$;

-- A check's one pass (import_rows_checked) becomes the staging table,
-- keyed by line (the merges update a row by its line) and analyzed.
CREATE FUNCTION import_rows_replace() RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
	DROP TABLE import_rows;
	ALTER TABLE import_rows_checked RENAME TO import_rows;
	ALTER TABLE import_rows ADD PRIMARY KEY (line);
	ANALYZE import_rows;
END
$$;

-- ---------------------------------------------------------------------------
-- Rosters
-- ---------------------------------------------------------------------------

-- The roster's checks that need the database, in one pass.  Each row gets
-- the first of its problems, in this order: the one C found while reading
-- it; a course dated after today; an unknown profession; an unknown or
-- ambiguous level; the same person and level as an earlier line; the same
-- NPI and level as an earlier line; an NPI that came with another email on
-- an earlier line; an email and an NPI naming two clinicians; an NPI other
-- than the one the clinician has; then rules 1 and 2 (enrollment_refusals(),
-- with the file's profession) for a row whose live enrollment does not
-- exist yet.  A row with no problem gets its clinician, its session and its
-- live enrollment when they exist, and the outcome its merge will have.
CREATE OR REPLACE FUNCTION import_roster_check() RETURNS void
LANGUAGE plpgsql
SET jit = off
SET work_mem = '64MB'
AS $$
BEGIN
	ANALYZE import_rows;
	PERFORM import_fresh_stats(ARRAY['clinicians', 'enrollments',
	                                 'course_sessions']);

	CREATE TEMP TABLE import_rows_checked ON COMMIT DROP AS
	WITH prof AS MATERIALIZED (
		SELECT t.profession, profession_lookup(t.profession) AS code
		  FROM (SELECT DISTINCT profession FROM import_rows
		         WHERE err_message IS NULL) t
	), lev AS MATERIALIZED (
		SELECT t.level, lr.id, lr.detail
		  FROM (SELECT DISTINCT level FROM import_rows
		         WHERE err_message IS NULL) t
		 CROSS JOIN LATERAL level_resolve(t.level) lr
	), known AS (
		SELECT string_agg(code, ', ' ORDER BY code) AS list FROM professions
	), a AS (
		-- the row's own problems: what C found, dates, profession, level
		-- (the questions about several rows work on these narrow rows,
		-- by hash aggregates and joins)
		SELECT r.line, lower(r.email) AS em, r.npi, p.code AS p_code,
		       l.id AS l_id, l.detail AS l_detail,
		       CASE WHEN r.err_message IS NOT NULL THEN 0
		            WHEN date_in_future(r.course_start)
		              OR date_in_future(r.course_end) THEN 1
		            WHEN p.code IS NULL THEN 2
		            WHEN l.id IS NULL THEN 3 END AS e
		  FROM import_rows r
		  LEFT JOIN prof p ON p.profession = r.profession
		  LEFT JOIN lev l ON l.level = r.level
	), sp AS (
		-- the first good line of each person and level
		SELECT a.em, a.l_id, min(a.line) AS first FROM a
		 WHERE a.e IS NULL GROUP BY a.em, a.l_id
	), b AS (
		SELECT a.*, sp.first AS same_person,
		       CASE WHEN a.e IS NULL AND sp.first < a.line THEN 4
		            ELSE a.e END AS e2
		  FROM a LEFT JOIN sp ON sp.em = a.em AND sp.l_id = a.l_id
	), sn AS (
		-- the first line still good of each NPI and level
		SELECT b.npi, b.l_id, min(b.line) AS first FROM b
		 WHERE b.e2 IS NULL AND b.npi IS NOT NULL GROUP BY b.npi, b.l_id
	), ne AS (
		-- each NPI's first line with an email, that email, and its first
		-- line with another email (any line of the file)
		SELECT x.npi, (array_agg(x.m ORDER BY x.m))[1] AS l1,
		       (array_agg(x.em ORDER BY x.m))[1] AS e1,
		       (array_agg(x.m ORDER BY x.m))[2] AS l2
		  FROM (SELECT a.npi, a.em, min(a.line) AS m FROM a
		         WHERE a.npi IS NOT NULL AND a.em IS NOT NULL
		         GROUP BY a.npi, a.em) x
		 GROUP BY x.npi
	), c AS (
		SELECT b.*, sn.first AS same_npi,
		       CASE WHEN b.e2 IS NOT NULL THEN b.e2
		            WHEN b.npi IS NOT NULL AND sn.first < b.line THEN 5
		            WHEN b.npi IS NOT NULL AND b.em IS NOT NULL
		             AND (b.em <> ne.e1 OR ne.l2 < b.line) THEN 6 END AS e3,
		       CASE WHEN b.em <> ne.e1 THEN ne.l1 ELSE ne.l2 END AS npi_other
		  FROM b
		  LEFT JOIN sn ON sn.npi = b.npi AND sn.l_id = b.l_id
		  LEFT JOIN ne ON ne.npi = b.npi
	), g AS (
		-- the clinicians the NPI and the email name
		SELECT c.*, cn.id AS cn_id, ce.id AS ce_id, ce.email AS ce_email,
		       ce.npi AS ce_npi, coalesce(cn.id, ce.id) AS k_id,
		       CASE WHEN cn.id IS NOT NULL THEN cn ELSE ce END AS k,
		       CASE WHEN c.e3 IS NOT NULL THEN c.e3
		            WHEN cn.id <> ce.id THEN 7
		            WHEN cn.id IS NULL AND c.npi IS NOT NULL
		             AND ce.npi IS NOT NULL AND ce.npi <> c.npi THEN 8 END AS e4
		  FROM c
		  LEFT JOIN clinicians cn ON cn.npi = c.npi
		  LEFT JOIN clinicians ce ON lower(ce.email) = c.em
	)
	SELECT r.line, r.given_name, r.family_name, r.email, r.npi, r.profession,
	       r.license_state, r.license_number, r.level, r.course_start,
	       r.course_end, r.location, r.instructor, r.completed,
	       CASE g.e4 WHEN 0 THEN r.err_column
	            WHEN 1 THEN CASE WHEN date_in_future(r.course_start)
	                        THEN 'course_start' ELSE 'course_end' END
	            WHEN 2 THEN 'profession' WHEN 3 THEN 'level'
	            WHEN 4 THEN 'email' WHEN 5 THEN 'npi' WHEN 6 THEN 'email'
	            WHEN 7 THEN 'email' WHEN 8 THEN 'npi' END AS err_column,
	       CASE g.e4 WHEN 0 THEN r.err_value
	            WHEN 1 THEN CASE WHEN date_in_future(r.course_start)
	                        THEN r.course_start ELSE r.course_end END::text
	            WHEN 2 THEN r.profession WHEN 3 THEN r.level
	            WHEN 4 THEN r.email WHEN 5 THEN r.npi WHEN 6 THEN r.email
	            WHEN 7 THEN r.email WHEN 8 THEN r.npi END AS err_value,
	       CASE g.e4 WHEN 0 THEN r.err_message
	            WHEN 1 THEN format('a course cannot be dated after today (%s)',
	                        CASE WHEN date_in_future(r.course_start)
	                        THEN r.course_start ELSE r.course_end END)
	            WHEN 2 THEN format('unknown profession ''%s'' (known: %s)',
	                        r.profession, (SELECT list FROM known))
	            WHEN 3 THEN g.l_detail
	            WHEN 4 THEN format('the same person and level as line %s',
	                        g.same_person)
	            WHEN 5 THEN format('the same NPI and level as line %s',
	                        g.same_npi)
	            WHEN 6 THEN format('NPI %s has another email on line %s',
	                        r.npi, g.npi_other)
	            WHEN 7 THEN format('the email belongs to clinician %s, the NPI to
	clinician %s', g.ce_id, g.cn_id)
	            WHEN 8 THEN format('clinician %s (%s) has NPI %s already',
	                        g.ce_id, g.ce_email, g.ce_npi) END AS err_message,
	       CASE WHEN g.e IS NULL OR g.e > 2 THEN g.p_code END AS profession_code,
	       CASE WHEN g.e IS NULL THEN g.l_id END AS level_id,
	       CASE WHEN g.e4 IS NULL THEN g.k_id END AS clinician_id,
	       s.id AS session_id, en.id AS enrollment_id,
	       en.status AS enrollment_status,
	       en.session_id AS enrollment_session_id,
	       CASE WHEN g.e4 IS NOT NULL THEN NULL
	            WHEN g.k_id IS NULL THEN 'created'
	            -- (each line against the clinician as they are: for a
	            -- person on several lines the merge sets right what this
	            -- misjudges)
	            WHEN (g.k).npi IS DISTINCT FROM coalesce(r.npi, (g.k).npi)
	              OR (g.k).email <> r.email
	              OR (g.k).given_name <> r.given_name
	              OR (g.k).family_name <> r.family_name
	              OR (g.k).profession_code <> g.p_code
	              OR (g.k).license_state IS DISTINCT FROM
	                 coalesce(r.license_state, (g.k).license_state)
	              OR (g.k).license_number IS DISTINCT FROM
	                 coalesce(r.license_number, (g.k).license_number)
	            THEN 'updated'
	            WHEN en.id IS NOT NULL AND en.session_id IS NULL
	             AND coalesce(r.course_start, r.course_end) IS NOT NULL
	            THEN 'updated'
	            WHEN en.id IS NULL THEN 'created'
	            WHEN r.completed AND en.status = 'enrolled' THEN 'updated'
	            ELSE 'unchanged' END AS outcome
	  FROM import_rows r
	  JOIN g ON g.line = r.line
	  LEFT JOIN enrollments en ON g.e4 IS NULL
	   AND en.clinician_id = g.k_id AND en.level_id = g.l_id
	   AND en.status <> 'withdrawn'
	  LEFT JOIN course_sessions s ON g.e4 IS NULL
	   AND s.level_id = g.l_id
	   AND s.starts_on = coalesce(r.course_start, r.course_end)
	   AND s.ends_on = coalesce(r.course_end, r.course_start)
	   AND s.location IS NOT DISTINCT FROM r.location;

	PERFORM import_rows_replace();

	-- rules 1 and 2, before anything of the row is written, with the
	-- profession the file gives (a new clinician holds no certificates);
	-- an existing live enrollment is not enrolled again
	UPDATE import_rows r SET err_column = CASE WHEN f.code =
		'profession_not_eligible' THEN 'profession' ELSE 'level' END,
		err_value = CASE WHEN f.code = 'profession_not_eligible'
		THEN r.profession ELSE r.level END, err_message = f.detail,
		outcome = NULL
		FROM enrollment_refusals(ARRAY(
			SELECT ROW(x.line, x.clinician_id, x.profession_code,
			           x.level_id)::enroll_candidate
			  FROM import_rows x
			 WHERE x.err_message IS NULL AND x.enrollment_id IS NULL)) f
		WHERE r.line = f.line;
END
$$;

-- The roster's merge of the rows without errors: sessions and clinicians
-- created or updated, then enrollments and completions through
-- enrollment_create() and enrollment_complete() (which issue the
-- certificates now due); an audit row for everything written, carrying
-- the import's id, in the statement that writes it.  Rows a write refuses
-- get its refusal; rows whose outcome is not the one the check predicted
-- (a refusal moved a person's first good line) get the real one.
CREATE OR REPLACE FUNCTION import_roster_merge() RETURNS void
LANGUAGE plpgsql
SET jit = off
SET work_mem = '64MB'
AS $$
DECLARE
	v_updated bigint[];
	v_sessioned bigint[];
	v_completed bigint[];
BEGIN
	-- course sessions not there yet
	WITH s AS (
		INSERT INTO course_sessions (level_id, starts_on, ends_on, location,
			instructor)
		SELECT DISTINCT ON (level_id, coalesce(course_start, course_end),
			coalesce(course_end, course_start), location)
			level_id, coalesce(course_start, course_end),
			coalesce(course_end, course_start), location, instructor
		  FROM import_rows
		 WHERE err_message IS NULL AND session_id IS NULL
		   AND coalesce(course_start, course_end) IS NOT NULL
		 ORDER BY level_id, coalesce(course_start, course_end),
		       coalesce(course_end, course_start), location, line
		ON CONFLICT ON CONSTRAINT course_sessions_natural_key DO NOTHING
		RETURNING *
	)
	INSERT INTO audit_log (action, entity, entity_id, after)
	SELECT 'session.create', 'course_session', s.id::text, to_jsonb(s)
	  FROM s;

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
	)
	INSERT INTO audit_log (action, entity, entity_id, after)
	SELECT 'clinician.create', 'clinician', c.id::text, to_jsonb(c)
	  FROM c;

	-- known clinicians whose details changed, as their first good line
	-- gives them
	WITH r AS (
		SELECT DISTINCT ON (clinician_id) * FROM import_rows
		 WHERE err_message IS NULL AND clinician_id IS NOT NULL
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
	)
	SELECT array_agg(u.id) INTO v_updated FROM u;

	-- live enrollments given the session they lacked
	WITH p AS (
		SELECT r.enrollment_id, s.id AS session_id
		  FROM import_rows r
		  JOIN course_sessions s ON s.level_id = r.level_id
		   AND s.starts_on = coalesce(r.course_start, r.course_end)
		   AND s.ends_on = coalesce(r.course_end, r.course_start)
		   AND s.location IS NOT DISTINCT FROM r.location
		 WHERE r.err_message IS NULL AND r.enrollment_id IS NOT NULL
		   AND r.enrollment_session_id IS NULL
	), old AS (
		SELECT e.* FROM enrollments e JOIN p ON p.enrollment_id = e.id
		 WHERE e.session_id IS NULL
	), u AS (
		UPDATE enrollments e SET session_id = p.session_id,
		       updated_at = now()
		  FROM p JOIN old ON old.id = p.enrollment_id
		 WHERE e.id = p.enrollment_id
		RETURNING e.*
	), a AS (
		INSERT INTO audit_log (action, entity, entity_id, before, after)
		SELECT 'enrollment.update', 'enrollment', u.id::text,
		       to_jsonb(old), to_jsonb(u)
		  FROM u JOIN old ON old.id = u.id
	)
	SELECT array_agg(u.id) INTO v_sessioned FROM u;

	-- new enrollments (completed, for a row that says so), as the API
	-- makes them, rules 1 and 2 asked by the check; only the rows it
	-- refuses are marked, so the completions below skip them
	UPDATE import_rows r SET outcome = NULL,
		err_column = coalesce(v.field, 'level'),
		err_value = CASE v.field WHEN 'profession' THEN r.profession
		            WHEN 'level' THEN r.level END,
		err_message = v.detail
		FROM enrollment_create(ARRAY(
			SELECT ROW(x.line, coalesce(x.clinician_id, k.id), x.level_id,
			           s.id, CASE WHEN x.completed
			           THEN coalesce(x.course_end, x.course_start) END)::enroll_entry
			  FROM import_rows x
			  LEFT JOIN clinicians k ON x.clinician_id IS NULL
			   AND lower(k.email) = lower(x.email)
			  LEFT JOIN course_sessions s ON s.level_id = x.level_id
			   AND s.starts_on = coalesce(x.course_start, x.course_end)
			   AND s.ends_on = coalesce(x.course_end, x.course_start)
			   AND s.location IS NOT DISTINCT FROM x.location
			 WHERE x.err_message IS NULL AND x.enrollment_id IS NULL), true) v
		WHERE r.line = v.line AND v.code IS NOT NULL;

	-- completions of enrollments that existed already, as the API records
	-- them (issuing what is now due)
	WITH v AS (
		SELECT * FROM enrollment_complete(ARRAY(
			SELECT ROW(x.line, x.enrollment_id,
			           coalesce(x.course_end, x.course_start))::completion_entry
			  FROM import_rows x
			 WHERE x.err_message IS NULL AND x.completed
			   AND x.enrollment_status = 'enrolled'))
	), refused AS (
		UPDATE import_rows r SET outcome = NULL,
			err_column = 'completed', err_value = 'yes',
			err_message = v.detail
		  FROM v WHERE r.line = v.line AND v.code IS NOT NULL
	)
	SELECT array_agg(v.id) INTO v_completed FROM v WHERE v.code IS NULL;

	-- the outcome each good row had, where the check's prediction missed
	UPDATE import_rows r SET outcome = o.outcome
	  FROM (SELECT x.line, CASE
	               WHEN x.clinician_id IS NULL THEN 'created'
	               WHEN u.id IS NOT NULL THEN 'updated'
	               WHEN s.id IS NOT NULL THEN 'updated'
	               WHEN x.enrollment_id IS NULL THEN 'created'
	               WHEN k.id IS NOT NULL THEN 'updated'
	               ELSE 'unchanged' END AS outcome
	          FROM import_rows x
	          LEFT JOIN (SELECT DISTINCT t.id FROM unnest(v_updated) t(id)) u
	            ON u.id = x.clinician_id
	          LEFT JOIN unnest(v_sessioned) s(id) ON s.id = x.enrollment_id
	          LEFT JOIN unnest(v_completed) k(id) ON k.id = x.enrollment_id
	         WHERE x.err_message IS NULL) o
	 WHERE r.line = o.line AND r.outcome IS DISTINCT FROM o.outcome;
END
$$;

-- ---------------------------------------------------------------------------
-- Results sheets
-- ---------------------------------------------------------------------------

-- The results sheet's checks that need the database, in one pass: the
-- level; the clinician (by NPI when the row has one, else by email); the
-- same exam and date twice in the file; a result already recorded for
-- that sitting (the same score: unchanged; another score: a conflict to
-- settle by amending); then the order (generation) in which each person's
-- new attempts are recorded.  A row with no problem and nothing recorded
-- is predicted created.
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
		-- what is recorded for the sitting of each good row
		SELECT c.line,
		       bool_or(x.score = c.score AND x.max_score = c.max_score) AS same,
		       (array_agg(x.attempt ORDER BY x.attempt))[1] AS o_attempt,
		       (array_agg(x.taken_on ORDER BY x.attempt))[1] AS o_taken_on,
		       (array_agg(x.score ORDER BY x.attempt))[1] AS o_score,
		       (array_agg(x.max_score ORDER BY x.attempt))[1] AS o_max_score
		  FROM c JOIN exam_results_current x ON x.clinician_id = c.k_id
		   AND x.level_id = c.l_id AND x.kind = c.kind
		   AND x.taken_on = c.taken_on
		 WHERE c.e IS NULL AND NOT c.first < c.line
		 GROUP BY c.line
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

-- The results sheet's merge: exam_record() generation by generation, so a
-- sheet's second attempt of one person meets the rules (attempts, retake
-- wait) with its first already recorded; the certificates now due are
-- issued by exam_record() itself.  Only the rows it refuses are updated.
-- P_GRADER grades the results when no write_context() was set (a psql
-- session).
CREATE OR REPLACE FUNCTION import_results_merge(p_grader bigint) RETURNS void
LANGUAGE plpgsql
SET jit = off
SET work_mem = '64MB'
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
		UPDATE import_rows r SET outcome = NULL,
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
			WHERE r.line = v.line AND v.code IS NOT NULL;
	END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- Notifications for the daemons' caches (issue 10, item 4)
-- ---------------------------------------------------------------------------

-- Every statement that changes what a clinician's status or a certificate's
-- verification answers tells the daemons, in its own transaction (so only
-- when it commits): pg_notify('certrack_cache', ids), the clinicians whose
-- answers changed, comma-separated; '*' when the change touches every
-- answer (a program, a level, a profession, a session's dates) or names
-- more clinicians than a notification should carry.  Each daemon's
-- listener drops those answers (server/cache.c).  Statement-level
-- triggers with transition tables: one notification per statement, never
-- one per row, so an import's million rows cost one '*'.

CREATE FUNCTION cache_notify_rows() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
	-- the rows the statement changed (transition tables named old_rows
	-- and new_rows), and the column naming the clinician: TG_ARGV[0]
	v_from text := CASE TG_OP
		WHEN 'INSERT' THEN 'new_rows'
		WHEN 'DELETE' THEN 'old_rows'
		ELSE '(SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows)' END;
	v_n bigint;
	v_ids text;
BEGIN
	EXECUTE format('SELECT count(*) FROM %s t', v_from) INTO v_n;
	IF v_n > 200 THEN
		PERFORM pg_notify('certrack_cache', '*');
		RETURN NULL;
	END IF;
	EXECUTE format('SELECT string_agg(DISTINCT t.%I::text, '','') FROM %s t',
	               TG_ARGV[0], v_from) INTO v_ids;
	IF v_ids IS NOT NULL THEN
		PERFORM pg_notify('certrack_cache', v_ids);
	END IF;
	RETURN NULL;
END
$$;

-- For a table whose changes touch every answer.
CREATE FUNCTION cache_notify_all() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	PERFORM pg_notify('certrack_cache', '*');
	RETURN NULL;
END
$$;

-- Transition tables are named for one event per trigger: a trigger per
-- table and event that matters.  (A new clinician has no answer cached: a
-- lookup of an unknown id is never cached.  Exam results are append-only:
-- an amendment is an insert.)
DO $$
DECLARE
	t record;
BEGIN
	FOR t IN SELECT * FROM (VALUES
		('clinicians', 'id', 'UPDATE'), ('clinicians', 'id', 'DELETE'),
		('enrollments', 'clinician_id', 'INSERT'),
		('enrollments', 'clinician_id', 'UPDATE'),
		('enrollments', 'clinician_id', 'DELETE'),
		('exam_results', 'clinician_id', 'INSERT'),
		('certificates', 'clinician_id', 'INSERT'),
		('certificates', 'clinician_id', 'UPDATE'),
		('certificates', 'clinician_id', 'DELETE'))
		AS v(tab, col, ev)
	LOOP
		EXECUTE format('CREATE TRIGGER %I AFTER %s ON %I REFERENCING %s'
		               ' FOR EACH STATEMENT EXECUTE FUNCTION'
		               ' cache_notify_rows(%L)',
		               t.tab || '_cache_' || lower(t.ev), t.ev, t.tab,
		               CASE t.ev WHEN 'INSERT' THEN 'NEW TABLE AS new_rows'
		               WHEN 'DELETE' THEN 'OLD TABLE AS old_rows'
		               ELSE 'OLD TABLE AS old_rows NEW TABLE AS new_rows' END,
		               t.col);
	END LOOP;
	-- a session's dates and place, and the program's rules, are in
	-- every answer that names them
	FOR t IN SELECT * FROM (VALUES ('course_sessions', 'UPDATE OR DELETE'),
		('programs', 'INSERT OR UPDATE OR DELETE'),
		('levels', 'INSERT OR UPDATE OR DELETE'),
		('level_prerequisites', 'INSERT OR UPDATE OR DELETE'),
		('professions', 'INSERT OR UPDATE OR DELETE'),
		('program_professions', 'INSERT OR UPDATE OR DELETE'))
		AS v(tab, evs)
	LOOP
		EXECUTE format('CREATE TRIGGER %I AFTER %s OR TRUNCATE ON %I'
		               ' FOR EACH STATEMENT EXECUTE FUNCTION'
		               ' cache_notify_all()', t.tab || '_cache', t.evs,
		               t.tab);
	END LOOP;
END
$$;
