-- The public directory, "find a certified practitioner" (issue 12): a
-- clinician chooses to be listed, where they practise (city, state, ZIP)
-- and, if they wish, a public contact (a practice phone, address or web
-- site).  Nothing else of a clinician (email, NPI, license) is ever shown
-- by the directory.  Only listed clinicians who hold a valid certificate
-- are found.

ALTER TABLE clinicians
	ADD COLUMN directory_listed boolean NOT NULL DEFAULT false,
	ADD COLUMN practice_city text
		CONSTRAINT clinicians_practice_city_shape CHECK (
			btrim(practice_city) <> '' AND length(practice_city) <= 100),
	ADD COLUMN practice_state text
		CONSTRAINT clinicians_practice_state_shape CHECK (practice_state ~ '^[A-Z]{2}$'),
	ADD COLUMN practice_zip text
		CONSTRAINT clinicians_practice_zip_shape CHECK (practice_zip ~ '^[0-9]{5}$'),
	ADD COLUMN public_contact text
		CONSTRAINT clinicians_public_contact_shape CHECK (
			btrim(public_contact) <> '' AND length(public_contact) <= 200);

-- An anonymous search may only walk these: names by prefix (no leading
-- wildcard), a state and city, a ZIP code; each only over listed
-- clinicians.
CREATE INDEX clinicians_directory_family ON clinicians
	(lower(family_name) text_pattern_ops) WHERE directory_listed;
CREATE INDEX clinicians_directory_given ON clinicians
	(lower(given_name) text_pattern_ops) WHERE directory_listed;
CREATE INDEX clinicians_directory_place ON clinicians
	(practice_state, lower(practice_city)) WHERE directory_listed;
CREATE INDEX clinicians_directory_zip ON clinicians
	(practice_zip) WHERE directory_listed;

-- P as a LIKE prefix pattern, lower case, its % _ and \ taken literally.
CREATE FUNCTION directory_prefix(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT replace(replace(replace(lower(p), '\', '\\'), '%', '\%'), '_', '\_') || '%'
$$;

-- One page of the directory: listed clinicians with at least one valid
-- certificate (certificate_status_on(), the one definition of valid) on
-- P_TODAY, matching every criterion given (NULL: any).  P_NAME is a prefix
-- of the given or family name, any case, matched literally (% and _ are
-- characters); P_PROFESSION a profession code or alias; P_CITY is matched
-- whole, any case.  Answers {"total", "limit", "offset", "items"}, items
-- sorted by family name, given name; each item names the clinician, the
-- profession, the practice place, the public contact (or null) and the
-- levels held validly.
CREATE FUNCTION directory_search(p_name text, p_profession text,
    p_state text, p_city text, p_zip text, p_limit int, p_offset int,
    p_today date) RETURNS jsonb
LANGUAGE sql STABLE
AS $$
	WITH m AS (
		SELECT c.id, c.given_name, c.family_name, c.profession_code,
		       c.practice_city, c.practice_state, c.practice_zip,
		       c.public_contact
		  FROM clinicians c
		 WHERE c.directory_listed
		   AND (p_name IS NULL
		        OR lower(c.family_name) LIKE directory_prefix(p_name)
		        OR lower(c.given_name) LIKE directory_prefix(p_name))
		   AND (p_profession IS NULL
		        OR c.profession_code = coalesce(profession_lookup(p_profession),
		                                        upper(p_profession)))
		   AND (p_state IS NULL OR c.practice_state = upper(p_state))
		   AND (p_city IS NULL OR lower(c.practice_city) = lower(btrim(p_city)))
		   AND (p_zip IS NULL OR c.practice_zip = p_zip)
		   AND EXISTS (SELECT 1 FROM certificates ce
		                WHERE ce.clinician_id = c.id
		                  AND certificate_status_on(ce.revoked_at,
		                      ce.expires_on, p_today) = 'valid')
	), page AS (
		SELECT * FROM m
		 ORDER BY lower(family_name), lower(given_name), id
		 LIMIT p_limit OFFSET p_offset
	)
	SELECT jsonb_build_object(
		'total', (SELECT count(*) FROM m),
		'limit', p_limit,
		'offset', p_offset,
		'items', coalesce((
			SELECT jsonb_agg(jsonb_build_object(
				'name', p.given_name || ' ' || p.family_name,
				'profession', p.profession_code,
				'profession_name', pr.name,
				'city', p.practice_city,
				'state', p.practice_state,
				'zip', p.practice_zip,
				'contact', p.public_contact,
				'levels', (
					SELECT jsonb_agg(DISTINCT jsonb_build_object(
						'code', l.code, 'title', l.title,
						'program', g.name))
					  FROM certificates ce
					  JOIN levels l ON l.id = ce.level_id
					  JOIN programs g ON g.id = l.program_id
					 WHERE ce.clinician_id = p.id
					   AND certificate_status_on(ce.revoked_at,
					       ce.expires_on, p_today) = 'valid'))
				ORDER BY lower(p.family_name), lower(p.given_name), p.id)
			  FROM page p
			  JOIN professions pr ON pr.code = p.profession_code), '[]'::jsonb))
$$;
