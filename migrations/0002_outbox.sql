-- The persistent outbox of channel posts, and per-channel state (paused after a 403).
BEGIN;
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    article_id  INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    chat_id     TEXT    NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'unknown', 'skipped')),
    message_id  INTEGER,
    sent_text   TEXT,
    needs_edit  INTEGER NOT NULL DEFAULT 0 CHECK (needs_edit IN (0, 1)),
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    queued_at   INTEGER NOT NULL,
    sent_at     INTEGER,
    latency_ms  INTEGER,
    UNIQUE (article_id, chat_id)
);
CREATE INDEX outbox_pending ON outbox (state, chat_id, id) WHERE state IN ('queued', 'sending');
CREATE INDEX outbox_edits ON outbox (needs_edit) WHERE needs_edit = 1;
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE state = 'sent';

CREATE TABLE channels (
    chat_id       TEXT PRIMARY KEY,
    paused        INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    paused_reason TEXT,
    paused_at     INTEGER,
    notified      INTEGER NOT NULL DEFAULT 0 CHECK (notified IN (0, 1))
);
PRAGMA user_version = 2;
COMMIT;
