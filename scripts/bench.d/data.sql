-- The status benchmark's data set, generated set-based on a freshly migrated
-- database (scripts/bench runs it with psql -v ON_ERROR_STOP=1):
--
--   100,000 clinicians (:n), about 90 % of an eligible profession, 90 % of
--   them with a valid NPI (npi_valid()), the rest NULL;
--   course sessions for DN1 and DN2;
--   DN1 enrollments for about 85 % of the eligible (completed, still
--   enrolled or withdrawn), with 1-3 written and practical attempts each,
--   retakes 14+ days apart (retake_wait_days), scores on both sides of the
--   pass mark (passed = exam_passed(...)), 1 % of results amended;
--   certificates issued exactly as the daemon issues them, from the
--   certificates_due view, with deterministic unique valid numbers;
--   DN2 enrollments for about half of the DN1 certificate holders, same
--   exam history model, DN2 certificates; 0.5 % of certificates revoked.
--
-- All dates are relative to current_date, so the mix of valid and expired
-- certificates does not drift as the calendar moves.  setseed() makes the
-- data the same on every run.
\set ON_ERROR_STOP 1
SELECT setseed(0.4242);

-- The ten-digit NPI for a nine-digit prefix: the Luhn check digit over
-- 80840 || prefix, the same formula as npi_valid().
CREATE FUNCTION pg_temp.npi_with_check(p text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT p || ((10 - sum(CASE WHEN i % 2 = 0
	                           THEN (2 * d) / 10 + (2 * d) % 10
	                           ELSE d END) % 10) % 10)::text
	  FROM (SELECT i, ascii(substr('80840' || p, i, 1)) - 48 AS d
	          FROM generate_series(1, 14) AS i) AS digits
$$;

-- A valid certificate number for N: eleven Crockford base32 symbols of
-- N * an odd constant mod 2^55 (a bijection, so unique), then the check
-- symbol.  No retry loop needed, unlike certificate_number_new().
CREATE FUNCTION pg_temp.certnum(n bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	WITH d AS (
		SELECT string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ',
		           ((((n * 25214903917) & 36028797018963967) >> (5 * k)) & 31)::int + 1, 1),
		           '' ORDER BY k) AS s
		  FROM generate_series(0, 10) AS k
	), c AS (SELECT s || certificate_check_symbol(s) AS s FROM d)
	SELECT substr(s, 1, 4) || '-' || substr(s, 5, 4) || '-' || substr(s, 9, 4) FROM c
$$;

-- ---------------------------------------------------------------------------
-- clinicians
-- ---------------------------------------------------------------------------
INSERT INTO clinicians (npi, email, given_name, family_name, profession_code,
                        license_state, license_number, created_at, updated_at)
SELECT CASE WHEN g % 10 <> 0 THEN pg_temp.npi_with_check(
           ((123456789 + g * 7919) % 900000000 + 100000000)::text) END,
       'clinician' || g || '@example.org',
       (ARRAY['Ana','Ben','Chloe','David','Elena','Farid','Grace','Hiro',
              'Ines','Jamal','Kira','Liam','Maya','Noah','Olga','Pedro',
              'Quinn','Rosa','Sam','Tara','Uma','Victor','Wen','Yara'])[1 + g % 24],
       (ARRAY['Garcia','Smith','Nguyen','Johnson','Kim','Patel','Brown',
              'Lopez','Miller','Davis','Chen','Wilson','Moore','Taylor',
              'Anderson','Thomas','Jackson','White','Harris','Martin',
              'Clark','Lewis','Walker','Young','Allen','King','Wright',
              'Scott','Hill','Green','Adams','Baker'])[1 + (g / 24) % 32],
       CASE WHEN r < 0.55 THEN 'PT' WHEN r < 0.65 THEN 'DC'
            WHEN r < 0.73 THEN 'NP' WHEN r < 0.80 THEN 'PA'
            WHEN r < 0.86 THEN 'MD' WHEN r < 0.90 THEN 'DO'
            WHEN r < 0.94 THEN 'PTA' WHEN r < 0.96 THEN 'ATC'
            WHEN r < 0.98 THEN 'OT' WHEN r < 0.99 THEN 'LAc' ELSE 'RN' END,
       CASE WHEN g % 20 <> 0 THEN (ARRAY['CA','TX','NY','FL','WA','CO','IL',
              'OR','AZ','MA','GA','NC','VA','OH','MI','PA'])[1 + g % 16] END,
       CASE WHEN g % 20 <> 0 THEN 'L' || lpad((g * 37 % 1000000)::text, 6, '0') END,
       now() - interval '1500 days' + g * interval '1 second',
       now() - interval '1500 days' + g * interval '1 second'
  FROM (SELECT g, random() AS r FROM generate_series(1, :n) AS g) AS s
 ORDER BY g;

-- ---------------------------------------------------------------------------
-- course sessions: 300 of DN1 (days -1100..-500), 150 of DN2 (-380..-150)
-- ---------------------------------------------------------------------------
INSERT INTO course_sessions (level_id, starts_on, ends_on, location, instructor)
SELECT l.id, current_date + s.start_day, current_date + s.start_day + 2,
       (ARRAY['Denver','Austin','Portland','Chicago','Boston','Atlanta',
              'Phoenix','Seattle','Miami','Raleigh'])[1 + s.k % 10],
       (ARRAY['Dr. Reyes','Dr. Okafor','Dr. Lindqvist','Dr. Tanaka',
              'Dr. Moreau'])[1 + s.k % 5]
  FROM levels l
 CROSS JOIN LATERAL (
	SELECT k, CASE WHEN l.code = 'DN1' THEN -1100 + k * 2
	               ELSE -380 + k * 3 / 2 END AS start_day
	  FROM generate_series(0, CASE WHEN l.code = 'DN1' THEN 299 ELSE 149 END) AS k
 ) AS s
 WHERE l.code IN ('DN1', 'DN2');

-- ---------------------------------------------------------------------------
-- One level's enrollments, exams and certificates, for the clinicians in
-- bench_candidates (filled per level below).
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE bench_candidates (clinician_id bigint PRIMARY KEY);

CREATE FUNCTION pg_temp.fill_level(p_level text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	v_level levels;
	v_nsess int;
BEGIN
	SELECT * INTO v_level FROM levels WHERE code = p_level;
	SELECT count(*) INTO v_nsess FROM course_sessions WHERE level_id = v_level.id;

	-- enrollments: 80 % completed, 15 % still enrolled, 5 % withdrawn
	CREATE TEMP TABLE bench_enr ON COMMIT DROP AS
	SELECT c.clinician_id, s.id AS session_id, s.starts_on, s.ends_on,
	       CASE WHEN r < 0.80 THEN 'completed'
	            WHEN r < 0.95 THEN 'enrolled' ELSE 'withdrawn' END AS status
	  FROM (SELECT clinician_id, random() AS r,
	               1 + floor(random() * v_nsess)::int AS pick
	          FROM bench_candidates) AS c
	  JOIN (SELECT cs.*, row_number() OVER (ORDER BY cs.starts_on, cs.id) AS n
	          FROM course_sessions cs WHERE cs.level_id = v_level.id) AS s
	    ON s.n = c.pick;

	INSERT INTO enrollments (clinician_id, level_id, session_id, status,
	                         completed_on, enrolled_at, updated_at)
	SELECT clinician_id, v_level.id, session_id, status,
	       CASE WHEN status = 'completed' THEN ends_on END,
	       (starts_on - 30)::timestamptz, ends_on::timestamptz
	  FROM bench_enr ORDER BY clinician_id;

	-- exam histories per enrollment and kind: how many attempts, whether
	-- the last passed; gap >= retake_wait_days between attempts
	CREATE TEMP TABLE bench_hist ON COMMIT DROP AS
	SELECT e.clinician_id, k.kind, e.ends_on, k.max_score, k.pass_mark,
	       CASE WHEN r < 0.78 THEN 1 WHEN r < 0.90 THEN 2 WHEN r < 0.94 THEN 3
	            WHEN r < 0.97 THEN 1 WHEN r < 0.985 THEN 2 ELSE 3 END AS attempts,
	       r < 0.94 AS final_pass,
	       v_level.retake_wait_days + floor(random() * 30)::int AS gap,
	       1 + floor(random() * 10)::int AS first_after
	  FROM bench_enr e
	 CROSS JOIN (VALUES ('written', 100::numeric, v_level.written_pass_mark),
	                    ('practical', 40::numeric, v_level.practical_pass_mark))
	       AS k(kind, max_score, pass_mark)
	 CROSS JOIN LATERAL (SELECT random() + 0 * length(k.kind) AS r) AS rr
	 -- withdrawn: no exams; still enrolled: about half have sat some
	 WHERE e.status = 'completed'
	    OR (e.status = 'enrolled' AND e.clinician_id % 2 = 0);

	INSERT INTO exam_results (clinician_id, level_id, kind, attempt, score,
	                          max_score, pass_mark, passed, taken_on, graded_at)
	SELECT h.clinician_id, v_level.id, h.kind, a.n, sc.score, h.max_score,
	       h.pass_mark, exam_passed(sc.score, h.max_score, h.pass_mark),
	       h.ends_on + h.first_after + (a.n - 1) * h.gap,
	       (h.ends_on + h.first_after + (a.n - 1) * h.gap)::timestamptz
	           + interval '3 days'
	  FROM bench_hist h
	 CROSS JOIN LATERAL generate_series(1, h.attempts) AS a(n)
	 CROSS JOIN LATERAL (
		-- the pass threshold in points, then a score on the right side
		SELECT CASE WHEN h.final_pass AND a.n = h.attempts
		            THEN least(h.max_score, ceil(h.pass_mark * h.max_score / 100)
		                 + floor(random() * (h.max_score
		                     - ceil(h.pass_mark * h.max_score / 100) + 1)::float8)::numeric)
		            ELSE ceil(h.pass_mark * h.max_score / 100) - 1
		                 - floor(random() * (h.max_score * 0.35)::float8)::numeric
		       END AS score) AS sc
	 ORDER BY h.clinician_id, h.kind, a.n;

	-- 1 % of the results amended (a regrade on the same side of the mark)
	INSERT INTO exam_results (clinician_id, level_id, kind, attempt, score,
	                          max_score, pass_mark, passed, taken_on,
	                          graded_at, supersedes, amend_reason)
	SELECT r.clinician_id, r.level_id, r.kind, r.attempt, n.score,
	       r.max_score, r.pass_mark, r.passed, r.taken_on,
	       r.graded_at + interval '2 days', r.id, 'regraded after review'
	  FROM exam_results r
	 CROSS JOIN LATERAL (SELECT CASE WHEN r.passed
	                                 THEN greatest(r.score - 1, ceil(r.pass_mark * r.max_score / 100))
	                                 ELSE greatest(r.score - 1, 0) END AS score) AS n
	 WHERE r.level_id = v_level.id AND r.supersedes IS NULL
	   AND r.id % 100 = 7;

	-- certificates as the daemon issues them: what the view
	-- certificates_due owes (rule 6: a completed enrollment with a pass,
	-- not superseded, in both exams, issued the day the last of the three
	-- was met), with deterministic numbers instead of drawn ones.  The
	-- tables were filled a moment ago and are not analysed yet: the view
	-- must be linear without their statistics (sql/0022).
	INSERT INTO certificates (number, clinician_id, level_id, issued_on,
	                          expires_on, replaces, created_at)
	SELECT pg_temp.certnum(v_level.id * 1000000 + d.clinician_id),
	       d.clinician_id, d.level_id, d.issued_on, d.expires_on,
	       d.replaces, d.issued_on::timestamptz
	  FROM certificates_due d
	 WHERE d.level_id = v_level.id
	 ORDER BY d.clinician_id;

	-- 0.5 % revoked
	UPDATE certificates
	   SET revoked_at = issued_on::timestamptz + interval '90 days',
	       revocation_category = 'license_action',
	       revocation_reason = 'license lapsed'
	 WHERE level_id = v_level.id AND clinician_id % 200 = 3;

	DROP TABLE bench_enr;
	DROP TABLE bench_hist;
END
$$;

-- DN1: 85 % of the eligible clinicians
BEGIN;
INSERT INTO bench_candidates
SELECT c.id FROM clinicians c
  JOIN program_professions pp ON pp.profession_code = c.profession_code
  JOIN programs p ON p.id = pp.program_id AND p.code = 'DN'
 WHERE c.id % 20 NOT IN (0, 1, 2);
SELECT pg_temp.fill_level('DN1');
COMMIT;

-- DN2: about half of those with an unrevoked DN1 certificate
BEGIN;
TRUNCATE bench_candidates;
INSERT INTO bench_candidates
SELECT ce.clinician_id FROM certificates ce JOIN levels l ON l.id = ce.level_id
 WHERE l.code = 'DN1' AND ce.revoked_at IS NULL AND ce.clinician_id % 2 = 1;
SELECT pg_temp.fill_level('DN2');
COMMIT;
