-- Pairings of one colleague arrive in any order (different keys): remember which ended, so a
-- late pairing-created of an ended pairing never makes its Kamu current again.
CREATE TABLE goals_ended_pairings (
    pairing_id  text PRIMARY KEY,
    ended_at    timestamptz NOT NULL
);
