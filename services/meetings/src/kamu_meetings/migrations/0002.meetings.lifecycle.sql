-- Pairings in every state (a meeting for a declined pairing is refused outright, not "retry
-- later"); when a goal was shared (a Kamu sees only what was shared during their pairing);
-- when feedback was given (feedback is reported by the month it was given, closed months only).

ALTER TABLE meetings_pairings DROP CONSTRAINT meetings_pairings_status_check;
ALTER TABLE meetings_pairings ADD CONSTRAINT meetings_pairings_status_check
    CHECK (status IN ('requested', 'active', 'declined', 'withdrawn', 'ended'));
ALTER TABLE meetings_pairings ALTER COLUMN cadence_weeks DROP NOT NULL;
ALTER TABLE meetings_pairings ALTER COLUMN paired_at DROP NOT NULL;

ALTER TABLE meetings_goals ADD COLUMN shared_at timestamptz;

ALTER TABLE meetings_feedback ADD COLUMN given_at timestamptz;
UPDATE meetings_feedback SET given_at = held_at;
ALTER TABLE meetings_feedback ALTER COLUMN given_at SET NOT NULL;
CREATE INDEX meetings_feedback_given ON meetings_feedback (given_at);

-- Secret calendar feed links (calendar clients cannot send a bearer token): the link is an
-- HMAC of the person and a generation; rotating bumps the generation, and old links stop.
CREATE TABLE meetings_feed_links (
    person_id   text PRIMARY KEY,
    generation  integer NOT NULL DEFAULT 1,
    rotated_at  timestamptz NOT NULL DEFAULT now()
);
