-- Notifications (issue 13, item 5): an outbox filled in the same
-- transaction as the change it tells of, delivered by the daemon to
-- webhooks (signed, retried with backoff, an endpoint disabled after
-- repeated failure) and by email to the clinician the event is about.
--
--   notify_event_kinds  what may happen (a row per kind; extend with an
--                       INSERT, see "Adding an event kind" below)
--   notify_events       the outbox: one row per thing that happened
--   webhook_endpoints   where webhooks go, each with its own secret
--   notify_deliveries   one row per event and destination: due, delivered
--                       or failed; the daemons claim due rows with
--                       FOR UPDATE SKIP LOCKED
--   notify_attempts     the delivery log: one row per attempt
--   notify_sweeps       one row per day the expiry sweep ran
--
-- Certificate events are written by statement-level triggers on
-- certificates with transition tables: every path that issues or revokes
-- (the API, an import of a million rows, an amendment) fills the outbox in
-- its own transaction, with one set-based INSERT per statement, never a
-- call per row.  A refused write writes no certificate, so no event.
--
-- Renewals (a certificate inserted with renews set) are told apart by
-- notify_certificate_kind(); CE decisions (sql/0011_renewals.sql) are
-- announced by a statement trigger on ce_activities, below.
--
-- Adding an event kind:
--   INSERT INTO notify_event_kinds (kind, description, email_subject,
--                                   email_body)
--   VALUES ('ce.approved', 'a continuing-education activity was approved',
--           'Your CE activity "{{activity.title}}" was approved',
--           'Dear {{clinician.given_name}}, ...');
-- then, in the write function's transaction, one set-based INSERT:
--   INSERT INTO notify_events (kind, clinician_id, certificate_id, payload)
--   SELECT 'ce.approved', a.clinician_id, NULL,
--          jsonb_build_object('clinician', notify_clinician_json(k),
--                             'activity', ...)
--     FROM ... ;
-- Fan-out to every enabled webhook and (when email_subject is set) an
-- email to the clinician follows by itself.

CREATE TABLE notify_event_kinds (
	kind text PRIMARY KEY
		CONSTRAINT notify_event_kinds_kind_shape
		CHECK (kind ~ '^[a-z][a-z_]*(\.[a-z][a-z_]*)+$'),
	description text NOT NULL
		CONSTRAINT notify_event_kinds_description_blank
		CHECK (btrim(description) <> ''),
	-- The email to the clinician the event is about, with {{a.b}}
	-- placeholders read from the event's payload; NULL: no email.
	email_subject text
		CONSTRAINT notify_event_kinds_subject_line
		CHECK (email_subject !~ '[\r\n]' AND length(email_subject) <= 200),
	email_body text,
	CONSTRAINT notify_event_kinds_email_both
		CHECK ((email_subject IS NULL) = (email_body IS NULL))
);

INSERT INTO notify_event_kinds (kind, description, email_subject, email_body)
VALUES
('certificate.issued', 'a certificate was issued',
 'Your {{certificate.level}} certificate {{certificate.number}} was issued',
 E'Dear {{clinician.given_name}} {{clinician.family_name}},\n\n'
 'your certificate {{certificate.number}} for {{certificate.level}} '
 '({{certificate.program}}) was issued on {{certificate.issued_on}}.\n'
 'It is valid until {{certificate.expires_on}}.\n'),
('certificate.revoked', 'a certificate was revoked',
 'Your {{certificate.level}} certificate {{certificate.number}} was revoked',
 E'Dear {{clinician.given_name}} {{clinician.family_name}},\n\n'
 'your certificate {{certificate.number}} for {{certificate.level}} '
 '({{certificate.program}}) was revoked ({{certificate.revocation_category}}).\n'
 'Please contact the course administrators with any question.\n'),
('certificate.expiring', 'a certificate expires in 90, 30 or 7 days',
 'Your {{certificate.level}} certificate expires in {{notice.days_left}} days',
 E'Dear {{clinician.given_name}} {{clinician.family_name}},\n\n'
 'your certificate {{certificate.number}} for {{certificate.level}} '
 '({{certificate.program}}) expires on {{certificate.expires_on}}, in '
 '{{notice.days_left}} days.\n'),
('certificate.expired', 'a certificate expired',
 'Your {{certificate.level}} certificate has expired',
 E'Dear {{clinician.given_name}} {{clinician.family_name}},\n\n'
 'your certificate {{certificate.number}} for {{certificate.level}} '
 '({{certificate.program}}) expired on {{certificate.expires_on}}.\n'),
('certificate.renewed', 'a certificate was renewed (a new one issued)',
 'Your {{certificate.level}} certificate was renewed: {{certificate.number}}',
 E'Dear {{clinician.given_name}} {{clinician.family_name}},\n\n'
 'your {{certificate.level}} certificate ({{certificate.program}}) was '
 'renewed.\nYour new certificate {{certificate.number}} is valid from '
 '{{certificate.issued_on}} until {{certificate.expires_on}}.\n'),
('ce.approved', 'a continuing-education activity was approved',
 'Your CE activity "{{activity.title}}" was approved',
 E'Dear {{clinician.given_name}} {{clinician.family_name}},\n\n'
 'your continuing-education activity "{{activity.title}}" '
 '({{activity.hours}} hours, {{activity.completed_on}}) was approved.\n'),
('ce.rejected', 'a continuing-education activity was rejected',
 'Your CE activity "{{activity.title}}" was not approved',
 E'Dear {{clinician.given_name}} {{clinician.family_name}},\n\n'
 'your continuing-education activity "{{activity.title}}" '
 '({{activity.hours}} hours, {{activity.completed_on}}) was not approved: '
 '{{activity.rejection_reason}}.\n'),
('webhook.test', 'a test event sent to one endpoint by an admin', NULL, NULL);

-- The outbox.  No foreign keys to clinicians and certificates: an import
-- writes an event for every certificate it issues, and a referential check
-- per row costs more than the rows (neither is ever deleted).
CREATE TABLE notify_events (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind text NOT NULL REFERENCES notify_event_kinds (kind)
		ON UPDATE CASCADE ON DELETE RESTRICT,
	clinician_id bigint,		-- whom it is about (the email's recipient)
	certificate_id bigint,
	-- only to this endpoint (a test event); NULL: to every enabled one
	endpoint_id bigint,
	-- an event that must be queued once only (the sweep's notices)
	dedup_key text CONSTRAINT notify_events_dedup_key UNIQUE,
	payload jsonb NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_endpoints (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	-- http(s) only, a host, no blanks or controls (the daemon checks the
	-- same with libcurl's URL parser before it is stored)
	url text NOT NULL
		CONSTRAINT webhook_endpoints_url_shape CHECK (
			url ~* '^https?://[^/?#[:space:]]+'
			AND url !~ '[[:space:][:cntrl:]]'
			AND length(url) <= 2048),
	description text
		CONSTRAINT webhook_endpoints_description_length
		CHECK (length(description) <= 200),
	-- the HMAC key, as text: whoever receives uses the same string
	secret text NOT NULL
		CONSTRAINT webhook_endpoints_secret_length
		CHECK (length(secret) >= 32),
	created_at timestamptz NOT NULL DEFAULT now(),
	created_by bigint REFERENCES users (id) ON DELETE SET NULL,
	disabled_at timestamptz,
	disabled_reason text,
	consecutive_failures int NOT NULL DEFAULT 0
		CONSTRAINT webhook_endpoints_failures CHECK (consecutive_failures >= 0),
	last_success_at timestamptz,
	last_failure_at timestamptz,
	CONSTRAINT webhook_endpoints_disabled CHECK (
		(disabled_at IS NULL) = (disabled_reason IS NULL))
);

CREATE TABLE notify_deliveries (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	event_id bigint NOT NULL,	-- no FK: written with the events, set-wise
	channel text NOT NULL
		CONSTRAINT notify_deliveries_channel CHECK (channel IN ('webhook', 'email')),
	endpoint_id bigint REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	recipient text,			-- an email's address
	status text NOT NULL DEFAULT 'pending'
		CONSTRAINT notify_deliveries_status
		CHECK (status IN ('pending', 'delivered', 'failed')),
	attempts int NOT NULL DEFAULT 0
		CONSTRAINT notify_deliveries_attempts CHECK (attempts >= 0),
	-- when a daemon may take it next (a claim moves it past the
	-- delivery's timeout: a daemon that dies mid-delivery leaves it due
	-- again afterwards)
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	last_attempt_at timestamptz,
	delivered_at timestamptz,
	last_error text,
	last_http_status int,
	created_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT notify_deliveries_target CHECK (
		(channel = 'webhook' AND endpoint_id IS NOT NULL AND recipient IS NULL)
		OR (channel = 'email' AND endpoint_id IS NULL AND recipient IS NOT NULL)),
	CONSTRAINT notify_deliveries_delivered CHECK (
		(status = 'delivered') = (delivered_at IS NOT NULL))
);
CREATE INDEX notify_deliveries_due ON notify_deliveries (next_attempt_at)
	WHERE status = 'pending';
CREATE INDEX notify_deliveries_event ON notify_deliveries (event_id);
CREATE INDEX notify_deliveries_endpoint ON notify_deliveries (endpoint_id, id);

-- The delivery log.
CREATE TABLE notify_attempts (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	delivery_id bigint NOT NULL REFERENCES notify_deliveries (id) ON DELETE CASCADE,
	attempt int NOT NULL CONSTRAINT notify_attempts_attempt CHECK (attempt >= 1),
	at timestamptz NOT NULL DEFAULT now(),
	ok boolean NOT NULL,
	http_status int,
	error text,
	response text CONSTRAINT notify_attempts_response CHECK (length(response) <= 1024),
	duration_ms int NOT NULL CONSTRAINT notify_attempts_duration CHECK (duration_ms >= 0)
);
CREATE INDEX notify_attempts_delivery ON notify_attempts (delivery_id, attempt);

CREATE TABLE notify_sweeps (
	day date PRIMARY KEY,
	swept_at timestamptz NOT NULL DEFAULT now(),
	queued int NOT NULL
);

-- ---------------------------------------------------------------------------
-- Payloads and email text
-- ---------------------------------------------------------------------------

-- What an event tells of a clinician (no email, license or NPI: a webhook
-- receiver that needs more asks the API).
CREATE FUNCTION notify_clinician_json(k clinicians) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT jsonb_build_object('id', k.id, 'given_name', k.given_name,
	                          'family_name', k.family_name)
$$;

-- What an event tells of a certificate: its public facts (never the
-- revocation's staff note).
CREATE FUNCTION notify_certificate_json(c certificates, l levels, g programs,
                                        today date)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT jsonb_build_object(
		'number', c.number,
		'level_code', l.code,
		'level', l.title,
		'program', g.name,
		'issued_on', c.issued_on,
		'expires_on', c.expires_on,
		'status', certificate_status_on(c.revoked_at, c.expires_on, today),
		'revocation_category', c.revocation_category)
$$;

-- TEMPLATE with each {{a.b}} replaced by the text at that path of PAYLOAD
-- ('' when absent).  Pure: no table is read.
CREATE FUNCTION notify_render(template text, payload jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
	out text := template;
	m text[];
BEGIN
	FOR m IN SELECT regexp_matches(template, '\{\{([a-z_]+(\.[a-z_]+)*)\}\}', 'g') LOOP
		out := replace(out, '{{' || m[1] || '}}',
		               coalesce(payload #>> string_to_array(m[1], '.'), ''));
	END LOOP;
	RETURN out;
END
$$;

-- ---------------------------------------------------------------------------
-- Fan-out: each event to every enabled endpoint, and by email
-- ---------------------------------------------------------------------------

ALTER TABLE notify_deliveries
	ADD COLUMN email_subject text,
	ADD COLUMN email_body text;

CREATE FUNCTION notify_events_fan_out() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	INSERT INTO notify_deliveries (event_id, channel, endpoint_id)
	SELECT n.id, 'webhook', w.id
	  FROM new_events n
	  JOIN webhook_endpoints w
	    ON w.disabled_at IS NULL
	   AND (n.endpoint_id IS NULL OR n.endpoint_id = w.id);

	INSERT INTO notify_deliveries (event_id, channel, recipient,
	                               email_subject, email_body)
	SELECT n.id, 'email', k.email,
	       left(regexp_replace(notify_render(t.email_subject, n.payload),
	                           '[\r\n]+', ' ', 'g'), 300),
	       notify_render(t.email_body, n.payload)
	  FROM new_events n
	  JOIN notify_event_kinds t ON t.kind = n.kind
	  JOIN clinicians k ON k.id = n.clinician_id
	 WHERE t.email_subject IS NOT NULL;

	-- wakes the daemons' delivery workers (once per statement)
	PERFORM pg_notify('certrack_outbox', '');
	RETURN NULL;
END
$$;

CREATE TRIGGER notify_events_fan_out AFTER INSERT ON notify_events
	REFERENCING NEW TABLE AS new_events
	FOR EACH STATEMENT EXECUTE FUNCTION notify_events_fan_out();

-- ---------------------------------------------------------------------------
-- Certificate events, from every path that writes certificates
-- ---------------------------------------------------------------------------

-- The event kind of a certificate row just inserted: a renewal (renews
-- set, sql/0011_renewals.sql) or a first issue.
CREATE FUNCTION notify_certificate_kind(c certificates) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT CASE WHEN c.renews IS NOT NULL THEN 'certificate.renewed'
	            ELSE 'certificate.issued' END
$$;

CREATE FUNCTION notify_certificates_inserted() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	INSERT INTO notify_events (kind, clinician_id, certificate_id, payload)
	SELECT notify_certificate_kind(c), c.clinician_id, c.id,
	       jsonb_build_object(
	           'certificate', notify_certificate_json(c, l, g, current_date),
	           'clinician', notify_clinician_json(k))
	  FROM new_certificates c
	  JOIN levels l ON l.id = c.level_id
	  JOIN programs g ON g.id = l.program_id
	  JOIN clinicians k ON k.id = c.clinician_id
	 ORDER BY c.id;
	RETURN NULL;
END
$$;

CREATE TRIGGER notify_certificates_inserted AFTER INSERT ON certificates
	REFERENCING NEW TABLE AS new_certificates
	FOR EACH STATEMENT EXECUTE FUNCTION notify_certificates_inserted();

CREATE FUNCTION notify_certificates_updated() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	INSERT INTO notify_events (kind, clinician_id, certificate_id, payload)
	SELECT 'certificate.revoked', c.clinician_id, c.id,
	       jsonb_build_object(
	           'certificate', notify_certificate_json(c, l, g, current_date),
	           'clinician', notify_clinician_json(k))
	  FROM new_certificates c
	  JOIN old_certificates o ON o.id = c.id
	  JOIN levels l ON l.id = c.level_id
	  JOIN programs g ON g.id = l.program_id
	  JOIN clinicians k ON k.id = c.clinician_id
	 WHERE o.revoked_at IS NULL AND c.revoked_at IS NOT NULL
	 ORDER BY c.id;
	RETURN NULL;
END
$$;

CREATE TRIGGER notify_certificates_updated AFTER UPDATE ON certificates
	REFERENCING OLD TABLE AS old_certificates NEW TABLE AS new_certificates
	FOR EACH STATEMENT EXECUTE FUNCTION notify_certificates_updated();

-- A CE activity decided (pending to approved or rejected): one event each,
-- in the decision's transaction.  Staff-entered activities are approved
-- when inserted and announce nothing (staff entered them).
CREATE FUNCTION notify_ce_decided() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	INSERT INTO notify_events (kind, clinician_id, certificate_id, payload)
	SELECT 'ce.' || a.status, a.clinician_id, NULL,
	       jsonb_build_object(
	           'activity', jsonb_build_object('id', a.id, 'title', a.title,
	               'provider', a.provider, 'completed_on', a.completed_on,
	               'hours', a.hours, 'category', a.category,
	               'status', a.status,
	               'rejection_reason', a.rejection_reason),
	           'clinician', notify_clinician_json(k))
	  FROM new_ce a
	  JOIN old_ce o ON o.id = a.id
	  JOIN clinicians k ON k.id = a.clinician_id
	 WHERE o.status = 'pending' AND a.status IN ('approved', 'rejected')
	 ORDER BY a.id;
	RETURN NULL;
END
$$;

CREATE TRIGGER notify_ce_decided AFTER UPDATE ON ce_activities
	REFERENCING OLD TABLE AS old_ce NEW TABLE AS new_ce
	FOR EACH STATEMENT EXECUTE FUNCTION notify_ce_decided();

-- ---------------------------------------------------------------------------
-- The daily sweep: expiry notices, each queued once
-- ---------------------------------------------------------------------------

-- The notices due on P_TODAY: for an unrevoked certificate with D days
-- left (expires_on - P_TODAY; on its expiry date it is expired), the
-- expiring notice of the smallest of 90, 30, 7 that D is within, and the
-- expired notice in the 30 days after it expired (a sweep missed for a few
-- days still sends them; years-old expiries are not announced).  A
-- certificate with a later unrevoked one for the same clinician and level
-- (a renewal) gets none.  DEDUP_KEY makes each notice once only.
CREATE FUNCTION notify_expiry_notices(p_today date)
RETURNS TABLE (certificate_id bigint, kind text, days_left int,
               notice_days int, dedup_key text)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT c.id, x.kind, x.d, x.notice,
	       CASE WHEN x.kind = 'certificate.expired'
	            THEN 'certificate.expired:' || c.id
	            ELSE 'certificate.expiring:' || x.notice || ':' || c.id END
	  FROM certificates c
	 CROSS JOIN LATERAL (
		SELECT (c.expires_on - p_today) AS d,
		       CASE WHEN c.expires_on <= p_today THEN 'certificate.expired'
		            ELSE 'certificate.expiring' END AS kind,
		       CASE WHEN c.expires_on <= p_today THEN 0
		            WHEN c.expires_on - p_today <= 7 THEN 7
		            WHEN c.expires_on - p_today <= 30 THEN 30
		            ELSE 90 END AS notice) AS x
	 WHERE c.revoked_at IS NULL
	   AND c.expires_on > p_today - 30
	   AND c.expires_on <= p_today + 90
	   AND NOT EXISTS (SELECT 1 FROM certificates n
	                    WHERE n.clinician_id = c.clinician_id
	                      AND n.level_id = c.level_id
	                      AND n.id <> c.id AND n.revoked_at IS NULL
	                      AND n.issued_on >= c.issued_on)
$$;

-- Queues the expiry notices due on P_TODAY that were never queued; returns
-- how many.  Safe to run twice, or by two daemons at once (the dedup key).
CREATE FUNCTION notify_sweep(p_today date) RETURNS int
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	n int;
BEGIN
	INSERT INTO notify_events (kind, clinician_id, certificate_id,
	                           dedup_key, payload)
	SELECT x.kind, c.clinician_id, c.id, x.dedup_key,
	       jsonb_build_object(
	           'certificate', notify_certificate_json(c, l, g, p_today),
	           'clinician', notify_clinician_json(k),
	           'notice', jsonb_build_object('days_left', x.days_left,
	                                        'notice_days', x.notice_days))
	  FROM notify_expiry_notices(p_today) x
	  JOIN certificates c ON c.id = x.certificate_id
	  JOIN levels l ON l.id = c.level_id
	  JOIN programs g ON g.id = l.program_id
	  JOIN clinicians k ON k.id = c.clinician_id
	 ORDER BY c.id
	    ON CONFLICT (dedup_key) DO NOTHING;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

-- The daemons' daily sweep: does nothing (STATUS 'locked') while another
-- session holds the sweep's advisory lock, nothing ('done') when today's
-- sweep ran, nothing ('not_yet') before P_AT in the database's time zone,
-- else sweeps and records the day ('swept', QUEUED notices).  Runs inside
-- the caller's transaction; the lock is the transaction's.
CREATE FUNCTION notify_sweep_run(p_at time)
RETURNS TABLE (status text, queued int)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	n int;
BEGIN
	IF NOT pg_try_advisory_xact_lock(hashtext('certrack.notify_sweep')) THEN
		RETURN QUERY SELECT 'locked'::text, 0;
		RETURN;
	END IF;
	IF EXISTS (SELECT 1 FROM notify_sweeps s WHERE s.day = current_date) THEN
		RETURN QUERY SELECT 'done'::text, 0;
		RETURN;
	END IF;
	IF localtime < p_at THEN
		RETURN QUERY SELECT 'not_yet'::text, 0;
		RETURN;
	END IF;
	n := notify_sweep(current_date);
	INSERT INTO notify_sweeps (day, queued) VALUES (current_date, n);
	RETURN QUERY SELECT 'swept'::text, n;
END
$$;

-- ---------------------------------------------------------------------------
-- The delivery workers
-- ---------------------------------------------------------------------------

-- Claims at most P_LIMIT due deliveries (webhooks to enabled endpoints,
-- and emails when P_EMAIL) for one daemon: each is moved P_LEASE_MS into
-- the future and its attempt counted, so no other daemon takes it while
-- this one delivers.  Returns what a delivery needs: the event as the JSON
-- body a webhook receives, the endpoint's URL and secret, or the email.
CREATE FUNCTION notify_claim(p_limit int, p_email boolean, p_lease_ms int)
RETURNS TABLE (id bigint, channel text, attempt int, kind text, body text,
               url text, secret text, recipient text, subject text,
               email_body text)
LANGUAGE sql VOLATILE
AS $$
	WITH due AS (
		SELECT d.id FROM notify_deliveries d
		  LEFT JOIN webhook_endpoints w ON w.id = d.endpoint_id
		 WHERE d.status = 'pending' AND d.next_attempt_at <= now()
		   AND ((d.channel = 'webhook' AND w.disabled_at IS NULL)
		        OR (d.channel = 'email' AND p_email))
		 ORDER BY d.next_attempt_at, d.id
		 LIMIT p_limit
		   FOR UPDATE OF d SKIP LOCKED
	), upd AS (
		UPDATE notify_deliveries d
		   SET attempts = d.attempts + 1, last_attempt_at = now(),
		       next_attempt_at = now() + p_lease_ms * interval '1 millisecond'
		  FROM due WHERE d.id = due.id
		RETURNING d.*
	)
	SELECT u.id, u.channel, u.attempts, e.kind,
	       jsonb_build_object('id', e.id, 'type', e.kind,
	                          'created_at', e.created_at,
	                          'data', e.payload)::text,
	       w.url, w.secret, u.recipient, u.email_subject, u.email_body
	  FROM upd u
	  JOIN notify_events e ON e.id = u.event_id
	  LEFT JOIN webhook_endpoints w ON w.id = u.endpoint_id
	 ORDER BY u.id
$$;

-- Records attempt ATTEMPT of delivery P_ID: the log row; delivered when
-- P_OK; else due again after P_BASE_MS * 2^(attempt - 1) (at most
-- P_MAX_MS), or failed for good after P_MAX_ATTEMPTS.  A webhook's
-- endpoint counts its consecutive failures and is disabled at
-- P_DISABLE_AFTER (a success sets the count back to 0).
CREATE FUNCTION notify_record(p_id bigint, p_attempt int, p_ok boolean,
                              p_http_status int, p_error text,
                              p_response text, p_duration_ms int,
                              p_max_attempts int, p_base_ms int,
                              p_max_ms int, p_disable_after int)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	d notify_deliveries;
BEGIN
	INSERT INTO notify_attempts (delivery_id, attempt, ok, http_status,
	                             error, response, duration_ms)
	VALUES (p_id, p_attempt, p_ok, p_http_status, left(p_error, 1024),
	        left(p_response, 1024), greatest(p_duration_ms, 0));
	UPDATE notify_deliveries SET
	       status = CASE WHEN p_ok THEN 'delivered'
	                     WHEN p_attempt >= p_max_attempts THEN 'failed'
	                     ELSE 'pending' END,
	       delivered_at = CASE WHEN p_ok THEN now() END,
	       next_attempt_at = now() + least(p_max_ms::float8,
	           p_base_ms * power(2, least(p_attempt - 1, 40)))
	           * interval '1 millisecond',
	       last_error = CASE WHEN p_ok THEN NULL ELSE left(p_error, 1024) END,
	       last_http_status = p_http_status
	 WHERE id = p_id RETURNING * INTO d;
	IF d.endpoint_id IS NULL THEN
		RETURN;
	END IF;
	IF p_ok THEN
		UPDATE webhook_endpoints SET consecutive_failures = 0,
		       last_success_at = now()
		 WHERE id = d.endpoint_id;
	ELSE
		UPDATE webhook_endpoints SET
		       consecutive_failures = consecutive_failures + 1,
		       last_failure_at = now(),
		       disabled_at = CASE WHEN disabled_at IS NULL
		           AND consecutive_failures + 1 >= p_disable_after
		           THEN now() ELSE disabled_at END,
		       disabled_reason = CASE WHEN disabled_at IS NULL
		           AND consecutive_failures + 1 >= p_disable_after
		           THEN format('%s consecutive failed deliveries',
		                       consecutive_failures + 1)
		           ELSE disabled_reason END
		 WHERE id = d.endpoint_id;
	END IF;
END
$$;

-- ---------------------------------------------------------------------------
-- What the admin API shows and does
-- ---------------------------------------------------------------------------

-- An endpoint as the API shows it: never its secret.
CREATE FUNCTION webhook_json(w webhook_endpoints) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT jsonb_build_object(
		'id', w.id, 'url', w.url, 'description', w.description,
		'enabled', w.disabled_at IS NULL,
		'disabled_at', w.disabled_at, 'disabled_reason', w.disabled_reason,
		'consecutive_failures', w.consecutive_failures,
		'last_success_at', w.last_success_at,
		'last_failure_at', w.last_failure_at,
		'created_at', w.created_at)
$$;

-- A delivery as the API shows it, with its attempts.
CREATE FUNCTION notify_delivery_json(d notify_deliveries) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT jsonb_build_object(
		'id', d.id, 'event_id', d.event_id,
		'event', (SELECT e.kind FROM notify_events e WHERE e.id = d.event_id),
		'channel', d.channel, 'endpoint_id', d.endpoint_id,
		'recipient', d.recipient, 'status', d.status,
		'attempts', d.attempts, 'next_attempt_at',
		CASE WHEN d.status = 'pending' THEN d.next_attempt_at END,
		'delivered_at', d.delivered_at, 'last_error', d.last_error,
		'last_http_status', d.last_http_status, 'created_at', d.created_at,
		'log', coalesce((SELECT jsonb_agg(jsonb_build_object(
				'attempt', a.attempt, 'at', a.at, 'ok', a.ok,
				'http_status', a.http_status, 'error', a.error,
				'duration_ms', a.duration_ms) ORDER BY a.id)
			  FROM notify_attempts a WHERE a.delivery_id = d.id), '[]'))
$$;

-- Deliveries, newest first, filtered by status, endpoint, channel (NULL:
-- any), as a page {"total", "limit", "offset", "items"}.
CREATE FUNCTION notify_deliveries_page(p_status text, p_endpoint bigint,
                                       p_channel text, p_limit int,
                                       p_offset int)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	WITH f AS (
		SELECT d.* FROM notify_deliveries d
		 WHERE (p_status IS NULL OR d.status = p_status)
		   AND (p_endpoint IS NULL OR d.endpoint_id = p_endpoint)
		   AND (p_channel IS NULL OR d.channel = p_channel)
	)
	SELECT jsonb_build_object(
		'total', (SELECT count(*) FROM f),
		'limit', p_limit, 'offset', p_offset,
		'items', coalesce((SELECT jsonb_agg(notify_delivery_json(x) ORDER BY x.id DESC)
		                     FROM (SELECT * FROM f ORDER BY id DESC
		                           LIMIT p_limit OFFSET p_offset) x), '[]'))
$$;

-- Queues a test event for endpoint P_ID only; returns the new delivery
-- (notify_delivery_json()), or NULL when there is no such endpoint.  A
-- disabled endpoint is refused (check_violation 'webhook_disabled').
CREATE FUNCTION webhook_test(p_id bigint) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	w webhook_endpoints;
	ev bigint;
	d notify_deliveries;
BEGIN
	SELECT * INTO w FROM webhook_endpoints WHERE id = p_id FOR SHARE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF w.disabled_at IS NOT NULL THEN
		RAISE check_violation USING MESSAGE = 'webhook_disabled',
		      CONSTRAINT = 'webhook_disabled';
	END IF;
	INSERT INTO notify_events (kind, endpoint_id, payload)
	VALUES ('webhook.test', p_id, jsonb_build_object('endpoint_id', p_id,
	        'message', 'a test event from certrack'))
	RETURNING id INTO ev;
	SELECT * INTO d FROM notify_deliveries x WHERE x.event_id = ev;
	RETURN notify_delivery_json(d);
END
$$;

-- Makes failed delivery P_ID due again now, its attempts from 0.  Returns
-- the delivery, or NULL when there is none; refuses (check_violation)
-- 'delivery_not_failed' and 'webhook_disabled'.
CREATE FUNCTION notify_replay(p_id bigint) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	d notify_deliveries;
BEGIN
	SELECT * INTO d FROM notify_deliveries WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF d.status <> 'failed' THEN
		RAISE check_violation USING MESSAGE = 'delivery_not_failed',
		      CONSTRAINT = 'delivery_not_failed';
	END IF;
	IF EXISTS (SELECT 1 FROM webhook_endpoints w
	            WHERE w.id = d.endpoint_id AND w.disabled_at IS NOT NULL) THEN
		RAISE check_violation USING MESSAGE = 'webhook_disabled',
		      CONSTRAINT = 'webhook_disabled';
	END IF;
	UPDATE notify_deliveries SET status = 'pending', attempts = 0,
	       next_attempt_at = now(), last_error = NULL, last_http_status = NULL
	 WHERE id = p_id RETURNING * INTO d;
	RETURN notify_delivery_json(d);
END
$$;
