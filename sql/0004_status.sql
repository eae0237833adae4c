-- A clinician's whole picture in one call, and the one definition of a
-- certificate's status.  Read by GET /v1/clinicians/{id}/status, by
-- certificate verification and by the status benchmark (docs/certificates.md).

-- 'revoked' when REVOKED_AT is set, else 'expired' once ON has reached
-- EXPIRES_ON (a certificate is valid up to the day before its expiry date;
-- NULL never expires), else 'valid'.  A plain expression, so the planner
-- inlines it.
CREATE FUNCTION certificate_status_on(revoked_at timestamptz, expires_on date,
    p_on date) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT CASE
		WHEN revoked_at IS NOT NULL THEN 'revoked'
		WHEN expires_on <= p_on THEN 'expired'
		ELSE 'valid' END
$$;

-- Everything about clinician P_CLINICIAN as of P_TODAY, as one jsonb
-- document (shape in docs/certificates.md); NULL for an unknown clinician.
--
-- One statement whose every lookup is by the clinician's id through an
-- index (enrollments_clinician_idx, exam_results_clinician_idx plus
-- exam_results_supersedes_key for the current rows, certificates_clinician_idx,
-- course_sessions by primary key), nested per program and level: its cost
-- grows with that clinician's own history, never with the size of the
-- tables.
--
-- Why plpgsql around a single SQL statement: PostgreSQL 15 parses and plans
-- the body of a LANGUAGE sql function that it cannot inline (this one has
-- subqueries) on every call, which here costs three times the execution
-- (measured on 100,000 clinicians: 1.7 ms a call against 0.4 ms).  plpgsql
-- keeps the statement's plan for the life of the connection.
CREATE FUNCTION clinician_status(p_clinician bigint, p_today date)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
RETURN (
SELECT jsonb_build_object(
	'as_of', p_today,
	'clinician', jsonb_build_object(
		'id', c.id,
		'given_name', c.given_name,
		'family_name', c.family_name,
		'email', c.email,
		'npi', c.npi,
		'profession', jsonb_build_object('code', pr.code, 'name', pr.name),
		'license', jsonb_build_object('state', c.license_state,
		                              'number', c.license_number)),
	'programs', coalesce((
		SELECT jsonb_agg(jsonb_build_object(
			'code', g.code,
			'name', g.name,
			'credential_title', g.credential_title,
			'certificate_validity_months', g.certificate_validity_months,
			'eligible', coalesce(el.codes ? c.profession_code, false),
			'eligible_professions', coalesce(el.codes, '[]'::jsonb),
			'credential_held', coalesce(lv.held, false),
			'levels', coalesce(lv.levels, '[]'::jsonb)) ORDER BY g.code)
		  FROM programs g
		 CROSS JOIN LATERAL (
			SELECT jsonb_agg(pp.profession_code ORDER BY pp.profession_code) AS codes
			  FROM program_professions pp
			 WHERE pp.program_id = g.id) AS el
		 CROSS JOIN LATERAL (
			-- the credential is held while every level has a valid
			-- certificate (and the program has levels at all)
			SELECT jsonb_agg(x.j ORDER BY x.ordinal) AS levels,
			       bool_and(coalesce(x.cert->>'status' = 'valid', false)) AS held
			  FROM (
				SELECT l.ordinal, cert.j AS cert, jsonb_build_object(
					'id', l.id,
					'code', l.code,
					'ordinal', l.ordinal,
					'title', l.title,
					'prerequisites', coalesce((
						SELECT jsonb_agg(rl.code ORDER BY rl.ordinal)
						  FROM level_prerequisites lp
						  JOIN levels rl ON rl.id = lp.requires_level_id
						 WHERE lp.level_id = l.id), '[]'::jsonb),
					-- the live enrollment, else the latest withdrawn one
					'enrollment', (
						SELECT jsonb_build_object(
							'id', e.id,
							'status', e.status,
							'enrolled_at', e.enrolled_at,
							'completed_on', e.completed_on,
							'session', (
								SELECT jsonb_build_object(
									'id', s.id,
									'starts_on', s.starts_on,
									'ends_on', s.ends_on,
									'location', s.location)
								  FROM course_sessions s
								 WHERE s.id = e.session_id))
						  FROM enrollments e
						 WHERE e.clinician_id = c.id AND e.level_id = l.id
						 ORDER BY e.status = 'withdrawn', e.enrolled_at DESC, e.id DESC
						 LIMIT 1),
					'exams', (
						SELECT jsonb_object_agg(k.kind, jsonb_build_object(
							'pass_mark', k.pass_mark,
							'max_attempts', l.max_attempts,
							'attempts_used', a.used,
							'attempts_left', greatest(l.max_attempts - a.used, 0),
							'passed', a.passed,
							'next_allowed_on', CASE
								WHEN NOT a.passed AND a.used > 0
								     AND a.used < l.max_attempts
								THEN a.last_on + l.retake_wait_days END,
							'attempts', a.list))
						  FROM (VALUES ('written', l.written_pass_mark),
						               ('practical', l.practical_pass_mark))
						       AS k(kind, pass_mark)
						 CROSS JOIN LATERAL (
							SELECT count(*)::int AS used,
							       coalesce(bool_or(r.passed), false) AS passed,
							       -- the last attempt's date, as exam_refusal()
							       -- (sql/0003_rules.sql) reads it
							       (array_agg(r.taken_on ORDER BY r.attempt DESC))[1] AS last_on,
							       coalesce(jsonb_agg(jsonb_build_object(
									'attempt', r.attempt,
									'score', r.score,
									'max_score', r.max_score,
									'percent', round(r.score * 100 / r.max_score, 2),
									'pass_mark', r.pass_mark,
									'passed', r.passed,
									'taken_on', r.taken_on,
									'amended', r.supersedes IS NOT NULL)
									ORDER BY r.attempt), '[]'::jsonb) AS list
							  FROM exam_results_current r
							 WHERE r.clinician_id = c.id AND r.level_id = l.id
							   AND r.kind = k.kind) AS a),
					'certificate', cert.j) AS j
				  FROM levels l
				  -- the unrevoked certificate, else the latest revoked one
				  LEFT JOIN LATERAL (
					SELECT jsonb_build_object(
						'number', ce.number,
						'issued_on', ce.issued_on,
						'expires_on', ce.expires_on,
						'status', certificate_status_on(ce.revoked_at, ce.expires_on, p_today),
						'revoked_on', ce.revoked_at::date,
						'revocation_reason', ce.revocation_reason) AS j
					  FROM certificates ce
					 WHERE ce.clinician_id = c.id AND ce.level_id = l.id
					 ORDER BY ce.revoked_at IS NOT NULL, ce.issued_on DESC, ce.id DESC
					 LIMIT 1) AS cert ON true
				 WHERE l.program_id = g.id) AS x) AS lv
	), '[]'::jsonb))
  FROM clinicians c
  JOIN professions pr ON pr.code = c.profession_code
 WHERE c.id = p_clinician);
END
$$;
