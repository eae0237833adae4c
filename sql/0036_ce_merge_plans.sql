-- A large CE file's merge on the plans of sql/0033 (issue 10, item 3:
-- imports at the cost of hand-written SQL).
--
-- import_ce_merge() hands its rows to ce_record() as one array, as the
-- roster and results merges hand theirs to enrollment_create() and
-- exam_record(), and so paid what sql/0033 took off those: each of
-- ce_record()'s statements planned for the array at hand, the array
-- copied at every step of planning.  Now it runs with
-- import_plans_begin() and import_plans_end() too: from 50,000 good rows
-- on, plans made once and joins by hash; below, plans for its rows.
--
-- Measured with psql running the daemon's statements on a database of a
-- million clinicians, one CE activity per clinician, each run rolled back,
-- the variants alternating: 200,000 activities merged in 9.4 and 8.8 s
-- where 9.5 and 9.3 s (a quiet stretch of the machine), 11.4, 13.2, 13.6
-- and 11.7 s where 15.8, 13.4, 13.8 and 14.7 s (a busier one); 1,000,000
-- in 40.6 and 56.7 s where 45.5 and 68.9 s (the machine slowing down
-- during the series: the check, which this does not touch, took 8.4, 7.2,
-- 7.3 and 9.9 s). No slower at any size measured, a few per cent to a
-- fifth faster; the same activities recorded.
SELECT migration_function_replace('import_ce_merge(bigint)',
	E'BEGIN\n\tIF ctx_actor() IS NULL THEN\n',
	E'DECLARE\n\tv_plans text[] := import_plans_begin();\n'
	|| E'BEGIN\n\tIF ctx_actor() IS NULL THEN\n');
SELECT migration_function_replace('import_ce_merge(bigint)',
	E'\t\tWHERE r.line = v.line AND v.code IS NOT NULL;\nEND\n',
	E'\t\tWHERE r.line = v.line AND v.code IS NOT NULL;\n'
	|| E'\tPERFORM import_plans_end(v_plans);\nEND\n');
