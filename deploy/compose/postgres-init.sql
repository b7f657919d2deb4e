-- One database per service; no service reads another's.
-- The postgres image runs this once, when its data volume is empty
-- (`docker compose -f deploy/compose.yaml down -v` to start over). A volume made before a
-- service was added lacks its database: create it, e.g. for insights
--   docker compose -f deploy/compose.yaml exec postgres createdb -U postgres kamu_insights
CREATE DATABASE kamu_pairing;
CREATE DATABASE kamu_meetings;
CREATE DATABASE kamu_goals;
CREATE DATABASE kamu_notifications;
CREATE DATABASE kamu_insights;
