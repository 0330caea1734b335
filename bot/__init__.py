"""newsbot: a Telegram news-channel bot that reads news sites' feeds and posts each new article."""

import os

__version__ = "0.1.0"

# python-telegram-bot 22 returns `RetryAfter.retry_after` as a timedelta only with this opt-in, and
# emits a deprecation warning on every 429 without it. Opt in for the whole process.
os.environ.setdefault("PTB_TIMEDELTA", "true")
