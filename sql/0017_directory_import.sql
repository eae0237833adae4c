-- The directory's fields in roster imports (issue 12): a roster may carry
-- directory_listed, practice_city, practice_state, practice_zip and
-- public_contact (0014) as optional columns.  Their values are read in C
-- by the readers the API uses (lib/value.c: a state, a ZIP code, the text
-- limits, and yes/no), so a file and a request accept exactly the same
-- things, and the constraints of 0014 stay the last line behind both.
--
-- A column the file does not have, and an empty cell of one it has, leave
-- the clinician's value as it is: an import never clears what a clinician
-- set in self-service (clearing is done through the API or the web page).
-- A new clinician is not listed unless the row says so.  City and contact
-- are stored trimmed, as the API stores them.  A clinician whose directory
-- fields change is "updated"; the same file imported again is "unchanged".
--
-- The check and the merge are those of 0015 with these five columns
-- carried through the same single passes; whether a row changes a known
-- clinician is now asked of one function, by the check (to predict the
-- outcome) and by the merge (to write).

-- The staging table of 0006, the roster's with the directory's columns.
CREATE OR REPLACE FUNCTION import_staging_create(p_kind text) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
	IF p_kind = 'roster' THEN
		CREATE TEMP TABLE import_rows (
			line int NOT NULL, given_name text, family_name text,
			email text, npi text, profession text, license_state text,
			license_number text, level text, course_start date,
			course_end date, location text, instructor text,
			completed boolean, directory_listed boolean,
			practice_city text, practice_state text, practice_zip text,
			public_contact text,
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

-- Whether a roster row's values change clinician K: a value the row does
-- not give (NULL) changes nothing; email, names and profession are always
-- given.  Inlined into the queries that call it.
CREATE FUNCTION roster_row_changes(k clinicians, p_npi text, p_email text,
    p_given_name text, p_family_name text, p_profession_code text,
    p_license_state text, p_license_number text, p_listed boolean,
    p_city text, p_state text, p_zip text, p_contact text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT k.npi IS DISTINCT FROM coalesce(p_npi, k.npi)
	    OR k.email <> p_email OR k.given_name <> p_given_name
	    OR k.family_name <> p_family_name
	    OR k.profession_code <> p_profession_code
	    OR k.license_state IS DISTINCT FROM coalesce(p_license_state, k.license_state)
	    OR k.license_number IS DISTINCT FROM coalesce(p_license_number, k.license_number)
	    OR k.directory_listed IS DISTINCT FROM coalesce(p_listed, k.directory_listed)
	    OR k.practice_city IS DISTINCT FROM coalesce(p_city, k.practice_city)
	    OR k.practice_state IS DISTINCT FROM coalesce(p_state, k.practice_state)
	    OR k.practice_zip IS DISTINCT FROM coalesce(p_zip, k.practice_zip)
	    OR k.public_contact IS DISTINCT FROM coalesce(p_contact, k.public_contact)
$$;

-- The roster's check of 0015: the directory's columns carried into the
-- checked table (city and contact trimmed), and a row that changes them
-- predicted "updated".
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
	       r.directory_listed, btrim(r.practice_city) AS practice_city,
	       r.practice_state, r.practice_zip,
	       btrim(r.public_contact) AS public_contact,
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
	            WHEN roster_row_changes(g.k, r.npi, r.email, r.given_name,
	                 r.family_name, g.p_code, r.license_state,
	                 r.license_number, r.directory_listed,
	                 btrim(r.practice_city), r.practice_state, r.practice_zip,
	                 btrim(r.public_contact))
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

-- The roster's merge of 0015: new clinicians get the directory's values the
-- row gives (unlisted when it gives none); known ones get those the row
-- gives, in the same update and audit row as their other details.
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
		profession_code, license_state, license_number, directory_listed,
		practice_city, practice_state, practice_zip, public_contact)
		SELECT npi, email, given_name, family_name, profession_code,
		license_state, license_number, coalesce(directory_listed, false),
		practice_city, practice_state, practice_zip, public_contact FROM n
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
		 WHERE roster_row_changes(c, r.npi, r.email, r.given_name,
		       r.family_name, r.profession_code, r.license_state,
		       r.license_number, r.directory_listed, r.practice_city,
		       r.practice_state, r.practice_zip, r.public_contact)
	), u AS (
		UPDATE clinicians c SET npi = coalesce(r.npi, c.npi),
		email = r.email, given_name = r.given_name,
		family_name = r.family_name, profession_code = r.profession_code,
		license_state = coalesce(r.license_state, c.license_state),
		license_number = coalesce(r.license_number, c.license_number),
		directory_listed = coalesce(r.directory_listed, c.directory_listed),
		practice_city = coalesce(r.practice_city, c.practice_city),
		practice_state = coalesce(r.practice_state, c.practice_state),
		practice_zip = coalesce(r.practice_zip, c.practice_zip),
		public_contact = coalesce(r.public_contact, c.public_contact),
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

