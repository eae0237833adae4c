-- Keeping a credential (issue 13, items 1-3): renewal policy as data,
-- continuing-education (CE) records, and renewal.
--
-- A renewal issues a new certificate with a new number, linked to the one
-- it renews (certificates.renews); the renewed one is marked renewed_at and
-- stays valid until its own expiry.  "The current certificate" of a
-- clinician at a level is the one neither revoked nor renewed: the unique
-- index that allowed one unrevoked certificate per clinician and level now
-- allows one current one.

-- ---------------------------------------------------------------------------
-- Policy
-- ---------------------------------------------------------------------------

-- How a program's (or one level's) certificates are renewed.  A level's own
-- policy, when it has one, wins over its program's.
--   method ce_hours      CE_HOURS approved hours completed since the
--                        certificate was issued, of them CATEGORY_HOURS in
--                        CE_CATEGORY when a category is named
--          none          not renewable: the course is taken again
-- The renewal window runs from WINDOW_BEFORE_DAYS before the expiry date to
-- WINDOW_AFTER_DAYS after it.
CREATE TABLE renewal_policies (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	program_id bigint REFERENCES programs (id) ON DELETE CASCADE,
	level_id bigint REFERENCES levels (id) ON DELETE CASCADE,
	method text NOT NULL
		CONSTRAINT renewal_policies_method
		CHECK (method IN ('ce_hours', 'none')),
	ce_hours numeric(6, 2)
		CONSTRAINT renewal_policies_ce_hours CHECK (ce_hours > 0 AND ce_hours <= 1000),
	ce_category text
		CONSTRAINT renewal_policies_category CHECK (length(btrim(ce_category)) BETWEEN 1 AND 60),
	ce_category_hours numeric(6, 2)
		CONSTRAINT renewal_policies_category_hours
		CHECK (ce_category_hours > 0 AND ce_category_hours <= ce_hours),
	window_before_days int NOT NULL DEFAULT 90
		CONSTRAINT renewal_policies_before CHECK (window_before_days BETWEEN 0 AND 3660),
	window_after_days int NOT NULL DEFAULT 365
		CONSTRAINT renewal_policies_after CHECK (window_after_days BETWEEN 0 AND 3660),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT renewal_policies_one_owner
		CHECK ((program_id IS NULL) <> (level_id IS NULL)),
	CONSTRAINT renewal_policies_program_key UNIQUE (program_id),
	CONSTRAINT renewal_policies_level_key UNIQUE (level_id),
	CONSTRAINT renewal_policies_method_fields CHECK (
		(method = 'ce_hours' AND ce_hours IS NOT NULL
		 AND (ce_category IS NULL) = (ce_category_hours IS NULL))
		OR (method = 'none' AND ce_hours IS NULL AND ce_category IS NULL
		    AND ce_category_hours IS NULL))
);

-- The seed programme: renewable with 12 CE hours (its 24 months of
-- validity are the program's certificate_validity_months).
INSERT INTO renewal_policies (program_id, method, ce_hours)
SELECT id, 'ce_hours', 12 FROM programs WHERE code = 'DN';

-- The policy in force for each level: its own, else its program's, else
-- none at all (not renewable).
CREATE VIEW level_renewal_policy AS
	SELECT l.id AS level_id,
	       coalesce(lp.method, pp.method, 'none') AS method,
	       CASE WHEN lp.id IS NOT NULL THEN lp.ce_hours ELSE pp.ce_hours END AS ce_hours,
	       CASE WHEN lp.id IS NOT NULL THEN lp.ce_category ELSE pp.ce_category END AS ce_category,
	       CASE WHEN lp.id IS NOT NULL THEN lp.ce_category_hours ELSE pp.ce_category_hours END AS ce_category_hours,
	       coalesce(lp.window_before_days, pp.window_before_days, 90) AS window_before_days,
	       coalesce(lp.window_after_days, pp.window_after_days, 365) AS window_after_days,
	       CASE WHEN lp.id IS NOT NULL THEN 'level' WHEN pp.id IS NOT NULL THEN 'program' END AS set_on
	  FROM levels l
	  LEFT JOIN renewal_policies lp ON lp.level_id = l.id
	  LEFT JOIN renewal_policies pp ON pp.program_id = l.program_id;

-- Sets the policy of a program (P_PROGRAM) or a level (P_LEVEL), audited;
-- P_METHOD NULL removes a level's own policy (its program's applies again).
CREATE FUNCTION renewal_policy_set(p_program bigint, p_level bigint,
    p_method text, p_ce_hours numeric, p_category text,
    p_category_hours numeric, p_before int, p_after int)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	old renewal_policies;
	new renewal_policies;
BEGIN
	SELECT * INTO old FROM renewal_policies
	 WHERE program_id IS NOT DISTINCT FROM p_program
	   AND level_id IS NOT DISTINCT FROM p_level FOR UPDATE;
	IF p_method IS NULL THEN
		DELETE FROM renewal_policies WHERE id = old.id;
	ELSIF old.id IS NULL THEN
		INSERT INTO renewal_policies (program_id, level_id, method,
		       ce_hours, ce_category, ce_category_hours, window_before_days,
		       window_after_days)
		VALUES (p_program, p_level, p_method, p_ce_hours, p_category,
		        p_category_hours, coalesce(p_before, 90),
		        coalesce(p_after, 365))
		RETURNING * INTO new;
	ELSE
		UPDATE renewal_policies SET method = p_method, ce_hours = p_ce_hours,
		       ce_category = p_category, ce_category_hours = p_category_hours,
		       window_before_days = coalesce(p_before, old.window_before_days),
		       window_after_days = coalesce(p_after, old.window_after_days),
		       updated_at = now()
		 WHERE id = old.id RETURNING * INTO new;
	END IF;
	INSERT INTO audit_log (action, entity, entity_id, before, after)
	VALUES ('renewal_policy.set', CASE WHEN p_level IS NULL THEN 'program'
	        ELSE 'level' END, coalesce(p_level, p_program)::text,
	        to_jsonb(old), to_jsonb(new));
	RETURN coalesce(new.id, old.id);
END
$$;

-- ---------------------------------------------------------------------------
-- Certificates: renewals and the current one
-- ---------------------------------------------------------------------------

ALTER TABLE certificates
	ADD COLUMN renews bigint
		CONSTRAINT certificates_renews_fkey REFERENCES certificates (id)
		ON DELETE RESTRICT
		CONSTRAINT certificates_renews_key UNIQUE,
	ADD COLUMN renewed_at timestamptz;

DROP INDEX certificates_unrevoked_key;
CREATE UNIQUE INDEX certificates_current_key ON certificates (clinician_id, level_id)
	WHERE revoked_at IS NULL AND renewed_at IS NULL;

-- ---------------------------------------------------------------------------
-- Continuing education
-- ---------------------------------------------------------------------------

CREATE TABLE ce_activities (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	clinician_id bigint NOT NULL REFERENCES clinicians (id) ON DELETE RESTRICT,
	title text NOT NULL
		CONSTRAINT ce_activities_title CHECK (length(btrim(title)) BETWEEN 1 AND 200),
	provider text
		CONSTRAINT ce_activities_provider CHECK (length(btrim(provider)) BETWEEN 1 AND 200),
	completed_on date NOT NULL,
	hours numeric(5, 2) NOT NULL
		CONSTRAINT ce_activities_hours CHECK (hours > 0 AND hours <= 100),
	category text
		CONSTRAINT ce_activities_category CHECK (length(btrim(category)) BETWEEN 1 AND 60),
	evidence text
		CONSTRAINT ce_activities_evidence CHECK (length(btrim(evidence)) BETWEEN 1 AND 500),
	status text NOT NULL
		CONSTRAINT ce_activities_status
		CHECK (status IN ('pending', 'approved', 'rejected')),
	entered_by bigint REFERENCES users (id) ON DELETE RESTRICT,
	decided_by bigint REFERENCES users (id) ON DELETE RESTRICT,
	decided_at timestamptz,
	rejection_reason text
		CONSTRAINT ce_activities_reason CHECK (length(btrim(rejection_reason)) BETWEEN 1 AND 500),
	created_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT ce_activities_decision CHECK (
		(status = 'pending' AND decided_at IS NULL AND rejection_reason IS NULL)
		OR (status = 'approved' AND decided_at IS NOT NULL AND rejection_reason IS NULL)
		OR (status = 'rejected' AND decided_at IS NOT NULL AND rejection_reason IS NOT NULL))
);
CREATE INDEX ce_activities_clinician_idx ON ce_activities (clinician_id, completed_on);

-- ---------------------------------------------------------------------------
-- The rule: how far each current certificate is from its renewal
-- ---------------------------------------------------------------------------

-- For every current certificate (neither revoked nor renewed) of the
-- clinicians given, as of P_TODAY: the policy in force, the renewal
-- window, and progress.  CE counts when approved and completed from the
-- certificate's issue date up to P_TODAY (pending and rejected activities
-- never count).  DUE: the window is open and the requirement met.  MISSING:
-- what is still missing, in words ("8 of 12 CE hours ...; 4 to go").
CREATE FUNCTION renewal_progress(p_clinicians bigint[], p_today date)
RETURNS TABLE (certificate_id bigint, clinician_id bigint, level_id bigint,
               method text, window_opens date, window_closes date,
               hours_required numeric, hours_done numeric,
               category text, category_hours_required numeric,
               category_hours_done numeric, met boolean, window_state text,
               due boolean, missing text)
LANGUAGE sql STABLE
AS $$
	WITH c AS (
		SELECT c.id, c.clinician_id, c.level_id, c.issued_on, c.expires_on,
		       p.method, p.ce_hours, p.ce_category, p.ce_category_hours,
		       c.expires_on - p.window_before_days AS opens,
		       c.expires_on + p.window_after_days AS closes
		  FROM certificates c
		  JOIN level_renewal_policy p ON p.level_id = c.level_id
		 WHERE c.clinician_id = ANY (p_clinicians)
		   AND c.revoked_at IS NULL AND c.renewed_at IS NULL
	), h AS (
		SELECT c.id,
		       coalesce(sum(a.hours), 0) AS done,
		       coalesce(sum(a.hours) FILTER (WHERE a.category = c.ce_category), 0)
		           AS cat_done
		  FROM c
		  LEFT JOIN ce_activities a ON a.clinician_id = c.clinician_id
		   AND a.status = 'approved'
		   AND a.completed_on >= c.issued_on AND a.completed_on <= p_today
		 GROUP BY c.id
	), m AS (
		SELECT c.*, h.done, h.cat_done,
		       CASE c.method
		       WHEN 'ce_hours' THEN h.done >= c.ce_hours
		            AND (c.ce_category IS NULL OR h.cat_done >= c.ce_category_hours)
		       ELSE false END AS met,
		       CASE WHEN c.method = 'none' OR c.expires_on IS NULL THEN 'never'
		            WHEN p_today < c.opens THEN 'not_open'
		            WHEN p_today > c.closes THEN 'closed'
		            ELSE 'open' END AS win
		  FROM c JOIN h ON h.id = c.id
	)
	SELECT m.id, m.clinician_id, m.level_id, m.method, m.opens, m.closes,
	       m.ce_hours, m.done, m.ce_category, m.ce_category_hours, m.cat_done,
	       m.met, m.win, m.met AND m.win = 'open',
	       CASE
	       WHEN m.method = 'none' THEN 'this level is not renewable: take the course again'
	       WHEN m.met THEN NULL
	       WHEN m.done < m.ce_hours THEN
	            format('%s of %s CE hours since %s; %s to go',
	                   trim_scale(m.done), trim_scale(m.ce_hours), m.issued_on,
	                   trim_scale(m.ce_hours - m.done))
	       ELSE format('%s of %s CE hours in %s; %s to go',
	                   trim_scale(m.cat_done), trim_scale(m.ce_category_hours),
	                   m.ce_category, trim_scale(m.ce_category_hours - m.cat_done))
	       END
	  FROM m
$$;

-- Issues the renewal of each certificate given (current, due) as of
-- P_TODAY: a new number, valid from the old expiry when renewed before it,
-- from P_TODAY after it, for the program's validity; the old one is marked
-- renewed.  Audited.  Answers (renewed certificate, new certificate).
CREATE FUNCTION certificates_renew(p_ids bigint[], p_today date)
RETURNS TABLE (renewed_id bigint, certificate_id bigint)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	v_old bigint[];
	v_new bigint[];
	v_constraint text;
BEGIN
	FOR i IN 1..5 LOOP
		BEGIN
			WITH old AS (
				UPDATE certificates c SET renewed_at = now()
				 WHERE c.id = ANY (p_ids) AND c.revoked_at IS NULL
				   AND c.renewed_at IS NULL
				RETURNING c.*
			), ins AS (
				INSERT INTO certificates (number, clinician_id, level_id,
				                          issued_on, expires_on, renews)
				SELECT certificate_number_new(), old.clinician_id,
				       old.level_id, s.issued_on,
				       certificate_expiry(s.issued_on,
				                          g.certificate_validity_months),
				       old.id
				  FROM old
				  JOIN levels l ON l.id = old.level_id
				  JOIN programs g ON g.id = l.program_id
				 CROSS JOIN LATERAL (SELECT greatest(old.expires_on, p_today)
				                         AS issued_on) s
				RETURNING *
			), aud AS (
				INSERT INTO audit_log (action, entity, entity_id, before, after)
				SELECT 'certificate.renew', 'certificate', ins.id::text,
				       to_jsonb(old), to_jsonb(ins)
				  FROM ins JOIN old ON old.id = ins.renews
			)
			SELECT array_agg(ins.renews), array_agg(ins.id)
			  INTO v_old, v_new FROM ins;
			RETURN QUERY SELECT * FROM unnest(v_old, v_new);
			RETURN;
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

-- Renews every certificate of the clinicians given that is due: called
-- after CE is recorded or approved, so a requirement met renews at once.
CREATE FUNCTION certificates_renew_due(p_clinicians bigint[], p_today date)
RETURNS TABLE (renewed_id bigint, certificate_id bigint)
LANGUAGE sql VOLATILE
AS $$
	SELECT * FROM certificates_renew(ARRAY(
		SELECT r.certificate_id FROM renewal_progress(p_clinicians, p_today) r
		 WHERE r.due
		 ORDER BY r.certificate_id), p_today)
$$;

-- The explicit renewal of certificate P_NUMBER (staff), as of today.
-- Refusals: unknown_certificate, certificate_revoked, already_renewed,
-- not_renewable, renewal_window_not_open, renewal_window_closed,
-- renewal_requirement_not_met (the detail says what is missing).
CREATE FUNCTION certificate_renew(p_number text)
RETURNS SETOF write_verdict
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	v write_verdict;
	c certificates;
	r record;
	n certificates;
BEGIN
	v.line := 1;
	SELECT * INTO c FROM certificates WHERE number = p_number FOR UPDATE;
	IF NOT FOUND THEN
		v.code := 'unknown_certificate';
		v.field := 'number';
		v.detail := format('there is no certificate ''%s''', p_number);
		RETURN NEXT v;
		RETURN;
	END IF;
	IF c.revoked_at IS NOT NULL THEN
		v.code := 'certificate_revoked';
		v.detail := format('certificate ''%s'' was revoked on %s: it cannot be renewed',
		                   p_number, c.revoked_at::date);
	ELSIF c.renewed_at IS NOT NULL THEN
		SELECT * INTO n FROM certificates WHERE renews = c.id;
		v.code := 'already_renewed';
		v.detail := format('certificate ''%s'' was already renewed by ''%s''',
		                   p_number, n.number);
	ELSE
		SELECT * INTO r FROM renewal_progress(ARRAY[c.clinician_id], current_date) p
		 WHERE p.certificate_id = c.id;
		IF r.method = 'none' OR r.window_state = 'never' THEN
			v.code := 'not_renewable';
			v.detail := 'this level is not renewable: take the course again';
		ELSIF r.window_state = 'not_open' THEN
			v.code := 'renewal_window_not_open';
			v.detail := format('the renewal window opens on %s', r.window_opens);
		ELSIF r.window_state = 'closed' THEN
			v.code := 'renewal_window_closed';
			v.detail := format('the renewal window closed on %s: take the course again',
			                   r.window_closes);
		ELSIF NOT r.met THEN
			v.code := 'renewal_requirement_not_met';
			v.detail := r.missing;
		ELSE
			SELECT x.certificate_id INTO v.certificate_id
			  FROM certificates_renew(ARRAY[c.id], current_date) x;
			v.id := c.id;
		END IF;
	END IF;
	RETURN NEXT v;
END
$$;

-- A CE activity to record.  PENDING: entered by the clinician, waits for
-- staff; otherwise entered by staff and approved at once.
CREATE TYPE ce_entry AS (
	line int,
	clinician_id bigint,
	title text,
	provider text,
	completed_on date,
	hours numeric,
	category text,
	evidence text,
	pending boolean
);

-- Records CE activities: refusals unknown_clinician, date_in_future; the
-- approved ones renew what they make due.
CREATE FUNCTION ce_record(p_rows ce_entry[])
RETURNS SETOF write_verdict
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
	RETURN QUERY
	WITH bad AS (
		SELECT e.line,
		       CASE WHEN cl.id IS NULL THEN 'unknown_clinician'
		            ELSE 'date_in_future' END AS code,
		       CASE WHEN cl.id IS NULL THEN 'clinician_id'
		            ELSE 'completed_on' END AS field,
		       CASE WHEN cl.id IS NULL
		            THEN format('there is no clinician %s', e.clinician_id)
		            ELSE format('a CE activity cannot be dated after today (%s)',
		                        current_date) END AS detail
		  FROM unnest(p_rows) e
		  LEFT JOIN clinicians cl ON cl.id = e.clinician_id
		 WHERE cl.id IS NULL OR date_in_future(e.completed_on)
	), good AS (	-- each line's id drawn first, so lines map to rows
		SELECT e.*, nextval(pg_get_serial_sequence('ce_activities', 'id'))
		           AS new_id
		  FROM unnest(p_rows) e
		 WHERE e.line NOT IN (SELECT b.line FROM bad b)
	), ins AS (
		INSERT INTO ce_activities (id, clinician_id, title, provider,
		       completed_on, hours, category, evidence, status, entered_by,
		       decided_by, decided_at)
		OVERRIDING SYSTEM VALUE
		SELECT g.new_id, g.clinician_id, btrim(g.title), btrim(g.provider),
		       g.completed_on, g.hours, btrim(g.category), btrim(g.evidence),
		       CASE WHEN g.pending THEN 'pending' ELSE 'approved' END,
		       ctx_actor(), CASE WHEN g.pending THEN NULL ELSE ctx_actor() END,
		       CASE WHEN g.pending THEN NULL ELSE now() END
		  FROM good g
		RETURNING *
	), aud AS (
		INSERT INTO audit_log (action, entity, entity_id, before, after)
		SELECT 'ce.record', 'ce_activity', ins.id::text, NULL, to_jsonb(ins)
		  FROM ins
	)
	SELECT e.line, g.new_id, b.code, b.field, b.detail, NULL::date,
	       NULL::bigint, NULL::bigint
	  FROM unnest(p_rows) e
	  LEFT JOIN bad b ON b.line = e.line
	  LEFT JOIN good g ON g.line = e.line
	 ORDER BY e.line;
	-- what approved CE completes renews now (a second statement sees the
	-- rows the first wrote)
	PERFORM certificates_renew_due(ARRAY(
		SELECT DISTINCT e.clinician_id FROM unnest(p_rows) e
		 WHERE NOT e.pending), current_date);
END
$$;

-- Approves (P_APPROVE) or rejects (with P_REASON) pending CE activity
-- P_ID.  Refusals: unknown_ce_activity, already_decided, reason_required.
-- An approval renews what it makes due; CERTIFICATE_ID names a renewal.
CREATE FUNCTION ce_decide(p_id bigint, p_approve boolean, p_reason text)
RETURNS SETOF write_verdict
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	v write_verdict;
	old ce_activities;
	new ce_activities;
BEGIN
	v.line := 1;
	SELECT * INTO old FROM ce_activities WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		v.code := 'unknown_ce_activity';
		v.detail := format('there is no CE activity %s', p_id);
	ELSIF old.status <> 'pending' THEN
		v.code := 'already_decided';
		v.detail := format('CE activity %s was already %s', p_id, old.status);
	ELSIF NOT p_approve AND (p_reason IS NULL OR btrim(p_reason) = '') THEN
		v.code := 'reason_required';
		v.field := 'reason';
		v.detail := 'a rejection says why (reason)';
	ELSE
		UPDATE ce_activities SET status = CASE WHEN p_approve THEN 'approved'
		       ELSE 'rejected' END, decided_by = ctx_actor(),
		       decided_at = now(),
		       rejection_reason = CASE WHEN p_approve THEN NULL
		                          ELSE btrim(p_reason) END
		 WHERE id = p_id RETURNING * INTO new;
		INSERT INTO audit_log (action, entity, entity_id, before, after)
		VALUES (CASE WHEN p_approve THEN 'ce.approve' ELSE 'ce.reject' END,
		        'ce_activity', p_id::text, to_jsonb(old), to_jsonb(new));
		v.id := p_id;
		IF p_approve THEN
			SELECT x.certificate_id INTO v.certificate_id
			  FROM certificates_renew_due(ARRAY[new.clinician_id], current_date) x
			 LIMIT 1;
		END IF;
	END IF;
	RETURN NEXT v;
END
$$;

-- The current certificates' renewal progress of clinician P_CLINICIAN, as
-- JSON for status and the API.
CREATE FUNCTION renewal_status(p_clinician bigint, p_today date)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object(
		'certificate', c.number, 'level_code', l.code,
		'expires_on', c.expires_on, 'method', r.method,
		'window_opens', r.window_opens, 'window_closes', r.window_closes,
		'window', r.window_state, 'hours_required', r.hours_required,
		'hours_done', r.hours_done, 'category', r.category,
		'category_hours_required', r.category_hours_required,
		'category_hours_done', r.category_hours_done,
		'requirement_met', r.met, 'due', r.due, 'missing', r.missing)
		ORDER BY l.ordinal), '[]'::jsonb)
	  FROM renewal_progress(ARRAY[p_clinician], p_today) r
	  JOIN certificates c ON c.id = r.certificate_id
	  JOIN levels l ON l.id = r.level_id
$$;
