-- A large file's merge plans each statement once, for any number of rows,
-- joining by hash (issue 10, item 3: imports at the cost of hand-written
-- SQL).
--
-- The merges hand the file's rows to the write functions as one array
-- (exam_record(), enrollment_create()), and each of their statements was
-- planned for the array at hand: PostgreSQL then puts the array into the
-- plan as a constant and copies it at every step of planning (each
-- inlined function, each subquery pulled up).  For a million-line results
-- sheet that is 100 MB copied some twenty times: 4.4 s to plan the
-- statement that records the results, 0.7 s to plan the one that locks
-- their enrollments, much the same for a roster's enrollments, more than
-- the statements' own work on the rows.  A plan made once, without the
-- array (a generic plan), costs nothing to make, but guesses ten rows for
-- the array and would probe clinicians and enrollments by index once per
-- row; with nested loops off it joins by hash or merge instead, which is
-- what a large file needs.  So a merge of 50,000 rows or more runs with
-- plan_cache_mode = force_generic_plan and enable_nestloop = off, and
-- sets them back when it ends (an error rolls them back with the rest).
-- A smaller file keeps plans made for its rows: its array is cheap to
-- copy and a few rows are best found by index.  The rules, the rows
-- written and the reports are the same; only the plans change.
--
-- Measured on one database copied before each run (a million rows, psql
-- running the daemon's statements, CPU seconds of the backend): the
-- results sheet's merge 57.5 and 56.3 s where it took 64.4, 72.0 and
-- 64.8 s; the roster's 88.1 s where it took 92.5 and 92.0 s.
--
-- The plans are kept by the connection; the daemon gives each import a
-- connection of its own and closes it after.

-- Sets the plans for the merge of the rows in import_rows (see above);
-- returns the settings it found, for import_plans_end().
CREATE FUNCTION import_plans_begin() RETURNS text[]
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	v_old text[] := ARRAY[current_setting('plan_cache_mode'),
	                      current_setting('enable_nestloop')];
BEGIN
	IF (SELECT count(*) FROM import_rows WHERE err_message IS NULL)
	   >= 50000 THEN
		PERFORM set_config('plan_cache_mode', 'force_generic_plan', true),
		        set_config('enable_nestloop', 'off', true);
	END IF;
	RETURN v_old;
END
$$;

-- Sets back what import_plans_begin() found.
CREATE FUNCTION import_plans_end(p_old text[]) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
	PERFORM set_config('plan_cache_mode', p_old[1], true),
	        set_config('enable_nestloop', p_old[2], true);
END
$$;

SELECT migration_function_replace('import_results_merge(bigint)',
	E'DECLARE\n\tlast int;\nBEGIN\n',
	E'DECLARE\n\tlast int;\n\tv_plans text[] := import_plans_begin();\nBEGIN\n');
SELECT migration_function_replace('import_results_merge(bigint)',
	E'\tEND LOOP;\nEND\n',
	E'\tEND LOOP;\n\tPERFORM import_plans_end(v_plans);\nEND\n');

SELECT migration_function_replace('import_roster_merge()',
	E'\tv_completed bigint[];\nBEGIN\n',
	E'\tv_completed bigint[];\n\tv_plans text[] := import_plans_begin();\nBEGIN\n');
SELECT migration_function_replace('import_roster_merge()',
	E' WHERE r.line = o.line AND r.outcome IS DISTINCT FROM o.outcome;\nEND\n',
	E' WHERE r.line = o.line AND r.outcome IS DISTINCT FROM o.outcome;\n'
	|| E'\tPERFORM import_plans_end(v_plans);\nEND\n');
