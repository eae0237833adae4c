-- An email's template is read once per statement, not once per email
-- (issue 10, item 1: a results sheet costs what hand-written SQL costs).
--
-- The fan-out of notification events (sql/0013_notifications.sql) renders
-- each email's subject and body with notify_render(): a PL/pgSQL loop over
-- regexp_matches() of the template, one query per template per email,
-- then one replace() over the whole text per placeholder.  That was about
-- 50 microseconds per template: 0.14 ms of the 0.25 ms each certificate a
-- results sheet issues costs, and 13 s of a 1,000,000-row sheet's
-- 93,000 certificates.
--
-- Now a template is cut once into its literal pieces and its placeholders
-- (notify_template_parts()), and notify_fill() puts an event's values
-- between the pieces: 7 microseconds.  notify_render() is those two, so
-- the rendering has one definition; the fan-out cuts each kind's
-- templates once per statement and fills them per email.
--
-- One difference, on purpose: a value is never read again for
-- placeholders.  replace() after replace() rendered a clinician named
-- "{{certificate.number}}" as the certificate's number; now the name
-- stays as written.

-- A template's literal pieces and, between them, its placeholders' paths:
-- pieces has one more element than keys.  NULL for a NULL template.
CREATE FUNCTION notify_template_parts(template text, OUT pieces text[],
                                      OUT keys text[])
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT regexp_split_to_array(template,
	                             '\{\{[a-z_]+(?:\.[a-z_]+)*\}\}'),
	       ARRAY(SELECT m[1] FROM regexp_matches(template,
	             '\{\{([a-z_]+(?:\.[a-z_]+)*)\}\}', 'g') m)
$$;

-- The pieces with each placeholder's value from the payload between them
-- (a dotted path into the JSON; '' when the payload has none).
CREATE FUNCTION notify_fill(pieces text[], keys text[], payload jsonb)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
	out text := pieces[1];
BEGIN
	FOR i IN 1..coalesce(cardinality(keys), 0) LOOP
		out := out || coalesce(payload #>> string_to_array(keys[i], '.'), '')
		           || pieces[i + 1];
	END LOOP;
	RETURN out;
END
$$;

CREATE OR REPLACE FUNCTION notify_render(template text, payload jsonb)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT notify_fill(p.pieces, p.keys, payload)
	  FROM notify_template_parts(template) p
$$;

-- Migrations that change a piece of an existing function (sql/0021, 0023,
-- 0025 did it inline): FN is redefined from its own text in the catalog
-- with OLD replaced by NEW, so no copy of the function is made to drift.
-- OLD must be found exactly once, or the migration fails.
CREATE FUNCTION migration_function_replace(fn regprocedure, old text,
                                           new text) RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
	v_def text := pg_get_functiondef(fn);
BEGIN
	IF (length(v_def) - length(replace(v_def, old, ''))) <> length(old) THEN
		RAISE EXCEPTION '% does not read as expected', fn;
	END IF;
	EXECUTE replace(v_def, old, new);
END
$$;

-- The fan-out's email statement fills the cut templates (its webhook
-- statement is left as it is).
SELECT migration_function_replace('notify_events_fan_out()', $old$	SELECT n.id, 'email', k.email,
	       left(regexp_replace(notify_render(t.email_subject, n.payload),
	                           '[\r\n]+', ' ', 'g'), 300),
	       notify_render(t.email_body, n.payload)
	  FROM new_events n
	  JOIN notify_event_kinds t ON t.kind = n.kind
	  JOIN clinicians k ON k.id = n.clinician_id
	 WHERE t.email_subject IS NOT NULL;
$old$, $new$	-- each kind's templates cut once for the statement (MATERIALIZED: a
	-- CTE folded into the join would cut them again for every email)
	WITH t AS MATERIALIZED (
		SELECT k.kind, s.pieces AS s_pieces, s.keys AS s_keys,
		       b.pieces AS b_pieces, b.keys AS b_keys
		  FROM notify_event_kinds k
		 CROSS JOIN LATERAL notify_template_parts(k.email_subject) s
		 CROSS JOIN LATERAL notify_template_parts(k.email_body) b
		 WHERE k.email_subject IS NOT NULL
		   AND k.kind IN (SELECT DISTINCT e.kind FROM new_events e)
	)
	SELECT n.id, 'email', k.email,
	       left(regexp_replace(notify_fill(t.s_pieces, t.s_keys, n.payload),
	                           '[\r\n]+', ' ', 'g'), 300),
	       notify_fill(t.b_pieces, t.b_keys, n.payload)
	  FROM new_events n
	  JOIN t ON t.kind = n.kind
	  JOIN clinicians k ON k.id = n.clinician_id;
$new$);
