-- A roster's merge asks enrollment_create() for its refusals only (issue
-- 10, item 3), as a results sheet's asks exam_record() since sql/0029.
--
-- enrollment_create() answers every entry: the new enrollment's id, or
-- the refusal, and the certificate the entry's completion issued.  The
-- API enrolls one clinician and wants all of that.  The roster's merge
-- keeps only the refused entries (the rest are 'created' already, from
-- the check); yet for a 1,000,000-row roster it had the function join
-- the million enrollments written back to the entries (3.3 s of sorts),
-- join the million verdicts to the entries again for the certificates
-- due, and return them all (2.9 s with the certificates' question).
-- P_REFUSED_ONLY skips that: the same refusals, the same rows written,
-- the same certificates asked for and issued (the pairs in the same
-- order: the completed entries that were not refused, by line), and only
-- the refused entries returned (their certificate is always NULL).  The
-- join of the rows written to the entries is still made when some entry
-- lost to a concurrent enrollment, to say which.
--
-- The function is redefined from its own text in the catalog
-- (migration_function_replace(), sql/0026): first a copy that takes the
-- new argument (its default keeps the API's call as it is), then the old
-- one dropped, then the pieces of the new one replaced, each found
-- exactly once.
SELECT migration_function_replace('enrollment_create(enroll_entry[], boolean)',
	'enrollment_create(p_rows enroll_entry[], p_rules_asked boolean DEFAULT false)',
	'enrollment_create(p_rows enroll_entry[], p_rules_asked boolean DEFAULT false,'
	|| ' p_refused_only boolean DEFAULT false)');
DROP FUNCTION enrollment_create(enroll_entry[], boolean);

DO $$
DECLARE
	v_pairs text[][] := ARRAY[
		[E'\t       NULL, NULL, NULL)::write_verdict)\n'
		 || E'\t  INTO v_ins\n'
		 || E'\t  FROM ok LEFT JOIN ins ON ins.clinician_id = ok.clinician_id\n'
		 || E'\t   AND ins.level_id = ok.level_id;\n',
		 E'\t       NULL, NULL, NULL)::write_verdict)\n'
		 || E'\t           FILTER (WHERE NOT p_refused_only OR ins.id IS NULL)\n'
		 || E'\t  INTO v_ins\n'
		 || E'\t  FROM ok LEFT JOIN ins ON ins.clinician_id = ok.clinician_id\n'
		 || E'\t   AND ins.level_id = ok.level_id\n'
		 || E'\t -- refused only: joined when an entry was not written\n'
		 || E'\t WHERE NOT p_refused_only\n'
		 || E'\t    OR (SELECT count(*) FROM ins) < (SELECT count(*) FROM ok);\n'],
		[E'\t-- a course enrolled as completed may meet a level''s last requirement\n'
		 || E'\tRETURN QUERY\n',
		 E'\t-- a course enrolled as completed may meet a level''s last requirement\n'
		 || E'\tIF p_refused_only THEN\n'
		 || E'\t\tPERFORM 1 FROM certificates_issue_due(\n'
		 || E'\t\t\tARRAY(SELECT c.clinician_id FROM unnest(p_rows) c\n'
		 || E'\t\t\t       WHERE c.completed_on IS NOT NULL\n'
		 || E'\t\t\t         AND NOT EXISTS (SELECT 1 FROM unnest(v_refused) r\n'
		 || E'\t\t\t                          WHERE r.line = c.line)\n'
		 || E'\t\t\t         AND NOT EXISTS (SELECT 1 FROM unnest(v_ins) r\n'
		 || E'\t\t\t                          WHERE r.line = c.line)\n'
		 || E'\t\t\t       ORDER BY c.line),\n'
		 || E'\t\t\tARRAY(SELECT c.level_id FROM unnest(p_rows) c\n'
		 || E'\t\t\t       WHERE c.completed_on IS NOT NULL\n'
		 || E'\t\t\t         AND NOT EXISTS (SELECT 1 FROM unnest(v_refused) r\n'
		 || E'\t\t\t                          WHERE r.line = c.line)\n'
		 || E'\t\t\t         AND NOT EXISTS (SELECT 1 FROM unnest(v_ins) r\n'
		 || E'\t\t\t                          WHERE r.line = c.line)\n'
		 || E'\t\t\t       ORDER BY c.line));\n'
		 || E'\t\tRETURN QUERY\n'
		 || E'\t\tSELECT * FROM unnest(v_ins)\n'
		 || E'\t\tUNION ALL\n'
		 || E'\t\tSELECT * FROM unnest(v_refused);\n'
		 || E'\t\tRETURN;\n'
		 || E'\tEND IF;\n'
		 || E'\tRETURN QUERY\n']];
BEGIN
	FOR i IN 1..array_length(v_pairs, 1) LOOP
		PERFORM migration_function_replace(
		    'enrollment_create(enroll_entry[], boolean, boolean)',
		    v_pairs[i][1], v_pairs[i][2]);
	END LOOP;
END
$$;

SELECT migration_function_replace('import_roster_merge()',
	E'\t\t WHERE x.err_message IS NULL AND x.enrollment_id IS NULL), true) v\n',
	E'\t\t WHERE x.err_message IS NULL AND x.enrollment_id IS NULL), true, true) v\n');
