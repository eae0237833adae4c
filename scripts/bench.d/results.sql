-- The hand-written baseline of the results-sheet benchmark
-- (scripts/bench.d/import, docs/benchmarks-import.md): what an
-- administrator fluent in SQL would write to bring a results sheet into
-- certrack's schema without certrack.  One transaction; none of the
-- project's functions is called (the tables' own CHECK constraints run, as
-- for any writer); every audit_log column is named, so no column default
-- calls one either.
--   psql -v ON_ERROR_STOP=1 -v end=COMMIT -f results.sql < results.csv
-- (end=ROLLBACK: a dry run.)  The sheet: npi, email, level, kind, score,
-- max_score, taken_on.
\set ON_ERROR_STOP 1
BEGIN;

-- Statistics of the results as they are: a sheet imported just before
-- leaves them stale until autovacuum comes by, and a plan made for an
-- empty exam_results probes all of it once per row.
ANALYZE exam_results;

CREATE TEMP TABLE results_in (
	line bigint GENERATED ALWAYS AS IDENTITY (START WITH 2),
	npi text, email text, level text, kind text, score numeric,
	max_score numeric, taken_on date
) ON COMMIT DROP;

\copy results_in (npi, email, level, kind, score, max_score, taken_on) FROM pstdin WITH (FORMAT csv, HEADER true)

-- Every row with its level (a code or a title, any case; how many levels
-- so named), its clinician (by NPI when the row has one, else by email),
-- its live enrollment and the start of its session.
CREATE TEMP TABLE sheet ON COMMIT DROP AS
SELECT r.line, r.npi, r.email, r.level, lower(btrim(r.kind)) AS kind,
       r.score, r.max_score, r.taken_on, lv.id AS level_id,
       coalesce(lv.n, 0) AS level_n,
       CASE WHEN r.npi IS NOT NULL THEN cn.id ELSE ce.id END AS clinician_id
  FROM results_in r
  LEFT JOIN (SELECT t.name, min(l.id) AS id, count(*) AS n
               FROM (SELECT DISTINCT lower(btrim(level)) AS name
                       FROM results_in) t
               JOIN levels l ON lower(l.code) = t.name
                             OR lower(l.title) = t.name
              GROUP BY t.name) lv ON lv.name = lower(btrim(r.level))
  LEFT JOIN clinicians cn ON cn.npi = r.npi
  LEFT JOIN clinicians ce ON r.npi IS NULL AND lower(ce.email) = lower(r.email);
ANALYZE sheet;

-- Each row with what is recorded already: the same sitting (the same
-- score: nothing to do; another: refused), and the history of its level
-- and kind (original attempts used, the last one, whether a current
-- result passed, the current date of the latest attempt).
CREATE TEMP TABLE placed ON COMMIT DROP AS
WITH cur AS (
	SELECT x.* FROM exam_results x
	 WHERE (x.clinician_id, x.level_id) IN (SELECT clinician_id, level_id FROM sheet)
	   AND NOT EXISTS (SELECT 1 FROM exam_results a WHERE a.supersedes = x.id)
), hist AS (
	SELECT o.clinician_id, o.level_id, o.kind,
	       count(*) FILTER (WHERE o.supersedes IS NULL) AS used,
	       coalesce(max(o.attempt) FILTER (WHERE o.supersedes IS NULL), 0) AS last_attempt
	  FROM exam_results o
	 WHERE (o.clinician_id, o.level_id) IN (SELECT clinician_id, level_id FROM sheet)
	 GROUP BY o.clinician_id, o.level_id, o.kind
), chist AS (
	SELECT c.clinician_id, c.level_id, c.kind, bool_or(c.passed) AS passed,
	       max(c.taken_on) AS last_on
	  FROM cur c GROUP BY c.clinician_id, c.level_id, c.kind
), sitting AS (
	SELECT c.clinician_id, c.level_id, c.kind, c.taken_on,
	       bool_or(true) AS recorded, min(c.score) AS score,
	       min(c.max_score) AS max_score
	  FROM cur c GROUP BY c.clinician_id, c.level_id, c.kind, c.taken_on
)
SELECT s.*, e.id AS enrollment_id, cs.starts_on,
       coalesce(h.used, 0) AS used, coalesce(h.last_attempt, 0) AS last_attempt,
       coalesce(ch.passed, false) AS passed_before, ch.last_on,
       st.recorded, st.score = s.score AND st.max_score = s.max_score AS same,
       l.written_pass_mark, l.practical_pass_mark, l.max_attempts,
       l.retake_wait_days
  FROM sheet s
  LEFT JOIN levels l ON l.id = s.level_id
  LEFT JOIN enrollments e ON e.clinician_id = s.clinician_id
   AND e.level_id = s.level_id AND e.status <> 'withdrawn'
  LEFT JOIN course_sessions cs ON cs.id = e.session_id
  LEFT JOIN hist h ON h.clinician_id = s.clinician_id
   AND h.level_id = s.level_id AND h.kind = s.kind
  LEFT JOIN chist ch ON ch.clinician_id = s.clinician_id
   AND ch.level_id = s.level_id AND ch.kind = s.kind
  LEFT JOIN sitting st ON st.clinician_id = s.clinician_id
   AND st.level_id = s.level_id AND st.kind = s.kind AND st.taken_on = s.taken_on;
ANALYZE placed;

-- The new attempts in the order they are taken: attempt numbers after the
-- recorded ones, the previous attempt's date and whether an earlier one
-- passed, from the file as well as from the history.
CREATE TEMP TABLE attempts ON COMMIT DROP AS
SELECT p.*,
       p.last_attempt + row_number() OVER w AS attempt,
       p.used + row_number() OVER w AS used_after,
       coalesce(lag(p.taken_on) OVER w, p.last_on) AS previous_on,
       p.passed_before OR coalesce(bool_or(p.score * 100 >= CASE p.kind
           WHEN 'written' THEN p.written_pass_mark
           ELSE p.practical_pass_mark END * p.max_score)
           OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), false)
           AS passed_earlier
  FROM placed p
 WHERE p.recorded IS NULL
WINDOW w AS (PARTITION BY p.clinician_id, p.level_id, p.kind
             ORDER BY p.taken_on, p.line);

-- The one check: each failing row with its first reason; any row refuses
-- the sheet.
WITH d AS (
	SELECT line, count(*) OVER (PARTITION BY clinician_id, level_id, kind,
	                            taken_on) AS same_sitting
	  FROM sheet
), f AS (
	SELECT p.line, CASE
	WHEN p.kind NOT IN ('written', 'practical') THEN 'not an exam kind'
	WHEN p.score > p.max_score OR p.max_score <= 0 THEN 'a bad score'
	WHEN p.taken_on > current_date THEN 'an exam cannot be dated after today'
	WHEN p.level_n = 0 THEN format('there is no level ''%s''', p.level)
	WHEN p.level_n > 1 THEN format('''%s'' names %s levels', p.level, p.level_n)
	WHEN p.clinician_id IS NULL THEN 'no such clinician'
	WHEN d.same_sitting > 1 THEN 'the same exam and date on another line'
	WHEN p.recorded AND NOT p.same
		THEN 'recorded with another score; amend it'
	WHEN p.recorded THEN NULL
	WHEN p.enrollment_id IS NULL THEN 'not enrolled'
	WHEN p.taken_on < p.starts_on THEN 'the exam is before its course starts'
	WHEN a.passed_earlier THEN 'already passed'
	WHEN a.used_after > p.max_attempts THEN 'every attempt is used'
	WHEN p.taken_on < a.previous_on + p.retake_wait_days
		THEN 'a retake too soon'
	END AS why
	  FROM placed p
	  JOIN d ON d.line = p.line
	  LEFT JOIN attempts a ON a.line = p.line
)
SELECT count(*) AS failed_rows,
       (SELECT format('refused: line %s: %s', f.line, f.why)
          FROM f WHERE f.why IS NOT NULL ORDER BY f.line LIMIT 1)::int
  FROM f WHERE f.why IS NOT NULL;

-- The new results, graded by the user the daemon's path imports as, with
-- the pass mark in force, and their audit rows.
WITH i AS (
	INSERT INTO exam_results (clinician_id, level_id, kind, attempt, score,
	                          max_score, pass_mark, passed, taken_on,
	                          graded_by)
	SELECT a.clinician_id, a.level_id, a.kind, a.attempt, a.score,
	       a.max_score, m.mark, a.score * 100 >= m.mark * a.max_score,
	       a.taken_on, (SELECT id FROM users WHERE username = 'bench')
	  FROM attempts a
	 CROSS JOIN LATERAL (SELECT CASE a.kind WHEN 'written'
	                     THEN a.written_pass_mark
	                     ELSE a.practical_pass_mark END AS mark) m
	 ORDER BY a.line
	RETURNING *
)
INSERT INTO audit_log (actor_id, actor_name, request_id, import_id, action,
                       entity, entity_id, after)
SELECT NULL, NULL, NULL, NULL, 'exam_result.record', 'exam_result',
       i.id::text, to_jsonb(i)
  FROM i;

-- Statistics that count the results just inserted (a plan made for an
-- empty table probes every result once per pair).
ANALYZE exam_results;

-- The certificates now due to the people of the sheet: the course
-- completed, a current pass of each exam, no certificate of the level yet
-- (the benchmark's people have none revoked); issued the day the last
-- requirement was met, valid for the program's months; a random number,
-- eleven Crockford base32 symbols and their Luhn mod 32 check symbol.
-- What is due is found first, in a table of its own: asked in the
-- statement that inserts the certificates, the question "no certificate
-- of the level yet" was planned for an empty certificates table and
-- scanned it once per pair while the insert filled it (153 of 235 s at a
-- million rows).
CREATE TEMP TABLE due ON COMMIT DROP AS
WITH pairs AS (
	SELECT DISTINCT clinician_id, level_id FROM attempts
), passes AS (
	SELECT x.clinician_id, x.level_id,
	       min(x.taken_on) FILTER (WHERE x.kind = 'written') AS written_on,
	       min(x.taken_on) FILTER (WHERE x.kind = 'practical') AS practical_on
	  FROM exam_results x JOIN pairs p ON p.clinician_id = x.clinician_id
	   AND p.level_id = x.level_id
	 WHERE x.passed
	   AND NOT EXISTS (SELECT 1 FROM exam_results a WHERE a.supersedes = x.id)
	 GROUP BY x.clinician_id, x.level_id
), due AS (
	SELECT e.clinician_id, e.level_id,
	       greatest(e.completed_on, s.written_on, s.practical_on) AS issued_on,
	       g.certificate_validity_months AS months
	  FROM passes s
	  JOIN enrollments e ON e.clinician_id = s.clinician_id
	   AND e.level_id = s.level_id AND e.status = 'completed'
	  JOIN levels l ON l.id = e.level_id
	  JOIN programs g ON g.id = l.program_id
	 WHERE s.written_on IS NOT NULL AND s.practical_on IS NOT NULL
	   AND NOT EXISTS (SELECT 1 FROM certificates c
	                    WHERE c.clinician_id = e.clinician_id
	                      AND c.level_id = e.level_id)
)
SELECT * FROM due;

WITH numbered AS (
	SELECT d.*, n.number FROM due d
	CROSS JOIN LATERAL (
		SELECT substr(y.s, 1, 4) || '-' || substr(y.s, 5, 4) || '-' ||
		       substr(y.s, 9, 3) ||
		       substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ',
		              ((32 - y.sum % 32) % 32)::int + 1, 1) AS number
		  FROM (SELECT string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ',
		                                 z.v + 1, 1), '' ORDER BY z.k) AS s,
		               sum((z.f * z.v) / 32 + (z.f * z.v) % 32) AS sum
		          FROM (SELECT k, CASE WHEN k % 2 = 0 THEN 2 ELSE 1 END AS f,
		                       ((r.v >> (5 * k)) & 31)::int AS v
		                  FROM (SELECT (random() * 36028797018963967)::bigint
		                               + 0 * d.clinician_id AS v) r,
		                       generate_series(0, 10) AS k) z) y) n
), c AS (
	INSERT INTO certificates (number, clinician_id, level_id, issued_on,
	                          expires_on)
	SELECT number, clinician_id, level_id, issued_on,
	       (issued_on + months * interval '1 month')::date
	  FROM numbered
	RETURNING *
)
INSERT INTO audit_log (actor_id, actor_name, request_id, import_id, action,
                       entity, entity_id, after)
SELECT NULL, NULL, NULL, NULL, 'certificate.issue', 'certificate',
       c.id::text, to_jsonb(c)
  FROM c;

:end;
