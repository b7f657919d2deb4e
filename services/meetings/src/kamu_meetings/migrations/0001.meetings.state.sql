-- The meetings service's tables.
--
-- Kept from this service's own events, in the transaction that appends them
-- (kamu_meetings.read_models.state), rebuildable from the event store:
--   meetings_meetings, meetings_feedback, and the clock fields of meetings_cadence.
-- Learned from other services' topics by the consumers (kamu_meetings.reactions):
--   meetings_pairings, meetings_people, meetings_goals, and the rows of meetings_cadence.
-- Service-private, never on a topic: meetings_pairing_keys (the keys that seal notes).

CREATE TABLE meetings_pairings (
    pairing_id     text PRIMARY KEY,
    colleague_id   text NOT NULL,
    kamu_id        text NOT NULL,
    status         text NOT NULL CHECK (status IN ('active', 'ended')),
    cadence_weeks  integer NOT NULL,
    paired_at      timestamptz NOT NULL,
    ended_at       timestamptz
);
CREATE INDEX meetings_pairings_colleague ON meetings_pairings (colleague_id);
CREATE INDEX meetings_pairings_kamu ON meetings_pairings (kamu_id);

CREATE TABLE meetings_people (
    person_id     text PRIMARY KEY,
    display_name  text NOT NULL,
    email         text NOT NULL,
    time_zone     text,
    locale        text
);

CREATE TABLE meetings_meetings (
    meeting_id        text PRIMARY KEY,
    pairing_id        text NOT NULL,
    colleague_id      text NOT NULL,
    kamu_id           text NOT NULL,
    status            text NOT NULL CHECK (status IN ('scheduled', 'cancelled', 'held')),
    starts_at         timestamptz NOT NULL,
    time_zone         text NOT NULL,
    duration_minutes  integer NOT NULL,
    location          text,
    agenda            text,
    scheduled_by      text NOT NULL,
    sequence          integer NOT NULL DEFAULT 0,
    cancelled_by      text,
    cancel_cause      text,
    cancel_reason     text,
    recorded_by       text,
    notes_sealed      text,
    goal_ids          text[] NOT NULL DEFAULT '{}',
    feedback_colleague boolean NOT NULL DEFAULT false,
    feedback_kamu     boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    version           integer NOT NULL
);
CREATE INDEX meetings_meetings_colleague ON meetings_meetings (colleague_id, starts_at);
CREATE INDEX meetings_meetings_kamu ON meetings_meetings (kamu_id, starts_at);
CREATE INDEX meetings_meetings_pairing ON meetings_meetings (pairing_id, status, starts_at);

-- Anonymous: the respondent's role in the pairing, never who they are.
CREATE TABLE meetings_feedback (
    meeting_id            text NOT NULL,
    respondent            text NOT NULL CHECK (respondent IN ('colleague', 'kamu')),
    psychological_safety  smallint NOT NULL CHECK (psychological_safety BETWEEN 1 AND 5),
    usefulness            smallint NOT NULL CHECK (usefulness BETWEEN 1 AND 5),
    held_at               timestamptz NOT NULL,
    PRIMARY KEY (meeting_id, respondent)
);
CREATE INDEX meetings_feedback_held ON meetings_feedback (held_at);

-- The durable overdue timer: lapse N of a pairing falls due at since + N cadences.
CREATE TABLE meetings_cadence (
    pairing_id     text PRIMARY KEY,
    colleague_id   text NOT NULL,
    kamu_id        text NOT NULL,
    cadence_weeks  integer NOT NULL,
    since          timestamptz NOT NULL,
    lapses         integer NOT NULL DEFAULT 0,
    active         boolean NOT NULL DEFAULT true
);
CREATE INDEX meetings_cadence_active ON meetings_cadence (since) WHERE active;

CREATE TABLE meetings_pairing_keys (
    pairing_id  text PRIMARY KEY,
    key         text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Goals the colleague shared with their Kamu and that are due for review: suggested agenda.
CREATE TABLE meetings_goals (
    goal_id      text PRIMARY KEY,
    owner_id     text NOT NULL,
    title        text NOT NULL DEFAULT '',
    shared       boolean NOT NULL DEFAULT false,
    open         boolean NOT NULL DEFAULT true,
    due_since    timestamptz
);
CREATE INDEX meetings_goals_owner ON meetings_goals (owner_id) WHERE open AND shared;
