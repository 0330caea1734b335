"""The project's exception family; third-party errors are translated at the boundary with `raise ... from`."""

from __future__ import annotations


class NewsbotError(Exception):
    """Base of every error newsbot raises on purpose. `str()` is one clear line."""


class ConfigError(NewsbotError):
    """A setting or template is invalid; start-up stops with this message."""


class FetchError(NewsbotError):
    """A feed or page could not be fetched."""

    def __init__(self, url: str, reason: str, *, status: int | None = None, permanent: bool = False) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status
        self.permanent = permanent


class FeedParseError(NewsbotError):
    """Bytes were fetched but are not a usable feed."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class StorageError(NewsbotError):
    """The database refused an operation (schema too new, integrity, I/O)."""


class DuplicateFeedError(StorageError):
    """The feed URL is already stored."""


class PublishError(NewsbotError):
    """A message could not be delivered to Telegram."""
