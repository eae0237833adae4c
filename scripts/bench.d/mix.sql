-- The lookup benchmark's writes (scripts/bench, "the realistic mix"): 1 %
-- of the requests record an exam result for one of the hot clinicians
-- (the first 1 % of the ids, which nine lookups in ten ask for), so the
-- answers most asked for are the ones the writes change.
--
-- A result is recorded by exam_record(), through POST /v1/exam-results or,
-- for pgbench, the same function.  For every write to be a real one, run
-- after run, the writes go to a level of a program of its own, whose rules
-- (rules are data) let every attempt be recorded: as many attempts as
-- wanted, no wait between them, and a pass mark of 100 that a score of 50
-- never meets (so no certificate is ever issued).  Its hot clinicians in
-- an eligible profession are enrolled; bench_writers numbers them for
-- pgbench (and scripts/bench exports them for wrk).
--
-- psql -v id_min=N -v hot_max=N
\set ON_ERROR_STOP 1

INSERT INTO programs (code, name, credential_title)
VALUES ('BENCH', 'Benchmark writes', 'Benchmark writer');
INSERT INTO program_professions (program_id, profession_code)
SELECT b.id, pp.profession_code
  FROM programs b, program_professions pp JOIN programs d ON d.id = pp.program_id
 WHERE b.code = 'BENCH' AND d.code = 'DN';
INSERT INTO levels (program_id, code, ordinal, title, written_pass_mark,
                    practical_pass_mark, max_attempts, retake_wait_days)
SELECT id, 'BX1', 1, 'Benchmark level', 100, 100, 1000000000, 0
  FROM programs WHERE code = 'BENCH';

INSERT INTO enrollments (clinician_id, level_id)
SELECT c.id, l.id
  FROM clinicians c
  JOIN program_professions pp ON pp.profession_code = c.profession_code
  JOIN programs b ON b.id = pp.program_id AND b.code = 'BENCH'
  JOIN levels l ON l.program_id = b.id
 WHERE c.id BETWEEN :id_min AND :hot_max;

CREATE TABLE bench_writers (k int PRIMARY KEY, clinician_id bigint NOT NULL);
INSERT INTO bench_writers
SELECT row_number() OVER (ORDER BY e.clinician_id), e.clinician_id
  FROM enrollments e JOIN levels l ON l.id = e.level_id AND l.code = 'BX1';
ANALYZE programs, program_professions, levels, enrollments, bench_writers;
