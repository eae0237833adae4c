-- The length of every text field, as the last line behind the readers the
-- API, the CLI and imports share (lib/value.c, whose table holds the same
-- numbers; docs/data-model.md, "Values").  length() counts characters in
-- a UTF-8 database, as the readers do.  With these limits no indexed value
-- can reach PostgreSQL's index row size limit ("index row size exceeds
-- maximum"): 200 characters take at most 800 bytes.
--
-- Added NOT VALID, then validated where the rows allow: a database in the
-- field holding an older, longer value still migrates (with a warning
-- naming the constraint), and every new or changed row is checked either
-- way.  docs/data-model.md says how to find and fix such rows.

ALTER TABLE clinicians
	ADD CONSTRAINT clinicians_given_name_length
		CHECK (length(given_name) <= 100) NOT VALID,
	ADD CONSTRAINT clinicians_family_name_length
		CHECK (length(family_name) <= 100) NOT VALID,
	ADD CONSTRAINT clinicians_license_number_length
		CHECK (length(license_number) <= 32) NOT VALID;

ALTER TABLE course_sessions
	ADD CONSTRAINT course_sessions_location_length
		CHECK (length(location) <= 200) NOT VALID,
	ADD CONSTRAINT course_sessions_instructor_length
		CHECK (length(instructor) <= 200) NOT VALID;

ALTER TABLE levels
	ADD CONSTRAINT levels_title_length
		CHECK (length(title) <= 200) NOT VALID;

ALTER TABLE exam_results
	ADD CONSTRAINT exam_results_amend_reason_length
		CHECK (length(amend_reason) <= 500) NOT VALID;

ALTER TABLE certificates
	ADD CONSTRAINT certificates_revocation_reason_length
		CHECK (length(revocation_reason) <= 500) NOT VALID;

DO $$
DECLARE
	c record;
BEGIN
	FOR c IN
		SELECT conrelid::regclass AS tbl, conname
		  FROM pg_constraint
		 WHERE NOT convalidated
		   AND connamespace = current_schema()::regnamespace
		   AND conname IN ('clinicians_given_name_length',
		                   'clinicians_family_name_length',
		                   'clinicians_license_number_length',
		                   'course_sessions_location_length',
		                   'course_sessions_instructor_length',
		                   'levels_title_length',
		                   'exam_results_amend_reason_length',
		                   'certificates_revocation_reason_length')
	LOOP
		BEGIN
			EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT %I',
			               c.tbl, c.conname);
		EXCEPTION WHEN check_violation THEN
			RAISE WARNING 'rows of % break % (longer than the limit): '
			              'they stay until changed; see docs/data-model.md',
			              c.tbl, c.conname;
		END;
	END LOOP;
END
$$;
