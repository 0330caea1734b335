"""The status numbers and text shared by `newsbot stats` and the admin /status: percentiles, wording, CLI."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.db import Database
from bot.adapters.repo_outbox import OutboxRepo
from bot.core.errors import StorageError
from bot.core.status import (
    PausedChannel,
    PublishStats,
    StatusSnapshot,
    UnknownPost,
    format_ms,
    percentile,
    status_text,
)
from bot.edges.cli_stats import cmd_stats
from bot.settings import load_settings
from tests.kits.outboxkit import article, send_head, store

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_percentile_and_durations() -> None:
    assert percentile([], 50) is None
    assert percentile([7], 99) == 7
    assert percentile(list(range(1, 101)), 50) == 50
    assert percentile(list(range(1, 101)), 99) == 99
    assert percentile([5, 1, 3], 50) == 3
    assert [format_ms(v) for v in (None, 850, 2400, 190_000, 7_500_000)] == [
        "—",
        "850 ms",
        "2.4 s",
        "3m 10s",
        "2h 05m",
    ]


def test_status_text_shows_what_an_admin_needs() -> None:

    publish = PublishStats(
        counts={"sent": 40, "queued": 2, "unknown": 1, "failed": 1},
        latency_p50_ms=1200,
        latency_p99_ms=4100,
        latency_samples=40,
        paused_channels=(PausedChannel("-100123", "Forbidden: bot was kicked", NOW - timedelta(hours=2)),),
        unknown=(UnknownPost(9, "-100123", "A headline", "https://news.example/9"),),
        last_error="chat -100123: Forbidden: bot was kicked",
        last_error_at=NOW - timedelta(minutes=3),
    )
    snapshot = StatusSnapshot(feeds=3, feeds_enabled=2, feeds_failing=1, articles=120, publish=publish)
    text = status_text(snapshot, NOW)
    assert text.splitlines()[:3] == [
        "Feeds: 3 (2 enabled, 1 failing)",
        "Articles stored: 120",
        "Outbox: queued 2 · sent 40 · failed 1 · unknown 1",
    ]
    assert "Publish latency (last 40): p50 1.2 s, p99 4.1 s" in text
    assert "Channel -100123 paused 2h ago: Forbidden: bot was kicked" in text
    assert "#9 -100123: A headline https://news.example/9" in text
    assert "Last error (3m ago): chat -100123: Forbidden: bot was kicked" in text


async def test_newsbot_stats_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "newsbot.db"
    settings = load_settings(None, DATABASE_PATH=str(path))
    with pytest.raises(StorageError, match="no database at"):
        await cmd_stats(settings, argparse.Namespace(json=False))
    async with Database(path) as database:
        await store(database, [article(1), article(2)])
        repo = OutboxRepo(database)
        await send_head(repo, 1, NOW)
        head = (await repo.due_heads(NOW))[0]
        assert await repo.claim(head.id)
        await repo.recover_in_flight(resend=False, now=NOW)
    assert await cmd_stats(settings, argparse.Namespace(json=False)) == 0
    out = capsys.readouterr().out
    assert "Feeds: 1 (1 enabled)" in out
    assert "Articles stored: 2" in out
    assert "Outbox: sent 1 · unknown 1" in out
    assert "Publish latency (last 1): p50" in out
    assert "https://news.example/story/2" in out
    assert await cmd_stats(settings, argparse.Namespace(json=True)) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["publish"]["counts"] == {"sent": 1, "unknown": 1}
    assert data["publish"]["unknown"][0]["url"] == "https://news.example/story/2"
