-- A roster's check at the cost of hand-written SQL (issue 10, item 3:
-- the million-row roster's re-import measured 1.21x, its check 19.4 s of
-- the 25 s; the hand-written path resolved and checked the same file in
-- 12.5 s).
--
-- import_roster_check() (sql/0015, as sql/0017, 0023 and 0028 left it)
-- kept each row's own problems (CTE a) and the same with the first line
-- of each person and level (CTE b) in tuplestores, joined a hash
-- aggregate of every person and level in the file back to every line
-- (a million groups, one a line: the file names each person once), and
-- in the end joined the staging table's wide rows back to the narrow
-- ones by line (a hash of a million rows of about 560 bytes, in eight
-- batches on disk).  The error code of a row (e4) was computed again by
-- every expression that read it, among them the join filter of the
-- course sessions, which PostgreSQL evaluated for each of the eight
-- sessions that share a level and dates: seven million times.
--
-- Now:
-- - a row's own problems are read again where a question needs them
--   (NOT MATERIALIZED: a scan of the staging table and two joins to the
--   handful of professions and levels), with every column the result
--   needs, so nothing is joined back by line;
-- - the questions about several lines keep only the keys on several
--   lines (HAVING count(*) > 1; an NPI's emails only for the NPIs with
--   two emails or more): a line whose key is alone in the file finds
--   nothing there, as it found a group of one before, which never came
--   before it -- the same errors on the same lines;
-- - the error code is computed once per row (OFFSET 0), and a failed row
--   carries no keys for its enrollment and session, so those joins are
--   plain hash joins; the session's location joins by hash too (a NULL
--   location still matches only a NULL one);
-- - merge joins are off for the check: with the questions about several
--   lines now small, PostgreSQL sorted the million wide rows twice to
--   merge them with the clinicians' indexes (email, then NPI), which cost
--   more than the hash joins it would otherwise choose.
-- The same rows, errors and outcomes (tests/e2e_import.c); on the
-- benchmark's million-row roster the statement took 11.5-12.2 s where it
-- took 15.9-16.7 s with the clinicians in the database (a re-import), and
-- 6.2-7.3 s where 9.8-13.0 s on a first import (one session, CPU seconds
-- of the backend alike).
CREATE OR REPLACE FUNCTION import_roster_check() RETURNS void
LANGUAGE plpgsql
SET jit = off
SET work_mem = '64MB'
SET enable_mergejoin = off
AS $$
BEGIN
	PERFORM import_rows_analyze();
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
	), a AS NOT MATERIALIZED (
		-- each row with its own problems: what C found, dates, profession,
		-- level (read again by each question below, never stored)
		SELECT r.line, r.given_name, r.family_name, r.email, r.npi,
		       r.profession, r.license_state, r.license_number, r.level,
		       r.course_start, r.course_end, r.location, r.instructor,
		       r.completed, r.directory_listed, r.practice_city,
		       r.practice_state, r.practice_zip, r.public_contact,
		       r.err_column, r.err_value, r.err_message,
		       lower(r.email) AS em, p.code AS p_code,
		       l.id AS l_id, l.detail AS l_detail,
		       CASE WHEN r.err_message IS NOT NULL THEN 0
		            WHEN date_in_future(r.course_start)
		              OR date_in_future(r.course_end) THEN 1
		            WHEN p.code IS NULL THEN 2
		            WHEN l.id IS NULL THEN 3 END AS e
		  FROM import_rows r
		  LEFT JOIN prof p ON p.profession = r.profession
		  LEFT JOIN lev l ON l.level = r.level
	), sp AS MATERIALIZED (
		-- the first good line of each person and level on several lines
		SELECT a.em, a.l_id, min(a.line) AS first FROM a
		 WHERE a.e IS NULL GROUP BY a.em, a.l_id HAVING count(*) > 1
	), b AS NOT MATERIALIZED (
		SELECT a.*, sp.first AS same_person,
		       CASE WHEN a.e IS NULL AND sp.first < a.line THEN 4
		            ELSE a.e END AS e2
		  FROM a LEFT JOIN sp ON sp.em = a.em AND sp.l_id = a.l_id
	), sn AS MATERIALIZED (
		-- the first line still good of each NPI and level on several lines
		SELECT b.npi, b.l_id, min(b.line) AS first FROM b
		 WHERE b.e2 IS NULL AND b.npi IS NOT NULL GROUP BY b.npi, b.l_id
		HAVING count(*) > 1
	), ne AS MATERIALIZED (
		-- each NPI with two emails or more: its first line with an email,
		-- that email, and its first line with another email
		SELECT x.npi, (array_agg(x.m ORDER BY x.m))[1] AS l1,
		       (array_agg(x.em ORDER BY x.m))[1] AS e1,
		       (array_agg(x.m ORDER BY x.m))[2] AS l2
		  FROM (SELECT a.npi, a.em, min(a.line) AS m FROM a
		         WHERE a.npi IN (SELECT a.npi FROM a
		                          WHERE a.npi IS NOT NULL AND a.em IS NOT NULL
		                          GROUP BY a.npi HAVING min(a.em) <> max(a.em))
		           AND a.em IS NOT NULL
		         GROUP BY a.npi, a.em) x
		 GROUP BY x.npi
	), c AS NOT MATERIALIZED (
		SELECT b.*, sn.first AS same_npi,
		       CASE WHEN b.e2 IS NOT NULL THEN b.e2
		            WHEN b.npi IS NOT NULL AND sn.first < b.line THEN 5
		            WHEN b.npi IS NOT NULL AND b.em IS NOT NULL
		             AND (b.em <> ne.e1 OR ne.l2 < b.line) THEN 6 END AS e3,
		       CASE WHEN b.em <> ne.e1 THEN ne.l1 ELSE ne.l2 END AS npi_other
		  FROM b
		  LEFT JOIN sn ON sn.npi = b.npi AND sn.l_id = b.l_id
		  LEFT JOIN ne ON ne.npi = b.npi
	), g0 AS (
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
		OFFSET 0
	), g AS (
		-- (the keys of its enrollment and session: none for a failed row)
		SELECT g0.*, CASE WHEN g0.e4 IS NULL THEN g0.k_id END AS ok_k,
		       CASE WHEN g0.e4 IS NULL THEN g0.l_id END AS ok_l
		  FROM g0 OFFSET 0
	)
	SELECT r.line, r.given_name, r.family_name, r.email, r.npi, r.profession,
	       r.license_state, r.license_number, r.level, r.course_start,
	       r.course_end, r.location, r.instructor, r.completed,
	       r.directory_listed, btrim(r.practice_city) AS practice_city,
	       r.practice_state, r.practice_zip,
	       btrim(r.public_contact) AS public_contact,
	       CASE r.e4 WHEN 0 THEN r.err_column
	            WHEN 1 THEN CASE WHEN date_in_future(r.course_start)
	                        THEN 'course_start' ELSE 'course_end' END
	            WHEN 2 THEN 'profession' WHEN 3 THEN 'level'
	            WHEN 4 THEN 'email' WHEN 5 THEN 'npi' WHEN 6 THEN 'email'
	            WHEN 7 THEN 'email' WHEN 8 THEN 'npi' END AS err_column,
	       CASE r.e4 WHEN 0 THEN r.err_value
	            WHEN 1 THEN CASE WHEN date_in_future(r.course_start)
	                        THEN r.course_start ELSE r.course_end END::text
	            WHEN 2 THEN r.profession WHEN 3 THEN r.level
	            WHEN 4 THEN r.email WHEN 5 THEN r.npi WHEN 6 THEN r.email
	            WHEN 7 THEN r.email WHEN 8 THEN r.npi END AS err_value,
	       CASE r.e4 WHEN 0 THEN r.err_message
	            WHEN 1 THEN format('a course cannot be dated after today (%s)',
	                        CASE WHEN date_in_future(r.course_start)
	                        THEN r.course_start ELSE r.course_end END)
	            WHEN 2 THEN format('unknown profession ''%s'' (known: %s)',
	                        r.profession, (SELECT list FROM known))
	            WHEN 3 THEN r.l_detail
	            WHEN 4 THEN format('the same person and level as line %s',
	                        r.same_person)
	            WHEN 5 THEN format('the same NPI and level as line %s',
	                        r.same_npi)
	            WHEN 6 THEN format('NPI %s has another email on line %s',
	                        r.npi, r.npi_other)
	            WHEN 7 THEN format('the email belongs to clinician %s, the NPI to clinician %s', r.ce_id, r.cn_id)
	            WHEN 8 THEN format('clinician %s (%s) has NPI %s already',
	                        r.ce_id, r.ce_email, r.ce_npi) END AS err_message,
	       CASE WHEN r.e IS NULL OR r.e > 2 THEN r.p_code END AS profession_code,
	       CASE WHEN r.e IS NULL THEN r.l_id END AS level_id,
	       r.ok_k AS clinician_id,
	       s.id AS session_id, en.id AS enrollment_id,
	       en.status AS enrollment_status,
	       en.session_id AS enrollment_session_id,
	       CASE WHEN r.e4 IS NOT NULL THEN NULL
	            WHEN r.k_id IS NULL THEN 'created'
	            -- (each line against the clinician as they are: for a
	            -- person on several lines the merge sets right what this
	            -- misjudges)
	            WHEN roster_row_changes(r.k, r.npi, r.email, r.given_name,
	                 r.family_name, r.p_code, r.license_state,
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
	  FROM g r
	  LEFT JOIN enrollments en ON en.clinician_id = r.ok_k
	   AND en.level_id = r.ok_l AND en.status <> 'withdrawn'
	  LEFT JOIN course_sessions s ON s.level_id = r.ok_l
	   AND s.starts_on = coalesce(r.course_start, r.course_end)
	   AND s.ends_on = coalesce(r.course_end, r.course_start)
	   AND coalesce(s.location, '') = coalesce(r.location, '')
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
