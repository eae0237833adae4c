-- The default program: dry needling, two levels, open to six professions.
-- All of it is data; another program or other pass marks are a migration
-- or an admin call away.

-- Eligible for dry needling.
INSERT INTO professions (code, name) VALUES
	('PT', 'Physical Therapist'),
	('NP', 'Nurse Practitioner'),
	('PA', 'Physician Assistant'),
	('MD', 'Medical Doctor'),
	('DO', 'Doctor of Osteopathic Medicine'),
	('DC', 'Doctor of Chiropractic');

-- Known but not eligible, so an import can answer "known, but not eligible"
-- rather than "unknown profession".
INSERT INTO professions (code, name) VALUES
	('PTA', 'Physical Therapist Assistant'),
	('ATC', 'Athletic Trainer'),
	('OT', 'Occupational Therapist'),
	('LAc', 'Licensed Acupuncturist'),
	('RN', 'Registered Nurse'),
	('LMT', 'Licensed Massage Therapist');

-- Accepted spellings, matched case-insensitively (profession_lookup()).
-- The codes themselves match without an alias.
INSERT INTO profession_aliases (alias, profession_code) VALUES
	('Physical Therapist', 'PT'),
	('Physical Therapy', 'PT'),
	('Physiotherapist', 'PT'),
	('DPT', 'PT'),
	('P.T.', 'PT'),
	('MPT', 'PT'),
	('MSPT', 'PT'),
	('Doctor of Physical Therapy', 'PT'),

	('Nurse Practitioner', 'NP'),
	('N.P.', 'NP'),
	('APRN', 'NP'),
	('APRN-NP', 'NP'),
	('ARNP', 'NP'),
	('CRNP', 'NP'),
	('FNP', 'NP'),
	('FNP-C', 'NP'),
	('FNP-BC', 'NP'),
	('AGNP', 'NP'),
	('DNP', 'NP'),

	('Physician Assistant', 'PA'),
	('Physician Associate', 'PA'),
	('PA-C', 'PA'),
	('P.A.', 'PA'),
	('P.A.-C', 'PA'),

	('Medical Doctor', 'MD'),
	('Physician', 'MD'),
	('M.D.', 'MD'),
	('Doctor of Medicine', 'MD'),

	('Doctor of Osteopathic Medicine', 'DO'),
	('Osteopathic Physician', 'DO'),
	('D.O.', 'DO'),

	('Doctor of Chiropractic', 'DC'),
	('Chiropractor', 'DC'),
	('Chiropractic Physician', 'DC'),
	('D.C.', 'DC'),

	('Physical Therapist Assistant', 'PTA'),
	('Physical Therapy Assistant', 'PTA'),
	('Physical Therapist Asst', 'PTA'),
	('P.T.A.', 'PTA'),

	('Athletic Trainer', 'ATC'),
	('Certified Athletic Trainer', 'ATC'),
	('AT', 'ATC'),
	('A.T.C.', 'ATC'),
	('LAT', 'ATC'),

	('Occupational Therapist', 'OT'),
	('OTR', 'OT'),
	('OTR/L', 'OT'),
	('O.T.', 'OT'),

	('Licensed Acupuncturist', 'LAc'),
	('Acupuncturist', 'LAc'),
	('L.Ac.', 'LAc'),

	('Registered Nurse', 'RN'),
	('R.N.', 'RN'),
	('BSN', 'RN'),

	('Licensed Massage Therapist', 'LMT'),
	('Massage Therapist', 'LMT'),
	('L.M.T.', 'LMT');

INSERT INTO programs (code, name, credential_title, certificate_validity_months)
VALUES ('DN', 'Dry Needling', 'Certified Dry Needling Practitioner', 24);

INSERT INTO program_professions (program_id, profession_code)
SELECT p.id, c.code
  FROM programs p
 CROSS JOIN (VALUES ('PT'), ('NP'), ('PA'), ('MD'), ('DO'), ('DC')) AS c(code)
 WHERE p.code = 'DN';

INSERT INTO levels (program_id, code, ordinal, title, contact_hours,
                    written_pass_mark, practical_pass_mark,
                    max_attempts, retake_wait_days)
SELECT p.id, l.code, l.ordinal, l.title, 27, 75, 75, 3, 14
  FROM programs p
 CROSS JOIN (VALUES ('DN1', 1, 'Level 1'), ('DN2', 2, 'Level 2'))
       AS l(code, ordinal, title)
 WHERE p.code = 'DN';

-- DN2 requires DN1.
INSERT INTO level_prerequisites (program_id, level_id, requires_level_id)
SELECT p.id, l2.id, l1.id
  FROM programs p
  JOIN levels l1 ON l1.program_id = p.id AND l1.code = 'DN1'
  JOIN levels l2 ON l2.program_id = p.id AND l2.code = 'DN2'
 WHERE p.code = 'DN';
