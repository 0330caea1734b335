"""Shared pytest setup: python-telegram-bot's timedelta opt-in before anything imports telegram."""

import os

os.environ.setdefault("PTB_TIMEDELTA", "true")
