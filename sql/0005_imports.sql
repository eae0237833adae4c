-- Imports, part two: what the CSV import needs beyond the first schema.

-- Columns of a file that matched nothing and were ignored, as the report
-- names them: a JSON array of header texts.
ALTER TABLE imports ADD COLUMN ignored_columns jsonb
	CONSTRAINT imports_ignored_columns_array
	CHECK (jsonb_typeof(ignored_columns) = 'array');

-- Rules 1 and 2 for a candidate enrollment that may not be stored yet: a
-- clinician id (NULL for a person a roster is about to create, who holds no
-- certificates) and the profession the candidate has (a roster may change
-- it).  enrollment_refusal() is this with the stored clinician's
-- profession, so the API and the import share one implementation.
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

CREATE OR REPLACE FUNCTION enrollment_refusal(p_clinician bigint,
                                              p_level bigint)
RETURNS TABLE (code text, detail text)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT f.code, f.detail
	  FROM clinicians c
	 CROSS JOIN LATERAL enrollment_refusal_for(c.id, c.profession_code,
	                                           p_level) AS f
	 WHERE c.id = p_clinician
$$;
