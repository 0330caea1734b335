-- Adaptive polling: each feed's publishing pace and the interval the schedule chose from it.
-- pace_gap: estimated mean seconds between the feed's entries (NULL = not known yet); pace_last: Unix seconds
-- of the newest entry counted; poll_interval: seconds between reads as last chosen (NULL = not chosen yet,
-- which counts as POLL_INTERVAL_SECONDS).
BEGIN;
ALTER TABLE feeds ADD COLUMN pace_gap REAL;
ALTER TABLE feeds ADD COLUMN pace_last INTEGER;
ALTER TABLE feeds ADD COLUMN poll_interval REAL;
PRAGMA user_version = 5;
COMMIT;
