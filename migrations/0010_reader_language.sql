-- The language a reader's Telegram app was in when they last followed a topic in private: their daily
-- digest (a message they did not ask for just then) is written in it.
BEGIN;
CREATE TABLE reader_languages (
    user_id    INTEGER PRIMARY KEY,
    language   TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
PRAGMA user_version = 10;
COMMIT;
