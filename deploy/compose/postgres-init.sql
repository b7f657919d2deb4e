-- One database per service; no service reads another's.
-- The postgres image runs this once, when its data volume is empty
-- (`docker compose -f deploy/compose.yaml down -v` to start over).
CREATE DATABASE kamu_pairing;
CREATE DATABASE kamu_meetings;
CREATE DATABASE kamu_goals;
CREATE DATABASE kamu_notifications;
