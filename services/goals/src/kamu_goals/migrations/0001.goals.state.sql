-- The goals service's tables.
--
-- Kept from this service's own events in the transaction that appends them
-- (kamu_goals.read_models.state), rebuildable from the event store:
--   goals_goals (with the review clock), goals_progress, goals_reviews.
-- Learned from other services' topics by the consumers (kamu_goals.reactions):
--   goals_kamus (who is whose Kamu now, from pairing), goals_meeting_links (from meetings).

CREATE TABLE goals_goals (
    goal_id               text PRIMARY KEY,
    owner_id              text NOT NULL,
    status                text NOT NULL CHECK (status IN ('active', 'completed', 'abandoned')),
    title                 text NOT NULL,
    description           text,
    category              text NOT NULL,
    success_criteria      text,
    target_date           date NOT NULL,
    review_interval_weeks integer NOT NULL,
    visibility            text NOT NULL CHECK (visibility IN ('private', 'kamu')),
    shared_with           text,
    shared_at             timestamptz,
    clock_since           timestamptz NOT NULL,   -- the last review, or when it was set
    due_lapses            integer NOT NULL DEFAULT 0,
    due_since             timestamptz,
    last_reviewed_at      timestamptz,
    set_at                timestamptz NOT NULL,
    closed_at             timestamptz,
    updated_at            timestamptz NOT NULL,
    version               integer NOT NULL
);
CREATE INDEX goals_goals_owner ON goals_goals (owner_id, status);
CREATE INDEX goals_goals_clock ON goals_goals (clock_since) WHERE status = 'active';

CREATE TABLE goals_progress (
    goal_id      text NOT NULL,
    version      integer NOT NULL,
    percent      smallint NOT NULL,
    status       text NOT NULL,
    note         text,
    recorded_at  timestamptz NOT NULL,
    PRIMARY KEY (goal_id, version)
);

CREATE TABLE goals_reviews (
    goal_id        text NOT NULL,
    version        integer NOT NULL,
    reviewed_by    text NOT NULL,
    reviewer_role  text NOT NULL,
    outcome        text NOT NULL,
    reflection     text,
    meeting_id     text,
    on_time        boolean NOT NULL,
    reviewed_at    timestamptz NOT NULL,
    PRIMARY KEY (goal_id, version)
);
CREATE INDEX goals_reviews_at ON goals_reviews (reviewed_at);

CREATE TABLE goals_kamus (
    colleague_id  text PRIMARY KEY,
    kamu_id       text NOT NULL,
    pairing_id    text NOT NULL,
    since         timestamptz NOT NULL
);

CREATE TABLE goals_meeting_links (
    goal_id     text NOT NULL,
    meeting_id  text NOT NULL,
    held_at     timestamptz,
    PRIMARY KEY (goal_id, meeting_id)
);
