-- Topics (keyword and category rules), article tagging, reader subscriptions and bot-wide state.
BEGIN;
CREATE TABLE topics (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    description TEXT NOT NULL DEFAULT '',
    keywords    TEXT NOT NULL DEFAULT '[]',
    categories  TEXT NOT NULL DEFAULT '[]',
    channel_id  TEXT,
    created_at  INTEGER NOT NULL
);

CREATE TABLE article_topics (
    topic_id   INTEGER NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    published_at INTEGER NOT NULL,
    PRIMARY KEY (topic_id, article_id)
) WITHOUT ROWID;
CREATE INDEX article_topics_by_time ON article_topics (topic_id, published_at DESC, article_id DESC);
CREATE INDEX article_topics_by_article ON article_topics (article_id);

CREATE TABLE subscriptions (
    user_id    INTEGER NOT NULL,
    topic_id   INTEGER NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, topic_id)
) WITHOUT ROWID;
CREATE INDEX subscriptions_by_topic ON subscriptions (topic_id);

-- Direct messages to subscribers, paced like the channel outbox.
CREATE TABLE dm_outbox (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    state      TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
    queued_at  INTEGER NOT NULL,
    sent_at    INTEGER,
    last_error TEXT,
    UNIQUE (user_id, article_id)
);
CREATE INDEX dm_outbox_pending ON dm_outbox (state, id) WHERE state = 'queued';

CREATE TABLE bot_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
PRAGMA user_version = 3;
COMMIT;
