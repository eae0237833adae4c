-- The staging table's statistics, for what the plans read of them (issue
-- 10, item 3: the fixed cost of an import).
--
-- Each import analysed its staging table twice, every column: once as the
-- check began and once when the checked rows replaced it
-- (import_rows_replace()).  At 10,000 roster rows the two took 90 ms of an
-- import of 0.6 s, most of it spent sorting the samples of names, emails
-- and addresses that no plan asks about: the check reads the file's rows
-- through CTEs, whose estimates come from the row count alone, and the
-- merges filter and join the staging table by line, by the ids the check
-- filled in, by its verdict and by its outcome.
--
-- import_rows_analyze() analyses only those columns (the ones the staging
-- table of the import's kind has).  The row count, which every plan needs,
-- is taken by any ANALYZE.  At 10,000 rows: 4-8 ms where a whole ANALYZE
-- took 45-50 ms.
CREATE FUNCTION import_rows_analyze() RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
	v_cols text;
BEGIN
	SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
	  INTO v_cols
	  FROM pg_attribute a
	 WHERE a.attrelid = 'pg_temp.import_rows'::regclass
	   AND a.attnum > 0 AND NOT a.attisdropped
	   AND a.attname IN ('line', 'err_message', 'outcome', 'clinician_id',
	                     'level_id', 'session_id', 'enrollment_id',
	                     'enrollment_status', 'profession_code',
	                     'generation', 'kind');
	EXECUTE format('ANALYZE import_rows (%s)', v_cols);
END
$$;

-- The checks of the three kinds and import_rows_replace() call it where
-- they said ANALYZE import_rows.  Each function is redefined from its own
-- text in the catalog (as sql/0021 did), so no copy of a check is made
-- here to drift from the one in force; the migration fails if a function
-- does not read as expected.
DO $$
DECLARE
	f regprocedure;
	v_def text;
	v_new text;
BEGIN
	FOREACH f IN ARRAY ARRAY['import_roster_check()'::regprocedure,
	                         'import_results_check()'::regprocedure,
	                         'import_ce_check()'::regprocedure,
	                         'import_rows_replace()'::regprocedure]
	LOOP
		v_def := pg_get_functiondef(f);
		v_new := replace(v_def, E'\tANALYZE import_rows;',
		                 E'\tPERFORM import_rows_analyze();');
		IF v_new = v_def OR (length(v_def) - length(replace(v_def,
		   'ANALYZE import_rows;', ''))) <> length('ANALYZE import_rows;')
		THEN
			RAISE EXCEPTION '% does not analyse its staging table once', f;
		END IF;
		EXECUTE v_new;
	END LOOP;
END
$$;

-- The same for the tables an import joins, when their statistics are
-- stale (import_fresh_stats(), sql/0015): only the columns the imports
-- join and filter on.  A whole ANALYZE of clinicians also computes its
-- five expression indexes over the sample (lower() of names, emails and
-- cities): 54 ms of 78 at 10,000 clinicians, for statistics the imports
-- never read (the email's unique index tells the planner what it needs).
-- An ANALYZE of some columns does not reset PostgreSQL's count of rows
-- changed since the last one, so the next imports take these again (about
-- 15 ms, a bounded sample whatever the table's size) until autovacuum's
-- next whole ANALYZE.  The other tables have no expression index, and
-- are analysed whole (which costs them no more, and resets the count).
CREATE OR REPLACE FUNCTION import_fresh_stats(p_tables text[]) RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
	t record;
BEGIN
	FOR t IN SELECT s.relname, c.cols
	           FROM pg_stat_user_tables s
	           LEFT JOIN (VALUES ('clinicians',
	                                  'id, npi, email, profession_code'))
	                  c(rel, cols)
	             ON c.rel = s.relname
	          WHERE s.relid = ANY (SELECT to_regclass(x) FROM unnest(p_tables) x)
	            AND s.n_mod_since_analyze > 1000
	            AND s.n_mod_since_analyze > 0.1 * s.n_live_tup
	LOOP
		EXECUTE format('ANALYZE %I %s', t.relname,
		               coalesce('(' || t.cols || ')', ''));
	END LOOP;
END
$$;
