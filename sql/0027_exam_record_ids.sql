-- exam_record() gives each new result its id before inserting it (issue
-- 10, item 1: a results sheet costs what hand-written SQL costs).
--
-- exam_record() (sql/0020_results_speed.sql) inserted the results its
-- verdicts allow, then found each line's new id by joining the inserted
-- rows back to the verdicts on clinician, level and kind.  For a
-- 1,000,000-row sheet that join sorted both sides, a million rows each,
-- on disk: seconds, to learn ids the sequence could have said first.
-- Now the verdicts draw each allowed row's id from the column's own
-- sequence, the insert writes it (OVERRIDING SYSTEM VALUE: the column is
-- GENERATED ALWAYS, and the ids are the ones it would have drawn), and the
-- verdicts are read once, with no join.  Nothing else changes: the same
-- verdicts, rows, audit rows and certificates.
--
-- The function is redefined from its own text in the catalog
-- (migration_function_replace(), sql/0026), so no copy of it is made here
-- to drift; each piece replaced must be found exactly once.
DO $$
DECLARE
	v_pairs text[][] := ARRAY[
		[E'\t\tSELECT * FROM exam_verdicts(p_rows)\n',
		 E'\t\tSELECT e.*, CASE WHEN e.code IS NULL THEN\n'
		 || E'\t\t       nextval(''exam_results_id_seq''::regclass) END AS new_id\n'
		 || E'\t\t  FROM exam_verdicts(p_rows) e\n'],
		[E'\t\tINSERT INTO exam_results (clinician_id, level_id, kind, attempt,\n',
		 E'\t\tINSERT INTO exam_results (id, clinician_id, level_id, kind, attempt,\n'],
		[E'\t\t                          taken_on, graded_by)\n'
		 || E'\t\tSELECT v.clinician_id,',
		 E'\t\t                          taken_on, graded_by)\n'
		 || E'\t\tOVERRIDING SYSTEM VALUE\n'
		 || E'\t\tSELECT v.new_id, v.clinician_id,'],
		[E'\tSELECT array_agg(ROW(v.line, ins.id, v.code,',
		 E'\tSELECT array_agg(ROW(v.line, v.new_id, v.code,'],
		[E'\t       array_agg(v.line) FILTER (WHERE ins.id IS NOT NULL),\n'
		 || E'\t       array_agg(v.clinician_id) FILTER (WHERE ins.id IS NOT NULL),\n'
		 || E'\t       array_agg(v.level_id) FILTER (WHERE ins.id IS NOT NULL)\n',
		 E'\t       array_agg(v.line) FILTER (WHERE v.code IS NULL),\n'
		 || E'\t       array_agg(v.clinician_id) FILTER (WHERE v.code IS NULL),\n'
		 || E'\t       array_agg(v.level_id) FILTER (WHERE v.code IS NULL)\n'],
		[E'\t  FROM v LEFT JOIN ins ON v.code IS NULL\n'
		 || E'\t   AND ins.clinician_id = v.clinician_id AND ins.level_id = v.level_id\n'
		 || E'\t   AND ins.kind = v.kind;\n',
		 E'\t  FROM v;\n']];
BEGIN
	IF pg_get_serial_sequence('exam_results', 'id')
	   IS DISTINCT FROM 'public.exam_results_id_seq' THEN
		RAISE EXCEPTION 'exam_results.id is not drawn from exam_results_id_seq';
	END IF;
	FOR i IN 1..array_length(v_pairs, 1) LOOP
		PERFORM migration_function_replace('exam_record(exam_entry[])',
		                                   v_pairs[i][1], v_pairs[i][2]);
	END LOOP;
END
$$;
