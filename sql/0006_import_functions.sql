-- The CSV import's checks and merges, as functions over the import's staging
-- table (a temporary table named import_rows, made by
-- import_staging_create()).  The daemon streams a file into that table over
-- COPY and calls these; a hand-written path (psql's \copy) can call the very
-- same ones, which is how the benchmark measures the daemon against it.
-- Each function works on the whole table at once; the rule functions of
-- 0003/0005 are applied per row with LATERAL joins, so the API (a set of
-- one) and the import share one implementation of every rule.

CREATE FUNCTION import_staging_create(p_kind text) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
	IF p_kind = 'roster' THEN
		CREATE TEMP TABLE import_rows (
			line int NOT NULL, given_name text, family_name text,
			email text, npi text, profession text, license_state text,
			license_number text, level text, course_start date,
			course_end date, location text, instructor text,
			completed boolean,
			err_column text, err_value text, err_message text,
			profession_code text, level_id bigint, clinician_id bigint,
			session_id bigint, enrollment_id bigint, outcome text
		) ON COMMIT DROP;
	ELSIF p_kind = 'results' THEN
		CREATE TEMP TABLE import_rows (
			line int NOT NULL, npi text, email text, level text,
			kind text, score numeric, max_score numeric, taken_on date,
			err_column text, err_value text, err_message text,
			level_id bigint, clinician_id bigint, generation int,
			outcome text
		) ON COMMIT DROP;
	ELSE
		RAISE EXCEPTION 'unknown import kind %', p_kind
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
END
$$;

-- Roster: the checks that need the database.  Marks err_* on bad rows.
CREATE FUNCTION import_roster_check() RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
	ANALYZE import_rows;

	-- professions: a code or an alias, any case
	UPDATE import_rows SET profession_code = profession_lookup(profession)
		WHERE err_message IS NULL;

	UPDATE import_rows SET err_column = 'profession', err_value = profession,
		err_message = format('unknown profession ''%s'' (known: %s)',
		profession, (SELECT string_agg(code, ', ' ORDER BY code)
		FROM professions))
		WHERE err_message IS NULL AND profession_code IS NULL;

	-- levels: by code or title
	UPDATE import_rows r SET level_id = l.id FROM levels l
		WHERE r.err_message IS NULL AND (upper(btrim(r.level)) = l.code
		OR lower(btrim(r.level)) = lower(l.title));

	UPDATE import_rows SET err_column = 'level', err_value = level,
		err_message = format('there is no level ''%s'' (levels: %s)', level,
		(SELECT string_agg(code || ' ' || title, ', ' ORDER BY ordinal)
		FROM levels))
		WHERE err_message IS NULL AND level_id IS NULL;

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

	-- eligibility and prerequisites: the rule, with the profession the file gives (a new clinician has no certificates yet)
	UPDATE import_rows r SET err_column = CASE WHEN f.code =
		'profession_not_eligible' THEN 'profession' ELSE 'level' END,
		err_value = CASE WHEN f.code = 'profession_not_eligible'
		THEN r.profession ELSE r.level END, err_message = f.detail
		FROM import_rows x CROSS JOIN LATERAL
		enrollment_refusal_for(x.clinician_id, x.profession_code, x.level_id) f
		WHERE r.line = x.line AND r.err_message IS NULL
		AND NOT EXISTS (SELECT 1 FROM enrollments e
		WHERE e.clinician_id = r.clinician_id AND e.level_id = r.level_id
		AND e.status <> 'withdrawn');
END
$$;

-- Roster: the merge of the rows without errors (sessions, clinicians,
-- enrollments, certificates); sets outcome created/updated/unchanged.
CREATE FUNCTION import_roster_merge() RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
	-- course sessions, created or reused
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
		ON CONFLICT ON CONSTRAINT course_sessions_natural_key DO NOTHING;

	-- (a session that exists is not offered: it would use up an id)
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
		RETURNING id, email
	) UPDATE import_rows r SET clinician_id = c.id, outcome = 'created'
		FROM c WHERE r.err_message IS NULL AND r.clinician_id IS NULL
		AND lower(r.email) = lower(c.email);

	-- existing clinicians whose details changed
	WITH u AS (
		UPDATE clinicians c SET npi = coalesce(r.npi, c.npi),
		email = r.email, given_name = r.given_name,
		family_name = r.family_name, profession_code = r.profession_code,
		license_state = coalesce(r.license_state, c.license_state),
		license_number = coalesce(r.license_number, c.license_number),
		version = c.version + 1, updated_at = now()
		FROM (SELECT DISTINCT ON (clinician_id) * FROM import_rows
		WHERE err_message IS NULL AND outcome IS NULL
		ORDER BY clinician_id, line) r
		WHERE c.id = r.clinician_id AND (
		c.npi IS DISTINCT FROM coalesce(r.npi, c.npi)
		OR c.email <> r.email OR c.given_name <> r.given_name
		OR c.family_name <> r.family_name
		OR c.profession_code <> r.profession_code
		OR c.license_state IS DISTINCT FROM
		coalesce(r.license_state, c.license_state)
		OR c.license_number IS DISTINCT FROM
		coalesce(r.license_number, c.license_number))
		RETURNING c.id
	) UPDATE import_rows r SET outcome = 'updated' FROM u
		WHERE r.clinician_id = u.id AND r.err_message IS NULL
		AND r.outcome IS NULL;

	-- live enrollments that exist already
	UPDATE import_rows r SET enrollment_id = e.id FROM enrollments e
		WHERE r.err_message IS NULL AND e.clinician_id = r.clinician_id
		AND e.level_id = r.level_id AND e.status <> 'withdrawn';

	-- ... completed now, or given their session
	WITH u AS (
		UPDATE enrollments e SET
		status = CASE WHEN r.completed THEN 'completed' ELSE e.status END,
		completed_on = CASE WHEN r.completed AND e.status = 'enrolled'
		THEN coalesce(r.course_end, r.course_start) ELSE e.completed_on END,
		session_id = coalesce(e.session_id, r.session_id),
		updated_at = now()
		FROM import_rows r
		WHERE r.err_message IS NULL AND e.id = r.enrollment_id AND (
		(r.completed AND e.status = 'enrolled')
		OR (e.session_id IS NULL AND r.session_id IS NOT NULL))
		RETURNING e.id
	) UPDATE import_rows r SET outcome = coalesce(r.outcome, 'updated')
		FROM u WHERE r.enrollment_id = u.id;

	-- ... and new ones
	WITH e AS (
		INSERT INTO enrollments (clinician_id, level_id, session_id, status,
		completed_on)
		SELECT clinician_id, level_id, session_id,
		CASE WHEN completed THEN 'completed' ELSE 'enrolled' END,
		CASE WHEN completed THEN coalesce(course_end, course_start) END
		FROM import_rows WHERE err_message IS NULL AND enrollment_id IS NULL
		RETURNING id, clinician_id, level_id
	) UPDATE import_rows r SET enrollment_id = e.id,
		outcome = coalesce(r.outcome, 'created')
		FROM e WHERE r.err_message IS NULL AND r.clinician_id = e.clinician_id
		AND r.level_id = e.level_id AND r.enrollment_id IS NULL;

	-- certificates now due, exactly as the API issues them
	PERFORM certificate_issue_due(d.clinician_id, d.level_id)
		FROM certificates_due d
		WHERE (d.clinician_id, d.level_id) IN (SELECT clinician_id, level_id
		FROM import_rows WHERE err_message IS NULL);

	UPDATE import_rows SET outcome = 'unchanged'
		WHERE err_message IS NULL AND outcome IS NULL;
END
$$;

-- Results: the checks that need the database, and the order (generation)
-- in which each person's new attempts are recorded.
CREATE FUNCTION import_results_check() RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
	ANALYZE import_rows;

	UPDATE import_rows r SET level_id = l.id FROM levels l
		WHERE r.err_message IS NULL AND (upper(btrim(r.level)) = l.code
		OR lower(btrim(r.level)) = lower(l.title));

	UPDATE import_rows SET err_column = 'level', err_value = level,
		err_message = format('there is no level ''%s'' (levels: %s)', level,
		(SELECT string_agg(code || ' ' || title, ', ' ORDER BY ordinal)
		FROM levels))
		WHERE err_message IS NULL AND level_id IS NULL;

	UPDATE import_rows r SET clinician_id = CASE WHEN r.npi IS NOT NULL
		THEN (SELECT c.id FROM clinicians c WHERE c.npi = r.npi)
		ELSE (SELECT c.id FROM clinicians c
		WHERE lower(c.email) = lower(r.email)) END
		WHERE r.err_message IS NULL;

	UPDATE import_rows SET
		err_column = CASE WHEN npi IS NOT NULL THEN 'npi' ELSE 'email' END,
		err_value = coalesce(npi, email),
		err_message = CASE WHEN npi IS NOT NULL
		THEN format('there is no clinician with NPI %s', npi)
		ELSE format('there is no clinician with email ''%s''', email) END
		WHERE err_message IS NULL AND clinician_id IS NULL;

	-- one exam on one day, once per file
	UPDATE import_rows r SET err_column = 'taken_on',
		err_value = r.taken_on::text,
		err_message = format('the same exam and date as line %s', d.first)
		FROM (SELECT line, min(line) OVER (PARTITION BY clinician_id, level_id,
		kind, taken_on) AS first FROM import_rows
		WHERE err_message IS NULL) d
		WHERE r.line = d.line AND d.first < d.line;

	-- already recorded: the same result is nothing new, another score for the same sitting is a conflict to settle by amending
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

-- Results: one generation at a time, so a sheet's second attempt meets the
-- rules (attempts, retake wait) with its first already recorded; then the
-- certificates now due.  p_grader is the user the results are graded by.
CREATE FUNCTION import_results_merge(p_grader bigint) RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
	g int;
	last int;
BEGIN
	SELECT coalesce(max(generation), 0) INTO last
	  FROM import_rows WHERE err_message IS NULL;
	FOR g IN 1..last LOOP
		UPDATE import_rows r SET err_column = CASE f.code
			WHEN 'retake_too_soon' THEN 'taken_on' WHEN 'not_enrolled' THEN
			'level' ELSE 'kind' END,
			err_value = CASE f.code WHEN 'retake_too_soon' THEN r.taken_on::text
			WHEN 'not_enrolled' THEN r.level ELSE r.kind END,
			err_message = f.detail
			FROM import_rows x CROSS JOIN LATERAL
			exam_refusal(x.clinician_id, x.level_id, x.kind, x.taken_on) f
			WHERE r.line = x.line AND x.generation = g
			AND r.err_message IS NULL;

		WITH i AS (
			INSERT INTO exam_results (clinician_id, level_id, kind, attempt,
			score, max_score, pass_mark, passed, taken_on, graded_by)
			SELECT r.clinician_id, r.level_id, r.kind,
			next_attempt(r.clinician_id, r.level_id, r.kind), r.score,
			r.max_score, m.mark, exam_passed(r.score, r.max_score, m.mark),
			r.taken_on, p_grader
			FROM import_rows r JOIN levels l ON l.id = r.level_id
			CROSS JOIN LATERAL (SELECT CASE r.kind WHEN 'written'
			THEN l.written_pass_mark ELSE l.practical_pass_mark END AS mark) m
			WHERE r.generation = g AND r.err_message IS NULL
			RETURNING clinician_id, level_id, kind, taken_on
		) UPDATE import_rows r SET outcome = 'created' FROM i
			WHERE r.generation = g AND r.err_message IS NULL
			AND (r.clinician_id, r.level_id, r.kind, r.taken_on)
			= (i.clinician_id, i.level_id, i.kind, i.taken_on);
	END LOOP;
	PERFORM certificate_issue_due(d.clinician_id, d.level_id)
	   FROM certificates_due d
	  WHERE (d.clinician_id, d.level_id) IN
	        (SELECT clinician_id, level_id FROM import_rows
	          WHERE outcome = 'created');
END
$$;
