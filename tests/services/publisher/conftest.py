"""Fixtures shared by the publisher tests: a local Bot API with the test channel, and settings for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.botapi import LocalBotAPI
from bot.settings import Settings
from tests.kits.outboxkit import channel_api, settings_for


@pytest.fixture
async def api() -> AsyncIterator[LocalBotAPI]:
    async with channel_api() as server:
        yield server


@pytest.fixture
def settings(api: LocalBotAPI, tmp_path: Path) -> Settings:
    return settings_for(api, tmp_path / "newsbot.db")
