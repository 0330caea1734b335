-- Feeds, articles and full-text search. Times are integer Unix seconds (UTC).
BEGIN;
CREATE TABLE feeds (
    id              INTEGER PRIMARY KEY,
    url             TEXT    NOT NULL UNIQUE,
    title           TEXT,
    site_url        TEXT,
    enabled         INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    etag            TEXT,
    last_modified   TEXT,
    last_fetched_at INTEGER,
    next_fetch_at   INTEGER NOT NULL DEFAULT 0,
    error_count     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    synced          INTEGER NOT NULL DEFAULT 0 CHECK (synced IN (0, 1)),
    added_at        INTEGER NOT NULL
);

CREATE TABLE articles (
    id            INTEGER PRIMARY KEY,
    feed_id       INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    guid          TEXT    NOT NULL,
    url           TEXT    NOT NULL UNIQUE,
    headline      TEXT    NOT NULL,
    dek           TEXT    NOT NULL DEFAULT '',
    published_at  INTEGER NOT NULL,
    first_seen_at INTEGER NOT NULL,
    updated_at    INTEGER,
    categories    TEXT    NOT NULL DEFAULT '[]',
    image         TEXT,
    source        TEXT    NOT NULL DEFAULT '',
    UNIQUE (feed_id, guid)
);
CREATE INDEX articles_by_published ON articles (published_at DESC, id DESC);

CREATE VIRTUAL TABLE articles_fts USING fts5 (
    headline, dek, content = 'articles', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, headline, dek) VALUES (new.id, new.headline, new.dek);
END;
CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, headline, dek) VALUES ('delete', old.id, old.headline, old.dek);
END;
CREATE TRIGGER articles_fts_update AFTER UPDATE OF headline, dek ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, headline, dek) VALUES ('delete', old.id, old.headline, old.dek);
    INSERT INTO articles_fts (rowid, headline, dek) VALUES (new.id, new.headline, new.dek);
END;
PRAGMA user_version = 1;
COMMIT;
