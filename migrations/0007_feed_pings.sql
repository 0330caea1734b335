-- Update pings: when a ping last had the bot read each feed (Unix seconds, UTC; NULL = never pinged).
BEGIN;
ALTER TABLE feeds ADD COLUMN pinged_at INTEGER;
PRAGMA user_version = 7;
COMMIT;
