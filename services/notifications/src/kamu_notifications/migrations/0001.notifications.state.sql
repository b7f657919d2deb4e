-- The notifications service's tables.
--
-- Learned from other services' topics by the consumers (kamu_notifications.reactions):
--   notifications_people (contact details, locale, zone), notifications_meetings (for
--   reminders and invite sequences).
-- Kept from this service's own preferences events in the command's transaction
-- (kamu_notifications.preferences.state): notifications_preferences.
-- The delivery ledger (what to deliver to whom, on which channel, and how it went):
--   notifications_notifications, notifications_deliveries, notifications_attempts,
--   notifications_inbox. Written by the consumers (planning) and the dispatcher; its
--   outcomes are published as notification-sent, -failed and -suppressed.

CREATE TABLE notifications_people (
    person_id      text PRIMARY KEY,
    display_name   text NOT NULL,
    email          text NOT NULL,
    locale         text,
    time_zone      text,
    slack_user_id  text,
    teams_user_id  text,
    left_at        timestamptz,
    updated_at     timestamptz NOT NULL
);

CREATE TABLE notifications_meetings (
    meeting_id        text PRIMARY KEY,
    pairing_id        text NOT NULL,
    colleague_id      text NOT NULL,
    kamu_id           text NOT NULL,
    status            text NOT NULL CHECK (status IN ('scheduled', 'cancelled', 'held')),
    starts_at         timestamptz NOT NULL,
    time_zone         text NOT NULL,
    duration_minutes  integer NOT NULL,
    location          text,
    sequence          integer NOT NULL DEFAULT 0,
    -- The start a reminder was planned for: a reschedule makes the meeting due again.
    reminded_for      timestamptz,
    updated_at        timestamptz NOT NULL
);
CREATE INDEX notifications_meetings_upcoming ON notifications_meetings (starts_at)
    WHERE status = 'scheduled';

CREATE TABLE notifications_preferences (
    person_id      text PRIMARY KEY,
    email          boolean NOT NULL,
    slack          boolean NOT NULL,
    teams          boolean NOT NULL,
    webhook        boolean NOT NULL,
    inapp          boolean NOT NULL,
    quiet_start    time,
    quiet_end      time,
    webhook_url    text,
    digest         text NOT NULL CHECK (digest IN ('off', 'daily')),
    digest_at      time NOT NULL,
    updated_at     timestamptz NOT NULL,
    version        integer NOT NULL
);

-- One notification per (cause, recipient): its id is derived from both, so a redelivered
-- event plans the same id and nothing twice.
CREATE TABLE notifications_notifications (
    notification_id  uuid PRIMARY KEY,
    recipient_id     text NOT NULL,
    kind             text NOT NULL,
    cause_source     text NOT NULL,
    cause_id         text NOT NULL,
    cause_type       text NOT NULL,
    correlation_id   text,
    params           jsonb NOT NULL,
    digestible       boolean NOT NULL,
    -- why it should no longer go out, if it has not yet (the pairing ended, the meeting was
    -- cancelled, the goal was reviewed): set by the consumers, acted on by the dispatcher
    withdrawn        text,
    created_at       timestamptz NOT NULL
);
CREATE INDEX notifications_notifications_recipient
    ON notifications_notifications (recipient_id, created_at DESC);

-- At most one delivery per (notification, channel): the key of the guarantee.
CREATE TABLE notifications_deliveries (
    notification_id  uuid NOT NULL REFERENCES notifications_notifications,
    channel          text NOT NULL CHECK (channel IN ('email', 'slack', 'teams', 'webhook', 'inapp')),
    recipient_id     text NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed',
                                                      'suppressed', 'fallback')),
    endpoint         text NOT NULL,   -- where it goes (smtp, slack, teams, a webhook host)
    thread           text,            -- messages of one thread (a meeting) go in order:
    thread_seq       bigint,          -- the causing event's sequence in its stream
    due_at           timestamptz NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    claim            uuid,            -- the dispatcher holding it while 'sending'
    claimed_until    timestamptz,
    deferred_by      text,            -- 'quiet-hours' or 'digest' while held back
    digest_id        uuid,            -- the digest message it went out in
    detail           text,            -- why it failed, was suppressed or fell back
    created_at       timestamptz NOT NULL,
    finished_at      timestamptz,
    PRIMARY KEY (notification_id, channel)
);
CREATE INDEX notifications_deliveries_due ON notifications_deliveries (due_at)
    WHERE status = 'pending';
CREATE INDEX notifications_deliveries_thread
    ON notifications_deliveries (recipient_id, channel, thread, created_at)
    WHERE thread IS NOT NULL AND status IN ('pending', 'sending');
CREATE INDEX notifications_deliveries_claimed ON notifications_deliveries (claimed_until)
    WHERE status = 'sending';

CREATE TABLE notifications_attempts (
    notification_id  uuid NOT NULL,
    channel          text NOT NULL,
    attempt          integer NOT NULL,
    at               timestamptz NOT NULL,
    outcome          text NOT NULL,   -- sent, retry, failed, deferred, fallback
    detail           text,
    PRIMARY KEY (notification_id, channel, attempt, outcome, at)
);

-- The in-app inbox: what was put there, and when it was read. Its words are rendered when
-- read, from the notification's kind and parameters, in the reader's current locale.
CREATE TABLE notifications_inbox (
    notification_id  uuid PRIMARY KEY REFERENCES notifications_notifications,
    person_id        text NOT NULL,
    created_at       timestamptz NOT NULL,
    read_at          timestamptz
);
CREATE INDEX notifications_inbox_person ON notifications_inbox (person_id, created_at DESC,
                                                                notification_id DESC);
