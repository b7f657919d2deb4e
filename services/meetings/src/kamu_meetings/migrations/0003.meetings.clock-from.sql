-- When the cadence clock of a pairing starts: when pairing recorded it, even if it began
-- earlier (a programme's history moved in with began_at). Its past meetings are then logged
-- without the pairing counting as overdue meanwhile; NULL (older rows): from paired_at.
ALTER TABLE meetings_pairings ADD COLUMN clock_from timestamptz;
