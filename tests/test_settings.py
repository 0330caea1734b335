"""Settings load from env and .env; each bad value is one clear line naming the setting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.errors import ConfigError
from bot.settings import Settings, load_settings

ALL = [field.alias for field in Settings.model_fields.values() if field.alias]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ALL:
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    s = load_settings(None)
    assert s.telegram_api_url == "https://api.telegram.org"
    assert s.database_path == Path("newsbot.db")
    assert s.poll_interval_seconds == 120
    assert s.admin_ids == []
    assert s.feeds == []
    assert s.token is None


def test_env_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", "11, 22,33")
    monkeypatch.setenv("FEEDS", "https://a.example/feed, https://b.example/rss")
    monkeypatch.setenv("CHANNEL_ID", "-1001234567890")
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:8081/")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    s = load_settings(None)
    assert s.admin_ids == [11, 22, 33]
    assert s.feeds == ["https://a.example/feed", "https://b.example/rss"]
    assert s.channel_id == "-1001234567890"
    assert s.telegram_api_url == "http://127.0.0.1:8081"
    assert s.log_level == "DEBUG"


def test_dotenv_file(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("BOT_TOKEN=123:abc\nCHANNEL_ID=@mynews\nPOLL_INTERVAL_SECONDS=60\n")
    s = load_settings(env)
    assert s.token == "123:abc"
    assert s.channel_id == "@mynews"
    assert s.poll_interval_seconds == 60
    assert "123:abc" not in repr(s)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("POLL_INTERVAL_SECONDS", "soon"),
        ("POLL_INTERVAL_SECONDS", "1"),
        ("ADMIN_IDS", "12,bob"),
        ("CHANNEL_ID", "my channel"),
        ("FEEDS", "ftp://x.example/feed"),
        ("TELEGRAM_API_URL", "api.telegram.org"),
        ("LOG_LEVEL", "LOUD"),
        ("LOG_FORMAT", "xml"),
        ("LINK_PREVIEW", "huge"),
        ("POST_BUTTONS", "all"),
        ("DEFAULT_LANGUAGE", "xx"),
        ("POSTS_PER_MINUTE", "100"),
        ("POLL_SCHEDULE", "sometimes"),
        ("MIN_POLL_INTERVAL_SECONDS", "5"),
        ("MAX_POLL_INTERVAL_SECONDS", "30"),  # below the default minimum, 60
        ("HTTP_LISTEN", "8081"),
        ("HTTP_LISTEN", "127.0.0.1:http"),
        ("HTTP_LISTEN", "0.0.0.0:70000"),
        ("PUBLIC_URL", "news.example.com/bot"),
        ("PUBLIC_URL", "ftp://news.example.com/"),
        ("PUBLIC_URL", "https://news.example.com/?a=1"),
        ("REVIEW", "maybe"),
        ("REVIEW_CHAT_ID", "@editors"),
        ("REVIEW_EXPIRY_HOURS", "0"),
        ("TIMEZONE", "Mars/Olympus"),
        ("TIMEZONE", "../../etc/passwd"),
        ("DIGEST_TIMES", "8am,6pm"),
        ("DIGEST_TIMES", "08:00;18:00"),
        ("DIGEST_SIZE", "0"),
        ("QUIET_HOURS", "23:00"),
        ("QUIET_HOURS", "07:00-07:00"),
        ("QUIET_MODE", "mute"),
        ("PIN_HOURS", "-1"),
        ("TIPS_PER_HOUR", "-3"),
        ("BACKUP_KEEP", "0"),
        ("TELEGRAM_MODE", "push"),
        ("WEBHOOK_SECRET", "has spaces in it"),
        ("WEBHOOK_SECRET", "x" * 257),
    ],
)
def test_bad_values_name_the_setting(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings(None)
    message = str(info.value)
    assert message.startswith(f"invalid setting {name}:")
    assert "\n" not in message


def test_poll_schedule_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings(None)
    assert (s.poll_schedule, s.min_poll_interval_seconds, s.max_poll_interval_seconds) == (
        "adaptive",
        60,
        3600,
    )
    monkeypatch.setenv("POLL_SCHEDULE", " Fixed ")
    monkeypatch.setenv("MIN_POLL_INTERVAL_SECONDS", "10")
    monkeypatch.setenv("MAX_POLL_INTERVAL_SECONDS", "10")
    s = load_settings(None)
    assert (s.poll_schedule, s.min_poll_interval_seconds, s.max_poll_interval_seconds) == ("fixed", 10, 10)
    monkeypatch.setenv("MIN_POLL_INTERVAL_SECONDS", "600")
    monkeypatch.setenv("MAX_POLL_INTERVAL_SECONDS", "300")
    with pytest.raises(ConfigError) as info:
        load_settings(None)
    assert str(info.value) == (
        "invalid setting MAX_POLL_INTERVAL_SECONDS: must be at least MIN_POLL_INTERVAL_SECONDS (600)"
    )


def test_cli_bad_setting_is_one_line_no_traceback(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "POLL_INTERVAL_SECONDS": "abc", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "newsbot: error: invalid setting POLL_INTERVAL_SECONDS: "
        "Input should be a valid integer, unable to parse string as an integer"
    ]


def test_run_without_token_points_to_sandbox(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DATABASE_PATH": str(tmp_path / "x.db")}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "BOT_TOKEN is not set" in proc.stderr
    assert "sandbox" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_every_setting_is_documented() -> None:
    root = Path(__file__).resolve().parents[1]
    example = (root / ".env.example").read_text()
    readme = (root / "README.md").read_text()
    for field in Settings.model_fields.values():
        name = field.alias
        assert name, "every setting has an UPPER_SNAKE alias"
        assert f"{name}=" in example, f"{name} missing from .env.example"
        assert f"`{name}`" in readme, f"{name} missing from README.md"


def test_http_settings_are_read_and_tidied() -> None:
    settings = load_settings(None, HTTP_LISTEN=" [::1]:0 ", PUBLIC_URL="https://news.example.com/bot/")
    assert (settings.http_listen, settings.public_url) == ("[::1]:0", "https://news.example.com/bot")
    off = load_settings(None, HTTP_LISTEN="", PUBLIC_URL="")
    assert (off.http_listen, off.public_url) == (None, None)
