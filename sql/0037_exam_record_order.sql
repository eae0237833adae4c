-- exam_record() writes a sheet's results in the order of their indexes
-- (issue 10, item 3: a results sheet costs what hand-written SQL costs).
--
-- The new results were inserted in the order their verdicts came out of
-- exam_verdicts(), which is the order of the enrollments it joins by
-- hash: for a roster imported by certrack, no order of the clinicians at
-- all (the roster merge writes a level's enrollments in hash order).  Two
-- of exam_results' indexes begin with the clinician
-- (exam_results_attempt_key, exam_results_clinician_idx), so each result
-- went to a random leaf of each; at a million results those indexes are
-- larger than a default shared_buffers, and the insert dirtied, wrote out
-- and read back the same pages again and again (90,206 pages dirtied and
-- 115,029 written by the backend, where the hand-written path, which
-- inserts in the order of the file, dirtied 51,917).  Now the verdicts
-- are sorted by clinician, level, kind and attempt before the ids are
-- drawn (nextval() is volatile: PostgreSQL draws it after the sort), so
-- the ids, the indexes and the audit rows all grow in one order, whatever
-- the order of the file: 36,738 pages dirtied, 44,625 written.
--
-- Measured with psql running the daemon's statements on a database of a
-- million clinicians (the benchmark's roster), rolled back: the
-- million-line sheet's recording statement 49.4 s where 53.3 s, the
-- merge 67.3 s where 71.1 s.  At 100,000 lines, where the indexes fit in
-- memory, no difference (merges of 5.2-5.8 s before and after).  The same
-- results, attempts and verdicts; only their ids' order differs.
--
-- Redefined from its text in the catalog (migration_function_replace(),
-- sql/0026): the FROM of its verdicts, found exactly once.
SELECT migration_function_replace('exam_record(exam_entry[], boolean)',
	E'\t\t  FROM exam_verdicts(p_rows) e\n',
	E'\t\t  FROM exam_verdicts(p_rows) e\n'
	|| E'\t\t -- the indexes\' order (see sql/0037)\n'
	|| E'\t\t ORDER BY e.clinician_id, e.level_id, e.kind, e.next_attempt\n');
