-- The in-doubt window, made as small as the channels allow, and messages that wait for data.
--
-- handed_over_at: set and committed by the dispatcher holding the claim right before the
--   message leaves (email: before SMTP DATA; HTTP: before the request), cleared when the
--   outcome is recorded. A claim that ran out with it set is in doubt (the message may have
--   arrived); one without it was never handed over and is simply sent again.
-- waiting_for: what a pending delivery waits for (e.g. "display name of person p-1"): woken
--   when the person's event arrives. waiting_since: when it first waited (the wait is bounded
--   by KAMU_MISSING_DATA_WAIT_SECONDS from then).
ALTER TABLE notifications_deliveries
    ADD COLUMN handed_over_at timestamptz,
    ADD COLUMN waiting_for    text,
    ADD COLUMN waiting_since  timestamptz;

-- Claims held while this migration runs were taken by a version that did not mark the hand
-- over: whatever they were doing, treat them as handed over (in doubt), never as unsent.
UPDATE notifications_deliveries SET handed_over_at = now() WHERE status = 'sending';

CREATE INDEX notifications_deliveries_waiting ON notifications_deliveries (notification_id)
    WHERE status = 'pending' AND waiting_for IS NOT NULL;
