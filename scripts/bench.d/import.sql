-- The hand-written roster import the benchmark compares certrackd with
-- (scripts/bench.d/import): the same staging table and the same set-based
-- check and merge functions (sql/0006_import_functions.sql) the daemon
-- calls, with psql's \copy in place of the daemon's streaming COPY, in one
-- transaction.  The input, on psql's standard input, is the roster CSV with
-- its header line dropped and the line number added as a first field.
--   psql -f scripts/bench.d/import.sql <roster-numbered.csv
\set ON_ERROR_STOP 1
BEGIN;
SELECT import_staging_create('roster');
\copy import_rows (line, given_name, family_name, email, npi, profession, license_state, license_number, level, course_start, course_end, location, completed) FROM pstdin WITH (FORMAT csv)
SELECT import_roster_check();
SELECT import_roster_merge();
-- The daemon refuses the whole file when a row failed; so does this: a
-- failed row makes the division fail, and ON_ERROR_STOP rolls back.
SELECT 1 / (count(*) = 0)::int AS no_failed_rows
  FROM import_rows WHERE err_message IS NOT NULL;
COMMIT;
