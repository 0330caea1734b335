-- Publish latency in milliseconds and the time of each post's last error.
-- queued_ms is the wall clock (ms) when the row was queued, in the same transaction that stored the article;
-- the publisher records latency_ms = the database's clock at acceptance − queued_ms.
BEGIN;
ALTER TABLE outbox ADD COLUMN queued_ms INTEGER;
ALTER TABLE outbox ADD COLUMN last_error_at INTEGER;
CREATE TRIGGER outbox_queued_ms AFTER INSERT ON outbox WHEN new.queued_ms IS NULL BEGIN
    UPDATE outbox SET queued_ms = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) WHERE id = new.id;
END;
CREATE INDEX outbox_by_error ON outbox (last_error_at) WHERE last_error_at IS NOT NULL;
PRAGMA user_version = 4;
COMMIT;
