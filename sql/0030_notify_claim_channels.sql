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

-- The function is redefined from its own text in the catalog
-- (migration_function_replace(), sql/0026), each piece found exactly once.
SELECT migration_function_replace('notify_claim(int, boolean, int)',
	E'\tWITH due AS (\n'
	|| E'\t\tSELECT d.id FROM notify_deliveries d\n'
	|| E'\t\t  LEFT JOIN webhook_endpoints w ON w.id = d.endpoint_id\n'
	|| E'\t\t WHERE d.status = ''pending'' AND d.next_attempt_at <= now()\n'
	|| E'\t\t   AND ((d.channel = ''webhook'' AND w.disabled_at IS NULL)\n'
	|| E'\t\t        OR (d.channel = ''email'' AND p_email))\n'
	|| E'\t\t ORDER BY d.next_attempt_at, d.id\n'
	|| E'\t\t LIMIT p_limit\n'
	|| E'\t\t   FOR UPDATE OF d SKIP LOCKED\n'
	|| E'\t), upd AS (\n',
	E'\tWITH hooks AS (\n'
	|| E'\t\tSELECT d.id, d.next_attempt_at FROM notify_deliveries d\n'
	|| E'\t\t  JOIN webhook_endpoints w ON w.id = d.endpoint_id\n'
	|| E'\t\t WHERE d.status = ''pending'' AND d.channel = ''webhook''\n'
	|| E'\t\t   AND d.next_attempt_at <= now() AND w.disabled_at IS NULL\n'
	|| E'\t\t ORDER BY d.next_attempt_at, d.id\n'
	|| E'\t\t LIMIT p_limit\n'
	|| E'\t\t   FOR UPDATE OF d SKIP LOCKED\n'
	|| E'\t), mails AS (\n'
	|| E'\t\tSELECT d.id, d.next_attempt_at FROM notify_deliveries d\n'
	|| E'\t\t WHERE p_email AND d.status = ''pending'' AND d.channel = ''email''\n'
	|| E'\t\t   AND d.next_attempt_at <= now()\n'
	|| E'\t\t ORDER BY d.next_attempt_at, d.id\n'
	|| E'\t\t LIMIT p_limit\n'
	|| E'\t\t   FOR UPDATE OF d SKIP LOCKED\n'
	|| E'\t), due AS (\n'
	|| E'\t\tSELECT c.id FROM (SELECT * FROM hooks UNION ALL SELECT * FROM mails) c\n'
	|| E'\t\t ORDER BY c.next_attempt_at, c.id\n'
	|| E'\t\t LIMIT p_limit\n'
	|| E'\t), upd AS (\n');
SELECT migration_function_replace('notify_claim(int, boolean, int)',
	E'\t\t  FROM due WHERE d.id = due.id\n',
	E'\t\t WHERE d.id = ANY (ARRAY(SELECT due.id FROM due))\n');
