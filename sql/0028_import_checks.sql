-- The imports' checks (issue 10, item 3: a results sheet costs what
-- hand-written SQL costs; and two messages that were not what
-- docs/import.md says).
--
-- import_results_check() (sql/0020, as sql/0023 left it) carried every
-- column of the staging table (names, emails, the raw level, the error
-- columns: about 350 bytes a row) through its two window sorts and its
-- CTE c, which two parts of the query read and PostgreSQL therefore
-- keeps in a tuplestore.  At 1,000,000 rows each sort wrote about 100 MB
-- to disk.  Now the rows are resolved to what the windows need (line,
-- clinician, level, kind, date, scores and the error found while
-- reading), and the columns only the report needs are joined back by
-- line once, at the end.  The same verdicts, generations and outcomes.
--
-- Two messages had a line break and a tab inside them, where their text
-- was wrapped in the source: "attempt N on DATE is recorded with S of M;
-- amend it rather than import another score" (results) and "the email
-- belongs to clinician A, the NPI to clinician B" (rosters).  Each is now
-- one line, as docs/import.md gives it.
--
-- Redefined from their own text in the catalog
-- (migration_function_replace(), sql/0026): each piece replaced must be
-- found exactly once.
DO $$
DECLARE
	v_pairs text[][] := ARRAY[
		-- the resolved rows: what the windows and the verdicts read
		[E'\t\tSELECT r.*, l.id AS l_id, l.detail AS l_detail,\n',
		 E'\t\tSELECT r.line, r.kind, r.score, r.max_score, r.taken_on,\n'
		 || E'\t\t       r.err_message, l.id AS l_id,\n'],
		-- the report's columns, joined back by line
		[E'\tSELECT g.line, g.npi, g.email, g.level, g.kind, g.score, g.max_score,\n',
		 E'\tSELECT g.line, r.npi, r.email, r.level, g.kind, g.score, g.max_score,\n'],
		[E'\t       CASE g.e2 WHEN 0 THEN g.err_column WHEN 1 THEN ''level''\n'
		 || E'\t            WHEN 2 THEN CASE WHEN g.npi IS NOT NULL',
		 E'\t       CASE g.e2 WHEN 0 THEN r.err_column WHEN 1 THEN ''level''\n'
		 || E'\t            WHEN 2 THEN CASE WHEN r.npi IS NOT NULL'],
		[E'\t       CASE g.e2 WHEN 0 THEN g.err_value WHEN 1 THEN g.level\n'
		 || E'\t            WHEN 2 THEN coalesce(g.npi, g.email)\n',
		 E'\t       CASE g.e2 WHEN 0 THEN r.err_value WHEN 1 THEN r.level\n'
		 || E'\t            WHEN 2 THEN coalesce(r.npi, r.email)\n'],
		[E'\t       CASE g.e2 WHEN 0 THEN g.err_message WHEN 1 THEN g.l_detail\n'
		 || E'\t            WHEN 2 THEN CASE WHEN g.npi IS NOT NULL\n'
		 || E'\t                        THEN format(''there is no clinician with NPI %s'', g.npi)\n'
		 || E'\t                        ELSE format(''there is no clinician with email ''''%s'''''',\n'
		 || E'\t                                    g.email) END\n',
		 E'\t       CASE g.e2 WHEN 0 THEN r.err_message WHEN 1 THEN l.detail\n'
		 || E'\t            WHEN 2 THEN CASE WHEN r.npi IS NOT NULL\n'
		 || E'\t                        THEN format(''there is no clinician with NPI %s'', r.npi)\n'
		 || E'\t                        ELSE format(''there is no clinician with email ''''%s'''''',\n'
		 || E'\t                                    r.email) END\n'],
		[E'\t  FROM g;\n',
		 E'\t  FROM g\n'
		 || E'\t  JOIN import_rows r ON r.line = g.line\n'
		 || E'\t  LEFT JOIN lev l ON l.level = r.level;\n'],
		[E'is recorded with %s of %s;\n\tamend it rather',
		 E'is recorded with %s of %s; amend it rather']];
BEGIN
	FOR i IN 1..array_length(v_pairs, 1) LOOP
		PERFORM migration_function_replace('import_results_check()',
		                                   v_pairs[i][1], v_pairs[i][2]);
	END LOOP;
END
$$;

SELECT migration_function_replace('import_roster_check()',
	E'the NPI to\n\tclinician %s''', 'the NPI to clinician %s''');
