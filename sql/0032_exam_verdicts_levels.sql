-- exam_verdicts() reads each line's level by hash, not by a scan per line
-- (issue 10, item 3: a results sheet costs what hand-written SQL costs).
--
-- The level of each line was a LATERAL subquery (OFFSET 0) run once per
-- line: kept apart so that the planner, which guessed a join to levels
-- kept one line in a hundred, would not probe clinicians and enrollments
-- by index once per line.  But a subquery run a million times costs its
-- start and scan every time: 3.0 s of the 8.7 s the million-line sheet's
-- verdicts took.  Now the other facts are joined first, in a subquery the
-- planner cannot fold into the rest (OFFSET 0), so they are planned for
-- the lines there are; the level is joined last, to a table of a few
-- rows, by hash.  The same rows and verdicts (compared on a million-line
-- sheet: no difference), and the same index probes for the API's one
-- line.  At 400,000 lines the verdicts took 0.89 s where they took 2.18 s.
--
-- Redefined from its text in the catalog (migration_function_replace(),
-- sql/0026): the select list and FROM of its first CTE, found exactly
-- once.
SELECT migration_function_replace('exam_verdicts(exam_entry[])',
$old$		       k.id AS known, e.id AS enrollment_id, s.starts_on,
		       coalesce(h.used, 0) AS used,
		       coalesce(h.next_attempt, 1) AS next_attempt,
		       h.passed_attempt,
		       retake_allowed_on(h.last_on, l.retake_wait_days) AS allowed_on
		  FROM unnest(p) c
		 -- a level per row, kept apart from the joins below: as a plain
		 -- join the planner guessed it kept one row in a hundred, and
		 -- probed clinicians and enrollments by index once per row of a
		 -- sheet (random reads of tables larger than the cache at a
		 -- million rows) instead of joining them by hash
		 CROSS JOIN LATERAL (SELECT * FROM levels l
		                      WHERE l.id = c.level_id OFFSET 0) l
		  LEFT JOIN clinicians k ON k.id = c.clinician_id
		  LEFT JOIN enrollments e ON e.clinician_id = c.clinician_id
		   AND e.level_id = c.level_id AND e.status <> 'withdrawn'
		  LEFT JOIN course_sessions s ON s.id = e.session_id
		  LEFT JOIN exam_histories(p) h ON h.line = c.line
$old$, $new$		       c.known, c.enrollment_id, c.starts_on,
		       coalesce(c.used, 0) AS used,
		       coalesce(c.next_attempt, 1) AS next_attempt,
		       c.passed_attempt,
		       retake_allowed_on(c.last_on, l.retake_wait_days) AS allowed_on
		  -- every fact of each line but its level, joined first (by hash for
		  -- a sheet, by index for a few lines); the level last, out of the
		  -- way of the planner's estimates (OFFSET 0: a subquery it cannot
		  -- fold in), joined by hash to a table of a few rows
		  FROM (SELECT c.*, k.id AS known, e.id AS enrollment_id, s.starts_on,
		               h.used, h.next_attempt, h.passed_attempt, h.last_on
		          FROM unnest(p) c
		          LEFT JOIN clinicians k ON k.id = c.clinician_id
		          LEFT JOIN enrollments e ON e.clinician_id = c.clinician_id
		           AND e.level_id = c.level_id AND e.status <> 'withdrawn'
		          LEFT JOIN course_sessions s ON s.id = e.session_id
		          LEFT JOIN exam_histories(p) h ON h.line = c.line
		        OFFSET 0) c
		  JOIN levels l ON l.id = c.level_id
$new$);
