"""Adapters: SQLite storage, the HTTP fetcher, the Telegram sender and the local Bot API stand-in."""
