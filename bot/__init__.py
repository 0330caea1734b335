"""newsbot: a Telegram news-channel bot that reads news sites' feeds and posts each new article."""

__version__ = "0.1.0"
