-- A running import's progress, seen by every connection while the import's
-- own transaction is still open (issue 14: the CLI shows "checking 100,000
-- rows" instead of a bare clock).
--
-- An import runs in one transaction on a connection of its own, so its
-- imports row is invisible to everyone else until it commits.  Its
-- progress is therefore written beside it, in import_progress, by short
-- statements on the daemon's pooled connections that commit at once: the
-- import's transaction never touches this table.  The daemon writes a row
-- when the import starts, when it moves to the next phase, and while the
-- body streams in at most twice a second (rows received): a handful of
-- writes per import, whatever its size.  Being in the database, the
-- progress of an import run by one daemon is read through any other.
--
-- Phases: receiving (the body streams in over COPY), checking (the
-- set-based checks over the staging table), merging (the set-based merge,
-- then the report), done (committed), failed (rolled back: an error, the
-- client gone).  The checks and the merge are each one SQL statement over
-- the whole file, so rows_checked and rows_merged move when each ends:
-- rows_received is the count that moves while the file arrives.
--
-- A client may name its import before sending it (import_key, unique
-- while the row is kept), so that it can find the running import's id:
-- an HTTP answer, and so the id, comes only after the whole body.
-- Rows are kept a day after their last write, then removed by the next
-- import's start.
CREATE TABLE import_progress (
	-- imports.id, with no foreign key: that row is not committed (not
	-- even visible) while the import runs, and a rolled back import has
	-- none at all
	import_id bigint PRIMARY KEY,
	import_key text
		CONSTRAINT import_progress_key_chars
		CHECK (import_key ~ '^[A-Za-z0-9_-]{1,64}$'),
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	kind text NOT NULL,
	filename text,
	dry_run boolean NOT NULL,
	partial boolean NOT NULL,
	-- the import's own backend: one that is gone took the import with it
	-- (a daemon killed mid-import writes no "failed")
	backend_pid integer NOT NULL,
	backend_start timestamptz,
	started_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	phase text NOT NULL DEFAULT 'receiving'
		CONSTRAINT import_progress_phases CHECK (phase IN ('receiving',
		'checking', 'merging', 'done', 'failed')),
	rows_received bigint NOT NULL DEFAULT 0,
	rows_checked bigint NOT NULL DEFAULT 0,
	rows_failed bigint NOT NULL DEFAULT 0,
	rows_merged bigint NOT NULL DEFAULT 0,
	message text,
	CONSTRAINT import_progress_counts CHECK (rows_received >= 0
		AND rows_checked >= 0 AND rows_failed >= 0 AND rows_merged >= 0
		AND rows_checked <= rows_received
		AND rows_failed <= rows_checked),
	CONSTRAINT import_progress_key_unique UNIQUE (import_key)
);

-- Import P_ID starts (its transaction's backend is P_PID): its progress
-- row, after the rows last written more than a day ago go.  A key
-- another import kept here has is a unique violation.
CREATE FUNCTION import_progress_start(p_id bigint, p_key text,
	p_user bigint, p_kind text, p_filename text, p_dry_run boolean,
	p_partial boolean, p_pid integer)
RETURNS void
LANGUAGE sql
AS $$
	DELETE FROM import_progress
	 WHERE updated_at < clock_timestamp() - interval '1 day';
	INSERT INTO import_progress (import_id, import_key, user_id, kind,
	       filename, dry_run, partial, backend_pid, backend_start)
	SELECT p_id, p_key, p_user, p_kind, p_filename, p_dry_run, p_partial,
	       p_pid, (SELECT a.backend_start FROM pg_stat_activity a
	                WHERE a.pid = p_pid);
$$;

-- Import P_ID's phase and counts now (a NULL count stays as it was).  An
-- import that is done or failed stays so: a late write changes nothing.
CREATE FUNCTION import_progress_set(p_id bigint, p_phase text,
	p_received bigint, p_checked bigint, p_failed bigint, p_merged bigint,
	p_message text)
RETURNS void
LANGUAGE sql
AS $$
	UPDATE import_progress
	   SET phase = p_phase,
	       rows_received = coalesce(p_received, rows_received),
	       rows_checked = coalesce(p_checked, rows_checked),
	       rows_failed = coalesce(p_failed, rows_failed),
	       rows_merged = coalesce(p_merged, rows_merged),
	       message = coalesce(p_message, message),
	       updated_at = clock_timestamp()
	 WHERE import_id = p_id AND phase NOT IN ('done', 'failed');
$$;

-- Import P_ID as GET /v1/imports/{id} shows it while it has no report of
-- its own (running, or rolled back): the report's members, with "counts"
-- so far and "progress"; NULL when it has a report (the imports row is
-- committed) or is unknown.  An import whose backend is gone without a
-- word (its daemon was killed) failed: its transaction went with it.  A
-- standby sees no backend of the primary's, so it takes the phase as
-- written.
CREATE FUNCTION import_progress_view(p_id bigint)
RETURNS json
LANGUAGE sql STABLE
AS $$
	SELECT json_build_object('id', p.import_id, 'kind', p.kind,
	       'status', CASE WHEN s.phase = 'failed' THEN 'failed'
	                      ELSE 'running' END,
	       'dry_run', p.dry_run, 'partial', p.partial,
	       'filename', p.filename, 'key', p.import_key,
	       'started_at', p.started_at,
	       'finished_at', CASE WHEN s.phase = 'failed' THEN p.updated_at END,
	       'user', u.username,
	       'counts', json_build_object('rows', p.rows_received,
	                 'created', 0, 'updated', 0, 'unchanged', 0,
	                 'failed', p.rows_failed),
	       'progress', json_build_object('phase', s.phase,
	                   'received', p.rows_received,
	                   'checked', p.rows_checked,
	                   'failed', p.rows_failed,
	                   'merged', p.rows_merged,
	                   'updated_at', p.updated_at),
	       'message', s.message,
	       'ignored_columns', '[]'::json, 'errors', '[]'::json,
	       'errors_total', 0)
	  FROM import_progress p
	  JOIN users u ON u.id = p.user_id
	 CROSS JOIN LATERAL (
	       SELECT CASE WHEN p.phase IN ('done', 'failed') OR pg_is_in_recovery()
	                     OR EXISTS (SELECT 1 FROM pg_stat_activity a
	                                 WHERE a.pid = p.backend_pid
	                                   AND a.backend_start IS NOT DISTINCT FROM
	                                       coalesce(p.backend_start, a.backend_start))
	                   THEN p.phase ELSE 'failed' END AS phase) f
	 CROSS JOIN LATERAL (
	       SELECT f.phase,
	              CASE WHEN f.phase <> 'failed' THEN NULL
	                   WHEN p.phase = 'failed' THEN coalesce(p.message,
	                        'the import failed; nothing was written')
	                   ELSE 'the import stopped when its database connection '
	                        'went away; nothing was written' END AS message) s
	 WHERE p.import_id = p_id AND p.phase <> 'done'
	   AND NOT EXISTS (SELECT 1 FROM imports i WHERE i.id = p.import_id);
$$;

-- The ids of the imports that import_progress_view() shows (running or
-- rolled back, no report), newest first; only the one named P_KEY when
-- P_KEY is not NULL.
CREATE FUNCTION import_progress_ids(p_key text)
RETURNS SETOF bigint
LANGUAGE sql STABLE
AS $$
	SELECT p.import_id FROM import_progress p
	 WHERE p.phase <> 'done' AND (p_key IS NULL OR p.import_key = p_key)
	   AND NOT EXISTS (SELECT 1 FROM imports i WHERE i.id = p.import_id)
	 ORDER BY p.import_id DESC;
$$;
