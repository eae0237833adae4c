-- Imports, part two: what the CSV import needs beyond the first schema.

-- Columns of a file that matched nothing and were ignored, as the report
-- names them: a JSON array of header texts.
ALTER TABLE imports ADD COLUMN ignored_columns jsonb
	CONSTRAINT imports_ignored_columns_array
	CHECK (jsonb_typeof(ignored_columns) = 'array');
