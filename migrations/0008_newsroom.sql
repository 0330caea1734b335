-- Newsroom control: the review queue, breaking news and pins, digests, daily reader digests, reader tips,
-- blocked users and the audit log. Times are integer Unix seconds (UTC) unless named *_ms.
BEGIN;

-- Outbox rows waiting for an editor (review = 1) are never due; a decision clears the flag or skips the
-- row. `breaking` rows go to the head of their chat's queue and always notify; `silent` rows never do.
-- An editor's headline/dek (from the review's Edit) replaces the article's in this post only.
ALTER TABLE outbox ADD COLUMN review INTEGER NOT NULL DEFAULT 0 CHECK (review IN (0, 1));
ALTER TABLE outbox ADD COLUMN breaking INTEGER NOT NULL DEFAULT 0 CHECK (breaking IN (0, 1));
ALTER TABLE outbox ADD COLUMN silent INTEGER NOT NULL DEFAULT 0 CHECK (silent IN (0, 1));
ALTER TABLE outbox ADD COLUMN headline_edit TEXT;
ALTER TABLE outbox ADD COLUMN dek_edit TEXT;
CREATE INDEX outbox_in_review ON outbox (article_id) WHERE review = 1;
CREATE INDEX outbox_heads ON outbox (chat_id, breaking DESC, id) WHERE state = 'queued' AND review = 0;

-- Per-feed review switch: NULL follows the bot-wide one (REVIEW, or /review on|off in bot_state).
ALTER TABLE feeds ADD COLUMN review INTEGER CHECK (review IN (0, 1));

-- One review per article that went to the editors. state: pending, then the first decision wins.
CREATE TABLE reviews (
    article_id      INTEGER PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    state           TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'post', 'silent', 'breaking', 'skip', 'expired')),
    created_at      INTEGER NOT NULL,
    decided_at      INTEGER,
    decided_by      INTEGER,
    decided_by_name TEXT,
    headline        TEXT,    -- the editor's edit, NULL = the article's own
    dek             TEXT,
    announced       INTEGER NOT NULL DEFAULT 0 CHECK (announced IN (0, 1)),  -- previews sent
    outcome_shown   INTEGER NOT NULL DEFAULT 0 CHECK (outcome_shown IN (0, 1))  -- buttons replaced
);
CREATE INDEX reviews_pending ON reviews (created_at) WHERE state = 'pending';

-- The preview messages of a review (one in the editors' group, or one per admin's private chat), and
-- the bot's "reply with the new headline" prompts awaiting an editor's answer.
CREATE TABLE review_messages (
    chat_id    TEXT    NOT NULL,
    message_id INTEGER NOT NULL,
    article_id INTEGER NOT NULL REFERENCES reviews (article_id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL DEFAULT 'preview' CHECK (kind IN ('preview', 'prompt')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (chat_id, message_id)
);
CREATE INDEX review_messages_by_article ON review_messages (article_id);

-- Breaking posts pinned in a chat, unpinned after PIN_HOURS or when the next breaking story is pinned.
CREATE TABLE pins (
    chat_id     TEXT    NOT NULL,
    message_id  INTEGER NOT NULL,
    pinned_at   INTEGER NOT NULL,
    unpinned_at INTEGER,
    PRIMARY KEY (chat_id, message_id)
);
CREATE INDEX pins_live ON pins (pinned_at) WHERE unpinned_at IS NULL;

-- Digest slots: a row is claimed before the digest is sent, so a slot is posted at most once, ever.
-- kind 'channel' = the channel's briefing (key = chat id); 'daily' = a reader's daily digest (key = user id).
CREATE TABLE digests (
    kind       TEXT    NOT NULL CHECK (kind IN ('channel', 'daily')),
    target     TEXT    NOT NULL,
    slot       TEXT    NOT NULL,  -- the slot's local date and time, e.g. 2026-12-03T08:00
    state      TEXT    NOT NULL CHECK (state IN ('sending', 'sent', 'empty', 'missed', 'failed')),
    since_at   INTEGER NOT NULL,  -- stories first seen after this went in
    created_at INTEGER NOT NULL,
    sent_at    INTEGER,
    message_id INTEGER,
    stories    INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    PRIMARY KEY (kind, target, slot)
) WITHOUT ROWID;
-- A digest's stories are the articles first seen since the previous one.
CREATE INDEX articles_first_seen ON articles (first_seen_at);

-- Readers may take a topic once a day instead of one message per story.
ALTER TABLE subscriptions ADD COLUMN mode TEXT NOT NULL DEFAULT 'each' CHECK (mode IN ('each', 'daily'));

-- Reader tips and where they were shown to the editors (replies there go back to the reader).
CREATE TABLE tips (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    user_name  TEXT    NOT NULL,
    text       TEXT    NOT NULL,
    photo      TEXT,               -- Telegram file_id of an attached photo
    created_at INTEGER NOT NULL
);
CREATE INDEX tips_by_user ON tips (user_id, created_at);
CREATE TABLE tip_messages (
    chat_id    TEXT    NOT NULL,
    message_id INTEGER NOT NULL,
    tip_id     INTEGER NOT NULL REFERENCES tips (id) ON DELETE CASCADE,
    PRIMARY KEY (chat_id, message_id)
);

-- Readers blocked by an admin from tips and commands.
CREATE TABLE blocked_users (
    user_id    INTEGER PRIMARY KEY,
    blocked_by INTEGER NOT NULL,
    reason     TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);

-- Every admin change: who (Telegram user id, or NULL with actor "shell"), what and when.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    actor_id INTEGER,
    actor    TEXT    NOT NULL,
    action   TEXT    NOT NULL,
    detail   TEXT    NOT NULL DEFAULT ''
);

PRAGMA user_version = 8;
COMMIT;
