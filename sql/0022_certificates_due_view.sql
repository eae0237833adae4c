-- The view certificates_due, linear again (issue 10, item 1).
--
-- Since 0020 the view handed certificates_due_for() its pairs as two
-- ARRAY(SELECT ...) arguments.  A function whose arguments hold a subquery
-- is never inlined, and a SQL function's statement is planned without its
-- arguments' values: the planner guessed 10 pairs whatever their number,
-- and probed every table by index once per pair, a materialized CTE
-- spilled to disk and rescanned per pair where the statistics were stale
-- (86,000 pairs: 2.5 s on an analysed database, minutes in the benchmark's
-- generator).
--
-- certificates_due_all() gathers the pairs into variables and asks
-- certificates_due_for() -- still the one text of rule 6 -- through
-- EXECUTE ... USING: a statement planned once, for these very arrays, so
-- the planner sees how many pairs there are.  Nested loops are off for
-- it: the view always asks for every completed enrollment, where joining
-- by hash is right, and a table filled in the same transaction and not
-- analysed yet (the benchmark's generator, a bulk load) otherwise still
-- looked small enough to rescan the pairs once per pair.  86,000 pairs:
-- 0.7-1.1 s analysed or not (was 2.5 s analysed, and more than ten
-- minutes in the generator).  Each query of the view plans the statement
-- afresh (about a millisecond), which the view can afford; the write
-- paths keep their cached plans (certificates_issue_due(), on a pooled
-- connection for the API's few pairs and on an import's own connection,
-- planned for its set, for a sheet's).
CREATE FUNCTION certificates_due_all()
RETURNS TABLE (clinician_id bigint, level_id bigint, issued_on date,
               expires_on date, replaces bigint)
LANGUAGE plpgsql STABLE
SET enable_nestloop = off
AS $$
DECLARE
	v_c bigint[];
	v_l bigint[];
BEGIN
	SELECT array_agg(e.clinician_id ORDER BY e.id),
	       array_agg(e.level_id ORDER BY e.id)
	  INTO v_c, v_l
	  FROM enrollments e
	 WHERE e.status = 'completed';
	IF v_c IS NULL THEN
		RETURN;
	END IF;
	RETURN QUERY EXECUTE 'SELECT d.clinician_id, d.level_id, d.issued_on,'
	                     ' d.expires_on, d.replaces'
	                     ' FROM certificates_due_for($1, $2) d'
		USING v_c, v_l;
END
$$;

CREATE OR REPLACE VIEW certificates_due AS
	SELECT d.clinician_id, d.level_id, d.issued_on, d.expires_on, d.replaces
	  FROM certificates_due_all() d;
