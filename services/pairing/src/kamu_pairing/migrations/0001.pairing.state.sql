-- The pairing service's current state, written in the same transaction as the events that
-- change it (kamu_pairing.read_models.state). Rebuildable from the event store at any time.
-- The partial unique index and the conditional updates of kamus are what hold the invariants
-- when requests race: at most one active Kamu per colleague, a Kamu within capacity and hours.

CREATE TABLE pairing_people (
    person_id     text PRIMARY KEY,
    display_name  text NOT NULL,
    email         text NOT NULL,
    team          text,
    manager_id    text,
    locale        text,
    time_zone     text,
    slack_user_id text,
    teams_user_id text,
    left_at       timestamptz,
    version       integer NOT NULL
);
CREATE INDEX pairing_people_team ON pairing_people (team) WHERE left_at IS NULL;

CREATE TABLE pairing_kamus (
    person_id         text PRIMARY KEY,
    status            text NOT NULL CHECK (status IN ('active', 'paused', 'retired')),
    capacity          integer NOT NULL,
    hours_per_month   double precision NOT NULL,
    topics            text[] NOT NULL DEFAULT '{}',
    languages         text[] NOT NULL DEFAULT '{}',
    trainings         text[] NOT NULL DEFAULT '{}',
    active_colleagues integer NOT NULL DEFAULT 0 CHECK (active_colleagues >= 0),
    hours_used        double precision NOT NULL DEFAULT 0,
    version           integer NOT NULL
);

CREATE TABLE pairing_pairings (
    pairing_id       text PRIMARY KEY,
    colleague_id     text NOT NULL,
    kamu_id          text NOT NULL,
    status           text NOT NULL
        CHECK (status IN ('requested', 'active', 'declined', 'withdrawn', 'ended')),
    requested_by     text NOT NULL,
    message          text,
    cadence_weeks    integer,
    meeting_minutes  integer,
    change_requested boolean NOT NULL DEFAULT false,
    requested_at     timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    version          integer NOT NULL
);
CREATE UNIQUE INDEX pairing_one_active_kamu ON pairing_pairings (colleague_id)
    WHERE status = 'active';
CREATE INDEX pairing_by_kamu ON pairing_pairings (kamu_id, status);
CREATE INDEX pairing_by_colleague ON pairing_pairings (colleague_id, status);
