"""Settings from the environment and `.env` (pydantic-settings); a bad value is one clear ConfigError."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core.daytime import QuietWindow, load_zone, parse_quiet_hours, parse_times
from bot.core.errors import ConfigError
from bot.core.i18n import LOCALES
from bot.core.render import validate_template

_CHANNEL_RE = re.compile(r"^(@[A-Za-z][A-Za-z0-9_]{3,31}|-100\d{5,15}|-?\d{1,15})$")

DEFAULT_TEMPLATE = '<b>{headline}</b>\n\n{dek}\n\n<a href="{url}">Read more at {source}</a>'


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every setting newsbot reads. Names are part of the public interface: keep them."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = Field(default=None, alias="BOT_TOKEN")
    telegram_api_url: str = Field(default="https://api.telegram.org", alias="TELEGRAM_API_URL")
    channel_id: str | None = Field(default=None, alias="CHANNEL_ID")
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list, alias="ADMIN_IDS")
    database_path: Path = Field(default=Path("newsbot.db"), alias="DATABASE_PATH")
    feeds: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="FEEDS")
    poll_interval_seconds: int = Field(default=120, ge=10, le=86_400, alias="POLL_INTERVAL_SECONDS")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", alias="LOG_LEVEL")
    log_format: Literal["console", "json"] | None = Field(default=None, alias="LOG_FORMAT")

    # ingest
    backfill_max_posts: int = Field(default=3, ge=0, le=100, alias="BACKFILL_MAX_POSTS")
    backfill_max_age_hours: float = Field(default=24, ge=0, alias="BACKFILL_MAX_AGE_HOURS")
    max_post_age_hours: float = Field(default=48, gt=0, alias="MAX_POST_AGE_HOURS")
    fetch_timeout_seconds: float = Field(default=20, gt=0, le=300, alias="FETCH_TIMEOUT_SECONDS")
    max_feed_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, alias="MAX_FEED_BYTES")
    fetch_concurrency: int = Field(default=16, ge=1, le=256, alias="FETCH_CONCURRENCY")
    per_host_concurrency: int = Field(default=4, ge=1, le=64, alias="PER_HOST_CONCURRENCY")
    # processes parsing feeds off the event loop; 0 = one per CPU
    parse_workers: int = Field(default=0, ge=0, le=64, alias="PARSE_WORKERS")
    # the parse workers stop after this long without work (started again by the next cycle); 0 = kept
    parse_idle_seconds: int = Field(default=60, ge=0, le=86_400, alias="PARSE_IDLE_SECONDS")
    # adaptive: each feed read at its own pace between MIN and MAX, within the fixed schedule's requests
    poll_schedule: Literal["adaptive", "fixed"] = Field(default="adaptive", alias="POLL_SCHEDULE")
    min_poll_interval_seconds: int = Field(default=60, ge=10, le=86_400, alias="MIN_POLL_INTERVAL_SECONDS")
    max_poll_interval_seconds: int = Field(
        default=3600, ge=10, le=7 * 86_400, alias="MAX_POLL_INTERVAL_SECONDS"
    )

    # publishing
    post_template: str = Field(default=DEFAULT_TEMPLATE, alias="POST_TEMPLATE")
    link_preview: Literal["off", "small", "large"] = Field(default="large", alias="LINK_PREVIEW")
    # topic: a "Follow <topic>" URL button (the topic's deep link) under channel posts that have a topic
    post_buttons: Literal["off", "topic"] = Field(default="off", alias="POST_BUTTONS")
    disable_notification: bool = Field(default=False, alias="DISABLE_NOTIFICATION")
    posts_per_minute: int = Field(default=20, ge=1, le=20, alias="POSTS_PER_MINUTE")
    # a post whose send was in flight when the bot died: skip = not re-sent (shown to admins), resend = again
    inflight_policy: Literal["skip", "resend"] = Field(default="skip", alias="INFLIGHT_POLICY")
    send_timeout_seconds: float = Field(default=15, gt=0, le=120, alias="SEND_TIMEOUT_SECONDS")

    # the readers' language when Telegram gives none we ship (en, zh-hans, ms); see bot/core/i18n.py
    default_language: str = Field(default="en", alias="DEFAULT_LANGUAGE")
    # chat: per-user command limit, and subscription DMs (under Telegram's 30 messages/s in all)
    command_burst: int = Field(default=5, ge=1, le=1000, alias="COMMAND_BURST")
    command_period_seconds: float = Field(default=10, gt=0, le=3600, alias="COMMAND_PERIOD_SECONDS")
    dm_per_second: int = Field(default=20, ge=1, le=30, alias="DM_PER_SECOND")
    dm_max_age_hours: float = Field(default=24, gt=0, alias="DM_MAX_AGE_HOURS")
    # /addfeed from chat refuses loopback/private/link-local addresses unless this is true
    allow_private_feeds: bool = Field(default=False, alias="ALLOW_PRIVATE_FEEDS")

    # the bot's own HTTP server (update pings, WebSub callbacks): host:port, empty = off
    http_listen: str | None = Field(default=None, alias="HTTP_LISTEN")
    # where the outside world reaches that server (https behind a reverse proxy); needed for push
    public_url: str | None = Field(default=None, alias="PUBLIC_URL")
    # how updates arrive: long polling, or Telegram calling PUBLIC_URL/telegram (needs HTTP_LISTEN too)
    telegram_mode: Literal["polling", "webhook"] = Field(default="polling", alias="TELEGRAM_MODE")
    # the webhook's X-Telegram-Bot-Api-Secret-Token; empty = generated once and kept in the database
    webhook_secret: str | None = Field(default=None, alias="WEBHOOK_SECRET")

    # newsroom: review before posting, breaking news, digests, quiet hours, reader tips
    review: bool = Field(default=False, alias="REVIEW")  # on|off; admins switch it with /review
    review_chat_id: str | None = Field(default=None, alias="REVIEW_CHAT_ID")  # the editors' group
    review_expiry_hours: float = Field(default=6, gt=0, le=24 * 30, alias="REVIEW_EXPIRY_HOURS")
    breaking_categories: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["Breaking News", "Breaking"], alias="BREAKING_CATEGORIES"
    )
    breaking_prefix: str = Field(default="🔴 BREAKING", max_length=64, alias="BREAKING_PREFIX")
    pin_breaking: bool = Field(default=True, alias="PIN_BREAKING")
    pin_hours: float = Field(default=6, gt=0, le=24 * 30, alias="PIN_HOURS")
    timezone: str = Field(default="UTC", alias="TIMEZONE")
    digest_times: str = Field(default="", alias="DIGEST_TIMES")  # "08:00,18:00" in TIMEZONE; empty = off
    digest_size: int = Field(default=8, ge=1, le=30, alias="DIGEST_SIZE")
    digest_grace_minutes: int = Field(default=60, ge=0, le=24 * 60, alias="DIGEST_GRACE_MINUTES")
    quiet_hours: str = Field(default="", alias="QUIET_HOURS")  # "23:00-07:00" in TIMEZONE; empty = off
    quiet_mode: Literal["silent", "hold"] = Field(default="silent", alias="QUIET_MODE")
    tips_per_hour: int = Field(default=5, ge=0, le=1000, alias="TIPS_PER_HOUR")  # 0 = tips off

    # backups: a daily online copy of the database into BACKUP_DIR (empty = off), the newest BACKUP_KEEP kept
    backup_dir: Path | None = Field(default=None, alias="BACKUP_DIR")
    backup_keep: int = Field(default=7, ge=1, le=3650, alias="BACKUP_KEEP")

    # GET /healthz fails when Telegram has not answered for this long, or a post has waited this long
    health_telegram_seconds: int = Field(default=120, ge=1, le=86_400, alias="HEALTH_TELEGRAM_SECONDS")
    health_queue_seconds: int = Field(default=900, ge=1, le=7 * 86_400, alias="HEALTH_QUEUE_SECONDS")

    @field_validator("post_template")
    @classmethod
    def _template(cls, value: str) -> str:
        try:
            validate_template(value)
        except ConfigError as exc:
            raise ValueError(str(exc).removeprefix("POST_TEMPLATE: ")) from None
        return value

    @field_validator("inflight_policy", mode="before")
    @classmethod
    def _inflight(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("poll_schedule", mode="before")
    @classmethod
    def _poll_schedule(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("max_poll_interval_seconds")
    @classmethod
    def _poll_bounds(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("min_poll_interval_seconds")
        if low is not None and value < low:
            raise ValueError(f"must be at least MIN_POLL_INTERVAL_SECONDS ({low})")
        return value

    @field_validator("review", mode="before")
    @classmethod
    def _on_off(cls, value: object) -> object:
        if isinstance(value, str):
            word = value.strip().lower()
            if word in ("on", "off"):
                return word == "on"
            if word not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError("must be on or off")
        return value

    @field_validator("review_chat_id")
    @classmethod
    def _review_chat(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        value = value.strip()
        if not re.match(r"^-?\d{1,15}$", value):
            raise ValueError("must be the editors' group's numeric id, e.g. -1001234567890")
        return value

    @field_validator("breaking_categories", mode="before")
    @classmethod
    def _breaking(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        code = value.strip().lower().replace("_", "-")
        if code not in LOCALES:
            raise ValueError(f"{value!r} is not a language newsbot ships; use one of {', '.join(LOCALES)}")
        return code

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        load_zone(value)
        return value.strip()

    @field_validator("digest_times")
    @classmethod
    def _digest_times(cls, value: str) -> str:
        parse_times(value)
        return value.strip()

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value.strip()

    @field_validator("backup_dir", mode="before")
    @classmethod
    def _backup_dir(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("quiet_mode", mode="before")
    @classmethod
    def _quiet_mode(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _admins(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("feeds", mode="before")
    @classmethod
    def _feeds(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("feeds")
    @classmethod
    def _feed_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not re.match(r"^https?://[^\s/]+", url):
                raise ValueError(f"not an http(s) URL: {url!r}")
        return value

    @field_validator("post_template")
    @classmethod
    def _template_newlines(cls, value: str) -> str:
        # .env files and shells make real newlines awkward: accept a literal backslash-n too.
        return value.replace("\\n", "\n")

    @field_validator("channel_id")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        value = value.strip()
        if not _CHANNEL_RE.match(value):
            raise ValueError("must be @channelname or a numeric id like -1001234567890")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL such as https://api.telegram.org")
        return value.rstrip("/")

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _format(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower()
            return value or None
        return value

    @field_validator("http_listen")
    @classmethod
    def _listen(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parse_listen(value)
        return value.strip()

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.strip()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value.strip()

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("must be an absolute http(s) URL such as https://news.example.com/newsbot")
        return value.rstrip("/")

    @property
    def zone(self) -> ZoneInfo:
        return load_zone(self.timezone)

    @property
    def digest_slots(self) -> tuple[time, ...]:
        return parse_times(self.digest_times)

    @property
    def quiet_window(self) -> QuietWindow | None:
        return parse_quiet_hours(self.quiet_hours)

    @property
    def token(self) -> str | None:
        """The bot token in clear, for the Telegram client only. Never log it."""
        return self.bot_token.get_secret_value() if self.bot_token else None


def parse_listen(value: str) -> tuple[str, int]:
    """`host:port` (IPv6 as `[::1]:8081`) to (host, port); ValueError with a one-line reason."""
    host, sep, port_text = value.strip().rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ValueError("must be host:port, e.g. 127.0.0.1:8081 or [::1]:8081")
    port = int(port_text)
    if port > 65535:
        raise ValueError("the port must be 0..65535 (0 picks a free one)")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, port


def load_settings(env_file: str | Path | None = ".env", **overrides: Any) -> Settings:
    """Load settings; raise ConfigError naming the first bad setting in one line."""
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]  # pydantic-settings' init-only arg
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = err.get("loc") or ("?",)
        name = str(loc[0]).upper()
        msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        raise ConfigError(f"invalid setting {name}: {msg}") from None
