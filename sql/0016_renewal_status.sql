-- Status shows each level's renewal progress (issue 13, item 3), and the
-- daemons' lookup caches (sql/0015_import_speed.sql) learn of what changes
-- it: continuing-education activities (per clinician) and renewal policies
-- (every answer).

DO $$
BEGIN
	EXECUTE 'CREATE TRIGGER ce_activities_cache_insert AFTER INSERT ON ce_activities'
	        ' REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT'
	        ' EXECUTE FUNCTION cache_notify_rows(''clinician_id'')';
	EXECUTE 'CREATE TRIGGER ce_activities_cache_update AFTER UPDATE ON ce_activities'
	        ' REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'
	        ' FOR EACH STATEMENT EXECUTE FUNCTION cache_notify_rows(''clinician_id'')';
	EXECUTE 'CREATE TRIGGER ce_activities_cache_delete AFTER DELETE ON ce_activities'
	        ' REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT'
	        ' EXECUTE FUNCTION cache_notify_rows(''clinician_id'')';
END
$$;

CREATE TRIGGER renewal_policies_cache
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON renewal_policies
	FOR EACH STATEMENT EXECUTE FUNCTION cache_notify_all();

-- A clinician's status: clinician_status() with, under "renewal", each
-- current certificate's renewal window and progress (renewal_status() of
-- sql/0011_renewals.sql).  NULL for an unknown clinician, as before.
CREATE FUNCTION clinician_status_full(p_clinician bigint, p_today date)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
	SELECT s::jsonb || jsonb_build_object('renewal',
	           renewal_status(p_clinician, p_today))
	  FROM clinician_status(p_clinician, p_today) s
$$;
