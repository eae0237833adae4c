-- The hand-written roster import the benchmark compares certrack with
-- (scripts/bench.d/import, docs/benchmarks-import.md).  It calls none of
-- the project's functions -- no profession_lookup(), level_resolve(),
-- npi_valid(), import_*() or write function, and it names every audit_log
-- column itself so that no column default calls one either: the tables of
-- sql/0001_schema.sql and PostgreSQL's built-ins only.  (The tables' own
-- CHECK constraints still run, as they would for any writer.)
--
-- The input, on psql's standard input, is a roster as
-- scripts/bench.d/roster.awk writes it, header line included:
--   psql -v ON_ERROR_STOP=1 -v end=COMMIT -f scripts/bench.d/import.sql <roster.csv
-- (end=ROLLBACK: a dry run)
-- One transaction: the file is refused whole (an error, psql exits 3,
-- nothing written) when any row fails a check; importing the same file
-- again changes nothing.
--
-- What it does not do, and certrack does: the "program/level" spelling of
-- a level, an imports row and its report, certificates issued by a
-- completion (a roster brings no exam results, so a person new to the
-- database cannot have one due).
\set ON_ERROR_STOP 1
BEGIN;

CREATE TEMP TABLE roster_in (
	line bigint GENERATED ALWAYS AS IDENTITY (START WITH 2),
	given_name text, family_name text, email text, npi text,
	profession text, license_state text, license_number text, level text,
	course_start date, course_end date, location text, completed text
) ON COMMIT DROP;

\copy roster_in (given_name, family_name, email, npi, profession, license_state, license_number, level, course_start, course_end, location, completed) FROM pstdin WITH (FORMAT csv, HEADER true)

-- Every row with its profession (a code, else an alias, any case), its
-- level (a code or a title, any case; the number of levels so named, to
-- refuse an ambiguous name), whether it says completed, and the clinicians
-- its NPI and its email name today.
CREATE TEMP TABLE roster ON COMMIT DROP AS
SELECT r.line, r.given_name, r.family_name, r.email, r.npi,
       r.profession, coalesce(p.code, a.profession_code) AS profession_code,
       r.license_state, r.license_number, r.level, lv.id AS level_id,
       lv.program_id, coalesce(lv.n, 0) AS level_n,
       coalesce(r.course_start, r.course_end) AS starts_on,
       coalesce(r.course_end, r.course_start) AS ends_on,
       r.course_start, r.course_end, r.location,
       CASE WHEN yn.v IN ('yes', 'y', 'true', 't', '1', 'x', 'completed',
                          'complete', 'done', 'passed') THEN true
            WHEN yn.v IN ('no', 'n', 'false', 'f', '0', 'incomplete',
                          'notcompleted') OR yn.v IS NULL THEN false
       END AS done,
       cn.id AS npi_clinician, cn.email AS npi_clinician_email,
       ce.id AS email_clinician, ce.npi AS email_clinician_npi
  FROM roster_in r
  CROSS JOIN LATERAL (SELECT nullif(lower(regexp_replace(r.completed,
                             '[^[:alnum:]]', '', 'g')), '') AS v) yn
  LEFT JOIN professions p ON lower(p.code) = lower(btrim(r.profession))
  LEFT JOIN profession_aliases a ON lower(a.alias) = lower(btrim(r.profession))
  LEFT JOIN (SELECT t.name, min(l.id) AS id, min(l.program_id) AS program_id,
                    count(*) AS n
               FROM (SELECT DISTINCT lower(btrim(level)) AS name
                       FROM roster_in) t
               JOIN levels l ON lower(l.code) = t.name
                             OR lower(l.title) = t.name
              GROUP BY t.name) lv ON lv.name = lower(btrim(r.level))
  LEFT JOIN clinicians cn ON cn.npi = r.npi
  LEFT JOIN clinicians ce ON lower(ce.email) = lower(r.email);
ANALYZE roster;

-- The one check: each failing row with its first reason; any row refuses
-- the file (the cast of the reason to int fails, with the reason in the
-- error message, and ON_ERROR_STOP rolls the transaction back).
WITH d AS (
	SELECT line,
	       count(*) OVER (PARTITION BY lower(email), level_id) AS same_email,
	       count(*) OVER (PARTITION BY npi, level_id) AS same_npi,
	       min(lower(email)) OVER (PARTITION BY npi) <>
	       max(lower(email)) OVER (PARTITION BY npi) AS npi_two_emails
	  FROM roster
), f AS (
	SELECT r.line, CASE
	WHEN r.given_name IS NULL OR r.family_name IS NULL OR r.email IS NULL
	  OR r.profession IS NULL OR r.level IS NULL
		THEN 'a required value is missing'
	WHEN length(r.email) > 254 OR r.email !~
	     '^[^@[:space:][:cntrl:],;<>]+@[^@.[:space:][:cntrl:],;<>][^@[:space:][:cntrl:],;<>]*\.[^@[:space:][:cntrl:],;<>]*[^@.[:space:][:cntrl:],;<>]$'
		THEN format('''%s'' is not an email address', r.email)
	WHEN r.npi IS NOT NULL AND (r.npi !~ '^[0-9]{10}$' OR
	     -- Luhn over '80840' || the first nine digits (the prefix adds 24)
	     (10 - (24
	      + translate(substr(r.npi, 1, 1), '0123456789', '0246813579')::int
	      + substr(r.npi, 2, 1)::int
	      + translate(substr(r.npi, 3, 1), '0123456789', '0246813579')::int
	      + substr(r.npi, 4, 1)::int
	      + translate(substr(r.npi, 5, 1), '0123456789', '0246813579')::int
	      + substr(r.npi, 6, 1)::int
	      + translate(substr(r.npi, 7, 1), '0123456789', '0246813579')::int
	      + substr(r.npi, 8, 1)::int
	      + translate(substr(r.npi, 9, 1), '0123456789', '0246813579')::int
	     ) % 10) % 10 <> substr(r.npi, 10, 1)::int)
		THEN format('''%s'' is not a valid NPI', r.npi)
	WHEN r.done IS NULL THEN 'completed is not yes or no'
	WHEN r.done AND r.starts_on IS NULL
		THEN 'a completed course needs its dates'
	WHEN r.course_end < r.course_start THEN 'the course ends before it starts'
	WHEN r.starts_on > current_date OR r.ends_on > current_date
		THEN 'a course cannot be dated after today'
	WHEN r.profession_code IS NULL
		THEN format('unknown profession ''%s''', r.profession)
	WHEN r.level_n = 0 THEN format('there is no level ''%s''', r.level)
	WHEN r.level_n > 1 THEN format('''%s'' names %s levels', r.level, r.level_n)
	WHEN d.same_email > 1 THEN 'the same person and level on another line'
	WHEN r.npi IS NOT NULL AND d.same_npi > 1
		THEN 'the same NPI and level on another line'
	WHEN r.npi IS NOT NULL AND d.npi_two_emails THEN format('NPI %s has another email', r.npi)
	WHEN r.npi_clinician <> r.email_clinician
		THEN format('the email belongs to clinician %s, the NPI to clinician %s',
		            r.email_clinician, r.npi_clinician)
	WHEN r.npi IS NOT NULL AND r.email_clinician_npi <> r.npi
		THEN format('clinician %s has NPI %s already', r.email_clinician,
		            r.email_clinician_npi)
	-- rules 1 and 2, unless the row's live enrollment exists already
	WHEN e.id IS NULL AND pp.program_id IS NULL
		THEN format('%s may not enroll in %s', r.profession_code, r.level)
	WHEN e.id IS NULL AND EXISTS (
		SELECT 1 FROM level_prerequisites lp
		 WHERE lp.level_id = r.level_id
		   AND NOT EXISTS (SELECT 1 FROM certificates c
		                    WHERE c.clinician_id = coalesce(r.npi_clinician,
		                                                    r.email_clinician)
		                      AND c.level_id = lp.requires_level_id
		                      AND c.revoked_at IS NULL))
		THEN format('%s requires a prerequisite certified first', r.level)
	END AS why
	  FROM roster r
	  JOIN d ON d.line = r.line
	  LEFT JOIN program_professions pp ON pp.program_id = r.program_id
	   AND pp.profession_code = r.profession_code
	  LEFT JOIN enrollments e
	    ON e.clinician_id = coalesce(r.npi_clinician, r.email_clinician)
	   AND e.level_id = r.level_id AND e.status <> 'withdrawn'
)
SELECT count(*) AS failed_rows,
       (SELECT format('refused: line %s: %s', f.line, f.why)
          FROM f WHERE f.why IS NOT NULL ORDER BY f.line LIMIT 1)::int
  FROM f WHERE f.why IS NOT NULL;

-- Course sessions, created once per (level, dates, location).
WITH s AS (
	INSERT INTO course_sessions (level_id, starts_on, ends_on, location)
	SELECT DISTINCT level_id, starts_on, ends_on, location
	  FROM roster WHERE starts_on IS NOT NULL
	 ORDER BY level_id, starts_on, ends_on, location
	ON CONFLICT ON CONSTRAINT course_sessions_natural_key DO NOTHING
	RETURNING *
)
INSERT INTO audit_log (actor_id, actor_name, request_id, import_id, action,
                       entity, entity_id, after)
SELECT NULL, NULL, NULL, NULL, 'session.create', 'course_session',
       s.id::text, to_jsonb(s)
  FROM s;

-- New clinicians: neither the NPI nor the email known; a person on two
-- lines (two levels) is created once, from the first.
WITH n AS (
	SELECT DISTINCT ON (lower(email)) * FROM roster
	 WHERE npi_clinician IS NULL AND email_clinician IS NULL
	 ORDER BY lower(email), line
), c AS (
	INSERT INTO clinicians (npi, email, given_name, family_name,
	                        profession_code, license_state, license_number)
	SELECT npi, email, given_name, family_name, profession_code,
	       license_state, license_number
	  FROM n ORDER BY line
	RETURNING *
)
INSERT INTO audit_log (actor_id, actor_name, request_id, import_id, action,
                       entity, entity_id, after)
SELECT NULL, NULL, NULL, NULL, 'clinician.create', 'clinician', c.id::text,
       to_jsonb(c)
  FROM c;

-- Known clinicians whose details the file changes (as its first line
-- for them gives them).
WITH ch AS (
	SELECT c AS old_row, r.* FROM (
		SELECT DISTINCT ON (coalesce(npi_clinician, email_clinician))
		       coalesce(npi_clinician, email_clinician) AS id, npi, email,
		       given_name, family_name, profession_code, license_state,
		       license_number
		  FROM roster
		 WHERE coalesce(npi_clinician, email_clinician) IS NOT NULL
		 ORDER BY coalesce(npi_clinician, email_clinician), line) r
	  JOIN clinicians c ON c.id = r.id
	 WHERE c.npi IS DISTINCT FROM coalesce(r.npi, c.npi)
	    OR c.email <> r.email OR c.given_name <> r.given_name
	    OR c.family_name <> r.family_name
	    OR c.profession_code <> r.profession_code
	    OR c.license_state IS DISTINCT FROM
	       coalesce(r.license_state, c.license_state)
	    OR c.license_number IS DISTINCT FROM
	       coalesce(r.license_number, c.license_number)
), u AS (
	UPDATE clinicians c SET npi = coalesce(ch.npi, c.npi), email = ch.email,
	       given_name = ch.given_name, family_name = ch.family_name,
	       profession_code = ch.profession_code,
	       license_state = coalesce(ch.license_state, c.license_state),
	       license_number = coalesce(ch.license_number, c.license_number),
	       version = c.version + 1, updated_at = now()
	  FROM ch
	 WHERE c.id = ch.id
	RETURNING c AS new_row, ch.old_row
)
INSERT INTO audit_log (actor_id, actor_name, request_id, import_id, action,
                       entity, entity_id, before, after)
SELECT NULL, NULL, NULL, NULL, 'clinician.update', 'clinician',
       (u.new_row).id::text, to_jsonb(u.old_row), to_jsonb(u.new_row)
  FROM u;

-- Every row with its clinician (now found by the email, which the file
-- gave every one of them) and its session.
CREATE TEMP TABLE placed ON COMMIT DROP AS
SELECT r.line, c.id AS clinician_id, r.level_id, s.id AS session_id, r.done,
       CASE WHEN r.done THEN r.ends_on END AS completed_on
  FROM roster r
  JOIN clinicians c ON lower(c.email) = lower(r.email)
  LEFT JOIN course_sessions s ON s.level_id = r.level_id
   AND s.starts_on = r.starts_on AND s.ends_on = r.ends_on
   AND coalesce(s.location, '') = coalesce(r.location, '');

-- Live enrollments that exist: given the session they lacked, completed
-- when the row says so.
WITH old AS (
	SELECT e.* FROM enrollments e JOIN placed p
	    ON p.clinician_id = e.clinician_id AND p.level_id = e.level_id
	 WHERE e.status <> 'withdrawn'
	   AND ((e.session_id IS NULL AND p.session_id IS NOT NULL)
	        OR (e.status = 'enrolled' AND p.done))
), u AS (
	UPDATE enrollments e SET session_id = coalesce(e.session_id, p.session_id),
	       status = CASE WHEN p.done THEN 'completed' ELSE e.status END,
	       completed_on = CASE WHEN p.done AND e.status = 'enrolled'
	                      THEN p.completed_on ELSE e.completed_on END,
	       updated_at = now()
	  FROM placed p JOIN old ON old.clinician_id = p.clinician_id
	   AND old.level_id = p.level_id
	 WHERE e.id = old.id
	RETURNING e.*
)
INSERT INTO audit_log (actor_id, actor_name, request_id, import_id, action,
                       entity, entity_id, before, after)
SELECT NULL, NULL, NULL, NULL, CASE WHEN u.status <> old.status
       THEN 'enrollment.complete' ELSE 'enrollment.update' END,
       'enrollment', u.id::text, to_jsonb(old), to_jsonb(u)
  FROM u JOIN old ON old.id = u.id;

-- New enrollments, completed when the row says so.
WITH e AS (
	INSERT INTO enrollments (clinician_id, level_id, session_id, status,
	                         completed_on)
	SELECT p.clinician_id, p.level_id, p.session_id,
	       CASE WHEN p.done THEN 'completed' ELSE 'enrolled' END,
	       p.completed_on
	  FROM placed p
	 WHERE NOT EXISTS (SELECT 1 FROM enrollments x
	                    WHERE x.clinician_id = p.clinician_id
	                      AND x.level_id = p.level_id
	                      AND x.status <> 'withdrawn')
	 ORDER BY p.line
	ON CONFLICT (clinician_id, level_id) WHERE status <> 'withdrawn'
	DO NOTHING
	RETURNING *
)
INSERT INTO audit_log (actor_id, actor_name, request_id, import_id, action,
                       entity, entity_id, after)
SELECT NULL, NULL, NULL, NULL, 'enrollment.create', 'enrollment',
       e.id::text, to_jsonb(e)
  FROM e;

:end;
