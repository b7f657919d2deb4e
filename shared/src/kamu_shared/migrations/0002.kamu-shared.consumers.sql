-- Consumers: which events each group has applied (exactly-once effects), and what it parked.

CREATE TABLE kamu_processed_events (
    consumer_group text NOT NULL,
    source         text NOT NULL,
    event_id       uuid NOT NULL,
    processed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, source, event_id)
);

-- A parked message stays here (and in the dead-letter topic) until replayed; later messages of
-- the same subject (aggregate) are parked behind it so each aggregate's order holds.
CREATE TABLE kamu_parked_messages (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    consumer_group text NOT NULL,
    topic          text NOT NULL,
    partition      integer NOT NULL,
    "offset"       bigint NOT NULL,
    subject        text,
    event_id       text,
    event_type     text,
    error          text NOT NULL,
    attempts       integer NOT NULL,
    key            bytea,
    value          bytea,
    headers        jsonb NOT NULL,
    parked_at      timestamptz NOT NULL DEFAULT now(),
    status         text NOT NULL DEFAULT 'parked' CHECK (status IN ('parked', 'replayed', 'discarded')),
    replayed_at    timestamptz,
    UNIQUE (consumer_group, topic, partition, "offset")
);

CREATE INDEX kamu_parked_by_subject ON kamu_parked_messages (consumer_group, subject, id)
    WHERE status = 'parked';
