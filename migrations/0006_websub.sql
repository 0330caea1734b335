-- WebSub: the hub and topic each feed advertises (written by ingest on every full read), and the bot's
-- subscriptions (written by the bot's WebSub service only). Times are integer Unix seconds (UTC).
-- A subscription outlives its feed (feed_id set NULL) until the hub has confirmed the unsubscribe.
BEGIN;
ALTER TABLE feeds ADD COLUMN websub_hub TEXT;
ALTER TABLE feeds ADD COLUMN websub_topic TEXT;

CREATE TABLE websub (
    id             INTEGER PRIMARY KEY,
    feed_id        INTEGER REFERENCES feeds (id) ON DELETE SET NULL,
    hub            TEXT    NOT NULL,
    topic          TEXT    NOT NULL,
    callback       TEXT    NOT NULL,
    token          TEXT    NOT NULL UNIQUE,
    secret         TEXT    NOT NULL,
    state          TEXT    NOT NULL
                   CHECK (state IN ('requested', 'verified', 'denied', 'failed', 'unsubscribing')),
    lease_seconds  INTEGER,
    expires_at     INTEGER,
    next_action_at INTEGER NOT NULL DEFAULT 0,
    attempts       INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT,
    verified_at    INTEGER,
    last_push_at   INTEGER,
    created_at     INTEGER NOT NULL
);
CREATE UNIQUE INDEX websub_live_by_feed ON websub (feed_id) WHERE state != 'unsubscribing';
PRAGMA user_version = 6;
COMMIT;
