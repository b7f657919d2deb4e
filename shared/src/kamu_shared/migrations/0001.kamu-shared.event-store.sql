-- The event store: one row per event, one row per stream holding its current version.
-- transaction_id (xid8) lets the outbox relay read in a gap-safe order without serialising
-- writers: rows whose transaction id is below the oldest running transaction are final.

CREATE TABLE kamu_streams (
    stream_id   text PRIMARY KEY,
    stream_type text NOT NULL,
    version     integer NOT NULL CHECK (version > 0)
);

CREATE TABLE kamu_events (
    position       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
    stream_id      text NOT NULL,
    stream_type    text NOT NULL,
    version        integer NOT NULL CHECK (version > 0),
    event_id       uuid NOT NULL UNIQUE,
    event_type     text NOT NULL,
    data           jsonb NOT NULL,
    metadata       jsonb NOT NULL DEFAULT '{}'::jsonb,
    occurred_at    timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (stream_id, version)
);

CREATE INDEX kamu_events_commit_order ON kamu_events (transaction_id, position);

-- How far each outbox relay (by name) has published, in (transaction_id, position) order.
CREATE TABLE kamu_outbox_checkpoints (
    name           text PRIMARY KEY,
    transaction_id xid8 NOT NULL DEFAULT '0'::xid8,
    position       bigint NOT NULL DEFAULT 0,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
