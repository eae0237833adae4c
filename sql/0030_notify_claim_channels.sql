-- A daemon's delivery round reads only the deliveries it can send.
--
-- notify_claim() took the due deliveries in order of their due time
-- through one index of every pending delivery, and left out, row by row,
-- the emails when the daemon has no SMTP server and the webhooks of a
-- disabled endpoint.  Emails queued where no daemon sends email (a
-- deployment without SMTP: every certificate issued queues one for its
-- clinician) stay pending, so every round of every daemon read all of
-- them to claim none: after a 1,000,000-row results sheet, 93,333 of
-- them, 0.2-0.6 s of a core each round, once a second for as long as the
-- daemon ran (seen in the import benchmark, docs/benchmarks-import.md).
--
-- And the claimed rows were then updated through a join that the planner,
-- not knowing P_LIMIT, made a hash join over the whole table: every round
-- also read every delivery ever made, delivered ones included.  They are
-- now updated by their ids, through the primary key.
--
-- Each channel now has an index of its own pending deliveries, and the
-- claim takes the first P_LIMIT due of each channel it may send, each in
-- the order of its index, then the first P_LIMIT of both.  The emails'
-- part does not run at all without SMTP.  The rows claimed, their order
-- and their lease are as before; a round may lock up to P_LIMIT rows more
-- than it claims, for the few milliseconds of its statement (another
-- daemon skips them, as it skips those being claimed).
CREATE INDEX notify_deliveries_due_webhook ON notify_deliveries
	(next_attempt_at, id) WHERE status = 'pending' AND channel = 'webhook';
CREATE INDEX notify_deliveries_due_email ON notify_deliveries
	(next_attempt_at, id) WHERE status = 'pending' AND channel = 'email';
-- The claim was the one reader of the index of every pending delivery.
DROP INDEX notify_deliveries_due;

CREATE OR REPLACE FUNCTION notify_claim(p_limit int, p_email boolean,
                                        p_lease_ms int)
RETURNS TABLE (id bigint, channel text, attempt int, kind text, body text,
               url text, secret text, recipient text, subject text,
               email_body text)
LANGUAGE sql VOLATILE
AS $$
	WITH hooks AS (
		SELECT d.id, d.next_attempt_at FROM notify_deliveries d
		  JOIN webhook_endpoints w ON w.id = d.endpoint_id
		 WHERE d.status = 'pending' AND d.channel = 'webhook'
		   AND d.next_attempt_at <= now() AND w.disabled_at IS NULL
		 ORDER BY d.next_attempt_at, d.id
		 LIMIT p_limit
		   FOR UPDATE OF d SKIP LOCKED
	), mails AS (
		SELECT d.id, d.next_attempt_at FROM notify_deliveries d
		 WHERE p_email AND d.status = 'pending' AND d.channel = 'email'
		   AND d.next_attempt_at <= now()
		 ORDER BY d.next_attempt_at, d.id
		 LIMIT p_limit
		   FOR UPDATE OF d SKIP LOCKED
	), due AS (
		SELECT c.id FROM (SELECT * FROM hooks UNION ALL SELECT * FROM mails) c
		 ORDER BY c.next_attempt_at, c.id
		 LIMIT p_limit
	), upd AS (
		UPDATE notify_deliveries d
		   SET attempts = d.attempts + 1, last_attempt_at = now(),
		       next_attempt_at = now() + p_lease_ms * interval '1 millisecond'
		 WHERE d.id = ANY (ARRAY(SELECT due.id FROM due))
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
