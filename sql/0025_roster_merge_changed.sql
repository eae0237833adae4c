-- A roster's merge looks for changed clinicians only among those the
-- check found a change for (issue 10, item 1: a re-import costs what it
-- changes).
--
-- import_roster_merge() updated the known clinicians whose first good
-- line changes them: it took the first line of every known clinician of
-- the file (a sort of the whole staging table), joined the clinicians,
-- and asked roster_row_changes() of each.  When nothing changed -- the
-- weekly re-import of the same roster -- that was 11 s of a
-- 1,000,000-row re-import's 47, to find nothing.
--
-- The check has already asked roster_row_changes() of every good line,
-- against the clinician as they are, and said 'updated' where it holds
-- (import_roster_check()).  The merge's first line of a clinician is one
-- of those lines, so a clinician it changes has a line the check called
-- 'updated'; the merge now asks only the clinicians that have one (the
-- outcome also says 'updated' for a session or a completion, which only
-- widens the set it asks).  Nothing else changes: the first line still
-- decides, and roster_row_changes() still is the one test.
--
-- The function is redefined from its own text in the catalog (as sql/0021
-- and 0023 do), so no copy of the merge is made here to drift.
DO $$
DECLARE
	v_def text := pg_get_functiondef('import_roster_merge()'::regprocedure);
	v_old text := E'\t\t WHERE err_message IS NULL AND clinician_id IS NOT NULL\n';
	v_new text := E'\t\t WHERE err_message IS NULL AND clinician_id IS NOT NULL\n'
	              || E'\t\t   AND clinician_id IN (SELECT y.clinician_id\n'
	              || E'\t\t         FROM import_rows y WHERE y.outcome = ''updated'')\n';
BEGIN
	IF (length(v_def) - length(replace(v_def, v_old, ''))) <> length(v_old) THEN
		RAISE EXCEPTION 'import_roster_merge() does not read as expected';
	END IF;
	EXECUTE replace(v_def, v_old, v_new);
END
$$;
