-- Staff lists (issue 13, item 4): certificates, enrollments, and a course
-- session with its roster.  Each list is one view (what a row shows) and
-- one function (which rows, in which order): the JSON page and the CSV
-- export both read the same function, so they cannot disagree about a
-- filter.  Rows come in id order, and a caller that streams a large export
-- asks for the rows after the last id it has seen (keyset pagination: each
-- page is an index range scan, whatever the page's depth).

-- What a staff list shows of a certificate.  certificate_status_on() is the
-- one definition of valid, expired and revoked.
CREATE VIEW certificates_listed AS
	SELECT c.id,
	       c.number,
	       certificate_status_on(c.revoked_at, c.expires_on, current_date)
	           AS status,
	       c.clinician_id,
	       cl.given_name || ' ' || cl.family_name AS holder,
	       cl.email,
	       c.level_id,
	       l.code AS level_code,
	       l.title AS level,
	       g.code AS program_code,
	       c.issued_on,
	       c.expires_on,
	       c.revoked_at::date AS revoked_on,
	       c.revocation_category,
	       r.number AS replaces,
	       rn.number AS renews,
	       c.renewed_at::date AS renewed_on
	  FROM certificates c
	  JOIN clinicians cl ON cl.id = c.clinician_id
	  JOIN levels l ON l.id = c.level_id
	  JOIN programs g ON g.id = l.program_id
	  LEFT JOIN certificates r ON r.id = c.replaces
	  LEFT JOIN certificates rn ON rn.id = c.renews;

-- The certificates that pass every filter given (NULL: no filter):
--   P_STATUS     'valid', 'expired', 'revoked', or 'expiring': valid and
--                expiring on or before today + P_WITHIN days
--   P_LEVEL      a level id;  P_FROM, P_TO  issued between, inclusive
--   P_CLINICIAN  a clinician id
-- after id P_AFTER, at most P_LIMIT (NULL: all) from P_OFFSET, by id.
CREATE FUNCTION certificates_find(p_status text, p_within int, p_level bigint,
    p_from date, p_to date, p_clinician bigint, p_after bigint, p_limit int,
    p_offset int)
RETURNS SETOF certificates_listed
LANGUAGE sql STABLE
AS $$
	SELECT v.*
	  FROM certificates_listed v
	 WHERE (p_status IS NULL
	        OR v.status = CASE WHEN p_status = 'expiring' THEN 'valid'
	                           ELSE p_status END)
	   AND (p_status IS DISTINCT FROM 'expiring'
	        OR v.expires_on <= current_date + coalesce(p_within, 90))
	   AND (p_level IS NULL OR v.level_id = p_level)
	   AND (p_from IS NULL OR v.issued_on >= p_from)
	   AND (p_to IS NULL OR v.issued_on <= p_to)
	   AND (p_clinician IS NULL OR v.clinician_id = p_clinician)
	   AND v.id > coalesce(p_after, 0)
	 ORDER BY v.id
	 LIMIT p_limit OFFSET coalesce(p_offset, 0)
$$;

-- What a staff list shows of an enrollment.
CREATE VIEW enrollments_listed AS
	SELECT e.id,
	       e.clinician_id,
	       cl.given_name || ' ' || cl.family_name AS clinician,
	       cl.email,
	       e.level_id,
	       l.code AS level_code,
	       e.session_id,
	       e.status,
	       e.completed_on,
	       e.enrolled_at::date AS enrolled_on
	  FROM enrollments e
	  JOIN clinicians cl ON cl.id = e.clinician_id
	  JOIN levels l ON l.id = e.level_id;

-- The enrollments that pass every filter given (NULL: no filter): session,
-- level, status ('enrolled', 'completed', 'withdrawn'); paged as above.
CREATE FUNCTION enrollments_find(p_session bigint, p_level bigint,
    p_status text, p_after bigint, p_limit int, p_offset int)
RETURNS SETOF enrollments_listed
LANGUAGE sql STABLE
AS $$
	SELECT v.*
	  FROM enrollments_listed v
	 WHERE (p_session IS NULL OR v.session_id = p_session)
	   AND (p_level IS NULL OR v.level_id = p_level)
	   AND (p_status IS NULL OR v.status = p_status)
	   AND v.id > coalesce(p_after, 0)
	 ORDER BY v.id
	 LIMIT p_limit OFFSET coalesce(p_offset, 0)
$$;

CREATE INDEX certificates_issued_idx ON certificates (issued_on);

-- A course session's roster: every enrollment in it, with each exam's
-- progress read by exam_histories() (the one reading of attempts, rule 5)
-- and the level's max_attempts, and the clinician's current certificate
-- at the level (neither revoked nor renewed).  One row per enrollment, by enrollment id.
CREATE FUNCTION session_roster(p_session bigint)
RETURNS TABLE (enrollment_id bigint, clinician_id bigint, clinician text,
               email text, status text, completed_on date,
               written_used bigint, written_left int, written_passed boolean,
               written_last_on date,
               practical_used bigint, practical_left int,
               practical_passed boolean, practical_last_on date,
               certificate text, certificate_status text)
LANGUAGE sql STABLE
AS $$
	WITH r AS (
		SELECT e.id, (row_number() OVER (ORDER BY e.id))::int AS n,
		       e.clinician_id, e.level_id, e.status,
		       e.completed_on, l.max_attempts,
		       cl.given_name || ' ' || cl.family_name AS name,
		       cl.email
		  FROM enrollments e
		  JOIN levels l ON l.id = e.level_id
		  JOIN clinicians cl ON cl.id = e.clinician_id
		 WHERE e.session_id = p_session
	), h AS (
		SELECT * FROM exam_histories(ARRAY(
			SELECT ROW(r.n * 2 + k.n, r.clinician_id,
			           r.level_id, k.kind, NULL, NULL, NULL,
			           NULL)::exam_entry
			  FROM r CROSS JOIN (VALUES (0, 'written'),
			                            (1, 'practical')) k (n, kind)))
	)
	SELECT r.id, r.clinician_id, r.name, r.email, r.status, r.completed_on,
	       coalesce(w.used, 0), greatest(r.max_attempts - coalesce(w.used, 0), 0)::int,
	       w.passed_attempt IS NOT NULL, w.last_on,
	       coalesce(p.used, 0), greatest(r.max_attempts - coalesce(p.used, 0), 0)::int,
	       p.passed_attempt IS NOT NULL, p.last_on,
	       c.number,
	       CASE WHEN c.id IS NOT NULL THEN certificate_status_on(
	           c.revoked_at, c.expires_on, current_date) END
	  FROM r
	  LEFT JOIN h w ON w.line = r.n * 2
	  LEFT JOIN h p ON p.line = r.n * 2 + 1
	  LEFT JOIN certificates c ON c.clinician_id = r.clinician_id
	   AND c.level_id = r.level_id AND c.revoked_at IS NULL
	   AND c.renewed_at IS NULL
	 ORDER BY r.id
$$;
