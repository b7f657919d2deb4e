-- Idempotency-Key answers: a retried POST gets its first answer back (kamu_shared.web.idempotency).
-- Rows are written after the command's own writes, in the same transaction. Rows older than the
-- retention period may be purged (purge_older_than); created_at is indexed for that.

CREATE TABLE kamu_idempotency_keys (
    principal           text NOT NULL,
    key                 text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    method              text NOT NULL,
    path                text NOT NULL,
    request_fingerprint text NOT NULL,
    status_code         smallint NOT NULL CHECK (status_code BETWEEN 100 AND 599),
    response_body       jsonb,
    response_headers    jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);

CREATE INDEX kamu_idempotency_keys_created_at ON kamu_idempotency_keys (created_at);
