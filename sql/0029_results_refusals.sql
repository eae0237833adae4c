-- A results sheet's merge asks exam_record() for its refusals only (issue
-- 10, item 3: a results sheet costs what hand-written SQL costs).
--
-- exam_record() answers every line it is given: the new result's id, or
-- the refusal, and the certificate the line's result completed.  The API
-- records one result and wants all of that.  The import wants only the
-- refused lines (the rest are 'created' already, from the check, and the
-- import report finds its certificates in their audit rows); yet for a
-- 1,000,000-row sheet it had exam_record() gather a million verdicts
-- into an array, sort them by line to join the certificates to them, and
-- return them, only to keep the few refused.  P_REFUSED_ONLY skips that:
-- the same verdicts, the same rows written, the same certificates
-- issued, and only the refused lines returned (their certificate is
-- always NULL).  At a million lines the certificates' statement took
-- 12.3-13.2 s where it took 14.0-15.0 s with the join.
--
-- The function is redefined from its own text in the catalog
-- (migration_function_replace(), sql/0026): first a copy that takes the
-- new argument (its default keeps the API's call as it is), then the old
-- one dropped, then the pieces of the new one replaced, each found
-- exactly once.
SELECT migration_function_replace('exam_record(exam_entry[])',
	'exam_record(p_rows exam_entry[])',
	'exam_record(p_rows exam_entry[], p_refused_only boolean DEFAULT false)');
DROP FUNCTION exam_record(exam_entry[]);

DO $$
DECLARE
	v_pairs text[][] := ARRAY[
		[E'\tSELECT array_agg(ROW(v.line, v.new_id, v.code, v.field, v.detail,\n'
		 || E'\t                     v.next_allowed_on, NULL, NULL)::write_verdict),\n'
		 || E'\t       array_agg(v.line) FILTER (WHERE v.code IS NULL),\n',
		 E'\tSELECT array_agg(ROW(v.line, v.new_id, v.code, v.field, v.detail,\n'
		 || E'\t                     v.next_allowed_on, NULL, NULL)::write_verdict)\n'
		 || E'\t           FILTER (WHERE NOT p_refused_only OR v.code IS NOT NULL),\n'
		 || E'\t       array_agg(v.line) FILTER (WHERE v.code IS NULL\n'
		 || E'\t                                 AND NOT p_refused_only),\n'],
		[E'\t-- a result may meet the last requirement of its level\n'
		 || E'\tRETURN QUERY\n',
		 E'\t-- a result may meet the last requirement of its level\n'
		 || E'\tIF p_refused_only THEN\n'
		 || E'\t\tPERFORM 1 FROM certificates_issue_due(v_c, v_l);\n'
		 || E'\t\tRETURN QUERY\n'
		 || E'\t\tSELECT o.line, o.id, o.code, o.field, o.detail, o.next_allowed_on,\n'
		 || E'\t\t       NULL::bigint, NULL::bigint\n'
		 || E'\t\t  FROM unnest(v_out) o;\n'
		 || E'\t\tRETURN;\n'
		 || E'\tEND IF;\n'
		 || E'\tRETURN QUERY\n']];
BEGIN
	FOR i IN 1..array_length(v_pairs, 1) LOOP
		PERFORM migration_function_replace(
		    'exam_record(exam_entry[], boolean)',
		    v_pairs[i][1], v_pairs[i][2]);
	END LOOP;
END
$$;

SELECT migration_function_replace('import_results_merge(bigint)',
	E'WHERE x.generation = g AND x.err_message IS NULL)) v\n',
	E'WHERE x.generation = g AND x.err_message IS NULL), true) v\n');

-- The results sheet's check: one sort for its two windows, and
-- exam_results joined by hash.
--
-- Its question "what is recorded for this sitting" was asked only of the
-- first good line of each sitting, by a filter on a CTE's columns, which
-- have no statistics: planned for 1 line in 600, it probed exam_results
-- once per line, a million times for a million-line sheet (about 1.4 s
-- of a 10.8 s statement, and that of an empty table; a full one would
-- have been read by index a million times).  Now every line asks it, and the join is planned for
-- what the sheet holds; the answers of the lines it does not concern
-- (refused already, or a later line of the same sitting) are never read.
-- Knowing the answers before the windows, the first line of each sitting
-- and the generations are counted in one order (the person's level and
-- kind, the date, the line), so the rows are sorted once where they were
-- sorted twice: a generation is the count of new lines so far in that
-- order, which is the row number among them the check counted before.
-- The same verdicts, generations and outcomes (compared row by row with
-- the check before it on two random 390,000-line sheets against 200,000
-- recorded results: every refusal, generations 1 to 3).  At a million
-- lines the statement took 8.8 s where it took 10.8 s.
SELECT migration_function_replace('import_results_check()',
$old$	), c AS (
		SELECT b.*, min(b.line) FILTER (WHERE b.e IS NULL)
		       OVER (PARTITION BY b.k_id, b.l_id, b.kind, b.taken_on) AS first
		  FROM b
	), rec AS (
		-- what is recorded for the sitting of each good row: its first
		-- attempt, and whether any has the same score (one sort, not
		-- four ordered aggregates per row)
		SELECT DISTINCT ON (c.line) c.line,
		       bool_or(x.score = c.score AND x.max_score = c.max_score)
		           OVER (PARTITION BY c.line) AS same,
		       x.attempt AS o_attempt, x.taken_on AS o_taken_on,
		       x.score AS o_score, x.max_score AS o_max_score
		  FROM c JOIN exam_results_current x ON x.clinician_id = c.k_id
		   AND x.level_id = c.l_id AND x.kind = c.kind
		   AND x.taken_on = c.taken_on
		 WHERE c.e IS NULL AND NOT c.first < c.line
		 ORDER BY c.line, x.attempt
	), d AS (
		SELECT c.*, rec.same, rec.o_attempt, rec.o_taken_on, rec.o_score,
		       rec.o_max_score,
		       CASE WHEN c.e IS NOT NULL THEN c.e
		            WHEN c.first < c.line THEN 3
		            WHEN rec.same THEN NULL
		            WHEN rec.line IS NOT NULL THEN 4 END AS e2
		  FROM c LEFT JOIN rec ON rec.line = c.line
	), g AS (
		SELECT d.*, CASE WHEN d.e2 IS NULL AND NOT coalesce(d.same, false)
		       THEN row_number() OVER (PARTITION BY d.k_id, d.l_id, d.kind,
		            d.e2 IS NULL AND NOT coalesce(d.same, false)
		            ORDER BY d.taken_on, d.line) END AS gen
		  FROM d
	)
$old$, $new$	), rec AS (
		-- what is recorded for the sitting of each row: its first
		-- attempt, and whether any has the same score (one sort, not
		-- four ordered aggregates per row)
		SELECT DISTINCT ON (b.line) b.line,
		       bool_or(x.score = b.score AND x.max_score = b.max_score)
		           OVER (PARTITION BY b.line) AS same,
		       x.attempt AS o_attempt, x.taken_on AS o_taken_on,
		       x.score AS o_score, x.max_score AS o_max_score
		  FROM b JOIN exam_results_current x ON x.clinician_id = b.k_id
		   AND x.level_id = b.l_id AND x.kind = b.kind
		   AND x.taken_on = b.taken_on
		 ORDER BY b.line, x.attempt
	), c AS (
		-- the first good line of each sitting, in the order the
		-- generations are counted in below
		SELECT b.*, rec.line AS rec_line, rec.same, rec.o_attempt,
		       rec.o_taken_on, rec.o_score, rec.o_max_score,
		       min(b.line) FILTER (WHERE b.e IS NULL)
		           OVER (PARTITION BY b.k_id, b.l_id, b.kind, b.taken_on
		                 ORDER BY b.line ROWS BETWEEN UNBOUNDED PRECEDING
		                 AND UNBOUNDED FOLLOWING) AS first
		  FROM b LEFT JOIN rec ON rec.line = b.line
	), d AS (
		SELECT c.*,
		       CASE WHEN c.e IS NOT NULL THEN c.e
		            WHEN c.first < c.line THEN 3
		            WHEN c.same THEN NULL
		            WHEN c.rec_line IS NOT NULL THEN 4 END AS e2
		  FROM c
	), g AS (
		SELECT d.*, CASE WHEN d.e2 IS NULL AND NOT coalesce(d.same, false)
		       THEN count(*) FILTER (WHERE d.e2 IS NULL
		                             AND NOT coalesce(d.same, false))
		            OVER (PARTITION BY d.k_id, d.l_id, d.kind
		                  ORDER BY d.taken_on, d.line
		                  ROWS UNBOUNDED PRECEDING) END AS gen
		  FROM d
	)
$new$);
