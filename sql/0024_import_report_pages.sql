-- An import's report in pages (issue 10: bounded memory).
--
-- GET /v1/imports/{id} listed up to a million errors and certificates in
-- one answer: a couple of hundred MB in the daemon (the result and the
-- reply) for an import of a million bad rows.  The daemon now asks for at
-- most one page (10,000, server/import.c) and a client asks for the next
-- page after the last it has: after a line for the errors, after a
-- certificate id for the certificates.  Both are keyset pages, read by
-- index from where the last one ended, so every page costs the same
-- however far into the list it is, and an import's lists never change
-- once its report is written: each error and each certificate is on
-- exactly one page.

-- ---------------------------------------------------------------------------
-- Errors: ordered by (line, id), paged by line
-- ---------------------------------------------------------------------------

-- The errors of import P_IMPORT on lines after P_AFTER, in line order:
-- LIST, a JSON array of {line, column, value, message}, and NEXT_AFTER,
-- the P_AFTER of the next page, or NULL when no error follows this one.
--
-- A page is made of whole lines (a line has at most two errors: its
-- row's and a problem of the file found there), so that the next page can
-- start after the last line of this one: at most P_LIMIT errors, and at
-- most 400 bytes of their text an error (about twice the usual) and 2 MB
-- in all, since a value may be a 64 KB field (10,000 of those would be
-- 640 MB, 1,000 of them too much for the CLI's 16 MB); the first line is
-- there whole in any case (P_LIMIT 0 lists none), so each page moves
-- on.  Read by import_errors_import_idx (import_id, line): P_LIMIT + 1
-- rows, the first line's, and one probe for what follows.
CREATE FUNCTION import_errors_page(p_import bigint, p_limit int, p_after int)
RETURNS TABLE (list json, next_after int)
LANGUAGE sql STABLE
AS $$
	-- Inlined into the daemon's prepared statement, planned generically
	-- after a few runs: each step is computed once (MATERIALIZED), and
	-- the boundaries are scalar subqueries, computed once before the
	-- scans that use them as index conditions, never rejoined per row.
	WITH p AS MATERIALIZED (
		SELECT e.id, e.line, e.column_name, e.value, e.message,
		       row_number() OVER w AS k,
		       sum(octet_length(coalesce(e.column_name, ''))
		           + octet_length(coalesce(e.value, ''))
		           + octet_length(e.message)) OVER w AS bytes
		  FROM (SELECT * FROM import_errors
		         WHERE import_id = p_import AND line > p_after
		         ORDER BY line, id LIMIT p_limit + 1) e
		WINDOW w AS (ORDER BY e.line, e.id)
	), f AS MATERIALIZED (
		SELECT min(line) AS line FROM p
	), cut AS MATERIALIZED (
		-- the first line past the first that does not fit
		SELECT min(p.line) AS line FROM p
		 WHERE p.line > (SELECT line FROM f)
		   AND (p.k > p_limit
		        OR p.bytes > least(p_limit::bigint * 400, 2097152))
	), page AS MATERIALIZED (
		SELECT e.id, e.line, e.column_name, e.value, e.message
		  FROM import_errors e
		 WHERE p_limit > 0 AND e.import_id = p_import
		   AND e.line = (SELECT line FROM f)
		UNION ALL
		SELECT p.id, p.line, p.column_name, p.value, p.message
		  FROM p
		 WHERE p.line > (SELECT line FROM f)
		   AND p.line < coalesce((SELECT line FROM cut), 2147483647)
	), last AS MATERIALIZED (
		SELECT coalesce(max(line), p_after) AS line FROM page
	)
	SELECT coalesce((SELECT json_agg(json_build_object('line', g.line,
	                        'column', g.column_name, 'value', g.value,
	                        'message', g.message) ORDER BY g.line, g.id)
	                   FROM page g), '[]'),
	       CASE WHEN EXISTS (SELECT 1 FROM import_errors
	                          WHERE import_id = p_import
	                            AND line > (SELECT line FROM last))
	            THEN (SELECT line FROM last) END
$$;

-- ---------------------------------------------------------------------------
-- Certificates: ordered by id, paged by id
-- ---------------------------------------------------------------------------

-- The certificates of an import by certificate id, in order: a page after
-- an id is read from this index from there on, where 0020's index by
-- import alone made every page join and sort all of them.  It leads with
-- the same column, so it replaces that one.
CREATE INDEX audit_log_import_certificate_ids_idx
	ON audit_log (import_id, (entity_id::bigint))
	WHERE action = 'certificate.issue' AND import_id IS NOT NULL;
DROP INDEX audit_log_import_certificates_idx;

-- The certificates import P_IMPORT issued after the one of id P_AFTER:
-- LIST, the first P_LIMIT by certificate id as a JSON array of {number,
-- clinician_id, level (the level's code), id}; TOTAL, how many it issued
-- (its 'certificate.issue' audit rows, counted from the index: a
-- certificate is never deleted); NEXT_AFTER, the P_AFTER of the next
-- page, or NULL when no certificate follows this one.  A dry run, or a
-- refused import, issued none: what it wrote was rolled back.  Replaces
-- 0020's import_certificates(p_import, p_limit), which had no P_AFTER.
DROP FUNCTION import_certificates(bigint, int);
CREATE FUNCTION import_certificates(p_import bigint, p_limit int,
                                    p_after bigint)
RETURNS TABLE (list json, total bigint, next_after bigint)
LANGUAGE sql STABLE
AS $$
	-- Planned as import_errors_page() is (above).
	WITH f AS MATERIALIZED (
		SELECT c.id, c.number, c.clinician_id, l.code
		  FROM (SELECT a.entity_id::bigint AS id FROM audit_log a
		         WHERE a.import_id = p_import
		           AND a.action = 'certificate.issue'
		           AND a.entity_id::bigint > p_after
		         ORDER BY a.entity_id::bigint LIMIT p_limit) p
		  JOIN certificates c ON c.id = p.id
		  JOIN levels l ON l.id = c.level_id
	), last AS MATERIALIZED (
		SELECT coalesce(max(id), p_after) AS id FROM f
	)
	SELECT coalesce((SELECT json_agg(json_build_object('number', f.number,
	                        'clinician_id', f.clinician_id, 'level', f.code,
	                        'id', f.id) ORDER BY f.id)
	                   FROM f), '[]'),
	       (SELECT count(*) FROM audit_log a
	         WHERE a.import_id = p_import
	           AND a.action = 'certificate.issue'),
	       CASE WHEN EXISTS (SELECT 1 FROM audit_log a
	                          WHERE a.import_id = p_import
	                            AND a.action = 'certificate.issue'
	                            AND a.entity_id::bigint
	                                > (SELECT id FROM last))
	            THEN (SELECT id FROM last) END
$$;
