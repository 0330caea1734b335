"""What a fetch returns and how it can fail: shared by the fetcher (which makes them) and ingest (which acts).

No HTTP client here: these are plain values, so services can depend on them without importing httpx.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.errors import FetchError

__all__ = ["FEED_ACCEPT", "MAX_REDIRECTS", "PAGE_ACCEPT", "USER_AGENT", "FetchResult", "ThrottledError"]

USER_AGENT = "newsbot/0.1 (+https://github.com/newsbot; Telegram news bot)"
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.5, */*;q=0.1"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
MAX_REDIRECTS = 5


class ThrottledError(FetchError):
    """The server said 429 Too Many Requests or 503 Service Unavailable, maybe with a Retry-After."""

    def __init__(self, url: str, reason: str, *, status: int, retry_after: float | None) -> None:
        super().__init__(url, reason, status=status)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A completed GET: 200 with a body, or 304 Not Modified with none."""

    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int
    body: bytes
    etag: str | None
    last_modified: str | None
    content_type: str | None
    permanent_redirect: bool  # redirected, and every hop was 301/308
    max_age: float | None  # Cache-Control max-age, seconds
    elapsed_ms: int
    truncated: bool = False  # cut at the size cap (only when the caller asked for that)
    link: str | None = None  # the Link header(s), comma-joined: where WebSub hubs are announced first

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def moved_to(self) -> str | None:
        """Where the resource now lives for good, when every redirect hop was permanent."""
        return self.final_url if self.permanent_redirect and self.final_url != self.url else None
