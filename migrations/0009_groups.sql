-- Group chats the bot was added to, and the topics each group follows (its admins chose them). A group's
-- new articles are queued in `outbox` under the group's chat id, paced and corrected like channel posts.
BEGIN;
CREATE TABLE group_chats (
    chat_id    INTEGER PRIMARY KEY,
    title      TEXT NOT NULL DEFAULT '',
    state      TEXT NOT NULL DEFAULT 'member' CHECK (state IN ('member', 'left')),
    joined_at  INTEGER NOT NULL,
    left_at    INTEGER,
    left_reason TEXT
);

CREATE TABLE group_subscriptions (
    chat_id    INTEGER NOT NULL REFERENCES group_chats (chat_id) ON DELETE CASCADE ON UPDATE CASCADE,
    topic_id   INTEGER NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    created_by INTEGER,
    PRIMARY KEY (chat_id, topic_id)
) WITHOUT ROWID;
CREATE INDEX group_subscriptions_by_topic ON group_subscriptions (topic_id);

PRAGMA user_version = 9;
COMMIT;
