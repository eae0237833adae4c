-- The rules that need other rows' history (DESIGN.md "The rules" 1, 2, 3,
-- 5 and 6), each written once as SQL over candidate rows.  The API asks
-- about a set of one; an import asks about its staging table with
--     FROM staging s CROSS JOIN LATERAL exam_refusal(s.clinician_id, ...)
-- All are LANGUAGE sql, STABLE and not STRICT, so the planner inlines them
-- into the calling query.  They compare the dates in the data, never the
-- wall clock.

-- The next attempt number of CLINICIAN at the KIND exam of LEVEL: one more
-- than the highest original (non-amendment) attempt recorded, 1 for none.
CREATE FUNCTION next_attempt(p_clinician bigint, p_level bigint, p_kind text)
RETURNS int
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT coalesce(max(r.attempt), 0) + 1
	  FROM exam_results r
	 WHERE r.clinician_id = p_clinician AND r.level_id = p_level
	   AND r.kind = p_kind AND r.supersedes IS NULL
$$;

-- Rules 1 and 2: why a candidate enrollment may not be made.  No row when
-- it is allowed; otherwise one row, the first refusal:
--   profession_not_eligible  the profession is not one of the program's
--                            eligible professions
--   prerequisite_missing     a prerequisite level has no unrevoked
--                            certificate (expired ones count: a
--                            prerequisite is about history, not today)
-- The candidate is a clinician id (NULL for a person a roster import is
-- about to create, who holds no certificates) and the profession the
-- candidate has (a roster may change it).  enrollment_refusal() below is
-- this for a stored clinician, so the API and the import share one
-- implementation.  An unknown level yields no refusal: whether it exists
-- is the caller's question.
CREATE FUNCTION enrollment_refusal_for(p_clinician bigint,
                                       p_profession text, p_level bigint)
RETURNS TABLE (code text, detail text)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT r.code, r.detail FROM (
		SELECT 1 AS rank, 'profession_not_eligible'::text AS code,
		       format('%s (%s) may not enroll in %s: eligible professions are %s',
		              pr.name, pr.code, pg.name,
		              coalesce((SELECT string_agg(pp.profession_code, ', '
		                                          ORDER BY pp.profession_code)
		                          FROM program_professions pp
		                         WHERE pp.program_id = pg.id), 'none')) AS detail
		  FROM professions pr
		  JOIN levels l ON l.id = p_level
		  JOIN programs pg ON pg.id = l.program_id
		 WHERE pr.code = p_profession
		   AND NOT EXISTS (SELECT 1 FROM program_professions pp
		                    WHERE pp.program_id = l.program_id
		                      AND pp.profession_code = p_profession)
		UNION ALL
		SELECT 2, 'prerequisite_missing',
		       format('%s requires %s to be certified first', l.title,
		              string_agg(req.title, ' and ' ORDER BY req.ordinal))
		  FROM levels l
		  JOIN level_prerequisites lp ON lp.level_id = l.id
		  JOIN levels req ON req.id = lp.requires_level_id
		 WHERE l.id = p_level
		   AND NOT EXISTS (SELECT 1 FROM certificates ce
		                    WHERE ce.clinician_id = p_clinician
		                      AND ce.level_id = lp.requires_level_id
		                      AND ce.revoked_at IS NULL)
		 GROUP BY l.id, l.title
	) AS r
	ORDER BY r.rank
	LIMIT 1
$$;

CREATE FUNCTION enrollment_refusal(p_clinician bigint, p_level bigint)
RETURNS TABLE (code text, detail text)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT f.code, f.detail
	  FROM clinicians c
	 CROSS JOIN LATERAL enrollment_refusal_for(c.id, c.profession_code,
	                                           p_level) AS f
	 WHERE c.id = p_clinician
$$;

-- Rules 3 and 5: why a KIND exam result of CLINICIAN at LEVEL taken on
-- TAKEN_ON may not be recorded as a new attempt.  No row when it may;
-- otherwise one row, the first refusal:
--   not_enrolled        no live (enrolled or completed) enrollment
--   already_passed      the current result of an earlier attempt passed
--   attempts_exhausted  max_attempts original attempts are recorded
--   retake_too_soon     TAKEN_ON is earlier than the previous attempt's
--                       (current) taken_on plus retake_wait_days;
--                       NEXT_ALLOWED_ON is the first date allowed
-- A caller recording the row locks the live enrollment FOR UPDATE first,
-- so concurrent submissions for one clinician and level see each other.
CREATE FUNCTION exam_refusal(p_clinician bigint, p_level bigint, p_kind text,
                             p_taken_on date)
RETURNS TABLE (code text, detail text, next_allowed_on date)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT r.code, r.detail, r.next_allowed_on FROM (
		SELECT 1 AS rank, 'not_enrolled'::text AS code,
		       format('clinician %s is not enrolled in %s', p_clinician,
		              coalesce((SELECT l.title FROM levels l WHERE l.id = p_level),
		                       'level ' || p_level)) AS detail,
		       NULL::date AS next_allowed_on
		 WHERE NOT EXISTS (SELECT 1 FROM enrollments e
		                    WHERE e.clinician_id = p_clinician
		                      AND e.level_id = p_level
		                      AND e.status IN ('enrolled', 'completed'))
		UNION ALL
		SELECT 2, 'already_passed',
		       format('the %s exam of %s is already passed (attempt %s)',
		              p_kind, l.title, min(x.attempt)),
		       NULL
		  FROM levels l
		  JOIN exam_results_current x
		    ON x.level_id = l.id AND x.clinician_id = p_clinician
		   AND x.kind = p_kind AND x.passed
		 WHERE l.id = p_level
		 GROUP BY l.id, l.title
		UNION ALL
		SELECT 3, 'attempts_exhausted',
		       format('all %s attempts at the %s exam of %s are used',
		              l.max_attempts, p_kind, l.title),
		       NULL
		  FROM levels l
		 WHERE l.id = p_level
		   AND (SELECT count(*) FROM exam_results x
		         WHERE x.clinician_id = p_clinician AND x.level_id = l.id
		           AND x.kind = p_kind AND x.supersedes IS NULL)
		       >= l.max_attempts
		UNION ALL
		SELECT 4, 'retake_too_soon',
		       format('the next %s attempt at %s is allowed on or after %s',
		              p_kind, l.title,
		              to_char(prev.taken_on + l.retake_wait_days, 'YYYY-MM-DD')),
		       prev.taken_on + l.retake_wait_days
		  FROM levels l
		 CROSS JOIN LATERAL (
			SELECT x.taken_on FROM exam_results_current x
			 WHERE x.clinician_id = p_clinician AND x.level_id = l.id
			   AND x.kind = p_kind
			 ORDER BY x.attempt DESC, x.id DESC
			 LIMIT 1) AS prev
		 WHERE l.id = p_level
		   AND p_taken_on < prev.taken_on + l.retake_wait_days
	) AS r
	ORDER BY r.rank
	LIMIT 1
$$;

-- Rule 6: every clinician and level owed a certificate.  Due when the
-- enrollment is completed and the current written and practical results
-- each include a pass, and the clinician has no certificate of that level
-- at all (a revoked one is never silently re-issued: reinstating is a
-- person's decision).  ISSUED_ON is the day the last of the three
-- requirements was met; EXPIRES_ON adds the program's validity (NULL:
-- never expires).  Issuing is
--     INSERT INTO certificates (number, clinician_id, level_id, issued_on,
--                               expires_on)
--     SELECT certificate_number_new(), clinician_id, level_id, issued_on,
--            expires_on FROM certificates_due WHERE ...
CREATE VIEW certificates_due AS
	SELECT e.clinician_id, e.level_id, d.issued_on,
	       (d.issued_on + pg.certificate_validity_months * interval '1 month')::date
	           AS expires_on
	  FROM enrollments e
	  JOIN levels l ON l.id = e.level_id
	  JOIN programs pg ON pg.id = l.program_id
	 CROSS JOIN LATERAL (
		SELECT min(x.taken_on) AS taken_on FROM exam_results_current x
		 WHERE x.clinician_id = e.clinician_id AND x.level_id = e.level_id
		   AND x.kind = 'written' AND x.passed) AS w
	 CROSS JOIN LATERAL (
		SELECT min(x.taken_on) AS taken_on FROM exam_results_current x
		 WHERE x.clinician_id = e.clinician_id AND x.level_id = e.level_id
		   AND x.kind = 'practical' AND x.passed) AS p
	 CROSS JOIN LATERAL (
		SELECT greatest(e.completed_on, w.taken_on, p.taken_on) AS issued_on) AS d
	 WHERE e.status = 'completed'
	   AND w.taken_on IS NOT NULL AND p.taken_on IS NOT NULL
	   AND NOT EXISTS (SELECT 1 FROM certificates c
	                    WHERE c.clinician_id = e.clinician_id
	                      AND c.level_id = e.level_id);

-- Issues the certificate CLINICIAN is owed for LEVEL, if any (rule 6), and
-- returns its id; NULL when none is due.  Callers run it in the same
-- transaction as the write that met a requirement, after locking the live
-- enrollment, so two requests cannot both issue.  A random number that
-- collides with an existing one (certificates_number_key) is drawn again.
CREATE FUNCTION certificate_issue_due(p_clinician bigint, p_level bigint)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	v_id bigint;
	v_constraint text;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM certificates_due d
	                WHERE d.clinician_id = p_clinician
	                  AND d.level_id = p_level) THEN
		RETURN NULL;
	END IF;
	FOR i IN 1..5 LOOP
		BEGIN
			INSERT INTO certificates (number, clinician_id, level_id,
			                          issued_on, expires_on)
			SELECT certificate_number_new(), d.clinician_id, d.level_id,
			       d.issued_on, d.expires_on
			  FROM certificates_due d
			 WHERE d.clinician_id = p_clinician AND d.level_id = p_level
			RETURNING id INTO v_id;
			RETURN v_id;
		EXCEPTION WHEN unique_violation THEN
			GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
			IF v_constraint IS DISTINCT FROM 'certificates_number_key' THEN
				RAISE;
			END IF;
		END;
	END LOOP;
	RAISE EXCEPTION 'no free certificate number after 5 draws'
		USING ERRCODE = 'unique_violation',
		      CONSTRAINT = 'certificates_number_key';
END
$$;
